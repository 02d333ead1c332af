# args: --emit=ir 'bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv'
# >>> stdout
tensor %0 x0       input  [b, n, d] f32
tensor %1 w_1      param  [d, h, i, k] bf16 grad=bf16
tensor %2 x2       input  [b, m, z] f32
tensor %3 w_3      param  [z, h, k] bf16 grad=bf16
tensor %4 x4       input  [b, m, y] f32
tensor %5 w_5      param  [y, h, v] bf16 grad=bf16
tensor %6 x6       input  [n, m] f32
tensor %7 out      output [b, n, h, i, v] f32
tensor %8 t8       temp   [d, h, i, z] f32
tensor %9 t9       temp   [b, n, h, i, z] f32
tensor %10 t10      temp   [b, m, z, n] f32
tensor %11 t11      temp   [b, y, z, n] f32
tensor %12 t12      temp   [b, n, h, i, y] f32
node 0 contract dhik,zhk->dhiz %8 = (%1, %3) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 1 of 6
node 1 contract bnd,dhiz->bnhiz %9 = (%0, %8) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 2 of 6
node 2 contract bmz,nm->bmzn %10 = (%2, %6) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 3 of 6
node 3 contract bmy,bmzn->byzn %11 = (%4, %10) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 4 of 6
node 4 contract bnhiz,byzn->bnhiy %12 = (%9, %11) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 5 of 6
node 5 contract yhv,bnhiy->bnhiv %7 = (%5, %12) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 6 of 6
