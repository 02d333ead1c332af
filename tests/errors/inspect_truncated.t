# args: inspect $DIR/cubin_truncated.cubin
# >>> stderr
ueajc: error: tests/errors/cubin_truncated.cubin: section headers past the end of the file (truncated?)
# >>> exit 1
