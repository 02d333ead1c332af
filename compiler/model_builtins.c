/* model_builtins.c - the built-in ops a transformer needs, for model files.
 *
 *   silu(x) relu(x) gelu(x) exp(x)            elementwise
 *   softmax(x)                                 over the last axis
 *   sum(x) mean(x) max(x)                      reductions over the last axis
 *   rms_norm(x, w, eps = 1e-6, mode = "hf")    x [.., d], w [d]; modes:
 *       "hf"          HuggingFace LLaMA: w * cast(x * rsqrt(mean(x^2) + eps))
 *       "uncentered"  the seed's: x^ * w        "centered": x^ * (1 + w)
 *       "none"        x^ (no weight: rms_norm(x, eps = ...))
 *   rope(x, pos, theta = 10000, type = "default", factor = 1,
 *        low_freq_factor = 1, high_freq_factor = 4, original_max_position = 8192)
 *       x [n, .., k] rotated (half-split, as HF) by positions pos [n] (i32);
 *       type "llama3" and "linear" are HF's rope_scaling variants.
 *   attention(q, k, v, causal = true, window = 0, scale = 1/sqrt(k))
 *       q [n, H, k], k [m, Hkv, k], v [m, Hkv, v] -> [n, H, v]; query head h
 *       uses KV head h / (H / Hkv) (GQA); window > 0: a query sees only the
 *       last `window` keys (itself included).
 *   embedding(table, ids)                      table [V, d], ids [n] -> [n, d]
 *
 * Activations are f32.  The RoPE inverse frequencies are computed here, at
 * compile time, in double and rounded to f32 (HF computes them in f32 from
 * the same formula), and emitted as a constant table.
 */
#include <limits.h>
#include <math.h>
#include <string.h>
#include "model_sema.h"

typedef struct Args {
    const Ast *pos[8];
    int        npos;
    const Ast *kw[16];
    int        nkw;
} Args;

static bool split_args(MSema *S, const Ast *x, Args *a, int min_pos, int max_pos, const char *const *kwnames)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < x->args.n; i++) {
        const Ast *arg = x->args.v[i];
        if (arg->kind != A_KWARG) {
            if (a->nkw) { diag_error(S->ctx, arg->span, "positional argument after a keyword argument"); return false; }
            if (a->npos >= max_pos) {
                diag_error(S->ctx, arg->span, "%s takes at most %d positional argument%s", x->name, max_pos,
                           max_pos == 1 ? "" : "s");
                return false;
            }
            a->pos[a->npos++] = arg;
            continue;
        }
        int k = 0;
        while (kwnames && kwnames[k] && strcmp(kwnames[k], arg->name)) k++;
        if (!kwnames || !kwnames[k]) {
            Diag *d = diag_error(S->ctx, arg->name_span, "%s has no parameter '%s'", x->name, arg->name);
            if (kwnames && kwnames[0]) {
                Buf b;
                buf_init(&b);
                for (int q = 0; kwnames[q]; q++) buf_printf(&b, "%s%s", q ? ", " : "", kwnames[q]);
                diag_note(S->ctx, d, x->name_span, "its keyword parameters are: %s", b.p);
                buf_free(&b);
            }
            return false;
        }
        a->kw[k] = arg->a;
        a->nkw++;
    }
    if (a->npos < min_pos) {
        diag_error(S->ctx, x->span, "%s needs %d argument%s", x->name, min_pos, min_pos == 1 ? "" : "s");
        return false;
    }
    return true;
}

static IrTensor *tensor_arg(MSema *S, const Ast *x)
{
    Val v = eval(S, x);
    if (v.k == V_TENSOR) return v.t;
    if (v.k != V_ERROR) diag_error(S->ctx, x->span, "expected a tensor, got a %s", kind_str(v.k));
    return NULL;
}

static bool num_arg(MSema *S, const Ast *x, double dflt, double *out)
{
    if (!x) { *out = dflt; return true; }
    Val v = eval(S, x);
    if (v.k == V_NUM || v.k == V_BOOL) { *out = v.num; return true; }
    if (v.k == V_UNDEF) diag_error(S->ctx, x->span, "this config field is absent; give a default with '?\?'");
    else if (v.k != V_ERROR) diag_error(S->ctx, x->span, "expected a number, got a %s", kind_str(v.k));
    return false;
}

