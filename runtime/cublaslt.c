/* cublaslt.c - cuBLASLt through dlopen; plan gemm steps as descriptors.
 *
 * The plan already speaks cuBLASLt's language (column-major op(A) op(B),
 * leading dimensions, strided batches; see cuda_plan.h), so building the
 * descriptors is a direct transcription of GemmDims:
 *
 *   matmul desc: compute CUBLAS_COMPUTE_32F, scale CUDA_R_32F (alpha and
 *                beta are host floats), TRANSA = ta, TRANSB = tb;
 *   layout A:    type(atype), rows x cols as stored (m x k for ta=n, k x m
 *                for ta=t), ld = lda, BATCH_COUNT = batch,
 *                STRIDED_BATCH_OFFSET = sa;   B likewise with k, n, ldb, sb;
 *   layouts C, D: type(dtype), m x n, ldd, batch, sd (C is D: beta reads
 *                the output in place).
 *
 * Everything is set explicitly, defaults included (order, batch 1), so a
 * descriptor read back says everything the plan said.  On any failure the
 * descriptors created so far are destroyed before returning: the caller
 * owns a CublasLtGemm only after a successful build.
 *
 * libcublasLt is opened with RTLD_NODELETE for the same reason as libcuda:
 * it keeps driver state and exit handlers that must not be unmapped.
 */
#include "strbuf.h"
#include "cublaslt.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cublas_status_name(int status)
{
    switch (status) {
    case 0:  return "CUBLAS_STATUS_SUCCESS";
    case 1:  return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3:  return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7:  return "CUBLAS_STATUS_INVALID_VALUE";
    case 8:  return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return NULL;
    }
}

/* "call(what): NAME" for a failed status; 0 for success */
static int check(int st, const char *call, const char *what, char *err, size_t errlen)
{
    if (st == 0) return 0;
    const char *name = cublas_status_name(st);
    if (name) return str_fail(err, errlen, "%s(%s): %s", call, what, name);
    return str_fail(err, errlen, "%s(%s): cublasStatus %d", call, what, st);
}

int cublaslt_open(CublasLt *lt, const char *path, char *err, size_t errlen)
{
    static const char *const names[] = { "libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so" };
    memset(lt, 0, sizeof *lt);
    if (!path) path = getenv("UEAJ_LIBCUBLASLT");
    const char *e = NULL;
    if (path && *path) {
        dlerror();
        lt->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!lt->lib) e = dlerror();
        snprintf(lt->path, sizeof lt->path, "%s", path);
    } else {
        for (size_t i = 0; i < sizeof names / sizeof names[0] && !lt->lib; i++) {
            dlerror();
            lt->lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
            if (!lt->lib) e = dlerror();
            snprintf(lt->path, sizeof lt->path, "%s", names[i]);
        }
    }
    if (!lt->lib) {
        str_fail(err, errlen, "no libcublasLt (dlopen: %s)", e ? e : "failed");
        memset(lt, 0, sizeof *lt);
        return -1;
    }
    /* dlsym returns void *; POSIX guarantees it converts to a function pointer */
#define X(name, params) \
    if (!(*(void **)&lt->name = dlsym(lt->lib, #name))) { \
        str_fail(err, errlen, "%s lacks %s", lt->path, #name); \
        cublaslt_close(lt); \
        return -1; \
    }
    CUBLASLT_FUNCS(X)
#undef X
    return 0;
}

void cublaslt_close(CublasLt *lt)
{
    if (lt->lib) dlclose(lt->lib);        /* RTLD_NODELETE: stays mapped */
    memset(lt, 0, sizeof *lt);
}

int cublaslt_data_type(DType t)
{
    switch (t) {
    case DT_F32:    return CUDA_R_32F_;
    case DT_F16:    return CUDA_R_16F_;
    case DT_BF16:   return CUDA_R_16BF_;
    case DT_F8E4M3: return CUDA_R_8F_E4M3_;
    case DT_F8E5M2: return CUDA_R_8F_E5M2_;
    default:        return -1;
    }
}

void cublaslt_gemm_free(const CublasLt *lt, CublasLtGemm *op)
{
    cublasLtMatrixLayout_t_ *l[4] = { &op->a, &op->b, &op->c, &op->d };
    for (int i = 0; i < 4; i++)
        if (*l[i]) lt->cublasLtMatrixLayoutDestroy(*l[i]);
    if (op->desc) lt->cublasLtMatmulDescDestroy(op->desc);
    memset(op, 0, sizeof *op);
}

static int layout(const CublasLt *lt, cublasLtMatrixLayout_t_ *out, const char *what, DType t, int64_t rows,
                  int64_t cols, int64_t ld, int64_t batch, int64_t stride, char *err, size_t errlen)
{
    int type = cublaslt_data_type(t);
    if (type < 0) return str_fail(err, errlen, "cublaslt: %s has type %s, which cuBLASLt does not multiply", what, dtype_name(t));
    const char *c = "cublasLtMatrixLayoutCreate";
    if (check(lt->cublasLtMatrixLayoutCreate(out, type, (uint64_t)rows, (uint64_t)cols, ld), c, what, err, errlen))
        return -1;
    int32_t order = CUBLASLT_ORDER_COL_, count = (int32_t)batch;
    c = "cublasLtMatrixLayoutSetAttribute";
    if (check(lt->cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_ORDER_, &order, sizeof order), c, what, err, errlen) ||
        check(lt->cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT_, &count, sizeof count), c, what, err, errlen) ||
        check(lt->cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET_, &stride, sizeof stride), c, what, err, errlen))
        return -1;
    return 0;
}

