# args: --emit=ast 'éj->j'
# >>> stderr
<expr>:1:1: error: invalid character in ueajsum expression (non-ASCII byte 0xC3)
    1 | éj->j
      | ^
