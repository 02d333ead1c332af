/* cublaslt.h - cuBLASLt through dlopen, and plan gemm steps as cuBLASLt
 * descriptors.
 *
 * Like libcuda (cuda_api.h), libcublasLt is opened at run time:
 * $UEAJ_LIBCUBLASLT, else libcublasLt.so.13, libcublasLt.so.12,
 * libcublasLt.so.  The few types are declared here (opaque handles, the
 * 64-byte algorithm blob, the heuristic result) to match cublasLt.h of
 * CUDA 12/13, so the build needs no toolkit; their names end in '_' so a
 * file may include cublasLt.h as well.  The table is owned by the
 * caller; there is no process-wide state.
 *
 * One GemmDims (gemm_ref.h) becomes one CublasLtGemm: a matmul descriptor
 * (CUBLAS_COMPUTE_32F, scale type CUDA_R_32F, TRANSA/TRANSB) and four
 * column-major layouts A, B, C, D (type, rows, cols, ld, batch count,
 * strided batch offset; C and D are the same matrix, described twice as
 * cublasLtMatmul takes both).  Descriptor creation needs no GPU or driver,
 * so it is unit-tested here; cublaslt_gemm_run needs both.
 */
#ifndef UEAJ_CUBLASLT_H
#define UEAJ_CUBLASLT_H

#include <stddef.h>
#include <stdint.h>

#include "gemm_ref.h"

typedef int cublasStatus_t_;                  /* 0 = CUBLAS_STATUS_SUCCESS */
typedef struct cublasLtContext *cublasLtHandle_t_;
typedef struct cublasLtMatmulDescOpaque *cublasLtMatmulDesc_t_;
typedef struct cublasLtMatrixLayoutOpaque *cublasLtMatrixLayout_t_;
typedef struct cublasLtMatmulPreferenceOpaque *cublasLtMatmulPreference_t_;
typedef struct { uint64_t data[8]; } cublasLtMatmulAlgo_t_;
typedef struct {
    cublasLtMatmulAlgo_t_ algo;
    size_t                workspaceSize;
    cublasStatus_t_       state;
    float                 wavesCount;
    int                   reserved[4];
} cublasLtMatmulHeuristicResult_t_;

enum {                                        /* values of cublasLt.h / library_types.h */
    CUDA_R_32F_ = 0, CUDA_R_16F_ = 2, CUDA_R_16BF_ = 14, CUDA_R_8F_E4M3_ = 28, CUDA_R_8F_E5M2_ = 29,
    CUBLAS_COMPUTE_32F_ = 68,
    CUBLAS_OP_N_ = 0, CUBLAS_OP_T_ = 1,
    CUBLASLT_ORDER_COL_ = 0,
    /* cublasLtMatmulDescAttributes_t */
    CUBLASLT_MATMUL_DESC_COMPUTE_TYPE_ = 0, CUBLASLT_MATMUL_DESC_SCALE_TYPE_ = 1,
    CUBLASLT_MATMUL_DESC_TRANSA_ = 3, CUBLASLT_MATMUL_DESC_TRANSB_ = 4,
    /* cublasLtMatrixLayoutAttribute_t */
    CUBLASLT_MATRIX_LAYOUT_TYPE_ = 0, CUBLASLT_MATRIX_LAYOUT_ORDER_ = 1, CUBLASLT_MATRIX_LAYOUT_ROWS_ = 2,
    CUBLASLT_MATRIX_LAYOUT_COLS_ = 3, CUBLASLT_MATRIX_LAYOUT_LD_ = 4, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT_ = 5,
    CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET_ = 6,
    /* cublasLtMatmulPreferenceAttributes_t */
    CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES_ = 1,
};

