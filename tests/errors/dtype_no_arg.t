# args: eval 'ij->i' $DIR/a23.npy --dtype q=f32 -o $OUT/r.npy
# >>> stderr
ueajc: error: --dtype: no argument 'q' in the expression
