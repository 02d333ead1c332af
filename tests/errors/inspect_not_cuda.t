# args: inspect $DIR/cubin_not_cuda.cubin
# >>> stderr
ueajc: error: tests/errors/cubin_not_cuda.cubin: an ELF file, but not a CUDA cubin (its OS/ABI byte is not CUDA's 0x41)
# >>> exit 1
