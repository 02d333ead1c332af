/* pass_order.c - split terms of three or more operands into pairwise steps.
 *
 * A term like the TransNormer attention
 *     bnd,dhik,bmz,zhk,bmy,yhv,nm->bnhiv
 * evaluated as one loop nest would run over every letter at once
 * (b*n*m*d*h*i*k*z*y*v iterations).  order.c chooses the pairwise order
 * with the least FLOPs (opt_einsum's cost model, exact search up to 16
 * operands); this pass rewrites the node into that chain.  Each step's
 * result keeps only the letters still needed (by the output or by an
 * operand not yet contracted) and is stored in the accumulation dtype, so
 * intermediates add no rounding.  The last step writes the original output
 * and carries the term's variance scale and '+=' flag.
 *
 * Sizes of run-time dims are unknown here; the cost model assumes 512.
 * The exact search has a budget per compilation (ORDER_EXACT_BUDGET):
 * terms met after it is spent are ordered greedily, with local exact
 * re-optimisation, as terms of more than 16 operands always are.
 */
#include <math.h>
#include <string.h>
#include "internal.h"
#include "order.h"

#define DYN_GUESS 512

int pass_order(UeajCtx *ctx, IrGraph *g)
{
    Arena *A = &ctx->arena;
    double budget = ORDER_EXACT_BUDGET; /* splits the exact searches may still visit */
    for (int i = 0; i < g->nodes.n; i++) {
        IrNode *n = g->nodes.v[i];
        if (n->op != OP_CONTRACT || n->nin < 3) continue;
        int64_t sizes[256];
        for (int c = 0; c < 256; c++) sizes[c] = 1;
        for (int c = 0; c < 128; c++)
            if (n->lsize[c].dyn >= 0) sizes[c] = DYN_GUESS;
            else if (n->lsize[c].c >= 0) sizes[c] = n->lsize[c].c;
        OrderResult res;
        double splits = pow(3.0, n->nin) / 2;
        int exact_max = n->nin <= ORDER_EXACT_MAX && splits <= budget ? ORDER_EXACT_MAX : 0;
        if (exact_max) budget -= splits;
        if (n->nin > ORDER_MAX_OPS ||
            order_contract_max(n->nin, n->in_letters, n->out_letters, sizes, exact_max, &res) != 0) {
            diag_error(ctx, n->span, "a term with %d operands is too large to order (at most %d)", n->nin,
                       ORDER_MAX_OPS);
            return -1;
        }
        /* the current operand list, as in opt_einsum's linear path */
        int cnt = n->nin;
        IrTensor *ts[ORDER_MAX_OPS];
        const char *ls[ORDER_MAX_OPS];
        Span sp[ORDER_MAX_OPS];
        for (int k = 0; k < cnt; k++) { ts[k] = n->in[k]; ls[k] = n->in_letters[k]; sp[k] = n->in_spans[k]; }
        int pos = i;
        for (int s = 0; s < res.nsteps; s++) {
            int a = res.steps[s].a, b = res.steps[s].b;
            UEAJ_ASSERT(a < b && b < cnt);
            bool last = s == res.nsteps - 1;
            IrNode *step;
            if (last) {
                step = n; /* reuse the original node: its output, scale and '+=' stay */
                step->nin = 2;
            } else {
                /* letters kept: in a or b, and needed by the output or another operand */
                char keep[IR_MAX_RANK * 2 + 1];
                int nk = 0;
                const char *ab[2] = {ls[a], ls[b]};
                for (int q = 0; q < 2; q++)
                    for (const char *p = ab[q]; *p; p++) {
                        if (memchr(keep, *p, (size_t)nk)) continue;
                        bool needed = strchr(n->out_letters, *p) != NULL;
                        for (int k = 0; k < cnt && !needed; k++)
                            if (k != a && k != b && strchr(ls[k], *p)) needed = true;
                        if (needed) keep[nk++] = *p;
                    }
                keep[nk] = 0;
                if (nk > IR_MAX_RANK) {
                    diag_error(ctx, n->span, "an intermediate of this term would have %d axes (at most %d)", nk,
                               IR_MAX_RANK);
                    return -1;
                }
                IrTensor *tmp = ir_tensor(ctx, g, NULL, TEN_TEMP, n->span);
                tmp->rank = nk;
                for (int q = 0; q < nk; q++) tmp->shape[q] = n->lsize[(unsigned char)keep[q]];
                tmp->shape_known = true;
                tmp->dtype = n->acc;
                step = ir_node(ctx, g, OP_CONTRACT, tmp, 2);
                step->out_letters = arena_strdup(A, keep);
                step->acc = n->acc;
                step->span = n->span;
                memcpy(step->lsize, n->lsize, sizeof step->lsize);
                ir_insert_node(g, pos, step);
                pos++;
            }
            step->in[0] = ts[a]; step->in_letters[0] = ls[a]; step->in_spans[0] = sp[a];
            step->in[1] = ts[b]; step->in_letters[1] = ls[b]; step->in_spans[1] = sp[b];
            step->step = s + 1;
            step->origin = arena_printf(A, "%s, step %d of %d", n->origin ? n->origin : "", s + 1, res.nsteps);
            if (!last) {
                /* remove a and b, append the result */
                IrTensor *rt = step->out;
                const char *rl = step->out_letters;
                Span rs = span_join(sp[a], sp[b]);
                int w = 0;
                for (int k = 0; k < cnt; k++)
                    if (k != a && k != b) { ts[w] = ts[k]; ls[w] = ls[k]; sp[w] = sp[k]; w++; }
                ts[w] = rt; ls[w] = rl; sp[w] = rs; cnt = w + 1;
            }
        }
        i = pos; /* continue after the rewritten node */
    }
    return 0;
}
