/* test_parse.c - tests of the Bison grammar (grammar/parser.y) through
 * parse_ueajsum() and parse_model().
 *
 * ueajsum: the AST of every argument form (positional, named, '*'/'&'
 * prefixes, [i] and {name} references, empty scalars), its spans, the
 * optional '->', and the syntax errors (what they say, where, and the
 * "to match this '['" note).
 * Model files: every statement kind, expression precedence (checked through
 * the fully parenthesised ast_dump_program text), spans, newlines inside
 * brackets, ';' separators, and error recovery: several mistakes in one
 * file are all reported (one per statement), up to DIAG_MAX_ERRORS.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static char *render(const UeajCtx *ctx)
{
    char *p = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&p, &n);
    ueaj_diag_render(ctx, f);
    fclose(f);
    return p;
}

static UExpr *pexpr(UeajCtx *ctx, const char *text)
{
    const Source *s = source_new(ctx, "<expr>", text, strlen(text));
    return parse_ueajsum(ctx, s);
}

static Program *pmodel(UeajCtx *ctx, const char *text)
{
    const Source *s = source_new(ctx, "m.ue", text, strlen(text));
    return parse_model(ctx, s);
}

#define CHECK_SPAN(S, ln, c, ec)                                                                  \
    ck_assert_msg((S).line == (ln) && (S).col == (c) && (S).end_col == (ec), "span %d:%d-%d, expected %d:%d-%d", \
                  (S).line, (S).col, (S).end_col, (ln), (c), (ec))

static const Diag *nth_diag(const UeajCtx *ctx, int n)
{
    const Diag *d = ctx->diags;
    while (d && n-- > 0) d = d->next;
    ck_assert_ptr_nonnull(d);
    return d;
}

/* ---- ueajsum ----------------------------------------------------------- */

