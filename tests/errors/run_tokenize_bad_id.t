# args: tokenize -m tests/errors/run/tok --decode 1 abc
# >>> stdout
# >>> stderr
ueajc: error: 'abc' is not a token id
# >>> exit 2
