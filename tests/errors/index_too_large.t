# args: --emit=config 'ij,[99999999999999999999]->i'
# >>> stderr
<expr>:1:5: error: integer literal is too large
    1 | ij,[99999999999999999999]->i
      |     ^~~~~~~~~~~~~~~~~~~~
