/* cuda_exec.c - runs a model through its CUDA launch plan (cuda_exec.h).
 *
 * One executor, two backends.  Everything that does not depend on the
 * backend lives here once: parsing the plan, sizing every tensor with the
 * run-time dims, laying the tensors out in one arena (256-byte aligned
 * offsets), the order of the steps, the checks that a gemm's operands fit
 * their tensors.  The backend supplies five things: allocate/free the
 * arena, copy in, copy out, launch a kernel by step, run a gemm by step.
 *
 * The GPU backend uses the primary context of the device cuda_select
 * picked, one non-default stream, NVRTC for the device's exact sm_XY
 * (cached on disk by nvrtc.c) and cuBLASLt.  The cuBLASLt descriptors and
 * the heuristic's first algorithm are built once per set of run-time dims:
 * a decode step must not pay a heuristic query per matmul.  The steps of a
 * set of run-time dims seen before run as one CUDA graph (GraphCache;
 * $UEAJ_CUDA_GRAPHS=0 turns that off, a failed capture too, with a note).
 *
 * The harness backend turns the same source into a shared object for the
 * CPU (tests/cuda/cu2cpu.sh + g++ with tests/cuda/cuda_shim.hpp) and runs
 * gemm steps with gemm_ref, which has cuBLASLt's semantics.  It is what CI
 * uses to check the generated kernels and the plan against the C backend.
 *
 * Launches whose grid has a zero dimension (say a kernel over n rows with
 * n = 0) are skipped, as CUDA would reject them.
 */
#include "fsutil.h"
#include "strbuf.h"
#include "cuda_exec.h"

#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache_trim.h"
#include "cublaslt.h"
#include "cuda_api.h"
#include "dtype.h"
#include "gemm_ref.h"
#include "jit_c.h"
#include "nvrtc.h"

#define WORKSPACE_BYTES ((size_t)32 << 20)
#define GEMM_SLOTS 4   /* cuBLASLt set-ups kept per gemm step (prefill, decode, ... dims) */
#define GRAPH_SLOTS 4  /* CUDA graphs kept, one per set of run-time dims */

typedef int (*ShimLaunchFn)(const char *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, size_t,
                            void **);

typedef struct GemmCache {
    int64_t               key[CUDA_PLAN_MAX_DIMS];   /* the run-time dims it was built for */
    GemmDims              g;
    CublasLtGemm          op;
    cublasLtMatmulAlgo_t_ algo;
    int                   built;
} GemmCache;

/* The steps for one set of run-time dims as a CUDA graph: the first run
 * with those dims goes step by step (and builds the cuBLASLt set-ups), the
 * second is captured and every later one replays the graph, one launch
 * instead of one per step.  A graph holds the arena's addresses, so it
 * dies with the storage. */
typedef struct GraphCache {
    int64_t     key[CUDA_PLAN_MAX_DIMS];
    int         runs;                  /* runs with these dims so far (0: slot free) */
    CUgraph     graph;
    CUgraphExec exec;
} GraphCache;

struct CudaExec {
    int        gpu;                    /* 1: cuda, 0: harness */
    CudaPlan  *plan;
    char       describe[5200];
    size_t    *bytes;                  /* per tensor, for the current dims */
    char      *unused;                 /* per tensor: a temp no step reads or writes (no storage) */
    size_t    *offset;                 /* in the arena */
    size_t     arena_bytes;
    int64_t    dyn[CUDA_PLAN_MAX_DIMS];
    int        have_dims;
    int        reserved;               /* cuda_exec_reserve: storage fixed, dyn may shrink per run */
    size_t     param_bytes;
    /* harness */
    void        *so;
    ShimLaunchFn shim_launch;
    unsigned char *host_arena;
    /* cuda */
    CudaDevice   dev;
    int          dev_open;
    CUmodule     mod;
    CUfunction  *fn;                   /* per step (launches) */
    CUstream     stream;
    CUdeviceptr  arena;
    CUdeviceptr  workspace;
    CublasLt     lt;
    int          lt_open;
    cublasLtHandle_t_ lth;
    GemmCache   *gemm;                 /* GEMM_SLOTS per step */
    CUevent      ev0, ev1;             /* cuda_exec_steps' timing */
    GraphCache   graphs[GRAPH_SLOTS];
    int          graph_next;           /* the slot a new set of dims takes */
    int          graphs_off;           /* $UEAJ_CUDA_GRAPHS=0, or a capture failed */
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 1099511628211ull; }
    return h;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- the repository root (harness) ------------------------------------ */

static int is_root(const char *dir)
{
    char p[4300];
    snprintf(p, sizeof p, "%s/tests/cuda/cuda_shim.hpp", dir);
    return access(p, R_OK) == 0;
}

static int find_root(char *out, size_t outlen, char *err, size_t errlen)
{
    const char *env = getenv("UEAJ_ROOT");
    if (env && *env) {
        if (!is_root(env)) return str_fail(err, errlen, "$UEAJ_ROOT=%s has no tests/cuda/cuda_shim.hpp", env);
        snprintf(out, outlen, "%s", env);
        return 0;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        for (int up = 0; up < 3; up++) {
            char *s = strrchr(exe, '/');
            if (!s) break;
            *s = 0;
            if (up > 0 && is_root(exe)) { snprintf(out, outlen, "%s", exe); return 0; }
        }
    }
    return str_fail(err, errlen, "the harness needs tests/cuda/cuda_shim.hpp: set $UEAJ_ROOT to the ueajc source tree");
}

/* ---- harness: build and load the shared object ------------------------ */

