# args: --emit=config 'ij,λk->ik'
# >>> stderr
<expr>:1:4: error: invalid character in ueajsum expression (non-ASCII byte 0xCE)
    1 | ij,λk->ik
      |    ^
