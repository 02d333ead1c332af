# args: models/llama.ue --config models/tiny-llama.json -o $OUT/no/such/dir/llama.cubin --arch sm_80
# >>> absent
$OUT/no/such/dir/llama.cubin
# >>> stderr
ueajc: error: cannot write $OUT/no/such/dir/llama.cubin: No such file or directory