static int harness_open(CudaExec *x, const char *src, const char *name, const char *cache_dir, char *err,
                        size_t errlen)
{
    char root[4096], dir[4096];
    if (find_root(root, sizeof root, err, errlen) != 0) return -1;
    if (jit_cache_dir(cache_dir, dir, sizeof dir, err, errlen) != 0) return -1;
    /* an ueajc built with AddressSanitizer (make check-asan) runs the
     * generated kernels under ASan and UBSan too: the shared object uses
     * the runtime the executable carries */
    static const char *const flags[] = {"-std=c++17", "-O1", "-ffp-contract=off", "-fno-strict-aliasing", "-DUEAJ_HAVE_STDINT", "-shared", "-fPIC",
                                        "-fvisibility=hidden", "-fvisibility-inlines-hidden",
#if defined(__SANITIZE_ADDRESS__)
                                        "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
#endif
                                        NULL};
    /* the kernels to register: every launched one, once */
    size_t klen = 1;
    for (int i = 0; i < x->plan->nsteps; i++)
        if (x->plan->steps[i].kind == CUDA_STEP_LAUNCH) klen += strlen(x->plan->steps[i].name) + 1;
    char *klist = calloc(klen, 1);
    if (!klist) return str_fail(err, errlen, "out of memory");
    for (int i = 0; i < x->plan->nsteps; i++) {
        const CudaPlanStep *s = &x->plan->steps[i];
        if (s->kind != CUDA_STEP_LAUNCH) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = x->plan->steps[j].kind == CUDA_STEP_LAUNCH && !strcmp(x->plan->steps[j].name, s->name);
        if (!seen) { strcat(klist, s->name); strcat(klist, " "); }
    }
    char shim[4300], conv[4300];
    snprintf(shim, sizeof shim, "%s/tests/cuda/cuda_shim.hpp", root);
    snprintf(conv, sizeof conv, "%s/tests/cuda/cu2cpu.sh", root);
    size_t shim_len = 0, conv_len = 0;
    char *shim_text = fs_read_all(shim, &shim_len), *conv_text = fs_read_all(conv, &conv_len);
    uint64_t h = 1469598103934665603ull;
    h = fnv1a(h, src, strlen(src));
    h = fnv1a(h, klist, strlen(klist));
    if (shim_text) h = fnv1a(h, shim_text, shim_len);
    if (conv_text) h = fnv1a(h, conv_text, conv_len);
    for (int i = 0; flags[i]; i++) h = fnv1a(h, flags[i], strlen(flags[i]) + 1);
    free(shim_text);
    free(conv_text);
    char so[4400], cu[4400], cpu[4400], log[4400];
    snprintf(so, sizeof so, "%s/harness-%016llx.so", dir, (unsigned long long)h);
    /* a hit counts as a use: the entry becomes the newest (ENOENT: another
     * run's trim removed it just now, so it is built again) */
    int hit = access(so, R_OK) == 0 && (cache_touch(so) == 0 || errno != ENOENT);
    int rc = -1;
    if (!hit) {
        snprintf(cu, sizeof cu, "%s/harness-%016llx.cu", dir, (unsigned long long)h);
        snprintf(cpu, sizeof cpu, "%s/harness-%016llx.%d.cpu.cu", dir, (unsigned long long)h, (int)getpid());
        snprintf(log, sizeof log, "%s/harness-%016llx.%d.log", dir, (unsigned long long)h, (int)getpid());
        if (fs_write_atomic(cu, src, strlen(src)) != 0) { str_fail(err, errlen, "cannot write %s: %s", cu, strerror(errno)); goto out; }
        /* sh cu2cpu.sh SRC OUT KERNEL... */
        int nk = 0;
        for (char *p = klist; *p; p++) nk += *p == ' ';
        char **argv = calloc((size_t)nk + 8, sizeof *argv);
        if (!argv) { str_fail(err, errlen, "out of memory"); goto out; }
        int k = 0;
        argv[k++] = "sh"; argv[k++] = conv; argv[k++] = cu; argv[k++] = cpu;
        for (char *p = klist; *p;) {
            argv[k++] = p;
            char *sp = strchr(p, ' ');
            *sp = 0;
            p = sp + 1;
        }
        argv[k] = NULL;
        int r = fs_run(argv, log);
        free(argv);
        if (r != 0) {
            char *l = fs_read_all(log, NULL);
            str_fail(err, errlen, "%s failed (exit %d): %s", conv, r, l ? l : "");
            free(l);
            goto out;
        }
        char tmp_so[4500];
        snprintf(tmp_so, sizeof tmp_so, "%s.tmp.%d", so, (int)getpid());
        char *gv[32];
        k = 0;
        gv[k++] = "g++";
        for (int i = 0; flags[i]; i++) gv[k++] = (char *)flags[i];
        gv[k++] = "-include"; gv[k++] = shim;
        gv[k++] = "-x"; gv[k++] = "c++"; gv[k++] = cpu; gv[k++] = "-x"; gv[k++] = "none";
        gv[k++] = "-o"; gv[k++] = tmp_so; gv[k++] = "-pthread";
        gv[k] = NULL;
        double t0 = now_ms();
        r = fs_run(gv, log);
        if (r != 0) {
            char *l = fs_read_all(log, NULL);
            if (l && strlen(l) > 4000) l[4000] = 0;
            str_fail(err, errlen, "g++ failed on the harness build of %s (exit %d)%s:\n%s", name, r,
                 r == 127 ? "; is g++ installed?" : "", l ? l : "");
            free(l);
            unlink(tmp_so);
            goto out;
        }
        if (rename(tmp_so, so) != 0) { str_fail(err, errlen, "cannot move %s into place: %s", so, strerror(errno)); goto out; }
        unlink(cpu);
        unlink(log);
        cache_after_store(dir, so);
        snprintf(x->describe, sizeof x->describe, "CUDA-on-CPU harness (%s, built in %.1f s)", so,
                 (now_ms() - t0) / 1e3);
    } else {
        snprintf(x->describe, sizeof x->describe, "CUDA-on-CPU harness (%s, cache hit)", so);
    }
    x->so = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!x->so) { str_fail(err, errlen, "dlopen %s: %s", so, dlerror()); goto out; }
    x->shim_launch = (ShimLaunchFn)dlsym(x->so, "cuda_shim_launch");
    if (!x->shim_launch) { str_fail(err, errlen, "%s has no cuda_shim_launch", so); goto out; }
    rc = 0;
