/* chat_parse.c - lexing and parsing Jinja templates.
 *
 * The lexer follows Jinja's own (jinja2/lexer.py) with trim_blocks and
 * lstrip_blocks on, as transformers configures it.  Text runs up to the next
 * "{{", "{%" or "{#".  Before a tag: "-" strips all whitespace from the end
 * of the text; otherwise, for a block or comment tag (not "{{") without
 * "+", lstrip_blocks removes the spaces and tabs that begin the tag's line
 * when nothing else precedes it there.  After a tag: "-" strips all
 * whitespace; otherwise trim_blocks removes one newline after "%}" or
 * "#}" (never after "}}"), unless the tag ended with "+%}".  Inside a tag
 * the end marker is only recognised while (), [] and {} are balanced, so a
 * dict literal or a string can contain "}}".  String literals get Python's
 * escapes (\n, \t, \xNN, \uNNNN, octal...; an unknown escape keeps its
 * backslash), numbers Python's syntax (1_000, 0x1F, 2.5e-3).
 *
 * The parser is Jinja's grammar (jinja2/parser.py) by recursive descent,
 * one function per precedence level, lowest first:
 *     x if c else y  <  or  <  and  <  not  <  == != < <= > >= in (chained)
 *     <  + -  <  ~  <  * / // %  <  **  <  unary - +  <  postfix . [] ()
 * with filters (|f) and tests (is t) applied right after a unary operand,
 * so they bind tighter than any binary operator.  Like Jinja, ** is left
 * associative and -2 ** 2 is 4.  Statements: if/elif/else, for (targets,
 * an optional "if" filter, else, break, continue), set (plain, tuple,
 * namespace attribute, block), and transformers' generation block.  Tags
 * outside the subset (macro, include, call, ...) are errors that say so.
 * Nesting deeper than MAX_DEPTH is an error, not a stack overflow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_jinja.h"

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
    jx_sb_put(j, &b, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 >= n) { jx_sb_put(j, &b, s + i, 1); continue; }
        char e = s[++i];
        static const char esc_in[] = "\\'\"abfnrtv", esc_out[] = "\\'\"\a\b\f\n\r\t\v";
        const char *simple = e ? strchr(esc_in, e) : NULL;
        if (e == '\n') continue;
        if (simple) { jx_sb_put(j, &b, &esc_out[simple - esc_in], 1); continue; }
        if (e >= '0' && e <= '7') {
            uint32_t v = 0;
            int k = 0;
            for (; k < 3 && i < n && s[i] >= '0' && s[i] <= '7'; k++, i++) v = v * 8 + (uint32_t)(s[i] - '0');
            i--;
            jx_u8_put(j, &b, v);
            continue;
        }
        int w = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (w) {
            uint32_t v = 0;
            for (int k = 1; k <= w; k++) {
                int h = i + (size_t)k < n ? hexval(s[i + (size_t)k]) : -1;
                if (h < 0) jx_fail(j, (uint32_t)pos, CHAT_ERR_UNSUPPORTED, "truncated \\%c escape in a string literal", e);
                v = v * 16 + (uint32_t)h;
            }
            if (v > 0x10FFFF) jx_fail(j, (uint32_t)pos, CHAT_ERR_UNSUPPORTED, "escape beyond U+10FFFF in a string literal");
            i += (size_t)w;
            jx_u8_put(j, &b, v);
            continue;
        }
        if (e == 'N') jx_fail(j, (uint32_t)pos, CHAT_ERR_UNSUPPORTED, "unsupported \\N{...} escape in a string literal");
        jx_sb_put(j, &b, s + i - 1, 2);
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
                jx_fail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "integer literal out of range");
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
        if (p >= n) jx_fail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "unterminated string literal");
        Tok *t = push_tok(j, TK_STR, st, s + st, p + 1 - st);
        t->s = decode_string(j, s + st + 1, p - st - 1, st);
        return p + 1;
    }
    static const char *const ops2[] = { "//", "**", "==", "!=", ">=", "<=" };
    for (int k = 0; k < 6; k++)
        if (p + 1 < n && s[p] == ops2[k][0] && s[p + 1] == ops2[k][1]) { push_tok(j, TK_OP, st, s + st, 2); return p + 2; }
    if (!strchr("+-/*%~[](){}><=.:|,;", c) || c == 0)
        jx_fail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "unexpected character '%c' in a tag", c);
    if (c == '(' || c == '[' || c == '{') {
        if (*nbal >= MAX_DEPTH) jx_fail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "brackets nested too deeply");
        bal[(*nbal)++] = c == '(' ? ')' : c == '[' ? ']' : '}';
    } else if (c == ')' || c == ']' || c == '}') {
        if (*nbal == 0) jx_fail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "unexpected '%c'", c);
        if (bal[*nbal - 1] != c) jx_fail(j, (uint32_t)st, CHAT_ERR_UNSUPPORTED, "unexpected '%c', expected '%c'", c, bal[*nbal - 1]);
        (*nbal)--;
    }
    push_tok(j, TK_OP, st, s + st, 1);
    return p + 1;
}

/* Whitespace is Python's \s (str.isspace(): also U+00A0, U+3000...), as in
 * Jinja's regular expressions and str.rstrip(). */
static size_t ws_skip(J *j, size_t p)             /* past the whitespace at p */
{
    while (p < j->n) {
        size_t i = p;
        if (!jx_py_space(jx_u8_next(j->src, j->n, &i))) break;
        p = i;
    }
    return p;
}
static size_t ws_back(J *j, size_t lo, size_t e)  /* start of the whitespace ending at e */
{
    while (e > lo) {
        size_t st = e - 1;
        while (st > lo && ((unsigned char)j->src[st] & 0xC0) == 0x80) st--;
        size_t i = st;
        if (!jx_py_space(jx_u8_next(j->src, e, &i)) || i != e) break;
        e = st;
    }
    return e;
}

