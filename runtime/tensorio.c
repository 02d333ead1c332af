/* tensorio.c - .npy and .safetensors reading and writing.
 *
 * Both formats are "small text header, then raw little-endian data", and
 * both are read from files we did not write, so the readers treat every
 * header field as hostile:
 *   - every length and offset is checked against the real file size before
 *     anything is allocated or touched, so a header cannot make us allocate
 *     more than the file holds or read past its end;
 *   - element counts and byte sizes are products computed with overflow
 *     checks (a dimension of 2^62 times a dtype size must not wrap);
 *   - the .npy header is a Python dict literal, parsed by a small strict
 *     recursive-descent reader that accepts exactly the three keys NumPy
 *     writes; object, structured and other dtypes are refused by name;
 *   - the .safetensors header is JSON, parsed by cJSON.  cJSON's valueint
 *     saturates at INT_MAX, so integers are taken from valuedouble and must
 *     be non-negative integers below 2^53.  Tensors must cover the data
 *     buffer exactly - no overlaps, gaps or trailing bytes - as the format
 *     requires (this also rejects polyglot files);
 *   - bool elements must be 0 or 1.
 * Every error is "PATH: error: MESSAGE", naming the tensor and the byte
 * offset where that helps; names from files are escaped before printing.
 *
 * A safetensors file is mmap'd read-only and each tensor is a view into
 * the mapping.  The mapping is page aligned, but a tensor's offset need not
 * be a multiple of its element size (the format does not require it); such
 * a tensor is copied into an aligned malloc'd buffer instead (view = 0), so
 * that callers can always use `data` as a typed pointer.
 *
 * Writers build the whole output in pieces and go through atomic_write():
 * a temporary PATH.tmpXXXXXX in the same directory, fsync, rename.  On any
 * error the temporary is removed and an existing PATH is left untouched.
 *
 * The host is assumed little-endian (checked at compile time), as are both
 * file formats.
 */
#include "strbuf.h"
#include "tensorio.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tensorio.c assumes a little-endian host"
#endif

#define ST_MAX_HEADER 100000000u       /* as the reference implementation */
#define JSON_MAX_INT 9007199254740992.0 /* 2^53 */

/* ------------------------------------------------------------------ */
/* Errors and small helpers                                            */

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

/* A name from a file, printable: at most ~60 bytes, controls and quotes
 * escaped.  Returns buf. */
static const char *esc(char *buf, size_t size, const char *s)
{
    size_t o = 0;
    if (!s) s = "(null)";
    for (; *s && o + 8 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (o > 60) { memcpy(buf + o, "...", 3); o += 3; break; }
        if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\')
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
    return buf;
}

typedef struct { char s[96]; } Esc;
#define ESC(e, str) esc((e).s, sizeof (e).s, (str))

static bool mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a) return false;
    *out = a * b;
    return true;
}

/* numel and byte size of a shape with dims >= 0, limited to INT64_MAX. */
static bool shape_size(const int64_t *shape, int rank, size_t esize,
                       uint64_t *numel, uint64_t *nbytes)
{
    uint64_t n = 1;
    bool zero = false;
    for (int i = 0; i < rank; i++) zero |= shape[i] == 0;
    if (zero) { *numel = 0; *nbytes = 0; return true; }
    for (int i = 0; i < rank; i++)
        if (!mul_u64(n, (uint64_t)shape[i], &n)) return false;
    uint64_t b;
    if (!mul_u64(n, esize, &b) || b > INT64_MAX || b > SIZE_MAX) return false;
    *numel = n;
    *nbytes = b;
    return true;
}

static void shape_str(char *buf, size_t size, const int64_t *shape, int rank)
{
    size_t o = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (o < size) snprintf(buf + o, size - o, "]");
}

int64_t tio_numel(const HostTensor *t)
{
    if (!t || t->rank < 0 || t->rank > TIO_MAX_RANK) return -1;
    uint64_t n = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->shape[i] < 0) return -1;
        if (!mul_u64(n, (uint64_t)t->shape[i], &n) || n > INT64_MAX) {
            for (int j = 0; j < t->rank; j++) if (t->shape[j] == 0) return 0;
            return -1;
        }
    }
    return (int64_t)n;
}

void tio_tensor_free(HostTensor *t)
{
    if (!t) return;
    free(t->name);
    if (!t->view) free(t->data);
    memset(t, 0, sizeof *t);
}