out:
    free(klist);
    return rc;
}

/* ---- cuda: device, module, stream, cuBLASLt --------------------------- */

#define CU(call, what) (cuda_check(x->dev.api.call, what, err, errlen) != 0)

/* src: compiled by NVRTC for the device; or image: a cubin (whose
 * architecture must be one the device runs) loaded as it is. */
static int gpu_open(CudaExec *x, const char *src, const void *image, size_t image_size, const char *name,
                    const char *cache_dir, char *err, size_t errlen)
{
    char why[1024];
    if (cuda_select("cuda", &x->dev, why, sizeof why) != CUDA_BACKEND_CUDA) return str_fail(err, errlen, "%s", why);
    x->dev_open = 1;
    if (cuda_device_open(&x->dev, err, errlen) != 0) return -1;
    char arch[32];
    snprintf(arch, sizeof arch, "sm_%d%d", x->dev.cc_major, x->dev.cc_minor);
    int r;
    if (image) {
        /* SASS runs on its own major version, at the same or a later minor one */
        int sm = 0;
        if (cuda_cubin_arch(image, image_size, name, &sm, err, errlen) != 0) return -1;
        if (sm / 10 != x->dev.cc_major || sm % 10 > x->dev.cc_minor)
            return str_fail(err, errlen, "%s was built for sm_%d, but CUDA device %d (%s) is %s: make a cubin for it "
                            "with --arch %s, or run the model file, which NVRTC compiles for the device at load time",
                            name, sm, x->dev.ordinal, x->dev.name, arch, arch);
        r = cuda_check(x->dev.api.cuModuleLoadData(&x->mod, image), "cuModuleLoadData", err, errlen);
        snprintf(x->describe, sizeof x->describe, "%s; %s (sm_%d)", why, name, sm);
    } else {
        NvrtcOptions no = {.arch = arch, .ptx = 0, .cache_dir = cache_dir};
        NvrtcOutput out;
        if (nvrtc_compile(src, name, &no, &out, err, errlen) != 0) return -1;
        r = cuda_check(x->dev.api.cuModuleLoadData(&x->mod, out.code), "cuModuleLoadData", err, errlen);
        snprintf(x->describe, sizeof x->describe, "%s; NVRTC %d.%d %s for %s", why, out.major, out.minor,
                 out.cache_hit ? "cache hit" : "compiled", arch);
        nvrtc_output_free(&out);
    }
    if (r) {
        size_t l = strlen(err);
        snprintf(err + l, errlen - l, " (loading %s)", name);
        return -1;
    }
    const char *ge = getenv("UEAJ_CUDA_GRAPHS");
    x->graphs_off = ge && !strcmp(ge, "0");
    size_t dl = strlen(x->describe);
    snprintf(x->describe + dl, sizeof x->describe - dl, "; CUDA graphs %s", x->graphs_off ? "off ($UEAJ_CUDA_GRAPHS=0)"
             : "on (repeated run-time dims replay one captured graph)");
    x->fn = calloc((size_t)x->plan->nsteps + 1, sizeof *x->fn);
    x->gemm = calloc((size_t)x->plan->nsteps * GEMM_SLOTS + 1, sizeof *x->gemm);
    if (!x->fn || !x->gemm) return str_fail(err, errlen, "out of memory");
    int need_lt = 0;
    for (int i = 0; i < x->plan->nsteps; i++) {
        const CudaPlanStep *s = &x->plan->steps[i];
        if (s->kind == CUDA_STEP_GEMM) { need_lt = 1; continue; }
        if (cuda_check(x->dev.api.cuModuleGetFunction(&x->fn[i], x->mod, s->name), "cuModuleGetFunction", err,
                       errlen) != 0) {
            size_t l = strlen(err);
            snprintf(err + l, errlen - l, " (kernel %s)", s->name);
            return -1;
        }
    }
    /* flags 0: a blocking stream, ordered after the synchronous copies on the legacy stream */
    if (CU(cuStreamCreate(&x->stream, 0), "cuStreamCreate")) return -1;
    if (need_lt) {
        /* the loader's search path first, then the toolkit's usual home (err keeps the first reason) */
        static const char *const homes[] = {"/usr/local/cuda/lib64/libcublasLt.so.13",
                                            "/usr/local/cuda/lib64/libcublasLt.so.12", NULL};
        char e2[512];
        int rl = cublaslt_open(&x->lt, NULL, err, errlen);
        for (int k = 0; rl != 0 && !getenv("UEAJ_LIBCUBLASLT") && homes[k]; k++)
            rl = cublaslt_open(&x->lt, homes[k], e2, sizeof e2);
        if (rl != 0) return -1;
        x->lt_open = 1;
        int st = x->lt.cublasLtCreate(&x->lth);
        if (st) return str_fail(err, errlen, "cublasLtCreate: %s", cublas_status_name(st) ? cublas_status_name(st) : "?");
        if (CU(cuMemAlloc(&x->workspace, WORKSPACE_BYTES), "cuMemAlloc(cuBLASLt workspace)")) return -1;
    }
    return 0;
}

static void gemm_cache_clear(CudaExec *x)
{
    for (int i = 0; x->gemm && i < x->plan->nsteps * GEMM_SLOTS; i++)
        if (x->gemm[i].built) { cublaslt_gemm_free(&x->lt, &x->gemm[i].op); x->gemm[i].built = 0; }
}

/* ---- common ----------------------------------------------------------- */

