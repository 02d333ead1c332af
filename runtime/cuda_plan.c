/* cuda_plan.c - the reader of the launch plan (format: cuda_plan.h).
 *
 * The plan is the only thing the GPU runtime knows about a compiled model:
 * which tensors to allocate, which kernels to launch with which geometry,
 * which matmuls to hand to cuBLASLt.  It comes from a file or from a cubin
 * that someone may have edited, truncated or produced with another
 * compiler version, so the parser is strict: every record is checked
 * completely (field count, numbers without sign or leading zeros and
 * within range, EXPR syntax and constant overflow, dK within the dims
 * line, tensor indices within the table, dtypes against what the step
 * needs), and the first problem is reported as "WHERE:LINE: message" with
 * the offending field quoted (escaped, shortened).  Nothing is ever read
 * past `len`, and a plan with an error never reaches the caller half-built.
 *
 * Ownership: cuda_plan_parse returns one malloc'd CudaPlan whose strings
 * and arrays belong to it; cuda_plan_free releases all of it.  On error
 * everything allocated so far is freed before returning NULL.
 *
 * Reading a plan out of a cubin is cubin_elf.c's job.
 */
#include "cuda_plan.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64

typedef struct Parser {
    const char *where;
    int         line;
    char       *err;
    size_t      errlen;
    CudaPlan   *p;
    int         cap_tensors, cap_steps;
    int         seen_dims;
} Parser;

typedef struct Field { const char *s; size_t n; } Field;

static int fail(Parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Parser *ps, const char *fmt, ...)
{
    if (ps->err && ps->errlen) {
        int n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->where ? ps->where : "<plan>", ps->line);
        if (n >= 0 && (size_t)n < ps->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* The field, quoted for a message: printable ASCII kept, the rest \xNN,
 * at most 40 bytes (then "..."). */
static const char *q(const Field *f, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < f->n && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)f->s[i];
        if (i >= 40) { memcpy(buf + o, "...", 3); o += 3; break; }
        if (c >= 0x20 && c < 0x7f && c != '\\') buf[o++] = (char)c;
        else o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
    }
    buf[o] = 0;
    return buf;
}
#define Q(f) q((f), qbuf, sizeof qbuf)

static int is(const Field *f, const char *lit)
{
    size_t n = strlen(lit);
    return f->n == n && memcmp(f->s, lit, n) == 0;
}

