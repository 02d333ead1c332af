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
 * for.  auto: cuda_select's choice, its line on stderr.  On a device
 * everything after the executor is opened is driven by the plan alone
 * (open_device): the generative contract, the checkpoint's names, shapes
 * and permutations, the lookup-only tables.  That is what lets
 * EngineOptions.cubin replace compilation: the cubin's plan (and for the
 * harness its carried source) opens the executor, no IR exists, and the
 * plan's `config` records must match the checkpoint's config.json.
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
#include "fsutil.h"
#include "strbuf.h"
#include "tensorio.h"

struct Engine {
    UeajCtx    *ctx;
    IrGraph    *g;                   /* the compiled model (NULL when it came from a cubin) */
    JitModule   jm;
    void      **bufs;                /* cpu: one pointer per IR tensor; temps share (root) */
    int        *root;                /* cpu: bufs[i] is bufs[root[i]]'s memory; only roots are freed */
    int64_t     dyn[16];
    int         dim_n, dim_c, dim_m; /* indices of the run-time dims n, C, m (-1: absent) */
    int64_t     rows;                /* rows of logits of the last call */
    int         threads, cur_threads; /* -t (0: all cores); the count last set */
    int         i_tokens, i_pos, i_logits; /* tensor indices (IR ids = plan indices) */
    int32_t    *tok, *pos;           /* host [max_batch] (cpu: bufs of tokens and pos) */
    float      *logits;              /* host [max_batch, V] (cpu: the logits buffer) */
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

/* The generative contract's run-time dims, by name: n, C and (optionally) m. */
static int bind_dims(Engine *e, const char *const *names, int ndyn, const char *model, char *err, size_t errlen)
{
    e->dim_n = e->dim_c = e->dim_m = -1;
    for (int i = 0; i < ndyn; i++) {
        if (!strcmp(names[i], "n")) e->dim_n = i;
        else if (!strcmp(names[i], "C")) e->dim_c = i;
        else if (!strcmp(names[i], "m")) e->dim_m = i;
        else
            return str_fail(err, errlen, "%s: the run-time dim '%s' is not one a generative model has (n, C, m)",
                            model, names[i]);
    }
    return 0;
}

static const char not_generative[] =
    "%s is not a generative model: it needs dim n = runtime, input tokens[n] : i32, input pos[n] : i32 and an f32 "
    "output [n, V]";

/* ---- the C backend: the IR, the JIT, one host buffer per tensor -------- */

static int open_cpu(Engine *e, const EngineOptions *o, Checkpoint *ck, char *err, size_t errlen)
{
    IrGraph *g = e->g;
    char *csrc = emit_source(e->ctx, g, &dialect_c);
    int rc = jit_c_load(csrc, o->copt.cache_dir, o->copt.cc, o->verbose, &e->jm, err, errlen);
    free(csrc);
    if (rc != 0) return -1;
    e->bufs = calloc((size_t)g->tensors.n, sizeof *e->bufs);
    e->root = calloc((size_t)g->tensors.n + 1, sizeof *e->root);
    if (!e->bufs || !e->root) goto oom;
    /* zeroed (the KV cache starts at zero); temps whose lifetimes do not overlap share one buffer */
    size_t temps = 0, temps_own = 0;
    if (ir_alloc_buffers(e->ctx, g, e->dyn, e->bufs, e->root, &temps, &temps_own) != 0) goto oom;
    if (o->verbose)
        fprintf(stderr, "ueajc: temporaries: %.1f MiB at batch %lld (%.1f MiB if each had its own buffer)\n",
                temps / 1048576.0, (long long)e->max_batch, temps_own / 1048576.0);
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        int64_t cnt = 1, shp[IR_MAX_RANK];
        for (int a = 0; a < t->rank; a++) {
            shp[a] = size_of(e, t->shape[a]);
            cnt *= shp[a];
        }
        size_t bytes = (size_t)(cnt ? cnt : 1) * dtype_size(t->dtype);
        if (t->kind != TEN_PARAM) continue;
        /* bytes read per token: a table used only for lookups (the embedding)
         * is read one row at a time, so it does not count */
        if (!ir_lookup_only(g, t)) e->weight_bytes += bytes;
        if (ck) {
            if (!t->load_name)
                return str_fail(err, errlen, "%s: parameter %s has no 'load' mapping", o->model_name, t->name);
            if (model_load_param(t, ck, e->bufs[i]) != 0)
                return str_fail(err, errlen, "cannot load the weights from %s", o->weights);
        } else {
            double *v = malloc(sizeof(double) * (size_t)(cnt ? cnt : 1));
            if (!v) goto oom;
            if (t->rank < 2) for (int64_t q = 0; q < cnt; q++) v[q] = 1.0;
            else init_param_values(v, t->rank, shp, t->has_var, t->var, 0, t->name);
            for (int64_t q = 0; q < cnt; q++) dtype_store(e->bufs[i], t->dtype, (size_t)q, v[q]);
            free(v);
        }
        if (ir_pack_buffer(t, &e->bufs[i], cnt) != 0) goto oom;
    }
    e->tok = e->bufs[e->i_tokens];
    e->pos = e->bufs[e->i_pos];
    e->logits = e->bufs[e->i_logits];
    return 0;
oom:
    return str_fail(err, errlen, "out of memory allocating the model's buffers (context %lld, batch %lld)",
                    (long long)e->ctx_len, (long long)e->max_batch);
}

