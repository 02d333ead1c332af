/* chat.c - a small Jinja2 interpreter for chat templates, and built-in
 * prompt formats for when a template is beyond it.
 *
 * Chat templates are short programs: a loop over the messages, a few
 * conditions, string concatenation, a filter or two.  They are also
 * unforgiving: a missing newline or a space after [/INST] changes what the
 * model sees, so "almost Jinja" is not good enough.  This file follows
 * Jinja 2.x (3.1) closely in the places templates actually exercise, and
 * the reference renderings in tests/fixtures/chat come from the real
 * jinja2 in transformers' environment (trim_blocks, lstrip_blocks).
 *
 * Pipeline, one call of chat_render():
 *   1. normalise newlines (\r\n and \r become \n) and drop one trailing
 *      newline, as Jinja does without keep_trailing_newline;
 *   2. lex (lex()): text is scanned for "{{", "{%" and "{#"; whitespace
 *      control is applied to the text before a tag ("-" strips all
 *      whitespace, lstrip_blocks strips the indentation of a line that
 *      holds only the block tag) and after it ("-" again, and trim_blocks
 *      eats the newline after "%}" and "#}").  Inside a tag the lexer makes
 *      names, numbers, strings (with Python's escapes) and operators, and it
 *      only recognises the closing "}}" or "%}" when brackets are balanced,
 *      so "{{ '}}' }}" and "{{ {'a': {}} }}" work;
 *   3. parse (parse_body() and the parse_* expression functions) into a
 *      tree, with Jinja's precedence: conditional expression, or, and, not,
 *      comparisons (chained), + -, ~, * / // %, **, unary - +, then
 *      postfix . [] () and filters | and tests "is" (which bind tighter than
 *      any binary operator: 'a' + x|trim is 'a' + (x|trim));
 *   4. evaluate (exec_body(), eval()) against a chain of scopes: globals,
 *      the template's, and one fresh scope per loop iteration, so a {% set %}
 *      inside a loop is gone at the next iteration and after the loop,
 *      exactly Jinja's rule (namespace() objects are how templates carry
 *      state out of a loop).
 *
 * Values are Python's: none, bool, int (64-bit here), float, str (UTF-8;
 * lengths and indexes count code points), list, tuple (a list with a flag),
 * dict (insertion ordered; keys are strings), namespace (a dict with a
 * flag), builtin functions and bound methods, and Undefined.  Undefined
 * behaves as Jinja's default: it prints as nothing, is false, iterates as
 * empty and has length 0, but taking an attribute or item of it, calling
 * it or doing arithmetic with it is an error that quotes Jinja's message
 * ("'dict object' has no attribute 'tool_calls'").  Attribute access on a
 * dict finds the methods items/keys/values/get first, then the key; item
 * access finds the key; a missing key, index or attribute is Undefined.
 * Printing uses Python's str() and repr() (True, None, ['a', 1], floats in
 * shortest round-trip form), tojson is transformers' json.dumps with
 * ensure_ascii=False.
 *
 * Errors unwind with longjmp to chat_render(); every allocation lives in
 * one arena freed there, so nothing leaks on any path.  Limits keep a
 * hostile template from hanging or exhausting memory: nesting depth 200,
 * output and any one string 64 MiB, range() 1,000,000 elements,
 * 1,000,000 loop iterations in all, 512 MiB of memory.
 */
#include "chat.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_DEPTH  200
#define MAX_OUTPUT ((size_t)64 << 20)
#define MAX_RANGE  1000000
#define MAX_ITERS  1000000L
#define MAX_MEMORY ((size_t)512 << 20)

typedef struct Str { const char *s; size_t n; } Str;

/* ---- values -------------------------------------------------------------- */

typedef enum VKind { V_UNDEF, V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_LIST, V_DICT, V_FUNC } VKind;
typedef struct Val Val;
typedef struct List { Val *v; int n; int tuple; } List;
typedef struct Dict { Str *k; Val *v; int n, cap; int ns; } Dict;
struct Val {
    VKind k;
    int   fn;                      /* V_FUNC: which builtin */
    union { int b; int64_t i; double f; Str s; List *l; Dict *d; const char *why; Val *self; } u;
};

/* builtin functions, then str and dict methods (bound: u.self) */
enum { F_RAISE, F_NAMESPACE, F_RANGE, F_STRFTIME, F_DICT, F_STR0, F_DICT0 = F_STR0 + 32 };
static const char *const STR_METHODS[] = { "strip", "lstrip", "rstrip", "upper", "lower", "title",
    "capitalize", "startswith", "endswith", "split", "replace", "join", "find", "count", NULL };
static const char *const DICT_METHODS[] = { "items", "keys", "values", "get", NULL };

/* ---- the interpreter's state ------------------------------------------- */

enum { TK_EOF, TK_DATA, TK_VB, TK_VE, TK_BB, TK_BE, TK_NAME, TK_STR, TK_INT, TK_FLOAT, TK_OP };
typedef struct Tok { int k; uint32_t pos; Str s; int64_t i; double f; } Tok;
typedef struct SB { char *p; size_t n, cap; } SB;   /* a string builder in the arena */

typedef struct J {
    Arena    a;
    jmp_buf  jb;
    int      rc;
    char    *err;
    size_t   errlen;
    const char *src;               /* normalised template */
    size_t   n;
    Tok     *t;
    int      nt, capt, tp;
    int      depth, loops;
    SB      *out;
    uint32_t at;                   /* position of the node being evaluated */
    long     iters;
} J;

static _Noreturn void jfail(J *j, uint32_t pos, int rc, const char *fmt, ...) UEAJ_PRINTF(4, 5);
static _Noreturn void jfail(J *j, uint32_t pos, int rc, const char *fmt, ...)
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
#define TFAIL(j, ...) jfail((j), (j)->at, CHAT_ERR_TEMPLATE, __VA_ARGS__)
#define UFAIL(j, ...) jfail((j), (j)->at, CHAT_ERR_UNSUPPORTED, __VA_ARGS__)

