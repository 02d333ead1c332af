/* test_ueajsum.c - tests of compiler/ueajsum.c: resolving a parsed ueajsum
 * expression into its configuration (the seed's UeajsumConfig), and the
 * chained helpers.
 *
 * The expected slots, named arguments and per-term access tuples are the
 * seed's (seed-semantics.md 1.1 and acceptance cases 1-6), including its
 * slot allocation: one cursor for the whole expression that skips taken
 * slots, and references checked only after the whole string, so a forward
 * reference `[2]` before slot 2 is declared is legal.
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

/* Parses and resolves; returns NULL (with ctx's errors) on failure. */
static UConfig *resolve(UeajCtx *ctx, const char *text, bool no_inst)
{
    const Source *s = source_new(ctx, "<expr>", text, strlen(text));
    UExpr *e = parse_ueajsum(ctx, s);
    ck_assert_msg(e != NULL, "'%s' does not parse", text);
    return ueajsum_resolve(ctx, e, no_inst);
}

static UConfig *resolve_ok(UeajCtx *ctx, const char *text)
{
    UConfig *c = resolve(ctx, text, false);
    if (!c) {
        char *r = render(ctx);
        ck_abort_msg("'%s' does not resolve:\n%s", text, r);
    }
    return c;
}

/* A term's access tuple as the seed writes it: "(0, 'w')". */
static const char *terms_text(UeajCtx *ctx, const UConfig *c)
{
    Buf b;
    buf_init(&b);
    for (int t = 0; t < c->nterms; t++) {
        buf_putc(&b, '(');
        for (int k = 0; k < c->terms[t].nops; k++) {
            const UOperand *o = c->terms[t].ops[k];
            if (k) buf_puts(&b, ", ");
            if (o->name) buf_printf(&b, "'%s'", o->name); else buf_printf(&b, "%d", o->slot);
        }
        buf_putc(&b, ')');
    }
    const char *r = arena_strdup(&ctx->arena, b.p ? b.p : "");
    buf_free(&b);
    return r;
}

static void check_slot(const UConfig *c, int i, UGroup g, const char *letters)
{
    ck_assert_int_lt(i, c->nslots);
    ck_assert_ptr_nonnull(c->slots[i]);
    ck_assert_int_eq(c->slots[i]->slot, i);
    ck_assert_msg(c->slots[i]->group == g, "slot %d group %d, expected %d", i, c->slots[i]->group, g);
    ck_assert_str_eq(c->slots[i]->letters, letters);
    ck_assert_ptr_null(c->slots[i]->name);
}

/* ---- acceptance cases 1-3 -------------------------------------------- */

