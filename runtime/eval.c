/* eval.c - `ueajc eval EXPR ARG... -o OUT`: the whole compiler on one expression.
 *
 *   1. parse and resolve the expression; apply --unit and the other helpers,
 *      then --variance and --dtype, which override them per argument;
 *   2. read the arrays (.npy, or .safetensors with one tensor, the
 *      argument's name, or FILE:TENSOR) and bind them: plain files fill the
 *      slots in order (parameters too; "_" leaves a slot empty so that its
 *      parameter is initialised), NAME=FILE binds by name or slot number;
 *   3. build the IR with the arrays' shapes, run the passes, emit C,
 *      compile it (cached) and run it;
 *   4. write the result atomically (.npy; .safetensors for any dtype).
 *
 * Parameters without an array are initialised by the seed's rules from
 * --seed (compiler/init.c).  Arrays are converted to the storage dtype the
 * precision pass chose, with one round-to-nearest-even rounding.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dialect.h"
#include "cuda_out.h"
#include "eval.h"
#include "init.h"
#include "internal.h"
#include "jit_c.h"
#include "tensorio.h"

typedef struct Bound {
    HostTensor  t;          /* the array read from the file (owned unless from st) */
    SafeTensors st;         /* when read from a .safetensors file */
    int         from_st;
    int         given;
    const char *path;
} Bound;

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static int read_array(const char *spec, const char *argname, Bound *b)
{
    TioError err;
    char path[4096];
    snprintf(path, sizeof path, "%s", spec);
    const char *tensor = NULL;
    char *colon = strstr(path, ".safetensors:");
    if (colon) { colon += strlen(".safetensors"); *colon = 0; tensor = colon + 1; }
    b->path = spec;
    if (has_suffix(path, ".safetensors")) {
        if (tio_st_open(path, &b->st, &err) != 0) { fprintf(stderr, "%s\n", err.msg); return -1; }
        b->from_st = 1;
        const HostTensor *h = NULL;
        if (tensor) h = tio_st_find(&b->st, tensor);
        else if (b->st.count == 1) h = &b->st.tensors[0];
        else if (argname) h = tio_st_find(&b->st, argname);
        if (!h) {
            fprintf(stderr, "%s: error: %s%s%s; the file holds %d tensors (pick one with FILE.safetensors:NAME)\n",
                    path, tensor ? "no tensor named '" : "cannot tell which tensor to use",
                    tensor ? tensor : "", tensor ? "'" : "", b->st.count);
            return -1;
        }
        b->t = *h;
        b->t.view = 1;
        b->t.name = NULL;
    } else if (has_suffix(path, ".npy")) {
        if (tio_read_npy(path, &b->t, &err) != 0) { fprintf(stderr, "%s\n", err.msg); return -1; }
    } else {
        fprintf(stderr, "%s: error: unknown file type (expected .npy or .safetensors)\n", path);
        return -1;
    }
    b->given = 1;
    return 0;
}

static void release(Bound *b)
{
    if (b->from_st) tio_st_close(&b->st);
    else if (b->given) tio_tensor_free(&b->t);
}

static int is_ident(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || isdigit((unsigned char)s[0]))) return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) return 0;
    return 1;
}

/* Finds the operand a user-facing NAME refers to: a named argument, a slot
 * number, or a positional tensor name (x0, w_1). */
static UOperand *lookup(const UConfig *c, const char *name)
{
    UOperand *o = ueajsum_find(c, name);
    if (o) return o;
    char *end;
    long s = strtol(name, &end, 10);
    if (*name && !*end && s >= 0 && s < c->nslots) return c->slots[s];
    if ((name[0] == 'x' || (name[0] == 'w' && name[1] == '_')) && name[name[0] == 'x' ? 1 : 2]) {
        s = strtol(name + (name[0] == 'x' ? 1 : 2), &end, 10);
        if (!*end && s >= 0 && s < c->nslots) return c->slots[s];
    }
    return NULL;
}

static int parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return (*s && !*end && errno == 0) ? 0 : -1;
}

