/* test_diag.c - tests of compiler/diag.c: sources, spans, diagnostics and
 * their clang-style rendering.
 *
 * Every expected rendering is written out in full here, byte for byte:
 *     <expr>:1:4: error: unknown argument 'q'
 *         1 | ij,{q}->i
 *           |    ^~~
 * Covered: single and multi-character carets, later lines, tabs (copied
 * into the caret line), UTF-8 (one caret column per character), control
 * characters, CRLF, spans past the end of the line, notes (after their
 * error, in order), warnings, diagnostics without a location, the error
 * limit, colour, and slice sources (a ueajsum string inside a model file)
 * mapped back into the parent's coordinates, nested and multi-line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Renders every diagnostic of ctx; the caller frees the string. */
static char *render(const UeajCtx *ctx)
{
    char *p = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&p, &n);
    ck_assert_ptr_nonnull(f);
    ueaj_diag_render(ctx, f);
    fclose(f);
    return p;
}

#define ASSERT_RENDERS(ctx, want)                                                  \
    do {                                                                           \
        char *got_ = render(ctx);                                                  \
        ck_assert_msg(strcmp(got_, (want)) == 0, "rendered:\n%s\nexpected:\n%s", got_, (want)); \
        free(got_);                                                                \
    } while (0)

static Source *src(UeajCtx *ctx, const char *name, const char *text)
{
    return source_new(ctx, name, text, strlen(text));
}

static Span sp(const Source *s, int line, int col, int end_col)
{
    Span r = { s, line, col, end_col };
    return r;
}