/* ---- a CUDA device (or the harness): everything from the plan --------- */

/* config.a.b in a JSON object, or NULL */
static const cJSON *json_path(const cJSON *j, const char *key)
{
    char part[256];
    while (j && *key) {
        const char *dot = strchr(key, '.');
        size_t n = dot ? (size_t)(dot - key) : strlen(key);
        if (n >= sizeof part || !cJSON_IsObject(j)) return NULL;
        memcpy(part, key, n);
        part[n] = 0;
        j = cJSON_GetObjectItemCaseSensitive(j, part);
        key += n + (dot != NULL);
    }
    return j;
}

static void config_value_str(char *out, size_t n, const cJSON *j)
{
    if (!j || cJSON_IsNull(j)) snprintf(out, n, "absent");
    else if (cJSON_IsNumber(j)) snprintf(out, n, "%.17g", j->valuedouble);
    else if (cJSON_IsBool(j)) snprintf(out, n, "%s", cJSON_IsTrue(j) ? "true" : "false");
    else if (cJSON_IsString(j)) snprintf(out, n, "\"%.200s\"", j->valuestring);
    else snprintf(out, n, "%s", cJSON_IsObject(j) ? "an object" : "an array");
}

/* A cubin was compiled for one config.json: every field the model file read
 * then must have the same value in the checkpoint's.  The message lists the
 * differences (the first 8) and the command that makes a fitting cubin. */
static int check_cubin_config(const CudaPlan *pl, const cJSON *cfg, const char *cubin, const char *cfg_path, char *err,
                              size_t errlen)
{
    int bad = 0;
    Str m = {0};
    for (int i = 0; i < pl->nconfig; i++) {
        const CudaPlanConfig *c = &pl->config[i];
        const cJSON *j = cfg ? json_path(cfg, c->key) : NULL;
        bool same;
        switch (c->kind) {
        case 1: same = cJSON_IsNumber(j) && j->valuedouble == c->num; break;
        case 2: same = cJSON_IsBool(j) && cJSON_IsTrue(j) == (c->num != 0); break;
        case 3: same = cJSON_IsString(j) && !strcmp(j->valuestring, c->str); break;
        default: same = !j || cJSON_IsNull(j); break;
        }
        if (same || ++bad > 8) continue;
        char want[300], have[300];
        if (c->kind == 1) snprintf(want, sizeof want, "%.17g", c->num);
        else if (c->kind == 2) snprintf(want, sizeof want, "%s", c->num != 0 ? "true" : "false");
        else if (c->kind == 3) snprintf(want, sizeof want, "\"%.200s\"", c->str);
        else snprintf(want, sizeof want, "absent");
        config_value_str(have, sizeof have, j);
        str_add(&m, "\n  %s: %s in the cubin, %s here", c->key, want, have);
    }
    if (bad) {
        if (bad > 8) str_add(&m, "\n  (%d more)", bad - 8);
        snprintf(err, errlen, "%s was compiled for another config.json than %s (%d field%s differ%s):%s\n"
                 "  make one for this checkpoint: ueajc models/llama.ue --config %s -o %s",
                 cubin, cfg_path, bad, bad > 1 ? "s" : "", bad > 1 ? "" : "s", m.p ? m.p : "", cfg_path, cubin);
    }
    free(m.p);
    return bad ? -1 : 0;
}

