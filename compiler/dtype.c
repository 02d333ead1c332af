/* dtype.c - element types and bit-exact conversions between them.
 *
 * The narrow float formats (bf16, f16, float8_e4m3fn, float8_e5m2) are all
 * "sign, biased exponent, fraction" encodings that differ only in their
 * field widths and in what the all-ones exponent means.  So there is one
 * encoder, encode(), that takes an exact value written as sig * 2^exp (a
 * 64-bit integer significand and a binary exponent) and rounds it once, to
 * nearest with ties to even, into a format described by a FloatFmt.  Every
 * source type feeds it exactly:
 *   - a double is already sig * 2^exp (53-bit significand);
 *   - an f32 widens to double exactly, so f32_to_X(f) == f64_to_X(f);
 *   - a 64-bit integer is sig * 2^0, so i64 -> bf16 rounds once from the
 *     integer instead of twice through double.
 * Because nothing ever passes through an intermediate narrower type there
 * is no double rounding (ml_dtypes itself converts double -> bf16/f8 via
 * float, which does round twice in rare cases; the tests carry examples).
 *
 * Rounding: with the value normalised so that its leading bit sits at bit
 * `msb` of sig, the target keeps P fraction bits, so we drop
 * shift = msb - P low bits (more when the result is subnormal: one more
 * per binade below the smallest normal exponent).  The kept part q then
 * includes the implicit leading one, and adding q to (biased_exp - 1) << P
 * yields the encoding; a carry out of the fraction during rounding simply
 * bumps the exponent, and a subnormal that rounds up to 2^P becomes the
 * smallest normal - the usual IEEE trick that makes the encoding monotone.
 * Overflow is then a plain comparison of the encoded magnitude: >= the
 * infinity pattern for formats with infinities, > 0x7e (448) for e4m3fn,
 * which has none and turns overflow and infinities into NaN, as ml_dtypes
 * does.  NaNs become the target's canonical quiet NaN with the same sign.
 *
 * Decoding is exact (every narrow value is an f32): bf16 is the top half of
 * an f32; the others are assembled with ldexpf from their fields.
 *
 * Bulk conversion goes element by element through a small tagged Scalar
 * (double, int64 or uint64), which keeps integer values exact between
 * integer types and lets each side be a single switch; the common float
 * pairs have tight loops of their own.  Everything here is a pure function
 * of its arguments: no tables are built at run time and nothing is global
 * except constant data.
 */
#include "dtype.h"

#include <math.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Names                                                               */

static const struct {
    const char *name;     /* dtype_name() */
    const char *st;       /* safetensors */
    size_t size;
} type_info[DT_COUNT] = {
    [DT_NONE]   = { "none",   NULL,      0 },
    [DT_F32]    = { "f32",    "F32",     4 },
    [DT_F16]    = { "f16",    "F16",     2 },
    [DT_BF16]   = { "bf16",   "BF16",    2 },
    [DT_F8E4M3] = { "f8e4m3", "F8_E4M3", 1 },
    [DT_F8E5M2] = { "f8e5m2", "F8_E5M2", 1 },
    [DT_F64]    = { "f64",    "F64",     8 },
    [DT_I8]     = { "i8",     "I8",      1 },
    [DT_I16]    = { "i16",    "I16",     2 },
    [DT_I32]    = { "i32",    "I32",     4 },
    [DT_I64]    = { "i64",    "I64",     8 },
    [DT_U8]     = { "u8",     "U8",      1 },
    [DT_U16]    = { "u16",    "U16",     2 },
    [DT_U32]    = { "u32",    "U32",     4 },
    [DT_U64]    = { "u64",    "U64",     8 },
    [DT_BOOL]   = { "bool",   "BOOL",    1 },
};

static bool valid_type(DType t) { return (unsigned)t < DT_COUNT; }

size_t dtype_size(DType t) { return valid_type(t) ? type_info[t].size : 0; }

const char *dtype_name(DType t) { return valid_type(t) ? type_info[t].name : "invalid"; }

const char *dtype_st_name(DType t) { return valid_type(t) ? type_info[t].st : NULL; }

bool dtype_from_st_name(const char *s, DType *out)
{
    if (!s) return false;
    for (int t = 1; t < DT_COUNT; t++)
        if (strcmp(s, type_info[t].st) == 0) {
            if (out) *out = (DType)t;
            return true;
        }
    return false;
}

