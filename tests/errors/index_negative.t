# args: --emit=config 'ij,[-1]->i'
# >>> stderr
<expr>:1:5: error: unexpected '-', expected identifier, integer or ']'
    1 | ij,[-1]->i
      |     ^
<expr>:1:4: note: to match this '['
    1 | ij,[-1]->i
      |    ^
