# args: --emit=ast 'ij,*jk->ik'
# >>> stdout
ueajsum @1:1-10 -> "ik"
  term @1:1-6
    arg positional "ij" @1:1-2
    arg param positional "jk" @1:4-6