START_TEST(caret_single_and_span)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *s = src(ctx, "<expr>", "ij,{q}->i");
    diag_error(ctx, sp(s, 1, 4, 4), "unknown argument '%s'", "q");
    diag_error(ctx, sp(s, 1, 4, 6), "a span of %d", 3);
    ASSERT_RENDERS(ctx, "<expr>:1:4: error: unknown argument 'q'\n"
                        "    1 | ij,{q}->i\n"
                        "      |    ^\n"
                        "<expr>:1:4: error: a span of 3\n"
                        "    1 | ij,{q}->i\n"
                        "      |    ^~~\n");
    ck_assert_int_eq(ueaj_error_count(ctx), 2);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(later_lines)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *s = src(ctx, "m.ue", "model m\ndim d = 4\n  x = y\n");
    diag_error(ctx, sp(s, 3, 3, 3), "unknown name");
    diag_error(ctx, sp(s, 2, 1, 3), "first");
    ASSERT_RENDERS(ctx, "m.ue:3:3: error: unknown name\n"
                        "    3 |   x = y\n"
                        "      |   ^\n"
                        "m.ue:2:1: error: first\n"
                        "    2 | dim d = 4\n"
                        "      | ^~~\n");
    ueaj_ctx_free(ctx);

    /* line numbers right-aligned in the gutter */
    ctx = ueaj_ctx_new(NULL);
    Buf b;
    buf_init(&b);
    for (int i = 1; i < 1234; i++) buf_puts(&b, "\n");
    buf_puts(&b, "bad line");
    s = src(ctx, "big.ue", b.p);
    buf_free(&b);
    diag_error(ctx, sp(s, 1234, 5, 8), "here");
    ASSERT_RENDERS(ctx, "big.ue:1234:5: error: here\n"
                        " 1234 | bad line\n"
                        "      |     ^~~~\n");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(tabs_are_copied)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *s = src(ctx, "t.ue", "\tx = y#\n");
    diag_error(ctx, sp(s, 1, 7, 7), "invalid character '#'");
    diag_error(ctx, sp(s, 1, 2, 6), "whole");
    ASSERT_RENDERS(ctx, "t.ue:1:7: error: invalid character '#'\n"
                        "    1 | \tx = y#\n"
                        "      | \t     ^\n"
                        "t.ue:1:2: error: whole\n"
                        "    1 | \tx = y#\n"
                        "      | \t^~~~~\n");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(utf8_alignment)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    /* "é" is 2 bytes, "λ" 2, "€" 3: columns are bytes, carets characters */
    Source *s = src(ctx, "<expr>", "\xc3\xa9,\xce\xbbk,\xe2\x82\xac#");
    diag_error(ctx, sp(s, 1, 4, 4), "at lambda");     /* byte 4: first byte of λ */
    diag_error(ctx, sp(s, 1, 11, 11), "at hash");     /* é(2) ,(1) λ(2) k(1) ,(1) €(3) -> # is byte 11 */
    diag_error(ctx, sp(s, 1, 1, 3), "over e-acute and comma");
    diag_error(ctx, sp(s, 1, 8, 10), "over euro");
    ASSERT_RENDERS(ctx, "<expr>:1:4: error: at lambda\n"
                        "    1 | \xc3\xa9,\xce\xbbk,\xe2\x82\xac#\n"
                        "      |   ^\n"
                        "<expr>:1:11: error: at hash\n"
                        "    1 | \xc3\xa9,\xce\xbbk,\xe2\x82\xac#\n"
                        "      |       ^\n"
                        "<expr>:1:1: error: over e-acute and comma\n"
                        "    1 | \xc3\xa9,\xce\xbbk,\xe2\x82\xac#\n"
                        "      | ^~\n"
                        "<expr>:1:8: error: over euro\n"
                        "    1 | \xc3\xa9,\xce\xbbk,\xe2\x82\xac#\n"
                        "      |      ^\n");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(control_chars_and_crlf)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *s = src(ctx, "c.ue", "a\x01" "b\x1b[31m\r\nnext\r\n");
    diag_error(ctx, sp(s, 1, 2, 2), "control");
    diag_error(ctx, sp(s, 2, 1, 4), "second line");
    /* control characters never reach the terminal; '\r' ends the line */
    ASSERT_RENDERS(ctx, "c.ue:1:2: error: control\n"
                        "    1 | a?b?[31m\n"
                        "      |  ^\n"
                        "c.ue:2:1: error: second line\n"
                        "    2 | next\n"
                        "      | ^~~~\n");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(span_past_end_and_degenerate)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *s = src(ctx, "<expr>", "ij,[1");
    diag_error(ctx, sp(s, 1, 6, 6), "unexpected end of expression");
    diag_error(ctx, sp(s, 1, 3, 1), "end before start");
    diag_error(ctx, sp(s, 1, 0, 0), "column zero");
    ASSERT_RENDERS(ctx, "<expr>:1:6: error: unexpected end of expression\n"
                        "    1 | ij,[1\n"
                        "      |      ^\n"
                        "<expr>:1:3: error: end before start\n"
                        "    1 | ij,[1\n"
                        "      |   ^\n"
                        "<expr>:1:0: error: column zero\n"
                        "    1 | ij,[1\n"
                        "      | ^\n");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(notes_follow_their_error)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *s = src(ctx, "<expr>", "x=ij,x=jk->ik");
    Diag *d = diag_error(ctx, sp(s, 1, 6, 6), "duplicate argument assignment for '%s'", "x");
    diag_note(ctx, d, sp(s, 1, 1, 4), "'%s' was first assigned here", "x");
    diag_note(ctx, d, (Span){ 0 }, "a note without a location");
    diag_error(ctx, sp(s, 1, 12, 13), "next error");
    ck_assert_int_eq(ueaj_error_count(ctx), 2);   /* notes are not errors */
    ck_assert_int_eq(ctx->nwarnings, 0);
    ck_assert_ptr_nonnull(d->note);
    ck_assert_ptr_nonnull(d->note->note);
    ck_assert_int_eq(d->note->sev, SEV_NOTE);
    ASSERT_RENDERS(ctx, "<expr>:1:6: error: duplicate argument assignment for 'x'\n"
                        "    1 | x=ij,x=jk->ik\n"
                        "      |      ^\n"
                        "<expr>:1:1: note: 'x' was first assigned here\n"
                        "    1 | x=ij,x=jk->ik\n"
                        "      | ^~~~\n"
                        "ueajc: note: a note without a location\n"
                        "<expr>:1:12: error: next error\n"
                        "    1 | x=ij,x=jk->ik\n"
                        "      |            ^~\n");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(warnings_and_no_location)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *s = src(ctx, "<expr>", "ij,*[0]->i");
    diag_warning(ctx, sp(s, 1, 4, 4), "'*' on a reference has no effect");
    ck_assert_int_eq(ueaj_error_count(ctx), 0);
    ck_assert_int_eq(ctx->nwarnings, 1);
    diag_error(ctx, (Span){ 0 }, "out of %s", "luck");
    ASSERT_RENDERS(ctx, "<expr>:1:4: warning: '*' on a reference has no effect\n"
                        "    1 | ij,*[0]->i\n"
                        "      |    ^\n"
                        "ueajc: error: out of luck\n");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(error_limit)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    for (int i = 0; i < DIAG_MAX_ERRORS - 1; i++) diag_error(ctx, (Span){ 0 }, "e%d", i);
    ck_assert(!diag_too_many(ctx));
    for (int i = 0; i < 50; i++) diag_warning(ctx, (Span){ 0 }, "warnings do not count");
    ck_assert(!diag_too_many(ctx));
    diag_error(ctx, (Span){ 0 }, "the last one");
    ck_assert(diag_too_many(ctx));
    char *out = render(ctx);
    const char *tail = "ueajc: error: the last one\nueajc: fatal: too many errors emitted, stopping now\n";
    ck_assert_uint_ge(strlen(out), strlen(tail));
    ck_assert_str_eq(out + strlen(out) - strlen(tail), tail);
    free(out);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(long_message)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    char name[5001];
    memset(name, 'n', 5000);
    name[5000] = 0;
    Diag *d = diag_error(ctx, (Span){ 0 }, "unknown argument '%s'", name);
    /* "unknown argument '" is 18 characters */
    ck_assert_uint_eq(strlen(d->msg), 18 + 5000 + 1);
    ck_assert_int_eq(d->msg[18 + 4999], 'n');
    ck_assert_int_eq(d->msg[18 + 5000], '\'');
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(colour)
{
    UeajOptions o = { 0 };
    o.color = 1;
    UeajCtx *ctx = ueaj_ctx_new(&o);
    Source *s = src(ctx, "<expr>", "ab");
    diag_error(ctx, sp(s, 1, 2, 2), "msg");
    char *out = render(ctx);
    ck_assert_ptr_nonnull(strstr(out, "\033[1;31merror:"));
    ck_assert_ptr_nonnull(strstr(out, "msg\033[0m"));
    ck_assert_ptr_nonnull(strstr(out, "    1 | ab\n"));
    free(out);
    ueaj_ctx_free(ctx);
}
END_TEST

