/* test_sampler.c - the token sampler (runtime/sampler.c).
 *
 * Acceptance case 29 of seed-semantics.md, literally: T = 0 is the argmax
 * whatever the filters say; top_k = 1 is always the argmax; with T = 1 and
 * a softmax of (sorted) [0.5, 0.3, 0.2], top_p 0.6 keeps 2 tokens, 0.45
 * keeps 1, 0.9 keeps 3, and min_p 0.5 keeps 2.  The kept sets are checked
 * twice: through sampler_filter (ids and renormalised probabilities), and
 * through the empirical distribution of 20000 draws, which must never show
 * a filtered token and must pass a chi-square test against the
 * renormalised probabilities at the 0.1% level (the seed is fixed, so the
 * statistic is the same on every run; the level only says how surprising a
 * failure would be).
 *
 * Also: the same seed gives the same sequence and another seed another
 * one; the OS seed is reported; llama.cpp's repetition penalty on known
 * values (distinct tokens once, the window, ids out of range ignored);
 * edge cases (one finite logit, none, NaN, +inf, V = 1, bad arguments);
 * and the partial selection against a brute-force full sort on random
 * logits with many ties, up to a 128k vocabulary.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

static SamplerConfig cfg_plain(void)
{
    SamplerConfig c;
    sampler_config_default(&c);
    c.temperature = 1.0f;
    c.top_k = 0;
    c.top_p = 1.0f;
    c.min_p = 0.0f;
    c.has_seed = 1;
    c.seed = 1234;
    return c;
}

/* logits whose softmax is p (up to rounding) */
static void logits_of(const double *p, int n, float *out)
{
    for (int i = 0; i < n; i++) out[i] = (float)log(p[i]);
}

typedef struct IdP { int32_t id; double p; } IdP;
static int cmp_idp(const void *a, const void *b)
{
    int32_t x = ((const IdP *)a)->id, y = ((const IdP *)b)->id;
    return (x > y) - (x < y);
}

/* ids kept for one config (and their probabilities), sorted by id;
 * returns the count */
static int kept(const SamplerConfig *c, const float *logits0, int V, int32_t *ids, double *probs)
{
    float *l = malloc(sizeof(float) * (size_t)V);
    double *p = malloc(sizeof(double) * (size_t)V);
    memcpy(l, logits0, sizeof(float) * (size_t)V);
    Sampler *s = sampler_new(c);
    ck_assert_ptr_nonnull(s);
    int n = sampler_filter(s, l, V, NULL, 0, ids, p);
    sampler_free(s);
    IdP *v = malloc(sizeof(IdP) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) { v[i].id = ids[i]; v[i].p = p[i]; }
    qsort(v, (size_t)(n > 0 ? n : 0), sizeof *v, cmp_idp);
    for (int i = 0; i < n; i++) { ids[i] = v[i].id; if (probs) probs[i] = v[i].p; }
    free(v); free(p); free(l);
    return n;
}

/* ---- acceptance case 29 --------------------------------------------------- */

START_TEST(t_greedy_ignores_filters)
{
    float base[6] = { 0.5f, 3.0f, -1.0f, 3.0f, 2.9f, -INFINITY };
    SamplerConfig c = cfg_plain();
    c.temperature = 0.0f;
    c.top_k = 3; c.top_p = 0.01f; c.min_p = 0.99f;
    Sampler *s = sampler_new(&c);
    for (int rep = 0; rep < 20; rep++) {
        float l[6];
        memcpy(l, base, sizeof l);
        ck_assert_int_eq(sampler_sample(s, l, 6, NULL, 0), 1);   /* tie: lower id */
    }
    c.temperature = -2.0f;                          /* any T <= 0 */
    sampler_free(s);
    s = sampler_new(&c);
    float l[6];
    memcpy(l, base, sizeof l);
    ck_assert_int_eq(sampler_sample(s, l, 6, NULL, 0), 1);
    sampler_free(s);
}
END_TEST

START_TEST(t_top_k_1_is_argmax)
{
    SamplerConfig c = cfg_plain();
    c.top_k = 1;
    Sampler *s = sampler_new(&c);
    float base[5] = { 0.1f, 0.2f, 1.5f, 1.49f, -3.0f };
    for (int rep = 0; rep < 500; rep++) {
        float l[5];
        memcpy(l, base, sizeof l);
        ck_assert_int_eq(sampler_sample(s, l, 5, NULL, 0), 2);
    }
    sampler_free(s);
}
END_TEST