static int dtype_of(const char *s, DType *t)
{
    return dtype_parse(s, t) ? 0 : -1;
}

static CudaExec *exec_open(const char *backend, const char *cu_src, const void *image, size_t image_size,
                           const char *plan_text, const char *name, const char *cache_dir, char *err, size_t errlen);

CudaExec *cuda_exec_open(const char *backend, const char *cu_src, const char *plan_text, const char *name,
                         const char *cache_dir, char *err, size_t errlen)
{
    return exec_open(backend, cu_src, NULL, 0, plan_text, name, cache_dir, err, errlen);
}

CudaExec *cuda_exec_open_cubin(const char *backend, const void *cubin, size_t size, const char *path,
                               const char *cache_dir, char *err, size_t errlen)
{
    int sm;
    if (cuda_cubin_arch(cubin, size, path, &sm, err, errlen) != 0) return NULL;
    char *plan = cuda_plan_from_cubin(cubin, size, path, err, errlen);
    if (!plan) return NULL;
    CudaExec *x = NULL;
    if (backend && !strcmp(backend, "harness")) {
        char *src = cuda_cubin_string(cubin, size, "ueaj_source", path, err, errlen);
        if (src) x = exec_open(backend, src, NULL, 0, plan, path, cache_dir, err, errlen);
        free(src);
    } else {
        x = exec_open(backend, NULL, cubin, size, plan, path, cache_dir, err, errlen);
    }
    free(plan);
    return x;
}

static CudaExec *exec_open(const char *backend, const char *cu_src, const void *image, size_t image_size,
                           const char *plan_text, const char *name, const char *cache_dir, char *err, size_t errlen)
{
    int gpu;
    if (backend && !strcmp(backend, "cuda")) gpu = 1;
    else if (backend && !strcmp(backend, "harness")) gpu = 0;
    else { str_fail(err, errlen, "unknown CUDA executor backend '%s' (cuda or harness)", backend ? backend : "(null)"); return NULL; }
    CudaExec *x = calloc(1, sizeof *x);
    if (!x) { str_fail(err, errlen, "out of memory"); return NULL; }
    x->gpu = gpu;
    x->plan = cuda_plan_parse(plan_text, strlen(plan_text), name, err, errlen);
    if (!x->plan) goto bad;
    x->bytes = calloc((size_t)x->plan->ntensors + 1, sizeof *x->bytes);
    x->offset = calloc((size_t)x->plan->ntensors + 1, sizeof *x->offset);
    x->unused = calloc((size_t)x->plan->ntensors + 1, 1);
    if (!x->bytes || !x->offset || !x->unused) { str_fail(err, errlen, "out of memory"); goto bad; }
    /* temps no step touches (a matmul's product whose add became its epilogue) get no storage */
    for (int i = 0; i < x->plan->ntensors; i++) x->unused[i] = x->plan->tensors[i].kind == 3;
    for (int i = 0; i < x->plan->nsteps; i++) {
        const CudaPlanStep *st = &x->plan->steps[i];
        if (st->kind == CUDA_STEP_LAUNCH)
            for (int q = 0; q < st->nargs; q++) x->unused[st->args[q]] = 0;
        else
            x->unused[st->a] = x->unused[st->b] = x->unused[st->c] = x->unused[st->d] = 0;
    }
    for (int i = 0; i < x->plan->ntensors; i++) {
        DType t;
        if (dtype_of(x->plan->tensors[i].dtype, &t) != 0) {
            str_fail(err, errlen, "%s: tensor %s has dtype %s, which the executor does not store", name,
                 x->plan->tensors[i].name, x->plan->tensors[i].dtype);
            goto bad;
        }
    }
    if ((gpu ? gpu_open(x, cu_src, image, image_size, name, cache_dir, err, errlen)
             : harness_open(x, cu_src, name, cache_dir, err, errlen)) != 0)
        goto bad;
    return x;
bad:
    cuda_exec_close(x);
    return NULL;
}

const CudaPlan *cuda_exec_plan(const CudaExec *x) { return x->plan; }
const char *cuda_exec_describe(const CudaExec *x) { return x->describe; }
size_t cuda_exec_param_bytes(const CudaExec *x) { return x->param_bytes; }
const char *cuda_exec_device_name(const CudaExec *x) { return x->gpu ? x->dev.name : ""; }

static void graphs_clear(CudaExec *x)
{
    for (int k = 0; k < GRAPH_SLOTS; k++) {
        GraphCache *c = &x->graphs[k];
        if (c->exec) x->dev.api.cuGraphExecDestroy(c->exec);
        if (c->graph) x->dev.api.cuGraphDestroy(c->graph);
        memset(c, 0, sizeof *c);
    }
}

static void free_storage(CudaExec *x)
{
    if (x->gpu) {
        graphs_clear(x);
        if (x->arena) x->dev.api.cuMemFree(x->arena);
        x->arena = 0;
        gemm_cache_clear(x);
    } else {
        free(x->host_arena);
        x->host_arena = NULL;
    }
    x->have_dims = 0;
}

/* Sizes every tensor for dyn and (re)allocates the zeroed arena when the
 * dims changed.  *fresh = 1 when the storage is new. */
static int tensor_bytes(const CudaExec *x, int i, const int64_t *dyn, size_t *out, char *err, size_t errlen)
{
    const CudaPlan *p = x->plan;
    const CudaPlanTensor *t = &p->tensors[i];
    if (x->unused[i]) { *out = 0; return 0; }
    DType dt;
    dtype_of(t->dtype, &dt);
    int64_t n = 1;
    for (int a = 0; a < t->rank; a++) {
        int64_t s = t->shape[a] >= 0 ? t->shape[a] : dyn[-1 - t->shape[a]];
        if (s < 0 || (s && n > INT64_MAX / 4 / s)) return str_fail(err, errlen, "tensor %s is too large", t->name);
        n *= s;
    }
    *out = (size_t)n * dtype_size(dt);
    return 0;
}

