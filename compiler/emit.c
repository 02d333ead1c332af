/* emit.c - the one emitter: IR -> source text, in a given Dialect.
 *
 * Each node becomes one kernel function; an entry point calls them in
 * order.  The dialect (dialect_c.c; CUDA follows the same table) decides
 * only what differs between targets: type names, qualifiers, and how the
 * parallel (output) loops are opened; loads, stores, index arithmetic and
 * reductions are written here once.  A CONTRACT kernel is a loop nest:
 *
 *     parallel loops over the output letters (in output order)
 *         acc = 0
 *         loops over the summed letters
 *             acc = fma(ld(a[idx_a]) * .., ld(b[idx_b]), acc)
 *         out[idx] = st(acc / scale)          ('+=' terms: st(ld(out) + ...))
 *
 * Index arithmetic is row-major with constant strides where shapes are
 * known; a size-1 axis that broadcasts against a larger letter contributes
 * nothing.  Every kernel starts with a comment naming the ueajsum term it
 * implements (user text in comments is sanitised, never emitted raw).
 * The output is deterministic: names come from node and tensor ids.
 */
#include <math.h>
#include <string.h>
#include "internal.h"
#include "dialect.h"

extern const char tmpl_c_prelude_h[];

/* Writes a template, replacing @NAME@ holes; an unknown hole is a bug. */
static void emit_template(Buf *b, const char *t, const char *const *keys, const char *const *vals, int n)
{
    for (const char *p = t; *p; p++) {
        if (*p != '@') { buf_putc(b, *p); continue; }
        const char *e = strchr(p + 1, '@');
        UEAJ_ASSERT(e != NULL);
        int found = 0;
        for (int i = 0; i < n; i++)
            if ((size_t)(e - p - 1) == strlen(keys[i]) && !strncmp(p + 1, keys[i], (size_t)(e - p - 1))) {
                buf_puts(b, vals[i]);
                found = 1;
            }
        if (!found) ueaj_internal_error(__FILE__, __LINE__, "unknown template hole");
        p = e;
    }
}

/* User text inside a comment: printable ASCII only, and never "*" "/". */
void emit_comment_text(Buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '*' && p[1] == '/') { buf_puts(b, "* "); continue; }
        buf_putc(b, *p >= 0x20 && *p < 0x7f ? (char)*p : '?');
    }
}

static void size_expr(Buf *b, IrSize s)
{
    if (s.dyn >= 0) buf_printf(b, "D%d", s.dyn);
    else buf_printf(b, "%lld", (long long)s.c);
}

/* A float literal that reads well and round-trips: "2.0f", "0.125f". */
void emit_float_lit(Buf *b, double v, DType acc)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, acc == DT_F64 ? "%.17g" : "%.9g", v);
    buf_puts(b, tmp);
    if (!strpbrk(tmp, ".eEn")) buf_puts(b, ".0");
    if (acc != DT_F64) buf_putc(b, 'f');
}

/* The flat index of tensor t whose axes carry `letters`. */
static void index_expr(Buf *b, const IrTensor *t, const char *letters, const IrNode *n)
{
    int terms = 0;
    for (int a = 0; a < t->rank; a++) {
        int ch = (unsigned char)letters[a];
        bool bcast = t->shape[a].dyn < 0 && t->shape[a].c == 1 &&
                     !(n->lsize[ch].dyn < 0 && n->lsize[ch].c == 1);
        if (bcast) continue;
        if (terms++) buf_puts(b, " + ");
        buf_printf(b, "i_%c", ch);
        for (int q = a + 1; q < t->rank; q++) {
            if (t->shape[q].dyn < 0 && t->shape[q].c == 1) continue;
            buf_puts(b, " * ");
            size_expr(b, t->shape[q]);
        }
    }
    if (!terms) buf_putc(b, '0');
}

const char *emit_size_str(UeajCtx *ctx, IrSize s)
{
    if (s.dyn >= 0) return arena_printf(&ctx->arena, "D%d", s.dyn);
    return arena_printf(&ctx->arena, "%lld", (long long)s.c);
}

/* The product of some axes of t as a C expression: "D0 * 4096". */
const char *emit_numel_str(UeajCtx *ctx, const IrTensor *t, int from, int to)
{
    int64_t c = 1;
    Buf b;
    buf_init(&b);
    for (int a = from; a < to; a++) {
        if (t->shape[a].dyn >= 0) buf_printf(&b, "%sD%d", b.len ? " * " : "", t->shape[a].dyn);
        else c *= t->shape[a].c;
    }
    if (c != 1 || !b.len) buf_printf(&b, "%s%lld", b.len ? " * " : "", (long long)c);
    const char *r = arena_strdup(&ctx->arena, b.p);
    buf_free(&b);
    return r;
}

