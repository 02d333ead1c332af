# args: eval 'ij->i' $DIR/a23.npy --variance x0=abc -o $OUT/r.npy
# >>> stderr
ueajc: error: --variance x0=abc: expected a positive number