/* Reserved storage: the run's dims must fit every tensor's storage. */
static int use_reserved(CudaExec *x, const int64_t *dyn, char *err, size_t errlen)
{
    const CudaPlan *p = x->plan;
    for (int i = 0; i < p->ntensors; i++) {
        size_t b;
        if (tensor_bytes(x, i, dyn, &b, err, errlen) != 0) return -1;
        if (b > x->bytes[i])
            return str_fail(err, errlen, "tensor %s needs %zu bytes for these run-time dims, %zu were reserved",
                        p->tensors[i].name, b, x->bytes[i]);
    }
    memcpy(x->dyn, dyn, sizeof(int64_t) * (size_t)p->ndims);
    return 0;
}

/* "3.52 GiB", "69.3 MiB" */
static const char *mem_str(char *out, size_t bytes)
{
    if (bytes >= ((size_t)1 << 30)) snprintf(out, 32, "%.2f GiB", bytes / 1073741824.0);
    else snprintf(out, 32, "%.1f MiB", bytes / 1048576.0);
    return out;
}

static int ensure_storage(CudaExec *x, const int64_t *dyn, int *fresh, char *err, size_t errlen)
{
    const CudaPlan *p = x->plan;
    *fresh = 0;
    if (x->reserved) return use_reserved(x, dyn, err, errlen);
    if (x->have_dims && !memcmp(x->dyn, dyn, sizeof(int64_t) * (size_t)p->ndims)) return 0;
    free_storage(x);
    size_t total = 0, params = 0;
    for (int i = 0; i < p->ntensors; i++)
        if (tensor_bytes(x, i, dyn, &x->bytes[i], err, errlen) != 0) return -1;
    /* a temp that shares (a `share` record) lives at its root's offset; the root's span is the largest of them */
    for (int i = 0; i < p->ntensors; i++) {
        const CudaPlanTensor *t = &p->tensors[i];
        if (t->root != i) continue;
        size_t span = x->bytes[i];
        if (t->lends)
            for (int j = 0; j < p->ntensors; j++)
                if (p->tensors[j].root == i && x->bytes[j] > span) span = x->bytes[j];
        x->offset[i] = total;
        total += (span + 255) & ~(size_t)255;
        if (t->kind == 1) params += x->bytes[i];
    }
    for (int i = 0; i < p->ntensors; i++) x->offset[i] = x->offset[p->tensors[i].root];
    x->arena_bytes = total;
    x->param_bytes = params;
    if (x->gpu) {
        size_t free_b = 0, total_b = 0;
        if (CU(cuMemGetInfo(&free_b, &total_b), "cuMemGetInfo")) return -1;
        size_t need = total + ((size_t)64 << 20);  /* headroom for the context and cuBLASLt */
        if (need > free_b) {
            char a[32], b[32], c[32], d[32];
            return str_fail(err, errlen, "the model needs %s (%s of parameters, %s of activations and caches, 64 MiB "
                            "of headroom), the device has %s free", mem_str(a, need), mem_str(b, params),
                            mem_str(c, total - params), mem_str(d, free_b));
        }
        if (total && CU(cuMemAlloc(&x->arena, total), "cuMemAlloc(tensors)")) return -1;
        if (total && CU(cuMemsetD8(x->arena, 0, total), "cuMemsetD8")) return -1;
    } else {
        x->host_arena = calloc(total ? total : 1, 1);
        if (!x->host_arena) return str_fail(err, errlen, "out of memory for %.2f GiB of tensors", total / 1073741824.0);
    }
    memcpy(x->dyn, dyn, sizeof(int64_t) * (size_t)p->ndims);
    x->have_dims = 1;
    *fresh = 1;
    return 0;
}

static int copy_in(CudaExec *x, int i, const void *src, char *err, size_t errlen)
{
    if (!x->bytes[i]) return 0;
    if (!src) return str_fail(err, errlen, "no host buffer for %s tensor %s", x->plan->tensors[i].kind == 1 ? "param" : "input",
                          x->plan->tensors[i].name);
    if (!x->gpu) { memcpy(x->host_arena + x->offset[i], src, x->bytes[i]); return 0; }
    return cuda_check(x->dev.api.cuMemcpyHtoD(x->arena + x->offset[i], src, x->bytes[i]), "cuMemcpyHtoD", err, errlen);
}

static int copy_out(CudaExec *x, int i, void *dst, char *err, size_t errlen)
{
    if (!x->bytes[i] || !dst) return 0;
    if (!x->gpu) { memcpy(dst, x->host_arena + x->offset[i], x->bytes[i]); return 0; }
    return cuda_check(x->dev.api.cuMemcpyDtoH(dst, x->arena + x->offset[i], x->bytes[i]), "cuMemcpyDtoH", err, errlen);
}

/* The checks that make a gemm safe to run on these tensors. */
static int gemm_prepare(CudaExec *x, int si, GemmDims *g, char *err, size_t errlen)
{
    const CudaPlanStep *s = &x->plan->steps[si];
    if (gemm_dims(s, x->dyn, g, err, errlen) != 0) return -1;
    const int idx[4] = {s->a, s->b, s->d, s->c};
    const char which[4] = {'a', 'b', 'd', 'c'};
    const DType types[4] = {g->atype, g->btype, g->dtype, g->dtype};
    for (int q = 0; q < 4; q++) {
        DType t;
        dtype_of(x->plan->tensors[idx[q]].dtype, &t);
        if (t != types[q])
            return str_fail(err, errlen, "gemm %s: operand %c is %s but tensor %s is %s", s->name, which[q],
                        dtype_name(types[q]), x->plan->tensors[idx[q]].name, x->plan->tensors[idx[q]].dtype);
        int64_t span = gemm_span(g, which[q] == 'c' ? 'd' : which[q]);   /* C has D's layout */
        if (span < 0 || (size_t)span * dtype_size(t) > x->bytes[idx[q]])
            return str_fail(err, errlen, "gemm %s: operand %c spans %lld elements, more than tensor %s holds", s->name,
                        which[q], (long long)span, x->plan->tensors[idx[q]].name);
    }
    return 0;
}

