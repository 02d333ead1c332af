/* diag.c - sources, spans and diagnostics, rendered the way clang does.
 *
 * Every token and AST node carries a Span {source, line, col, end_col}.  A
 * diagnostic is data (a Diag in the context's arena) until the driver
 * renders it:
 *
 *     models/llama.ue:12:17: error: unknown argument 'q'
 *        12 |     y = ueajsum("ij,{q}->i", x);
 *           |                     ^~~
 *
 * A ueajsum string inside a model file is parsed as its own Source, a
 * *slice* of the file: spans in it are mapped back to file coordinates
 * when rendered, so errors inside the string point into the file.  A
 * ueajsum string from the command line is the source "<expr>".
 * Columns are 1-based byte offsets; the caret line copies tabs from the
 * source line and skips UTF-8 continuation bytes so it stays aligned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

Source *source_new(UeajCtx *ctx, const char *name, const char *text, size_t len)
{
    Source *s = ARENA_NEW(&ctx->arena, Source);
    s->name = arena_strdup(&ctx->arena, name);
    s->text = arena_strndup(&ctx->arena, text, len); /* NUL sentinel for re2c */
    s->len = len;
    s->id = ctx->nsources++;
    return s;
}

Source *source_slice(UeajCtx *ctx, const Source *parent, int line, int col,
                     const char *text, size_t len)
{
    Source *s = source_new(ctx, parent->name, text, len);
    s->parent = parent;
    s->parent_line = line;
    s->parent_col = col;
    return s;
}

Span span_join(Span a, Span b)
{
    if (!a.src) return b;
    if (!b.src || a.src != b.src) return a;
    Span r = a;
    if (b.line > a.line || (b.line == a.line && b.end_col > a.end_col)) {
        if (b.line == a.line) r.end_col = b.end_col;
        else { r.end_col = a.end_col; } /* multi-line: underline the first line */
    }
    return r;
}

static const char *line_start(const Source *src, int line, size_t *len)
{
    const char *p = src->text, *end = src->text + src->len;
    for (int l = 1; l < line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) { p = end; break; }
        p = nl + 1;
    }
    const char *e = p;
    while (e < end && *e != '\n' && *e != '\r') e++;
    *len = (size_t)(e - p);
    return p;
}

const char *span_text(UeajCtx *ctx, Span s)
{
    if (!s.src) return "";
    size_t len;
    const char *ls = line_start(s.src, s.line, &len);
    size_t b = s.col > 0 ? (size_t)(s.col - 1) : 0, e = s.end_col > 0 ? (size_t)s.end_col : 0;
    if (b > len) b = len;
    if (e > len) e = len;
    if (e < b) e = b;
    return arena_strndup(&ctx->arena, ls + b, e - b);
}

static Diag *diag_add(UeajCtx *ctx, Severity sev, Span span, const char *fmt, va_list ap) UEAJ_PRINTF(4, 0);
static Diag *diag_add(UeajCtx *ctx, Severity sev, Span span, const char *fmt, va_list ap)
{
    Diag *d = ARENA_NEW(&ctx->arena, Diag);
    d->sev = sev;
    d->span = span;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *m = arena_alloc(&ctx->arena, (size_t)n + 1);
    vsnprintf(m, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    d->msg = m;
    if (sev == SEV_NOTE) return d;
    /* the same message at the same place (a repeat body evaluated once per layer) is reported once */
    for (Diag *o = ctx->diags; o; o = o->next)
        if (o->sev == sev && o->span.src == span.src && o->span.line == span.line && o->span.col == span.col &&
            o->span.end_col == span.end_col && !strcmp(o->msg, m)) {
            if (sev == SEV_ERROR) ctx->nerrors++; /* still an error: compilation fails, but no second report */
            d->next = NULL;
            return d; /* detached: notes attached to it are dropped too */
        }
    if (sev == SEV_ERROR) ctx->nerrors++; else ctx->nwarnings++;
    if (ctx->diags_tail) ctx->diags_tail->next = d; else ctx->diags = d;
    ctx->diags_tail = d;
    return d;
}

Diag *diag_error(UeajCtx *ctx, Span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    Diag *d = diag_add(ctx, SEV_ERROR, span, fmt, ap);
    va_end(ap);
    return d;
}

Diag *diag_warning(UeajCtx *ctx, Span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    Diag *d = diag_add(ctx, SEV_WARNING, span, fmt, ap);
    va_end(ap);
    return d;
}

void diag_note(UeajCtx *ctx, Diag *d, Span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    Diag *n = diag_add(ctx, SEV_NOTE, span, fmt, ap);
    va_end(ap);
    Diag **p = &d->note;
    while (*p) p = &(*p)->note;
    *p = n;
}

bool diag_too_many(const UeajCtx *ctx) { return ctx->nerrors >= DIAG_MAX_ERRORS; }

int ueaj_error_count(const UeajCtx *ctx) { return ctx->nerrors; }

/* Maps a span in a slice source to the outermost source. */
Span span_root(Span s)
{
    while (s.src && s.src->parent) {
        const Source *p = s.src->parent;
        if (s.line == 1) {
            s.col += s.src->parent_col - 1;
            s.end_col += s.src->parent_col - 1;
        }
        s.line += s.src->parent_line - 1;
        s.src = p;
    }
    return s;
}

static void render_one(const Diag *d, FILE *f, int color, int depth)
{
    static const char *const sevname[] = {"error", "warning", "note"};
    static const char *const sevcolor[] = {"\033[1;31m", "\033[1;35m", "\033[1;36m"};
    Span s = span_root(d->span);
    if (color) fputs("\033[1m", f);
    if (s.src) fprintf(f, "%s:%d:%d: ", s.src->name, s.line, s.col);
    else fputs("ueajc: ", f);
    if (color) fprintf(f, "%s%s:\033[0m\033[1m %s\033[0m\n", sevcolor[d->sev], sevname[d->sev], d->msg);
    else fprintf(f, "%s: %s\n", sevname[d->sev], d->msg);
    if (s.src && s.line >= 1) {
        size_t len;
        const char *ls = line_start(s.src, s.line, &len);
        fprintf(f, "%5d | ", s.line);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)ls[i];
            /* control characters are shown as '?', never sent raw to a terminal */
            fputc(c == '\t' || c >= 0x20 ? c : '?', f);
        }
        fputs("\n      | ", f);
        if (color) fputs(sevcolor[d->sev], f);
        int col = s.col < 1 ? 1 : s.col;
        int end = s.end_col < col ? col : s.end_col;
        for (int i = 1; i < col && (size_t)(i - 1) < len; i++) {
            unsigned char c = (unsigned char)ls[i - 1];
            if ((c & 0xC0) == 0x80) continue;
            fputc(c == '\t' ? '\t' : ' ', f);
        }
        fputc('^', f);
        for (int i = col + 1; i <= end; i++) {
            if ((size_t)(i - 1) < len && (((unsigned char)ls[i - 1]) & 0xC0) == 0x80) continue;
            fputc('~', f);
        }
        if (color) fputs("\033[0m", f);
        fputc('\n', f);
    }
    for (const Diag *n = d->note; n; n = n->note)
        if (depth == 0) render_one(n, f, color, depth + 1);
}

void ueaj_diag_render(const UeajCtx *ctx, FILE *f)
{
    for (const Diag *d = ctx->diags; d; d = d->next) render_one(d, f, ctx->opt.color, 0);
    if (ctx->nerrors >= DIAG_MAX_ERRORS)
        fprintf(f, "ueajc: fatal: too many errors emitted, stopping now\n");
}
