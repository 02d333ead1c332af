# args: --emit=ast '(ij)->i'
# >>> stderr
<expr>:1:1: error: unexpected '('
    1 | (ij)->i
      | ^
