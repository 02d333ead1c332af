/* support_ref.c - the float64 einsum interpreter (see support_ref.h). */
#include "support_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ref_letter_sizes(const RefTerm *terms, int nterms, int64_t size[128])
{
    for (int c = 0; c < 128; c++) size[c] = 0;
    for (int t = 0; t < nterms; t++)
        for (int k = 0; k < terms[t].nops; k++) {
            const RefOperand *op = &terms[t].ops[k];
            for (int a = 0; op->letters[a]; a++) {
                int c = (unsigned char)op->letters[a] & 127;
                if (op->shape[a] > size[c]) size[c] = op->shape[a];
            }
        }
}

double ref_unit_scale(const RefTerm *term, const char *out_letters, const int64_t size[128])
{
    int seen[128] = {0};
    double prod = 1.0;
    for (int k = 0; k < term->nops; k++)
        for (const char *p = term->ops[k].letters; *p; p++) {
            int c = (unsigned char)*p & 127;
            if (seen[c] || strchr(out_letters, *p)) continue;
            seen[c] = 1;
            prod *= (double)size[c];
        }
    return 1.0 / sqrt(prod);
}

void ref_result_free(RefResult *r)
{
    free(r->val);
    free(r->absval);
    r->val = r->absval = NULL;
}

/* Adds one term into r, walking every assignment of the letters in
 * `walk` (the result letters first, then the term's other letters). */
static void add_term(const RefTerm *term, const char *out_letters, const int64_t size[128], RefResult *r)
{
    char walk[128];
    int nwalk = 0;
    for (const char *p = out_letters; *p; p++) walk[nwalk++] = *p;
    for (int k = 0; k < term->nops; k++)
        for (const char *p = term->ops[k].letters; *p; p++)
            if (!memchr(walk, *p, (size_t)nwalk)) walk[nwalk++] = *p;

    int64_t idx[128] = {0};
    int64_t iterations = 1;
    for (int w = 0; w < nwalk; w++) iterations *= size[(unsigned char)walk[w]];
    if (iterations == 0) return;
    r->nprod += iterations / r->numel;

    for (;;) {
        double prod = term->scale;
        for (int k = 0; k < term->nops; k++) {
            const RefOperand *op = &term->ops[k];
            int64_t off = 0;
            for (int a = 0; op->letters[a]; a++) {
                int64_t i = op->shape[a] == 1 ? 0 : idx[(unsigned char)op->letters[a]];
                off = off * op->shape[a] + i;
            }
            prod *= op->data[off];
        }
        int64_t o = 0;
        for (int a = 0; a < r->rank; a++) o = o * r->shape[a] + idx[(unsigned char)out_letters[a]];
        r->val[o] += prod;
        r->absval[o] += fabs(prod);

        /* the odometer: the last letter turns fastest */
        int w = nwalk - 1;
        while (w >= 0 && ++idx[(unsigned char)walk[w]] == size[(unsigned char)walk[w]]) {
            idx[(unsigned char)walk[w]] = 0;
            w--;
        }
        if (w < 0) break;
    }
}

int ref_einsum(const RefTerm *terms, int nterms, const char *out_letters, RefResult *r)
{
    memset(r, 0, sizeof *r);
    int64_t size[128];
    ref_letter_sizes(terms, nterms, size);
    for (int t = 0; t < nterms; t++) {
        if (terms[t].nops > r->max_ops) r->max_ops = terms[t].nops;
        for (int k = 0; k < terms[t].nops; k++) {
            const RefOperand *op = &terms[t].ops[k];
            if (strlen(op->letters) > REF_MAX_RANK) return -1;
            for (int a = 0; op->letters[a]; a++) {
                int c = (unsigned char)op->letters[a];
                if (c > 127 || (op->shape[a] != 1 && op->shape[a] != size[c])) return -1;
            }
        }
    }
    r->rank = (int)strlen(out_letters);
    if (r->rank > REF_MAX_RANK) return -1;
    r->numel = 1;
    for (int a = 0; a < r->rank; a++) {
        int c = (unsigned char)out_letters[a] & 127;
        r->shape[a] = size[c] ? size[c] : 1;   /* a result letter no term has: size 1 */
        r->numel *= r->shape[a];
    }
    size_t n = (size_t)(r->numel > 0 ? r->numel : 1);
    r->val = calloc(n, sizeof(double));
    r->absval = calloc(n, sizeof(double));
    if (!r->val || !r->absval) {
        ref_result_free(r);
        return -1;
    }
    /* the walk also covers result letters no term has (size 1) */
    int64_t wsize[128];
    memcpy(wsize, size, sizeof wsize);
    for (int a = 0; a < r->rank; a++) wsize[(unsigned char)out_letters[a]] = r->shape[a];
    if (r->numel > 0)
        for (int t = 0; t < nterms; t++) add_term(&terms[t], out_letters, wsize, r);
    return 0;
}
