/* model.c - model description files (.ue): the AST -> the IR.
 *
 * A model file is a small straight-line program.  Compile-time statements
 * (`dim`, `let`) evaluate numbers, booleans and strings, reading
 * config.json as `config.FIELD` (`??` gives a default when a field is
 * absent) and honouring `--dim NAME=VALUE` overrides.  `dim n = runtime`
 * declares a size known only when the model runs (sequence length).
 * Declarations make tensors: `param` (with the checkpoint tensor it loads
 * from: a name pattern where {l} is the layer index, its shape in the
 * checkpoint and transforms such as transpose(1, 0); the final reshape to
 * the declared shape is implicit), `input`, `state`, `output`.
 * Assignments build nodes: `ueajsum("...", a, b, w=c)` is a contraction
 * (the string is parsed as ueajsum, with errors pointing into the file),
 * and built-ins (rms_norm, rope, attention, embedding, silu, ...) are ops.
 * `repeat l < L { ... }` is unrolled: each iteration re-evaluates its
 * statements with l bound, so per-layer parameters are distinct tensors.
 *
 *   dim d = config.hidden_size
 *   param wq[d, H, k] : bf16 = load "model.layers.{l}.self_attn.q_proj.weight" [H * k, d] transpose(1, 0)
 *   q = ueajsum("nd,*dhk->nhk", x, wq)
 *
 * Every mistake is a diagnostic at the offending span; evaluation goes on
 * where it can, so one run reports many errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "internal.h"
#include "model.h"
#include "parser.h"

#include "model_sema.h"

Val verr(void) { Val v = {0}; v.k = V_ERROR; return v; }
Val vnum(double x, bool is_int) { Val v = {0}; v.k = V_NUM; v.num = x; v.is_int = is_int; return v; }
Val vtensor(IrTensor *t) { Val v = {0}; v.k = V_TENSOR; v.t = t; return v; }

/* The environment: one binding per name (there are no scopes; a new
 * value replaces the old one), in a hash table, so that a model unrolled
 * over many layers does not look every name up through every binding
 * made before. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static Binding **env_slot(MSema *S, const char *name)
{
    uint32_t mask = (uint32_t)S->env_cap - 1;
    for (uint32_t i = name_hash(name) & mask;; i = (i + 1) & mask)
        if (!S->env[i] || !strcmp(S->env[i]->name, name)) return &S->env[i];
}

static void bind(MSema *S, const char *name, Val v, Span sp)
{
    if (2 * (S->env_n + 1) > S->env_cap) {
        Binding **old = S->env;
        int old_cap = S->env_cap;
        S->env_cap = old_cap ? 2 * old_cap : 64;
        S->env = ARENA_ARRAY(&S->ctx->arena, Binding *, S->env_cap);
        for (int i = 0; i < old_cap; i++)
            if (old[i]) *env_slot(S, old[i]->name) = old[i];
    }
    Binding **slot = env_slot(S, name);
    if (!*slot) {
        *slot = ARENA_NEW(&S->ctx->arena, Binding);
        S->env_n++;
    }
    (*slot)->name = name;
    (*slot)->v = v;
    (*slot)->span = sp;
}

static Binding *lookup(MSema *S, const char *name)
{
    return S->env_cap ? *env_slot(S, name) : NULL;
}

/* Tensor names in use, counted, for naming temporaries after variables
 * without comparing against every tensor.  Tensors are only appended while
 * a model is lowered; renaming goes through rename_tensor(). */
struct NameUse { const char *name; int count; };

static struct NameUse *name_use(MSema *S, const char *name)
{
    if (2 * (S->names_n + 1) > S->names_cap) {
        struct NameUse *old = S->names;
        int old_cap = S->names_cap;
        S->names_cap = old_cap ? 2 * old_cap : 256;
        S->names = ARENA_ARRAY(&S->ctx->arena, struct NameUse, S->names_cap);
        for (int i = 0; i < old_cap; i++)
            if (old[i].name) *name_use(S, old[i].name) = old[i];
    }
    uint32_t mask = (uint32_t)S->names_cap - 1;
    for (uint32_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        if (!S->names[i].name) { S->names[i].name = name; S->names_n++; return &S->names[i]; }
        if (!strcmp(S->names[i].name, name)) return &S->names[i];
    }
}

static bool name_taken(MSema *S, const char *name)
{
    for (; S->names_upto < S->g->tensors.n; S->names_upto++)
        name_use(S, ((IrTensor *)S->g->tensors.v[S->names_upto])->name)->count++;
    return name_use(S, name)->count > 0;
}

static void rename_tensor(MSema *S, IrTensor *t, const char *name)
{
    name_taken(S, name); /* counts every tensor made so far */
    name_use(S, t->name)->count--;
    t->name = name;
    name_use(S, name)->count++;
}

const char *kind_str(VKind k)
{
    static const char *const n[] = {"undefined", "number", "boolean", "string", "run-time dim", "tensor", "error"};
    return n[k];
}


