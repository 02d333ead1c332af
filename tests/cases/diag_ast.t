# args: --emit=ast 'ii->i'
# >>> stdout
ueajsum @1:1-5 -> "i"
  term @1:1-2
    arg positional "ii" @1:1-2
