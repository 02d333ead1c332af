/* model_driver.c - `ueajc FILE.ue ...`: read, lower, run the passes, emit.
 *
 *   ueajc FILE.ue --emit=ast|ir|ir-after=PASS|c [--config C] [--dim N=V]
 *   ueajc FILE.ue -o OUT.c | -o OUT.so
 *   ueajc FILE.ue --run "ID ID ..."   run with seed-initialised parameters
 *                                      (a demonstration until checkpoints load)
 * Outputs are written to a temporary name and renamed: an error never
 * leaves a half-written file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
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
static int model_run(UeajCtx *ctx, IrGraph *g, const char *csrc, const ModelOptions *o)
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
    Checkpoint *ck = NULL;
    CkptError cerr;
    JitModule jm = {0};
    IrTensor *out = NULL;
    size_t total_param = 0;
    TioError terr;
    char err[8192];
    if (!inputs || !bufs) goto done;
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
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        int64_t cnt = 1, shp[IR_MAX_RANK];
        for (int a = 0; a < t->rank; a++) {
            shp[a] = t->shape[a].dyn >= 0 ? dyn[t->shape[a].dyn] : t->shape[a].c;
            cnt *= shp[a];
        }
        bufs[i] = calloc((size_t)(cnt ? cnt : 1), dtype_size(t->dtype));
        if (!bufs[i]) { fprintf(stderr, "ueajc: error: out of memory for %s\n", t->name); goto done; }
        if (t->kind == TEN_OUTPUT && !out) out = t;
        if (t->kind == TEN_PARAM && ck) {
            if (!t->load_name) { fprintf(stderr, "ueajc: error: parameter %s has no 'load' mapping\n", t->name); goto done; }
            if (model_load_param(t, ck, bufs[i]) != 0) goto done;
            total_param += (size_t)cnt;
        } else if (t->kind == TEN_PARAM) {
            double *v = malloc(sizeof(double) * (size_t)(cnt ? cnt : 1));
            if (!v) goto done;
            if (t->rank < 2) for (int64_t q = 0; q < cnt; q++) v[q] = 1.0;
            else init_param_values(v, t->rank, shp, t->has_var, t->var, 0, t->name);
            for (int64_t q = 0; q < cnt; q++) dtype_store(bufs[i], t->dtype, (size_t)q, v[q]);
            free(v);
            total_param += (size_t)cnt;
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
    if (jit_c_load(csrc, o->copt.cache_dir, o->copt.cc, o->copt.verbose, &jm, err, sizeof err) != 0) {
        fprintf(stderr, "ueajc: error: %s\n", err);
        goto done;
    }
    if (o->copt.verbose)
        fprintf(stderr, "ueajc: running %s: %zu parameters %s\n", g->name, total_param,
                ck ? "loaded from the checkpoint" : "initialised by the seed's rules (seed 0)");
    jm.forward(bufs, dyn);
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
    if (o->dump && tio_write_npy(o->dump, &ht, &terr) != 0) { fprintf(stderr, "%s\n", terr.msg); goto done; }
    status = 0;
done:
    for (int i = 0; bufs && i < g->tensors.n; i++) free(bufs[i]);
    free(bufs);
    for (int k = 0; inputs && k < o->ninputs; k++) tio_tensor_free(&inputs[k]);
    free(inputs);
    ckpt_close(ck);
    jit_c_close(&jm);
    (void)ctx;
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
    if (o->run || o->ninputs) { status = model_run(ctx, g, csrc, o); goto out; }
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