static Val json_to_val(MSema *S, cJSON *j, const Ast *x)
{
    if (cJSON_IsBool(j)) { Val v = vnum(cJSON_IsTrue(j), true); v.k = V_BOOL; return v; }
    if (cJSON_IsNumber(j)) return vnum(j->valuedouble, j->valuedouble == floor(j->valuedouble) && fabs(j->valuedouble) < 9e15);
    if (cJSON_IsString(j)) { Val v = {0}; v.k = V_STR; v.str = arena_strdup(&S->ctx->arena, j->valuestring); return v; }
    if (cJSON_IsNull(j)) { Val v = {0}; v.k = V_UNDEF; v.undef_why = "null"; return v; }
    if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
        diag_error(S->ctx, x->span, "config field '%s' is %s; expected a number, a boolean or a string", x->name,
                   cJSON_IsObject(j) ? "an object" : "an array");
        return verr();
    }
    diag_error(S->ctx, x->span, "config field '%s' has a type the model language cannot use", x->name);
    return verr();
}

/* config.a.b: walk the JSON; an absent field is V_UNDEF (for `??`). */
static cJSON *config_node(MSema *S, const Ast *x, bool *is_config)
{
    if (x->kind == A_NAME && !strcmp(x->name, "config") && !lookup(S, "config")) { *is_config = true; return S->config; }
    if (x->kind != A_FIELD) { *is_config = false; return NULL; }
    cJSON *parent = config_node(S, x->a, is_config);
    if (!*is_config || !parent) return NULL;
    return cJSON_IsObject(parent) ? cJSON_GetObjectItemCaseSensitive(parent, x->name) : NULL;
}

/* config.a.b -> "a.b" */
static void config_key(Buf *b, const Ast *x)
{
    if (x->kind != A_FIELD) return;
    config_key(b, x->a);
    if (b->len) buf_putc(b, '.');
    buf_puts(b, x->name);
}

/* Records the value a config field had (once per key) in g->config_reads. */
static void note_config_read(MSema *S, const Ast *x, Val v)
{
    if (v.k != V_UNDEF && v.k != V_NUM && v.k != V_BOOL && v.k != V_STR) return;
    Buf k;
    buf_init(&k);
    config_key(&k, x);
    if (!k.p) return;
    PtrVec *r = &S->g->config_reads;
    for (int i = 0; i < r->n; i++)
        if (!strcmp(((IrConfigRead *)r->v[i])->key, k.p)) { buf_free(&k); return; }
    IrConfigRead *c = ARENA_NEW(&S->ctx->arena, IrConfigRead);
    c->key = arena_strdup(&S->ctx->arena, k.p);
    buf_free(&k);
    c->kind = v.k == V_NUM ? CFG_NUM : v.k == V_BOOL ? CFG_BOOL : v.k == V_STR ? CFG_STR : CFG_ABSENT;
    c->num = v.num;
    c->str = v.k == V_STR ? v.str : NULL;
    vec_push(&S->ctx->arena, r, c);
}

static bool truthy(MSema *S, Val v, Span sp)
{
    if (v.k == V_BOOL || v.k == V_NUM) return v.num != 0;
    if (v.k != V_ERROR) diag_error(S->ctx, sp, "expected a boolean, got a %s", kind_str(v.k));
    return false;
}

static Val eval_binary_vals(MSema *S, const Ast *x, Val a, Val b);

/* a is the already-evaluated left operand (each operand is evaluated once). */
static Val eval_binary(MSema *S, const Ast *x, Val a)
{
    return eval_binary_vals(S, x, a, eval(S, x->b));
}

static Val eval_binary_vals(MSema *S, const Ast *x, Val a, Val b)
{
    if (a.k == V_ERROR || b.k == V_ERROR) return verr();
    if (x->op == TOK_AND) return (Val){.k = V_BOOL, .num = truthy(S, a, x->a->span) && truthy(S, b, x->b->span)};
    if (x->op == TOK_OR) return (Val){.k = V_BOOL, .num = truthy(S, a, x->a->span) || truthy(S, b, x->b->span)};
    if ((x->op == TOK_EQ || x->op == TOK_NE) && a.k == V_STR && b.k == V_STR)
        return (Val){.k = V_BOOL, .num = (strcmp(a.str, b.str) == 0) == (x->op == TOK_EQ)};
    const Val *bad = (a.k != V_NUM && a.k != V_BOOL) ? &a : (b.k != V_NUM && b.k != V_BOOL) ? &b : NULL;
    if (bad) {
        const Ast *w = bad == &a ? x->a : x->b;
        if (bad->k == V_UNDEF)
            diag_error(S->ctx, w->span, "this config field is absent (%s); give a default with '?\?'",
                       bad->undef_why ? bad->undef_why : "missing");
        else
            diag_error(S->ctx, w->span, "expected a number, got a %s", kind_str(bad->k));
        return verr();
    }
    double p = a.num, q = b.num;
    bool ints = a.is_int && b.is_int;
    switch (x->op) {
    case '+': return vnum(p + q, ints);
    case '-': return vnum(p - q, ints);
    case '*': return vnum(p * q, ints);
    case '/':
        if (q == 0) { diag_error(S->ctx, x->span, "division by zero"); return verr(); }
        if (ints && fmod(p, q) != 0) {
            diag_error(S->ctx, x->span, "%g / %g is not a whole number (dims must divide exactly)", p, q);
            return verr();
        }
        return vnum(p / q, ints);
    case '%':
        if (q == 0) { diag_error(S->ctx, x->span, "division by zero"); return verr(); }
        return vnum(fmod(p, q), ints);
    case '<': return (Val){.k = V_BOOL, .num = p < q};
    case '>': return (Val){.k = V_BOOL, .num = p > q};
    case TOK_LE: return (Val){.k = V_BOOL, .num = p <= q};
    case TOK_GE: return (Val){.k = V_BOOL, .num = p >= q};
    case TOK_EQ: return (Val){.k = V_BOOL, .num = p == q};
    case TOK_NE: return (Val){.k = V_BOOL, .num = p != q};
    }
    ueaj_unreachable();
}


