# args: --emit=config 'ij,,'
# >>> stdout
slot 0: input "ij"
slot 1: input ""
slot 2: input ""
term 0: (0, 1, 2)
result: ""
