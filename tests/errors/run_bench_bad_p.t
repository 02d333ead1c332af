# args: bench -m tests/errors/run/ok -p 0
# >>> stdout
# >>> stderr
ueajc: error: -p expects a whole number in 1..1048576, got '0'
# >>> exit 2
