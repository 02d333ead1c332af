# args: run -m tests/errors/run/ok -t 0
# >>> stdout
# >>> stderr
ueajc: error: -t expects a whole number in 1..4096, got '0'
# >>> exit 2
