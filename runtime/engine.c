/* engine.c - compile a generative model file once, then run it call by call.
 *
 * engine_new(): parse and lower the model file with config.json (the
 * compiler), run the passes, emit C, compile it through the JIT cache,
 * allocate one buffer per tensor (run-time dims at their largest: n =
 * max_batch tokens, C = ctx_len), load every parameter from the checkpoint
 * by the model file's mapping, and zero the state (the KV cache).
 * engine_forward(): set tokens/pos, call the generated entry point with the
 * actual n, return the logits.  Buffers whose leading axis is n are laid
 * out row-major, so a call with fewer tokens uses a prefix of them.
 *
 * The compilation context (and so the IR) lives as long as the engine.
 *
 * EngineOptions.device cuda or harness: the graph is compiled in the CUDA
 * dialect with no weight packing and run by a CudaExec whose storage is
 * reserved once at the largest dims; parameters are uploaded once (their
 * host copies freed), the state (KV cache) lives only on the device, and
 * each call uploads tokens and pos and downloads the logits rows it asked
 * for.  auto: cuda_select's choice, its line on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cuda_api.h"
#include "cuda_exec.h"
#include "dialect.h"
#include "engine.h"
#include "init.h"
#include "jit_c.h"
#include "model_sema.h"
#include "checkpoint.h"
#include "tensorio.h"

struct Engine {
    UeajCtx    *ctx;
    IrGraph    *g;
    JitModule   jm;
    void      **bufs;
    int64_t     dyn[16];
    int         dim_n, dim_c, dim_m; /* indices of the run-time dims n, C, m (-1: absent) */
    int64_t     rows;                /* rows of logits of the last call */
    int         threads, cur_threads; /* -t (0: all cores); the count last set */
    IrTensor   *tokens, *pos, *logits;
    int64_t     vocab, ctx_len, max_batch;
    size_t      weight_bytes;
    cJSON      *config;
    CudaExec   *x;                   /* device cuda/harness: the plan's executor (NULL: the C backend) */
    char        device[16];          /* "cpu", "cuda" or "harness" (auto resolved) */
    double      device_ms;           /* the executor's time for the steps of every call so far */
};

static IrTensor *find_tensor(IrGraph *g, const char *name, TenKind k)
{
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        if (t->kind == k && (!name || !strcmp(t->name, name))) return t;
    }
    return NULL;
}

static int64_t size_of(const Engine *e, IrSize s) { return s.dyn >= 0 ? e->dyn[s.dyn] : s.c; }

