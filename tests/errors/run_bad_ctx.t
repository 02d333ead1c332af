# args: run -m tests/errors/run/ok -c 0
# >>> stdout
# >>> stderr
ueajc: error: -c expects a whole number in 1..16777216, got '0'
# >>> exit 2
