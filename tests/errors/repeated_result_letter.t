# args: --emit=config 'ij->ii'
# >>> stderr
<expr>:1:6: error: result letter 'i' appears more than once
    1 | ij->ii
      |      ^
<expr>:1:5: note: first appears here
    1 | ij->ii
      |     ^
