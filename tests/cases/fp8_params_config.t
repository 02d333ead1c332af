# args: --emit=config 'ij,*jk->ik' --fp8-params
# >>> stdout
slot 0: input "ij"
slot 1: param "jk" dtype=f8e4m3
term 0: (0, 1)
result: "ik"