/* softmax [0.2, 0.5, 0.3] by id, i.e. [0.5, 0.3, 0.2] sorted */
static const double P3[3] = { 0.2, 0.5, 0.3 };

static void expect_kept(const SamplerConfig *c, int n_want, const int32_t *want_ids, const double *want_p)
{
    float l[3];
    logits_of(P3, 3, l);
    int32_t ids[3];
    double probs[3];
    int n = kept(c, l, 3, ids, probs);
    ck_assert_int_eq(n, n_want);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(ids[i], want_ids[i]);
        ck_assert_double_eq_tol(probs[i], want_p[i], 1e-6);
    }
}

START_TEST(t_top_p_kept_sets)
{
    SamplerConfig c = cfg_plain();
    c.top_p = 0.6f;                                   /* 0.5 < 0.6 <= 0.8 */
    expect_kept(&c, 2, (const int32_t[]){ 1, 2 }, (const double[]){ 0.625, 0.375 });
    c.top_p = 0.45f;                                  /* 0.45 <= 0.5 */
    expect_kept(&c, 1, (const int32_t[]){ 1 }, (const double[]){ 1.0 });
    c.top_p = 0.9f;                                   /* 0.8 < 0.9 */
    expect_kept(&c, 3, (const int32_t[]){ 0, 1, 2 }, (const double[]){ 0.2, 0.5, 0.3 });
}
END_TEST

START_TEST(t_min_p_kept_set)
{
    SamplerConfig c = cfg_plain();
    c.min_p = 0.5f;                                   /* threshold 0.25 */
    expect_kept(&c, 2, (const int32_t[]){ 1, 2 }, (const double[]){ 0.625, 0.375 });
    c.min_p = 0.35f;                                  /* threshold 0.175: all */
    expect_kept(&c, 3, (const int32_t[]){ 0, 1, 2 }, (const double[]){ 0.2, 0.5, 0.3 });
}
END_TEST

START_TEST(t_order_min_p_top_k_top_p)
{
    /* softmax by id [0.4, 0.25, 0.2, 0.1, 0.05]: min_p 0.2 (thr 0.08) drops
     * id 4; top_k 3 keeps ids 0-2 (mass 0.85); top_p 0.7 over the
     * renormalised [0.47, 0.29, 0.24] keeps 0 and 1 (0.76 >= 0.7). */
    const double p[5] = { 0.4, 0.25, 0.2, 0.1, 0.05 };
    float l[5];
    logits_of(p, 5, l);
    SamplerConfig c = cfg_plain();
    c.min_p = 0.2f; c.top_k = 3; c.top_p = 0.7f;
    int32_t ids[5];
    double probs[5];
    int n = kept(&c, l, 5, ids, probs);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ids[0], 0);
    ck_assert_int_eq(ids[1], 1);
    ck_assert_double_eq_tol(probs[0], 0.4 / 0.65, 1e-6);
    /* top-p alone at 0.7 keeps 3 tokens (0.4 + 0.25 = 0.65 < 0.7) */
    c.min_p = 0.0f; c.top_k = 0;
    ck_assert_int_eq(kept(&c, l, 5, ids, probs), 3);
}
END_TEST

/* chi-square of `draws` samples against the kept set's probabilities */
static void chi_square(const SamplerConfig *c, const float *logits0, int V, int draws, double crit)
{
    int32_t ids[16];
    double probs[16];
    int n = kept(c, logits0, V, ids, probs);
    ck_assert_int_gt(n, 0);
    int counts[16] = { 0 };
    Sampler *s = sampler_new(c);
    for (int d = 0; d < draws; d++) {
        float l[16];
        memcpy(l, logits0, sizeof(float) * (size_t)V);
        int32_t t = sampler_sample(s, l, V, NULL, 0);
        ck_assert_int_ge(t, 0);
        ck_assert_int_lt(t, V);
        counts[t]++;
    }
    sampler_free(s);
    double x2 = 0.0;
    int in_set = 0;
    for (int i = 0; i < n; i++) {
        double e = probs[i] * draws;
        x2 += (counts[ids[i]] - e) * (counts[ids[i]] - e) / e;
        in_set += counts[ids[i]];
    }
    ck_assert_msg(in_set == draws, "a filtered token was drawn (%d of %d draws in the kept set)", in_set, draws);
    if (n > 1)
        ck_assert_msg(x2 < crit, "chi-square %.3f >= %.3f (df %d)", x2, crit, n - 1);
}

