/* ast.c - printing the AST (`ueajc --emit=ast`).
 *
 * The parser (grammar/parser.y) builds the AST; this file only prints it,
 * as an indented tree with one node per line and the source position of
 * each node, deterministic so that it can serve as golden test output:
 *
 *     ueajsum <expr>:1:1-13 -> "ik"
 *       term 1:1-9
 *         arg positional "ij" 1:1-2
 *         arg param positional "jk" 1:4-6
 */
#include <string.h>
#include "internal.h"
#include "parser.h"

static void pos(Buf *b, Span s) { buf_printf(b, " @%d:%d-%d", s.line, s.col, s.end_col); }

void ast_dump_uexpr(Buf *b, const UExpr *e)
{
    buf_printf(b, "ueajsum");
    pos(b, e->span);
    if (e->arrow) buf_printf(b, " -> \"%s\"\n", e->rhs);
    else buf_puts(b, " (no '->': full contraction to a scalar)\n");
    for (int t = 0; t < e->nterms; t++) {
        const UTerm *term = e->terms[t];
        buf_puts(b, "  term");
        pos(b, term->span);
        buf_putc(b, '\n');
        for (int k = 0; k < term->nargs; k++) {
            const UArg *a = term->args[k];
            const char *g = a->group == UG_PARAM ? " param" : a->group == UG_LORA ? " lora" : "";
            buf_puts(b, "    arg");
            switch (a->kind) {
            case UARG_POS: buf_printf(b, "%s positional \"%s\"", g, a->letters); break;
            case UARG_NAMED: buf_printf(b, "%s named %s = \"%s\"", g, a->name, a->letters); break;
            case UARG_REF_INDEX: buf_printf(b, " ref [%ld]", a->index); break;
            case UARG_REF_NAME: buf_printf(b, " ref {%s}", a->name); break;
            }
            pos(b, a->span);
            buf_putc(b, '\n');
        }
    }
}

static const char *op_text(int op)
{
    switch (op) {
    case TOK_OR: return "||";
    case TOK_AND: return "&&";
    case TOK_EQ: return "==";
    case TOK_NE: return "!=";
    case TOK_LE: return "<=";
    case TOK_GE: return ">=";
    case TOK_QQ: return "??";
    default: {
        static const char ops[] = "+-*/%<>!?";
        const char *p = strchr(ops, op);
        static const char *const txt[] = {"+", "-", "*", "/", "%", "<", ">", "!", "?"};
        return p ? txt[p - ops] : "?op";
    }
    }
}

static void dump_expr(Buf *b, const Ast *x);

static void dump_list(Buf *b, const AstList *l)
{
    for (int i = 0; i < l->n; i++) {
        if (i) buf_puts(b, ", ");
        dump_expr(b, l->v[i]);
    }
}

/* Expressions print fully parenthesised, so precedence is visible. */
static void dump_expr(Buf *b, const Ast *x)
{
    switch (x->kind) {
    case A_NUM:
        if (x->is_int) buf_printf(b, "%.0f", x->num); else buf_printf(b, "%.17g", x->num);
        break;
    case A_STR: buf_c_string(b, x->str); break;
    case A_BOOL: buf_puts(b, x->num ? "true" : "false"); break;
    case A_NAME: buf_puts(b, x->name); break;
    case A_FIELD: dump_expr(b, x->a); buf_printf(b, ".%s", x->name); break;
    case A_UNARY: buf_printf(b, "(%s", op_text(x->op)); dump_expr(b, x->a); buf_putc(b, ')'); break;
    case A_BINARY: case A_DEFAULT:
        buf_putc(b, '('); dump_expr(b, x->a); buf_printf(b, " %s ", op_text(x->op)); dump_expr(b, x->b);
        buf_putc(b, ')');
        break;
    case A_COND:
        buf_putc(b, '('); dump_expr(b, x->a); buf_puts(b, " ? "); dump_expr(b, x->b); buf_puts(b, " : ");
        dump_expr(b, x->c); buf_putc(b, ')');
        break;
    case A_CALL: buf_printf(b, "%s(", x->name); dump_list(b, &x->args); buf_putc(b, ')'); break;
    case A_METHOD: dump_expr(b, x->a); buf_printf(b, ".%s(", x->name); dump_list(b, &x->args); buf_putc(b, ')'); break;
    case A_KWARG: buf_printf(b, "%s=", x->name); dump_expr(b, x->a); break;
    default: buf_puts(b, "<stmt?>"); break;
    }
}

static void dump_items(Buf *b, const AstList *items, int depth)
{
    static const char *const kw[] = {[A_MODEL] = "model", [A_DIM] = "dim", [A_LET] = "let", [A_PARAM] = "param",
                                     [A_INPUT] = "input", [A_STATE] = "state", [A_OUTPUT] = "output",
                                     [A_ASSIGN] = "assign", [A_REPEAT] = "repeat"};
    for (int i = 0; i < items->n; i++) {
        const Ast *s = items->v[i];
        for (int d = 0; d < depth; d++) buf_puts(b, "  ");
        buf_printf(b, "%s %s", kw[s->kind], s->name);
        switch (s->kind) {
        case A_DIM: case A_LET: case A_ASSIGN: buf_puts(b, " = "); dump_expr(b, s->a); break;
        case A_PARAM: case A_INPUT: case A_STATE:
            buf_putc(b, '['); dump_list(b, &s->args); buf_putc(b, ']');
            if (s->dtype) buf_printf(b, " : %s", s->dtype);
            if (s->load) {
                buf_puts(b, " = load "); dump_expr(b, s->load);
                if (s->load_shape.n) { buf_puts(b, " ["); dump_list(b, &s->load_shape); buf_putc(b, ']'); }
                for (int k = 0; k < s->load_ops.n; k++) { buf_putc(b, ' '); dump_expr(b, s->load_ops.v[k]); }
            }
            break;
        case A_OUTPUT: if (s->dtype) buf_printf(b, " : %s", s->dtype); break;
        case A_REPEAT: buf_puts(b, " < "); dump_expr(b, s->a); break;
        default: break;
        }
        pos(b, s->span);
        buf_putc(b, '\n');
        if (s->kind == A_REPEAT) dump_items(b, &s->args, depth + 1);
    }
}

void ast_dump_program(Buf *b, const Program *p) { dump_items(b, &p->items, 0); }
