/* dialect_cuda.c - the CUDA dialect: parallel axes become a grid.
 *
 * Every kernel is `extern "C" __global__ void kN(UeajDims dims, <one
 * pointer per operand>, <out>)` and runs with blocks of 256 threads.  The
 * parallel (output) loops of a kernel become one flat grid-stride loop over
 * their product: each thread computes whole output elements (or rows, for
 * the row-wise built-ins) with the same sequential code as the C dialect,
 * so a kernel does the same arithmetic in the same order as its C twin.
 * Exceptions: rms_norm and softmax run a block of 256 threads per row that
 * sum (and take the max) with warp shuffles and shared memory
 * (open_row_team; a different summation order, compared with a tolerance);
 * attention runs a block per (query, head) with the keys split over its
 * threads and each tile's weights in shared memory (team_scratch,
 * team_sync; also another summation order).  Elementwise kernels and
 * casts whose element count is a multiple of 8 give each thread 8
 * consecutive elements, loaded and stored through the prelude's ldv8_T /
 * stv8_T (16-byte accesses for bf16 and f16, 8-byte for fp8, two float4
 * for f32; vec8).  rope, embedding, cache writes and last_rows are one
 * thread per element (per pair for rope), so a single token still spreads
 * over the whole grid.
 * Bit-identical results additionally need NVRTC's --fmad=false (no
 * multiply-add contraction; runtime/nvrtc.c passes it) and are limited to
 * what avoids the math library: contractions, casts, + - * /, embedding,
 * cache writes.  expf, sinf, cosf, erff and sqrtf-based built-ins (silu,
 * softmax, rope, attention, rms_norm) use CUDA's own libdevice functions,
 * which may differ from glibc in the last bits: compare those with a
 * tolerance.
 *
 * The launch geometry each kernel needs goes into its KernelGeom (the
 * emitter puts it into the kernel's comment and the plan's launch record):
 * grid = ceil(elements / 256), block = 256, no dynamic shared memory.  A
 * grid of 0 blocks (an empty run-time dim) is the runtime's to skip.
 *
 * Projections (plain, optionally batched, matmuls with a parameter
 * operand) are not kernels at all: library_gemm makes them cuBLASLt
 * records in the plan (emit.c, gemm_match).  Their f32 activation is read
 * through a bf16/f16 copy that the producing kernel stores beside its
 * output (KernelGeom.copy, emit_ops.c's store()) or, failing that, a cast
 * kernel writes; a residual add that alone reads a product becomes the
 * matmul's epilogue (the gemm record's c=, beta=1: emit.c residual_add).
 */
#include <string.h>
#include "dialect.h"

extern const char tmpl_cuda_prelude_cuh[];

#define CUDA_BLOCK 256

/* "(D0 * 64)" where a product needs parentheses, else as it is. */
static void paren(Buf *b, const char *e)
{
    if (strchr(e, ' ')) buf_printf(b, "(%s)", e);
    else buf_puts(b, e);
}

static void set_geom(KernelGeom *kg, const char *const *ext, int n, const char *total, const char *what)
{
    emit_plan_expr(kg->grid, sizeof kg->grid, ext, n, CUDA_BLOCK);
    snprintf(kg->block, sizeof kg->block, "%d", CUDA_BLOCK);
    snprintf(kg->smem, sizeof kg->smem, "0");
    snprintf(kg->how, sizeof kg->how, "a grid-stride loop over %s %s, one per thread", total, what);
}

