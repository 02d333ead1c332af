/* ir.c - the tensor graph: construction, printing, verification.
 *
 * The IR is a list of tensors (inputs, parameters, outputs, temporaries,
 * state) and an ordered list of nodes, each writing one tensor.  A CONTRACT
 * node is one einsum term: every operand carries its axis letters, the
 * output its letters; loops run over the output letters and sum over the
 * rest.  Passes annotate nodes and tensors in place (sizes, variance scale,
 * dtypes) and may insert nodes (contraction order splits terms, precision
 * adds casts).  Nothing is removed; the whole graph dies with the arena.
 *
 * ir_dump() is the `--emit=ir` text, deterministic (golden tests diff it):
 *
 *     tensor %0 x      input  [2, 3] f32
 *     tensor %1 w_1    param  [3, 4] bf16 grad=bf16
 *     tensor %2 out    output [2, 4] f32
 *     node 0  contract ij,jk->ik  %2 = (%0, %1)  acc=f32   # term 1
 *
 * ir_verify() checks the invariants every pass must keep; a violation is a
 * compiler bug and aborts with the pass's name (never a user error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

IrGraph *ir_new(UeajCtx *ctx, const char *name)
{
    IrGraph *g = ARENA_NEW(&ctx->arena, IrGraph);
    g->name = arena_strdup(&ctx->arena, name);
    return g;
}

IrTensor *ir_tensor(UeajCtx *ctx, IrGraph *g, const char *name, TenKind k, Span sp)
{
    IrTensor *t = ARENA_NEW(&ctx->arena, IrTensor);
    t->id = g->tensors.n;
    t->name = name ? arena_strdup(&ctx->arena, name) : arena_printf(&ctx->arena, "t%d", t->id);
    t->kind = k;
    t->span = sp;
    t->slot = -1;
    t->buf = -1;
    vec_push(&ctx->arena, &g->tensors, t);
    return t;
}

IrNode *ir_node(UeajCtx *ctx, IrGraph *g, OpKind op, IrTensor *out, int nin)
{
    IrNode *n = ARENA_NEW(&ctx->arena, IrNode);
    n->id = g->nodes.n;
    n->op = op;
    n->out = out;
    n->nin = nin;
    n->in = ARENA_ARRAY(&ctx->arena, IrTensor *, nin > 0 ? nin : 1);
    n->in_letters = ARENA_ARRAY(&ctx->arena, const char *, nin > 0 ? nin : 1);
    n->in_spans = ARENA_ARRAY(&ctx->arena, Span, nin > 0 ? nin : 1);
    n->scale = 1.0;
    for (int c = 0; c < 128; c++) n->lsize[c].c = -1, n->lsize[c].dyn = -1;
    vec_push(&ctx->arena, &g->nodes, n);
    return n;
}

/* Moves the last node added to position pos, renumbering ids. */
void ir_insert_node(IrGraph *g, int pos, IrNode *n)
{
    UEAJ_ASSERT(g->nodes.n > 0 && g->nodes.v[g->nodes.n - 1] == n);
    for (int i = g->nodes.n - 1; i > pos; i--) g->nodes.v[i] = g->nodes.v[i - 1];
    g->nodes.v[pos] = n;
    for (int i = 0; i < g->nodes.n; i++) ((IrNode *)g->nodes.v[i])->id = i;
}

const char *ir_op_name(OpKind op)
{
    static const char *const names[] = {
#define X(id, name, arity) name,
        OPS_X(X)
#undef X
    };
    _Static_assert(sizeof names / sizeof names[0] == OP_COUNT, "op table");
    return (unsigned)op < OP_COUNT ? names[op] : "?";
}

int ir_op_arity(OpKind op)
{
    static const int arity[] = {
#define X(id, name, n) n,
        OPS_X(X)
#undef X
    };
    return (unsigned)op < OP_COUNT ? arity[op] : -1;
}

int64_t ir_numel_const(const IrTensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->shape[i].dyn >= 0) return -1;
        n *= t->shape[i].c;
    }
    return n;
}

int64_t ir_elems_bound(const int64_t *shape, int rank)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        int64_t d = shape[i];
        if (d < 0) return -1;
        if (d == 0) continue;
        if (d > IR_MAX_ELEMS / n) return -1;
        n *= d;
    }
    return n;
}

int64_t ir_tensor_elems_bound(const IrTensor *t)
{
    int64_t c[IR_MAX_RANK];
    int k = 0;
    for (int i = 0; i < t->rank && i < IR_MAX_RANK; i++)
        if (t->shape[i].dyn < 0) c[k++] = t->shape[i].c;
    return ir_elems_bound(c, k);
}