START_TEST(ueajsum_matmul)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UExpr *e = pexpr(ctx, "ij,*jk->ik");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->nterms, 1);
    ck_assert(e->arrow);
    ck_assert_str_eq(e->rhs, "ik");
    CHECK_SPAN(e->span, 1, 1, 10);
    CHECK_SPAN(e->arrow_span, 1, 7, 8);
    CHECK_SPAN(e->rhs_span, 1, 9, 10);
    UTerm *t = e->terms[0];
    ck_assert_int_eq(t->nargs, 2);
    CHECK_SPAN(t->span, 1, 1, 6);
    UArg *a = t->args[0], *b = t->args[1];
    ck_assert_int_eq(a->kind, UARG_POS);
    ck_assert_int_eq(a->group, UG_INPUT);
    ck_assert_str_eq(a->letters, "ij");
    CHECK_SPAN(a->span, 1, 1, 2);
    CHECK_SPAN(a->letters_span, 1, 1, 2);
    ck_assert_ptr_null(a->prefix_span.src);
    ck_assert_int_eq(b->kind, UARG_POS);
    ck_assert_int_eq(b->group, UG_PARAM);
    ck_assert_str_eq(b->letters, "jk");
    CHECK_SPAN(b->span, 1, 4, 6);          /* the prefix is part of the argument */
    CHECK_SPAN(b->prefix_span, 1, 4, 4);
    CHECK_SPAN(b->letters_span, 1, 5, 6);
    ck_assert_int_eq(ctx->nerrors, 0);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(ueajsum_named_terms_whitespace)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UExpr *e = pexpr(ctx, "ij,*w=jk + *b=k -> ik");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->nterms, 2);
    ck_assert_str_eq(e->rhs, "ik");
    CHECK_SPAN(e->rhs_span, 1, 20, 21);
    UArg *w = e->terms[0]->args[1], *b = e->terms[1]->args[0];
    ck_assert_int_eq(w->kind, UARG_NAMED);
    ck_assert_int_eq(w->group, UG_PARAM);
    ck_assert_str_eq(w->name, "w");
    ck_assert_str_eq(w->letters, "jk");
    CHECK_SPAN(w->name_span, 1, 5, 5);
    CHECK_SPAN(w->letters_span, 1, 7, 8);
    CHECK_SPAN(w->span, 1, 4, 8);
    ck_assert_int_eq(e->terms[1]->nargs, 1);
    ck_assert_str_eq(b->name, "b");
    ck_assert_str_eq(b->letters, "k");
    CHECK_SPAN(e->terms[1]->span, 1, 12, 15);
    /* spaces around '=' (the seed kept them in the name: fixed) */
    UeajCtx *c2 = ueaj_ctx_new(NULL);
    e = pexpr(c2, " *w = jk ");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->terms[0]->args[0]->name, "w");
    ck_assert_str_eq(e->terms[0]->args[0]->letters, "jk");
    ueaj_ctx_free(c2);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(ueajsum_refs_lora_scalars)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UExpr *e = pexpr(ctx, "[2],{x},&a=k,,*,x=");
    ck_assert_ptr_nonnull(e);
    ck_assert(!e->arrow);
    ck_assert_str_eq(e->rhs, "");
    UTerm *t = e->terms[0];
    ck_assert_int_eq(t->nargs, 6);
    ck_assert_int_eq(t->args[0]->kind, UARG_REF_INDEX);
    ck_assert_int_eq(t->args[0]->index, 2);
    CHECK_SPAN(t->args[0]->span, 1, 1, 3);
    ck_assert_int_eq(t->args[1]->kind, UARG_REF_NAME);
    ck_assert_str_eq(t->args[1]->name, "x");
    CHECK_SPAN(t->args[1]->name_span, 1, 6, 6);
    ck_assert_int_eq(t->args[2]->kind, UARG_NAMED);
    ck_assert_int_eq(t->args[2]->group, UG_LORA);
    /* empty arguments are scalars */
    ck_assert_int_eq(t->args[3]->kind, UARG_POS);
    ck_assert_str_eq(t->args[3]->letters, "");
    ck_assert_int_eq(t->args[4]->kind, UARG_POS);
    ck_assert_int_eq(t->args[4]->group, UG_PARAM);
    ck_assert_str_eq(t->args[4]->letters, "");
    ck_assert_int_eq(t->args[5]->kind, UARG_NAMED);
    ck_assert_str_eq(t->args[5]->letters, "");
    ck_assert_int_eq(ctx->nerrors, 0);
    /* "ij->" is an explicit scalar result */
    e = pexpr(ctx, "ij->");
    ck_assert_ptr_nonnull(e);
    ck_assert(e->arrow);
    ck_assert_str_eq(e->rhs, "");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(ueajsum_ast_dump)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UExpr *e = pexpr(ctx, "ij,*w=jk + [0],{w},&l=k -> ik");
    ck_assert_ptr_nonnull(e);
    Buf b;
    buf_init(&b);
    ast_dump_uexpr(&b, e);
    ck_assert_str_eq(b.p, "ueajsum @1:1-29 -> \"ik\"\n"
                          "  term @1:1-8\n"
                          "    arg positional \"ij\" @1:1-2\n"
                          "    arg param named w = \"jk\" @1:4-8\n"
                          "  term @1:12-23\n"
                          "    arg ref [0] @1:12-14\n"
                          "    arg ref {w} @1:16-18\n"
                          "    arg lora named l = \"k\" @1:20-23\n");
    buf_free(&b);
    ueaj_ctx_free(ctx);
}
END_TEST

static void expect_one_error(const char *text, int col, int end_col, const char *msg)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UExpr *e = pexpr(ctx, text);
    ck_assert_msg(e == NULL, "'%s' parsed", text);
    char *r = render(ctx);
    ck_assert_msg(ctx->nerrors == 1, "'%s': %d errors:\n%s", text, ctx->nerrors, r);
    const Diag *d = nth_diag(ctx, 0);
    ck_assert_msg(!strcmp(d->msg, msg), "'%s': message '%s', expected '%s'", text, d->msg, msg);
    ck_assert_msg(d->span.col == col && d->span.end_col == end_col, "'%s': columns %d-%d, expected %d-%d", text,
                  d->span.col, d->span.end_col, col, end_col);
    free(r);
    ueaj_ctx_free(ctx);
}