/* Checks a tensor handed to a writer. */
static int check_tensor(const char *path, const HostTensor *t, const char *what, TioError *err)
{
    Esc e;
    if (!t) return fail(err, path, "%s is NULL", what);
    if (t->dtype <= DT_NONE || t->dtype >= DT_COUNT)
        return fail(err, path, "%s '%s': invalid dtype %d", what, ESC(e, t->name), (int)t->dtype);
    if (t->rank < 0 || t->rank > TIO_MAX_RANK)
        return fail(err, path, "%s '%s': rank %d outside 0..%d", what, ESC(e, t->name), t->rank, TIO_MAX_RANK);
    for (int i = 0; i < t->rank; i++)
        if (t->shape[i] < 0)
            return fail(err, path, "%s '%s': negative dimension %" PRId64 " at axis %d",
                        what, ESC(e, t->name), t->shape[i], i);
    uint64_t numel, nbytes;
    if (!shape_size(t->shape, t->rank, dtype_size(t->dtype), &numel, &nbytes))
        return fail(err, path, "%s '%s': shape overflows the addressable size", what, ESC(e, t->name));
    if (nbytes != t->nbytes)
        return fail(err, path, "%s '%s': nbytes is %zu but shape and dtype %s need %" PRIu64,
                    what, ESC(e, t->name), t->nbytes, dtype_name(t->dtype), nbytes);
    if (nbytes && !t->data)
        return fail(err, path, "%s '%s': data is NULL", what, ESC(e, t->name));
    return 0;
}

/* Bool elements must be 0 or 1; returns the index of the first bad one or -1. */
static int64_t bad_bool(const unsigned char *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i] > 1) return (int64_t)i;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Atomic output                                                       */

