# args: --emit=ast '2ij->i'
# >>> stderr
<expr>:1:1: error: unexpected integer
    1 | 2ij->i
      | ^
