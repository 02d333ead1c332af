/* lexer.re - the re2c lexer for ueajsum expressions and model files.
 *
 * One lexer serves both languages.  Its state is the Parser struct (no
 * globals); the input is the Source text with its NUL sentinel, so re2c
 * needs no refill.  The first token is a synthetic START_EXPR or
 * START_MODEL that tells the one Bison grammar which language follows.
 *
 * Model files are line oriented: a newline ends a statement (token NL),
 * except inside () or [] where it is plain space, so long calls can wrap.
 * Runs of blank lines and comments collapse into one NL.  In ueajsum mode
 * newlines are plain space and '#' is an invalid character.
 *
 * Every token gets a Span (line, first and last column) for diagnostics.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "parser.h"

static Span tok_span(const Parser *P)
{
    Span s;
    s.src = P->src;
    s.line = P->line;
    s.col = (int)(P->tok - P->line_start) + 1;
    s.end_col = (int)(P->cur - P->line_start);
    if (s.end_col < s.col) s.end_col = s.col;
    return s;
}

/* Does the line at p start with a statement keyword?  Keywords never occur
 * inside an expression, so a newline before one ends a statement even when
 * a bracket was left open (the parser then reports the missing bracket). */
static bool starts_statement(const char *p)
{
    static const char *const kw[] = {"model", "dim", "let", "param", "input", "state", "output", "repeat"};
    while (*p == ' ' || *p == '\t') p++;
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        size_t n = strlen(kw[i]);
        if (!strncmp(p, kw[i], n) && !(p[n] == '_' || (p[n] >= '0' && p[n] <= '9') ||
                                       ((p[n] | 32) >= 'a' && (p[n] | 32) <= 'z')))
            return true;
    }
    return false;
}

/* Decodes the escapes of a string literal body [b, e). */
static char *unescape(Parser *P, const char *b, const char *e, bool *plain)
{
    char *out = arena_alloc(&P->ctx->arena, (size_t)(e - b) + 1), *o = out;
    *plain = true;
    for (const char *p = b; p < e; p++) {
        if (*p != '\\') { *o++ = *p; continue; }
        *plain = false;
        p++;
        switch (*p) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case '\\': *o++ = '\\'; break;
        case '"': *o++ = '"'; break;
        default: {
            Span s = tok_span(P);
            s.col = (int)(p - 1 - P->line_start) + 1;
            s.end_col = s.col + 1;
            diag_error(P->ctx, s, "unknown escape sequence '\\%c' in string", *p);
            *o++ = *p;
        }
        }
    }
    *o = 0;
    return out;
}

/*!re2c
    re2c:api = custom;
    re2c:api:style = free-form;
    re2c:define:YYCTYPE = "unsigned char";
    re2c:define:YYCURSOR = "P->cur";
    re2c:define:YYMARKER = "P->mark";
    re2c:define:YYPEEK = "(unsigned char)*P->cur";
    re2c:define:YYSKIP = "P->cur++;";
    re2c:define:YYBACKUP = "P->mark = P->cur;";
    re2c:define:YYRESTORE = "P->cur = P->mark;";
    re2c:yyfill:enable = 0;
    re2c:indent:string = "    ";

    ident = [A-Za-z_][A-Za-z0-9_]*;
    digits = [0-9]+;
    float = (digits "." [0-9]* | "." digits) ([eE] [+-]? digits)? | digits [eE] [+-]? digits;
*/