typedef struct Piece { const void *p; size_t n; } Piece;

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int atomic_write(const char *path, const Piece *pieces, int np, TioError *err)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 12);
    if (!tmp) return fail(err, path, "out of memory");
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmpXXXXXX", 11);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return fail(err, path, "cannot create temporary file: %s", strerror(e));
    }
    /* mkstemp makes 0600; give the result the mode of the file it
     * replaces, or 0644 for a new one. */
    struct stat old;
    mode_t mode = stat(path, &old) == 0 ? (old.st_mode & 07777) : 0644;
    const char *what = "write";
    int e = 0;
    if (fchmod(fd, mode) != 0) { what = "chmod"; e = errno; }
    for (int i = 0; !e && i < np; i++)
        if (pieces[i].n && write_all(fd, pieces[i].p, pieces[i].n) != 0) e = errno;
    if (!e && fsync(fd) != 0) { what = "fsync"; e = errno; }
    if (close(fd) != 0 && !e) { what = "close"; e = errno; }
    if (!e && rename(tmp, path) != 0) { what = "rename"; e = errno; }
    if (e) {
        unlink(tmp);
        free(tmp);
        return fail(err, path, "%s failed: %s (nothing written)", what, strerror(e));
    }
    free(tmp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* .npy                                                                */

static const struct { char code[3]; DType t; } npy_types[] = {
    { "f2", DT_F16 }, { "f4", DT_F32 }, { "f8", DT_F64 },
    { "i1", DT_I8 }, { "i2", DT_I16 }, { "i4", DT_I32 }, { "i8", DT_I64 },
    { "u1", DT_U8 }, { "u2", DT_U16 }, { "u4", DT_U32 }, { "u8", DT_U64 },
    { "b1", DT_BOOL },
};

/* The header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } */
typedef struct NpyParser {
    const char *s;
    size_t n, pos;
    size_t base;               /* file offset of s[0] */
    const char *path;
    TioError *err;
} NpyParser;

typedef struct NpyValue {
    enum { NV_STR, NV_BOOL, NV_TUPLE } kind;
    char str[32];
    bool b;
    int n;
    int64_t dims[TIO_MAX_RANK];
} NpyValue;

static int perr(NpyParser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(NpyParser *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail(p->err, p->path, "bad .npy header at byte %zu: %s", p->base + p->pos, msg);
}

static void skip_ws(NpyParser *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                             p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static int peek(NpyParser *p) { return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1; }

static int expect(NpyParser *p, char c)
{
    skip_ws(p);
    if (peek(p) != c) return perr(p, "expected '%c'", c);
    p->pos++;
    return 0;
}

static int parse_str(NpyParser *p, char *out, size_t size)
{
    char q = p->s[p->pos++];
    size_t o = 0;
    while (p->pos < p->n && p->s[p->pos] != q) {
        char c = p->s[p->pos];
        if (c == '\\') return perr(p, "escapes in strings are not supported");
        if (c == '\n' || c == '\0') return perr(p, "unterminated string");
        if (o + 1 >= size) return perr(p, "string too long");
        out[o++] = c;
        p->pos++;
    }
    if (p->pos >= p->n) return perr(p, "unterminated string");
    p->pos++;
    out[o] = '\0';
    return 0;
}

static int parse_tuple(NpyParser *p, NpyValue *v)
{
    p->pos++; /* '(' */
    v->kind = NV_TUPLE;
    v->n = 0;
    bool comma = false;
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (c == ')') {
            if (v->n == 1 && !comma) return perr(p, "shape (n) needs a trailing comma to be a tuple");
            p->pos++;
            return 0;
        }
        if (v->n > 0 && !comma) return perr(p, "expected ',' or ')' in shape");
        if (c == '-') return perr(p, "negative dimension in shape");
        if (c < '0' || c > '9') return perr(p, "expected a dimension in shape");
        if (v->n == TIO_MAX_RANK) return perr(p, "rank exceeds the maximum of %d", TIO_MAX_RANK);
        uint64_t d = 0;
        while ((c = peek(p)) >= '0' && c <= '9') {
            if (d > (INT64_MAX - (uint64_t)(c - '0')) / 10)
                return perr(p, "dimension too large");
            d = d * 10 + (uint64_t)(c - '0');
            p->pos++;
        }
        if (peek(p) == 'L') p->pos++;           /* Python 2 long */
        v->dims[v->n++] = (int64_t)d;
        skip_ws(p);
        comma = peek(p) == ',';
        if (comma) p->pos++;
    }
}

static int parse_value(NpyParser *p, NpyValue *v)
{
    skip_ws(p);
    int c = peek(p);
    if (c == '\'' || c == '"') {
        v->kind = NV_STR;
        return parse_str(p, v->str, sizeof v->str);
    }
    if (c == '(') return parse_tuple(p, v);
    if (c == '[') return perr(p, "structured dtypes (a list descr) are not supported");
    const char *rest = p->s + p->pos;
    size_t left = p->n - p->pos;
    if (left >= 4 && memcmp(rest, "True", 4) == 0) { p->pos += 4; v->kind = NV_BOOL; v->b = true; return 0; }
    if (left >= 5 && memcmp(rest, "False", 5) == 0) { p->pos += 5; v->kind = NV_BOOL; v->b = false; return 0; }
    return perr(p, "unexpected character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
}

typedef struct NpyHeader {
    DType dtype;
    bool swap;      /* big-endian data */
    bool fortran;
    int rank;
    int64_t shape[TIO_MAX_RANK];
} NpyHeader;

static int npy_descr(NpyParser *p, const char *descr, NpyHeader *h)
{
    char order = descr[0];
    const char *code = descr + 1;
    if (!strchr("<>|=", order) || order == '\0') { order = '|'; code = descr; }
    if (code[0] == 'O')
        return fail(p->err, p->path, "object arrays (dtype '%s') are not supported", descr);
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++) {
        if (strcmp(code, npy_types[i].code) != 0) continue;
        h->dtype = npy_types[i].t;
        if (dtype_size(h->dtype) > 1 && order == '|')
            return fail(p->err, p->path, "dtype '%s': byte order '|' for a multi-byte type", descr);
        if (code == descr && dtype_size(h->dtype) > 1)
            return fail(p->err, p->path, "dtype '%s' has no byte order", descr);
        h->swap = order == '>' && dtype_size(h->dtype) > 1;
        return 0;
    }
    return fail(p->err, p->path, "unsupported dtype '%s' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)", descr);
}

static int parse_npy_header(NpyParser *p, NpyHeader *h)
{
    bool seen[3] = { false, false, false };
    static const char *keys[3] = { "descr", "fortran_order", "shape" };
    if (expect(p, '{')) return -1;
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (c == '}') { p->pos++; break; }
        if (c != '\'' && c != '"') return perr(p, "expected a key or '}'");
        char key[32];
        if (parse_str(p, key, sizeof key)) return -1;
        int k = -1;
        for (int i = 0; i < 3; i++) if (strcmp(key, keys[i]) == 0) k = i;
        if (k < 0) return perr(p, "unexpected key '%s'", key);
        if (seen[k]) return perr(p, "duplicate key '%s'", key);
        seen[k] = true;
        if (expect(p, ':')) return -1;
        NpyValue v;
        memset(&v, 0, sizeof v);    /* dims past the rank stay 0 in the tensor's shape */
        if (parse_value(p, &v)) return -1;
        if (k == 0) {
            if (v.kind != NV_STR) return perr(p, "'descr' is not a string");
            if (npy_descr(p, v.str, h)) return -1;
        } else if (k == 1) {
            if (v.kind != NV_BOOL) return perr(p, "'fortran_order' is not True or False");
            h->fortran = v.b;
        } else {
            if (v.kind != NV_TUPLE) return perr(p, "'shape' is not a tuple");
            h->rank = v.n;
            memcpy(h->shape, v.dims, sizeof v.dims);
        }
        skip_ws(p);
        if (peek(p) == ',') { p->pos++; continue; }
        if (peek(p) == '}') { p->pos++; break; }
        return perr(p, "expected ',' or '}'");
    }
    for (int i = 0; i < 3; i++)
        if (!seen[i]) return perr(p, "missing key '%s'", keys[i]);
    skip_ws(p);
    if (p->pos != p->n) return perr(p, "unexpected data after the header dict");
    return 0;
}

static void byteswap(unsigned char *p, uint64_t n, size_t es)
{
    for (uint64_t i = 0; i < n; i++, p += es)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            unsigned char t = p[a]; p[a] = p[b]; p[b] = t;
        }
}