Val eval(MSema *S, const Ast *x)
{
    switch (x->kind) {
    case A_NUM: return vnum(x->num, x->is_int);
    case A_BOOL: return (Val){.k = V_BOOL, .num = x->num};
    case A_STR: return (Val){.k = V_STR, .str = x->str};
    case A_NAME: {
        Binding *b = lookup(S, x->name);
        if (b) return b->v;
        if (!strcmp(x->name, "runtime")) {
            diag_error(S->ctx, x->span, "'runtime' is only valid as a whole dim value: dim n = runtime");
            return verr();
        }
        if (!strcmp(x->name, "config"))
            diag_error(S->ctx, x->span, "'config' alone is not a value; use config.FIELD");
        else
            diag_error(S->ctx, x->span, "unknown name '%s'", x->name);
        return verr();
    }
    case A_FIELD: {
        bool is_config = false;
        cJSON *j = config_node(S, x, &is_config);
        if (!is_config) { diag_error(S->ctx, x->span, "only config.FIELD has fields"); return verr(); }
        if (!S->config) {
            Val v = {0};
            v.k = V_UNDEF;
            v.undef_why = "no --config given";
            return v;
        }
        if (!j) { note_config_read(S, x, (Val){.k = V_UNDEF}); Val v = {0}; v.k = V_UNDEF; v.undef_why = "not in config.json"; return v; }
        Val v = json_to_val(S, j, x);
        note_config_read(S, x, v);
        return v;
    }
    case A_DEFAULT: {
        Val a = eval(S, x->a);
        return a.k == V_UNDEF ? eval(S, x->b) : a;
    }
    case A_COND: {
        Val c = eval(S, x->a);
        if (c.k == V_ERROR) return verr();
        return truthy(S, c, x->a->span) ? eval(S, x->b) : eval(S, x->c);
    }
    case A_UNARY: {
        Val a = eval(S, x->a);
        if (a.k == V_ERROR) return a;
        if (x->op == '!') return (Val){.k = V_BOOL, .num = !truthy(S, a, x->a->span)};
        if (a.k != V_NUM) { diag_error(S->ctx, x->a->span, "expected a number, got a %s", kind_str(a.k)); return verr(); }
        return vnum(-a.num, a.is_int);
    }
    case A_BINARY: {
        /* tensor arithmetic: elementwise ops */
        Val a = eval(S, x->a);
        if (a.k == V_ERROR) return a;
        if (a.k == V_TENSOR) return model_tensor_binary(S, x, a, eval(S, x->b), false);
        if (a.k == V_NUM && (x->op == '*' || x->op == '+' || x->op == '-' || x->op == '/')) {
            /* 2 * x: a number with a tensor on the right */
            Val b = eval(S, x->b);
            if (b.k == V_TENSOR) return model_tensor_binary(S, x, b, a, true);
            if (b.k == V_ERROR) return b;
            return eval_binary_vals(S, x, a, b);
        }
        return eval_binary(S, x, a);
    }
    case A_CALL: return eval_call(S, x, 0);
    case A_METHOD: {
        /* chained ueajsum helpers: ueajsum(...).unit().fp8_params() */
        unsigned h = 0;
        const Ast *base = x;
        while (base->kind == A_METHOD) {
            unsigned f;
            if (ueajsum_helper_from_name(base->name, &f) != 0) {
                diag_error(S->ctx, base->name_span, "unknown helper '%s' (unit, fp8_params, bf16_params, "
                           "bf16_grads, fp32_grads)", base->name);
                return verr();
            }
            if (base->args.n) diag_error(S->ctx, base->args.v[0]->span, "'%s' takes no arguments", base->name);
            h |= f;
            base = base->a;
        }
        if (base->kind != A_CALL || strcmp(base->name, "ueajsum") != 0) {
            diag_error(S->ctx, x->name_span, "helpers like '.%s()' apply to a ueajsum(...) call", x->name);
            return verr();
        }
        return eval_call(S, base, h);
    }
    case A_KWARG:
        diag_error(S->ctx, x->span, "a keyword argument is only valid inside a call");
        return verr();
    default: ueaj_unreachable();
    }
}

/* ---- tensors -------------------------------------------------------------- */

