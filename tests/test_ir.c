/* test_ir.c - tests of the IR: ir_from_ueajsum (compiler/ir_build.c) and
 * the passes run by run_passes (shapes, variance, precision, order).
 *
 * Each test builds a small expression with the shapes and dtypes of the
 * arrays an eval would bind, runs the passes (ir_verify runs after each,
 * so a broken invariant aborts the test), and checks the graph:
 *  - shapes: letter sizes, size-1 broadcasting, missing result letters
 *    (size 1), mismatches, missing arguments, parameters sized from other
 *    operands or --dim, run-time dims for a bare expression;
 *  - precision: the seed's defaults and promotion rules (fp8 with f32 ->
 *    f32, fp8 with fp8 -> fp8, f16 with bf16 -> f32, ...), accumulation
 *    dtypes, and the accumulator temporary + CAST for several terms into a
 *    narrow result;
 *  - variance: 1/sqrt(prod var * prod contracted sizes), and its errors;
 *  - order: a term of 3+ operands becomes a chain of two-operand nodes
 *    whose intermediates keep exactly the letters still needed (checked by
 *    replaying the chain independently), the last one writing the result.
 */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static char *render(const UeajCtx *ctx)
{
    char *p = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&p, &n);
    ueaj_diag_render(ctx, f);
    fclose(f);
    return p;
}

/* An array shape: ash(DT_F32, 2, 3) is a (2, 3) f32 array. */
static ArgShape ash(DType dt, int rank, ...)
{
    ArgShape s;
    memset(&s, 0, sizeof s);
    s.given = true;
    s.dtype = dt;
    s.rank = rank;
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++) s.shape[i] = va_arg(ap, int);
    va_end(ap);
    return s;
}

typedef struct Job {
    const char *expr;
    unsigned    helpers;
    ArgShape    slots[16];   /* .given = false: no array */
    ArgShape    named[16];   /* by declaration order */
    const char *dims;        /* "i=2 k=4" (--dim) */
    DType       out;
    bool        symbolic;
    const char *stop;        /* run_passes stop_after */
    /* variances set before building: "x0=4 out=1" by operand label */
    const char *vars;
} Job;

typedef struct Built {
    UeajCtx *ctx;
    UConfig *c;
    IrGraph *g;        /* NULL when ir_from_ueajsum failed */
    int      rc;       /* run_passes */
    char    *dump;     /* the ir-after dump (malloc'd) or NULL */
} Built;

static UOperand *operand_by_label(UConfig *c, const char *name)
{
    if (!strcmp(name, "out")) return &c->result;
    UOperand *o = ueajsum_find(c, name);
    if (o) return o;
    if (name[0] == 'x' || name[0] == 'w') {
        int s = atoi(name + (name[0] == 'w' ? 2 : 1));
        if (s >= 0 && s < c->nslots) return c->slots[s];
    }
    ck_abort_msg("no operand '%s'", name);
    return NULL;
}

static Built build(const Job *j)
{
    Built b;
    memset(&b, 0, sizeof b);
    b.ctx = ueaj_ctx_new(NULL);
    const Source *s = source_new(b.ctx, "<expr>", j->expr, strlen(j->expr));
    UExpr *e = parse_ueajsum(b.ctx, s);
    ck_assert_msg(e != NULL, "'%s' does not parse", j->expr);
    b.c = ueajsum_resolve(b.ctx, e, false);
    ck_assert_msg(b.c != NULL, "'%s' does not resolve", j->expr);
    ueajsum_apply_helpers(b.c, j->helpers);
    if (j->vars) {
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s", j->vars);
        for (char *tok = strtok(tmp, " "); tok; tok = strtok(NULL, " ")) {
            char *eq = strchr(tok, '=');
            *eq = 0;
            UOperand *o = operand_by_label(b.c, tok);
            o->has_var = true;
            o->var = atof(eq + 1);
        }
    }
    int64_t lsize[128];
    for (int i = 0; i < 128; i++) lsize[i] = -1;
    if (j->dims)
        for (const char *p = j->dims; *p; p++)
            if (p[1] == '=') { lsize[(unsigned char)p[0]] = atoll(p + 2); p += 2; }
    b.g = ir_from_ueajsum(b.ctx, b.c, j->slots, j->named, lsize, j->out, j->symbolic);
    if (!b.g) { b.rc = -2; return b; }
    Buf d;
    buf_init(&d);
    b.rc = run_passes(b.ctx, b.g, j->stop, &d);
    b.dump = d.p;
    return b;
}

static void built_free(Built *b)
{
    free(b->dump);
    ueaj_ctx_free(b->ctx);
}

