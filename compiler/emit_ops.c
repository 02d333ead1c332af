/* emit_ops.c - kernel bodies of the built-in ops (part of the one emitter).
 *
 * emit.c writes each kernel's comment, signature and the contraction and
 * cast bodies; this file writes the bodies of the other ops, in the same
 * dialect-neutral way: the outermost loop over independent rows is opened
 * with the dialect's open_parallel (a plain loop in C, the grid in CUDA),
 * everything inside is shared code.  Operands are a0, a1, ...; the output
 * is out (and outc, the rounded copy a cuBLASLt matmul reads, when
 * KernelGeom.copy is set: every store goes through store()).  Activations
 * are f32; loads go through ld_<dtype>.
 *
 *   elementwise:    plain ops and FUSED chains alike, a program of f32
 *                   steps per element (ir_program); 8 elements per thread
 *                   with the dialect's vec8
 *   rms_norm (HF):  ss = sum(x^2) (in double); r = 1 / sqrtf(ss / d + eps)
 *                   out = ld(w) * (x * r)
 *   rope:           out[j]      = x[j] * cos - x[j + k/2] * sin
 *                   out[j+k/2]  = x[j + k/2] * cos + x[j] * sin,  angle = pos * inv_freq[j]
 *   attention:      two passes over the keys (max, then exp-weighted sum of v)
 */
#include <string.h>
#include "dialect.h"

static const char *ld(const IrTensor *t) { return dtype_name(t->dtype); }

/* out[idx] = expr; with a copy (kg->copy, see emit.c's emit_kernel) also
 * outc[idx] = the same value rounded, as a cast kernel would round it. */
static void store(Buf *b, const KernelGeom *kg, const char *idx, const char *expr)
{
    if (!kg->copy) { buf_line(b, "out[%s] = %s;", idx, expr); return; }
    buf_open(b, "{");
    buf_line(b, "const float o_ = %s;", expr);
    buf_line(b, "out[%s] = o_;", idx);
    buf_line(b, "outc[%s] = st_%s(o_);", idx, dtype_name(kg->copy));
    buf_close(b, "}");
}

/* The vector form: o_[8] to out and, with a copy, to outc. */
static void store8(Buf *b, const KernelGeom *kg)
{
    buf_line(b, "stv8_f32(out + i_v * 8, o_);");
    if (kg->copy) buf_line(b, "stv8_%s(outc + i_v * 8, o_);", dtype_name(kg->copy));
}

static void row_loop(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const char *var, const char *extent)
{
    const char *ext[1] = {extent};
    d->open_parallel(b, kg, var, ext, 1);
    (void)ctx;
}

/* A parallel loop over several axes (letters[a] names axis a: i_<letter>):
 * nested loops in C, one flat grid-stride loop over the product in CUDA, so
 * on a GPU every element (or pair, for rope) is its own thread even when
 * there is one token. */
static void par_loop(Buf *b, const Dialect *d, KernelGeom *kg, const char *letters, const char *e0, const char *e1,
                     const char *e2)
{
    const char *ext[3] = {e0, e1, e2};
    d->open_parallel(b, kg, letters, ext, (int)strlen(letters));
}

/* One step of an elementwise program: `const float fK = op(x[, y]);`, x
 * and y names (an operand xN or an earlier step fN). */
static void step_line(Buf *b, const IrFusedStep *st, int k, const char *x, const char *y)
{
    char dst[32];
    snprintf(dst, sizeof dst, "const float f%d", k);
    switch (st->op) {
    case OP_ADD: buf_line(b, "%s = %s + %s;", dst, x, y); break;
    case OP_SUB: buf_line(b, "%s = %s - %s;", dst, x, y); break;
    case OP_MUL: buf_line(b, "%s = %s * %s;", dst, x, y); break;
    case OP_DIV: buf_line(b, "%s = %s / %s;", dst, x, y); break;
    case OP_MULC: {
        Buf lit;
        buf_init(&lit);
        emit_float_lit(&lit, st->c, DT_F32);
        buf_line(b, "%s = %s * %s;", dst, x, lit.p);
        buf_free(&lit);
        break;
    }
    case OP_SILU: buf_line(b, "%s = %s / (1.0f + expf(-%s));", dst, x, x); break;
    case OP_RELU: buf_line(b, "%s = %s > 0.0f ? %s : 0.0f;", dst, x, x); break;
    case OP_GELU: buf_line(b, "%s = 0.5f * %s * (1.0f + erff(%s * 0.70710678118654752f));", dst, x, x); break;
    case OP_EXP: buf_line(b, "%s = expf(%s);", dst, x); break;
    case OP_NEG: buf_line(b, "%s = -%s;", dst, x); break;
    default: ueaj_unreachable();
    }
}

