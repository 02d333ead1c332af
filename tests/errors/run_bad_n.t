# args: run -m tests/errors/run/ok -n abc
# >>> stdout
# >>> stderr
ueajc: error: -n expects a whole number in -1..16777216, got 'abc'
# >>> exit 2
