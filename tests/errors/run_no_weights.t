# args: run -m tests/errors/run/no_weights -p hi
# >>> stdout
# >>> stderr
tests/errors/run/no_weights: error: no model.safetensors or model.safetensors.index.json: the directory has no weights