static bool uses_dyn(const IrGraph *g) { return g->ndyn > 0; }

static void kernel_params(Buf *b, const Dialect *d, const IrGraph *g, const IrNode *n)
{
    int np = 0;
    if (uses_dyn(g)) { buf_puts(b, "const int64_t *dyn"); np++; }
    for (int k = 0; k < n->nin; k++)
        buf_printf(b, "%sconst %s *%s a%d", np++ ? ", " : "", d->type_name(n->in[k]->dtype), d->restrict_kw, k);
    buf_printf(b, "%s%s *%s out", np ? ", " : "", d->type_name(n->out->dtype), d->restrict_kw);
}

static void kernel_comment(Buf *b, const IrGraph *g, const IrNode *n)
{
    buf_printf(b, "/* k%d: %s", n->id, ir_op_name(n->op));
    if (n->op == OP_CONTRACT) {
        buf_putc(b, ' ');
        for (int k = 0; k < n->nin; k++) buf_printf(b, "%s%s", k ? "," : "", n->in_letters[k]);
        buf_printf(b, "->%s", n->out_letters);
    }
    if (n->origin) { buf_puts(b, "\n *     from: "); emit_comment_text(b, n->origin); }
    if (n->span.src) {
        Span s = span_root(n->span); /* a ueajsum string inside a model file: the file position */
        buf_puts(b, "\n *     at ");
        emit_comment_text(b, s.src->name);
        buf_printf(b, ":%d:%d", s.line, s.col);
    }
    buf_printf(b, "\n *     %s %s", n->out->name, n->accumulate ? "+=" : "=");
    for (int k = 0; k < n->nin; k++)
        buf_printf(b, "%s%s:%s", k ? ", " : " ", n->in[k]->name, dtype_name(n->in[k]->dtype));
    buf_printf(b, " -> %s", dtype_name(n->out->dtype));
    if (n->acc) buf_printf(b, ", accumulate %s", dtype_name(n->acc));
    if (n->has_scale) buf_printf(b, ", divide by sqrt(%.17g)", n->var_prod);
    buf_puts(b, " */\n");
    (void)g;
}

static void emit_dyn_locals(Buf *b, const IrGraph *g)
{
    for (int i = 0; i < g->ndyn; i++) buf_line(b, "const int64_t D%d = dyn[%d]; /* %s */", i, i, g->dyn_names[i]);
}

static int64_t size_guess(IrSize s) { return s.dyn >= 0 ? 512 : s.c; }

/* The streamed schedule (GEMV/GEMM-like projections, ir_stream_operand):
 *     out = -0
 *     for the weight's letters but its last (in its memory order):
 *         for the other letters (e.g. the token n):
 *             for the weight's last letter c:  out[.., c] = fma(x[..], w[.., c], out[.., c])
 * The weight is read once, in order (decode is bound by its bandwidth), the
 * innermost loop is contiguous in the weight and the output (it
 * vectorises), and every output element sums its products in the same order
 * as the plain schedule, so both give bit-identical results.  A plain
 * matrix product (ir_matmul_split) calls the prelude's ueaj_matmul_*
 * instead: the same sums in the same order, register-blocked, reading a
 * weight in column panels when pass_layout packed it. */
