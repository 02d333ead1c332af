/* test_order.c - tests of compiler/order.c (contraction order).
 *
 * The reference is independent of order.c:
 *  - tests/fixtures/order/terms.txt, written by tests/gen_order_fixtures.py
 *    with opt_einsum: for ~100 random terms (2..8 operands, repeated
 *    letters, sizes 1..9), a few hand-made ones and the TransNormer term,
 *    the exact optimum of opt_einsum's reported cost found by a memoised
 *    search over set partitions in Python (column `exact`), and the costs
 *    of opt_einsum's 'optimal', 'dp' and 'greedy' paths.  We require
 *    flops == exact, and flops <= each opt_einsum cost;
 *  - every returned path is replayed here with a plain letter-string
 *    implementation (no bitsets, no subsets) that checks it is a valid
 *    linear contraction sequence and recomputes flops and the largest
 *    intermediate;
 *  - for terms of up to 6 operands, all linear paths are enumerated here
 *    by brute force and the minimum cost must equal ours.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "order.h"

/* ---- an independent replay on letter strings ------------------------- */

typedef struct Lts { char s[257]; } Lts;   /* a set of letters, as a string */

static int lts_has(const Lts *x, char c) { return c && strchr(x->s, c) != NULL; }

static void lts_add(Lts *x, char c)
{
    if (!lts_has(x, c)) {
        size_t l = strlen(x->s);
        x->s[l] = c;
        x->s[l + 1] = 0;
    }
}

static double lts_size(const Lts *x, const int64_t *sizes)
{
    double p = 1;
    for (const char *q = x->s; *q; q++) p *= (double)sizes[(unsigned char)*q];
    return p;
}

/* Applies one step (a, b) to cur[0..*m); returns its flops, sets *rsize.
 * Returns -1 on an invalid step. */
static double apply_step(Lts *cur, int *m, int a, int b, const char *out,
                         const int64_t *sizes, double *rsize)
{
    if (a < 0 || b <= a || b >= *m) return -1;
    Lts all = { { 0 } }, res = { { 0 } };
    for (const char *q = cur[a].s; *q; q++) lts_add(&all, *q);
    for (const char *q = cur[b].s; *q; q++) lts_add(&all, *q);
    int summed = 0;
    for (const char *q = all.s; *q; q++) {
        int keep = strchr(out, *q) != NULL;
        for (int k = 0; k < *m && !keep; k++)
            if (k != a && k != b && lts_has(&cur[k], *q)) keep = 1;
        if (keep) lts_add(&res, *q); else summed = 1;
    }
    double f = lts_size(&all, sizes) * (summed ? 2 : 1);
    *rsize = lts_size(&res, sizes);
    Lts tmp[ORDER_MAX_OPS];
    int t = 0;
    for (int k = 0; k < *m; k++)
        if (k != a && k != b) tmp[t++] = cur[k];
    tmp[t++] = res;
    memcpy(cur, tmp, (size_t)t * sizeof *cur);
    *m = t;
    return f;
}

static void init_sets(Lts *cur, int n, const char *const *ops)
{
    for (int i = 0; i < n; i++) {
        cur[i].s[0] = 0;
        for (const char *q = ops[i]; *q; q++) lts_add(&cur[i], *q);
    }
}

/* Checks res is a valid path for the term and its numbers are right. */
static void check_path(int n, const char *const *ops, const char *out, const int64_t *sizes,
                       const OrderResult *res)
{
    Lts cur[ORDER_MAX_OPS];
    int m = n;
    init_sets(cur, n, ops);
    double fl = 0, big = 0;
    ck_assert_int_eq(res->nsteps, n - 1);
    for (int s = 0; s < res->nsteps; s++) {
        double rs;
        double f = apply_step(cur, &m, res->steps[s].a, res->steps[s].b, out, sizes, &rs);
        ck_assert_msg(f >= 0, "step %d (%d,%d) invalid with %d operands", s,
                      res->steps[s].a, res->steps[s].b, m);
        fl += f;
        if (rs > big) big = rs;
    }
    ck_assert_int_eq(m, 1);
    if (n >= 2) {
        ck_assert_msg(fl == res->flops, "replayed flops %.17g != %.17g", fl, res->flops);
        ck_assert_msg(big == res->max_intermediate, "replayed max %.17g != %.17g",
                      big, res->max_intermediate);
    }
}

