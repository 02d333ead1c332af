# args: eval '*' -o $OUT/r.npy
# >>> absent
$OUT/r.npy
# >>> stderr
<expr>:1:1: error: cannot initialise parameter w_0 without an array: the seed's rule (truncated normal, variance 1/fan_in) needs at least 2 axes; give it a file or a variance (--variance w_0=V or --unit)
    1 | *
      | ^~