static int run_gemm(CudaExec *x, int si, char *err, size_t errlen)
{
    const CudaPlanStep *s = &x->plan->steps[si];
    if (!x->gpu) {
        GemmDims g;
        if (gemm_prepare(x, si, &g, err, errlen) != 0) return -1;
        return gemm_ref(&g, x->host_arena + x->offset[s->a], x->host_arena + x->offset[s->b],
                        x->host_arena + x->offset[s->c], x->host_arena + x->offset[s->d], err, errlen);
    }
    /* the set-up for the current dims: a slot built for them, else a free one, else slot 0 again */
    GemmCache *slots = &x->gemm[(size_t)si * GEMM_SLOTS], *c = NULL;
    size_t keyb = sizeof(int64_t) * (size_t)x->plan->ndims;
    for (int k = 0; k < GEMM_SLOTS && !c; k++)
        if (slots[k].built && !memcmp(slots[k].key, x->dyn, keyb)) c = &slots[k];
    for (int k = 0; k < GEMM_SLOTS && !c; k++)
        if (!slots[k].built) c = &slots[k];
    if (!c) {
        c = &slots[0];
        cublaslt_gemm_free(&x->lt, &c->op);
        c->built = 0;
    }
    if (!c->built) {
        memcpy(c->key, x->dyn, keyb);
        if (gemm_prepare(x, si, &c->g, err, errlen) != 0) return -1;
        if (c->g.m == 0 || c->g.n == 0) return 0;
        if (cublaslt_gemm_build(&x->lt, &c->g, &c->op, err, errlen) != 0) return -1;
        c->built = 1;
        cublasLtMatmulPreference_t_ pref = NULL;
        cublasLtMatmulHeuristicResult_t_ res;
        memset(&res, 0, sizeof res);
        int returned = 0, st;
        uint64_t ws = WORKSPACE_BYTES;
        if ((st = x->lt.cublasLtMatmulPreferenceCreate(&pref)) != 0)
            return str_fail(err, errlen, "cublasLtMatmulPreferenceCreate: %d", st);
        st = x->lt.cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES_, &ws, sizeof ws);
        if (!st) st = x->lt.cublasLtMatmulAlgoGetHeuristic(x->lth, c->op.desc, c->op.a, c->op.b, c->op.c, c->op.d, pref,
                                                           1, &res, &returned);
        x->lt.cublasLtMatmulPreferenceDestroy(pref);
        if (st) return str_fail(err, errlen, "gemm %s: cublasLtMatmulAlgoGetHeuristic: %s", s->name,
                            cublas_status_name(st) ? cublas_status_name(st) : "?");
        if (returned < 1) return str_fail(err, errlen, "gemm %s: cuBLASLt has no algorithm for this matmul", s->name);
        c->algo = res.algo;
    }
    if (c->g.m == 0 || c->g.n == 0) return 0;
    float alpha = (float)c->g.alpha, beta = (float)c->g.beta;
    void *D = (void *)(uintptr_t)(x->arena + x->offset[s->d]);
    const void *C = (const void *)(uintptr_t)(x->arena + x->offset[s->c]);   /* D itself unless c= */
    int st = x->lt.cublasLtMatmul(x->lth, c->op.desc, &alpha, (const void *)(uintptr_t)(x->arena + x->offset[s->a]),
                                  c->op.a, (const void *)(uintptr_t)(x->arena + x->offset[s->b]), c->op.b, &beta, C,
                                  c->op.c, D, c->op.d, &c->algo, (void *)(uintptr_t)x->workspace, WORKSPACE_BYTES,
                                  x->stream);
    if (st) return str_fail(err, errlen, "gemm %s: cublasLtMatmul: %s", s->name, cublas_status_name(st) ? cublas_status_name(st) : "?");
    return 0;
}

static int run_launch(CudaExec *x, int si, char *err, size_t errlen)
{
    const CudaPlanStep *s = &x->plan->steps[si];
    int64_t geo[7];
    for (int q = 0; q < 3; q++) {
        geo[q] = cuda_plan_eval(&s->grid[q], x->dyn);
        geo[3 + q] = cuda_plan_eval(&s->block[q], x->dyn);
    }
    geo[6] = cuda_plan_eval(&s->smem, x->dyn);
    for (int q = 0; q < 7; q++)
        if (geo[q] < 0 || geo[q] > 0x7fffffff)
            return str_fail(err, errlen, "launch %s: geometry value %lld out of range", s->name, (long long)geo[q]);
    if (!geo[0] || !geo[1] || !geo[2]) return 0;
    struct { long long d[8]; } dims;
    memset(&dims, 0, sizeof dims);
    for (int k = 0; k < x->plan->ndims && k < 8; k++) dims.d[k] = x->dyn[k];
    void *ptrs[CUDA_PLAN_MAX_ARGS];
    CUdeviceptr dptrs[CUDA_PLAN_MAX_ARGS];
    void *params[CUDA_PLAN_MAX_ARGS + 1];
    params[0] = &dims;
    for (int q = 0; q < s->nargs; q++) {
        if (x->gpu) { dptrs[q] = x->arena + x->offset[s->args[q]]; params[q + 1] = &dptrs[q]; }
        else { ptrs[q] = x->host_arena + x->offset[s->args[q]]; params[q + 1] = &ptrs[q]; }
    }
    if (!x->gpu) {
        if (x->shim_launch(s->name, (unsigned)geo[0], (unsigned)geo[1], (unsigned)geo[2], (unsigned)geo[3],
                           (unsigned)geo[4], (unsigned)geo[5], (size_t)geo[6], params) != 0)
            return str_fail(err, errlen, "launch %s: the harness refused it (see above)", s->name);
        return 0;
    }
    CUresult r = x->dev.api.cuLaunchKernel(x->fn[si], (unsigned)geo[0], (unsigned)geo[1], (unsigned)geo[2],
                                           (unsigned)geo[3], (unsigned)geo[4], (unsigned)geo[5], (unsigned)geo[6],
                                           x->stream, params, NULL);
    if (r) {
        cuda_check(r, "cuLaunchKernel", err, errlen);
        size_t l = strlen(err);
        snprintf(err + l, errlen - l, " (kernel %s, grid %lld %lld %lld, block %lld %lld %lld, smem %lld)", s->name,
                 (long long)geo[0], (long long)geo[1], (long long)geo[2], (long long)geo[3], (long long)geo[4],
                 (long long)geo[5], (long long)geo[6]);
        return -1;
    }
    return 0;
}

