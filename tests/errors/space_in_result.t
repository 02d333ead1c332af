# args: --emit=ast 'ij->i j'
# >>> stderr
<expr>:1:7: error: unexpected identifier 'j', expected end of expression
    1 | ij->i j
      |       ^
