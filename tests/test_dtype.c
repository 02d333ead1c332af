/* test_dtype.c - dtype names and bit-exact conversions.
 *
 * Three kinds of evidence, none of which reuses dtype.c's own logic:
 *   1. fixtures written by tests/gen_dtype_fixtures.py from ml_dtypes and
 *      NumPy, cross-checked there against an exact rational reference
 *      (f32 and f64 inputs -> bf16/f16/e4m3fn/e5m2, all 256 fp8 decodes);
 *   2. exhaustive checks against textbook formulas: every bf16/f16/fp8
 *      code decodes to (-1)^s * 2^(e-bias) * 1.f (or the subnormal form),
 *      and for every pair of adjacent codes the exact midpoint (computed in
 *      double, where it is exact) rounds to the even code while the doubles
 *      just either side of it round to the nearer code;
 *   3. hand-picked cases for the documented overflow/NaN rules, integer
 *      conversions, saturation and every (src, dst) type pair.
 * Loops count mismatches and assert once with the first one: a Check
 * assertion per element would be slow (each one logs its location).
 */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"

typedef struct Fails { int n; char first[256]; } Fails;

static void note(Fails *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(Fails *f, const char *fmt, ...)
{
    if (f->n++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->first, sizeof f->first, fmt, ap);
        va_end(ap);
    }
}

#define ASSERT_NO_FAILS(f) ck_assert_msg((f).n == 0, "%d mismatches, first: %s", (f).n, (f).first)

