# args: --emit=ast 'ij->->k'
# >>> stderr
<expr>:1:5: error: unexpected '->', expected end of expression or identifier
    1 | ij->->k
      |     ^~
