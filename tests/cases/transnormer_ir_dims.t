# args: --emit=ir 'bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv' --dim b=2 --dim n=8 --dim m=8 --dim d=16 --dim h=2 --dim i=2 --dim k=4 --dim v=4 --dim z=16 --dim y=16
# >>> stdout
tensor %0 x0       input  [2, 8, 16] f32
tensor %1 w_1      param  [16, 2, 2, 4] bf16 grad=bf16 layout=panels64(rows:1)
tensor %2 x2       input  [2, 8, 16] f32
tensor %3 w_3      param  [16, 2, 4] bf16 grad=bf16 layout=panels64(rows:1)
tensor %4 x4       input  [2, 8, 16] f32
tensor %5 w_5      param  [16, 2, 4] bf16 grad=bf16 layout=panels64(rows:1)
tensor %6 x6       input  [8, 8] f32
tensor %7 out      output [2, 8, 2, 2, 4] f32
tensor %8 t8       temp   [2, 8, 2, 2, 4] f32
tensor %9 t9       temp   [2, 8, 2, 4] f32
tensor %10 t10      temp   [2, 8, 2, 2, 8] f32
tensor %11 t11      temp   [8, 8, 2, 2, 2] f32
tensor %12 t12      temp   [2, 8, 2, 4] f32
node 0 contract bnd,dhik->bnhik %8 = (%0, %1) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 1 of 6
node 1 contract bmz,zhk->bmhk %9 = (%2, %3) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 2 of 6
node 2 contract bnhik,bmhk->bnhim %10 = (%8, %9) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 3 of 6
node 3 contract nm,bnhim->nmbhi %11 = (%6, %10) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 4 of 6
node 4 contract bmy,yhv->bmhv %12 = (%4, %5) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 5 of 6
node 5 contract nmbhi,bmhv->bnhiv %7 = (%11, %12) acc=f32  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv, step 6 of 6