/* Builds and runs every pass; fails the test on any error. */
static Built build_ok(const Job *j)
{
    Built b = build(j);
    if (b.rc != 0 && !(j->stop && b.rc == 1)) {
        char *r = render(b.ctx);
        ck_abort_msg("'%s': rc %d\n%s", j->expr, b.rc, r);
    }
    return b;
}

static IrTensor *tensor(const IrGraph *g, const char *name)
{
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        if (!strcmp(t->name, name)) return t;
    }
    ck_abort_msg("no tensor '%s'", name);
    return NULL;
}

static IrNode *node(const IrGraph *g, int i)
{
    ck_assert_int_lt(i, g->nodes.n);
    return g->nodes.v[i];
}

static void check_shape(const IrTensor *t, int rank, const int64_t *want)
{
    ck_assert(t->shape_known);
    ck_assert_msg(t->rank == rank, "%s: rank %d, expected %d", t->name, t->rank, rank);
    for (int a = 0; a < rank; a++)
        ck_assert_msg(t->shape[a].dyn < 0 && t->shape[a].c == want[a], "%s axis %d: %lld (dyn %d), expected %lld",
                      t->name, a, (long long)t->shape[a].c, t->shape[a].dyn, (long long)want[a]);
}

#define SHAPE(t, ...)                                                             \
    do {                                                                          \
        const int64_t w_[] = { __VA_ARGS__ };                                     \
        check_shape((t), (int)(sizeof w_ / sizeof w_[0]), w_);                    \
    } while (0)

static const Diag *first_error(const UeajCtx *ctx)
{
    for (const Diag *d = ctx->diags; d; d = d->next)
        if (d->sev == SEV_ERROR) return d;
    ck_abort_msg("no error");
    return NULL;
}

#define ERROR_STARTS(ctx, prefix)                                                                   \
    do {                                                                                            \
        const Diag *d_ = first_error(ctx);                                                          \
        ck_assert_msg(!strncmp(d_->msg, (prefix), strlen(prefix)), "error '%s', expected '%s...'", \
                      d_->msg, (prefix));                                                           \
    } while (0)

/* ---- ir_from_ueajsum + pass_shapes --------------------------------------- */

START_TEST(shapes_matmul)
{
    Job j = { .expr = "ij,jk->ik" };
    j.slots[0] = ash(DT_F32, 2, 2, 3);
    j.slots[1] = ash(DT_F32, 2, 3, 4);
    Built b = build_ok(&j);
    ck_assert_int_eq(b.g->tensors.n, 3);
    IrTensor *x0 = tensor(b.g, "x0"), *x1 = tensor(b.g, "x1"), *out = tensor(b.g, "out");
    ck_assert_int_eq(x0->kind, TEN_INPUT);
    ck_assert_int_eq(x0->slot, 0);
    ck_assert_int_eq(x1->slot, 1);
    ck_assert_int_eq(out->kind, TEN_OUTPUT);
    SHAPE(out, 2, 4);
    ck_assert_int_eq(b.g->nodes.n, 1);
    IrNode *n = node(b.g, 0);
    ck_assert_int_eq(n->op, OP_CONTRACT);
    ck_assert_int_eq(n->nin, 2);
    ck_assert_str_eq(n->in_letters[0], "ij");
    ck_assert_str_eq(n->out_letters, "ik");
    ck_assert_int_eq(n->lsize['i'].c, 2);
    ck_assert_int_eq(n->lsize['j'].c, 3);
    ck_assert_int_eq(n->lsize['k'].c, 4);
    ck_assert(!n->accumulate);
    ck_assert(!n->has_scale);
    ck_assert_int_eq(ir_numel_const(out), 8);
    built_free(&b);
}
END_TEST

START_TEST(shapes_broadcast_and_missing_letter)
{
    /* a size-1 axis broadcasts against the other operand's size */
    Job j = { .expr = "ij,ij->ij" };
    j.slots[0] = ash(DT_F32, 2, 2, 3);
    j.slots[1] = ash(DT_F32, 2, 1, 3);
    Built b = build_ok(&j);
    SHAPE(tensor(b.g, "out"), 2, 3);
    ck_assert_int_eq(node(b.g, 0)->lsize['i'].c, 2);
    built_free(&b);
    /* the seed: a result letter in no term has size 1 */
    Job k = { .expr = "ij->ijk" };
    k.slots[0] = ash(DT_F32, 2, 2, 3);
    b = build_ok(&k);
    SHAPE(tensor(b.g, "out"), 2, 3, 1);
    built_free(&b);
    /* a term without some result letters broadcasts over them */
    Job m = { .expr = "ij,*w=jk + *b=k -> ik" };
    m.slots[0] = ash(DT_F32, 2, 2, 3);
    m.named[0] = ash(DT_F32, 2, 3, 4);
    m.named[1] = ash(DT_F32, 1, 4);
    b = build_ok(&m);
    SHAPE(tensor(b.g, "out"), 2, 4);
    IrNode *bias = node(b.g, 1);
    ck_assert(bias->accumulate);
    ck_assert_int_eq(bias->lsize['i'].c, 2);   /* the broadcast loop extent */
    built_free(&b);
}
END_TEST

