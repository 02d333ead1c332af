/* model_driver.c - `ueajc FILE.ue ...`: read, lower, run the passes, emit.
 *
 *   ueajc FILE.ue --emit=ast|ir|ir-after=PASS|c [--config C] [--dim N=V]
 *   ueajc FILE.ue -o OUT.c | -o OUT.so
 *   ueajc FILE.ue --run "ID ID ..."   run with seed-initialised parameters
 *                                      (a demonstration until checkpoints load)
 *   ... --run ... --device cpu|cuda|harness|auto [--repeat K] [--compare]
 *
 * --device: cpu is the C backend; cuda and harness compile the graph with
 * the CUDA dialect and run its plan through runtime/cuda_exec.c (on a GPU,
 * or on the CPU through the test harness); auto is cuda when cuda_select
 * finds a usable GPU, else cpu with its one-line reason on stderr.  For the
 * CUDA backends the layout pass is re-run with no packing before any host
 * buffer is filled, so parameters are row-major as cuBLASLt reads them.
 * --repeat K times K more forward passes (parameters stay on the device)
 * and prints `time: ...` with the median.  --compare runs the C backend on
 * the same (row-major) graph too and prints the largest differences.
 * Outputs are written to a temporary name and renamed: an error never
 * leaves a half-written file.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cuda_exec.h"
#include "cuda_api.h"
#include "cuda_out.h"
#include "dialect.h"
#include "init.h"
#include "jit_c.h"
#include "model_sema.h"
#include "checkpoint.h"
#include "tensorio.h"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    Buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        for (size_t i = 0; i < n; i++) buf_putc(&b, chunk[i]);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { buf_free(&b); return NULL; }
    *len = b.len;
    return b.p ? buf_take(&b) : calloc(1, 1);
}

/* config.json with the position of a syntax error. */
cJSON *model_read_config(UeajCtx *ctx, const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(errno));
        return NULL;
    }
    const Source *src = source_new(ctx, path, text, len);
    free(text);
    const char *end = NULL;
    cJSON *j = strlen(src->text) == src->len ? cJSON_ParseWithOpts(src->text, &end, 1) : NULL;
    if (!j || !cJSON_IsObject(j)) {
        const char *at = j ? src->text : (end ? end : src->text);
        int line = 1, col = 1;
        for (const char *p = src->text; p < at && *p; p++) {
            if (*p == '\n') { line++; col = 1; } else col++;
        }
        diag_error(ctx, (Span){src, line, col, col}, j ? "config.json must be a JSON object"
                                                       : "invalid JSON in config file");
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) { fprintf(stderr, "ueajc: error: cannot write %s: %s\n", path, strerror(errno)); return -1; }
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "ueajc: error: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Every parameter's checkpoint tensor, as the model file maps it (name,
 * checkpoint shape, float dtype), checked against the checkpoint at once:
 * each missing tensor, wrong shape and wrong dtype is reported, then the
 * tensors nothing loads, as warnings. */
int model_check_weights(const IrGraph *g, const Checkpoint *ck)
{
    CkptExpect *want = calloc((size_t)g->tensors.n + 1, sizeof *want);
    if (!want) { fprintf(stderr, "ueajc: error: out of memory\n"); return -1; }
    int n = 0;
    for (int i = 0; i < g->tensors.n; i++) {
        const IrTensor *t = g->tensors.v[i];
        if (t->kind != TEN_PARAM || !t->load_name) continue;
        want[n].name = t->load_name;
        want[n].rank = t->load_rank;
        memcpy(want[n].shape, t->load_shape, sizeof(int64_t) * (size_t)t->load_rank);
        want[n].need_float = true;
        n++;
    }
    CkptReport rep;
    int rc = ckpt_validate(ck, want, n, &rep);
    if (rep.text) fputs(rep.text, stderr);
    if (rep.oom) fprintf(stderr, "ueajc: error: out of memory checking the checkpoint\n");
    ckpt_report_free(&rep);
    free(want);
    return rc;
}

