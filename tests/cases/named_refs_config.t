# args: --emit=config 'x=ab,y=bc + {x},z=c -> ac'
# >>> stdout
named x: input "ab"
named y: input "bc"
named z: input "c"
term 0: ("x", "y")
term 1: ("x", "z")
result: "ac"
