# args: run -m tests/errors/run/ok --frobnicate
# >>> stdout
# >>> stderr
ueajc: error: unknown option '--frobnicate' (see ueajc run --help)
# >>> exit 2
