/* test_gemm_ref.c - the CPU stand-in for cuBLASLt (runtime/gemm_ref.c).
 *
 *  - 200 random matmuls (both transposes, batches with strides that leave
 *    gaps or are 0 for a broadcast operand, leading dimensions larger than
 *    the rows, f32/bf16/f16/fp8 inputs, f32/bf16/f16 outputs, alpha, beta)
 *    against a float64 reference written here from the definition: the
 *    error stays within the f32-accumulation bound, and every element of D
 *    outside the matrices (padding rows, batch gaps) is untouched;
 *  - exactness on small integers, beta = 0 never reading D (NaN there
 *    stays out), k = 0 (D = beta D);
 *  - gemm_dims on parsed plan steps: run-time dims, and the refusals
 *    (overlapping output batches, ld below the rows at run time, overflow).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_ref.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static int64_t rnd(int64_t lo, int64_t hi) { return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1)); }
static double unif(void) { return (double)(next() >> 11) / 9007199254740992.0 * 2 - 1; }

static double ld_el(const void *p, DType t, int64_t i) { return dtype_load(p, t, (size_t)i); }

/* D = alpha op(A) op(B) + beta D in float64 from the definition */
static void reference(const GemmDims *g, const void *A, const void *B, const void *D0, double *ref, double *bound)
{
    for (int64_t b = 0; b < g->batch; b++)
        for (int64_t j = 0; j < g->n; j++)
            for (int64_t i = 0; i < g->m; i++) {
                double s = 0, sa = 0;
                for (int64_t p = 0; p < g->k; p++) {
                    double x = ld_el(A, g->atype, b * g->sa + (g->ta == 'n' ? i + p * g->lda : p + i * g->lda));
                    double y = ld_el(B, g->btype, b * g->sb + (g->tb == 'n' ? p + j * g->ldb : j + p * g->ldb));
                    s += x * y;
                    sa += fabs(x * y);
                }
                int64_t o = b * g->sd + i + j * g->ldd;
                double old = g->beta != 0 ? ld_el(D0, g->dtype, o) : 0;
                ref[o] = g->alpha * s + g->beta * old;
                /* f32 sum of k terms, then alpha, beta, and the final rounding */
                double u = g->dtype == DT_F32 ? 0x1p-24 : g->dtype == DT_BF16 ? 0x1p-8 : 0x1p-11;
                bound[o] = fabs(g->alpha) * sa * (g->k + 2) * 0x1p-24 + fabs(g->beta * old) * 0x1p-23 +
                           fabs(ref[o]) * u * 1.01 + 1e-30;
            }
}

static const DType in_types[] = { DT_F32, DT_BF16, DT_F16 };

