# args: eval 'ij->i' $DIR/trunc.npy -o $OUT/r.npy
# >>> absent
$OUT/r.npy
# >>> stderr
tests/errors/trunc.npy: error: data truncated: shape [2, 3] of f32 needs 24 bytes at offset 128, the file has 8
