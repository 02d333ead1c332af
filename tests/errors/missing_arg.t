# args: eval 'ij,jk->ik' $DIR/a23.npy -o $OUT/r.npy
# >>> absent
$OUT/r.npy
# >>> stderr
<expr>:1:4: error: missing argument 1: no array was given for it
    1 | ij,jk->ik
      |    ^~
