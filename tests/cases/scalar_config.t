# args: --emit=config 'ij,ij'
# >>> stdout
slot 0: input "ij"
slot 1: input "ij"
term 0: (0, 1)
result: ""
