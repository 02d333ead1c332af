/* jit_c.c - the C backend at load time: cc, an on-disk cache, dlopen.
 *
 * The generated source is hashed (FNV-1a 64) together with the compiler
 * command, its flags and the compiler's own version string; the cache
 * holds KEY.c (the source, for inspection), KEY.so and, on failure,
 * KEY.log.  The compiler runs with fork/exec (no shell, so no quoting
 * issues with odd cache paths); outputs go to temporary names first and
 * are renamed into place, so concurrent runs and crashes are safe.  A hit
 * refreshes KEY.so's mtime and a store trims the cache to its cap, least
 * recently used entries first (runtime/cache_trim.c).
 * Flags: -O3 -march=native -std=c11 -ffp-contract=off.  No implicit FMA
 * contraction and no -ffast-math: every product and sum is rounded as
 * written (fused multiply-adds only where the code calls fmaf or the
 * prelude's vector fma), so vectorisation (which only runs independent
 * output elements side by side) never changes a result, and results are
 * the same on every x86-64 CPU.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cache_trim.h"
#include "fsutil.h"
#include "jit_c.h"

static const char *const CFLAGS[] = {"-O3", "-march=native", "-fopenmp", "-std=c11", "-ffp-contract=off", "-fPIC",
                                     "-shared", "-w", NULL};

/* -march=native objects run only on CPUs like this one: the cache key
 * includes the CPU's model name and feature flags. */
static void cpu_identity(char *out, size_t outlen)
{
    out[0] = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[8192];
    int got = 0;
    size_t used = 0;
    while (got < 2 && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) && strncmp(line, "flags", 5)) continue;
        size_t n = strlen(line);
        if (used + n >= outlen) break;
        memcpy(out + used, line, n + 1);
        used += n;
        got++;
    }
    fclose(f);
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) { h ^= s[i]; h *= 0x100000001b3ull; }
    return h;
}

static int mkdir_p(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

int jit_cache_dir(const char *dir, char *out, size_t outlen, char *err, size_t errlen)
{
    if (outlen > 3800) outlen = 3800;
    const char *e;
    if (dir) snprintf(out, outlen, "%s", dir);
    else if ((e = getenv("UEAJ_CACHE")) && *e) snprintf(out, outlen, "%s", e);
    else if ((e = getenv("XDG_CACHE_HOME")) && *e) snprintf(out, outlen, "%s/ueajc", e);
    else if ((e = getenv("HOME")) && *e) snprintf(out, outlen, "%s/.cache/ueajc", e);
    else snprintf(out, outlen, "/tmp/ueajc-cache-%d", (int)getuid());
    if (mkdir_p(out) != 0) {
        snprintf(err, errlen, "cannot create the compile cache directory '%s': %s", out, strerror(errno));
        return -1;
    }
    return 0;
}

static int cc_identity(const char *cc, char *out, size_t outlen)
{
    char path[] = "/tmp/ueajc-ccver-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    char *argv[] = {(char *)cc, "-dumpfullversion", "-dumpmachine", NULL};
    int r = fs_run(argv, path);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, outlen - 1, f) : 0;
    if (f) fclose(f);
    out[n] = 0;
    unlink(path);
    return r == 0 ? 0 : -1;
}

static char *read_small(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(8193);
    size_t n = buf ? fread(buf, 1, 8192, f) : 0;
    fclose(f);
    if (buf) buf[n] = 0;
    return buf;
}

