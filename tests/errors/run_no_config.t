# args: run -m tests/errors/run/no_config -p hi
# >>> stdout
# >>> stderr
tests/errors/run/no_config/config.json: error: cannot open: No such file or directory
