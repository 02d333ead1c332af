/* test_arena.c - tests of compiler/arena.c (the arena and PtrVec).
 *
 * The arena promises zeroed, 16-byte aligned memory that stays valid until
 * arena_free, whatever the sizes asked for (tiny, zero, bigger than a block,
 * many blocks).  Each test fills what it allocates with a pattern and
 * checks every byte afterwards, so an overlap between two allocations or a
 * block freed too early shows up (and ASan reports it in make check-asan).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int all_bytes(const void *p, size_t n, unsigned char v)
{
    const unsigned char *q = p;
    for (size_t i = 0; i < n; i++)
        if (q[i] != v) return 0;
    return 1;
}

START_TEST(alloc_zeroed_aligned)
{
    Arena a;
    arena_init(&a);
    ck_assert_ptr_null(a.head);
    ck_assert_uint_eq(a.used_total, 0);
    static const size_t sizes[] = { 1, 2, 3, 7, 15, 16, 17, 31, 100, 1000, 4096, 65535, 65536, 70000, 1 << 20, 5 };
    void *ptrs[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        ptrs[i] = arena_alloc(&a, sizes[i]);
        ck_assert_ptr_nonnull(ptrs[i]);
        ck_assert_uint_eq((uintptr_t)ptrs[i] % 16, 0);
        ck_assert_msg(all_bytes(ptrs[i], sizes[i], 0), "allocation %zu (%zu bytes) not zeroed", i, sizes[i]);
        memset(ptrs[i], (int)(i + 1), sizes[i]);
    }
    /* no allocation overwrote another */
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        ck_assert_msg(all_bytes(ptrs[i], sizes[i], (unsigned char)(i + 1)), "allocation %zu was overwritten", i);
    ck_assert_uint_ge(a.used_total, 1 << 20);
    arena_free(&a);
    ck_assert_ptr_null(a.head);
    ck_assert_uint_eq(a.used_total, 0);
    /* reusable after arena_free */
    char *p = arena_alloc(&a, 10);
    ck_assert(all_bytes(p, 10, 0));
    arena_free(&a);
}
END_TEST

START_TEST(alloc_zero_size)
{
    Arena a;
    arena_init(&a);
    void *p = arena_alloc(&a, 0), *q = arena_alloc(&a, 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_ne(p, q);
    arena_free(&a);
}
END_TEST

START_TEST(alloc_many_blocks)
{
    /* 20000 allocations of 100 bytes: about 2 MB, many blocks */
    Arena a;
    arena_init(&a);
    enum { N = 20000, SZ = 100 };
    unsigned char **v = malloc(sizeof *v * N);
    ck_assert_ptr_nonnull(v);
    for (int i = 0; i < N; i++) {
        v[i] = arena_alloc(&a, SZ);
        memset(v[i], i & 0xff, SZ);
    }
    for (int i = 0; i < N; i++) ck_assert_msg(all_bytes(v[i], SZ, (unsigned char)(i & 0xff)), "block %d", i);
    ck_assert_uint_ge(a.used_total, (size_t)N * SZ);
    free(v);
    arena_free(&a);
}
END_TEST

START_TEST(new_and_array_macros)
{
    typedef struct { int a; double b; char c[3]; } T;
    Arena a;
    arena_init(&a);
    T *t = ARENA_NEW(&a, T);
    ck_assert_int_eq(t->a, 0);
    ck_assert(t->b == 0.0);
    int64_t *xs = ARENA_ARRAY(&a, int64_t, 1000);
    for (int i = 0; i < 1000; i++) ck_assert_int_eq(xs[i], 0);
    for (int i = 0; i < 1000; i++) xs[i] = i;
    t->a = 7;
    for (int i = 0; i < 1000; i++) ck_assert_int_eq(xs[i], i);
    ck_assert_int_eq(t->a, 7);
    arena_free(&a);
}
END_TEST

START_TEST(grow_copies_and_zeroes)
{
    Arena a;
    arena_init(&a);
    char *p = arena_alloc(&a, 8);
    memcpy(p, "abcdefgh", 8);
    char *q = arena_grow(&a, p, 8, 100000);
    ck_assert_ptr_ne(p, q);
    ck_assert_int_eq(memcmp(q, "abcdefgh", 8), 0);
    ck_assert(all_bytes(q + 8, 100000 - 8, 0));
    /* the old block stays valid (nothing is freed individually) */
    ck_assert_int_eq(memcmp(p, "abcdefgh", 8), 0);
    /* growing from NULL is an allocation */
    char *r = arena_grow(&a, NULL, 0, 32);
    ck_assert(all_bytes(r, 32, 0));
    /* shrinking copies only new_n bytes */
    char *s = arena_grow(&a, q, 100000, 4);
    ck_assert_int_eq(memcmp(s, "abcd", 4), 0);
    arena_free(&a);
}
END_TEST

START_TEST(strings)
{
    Arena a;
    arena_init(&a);
    const char *src = "hello, world";
    char *d = arena_strdup(&a, src);
    ck_assert_ptr_ne(d, src);
    ck_assert_str_eq(d, src);
    ck_assert_str_eq(arena_strndup(&a, src, 5), "hello");
    ck_assert_str_eq(arena_strndup(&a, src, 0), "");
    /* strndup copies exactly n bytes, even past an embedded NUL */
    char *e = arena_strndup(&a, "ab\0cd", 5);
    ck_assert_int_eq(memcmp(e, "ab\0cd\0", 6), 0);
    ck_assert_str_eq(arena_printf(&a, "%s-%d-%.2f", "x", 42, 1.5), "x-42-1.50");
    ck_assert_str_eq(arena_printf(&a, "%s", ""), "");
    /* a formatted string longer than a block */
    char *big = arena_printf(&a, "%100000d|", 7);
    ck_assert_uint_eq(strlen(big), 100001);
    ck_assert_int_eq(big[99999], '7');
    ck_assert_int_eq(big[100000], '|');
    ck_assert_int_eq(big[0], ' ');
    arena_free(&a);
}
END_TEST

START_TEST(vec_push_order)
{
    Arena a;
    arena_init(&a);
    PtrVec v = { 0 };
    static int items[5000];
    for (int i = 0; i < 5000; i++) {
        vec_push(&a, &v, &items[i]);
        ck_assert_int_eq(v.n, i + 1);
        ck_assert_int_ge(v.cap, v.n);
    }
    for (int i = 0; i < 5000; i++) ck_assert_ptr_eq(v.v[i], &items[i]);
    /* NULL is a legal element */
    PtrVec w = { 0 };
    vec_push(&a, &w, NULL);
    vec_push(&a, &w, &items[1]);
    ck_assert_int_eq(w.n, 2);
    ck_assert_ptr_null(w.v[0]);
    ck_assert_ptr_eq(w.v[1], &items[1]);
    arena_free(&a);
}
END_TEST

extern Suite *suite_arena(void);
Suite *suite_arena(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("arena_alloc");
    tcase_add_test(tc, alloc_zeroed_aligned);
    tcase_add_test(tc, alloc_zero_size);
    tcase_add_test(tc, alloc_many_blocks);
    tcase_add_test(tc, new_and_array_macros);
    suite_add_tcase(s, tc);
    tc = tcase_create("arena_grow");
    tcase_add_test(tc, grow_copies_and_zeroes);
    suite_add_tcase(s, tc);
    tc = tcase_create("arena_strings");
    tcase_add_test(tc, strings);
    suite_add_tcase(s, tc);
    tc = tcase_create("vec_push");
    tcase_add_test(tc, vec_push_order);
    suite_add_tcase(s, tc);
    return s;
}