START_TEST(test_random)
{
    char err[256];
    for (int t = 0; t < 200; t++) {
        GemmDims g = { 0 };
        g.ta = next() & 1 ? 't' : 'n';
        g.tb = next() & 1 ? 't' : 'n';
        g.m = rnd(1, 9), g.n = rnd(1, 9), g.k = rnd(1, 40);
        g.batch = t % 3 == 0 ? rnd(2, 4) : 1;
        if (t % 10 == 7) { g.atype = DT_F8E4M3; g.btype = t % 20 == 7 ? DT_F8E5M2 : DT_F8E4M3; }
        else g.atype = g.btype = in_types[next() % 3];
        g.dtype = g.atype == DT_F32 ? DT_F32 : (next() & 1) ? DT_F32 : g.atype == DT_F16 ? DT_F16 : DT_BF16;
        if (g.atype == DT_F8E4M3 && g.dtype != DT_F32) g.dtype = DT_BF16;
        int64_t ar = g.ta == 'n' ? g.m : g.k, ac = g.ta == 'n' ? g.k : g.m;
        int64_t br = g.tb == 'n' ? g.k : g.n, bc = g.tb == 'n' ? g.n : g.k;
        g.lda = ar + rnd(0, 3), g.ldb = br + rnd(0, 3), g.ldd = g.m + rnd(0, 3);
        g.sa = (t % 7 == 0) ? 0 : g.lda * ac + rnd(0, 5);       /* 0: one A for every batch */
        g.sb = g.ldb * bc + rnd(0, 5);
        g.sd = g.ldd * g.n + rnd(0, 5);
        g.alpha = (next() & 1) ? 1.0 : 0.5;
        g.beta = t % 4 == 1 || t % 8 == 3 ? 0.25 : 0.0;
        const int sepc = t % 8 == 3;   /* C is its own buffer (a plan's c=): D's old values are not read */
        int64_t na = gemm_span(&g, 'a'), nb = gemm_span(&g, 'b'), nd = gemm_span(&g, 'd');
        ck_assert(na > 0 && nb > 0 && nd > 0);
        void *A = malloc((size_t)na * 4), *B = malloc((size_t)nb * 4), *D = malloc((size_t)nd * 4),
             *D0 = malloc((size_t)nd * 4);
        for (int64_t i = 0; i < na; i++) dtype_store(A, g.atype, (size_t)i, unif() * 4);
        for (int64_t i = 0; i < nb; i++) dtype_store(B, g.btype, (size_t)i, unif() * 4);
        for (int64_t i = 0; i < nd; i++) dtype_store(D, g.dtype, (size_t)i, unif() * 100);
        memcpy(D0, D, (size_t)nd * 4);
        void *C = NULL;
        if (sepc) { /* C holds D0's values; D gets others, which only the untouched elements keep */
            C = malloc((size_t)nd * 4);
            memcpy(C, D0, (size_t)nd * 4);
            for (int64_t i = 0; i < nd; i++) dtype_store(D, g.dtype, (size_t)i, unif() * 100 + 1000);
        }
        void *Dorig = malloc((size_t)nd * 4);
        memcpy(Dorig, D, (size_t)nd * 4);
        double *ref = malloc(sizeof(double) * (size_t)nd), *bound = malloc(sizeof(double) * (size_t)nd);
        for (int64_t i = 0; i < nd; i++) ref[i] = NAN;
        reference(&g, A, B, D0, ref, bound);
        ck_assert_msg(gemm_ref(&g, A, B, C, D, err, sizeof err) == 0, "%s", err);
        for (int64_t i = 0; i < nd; i++) {
            double got = ld_el(D, g.dtype, i);
            if (isnan(ref[i]))           /* not part of any output matrix */
                ck_assert_msg(memcmp((char *)D + i * (int64_t)dtype_size(g.dtype), (char *)Dorig + i * (int64_t)dtype_size(g.dtype),
                                     dtype_size(g.dtype)) == 0, "case %d: element %lld outside D was written", t, (long long)i);
            else
                ck_assert_msg(fabs(got - ref[i]) <= bound[i], "case %d (%c%c m%lld n%lld k%lld b%lld %s->%s): D[%lld] = %.9g, "
                              "reference %.9g, bound %.3g", t, g.ta, g.tb, (long long)g.m, (long long)g.n, (long long)g.k,
                              (long long)g.batch, dtype_name(g.atype), dtype_name(g.dtype), (long long)i, got, ref[i], bound[i]);
        }
        free(A); free(B); free(C); free(D); free(D0); free(Dorig); free(ref); free(bound);
    }
}
END_TEST

START_TEST(test_exact_and_beta)
{
    char err[256];
    /* A = [1 2; 3 4] (column-major 1 3 2 4) with lda 3, B = I*2, D = A*B exactly */
    float A[6] = { 1, 3, -1, 2, 4, -1 }, B[4] = { 2, 0, 0, 2 }, D[4] = { NAN, NAN, NAN, NAN };
    GemmDims g = { .ta = 'n', .tb = 'n', .m = 2, .n = 2, .k = 2, .lda = 3, .ldb = 2, .ldd = 2, .batch = 1,
                   .atype = DT_F32, .btype = DT_F32, .dtype = DT_F32, .alpha = 1, .beta = 0 };
    ck_assert_int_eq(gemm_ref(&g, A, B, NULL, D, err, sizeof err), 0);
    ck_assert(D[0] == 2 && D[1] == 6 && D[2] == 4 && D[3] == 8);  /* NaN in D never read with beta 0 */
    g.ta = 't';                                                     /* A^T = [1 3; 2 4] */
    g.beta = 1;
    ck_assert_int_eq(gemm_ref(&g, A, B, NULL, D, err, sizeof err), 0);
    ck_assert(D[0] == 4 && D[1] == 10 && D[2] == 10 && D[3] == 16);
    g.k = 0;                                                        /* D = beta D */
    g.beta = 0.5;
    ck_assert_int_eq(gemm_ref(&g, A, B, NULL, D, err, sizeof err), 0);
    ck_assert(D[0] == 2 && D[3] == 8);
    g.dtype = DT_I32;
    ck_assert_int_eq(gemm_ref(&g, A, B, NULL, D, err, sizeof err), -1);
    ck_assert_str_eq(err, "gemm_ref: types f32 x f32 -> i32 are not decoded here");
}
END_TEST

