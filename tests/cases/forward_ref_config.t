# args: --emit=config '[1],ij,jk->ik'
# >>> stdout
slot 0: input "ij"
slot 1: input "jk"
term 0: (1, 0, 1)
result: "ik"
