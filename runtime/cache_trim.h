/* cache_trim.h - a size cap for the compile cache, least recently used
 * entries evicted first (the cache itself: runtime/jit_c.c, nvrtc.c,
 * cuda_exec.c).
 *
 * Only ueajc's own files in the cache directory are looked at, never a
 * subdirectory (models/, bench/, ...), a symbolic link or a file of another
 * name.  KEY is 16 lowercase hex digits (the writers' FNV-1a hash):
 *
 *   entries      KEY.c KEY.so KEY.log         the C backend (jit_c.c)
 *                KEY.cubin KEY.ptx KEY.nvlog  NVRTC (nvrtc.c)
 *                harness-KEY.so harness-KEY.cu  the CUDA-on-CPU harness (cuda_exec.c)
 *   temporaries  any of those + .tmp.PID (written, then renamed into place);
 *                harness-KEY.PID.cpu.cu[.tmp], harness-KEY.PID.log (a harness build)
 *
 * The files that share a prefix and KEY are one entry: it is evicted as a
 * whole, its size is their sum, and its last use is their newest mtime (a
 * writer refreshes the mtime of an entry it finds: cache_touch).  A
 * temporary is removed only when its mtime is more than an hour old (a
 * crashed writer's leftover); a younger one may be in progress.
 * Nothing here keeps global state or exits.
 */
#ifndef UEAJ_CACHE_TRIM_H
#define UEAJ_CACHE_TRIM_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_MAX_DEFAULT ((uint64_t)2 << 30)  /* 2 GiB */
#define CACHE_TEMP_STALE_S 3600                /* a temporary older than this is a leftover */

typedef struct CacheTrimStats {
    uint64_t entries, files, bytes;            /* entries in the cache afterwards, their files and bytes */
    uint64_t removed_entries, removed_files, removed_bytes; /* entries evicted (or cleared) */
    uint64_t temps, temp_bytes;                /* temporaries left (younger than an hour) */
    uint64_t stale_removed, stale_bytes;       /* temporaries older than an hour, removed */
    uint64_t other_files, other_dirs;          /* not cache entries: left alone */
    uint64_t failed;                           /* files that could not be removed */
} CacheTrimStats;

/* What a file name in the cache directory is: CACHE_ENTRY (key, the
 * prefix and KEY, written to key[0..keylen) when non-NULL), CACHE_TEMP or
 * CACHE_OTHER. */
enum { CACHE_OTHER = 0, CACHE_ENTRY = 1, CACHE_TEMP = 2 };
int cache_classify(const char *name, char *key, size_t keylen);

/* Counts the cache (st), removing nothing.  0, or -1 with a message when
 * the directory cannot be read. */
int cache_stats(const char *dir, CacheTrimStats *st, char *err, size_t errlen);

/* Removes temporaries older than an hour, then, when the entries take
 * more than max_bytes (0: no cap), the least recently used entries until
 * they take at most 90% of max_bytes.  keep (a path or file name of one
 * entry, or NULL) is never evicted: the entry just stored.  0, or -1 with
 * a message when the directory cannot be read or a file could not be
 * removed (the rest is still done; st says what was). */
int cache_trim(const char *dir, uint64_t max_bytes, const char *keep, CacheTrimStats *st, char *err,
               size_t errlen);

/* Removes every entry and the temporaries older than an hour. */
int cache_clear(const char *dir, CacheTrimStats *st, char *err, size_t errlen);

/* "2G", "500M", "4096K", "123" (bytes; K M G T are powers of 1024, either
 * case, an optional B or iB after them: 2GiB).  0, or -1 when malformed
 * (empty, a sign, a fraction, spaces, another suffix, over 2^64). */
int cache_parse_size(const char *s, uint64_t *out);

/* The cap: $UEAJ_CACHE_MAX, CACHE_MAX_DEFAULT when unset or empty; 0 is
 * no cap.  A malformed value: *out is the default and -1 with a message. */
int cache_max_from_env(uint64_t *out, char *err, size_t errlen);

/* "1.5 GiB", "300 KiB", "12 bytes". */
void cache_format_size(uint64_t bytes, char *out, size_t outlen);

/* A writer found `path` in the cache: its mtime becomes now, so the entry
 * counts as recently used.  0, or -1 with errno (ENOENT: it is gone). */
int cache_touch(const char *path);

/* A writer stored `stored` in the cache directory dir: trims the cache to
 * $UEAJ_CACHE_MAX (not `stored`'s entry).  Never fails: a trim that goes
 * wrong costs only disk space.  A malformed $UEAJ_CACHE_MAX gives one
 * warning line on stderr and the default cap. */
void cache_after_store(const char *dir, const char *stored);

/* `ueajc cache [--stats|--trim|--clear] [--cache-dir DIR]` (runtime/cache_cli.c) */
int ueaj_cache_main(int argc, char **argv);

#endif
