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
#include <stdlib.h>
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

const char *emit_storage_type(DType t)
{
    switch (t) {
    case DT_F32: return "float";
    case DT_F64: return "double";
    case DT_F16: case DT_BF16: return "uint16_t";
    case DT_F8E4M3: case DT_F8E5M2: return "uint8_t";
    case DT_I32: return "int32_t";
    default: ueaj_unreachable();
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

/* A float literal that reads well and round-trips: "2.0f", "0.125f".  A
 * non-finite value (a model file may write 1e999) is a constant
 * expression, as C and CUDA have no literal for it: "(-1.0f / 0.0f)". */
void emit_float_lit(Buf *b, double v, DType acc)
{
    const char *f = acc == DT_F64 ? "" : "f";
    if (isnan(v)) { buf_printf(b, "(0.0%s / 0.0%s)", f, f); return; }
    if (isinf(v)) { buf_printf(b, "(%s1.0%s / 0.0%s)", v < 0 ? "-" : "", f, f); return; }
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

const char *emit_numel_div8(UeajCtx *ctx, const IrTensor *t)
{
    int64_t c = 1;
    for (int a = 0; a < t->rank; a++)
        if (t->shape[a].dyn < 0) c *= t->shape[a].c;
    if (c % 8 != 0 || c == 0) return NULL;
    Buf e;
    buf_init(&e);
    for (int a = 0; a < t->rank; a++)
        if (t->shape[a].dyn >= 0) buf_printf(&e, "%s%s", e.len ? " * " : "", emit_size_str(ctx, t->shape[a]));
    if (c / 8 != 1 || !e.len) buf_printf(&e, "%s%lld", e.len ? " * " : "", (long long)(c / 8));
    const char *r = arena_strdup(&ctx->arena, e.p);
    buf_free(&e);
    return r;
}

bool emit_vec8_type(DType t) { return t == DT_F32 || t == DT_BF16 || t == DT_F16 || t == DT_F8E4M3 || t == DT_F8E5M2; }

void emit_vec8_open(Buf *b, const Dialect *d, KernelGeom *kg, const char *v8)
{
    d->open_parallel(b, kg, "v", &v8, 1);
    snprintf(kg->how, sizeof kg->how, "a grid-stride loop over %s groups of 8 consecutive elements, one per thread "
             "(vector loads and stores)", v8);
}

static bool uses_dyn(const IrGraph *g) { return g->ndyn > 0; }

static void kernel_params(Buf *b, const Dialect *d, const IrGraph *g, const IrNode *n, const IrTensor *copy)
{
    int np = 0;
    if (uses_dyn(g) || d->dims_always) { buf_puts(b, d->dims_param); np++; }
    for (int k = 0; k < n->nin; k++)
        buf_printf(b, "%sconst %s *%s a%d", np++ ? ", " : "", d->type_name(n->in[k]->dtype), d->restrict_kw, k);
    buf_printf(b, "%s%s *%s out", np ? ", " : "", d->type_name(n->out->dtype), d->restrict_kw);
    if (copy) buf_printf(b, ", %s *%s outc", d->type_name(copy->dtype), d->restrict_kw);
}

static void kernel_comment(Buf *b, const IrGraph *g, const IrNode *n, const char *kname, const KernelGeom *kg,
                           const IrTensor *copy)
{
    buf_printf(b, "/* %s: %s", kname, ir_op_name(n->op));
    if (n->op == OP_CONTRACT) {
        buf_putc(b, ' ');
        for (int k = 0; k < n->nin; k++) buf_printf(b, "%s%s", k ? "," : "", n->in_letters[k]);
        buf_printf(b, "->%s", n->out_letters);
    }
    if (n->origin) { buf_puts(b, "\n *     from: "); emit_comment_text(b, n->origin); }
    if (n->op == OP_FUSED) { /* what the fused chain computes, per element */
        Buf e;
        buf_init(&e);
        ir_fused_expr(&e, n);
        buf_printf(b, "\n *     per element, %s = the last of: ", n->out->name);
        emit_comment_text(b, e.p);
        buf_free(&e);
    }
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
    if (kg && kg->grid[0])
        buf_printf(b, "\n *     launch: grid (%s, 1, 1), block (%s, 1, 1), shared %s bytes: %s", kg->grid, kg->block,
                   kg->smem, kg->how);
    if (copy) {
        buf_puts(b, "\n *     also stores ");
        emit_comment_text(b, copy->name);
        buf_puts(b, ": ");
        emit_comment_text(b, n->out->name);
        buf_printf(b, " rounded to %s for a cuBLASLt matmul (no cast kernel)", dtype_name(copy->dtype));
    }
    buf_puts(b, " */\n");
    (void)g;
}

static void emit_dyn_locals(Buf *b, const Dialect *d, const IrGraph *g)
{
    for (int i = 0; i < g->ndyn; i++)
        buf_line(b, "const int64_t D%d = %s[%d]; /* %s */", i, d->dims_array, i, g->dyn_names[i]);
}

/* A size for heuristics (run-time dims count as 512), in double: a product
 * of eight large axes overflows int64, and a guess needs no exactness. */
static double size_guess(IrSize s) { return s.dyn >= 0 ? 512.0 : (double)s.c; }
static bool size_same(IrSize a, IrSize b) { return a.dyn == b.dyn && (a.dyn >= 0 || a.c == b.c); }

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
static void emit_contract_stream(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrNode *n, int w)
{
    const char *L = n->in_letters[w];
    int len = (int)strlen(L);
    /* A thread team costs a few microseconds per kernel: worth it only when
     * the weight is big (2 MB and up: the large projections of a 1B model)
     * or several tokens share it.  Measured on the 2-core machine: two
     * threads on every projection made SmolLM2 decode twice as slow. */
    double wbytes = (double)dtype_size(n->in[w]->dtype);
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
    d->open_parallel(b, kg, "o", ext0, 1);
    buf_line(b, "out[i_o] = %s; /* -0, the identity of + */", n->acc == DT_F64 ? "-0.0" : "-0.0f");
    d->close_parallel(b, 1);
    /* threads split the weight's first output letter: each reads its own
     * contiguous part of every weight row and writes its own outputs */
    char par = 0;
    for (int i = 0; i < len && !par; i++)
        if (strchr(n->out_letters, L[i])) par = L[i];
    const char *cond = wbytes >= (2 << 20) ? NULL : arena_printf(&ctx->arena, "%s > 1", emit_numel_str(ctx, n->out, 0, 1));
    d->split_open(b, kg, par, emit_size_str(ctx, n->lsize[(unsigned char)par]), cond);
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

static void emit_contract(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrGraph *g, const IrNode *n)
{
    int w = d->streamed ? ir_stream_operand(n) : -1;
    if (w >= 0) { emit_contract_stream(ctx, b, d, kg, n, w); return; }
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
    d->open_parallel(b, kg, n->out_letters, ext, nout);
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

static void emit_cast(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrGraph *g, const IrNode *n)
{
    const char *total[IR_MAX_RANK];
    const IrTensor *t = n->out;
    const char *v8 = d->vec8 && emit_vec8_type(t->dtype) && emit_vec8_type(n->in[0]->dtype) ? emit_numel_div8(ctx, t) : NULL;
    if (v8) { /* both row-major with the same shape: 8 consecutive elements per thread */
        emit_vec8_open(b, d, kg, v8);
        buf_line(b, "float v_[8];");
        buf_line(b, "ldv8_%s(a0 + i_v * 8, v_);", dtype_name(n->in[0]->dtype));
        buf_line(b, "stv8_%s(out + i_v * 8, v_);", dtype_name(t->dtype));
        d->close_parallel(b, 1);
        return;
    }
    for (int a = 0; a < t->rank; a++) total[a] = emit_size_str(ctx, t->shape[a]);
    char letters[IR_MAX_RANK + 1];
    for (int a = 0; a < t->rank; a++) letters[a] = (char)('a' + a);
    letters[t->rank] = 0;
    d->open_parallel(b, kg, letters, total, t->rank);
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

/* ---- the CUDA plan (runtime/cuda_plan.h, format 1) ---------------------- */

/* While the kernels are written: the plan's steps, and the tensors the plan
 * adds to the IR's (bf16/f16 copies of activations for cuBLASLt). */
#define CUDA_MAX_USES 64 /* operands of one kernel, and its output */

typedef struct PlanState {
    Buf steps;
    Buf extra;
    int next_id;
    int *copy_bf16, *copy_f16; /* per IR tensor: its rounded copy's index, or 0 */
    DType *want;               /* per IR tensor: the dtype of the copy a later matmul reads (DT_NONE: none) */
    PtrVec copies;             /* IrTensor *: the rounded copies, ids from g->tensors.n on */
    PtrVec uses;               /* MemStep *: what each plan step reads and writes, for memplan.c */
} PlanState;

/* Records a plan step's reads and writes (tensor ids), for the share records. */
static void step_uses(UeajCtx *ctx, PlanState *ps, const int *r, int nr, const int *w, int nw)
{
    MemStep *m = ARENA_NEW(&ctx->arena, MemStep);
    int *rv = ARENA_ARRAY(&ctx->arena, int, nr + 1), *wv = ARENA_ARRAY(&ctx->arena, int, nw + 1);
    memcpy(rv, r, sizeof(int) * (size_t)nr);
    memcpy(wv, w, sizeof(int) * (size_t)nw);
    *m = (MemStep){.reads = rv, .nreads = nr, .writes = wv, .nwrites = nw};
    vec_push(&ctx->arena, &ps->uses, m);
}

/* The plan's `share IDX ROOT` records: temps whose steps do not overlap
 * use one allocation (memplan.c), over every plan tensor, copies included. */
static void plan_shares(UeajCtx *ctx, Buf *plan, const IrGraph *g, PlanState *ps)
{
    int nt = ps->next_id;
    const IrTensor **all = ARENA_ARRAY(&ctx->arena, const IrTensor *, nt + 1);
    for (int i = 0; i < g->tensors.n; i++) all[i] = g->tensors.v[i];
    for (int i = 0; i < ps->copies.n; i++) {
        const IrTensor *t = ps->copies.v[i];
        all[t->id] = t;
    }
    MemStep *steps = ARENA_ARRAY(&ctx->arena, MemStep, ps->uses.n + 1);
    for (int s = 0; s < ps->uses.n; s++) steps[s] = *(const MemStep *)ps->uses.v[s];
    int *root = ARENA_ARRAY(&ctx->arena, int, nt + 1);
    mem_share(ctx, all, nt, steps, ps->uses.n, root);
    for (int i = 0; i < nt; i++)
        if (root[i] != i) buf_printf(plan, "share %d %d\n", i, root[i]);
}

static const char *const kind_names[] = {"input", "param", "output", "temp", "state"};

/* A plan name: bytes outside [A-Za-z0-9._/-] become %XX. */
static void plan_name(Buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("._/-", *p))
            buf_putc(b, (char)*p);
        else
            buf_printf(b, "%%%02X", *p);
    }
}

/* config KEY num|bool|str|absent [VALUE]: the config.json fields the model
 * file read, with their values (a str VALUE is '=' then the escaped text). */
static void plan_config(Buf *b, const IrGraph *g)
{
    for (int i = 0; i < g->config_reads.n; i++) {
        const IrConfigRead *c = g->config_reads.v[i];
        buf_puts(b, "config ");
        plan_name(b, c->key);
        switch (c->kind) {
        case CFG_NUM: buf_printf(b, " num %.17g\n", c->num); break;
        case CFG_BOOL: buf_printf(b, " bool %s\n", c->num != 0 ? "true" : "false"); break;
        case CFG_STR: buf_puts(b, " str ="); plan_name(b, c->str); buf_putc(b, '\n'); break;
        case CFG_ABSENT: buf_puts(b, " absent\n"); break;
        }
    }
}

static void plan_tensor(Buf *b, bool lookup, const IrTensor *t, int id)
{
    buf_printf(b, "tensor %d ", id);
    plan_name(b, t->name);
    buf_printf(b, " %s %s %d", kind_names[t->kind], dtype_name(t->dtype), t->rank);
    for (int a = 0; a < t->rank; a++) {
        if (t->shape[a].dyn >= 0) buf_printf(b, " d%d", t->shape[a].dyn);
        else buf_printf(b, " %lld", (long long)t->shape[a].c);
    }
    buf_putc(b, '\n');
    if (t->kind == TEN_PARAM && t->load_name) {
        buf_printf(b, "load %d ", id);
        plan_name(b, t->load_name);
        buf_printf(b, " %d", t->load_rank);
        for (int a = 0; a < t->load_rank; a++) buf_printf(b, " %lld", (long long)t->load_shape[a]);
        buf_puts(b, " perm");
        for (int a = 0; a < t->load_rank; a++) buf_printf(b, " %d", t->has_perm ? t->load_perm[a] : a);
        buf_putc(b, '\n');
    }
    if (lookup && t->kind == TEN_PARAM) /* bandwidth figures leave it out */ buf_printf(b, "lookup %d\n", id);
}

void emit_plan_expr(char *out, size_t outlen, const char *const *ext, int n, int div)
{
    Buf e;
    buf_init(&e);
    long long c = 1;
    for (int i = 0; i < n; i++) {
        for (const char *p = ext[i]; *p;) {
            if (*p == ' ' || *p == '*') { p++; continue; }
            char *end;
            if (*p == 'D') {
                long k = strtol(p + 1, &end, 10);
                UEAJ_ASSERT(end != p + 1);
                buf_printf(&e, "%sd%ld", e.len ? "*" : "", k);
            } else {
                long long v = strtoll(p, &end, 10);
                UEAJ_ASSERT(end != p);
                c *= v;
            }
            p = end;
        }
    }
    if (c != 1 || !e.len) {
        Buf t;
        buf_init(&t);
        buf_printf(&t, "%lld%s%s", c, e.len ? "*" : "", e.len ? e.p : "");
        buf_free(&e);
        e = t;
    }
    if (div > 1) buf_printf(&e, "/%d", div);
    UEAJ_ASSERT(e.len < outlen);
    memcpy(out, e.p, e.len + 1);
    buf_free(&e);
}

/* A product of sizes as an EXPR. */
static const char *sizes_expr(UeajCtx *ctx, const IrSize *f, int nf)
{
    const char *ext[3 * IR_MAX_RANK];
    for (int i = 0; i < nf; i++) ext[i] = emit_size_str(ctx, f[i]);
    char out[256];
    emit_plan_expr(out, sizeof out, ext, nf, 1);
    return arena_strdup(&ctx->arena, out);
}

/* A contraction that cuBLASLt can do:  out[B.., N.., O..] = x[B.., N.., R..]
 * . w[B.., R.., O..] with w a parameter, every tensor contiguous row-major
 * in those letter groups, no broadcast, no repeated letter, f32 output and
 * accumulation, no variance division and no '+=' term.  Row-major out[N, O]
 * is column-major out^T[O, N] = w^T[O, R] . x^T[R, N]: cuBLASLt's A is w
 * (m = O, k = R, lda = O), B is x (n = N, ldb = R), D is out (ldd = O); the
 * B letters are the batch.  cuBLASLt wants A and B of one type, so an f32
 * x with a bf16/f16 w is first rounded to a copy in w's type (*cast). */
typedef struct GemmMatch {
    int w;                     /* which operand is the weight */
    bool cast;                 /* x needs a copy in w's dtype */
    const char *m, *n, *k, *batch, *sa, *sb, *sd;
} GemmMatch;

static bool gemm_match(UeajCtx *ctx, const IrNode *n, GemmMatch *gm)
{
    if (n->op != OP_CONTRACT || n->nin != 2 || n->accumulate || n->has_scale) return false;
    if (n->acc != DT_F32 || n->out->dtype != DT_F32) return false;
    int w = n->in[1]->kind == TEN_PARAM ? 1 : n->in[0]->kind == TEN_PARAM ? 0 : -1;
    if (w < 0) return false;
    const IrTensor *X = n->in[1 - w], *W = n->in[w];
    DType wt = W->dtype, xt = X->dtype;
    if (wt != DT_F32 && wt != DT_BF16 && wt != DT_F16) return false;
    if (xt != wt && xt != DT_F32) return false;
    const char *ls[3] = {n->in_letters[1 - w], n->in_letters[w], n->out_letters};
    const IrTensor *ts[3] = {X, W, n->out};
    /* class of a letter: 0 B (all three), 1 N (x, out), 2 R (x, w), 3 O (w, out) */
    int cls[128];
    for (int c = 0; c < 128; c++) cls[c] = -1;
    for (int t = 0; t < 3; t++)
        for (const char *p = ls[t]; *p; p++) {
            if (strchr(p + 1, *p)) return false;
            bool inx = strchr(ls[0], *p), inw = strchr(ls[1], *p), ino = strchr(ls[2], *p);
            int c = inx && inw && ino ? 0 : inx && ino ? 1 : inx && inw ? 2 : inw && ino ? 3 : -1;
            if (c < 0) return false;
            cls[(unsigned char)*p] = c;
        }
    /* each tensor's letters in class order, and the groups in the same order everywhere */
    static const int allowed[3][3] = {{0, 1, 2}, {0, 2, 3}, {0, 1, 3}};
    char seq[3][4][IR_MAX_RANK + 1];
    memset(seq, 0, sizeof seq);
    for (int t = 0; t < 3; t++) {
        int last = 0;
        for (const char *p = ls[t]; *p; p++) {
            int c = cls[(unsigned char)*p];
            if (c < last) return false;
            last = c;
            size_t l = strlen(seq[t][c]);
            seq[t][c][l] = *p;
        }
        for (int c = 0; c < 4; c++)
            if (seq[t][c][0] && c != allowed[t][0] && c != allowed[t][1] && c != allowed[t][2]) return false;
        for (int a = 0; a < ts[t]->rank; a++)
            if (!size_same(ts[t]->shape[a], n->lsize[(unsigned char)ls[t][a]])) return false;
    }
    if (strcmp(seq[0][0], seq[1][0]) || strcmp(seq[0][0], seq[2][0]) || strcmp(seq[0][1], seq[2][1]) ||
        strcmp(seq[0][2], seq[1][2]) || strcmp(seq[1][3], seq[2][3]) || !seq[0][2][0])
        return false;
    IrSize f[4][IR_MAX_RANK];
    int nf[4] = {0, 0, 0, 0};
    for (int c = 0; c < 4; c++)
        for (const char *p = seq[c == 3 ? 1 : 0][c]; *p; p++) f[c][nf[c]++] = n->lsize[(unsigned char)*p];
    IrSize two[2 * IR_MAX_RANK];
    gm->w = w;
    gm->cast = xt != wt;
    gm->m = sizes_expr(ctx, f[3], nf[3]);
    gm->n = sizes_expr(ctx, f[1], nf[1]);
    gm->k = sizes_expr(ctx, f[2], nf[2]);
    gm->batch = sizes_expr(ctx, f[0], nf[0]);
    int pairs[3][2] = {{2, 3}, {1, 2}, {1, 3}}; /* sa = R*O, sb = N*R, sd = N*O */
    const char **dst[3] = {&gm->sa, &gm->sb, &gm->sd};
    for (int q = 0; q < 3; q++) {
        int k = 0;
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < nf[pairs[q][h]]; i++) two[k++] = f[pairs[q][h]][i];
        *dst[q] = nf[0] ? sizes_expr(ctx, two, k) : "0";
    }
    return true;
}

/* ---- kernels --------------------------------------------------------------- */

/* A plan tensor: X rounded to dt (the B operand cuBLASLt reads with a
 * weight of type dt), registered so that every later matmul finds it. */
static IrTensor *new_copy(UeajCtx *ctx, PlanState *ps, const IrTensor *X, DType dt)
{
    IrTensor *t = ARENA_NEW(&ctx->arena, IrTensor);
    *t = *X;
    t->id = ps->next_id++;
    t->kind = TEN_TEMP;
    t->dtype = dt;
    t->name = arena_printf(&ctx->arena, "%s.%s", X->name, dtype_name(dt));
    t->load_name = NULL;
    plan_tensor(&ps->extra, false, t, t->id);
    vec_push(&ctx->arena, &ps->copies, t);
    (dt == DT_BF16 ? ps->copy_bf16 : ps->copy_f16)[X->id] = t->id;
    return t;
}

/* Ops whose kernels route every store of their output through emit_ops.c's
 * store(), and so can also write the rounded copy a matmul reads. */
static bool stores_copy(const IrNode *n)
{
    return n->op == OP_RMSNORM || n->op == OP_FUSED || n->op == OP_ATTENTION || ir_is_elementwise(n->op);
}

/* One kernel: its comment (with the launch geometry in CUDA), signature and
 * body; in CUDA also its launch record.  When a later cuBLASLt matmul reads
 * n's output rounded to bf16/f16 (ps->want) and n's kernel can write that
 * copy as it stores (stores_copy), the kernel takes it as `outc` and the
 * matmul needs no cast kernel: one launch and one pass over the tensor
 * fewer, the same values (st_T of the f32 value stored).  --no-fuse keeps
 * the cast kernels. */
static void emit_kernel(UeajCtx *ctx, Buf *b, const Dialect *d, const IrGraph *g, const IrNode *n, const char *kname,
                        PlanState *ps)
{
    Buf body;
    buf_init(&body);
    body.indent = 1;
    KernelGeom kg;
    memset(&kg, 0, sizeof kg);
    const IrTensor *copy = NULL;
    if (ps && ps->want && !ctx->opt.no_fuse && n->out->id < g->tensors.n && ps->want[n->out->id] != DT_NONE &&
        n->out->kind != TEN_STATE && stores_copy(n)) {
        copy = new_copy(ctx, ps, n->out, ps->want[n->out->id]);
        kg.copy = copy->dtype;
    }
    if (uses_dyn(g)) emit_dyn_locals(&body, d, g);
    switch (n->op) {
    case OP_CONTRACT: emit_contract(ctx, &body, d, &kg, g, n); break;
    case OP_CAST: emit_cast(ctx, &body, d, &kg, g, n); break;
    default: emit_builtin(ctx, &body, d, &kg, g, n); break;
    }
    buf_putc(b, '\n');
    kernel_comment(b, g, n, kname, &kg, copy);
    buf_printf(b, "%s %s(", d->kernel_qual, kname);
    kernel_params(b, d, g, n, copy);
    buf_puts(b, ")\n");
    buf_line(b, "{");
    buf_puts(b, body.p ? body.p : "");
    buf_line(b, "}");
    buf_free(&body);
    if (ps) {
        UEAJ_ASSERT(kg.grid[0]);
        buf_printf(&ps->steps, "launch %s %s 1 1 %s 1 1 %s %d", kname, kg.grid, kg.block, kg.smem,
                   n->nin + 1 + (copy != NULL));
        for (int k = 0; k < n->nin; k++) buf_printf(&ps->steps, " %d", n->in[k]->id);
        buf_printf(&ps->steps, " %d", n->out->id);
        if (copy) buf_printf(&ps->steps, " %d", copy->id);
        buf_putc(&ps->steps, '\n');
        int r[CUDA_MAX_USES], w[2] = {n->out->id, copy ? copy->id : 0}, nr = 0;
        UEAJ_ASSERT(n->nin < CUDA_MAX_USES); /* a dropped read would let memory be shared too early */
        for (int k = 0; k < n->nin; k++) r[nr++] = n->in[k]->id;
        if (n->accumulate || n->op == OP_CACHE_WRITE) r[nr++] = n->out->id; /* it reads what it adds to */
        step_uses(ctx, ps, r, nr, w, copy ? 2 : 1);
    }
}

/* A contraction that runs as a cuBLASLt matmul: a comment where its kernel
 * would be, the cast kernel it needs (if any), and the plan's gemm record. */
static void emit_gemm(UeajCtx *ctx, Buf *b, const Dialect *d, const IrGraph *g, const IrNode *n, const GemmMatch *gm,
                      PlanState *ps, const IrNode *res)
{
    const IrTensor *X = n->in[1 - gm->w], *W = n->in[gm->w];
    int xid = X->id;
    /* tensors are written once (states aside), so one rounded copy serves every later matmul */
    int *copy = W->dtype == DT_BF16 ? ps->copy_bf16 : ps->copy_f16;
    if (gm->cast && X->kind != TEN_STATE && copy[X->id]) {
        xid = copy[X->id];
    } else if (gm->cast) {
        IrTensor *t = new_copy(ctx, ps, X, W->dtype);
        IrNode *c = ARENA_NEW(&ctx->arena, IrNode);
        c->id = n->id;
        c->op = OP_CAST;
        c->out = t;
        c->nin = 1;
        c->in = ARENA_ARRAY(&ctx->arena, IrTensor *, 1);
        c->in[0] = (IrTensor *)X;
        c->origin = arena_printf(&ctx->arena, "%s: its operand %s rounded to %s for cuBLASLt (A and B of one type)",
                                 n->origin ? n->origin : "a matmul", X->name, dtype_name(W->dtype));
        c->span = n->span;
        emit_kernel(ctx, b, d, g, c, arena_printf(&ctx->arena, "k%d_cast", n->id), ps);
        xid = t->id;
    }
    buf_putc(b, '\n');
    buf_printf(b, "/* k%d: contract ", n->id);
    for (int k = 0; k < n->nin; k++) buf_printf(b, "%s%s", k ? "," : "", n->in_letters[k]);
    buf_printf(b, "->%s: no kernel, a cuBLASLt matmul (the plan's gemm record)", n->out_letters);
    if (gm->cast)
        buf_printf(b, "\n *     B is %s rounded to %s (cuBLASLt wants A and B of one type): the products differ from"
                      "\n *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance",
                   X->name, dtype_name(W->dtype));
    if (n->origin) { buf_puts(b, "\n *     from: "); emit_comment_text(b, n->origin); }
    if (n->span.src) {
        Span s = span_root(n->span);
        buf_puts(b, "\n *     at ");
        emit_comment_text(b, s.src->name);
        buf_printf(b, ":%d:%d", s.line, s.col);
    }
    buf_printf(b, "\n *     %s = %s:%s . %s:%s -> f32, accumulate f32", n->out->name, X->name, dtype_name(X->dtype), W->name,
               dtype_name(W->dtype));
    buf_printf(b, "\n *     column-major: D[m=%s, n=%s] = A[m, k=%s] . B[k, n], A = %s, B = %s%s, batch %s", gm->m,
               gm->n, gm->k, W->name, X->name, gm->cast ? " (its rounded copy)" : "", gm->batch);
    const IrTensor *C = NULL, *D = n->out;
    if (res) { /* the add that reads the product joins the matmul: D = A.B + C in cuBLASLt's epilogue */
        C = res->in[res->in[0] == n->out ? 1 : 0];
        D = res->out;
        buf_puts(b, "\n *     + C = ");
        emit_comment_text(b, C->name);
        buf_printf(b, " (the residual) in cuBLASLt's epilogue, D = ");
        emit_comment_text(b, D->name);
        buf_printf(b, ": the add k%d runs no kernel, and %s is never stored", res->id, n->out->name);
    }
    buf_puts(b, " */\n");
    const char *ty = dtype_name(W->dtype);
    buf_puts(&ps->steps, "gemm ");
    Buf term;
    buf_init(&term);
    buf_printf(&term, "k%d/", n->id);
    for (int k = 0; k < n->nin; k++) buf_printf(&term, "%s%s", k ? "," : "", n->in_letters[k]);
    buf_printf(&term, "->%s", n->out_letters);
    plan_name(&ps->steps, term.p);
    buf_free(&term);
    buf_printf(&ps->steps,
               " a=%d b=%d d=%d ta=n tb=n m=%s n=%s k=%s lda=%s ldb=%s ldd=%s batch=%s sa=%s sb=%s sd=%s"
               " atype=%s btype=%s dtype=f32 compute=f32 alpha=1.0 beta=%s",
               W->id, xid, D->id, gm->m, gm->n, gm->k, gm->m, gm->k, gm->m, gm->batch, gm->sa, gm->sb, gm->sd, ty, ty,
               C ? "1.0" : "0.0");
    if (C) buf_printf(&ps->steps, " c=%d", C->id);
    buf_putc(&ps->steps, '\n');
    int r[3] = {W->id, xid, C ? C->id : 0}, w[1] = {D->id};
    step_uses(ctx, ps, r, C ? 3 : 2, w, 1);
}

/* A matmul at position i whose product only `X + product` (or
 * `product + X`) reads, X ready before it and f32 like the product: that
 * add (returned) becomes the matmul's epilogue, D = A.B + X (the residual
 * stream of a transformer).  NULL when not so, or under --no-fuse. */
/* Per tensor (by id), from one walk over the nodes: how many operand slots
 * read it, the last node reading it and the last writing it (positions,
 * -1: none), and whether only embedding lookups read it (ir_lookup_only). */
typedef struct TensorUse { int reads, reader, writer; bool lookup_only; } TensorUse;

static TensorUse *tensor_uses(UeajCtx *ctx, const IrGraph *g)
{
    TensorUse *u = ARENA_ARRAY(&ctx->arena, TensorUse, g->tensors.n + 1);
    for (int i = 0; i < g->tensors.n; i++) u[i] = (TensorUse){0, -1, -1, true};
    for (int j = 0; j < g->nodes.n; j++) {
        const IrNode *q = g->nodes.v[j];
        for (int k = 0; k < q->nin; k++) {
            TensorUse *x = &u[q->in[k]->id];
            x->reads++;
            x->reader = j;
            if (!(q->op == OP_EMBED && k == 0)) x->lookup_only = false;
        }
        u[q->out->id].writer = j;
    }
    return u;
}

static const IrNode *residual_add(const UeajCtx *ctx, const IrGraph *g, const TensorUse *use, int i)
{
    if (ctx->opt.no_fuse) return NULL;
    const IrNode *n = g->nodes.v[i];
    const IrTensor *T = n->out;
    if (T->kind != TEN_TEMP) return NULL;
    int reads = use[T->id].reads, e = use[T->id].reader;
    const IrNode *E = e >= 0 ? g->nodes.v[e] : NULL;
    if (reads != 1 || e <= i || E->op != OP_ADD || E->accumulate || E->nin != 2 || E->in[0] == E->in[1]) return NULL;
    const IrTensor *X = E->in[E->in[0] == T ? 1 : 0];
    if (X->dtype != DT_F32 || E->out->dtype != DT_F32 || E->out->kind == TEN_STATE || !ir_same_shape(X, T) ||
        !ir_same_shape(E->out, T))
        return NULL;
    if (use[X->id].writer >= i) return NULL; /* X is complete before the matmul runs */
    return E;
}

/* The plan as a C string, one record per line. */
static void emit_plan_string(Buf *b, const char *plan)
{
    buf_putc(b, '\n');
    buf_line(b, "/* The launch plan (runtime/cuda_plan.h, format 1): the tensors, then the steps in order. */");
    emit_string_global(b, "ueaj_plan", plan);
}

void emit_string_global(Buf *b, const char *symbol, const char *text)
{
    buf_printf(b, "extern \"C\" __device__ const char %s[] =\n", symbol);
    if (!*text) buf_puts(b, "    \"\"\n");
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        buf_puts(b, "    \"");
        for (size_t i = 0; i < len; i++) {
            unsigned c = (unsigned char)p[i];
            if (c == '"' || c == '\\' || c == '?' || c < 0x20 || c >= 0x7f) buf_printf(b, "\\%03o", c);
            else buf_putc(b, (char)c);
        }
        buf_puts(b, "\\n\"\n");
        p += len + (e ? 1 : 0);
    }
    buf_puts(b, "    ;\n");
}

char *emit_source_plan(UeajCtx *ctx, const IrGraph *g, const Dialect *d, char **plan_out)
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
    PlanState ps, *psp = d->entry_decl ? NULL : &ps;
    buf_init(&ps.steps);
    buf_init(&ps.extra);
    ps.next_id = g->tensors.n;
    ps.copy_bf16 = ARENA_ARRAY(&ctx->arena, int, g->tensors.n + 1);
    ps.copy_f16 = ARENA_ARRAY(&ctx->arena, int, g->tensors.n + 1);
    ps.want = NULL;
    memset(&ps.copies, 0, sizeof ps.copies);
    memset(&ps.uses, 0, sizeof ps.uses);
    if (d->library_gemm) { /* which outputs a matmul will read rounded (the first such matmul decides the dtype) */
        ps.want = ARENA_ARRAY(&ctx->arena, DType, g->tensors.n + 1);
        for (int i = 0; i <= g->tensors.n; i++) ps.want[i] = DT_NONE;
        for (int i = 0; i < g->nodes.n; i++) {
            const IrNode *n = g->nodes.v[i];
            GemmMatch gm;
            if (!gemm_match(ctx, n, &gm) || !gm.cast) continue;
            const IrTensor *X = n->in[1 - gm.w];
            if (ps.want[X->id] == DT_NONE) ps.want[X->id] = n->in[gm.w]->dtype;
        }
    }
    bool *absorbed = ARENA_ARRAY(&ctx->arena, bool, g->nodes.n + 1); /* adds a matmul's epilogue does */
    TensorUse *use = tensor_uses(ctx, g);
    for (int i = 0; i < g->nodes.n; i++) {
        const IrNode *n = g->nodes.v[i];
        GemmMatch gm;
        if (absorbed[i]) {
            buf_printf(&b, "\n/* k%d: add: no kernel, the epilogue of the matmul before it (D = A.B + C) */\n", n->id);
        } else if (d->library_gemm && gemm_match(ctx, n, &gm)) {
            const IrNode *res = residual_add(ctx, g, use, i);
            emit_gemm(ctx, &b, d, g, n, &gm, &ps, res);
            if (res) absorbed[res->id] = true;
        } else {
            emit_kernel(ctx, &b, d, g, n, arena_printf(&ctx->arena, "k%d", n->id), psp);
        }
    }
    if (d->entry_decl) {
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
    } else {
        Buf plan;
        buf_init(&plan);
        buf_puts(&plan, "ueajc-plan 1\n");
        buf_printf(&plan, "dims %d", g->ndyn);
        for (int i = 0; i < g->ndyn; i++) { buf_putc(&plan, ' '); plan_name(&plan, g->dyn_names[i]); }
        buf_putc(&plan, '\n');
        plan_config(&plan, g);
        for (int i = 0; i < g->tensors.n; i++) plan_tensor(&plan, use[i].lookup_only, g->tensors.v[i], i);
        buf_puts(&plan, ps.extra.p ? ps.extra.p : "");
        plan_shares(ctx, &plan, g, &ps);
        buf_puts(&plan, ps.steps.p ? ps.steps.p : "");
        buf_puts(&plan, "end\n");
        emit_plan_string(&b, plan.p);
        if (plan_out) *plan_out = buf_take(&plan);
        else buf_free(&plan);
    }
    buf_free(&ps.steps);
    buf_free(&ps.extra);
    return buf_take(&b);
}

char *emit_source(UeajCtx *ctx, const IrGraph *g, const Dialect *d)
{
    return emit_source_plan(ctx, g, d, NULL);
}
