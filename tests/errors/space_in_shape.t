# args: --emit=ast 'i j,jk->ik'
# >>> stderr
<expr>:1:3: error: unexpected identifier 'j', expected end of expression, '->', '+', ',' or '='
    1 | i j,jk->ik
      |   ^
