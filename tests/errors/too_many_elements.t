# args: --emit=c 'ij,kl->ijkl' --dim i=1048576 --dim j=1048576 --dim k=2
# >>> stderr
<expr>:1:8: error: result 'out' [1048576, 1048576, 2, l] would have more than 2^40 elements, the most one tensor may have
    1 | ij,kl->ijkl
      |        ^~~~