START_TEST(shapes_mismatch)
{
    Job j = { .expr = "ij,jk->ik" };
    j.slots[0] = ash(DT_F32, 2, 2, 3);
    j.slots[1] = ash(DT_F32, 2, 5, 4);
    Built b = build(&j);
    ck_assert_int_eq(b.rc, -1);
    ck_assert_int_eq(b.ctx->nerrors, 1);
    const Diag *d = first_error(b.ctx);
    ck_assert_str_eq(d->msg, "shape mismatch for argument 1 (x1), axis 'j': size 5, but 3");
    ck_assert_int_eq(d->span.col, 4);
    ck_assert_ptr_nonnull(d->note);
    ck_assert_str_eq(d->note->msg, "axis 'j' of x0 has size 3");
    ck_assert_int_eq(d->note->span.col, 1);
    built_free(&b);
}
END_TEST

START_TEST(missing_and_rank_errors)
{
    Job j = { .expr = "ij,jk->ik" };
    j.slots[0] = ash(DT_F32, 2, 2, 3);
    Built b = build(&j);
    ck_assert_int_eq(b.rc, -2);
    ck_assert_str_eq(first_error(b.ctx)->msg, "missing argument 1: no array was given for it");
    ck_assert_int_eq(first_error(b.ctx)->span.col, 4);
    built_free(&b);

    Job n = { .expr = "ij,y=jk->ik" };
    n.slots[0] = ash(DT_F32, 2, 2, 3);
    b = build(&n);
    ck_assert_str_eq(first_error(b.ctx)->msg, "missing argument 'y': no array was given for it");
    built_free(&b);

    Job r = { .expr = "ijk->i" };
    r.slots[0] = ash(DT_F32, 2, 2, 3);
    b = build(&r);
    ck_assert_int_eq(b.rc, -2);
    ck_assert_str_eq(first_error(b.ctx)->msg, "argument 0 has 2 axes, but 'ijk' names 3");
    built_free(&b);
}
END_TEST

START_TEST(param_sizes_from_letters)
{
    /* a parameter without an array takes its sizes from other operands and --dim */
    Job j = { .expr = "ij,*jk->ik", .dims = "k=4" };
    j.slots[0] = ash(DT_F32, 2, 2, 3);
    Built b = build_ok(&j);
    IrTensor *w = tensor(b.g, "w_1");
    ck_assert_int_eq(w->kind, TEN_PARAM);
    ck_assert_int_eq(w->group, UG_PARAM);
    SHAPE(w, 3, 4);
    SHAPE(tensor(b.g, "out"), 2, 4);
    built_free(&b);

    Job k = { .expr = "ij,*jk->ik" };
    k.slots[0] = ash(DT_F32, 2, 2, 3);
    b = build(&k);
    ck_assert_int_eq(b.rc, -2);
    ck_assert_str_eq(first_error(b.ctx)->msg, "cannot infer the size of axis 'k' of parameter w_1: no array has "
                                              "that letter; give it with --dim k=N");
    built_free(&b);
}
END_TEST

START_TEST(symbolic_dims)
{
    Job j = { .expr = "ij,*jk->ik", .symbolic = true, .dims = "j=3" };
    Built b = build_ok(&j);
    ck_assert_int_eq(b.g->ndyn, 2);
    ck_assert_str_eq(b.g->dyn_names[0], "i");
    ck_assert_str_eq(b.g->dyn_names[1], "k");
    IrTensor *x = tensor(b.g, "x0"), *out = tensor(b.g, "out");
    ck_assert_int_eq(x->shape[0].dyn, 0);
    ck_assert_int_eq(x->shape[1].dyn, -1);
    ck_assert_int_eq(x->shape[1].c, 3);
    ck_assert_int_eq(out->shape[0].dyn, 0);
    ck_assert_int_eq(out->shape[1].dyn, 1);
    ck_assert_int_eq(ir_numel_const(out), -1);
    ck_assert_int_eq(ir_numel_const(tensor(b.g, "w_1")), -1);
    built_free(&b);
}
END_TEST

/* ---- pass_precision --------------------------------------------------- */