static void emit_contract_stream(UeajCtx *ctx, Buf *b, const Dialect *d, const IrNode *n, int w)
{
    const char *L = n->in_letters[w];
    int len = (int)strlen(L);
    /* A thread team costs a few microseconds per kernel: worth it only when
     * the weight is big (2 MB and up: the large projections of a 1B model)
     * or several tokens share it.  Measured on the 2-core machine: two
     * threads on every projection made SmolLM2 decode twice as slow. */
    int64_t wbytes = (int64_t)dtype_size(n->in[w]->dtype);
    for (int a = 0; a < n->in[w]->rank; a++) wbytes *= size_guess(n->in[w]->shape[a]);
    int nn, nr;
    if (ir_matmul_split(n, w, &nn, &nr)) {
        const IrTensor *W = n->in[w];
        const char *gN = emit_numel_str(ctx, n->in[1 - w], 0, nn), *gR = emit_numel_str(ctx, W, 0, nr),
                   *gO = emit_numel_str(ctx, W, nr, W->rank);
        buf_line(b, "/* a matrix product: out[%s, %s] = x[%s, %s] . w[%s, %s]%s */", gN, gO, gN, gR, gR, gO,
                 W->pack ? ", w in column panels" : "");
        buf_line(b, "ueaj_matmul_%s(%s, %s, %s, a%d, a%d, out, %s, %d);", dtype_name(W->dtype), gN, gR, gO, 1 - w, w,
                 wbytes >= (2 << 20) ? "1" : arena_printf(&ctx->arena, "%s > 1", gN), W->pack);
        return;
    }
    UEAJ_ASSERT(!n->in[w]->pack);
    char order[2 * IR_MAX_RANK + 1];
    int no = 0;
    for (int i = 0; i < len - 1; i++) order[no++] = L[i];
    const char *others[2] = {n->out_letters, n->in_letters[1 - w]};
    for (int q = 0; q < 2; q++)
        for (const char *p = others[q]; *p; p++)
            if (!strchr(L, *p) && !memchr(order, *p, (size_t)no)) order[no++] = *p;
    order[no++] = L[len - 1];
    order[no] = 0;
    const char *total = emit_numel_str(ctx, n->out, 0, n->out->rank);
    const char *ext0[1] = {total};
    d->open_parallel(b, "o", ext0, 1);
    buf_line(b, "out[i_o] = %s; /* -0, the identity of + */", n->acc == DT_F64 ? "-0.0" : "-0.0f");
    d->close_parallel(b, 1);
    /* threads split the weight's first output letter: each reads its own
     * contiguous part of every weight row and writes its own outputs */
    char par = 0;
    for (int i = 0; i < len && !par; i++)
        if (strchr(n->out_letters, L[i])) par = L[i];
    const char *cond = wbytes >= (2 << 20) ? NULL : arena_printf(&ctx->arena, "%s > 1", emit_numel_str(ctx, n->out, 0, 1));
    d->split_open(b, par, emit_size_str(ctx, n->lsize[(unsigned char)par]), cond);
    for (int i = 0; i < no; i++) {
        if (order[i] == par) {
            buf_open(b, "for (int64_t i_%c = lo_%c; i_%c < hi_%c; i_%c++) {", par, par, par, par, par);
            continue;
        }
        char e[64];
        snprintf(e, sizeof e, "%s", emit_size_str(ctx, n->lsize[(unsigned char)order[i]]));
        buf_open(b, "for (int64_t i_%c = 0; i_%c < %s; i_%c++) {", order[i], order[i], e, order[i]);
    }
    Buf idx, xi, wi;
    buf_init(&idx);
    buf_init(&xi);
    buf_init(&wi);
    index_expr(&idx, n->out, n->out_letters, n);
    index_expr(&xi, n->in[1 - w], n->in_letters[1 - w], n);
    index_expr(&wi, n->in[w], L, n);
    const char *cast = n->acc == DT_F64 ? "(double)" : "";
    buf_line(b, "out[%s] = %s(%sld_%s(a%d[%s]), %sld_%s(a%d[%s]), out[%s]);", idx.p, n->acc == DT_F64 ? "fma" : "fmaf",
             n->in[1 - w]->dtype == DT_F64 ? "" : cast, dtype_name(n->in[1 - w]->dtype), 1 - w, xi.p,
             n->in[w]->dtype == DT_F64 ? "" : cast, dtype_name(n->in[w]->dtype), w, wi.p, idx.p);
    buf_free(&idx);
    buf_free(&xi);
    buf_free(&wi);
    for (int i = 0; i < no; i++) buf_close(b, "}");
    d->split_close(b);
}