static void sb_put(J *j, SB *b, const char *s, size_t n)
{
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
static void sb_puts(J *j, SB *b, const char *s) { sb_put(j, b, s, strlen(s)); }
static void sb_str(J *j, SB *b, Str s) { sb_put(j, b, s.s, s.n); }
static void sb_printf(J *j, SB *b, const char *fmt, ...) UEAJ_PRINTF(3, 4);
static void sb_printf(J *j, SB *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(j, b, tmp, k < 0 ? 0 : (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}
static Str sb_done(SB *b) { Str s = { b->p ? b->p : "", b->n }; return s; }

static Str cstr(const char *s) { Str r = { s, strlen(s) }; return r; }
static int str_eq(Str a, const char *b) { return a.n == strlen(b) && memcmp(a.s, b, a.n) == 0; }
static int str_same(Str a, Str b) { return a.n == b.n && (a.n == 0 || memcmp(a.s, b.s, a.n) == 0); }
static const char *zstr(J *j, Str s) { return arena_strndup(&j->a, s.s, s.n); }

static Val v_undef(const char *why) { Val v = { .k = V_UNDEF }; v.u.why = why; return v; }
static Val v_none(void) { Val v = { .k = V_NONE }; return v; }
static Val v_bool(int b) { Val v = { .k = V_BOOL }; v.u.b = !!b; return v; }
static Val v_int(int64_t i) { Val v = { .k = V_INT }; v.u.i = i; return v; }
static Val v_float(double f) { Val v = { .k = V_FLOAT }; v.u.f = f; return v; }
static Val v_str(Str s) { Val v = { .k = V_STR }; v.u.s = s; return v; }
static Val v_list(List *l) { Val v = { .k = V_LIST }; v.u.l = l; return v; }
static Val v_dict(Dict *d) { Val v = { .k = V_DICT }; v.u.d = d; return v; }
static Val v_func(int fn, Val *self) { Val v = { .k = V_FUNC, .fn = fn }; v.u.self = self; return v; }

static List *list_new(J *j, int n)
{
    List *l = ARENA_NEW(&j->a, List);
    l->v = ARENA_ARRAY(&j->a, Val, n > 0 ? n : 1);
    l->n = n;
    return l;
}
static Dict *dict_new(J *j) { return ARENA_NEW(&j->a, Dict); }
static Val *dict_find(Dict *d, Str k)
{
    for (int i = 0; i < d->n; i++) if (str_same(d->k[i], k)) return &d->v[i];
    return NULL;
}
static void dict_set(J *j, Dict *d, Str k, Val v)
{
    Val *p = dict_find(d, k);
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

static const char *tname(Val v)
{
    static const char *const names[] = { "Undefined", "NoneType", "bool", "int", "float", "str", "list", "dict", "builtin_function_or_method" };
    if (v.k == V_LIST && v.u.l->tuple) return "tuple";
    if (v.k == V_DICT && v.u.d->ns) return "Namespace";
    return names[v.k];
}

/* ---- UTF-8 and Python's notion of whitespace ----------------------------- */

static uint32_t u8_next(const char *s, size_t n, size_t *i)
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
static void u8_put(J *j, SB *b, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) { t[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { t[0] = (char)(0xC0 | (cp >> 6)); t[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) { t[0] = (char)(0xE0 | (cp >> 12)); t[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); t[2] = (char)(0x80 | (cp & 0x3F)); n = 3; }
    else { t[0] = (char)(0xF0 | (cp >> 18)); t[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); t[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); t[3] = (char)(0x80 | (cp & 0x3F)); n = 4; }
    sb_put(j, b, t, n);
}
static size_t u8_len(Str s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.n; n++) u8_next(s.s, s.n, &i);
    return n;
}
static int py_space(uint32_t c)
{
    return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
static int ascii_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* str.strip/lstrip/rstrip: chars NULL means whitespace; which 1 left, 2 right, 3 both */
static Str py_strip(Str s, const Str *chars, int which)
{
    size_t b = 0, e = s.n;
    for (;;) {                               /* left */
        if (!(which & 1) || b >= e) break;
        size_t i = b;
        uint32_t c = u8_next(s.s, e, &i);
        int hit = 0;
        if (!chars) hit = py_space(c);
        else for (size_t k = 0; k < chars->n && !hit;) hit = u8_next(chars->s, chars->n, &k) == c;
        if (!hit) break;
        b = i;
    }
    while ((which & 2) && e > b) {           /* right */
        size_t st = e - 1;
        while (st > b && ((unsigned char)s.s[st] & 0xC0) == 0x80) st--;
        size_t i = st;
        uint32_t c = u8_next(s.s, e, &i);
        int hit = 0;
        if (!chars) hit = py_space(c);
        else for (size_t k = 0; k < chars->n && !hit;) hit = u8_next(chars->s, chars->n, &k) == c;
        if (!hit) break;
        e = st;
    }
    Str r = { s.s + b, e - b };
    return r;
}

/* ---- printing: Python's str(), repr() and json.dumps() ------------------- */

static void py_float(J *j, SB *b, double d)
{
    if (isnan(d)) { sb_puts(j, b, "nan"); return; }
    if (isinf(d)) { sb_puts(j, b, d < 0 ? "-inf" : "inf"); return; }
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
    if (neg) sb_puts(j, b, "-");
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            sb_puts(j, b, "0.");
            for (int i = 0; i < -decpt; i++) sb_puts(j, b, "0");
            sb_put(j, b, dig, (size_t)nd);
        } else if (decpt >= nd) {
            sb_put(j, b, dig, (size_t)nd);
            for (int i = nd; i < decpt; i++) sb_puts(j, b, "0");
            sb_puts(j, b, ".0");
        } else {
            sb_put(j, b, dig, (size_t)decpt);
            sb_puts(j, b, ".");
            sb_put(j, b, dig + decpt, (size_t)(nd - decpt));
        }
    } else {
        sb_put(j, b, dig, 1);
        if (nd > 1) { sb_puts(j, b, "."); sb_put(j, b, dig + 1, (size_t)(nd - 1)); }
        sb_printf(j, b, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
}

static void repr(J *j, SB *b, Val v);

static void repr_str(J *j, SB *b, Str s)
{
    int sq = memchr(s.s, '\'', s.n) != NULL, dq = memchr(s.s, '"', s.n) != NULL;
    char q = sq && !dq ? '"' : '\'';
    sb_put(j, b, &q, 1);
    for (size_t i = 0; i < s.n;) {
        size_t st = i;
        uint32_t c = u8_next(s.s, s.n, &i);
        if (c == '\\' || c == (uint32_t)q) { sb_puts(j, b, "\\"); sb_put(j, b, s.s + st, 1); }
        else if (c == '\n') sb_puts(j, b, "\\n");
        else if (c == '\r') sb_puts(j, b, "\\r");
        else if (c == '\t') sb_puts(j, b, "\\t");
        else if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD) sb_printf(j, b, "\\x%02x", (unsigned)c);
        else if ((c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x206F) ||
                 c == 0x3000 || c == 0xFEFF || c == 0x1680)
            sb_printf(j, b, "\\u%04x", (unsigned)c);
        else sb_put(j, b, s.s + st, i - st);
    }
    sb_put(j, b, &q, 1);
}

static void to_str(J *j, SB *b, Val v)
{
    switch (v.k) {
    case V_UNDEF: return;
    case V_NONE:  sb_puts(j, b, "None"); return;
    case V_BOOL:  sb_puts(j, b, v.u.b ? "True" : "False"); return;
    case V_INT:   sb_printf(j, b, "%lld", (long long)v.u.i); return;
    case V_FLOAT: py_float(j, b, v.u.f); return;
    case V_STR:   sb_str(j, b, v.u.s); return;
    default:      repr(j, b, v); return;
    }
}

static void repr(J *j, SB *b, Val v)
{
    if (v.k == V_STR) { repr_str(j, b, v.u.s); return; }
    if (v.k == V_UNDEF) { sb_puts(j, b, "Undefined"); return; }
    if (v.k == V_FUNC) { sb_puts(j, b, "<built-in function>"); return; }
    if (v.k == V_LIST) {
        List *l = v.u.l;
        sb_puts(j, b, l->tuple ? "(" : "[");
        for (int i = 0; i < l->n; i++) { if (i) sb_puts(j, b, ", "); repr(j, b, l->v[i]); }
        sb_puts(j, b, l->tuple ? (l->n == 1 ? ",)" : ")") : "]");
        return;
    }
    if (v.k == V_DICT) {
        Dict *d = v.u.d;
        sb_puts(j, b, d->ns ? "<Namespace {" : "{");
        for (int i = 0; i < d->n; i++) {
            if (i) sb_puts(j, b, ", ");
            repr_str(j, b, d->k[i]);
            sb_puts(j, b, ": ");
            repr(j, b, d->v[i]);
        }
        sb_puts(j, b, d->ns ? "}>" : "}");
        return;
    }
    to_str(j, b, v);
}

static Str val_str(J *j, Val v)
{
    if (v.k == V_STR) return v.u.s;
    SB b = { 0 };
    to_str(j, &b, v);
    return sb_done(&b);
}

static void json_str(J *j, SB *b, Str s)
{
    sb_puts(j, b, "\"");
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.s[i];
        switch (c) {
        case '"':  sb_puts(j, b, "\\\""); break;
        case '\\': sb_puts(j, b, "\\\\"); break;
        case '\n': sb_puts(j, b, "\\n"); break;
        case '\r': sb_puts(j, b, "\\r"); break;
        case '\t': sb_puts(j, b, "\\t"); break;
        case '\b': sb_puts(j, b, "\\b"); break;
        case '\f': sb_puts(j, b, "\\f"); break;
        default:
            if (c < 0x20) sb_printf(j, b, "\\u%04x", c);
            else sb_put(j, b, s.s + i, 1);
        }
    }
    sb_puts(j, b, "\"");
}

static void json_nl(J *j, SB *b, int indent, int level)
{
    sb_puts(j, b, "\n");
    for (int i = 0; i < indent * level; i++) sb_puts(j, b, " ");
}

/* json.dumps(v, ensure_ascii=False, indent=indent or None when < 0) */
static void to_json(J *j, SB *b, Val v, int indent, int level)
{
    if (level > MAX_DEPTH) TFAIL(j, "tojson: nesting too deep");
    switch (v.k) {
    case V_NONE:  sb_puts(j, b, "null"); return;
    case V_BOOL:  sb_puts(j, b, v.u.b ? "true" : "false"); return;
    case V_INT:   sb_printf(j, b, "%lld", (long long)v.u.i); return;
    case V_FLOAT:
        if (isnan(v.u.f)) sb_puts(j, b, "NaN");
        else if (isinf(v.u.f)) sb_puts(j, b, v.u.f < 0 ? "-Infinity" : "Infinity");
        else py_float(j, b, v.u.f);
        return;
    case V_STR:   json_str(j, b, v.u.s); return;
    case V_LIST:
        if (v.u.l->n == 0) { sb_puts(j, b, "[]"); return; }
        sb_puts(j, b, "[");
        for (int i = 0; i < v.u.l->n; i++) {
            if (i) sb_puts(j, b, indent >= 0 ? "," : ", ");
            if (indent >= 0) json_nl(j, b, indent, level + 1);
            to_json(j, b, v.u.l->v[i], indent, level + 1);
        }
        if (indent >= 0) json_nl(j, b, indent, level);
        sb_puts(j, b, "]");
        return;
    case V_DICT:
        if (v.u.d->ns) break;
        if (v.u.d->n == 0) { sb_puts(j, b, "{}"); return; }
        sb_puts(j, b, "{");
        for (int i = 0; i < v.u.d->n; i++) {
            if (i) sb_puts(j, b, indent >= 0 ? "," : ", ");
            if (indent >= 0) json_nl(j, b, indent, level + 1);
            json_str(j, b, v.u.d->k[i]);
            sb_puts(j, b, ": ");
            to_json(j, b, v.u.d->v[i], indent, level + 1);
        }
        if (indent >= 0) json_nl(j, b, indent, level);
        sb_puts(j, b, "}");
        return;
    default: break;
    }
    TFAIL(j, "Object of type %s is not JSON serializable", tname(v));
}

/* ---- lexer ----------------------------------------------------------------- */

static Tok *push_tok(J *j, int k, size_t pos, const char *s, size_t n)
{
    if (j->nt == j->capt) {
        int c = j->capt ? j->capt * 2 : 256;
        j->t = arena_grow(&j->a, j->t, sizeof(Tok) * (size_t)j->capt, sizeof(Tok) * (size_t)c);
        j->capt = c;
    }
    Tok *t = &j->t[j->nt++];
    memset(t, 0, sizeof *t);
    t->k = k;
    t->pos = (uint32_t)pos;
    t->s.s = s;
    t->s.n = n;
    return t;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A string literal's value, with Python's escapes (Jinja decodes them with
 * "unicode-escape"); an unknown escape keeps its backslash. */
static Str decode_string(J *j, const char *s, size_t n, size_t pos)
{
    SB b = { 0 };
    sb_put(j, &b, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 >= n) { sb_put(j, &b, s + i, 1); continue; }
        char e = s[++i];
        static const char esc_in[] = "\\'\"abfnrtv", esc_out[] = "\\'\"\a\b\f\n\r\t\v";
        const char *simple = e ? strchr(esc_in, e) : NULL;
        if (e == '\n') continue;
        if (simple) { sb_put(j, &b, &esc_out[simple - esc_in], 1); continue; }
        if (e >= '0' && e <= '7') {
            uint32_t v = 0;
            int k = 0;
            for (; k < 3 && i < n && s[i] >= '0' && s[i] <= '7'; k++, i++) v = v * 8 + (uint32_t)(s[i] - '0');
            i--;
            u8_put(j, &b, v);
            continue;
        }
        int w = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (w) {
            uint32_t v = 0;
            for (int k = 1; k <= w; k++) {
                int h = i + (size_t)k < n ? hexval(s[i + (size_t)k]) : -1;
                if (h < 0) jfail(j, (uint32_t)pos, CHAT_ERR_UNSUPPORTED, "truncated \\%c escape in a string literal", e);
                v = v * 16 + (uint32_t)h;
            }
            if (v > 0x10FFFF) jfail(j, (uint32_t)pos, CHAT_ERR_UNSUPPORTED, "escape beyond U+10FFFF in a string literal");
            i += (size_t)w;
            u8_put(j, &b, v);
            continue;
        }
        if (e == 'N') jfail(j, (uint32_t)pos, CHAT_ERR_UNSUPPORTED, "unsupported \\N{...} escape in a string literal");
        sb_put(j, &b, s + i - 1, 2);
    }
    return sb_done(&b);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_name0(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

/* One token inside a tag at s[p]; returns the position after it. */
static size_t lex_token(J *j, size_t p, char *bal, int *nbal)
{
    const char *s = j->src;
    size_t n = j->n, st = p;
    char c = s[p];
    if (is_digit(c)) {
        char num[80];
        int k = 0, isf = 0;
        int base = 10;
        if (c == '0' && p + 1 < n && strchr("xXoObB", s[p + 1])) {
            base = strchr("xX", s[p + 1]) ? 16 : strchr("oO", s[p + 1]) ? 8 : 2;
            p += 2;
            while (p < n && (hexval(s[p]) >= 0 || s[p] == '_') && k < 70) { if (s[p] != '_') num[k++] = s[p]; p++; }
        } else {
            while (p < n && (is_digit(s[p]) || s[p] == '_') && k < 70) { if (s[p] != '_') num[k++] = s[p]; p++; }
            int after_dot = st > 0 && s[st - 1] == '.';
            if (!after_dot && p + 1 < n && s[p] == '.' && is_digit(s[p + 1])) {
                num[k++] = s[p++];
                while (p < n && (is_digit(s[p]) || s[p] == '_') && k < 70) { if (s[p] != '_') num[k++] = s[p]; p++; }
                isf = 1;
            }
            if (!after_dot && p < n && (s[p] == 'e' || s[p] == 'E')) {
                size_t q = p + 1;
                if (q < n && (s[q] == '+' || s[q] == '-')) q++;
                if (q < n && is_digit(s[q])) {
                    num[k++] = 'e';
                    if (s[p + 1] == '-') num[k++] = '-';
                    p = q;
                    while (p < n && (is_digit(s[p]) || s[p] == '_') && k < 78) { if (s[p] != '_') num[k++] = s[p]; p++; }
                    isf = 1;
                }
            }
        }
        num[k] = 0;
        Tok *t = push_tok(j, isf ? TK_FLOAT : TK_INT, st, s + st, p - st);
        if (isf) t->f = strtod(num, NULL);
        else {
            errno = 0;
            unsigned long long v = strtoull(num, NULL, base);
            if (errno || v > INT64_MAX || k == 0)
                jfail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "integer literal out of range");
            t->i = (int64_t)v;
        }
        return p;
    }
    if (is_name0(c)) {
        while (p < n && (is_name0(s[p]) || is_digit(s[p]))) p++;
        push_tok(j, TK_NAME, st, s + st, p - st);
        return p;
    }
    if (c == '\'' || c == '"') {
        for (p++; p < n && s[p] != c; p++) if (s[p] == '\\') p++;
        if (p >= n) jfail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "unterminated string literal");
        Tok *t = push_tok(j, TK_STR, st, s + st, p + 1 - st);
        t->s = decode_string(j, s + st + 1, p - st - 1, st);
        return p + 1;
    }
    static const char *const ops2[] = { "//", "**", "==", "!=", ">=", "<=" };
    for (int k = 0; k < 6; k++)
        if (p + 1 < n && s[p] == ops2[k][0] && s[p + 1] == ops2[k][1]) { push_tok(j, TK_OP, st, s + st, 2); return p + 2; }
    if (!strchr("+-/*%~[](){}><=.:|,;", c) || c == 0)
        jfail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "unexpected character '%c' in a tag", c);
    if (c == '(' || c == '[' || c == '{') {
        if (*nbal >= MAX_DEPTH) jfail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "brackets nested too deeply");
        bal[(*nbal)++] = c == '(' ? ')' : c == '[' ? ']' : '}';
    } else if (c == ')' || c == ']' || c == '}') {
        if (*nbal == 0) jfail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "unexpected '%c'", c);
        if (bal[*nbal - 1] != c) jfail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "unexpected '%c', expected '%c'", c, bal[*nbal - 1]);
        (*nbal)--;
    }
    push_tok(j, TK_OP, st, s + st, 1);
    return p + 1;
}

static void lex(J *j)
{
    const char *s = j->src;
    size_t n = j->n, pos = 0;
    int line_start = 1;
    char bal[MAX_DEPTH];
    for (;;) {
        size_t t = pos;
        while (t + 1 < n && !(s[t] == '{' && (s[t + 1] == '{' || s[t + 1] == '%' || s[t + 1] == '#'))) t++;
        if (t + 1 >= n) {
            if (pos < n) push_tok(j, TK_DATA, pos, s + pos, n - pos);
            break;
        }
        char kind = s[t + 1], sign = 0;
        size_t after = t + 2, dend = t;
        if (after < n && (s[after] == '-' || s[after] == '+')) sign = s[after++];
        if (sign == '-') {
            while (dend > pos && ascii_ws(s[dend - 1])) dend--;
        } else if (sign != '+' && kind != '{') {             /* lstrip_blocks */
            size_t l = dend;
            while (l > pos && s[l - 1] != '\n') l--;
            int only_ws = l < dend;
            for (size_t k = l; k < dend; k++) if (!ascii_ws(s[k])) only_ws = 0;
            if ((l > pos || line_start) && only_ws) dend = l;
        }
        if (dend > pos) push_tok(j, TK_DATA, pos, s + pos, dend - pos);
        size_t p = after;
        if (kind == '#') {
            const char *e = NULL;
            for (size_t k = after; k + 1 < n; k++) if (s[k] == '#' && s[k + 1] == '}') { e = s + k; break; }
            if (!e) jfail(j, (uint32_t)t, CHAT_ERR_UNSUPPORTED, "missing end of comment tag '#}'");
            size_t k = (size_t)(e - s);
            p = k + 2;
            if (k > after && s[k - 1] == '-') { while (p < n && ascii_ws(s[p])) p++; }
            else if (!(k > after && s[k - 1] == '+') && p < n && s[p] == '\n') p++;
            line_start = s[p - 1] == '\n';
            pos = p;
            continue;
        }
        push_tok(j, kind == '{' ? TK_VB : TK_BB, t, s + t, after - t);
        int nbal = 0;
        for (;;) {
            if (p >= n)
                jfail(j, (uint32_t)t, CHAT_ERR_UNSUPPORTED, "unclosed tag: missing '%s'", kind == '{' ? "}}" : "%}");
            if (nbal == 0) {
                char close = kind == '{' ? '}' : '%';
                size_t q = p;
                int minus = s[q] == '-', plus = s[q] == '+' && kind == '%';
                if (minus || plus) q++;
                if (q + 1 < n && s[q] == close && s[q + 1] == '}') {
                    push_tok(j, kind == '{' ? TK_VE : TK_BE, p, s + p, q + 2 - p);
                    p = q + 2;
                    if (minus) while (p < n && ascii_ws(s[p])) p++;
                    else if (!plus && kind == '%' && p < n && s[p] == '\n') p++;   /* trim_blocks */
                    break;
                }
            }
            if (ascii_ws(s[p])) { p++; continue; }
            p = lex_token(j, p, bal, &nbal);
        }
        line_start = s[p - 1] == '\n';
        pos = p;
    }
    push_tok(j, TK_EOF, n, s + n, 0);
}

/* ---- parser ------------------------------------------------------------------ */

enum {
    N_CONST, N_NAME, N_ATTR, N_ITEM, N_SLICE, N_CALL, N_FILTER, N_TEST, N_NEG, N_POS, N_NOT,
    N_BIN, N_CMP, N_AND, N_OR, N_COND, N_LIST, N_TUPLE, N_DICT,
    S_TEXT, S_PRINT, S_IF, S_FOR, S_SET, S_SETNS, S_SETBLOCK, S_BREAK, S_CONTINUE, S_BODY
};

typedef struct Node Node;
struct Node {
    int      k, op;
    uint32_t pos;
    Node    *a, *b, *c;
    Node   **v; int n;                 /* args, items, body, compared operands */
    Node   **w; int m;                 /* kwarg values, dict values, else body */
    Str     *names; int nn;            /* kwarg names, assignment targets */
    int     *ops;                      /* comparison operators */
    Str      s;                        /* name, attribute, filter, text */
    Val      val;
};

