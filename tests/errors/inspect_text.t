# args: inspect $DIR/not_a_cubin.txt
# >>> stderr
ueajc: error: tests/errors/not_a_cubin.txt: too short for an ELF64 header
# >>> exit 1