/* Elementwise kernels, plain or FUSED (pass_fuse), one emitter: operands
 * and output share one shape, row-major.  The operands are loaded into x0,
 * x1, ..., then one `const float fK = ...;` per program step (ir_program:
 * a plain op is a one-step program), the last step stored.  With vec8,
 * each thread does 8 consecutive elements through ldv8_T / stv8_f32. */
static void emit_elementwise(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n)
{
    IrFusedStep one;
    int np;
    const IrFusedStep *prog = ir_program(n, &one, &np);
    bool vec = d->vec8;
    for (int k = 0; k < n->nin; k++) vec = vec && emit_vec8_type(n->in[k]->dtype);
    const char *v8 = vec ? emit_numel_div8(ctx, n->out) : NULL;
    if (v8) {
        emit_vec8_open(b, d, kg, v8);
        Buf decl;
        buf_init(&decl);
        for (int k = 0; k < n->nin; k++) buf_printf(&decl, "x%d_[8], ", k);
        buf_line(b, "float %so_[8];", decl.p);
        buf_free(&decl);
        for (int k = 0; k < n->nin; k++) buf_line(b, "ldv8_%s(a%d + i_v * 8, x%d_);", ld(n->in[k]), k, k);
        buf_open(b, "for (int l_ = 0; l_ < 8; l_++) {");
        for (int k = 0; k < n->nin; k++) buf_line(b, "const float x%d = x%d_[l_];", k, k);
    } else {
        row_loop(ctx, b, d, kg, "e", emit_numel_str(ctx, n->out, 0, n->out->rank));
        for (int k = 0; k < n->nin; k++) buf_line(b, "const float x%d = ld_%s(a%d[i_e]);", k, ld(n->in[k]), k);
    }
    for (int k = 0; k < np; k++) {
        char x[16], y[16];
        snprintf(x, sizeof x, prog[k].a < n->nin ? "x%d" : "f%d", prog[k].a < n->nin ? prog[k].a : prog[k].a - n->nin);
        snprintf(y, sizeof y, prog[k].b < n->nin ? "x%d" : "f%d", prog[k].b < n->nin ? prog[k].b : prog[k].b - n->nin);
        step_line(b, &prog[k], k, x, y);
    }
    if (v8) {
        buf_line(b, "o_[l_] = f%d;", np - 1);
        buf_close(b, "}");
        store8(b, kg);
    } else {
        store(b, kg, "i_e", arena_printf(&ctx->arena, "f%d", np - 1));
    }
    d->close_parallel(b, 1);
}

/* With a team per row (CUDA): each thread sums its strided part of the row
 * in float, the team adds the partial sums (warp shuffles, then one value
 * per warp through shared memory).  That changes the summation order and
 * precision against the one-thread double sum of the C dialect: compare
 * with a tolerance (relative ~1e-6). */