bool eval_int(MSema *S, const Ast *x, int64_t *out, IrSize *sz)
{
    Val v = eval(S, x);
    if (v.k == V_RUNTIME && sz) { *sz = (IrSize){-1, v.dyn}; return true; }
    if (v.k == V_ERROR) return false;
    if (v.k == V_UNDEF) {
        diag_error(S->ctx, x->span, "this config field is absent (%s); give a default with '?\?'",
                   v.undef_why ? v.undef_why : "missing");
        return false;
    }
    if (v.k != V_NUM || v.num != floor(v.num) || v.num < 0 || v.num > 1e15) {
        diag_error(S->ctx, x->span, "expected a non-negative whole number, got %s",
                   v.k == V_NUM ? arena_printf(&S->ctx->arena, "%g", v.num) : kind_str(v.k));
        return false;
    }
    *out = (int64_t)v.num;
    if (sz) *sz = (IrSize){*out, -1};
    return true;
}

static bool eval_shape(MSema *S, const AstList *l, IrTensor *t, Span sp)
{
    if (l->n > IR_MAX_RANK) {
        diag_error(S->ctx, sp, "%d axes; at most %d are supported", l->n, IR_MAX_RANK);
        return false;
    }
    t->rank = l->n;
    bool ok = true;
    for (int a = 0; a < l->n; a++) {
        int64_t v;
        t->shape[a] = (IrSize){1, -1}; /* an axis in error reads as 1 in later messages, never as dim 0 */
        if (!eval_int(S, l->v[a], &v, &t->shape[a])) ok = false;
    }
    if (ok && ir_tensor_elems_bound(t) < 0) {
        diag_error(S->ctx, sp, "'%s' %s has more than 2^40 elements, the most one tensor may have", t->name,
                   shape_str(S, t));
        for (int a = 0; a < l->n; a++) t->shape[a] = (IrSize){1, -1}; /* later messages multiply no huge sizes */
        ok = false;
    }
    t->shape_known = ok;
    return ok;
}

static DType decl_dtype(MSema *S, const Ast *s, DType dflt)
{
    if (!s->dtype) return dflt;
    DType d;
    /* a let-bound string names the dtype: let wdt = config.torch_dtype ?? "bf16" */
    Binding *b = lookup(S, s->dtype);
    if (b && b->v.k == V_STR) {
        if (!dtype_parse(b->v.str, &d) || !dtype_is_float(d)) {
            diag_error(S->ctx, s->dtype_span, "'%s' is \"%s\", not a float dtype (f32, f16, bf16, f8e4m3, f8e5m2, f64)",
                       s->dtype, b->v.str);
            return dflt;
        }
        return d;
    }
    if (b && b->v.k == V_ERROR) return dflt;
    if (!dtype_parse(s->dtype, &d)) {
        diag_error(S->ctx, s->dtype_span, "unknown dtype '%s' (f32, f16, bf16, f8e4m3, f8e5m2, f64, i32)", s->dtype);
        return dflt;
    }
    /* the kernels store floats and i32 (ids, positions) only */
    if (!dtype_is_float(d) && d != DT_I32) {
        diag_error(S->ctx, s->dtype_span, "dtype '%s' is not supported in a model file (f32, f16, bf16, f8e4m3, "
                   "f8e5m2, f64, i32)", s->dtype);
        return dflt;
    }
    return d;
}

/* "model.layers.{l}.mlp" with l bound -> "model.layers.3.mlp" */
static const char *interpolate(MSema *S, const char *pat, Span sp)
{
    Buf b;
    buf_init(&b);
    for (const char *p = pat; *p; p++) {
        if (*p != '{') { buf_putc(&b, *p); continue; }
        const char *e = strchr(p, '}');
        if (!e) { diag_error(S->ctx, sp, "unclosed '{' in tensor name pattern"); break; }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(e - p - 1), p + 1);
        Binding *bd = lookup(S, name);
        if (!bd || bd->v.k != V_NUM) diag_error(S->ctx, sp, "'{%s}' in the pattern names no number in scope", name);
        else if (bd->v.num != floor(bd->v.num) || fabs(bd->v.num) >= 9007199254740992.0)
            diag_error(S->ctx, sp, "'{%s}' in the pattern is %g, not a whole number below 2^53", name, bd->v.num);
        else buf_printf(&b, "%lld", (long long)bd->v.num);
        p = e;
    }
    const char *r = arena_strdup(&S->ctx->arena, b.p ? b.p : "");
    buf_free(&b);
    return r;
}

static const char *tensor_name(MSema *S, const char *name)
{
    return S->layer >= 0 ? arena_printf(&S->ctx->arena, "%s.%d", name, S->layer) : name;
}