/* Aliases, compared case-insensitively.  dtype_name() and the safetensors
 * names are tried first. */
static const struct { const char *alias; DType t; } aliases[] = {
    { "float32", DT_F32 }, { "fp32", DT_F32 }, { "float", DT_F32 },
    { "float16", DT_F16 }, { "fp16", DT_F16 }, { "half", DT_F16 },
    { "bfloat16", DT_BF16 },
    { "fp8", DT_F8E4M3 }, { "e4m3", DT_F8E4M3 }, { "e4m3fn", DT_F8E4M3 },
    { "f8", DT_F8E4M3 }, { "fp8e4m3", DT_F8E4M3 }, { "float8_e4m3fn", DT_F8E4M3 },
    { "float8_e4m3", DT_F8E4M3 }, { "f8e4m3fn", DT_F8E4M3 },
    { "e5m2", DT_F8E5M2 }, { "fp8e5m2", DT_F8E5M2 }, { "float8_e5m2", DT_F8E5M2 },
    { "float64", DT_F64 }, { "fp64", DT_F64 }, { "double", DT_F64 },
    { "int8", DT_I8 }, { "int16", DT_I16 }, { "int32", DT_I32 }, { "int64", DT_I64 },
    { "uint8", DT_U8 }, { "uint16", DT_U16 }, { "uint32", DT_U32 }, { "uint64", DT_U64 },
    { "boolean", DT_BOOL },
};

bool dtype_parse(const char *s, DType *out)
{
    if (!s) return false;
    for (int t = 1; t < DT_COUNT; t++)
        if (strcasecmp(s, type_info[t].name) == 0 || strcasecmp(s, type_info[t].st) == 0) {
            if (out) *out = (DType)t;
            return true;
        }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(s, aliases[i].alias) == 0) {
            if (out) *out = aliases[i].t;
            return true;
        }
    return false;
}

bool dtype_is_float(DType t)
{
    return t == DT_F32 || t == DT_F16 || t == DT_BF16 || t == DT_F8E4M3 ||
           t == DT_F8E5M2 || t == DT_F64;
}

bool dtype_is_fp8(DType t) { return t == DT_F8E4M3 || t == DT_F8E5M2; }

/* ------------------------------------------------------------------ */
/* Narrow float formats                                                */

typedef struct FloatFmt {
    int mant;           /* explicit fraction bits P */
    int bias;
    int top;            /* all-ones exponent field */
    bool has_inf;       /* IEEE-style: top exponent = inf/NaN */
    uint32_t limit;     /* has_inf: the +inf pattern; else the max finite */
    uint32_t nan;       /* canonical positive quiet NaN */
    uint32_t sign;      /* sign bit */
    bool keep_payload;  /* decoding keeps NaN payload bits (bf16, f16) */
} FloatFmt;

static const FloatFmt FMT_BF16 = { 7, 127, 255, true, 0x7f80, 0x7fc0, 0x8000, true };
static const FloatFmt FMT_F16  = { 10, 15, 31, true, 0x7c00, 0x7e00, 0x8000, true };
static const FloatFmt FMT_E4M3 = { 3, 7, 15, false, 0x7e, 0x7f, 0x80, false };
static const FloatFmt FMT_E5M2 = { 2, 15, 31, true, 0x7c, 0x7e, 0x80, false };

static int msb64(uint64_t x) /* index of the highest set bit; x != 0 */
{
    int n = 0;
    for (int s = 32; s > 0; s >>= 1)
        if (x >> s) { x >>= s; n += s; }
    return n;
}

static uint32_t overflow_result(const FloatFmt *f, uint32_t sign)
{
    return sign | (f->has_inf ? f->limit : f->nan);
}

