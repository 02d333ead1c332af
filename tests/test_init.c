/* test_init.c - tests of compiler/init.c (parameter initialisation).
 *
 * Independent references:
 *  - published test vectors: xoshiro256** from the state {1,2,3,4}
 *    (the reference C code of Blackman & Vigna) and FNV-1a 64 of "", "a",
 *    "foobar"; the seeding formula of init.c re-implemented in Python
 *    (values below) pins the stream layout;
 *  - statistics against closed formulas: the normal generator by a
 *    Kolmogorov-Smirnov test against Phi(x) = erfc(-x/sqrt 2)/2 from libm,
 *    the truncated one against the truncated-normal CDF, the uniform one
 *    by a chi-square test; std and mean of init_param_values;
 *  - the tests are deterministic (fixed seeds), the thresholds are the
 *    0.1% critical values, and a shifted sample is checked to fail them.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

START_TEST(test_vectors)
{
    InitRng r = { { 1, 2, 3, 4 } };
    const uint64_t want[] = { 11520ull, 0ull, 1509978240ull, 1215971899390074240ull,
                              1216172134540287360ull, 607988272756665600ull };
    for (int i = 0; i < 6; i++) ck_assert_uint_eq(init_rng_next(&r), want[i]);

    ck_assert_uint_eq(init_hash_name(""), 0xcbf29ce484222325ull);
    ck_assert_uint_eq(init_hash_name(NULL), 0xcbf29ce484222325ull);
    ck_assert_uint_eq(init_hash_name("a"), 0xaf63dc4c8601ec8cull);
    ck_assert_uint_eq(init_hash_name("foobar"), 0x85944171f73967e8ull);

    /* x = mix64(mix64(seed) ^ stream ^ 0xD1B54A32D192ED03), s = splitmix64(x)
     * x 4, computed in Python from that formula */
    init_rng_seed(&r, 0, 0);
    ck_assert_uint_eq(init_rng_next(&r), 0xc78b4f5177ddb86bull);
    ck_assert_uint_eq(init_rng_next(&r), 0x7262e5670215a9e4ull);
    ck_assert_uint_eq(init_rng_next(&r), 0x00ece032bf7e105full);
    init_rng_seed(&r, 42, init_hash_name("w"));
    ck_assert_uint_eq(init_rng_next(&r), 0x2245994927dda6f0ull);
    ck_assert_uint_eq(init_rng_next(&r), 0x931744b614d6a785ull);
    ck_assert_uint_eq(init_rng_next(&r), 0xe7ad8f15610eeb12ull);
}
END_TEST

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

/* CDF of init_rng_truncnormal: N(0,1) cut to [-2,2], divided by c */
static double trunc_cdf(double x)
{
    double z = x * INIT_TRUNC_STD;
    if (z <= -2) return 0;
    if (z >= 2) return 1;
    return (phi(z) - phi(-2)) / (phi(2) - phi(-2));
}

/* sqrt(n) * the KS distance of the sample x (sorted here) to cdf */
static double ks_stat(double *x, int n, double (*cdf)(double))
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    double d = 0;
    for (int i = 0; i < n; i++) {
        double f = cdf(x[i]);
        double a = f - (double)i / n, b = (double)(i + 1) / n - f;
        if (a > d) d = a;
        if (b > d) d = b;
    }
    return d * sqrt((double)n);
}

#define KS_CRIT 1.949   /* Kolmogorov distribution, 0.1% upper quantile */

START_TEST(test_normal_ks)
{
    enum { N = 100000 };
    double *x = malloc(N * sizeof *x);
    ck_assert_ptr_nonnull(x);
    InitRng r;
    init_rng_seed(&r, 12345, init_hash_name("ks"));
    double s = 0, s2 = 0;
    for (int i = 0; i < N; i++) {
        x[i] = init_rng_normal(&r);
        s += x[i];
        s2 += x[i] * x[i];
    }
    double mean = s / N, sd = sqrt(s2 / N - mean * mean);
    ck_assert_msg(fabs(mean) < 0.015, "mean %g", mean);      /* 4.7 sigma */
    ck_assert_msg(fabs(sd - 1) < 0.01, "std %g", sd);
    double k = ks_stat(x, N, phi);
    fprintf(stderr, "init: normal KS sqrt(n)D = %.3f (crit %.3f)\n", k, KS_CRIT);
    ck_assert_msg(k < KS_CRIT, "normal KS %g", k);
    /* the test has power: a 3% wider sample fails it */
    for (int i = 0; i < N; i++) x[i] *= 1.03;
    ck_assert(ks_stat(x, N, phi) > KS_CRIT);

    init_rng_seed(&r, 777, init_hash_name("ks-trunc"));
    s = s2 = 0;
    double lim = 2.0 / INIT_TRUNC_STD * (1 + 1e-15);
    int outside = 0;   /* (one ck_assert per sample would be slow) */
    for (int i = 0; i < N; i++) {
        x[i] = init_rng_truncnormal(&r);
        outside += !(fabs(x[i]) <= lim);
        s += x[i];
        s2 += x[i] * x[i];
    }
    ck_assert_int_eq(outside, 0);
    mean = s / N;
    sd = sqrt(s2 / N - mean * mean);
    ck_assert_msg(fabs(mean) < 0.015, "trunc mean %g", mean);
    ck_assert_msg(fabs(sd - 1) < 0.01, "trunc std %g", sd);
    k = ks_stat(x, N, trunc_cdf);
    fprintf(stderr, "init: truncnormal KS sqrt(n)D = %.3f, std %.4f\n", k, sd);
    ck_assert_msg(k < KS_CRIT, "truncnormal KS %g", k);
    free(x);
}
END_TEST