/* Loads parameter t from the checkpoint by the mapping in the model file:
 * view the checkpoint tensor with load_shape, apply the permutation, then
 * (implicitly) reshape to the declared shape, converting to the storage
 * dtype with one rounding.  Every mismatch names the file and the tensor. */
int model_load_param(const IrTensor *t, const Checkpoint *ck, void *dst)
{
    CkptError err;
    if (ckpt_load_tensor(ck, t->load_name, t->load_rank, t->load_shape, t->load_perm, dst, t->dtype, &err) != 0) {
        fprintf(stderr, "%s (needed by parameter %s)\n", err.msg, t->name);
        return -1;
    }
    return 0;
}

/* Binds an --input NAME=FILE array to input tensor t: rank and fixed sizes
 * must match; run-time dims take their size from the array (and must agree
 * with earlier bindings). */
static int bind_input(const IrGraph *g, const IrTensor *t, const HostTensor *h, const char *path, int64_t *dyn,
                      bool *dyn_set)
{
    if (h->rank != t->rank) {
        fprintf(stderr, "%s: error: input '%s' has %d axes; the model expects %d\n", path, t->name, h->rank, t->rank);
        return -1;
    }
    for (int a = 0; a < t->rank; a++) {
        IrSize s = t->shape[a];
        if (s.dyn >= 0) {
            if (dyn_set[s.dyn] && dyn[s.dyn] != h->shape[a]) {
                fprintf(stderr, "%s: error: axis %d of '%s' is %lld, but the run-time dim '%s' is already %lld\n",
                        path, a, t->name, (long long)h->shape[a], g->dyn_names[s.dyn], (long long)dyn[s.dyn]);
                return -1;
            }
            dyn[s.dyn] = h->shape[a];
            dyn_set[s.dyn] = true;
        } else if (s.c != h->shape[a]) {
            fprintf(stderr, "%s: error: axis %d of '%s' is %lld; the model expects %lld\n", path, a, t->name,
                    (long long)h->shape[a], (long long)s.c);
            return -1;
        }
    }
    return 0;
}

/* Runs the model in-process: parameters from --weights (by the model
 * file's mapping) or initialised by the seed's rules (1-D ones to 1, as HF
 * does for norms); inputs from --input NAME=FILE.npy, else i32 [n] inputs
 * get the --run ids (inputs whose name contains "pos" get 0..n-1).
 * Prints the argmax per row of a 2-D output; --dump writes the first output. */
/* Seed initialisation of every parameter (1-D ones to 1, as HF does for
 * norms), one parameter per task on up to 16 threads, largest first: each
 * parameter has its own random stream, so the values do not depend on the
 * order or the number of threads.  A 1B model takes a minute on one core. */
typedef struct InitJob {
    const IrGraph   *g;
    void *const     *bufs;
    const int64_t   *dyn;
    int             *order;            /* param tensor ids, largest first */
    int              n;
    int              next;             /* the next task (atomic) */
    int              failed;           /* atomic */
} InitJob;

static int64_t tensor_count(const IrTensor *t, const int64_t *dyn, int64_t *shp)
{
    int64_t cnt = 1;
    for (int a = 0; a < t->rank; a++) {
        shp[a] = t->shape[a].dyn >= 0 ? dyn[t->shape[a].dyn] : t->shape[a].c;
        cnt *= shp[a];
    }
    return cnt;
}

static void *init_worker(void *arg)
{
    InitJob *J = arg;
    for (;;) {
        int k = __atomic_fetch_add(&J->next, 1, __ATOMIC_RELAXED);
        if (k >= J->n) break;
        const IrTensor *t = J->g->tensors.v[J->order[k]];
        int64_t shp[IR_MAX_RANK], cnt = tensor_count(t, J->dyn, shp);
        double *v = malloc(sizeof(double) * (size_t)(cnt ? cnt : 1));
        if (!v) { __atomic_store_n(&J->failed, 1, __ATOMIC_RELAXED); continue; }
        if (t->rank < 2) for (int64_t q = 0; q < cnt; q++) v[q] = 1.0;
        else init_param_values(v, t->rank, shp, t->has_var, t->var, 0, t->name);
        for (int64_t q = 0; q < cnt; q++) dtype_store(J->bufs[J->order[k]], t->dtype, (size_t)q, v[q]);
        free(v);
    }
    return NULL;
}

