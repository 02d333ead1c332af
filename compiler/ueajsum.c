/* ueajsum.c - resolving a parsed ueajsum expression into its configuration.
 *
 * Input: the UExpr the parser built.  Output: a UConfig, the seed's
 * UeajsumConfig: positional arguments by slot, named arguments, the result
 * and, per '+' term, the operands it uses in written order.
 *
 *   "ij,*w=jk + *b=k -> ik"  =>  slots [0: input "ij"]
 *                                named {w: param "jk", b: param "k"}
 *                                terms ((slot 0, w), (b))   result "ik"
 *
 * Slot allocation follows the seed exactly: one cursor for the whole
 * expression; each positional declaration skips slots already taken.
 * References ([i], {name}) are checked after the whole string, so forward
 * references are legal.  Every error the seed raises exists here (duplicate
 * name, unknown argument, index out of bounds, invalid index, instantiation
 * not allowed); missing arguments and shape mismatches are found later,
 * when arrays are bound (ir_build.c, pass_shapes.c).
 *
 * Fixed seed bugs: `*w = jk` (spaces around '=') means name "w", shape
 * "jk" (the seed kept the spaces); a prefix on a reference (`*[1]`) is a
 * warning rather than silently ignored; axis letters must be ASCII letters
 * and a result letter may not repeat.
 */
#include <string.h>
#include "internal.h"

static int check_letters(UeajCtx *ctx, const char *letters, Span sp, bool result)
{
    int bad = 0;
    for (int i = 0; letters[i]; i++) {
        unsigned char c = (unsigned char)letters[i];
        Span s = sp;
        s.col = sp.col + i;
        s.end_col = s.col;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            diag_error(ctx, s, "invalid axis letter '%c': axes are single ASCII letters (a-z, A-Z)", c);
            bad = 1;
            continue;
        }
        if (result && strchr(letters + i + 1, c)) {
            Span s2 = sp;
            s2.col = sp.col + (int)(strchr(letters + i + 1, c) - letters);
            s2.end_col = s2.col;
            Diag *d = diag_error(ctx, s2, "result letter '%c' appears more than once", c);
            diag_note(ctx, d, s, "first appears here");
            bad = 1;
        }
    }
    if ((int)strlen(letters) > IR_MAX_RANK) {
        diag_error(ctx, sp, "%d axes; at most %d are supported", (int)strlen(letters), IR_MAX_RANK);
        bad = 1;
    }
    return bad ? -1 : 0;
}

UOperand *ueajsum_find(const UConfig *c, const char *name)
{
    for (int i = 0; i < c->nnamed; i++)
        if (strcmp(c->named[i]->name, name) == 0) return c->named[i];
    return NULL;
}

const char *ueajsum_operand_label(UeajCtx *ctx, const UOperand *o)
{
    const char *kind = o->group == UG_INPUT ? "argument" : o->group == UG_PARAM ? "parameter" : "lora parameter";
    if (o->name) return arena_printf(&ctx->arena, "%s '%s'", kind, o->name);
    if (o->group != UG_INPUT) return arena_printf(&ctx->arena, "%s w_%d", kind, o->slot);
    return arena_printf(&ctx->arena, "%s %d", kind, o->slot);
}

UConfig *ueajsum_resolve(UeajCtx *ctx, const UExpr *e, bool no_instantiation)
{
    Arena *A = &ctx->arena;
    int before = ctx->nerrors;
    UConfig *c = ARENA_NEW(A, UConfig);
    c->expr = e;
    PtrVec slots = {0}, named = {0};
    int cursor = 0;
    /* decl[t][k]: the operand declared by argument k of term t, if any */
    UOperand ***decl = ARENA_ARRAY(A, UOperand **, e->nterms);

    /* pass 1: declarations, in written order */
    for (int t = 0; t < e->nterms; t++) {
        const UTerm *term = e->terms[t];
        decl[t] = ARENA_ARRAY(A, UOperand *, term->nargs);
        for (int k = 0; k < term->nargs; k++) {
            const UArg *a = term->args[k];
            if (a->kind == UARG_REF_INDEX || a->kind == UARG_REF_NAME) {
                if (a->prefix_span.src)
                    diag_warning(ctx, a->prefix_span,
                                 "'%c' on a reference has no effect: the referenced argument keeps its own kind",
                                 a->group == UG_LORA ? '&' : '*');
                continue;
            }
            if (no_instantiation && a->group != UG_INPUT) {
                diag_error(ctx, a->span, "instantiation not allowed: this expression may not declare %s",
                           a->group == UG_LORA ? "LoRA parameters ('&')" : "parameters ('*')");
                continue;
            }
            check_letters(ctx, a->letters, a->letters_span, false);
            UOperand *o = ARENA_NEW(A, UOperand);
            o->group = a->group;
            o->letters = a->letters;
            o->span = a->span;
            o->letters_span = a->letters_span;
            o->slot = -1;
            decl[t][k] = o;
            if (a->kind == UARG_NAMED) {
                o->name = a->name;
                bool dup = false;
                for (int i = 0; i < named.n; i++) {
                    UOperand *p = named.v[i];
                    if (strcmp(p->name, a->name) == 0) {
                        Diag *d = diag_error(ctx, a->name_span, "duplicate argument assignment for '%s'", a->name);
                        diag_note(ctx, d, p->span, "'%s' was first assigned here", a->name);
                        dup = true;
                        break;
                    }
                }
                if (!dup) vec_push(A, &named, o); else decl[t][k] = NULL;
            } else {
                while (cursor < slots.n && slots.v[cursor]) cursor++;
                o->slot = cursor;
                if (cursor == slots.n) vec_push(A, &slots, o); else slots.v[cursor] = o;
            }
        }
    }
    c->slots = (UOperand **)slots.v;
    c->nslots = slots.n;
    c->named = (UOperand **)named.v;
    c->nnamed = named.n;
    c->result.letters = e->rhs;
    c->result.span = e->arrow ? e->rhs_span : e->span;
    c->result.slot = -1;
    check_letters(ctx, e->rhs, e->rhs_span, true);

    /* pass 2: terms, with references resolved (forward references are legal) */
    c->terms = ARENA_ARRAY(A, UTermCfg, e->nterms);
    c->nterms = e->nterms;
    for (int t = 0; t < e->nterms; t++) {
        const UTerm *term = e->terms[t];
        UTermCfg *tc = &c->terms[t];
        tc->ops = ARENA_ARRAY(A, UOperand *, term->nargs);
        tc->op_spans = ARENA_ARRAY(A, Span, term->nargs);
        tc->span = term->span;
        for (int k = 0; k < term->nargs; k++) {
            const UArg *a = term->args[k];
            UOperand *o = NULL;
            switch (a->kind) {
            case UARG_POS:
            case UARG_NAMED:
                o = decl[t][k];
                break;
            case UARG_REF_NAME:
                o = ueajsum_find(c, a->name);
                if (!o) {
                    Diag *d = diag_error(ctx, a->span, "unknown argument '%s'", a->name);
                    if (c->nnamed == 0) diag_note(ctx, d, e->span, "the expression declares no named arguments");
                }
                break;
            case UARG_REF_INDEX:
                if (a->index < 0) break; /* already reported: invalid index */
                if (a->index >= c->nslots || !c->slots[a->index]) {
                    Diag *d = diag_error(ctx, a->span, "index out of bounds: %ld", a->index);
                    diag_note(ctx, d, e->span, "the expression has %d positional argument%s (slots 0..%d)",
                              c->nslots, c->nslots == 1 ? "" : "s", c->nslots - 1);
                } else {
                    o = c->slots[a->index];
                }
                break;
            }
            if (o) {
                tc->op_spans[tc->nops] = a->span;
                tc->ops[tc->nops++] = o;
            }
        }
    }
    return ctx->nerrors > before ? NULL : c;
}

