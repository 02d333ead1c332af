/* test_cublaslt.c - cuBLASLt descriptors from plan gemm steps
 * (runtime/cublaslt.c), without a GPU.
 *
 * cuBLASLt creates descriptors and layouts without a driver (FACTS.md), so
 * each gemm below (plain, transposed, batched with strides, bf16 in and
 * out, fp8, a run-time dim) is built from a parsed plan step through
 * gemm_dims and cublaslt_gemm_build, and every attribute is read back with
 * cublasLtMatmulDescGetAttribute / cublasLtMatrixLayoutGetAttribute.  Also:
 * the library search and its messages ($UEAJ_LIBCUBLASLT), status names,
 * data types.  Skipped with a note when libcublasLt is absent.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cublaslt.h"

static int open_or_skip(CublasLt *lt)
{
    char err[512];
    if (cublaslt_open(lt, NULL, err, sizeof err) == 0) return 1;
    printf("test_cublaslt: %s; descriptor tests skipped\n", err);
    return 0;
}

static int64_t desc_attr(const CublasLt *lt, const CublasLtGemm *op, int attr)
{
    int32_t v = -99;
    size_t w = 0;
    ck_assert_int_eq(lt->cublasLtMatmulDescGetAttribute(op->desc, attr, &v, sizeof v, &w), 0);
    ck_assert_int_eq(w, sizeof v);
    return v;
}

/* reads a layout attribute of the given width (4 or 8 bytes) */
static int64_t lay_attr(const CublasLt *lt, cublasLtMatrixLayout_t_ l, int attr, size_t width)
{
    union { int32_t i32; int64_t i64; uint64_t u64; uint32_t u32; } v;
    size_t w = 0;
    memset(&v, 0, sizeof v);
    ck_assert_int_eq(lt->cublasLtMatrixLayoutGetAttribute(l, attr, &v, width, &w), 0);
    ck_assert_int_eq(w, width);
    return width == 4 ? (int64_t)v.i32 : v.i64;
}

typedef struct Lay { int type; int64_t rows, cols, ld, batch, stride; } Lay;

static void check_layout(const CublasLt *lt, cublasLtMatrixLayout_t_ l, Lay want, const char *what, int c)
{
    ck_assert_msg(lay_attr(lt, l, CUBLASLT_MATRIX_LAYOUT_TYPE_, 4) == want.type, "case %d %s type", c, what);
    ck_assert_msg(lay_attr(lt, l, CUBLASLT_MATRIX_LAYOUT_ORDER_, 4) == CUBLASLT_ORDER_COL_, "case %d %s order", c, what);
    ck_assert_msg(lay_attr(lt, l, CUBLASLT_MATRIX_LAYOUT_ROWS_, 8) == want.rows, "case %d %s rows", c, what);
    ck_assert_msg(lay_attr(lt, l, CUBLASLT_MATRIX_LAYOUT_COLS_, 8) == want.cols, "case %d %s cols", c, what);
    ck_assert_msg(lay_attr(lt, l, CUBLASLT_MATRIX_LAYOUT_LD_, 8) == want.ld, "case %d %s ld", c, what);
    ck_assert_msg(lay_attr(lt, l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT_, 4) == want.batch, "case %d %s batch", c, what);
    ck_assert_msg(lay_attr(lt, l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET_, 8) == want.stride, "case %d %s stride", c, what);
}

#define HEAD "ueajc-plan 1\ndims 1 n\n" \
             "tensor 0 x input bf16 2 d0 64\ntensor 1 w param bf16 2 64 128\ntensor 2 y output f32 2 d0 128\n" \
             "tensor 3 xf temp f32 3 4 16 8\ntensor 4 wf temp f32 3 4 16 8\ntensor 5 yf temp f32 3 4 8 8\n" \
             "tensor 6 yb temp bf16 2 d0 128\ntensor 7 e temp f8e4m3 2 64 64\ntensor 8 f temp f8e5m2 2 64 64\n"

static const struct {
    const char *gemm;
    char ta, tb;
    Lay a, b, d;
} cases[] = {
    /* y[n,128] = x[n,64] w[64,128] (row-major), i.e. y^T = w^T x^T column-major */
    { "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0", 'n', 'n',
      { 14, 128, 64, 128, 1, 0 }, { 14, 64, 7, 64, 1, 0 }, { 0, 128, 7, 128, 1, 0 } },
    /* transposed A and B, larger leading dimensions */
    { "gemm t a=1 b=0 d=2 ta=t tb=t m=64 n=d0 k=64 lda=128 ldb=80 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=0.5 beta=1", 't', 't',
      { 14, 64, 64, 128, 1, 0 }, { 14, 7, 64, 80, 1, 0 }, { 0, 64, 7, 128, 1, 0 } },
    /* batched f32 with strides (a broadcast A: stride 0) */
    { "gemm t a=3 b=4 d=5 ta=t tb=n m=8 n=8 k=16 lda=16 ldb=16 ldd=8 batch=4 sa=0 sb=128 sd=64 "
      "atype=f32 btype=f32 dtype=f32 compute=f32 alpha=1 beta=0", 't', 'n',
      { 0, 16, 8, 16, 4, 0 }, { 0, 16, 8, 16, 4, 128 }, { 0, 8, 8, 8, 4, 64 } },
    /* bf16 in, bf16 out */
    { "gemm t a=1 b=0 d=6 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=bf16 compute=f32 alpha=1 beta=0", 'n', 'n',
      { 14, 128, 64, 128, 1, 0 }, { 14, 64, 7, 64, 1, 0 }, { 14, 128, 7, 128, 1, 0 } },
    /* fp8 (TN), e4m3 x e5m2 -> f32 */
    { "gemm t a=7 b=8 d=5 ta=t tb=n m=8 n=8 k=64 lda=64 ldb=64 ldd=8 batch=1 sa=0 sb=0 sd=0 "
      "atype=f8e4m3 btype=f8e5m2 dtype=f32 compute=f32 alpha=1 beta=0", 't', 'n',
      { 28, 64, 8, 64, 1, 0 }, { 29, 64, 8, 64, 1, 0 }, { 0, 8, 8, 8, 1, 0 } },
};

