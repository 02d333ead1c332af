# args: run -m tests/errors/run/ok -s -1
# >>> stdout
# >>> stderr
ueajc: error: -s expects a non-negative integer
# >>> exit 2
