# args: --emit=ast 'ij->i)'
# >>> stderr
<expr>:1:6: error: unexpected ')', expected end of expression
    1 | ij->i)
      |      ^
