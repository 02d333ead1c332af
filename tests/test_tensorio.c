/* test_tensorio.c - .npy and .safetensors reading and writing.
 *
 * Reading is checked against files written by NumPy itself and a
 * safetensors file assembled by hand (tests/gen_tensorio_fixtures.py,
 * committed under tests/fixtures/tensorio/); element k of every NumPy
 * fixture follows a formula recomputed here.  Writing is checked by round
 * trips and, for .npy, by byte-for-byte equality with np.save's output.
 * Malformed input is generated at run time into a temporary directory: each
 * case asserts failure, the "PATH: error: " prefix, a specific message
 * substring, and that the output struct is left empty (ASan/LSan then also
 * vouch for no leaks or stray reads).
 */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensorio.h"

/* ---- helpers ---- */

/* Each test works in its own directory under basedir, which the parent
 * process creates before the (forked) tests and removes recursively after
 * them, so that even a failing test leaves nothing behind. */
static char basedir[256];
static char tmpdir[300];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;   /* keep going */
}

static void base_setup(void)
{
    snprintf(basedir, sizeof basedir, "/tmp/ueaj_tio_XXXXXX");
    if (!mkdtemp(basedir)) basedir[0] = '\0';
}

static void base_teardown(void)
{
    if (basedir[0]) nftw(basedir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_tmpdir(void)
{
    ck_assert_msg(basedir[0] != '\0', "no base directory");
    snprintf(tmpdir, sizeof tmpdir, "%s/tXXXXXX", basedir);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void remove_tmpdir(void)
{
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
    return buf;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(p, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    *n = (size_t)len;
    return p;
}

static const char *fixture(char *buf, size_t n, const char *name)
{
    const char *root = getenv("UEAJ_ROOT");
    snprintf(buf, n, "%s/tests/fixtures/tensorio/%s", root && *root ? root : ".", name);
    return buf;
}

static void assert_error(const TioError *err, const char *path, const char *want)
{
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s: error: ", path);
    ck_assert_msg(strncmp(err->msg, prefix, strlen(prefix)) == 0,
                  "message '%s' lacks the prefix '%s'", err->msg, prefix);
    ck_assert_msg(strstr(err->msg, want) != NULL, "message '%s' lacks '%s'", err->msg, want);
}

/* The value formula of the NumPy fixtures. */
static double pattern(DType t, int64_t k)
{
    switch (t) {
    case DT_F16: case DT_F32: case DT_F64: return (double)(k - 3) * 0.75;
    case DT_I8: case DT_I16: case DT_I32: case DT_I64: return (double)(k * 37 - 100);
    case DT_U8: case DT_U16: case DT_U32: case DT_U64: return (double)(k * 41);
    case DT_BOOL: return k % 3 == 0;
    default: return NAN;
    }
}

static void check_pattern(const HostTensor *t, const char *what)
{
    int64_t n = tio_numel(t);
    ck_assert_int_ge(n, 0);
    ck_assert_uint_eq(t->nbytes, (size_t)n * dtype_size(t->dtype));
    for (int64_t k = 0; k < n; k++) {
        double got = dtype_load(t->data, t->dtype, (size_t)k), want = pattern(t->dtype, k);
        ck_assert_msg(got == want, "%s: element %" PRId64 " is %g, want %g", what, k, got, want);
    }
}

/* ---- .npy fixtures written by NumPy ---- */

static const struct { const char *file; DType t; } npy_c[] = {
    { "c_f2.npy", DT_F16 }, { "c_f4.npy", DT_F32 }, { "c_f8.npy", DT_F64 },
    { "c_i1.npy", DT_I8 }, { "c_i2.npy", DT_I16 }, { "c_i4.npy", DT_I32 }, { "c_i8.npy", DT_I64 },
    { "c_u1.npy", DT_U8 }, { "c_u2.npy", DT_U16 }, { "c_u4.npy", DT_U32 }, { "c_u8.npy", DT_U64 },
    { "c_b1.npy", DT_BOOL },
};

START_TEST(test_npy_numpy_files)
{
    char p[512];
    TioError err;
    HostTensor t;
    for (size_t i = 0; i < sizeof npy_c / sizeof npy_c[0]; i++) {
        ck_assert_msg(tio_read_npy(fixture(p, sizeof p, npy_c[i].file), &t, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(t.dtype, npy_c[i].t);
        ck_assert_int_eq(t.rank, 2);
        ck_assert(t.shape[0] == 2 && t.shape[1] == 3);
        ck_assert_int_eq(t.view, 0);
        ck_assert_ptr_null(t.name);
        check_pattern(&t, npy_c[i].file);
        tio_tensor_free(&t);
        ck_assert_ptr_null(t.data);
    }
    static const struct { const char *file; DType t; int rank; int64_t shape[3]; } other[] = {
        { "fortran_f4.npy", DT_F32, 3, { 2, 3, 4 } },      /* column-major on disk */
        { "be_f4.npy", DT_F32, 2, { 3, 2 } },               /* big-endian */
        { "be_fortran_i8.npy", DT_I64, 2, { 3, 4 } },       /* both */
        { "be_u2.npy", DT_U16, 1, { 5 } },
        { "v2_f8.npy", DT_F64, 1, { 4 } },                  /* format 2.0 */
        { "v3_i2.npy", DT_I16, 2, { 2, 2 } },               /* format 3.0 */
        { "empty_f4.npy", DT_F32, 2, { 0, 3 } },
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        ck_assert_msg(tio_read_npy(fixture(p, sizeof p, other[i].file), &t, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(t.dtype, other[i].t);
        ck_assert_int_eq(t.rank, other[i].rank);
        for (int d = 0; d < t.rank; d++) ck_assert_int_eq(t.shape[d], other[i].shape[d]);
        check_pattern(&t, other[i].file);
        tio_tensor_free(&t);
    }
    ck_assert_int_eq(tio_read_npy(fixture(p, sizeof p, "scalar_f8.npy"), &t, &err), 0);
    ck_assert_int_eq(t.rank, 0);
    ck_assert_int_eq(tio_numel(&t), 1);
    ck_assert(dtype_load(t.data, DT_F64, 0) == 3.25);
    tio_tensor_free(&t);
    ck_assert_int_eq(tio_read_npy(fixture(p, sizeof p, "empty_f4.npy"), &t, &err), 0);
    ck_assert_int_eq(tio_numel(&t), 0);
    ck_assert_uint_eq(t.nbytes, 0);
    tio_tensor_free(&t);
    ck_assert_int_eq(tio_read_npy(fixture(p, sizeof p, "i8_extremes.npy"), &t, &err), 0);
    int64_t ext[3];
    memcpy(ext, t.data, sizeof ext);
    ck_assert(ext[0] == INT64_MIN && ext[1] == INT64_MAX && ext[2] == -1);
    tio_tensor_free(&t);
    ck_assert_int_eq(tio_read_npy(fixture(p, sizeof p, "f2_special.npy"), &t, &err), 0);
    uint16_t h[4];
    memcpy(h, t.data, sizeof h);
    ck_assert(h[0] == 0x7bff && h[1] == 0x0001 && h[2] == 0x8000 && h[3] == 0x7c00);
    tio_tensor_free(&t);
}
END_TEST

/* Our writer reproduces np.save byte for byte, and reads back. */
START_TEST(test_npy_write)
{
    make_tmpdir();
    char p[512], q[512];
    TioError err;
    const char *files[] = { "c_f2.npy", "c_f4.npy", "c_f8.npy", "c_i1.npy", "c_i2.npy", "c_i4.npy",
                            "c_i8.npy", "c_u1.npy", "c_u2.npy", "c_u4.npy", "c_u8.npy", "c_b1.npy",
                            "scalar_f8.npy", "empty_f4.npy", "i8_extremes.npy", "f2_special.npy",
                            "fortran_f4.npy", "be_f4.npy" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        HostTensor t;
        ck_assert_int_eq(tio_read_npy(fixture(p, sizeof p, files[i]), &t, &err), 0);
        tmp_path(q, sizeof q, "out.npy");
        ck_assert_msg(tio_write_npy(q, &t, &err) == 0, "%s", err.msg);
        HostTensor back;
        ck_assert_int_eq(tio_read_npy(q, &back, &err), 0);
        ck_assert_int_eq(back.dtype, t.dtype);
        ck_assert_int_eq(back.rank, t.rank);
        ck_assert_mem_eq(back.shape, t.shape, sizeof t.shape[0] * (size_t)t.rank);
        ck_assert_uint_eq(back.nbytes, t.nbytes);
        if (t.nbytes) ck_assert_mem_eq(back.data, t.data, t.nbytes);
        if (strncmp(files[i], "be_", 3) && strncmp(files[i], "fortran", 7)) {
            size_t n1, n2;
            unsigned char *a = slurp(p, &n1), *b = slurp(q, &n2);
            ck_assert_msg(n1 == n2 && memcmp(a, b, n1) == 0, "%s: output differs from np.save", files[i]);
            free(a);
            free(b);
        }
        tio_tensor_free(&t);
        tio_tensor_free(&back);
    }
    struct stat sb;
    ck_assert_int_eq(stat(q, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0644);
    /* Types NumPy lacks are refused, pointing at safetensors; nothing is written. */
    uint16_t bf[2] = { 0x3f80, 0x4000 };
    HostTensor t = { .dtype = DT_BF16, .rank = 1, .shape = { 2 }, .data = bf, .nbytes = 4 };
    tmp_path(q, sizeof q, "bf16.npy");
    ck_assert_int_eq(tio_write_npy(q, &t, &err), -1);
    assert_error(&err, q, "safetensors");
    t.dtype = DT_F8E4M3;
    t.nbytes = 2;
    ck_assert_int_eq(tio_write_npy(q, &t, &err), -1);
    assert_error(&err, q, "f8e4m3");
    ck_assert_int_ne(access(q, F_OK), 0);
    t.dtype = DT_F32;   /* nbytes 2 does not match 2 x f32 */
    ck_assert_int_eq(tio_write_npy(q, &t, &err), -1);
    assert_error(&err, q, "nbytes is 2");
    t.shape[0] = -2;
    ck_assert_int_eq(tio_write_npy(q, &t, &err), -1);
    assert_error(&err, q, "negative dimension");
    ck_assert_int_eq(count_entries(tmpdir), 1);   /* only out.npy */
    remove_tmpdir();
}
END_TEST

/* ---- malformed .npy ---- */

typedef struct NpyCase {
    const char *what;
    const char *raw;            /* whole file, if set */
    size_t rawlen;
    int major, minor;
    const char *hdr;
    long hlen;                  /* header length field; -1: the real one */
    size_t dlen;                /* data bytes after the header */
    unsigned char fill;
    const char *want;
} NpyCase;

#define F4_2 "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"

static const NpyCase npy_cases[] = {
    { "empty file", "", 0, 0, 0, 0, 0, 0, 0, "file too short for a .npy header (0 bytes)" },
    { "bad magic", "\x93NUMPX\x01\x00\x10\x00{}", 12, 0, 0, 0, 0, 0, 0, "bad magic" },
    { "version 4.0", NULL, 0, 4, 0, F4_2, -1, 8, 0, "unsupported .npy format version 4.0" },
    { "version 1.1", NULL, 0, 1, 1, F4_2, -1, 8, 0, "unsupported .npy format version 1.1" },
    { "header past end", NULL, 0, 1, 0, F4_2, 4096, 8, 0, "header length 4096 at offset 8 runs past the end" },
    { "v2 header past end", NULL, 0, 2, 0, F4_2, 0x7fffffff, 8, 0, "header length 2147483647 at offset 8" },
    { "v2 prefix cut", "\x93NUMPY\x02\x00\x10", 9, 0, 0, 0, 0, 0, 0, "file too short" },
    { "v2 length cut", "\x93NUMPY\x02\x00\x10\x00\x00", 11, 0, 0, 0, 0, 0, 0, "too short for a .npy v2 header" },
    { "empty header", NULL, 0, 1, 0, "", -1, 0, 0, "empty header dict" },
    { "not a dict", NULL, 0, 1, 0, "[1, 2]", -1, 0, 0, "expected '{'" },
    { "missing shape", NULL, 0, 1, 0, "{'descr': '<f4', 'fortran_order': False}", -1, 8, 0, "missing key 'shape'" },
    { "unknown key", NULL, 0, 1, 0, "{'descr': '<f4', 'foo': 1}", -1, 8, 0, "unexpected key 'foo'" },
    { "duplicate key", NULL, 0, 1, 0, "{'descr': '<f4', 'descr': '<f4'}", -1, 8, 0, "duplicate key 'descr'" },
    { "object dtype", NULL, 0, 1, 0, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", -1, 16, 0,
      "object arrays (dtype '|O') are not supported" },
    { "structured", NULL, 0, 1, 0, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", -1, 8, 0,
      "structured dtypes" },
    { "complex", NULL, 0, 1, 0, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", -1, 16, 0,
      "unsupported dtype '<c8'" },
    { "'|' on f4", NULL, 0, 1, 0, "{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }", -1, 8, 0,
      "byte order '|'" },
    { "negative dim", NULL, 0, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", -1, 8, 0,
      "negative dimension" },
    { "huge dim", NULL, 0, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", -1,
      8, 0, "dimension too large" },
    { "shape overflow", NULL, 0, 1, 0,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", -1, 8, 0,
      "shape [4294967296, 4294967296] overflows" },
    { "rank 17", NULL, 0, 1, 0,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1), }", -1, 4, 0,
      "rank exceeds the maximum of 16" },
    { "fortran_order str", NULL, 0, 1, 0, "{'descr': '<f4', 'fortran_order': 'yes', 'shape': (2,), }", -1, 8, 0,
      "'fortran_order' is not True or False" },
    { "(3) not a tuple", NULL, 0, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", -1, 8, 0,
      "trailing comma" },
    { "unterminated", NULL, 0, 1, 0, "{'descr': '<f4", -1, 0, 0, "unterminated string" },
    { "after dict", NULL, 0, 1, 0, F4_2 " x", -1, 8, 0, "unexpected data after the header dict" },
    { "truncated data", NULL, 0, 1, 0, F4_2, -1, 5, 0, "data truncated: shape [2] of f32 needs 8 bytes at offset 67, the file has 5" },
    { "trailing data", NULL, 0, 1, 0, F4_2, -1, 11, 0, "3 unexpected trailing bytes at offset 75" },
    { "bad bool", NULL, 0, 1, 0, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", -1, 2, 2,
      "invalid bool value 2 at offset 67" },
};

START_TEST(test_npy_malformed)
{
    make_tmpdir();
    const NpyCase *c = &npy_cases[_i];
    unsigned char buf[1024];
    size_t n;
    if (c->raw) {
        memcpy(buf, c->raw, c->rawlen);
        n = c->rawlen;
    } else {
        size_t hl = strlen(c->hdr);
        long field = c->hlen < 0 ? (long)hl : c->hlen;
        memcpy(buf, "\x93NUMPY", 6);
        buf[6] = (unsigned char)c->major;
        buf[7] = (unsigned char)c->minor;
        n = 8;
        int w = c->major == 1 ? 2 : 4;
        for (int i = 0; i < w; i++) buf[n++] = (unsigned char)(field >> (8 * i));
        memcpy(buf + n, c->hdr, hl);
        n += hl;
        memset(buf + n, c->fill, c->dlen);
        n += c->dlen;
    }
    char p[512];
    tmp_path(p, sizeof p, "bad.npy");
    write_file(p, buf, n);
    TioError err;
    HostTensor t;
    memset(&t, 0x5a, sizeof t);
    ck_assert_msg(tio_read_npy(p, &t, &err) == -1, "case '%s' was accepted", c->what);
    assert_error(&err, p, c->want);
    ck_assert_ptr_null(t.data);
    ck_assert_ptr_null(t.name);
    ck_assert_int_eq(t.rank, 0);
    tio_tensor_free(&t);
    remove_tmpdir();
}
END_TEST

START_TEST(test_npy_paths)
{
    make_tmpdir();
    TioError err;
    HostTensor t;
    char p[512];
    ck_assert_int_eq(tio_read_npy(tmpdir, &t, &err), -1);
    assert_error(&err, tmpdir, "not a regular file");
    tmp_path(p, sizeof p, "missing.npy");
    ck_assert_int_eq(tio_read_npy(p, &t, &err), -1);
    assert_error(&err, p, "cannot open");
    float x = 1;
    HostTensor one = { .dtype = DT_F32, .rank = 0, .data = &x, .nbytes = 4 };
    tmp_path(p, sizeof p, "no/such/dir/x.npy");
    ck_assert_int_eq(tio_write_npy(p, &one, &err), -1);
    assert_error(&err, p, "cannot create temporary file");
    remove_tmpdir();
}
END_TEST

/* ---- safetensors ---- */

START_TEST(test_st_fixture)
{
    char p[512];
    TioError err;
    SafeTensors st;
    ck_assert_msg(tio_st_open(fixture(p, sizeof p, "model.safetensors"), &st, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(st.count, 8);
    ck_assert_str_eq(st.path, p);
    /* File-offset order, whatever the header order. */
    static const char *order[] = { "idx", "bias", "w.bf16", "w.e4m3", "w.e5m2", "mask", "empty", "odd" };
    for (int i = 0; i < 8; i++) ck_assert_str_eq(st.tensors[i].name, order[i]);
    const HostTensor *t = tio_st_find(&st, "idx");
    ck_assert(t && t->dtype == DT_I64 && t->rank == 0 && t->view == 1);
    ck_assert(dtype_load(t->data, DT_I64, 0) == 42);
    t = tio_st_find(&st, "bias");
    ck_assert(t && t->dtype == DT_F32 && t->rank == 1 && t->shape[0] == 3 && t->view == 1);
    ck_assert(((float *)t->data)[0] == 0.5f && ((float *)t->data)[1] == -1.5f && ((float *)t->data)[2] == 2.0f);
    t = tio_st_find(&st, "w.bf16");
    ck_assert(t && t->dtype == DT_BF16 && t->rank == 2 && t->shape[1] == 2 && t->nbytes == 8);
    float f[4];
    ck_assert(dtype_convert(f, DT_F32, t->data, DT_BF16, 4));
    ck_assert(f[0] == 1.0f && f[1] == -2.0f && f[2] == 0.15625f && f[3] == 65536.0f);
    t = tio_st_find(&st, "w.e4m3");
    ck_assert(t && t->dtype == DT_F8E4M3 && t->shape[0] == 4);
    ck_assert(dtype_convert(f, DT_F32, t->data, DT_F8E4M3, 4));
    ck_assert(f[0] == 1.0f && f[1] == -2.0f && f[2] == 448.0f && f[3] == 0x1p-9f);
    t = tio_st_find(&st, "w.e5m2");
    ck_assert(t && t->dtype == DT_F8E5M2);
    ck_assert(dtype_convert(f, DT_F32, t->data, DT_F8E5M2, 4));
    ck_assert(f[0] == 1.0f && f[1] == -1.0f && f[2] == 57344.0f && isinf(f[3]));
    t = tio_st_find(&st, "mask");
    ck_assert(t && t->dtype == DT_BOOL && memcmp(t->data, "\1\0\1", 3) == 0);
    t = tio_st_find(&st, "empty");
    ck_assert(t && t->dtype == DT_F16 && t->rank == 2 && t->shape[0] == 0 && t->nbytes == 0);
    /* At data offset 39: misaligned for f32, so copied, not viewed. */
    t = tio_st_find(&st, "odd");
    ck_assert(t && t->view == 0 && (uintptr_t)t->data % 4 == 0);
    ck_assert(((float *)t->data)[0] == 7.0f && ((float *)t->data)[1] == -8.5f);
    ck_assert_ptr_null(tio_st_find(&st, "__metadata__"));
    ck_assert_ptr_null(tio_st_find(&st, "nope"));
    ck_assert_ptr_null(tio_st_find(&st, NULL));
    tio_st_close(&st);
    ck_assert_int_eq(st.count, 0);
    ck_assert_ptr_null(st.map);
    tio_st_close(&st);   /* idempotent */
}
END_TEST

static HostTensor mk(const char *name, DType dt, int rank, const int64_t *shape, void *data)
{
    HostTensor t = { .name = (char *)name, .dtype = dt, .rank = rank, .data = data };
    size_t n = 1;
    for (int i = 0; i < rank; i++) { t.shape[i] = shape[i]; n *= (size_t)shape[i]; }
    t.nbytes = n * dtype_size(dt);
    return t;
}

/* Resident bytes (kB) of this process's mapping that contains p, from /proc/self/smaps; -1 if not found. */
static long mapping_rss_kb(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[512];
    int in = 0;
    long rss = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        if (in && sscanf(line, "Rss: %ld kB", &rss) == 1) break;
    }
    fclose(f);
    return rss;
}

/* tio_st_release drops a copied tensor's pages from the process's resident
 * memory (what the kernel says in smaps), and reading it again gives the
 * same bytes. */
START_TEST(test_st_release)
{
    make_tmpdir();
    enum { N = 1 << 20 };
    float *v = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) v[i] = (float)(i % 977) - 488.0f;
    int64_t shape[1] = { N };
    HostTensor t = mk("w", DT_F32, 1, shape, v);
    const HostTensor *ptr[1] = { &t };
    char p[512];
    TioError err;
    tmp_path(p, sizeof p, "rel.safetensors");
    ck_assert_msg(tio_write_safetensors(p, ptr, 1, &err) == 0, "%s", err.msg);
    SafeTensors st;
    ck_assert_msg(tio_st_open(p, &st, &err) == 0, "%s", err.msg);
    const HostTensor *w = tio_st_find(&st, "w");
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(memcmp(w->data, v, sizeof(float) * N), 0); /* every page read */
    long before = mapping_rss_kb(w->data);
    ck_assert_msg(before >= 4000, "the 4 MiB tensor should be resident after reading it (%ld kB)", before);
    tio_st_release(&st, w->data, sizeof(float) * N);
    long after = mapping_rss_kb(w->data);
    ck_assert_msg(after >= 0 && after <= 16, "after the release %ld kB stay resident (edge pages at most)", after);
    ck_assert_int_eq(memcmp(w->data, v, sizeof(float) * N), 0); /* mapped again, the same bytes */
    tio_st_release(&st, v, sizeof(float) * N);            /* not in the mapping: ignored */
    ck_assert_int_eq(v[N - 1], (float)((N - 1) % 977) - 488.0f);
    tio_st_close(&st);
    free(v);
}
END_TEST

START_TEST(test_st_roundtrip)
{
    make_tmpdir();
    /* One tensor of every dtype, odd sizes so that later ones are misaligned. */
    HostTensor ts[DT_COUNT + 2];
    const HostTensor *ptr[DT_COUNT + 2];
    unsigned char bufs[DT_COUNT][64];
    char names[DT_COUNT][32];
    int n = 0;
    for (int dt = 1; dt < DT_COUNT; dt++) {
        int64_t shape[2] = { 1 + dt % 3, 3 };
        for (int k = 0; k < 6; k++) dtype_store(bufs[dt], (DType)dt, (size_t)k, dt == DT_BOOL ? k % 2 : k - 2);
        snprintf(names[dt], sizeof names[dt], "layer.%d/%s \"q\"", dt, dtype_name((DType)dt));
        ts[n] = mk(names[dt], (DType)dt, 2, shape, bufs[dt]);
        n++;
    }
    double sc = 2.5;
    ts[n++] = mk("scalar", DT_F64, 0, NULL, &sc);
    int64_t zshape[3] = { 4, 0, 2 };
    ts[n++] = mk("zero", DT_BF16, 3, zshape, NULL);
    for (int i = 0; i < n; i++) ptr[i] = &ts[i];
    char p[512];
    TioError err;
    tmp_path(p, sizeof p, "rt.safetensors");
    ck_assert_msg(tio_write_safetensors(p, ptr, n, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(count_entries(tmpdir), 1);   /* no temporary left */
    size_t flen;
    unsigned char *raw = slurp(p, &flen);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | raw[i];
    ck_assert_uint_eq(hlen % 8, 0);
    free(raw);
    SafeTensors st;
    ck_assert_msg(tio_st_open(p, &st, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(st.count, n);
    int views = 0, copies = 0;
    for (int i = 0; i < n; i++) {
        const HostTensor *t = tio_st_find(&st, ts[i].name);
        ck_assert_msg(t != NULL, "tensor %s missing", ts[i].name);
        /* written in the given order, so file order == given order, except
         * that the zero-size tensor sorts before a tensor at its offset */
        ck_assert_int_eq(t->dtype, ts[i].dtype);
        ck_assert_int_eq(t->rank, ts[i].rank);
        ck_assert_mem_eq(t->shape, ts[i].shape, sizeof(int64_t) * (size_t)t->rank);
        ck_assert_uint_eq(t->nbytes, ts[i].nbytes);
        if (t->nbytes) ck_assert_mem_eq(t->data, ts[i].data, t->nbytes);
        ck_assert_uint_eq((uintptr_t)t->data % dtype_size(t->dtype), 0);
        if (t->nbytes) { views += t->view; copies += !t->view; }
    }
    ck_assert_int_gt(views, 0);
    ck_assert_int_gt(copies, 0);
    tio_st_close(&st);

    /* Overwrite with fewer tensors: the new content replaces the old. */
    ck_assert_int_eq(tio_write_safetensors(p, ptr, 1, &err), 0);
    ck_assert_int_eq(tio_st_open(p, &st, &err), 0);
    ck_assert_int_eq(st.count, 1);
    ck_assert_str_eq(st.tensors[0].name, ts[0].name);
    tio_st_close(&st);
    /* No tensors at all is a valid file. */
    ck_assert_int_eq(tio_write_safetensors(p, NULL, 0, &err), 0);
    ck_assert_int_eq(tio_st_open(p, &st, &err), 0);
    ck_assert_int_eq(st.count, 0);
    tio_st_close(&st);
    remove_tmpdir();
}
END_TEST

/* Writer errors leave an existing file untouched and no temporaries. */
START_TEST(test_st_write_errors)
{
    make_tmpdir();
    char p[512];
    TioError err;
    float a[2] = { 1, 2 };
    int64_t s2[1] = { 2 };
    HostTensor x = mk("x", DT_F32, 1, s2, a), y = mk("y", DT_F32, 1, s2, a);
    const HostTensor *ok[1] = { &x };
    tmp_path(p, sizeof p, "keep.safetensors");
    ck_assert_int_eq(tio_write_safetensors(p, ok, 1, &err), 0);
    size_t n0;
    unsigned char *before = slurp(p, &n0);

    HostTensor dup = mk("x", DT_F32, 1, s2, a);
    const HostTensor *l1[3] = { &x, &y, &dup };
    ck_assert_int_eq(tio_write_safetensors(p, l1, 3, &err), -1);
    assert_error(&err, p, "duplicate tensor name 'x'");
    HostTensor noname = mk(NULL, DT_F32, 1, s2, a);
    const HostTensor *l2[2] = { &x, &noname };
    ck_assert_int_eq(tio_write_safetensors(p, l2, 2, &err), -1);
    assert_error(&err, p, "tensor #1 has no name");
    HostTensor meta = mk("__metadata__", DT_F32, 1, s2, a);
    const HostTensor *l3[1] = { &meta };
    ck_assert_int_eq(tio_write_safetensors(p, l3, 1, &err), -1);
    assert_error(&err, p, "reserved");
    HostTensor bad = mk("b", DT_F32, 1, s2, a);
    bad.nbytes = 7;
    const HostTensor *l4[1] = { &bad };
    ck_assert_int_eq(tio_write_safetensors(p, l4, 1, &err), -1);
    assert_error(&err, p, "tensor #0 'b': nbytes is 7 but shape and dtype f32 need 8");
    bad = mk("b", DT_NONE, 1, s2, a);
    ck_assert_int_eq(tio_write_safetensors(p, l4, 1, &err), -1);
    assert_error(&err, p, "invalid dtype");
    bad = mk("b", DT_F32, 1, s2, NULL);
    ck_assert_int_eq(tio_write_safetensors(p, l4, 1, &err), -1);
    assert_error(&err, p, "data is NULL");
    ck_assert_int_eq(tio_write_safetensors(p, NULL, 2, &err), -1);
    assert_error(&err, p, "bad tensor list");

    size_t n1;
    unsigned char *after = slurp(p, &n1);
    ck_assert(n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
    ck_assert_int_eq(count_entries(tmpdir), 1);

    /* rename onto a non-empty directory fails: temporary removed. */
    char d[512];
    tmp_path(d, sizeof d, "adir");
    ck_assert_int_eq(mkdir(d, 0755), 0);
    char inner[600];
    snprintf(inner, sizeof inner, "%s/f", d);
    write_file(inner, "x", 1);
    ck_assert_int_eq(tio_write_safetensors(d, ok, 1, &err), -1);
    assert_error(&err, d, "rename failed");
    ck_assert_int_eq(count_entries(tmpdir), 2);   /* keep.safetensors, adir */
    unlink(inner);
    tmp_path(p, sizeof p, "nodir/x.safetensors");
    ck_assert_int_eq(tio_write_safetensors(p, ok, 1, &err), -1);
    assert_error(&err, p, "cannot create temporary file");
    remove_tmpdir();
}
END_TEST

/* ---- malformed safetensors ---- */

typedef struct StCase {
    const char *what;
    const char *json;           /* header text; NULL: raw */
    uint64_t hlen;              /* length field; 0: strlen(json) */
    size_t dlen;                /* data bytes */
    unsigned char fill;
    const char *want;
} StCase;

#define E(dt, sh, b, e) "{\"dtype\":\"" dt "\",\"shape\":" sh ",\"data_offsets\":[" #b "," #e "]}"

static const StCase st_cases[] = {
    { "short file", NULL, 0, 5, 0, "file too short for a safetensors header (5 bytes)" },
    { "header past end", "{}", 1000, 0, 0, "header length 1000 at offset 0 runs past the end of the file (10 bytes)" },
    { "header 2^63", "{}", UINT64_C(1) << 63, 0, 0, "header length 9223372036854775808 at offset 0 runs past" },
    { "not '{'", "[1, 2]", 0, 0, 0, "does not start with '{'" },
    { "bad JSON", "{\"a\":", 0, 0, 0, "invalid JSON header near file offset" },
    { "JSON junk", "{\"a\":{}}", 0, 0, 0, "tensor 'a': missing 'dtype'" },
    { "after JSON", "{}  x", 0, 0, 0, "unexpected byte 0x78 after the JSON header at file offset 12" },
    { "entry not object", "{\"a\":3}", 0, 0, 0, "tensor 'a': entry is not a JSON object" },
    { "unknown dtype", "{\"a\":" E("F7", "[1]", 0, 1) "}", 0, 1, 0, "tensor 'a': unknown dtype 'F7'" },
    { "dtype number", "{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 4, 0,
      "tensor 'a': 'dtype' is not a string" },
    { "unknown key", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 0, 4, 0,
      "tensor 'a': unknown key 'extra'" },
    { "duplicate key", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 4, 0,
      "tensor 'a': duplicate key 'dtype'" },
    { "negative dim", "{\"a\":" E("F32", "[-1]", 0, 4) "}", 0, 4, 0, "tensor 'a': shape[0] is not a non-negative integer" },
    { "fractional dim", "{\"a\":" E("F32", "[2, 1.5]", 0, 4) "}", 0, 4, 0, "tensor 'a': shape[1] is not a non-negative" },
    { "dim 2^53", "{\"a\":" E("U8", "[9007199254740992]", 0, 4) "}", 0, 4, 0, "tensor 'a': shape[0] is not" },
    { "dim as string", "{\"a\":" E("U8", "[\"4\"]", 0, 4) "}", 0, 4, 0, "tensor 'a': shape[0] is not" },
    { "rank 17", "{\"a\":" E("U8", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]", 0, 1) "}", 0, 1, 0,
      "tensor 'a': rank 17 exceeds the maximum of 16" },
    { "3 offsets", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 0, 1, 0,
      "tensor 'a': 'data_offsets' is not an array of two integers" },
    { "offset string", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[\"0\",1]}}", 0, 1, 0,
      "tensor 'a': data_offsets are not non-negative integers" },
    { "negative offset", "{\"a\":" E("U8", "[1]", -1, 0) "}", 0, 1, 0, "data_offsets are not non-negative" },
    { "begin > end", "{\"a\":" E("U8", "[0]", 4, 2) "}", 0, 4, 0, "tensor 'a': data_offsets [4, 2]: begin > end" },
    { "past end", "{\"a\":" E("F32", "[2]", 0, 8) "}", 0, 4, 0,
      "tensor 'a': data_offsets [0, 8] run past the end of the data (4 bytes)" },
    { "size mismatch", "{\"a\":" E("F32", "[2]", 0, 4) "}", 0, 4, 0,
      "tensor 'a': data_offsets [0, 4] hold 4 bytes but shape [2] of F32 needs 8" },
    { "dim 2^31 (valueint saturates)", "{\"a\":" E("U8", "[2147483648]", 0, 4) "}", 0, 4, 0,
      "shape [2147483648] of U8 needs 2147483648" },
    { "dim 2^40", "{\"a\":" E("BF16", "[1099511627776]", 0, 4) "}", 0, 4, 0, "needs 2199023255552" },
    { "shape overflow", "{\"a\":" E("F32", "[4294967296, 4294967296, 4]", 0, 4) "}", 0, 4, 0,
      "tensor 'a': shape [4294967296, 4294967296, 4] overflows" },
    { "overlap", "{\"a\":" E("F32", "[2]", 0, 8) ",\"b\":" E("F32", "[1]", 4, 8) "}", 0, 8, 0,
      "data_offsets [4, 8] overlap tensor 'a' [0, 8]" },
    { "gap", "{\"a\":" E("F32", "[1]", 0, 4) ",\"b\":" E("F32", "[1]", 8, 12) "}", 0, 12, 0,
      "gap of 4 unused bytes at data offset 4" },
    { "trailing", "{\"a\":" E("F32", "[1]", 0, 4) "}", 0, 9, 0, "5 unused bytes at the end of the data (data offset 4" },
    { "empty with data", "{}", 0, 3, 0, "3 unused bytes at the end of the data" },
    { "duplicate names", "{\"a\":" E("F32", "[1]", 0, 4) ",\"a\":" E("F32", "[1]", 4, 8) "}", 0, 8, 0,
      "duplicate tensor name 'a'" },
    { "metadata not object", "{\"__metadata__\":[1]}", 0, 0, 0, "'__metadata__' is not a JSON object" },
    { "metadata number", "{\"__metadata__\":{\"k\":1}}", 0, 0, 0, "'__metadata__' value 'k' is not a string" },
    { "metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, 0, 0, "duplicate '__metadata__'" },
    { "bad bool", "{\"m\":" E("BOOL", "[3]", 0, 3) "}", 0, 3, 2, "tensor 'm': invalid bool value 2 at file offset" },
    { "control chars in name", "{\"a\\nb\":3}", 0, 0, 0, "tensor 'a\\x0ab': entry is not a JSON object" },
    { "NUL in header", "{\"a\":" E("F32", "[1]", 0, 4) "}\0", 0, 4, 0, "unexpected byte 0x00 after the JSON header" },
};

START_TEST(test_st_malformed)
{
    make_tmpdir();
    const StCase *c = &st_cases[_i];
    size_t jl = c->json ? strlen(c->json) + (strstr(c->what, "NUL") ? 1 : 0) : 0;
    size_t n = c->json ? 8 + jl + c->dlen : c->dlen;
    unsigned char *buf = calloc(1, n + 1);
    if (c->json) {
        uint64_t h = c->hlen ? c->hlen : jl;
        for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(h >> (8 * i));
        memcpy(buf + 8, c->json, jl);
        memset(buf + 8 + jl, c->fill, c->dlen);
    }
    char p[512];
    tmp_path(p, sizeof p, "bad.safetensors");
    write_file(p, buf, n);
    free(buf);
    TioError err;
    SafeTensors st;
    memset(&st, 0x5a, sizeof st);
    ck_assert_msg(tio_st_open(p, &st, &err) == -1, "case '%s' was accepted", c->what);
    assert_error(&err, p, c->want);
    ck_assert_int_eq(st.count, 0);
    ck_assert_ptr_null(st.map);
    ck_assert_ptr_null(st.tensors);
    ck_assert_ptr_null(st.path);
    tio_st_close(&st);
    remove_tmpdir();
}
END_TEST

START_TEST(test_st_paths)
{
    make_tmpdir();
    TioError err;
    SafeTensors st;
    char p[512];
    ck_assert_int_eq(tio_st_open(tmpdir, &st, &err), -1);
    assert_error(&err, tmpdir, "not a regular file");
    tmp_path(p, sizeof p, "missing.safetensors");
    ck_assert_int_eq(tio_st_open(p, &st, &err), -1);
    assert_error(&err, p, "cannot open");
    /* Every truncation of a valid file is rejected cleanly. */
    char f[512];
    size_t n;
    unsigned char *raw = slurp(fixture(f, sizeof f, "model.safetensors"), &n);
    tmp_path(p, sizeof p, "cut.safetensors");
    for (size_t len = 0; len < n; len++) {
        write_file(p, raw, len);
        ck_assert_msg(tio_st_open(p, &st, &err) == -1, "truncated to %zu bytes was accepted", len);
        ck_assert_int_eq(strncmp(err.msg, p, strlen(p)), 0);
    }
    write_file(p, raw, n);
    ck_assert_int_eq(tio_st_open(p, &st, &err), 0);
    tio_st_close(&st);
    free(raw);
    /* JSON that is cut off exactly at the end of a page-sized file: the
     * parser must stop at the header length, not run on past the mapping. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *pg = malloc(page);
    static const char *opens[3] = { "{\"a\":\"", "{\"a\":", "{\"a\":{\"shape\":[" };
    static const char fillc[3] = { 'x', '1', '7' };
    for (int k = 0; k < 3; k++) {
        uint64_t hl = page - 8;
        for (int i = 0; i < 8; i++) pg[i] = (unsigned char)(hl >> (8 * i));
        memset(pg + 8, fillc[k], page - 8);
        memcpy(pg + 8, opens[k], strlen(opens[k]));
        write_file(p, pg, page);
        ck_assert_int_eq(tio_st_open(p, &st, &err), -1);
        assert_error(&err, p, "invalid JSON header");
    }
    free(pg);
    /* Same for a .npy file. */
    raw = slurp(fixture(f, sizeof f, "fortran_f4.npy"), &n);
    tmp_path(p, sizeof p, "cut.npy");
    HostTensor t;
    for (size_t len = 0; len < n; len++) {
        write_file(p, raw, len);
        ck_assert_msg(tio_read_npy(p, &t, &err) == -1, "npy truncated to %zu bytes was accepted", len);
    }
    free(raw);
    remove_tmpdir();
}
END_TEST

START_TEST(test_numel)
{
    HostTensor t = { .rank = 3, .shape = { 2, 3, 4 } };
    ck_assert_int_eq(tio_numel(&t), 24);
    t.rank = 0;
    ck_assert_int_eq(tio_numel(&t), 1);
    t.rank = 3;
    t.shape[1] = 0;
    ck_assert_int_eq(tio_numel(&t), 0);
    t.shape[0] = INT64_MAX;
    t.shape[1] = 0;
    ck_assert_int_eq(tio_numel(&t), 0);
    t.shape[1] = INT64_MAX;
    ck_assert_int_eq(tio_numel(&t), -1);   /* overflow */
    t.shape[1] = -1;
    ck_assert_int_eq(tio_numel(&t), -1);
    ck_assert_int_eq(tio_numel(NULL), -1);
    tio_tensor_free(NULL);
}
END_TEST

extern Suite *suite_tensorio(void);
Suite *suite_tensorio(void)
{
    Suite *s = suite_create("tensorio");
    TCase *tc = tcase_create("npy");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, test_npy_numpy_files);
    tcase_add_test(tc, test_npy_write);
    tcase_add_test(tc, test_st_release);
    tcase_add_loop_test(tc, test_npy_malformed, 0, (int)(sizeof npy_cases / sizeof npy_cases[0]));
    tcase_add_test(tc, test_npy_paths);
    tcase_add_test(tc, test_numel);
    suite_add_tcase(s, tc);
    tc = tcase_create("safetensors");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, test_st_fixture);
    tcase_add_test(tc, test_st_roundtrip);
    tcase_add_test(tc, test_st_write_errors);
    tcase_add_loop_test(tc, test_st_malformed, 0, (int)(sizeof st_cases / sizeof st_cases[0]));
    tcase_add_test(tc, test_st_paths);
    suite_add_tcase(s, tc);
    return s;
}
