/* test_tokenizer.c - the HuggingFace tokenizer (runtime/tokenizer*.c).
 *
 * The references are HuggingFace's own outputs, shipped in
 * ../shared/fixtures/tokenizers (see its README): the Llama 3 and LLaMA 2
 * tokenizer.json files, 47 + 47 id lists produced by HF `tokenizers`
 * (llama.cpp's test vectors) and 200 texts encoded by transformers.js.
 * Every id list must come out exactly; every text must decode back to
 * itself (our decode does not apply transformers' clean_up_tokenization_
 * spaces unless asked, so the Llama 3 round trip is exact too); streaming
 * decoding one id at a time must give the full decode, for the fixture
 * texts and for random id sequences (partial UTF-8, byte-fallback runs,
 * special tokens).  Small hand-written tokenizer.json files exercise what
 * the LLaMA files do not use (Metaspace, pair-format merges, lstrip/rstrip,
 * normalized added tokens, joined Strip/Replace decoders, no decoder), and
 * 25 malformed files check that loading fails with the file name, the
 * JSON path and a specific message.
 *
 * Fixture JSON is read with cJSON, which ends strings at a NUL byte; one
 * reference text contains "\u0000", so before parsing that escape is
 * rewritten to U+10FFFF (absent from the fixtures, which is checked) and
 * mapped back to a NUL byte afterwards, keeping explicit lengths.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tokenizer.h"

/* ---- fixtures -------------------------------------------------------- */

typedef struct Case { char *text; size_t len; int32_t *ids[2]; size_t n[2]; } Case;
typedef struct Cases { Case *v; size_t n; } Cases;

static Tokenizer *tok3, *tok2;        /* Llama 3, LLaMA 2: loaded once per test case */
static Cases hf3, hf2, ref;           /* ref: ids[0] llama3, ids[1] llama2 */
static char basedir[256];

static const char *fixture(char *buf, size_t n, const char *name)
{
    const char *root = getenv("UEAJ_ROOT");
    snprintf(buf, n, "%s/../shared/fixtures/tokenizers/%s", root && *root ? root : ".", name);
    return buf;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    if (p && fread(p, 1, (size_t)len, fp) != (size_t)len) { free(p); p = NULL; }
    fclose(fp);
    if (p) p[len] = '\0';
    *n = (size_t)len;
    return p;
}

static const char SENT[] = "\xF4\x8F\xBF\xBF";   /* U+10FFFF stands for NUL */

/* Reads [{"text": ..., KEY0: [...], KEY1: [...]}]; 0 on success. */
static int load_cases(const char *name, const char *k0, const char *k1, Cases *out)
{
    char path[512];
    size_t n;
    char *raw = slurp(fixture(path, sizeof path, name), &n);
    if (!raw) return -1;
    if (strstr(raw, SENT) || strstr(raw, "\\udbff") || strstr(raw, "\\uDBFF")) { free(raw); return -1; }
    char *fixed = malloc(n * 2 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t bs = 0;   /* an escape only if preceded by an even number of backslashes */
        while (bs < i && raw[i - 1 - bs] == '\\') bs++;
        if (bs % 2 == 0 && !strncmp(raw + i, "\\u0000", 6)) {
            memcpy(fixed + o, "\\udbff\\udfff", 12);
            o += 12;
            i += 5;
        } else {
            fixed[o++] = raw[i];
        }
    }
    fixed[o] = '\0';
    free(raw);
    cJSON *j = cJSON_Parse(fixed);
    free(fixed);
    if (!cJSON_IsArray(j)) { cJSON_Delete(j); return -1; }
    out->n = (size_t)cJSON_GetArraySize(j);
    out->v = calloc(out->n, sizeof *out->v);
    size_t i = 0;
    for (cJSON *c = j->child; c; c = c->next, i++) {
        Case *k = &out->v[i];
        const char *s = cJSON_GetObjectItem(c, "text")->valuestring;
        size_t sl = strlen(s);
        k->text = malloc(sl + 1);
        for (size_t a = 0; a < sl;) {
            if (!strncmp(s + a, SENT, 4)) { k->text[k->len++] = '\0'; a += 4; }
            else k->text[k->len++] = s[a++];
        }
        k->text[k->len] = '\0';
        const char *keys[2] = { k0, k1 };
        for (int w = 0; w < 2 && keys[w]; w++) {
            cJSON *ids = cJSON_GetObjectItem(c, keys[w]);
            k->n[w] = (size_t)cJSON_GetArraySize(ids);
            k->ids[w] = malloc((k->n[w] + 1) * sizeof(int32_t));
            size_t m = 0;
            for (cJSON *x = ids->child; x; x = x->next) k->ids[w][m++] = (int32_t)x->valuedouble;
        }
    }
    cJSON_Delete(j);
    return 0;
}

static void free_cases(Cases *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].text);
        free(c->v[i].ids[0]);
        free(c->v[i].ids[1]);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

static double ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static void fixtures_setup(void)
{
    char path[512], err[1024];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tok3 = tok_load(fixture(path, sizeof path, "llama3"), err, sizeof err);
    if (!tok3) fprintf(stderr, "%s\n", err);
    double ms3 = ms_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tok2 = tok_load(fixture(path, sizeof path, "llama2"), err, sizeof err);
    if (!tok2) fprintf(stderr, "%s\n", err);
    if (getenv("UEAJ_TOK_VERBOSE"))
        printf("tokenizer load: llama3 %.1f ms, llama2 %.1f ms\n", ms3, ms_since(&t0));
    if (load_cases("llama3/hf-vectors.json", "ids", NULL, &hf3) ||
        load_cases("llama2/hf-vectors.json", "ids", NULL, &hf2) ||
        load_cases("reference-encodings.json", "llama3", "llama2", &ref))
        fprintf(stderr, "test_tokenizer: cannot read the fixtures\n");
}

static void fixtures_teardown(void)
{
    tok_free(tok3);
    tok_free(tok2);
    tok3 = tok2 = NULL;
    free_cases(&hf3);
    free_cases(&hf2);
    free_cases(&ref);
}

static void need_fixtures(void)
{
    ck_assert_msg(tok3 && tok2, "the fixture tokenizers did not load");
    ck_assert_msg(hf3.n == 47 && hf2.n == 47 && ref.n == 200, "fixture files: %zu %zu %zu cases",
                  hf3.n, hf2.n, ref.n);
}

/* ---- helpers ---------------------------------------------------------- */

static void show(char *buf, size_t n, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 8 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\') o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
        else buf[o++] = (char)c;
    }
    buf[o] = '\0';
}

static void show_ids(char *buf, size_t n, const int32_t *ids, size_t m)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < m && o + 16 < n; i++) o += (size_t)snprintf(buf + o, n - o, " %d", (int)ids[i]);
}

static int32_t *enc(const Tokenizer *t, const char *s, size_t len, unsigned flags, size_t *n)
{
    char err[1024];
    int32_t *ids = NULL;
    int rc = tok_encode_ex(t, s, len, flags, &ids, n, err, sizeof err);
    ck_assert_msg(rc == 0, "encode failed: %s", err);
    ck_assert_ptr_nonnull(ids);
    return ids;
}

