# args: eval '*ij->i' --dim ij=3 -o $OUT/r.npy
# >>> stderr
ueajc: error: --dim ij=3: expected LETTER=SIZE
