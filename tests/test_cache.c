/* test_cache.c - tests of runtime/cache_trim.c (the compile cache's cap).
 *
 * Every test builds a scratch directory of fake cache files with sizes and
 * mtimes set here (ftruncate, utimensat) and checks what is left after a
 * trim against expectations worked out by hand in the comments, or, for
 * random caches, against the definition of the cap alone: nothing removed
 * under the cap; otherwise every removed entry is older than every kept
 * one, an entry's files go together, the kept ones fit in 90% of the cap,
 * and keeping the youngest removed entry as well would not.  Plus the file
 * names the three writers use (and near misses), the size parser's results
 * and rejections.  tests/cache_check.sh runs `ueajc cache` end to end.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_trim.h"

#define KA "0123456789abcdef"
#define KB "fedcba9876543210"
#define KC "00000000000000c0"
#define KD "ddddddddddddddd0"
#define KE "eeeeeeeeeeeeeeee"

typedef struct Scratch {
    char   dir[256];
    time_t now;
} Scratch;

static void scratch_open(Scratch *s)
{
    const char *t = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/ueaj-cache-test.XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(s->dir));
    s->now = time(NULL);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static void scratch_close(Scratch *s)
{
    nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void set_age(const char *path, long age_s)
{
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age_s;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* DIR/name: `size` bytes, last modified `age_s` seconds ago */
static void mk(const Scratch *s, const char *name, long size, long age_s)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", s->dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, size), 0);
    close(fd);
    set_age(p, age_s);
}

static int exists(const Scratch *s, const char *name)
{
    char p[512];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", s->dir, name);
    return lstat(p, &sb) == 0;
}

/* ---- names ------------------------------------------------------------- */

