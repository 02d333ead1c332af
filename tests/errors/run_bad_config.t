# args: run -m tests/errors/run/bad_config -p hi
# >>> stdout
# >>> stderr
tests/errors/run/bad_config/config.json:4:23: error: invalid JSON in config file
    4 |   "num_hidden_layers" 2
      |                       ^
ueajc: error: cannot use tests/errors/run/bad_config/config.json
