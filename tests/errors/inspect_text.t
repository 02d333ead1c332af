# args: inspect $DIR/cubin_text.cubin
# >>> stderr
ueajc: error: tests/errors/cubin_text.cubin: too short for an ELF64 header
# >>> exit 1