START_TEST(matmul)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve_ok(ctx, "ij,*jk->ik");
    ck_assert_int_eq(c->nslots, 2);
    check_slot(c, 0, UG_INPUT, "ij");
    check_slot(c, 1, UG_PARAM, "jk");
    ck_assert_int_eq(c->nnamed, 0);
    ck_assert_str_eq(terms_text(ctx, c), "(0, 1)");
    ck_assert_str_eq(c->result.letters, "ik");
    ck_assert_int_eq(c->result.slot, -1);
    /* nothing set yet: the precision pass picks the defaults */
    ck_assert_int_eq(c->slots[1]->dtype, DT_NONE);
    ck_assert(!c->slots[1]->has_var);
    /* the operand spans point at the declaration */
    ck_assert_int_eq(c->slots[1]->span.col, 4);
    ck_assert_int_eq(c->slots[1]->span.end_col, 6);
    ck_assert_int_eq(c->terms[0].op_spans[1].col, 4);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(bias_named)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve_ok(ctx, "ij,*w=jk + *b=k -> ik");
    ck_assert_int_eq(c->nslots, 1);
    check_slot(c, 0, UG_INPUT, "ij");
    ck_assert_int_eq(c->nnamed, 2);
    ck_assert_str_eq(c->named[0]->name, "w");
    ck_assert_str_eq(c->named[0]->letters, "jk");
    ck_assert_int_eq(c->named[0]->group, UG_PARAM);
    ck_assert_int_eq(c->named[0]->slot, -1);
    ck_assert_str_eq(c->named[1]->name, "b");
    ck_assert_str_eq(c->named[1]->letters, "k");
    ck_assert_str_eq(terms_text(ctx, c), "(0, 'w')('b')");
    ck_assert_str_eq(c->result.letters, "ik");
    ck_assert_ptr_eq(ueajsum_find(c, "w"), c->named[0]);
    ck_assert_ptr_eq(ueajsum_find(c, "b"), c->named[1]);
    ck_assert_ptr_null(ueajsum_find(c, "x"));
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(transnormer)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve_ok(ctx, "bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv");
    ck_assert_int_eq(c->nslots, 7);
    static const char *const L[] = { "bnd", "dhik", "bmz", "zhk", "bmy", "yhv", "nm" };
    for (int i = 0; i < 7; i++) check_slot(c, i, i % 2 ? UG_PARAM : UG_INPUT, L[i]);
    ck_assert_str_eq(terms_text(ctx, c), "(0, 1, 2, 3, 4, 5, 6)");
    ck_assert_str_eq(c->result.letters, "bnhiv");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(three_operands_and_scalar_result)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve_ok(ctx, "bnh,bnh,*hd->bnd");
    ck_assert_int_eq(c->nslots, 3);
    check_slot(c, 2, UG_PARAM, "hd");
    ck_assert_str_eq(terms_text(ctx, c), "(0, 1, 2)");
    c = resolve_ok(ctx, "ij,ij");
    ck_assert_str_eq(c->result.letters, "");
    ck_assert(!c->expr->arrow);
    ueaj_ctx_free(ctx);
}
END_TEST

/* ---- slot allocation ---------------------------------------------------- */

START_TEST(forward_references)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    /* [2] is used before slot 2 is declared: legal, checked at the end */
    UConfig *c = resolve_ok(ctx, "[2],ij,jk,*kl->il");
    ck_assert_int_eq(c->nslots, 3);
    check_slot(c, 0, UG_INPUT, "ij");
    check_slot(c, 1, UG_INPUT, "jk");
    check_slot(c, 2, UG_PARAM, "kl");
    ck_assert_str_eq(terms_text(ctx, c), "(2, 0, 1, 2)");
    /* the reference resolves to the same operand object */
    ck_assert_ptr_eq(c->terms[0].ops[0], c->terms[0].ops[3]);
    /* and its written span is the reference's */
    ck_assert_int_eq(c->terms[0].op_spans[0].col, 1);
    ck_assert_int_eq(c->terms[0].op_spans[0].end_col, 3);

    /* forward {name} too */
    c = resolve_ok(ctx, "{w},ij + w=jk -> ik");
    ck_assert_str_eq(terms_text(ctx, c), "('w', 0)('w')");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(one_cursor_for_all_terms)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    /* the cursor is not reset per term, and named arguments take no slot */
    UConfig *c = resolve_ok(ctx, "ab,x=bc + cd,*de + [0],[2] -> ae");
    ck_assert_int_eq(c->nslots, 3);
    check_slot(c, 0, UG_INPUT, "ab");
    check_slot(c, 1, UG_INPUT, "cd");
    check_slot(c, 2, UG_PARAM, "de");
    ck_assert_int_eq(c->nnamed, 1);
    ck_assert_str_eq(terms_text(ctx, c), "(0, 'x')(1, 2)(0, 2)");
    /* the same letters twice are two arguments */
    c = resolve_ok(ctx, "ij,ij->");
    ck_assert_int_eq(c->nslots, 2);
    ck_assert_ptr_ne(c->slots[0], c->slots[1]);
    /* empty arguments are scalar slots */
    c = resolve_ok(ctx, "ij,,");
    ck_assert_int_eq(c->nslots, 3);
    check_slot(c, 1, UG_INPUT, "");
    check_slot(c, 2, UG_INPUT, "");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(spaces_around_equals)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    /* the seed kept the spaces ("w ", " jk"); fixed: name "w", shape "jk" */
    UConfig *c = resolve_ok(ctx, "ij, *w = jk -> ik");
    ck_assert_int_eq(c->nnamed, 1);
    ck_assert_str_eq(c->named[0]->name, "w");
    ck_assert_str_eq(c->named[0]->letters, "jk");
    ueaj_ctx_free(ctx);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

