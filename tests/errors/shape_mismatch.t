# args: eval 'ij,jk->ik' $DIR/a23.npy $DIR/b54.npy -o $OUT/r.npy
# >>> absent
$OUT/r.npy
# >>> stderr
<expr>:1:4: error: shape mismatch for argument 1 (x1), axis 'j': size 5, but 3
    1 | ij,jk->ik
      |    ^~
<expr>:1:1: note: axis 'j' of x0 has size 3
    1 | ij,jk->ik
      | ^~
