# args: eval 'ij->i' $DIR/a23.npy --variance x0=-1 -o $OUT/r.npy
# >>> stderr
ueajc: error: --variance x0=-1: expected a positive number
