# args: eval '*ij->i' --dim i=x -o $OUT/r.npy
# >>> stderr
ueajc: error: --dim i=x: expected LETTER=SIZE
