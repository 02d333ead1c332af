# args: --emit=config 'x='
# >>> stdout
named x: input ""
term 0: ("x")
result: ""
