# args: models/llama.ue --config models/tiny-llama.json -o $OUT/llama.cu
# >>> exists
$OUT/llama.cu
