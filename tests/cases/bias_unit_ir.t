# args: --emit=ir 'ij,*w=jk + *b=k -> ik' --unit --dim j=3 --dim k=4
# >>> stdout
tensor %0 x0       input  [i, 3] f32 var=1
tensor %1 w        param  [3, 4] bf16 grad=bf16 var=1
tensor %2 b        param  [4] bf16 grad=bf16 var=1
tensor %3 out      output [i, 4] f32 var=1
node 0 contract ij,jk->ik %3 = (%0, %1) acc=f32 scale=0.577350269  # term 1 (ij,*w=jk) of ij,*w=jk + *b=k -> ik
node 1 contract k->ik %3 += (%2) acc=f32 scale=1  # term 2 (*b=k) of ij,*w=jk + *b=k -> ik