START_TEST(t_draws_follow_kept_distribution)
{
    /* 0.1% critical values of chi-square with 1 and 2 degrees of freedom */
    const double crit1 = 10.828, crit2 = 13.816;
    float l[3];
    logits_of(P3, 3, l);
    SamplerConfig c = cfg_plain();
    c.top_p = 0.6f;  chi_square(&c, l, 3, 20000, crit1);
    c.top_p = 0.45f; chi_square(&c, l, 3, 2000, crit1);
    c.top_p = 0.9f;  chi_square(&c, l, 3, 20000, crit2);
    c.top_p = 1.0f; c.min_p = 0.5f; chi_square(&c, l, 3, 20000, crit1);
    c.min_p = 0.0f; c.top_k = 2;    chi_square(&c, l, 3, 20000, crit1);
    /* temperature 2 flattens: kept set all three, probabilities ~ sqrt(p) */
    c.top_k = 0; c.temperature = 2.0f; chi_square(&c, l, 3, 20000, crit2);
}
END_TEST

/* ---- the generator ---------------------------------------------------------- */

static void sequence(uint64_t seed, int n, int32_t *out)
{
    SamplerConfig c = cfg_plain();
    c.seed = seed;
    Sampler *s = sampler_new(&c);
    ck_assert_uint_eq(sampler_seed(s), seed);
    for (int i = 0; i < n; i++) {
        float l[8] = { 0.1f, 0.3f, 0.2f, 0.0f, -0.1f, 0.25f, 0.05f, 0.15f };
        out[i] = sampler_sample(s, l, 8, out, i);
    }
    sampler_free(s);
}

START_TEST(t_same_seed_same_sequence)
{
    int32_t a[200], b[200], d[200];
    sequence(42, 200, a);
    sequence(42, 200, b);
    sequence(43, 200, d);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_msg(memcmp(a, d, sizeof a) != 0, "seeds 42 and 43 gave the same 200 tokens");
    /* the raw stream: first outputs of xoshiro256** seeded by splitmix64(0) */
    SamplerConfig c = cfg_plain();
    c.seed = 0;
    Sampler *s = sampler_new(&c);
    uint64_t x1 = sampler_next_u64(s), x2 = sampler_next_u64(s);
    sampler_free(s);
    s = sampler_new(&c);
    ck_assert_uint_eq(sampler_next_u64(s), x1);
    ck_assert_uint_eq(sampler_next_u64(s), x2);
    ck_assert_uint_ne(x1, x2);
    sampler_free(s);
}
END_TEST

START_TEST(t_os_seed_reported)
{
    SamplerConfig c = cfg_plain();
    c.has_seed = 0;
    Sampler *s1 = sampler_new(&c), *s2 = sampler_new(&c);
    /* 64 random bits each: equal seeds would mean the OS source is broken */
    ck_assert_uint_ne(sampler_seed(s1), sampler_seed(s2));
    /* a drawn seed replays exactly when given back */
    SamplerConfig r = cfg_plain();
    r.seed = sampler_seed(s1);
    Sampler *s3 = sampler_new(&r);
    for (int i = 0; i < 10; i++) ck_assert_uint_eq(sampler_next_u64(s1), sampler_next_u64(s3));
    sampler_free(s1); sampler_free(s2); sampler_free(s3);
}
END_TEST

/* ---- repetition penalty --------------------------------------------------- */

START_TEST(t_repetition_penalty_values)
{
    SamplerConfig c = cfg_plain();
    c.temperature = 0.0f;
    c.repeat_penalty = 2.0f;
    c.repeat_last_n = -1;
    Sampler *s = sampler_new(&c);
    float l[5] = { 2.0f, -2.0f, 1.0f, 0.5f, 0.0f };
    const int32_t hist[] = { 0, 1, 0, 3, 4, 77, -5 };  /* 0 twice: once; 77, -5 ignored */
    int32_t ids[5];
    ck_assert_int_eq(sampler_filter(s, l, 5, hist, 7, ids, NULL), 1);
    ck_assert_float_eq(l[0], 1.0f);
    ck_assert_float_eq(l[1], -4.0f);
    ck_assert_float_eq(l[2], 1.0f);
    ck_assert_float_eq(l[3], 0.25f);
    ck_assert_float_eq(l[4], 0.0f);
    ck_assert_int_eq(ids[0], 0);                         /* 1.0 == 1.0: lower id */
    sampler_free(s);

    c.repeat_last_n = 2;                                 /* only 4 and 77 */
    s = sampler_new(&c);
    float m[5] = { 2.0f, -2.0f, 1.0f, 0.5f, -1.0f };
    ck_assert_int_eq(sampler_sample(s, m, 5, (const int32_t[]){ 0, 1, 4, 77 }, 4), 0);
    ck_assert_float_eq(m[0], 2.0f);
    ck_assert_float_eq(m[4], -2.0f);
    /* penalty 1 and window 0 are off */
    sampler_free(s);
    c.repeat_last_n = 0;
    s = sampler_new(&c);
    float k[2] = { 2.0f, 1.0f };
    sampler_sample(s, k, 2, (const int32_t[]){ 0 }, 1);
    ck_assert_float_eq(k[0], 2.0f);
    sampler_free(s);
    /* applied before the temperature: 4/2 then /2 */
    c = cfg_plain();
    c.temperature = 2.0f; c.repeat_penalty = 2.0f; c.repeat_last_n = 8;
    s = sampler_new(&c);
    float t[2] = { 4.0f, -4.0f };
    sampler_sample(s, t, 2, (const int32_t[]){ 0, 1 }, 2);
    ck_assert_float_eq(t[0], 1.0f);
    ck_assert_float_eq(t[1], -4.0f);
    sampler_free(s);
}
END_TEST