static int find_plan_tensor(const CudaPlan *pl, const char *name, int kind)
{
    for (int i = 0; i < pl->ntensors; i++)
        if (pl->tensors[i].kind == kind && (!name || !strcmp(pl->tensors[i].name, name))) return i;
    return -1;
}

static int open_device(Engine *e, const EngineOptions *o, Checkpoint *ck, const char *model, char *err, size_t errlen)
{
    char e2[1800];
    const char *dev = e->device;
    const CudaPlan *pl = cuda_exec_plan(e->x);
    if (bind_dims(e, (const char *const *)pl->dim_names, pl->ndims, model, err, errlen) != 0) return -1;
    e->i_tokens = find_plan_tensor(pl, "tokens", 0);
    e->i_pos = find_plan_tensor(pl, "pos", 0);
    e->i_logits = find_plan_tensor(pl, NULL, 2);
    const CudaPlanTensor *T = pl->tensors;
    if (e->dim_n < 0 || e->i_tokens < 0 || e->i_pos < 0 || e->i_logits < 0 || T[e->i_logits].rank != 2 ||
        strcmp(T[e->i_logits].dtype, "f32") || T[e->i_logits].shape[1] < 0 || strcmp(T[e->i_tokens].dtype, "i32") ||
        strcmp(T[e->i_pos].dtype, "i32") || T[e->i_tokens].rank != 1 || T[e->i_pos].rank != 1 ||
        T[e->i_tokens].shape[0] != -1 - e->dim_n || T[e->i_pos].shape[0] != -1 - e->dim_n)
        return str_fail(err, errlen, not_generative, model);
    for (int i = 0; i < pl->ntensors; i++) /* a call with fewer tokens uses a prefix of each tensor */
        for (int a = 1; a < T[i].rank; a++)
            if (T[i].shape[a] == -1 - e->dim_n || (e->dim_m >= 0 && T[i].shape[a] == -1 - e->dim_m))
                return str_fail(err, errlen, "%s: tensor %s has the token dim on axis %d; it must be the first axis",
                                model, T[i].name, a);
    if (e->g) /* compiled here: the plan's first tensors are the IR's */
        for (int i = 0; i < e->g->tensors.n; i++)
            if (i >= pl->ntensors || strcmp(T[i].name, ((IrTensor *)e->g->tensors.v[i])->name))
                return str_fail(err, errlen, "the CUDA plan's tensors do not match the graph at tensor %d", i);
    e->vocab = T[e->i_logits].shape[1];
    e->dyn[e->dim_n] = e->max_batch;
    if (e->dim_c >= 0) e->dyn[e->dim_c] = e->ctx_len;
    if (e->dim_m >= 0) e->dyn[e->dim_m] = e->max_batch;
    if (!e->g) {   /* a cubin: it was compiled for one config, and needs a checkpoint */
        if (!ck) return str_fail(err, errlen, "%s: a cubin runs with a checkpoint's weights (-m DIR)", model);
        const cJSON *cfg = e->config ? e->config : ckpt_config(ck);
        if (check_cubin_config(pl, cfg, model, o->config_path ? o->config_path : "the checkpoint's config.json", err,
                               errlen) != 0)
            return -1;
    }
    if (ck) {   /* every problem with the checkpoint at once, before any copy */
        CkptExpect *want = calloc((size_t)pl->ntensors + 1, sizeof *want);
        if (!want) return str_fail(err, errlen, "out of memory");
        int n = 0;
        for (int i = 0; i < pl->ntensors; i++) {
            if (T[i].kind != 1) continue;
            if (!T[i].load) { free(want); return str_fail(err, errlen, "%s: parameter %s has no 'load' mapping", model, T[i].name); }
            bool dyn_shape = false;
            for (int a = 0; a < T[i].load_rank; a++) dyn_shape |= T[i].load_shape[a] < 0;
            if (dyn_shape) { free(want); return str_fail(err, errlen, "%s: parameter %s has a run-time dim in its checkpoint shape", model, T[i].name); }
            want[n].name = T[i].load;
            want[n].rank = T[i].load_rank;
            memcpy(want[n].shape, T[i].load_shape, sizeof(int64_t) * (size_t)T[i].load_rank);
            want[n].need_float = true;
            n++;
        }
        CkptReport rep;
        int rc = ckpt_validate(ck, want, n, &rep);
        if (rep.text) fputs(rep.text, stderr);
        ckpt_report_free(&rep);
        free(want);
        if (rc != 0) return str_fail(err, errlen, "the checkpoint %s does not fit %s", o->weights, model);
    }
    if (cuda_exec_reserve(e->x, e->dyn, e2, sizeof e2) != 0) return str_fail(err, errlen, "--device %s: %s", dev, e2);
    if (o->verbose) fprintf(stderr, "ueajc: %s\n", cuda_exec_describe(e->x));
    /* the parameters: loaded (or seed-initialised) into a host buffer, uploaded once, freed */
    for (int i = 0; i < pl->ntensors; i++) {
        if (T[i].kind != 1) continue;
        DType dt;
        if (!dtype_parse(T[i].dtype, &dt)) return str_fail(err, errlen, "%s: parameter %s has dtype %s", model, T[i].name, T[i].dtype);
        int64_t cnt = 1, shp[CUDA_PLAN_MAX_RANK];
        for (int a = 0; a < T[i].rank; a++) {
            shp[a] = T[i].shape[a] >= 0 ? T[i].shape[a] : e->dyn[-1 - T[i].shape[a]];
            cnt *= shp[a];
        }
        size_t bytes = (size_t)cnt * dtype_size(dt);
        void *buf = calloc(1, bytes ? bytes : 1);
        if (!buf) return str_fail(err, errlen, "out of memory for parameter %s", T[i].name);
        if (!T[i].lookup) e->weight_bytes += bytes;
        int rc = 0;
        if (ck) {
            CkptError cerr;
            if (ckpt_load_tensor(ck, T[i].load, T[i].load_rank, T[i].load_shape, T[i].load_perm, buf, dt, &cerr) != 0)
                rc = str_fail(err, errlen, "%s (needed by parameter %s)", cerr.msg, T[i].name);
        } else {   /* seed initialisation, by the IR's variance (1-D ones to 1, as HF does for norms) */
            const IrTensor *t = e->g->tensors.v[i];
            double *v = malloc(sizeof(double) * (size_t)(cnt ? cnt : 1));
            if (!v) rc = str_fail(err, errlen, "out of memory");
            else {
                if (t->rank < 2) for (int64_t q = 0; q < cnt; q++) v[q] = 1.0;
                else init_param_values(v, t->rank, shp, t->has_var, t->var, 0, t->name);
                for (int64_t q = 0; q < cnt; q++) dtype_store(buf, dt, (size_t)q, v[q]);
                free(v);
            }
        }
        if (rc == 0 && cuda_exec_upload(e->x, i, buf, bytes, e2, sizeof e2) != 0)
            rc = str_fail(err, errlen, "--device %s: uploading %s: %s", dev, T[i].name, e2);
        free(buf);
        if (rc) return -1;
    }
    /* host copies of the inputs and the logits; the state (the KV cache) lives on the device */
    e->tok = calloc((size_t)e->max_batch, sizeof *e->tok);
    e->pos = calloc((size_t)e->max_batch, sizeof *e->pos);
    e->logits = calloc((size_t)(e->max_batch * e->vocab), sizeof *e->logits);
    if (!e->tok || !e->pos || !e->logits) return str_fail(err, errlen, "out of memory");
    return 0;
}

