# args: cache --size
# >>> stderr
ueajc: error: cache: unknown option '--size'
usage: ueajc cache [--stats | --trim | --clear] [--cache-dir DIR]
the compile cache ($UEAJ_CACHE, else $XDG_CACHE_HOME/ueajc, else ~/.cache/ueajc):
  --stats             (the default) its directory, entries, size and cap
  --trim              apply the cap now: least recently used entries go first, down to
                      90% of it (every compile that stores an entry does the same)
  --clear             remove every entry
  --cache-dir DIR     another cache directory
The cap is $UEAJ_CACHE_MAX: 2G (the default), 500M, 4096K, bytes; 0 for none.
Only ueajc's own files are counted or removed (KEY.c/.so/.log/.cubin/.ptx/.nvlog,
harness-KEY.so/.cu); temporaries go when they are an hour old; other files and
subdirectories (models/, ...) are left alone.
# >>> exit 2