int ueaj_eval(const EvalOptions *o)
{
    int status = 1;
    UeajCtx *ctx = ueaj_ctx_new(&o->copt);
    if (!ctx) return 1;
    Bound *slots = NULL, *named = NULL;
    void **bufs = NULL;
    IrGraph *g = NULL;
    char *csrc = NULL;
    JitModule jm = {0};
    UConfig *c = NULL;
    int nbound_slots = 0, nbound_named = 0;
    const Source *src = source_new(ctx, "<expr>", o->expr, strlen(o->expr));
    UExpr *e = parse_ueajsum(ctx, src);
    if (!e) goto diags;
    if (o->emit && !strcmp(o->emit, "ast")) {
        Buf b;
        buf_init(&b);
        ast_dump_uexpr(&b, e);
        fputs(b.p, stdout);
        buf_free(&b);
        status = 0;
        goto diags;
    }
    c = ueajsum_resolve(ctx, e, false);
    if (!c) goto diags;
    ueajsum_apply_helpers(c, o->helpers);
    for (int i = 0; i < o->nvar; i++) {
        double v;
        int is_out = !strcmp(o->variances[i].key, "out") || !strcmp(o->variances[i].key, "result");
        UOperand *op = is_out ? &c->result : lookup(c, o->variances[i].key);
        if (!op) { fprintf(stderr, "ueajc: error: --variance: no argument '%s' in the expression\n", o->variances[i].key); goto diags; }
        if (parse_double(o->variances[i].val, &v) != 0 || !(v > 0) || v != v || v > 1e300) {
            fprintf(stderr, "ueajc: error: --variance %s=%s: expected a positive number\n", o->variances[i].key,
                    o->variances[i].val);
            goto diags;
        }
        op->has_var = true;
        op->var = v;
    }
    for (int i = 0; i < o->ndtype; i++) {
        UOperand *op = lookup(c, o->dtypes[i].key);
        DType dt;
        if (!op) { fprintf(stderr, "ueajc: error: --dtype: no argument '%s' in the expression\n", o->dtypes[i].key); goto diags; }
        if (!dtype_parse(o->dtypes[i].val, &dt) || !dtype_is_float(dt)) {
            fprintf(stderr, "ueajc: error: --dtype %s=%s: unknown float dtype (f32, f16, bf16, f8e4m3, f8e5m2, f64)\n",
                    o->dtypes[i].key, o->dtypes[i].val);
            goto diags;
        }
        op->dtype = dt;
    }
    if (o->emit && !strcmp(o->emit, "config")) {
        Buf b;
        buf_init(&b);
        ueajsum_dump(&b, c);
        fputs(b.p, stdout);
        buf_free(&b);
        status = 0;
        goto diags;
    }
    DType out_dt = DT_NONE;
    if (o->out_dtype && (!dtype_parse(o->out_dtype, &out_dt) || !dtype_is_float(out_dt))) {
        fprintf(stderr, "ueajc: error: --out-dtype %s: unknown float dtype (f32, f16, bf16, f8e4m3, f8e5m2, f64)\n",
                o->out_dtype);
        goto diags;
    }
    int64_t lsize[128];
    for (int i = 0; i < 128; i++) lsize[i] = -1;
    for (int i = 0; i < o->ndims; i++) {
        const char *k = o->dims[i].key;
        char *end;
        long long v = strtoll(o->dims[i].val, &end, 10);
        if (strlen(k) != 1 || !isalpha((unsigned char)k[0]) || !*o->dims[i].val || *end || v < 0 || v > (1LL << 40)) {
            fprintf(stderr, "ueajc: error: --dim %s=%s: expected LETTER=SIZE\n", k, o->dims[i].val);
            goto diags;
        }
        lsize[(unsigned char)k[0]] = v;
    }

    /* bind files */
    slots = calloc((size_t)c->nslots + 1, sizeof *slots);
    named = calloc((size_t)c->nnamed + 1, sizeof *named);
    if (!slots || !named) goto diags;
    nbound_slots = c->nslots;
    nbound_named = c->nnamed;
    int next = 0;
    for (int i = 0; i < o->nfiles; i++) {
        const char *f = o->files[i];
        const char *eq = strchr(f, '=');
        Bound *dst = NULL;
        const char *argname = NULL;
        if (eq && is_ident(f, (size_t)(eq - f))) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(eq - f), f);
            UOperand *op = lookup(c, name);
            if (!op) {
                fprintf(stderr, "ueajc: error: %s: the expression has no argument named '%s'\n", f, name);
                goto diags;
            }
            if (op->slot >= 0) dst = &slots[op->slot];
            else
                for (int k = 0; k < c->nnamed; k++) if (c->named[k] == op) dst = &named[k];
            argname = op->name;
            f = eq + 1;
        } else {
            if (next >= c->nslots) {
                fprintf(stderr, "ueajc: error: %s: too many arrays: the expression has %d positional argument%s\n", f,
                        c->nslots, c->nslots == 1 ? "" : "s");
                goto diags;
            }
            dst = &slots[next++];
            if (!strcmp(f, "_")) continue;
        }
        if (dst->given) { fprintf(stderr, "ueajc: error: %s: argument given twice\n", o->files[i]); goto diags; }
        if (read_array(f, argname, dst) != 0) goto diags;
        if (dst->t.rank > IR_MAX_RANK) {
            fprintf(stderr, "%s: error: %d dimensions; at most %d are supported\n", f, dst->t.rank, IR_MAX_RANK);
            goto diags;
        }
    }
    bool symbolic = o->emit && o->nfiles == 0;
    ArgShape *ss = calloc((size_t)c->nslots + 1, sizeof *ss), *ns = calloc((size_t)c->nnamed + 1, sizeof *ns);
    for (int i = 0; i < c->nslots; i++)
        if (slots[i].given) {
            ss[i].given = true;
            ss[i].rank = slots[i].t.rank;
            ss[i].dtype = slots[i].t.dtype;
            memcpy(ss[i].shape, slots[i].t.shape, sizeof(int64_t) * (size_t)slots[i].t.rank);
        }
    for (int i = 0; i < c->nnamed; i++)
        if (named[i].given) {
            ns[i].given = true;
            ns[i].rank = named[i].t.rank;
            ns[i].dtype = named[i].t.dtype;
            memcpy(ns[i].shape, named[i].t.shape, sizeof(int64_t) * (size_t)named[i].t.rank);
        }
    g = ir_from_ueajsum(ctx, c, ss, ns, lsize, out_dt, symbolic);
    free(ss);
    free(ns);
    if (!g) goto diags;
    Buf dump;
    buf_init(&dump);
    const char *stop = NULL;
    if (o->emit && !strncmp(o->emit, "ir-after=", 9)) {
        stop = o->emit + 9;
        const PassInfo *p = ueaj_passes;
        while (p->name && strcmp(p->name, stop)) p++;
        if (!p->name) {
            fprintf(stderr, "ueajc: error: --emit=ir-after=%s: no such pass (passes:", stop);
            for (p = ueaj_passes; p->name; p++) fprintf(stderr, " %s", p->name);
            fprintf(stderr, ")\n");
            buf_free(&dump);
            goto diags;
        }
    }
    int r = run_passes(ctx, g, stop, &dump);
    if (r < 0) { buf_free(&dump); goto diags; }
    if (r == 1 || (o->emit && !strcmp(o->emit, "ir"))) {
        if (r != 1) ir_dump(&dump, g);
        fputs(dump.p ? dump.p : "", stdout);
        buf_free(&dump);
        status = 0;
        goto diags;
    }
    buf_free(&dump);
    if (cuda_is_emit(o->emit)) { status = cuda_job(ctx, g, o->emit, NULL, o->arch, &o->copt); goto diags; }
    csrc = emit_source(ctx, g, &dialect_c);
    if (o->emit && !strcmp(o->emit, "c")) { fputs(csrc, stdout); status = 0; goto diags; }
    if (o->emit && !strcmp(o->emit, "c-kernels")) {
        printf("/* (the fixed prelude of templates/c_prelude.h.in is omitted: --emit=c shows it) */\n");
        fputs(emit_skip_prelude(csrc), stdout);
        status = 0;
        goto diags;
    }
    if (o->emit) { fprintf(stderr, "ueajc: error: --emit=%s: unknown stage\n", o->emit); goto diags; }

    char err[8192];
    if (jit_c_load(csrc, o->copt.cache_dir, o->copt.cc, o->copt.verbose, &jm, err, sizeof err) != 0) {
        fprintf(stderr, "ueajc: error: %s\n", err);
        goto diags;
    }
    /* buffers: one per tensor, in the storage dtype */
    bufs = calloc((size_t)g->tensors.n, sizeof *bufs);
    IrTensor *out = NULL;
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        int64_t n = ir_numel_const(t);
        UEAJ_ASSERT(n >= 0);
        bufs[i] = calloc((size_t)(n > 0 ? n : 1), dtype_size(t->dtype));
        if (!bufs[i]) { fprintf(stderr, "ueajc: error: out of memory for %s\n", t->name); goto diags; }
        if (t->kind == TEN_OUTPUT) out = t;
        Bound *b = NULL;
        if (t->slot >= 0) b = &slots[t->slot];
        else
            for (int k = 0; k < c->nnamed; k++) if (!strcmp(c->named[k]->name, t->name) && (t->kind == TEN_INPUT || t->kind == TEN_PARAM)) b = &named[k];
        if (t->kind != TEN_INPUT && t->kind != TEN_PARAM) continue;
        if (b && b->given) {
            dtype_convert(bufs[i], t->dtype, b->t.data, b->t.dtype, (size_t)n);
        } else {
            double *vals = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
            int64_t shp[IR_MAX_RANK];
            for (int a = 0; a < t->rank; a++) shp[a] = t->shape[a].c;
            if (!vals || init_param_values(vals, t->rank, shp, t->has_var, t->var, o->seed, t->name) != 0) {
                fprintf(stderr, "ueajc: error: cannot initialise %s (shape of rank %d) without an array: the seed's "
                                "rule (truncated normal, variance 1/fan_in) needs at least 2 axes; give it a file "
                                "or a variance (--variance %s=V or --unit)\n", t->name, t->rank, t->name);
                free(vals);
                goto diags;
            }
            for (int64_t q = 0; q < n; q++) dtype_store(bufs[i], t->dtype, (size_t)q, vals[q]);
            free(vals);
        }
        if (ir_pack_buffer(t, &bufs[i], n) != 0) { fprintf(stderr, "ueajc: error: out of memory for %s\n", t->name); goto diags; }
    }
    jm.forward(bufs, NULL);
    UEAJ_ASSERT(out != NULL);
    HostTensor res = {0};
    res.name = "out";
    res.rank = out->rank;
    for (int a = 0; a < out->rank; a++) res.shape[a] = out->shape[a].c;
    res.dtype = out->dtype;
    res.data = bufs[out->id];
    res.nbytes = (size_t)ir_numel_const(out) * dtype_size(out->dtype);
    res.view = 1;
    TioError terr;
    if (has_suffix(o->out_path, ".safetensors")) {
        const HostTensor *list[1] = {&res};
        if (tio_write_safetensors(o->out_path, list, 1, &terr) != 0) { fprintf(stderr, "%s\n", terr.msg); goto diags; }
    } else if (has_suffix(o->out_path, ".npy")) {
        void *wide = NULL;
        if (!dtype_is_float(res.dtype) || dtype_size(res.dtype) < 2 || res.dtype == DT_BF16) {
            /* numpy has no bf16/fp8: widen exactly to f32 */
            size_t n = (size_t)ir_numel_const(out);
            wide = malloc(4 * (n ? n : 1));
            dtype_convert(wide, DT_F32, res.data, res.dtype, n);
            fprintf(stderr, "ueajc: note: %s: .npy has no %s; the result is written as f32 (exactly); use "
                            ".safetensors to keep %s\n", o->out_path, dtype_name(res.dtype), dtype_name(res.dtype));
            res.data = wide;
            res.dtype = DT_F32;
            res.nbytes = 4 * n;
        }
        int wr = tio_write_npy(o->out_path, &res, &terr);
        free(wide);
        if (wr != 0) { fprintf(stderr, "%s\n", terr.msg); goto diags; }
    } else {
        fprintf(stderr, "ueajc: error: %s: the output must be .npy or .safetensors\n", o->out_path);
        goto diags;
    }
    status = 0;

diags:
    ueaj_diag_render(ctx, stderr);
    if (ueaj_error_count(ctx)) status = 1;
    if (bufs && g)
        for (int i = 0; i < g->tensors.n; i++) free(bufs[i]);
    free(bufs);
    jit_c_close(&jm);
    free(csrc);
    for (int i = 0; slots && i < nbound_slots; i++) release(&slots[i]);
    for (int i = 0; named && i < nbound_named; i++) release(&named[i]);
    free(slots);
    free(named);
    ueaj_ctx_free(ctx);
    return status;
}
