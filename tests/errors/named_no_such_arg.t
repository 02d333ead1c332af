# args: eval 'ij->i' q=$DIR/a23.npy -o $OUT/r.npy
# >>> stderr
ueajc: error: q=tests/errors/a23.npy: the expression has no argument named 'q'