/* Fortran (column-major) to C (row-major) order. */
static void f_to_c(unsigned char *dst, const unsigned char *src, const int64_t *shape,
                   int rank, size_t es, uint64_t n)
{
    uint64_t idx[TIO_MAX_RANK] = { 0 }, fstride[TIO_MAX_RANK];
    uint64_t s = 1, off = 0;
    for (int k = 0; k < rank; k++) { fstride[k] = s; s *= (uint64_t)shape[k]; }
    for (uint64_t c = 0; c < n; c++) {
        memcpy(dst + c * es, src + off * es, es);
        for (int k = rank - 1; k >= 0; k--) {      /* C order: last axis fastest */
            off += fstride[k];
            if (++idx[k] < (uint64_t)shape[k]) break;
            off -= fstride[k] * (uint64_t)shape[k];
            idx[k] = 0;
        }
    }
}

static int read_exact(FILE *fp, void *buf, size_t n)
{
    return fread(buf, 1, n, fp) == n ? 0 : -1;
}

int tio_read_npy(const char *path, HostTensor *out, TioError *err)
{
    if (!out) return fail(err, path, "no output tensor");
    memset(out, 0, sizeof *out);
    if (!path) return fail(err, path, "no path");
    FILE *fp = fopen(path, "rb");
    if (!fp) return fail(err, path, "cannot open: %s", strerror(errno));
    char *hdr = NULL;
    unsigned char *data = NULL, *tmp = NULL;
    int rc = -1;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) { fail(err, path, "cannot stat: %s", strerror(errno)); goto done; }
    if (!S_ISREG(st.st_mode)) { fail(err, path, "not a regular file"); goto done; }
    uint64_t fsize = (uint64_t)st.st_size;
    unsigned char pre[12];
    if (fsize < 10) { fail(err, path, "file too short for a .npy header (%" PRIu64 " bytes)", fsize); goto done; }
    if (read_exact(fp, pre, 10)) { fail(err, path, "read failed at offset 0"); goto done; }
    if (memcmp(pre, "\x93NUMPY", 6) != 0) { fail(err, path, "bad magic at offset 0 (not a .npy file)"); goto done; }
    int major = pre[6], minor = pre[7];
    if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
        fail(err, path, "unsupported .npy format version %d.%d at offset 6", major, minor);
        goto done;
    }
    uint64_t hlen, hstart;
    if (major == 1) {
        hlen = pre[8] | (uint64_t)pre[9] << 8;
        hstart = 10;
    } else {
        if (fsize < 12 || read_exact(fp, pre + 10, 2)) { fail(err, path, "file too short for a .npy v%d header", major); goto done; }
        hlen = pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
        hstart = 12;
    }
    if (hlen == 0) { fail(err, path, "empty header dict at offset %" PRIu64, hstart); goto done; }
    if (hlen > fsize - hstart) {
        fail(err, path, "header length %" PRIu64 " at offset 8 runs past the end of the file (%" PRIu64 " bytes)",
             hlen, fsize);
        goto done;
    }
    hdr = malloc((size_t)hlen + 1);
    if (!hdr) { fail(err, path, "out of memory"); goto done; }
    if (read_exact(fp, hdr, (size_t)hlen)) { fail(err, path, "read failed at offset %" PRIu64, hstart); goto done; }
    hdr[hlen] = '\0';

    NpyParser p = { hdr, (size_t)hlen, 0, (size_t)hstart, path, err };
    NpyHeader h;
    memset(&h, 0, sizeof h);
    if (parse_npy_header(&p, &h)) goto done;

    size_t es = dtype_size(h.dtype);
    uint64_t numel, nbytes;
    char sh[400];
    shape_str(sh, sizeof sh, h.shape, h.rank);
    if (!shape_size(h.shape, h.rank, es, &numel, &nbytes)) {
        fail(err, path, "shape %s overflows the addressable size", sh);
        goto done;
    }
    uint64_t dstart = hstart + hlen, avail = fsize - dstart;
    if (avail < nbytes) {
        fail(err, path, "data truncated: shape %s of %s needs %" PRIu64 " bytes at offset %" PRIu64
             ", the file has %" PRIu64, sh, dtype_name(h.dtype), nbytes, dstart, avail);
        goto done;
    }
    if (avail > nbytes) {
        fail(err, path, "%" PRIu64 " unexpected trailing bytes at offset %" PRIu64, avail - nbytes, dstart + nbytes);
        goto done;
    }
    data = malloc(nbytes ? (size_t)nbytes : 1);
    if (!data) { fail(err, path, "out of memory for %" PRIu64 " bytes", nbytes); goto done; }
    if (read_exact(fp, data, (size_t)nbytes)) { fail(err, path, "read failed at offset %" PRIu64, dstart); goto done; }
    if (h.dtype == DT_BOOL) {
        int64_t bad = bad_bool(data, numel);
        if (bad >= 0) {
            fail(err, path, "invalid bool value %u at offset %" PRIu64, data[bad], dstart + (uint64_t)bad);
            goto done;
        }
    }
    if (h.swap) byteswap(data, numel, es);
    if (h.fortran && h.rank > 1 && numel > 1) {
        tmp = malloc((size_t)nbytes);
        if (!tmp) { fail(err, path, "out of memory for %" PRIu64 " bytes", nbytes); goto done; }
        f_to_c(tmp, data, h.shape, h.rank, es, numel);
        free(data);
        data = tmp;
        tmp = NULL;
    }
    out->dtype = h.dtype;
    out->rank = h.rank;
    memcpy(out->shape, h.shape, sizeof h.shape);
    out->data = data;
    out->nbytes = (size_t)nbytes;
    data = NULL;
    rc = 0;
