# args: tokenize -m tests/errors/run/tok --decode 5 -3
# >>> stdout
# >>> stderr
tokenizer: error: token id -3 is out of range (vocabulary size 39)