Engine *engine_new(const EngineOptions *o, char *err, size_t errlen)
{
    Engine *e = calloc(1, sizeof *e);
    if (!e) { snprintf(err, errlen, "out of memory"); return NULL; }
    const char *dev = o->device && *o->device ? o->device : "cpu";
    if (!strcmp(dev, "auto")) {
        char why[1024];
        dev = cuda_auto_device(why, sizeof why);
        fprintf(stderr, "ueajc: --device auto: %s\n", why);
    } else if (strcmp(dev, "cpu") && strcmp(dev, "cuda") && strcmp(dev, "harness")) {
        snprintf(err, errlen, "--device %s: unknown device (cpu, cuda, harness or auto)", dev);
        free(e);
        return NULL;
    }
    snprintf(e->device, sizeof e->device, "%s", dev);
    const int on_dev = strcmp(dev, "cpu") != 0;
    UeajOptions copt = o->copt;
    if (on_dev) copt.no_pack = 1;   /* cuBLASLt reads the weights row-major */
    e->ctx = ueaj_ctx_new(&copt);
    char *csrc = NULL, *plan = NULL;
    Checkpoint *ck = NULL;
    if (!e->ctx) goto fail;
    const Source *src = source_new(e->ctx, o->model_name, o->model_src, strlen(o->model_src));
    Program *p = parse_model(e->ctx, src);
    if (!p) { snprintf(err, errlen, "%s has errors", o->model_name); goto fail; }
    if (o->config_path && !(e->config = model_read_config(e->ctx, o->config_path))) {
        snprintf(err, errlen, "cannot use %s", o->config_path);
        goto fail;
    }
    ModelOptions mo;
    memset(&mo, 0, sizeof mo);
    mo.path = o->model_name;
    mo.copt = o->copt;
    e->g = model_lower(e->ctx, p, e->config, &mo);
    if (!e->g || run_passes(e->ctx, e->g, NULL, NULL) != 0) {
        snprintf(err, errlen, "%s does not compile for this checkpoint", o->model_name);
        goto fail;
    }
    IrGraph *g = e->g;
    e->dim_n = e->dim_c = e->dim_m = -1;
    for (int i = 0; i < g->ndyn; i++) {
        if (!strcmp(g->dyn_names[i], "n")) e->dim_n = i;
        else if (!strcmp(g->dyn_names[i], "C")) e->dim_c = i;
        else if (!strcmp(g->dyn_names[i], "m")) e->dim_m = i;
        else {
            snprintf(err, errlen, "%s: the run-time dim '%s' is not one a generative model has (n, C, m)",
                     o->model_name, g->dyn_names[i]);
            goto fail;
        }
    }
    e->tokens = find_tensor(g, "tokens", TEN_INPUT);
    e->pos = find_tensor(g, "pos", TEN_INPUT);
    e->logits = find_tensor(g, NULL, TEN_OUTPUT);
    if (e->dim_n < 0 || !e->tokens || !e->pos || !e->logits || e->logits->rank != 2 || e->logits->dtype != DT_F32 ||
        e->tokens->dtype != DT_I32 || e->pos->dtype != DT_I32) {
        snprintf(err, errlen, "%s is not a generative model: it needs dim n = runtime, input tokens[n] : i32, "
                              "input pos[n] : i32 and an f32 output [n, V]", o->model_name);
        goto fail;
    }
    for (int i = 0; i < g->tensors.n; i++) { /* a call with fewer tokens uses a prefix of each buffer */
        IrTensor *t = g->tensors.v[i];
        for (int a = 1; a < t->rank; a++)
            if (t->shape[a].dyn == e->dim_n || (e->dim_m >= 0 && t->shape[a].dyn == e->dim_m)) {
                snprintf(err, errlen, "%s: tensor %s has the token dim n on axis %d; it must be the first axis",
                         o->model_name, t->name, a);
                goto fail;
            }
    }
    e->max_batch = o->max_batch > 0 ? o->max_batch : 512;
    e->ctx_len = o->ctx_len > 0 ? o->ctx_len : 4096;
    e->dyn[e->dim_n] = e->max_batch;
    if (e->dim_c >= 0) e->dyn[e->dim_c] = e->ctx_len;
    if (e->dim_m >= 0) e->dyn[e->dim_m] = e->max_batch;
    e->vocab = e->logits->shape[1].c;

    if (!on_dev) {
        csrc = emit_source(e->ctx, g, &dialect_c);
        if (jit_c_load(csrc, o->copt.cache_dir, o->copt.cc, o->verbose, &e->jm, err, errlen) != 0) goto fail;
    } else {
        char e2[1800];
        csrc = emit_source_plan(e->ctx, g, &dialect_cuda, &plan);
        if (!csrc || !plan) { snprintf(err, errlen, "%s: the CUDA dialect cannot emit this graph", o->model_name); goto fail; }
        char name[128];
        snprintf(name, sizeof name, "%s.cu", g->name ? g->name : "model");
        if (!(e->x = cuda_exec_open(dev, csrc, plan, name, o->copt.cache_dir, e2, sizeof e2))) {
            snprintf(err, errlen, "--device %s: %s", dev, e2);
            goto fail;
        }
        const CudaPlan *pl = cuda_exec_plan(e->x);
        if (pl->ntensors < g->tensors.n || pl->ndims != g->ndyn) {
            snprintf(err, errlen, "the CUDA plan's tensors or dims do not match the graph");
            goto fail;
        }
        for (int i = 0; i < pl->ntensors; i++) {
            if (i < g->tensors.n && strcmp(pl->tensors[i].name, ((IrTensor *)g->tensors.v[i])->name)) {
                snprintf(err, errlen, "plan tensor %d is %s, the graph's is %s", i, pl->tensors[i].name,
                         ((IrTensor *)g->tensors.v[i])->name);
                goto fail;
            }
            for (int a = 1; a < pl->tensors[i].rank; a++) /* the plan's own tensors: a prefix per call too */
                if (pl->tensors[i].shape[a] == -1 - e->dim_n || (e->dim_m >= 0 && pl->tensors[i].shape[a] == -1 - e->dim_m)) {
                    snprintf(err, errlen, "%s: plan tensor %s has the token dim on axis %d; it must be the first axis",
                             o->model_name, pl->tensors[i].name, a);
                    goto fail;
                }
        }
        if (cuda_exec_reserve(e->x, e->dyn, e2, sizeof e2) != 0) {
            snprintf(err, errlen, "--device %s: %s", dev, e2);
            goto fail;
        }
        if (o->verbose) fprintf(stderr, "ueajc: %s\n", cuda_exec_describe(e->x));
    }
    e->threads = o->threads;
    if (o->weights) {   /* a model directory (one file or shards + index) or one .safetensors file */
        CkptError cerr;
        if (ckpt_open(o->weights, &ck, &cerr) != 0) {
            snprintf(err, errlen, "%s", cerr.msg);
            goto fail;
        }
        if (model_check_weights(g, ck) != 0) {
            snprintf(err, errlen, "the checkpoint %s does not fit %s", o->weights, o->model_name);
            goto fail;
        }
    }

    e->bufs = calloc((size_t)g->tensors.n, sizeof *e->bufs);
    if (!e->bufs) goto oom;
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        int64_t cnt = 1, shp[IR_MAX_RANK];
        for (int a = 0; a < t->rank; a++) {
            shp[a] = size_of(e, t->shape[a]);
            cnt *= shp[a];
        }
        size_t bytes = (size_t)(cnt ? cnt : 1) * dtype_size(t->dtype);
        /* on a device only the inputs, the logits and (until uploaded) the params have host buffers;
         * the state lives on the device (zeroed by cuda_exec_reserve) */
        if (on_dev && t->kind != TEN_PARAM && t->kind != TEN_INPUT && t != e->logits) continue;
        e->bufs[i] = calloc(1, bytes); /* state (the KV cache) starts at zero */
        if (!e->bufs[i]) goto oom;
        if (t->kind != TEN_PARAM) continue;
        /* bytes read per token: a table used only for lookups (the embedding)
         * is read one row at a time, so it does not count */
        bool lookup_only = true;
        for (int q = 0; q < g->nodes.n && lookup_only; q++) {
            IrNode *nd = g->nodes.v[q];
            for (int k = 0; k < nd->nin; k++)
                if (nd->in[k] == t && !(nd->op == OP_EMBED && k == 0)) lookup_only = false;
        }
        if (!lookup_only) e->weight_bytes += bytes;
        if (ck) {
            if (!t->load_name) {
                snprintf(err, errlen, "%s: parameter %s has no 'load' mapping", o->model_name, t->name);
                goto fail;
            }
            if (model_load_param(t, ck, e->bufs[i]) != 0) {
                snprintf(err, errlen, "cannot load the weights from %s", o->weights);
                goto fail;
            }
        } else {
            double *v = malloc(sizeof(double) * (size_t)(cnt ? cnt : 1));
            if (!v) goto oom;
            if (t->rank < 2) for (int64_t q = 0; q < cnt; q++) v[q] = 1.0;
            else init_param_values(v, t->rank, shp, t->has_var, t->var, 0, t->name);
            for (int64_t q = 0; q < cnt; q++) dtype_store(e->bufs[i], t->dtype, (size_t)q, v[q]);
            free(v);
        }
        if (ir_pack_buffer(t, &e->bufs[i], cnt) != 0) goto oom;
        if (on_dev) {   /* uploaded once; the host copy is not needed any more */
            char e2[1800];
            if (cuda_exec_upload(e->x, i, e->bufs[i], (size_t)cnt * dtype_size(t->dtype), e2, sizeof e2) != 0) {
                snprintf(err, errlen, "--device %s: uploading %s: %s", dev, t->name, e2);
                goto fail;
            }
            free(e->bufs[i]);
            e->bufs[i] = NULL;
        }
    }
    ckpt_close(ck);
    ueaj_diag_render(e->ctx, stderr); /* warnings, if any */
    free(csrc);
    free(plan);
    return e;
