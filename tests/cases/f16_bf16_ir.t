# args: --emit=ir 'ij,*jk->ik' --bf16-params --dtype x0=f16
# >>> stdout
tensor %0 x0       input  [i, j] f16
tensor %1 w_1      param  [j, k] bf16 grad=bf16
tensor %2 out      output [i, k] f32
node 0 contract ij,jk->ik %2 = (%0, %1) acc=f32  # ij,*jk->ik
