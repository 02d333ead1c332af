# args: eval 'ij,jk->ik' tests/errors/a23.npy tests/errors/b34.npy -o $OUT/r.npy
# >>> exists
$OUT/r.npy