static int run_steps(CudaExec *x, char *err, size_t errlen)
{
    for (int i = 0; i < x->plan->nsteps; i++) {
        int r = x->plan->steps[i].kind == CUDA_STEP_GEMM ? run_gemm(x, i, err, errlen) : run_launch(x, i, err, errlen);
        if (r != 0) return -1;
    }
    return 0;
}

/* Graphs off for good, with the reason on stderr once; the steps then run one by one. */
static void graphs_fail(CudaExec *x, const char *why)
{
    fprintf(stderr, "ueajc: note: CUDA graph capture failed (%s); running the steps one by one\n", why);
    x->graphs_off = 1;
    graphs_clear(x);
}

/* The steps for the current dims: through a CUDA graph when these dims
 * were seen before (GraphCache), else one by one. */
static int exec_steps(CudaExec *x, char *err, size_t errlen)
{
    if (!x->gpu || x->graphs_off) return run_steps(x, err, errlen);
    const size_t kb = sizeof(int64_t) * (size_t)x->plan->ndims;
    GraphCache *c = NULL;
    for (int k = 0; k < GRAPH_SLOTS && !c; k++)
        if (x->graphs[k].runs && !memcmp(x->graphs[k].key, x->dyn, kb)) c = &x->graphs[k];
    if (c && c->exec) {
        c->runs++;
        return cuda_check(x->dev.api.cuGraphLaunch(c->exec, x->stream), "cuGraphLaunch", err, errlen);
    }
    if (!c) { /* a new set of dims takes the next slot in turn */
        c = &x->graphs[x->graph_next++ % GRAPH_SLOTS];
        if (c->exec) x->dev.api.cuGraphExecDestroy(c->exec);
        if (c->graph) x->dev.api.cuGraphDestroy(c->graph);
        memset(c, 0, sizeof *c);
        memcpy(c->key, x->dyn, kb);
    }
    if (c->runs++ == 0) return run_steps(x, err, errlen);
    char why[600];
    CUresult r = x->dev.api.cuStreamBeginCapture(x->stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL_);
    if (r) {
        cuda_check(r, "cuStreamBeginCapture", why, sizeof why);
        graphs_fail(x, why);
        return run_steps(x, err, errlen);
    }
    int rs = run_steps(x, why, sizeof why);
    CUgraph g = NULL;
    r = x->dev.api.cuStreamEndCapture(x->stream, &g);
    if (!rs && r) cuda_check(r, "cuStreamEndCapture", why, sizeof why);
    if (!rs && !r) {
        r = x->dev.api.cuGraphInstantiateWithFlags(&c->exec, g, 0);
        if (r) cuda_check(r, "cuGraphInstantiateWithFlags", why, sizeof why);
    }
    if (rs || r) {
        if (g) x->dev.api.cuGraphDestroy(g);
        c->exec = NULL;
        graphs_fail(x, why);
        return run_steps(x, err, errlen);
    }
    c->graph = g;
    return cuda_check(x->dev.api.cuGraphLaunch(c->exec, x->stream), "cuGraphLaunch", err, errlen);
}

static int sync_stream(CudaExec *x, char *err, size_t errlen)
{
    if (!x->gpu) return 0;
    return cuda_check(x->dev.api.cuStreamSynchronize(x->stream), "cuStreamSynchronize (a kernel or matmul failed)",
                      err, errlen);
}

int cuda_exec_run(CudaExec *x, void *const *host_bufs, const int64_t *dyn, int upload_params, char *err,
                  size_t errlen)
{
    int fresh;
    if (ensure_storage(x, dyn, &fresh, err, errlen) != 0) return -1;
    const CudaPlan *p = x->plan;
    for (int i = 0; i < p->ntensors; i++) {
        int kind = p->tensors[i].kind;
        if (kind == 0 || kind == 4 || (kind == 1 && (upload_params || fresh)))
            if (copy_in(x, i, host_bufs[i], err, errlen) != 0) return -1;
    }
    if (exec_steps(x, err, errlen) != 0 || sync_stream(x, err, errlen) != 0) return -1;
    for (int i = 0; i < p->ntensors; i++) {
        int kind = p->tensors[i].kind;
        if ((kind == 2 || kind == 4) && copy_out(x, i, host_bufs[i], err, errlen) != 0) return -1;
    }
    return 0;
}

int cuda_exec_reserve(CudaExec *x, const int64_t *max_dyn, char *err, size_t errlen)
{
    int fresh;
    x->reserved = 0;
    free_storage(x);
    if (ensure_storage(x, max_dyn, &fresh, err, errlen) != 0) return -1;
    x->reserved = 1;
    return 0;
}

