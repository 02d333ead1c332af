# args: --emit=ir 'ij,*w=jk + *b=k -> ik' --out-dtype bf16
# >>> stdout
tensor %0 x0       input  [i, j] f32
tensor %1 w        param  [j, k] bf16 grad=bf16
tensor %2 b        param  [k] bf16 grad=bf16
tensor %3 out      output [i, k] bf16
tensor %4 t4       temp   [i, k] f32
node 0 contract ij,jk->ik %4 = (%0, %1) acc=f32  # term 1 (ij,*w=jk) of ij,*w=jk + *b=k -> ik
node 1 contract k->ik %4 += (%2) acc=f32  # term 2 (*b=k) of ij,*w=jk + *b=k -> ik
node 2 cast %3 = (%4)  # round the summed terms once to the result dtype
