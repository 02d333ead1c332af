# args: --emit=ast 'ij,*w=jk + *b=k -> ik' --unit --dim j=3 --dim k=4
# >>> stdout
ueajsum @1:1-21 -> "ik"
  term @1:1-8
    arg positional "ij" @1:1-2
    arg param named w = "jk" @1:4-8
  term @1:12-15
    arg param named b = "k" @1:12-15
