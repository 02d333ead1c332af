/* cache_trim.c - the compile cache's size cap (see cache_trim.h).
 *
 * One pass over the directory (readdir, fstatat without following links,
 * unlinkat relative to the open directory, so a file renamed or replaced
 * by a link meanwhile is never followed), the entries grouped by their
 * prefix and KEY, the groups ordered by last use (the newest mtime of their
 * files; ties by key, so the order is deterministic), the oldest removed
 * first.  Writers run it after every store, not on hits: a hit only
 * touches its entry.  Concurrent runs are harmless: a file another run
 * removed first is gone either way.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cache_trim.h"

#define KEY_MAX 32 /* "harness-" + 16 hex digits, and a NUL */

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* ".123.cpu.cu" -> ".cpu.cu" (NULL without a "." and digits first) */
static const char *after_pid(const char *s)
{
    if (*s != '.' || s[1] < '0' || s[1] > '9') return NULL;
    s++;
    while (*s >= '0' && *s <= '9') s++;
    return s;
}

int cache_classify(const char *name, char *key, size_t keylen)
{
    static const char *const plain[] = {".c", ".so", ".log", ".cubin", ".ptx", ".nvlog", NULL};
    static const char *const harness[] = {".so", ".cu", NULL};
    const char *p = name;
    int is_harness = !strncmp(p, "harness-", 8);
    if (is_harness) p += 8;
    for (int i = 0; i < 16; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return CACHE_OTHER;
    const char *rest = p + 16;
    int kind = CACHE_OTHER;
    const char *const *exts = is_harness ? harness : plain;
    for (int i = 0; exts[i] && kind == CACHE_OTHER; i++) {
        size_t n = strlen(exts[i]);
        if (strncmp(rest, exts[i], n) != 0) continue; /* ".c" also starts ".cubin": go on */
        const char *t = rest + n;
        if (!*t) kind = CACHE_ENTRY;
        else if (!strncmp(t, ".tmp.", 5) && all_digits(t + 5)) kind = CACHE_TEMP;
    }
    if (kind == CACHE_OTHER && is_harness) { /* a harness build's own files, named by its pid */
        const char *t = after_pid(rest);
        if (t && (!strcmp(t, ".cpu.cu") || !strcmp(t, ".cpu.cu.tmp") || !strcmp(t, ".log"))) kind = CACHE_TEMP;
    }
    if (kind != CACHE_OTHER && key && keylen) snprintf(key, keylen, "%.*s", (int)(rest - name), name);
    return kind;
}

typedef struct CacheFile {
    char    *name;
    char     key[KEY_MAX];
    uint64_t size;
    int64_t  mtime_ns;
} CacheFile;

typedef struct CacheGroup {
    char     key[KEY_MAX];
    size_t   first, n;      /* files[first .. first+n) */
    uint64_t bytes;
    int64_t  mtime_ns;      /* the newest of its files */
} CacheGroup;

static int by_key(const void *a, const void *b)
{
    const CacheFile *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->name, y->name);
}

static int by_age(const void *a, const void *b)
{
    const CacheGroup *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns) return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return strcmp(x->key, y->key);
}

enum { MODE_STATS, MODE_TRIM, MODE_CLEAR };

static void note_failure(const char *dir, const char *name, int e, CacheTrimStats *st, char *err, size_t errlen,
                         int *rc)
{
    st->failed++;
    if (*rc == 0 && err && errlen) snprintf(err, errlen, "cannot remove %s/%s: %s", dir, name, strerror(e));
    *rc = -1;
}