typedef struct NV { Node **v; int n, cap; } NV;
static void nv_push(J *j, NV *v, Node *x)
{
    if (v->n == v->cap) {
        int c = v->cap ? v->cap * 2 : 4;
        v->v = arena_grow(&j->a, v->v, sizeof(Node *) * (size_t)v->cap, sizeof(Node *) * (size_t)c);
        v->cap = c;
    }
    v->v[v->n++] = x;
}
static void names_push(J *j, Str **v, int *n, Str s)
{
    Str *nv = ARENA_ARRAY(&j->a, Str, *n + 1);
    if (*n) memcpy(nv, *v, sizeof(Str) * (size_t)*n);
    nv[(*n)++] = s;
    *v = nv;
}

static Node *mk(J *j, int k, uint32_t pos)
{
    Node *x = ARENA_NEW(&j->a, Node);
    x->k = k;
    x->pos = pos;
    return x;
}

static Tok *cur(J *j) { return &j->t[j->tp]; }
static Tok *peek1(J *j) { return &j->t[j->tp + 1 < j->nt ? j->tp + 1 : j->nt - 1]; }
static Tok *advance(J *j) { Tok *t = cur(j); if (t->k != TK_EOF) j->tp++; return t; }
static int is_op(const Tok *t, const char *op) { return t->k == TK_OP && str_eq(t->s, op); }
static int is_name(const Tok *t, const char *nm) { return t->k == TK_NAME && str_eq(t->s, nm); }

static const char *describe(J *j, const Tok *t)
{
    switch (t->k) {
    case TK_EOF: return "end of template";
    case TK_VE:  return "end of expression '}}'";
    case TK_BE:  return "end of statement '%}'";
    case TK_VB:  return "'{{'";
    case TK_BB:  return "'{%'";
    case TK_STR: return "string literal";
    case TK_INT: case TK_FLOAT: return "number";
    default:     return arena_printf(&j->a, "'%.*s'", (int)(t->s.n > 40 ? 40 : t->s.n), t->s.s);
    }
}
static _Noreturn void unexpected(J *j, const char *want)
{
    Tok *t = cur(j);
    if (want) jfail(j, t->pos, CHAT_ERR_UNSUPPORTED, "expected %s, found %s", want, describe(j, t));
    jfail(j, t->pos, CHAT_ERR_UNSUPPORTED, "unexpected %s", describe(j, t));
}
static void expect_op(J *j, const char *op)
{
    if (!is_op(cur(j), op)) unexpected(j, arena_printf(&j->a, "'%s'", op));
    advance(j);
}
static void expect_kind(J *j, int k)
{
    if (cur(j)->k != k) unexpected(j, k == TK_BE ? "end of statement '%}'" : "end of expression '}}'");
    advance(j);
}
static Str expect_name(J *j)
{
    if (cur(j)->k != TK_NAME) unexpected(j, "a name");
    return advance(j)->s;
}
static void enter(J *j)
{
    if (++j->depth > MAX_DEPTH) jfail(j, cur(j)->pos, CHAT_ERR_UNSUPPORTED, "template nested too deeply");
}

static Node *parse_expression(J *j, int condexpr);
static Node *parse_tuple(J *j, int condexpr, int parens);
static Node *parse_unary(J *j, int with_filter);

static void parse_call_args(J *j, Node *x)
{
    expect_op(j, "(");
    NV args = { 0 }, kw = { 0 };
    while (!is_op(cur(j), ")")) {
        if (args.n || kw.n) {
            expect_op(j, ",");
            if (is_op(cur(j), ")")) break;
        }
        if (is_op(cur(j), "*") || is_op(cur(j), "**"))
            jfail(j, cur(j)->pos, CHAT_ERR_UNSUPPORTED, "unsupported: *args and **kwargs in calls");
        if (cur(j)->k == TK_NAME && is_op(peek1(j), "=")) {
            Str nm = advance(j)->s;
            advance(j);
            names_push(j, &x->names, &x->nn, nm);
            nv_push(j, &kw, parse_expression(j, 1));
        } else {
            if (kw.n) jfail(j, cur(j)->pos, CHAT_ERR_UNSUPPORTED, "positional argument after a keyword argument");
            nv_push(j, &args, parse_expression(j, 1));
        }
    }
    expect_op(j, ")");
    x->v = args.v; x->n = args.n;
    x->w = kw.v; x->m = kw.n;
}

static Node *parse_primary(J *j)
{
    Tok *t = cur(j);
    Node *x;
    enter(j);
    switch (t->k) {
    case TK_NAME:
        advance(j);
        x = mk(j, N_CONST, t->pos);
        if (str_eq(t->s, "true") || str_eq(t->s, "True")) x->val = v_bool(1);
        else if (str_eq(t->s, "false") || str_eq(t->s, "False")) x->val = v_bool(0);
        else if (str_eq(t->s, "none") || str_eq(t->s, "None")) x->val = v_none();
        else { x->k = N_NAME; x->s = t->s; }
        break;
    case TK_STR: {
        x = mk(j, N_CONST, t->pos);
        SB b = { 0 };
        sb_put(j, &b, "", 0);
        while (cur(j)->k == TK_STR) sb_str(j, &b, advance(j)->s);   /* 'a' "b" is 'ab' */
        x->val = v_str(sb_done(&b));
        break;
    }
    case TK_INT: advance(j); x = mk(j, N_CONST, t->pos); x->val = v_int(t->i); break;
    case TK_FLOAT: advance(j); x = mk(j, N_CONST, t->pos); x->val = v_float(t->f); break;
    case TK_OP:
        if (is_op(t, "(")) {
            advance(j);
            x = parse_tuple(j, 1, 1);
            expect_op(j, ")");
            break;
        }
        if (is_op(t, "[") || is_op(t, "{")) {
            int dict = is_op(t, "{");
            const char *close = dict ? "}" : "]";
            advance(j);
            x = mk(j, dict ? N_DICT : N_LIST, t->pos);
            NV items = { 0 }, vals = { 0 };
            while (!is_op(cur(j), close)) {
                if (items.n) { expect_op(j, ","); if (is_op(cur(j), close)) break; }
                nv_push(j, &items, parse_expression(j, 1));
                if (dict) { expect_op(j, ":"); nv_push(j, &vals, parse_expression(j, 1)); }
            }
            expect_op(j, close);
            x->v = items.v; x->n = items.n;
            x->w = vals.v; x->m = vals.n;
            break;
        }
        /* fall through */
    default:
        unexpected(j, NULL);
    }
    j->depth--;
    return x;
}

static Node *parse_subscript(J *j, Node *obj)
{
    Tok *t = advance(j);
    if (is_op(t, ".")) {
        Tok *a = advance(j);
        Node *x = mk(j, a->k == TK_NAME ? N_ATTR : N_ITEM, t->pos);
        x->a = obj;
        if (a->k == TK_NAME) x->s = a->s;
        else if (a->k == TK_INT) { x->b = mk(j, N_CONST, a->pos); x->b->val = v_int(a->i); }
        else { j->tp--; unexpected(j, "an attribute name"); }
        return x;
    }
    NV args = { 0 };
    while (!is_op(cur(j), "]")) {
        if (args.n) expect_op(j, ",");
        Node *lo = NULL;
        if (!is_op(cur(j), ":")) {
            lo = parse_expression(j, 1);
            if (!is_op(cur(j), ":")) { nv_push(j, &args, lo); continue; }
        }
        Node *sl = mk(j, N_SLICE, cur(j)->pos);
        advance(j);                                        /* ':' */
        sl->a = lo;
        if (!is_op(cur(j), "]") && !is_op(cur(j), ",") && !is_op(cur(j), ":")) sl->b = parse_expression(j, 1);
        if (is_op(cur(j), ":")) {
            advance(j);
            if (!is_op(cur(j), "]") && !is_op(cur(j), ",")) sl->c = parse_expression(j, 1);
        }
        nv_push(j, &args, sl);
    }
    expect_op(j, "]");
    if (args.n == 0) jfail(j, t->pos, CHAT_ERR_UNSUPPORTED, "empty subscript");
    Node *x = mk(j, N_ITEM, t->pos);
    x->a = obj;
    if (args.n == 1) x->b = args.v[0];
    else { x->b = mk(j, N_TUPLE, t->pos); x->b->v = args.v; x->b->n = args.n; }
    return x;
}

static Node *parse_postfix(J *j, Node *x)
{
    for (;;) {
        if (is_op(cur(j), ".") || is_op(cur(j), "[")) x = parse_subscript(j, x);
        else if (is_op(cur(j), "(")) {
            Node *c = mk(j, N_CALL, x->pos);            /* errors point at the callee */
            c->a = x;
            parse_call_args(j, c);
            x = c;
        } else return x;
    }
}

static Node *parse_filter_expr(J *j, Node *x)
{
    for (;;) {
        Tok *t = cur(j);
        if (is_op(t, "|")) {
            advance(j);
            Node *f = mk(j, N_FILTER, t->pos);
            f->a = x;
            f->s = expect_name(j);
            while (is_op(cur(j), ".")) {               /* dotted filter names */
                advance(j);
                Str more = expect_name(j);
                f->s.n = (size_t)(more.s + more.n - f->s.s);
            }
            if (is_op(cur(j), "(")) parse_call_args(j, f);
            x = f;
        } else if (is_name(t, "is")) {
            advance(j);
            Node *f = mk(j, N_TEST, t->pos);
            f->a = x;
            if (is_name(cur(j), "not")) { advance(j); f->op = 1; }
            f->s = expect_name(j);
            Tok *c = cur(j);
            if (is_op(c, "(")) parse_call_args(j, f);
            else if ((c->k == TK_NAME || c->k == TK_STR || c->k == TK_INT || c->k == TK_FLOAT ||
                      is_op(c, "[") || is_op(c, "{")) &&
                     !is_name(c, "else") && !is_name(c, "or") && !is_name(c, "and")) {
                if (is_name(c, "is")) jfail(j, c->pos, CHAT_ERR_UNSUPPORTED, "tests cannot be chained with 'is'");
                Node *arg = parse_postfix(j, parse_primary(j));
                f->v = ARENA_ARRAY(&j->a, Node *, 1);
                f->v[0] = arg;
                f->n = 1;
            }
            x = f;
        } else if (is_op(t, "(")) {
            Node *c = mk(j, N_CALL, t->pos);
            c->a = x;
            parse_call_args(j, c);
            x = c;
        } else return x;
    }
}

static Node *parse_unary(J *j, int with_filter)
{
    Tok *t = cur(j);
    Node *x;
    enter(j);
    if (is_op(t, "-") || is_op(t, "+")) {
        advance(j);
        x = mk(j, is_op(t, "-") ? N_NEG : N_POS, t->pos);
        x->a = parse_unary(j, 0);
    } else x = parse_primary(j);
    x = parse_postfix(j, x);
    if (with_filter) x = parse_filter_expr(j, x);
    j->depth--;
    return x;
}

static Node *bin(J *j, int op, uint32_t pos, Node *a, Node *b)
{
    Node *x = mk(j, N_BIN, pos);
    x->op = op; x->a = a; x->b = b;
    return x;
}

static Node *parse_pow(J *j)
{
    Node *x = parse_unary(j, 1);
    while (is_op(cur(j), "**")) { uint32_t p = advance(j)->pos; x = bin(j, 'P', p, x, parse_unary(j, 1)); }
    return x;
}
static Node *parse_math2(J *j)
{
    Node *x = parse_pow(j);
    for (;;) {
        Tok *t = cur(j);
        int op = is_op(t, "*") ? '*' : is_op(t, "/") ? '/' : is_op(t, "//") ? 'F' : is_op(t, "%") ? '%' : 0;
        if (!op) return x;
        advance(j);
        x = bin(j, op, t->pos, x, parse_pow(j));
    }
}
static Node *parse_concat(J *j)
{
    Node *x = parse_math2(j);
    while (is_op(cur(j), "~")) { uint32_t p = advance(j)->pos; x = bin(j, '~', p, x, parse_math2(j)); }
    return x;
}
static Node *parse_math1(J *j)
{
    Node *x = parse_concat(j);
    for (;;) {
        Tok *t = cur(j);
        int op = is_op(t, "+") ? '+' : is_op(t, "-") ? '-' : 0;
        if (!op) return x;
        advance(j);
        x = bin(j, op, t->pos, x, parse_concat(j));
    }
}
static Node *parse_compare(J *j)
{
    Node *x = parse_math1(j), *c = NULL;
    NV rhs = { 0 };
    int ops[64], nops = 0;
    for (;;) {
        Tok *t = cur(j);
        int op = is_op(t, "==") ? 'E' : is_op(t, "!=") ? 'N' : is_op(t, "<") ? '<' : is_op(t, "<=") ? 'L' :
                 is_op(t, ">") ? '>' : is_op(t, ">=") ? 'G' : is_name(t, "in") ? 'I' :
                 (is_name(t, "not") && is_name(peek1(j), "in")) ? 'X' : 0;
        if (!op) break;
        if (nops == 64) jfail(j, t->pos, CHAT_ERR_UNSUPPORTED, "comparison chain too long");
        if (!c) { c = mk(j, N_CMP, t->pos); c->a = x; }
        advance(j);
        if (op == 'X') advance(j);
        ops[nops++] = op;
        nv_push(j, &rhs, parse_math1(j));
    }
    if (!c) return x;
    c->v = rhs.v; c->n = rhs.n;
    c->ops = ARENA_ARRAY(&j->a, int, nops);
    memcpy(c->ops, ops, sizeof(int) * (size_t)nops);
    return c;
}
static Node *parse_not(J *j)
{
    if (is_name(cur(j), "not")) {
        Node *x = mk(j, N_NOT, advance(j)->pos);
        enter(j);
        x->a = parse_not(j);
        j->depth--;
        return x;
    }
    return parse_compare(j);
}
static Node *parse_and(J *j)
{
    Node *x = parse_not(j);
    while (is_name(cur(j), "and")) { uint32_t p = advance(j)->pos; Node *y = mk(j, N_AND, p); y->a = x; y->b = parse_not(j); x = y; }
    return x;
}
static Node *parse_or(J *j)
{
    Node *x = parse_and(j);
    while (is_name(cur(j), "or")) { uint32_t p = advance(j)->pos; Node *y = mk(j, N_OR, p); y->a = x; y->b = parse_and(j); x = y; }
    return x;
}
static Node *parse_condexpr(J *j)
{
    Node *x = parse_or(j);
    while (is_name(cur(j), "if")) {
        Node *c = mk(j, N_COND, advance(j)->pos);
        c->a = x;
        c->b = parse_or(j);
        if (is_name(cur(j), "else")) {
            advance(j);
            enter(j);
            c->c = parse_condexpr(j);
            j->depth--;
        }
        x = c;
    }
    return x;
}
static Node *parse_expression(J *j, int condexpr) { return condexpr ? parse_condexpr(j) : parse_or(j); }

