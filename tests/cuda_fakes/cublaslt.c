/* cublaslt.c - fake libcublasLt: every call succeeds and a matmul does
 * nothing.  With modules.c as libcuda ($UEAJ_LIBCUDA, $UEAJ_LIBCUBLASLT)
 * a whole model, gemm steps included, goes through runtime/cuda_exec.c's
 * device path without a GPU: a dry run of tools/gpu_check.sh's timing. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* the types of runtime/cublaslt.h (which needs compiler/ on the include path) */
typedef void *cublasLtHandle_t_, *cublasLtMatmulDesc_t_, *cublasLtMatrixLayout_t_, *cublasLtMatmulPreference_t_;
typedef struct { uint64_t data[8]; } cublasLtMatmulAlgo_t_;
typedef struct {
    cublasLtMatmulAlgo_t_ algo;
    size_t                workspaceSize;
    int                   state;
    float                 wavesCount;
    int                   reserved[4];
} cublasLtMatmulHeuristicResult_t_;

#define EXPORT __attribute__((visibility("default")))
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static int token;

EXPORT int cublasLtCreate(cublasLtHandle_t_ *h) { *h = (void *)&token; return 0; }
EXPORT int cublasLtDestroy(cublasLtHandle_t_ h) { (void)h; return 0; }
EXPORT int cublasLtMatmulDescCreate(cublasLtMatmulDesc_t_ *d, int c, int s)
{ (void)c; (void)s; *d = (void *)&token; return 0; }
EXPORT int cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t_ d, int a, const void *b, size_t n)
{ (void)d; (void)a; (void)b; (void)n; return 0; }
EXPORT int cublasLtMatmulDescGetAttribute(cublasLtMatmulDesc_t_ d, int a, void *b, size_t n, size_t *w)
{ (void)d; (void)a; memset(b, 0, n); if (w) *w = n; return 0; }
EXPORT int cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t_ d) { (void)d; return 0; }
EXPORT int cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t_ *l, int t, uint64_t r, uint64_t c, int64_t ld)
{ (void)t; (void)r; (void)c; (void)ld; *l = (void *)&token; return 0; }
EXPORT int cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t_ l, int a, const void *b, size_t n)
{ (void)l; (void)a; (void)b; (void)n; return 0; }
EXPORT int cublasLtMatrixLayoutGetAttribute(cublasLtMatrixLayout_t_ l, int a, void *b, size_t n, size_t *w)
{ (void)l; (void)a; memset(b, 0, n); if (w) *w = n; return 0; }
EXPORT int cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t_ l) { (void)l; return 0; }
EXPORT int cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t_ *p)
{ *p = (void *)&token; return 0; }
EXPORT int cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t_ p, int a, const void *b, size_t n)
{ (void)p; (void)a; (void)b; (void)n; return 0; }
EXPORT int cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t_ p) { (void)p; return 0; }
EXPORT int cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t_ h, cublasLtMatmulDesc_t_ op, cublasLtMatrixLayout_t_ a,
                                          cublasLtMatrixLayout_t_ b, cublasLtMatrixLayout_t_ c,
                                          cublasLtMatrixLayout_t_ d, cublasLtMatmulPreference_t_ pref, int req,
                                          cublasLtMatmulHeuristicResult_t_ *res, int *ret)
{
    (void)h; (void)op; (void)a; (void)b; (void)c; (void)d; (void)pref;
    if (req > 0) memset(res, 0, sizeof *res);
    *ret = req > 0;
    return 0;
}
EXPORT int cublasLtMatmul(cublasLtHandle_t_ h, cublasLtMatmulDesc_t_ op, const void *alpha, const void *A,
                          cublasLtMatrixLayout_t_ ad, const void *B, cublasLtMatrixLayout_t_ bd, const void *beta,
                          const void *C, cublasLtMatrixLayout_t_ cd, void *D, cublasLtMatrixLayout_t_ dd,
                          const cublasLtMatmulAlgo_t_ *algo, void *ws, size_t wsb, void *stream)
{
    (void)h; (void)op; (void)alpha; (void)A; (void)ad; (void)B; (void)bd; (void)beta; (void)C; (void)cd; (void)D;
    (void)dd; (void)algo; (void)ws; (void)wsb; (void)stream;
    return 0;
}
