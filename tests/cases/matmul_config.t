# args: --emit=config 'ij,*jk->ik'
# >>> stdout
slot 0: input "ij"
slot 1: param "jk"
term 0: (0, 1)
result: "ik"
