# args: run -m tests/errors/run/no_tokenizer -p hi
# >>> stdout
# >>> stderr
tests/errors/run/no_tokenizer: error: no model.safetensors or model.safetensors.index.json: the directory has no weights