/* Result dtype of `ij,jk->ik` with operand dtypes a and b (arrays given). */
static DType result_of(DType a, DType b, DType *acc)
{
    Job j = { .expr = "ij,jk->ik" };
    j.slots[0] = ash(a, 2, 2, 3);
    j.slots[1] = ash(b, 2, 3, 4);
    Built bt = build_ok(&j);
    DType r = tensor(bt.g, "out")->dtype;
    if (acc) *acc = node(bt.g, 0)->acc;
    ck_assert_int_eq(bt.g->nodes.n, 1);   /* promotion adds no node: loads widen exactly */
    built_free(&bt);
    return r;
}

START_TEST(precision_promotion)
{
    DType acc;
    /* seed 3.3 / acceptance 20: fp8 with f32 -> f32; fp8 with fp8 -> fp8 */
    ck_assert_int_eq(result_of(DT_F8E4M3, DT_F32, &acc), DT_F32);
    ck_assert_int_eq(acc, DT_F32);
    ck_assert_int_eq(result_of(DT_F32, DT_F8E4M3, NULL), DT_F32);
    ck_assert_int_eq(result_of(DT_F8E4M3, DT_F8E4M3, &acc), DT_F8E4M3);
    ck_assert_int_eq(acc, DT_F32);
    ck_assert_int_eq(result_of(DT_F8E4M3, DT_BF16, NULL), DT_BF16);
    /* the float lattice: f16 with bf16 -> f32 (as JAX); two fp8 formats -> bf16 */
    ck_assert_int_eq(result_of(DT_F16, DT_BF16, NULL), DT_F32);
    ck_assert_int_eq(result_of(DT_BF16, DT_F16, NULL), DT_F32);
    ck_assert_int_eq(result_of(DT_F8E4M3, DT_F8E5M2, NULL), DT_BF16);
    ck_assert_int_eq(result_of(DT_BF16, DT_BF16, &acc), DT_BF16);
    ck_assert_int_eq(acc, DT_F32);
    ck_assert_int_eq(result_of(DT_F16, DT_F32, NULL), DT_F32);
    /* f64 anywhere: f64 result and accumulator */
    ck_assert_int_eq(result_of(DT_F64, DT_F32, &acc), DT_F64);
    ck_assert_int_eq(acc, DT_F64);
    ck_assert_int_eq(result_of(DT_F8E4M3, DT_F64, NULL), DT_F64);
}
END_TEST

START_TEST(precision_defaults)
{
    /* params default to bf16 (the seed's ParamConfig), grads to the storage dtype */
    Job j = { .expr = "ij,*jk->ik", .dims = "k=4" };
    j.slots[0] = ash(DT_F32, 2, 2, 3);
    Built b = build_ok(&j);
    IrTensor *w = tensor(b.g, "w_1");
    ck_assert_int_eq(w->dtype, DT_BF16);
    ck_assert_int_eq(w->grad_dtype, DT_BF16);
    ck_assert_int_eq(tensor(b.g, "out")->dtype, DT_F32);
    built_free(&b);

    /* fp8_params: e4m3 params; with an f32 input the result is f32 (acceptance 20) */
    j.helpers = UEAJ_H_FP8_PARAMS | UEAJ_H_FP32_GRADS;
    b = build_ok(&j);
    w = tensor(b.g, "w_1");
    ck_assert_int_eq(w->dtype, DT_F8E4M3);
    ck_assert_int_eq(w->grad_dtype, DT_F32);
    ck_assert_int_eq(tensor(b.g, "out")->dtype, DT_F32);
    built_free(&b);

    /* an array given for a parameter decides its dtype */
    Job k = { .expr = "ij,*jk->ik" };
    k.slots[0] = ash(DT_F32, 2, 2, 3);
    k.slots[1] = ash(DT_F16, 2, 3, 4);
    b = build_ok(&k);
    ck_assert_int_eq(tensor(b.g, "w_1")->dtype, DT_F16);
    built_free(&b);

    /* integer data is computed in f64 (exact) */
    Job m = { .expr = "ij->i" };
    m.slots[0] = ash(DT_I32, 2, 2, 3);
    b = build_ok(&m);
    ck_assert_int_eq(tensor(b.g, "x0")->dtype, DT_F64);
    ck_assert_int_eq(tensor(b.g, "out")->dtype, DT_F64);
    built_free(&b);

    /* an explicit result dtype wins */
    Job o = { .expr = "ij->i", .out = DT_BF16 };
    o.slots[0] = ash(DT_F32, 2, 2, 3);
    b = build_ok(&o);
    ck_assert_int_eq(tensor(b.g, "out")->dtype, DT_BF16);
    ck_assert_int_eq(node(b.g, 0)->acc, DT_F32);
    ck_assert_int_eq(b.g->nodes.n, 1);   /* one term: rounded once by its own store */
    built_free(&b);
}
END_TEST

