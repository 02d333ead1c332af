/* order.c - cost-based pairwise contraction order for an einsum term.
 *
 * Input.  n operands given by their axis letters (letters[i], a letter may
 * repeat inside one operand: a diagonal), the output letters and the size
 * of every letter.  Output.  A sequence of n-1 pairwise steps in
 * opt_einsum's linear convention (contract current operands a < b, remove
 * both, append the result at the end), the total FLOP count and the size
 * of the largest intermediate.
 *
 * Cost model (exactly what opt_einsum.contract_path reports as opt_cost).
 * Operands are treated as letter *sets* (a repeated letter counts once).
 * When two current operands with letter sets k1, k2 are contracted, the
 * result keeps the letters of k1|k2 that occur in the output or in any
 * other remaining operand: k12 = (k1|k2) & keep.  The step costs
 *     flop_count = size(k1|k2) * op_factor,
 *     op_factor  = max(1, terms-1) + (1 if a letter is summed away) ,
 * i.e. size(k1|k2) * 2 if (k1|k2) - k12 is non-empty, else size(k1|k2)
 * (an outer or Hadamard product).  The total is the sum over the steps;
 * the largest intermediate is the maximum of size(k12) over the steps,
 * the final one included.  For n == 1 there is no step; the reported cost
 * is then that of opt_einsum's single-operand path [(0,)]: size(k0) times
 * (2 if a letter of k0 is not in the output, else 1), and the largest
 * intermediate is the size of the output.
 *
 * Why a subset DP is exact.  Whatever the order, the operand that holds a
 * subset S of the original operands has the letter set
 *     L(S) = U(S) & (out | U(not S))      (|S| >= 2),
 *     L({i}) = set(letters[i]),
 * where U(X) is the union of the letters of the originals in X: a letter
 * of S survives exactly if something outside S (or the output) still
 * needs it, and that does not depend on how S or its complement were
 * grouped.  So the cost of a contraction tree is a sum over its internal
 * nodes S = S1 + S2 of cost(L(S1), L(S2), L(S)), and the best tree for S
 * is found by dynamic programming over subsets:
 *     best(S) = min over splits S = S1 + S2 of best(S1) + best(S2) + step,
 * visiting every unordered split once (S1 holds the lowest operand of S),
 * 3^n / 2 splits in all.  Ties are broken by the smaller largest
 * intermediate (this pair order is still decomposable: both parts add or
 * max monotonically), then by the first split met in a fixed enumeration,
 * so the answer is deterministic.  A greedy run first gives an upper bound
 * that marks subsets which cannot lie on an optimal tree, which skips most
 * of the splits of larger terms.  The same DP works over "parts" that
 * are already built subtrees: L of a union of parts is computed the same
 * way from the parts' letter sets and the letters needed outside them.
 *
 * Terms with more than ORDER_EXACT_MAX operands (or if the 2^n tables
 * cannot be allocated) start from a greedy tree, in the spirit of
 * opt_einsum's 'greedy': first multiply operands with identical letter
 * sets (Hadamard), then repeatedly take the pair sharing a summed letter
 * that minimises size(k12) - size(k1) - size(k2) (ties: fewer flops, then
 * the lowest positions), and when no pair shares a summed letter, the two
 * smallest operands.  That tree is then improved by subtree
 * reconfiguration: for every internal node v, the top of its subtree (v
 * and the costliest nodes below it, down to RECONF_WINDOW parts) is
 * re-solved exactly by the DP over those parts and replaced when cheaper;
 * passes repeat until nothing improves.  On the large random terms of the
 * fixture this is never worse than opt_einsum's 'dp' or 'greedy'.
 *
 * Worked example: ab,bc,cd->ad with a=2, b=3, c=4, d=5.
 *   (ab,bc) -> ac : letters abc, size 24, b summed -> 48 flops, |ac| = 8
 *                   then (cd,ac) -> ad: letters acd, 40, c summed -> 80;
 *                   total 128, largest intermediate max(8, 10) = 10.
 *   (bc,cd) -> bd : letters bcd, 60 -> 120; then (ab,bd): abd, 30 -> 60;
 *                   total 180.
 *   (ab,cd) -> abcd (outer product, 120 flops), then (bc,abcd): 240;
 *                   total 360.
 * The DP finds 128, the path [(0,1),(0,1)] (opt_einsum 'optimal' gives
 * the same cost and the same path).
 *
 * Note: opt_einsum's own 'optimal' is not always optimal for this cost:
 * its search counts a step as summing only when a letter shared by both
 * operands disappears (the reported cost also counts a letter found in one
 * operand only), and its cache is keyed by the two operands' letter sets
 * alone.  E.g. c,c,bcc->b (b=3, c=7): 'optimal' reports 63, the best path
 * (c,c)->c, then (bcc,c)->b costs 7 + 42 = 49, which is what we return.
 *
 * Sizes and costs are held in doubles: exact up to 2^53, and for larger
 * terms the relative error is far below anything that matters here.
 */
