# args: run -m tests/errors/run/ok --chat-format vicuna
# >>> stdout
# >>> stderr
ueajc: error: --chat-format vicuna: expected chatml, llama2, llama3 or llama3.1
# >>> exit 2
