/* dialect.h - what differs between the C and CUDA outputs of emit.c.
 *
 * The emitter walks the IR once; a Dialect supplies the few target-specific
 * pieces.  Keep this table small: anything both targets write the same way
 * belongs in emit.c.
 */
#ifndef UEAJ_DIALECT_H
#define UEAJ_DIALECT_H

#include "internal.h"

/* How a kernel is launched, filled in by the dialect's parallel hooks while
 * the kernel body is written (the C dialect leaves it empty).  grid/block/
 * smem are EXPRs of runtime/cuda_plan.h ("d0*64/256"); `how` says in words
 * what one thread does, for the kernel's comment. */
typedef struct KernelGeom {
    char grid[192], block[32], smem[32];
    char how[160];
    /* Set by the emitter before the body: besides `out`, the kernel stores
     * every output value rounded to this dtype into `outc` (a copy a
     * cuBLASLt matmul reads); DT_NONE (0): no copy. */
    DType copy;
} KernelGeom;

struct Dialect {
    const char *name;          /* "c", "cuda" */
    const char *prelude;       /* fixed text from templates/, with @HOLES@ */
    const char *kernel_qual;   /* "static void", "extern \"C\" __global__ void" */
    const char *restrict_kw;   /* "restrict", "__restrict__" */
    const char *entry_decl;    /* the entry point's declaration line (NULL: no host entry point) */
    const char *dims_param;    /* the run-time dims parameter: "const int64_t *dyn", "UeajDims dims" */
    const char *dims_array;    /* how a kernel reads dim k: "dyn" -> dyn[k], "dims.d" -> dims.d[k] */
    bool dims_always;          /* every kernel takes the dims, even when the model has none */
    const char *table_qual;    /* a constant table inside a kernel: "static const" */
    /* Schedules.  streamed: the CPU's weight-streaming schedule and the
     * prelude's blocked product for projections (C).  library_gemm: plain
     * (batched) matmuls with a parameter operand become cuBLASLt calls in the
     * plan instead of kernels (CUDA).  vla: variable-length arrays exist (C);
     * without them attention recomputes its scores instead of storing them. */
    bool streamed;
    bool library_gemm;
    bool vla;
    /* vec8: elementwise kernels and casts whose element count is a multiple
     * of 8 move 8 consecutive elements per thread through the prelude's
     * ldv8_T / stv8_T (16-byte loads and stores on a GPU); the arithmetic
     * per element is unchanged.  false: one element at a time (C, whose
     * compiler vectorises the plain loop itself). */
    bool vec8;
    const char *(*type_name)(DType t);
    /* Open the parallel loops over n output letters with the given extents
     * (C expressions such as "D0 * 64"), defining int64_t i_<letter> for
     * each; close them again. */
    void (*open_parallel)(Buf *b, KernelGeom *kg, const char *letters, const char *const *ext, int n);
    void (*close_parallel)(Buf *b, int n);
    /* Split the range [0, extent) of one loop among the threads: defines
     * int64_t lo_<letter>, hi_<letter> for the calling thread; everything up
     * to split_close runs once per thread with its own range.
     * `cond`: a C condition under which threads are worth it (NULL: always) */
    void (*split_open)(Buf *b, KernelGeom *kg, char letter, const char *extent, const char *cond);
    void (*split_close)(Buf *b);
    /* Row reductions (rms_norm, softmax) with a team per row; NULL: one
     * thread per row (C).  open_row_team loops i_r over the rows this team
     * owns and defines t_ (this thread's index in the team) and nt_ (the
     * team's size): the row's elements i = t_, t_ + nt_, ... are this
     * thread's.  row_reduce(b, var, "sum"|"max") combines a float across the
     * team, leaving the result in var in every thread. */
    void (*open_row_team)(Buf *b, KernelGeom *kg, const char *rows);
    void (*close_row_team)(Buf *b);
    void (*row_reduce)(Buf *b, const char *var, const char *op);
    /* Inside a row team: a float array of n elements the team shares
     * (declared once per team), and a barrier for the whole team; team_size
     * is nt_'s upper bound.  NULL / 0 without teams. */
    void (*team_scratch)(Buf *b, const char *name, int n);
    void (*team_sync)(Buf *b);
    int team_size;
};

extern const Dialect dialect_cuda;

void emit_comment_text(Buf *b, const char *s);
/* The storage type of a dtype in generated code, the same in C and CUDA
 * (both preludes store bf16/f16 as uint16_t and fp8 as uint8_t). */
const char *emit_storage_type(DType t);
const char *emit_size_str(UeajCtx *ctx, IrSize s);               /* "4096" or "D0" */
const char *emit_numel_str(UeajCtx *ctx, const IrTensor *t, int from, int to); /* product of axes */
/* The tensor's element count divided by 8 ("D0 * 8" for [D0, 64]), or NULL
 * when its fixed axes do not make a multiple of 8 (dialect vec8). */
const char *emit_numel_div8(UeajCtx *ctx, const IrTensor *t);
bool emit_vec8_type(DType t);   /* a dtype ldv8_T / stv8_T exist for */
/* The parallel loop i_v over v8 groups of 8 consecutive elements. */
void emit_vec8_open(Buf *b, const Dialect *d, KernelGeom *kg, const char *v8);
void emit_float_lit(Buf *b, double v, DType acc);                /* "0.5f" */
/* A plan EXPR (cuda_plan.h) from the product of C extents made of numbers
 * and run-time dims joined by " * " ("D0 * 64"), ceiling-divided by div
 * (1: none): "d0*64/256".  Writes at most outlen bytes. */
void emit_plan_expr(char *out, size_t outlen, const char *const *ext, int n, int div);
/* emit_ops.c: the body of a built-in op's kernel (everything but CONTRACT, CAST) */
void emit_builtin(UeajCtx *ctx, Buf *b, const Dialect *d, KernelGeom *kg, const IrGraph *g, const IrNode *n);

#endif
