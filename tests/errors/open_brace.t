# args: --emit=ast '{x'
# >>> stderr
<expr>:1:3: error: unexpected end of expression, expected '}'
    1 | {x
      |   ^
