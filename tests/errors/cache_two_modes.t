# args: cache --trim --clear
# >>> stderr
ueajc: error: cache: one of --stats, --trim and --clear
# >>> exit 2