/* The IR from the model file and config.json (the checks of the generative
 * contract that need the IR happen here too). */
static int compile_model(Engine *e, const EngineOptions *o, char *err, size_t errlen)
{
    const Source *src = source_new(e->ctx, o->model_name, o->model_src, strlen(o->model_src));
    Program *p = parse_model(e->ctx, src);
    if (!p) return str_fail(err, errlen, "%s has errors", o->model_name);
    ModelOptions mo;
    memset(&mo, 0, sizeof mo);
    mo.path = o->model_name;
    mo.copt = e->ctx->opt;
    e->g = model_lower(e->ctx, p, e->config, &mo);
    if (!e->g || run_passes(e->ctx, e->g, NULL, NULL) != 0)
        return str_fail(err, errlen, "%s does not compile for this checkpoint", o->model_name);
    IrGraph *g = e->g;
    if (bind_dims(e, g->dyn_names, g->ndyn, o->model_name, err, errlen) != 0) return -1;
    IrTensor *tokens = find_tensor(g, "tokens", TEN_INPUT), *pos = find_tensor(g, "pos", TEN_INPUT);
    IrTensor *logits = find_tensor(g, NULL, TEN_OUTPUT);
    if (e->dim_n < 0 || !tokens || !pos || !logits || logits->rank != 2 || logits->dtype != DT_F32 ||
        logits->shape[1].dyn >= 0 || tokens->dtype != DT_I32 || pos->dtype != DT_I32)
        return str_fail(err, errlen, not_generative, o->model_name);
    for (int i = 0; i < g->tensors.n; i++) { /* a call with fewer tokens uses a prefix of each buffer */
        IrTensor *t = g->tensors.v[i];
        for (int a = 1; a < t->rank; a++)
            if (t->shape[a].dyn == e->dim_n || (e->dim_m >= 0 && t->shape[a].dyn == e->dim_m))
                return str_fail(err, errlen, "%s: tensor %s has the token dim n on axis %d; it must be the first axis",
                                o->model_name, t->name, a);
    }
    e->i_tokens = tokens->id;
    e->i_pos = pos->id;
    e->i_logits = logits->id;
    e->vocab = logits->shape[1].c;
    e->dyn[e->dim_n] = e->max_batch;
    if (e->dim_c >= 0) e->dyn[e->dim_c] = e->ctx_len;
    if (e->dim_m >= 0) e->dyn[e->dim_m] = e->max_batch;
    return 0;
}