static int lex_raw(Parser *P, UEAJ_YYSTYPE *lval, Span *loc)
{
    for (;;) {
        P->tok = P->cur;
        if (diag_too_many(P->ctx)) { *loc = tok_span(P); return TOK_END; }
        /*!re2c
        [\x00] {
            if (P->cur - 1 >= P->lim) {
                P->cur--;
                /* the end of input is reported just after the last token, not on a blank line */
                if (P->last_end.src) { *loc = P->last_end; loc->col = loc->end_col + 1; loc->end_col = loc->col; }
                else *loc = tok_span(P);
                return TOK_END;
            }
            *loc = tok_span(P);
            diag_error(P->ctx, *loc, "NUL byte in input");
            continue;
        }
        [ \t\r\f\v]+ { continue; }
        "\n" {
            const char *nl_end = P->cur;
            P->cur--; *loc = tok_span(P); P->cur = nl_end;
            P->line++;
            P->line_start = P->cur;
            if (P->mode == 1 && P->depth > 0 && starts_statement(P->cur)) P->depth = 0; /* an unclosed bracket */
            if (P->mode == 1 && P->depth == 0) return TOK_NL;
            continue;
        }
        "#" [^\n\x00]* {
            if (P->mode == 1) continue;
            P->cur = P->tok + 1;
            *loc = tok_span(P);
            diag_error(P->ctx, *loc, "invalid character '#' in ueajsum expression");
            continue;
        }
        "->" { *loc = tok_span(P); return TOK_ARROW; }
        "??" { *loc = tok_span(P); return TOK_QQ; }
        "==" { *loc = tok_span(P); return TOK_EQ; }
        "!=" { *loc = tok_span(P); return TOK_NE; }
        "<=" { *loc = tok_span(P); return TOK_LE; }
        ">=" { *loc = tok_span(P); return TOK_GE; }
        "&&" { *loc = tok_span(P); return TOK_AND; }
        "||" { *loc = tok_span(P); return TOK_OR; }
        [([{] {
            *loc = tok_span(P);
            if (P->nopen < 32) { P->open_at[P->nopen] = *loc; P->open_ch[P->nopen] = *P->tok; }
            P->nopen++;
            if (*P->tok != '{') P->depth++;
            return (unsigned char)*P->tok;
        }
        [)\]}] {
            *loc = tok_span(P);
            if (*P->tok != '}' && P->depth > 0) P->depth--;
            if (P->nopen > 0) P->nopen--;
            return (unsigned char)*P->tok;
        }
        [*&=,+\-/;.?:<>!%] { *loc = tok_span(P); return (unsigned char)*P->tok; }
        digits {
            *loc = tok_span(P);
            errno = 0;
            char *end;
            long long v = strtoll(P->tok, &end, 10);
            if (errno == ERANGE || v > (1LL << 53)) {
                diag_error(P->ctx, *loc, "integer literal is too large");
                v = 0;
            }
            lval->TOK_INT = v;
            return TOK_INT;
        }
        float {
            *loc = tok_span(P);
            lval->TOK_FLOAT = strtod(arena_strndup(&P->ctx->arena, P->tok, (size_t)(P->cur - P->tok)), NULL);
            return TOK_FLOAT;
        }
        digits [A-Za-z_][A-Za-z0-9_]* {
            if (P->mode == 0) { /* "2ij": one shape token; the resolver names the bad letter */
                *loc = tok_span(P);
                lval->TOK_IDENT = arena_strndup(&P->ctx->arena, P->tok, (size_t)(P->cur - P->tok));
                return TOK_IDENT;
            }
            P->cur = P->tok;
            while (*P->cur >= '0' && *P->cur <= '9') P->cur++;
            *loc = tok_span(P);
            lval->TOK_INT = strtoll(P->tok, NULL, 10);
            return TOK_INT;
        }
        ident {
            *loc = tok_span(P);
            lval->TOK_IDENT = arena_strndup(&P->ctx->arena, P->tok, (size_t)(P->cur - P->tok));
            if (P->mode == 1) {
                static const struct { const char *kw; int tok; } kws[] = {
                    {"model", TOK_MODEL}, {"dim", TOK_DIM}, {"let", TOK_LET},
                    {"param", TOK_PARAM}, {"input", TOK_INPUT}, {"state", TOK_STATE},
                    {"output", TOK_OUTPUT}, {"repeat", TOK_REPEAT}, {"load", TOK_LOAD},
                    {"true", TOK_TRUE}, {"false", TOK_FALSE},
                };
                for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++)
                    if (strcmp(lval->TOK_IDENT, kws[i].kw) == 0) return kws[i].tok;
            }
            return TOK_IDENT;
        }
        ["] ([^"\\\n\x00] | "\\" [^\n\x00])* ["] {
            *loc = tok_span(P);
            bool plain;
            lval->TOK_STRING.s = unescape(P, P->tok + 1, P->cur - 1, &plain);
            lval->TOK_STRING.plain = plain;
            return TOK_STRING;
        }
        ["] {
            *loc = tok_span(P);
            diag_error(P->ctx, *loc, "missing terminating '\"' character");
            while (*P->cur && *P->cur != '\n') P->cur++;
            continue;
        }
        * {
            unsigned char c = (unsigned char)*P->tok;
            if (c >= 0x80) { /* one diagnostic per UTF-8 sequence */
                while (((unsigned char)*P->cur & 0xC0) == 0x80) P->cur++;
                *loc = tok_span(P);
                diag_error(P->ctx, *loc, "invalid character in %s (non-ASCII byte 0x%02X)",
                           P->mode ? "model file" : "ueajsum expression", c);
            } else {
                *loc = tok_span(P);
                diag_error(P->ctx, *loc, "invalid character '%c' in %s", c >= 0x20 ? c : '?',
                           P->mode ? "model file" : "ueajsum expression");
            }
            continue;
        }
        */
    }
}

int ueaj_yylex(UEAJ_YYSTYPE *lval, Span *loc, Parser *P);
int ueaj_yylex(UEAJ_YYSTYPE *lval, Span *loc, Parser *P)
{
    if (!P->start_sent) {
        P->start_sent = 1;
        *loc = (Span){P->src, 1, 1, 1};
        return P->mode == 1 ? TOK_START_MODEL : TOK_START_EXPR;
    }
    for (;;) {
        int t = lex_raw(P, lval, loc);
        if (diag_too_many(P->ctx)) t = TOK_END;
        /* a model file's last statement needs no final newline */
        if (t == TOK_END && P->mode == 1 && P->last_tok != TOK_NL && P->last_tok != 0) t = TOK_NL;
        /* collapse blank lines, and no NL right at the start */
        if (t == TOK_NL && (P->last_tok == TOK_NL || P->last_tok == 0)) continue;
        P->last_tok = t;
        if (t != TOK_NL && t != TOK_END) P->last_end = *loc;
        return t;
    }
}
