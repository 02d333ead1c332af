# args: --emit=ir-after=precision 'ij,*jk->ik'
# >>> stdout
tensor %0 x0       input  [i, j] f32
tensor %1 w_1      param  [j, k] bf16 grad=bf16
tensor %2 out      output [i, k] f32
node 0 contract ij,jk->ik %2 = (%0, %1) acc=f32  # ij,*jk->ik
