# args: run -m tests/errors/run/bad_json -p hi
# >>> stdout
# >>> stderr
tests/errors/run/bad_json/model.safetensors: error: invalid JSON header near file offset 104