static char *dec(const Tokenizer *t, const int32_t *ids, size_t n, unsigned flags, size_t *len)
{
    char err[1024], *s = NULL;
    ck_assert_msg(tok_decode(t, ids, n, flags, &s, len, err, sizeof err) == 0, "decode failed: %s", err);
    return s;
}

static int valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!l || i + l > n) return 0;
        for (size_t k = 1; k < l; k++) if (((unsigned char)s[i + k] & 0xC0) != 0x80) return 0;
        i += l;
    }
    return 1;
}

/* Streams ids one at a time; returns the concatenation (malloc'd). */
static char *stream_all(const Tokenizer *t, const int32_t *ids, size_t n, unsigned flags, size_t *len)
{
    char err[1024];
    TokStream *s = tok_stream_new(t, flags, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    size_t cap = 64, o = 0;
    char *all = malloc(cap);
    for (size_t i = 0; i <= n; i++) {
        const char *piece;
        size_t pl;
        if (i < n) ck_assert_msg(tok_stream_put(s, ids[i], &piece, &pl, err, sizeof err) == 0, "%s", err);
        else ck_assert_int_eq(tok_stream_finish(s, &piece, &pl), 0);
        ck_assert_msg(valid_utf8(piece, pl), "stream piece %zu is not complete UTF-8", i);
        ck_assert(piece[pl] == '\0');
        while (o + pl + 1 > cap) all = realloc(all, cap *= 2);
        memcpy(all + o, piece, pl);
        o += pl;
    }
    all[o] = '\0';
    tok_stream_free(s);
    *len = o;
    return all;
}

/* Encodes every case of cs with t and compares with ids[w]; reports. */
static void check_vectors(const Tokenizer *t, const Cases *cs, int w, const char *what)
{
    int pass = 0, fails = 0;
    char msg[4096] = "";
    for (size_t i = 0; i < cs->n; i++) {
        const Case *c = &cs->v[i];
        size_t n;
        int32_t *ids = enc(t, c->text, c->len, 0, &n);
        int ok = n == c->n[w] && !memcmp(ids, c->ids[w], n * sizeof *ids);
        if (ok) pass++;
        else if (fails++ < 3) {
            char a[300], b[600], d[600];
            show(a, sizeof a, c->text, c->len);
            show_ids(b, sizeof b, ids, n);
            show_ids(d, sizeof d, c->ids[w], c->n[w]);
            size_t o = strlen(msg);
            snprintf(msg + o, sizeof msg - o, "\n  \"%.200s\"\n    got: %.250s\n   want: %.250s", a, b, d);
        }
        free(ids);
    }
    printf("tokenizer %s: %d/%zu id lists exact\n", what, pass, cs->n);
    ck_assert_msg(fails == 0, "%s: %d of %zu id lists differ:%s", what, fails, cs->n, msg);
}

/* ---- the fixture id lists --------------------------------------------- */

START_TEST(test_llama3_hf_vectors)
{
    need_fixtures();
    check_vectors(tok3, &hf3, 0, "llama3/hf-vectors.json");
}
END_TEST

START_TEST(test_llama2_hf_vectors)
{
    need_fixtures();
    check_vectors(tok2, &hf2, 0, "llama2/hf-vectors.json");
}
END_TEST

START_TEST(test_reference_llama3)
{
    need_fixtures();
    check_vectors(tok3, &ref, 0, "reference-encodings.json (llama3)");
}
END_TEST

START_TEST(test_reference_llama2)
{
    need_fixtures();
    check_vectors(tok2, &ref, 1, "reference-encodings.json (llama2)");
}
END_TEST

/* ---- decoding: round trips and streaming -------------------------------- */

/* For every fixture text: decode(encode(text)) == text, and streaming the
 * ids one at a time gives the same text (also skipping specials). */
static void check_roundtrips(const Tokenizer *t, const Cases *cs, const char *what)
{
    for (size_t i = 0; i < cs->n; i++) {
        const Case *c = &cs->v[i];
        size_t n, len, slen;
        int32_t *ids = enc(t, c->text, c->len, 0, &n);
        char *text = dec(t, ids, n, 0, &len);
        char a[300], b[300];
        show(a, sizeof a, c->text, c->len);
        show(b, sizeof b, text, len);
        ck_assert_msg(len == c->len && !memcmp(text, c->text, len), "%s: round trip of \"%.200s\" gave \"%.200s\"",
                      what, a, b);
        for (unsigned f = 0; f < 2; f++) {
            char *full = dec(t, ids, n, f ? TOK_SKIP_SPECIAL : 0, &len);
            char *st = stream_all(t, ids, n, f ? TOK_SKIP_SPECIAL : 0, &slen);
            show(b, sizeof b, st, slen);
            ck_assert_msg(slen == len && !memcmp(st, full, len), "%s: streaming \"%.200s\" gave \"%.200s\"",
                          what, a, b);
            free(full);
            free(st);
        }
        free(text);
        free(ids);
    }
}

START_TEST(test_roundtrip_llama3)
{
    need_fixtures();
    check_roundtrips(tok3, &hf3, "llama3/hf-vectors");
    check_roundtrips(tok3, &ref, "llama3/reference");
}
END_TEST

START_TEST(test_roundtrip_llama2)
{
    need_fixtures();
    check_roundtrips(tok2, &hf2, "llama2/hf-vectors");
    check_roundtrips(tok2, &ref, "llama2/reference");
}
END_TEST

/* Streaming equals the full decode on random id sequences, which cut
 * multi-byte characters and byte-fallback runs anywhere, mix in special
 * tokens, and produce invalid UTF-8 (U+FFFD) too. */
static void check_random_streams(const Tokenizer *t, const int32_t *pool, size_t npool, unsigned seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    int32_t ids[48];
    int32_t V = tok_vocab_size(t);
    for (int round = 0; round < 400; round++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = 1 + (size_t)(x >> 33) % 40;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t r = (uint32_t)(x >> 32);
            ids[i] = r % 3 ? pool[(r >> 2) % npool] : (int32_t)((r >> 2) % (uint32_t)V);
        }
        for (unsigned f = 0; f < 2; f++) {
            size_t len, slen;
            char *full = dec(t, ids, n, f ? TOK_SKIP_SPECIAL : 0, &len);
            char *st = stream_all(t, ids, n, f ? TOK_SKIP_SPECIAL : 0, &slen);
            char a[800];
            show_ids(a, sizeof a, ids, n);
            ck_assert_msg(valid_utf8(full, len), "decode of%s is not valid UTF-8", a);
            ck_assert_msg(slen == len && !memcmp(st, full, len), "streaming%s differs from decoding", a);
            free(full);
            free(st);
        }
    }
}

