# args: eval 'ij,jk->ik' $DIR/a23.npy $DIR/b34.npy --variance x0=1 --variance out=1 -o $OUT/r.npy
# >>> stderr
<expr>:1:4: error: variance is set on some operands of this term but not on x1; set all or none
    1 | ij,jk->ik
      |    ^~
