/* pass_fuse.c - chains of elementwise ops become one kernel (the last pass).
 *
 * Every elementwise node (add, sub, mul, div, mulc, silu, relu, gelu, exp,
 * neg) is a kernel that reads its operands from memory and writes its
 * result back.  In a LLaMA MLP, silu(g) * u is two such kernels and one
 * intermediate [n, ffn] tensor written and read again.  This pass merges a
 * producer P into its consumer E when
 *
 *   - both are elementwise (or already fused) over one shape,
 *   - P's output T is a temp that E reads once and nothing else reads,
 *   - P is T's only writer (no accumulation into it), and
 *   - no node between P and E writes one of P's operands (a cache write,
 *     an accumulation), so computing P later, inside E, reads the same
 *     values.
 *
 * The result is one FUSED node whose program (IrNode.prog) is P's steps
 * then E's, with T replaced by P's last step; operands are deduplicated.
 * The arithmetic per element is unchanged: every step is the same f32
 * operation on the same f32 values in the same order (intermediates that
 * were stored as f32 stay f32 in registers), so results are bit-identical
 * to the unfused graph, in C and in CUDA.  T no longer exists: temps that
 * no node reads or writes are dropped and tensor and node ids renumbered
 * (in order), so no buffer is allocated for them.
 *
 * Programs are capped at 16 steps and 8 operands, to keep kernels short
 * and their comments readable.  `--no-fuse` (UeajOptions.no_fuse) turns
 * the pass off, for comparison and inspection.
 */
#include <string.h>
#include "internal.h"

#define MAX_STEPS 16
#define MAX_IN 8

bool ir_is_elementwise(OpKind op)
{
    switch (op) {
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MULC:
    case OP_SILU: case OP_RELU: case OP_GELU: case OP_EXP: case OP_NEG:
        return true;
    default:
        return false;
    }
}

static bool fusable(const IrNode *n) { return (ir_is_elementwise(n->op) || n->op == OP_FUSED) && !n->accumulate; }

/* A plain elementwise node as a one-step program of its own. */
static void as_program(UeajCtx *ctx, IrNode *n)
{
    if (n->op == OP_FUSED) return;
    IrFusedStep *s = ARENA_NEW(&ctx->arena, IrFusedStep);
    n->prog = (IrFusedStep *)ir_program(n, s, &n->nprog);
}

/* Operand references while merging: an input tensor or a step. */
typedef struct Ref { const IrTensor *t; int step; } Ref;

typedef struct Merge {
    IrTensor   *in[MAX_IN];
    int         nin;
    IrFusedStep st[MAX_STEPS];
    Ref         ra[MAX_STEPS], rb[MAX_STEPS];
    int         nst;
} Merge;

static int add_input(Merge *m, IrTensor *t)
{
    for (int i = 0; i < m->nin; i++) if (m->in[i] == t) return i;
    if (m->nin == MAX_IN) return -1;
    m->in[m->nin] = t;
    return m->nin++;
}

/* Appends n's steps; T (if not NULL) is the tensor the step `t_step` computes. */
static bool append(Merge *m, const IrNode *n, const IrTensor *T, int t_step)
{
    int base = m->nst;
    for (int k = 0; k < n->nprog; k++) {
        if (m->nst == MAX_STEPS) return false;
        IrFusedStep s = n->prog[k];
        Ref r[2];
        const int ops[2] = {s.a, s.b};
        for (int q = 0; q < 2; q++) {
            int o = ops[q];
            if (o < n->nin) {
                if (n->in[o] == T) r[q] = (Ref){NULL, t_step};
                else {
                    if (add_input(m, n->in[o]) < 0) return false;
                    r[q] = (Ref){n->in[o], -1};
                }
            } else {
                r[q] = (Ref){NULL, base + (o - n->nin)};
            }
        }
        m->st[m->nst] = s;
        m->ra[m->nst] = r[0];
        m->rb[m->nst] = r[1];
        m->nst++;
    }
    return true;
}

static int encode(const Merge *m, Ref r)
{
    if (r.t) {
        for (int i = 0; i < m->nin; i++) if (m->in[i] == r.t) return i;
        ueaj_unreachable();
    }
    return m->nin + r.step;
}

