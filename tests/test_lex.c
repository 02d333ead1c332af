/* test_lex.c - tests of the re2c lexer (grammar/lexer.re) through its entry
 * point ueaj_yylex(), the function the Bison parser calls.
 *
 * A Parser is set up exactly as the parser does it; each test lists the
 * tokens expected, with their line and columns, and the diagnostics the
 * lexer itself reports (bad characters, unterminated strings, bad escapes,
 * huge integers, NUL bytes).  Both languages are covered: ueajsum
 * expressions (mode 0: newlines are spaces, '#' is an error, keywords are
 * plain identifiers) and model files (mode 1: NL tokens, collapsed blank
 * lines, comments, newlines inside brackets, keywords).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "parser.h"

typedef struct Lexed {
    UeajCtx *ctx;
    Parser   P;
} Lexed;

static void lex_init(Lexed *L, const char *text, size_t len, int mode)
{
    L->ctx = ueaj_ctx_new(NULL);
    const Source *s = source_new(L->ctx, mode ? "t.ue" : "<expr>", text, len);
    memset(&L->P, 0, sizeof L->P);
    L->P.ctx = L->ctx;
    L->P.src = s;
    L->P.cur = L->P.line_start = s->text;
    L->P.lim = s->text + s->len;
    L->P.line = 1;
    L->P.mode = mode;
}

typedef struct Tok {
    int  tok;
    int  line, col, end_col;
    const char *text;   /* IDENT / STRING value, or NULL */
} Tok;

/* Lexes everything up to END (which is included); at most max tokens. */
static int lex_all(Lexed *L, Tok *out, int max)
{
    int n = 0;
    for (;;) {
        UEAJ_YYSTYPE v;
        Span loc;
        memset(&v, 0, sizeof v);
        int t = ueaj_yylex(&v, &loc, &L->P);
        ck_assert_int_lt(n, max);
        out[n].tok = t;
        out[n].line = loc.line;
        out[n].col = loc.col;
        out[n].end_col = loc.end_col;
        out[n].text = t == TOK_IDENT ? v.TOK_IDENT : t == TOK_STRING ? v.TOK_STRING.s : NULL;
        n++;
        if (t == TOK_END) return n;
    }
}

#define CHECK_TOK(T, i, tk, ln, c, ec)                                                       \
    do {                                                                                     \
        ck_assert_msg((T)[i].tok == (tk), "token %d: %d, expected %d", (i), (T)[i].tok, (tk)); \
        ck_assert_msg((T)[i].line == (ln) && (T)[i].col == (c) && (T)[i].end_col == (ec),     \
                      "token %d at %d:%d-%d, expected %d:%d-%d", (i), (T)[i].line, (T)[i].col, \
                      (T)[i].end_col, (ln), (c), (ec));                                      \
    } while (0)

static const Diag *nth_diag(const UeajCtx *ctx, int n)
{
    const Diag *d = ctx->diags;
    while (d && n-- > 0) d = d->next;
    ck_assert_ptr_nonnull(d);
    return d;
}

