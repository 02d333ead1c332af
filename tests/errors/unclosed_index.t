# args: --emit=ast 'ij,[1'
# >>> stderr
<expr>:1:6: error: unexpected end of expression, expected ']'
    1 | ij,[1
      |      ^
<expr>:1:4: note: to match this '['
    1 | ij,[1
      |    ^