static int walk(const char *dir, int mode, uint64_t max_bytes, const char *keep, CacheTrimStats *stp, char *err,
                size_t errlen)
{
    CacheTrimStats local;
    CacheTrimStats *st = stp ? stp : &local;
    memset(st, 0, sizeof *st);
    if (err && errlen) err[0] = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (err && errlen) snprintf(err, errlen, "cannot read the compile cache directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    int dfd = dirfd(d), rc = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    CacheFile *files = NULL;
    CacheGroup *groups = NULL;
    size_t nf = 0, capf = 0, ng = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) break;
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
        struct stat sb;
        if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) continue; /* removed meanwhile */
        if (S_ISDIR(sb.st_mode)) { st->other_dirs++; continue; }
        char key[KEY_MAX];
        int kind = S_ISREG(sb.st_mode) ? cache_classify(name, key, sizeof key) : CACHE_OTHER;
        const int64_t mt = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        if (kind == CACHE_OTHER) { st->other_files++; continue; }
        if (kind == CACHE_TEMP) {
            if (mode != MODE_STATS && now_ns - mt > (int64_t)CACHE_TEMP_STALE_S * 1000000000) {
                if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT) {
                    st->stale_removed++;
                    st->stale_bytes += (uint64_t)sb.st_size;
                } else {
                    note_failure(dir, name, errno, st, err, errlen, &rc);
                }
                continue;
            }
            st->temps++;
            st->temp_bytes += (uint64_t)sb.st_size;
            continue;
        }
        if (nf == capf) {
            size_t nc = capf ? 2 * capf : 256;
            CacheFile *w = realloc(files, nc * sizeof *w);
            if (!w) goto oom;
            files = w;
            capf = nc;
        }
        files[nf].name = strdup(name);
        if (!files[nf].name) goto oom;
        memcpy(files[nf].key, key, strlen(key) + 1);
        files[nf].size = (uint64_t)sb.st_size;
        files[nf].mtime_ns = mt;
        nf++;
    }
    if (errno) {
        if (err && errlen) snprintf(err, errlen, "cannot read the compile cache directory '%s': %s", dir, strerror(errno));
        rc = -1;
        goto done;
    }
    if (nf) qsort(files, nf, sizeof *files, by_key); /* files is NULL when the cache is empty */
    groups = malloc((nf ? nf : 1) * sizeof *groups);
    if (!groups) goto oom;
    uint64_t total = 0;
    for (size_t i = 0; i < nf; i++) {
        if (!ng || strcmp(groups[ng - 1].key, files[i].key) != 0) {
            groups[ng] = (CacheGroup){.first = i, .n = 0, .bytes = 0, .mtime_ns = files[i].mtime_ns};
            memcpy(groups[ng].key, files[i].key, strlen(files[i].key) + 1);
            ng++;
        }
        CacheGroup *g = &groups[ng - 1];
        g->n++;
        g->bytes += files[i].size;
        if (files[i].mtime_ns > g->mtime_ns) g->mtime_ns = files[i].mtime_ns;
        total += files[i].size;
    }
    qsort(groups, ng, sizeof *groups, by_age);
    char keep_key[KEY_MAX] = "";
    if (keep) {
        const char *base = strrchr(keep, '/');
        if (cache_classify(base ? base + 1 : keep, keep_key, sizeof keep_key) == CACHE_OTHER) keep_key[0] = 0;
    }
    /* over the cap: down to 90% of it, so that the next stores do not trim again at once */
    const int over = mode == MODE_TRIM && max_bytes && total > max_bytes;
    const uint64_t target = max_bytes - max_bytes / 10;
    for (size_t gi = 0; gi < ng; gi++) {
        CacheGroup *g = &groups[gi];
        int evict = mode == MODE_CLEAR || (over && total > target);
        if (evict && keep_key[0] && !strcmp(g->key, keep_key)) evict = 0;
        size_t left = 0;
        for (size_t k = g->first; k < g->first + g->n; k++) {
            if (evict) {
                if (unlinkat(dfd, files[k].name, 0) == 0 || errno == ENOENT) {
                    st->removed_files++;
                    st->removed_bytes += files[k].size;
                    total -= files[k].size;
                    continue;
                }
                note_failure(dir, files[k].name, errno, st, err, errlen, &rc);
            }
            left++;
            st->files++;
            st->bytes += files[k].size;
        }
        if (evict) st->removed_entries++;
        if (left) st->entries++;
    }
    goto done;
oom:
    if (err && errlen) snprintf(err, errlen, "out of memory reading the compile cache directory '%s'", dir);
    rc = -1;
done:
    for (size_t i = 0; i < nf; i++) free(files[i].name);
    free(files);
    free(groups);
    closedir(d);
    return rc;
}

int cache_stats(const char *dir, CacheTrimStats *st, char *err, size_t errlen)
{
    return walk(dir, MODE_STATS, 0, NULL, st, err, errlen);
}

int cache_trim(const char *dir, uint64_t max_bytes, const char *keep, CacheTrimStats *st, char *err, size_t errlen)
{
    return walk(dir, MODE_TRIM, max_bytes, keep, st, err, errlen);
}

int cache_clear(const char *dir, CacheTrimStats *st, char *err, size_t errlen)
{
    return walk(dir, MODE_CLEAR, 0, NULL, st, err, errlen);
}

int cache_parse_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9') return -1;
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned dgt = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - dgt) / 10) return -1;
        v = v * 10 + dgt;
    }
    unsigned shift = 0;
    switch (toupper((unsigned char)*p)) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: break;
    }
    if (shift) {
        p++;
        if (p[0] == 'i' && p[1] == 'B') p += 2;
        else if (p[0] == 'B') p++;
    }
    if (*p) return -1;
    if (shift && v > (UINT64_MAX >> shift)) return -1;
    *out = v << shift;
    return 0;
}

int cache_max_from_env(uint64_t *out, char *err, size_t errlen)
{
    const char *e = getenv("UEAJ_CACHE_MAX");
    *out = CACHE_MAX_DEFAULT;
    if (!e || !*e) return 0;
    uint64_t v;
    if (cache_parse_size(e, &v) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "$UEAJ_CACHE_MAX='%.64s' is not a size (like 2G, 500M, 4096K or bytes; 0: no cap)", e);
        return -1;
    }
    *out = v;
    return 0;
}

void cache_format_size(uint64_t bytes, char *out, size_t outlen)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(out, outlen, "%llu byte%s", (unsigned long long)bytes, bytes == 1 ? "" : "s");
        return;
    }
    double v = (double)bytes / 1024;
    int u = 0;
    while (v >= 1024 && u < 5) { v /= 1024; u++; }
    snprintf(out, outlen, "%.1f %s", v, units[u]);
}

int cache_touch(const char *path)
{
    return utimensat(AT_FDCWD, path, NULL, 0);
}

void cache_after_store(const char *dir, const char *stored)
{
    uint64_t max;
    char err[512];
    if (cache_max_from_env(&max, err, sizeof err) != 0) {
        char def[32];
        cache_format_size(CACHE_MAX_DEFAULT, def, sizeof def);
        fprintf(stderr, "ueajc: warning: %s; the cache keeps the default cap, %s\n", err, def);
    }
    if (max == 0) return;
    (void)cache_trim(dir, max, stored, NULL, err, sizeof err); /* a failed trim costs only disk space */
}