static void emit_contract(UeajCtx *ctx, Buf *b, const Dialect *d, const IrGraph *g, const IrNode *n)
{
    int w = ir_stream_operand(n);
    if (w >= 0) { emit_contract_stream(ctx, b, d, n, w); return; }
    const char *acct = d->type_name(n->acc);
    /* the summed letters: in some operand, not in the output; first-appearance order */
    char red[128];
    int nred = 0;
    for (int k = 0; k < n->nin; k++)
        for (const char *p = n->in_letters[k]; *p; p++)
            if (!strchr(n->out_letters, *p) && !memchr(red, *p, (size_t)nred)) red[nred++] = *p;
    int nout = (int)strlen(n->out_letters);
    const char *ext[IR_MAX_RANK];
    for (int a = 0; a < nout; a++) ext[a] = emit_size_str(ctx, n->lsize[(unsigned char)n->out_letters[a]]);
    d->open_parallel(b, n->out_letters, ext, nout);
    buf_line(b, "%s acc = %s; /* -0, the identity of +: keeps the sign of a lone -0 */", acct, n->acc == DT_F64 ? "-0.0" : "-0.0f");
    for (int r = 0; r < nred; r++) {
        Buf e;
        buf_init(&e);
        size_expr(&e, n->lsize[(unsigned char)red[r]]);
        buf_open(b, "for (int64_t i_%c = 0; i_%c < %s; i_%c++) {", red[r], red[r], e.p, red[r]);
        buf_free(&e);
    }
    /* acc += a0 * .. * a(k-2) * a(k-1), the last product fused: fma(a0 * .., a(k-1), acc) */
    Buf rhs;
    buf_init(&rhs);
    for (int k = 0; k < n->nin; k++) {
        if (k) buf_puts(&rhs, k == n->nin - 1 ? ", " : " * ");
        if (n->acc == DT_F64 && n->in[k]->dtype != DT_F64) buf_puts(&rhs, "(double)");
        buf_printf(&rhs, "ld_%s(a%d[", dtype_name(n->in[k]->dtype), k);
        index_expr(&rhs, n->in[k], n->in_letters[k], n);
        buf_puts(&rhs, "])");
    }
    if (n->nin == 0) buf_puts(&rhs, "1");
    if (n->nin >= 2) buf_line(b, "acc = %s(%s, acc);", n->acc == DT_F64 ? "fma" : "fmaf", rhs.p);
    else buf_line(b, "acc += %s;", rhs.p);
    buf_free(&rhs);
    for (int r = 0; r < nred; r++) buf_close(b, "}");
    if (n->has_scale) {
        Buf lit;
        buf_init(&lit);
        double div = n->acc == DT_F64 ? sqrt(n->var_prod) : (double)sqrtf((float)n->var_prod);
        emit_float_lit(&lit, div, n->acc);
        buf_line(b, "acc = acc / %s;", lit.p);
        buf_free(&lit);
    }
    Buf idx;
    buf_init(&idx);
    index_expr(&idx, n->out, n->out_letters, n);
    const char *ot = dtype_name(n->out->dtype);
    const char *sfx = n->acc == DT_F64 && n->out->dtype != DT_F64 ? "_d" : "";
    if (n->accumulate)
        buf_line(b, "out[%s] = st_%s%s(ld_%s(out[%s]) + acc);", idx.p, ot, sfx, ot, idx.p);
    else
        buf_line(b, "out[%s] = st_%s%s(acc);", idx.p, ot, sfx);
    buf_free(&idx);
    d->close_parallel(b, nout);
}

static void emit_cast(UeajCtx *ctx, Buf *b, const Dialect *d, const IrGraph *g, const IrNode *n)
{
    const char *total[IR_MAX_RANK];
    const IrTensor *t = n->out;
    for (int a = 0; a < t->rank; a++) total[a] = emit_size_str(ctx, t->shape[a]);
    char letters[IR_MAX_RANK + 1];
    for (int a = 0; a < t->rank; a++) letters[a] = (char)('a' + a);
    letters[t->rank] = 0;
    d->open_parallel(b, letters, total, t->rank);
    Buf idx;
    buf_init(&idx);
    index_expr(&idx, t, letters, n);
    const char *sfx = n->in[0]->dtype == DT_F64 && t->dtype != DT_F64 ? "_d" : "";
    buf_line(b, "out[%s] = st_%s%s(ld_%s(a0[%s]));", idx.p, dtype_name(t->dtype), sfx,
             dtype_name(n->in[0]->dtype), idx.p);
    buf_free(&idx);
    d->close_parallel(b, t->rank);
}

