/* gguf.c - the GGUF reader and ggml dequantization (see gguf.h).
 *
 * Reading.  The whole file is mapped read-only and parsed with a cursor
 * that checks, before every read, that the bytes are there; a failed check
 * names what was being read, its offset and the file size.  Counts are
 * checked against the bytes left before anything is allocated: a metadata
 * pair needs at least 13 bytes (key length, value type, a one-byte value),
 * a tensor info at least 24, an array element at least its scalar size (8
 * for a string, 12 for a nested array), so a lying count is reported as
 * such instead of turning into a huge allocation.  Parsed strings and the
 * element tables of string/array arrays go to a chunked pool owned by the
 * GgufFile; scalar arrays are left in the mapping (element i is decoded on
 * demand).  Recursion into nested arrays is limited to GGUF_MAX_NESTING.
 *
 * After parsing, keys and tensor names are checked for uniqueness by
 * sorting (n log n even for hostile counts), tensor data ranges for
 * overlap the same way, and every tensor's byte size is computed with
 * overflow checks from its shape and ggml's block table.
 *
 * Dequantization follows ggml's reference dequantize_row_* functions: the
 * block layouts (ggml-common.h) and the float operation order are the
 * same, and this file is compiled without FP contraction (-std=c11 implies
 * -ffp-contract=off with GCC; the pragma below asks the same of others),
 * so the floats are bit-identical.  f16 scales are widened with dtype.h's
 * exact f16_to_f32.
 *
 * The host must be little-endian (checked at compile time); big-endian
 * GGUF files are recognised and refused.
 */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../compiler/dtype.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gguf.c assumes a little-endian host"
#endif

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* ------------------------------------------------------------------ */
/* ggml type table                                                     */

typedef struct TypeInfo { const char *name; int64_t blck; size_t size; bool deq; } TypeInfo;

static const TypeInfo type_table[GGML_T_COUNT] = {
    [GGML_T_F32]     = { "F32",     1,   4,   true  },
    [GGML_T_F16]     = { "F16",     1,   2,   true  },
    [GGML_T_Q4_0]    = { "Q4_0",    32,  18,  true  },
    [GGML_T_Q4_1]    = { "Q4_1",    32,  20,  true  },
    [GGML_T_Q5_0]    = { "Q5_0",    32,  22,  true  },
    [GGML_T_Q5_1]    = { "Q5_1",    32,  24,  true  },
    [GGML_T_Q8_0]    = { "Q8_0",    32,  34,  true  },
    [GGML_T_Q8_1]    = { "Q8_1",    32,  36,  false },
    [GGML_T_Q2_K]    = { "Q2_K",    256, 84,  false },
    [GGML_T_Q3_K]    = { "Q3_K",    256, 110, false },
    [GGML_T_Q4_K]    = { "Q4_K",    256, 144, true  },
    [GGML_T_Q5_K]    = { "Q5_K",    256, 176, true  },
    [GGML_T_Q6_K]    = { "Q6_K",    256, 210, true  },
    [GGML_T_Q8_K]    = { "Q8_K",    256, 292, false },
    [GGML_T_IQ2_XXS] = { "IQ2_XXS", 256, 66,  false },
    [GGML_T_IQ2_XS]  = { "IQ2_XS",  256, 74,  false },
    [GGML_T_IQ3_XXS] = { "IQ3_XXS", 256, 98,  false },
    [GGML_T_IQ1_S]   = { "IQ1_S",   256, 50,  false },
    [GGML_T_IQ4_NL]  = { "IQ4_NL",  32,  18,  false },
    [GGML_T_IQ3_S]   = { "IQ3_S",   256, 110, false },
    [GGML_T_IQ2_S]   = { "IQ2_S",   256, 82,  false },
    [GGML_T_IQ4_XS]  = { "IQ4_XS",  256, 136, false },
    [GGML_T_I8]      = { "I8",      1,   1,   false },
    [GGML_T_I16]     = { "I16",     1,   2,   false },
    [GGML_T_I32]     = { "I32",     1,   4,   false },
    [GGML_T_I64]     = { "I64",     1,   8,   false },
    [GGML_T_F64]     = { "F64",     1,   8,   true  },
    [GGML_T_IQ1_M]   = { "IQ1_M",   256, 56,  false },
    [GGML_T_BF16]    = { "BF16",    1,   2,   true  },
    [GGML_T_TQ1_0]   = { "TQ1_0",   256, 54,  false },
    [GGML_T_TQ2_0]   = { "TQ2_0",   256, 66,  false },
    [GGML_T_MXFP4]   = { "MXFP4",   32,  17,  false },
    [GGML_T_NVFP4]   = { "NVFP4",   64,  36,  false },
    [GGML_T_Q1_0]    = { "Q1_0",    128, 18,  false },
};

