/* test_gguf.c - the GGUF reader, ggml dequantization and `ueajc convert`
 * (runtime/gguf.c, runtime/convert.c).
 *
 * Fixtures (tests/gen_gguf_fixtures.py, committed under
 * tests/fixtures/gguf/): a complete tiny llama GGUF with tensors in nine
 * ggml types, metadata of every value type and a byte-level BPE
 * vocabulary, plus the safetensors file `ueajc convert` must produce from
 * it (values dequantized and q/k rows un-permuted by an independent NumPy
 * implementation) and a JSON file of the expected config and tokenizer
 * contents; a K-quant file (Q4_K, Q5_K, Q6_K) with its dequantized values.
 * The checks:
 *  - reading: header fields, alignment, every metadata value type, arrays
 *    (scalar, string, nested, empty), tensor infos, data offsets;
 *  - dequantization: every tensor of both files bit-exact;
 *  - conversion: tensor names, order, shapes and bits (f32; bf16 and f16
 *    as the RNE rounding of the expected f32), config.json,
 *    generation_config.json, tokenizer.json, tokenizer_config.json;
 *  - the output directory: atomic (no DIR and no leftovers after a failure),
 *    refusal to overwrite without --force, replacement with it;
 *  - 30 malformed GGUF files built here byte by byte (truncations, bad
 *    magic/version, impossible counts, bad types, offsets, alignment,
 *    overflow, duplicates, nesting, NUL bytes) and every truncation of the
 *    fixture, each rejected with its specific message, never a crash;
 *  - 20 well-formed GGUFs that are not convertible llama models (wrong
 *    architecture, missing or mistyped metadata, missing/extra/misshaped
 *    tensors, undequantizable types, unsupported tokenizers, merges out of
 *    the vocabulary, ...), each refused with its message, plus variants
 *    that must convert (tied embeddings, duplicate tokens, an embedded
 *    tokenizer.huggingface.json, no BOS, the smollm pre-tokenizer);
 *  - the command line (usage errors, --info).
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

#include <cjson/cJSON.h>
#include "convert.h"
#include "gguf.h"

/* ---------------------------------------------------------------- helpers */

static char basedir[256];
static char tmpdir[300];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void base_setup(void)
{
    snprintf(basedir, sizeof basedir, "/tmp/ueaj_gguf_XXXXXX");
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

static void remove_tmpdir(void)
{
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
    return buf;
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

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    if (n) ck_assert_uint_eq(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(p, 1, (size_t)len, fp), (size_t)len);
    p[len] = '\0';
    fclose(fp);
    if (n) *n = (size_t)len;
    return p;
}

static const char *fixture(char *buf, size_t n, const char *name)
{
    const char *root = getenv("UEAJ_ROOT");
    snprintf(buf, n, "%s/tests/fixtures/gguf/%s", root && *root ? root : ".", name);
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

static cJSON *read_json(const char *dir, const char *name)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *s = slurp(p, NULL);
    cJSON *j = cJSON_Parse(s);
    free(s);
    ck_assert_msg(j != NULL, "%s is not valid JSON", p);
    return j;
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "'%s' is not a number", key);
    return v->valuedouble;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsString(v), "'%s' is not a string", key);
    return v->valuestring;
}

static int jbool(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsBool(v), "'%s' is not a bool", key);
    return cJSON_IsTrue(v);
}

/* ---------------------------------------------------------------- building GGUF bytes */

typedef struct B { unsigned char *p; size_t n, cap; } B;