/* Minimum cost over all linear paths (brute force). */
static double brute_min(Lts *cur, int m, const char *out, const int64_t *sizes)
{
    if (m == 1) return 0;
    double best = -1;
    for (int a = 0; a < m; a++)
        for (int b = a + 1; b < m; b++) {
            Lts nxt[ORDER_MAX_OPS];
            int mm = m;
            double rs;
            memcpy(nxt, cur, (size_t)m * sizeof *cur);
            double f = apply_step(nxt, &mm, a, b, out, sizes, &rs);
            double c = f + brute_min(nxt, mm, out, sizes);
            if (best < 0 || c < best) best = c;
        }
    return best;
}

/* ---- fixture parsing ------------------------------------------------- */

typedef struct Term {
    int n;
    char buf[512];
    char *ops[ORDER_MAX_OPS];
    char *out;
    int64_t sizes[256];
} Term;

/* Parses "ab,bc->ac" and "a=2,b=3,c=4" into t.  Returns 0 or -1. */
static int parse_term(Term *t, const char *eq, const char *sz)
{
    memset(t, 0, sizeof *t);
    if (strlen(eq) >= sizeof t->buf) return -1;
    strcpy(t->buf, eq);
    char *arrow = strstr(t->buf, "->");
    if (!arrow) return -1;
    *arrow = 0;
    t->out = arrow + 2;
    char *p = t->buf;
    for (;;) {
        if (t->n >= ORDER_MAX_OPS) return -1;
        t->ops[t->n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    for (int c = 0; c < 256; c++) t->sizes[c] = 1;
    const char *q = strcmp(sz, "-") == 0 ? "" : sz;
    while (*q) {
        unsigned char letter = (unsigned char)q[0];
        if (q[1] != '=') return -1;
        char *end;
        t->sizes[letter] = strtoll(q + 2, &end, 10);
        q = end;
        if (*q == ',') q++;
    }
    return 0;
}

static FILE *open_fixture(const char *rel)
{
    const char *root = getenv("UEAJ_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root && *root ? root : ".", rel);
    return fopen(path, "r");
}

static double num_or_neg(const char *s) { return strcmp(s, "-") == 0 ? -1 : strtod(s, NULL); }

START_TEST(test_fixture)
{
    FILE *f = open_fixture("tests/fixtures/order/terms.txt");
    ck_assert_msg(f != NULL, "cannot open tests/fixtures/order/terms.txt (set UEAJ_ROOT)");
    char line[2048];
    int rows = 0, exact_rows = 0, eq_optimal = 0, lt_optimal = 0, brute = 0, greedy_rows = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char eq[600], sz[600], ex[32], oc[32], ob[32], dc[32], gc[32];
        int n;
        ck_assert_int_eq(sscanf(line, "%599s %599s %d %31s %31s %31s %31s %31s",
                                eq, sz, &n, ex, oc, ob, dc, gc), 8);
        Term t;
        ck_assert_int_eq(parse_term(&t, eq, sz), 0);
        ck_assert_int_eq(t.n, n);
        OrderResult r;
        ck_assert_int_eq(order_contract(n, (const char *const *)t.ops, t.out, t.sizes, &r), 0);
        check_path(n, (const char *const *)t.ops, t.out, t.sizes, &r);
        double vex = num_or_neg(ex), voc = num_or_neg(oc), vdc = num_or_neg(dc),
               vgc = num_or_neg(gc);
        if (vex >= 0) {
            ck_assert_msg(r.exact == 1, "%s: not searched exactly", eq);
            ck_assert_msg(r.flops == vex, "%s: flops %.17g, exact optimum %.17g", eq, r.flops, vex);
            exact_rows++;
        }
        if (!r.exact) greedy_rows++;
        if (vex < 0)
            fprintf(stderr, "order: n=%d %s: ours %.0f, opt_einsum dp %s, greedy %s\n",
                    n, r.exact ? "exact" : "greedy+reconf", r.flops, dc, gc);
        if (voc >= 0) {
            ck_assert_msg(r.flops <= voc, "%s: %.17g > opt_einsum optimal %.17g", eq, r.flops, voc);
            if (r.flops == voc) eq_optimal++; else lt_optimal++;
        }
        if (vdc >= 0)
            ck_assert_msg(r.flops <= vdc, "%s: %.17g > opt_einsum dp %.17g", eq, r.flops, vdc);
        if (vgc >= 0)
            ck_assert_msg(r.flops <= vgc, "%s: %.17g > opt_einsum greedy %.17g", eq, r.flops, vgc);
        if (n >= 2 && n <= 6) {
            Lts cur[ORDER_MAX_OPS];
            init_sets(cur, n, (const char *const *)t.ops);
            double b = brute_min(cur, n, t.out, t.sizes);
            ck_assert_msg(b == r.flops, "%s: brute force %.17g, ours %.17g", eq, b, r.flops);
            brute++;
        }
        /* deterministic */
        OrderResult r2;
        ck_assert_int_eq(order_contract(n, (const char *const *)t.ops, t.out, t.sizes, &r2), 0);
        ck_assert(memcmp(&r, &r2, sizeof r) == 0);
        rows++;
    }
    fclose(f);
    ck_assert_int_ge(rows, 100);
    ck_assert_int_ge(exact_rows, 100);
    fprintf(stderr, "order: %d terms (%d exact, %d greedy range, %d brute-forced); "
            "equal to opt_einsum 'optimal' in %d, cheaper in %d\n",
            rows, exact_rows, greedy_rows, brute, eq_optimal, lt_optimal);
}
END_TEST

START_TEST(test_transnormer)
{
    const char *ops[] = { "bnd", "dhik", "bmz", "zhk", "bmy", "yhv", "nm" };
    int64_t sz[256];
    for (int c = 0; c < 256; c++) sz[c] = 1;
    sz['b'] = 2; sz['n'] = sz['m'] = 512; sz['d'] = sz['z'] = sz['y'] = 768;
    sz['h'] = 6; sz['i'] = 2; sz['k'] = sz['v'] = 64;
    OrderResult r;
    ck_assert_int_eq(order_contract(7, ops, "bnhiv", sz, &r), 0);
    ck_assert_int_eq(r.exact, 1);
    check_path(7, ops, "bnhiv", sz, &r);
    double naive = 2.0 * 512 * 512 * 6 * 2 * 64 * 64;   /* b n m h i k v */
    /* opt_einsum 'optimal': opt_cost 4032823296, largest 6291456 (= h i b n m) */
    ck_assert_msg(r.flops == 4032823296.0, "flops %.17g", r.flops);
    ck_assert_msg(r.max_intermediate == 6291456.0, "max %.17g", r.max_intermediate);
    ck_assert(r.max_intermediate * 1000 < naive);
    fprintf(stderr, "order: TransNormer path");
    for (int s = 0; s < r.nsteps; s++) fprintf(stderr, " (%d,%d)", r.steps[s].a, r.steps[s].b);
    fprintf(stderr, " flops %.0f largest %.0f\n", r.flops, r.max_intermediate);
}
END_TEST

START_TEST(test_small_cases)
{
    int64_t sz[256];
    for (int c = 0; c < 256; c++) sz[c] = 1;
    sz['a'] = 2; sz['b'] = 3; sz['c'] = 4; sz['d'] = 5;
    OrderResult r;
    /* the worked example of order.c */
    const char *chain[] = { "ab", "bc", "cd" };
    ck_assert_int_eq(order_contract(3, chain, "ad", sz, &r), 0);
    ck_assert_int_eq(r.nsteps, 2);
    ck_assert_int_eq(r.steps[0].a, 0); ck_assert_int_eq(r.steps[0].b, 1);
    ck_assert_int_eq(r.steps[1].a, 0); ck_assert_int_eq(r.steps[1].b, 1);
    ck_assert(r.flops == 128 && r.max_intermediate == 10);
    /* one operand: opt_einsum's cost of the path [(0,)] */
    const char *tr[] = { "aab" };
    ck_assert_int_eq(order_contract(1, tr, "b", sz, &r), 0);
    ck_assert_int_eq(r.nsteps, 0);
    ck_assert(r.flops == 12 && r.max_intermediate == 3);
    /* errors */
    const char *many[ORDER_MAX_OPS + 1];
    for (int i = 0; i <= ORDER_MAX_OPS; i++) many[i] = "a";
    ck_assert_int_eq(order_contract(ORDER_MAX_OPS + 1, many, "a", sz, &r), -1);
    ck_assert_int_eq(order_contract(0, many, "a", sz, &r), -1);
    ck_assert_int_eq(order_contract(2, many, NULL, sz, &r), -1);
    sz['a'] = -1;
    ck_assert_int_eq(order_contract(2, many, "a", sz, &r), -1);
    ck_assert_int_eq(r.nsteps, 0);
    /* the largest: 32 operands (greedy), a ring of matrices */
    sz['a'] = 2;
    char ring[ORDER_MAX_OPS][3];
    char *rp[ORDER_MAX_OPS];
    for (int i = 0; i < ORDER_MAX_OPS; i++) {
        ring[i][0] = (char)(i < 26 ? 'A' + i : 'a' + (i - 26));
        int j = (i + 1) % ORDER_MAX_OPS;
        ring[i][1] = (char)(j < 26 ? 'A' + j : 'a' + (j - 26));
        ring[i][2] = 0;
        rp[i] = ring[i];
        sz[(unsigned char)ring[i][0]] = 2 + i % 3;
    }
    ck_assert_int_eq(order_contract(ORDER_MAX_OPS, (const char *const *)rp, "", sz, &r), 0);
    ck_assert_int_eq(r.exact, 0);
    check_path(ORDER_MAX_OPS, (const char *const *)rp, "", sz, &r);
}
END_TEST

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Random terms of 12 and 14 operands: exact, valid, and quick. */
START_TEST(test_speed)
{
    uint64_t x = 88172645463325252ull;
    for (int n = 12; n <= ORDER_EXACT_MAX; n += 2) {
        char ops[ORDER_MAX_OPS][5];
        char *op[ORDER_MAX_OPS];
        int64_t sz[256];
        for (int c = 0; c < 256; c++) sz[c] = 1;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 3; k++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                ops[i][k] = (char)('a' + x % 16);
            }
            ops[i][3] = 0;
            op[i] = ops[i];
        }
        for (int c = 'a'; c < 'a' + 16; c++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            sz[c] = 2 + (int64_t)(x % 30);
        }
        OrderResult r;
        double t0 = now_s();
        ck_assert_int_eq(order_contract(n, (const char *const *)op, "abc", sz, &r), 0);
        double dt = now_s() - t0;
        ck_assert_int_eq(r.exact, 1);
        check_path(n, (const char *const *)op, "abc", sz, &r);
        fprintf(stderr, "order: n=%d exact search %.1f ms\n", n, dt * 1e3);
        ck_assert(dt < 5.0);   /* generous: sanitizers, loaded machines */
    }
}
END_TEST

extern Suite *suite_order(void);
Suite *suite_order(void)
{
    Suite *s = suite_create("order");
    TCase *tc = tcase_create("order");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fixture);
    tcase_add_test(tc, test_transnormer);
    tcase_add_test(tc, test_small_cases);
    tcase_add_test(tc, test_speed);
    suite_add_tcase(s, tc);
    return s;
}