static int compile(const char *cc, const char *c_path, const char *so_path, const char *log_path,
                   char *err, size_t errlen)
{
    char tmp_so[4200];
    snprintf(tmp_so, sizeof tmp_so, "%s.tmp.%d", so_path, (int)getpid());
    char *argv[32];
    int k = 0;
    argv[k++] = (char *)cc;
    for (int i = 0; CFLAGS[i]; i++) argv[k++] = (char *)CFLAGS[i];
    argv[k++] = "-o";
    argv[k++] = tmp_so;
    argv[k++] = (char *)c_path;
    argv[k++] = "-lm";
    argv[k] = NULL;
    int r = fs_run(argv, log_path);
    if (r != 0) {
        char *log = read_small(log_path);
        snprintf(err, errlen, "%s: the C compiler (%s) failed on generated code (exit %d)%s%s%s", c_path, cc, r,
                 r == 127 ? "; is a C compiler installed? set $CC" : "", log && *log ? ":\n" : "", log ? log : "");
        free(log);
        unlink(tmp_so);
        return -1;
    }
    if (rename(tmp_so, so_path) != 0) {
        snprintf(err, errlen, "cannot move %s into place: %s", so_path, strerror(errno));
        unlink(tmp_so);
        return -1;
    }
    unlink(log_path);
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int jit_c_load(const char *source, const char *cache_dir, const char *cc, int verbose, JitModule *m,
               char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (!cc) cc = getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
    char dir[3800], ident[512] = "";
    if (jit_cache_dir(cache_dir, dir, sizeof dir, err, errlen) != 0) return -1;
    cc_identity(cc, ident, sizeof ident);
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv1a(h, source, strlen(source) + 1);
    h = fnv1a(h, cc, strlen(cc) + 1);
    for (int i = 0; CFLAGS[i]; i++) h = fnv1a(h, CFLAGS[i], strlen(CFLAGS[i]) + 1);
    h = fnv1a(h, ident, strlen(ident) + 1);
    char cpu[16384];
    cpu_identity(cpu, sizeof cpu);
    h = fnv1a(h, cpu, strlen(cpu) + 1);
    char c_path[4200], log_path[4200];
    snprintf(c_path, sizeof c_path, "%s/%016llx.c", dir, (unsigned long long)h);
    snprintf(m->so_path, sizeof m->so_path, "%s/%016llx.so", dir, (unsigned long long)h);
    snprintf(log_path, sizeof log_path, "%s/%016llx.log", dir, (unsigned long long)h);
    /* a hit counts as a use: the entry becomes the newest (ENOENT: another
     * run's trim removed it just now, so it is compiled again) */
    if (access(m->so_path, R_OK) == 0 && (cache_touch(m->so_path) == 0 || errno != ENOENT)) {
        m->cache_hit = 1;
    } else {
        double t0 = now_ms();
        if (fs_write_atomic(c_path, source, strlen(source)) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", c_path, strerror(errno));
            return -1;
        }
        if (compile(cc, c_path, m->so_path, log_path, err, errlen) != 0) return -1;
        m->compile_ms = now_ms() - t0;
        cache_after_store(dir, m->so_path);
    }
    if (verbose)
        fprintf(stderr, "ueajc: C backend: %s %s%s\n", m->cache_hit ? "cache hit" : "compiled", m->so_path,
                m->cache_hit ? "" : "");
    /* libgomp reads its settings when the first OpenMP object is loaded.  Its
     * default spin (300000 iterations before a waiting thread sleeps) makes
     * a model with hundreds of parallel regions per token ten times slower as
     * soon as another process shares a core; 20000 keeps barriers fast on an
     * idle machine and degrades gracefully on a busy one (measured on the
     * 2-core CI kind).  A user's own GOMP_SPINCOUNT / OMP_WAIT_POLICY win. */
    if (!getenv("OMP_WAIT_POLICY")) setenv("GOMP_SPINCOUNT", "20000", 0);
    /* RTLD_NODELETE: an OpenMP object must stay mapped while its worker threads live */
    m->handle = dlopen(m->so_path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!m->handle) {
        snprintf(err, errlen, "cannot load %s: %s", m->so_path, dlerror());
        return -1;
    }
    m->forward = (UeajForwardFn)dlsym(m->handle, "ueaj_forward");
    m->set_threads = (void (*)(int))dlsym(m->handle, "ueaj_set_threads");
    if (!m->forward) {
        snprintf(err, errlen, "%s has no ueaj_forward entry point", m->so_path);
        dlclose(m->handle);
        m->handle = NULL;
        return -1;
    }
    return 0;
}

int jit_c_compile_to(const char *source, const char *so_path, const char *cc, char *err, size_t errlen)
{
    if (!cc) cc = getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
    char c_path[4200], log_path[4200];
    snprintf(c_path, sizeof c_path, "%s.tmp.%d.c", so_path, (int)getpid());
    snprintf(log_path, sizeof log_path, "%s.tmp.%d.log", so_path, (int)getpid());
    if (fs_write_atomic(c_path, source, strlen(source)) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", c_path, strerror(errno));
        return -1;
    }
    int r = compile(cc, c_path, so_path, log_path, err, errlen);
    unlink(c_path);
    unlink(log_path);
    return r;
}

void jit_c_close(JitModule *m)
{
    if (m->handle) dlclose(m->handle);
    m->handle = NULL;
    m->forward = NULL;
}