static int init_params_parallel(const IrGraph *g, void *const *bufs, const int64_t *dyn)
{
    InitJob J = {g, bufs, dyn, calloc((size_t)g->tensors.n + 1, sizeof(int)), 0, 0, 0};
    if (!J.order) return -1;
    int64_t *size = calloc((size_t)g->tensors.n + 1, sizeof *size), shp[IR_MAX_RANK];
    if (!size) { free(J.order); return -1; }
    for (int i = 0; i < g->tensors.n; i++) {
        const IrTensor *t = g->tensors.v[i];
        if (t->kind != TEN_PARAM) continue;
        size[i] = tensor_count(t, dyn, shp);
        int q = J.n++;
        while (q > 0 && size[J.order[q - 1]] < size[i]) { J.order[q] = J.order[q - 1]; q--; }
        J.order[q] = i;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (int)ncpu;
    if (nt > J.n) nt = J.n > 0 ? J.n : 1;
    pthread_t th[16];
    int started = 0;
    for (int k = 1; k < nt; k++)
        if (pthread_create(&th[started], NULL, init_worker, &J) == 0) started++;
    init_worker(&J);
    for (int k = 0; k < started; k++) pthread_join(th[k], NULL);
    free(size);
    free(J.order);
    return J.failed ? -1 : 0;
}

typedef struct RunResult {               /* the first output, widened (for --compare) */
    double  *v;
    int64_t  n, rows, cols;
} RunResult;

/* Bytes of the parameters a forward pass reads in full: all but tables
 * that are only gathered from (embedding lookups read a few rows). */
static size_t streamed_param_bytes(const IrGraph *g, const int64_t *dyn)
{
    size_t total = 0;
    for (int i = 0; i < g->tensors.n; i++) {
        const IrTensor *t = g->tensors.v[i];
        if (t->kind != TEN_PARAM || ir_lookup_only(g, t)) continue;
        size_t c = dtype_size(t->dtype);
        for (int a = 0; a < t->rank; a++) c *= (size_t)(t->shape[a].dyn >= 0 ? dyn[t->shape[a].dyn] : t->shape[a].c);
        total += c;
    }
    return total;
}

/* `time: phase=P backend=B DIM=V ... repeat=K median_ms=X param_bytes=ALL
 * weight_bytes=READ device="NAME"` (tools/gpu_check.sh reads it). */
static void print_time(const char *phase, const char *backend, const char *device, const IrGraph *g, const int64_t *dyn,
                       int repeat, double ms, size_t param_bytes)
{
    printf("time: phase=%s backend=%s", phase, backend);
    for (int i = 0; i < g->ndyn; i++) printf(" %s=%lld", g->dyn_names[i], (long long)dyn[i]);
    printf(" repeat=%d median_ms=%.4f param_bytes=%zu weight_bytes=%zu device=\"%s\"\n", repeat, ms, param_bytes,
           streamed_param_bytes(g, dyn), device);
}

/* --decode K: after the run of n tokens, K timed passes of one token (the
 * last id again) at position n, on the KV cache the run left.  The plan's
 * only run-time dim must be the token count (fix C and m with --dim). */
static int time_decode(const IrGraph *g, CudaExec *x, void **bufs, void **hb, const int64_t *dyn, const int64_t *ids,
                       int nids, const ModelOptions *o, const char *backend, char *err, size_t errlen)
{
    if (g->ndyn != 1) {
        snprintf(err, errlen, "needs the token count as the only run-time dim: fix the others with --dim "
                              "(for models/llama.ue: --dim C=CONTEXT --dim m=1)");
        return -1;
    }
    int32_t tok = (int32_t)(nids > 0 ? ids[nids - 1] : 0), pos = (int32_t)dyn[0];
    for (int i = 0; i < g->tensors.n; i++) {
        const IrTensor *t = g->tensors.v[i];
        if (t->kind != TEN_INPUT) continue;
        if (t->dtype != DT_I32 || t->rank != 1 || t->shape[0].dyn != 0) {
            snprintf(err, errlen, "input %s is not an i32 [n] vector of token ids or positions", t->name);
            return -1;
        }
        *(int32_t *)bufs[i] = strstr(t->name, "pos") ? pos : tok;
    }
    /* one pass with parameters uploaded again (the storage is re-laid for n = 1), then the timed
     * ones; the run's outputs stay as they are (they are printed and dumped after this) */
    void **hb1 = malloc(sizeof *hb1 * (size_t)cuda_exec_plan(x)->ntensors);
    if (!hb1) { snprintf(err, errlen, "out of memory"); return -1; }
    for (int i = 0; i < cuda_exec_plan(x)->ntensors; i++)
        hb1[i] = i < g->tensors.n && ((IrTensor *)g->tensors.v[i])->kind == TEN_OUTPUT ? NULL : hb[i];
    int64_t dyn1[1] = {1};
    int rc = cuda_exec_run(x, hb1, dyn1, 1, err, errlen);
    free(hb1);
    if (rc != 0) return -1;
    double med;
    if (cuda_exec_time(x, o->decode, &med, err, errlen) != 0) return -1;
    char phase[64];
    snprintf(phase, sizeof phase, "decode@%d", pos);
    print_time(phase, backend, cuda_exec_device_name(x), g, dyn1, o->decode, med, cuda_exec_param_bytes(x));
    return 0;
}

static int model_run(UeajCtx *ctx, IrGraph *g, const char *csrc, const char *cu_src, const char *plan,
                     const ModelOptions *o, const char *backend, RunResult *res)
{
    int64_t ids[4096];
    int n = 0;
    for (const char *p = o->run ? o->run : ""; *p && n < 4096;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) { fprintf(stderr, "ueajc: error: --run expects token ids, e.g. \"1 2 3\"\n"); return 1; }
        ids[n++] = v;
        p = end;
        while (*p == ' ' || *p == ',') p++;
    }
    int status = 1;
    int64_t dyn[16] = {0};
    bool dyn_set[16] = {false};
    HostTensor *inputs = calloc((size_t)o->ninputs + 1, sizeof *inputs);
    void **bufs = calloc((size_t)g->tensors.n, sizeof *bufs);
    int *root = calloc((size_t)g->tensors.n + 1, sizeof *root); /* temps share buffers (memplan.c) */
    Checkpoint *ck = NULL;
    CkptError cerr;
    JitModule jm = {0};
    CudaExec *x = NULL;
    void **hb = NULL;
    IrTensor *out = NULL;
    size_t total_param = 0;
    TioError terr;
    char err[8192];
    if (!inputs || !bufs || !root) goto done;
    /* inputs first: they fix the run-time dims */
    for (int k = 0; k < o->ninputs; k++) {
        IrTensor *t = NULL;
        for (int i = 0; i < g->tensors.n; i++) {
            IrTensor *c = g->tensors.v[i];
            if (c->kind == TEN_INPUT && !strcmp(c->name, o->inputs[k].key)) t = c;
        }
        if (!t) { fprintf(stderr, "ueajc: error: --input %s: the model has no input named '%s'\n", o->inputs[k].key, o->inputs[k].key); goto done; }
        if (tio_read_npy(o->inputs[k].val, &inputs[k], &terr) != 0) { fprintf(stderr, "%s\n", terr.msg); goto done; }
        if (bind_input(g, t, &inputs[k], o->inputs[k].val, dyn, dyn_set) != 0) goto done;
    }
    for (int i = 0; i < g->ndyn; i++)
        if (!dyn_set[i]) {
            if (n == 0) {
                fprintf(stderr, "ueajc: error: the run-time dim '%s' is not set: give --run \"IDS\" or an --input "
                                "that has it\n", g->dyn_names[i]);
                goto done;
            }
            dyn[i] = n;
        }
    if (o->weights) {
        if (ckpt_open(o->weights, &ck, &cerr) != 0) { fprintf(stderr, "%s\n", cerr.msg); goto done; }
        if (model_check_weights(g, ck) != 0) goto done;
    }
    if (ir_alloc_buffers(ctx, g, dyn, bufs, root, NULL, NULL) != 0) {
        fprintf(stderr, "ueajc: error: out of memory for the model's buffers\n");
        goto done;
    }
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        int64_t cnt = 1;
        for (int a = 0; a < t->rank; a++) cnt *= t->shape[a].dyn >= 0 ? dyn[t->shape[a].dyn] : t->shape[a].c;
        if (t->kind == TEN_OUTPUT && !out) out = t;
        if (t->kind == TEN_PARAM && ck) {
            if (!t->load_name) { fprintf(stderr, "ueajc: error: parameter %s has no 'load' mapping\n", t->name); goto done; }
            if (model_load_param(t, ck, bufs[i]) != 0) goto done;
            total_param += (size_t)cnt;
        } else if (t->kind == TEN_PARAM) {
            total_param += (size_t)cnt;     /* filled below, in parallel */
        } else if (t->kind == TEN_INPUT) {
            int k = 0;
            while (k < o->ninputs && strcmp(o->inputs[k].key, t->name)) k++;
            if (k < o->ninputs) {
                dtype_convert(bufs[i], t->dtype, inputs[k].data, inputs[k].dtype, (size_t)cnt);
            } else if (t->dtype == DT_I32 && t->rank == 1 && n > 0 && cnt == n) {
                int is_pos = strstr(t->name, "pos") != NULL;
                for (int q = 0; q < n; q++) ((int32_t *)bufs[i])[q] = (int32_t)(is_pos ? q : ids[q]);
            } else {
                fprintf(stderr, "ueajc: error: no value for input '%s': give --input %s=FILE.npy\n", t->name, t->name);
                goto done;
            }
        }
    }
    if (!ck && init_params_parallel(g, bufs, dyn) != 0) { fprintf(stderr, "ueajc: error: out of memory initialising parameters\n"); goto done; }
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        int64_t cnt = 1;
        for (int a = 0; a < t->rank; a++) cnt *= t->shape[a].dyn >= 0 ? dyn[t->shape[a].dyn] : t->shape[a].c;
        if (ir_pack_buffer(t, &bufs[i], cnt) != 0) { fprintf(stderr, "ueajc: error: out of memory for %s\n", t->name); goto done; }
    }
    /* ids must index the tables they are looked up in */
    for (int i = 0; i < g->nodes.n; i++) {
        IrNode *nd = g->nodes.v[i];
        if (nd->op != OP_EMBED) continue;
        int64_t V = nd->in[0]->shape[0].c, cnt = nd->in[1]->shape[0].dyn >= 0 ? dyn[nd->in[1]->shape[0].dyn] : nd->in[1]->shape[0].c;
        for (int64_t q = 0; q < cnt; q++) {
            int32_t id = ((int32_t *)bufs[nd->in[1]->id])[q];
            if (id < 0 || id >= V) {
                fprintf(stderr, "ueajc: error: id %d at position %lld of '%s' is outside the table '%s' (0..%lld)\n",
                        id, (long long)q, nd->in[1]->name, nd->in[0]->name, (long long)V - 1);
                goto done;
            }
        }
    }
    if (!strcmp(backend, "cpu")) {
        if (jit_c_load(csrc, o->copt.cache_dir, o->copt.cc, o->copt.verbose, &jm, err, sizeof err) != 0) {
            fprintf(stderr, "ueajc: error: %s\n", err);
            goto done;
        }
        if (o->copt.verbose)
            fprintf(stderr, "ueajc: running %s: %zu parameters %s\n", g->name, total_param,
                    ck ? "loaded from the checkpoint" : "initialised by the seed's rules (seed 0)");
        jm.forward(bufs, dyn);
        if (o->repeat > 0) {
            double *t = calloc((size_t)o->repeat, sizeof *t), med;
            if (!t) goto done;
            for (int r = 0; r < o->repeat; r++) {
                struct timespec a, b;
                clock_gettime(CLOCK_MONOTONIC, &a);
                jm.forward(bufs, dyn);
                clock_gettime(CLOCK_MONOTONIC, &b);
                t[r] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
            }
            for (int i = 1; i < o->repeat; i++) /* insertion sort: small K */
                for (int j = i; j > 0 && t[j] < t[j - 1]; j--) { double w = t[j]; t[j] = t[j - 1]; t[j - 1] = w; }
            med = o->repeat % 2 ? t[o->repeat / 2] : 0.5 * (t[o->repeat / 2 - 1] + t[o->repeat / 2]);
            free(t);
            size_t pb = 0;
            for (int i = 0; i < g->tensors.n; i++) {
                const IrTensor *t2 = g->tensors.v[i];
                if (t2->kind != TEN_PARAM) continue;
                size_t c2 = dtype_size(t2->dtype);
                for (int a = 0; a < t2->rank; a++) c2 *= (size_t)(t2->shape[a].dyn >= 0 ? dyn[t2->shape[a].dyn] : t2->shape[a].c);
                pb += c2;
            }
            print_time("run", "cpu", "", g, dyn, o->repeat, med, pb);
        }
    } else {
        char name[128];
        snprintf(name, sizeof name, "%s.cu", g->name ? g->name : "model");
        x = cuda_exec_open(backend, cu_src, plan, name, o->copt.cache_dir, err, sizeof err);
        if (!x) { fprintf(stderr, "ueajc: error: --device %s: %s\n", backend, err); goto done; }
        const CudaPlan *pl = cuda_exec_plan(x);
        if (pl->ntensors < g->tensors.n || pl->ndims != g->ndyn) {
            fprintf(stderr, "ueajc: error: the CUDA plan's tensors or dims do not match the graph\n");
            goto done;
        }
        for (int i = 0; i < g->tensors.n; i++)
            if (strcmp(pl->tensors[i].name, ((IrTensor *)g->tensors.v[i])->name)) {
                fprintf(stderr, "ueajc: error: plan tensor %d is %s, the graph's is %s\n", i, pl->tensors[i].name,
                        ((IrTensor *)g->tensors.v[i])->name);
                goto done;
            }
        if (o->copt.verbose) fprintf(stderr, "ueajc: %s\n", cuda_exec_describe(x));
        hb = calloc((size_t)pl->ntensors + 1, sizeof *hb);
        if (!hb) goto done;
        for (int i = 0; i < g->tensors.n; i++) hb[i] = bufs[i];
        if (cuda_exec_run(x, hb, dyn, 1, err, sizeof err) != 0) {
            fprintf(stderr, "ueajc: error: --device %s: %s\n", backend, err);
            goto done;
        }
        if (o->repeat > 0) {
            double med;
            if (cuda_exec_time(x, o->repeat, &med, err, sizeof err) != 0) {
                fprintf(stderr, "ueajc: error: --device %s: timing: %s\n", backend, err);
                goto done;
            }
            print_time("run", backend, cuda_exec_device_name(x), g, dyn, o->repeat, med, cuda_exec_param_bytes(x));
        }
        if (o->decode > 0 && time_decode(g, x, bufs, hb, dyn, ids, n, o, backend, err, sizeof err) != 0) {
            fprintf(stderr, "ueajc: error: --decode: %s\n", err);
            goto done;
        }
    }
    if (!out) { status = 0; goto done; }
    HostTensor ht = {0};
    ht.dtype = out->dtype;
    ht.rank = out->rank;
    int64_t total = 1;
    for (int a = 0; a < out->rank; a++) {
        ht.shape[a] = out->shape[a].dyn >= 0 ? dyn[out->shape[a].dyn] : out->shape[a].c;
        total *= ht.shape[a];
    }
    ht.data = bufs[out->id];
    ht.nbytes = (size_t)total * dtype_size(out->dtype);
    ht.view = 1;
    if (out->rank == 2 && out->dtype == DT_F32 && ht.shape[1] > 0) {
        int64_t R = ht.shape[0], V = ht.shape[1];
        const float *lg = bufs[out->id];
        printf("%s [%lld, %lld]: argmax per row:", out->name, (long long)R, (long long)V);
        for (int64_t q = 0; q < R; q++) {
            int64_t best = 0;
            for (int64_t j = 1; j < V; j++) if (lg[q * V + j] > lg[q * V + best]) best = j;
            printf(" %lld", (long long)best);
        }
        printf("\n");
    }
    if (res) {
        res->n = total;
        res->rows = out->rank == 2 ? ht.shape[0] : 1;
        res->cols = out->rank == 2 ? ht.shape[1] : total;
        res->v = malloc(sizeof(double) * (size_t)(total ? total : 1));
        if (!res->v) goto done;
        for (int64_t q = 0; q < total; q++) res->v[q] = dtype_load(bufs[out->id], out->dtype, (size_t)q);
    }
    if (o->dump && tio_write_npy(o->dump, &ht, &terr) != 0) { fprintf(stderr, "%s\n", terr.msg); goto done; }
    status = 0;