/* chi-square of 100 equal bins, for 10 streams: each below the 0.1%
 * critical value (99 dof), and their sum (990 dof: mean 990, sd 44.5)
 * within 4 sd of its mean */
START_TEST(test_uniform_chi2)
{
    enum { N = 200000, BINS = 100, STREAMS = 10 };
    double total = 0;
    for (int st = 0; st < STREAMS; st++) {
        int cnt[BINS] = { 0 }, bad = 0;
        InitRng r;
        init_rng_seed(&r, 99, (uint64_t)st);
        for (int i = 0; i < N; i++) {
            double u = init_rng_uniform(&r);
            double g = u * 0x1.0p53;
            if (!(u >= 0 && u < 1) || g != floor(g)) { bad++; continue; }   /* [0,1), 2^-53 grid */
            cnt[(int)(u * BINS)]++;
        }
        ck_assert_int_eq(bad, 0);
        double chi = 0, e = (double)N / BINS;
        for (int b = 0; b < BINS; b++) chi += (cnt[b] - e) * (cnt[b] - e) / e;
        ck_assert_msg(chi < 148.2, "stream %d: chi2 %g", st, chi);
        total += chi;
    }
    fprintf(stderr, "init: uniform chi2 summed over %d streams = %.1f (990 dof)\n",
            STREAMS, total);
    ck_assert_msg(fabs(total - 990) < 4 * 44.5, "sum of chi2 %g", total);
}
END_TEST

static void moments(const double *x, int64_t n, double *mean, double *sd)
{
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) { s += x[i]; s2 += x[i] * x[i]; }
    *mean = s / (double)n;
    *sd = sqrt(s2 / (double)n - *mean * *mean);
}

START_TEST(test_param_variance)
{
    enum { N = 20000 };
    double *x = malloc(N * sizeof *x);
    ck_assert_ptr_nonnull(x);
    const double vars[] = { 1.0, 0.25, 1e-4, 9.0 };
    int64_t shape[2] = { 100, 200 };
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(init_param_values(x, 2, shape, 1, vars[k], 7, "emb"), 0);
        double m, sd;
        moments(x, N, &m, &sd);
        double want = sqrt(vars[k]);
        ck_assert_msg(fabs(sd - want) < 0.05 * want, "var %g: std %g", vars[k], sd);
        ck_assert_msg(fabs(m) < 4 * want / sqrt((double)N), "var %g: mean %g", vars[k], m);
    }
    /* rank 1 and rank 0 are fine with a variance */
    int64_t n1 = N;
    ck_assert_int_eq(init_param_values(x, 1, &n1, 1, 2.0, 7, "bias"), 0);
    double m, sd;
    moments(x, N, &m, &sd);
    ck_assert(fabs(sd - sqrt(2.0)) < 0.05 * sqrt(2.0));
    x[0] = 123;
    ck_assert_int_eq(init_param_values(x, 0, NULL, 1, 0.0, 7, "scalar"), 0);
    ck_assert(x[0] == 0.0);   /* var 0: exactly zero */
    free(x);
}
END_TEST

