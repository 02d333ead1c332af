/* chat_value.c - the chat-template interpreter's values, and printing them
 * the way Python does.
 *
 * A chat template's output is text, and most of it is made by printing
 * values: {{ x }} is Python's str(x), a list prints its items' repr(), and
 * tojson is json.dumps.  Getting these exactly right is what makes the
 * prompt identical to transformers': True not true, None not none,
 * ['a', "it's"] with Python's choice of quotes, 1e+16 and 1000000000000000.0,
 * 0.30000000000000004.  Floats print as the shortest decimal that reads
 * back to the same double (tried at 1..17 significant digits), laid out by
 * Python's repr rules (scientific when the exponent is < -4 or >= 16).
 *
 * Strings are UTF-8 byte ranges (Str) that point into the template, the
 * caller's messages or the arena, and are never copied to be read.  Python
 * counts code points, so lengths and indexes go through jx_u8_next(), and
 * "whitespace" is str.isspace()'s set (including U+00A0 and U+3000), which
 * is what trim and strip remove.
 *
 * Errors: jx_fail() writes "chat_template:LINE:COL: error: ..." (the
 * column counts code points) and longjmps to chat_render().
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_jinja.h"

_Noreturn void jx_fail(J *j, uint32_t pos, int rc, const char *fmt, ...)
{
    int line = 1, col = 1;
    for (uint32_t i = 0; i < pos && i < j->n; i++) {
        if (j->src[i] == '\n') { line++; col = 1; }
        else if (((unsigned char)j->src[i] & 0xC0) != 0x80) col++;
    }
    if (j->err && j->errlen) {
        int k = snprintf(j->err, j->errlen, "chat_template:%d:%d: error: ", line, col);
        if (k >= 0 && (size_t)k < j->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(j->err + k, j->errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    j->rc = rc;
    longjmp(j->jb, 1);
}

void jx_work(J *j, size_t n)
{
    if (n > (uint64_t)MAX_WORK || (j->work += (int64_t)n) > MAX_WORK)
        TFAIL(j, "the template needs too much work (more than %lld units: bytes scanned or copied, "
              "elements visited, expressions evaluated)", (long long)MAX_WORK);
}

void jx_sb_put(J *j, SB *b, const char *s, size_t n)
{
    jx_work(j, n);
    if (b->n + n > MAX_OUTPUT) TFAIL(j, "string longer than %zu bytes", MAX_OUTPUT);
    if (j->a.used_total > MAX_MEMORY) TFAIL(j, "the template used more than %zu bytes of memory", MAX_MEMORY);
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 64;
        while (c < b->n + n + 1) c *= 2;
        char *p = arena_alloc(&j->a, c);
        if (b->n) memcpy(p, b->p, b->n);
        b->p = p;
        b->cap = c;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
void jx_sb_puts(J *j, SB *b, const char *s) { jx_sb_put(j, b, s, strlen(s)); }
void jx_sb_str(J *j, SB *b, Str s) { jx_sb_put(j, b, s.s, s.n); }
void jx_sb_printf(J *j, SB *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    jx_sb_put(j, b, tmp, k < 0 ? 0 : (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

List *jx_list_new(J *j, int n)
{
    jx_work(j, n > 0 ? (size_t)n : 0);
    if (n > 0 && ((size_t)n > MAX_MEMORY / sizeof(Val) || j->a.used_total + (size_t)n * sizeof(Val) > MAX_MEMORY))
        TFAIL(j, "the template used more than %zu bytes of memory", MAX_MEMORY);
    List *l = ARENA_NEW(&j->a, List);
    l->v = ARENA_ARRAY(&j->a, Val, n > 0 ? n : 1);
    l->n = n;
    return l;
}
Dict *jx_dict_new(J *j) { return ARENA_NEW(&j->a, Dict); }
Val *jx_dict_find(J *j, Dict *d, Str k)
{
    jx_work(j, (size_t)d->n);
    for (int i = 0; i < d->n; i++) if (str_same(d->k[i], k)) return &d->v[i];
    return NULL;
}
void jx_dict_set(J *j, Dict *d, Str k, Val v)
{
    Val *p = jx_dict_find(j, d, k);
    if (p) { *p = v; return; }
    if (d->n == d->cap) {
        int c = d->cap ? d->cap * 2 : 8;
        d->k = arena_grow(&j->a, d->k, sizeof(Str) * (size_t)d->cap, sizeof(Str) * (size_t)c);
        d->v = arena_grow(&j->a, d->v, sizeof(Val) * (size_t)d->cap, sizeof(Val) * (size_t)c);
        d->cap = c;
    }
    d->k[d->n] = k;
    d->v[d->n++] = v;
}

const char *jx_tname(Val v)
{
    static const char *const names[] = { "Undefined", "NoneType", "bool", "int", "float", "str", "list", "dict", "builtin_function_or_method" };
    if (v.k == V_LIST && v.u.l->tuple) return "tuple";
    if (v.k == V_DICT && v.u.d->ns) return "Namespace";
    return names[v.k];
}

/* ---- UTF-8 and Python's notion of whitespace ----------------------------- */