static void emit_rmsnorm(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n)
{
    const IrTensor *x = n->in[0];
    const char *rows = emit_numel_str(ctx, x, 0, x->rank - 1);
    const char *D = emit_size_str(ctx, x->shape[x->rank - 1]);
    Buf eps;
    buf_init(&eps);
    emit_float_lit(&eps, n->fattr[0], DT_F32);
    bool team = d->open_row_team != NULL;
    if (team) d->open_row_team(b, kg, rows);
    else row_loop(ctx, b, d, kg, "r", rows);
    buf_line(b, "const %s *xr = a0 + i_r * %s;", d->type_name(x->dtype), D);
    const char *first = team ? "t_" : "0", *step = team ? "i += nt_" : "i++";
    if (team) {
        buf_line(b, "float ss = 0.0f;");
        buf_open(b, "for (int64_t i = t_; i < %s; i += nt_) {", D);
        buf_line(b, "const float v = ld_%s(xr[i]);", ld(x));
        buf_line(b, "ss += v * v;");
        buf_close(b, "}");
        d->row_reduce(b, "ss", "sum");
        buf_line(b, "const float r = 1.0f / sqrtf(ss / (float)%s + %s);", D, eps.p);
    } else {
        buf_line(b, "double ss = 0;");
        buf_open(b, "for (int64_t i = 0; i < %s; i++) {", D);
        buf_line(b, "const float v = ld_%s(xr[i]);", ld(x));
        buf_line(b, "ss += (double)v * v;");
        buf_close(b, "}");
        buf_line(b, "const float r = 1.0f / sqrtf((float)(ss / (double)%s) + %s);", D, eps.p);
    }
    buf_open(b, "for (int64_t i = %s; i < %s; %s) {", first, D, step);
    const char *idx = arena_printf(&ctx->arena, "i_r * %s + i", D);
    switch (n->iattr[0]) {
    case RMSNORM_HF: case RMSNORM_UNCENTERED:
        store(b, kg, idx, arena_printf(&ctx->arena, "ld_%s(a1[i]) * (ld_%s(xr[i]) * r)", ld(n->in[1]), ld(x)));
        break;
    case RMSNORM_CENTERED:
        store(b, kg, idx, arena_printf(&ctx->arena, "(ld_%s(xr[i]) * r) * (1.0f + ld_%s(a1[i]))", ld(x), ld(n->in[1])));
        break;
    case RMSNORM_NONE: store(b, kg, idx, arena_printf(&ctx->arena, "ld_%s(xr[i]) * r", ld(x))); break;
    }
    buf_close(b, "}");
    if (team) d->close_row_team(b);
    else d->close_parallel(b, 1);
    buf_free(&eps);
}

static void emit_rope(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n)
{
    const IrTensor *x = n->in[0];
    int half = n->iattr[2];
    buf_open(b, "%s float inv_freq[%d] = {", d->table_qual, half);
    for (int j = 0; j < half; j++) buf_line(b, "%.9ef,", (double)n->table[j]);
    buf_close(b, "};");
    const char *N = emit_size_str(ctx, x->shape[0]);
    const char *inner = emit_numel_str(ctx, x, 1, x->rank - 1);
    /* one (token, head, pair) per iteration: pairs j and j + half */
    par_loop(b, d, kg, "nhj", N, inner, arena_printf(&ctx->arena, "%d", half));
    buf_line(b, "const float ang = (float)a1[i_n] * inv_freq[i_j];");
    buf_line(b, "const float c = cosf(ang), s = sinf(ang);");
    buf_line(b, "const int64_t o = (i_n * %s + i_h) * %d + i_j;", inner, 2 * half);
    buf_line(b, "const float x1 = ld_%s(a0[o]), x2 = ld_%s(a0[o + %d]);", ld(x), ld(x), half);
    buf_line(b, "out[o] = x1 * c - x2 * s;");
    buf_line(b, "out[o + %d] = x2 * c + x1 * s;", half);
    d->close_parallel(b, 3);
}

/* The keys query i_n sees: [lo, hi) (causal, sliding window), from its position qpos. */
static void attention_keys(Buf *b, const IrNode *n, const char *N, const char *M)
{
    if (n->nin == 4) buf_line(b, "const int64_t qpos = a3[i_n]; /* the query's position among the keys */");
    else if (strcmp(N, M) == 0) buf_line(b, "const int64_t qpos = i_n;");
    else buf_line(b, "const int64_t qpos = i_n + (%s - %s); /* queries are the last %s of %s keys */", M, N, N, M);
    if (n->iattr[0] && n->nin == 4) buf_line(b, "const int64_t hi = qpos + 1 < %s ? qpos + 1 : %s; /* causal: keys 0..qpos */", M, M);
    else if (n->iattr[0]) buf_line(b, "const int64_t hi = qpos + 1; /* causal: keys 0..qpos */");
    else buf_line(b, "const int64_t hi = %s;", M);
    if (n->iattr[1] > 0)
        buf_line(b, "const int64_t lo = hi > %d ? hi - %d : 0; /* sliding window of %d keys */", n->iattr[1],
                 n->iattr[1], n->iattr[1]);
    else buf_line(b, "const int64_t lo = 0;");
}

/* Attention with a team (a CUDA block) per (query, head) row:
 *   1. each thread scores keys lo + t_, lo + t_ + nt_, ...; the team's max;
 *   2. keys in tiles of nt_: each thread weighs its key, p = exp(s - max),
 *      into the team's scratch; after a barrier thread t_ < V adds
 *      p[j] * v[j, t_] over the tile (output dim t_ is its alone);
 *   3. the team's sum of the p; out = acc / sum.
 * The scores are those of the one-thread form; the sums run in another
 * order (compared with a tolerance). */