static void b_bytes(B *b, const void *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void b_u32(B *b, uint32_t v) { unsigned char c[4]; for (int i = 0; i < 4; i++) c[i] = (unsigned char)(v >> 8 * i); b_bytes(b, c, 4); }
static void b_u64(B *b, uint64_t v) { unsigned char c[8]; for (int i = 0; i < 8; i++) c[i] = (unsigned char)(v >> 8 * i); b_bytes(b, c, 8); }
static void b_strn(B *b, const char *s, size_t n) { b_u64(b, n); b_bytes(b, s, n); }
static void b_str(B *b, const char *s) { b_strn(b, s, strlen(s)); }
static void b_pad(B *b, size_t a) { while (b->n % a) b_bytes(b, "", 1); }

/* A GGUF under construction: metadata, tensor infos and data kept apart
 * until the counts are known. */
typedef struct Gb { B kv, ti, data; uint64_t nkv, nt; } Gb;

static void gb_key(Gb *g, const char *key, uint32_t type) { b_str(&g->kv, key); b_u32(&g->kv, type); g->nkv++; }
static void gb_str(Gb *g, const char *key, const char *v) { gb_key(g, key, GGUF_VT_STRING); b_str(&g->kv, v); }
static void gb_u32(Gb *g, const char *key, uint32_t v) { gb_key(g, key, GGUF_VT_UINT32); b_u32(&g->kv, v); }
static void gb_f32(Gb *g, const char *key, float v) { uint32_t u; memcpy(&u, &v, 4); gb_key(g, key, GGUF_VT_FLOAT32); b_u32(&g->kv, u); }
static void gb_bool(Gb *g, const char *key, int v) { unsigned char c = (unsigned char)v; gb_key(g, key, GGUF_VT_BOOL); b_bytes(&g->kv, &c, 1); }
static void gb_strarr(Gb *g, const char *key, const char *const *v, int n)
{
    gb_key(g, key, GGUF_VT_ARRAY);
    b_u32(&g->kv, GGUF_VT_STRING);
    b_u64(&g->kv, (uint64_t)n);
    for (int i = 0; i < n; i++) b_str(&g->kv, v[i]);
}
static void gb_i32arr(Gb *g, const char *key, const int32_t *v, int n)
{
    gb_key(g, key, GGUF_VT_ARRAY);
    b_u32(&g->kv, GGUF_VT_INT32);
    b_u64(&g->kv, (uint64_t)n);
    for (int i = 0; i < n; i++) b_u32(&g->kv, (uint32_t)v[i]);
}

/* A tensor with ne = [ne0, ne1] (ne1 = 0: 1-D) of small F32 values (or
 * zero bytes for other types), aligned to 32. */
static void gb_tensor(Gb *g, const char *name, int64_t ne0, int64_t ne1, uint32_t type)
{
    b_str(&g->ti, name);
    b_u32(&g->ti, ne1 ? 2 : 1);
    b_u64(&g->ti, (uint64_t)ne0);
    if (ne1) b_u64(&g->ti, (uint64_t)ne1);
    b_u32(&g->ti, type);
    b_pad(&g->data, 32);
    b_u64(&g->ti, g->data.n);
    int64_t rows = ne1 ? ne1 : 1;
    size_t nb = (size_t)(ne0 / gguf_type_block(type)) * gguf_type_size(type) * (size_t)rows;
    for (size_t i = 0; i < nb; i += 4) {
        float f = type == GGML_T_F32 ? (float)((i / 4) % 7) * 0.125f - 0.25f : 0.0f;
        b_bytes(&g->data, &f, 4);
    }
    g->data.n -= (4 - nb % 4) % 4;
    g->nt++;
}

/* Writes the GGUF to path (and frees the builder). */
static void gb_write(Gb *g, const char *path)
{
    B out = { 0 };
    b_bytes(&out, "GGUF", 4);
    b_u32(&out, 3);
    b_u64(&out, g->nt);
    b_u64(&out, g->nkv);
    b_bytes(&out, g->kv.p, g->kv.n);
    b_bytes(&out, g->ti.p, g->ti.n);
    b_pad(&out, 32);
    b_bytes(&out, g->data.p, g->data.n);
    write_file(path, out.p, out.n);
    free(out.p);
    free(g->kv.p);
    free(g->ti.p);
    free(g->data.p);
    memset(g, 0, sizeof *g);
}

/* ---------------------------------------------------------------- reading the fixture */

START_TEST(test_read_fixture)
{
    char p[512];
    GgufFile g;
    TioError err;
    ck_assert_msg(gguf_open(fixture(p, sizeof p, "tiny-llama.gguf"), &g, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(g.version, 3);
    ck_assert_uint_eq(g.alignment, 64);
    ck_assert_uint_eq(g.data_offset % 64, 0);
    ck_assert_int_eq(g.n_tensors, 21);
    ck_assert_int_eq(g.n_kv, 34);
    int64_t i;
    double f;
    ck_assert_str_eq(gguf_value_str(gguf_get(&g, "general.architecture")), "llama");
    ck_assert(gguf_value_int(gguf_get(&g, "llama.block_count"), &i) && i == 2);
    ck_assert_int_eq(gguf_get(&g, "llama.feed_forward_length")->type, GGUF_VT_UINT64);
    ck_assert(gguf_value_int(gguf_get(&g, "llama.feed_forward_length"), &i) && i == 64);
    ck_assert(gguf_value_int(gguf_get(&g, "llama.attention.head_count_kv"), &i) && i == 2);
    ck_assert(gguf_value_float(gguf_get(&g, "llama.attention.layer_norm_rms_epsilon"), &f) && f == (double)1e-6f);
    ck_assert(gguf_value_int(gguf_get(&g, "test.u8"), &i) && i == 200);
    ck_assert(gguf_value_int(gguf_get(&g, "test.i8"), &i) && i == -100);
    ck_assert(gguf_value_int(gguf_get(&g, "test.u16"), &i) && i == 60000);
    ck_assert(gguf_value_int(gguf_get(&g, "test.i16"), &i) && i == -30000);
    ck_assert(gguf_value_int(gguf_get(&g, "test.i64"), &i) && i == -((int64_t)1 << 40));
    ck_assert(!gguf_value_int(gguf_get(&g, "test.u64"), &i));          /* above INT64_MAX */
    ck_assert_uint_eq(gguf_get(&g, "test.u64")->v.u, ((uint64_t)1 << 63) + 5);
    ck_assert(gguf_value_float(gguf_get(&g, "test.f64"), &f) && f == -2.5e-300);
    ck_assert_int_eq(gguf_get(&g, "test.bool")->type, GGUF_VT_BOOL);
    ck_assert(!gguf_get(&g, "test.bool")->v.b);
    ck_assert_ptr_null(gguf_get(&g, "no.such.key"));
    ck_assert_ptr_null(gguf_value_str(gguf_get(&g, "test.u8")));
    GgufValue e;
    const GgufValue *a = gguf_get(&g, "test.arr_u8");
    ck_assert(a->type == GGUF_VT_ARRAY && a->v.arr.etype == GGUF_VT_UINT8 && a->v.arr.n == 3);
    ck_assert(gguf_arr_get(a, 2, &e) && e.type == GGUF_VT_UINT8 && e.v.u == 255);
    ck_assert(!gguf_arr_get(a, 3, &e));
    a = gguf_get(&g, "test.arr_f64");
    ck_assert(gguf_arr_get(a, 1, &e) && e.v.f == -1.25);
    a = gguf_get(&g, "test.arr_arr");
    ck_assert(a->v.arr.etype == GGUF_VT_ARRAY && a->v.arr.n == 2);
    ck_assert(gguf_arr_get(a, 0, &e) && e.v.arr.etype == GGUF_VT_INT16 && e.v.arr.n == 2);
    GgufValue e2;
    ck_assert(gguf_arr_get(&e, 0, &e2) && e2.v.i == -1);
    ck_assert(gguf_arr_get(a, 1, &e) && e.v.arr.etype == GGUF_VT_STRING);
    ck_assert(gguf_arr_get(&e, 1, &e2) && strcmp(e2.v.str.s, "yz") == 0 && e2.v.str.len == 2);
    a = gguf_get(&g, "test.empty_arr");
    ck_assert(a->v.arr.n == 0 && !gguf_arr_get(a, 0, &e));
    a = gguf_get(&g, "tokenizer.ggml.tokens");
    ck_assert(a->v.arr.n == 272 && gguf_arr_get(a, 1, &e) && strcmp(e.v.str.s, "<|im_start|>") == 0);
    const char *tmpl = gguf_value_str(gguf_get(&g, "tokenizer.chat_template"));
    ck_assert_ptr_nonnull(strstr(tmpl, "\t\"quoted\" \\ \xc3\xa9"));
    const GgufTensor *t = gguf_find_tensor(&g, "blk.0.attn_q.weight");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->type, GGML_T_Q4_0);
    ck_assert_int_eq(t->n_dims, 2);
    ck_assert(t->ne[0] == 32 && t->ne[1] == 32 && t->ne[2] == 1 && t->ne[3] == 1);
    ck_assert_uint_eq(t->nbytes, 32 * 18);
    ck_assert_uint_eq(t->offset % 64, 0);
    ck_assert_ptr_eq(t->data, (const unsigned char *)g.map + g.data_offset + t->offset);
    t = gguf_find_tensor(&g, "blk.1.attn_norm.weight");
    ck_assert(t && t->type == GGML_T_F64 && t->n_dims == 1 && t->nbytes == 32 * 8);
    ck_assert_ptr_null(gguf_find_tensor(&g, "blk.2.attn_q.weight"));
    gguf_close(&g);
    gguf_close(&g);                 /* harmless twice */
}
END_TEST

START_TEST(test_type_table)
{
    ck_assert_str_eq(gguf_type_name(GGML_T_Q4_1), "Q4_1");
    ck_assert_str_eq(gguf_type_name(GGML_T_BF16), "BF16");
    ck_assert_ptr_null(gguf_type_name(4));
    ck_assert_ptr_null(gguf_type_name(31));
    ck_assert_ptr_null(gguf_type_name(1000));
    ck_assert_int_eq(gguf_type_block(GGML_T_Q6_K), 256);
    ck_assert_uint_eq(gguf_type_size(GGML_T_Q6_K), 210);
    ck_assert_uint_eq(gguf_type_size(GGML_T_Q4_K), 144);
    ck_assert_uint_eq(gguf_type_size(GGML_T_Q5_K), 176);
    ck_assert_uint_eq(gguf_type_size(GGML_T_Q8_0), 34);
    ck_assert_uint_eq(gguf_type_size(GGML_T_Q5_1), 24);
    ck_assert_int_eq(gguf_type_block(36), 0);
    ck_assert(gguf_can_dequantize(GGML_T_Q4_1));
    ck_assert(!gguf_can_dequantize(GGML_T_IQ2_XXS));
    ck_assert(!gguf_can_dequantize(99));
    float y[32];
    unsigned char x[20] = { 0 };
    ck_assert(!gguf_dequantize(GGML_T_Q4_1, x, y, 16));          /* not whole blocks */
    ck_assert(!gguf_dequantize(GGML_T_IQ4_NL, x, y, 32));
    /* Q4_1 by hand: d = 0.5, m = -1: value = q/2 - 1; element 0 low nibble of
     * byte 0, element 16 its high nibble. */
    x[0] = 0x00; x[1] = 0x38;        /* f16 0.5 */
    x[2] = 0x00; x[3] = 0xbc;        /* f16 -1 */
    x[4] = 0xf3;
    ck_assert(gguf_dequantize(GGML_T_Q4_1, x, y, 32));
    ck_assert(y[0] == 0.5f && y[16] == 6.5f && y[1] == -1.0f && y[17] == -1.0f);
    ck_assert_str_eq(gguf_value_type_name(GGUF_VT_FLOAT64), "float64");
    ck_assert_str_eq(gguf_value_type_name((GgufValueType)40), "?");
}
END_TEST

/* Every tensor of a GGUF dequantized equals the expected f32 file (same
 * names; shape = reversed ne). */
static void check_dequant(const char *gguf_name, const char *expected_name)
{
    char p[512], q[512];
    GgufFile g;
    SafeTensors st;
    TioError err;
    ck_assert_msg(gguf_open(fixture(p, sizeof p, gguf_name), &g, &err) == 0, "%s", err.msg);
    ck_assert_msg(tio_st_open(fixture(q, sizeof q, expected_name), &st, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(st.count, (int)g.n_tensors);
    for (int64_t i = 0; i < g.n_tensors; i++) {
        const GgufTensor *t = &g.tensors[i];
        const HostTensor *h = tio_st_find(&st, t->name);
        ck_assert_msg(h != NULL, "no expected values for %s", t->name);
        ck_assert_int_eq(h->rank, t->n_dims);
        for (int d = 0; d < t->n_dims; d++) ck_assert_int_eq(h->shape[d], t->ne[t->n_dims - 1 - d]);
        int64_t n = tio_numel(h);
        float *y = malloc((size_t)n * sizeof *y);
        ck_assert(gguf_dequantize(t->type, t->data, y, n));
        ck_assert_msg(memcmp(y, h->data, (size_t)n * 4) == 0, "%s (%s) differs", t->name, gguf_type_name(t->type));
        free(y);
    }
    tio_st_close(&st);
    gguf_close(&g);
}

START_TEST(test_dequant_kquants)
{
    check_dequant("kquants.gguf", "kquants.expected.safetensors");
}
END_TEST

/* ---------------------------------------------------------------- converting the fixture */

/* The converted tensors equal the expected ones: same names in the same
 * order, same shapes; f32 bit-exact, bf16/f16 the RNE rounding. */
static void check_weights(const char *dir, DType dt)
{
    char p[600], q[512];
    SafeTensors out, exp;
    TioError err;
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    ck_assert_msg(tio_st_open(p, &out, &err) == 0, "%s", err.msg);
    ck_assert_msg(tio_st_open(fixture(q, sizeof q, "tiny-llama.expected.safetensors"), &exp, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(out.count, exp.count);
    for (int i = 0; i < exp.count; i++) {
        const HostTensor *e = &exp.tensors[i], *o = &out.tensors[i];
        ck_assert_str_eq(o->name, e->name);           /* the same order */
        ck_assert_int_eq(o->dtype, dt);
        ck_assert_int_eq(o->rank, e->rank);
        for (int d = 0; d < e->rank; d++) ck_assert_int_eq(o->shape[d], e->shape[d]);
        int64_t n = tio_numel(e);
        const float *ev = e->data;
        for (int64_t k = 0; k < n; k++) {
            if (dt == DT_F32) {
                ck_assert_msg(memcmp(&((const float *)o->data)[k], &ev[k], 4) == 0, "%s[%" PRId64 "]", e->name, k);
            } else {
                uint16_t want = dt == DT_BF16 ? f32_to_bf16(ev[k]) : f32_to_f16(ev[k]);
                ck_assert_msg(((const uint16_t *)o->data)[k] == want, "%s[%" PRId64 "]", e->name, k);
            }
        }
    }
    tio_st_close(&out);
    tio_st_close(&exp);
}

START_TEST(test_convert_fixture)
{
    make_tmpdir();
    char in[512], out[512], q[512];
    TioError err;
    ConvertReport rep;
    ConvertOptions opt = { DT_NONE, false };
    fixture(in, sizeof in, "tiny-llama.gguf");
    tmp_path(out, sizeof out, "tiny/");          /* a trailing slash is fine */
    ck_assert_msg(ueaj_convert_gguf(in, out, &opt, &rep, &err) == 0, "%s", err.msg);
    tmp_path(out, sizeof out, "tiny");
    ck_assert_int_eq(count_entries(tmpdir), 1);
    ck_assert_int_eq(count_entries(out), 5);
    ck_assert_int_eq(rep.n_tensors, 21);
    ck_assert_int_eq(rep.type_count[GGML_T_Q4_1], 3);
    ck_assert_int_eq(rep.type_count[GGML_T_F64], 1);
    ck_assert_int_eq(rep.n_vocab, 272);
    ck_assert_int_eq(rep.n_merges, 12);
    ck_assert_int_eq(rep.n_added, 4);
    ck_assert_int_eq(rep.n_duplicate_tokens, 0);
    ck_assert(!rep.tied && !rep.tokenizer_verbatim);
    check_weights(out, DT_F32);

    char *ej = slurp(fixture(q, sizeof q, "tiny-llama.expected.json"), NULL);
    cJSON *exp = cJSON_Parse(ej);
    free(ej);
    ck_assert_ptr_nonnull(exp);
    /* config.json */
    cJSON *cfg = read_json(out, "config.json");
    const cJSON *ec = cJSON_GetObjectItem(exp, "config"), *it;
    cJSON_ArrayForEach(it, ec) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, it->string);
        ck_assert_msg(v != NULL, "config.json lacks %s", it->string);
        if (cJSON_IsNumber(it)) ck_assert_msg(v->valuedouble == it->valuedouble, "config %s", it->string);
        else if (cJSON_IsBool(it)) ck_assert_msg(cJSON_IsTrue(v) == cJSON_IsTrue(it), "config %s", it->string);
        else if (!strcmp(it->string, "rms_norm_eps") || !strcmp(it->string, "rope_theta")) {
            /* floats are spelled as the shortest decimal: compare the text */
            char cp[600], want[128];
            snprintf(cp, sizeof cp, "%s/config.json", out);
            char *txt = slurp(cp, NULL);
            snprintf(want, sizeof want, "\"%s\": %s,", it->string, it->valuestring);
            ck_assert_msg(strstr(txt, want) != NULL, "config.json lacks '%s'", want);
            free(txt);
        } else ck_assert_str_eq(v->valuestring, it->valuestring);
    }
    ck_assert_str_eq(jstr(cfg, "torch_dtype"), "float32");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(cfg, "architectures"), 0)->valuestring, "LlamaForCausalLM");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cfg, "rope_scaling")));
    cJSON_Delete(cfg);
    cJSON *gen = read_json(out, "generation_config.json");
    ck_assert(jnum(gen, "bos_token_id") == 1 && jnum(gen, "eos_token_id") == 2);
    cJSON_Delete(gen);

    /* tokenizer.json */
    cJSON *tok = read_json(out, "tokenizer.json");
    const cJSON *model = cJSON_GetObjectItem(tok, "model");
    ck_assert_str_eq(jstr(model, "type"), "BPE");
    ck_assert(jbool(model, "ignore_merges"));           /* llama-bpe */
    ck_assert(!jbool(model, "byte_fallback"));
    const cJSON *vocab = cJSON_GetObjectItem(model, "vocab"), *ev = cJSON_GetObjectItem(exp, "vocab");
    ck_assert_int_eq(cJSON_GetArraySize(vocab), cJSON_GetArraySize(ev));
    cJSON_ArrayForEach(it, ev) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(vocab, it->string);
        ck_assert_msg(v && v->valuedouble == it->valuedouble, "vocab entry '%s'", it->string);
    }
    const cJSON *merges = cJSON_GetObjectItem(model, "merges"), *em = cJSON_GetObjectItem(exp, "merges");
    ck_assert_int_eq(cJSON_GetArraySize(merges), cJSON_GetArraySize(em));
    for (int k = 0; k < cJSON_GetArraySize(em); k++)
        ck_assert_str_eq(cJSON_GetArrayItem(merges, k)->valuestring, cJSON_GetArrayItem(em, k)->valuestring);
    const cJSON *added = cJSON_GetObjectItem(tok, "added_tokens"), *ea = cJSON_GetObjectItem(exp, "added_tokens");
    ck_assert_int_eq(cJSON_GetArraySize(added), cJSON_GetArraySize(ea));
    for (int k = 0; k < cJSON_GetArraySize(ea); k++) {
        const cJSON *a = cJSON_GetArrayItem(added, k), *b = cJSON_GetArrayItem(ea, k);
        ck_assert(jnum(a, "id") == jnum(b, "id"));
        ck_assert_str_eq(jstr(a, "content"), jstr(b, "content"));
        ck_assert_int_eq(jbool(a, "special"), jbool(b, "special"));
    }
    const cJSON *pre = cJSON_GetObjectItem(tok, "pre_tokenizer");
    ck_assert_str_eq(jstr(pre, "type"), "Sequence");
    const cJSON *pts = cJSON_GetObjectItem(pre, "pretokenizers");
    ck_assert_int_eq(cJSON_GetArraySize(pts), 2);
    ck_assert_str_eq(jstr(cJSON_GetArrayItem(pts, 0), "type"), "Split");
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 0), "pattern"), "Regex"),
                     "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
                     "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    ck_assert_str_eq(jstr(cJSON_GetArrayItem(pts, 0), "behavior"), "Isolated");
    ck_assert_str_eq(jstr(cJSON_GetArrayItem(pts, 1), "type"), "ByteLevel");
    ck_assert(!jbool(cJSON_GetArrayItem(pts, 1), "use_regex"));
    const cJSON *pp = cJSON_GetObjectItem(tok, "post_processor");   /* add_bos_token: BOS template */
    ck_assert_str_eq(jstr(pp, "type"), "TemplateProcessing");
    const cJSON *single = cJSON_GetObjectItem(pp, "single");
    ck_assert_int_eq(cJSON_GetArraySize(single), 2);
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(single, 0), "SpecialToken"), "id"), "<|im_start|>");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(pp, "pair")), 4);
    const cJSON *sp = cJSON_GetObjectItem(cJSON_GetObjectItem(pp, "special_tokens"), "<|im_start|>");
    ck_assert(cJSON_GetArrayItem(cJSON_GetObjectItem(sp, "ids"), 0)->valuedouble == 1);
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(tok, "decoder"), "type"), "ByteLevel");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(tok, "normalizer")));
    cJSON_Delete(tok);

    /* tokenizer_config.json */
    cJSON *tc = read_json(out, "tokenizer_config.json");
    const cJSON *et = cJSON_GetObjectItem(exp, "tokenizer_config");
    ck_assert_str_eq(jstr(tc, "bos_token"), jstr(et, "bos_token"));
    ck_assert_str_eq(jstr(tc, "eos_token"), jstr(et, "eos_token"));
    ck_assert_str_eq(jstr(tc, "chat_template"), jstr(et, "chat_template"));
    ck_assert_int_eq(jbool(tc, "add_bos_token"), jbool(et, "add_bos_token"));
    ck_assert(!jbool(tc, "add_eos_token"));
    ck_assert(jnum(tc, "model_max_length") == jnum(et, "model_max_length"));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(tc, "unk_token")));
    const cJSON *dec = cJSON_GetObjectItem(tc, "added_tokens_decoder");
    ck_assert_int_eq(cJSON_GetArraySize(dec), 4);
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(dec, "271"), "content"), "<tool>");
    ck_assert(!jbool(cJSON_GetObjectItem(dec, "271"), "special"));
    cJSON_Delete(tc);
    cJSON_Delete(exp);
    remove_tmpdir();
}
END_TEST

