# args: --emit=ir 'ij->ijk'
# >>> stdout
tensor %0 x0       input  [i, j] f32
tensor %1 out      output [i, j, 1] f32
node 0 contract ij->ijk %1 = (%0) acc=f32  # ij->ijk
