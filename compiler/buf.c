/* buf.c - a growable string with an indentation level, for emitters and dumps.
 *
 * buf_line() writes one indented line; buf_open()/buf_close() write a line
 * and change the depth, so generated C reads like hand-written C:
 *     buf_open(b, "for (int64_t i = 0; i < %d; i++) {", n);
 *     buf_line(b, "acc += x[i];");
 *     buf_close(b, "}");
 * The storage is malloc'd (a Buf's text often outlives a compilation, e.g.
 * as a cache entry); buf_take() hands it to the caller, buf_free() drops it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

void buf_init(Buf *b) { memset(b, 0, sizeof *b); }
void buf_free(Buf *b) { free(b->p); memset(b, 0, sizeof *b); }

static void buf_reserve(Buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) ueaj_internal_error(__FILE__, __LINE__, "out of memory");
    b->p = p;
    b->cap = cap;
    b->p[b->len] = 0;
}

char *buf_take(Buf *b)
{
    buf_reserve(b, 0);
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

void buf_puts(Buf *b, const char *s)
{
    size_t n = strlen(s);
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

void buf_putc(Buf *b, char c)
{
    buf_reserve(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = 0;
}

void buf_vprintf(Buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    buf_reserve(b, (size_t)n);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

void buf_printf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

static void buf_indent(Buf *b)
{
    for (int i = 0; i < b->indent; i++) buf_puts(b, "    ");
}

void buf_line(Buf *b, const char *fmt, ...)
{
    va_list ap;
    buf_indent(b);
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
    buf_putc(b, '\n');
}

void buf_open(Buf *b, const char *fmt, ...)
{
    va_list ap;
    buf_indent(b);
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
    buf_putc(b, '\n');
    b->indent++;
}

void buf_close(Buf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->indent > 0) b->indent--;
    buf_indent(b);
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
    buf_putc(b, '\n');
}

/* Writes s as a C string literal.  Everything outside printable ASCII, and
 * the characters that could end a comment or string or start a trigraph,
 * is escaped as octal, so user text can never inject code. */
void buf_c_string(Buf *b, const char *s)
{
    buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned c = *p;
        if (c == '"' || c == '\\' || c == '?' || c < 0x20 || c >= 0x7f)
            buf_printf(b, "\\%03o", c);
        else
            buf_putc(b, (char)c);
    }
    buf_putc(b, '"');
}
