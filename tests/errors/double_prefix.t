# args: --emit=ast '**ij->i'
# >>> stderr
<expr>:1:2: error: a '*' or '&' prefix may appear only once
    1 | **ij->i
      |  ^