/* Resolving `text` fails with exactly one error `msg` at columns [col, end_col]. */
static void expect_error(const char *text, bool no_inst, const char *msg, int col, int end_col, const char *note)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve(ctx, text, no_inst);
    char *r = render(ctx);
    ck_assert_msg(c == NULL, "'%s' resolved", text);
    ck_assert_msg(ctx->nerrors == 1, "'%s': %d errors:\n%s", text, ctx->nerrors, r);
    const Diag *d = ctx->diags;
    ck_assert_msg(!strcmp(d->msg, msg), "'%s': '%s', expected '%s'", text, d->msg, msg);
    ck_assert_msg(d->span.col == col && d->span.end_col == end_col, "'%s': columns %d-%d, expected %d-%d", text,
                  d->span.col, d->span.end_col, col, end_col);
    if (note) {
        ck_assert_msg(d->note && !strcmp(d->note->msg, note), "'%s': note '%s', expected '%s'", text,
                      d->note ? d->note->msg : "(none)", note);
    } else {
        ck_assert_msg(d->note == NULL, "'%s': unexpected note '%s'", text, d->note ? d->note->msg : "");
    }
    free(r);
    ueaj_ctx_free(ctx);
}

START_TEST(seed_errors)
{
    /* acceptance 4-6 */
    expect_error("x=ij,x=jk->ik", false, "duplicate argument assignment for 'x'", 6, 6, "'x' was first assigned here");
    expect_error("ij,{q}->i", false, "unknown argument 'q'", 4, 6, "the expression declares no named arguments");
    expect_error("ij,[5]->i", false, "index out of bounds: 5", 4, 6,
                 "the expression has 1 positional argument (slots 0..0)");
    expect_error("ij,*jk->ik", true, "instantiation not allowed: this expression may not declare parameters ('*')",
                 4, 6, NULL);
    expect_error("ij,&a=k->ik", true,
                 "instantiation not allowed: this expression may not declare LoRA parameters ('&')", 4, 7, NULL);
    /* the seed's GMLP bug: slot 1 is an input, [1] fine; [2] out of bounds */
    expect_error("bnh,[2]->bnd", false, "index out of bounds: 2", 5, 7,
                 "the expression has 1 positional argument (slots 0..0)");
    expect_error("x=ab,{y}->a", false, "unknown argument 'y'", 6, 8, NULL);
}
END_TEST

START_TEST(letter_errors)
{
    expect_error("ij->ii", false, "result letter 'i' appears more than once", 6, 6, "first appears here");
    expect_error("i2,j->i", false, "invalid axis letter '2': axes are single ASCII letters (a-z, A-Z)", 2, 2, NULL);
    expect_error("abcdefghi->a", false, "9 axes; at most 8 are supported", 1, 9, NULL);
    expect_error("ab->abcdefghi", false, "9 axes; at most 8 are supported", 5, 13, NULL);
    expect_error("x=i_j->i", false, "invalid axis letter '_': axes are single ASCII letters (a-z, A-Z)", 4, 4, NULL);
    /* 8 axes are fine; letters are case sensitive */
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve_ok(ctx, "abcdefgh,AB->habA");
    ck_assert_str_eq(c->slots[1]->letters, "AB");
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(several_errors_reported)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    ck_assert_ptr_null(resolve(ctx, "x=ij,x=jk,{q},[7]->ii", false));
    ck_assert_int_eq(ctx->nerrors, 4);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(no_instantiation_allows_inputs)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve(ctx, "ij,jk->ik", true);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->nslots, 2);
    /* references are not declarations */
    c = resolve(ctx, "ij,[0]->i", true);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(ctx->nerrors, 0);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(prefix_on_reference_warns)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve(ctx, "ij,*[0]->i", false);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(ctx->nerrors, 0);
    ck_assert_int_eq(ctx->nwarnings, 1);
    ck_assert_str_eq(ctx->diags->msg, "'*' on a reference has no effect: the referenced argument keeps its own kind");
    ck_assert_int_eq(ctx->diags->span.col, 4);
    /* the referenced argument keeps its kind */
    ck_assert_int_eq(c->terms[0].ops[1]->group, UG_INPUT);
    ueaj_ctx_free(ctx);
}
END_TEST