/* ---- slices: a ueajsum string inside a model file --------------------- */

/*          1         2         3
 * 123456789012345678901234567890
 *   y = ueajsum("ij,{q}->i", x)      the string body starts at 2:16 */
static const char model_text[] = "model m\n  y = ueajsum(\"ij,{q}->i\", x)\n";

START_TEST(slice_maps_to_parent)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *file = src(ctx, "m.ue", model_text);
    Source *s = source_slice(ctx, file, 2, 16, "ij,{q}->i", 9);
    ck_assert_ptr_eq(s->parent, file);
    ck_assert_str_eq(s->name, "m.ue");
    ck_assert_int_ne(s->id, file->id);
    diag_error(ctx, sp(s, 1, 4, 6), "unknown argument 'q'");
    ASSERT_RENDERS(ctx, "m.ue:2:19: error: unknown argument 'q'\n"
                        "    2 |   y = ueajsum(\"ij,{q}->i\", x)\n"
                        "      |                   ^~~\n");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(slice_nested_and_multiline)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *file = src(ctx, "m.ue", model_text);
    Source *s = source_slice(ctx, file, 2, 16, "ij,{q}->i", 9);
    Source *inner = source_slice(ctx, s, 1, 4, "{q}", 3);   /* "{q}" at column 4 of the slice */
    diag_error(ctx, sp(inner, 1, 2, 2), "the name");
    ASSERT_RENDERS(ctx, "m.ue:2:20: error: the name\n"
                        "    2 |   y = ueajsum(\"ij,{q}->i\", x)\n"
                        "      |                    ^\n");
    ueaj_ctx_free(ctx);

    /* a slice spanning lines: its line 2 is the parent's next line, columns unshifted */
    ctx = ueaj_ctx_new(NULL);
    file = src(ctx, "w.ue", "model m\ny = f(\"ab,\n  cd\")\n");
    s = source_slice(ctx, file, 2, 8, "ab,\n  cd", 8);
    diag_error(ctx, sp(s, 2, 3, 4), "second line of the slice");
    diag_error(ctx, sp(s, 1, 1, 2), "first line of the slice");
    ASSERT_RENDERS(ctx, "w.ue:3:3: error: second line of the slice\n"
                        "    3 |   cd\")\n"
                        "      |   ^~\n"
                        "w.ue:2:8: error: first line of the slice\n"
                        "    2 | y = f(\"ab,\n"
                        "      |        ^~\n");
    ueaj_ctx_free(ctx);
}
END_TEST

/* The real pipeline on a slice: parse + resolve report in file coordinates. */
START_TEST(slice_through_parser_and_resolver)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *file = src(ctx, "m.ue", model_text);
    Source *s = source_slice(ctx, file, 2, 16, "ij,{q}->i", 9);
    UExpr *e = parse_ueajsum(ctx, s);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_null(ueajsum_resolve(ctx, e, false));
    ASSERT_RENDERS(ctx, "m.ue:2:19: error: unknown argument 'q'\n"
                        "    2 |   y = ueajsum(\"ij,{q}->i\", x)\n"
                        "      |                   ^~~\n"
                        "m.ue:2:16: note: the expression declares no named arguments\n"
                        "    2 |   y = ueajsum(\"ij,{q}->i\", x)\n"
                        "      |                ^~~~~~~~~\n");
    ueaj_ctx_free(ctx);
}
END_TEST