static const char *str_arg(MSema *S, const Ast *x, const char *dflt)
{
    if (!x) return dflt;
    Val v = eval(S, x);
    if (v.k == V_STR) return v.str;
    if (v.k == V_UNDEF) return dflt;
    if (v.k != V_ERROR) diag_error(S->ctx, x->span, "expected a string, got a %s", kind_str(v.k));
    return NULL;
}

static IrNode *node(MSema *S, OpKind op, IrTensor *out, int nin, const Ast *x)
{
    IrNode *n = ir_node(S->ctx, S->g, op, out, nin);
    n->span = x->span;
    n->origin = arena_printf(&S->ctx->arena, "%s", span_text(S->ctx, x->span));
    return n;
}

static bool size_eq(IrSize a, IrSize b) { return a.dyn == b.dyn && (a.dyn >= 0 || a.c == b.c); }

static Val unary(MSema *S, const Ast *x, OpKind op)
{
    Args a;
    if (!split_args(S, x, &a, 1, 1, NULL)) return verr();
    IrTensor *t = tensor_arg(S, a.pos[0]);
    if (!t) return verr();
    IrTensor *o = new_temp(S, x->span, DT_F32, t->rank, t->shape);
    node(S, op, o, 1, x)->in[0] = t;
    return vtensor(o);
}

static Val b_rms_norm(MSema *S, const Ast *x)
{
    static const char *const kw[] = {"eps", "mode", NULL};
    Args a;
    if (!split_args(S, x, &a, 1, 2, kw)) return verr();
    const char *mode = str_arg(S, a.kw[1], "hf");
    double eps;
    if (!mode || !num_arg(S, a.kw[0], 1e-6, &eps)) return verr();
    int m;
    if (!strcmp(mode, "hf")) m = RMSNORM_HF;
    else if (!strcmp(mode, "centered")) m = RMSNORM_CENTERED;
    else if (!strcmp(mode, "uncentered")) m = RMSNORM_UNCENTERED;
    else if (!strcmp(mode, "none")) m = RMSNORM_NONE;
    else {
        diag_error(S->ctx, a.kw[1]->span, "unknown rms_norm mode '%s' (hf, centered, uncentered, none)", mode);
        return verr();
    }
    IrTensor *t = tensor_arg(S, a.pos[0]);
    if (!t) return verr();
    if (t->rank < 1) { diag_error(S->ctx, a.pos[0]->span, "rms_norm needs at least one axis"); return verr(); }
    IrTensor *w = NULL;
    if (m != RMSNORM_NONE) {
        if (a.npos < 2) { diag_error(S->ctx, x->span, "rms_norm needs a weight (or mode = \"none\")"); return verr(); }
        w = tensor_arg(S, a.pos[1]);
        if (!w) return verr();
        if (w->rank != 1 || !size_eq(w->shape[0], t->shape[t->rank - 1])) {
            IrSize last = t->shape[t->rank - 1];
            diag_error(S->ctx, a.pos[1]->span, "the weight must have shape [%s] (the last axis of x %s); it has %s",
                       last.dyn >= 0 ? S->g->dyn_names[last.dyn] : arena_printf(&S->ctx->arena, "%lld", (long long)last.c),
                       shape_str(S, t), shape_str(S, w));
            return verr();
        }
    } else if (a.npos > 1) {
        diag_error(S->ctx, a.pos[1]->span, "mode \"none\" takes no weight");
        return verr();
    }
    IrTensor *o = new_temp(S, x->span, DT_F32, t->rank, t->shape);
    IrNode *n = node(S, OP_RMSNORM, o, w ? 2 : 1, x);
    n->in[0] = t;
    if (w) n->in[1] = w;
    n->iattr[0] = m;
    n->fattr[0] = eps;
    return vtensor(o);
}

