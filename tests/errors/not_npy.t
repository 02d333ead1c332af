# args: eval 'ij->i' $DIR/notnpy.npy -o $OUT/r.npy
# >>> stderr
tests/errors/notnpy.npy: error: bad magic at offset 0 (not a .npy file)