static const char *kind_name(TenKind k)
{
    static const char *const n[] = {"input", "param", "output", "temp", "state"};
    return n[k];
}

static void dump_size(Buf *b, const IrGraph *g, IrSize s)
{
    if (s.dyn >= 0) buf_puts(b, g->dyn_names[s.dyn]);
    else if (s.c < 0) buf_putc(b, '?');
    else buf_printf(b, "%lld", (long long)s.c);
}

/* Operand o of a program step: an input's name or fK. */
static void fused_operand(Buf *b, const IrNode *n, int o)
{
    if (o < n->nin) buf_puts(b, n->in[o]->name);
    else buf_printf(b, "f%d", o - n->nin);
}

const IrFusedStep *ir_program(const IrNode *n, IrFusedStep *one, int *nsteps)
{
    if (n->op == OP_FUSED) { *nsteps = n->nprog; return n->prog; }
    *one = (IrFusedStep){n->op, 0, n->nin > 1 ? 1 : 0, n->fattr[0]};
    *nsteps = 1;
    return one;
}

bool ir_same_shape(const IrTensor *a, const IrTensor *b)
{
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->shape[i].dyn != b->shape[i].dyn || (a->shape[i].dyn < 0 && a->shape[i].c != b->shape[i].c))
            return false;
    return true;
}

bool ir_lookup_only(const IrGraph *g, const IrTensor *t)
{
    for (int q = 0; q < g->nodes.n; q++) {
        const IrNode *nd = g->nodes.v[q];
        for (int k = 0; k < nd->nin; k++)
            if (nd->in[k] == t && !(nd->op == OP_EMBED && k == 0)) return false;
    }
    return true;
}

void ir_fused_expr(Buf *b, const IrNode *n)
{
    IrFusedStep one;
    int np;
    const IrFusedStep *prog = ir_program(n, &one, &np);
    for (int k = 0; k < np; k++) {
        const IrFusedStep *s = &prog[k];
        buf_printf(b, "%sf%d = ", k ? "; " : "", k);
        switch (s->op) {
        case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
            fused_operand(b, n, s->a);
            buf_puts(b, s->op == OP_ADD ? " + " : s->op == OP_SUB ? " - " : s->op == OP_MUL ? " * " : " / ");
            fused_operand(b, n, s->b);
            break;
        case OP_MULC: buf_printf(b, "%.9g * ", s->c); fused_operand(b, n, s->a); break;
        case OP_NEG: buf_putc(b, '-'); fused_operand(b, n, s->a); break;
        default: buf_printf(b, "%s(", ir_op_name(s->op)); fused_operand(b, n, s->a); buf_putc(b, ')');
        }
    }
}

void ir_dump(Buf *b, const IrGraph *g)
{
    for (int i = 0; i < g->tensors.n; i++) {
        const IrTensor *t = g->tensors.v[i];
        buf_printf(b, "tensor %%%d %-8s %-6s [", t->id, t->name, kind_name(t->kind));
        if (t->shape_known)
            for (int a = 0; a < t->rank; a++) { if (a) buf_puts(b, ", "); dump_size(b, g, t->shape[a]); }
        else buf_puts(b, "?");
        buf_printf(b, "] %s", t->dtype ? dtype_name(t->dtype) : "?");
        if (t->kind == TEN_PARAM) buf_printf(b, " grad=%s", t->grad_dtype ? dtype_name(t->grad_dtype) : "?");
        if (t->group == UG_LORA) buf_puts(b, " group=lora");
        if (t->has_var) buf_printf(b, " var=%g", t->var);
        if (t->pack) buf_printf(b, " layout=panels%d(rows:%d)", t->pack, t->pack_nr);
        buf_putc(b, '\n');
    }
    for (int i = 0; i < g->nodes.n; i++) {
        const IrNode *n = g->nodes.v[i];
        buf_printf(b, "node %d %s ", n->id, ir_op_name(n->op));
        if (n->op == OP_CONTRACT) {
            for (int k = 0; k < n->nin; k++) buf_printf(b, "%s%s", k ? "," : "", n->in_letters[k]);
            buf_printf(b, "->%s ", n->out_letters);
        }
        buf_printf(b, "%%%d %s (", n->out->id, n->accumulate ? "+=" : "=");
        for (int k = 0; k < n->nin; k++) buf_printf(b, "%s%%%d", k ? ", " : "", n->in[k]->id);
        buf_putc(b, ')');
        if (n->acc) buf_printf(b, " acc=%s", dtype_name(n->acc));
        if (n->has_scale) buf_printf(b, " scale=%.9g", n->scale);
        if (n->op == OP_FUSED) { buf_puts(b, " computes "); ir_fused_expr(b, n); }
        if (n->origin) buf_printf(b, "  # %s", n->origin);
        buf_putc(b, '\n');
    }
}

