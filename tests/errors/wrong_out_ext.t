# args: eval 'ij->i' $DIR/a23.npy -o $OUT/r.txt
# >>> absent
$OUT/r.txt
$OUT/r
# >>> stderr
ueajc: error: $OUT/r.txt: the output must be .npy or .safetensors
# >>> exit 2
