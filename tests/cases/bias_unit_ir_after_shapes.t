# args: --emit=ir-after=shapes 'ij,*w=jk + *b=k -> ik' --unit --dim j=3 --dim k=4
# >>> stdout
tensor %0 x0       input  [i, 3] ? var=1
tensor %1 w        param  [3, 4] ? grad=? var=1
tensor %2 b        param  [4] ? grad=? var=1
tensor %3 out      output [i, 4] ? var=1
node 0 contract ij,jk->ik %3 = (%0, %1)  # term 1 (ij,*w=jk) of ij,*w=jk + *b=k -> ik
node 1 contract k->ik %3 += (%2)  # term 2 (*b=k) of ij,*w=jk + *b=k -> ik