static int tuple_end(J *j)
{
    Tok *t = cur(j);
    return t->k == TK_VE || t->k == TK_BE || t->k == TK_EOF || is_op(t, ")") || is_op(t, "=") ||
           is_name(t, "if") || is_name(t, "in") || is_name(t, "recursive");
}

static Node *parse_tuple(J *j, int condexpr, int parens)
{
    uint32_t pos = cur(j)->pos;
    NV items = { 0 };
    int is_tuple = 0;
    for (;;) {
        if (items.n) expect_op(j, ",");
        if (tuple_end(j)) break;
        nv_push(j, &items, parse_expression(j, condexpr));
        if (is_op(cur(j), ",")) is_tuple = 1;
        else break;
    }
    if (!is_tuple) {
        if (items.n) return items.v[0];
        if (!parens) unexpected(j, "an expression");
    }
    Node *x = mk(j, N_TUPLE, pos);
    x->v = items.v;
    x->n = items.n;
    return x;
}

/* assignment targets: NAME, or NAME, NAME ... (optionally in parentheses) */
static void parse_targets(J *j, Node *x)
{
    int paren = is_op(cur(j), "(");
    if (paren) advance(j);
    for (;;) {
        names_push(j, &x->names, &x->nn, expect_name(j));
        if (!is_op(cur(j), ",")) break;
        advance(j);
        if (is_name(cur(j), "in") || is_op(cur(j), "=") || is_op(cur(j), ")")) break;
    }
    if (paren) expect_op(j, ")");
}

static NV parse_body(J *j, const char *const *ends, int *which);

static Node *parse_stmt(J *j)
{
    Tok *t = advance(j);                  /* the tag name */
    Node *x;
    int which;
    if (is_name(t, "if")) {
        x = mk(j, S_IF, t->pos);
        Node *c = x;
        static const char *const ends[] = { "elif", "else", "endif", NULL };
        for (;;) {
            c->a = parse_tuple(j, 1, 0);
            expect_kind(j, TK_BE);
            NV body = parse_body(j, ends, &which);
            c->v = body.v; c->n = body.n;
            if (which == 0) {                  /* elif: a nested if in the else branch */
                Node *e = mk(j, S_IF, j->t[j->tp - 1].pos);
                c->w = ARENA_ARRAY(&j->a, Node *, 1);
                c->w[0] = e; c->m = 1;
                c = e;
                continue;
            }
            expect_kind(j, TK_BE);
            if (which == 1) {
                static const char *const endif[] = { "endif", NULL };
                NV eb = parse_body(j, endif, &which);
                c->w = eb.v; c->m = eb.n;
                expect_kind(j, TK_BE);
            }
            return x;
        }
    }
    if (is_name(t, "for")) {
        x = mk(j, S_FOR, t->pos);
        parse_targets(j, x);
        if (!is_name(cur(j), "in")) unexpected(j, "'in'");
        advance(j);
        x->a = parse_tuple(j, 0, 0);
        if (is_name(cur(j), "if")) { advance(j); x->b = parse_expression(j, 1); }
        if (is_name(cur(j), "recursive")) jfail(j, cur(j)->pos, CHAT_ERR_UNSUPPORTED, "unsupported: recursive loops");
        expect_kind(j, TK_BE);
        static const char *const ends[] = { "endfor", "else", NULL };
        j->loops++;
        NV body = parse_body(j, ends, &which);
        j->loops--;
        x->v = body.v; x->n = body.n;
        expect_kind(j, TK_BE);
        if (which == 1) {
            static const char *const endfor[] = { "endfor", NULL };
            NV eb = parse_body(j, endfor, &which);
            x->w = eb.v; x->m = eb.n;
            expect_kind(j, TK_BE);
        }
        return x;
    }
    if (is_name(t, "set")) {
        x = mk(j, S_SET, t->pos);
        if (cur(j)->k == TK_NAME && is_op(peek1(j), ".")) {      /* set ns.attr = ... */
            x->k = S_SETNS;
            names_push(j, &x->names, &x->nn, advance(j)->s);
            advance(j);
            x->s = expect_name(j);
        } else parse_targets(j, x);
        if (is_op(cur(j), "=")) {
            advance(j);
            x->a = parse_tuple(j, 1, 0);
            expect_kind(j, TK_BE);
            return x;
        }
        if (x->k != S_SET || x->nn != 1 || cur(j)->k != TK_BE)
            unexpected(j, "'='");
        advance(j);
        x->k = S_SETBLOCK;
        static const char *const endset[] = { "endset", NULL };
        NV body = parse_body(j, endset, &which);
        x->v = body.v; x->n = body.n;
        expect_kind(j, TK_BE);
        return x;
    }
    if (is_name(t, "break") || is_name(t, "continue")) {
        if (!j->loops) jfail(j, t->pos, CHAT_ERR_UNSUPPORTED, "'%.*s' outside of a loop", (int)t->s.n, t->s.s);
        x = mk(j, is_name(t, "break") ? S_BREAK : S_CONTINUE, t->pos);
        expect_kind(j, TK_BE);
        return x;
    }
    if (is_name(t, "generation")) {      /* transformers' assistant-mask marker: renders its body */
        x = mk(j, S_BODY, t->pos);
        expect_kind(j, TK_BE);
        static const char *const endgen[] = { "endgeneration", NULL };
        NV body = parse_body(j, endgen, &which);
        x->v = body.v; x->n = body.n;
        expect_kind(j, TK_BE);
        return x;
    }
    static const char *const known[] = { "macro", "call", "filter", "include", "import", "from", "extends",
                                         "block", "with", "raw", "autoescape", "do", "trans", NULL };
    for (int i = 0; known[i]; i++)
        if (is_name(t, known[i]))
            jfail(j, t->pos, CHAT_ERR_UNSUPPORTED, "unsupported tag '%s'", known[i]);
    if (t->k != TK_NAME) { j->tp--; unexpected(j, "a tag name"); }
    jfail(j, t->pos, CHAT_ERR_UNSUPPORTED, "unknown tag '%.*s'", (int)t->s.n, t->s.s);
}

/* Statements up to (not including) one of the end tags in `ends` (NULL
 * means: up to the end of the template).  On return at an end tag, its
 * name has been consumed and *which is its index. */
static NV parse_body(J *j, const char *const *ends, int *which)
{
    NV body = { 0 };
    enter(j);
    for (;;) {
        Tok *t = cur(j);
        if (t->k == TK_EOF) {
            if (!ends) break;
            jfail(j, t->pos, CHAT_ERR_UNSUPPORTED, "unexpected end of template: missing '{%% %s %%}'", ends[0]);
        }
        if (t->k == TK_DATA) {
            Node *x = mk(j, S_TEXT, t->pos);
            x->s = t->s;
            nv_push(j, &body, x);
            advance(j);
        } else if (t->k == TK_VB) {
            advance(j);
            Node *x = mk(j, S_PRINT, t->pos);
            x->a = parse_tuple(j, 1, 0);
            expect_kind(j, TK_VE);
            nv_push(j, &body, x);
        } else if (t->k == TK_BB) {
            advance(j);
            Tok *nm = cur(j);
            for (int i = 0; ends && ends[i]; i++)
                if (is_name(nm, ends[i])) { advance(j); *which = i; j->depth--; return body; }
            if (nm->k == TK_NAME && (str_eq(nm->s, "endif") || str_eq(nm->s, "endfor") || str_eq(nm->s, "elif") ||
                                     str_eq(nm->s, "else") || str_eq(nm->s, "endset") || str_eq(nm->s, "endgeneration")))
                jfail(j, nm->pos, CHAT_ERR_UNSUPPORTED, "unexpected '%.*s'%s%s%s", (int)nm->s.n, nm->s.s,
                      ends ? " (expected '" : "", ends ? ends[0] : "", ends ? "')" : "");
            nv_push(j, &body, parse_stmt(j));
        } else unexpected(j, NULL);
    }
    j->depth--;
    return body;
}

/* ---- evaluation: scopes, truth, equality ------------------------------------ */

typedef struct Scope { struct Scope *up; Str *k; Val *v; int n, cap; } Scope;

static Val *scope_find(Scope *sc, Str name)
{
    for (; sc; sc = sc->up)
        for (int i = sc->n - 1; i >= 0; i--)
            if (str_same(sc->k[i], name)) return &sc->v[i];
    return NULL;
}
static void scope_set(J *j, Scope *sc, Str name, Val v)
{
    for (int i = 0; i < sc->n; i++) if (str_same(sc->k[i], name)) { sc->v[i] = v; return; }
    if (sc->n == sc->cap) {
        int c = sc->cap ? sc->cap * 2 : 8;
        sc->k = arena_grow(&j->a, sc->k, sizeof(Str) * (size_t)sc->cap, sizeof(Str) * (size_t)c);
        sc->v = arena_grow(&j->a, sc->v, sizeof(Val) * (size_t)sc->cap, sizeof(Val) * (size_t)c);
        sc->cap = c;
    }
    sc->k[sc->n] = name;
    sc->v[sc->n++] = v;
}

static int truthy(Val v)
{
    switch (v.k) {
    case V_BOOL:  return v.u.b;
    case V_INT:   return v.u.i != 0;
    case V_FLOAT: return v.u.f != 0.0;
    case V_STR:   return v.u.s.n > 0;
    case V_LIST:  return v.u.l->n > 0;
    case V_DICT:  return v.u.d->ns || v.u.d->n > 0;
    case V_FUNC:  return 1;
    default:      return 0;
    }
}

static int is_num(Val v) { return v.k == V_BOOL || v.k == V_INT || v.k == V_FLOAT; }
static int is_intlike(Val v) { return v.k == V_BOOL || v.k == V_INT; }
static int64_t as_int(Val v) { return v.k == V_BOOL ? v.u.b : v.u.i; }
static double as_f(Val v) { return v.k == V_FLOAT ? v.u.f : (double)as_int(v); }

static int eq(Val a, Val b)
{
    if (is_num(a) && is_num(b))
        return is_intlike(a) && is_intlike(b) ? as_int(a) == as_int(b) : as_f(a) == as_f(b);
    if (a.k != b.k) return 0;
    switch (a.k) {
    case V_UNDEF: case V_NONE: return 1;
    case V_STR:  return str_same(a.u.s, b.u.s);
    case V_LIST:
        if (a.u.l->n != b.u.l->n || a.u.l->tuple != b.u.l->tuple) return 0;
        for (int i = 0; i < a.u.l->n; i++) if (!eq(a.u.l->v[i], b.u.l->v[i])) return 0;
        return 1;
    case V_DICT:
        if (a.u.d->ns || b.u.d->ns) return a.u.d == b.u.d;
        if (a.u.d->n != b.u.d->n) return 0;
        for (int i = 0; i < a.u.d->n; i++) {
            Val *o = dict_find(b.u.d, a.u.d->k[i]);
            if (!o || !eq(a.u.d->v[i], *o)) return 0;
        }
        return 1;
    case V_FUNC: return a.fn == b.fn && a.u.self == b.u.self;
    default:     return 0;
    }
}

/* <0, 0, >0 for Python's ordering of numbers, strings and lists */
static int order(J *j, Val a, Val b, const char *op)
{
    if (is_num(a) && is_num(b)) {
        if (is_intlike(a) && is_intlike(b)) return (as_int(a) > as_int(b)) - (as_int(a) < as_int(b));
        return (as_f(a) > as_f(b)) - (as_f(a) < as_f(b));
    }
    if (a.k == V_STR && b.k == V_STR) {
        size_t m = a.u.s.n < b.u.s.n ? a.u.s.n : b.u.s.n;
        int c = m ? memcmp(a.u.s.s, b.u.s.s, m) : 0;
        return c ? c : (a.u.s.n > b.u.s.n) - (a.u.s.n < b.u.s.n);
    }
    if (a.k == V_LIST && b.k == V_LIST) {
        for (int i = 0; i < a.u.l->n && i < b.u.l->n; i++)
            if (!eq(a.u.l->v[i], b.u.l->v[i])) return order(j, a.u.l->v[i], b.u.l->v[i], op);
        return (a.u.l->n > b.u.l->n) - (a.u.l->n < b.u.l->n);
    }
    if (a.k == V_UNDEF) TFAIL(j, "%s", a.u.why);
    if (b.k == V_UNDEF) TFAIL(j, "%s", b.u.why);
    TFAIL(j, "'%s' not supported between instances of '%s' and '%s'", op, tname(a), tname(b));
}

/* the elements a for loop visits: list items, dict keys, characters */
static List *iterate(J *j, Val v)
{
    if (v.k == V_LIST) return v.u.l;
    if (v.k == V_UNDEF) return list_new(j, 0);
    if (v.k == V_DICT && !v.u.d->ns) {
        List *l = list_new(j, v.u.d->n);
        for (int i = 0; i < v.u.d->n; i++) l->v[i] = v_str(v.u.d->k[i]);
        return l;
    }
    if (v.k == V_STR) {
        List *l = list_new(j, (int)u8_len(v.u.s));
        size_t i = 0;
        for (int k = 0; k < l->n; k++) {
            size_t st = i;
            u8_next(v.u.s.s, v.u.s.n, &i);
            Str c = { v.u.s.s + st, i - st };
            l->v[k] = v_str(c);
        }
        return l;
    }
    TFAIL(j, "'%s' object is not iterable", tname(v));
}

static int contains(J *j, Val hay, Val needle)
{
    if (hay.k == V_STR) {
        if (needle.k != V_STR) TFAIL(j, "'in <string>' requires string as left operand, not %s", tname(needle));
        if (needle.u.s.n == 0) return 1;
        return memmem(hay.u.s.s, hay.u.s.n, needle.u.s.s, needle.u.s.n) != NULL;
    }
    if (hay.k == V_DICT && !hay.u.d->ns) return needle.k == V_STR && dict_find(hay.u.d, needle.u.s) != NULL;
    List *l = iterate(j, hay);
    for (int i = 0; i < l->n; i++) if (eq(l->v[i], needle)) return 1;
    return 0;
}