done:
    free(hdr);
    free(data);
    free(tmp);
    fclose(fp);
    return rc;
}

int tio_write_npy(const char *path, const HostTensor *t, TioError *err)
{
    if (!path) return fail(err, path, "no path");
    if (check_tensor(path, t, "tensor", err)) return -1;
    const char *code = NULL;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].t == t->dtype) code = npy_types[i].code;
    if (!code)
        return fail(err, path, "dtype %s cannot be stored in .npy (NumPy has no such type); "
                    "write .safetensors instead", dtype_name(t->dtype));
    char hdr[1024];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                     dtype_size(t->dtype) == 1 ? '|' : '<', code);
    for (int i = 0; i < t->rank; i++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%" PRId64 "%s", t->shape[i],
                      i + 1 < t->rank ? ", " : t->rank == 1 ? "," : "");
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
    /* Byte for byte what NumPy's np.save writes: room for the first axis to
     * grow to 21 digits, then spaces and a newline so that the data starts
     * 64-aligned (NumPy pads 1..64 bytes, never 0). */
    size_t pad = 0;
    if (t->rank > 0) {
        char d0[24];
        pad = 21 - (size_t)snprintf(d0, sizeof d0, "%" PRId64, t->shape[0]);
    }
    pad += 64 - (10 + (size_t)n + pad + 1) % 64;
    memset(hdr + n, ' ', pad);
    n += (int)pad;
    hdr[n++] = '\n';
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                              (unsigned char)(n & 0xff), (unsigned char)(n >> 8) };
    Piece pieces[3] = { { pre, 10 }, { hdr, (size_t)n }, { t->data, t->nbytes } };
    return atomic_write(path, pieces, 3, err);
}

/* ------------------------------------------------------------------ */
/* .safetensors                                                        */

/* A non-negative integer below 2^53 (valuedouble: valueint saturates). */
static bool json_uint(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j)) return false;
    double d = j->valuedouble;
    if (!(d >= 0 && d < JSON_MAX_INT)) return false;
    uint64_t u = (uint64_t)d;
    if ((double)u != d) return false;
    *out = u;
    return true;
}

typedef struct StEntry {
    const char *name;   /* in the cJSON tree */
    DType dtype;
    int rank;
    int64_t shape[TIO_MAX_RANK];
    uint64_t begin, end;
    int index;          /* position in the header, for stable ordering */
} StEntry;

static int cmp_offset(const void *a, const void *b)
{
    const StEntry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->index - y->index;
}