START_TEST(precision_multi_term_accumulator)
{
    /* two terms into a bf16 result: summed in an f32 temporary, rounded once */
    Job j = { .expr = "ij,*w=jk + *b=k -> ik", .out = DT_BF16 };
    j.slots[0] = ash(DT_F32, 2, 2, 3);
    j.named[0] = ash(DT_F32, 2, 3, 4);
    j.named[1] = ash(DT_F32, 1, 4);
    Built b = build_ok(&j);
    IrTensor *out = tensor(b.g, "out");
    ck_assert_int_eq(out->dtype, DT_BF16);
    ck_assert_int_eq(b.g->nodes.n, 3);
    IrNode *t1 = node(b.g, 0), *t2 = node(b.g, 1), *cast = node(b.g, 2);
    IrTensor *tmp = t1->out;
    ck_assert_int_eq(tmp->kind, TEN_TEMP);
    ck_assert_int_eq(tmp->dtype, DT_F32);
    SHAPE(tmp, 2, 4);
    ck_assert_ptr_eq(t2->out, tmp);
    ck_assert(!t1->accumulate);
    ck_assert(t2->accumulate);
    ck_assert_int_eq(cast->op, OP_CAST);
    ck_assert_int_eq(cast->nin, 1);
    ck_assert_ptr_eq(cast->in[0], tmp);
    ck_assert_ptr_eq(cast->out, out);
    built_free(&b);

    /* an f32 result needs no temporary: the second term adds into it */
    j.out = DT_NONE;
    b = build_ok(&j);
    ck_assert_int_eq(b.g->nodes.n, 2);
    ck_assert_ptr_eq(node(b.g, 1)->out, tensor(b.g, "out"));
    ck_assert(node(b.g, 1)->accumulate);
    for (int i = 0; i < b.g->tensors.n; i++) ck_assert_int_ne(((IrTensor *)b.g->tensors.v[i])->kind, TEN_TEMP);
    built_free(&b);
}
END_TEST

/* ---- pass_variance ------------------------------------------------------ */

START_TEST(variance_scaling)
{
    /* acceptance 15: unit, J=4 -> scale 1/sqrt(4) */
    Job j = { .expr = "ij,*jk->ik", .helpers = UEAJ_H_UNIT };
    j.slots[0] = ash(DT_F32, 2, 2, 4);
    j.slots[1] = ash(DT_F32, 2, 4, 3);
    Built b = build_ok(&j);
    IrNode *n = node(b.g, 0);
    ck_assert(n->has_scale);
    ck_assert_double_eq_tol(n->var_prod, 4.0, 1e-12);
    ck_assert_double_eq_tol(n->scale, 0.5, 1e-12);
    built_free(&b);

    /* acceptance 16: x var 4, W var 1, out 1, J=16 -> 1/sqrt(4*1*16) */
    Job k = { .expr = "ij,jk->ik", .vars = "x0=4 x1=1 out=1" };
    k.slots[0] = ash(DT_F32, 2, 2, 16);
    k.slots[1] = ash(DT_F32, 2, 16, 3);
    b = build_ok(&k);
    ck_assert_double_eq_tol(node(b.g, 0)->scale, 0.125, 1e-12);
    built_free(&b);

    /* a trace sums n terms: scale 1/sqrt(n), not 1/n (fixed seed quirk) */
    Job t = { .expr = "ii->", .helpers = UEAJ_H_UNIT };
    t.slots[0] = ash(DT_F32, 2, 5, 5);
    b = build_ok(&t);
    ck_assert_double_eq_tol(node(b.g, 0)->scale, 1.0 / sqrt(5.0), 1e-12);
    built_free(&b);

    /* per term: the bias term contracts nothing, scale 1 */
    Job m = { .expr = "ij,*w=jk + *b=k -> ik", .helpers = UEAJ_H_UNIT };
    m.slots[0] = ash(DT_F32, 2, 2, 9);
    m.named[0] = ash(DT_F32, 2, 9, 4);
    m.named[1] = ash(DT_F32, 1, 4);
    b = build_ok(&m);
    ck_assert_double_eq_tol(node(b.g, 0)->scale, 1.0 / 3.0, 1e-12);
    ck_assert(node(b.g, 1)->has_scale);
    ck_assert_double_eq_tol(node(b.g, 1)->scale, 1.0, 1e-12);
    built_free(&b);

    /* no variances: no scaling; only the result's: still none */
    Job o = { .expr = "ij,jk->ik", .vars = "out=1" };
    o.slots[0] = ash(DT_F32, 2, 2, 4);
    o.slots[1] = ash(DT_F32, 2, 4, 3);
    b = build_ok(&o);
    ck_assert(!node(b.g, 0)->has_scale);
    built_free(&b);
}
END_TEST

