# args: --emit=ast 'ij,	*j#k->ik'
# >>> stderr
<expr>:1:7: error: invalid character '#' in ueajsum expression
    1 | ij,	*j#k->ik
      |    	  ^
<expr>:1:8: error: unexpected identifier 'k', expected end of expression, '->', '+', ',' or '='
    1 | ij,	*j#k->ik
      |    	   ^
