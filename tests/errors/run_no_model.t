# args: run -p hi
# >>> stdout
# >>> stderr
ueajc: error: no model: give -m DIR or -m ORG/NAME
# >>> exit 2