/* ---- edge cases ------------------------------------------------------------ */

START_TEST(t_edges)
{
    SamplerConfig c = cfg_plain();
    c.top_k = 5; c.top_p = 0.5f; c.min_p = 0.1f;
    Sampler *s = sampler_new(&c);
    float one[4] = { -INFINITY, -INFINITY, 3.0f, -INFINITY };
    for (int i = 0; i < 50; i++) {
        float l[4];
        memcpy(l, one, sizeof l);
        ck_assert_int_eq(sampler_sample(s, l, 4, NULL, 0), 2);
    }
    float none[3] = { -INFINITY, -INFINITY, -INFINITY };
    ck_assert_int_eq(sampler_sample(s, none, 3, NULL, 0), -1);
    float nan3[3] = { NAN, NAN, NAN };
    ck_assert_int_eq(sampler_sample(s, nan3, 3, NULL, 0), -1);
    for (int i = 0; i < 50; i++) {                    /* NaN is never chosen */
        float l[3] = { NAN, 0.0f, NAN };
        ck_assert_int_eq(sampler_sample(s, l, 3, NULL, 0), 1);
    }
    float inf[4] = { 1.0f, INFINITY, NAN, INFINITY };
    ck_assert_int_eq(sampler_sample(s, inf, 4, NULL, 0), 1);
    float v1[1] = { -7.0f };
    ck_assert_int_eq(sampler_sample(s, v1, 1, NULL, 0), 0);
    ck_assert_int_eq(sampler_sample(s, v1, 0, NULL, 0), -1);
    ck_assert_int_eq(sampler_sample(s, NULL, 3, NULL, 0), -1);
    sampler_free(s);

    c.temperature = 0.0f;                              /* greedy: NaN skipped */
    s = sampler_new(&c);
    float g[3] = { NAN, -1.0f, NAN };
    ck_assert_int_eq(sampler_sample(s, g, 3, NULL, 0), 1);
    float gn[2] = { NAN, -INFINITY };
    ck_assert_int_eq(sampler_sample(s, gn, 2, NULL, 0), -1);
    float gi[3] = { 1.0f, INFINITY, INFINITY };
    ck_assert_int_eq(sampler_sample(s, gi, 3, NULL, 0), 1);
    sampler_free(s);

    c = cfg_plain();                                   /* l / T overflows to +-inf */
    c.temperature = 1e-20f;
    s = sampler_new(&c);
    float tt[3] = { -1e30f, 2e30f, 2e30f };
    ck_assert_int_eq(sampler_sample(s, tt, 3, NULL, 0), 1);
    sampler_free(s);
}
END_TEST

/* ---- partial selection vs a full sort --------------------------------------- */

