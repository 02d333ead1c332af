# args: --emit=config 'ij,{q}->i'
# >>> stderr
<expr>:1:4: error: unknown argument 'q'
    1 | ij,{q}->i
      |    ^~~
<expr>:1:1: note: the expression declares no named arguments
    1 | ij,{q}->i
      | ^~~~~~~~~
