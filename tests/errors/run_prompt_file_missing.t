# args: run -m tests/errors/run/ok -f tests/errors/run/nosuch.txt
# >>> stdout
# >>> stderr
tests/errors/run/nosuch.txt: error: cannot read: No such file or directory