done:
    ir_free_buffers(g, bufs, root);
    free(bufs);
    free(root);
    for (int k = 0; inputs && k < o->ninputs; k++) tio_tensor_free(&inputs[k]);
    free(inputs);
    ckpt_close(ck);
    jit_c_close(&jm);
    cuda_exec_close(x);
    free(hb);
    (void)ctx;
    return status;
}

/* The largest differences between the C backend's output and another's. */
static void print_compare(const char *backend, const RunResult *ref, const RunResult *got)
{
    if (!ref->v || !got->v || ref->n != got->n) { printf("compare: the outputs differ in size\n"); return; }
    double dmax = 0, amax = 0, rel = 0;
    for (int64_t q = 0; q < ref->n; q++) {
        double d = fabs(ref->v[q] - got->v[q]), a = fabs(ref->v[q]);
        if (d > dmax || d != d) dmax = d;
        if (a > amax) amax = a;
        if (d / (a > 1e-30 ? a : 1e-30) > rel && a > 1e-6) rel = d / a;
    }
    int64_t same = 0;
    for (int64_t r = 0; r < ref->rows; r++) {
        int64_t b1 = 0, b2 = 0;
        for (int64_t c = 1; c < ref->cols; c++) {
            if (ref->v[r * ref->cols + c] > ref->v[r * ref->cols + b1]) b1 = c;
            if (got->v[r * got->cols + c] > got->v[r * got->cols + b2]) b2 = c;
        }
        same += b1 == b2;
    }
    printf("compare cpu vs %s: %lld values, max |diff| %.3g, max |cpu| %.3g, max |diff|/max |cpu| %.3g, "
           "max elementwise rel %.3g (|cpu| > 1e-6), argmax equal in %lld/%lld rows\n", backend,
           (long long)ref->n, dmax, amax, amax > 0 ? dmax / amax : dmax, rel, (long long)same, (long long)ref->rows);
}

