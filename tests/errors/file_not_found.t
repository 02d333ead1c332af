# args: eval 'ij->i' $DIR/nosuch.npy -o $OUT/r.npy
# >>> stderr
tests/errors/nosuch.npy: error: cannot open: No such file or directory