static uint32_t fbits(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static float bitsf(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
static double bitsd(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

/* ---- fixtures ---- */

typedef struct Row { uint64_t in; unsigned bf16, f16, e4m3, e5m2; } Row;

static FILE *open_fixture(const char *name)
{
    const char *root = getenv("UEAJ_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/dtype/%s", root && *root ? root : ".", name);
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "cannot open fixture %s (set UEAJ_ROOT to the project root)", path);
    return fp;
}

static Row *read_rows(const char *name, size_t *count)
{
    FILE *fp = open_fixture(name);
    size_t n = 0, cap = 1024;
    Row *rows = malloc(cap * sizeof *rows);
    char line[256];
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        Row r;
        int k = sscanf(line, "%" SCNx64 " %x %x %x %x", &r.in, &r.bf16, &r.f16, &r.e4m3, &r.e5m2);
        ck_assert_msg(k == 5, "%s: bad line '%s'", name, line);
        if (n == cap) rows = realloc(rows, (cap *= 2) * sizeof *rows);
        rows[n++] = r;
    }
    fclose(fp);
    *count = n;
    return rows;
}

START_TEST(test_names)
{
    for (int t = 1; t < DT_COUNT; t++) {
        DType back = DT_NONE;
        ck_assert_msg(dtype_parse(dtype_name((DType)t), &back) && back == (DType)t,
                      "name %s does not parse back", dtype_name((DType)t));
        ck_assert(dtype_from_st_name(dtype_st_name((DType)t), &back) && back == (DType)t);
        ck_assert(dtype_parse(dtype_st_name((DType)t), &back) && back == (DType)t);
        ck_assert_uint_gt(dtype_size((DType)t), 0);
    }
    static const struct { const char *s; DType t; } cases[] = {
        { "float32", DT_F32 }, { "fp32", DT_F32 }, { "F32", DT_F32 },
        { "bfloat16", DT_BF16 }, { "BF16", DT_BF16 }, { "fp8", DT_F8E4M3 },
        { "e4m3", DT_F8E4M3 }, { "F8_E4M3", DT_F8E4M3 }, { "e5m2", DT_F8E5M2 },
        { "float16", DT_F16 }, { "fp16", DT_F16 }, { "f8e5m2", DT_F8E5M2 },
        { "float64", DT_F64 }, { "int8", DT_I8 }, { "uint64", DT_U64 }, { "bool", DT_BOOL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        DType t = DT_NONE;
        ck_assert_msg(dtype_parse(cases[i].s, &t) && t == cases[i].t, "alias %s", cases[i].s);
    }
    DType t = DT_F32;
    ck_assert(!dtype_parse("f33", &t));
    ck_assert(!dtype_parse("", &t));
    ck_assert(!dtype_parse(NULL, &t));
    ck_assert(!dtype_from_st_name("f32", &t));     /* st names are exact */
    ck_assert(!dtype_from_st_name("F8_E4M3FN", &t));
    ck_assert_int_eq(t, DT_F32);                    /* untouched on failure */
    ck_assert_uint_eq(dtype_size(DT_NONE), 0);
    ck_assert_uint_eq(dtype_size(DT_F64), 8);
    ck_assert_uint_eq(dtype_size(DT_BF16), 2);
    ck_assert_uint_eq(dtype_size(DT_F8E5M2), 1);
    ck_assert_uint_eq(dtype_size(DT_BOOL), 1);
    ck_assert_str_eq(dtype_name(DT_F8E4M3), "f8e4m3");
    ck_assert_str_eq(dtype_st_name(DT_F8E5M2), "F8_E5M2");
    ck_assert_ptr_null(dtype_st_name(DT_NONE));
    ck_assert(dtype_is_float(DT_BF16) && dtype_is_float(DT_F64) && !dtype_is_float(DT_I32));
    ck_assert(dtype_is_fp8(DT_F8E4M3) && dtype_is_fp8(DT_F8E5M2) && !dtype_is_fp8(DT_F16));
}
END_TEST

START_TEST(test_fixture_f32)
{
    size_t n;
    Row *rows = read_rows("f32_to_narrow.txt", &n);
    ck_assert_uint_gt(n, 5000);
    float *in = malloc(n * sizeof *in);
    uint16_t *bb = malloc(n * 2), *hh = malloc(n * 2);
    uint8_t *e4 = malloc(n), *e5 = malloc(n);
    Fails f = { 0 };
    for (size_t i = 0; i < n; i++) {
        float x = bitsf((uint32_t)rows[i].in);
        in[i] = x;
        unsigned got[4] = { f32_to_bf16(x), f32_to_f16(x), f32_to_e4m3(x), f32_to_e5m2(x) };
        unsigned want[4] = { rows[i].bf16, rows[i].f16, rows[i].e4m3, rows[i].e5m2 };
        static const char *nm[4] = { "bf16", "f16", "e4m3", "e5m2" };
        for (int k = 0; k < 4; k++)
            if (got[k] != want[k])
                note(&f, "f32 %08" PRIx64 " -> %s: got %x want %x", rows[i].in, nm[k], got[k], want[k]);
        /* The double path must agree: f32 -> f64 is exact. */
        if (f64_to_bf16(x) != want[0] || f64_to_f16(x) != want[1] ||
            f64_to_e4m3(x) != want[2] || f64_to_e5m2(x) != want[3])
            note(&f, "f64 path differs for f32 %08" PRIx64, rows[i].in);
    }
    ASSERT_NO_FAILS(f);
    /* Bulk conversion gives the same bits. */
    ck_assert(dtype_convert(bb, DT_BF16, in, DT_F32, n));
    ck_assert(dtype_convert(hh, DT_F16, in, DT_F32, n));
    ck_assert(dtype_convert(e4, DT_F8E4M3, in, DT_F32, n));
    ck_assert(dtype_convert(e5, DT_F8E5M2, in, DT_F32, n));
    for (size_t i = 0; i < n; i++)
        if (bb[i] != rows[i].bf16 || hh[i] != rows[i].f16 || e4[i] != rows[i].e4m3 || e5[i] != rows[i].e5m2)
            note(&f, "bulk f32 %08" PRIx64, rows[i].in);
    ASSERT_NO_FAILS(f);
    free(in); free(bb); free(hh); free(e4); free(e5); free(rows);
}
END_TEST

START_TEST(test_fixture_f64)
{
    size_t n;
    Row *rows = read_rows("f64_to_narrow.txt", &n);
    ck_assert_uint_gt(n, 2000);
    double *in = malloc(n * sizeof *in);
    uint16_t *bb = malloc(n * 2), *hh = malloc(n * 2);
    uint8_t *e4 = malloc(n), *e5 = malloc(n);
    Fails f = { 0 };
    int twice[4] = { 0 };
    for (size_t i = 0; i < n; i++) {
        double d = bitsd(rows[i].in);
        in[i] = d;
        unsigned got[4] = { f64_to_bf16(d), f64_to_f16(d), f64_to_e4m3(d), f64_to_e5m2(d) };
        unsigned want[4] = { rows[i].bf16, rows[i].f16, rows[i].e4m3, rows[i].e5m2 };
        unsigned via32[4] = { f32_to_bf16((float)d), f32_to_f16((float)d),
                              f32_to_e4m3((float)d), f32_to_e5m2((float)d) };
        for (int k = 0; k < 4; k++) {
            if (got[k] != want[k])
                note(&f, "f64 %016" PRIx64 " fmt %d: got %x want %x", rows[i].in, k, got[k], want[k]);
            twice[k] += via32[k] != want[k];
        }
        /* dtype_store performs the same single rounding. */
        uint16_t h;
        dtype_store(&h, DT_BF16, 0, d);
        if (h != want[0]) note(&f, "dtype_store bf16 %016" PRIx64, rows[i].in);
        uint8_t b;
        dtype_store(&b, DT_F8E4M3, 0, d);
        if (b != want[2]) note(&f, "dtype_store e4m3 %016" PRIx64, rows[i].in);
    }
    ASSERT_NO_FAILS(f);
    /* The table really exposes double rounding for every format. */
    for (int k = 0; k < 4; k++)
        ck_assert_msg(twice[k] > 50, "format %d: only %d double-rounding rows", k, twice[k]);
    ck_assert(dtype_convert(bb, DT_BF16, in, DT_F64, n));
    ck_assert(dtype_convert(hh, DT_F16, in, DT_F64, n));
    ck_assert(dtype_convert(e4, DT_F8E4M3, in, DT_F64, n));
    ck_assert(dtype_convert(e5, DT_F8E5M2, in, DT_F64, n));
    for (size_t i = 0; i < n; i++)
        if (bb[i] != rows[i].bf16 || hh[i] != rows[i].f16 || e4[i] != rows[i].e4m3 || e5[i] != rows[i].e5m2)
            note(&f, "bulk f64 %016" PRIx64, rows[i].in);
    ASSERT_NO_FAILS(f);
    free(in); free(bb); free(hh); free(e4); free(e5); free(rows);
}
END_TEST

START_TEST(test_fixture_fp8_decode)
{
    FILE *fp = open_fixture("fp8_decode.txt");
    char line[128];
    int n = 0;
    Fails f = { 0 };
    uint8_t codes[256];
    uint32_t want4[256], want5[256];
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#') continue;
        unsigned c, a, b;
        ck_assert_int_eq(sscanf(line, "%x %x %x", &c, &a, &b), 3);
        ck_assert_uint_eq(c, (unsigned)n);
        codes[n] = (uint8_t)c; want4[n] = a; want5[n] = b;
        if (fbits(e4m3_to_f32((uint8_t)c)) != a) note(&f, "e4m3 %02x: %08x want %08x", c, fbits(e4m3_to_f32((uint8_t)c)), a);
        if (fbits(e5m2_to_f32((uint8_t)c)) != b) note(&f, "e5m2 %02x: %08x want %08x", c, fbits(e5m2_to_f32((uint8_t)c)), b);
        n++;
    }
    fclose(fp);
    ck_assert_int_eq(n, 256);
    ASSERT_NO_FAILS(f);
    float out4[256], out5[256];
    double d4[256];
    ck_assert(dtype_convert(out4, DT_F32, codes, DT_F8E4M3, 256));
    ck_assert(dtype_convert(out5, DT_F32, codes, DT_F8E5M2, 256));
    ck_assert(dtype_convert(d4, DT_F64, codes, DT_F8E4M3, 256));
    for (int i = 0; i < 256; i++) {
        if (fbits(out4[i]) != want4[i] || fbits(out5[i]) != want5[i]) note(&f, "bulk fp8 decode %02x", i);
        if (fbits((float)d4[i]) != want4[i]) note(&f, "fp8 -> f64 %02x", i);
    }
    ASSERT_NO_FAILS(f);
}
END_TEST

/* ---- exhaustive checks against textbook formulas ---- */

typedef struct Fmt {
    const char *name;
    int width, mant, bias;
    bool has_inf;
    float (*dec)(uint32_t);
    uint32_t (*enc32)(float);
    uint32_t (*enc64)(double);
} Fmt;

static float dec_bf16(uint32_t c) { return bf16_to_f32((uint16_t)c); }
static float dec_f16(uint32_t c) { return f16_to_f32((uint16_t)c); }
static float dec_e4(uint32_t c) { return e4m3_to_f32((uint8_t)c); }
static float dec_e5(uint32_t c) { return e5m2_to_f32((uint8_t)c); }
static uint32_t e32_bf16(float x) { return f32_to_bf16(x); }
static uint32_t e32_f16(float x) { return f32_to_f16(x); }
static uint32_t e32_e4(float x) { return f32_to_e4m3(x); }
static uint32_t e32_e5(float x) { return f32_to_e5m2(x); }
static uint32_t e64_bf16(double x) { return f64_to_bf16(x); }
static uint32_t e64_f16(double x) { return f64_to_f16(x); }
static uint32_t e64_e4(double x) { return f64_to_e4m3(x); }
static uint32_t e64_e5(double x) { return f64_to_e5m2(x); }

static const Fmt FMTS[4] = {
    { "bf16", 16, 7, 127, true, dec_bf16, e32_bf16, e64_bf16 },
    { "f16", 16, 10, 15, true, dec_f16, e32_f16, e64_f16 },
    { "e4m3", 8, 3, 7, false, dec_e4, e32_e4, e64_e4 },
    { "e5m2", 8, 2, 15, true, dec_e5, e32_e5, e64_e5 },
};

/* Classify a code: 0 finite, 1 inf, 2 NaN; *val gets the formula value. */
static int formula(const Fmt *m, uint32_t c, double *val)
{
    int ebits = m->width - 1 - m->mant;
    uint32_t sign = c >> (m->width - 1);
    uint32_t e = (c >> m->mant) & ((1u << ebits) - 1);
    uint32_t frac = c & ((1u << m->mant) - 1);
    uint32_t top = (1u << ebits) - 1;
    if (m->has_inf && e == top) return frac ? 2 : 1;
    if (!m->has_inf && e == top && frac == (1u << m->mant) - 1) return 2;
    double v = e == 0 ? ldexp(frac, 1 - m->bias - m->mant)
                      : ldexp(frac + (1u << m->mant), (int)e - m->bias - m->mant);
    *val = sign ? -v : v;
    return 0;
}

START_TEST(test_exhaustive_decode)
{
    for (int k = 0; k < 4; k++) {
        const Fmt *m = &FMTS[k];
        Fails f = { 0 };
        int finite = 0;
        for (uint32_t c = 0; c < (1u << m->width); c++) {
            double v = 0;
            int cls = formula(m, c, &v);
            float got = m->dec(c);
            bool neg = c >> (m->width - 1);
            bool sgn = signbit(got) != 0;
            if (cls == 0) {
                finite++;
                /* Exact value and the sign of zero. */
                if ((double)got != v || sgn != neg)
                    note(&f, "%s %x: got %a want %a", m->name, c, (double)got, v);
            } else if (cls == 1) {
                if (!isinf(got) || sgn != neg) note(&f, "%s %x: not inf", m->name, c);
            } else {
                if (!isnan(got) || sgn != neg) note(&f, "%s %x: not NaN", m->name, c);
            }
        }
        ASSERT_NO_FAILS(f);
        int expect_finite = m->width == 16 ? 65536 - 2 * (1 << m->mant)
                          : m->has_inf ? 256 - 8 : 254;
        ck_assert_int_eq(finite, expect_finite);
    }
    /* bf16/f16 keep NaN payloads when widening; fp8 NaNs are canonical. */
    ck_assert_uint_eq(fbits(bf16_to_f32(0x7f81)), 0x7f810000u);
    ck_assert_uint_eq(fbits(bf16_to_f32(0xffc1)), 0xffc10000u);
    ck_assert_uint_eq(fbits(f16_to_f32(0x7c01)), 0x7f802000u);
    ck_assert_uint_eq(fbits(f16_to_f32(0xfe00)), 0xffc00000u);
    ck_assert_uint_eq(fbits(e4m3_to_f32(0x7f)), 0x7fc00000u);
    ck_assert_uint_eq(fbits(e4m3_to_f32(0xff)), 0xffc00000u);
    ck_assert_uint_eq(fbits(e5m2_to_f32(0x7d)), 0x7fc00000u);
    ck_assert_uint_eq(fbits(e5m2_to_f32(0xfe)), 0xffc00000u);
    ck_assert(e5m2_to_f32(0x7c) == INFINITY && e5m2_to_f32(0xfc) == -INFINITY);
    ck_assert(e4m3_to_f32(0x7e) == 448.0f && e4m3_to_f32(0x01) == 0x1p-9f);
    ck_assert(e5m2_to_f32(0x7b) == 57344.0f && e5m2_to_f32(0x01) == 0x1p-16f);
}
END_TEST

static uint32_t nonneg_max_finite(const Fmt *m)
{
    int ebits = m->width - 1 - m->mant;
    uint32_t top = (1u << ebits) - 1;
    return m->has_inf ? (top << m->mant) - 1 : (top << m->mant) + (1u << m->mant) - 2;
}

START_TEST(test_exhaustive_rounding)
{
    for (int k = 0; k < 4; k++) {
        const Fmt *m = &FMTS[k];
        uint32_t maxc = nonneg_max_finite(m);
        uint32_t sbit = 1u << (m->width - 1);
        Fails f = { 0 };
        long checked = 0;
        for (uint32_t c = 0; c <= maxc; c++) {
            double v0, v1;
            formula(m, c, &v0);
            /* Every finite value round-trips, from f32 and f64, both signs. */
            for (int s = 0; s < 2; s++) {
                double v = s ? -v0 : v0;
                uint32_t want = c | (s ? sbit : 0);
                if (m->enc32((float)v) != want || m->enc64(v) != want)
                    note(&f, "%s: %a does not round-trip to %x", m->name, v, want);
            }
            if (c == maxc) {
                /* Overflow threshold: max + half an ulp. */
                double ulp = v0 - (formula(m, c - 1, &v1), v1);
                double t = v0 + ulp / 2;
                /* IEEE formats: the max has an odd fraction, so the tie
                 * goes to inf.  e4m3fn: 448 = 0x7e is even, so the tie
                 * (464) stays 448 and only values above it become NaN. */
                uint32_t over = m->has_inf ? (nonneg_max_finite(m) + 1) : 0x7f;
                uint32_t tie = m->has_inf ? over : c;
                if (m->enc64(t) != tie) note(&f, "%s: threshold %a -> %x", m->name, t, m->enc64(t));
                if (m->enc64(-t) != (tie | sbit)) note(&f, "%s: -threshold", m->name);
                if (m->enc64(nextafter(t, 0)) != c) note(&f, "%s: below threshold", m->name);
                if (m->enc64(nextafter(t, INFINITY)) != over) note(&f, "%s: above threshold", m->name);
                if (m->enc32(nextafterf((float)t, 0)) != c) note(&f, "%s: f32 below threshold", m->name);
                continue;
            }
            formula(m, c + 1, &v1);
            double mid = (v0 + v1) / 2;             /* exact in double */
            uint32_t even = (c & 1) ? c + 1 : c;
            double below = nextafter(mid, 0), above = nextafter(mid, INFINITY);
            for (int s = 0; s < 2; s++) {
                double sg = s ? -1 : 1;
                uint32_t sb = s ? sbit : 0;
                if (m->enc64(sg * mid) != (even | sb))
                    note(&f, "%s: midpoint %a -> %x want %x", m->name, sg * mid, m->enc64(sg * mid), even | sb);
                if (m->enc64(sg * below) != (c | sb))
                    note(&f, "%s: below midpoint %a", m->name, sg * below);
                if (m->enc64(sg * above) != ((c + 1) | sb))
                    note(&f, "%s: above midpoint %a", m->name, sg * above);
                /* The midpoint is exact in f32 too (at most 12 significant bits). */
                float mf = (float)(sg * mid);
                if ((double)mf == sg * mid) {
                    if (m->enc32(mf) != (even | sb)) note(&f, "%s: f32 midpoint %a", m->name, (double)mf);
                    if (m->enc32(nextafterf(mf, 0)) != (c | sb)) note(&f, "%s: f32 below %a", m->name, (double)mf);
                    if (m->enc32(nextafterf(mf, sg * INFINITY)) != ((c + 1) | sb))
                        note(&f, "%s: f32 above %a", m->name, (double)mf);
                } else {
                    note(&f, "%s: midpoint %a not exact in f32", m->name, mid);
                }
                checked++;
            }
        }
        ASSERT_NO_FAILS(f);
        ck_assert_int_eq(checked, 2L * maxc);
    }
}
END_TEST

/* ---- documented special cases ---- */

START_TEST(test_overflow_and_nan)
{
    /* float8_e4m3fn: no infinities; values rounding above 448 are NaN. */
    ck_assert_uint_eq(f32_to_e4m3(448.0f), 0x7e);
    ck_assert_uint_eq(f32_to_e4m3(464.0f), 0x7e);          /* tie -> even (448) */
    ck_assert_uint_eq(f32_to_e4m3(nextafterf(464.0f, 1e9f)), 0x7f);
    ck_assert_uint_eq(f32_to_e4m3(480.0f), 0x7f);
    ck_assert_uint_eq(f32_to_e4m3(1e30f), 0x7f);
    ck_assert_uint_eq(f32_to_e4m3(-1e30f), 0xff);
    ck_assert_uint_eq(f32_to_e4m3(INFINITY), 0x7f);
    ck_assert_uint_eq(f32_to_e4m3(-INFINITY), 0xff);
    ck_assert_uint_eq(f32_to_e4m3(NAN), 0x7f);
    ck_assert_uint_eq(f32_to_e4m3(-NAN), 0xff);
    ck_assert_uint_eq(f64_to_e4m3(464.0000001), 0x7f);
    ck_assert_uint_eq(f64_to_e4m3(1e300), 0x7f);
    ck_assert_uint_eq(f32_to_e4m3(0x1p-10f), 0x00);        /* half the least subnormal: tie -> 0 */
    ck_assert_uint_eq(f32_to_e4m3(0x1.000002p-10f), 0x01);
    ck_assert_uint_eq(f32_to_e4m3(-0.0f), 0x80);
    /* e5m2, f16, bf16 overflow to infinity. */
    ck_assert_uint_eq(f32_to_e5m2(57344.0f), 0x7b);
    ck_assert_uint_eq(f32_to_e5m2(61439.0f), 0x7b);
    ck_assert_uint_eq(f32_to_e5m2(61440.0f), 0x7c);
    ck_assert_uint_eq(f32_to_e5m2(-1e30f), 0xfc);
    ck_assert_uint_eq(f32_to_e5m2(INFINITY), 0x7c);
    ck_assert_uint_eq(f32_to_e5m2(NAN), 0x7e);
    ck_assert_uint_eq(f32_to_e5m2(-NAN), 0xfe);
    ck_assert_uint_eq(f32_to_f16(65519.0f), 0x7bff);
    ck_assert_uint_eq(f32_to_f16(65520.0f), 0x7c00);
    ck_assert_uint_eq(f32_to_f16(-65520.0f), 0xfc00);
    ck_assert_uint_eq(f32_to_f16(0x1p-25f), 0x0000);
    ck_assert_uint_eq(f32_to_f16(0x1.8p-25f), 0x0001);
    ck_assert_uint_eq(f32_to_f16(bitsf(0x7f800001)), 0x7e00);  /* sNaN -> quiet */
    ck_assert_uint_eq(f32_to_f16(bitsf(0xff812345)), 0xfe00);
    ck_assert_uint_eq(f32_to_bf16(bitsf(0x7f7fffff)), 0x7f80);  /* FLT_MAX rounds up to inf */
    ck_assert_uint_eq(f32_to_bf16(bitsf(0x7f7f7fff)), 0x7f7f);
    ck_assert_uint_eq(f32_to_bf16(bitsf(0x7f800001)), 0x7fc0);
    ck_assert_uint_eq(f32_to_bf16(bitsf(0xffa00000)), 0xffc0);
    ck_assert_uint_eq(f32_to_bf16(bitsf(0x00008000)), 0x0000);   /* subnormal tie -> even */
    ck_assert_uint_eq(f32_to_bf16(bitsf(0x00018000)), 0x0002);
    ck_assert_uint_eq(f64_to_bf16(1e39), 0x7f80);
    ck_assert_uint_eq(f64_to_bf16(-5e-324), 0x8000);
    ck_assert_uint_eq(f64_to_f16(bitsd(0x7ff0000000000001ull)), 0x7e00);
    /* Double rounding: 1 + 2^-8 + 2^-40 is just above a bf16 tie, but its
     * float32 is exactly the tie. */
    double d = 1.0 + 0x1p-8 + 0x1p-40;
    ck_assert_uint_eq(f64_to_bf16(d), 0x3f81);
    ck_assert_uint_eq(f32_to_bf16((float)d), 0x3f80);
    ck_assert_uint_eq(f64_to_e4m3(1.0 + 0x1p-4 + 0x1p-40), 0x39);
    ck_assert_uint_eq(f64_to_e5m2(1.0 + 0x1p-3 - 0x1p-40), 0x3c);
    ck_assert_uint_eq(f64_to_f16(1.0 + 0x1p-11 + 0x1p-40), 0x3c01);
}
END_TEST

START_TEST(test_integer_conversions)
{
    /* i64 -> bf16 rounds once from the integer: 2^60 + 2^52 + 1 is just
     * above a tie, and (double) of it is exactly the tie. */
    int64_t big[3] = { (INT64_C(1) << 60) + (INT64_C(1) << 52) + 1, -((INT64_C(1) << 60) + (INT64_C(1) << 52) + 1), INT64_MIN };
    uint16_t bf[3];
    ck_assert(dtype_convert(bf, DT_BF16, big, DT_I64, 3));
    ck_assert_uint_eq(bf[0], f64_to_bf16(0x1.02p60));
    ck_assert_uint_ne(bf[0], f64_to_bf16((double)big[0]));
    ck_assert_uint_eq(bf[1], f64_to_bf16(-0x1.02p60));
    ck_assert_uint_eq(bf[2], 0xdf00);                       /* -2^63 */
    uint64_t ub[2] = { UINT64_MAX, (UINT64_C(1) << 63) + (UINT64_C(1) << 55) + 1 };
    uint16_t h[2];
    ck_assert(dtype_convert(h, DT_F16, ub, DT_U64, 2));
    ck_assert_uint_eq(h[0], 0x7c00);
    ck_assert(dtype_convert(bf, DT_BF16, ub, DT_U64, 2));
    ck_assert_uint_eq(bf[0], 0x5f80);                       /* 2^64 */
    ck_assert_uint_eq(bf[1], 0x5f01);                       /* just above a tie */
    ck_assert_uint_eq(f64_to_bf16((double)ub[1]), 0x5f00);  /* via double: the tie */
    int32_t small[5] = { 17, 19, 500, -500, 0 };
    uint8_t e4[5];
    ck_assert(dtype_convert(e4, DT_F8E4M3, small, DT_I32, 5));
    ck_assert_uint_eq(e4[0], 0x58);                         /* 17: tie -> 16 */
    ck_assert_uint_eq(e4[1], 0x5a);                         /* 19: tie -> 20 */
    ck_assert_uint_eq(e4[2], 0x7f);
    ck_assert_uint_eq(e4[3], 0xff);
    ck_assert_uint_eq(e4[4], 0x00);
    int64_t w[2] = { (INT64_C(1) << 53) + 1, INT64_MAX };
    double wd[2];
    ck_assert(dtype_convert(wd, DT_F64, w, DT_I64, 2));
    ck_assert(wd[0] == 0x1p53 && wd[1] == 0x1p63);

    /* float -> int: truncation, saturation, NaN -> 0. */
    double fin[9] = { 3.9, -3.9, 1e10, -1e10, NAN, INFINITY, -INFINITY, -0x1p63, 0x1p63 };
    int32_t i32[9];
    int64_t i64[9];
    uint8_t u8[9];
    uint64_t u64[9];
    ck_assert(dtype_convert(i32, DT_I32, fin, DT_F64, 9));
    ck_assert(dtype_convert(i64, DT_I64, fin, DT_F64, 9));
    ck_assert(dtype_convert(u8, DT_U8, fin, DT_F64, 9));
    ck_assert(dtype_convert(u64, DT_U64, fin, DT_F64, 9));
    int32_t e32[9] = { 3, -3, INT32_MAX, INT32_MIN, 0, INT32_MAX, INT32_MIN, INT32_MIN, INT32_MAX };
    int64_t e64[9] = { 3, -3, 10000000000, -10000000000, 0, INT64_MAX, INT64_MIN, INT64_MIN, INT64_MAX };
    uint8_t eu8[9] = { 3, 0, 255, 0, 0, 255, 0, 0, 255 };
    uint64_t eu64[9] = { 3, 0, 10000000000, 0, 0, UINT64_MAX, 0, 0, UINT64_C(1) << 63 };
    for (int i = 0; i < 9; i++) {
        ck_assert_int_eq(i32[i], e32[i]);
        ck_assert_int_eq(i64[i], e64[i]);
        ck_assert_uint_eq(u8[i], eu8[i]);
        ck_assert_uint_eq(u64[i], eu64[i]);
    }
    float f300 = 300.7f;
    int8_t i8;
    ck_assert(dtype_convert(&i8, DT_I8, &f300, DT_F32, 1));
    ck_assert_int_eq(i8, 127);

    /* integer -> integer wraps. */
    int32_t src[3] = { 300, -1, -129 };
    uint8_t wu8[3];
    int8_t wi8[3];
    ck_assert(dtype_convert(wu8, DT_U8, src, DT_I32, 3));
    ck_assert(dtype_convert(wi8, DT_I8, src, DT_I32, 3));
    ck_assert(wu8[0] == 44 && wu8[1] == 255 && wu8[2] == 127);
    ck_assert(wi8[0] == 44 && wi8[1] == -1 && wi8[2] == 127);
    uint64_t umax = UINT64_MAX;
    int16_t i16;
    ck_assert(dtype_convert(&i16, DT_I16, &umax, DT_U64, 1));
    ck_assert_int_eq(i16, -1);
    int64_t neg = -2;
    uint32_t u32;
    ck_assert(dtype_convert(&u32, DT_U32, &neg, DT_I64, 1));
    ck_assert_uint_eq(u32, 0xfffffffeu);

    /* bool. */
    float fb[4] = { 0.0f, -0.0f, 2.5f, NAN };
    uint8_t bo[4];
    ck_assert(dtype_convert(bo, DT_BOOL, fb, DT_F32, 4));
    ck_assert(bo[0] == 0 && bo[1] == 0 && bo[2] == 1 && bo[3] == 1);
    uint8_t braw[2] = { 7, 0 };
    float bf32[2];
    ck_assert(dtype_convert(bf32, DT_F32, braw, DT_BOOL, 2));
    ck_assert(bf32[0] == 1.0f && bf32[1] == 0.0f);
    int64_t ib[2] = { INT64_MIN, 0 };
    ck_assert(dtype_convert(bo, DT_BOOL, ib, DT_I64, 2));
    ck_assert(bo[0] == 1 && bo[1] == 0);

    /* DT_NONE is refused; n == 0 is fine. */
    ck_assert(!dtype_convert(bo, DT_NONE, fb, DT_F32, 1));
    ck_assert(!dtype_convert(bo, DT_F32, fb, DT_NONE, 1));
    ck_assert(dtype_convert(NULL, DT_F32, NULL, DT_I8, 0));
}
END_TEST

/* Every (src, dst) pair on values exact in every type. */
START_TEST(test_all_pairs)
{
    static const double vals[6] = { 0, 1, 2, 3, 7, 96 };
    static const double bvals[6] = { 0, 1, 1, 1, 1, 1 };
    Fails f = { 0 };
    int pairs = 0;
    for (int st = 1; st < DT_COUNT; st++) {
        unsigned char src[6 * 8];
        for (int i = 0; i < 6; i++) dtype_store(src, (DType)st, (size_t)i, vals[i]);
        for (int dt = 1; dt < DT_COUNT; dt++) {
            unsigned char dst[6 * 8];
            memset(dst, 0xa5, sizeof dst);
            if (!dtype_convert(dst, (DType)dt, src, (DType)st, 6)) { note(&f, "convert %d->%d false", st, dt); continue; }
            for (int i = 0; i < 6; i++) {
                double want = (st == DT_BOOL || dt == DT_BOOL) ? bvals[i] : vals[i];
                double got = dtype_load(dst, (DType)dt, (size_t)i);
                if (got != want)
                    note(&f, "%s -> %s: element %d = %g, want %g", dtype_name((DType)st), dtype_name((DType)dt), i, got, want);
            }
            pairs++;
        }
    }
    ASSERT_NO_FAILS(f);
    ck_assert_int_eq(pairs, (DT_COUNT - 1) * (DT_COUNT - 1));
    /* dtype_load/store on negative and fractional values. */
    unsigned char b[8];
    dtype_store(b, DT_I16, 0, -2.75);
    ck_assert(dtype_load(b, DT_I16, 0) == -2.0);
    dtype_store(b, DT_U16, 0, -2.75);
    ck_assert(dtype_load(b, DT_U16, 0) == 0.0);
    dtype_store(b, DT_F16, 0, 0.1);
    ck_assert(dtype_load(b, DT_F16, 0) == (double)f16_to_f32(f64_to_f16(0.1)));
    dtype_store(b, DT_F32, 0, 0.1);
    ck_assert(dtype_load(b, DT_F32, 0) == (double)0.1f);
    dtype_store(b, DT_F8E5M2, 0, -1.0);
    ck_assert(b[0] == 0xbc && dtype_load(b, DT_F8E5M2, 0) == -1.0);
}
END_TEST

/* Bulk (fast paths and generic loop) agrees with the scalar functions on
 * random bit patterns, NaNs included. */
START_TEST(test_bulk_matches_scalar)
{
    enum { N = 20000 };
    uint32_t *bits = malloc(N * 4);
    uint64_t *dbits = malloc(N * 8);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < N; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        bits[i] = (uint32_t)s;
        dbits[i] = s;
        if (i % 3 == 0) dbits[i] = (dbits[i] & 0x800fffffffffffffull) | ((uint64_t)(1023 + (int)(s >> 40) % 40 - 25) << 52);
    }
    uint16_t *h = malloc(N * 2), *bb = malloc(N * 2);
    uint8_t *e4 = malloc(N), *e5 = malloc(N);
    float *back = malloc(N * 4);
    Fails f = { 0 };
    ck_assert(dtype_convert(h, DT_F16, bits, DT_F32, N));
    ck_assert(dtype_convert(bb, DT_BF16, bits, DT_F32, N));
    ck_assert(dtype_convert(e4, DT_F8E4M3, bits, DT_F32, N));
    ck_assert(dtype_convert(e5, DT_F8E5M2, bits, DT_F32, N));
    for (int i = 0; i < N; i++) {
        float x = bitsf(bits[i]);
        if (h[i] != f32_to_f16(x) || bb[i] != f32_to_bf16(x) || e4[i] != f32_to_e4m3(x) || e5[i] != f32_to_e5m2(x))
            note(&f, "f32 %08x", bits[i]);
    }
    ck_assert(dtype_convert(back, DT_F32, h, DT_F16, N));
    for (int i = 0; i < N; i++)
        if (fbits(back[i]) != fbits(f16_to_f32(h[i]))) note(&f, "f16 decode %04x", h[i]);
    ck_assert(dtype_convert(h, DT_F16, dbits, DT_F64, N));
    ck_assert(dtype_convert(bb, DT_BF16, dbits, DT_F64, N));
    ck_assert(dtype_convert(e4, DT_F8E4M3, dbits, DT_F64, N));
    ck_assert(dtype_convert(e5, DT_F8E5M2, dbits, DT_F64, N));
    for (int i = 0; i < N; i++) {
        double x = bitsd(dbits[i]);
        if (h[i] != f64_to_f16(x) || bb[i] != f64_to_bf16(x) || e4[i] != f64_to_e4m3(x) || e5[i] != f64_to_e5m2(x))
            note(&f, "f64 %016" PRIx64, dbits[i]);
    }
    /* f16 -> bf16 (generic path) equals decode then encode. */
    ck_assert(dtype_convert(bb, DT_BF16, h, DT_F16, N));
    for (int i = 0; i < N; i++)
        if (bb[i] != f32_to_bf16(f16_to_f32(h[i]))) note(&f, "f16->bf16 %04x", h[i]);
    ASSERT_NO_FAILS(f);
    free(bits); free(dbits); free(h); free(bb); free(e4); free(e5); free(back);
}
END_TEST

extern Suite *suite_dtype(void);
Suite *suite_dtype(void)
{
    Suite *s = suite_create("dtype");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_fixture_f32);
    tcase_add_test(tc, test_fixture_f64);
    tcase_add_test(tc, test_fixture_fp8_decode);
    tcase_add_test(tc, test_exhaustive_decode);
    tcase_add_test(tc, test_exhaustive_rounding);
    tcase_add_test(tc, test_overflow_and_nan);
    tcase_add_test(tc, test_integer_conversions);
    tcase_add_test(tc, test_all_pairs);
    tcase_add_test(tc, test_bulk_matches_scalar);
    suite_add_tcase(s, tc);
    return s;
}