/* Round sig * 2^exp (sig != 0) to format f, RNE; returns the encoding. */
static uint32_t encode(const FloatFmt *f, uint32_t sign, uint64_t sig, int exp)
{
    int msb = msb64(sig);
    int e = exp + msb;                  /* value in [2^e, 2^(e+1)) */
    int emin = 1 - f->bias;
    if (e + f->bias > f->top)           /* beyond every finite value */
        return overflow_result(f, sign);
    bool normal = e >= emin;
    int shift = msb - f->mant + (normal ? 0 : emin - e);
    uint64_t q;
    if (shift <= 0) {
        q = sig << -shift;              /* exact; q <= 2^(P+1) */
    } else if (shift > msb + 1) {
        q = 0;                          /* below half the least subnormal */
    } else {
        uint64_t rem, half;
        if (shift == 64) {
            q = 0; rem = sig; half = UINT64_C(1) << 63;
        } else {
            q = sig >> shift;
            rem = sig & ((UINT64_C(1) << shift) - 1);
            half = UINT64_C(1) << (shift - 1);
        }
        if (rem > half || (rem == half && (q & 1)))
            q++;
    }
    /* For normals q carries the implicit bit, which adds the 1 back. */
    uint32_t mag = normal ? ((uint32_t)(e + f->bias - 1) << f->mant) + (uint32_t)q
                          : (uint32_t)q;
    if (f->has_inf ? mag >= f->limit : mag > f->limit)
        return overflow_result(f, sign);
    return sign | mag;
}

static uint32_t encode_f64(const FloatFmt *f, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    uint32_t sign = (u >> 63) ? f->sign : 0;
    int e = (int)((u >> 52) & 0x7ff);
    uint64_t m = u & ((UINT64_C(1) << 52) - 1);
    if (e == 0x7ff)
        return m ? (sign | f->nan) : overflow_result(f, sign);
    if (e == 0)
        return m ? encode(f, sign, m, -1074) : sign;
    return encode(f, sign, m | (UINT64_C(1) << 52), e - 1075);
}

static uint32_t encode_i64(const FloatFmt *f, int64_t v)
{
    if (v == 0) return 0;
    uint64_t mag = v < 0 ? UINT64_C(0) - (uint64_t)v : (uint64_t)v;
    return encode(f, v < 0 ? f->sign : 0, mag, 0);
}

static uint32_t encode_u64(const FloatFmt *f, uint64_t v)
{
    return v ? encode(f, 0, v, 0) : 0;
}

static float f32_from_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static uint32_t f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float decode(const FloatFmt *f, uint32_t b)
{
    bool neg = (b & f->sign) != 0;
    uint32_t mag = b & (f->sign - 1);
    uint32_t frac = mag & ((1u << f->mant) - 1);
    int field = (int)(mag >> f->mant);
    if (mag > f->limit) {               /* NaN, with or without infinities */
        uint32_t bits = f->keep_payload ? 0x7f800000u | (frac << (23 - f->mant))
                                        : 0x7fc00000u;
        return f32_from_bits(bits | (neg ? 0x80000000u : 0));
    }
    float v;
    if (f->has_inf && mag == f->limit)
        v = INFINITY;
    else if (field == 0)
        v = ldexpf((float)frac, 1 - f->bias - f->mant);
    else
        v = ldexpf((float)(frac | (1u << f->mant)), field - f->bias - f->mant);
    return neg ? -v : v;
}

/* bf16 shares f32's exponent range, so rounding is dropping 16 bits with
 * RNE; the carry handles exponent bumps and overflow to infinity. */
uint16_t f32_to_bf16(float x)
{
    uint32_t u = f32_bits(x);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16 & 0x8000u) | 0x7fc0u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

float bf16_to_f32(uint16_t h) { return f32_from_bits((uint32_t)h << 16); }
float f16_to_f32(uint16_t h)  { return decode(&FMT_F16, h); }
float e4m3_to_f32(uint8_t b)  { return decode(&FMT_E4M3, b); }
float e5m2_to_f32(uint8_t b)  { return decode(&FMT_E5M2, b); }

uint16_t f32_to_f16(float x)  { return (uint16_t)encode_f64(&FMT_F16, x); }
uint8_t  f32_to_e4m3(float x) { return (uint8_t)encode_f64(&FMT_E4M3, x); }
uint8_t  f32_to_e5m2(float x) { return (uint8_t)encode_f64(&FMT_E5M2, x); }

uint16_t f64_to_bf16(double d) { return (uint16_t)encode_f64(&FMT_BF16, d); }
uint16_t f64_to_f16(double d)  { return (uint16_t)encode_f64(&FMT_F16, d); }
uint8_t  f64_to_e4m3(double d) { return (uint8_t)encode_f64(&FMT_E4M3, d); }
uint8_t  f64_to_e5m2(double d) { return (uint8_t)encode_f64(&FMT_E5M2, d); }