START_TEST(variance_errors)
{
    Job j = { .expr = "ij,jk->ik", .vars = "x0=1 x1=1" };
    j.slots[0] = ash(DT_F32, 2, 2, 4);
    j.slots[1] = ash(DT_F32, 2, 4, 3);
    Built b = build(&j);
    ck_assert_int_eq(b.rc, -1);
    ck_assert_str_eq(first_error(b.ctx)->msg, "output variance must be specified if any operand variance is specified");
    built_free(&b);

    j.vars = "x0=1 out=1";
    b = build(&j);
    ck_assert_int_eq(b.rc, -1);
    ck_assert_str_eq(first_error(b.ctx)->msg,
                     "variance is set on some operands of this term but not on x1; set all or none");
    ck_assert_int_eq(first_error(b.ctx)->span.col, 4);
    built_free(&b);

    /* a run-time dim cannot be scaled over */
    Job s = { .expr = "ij,*jk->ik", .helpers = UEAJ_H_UNIT, .symbolic = true };
    b = build(&s);
    ck_assert_int_eq(b.rc, -1);
    ERROR_STARTS(b.ctx, "variance scaling over the run-time dim 'j'");
    built_free(&b);
}
END_TEST

/* ---- pass_order -------------------------------------------------------- */

typedef struct Live { const IrTensor *t; const char *letters; } Live;

static bool has_letter(const char *s, char c) { return c && strchr(s, c) != NULL; }

/* Replays nodes [first, first + nsteps) of a split term independently: each
 * step must take two live operands, keep exactly the letters of its operands
 * that the result or a still-live operand needs, and the last step must
 * write `out` with `out_letters`, leaving nothing live. */
static void replay_chain(const IrGraph *g, int first, int nsteps, Live *live, int nlive, const IrTensor *out,
                         const char *out_letters)
{
    for (int s = 0; s < nsteps; s++) {
        const IrNode *n = node(g, first + s);
        ck_assert_int_eq(n->op, OP_CONTRACT);
        ck_assert_msg(n->nin == 2, "step %d has %d operands", s + 1, n->nin);
        ck_assert_int_eq(n->step, s + 1);
        int idx[2];
        for (int k = 0; k < 2; k++) {
            idx[k] = -1;
            for (int q = 0; q < nlive; q++)
                if (live[q].t == n->in[k] && !strcmp(live[q].letters, n->in_letters[k]) && (k == 0 || q != idx[0])) {
                    idx[k] = q;
                    break;
                }
            ck_assert_msg(idx[k] >= 0, "step %d operand %d (%s) is not live", s + 1, k, n->in[k]->name);
        }
        /* remove both, remembering their letters */
        char both[64];
        snprintf(both, sizeof both, "%s%s", live[idx[0]].letters, live[idx[1]].letters);
        int w = 0;
        for (int q = 0; q < nlive; q++)
            if (q != idx[0] && q != idx[1]) live[w++] = live[q];
        nlive = w;
        if (s == nsteps - 1) {
            ck_assert_ptr_eq(n->out, out);
            ck_assert_str_eq(n->out_letters, out_letters);
            ck_assert_int_eq(nlive, 0);
            break;
        }
        /* kept letters, as a set */
        for (const char *p = both; *p; p++) {
            bool needed = has_letter(out_letters, *p);
            for (int q = 0; q < nlive && !needed; q++) needed = has_letter(live[q].letters, *p);
            ck_assert_msg(needed == has_letter(n->out_letters, *p), "step %d: letter '%c' %s, but out is '%s'", s + 1,
                          *p, needed ? "is needed" : "is not needed", n->out_letters);
        }
        for (const char *p = n->out_letters; *p; p++) {
            ck_assert_msg(has_letter(both, *p), "step %d: '%c' comes from no operand", s + 1, *p);
            ck_assert_msg(!strchr(p + 1, *p), "step %d: '%c' twice", s + 1, *p);
        }
        ck_assert_int_eq(n->out->kind, TEN_TEMP);
        ck_assert_int_eq(n->out->rank, (int)strlen(n->out_letters));
        for (int a = 0; a < n->out->rank; a++)
            ck_assert_int_eq(n->out->shape[a].c, n->lsize[(unsigned char)n->out_letters[a]].c);
        ck_assert_int_eq(n->out->dtype, n->acc);   /* intermediates add no rounding */
        live[nlive].t = n->out;
        live[nlive].letters = n->out_letters;
        nlive++;
    }
}

