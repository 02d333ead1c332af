# args: --emit=ast '['
# >>> stderr
<expr>:1:2: error: unexpected end of expression, expected identifier, integer, '-' or ']'
    1 | [
      |  ^
<expr>:1:1: note: to match this '['
    1 | [
      | ^
