# args: --emit=config 'bnh,*hd,[2]->bnd'
# >>> stderr
<expr>:1:9: error: index out of bounds: 2
    1 | bnh,*hd,[2]->bnd
      |         ^~~
<expr>:1:1: note: the expression has 2 positional arguments (slots 0..1)
    1 | bnh,*hd,[2]->bnd
      | ^~~~~~~~~~~~~~~~
