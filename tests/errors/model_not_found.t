# args: --emit=ast $DIR/nosuch.ue
# >>> stderr
ueajc: error: cannot open tests/errors/nosuch.ue