/* Invariants:
 *  - every node's operands and output are tensors of this graph;
 *  - CONTRACT: one letter string per operand, as long as its rank once
 *    shapes are known; output letters distinct and as long as the output rank;
 *  - after "precision": every tensor has a dtype, every node an acc dtype;
 *  - after "order": no CONTRACT has more than two operands. */
int ir_verify(UeajCtx *ctx, const IrGraph *g, const char *after)
{
    (void)ctx;
    bool typed = after && (!strcmp(after, "precision") || !strcmp(after, "order"));
    bool ordered = after && !strcmp(after, "order");
    char what[256];
    for (int i = 0; i < g->nodes.n; i++) {
        const IrNode *n = g->nodes.v[i];
#define CHECK(c, ...)                                                                  \
    do {                                                                               \
        if (!(c)) {                                                                    \
            snprintf(what, sizeof what, __VA_ARGS__);                                  \
            fprintf(stderr, "ueajc: IR verification failed after pass '%s', node %d: %s\n", \
                    after ? after : "build", n->id, what);                             \
            ueaj_internal_error(__FILE__, __LINE__, "ir_verify");                      \
        }                                                                              \
    } while (0)
        CHECK(n->id == i, "node id %d at position %d", n->id, i);
        CHECK(n->out && n->out->id < g->tensors.n && g->tensors.v[n->out->id] == n->out, "bad output");
        for (int k = 0; k < n->nin; k++)
            CHECK(n->in[k] && g->tensors.v[n->in[k]->id] == n->in[k], "bad operand %d", k);
        if (n->op == OP_CONTRACT) {
            for (int k = 0; k < n->nin; k++) {
                CHECK(n->in_letters[k] != NULL, "operand %d has no letters", k);
                if (n->in[k]->shape_known)
                    CHECK((int)strlen(n->in_letters[k]) == n->in[k]->rank, "operand %d: %d letters, rank %d", k,
                          (int)strlen(n->in_letters[k]), n->in[k]->rank);
            }
            CHECK(n->out_letters != NULL, "no output letters");
            for (const char *p = n->out_letters; *p; p++) CHECK(!strchr(p + 1, *p), "repeated output letter");
            if (n->out->shape_known)
                CHECK((int)strlen(n->out_letters) == n->out->rank, "output letters vs rank");
            if (ordered) CHECK(n->nin <= 2, "%d operands after contraction ordering", n->nin);
        }
        CHECK(ir_op_arity(n->op) < 0 || n->nin == ir_op_arity(n->op), "%s with %d operands", ir_op_name(n->op), n->nin);
        if (n->op == OP_RMSNORM) CHECK(n->nin == 1 || n->nin == 2, "rms_norm with %d operands", n->nin);
        if (n->op == OP_ATTENTION) CHECK(n->nin == 3 || n->nin == 4, "attention with %d operands", n->nin);
        if (n->op == OP_CACHE_WRITE) CHECK(n->out->kind == TEN_STATE, "cache_write into a non-state tensor");
        if (n->op == OP_FUSED) {
            CHECK(n->nprog >= 1 && n->prog, "fused node without steps");
            for (int k = 0; k < n->nprog; k++) {
                const IrFusedStep *s = &n->prog[k];
                CHECK(ir_is_elementwise(s->op), "fused step %d is %s", k, ir_op_name(s->op));
                CHECK(s->a >= 0 && s->a < n->nin + k && s->b >= 0 && s->b < n->nin + k,
                      "fused step %d reads an operand that does not exist yet", k);
            }
            for (int k = 0; k < n->nin; k++)
                CHECK(ir_same_shape(n->in[k], n->out), "fused operand %d has another shape than the output", k);
        }
        if (n->op != OP_CONTRACT && n->op != OP_CAST && after)
            CHECK(n->out->shape_known, "output of %s has no shape", ir_op_name(n->op));
        if (typed) {
            CHECK(n->acc != DT_NONE || n->op != OP_CONTRACT, "no accumulation dtype");
            CHECK(n->out->dtype != DT_NONE, "output %s has no dtype", n->out->name);
            for (int k = 0; k < n->nin; k++) CHECK(n->in[k]->dtype != DT_NONE, "operand %d has no dtype", k);
        }
#undef CHECK
    }
    return 0;
}
