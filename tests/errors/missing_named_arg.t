# args: eval 'ij,y=jk->ik' $DIR/a23.npy -o $OUT/r.npy
# >>> stderr
<expr>:1:4: error: missing argument 'y': no array was given for it
    1 | ij,y=jk->ik
      |    ^~~~
