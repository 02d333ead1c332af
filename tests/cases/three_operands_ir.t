# args: --emit=ir 'bnh,bnh,*hd->bnd'
# >>> stdout
tensor %0 x0       input  [b, n, h] f32
tensor %1 x1       input  [b, n, h] f32
tensor %2 w_2      param  [h, d] bf16 grad=bf16
tensor %3 out      output [b, n, d] f32
tensor %4 t4       temp   [b, n, h] f32
node 0 contract bnh,bnh->bnh %4 = (%0, %1) acc=f32  # bnh,bnh,*hd->bnd, step 1 of 2
node 1 contract hd,bnh->bnd %3 = (%2, %4) acc=f32  # bnh,bnh,*hd->bnd, step 2 of 2
