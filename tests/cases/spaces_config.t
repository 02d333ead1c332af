# args: --emit=config ' ij , *w = jk -> ik '
# >>> stdout
slot 0: input "ij"
named w: param "jk"
term 0: (0, "w")
result: "ik"
