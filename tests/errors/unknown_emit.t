# args: --emit=foo 'ij->i'
# >>> stderr
ueajc: error: --emit=foo: unknown stage (ast, config, ir, ir-after=PASS, c)
# >>> exit 2