/* ------------------------------------------------------------------ */
/* Generic element access                                              */

typedef enum { SK_F, SK_I, SK_U } ScalarKind;
typedef struct Scalar {
    ScalarKind kind;
    double f;
    int64_t i;
    uint64_t u;
} Scalar;

static const FloatFmt *narrow_fmt(DType t)
{
    switch (t) {
    case DT_F16: return &FMT_F16;
    case DT_BF16: return &FMT_BF16;
    case DT_F8E4M3: return &FMT_E4M3;
    case DT_F8E5M2: return &FMT_E5M2;
    default: return NULL;
    }
}

static Scalar load_scalar(const void *buf, DType t, size_t i)
{
    const unsigned char *p = (const unsigned char *)buf + i * dtype_size(t);
    Scalar s = { SK_F, 0, 0, 0 };
    switch (t) {
    case DT_F32: { float v; memcpy(&v, p, 4); s.f = v; break; }
    case DT_F64: memcpy(&s.f, p, 8); break;
    case DT_F16: case DT_BF16: {
        uint16_t h; memcpy(&h, p, 2);
        s.f = decode(narrow_fmt(t), h);
        break;
    }
    case DT_F8E4M3: case DT_F8E5M2: s.f = decode(narrow_fmt(t), p[0]); break;
    case DT_I8:  { int8_t v;  memcpy(&v, p, 1); s.kind = SK_I; s.i = v; break; }
    case DT_I16: { int16_t v; memcpy(&v, p, 2); s.kind = SK_I; s.i = v; break; }
    case DT_I32: { int32_t v; memcpy(&v, p, 4); s.kind = SK_I; s.i = v; break; }
    case DT_I64: { int64_t v; memcpy(&v, p, 8); s.kind = SK_I; s.i = v; break; }
    case DT_U8:  s.kind = SK_U; s.u = p[0]; break;
    case DT_U16: { uint16_t v; memcpy(&v, p, 2); s.kind = SK_U; s.u = v; break; }
    case DT_U32: { uint32_t v; memcpy(&v, p, 4); s.kind = SK_U; s.u = v; break; }
    case DT_U64: { uint64_t v; memcpy(&v, p, 8); s.kind = SK_U; s.u = v; break; }
    case DT_BOOL: s.kind = SK_U; s.u = p[0] != 0; break;
    default: break;
    }
    return s;
}

/* Truncate toward zero and saturate to [lo, hi]; NaN -> 0. */
static int64_t f_to_i(double d, int64_t lo, int64_t hi)
{
    if (isnan(d)) return 0;
    if (d <= (double)lo) return lo;
    if (d >= (double)hi) return hi;   /* (double)INT64_MAX is 2^63 */
    return (int64_t)d;
}

static uint64_t f_to_u(double d, uint64_t hi)
{
    if (isnan(d) || d <= 0) return 0;
    if (d >= (double)hi) return hi;   /* (double)UINT64_MAX is 2^64 */
    return (uint64_t)d;
}

/* The integer value of s as the bits of a 64-bit two's complement word
 * (integer -> integer conversion wraps), or saturated from a float. */
static uint64_t to_int_bits(Scalar s, int64_t lo, int64_t hi)
{
    if (s.kind == SK_F) return (uint64_t)f_to_i(s.f, lo, hi);
    return s.kind == SK_I ? (uint64_t)s.i : s.u;
}

static uint64_t to_uint_bits(Scalar s, uint64_t hi)
{
    if (s.kind == SK_F) return f_to_u(s.f, hi);
    return s.kind == SK_I ? (uint64_t)s.i : s.u;
}

