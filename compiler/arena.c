/* arena.c - one arena per compilation; buf.c's builder is separate (malloc).
 *
 * The arena hands out zeroed, 16-byte aligned memory from a list of blocks
 * and frees them all at once.  Blocks grow geometrically; an allocation
 * bigger than the default block size gets a block of its own.  Nothing is
 * freed individually: a compilation's AST, IR, strings and diagnostics die
 * together in arena_free().  Allocation failure is an internal error
 * (malloc failing on this scale means the machine is out of memory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

struct ArenaBlock {
    ArenaBlock *next;
    size_t      cap, used;
    _Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK_MIN (64 * 1024)

void arena_init(Arena *a) { a->head = NULL; a->used_total = 0; }

void arena_free(Arena *a)
{
    ArenaBlock *b = a->head;
    while (b) {
        ArenaBlock *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

void *arena_alloc(Arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    ArenaBlock *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = ARENA_BLOCK_MIN;
        if (b && b->cap * 2 > cap && b->cap < (size_t)16 << 20) cap = b->cap * 2;
        if (cap < n) cap = n;
        b = malloc(sizeof(ArenaBlock) + cap);
        if (!b) ueaj_internal_error(__FILE__, __LINE__, "out of memory");
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used_total += n;
    memset(p, 0, n);
    return p;
}

void *arena_grow(Arena *a, void *p, size_t old_n, size_t new_n)
{
    void *q = arena_alloc(a, new_n);
    if (p && old_n) memcpy(q, p, old_n < new_n ? old_n : new_n);
    return q;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(Arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(Arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void vec_push(Arena *a, PtrVec *v, void *p)
{
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 8;
        v->v = arena_grow(a, v->v, sizeof(void *) * (size_t)v->n, sizeof(void *) * (size_t)cap);
        v->cap = cap;
    }
    v->v[v->n++] = p;
}

_Noreturn void ueaj_internal_error(const char *file, int line, const char *what)
{
    fprintf(stderr, "ueajc: internal error at %s:%d: %s\n"
                    "(this is a bug in ueajc, not in your input; please report it)\n",
            file, line, what);
    abort();
}
