# args: --emit=ast 'bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv'
# >>> stdout
ueajsum @1:1-37 -> "bnhiv"
  term @1:1-30
    arg positional "bnd" @1:1-3
    arg param positional "dhik" @1:5-9
    arg positional "bmz" @1:11-13
    arg param positional "zhk" @1:15-18
    arg positional "bmy" @1:20-22
    arg param positional "yhv" @1:24-27
    arg positional "nm" @1:29-30