START_TEST(test_descriptors)
{
    CublasLt lt;
    if (!open_or_skip(&lt)) return;
    const int c = _i;
    char text[2048], err[512];
    snprintf(text, sizeof text, HEAD "%s\nend\n", cases[c].gemm);
    CudaPlan *p = cuda_plan_parse(text, strlen(text), "lt.plan", err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    int64_t dyn[8] = { 7 };
    GemmDims g;
    ck_assert_msg(gemm_dims(&p->steps[0], dyn, &g, err, sizeof err) == 0, "%s", err);
    CublasLtGemm op;
    ck_assert_msg(cublaslt_gemm_build(&lt, &g, &op, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(desc_attr(&lt, &op, CUBLASLT_MATMUL_DESC_COMPUTE_TYPE_), CUBLAS_COMPUTE_32F_);
    ck_assert_int_eq(desc_attr(&lt, &op, CUBLASLT_MATMUL_DESC_SCALE_TYPE_), CUDA_R_32F_);
    ck_assert_int_eq(desc_attr(&lt, &op, CUBLASLT_MATMUL_DESC_TRANSA_), cases[c].ta == 't' ? CUBLAS_OP_T_ : CUBLAS_OP_N_);
    ck_assert_int_eq(desc_attr(&lt, &op, CUBLASLT_MATMUL_DESC_TRANSB_), cases[c].tb == 't' ? CUBLAS_OP_T_ : CUBLAS_OP_N_);
    check_layout(&lt, op.a, cases[c].a, "A", c);
    check_layout(&lt, op.b, cases[c].b, "B", c);
    check_layout(&lt, op.c, cases[c].d, "C", c);
    check_layout(&lt, op.d, cases[c].d, "D", c);
    cublaslt_gemm_free(&lt, &op);
    ck_assert_ptr_null(op.desc);
    cuda_plan_free(p);
    cublaslt_close(&lt);
}
END_TEST

START_TEST(test_library_and_names)
{
    CublasLt lt;
    char err[512];
    ck_assert_int_eq(cublaslt_open(&lt, "/nonexistent/libcublasLt.so", err, sizeof err), -1);
    ck_assert_str_eq(err, "no libcublasLt (dlopen: /nonexistent/libcublasLt.so: cannot open shared object file: "
                          "No such file or directory)");
    setenv("UEAJ_LIBCUBLASLT", "libm.so.6", 1);
    ck_assert_int_eq(cublaslt_open(&lt, NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "libm.so.6 lacks cublasLtCreate");
    ck_assert_ptr_null(lt.lib);
    unsetenv("UEAJ_LIBCUBLASLT");
    ck_assert_str_eq(cublas_status_name(7), "CUBLAS_STATUS_INVALID_VALUE");
    ck_assert_ptr_null(cublas_status_name(2));
    ck_assert_int_eq(cublaslt_data_type(DT_BF16), 14);
    ck_assert_int_eq(cublaslt_data_type(DT_I32), -1);
    if (!open_or_skip(&lt)) return;
    /* a type cuBLASLt does not multiply: refused before any call, nothing left */
    GemmDims g = { .ta = 'n', .tb = 'n', .m = 2, .n = 2, .k = 2, .lda = 2, .ldb = 2, .ldd = 2, .batch = 1,
                   .atype = DT_F32, .btype = DT_F32, .dtype = DT_I32 };
    CublasLtGemm op;
    ck_assert_int_eq(cublaslt_gemm_build(&lt, &g, &op, err, sizeof err), -1);
    ck_assert_str_eq(err, "cublaslt: C has type i32, which cuBLASLt does not multiply");
    ck_assert_ptr_null(op.desc);
    ck_assert_ptr_null(op.a);
    cublaslt_close(&lt);
}
END_TEST

extern Suite *suite_cublaslt(void);
Suite *suite_cublaslt(void)
{
    Suite *s = suite_create("cublaslt");
    TCase *tc = tcase_create("descriptors");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_descriptors, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_library_and_names);
    suite_add_tcase(s, tc);
    return s;
}