/* ---- span helpers ------------------------------------------------------ */

START_TEST(span_join_cases)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *s = src(ctx, "<expr>", "abc def\nghi");
    Source *t = src(ctx, "<other>", "xyz");
    Span a = sp(s, 1, 1, 3), b = sp(s, 1, 5, 7);
    Span j = span_join(a, b);
    ck_assert_ptr_eq(j.src, s);
    ck_assert_int_eq(j.line, 1);
    ck_assert_int_eq(j.col, 1);
    ck_assert_int_eq(j.end_col, 7);
    /* b inside a: a unchanged */
    j = span_join(sp(s, 1, 1, 7), sp(s, 1, 2, 3));
    ck_assert_int_eq(j.col, 1);
    ck_assert_int_eq(j.end_col, 7);
    /* no source on one side: the other */
    j = span_join((Span){ 0 }, b);
    ck_assert_int_eq(j.col, 5);
    j = span_join(a, (Span){ 0 });
    ck_assert_int_eq(j.end_col, 3);
    /* different sources: a */
    j = span_join(a, sp(t, 1, 1, 3));
    ck_assert_ptr_eq(j.src, s);
    ck_assert_int_eq(j.end_col, 3);
    /* across lines: the first line keeps its end */
    j = span_join(a, sp(s, 2, 1, 3));
    ck_assert_int_eq(j.line, 1);
    ck_assert_int_eq(j.col, 1);
    ck_assert_int_eq(j.end_col, 3);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(span_text_cases)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    Source *s = src(ctx, "<expr>", "ij,*jk->ik\nsecond");
    ck_assert_str_eq(span_text(ctx, sp(s, 1, 4, 6)), "*jk");
    ck_assert_str_eq(span_text(ctx, sp(s, 1, 1, 10)), "ij,*jk->ik");
    ck_assert_str_eq(span_text(ctx, sp(s, 2, 1, 3)), "sec");
    ck_assert_str_eq(span_text(ctx, sp(s, 1, 9, 99)), "ik");   /* clamped to the line */
    ck_assert_str_eq(span_text(ctx, sp(s, 1, 50, 60)), "");
    ck_assert_str_eq(span_text(ctx, (Span){ 0 }), "");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(source_new_copies)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    char text[] = "ij->i";
    char name[] = "<expr>";
    Source *s = source_new(ctx, name, text, 5);
    text[0] = 'X';
    name[0] = 'X';
    ck_assert_str_eq(s->text, "ij->i");
    ck_assert_str_eq(s->name, "<expr>");
    ck_assert_uint_eq(s->len, 5);
    ck_assert_int_eq(s->text[5], 0);   /* the lexer's sentinel */
    Source *s2 = source_new(ctx, "b", "ab", 1);
    ck_assert_str_eq(s2->text, "a");
    ck_assert_int_eq(s2->id, s->id + 1);
    ueaj_ctx_free(ctx);
}
END_TEST

extern Suite *suite_diag(void);
Suite *suite_diag(void)
{
    Suite *s = suite_create("diag");
    TCase *tc = tcase_create("render_caret");
    tcase_add_test(tc, caret_single_and_span);
    tcase_add_test(tc, later_lines);
    tcase_add_test(tc, tabs_are_copied);
    tcase_add_test(tc, utf8_alignment);
    tcase_add_test(tc, control_chars_and_crlf);
    tcase_add_test(tc, span_past_end_and_degenerate);
    tcase_add_test(tc, colour);
    suite_add_tcase(s, tc);
    tc = tcase_create("render_notes_warnings_limit");
    tcase_add_test(tc, notes_follow_their_error);
    tcase_add_test(tc, warnings_and_no_location);
    tcase_add_test(tc, error_limit);
    tcase_add_test(tc, long_message);
    suite_add_tcase(s, tc);
    tc = tcase_create("source_slice");
    tcase_add_test(tc, slice_maps_to_parent);
    tcase_add_test(tc, slice_nested_and_multiline);
    tcase_add_test(tc, slice_through_parser_and_resolver);
    suite_add_tcase(s, tc);
    tc = tcase_create("spans_and_sources");
    tcase_add_test(tc, span_join_cases);
    tcase_add_test(tc, span_text_cases);
    tcase_add_test(tc, source_new_copies);
    suite_add_tcase(s, tc);
    return s;
}
