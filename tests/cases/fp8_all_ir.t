# args: --emit=ir 'ij,*jk->ik' --fp8-params --dtype x0=f8e4m3
# >>> stdout
tensor %0 x0       input  [i, j] f8e4m3
tensor %1 w_1      param  [j, k] f8e4m3 grad=f8e4m3
tensor %2 out      output [i, k] f8e4m3
node 0 contract ij,jk->ik %2 = (%0, %1) acc=f32  # ij,*jk->ik
