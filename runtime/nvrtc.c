/* nvrtc.c - CUDA source -> PTX / CUBIN through a dlopen'ed NVRTC (see nvrtc.h).
 *
 * Options passed to NVRTC, always: --gpu-architecture=sm_XX (CUBIN) or
 * compute_XX (PTX), -default-device, --std=c++17, --fmad=false (no
 * multiply-add contraction: products and sums are rounded as written, as
 * in the C backend, see compiler/dialect_cuda.c); with ptxas_verbose also
 * -Xptxas=-v.  Cache entries: KEY.cubin or KEY.ptx and KEY.nvlog (the
 * program log), written to temporary names and renamed, the log first.
 * A hit refreshes the code file's mtime; a store trims the cache to its
 * cap, least recently used entries first (runtime/cache_trim.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cache_trim.h"
#include "jit_c.h"
#include "fsutil.h"
#include "nvrtc.h"

/* The part of nvrtc.h we use (the ABI is plain C: an int result and an
 * opaque program pointer). */
typedef struct _nvrtcProgram *nvrtcProgram;
typedef int nvrtcResult;

typedef struct NvrtcLib {
    void *h;
    const char *(*GetErrorString)(nvrtcResult);
    nvrtcResult (*Version)(int *, int *);
    nvrtcResult (*GetNumSupportedArchs)(int *);
    nvrtcResult (*GetSupportedArchs)(int *);
    nvrtcResult (*CreateProgram)(nvrtcProgram *, const char *, const char *, int, const char *const *,
                                 const char *const *);
    nvrtcResult (*DestroyProgram)(nvrtcProgram *);
    nvrtcResult (*CompileProgram)(nvrtcProgram, int, const char *const *);
    nvrtcResult (*GetProgramLogSize)(nvrtcProgram, size_t *);
    nvrtcResult (*GetProgramLog)(nvrtcProgram, char *);
    nvrtcResult (*GetPTXSize)(nvrtcProgram, size_t *);
    nvrtcResult (*GetPTX)(nvrtcProgram, char *);
    nvrtcResult (*GetCUBINSize)(nvrtcProgram, size_t *);
    nvrtcResult (*GetCUBIN)(nvrtcProgram, char *);
} NvrtcLib;

static int lib_open(NvrtcLib *L, char *err, size_t errlen)
{
    memset(L, 0, sizeof *L);
    const char *env = getenv("UEAJ_LIBNVRTC");
    static const char *const names[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so",
                                        "/usr/local/cuda/lib64/libnvrtc.so.13", "/usr/local/cuda/lib64/libnvrtc.so.12",
                                        "/usr/local/cuda/lib64/libnvrtc.so", NULL};
    char first[512] = "";
    if (env && *env) {
        L->h = dlopen(env, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!L->h) {
            snprintf(err, errlen, "cannot load NVRTC from $UEAJ_LIBNVRTC (%s): %s", env, dlerror());
            return -1;
        }
    }
    for (int i = 0; !L->h && names[i]; i++) {
        L->h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!L->h && !first[0]) snprintf(first, sizeof first, "%s", dlerror());
    }
    if (!L->h) {
        snprintf(err, errlen,
                 "NVRTC (libnvrtc.so, part of the CUDA toolkit) was not found: CUDA output needs it; "
                 "set $UEAJ_LIBNVRTC to its path (%s)", first);
        return -1;
    }
