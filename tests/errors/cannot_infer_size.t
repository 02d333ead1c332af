# args: eval 'ij,*jk->ik' $DIR/a23.npy -o $OUT/r.npy
# >>> stderr
<expr>:1:6: error: cannot infer the size of axis 'k' of parameter w_1: no array has that letter; give it with --dim k=N
    1 | ij,*jk->ik
      |      ^
