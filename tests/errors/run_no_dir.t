# args: run -m tests/errors/run/nosuch -p hi
# >>> stdout
# >>> stderr
ueajc: error: 'tests/errors/run/nosuch' is neither a directory nor a model id (ORG/NAME or ORG/NAME@REVISION)