START_TEST(ueajsum_syntax_errors)
{
    expect_one_error("ij->->k", 5, 6, "unexpected '->', expected end of expression or identifier");
    expect_one_error("ij->i j", 7, 7, "unexpected identifier 'j', expected end of expression");
    expect_one_error("ij,{}->i", 5, 5, "unexpected '}', expected identifier");
    expect_one_error("ij,[a]->i", 5, 5, "invalid index 'a': expected an integer slot number");
    expect_one_error("ij,[]->i", 4, 5, "invalid index: expected an integer slot number inside '[]'");
    expect_one_error("{x", 3, 3, "unexpected end of expression, expected '}'");
    expect_one_error("ij#->i", 3, 3, "invalid character '#' in ueajsum expression");
    expect_one_error("ij,jk->ik,", 10, 10, "unexpected ',', expected end of expression");
}
END_TEST

START_TEST(ueajsum_unclosed_bracket_note)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    ck_assert_ptr_null(pexpr(ctx, "ij,[1"));
    ck_assert_int_eq(ctx->nerrors, 1);
    const Diag *d = nth_diag(ctx, 0);
    ck_assert_str_eq(d->msg, "unexpected end of expression, expected ']'");
    ck_assert_int_eq(d->span.col, 6);
    ck_assert_ptr_nonnull(d->note);
    ck_assert_str_eq(d->note->msg, "to match this '['");
    CHECK_SPAN(d->note->span, 1, 4, 4);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(ueajsum_ctx_reuse)
{
    /* one context, several sources: a failed parse does not break the next */
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    ck_assert_ptr_null(pexpr(ctx, "ij->->"));
    int errs = ctx->nerrors;
    ck_assert_int_gt(errs, 0);
    UExpr *e = pexpr(ctx, "ab,bc->ac");   /* NULL only when *this* parse reports errors */
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->rhs, "ac");
    ck_assert_int_eq(ctx->nerrors, errs);
    ueaj_ctx_free(ctx);
}
END_TEST

/* ---- model files -------------------------------------------------------- */

static const char model_src[] =
    "model m\n"
    "dim d = config.hidden ?? 8\n"
    "let eps = 1e-6\n"
    "param w[d, 2 * d] : bf16 = load \"layers.{l}.w\" [2 * d, d] transpose(1, 0)\n"
    "input x[d]\n"
    "state s[d] : f32\n"
    "repeat l < 2 {\n"
    "  h = ueajsum(\"d,*dk->k\", x, w)\n"
    "  y = rms_norm(h, eps=eps)\n"
    "}\n"
    "z = a + b * c - -d\n"
    "t = p ? q : r || !v\n"
    "u = x.shape(0).n\n"
    "output z : f32";

