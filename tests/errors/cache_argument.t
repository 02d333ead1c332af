# args: cache --cache-dir
# >>> stderr
ueajc: error: --cache-dir needs a value
# >>> exit 2