START_TEST(order_chain_of_four)
{
    /* a=2 b=c=d=100 e=3: left to right is cheapest:
     * (ab,bc)->ac, (ac,cd)->ad, (ad,de)->ae */
    Job j = { .expr = "ab,bc,cd,de->ae" };
    j.slots[0] = ash(DT_F32, 2, 2, 100);
    j.slots[1] = ash(DT_F32, 2, 100, 100);
    j.slots[2] = ash(DT_F32, 2, 100, 100);
    j.slots[3] = ash(DT_F32, 2, 100, 3);
    Built b = build_ok(&j);
    ck_assert_int_eq(b.g->nodes.n, 3);
    Live live[8] = { { tensor(b.g, "x0"), "ab" }, { tensor(b.g, "x1"), "bc" },
                     { tensor(b.g, "x2"), "cd" }, { tensor(b.g, "x3"), "de" } };
    replay_chain(b.g, 0, 3, live, 4, tensor(b.g, "out"), "ae");
    /* the chosen order */
    IrNode *s1 = node(b.g, 0), *s2 = node(b.g, 1);
    ck_assert_ptr_eq(s1->in[0], tensor(b.g, "x0"));
    ck_assert_ptr_eq(s1->in[1], tensor(b.g, "x1"));
    ck_assert_str_eq(s1->out_letters, "ac");
    ck_assert(has_letter(s2->out_letters, 'a') && has_letter(s2->out_letters, 'd') && strlen(s2->out_letters) == 2);
    SHAPE(s1->out, 2, 100);
    built_free(&b);
}
END_TEST

START_TEST(order_keeps_scale_and_accumulate)
{
    /* the last step carries the term's scale and '+=' */
    Job j = { .expr = "i + ij,jk,kl->il", .helpers = UEAJ_H_UNIT };
    j.slots[0] = ash(DT_F32, 1, 2);
    j.slots[1] = ash(DT_F32, 2, 2, 3);
    j.slots[2] = ash(DT_F32, 2, 3, 4);
    j.slots[3] = ash(DT_F32, 2, 4, 5);
    Built b = build_ok(&j);
    ck_assert_int_eq(b.g->nodes.n, 3);
    ck_assert_int_eq(node(b.g, 0)->nin, 1);   /* the first term is untouched */
    ck_assert_int_eq(node(b.g, 0)->step, 0);
    IrNode *first = node(b.g, 1), *last = node(b.g, 2);
    ck_assert(!first->accumulate);
    ck_assert(!first->has_scale);
    ck_assert(last->accumulate);
    ck_assert(last->has_scale);
    ck_assert_double_eq_tol(last->scale, 1.0 / sqrt(3.0 * 4.0), 1e-12);
    Live live[8] = { { tensor(b.g, "x1"), "ij" }, { tensor(b.g, "x2"), "jk" }, { tensor(b.g, "x3"), "kl" } };
    replay_chain(b.g, 1, 2, live, 3, tensor(b.g, "out"), "il");
    built_free(&b);
}
END_TEST

START_TEST(order_transnormer)
{
    Job j = { .expr = "bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv",
              .dims = "b=2 n=8 m=8 d=16 h=2 i=2 k=4 v=4 z=16 y=16" };
    j.slots[0] = ash(DT_F32, 3, 2, 8, 16);
    j.slots[2] = ash(DT_F32, 3, 2, 8, 16);
    j.slots[4] = ash(DT_F32, 3, 2, 8, 16);
    j.slots[6] = ash(DT_F32, 2, 8, 8);
    Built b = build_ok(&j);
    ck_assert_int_eq(b.g->nodes.n, 6);
    Live live[16] = { { tensor(b.g, "x0"), "bnd" }, { tensor(b.g, "w_1"), "dhik" }, { tensor(b.g, "x2"), "bmz" },
                      { tensor(b.g, "w_3"), "zhk" }, { tensor(b.g, "x4"), "bmy" }, { tensor(b.g, "w_5"), "yhv" },
                      { tensor(b.g, "x6"), "nm" } };
    replay_chain(b.g, 0, 6, live, 7, tensor(b.g, "out"), "bnhiv");
    SHAPE(tensor(b.g, "out"), 2, 8, 2, 2, 4);
    built_free(&b);
}
END_TEST

START_TEST(order_two_operands_untouched)
{
    Job j = { .expr = "ij,jk->ik" };
    j.slots[0] = ash(DT_F32, 2, 2, 3);
    j.slots[1] = ash(DT_F32, 2, 3, 4);
    Built b = build_ok(&j);
    ck_assert_int_eq(b.g->nodes.n, 1);
    ck_assert_int_eq(node(b.g, 0)->step, 0);
    built_free(&b);
}
END_TEST

/* ---- run_passes and the dump ------------------------------------------- */

