# args: --emit=ir-after=shapes 'ij,*jk->ik'
# >>> stdout
tensor %0 x0       input  [i, j] ?
tensor %1 w_1      param  [j, k] ? grad=?
tensor %2 out      output [i, k] ?
node 0 contract ij,jk->ik %2 = (%0, %1)  # ij,*jk->ik
