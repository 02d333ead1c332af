/* pass_layout.c - the storage layout of weights (after `order`).
 *
 * Decoding one token reads every weight once, so its speed is the speed at
 * which each projection streams its weight.  A projection
 *
 *     out[N.., O..] = x[N.., R..] . w[R.., O..]
 *
 * stored row-major (R rows of O columns) makes each thread, which owns a
 * range of columns, read a short piece of every row: many interleaved
 * streams that the memory system serves at about half its bandwidth (27
 * against 45-56 GB/s, measured on the 2-core Zen 5 CI machine on a
 * Llama-3.2-1B-shaped set of weights).  This pass stores such a weight in
 * column panels instead:
 *
 *     panel p = columns [64p, 64p + 64) of every row, rows in order:
 *     element (r, c) at  (c / 64) * R * 64  +  r * 64  +  c % 64
 *
 * (the last panel is padded with zeros to 64 columns).  A thread's columns
 * are then one contiguous run of memory, and the products in
 * templates/c_prelude.h.in read it in order.  The arithmetic does not
 * change: every output still sums its products in the order r = 0..R-1.
 *
 * A parameter is packed when every node that reads it is such a projection
 * with it as the weight (bf16 or f32, the activation f32, a fixed R and O);
 * anything else (an embedding table, a norm weight, a weight also used
 * elsewhere) keeps the row-major layout.  The runtime packs a parameter's
 * values once, after loading them (ir_pack_values).  Targets that hand
 * weights to a library (cuBLASLt) keep row-major: UeajOptions.no_pack.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* A size for heuristics: run-time dims count as 512.  Products are taken in
 * double: eight large axes overflow int64, and a guess needs no exactness. */
static double size_guess(IrSize s) { return s.dyn >= 0 ? 512.0 : (double)s.c; }

int ir_stream_operand(const IrNode *n)
{
    if (n->op != OP_CONTRACT || n->nin != 2 || n->has_scale || n->accumulate || n->out->dtype != n->acc) return -1;
    double sz[2];
    for (int k = 0; k < 2; k++) {
        sz[k] = 1;
        for (int a = 0; a < n->in[k]->rank; a++) sz[k] *= size_guess(n->in[k]->shape[a]);
    }
    /* the weight: the parameter, if exactly one operand is one; else the larger */
    bool p0 = n->in[0]->kind == TEN_PARAM, p1 = n->in[1]->kind == TEN_PARAM;
    int w = p0 != p1 ? (p1 ? 1 : 0) : sz[1] >= sz[0] ? 1 : 0;
    const char *L = n->in_letters[w];
    size_t len = strlen(L);
    if (len == 0 || !strchr(n->out_letters, L[len - 1])) return -1;
    for (size_t i = 0; i < len; i++)
        if (strchr(L + i + 1, L[i])) return -1;
    if (n->in[w]->shape[len - 1].dyn < 0 && n->in[w]->shape[len - 1].c == 1) return -1;
    return w;
}

static bool size_same(IrSize a, IrSize b) { return a.dyn == b.dyn && (a.dyn >= 0 || a.c == b.c); }

bool ir_matmul_split(const IrNode *n, int w, int *nn_out, int *nr_out)
{
    const IrTensor *X = n->in[1 - w], *W = n->in[w];
    if (X->dtype != DT_F32 || (W->dtype != DT_BF16 && W->dtype != DT_F32) || n->out->dtype != DT_F32) return false;
    const char *xl = n->in_letters[1 - w], *wl = n->in_letters[w], *ol = n->out_letters;
    int nr = 0; /* w = [R.., O..] */
    while (wl[nr] && !strchr(ol, wl[nr])) nr++;
    if (nr == 0 || !wl[nr]) return false;
    for (const char *p = wl + nr; *p; p++) if (!strchr(ol, *p)) return false;
    int xlen = (int)strlen(xl), nn = xlen - nr; /* x = [N.., R..] */
    if (nn < 0 || strncmp(xl + nn, wl, (size_t)nr) != 0) return false;
    for (int i = 0; i < nn; i++) if (strchr(wl, xl[i])) return false;
    /* out = [N.., O..] */
    if ((int)strlen(ol) != nn + (int)strlen(wl + nr) || strncmp(ol, xl, (size_t)nn) || strcmp(ol + nn, wl + nr)) return false;
    const IrTensor *ts[3] = {X, W, n->out};
    const char *ls[3] = {xl, wl, ol};
    for (int t = 0; t < 3; t++)
        for (int a = 0; a < ts[t]->rank; a++)
            if (!size_same(ts[t]->shape[a], n->lsize[(unsigned char)ls[t][a]])) return false;
    *nn_out = nn;
    *nr_out = nr;
    return true;
}