/* ---- attribute and item access ------------------------------------------------ */

static Val bind_method(J *j, Val o, int fn)
{
    Val *self = ARENA_NEW(&j->a, Val);
    *self = o;
    return v_func(fn, self);
}

static Val getattr_v(J *j, Val o, Str name)
{
    if (o.k == V_UNDEF) TFAIL(j, "%s", o.u.why);
    if (o.k == V_DICT) {
        if (!o.u.d->ns)
            for (int i = 0; DICT_METHODS[i]; i++) if (str_eq(name, DICT_METHODS[i])) return bind_method(j, o, F_DICT0 + i);
        Val *p = dict_find(o.u.d, name);
        if (p) return *p;
    }
    if (o.k == V_STR)
        for (int i = 0; STR_METHODS[i]; i++) if (str_eq(name, STR_METHODS[i])) return bind_method(j, o, F_STR0 + i);
    return v_undef(arena_printf(&j->a, "'%s' has no attribute '%.*s'",
                                o.k == V_NONE ? "None" : o.k == V_DICT ? "dict object" : tname(o), (int)name.n, name.s));
}

/* Python's slice.indices() */
static int slice_idx(J *j, Val v, int64_t dflt, int64_t len, int64_t step)
{
    if (v.k == V_UNDEF || v.k == V_NONE) return (int)dflt;
    if (!is_intlike(v)) TFAIL(j, "slice indices must be integers or None");
    int64_t i = as_int(v);
    if (i < 0) { i += len; if (i < 0) i = step < 0 ? -1 : 0; }
    else if (i >= len) i = step < 0 ? len - 1 : len;
    return (int)i;
}

static Val slice(J *j, Val o, Val lo, Val hi, Val st)
{
    int64_t step = 1;
    if (st.k != V_UNDEF && st.k != V_NONE) {
        if (!is_intlike(st)) TFAIL(j, "slice indices must be integers or None");
        step = as_int(st);
        if (step == 0) TFAIL(j, "slice step cannot be zero");
    }
    List *src = o.k == V_LIST ? o.u.l : o.k == V_STR ? iterate(j, o) : NULL;
    if (!src) {
        if (o.k == V_UNDEF) TFAIL(j, "%s", o.u.why);
        return v_undef(arena_printf(&j->a, "'%s' object is not subscriptable", tname(o)));
    }
    int64_t len = src->n;
    int64_t a = slice_idx(j, lo, step < 0 ? len - 1 : 0, len, step);
    int64_t b = slice_idx(j, hi, step < 0 ? -1 : len, len, step);
    int cnt = 0;
    for (int64_t i = a; step > 0 ? i < b : i > b; i += step) cnt++;
    List *r = list_new(j, cnt);
    r->tuple = src->tuple;
    int k = 0;
    for (int64_t i = a; step > 0 ? i < b : i > b; i += step) r->v[k++] = src->v[i];
    if (o.k == V_LIST) return v_list(r);
    SB b2 = { 0 };
    sb_put(j, &b2, "", 0);
    for (int i = 0; i < r->n; i++) sb_str(j, &b2, r->v[i].u.s);
    return v_str(sb_done(&b2));
}

static Val getitem_v(J *j, Val o, Val key)
{
    if (o.k == V_UNDEF) TFAIL(j, "%s", o.u.why);
    if (o.k == V_DICT && key.k == V_STR) {
        Val *p = dict_find(o.u.d, key.u.s);
        if (p) return *p;
        return getattr_v(j, o, key.u.s);
    }
    if ((o.k == V_LIST || o.k == V_STR) && is_intlike(key)) {
        List *l = o.k == V_LIST ? o.u.l : iterate(j, o);
        int64_t i = as_int(key);
        if (i < 0) i += l->n;
        if (i >= 0 && i < l->n) return l->v[i];
        return v_undef(arena_printf(&j->a, "%s object has no element %lld", tname(o), (long long)as_int(key)));
    }
    if (key.k == V_STR) return getattr_v(j, o, key.u.s);
    Str ks = val_str(j, key);
    return v_undef(arena_printf(&j->a, "'%s' has no item %.*s", tname(o), (int)(ks.n > 40 ? 40 : ks.n), ks.s));
}

/* ---- arithmetic ------------------------------------------------------------------- */

static Val repeat(J *j, Val seq, int64_t times)
{
    if (times < 0) times = 0;
    if (seq.k == V_STR) {
        if (seq.u.s.n && (uint64_t)times > MAX_OUTPUT / seq.u.s.n) TFAIL(j, "string longer than %zu bytes", MAX_OUTPUT);
        SB b = { 0 };
        sb_put(j, &b, "", 0);
        for (int64_t i = 0; i < times; i++) sb_str(j, &b, seq.u.s);
        return v_str(sb_done(&b));
    }
    if (seq.u.l->n && times > MAX_RANGE / seq.u.l->n) TFAIL(j, "list too long");
    List *r = list_new(j, (int)(seq.u.l->n * times));
    r->tuple = seq.u.l->tuple;
    for (int i = 0; i < r->n; i++) r->v[i] = seq.u.l->v[i % seq.u.l->n];
    return v_list(r);
}

static Val binop(J *j, int op, Val a, Val b)
{
    static const char *const names[128] = { ['+'] = "+", ['-'] = "-", ['*'] = "*", ['/'] = "/",
                                            ['F'] = "//", ['%'] = "%", ['P'] = "**" };
    if (op == '~') {
        SB s = { 0 };
        sb_put(j, &s, "", 0);
        to_str(j, &s, a);
        to_str(j, &s, b);
        return v_str(sb_done(&s));
    }
    if (a.k == V_UNDEF) TFAIL(j, "%s", a.u.why);
    if (b.k == V_UNDEF) TFAIL(j, "%s", b.u.why);
    if (is_intlike(a) && is_intlike(b)) {
        int64_t x = as_int(a), y = as_int(b), r = 0;
        int ovf = 0;
        switch (op) {
        case '+': ovf = __builtin_add_overflow(x, y, &r); break;
        case '-': ovf = __builtin_sub_overflow(x, y, &r); break;
        case '*': ovf = __builtin_mul_overflow(x, y, &r); break;
        case '/': if (y == 0) TFAIL(j, "division by zero"); return v_float((double)x / (double)y);
        case 'F': case '%':
            if (y == 0) TFAIL(j, "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) { ovf = 1; break; }
            r = x % y;
            if (op == '%') { if (r && ((r < 0) != (y < 0))) r += y; }
            else { r = x / y; if ((x % y) && ((x < 0) != (y < 0))) r--; }
            break;
        case 'P':
            if (y < 0) return v_float(pow((double)x, (double)y));
            r = 1;
            for (int64_t base = x, e = y; e > 0 && !ovf;) {   /* by squaring */
                if (e & 1) ovf = __builtin_mul_overflow(r, base, &r);
                e >>= 1;
                if (e && !ovf) ovf = __builtin_mul_overflow(base, base, &base);
            }
            break;
        }
        if (ovf) TFAIL(j, "integer overflow in '%s' (64-bit integers)", names[op]);
        return v_int(r);
    }
    if (is_num(a) && is_num(b)) {
        double x = as_f(a), y = as_f(b);
        switch (op) {
        case '+': return v_float(x + y);
        case '-': return v_float(x - y);
        case '*': return v_float(x * y);
        case '/': if (y == 0) TFAIL(j, "float division by zero"); return v_float(x / y);
        case 'F': if (y == 0) TFAIL(j, "float floor division by zero"); return v_float(floor(x / y));
        case '%': {
            if (y == 0) TFAIL(j, "float modulo");
            double r = fmod(x, y);
            if (r != 0 && ((r < 0) != (y < 0))) r += y;
            return v_float(r);
        }
        case 'P': return v_float(pow(x, y));
        }
    }
    if (op == '+' && a.k == V_STR && b.k == V_STR) {
        SB s = { 0 };
        sb_put(j, &s, "", 0);
        sb_str(j, &s, a.u.s);
        sb_str(j, &s, b.u.s);
        return v_str(sb_done(&s));
    }
    if (op == '+' && a.k == V_LIST && b.k == V_LIST && a.u.l->tuple == b.u.l->tuple) {
        List *r = list_new(j, a.u.l->n + b.u.l->n);
        r->tuple = a.u.l->tuple;
        for (int i = 0; i < a.u.l->n; i++) r->v[i] = a.u.l->v[i];
        for (int i = 0; i < b.u.l->n; i++) r->v[a.u.l->n + i] = b.u.l->v[i];
        return v_list(r);
    }
    if (op == '*' && (a.k == V_STR || a.k == V_LIST) && is_intlike(b)) return repeat(j, a, as_int(b));
    if (op == '*' && (b.k == V_STR || b.k == V_LIST) && is_intlike(a)) return repeat(j, b, as_int(a));
    if (op == '%' && a.k == V_STR) UFAIL(j, "unsupported: '%%' string formatting");
    TFAIL(j, "unsupported operand type(s) for %s: '%s' and '%s'", names[op], tname(a), tname(b));
}

/* ---- calls: arguments ------------------------------------------------------------- */

typedef struct Args {
    Val *a; int na;
    Str *kn; Val *kv; int nk;
    unsigned used;                     /* keyword arguments consumed */
    int maxpos;                        /* positional arguments consumed */
    const char *what;                  /* "filter 'join'" */
} Args;

static Val arg(Args *c, int idx, const char *name, Val dflt)
{
    if (idx >= 0 && idx < c->na) { if (idx + 1 > c->maxpos) c->maxpos = idx + 1; return c->a[idx]; }
    for (int i = 0; name && i < c->nk; i++)
        if (str_eq(c->kn[i], name)) { c->used |= 1u << i; return c->kv[i]; }
    return dflt;
}
static void args_done(J *j, Args *c)
{
    if (c->na > c->maxpos) UFAIL(j, "too many arguments to %s", c->what);
    for (int i = 0; i < c->nk; i++)
        if (!(c->used & (1u << i)))
            UFAIL(j, "unsupported argument '%.*s' to %s", (int)c->kn[i].n, c->kn[i].s, c->what);
}
static Str arg_str(J *j, Args *c, int idx, const char *name, const char *dflt)
{
    Val v = arg(c, idx, name, v_undef(NULL));
    if (v.k == V_UNDEF && v.u.why == NULL) return cstr(dflt);
    if (v.k != V_STR) TFAIL(j, "%s: expected a string argument, got %s", c->what, tname(v));
    return v.u.s;
}

/* ---- strftime_now on the fixed date ------------------------------------------------ */

static Val fixed_strftime(J *j, Str fmt)
{
    static const char *const mon[] = { "January", "February", "March", "April", "May", "June", "July",
                                       "August", "September", "October", "November", "December" };
    static const char *const wd[] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };
    const int Y = 2024, M = 7, D = 26, W = 4 /* Friday */, YD = 208;
    SB b = { 0 };
    sb_put(j, &b, "", 0);
    for (size_t i = 0; i < fmt.n; i++) {
        if (fmt.s[i] != '%' || i + 1 >= fmt.n) { sb_put(j, &b, fmt.s + i, 1); continue; }
        char c = fmt.s[++i];
        switch (c) {
        case 'd': sb_printf(j, &b, "%02d", D); break;
        case 'e': sb_printf(j, &b, "%2d", D); break;
        case 'm': sb_printf(j, &b, "%02d", M); break;
        case 'Y': sb_printf(j, &b, "%d", Y); break;
        case 'y': sb_printf(j, &b, "%02d", Y % 100); break;
        case 'b': case 'h': sb_printf(j, &b, "%.3s", mon[M - 1]); break;
        case 'B': sb_puts(j, &b, mon[M - 1]); break;
        case 'a': sb_printf(j, &b, "%.3s", wd[W]); break;
        case 'A': sb_puts(j, &b, wd[W]); break;
        case 'j': sb_printf(j, &b, "%03d", YD); break;
        case 'H': case 'M': case 'S': sb_puts(j, &b, "00"); break;
        case 'I': sb_puts(j, &b, "12"); break;
        case 'p': sb_puts(j, &b, "AM"); break;
        case 'F': sb_printf(j, &b, "%d-%02d-%02d", Y, M, D); break;
        case '%': sb_puts(j, &b, "%"); break;
        default: UFAIL(j, "strftime_now: unsupported directive '%%%c'", c);
        }
    }
    return v_str(sb_done(&b));
}

/* ---- str methods, shared with the filters ------------------------------------------- */

static Str case_map(J *j, Str s, int mode)  /* 'U' upper, 'L' lower, 'T' title, 'C' capitalize */
{
    SB b = { 0 };
    sb_put(j, &b, s.s, s.n);
    int prev_letter = 0;
    for (size_t i = 0; i < b.n; i++) {
        unsigned char c = (unsigned char)b.p[i];
        int letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
        int up = mode == 'U' || (mode == 'T' && !prev_letter) || (mode == 'C' && i == 0);
        if (c < 0x80 && letter) b.p[i] = (char)(up ? (c & ~0x20) : (c | 0x20));
        prev_letter = letter;
    }
    return sb_done(&b);
}

static void piece(J *j, List *l, int *cap, Str s)
{
    if (l->n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        l->v = arena_grow(&j->a, l->v, sizeof(Val) * (size_t)l->n, sizeof(Val) * (size_t)*cap);
    }
    l->v[l->n++] = v_str(s);
}

static Val split_str(J *j, Str s, const Val *sep, int64_t maxsplit)
{
    List *l = list_new(j, 0);
    int count = 0, cap = 0;
    size_t i = 0;
    if (!sep || sep->k == V_NONE || sep->k == V_UNDEF) {
        for (;;) {
            while (i < s.n) { size_t k = i; if (!py_space(u8_next(s.s, s.n, &k))) break; i = k; }
            if (i >= s.n) break;
            size_t st = i;
            if (maxsplit >= 0 && count == maxsplit) {
                piece(j, l, &cap, py_strip((Str){ s.s + st, s.n - st }, NULL, 2));
                break;
            }
            while (i < s.n) { size_t k = i; if (py_space(u8_next(s.s, s.n, &k))) break; i = k; }
            piece(j, l, &cap, (Str){ s.s + st, i - st });
            count++;
        }
    } else {
        if (sep->k != V_STR) TFAIL(j, "split: separator must be a string");
        Str d = sep->u.s;
        if (d.n == 0) TFAIL(j, "split: empty separator");
        for (;;) {
            const char *hit = (maxsplit < 0 || count < maxsplit) ? memmem(s.s + i, s.n - i, d.s, d.n) : NULL;
            if (!hit) { piece(j, l, &cap, (Str){ s.s + i, s.n - i }); break; }
            piece(j, l, &cap, (Str){ s.s + i, (size_t)(hit - (s.s + i)) });
            count++;
            i = (size_t)(hit - s.s) + d.n;
        }
    }
    return v_list(l);
}