static void emit_attention_team(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n,
                                const char *N, const char *M, int64_t H, int64_t Hkv, int64_t K, int64_t V,
                                const char *sc)
{
    const IrTensor *q = n->in[0], *k = n->in[1], *v = n->in[2];
    d->open_row_team(b, kg, arena_printf(&ctx->arena, "%s * %lld", N, (long long)H));
    d->team_scratch(b, "p_", d->team_size);
    buf_line(b, "const int64_t i_n = i_r / %lld, h = i_r %% %lld;", (long long)H, (long long)H);
    attention_keys(b, n, N, M);
    buf_line(b, "const int64_t g = h / %lld; /* the KV head of query head h */", (long long)(H / Hkv));
    buf_line(b, "const int64_t qo = (i_n * %lld + h) * %lld;", (long long)H, (long long)K);
    const char *dot = arena_printf(&ctx->arena,
                                   "for (int64_t i = 0; i < %lld; i++) s += ld_%s(a0[qo + i]) * ld_%s(a1[(j * %lld + g) * %lld + i]);",
                                   (long long)K, ld(q), ld(k), (long long)Hkv, (long long)K);
    buf_line(b, "float mx = -3.402823466e38f;");
    buf_open(b, "for (int64_t j = lo + t_; j < hi; j += nt_) {");
    buf_line(b, "float s = 0;");
    buf_line(b, "%s", dot);
    buf_line(b, "s *= %s;", sc);
    buf_line(b, "if (s > mx) mx = s;");
    buf_close(b, "}");
    d->row_reduce(b, "mx", "max");
    buf_line(b, "float sum = 0, acc = 0;");
    buf_open(b, "for (int64_t j0 = lo; j0 < hi; j0 += nt_) {");
    buf_line(b, "const int64_t j = j0 + t_;");
    buf_line(b, "float p = 0;");
    buf_open(b, "if (j < hi) {");
    buf_line(b, "float s = 0;");
    buf_line(b, "%s", dot);
    buf_line(b, "s *= %s;", sc);
    buf_line(b, "p = expf(s - mx);");
    buf_close(b, "}");
    buf_line(b, "sum += p;");
    buf_line(b, "p_[t_] = p;");
    d->team_sync(b);
    buf_line(b, "const int64_t je = hi - j0 < nt_ ? hi - j0 : nt_;");
    buf_line(b, "if (t_ < %lld) for (int64_t jj = 0; jj < je; jj++) acc += p_[jj] * ld_%s(a2[((j0 + jj) * %lld + g) * %lld + t_]);",
             (long long)V, ld(v), (long long)Hkv, (long long)V);
    d->team_sync(b);
    buf_close(b, "}");
    d->row_reduce(b, "sum", "sum");
    buf_open(b, "if (t_ < %lld) {", (long long)V);
    store(b, kg, arena_printf(&ctx->arena, "(i_n * %lld + h) * %lld + t_", (long long)H, (long long)V),
          "sum > 0 ? acc / sum : 0.0f");
    buf_close(b, "}");
    d->close_row_team(b);
}