const char *gguf_type_name(uint32_t t) { return t < GGML_T_COUNT ? type_table[t].name : NULL; }
int64_t gguf_type_block(uint32_t t) { return t < GGML_T_COUNT && type_table[t].name ? type_table[t].blck : 0; }
size_t gguf_type_size(uint32_t t) { return t < GGML_T_COUNT && type_table[t].name ? type_table[t].size : 0; }
bool gguf_can_dequantize(uint32_t t) { return t < GGML_T_COUNT && type_table[t].deq; }

static const char *const vt_names[GGUF_VT_COUNT] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool",
    "string", "array", "uint64", "int64", "float64",
};
static const unsigned char vt_size[GGUF_VT_COUNT] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

const char *gguf_value_type_name(GgufValueType t)
{
    return (unsigned)t < GGUF_VT_COUNT ? vt_names[t] : "?";
}

/* ------------------------------------------------------------------ */
/* Errors, escaping, the pool                                          */

static int fail(TioError *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(TioError *err, const char *path, const char *fmt, ...)
{
    if (!err) return -1;
    int n = snprintf(err->msg, sizeof err->msg, "%s: error: ", path ? path : "(null)");
    if (n < 0 || (size_t)n >= sizeof err->msg) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A string from the file, printable: at most ~60 bytes, controls and
 * quotes escaped. */
typedef struct Esc { char s[256]; } Esc;
static const char *esc(Esc *e, const char *s, uint64_t len)
{
    size_t o = 0;
    for (uint64_t i = 0; i < len && o + 8 < sizeof e->s; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= 60) { memcpy(e->s + o, "...", 3); o += 3; break; }
        if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') o += (size_t)snprintf(e->s + o, 8, "\\x%02x", c);
        else e->s[o++] = (char)c;
    }
    e->s[o] = '\0';
    return e->s;
}

struct GgufPool { GgufPool *next; size_t used, cap; max_align_t data[]; };

static void *pool_alloc(GgufPool **pp, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    GgufPool *p = *pp;
    if (!p || p->cap - p->used < n) {
        size_t cap = n > ((size_t)1 << 20) ? n : ((size_t)1 << 20);
        GgufPool *q = malloc(sizeof *q + cap);
        if (!q) return NULL;
        q->next = p;
        q->used = 0;
        q->cap = cap;
        *pp = q;
        p = q;
    }
    void *r = (char *)p->data + p->used;
    p->used += n;
    return r;
}

static void pool_free(GgufPool *p)
{
    while (p) { GgufPool *n = p->next; free(p); p = n; }
}

/* ------------------------------------------------------------------ */
/* The cursor                                                          */

typedef struct Cur {
    const unsigned char *b;
    uint64_t size, pos;
    const char *path;
    TioError *err;
    GgufPool **pool;
    char ctx[200];              /* what is being read, for messages */
} Cur;

static int need(Cur *c, uint64_t n, const char *what)
{
    if (c->size - c->pos >= n) return 0;
    return fail(c->err, c->path, "%struncated file: %s needs %" PRIu64 " bytes at offset %" PRIu64
                ", but the file ends at %" PRIu64, c->ctx, what, n, c->pos, c->size);
}

static uint64_t rd_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int rd_u32(Cur *c, uint32_t *v, const char *what)
{
    if (need(c, 4, what)) return -1;
    *v = (uint32_t)rd_le(c->b + c->pos, 4);
    c->pos += 4;
    return 0;
}

static int rd_u64(Cur *c, uint64_t *v, const char *what)
{
    if (need(c, 8, what)) return -1;
    *v = rd_le(c->b + c->pos, 8);
    c->pos += 8;
    return 0;
}

/* A string: u64 length then bytes, copied NUL-terminated into the pool. */
static int rd_str(Cur *c, const char **s, uint64_t *len, const char *what, bool no_nul)
{
    uint64_t at = c->pos, n;
    if (rd_u64(c, &n, what)) return -1;
    if (n > c->size - c->pos)
        return fail(c->err, c->path, "%s%s at offset %" PRIu64 ": length %" PRIu64
                    " runs past the end of the file (%" PRIu64 " bytes)", c->ctx, what, at, n, c->size);
    const unsigned char *p = c->b + c->pos;
    if (no_nul && memchr(p, 0, (size_t)n))
        return fail(c->err, c->path, "%s%s at offset %" PRIu64 " contains a NUL byte", c->ctx, what, at);
    char *d = pool_alloc(c->pool, (size_t)n + 1);
    if (!d) return fail(c->err, c->path, "out of memory");
    memcpy(d, p, (size_t)n);
    d[n] = '\0';
    c->pos += n;
    *s = d;
    if (len) *len = n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

static void decode_scalar(GgufValueType t, const unsigned char *p, GgufValue *v)
{
    v->type = t;
    switch (t) {
    case GGUF_VT_UINT8: case GGUF_VT_UINT16: case GGUF_VT_UINT32: case GGUF_VT_UINT64:
        v->v.u = rd_le(p, vt_size[t]);
        break;
    case GGUF_VT_INT8:  v->v.i = (int8_t)p[0]; break;
    case GGUF_VT_INT16: v->v.i = (int16_t)(uint16_t)rd_le(p, 2); break;
    case GGUF_VT_INT32: v->v.i = (int32_t)(uint32_t)rd_le(p, 4); break;
    case GGUF_VT_INT64: v->v.i = (int64_t)rd_le(p, 8); break;
    case GGUF_VT_FLOAT32: { uint32_t u = (uint32_t)rd_le(p, 4); float f; memcpy(&f, &u, 4); v->v.f = f; break; }
    case GGUF_VT_FLOAT64: { uint64_t u = rd_le(p, 8); double d; memcpy(&d, &u, 8); v->v.f = d; break; }
    case GGUF_VT_BOOL: v->v.b = p[0] != 0; break;
    default: break;
    }
}

static int rd_value(Cur *c, GgufValueType t, GgufValue *v, int depth);

static int rd_type(Cur *c, GgufValueType *t, const char *what)
{
    uint64_t at = c->pos;
    uint32_t u;
    if (rd_u32(c, &u, what)) return -1;
    if (u >= GGUF_VT_COUNT)
        return fail(c->err, c->path, "%sunknown %s %" PRIu32 " at offset %" PRIu64
                    " (known: 0..12)", c->ctx, what, u, at);
    *t = (GgufValueType)u;
    return 0;
}

static int rd_array(Cur *c, GgufValue *v, int depth)
{
    uint64_t at = c->pos, n;
    GgufValueType et;
    if (rd_type(c, &et, "array element type")) return -1;
    if (et == GGUF_VT_ARRAY && depth + 1 >= GGUF_MAX_NESTING)
        return fail(c->err, c->path, "%sarrays nested more than %d deep at offset %" PRIu64,
                    c->ctx, GGUF_MAX_NESTING, at);
    uint64_t cnt_at = c->pos;
    if (rd_u64(c, &n, "array length")) return -1;
    uint64_t min = et == GGUF_VT_STRING ? 8 : et == GGUF_VT_ARRAY ? 12 : vt_size[et];
    if (n > (c->size - c->pos) / min)
        return fail(c->err, c->path, "%sarray length %" PRIu64 " at offset %" PRIu64 " is impossible: %" PRIu64
                    " elements of type %s need at least %" PRIu64 " bytes each, %" PRIu64 " bytes are left",
                    c->ctx, n, cnt_at, n, vt_names[et], min, c->size - c->pos);
    v->type = GGUF_VT_ARRAY;
    v->v.arr.etype = et;
    v->v.arr.n = n;
    v->v.arr.raw = NULL;
    v->v.arr.elems = NULL;
    if (et != GGUF_VT_STRING && et != GGUF_VT_ARRAY) {
        v->v.arr.raw = c->b + c->pos;
        if (et == GGUF_VT_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (c->b[c->pos + i] > 1)
                    return fail(c->err, c->path, "%sinvalid bool value %u at offset %" PRIu64,
                                c->ctx, c->b[c->pos + i], c->pos + i);
        c->pos += n * min;
        return 0;
    }
    if (n == 0) return 0;
    if (n > SIZE_MAX / sizeof(GgufValue)) return fail(c->err, c->path, "out of memory");
    GgufValue *e = pool_alloc(c->pool, (size_t)n * sizeof *e);
    if (!e) return fail(c->err, c->path, "out of memory");
    v->v.arr.elems = e;
    for (uint64_t i = 0; i < n; i++)
        if (rd_value(c, et, &e[i], depth + 1)) return -1;
    return 0;
}

static int rd_value(Cur *c, GgufValueType t, GgufValue *v, int depth)
{
    memset(v, 0, sizeof *v);
    v->type = t;
    if (t == GGUF_VT_STRING) return rd_str(c, &v->v.str.s, &v->v.str.len, "string value", false);
    if (t == GGUF_VT_ARRAY) return rd_array(c, v, depth);
    uint64_t at = c->pos;
    if (need(c, vt_size[t], vt_names[t])) return -1;
    if (t == GGUF_VT_BOOL && c->b[at] > 1)
        return fail(c->err, c->path, "%sinvalid bool value %u at offset %" PRIu64, c->ctx, c->b[at], at);
    decode_scalar(t, c->b + at, v);
    c->pos += vt_size[t];
    return 0;
}

bool gguf_arr_get(const GgufValue *a, uint64_t i, GgufValue *out)
{
    if (!a || a->type != GGUF_VT_ARRAY || i >= a->v.arr.n) return false;
    if (a->v.arr.elems) { *out = a->v.arr.elems[i]; return true; }
    if (!a->v.arr.raw) return false;
    GgufValueType et = a->v.arr.etype;
    decode_scalar(et, a->v.arr.raw + i * vt_size[et], out);
    return true;
}

bool gguf_value_int(const GgufValue *v, int64_t *out)
{
    if (!v) return false;
    switch (v->type) {
    case GGUF_VT_UINT8: case GGUF_VT_UINT16: case GGUF_VT_UINT32: case GGUF_VT_UINT64:
        if (v->v.u > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)v->v.u;
        return true;
    case GGUF_VT_INT8: case GGUF_VT_INT16: case GGUF_VT_INT32: case GGUF_VT_INT64:
        *out = v->v.i;
        return true;
    case GGUF_VT_BOOL:
        *out = v->v.b;
        return true;
    default:
        return false;
    }
}

bool gguf_value_float(const GgufValue *v, double *out)
{
    int64_t i;
    if (!v) return false;
    if (v->type == GGUF_VT_FLOAT32 || v->type == GGUF_VT_FLOAT64) { *out = v->v.f; return true; }
    if (v->type == GGUF_VT_BOOL || !gguf_value_int(v, &i)) return false;
    *out = (double)i;
    return true;
}

const char *gguf_value_str(const GgufValue *v)
{
    return v && v->type == GGUF_VT_STRING ? v->v.str.s : NULL;
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */

static int cmp_kv(const void *a, const void *b)
{
    return strcmp((*(const GgufKV *const *)a)->key, (*(const GgufKV *const *)b)->key);
}

static int cmp_tname(const void *a, const void *b)
{
    return strcmp((*(const GgufTensor *const *)a)->name, (*(const GgufTensor *const *)b)->name);
}

static int cmp_toff(const void *a, const void *b)
{
    const GgufTensor *x = *(const GgufTensor *const *)a, *y = *(const GgufTensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset ? 1 : 0;
}

static int parse_header(Cur *c, GgufFile *g)
{
    uint64_t n_t, n_kv;
    if (c->size < 4)
        return fail(c->err, c->path, "truncated file: %" PRIu64 " bytes, too short for the GGUF magic at offset 0",
                    c->size);
    if (memcmp(c->b, "GGUF", 4) != 0) {
        Esc e;
        return fail(c->err, c->path, "bad magic '%s' at offset 0 (not a GGUF file)",
                    esc(&e, (const char *)c->b, 4));
    }
    c->pos = 4;
    if (rd_u32(c, &g->version, "the version")) return -1;
    if (g->version != 2 && g->version != 3) {
        uint32_t sw = __builtin_bswap32(g->version);
        if (sw == 2 || sw == 3)
            return fail(c->err, c->path, "big-endian GGUF file (version %" PRIu32 " byte-swapped at offset 4)"
                        " is not supported", sw);
        if (g->version == 1)
            return fail(c->err, c->path, "GGUF version 1 at offset 4 is not supported (only 2 and 3)");
        return fail(c->err, c->path, "unsupported GGUF version %" PRIu32 " at offset 4 (only 2 and 3)",
                    g->version);
    }
    if (rd_u64(c, &n_t, "the tensor count") || rd_u64(c, &n_kv, "the metadata count")) return -1;
    /* A key/value pair is at least 8 + 4 + 1 bytes (key length, value
     * type, the smallest value); a tensor info 8 + 4 + 4 + 8 (name
     * length, dimension count, type, offset). */
    uint64_t left = c->size - c->pos;
    if (n_kv > left / 13)
        return fail(c->err, c->path, "metadata count %" PRIu64 " at offset 16 is impossible in a file of %" PRIu64
                    " bytes", n_kv, c->size);
    if (n_t > left / 24)
        return fail(c->err, c->path, "tensor count %" PRIu64 " at offset 8 is impossible in a file of %" PRIu64
                    " bytes", n_t, c->size);
    if (n_kv) {
        g->kv = calloc((size_t)n_kv, sizeof *g->kv);
        if (!g->kv) return fail(c->err, c->path, "out of memory");
    }
    g->n_kv = (int64_t)n_kv;
    for (uint64_t i = 0; i < n_kv; i++) {
        GgufKV *kv = &g->kv[i];
        kv->offset = c->pos;
        snprintf(c->ctx, sizeof c->ctx, "metadata pair %" PRIu64 ": ", i);
        if (rd_str(c, &kv->key, NULL, "key", true)) return -1;
        Esc e;
        snprintf(c->ctx, sizeof c->ctx, "metadata '%s' (key at offset %" PRIu64 "): ",
                 esc(&e, kv->key, strlen(kv->key)), kv->offset);
        GgufValueType t;
        if (rd_type(c, &t, "value type") || rd_value(c, t, &kv->value, 0)) return -1;
    }
    c->ctx[0] = '\0';
    if (n_t) {
        g->tensors = calloc((size_t)n_t, sizeof *g->tensors);
        if (!g->tensors) return fail(c->err, c->path, "out of memory");
    }
    g->n_tensors = (int64_t)n_t;
    for (uint64_t i = 0; i < n_t; i++) {
        GgufTensor *t = &g->tensors[i];
        t->info_offset = c->pos;
        snprintf(c->ctx, sizeof c->ctx, "tensor info %" PRIu64 " (at offset %" PRIu64 "): ", i, t->info_offset);
        if (rd_str(c, &t->name, NULL, "name", true)) return -1;
        Esc e;
        snprintf(c->ctx, sizeof c->ctx, "tensor '%s' (info at offset %" PRIu64 "): ",
                 esc(&e, t->name, strlen(t->name)), t->info_offset);
        uint32_t nd;
        uint64_t at = c->pos;
        if (rd_u32(c, &nd, "dimension count")) return -1;
        if (nd > GGUF_MAX_DIMS)
            return fail(c->err, c->path, "%s%" PRIu32 " dimensions at offset %" PRIu64 " (at most %d)",
                        c->ctx, nd, at, GGUF_MAX_DIMS);
        t->n_dims = (int)nd;
        for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < nd; d++) {
            uint64_t v;
            at = c->pos;
            if (rd_u64(c, &v, "dimension")) return -1;
            if (v > (uint64_t)INT64_MAX)
                return fail(c->err, c->path, "%sdimension %" PRIu32 " = %" PRIu64 " at offset %" PRIu64
                            " is too large", c->ctx, d, v, at);
            t->ne[d] = (int64_t)v;
        }
        at = c->pos;
        if (rd_u32(c, &t->type, "type")) return -1;
        if (!gguf_type_name(t->type))
            return fail(c->err, c->path, "%sunknown ggml type %" PRIu32 " at offset %" PRIu64,
                        c->ctx, t->type, at);
        if (rd_u64(c, &t->offset, "data offset")) return -1;
    }
    c->ctx[0] = '\0';
    return 0;
}

static int check_kv(Cur *c, GgufFile *g)
{
    if (g->n_kv > 1) {
        GgufKV **s = malloc((size_t)g->n_kv * sizeof *s);
        if (!s) return fail(c->err, c->path, "out of memory");
        for (int64_t i = 0; i < g->n_kv; i++) s[i] = &g->kv[i];
        qsort(s, (size_t)g->n_kv, sizeof *s, cmp_kv);
        for (int64_t i = 1; i < g->n_kv; i++)
            if (strcmp(s[i - 1]->key, s[i]->key) == 0) {
                Esc e;
                const GgufKV *a = s[i - 1]->offset < s[i]->offset ? s[i - 1] : s[i];
                const GgufKV *b = a == s[i] ? s[i - 1] : s[i];
                fail(c->err, c->path, "duplicate metadata key '%s' at offsets %" PRIu64 " and %" PRIu64,
                     esc(&e, a->key, strlen(a->key)), a->offset, b->offset);
                free(s);
                return -1;
            }
        free(s);
    }
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    for (int64_t i = 0; i < g->n_kv; i++) {
        if (strcmp(g->kv[i].key, "general.alignment") != 0) continue;
        const GgufValue *v = &g->kv[i].value;
        if (v->type != GGUF_VT_UINT32)
            return fail(c->err, c->path, "metadata 'general.alignment' (key at offset %" PRIu64 ") has type %s,"
                        " expected uint32", g->kv[i].offset, vt_names[v->type]);
        if (v->v.u == 0 || (v->v.u & (v->v.u - 1)) != 0)
            return fail(c->err, c->path, "metadata 'general.alignment' (key at offset %" PRIu64 "): %" PRIu64
                        " is not a power of two", g->kv[i].offset, v->v.u);
        g->alignment = v->v.u;
    }
    return 0;
}

static int check_tensors(Cur *c, GgufFile *g)
{
    uint64_t end = c->pos;                        /* end of the tensor infos */
    uint64_t pad = (g->alignment - end % g->alignment) % g->alignment;
    g->data_offset = end + pad;
    if (g->n_tensors == 0) return 0;
    if (g->data_offset > c->size)
        return fail(c->err, c->path, "truncated file: the data section starts at offset %" PRIu64
                    " (tensor infos end at %" PRIu64 ", aligned to %" PRIu64 "), but the file ends at %" PRIu64,
                    g->data_offset, end, g->alignment, c->size);
    uint64_t dlen = c->size - g->data_offset;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        GgufTensor *t = &g->tensors[i];
        Esc e;
        const char *nm = esc(&e, t->name, strlen(t->name));
        int64_t blck = gguf_type_block(t->type);
        uint64_t tsize = gguf_type_size(t->type);
        if (t->ne[0] % blck != 0)
            return fail(c->err, c->path, "tensor '%s' (info at offset %" PRIu64 "): row length ne[0] = %" PRId64
                        " is not a multiple of the %s block size %" PRId64, nm, t->info_offset, t->ne[0],
                        gguf_type_name(t->type), blck);
        uint64_t nb = (uint64_t)(t->ne[0] / blck);
        bool ovf = __builtin_mul_overflow(nb, tsize, &nb);
        uint64_t nel = (uint64_t)t->ne[0];
        for (int d = 1; d < GGUF_MAX_DIMS; d++) {
            ovf |= __builtin_mul_overflow(nb, (uint64_t)t->ne[d], &nb);
            ovf |= __builtin_mul_overflow(nel, (uint64_t)t->ne[d], &nel);
        }
        if (ovf || nel > (uint64_t)INT64_MAX)
            return fail(c->err, c->path, "tensor '%s' (info at offset %" PRIu64 "): shape [%" PRId64 ", %" PRId64
                        ", %" PRId64 ", %" PRId64 "] overflows", nm, t->info_offset, t->ne[0], t->ne[1],
                        t->ne[2], t->ne[3]);
        t->nbytes = nb;
        if (t->offset % g->alignment != 0)
            return fail(c->err, c->path, "tensor '%s' (info at offset %" PRIu64 "): data offset %" PRIu64
                        " is not a multiple of the alignment %" PRIu64, nm, t->info_offset, t->offset,
                        g->alignment);
        if (t->offset > dlen || nb > dlen - t->offset)
            return fail(c->err, c->path, "tensor '%s' (info at offset %" PRIu64 "): data [%" PRIu64 ", +%" PRIu64
                        ") at file offset %" PRIu64 " runs past the end of the file (%" PRIu64 " bytes)",
                        nm, t->info_offset, t->offset, nb, g->data_offset + t->offset, c->size);
        t->data = c->b + g->data_offset + t->offset;
    }
    GgufTensor **s = malloc((size_t)g->n_tensors * sizeof *s);
    if (!s) return fail(c->err, c->path, "out of memory");
    for (int64_t i = 0; i < g->n_tensors; i++) s[i] = &g->tensors[i];
    int rc = 0;
    qsort(s, (size_t)g->n_tensors, sizeof *s, cmp_tname);
    for (int64_t i = 1; i < g->n_tensors && !rc; i++)
        if (strcmp(s[i - 1]->name, s[i]->name) == 0) {
            Esc e;
            const GgufTensor *a = s[i - 1]->info_offset < s[i]->info_offset ? s[i - 1] : s[i];
            const GgufTensor *b = a == s[i] ? s[i - 1] : s[i];
            rc = fail(c->err, c->path, "duplicate tensor name '%s' (infos at offsets %" PRIu64 " and %" PRIu64 ")",
                      esc(&e, a->name, strlen(a->name)), a->info_offset, b->info_offset);
        }
    if (!rc) {
        qsort(s, (size_t)g->n_tensors, sizeof *s, cmp_toff);
        /* against the tensor reaching furthest so far, not the previous
         * one: an empty tensor between two that overlap hid the overlap */
        const GgufTensor *far = NULL;
        for (int64_t i = 0; i < g->n_tensors && !rc; i++) {
            const GgufTensor *t = s[i];
            if (!t->nbytes) continue;
            if (far && far->offset + far->nbytes > t->offset) {
                Esc e1, e2;
                rc = fail(c->err, c->path, "the data of tensors '%s' [%" PRIu64 ", %" PRIu64 ") and '%s' [%" PRIu64
                          ", %" PRIu64 ") overlap", esc(&e1, far->name, strlen(far->name)),
                          far->offset, far->offset + far->nbytes,
                          esc(&e2, t->name, strlen(t->name)), t->offset, t->offset + t->nbytes);
            }
            if (!far || t->offset + t->nbytes > far->offset + far->nbytes) far = t;
        }
    }
    free(s);
    return rc;
}

int gguf_open(const char *path, GgufFile *g, TioError *err)
{
    memset(g, 0, sizeof *g);
    if (!path) return fail(err, path, "no path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(err, path, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return fail(err, path, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, path, "not a regular file");
    }
    size_t len = (size_t)st.st_size;
    void *map = NULL;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return fail(err, path, "cannot map: %s", strerror(e));
        }
    }
    close(fd);
    static const unsigned char empty[1];
    g->path = strdup(path);
    g->map = map;
    g->map_len = len;
    Cur c = { .b = map ? map : empty, .size = len, .path = path, .err = err, .pool = &g->pool };
    if (!g->path) { fail(err, path, "out of memory"); goto bad; }
    if (parse_header(&c, g) || check_kv(&c, g) || check_tensors(&c, g)) goto bad;
    return 0;
bad:
    gguf_close(g);
    return -1;
}

void gguf_close(GgufFile *g)
{
    if (!g) return;
    if (g->map) munmap(g->map, g->map_len);
    free(g->kv);
    free(g->tensors);
    pool_free(g->pool);
    free(g->path);
    memset(g, 0, sizeof *g);
}

const GgufValue *gguf_get(const GgufFile *g, const char *key)
{
    for (int64_t i = 0; g && key && i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, key) == 0) return &g->kv[i].value;
    return NULL;
}