uint32_t jx_u8_next(const char *s, size_t n, size_t *i)
{
    unsigned char c = (unsigned char)s[*i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || *i + (size_t)len > n) { (*i)++; return c; }
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (int k = 1; k < len; k++) {
        unsigned char d = (unsigned char)s[*i + (size_t)k];
        if ((d & 0xC0) != 0x80) { (*i)++; return c; }
        cp = (cp << 6) | (d & 0x3Fu);
    }
    *i += (size_t)len;
    return cp;
}
void jx_u8_put(J *j, SB *b, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) { t[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { t[0] = (char)(0xC0 | (cp >> 6)); t[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) { t[0] = (char)(0xE0 | (cp >> 12)); t[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); t[2] = (char)(0x80 | (cp & 0x3F)); n = 3; }
    else { t[0] = (char)(0xF0 | (cp >> 18)); t[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); t[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); t[3] = (char)(0x80 | (cp & 0x3F)); n = 4; }
    jx_sb_put(j, b, t, n);
}
size_t jx_u8_len(Str s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.n; n++) jx_u8_next(s.s, s.n, &i);
    return n;
}
int jx_py_space(uint32_t c)
{
    return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* str.strip/lstrip/rstrip: chars NULL means whitespace; which 1 left, 2 right, 3 both */
Str jx_py_strip(Str s, const Str *chars, int which)
{
    size_t b = 0, e = s.n;
    for (;;) {                               /* left */
        if (!(which & 1) || b >= e) break;
        size_t i = b;
        uint32_t c = jx_u8_next(s.s, e, &i);
        int hit = 0;
        if (!chars) hit = jx_py_space(c);
        else for (size_t k = 0; k < chars->n && !hit;) hit = jx_u8_next(chars->s, chars->n, &k) == c;
        if (!hit) break;
        b = i;
    }
    while ((which & 2) && e > b) {           /* right */
        size_t st = e - 1;
        while (st > b && ((unsigned char)s.s[st] & 0xC0) == 0x80) st--;
        size_t i = st;
        uint32_t c = jx_u8_next(s.s, e, &i);
        int hit = 0;
        if (!chars) hit = jx_py_space(c);
        else for (size_t k = 0; k < chars->n && !hit;) hit = jx_u8_next(chars->s, chars->n, &k) == c;
        if (!hit) break;
        e = st;
    }
    Str r = { s.s + b, e - b };
    return r;
}

/* ---- printing: Python's str(), jx_repr() and json.dumps() ------------------- */

void jx_py_float(J *j, SB *b, double d)
{
    if (isnan(d)) { jx_sb_puts(j, b, "nan"); return; }
    if (isinf(d)) { jx_sb_puts(j, b, d < 0 ? "-inf" : "inf"); return; }
    char t[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(t, sizeof t, "%.*e", p - 1, d);
        if (strtod(t, NULL) == d) break;
    }
    char dig[24];
    int nd = 0, neg = t[0] == '-';
    const char *q = t + neg;
    for (; *q && *q != 'e'; q++) if (*q >= '0' && *q <= '9') dig[nd++] = *q;
    int exp10 = atoi(q + 1), decpt = exp10 + 1;
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    if (neg) jx_sb_puts(j, b, "-");
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            jx_sb_puts(j, b, "0.");
            for (int i = 0; i < -decpt; i++) jx_sb_puts(j, b, "0");
            jx_sb_put(j, b, dig, (size_t)nd);
        } else if (decpt >= nd) {
            jx_sb_put(j, b, dig, (size_t)nd);
            for (int i = nd; i < decpt; i++) jx_sb_puts(j, b, "0");
            jx_sb_puts(j, b, ".0");
        } else {
            jx_sb_put(j, b, dig, (size_t)decpt);
            jx_sb_puts(j, b, ".");
            jx_sb_put(j, b, dig + decpt, (size_t)(nd - decpt));
        }
    } else {
        jx_sb_put(j, b, dig, 1);
        if (nd > 1) { jx_sb_puts(j, b, "."); jx_sb_put(j, b, dig + 1, (size_t)(nd - 1)); }
        jx_sb_printf(j, b, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
}

static void repr_str(J *j, SB *b, Str s)
{
    int sq = memchr(s.s, '\'', s.n) != NULL, dq = memchr(s.s, '"', s.n) != NULL;
    char q = sq && !dq ? '"' : '\'';
    jx_sb_put(j, b, &q, 1);
    for (size_t i = 0; i < s.n;) {
        size_t st = i;
        uint32_t c = jx_u8_next(s.s, s.n, &i);
        if (c == '\\' || c == (uint32_t)q) { jx_sb_puts(j, b, "\\"); jx_sb_put(j, b, s.s + st, 1); }
        else if (c == '\n') jx_sb_puts(j, b, "\\n");
        else if (c == '\r') jx_sb_puts(j, b, "\\r");
        else if (c == '\t') jx_sb_puts(j, b, "\\t");
        else if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD) jx_sb_printf(j, b, "\\x%02x", (unsigned)c);
        else if ((c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x206F) ||
                 c == 0x3000 || c == 0xFEFF || c == 0x1680)
            jx_sb_printf(j, b, "\\u%04x", (unsigned)c);
        else jx_sb_put(j, b, s.s + st, i - st);
    }
    jx_sb_put(j, b, &q, 1);
}

void jx_to_str(J *j, SB *b, Val v)
{
    switch (v.k) {
    case V_UNDEF: return;
    case V_NONE:  jx_sb_puts(j, b, "None"); return;
    case V_BOOL:  jx_sb_puts(j, b, v.u.b ? "True" : "False"); return;
    case V_INT:   jx_sb_printf(j, b, "%lld", (long long)v.u.i); return;
    case V_FLOAT: jx_py_float(j, b, v.u.f); return;
    case V_STR:   jx_sb_str(j, b, v.u.s); return;
    default:      jx_repr(j, b, v); return;
    }
}

void jx_repr(J *j, SB *b, Val v)
{
    if (v.k == V_STR) { repr_str(j, b, v.u.s); return; }
    if (v.k == V_UNDEF) { jx_sb_puts(j, b, "Undefined"); return; }
    if (v.k == V_FUNC) { jx_sb_puts(j, b, "<built-in function>"); return; }
    if (v.k == V_LIST) {
        List *l = v.u.l;
        jx_sb_puts(j, b, l->tuple ? "(" : "[");
        for (int i = 0; i < l->n; i++) { if (i) jx_sb_puts(j, b, ", "); jx_repr(j, b, l->v[i]); }
        jx_sb_puts(j, b, l->tuple ? (l->n == 1 ? ",)" : ")") : "]");
        return;
    }
    if (v.k == V_DICT) {
        Dict *d = v.u.d;
        jx_sb_puts(j, b, d->ns ? "<Namespace {" : "{");
        for (int i = 0; i < d->n; i++) {
            if (i) jx_sb_puts(j, b, ", ");
            repr_str(j, b, d->k[i]);
            jx_sb_puts(j, b, ": ");
            jx_repr(j, b, d->v[i]);
        }
        jx_sb_puts(j, b, d->ns ? "}>" : "}");
        return;
    }
    jx_to_str(j, b, v);
}

Str jx_val_str(J *j, Val v)
{
    if (v.k == V_STR) return v.u.s;
    SB b = { 0 };
    jx_to_str(j, &b, v);
    return sb_done(&b);
}

static void json_str(J *j, SB *b, Str s)
{
    jx_sb_puts(j, b, "\"");
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.s[i];
        switch (c) {
        case '"':  jx_sb_puts(j, b, "\\\""); break;
        case '\\': jx_sb_puts(j, b, "\\\\"); break;
        case '\n': jx_sb_puts(j, b, "\\n"); break;
        case '\r': jx_sb_puts(j, b, "\\r"); break;
        case '\t': jx_sb_puts(j, b, "\\t"); break;
        case '\b': jx_sb_puts(j, b, "\\b"); break;
        case '\f': jx_sb_puts(j, b, "\\f"); break;
        default:
            if (c < 0x20) jx_sb_printf(j, b, "\\u%04x", c);
            else jx_sb_put(j, b, s.s + i, 1);
        }
    }
    jx_sb_puts(j, b, "\"");
}

