# args: --emit=config 'ij,[5]->i'
# >>> stderr
<expr>:1:4: error: index out of bounds: 5
    1 | ij,[5]->i
      |    ^~~
<expr>:1:1: note: the expression has 1 positional argument (slots 0..0)
    1 | ij,[5]->i
      | ^~~~~~~~~
