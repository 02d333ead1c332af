# args: --emit=ir-after=shapes 'bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv'
# >>> stdout
tensor %0 x0       input  [b, n, d] ?
tensor %1 w_1      param  [d, h, i, k] ? grad=?
tensor %2 x2       input  [b, m, z] ?
tensor %3 w_3      param  [z, h, k] ? grad=?
tensor %4 x4       input  [b, m, y] ?
tensor %5 w_5      param  [y, h, v] ? grad=?
tensor %6 x6       input  [n, m] ?
tensor %7 out      output [b, n, h, i, v] ?
node 0 contract bnd,dhik,bmz,zhk,bmy,yhv,nm->bnhiv %7 = (%0, %1, %2, %3, %4, %5, %6)  # bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv
