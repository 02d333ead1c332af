# args: convert tests/errors/run/tok/tokenizer.json -o $OUT/converted
# >>> stdout
# >>> absent
$OUT/converted
# >>> stderr
tests/errors/run/tok/tokenizer.json: error: bad magic '{\x0a  ' at offset 0 (not a GGUF file)
