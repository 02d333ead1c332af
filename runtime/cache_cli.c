/* cache_cli.c - `ueajc cache [--stats | --trim | --clear] [--cache-dir DIR]`:
 * the compile cache's directory, entries, size and cap; the cap applied
 * now; every entry removed.  What an entry is, and the cap, in
 * cache_trim.h.  Exit status: 0; 1 when the directory cannot be read or a
 * file cannot be removed; 2 for a usage error (and --trim under a
 * malformed $UEAJ_CACHE_MAX: it would otherwise trim to a cap nobody
 * asked for).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cache_trim.h"
#include "jit_c.h"

static void usage(FILE *f)
{
    fputs("usage: ueajc cache [--stats | --trim | --clear] [--cache-dir DIR]\n"
          "the compile cache ($UEAJ_CACHE, else $XDG_CACHE_HOME/ueajc, else ~/.cache/ueajc):\n"
          "  --stats             (the default) its directory, entries, size and cap\n"
          "  --trim              apply the cap now: least recently used entries go first, down to\n"
          "                      90% of it (every compile that stores an entry does the same)\n"
          "  --clear             remove every entry\n"
          "  --cache-dir DIR     another cache directory\n"
          "The cap is $UEAJ_CACHE_MAX: 2G (the default), 500M, 4096K, bytes; 0 for none.\n"
          "Only ueajc's own files are counted or removed (KEY.c/.so/.log/.cubin/.ptx/.nvlog,\n"
          "harness-KEY.so/.cu); temporaries go when they are an hour old; other files and\n"
          "subdirectories (models/, ...) are left alone.\n",
          f);
}

int ueaj_cache_main(int argc, char **argv)
{
    const char *mode = NULL, *cache_dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (!strcmp(a, "--stats") || !strcmp(a, "--trim") || !strcmp(a, "--clear")) {
            if (mode && strcmp(mode, a)) {
                fprintf(stderr, "ueajc: error: cache: one of --stats, --trim and --clear\n");
                return 2;
            }
            mode = a;
        } else if (!strncmp(a, "--cache-dir=", 12)) {
            cache_dir = a + 12;
        } else if (!strcmp(a, "--cache-dir")) {
            if (i + 1 >= argc) { fprintf(stderr, "ueajc: error: --cache-dir needs a value\n"); return 2; }
            cache_dir = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "ueajc: error: cache: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            fprintf(stderr, "ueajc: error: cache: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (cache_dir && !*cache_dir) { fprintf(stderr, "ueajc: error: --cache-dir needs a value\n"); return 2; }
    if (!mode) mode = "--stats";
    char err[1024], dir[3800], s1[32], s2[32];
    uint64_t max = 0;
    int env_ok = cache_max_from_env(&max, err, sizeof err) == 0;
    if (!env_ok && !strcmp(mode, "--trim")) { fprintf(stderr, "ueajc: error: %s\n", err); return 2; }
    if (!env_ok && !strcmp(mode, "--stats")) fprintf(stderr, "ueajc: warning: %s; compiles use the default cap\n", err);
    if (jit_cache_dir(cache_dir, dir, sizeof dir, err, sizeof err) != 0) { fprintf(stderr, "ueajc: error: %s\n", err); return 1; }
    CacheTrimStats st;
    int rc = !strcmp(mode, "--trim")    ? cache_trim(dir, max, NULL, &st, err, sizeof err)
           : !strcmp(mode, "--clear") ? cache_clear(dir, &st, err, sizeof err)
                                        : cache_stats(dir, &st, err, sizeof err);
    if (rc != 0 && st.failed == 0) { fprintf(stderr, "ueajc: error: %s\n", err); return 1; }
    if (strcmp(mode, "--stats")) {
        cache_format_size(st.removed_bytes, s1, sizeof s1);
        printf("removed %llu entr%s (%llu files, %s)", (unsigned long long)st.removed_entries,
               st.removed_entries == 1 ? "y" : "ies", (unsigned long long)st.removed_files, s1);
        if (st.stale_removed) {
            cache_format_size(st.stale_bytes, s2, sizeof s2);
            printf(" and %llu stale temporar%s (%s)", (unsigned long long)st.stale_removed,
                   st.stale_removed == 1 ? "y" : "ies", s2);
        }
        printf("\n");
    }
    cache_format_size(st.bytes, s1, sizeof s1);
    printf("cache directory  %s\n", dir);
    printf("entries          %llu (%llu files)\n", (unsigned long long)st.entries, (unsigned long long)st.files);
    if (st.bytes < 1024) printf("size             %s\n", s1);
    else printf("size             %s (%llu bytes)\n", s1, (unsigned long long)st.bytes);
    if (max) {
        cache_format_size(max, s2, sizeof s2);
        printf("cap              %s (%llu bytes)%s\n", s2, (unsigned long long)max,
               env_ok && getenv("UEAJ_CACHE_MAX") && *getenv("UEAJ_CACHE_MAX") ? ", $UEAJ_CACHE_MAX" : ", the default");
    } else {
        printf("cap              none ($UEAJ_CACHE_MAX=0)\n");
    }
    if (st.temps) {
        cache_format_size(st.temp_bytes, s2, sizeof s2);
        printf("in progress      %llu temporar%s (%s)\n", (unsigned long long)st.temps, st.temps == 1 ? "y" : "ies", s2);
    }
    if (st.other_files || st.other_dirs)
        printf("left alone       %llu other file%s, %llu director%s\n", (unsigned long long)st.other_files,
               st.other_files == 1 ? "" : "s", (unsigned long long)st.other_dirs, st.other_dirs == 1 ? "y" : "ies");
    if (rc != 0) {
        fprintf(stderr, "ueajc: error: %s (%llu file%s not removed)\n", err, (unsigned long long)st.failed,
                st.failed == 1 ? "" : "s");
        return 1;
    }
    return 0;
}