START_TEST(test_stream_random)
{
    need_fixtures();
    int32_t pool[600];
    size_t n = 0;
    /* LLaMA 2: byte-fallback tokens, ▁-pieces, specials */
    for (int b = 0; b < 256; b++) pool[n++] = 3 + b;
    const char *p2[] = { "▁", "▁▁", "▁the", "<s>", "</s>", "<unk>", "ab", "▁Hello", "." };
    for (size_t i = 0; i < sizeof p2 / sizeof *p2; i++) {
        int32_t id = tok_find(tok2, p2[i]);
        ck_assert_msg(id >= 0, "'%s' not in the LLaMA 2 vocabulary", p2[i]);
        pool[n++] = id;
    }
    check_random_streams(tok2, pool, n, 1);
    /* Llama 3: every single-byte token (lone UTF-8 lead and continuation
     * bytes included), a few words, specials */
    n = 0;
    for (unsigned b = 0; b < 256; b++) {
        char u[4];
        unsigned cp = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174) ? b
                    : b <= 32 ? 256 + b : b <= 160 ? 289 + b - 127 : 323;
        int l = cp < 0x80 ? (u[0] = (char)cp, 1) : (u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), 2);
        u[l] = '\0';
        int32_t id = tok_find(tok3, u);
        ck_assert_msg(id >= 0, "byte %u has no Llama 3 token", b);
        pool[n++] = id;
    }
    const char *p3[] = { "<|begin_of_text|>", "<|eot_id|>", "Hello", "Ġworld", "ĠÐ", "ðŁ", "¦", "Ļ" };
    for (size_t i = 0; i < sizeof p3 / sizeof *p3; i++) {
        int32_t id = tok_find(tok3, p3[i]);
        ck_assert_msg(id >= 0, "'%s' not in the Llama 3 vocabulary", p3[i]);
        pool[n++] = id;
    }
    check_random_streams(tok3, pool, n, 2);
}
END_TEST

START_TEST(test_stream_pieces)
{
    need_fixtures();
    char err[1024];
    const char *piece;
    size_t pl;
    /* "🦙" is 4 byte-level tokens in Llama 3: nothing until the last one */
    size_t n;
    int32_t *ids = enc(tok3, "\xF0\x9F\xA6\x99!", 5, 0, &n);
    ck_assert_uint_ge(n, 2);
    TokStream *s = tok_stream_new(tok3, 0, err, sizeof err);
    ck_assert_ptr_nonnull(s);
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(tok_stream_put(s, ids[i], &piece, &pl, err, sizeof err), 0);
        if (pl) ck_assert_msg(got == 0 ? !memcmp(piece, "\xF0\x9F\xA6\x99", 4) : 1, "split emoji");
        got += pl;
    }
    ck_assert_uint_eq(got, 5);
    /* a bad id is an error and leaves the stream usable */
    ck_assert_int_eq(tok_stream_put(s, -5, &piece, &pl, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "out of range"), "%s", err);
    ck_assert_int_eq(tok_stream_put(s, tok_find(tok3, "Hello"), &piece, &pl, err, sizeof err), 0);
    ck_assert_str_eq(piece, "Hello");
    /* an unfinished sequence becomes U+FFFD at finish */
    ck_assert_int_eq(tok_stream_put(s, tok_find(tok3, "ðŁ"), &piece, &pl, err, sizeof err), 0);
    ck_assert_uint_eq(pl, 0);
    ck_assert_int_eq(tok_stream_finish(s, &piece, &pl), 0);
    ck_assert_str_eq(piece, "\xEF\xBF\xBD");
    tok_stream_free(s);
    free(ids);
    /* LLaMA 2: byte-fallback runs are held until the run ends; the
     * leading space of the text is stripped once */
    s = tok_stream_new(tok2, 0, err, sizeof err);
    int32_t seq[] = { 29871, 3 + 0xE2, 3 + 0x82, 3 + 0xAC, tok_find(tok2, "▁euro") };
    const char *want[] = { "", "", "", "", "\xE2\x82\xAC euro" };
    for (int i = 0; i < 5; i++) {
        ck_assert_int_ge(seq[i], 0);
        ck_assert_int_eq(tok_stream_put(s, seq[i], &piece, &pl, err, sizeof err), 0);
        ck_assert_msg(!strcmp(piece, want[i]), "step %d: '%s'", i, piece);
    }
    tok_stream_free(s);
}
END_TEST

/* ---- BOS/EOS, special tokens, cleanup, errors ------------------------------ */

START_TEST(test_bos_eos)
{
    need_fixtures();
    size_t n, ne;
    ck_assert_int_eq(tok_bos(tok3), 128000);
    ck_assert_int_eq(tok_bos(tok2), 1);
    const int32_t *eos = tok_eos_ids(tok3, &ne);
    ck_assert_uint_ge(ne, 1);
    ck_assert_int_eq(eos[0], 128001);
    ck_assert(tok_is_eos(tok3, 128001) && !tok_is_eos(tok3, 128000));
    eos = tok_eos_ids(tok2, &ne);
    ck_assert(ne == 1 && eos[0] == 2);
    ck_assert_int_eq(tok_vocab_size(tok3), 128256);
    ck_assert_int_eq(tok_vocab_size(tok2), 32000);

    int32_t *a = enc(tok3, "Hello world", 11, TOK_ADD_BOS, &n);
    ck_assert(n == 3 && a[0] == 128000 && a[1] == 9906 && a[2] == 1917);
    free(a);
    a = enc(tok3, "Hello world", 11, TOK_ADD_DEFAULT, &n);   /* Llama 3's config adds nothing */
    ck_assert(n == 2 && a[0] == 9906);
    free(a);
    a = enc(tok3, "", 0, TOK_ADD_BOS | TOK_ADD_EOS, &n);
    ck_assert(n == 2 && a[0] == 128000 && a[1] == 128001);
    free(a);
    a = enc(tok2, "Hello world", 11, TOK_ADD_DEFAULT, &n);   /* LLaMA 2: add_bos_token */
    ck_assert(n == 3 && a[0] == 1 && a[1] == 15043 && a[2] == 3186);
    free(a);
    a = enc(tok2, "Hello world", 11, TOK_ADD_DEFAULT | TOK_ADD_BOS, &n);   /* not twice */
    ck_assert(n == 3 && a[0] == 1);
    free(a);
    char err[1024];
    int32_t *ids;
    ck_assert_int_eq(tok_encode(tok2, "Hi", 2, 1, &ids, &n, err, sizeof err), 0);
    ck_assert(n >= 2 && ids[0] == 1);
    free(ids);
}
END_TEST

START_TEST(test_special_tokens_in_text)
{
    need_fixtures();
    size_t n, m, len;
    int32_t eot = tok_find(tok3, "<|eot_id|>");
    ck_assert_int_eq(eot, 128009);
    ck_assert(tok_is_special(tok3, eot) && !tok_is_special(tok3, 9906));
    const char *s = "<|begin_of_text|>hello<|eot_id|>";
    int32_t *a = enc(tok3, s, strlen(s), 0, &n);
    int32_t *h = enc(tok3, "hello", 5, 0, &m);
    ck_assert_uint_eq(n, m + 2);
    ck_assert(a[0] == 128000 && a[n - 1] == eot && !memcmp(a + 1, h, m * sizeof *h));
    char *t = dec(tok3, a, n, 0, &len);
    ck_assert_str_eq(t, s);
    free(t);
    t = dec(tok3, a, n, TOK_SKIP_SPECIAL, &len);
    ck_assert_str_eq(t, "hello");
    free(t);
    free(a);
    /* as untrusted text: no special ids */
    a = enc(tok3, s, strlen(s), TOK_SPECIAL_AS_TEXT, &n);
    for (size_t i = 0; i < n; i++) ck_assert_int_lt(a[i], 128000);
    t = dec(tok3, a, n, 0, &len);
    ck_assert_str_eq(t, s);
    free(t);
    free(a);
    free(h);
    /* a chat header: specials never split, text around them normal */
    s = "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>";
    a = enc(tok3, s, strlen(s), 0, &n);
    ck_assert(n == 7 && a[0] == 128006 && a[1] == 882 && a[2] == 128007 && a[3] == 271 && a[6] == eot);
    free(a);
    /* LLaMA 2 (legacy): the text after <s> is normalized on its own, so
     * gets its own "▁" */
    s = "<s>hello</s>";
    a = enc(tok2, s, strlen(s), 0, &n);
    h = enc(tok2, "hello", 5, 0, &m);
    ck_assert(n == m + 2 && a[0] == 1 && a[n - 1] == 2 && !memcmp(a + 1, h, m * sizeof *h));
    t = dec(tok2, a, n, TOK_SKIP_SPECIAL, &len);
    ck_assert_str_eq(t, "hello");
    free(t);
    t = dec(tok2, a, n, 0, &len);
    ck_assert_str_eq(t, "<s> hello</s>");   /* as HF: "▁hello" after a special keeps its space */
    free(t);
    free(a);
    free(h);
}
END_TEST

