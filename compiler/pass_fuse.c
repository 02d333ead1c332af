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

/* What the scan needs to know of every tensor (by id), kept up to date
 * as nodes merge, so that the pass is linear in the graph and not cubic
 * (a fresh scan over every node per candidate and per merge took 30 s at
 * 500 layers).  wpos holds, per tensor, the positions of its writers in
 * increasing order (CSR: wfirst[id] .. wfirst[id + 1]). */
typedef struct Fuse {
    int    *nread;      /* operand slots that read it, over live nodes */
    int    *nwrite;     /* live nodes that write it */
    bool   *acc;        /* a writer accumulates into it */
    int    *wfirst, *wpos;
    bool   *dead;       /* per node position: merged into its consumer */
} Fuse;

/* The only node writing t (and not accumulating), or NULL. */
static IrNode *sole_writer(const IrGraph *g, const Fuse *f, const IrTensor *t, int *pos)
{
    if (f->nwrite[t->id] != 1 || f->acc[t->id]) return NULL;
    for (int q = f->wfirst[t->id]; q < f->wfirst[t->id + 1]; q++)
        if (!f->dead[f->wpos[q]]) {
            *pos = f->wpos[q];
            return g->nodes.v[*pos];
        }
    return NULL;
}

/* A live node at a position strictly between from and to writes one of P's operands. */
static bool written_between(const Fuse *f, int from, int to, const IrNode *P)
{
    for (int k = 0; k < P->nin; k++) {
        int id = P->in[k]->id, lo = f->wfirst[id], hi = f->wfirst[id + 1];
        while (lo < hi) { /* the first writer after from */
            int mid = lo + (hi - lo) / 2;
            if (f->wpos[mid] <= from) lo = mid + 1; else hi = mid;
        }
        for (int q = lo; q < f->wfirst[id + 1] && f->wpos[q] < to; q++)
            if (!f->dead[f->wpos[q]]) return true;
    }
    return false;
}

static void count_reads(Fuse *f, IrTensor *const *in, int nin, int d)
{
    for (int k = 0; k < nin; k++) f->nread[in[k]->id] += d;
}

/* Every merge into E at position j, until none applies: 1 if any. */
static int fuse_into(UeajCtx *ctx, IrGraph *g, Fuse *f, int j)
{
    IrNode *E = g->nodes.v[j];
    int merged = 0;
again:
    if (!fusable(E)) return merged;
    for (int k = 0; k < E->nin; k++) {
        IrTensor *T = E->in[k];
        int pi = -1;
        IrNode *P = T->kind == TEN_TEMP ? sole_writer(g, f, T, &pi) : NULL;
        if (!P || pi >= j || !fusable(P) || !ir_same_shape(P->out, E->out) || !ir_same_shape(T, E->out) ||
            f->nread[T->id] != 1 || written_between(f, pi, j, P))
            continue;
        as_program(ctx, P);
        as_program(ctx, E);
        IrTensor **old_in = E->in;
        int old_nin = E->nin;
        if (!merge(ctx, P, E, T)) continue;
        count_reads(f, old_in, old_nin, -1);
        count_reads(f, P->in, P->nin, -1);
        count_reads(f, E->in, E->nin, +1);
        f->nwrite[T->id]--;
        f->dead[pi] = true;
        merged = 1;
        goto again;
    }
    return merged;
}

/* The merges are those of repeatedly taking the first mergeable pair (by
 * consumer position, then operand) in the whole graph: a merge into E
 * changes nothing for the consumers before E (only P's operands change
 * readers, and E still reads them), so one forward scan that retries E
 * after each merge into it finds the same pairs in the same order. */
int pass_fuse(UeajCtx *ctx, IrGraph *g)
{
    if (ctx->opt.no_fuse) return 0;
    Arena *A = &ctx->arena;
    int nt = g->tensors.n, nn = g->nodes.n;
    Fuse f;
    f.nread = ARENA_ARRAY(A, int, nt + 1);
    f.nwrite = ARENA_ARRAY(A, int, nt + 1);
    f.acc = ARENA_ARRAY(A, bool, nt + 1);
    f.wfirst = ARENA_ARRAY(A, int, nt + 2);
    f.wpos = ARENA_ARRAY(A, int, nn + 1);
    f.dead = ARENA_ARRAY(A, bool, nn + 1);
    for (int i = 0; i < nn; i++) {
        IrNode *n = g->nodes.v[i];
        count_reads(&f, n->in, n->nin, +1);
        f.nwrite[n->out->id]++;
        if (n->accumulate) f.acc[n->out->id] = true;
    }
    for (int t = 0; t < nt; t++) f.wfirst[t + 1] = f.wfirst[t] + f.nwrite[t];
    int *fill = ARENA_ARRAY(A, int, nt + 1);
    for (int i = 0; i < nn; i++) {
        int id = ((IrNode *)g->nodes.v[i])->out->id;
        f.wpos[f.wfirst[id] + fill[id]++] = i;
    }
    int merged = 0;
    for (int j = 0; j < nn; j++) merged |= fuse_into(ctx, g, &f, j);
    if (!merged) return 0;
    int kept = 0;
    for (int i = 0; i < nn; i++)
        if (!f.dead[i]) g->nodes.v[kept++] = g->nodes.v[i];
    g->nodes.n = kept;
    for (int i = 0; i < g->nodes.n; i++) ((IrNode *)g->nodes.v[i])->id = i;
    /* drop the temps nothing touches any more; ids follow the order */
    bool *used = ARENA_ARRAY(A, bool, nt + 1);
    for (int q = 0; q < g->nodes.n; q++) {
        const IrNode *n = g->nodes.v[q];
        used[n->out->id] = true;
        for (int k = 0; k < n->nin; k++) used[n->in[k]->id] = true;
    }
    kept = 0;
    for (int i = 0; i < nt; i++) {
        IrTensor *t = g->tensors.v[i];
        if (t->kind != TEN_TEMP && !used[i]) used[i] = true;
        if (!used[i]) continue;
        t->id = kept;
        g->tensors.v[kept++] = t;
    }
    g->tensors.n = kept;
    return 0;
}