Engine *engine_new(const EngineOptions *o, char *err, size_t errlen)
{
    Engine *e = calloc(1, sizeof *e);
    if (!e) { snprintf(err, errlen, "out of memory"); return NULL; }
    const char *dev = o->device && *o->device ? o->device : "cpu";
    if (!strcmp(dev, "auto")) {
        char why[1024];
        dev = cuda_auto_device(why, sizeof why);
        fprintf(stderr, "ueajc: --device auto: %s\n", why);
        if (o->cubin && !strcmp(dev, "cpu")) {
            snprintf(err, errlen, "%s needs a CUDA device, and --device auto found none (see above)", o->cubin);
            free(e);
            return NULL;
        }
    } else if (strcmp(dev, "cpu") && strcmp(dev, "cuda") && strcmp(dev, "harness")) {
        snprintf(err, errlen, "--device %s: unknown device (cpu, cuda, harness or auto)", dev);
        free(e);
        return NULL;
    }
    snprintf(e->device, sizeof e->device, "%s", dev ? dev : "cpu"); /* (dev is never NULL; GCC -O1 with UBSan cannot tell) */
    const int on_dev = strcmp(dev, "cpu") != 0;
    if (o->cubin && !on_dev) {
        snprintf(err, errlen, "%s is CUDA code: run it with --device cuda (or harness, the CPU test harness)", o->cubin);
        free(e);
        return NULL;
    }
    UeajOptions copt = o->copt;
    if (on_dev) copt.no_pack = 1;   /* cuBLASLt reads the weights row-major */
    e->ctx = ueaj_ctx_new(&copt);
    Checkpoint *ck = NULL;
    const char *model = o->cubin ? o->cubin : o->model_name;
    if (!e->ctx) { snprintf(err, errlen, "out of memory"); goto fail; }
    e->max_batch = o->max_batch > 0 ? o->max_batch : 512;
    e->ctx_len = o->ctx_len > 0 ? o->ctx_len : 4096;
    e->threads = o->threads;
    if (o->config_path && !(e->config = model_read_config(e->ctx, o->config_path))) {
        snprintf(err, errlen, "cannot use %s", o->config_path);
        goto fail;
    }
    if (o->weights) {   /* a model directory (one file or shards + index) or one .safetensors file */
        CkptError cerr;
        if (ckpt_open(o->weights, &ck, &cerr) != 0) {
            snprintf(err, errlen, "%s", cerr.msg);
            goto fail;
        }
    }
    if (!o->cubin && compile_model(e, o, err, errlen) != 0) goto fail;
    if (!on_dev) {
        if (ck && model_check_weights(e->g, ck) != 0) {
            snprintf(err, errlen, "the checkpoint %s does not fit %s", o->weights, o->model_name);
            goto fail;
        }
        if (open_cpu(e, o, ck, err, errlen) != 0) goto fail;
    } else {
        char e2[1800];
        if (o->cubin) {
            size_t len = 0;
            char *img = fs_read_all(o->cubin, &len);
            if (!img) {
                snprintf(err, errlen, "%s: cannot read: %s", o->cubin, strerror(errno));
                goto fail;
            }
            e->x = cuda_exec_open_cubin(dev, img, len, o->cubin, o->copt.cache_dir, e2, sizeof e2);
            free(img);
        } else {
            char *plan = NULL, *csrc = emit_source_plan(e->ctx, e->g, &dialect_cuda, &plan);
            char name[128];
            snprintf(name, sizeof name, "%s.cu", e->g->name ? e->g->name : "model");
            if (csrc && plan) e->x = cuda_exec_open(dev, csrc, plan, name, o->copt.cache_dir, e2, sizeof e2);
            else snprintf(e2, sizeof e2, "%s: the CUDA dialect cannot emit this graph", o->model_name);
            free(csrc);
            free(plan);
        }
        if (!e->x) {
            snprintf(err, errlen, "--device %s: %s", dev, e2);
            goto fail;
        }
        if (open_device(e, o, ck, model, err, errlen) != 0) goto fail;
    }
    ckpt_close(ck);
    ueaj_diag_render(e->ctx, stderr); /* warnings, if any */
    return e;
fail:
    if (e->ctx) ueaj_diag_render(e->ctx, stderr);
    ckpt_close(ck);
    engine_free(e);
    return NULL;
}

