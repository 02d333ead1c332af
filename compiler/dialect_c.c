/* dialect_c.c - the C dialect: parallel axes become plain loops.
 *
 * Generated C is compiled by the system C compiler into a shared object
 * (runtime/jit_c.c) and called through `ueaj_forward(bufs, dyn)`.
 */
#include "dialect.h"

extern const char tmpl_c_prelude_h[];

static void c_open_parallel(Buf *b, KernelGeom *kg, const char *letters, const char *const *ext, int n)
{
    (void)kg;
    for (int a = 0; a < n; a++)
        buf_open(b, "for (int64_t i_%c = 0; i_%c < %s; i_%c++) {", letters[a], letters[a], ext[a], letters[a]);
}

static void c_close_parallel(Buf *b, int n)
{
    for (int a = 0; a < n; a++) buf_close(b, "}");
}

/* OpenMP when the object is built with -fopenmp (runtime/jit_c.c does);
 * without it the region runs once with the whole range. */
static void c_split_open(Buf *b, KernelGeom *kg, char letter, const char *extent, const char *cond)
{
    (void)kg;
    if (cond) buf_line(b, "#pragma omp parallel if (%s)", cond);
    else buf_line(b, "#pragma omp parallel");
    buf_open(b, "{");
    buf_line(b, "int64_t lo_%c = 0, hi_%c = %s;", letter, letter, extent);
    buf_line(b, "#ifdef _OPENMP");
    buf_line(b, "const int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();");
    buf_line(b, "lo_%c = %s * id / nt;", letter, extent);
    buf_line(b, "hi_%c = %s * (id + 1) / nt;", letter, extent);
    buf_line(b, "#endif");
}

static void c_split_close(Buf *b) { buf_close(b, "}"); }

const Dialect dialect_c = {
    .name = "c",
    .prelude = tmpl_c_prelude_h,
    .kernel_qual = "static void",
    .restrict_kw = "restrict",
    .entry_decl = "void ueaj_forward(void *const *bufs, const int64_t *dyn)",
    .dims_param = "const int64_t *dyn",
    .dims_array = "dyn",
    .dims_always = false,
    .table_qual = "static const",
    .streamed = true,
    .library_gemm = false,
    .vla = true,
    .type_name = emit_storage_type,
    .open_parallel = c_open_parallel,
    .close_parallel = c_close_parallel,
    .split_open = c_split_open,
    .split_close = c_split_close,
};
