# args: bench -p 8 -n 4
# >>> stdout
# >>> stderr
ueajc: error: no model: give -m DIR or -m ORG/NAME
# >>> exit 2