static Val replace_str(J *j, Str s, Str old, Str new_, int64_t count)
{
    SB b = { 0 };
    sb_put(j, &b, "", 0);
    size_t i = 0;
    int64_t done = 0;
    if (old.n == 0) {                     /* Python inserts between characters */
        while (count < 0 || done < count) {
            sb_str(j, &b, new_);
            done++;
            if (i >= s.n) break;
            size_t st = i;
            u8_next(s.s, s.n, &i);
            sb_put(j, &b, s.s + st, i - st);
        }
        sb_put(j, &b, s.s + i, s.n - i);
        return v_str(sb_done(&b));
    }
    while (count < 0 || done < count) {
        const char *hit = memmem(s.s + i, s.n - i, old.s, old.n);
        if (!hit) break;
        sb_put(j, &b, s.s + i, (size_t)(hit - (s.s + i)));
        sb_str(j, &b, new_);
        i = (size_t)(hit - s.s) + old.n;
        done++;
    }
    sb_put(j, &b, s.s + i, s.n - i);
    return v_str(sb_done(&b));
}

static Val join_vals(J *j, List *l, Str sep, const Str *attr)
{
    SB b = { 0 };
    sb_put(j, &b, "", 0);
    for (int i = 0; i < l->n; i++) {
        if (i) sb_str(j, &b, sep);
        to_str(j, &b, attr ? getattr_v(j, l->v[i], *attr) : l->v[i]);
    }
    return v_str(sb_done(&b));
}

static Val call_method(J *j, int fn, Val self, Args *c)
{
    if (fn >= F_DICT0) {
        Dict *d = self.u.d;
        const char *m = DICT_METHODS[fn - F_DICT0];
        c->what = arena_printf(&j->a, "dict.%s()", m);
        List *l = list_new(j, d->n);
        if (fn - F_DICT0 == 3) {                                          /* get */
            Val k = arg(c, 0, NULL, v_undef(NULL)), dflt = arg(c, 1, NULL, v_none());
            args_done(j, c);
            Val *p = k.k == V_STR ? dict_find(d, k.u.s) : NULL;
            return p ? *p : dflt;
        }
        args_done(j, c);
        for (int i = 0; i < d->n; i++) {
            if (fn - F_DICT0 == 1) l->v[i] = v_str(d->k[i]);
            else if (fn - F_DICT0 == 2) l->v[i] = d->v[i];
            else {
                List *pair = list_new(j, 2);
                pair->tuple = 1;
                pair->v[0] = v_str(d->k[i]);
                pair->v[1] = d->v[i];
                l->v[i] = v_list(pair);
            }
        }
        return v_list(l);
    }
    Str s = self.u.s;
    const char *m = STR_METHODS[fn - F_STR0];
    c->what = arena_printf(&j->a, "str.%s()", m);
    Val r;
    switch (fn - F_STR0) {
    case 0: case 1: case 2: {                                         /* strip lstrip rstrip */
        Val ch = arg(c, 0, NULL, v_none());
        if (ch.k != V_NONE && ch.k != V_STR) TFAIL(j, "%s: chars must be a string", c->what);
        r = v_str(py_strip(s, ch.k == V_STR ? &ch.u.s : NULL, fn - F_STR0 == 0 ? 3 : fn - F_STR0 == 1 ? 1 : 2));
        break;
    }
    case 3: r = v_str(case_map(j, s, 'U')); break;
    case 4: r = v_str(case_map(j, s, 'L')); break;
    case 5: r = v_str(case_map(j, s, 'T')); break;
    case 6: r = v_str(case_map(j, case_map(j, s, 'L'), 'C')); break;
    case 7: case 8: {                                                 /* startswith endswith */
        Val p = arg(c, 0, NULL, v_undef(NULL));
        List one = { &p, 1, 0 };
        List *alts = p.k == V_LIST ? p.u.l : &one;
        int hit = 0;
        for (int i = 0; i < alts->n; i++) {
            if (alts->v[i].k != V_STR) TFAIL(j, "%s: expected a string or a tuple of strings", c->what);
            Str x = alts->v[i].u.s;
            if (x.n <= s.n && memcmp(fn - F_STR0 == 7 ? s.s : s.s + s.n - x.n, x.s, x.n) == 0) hit = 1;
        }
        r = v_bool(hit);
        break;
    }
    case 9: {                                                          /* split */
        Val sep = arg(c, 0, "sep", v_none()), mx = arg(c, 1, "maxsplit", v_int(-1));
        r = split_str(j, s, &sep, is_intlike(mx) ? as_int(mx) : -1);
        break;
    }
    case 10: {                                                         /* replace */
        Str o = arg_str(j, c, 0, NULL, ""), nw = arg_str(j, c, 1, NULL, "");
        Val cnt = arg(c, 2, NULL, v_int(-1));
        r = replace_str(j, s, o, nw, is_intlike(cnt) ? as_int(cnt) : -1);
        break;
    }
    case 11: {                                                         /* sep.join(xs) */
        List *l = iterate(j, arg(c, 0, NULL, v_undef("join() takes exactly one argument")));
        for (int i = 0; i < l->n; i++)
            if (l->v[i].k != V_STR) TFAIL(j, "sequence item %d: expected str instance, %s found", i, tname(l->v[i]));
        r = join_vals(j, l, s, NULL);
        break;
    }
    default: {                                                         /* find count */
        Str x = arg_str(j, c, 0, NULL, "");
        int64_t cnt = 0, at = -1;
        for (size_t i = 0; i + x.n <= s.n;) {
            if (memcmp(s.s + i, x.s, x.n) == 0) {
                if (at < 0) at = (int64_t)u8_len((Str){ s.s, i });
                cnt++;
                i += x.n ? x.n : 1;
                if (x.n == 0 && i > s.n) break;
            } else i++;
        }
        if (x.n == 0) cnt = (int64_t)u8_len(s) + 1;
        r = v_int(fn - F_STR0 == 12 ? at : cnt);
    }
    }
    args_done(j, c);
    return r;
}

static Val call(J *j, Val f, Args *c)
{
    if (f.k == V_UNDEF) TFAIL(j, "%s", f.u.why);
    if (f.k != V_FUNC) TFAIL(j, "'%s' object is not callable", tname(f));
    if (f.fn >= F_STR0) return call_method(j, f.fn, *f.u.self, c);
    switch (f.fn) {
    case F_RAISE: {
        c->what = "raise_exception()";
        Val m = arg(c, 0, NULL, v_str(cstr("")));
        TFAIL(j, "template raised an exception: %s", zstr(j, val_str(j, m)));
    }
    case F_NAMESPACE: case F_DICT: {
        Dict *d = dict_new(j);
        d->ns = f.fn == F_NAMESPACE;
        if (c->na > 1) UFAIL(j, "too many arguments to %s()", d->ns ? "namespace" : "dict");
        if (c->na == 1) {
            if (c->a[0].k != V_DICT) TFAIL(j, "%s(): expected a dict", d->ns ? "namespace" : "dict");
            for (int i = 0; i < c->a[0].u.d->n; i++) dict_set(j, d, c->a[0].u.d->k[i], c->a[0].u.d->v[i]);
        }
        for (int i = 0; i < c->nk; i++) dict_set(j, d, c->kn[i], c->kv[i]);
        return v_dict(d);
    }
    case F_RANGE: {
        c->what = "range()";
        int64_t a = 0, b, st = 1;
        Val x = arg(c, 0, NULL, v_undef("range expected at least 1 argument")), y = arg(c, 1, NULL, v_none()),
            z = arg(c, 2, NULL, v_int(1));
        args_done(j, c);
        if (!is_intlike(x) || (y.k != V_NONE && !is_intlike(y)) || !is_intlike(z))
            TFAIL(j, "range() arguments must be integers");
        if (y.k == V_NONE) b = as_int(x); else { a = as_int(x); b = as_int(y); }
        st = as_int(z);
        if (st == 0) TFAIL(j, "range() arg 3 must not be zero");
        int64_t cnt = st > 0 ? (b > a ? (b - a + st - 1) / st : 0) : (a > b ? (a - b - st - 1) / -st : 0);
        if (cnt > MAX_RANGE) TFAIL(j, "range() of more than %d elements", MAX_RANGE);
        List *l = list_new(j, (int)cnt);
        for (int64_t i = 0; i < cnt; i++) l->v[i] = v_int(a + i * st);
        return v_list(l);
    }
    case F_STRFTIME: {
        c->what = "strftime_now()";
        Str fmt = arg_str(j, c, 0, NULL, "");
        args_done(j, c);
        return fixed_strftime(j, fmt);
    }
    }
    TFAIL(j, "not callable");
}

/* ---- tests and filters ---------------------------------------------------------------- */

static int apply_test(J *j, Str name, Val v, Args *c)
{
    c->what = arena_printf(&j->a, "test '%s'", zstr(j, name));
    Val x = arg(c, 0, NULL, v_undef("a test argument is missing"));
    int r;
#define T(s) str_eq(name, s)
    if (T("defined")) r = v.k != V_UNDEF;
    else if (T("undefined")) r = v.k == V_UNDEF;
    else if (T("none")) r = v.k == V_NONE;
    else if (T("boolean")) r = v.k == V_BOOL;
    else if (T("true")) r = v.k == V_BOOL && v.u.b;
    else if (T("false")) r = v.k == V_BOOL && !v.u.b;
    else if (T("integer")) r = v.k == V_INT;
    else if (T("float")) r = v.k == V_FLOAT;
    else if (T("number")) r = is_num(v);
    else if (T("string")) r = v.k == V_STR;
    else if (T("mapping")) r = v.k == V_DICT && !v.u.d->ns;
    else if (T("iterable")) r = v.k == V_LIST || v.k == V_STR || v.k == V_UNDEF || (v.k == V_DICT && !v.u.d->ns);
    else if (T("sequence")) r = v.k == V_LIST || v.k == V_STR || (v.k == V_DICT && !v.u.d->ns);
    else if (T("callable")) r = v.k == V_FUNC;
    else if (T("even") || T("odd") || T("divisibleby")) {
        if (!is_intlike(v)) TFAIL(j, "%s: not an integer", c->what);
        int64_t d = T("divisibleby") ? (is_intlike(x) ? as_int(x) : 0) : 2;
        if (d == 0) TFAIL(j, "%s: division by zero", c->what);
        int64_t m = as_int(v) % d;
        r = T("odd") ? m != 0 : m == 0;
    } else if (T("eq") || T("equalto") || T("==")) r = eq(v, x);
    else if (T("ne") || T("!=")) r = !eq(v, x);
    else if (T("lt") || T("lessthan")) r = order(j, v, x, "<") < 0;
    else if (T("le")) r = order(j, v, x, "<=") <= 0;
    else if (T("gt") || T("greaterthan")) r = order(j, v, x, ">") > 0;
    else if (T("ge")) r = order(j, v, x, ">=") >= 0;
    else if (T("in")) r = contains(j, x, v);
    else if (T("sameas")) r = v.k == x.k && (v.k == V_NONE || v.k == V_UNDEF || (v.k == V_BOOL && v.u.b == x.u.b) ||
                                            (v.k == V_INT && v.u.i == x.u.i) || (v.k == V_LIST && v.u.l == x.u.l) ||
                                            (v.k == V_DICT && v.u.d == x.u.d) || (v.k == V_STR && str_same(v.u.s, x.u.s)));
    else if (T("lower") || T("upper")) {
        Str s = val_str(j, v);
        r = 1;
        for (size_t i = 0; i < s.n; i++)
            if (T("lower") ? (s.s[i] >= 'A' && s.s[i] <= 'Z') : (s.s[i] >= 'a' && s.s[i] <= 'z')) r = 0;
    } else UFAIL(j, "unsupported test '%.*s'", (int)name.n, name.s);
#undef T
    args_done(j, c);
    return r;
}

static Val apply_filter(J *j, Str name, Val v, Args *c);

/* select/reject/selectattr/rejectattr/map over a sequence */
static Val filter_seq(J *j, Str name, Val v, Args *c)
{
    int attr = str_eq(name, "selectattr") || str_eq(name, "rejectattr");
    int keep_if = name.s[0] == 's';
    List *l = iterate(j, v), *r = list_new(j, l->n);
    r->n = 0;
    if (str_eq(name, "map")) {
        Val at = arg(c, -1, "attribute", v_undef(NULL));
        Val dflt = arg(c, -1, "default", v_undef(NULL));
        if (at.k == V_UNDEF) {
            Str fname = arg_str(j, c, 0, NULL, "");
            Args sub = { c->a + (c->na ? 1 : 0), c->na > 1 ? c->na - 1 : 0, NULL, NULL, 0, 0, 0, NULL };
            c->maxpos = c->na;
            args_done(j, c);
            for (int i = 0; i < l->n; i++) { sub.maxpos = 0; r->v[r->n++] = apply_filter(j, fname, l->v[i], &sub); }
            return v_list(r);
        }
        args_done(j, c);
        for (int i = 0; i < l->n; i++) {
            Val x = at.k == V_STR ? getattr_v(j, l->v[i], at.u.s) : getitem_v(j, l->v[i], at);
            if (x.k == V_UNDEF && dflt.k != V_UNDEF) x = dflt;
            r->v[r->n++] = x;
        }
        return v_list(r);
    }
    Val at = attr ? arg(c, 0, NULL, v_undef("selectattr needs an attribute")) : v_none();
    int t0 = attr ? 1 : 0;
    Val tn = arg(c, t0, NULL, v_undef(NULL));
    Args sub = { c->a + t0 + 1, c->na > t0 + 1 ? c->na - t0 - 1 : 0, NULL, NULL, 0, 0, 0, NULL };
    c->maxpos = c->na;
    args_done(j, c);
    if (attr && at.k != V_STR) TFAIL(j, "%.*s: the attribute must be a string", (int)name.n, name.s);
    if (tn.k != V_UNDEF && tn.k != V_STR) TFAIL(j, "%.*s: the test name must be a string", (int)name.n, name.s);
    for (int i = 0; i < l->n; i++) {
        Val x = attr ? getattr_v(j, l->v[i], at.u.s) : l->v[i];
        sub.maxpos = 0;
        int ok = tn.k == V_STR ? apply_test(j, tn.u.s, x, &sub) : truthy(x);
        if (ok == keep_if) r->v[r->n++] = l->v[i];
    }
    return v_list(r);
}

