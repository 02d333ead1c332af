# args: run -m tests/errors/run/ok -p "hi hi" -c 2 -n 1
# >>> stdout
# >>> stderr
ueajc: error: the prompt has 3 tokens; the context holds 2 (raise -c)