START_TEST(run_passes_stop_and_dump)
{
    Job j = { .expr = "ab,bc,cd->ad", .stop = "precision" };
    j.slots[0] = ash(DT_F32, 2, 2, 3);
    j.slots[1] = ash(DT_F32, 2, 3, 4);
    j.slots[2] = ash(DT_BF16, 2, 4, 5);
    Built b = build_ok(&j);
    ck_assert_int_eq(b.rc, 1);
    ck_assert_int_eq(b.g->nodes.n, 1);            /* order has not run yet */
    ck_assert_int_eq(node(b.g, 0)->nin, 3);
    ck_assert_str_eq(b.dump, "tensor %0 x0       input  [2, 3] f32\n"
                             "tensor %1 x1       input  [3, 4] f32\n"
                             "tensor %2 x2       input  [4, 5] bf16\n"
                             "tensor %3 out      output [2, 5] f32\n"
                             "node 0 contract ab,bc,cd->ad %3 = (%0, %1, %2) acc=f32  # ab,bc,cd->ad\n");
    built_free(&b);

    j.stop = "shapes";
    b = build_ok(&j);
    ck_assert_int_eq(b.rc, 1);
    ck_assert_ptr_nonnull(strstr(b.dump, "tensor %3 out      output [2, 5] ?\n"));
    ck_assert_int_eq(tensor(b.g, "out")->dtype, DT_NONE);   /* no dtype before precision */
    built_free(&b);

    j.stop = NULL;
    b = build_ok(&j);
    ck_assert_int_eq(b.rc, 0);
    ck_assert_int_eq(b.g->nodes.n, 2);
    Buf d;
    buf_init(&d);
    ir_dump(&d, b.g);
    ck_assert_ptr_nonnull(strstr(d.p, "step 2 of 2\n"));
    buf_free(&d);
    built_free(&b);
}
END_TEST

START_TEST(ir_dump_format)
{
    Job j = { .expr = "ij,*w=jk + &l=k -> ik", .helpers = UEAJ_H_UNIT | UEAJ_H_FP8_PARAMS };
    j.slots[0] = ash(DT_F32, 2, 2, 4);
    j.named[0] = ash(DT_F32, 2, 4, 3);
    j.named[1] = ash(DT_F32, 1, 3);
    Built b = build_ok(&j);
    Buf d;
    buf_init(&d);
    ir_dump(&d, b.g);
    ck_assert_str_eq(d.p, "tensor %0 x0       input  [2, 4] f32 var=1\n"
                          "tensor %1 w        param  [4, 3] f8e4m3 grad=f8e4m3 var=1\n"
                          "tensor %2 l        param  [3] f32 grad=f32 group=lora var=1\n"
                          "tensor %3 out      output [2, 3] f32 var=1\n"
                          "node 0 contract ij,jk->ik %3 = (%0, %1) acc=f32 scale=0.5  # term 1 (ij,*w=jk) of "
                          "ij,*w=jk + &l=k -> ik\n"
                          "node 1 contract k->ik %3 += (%2) acc=f32 scale=1  # term 2 (&l=k) of ij,*w=jk + &l=k -> ik\n");
    buf_free(&d);
    ck_assert_str_eq(ir_op_name(OP_CONTRACT), "contract");
    ck_assert_str_eq(ir_op_name(OP_CAST), "cast");
    ck_assert_str_eq(ir_op_name((OpKind)9999), "?");
    built_free(&b);
}
END_TEST

extern Suite *suite_ir(void);
Suite *suite_ir(void)
{
    Suite *s = suite_create("ir");
    TCase *tc = tcase_create("ir_from_ueajsum_and_shapes");
    tcase_add_test(tc, shapes_matmul);
    tcase_add_test(tc, shapes_broadcast_and_missing_letter);
    tcase_add_test(tc, shapes_mismatch);
    tcase_add_test(tc, missing_and_rank_errors);
    tcase_add_test(tc, param_sizes_from_letters);
    tcase_add_test(tc, symbolic_dims);
    suite_add_tcase(s, tc);
    tc = tcase_create("pass_precision");
    tcase_add_test(tc, precision_promotion);
    tcase_add_test(tc, precision_defaults);
    tcase_add_test(tc, precision_multi_term_accumulator);
    suite_add_tcase(s, tc);
    tc = tcase_create("pass_variance");
    tcase_add_test(tc, variance_scaling);
    tcase_add_test(tc, variance_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("pass_order");
    tcase_add_test(tc, order_chain_of_four);
    tcase_add_test(tc, order_keeps_scale_and_accumulate);
    tcase_add_test(tc, order_transnormer);
    tcase_add_test(tc, order_two_operands_untouched);
    suite_add_tcase(s, tc);
    tc = tcase_create("run_passes_and_dump");
    tcase_add_test(tc, run_passes_stop_and_dump);
    tcase_add_test(tc, ir_dump_format);
    suite_add_tcase(s, tc);
    return s;
}