START_TEST(test_convert_dtypes)
{
    make_tmpdir();
    char in[512], out[512];
    TioError err;
    fixture(in, sizeof in, "tiny-llama.gguf");
    ConvertOptions opt = { DT_BF16, false };
    tmp_path(out, sizeof out, "bf16");
    ck_assert_msg(ueaj_convert_gguf(in, out, &opt, NULL, &err) == 0, "%s", err.msg);
    check_weights(out, DT_BF16);
    cJSON *cfg = read_json(out, "config.json");
    ck_assert_str_eq(jstr(cfg, "torch_dtype"), "bfloat16");
    cJSON_Delete(cfg);
    opt.dtype = DT_F16;
    tmp_path(out, sizeof out, "f16");
    ck_assert_msg(ueaj_convert_gguf(in, out, &opt, NULL, &err) == 0, "%s", err.msg);
    check_weights(out, DT_F16);
    opt.dtype = DT_F8E4M3;
    tmp_path(out, sizeof out, "fp8");
    ck_assert_int_eq(ueaj_convert_gguf(in, out, &opt, NULL, &err), -1);
    assert_error(&err, out, "output dtype f8e4m3 is not supported");
    ck_assert_int_eq(count_entries(tmpdir), 2);
    remove_tmpdir();
}
END_TEST