#include "order.h"

#include <stdlib.h>
#include <string.h>

typedef struct LSet { uint64_t w[4]; } LSet;   /* a set of letter bytes */

static void ls_add(LSet *s, unsigned c) { s->w[c >> 6] |= (uint64_t)1 << (c & 63); }

static LSet ls_or(LSet x, LSet y)
{
    for (int i = 0; i < 4; i++) x.w[i] |= y.w[i];
    return x;
}

static LSet ls_and(LSet x, LSet y)
{
    for (int i = 0; i < 4; i++) x.w[i] &= y.w[i];
    return x;
}

/* x - y is non-empty */
static int ls_diff_any(LSet x, LSet y)
{
    for (int i = 0; i < 4; i++)
        if (x.w[i] & ~y.w[i]) return 1;
    return 0;
}

static int ls_eq(LSet x, LSet y)
{
    for (int i = 0; i < 4; i++)
        if (x.w[i] != y.w[i]) return 0;
    return 1;
}

static double ls_size(LSet s, const double *sz)
{
    double p = 1.0;
    for (int i = 0; i < 4; i++) {
        uint64_t w = s.w[i];
        while (w) {
            int b = __builtin_ctzll(w);
            p *= sz[i * 64 + b];
            w &= w - 1;
        }
    }
    return p;
}

/* Cost of contracting k1 with k2 into k12 (opt_einsum's flop_count). */
static double step_flops(LSet k1, LSet k2, LSet k12, const double *sz)
{
    LSet e = ls_or(k1, k2);
    return ls_size(e, sz) * (ls_diff_any(e, k12) ? 2.0 : 1.0);
}

static int is_single(uint32_t g) { return (g & (g - 1)) == 0; }

/* The term, as letter sets. */
typedef struct Ctx {
    int n;
    LSet in[ORDER_MAX_OPS];   /* set(letters[i]) */
    LSet out;
    double sz[256];
} Ctx;

/* Letters of the originals in g (none if g is empty). */
static LSet union_of(const Ctx *c, uint32_t g)
{
    LSet u;
    memset(&u, 0, sizeof u);
    for (int i = 0; i < c->n; i++)
        if (g >> i & 1) u = ls_or(u, c->in[i]);
    return u;
}

static uint32_t all_ops(int n) { return n == 32 ? 0xffffffffu : (((uint32_t)1 << n) - 1); }

/* L(g): the letters of the operand that holds the originals in g. */
static LSet group_set(const Ctx *c, uint32_t g)
{
    if (is_single(g)) return c->in[__builtin_ctz(g)];
    return ls_and(union_of(c, g), ls_or(c->out, union_of(c, all_ops(c->n) & ~g)));
}

/* ---- contraction trees ----------------------------------------------- */

/* Leaves are the ids 0..n-1 (the operands), internal nodes n..2n-2. */
typedef struct Tree {
    int left[2 * ORDER_MAX_OPS], right[2 * ORDER_MAX_OPS];
    uint32_t group[2 * ORDER_MAX_OPS];   /* the originals below a node */
    int nnodes, root;
} Tree;

