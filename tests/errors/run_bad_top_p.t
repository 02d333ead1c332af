# args: run -m tests/errors/run/ok --top-p 2
# >>> stdout
# >>> stderr
ueajc: error: --top-p expects a number in 0..1, got '2'
# >>> exit 2
