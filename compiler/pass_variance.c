/* pass_variance.c - unit-variance scaling (seed-semantics 2.2).
 *
 * A term whose operands carry variances v_1..v_n is divided by
 *     sqrt(v_1 * ... * v_n * prod of the sizes of the contracted letters)
 * so that unit-variance inputs give a unit-variance output.  The output
 * variance is not used by the forward pass (it scales gradients), but the
 * seed requires it whenever operand variances are set, and requires all or
 * none of the operands to have one; both are errors here too.
 *
 *   `.unit()` on ij,jk->ik with J=4: scale = 1/sqrt(1*1*4) = 0.5
 *
 * Fixed seed quirk: a letter repeated within one operand and summed away
 * (`ii->`, a trace) is counted once: the sum has n terms, not n^2, so the
 * output variance is v*n.  The seed divided by n (sqrt(n^2)).
 */
#include <math.h>
#include <string.h>
#include "internal.h"

int pass_variance(UeajCtx *ctx, IrGraph *g)
{
    int before = ctx->nerrors;
    for (int i = 0; i < g->nodes.n; i++) {
        IrNode *n = g->nodes.v[i];
        if (n->op != OP_CONTRACT) continue;
        int nset = 0;
        for (int k = 0; k < n->nin; k++) nset += n->in[k]->has_var;
        if (nset == 0 && !n->out->has_var) { n->has_scale = false; continue; }
        if (nset == 0) continue; /* result variance alone: used only by gradients */
        if (nset < n->nin) {
            for (int k = 0; k < n->nin; k++)
                if (!n->in[k]->has_var) {
                    diag_error(ctx, n->in_spans[k],
                               "variance is set on some operands of this term but not on %s; set all or none",
                               n->in[k]->name);
                    break;
                }
            continue;
        }
        if (!n->out->has_var) {
            diag_error(ctx, n->span,
                       "output variance must be specified if any operand variance is specified");
            continue;
        }
        double prod = 1.0;
        for (int k = 0; k < n->nin; k++) prod *= n->in[k]->var;
        bool seen[128] = {0};
        for (int k = 0; k < n->nin; k++)
            for (const char *p = n->in_letters[k]; *p; p++) {
                int ch = (unsigned char)*p;
                if (seen[ch] || strchr(n->out_letters, ch)) continue;
                seen[ch] = true;
                if (n->lsize[ch].dyn >= 0) {
                    diag_error(ctx, n->span, "variance scaling over the run-time dim '%s' is not supported",
                               g->dyn_names[n->lsize[ch].dyn]);
                    continue;
                }
                prod *= (double)n->lsize[ch].c;
            }
        if (!(prod > 0)) {
            diag_error(ctx, n->span, "variance scale is %g (a variance or a contracted size is zero or negative)",
                       prod);
            continue;
        }
        n->has_scale = true;
        n->var_prod = prod;
        n->scale = 1.0 / sqrt(prod);
    }
    return ctx->nerrors > before ? -1 : 0;
}
