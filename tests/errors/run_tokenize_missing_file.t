# args: tokenize -m tests/errors/run/tok -f tests/errors/run/nosuch.txt
# >>> stdout
# >>> stderr
ueajc: error: tests/errors/run/nosuch.txt: No such file or directory
