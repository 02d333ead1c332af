# args: --emit=ir 'ii->i'
# >>> stdout
tensor %0 x0       input  [i, i] f32
tensor %1 out      output [i] f32
node 0 contract ii->i %1 = (%0) acc=f32  # ii->i