static void decl_param(MSema *S, const Ast *s)
{
    IrTensor *t = ir_tensor(S->ctx, S->g, tensor_name(S, s->name), TEN_PARAM, s->name_span);
    t->group = UG_PARAM;
    t->decl = s;
    bind(S, s->name, vtensor(t), s->name_span); /* bound even if its load mapping has errors */
    eval_shape(S, &s->args, t, s->span);
    t->dtype = decl_dtype(S, s, DT_BF16);
    t->grad_dtype = t->dtype;
    if (s->load) {
        Val v = eval(S, s->load);
        if (v.k == V_STR) t->load_name = interpolate(S, v.str, s->load->span);
        else if (v.k != V_ERROR) diag_error(S->ctx, s->load->span, "load expects a tensor name (a string), got a %s",
                                            kind_str(v.k));
        if (!t->shape_known) return; /* already reported */
        for (int a = 0; a < t->rank; a++)
            if (t->shape[a].dyn >= 0) {
                diag_error(S->ctx, s->args.v[a]->span, "a parameter loaded from a checkpoint needs a shape known at "
                           "compile time: '%s' is a run-time dim", S->g->dyn_names[t->shape[a].dyn]);
                return;
            }
        if (s->load_shape.n > IR_MAX_RANK) {
            diag_error(S->ctx, span_join(s->load_shape.v[0]->span, s->load_shape.v[s->load_shape.n - 1]->span),
                       "a checkpoint shape of %d axes; at most %d are supported", s->load_shape.n, IR_MAX_RANK);
            return;
        }
        int64_t n_decl = ir_numel_const(t), n_load;
        if (s->load_shape.n) {
            t->load_rank = s->load_shape.n;
            for (int a = 0; a < s->load_shape.n; a++) {
                int64_t d = 0;
                if (!eval_int(S, s->load_shape.v[a], &d, NULL)) return;
                t->load_shape[a] = d;
            }
        } else {
            t->load_rank = t->rank;
            for (int a = 0; a < t->rank; a++) t->load_shape[a] = t->shape[a].c;
        }
        n_load = ir_elems_bound(t->load_shape, t->load_rank);
        if (n_load < 0) {
            diag_error(S->ctx, s->load_shape.n ? span_join(s->load_shape.v[0]->span,
                                                           s->load_shape.v[s->load_shape.n - 1]->span) : s->span,
                       "a checkpoint shape of more than 2^40 elements, the most one tensor may have");
            return;
        }
        for (int a = 0; a < t->load_rank; a++) if (t->load_shape[a] == 0) n_load = 0;
        for (int a = 0; a < IR_MAX_RANK; a++) t->load_perm[a] = a;
        for (int k = 0; k < s->load_ops.n; k++) {
            const Ast *op = s->load_ops.v[k];
            if (strcmp(op->name, "transpose") != 0) {
                diag_error(S->ctx, op->name_span, "unknown load transform '%s' (transpose)", op->name);
                continue;
            }
            if (op->args.n != t->load_rank) {
                diag_error(S->ctx, op->span, "transpose needs %d axes (a permutation of the checkpoint shape)",
                           t->load_rank);
                continue;
            }
            int seen = 0;
            for (int a = 0; a < op->args.n; a++) {
                int64_t p;
                if (!eval_int(S, op->args.v[a], &p, NULL)) return;
                if (p >= t->load_rank || (seen >> p) & 1) {
                    diag_error(S->ctx, op->args.v[a]->span, "not a permutation of 0..%d", t->load_rank - 1);
                    return;
                }
                seen |= 1 << p;
                t->load_perm[a] = (int)p;
            }
            t->has_perm = true;
        }
        if (n_decl >= 0 && n_decl != n_load)
            diag_error(S->ctx, s->span, "the checkpoint shape has %lld elements but the parameter %lld",
                       (long long)n_load, (long long)n_decl);
    }
}

IrTensor *new_temp(MSema *S, Span sp, DType dt, int rank, const IrSize *shape)
{
    IrTensor *t = ir_tensor(S->ctx, S->g, NULL, TEN_TEMP, sp);
    t->dtype = dt;
    t->rank = rank;
    if (shape) { memcpy(t->shape, shape, sizeof(IrSize) * (size_t)rank); t->shape_known = true; }
    return t;
}

const char *shape_str(MSema *S, const IrTensor *t)
{
    Buf b;
    buf_init(&b);
    buf_putc(&b, '[');
    for (int i = 0; i < t->rank; i++) {
        if (i) buf_puts(&b, ", ");
        if (t->shape[i].dyn >= 0) buf_puts(&b, S->g->dyn_names[t->shape[i].dyn]);
        else buf_printf(&b, "%lld", (long long)t->shape[i].c);
    }
    buf_putc(&b, ']');
    const char *r = arena_strdup(&S->ctx->arena, b.p);
    buf_free(&b);
    return r;
}

Val model_tensor_binary(MSema *S, const Ast *x, Val a, Val b, bool swapped)
{
    if (b.k == V_ERROR) return verr();
    if (swapped && x->op != '*') {
        diag_error(S->ctx, x->span, "a number %s a tensor is not supported; only number * tensor (or tensor %c number)",
                   x->op == '/' ? "divided by" : x->op == '+' ? "plus" : "minus", x->op == '/' ? '/' : '*');
        return verr();
    }
    OpKind op;
    switch (x->op) {
    case '+': op = OP_ADD; break;
    case '-': op = OP_SUB; break;
    case '*': op = OP_MUL; break;
    case '/': op = OP_DIV; break;
    default: diag_error(S->ctx, x->span, "this operator does not apply to tensors"); return verr();
    }
    if (b.k == V_NUM && (op == OP_MUL || op == OP_DIV)) {
        IrTensor *o = new_temp(S, x->span, DT_F32, a.t->rank, a.t->shape);
        IrNode *n = ir_node(S->ctx, S->g, OP_MULC, o, 1);
        n->in[0] = a.t;
        n->fattr[0] = op == OP_MUL ? b.num : 1.0 / b.num;
        n->span = x->span;
        return vtensor(o);
    }
    if (b.k != V_TENSOR) {
        diag_error(S->ctx, swapped ? x->a->span : x->b->span, "expected a tensor%s, got a %s",
                   b.k == V_NUM ? " (a number only multiplies or divides a tensor)" : "", kind_str(b.k));
        return verr();
    }
    if (!ir_same_shape(a.t, b.t)) {
        diag_error(S->ctx, x->span, "elementwise operands have different shapes: %s and %s", shape_str(S, a.t),
                   shape_str(S, b.t));
        return verr();
    }
    IrTensor *o = new_temp(S, x->span, DT_F32, a.t->rank, a.t->shape);
    IrNode *n = ir_node(S->ctx, S->g, op, o, 2);
    n->in[0] = a.t;
    n->in[1] = b.t;
    n->span = x->span;
    return vtensor(o);
}