int cublaslt_gemm_build(const CublasLt *lt, const GemmDims *g, CublasLtGemm *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (g->batch < 1 || g->batch > INT32_MAX || g->m < 0 || g->n < 0 || g->k < 0)
        return str_fail(err, errlen, "cublaslt: bad gemm dimensions");
    const char *c = "cublasLtMatmulDescCreate";
    if (check(lt->cublasLtMatmulDescCreate(&out->desc, CUBLAS_COMPUTE_32F_, CUDA_R_32F_), c, "f32", err, errlen)) {
        out->desc = NULL;
        return -1;
    }
    int32_t ta = g->ta == 't' ? CUBLAS_OP_T_ : CUBLAS_OP_N_, tb = g->tb == 't' ? CUBLAS_OP_T_ : CUBLAS_OP_N_;
    c = "cublasLtMatmulDescSetAttribute";
    int rc = check(lt->cublasLtMatmulDescSetAttribute(out->desc, CUBLASLT_MATMUL_DESC_TRANSA_, &ta, sizeof ta), c, "TRANSA", err, errlen);
    if (!rc) rc = check(lt->cublasLtMatmulDescSetAttribute(out->desc, CUBLASLT_MATMUL_DESC_TRANSB_, &tb, sizeof tb), c, "TRANSB", err, errlen);
    if (!rc) rc = layout(lt, &out->a, "A", g->atype, g->ta == 'n' ? g->m : g->k, g->ta == 'n' ? g->k : g->m, g->lda,
                         g->batch, g->sa, err, errlen);
    if (!rc) rc = layout(lt, &out->b, "B", g->btype, g->tb == 'n' ? g->k : g->n, g->tb == 'n' ? g->n : g->k, g->ldb,
                         g->batch, g->sb, err, errlen);
    if (!rc) rc = layout(lt, &out->c, "C", g->dtype, g->m, g->n, g->ldd, g->batch, g->sd, err, errlen);
    if (!rc) rc = layout(lt, &out->d, "D", g->dtype, g->m, g->n, g->ldd, g->batch, g->sd, err, errlen);
    if (rc) cublaslt_gemm_free(lt, out);
    return rc;
}

int cublaslt_gemm_run(const CublasLt *lt, cublasLtHandle_t_ handle, const CublasLtGemm *op, const GemmDims *g,
                      const void *A, const void *B, void *D, void *workspace, size_t workspace_bytes, void *stream,
                      char *err, size_t errlen)
{
    cublasLtMatmulPreference_t_ pref = NULL;
    cublasLtMatmulHeuristicResult_t_ res;
    int returned = 0;
    uint64_t ws = workspace_bytes;
    memset(&res, 0, sizeof res);
    if (check(lt->cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate", "", err, errlen)) return -1;
    int rc = check(lt->cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES_, &ws, sizeof ws),
                   "cublasLtMatmulPreferenceSetAttribute", "MAX_WORKSPACE_BYTES", err, errlen);
    if (!rc) rc = check(lt->cublasLtMatmulAlgoGetHeuristic(handle, op->desc, op->a, op->b, op->c, op->d, pref, 1, &res, &returned),
                        "cublasLtMatmulAlgoGetHeuristic", "1", err, errlen);
    lt->cublasLtMatmulPreferenceDestroy(pref);
    if (rc) return -1;
    if (returned < 1) return str_fail(err, errlen, "cuBLASLt has no algorithm for this matmul");
    float alpha = (float)g->alpha, beta = (float)g->beta;
    return check(lt->cublasLtMatmul(handle, op->desc, &alpha, A, op->a, B, op->b, &beta, D, op->c, D, op->d, &res.algo,
                                    workspace, workspace_bytes, stream),
                 "cublasLtMatmul", "", err, errlen);
}
