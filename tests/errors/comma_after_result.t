# args: --emit=ast 'ij,jk->ik,'
# >>> stderr
<expr>:1:10: error: unexpected ',', expected end of expression
    1 | ij,jk->ik,
      |          ^