static Val b_rope(MSema *S, const Ast *x)
{
    static const char *const kw[] = {"theta", "type", "factor", "low_freq_factor", "high_freq_factor",
                                     "original_max_position", NULL};
    Args a;
    if (!split_args(S, x, &a, 2, 2, kw)) return verr();
    double theta, factor, lowf, highf, orig;
    const char *type = str_arg(S, a.kw[1], "default");
    if (!type || !num_arg(S, a.kw[0], 10000, &theta) || !num_arg(S, a.kw[2], 1, &factor) ||
        !num_arg(S, a.kw[3], 1, &lowf) || !num_arg(S, a.kw[4], 4, &highf) || !num_arg(S, a.kw[5], 8192, &orig))
        return verr();
    IrTensor *t = tensor_arg(S, a.pos[0]), *p = tensor_arg(S, a.pos[1]);
    if (!t || !p) return verr();
    if (t->rank < 2 || t->shape[t->rank - 1].dyn >= 0 || t->shape[t->rank - 1].c % 2) {
        diag_error(S->ctx, a.pos[0]->span, "rope needs x [n, .., k] with an even, fixed k; x has %s", shape_str(S, t));
        return verr();
    }
    if (t->shape[t->rank - 1].c > ROPE_MAX_K) { /* its frequencies are a table in the generated code */
        diag_error(S->ctx, a.pos[0]->span, "rope: k is %lld, at most %d (x has %s)",
                   (long long)t->shape[t->rank - 1].c, ROPE_MAX_K, shape_str(S, t));
        return verr();
    }
    if (p->rank != 1 || !size_eq(p->shape[0], t->shape[0]) || p->dtype != DT_I32) {
        diag_error(S->ctx, a.pos[1]->span, "positions must be i32 [%s] (the first axis of x); they are %s %s",
                   t->shape[0].dyn >= 0 ? S->g->dyn_names[t->shape[0].dyn] : "n", dtype_name(p->dtype),
                   shape_str(S, p));
        return verr();
    }
    if (!(theta > 0) || !(factor > 0)) { diag_error(S->ctx, x->span, "rope: theta and factor must be positive"); return verr(); }
    int k = (int)t->shape[t->rank - 1].c, half = k / 2;
    float *tab = ARENA_ARRAY(&S->ctx->arena, float, half);
    for (int j = 0; j < half; j++) {
        double inv = 1.0 / pow(theta, (2.0 * j) / k);
        if (!strcmp(type, "llama3")) {
            /* HF _compute_llama3_parameters */
            double low_wl = orig / lowf, high_wl = orig / highf, wl = 2 * M_PI / inv;
            if (wl > low_wl) inv = inv / factor;
            else if (wl >= high_wl) {
                double smooth = (orig / wl - lowf) / (highf - lowf);
                inv = (1 - smooth) * inv / factor + smooth * inv;
            }
        } else if (!strcmp(type, "linear")) {
            inv = inv / factor;
        } else if (strcmp(type, "default") != 0) {
            diag_error(S->ctx, a.kw[1]->span, "unknown rope type '%s' (default, llama3, linear)", type);
            return verr();
        }
        tab[j] = (float)inv;
    }
    IrTensor *o = new_temp(S, x->span, DT_F32, t->rank, t->shape);
    IrNode *n = node(S, OP_ROPE, o, 2, x);
    n->in[0] = t;
    n->in[1] = p;
    n->table = tab;
    n->iattr[2] = half;
    return vtensor(o);
}