/* Is node n a projection that reads t as its packable weight? */
static bool packable_use(const IrNode *n, const IrTensor *t, int *nr)
{
    int w = ir_stream_operand(n), nn;
    if (w < 0 || n->in[w] != t || n->in[1 - w] == t) return false;
    if (!ir_matmul_split(n, w, &nn, nr)) return false;
    for (int a = 0; a < t->rank; a++)
        if (t->shape[a].dyn >= 0) return false;
    return true;
}

int pass_layout(UeajCtx *ctx, IrGraph *g)
{
    /* one walk over the nodes, in order: per parameter, how many nodes read
     * it, the row-axis count they agree on, and whether one cannot stream it */
    int nt = g->tensors.n;
    int *uses = ARENA_ARRAY(&ctx->arena, int, nt + 1), *nr = ARENA_ARRAY(&ctx->arena, int, nt + 1);
    bool *bad = ARENA_ARRAY(&ctx->arena, bool, nt + 1);
    for (int i = 0; i < nt; i++) nr[i] = -1;
    for (int q = 0; q < g->nodes.n && !ctx->opt.no_pack; q++) {
        const IrNode *n = g->nodes.v[q];
        for (int k = 0; k < n->nin; k++) {
            const IrTensor *t = n->in[k];
            bool again = false;
            for (int j = 0; j < k; j++) again |= n->in[j] == t;
            if (t->kind != TEN_PARAM || again || bad[t->id]) continue;
            int this_nr = -1;
            if (!packable_use(n, t, &this_nr) || (nr[t->id] >= 0 && this_nr != nr[t->id])) bad[t->id] = true;
            nr[t->id] = this_nr;
            uses[t->id]++;
        }
    }
    for (int i = 0; i < nt; i++) {
        IrTensor *t = g->tensors.v[i];
        t->pack = 0;
        t->pack_nr = 0;
        if (ctx->opt.no_pack || t->kind != TEN_PARAM || bad[i] || uses[i] == 0) continue;
        t->pack = IR_PACK_WIDTH;
        t->pack_nr = nr[i];
    }
    return 0;
}

/* R (rows) and O (columns) of a packed tensor, and its stored element count. */
static void pack_dims(const IrTensor *t, int64_t *R, int64_t *O)
{
    *R = 1;
    *O = 1;
    for (int a = 0; a < t->rank; a++) *(a < t->pack_nr ? R : O) *= t->shape[a].c;
}

int64_t ir_storage_elems(const IrTensor *t, int64_t logical)
{
    if (!t->pack) return logical;
    int64_t R, O;
    pack_dims(t, &R, &O);
    return (O + t->pack - 1) / t->pack * t->pack * R;
}

void ir_pack_values(const IrTensor *t, void *dst, const void *src)
{
    UEAJ_ASSERT(t->pack > 0);
    int64_t R, O, P = t->pack;
    pack_dims(t, &R, &O);
    size_t es = dtype_size(t->dtype);
    int64_t np = (O + P - 1) / P;
    unsigned char *d = dst;
    const unsigned char *s = src;
    memset(d, 0, (size_t)(np * P * R) * es);
    for (int64_t p = 0; p < np; p++) {
        int64_t c0 = p * P, w = O - c0 < P ? O - c0 : P;
        for (int64_t r = 0; r < R; r++)
            memcpy(d + (size_t)((p * R + r) * P) * es, s + (size_t)(r * O + c0) * es, (size_t)w * es);
    }
}

int ir_pack_buffer(const IrTensor *t, void **buf, int64_t logical)
{
    if (!t->pack) return 0;
    size_t es = dtype_size(t->dtype);
    void *pk = malloc((size_t)ir_storage_elems(t, logical) * es);
    if (!pk) return -1;
    ir_pack_values(t, pk, *buf);
    free(*buf); /* ownership: the caller's buffer is replaced by the packed one */
    *buf = pk;
    return 0;
}