const GgufTensor *gguf_find_tensor(const GgufFile *g, const char *name)
{
    for (int64_t i = 0; g && name && i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Dequantization (ggml-quants.c's dequantize_row_* reference code)    */

static float h2f(const unsigned char *p) { return f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

static void deq_q4_0(const unsigned char *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += 18, y += 32) {
        const float d = h2f(x);
        const unsigned char *qs = x + 2;
        for (int j = 0; j < 16; j++) {
            const int x0 = (qs[j] & 0x0F) - 8;
            const int x1 = (qs[j] >> 4) - 8;
            y[j] = (float)x0 * d;
            y[j + 16] = (float)x1 * d;
        }
    }
}

static void deq_q4_1(const unsigned char *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += 20, y += 32) {
        const float d = h2f(x), m = h2f(x + 2);
        const unsigned char *qs = x + 4;
        for (int j = 0; j < 16; j++) {
            const int x0 = qs[j] & 0x0F;
            const int x1 = qs[j] >> 4;
            y[j] = (float)x0 * d + m;
            y[j + 16] = (float)x1 * d + m;
        }
    }
}

static void deq_q5_0(const unsigned char *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += 22, y += 32) {
        const float d = h2f(x);
        const uint32_t qh = (uint32_t)rd_le(x + 2, 4);
        const unsigned char *qs = x + 6;
        for (int j = 0; j < 16; j++) {
            const uint8_t xh_0 = (uint8_t)(((qh >> (j + 0)) << 4) & 0x10);
            const uint8_t xh_1 = (uint8_t)(((qh >> (j + 12))) & 0x10);
            const int32_t x0 = ((qs[j] & 0x0F) | xh_0) - 16;
            const int32_t x1 = ((qs[j] >> 4) | xh_1) - 16;
            y[j] = (float)x0 * d;
            y[j + 16] = (float)x1 * d;
        }
    }
}

static void deq_q5_1(const unsigned char *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += 24, y += 32) {
        const float d = h2f(x), m = h2f(x + 2);
        const uint32_t qh = (uint32_t)rd_le(x + 4, 4);
        const unsigned char *qs = x + 8;
        for (int j = 0; j < 16; j++) {
            const uint8_t xh_0 = (uint8_t)(((qh >> (j + 0)) << 4) & 0x10);
            const uint8_t xh_1 = (uint8_t)(((qh >> (j + 12))) & 0x10);
            const int x0 = (qs[j] & 0x0F) | xh_0;
            const int x1 = (qs[j] >> 4) | xh_1;
            y[j] = (float)x0 * d + m;
            y[j + 16] = (float)x1 * d + m;
        }
    }
}

