# args: --emit=ast 'i j,jk->ik'
# >>> stderr
<expr>:1:3: error: unexpected identifier, expected end of input, '->', '+', ',' or '='
    1 | i j,jk->ik
      |   ^