/* ueajsum("expr", a, b, name=c): the string is parsed as its own source, a
 * slice of the file, so diagnostics inside it point into the file. */
static Val eval_ueajsum(MSema *S, const Ast *x, unsigned helpers)
{
    UeajCtx *ctx = S->ctx;
    if (x->args.n < 1 || x->args.v[0]->kind != A_STR) {
        diag_error(ctx, x->span, "ueajsum expects a string literal first: ueajsum(\"ij,jk->ik\", a, b)");
        return verr();
    }
    const Ast *lit = x->args.v[0];
    if (!lit->str_plain) {
        diag_error(ctx, lit->span, "a ueajsum string may not contain escape sequences");
        return verr();
    }
    Source *sub = source_slice(ctx, lit->span.src, lit->str_inner.line, lit->str_inner.col, lit->str, strlen(lit->str));
    UExpr *e = parse_ueajsum(ctx, sub);
    if (!e) return verr();
    UConfig *c = ueajsum_resolve(ctx, e, false);
    if (!c) return verr();
    ueajsum_apply_helpers(c, helpers);
    /* bind the call's arguments: positional to slots in order, keywords by name */
    IrTensor **slot_t = ARENA_ARRAY(&ctx->arena, IrTensor *, c->nslots + 1);
    IrTensor **named_t = ARENA_ARRAY(&ctx->arena, IrTensor *, c->nnamed + 1);
    int next = 0;
    bool ok = true;
    for (int i = 1; i < x->args.n; i++) {
        const Ast *arg = x->args.v[i];
        const Ast *vx = arg->kind == A_KWARG ? arg->a : arg;
        Val v = eval(S, vx);
        if (v.k == V_ERROR) { ok = false; continue; }
        if (v.k != V_TENSOR) {
            diag_error(ctx, vx->span, "ueajsum operands must be tensors, got a %s", kind_str(v.k));
            ok = false;
            continue;
        }
        if (arg->kind == A_KWARG) {
            UOperand *o = ueajsum_find(c, arg->name);
            if (!o) {
                diag_error(ctx, arg->name_span, "the expression has no argument named '%s'", arg->name);
                ok = false;
                continue;
            }
            for (int k = 0; k < c->nnamed; k++) if (c->named[k] == o) named_t[k] = v.t;
        } else {
            if (next >= c->nslots) {
                diag_error(ctx, arg->span, "too many operands: the expression has %d positional argument%s",
                           c->nslots, c->nslots == 1 ? "" : "s");
                ok = false;
                continue;
            }
            slot_t[next++] = v.t;
        }
    }
    for (int i = 0; i < c->nslots && ok; i++)
        if (!slot_t[i]) { diag_error(ctx, x->span, "missing argument %d: no operand was passed for it", i); ok = false; }
    for (int i = 0; i < c->nnamed && ok; i++)
        if (!named_t[i]) {
            diag_error(ctx, x->span, "missing argument '%s': pass it as %s=TENSOR", c->named[i]->name,
                       c->named[i]->name);
            ok = false;
        }
    if (!ok) return verr();
    /* every operand names as many letters as its tensor has axes */
    for (int t = 0; t < c->nterms; t++)
        for (int k = 0; k < c->terms[t].nops; k++) {
            const UOperand *o = c->terms[t].ops[k];
            const IrTensor *ten = o->slot >= 0 ? slot_t[o->slot] : NULL;
            if (!ten) for (int q = 0; q < c->nnamed; q++) if (c->named[q] == o) ten = named_t[q];
            if (ten && (int)strlen(o->letters) != ten->rank) {
                diag_error(ctx, c->terms[t].op_spans[k], "%s is '%s' %s (%d axes), but '%s' names %d",
                           ueajsum_operand_label(ctx, o), ten->name ? ten->name : "?", shape_str(S, ten), ten->rank,
                           o->letters, (int)strlen(o->letters));
                ok = false;
            }
        }
    if (!ok) return verr();
    /* the operands' variances and dtypes, from the helpers */
    for (int i = 0; i < c->nslots; i++) {
        UOperand *o = c->slots[i];
        if (o->has_var) { slot_t[i]->has_var = true; slot_t[i]->var = o->var; }
        if (o->dtype && slot_t[i]->kind == TEN_PARAM) slot_t[i]->dtype = o->dtype;
        if (o->grad_dtype && slot_t[i]->kind == TEN_PARAM) slot_t[i]->grad_dtype = o->grad_dtype;
    }
    for (int i = 0; i < c->nnamed; i++) {
        UOperand *o = c->named[i];
        if (o->has_var) { named_t[i]->has_var = true; named_t[i]->var = o->var; }
        if (o->dtype && named_t[i]->kind == TEN_PARAM) named_t[i]->dtype = o->dtype;
        if (o->grad_dtype && named_t[i]->kind == TEN_PARAM) named_t[i]->grad_dtype = o->grad_dtype;
    }
    /* the output: letters of the result; sizes from the operands (pass_shapes checks) */
    IrTensor *out = ir_tensor(ctx, S->g, NULL, TEN_TEMP, x->span);
    out->rank = (int)strlen(c->result.letters);
    out->has_var = c->result.has_var;
    out->var = c->result.var;
    for (int a = 0; a < out->rank; a++) {
        IrSize sz = {1, -1};
        int ch = (unsigned char)c->result.letters[a];
        for (int t = 0; t < c->nterms; t++)
            for (int k = 0; k < c->terms[t].nops; k++) {
                const UOperand *o = c->terms[t].ops[k];
                IrTensor *ten = o->slot >= 0 ? slot_t[o->slot] : NULL;
                if (!ten) for (int q = 0; q < c->nnamed; q++) if (c->named[q] == o) ten = named_t[q];
                const char *p = strchr(o->letters, ch);
                if (p && ten && (int)strlen(o->letters) == ten->rank) {
                    IrSize s2 = ten->shape[p - o->letters];
                    if (!(s2.dyn < 0 && s2.c == 1)) sz = s2;
                }
            }
        out->shape[a] = sz;
    }
    out->shape_known = true;
    const char *text = span_text(ctx, e->span);
    for (int t = 0; t < c->nterms; t++) {
        const UTermCfg *tc = &c->terms[t];
        IrNode *n = ir_node(ctx, S->g, OP_CONTRACT, out, tc->nops);
        for (int k = 0; k < tc->nops; k++) {
            const UOperand *o = tc->ops[k];
            IrTensor *ten = o->slot >= 0 ? slot_t[o->slot] : NULL;
            if (!ten) for (int q = 0; q < c->nnamed; q++) if (c->named[q] == o) ten = named_t[q];
            n->in[k] = ten;
            n->in_letters[k] = o->letters;
            n->in_spans[k] = tc->op_spans[k];
        }
        n->out_letters = c->result.letters;
        n->accumulate = t > 0;
        n->span = tc->span;
        n->origin = c->nterms > 1 ? arena_printf(&ctx->arena, "term %d of ueajsum(\"%s\")", t + 1, text)
                                  : arena_printf(&ctx->arena, "ueajsum(\"%s\")", text);
    }
    return vtensor(out);
}


