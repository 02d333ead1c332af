# args: --emit=ir 'ij,ij'
# >>> stdout
tensor %0 x0       input  [i, j] f32
tensor %1 x1       input  [i, j] f32
tensor %2 out      output [] f32
node 0 contract ij,ij-> %2 = (%0, %1) acc=f32  # ij,ij