START_TEST(test_cleanup_and_pieces)
{
    need_fixtures();
    size_t n, len;
    ck_assert_int_eq(tok_clean_up_default(tok3), 1);
    ck_assert_int_eq(tok_clean_up_default(tok2), 0);
    const char *s = "Hello , world ! I 'm sure they 're n't .";
    int32_t *a = enc(tok3, s, strlen(s), 0, &n);
    char *t = dec(tok3, a, n, 0, &len);
    ck_assert_str_eq(t, s);
    free(t);
    t = dec(tok3, a, n, TOK_CLEANUP, &len);
    ck_assert_str_eq(t, "Hello, world! I'm sure they'ren't.");
    ck_assert_uint_eq(len, strlen(t));
    free(t);
    free(a);
    const char *p = tok_piece(tok3, 22691, &len);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, "ĠHello");
    ck_assert_ptr_null(tok_piece(tok3, 128256, &len));
    ck_assert_ptr_null(tok_piece(tok3, -1, &len));
    ck_assert_int_eq(tok_find(tok2, "<0x0A>"), 13);
    ck_assert_int_eq(tok_find(tok2, "no such piece"), -1);
}
END_TEST

START_TEST(test_encode_decode_errors)
{
    need_fixtures();
    char err[1024], *text;
    int32_t *ids;
    size_t n, len;
    ck_assert_int_eq(tok_encode(tok3, "ab\xFF", 3, 0, &ids, &n, err, sizeof err), -1);
    ck_assert_ptr_null(ids);
    ck_assert_msg(strstr(err, "not valid UTF-8 (byte 2"), "%s", err);
    ck_assert_int_eq(tok_encode(tok3, "\xED\xA0\x80", 3, 0, &ids, &n, err, sizeof err), -1); /* surrogate */
    ck_assert_int_eq(tok_encode(tok3, "\xC0\xAF", 2, 0, &ids, &n, err, sizeof err), -1);     /* overlong */
    ck_assert_int_eq(tok_encode(tok3, "\xF0\x9F\xA6", 3, 0, &ids, &n, err, sizeof err), -1); /* truncated */
    ck_assert_int_eq(tok_encode(tok3, NULL, 0, 0, &ids, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 0);
    free(ids);
    int32_t bad[] = { 9906, 128256 };
    ck_assert_int_eq(tok_decode(tok3, bad, 2, 0, &text, &len, err, sizeof err), -1);
    ck_assert_ptr_null(text);
    ck_assert_msg(strstr(err, "token id 128256 is out of range (vocabulary size 128256)"), "%s", err);
    bad[1] = -1;
    ck_assert_int_eq(tok_decode(tok2, bad, 2, 0, &text, &len, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "token id -1 is out of range"), "%s", err);
    ck_assert_int_eq(tok_decode(tok2, bad, 0, 0, &text, &len, err, sizeof err), 0);
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

/* ---- small hand-written tokenizers -------------------------------------------- */

static char tmpdir[400];

static void make_tmpdir(void)
{
    ck_assert_msg(basedir[0] != '\0', "no base directory");
    snprintf(tmpdir, sizeof tmpdir, "%s/tXXXXXX", basedir);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static const char *write_in(char *path, size_t n, const char *name, const char *content)
{
    snprintf(path, n, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs(content, fp);
    fclose(fp);
    return path;
}

static Tokenizer *load_text(const char *json)
{
    char path[512], err[1024];
    make_tmpdir();
    Tokenizer *t = tok_load(write_in(path, sizeof path, "tokenizer.json", json), err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    return t;
}

static void expect_ids(const Tokenizer *t, const char *s, unsigned flags, const int32_t *want, size_t nw)
{
    size_t n;
    int32_t *ids = enc(t, s, strlen(s), flags, &n);
    char a[400], b[400];
    show_ids(a, sizeof a, ids, n);
    show_ids(b, sizeof b, want, nw);
    ck_assert_msg(n == nw && !memcmp(ids, want, n * sizeof *ids), "'%s': got%s, want%s", s, a, b);
    free(ids);
}

/* A SentencePiece-style BPE with the newer Metaspace pre-tokenizer and
 * decoder (prepend_scheme "first"), merges as pairs. */
START_TEST(test_metaspace_pairs)
{
    Tokenizer *t = load_text(
        "{\"added_tokens\": [{\"id\": 0, \"content\": \"<s>\", \"special\": true}],"
        " \"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"\\u2581\", \"prepend_scheme\": \"first\", \"split\": true},"
        " \"decoder\": {\"type\": \"Metaspace\", \"replacement\": \"\\u2581\", \"prepend_scheme\": \"first\", \"split\": true},"
        " \"model\": {\"type\": \"BPE\", \"vocab\": {\"<s>\": 0, \"\\u2581\": 1, \"h\": 2, \"i\": 3, \"\\u2581h\": 4, \"\\u2581hi\": 5,"
        "   \"t\": 6, \"\\u2581t\": 7, \"<unk>\": 8}, \"unk_token\": \"<unk>\", \"fuse_unk\": true,"
        "   \"merges\": [[\"\\u2581\", \"h\"], [\"\\u2581h\", \"i\"], [\"\\u2581\", \"t\"]]}}");
    expect_ids(t, "hi hit", 0, (int32_t[]){ 5, 5, 6 }, 3);
    expect_ids(t, "<s>hi", 0, (int32_t[]){ 0, 2, 3 }, 3);   /* "first": no ▁ after a special */
    expect_ids(t, "xyz hi", 0, (int32_t[]){ 1, 8, 5 }, 3);  /* unknown chars fused into one <unk> */
    size_t len;
    char *s = dec(t, (int32_t[]){ 5, 5, 6 }, 3, 0, &len);
    ck_assert_str_eq(s, "hi hit");
    free(s);
    int32_t ids[] = { 1, 5, 1, 1, 7, 0, 4 };
    for (size_t n = 0; n <= 7; n++) {
        char *full = dec(t, ids, n, 0, &len), *st;
        size_t sl;
        st = stream_all(t, ids, n, 0, &sl);
        ck_assert_msg(sl == len && !memcmp(st, full, len), "'%s' vs '%s'", st, full);
        free(full);
        free(st);
    }
    tok_free(t);
}
END_TEST

/* lstrip/rstrip, normalized added tokens, single_word, Digits, no decoder. */
START_TEST(test_added_token_flags)
{
    Tokenizer *t = load_text(
        "{\"added_tokens\": ["
        "  {\"id\": 10, \"content\": \"<m>\", \"special\": true, \"lstrip\": true, \"rstrip\": true, \"normalized\": false},"
        "  {\"id\": 11, \"content\": \"XY\", \"special\": false, \"normalized\": true},"
        "  {\"id\": 12, \"content\": \"cat\", \"special\": false, \"single_word\": true, \"normalized\": false}],"
        " \"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"String\": \"x\"}, \"content\": \"X\"},"
        " \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": ["
        "   {\"type\": \"WhitespaceSplit\"}, {\"type\": \"Digits\", \"individual_digits\": true}]},"
        " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"1\": 2, \"2\": 3, \"c\": 4, \"t\": 5, \"ab\": 6, \"X\": 7, \"Y\": 8},"
        "   \"merges\": [\"a b\"]}}");
    expect_ids(t, "ab  <m>  ab", 0, (int32_t[]){ 6, 10, 6 }, 3);
    expect_ids(t, "ab12", 0, (int32_t[]){ 6, 2, 3 }, 3);
    expect_ids(t, "xY", 0, (int32_t[]){ 11 }, 1);          /* matched after x -> X */
    expect_ids(t, "cat acat", 0, (int32_t[]){ 12, 0, 4, 0, 5 }, 5);
    expect_ids(t, "ab<m>", TOK_SPECIAL_AS_TEXT, (int32_t[]){ 6 }, 1);  /* '<', 'm', '>' unknown: dropped */
    size_t len;
    char *s = dec(t, (int32_t[]){ 6, 10, 2, 3 }, 4, 0, &len);
    ck_assert_str_eq(s, "ab <m> 1 2");               /* no decoder: joined with spaces */
    free(s);
    s = dec(t, (int32_t[]){ 6, 10, 2, 3 }, 4, TOK_SKIP_SPECIAL, &len);
    ck_assert_str_eq(s, "ab 1 2");
    free(s);
    for (unsigned f = 0; f < 2; f++) {
        char *st = stream_all(t, (int32_t[]){ 10, 6, 10, 2 }, 4, f, &len);
        ck_assert_str_eq(st, f ? "ab 1" : "<m> ab <m> 1");
        free(st);
    }
    tok_free(t);
}
END_TEST

/* Decoders after a join (Fuse): Replace with a multi-character pattern
 * and Strip at both ends must hold text back across pieces. */
START_TEST(test_joined_decoders)
{
    Tokenizer *t = load_text(
        "{\"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Fuse\"},"
        "   {\"type\": \"Replace\", \"pattern\": {\"String\": \"aba\"}, \"content\": \"<>\"},"
        "   {\"type\": \"Strip\", \"content\": \"_\", \"start\": 2, \"stop\": 2}]},"
        " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"_\": 2, \"ab\": 3, \"__\": 4}, \"merges\": []}}");
    uint64_t x = 7;
    for (int round = 0; round < 2000; round++) {
        int32_t ids[12];
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = (size_t)(x >> 60) % 12;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            ids[i] = (int32_t)((x >> 33) % 5);
        }
        size_t len, sl;
        char *full = dec(t, ids, n, 0, &len), *st = stream_all(t, ids, n, 0, &sl);
        char a[200];
        show_ids(a, sizeof a, ids, n);
        ck_assert_msg(sl == len && !memcmp(st, full, len), "ids%s: stream '%s', decode '%s'", a, st, full);
        free(full);
        free(st);
    }
    size_t len;
    char *s = dec(t, (int32_t[]){ 4, 2, 0, 1, 0, 2, 2, 2 }, 8, 0, &len);
    ck_assert_str_eq(s, "_<>_");
    free(s);
    tok_free(t);
}
END_TEST

/* GPT-2 style: ByteLevel with its own regex and add_prefix_space. */
START_TEST(test_bytelevel_regex)
{
    Tokenizer *t = load_text(
        "{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"use_regex\": true},"
        " \"decoder\": {\"type\": \"ByteLevel\"},"
        " \"model\": {\"type\": \"BPE\", \"vocab\": {\"\\u0120\": 0, \"h\": 1, \"i\": 2, \"\\u0120h\": 3, \"\\u0120hi\": 4, \"!\": 5},"
        "   \"merges\": [\"\\u0120 h\", \"\\u0120h i\"]}}");
    expect_ids(t, "hi hi!", 0, (int32_t[]){ 4, 4, 5 }, 3);
    size_t len;
    char *s = dec(t, (int32_t[]){ 4, 4, 5 }, 3, 0, &len);
    ck_assert_str_eq(s, " hi hi!");
    free(s);
    tok_free(t);
}
END_TEST

/* A tokenizer.json whose steps would grow a text without bound (seen
 * while writing fuzz_tokenizer: 16 Replace "a" -> "aaaa" normalizers took
 * 4 GB and 20 s for "aaaa" before these limits).  KIND is "normalizer"/"pre_tokenizer"/"decoder", STEP one
 * step's JSON, repeated n times in a Sequence. */
static char *steps_json(const char *kind, const char *seq, const char *step, int n)
{
    size_t cap = 256 + (size_t)n * (strlen(step) + 2);
    char *j = malloc(cap);
    ck_assert_ptr_nonnull(j);
    size_t o = (size_t)snprintf(j, cap, "{\"%s\": {\"type\": \"Sequence\", \"%s\": [", kind, seq);
    for (int i = 0; i < n; i++) o += (size_t)snprintf(j + o, cap - o, "%s%s", i ? ", " : "", step);
    snprintf(j + o, cap - o, "]}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \" \": 1}, \"merges\": []}}");
    return j;
}

START_TEST(test_runaway_steps)
{
    static const char dbl[] = "{\"type\": \"Replace\", \"pattern\": {\"String\": \"a\"}, \"content\": \"aa\"}";
    char err[1024], path[512];
    int32_t *ids;
    size_t n;
    /* Each Replace doubles "aaaa": 10 steps give 4 * 2^10 = 4096 ids, within
     * the limit of 64 * 4 + 4096 bytes; 11 give 8192 bytes, past it. */
    char *j = steps_json("normalizer", "normalizers", dbl, 10);
    Tokenizer *t = load_text(j);
    free(j);
    ids = enc(t, "aaaa", 4, 0, &n);
    ck_assert_uint_eq(n, 4096);
    for (size_t i = 0; i < n; i++) ck_assert_int_eq(ids[i], 0);
    free(ids);
    tok_free(t);
    j = steps_json("normalizer", "normalizers", dbl, 11);
    t = load_text(j);
    free(j);
    ck_assert_int_eq(tok_encode(t, "aaaa", 4, 0, &ids, &n, err, sizeof err), -1);
    ck_assert_ptr_null(ids);
    ck_assert_str_eq(err, "tokenizer: error: the normalizer steps make the text longer than 4352 bytes "
                          "(at most 64 times the input's 4 bytes, plus 4096)");
    ids = enc(t, "", 0, 0, &n);          /* an empty text stays empty */
    ck_assert_uint_eq(n, 0);
    free(ids);
    tok_free(t);
    /* ByteLevel after ByteLevel doubles a space's bytes each time (" " ->
     * "\u0120" -> "\u00c4\u0142" -> ...) */
    j = steps_json("pre_tokenizer", "pretokenizers", "{\"type\": \"ByteLevel\", \"use_regex\": false, "
                   "\"add_prefix_space\": false}", 40);
    t = load_text(j);
    free(j);
    ck_assert_int_eq(tok_encode(t, " ", 1, 0, &ids, &n, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "tokenizer: error: the pre-tokenizer steps make the text longer than 4160 bytes"), "%s", err);
    tok_free(t);
    /* The decoder's Replaces are bounded at load: 4^3 = 64 times is allowed
     * (and "a" decodes to 64 a's), 4^4 is not. */
    static const char quad[] = "{\"type\": \"Replace\", \"pattern\": {\"String\": \"a\"}, \"content\": \"aaaa\"}";
    j = steps_json("decoder", "decoders", quad, 3);
    t = load_text(j);
    free(j);
    size_t len;
    char *s = dec(t, (int32_t[]){ 0 }, 1, 0, &len);
    ck_assert_uint_eq(len, 64);
    ck_assert_uint_eq(strspn(s, "a"), 64);
    free(s);
    s = stream_all(t, (int32_t[]){ 0, 1, 0 }, 3, 0, &len);
    ck_assert_uint_eq(len, 129);
    free(s);
    tok_free(t);
    j = steps_json("decoder", "decoders", quad, 4);
    make_tmpdir();
    t = tok_load(write_in(path, sizeof path, "tokenizer.json", j), err, sizeof err);
    free(j);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(err, "tokenizer.json: error: $.decoder.decoders[3]: this Replace (4 bytes for 1) and those "
                              "before it can make a decoded text 256.0 times longer; at most 64 is supported"), "%s", err);
    /* At most 64 steps per pipeline (the streaming decoder recurses once per step). */
    j = steps_json("decoder", "decoders", "{\"type\": \"Fuse\"}", 64);
    t = load_text(j);
    free(j);
    tok_free(t);
    static const struct { const char *kind, *seq, *step, *what; } many[] = {
        { "decoder", "decoders", "{\"type\": \"Fuse\"}", "$.decoder.decoders[64]: more than 64 decoder steps" },
        { "normalizer", "normalizers", "{\"type\": \"Strip\"}", "$.normalizer.normalizers[64]: more than 64 normalizer steps" },
        { "pre_tokenizer", "pretokenizers", "{\"type\": \"WhitespaceSplit\"}",
          "$.pre_tokenizer.pretokenizers[64]: more than 64 pre-tokenizer steps" },
    };
    for (size_t k = 0; k < sizeof many / sizeof *many; k++) {
        j = steps_json(many[k].kind, many[k].seq, many[k].step, 65);
        make_tmpdir();
        t = tok_load(write_in(path, sizeof path, "tokenizer.json", j), err, sizeof err);
        free(j);
        ck_assert_ptr_null(t);
        ck_assert_msg(strstr(err, many[k].what), "%s", err);
    }
}
END_TEST

/* ---- malformed files ---------------------------------------------------------- */

typedef struct Bad { const char *json, *config, *want; } Bad;

#define MODEL_OK "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [\"a b\"]}"

static const Bad bad_files[] = {
    { "", NULL, "tokenizer.json: error: empty file" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0", NULL, "invalid JSON: the file ends at line 1, column 43, inside an unfinished value (truncated?)" },
    { "{\"model\": {\"type\": \"BPE\",\n \"vocab\": {\"a\": 0,, }}}", NULL, "invalid JSON at line 2, column " },
    { "[1, 2]", NULL, "error: $: expected an object, found an array" },
    { "{" MODEL_OK "}\n\n}x", NULL, "tokenizer.json: error: invalid JSON: text after the value at line 3, column 1" },
    { "{" MODEL_OK "} \t\r\n", "{} {}", "tokenizer_config.json: error: invalid JSON: text after the value at line 1, column 4" },
    /* seen while writing fuzz_tokenizer: invalid UTF-8 in a string reached PCRE2 (which is told not to check) */
    { "{\"normalizer\": {\"type\": \"Prepend\", \"prepend\": \"\xff\"},\n \"pre_tokenizer\": {\"type\": \"Split\", "
      "\"pattern\": {\"Regex\": \".\"}, \"behavior\": \"Isolated\"}, " MODEL_OK "}", NULL,
      "tokenizer.json: error: invalid UTF-8 at line 1, column 48 (byte 0xff at offset 47)" },
    { "{\"added_tokens\": [{\"id\": 3, \"content\": \"\xc3\"}],\n" MODEL_OK "}", NULL,
      "invalid UTF-8 at line 1, column 41 (byte 0xc3 at offset 40)" },
    { "{" MODEL_OK "}", "{\"bos_token\": \"\xed\xa0\x80\"}", "tokenizer_config.json: error: invalid UTF-8 at line 1, column 16" },
    { "{}", NULL, "error: $.model: missing (expected an object)" },
    { "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", NULL, "$.model.type: unsupported model type 'Unigram' (only BPE" },
    { "{\"model\": {\"type\": 7}}", NULL, "$.model.type: expected a string, found a number" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": [\"a\"], \"merges\": []}}", NULL, "$.model.vocab: expected an object, found an array" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}}", NULL, "$.model.vocab['a']: expected an integer in 0..16777215, found -1" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"q\": 1.5}, \"merges\": []}}", NULL, "$.model.vocab['q']: expected an integer" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"0\"}, \"merges\": []}}", NULL, "$.model.vocab['a']: expected an integer, found a string" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": {}}}", NULL, "$.model.merges: expected an array, found an object" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"ab\"]}}", NULL, "$.model.merges[0]: expected \"A B\"" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"ab\": 1}, \"merges\": [\"a a\", \"a zz\"]}}", NULL, "$.model.merges[0]: the merged token 'aa' is not in the vocabulary" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"ab\": 1}, \"merges\": [[\"a\", \"zz\"]]}}", NULL, "$.model.merges[0]: 'zz' is not in the vocabulary" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [3]}}", NULL, "$.model.merges[0]: expected a string \"A B\" or a pair [\"A\", \"B\"], found a number" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"unk_token\": \"<unk>\"}}", NULL, "$.model.unk_token: '<unk>' is not in the vocabulary" },
    { "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}", NULL, "$.model.vocab: the vocabulary is empty" },
    { "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a\"}, \"behavior\": \"Isolated\"}, " MODEL_OK "}", NULL,
      "$.pre_tokenizer.pattern.Regex: invalid regular expression '(a': missing closing parenthesis at offset 2" },
    { "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"a\"}, \"behavior\": \"Sideways\"}, " MODEL_OK "}", NULL,
      "$.pre_tokenizer.behavior: unknown split behavior 'Sideways'" },
    { "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"ByteLevel\"}, {\"type\": \"BertPreTokenizer\"}]}, " MODEL_OK "}", NULL,
      "$.pre_tokenizer.pretokenizers[1].type: unsupported pre-tokenizer 'BertPreTokenizer'" },
    { "{\"normalizer\": {\"type\": \"NFC\"}, " MODEL_OK "}", NULL, "$.normalizer.type: unsupported normalizer 'NFC'" },
    { "{\"decoder\": {\"type\": \"CTC\"}, " MODEL_OK "}", NULL, "$.decoder.type: unsupported decoder 'CTC'" },
    { "{\"decoder\": {\"type\": \"Strip\", \"content\": \"ab\", \"start\": 1, \"stop\": 0}, " MODEL_OK "}", NULL,
      "$.decoder.content: expected a single character" },
    { "{\"added_tokens\": [{\"content\": \"<s>\"}], " MODEL_OK "}", NULL, "$.added_tokens[0].id: missing (expected an integer)" },
    { "{\"added_tokens\": [{\"id\": 1e9, \"content\": \"<s>\"}], " MODEL_OK "}", NULL, "$.added_tokens[0].id: expected an integer in 0..16777215" },
    { "{\"added_tokens\": [{\"id\": 3, \"content\": \"<s>\", \"special\": \"yes\"}], " MODEL_OK "}", NULL, "$.added_tokens[0].special: expected true or false, found a string" },
    { "{" MODEL_OK "}", "{\"bos_token\": \"<s>\",", "tokenizer_config.json: error: invalid JSON: the file ends at line 1, column 21" },
    { "{" MODEL_OK "}", "{\"bos_token\": \"<bos>\"}", "tokenizer_config.json: error: $.bos_token: '<bos>' is not a token of the tokenizer" },
    { "{" MODEL_OK "}", "{\"add_bos_token\": true}", "tokenizer_config.json: error: $.add_bos_token: true, but there is no bos_token" },
    { "{" MODEL_OK "}", "{\"added_tokens_decoder\": {\"x\": {\"content\": \"<s>\"}}}", "$.added_tokens_decoder['x']: the key must be a token id" },
    { "{\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\"}}], \"special_tokens\": {}}, " MODEL_OK "}", NULL,
      "$.post_processor.single[0].SpecialToken.id: '<s>' has no ids in $.post_processor.special_tokens" },
};

static void base_setup(void)
{
    snprintf(basedir, sizeof basedir, "/tmp/ueaj_tok_XXXXXX");
    if (!mkdtemp(basedir)) basedir[0] = '\0';
    fixtures_setup();
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void base_teardown(void)
{
    fixtures_teardown();
    if (basedir[0]) nftw(basedir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

START_TEST(test_malformed)
{
    const Bad *b = &bad_files[_i];
    char path[512], cpath[512], err[1024], prefix[600];
    make_tmpdir();
    write_in(path, sizeof path, "tokenizer.json", b->json);
    if (b->config) write_in(cpath, sizeof cpath, "tokenizer_config.json", b->config);
    memset(err, 'x', sizeof err);
    Tokenizer *t = tok_load(path, err, sizeof err);
    ck_assert_msg(t == NULL, "case %d loaded", _i);
    snprintf(prefix, sizeof prefix, "%s: error: ", b->config ? cpath : path);
    ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "case %d: '%s' lacks the prefix '%s'", _i, err, prefix);
    ck_assert_msg(strstr(err, b->want), "case %d: '%s' lacks '%s'", _i, err, b->want);
    /* the same through the directory */
    t = tok_load(tmpdir, err, sizeof err);
    ck_assert_msg(t == NULL && strstr(err, b->want), "case %d via the directory: '%s'", _i, err);
}
END_TEST

START_TEST(test_missing_files)
{
    char path[512], err[1024];
    make_tmpdir();
    ck_assert_ptr_null(tok_load(tmpdir, err, sizeof err));
    snprintf(path, sizeof path, "%s/tokenizer.json: error: cannot open: No such file", tmpdir);
    ck_assert_msg(strstr(err, path), "'%s'", err);
    ck_assert_ptr_null(tok_load("/nonexistent/tok.json", err, sizeof err));
    ck_assert_msg(strstr(err, "/nonexistent/tok.json: error: cannot open"), "'%s'", err);
    ck_assert_ptr_null(tok_load(NULL, err, sizeof err));
    ck_assert_ptr_null(tok_load("/nonexistent", NULL, 0));   /* no message buffer: fine */
    /* a truncated copy of the real Llama 3 file */
    size_t n;
    char *raw = slurp(fixture(path, sizeof path, "llama3/tokenizer.json"), &n);
    ck_assert_ptr_nonnull(raw);
    snprintf(path, sizeof path, "%s/cut.json", tmpdir);
    FILE *fp = fopen(path, "wb");
    fwrite(raw, 1, n / 2, fp);
    fclose(fp);
    free(raw);
    ck_assert_ptr_null(tok_load(path, err, sizeof err));
    ck_assert_msg(strstr(err, "cut.json: error: invalid JSON: the file ends at line ") && strstr(err, "truncated?"), "'%s'", err);
    /* no BOS token: TOK_ADD_BOS is an error */
    Tokenizer *t = load_text("{" MODEL_OK "}");
    int32_t *ids;
    ck_assert_int_eq(tok_encode(t, "ab", 2, 1, &ids, &n, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no BOS token"), "%s", err);
    ck_assert_int_eq(tok_encode_ex(t, "ab", 2, TOK_ADD_EOS, &ids, &n, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no EOS token"), "%s", err);
    ck_assert_int_eq(tok_bos(t), -1);
    tok_free(t);
}
END_TEST

/* tokenizer_config.json and generation_config.json beside the file */
START_TEST(test_side_configs)
{
    char path[512], err[1024];
    make_tmpdir();
    write_in(path, sizeof path, "tokenizer_config.json",
             "{\"bos_token\": {\"content\": \"<s>\", \"__type\": \"AddedToken\"}, \"eos_token\": \"</s>\","
             " \"add_bos_token\": true, \"add_eos_token\": true,"
             " \"added_tokens_decoder\": {\"7\": {\"content\": \"<x>\", \"special\": true}}}");
    write_in(path, sizeof path, "generation_config.json", "{\"eos_token_id\": [6, 7, 6]}");
    write_in(path, sizeof path, "tokenizer.json",
             "{\"added_tokens\": [{\"id\": 5, \"content\": \"<s>\", \"special\": true},"
             " {\"id\": 6, \"content\": \"</s>\", \"special\": true}], " MODEL_OK "}");
    Tokenizer *t = tok_load(tmpdir, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    size_t n;
    const int32_t *eos = tok_eos_ids(t, &n);
    ck_assert(n == 2 && eos[0] == 6 && eos[1] == 7);   /* the config's, then the new one */
    ck_assert_int_eq(tok_bos(t), 5);
    ck_assert(tok_is_special(t, 7) && tok_find(t, "<x>") == 7);
    ck_assert_int_eq(tok_vocab_size(t), 8);
    expect_ids(t, "a<x>b", TOK_ADD_DEFAULT, (int32_t[]){ 5, 0, 7, 1, 6 }, 5);
    expect_ids(t, "ab", TOK_ADD_DEFAULT | TOK_ADD_EOS, (int32_t[]){ 5, 2, 6 }, 3);
    tok_free(t);
}
END_TEST

/* Random corruptions of a valid file never crash: loading fails with a
 * message, or the result encodes and decodes. */
START_TEST(test_corrupted_files)
{
    const char *good =
        "{\"added_tokens\": [{\"id\": 9, \"content\": \"<s>\", \"special\": true, \"lstrip\": true}],"
        " \"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\", \"prepend\": \"_\"},"
        "   {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"_\"}]},"
        " \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"_?[a-z]+\"}, \"behavior\": \"Isolated\"},"
        " \"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", \"pattern\": {\"String\": \"_\"}, \"content\": \" \"},"
        "   {\"type\": \"ByteFallback\"}, {\"type\": \"Fuse\"}, {\"type\": \"Strip\", \"content\": \" \", \"start\": 1, \"stop\": 0}]},"
        " \"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {\"_\": 0, \"a\": 1, \"b\": 2, \"_a\": 3, \"_ab\": 4,"
        "   \"<0x21>\": 5, \"<0x3F>\": 6, \"<unk>\": 7, \"ab\": 8}, \"unk_token\": \"<unk>\", \"merges\": [\"_ a\", \"_a b\", \"a b\"]}}";
    char path[512], err[1024];
    make_tmpdir();
    size_t len = strlen(good);
    char *buf = malloc(len + 1);
    uint64_t x = 99;
    int loaded = 0;
    for (int round = 0; round < 600; round++) {
        memcpy(buf, good, len + 1);
        size_t n = len;
        for (int k = 0; k < 1 + round % 3; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(x >> 33) % n;
            int op = (int)(x >> 20) % 4;
            static const char junk[] = "{}[],:\"0-9e\\ aZ_";
            if (op == 0) n = at;                                  /* truncate */
            else if (op == 1) buf[at] = junk[(x >> 40) % (sizeof junk - 1)];
            else if (op == 2) memmove(buf + at, buf + at + 1, n - at), n--;   /* delete */
            else buf[at] = (char)(x >> 48);                       /* any byte */
        }
        buf[n] = '\0';
        write_in(path, sizeof path, "tokenizer.json", buf);
        Tokenizer *t = tok_load(path, err, sizeof err);
        if (!t) {
            ck_assert_msg(strstr(err, ": error: ") != NULL, "'%s'", err);
            continue;
        }
        loaded++;
        int32_t *ids;
        size_t m, tl;
        char *text;
        if (tok_encode(t, "ab ab!? <s>b", 12, 0, &ids, &m, err, sizeof err) == 0) {
            if (tok_decode(t, ids, m, 0, &text, &tl, err, sizeof err) == 0) free(text);
            free(ids);
        }
        tok_free(t);
    }
    free(buf);
    ck_assert_int_gt(loaded, 10);
}
END_TEST

/* ---- the command line ------------------------------------------------------- */

/* Runs ueaj_tokenize_main with stdout and stderr captured. */
static int run_cli(char *out, size_t outn, char *errout, size_t errn, int argc, const char **argv)
{
    char po[512], pe[512];
    snprintf(po, sizeof po, "%s/cli.out", tmpdir);
    snprintf(pe, sizeof pe, "%s/cli.err", tmpdir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    FILE *fo = fopen(po, "wb"), *fe = fopen(pe, "wb");
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    int rc = ueaj_tokenize_main(argc, (char **)argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    fclose(fo);
    fclose(fe);
    size_t n;
    char *s = slurp(po, &n);
    snprintf(out, outn, "%s", s ? s : "");
    free(s);
    s = slurp(pe, &n);
    snprintf(errout, errn, "%s", s ? s : "");
    free(s);
    return rc;
}

START_TEST(test_cli)
{
    char dir[512], out[4096], eo[4096], file[512];
    make_tmpdir();
    fixture(dir, sizeof dir, "llama3");
    const char *a1[] = { "tokenize", "-m", dir, "Hello world" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 4, a1), 0);
    ck_assert_str_eq(out, "9906 1917\n");
    const char *a2[] = { "tokenize", "-m", dir, "--bos", "Hello world" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 5, a2), 0);
    ck_assert_str_eq(out, "128000 9906 1917\n");
    const char *a3[] = { "tokenize", "-m", dir, "--decode", "128000", "9906,1917" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 6, a3), 0);
    ck_assert_str_eq(out, "<|begin_of_text|>Hello world\n");
    const char *a4[] = { "tokenize", "-m", dir, "--decode", "--skip-special", "128000 9906 1917" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 6, a4), 0);
    ck_assert_str_eq(out, "Hello world\n");
    write_in(file, sizeof file, "text.txt", " Hello\n");
    char j[600];
    snprintf(j, sizeof j, "%s/tokenizer.json", dir);
    const char *a5[] = { "tokenize", "-m", j, "-f", file };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 5, a5), 0);
    ck_assert_str_eq(out, "22691 198\n");
    /* errors */
    const char *a6[] = { "tokenize", "-m", dir, "--decode", "9906", "999999" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 6, a6), 1);
    ck_assert_msg(strstr(eo, "token id 999999 is out of range"), "%s", eo);
    const char *a7[] = { "tokenize", "Hello" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 2, a7), 2);
    ck_assert_msg(strstr(eo, "no tokenizer") && strstr(eo, "usage:"), "%s", eo);
    const char *a8[] = { "tokenize", "-m", "/nonexistent", "x" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 4, a8), 1);
    ck_assert_msg(strstr(eo, "/nonexistent: error: cannot open"), "%s", eo);
    const char *a9[] = { "tokenize", "-m", dir, "--decode", "12x" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 5, a9), 2);
    ck_assert_msg(strstr(eo, "'12x' is not a token id"), "%s", eo);
    const char *a10[] = { "tokenize", "-m", dir, "--frobnicate", "x" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 5, a10), 2);
    const char *a11[] = { "tokenize", "-m", dir, "-f", "/nonexistent/file" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 5, a11), 1);
    ck_assert_msg(strstr(eo, "/nonexistent/file: No such file"), "%s", eo);
    const char *a12[] = { "tokenize", "-m", dir, "--", "--bos" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 5, a12), 0);
    ck_assert_str_eq(out, "313 79548\n");
    const char *a13[] = { "tokenize", "--help" };
    ck_assert_int_eq(run_cli(out, sizeof out, eo, sizeof eo, 2, a13), 0);
    ck_assert_msg(strstr(out, "usage: ueajc tokenize"), "%s", out);
}
END_TEST