oom:
    snprintf(err, errlen, "out of memory allocating the model's buffers (context %lld, batch %lld)",
             (long long)e->ctx_len, (long long)e->max_batch);
fail:
    if (e->ctx) ueaj_diag_render(e->ctx, stderr);
    ckpt_close(ck);
    free(csrc);
    free(plan);
    engine_free(e);
    return NULL;
}

void engine_free(Engine *e)
{
    if (!e) return;
    if (e->bufs && e->g)
        for (int i = 0; i < e->g->tensors.n; i++) free(e->bufs[i]);
    free(e->bufs);
    jit_c_close(&e->jm);
    cuda_exec_close(e->x);
    cJSON_Delete(e->config);
    ueaj_ctx_free(e->ctx);
    free(e);
}

int64_t engine_vocab(const Engine *e) { return e->vocab; }
int64_t engine_ctx_len(const Engine *e) { return e->ctx_len; }
size_t engine_weight_bytes(const Engine *e) { return e->weight_bytes; }
const float *engine_logits(const Engine *e) { return e->bufs[e->logits->id]; }
int64_t engine_logits_rows(const Engine *e) { return e->rows; }
const char *engine_device(const Engine *e) { return e->device; }
double engine_device_ms(const Engine *e) { return e->device_ms; }

int engine_forward(Engine *e, const int32_t *ids, int n, int64_t pos0, int all_logits, char *err, size_t errlen)
{
    if (n <= 0 || n > e->max_batch) {
        snprintf(err, errlen, "%d tokens in one call; the engine was built for 1..%lld", n, (long long)e->max_batch);
        return -1;
    }
    if (pos0 < 0 || pos0 + n > e->ctx_len) {
        snprintf(err, errlen, "positions %lld..%lld do not fit the context of %lld tokens (-c)", (long long)pos0,
                 (long long)(pos0 + n - 1), (long long)e->ctx_len);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= e->vocab) {
            snprintf(err, errlen, "token id %d is outside the vocabulary (0..%lld)", ids[i], (long long)e->vocab - 1);
            return -1;
        }
    int32_t *tok = e->bufs[e->tokens->id], *pos = e->bufs[e->pos->id];
    for (int i = 0; i < n; i++) { tok[i] = ids[i]; pos[i] = (int32_t)(pos0 + i); }
    int64_t dyn[16];
    memcpy(dyn, e->dyn, sizeof dyn);
    dyn[e->dim_n] = n;
    e->rows = n;
    if (e->dim_m >= 0) e->rows = dyn[e->dim_m] = all_logits ? n : 1;
    if (e->x) {   /* the inputs up, the steps, the logits rows asked for down; the KV cache stays */
        double ms = 0;
        size_t ib = sizeof(int32_t) * (size_t)n;
        if (cuda_exec_upload(e->x, e->tokens->id, tok, ib, err, errlen) != 0 ||
            cuda_exec_upload(e->x, e->pos->id, pos, ib, err, errlen) != 0 ||
            cuda_exec_steps(e->x, dyn, &ms, err, errlen) != 0 ||
            cuda_exec_download(e->x, e->logits->id, e->bufs[e->logits->id],
                               sizeof(float) * (size_t)(e->rows * e->vocab), err, errlen) != 0)
            return -1;
        e->device_ms += ms;
        return 0;
    }
    /* -t: kernels decide per call whether a thread team is worth it (emit.c) */
    if (e->jm.set_threads && e->cur_threads != 1) {
        e->jm.set_threads(e->threads > 0 ? e->threads : (int)sysconf(_SC_NPROCESSORS_ONLN));
        e->cur_threads = 1;
    }
    e->jm.forward(e->bufs, dyn);
    return 0;
}