static int check_copy(const CudaExec *x, int i, size_t bytes, const char *what, char *err, size_t errlen)
{
    if (!x->have_dims) return str_fail(err, errlen, "%s: no storage yet (cuda_exec_reserve or cuda_exec_run first)", what);
    if (i < 0 || i >= x->plan->ntensors) return str_fail(err, errlen, "%s: no tensor %d", what, i);
    if (bytes > x->bytes[i])
        return str_fail(err, errlen, "%s: %zu bytes, tensor %s holds %zu", what, bytes, x->plan->tensors[i].name, x->bytes[i]);
    return 0;
}

int cuda_exec_upload(CudaExec *x, int i, const void *src, size_t bytes, char *err, size_t errlen)
{
    if (check_copy(x, i, bytes, "cuda_exec_upload", err, errlen) != 0) return -1;
    if (!bytes) return 0;
    if (!x->gpu) { memcpy(x->host_arena + x->offset[i], src, bytes); return 0; }
    return cuda_check(x->dev.api.cuMemcpyHtoD(x->arena + x->offset[i], src, bytes), "cuMemcpyHtoD", err, errlen);
}

int cuda_exec_download(CudaExec *x, int i, void *dst, size_t bytes, char *err, size_t errlen)
{
    if (check_copy(x, i, bytes, "cuda_exec_download", err, errlen) != 0) return -1;
    if (!bytes) return 0;
    if (!x->gpu) { memcpy(dst, x->host_arena + x->offset[i], bytes); return 0; }
    return cuda_check(x->dev.api.cuMemcpyDtoH(dst, x->arena + x->offset[i], bytes), "cuMemcpyDtoH", err, errlen);
}

int cuda_exec_steps(CudaExec *x, const int64_t *dyn, double *ms, char *err, size_t errlen)
{
    if (!x->reserved) return str_fail(err, errlen, "cuda_exec_steps: the storage is not reserved (cuda_exec_reserve)");
    if (use_reserved(x, dyn, err, errlen) != 0) return -1;
    if (!x->gpu || !ms) {
        double h0 = now_ms();
        if (exec_steps(x, err, errlen) != 0 || sync_stream(x, err, errlen) != 0) return -1;
        if (ms) *ms = now_ms() - h0;
        return 0;
    }
    if (!x->ev0 && (CU(cuEventCreate(&x->ev0, 0), "cuEventCreate") || CU(cuEventCreate(&x->ev1, 0), "cuEventCreate")))
        return -1;
    float t = 0;
    if (CU(cuEventRecord(x->ev0, x->stream), "cuEventRecord")) return -1;
    if (exec_steps(x, err, errlen) != 0) { char e2[64]; sync_stream(x, e2, sizeof e2); return -1; }
    if (CU(cuEventRecord(x->ev1, x->stream), "cuEventRecord") || CU(cuEventSynchronize(x->ev1), "cuEventSynchronize") ||
        sync_stream(x, err, errlen) != 0 || CU(cuEventElapsedTime(&t, x->ev0, x->ev1), "cuEventElapsedTime"))
        return -1;
    *ms = t;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double u = *(const double *)a, v = *(const double *)b;
    return u < v ? -1 : u > v;
}

int cuda_exec_time(CudaExec *x, int repeat, double *median_ms, char *err, size_t errlen)
{
    if (!x->have_dims) return str_fail(err, errlen, "cuda_exec_time: no run yet");
    if (repeat < 1) repeat = 1;
    double *t = calloc((size_t)repeat, sizeof *t);
    if (!t) return str_fail(err, errlen, "out of memory");
    int rc = -1;
    CUevent e0 = NULL, e1 = NULL;
    if (x->gpu && (CU(cuEventCreate(&e0, 0), "cuEventCreate") || CU(cuEventCreate(&e1, 0), "cuEventCreate"))) goto out;
    for (int r = 0; r < repeat; r++) {
        double h0 = now_ms();
        if (x->gpu && CU(cuEventRecord(e0, x->stream), "cuEventRecord")) goto out;
        if (exec_steps(x, err, errlen) != 0) goto out;
        if (x->gpu) {
            float ms = 0;
            if (CU(cuEventRecord(e1, x->stream), "cuEventRecord") || CU(cuEventSynchronize(e1), "cuEventSynchronize") ||
                CU(cuEventElapsedTime(&ms, e0, e1), "cuEventElapsedTime"))
                goto out;
            t[r] = ms;
        } else {
            t[r] = now_ms() - h0;
        }
    }
    qsort(t, (size_t)repeat, sizeof *t, cmp_double);
    *median_ms = repeat % 2 ? t[repeat / 2] : 0.5 * (t[repeat / 2 - 1] + t[repeat / 2]);
    rc = 0;
out:
    if (e0) x->dev.api.cuEventDestroy(e0);
    if (e1) x->dev.api.cuEventDestroy(e1);
    free(t);
    return rc;
}

void cuda_exec_close(CudaExec *x)
{
    if (!x) return;
    if (x->gpu && x->dev_open && x->dev.ctx) {
        free_storage(x);
        if (x->workspace) x->dev.api.cuMemFree(x->workspace);
        if (x->lth) x->lt.cublasLtDestroy(x->lth);
        if (x->ev0) x->dev.api.cuEventDestroy(x->ev0);
        if (x->ev1) x->dev.api.cuEventDestroy(x->ev1);
        if (x->stream) x->dev.api.cuStreamDestroy(x->stream);
        if (x->mod) x->dev.api.cuModuleUnload(x->mod);
    } else if (!x->gpu) {
        free_storage(x);
    }
    if (x->lt_open) cublaslt_close(&x->lt);
    if (x->dev_open) cuda_device_close(&x->dev);
    if (x->so) dlclose(x->so);
    free(x->fn);
    free(x->gemm);
    free(x->bytes);
    free(x->unused);
    free(x->offset);
    cuda_plan_free(x->plan);
    free(x);
}
