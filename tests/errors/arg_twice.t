# args: eval 'ij->i' $DIR/a23.npy 0=$DIR/a23.npy -o $OUT/r.npy
# >>> stderr
ueajc: error: 0=tests/errors/a23.npy: argument given twice