static int cmp_name(const void *a, const void *b)
{
    const StEntry *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static int st_entry(const char *path, const cJSON *item, StEntry *e, uint64_t dlen, TioError *err)
{
    Esc en;
    const char *nm = ESC(en, e->name);
    if (!cJSON_IsObject(item)) return fail(err, path, "tensor '%s': entry is not a JSON object", nm);
    const cJSON *dt = NULL, *shape = NULL, *offs = NULL;
    for (const cJSON *k = item->child; k; k = k->next) {
        const cJSON **slot = strcmp(k->string, "dtype") == 0 ? &dt
                           : strcmp(k->string, "shape") == 0 ? &shape
                           : strcmp(k->string, "data_offsets") == 0 ? &offs : NULL;
        Esc ek;
        if (!slot) return fail(err, path, "tensor '%s': unknown key '%s'", nm, ESC(ek, k->string));
        if (*slot) return fail(err, path, "tensor '%s': duplicate key '%s'", nm, ESC(ek, k->string));
        *slot = k;
    }
    if (!dt) return fail(err, path, "tensor '%s': missing 'dtype'", nm);
    if (!shape) return fail(err, path, "tensor '%s': missing 'shape'", nm);
    if (!offs) return fail(err, path, "tensor '%s': missing 'data_offsets'", nm);
    Esc ed;
    if (!cJSON_IsString(dt)) return fail(err, path, "tensor '%s': 'dtype' is not a string", nm);
    if (!dtype_from_st_name(dt->valuestring, &e->dtype))
        return fail(err, path, "tensor '%s': unknown dtype '%s'", nm, ESC(ed, dt->valuestring));
    if (!cJSON_IsArray(shape)) return fail(err, path, "tensor '%s': 'shape' is not an array", nm);
    int rank = cJSON_GetArraySize(shape);
    if (rank > TIO_MAX_RANK)
        return fail(err, path, "tensor '%s': rank %d exceeds the maximum of %d", nm, rank, TIO_MAX_RANK);
    e->rank = 0;
    for (const cJSON *d = shape->child; d; d = d->next) {
        uint64_t v;
        if (!json_uint(d, &v))
            return fail(err, path, "tensor '%s': shape[%d] is not a non-negative integer below 2^53", nm, e->rank);
        e->shape[e->rank++] = (int64_t)v;
    }
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
        return fail(err, path, "tensor '%s': 'data_offsets' is not an array of two integers", nm);
    if (!json_uint(offs->child, &e->begin) || !json_uint(offs->child->next, &e->end))
        return fail(err, path, "tensor '%s': data_offsets are not non-negative integers below 2^53", nm);
    if (e->begin > e->end)
        return fail(err, path, "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "]: begin > end",
                    nm, e->begin, e->end);
    if (e->end > dlen)
        return fail(err, path, "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] run past the end "
                    "of the data (%" PRIu64 " bytes)", nm, e->begin, e->end, dlen);
    uint64_t numel, nbytes;
    char sh[400];
    shape_str(sh, sizeof sh, e->shape, e->rank);
    if (!shape_size(e->shape, e->rank, dtype_size(e->dtype), &numel, &nbytes))
        return fail(err, path, "tensor '%s': shape %s overflows the addressable size", nm, sh);
    if (nbytes != e->end - e->begin)
        return fail(err, path, "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64
                    " bytes but shape %s of %s needs %" PRIu64, nm, e->begin, e->end,
                    e->end - e->begin, sh, dt->valuestring, nbytes);
    return 0;
}

static int st_metadata(const char *path, const cJSON *item, TioError *err)
{
    if (!cJSON_IsObject(item)) return fail(err, path, "'__metadata__' is not a JSON object");
    for (const cJSON *k = item->child; k; k = k->next) {
        Esc e;
        if (!cJSON_IsString(k))
            return fail(err, path, "'__metadata__' value '%s' is not a string", ESC(e, k->string));
    }
    return 0;
}

