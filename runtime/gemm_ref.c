/* gemm_ref.c - plan gemm steps on the CPU: exactly the semantics handed to
 * cuBLASLt (see gemm_ref.h), so that a whole model can run through the
 * CUDA plan on a machine without a GPU, and so that cuBLASLt's results on a
 * GPU have a reference that follows the same layout rules.
 *
 * The reference is simple on purpose: per batch, op(A) is decoded into an
 * m x k f32 scratch (row i holds op(A)(i, 0..k-1)) and op(B) into an n x k
 * scratch (row j holds op(B)(0..k-1, j)), so the inner loop is one
 * contiguous dot product in the fixed order p = 0..k-1.  Decoding is exact
 * (every storage type widens to f32 without rounding); the sum is f32 with
 * separate multiply and add (this file is compiled with -std=c11, which
 * keeps GCC from contracting to FMA).  It is the same whichever transposes
 * and strides the plan chose, and independent of threads.
 *
 * gemm_dims turns a parsed step into numbers and refuses what cuBLASLt
 * would refuse or mis-execute: negative/overflowing sizes, leading
 * dimensions below the rows, overlapping output batches, a batch count
 * beyond int32.
 */
#include "strbuf.h"
#include "gemm_ref.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rows and columns of operand 'a', 'b' or 'd' as stored (column-major) */
static void stored(const GemmDims *g, char which, int64_t *rows, int64_t *cols, int64_t *ld, int64_t *stride)
{
    switch (which) {
    case 'a': *rows = g->ta == 'n' ? g->m : g->k; *cols = g->ta == 'n' ? g->k : g->m; *ld = g->lda; *stride = g->sa; break;
    case 'b': *rows = g->tb == 'n' ? g->k : g->n; *cols = g->tb == 'n' ? g->n : g->k; *ld = g->ldb; *stride = g->sb; break;
    default:  *rows = g->m; *cols = g->n; *ld = g->ldd; *stride = g->sd; break;
    }
}

int64_t gemm_span(const GemmDims *g, char which)
{
    int64_t rows, cols, ld, stride, a, b, s;
    stored(g, which, &rows, &cols, &ld, &stride);
    if (rows == 0 || cols == 0 || g->batch == 0) return 0;
    if (__builtin_mul_overflow(cols - 1, ld, &a) || __builtin_mul_overflow(g->batch - 1, stride, &b) ||
        __builtin_add_overflow(a, b, &s) || __builtin_add_overflow(s, rows, &s))
        return -1;
    return s;
}

int gemm_dims(const CudaPlanStep *s, const int64_t *dyn, GemmDims *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    const char *term = s->name ? s->name : "?";
    if (s->kind != CUDA_STEP_GEMM) return str_fail(err, errlen, "step '%s' is not a gemm", term);
    struct { const char *key; const CudaPlanExpr *e; int64_t *dst; } ex[] = {
        { "m", &s->m, &g->m }, { "n", &s->n, &g->n }, { "k", &s->k, &g->k }, { "lda", &s->lda, &g->lda },
        { "ldb", &s->ldb, &g->ldb }, { "ldd", &s->ldd, &g->ldd }, { "batch", &s->batch, &g->batch },
        { "sa", &s->sa, &g->sa }, { "sb", &s->sb, &g->sb }, { "sd", &s->sd, &g->sd } };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++)
        if ((*ex[i].dst = cuda_plan_eval(ex[i].e, dyn)) < 0)
            return str_fail(err, errlen, "gemm %s: %s overflows (or a run-time dim is negative)", term, ex[i].key);
    if ((s->ta != 'n' && s->ta != 't') || (s->tb != 'n' && s->tb != 't'))
        return str_fail(err, errlen, "gemm %s: transposes must be n or t", term);
    g->ta = s->ta;
    g->tb = s->tb;
    if (!dtype_parse(s->atype, &g->atype) || !dtype_parse(s->btype, &g->btype) || !dtype_parse(s->dtype, &g->dtype))
        return str_fail(err, errlen, "gemm %s: unknown type", term);
    g->alpha = s->alpha;
    g->beta = s->beta;
    if (g->batch < 1 || g->batch > INT32_MAX)
        return str_fail(err, errlen, "gemm %s: batch=%lld (1..2^31-1)", term, (long long)g->batch);
    static const char ops[3] = { 'a', 'b', 'd' };
    for (int i = 0; i < 3; i++) {
        int64_t rows, cols, ld, stride;
        stored(g, ops[i], &rows, &cols, &ld, &stride);
        if (ld < (rows > 1 ? rows : 1))
            return str_fail(err, errlen, "gemm %s: ld%c=%lld is less than the %lld rows of %c", term, ops[i], (long long)ld,
                        (long long)rows, ops[i] - 32);
        if (gemm_span(g, ops[i]) < 0) return str_fail(err, errlen, "gemm %s: %c spans more than 2^63 elements", term, ops[i] - 32);
    }
    int64_t one = g->n ? (g->n - 1) * g->ldd + g->m : 0;   /* no overflow: the span above fits */
    if (g->batch > 1 && g->m && g->n && g->sd < one)
        return str_fail(err, errlen, "gemm %s: sd=%lld makes output batches overlap (one spans %lld)", term,
                    (long long)g->sd, (long long)one);
    return 0;
}

