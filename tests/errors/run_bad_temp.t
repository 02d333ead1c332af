# args: run -m tests/errors/run/ok --temp -1
# >>> stdout
# >>> stderr
ueajc: error: --temp expects a number in 0..10000, got '-1'
# >>> exit 2
