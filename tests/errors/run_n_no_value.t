# args: run -m tests/errors/run/ok -p hi -n
# >>> stdout
# >>> stderr
ueajc: error: -n needs a value
# >>> exit 2
