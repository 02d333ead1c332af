# args: tokenize -m tests/errors/run/tok --decode 5 39
# >>> stdout
# >>> stderr
tokenizer: error: token id 39 is out of range (vocabulary size 39)