static void tree_leaves(Tree *t, int n)
{
    for (int i = 0; i < n; i++) {
        t->left[i] = t->right[i] = -1;
        t->group[i] = (uint32_t)1 << i;
    }
    t->nnodes = n;
    t->root = 0;
}

static double node_cost(const Ctx *c, const Tree *t, int v)
{
    return step_flops(group_set(c, t->group[t->left[v]]),
                      group_set(c, t->group[t->right[v]]),
                      group_set(c, t->group[v]), c->sz);
}

typedef struct Emit {
    int ids[ORDER_MAX_OPS];   /* the current operand list, as node ids */
    int m;
} Emit;

static void push_step(OrderResult *res, int a, int b)
{
    if (a > b) { int t = a; a = b; b = t; }
    res->steps[res->nsteps].a = a;
    res->steps[res->nsteps].b = b;
    res->nsteps++;
}

/* Linear steps of the subtree of v in post order (left, right, v). */
static void tree_emit(const Tree *t, int v, Emit *e, OrderResult *res)
{
    if (t->left[v] < 0) return;
    tree_emit(t, t->left[v], e, res);
    tree_emit(t, t->right[v], e, res);
    int a = -1, b = -1;
    for (int k = 0; k < e->m; k++) {
        if (e->ids[k] == t->left[v]) a = k;
        if (e->ids[k] == t->right[v]) b = k;
    }
    if (a > b) { int x = a; a = b; b = x; }
    push_step(res, a, b);
    memmove(e->ids + b, e->ids + b + 1, (size_t)(e->m - b - 1) * sizeof *e->ids);
    memmove(e->ids + a, e->ids + a + 1, (size_t)(e->m - a - 2) * sizeof *e->ids);
    e->m -= 2;
    e->ids[e->m++] = v;
}

/* Letter set of the result of contracting current operands i and j
 * (positions in cur[0..m)). */
static LSet result_set(const LSet *cur, int m, int i, int j, LSet out)
{
    LSet keep = out;
    for (int k = 0; k < m; k++)
        if (k != i && k != j) keep = ls_or(keep, cur[k]);
    return ls_and(ls_or(cur[i], cur[j]), keep);
}

/* Replays the linear steps of res on the letter sets: flops, largest. */
static void replay(const Ctx *c, OrderResult *res)
{
    LSet cur[ORDER_MAX_OPS];
    int m = c->n;
    memcpy(cur, c->in, (size_t)m * sizeof *cur);
    res->flops = 0;
    res->max_intermediate = 0;
    for (int s = 0; s < res->nsteps; s++) {
        int a = res->steps[s].a, b = res->steps[s].b;
        LSet k12 = result_set(cur, m, a, b, c->out);
        res->flops += step_flops(cur[a], cur[b], k12, c->sz);
        double r = ls_size(k12, c->sz);
        if (r > res->max_intermediate) res->max_intermediate = r;
        memmove(cur + b, cur + b + 1, (size_t)(m - b - 1) * sizeof *cur);
        memmove(cur + a, cur + a + 1, (size_t)(m - a - 2) * sizeof *cur);
        m -= 2;
        cur[m++] = k12;
    }
}

/* ---- greedy ---------------------------------------------------------- */