static Val apply_filter(J *j, Str name, Val v, Args *c)
{
    c->what = arena_printf(&j->a, "filter '%s'", zstr(j, name));
    Val r;
#define F(s) str_eq(name, s)
    if (F("default") || F("d")) {
        Val dflt = arg(c, 0, "default_value", v_str(cstr(""))), boolean = arg(c, 1, "boolean", v_bool(0));
        r = (v.k == V_UNDEF || (truthy(boolean) && !truthy(v))) ? dflt : v;
    } else if (F("select") || F("reject") || F("selectattr") || F("rejectattr") || F("map")) {
        return filter_seq(j, name, v, c);
    } else if (F("tojson")) {
        Val ind = arg(c, 0, "indent", v_none()), ea = arg(c, -1, "ensure_ascii", v_bool(0));
        if (ind.k != V_NONE && !is_intlike(ind)) TFAIL(j, "tojson: indent must be an integer");
        if (truthy(ea)) UFAIL(j, "tojson: ensure_ascii=True is not supported");
        args_done(j, c);
        SB b = { 0 };
        to_json(j, &b, v, ind.k == V_NONE ? -1 : (int)(as_int(ind) < 0 ? 0 : as_int(ind) > 64 ? 64 : as_int(ind)), 0);
        r = v_str(sb_done(&b));
    } else if (F("length") || F("count")) {
        r = v_int(v.k == V_STR ? (int64_t)u8_len(v.u.s) : v.k == V_UNDEF ? 0 : v.k == V_DICT ? v.u.d->n :
                  v.k == V_LIST ? v.u.l->n : (TFAIL(j, "object of type '%s' has no len()", tname(v)), 0));
    } else if (F("first") || F("last")) {
        List *l = iterate(j, v);
        r = l->n ? l->v[F("first") ? 0 : l->n - 1] : v_undef(arena_printf(&j->a, "%s of an empty sequence", F("first") ? "first" : "last"));
    } else if (F("list")) {
        List *l = iterate(j, v), *o = list_new(j, l->n);
        memcpy(o->v, l->v, sizeof(Val) * (size_t)l->n);
        r = v_list(o);
    } else if (F("items")) {
        if (v.k == V_UNDEF) r = v_list(list_new(j, 0));
        else if (v.k != V_DICT || v.u.d->ns) TFAIL(j, "items: expected a mapping, got %s", tname(v));
        else { Args none = { 0 }; none.what = "items"; r = call_method(j, F_DICT0, v, &none); }
    } else if (F("join")) {
        Str sep = arg_str(j, c, 0, "d", "");
        Val at = arg(c, 1, "attribute", v_none());
        r = join_vals(j, iterate(j, v), sep, at.k == V_STR ? &at.u.s : NULL);
    } else if (F("reverse")) {
        if (v.k == V_STR) {
            List *l = iterate(j, v);
            SB b = { 0 };
            sb_put(j, &b, "", 0);
            for (int i = l->n - 1; i >= 0; i--) sb_str(j, &b, l->v[i].u.s);
            r = v_str(sb_done(&b));
        } else {
            List *l = iterate(j, v), *o = list_new(j, l->n);
            for (int i = 0; i < l->n; i++) o->v[i] = l->v[l->n - 1 - i];
            r = v_list(o);
        }
    } else if (F("abs")) {
        if (!is_num(v)) TFAIL(j, "bad operand type for abs(): '%s'", tname(v));
        r = v.k == V_FLOAT ? v_float(fabs(v.u.f)) : v_int(as_int(v) < 0 ? -as_int(v) : as_int(v));
    } else if (F("int") || F("float")) {
        Val dflt = arg(c, 0, "default", F("int") ? v_int(0) : v_float(0.0));
        int isint = F("int");
        if (isint) arg(c, 1, "base", v_int(10));
        if (is_num(v)) r = isint ? v_int(v.k == V_FLOAT ? (int64_t)v.u.f : as_int(v)) : v_float(as_f(v));
        else if (v.k == V_STR) {
            const char *z = zstr(j, py_strip(v.u.s, NULL, 3));
            char *end;
            double d = strtod(z, &end);
            int ok = *z && !*end && !strpbrk(z, "xXpP") && !(isint && !isfinite(d));
            r = ok ? (isint ? v_int((int64_t)d) : v_float(d)) : dflt;   /* '42.23'|int is 42, as Jinja */
        } else r = dflt;
    } else if (F("string")) r = v_str(val_str(j, v));
    else if (F("safe")) r = v;
    else {
        Str s = val_str(j, v);
        if (F("trim")) {
            Val ch = arg(c, 0, "chars", v_none());
            r = v_str(py_strip(s, ch.k == V_STR ? &ch.u.s : NULL, 3));
        } else if (F("upper")) r = v_str(case_map(j, s, 'U'));
        else if (F("lower")) r = v_str(case_map(j, s, 'L'));
        else if (F("title")) r = v_str(case_map(j, case_map(j, s, 'L'), 'T'));
        else if (F("capitalize")) r = v_str(case_map(j, case_map(j, s, 'L'), 'C'));
        else if (F("replace")) {
            Str o = arg_str(j, c, 0, "old", ""), nw = arg_str(j, c, 1, "new", "");
            Val cnt = arg(c, 2, "count", v_none());
            r = replace_str(j, s, o, nw, is_intlike(cnt) ? as_int(cnt) : -1);
        } else UFAIL(j, "unsupported filter '%.*s'", (int)name.n, name.s);
    }
#undef F
    args_done(j, c);
    return r;
}

/* ---- evaluation ---------------------------------------------------------------------- */

static Val eval(J *j, Scope *sc, Node *x);

static Args eval_args(J *j, Scope *sc, Node *x)
{
    Args c = { 0 };
    if (x->m > 32) UFAIL(j, "more than 32 keyword arguments");
    c.na = x->n;
    c.a = ARENA_ARRAY(&j->a, Val, x->n ? x->n : 1);
    for (int i = 0; i < x->n; i++) c.a[i] = eval(j, sc, x->v[i]);
    c.nk = x->m;
    c.kn = x->names;
    c.kv = ARENA_ARRAY(&j->a, Val, x->m ? x->m : 1);
    for (int i = 0; i < x->m; i++) c.kv[i] = eval(j, sc, x->w[i]);
    return c;
}

static Val eval(J *j, Scope *sc, Node *x)
{
    j->at = x->pos;
    switch (x->k) {
    case N_CONST: return x->val;
    case N_NAME: {
        Val *p = scope_find(sc, x->s);
        return p ? *p : v_undef(arena_printf(&j->a, "'%.*s' is undefined", (int)x->s.n, x->s.s));
    }
    case N_ATTR: { Val o = eval(j, sc, x->a); j->at = x->pos; return getattr_v(j, o, x->s); }
    case N_ITEM: {
        Val o = eval(j, sc, x->a);
        if (x->b->k == N_SLICE) {
            Node *s = x->b;
            Val lo = s->a ? eval(j, sc, s->a) : v_none(), hi = s->b ? eval(j, sc, s->b) : v_none(),
                st = s->c ? eval(j, sc, s->c) : v_none();
            j->at = x->pos;
            return slice(j, o, lo, hi, st);
        }
        Val k = eval(j, sc, x->b);
        j->at = x->pos;
        return getitem_v(j, o, k);
    }
    case N_CALL: {
        Val f = eval(j, sc, x->a);
        Args c = eval_args(j, sc, x);
        j->at = x->pos;
        return call(j, f, &c);
    }
    case N_FILTER: {
        Val v = eval(j, sc, x->a);
        Args c = eval_args(j, sc, x);
        j->at = x->pos;
        return apply_filter(j, x->s, v, &c);
    }
    case N_TEST: {
        Val v = eval(j, sc, x->a);
        Args c = eval_args(j, sc, x);
        j->at = x->pos;
        return v_bool(apply_test(j, x->s, v, &c) != x->op);
    }
    case N_NEG: case N_POS: {
        Val v = eval(j, sc, x->a);
        j->at = x->pos;
        if (v.k == V_UNDEF) TFAIL(j, "%s", v.u.why);
        if (!is_num(v)) TFAIL(j, "bad operand type for unary %c: '%s'", x->k == N_NEG ? '-' : '+', tname(v));
        if (x->k == N_POS) return v.k == V_BOOL ? v_int(v.u.b) : v;
        if (v.k == V_FLOAT) return v_float(-v.u.f);
        if (as_int(v) == INT64_MIN) TFAIL(j, "integer overflow in unary '-'");
        return v_int(-as_int(v));
    }
    case N_NOT: return v_bool(!truthy(eval(j, sc, x->a)));
    case N_AND: { Val a = eval(j, sc, x->a); return truthy(a) ? eval(j, sc, x->b) : a; }
    case N_OR:  { Val a = eval(j, sc, x->a); return truthy(a) ? a : eval(j, sc, x->b); }
    case N_COND:
        if (truthy(eval(j, sc, x->b))) return eval(j, sc, x->a);
        return x->c ? eval(j, sc, x->c) : v_undef("the inline if expression evaluated to false and no else section was defined");
    case N_BIN: {
        Val a = eval(j, sc, x->a), b = eval(j, sc, x->b);
        j->at = x->pos;
        return binop(j, x->op, a, b);
    }
    case N_CMP: {
        Val a = eval(j, sc, x->a);
        for (int i = 0; i < x->n; i++) {
            Val b = eval(j, sc, x->v[i]);
            int op = x->ops[i], r;
            j->at = x->pos;
            switch (op) {
            case 'E': r = eq(a, b); break;
            case 'N': r = !eq(a, b); break;
            case 'I': r = contains(j, b, a); break;
            case 'X': r = !contains(j, b, a); break;
            case '<': r = order(j, a, b, "<") < 0; break;
            case 'L': r = order(j, a, b, "<=") <= 0; break;
            case '>': r = order(j, a, b, ">") > 0; break;
            default:  r = order(j, a, b, ">=") >= 0; break;
            }
            if (!r) return v_bool(0);
            a = b;
        }
        return v_bool(1);
    }
    case N_LIST: case N_TUPLE: {
        List *l = list_new(j, x->n);
        l->tuple = x->k == N_TUPLE;
        for (int i = 0; i < x->n; i++) l->v[i] = eval(j, sc, x->v[i]);
        return v_list(l);
    }
    case N_DICT: {
        Dict *d = dict_new(j);
        for (int i = 0; i < x->n; i++) {
            Val k = eval(j, sc, x->v[i]);
            if (k.k != V_STR) { j->at = x->v[i]->pos; UFAIL(j, "unsupported: dict keys other than strings"); }
            dict_set(j, d, k.u.s, eval(j, sc, x->w[i]));
        }
        return v_dict(d);
    }
    default: break;
    }
    UFAIL(j, "internal: not an expression");
}

static void assign(J *j, Scope *sc, Node *x, Val v)
{
    if (x->nn == 1) { scope_set(j, sc, x->names[0], v); return; }
    if (v.k == V_UNDEF) TFAIL(j, "%s", v.u.why);
    List *l = iterate(j, v);
    if (l->n != x->nn) TFAIL(j, "cannot unpack %d values into %d names", l->n, x->nn);
    for (int i = 0; i < x->nn; i++) scope_set(j, sc, x->names[i], l->v[i]);
}

enum { FLOW_NEXT, FLOW_BREAK, FLOW_CONTINUE };

static int exec_body(J *j, Scope *sc, Node **body, int n);

static int exec_for(J *j, Scope *sc, Node *x)
{
    Val seq = eval(j, sc, x->a);
    j->at = x->a->pos;
    List *l = iterate(j, seq);
    Val *items = l->v;
    int cnt = l->n;
    if (x->b) {
        items = ARENA_ARRAY(&j->a, Val, cnt ? cnt : 1);
        cnt = 0;
        for (int i = 0; i < l->n; i++) {
            Scope fs = { .up = sc };
            assign(j, &fs, x, l->v[i]);
            if (truthy(eval(j, &fs, x->b))) items[cnt++] = l->v[i];
        }
    }
    /* One loop object and one iteration scope per loop, updated in place:
     * Jinja's LoopContext is also a single object that advances, and
     * nothing can keep a reference to a finished iteration's scope. */
    static const char *const keys[] = { "index", "index0", "revindex", "revindex0", "first", "last", "length",
                                         "depth", "depth0", "previtem", "nextitem" };
    Dict *lp = dict_new(j);
    Scope is = { .up = sc };
    for (int i = 0; i < cnt; i++) {
        if (++j->iters > MAX_ITERS) { j->at = x->pos; TFAIL(j, "more than %ld loop iterations", MAX_ITERS); }
        is.n = 0;
        lp->n = 0;
        j->at = x->pos;
        assign(j, &is, x, items[i]);
        Val vals[] = { v_int(i + 1), v_int(i), v_int(cnt - i), v_int(cnt - i - 1), v_bool(i == 0),
                       v_bool(i == cnt - 1), v_int(cnt), v_int(1), v_int(0) };
        for (int k = 0; k < 9; k++) dict_set(j, lp, cstr(keys[k]), vals[k]);
        if (i > 0) dict_set(j, lp, cstr(keys[9]), items[i - 1]);
        if (i + 1 < cnt) dict_set(j, lp, cstr(keys[10]), items[i + 1]);
        scope_set(j, &is, cstr("loop"), v_dict(lp));
        if (exec_body(j, &is, x->v, x->n) == FLOW_BREAK) break;
    }
    if (cnt == 0 && x->m) return exec_body(j, sc, x->w, x->m);
    return FLOW_NEXT;
}