/* ---- helpers -------------------------------------------------------------- */

START_TEST(helper_names)
{
    static const struct { const char *n; unsigned f; } h[] = {
        { "unit", UEAJ_H_UNIT },           { "fp8_params", UEAJ_H_FP8_PARAMS },
        { "bf16_params", UEAJ_H_BF16_PARAMS }, { "bf16_grads", UEAJ_H_BF16_GRADS },
        { "fp32_grads", UEAJ_H_FP32_GRADS },
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        unsigned f = 0;
        ck_assert_int_eq(ueajsum_helper_from_name(h[i].n, &f), 0);
        ck_assert_uint_eq(f, h[i].f);
    }
    unsigned f = 12345;
    ck_assert_int_eq(ueajsum_helper_from_name("fp8", &f), -1);
    ck_assert_int_eq(ueajsum_helper_from_name("", &f), -1);
    ck_assert_int_eq(ueajsum_helper_from_name("Unit", &f), -1);
    ck_assert_uint_eq(f, 12345);
}
END_TEST

START_TEST(helper_unit)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve_ok(ctx, "ij,*w=jk + &a=k -> ik");
    ueajsum_apply_helpers(c, UEAJ_H_UNIT);
    /* every argument (inputs, params, LoRA) and the result: the seed's map_args */
    ck_assert(c->slots[0]->has_var && c->slots[0]->var == 1.0);
    ck_assert(c->named[0]->has_var && c->named[0]->var == 1.0);
    ck_assert(c->named[1]->has_var && c->named[1]->var == 1.0);
    ck_assert(c->result.has_var && c->result.var == 1.0);
    /* dtypes untouched */
    ck_assert_int_eq(c->named[0]->dtype, DT_NONE);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(helper_param_dtypes_skip_inputs_and_lora)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve_ok(ctx, "ij,*jk,&a=k,*w=k->ik");
    UOperand *in = c->slots[0], *p = c->slots[1], *lora = c->named[0], *w = c->named[1];
    ck_assert_int_eq(lora->group, UG_LORA);
    ueajsum_apply_helpers(c, UEAJ_H_FP8_PARAMS);
    ck_assert_int_eq(p->dtype, DT_F8E4M3);
    ck_assert_int_eq(w->dtype, DT_F8E4M3);
    ck_assert_int_eq(in->dtype, DT_NONE);     /* inputs: not params */
    ck_assert_int_eq(lora->dtype, DT_NONE);   /* LoRA: the seed's exact group match */
    ck_assert_int_eq(p->grad_dtype, DT_NONE);
    ck_assert(!p->has_var && !c->result.has_var);

    ueajsum_apply_helpers(c, UEAJ_H_BF16_PARAMS);
    ck_assert_int_eq(p->dtype, DT_BF16);
    ck_assert_int_eq(lora->dtype, DT_NONE);

    ueajsum_apply_helpers(c, UEAJ_H_BF16_GRADS);
    ck_assert_int_eq(p->grad_dtype, DT_BF16);
    ck_assert_int_eq(in->grad_dtype, DT_NONE);
    ck_assert_int_eq(lora->grad_dtype, DT_NONE);
    ueajsum_apply_helpers(c, UEAJ_H_FP32_GRADS);
    ck_assert_int_eq(p->grad_dtype, DT_F32);
    ck_assert_int_eq(w->grad_dtype, DT_F32);
    ck_assert_int_eq(lora->grad_dtype, DT_NONE);
    ck_assert_int_eq(p->dtype, DT_BF16);      /* grads helpers leave the storage dtype */
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(helper_chain_order)
{
    /* several flags at once apply in the documented order: unit, fp8_params,
     * bf16_params, bf16_grads, fp32_grads (later ones win) */
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve_ok(ctx, "ij,*jk->ik");
    ueajsum_apply_helpers(c, UEAJ_H_FP8_PARAMS | UEAJ_H_BF16_PARAMS | UEAJ_H_BF16_GRADS | UEAJ_H_FP32_GRADS |
                                 UEAJ_H_UNIT);
    ck_assert_int_eq(c->slots[1]->dtype, DT_BF16);
    ck_assert_int_eq(c->slots[1]->grad_dtype, DT_F32);
    ck_assert(c->slots[1]->has_var);
    ck_assert_int_eq(c->slots[0]->dtype, DT_NONE);
    ueaj_ctx_free(ctx);
}
END_TEST