START_TEST(test_convert_atomic)
{
    make_tmpdir();
    char in[512], out[512], p[600], bad[512];
    TioError err;
    ConvertOptions opt = { DT_F32, false };
    fixture(in, sizeof in, "tiny-llama.gguf");
    tmp_path(out, sizeof out, "model");
    /* an existing empty directory is replaced */
    ck_assert_int_eq(mkdir(out, 0755), 0);
    ck_assert_msg(ueaj_convert_gguf(in, out, &opt, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(count_entries(out), 5);
    /* a non-empty one is refused without --force, and left alone */
    snprintf(p, sizeof p, "%s/marker", out);
    write_file(p, "x", 1);
    ck_assert_int_eq(ueaj_convert_gguf(in, out, &opt, NULL, &err), -1);
    assert_error(&err, out, "already exists and is not empty (use --force to replace it)");
    ck_assert_int_eq(count_entries(out), 6);
    ck_assert_int_eq(count_entries(tmpdir), 1);
    /* --force replaces it; nothing is left beside it */
    opt.force = true;
    ck_assert_msg(ueaj_convert_gguf(in, out, &opt, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(count_entries(out), 5);
    ck_assert_int_eq(access(p, F_OK), -1);
    ck_assert_int_eq(count_entries(tmpdir), 1);
    check_weights(out, DT_F32);
    /* a failed conversion leaves neither DIR nor a temporary */
    tmp_path(bad, sizeof bad, "bad.gguf");
    Gb g = { 0 };
    gb_str(&g, "general.architecture", "llama");
    gb_write(&g, bad);
    tmp_path(out, sizeof out, "new");
    ck_assert_int_eq(ueaj_convert_gguf(bad, out, &opt, NULL, &err), -1);
    assert_error(&err, bad, "metadata 'llama.embedding_length' is missing");
    ck_assert_int_eq(count_entries(tmpdir), 2);
    ck_assert_int_eq(access(out, F_OK), -1);
    /* an input that is not there */
    tmp_path(bad, sizeof bad, "missing.gguf");
    ck_assert_int_eq(ueaj_convert_gguf(bad, out, &opt, NULL, &err), -1);
    assert_error(&err, bad, "cannot open");
    /* the output is a file */
    tmp_path(out, sizeof out, "bad.gguf");
    ck_assert_int_eq(ueaj_convert_gguf(in, out, &opt, NULL, &err), -1);
    assert_error(&err, out, "exists and is not a directory");
    ck_assert_int_eq(ueaj_convert_gguf(in, "", &opt, NULL, &err), -1);
    ck_assert_int_eq(ueaj_convert_gguf(in, "/", &opt, NULL, &err), -1);
    assert_error(&err, "/", "cannot replace this directory");
    ck_assert_int_eq(count_entries(tmpdir), 2);
    remove_tmpdir();
}
END_TEST

/* ---------------------------------------------------------------- malformed files */

typedef struct Bad { const char *what; int kind; const char *want; } Bad;

/* Writes a small valid prefix: header with the given counts. */
static void hdr(B *b, uint32_t version, uint64_t nt, uint64_t nkv)
{
    b_bytes(b, "GGUF", 4);
    b_u32(b, version);
    b_u64(b, nt);
    b_u64(b, nkv);
}

/* One tensor info. */
static void tinfo(B *b, const char *name, uint32_t nd, const uint64_t *ne, uint32_t type, uint64_t off)
{
    b_str(b, name);
    b_u32(b, nd);
    for (uint32_t i = 0; i < nd; i++) b_u64(b, ne[i]);
    b_u32(b, type);
    b_u64(b, off);
}

static const Bad bad_cases[] = {
    { "empty file", 0, "truncated file: 0 bytes, too short for the GGUF magic at offset 0" },
    { "bad magic", 1, "bad magic 'GGML' at offset 0 (not a GGUF file)" },
    { "version 1", 2, "GGUF version 1 at offset 4 is not supported (only 2 and 3)" },
    { "version 4", 3, "unsupported GGUF version 4 at offset 4" },
    { "big endian", 4, "big-endian GGUF file (version 3 byte-swapped at offset 4) is not supported" },
    { "truncated counts", 5, "truncated file: the tensor count needs 8 bytes at offset 8, but the file ends at 12" },
    { "huge kv count", 6, "metadata count 1152921504606846976 at offset 16 is impossible in a file of 24 bytes" },
    { "huge tensor count", 7, "tensor count 4294967296 at offset 8 is impossible" },
    { "key length past end", 8, "metadata pair 0: key at offset 24: length 1000 runs past the end of the file" },
    { "unknown value type", 9, "metadata 'k' (key at offset 24): unknown value type 13 at offset 33 (known: 0..12)" },
    { "bool 2", 10, "metadata 'k' (key at offset 24): invalid bool value 2 at offset 37" },
    { "huge array", 11, "metadata 'k' (key at offset 24): array length 1000000 at offset 41 is impossible" },
    { "nesting", 12, "arrays nested more than 4 deep" },
    { "duplicate key", 13, "duplicate metadata key 'k' at offsets 24 and 38" },
    { "alignment 48", 14, "metadata 'general.alignment' (key at offset 24): 48 is not a power of two" },
    { "alignment u64", 15, "metadata 'general.alignment' (key at offset 24) has type uint64, expected uint32" },
    { "5 dims", 16, "tensor 't' (info at offset 24): 5 dimensions at offset 33 (at most 4)" },
    { "type 4", 17, "tensor 't' (info at offset 24): unknown ggml type 4 at offset 45" },
    { "type 99", 18, "unknown ggml type 99" },
    { "row not whole blocks", 19, "tensor 't' (info at offset 24): row length ne[0] = 33 is not a multiple of the Q4_1 block size 32" },
    { "unaligned offset", 20, "tensor 't' (info at offset 24): data offset 8 is not a multiple of the alignment 32" },
    { "data past end", 21, "tensor 't' (info at offset 24): data [0, +128) at file offset 64 runs past the end of the file (128 bytes)" },
    { "shape overflow", 22, "tensor 't' (info at offset 24): shape [1099511627776, 1099511627776, 1, 1] overflows" },
    { "duplicate tensor", 23, "duplicate tensor name 't' (infos at offsets 24 and 57)" },
    { "overlap", 24, "the data of tensors 'a' [0, 64) and 'b' [32, 48) overlap" },
    { "NUL in key", 25, "metadata pair 0: key at offset 24 contains a NUL byte" },
    { "no data section", 26, "truncated file: the data section starts at offset 64" },
    { "dim too large", 27, "dimension 0 = 9223372036854775808 at offset 37 is too large" },
    { "string value past end", 28, "metadata 'k' (key at offset 24): string value at offset 37: length 50 runs past" },
    { "truncated tensor info", 29, "tensor 't' (info at offset 24): truncated file: type needs 4 bytes at offset 53, but the file ends at 55" },
    { "NUL in tensor name", 30, "tensor info 0 (at offset 24): name at offset 24 contains a NUL byte" },
    { "invalid bool in array", 31, "metadata 'k' (key at offset 24): invalid bool value 7 at offset 51" },
    /* seen while writing fuzz_gguf: only neighbours in offset order were compared */
    { "overlap behind an empty tensor", 32, "the data of tensors 'a' [0, 128) and 'b' [64, 80) overlap" },
};

static void build_bad(B *b, int kind)
{
    uint64_t ne[5] = { 32, 1, 1, 1, 1 };
    switch (kind) {
    case 0: break;
    case 1: b_bytes(b, "GGML", 4); b_u32(b, 3); b_u64(b, 0); b_u64(b, 0); break;
    case 2: hdr(b, 1, 0, 0); break;
    case 3: hdr(b, 4, 0, 0); break;
    case 4: b_bytes(b, "GGUF\0\0\0\3", 8); b_u64(b, 0); b_u64(b, 0); break;
    case 5: b_bytes(b, "GGUF", 4); b_u32(b, 3); b_u32(b, 0); break;
    case 6: hdr(b, 3, 0, (uint64_t)1 << 60); break;
    case 7: hdr(b, 3, (uint64_t)1 << 32, 0); b_bytes(b, "0123456789", 10); break;
    case 8: hdr(b, 3, 0, 1); b_u64(b, 1000); b_bytes(b, "k with some more bytes", 22); break;
    case 9: hdr(b, 3, 0, 1); b_str(b, "k"); b_u32(b, 13); b_u32(b, 0); break;
    case 10: hdr(b, 3, 0, 1); b_str(b, "k"); b_u32(b, GGUF_VT_BOOL); b_bytes(b, "\2", 1); break;
    case 11: hdr(b, 3, 0, 1); b_str(b, "k"); b_u32(b, GGUF_VT_ARRAY); b_u32(b, GGUF_VT_UINT32); b_u64(b, 1000000);
             b_bytes(b, "abcdabcd", 8); break;
    case 12: hdr(b, 3, 0, 1); b_str(b, "k"); b_u32(b, GGUF_VT_ARRAY);
             for (int i = 0; i < 6; i++) { b_u32(b, GGUF_VT_ARRAY); b_u64(b, 1); }
             b_u32(b, GGUF_VT_UINT8); b_u64(b, 0); break;
    case 13: hdr(b, 3, 0, 2); for (int i = 0; i < 2; i++) { b_str(b, "k"); b_u32(b, GGUF_VT_UINT8); b_bytes(b, "\1", 1); } break;
    case 14: hdr(b, 3, 0, 1); b_str(b, "general.alignment"); b_u32(b, GGUF_VT_UINT32); b_u32(b, 48); break;
    case 15: hdr(b, 3, 0, 1); b_str(b, "general.alignment"); b_u32(b, GGUF_VT_UINT64); b_u64(b, 64); break;
    case 16: hdr(b, 3, 1, 0); tinfo(b, "t", 5, ne, GGML_T_F32, 0); break;
    case 17: hdr(b, 3, 1, 0); tinfo(b, "t", 1, ne, 4, 0); b_pad(b, 32); b_bytes(b, basedir, 200); break;
    case 18: hdr(b, 3, 1, 0); tinfo(b, "t", 1, ne, 99, 0); b_pad(b, 32); b_bytes(b, basedir, 200); break;
    case 19: ne[0] = 33; hdr(b, 3, 1, 0); tinfo(b, "t", 1, ne, GGML_T_Q4_1, 0); b_pad(b, 32); b_bytes(b, basedir, 64); break;
    case 20: hdr(b, 3, 1, 0); tinfo(b, "t", 1, ne, GGML_T_F32, 8); b_pad(b, 32); b_bytes(b, basedir, 256); break;
    case 21: hdr(b, 3, 1, 0); tinfo(b, "t", 1, ne, GGML_T_F32, 0); b_pad(b, 32); b_bytes(b, basedir, 64); break;
    case 22: ne[0] = ne[1] = (uint64_t)1 << 40; hdr(b, 3, 1, 0); tinfo(b, "t", 2, ne, GGML_T_F32, 0); b_pad(b, 32); break;
    case 23: hdr(b, 3, 2, 0); tinfo(b, "t", 1, ne, GGML_T_F32, 0); tinfo(b, "t", 1, ne, GGML_T_F32, 128);
             b_pad(b, 32); b_bytes(b, basedir, 256); break;
    case 24: ne[0] = 16; hdr(b, 3, 2, 0); tinfo(b, "b", 1, (const uint64_t[]){ 4 }, GGML_T_F32, 32);
             tinfo(b, "a", 1, ne, GGML_T_F32, 0); b_pad(b, 32); b_bytes(b, basedir, 64); break;
    case 25: hdr(b, 3, 0, 1); b_strn(b, "a\0b", 3); b_u32(b, GGUF_VT_UINT8); b_bytes(b, "\1", 1); break;
    case 26: ne[0] = 4; hdr(b, 3, 1, 0); tinfo(b, "t", 1, ne, GGML_T_F32, 0); b_bytes(b, "\0\0\0", 3); break;
    case 27: ne[0] = (uint64_t)1 << 63; hdr(b, 3, 1, 0); tinfo(b, "t", 1, ne, GGML_T_F32, 0); break;
    case 28: hdr(b, 3, 0, 1); b_str(b, "k"); b_u32(b, GGUF_VT_STRING); b_u64(b, 50); b_bytes(b, "short", 5); break;
    case 29: hdr(b, 3, 1, 0); b_str(b, "t"); b_u32(b, 2); b_u64(b, 32); b_u64(b, 2); b_bytes(b, "\0\0", 2); break;
    case 30: hdr(b, 3, 1, 0); b_strn(b, "t\0", 2); b_u32(b, 1); b_u64(b, 32); b_u32(b, 0); b_u64(b, 0); break;
    case 32: hdr(b, 3, 3, 0); tinfo(b, "b", 1, (const uint64_t[]){ 4 }, GGML_T_F32, 64);
             tinfo(b, "a", 1, ne, GGML_T_F32, 0); tinfo(b, "z", 2, (const uint64_t[]){ 4, 0 }, GGML_T_F32, 32);
             b_pad(b, 32); b_bytes(b, basedir, 128); break;
    case 31: hdr(b, 3, 0, 1); b_str(b, "k"); b_u32(b, GGUF_VT_ARRAY); b_u32(b, GGUF_VT_BOOL); b_u64(b, 3);
             b_bytes(b, "\1\0\7", 3); break;
    default: ck_abort_msg("no case %d", kind);
    }
}

START_TEST(test_malformed)
{
    make_tmpdir();
    const Bad *c = &bad_cases[_i];
    B b = { 0 };
    build_bad(&b, c->kind);
    char p[512];
    tmp_path(p, sizeof p, "bad.gguf");
    write_file(p, b.p, b.n);
    free(b.p);
    GgufFile g;
    TioError err;
    memset(&g, 0x5a, sizeof g);
    ck_assert_msg(gguf_open(p, &g, &err) == -1, "case '%s' was accepted", c->what);
    assert_error(&err, p, c->want);
    ck_assert_ptr_null(g.map);
    ck_assert_ptr_null(g.kv);
    ck_assert_ptr_null(g.tensors);
    ck_assert_ptr_null(g.path);
    ck_assert_int_eq(g.n_tensors, 0);
    gguf_close(&g);
    /* the converter reports the same and writes nothing */
    char out[512];
    tmp_path(out, sizeof out, "out");
    ck_assert_int_eq(ueaj_convert_gguf(p, out, NULL, NULL, &err), -1);
    assert_error(&err, p, c->want);
    ck_assert_int_eq(count_entries(tmpdir), 1);
    remove_tmpdir();
}
END_TEST

START_TEST(test_truncations)
{
    make_tmpdir();
    char f[512], p[512];
    size_t n;
    char *raw = slurp(fixture(f, sizeof f, "tiny-llama.gguf"), &n);
    GgufFile g;
    TioError err;
    ck_assert_int_eq(gguf_open(f, &g, &err), 0);
    size_t data = (size_t)g.data_offset;
    gguf_close(&g);
    tmp_path(p, sizeof p, "cut.gguf");
    /* every length through the header and tensor infos, then a stride */
    for (size_t len = 0; len < n; len += len < data + 64 ? 1 : 61) {
        write_file(p, raw, len);
        ck_assert_msg(gguf_open(p, &g, &err) == -1, "truncated to %zu bytes was accepted", len);
        ck_assert_int_eq(strncmp(err.msg, p, strlen(p)), 0);
        ck_assert_ptr_null(g.map);
    }
    /* every single-byte corruption of the header region either opens or is
     * refused cleanly (no crash; ASan checks the reads) */
    for (size_t k = 0; k < data; k += 3) {
        char save = raw[k];
        raw[k] = (char)(raw[k] ^ 0x5a);
        write_file(p, raw, n);
        if (gguf_open(p, &g, &err) == 0) gguf_close(&g);
        else ck_assert_int_eq(strncmp(err.msg, p, strlen(p)), 0);
        raw[k] = save;
    }
    free(raw);
    ck_assert_int_eq(gguf_open(tmpdir, &g, &err), -1);
    assert_error(&err, tmpdir, "not a regular file");
    remove_tmpdir();
}
END_TEST

/* ---------------------------------------------------------------- convertible or not */

/* A tiny llama built here: d = 32, F = 32, 1 layer, 2 heads, 1 KV head
 * (head dim 16), tokens <s> a b ab, merge "a b"; F32 tensors.  Each
 * field of Mut changes one thing. */
typedef struct Mut {
    const char *arch, *tok_model, *pre, *merge, *tok1, *skip, *extra, *shrink, *rope_type, *hf_json, *dup;
    int no_block_count, block_count_str, no_eps, tied, no_bos, no_bos_id, rope_dim, heads, bos;
    uint32_t q_type;
} Mut;

static void build_llama(const char *path, const Mut *m)
{
    Gb g = { 0 };
    gb_str(&g, "general.architecture", m->arch ? m->arch : "llama");
    if (m->block_count_str) gb_str(&g, "llama.block_count", "1");
    else if (!m->no_block_count) gb_u32(&g, "llama.block_count", 1);
    gb_u32(&g, "llama.context_length", 64);
    gb_u32(&g, "llama.embedding_length", 32);
    gb_u32(&g, "llama.feed_forward_length", 32);
    gb_u32(&g, "llama.attention.head_count", m->heads ? (uint32_t)m->heads : 2);
    gb_u32(&g, "llama.attention.head_count_kv", 1);
    if (!m->no_eps) gb_f32(&g, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    if (m->rope_dim) gb_u32(&g, "llama.rope.dimension_count", (uint32_t)m->rope_dim);
    if (m->rope_type) { gb_str(&g, "llama.rope.scaling.type", m->rope_type); gb_f32(&g, "llama.rope.scaling.factor", 4.0f); }
    gb_str(&g, "tokenizer.ggml.model", m->tok_model ? m->tok_model : "gpt2");
    if (!m->pre || *m->pre) gb_str(&g, "tokenizer.ggml.pre", m->pre ? m->pre : "gpt-2");
    const char *toks[5] = { "<s>", m->tok1 ? m->tok1 : "a", "b", "ab", m->dup ? m->dup : "c" };
    gb_strarr(&g, "tokenizer.ggml.tokens", toks, 5);
    int32_t types[5] = { 3, 1, 1, 1, 1 };
    gb_i32arr(&g, "tokenizer.ggml.token_type", types, 5);
    const char *merges[1] = { m->merge ? m->merge : "a b" };
    gb_strarr(&g, "tokenizer.ggml.merges", merges, 1);
    if (!m->no_bos_id) gb_u32(&g, "tokenizer.ggml.bos_token_id", m->bos ? (uint32_t)m->bos : 0);
    gb_u32(&g, "tokenizer.ggml.eos_token_id", 0);
    gb_bool(&g, "tokenizer.ggml.add_bos_token", !m->no_bos);
    if (m->hf_json) gb_str(&g, "tokenizer.huggingface.json", m->hf_json);
    static const struct { const char *name; int64_t ne0, ne1; } ts[] = {
        { "token_embd.weight", 32, 5 }, { "output_norm.weight", 32, 0 }, { "output.weight", 32, 5 },
        { "blk.0.attn_norm.weight", 32, 0 }, { "blk.0.attn_q.weight", 32, 32 }, { "blk.0.attn_k.weight", 32, 16 },
        { "blk.0.attn_v.weight", 32, 16 }, { "blk.0.attn_output.weight", 32, 32 },
        { "blk.0.ffn_norm.weight", 32, 0 }, { "blk.0.ffn_gate.weight", 32, 32 }, { "blk.0.ffn_up.weight", 32, 32 },
        { "blk.0.ffn_down.weight", 32, 32 },
    };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        if ((m->skip && !strcmp(m->skip, ts[i].name)) || (m->tied && !strcmp(ts[i].name, "output.weight"))) continue;
        uint32_t type = !strcmp(ts[i].name, "blk.0.attn_q.weight") && m->q_type ? m->q_type : GGML_T_F32;
        int64_t ne1 = m->shrink && !strcmp(m->shrink, ts[i].name) ? ts[i].ne1 / 2 : ts[i].ne1;
        gb_tensor(&g, ts[i].name, ts[i].ne0, ne1, type);
    }
    if (m->extra) gb_tensor(&g, m->extra, 32, 32, GGML_T_F32);
    gb_write(&g, path);
}

typedef struct Sem { const char *what; Mut m; const char *want; } Sem;

static const Sem sem_cases[] = {
    { "architecture", { .arch = "gpt2" }, "architecture 'gpt2' is not supported (only 'llama')" },
    { "no block count", { .no_block_count = 1 }, "metadata 'llama.block_count' is missing (needed for config.json)" },
    { "block count string", { .block_count_str = 1 }, "metadata 'llama.block_count' has type string, expected an integer" },
    { "no eps", { .no_eps = 1 }, "metadata 'llama.attention.layer_norm_rms_epsilon' is missing" },
    { "heads vs width", { .heads = 5 }, "embedding_length 32 is not a multiple of head_count 5" },
    { "partial rotary", { .rope_dim = 8 }, "rope.dimension_count 8 differs from the head dimension 16 (partial rotary" },
    { "yarn", { .rope_type = "yarn" }, "rope scaling type 'yarn' is not supported (only linear)" },
    { "missing tensor", { .skip = "blk.0.ffn_up.weight" }, "tensor 'blk.0.ffn_up.weight' is missing" },
    { "missing embedding", { .skip = "token_embd.weight" }, "tensor 'token_embd.weight' is missing" },
    { "extra tensor", { .extra = "blk.0.attn_q.bias" }, "tensor 'blk.0.attn_q.bias' (info at offset" },
    { "layer beyond", { .extra = "blk.1.attn_q.weight" }, "layer 1 is beyond llama.block_count 1" },
    { "leading zero layer", { .extra = "blk.00.attn_q.weight" }, "'blk.00.attn_q.weight' (info at offset" },
    { "rope_freqs", { .extra = "rope_freqs.weight" }, "llama3-style rope scaling (rope_freqs) is not supported" },
    { "shape", { .shrink = "blk.0.attn_k.weight" }, "tensor 'blk.0.attn_k.weight' (info at offset" },
    { "undequantizable", { .q_type = GGML_T_IQ4_NL }, "tensor 'blk.0.attn_q.weight' has type IQ4_NL, which convert cannot dequantize" },
    { "spm tokenizer", { .tok_model = "llama" }, "tokenizer model 'llama' is not supported (only 'gpt2', byte-level BPE)" },
    { "unknown pre", { .pre = "qwen2" }, "pre-tokenizer 'qwen2' (tokenizer.ggml.pre) is not supported" },
    { "merge out of vocab", { .merge = "a c2" }, "tokenizer.ggml.merges[0] 'a c2': its second token is not in the vocabulary" },
    { "merge result out of vocab", { .merge = "b a" }, "tokenizer.ggml.merges[0] 'b a': the merged token is not in" },
    { "merge without space", { .merge = "ab" }, "tokenizer.ggml.merges[0] 'ab' is not two tokens separated by one space" },
    { "invalid utf-8", { .tok1 = "\xff" }, "tokenizer.ggml.tokens[1] is not valid UTF-8" },
    { "overlong utf-8", { .tok1 = "\xc0\xaf" }, "tokenizer.ggml.tokens[1] is not valid UTF-8" },
    { "bos out of range", { .bos = 7 }, "metadata 'tokenizer.ggml.bos_token_id' = 7 is not a token id (vocabulary of 5)" },
    { "bad hf json", { .hf_json = "{not json" }, "metadata 'tokenizer.huggingface.json' is not a JSON string" },
    /* found by fuzz_gguf: it converted, but the tokenizer_config.json said
     * add_bos_token true with bos_token null, which tok_load (and HF) refuse */
    { "add_bos without bos", { .no_bos_id = 1 }, "metadata 'tokenizer.ggml.add_bos_token' is true, but there is no"
      " 'tokenizer.ggml.bos_token_id'" },
};

START_TEST(test_semantic)
{
    make_tmpdir();
    const Sem *c = &sem_cases[_i];
    char p[512], out[512];
    tmp_path(p, sizeof p, "m.gguf");
    tmp_path(out, sizeof out, "out");
    build_llama(p, &c->m);
    TioError err;
    ck_assert_msg(ueaj_convert_gguf(p, out, NULL, NULL, &err) == -1, "case '%s' was accepted", c->what);
    assert_error(&err, p, c->want);
    ck_assert_int_eq(count_entries(tmpdir), 1);
    remove_tmpdir();
}
END_TEST

static cJSON *convert_built(const Mut *m, ConvertReport *rep, char *out, size_t n)
{
    char p[512];
    tmp_path(p, sizeof p, "m.gguf");
    build_llama(p, m);
    tmp_path(out, n, "out");
    TioError err;
    ConvertOptions opt = { DT_F32, true };
    ck_assert_msg(ueaj_convert_gguf(p, out, &opt, rep, &err) == 0, "%s", err.msg);
    return read_json(out, "tokenizer.json");
}

START_TEST(test_variants)
{
    make_tmpdir();
    char out[512];
    ConvertReport rep;
    /* the base model converts; BOS template; GPT-2 regex */
    Mut m = { 0 };
    cJSON *tok = convert_built(&m, &rep, out, sizeof out);
    ck_assert(!rep.tied);
    ck_assert_int_eq(rep.n_tensors, 12);
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(tok, "post_processor"), "type"), "TemplateProcessing");
    const cJSON *pts = cJSON_GetObjectItem(cJSON_GetObjectItem(tok, "pre_tokenizer"), "pretokenizers");
    ck_assert_int_eq(cJSON_GetArraySize(pts), 2);
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 0), "pattern"), "Regex"),
                     "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
    ck_assert(!jbool(cJSON_GetObjectItem(tok, "model"), "ignore_merges"));
    cJSON_Delete(tok);
    cJSON *cfg = read_json(out, "config.json");
    ck_assert(!jbool(cfg, "tie_word_embeddings"));
    ck_assert(jnum(cfg, "head_dim") == 16 && jnum(cfg, "num_key_value_heads") == 1);
    ck_assert(jnum(cfg, "rope_theta") == 10000.0);   /* the default */
    cJSON_Delete(cfg);

    /* tied embeddings: no lm_head */
    m = (Mut){ .tied = 1, .no_bos = 1, .pre = "smollm", .rope_type = "linear" };
    tok = convert_built(&m, &rep, out, sizeof out);
    ck_assert(rep.tied);
    ck_assert_int_eq(rep.n_tensors, 11);
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(tok, "post_processor"), "type"), "ByteLevel");
    pts = cJSON_GetObjectItem(cJSON_GetObjectItem(tok, "pre_tokenizer"), "pretokenizers");
    ck_assert_int_eq(cJSON_GetArraySize(pts), 3);
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 0), "pattern"), "Regex"), "\\p{N}");
    cJSON_Delete(tok);
    cfg = read_json(out, "config.json");
    ck_assert(jbool(cfg, "tie_word_embeddings"));
    const cJSON *rs = cJSON_GetObjectItem(cfg, "rope_scaling");
    ck_assert_str_eq(jstr(rs, "rope_type"), "linear");
    ck_assert(jnum(rs, "factor") == 4.0);
    cJSON_Delete(cfg);
    char p[600];
    snprintf(p, sizeof p, "%s/model.safetensors", out);
    SafeTensors st;
    TioError err;
    ck_assert_msg(tio_st_open(p, &st, &err) == 0, "%s", err.msg);
    ck_assert_ptr_null(tio_st_find(&st, "lm_head.weight"));
    ck_assert_ptr_nonnull(tio_st_find(&st, "model.embed_tokens.weight"));
    tio_st_close(&st);

    /* a duplicate token string keeps its first id */
    m = (Mut){ .dup = "a" };
    tok = convert_built(&m, &rep, out, sizeof out);
    ck_assert_int_eq(rep.n_duplicate_tokens, 1);
    const cJSON *vocab = cJSON_GetObjectItem(cJSON_GetObjectItem(tok, "model"), "vocab");
    ck_assert_int_eq(cJSON_GetArraySize(vocab), 4);
    ck_assert(jnum(vocab, "a") == 1);
    cJSON_Delete(tok);

    /* tokenizer.huggingface.json is written verbatim */
    m = (Mut){ .hf_json = "{\"model\": {\"type\": \"Unigram\"}}" };
    tok = convert_built(&m, &rep, out, sizeof out);
    ck_assert(rep.tokenizer_verbatim);
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(tok, "model"), "type"), "Unigram");
    cJSON_Delete(tok);
    cJSON *tc = read_json(out, "tokenizer_config.json");
    ck_assert_str_eq(jstr(tc, "bos_token"), "<s>");
    ck_assert_ptr_null(cJSON_GetObjectItem(tc, "added_tokens_decoder"));
    cJSON_Delete(tc);
    /* an absent tokenizer.ggml.pre means llama.cpp's "default" */
    m = (Mut){ .pre = "" };
    tok = convert_built(&m, &rep, out, sizeof out);
    cJSON_Delete(tok);
    remove_tmpdir();
}
END_TEST

