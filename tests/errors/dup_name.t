# args: --emit=config 'x=ij,x=jk->ik'
# >>> stderr
<expr>:1:6: error: duplicate argument assignment for 'x'
    1 | x=ij,x=jk->ik
      |      ^
<expr>:1:1: note: 'x' was first assigned here
    1 | x=ij,x=jk->ik
      | ^~~~