void engine_free(Engine *e)
{
    if (!e) return;
    if (e->g) ir_free_buffers(e->g, e->bufs, e->root);
    free(e->bufs);
    free(e->root);
    if (e->x) { free(e->tok); free(e->pos); free(e->logits); }
    jit_c_close(&e->jm);
    cuda_exec_close(e->x);
    cJSON_Delete(e->config);
    ueaj_ctx_free(e->ctx);
    free(e);
}

int64_t engine_vocab(const Engine *e) { return e->vocab; }
int64_t engine_ctx_len(const Engine *e) { return e->ctx_len; }
size_t engine_weight_bytes(const Engine *e) { return e->weight_bytes; }
const float *engine_logits(const Engine *e) { return e->logits; }
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
    int32_t *tok = e->tok, *pos = e->pos;
    for (int i = 0; i < n; i++) { tok[i] = ids[i]; pos[i] = (int32_t)(pos0 + i); }
    int64_t dyn[16];
    memcpy(dyn, e->dyn, sizeof dyn);
    dyn[e->dim_n] = n;
    e->rows = n;
    if (e->dim_m >= 0) e->rows = dyn[e->dim_m] = all_logits ? n : 1;
    if (e->x) {   /* the inputs up, the steps, the logits rows asked for down; the KV cache stays */
        double ms = 0;
        size_t ib = sizeof(int32_t) * (size_t)n;
        if (cuda_exec_upload(e->x, e->i_tokens, tok, ib, err, errlen) != 0 ||
            cuda_exec_upload(e->x, e->i_pos, pos, ib, err, errlen) != 0 ||
            cuda_exec_steps(e->x, dyn, &ms, err, errlen) != 0 ||
            cuda_exec_download(e->x, e->i_logits, e->logits,
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