/* Merges producer P (at position pi) into consumer E, whose operand T is P's output. */
static bool merge(UeajCtx *ctx, IrNode *P, IrNode *E, const IrTensor *T)
{
    Merge m;
    memset(&m, 0, sizeof m);
    if (!append(&m, P, NULL, -1)) return false;
    if (!append(&m, E, T, P->nprog - 1)) return false;
    IrFusedStep *prog = ARENA_ARRAY(&ctx->arena, IrFusedStep, m.nst);
    for (int k = 0; k < m.nst; k++) {
        prog[k] = m.st[k];
        prog[k].a = encode(&m, m.ra[k]);
        prog[k].b = encode(&m, m.rb[k]);
    }
    IrTensor **in = ARENA_ARRAY(&ctx->arena, IrTensor *, m.nin);
    memcpy(in, m.in, sizeof(IrTensor *) * (size_t)m.nin);
    Span *sp = ARENA_ARRAY(&ctx->arena, Span, m.nin);
    for (int i = 0; i < m.nin; i++) sp[i] = E->span;
    E->op = OP_FUSED;
    E->in = in;
    E->in_spans = sp;
    E->nin = m.nin;
    E->prog = prog;
    E->nprog = m.nst;
    return true;
}

static int readers(const IrGraph *g, const IrTensor *t)
{
    int r = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        const IrNode *n = g->nodes.v[i];
        for (int k = 0; k < n->nin; k++) r += n->in[k] == t;
    }
    return r;
}

/* The only node writing t (and not accumulating), or NULL. */
static IrNode *sole_writer(const IrGraph *g, const IrTensor *t, int *pos)
{
    IrNode *w = NULL;
    for (int i = 0; i < g->nodes.n; i++) {
        IrNode *n = g->nodes.v[i];
        if (n->out != t) continue;
        if (w || n->accumulate) return NULL;
        w = n;
        *pos = i;
    }
    return w;
}

static bool written_between(const IrGraph *g, int from, int to, const IrNode *P)
{
    for (int i = from + 1; i < to; i++) {
        const IrNode *n = g->nodes.v[i];
        for (int k = 0; k < P->nin; k++)
            if (n->out == P->in[k]) return true;
    }
    return false;
}

/* One merge, if any is possible: 1, else 0. */
static int fuse_one(UeajCtx *ctx, IrGraph *g)
{
    for (int j = 0; j < g->nodes.n; j++) {
        IrNode *E = g->nodes.v[j];
        if (!fusable(E)) continue;
        for (int k = 0; k < E->nin; k++) {
            IrTensor *T = E->in[k];
            int pi = -1;
            IrNode *P = T->kind == TEN_TEMP ? sole_writer(g, T, &pi) : NULL;
            if (!P || pi >= j || !fusable(P) || !ir_same_shape(P->out, E->out) || !ir_same_shape(T, E->out) ||
                readers(g, T) != 1 || written_between(g, pi, j, P))
                continue;
            as_program(ctx, P);
            as_program(ctx, E);
            if (!merge(ctx, P, E, T)) continue;
            for (int i = pi; i + 1 < g->nodes.n; i++) g->nodes.v[i] = g->nodes.v[i + 1];
            g->nodes.n--;
            return 1;
        }
    }
    return 0;
}

int pass_fuse(UeajCtx *ctx, IrGraph *g)
{
    if (ctx->opt.no_fuse) return 0;
    int merged = 0;
    while (fuse_one(ctx, g)) merged++;
    if (!merged) return 0;
    for (int i = 0; i < g->nodes.n; i++) ((IrNode *)g->nodes.v[i])->id = i;
    /* drop the temps nothing touches any more; ids follow the order */
    int kept = 0;
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        bool used = t->kind != TEN_TEMP;
        for (int q = 0; q < g->nodes.n && !used; q++) {
            const IrNode *n = g->nodes.v[q];
            used = n->out == t;
            for (int k = 0; k < n->nin && !used; k++) used = n->in[k] == t;
        }
        if (!used) continue;
        t->id = kept;
        g->tensors.v[kept++] = t;
    }
    g->tensors.n = kept;
    return 0;
}
