/* test_memplan.c - tests of compiler/memplan.c (temps that share memory).
 *
 * The references are independent of the greedy slot choice:
 *  - small step lists whose answers are worked out by hand in comments;
 *  - random step lists checked with the definitions alone: two tensors
 *    with the same root must be temps whose live intervals [first write,
 *    last use] are strictly apart (the later one starts after the earlier
 *    one's last step), a root is its own root, and a temp read before or
 *    while it is first written, or touched by no step, keeps its own;
 *  - the number of buffers on a layered chain against a closed form.
 * End to end, tests/cuda_exec_check.sh runs models with and without
 * --no-share and requires the same bytes, on the C backend and through
 * the CUDA plan.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct Prog {
    UeajCtx  *ctx;
    IrTensor *t[64];
    int       nt;
    MemStep   s[64];
    int       r[64][8], w[64][2];
    int       ns;
} Prog;

static void prog_init(Prog *p)
{
    memset(p, 0, sizeof *p);
    p->ctx = ueaj_ctx_new(NULL);
}

/* A tensor [rows, cols] f32 of kind k (rows < 0: run-time dim 0). */
static int ten(Prog *p, TenKind k, int64_t rows, int64_t cols)
{
    IrTensor *t = calloc(1, sizeof *t);
    t->id = p->nt;
    t->kind = k;
    t->dtype = DT_F32;
    t->rank = 2;
    t->shape[0] = rows < 0 ? (IrSize){0, 0} : (IrSize){rows, -1};
    t->shape[1] = (IrSize){cols, -1};
    p->t[p->nt] = t;
    return p->nt++;
}

/* A step reading r0.. (terminated by -1) and writing w. */
static void step(Prog *p, int w, const int *reads)
{
    int n = 0;
    while (reads[n] >= 0) { p->r[p->ns][n] = reads[n]; n++; }
    p->w[p->ns][0] = w;
    p->s[p->ns] = (MemStep){.reads = p->r[p->ns], .nreads = n, .writes = p->w[p->ns], .nwrites = 1};
    p->ns++;
}

static void share(Prog *p, int *root) { mem_share(p->ctx, (const IrTensor *const *)p->t, p->nt, p->s, p->ns, root); }

static void prog_free(Prog *p)
{
    for (int i = 0; i < p->nt; i++) free(p->t[i]);
    ueaj_ctx_free(p->ctx);
}

START_TEST(chain)
{
    /* x -> a -> b -> c -> d -> out, all the same size.  a dies at step 1
     * (b's step), so c (step 2) can take a's memory; b dies at step 2, so
     * d (step 3) takes b's.  a and b are live together at step 1. */
    Prog p;
    prog_init(&p);
    int x = ten(&p, TEN_INPUT, 4, 8), a = ten(&p, TEN_TEMP, 4, 8), b = ten(&p, TEN_TEMP, 4, 8);
    int c = ten(&p, TEN_TEMP, 4, 8), d = ten(&p, TEN_TEMP, 4, 8), out = ten(&p, TEN_OUTPUT, 4, 8);
    step(&p, a, (int[]){x, -1});
    step(&p, b, (int[]){a, -1});
    step(&p, c, (int[]){b, -1});
    step(&p, d, (int[]){c, -1});
    step(&p, out, (int[]){d, -1});
    int root[64];
    share(&p, root);
    ck_assert_int_eq(root[x], x);
    ck_assert_int_eq(root[out], out);
    ck_assert_int_eq(root[a], a);
    ck_assert_int_eq(root[b], b);
    ck_assert_int_eq(root[c], a);
    ck_assert_int_eq(root[d], b);
    prog_free(&p);
}
END_TEST

START_TEST(no_share_option)
{
    Prog p;
    prog_init(&p);
    UeajOptions o = {.no_share = 1};
    ueaj_ctx_free(p.ctx);
    p.ctx = ueaj_ctx_new(&o);
    int x = ten(&p, TEN_INPUT, 4, 8), a = ten(&p, TEN_TEMP, 4, 8), b = ten(&p, TEN_TEMP, 4, 8);
    int c = ten(&p, TEN_TEMP, 4, 8);
    step(&p, a, (int[]){x, -1});
    step(&p, b, (int[]){a, -1});
    step(&p, c, (int[]){b, -1});
    int root[64];
    share(&p, root);
    for (int i = 0; i < p.nt; i++) ck_assert_int_eq(root[i], i);
    prog_free(&p);
}
END_TEST

START_TEST(keeps_own)
{
    /* acc is added to at the step that first writes it (an accumulation:
     * it reads its zeroed memory), pre is read before any step writes it,
     * and u is touched by no step: all keep their own memory, though each
     * of the later temps would otherwise fit in a dead one. */
    Prog p;
    prog_init(&p);
    int x = ten(&p, TEN_INPUT, 4, 8), acc = ten(&p, TEN_TEMP, 4, 8), pre = ten(&p, TEN_TEMP, 4, 8);
    int u = ten(&p, TEN_TEMP, 4, 8), e = ten(&p, TEN_TEMP, 4, 8), f = ten(&p, TEN_TEMP, 4, 8);
    int g = ten(&p, TEN_TEMP, 4, 8), st = ten(&p, TEN_STATE, 4, 8), h = ten(&p, TEN_TEMP, 4, 8);
    step(&p, e, (int[]){x, -1});        /* 0: e live 0..1 */
    step(&p, f, (int[]){e, -1});        /* 1 */
    step(&p, acc, (int[]){f, acc, -1}); /* 2: acc += f */
    step(&p, g, (int[]){pre, acc, -1}); /* 3: reads pre, never written before */
    step(&p, pre, (int[]){g, -1});      /* 4: pre written after its read */
    step(&p, st, (int[]){pre, -1});     /* 5: a state */
    step(&p, h, (int[]){st, -1});       /* 6: h may take e's or f's memory, never acc's or pre's */
    int root[64];
    share(&p, root);
    ck_assert_int_eq(root[acc], acc);
    ck_assert_int_eq(root[pre], pre);
    ck_assert_int_eq(root[u], u);
    ck_assert_int_eq(root[st], st);
    for (int i = 0; i < p.nt; i++) ck_assert_msg((root[i] != acc && root[i] != pre && root[i] != u) || root[i] == i,
                                                 "tensor %d shares a tensor that must keep its own memory", i);
    ck_assert_int_eq(root[g], e); /* e and f are dead by step 3; e's slot has the same size and is first */
    ck_assert_msg(root[h] == e || root[h] == f, "h (root %d) should reuse a dead temp", root[h]);
    prog_free(&p);
}
END_TEST