static Val b_attention(MSema *S, const Ast *x)
{
    static const char *const kw[] = {"causal", "window", "scale", "pos", NULL};
    Args a;
    if (!split_args(S, x, &a, 3, 3, kw)) return verr();
    IrTensor *q = tensor_arg(S, a.pos[0]), *k = tensor_arg(S, a.pos[1]), *v = tensor_arg(S, a.pos[2]);
    if (!q || !k || !v) return verr();
    if ((q->rank != 3 && q->rank != 4) || k->rank != 3 || v->rank != 3) {
        diag_error(S->ctx, x->span, "attention expects q [n, H, k] or [n, Hkv, R, k], k [m, Hkv, k], v [m, Hkv, v]; "
                   "got %s, %s, %s", shape_str(S, q), shape_str(S, k), shape_str(S, v));
        return verr();
    }
    for (int a2 = 1; a2 < q->rank - 1; a2++)
        if (q->shape[a2].dyn >= 0) { diag_error(S->ctx, x->span, "head counts must be fixed"); return verr(); }
    if (q->rank == 4 && !size_eq(q->shape[1], k->shape[1])) {
        diag_error(S->ctx, x->span, "q [n, Hkv, R, k] must have the KV heads of k: q %s, k %s", shape_str(S, q),
                   shape_str(S, k));
        return verr();
    }
    if (!size_eq(q->shape[q->rank - 1], k->shape[2]) || !size_eq(k->shape[0], v->shape[0]) ||
        !size_eq(k->shape[1], v->shape[1])) {
        diag_error(S->ctx, x->span, "attention shapes disagree: q %s, k %s, v %s", shape_str(S, q), shape_str(S, k),
                   shape_str(S, v));
        return verr();
    }
    int64_t Hq = q->rank == 4 ? q->shape[1].c * q->shape[2].c : q->shape[1].c;
    if (k->shape[1].dyn >= 0 || Hq % (k->shape[1].c ? k->shape[1].c : 1)) {
        diag_error(S->ctx, x->span, "query heads (%s) must be a multiple of KV heads (%s)", shape_str(S, q),
                   shape_str(S, k));
        return verr();
    }
    double causal, window, scale;
    if (!num_arg(S, a.kw[0], 1, &causal) || !num_arg(S, a.kw[1], 0, &window) ||
        !num_arg(S, a.kw[2], 1.0 / sqrt((double)q->shape[q->rank - 1].c), &scale))
        return verr();
    if (window != 0 && (!causal || window < 0 || window != floor(window) || window > INT_MAX)) {
        diag_error(S->ctx, a.kw[1]->span, causal ? "window must be a positive whole number of keys (at most 2^31 - 1)"
                                                 : "a sliding window needs causal = true");
        return verr();
    }
    IrTensor *pos = NULL;
    if (a.kw[3]) {
        pos = tensor_arg(S, a.kw[3]);
        if (!pos) return verr();
        if (pos->rank != 1 || pos->dtype != DT_I32 || !size_eq(pos->shape[0], q->shape[0])) {
            diag_error(S->ctx, a.kw[3]->span, "pos must be i32 [n] (one position per query); it is %s %s",
                       dtype_name(pos->dtype), shape_str(S, pos));
            return verr();
        }
    }
    IrSize shp[4];
    memcpy(shp, q->shape, sizeof shp);
    shp[q->rank - 1] = v->shape[2];
    IrTensor *o = new_temp(S, x->span, DT_F32, q->rank, shp);
    IrNode *n = node(S, OP_ATTENTION, o, pos ? 4 : 3, x);
    n->in[0] = q;
    n->in[1] = k;
    n->in[2] = v;
    if (pos) n->in[3] = pos;
    n->iattr[0] = causal != 0;
    n->iattr[1] = (int)window;
    n->fattr[0] = scale;
    return vtensor(o);
}

static Val b_embedding(MSema *S, const Ast *x)
{
    Args a;
    if (!split_args(S, x, &a, 2, 2, NULL)) return verr();
    IrTensor *tab = tensor_arg(S, a.pos[0]), *ids = tensor_arg(S, a.pos[1]);
    if (!tab || !ids) return verr();
    if (tab->rank != 2 || ids->rank != 1 || ids->dtype != DT_I32) {
        diag_error(S->ctx, x->span, "embedding expects a table [V, d] and i32 ids [n]; got %s and %s %s",
                   shape_str(S, tab), dtype_name(ids->dtype), shape_str(S, ids));
        return verr();
    }
    IrSize shp[2] = {ids->shape[0], tab->shape[1]};
    IrTensor *o = new_temp(S, x->span, DT_F32, 2, shp);
    IrNode *n = node(S, OP_EMBED, o, 2, x);
    n->in[0] = tab;
    n->in[1] = ids;
    return vtensor(o);
}

static Val reduce(MSema *S, const Ast *x, OpKind op)
{
    Args a;
    if (!split_args(S, x, &a, 1, 1, NULL)) return verr();
    IrTensor *t = tensor_arg(S, a.pos[0]);
    if (!t) return verr();
    if (t->rank < 1) { diag_error(S->ctx, a.pos[0]->span, "%s needs at least one axis", x->name); return verr(); }
    IrTensor *o = new_temp(S, x->span, DT_F32, t->rank - 1, t->shape);
    node(S, op, o, 1, x)->in[0] = t;
    return vtensor(o);
}

/* cache_write(cache, x, pos): cache [C, ..] is a state; row pos[i] := x[i].
 * Returns the cache, so that `kc = cache_write(kc, k, pos)` reads naturally. */
