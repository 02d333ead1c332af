# args: --emit=config 'ij,[-1]->i'
# >>> stderr
<expr>:1:5: error: invalid index: a slot number is never negative
    1 | ij,[-1]->i
      |     ^~