Val eval_call(MSema *S, const Ast *x, unsigned helpers)
{
    if (!strcmp(x->name, "ueajsum")) return eval_ueajsum(S, x, helpers);
    return model_builtin(S, x);
}

/* ---- statements ------------------------------------------------------------ */

static void run_items(MSema *S, const AstList *items);
static bool within_limits(MSema *S, const Ast *s);

static void run_stmt(MSema *S, const Ast *s)
{
    UeajCtx *ctx = S->ctx;
    switch (s->kind) {
    case A_MODEL: S->g->name = s->name; break;
    case A_DIM: case A_LET: {
        /* --dim NAME=VALUE overrides the file */
        for (int i = 0; i < S->opt->ndims; i++)
            if (!strcmp(S->opt->dims[i].key, s->name)) {
                char *end;
                double v = strtod(S->opt->dims[i].val, &end);
                S->dim_used[i] = true;
                if (!*S->opt->dims[i].val || *end) {
                    diag_error(ctx, s->name_span, "--dim %s=%s: not a number", s->name, S->opt->dims[i].val);
                    bind(S, s->name, verr(), s->name_span);
                    return;
                }
                if (s->kind == A_DIM && (v != floor(v) || v < 0)) {
                    diag_error(ctx, s->name_span, "--dim %s=%s: a dim must be a non-negative whole number", s->name,
                               S->opt->dims[i].val);
                    bind(S, s->name, verr(), s->name_span);
                    return;
                }
                bind(S, s->name, vnum(v, v == floor(v)), s->name_span);
                return;
            }
        if (s->kind == A_DIM && s->a->kind == A_NAME && !strcmp(s->a->name, "runtime") && !lookup(S, "runtime")) {
            if (S->g->ndyn >= 16) { diag_error(ctx, s->span, "too many run-time dims (at most 16)"); return; }
            Val v = {0};
            v.k = V_RUNTIME;
            v.dyn = S->g->ndyn;
            S->g->dyn_names[S->g->ndyn++] = s->name;
            bind(S, s->name, v, s->name_span);
            return;
        }
        Val v = eval(S, s->a);
        if (v.k == V_UNDEF) {
            diag_error(ctx, s->a->span, "this config field is absent (%s); give a default with '?\?'",
                       v.undef_why ? v.undef_why : "missing");
            v = verr();
        }
        if (s->kind == A_DIM && v.k != V_ERROR && (v.k != V_NUM || v.num != floor(v.num) || v.num < 0)) {
            diag_error(ctx, s->a->span, "a dim must be a non-negative whole number, got %s",
                       v.k == V_NUM ? arena_printf(&ctx->arena, "%g", v.num) : kind_str(v.k));
            v = verr();
        }
        bind(S, s->name, v, s->name_span);
        break;
    }
    case A_PARAM: decl_param(S, s); break;
    case A_INPUT: case A_STATE: {
        IrTensor *t = ir_tensor(ctx, S->g, tensor_name(S, s->name), s->kind == A_INPUT ? TEN_INPUT : TEN_STATE,
                                s->name_span);
        t->decl = s;
        eval_shape(S, &s->args, t, s->span);
        t->dtype = decl_dtype(S, s, DT_F32);
        bind(S, s->name, vtensor(t), s->name_span);
        break;
    }
    case A_OUTPUT: {
        Binding *b = lookup(S, s->name);
        if (b && b->v.k == V_ERROR) return; /* already reported */
        if (!b || b->v.k != V_TENSOR) {
            diag_error(ctx, s->name_span, b ? "'%s' is not a tensor" : "unknown name '%s'", s->name);
            return;
        }
        IrTensor *t = b->v.t;
        if (t->kind != TEN_TEMP) { diag_error(ctx, s->name_span, "'%s' is not computed by the model", s->name); return; }
        t->kind = TEN_OUTPUT;
        rename_tensor(S, t, s->name);
        if (s->dtype) t->dtype = decl_dtype(S, s, t->dtype);
        break;
    }
    case A_ASSIGN: {
        Val v = eval(S, s->a);
        if (v.k == V_TENSOR && v.t->kind == TEN_TEMP && v.t->name[0] == 't' && v.t->name[1] >= '0' &&
            v.t->name[1] <= '9') {
            /* name the temporary after the variable; later versions get a suffix: x.0, x.0_2 */
            const char *base = tensor_name(S, s->name), *nm = base;
            for (int ver = 2; name_taken(S, nm); ver++) nm = arena_printf(&ctx->arena, "%s_%d", base, ver);
            rename_tensor(S, v.t, nm);
        }
        bind(S, s->name, v, s->name_span);
        break;
    }
    case A_REPEAT: {
        int64_t n;
        if (!eval_int(S, s->a, &n, NULL)) return;
        if (S->layer >= 0) { diag_error(ctx, s->span, "repeat blocks cannot be nested"); return; }
        for (int64_t l = 0; l < n && (l == 0 || within_limits(S, s)); l++) {
            S->layer = (int)l;
            bind(S, s->name, vnum((double)l, true), s->name_span);
            run_items(S, &s->args);
        }
        S->layer = -1;
        break;
    }
    default: ueaj_unreachable();
    }
}