static float load(const void *p, DType t, int64_t i)
{
    switch (t) {
    case DT_F32:    return ((const float *)p)[i];
    case DT_BF16:   return bf16_to_f32(((const uint16_t *)p)[i]);
    case DT_F16:    return f16_to_f32(((const uint16_t *)p)[i]);
    case DT_F8E4M3: return e4m3_to_f32(((const uint8_t *)p)[i]);
    case DT_F8E5M2: return e5m2_to_f32(((const uint8_t *)p)[i]);
    default:        return 0.0f;
    }
}

static void store(void *p, DType t, int64_t i, float v)
{
    switch (t) {
    case DT_F32:    ((float *)p)[i] = v; break;
    case DT_BF16:   ((uint16_t *)p)[i] = f32_to_bf16(v); break;
    case DT_F16:    ((uint16_t *)p)[i] = f32_to_f16(v); break;
    case DT_F8E4M3: ((uint8_t *)p)[i] = f32_to_e4m3(v); break;
    case DT_F8E5M2: ((uint8_t *)p)[i] = f32_to_e5m2(v); break;
    default:        break;
    }
}

static int supported(DType t) { return t == DT_F32 || t == DT_BF16 || t == DT_F16 || t == DT_F8E4M3 || t == DT_F8E5M2; }

int gemm_ref(const GemmDims *g, const void *A, const void *B, const void *C, void *D, char *err, size_t errlen)
{
    if (!C) C = D;
    if (!supported(g->atype) || !supported(g->btype) || !supported(g->dtype))
        return str_fail(err, errlen, "gemm_ref: types %s x %s -> %s are not decoded here", dtype_name(g->atype),
                    dtype_name(g->btype), dtype_name(g->dtype));
    if (g->m < 0 || g->n < 0 || g->k < 0 || g->batch < 1 || gemm_span(g, 'a') < 0 || gemm_span(g, 'b') < 0 ||
        gemm_span(g, 'd') < 0)
        return str_fail(err, errlen, "gemm_ref: bad dimensions");
    if (g->m == 0 || g->n == 0) return 0;
    size_t am, bn;
    if (__builtin_mul_overflow((size_t)g->m, (size_t)(g->k ? g->k : 1), &am) ||
        __builtin_mul_overflow((size_t)g->n, (size_t)(g->k ? g->k : 1), &bn) ||
        am > SIZE_MAX / sizeof(float) || bn > SIZE_MAX / sizeof(float))
        return str_fail(err, errlen, "gemm_ref: scratch too large");
    float *as = malloc(am * sizeof(float)), *bs = malloc(bn * sizeof(float));
    if (!as || !bs) {
        free(as);
        free(bs);
        return str_fail(err, errlen, "gemm_ref: out of memory for %zu + %zu scratch floats", am, bn);
    }
    const float alpha = (float)g->alpha, beta = (float)g->beta;
    for (int64_t b = 0; b < g->batch; b++) {
        int64_t a0 = b * g->sa, b0 = b * g->sb, d0 = b * g->sd;   /* within the spans checked above */
        /* op(A)(i,p) = ta=='n' ? A(i,p) : A(p,i) */
        for (int64_t i = 0; i < g->m; i++)
            for (int64_t p = 0; p < g->k; p++)
                as[i * g->k + p] = load(A, g->atype, a0 + (g->ta == 'n' ? i + p * g->lda : p + i * g->lda));
        /* op(B)(p,j) = tb=='n' ? B(p,j) : B(j,p) */
        for (int64_t j = 0; j < g->n; j++)
            for (int64_t p = 0; p < g->k; p++)
                bs[j * g->k + p] = load(B, g->btype, b0 + (g->tb == 'n' ? p + j * g->ldb : j + p * g->ldb));
        for (int64_t j = 0; j < g->n; j++)
            for (int64_t i = 0; i < g->m; i++) {
                const float *x = as + i * g->k, *y = bs + j * g->k;
                float acc = 0.0f;
                for (int64_t p = 0; p < g->k; p++) {
                    float prod = x[p] * y[p];
                    acc = acc + prod;
                }
                int64_t o = d0 + i + j * g->ldd;
                float v = alpha * acc;
                if (beta != 0.0f) v = v + beta * load(C, g->dtype, o);
                store(D, g->dtype, o, v);
            }
    }
    free(as);
    free(bs);
    return 0;
}
