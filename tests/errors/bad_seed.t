# args: --seed=-1 --emit=ast 'ij->i'
# >>> stderr
ueajc: error: --seed expects a non-negative integer
# >>> exit 2
