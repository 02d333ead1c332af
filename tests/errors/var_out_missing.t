# args: eval 'ij,jk->ik' $DIR/a23.npy $DIR/b34.npy --variance x0=1 --variance x1=1 -o $OUT/r.npy
# >>> absent
$OUT/r.npy
# >>> stderr
<expr>:1:1: error: output variance must be specified if any operand variance is specified
    1 | ij,jk->ik
      | ^~~~~