static int exec_body(J *j, Scope *sc, Node **body, int n)
{
    for (int i = 0; i < n; i++) {
        Node *x = body[i];
        int flow = FLOW_NEXT;
        j->at = x->pos;
        switch (x->k) {
        case S_TEXT:  sb_str(j, j->out, x->s); break;
        case S_PRINT: { Val v = eval(j, sc, x->a); j->at = x->pos; to_str(j, j->out, v); break; }
        case S_IF:
            if (truthy(eval(j, sc, x->a))) flow = exec_body(j, sc, x->v, x->n);
            else flow = exec_body(j, sc, x->w, x->m);
            break;
        case S_FOR:   flow = exec_for(j, sc, x); break;
        case S_SET:   { Val v = eval(j, sc, x->a); j->at = x->pos; assign(j, sc, x, v); break; }
        case S_SETNS: {
            Val v = eval(j, sc, x->a);
            Val *ns = scope_find(sc, x->names[0]);
            j->at = x->pos;
            if (!ns || ns->k != V_DICT || !ns->u.d->ns)
                TFAIL(j, "cannot assign attribute on non-namespace object '%.*s'", (int)x->names[0].n, x->names[0].s);
            dict_set(j, ns->u.d, x->s, v);
            break;
        }
        case S_SETBLOCK: {
            SB cap = { 0 }, *saved = j->out;
            sb_put(j, &cap, "", 0);
            j->out = &cap;
            flow = exec_body(j, sc, x->v, x->n);
            j->out = saved;
            scope_set(j, sc, x->names[0], v_str(sb_done(&cap)));
            break;
        }
        case S_BODY:  flow = exec_body(j, sc, x->v, x->n); break;
        case S_BREAK: return FLOW_BREAK;
        case S_CONTINUE: return FLOW_CONTINUE;
        default: UFAIL(j, "internal: not a statement");
        }
        if (flow != FLOW_NEXT) return flow;
    }
    return FLOW_NEXT;
}

/* ---- the public entry points --------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) UEAJ_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int chat_render(const char *template_src, const ChatMessage *msgs, int n,
                const char *bos, const char *eos, int add_generation_prompt,
                char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen) err[0] = 0;
    if (!template_src) { set_err(err, errlen, "chat_template: error: no chat template"); return CHAT_ERR_UNSUPPORTED; }
    if (n < 0 || (n > 0 && !msgs)) { set_err(err, errlen, "chat_template: error: bad message list"); return CHAT_ERR_TEMPLATE; }
    J *j = calloc(1, sizeof *j);
    if (!j) { set_err(err, errlen, "chat_template: error: out of memory"); return CHAT_ERR_TEMPLATE; }
    arena_init(&j->a);
    j->err = err;
    j->errlen = errlen;
    int rc = CHAT_OK;
    if (setjmp(j->jb)) {
        rc = j->rc;
        goto done;
    }
    /* 1. newlines as Jinja normalises them, minus one trailing newline */
    size_t len = strlen(template_src);
    char *src = arena_alloc(&j->a, len + 1);
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (template_src[i] == '\r') { src[w++] = '\n'; if (i + 1 < len && template_src[i + 1] == '\n') i++; }
        else src[w++] = template_src[i];
    }
    if (w && src[w - 1] == '\n') w--;
    src[w] = 0;
    j->src = src;
    j->n = w;
    /* 2-3. */
    lex(j);
    int which;
    NV body = parse_body(j, NULL, &which);
    /* 4. globals, then the template's own scope */
    Scope globals = { 0 }, top = { .up = &globals };
    List *ml = list_new(j, n);
    for (int i = 0; i < n; i++) {
        Dict *d = dict_new(j);
        dict_set(j, d, cstr("role"), v_str(cstr(msgs[i].role ? msgs[i].role : "")));
        dict_set(j, d, cstr("content"), msgs[i].content ? v_str(cstr(msgs[i].content)) : v_none());
        ml->v[i] = v_dict(d);
    }
    scope_set(j, &globals, cstr("messages"), v_list(ml));
    if (bos) scope_set(j, &globals, cstr("bos_token"), v_str(cstr(bos)));
    if (eos) scope_set(j, &globals, cstr("eos_token"), v_str(cstr(eos)));
    scope_set(j, &globals, cstr("add_generation_prompt"), v_bool(add_generation_prompt));
    scope_set(j, &globals, cstr("tools"), v_none());
    scope_set(j, &globals, cstr("documents"), v_none());
    static const char *const fns[] = { "raise_exception", "namespace", "range", "strftime_now", "dict" };
    for (int i = 0; i < 5; i++) scope_set(j, &globals, cstr(fns[i]), v_func(i, NULL));
    SB result = { 0 };
    sb_put(j, &result, "", 0);
    j->out = &result;
    exec_body(j, &top, body.v, body.n);
    *out = malloc(result.n + 1);
    if (!*out) { set_err(err, errlen, "chat_template: error: out of memory"); rc = CHAT_ERR_TEMPLATE; goto done; }
    memcpy(*out, result.p, result.n + 1);
done:
    arena_free(&j->a);
    free(j);
    return rc;
}

/* ---- built-in formats ------------------------------------------------------------------ */

typedef struct OB { char *p; size_t n, cap; int oom; } OB;     /* malloc'd output */
static void ob_put(OB *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 256;
        while (c < b->n + n + 1) c *= 2;
        char *p = realloc(b->p, c);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void ob_puts(OB *b, const char *s) { ob_put(b, s, strlen(s)); }
static void ob_strip(OB *b, const char *s)
{
    Str r = py_strip(cstr(s ? s : ""), NULL, 3);
    ob_put(b, r.s, r.n);
}

int chat_render_builtin(ChatFormat f, const ChatMessage *msgs, int n,
                        const char *bos, const char *eos, int add_generation_prompt,
                        char **out, char *err, size_t errlen)
{
    OB b = { 0 };
    *out = NULL;
    if (err && errlen) err[0] = 0;
    bos = bos ? bos : "";
    eos = eos ? eos : "";
    if ((f == CHAT_FMT_LLAMA2 || f == CHAT_FMT_LLAMA31) && n == 0) {
        set_err(err, errlen, "chat: error: the %s format needs at least one message", chat_format_name(f));
        return CHAT_ERR_TEMPLATE;
    }
    ob_puts(&b, "");
    switch (f) {
    case CHAT_FMT_CHATML:
        for (int i = 0; i < n; i++) {
            ob_puts(&b, "<|im_start|>"); ob_puts(&b, msgs[i].role ? msgs[i].role : ""); ob_puts(&b, "\n");
            ob_puts(&b, msgs[i].content ? msgs[i].content : ""); ob_puts(&b, "<|im_end|>\n");
        }
        if (add_generation_prompt) ob_puts(&b, "<|im_start|>assistant\n");
        break;
    case CHAT_FMT_LLAMA2: {
        int first = msgs[0].role && strcmp(msgs[0].role, "system") == 0;
        const char *sys = first ? (msgs[0].content ? msgs[0].content : "") : NULL;
        for (int i = first, k = 0; i < n; i++, k++) {
            int user = msgs[i].role && strcmp(msgs[i].role, "user") == 0;
            if (user != (k % 2 == 0)) {
                free(b.p);
                set_err(err, errlen, "chat: error: Conversation roles must alternate user/assistant/user/assistant/...");
                return CHAT_ERR_TEMPLATE;
            }
            OB content = { 0 };
            ob_puts(&content, "");
            if (k == 0 && sys) { ob_puts(&content, "<<SYS>>\n"); ob_puts(&content, sys); ob_puts(&content, "\n<</SYS>>\n\n"); }
            ob_puts(&content, msgs[i].content ? msgs[i].content : "");
            if (content.oom) b.oom = 1;
            else if (user) { ob_puts(&b, bos); ob_puts(&b, "[INST] "); ob_strip(&b, content.p); ob_puts(&b, " [/INST]"); }
            else if (msgs[i].role && strcmp(msgs[i].role, "assistant") == 0) {
                ob_puts(&b, " "); ob_strip(&b, content.p); ob_puts(&b, " "); ob_puts(&b, eos);
            }
            free(content.p);
        }
        break;
    }
    case CHAT_FMT_LLAMA3: case CHAT_FMT_LLAMA31: {
        int i = 0;
        if (f == CHAT_FMT_LLAMA3 && n) ob_puts(&b, bos);
        if (f == CHAT_FMT_LLAMA31) {
            ob_puts(&b, bos);
            ob_puts(&b, "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
                        "Today Date: 26 Jul 2024\n\n");
            if (msgs[0].role && strcmp(msgs[0].role, "system") == 0) { ob_strip(&b, msgs[0].content); i = 1; }
            ob_puts(&b, "<|eot_id|>");
        }
        for (; i < n; i++) {
            const char *role = msgs[i].role ? msgs[i].role : "";
            int tool = f == CHAT_FMT_LLAMA31 && (!strcmp(role, "tool") || !strcmp(role, "ipython"));
            ob_puts(&b, "<|start_header_id|>"); ob_puts(&b, tool ? "ipython" : role); ob_puts(&b, "<|end_header_id|>\n\n");
            if (tool) ob_puts(&b, msgs[i].content ? msgs[i].content : "");
            else ob_strip(&b, msgs[i].content);
            ob_puts(&b, "<|eot_id|>");
        }
        if (add_generation_prompt) ob_puts(&b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
        break;
    }
    default:
        free(b.p);
        set_err(err, errlen, "chat: error: no built-in chat format");
        return CHAT_ERR_UNSUPPORTED;
    }
    if (b.oom) { free(b.p); set_err(err, errlen, "chat: error: out of memory"); return CHAT_ERR_TEMPLATE; }
    *out = b.p;
    return CHAT_OK;
}

ChatFormat chat_detect_format(const char *t)
{
    if (!t) return CHAT_FMT_NONE;
    if (strstr(t, "<|start_header_id|>"))
        return strstr(t, "Cutting Knowledge Date") ? CHAT_FMT_LLAMA31 : CHAT_FMT_LLAMA3;
    if (strstr(t, "<|im_start|>")) return CHAT_FMT_CHATML;
    if (strstr(t, "[INST]")) return CHAT_FMT_LLAMA2;
    return CHAT_FMT_NONE;
}

const char *chat_format_name(ChatFormat f)
{
    switch (f) {
    case CHAT_FMT_CHATML:  return "ChatML";
    case CHAT_FMT_LLAMA2:  return "LLaMA 2";
    case CHAT_FMT_LLAMA3:  return "LLaMA 3";
    case CHAT_FMT_LLAMA31: return "LLaMA 3.1";
    default:               return "none";
    }
}

ChatFormat chat_format_from_name(const char *name)
{
    if (!name) return CHAT_FMT_NONE;
    if (!strcmp(name, "chatml")) return CHAT_FMT_CHATML;
    if (!strcmp(name, "llama2")) return CHAT_FMT_LLAMA2;
    if (!strcmp(name, "llama3")) return CHAT_FMT_LLAMA3;
    if (!strcmp(name, "llama3.1") || !strcmp(name, "llama31")) return CHAT_FMT_LLAMA31;
    return CHAT_FMT_NONE;
}

int chat_apply(const char *template_src, const ChatMessage *msgs, int n,
               const char *bos, const char *eos, int add_generation_prompt,
               char **out, ChatFormat *fallback, char *err, size_t errlen)
{
    if (fallback) *fallback = CHAT_FMT_NONE;
    int rc = chat_render(template_src, msgs, n, bos, eos, add_generation_prompt, out, err, errlen);
    ChatFormat f = chat_detect_format(template_src);
    if (rc != CHAT_ERR_UNSUPPORTED || f == CHAT_FMT_NONE) return rc;
    char first[512];
    snprintf(first, sizeof first, "%s", err && errlen ? err : "chat_template: error: unsupported");
    char e2[512];
    rc = chat_render_builtin(f, msgs, n, bos, eos, add_generation_prompt, out, e2, sizeof e2);
    if (rc != CHAT_OK) { set_err(err, errlen, "%s; the built-in %s format failed too: %s", first, chat_format_name(f), e2); return rc; }
    if (fallback) *fallback = f;
    set_err(err, errlen, "%s; using the built-in %s format instead", first, chat_format_name(f));
    return CHAT_OK;
}

/* ---- tokenizer_config.json ------------------------------------------------------------- */

static char *json_token(const cJSON *v)
{
    if (cJSON_IsString(v)) return strdup(v->valuestring);
    if (cJSON_IsObject(v)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "content");
        if (cJSON_IsString(c)) return strdup(c->valuestring);
    }
    return NULL;
}

int chat_config_load(const char *path, ChatConfig *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    FILE *f = fopen(path, "rb");
    if (!f) { set_err(err, errlen, "%s: error: cannot open: %s", path, strerror(errno)); return -1; }
    char *text = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 > cap) {
            cap = cap ? cap * 2 : 65536 * 2;
            if (cap > ((size_t)256 << 20)) { free(text); fclose(f); set_err(err, errlen, "%s: error: file too large", path); return -1; }
            char *p = realloc(text, cap + 1);
            if (!p) { free(text); fclose(f); set_err(err, errlen, "%s: error: out of memory", path); return -1; }
            text = p;
        }
        size_t got = fread(text + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    text[n] = 0;
    cJSON *root = cJSON_ParseWithLength(text, n);
    free(text);
    if (!cJSON_IsObject(root)) { cJSON_Delete(root); set_err(err, errlen, "%s: error: not a JSON object", path); return -1; }
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(root, "chat_template");
    if (cJSON_IsString(ct)) cfg->chat_template = strdup(ct->valuestring);
    else if (cJSON_IsArray(ct)) {
        const cJSON *it, *pick = NULL;
        cJSON_ArrayForEach(it, ct) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
            if (!pick || (cJSON_IsString(nm) && !strcmp(nm->valuestring, "default"))) pick = it;
        }
        const cJSON *tt = pick ? cJSON_GetObjectItemCaseSensitive(pick, "template") : NULL;
        if (cJSON_IsString(tt)) cfg->chat_template = strdup(tt->valuestring);
    }
    cfg->bos_token = json_token(cJSON_GetObjectItemCaseSensitive(root, "bos_token"));
    cfg->eos_token = json_token(cJSON_GetObjectItemCaseSensitive(root, "eos_token"));
    cJSON_Delete(root);
    return 0;
}

void chat_config_free(ChatConfig *cfg)
{
    if (!cfg) return;
    free(cfg->chat_template);
    free(cfg->bos_token);
    free(cfg->eos_token);
    memset(cfg, 0, sizeof *cfg);
}
