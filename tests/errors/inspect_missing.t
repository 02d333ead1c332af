# args: inspect $DIR/no_such.cubin
# >>> stderr
ueajc: error: cannot read tests/errors/no_such.cubin: No such file or directory
# >>> exit 1
