/* cuda_plan.h - the launch plan that travels with generated CUDA code.
 *
 * The CUDA dialect of the emitter (compiler/dialect_cuda.c) writes kernels
 * and, beside them, a plan: which tensors exist (the same table as the C
 * plan, ueaj_plan_tensors), and the steps that run the model, in order:
 * kernel launches with their geometry, and cuBLASLt matmuls with layouts
 * derived from the IR.  The plan is plain text so that it can be read in a
 * .cu file, embedded in a cubin, diffed in golden tests and parsed without
 * a compiler.  Inside generated CUDA source (and so inside every .ptx and
 * .cubin made from it) it is the NUL-terminated global
 *
 *     extern "C" __device__ const char ueaj_plan[] = "...";
 *
 * (escaped as a C string literal, so user text never becomes code); a
 * runtime finds it in a cubin through the ELF symbol table
 * (cuda_plan_from_cubin) or, on a GPU, with cuModuleGetGlobal.
 *
 * Format, version 1.  One record per line, fields separated by one space.
 * Names (tensor names, checkpoint names, dim names) are percent-escaped:
 * bytes outside [A-Za-z0-9._/-] become %XX, so a field never holds a space.
 *
 *   ueajc-plan 1
 *   dims N NAME0 ... NAMEN-1          run-time dims: dyn[k] is NAMEk
 *   tensor IDX NAME KIND DTYPE RANK S0 .. S(RANK-1)
 *       KIND: input param output temp state;  DTYPE: f32 bf16 f16 f8e4m3
 *       f8e5m2 i32 f64;  Si: a number >= 0, or "dK" for run-time dim K
 *   config KEY KIND [VALUE]           (after dims, before the tensors)
 *       a config.json field the model file read when it was compiled, with
 *       the value it had: KIND num (VALUE a C decimal), bool (true|false),
 *       str (VALUE '=' then the percent-escaped text) or absent (no VALUE:
 *       the field was missing and the model file's default was used).  KEY
 *       is the field's path ("rope_scaling.factor").  A runtime given a
 *       checkpoint compares its config.json with these.
 *   load IDX CKPTNAME RANK S0 .. S(RANK-1) perm P0 .. P(RANK-1)
 *       (params only, after their tensor line: the checkpoint tensor's name,
 *       shape, and the axis permutation that turns it into tensor IDX)
 *   lookup IDX
 *       (params only, after their tensor line) tensor IDX is read only by
 *       row lookups (an embedding table): a step reads a few of its rows,
 *       so bandwidth figures leave it out
 *   share IDX ROOT
 *       (temps only, after every tensor line, before the steps) temp IDX
 *       uses the memory of temp ROOT: no step that touches one runs while
 *       the other is live (compiler/memplan.c).  ROOT's allocation is as
 *       large as the largest of the temps that share it; ROOT itself
 *       shares with no other, and a temp shares at most once.  Without
 *       share records every tensor has memory of its own.
 *   launch KERNEL GX GY GZ BX BY BZ SMEM ARGS A0 A1 ...
 *       a __global__ kernel named KERNEL (extern "C"); G*, B* and SMEM are
 *       EXPRs; its parameters are (UeajDims dims, then one pointer per
 *       tensor index A0, A1, ... in order).  UeajDims is
 *       `struct { long long d[8]; }` passed by value: d[k] = dyn[k].
 *   gemm TERM key=value ...            a cuBLASLt matmul, column-major as
 *       cuBLASLt sees it:  D = alpha * op(A) op(B) + beta * C (C is D but for c=).
 *       keys: a= b= d= (tensor indices), ta= tb= (n or t), m= n= k=
 *       lda= ldb= ldd= batch= sa= sb= sd= (EXPRs; s* are batch strides in
 *       elements), atype= btype= dtype= (f32 bf16 f16 f8e4m3 f8e5m2),
 *       compute=f32, alpha= beta= (decimal floats); optional c= (a tensor
 *       index: C is that tensor, same type and layout as D, instead of D
 *       itself, so D = alpha op(A) op(B) + beta C adds a residual in
 *       cuBLASLt's epilogue).  TERM names the ueajsum term (percent-escaped).
 *   end
 *
 * EXPR: factors joined by '*', optionally followed by one '/' and a
 * positive number meaning ceiling division of the product by it; a factor
 * is a non-negative integer or dK.  Examples: 1, 256, d0*2048, d0*8192/256.
 * No spaces inside an EXPR.
 *
 * The steps run in order on one stream; a tensor's memory is zeroed only
 * where the plan says so (kernels initialise their outputs themselves).
 */
#ifndef UEAJ_CUDA_PLAN_H
#define UEAJ_CUDA_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define CUDA_PLAN_MAX_RANK 8
#define CUDA_PLAN_MAX_ARGS 16
#define CUDA_PLAN_MAX_DIMS 8

