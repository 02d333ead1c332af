/* order.h - choosing the pairwise contraction order of an einsum term.
 *
 * An einsum term with n operands is evaluated as n-1 pairwise
 * contractions.  order_contract() picks the sequence that minimises the
 * FLOP count of opt_einsum's cost model (see order.c for the model, the
 * algorithms and a worked example).  It is a pure function: no global
 * state, deterministic output, the only side effect is a temporary heap
 * allocation for the exact search.
 */
#ifndef UEAJ_ORDER_H
#define UEAJ_ORDER_H

#include <stdint.h>

#define ORDER_MAX_OPS 32

/* Terms with at most this many operands are ordered by the exact subset
 * dynamic programme (optimal over all pairwise contraction trees); larger
 * ones by a greedy tree improved by local exact searches.  At -O2 the
 * exact search takes about 1-2 ms for n = 12, 5 ms for n = 14 and 50-70
 * ms for n = 16; the larger terms take a few ms up to n = 32. */
#define ORDER_EXACT_MAX 16

/* One step: contract the current operands at positions a < b of the
 * current operand list; both are removed and the result is appended at
 * the end of the list.  This is opt_einsum's "linear" path convention,
 * i.e. what opt_einsum.contract_path returns. */
typedef struct OrderStep { int a, b; } OrderStep;

typedef struct OrderResult {
    int nsteps;                       /* n-1 for n >= 2, 0 for n == 1 */
    OrderStep steps[ORDER_MAX_OPS];
    double flops;                     /* total cost, opt_einsum's opt_cost */
    double max_intermediate;          /* largest step result, in elements,
                                         the final result included
                                         (opt_einsum's largest_intermediate) */
    int exact;                        /* 1: exact search, 0: greedy */
} OrderResult;

/* letters[i]: NUL-terminated axis letters of operand i (a letter may repeat
 * within an operand: a diagonal); out: the output letters; the size of
 * letter c is sizes[(unsigned char)c] (an array of 256 int64_t; only the
 * entries of letters that occur are read).
 * Returns 0, or -1 if n < 1, n > ORDER_MAX_OPS, a pointer is NULL or a
 * used letter has a negative size (*res is then zeroed). */
int order_contract(int n, const char *const *letters, const char *out,
                   const int64_t *sizes, OrderResult *res);

/* The same with the exact search only for terms of at most exact_max
 * operands (order_contract: ORDER_EXACT_MAX); larger ones as above. */
int order_contract_max(int n, const char *const *letters, const char *out,
                       const int64_t *sizes, int exact_max, OrderResult *res);

/* The exact search visits 3^n / 2 splits at most; pass_order lets one
 * compilation spend this many (three searches of 16 operands, about 0.5 s)
 * and orders the terms after that as it does terms of more than
 * ORDER_EXACT_MAX operands, so that an expression of many large terms
 * cannot take minutes. */
#define ORDER_EXACT_BUDGET 65e6

#endif