START_TEST(names)
{
    static const struct { const char *name; int kind; const char *key; } cases[] = {
        /* the C backend: KEY.c, KEY.so, KEY.log (a failed compile) */
        {KA ".c", CACHE_ENTRY, KA},
        {KA ".so", CACHE_ENTRY, KA},
        {KA ".log", CACHE_ENTRY, KA},
        /* NVRTC: KEY.cubin or KEY.ptx, KEY.nvlog */
        {KA ".cubin", CACHE_ENTRY, KA},
        {KA ".ptx", CACHE_ENTRY, KA},
        {KA ".nvlog", CACHE_ENTRY, KA},
        /* the harness */
        {"harness-" KA ".so", CACHE_ENTRY, "harness-" KA},
        {"harness-" KA ".cu", CACHE_ENTRY, "harness-" KA},
        /* temporaries: fs_write_atomic's and compile()'s NAME.tmp.PID, the harness build's own */
        {KA ".so.tmp.4242", CACHE_TEMP, KA},
        {KA ".c.tmp.1", CACHE_TEMP, KA},
        {KA ".cubin.tmp.77", CACHE_TEMP, KA},
        {KA ".nvlog.tmp.77", CACHE_TEMP, KA},
        {"harness-" KA ".so.tmp.9", CACHE_TEMP, "harness-" KA},
        {"harness-" KA ".cu.tmp.9", CACHE_TEMP, "harness-" KA},
        {"harness-" KA ".123.cpu.cu", CACHE_TEMP, "harness-" KA},
        {"harness-" KA ".123.cpu.cu.tmp", CACHE_TEMP, "harness-" KA},
        {"harness-" KA ".123.log", CACHE_TEMP, "harness-" KA},
        /* near misses: not ours */
        {KA, CACHE_OTHER, NULL},
        {KA ".", CACHE_OTHER, NULL},
        {KA ".cu", CACHE_OTHER, NULL},            /* .cu is the harness's */
        {"harness-" KA ".c", CACHE_OTHER, NULL},  /* .c is the C backend's */
        {"harness-" KA ".cubin", CACHE_OTHER, NULL},
        {KA ".sox", CACHE_OTHER, NULL},
        {KA ".so.bak", CACHE_OTHER, NULL},
        {KA ".so.tmp", CACHE_OTHER, NULL},
        {KA ".so.tmp.", CACHE_OTHER, NULL},
        {KA ".so.tmp.12x", CACHE_OTHER, NULL},
        {"0123456789ABCDEF.so", CACHE_OTHER, NULL}, /* the writers print lowercase */
        {"0123456789abcde.so", CACHE_OTHER, NULL},  /* 15 digits */
        {"0123456789abcdef0.so", CACHE_OTHER, NULL}, /* 17 */
        {"0123456789abcdeg.so", CACHE_OTHER, NULL},
        {"harness-" KA ".cpu.cu", CACHE_OTHER, NULL},
        {"harness-" KA ".123.so", CACHE_OTHER, NULL},
        {"harness-" KA ".x.log", CACHE_OTHER, NULL},
        {"Harness-" KA ".so", CACHE_OTHER, NULL},
        {"x" KA ".so", CACHE_OTHER, NULL},
        {"notes.txt", CACHE_OTHER, NULL},
        {"CACHEDIR.TAG", CACHE_OTHER, NULL},
        {"", CACHE_OTHER, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char key[64] = "unchanged";
        int k = cache_classify(cases[i].name, key, sizeof key);
        ck_assert_msg(k == cases[i].kind, "%s: kind %d, expected %d", cases[i].name, k, cases[i].kind);
        if (cases[i].key) ck_assert_str_eq(key, cases[i].key);
        else ck_assert_str_eq(key, "unchanged");
    }
}
END_TEST

/* ---- the worked example ------------------------------------------------- */

/* Five entries (sizes in bytes, ages in seconds; an entry's last use is
 * its newest file):
 *   D  KD.c 700 @600, KD.log 300 @600             1000 bytes, last use 600 s ago
 *   A  KA.c 1000 @500, KA.so 3000 @400            4000, 400
 *   B  KB.cubin 2000 @300, KB.nvlog 100 @300      2100, 300
 *   C  harness-KC.so 5000 @100, harness-KC.cu 500 @900   5500, 100
 *   E  KE.ptx 1500 @50, KE.nvlog 10 @50           1510, 50
 * 14110 bytes in all.  Beside them, never counted, never removed: notes.txt
 * (100000 bytes, 5000 s old), a subdirectory models/ holding an old
 * entry-named file, and a link named like an entry to an old file outside
 * the directory.  Temporaries: KA.so.tmp.123 (10 s) and
 * harness-KC.99.cpu.cu (30 s) are in progress; KB.c.tmp.4 (7200 s) and
 * harness-KC.99.log (4000 s) are a crashed writer's. */
static void worked_example(Scratch *s, char *outside, size_t outlen)
{
    scratch_open(s);
    mk(s, KD ".c", 700, 600);
    mk(s, KD ".log", 300, 600);
    mk(s, KA ".c", 1000, 500);
    mk(s, KA ".so", 3000, 400);
    mk(s, KB ".cubin", 2000, 300);
    mk(s, KB ".nvlog", 100, 300);
    mk(s, "harness-" KC ".so", 5000, 100);
    mk(s, "harness-" KC ".cu", 500, 900);
    mk(s, KE ".ptx", 1500, 50);
    mk(s, KE ".nvlog", 10, 50);
    mk(s, "notes.txt", 100000, 5000);
    mk(s, KA ".so.tmp.123", 50000, 10);
    mk(s, "harness-" KC ".99.cpu.cu", 40000, 30);
    mk(s, KB ".c.tmp.4", 60, 7200);
    mk(s, "harness-" KC ".99.log", 70, 4000);
    char p[512];
    snprintf(p, sizeof p, "%s/models", s->dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    mk(s, "models/" KD ".so", 9000, 9000);
    snprintf(outside, outlen, "%s.outside", s->dir);
    int fd = open(outside, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 8000), 0);
    close(fd);
    set_age(outside, 8000);
    snprintf(p, sizeof p, "%s/" KB ".so", s->dir);
    ck_assert_int_eq(symlink(outside, p), 0);
    set_age(p, 8000);
}

static void check_left_alone(const Scratch *s, const char *outside)
{
    ck_assert(exists(s, "notes.txt"));
    ck_assert(exists(s, "models/" KD ".so"));
    ck_assert(exists(s, KB ".so")); /* the link */
    ck_assert_int_eq(access(outside, F_OK), 0);
    ck_assert(exists(s, KA ".so.tmp.123"));
    ck_assert(exists(s, "harness-" KC ".99.cpu.cu"));
}

START_TEST(trim_lru)
{
    Scratch s;
    char outside[300], err[256];
    worked_example(&s, outside, sizeof outside);
    CacheTrimStats st;
    /* cap 10000: over it (14110), down to 9000: D (600 s) goes -> 13110, A
     * (400 s) -> 9110, B (300 s) -> 7010 <= 9000; C and E stay.  C stays
     * whole although harness-KC.cu is the oldest file of all. */
    ck_assert_int_eq(cache_trim(s.dir, 10000, NULL, &st, err, sizeof err), 0);
    static const char *const gone[] = {KD ".c", KD ".log", KA ".c", KA ".so", KB ".cubin", KB ".nvlog",
                                       KB ".c.tmp.4", "harness-" KC ".99.log"};
    static const char *const kept[] = {"harness-" KC ".so", "harness-" KC ".cu", KE ".ptx", KE ".nvlog"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) ck_assert_msg(!exists(&s, gone[i]), "%s left", gone[i]);
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) ck_assert_msg(exists(&s, kept[i]), "%s removed", kept[i]);
    check_left_alone(&s, outside);
    ck_assert_uint_eq(st.entries, 2);
    ck_assert_uint_eq(st.files, 4);
    ck_assert_uint_eq(st.bytes, 7010);
    ck_assert_uint_eq(st.removed_entries, 3);
    ck_assert_uint_eq(st.removed_files, 6);
    ck_assert_uint_eq(st.removed_bytes, 7100);
    ck_assert_uint_eq(st.stale_removed, 2);
    ck_assert_uint_eq(st.stale_bytes, 130);
    ck_assert_uint_eq(st.temps, 2);
    ck_assert_uint_eq(st.temp_bytes, 90000);
    ck_assert_uint_eq(st.other_files, 2); /* notes.txt, the link */
    ck_assert_uint_eq(st.other_dirs, 1);
    ck_assert_uint_eq(st.failed, 0);
    /* again: 7010 is under the cap, nothing more goes */
    ck_assert_int_eq(cache_trim(s.dir, 10000, NULL, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.removed_entries, 0);
    ck_assert_uint_eq(st.entries, 2);
    scratch_close(&s);
    unlink(outside);
}
END_TEST

START_TEST(trim_at_cap_and_unlimited)
{
    Scratch s;
    char outside[300], err[256];
    CacheTrimStats st;
    worked_example(&s, outside, sizeof outside);
    /* exactly at the cap (14110): nothing is evicted; the stale temporaries go */
    ck_assert_int_eq(cache_trim(s.dir, 14110, NULL, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.removed_entries, 0);
    ck_assert_uint_eq(st.entries, 5);
    ck_assert_uint_eq(st.files, 10);
    ck_assert_uint_eq(st.bytes, 14110);
    ck_assert_uint_eq(st.stale_removed, 2);
    ck_assert(!exists(&s, KB ".c.tmp.4"));
    check_left_alone(&s, outside);
    /* one byte less: 14110 > 14109, down to 14109 - 1410 = 12699: D goes
     * (13110), then A (9110) */
    ck_assert_int_eq(cache_trim(s.dir, 14109, NULL, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.removed_entries, 2);
    ck_assert_uint_eq(st.bytes, 9110);
    ck_assert(!exists(&s, KA ".so") && !exists(&s, KD ".c") && exists(&s, KB ".cubin"));
    /* no cap */
    ck_assert_int_eq(cache_trim(s.dir, 0, NULL, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.removed_entries, 0);
    ck_assert_uint_eq(st.entries, 3);
    scratch_close(&s);
    unlink(outside);
}
END_TEST

START_TEST(trim_keeps_the_new_entry)
{
    Scratch s;
    char outside[300], err[256];
    CacheTrimStats st;
    worked_example(&s, outside, sizeof outside);
    /* a cap smaller than any entry: all go but the one just stored (given
     * as a path, or a file name, of any of its files) */
    char keep[512];
    snprintf(keep, sizeof keep, "%s/" KD ".log", s.dir);
    ck_assert_int_eq(cache_trim(s.dir, 1, keep, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_uint_eq(st.bytes, 1000);
    ck_assert(exists(&s, KD ".c") && exists(&s, KD ".log"));
    ck_assert(!exists(&s, KE ".ptx") && !exists(&s, "harness-" KC ".so"));
    check_left_alone(&s, outside);
    scratch_close(&s);
    unlink(outside);

    worked_example(&s, outside, sizeof outside);
    ck_assert_int_eq(cache_trim(s.dir, 1, "harness-" KC ".so", &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_uint_eq(st.bytes, 5500);
    ck_assert(exists(&s, "harness-" KC ".cu"));
    scratch_close(&s);
    unlink(outside);
}
END_TEST

START_TEST(clear_and_stats)
{
    Scratch s;
    char outside[300], err[256];
    CacheTrimStats st;
    worked_example(&s, outside, sizeof outside);
    /* stats remove nothing, not even the stale temporaries */
    ck_assert_int_eq(cache_stats(s.dir, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.entries, 5);
    ck_assert_uint_eq(st.files, 10);
    ck_assert_uint_eq(st.bytes, 14110);
    ck_assert_uint_eq(st.temps, 4);
    ck_assert_uint_eq(st.temp_bytes, 90130);
    ck_assert_uint_eq(st.other_files, 2);
    ck_assert_uint_eq(st.other_dirs, 1);
    ck_assert(exists(&s, KB ".c.tmp.4"));
    ck_assert_int_eq(cache_clear(s.dir, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(st.bytes, 0);
    ck_assert_uint_eq(st.removed_entries, 5);
    ck_assert_uint_eq(st.removed_files, 10);
    ck_assert_uint_eq(st.removed_bytes, 14110);
    ck_assert_uint_eq(st.stale_removed, 2);
    ck_assert(!exists(&s, "harness-" KC ".cu") && !exists(&s, KE ".nvlog"));
    check_left_alone(&s, outside);
    scratch_close(&s);
    unlink(outside);
    /* a directory that is not there */
    ck_assert_int_eq(cache_stats("/nonexistent/ueaj-cache", &st, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/ueaj-cache"));
}
END_TEST

/* ---- random caches against the definition ------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(random_caches)
{
    static const char *const exts[] = {".c", ".so", ".log", ".cubin", ".ptx", ".nvlog"};
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 40; round++) {
        Scratch s;
        scratch_open(&s);
        enum { MAXE = 24 };
        int ne = 1 + (int)(rng_next(&seed) % MAXE);
        char keys[MAXE][40];
        int nfiles[MAXE], harness[MAXE];
        long size[MAXE], age[MAXE], total = 0;
        for (int e = 0; e < ne; e++) {
            harness[e] = rng_next(&seed) % 4 == 0;
            snprintf(keys[e], sizeof keys[e], "%s%016llx", harness[e] ? "harness-" : "",
                     (unsigned long long)rng_next(&seed));
            nfiles[e] = harness[e] ? 2 : 1 + (int)(rng_next(&seed) % 3);
            age[e] = 10 * (e + 1) + round;  /* distinct last uses */
            size[e] = 0;
            for (int f = 0; f < nfiles[e]; f++) {
                char name[64];
                long sz = (long)(rng_next(&seed) % 5000);
                /* an older file in the entry: its age is not the entry's */
                long a = f == 0 ? age[e] : age[e] + 1 + (long)(rng_next(&seed) % 1000);
                snprintf(name, sizeof name, "%s%s", keys[e], harness[e] ? (f ? ".cu" : ".so") : exts[f * 2 + (e & 1)]);
                mk(&s, name, sz, a);
                size[e] += sz;
            }
            total += size[e];
        }
        uint64_t cap = (uint64_t)(rng_next(&seed) % (uint64_t)(total + total / 4 + 1));
        CacheTrimStats st;
        char err[256];
        ck_assert_int_eq(cache_trim(s.dir, cap, NULL, &st, err, sizeof err), 0);
        /* which entries are still whole, which entirely gone */
        long kept_bytes = 0, youngest_removed_age = -1, youngest_removed_size = 0, oldest_kept_age = -1;
        int kept = 0;
        for (int e = 0; e < ne; e++) {
            int there = 0;
            for (int f = 0; f < nfiles[e]; f++) {
                char name[64];
                snprintf(name, sizeof name, "%s%s", keys[e], harness[e] ? (f ? ".cu" : ".so") : exts[f * 2 + (e & 1)]);
                there += exists(&s, name);
            }
            ck_assert_msg(there == 0 || there == nfiles[e], "round %d: entry %s half removed", round, keys[e]);
            if (there) {
                kept++;
                kept_bytes += size[e];
                if (oldest_kept_age < 0 || age[e] > oldest_kept_age) oldest_kept_age = age[e];
            } else if (youngest_removed_age < 0 || age[e] < youngest_removed_age) {
                youngest_removed_age = age[e];
                youngest_removed_size = size[e];
            }
        }
        ck_assert_uint_eq(st.entries, (uint64_t)kept);
        ck_assert_uint_eq(st.bytes, (uint64_t)kept_bytes);
        if (cap == 0 || (uint64_t)total <= cap) {
            ck_assert_int_eq(kept, ne);
        } else {
            uint64_t target = cap - cap / 10;
            ck_assert_uint_le((uint64_t)kept_bytes, target);
            ck_assert_int_lt(kept, ne);
            /* least recently used first: every removed entry is older than every kept one */
            if (kept) ck_assert_int_gt(youngest_removed_age, oldest_kept_age);
            /* and no more than needed */
            ck_assert_uint_gt((uint64_t)(kept_bytes + youngest_removed_size), target);
        }
        scratch_close(&s);
    }
}
END_TEST

/* ---- touching, the writers' hook ---------------------------------------- */

START_TEST(touch_and_after_store)
{
    Scratch s;
    scratch_open(&s);
    mk(&s, KA ".c", 400, 1000);
    mk(&s, KA ".so", 600, 1000);
    mk(&s, KB ".c", 400, 500);
    mk(&s, KB ".so", 600, 500);
    mk(&s, KC ".c", 400, 10);
    mk(&s, KC ".so", 600, 10);
    /* a hit on A makes it the newest: B is now the least recently used */
    char p[512];
    snprintf(p, sizeof p, "%s/" KA ".so", s.dir);
    ck_assert_int_eq(cache_touch(p), 0);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_ge((long long)sb.st_mtime, (long long)time(NULL) - 60);
    snprintf(p, sizeof p, "%s/" KD ".so", s.dir);
    ck_assert_int_eq(cache_touch(p), -1);
    ck_assert_int_eq(errno, ENOENT);
    /* stored D (1000 bytes) under a cap of 3500: 4000 > 3500, down to 3150:
     * B goes (3000), A and C stay, and D */
    mk(&s, KD ".c", 400, 0);
    mk(&s, KD ".so", 600, 0);
    setenv("UEAJ_CACHE_MAX", "3500", 1);
    snprintf(p, sizeof p, "%s/" KD ".so", s.dir);
    cache_after_store(s.dir, p);
    ck_assert(!exists(&s, KB ".so") && !exists(&s, KB ".c"));
    ck_assert(exists(&s, KA ".so") && exists(&s, KC ".so") && exists(&s, KD ".so"));
    /* no cap: nothing goes */
    setenv("UEAJ_CACHE_MAX", "0", 1);
    cache_after_store(s.dir, p);
    ck_assert(exists(&s, KA ".so") && exists(&s, KC ".so"));
    /* a cap of 1K: all but D */
    setenv("UEAJ_CACHE_MAX", "1K", 1);
    cache_after_store(s.dir, p);
    ck_assert(!exists(&s, KA ".so") && !exists(&s, KC ".c") && exists(&s, KD ".c") && exists(&s, KD ".so"));
    unsetenv("UEAJ_CACHE_MAX");
    scratch_close(&s);
}
END_TEST

/* ---- sizes -------------------------------------------------------------- */

START_TEST(sizes)
{
    static const struct { const char *s; uint64_t v; } good[] = {
        {"0", 0},
        {"1", 1},
        {"123", 123},
        {"4096K", 4096ull * 1024},
        {"4096k", 4096ull * 1024},
        {"500M", 500ull * 1024 * 1024},
        {"2G", 2ull << 30},
        {"2g", 2ull << 30},
        {"2GB", 2ull << 30},
        {"2GiB", 2ull << 30},
        {"1T", 1ull << 40},
        {"0G", 0},
        {"007M", 7ull << 20},
        {"18446744073709551615", UINT64_MAX},
        {"17179869183G", (17179869183ull) << 30},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t v = 42;
        ck_assert_msg(cache_parse_size(good[i].s, &v) == 0, "'%s' rejected", good[i].s);
        ck_assert_msg(v == good[i].v, "'%s' -> %llu", good[i].s, (unsigned long long)v);
    }
    static const char *const bad[] = {
        "", " 1", "1 ", "-1", "+1", "1.5G", ".5G", "G", "K1", "1X", "1KK", "1Gi", "1iB", "1b", "1B", "1gb",
        "0x10", "1e9", "2 G", "18446744073709551616", "17179869184G", "99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 42;
        ck_assert_msg(cache_parse_size(bad[i], &v) == -1, "'%s' accepted", bad[i]);
        ck_assert_uint_eq(v, 42);
    }
    ck_assert_int_eq(cache_parse_size(NULL, NULL), -1);

    uint64_t m = 0;
    char err[256] = "";
    unsetenv("UEAJ_CACHE_MAX");
    ck_assert_int_eq(cache_max_from_env(&m, err, sizeof err), 0);
    ck_assert_uint_eq(m, 2ull << 30);
    setenv("UEAJ_CACHE_MAX", "", 1);
    ck_assert_int_eq(cache_max_from_env(&m, err, sizeof err), 0);
    ck_assert_uint_eq(m, 2ull << 30);
    setenv("UEAJ_CACHE_MAX", "3M", 1);
    ck_assert_int_eq(cache_max_from_env(&m, err, sizeof err), 0);
    ck_assert_uint_eq(m, 3ull << 20);
    setenv("UEAJ_CACHE_MAX", "0", 1);
    ck_assert_int_eq(cache_max_from_env(&m, err, sizeof err), 0);
    ck_assert_uint_eq(m, 0);
    setenv("UEAJ_CACHE_MAX", "lots", 1);
    ck_assert_int_eq(cache_max_from_env(&m, err, sizeof err), -1);
    ck_assert_uint_eq(m, 2ull << 30); /* the default, for a compile that goes on */
    ck_assert_ptr_nonnull(strstr(err, "'lots'"));
    unsetenv("UEAJ_CACHE_MAX");

    static const struct { uint64_t v; const char *s; } fmt[] = {
        {0, "0 bytes"}, {1, "1 byte"}, {1023, "1023 bytes"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
        {3ull << 20, "3.0 MiB"}, {2ull << 30, "2.0 GiB"}, {5ull << 40, "5.0 TiB"},
    };
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        char out[32];
        cache_format_size(fmt[i].v, out, sizeof out);
        ck_assert_str_eq(out, fmt[i].s);
    }
}
END_TEST

extern Suite *suite_cache(void);
Suite *suite_cache(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, names);
    tcase_add_test(tc, trim_lru);
    tcase_add_test(tc, trim_at_cap_and_unlimited);
    tcase_add_test(tc, trim_keeps_the_new_entry);
    tcase_add_test(tc, clear_and_stats);
    tcase_add_test(tc, random_caches);
    tcase_add_test(tc, touch_and_after_store);
    tcase_add_test(tc, sizes);
    suite_add_tcase(s, tc);
    return s;
}
