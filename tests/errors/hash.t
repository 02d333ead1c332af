# args: --emit=ast 'ij#->i'
# >>> stderr
<expr>:1:3: error: invalid character '#' in ueajsum expression
    1 | ij#->i
      |   ^
