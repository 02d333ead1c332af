# args: --emit=ast '{x'
# >>> stderr
<expr>:1:3: error: unexpected end of expression, expected '}'
    1 | {x
      |   ^
<expr>:1:1: note: to match this '{'
    1 | {x
      | ^