#define PLAN_HEAD "ueajc-plan 1\ndims 2 n h\ntensor 0 x input bf16 2 d0 64\ntensor 1 w param bf16 2 64 128\n" \
                  "tensor 2 y output f32 3 d1 d0 128\n"

static CudaPlan *plan_with(const char *gemm)
{
    char text[2048], err[256];
    snprintf(text, sizeof text, PLAN_HEAD "%s\nend\n", gemm);
    CudaPlan *p = cuda_plan_parse(text, strlen(text), "g.plan", err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    return p;
}

START_TEST(test_dims)
{
    char err[256];
    GemmDims g;
    int64_t dyn[8] = { 5, 3 };
    CudaPlan *p = plan_with("gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=d1 sa=0 "
                            "sb=d0*64 sd=d0*128 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=0.5 beta=0");
    ck_assert_msg(gemm_dims(&p->steps[0], dyn, &g, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(g.n, 5);
    ck_assert_int_eq(g.batch, 3);
    ck_assert_int_eq(g.sd, 640);
    ck_assert_int_eq(g.atype, DT_BF16);
    ck_assert_int_eq(g.dtype, DT_F32);
    ck_assert(g.alpha == 0.5);
    ck_assert_int_eq(gemm_span(&g, 'a'), 128 * 64);
    ck_assert_int_eq(gemm_span(&g, 'b'), 2 * 320 + 4 * 64 + 64);
    ck_assert_int_eq(gemm_span(&g, 'd'), 3 * 640);
    dyn[1] = 0;
    ck_assert_int_eq(gemm_dims(&p->steps[0], dyn, &g, err, sizeof err), -1);
    ck_assert_str_eq(err, "gemm t: batch=0 (1..2^31-1)");
    dyn[1] = -1;
    ck_assert_int_eq(gemm_dims(&p->steps[0], dyn, &g, err, sizeof err), -1);
    ck_assert_str_eq(err, "gemm t: batch overflows (or a run-time dim is negative)");
    cuda_plan_free(p);

    p = plan_with("gemm t a=1 b=0 d=2 ta=n tb=t m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=2 sa=0 sb=0 sd=128 "
                  "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0");
    dyn[0] = 65;
    ck_assert_int_eq(gemm_dims(&p->steps[0], dyn, &g, err, sizeof err), -1);
    ck_assert_str_eq(err, "gemm t: ldb=64 is less than the 65 rows of B");
    dyn[0] = 2;
    ck_assert_int_eq(gemm_dims(&p->steps[0], dyn, &g, err, sizeof err), -1);
    ck_assert_str_eq(err, "gemm t: sd=128 makes output batches overlap (one spans 256)");
    cuda_plan_free(p);

    p = plan_with("gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=d0*d0*d0 batch=1 sa=0 sb=0 "
                  "sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0");
    dyn[0] = 1 << 21;
    ck_assert_int_eq(gemm_dims(&p->steps[0], dyn, &g, err, sizeof err), -1);
    ck_assert_str_eq(err, "gemm t: ldd overflows (or a run-time dim is negative)");
    dyn[0] = 1 << 20;
    ck_assert_int_eq(gemm_dims(&p->steps[0], dyn, &g, err, sizeof err), -1);
    ck_assert_str_eq(err, "gemm t: D spans more than 2^63 elements");
    cuda_plan_free(p);
}
END_TEST

extern Suite *suite_gemm_ref(void);
Suite *suite_gemm_ref(void)
{
    Suite *s = suite_create("gemm_ref");
    TCase *tc = tcase_create("ref");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_random);
    tcase_add_test(tc, test_exact_and_beta);
    tcase_add_test(tc, test_dims);
    suite_add_tcase(s, tc);
    return s;
}
