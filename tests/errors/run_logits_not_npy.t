# args: run -m tests/errors/run/ok -p hi --logits $OUT/logits.txt
# >>> stdout
# >>> absent
$OUT/logits.txt
# >>> stderr
ueajc: error: --logits $OUT/logits.txt: the file must end in .npy
# >>> exit 2
