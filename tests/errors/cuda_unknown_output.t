# args: models/llama.ue --config models/tiny-llama.json -o $OUT/llama.fatbin
# >>> stderr
ueajc: error: $OUT/llama.fatbin: unknown output type (.c, .so, .cu, .ptx or .cubin)
# >>> exit 2
