# args: --emit=config 'bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv'
# >>> stdout
slot 0: input "bnd"
slot 1: param "dhik"
slot 2: input "bmz"
slot 3: param "zhk"
slot 4: input "bmy"
slot 5: param "yhv"
slot 6: input "nm"
term 0: (0, 1, 2, 3, 4, 5, 6)
result: "bnhiv"