static void order_greedy(const Ctx *c, Tree *t)
{
    LSet cur[ORDER_MAX_OPS];
    int id[ORDER_MAX_OPS];
    int m = c->n;
    const double *sz = c->sz;
    memcpy(cur, c->in, (size_t)m * sizeof *cur);
    tree_leaves(t, c->n);
    for (int i = 0; i < m; i++) id[i] = i;
    while (m > 1) {
        int bi = -1, bj = -1;
        /* 1. Hadamard products of identical letter sets */
        for (int i = 0; i < m && bi < 0; i++)
            for (int j = i + 1; j < m; j++)
                if (ls_eq(cur[i], cur[j])) { bi = i; bj = j; break; }
        /* 2. pairs sharing a letter that is not in the output */
        if (bi < 0) {
            double best = 0, bestf = 0;
            for (int i = 0; i < m; i++)
                for (int j = i + 1; j < m; j++) {
                    LSet sh = ls_and(cur[i], cur[j]);
                    if (!ls_diff_any(sh, c->out)) continue;
                    LSet k12 = result_set(cur, m, i, j, c->out);
                    double s = ls_size(k12, sz) - ls_size(cur[i], sz) - ls_size(cur[j], sz);
                    double f = step_flops(cur[i], cur[j], k12, sz);
                    if (bi < 0 || s < best || (s == best && f < bestf)) {
                        bi = i; bj = j; best = s; bestf = f;
                    }
                }
        }
        /* 3. the two smallest operands */
        if (bi < 0) {
            for (int i = 0; i < m; i++) {
                double s = ls_size(cur[i], sz);
                if (bi < 0 || s < ls_size(cur[bi], sz)) { bj = bi; bi = i; }
                else if (bj < 0 || s < ls_size(cur[bj], sz)) bj = i;
            }
        }
        if (bi > bj) { int x = bi; bi = bj; bj = x; }
        LSet k12 = result_set(cur, m, bi, bj, c->out);
        int v = t->nnodes++;
        t->left[v] = id[bi];
        t->right[v] = id[bj];
        t->group[v] = t->group[id[bi]] | t->group[id[bj]];
        memmove(cur + bj, cur + bj + 1, (size_t)(m - bj - 1) * sizeof *cur);
        memmove(cur + bi, cur + bi + 1, (size_t)(m - bi - 2) * sizeof *cur);
        memmove(id + bj, id + bj + 1, (size_t)(m - bj - 1) * sizeof *id);
        memmove(id + bi, id + bi + 1, (size_t)(m - bi - 2) * sizeof *id);
        m -= 2;
        cur[m] = k12;
        id[m++] = v;
    }
    t->root = id[0];
}

/* ---- exact subset DP ------------------------------------------------- */

typedef struct DpNode {
    double cost;       /* best total flops to build S; -1: none <= bound */
    double maxi;       /* its largest intermediate */
    uint32_t split;    /* S1 of the best split (holds the lowest bit) */
} DpNode;

/* The best tree over k parts with letter sets parts[] (a part may be an
 * original operand or an already built subtree), where outp holds every
 * letter needed outside them.  Returns the 2^k table, to be freed by the
 * caller, or NULL if it cannot be allocated. */
