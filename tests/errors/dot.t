# args: --emit=ast 'ij.jk->ik'
# >>> stderr
<expr>:1:3: error: unexpected '.', expected end of expression, '->', '+', ',' or '='
    1 | ij.jk->ik
      |   ^
