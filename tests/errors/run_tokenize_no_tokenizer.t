# args: tokenize -m tests/errors/run/nosuch hi
# >>> stdout
# >>> stderr
tests/errors/run/nosuch: error: cannot open: No such file or directory
