# args: --emit=config 'ij,[a]->i'
# >>> stderr
<expr>:1:5: error: invalid index 'a': expected an integer slot number
    1 | ij,[a]->i
      |     ^
