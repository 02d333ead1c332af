/* memplan.c - temporaries that share memory.
 *
 * A model's temporaries live briefly: a layer's q, k, v, attention output
 * and MLP activations are dead once the layer's residual add has read
 * them.  Given each one its own buffer, a 16-layer model holds 16 layers'
 * worth of activations (at a 512-token prefill of the 1B shape, about a
 * gigabyte); sharing, it holds about one layer's.  This is the classic
 * interval-colouring answer (TVM's storage rewrite, ggml's graph
 * allocator), applied to a list of steps:
 *
 *   - A step reads some tensors and writes others (a kernel; in CUDA also
 *     a cuBLASLt matmul).  A temp is live from the step that first writes
 *     it to the last step that reads or writes it.
 *   - Walking the steps in order, a temp first written at step s takes a
 *     slot that is free at s, and gives it back after its last step.  A
 *     slot is freed only after the step that last uses it, so a step's
 *     outputs never share memory with its own inputs (kernels may read
 *     their operands while they write, and the C backend's kernels take
 *     restrict pointers).
 *   - Only temps take part.  A temp that some step reads before (or while)
 *     it is first written, such as an accumulation (`out +=`) or a
 *     matmul's C = D, relies on its memory's previous contents (zero), so
 *     it keeps a buffer of its own; so does a temp no step touches.
 *   - Slot choice: a free slot last used by a temp of exactly the same
 *     size (same element bytes, constant factors and run-time dims, so the
 *     same at every dims); else the smallest free slot at least as large
 *     (sizes compared with every run-time dim at a nominal 1024); else the
 *     largest free slot, which grows; else a new slot.  A slot's memory is
 *     the largest of its members at the dims of the run, computed by the
 *     runtime, so the choice affects only the total, never correctness.
 *
 * The result is root[i]: the tensor whose memory tensor i uses (the first
 * temp of its slot; root[i] == i for every other tensor).  The C backend
 * asks for it per node (ir_share_buffers); the CUDA emitter builds its own
 * step list (launches, matmuls, the rounded copies it adds) and writes the
 * answer into the plan as `share` records.  --no-share (UeajOptions.
 * no_share) leaves every tensor its own buffer, for comparison.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define NOMINAL_DIM 1024

/* The size of t in a form that compares equal exactly when two tensors
 * take the same bytes at every run-time dims. */
typedef struct SizeKey { int64_t c; int dyn[16]; } SizeKey;

static SizeKey size_key(const IrTensor *t)
{
    SizeKey k;
    memset(&k, 0, sizeof k);
    k.c = (int64_t)dtype_size(t->dtype);
    for (int a = 0; a < t->rank; a++) {
        if (t->shape[a].dyn >= 0 && t->shape[a].dyn < 16) k.dyn[t->shape[a].dyn]++;
        else k.c *= t->shape[a].c;
    }
    return k;
}

static double nominal(const SizeKey *k)
{
    double v = (double)k->c;
    for (int d = 0; d < 16; d++)
        for (int q = 0; q < k->dyn[d]; q++) v *= NOMINAL_DIM;
    return v;
}

typedef struct Slot {
    int     root;     /* the first tensor placed in it */
    SizeKey last;     /* the size of the tensor that used it last */
    double  big;      /* its largest member's nominal size */
    int     busy;     /* a live tensor holds it */
} Slot;

