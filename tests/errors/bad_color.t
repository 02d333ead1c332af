# args: --color=purple --emit=ast 'ij->i'
# >>> stderr
ueajc: error: --color=auto|always|never
# >>> exit 2
