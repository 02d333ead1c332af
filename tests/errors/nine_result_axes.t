# args: --emit=config 'abcdefgh->abcdefghi'
# >>> stderr
<expr>:1:11: error: 9 axes; at most 8 are supported
    1 | abcdefgh->abcdefghi
      |           ^~~~~~~~~