/* ---------------------------------------------------------------- the command line */

static int run_main(const char *const *args, int n, char *captured, size_t cap)
{
    fflush(stdout);
    fflush(stderr);
    FILE *tmp = tmpfile();
    int save_out = dup(1), save_err = dup(2);
    dup2(fileno(tmp), 1);
    dup2(fileno(tmp), 2);
    int rc = ueaj_convert_main(n, (char **)args);
    fflush(stdout);
    fflush(stderr);
    dup2(save_out, 1);
    dup2(save_err, 2);
    close(save_out);
    close(save_err);
    rewind(tmp);
    size_t k = fread(captured, 1, cap - 1, tmp);
    captured[k] = '\0';
    fclose(tmp);
    return rc;
}

START_TEST(test_cli)
{
    make_tmpdir();
    char in[512], out[512], buf[8192];
    fixture(in, sizeof in, "tiny-llama.gguf");
    tmp_path(out, sizeof out, "o");
    const char *a1[] = { "convert", in, "-o", out, "--dtype", "bf16" };
    ck_assert_int_eq(run_main(a1, 6, buf, sizeof buf), 0);
    ck_assert_msg(strstr(buf, "21 tensors (") && strstr(buf, "as bf16"), "%s", buf);
    const char *a2[] = { "convert", in, "-o", out };
    ck_assert_int_eq(run_main(a2, 4, buf, sizeof buf), 1);
    ck_assert_msg(strstr(buf, "already exists and is not empty"), "%s", buf);
    const char *a3[] = { "convert", in, "--output=" , "--force", "-q" };
    ck_assert_int_eq(run_main(a3, 5, buf, sizeof buf), 1);          /* empty -o value */
    const char *a4[] = { "convert", in, "-o", out, "--force", "-q", "--dtype=f32" };
    ck_assert_int_eq(run_main(a4, 7, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    const char *a5[] = { "convert", in, "--dtype", "int8", "-o", out };
    ck_assert_int_eq(run_main(a5, 6, buf, sizeof buf), 2);
    ck_assert_msg(strstr(buf, "--dtype must be f32, bf16 or f16, not 'int8'"), "%s", buf);
    const char *a6[] = { "convert", "-o", out };
    ck_assert_int_eq(run_main(a6, 3, buf, sizeof buf), 2);
    ck_assert_msg(strstr(buf, "no input file"), "%s", buf);
    const char *a7[] = { "convert", in };
    ck_assert_int_eq(run_main(a7, 2, buf, sizeof buf), 2);
    ck_assert_msg(strstr(buf, "no output directory"), "%s", buf);
    const char *a8[] = { "convert", in, "in2" , "-o", out };
    ck_assert_int_eq(run_main(a8, 5, buf, sizeof buf), 2);
    const char *a9[] = { "convert", in, "--bogus" };
    ck_assert_int_eq(run_main(a9, 3, buf, sizeof buf), 2);
    ck_assert_msg(strstr(buf, "unknown option '--bogus'"), "%s", buf);
    const char *a10[] = { "convert", in, "--info" };
    ck_assert_int_eq(run_main(a10, 3, buf, sizeof buf), 0);
    ck_assert_msg(strstr(buf, "GGUF version 3, 34 metadata pairs, 21 tensors, alignment 64"), "%s", buf);
    ck_assert_msg(strstr(buf, "llama.rope.freq_base: float32 = 500000.0"), "%s", buf);
    ck_assert_msg(strstr(buf, "test.arr_arr: array = [array x 2] [...], [...]"), "%s", buf);
    ck_assert_msg(strstr(buf, "tensor blk.0.attn_q.weight: Q4_0 [32, 32]"), "%s", buf);
    const char *a11[] = { "convert", "--help" };
    ck_assert_int_eq(run_main(a11, 2, buf, sizeof buf), 0);
    ck_assert_msg(strstr(buf, "usage: ueajc convert MODEL.gguf -o DIR"), "%s", buf);
    const char *a12[] = { "convert", out, "--info" };
    ck_assert_int_eq(run_main(a12, 3, buf, sizeof buf), 1);
    ck_assert_msg(strstr(buf, "not a regular file"), "%s", buf);
    remove_tmpdir();
}
END_TEST

extern Suite *suite_gguf(void);
Suite *suite_gguf(void)
{
    Suite *s = suite_create("gguf");
    TCase *tc = tcase_create("read");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_type_table);
    tcase_add_test(tc, test_dequant_kquants);
    tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_truncations);
    suite_add_tcase(s, tc);
    tc = tcase_create("convert");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, test_convert_fixture);
    tcase_add_test(tc, test_convert_dtypes);
    tcase_add_test(tc, test_convert_atomic);
    tcase_add_loop_test(tc, test_semantic, 0, (int)(sizeof sem_cases / sizeof sem_cases[0]));
    tcase_add_test(tc, test_variants);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    return s;
}