START_TEST(model_statements)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Program *p = pmodel(ctx, model_src);
    char *r = render(ctx);
    ck_assert_msg(p != NULL, "%s", r);
    free(r);
    ck_assert_int_eq(p->items.n, 11);
    static const AstKind kinds[] = { A_MODEL, A_DIM, A_LET, A_PARAM, A_INPUT, A_STATE,
                                     A_REPEAT, A_ASSIGN, A_ASSIGN, A_ASSIGN, A_OUTPUT };
    static const char *const names[] = { "m", "d", "eps", "w", "x", "s", "l", "z", "t", "u", "z" };
    for (int i = 0; i < 11; i++) {
        ck_assert_int_eq(p->items.v[i]->kind, kinds[i]);
        ck_assert_str_eq(p->items.v[i]->name, names[i]);
    }
    Ast *dim = p->items.v[1];
    CHECK_SPAN(dim->span, 2, 1, 26);
    CHECK_SPAN(dim->name_span, 2, 5, 5);
    ck_assert_int_eq(dim->a->kind, A_DEFAULT);
    ck_assert_int_eq(dim->a->a->kind, A_FIELD);
    ck_assert_str_eq(dim->a->a->name, "hidden");
    Ast *let = p->items.v[2];
    ck_assert_int_eq(let->a->kind, A_NUM);
    ck_assert(!let->a->is_int);
    ck_assert(let->a->num == 1e-6);

    Ast *w = p->items.v[3];
    ck_assert_int_eq(w->args.n, 2);
    ck_assert_str_eq(w->dtype, "bf16");
    CHECK_SPAN(w->dtype_span, 4, 21, 24);   /* 'bf16' */
    ck_assert_int_eq(w->load->kind, A_STR);
    ck_assert_str_eq(w->load->str, "layers.{l}.w");
    ck_assert(w->load->str_plain);
    CHECK_SPAN(w->load->str_inner, 4, 34, 45);
    ck_assert_int_eq(w->load_shape.n, 2);
    ck_assert_int_eq(w->load_ops.n, 1);
    ck_assert_str_eq(w->load_ops.v[0]->name, "transpose");
    ck_assert_int_eq(w->load_ops.v[0]->args.n, 2);
    CHECK_SPAN(w->load_ops.v[0]->span, 4, 59, 73);

    ck_assert_ptr_null(p->items.v[4]->dtype);
    ck_assert_int_eq(p->items.v[4]->args.n, 1);
    ck_assert_str_eq(p->items.v[5]->dtype, "f32");

    Ast *rep = p->items.v[6];
    ck_assert_int_eq(rep->a->kind, A_NUM);
    ck_assert(rep->a->is_int);
    ck_assert_int_eq(rep->args.n, 2);
    Ast *h = rep->args.v[0];
    ck_assert_int_eq(h->kind, A_ASSIGN);
    CHECK_SPAN(h->span, 8, 3, 31);
    ck_assert_int_eq(h->a->kind, A_CALL);
    ck_assert_str_eq(h->a->name, "ueajsum");
    ck_assert_int_eq(h->a->args.n, 3);
    CHECK_SPAN(h->a->args.v[0]->str_inner, 8, 16, 23);   /* where a ueajsum slice starts */
    Ast *y = rep->args.v[1];
    ck_assert_int_eq(y->a->args.v[1]->kind, A_KWARG);
    ck_assert_str_eq(y->a->args.v[1]->name, "eps");

    Ast *u = p->items.v[9];
    ck_assert_int_eq(u->a->kind, A_FIELD);
    ck_assert_int_eq(u->a->a->kind, A_METHOD);
    ck_assert_str_eq(u->a->a->name, "shape");
    ck_assert_str_eq(p->items.v[10]->dtype, "f32");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(model_dump_precedence)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Program *p = pmodel(ctx, model_src);
    ck_assert_ptr_nonnull(p);
    Buf b;
    buf_init(&b);
    ast_dump_program(&b, p);
    ck_assert_str_eq(b.p,
        "model m @1:1-7\n"
        "dim d = (config.hidden ?? 8) @2:1-26\n"
        "let eps = 9.9999999999999995e-07 @3:1-14\n"
        "param w[d, (2 * d)] : bf16 = load \"layers.{l}.w\" [(2 * d), d] transpose(1, 0) @4:1-73\n"
        "input x[d] @5:1-11\n"
        "state s[d] : f32 @6:1-16\n"
        "repeat l < 2 @7:1-6\n"
        "  assign h = ueajsum(\"d,*dk->k\", x, w) @8:3-31\n"
        "  assign y = rms_norm(h, eps=eps) @9:3-26\n"
        "assign z = ((a + (b * c)) - (-d)) @11:1-18\n"
        "assign t = (p ? q : (r || (!v))) @12:1-19\n"
        "assign u = x.shape(0).n @13:1-16\n"
        "output z : f32 @14:1-14\n");
    buf_free(&b);

    /* more precedence: comparison below arithmetic, && below ==, ?? and ?: right-assoc */
    ck_assert_ptr_nonnull(p = pmodel(ctx, "a = 1 + 2 < 3 * 4 && x == y || z\n"
                                          "b = p ?? q ?? r\n"
                                          "c = i ? j : k ? l : m\n"
                                          "d = 8 / 4 / 2 % 3\n"));
    buf_init(&b);
    ast_dump_program(&b, p);
    ck_assert_str_eq(b.p, "assign a = ((((1 + 2) < (3 * 4)) && (x == y)) || z) @1:1-32\n"
                          "assign b = (p ?? (q ?? r)) @2:1-15\n"
                          "assign c = (i ? j : (k ? l : m)) @3:1-21\n"
                          "assign d = (((8 / 4) / 2) % 3) @4:1-17\n");
    buf_free(&b);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(model_layout)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    /* ';' separates statements; newlines inside brackets are spaces;
     * comments and blank lines are ignored; an empty file is a program */
    Program *p = pmodel(ctx, "# comment\n\ndim a = 1; dim b = 2\n"
                             "param w[a,\n        b] = load \"w\" # trailing\n\n\n"
                             "y = f(1,\n      2)\n");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->items.n, 4);
    ck_assert_int_eq(p->items.v[2]->args.n, 2);
    ck_assert_int_eq(p->items.v[2]->args.v[1]->span.line, 5);
    ck_assert_int_eq(p->items.v[3]->a->args.n, 2);
    p = pmodel(ctx, "");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->items.n, 0);
    p = pmodel(ctx, "\n# nothing but a comment\n");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->items.n, 0);
    ck_assert_int_eq(ctx->nerrors, 0);
    /* an escaped string is not plain */
    p = pmodel(ctx, "param w[d] = load \"a\\\"b\"\n");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->items.v[0]->load->str, "a\"b");
    ck_assert(!p->items.v[0]->load->str_plain);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(model_error_recovery)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Program *p = pmodel(ctx, "model m\n"
                             "dim d = = 4\n"
                             "let eps = 1e-6 +\n"
                             "input x[d]\n"
                             "input y[d] :\n"
                             "z = x * * y\n"
                             "output z\n");
    ck_assert_ptr_null(p);
    char *r = render(ctx);
    ck_assert_msg(ctx->nerrors == 4, "%d errors:\n%s", ctx->nerrors, r);
    free(r);
    static const int lines[] = { 2, 3, 5, 6 }, cols[] = { 9, 17, 13, 9 };
    for (int i = 0; i < 4; i++) {
        const Diag *d = nth_diag(ctx, i);
        ck_assert_msg(d->span.line == lines[i] && d->span.col == cols[i], "error %d at %d:%d (%s)", i, d->span.line,
                      d->span.col, d->msg);
    }
    ck_assert_str_eq(nth_diag(ctx, 0)->msg, "unexpected '=', expected an expression");
    ck_assert_str_eq(nth_diag(ctx, 1)->msg, "unexpected end of line, expected an expression");
    ck_assert_str_eq(nth_diag(ctx, 2)->msg, "unexpected end of line, expected identifier");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(model_bracket_note)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    ck_assert_ptr_null(pmodel(ctx, "param w[d, k : bf16\n"));
    const Diag *d = nth_diag(ctx, 0);
    ck_assert_str_eq(d->msg, "unexpected ':', expected ']'");
    CHECK_SPAN(d->span, 1, 14, 14);
    ck_assert_ptr_nonnull(d->note);
    ck_assert_str_eq(d->note->msg, "to match this '['");
    CHECK_SPAN(d->note->span, 1, 8, 8);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(model_error_limit)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Buf b;
    buf_init(&b);
    for (int i = 0; i < 40; i++) buf_printf(&b, "dim d%d = = %d\n", i, i);
    ck_assert_ptr_null(pmodel(ctx, b.p));
    buf_free(&b);
    ck_assert_int_eq(ctx->nerrors, DIAG_MAX_ERRORS);
    ck_assert(diag_too_many(ctx));
    /* the last one reported is on line DIAG_MAX_ERRORS: the parser stopped there */
    ck_assert_int_eq(nth_diag(ctx, DIAG_MAX_ERRORS - 1)->span.line, DIAG_MAX_ERRORS);
    char *r = render(ctx);
    ck_assert_ptr_nonnull(strstr(r, "ueajc: fatal: too many errors emitted, stopping now\n"));
    free(r);
    ueaj_ctx_free(ctx);
}
END_TEST

extern Suite *suite_parse(void);
Suite *suite_parse(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tcase_create("parse_ueajsum");
    tcase_add_test(tc, ueajsum_matmul);
    tcase_add_test(tc, ueajsum_named_terms_whitespace);
    tcase_add_test(tc, ueajsum_refs_lora_scalars);
    tcase_add_test(tc, ueajsum_ast_dump);
    tcase_add_test(tc, ueajsum_syntax_errors);
    tcase_add_test(tc, ueajsum_unclosed_bracket_note);
    tcase_add_test(tc, ueajsum_ctx_reuse);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse_model");
    tcase_add_test(tc, model_statements);
    tcase_add_test(tc, model_dump_precedence);
    tcase_add_test(tc, model_layout);
    tcase_add_test(tc, model_error_recovery);
    tcase_add_test(tc, model_bracket_note);
    tcase_add_test(tc, model_error_limit);
    suite_add_tcase(s, tc);
    return s;
}