START_TEST(layers)
{
    /* L layers of: q = f(x); k = f(x); s = g(q, k); x' = x + s (x is a
     * temp chain).  In a layer at most 4 temps are live at once (x, q, k,
     * then s with x), so the whole model needs a bounded number of
     * buffers however deep it is: at most 5 (a freed slot is reused only
     * from the next step on). */
    for (int L = 1; L <= 8; L++) {
        Prog p;
        prog_init(&p);
        int in = ten(&p, TEN_INPUT, -1, 16);
        int x = ten(&p, TEN_TEMP, -1, 16);
        step(&p, x, (int[]){in, -1});
        for (int l = 0; l < L; l++) {
            int q = ten(&p, TEN_TEMP, -1, 16), k = ten(&p, TEN_TEMP, -1, 16), s = ten(&p, TEN_TEMP, -1, 16);
            int x2 = ten(&p, TEN_TEMP, -1, 16);
            step(&p, q, (int[]){x, -1});
            step(&p, k, (int[]){x, -1});
            step(&p, s, (int[]){q, k, -1});
            step(&p, x2, (int[]){x, s, -1});
            x = x2;
        }
        int out = ten(&p, TEN_OUTPUT, -1, 16);
        step(&p, out, (int[]){x, -1});
        int root[64], nroot = 0;
        share(&p, root);
        for (int i = 0; i < p.nt; i++) nroot += p.t[i]->kind == TEN_TEMP && root[i] == i;
        ck_assert_msg(nroot <= 5, "%d layers: %d buffers for temps", L, nroot);
        if (L >= 2) ck_assert_msg(nroot < 1 + 4 * L, "%d layers: no sharing", L);
        prog_free(&p);
    }
}
END_TEST

static int rnd(unsigned *seed, int n)
{
    *seed = *seed * 1103515245u + 12345u;
    return (int)((*seed >> 16) % (unsigned)n);
}

/* The definitions, checked directly on random programs. */
START_TEST(random_programs)
{
    unsigned seed = 12345;
#define RND(n) rnd(&seed, (n))
    for (int trial = 0; trial < 300; trial++) {
        Prog p;
        prog_init(&p);
        int nt = 3 + RND(30);
        for (int i = 0; i < nt; i++) {
            int k = RND(10), dyn = RND(3) == 0, rows = 1 + RND(5), cols = 1 + RND(4);
            ten(&p, k < 6 ? TEN_TEMP : k == 6 ? TEN_INPUT : k == 7 ? TEN_PARAM : k == 8 ? TEN_OUTPUT : TEN_STATE,
                dyn ? -1 : rows, cols);
        }
        int ns = 1 + RND(40);
        for (int s = 0; s < ns; s++) {
            int reads[8], nr = RND(5);
            for (int q = 0; q < nr; q++) reads[q] = RND(nt);
            reads[nr] = -1;
            step(&p, RND(nt), reads);
        }
        int root[64];
        share(&p, root);
        int first[64], last[64];
        bool early[64] = {false};
        for (int i = 0; i < nt; i++) first[i] = last[i] = -1;
        for (int s = 0; s < ns; s++) {
            for (int q = 0; q < p.s[s].nreads; q++) {
                int t = p.s[s].reads[q];
                if (first[t] < 0 || first[t] == s) early[t] = true;
                last[t] = s;
            }
            int w = p.s[s].writes[0];
            if (first[w] < 0) {
                first[w] = s;
                for (int q = 0; q < p.s[s].nreads; q++) early[w] |= p.s[s].reads[q] == w;
            }
            last[w] = s;
        }
        for (int i = 0; i < nt; i++) {
            ck_assert(root[i] >= 0 && root[i] < nt);
            ck_assert_int_eq(root[root[i]], root[i]);
            if (root[i] == i) continue;
            ck_assert(p.t[i]->kind == TEN_TEMP && p.t[root[i]]->kind == TEN_TEMP);
            ck_assert(!early[i] && !early[root[i]] && first[i] >= 0 && first[root[i]] >= 0);
        }
        for (int i = 0; i < nt; i++)
            for (int j = i + 1; j < nt; j++) {
                if (root[i] != root[j]) continue;
                ck_assert_msg(last[i] < first[j] || last[j] < first[i],
                              "trial %d: tensors %d [%d, %d] and %d [%d, %d] share memory while both live", trial, i,
                              first[i], last[i], j, first[j], last[j]);
            }
        prog_free(&p);
    }
#undef RND
}
END_TEST

extern Suite *suite_memplan(void);
Suite *suite_memplan(void)
{
    Suite *s = suite_create("memplan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, chain);
    tcase_add_test(tc, no_share_option);
    tcase_add_test(tc, keeps_own);
    tcase_add_test(tc, layers);
    tcase_add_test(tc, random_programs);
    suite_add_tcase(s, tc);
    return s;
}