/* A product of factors, ceiling-divided by div (1 = none). */
typedef struct CudaPlanExpr {
    int64_t c;                          /* the constant factors' product */
    int     ndyn;
    int     dyn[8];                     /* the dK factors */
    int64_t div;
} CudaPlanExpr;

typedef struct CudaPlanTensor {
    char   *name;
    int     kind;                       /* 0 input 1 param 2 output 3 temp 4 state (as the C plan) */
    char    dtype[8];
    int     rank;
    int64_t shape[CUDA_PLAN_MAX_RANK];  /* >= 0 fixed; -1 - k: run-time dim k */
    char   *load;                       /* params: checkpoint name, or NULL */
    int     load_rank;
    int64_t load_shape[CUDA_PLAN_MAX_RANK];
    int     load_perm[CUDA_PLAN_MAX_RANK];
    int     lookup;                     /* a `lookup` record marks it */
    int     root;                       /* a `share` record: the temp whose memory it uses; else its own index */
    int     lends;                      /* another temp shares its memory */
} CudaPlanTensor;

/* A `config` record. */
typedef struct CudaPlanConfig {
    char   *key;
    int     kind;                       /* 0 absent 1 num 2 bool 3 str */
    double  num;                        /* num; bool: 0 or 1 */
    char   *str;                        /* str */
} CudaPlanConfig;

typedef enum { CUDA_STEP_LAUNCH, CUDA_STEP_GEMM } CudaStepKind;

typedef struct CudaPlanStep {
    CudaStepKind kind;
    char        *name;                  /* kernel name, or the gemm's term */
    /* launch */
    CudaPlanExpr grid[3], block[3], smem;
    int          nargs;
    int          args[CUDA_PLAN_MAX_ARGS];
    /* gemm */
    int          a, b, d, c;            /* c: C's tensor (d unless the record has c=) */
    char         ta, tb;                /* 'n' or 't' */
    CudaPlanExpr m, n, k, lda, ldb, ldd, batch, sa, sb, sd;
    char         atype[8], btype[8], dtype[8];
    double       alpha, beta;
} CudaPlanStep;

typedef struct CudaPlan {
    int             ndims;
    char           *dim_names[CUDA_PLAN_MAX_DIMS];
    int             ntensors;
    CudaPlanTensor *tensors;
    int             nsteps;
    CudaPlanStep   *steps;
    int             nconfig;
    CudaPlanConfig *config;
} CudaPlan;

/* Parses plan text.  Returns NULL and writes a message naming `where` (a
 * file name) and the line to err on any malformed, out-of-range or
 * inconsistent record (an arg index past the tensor table, a gemm whose
 * types are not cuBLASLt's, ...). */
CudaPlan *cuda_plan_parse(const char *text, size_t len, const char *where, char *err, size_t errlen);
void      cuda_plan_free(CudaPlan *p);
/* Evaluates an EXPR with the run-time dims; -1 on overflow. */
int64_t   cuda_plan_eval(const CudaPlanExpr *e, const int64_t *dyn);
/* Checks that a file is a CUDA cubin (ELF64, OS/ABI 0x41, machine 190) and
 * reads the SM architecture it was built for from e_flags (90 for sm_90).
 * 0, or -1 with a message naming `where`. */
int       cuda_cubin_arch(const void *elf, size_t size, const char *where, int *sm, char *err, size_t errlen);
/* Finds the NUL-terminated global `symbol` in a cubin (ELF64) and returns
 * a malloc'd copy of its text, or NULL with a message naming `where`.
 * cuda_plan_from_cubin is cuda_cubin_string(..., "ueaj_plan", ...); the
 * cubins `ueajc -o x.cubin` writes also carry their CUDA source as
 * `ueaj_source` (see compiler/cuda_out.c). */
char     *cuda_cubin_string(const void *elf, size_t size, const char *symbol, const char *where, char *err,
                            size_t errlen);
char     *cuda_plan_from_cubin(const void *elf, size_t size, const char *where, char *err, size_t errlen);

/* Per kernel of a cubin (runtime/cubin_elf.c): registers per thread (the
 * .nv.info REGCOUNT attribute; -1 when absent), static shared memory and
 * code bytes (the sizes of .nv.shared.NAME and .text.NAME). */
typedef struct CubinKernel {
    char   *name;
    int     regs;
    int64_t smem, code_bytes;
} CubinKernel;
/* 0 with a malloc'd array in *k (free with cuda_cubin_kernels_free), or -1
 * with a message naming `where`. */
int  cuda_cubin_kernels(const void *elf, size_t size, const char *where, CubinKernel **k, int *n, char *err,
                        size_t errlen);
void cuda_cubin_kernels_free(CubinKernel *k, int n);

#endif
