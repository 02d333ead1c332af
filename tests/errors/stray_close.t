# args: --emit=ast 'ij->i)'
# >>> stderr
<expr>:1:6: error: unexpected ')', expected end of input
    1 | ij->i)
      |      ^
