# args: --emit=config 'ij,*w=jk + *b=k + &a=k -> ik' --unit --fp8-params --fp32-grads
# >>> stdout
slot 0: input "ij" var=1
named w: param "jk" var=1 dtype=f8e4m3 grad=f32
named b: param "k" var=1 dtype=f8e4m3 grad=f32
named a: lora "k" var=1
term 0: (0, "w")
term 1: ("b")
term 2: ("a")
result: "ik" var=1