static DpNode *dp_solve(int k, const LSet *parts, LSet outp, const double *sz,
                        double bound)
{
    uint32_t full = all_ops(k);
    size_t cnt = (size_t)full + 1;
    LSet *uni = malloc(cnt * sizeof *uni);     /* union of the parts in S */
    LSet *let = malloc(cnt * sizeof *let);     /* L(S) */
    double *siz = malloc(cnt * sizeof *siz);   /* size(L(S)) */
    DpNode *node = malloc(cnt * sizeof *node);
    if (!uni || !let || !siz || !node) {
        free(uni); free(let); free(siz); free(node);
        return NULL;
    }
    memset(&uni[0], 0, sizeof uni[0]);
    for (uint32_t s = 1; s <= full; s++)
        uni[s] = ls_or(uni[s & (s - 1)], parts[__builtin_ctz(s)]);
    for (uint32_t s = 1; s <= full; s++) {
        if (is_single(s)) let[s] = parts[__builtin_ctz(s)];
        else let[s] = ls_and(uni[s], ls_or(outp, uni[full ^ s]));
        siz[s] = ls_size(let[s], sz);
        node[s].cost = is_single(s) ? 0.0 : -1.0;
        node[s].maxi = 0.0;
        node[s].split = 0;
    }
    /* A split of S costs at least size(L(S)) more than its parts (L(S) lies
     * within L(S1) | L(S2)) when no size is below 1, so a split whose parts
     * plus that already exceed the best found is not priced.  With letters
     * of size 0 a subset can be larger: no such bound then. */
    int all_ge1 = 1;
    LSet used = ls_or(uni[full], outp);
    for (int i = 0; i < 256; i++)
        if ((used.w[i >> 6] >> (i & 63) & 1) && !(sz[i] >= 1.0)) all_ge1 = 0;
    for (uint32_t s = 1; s <= full; s++) {
        if (is_single(s)) continue;
        uint32_t low = s & (~s + 1), rest = s ^ low;
        double best = -1, bmaxi = 0, floor_s = all_ge1 ? siz[s] : 0.0;
        uint32_t bsplit = 0;
        /* sub runs over the proper subsets of rest: S1 = sub|low, S2 = rest^sub */
        for (uint32_t sub = (rest - 1) & rest;; sub = (sub - 1) & rest) {
            uint32_t s1 = sub | low, s2 = rest ^ sub;
            double c1 = node[s1].cost, c2 = node[s2].cost;
            if (c1 >= 0 && c2 >= 0) {
                double c12 = c1 + c2, lo = c12 + floor_s;
                if (lo <= bound && (best < 0 || lo <= best)) {
                    double tot = c12 + step_flops(let[s1], let[s2], let[s], sz);
                    double mx = node[s1].maxi;
                    if (node[s2].maxi > mx) mx = node[s2].maxi;
                    if (siz[s] > mx) mx = siz[s];
                    if (tot <= bound &&
                        (best < 0 || tot < best || (tot == best && mx < bmaxi))) {
                        best = tot; bmaxi = mx; bsplit = s1;
                    }
                }
            }
            if (sub == 0) break;
        }
        node[s].cost = best;
        node[s].maxi = bmaxi;
        node[s].split = bsplit;
    }
    free(uni); free(let); free(siz);
    return node;
}

/* Writes the DP's tree for the parts in s into t: part i is the node
 * part_id[i]; internal nodes take their ids from ids[*used...] (root
 * first).  Returns the id of the subtree's root. */
static int dp_build(Tree *t, const DpNode *node, uint32_t s, const int *part_id,
                    const int *ids, int *used)
{
    if (is_single(s)) return part_id[__builtin_ctz(s)];
    int v = ids[(*used)++];
    uint32_t s1 = node[s].split;
    t->left[v] = dp_build(t, node, s1, part_id, ids, used);
    t->right[v] = dp_build(t, node, s ^ s1, part_id, ids, used);
    t->group[v] = t->group[t->left[v]] | t->group[t->right[v]];
    return v;
}

/* ---- subtree reconfiguration (greedy range) -------------------------- */

#define RECONF_WINDOW 10   /* parts per local exact search */
#define RECONF_PASSES 16

static void post_order(const Tree *t, int v, int *list, int *k)
{
    if (t->left[v] < 0) return;
    post_order(t, t->left[v], list, k);
    post_order(t, t->right[v], list, k);
    list[(*k)++] = v;
}

/* Improves t in place: for every internal node v, the top of its subtree
 * (v and the costliest nodes below it, up to RECONF_WINDOW parts) is
 * replaced by the exact DP's best tree over those parts when that is
 * cheaper.  The cost of nodes elsewhere does not change (L(S) depends on
 * S only), so every accepted change lowers the total. */
