/* test_prelude.c - the dtype conversions *inside generated code*.
 *
 * The generated C carries its own loads and stores (templates/c_prelude.h.in).
 * These tests push every row of the ml_dtypes fixtures (tests/fixtures/dtype,
 * written by tests/gen_dtype_fixtures.py) through the real pipeline: an
 * identity expression `i->i` evaluated by ueaj_eval() with --out-dtype, the
 * result read back from .safetensors, and every bit pattern compared with
 * what ml_dtypes produced.  f32 inputs exercise st_T(float), f64 inputs the
 * single-rounding st_T_d(double); the fp8 decode table exercises ld_T.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "eval.h"
#include "tensorio.h"

Suite *suite_prelude(void);

typedef struct Rows { uint64_t *in; uint32_t (*out)[4]; int n; } Rows;

static FILE *fixture(const char *name)
{
    const char *root = getenv("UEAJ_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/dtype/%s", root && *root ? root : ".", name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    return f;
}

static Rows read_rows(const char *name)
{
    FILE *f = fixture(name);
    Rows r = {malloc(sizeof(uint64_t) * 20000), malloc(sizeof(uint32_t[4]) * 20000), 0};
    char line[256];
    while (fgets(line, sizeof line, f) && r.n < 20000) {
        if (line[0] == '#') continue;
        unsigned long long in;
        unsigned a, b, c, d;
        if (sscanf(line, "%llx %x %x %x %x", &in, &a, &b, &c, &d) != 5) continue;
        r.in[r.n] = in;
        r.out[r.n][0] = a; r.out[r.n][1] = b; r.out[r.n][2] = c; r.out[r.n][3] = d;
        r.n++;
    }
    fclose(f);
    ck_assert_int_gt(r.n, 100);
    return r;
}

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ueaj-prelude-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Evaluates `i->i` on `in` (written as .npy or .safetensors) with the given
 * result dtype and returns the result tensor's bytes (malloc'd). */
