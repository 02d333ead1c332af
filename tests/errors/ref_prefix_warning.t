# args: --emit=config 'ij,*[0]->i'
# >>> stderr
<expr>:1:4: warning: '*' on a reference has no effect: the referenced argument keeps its own kind
    1 | ij,*[0]->i
      |    ^
# >>> exit 0