#define SYM(f)                                                                                                      \
    do {                                                                                                            \
        *(void **)&L->f = dlsym(L->h, "nvrtc" #f);                                                                  \
        if (!L->f) {                                                                                                \
            snprintf(err, errlen, "the NVRTC library has no nvrtc" #f " (too old?)");                               \
            dlclose(L->h);                                                                                          \
            L->h = NULL;                                                                                            \
            return -1;                                                                                              \
        }                                                                                                           \
    } while (0)
    SYM(GetErrorString);
    SYM(Version);
    SYM(GetNumSupportedArchs);
    SYM(GetSupportedArchs);
    SYM(CreateProgram);
    SYM(DestroyProgram);
    SYM(CompileProgram);
    SYM(GetProgramLogSize);
    SYM(GetProgramLog);
    SYM(GetPTXSize);
    SYM(GetPTX);
    SYM(GetCUBINSize);
    SYM(GetCUBIN);
#undef SYM
    return 0;
}

static void lib_close(NvrtcLib *L)
{
    if (L->h) dlclose(L->h);
    L->h = NULL;
}

static int archs_of(NvrtcLib *L, int *archs, int max)
{
    int n = 0;
    if (L->GetNumSupportedArchs(&n) != 0 || n <= 0) return 0;
    int *all = calloc((size_t)n, sizeof *all);
    if (!all) return 0;
    if (L->GetSupportedArchs(all) != 0) n = 0;
    int k = 0;
    for (int i = 0; i < n && k < max; i++) archs[k++] = all[i];
    free(all);
    return k;
}

int nvrtc_supported_archs(int *archs, int max, char *err, size_t errlen)
{
    NvrtcLib L;
    if (lib_open(&L, err, errlen) != 0) return -1;
    int n = archs_of(&L, archs, max);
    lib_close(&L);
    return n;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) { h ^= s[i]; h *= 0x100000001b3ull; }
    return h;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* "sm_90" -> 90 (also "sm_90a"); -1 when malformed. */
static int arch_number(const char *arch)
{
    if (strncmp(arch, "sm_", 3) != 0) return -1;
    const char *p = arch + 3;
    int v = 0, nd = 0;
    while (*p >= '0' && *p <= '9' && nd < 4) { v = v * 10 + (*p++ - '0'); nd++; }
    if (nd < 2 || (*p && strcmp(p, "a") && strcmp(p, "f"))) return -1;
    return v;
}

int nvrtc_compile(const char *src, const char *name, const NvrtcOptions *o, NvrtcOutput *out, char *err,
                  size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *arch = o->arch ? o->arch : "sm_90";
    if (arch_number(arch) < 0) {
        snprintf(err, errlen, "'%s' is not a GPU architecture (expected sm_NN, e.g. sm_90)", arch);
        return -1;
    }
    NvrtcLib L;
    if (lib_open(&L, err, errlen) != 0) return -1;
    int rc = -1;
    nvrtcProgram prog = NULL;
    char *log = NULL;
    char archopt[64], dir[3800];
    snprintf(archopt, sizeof archopt, "--gpu-architecture=%s%s", o->ptx ? "compute_" : "sm_", arch + 3);
    const char *opts[8];
    int nopt = 0;
    opts[nopt++] = archopt;
    opts[nopt++] = "-default-device";
    opts[nopt++] = "--std=c++17";
    opts[nopt++] = "--fmad=false";
    if (o->ptxas_verbose && !o->ptx) opts[nopt++] = "-Xptxas=-v";
    L.Version(&out->major, &out->minor);
    /* the cache */
    char base[3840] = ""; /* dir (< 3800) + "/" + 16 hex digits */
    if (!o->no_cache) {
        if (jit_cache_dir(o->cache_dir, dir, sizeof dir, err, errlen) != 0) goto done;
        uint64_t h = 0xcbf29ce484222325ull;
        h = fnv1a(h, src, strlen(src) + 1);
        h = fnv1a(h, name, strlen(name) + 1);
        for (int i = 0; i < nopt; i++) h = fnv1a(h, opts[i], strlen(opts[i]) + 1);
        char ver[64];
        snprintf(ver, sizeof ver, "nvrtc %d.%d", out->major, out->minor);
        h = fnv1a(h, ver, strlen(ver) + 1);
        snprintf(base, sizeof base, "%s/%016llx", dir, (unsigned long long)h);
        snprintf(out->cache_path, sizeof out->cache_path, "%s.%s", base, o->ptx ? "ptx" : "cubin");
        char logp[4300];
        snprintf(logp, sizeof logp, "%s.nvlog", base);
        size_t clen = 0, llen = 0;
        char *code = fs_read_all(out->cache_path, &clen);
        char *clog = code ? fs_read_all(logp, &llen) : NULL;
        if (code && clog && clen > 0) {
            out->code = code;
            out->size = clen;
            out->log = clog;
            out->cache_hit = 1;
            cache_touch(out->cache_path); /* a use: the entry becomes the newest */
            rc = 0;
            goto done;
        }
        free(code);
        free(clog);
    }
    double t0 = now_ms();
    nvrtcResult r = L.CreateProgram(&prog, src, name, 0, NULL, NULL);
    if (r != 0) {
        snprintf(err, errlen, "%s: nvrtcCreateProgram failed: %s", name, L.GetErrorString(r));
        goto done;
    }
    r = L.CompileProgram(prog, nopt, opts);
    size_t lsz = 0;
    L.GetProgramLogSize(prog, &lsz);
    log = calloc(lsz + 1, 1);
    if (!log) { snprintf(err, errlen, "out of memory"); goto done; }
    if (lsz) L.GetProgramLog(prog, log);
    if (r != 0) {
        snprintf(err, errlen, "%s: NVRTC %d.%d could not compile the generated CUDA for %s (%s)%s%s", name, out->major,
                 out->minor, arch, L.GetErrorString(r), *log ? ":\n" : "", log);
        goto done;
    }
    size_t sz = 0;
    r = o->ptx ? L.GetPTXSize(prog, &sz) : L.GetCUBINSize(prog, &sz);
    if (r != 0 || sz == 0) {
        snprintf(err, errlen, "%s: NVRTC produced no %s for %s", name, o->ptx ? "PTX" : "CUBIN", arch);
        goto done;
    }
    out->code = malloc(sz + 1);
    if (!out->code) { snprintf(err, errlen, "out of memory"); goto done; }
    r = o->ptx ? L.GetPTX(prog, out->code) : L.GetCUBIN(prog, out->code);
    if (r != 0) {
        snprintf(err, errlen, "%s: fetching the %s failed: %s", name, o->ptx ? "PTX" : "CUBIN", L.GetErrorString(r));
        goto done;
    }
    out->code[sz] = 0;
    out->size = o->ptx ? strlen(out->code) : sz;
    out->compile_ms = now_ms() - t0;
    out->log = log;
    log = NULL;
    if (base[0]) { /* a cache write that fails only costs a recompile next time */
        char logp[4300];
        snprintf(logp, sizeof logp, "%s.nvlog", base);
        if (fs_write_atomic(logp, out->log, strlen(out->log)) == 0 &&
            fs_write_atomic(out->cache_path, out->code, out->size) == 0)
            cache_after_store(dir, out->cache_path);
    }
    rc = 0;
done:
    if (rc != 0) {
        free(out->code);
        out->code = NULL;
        free(out->log);
        out->log = NULL;
    }
    free(log);
    if (prog) L.DestroyProgram(&prog);
    lib_close(&L);
    return rc;
}

void nvrtc_output_free(NvrtcOutput *out)
{
    free(out->code);
    free(out->log);
    out->code = out->log = NULL;
}

/* ptxas -v, per kernel:
 *   ptxas info    : Compiling entry function 'k0' for 'sm_90'
 *   ptxas info    : Function properties for k0
 *       0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
 *   ptxas info    : Used 16 registers, used 0 barriers, 1024 bytes smem, 384 bytes cmem[0] */
NvrtcKernelStats *nvrtc_parse_ptxas(const char *log, int *n)
{
    NvrtcKernelStats *v = NULL;
    int cnt = 0, cap = 0;
    *n = 0;
    for (const char *p = log ? log : ""; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        p += len + (e ? 1 : 0);
        const char *q;
        if ((q = strstr(line, "Compiling entry function '"))) {
            if (cnt == cap) {
                cap = cap ? 2 * cap : 16;
                NvrtcKernelStats *w = realloc(v, sizeof *v * (size_t)cap);
                if (!w) { free(v); return NULL; }
                v = w;
            }
            memset(&v[cnt], 0, sizeof v[cnt]);
            q += strlen("Compiling entry function '");
            const char *end = strchr(q, '\'');
            size_t nl = end ? (size_t)(end - q) : strlen(q);
            snprintf(v[cnt].name, sizeof v[cnt].name, "%.*s", (int)(nl < 127 ? nl : 127), q);
            cnt++;
            continue;
        }
        if (!cnt) continue;
        NvrtcKernelStats *k = &v[cnt - 1];
        if ((q = strstr(line, "bytes stack frame"))) {
            sscanf(line, " %d bytes stack frame, %d bytes spill stores, %d bytes spill loads", &k->stack,
                   &k->spill_stores, &k->spill_loads);
        } else if ((q = strstr(line, "Used "))) {
            sscanf(q, "Used %d registers", &k->regs);
            const char *s = strstr(q, " bytes smem");
            if (s) {
                const char *b = s;
                while (b > q && b[-1] >= '0' && b[-1] <= '9') b--;
                k->smem = atoi(b);
            }
        }
    }
    *n = cnt;
    return v;
}
