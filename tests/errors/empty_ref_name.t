# args: --emit=ast 'ij,{}->i'
# >>> stderr
<expr>:1:5: error: unexpected '}', expected identifier
    1 | ij,{}->i
      |     ^
