# args: eval 'ij->i' $DIR/a23.npy --dtype x0 -o $OUT/r.npy
# >>> stderr
ueajc: error: --dtype expects NAME=VALUE, got 'x0'
# >>> exit 2