static void *identity(const HostTensor *in, const char *out_dtype, DType *got_dt)
{
    char inpath[128], outpath[128];
    TioError err;
    if (in->dtype == DT_F8E4M3 || in->dtype == DT_F8E5M2) {
        snprintf(inpath, sizeof inpath, "%s/in.safetensors", tmpdir);
        const HostTensor *list[1] = {in};
        ck_assert_msg(tio_write_safetensors(inpath, list, 1, &err) == 0, "%s", err.msg);
    } else {
        snprintf(inpath, sizeof inpath, "%s/in.npy", tmpdir);
        ck_assert_msg(tio_write_npy(inpath, in, &err) == 0, "%s", err.msg);
    }
    snprintf(outpath, sizeof outpath, "%s/out.safetensors", tmpdir);
    const char *files[1] = {inpath};
    EvalOptions o;
    memset(&o, 0, sizeof o);
    o.expr = "i->i";
    o.files = files;
    o.nfiles = 1;
    o.out_path = outpath;
    o.out_dtype = out_dtype;
    o.copt.verify = 1;
    o.copt.cache_dir = getenv("UEAJ_CACHE");
    ck_assert_int_eq(ueaj_eval(&o), 0);
    SafeTensors st;
    ck_assert_msg(tio_st_open(outpath, &st, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(st.count, 1);
    *got_dt = st.tensors[0].dtype;
    void *copy = malloc(st.tensors[0].nbytes ? st.tensors[0].nbytes : 1);
    memcpy(copy, st.tensors[0].data, st.tensors[0].nbytes);
    tio_st_close(&st);
    unlink(inpath);
    unlink(outpath);
    return copy;
}

static void check_narrow(const char *fixture_name, DType in_dt)
{
    Rows r = read_rows(fixture_name);
    size_t esz = in_dt == DT_F64 ? 8 : 4;
    HostTensor in = {0};
    in.dtype = in_dt;
    in.rank = 1;
    in.shape[0] = r.n;
    in.nbytes = esz * (size_t)r.n;
    in.data = malloc(in.nbytes);
    in.view = 1;
    for (int i = 0; i < r.n; i++) {
        if (in_dt == DT_F64) memcpy((char *)in.data + 8 * (size_t)i, &r.in[i], 8);
        else { uint32_t v = (uint32_t)r.in[i]; memcpy((char *)in.data + 4 * (size_t)i, &v, 4); }
    }
    static const char *const names[4] = {"bf16", "f16", "f8e4m3", "f8e5m2"};
    static const DType dts[4] = {DT_BF16, DT_F16, DT_F8E4M3, DT_F8E5M2};
    for (int col = 0; col < 4; col++) {
        DType got;
        void *out = identity(&in, names[col], &got);
        ck_assert_int_eq(got, dts[col]);
        int bad = 0;
        for (int i = 0; i < r.n; i++) {
            uint32_t v = dtype_size(got) == 2 ? ((uint16_t *)out)[i] : ((uint8_t *)out)[i];
            if (v != r.out[i][col] && bad++ < 5)
                fprintf(stderr, "prelude: %s -> %s: input %0*llx gave %x, ml_dtypes %x\n", fixture_name, names[col],
                        in_dt == DT_F64 ? 16 : 8, (unsigned long long)r.in[i], v, r.out[i][col]);
        }
        free(out);
        ck_assert_msg(bad == 0, "%s -> %s: %d of %d rows differ from ml_dtypes", fixture_name, names[col], bad, r.n);
    }
    free(in.data);
    free(r.in);
    free(r.out);
}

START_TEST(store_from_f32) { check_narrow("f32_to_narrow.txt", DT_F32); }
END_TEST

START_TEST(store_from_f64) { check_narrow("f64_to_narrow.txt", DT_F64); }
END_TEST

START_TEST(load_fp8)
{
    FILE *f = fixture("fp8_decode.txt");
    uint32_t want[2][256];
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned code, a, b;
        if (line[0] == '#' || sscanf(line, "%x %x %x", &code, &a, &b) != 3 || code > 255) continue;
        want[0][code] = a;
        want[1][code] = b;
        n++;
    }
    fclose(f);
    ck_assert_int_eq(n, 256);
    for (int fmt = 0; fmt < 2; fmt++) {
        uint8_t codes[256];
        for (int i = 0; i < 256; i++) codes[i] = (uint8_t)i;
        HostTensor in = {0};
        in.name = "x";
        in.dtype = fmt == 0 ? DT_F8E4M3 : DT_F8E5M2;
        in.rank = 1;
        in.shape[0] = 256;
        in.nbytes = 256;
        in.data = codes;
        in.view = 1;
        DType got;
        uint32_t *out = identity(&in, "f32", &got);
        ck_assert_int_eq(got, DT_F32);
        for (int i = 0; i < 256; i++) {
            bool nan_w = (want[fmt][i] & 0x7F800000u) == 0x7F800000u && (want[fmt][i] & 0x7FFFFFu);
            bool nan_g = (out[i] & 0x7F800000u) == 0x7F800000u && (out[i] & 0x7FFFFFu);
            if (nan_w || nan_g) ck_assert_msg(nan_w && nan_g && (out[i] >> 31) == (want[fmt][i] >> 31),
                                              "code %02x: NaN mismatch %08x vs %08x", i, out[i], want[fmt][i]);
            else ck_assert_msg(out[i] == want[fmt][i], "%s code %02x: %08x, ml_dtypes %08x",
                               fmt ? "e5m2" : "e4m3", i, out[i], want[fmt][i]);
        }
        free(out);
    }
}
END_TEST

Suite *suite_prelude(void)
{
    Suite *s = suite_create("prelude");
    TCase *tc = tcase_create("generated_conversions");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, store_from_f32);
    tcase_add_test(tc, store_from_f64);
    tcase_add_test(tc, load_fp8);
    suite_add_tcase(s, tc);
    return s;
}