static void reconfigure(const Ctx *c, Tree *t)
{
    for (int pass = 0; pass < RECONF_PASSES; pass++) {
        int list[ORDER_MAX_OPS], k = 0, improved = 0;
        post_order(t, t->root, list, &k);
        for (int li = 0; li < k; li++) {
            int v = list[li];
            int fr[RECONF_WINDOW], top[RECONF_WINDOW], nf = 2, ntop = 1;
            double cur = node_cost(c, t, v);
            fr[0] = t->left[v];
            fr[1] = t->right[v];
            top[0] = v;
            while (nf < RECONF_WINDOW) {
                int bi = -1;
                double bc = -1;
                for (int i = 0; i < nf; i++) {
                    if (t->left[fr[i]] < 0) continue;
                    double ci = node_cost(c, t, fr[i]);
                    if (ci > bc) { bc = ci; bi = i; }
                }
                if (bi < 0) break;
                int x = fr[bi];
                top[ntop++] = x;
                cur += bc;
                fr[bi] = t->left[x];
                fr[nf++] = t->right[x];
            }
            if (nf < 3) continue;
            LSet parts[RECONF_WINDOW];
            for (int i = 0; i < nf; i++) parts[i] = group_set(c, t->group[fr[i]]);
            LSet outp = ls_or(c->out, union_of(c, all_ops(c->n) & ~t->group[v]));
            DpNode *node = dp_solve(nf, parts, outp, c->sz, cur);
            if (!node) return;
            uint32_t full = all_ops(nf);
            if (node[full].cost >= 0 && node[full].cost < cur * (1.0 - 1e-12)) {
                int used = 0;
                dp_build(t, node, full, fr, top, &used);
                improved = 1;
            }
            free(node);
        }
        if (!improved) break;
    }
}

int order_contract(int n, const char *const *letters, const char *out,
                   const int64_t *sizes, OrderResult *res)
{
    return order_contract_max(n, letters, out, sizes, ORDER_EXACT_MAX, res);
}

int order_contract_max(int n, const char *const *letters, const char *out,
                       const int64_t *sizes, int exact_max, OrderResult *res)
{
    if (!res) return -1;
    memset(res, 0, sizeof *res);
    if (n < 1 || n > ORDER_MAX_OPS || !letters || !out || !sizes) return -1;

    Ctx c;
    memset(&c, 0, sizeof c);
    c.n = n;
    for (int i = 0; i < 256; i++) c.sz[i] = 1.0;
    for (int i = 0; i < n; i++) {
        if (!letters[i]) return -1;
        for (const unsigned char *p = (const unsigned char *)letters[i]; *p; p++) {
            if (sizes[*p] < 0) return -1;
            ls_add(&c.in[i], *p);
            c.sz[*p] = (double)sizes[*p];
        }
    }
    for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
        if (sizes[*p] < 0) return -1;
        ls_add(&c.out, *p);
        c.sz[*p] = (double)sizes[*p];
    }

    if (n == 1) {
        res->flops = ls_size(c.in[0], c.sz) * (ls_diff_any(c.in[0], c.out) ? 2.0 : 1.0);
        res->max_intermediate = ls_size(ls_and(c.in[0], c.out), c.sz);
        res->exact = 1;
        return 0;
    }

    Tree t;
    Emit e;
    /* The greedy tree: the result for large terms, else the DP's bound. */
    order_greedy(&c, &t);
    int done = 0;
    if (n <= ORDER_EXACT_MAX && n <= exact_max) {
        OrderResult g;
        memset(&g, 0, sizeof g);
        e.m = n;
        for (int i = 0; i < n; i++) e.ids[i] = i;
        tree_emit(&t, t.root, &e, &g);
        replay(&c, &g);
        /* a little slack so that a different summation order of an
         * equally good tree cannot fall just above the bound */
        DpNode *node = dp_solve(n, c.in, c.out, c.sz, g.flops * (1.0 + 1e-9));
        uint32_t full = all_ops(n);
        if (node && node[full].cost >= 0) {
            int part_id[ORDER_MAX_OPS], ids[ORDER_MAX_OPS], used = 0;
            for (int i = 0; i < n; i++) part_id[i] = i;
            for (int i = 0; i < n - 1; i++) ids[i] = n + i;
            tree_leaves(&t, n);
            t.root = dp_build(&t, node, full, part_id, ids, &used);
            t.nnodes = n + used;
            done = 1;
        }
        free(node);
    }
    if (!done) reconfigure(&c, &t);

    e.m = n;
    for (int i = 0; i < n; i++) e.ids[i] = i;
    res->nsteps = 0;
    tree_emit(&t, t.root, &e, res);
    replay(&c, res);
    res->exact = done;
    return 0;
}
