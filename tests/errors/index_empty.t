# args: --emit=config 'ij,[]->i'
# >>> stderr
<expr>:1:4: error: invalid index: expected an integer slot number inside '[]'
    1 | ij,[]->i
      |    ^~
