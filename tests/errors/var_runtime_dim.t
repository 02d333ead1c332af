# args: --emit=ir --unit 'ij,*jk->ik'
# >>> stderr
<expr>:1:1: error: variance scaling over the run-time dim 'j' is not supported
    1 | ij,*jk->ik
      | ^~~~~~
