# args: run -m tests/errors/run/ok -p hi -f tests/errors/run/nosuch.txt
# >>> stdout
# >>> stderr
ueajc: error: give -p or -f, not both
# >>> exit 2