/* A decimal number without sign or leading zeros, at most max. */
static int num(const char *s, size_t n, int64_t max, int64_t *out)
{
    if (n == 0 || (n > 1 && s[0] == '0')) return 0;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        int d = s[i] - '0';
        if (v > (max - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* A field that must be a number in [lo, hi]; what names it in messages. */
static int field_num(Parser *ps, const Field *f, int64_t lo, int64_t hi, const char *what, int64_t *out)
{
    char qbuf[200];
    int64_t v;
    if (!num(f->s, f->n, INT64_MAX, &v)) {
        int digits = f->n > 0;
        for (size_t i = 0; i < f->n; i++) digits &= f->s[i] >= '0' && f->s[i] <= '9';
        if (digits && !(f->n > 1 && f->s[0] == '0'))
            return fail(ps, "%s '%s' is too large", what, Q(f));
        return fail(ps, "%s '%s' is not a number (digits only, no sign or leading zero)", what, Q(f));
    }
    if (v < lo || v > hi)
        return fail(ps, "%s %lld is out of range (%lld..%lld)", what, (long long)v, (long long)lo, (long long)hi);
    *out = v;
    return 0;
}

/* A dim reference dK with K < ndims; returns K or -1 (message written). */
static int dim_ref(Parser *ps, const char *s, size_t n, const Field *whole)
{
    char qbuf[200];
    int64_t k;
    if (n < 2 || s[0] != 'd' || !num(s + 1, n - 1, INT_MAX, &k))
        return fail(ps, "bad factor in '%s' (a number or dK)", Q(whole));
    if (k >= ps->p->ndims)
        return fail(ps, "run-time dim d%lld in '%s' is not declared (the plan has %d)", (long long)k, Q(whole),
                    ps->p->ndims);
    return (int)k;
}

static int parse_expr(Parser *ps, const Field *f, const char *what, CudaPlanExpr *e)
{
    char qbuf[200];
    memset(e, 0, sizeof *e);
    e->c = 1;
    e->div = 1;
    const char *s = f->s, *end = f->s + f->n;
    const char *slash = memchr(s, '/', f->n);
    const char *pend = slash ? slash : end;
    if (slash) {
        int64_t d;
        if (!num(slash + 1, (size_t)(end - slash - 1), INT64_MAX, &d) || d < 1)
            return fail(ps, "%s '%s': the divisor must be a positive number", what, Q(f));
        e->div = d;
    }
    if (pend == s) return fail(ps, "%s '%s' is empty", what, Q(f));
    while (s <= pend) {
        const char *star = memchr(s, '*', (size_t)(pend - s));
        const char *fe = star ? star : pend;
        if (fe == s) return fail(ps, "%s '%s': empty factor", what, Q(f));
        if (*s == 'd') {
            int k = dim_ref(ps, s, (size_t)(fe - s), f);
            if (k < 0) return -1;
            if (e->ndyn == 8) return fail(ps, "%s '%s' has more than 8 run-time factors", what, Q(f));
            e->dyn[e->ndyn++] = k;
        } else {
            int64_t v;
            if (!num(s, (size_t)(fe - s), INT64_MAX, &v))
                return fail(ps, "%s '%s': bad factor (a number without sign or leading zero, or dK)", what, Q(f));
            if (v != 0 && e->c > INT64_MAX / v) return fail(ps, "%s '%s': the constant overflows", what, Q(f));
            e->c *= v;
        }
        if (!star) break;
        s = star + 1;
        if (s == pend) return fail(ps, "%s '%s': empty factor", what, Q(f));
    }
    return 0;
}

int64_t cuda_plan_eval(const CudaPlanExpr *e, const int64_t *dyn)
{
    if (!e || e->c < 0 || e->div < 1 || e->ndyn < 0 || e->ndyn > 8) return -1;
    int64_t v = e->c;
    for (int i = 0; i < e->ndyn; i++) {
        if (!dyn || e->dyn[i] < 0 || e->dyn[i] >= CUDA_PLAN_MAX_DIMS) return -1;
        int64_t d = dyn[e->dyn[i]];
        if (d < 0) return -1;
        if (d != 0 && v > INT64_MAX / d) return -1;
        v *= d;
    }
    return v / e->div + (v % e->div != 0);
}

/* Percent-decoded copy of a name field (malloc'd), or NULL with a message. */
static char *name_field(Parser *ps, const Field *f, const char *what)
{
    char qbuf[200];
    if (f->n == 0) { fail(ps, "empty %s", what); return NULL; }
    char *out = malloc(f->n + 1);
    if (!out) { fail(ps, "out of memory"); return NULL; }
    size_t o = 0;
    for (size_t i = 0; i < f->n; i++) {
        unsigned char c = (unsigned char)f->s[i];
        if (c == '%') {
            if (i + 2 >= f->n || !isxdigit((unsigned char)f->s[i + 1]) || !isxdigit((unsigned char)f->s[i + 2])) {
                free(out);
                fail(ps, "%s '%s': '%%' must be followed by two hex digits", what, Q(f));
                return NULL;
            }
            char hex[3] = { f->s[i + 1], f->s[i + 2], 0 };
            c = (unsigned char)strtoul(hex, NULL, 16);
            if (c == 0) { free(out); fail(ps, "%s '%s' contains %%00", what, Q(f)); return NULL; }
            i += 2;
        } else if (!(isalnum(c) || c == '.' || c == '_' || c == '/' || c == '-')) {
            free(out);
            fail(ps, "%s '%s': byte 0x%02x must be percent-escaped", what, Q(f), c);
            return NULL;
        }
        out[o++] = (char)c;
    }
    out[o] = 0;
    return out;
}

static const char *const kinds[] = { "input", "param", "output", "temp", "state" };
static const char *const tensor_dtypes[] = { "f32", "bf16", "f16", "f8e4m3", "f8e5m2", "i32", "f64" };
static const char *const gemm_dtypes[] = { "f32", "bf16", "f16", "f8e4m3", "f8e5m2" };

static int pick(const Field *f, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) if (is(f, names[i])) return i;
    return -1;
}

/* A shape entry: a number or dK (-1 - K). */
static int shape_entry(Parser *ps, const Field *f, int64_t *out)
{
    if (f->n > 0 && f->s[0] == 'd') {
        int k = dim_ref(ps, f->s, f->n, f);
        if (k < 0) return -1;
        *out = -1 - k;
        return 0;
    }
    return field_num(ps, f, 0, INT64_MAX, "shape entry", out);
}

static int rec_dims(Parser *ps, const Field *f, int nf)
{
    CudaPlan *p = ps->p;
    int64_t n;
    if (ps->seen_dims) return fail(ps, "a second dims line");
    if (p->ntensors || p->nsteps) return fail(ps, "the dims line must come before tensors and steps");
    if (nf < 2) return fail(ps, "dims: missing the count");
    if (field_num(ps, &f[1], 0, CUDA_PLAN_MAX_DIMS, "dims count", &n)) return -1;
    if (nf != 2 + n) return fail(ps, "dims: %lld names announced, %d given", (long long)n, nf - 2);
    ps->seen_dims = 1;
    for (int i = 0; i < n; i++) {
        if (!(p->dim_names[i] = name_field(ps, &f[2 + i], "dim name"))) return -1;
        p->ndims = i + 1;
    }
    return 0;
}

static int rec_tensor(Parser *ps, const Field *f, int nf)
{
    char qbuf[200];
    CudaPlan *p = ps->p;
    int64_t idx, rank;
    if (nf < 6) return fail(ps, "tensor: too few fields (IDX NAME KIND DTYPE RANK S...)");
    if (field_num(ps, &f[1], 0, INT_MAX, "tensor index", &idx)) return -1;
    if (idx != p->ntensors) return fail(ps, "tensor index %lld, expected %d (tensors are numbered in order)",
                                        (long long)idx, p->ntensors);
    int kind = pick(&f[3], kinds, 5);
    if (kind < 0) return fail(ps, "tensor: unknown kind '%s' (input param output temp state)", Q(&f[3]));
    int dt = pick(&f[4], tensor_dtypes, 7);
    if (dt < 0) return fail(ps, "tensor: unknown dtype '%s' (f32 bf16 f16 f8e4m3 f8e5m2 i32 f64)", Q(&f[4]));
    if (field_num(ps, &f[5], 0, CUDA_PLAN_MAX_RANK, "tensor rank", &rank)) return -1;
    if (nf != 6 + rank) return fail(ps, "tensor: rank %lld needs %lld shape entries, %d given",
                                    (long long)rank, (long long)rank, nf - 6);
    if (p->ntensors == ps->cap_tensors) {
        int cap = ps->cap_tensors ? 2 * ps->cap_tensors : 16;
        CudaPlanTensor *t = realloc(p->tensors, sizeof *t * (size_t)cap);
        if (!t) return fail(ps, "out of memory");
        p->tensors = t;
        ps->cap_tensors = cap;
    }
    CudaPlanTensor *t = &p->tensors[p->ntensors];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->root = p->ntensors;
    t->rank = (int)rank;
    memcpy(t->dtype, tensor_dtypes[dt], strlen(tensor_dtypes[dt]) + 1);
    for (int i = 0; i < rank; i++)
        if (shape_entry(ps, &f[6 + i], &t->shape[i])) return -1;
    if (!(t->name = name_field(ps, &f[2], "tensor name"))) return -1;
    for (int i = 0; i < p->ntensors; i++)
        if (strcmp(p->tensors[i].name, t->name) == 0) {
            int r = fail(ps, "tensor name '%s' is already tensor %d", Q(&f[2]), i);
            free(t->name);
            return r;
        }
    p->ntensors++;
    return 0;
}

static int rec_load(Parser *ps, const Field *f, int nf)
{
    CudaPlan *p = ps->p;
    int64_t idx, rank;
    if (nf < 5) return fail(ps, "load: too few fields (IDX CKPTNAME RANK S... perm P...)");
    if (field_num(ps, &f[1], 0, INT_MAX, "load index", &idx)) return -1;
    if (idx >= p->ntensors) return fail(ps, "load: tensor %lld is not in the table (%d tensors so far)",
                                        (long long)idx, p->ntensors);
    CudaPlanTensor *t = &p->tensors[idx];
    if (t->kind != 1) return fail(ps, "load: tensor %lld is a %s, not a param", (long long)idx, kinds[t->kind]);
    if (t->load) return fail(ps, "load: tensor %lld already has a load line", (long long)idx);
    if (field_num(ps, &f[3], 0, CUDA_PLAN_MAX_RANK, "load rank", &rank)) return -1;
    if (nf != 5 + 2 * rank) return fail(ps, "load: rank %lld needs %lld shape entries, 'perm' and %lld axes "
                                        "(%d fields, expected %lld)", (long long)rank, (long long)rank,
                                        (long long)rank, nf, (long long)(5 + 2 * rank));
    if (!is(&f[4 + rank], "perm")) return fail(ps, "load: 'perm' expected after the %lld shape entries", (long long)rank);
    int64_t shape[CUDA_PLAN_MAX_RANK];
    int perm[CUDA_PLAN_MAX_RANK], seen[CUDA_PLAN_MAX_RANK] = { 0 };
    for (int i = 0; i < rank; i++)
        if (shape_entry(ps, &f[4 + i], &shape[i])) return -1;
    for (int i = 0; i < rank; i++) {
        int64_t a;
        if (field_num(ps, &f[5 + rank + i], 0, rank - 1, "perm axis", &a)) return -1;
        if (seen[a]++) return fail(ps, "load: axis %lld appears twice in perm", (long long)a);
        perm[i] = (int)a;
    }
    /* the permuted checkpoint tensor is reshaped implicitly: sizes must agree */
    int fixed = 1;
    int64_t n1 = 1, n2 = 1;
    for (int i = 0; i < rank && fixed; i++) {
        if (shape[i] < 0) fixed = 0;
        else if (__builtin_mul_overflow(n1, shape[i], &n1)) return fail(ps, "load: the shape overflows");
    }
    for (int i = 0; i < t->rank && fixed; i++) {
        if (t->shape[i] < 0) fixed = 0;
        else if (__builtin_mul_overflow(n2, t->shape[i], &n2)) return fail(ps, "load: the tensor's shape overflows");
    }
    if (fixed && n1 != n2)
        return fail(ps, "load: the checkpoint shape has %lld elements, tensor %lld has %lld",
                    (long long)n1, (long long)idx, (long long)n2);
    if (!(t->load = name_field(ps, &f[2], "checkpoint name"))) return -1;
    t->load_rank = (int)rank;
    memcpy(t->load_shape, shape, sizeof(int64_t) * (size_t)rank);
    memcpy(t->load_perm, perm, sizeof(int) * (size_t)rank);
    return 0;
}

/* lookup IDX: param IDX is read only by row lookups. */
static int rec_lookup(Parser *ps, const Field *f, int nf)
{
    CudaPlan *p = ps->p;
    int64_t idx;
    if (nf != 2) return fail(ps, "lookup: expected one field (IDX)");
    if (field_num(ps, &f[1], 0, INT_MAX, "lookup index", &idx)) return -1;
    if (idx >= p->ntensors) return fail(ps, "lookup: tensor %lld is not in the table (%d tensors so far)",
                                        (long long)idx, p->ntensors);
    CudaPlanTensor *t = &p->tensors[idx];
    if (t->kind != 1) return fail(ps, "lookup: tensor %lld is a %s, not a param", (long long)idx, kinds[t->kind]);
    if (t->lookup) return fail(ps, "lookup: tensor %lld is already marked", (long long)idx);
    t->lookup = 1;
    return 0;
}

/* share IDX ROOT: temp IDX uses temp ROOT's memory (their steps do not
 * overlap).  ROOT keeps its own memory; a tensor shares at most once. */
static int rec_share(Parser *ps, const Field *f, int nf)
{
    CudaPlan *p = ps->p;
    int64_t idx, root;
    if (nf != 3) return fail(ps, "share: expected two fields (IDX ROOT)");
    if (p->nsteps) return fail(ps, "share lines must come before the steps");
    if (field_num(ps, &f[1], 0, INT_MAX, "share index", &idx) || field_num(ps, &f[2], 0, INT_MAX, "share root", &root))
        return -1;
    if (idx >= p->ntensors || root >= p->ntensors)
        return fail(ps, "share: tensor %lld is not in the table (%d tensors so far)",
                    (long long)(idx >= p->ntensors ? idx : root), p->ntensors);
    CudaPlanTensor *t = &p->tensors[idx], *r = &p->tensors[root];
    if (t->kind != 3 || r->kind != 3)
        return fail(ps, "share: tensor %lld is a %s; only temps share memory", (long long)(t->kind != 3 ? idx : root),
                    kinds[t->kind != 3 ? t->kind : r->kind]);
    if (idx == root) return fail(ps, "share: tensor %lld cannot share with itself", (long long)idx);
    if (t->root != idx) return fail(ps, "share: tensor %lld already shares tensor %d's memory", (long long)idx, t->root);
    if (r->root != root)
        return fail(ps, "share: tensor %lld shares tensor %d's memory, so it cannot lend its own", (long long)root, r->root);
    if (t->lends) return fail(ps, "share: tensor %lld lends its memory already, so it cannot share another's", (long long)idx);
    t->root = (int)root;
    r->lends = 1;
    return 0;
}

/* config KEY num N | bool true|false | str =TEXT | absent */
static int rec_config(Parser *ps, const Field *f, int nf)
{
    char qbuf[200];
    CudaPlan *p = ps->p;
    if (p->ntensors || p->nsteps) return fail(ps, "config lines must come before tensors and steps");
    if (nf < 3) return fail(ps, "config: too few fields (KEY KIND [VALUE])");
    static const char *const ckinds[] = { "absent", "num", "bool", "str" };
    int k = pick(&f[2], ckinds, 4);
    if (k < 0) return fail(ps, "config: unknown kind '%s' (num bool str absent)", Q(&f[2]));
    if (nf != (k == 0 ? 3 : 4)) return fail(ps, "config: a%s %s value takes %s", k == 0 ? "n" : "", ckinds[k],
                                           k == 0 ? "no field after the kind" : "one field after the kind");
    CudaPlanConfig c = { .kind = k };
    if (k == 1) {
        char buf[64], *end;
        if (f[3].n == 0 || f[3].n >= sizeof buf) return fail(ps, "config: bad number '%s'", Q(&f[3]));
        memcpy(buf, f[3].s, f[3].n);
        buf[f[3].n] = 0;
        errno = 0;
        c.num = strtod(buf, &end);
        if (*end || errno || !isfinite(c.num) || isspace((unsigned char)buf[0]))
            return fail(ps, "config: bad number '%s'", Q(&f[3]));
    } else if (k == 2) {
        if (is(&f[3], "true")) c.num = 1;
        else if (!is(&f[3], "false")) return fail(ps, "config: bool '%s' (true or false)", Q(&f[3]));
    } else if (k == 3) {
        if (f[3].n == 0 || f[3].s[0] != '=') return fail(ps, "config: a str value starts with '=', got '%s'", Q(&f[3]));
        if (f[3].n == 1) {
            if (!(c.str = calloc(1, 1))) return fail(ps, "out of memory");
        } else {
            Field v = { f[3].s + 1, f[3].n - 1 };
            if (!(c.str = name_field(ps, &v, "config value"))) return -1;
        }
    }
    if (!(c.key = name_field(ps, &f[1], "config key"))) { free(c.str); return -1; }
    for (int i = 0; i < p->nconfig; i++)
        if (!strcmp(p->config[i].key, c.key)) {
            free(c.key);
            free(c.str);
            return fail(ps, "config key '%s' appears twice", Q(&f[1]));
        }
    CudaPlanConfig *nc = realloc(p->config, sizeof *nc * (size_t)(p->nconfig + 1));
    if (!nc) { free(c.key); free(c.str); return fail(ps, "out of memory"); }
    p->config = nc;
    p->config[p->nconfig++] = c;
    return 0;
}

static CudaPlanStep *new_step(Parser *ps, CudaStepKind kind)
{
    CudaPlan *p = ps->p;
    if (p->nsteps == ps->cap_steps) {
        int cap = ps->cap_steps ? 2 * ps->cap_steps : 16;
        CudaPlanStep *s = realloc(p->steps, sizeof *s * (size_t)cap);
        if (!s) { fail(ps, "out of memory"); return NULL; }
        p->steps = s;
        ps->cap_steps = cap;
    }
    CudaPlanStep *s = &p->steps[p->nsteps];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

static int fixed(const CudaPlanExpr *e) { return e->ndyn == 0; }

static int rec_launch(Parser *ps, const Field *f, int nf)
{
    char qbuf[200];
    CudaPlan *p = ps->p;
    int64_t nargs;
    static const char *const geo[8] = { "grid x", "grid y", "grid z", "block x", "block y", "block z", "smem" };
    if (nf < 10) return fail(ps, "launch: too few fields (KERNEL GX GY GZ BX BY BZ SMEM NARGS A...)");
    /* an extern "C" kernel: a C identifier */
    int ok = f[1].n > 0 && !isdigit((unsigned char)f[1].s[0]);
    for (size_t i = 0; i < f[1].n; i++) ok &= isalnum((unsigned char)f[1].s[i]) || f[1].s[i] == '_';
    if (!ok) return fail(ps, "launch: kernel name '%s' is not a C identifier", Q(&f[1]));
    if (field_num(ps, &f[9], 0, CUDA_PLAN_MAX_ARGS, "launch argument count", &nargs)) return -1;
    if (nf != 10 + nargs) return fail(ps, "launch: %lld arguments announced, %d given", (long long)nargs, nf - 10);
    CudaPlanStep *s = new_step(ps, CUDA_STEP_LAUNCH);
    if (!s) return -1;
    CudaPlanExpr *ex[7] = { &s->grid[0], &s->grid[1], &s->grid[2], &s->block[0], &s->block[1], &s->block[2], &s->smem };
    for (int i = 0; i < 7; i++)
        if (parse_expr(ps, &f[2 + i], geo[i], ex[i])) return -1;
    for (int i = 0; i < 6; i++)
        if (fixed(ex[i]) && cuda_plan_eval(ex[i], NULL) == 0) return fail(ps, "launch: %s is 0", geo[i]);
    if (fixed(&s->block[0]) && fixed(&s->block[1]) && fixed(&s->block[2])) {
        int64_t b0 = cuda_plan_eval(&s->block[0], NULL), b1 = cuda_plan_eval(&s->block[1], NULL),
                b2 = cuda_plan_eval(&s->block[2], NULL);
        if (b0 > 1024 || b1 > 1024 || b2 > 64 || b0 * b1 > 1024 || b0 * b1 * b2 > 1024)
            return fail(ps, "launch: a block of %lldx%lldx%lld threads (CUDA allows 1024)",
                        (long long)b0, (long long)b1, (long long)b2);
    }
    for (int i = 0; i < nargs; i++) {
        int64_t a;
        if (field_num(ps, &f[10 + i], 0, INT_MAX, "launch argument", &a)) return -1;
        if (a >= p->ntensors) return fail(ps, "launch: argument %d is tensor %lld, but the table has %d tensors",
                                          i, (long long)a, p->ntensors);
        s->args[i] = (int)a;
    }
    s->nargs = (int)nargs;
    s->name = malloc(f[1].n + 1);
    if (!s->name) return fail(ps, "out of memory");
    memcpy(s->name, f[1].s, f[1].n);
    s->name[f[1].n] = 0;
    p->nsteps++;
    return 0;
}

static int is_fp8(const char *t) { return strncmp(t, "f8", 2) == 0; }

/* Which (A, B, D) type combinations cuBLASLt runs with f32 compute. */
static const char *gemm_types_problem(const char *a, const char *b, const char *d)
{
    if (is_fp8(a) || is_fp8(b)) {
        if (!is_fp8(a) || !is_fp8(b)) return "fp8 A needs fp8 B and vice versa";
        if (strcmp(a, "f8e5m2") == 0 && strcmp(b, "f8e5m2") == 0) return "e5m2 x e5m2 is not a cuBLASLt matmul";
        return NULL;                    /* D: f32, bf16, f16 or fp8 */
    }
    if (strcmp(a, b) != 0) return "A and B must have the same type";
    if (strcmp(a, "f32") == 0 && strcmp(d, "f32") != 0) return "f32 inputs need an f32 D";
    if (strcmp(a, "f32") != 0 && strcmp(d, "f32") != 0 && strcmp(d, a) != 0)
        return "D must be f32 or the inputs' type";
    return NULL;
}

enum { GK_A, GK_B, GK_D, GK_TA, GK_TB, GK_M, GK_N, GK_K, GK_LDA, GK_LDB, GK_LDD, GK_BATCH, GK_SA, GK_SB,
       GK_SD, GK_ATYPE, GK_BTYPE, GK_DTYPE, GK_COMPUTE, GK_ALPHA, GK_BETA, GK_C, GK_COUNT };
#define GK_REQUIRED GK_C   /* keys before it are required; c= is optional */
static const char *const gemm_keys[GK_COUNT] = {
    "a", "b", "d", "ta", "tb", "m", "n", "k", "lda", "ldb", "ldd", "batch", "sa", "sb", "sd",
    "atype", "btype", "dtype", "compute", "alpha", "beta", "c" };

static int decimal(Parser *ps, const Field *f, const char *what, double *out)
{
    char qbuf[200], buf[64];
    int digits = 0;
    for (size_t i = 0; i < f->n; i++) {
        char c = f->s[i];
        digits |= c >= '0' && c <= '9';
        if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
            digits = -100;
    }
    if (digits <= 0 || f->n >= sizeof buf) return fail(ps, "gemm: %s '%s' is not a decimal number", what, Q(f));
    memcpy(buf, f->s, f->n);
    buf[f->n] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || !isfinite(v) || errno == ERANGE)
        return fail(ps, "gemm: %s '%s' is not a finite decimal number", what, Q(f));
    *out = v;
    return 0;
}

static int gemm_index(Parser *ps, const Field *v, const char *key, int *out)
{
    int64_t a;
    if (field_num(ps, v, 0, INT_MAX, key, &a)) return -1;
    if (a >= ps->p->ntensors)
        return fail(ps, "gemm: %s=%lld, but the table has %d tensors", key, (long long)a, ps->p->ntensors);
    *out = (int)a;
    return 0;
}

static int rec_gemm(Parser *ps, const Field *f, int nf)
{
    char qbuf[200];
    CudaPlan *p = ps->p;
    Field val[GK_COUNT];
    int have[GK_COUNT] = { 0 };
    if (nf < 2) return fail(ps, "gemm: missing the term name");
    for (int i = 2; i < nf; i++) {
        const char *eq = memchr(f[i].s, '=', f[i].n);
        if (!eq) return fail(ps, "gemm: '%s' is not key=value", Q(&f[i]));
        Field key = { f[i].s, (size_t)(eq - f[i].s) };
        int k = pick(&key, gemm_keys, GK_COUNT);
        if (k < 0) return fail(ps, "gemm: unknown key '%s'", Q(&key));
        if (have[k]++) return fail(ps, "gemm: key '%s' given twice", gemm_keys[k]);
        val[k].s = eq + 1;
        val[k].n = f[i].n - key.n - 1;
    }
    for (int k = 0; k < GK_REQUIRED; k++)
        if (!have[k]) return fail(ps, "gemm: missing key '%s'", gemm_keys[k]);
    CudaPlanStep *s = new_step(ps, CUDA_STEP_GEMM);
    if (!s) return -1;
    if (gemm_index(ps, &val[GK_A], "a", &s->a) || gemm_index(ps, &val[GK_B], "b", &s->b) ||
        gemm_index(ps, &val[GK_D], "d", &s->d))
        return -1;
    if (s->d == s->a || s->d == s->b) return fail(ps, "gemm: d=%d is also an input", s->d);
    s->c = s->d;
    if (have[GK_C]) {
        if (gemm_index(ps, &val[GK_C], "c", &s->c)) return -1;
        if (strcmp(p->tensors[s->c].dtype, p->tensors[s->d].dtype))
            return fail(ps, "gemm: c=%d is %s, d=%d is %s (C and D share a type and layout)", s->c,
                        p->tensors[s->c].dtype, s->d, p->tensors[s->d].dtype);
    }
    for (int t = 0; t < 2; t++) {
        const Field *v = &val[t ? GK_TB : GK_TA];
        if (!is(v, "n") && !is(v, "t")) return fail(ps, "gemm: %s='%s' (n or t)", t ? "tb" : "ta", Q(v));
        *(t ? &s->tb : &s->ta) = v->s[0];
    }
    struct { int key; CudaPlanExpr *e; } ex[] = {
        { GK_M, &s->m }, { GK_N, &s->n }, { GK_K, &s->k }, { GK_LDA, &s->lda }, { GK_LDB, &s->ldb },
        { GK_LDD, &s->ldd }, { GK_BATCH, &s->batch }, { GK_SA, &s->sa }, { GK_SB, &s->sb }, { GK_SD, &s->sd } };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++)
        if (parse_expr(ps, &val[ex[i].key], gemm_keys[ex[i].key], ex[i].e)) return -1;
    struct { int key, tensor; char *dst; } ty[] = {
        { GK_ATYPE, s->a, s->atype }, { GK_BTYPE, s->b, s->btype }, { GK_DTYPE, s->d, s->dtype } };
    for (int i = 0; i < 3; i++) {
        int t = pick(&val[ty[i].key], gemm_dtypes, 5);
        if (t < 0) return fail(ps, "gemm: %s='%s' is not a cuBLASLt type (f32 bf16 f16 f8e4m3 f8e5m2)",
                               gemm_keys[ty[i].key], Q(&val[ty[i].key]));
        memcpy(ty[i].dst, gemm_dtypes[t], strlen(gemm_dtypes[t]) + 1);
        const CudaPlanTensor *tt = &p->tensors[ty[i].tensor];
        if (strcmp(tt->dtype, ty[i].dst) != 0)
            return fail(ps, "gemm: %s=%s, but tensor %d is %s", gemm_keys[ty[i].key], ty[i].dst, ty[i].tensor,
                        tt->dtype);
    }
    const char *why = gemm_types_problem(s->atype, s->btype, s->dtype);
    if (why) return fail(ps, "gemm: %s x %s -> %s: %s", s->atype, s->btype, s->dtype, why);
    if (is_fp8(s->atype) && (s->ta != 't' || s->tb != 'n'))
        return fail(ps, "gemm: fp8 matmuls must be ta=t tb=n (cuBLASLt's fp8 layout)");
    if (!is(&val[GK_COMPUTE], "f32")) return fail(ps, "gemm: compute='%s' (only f32)", Q(&val[GK_COMPUTE]));
    if (decimal(ps, &val[GK_ALPHA], "alpha", &s->alpha) || decimal(ps, &val[GK_BETA], "beta", &s->beta)) return -1;
    /* leading dimensions that can be checked now */
    struct { const char *ld; CudaPlanExpr *lde, *rows; } lds[] = {
        { "lda", &s->lda, s->ta == 'n' ? &s->m : &s->k },
        { "ldb", &s->ldb, s->tb == 'n' ? &s->k : &s->n },
        { "ldd", &s->ldd, &s->m } };
    for (int i = 0; i < 3; i++) {
        if (!fixed(lds[i].lde) || !fixed(lds[i].rows)) continue;
        int64_t ld = cuda_plan_eval(lds[i].lde, NULL), rows = cuda_plan_eval(lds[i].rows, NULL);
        if (ld < (rows > 1 ? rows : 1))
            return fail(ps, "gemm: %s=%lld is less than the %lld rows it strides over", lds[i].ld, (long long)ld,
                        (long long)rows);
    }
    if (fixed(&s->batch) && cuda_plan_eval(&s->batch, NULL) == 0) return fail(ps, "gemm: batch=0");
    if (!(s->name = name_field(ps, &f[1], "gemm term"))) return -1;
    p->nsteps++;
    return 0;
}

void cuda_plan_free(CudaPlan *p)
{
    if (!p) return;
    for (int i = 0; i < p->ndims; i++) free(p->dim_names[i]);
    for (int i = 0; i < p->ntensors; i++) { free(p->tensors[i].name); free(p->tensors[i].load); }
    for (int i = 0; i < p->nsteps; i++) free(p->steps[i].name);
    for (int i = 0; i < p->nconfig; i++) { free(p->config[i].key); free(p->config[i].str); }
    free(p->config);
    free(p->tensors);
    free(p->steps);
    free(p);
}

CudaPlan *cuda_plan_parse(const char *text, size_t len, const char *where, char *err, size_t errlen)
{
    Parser ps = { .where = where, .err = err, .errlen = errlen };
    if (err && errlen) err[0] = 0;
    if (!text && len) { fail(&ps, "no text"); return NULL; }
    ps.p = calloc(1, sizeof *ps.p);
    if (!ps.p) { fail(&ps, "out of memory"); return NULL; }
    size_t pos = 0;
    int ended = 0, rc = 0;
    while (pos < len && rc == 0) {
        char qbuf[200];
        ps.line++;
        const char *ls = text + pos;
        const char *nl = memchr(ls, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - ls) : len - pos;
        pos += n + (nl != NULL);
        if (ended) { rc = fail(&ps, "text after 'end'"); break; }
        if (memchr(ls, 0, n)) { rc = fail(&ps, "a NUL byte inside the plan"); break; }
        if (n == 0) { rc = fail(&ps, "empty line"); break; }
        Field f[MAX_FIELDS];
        int nf = 0;
        size_t a = 0;
        for (;;) {
            const char *sp = memchr(ls + a, ' ', n - a);
            size_t fe = sp ? (size_t)(sp - ls) : n;
            if (fe == a) { rc = fail(&ps, "empty field (two spaces, or a space at the start or end)"); break; }
            if (nf == MAX_FIELDS) { rc = fail(&ps, "more than %d fields", MAX_FIELDS); break; }
            f[nf].s = ls + a;
            f[nf].n = fe - a;
            nf++;
            if (!sp) break;
            a = fe + 1;
        }
        if (rc) break;
        if (ps.line == 1) {
            if (nf != 2 || !is(&f[0], "ueajc-plan")) { rc = fail(&ps, "not a ueajc plan (expected 'ueajc-plan 1')"); break; }
            if (!is(&f[1], "1")) { rc = fail(&ps, "plan version '%s' (this runtime reads version 1)", Q(&f[1])); break; }
            continue;
        }
        if (is(&f[0], "dims")) rc = rec_dims(&ps, f, nf);
        else if (is(&f[0], "tensor")) rc = rec_tensor(&ps, f, nf);
        else if (is(&f[0], "load")) rc = rec_load(&ps, f, nf);
        else if (is(&f[0], "lookup")) rc = rec_lookup(&ps, f, nf);
        else if (is(&f[0], "share")) rc = rec_share(&ps, f, nf);
        else if (is(&f[0], "config")) rc = rec_config(&ps, f, nf);
        else if (is(&f[0], "launch")) rc = rec_launch(&ps, f, nf);
        else if (is(&f[0], "gemm")) rc = rec_gemm(&ps, f, nf);
        else if (is(&f[0], "end")) {
            if (nf != 1) rc = fail(&ps, "end takes no fields");
            ended = 1;
        } else rc = fail(&ps, "unknown record '%s'", Q(&f[0]));
    }
    if (rc == 0 && ps.line == 0) rc = fail(&ps, "empty plan");
    if (rc == 0 && !ended) rc = fail(&ps, "the plan ends without 'end' (truncated?)");
    if (rc) { cuda_plan_free(ps.p); return NULL; }
    return ps.p;
}
