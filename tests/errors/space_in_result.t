# args: --emit=ast 'ij->i j'
# >>> stderr
<expr>:1:7: error: unexpected identifier, expected end of input
    1 | ij->i j
      |       ^
