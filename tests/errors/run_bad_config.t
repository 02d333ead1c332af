# args: run -m tests/errors/run/bad_config -p hi
# >>> stdout
# >>> stderr
tests/errors/run/bad_config/config.json:4:23: error: invalid JSON near '2'
