/* replay_main.c - runs a fuzz target's entry point over saved inputs.
 *
 * The fuzz targets (tests/fuzz/fuzz_*.c) define libFuzzer's
 *     int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * `make fuzz` links them with clang's libFuzzer to search for new inputs
 * (tools/fuzz.sh); `make check` links them with this main instead and
 * replays every file of their corpus (tests/fuzz/corpus/NAME/), so each
 * input that once crashed, leaked or hung stays a regression test, under
 * AddressSanitizer and UBSan in `make check-asan`.
 *
 *   fuzz_replay_NAME FILE|DIR...     prints "NAME: N inputs replayed"
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); return -1; }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t k; buf && (k = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += k;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); buf = NULL; }
            else buf = nb;
        }
    }
    fclose(f);
    if (!buf) { fprintf(stderr, "replay: out of memory reading %s\n", path); return -1; }
    /* an exact-size copy, so that a read past the input is caught */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) { free(buf); return -1; }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    int count = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) { fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]); bad++; continue; }
        if (!S_ISDIR(sb.st_mode)) { bad += replay_file(argv[i]) != 0; count++; continue; }
        DIR *d = opendir(argv[i]);
        if (!d) { bad++; continue; }
        char **names = NULL;
        size_t nn = 0, cap = 0;
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_name[0] == '.') continue;
            if (nn == cap) {
                char **nv = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
                if (!nv) break;
                names = nv;
            }
            names[nn++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, nn, sizeof *names, cmp_names); /* a stable order, for reproducible logs */
        for (size_t k = 0; k < nn; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
            bad += replay_file(path) != 0;
            count++;
            free(names[k]);
        }
        free(names);
    }
    const char *name = strrchr(argv[0], '/');
    printf("%s: %d inputs replayed%s\n", name ? name + 1 : argv[0], count, bad ? ", some unreadable" : "");
    return bad ? 1 : 0;
}