static void emit_attention(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n)
{
    const IrTensor *q = n->in[0], *k = n->in[1], *v = n->in[2];
    const char *N = emit_size_str(ctx, q->shape[0]), *M = emit_size_str(ctx, k->shape[0]);
    int64_t H = q->rank == 4 ? q->shape[1].c * q->shape[2].c : q->shape[1].c; /* query heads */
    int64_t Hkv = k->shape[1].c, K = k->shape[2].c, V = v->shape[2].c;
    Buf sc;
    buf_init(&sc);
    emit_float_lit(&sc, n->fattr[0], DT_F32);
    if (d->open_row_team && d->team_scratch && V <= d->team_size) {
        emit_attention_team(ctx, b, d, kg, n, N, M, H, Hkv, K, V, sc.p);
        buf_free(&sc);
        return;
    }
    /* threads split the queries (a prompt); decoding has one */
    d->split_open(b, kg, 'n', N, NULL);
    buf_open(b, "for (int64_t i_n = lo_n; i_n < hi_n; i_n++) {");
    attention_keys(b, n, N, M);
    buf_open(b, "for (int64_t h = 0; h < %lld; h++) {", (long long)H);
    buf_line(b, "const int64_t g = h / %lld; /* the KV head of query head h */", (long long)(H / Hkv));
    buf_line(b, "const int64_t qo = (i_n * %lld + h) * %lld;", (long long)H, (long long)K);
    const char *dot = arena_printf(&ctx->arena,
                                   "for (int64_t i = 0; i < %lld; i++) s += ld_%s(a0[qo + i]) * ld_%s(a1[(j * %lld + g) * %lld + i]);",
                                   (long long)K, ld(q), ld(k), (long long)Hkv, (long long)K);
    buf_line(b, "float mx = -3.402823466e38f;");
    if (d->vla) buf_line(b, "float score[hi - lo > 0 ? hi - lo : 1]; /* scaled q.k of each visible key */");
    buf_open(b, "for (int64_t j = lo; j < hi; j++) {");
    buf_line(b, "float s = 0;");
    buf_line(b, "%s", dot);
    buf_line(b, "s *= %s;", sc.p);
    if (d->vla) buf_line(b, "score[j - lo] = s;");
    buf_line(b, "if (s > mx) mx = s;");
    buf_close(b, "}");
    buf_line(b, "float acc[%lld];", (long long)V);
    buf_line(b, "for (int64_t i = 0; i < %lld; i++) acc[i] = 0;", (long long)V);
    buf_line(b, "float sum = 0;");
    buf_open(b, "for (int64_t j = lo; j < hi; j++) {");
    if (d->vla) {
        buf_line(b, "const float p = expf(score[j - lo] - mx);");
    } else { /* no variable-length array: the same scores, computed again in the same order */
        buf_line(b, "float s = 0;");
        buf_line(b, "%s", dot);
        buf_line(b, "s *= %s;", sc.p);
        buf_line(b, "const float p = expf(s - mx);");
    }
    buf_line(b, "sum += p;");
    buf_line(b, "for (int64_t i = 0; i < %lld; i++) acc[i] += p * ld_%s(a2[(j * %lld + g) * %lld + i]);",
             (long long)V, ld(v), (long long)Hkv, (long long)V);
    buf_close(b, "}");
    buf_open(b, "for (int64_t i = 0; i < %lld; i++) {", (long long)V);
    store(b, kg, arena_printf(&ctx->arena, "(i_n * %lld + h) * %lld + i", (long long)H, (long long)V),
          "sum > 0 ? acc[i] / sum : 0.0f");
    buf_close(b, "}");
    buf_close(b, "}");
    buf_close(b, "}");
    d->split_close(b);
    buf_free(&sc);
}

static void emit_embed(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n)
{
    const IrTensor *tab = n->in[0];
    const char *N = emit_size_str(ctx, n->in[1]->shape[0]);
    const char *V = emit_size_str(ctx, tab->shape[0]), *D = emit_size_str(ctx, tab->shape[1]);
    par_loop(b, d, kg, "ni", N, D, NULL);
    buf_line(b, "const int64_t id = a1[i_n];");
    buf_line(b, "/* the runtime checks ids; an out-of-range id gives a zero row, never a wild read */");
    buf_line(b, "out[i_n * %s + i_i] = (id >= 0 && id < %s) ? ld_%s(a0[id * %s + i_i]) : 0.0f;", D, V, ld(tab), D);
    d->close_parallel(b, 2);
}

static void emit_softmax(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n)
{
    const IrTensor *x = n->in[0];
    const char *rows = emit_numel_str(ctx, x, 0, x->rank - 1);
    const char *D = emit_size_str(ctx, x->shape[x->rank - 1]);
    if (d->open_row_team) { /* a team per row: the same max; the sum in another order (see emit_rmsnorm) */
        d->open_row_team(b, kg, rows);
        buf_line(b, "const int64_t o = i_r * %s;", D);
        buf_line(b, "float mx = -3.402823466e38f, sum = 0;");
        buf_line(b, "for (int64_t i = t_; i < %s; i += nt_) { const float v = ld_%s(a0[o + i]); if (v > mx) mx = v; }", D,
                 ld(x));
        d->row_reduce(b, "mx", "max");
        buf_line(b, "for (int64_t i = t_; i < %s; i += nt_) { out[o + i] = expf(ld_%s(a0[o + i]) - mx); sum += out[o + i]; }",
                 D, ld(x));
        d->row_reduce(b, "sum", "sum");
        buf_line(b, "for (int64_t i = t_; i < %s; i += nt_) out[o + i] /= sum; /* the elements this thread wrote */", D);
        d->close_row_team(b);
        return;
    }
    row_loop(ctx, b, d, kg, "r", rows);
    buf_line(b, "const int64_t o = i_r * %s;", D);
    buf_line(b, "float mx = -3.402823466e38f, sum = 0;");
    buf_line(b, "for (int64_t i = 0; i < %s; i++) { const float v = ld_%s(a0[o + i]); if (v > mx) mx = v; }", D, ld(x));
    buf_line(b, "for (int64_t i = 0; i < %s; i++) { out[o + i] = expf(ld_%s(a0[o + i]) - mx); sum += out[o + i]; }", D,
             ld(x));
    buf_line(b, "for (int64_t i = 0; i < %s; i++) out[o + i] /= sum;", D);
    d->close_parallel(b, 1);
}