START_TEST(test_param_lecun)
{
    int64_t shape[2] = { 256, 64 };
    int64_t n = 256 * 64;
    double *x = malloc((size_t)n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(init_param_values(x, 2, shape, 0, 0, 2024, "w_q"), 0);
    double m, sd;
    moments(x, n, &m, &sd);
    const double want = 1.0 / 16;
    fprintf(stderr, "init: lecun (256,64) std %.5f (want %.5f), mean %.2e\n", sd, want, m);
    ck_assert_msg(fabs(sd - want) < 0.05 * want, "std %g", sd);
    ck_assert_msg(fabs(m) < 4 * want / sqrt((double)n), "mean %g", m);
    /* truncated at 2 std of the underlying normal: |x| <= 2 * (1/16) / 0.8796 */
    double lim = 2 * want / INIT_TRUNC_STD * (1 + 1e-12), mx = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(x[i]) > mx) mx = fabs(x[i]);
    ck_assert_msg(mx <= lim, "max |x| %.17g > %.17g", mx, lim);
    ck_assert(mx > 0.95 * lim);   /* the tails are really reached */

    /* rank 3: fan_in = 4 * 8 = 32 */
    int64_t s3[3] = { 4, 8, 512 };
    ck_assert_int_eq(init_param_values(x, 3, s3, 0, 0, 1, "conv"), 0);
    moments(x, 4 * 8 * 512, &m, &sd);
    ck_assert(fabs(sd - sqrt(1.0 / 32)) < 0.05 * sqrt(1.0 / 32));
    free(x);
}
END_TEST

START_TEST(test_param_determinism)
{
    enum { N = 1000 };
    double a[N], b[N], c[N], d[N];
    int64_t shape[2] = { 10, 100 };
    ck_assert_int_eq(init_param_values(a, 2, shape, 0, 0, 5, "w1"), 0);
    ck_assert_int_eq(init_param_values(c, 2, shape, 0, 0, 5, "w2"), 0);   /* another param in between */
    ck_assert_int_eq(init_param_values(b, 2, shape, 0, 0, 5, "w1"), 0);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    ck_assert_int_eq(init_param_values(d, 2, shape, 0, 0, 6, "w1"), 0);
    int same_name = 0, same_seed = 0;
    for (int i = 0; i < N; i++) {
        same_name += a[i] == c[i];
        same_seed += a[i] == d[i];
    }
    ck_assert_int_eq(same_name, 0);
    ck_assert_int_eq(same_seed, 0);
    /* the first values of a stream do not depend on the length asked */
    int64_t small[2] = { 10, 10 };
    ck_assert_int_eq(init_param_values(b, 2, small, 0, 0, 5, "w1"), 0);
    ck_assert(memcmp(a, b, 100 * sizeof *a) == 0);
    /* and are those of init_rng_* with the documented stream */
    InitRng r;
    init_rng_seed(&r, 5, init_hash_name("w1"));
    int differ = 0;
    for (int i = 0; i < 100; i++) differ += a[i] != sqrt(1.0 / 10) * init_rng_truncnormal(&r);
    ck_assert_int_eq(differ, 0);
}
END_TEST

START_TEST(test_param_errors)
{
    double x[16];
    int64_t s1[1] = { 16 }, s2[2] = { 4, 4 }, bad[2] = { 4, -1 };
    ck_assert_int_eq(init_param_values(x, 1, s1, 0, 0, 1, "v"), -1);      /* rank 1, lecun */
    ck_assert_int_eq(init_param_values(x, 0, NULL, 0, 0, 1, "v"), -1);    /* rank 0, lecun */
    ck_assert_int_eq(init_param_values(x, 2, s2, 1, -1.0, 1, "v"), -1);   /* var < 0 */
    ck_assert_int_eq(init_param_values(x, 2, s2, 1, NAN, 1, "v"), -1);
    ck_assert_int_eq(init_param_values(x, 2, bad, 1, 1.0, 1, "v"), -1);   /* dim < 0 */
    ck_assert_int_eq(init_param_values(x, -1, s2, 1, 1.0, 1, "v"), -1);
    ck_assert_int_eq(init_param_values(NULL, 2, s2, 1, 1.0, 1, "v"), -1);
    int64_t huge[3] = { INT64_C(1) << 40, INT64_C(1) << 40, 2 };
    ck_assert_int_eq(init_param_values(x, 3, huge, 1, 1.0, 1, "v"), -1);  /* overflow */
    int64_t empty[2] = { 0, 8 };
    ck_assert_int_eq(init_param_values(NULL, 2, empty, 0, 0, 1, "v"), 0); /* nothing to fill */
    ck_assert_int_eq(init_param_values(x, 2, s2, 0, 0, 1, NULL), 0);      /* NULL name = "" */
}
END_TEST

extern Suite *suite_init(void);
Suite *suite_init(void)
{
    Suite *s = suite_create("init");
    TCase *tc = tcase_create("init");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_normal_ks);
    tcase_add_test(tc, test_uniform_chi2);
    tcase_add_test(tc, test_param_variance);
    tcase_add_test(tc, test_param_lecun);
    tcase_add_test(tc, test_param_determinism);
    tcase_add_test(tc, test_param_errors);
    suite_add_tcase(s, tc);
    return s;
}