/* The plan table: names are escaped C strings (user text never becomes code). */
static void emit_plan(Buf *b, const IrGraph *g)
{
    buf_putc(b, '\n');
    buf_line(b, "const int ueaj_plan_version = 1;");
    buf_line(b, "const int ueaj_plan_ndims = %d;", g->ndyn);
    buf_printf(b, "const char *const ueaj_plan_dim_names[%d] = {", g->ndyn ? g->ndyn : 1);
    for (int i = 0; i < g->ndyn; i++) {
        if (i) buf_puts(b, ", ");
        buf_c_string(b, g->dyn_names[i]);
    }
    buf_puts(b, g->ndyn ? "};\n" : "0};\n");
    buf_line(b, "const int ueaj_plan_ntensors = %d;", g->tensors.n);
    buf_open(b, "const ueaj_plan_tensor ueaj_plan_tensors[%d] = {", g->tensors.n ? g->tensors.n : 1);
    for (int i = 0; i < g->tensors.n; i++) {
        const IrTensor *t = g->tensors.v[i];
        buf_printf(b, "%*s{", 4 * b->indent, "");
        buf_c_string(b, t->name);
        buf_printf(b, ", %d, \"%s\", %d, {", (int)t->kind, dtype_name(t->dtype), t->rank);
        for (int a = 0; a < t->rank; a++)
            buf_printf(b, "%s%lld", a ? ", " : "", t->shape[a].dyn >= 0 ? -1LL - t->shape[a].dyn : (long long)t->shape[a].c);
        buf_puts(b, t->rank ? "}, " : "0}, ");
        if (t->load_name) {
            buf_c_string(b, t->load_name);
            buf_printf(b, ", %d, {", t->load_rank);
            for (int a = 0; a < t->load_rank; a++) buf_printf(b, "%s%lld", a ? ", " : "", (long long)t->load_shape[a]);
            buf_puts(b, "}, {");
            for (int a = 0; a < t->load_rank; a++) buf_printf(b, "%s%d", a ? ", " : "", t->load_perm[a]);
            buf_printf(b, "}, %d, %d},\n", t->pack, t->pack_nr);
        } else {
            buf_printf(b, "0, 0, {0}, {0}, %d, %d},\n", t->pack, t->pack_nr);
        }
    }
    buf_close(b, "};");
}

/* `--emit=c-kernels`: the generated source without its fixed prelude. */
const char *emit_skip_prelude(const char *src)
{
    const char *p = strstr(src, "\n/* Buffers (index");
    return p ? p + 1 : src;
}

char *emit_source(UeajCtx *ctx, const IrGraph *g, const Dialect *d)
{
    Buf b;
    buf_init(&b);
    Buf srcname;
    buf_init(&srcname);
    emit_comment_text(&srcname, g->source_text ? g->source_text : g->name);
    const char *keys[] = {"VERSION", "SOURCE"};
    const char *vals[] = {UEAJC_VERSION, srcname.p ? srcname.p : ""};
    emit_template(&b, d->prelude, keys, vals, 2);
    buf_free(&srcname);
    buf_putc(&b, '\n');
    buf_line(&b, "/* Buffers (index: tensor, shape, dtype): */");
    for (int i = 0; i < g->tensors.n; i++) {
        const IrTensor *t = g->tensors.v[i];
        buf_printf(&b, "/*   bufs[%d]: ", t->id);
        emit_comment_text(&b, t->name);
        buf_puts(&b, " [");
        for (int a = 0; a < t->rank; a++) { if (a) buf_puts(&b, ", "); size_expr(&b, t->shape[a]); }
        buf_printf(&b, "] %s */\n", dtype_name(t->dtype));
    }
    for (int i = 0; i < g->nodes.n; i++) {
        const IrNode *n = g->nodes.v[i];
        buf_putc(&b, '\n');
        kernel_comment(&b, g, n);
        buf_printf(&b, "%s k%d(", d->kernel_qual, n->id);
        kernel_params(&b, d, g, n);
        buf_puts(&b, ")\n");
        buf_open(&b, "{");
        if (uses_dyn(g)) emit_dyn_locals(&b, g);
        switch (n->op) {
        case OP_CONTRACT: emit_contract(ctx, &b, d, g, n); break;
        case OP_CAST: emit_cast(ctx, &b, d, g, n); break;
        default: emit_builtin(ctx, &b, d, g, n); break;
        }
        buf_close(&b, "}");
    }
    buf_putc(&b, '\n');
    buf_line(&b, "/* Runs every kernel in order.  bufs[i] is tensor i (see the table above). */");
    buf_line(&b, "%s", d->entry_decl);
    buf_open(&b, "{");
    if (!uses_dyn(g)) buf_line(&b, "(void)dyn;");
    for (int i = 0; i < g->nodes.n; i++) {
        const IrNode *n = g->nodes.v[i];
        Buf call;
        buf_init(&call);
        buf_printf(&call, "k%d(", n->id);
        int np = 0;
        if (uses_dyn(g)) { buf_puts(&call, "dyn"); np++; }
        for (int k = 0; k < n->nin; k++)
            buf_printf(&call, "%s(const %s *)bufs[%d]", np++ ? ", " : "", d->type_name(n->in[k]->dtype), n->in[k]->id);
        buf_printf(&call, "%s(%s *)bufs[%d]);", np ? ", " : "", d->type_name(n->out->dtype), n->out->id);
        buf_line(&b, "%s", call.p);
        buf_free(&call);
    }
    buf_close(&b, "}");
    emit_plan(&b, g);
    return buf_take(&b);
}