void jx_lex(J *j)
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
            dend = ws_back(j, pos, dend);
        } else if (sign != '+' && kind != '{') {             /* lstrip_blocks */
            size_t l = dend;
            while (l > pos && s[l - 1] != '\n') l--;
            int only_ws = l < dend && ws_back(j, l, dend) == l;
            if ((l > pos || line_start) && only_ws) dend = l;
        }
        if (dend > pos) push_tok(j, TK_DATA, pos, s + pos, dend - pos);
        size_t p = after;
        if (kind == '#') {
            const char *e = NULL;
            for (size_t k = after; k + 1 < n; k++) if (s[k] == '#' && s[k + 1] == '}') { e = s + k; break; }
            if (!e) jx_fail(j, (uint32_t)t, CHAT_ERR_UNSUPPORTED, "missing end of comment tag '#}'");
            size_t k = (size_t)(e - s);
            p = k + 2;
            if (k > after && s[k - 1] == '-') p = ws_skip(j, p);
            else if (!(k > after && s[k - 1] == '+') && p < n && s[p] == '\n') p++;
            line_start = s[p - 1] == '\n';
            pos = p;
            continue;
        }
        push_tok(j, kind == '{' ? TK_VB : TK_BB, t, s + t, after - t);
        int nbal = 0;
        for (;;) {
            if (p >= n)
                jx_fail(j, (uint32_t)t, CHAT_ERR_UNSUPPORTED, "unclosed tag: missing '%s'", kind == '{' ? "}}" : "%}");
            if (nbal == 0) {
                char close = kind == '{' ? '}' : '%';
                size_t q = p;
                int minus = s[q] == '-', plus = s[q] == '+' && kind == '%';
                if (minus || plus) q++;
                if (q + 1 < n && s[q] == close && s[q + 1] == '}') {
                    push_tok(j, kind == '{' ? TK_VE : TK_BE, p, s + p, q + 2 - p);
                    p = q + 2;
                    if (minus) p = ws_skip(j, p);
                    else if (!plus && kind == '%' && p < n && s[p] == '\n') p++;   /* trim_blocks */
                    break;
                }
            }
            if (ws_skip(j, p) > p) { p = ws_skip(j, p); continue; }
            p = lex_token(j, p, bal, &nbal);
        }
        line_start = s[p - 1] == '\n';
        pos = p;
    }
    push_tok(j, TK_EOF, n, s + n, 0);
}

/* ---- parser ------------------------------------------------------------------ */

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
    if (want) jx_fail(j, t->pos, CHAT_ERR_UNSUPPORTED, "expected %s, found %s", want, describe(j, t));
    jx_fail(j, t->pos, CHAT_ERR_UNSUPPORTED, "unexpected %s", describe(j, t));
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
    if (++j->depth > MAX_DEPTH) jx_fail(j, cur(j)->pos, CHAT_ERR_UNSUPPORTED, "template nested too deeply");
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
            jx_fail(j, cur(j)->pos, CHAT_ERR_UNSUPPORTED, "unsupported: *args and **kwargs in calls");
        if (cur(j)->k == TK_NAME && is_op(peek1(j), "=")) {
            Str nm = advance(j)->s;
            advance(j);
            names_push(j, &x->names, &x->nn, nm);
            nv_push(j, &kw, parse_expression(j, 1));
        } else {
            if (kw.n) jx_fail(j, cur(j)->pos, CHAT_ERR_UNSUPPORTED, "positional argument after a keyword argument");
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
        jx_sb_put(j, &b, "", 0);
        while (cur(j)->k == TK_STR) jx_sb_str(j, &b, advance(j)->s);   /* 'a' "b" is 'ab' */
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
    if (args.n == 0) jx_fail(j, t->pos, CHAT_ERR_UNSUPPORTED, "empty subscript");
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
                if (is_name(c, "is")) jx_fail(j, c->pos, CHAT_ERR_UNSUPPORTED, "tests cannot be chained with 'is'");
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
        if (nops == 64) jx_fail(j, t->pos, CHAT_ERR_UNSUPPORTED, "comparison chain too long");
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
        if (is_name(cur(j), "recursive")) jx_fail(j, cur(j)->pos, CHAT_ERR_UNSUPPORTED, "unsupported: recursive loops");
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
        if (!j->loops) jx_fail(j, t->pos, CHAT_ERR_UNSUPPORTED, "'%.*s' outside of a loop", (int)t->s.n, t->s.s);
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
            jx_fail(j, t->pos, CHAT_ERR_UNSUPPORTED, "unsupported tag '%s'", known[i]);
    if (t->k != TK_NAME) { j->tp--; unexpected(j, "a tag name"); }
    jx_fail(j, t->pos, CHAT_ERR_UNSUPPORTED, "unknown tag '%.*s'", (int)t->s.n, t->s.s);
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
            jx_fail(j, t->pos, CHAT_ERR_UNSUPPORTED, "unexpected end of template: missing '{%% %s %%}'", ends[0]);
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
                jx_fail(j, nm->pos, CHAT_ERR_UNSUPPORTED, "unexpected '%.*s'%s%s%s", (int)nm->s.n, nm->s.s,
                      ends ? " (expected '" : "", ends ? ends[0] : "", ends ? "')" : "");
            nv_push(j, &body, parse_stmt(j));
        } else unexpected(j, NULL);
    }
    j->depth--;
    return body;
}


NV jx_parse(J *j)
{
    int which;
    return parse_body(j, NULL, &which);
}