#define CUBLASLT_FUNCS(X) \
    X(cublasLtCreate, (cublasLtHandle_t_ *h)) \
    X(cublasLtDestroy, (cublasLtHandle_t_ h)) \
    X(cublasLtMatmulDescCreate, (cublasLtMatmulDesc_t_ *d, int compute, int scale)) \
    X(cublasLtMatmulDescSetAttribute, (cublasLtMatmulDesc_t_ d, int attr, const void *buf, size_t n)) \
    X(cublasLtMatmulDescGetAttribute, (cublasLtMatmulDesc_t_ d, int attr, void *buf, size_t n, size_t *written)) \
    X(cublasLtMatmulDescDestroy, (cublasLtMatmulDesc_t_ d)) \
    X(cublasLtMatrixLayoutCreate, (cublasLtMatrixLayout_t_ *l, int type, uint64_t rows, uint64_t cols, int64_t ld)) \
    X(cublasLtMatrixLayoutSetAttribute, (cublasLtMatrixLayout_t_ l, int attr, const void *buf, size_t n)) \
    X(cublasLtMatrixLayoutGetAttribute, (cublasLtMatrixLayout_t_ l, int attr, void *buf, size_t n, size_t *written)) \
    X(cublasLtMatrixLayoutDestroy, (cublasLtMatrixLayout_t_ l)) \
    X(cublasLtMatmulPreferenceCreate, (cublasLtMatmulPreference_t_ *p)) \
    X(cublasLtMatmulPreferenceSetAttribute, (cublasLtMatmulPreference_t_ p, int attr, const void *buf, size_t n)) \
    X(cublasLtMatmulPreferenceDestroy, (cublasLtMatmulPreference_t_ p)) \
    X(cublasLtMatmulAlgoGetHeuristic, (cublasLtHandle_t_ h, cublasLtMatmulDesc_t_ op, cublasLtMatrixLayout_t_ a, \
        cublasLtMatrixLayout_t_ b, cublasLtMatrixLayout_t_ c, cublasLtMatrixLayout_t_ d, \
        cublasLtMatmulPreference_t_ pref, int requested, cublasLtMatmulHeuristicResult_t_ *results, int *returned)) \
    X(cublasLtMatmul, (cublasLtHandle_t_ h, cublasLtMatmulDesc_t_ op, const void *alpha, const void *A, \
        cublasLtMatrixLayout_t_ adesc, const void *B, cublasLtMatrixLayout_t_ bdesc, const void *beta, \
        const void *C, cublasLtMatrixLayout_t_ cdesc, void *D, cublasLtMatrixLayout_t_ ddesc, \
        const cublasLtMatmulAlgo_t_ *algo, void *workspace, size_t workspace_bytes, void *stream))

typedef struct CublasLt {
    void *lib;                                /* dlopen handle; owned, closed by cublaslt_close */
    char  path[256];
#define X(name, params) cublasStatus_t_ (*name) params;
    CUBLASLT_FUNCS(X)
#undef X
} CublasLt;

/* Opens libcublasLt (path; NULL: $UEAJ_LIBCUBLASLT, else .so.13, .so.12,
 * .so) and resolves every function.  0, or -1 with "no libcublasLt (...)"
 * or "PATH lacks NAME". */
int  cublaslt_open(CublasLt *lt, const char *path, char *err, size_t errlen);
void cublaslt_close(CublasLt *lt);
/* "CUBLAS_STATUS_INVALID_VALUE", ...; NULL for an unknown number. */
const char *cublas_status_name(int status);
/* The cudaDataType of a storage type; -1 for one cuBLASLt matmuls do not take. */
int  cublaslt_data_type(DType t);

/* The descriptors of one matmul; all owned, released by cublaslt_gemm_free. */
typedef struct CublasLtGemm {
    cublasLtMatmulDesc_t_   desc;
    cublasLtMatrixLayout_t_ a, b, c, d;
} CublasLtGemm;

/* Builds the descriptors of g.  0, or -1 with "CALL(WHAT): STATUS" (and
 * nothing left allocated). */
int  cublaslt_gemm_build(const CublasLt *lt, const GemmDims *g, CublasLtGemm *out, char *err, size_t errlen);
void cublaslt_gemm_free(const CublasLt *lt, CublasLtGemm *op);
/* Runs D = alpha op(A) op(B) + beta D on the device (A, B, D are device
 * pointers; stream a CUstream) with the first algorithm the heuristic
 * offers within workspace_bytes.  Needs a GPU: not exercised by the unit
 * tests.  0, or -1 with a message. */
int  cublaslt_gemm_run(const CublasLt *lt, cublasLtHandle_t_ handle, const CublasLtGemm *op, const GemmDims *g,
                       const void *A, const void *B, void *D, void *workspace, size_t workspace_bytes, void *stream,
                       char *err, size_t errlen);

#endif