START_TEST(labels_and_dump)
{
    UeajCtx *ctx = ueaj_ctx_new(NULL);
    UConfig *c = resolve_ok(ctx, "ij,*jk,*w=k + &a=k -> ik");
    ck_assert_str_eq(ueajsum_operand_label(ctx, c->slots[0]), "argument 0");
    ck_assert_str_eq(ueajsum_operand_label(ctx, c->slots[1]), "parameter w_1");
    ck_assert_str_eq(ueajsum_operand_label(ctx, c->named[0]), "parameter 'w'");
    ck_assert_str_eq(ueajsum_operand_label(ctx, c->named[1]), "lora parameter 'a'");
    ueajsum_apply_helpers(c, UEAJ_H_UNIT | UEAJ_H_FP8_PARAMS | UEAJ_H_FP32_GRADS);
    Buf b;
    buf_init(&b);
    ueajsum_dump(&b, c);
    ck_assert_str_eq(b.p, "slot 0: input \"ij\" var=1\n"
                          "slot 1: param \"jk\" var=1 dtype=f8e4m3 grad=f32\n"
                          "named w: param \"k\" var=1 dtype=f8e4m3 grad=f32\n"
                          "named a: lora \"k\" var=1\n"
                          "term 0: (0, 1, \"w\")\n"
                          "term 1: (\"a\")\n"
                          "result: \"ik\" var=1\n");
    buf_free(&b);
    ueaj_ctx_free(ctx);
}
END_TEST

extern Suite *suite_ueajsum(void);
Suite *suite_ueajsum(void)
{
    Suite *s = suite_create("ueajsum");
    TCase *tc = tcase_create("ueajsum_resolve");
    tcase_add_test(tc, matmul);
    tcase_add_test(tc, bias_named);
    tcase_add_test(tc, transnormer);
    tcase_add_test(tc, three_operands_and_scalar_result);
    tcase_add_test(tc, forward_references);
    tcase_add_test(tc, one_cursor_for_all_terms);
    tcase_add_test(tc, spaces_around_equals);
    suite_add_tcase(s, tc);
    tc = tcase_create("ueajsum_resolve_errors");
    tcase_add_test(tc, seed_errors);
    tcase_add_test(tc, letter_errors);
    tcase_add_test(tc, several_errors_reported);
    tcase_add_test(tc, no_instantiation_allows_inputs);
    tcase_add_test(tc, prefix_on_reference_warns);
    suite_add_tcase(s, tc);
    tc = tcase_create("ueajsum_apply_helpers");
    tcase_add_test(tc, helper_names);
    tcase_add_test(tc, helper_unit);
    tcase_add_test(tc, helper_param_dtypes_skip_inputs_and_lora);
    tcase_add_test(tc, helper_chain_order);
    tcase_add_test(tc, labels_and_dump);
    suite_add_tcase(s, tc);
    return s;
}
