# args: --emit=config 'abcdefghi->a'
# >>> stderr
<expr>:1:1: error: 9 axes; at most 8 are supported
    1 | abcdefghi->a
      | ^~~~~~~~~
