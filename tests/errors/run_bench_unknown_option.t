# args: bench -m tests/errors/run/ok --frobnicate
# >>> stdout
# >>> stderr
ueajc: error: unknown option '--frobnicate' (see ueajc bench --help)
# >>> exit 2
