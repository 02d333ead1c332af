# args: models/llama.ue --config models/tiny-llama.json -o $OUT/no/such/dir/llama.cu
# >>> absent
$OUT/no/such/dir/llama.cu
# >>> stderr
ueajc: error: cannot write $OUT/no/such/dir/llama.cu: No such file or directory
