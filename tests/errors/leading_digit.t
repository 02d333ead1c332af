# args: --emit=ir '2ij->i'
# >>> stderr
<expr>:1:1: error: invalid axis letter '2': axes are single ASCII letters (a-z, A-Z)
    1 | 2ij->i
      | ^
# >>> exit 1