/* Validates the parsed header and fills st->tensors. */
static int st_build(const char *path, SafeTensors *st, const cJSON *root,
                    uint64_t dstart, uint64_t dlen, TioError *err)
{
    if (!cJSON_IsObject(root)) return fail(err, path, "header at offset 8 is not a JSON object");
    int n = 0, meta = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) {
            if (meta++) return fail(err, path, "duplicate '__metadata__'");
            if (st_metadata(path, c, err)) return -1;
        } else {
            n++;
        }
    }
    StEntry *ents = calloc(n ? (size_t)n : 1, sizeof *ents);
    StEntry **byname = calloc(n ? (size_t)n : 1, sizeof *byname);
    int rc = -1;
    if (!ents || !byname) { fail(err, path, "out of memory"); goto done; }
    int i = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) continue;
        ents[i].name = c->string;
        ents[i].index = i;
        if (st_entry(path, c, &ents[i], dlen, err)) goto done;
        byname[i] = &ents[i];
        i++;
    }
    qsort(byname, (size_t)n, sizeof *byname, cmp_name);
    for (i = 1; i < n; i++)
        if (strcmp(byname[i - 1]->name, byname[i]->name) == 0) {
            Esc e;
            fail(err, path, "duplicate tensor name '%s'", ESC(e, byname[i]->name));
            goto done;
        }
    /* Sorted by offset, each tensor must start where the previous ended. */
    qsort(ents, (size_t)n, sizeof *ents, cmp_offset);
    uint64_t pos = 0;
    for (i = 0; i < n; i++) {
        Esc e1, e2;
        if (ents[i].begin < pos) {
            fail(err, path, "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] overlap tensor '%s' "
                 "[%" PRIu64 ", %" PRIu64 "]", ESC(e1, ents[i].name), ents[i].begin, ents[i].end,
                 ESC(e2, ents[i - 1].name), ents[i - 1].begin, ents[i - 1].end);
            goto done;
        }
        if (ents[i].begin > pos) {
            fail(err, path, "gap of %" PRIu64 " unused bytes at data offset %" PRIu64
                 " (file offset %" PRIu64 ") before tensor '%s'", ents[i].begin - pos, pos,
                 dstart + pos, ESC(e1, ents[i].name));
            goto done;
        }
        pos = ents[i].end;
    }
    if (pos != dlen) {
        fail(err, path, "%" PRIu64 " unused bytes at the end of the data (data offset %" PRIu64
             ", file offset %" PRIu64 ")", dlen - pos, pos, dstart + pos);
        goto done;
    }
    st->tensors = calloc(n ? (size_t)n : 1, sizeof *st->tensors);
    if (!st->tensors) { fail(err, path, "out of memory"); goto done; }
    for (i = 0; i < n; i++) {
        const StEntry *e = &ents[i];
        HostTensor *t = &st->tensors[i];
        size_t es = dtype_size(e->dtype), nb = (size_t)(e->end - e->begin);
        unsigned char *src = (unsigned char *)st->map + dstart + e->begin;
        st->count = i + 1;   /* so that st_close frees what is built */
        t->dtype = e->dtype;
        t->rank = e->rank;
        memcpy(t->shape, e->shape, sizeof e->shape);
        t->nbytes = nb;
        t->name = strdup(e->name);
        if (!t->name) { fail(err, path, "out of memory"); goto done; }
        if (e->dtype == DT_BOOL) {
            int64_t bad = bad_bool(src, nb);
            if (bad >= 0) {
                Esc en;
                fail(err, path, "tensor '%s': invalid bool value %u at file offset %" PRIu64,
                     ESC(en, e->name), src[bad], dstart + e->begin + (uint64_t)bad);
                goto done;
            }
        }
        if ((uintptr_t)src % es == 0) {
            t->data = src;
            t->view = 1;
        } else {                      /* misaligned: keep an aligned copy */
            t->data = malloc(nb ? nb : 1);
            if (!t->data) { fail(err, path, "out of memory"); goto done; }
            memcpy(t->data, src, nb);
        }
    }
    rc = 0;
done:
    free(ents);
    free(byname);
    return rc;
}

int tio_st_open(const char *path, SafeTensors *st, TioError *err)
{
    if (!st) return fail(err, path, "no SafeTensors");
    memset(st, 0, sizeof *st);
    if (!path) return fail(err, path, "no path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(err, path, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return fail(err, path, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) { close(fd); return fail(err, path, "not a regular file"); }
    uint64_t fsize = (uint64_t)sb.st_size;
    if (fsize < 8) {
        close(fd);
        return fail(err, path, "file too short for a safetensors header (%" PRIu64 " bytes)", fsize);
    }
    if (fsize > SIZE_MAX) { close(fd); return fail(err, path, "file too large to map"); }
    void *map = mmap(NULL, (size_t)fsize, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return fail(err, path, "cannot mmap: %s", strerror(e));
    st->map = map;
    st->map_len = (size_t)fsize;
    st->path = strdup(path);
    const unsigned char *b = map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | b[i];
    cJSON *root = NULL;
    int rc = -1;
    if (!st->path) { fail(err, path, "out of memory"); goto done; }
    if (hlen > fsize - 8) {
        fail(err, path, "header length %" PRIu64 " at offset 0 runs past the end of the file (%" PRIu64 " bytes)",
             hlen, fsize);
        goto done;
    }
    if (hlen > ST_MAX_HEADER) {
        fail(err, path, "header length %" PRIu64 " at offset 0 exceeds the limit of %u bytes", hlen, ST_MAX_HEADER);
        goto done;
    }
    if (hlen < 2 || b[8] != '{') {
        fail(err, path, "header at offset 8 does not start with '{'");
        goto done;
    }
    const char *js = (const char *)b + 8, *end = NULL;
    root = cJSON_ParseWithLengthOpts(js, (size_t)hlen, &end, 0);
    if (!root) {
        size_t at = end && end >= js && end <= js + hlen ? (size_t)(end - js) : 0;
        fail(err, path, "invalid JSON header near file offset %zu", 8 + at);
        goto done;
    }
    /* Only padding (spaces) may follow the JSON object. */
    for (const char *q = end; q < js + hlen; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            fail(err, path, "unexpected byte 0x%02x after the JSON header at file offset %zu",
                 (unsigned char)*q, (size_t)(q - (const char *)b));
            goto done;
        }
    if (st_build(path, st, root, 8 + hlen, fsize - 8 - hlen, err)) goto done;
    rc = 0;
done:
    cJSON_Delete(root);
    if (rc) tio_st_close(st);
    return rc;
}

const HostTensor *tio_st_find(const SafeTensors *st, const char *name)
{
    if (!st || !name) return NULL;
    for (int i = 0; i < st->count; i++)
        if (st->tensors[i].name && strcmp(st->tensors[i].name, name) == 0)
            return &st->tensors[i];
    return NULL;
}

void tio_st_release(const SafeTensors *st, const void *p, size_t n)
{
    if (!st || !st->map || !p) return;
    uintptr_t lo = (uintptr_t)p, hi = lo + n, m0 = (uintptr_t)st->map, m1 = m0 + st->map_len;
    if (lo < m0 || hi > m1 || hi < lo) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    lo = (lo + page - 1) / page * page; /* whole pages only: a neighbour may share the edge pages */
    hi = hi / page * page;
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED); /* a read-only file mapping: no data is lost */
}

void tio_st_close(SafeTensors *st)
{
    if (!st) return;
    for (int i = 0; i < st->count; i++) tio_tensor_free(&st->tensors[i]);
    free(st->tensors);
    if (st->map) munmap(st->map, st->map_len);
    free(st->path);
    memset(st, 0, sizeof *st);
}


static void str_json_string(Str *s, const char *v)
{
    str_add(s, "\"");
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\') str_add(s, "\\%c", c);
        else if (c < 0x20) str_add(s, "\\u%04x", c);
        else str_add(s, "%c", c);
    }
    str_add(s, "\"");
}

