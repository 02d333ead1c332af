# args: eval 'ij->i' $DIR/a23.npy $DIR/b34.npy -o $OUT/r.npy
# >>> stderr
ueajc: error: tests/errors/b34.npy: too many arrays: the expression has 1 positional argument