static Val b_cache_write(MSema *S, const Ast *x)
{
    Args a;
    if (!split_args(S, x, &a, 3, 3, NULL)) return verr();
    IrTensor *c = tensor_arg(S, a.pos[0]), *v = tensor_arg(S, a.pos[1]), *p = tensor_arg(S, a.pos[2]);
    if (!c || !v || !p) return verr();
    if (c->kind != TEN_STATE) {
        diag_error(S->ctx, a.pos[0]->span, "cache_write writes into a state tensor (declare it with 'state')");
        return verr();
    }
    bool ok = c->rank == v->rank && c->rank >= 1;
    for (int i = 1; ok && i < c->rank; i++) ok = size_eq(c->shape[i], v->shape[i]);
    if (!ok) {
        diag_error(S->ctx, x->span, "cache %s and rows %s must agree after the first axis", shape_str(S, c),
                   shape_str(S, v));
        return verr();
    }
    if (p->rank != 1 || p->dtype != DT_I32 || !size_eq(p->shape[0], v->shape[0])) {
        diag_error(S->ctx, a.pos[2]->span, "positions must be i32 [%s]; they are %s %s",
                   v->shape[0].dyn >= 0 ? S->g->dyn_names[v->shape[0].dyn] : "n", dtype_name(p->dtype), shape_str(S, p));
        return verr();
    }
    IrNode *n = node(S, OP_CACHE_WRITE, c, 2, x);
    n->in[0] = v;
    n->in[1] = p;
    return vtensor(c);
}

/* last_rows(x, m): the last m rows of x [n, ..], m a dim (the runtime asks
 * for the logits of the last token only, or of every token). */
static Val b_last_rows(MSema *S, const Ast *x)
{
    Args a;
    if (!split_args(S, x, &a, 2, 2, NULL)) return verr();
    IrTensor *t = tensor_arg(S, a.pos[0]);
    if (!t) return verr();
    Val m = eval(S, a.pos[1]);
    IrSize rows;
    if (m.k == V_RUNTIME) rows = (IrSize){-1, m.dyn};
    else if (m.k == V_NUM && m.num >= 0 && m.num == floor(m.num)) rows = (IrSize){(int64_t)m.num, -1};
    else {
        if (m.k != V_ERROR) diag_error(S->ctx, a.pos[1]->span, "last_rows needs a row count (a dim), got a %s", kind_str(m.k));
        return verr();
    }
    if (t->rank < 1) { diag_error(S->ctx, a.pos[0]->span, "last_rows needs at least one axis"); return verr(); }
    IrSize shp[IR_MAX_RANK];
    memcpy(shp, t->shape, sizeof shp);
    shp[0] = rows;
    IrTensor *o = new_temp(S, x->span, DT_F32, t->rank, shp);
    node(S, OP_LAST_ROWS, o, 1, x)->in[0] = t;
    return vtensor(o);
}

Val model_builtin(MSema *S, const Ast *x)
{
    if (!strcmp(x->name, "cache_write")) return b_cache_write(S, x);
    if (!strcmp(x->name, "last_rows")) return b_last_rows(S, x);
    if (!strcmp(x->name, "sum")) return reduce(S, x, OP_SUM);
    if (!strcmp(x->name, "mean")) return reduce(S, x, OP_MEAN);
    if (!strcmp(x->name, "max")) return reduce(S, x, OP_MAX);
    static const struct { const char *name; OpKind op; } unaries[] = {
        {"silu", OP_SILU}, {"relu", OP_RELU}, {"gelu", OP_GELU}, {"exp", OP_EXP}, {"softmax", OP_SOFTMAX},
    };
    for (size_t i = 0; i < sizeof unaries / sizeof unaries[0]; i++)
        if (!strcmp(x->name, unaries[i].name)) return unary(S, x, unaries[i].op);
    if (!strcmp(x->name, "rms_norm")) return b_rms_norm(S, x);
    if (!strcmp(x->name, "rope")) return b_rope(S, x);
    if (!strcmp(x->name, "attention")) return b_attention(S, x);
    if (!strcmp(x->name, "embedding")) return b_embedding(S, x);
    diag_error(S->ctx, x->name_span, "unknown function '%s'", x->name);
    return verr();
}
