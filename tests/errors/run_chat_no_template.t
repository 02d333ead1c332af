# args: run -m tests/errors/run/ok --chat -p hi -n 1
# >>> stdout
# >>> stderr
tests/errors/run/ok/tokenizer_config.json: error: the checkpoint has no chat_template; run without --chat, or name a built-in format with --chat-format