static const struct { const char *name; unsigned flag; } helpers[] = {
    {"unit", UEAJ_H_UNIT},
    {"fp8_params", UEAJ_H_FP8_PARAMS},
    {"bf16_params", UEAJ_H_BF16_PARAMS},
    {"bf16_grads", UEAJ_H_BF16_GRADS},
    {"fp32_grads", UEAJ_H_FP32_GRADS},
};

int ueajsum_helper_from_name(const char *name, unsigned *flag)
{
    for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++)
        if (strcmp(name, helpers[i].name) == 0) { *flag = helpers[i].flag; return 0; }
    return -1;
}

static void apply_one(UOperand *o, unsigned h)
{
    if (h & UEAJ_H_UNIT) { o->has_var = true; o->var = 1.0; }
    /* the seed's helpers match the param group exactly: LoRA params are untouched */
    if (o->group != UG_PARAM) return;
    if (h & UEAJ_H_FP8_PARAMS) o->dtype = DT_F8E4M3;
    if (h & UEAJ_H_BF16_PARAMS) o->dtype = DT_BF16;
    if (h & UEAJ_H_BF16_GRADS) o->grad_dtype = DT_BF16;
    if (h & UEAJ_H_FP32_GRADS) o->grad_dtype = DT_F32;
}

void ueajsum_apply_helpers(UConfig *c, unsigned h)
{
    for (int i = 0; i < c->nslots; i++) if (c->slots[i]) apply_one(c->slots[i], h);
    for (int i = 0; i < c->nnamed; i++) apply_one(c->named[i], h);
    if (h & UEAJ_H_UNIT) { c->result.has_var = true; c->result.var = 1.0; }
}

static void dump_operand(Buf *b, const UOperand *o)
{
    buf_printf(b, "%s \"%s\"", o->group == UG_INPUT ? "input" : o->group == UG_PARAM ? "param" : "lora",
               o->letters);
    if (o->has_var) buf_printf(b, " var=%g", o->var);
    if (o->dtype) buf_printf(b, " dtype=%s", dtype_name(o->dtype));
    if (o->grad_dtype) buf_printf(b, " grad=%s", dtype_name(o->grad_dtype));
}

void ueajsum_dump(Buf *b, const UConfig *c)
{
    for (int i = 0; i < c->nslots; i++) {
        buf_printf(b, "slot %d: ", i);
        if (c->slots[i]) dump_operand(b, c->slots[i]); else buf_puts(b, "(empty)");
        buf_putc(b, '\n');
    }
    for (int i = 0; i < c->nnamed; i++) {
        buf_printf(b, "named %s: ", c->named[i]->name);
        dump_operand(b, c->named[i]);
        buf_putc(b, '\n');
    }
    for (int t = 0; t < c->nterms; t++) {
        buf_printf(b, "term %d: (", t);
        for (int k = 0; k < c->terms[t].nops; k++) {
            const UOperand *o = c->terms[t].ops[k];
            if (o->name) buf_printf(b, "%s\"%s\"", k ? ", " : "", o->name);
            else buf_printf(b, "%s%d", k ? ", " : "", o->slot);
        }
        buf_puts(b, ")\n");
    }
    buf_printf(b, "result: \"%s\"", c->result.letters);
    if (c->result.has_var) buf_printf(b, " var=%g", c->result.var);
    buf_putc(b, '\n');
}