static void store_scalar(void *buf, DType t, size_t i, Scalar s)
{
    unsigned char *p = (unsigned char *)buf + i * dtype_size(t);
    switch (t) {
    case DT_F32: {
        float v = s.kind == SK_F ? (float)s.f : s.kind == SK_I ? (float)s.i : (float)s.u;
        memcpy(p, &v, 4);
        break;
    }
    case DT_F64: {
        double v = s.kind == SK_F ? s.f : s.kind == SK_I ? (double)s.i : (double)s.u;
        memcpy(p, &v, 8);
        break;
    }
    case DT_F16: case DT_BF16: case DT_F8E4M3: case DT_F8E5M2: {
        const FloatFmt *f = narrow_fmt(t);
        uint32_t b = s.kind == SK_F ? encode_f64(f, s.f)
                   : s.kind == SK_I ? encode_i64(f, s.i) : encode_u64(f, s.u);
        if (t == DT_F16 || t == DT_BF16) {
            uint16_t h = (uint16_t)b;
            memcpy(p, &h, 2);
        } else {
            p[0] = (uint8_t)b;
        }
        break;
    }
    /* Signed targets: the low bytes of the two's complement word. */
    case DT_I8:  { uint8_t v = (uint8_t)to_int_bits(s, INT8_MIN, INT8_MAX); memcpy(p, &v, 1); break; }
    case DT_I16: { uint16_t v = (uint16_t)to_int_bits(s, INT16_MIN, INT16_MAX); memcpy(p, &v, 2); break; }
    case DT_I32: { uint32_t v = (uint32_t)to_int_bits(s, INT32_MIN, INT32_MAX); memcpy(p, &v, 4); break; }
    case DT_I64: { uint64_t v = to_int_bits(s, INT64_MIN, INT64_MAX); memcpy(p, &v, 8); break; }
    case DT_U8:  { uint8_t v = (uint8_t)to_uint_bits(s, UINT8_MAX); memcpy(p, &v, 1); break; }
    case DT_U16: { uint16_t v = (uint16_t)to_uint_bits(s, UINT16_MAX); memcpy(p, &v, 2); break; }
    case DT_U32: { uint32_t v = (uint32_t)to_uint_bits(s, UINT32_MAX); memcpy(p, &v, 4); break; }
    case DT_U64: { uint64_t v = to_uint_bits(s, UINT64_MAX); memcpy(p, &v, 8); break; }
    case DT_BOOL:
        p[0] = s.kind == SK_F ? s.f != 0 : s.kind == SK_I ? s.i != 0 : s.u != 0;
        break;
    default: break;
    }
}

double dtype_load(const void *buf, DType t, size_t i)
{
    Scalar s = load_scalar(buf, t, i);
    return s.kind == SK_F ? s.f : s.kind == SK_I ? (double)s.i : (double)s.u;
}

void dtype_store(void *buf, DType t, size_t i, double v)
{
    Scalar s = { SK_F, v, 0, 0 };
    store_scalar(buf, t, i, s);
}

/* Tight loops for the float pairs that move real amounts of data. */
static bool convert_fast(void *dst, DType dt, const void *src, DType st, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (st == DT_F32 && (dt == DT_BF16 || dt == DT_F16)) {
        for (size_t i = 0; i < n; i++) {
            float x;
            memcpy(&x, s + 4 * i, 4);
            uint16_t h = dt == DT_BF16 ? f32_to_bf16(x) : f32_to_f16(x);
            memcpy(d + 2 * i, &h, 2);
        }
        return true;
    }
    if (dt == DT_F32 && (st == DT_BF16 || st == DT_F16)) {
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, s + 2 * i, 2);
            float x = st == DT_BF16 ? bf16_to_f32(h) : f16_to_f32(h);
            memcpy(d + 4 * i, &x, 4);
        }
        return true;
    }
    if (dt == DT_F32 && dtype_is_fp8(st)) {
        const FloatFmt *f = narrow_fmt(st);
        for (size_t i = 0; i < n; i++) {
            float x = decode(f, s[i]);
            memcpy(d + 4 * i, &x, 4);
        }
        return true;
    }
    if (st == DT_F32 && dtype_is_fp8(dt)) {
        const FloatFmt *f = narrow_fmt(dt);
        for (size_t i = 0; i < n; i++) {
            float x;
            memcpy(&x, s + 4 * i, 4);
            d[i] = (uint8_t)encode_f64(f, x);
        }
        return true;
    }
    return false;
}

bool dtype_convert(void *dst, DType dt, const void *src, DType st, size_t n)
{
    if (!valid_type(dt) || !valid_type(st) || dt == DT_NONE || st == DT_NONE)
        return false;
    if (n == 0) return true;
    if (dt == st) {
        memmove(dst, src, n * dtype_size(dt));
        return true;
    }
    if (convert_fast(dst, dt, src, st, n))
        return true;
    for (size_t i = 0; i < n; i++)
        store_scalar(dst, dt, i, load_scalar(src, st, i));
    return true;
}
