/* pass_precision.c - storage, accumulation and gradient dtypes.
 *
 * Storage: parameters default to bf16 (the seed's ParamConfig default)
 * unless a helper (fp8_params, bf16_params), --dtype, or the dtype of the
 * array supplied for them decides.  Inputs keep the dtype of their data.
 * Gradient dtype defaults to the storage dtype (the seed's fallback).
 *
 * Result dtype (unless --out-dtype / the model file says): fp8 promotion
 * first (seed 3.3: if some operands are fp8 and some are not, the fp8 ones
 * count as the promoted type of the others; all-fp8 stays fp8), then the
 * usual float lattice: f64 > f32 > {f16, bf16}; f16 with bf16 gives f32
 * (as JAX and PyTorch do); two different fp8 formats give bf16.
 *
 * Accumulation: f64 when any operand or the result is f64, else f32 (the
 * seed's GPU matmuls accumulate in f32 whatever the result type).  Widening
 * fp8/bf16/f16 to f32 is exact, so promotion never changes a value; only
 * the final rounding to the result dtype does.
 *
 * A result written by several '+' terms in a dtype narrower than the
 * accumulator is summed in an accumulator-typed temporary and rounded
 * once by a CAST node, rather than rounded after every term.
 */
#include <string.h>
#include "internal.h"

static int rank_of(DType t)
{
    switch (t) {
    case DT_F64: return 4;
    case DT_F32: return 3;
    case DT_F16: case DT_BF16: return 2;
    case DT_F8E4M3: case DT_F8E5M2: return 1;
    default: return 0;
    }
}

static DType promote2(DType a, DType b)
{
    if (!a) return b;
    if (!b || a == b) return a;
    int ra = rank_of(a), rb = rank_of(b);
    if (ra == rb) return ra == 1 ? DT_BF16 : DT_F32; /* f16+bf16 -> f32, e4m3+e5m2 -> bf16 */
    return ra > rb ? a : b;
}

/* The natural result dtype of a set of operand dtypes, with fp8 promotion. */
static DType result_dtype(const DType *ts, int n)
{
    DType wide = DT_NONE, narrow = DT_NONE;
    for (int i = 0; i < n; i++) {
        if (dtype_is_fp8(ts[i])) narrow = promote2(narrow, ts[i]);
        else wide = promote2(wide, ts[i]);
    }
    if (wide) return wide;       /* mixed: fp8 operands promoted to the others' type */
    return narrow ? narrow : DT_F32;
}

int pass_precision(UeajCtx *ctx, IrGraph *g)
{
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        if (t->kind == TEN_PARAM && !t->dtype) t->dtype = DT_BF16;
        if (t->kind == TEN_PARAM && !t->grad_dtype) t->grad_dtype = t->dtype;
    }
    /* the nodes writing each tensor, in order (CSR: wr[first[id] .. first[id + 1])),
     * so that nothing below scans every node for every tensor */
    Arena *A = &ctx->arena;
    int nt = g->tensors.n, nn = g->nodes.n;
    int *first = ARENA_ARRAY(A, int, nt + 2), *fill = ARENA_ARRAY(A, int, nt + 1), *pos = ARENA_ARRAY(A, int, nn + 1);
    for (int j = 0; j < nn; j++) first[((IrNode *)g->nodes.v[j])->out->id + 1]++;
    for (int i = 0; i < nt; i++) first[i + 1] += first[i];
    for (int j = 0; j < nn; j++) {
        int id = ((IrNode *)g->nodes.v[j])->out->id;
        pos[first[id] + fill[id]++] = j;
    }
    /* result dtypes: over all the nodes writing a tensor */
    for (int i = 0; i < nt; i++) {
        IrTensor *t = g->tensors.v[i];
        if (t->dtype) continue;
        DType ts[64];
        int n = 0;
        for (int q = first[i]; q < first[i + 1]; q++) {
            IrNode *nd = g->nodes.v[pos[q]];
            for (int k = 0; k < nd->nin && n < 64; k++) ts[n++] = nd->in[k]->dtype;
        }
        t->dtype = result_dtype(ts, n);
    }
    int nnodes = g->nodes.n;
    for (int j = 0; j < nnodes; j++) {
        IrNode *nd = g->nodes.v[j];
        if (nd->op != OP_CONTRACT) continue;
        bool f64 = nd->out->dtype == DT_F64;
        for (int k = 0; k < nd->nin; k++) f64 |= nd->in[k]->dtype == DT_F64;
        nd->acc = f64 ? DT_F64 : DT_F32;
    }
    /* several terms into a narrow result: accumulate in a temporary (the
     * temporaries made here need none: they are written in acc already) */
    IrNode **cast_after = ARENA_ARRAY(A, IrNode *, nn + 1); /* by node position */
    bool any = false;
    for (int i = 0; i < nt; i++) {
        IrTensor *t = g->tensors.v[i];
        int writers = 0, last = -1;
        DType acc = DT_NONE;
        for (int q = first[i]; q < first[i + 1]; q++) {
            IrNode *nd = g->nodes.v[pos[q]];
            if (nd->op == OP_CONTRACT) { writers++; last = pos[q]; acc = promote2(acc, nd->acc); }
        }
        if (writers < 2 || t->dtype == acc) continue;
        IrTensor *tmp = ir_tensor(ctx, g, NULL, TEN_TEMP, t->span);
        tmp->rank = t->rank;
        memcpy(tmp->shape, t->shape, sizeof t->shape);
        tmp->shape_known = t->shape_known;
        tmp->dtype = acc;
        for (int q = first[i]; q < first[i + 1]; q++) {
            IrNode *nd = g->nodes.v[pos[q]];
            if (nd->op == OP_CONTRACT) nd->out = tmp;
        }
        IrNode *cast = ir_node(ctx, g, OP_CAST, t, 1);
        cast->in[0] = tmp;
        cast->span = t->span;
        cast->origin = "round the summed terms once to the result dtype";
        cast_after[last] = cast;
        any = true;
    }
    if (any) { /* each cast right after the last term it rounds; the node ids follow */
        IrNode **order = ARENA_ARRAY(A, IrNode *, g->nodes.n);
        int k = 0;
        for (int j = 0; j < nn; j++) {
            order[k++] = g->nodes.v[j];
            if (cast_after[j]) order[k++] = cast_after[j];
        }
        UEAJ_ASSERT(k == g->nodes.n);
        for (int j = 0; j < k; j++) {
            g->nodes.v[j] = order[j];
            order[j]->id = j;
        }
    }
    return 0;
}
