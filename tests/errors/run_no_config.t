# args: run -m tests/errors/run/no_config -p hi
# >>> stdout
# >>> stderr
tests/errors/run/no_config/config.json: error: cannot read: No such file or directory
ueajc: error: cannot use tests/errors/run/no_config/config.json
