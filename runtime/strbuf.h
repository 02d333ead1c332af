/* strbuf.h - a growable string for the runtime (JSON headers, reports).
 *
 * Unlike compiler/buf.c, which treats running out of memory as an internal
 * error, a Str records it (oom) so that a loader can report it and return:
 * runtime code handles files of any size and must never abort.  The text is
 * malloc'd; the owner free()s p. */
#ifndef UEAJ_STRBUF_H
#define UEAJ_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct Str { char *p; size_t n, cap; bool oom; } Str;

/* Appends printf-formatted text; after a failed allocation it does nothing. */
void str_add(Str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes a printf-formatted message into err (errlen bytes, may be 0) and
 * returns -1: `return str_fail(err, errlen, "...", ...);`. */
int str_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