/* --device: picks the backend, compiles the CUDA dialect when needed (after
 * re-running the layout pass with no packing, before any buffer is filled)
 * and runs; with --compare, the C backend on the same graph as well. */
static int model_run_device(UeajCtx *ctx, IrGraph *g, const char *csrc_packed, const ModelOptions *o)
{
    const char *dev = o->device ? o->device : "cpu";
    if (!strcmp(dev, "auto")) {
        char why[1024];
        dev = cuda_auto_device(why, sizeof why);
        fprintf(stderr, "ueajc: --device auto: %s\n", why);
    }
    if (!strcmp(dev, "cpu") && !o->compare) return model_run(ctx, g, csrc_packed, NULL, NULL, o, "cpu", NULL);
    if (!strcmp(dev, "cpu")) dev = "harness";
    ctx->opt.no_pack = 1;
    pass_layout(ctx, g);
    char *plan = NULL;
    char *cu = emit_source_plan(ctx, g, &dialect_cuda, &plan);
    int status = 1;
    if (!o->compare) {
        status = model_run(ctx, g, NULL, cu, plan, o, dev, NULL);
    } else {
        char *csrc = emit_source(ctx, g, &dialect_c);
        RunResult ref = {0}, got = {0};
        ModelOptions o2 = *o;
        o2.dump = NULL;
        o2.repeat = 0;
        if (model_run(ctx, g, csrc, NULL, NULL, &o2, "cpu", &ref) == 0 &&
            model_run(ctx, g, NULL, cu, plan, o, dev, &got) == 0) {
            print_compare(dev, &ref, &got);
            status = 0;
        }
        free(ref.v);
        free(got.v);
        free(csrc);
    }
    free(plan);
    free(cu);
    return status;
}