START_TEST(ueajsum_tokens_and_spans)
{
    Lexed L;
    const char *text = "ij,*jk + &w=k ->ik";
    lex_init(&L, text, strlen(text), 0);
    Tok t[32];
    int n = lex_all(&L, t, 32);
    ck_assert_int_eq(n, 13);
    CHECK_TOK(t, 0, TOK_START_EXPR, 1, 1, 1);
    CHECK_TOK(t, 1, TOK_IDENT, 1, 1, 2);
    ck_assert_str_eq(t[1].text, "ij");
    CHECK_TOK(t, 2, ',', 1, 3, 3);
    CHECK_TOK(t, 3, '*', 1, 4, 4);
    CHECK_TOK(t, 4, TOK_IDENT, 1, 5, 6);
    CHECK_TOK(t, 5, '+', 1, 8, 8);
    CHECK_TOK(t, 6, '&', 1, 10, 10);
    CHECK_TOK(t, 7, TOK_IDENT, 1, 11, 11);
    ck_assert_str_eq(t[7].text, "w");
    CHECK_TOK(t, 8, '=', 1, 12, 12);
    CHECK_TOK(t, 9, TOK_IDENT, 1, 13, 13);
    CHECK_TOK(t, 10, TOK_ARROW, 1, 15, 16);
    CHECK_TOK(t, 11, TOK_IDENT, 1, 17, 18);
    CHECK_TOK(t, 12, TOK_END, 1, 19, 19);
    ck_assert_int_eq(L.ctx->nerrors, 0);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(ueajsum_refs_and_ints)
{
    Lexed L;
    const char *text = "[12],{name}";
    lex_init(&L, text, strlen(text), 0);
    Tok t[16];
    int n = lex_all(&L, t, 16);
    ck_assert_int_eq(n, 9);
    CHECK_TOK(t, 1, '[', 1, 1, 1);
    CHECK_TOK(t, 2, TOK_INT, 1, 2, 3);
    CHECK_TOK(t, 3, ']', 1, 4, 4);
    CHECK_TOK(t, 4, ',', 1, 5, 5);
    CHECK_TOK(t, 5, '{', 1, 6, 6);
    CHECK_TOK(t, 6, TOK_IDENT, 1, 7, 10);
    CHECK_TOK(t, 7, '}', 1, 11, 11);
    ck_assert_int_eq(L.P.depth, 0);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(ueajsum_newlines_are_spaces_and_keywords_plain)
{
    Lexed L;
    const char *text = "dim,\n  param->model";
    lex_init(&L, text, strlen(text), 0);
    Tok t[16];
    int n = lex_all(&L, t, 16);
    ck_assert_int_eq(n, 7);
    CHECK_TOK(t, 1, TOK_IDENT, 1, 1, 3);     /* not TOK_DIM in an expression */
    CHECK_TOK(t, 2, ',', 1, 4, 4);
    CHECK_TOK(t, 3, TOK_IDENT, 2, 3, 7);     /* no NL token; the line advances */
    CHECK_TOK(t, 4, TOK_ARROW, 2, 8, 9);
    CHECK_TOK(t, 5, TOK_IDENT, 2, 10, 14);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(ueajsum_hash_is_an_error)
{
    Lexed L;
    const char *text = "ij#x->i";
    lex_init(&L, text, strlen(text), 0);
    Tok t[16];
    int n = lex_all(&L, t, 16);
    /* the '#' is reported and skipped (not a comment): x is still lexed */
    ck_assert_int_eq(n, 6);
    CHECK_TOK(t, 1, TOK_IDENT, 1, 1, 2);
    CHECK_TOK(t, 2, TOK_IDENT, 1, 4, 4);
    ck_assert_int_eq(L.ctx->nerrors, 1);
    const Diag *d = nth_diag(L.ctx, 0);
    ck_assert_str_eq(d->msg, "invalid character '#' in ueajsum expression");
    ck_assert_int_eq(d->span.col, 3);
    ck_assert_int_eq(d->span.end_col, 3);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(invalid_chars_utf8_and_control)
{
    Lexed L;
    /* é (2 bytes), € (3 bytes), then \x01, then '$' */
    const char *text = "a\xc3\xa9" "b\xe2\x82\xac\x01$c";
    lex_init(&L, text, strlen(text), 0);
    Tok t[16];
    int n = lex_all(&L, t, 16);
    ck_assert_int_eq(n, 5);
    CHECK_TOK(t, 1, TOK_IDENT, 1, 1, 1);
    CHECK_TOK(t, 2, TOK_IDENT, 1, 4, 4);
    CHECK_TOK(t, 3, TOK_IDENT, 1, 10, 10);
    /* one diagnostic per UTF-8 sequence, spanning its bytes */
    ck_assert_int_eq(L.ctx->nerrors, 4);
    const Diag *d = nth_diag(L.ctx, 0);
    ck_assert_str_eq(d->msg, "invalid character in ueajsum expression (non-ASCII byte 0xC3)");
    ck_assert_int_eq(d->span.col, 2);
    ck_assert_int_eq(d->span.end_col, 3);
    d = nth_diag(L.ctx, 1);
    ck_assert_str_eq(d->msg, "invalid character in ueajsum expression (non-ASCII byte 0xE2)");
    ck_assert_int_eq(d->span.col, 5);
    ck_assert_int_eq(d->span.end_col, 7);
    d = nth_diag(L.ctx, 2);
    ck_assert_str_eq(d->msg, "invalid character '?' in ueajsum expression");   /* never a raw control byte */
    ck_assert_int_eq(d->span.col, 8);
    d = nth_diag(L.ctx, 3);
    ck_assert_str_eq(d->msg, "invalid character '$' in ueajsum expression");
    ck_assert_int_eq(d->span.col, 9);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(nul_bytes)
{
    Lexed L;
    const char text[] = "dim d = 4\0x\n";
    lex_init(&L, text, sizeof text - 1, 1);
    Tok t[16];
    int n = lex_all(&L, t, 16);
    /* START dim d = 4 x NL END: the NUL is reported, lexing goes on */
    ck_assert_int_eq(n, 8);
    CHECK_TOK(t, 1, TOK_DIM, 1, 1, 3);
    CHECK_TOK(t, 5, TOK_IDENT, 1, 11, 11);
    CHECK_TOK(t, 6, TOK_NL, 1, 12, 12);
    ck_assert_int_eq(L.ctx->nerrors, 1);
    const Diag *d = nth_diag(L.ctx, 0);
    ck_assert_str_eq(d->msg, "NUL byte in input");
    ck_assert_int_eq(d->span.col, 10);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(model_newlines_comments_keywords)
{
    Lexed L;
    const char *text = "\n\n# header comment\nmodel m   # trailing\n\n\n   dim d = 4\n";
    lex_init(&L, text, strlen(text), 1);
    Tok t[32];
    int n = lex_all(&L, t, 32);
    /* START model m NL dim d = 4 NL END: leading blank lines give no NL,
     * runs of blank/comment lines collapse into one */
    ck_assert_int_eq(n, 10);
    CHECK_TOK(t, 0, TOK_START_MODEL, 1, 1, 1);
    CHECK_TOK(t, 1, TOK_MODEL, 4, 1, 5);
    CHECK_TOK(t, 2, TOK_IDENT, 4, 7, 7);
    CHECK_TOK(t, 3, TOK_NL, 4, 21, 21);
    CHECK_TOK(t, 4, TOK_DIM, 7, 4, 6);
    CHECK_TOK(t, 5, TOK_IDENT, 7, 8, 8);
    CHECK_TOK(t, 6, '=', 7, 10, 10);
    CHECK_TOK(t, 7, TOK_INT, 7, 12, 12);
    CHECK_TOK(t, 8, TOK_NL, 7, 13, 13);
    CHECK_TOK(t, 9, TOK_END, 7, 13, 13); /* the end is reported just after the last token */
    ck_assert_int_eq(L.ctx->nerrors, 0);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(model_all_keywords)
{
    static const struct { const char *s; int tok; } kw[] = {
        { "model", TOK_MODEL }, { "dim", TOK_DIM }, { "let", TOK_LET }, { "param", TOK_PARAM },
        { "input", TOK_INPUT }, { "state", TOK_STATE }, { "output", TOK_OUTPUT },
        { "repeat", TOK_REPEAT }, { "load", TOK_LOAD }, { "true", TOK_TRUE }, { "false", TOK_FALSE },
        { "models", TOK_IDENT }, { "Dim", TOK_IDENT }, { "_let", TOK_IDENT }, { "param2", TOK_IDENT },
    };
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        Lexed L;
        lex_init(&L, kw[i].s, strlen(kw[i].s), 1);
        Tok t[8];
        lex_all(&L, t, 8);
        ck_assert_msg(t[1].tok == kw[i].tok, "'%s': token %d, expected %d", kw[i].s, t[1].tok, kw[i].tok);
        ueaj_ctx_free(L.ctx);
    }
}
END_TEST

START_TEST(model_no_final_newline)
{
    Lexed L;
    const char *text = "output y";
    lex_init(&L, text, strlen(text), 1);
    Tok t[8];
    int n = lex_all(&L, t, 8);
    /* the last statement still ends with an NL */
    ck_assert_int_eq(n, 5);
    CHECK_TOK(t, 1, TOK_OUTPUT, 1, 1, 6);
    ck_assert_int_eq(t[3].tok, TOK_NL);
    ck_assert_int_eq(t[4].tok, TOK_END);
    ueaj_ctx_free(L.ctx);

    /* an empty file and a comment-only file are just END */
    lex_init(&L, "", 0, 1);
    n = lex_all(&L, t, 8);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(t[1].tok, TOK_END);
    ueaj_ctx_free(L.ctx);
    lex_init(&L, "# only\n\n# comments", 18, 1);
    n = lex_all(&L, t, 8);
    ck_assert_int_eq(n, 2);
    ueaj_ctx_free(L.ctx);
    ueaj_ctx_free(NULL);
}
END_TEST

START_TEST(model_newlines_inside_brackets)
{
    Lexed L;
    const char *text = "y = f(a,\n      b[1,\n2])\nz";
    lex_init(&L, text, strlen(text), 1);
    Tok t[32];
    int n = lex_all(&L, t, 32);
    /* START y = f ( a , b [ 1 , 2 ] ) NL z NL END */
    ck_assert_int_eq(n, 18);
    CHECK_TOK(t, 7, TOK_IDENT, 2, 7, 7);
    CHECK_TOK(t, 8, '[', 2, 8, 8);
    CHECK_TOK(t, 11, TOK_INT, 3, 1, 1);
    CHECK_TOK(t, 13, ')', 3, 3, 3);
    CHECK_TOK(t, 14, TOK_NL, 3, 4, 4);
    CHECK_TOK(t, 15, TOK_IDENT, 4, 1, 1);
    ck_assert_int_eq(L.P.depth, 0);
    ueaj_ctx_free(L.ctx);

    /* a stray closer never makes the depth negative */
    lex_init(&L, "])\nx", 4, 1);
    n = lex_all(&L, t, 32);
    ck_assert_int_eq(L.P.depth, 0);
    ck_assert_int_eq(t[3].tok, TOK_NL);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(operators)
{
    Lexed L;
    const char *text = "?? == != <= >= && || -> < > ! % / - . ; : ?";
    lex_init(&L, text, strlen(text), 1);
    Tok t[32];
    int n = lex_all(&L, t, 32);
    static const int want[] = { TOK_QQ, TOK_EQ, TOK_NE, TOK_LE, TOK_GE, TOK_AND, TOK_OR, TOK_ARROW,
                                '<', '>', '!', '%', '/', '-', '.', ';', ':', '?' };
    int nw = (int)(sizeof want / sizeof want[0]);
    ck_assert_int_eq(n, nw + 3);   /* START ... NL END */
    for (int i = 0; i < nw; i++) ck_assert_msg(t[i + 1].tok == want[i], "operator %d", i);
    CHECK_TOK(t, 1, TOK_QQ, 1, 1, 2);
    CHECK_TOK(t, 8, TOK_ARROW, 1, 22, 23);
    ck_assert_int_eq(L.ctx->nerrors, 0);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(numbers)
{
    static const struct { const char *s; int tok; double v; } cases[] = {
        { "0", TOK_INT, 0 },        { "42", TOK_INT, 42 },       { "1.5", TOK_FLOAT, 1.5 },
        { ".5", TOK_FLOAT, 0.5 },   { "2.", TOK_FLOAT, 2.0 },    { "1e-6", TOK_FLOAT, 1e-6 },
        { "3E+2", TOK_FLOAT, 300 }, { "9007199254740992", TOK_INT, 9007199254740992.0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Lexed L;
        lex_init(&L, cases[i].s, strlen(cases[i].s), 1);
        UEAJ_YYSTYPE v;
        Span loc;
        ueaj_yylex(&v, &loc, &L.P);   /* START */
        int tk = ueaj_yylex(&v, &loc, &L.P);
        ck_assert_msg(tk == cases[i].tok, "'%s'", cases[i].s);
        double got = tk == TOK_INT ? (double)v.TOK_INT : v.TOK_FLOAT;
        ck_assert_msg(got == cases[i].v, "'%s' -> %g", cases[i].s, got);
        ck_assert_int_eq(loc.end_col, (int)strlen(cases[i].s));
        ck_assert_int_eq(L.ctx->nerrors, 0);
        ueaj_ctx_free(L.ctx);
    }
    /* beyond 2^53 (exact in a double): an error, the value 0 */
    Lexed L;
    const char *big = "9007199254740993 99999999999999999999999";
    lex_init(&L, big, strlen(big), 1);
    Tok t[8];
    lex_all(&L, t, 8);
    ck_assert_int_eq(L.ctx->nerrors, 2);
    ck_assert_str_eq(nth_diag(L.ctx, 0)->msg, "integer literal is too large");
    ck_assert_int_eq(nth_diag(L.ctx, 1)->span.col, 18);
    ck_assert_int_eq(nth_diag(L.ctx, 1)->span.end_col, 40);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(strings)
{
    Lexed L;
    const char *text = "\"plain [d]\" \"esc\\\"aped\\\\\\n\\t\"";
    lex_init(&L, text, strlen(text), 1);
    UEAJ_YYSTYPE v;
    Span loc;
    ueaj_yylex(&v, &loc, &L.P);
    ck_assert_int_eq(ueaj_yylex(&v, &loc, &L.P), TOK_STRING);
    ck_assert_str_eq(v.TOK_STRING.s, "plain [d]");
    ck_assert(v.TOK_STRING.plain);
    ck_assert_int_eq(loc.col, 1);
    ck_assert_int_eq(loc.end_col, 11);
    ck_assert_int_eq(L.P.depth, 0);   /* brackets inside strings do not nest */
    ck_assert_int_eq(ueaj_yylex(&v, &loc, &L.P), TOK_STRING);
    ck_assert_str_eq(v.TOK_STRING.s, "esc\"aped\\\n\t");
    ck_assert(!v.TOK_STRING.plain);
    ck_assert_int_eq(loc.col, 13);
    ck_assert_int_eq(L.ctx->nerrors, 0);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(string_errors)
{
    Lexed L;
    /* unknown escape: reported at the backslash, 2 columns wide; the
     * character is kept */
    const char *text = "x = \"a\\qb\"\ny = \"open\nz";
    lex_init(&L, text, strlen(text), 1);
    Tok t[16];
    int n = lex_all(&L, t, 16);
    ck_assert_int_eq(L.ctx->nerrors, 2);
    const Diag *d = nth_diag(L.ctx, 0);
    ck_assert_str_eq(d->msg, "unknown escape sequence '\\q' in string");
    ck_assert_int_eq(d->span.line, 1);
    ck_assert_int_eq(d->span.col, 7);
    ck_assert_int_eq(d->span.end_col, 8);
    ck_assert_int_eq(t[3].tok, TOK_STRING);
    ck_assert_str_eq(t[3].text, "aqb");
    d = nth_diag(L.ctx, 1);
    ck_assert_str_eq(d->msg, "missing terminating '\"' character");
    ck_assert_int_eq(d->span.line, 2);
    ck_assert_int_eq(d->span.col, 5);
    /* the rest of the line is skipped; lexing resumes on the next line */
    ck_assert_int_eq(t[n - 3].tok, TOK_IDENT);
    ck_assert_str_eq(t[n - 3].text, "z");
    ck_assert_int_eq(t[n - 3].line, 3);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(error_limit_stops_lexing)
{
    Lexed L;
    char text[200];
    memset(text, '$', 100);
    memcpy(text + 100, " tail", 6);
    lex_init(&L, text, strlen(text), 0);
    Tok t[8];
    int n = lex_all(&L, t, 8);
    /* after DIAG_MAX_ERRORS errors the lexer stops: no more diagnostics,
     * and END at once */
    ck_assert_int_ge(L.ctx->nerrors, DIAG_MAX_ERRORS);
    ck_assert_int_eq(L.ctx->nerrors, DIAG_MAX_ERRORS);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(t[1].tok, TOK_END);
    ueaj_ctx_free(L.ctx);
}
END_TEST

START_TEST(open_brackets_recorded)
{
    Lexed L;
    const char *text = "f(a[1, (b";
    lex_init(&L, text, strlen(text), 1);
    Tok t[16];
    lex_all(&L, t, 16);
    ck_assert_int_eq(L.P.depth, 3);
    ck_assert_int_eq(L.P.open_ch[0], '(');
    ck_assert_int_eq(L.P.open_at[0].col, 2);
    ck_assert_int_eq(L.P.open_ch[1], '[');
    ck_assert_int_eq(L.P.open_at[1].col, 4);
    ck_assert_int_eq(L.P.open_ch[2], '(');
    ck_assert_int_eq(L.P.open_at[2].col, 8);
    ueaj_ctx_free(L.ctx);
}
END_TEST

extern Suite *suite_lex(void);
Suite *suite_lex(void)
{
    Suite *s = suite_create("lex");
    TCase *tc = tcase_create("ueajsum");
    tcase_add_test(tc, ueajsum_tokens_and_spans);
    tcase_add_test(tc, ueajsum_refs_and_ints);
    tcase_add_test(tc, ueajsum_newlines_are_spaces_and_keywords_plain);
    tcase_add_test(tc, ueajsum_hash_is_an_error);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad_input");
    tcase_add_test(tc, invalid_chars_utf8_and_control);
    tcase_add_test(tc, nul_bytes);
    tcase_add_test(tc, error_limit_stops_lexing);
    suite_add_tcase(s, tc);
    tc = tcase_create("model");
    tcase_add_test(tc, model_newlines_comments_keywords);
    tcase_add_test(tc, model_all_keywords);
    tcase_add_test(tc, model_no_final_newline);
    tcase_add_test(tc, model_newlines_inside_brackets);
    tcase_add_test(tc, open_brackets_recorded);
    suite_add_tcase(s, tc);
    tc = tcase_create("literals_operators");
    tcase_add_test(tc, operators);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, strings);
    tcase_add_test(tc, string_errors);
    suite_add_tcase(s, tc);
    return s;
}
