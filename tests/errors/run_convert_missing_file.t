# args: convert tests/errors/run/nosuch.gguf -o $OUT/converted
# >>> stdout
# >>> absent
$OUT/converted
# >>> stderr
tests/errors/run/nosuch.gguf: error: cannot open: No such file or directory
