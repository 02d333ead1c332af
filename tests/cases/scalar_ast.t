# args: --emit=ast 'ij,ij'
# >>> stdout
ueajsum @1:1-5 (no '->': full contraction to a scalar)
  term @1:1-5
    arg positional "ij" @1:1-2
    arg positional "ij" @1:4-5
