# args: --emit=ir 'ii->'
# >>> stdout
tensor %0 x0       input  [i, i] f32
tensor %1 out      output [] f32
node 0 contract ii-> %1 = (%0) acc=f32  # ii->
