# args: --emit=ast '**ij->i'
# >>> stderr
<expr>:1:2: error: unexpected '*'
    1 | **ij->i
      |  ^
