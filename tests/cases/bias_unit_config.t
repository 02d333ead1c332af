# args: --emit=config 'ij,*w=jk + *b=k -> ik' --unit --dim j=3 --dim k=4
# >>> stdout
slot 0: input "ij" var=1
named w: param "jk" var=1
named b: param "k" var=1
term 0: (0, "w")
term 1: ("b")
result: "ik" var=1
