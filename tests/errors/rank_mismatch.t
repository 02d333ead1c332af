# args: eval 'ijk->i' $DIR/a23.npy -o $OUT/r.npy
# >>> stderr
<expr>:1:1: error: argument 0 has 2 axes, but 'ijk' names 3
    1 | ijk->i
      | ^~~
