# args: run -m tests/errors/run/corrupt -p hi
# >>> stdout
# >>> stderr
tests/errors/run/corrupt/model.safetensors: error: header length 4096 at offset 0 runs past the end of the file (19 bytes)