int tio_write_safetensors(const char *path, const HostTensor *const *ts, int n, TioError *err)
{
    if (!path) return fail(err, path, "no path");
    if (n < 0 || (n > 0 && !ts)) return fail(err, path, "bad tensor list");
    for (int i = 0; i < n; i++) {
        char what[32];
        snprintf(what, sizeof what, "tensor #%d", i);
        if (check_tensor(path, ts[i], what, err)) return -1;
        if (!ts[i]->name || !ts[i]->name[0]) return fail(err, path, "tensor #%d has no name", i);
        if (strcmp(ts[i]->name, "__metadata__") == 0)
            return fail(err, path, "tensor #%d: the name '__metadata__' is reserved", i);
        for (int d = 0; d < ts[i]->rank; d++)
            if ((double)ts[i]->shape[d] >= JSON_MAX_INT) {
                Esc e;
                return fail(err, path, "tensor '%s': dimension %" PRId64 " is too large for JSON",
                            ESC(e, ts[i]->name), ts[i]->shape[d]);
            }
    }
    /* Unique names: sort a copy of the pointers. */
    if (n > 1) {
        StEntry *tmp = calloc((size_t)n, sizeof *tmp);
        StEntry **byname = calloc((size_t)n, sizeof *byname);
        if (!tmp || !byname) { free(tmp); free(byname); return fail(err, path, "out of memory"); }
        for (int i = 0; i < n; i++) { tmp[i].name = ts[i]->name; byname[i] = &tmp[i]; }
        qsort(byname, (size_t)n, sizeof *byname, cmp_name);
        int dup = -1;
        for (int i = 1; i < n && dup < 0; i++)
            if (strcmp(byname[i - 1]->name, byname[i]->name) == 0) dup = i;
        int rc = 0;
        if (dup >= 0) {
            Esc e;
            rc = fail(err, path, "duplicate tensor name '%s'", ESC(e, byname[dup]->name));
        }
        free(tmp);
        free(byname);
        if (rc) return rc;
    }
    Str h = { 0 };
    uint64_t off = 0;
    str_add(&h, "{");
    for (int i = 0; i < n; i++) {
        const HostTensor *t = ts[i];
        str_add(&h, "%s", i ? "," : "");
        str_json_string(&h, t->name);
        str_add(&h, ":{\"dtype\":\"%s\",\"shape\":[", dtype_st_name(t->dtype));
        for (int d = 0; d < t->rank; d++) str_add(&h, "%s%" PRId64, d ? "," : "", t->shape[d]);
        str_add(&h, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off, off + t->nbytes);
        off += t->nbytes;
    }
    str_add(&h, "}");
    while (!h.oom && h.n % 8) str_add(&h, " ");   /* data starts 8-aligned */
    if (h.oom) { free(h.p); return fail(err, path, "out of memory"); }
    if ((double)off >= JSON_MAX_INT) { free(h.p); return fail(err, path, "data too large for safetensors offsets"); }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)h.n >> (8 * i));
    Piece *pieces = calloc((size_t)n + 2, sizeof *pieces);
    if (!pieces) { free(h.p); return fail(err, path, "out of memory"); }
    pieces[0] = (Piece){ len8, 8 };
    pieces[1] = (Piece){ h.p, h.n };
    for (int i = 0; i < n; i++) pieces[i + 2] = (Piece){ ts[i]->data, ts[i]->nbytes };
    int rc = atomic_write(path, pieces, n + 2, err);
    free(pieces);
    free(h.p);
    return rc;
}
