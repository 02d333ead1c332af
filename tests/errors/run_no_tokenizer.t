# args: run -m tests/errors/run/no_tokenizer -p hi
# >>> stdout
# >>> stderr
tests/errors/run/no_tokenizer/tokenizer.json: error: cannot open: No such file or directory
