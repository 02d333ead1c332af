/* gemm_ref.h - a plan `gemm` step with its dims evaluated, and the CPU
 * implementation of exactly cuBLASLt's semantics for it.
 *
 * GemmDims is what both the cuBLASLt path (cublaslt.h) and the CPU stand-in
 * (gemm_ref) consume: the step's EXPRs evaluated with the run-time dims and
 * checked (sizes >= 0, batch >= 1, leading dimensions at least the rows
 * they stride over, nothing overflows an int64 element offset).
 *
 * Semantics (column-major, as cuBLASLt sees memory), for each batch b:
 *
 *     D_b = alpha * op(A_b) op(B_b) + beta * C_b       (C is D, or the step's c=)
 *
 * A_b starts at element b*sa of A, B_b at b*sb, D_b at b*sd; op(X) is X or
 * its transpose (ta/tb); X(i,j) is element i + j*ldX.  op(A) is m x k,
 * op(B) k x n, D m x n.  Inputs are decoded exactly (bf16, f16, fp8 widen
 * without rounding); each D(i,j) accumulates in f32 over p = 0, 1, ..., k-1
 * (acc = acc + a*b, two roundings per term, no FMA), then
 * alpha*acc + beta*C(i,j) in f32 (C is not read when beta == 0, as in
 * cuBLAS), rounded once (RNE) to D's type.  C has D's type and layout.
 */
#ifndef UEAJ_GEMM_REF_H
#define UEAJ_GEMM_REF_H

#include <stddef.h>
#include <stdint.h>

#include "cuda_plan.h"
#include "dtype.h"

typedef struct GemmDims {
    char    ta, tb;                     /* 'n' or 't' */
    int64_t m, n, k, lda, ldb, ldd, batch, sa, sb, sd;
    DType   atype, btype, dtype;
    double  alpha, beta;
} GemmDims;

/* Evaluates and checks a CUDA_STEP_GEMM step; 0, or -1 with a message. */
int gemm_dims(const CudaPlanStep *s, const int64_t *dyn, GemmDims *g, char *err, size_t errlen);
/* Elements that operand 'a', 'b' or 'd' spans from its base pointer (0 for
 * an empty matrix): the size its buffer needs. */
int64_t gemm_span(const GemmDims *g, char which);
/* D = alpha op(A) op(B) + beta C on the CPU (C NULL: C is D).  0, or -1
 * with a message (a type the reference does not decode, a bad GemmDims). */
int gemm_ref(const GemmDims *g, const void *A, const void *B, const void *C, void *D, char *err, size_t errlen);

#endif