typedef struct RefC { float l; int32_t id; } RefC;
static int ref_cmp(const void *pa, const void *pb)
{
    const RefC *a = pa, *b = pb;
    if (a->l != b->l) return a->l > b->l ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* the seed's steps 2-4 by full sort; returns the kept ids sorted by id */
static int ref_kept(const SamplerConfig *c, const float *logits, int V, int32_t *ids)
{
    RefC *r = malloc(sizeof(RefC) * (size_t)V);
    int n = 0;
    float m = -INFINITY;
    for (int i = 0; i < V; i++) {
        float l = logits[i] / c->temperature;
        r[n].l = l; r[n].id = i; n++;
        if (l > m) m = l;
    }
    qsort(r, (size_t)n, sizeof *r, ref_cmp);
    if (c->min_p > 0) {
        int w = 0;
        for (int i = 0; i < n; i++)
            if (exp((double)r[i].l - m) >= c->min_p) r[w++] = r[i];
        n = w;
    }
    if (c->top_k > 0 && c->top_k < n) n = c->top_k;
    if (c->top_p > 0 && c->top_p < 1) {
        double z = 0, cum = 0;
        for (int i = 0; i < n; i++) z += exp((double)r[i].l - m);
        for (int i = 0; i < n; i++) {
            cum += exp((double)r[i].l - m) / z;
            if (cum >= c->top_p) { n = i + 1; break; }
        }
    }
    for (int i = 0; i < n; i++) ids[i] = r[i].id;
    free(r);
    return n;
}

static int cmp_i32_(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static uint64_t lcg(uint64_t *x) { *x = *x * 6364136223846793005ull + 1442695040888963407ull; return *x >> 33; }

START_TEST(t_partial_selection_matches_full_sort)
{
    uint64_t rs = 99;
    const int sizes[] = { 2, 7, 100, 5000, 131072 };
    for (int si = 0; si < 5; si++) {
        int V = sizes[si];
        float *l = malloc(sizeof(float) * (size_t)V);
        int32_t *a = malloc(sizeof(int32_t) * (size_t)V), *b = malloc(sizeof(int32_t) * (size_t)V);
        int trials = V > 10000 ? 6 : 40;
        for (int t = 0; t < trials; t++) {
            /* normal-ish logits quantised to 1/8 (many ties), scaled */
            double scale = 1.0 + (double)(lcg(&rs) % 8);
            for (int i = 0; i < V; i++) {
                double u = 0;
                for (int k = 0; k < 4; k++) u += (double)(lcg(&rs) % 1000) / 1000.0;
                l[i] = (float)(floor((u - 2.0) * scale * 8.0) / 8.0);
            }
            SamplerConfig c = cfg_plain();
            c.temperature = (t % 3 == 0) ? 0.7f : 1.0f;
            c.top_k = (t % 4 == 0) ? 0 : (int)(1 + lcg(&rs) % 60);
            c.top_p = (t % 5 == 1) ? 1.0f : (float)(0.05 + 0.9 * (double)(lcg(&rs) % 1000) / 1000.0);
            c.min_p = (t % 3 == 2) ? (float)(0.01 * (double)(lcg(&rs) % 30)) : 0.0f;
            int nb = ref_kept(&c, l, V, b);
            qsort(b, (size_t)nb, sizeof *b, cmp_i32_);
            int na = kept(&c, l, V, a, NULL);
            ck_assert_msg(na == nb, "V %d trial %d: kept %d, full sort keeps %d (k %d p %g minp %g)",
                          V, t, na, nb, c.top_k, (double)c.top_p, (double)c.min_p);
            ck_assert_mem_eq(a, b, sizeof(int32_t) * (size_t)na);
        }
        /* and a draw on the full vocabulary is within range */
        SamplerConfig c = cfg_plain();
        c.top_k = 40; c.top_p = 0.95f;
        Sampler *s = sampler_new(&c);
        for (int d = 0; d < 20; d++) {
            float *w = malloc(sizeof(float) * (size_t)V);
            memcpy(w, l, sizeof(float) * (size_t)V);
            int32_t tok = sampler_sample(s, w, V, NULL, 0);
            ck_assert(tok >= 0 && tok < V);
            free(w);
        }
        sampler_free(s);
        free(l); free(a); free(b);
    }
}
END_TEST

extern Suite *suite_sampler(void);
Suite *suite_sampler(void)
{
    Suite *s = suite_create("sampler");
    TCase *tc = tcase_create("case29");
    tcase_add_test(tc, t_greedy_ignores_filters);
    tcase_add_test(tc, t_top_k_1_is_argmax);
    tcase_add_test(tc, t_top_p_kept_sets);
    tcase_add_test(tc, t_min_p_kept_set);
    tcase_add_test(tc, t_order_min_p_top_k_top_p);
    tcase_add_test(tc, t_draws_follow_kept_distribution);
    suite_add_tcase(s, tc);
    tc = tcase_create("prng");
    tcase_add_test(tc, t_same_seed_same_sequence);
    tcase_add_test(tc, t_os_seed_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("penalty_edges");
    tcase_add_test(tc, t_repetition_penalty_values);
    tcase_add_test(tc, t_edges);
    tcase_add_test(tc, t_partial_selection_matches_full_sort);
    suite_add_tcase(s, tc);
    return s;
}
