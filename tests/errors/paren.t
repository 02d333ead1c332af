# args: --emit=ast '(ij)->i'
# >>> stderr
<expr>:1:1: error: unexpected '(', expected an expression
    1 | (ij)->i
      | ^
