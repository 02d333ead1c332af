# args: --emit=ir 'ij,*jk->ik' --dim i=2 --dim j=3 --dim k=4
# >>> stdout
tensor %0 x0       input  [2, 3] f32
tensor %1 w_1      param  [3, 4] bf16 grad=bf16 layout=panels64(rows:1)
tensor %2 out      output [2, 4] f32
node 0 contract ij,jk->ik %2 = (%0, %1) acc=f32  # ij,*jk->ik
