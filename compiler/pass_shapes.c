/* pass_shapes.c - the size of every letter, and every shape checked.
 *
 * For each CONTRACT node, each operand axis binds its letter to a size:
 * lsize[letter].  Two operands that disagree are a shape mismatch (the
 * seed's "Shape mismatch for argument i, dimension c"), except that a
 * size-1 axis broadcasts against any size (as JAX's einsum does; the
 * TransNormer default mask relies on it).  Output tensors whose shape is
 * not yet known get it from their writers: each output letter takes its
 * size from a node that has the letter in an operand, or 1 if none does.
 * Finally every node learns the size of its broadcast output letters, so
 * the emitter knows every loop extent.
 *
 *   ij,jk->ik with x:(2,3), w:(3,4)  =>  i=2 j=3 k=4, out (2,4)
 *   ij,jk->ik with x:(2,3), w:(5,4)  =>  error: shape mismatch for argument 1, axis 'j'
 */
#include <string.h>
#include "internal.h"

static bool size_eq(IrSize a, IrSize b) { return a.dyn == b.dyn && (a.dyn >= 0 || a.c == b.c); }
static bool size_is1(IrSize a) { return a.dyn < 0 && a.c == 1; }
static bool size_set(IrSize a) { return a.dyn >= 0 || a.c >= 0; }

static const char *size_str(UeajCtx *ctx, const IrGraph *g, IrSize s)
{
    if (s.dyn >= 0) return g->dyn_names[s.dyn];
    return arena_printf(&ctx->arena, "%lld", (long long)s.c);
}

int pass_shapes(UeajCtx *ctx, IrGraph *g)
{
    int before = ctx->nerrors;
    for (int i = 0; i < g->nodes.n; i++) {
        IrNode *n = g->nodes.v[i];
        if (n->op != OP_CONTRACT) continue;
        int who[128];
        for (int c = 0; c < 128; c++) who[c] = -1;
        for (int k = 0; k < n->nin; k++) {
            const IrTensor *t = n->in[k];
            const char *L = n->in_letters[k];
            UEAJ_ASSERT(t->shape_known);
            if ((int)strlen(L) != t->rank) {
                diag_error(ctx, n->in_spans[k], "'%s' names %d axes, but %s has %d", L, (int)strlen(L), t->name,
                           t->rank);
                continue;
            }
            for (int a = 0; a < t->rank; a++) {
                int ch = (unsigned char)L[a];
                IrSize s = t->shape[a];
                if (!size_set(n->lsize[ch]) || (size_is1(n->lsize[ch]) && !size_is1(s))) {
                    if (!size_set(n->lsize[ch]) || who[ch] < 0) who[ch] = k;
                    n->lsize[ch] = s;
                    continue;
                }
                if (size_eq(n->lsize[ch], s) || size_is1(s)) continue;
                Span sp = n->in_spans[k];
                Diag *d = diag_error(ctx, sp, "shape mismatch for argument %d (%s), axis '%c': size %s, but %s",
                                     k, t->name, ch, size_str(ctx, g, s), size_str(ctx, g, n->lsize[ch]));
                if (who[ch] >= 0)
                    diag_note(ctx, d, n->in_spans[who[ch]], "axis '%c' of %s has size %s", ch,
                              n->in[who[ch]]->name, size_str(ctx, g, n->lsize[ch]));
            }
        }
    }
    if (ctx->nerrors > before) return -1;

    /* shapes of outputs and temporaries from their writers */
    for (int ti = 0; ti < g->tensors.n; ti++) {
        IrTensor *t = g->tensors.v[ti];
        if (t->shape_known) continue;
        for (int a = 0; a < t->rank; a++) t->shape[a] = (IrSize){1, -1};
        bool written = false;
        for (int i = 0; i < g->nodes.n; i++) {
            IrNode *n = g->nodes.v[i];
            if (n->out != t) continue;
            written = true;
            if (n->op == OP_CONTRACT) {
                for (int a = 0; a < t->rank; a++) {
                    IrSize s = n->lsize[(unsigned char)n->out_letters[a]];
                    if (size_set(s) && !size_is1(s)) t->shape[a] = s;
                }
            } else if (n->op == OP_CAST) {
                UEAJ_ASSERT(n->in[0]->shape_known);
                t->rank = n->in[0]->rank;
                memcpy(t->shape, n->in[0]->shape, sizeof t->shape);
            }
        }
        UEAJ_ASSERT(written);
        t->shape_known = true;
    }
    /* no tensor past IR_MAX_ELEMS (declared ones are checked where they are
     * declared, results of built-ins where they are made; this catches the
     * rest: `ij,kl->ijkl` of two large operands, --dim sizes) */
    for (int ti = 0; ti < g->tensors.n; ti++) {
        const IrTensor *t = g->tensors.v[ti];
        if (ir_tensor_elems_bound(t) >= 0) continue;
        Buf sh;
        buf_init(&sh);
        for (int a = 0; a < t->rank; a++) buf_printf(&sh, "%s%s", a ? ", " : "", size_str(ctx, g, t->shape[a]));
        static const char *const kind[] = {"input", "parameter", "result", "intermediate", "state"};
        diag_error(ctx, t->span, "%s '%s' [%s] would have more than 2^40 elements, the most one tensor may have",
                   kind[t->kind], t->name, sh.p ? sh.p : "");
        buf_free(&sh);
    }
    if (ctx->nerrors > before) return -1;
    /* loop extents of letters a node only broadcasts over, and consistency of
     * outputs that several nodes write */
    for (int i = 0; i < g->nodes.n; i++) {
        IrNode *n = g->nodes.v[i];
        if (n->op != OP_CONTRACT) continue;
        for (int a = 0; a < n->out->rank; a++) {
            int ch = (unsigned char)n->out_letters[a];
            if (!size_set(n->lsize[ch])) n->lsize[ch] = n->out->shape[a];
            else if (!size_eq(n->lsize[ch], n->out->shape[a]) && !size_is1(n->lsize[ch])) {
                diag_error(ctx, n->span, "axis '%c' of the result has size %s here, but %s in another term", ch,
                           size_str(ctx, g, n->lsize[ch]), size_str(ctx, g, n->out->shape[a]));
            }
        }
    }
    return ctx->nerrors > before ? -1 : 0;
}
