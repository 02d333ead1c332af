/* ir_build.c - a resolved ueajsum expression plus the arrays bound to it -> IR.
 *
 * Every argument (positional slot or named) becomes one tensor; the result
 * becomes the output tensor "out"; every '+' term becomes one CONTRACT node
 * writing "out" (the first with '=', the others with '+=').  Letters absent
 * from a term broadcast: the node's loops still run over every output
 * letter.  A result letter absent from every term gets size 1 (the seed's
 * behaviour: `ij->ijk` has shape (I, J, 1)).
 *
 * Shapes come from the supplied arrays.  A parameter with no array is to be
 * initialised by the seed's rules, so its shape must be known from the
 * letters: from another operand with the same letter, or from `--dim k=N`.
 * An input with no array is the seed's "Missing argument" error.
 *
 * Tensor names: named arguments keep their names; positional inputs are
 * `x<slot>`; positional parameters `w_<slot>` (the seed's attribute names).
 */
#include <string.h>
#include "internal.h"

static DType natural_dtype(DType t)
{
    /* integer and bool data is computed in f64 (exact up to 2^53) */
    return dtype_is_float(t) ? t : DT_F64;
}

IrGraph *ir_from_ueajsum(UeajCtx *ctx, const UConfig *c, const ArgShape *slot_shapes,
                         const ArgShape *named_shapes, const int64_t *letter_sizes, DType out_dtype,
                         bool symbolic)
{
    Arena *A = &ctx->arena;
    int before = ctx->nerrors;
    IrGraph *g = ir_new(ctx, "expr");
    /* the whole expression as written (its span misses a leading empty operand) */
    const Source *es = c->expr->span.src;
    g->source_text = es && !es->parent ? es->text : span_text(ctx, c->expr->span);
    int nops = c->nslots + c->nnamed;
    UOperand **ops = ARENA_ARRAY(A, UOperand *, nops + 1);
    const ArgShape **shapes = ARENA_ARRAY(A, const ArgShape *, nops + 1);
    for (int i = 0; i < c->nslots; i++) { ops[i] = c->slots[i]; shapes[i] = slot_shapes ? &slot_shapes[i] : NULL; }
    for (int i = 0; i < c->nnamed; i++) {
        ops[c->nslots + i] = c->named[i];
        shapes[c->nslots + i] = named_shapes ? &named_shapes[i] : NULL;
    }

    /* sizes of letters from the arrays that were given (max: size-1 axes broadcast) */
    int64_t lsize[128];
    for (int i = 0; i < 128; i++) lsize[i] = -1;
    for (int i = 0; i < nops; i++) {
        const ArgShape *s = shapes[i];
        if (!s || !s->given || (int)strlen(ops[i]->letters) != s->rank) continue;
        for (int a = 0; a < s->rank; a++) {
            int ch = (unsigned char)ops[i]->letters[a];
            if (s->shape[a] > lsize[ch]) lsize[ch] = s->shape[a];
        }
    }
    if (letter_sizes)
        for (int i = 0; i < 128; i++) if (letter_sizes[i] >= 0) lsize[i] = letter_sizes[i];

    IrTensor **tens = ARENA_ARRAY(A, IrTensor *, nops + 1);
    for (int i = 0; i < nops; i++) {
        UOperand *o = ops[i];
        const char *name = o->name ? o->name
                           : arena_printf(A, o->group == UG_INPUT ? "x%d" : "w_%d", o->slot);
        IrTensor *t = ir_tensor(ctx, g, name, o->group == UG_INPUT ? TEN_INPUT : TEN_PARAM, o->span);
        t->group = o->group;
        t->slot = o->slot;
        t->has_var = o->has_var;
        t->var = o->var;
        t->dtype = o->dtype;
        t->grad_dtype = o->grad_dtype;
        t->rank = (int)strlen(o->letters);
        tens[i] = t;
        const ArgShape *s = shapes[i];
        if (s && s->given) {
            if (s->rank != t->rank) {
                diag_error(ctx, o->span, "%s has %d axes, but '%s' names %d", ueajsum_operand_label(ctx, o),
                           s->rank, o->letters, t->rank);
                continue;
            }
            if (s->rank > IR_MAX_RANK) continue;
            for (int a = 0; a < s->rank; a++) t->shape[a] = (IrSize){s->shape[a], -1};
            t->shape_known = true;
            if (!t->dtype) t->dtype = natural_dtype(s->dtype);
        } else if (symbolic) {
            /* no data (--emit on a bare expression): unknown letters become run-time dims */
            for (int a = 0; a < t->rank; a++) {
                int ch = (unsigned char)o->letters[a];
                if (lsize[ch] >= 0) { t->shape[a] = (IrSize){lsize[ch], -1}; continue; }
                int d = -1;
                for (int q = 0; q < g->ndyn; q++)
                    if (g->dyn_names[q][0] == ch && !g->dyn_names[q][1]) d = q;
                if (d < 0 && g->ndyn < 16) {
                    d = g->ndyn++;
                    g->dyn_names[d] = arena_strndup(A, &o->letters[a], 1);
                }
                if (d < 0) { diag_error(ctx, o->span, "too many run-time dims"); break; }
                t->shape[a] = (IrSize){-1, d};
            }
            t->shape_known = true;
        } else if (o->group == UG_INPUT) {
            if (o->name) diag_error(ctx, o->span, "missing argument '%s': no array was given for it", o->name);
            else diag_error(ctx, o->span, "missing argument %d: no array was given for it", o->slot);
        } else {
            /* a parameter to initialise: its shape must come from the letters */
            bool ok = true;
            for (int a = 0; a < t->rank; a++) {
                int ch = (unsigned char)o->letters[a];
                if (lsize[ch] < 0) {
                    Span sp = o->letters_span;
                    sp.col += a;
                    sp.end_col = sp.col;
                    diag_error(ctx, sp, "cannot infer the size of axis '%c' of %s: no array has that letter; "
                               "give it with --dim %c=N", ch, ueajsum_operand_label(ctx, o), ch);
                    ok = false;
                    continue;
                }
                t->shape[a] = (IrSize){lsize[ch], -1};
            }
            t->shape_known = ok;
            if (ok && t->rank < 2 && !o->has_var)
                diag_error(ctx, o->span, "cannot initialise %s without an array: the seed's rule (truncated normal, "
                           "variance 1/fan_in) needs at least 2 axes; give it a file or a variance (--variance %s=V "
                           "or --unit)", ueajsum_operand_label(ctx, o), t->name);
        }
    }
    if (ctx->nerrors > before) return NULL;

    IrTensor *out = ir_tensor(ctx, g, "out", TEN_OUTPUT, c->result.span);
    out->rank = (int)strlen(c->result.letters);
    out->has_var = c->result.has_var;
    out->var = c->result.var;
    out->dtype = out_dtype;

    for (int t = 0; t < c->nterms; t++) {
        const UTermCfg *tc = &c->terms[t];
        IrNode *n = ir_node(ctx, g, OP_CONTRACT, out, tc->nops);
        for (int k = 0; k < tc->nops; k++) {
            int idx = tc->ops[k]->slot >= 0 ? tc->ops[k]->slot : -1;
            if (idx < 0)
                for (int i = 0; i < c->nnamed; i++) if (c->named[i] == tc->ops[k]) idx = c->nslots + i;
            UEAJ_ASSERT(idx >= 0);
            n->in[k] = tens[idx];
            n->in_letters[k] = tc->ops[k]->letters;
            n->in_spans[k] = tc->op_spans[k];
        }
        n->out_letters = c->result.letters;
        n->accumulate = t > 0;
        n->span = tc->span;
        n->origin = c->nterms > 1 ? arena_printf(A, "term %d (%s) of %s", t + 1, span_text(ctx, tc->span), g->source_text)
                                  : g->source_text;
    }
    return g;
}