/* Before each statement (and each repeat iteration): false, after an
 * error, once the model is past one of the limits on its size. */
static bool within_limits(MSema *S, const Ast *s)
{
    if (S->stopped || diag_too_many(S->ctx)) return false;
    if (++S->nstmts > MODEL_MAX_STMTS)
        diag_error(S->ctx, s->span, "the model runs more than %d statements, the most it may (repeat bodies count once "
                   "per iteration)", MODEL_MAX_STMTS);
    else if (S->g->nodes.n > IR_MAX_NODES)
        diag_error(S->ctx, s->span, "the model has more than %d nodes, the most one graph may have", IR_MAX_NODES);
    else if (S->g->tensors.n > IR_MAX_TENSORS)
        diag_error(S->ctx, s->span, "the model has more than %d tensors, the most one graph may have", IR_MAX_TENSORS);
    else
        return true;
    S->stopped = true;
    return false;
}

static void run_items(MSema *S, const AstList *items)
{
    for (int i = 0; i < items->n && within_limits(S, items->v[i]); i++) run_stmt(S, items->v[i]);
}

IrGraph *model_lower(UeajCtx *ctx, const Program *p, cJSON *config, const ModelOptions *opt)
{
    MSema S = {0};
    S.ctx = ctx;
    S.g = ir_new(ctx, "model");
    S.config = config;
    S.opt = opt;
    S.layer = -1;
    int before = ctx->nerrors;
    S.dim_used = ARENA_ARRAY(&ctx->arena, bool, opt->ndims + 1);
    run_items(&S, &p->items);
    for (int i = 0; i < opt->ndims; i++)
        if (!S.dim_used[i])
            diag_error(ctx, (Span){0}, "--dim %s=%s: the model has no dim or let named '%s'",
                       opt->dims[i].key, opt->dims[i].val, opt->dims[i].key);
    bool has_out = false;
    for (int i = 0; i < S.g->tensors.n; i++) has_out |= ((IrTensor *)S.g->tensors.v[i])->kind == TEN_OUTPUT;
    if (!has_out && ctx->nerrors == before)
        diag_error(ctx, (Span){p->src, 1, 1, 1}, "the model declares no output (add 'output NAME')");
    return ctx->nerrors > before ? NULL : S.g;
}