void mem_share(UeajCtx *ctx, const IrTensor *const *tensors, int nt, const MemStep *steps, int nsteps, int *root)
{
    for (int i = 0; i < nt; i++) root[i] = i;
    if (ctx->opt.no_share || nt == 0) return;
    int *first = ARENA_ARRAY(&ctx->arena, int, nt), *last = ARENA_ARRAY(&ctx->arena, int, nt);
    bool *early = ARENA_ARRAY(&ctx->arena, bool, nt); /* read before or while first written */
    for (int i = 0; i < nt; i++) first[i] = last[i] = -1;
    for (int s = 0; s < nsteps; s++) {
        const MemStep *st = &steps[s];
        for (int q = 0; q < st->nreads; q++) {
            int t = st->reads[q];
            if (first[t] < 0) early[t] = true; /* not yet written: it reads what the memory held */
            last[t] = s;
        }
        for (int q = 0; q < st->nwrites; q++) {
            int t = st->writes[q];
            if (first[t] < 0) first[t] = s;
            last[t] = s;
        }
        for (int q = 0; q < st->nreads; q++) /* read at the step that first writes it: an accumulation */
            if (first[st->reads[q]] == s) early[st->reads[q]] = true;
    }
    Slot *slot = ARENA_ARRAY(&ctx->arena, Slot, nt);
    int *slot_of = ARENA_ARRAY(&ctx->arena, int, nt), nslot = 0;
    for (int s = 0; s < nsteps; s++) {
        const MemStep *st = &steps[s];
        for (int q = 0; q < st->nwrites; q++) {
            int t = st->writes[q];
            const IrTensor *T = tensors[t];
            if (first[t] != s || T->kind != TEN_TEMP || early[t]) continue;
            if (slot_of[t]) continue; /* listed twice among the step's writes */
            SizeKey k = size_key(T);
            double want = nominal(&k);
            int exact = -1, fit = -1, grow = -1;
            for (int z = 0; z < nslot; z++) {
                if (slot[z].busy) continue;
                if (exact < 0 && !memcmp(&slot[z].last, &k, sizeof k)) exact = z;
                if (slot[z].big >= want && (fit < 0 || slot[z].big < slot[fit].big)) fit = z;
                if (grow < 0 || slot[z].big > slot[grow].big) grow = z;
            }
            int z = exact >= 0 ? exact : fit >= 0 ? fit : grow;
            if (z < 0) {
                z = nslot++;
                slot[z].root = t;
                slot[z].big = 0;
            }
            slot[z].busy = 1;
            slot[z].last = k;
            if (want > slot[z].big) slot[z].big = want;
            slot_of[t] = z + 1;
            root[t] = slot[z].root;
        }
        /* free what this step used last (after placing its outputs) */
        for (int pass = 0; pass < 2; pass++) {
            const int *v = pass ? st->writes : st->reads;
            int nv = pass ? st->nwrites : st->nreads;
            for (int q = 0; q < nv; q++)
                if (last[v[q]] == s && slot_of[v[q]]) slot[slot_of[v[q]] - 1].busy = 0;
        }
    }
}

/* The C backend's steps: one per node; it reads its operands (and its
 * output when it accumulates) and writes its output. */
void ir_share_buffers(UeajCtx *ctx, const IrGraph *g, int *root)
{
    MemStep *steps = ARENA_ARRAY(&ctx->arena, MemStep, g->nodes.n + 1);
    for (int s = 0; s < g->nodes.n; s++) {
        const IrNode *n = g->nodes.v[s];
        int *r = ARENA_ARRAY(&ctx->arena, int, n->nin + 1), *w = ARENA_ARRAY(&ctx->arena, int, 1);
        int nr = 0;
        for (int k = 0; k < n->nin; k++) r[nr++] = n->in[k]->id;
        if (n->accumulate || n->op == OP_CACHE_WRITE) r[nr++] = n->out->id;
        w[0] = n->out->id;
        steps[s] = (MemStep){.reads = r, .nreads = nr, .writes = w, .nwrites = 1};
    }
    mem_share(ctx, (const IrTensor *const *)g->tensors.v, g->tensors.n, steps, g->nodes.n, root);
}

/* Host buffers for g at run-time dims dyn, temps sharing as
 * ir_share_buffers says: bufs[i] (zeroed) for every root, bufs[i] =
 * bufs[root[i]] for the rest.  Returns 0, or -1 out of memory (free what
 * was allocated with ir_free_buffers).  *temps and *temps_own (may be
 * NULL): the temps' bytes shared and as they would be unshared. */
int ir_alloc_buffers(UeajCtx *ctx, const IrGraph *g, const int64_t *dyn, void **bufs, int *root, size_t *temps,
                     size_t *temps_own)
{
    int nt = g->tensors.n;
    ir_share_buffers(ctx, g, root);
    size_t *bytes = ARENA_ARRAY(&ctx->arena, size_t, nt + 1), shared = 0, own = 0;
    for (int i = 0; i < nt; i++) {
        const IrTensor *t = g->tensors.v[i];
        size_t cnt = 1;
        for (int a = 0; a < t->rank; a++) cnt *= (size_t)(t->shape[a].dyn >= 0 ? dyn[t->shape[a].dyn] : t->shape[a].c);
        size_t b = (cnt ? cnt : 1) * dtype_size(t->dtype);
        if (b > bytes[root[i]]) bytes[root[i]] = b;
        if (t->kind == TEN_TEMP) own += b;
    }
    for (int i = 0; i < nt; i++) bufs[i] = NULL;
    for (int i = 0; i < nt; i++) {
        if (root[i] != i) continue;
        if (!(bufs[i] = calloc(1, bytes[i]))) return -1;
        if (((const IrTensor *)g->tensors.v[i])->kind == TEN_TEMP) shared += bytes[i];
    }
    for (int i = 0; i < nt; i++) bufs[i] = bufs[root[i]];
    if (temps) *temps = shared;
    if (temps_own) *temps_own = own;
    return 0;
}

void ir_free_buffers(const IrGraph *g, void **bufs, const int *root)
{
    for (int i = 0; bufs && root && i < g->tensors.n; i++)
        if (root[i] == i) { free(bufs[i]); bufs[i] = NULL; }
}
