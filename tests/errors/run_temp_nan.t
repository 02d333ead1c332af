# args: run -m tests/errors/run/ok --temp nan
# >>> stdout
# >>> stderr
ueajc: error: --temp expects a number in 0..10000, got 'nan'
# >>> exit 2