static void emit_reduce(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n)
{
    const IrTensor *x = n->in[0];
    const char *rows = emit_numel_str(ctx, x, 0, x->rank - 1);
    const char *D = emit_size_str(ctx, x->shape[x->rank - 1]);
    row_loop(ctx, b, d, kg, "r", rows);
    if (n->op == OP_MAX) {
        buf_line(b, "float m = -3.402823466e38f;");
        buf_line(b, "for (int64_t i = 0; i < %s; i++) { const float v = ld_%s(a0[i_r * %s + i]); if (v > m) m = v; }",
                 D, ld(x), D);
        buf_line(b, "out[i_r] = m;");
    } else {
        buf_line(b, "double s = 0;");
        buf_line(b, "for (int64_t i = 0; i < %s; i++) s += ld_%s(a0[i_r * %s + i]);", D, ld(x), D);
        buf_line(b, n->op == OP_MEAN ? "out[i_r] = (float)(s / (double)%s);" : "out[i_r] = (float)s;%s",
                 n->op == OP_MEAN ? D : "");
    }
    d->close_parallel(b, 1);
}

static void emit_cache_write(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n)
{
    const IrTensor *c = n->out, *x = n->in[0];
    const char *N = emit_size_str(ctx, x->shape[0]), *C = emit_size_str(ctx, c->shape[0]);
    const char *row = emit_numel_str(ctx, c, 1, c->rank);
    par_loop(b, d, kg, "ni", N, row, NULL);
    buf_line(b, "const int64_t p = a1[i_n];");
    buf_line(b, "if (p < 0 || p >= %s) continue; /* the runtime checks positions; never write outside the cache */", C);
    buf_line(b, "out[p * %s + i_i] = st_%s(ld_%s(a0[i_n * %s + i_i]));", row, dtype_name(c->dtype), ld(x), row);
    d->close_parallel(b, 2);
}

static void emit_last_rows(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n)
{
    const IrTensor *x = n->in[0], *o = n->out;
    const char *N = emit_size_str(ctx, x->shape[0]), *M = emit_size_str(ctx, o->shape[0]);
    const char *row = emit_numel_str(ctx, x, 1, x->rank);
    buf_line(b, "/* the runtime guarantees %s <= %s */", M, N);
    par_loop(b, d, kg, "mi", M, row, NULL);
    buf_line(b, "out[i_m * %s + i_i] = ld_%s(a0[(%s - %s + i_m) * %s + i_i]);", row, ld(x), N, M, row);
    d->close_parallel(b, 2);
}

void emit_builtin(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrGraph *g, const IrNode *n)
{
    (void)g;
    UEAJ_ASSERT(n->out->dtype == DT_F32 || n->op == OP_CACHE_WRITE);
    switch (n->op) {
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MULC:
    case OP_SILU: case OP_RELU: case OP_GELU: case OP_EXP: case OP_NEG: case OP_FUSED:
        emit_elementwise(ctx, b, d, kg, n);
        break;
    case OP_RMSNORM: emit_rmsnorm(ctx, b, d, kg, n); break;
    case OP_ROPE: emit_rope(ctx, b, d, kg, n); break;
    case OP_ATTENTION: emit_attention(ctx, b, d, kg, n); break;
    case OP_EMBED: emit_embed(ctx, b, d, kg, n); break;
    case OP_SOFTMAX: emit_softmax(ctx, b, d, kg, n); break;
    case OP_SUM: case OP_MEAN: case OP_MAX: emit_reduce(ctx, b, d, kg, n); break;
    case OP_CACHE_WRITE: emit_cache_write(ctx, b, d, kg, n); break;
    case OP_LAST_ROWS: emit_last_rows(ctx, b, d, kg, n); break;
    default: ueaj_unreachable();
    }
}
