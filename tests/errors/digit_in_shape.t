# args: --emit=config 'i2,j->i'
# >>> stderr
<expr>:1:2: error: invalid axis letter '2': axes are single ASCII letters (a-z, A-Z)
    1 | i2,j->i
      |  ^
