# args: --emit=ast $DIR/nosuch.ue
# >>> stderr
tests/errors/nosuch.ue: error: cannot read: No such file or directory
