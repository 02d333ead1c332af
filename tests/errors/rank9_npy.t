# args: eval 'ij->i' $DIR/r9.npy -o $OUT/r.npy
# >>> stderr
tests/errors/r9.npy: error: 9 dimensions; at most 8 are supported