int ueaj_model_main(const ModelOptions *o)
{
    UeajCtx *ctx = ueaj_ctx_new(&o->copt);
    if (!ctx) return 1;
    int status = 1;
    cJSON *config = NULL;
    char *csrc = NULL;
    size_t len;
    char *text = read_file(o->path, &len);
    if (!text) {
        fprintf(stderr, "%s: error: cannot read: %s\n", o->path, strerror(errno));
        ueaj_ctx_free(ctx);
        return 1;
    }
    const Source *src = source_new(ctx, o->path, text, len);
    free(text);
    Program *p = parse_model(ctx, src);
    if (!p) goto out;
    if (o->emit && !strcmp(o->emit, "ast")) {
        Buf d;
        buf_init(&d);
        ast_dump_program(&d, p);
        fputs(d.p ? d.p : "", stdout);
        buf_free(&d);
        status = 0;
        goto out;
    }
    if (o->config && !(config = model_read_config(ctx, o->config))) goto out;
    IrGraph *g = model_lower(ctx, p, config, o);
    if (!g) goto out;
    const char *stop = NULL;
    if (o->emit && !strncmp(o->emit, "ir-after=", 9)) {
        stop = o->emit + 9;
        const PassInfo *pi = ueaj_passes;
        while (pi->name && strcmp(pi->name, stop)) pi++;
        if (!pi->name) { fprintf(stderr, "ueajc: error: --emit=ir-after=%s: no such pass\n", stop); goto out; }
    }
    Buf dump;
    buf_init(&dump);
    int r = run_passes(ctx, g, stop, &dump);
    if (r < 0) { buf_free(&dump); goto out; }
    if (r == 1 || (o->emit && !strcmp(o->emit, "ir"))) {
        if (r != 1) ir_dump(&dump, g);
        fputs(dump.p ? dump.p : "", stdout);
        buf_free(&dump);
        status = 0;
        goto out;
    }
    buf_free(&dump);
    if (cuda_is_emit(o->emit) || (!o->emit && cuda_is_output(o->out_path) && !o->run && !o->ninputs)) {
        status = cuda_job(ctx, g, o->emit, o->out_path, o->arch, &o->copt);
        goto out;
    }
    csrc = emit_source(ctx, g, &dialect_c);
    if (o->emit && !strcmp(o->emit, "c")) { fputs(csrc, stdout); status = 0; goto out; }
    if (o->emit && !strcmp(o->emit, "c-kernels")) {
        printf("/* (the fixed prelude of templates/c_prelude.h.in is omitted: --emit=c shows it) */\n");
        fputs(emit_skip_prelude(csrc), stdout);
        status = 0;
        goto out;
    }
    if (o->emit) {
        fprintf(stderr, "ueajc: error: --emit=%s: unknown stage (ast, ir, ir-after=PASS, c, c-kernels, cuda, "
                        "cuda-kernels, plan, ptxas)\n", o->emit);
        goto out;
    }
    if (o->run || o->ninputs) { status = model_run_device(ctx, g, csrc, o); goto out; }
    if (has_suffix(o->out_path, ".c")) {
        status = write_atomic(o->out_path, csrc) == 0 ? 0 : 1;
    } else if (has_suffix(o->out_path, ".so")) {
        char err[8192];
        if (jit_c_compile_to(csrc, o->out_path, o->copt.cc, err, sizeof err) != 0) fprintf(stderr, "ueajc: error: %s\n", err);
        else status = 0;
    } else {
        fprintf(stderr, "ueajc: error: %s: unknown output type (.c, .so, .cu, .ptx or .cubin)\n", o->out_path);
    }
out:
    ueaj_diag_render(ctx, stderr);
    if (ueaj_error_count(ctx)) status = 1;
    cJSON_Delete(config);
    free(csrc);
    ueaj_ctx_free(ctx);
    return status;
}