Suite *suite_tokenizer(void);
Suite *suite_tokenizer(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("tokenizer");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, test_llama3_hf_vectors);
    tcase_add_test(tc, test_llama2_hf_vectors);
    tcase_add_test(tc, test_reference_llama3);
    tcase_add_test(tc, test_reference_llama2);
    tcase_add_test(tc, test_roundtrip_llama3);
    tcase_add_test(tc, test_roundtrip_llama2);
    tcase_add_test(tc, test_stream_random);
    tcase_add_test(tc, test_stream_pieces);
    tcase_add_test(tc, test_bos_eos);
    tcase_add_test(tc, test_special_tokens_in_text);
    tcase_add_test(tc, test_cleanup_and_pieces);
    tcase_add_test(tc, test_encode_decode_errors);
    tcase_add_test(tc, test_metaspace_pairs);
    tcase_add_test(tc, test_added_token_flags);
    tcase_add_test(tc, test_joined_decoders);
    tcase_add_test(tc, test_bytelevel_regex);
    tcase_add_test(tc, test_runaway_steps);
    tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof bad_files / sizeof *bad_files));
    tcase_add_test(tc, test_missing_files);
    tcase_add_test(tc, test_side_configs);
    tcase_add_test(tc, test_corrupted_files);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    return s;
}
