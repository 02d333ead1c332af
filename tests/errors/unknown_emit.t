# args: --emit=foo 'ij->i'
# >>> stderr
ueajc: error: --emit=foo: unknown stage