static void cuda_open_parallel(Buf *b, KernelGeom *kg, const char *letters, const char *const *ext, int n)
{
    Buf total;
    buf_init(&total);
    for (int a = 0; a < n; a++) buf_printf(&total, "%s%s", a ? " * " : "", ext[a]);
    if (!n) buf_puts(&total, "1");
    set_geom(kg, ext, n, total.p, n == 1 ? "indices" : "output elements");
    buf_line(b, "const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;");
    buf_open(b, "for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < %s; i_ += stride_) {", total.p);
    for (int a = 0; a < n; a++) {
        Buf e;
        buf_init(&e);
        buf_printf(&e, "const int64_t i_%c = i_", letters[a]);
        if (a + 1 < n) {
            buf_puts(&e, " / ");
            if (n - a - 1 > 1) buf_putc(&e, '(');
            for (int q = a + 1; q < n; q++) {
                if (q > a + 1) buf_puts(&e, " * ");
                paren(&e, ext[q]);
            }
            if (n - a - 1 > 1) buf_putc(&e, ')');
        }
        if (a > 0) {
            buf_puts(&e, " % ");
            paren(&e, ext[a]);
        }
        buf_line(b, "%s;", e.p);
        buf_free(&e);
    }
    buf_free(&total);
}

static void cuda_close_parallel(Buf *b, int n)
{
    (void)n;
    buf_close(b, "}");
}

/* A split range becomes one index per thread: [i_, i_ + 1). */
static void cuda_split_open(Buf *b, KernelGeom *kg, char letter, const char *extent, const char *cond)
{
    (void)cond;
    const char *ext[1] = {extent};
    set_geom(kg, ext, 1, extent, "indices");
    buf_line(b, "const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;");
    buf_open(b, "for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < %s; i_ += stride_) {", extent);
    buf_line(b, "const int64_t lo_%c = i_, hi_%c = i_ + 1;", letter, letter);
}

static void cuda_split_close(Buf *b) { buf_close(b, "}"); }

/* A block of 256 threads per row; blocks stride over the rows, so every
 * thread of a block runs the same iterations (the barriers inside the
 * reductions are reached by all). */
static void cuda_open_row_team(Buf *b, KernelGeom *kg, const char *rows)
{
    const char *ext[1] = {rows};
    emit_plan_expr(kg->grid, sizeof kg->grid, ext, 1, 1);
    snprintf(kg->block, sizeof kg->block, "%d", CUDA_BLOCK);
    snprintf(kg->smem, sizeof kg->smem, "0");
    snprintf(kg->how, sizeof kg->how, "a block per row of %s rows, its threads share the row (block reduction)", rows);
    buf_line(b, "__shared__ float red_[32]; /* one partial result per warp */");
    buf_line(b, "const int64_t t_ = threadIdx.x, nt_ = blockDim.x;");
    buf_open(b, "for (int64_t i_r = blockIdx.x; i_r < %s; i_r += gridDim.x) {", rows);
}

static void cuda_close_row_team(Buf *b) { buf_close(b, "}"); }

static void cuda_row_reduce(Buf *b, const char *var, const char *op)
{
    buf_line(b, "%s = ueaj_block_%s(%s, red_);", var, op, var);
}

static void cuda_team_scratch(Buf *b, const char *name, int n)
{
    buf_line(b, "__shared__ float %s[%d]; /* shared by the block */", name, n);
}

static void cuda_team_sync(Buf *b) { buf_line(b, "__syncthreads();"); }

const Dialect dialect_cuda = {
    .name = "cuda",
    .prelude = tmpl_cuda_prelude_cuh,
    .kernel_qual = "extern \"C\" __global__ void",
    .restrict_kw = "__restrict__",
    .entry_decl = NULL,
    .dims_param = "UeajDims dims",
    .dims_array = "dims.d",
    .dims_always = true,
    .table_qual = "static const",
    .streamed = false,
    .library_gemm = true,
    .vla = false,
    .vec8 = true,
    .type_name = emit_storage_type,
    .open_parallel = cuda_open_parallel,
    .close_parallel = cuda_close_parallel,
    .split_open = cuda_split_open,
    .split_close = cuda_split_close,
    .open_row_team = cuda_open_row_team,
    .close_row_team = cuda_close_row_team,
    .row_reduce = cuda_row_reduce,
    .team_scratch = cuda_team_scratch,
    .team_sync = cuda_team_sync,
    .team_size = CUDA_BLOCK,
};
