# args: --color=purple --emit=ast 'ij->i'
# >>> stderr
ueajc: error: --color: expected auto, always or never, got 'purple'
# >>> exit 2
