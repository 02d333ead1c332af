# args: run -m tests/errors/run/ok/config.json -p hi
# >>> stdout
# >>> stderr
ueajc: error: tests/errors/run/ok/config.json is a file; -m takes a model directory or a model id such as meta-llama/Llama-3.2-1B
