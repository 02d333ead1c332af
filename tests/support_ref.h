/* support_ref.h - a float64 einsum interpreter, the tests' independent reference.
 *
 * Deliberately naive: for each '+' term it walks every assignment of every
 * letter the term or the result uses (an odometer), multiplies the operand
 * elements those indices select, and adds the product into the result
 * element the result letters select.  That one loop gives, with no special
 * cases:
 *   - contraction (a letter not in the result is walked and summed over);
 *   - diagonals (a letter repeated inside one operand uses one index);
 *   - broadcasting of result letters a term lacks (the term's product does
 *     not depend on them, so it is added into every such result element);
 *   - size-1 broadcasting (an axis of size 1 is always read at index 0);
 *   - scalar operands ("" letters) and scalar results ("" result letters).
 * A letter's size is the largest size any operand gives it in any term; a
 * result letter no term has gets size 1.  Nothing is shared with the
 * compiler under test.
 *
 *   RefOperand x = {"ij", (int64_t[]){2, 3}, xdata}, w = {"jk", (int64_t[]){3, 4}, wdata};
 *   RefTerm t = {(RefOperand[]){x, w}, 2, 1.0};
 *   RefResult r;
 *   ref_einsum(&t, 1, "ik", &r);      // r.val: 2x4, r.val[i*4+k] = sum_j x[i][j] w[j][k]
 *   ref_result_free(&r);
 */
#ifndef UEAJ_SUPPORT_REF_H
#define UEAJ_SUPPORT_REF_H

#include <stdint.h>

#define REF_MAX_RANK 16

typedef struct RefOperand {
    const char    *letters;  /* one letter per axis; "" = a scalar */
    const int64_t *shape;    /* strlen(letters) sizes (may be NULL for a scalar) */
    const double  *data;     /* row-major, prod(shape) values */
} RefOperand;

typedef struct RefTerm {
    const RefOperand *ops;
    int               nops;
    double            scale; /* every product of the term is multiplied by it (1: plain einsum) */
} RefTerm;

typedef struct RefResult {
    int      rank;
    int64_t  shape[REF_MAX_RANK];
    int64_t  numel;
    double  *val;            /* numel values (malloc'd) */
    double  *absval;         /* per element: the sum of |product| over everything added into it */
    int64_t  nprod;          /* products added into each element (the same for every element) */
    int      max_ops;        /* largest number of operands in one term */
} RefResult;

/* Evaluates sum over terms of einsum(term) -> out_letters into *r.
 * Returns 0, or -1 if an axis size is neither 1 nor its letter's size, a
 * rank is out of range, or memory runs out (then *r holds nothing). */
int  ref_einsum(const RefTerm *terms, int nterms, const char *out_letters, RefResult *r);
void ref_result_free(RefResult *r);

/* The size of every letter ('\0'..127) over all terms: the largest size an
 * operand gives it, 0 when no operand has it. */
void ref_letter_sizes(const RefTerm *terms, int nterms, int64_t size[128]);

/* --unit scaling of one term: 1/sqrt(product of the sizes of the distinct
 * letters the term has and out_letters lacks), sizes from ref_letter_sizes. */
double ref_unit_scale(const RefTerm *term, const char *out_letters, const int64_t size[128]);

#endif