static void json_nl(J *j, SB *b, int indent, int level)
{
    jx_sb_puts(j, b, "\n");
    for (int i = 0; i < indent * level; i++) jx_sb_puts(j, b, " ");
}

/* json.dumps(v, ensure_ascii=False, indent=indent or None when < 0) */
void jx_to_json(J *j, SB *b, Val v, int indent, int level)
{
    if (level > MAX_DEPTH) TFAIL(j, "tojson: nesting too deep");
    switch (v.k) {
    case V_NONE:  jx_sb_puts(j, b, "null"); return;
    case V_BOOL:  jx_sb_puts(j, b, v.u.b ? "true" : "false"); return;
    case V_INT:   jx_sb_printf(j, b, "%lld", (long long)v.u.i); return;
    case V_FLOAT:
        if (isnan(v.u.f)) jx_sb_puts(j, b, "NaN");
        else if (isinf(v.u.f)) jx_sb_puts(j, b, v.u.f < 0 ? "-Infinity" : "Infinity");
        else jx_py_float(j, b, v.u.f);
        return;
    case V_STR:   json_str(j, b, v.u.s); return;
    case V_LIST:
        if (v.u.l->n == 0) { jx_sb_puts(j, b, "[]"); return; }
        jx_sb_puts(j, b, "[");
        for (int i = 0; i < v.u.l->n; i++) {
            if (i) jx_sb_puts(j, b, indent >= 0 ? "," : ", ");
            if (indent >= 0) json_nl(j, b, indent, level + 1);
            jx_to_json(j, b, v.u.l->v[i], indent, level + 1);
        }
        if (indent >= 0) json_nl(j, b, indent, level);
        jx_sb_puts(j, b, "]");
        return;
    case V_DICT:
        if (v.u.d->ns) break;
        if (v.u.d->n == 0) { jx_sb_puts(j, b, "{}"); return; }
        jx_sb_puts(j, b, "{");
        for (int i = 0; i < v.u.d->n; i++) {
            if (i) jx_sb_puts(j, b, indent >= 0 ? "," : ", ");
            if (indent >= 0) json_nl(j, b, indent, level + 1);
            json_str(j, b, v.u.d->k[i]);
            jx_sb_puts(j, b, ": ");
            jx_to_json(j, b, v.u.d->v[i], indent, level + 1);
        }
        if (indent >= 0) json_nl(j, b, indent, level);
        jx_sb_puts(j, b, "}");
        return;
    default: break;
    }
    TFAIL(j, "Object of type %s is not JSON serializable", jx_tname(v));
}
