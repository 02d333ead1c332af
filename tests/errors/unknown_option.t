# args: --frob 'ij->i'
# >>> stderr
ueajc: error: unknown option '--frob' (see ueajc --help)
# >>> exit 2