static void deq_q8_0(const unsigned char *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += 34, y += 32) {
        const float d = h2f(x);
        for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)x[2 + j] * d;
    }
}

static void scale_min_k4(int j, const unsigned char *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* block_q4_K: f16 d, f16 dmin, scales[12], qs[128]. */
static void deq_q4_k(const unsigned char *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += 144) {
        const float d = h2f(x), min = h2f(x + 2);
        const unsigned char *scales = x + 4, *q = x + 16;
        int is = 0;
        uint8_t sc, m;
        for (int j = 0; j < 256; j += 64) {
            scale_min_k4(is + 0, scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            scale_min_k4(is + 1, scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
            q += 32;
            is += 2;
        }
    }
}

/* block_q5_K: f16 d, f16 dmin, scales[12], qh[32], qs[128]. */
static void deq_q5_k(const unsigned char *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += 176) {
        const float d = h2f(x), min = h2f(x + 2);
        const unsigned char *scales = x + 4, *qh = x + 16, *ql = x + 48;
        int is = 0;
        uint8_t sc, m, u1 = 1, u2 = 2;
        for (int j = 0; j < 256; j += 64) {
            scale_min_k4(is + 0, scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            scale_min_k4(is + 1, scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            ql += 32;
            is += 2;
            u1 = (uint8_t)(u1 << 2);
            u2 = (uint8_t)(u2 << 2);
        }
    }
}

/* block_q6_K: ql[128], qh[64], int8 scales[16], f16 d. */
static void deq_q6_k(const unsigned char *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += 210) {
        const float d = h2f(x + 208);
        const unsigned char *ql = x, *qh = x + 128;
        const int8_t *sc = (const int8_t *)(x + 192);
        for (int n = 0; n < 256; n += 128) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int8_t q1 = (int8_t)(((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                const int8_t q2 = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                const int8_t q3 = (int8_t)(((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                const int8_t q4 = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
                y[l + 0] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

bool gguf_dequantize(uint32_t type, const void *src, float *dst, int64_t n)
{
    if (!gguf_can_dequantize(type) || n < 0 || n % type_table[type].blck != 0) return false;
    const unsigned char *x = src;
    int64_t nb = n / type_table[type].blck;
    switch (type) {
    case GGML_T_F32:  memcpy(dst, x, (size_t)n * 4); break;
    case GGML_T_F16:  for (int64_t i = 0; i < n; i++) dst[i] = h2f(x + 2 * i); break;
    case GGML_T_BF16: for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_f32((uint16_t)(x[2 * i] | x[2 * i + 1] << 8)); break;
    case GGML_T_F64:
        for (int64_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, x + 8 * i, 8);
            dst[i] = (float)v;
        }
        break;
    case GGML_T_Q4_0: deq_q4_0(x, dst, nb); break;
    case GGML_T_Q4_1: deq_q4_1(x, dst, nb); break;
    case GGML_T_Q5_0: deq_q5_0(x, dst, nb); break;
    case GGML_T_Q5_1: deq_q5_1(x, dst, nb); break;
    case GGML_T_Q8_0: deq_q8_0(x, dst, nb); break;
    case GGML_T_Q4_K: deq_q4_k(x, dst, nb); break;
    case GGML_T_Q5_K: deq_q5_k(x, dst, nb); break;
    case GGML_T_Q6_K: deq_q6_k(x, dst, nb); break;
    default: return false;
    }
    return true;
}
