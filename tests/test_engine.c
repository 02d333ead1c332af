/* test_engine.c - the engine: the KV cache must not change a single logit.
 *
 * For every tiny checkpoint in tests/fixtures/llama (whose full-sequence
 * logits tests/llama_check.py compares with a float64 NumPy reference of
 * HF's LlamaForCausalLM), run models/llama.ue through the engine twice:
 * the whole token list in one call, and a prefill of a few tokens followed
 * by one token per call (the KV cache path).  Every logit of every position
 * must be bit-identical: each query sums over the same keys in the same
 * order either way.  Also: bad calls (too many tokens, past the context,
 * ids outside the vocabulary) are refused with a message.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"

Suite *suite_engine(void);

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

static const char *root(void)
{
    const char *r = getenv("UEAJ_ROOT");
    return r && *r ? r : ".";
}

static Engine *open_case(const char *name, char *model_src, int64_t ctx, int64_t batch)
{
    char cfg[4096], w[4096], err[1024];
    snprintf(cfg, sizeof cfg, "%s/tests/fixtures/llama/%s/config.json", root(), name);
    snprintf(w, sizeof w, "%s/tests/fixtures/llama/%s", root(), name);
    EngineOptions o;
    memset(&o, 0, sizeof o);
    o.model_src = model_src;
    o.model_name = "models/llama.ue";
    o.config_path = cfg;
    o.weights = w;
    o.ctx_len = ctx;
    o.max_batch = batch;
    o.copt.verify = 1;
    o.copt.cache_dir = getenv("UEAJ_CACHE");
    Engine *e = engine_new(&o, err, sizeof err);
    ck_assert_msg(e != NULL, "%s: %s", name, err);
    return e;
}

static int read_tokens(const char *name, int32_t *ids, int max)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/llama/%s/tokens.txt", root(), name);
    char *s = slurp(path), *p = s;
    int n = 0;
    while (*p && n < max) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) break;
        ids[n++] = (int32_t)v;
        p = end;
    }
    free(s);
    return n;
}

static const char *const cases[] = {"gqa_tied_llama3", "gqa_tied_null_scaling", "gqa_untied_headdim_linear",
                                    "mha_untied_defaults", "mha_untied_llama3_explicit", "mqa_tied_llama32"};

START_TEST(kv_cache_matches_full_sequence)
{
    char path[4096], err[1024];
    snprintf(path, sizeof path, "%s/models/llama.ue", root());
    char *src = slurp(path);
    const char *name = cases[_i];
    int32_t ids[64];
    int n = read_tokens(name, ids, 64);
    ck_assert_int_gt(n, 4);
    Engine *full = open_case(name, src, 64, 64), *inc = open_case(name, src, 64, 8);
    int64_t V = engine_vocab(full);
    ck_assert_int_eq(engine_forward(full, ids, n, 0, 1, err, sizeof err), 0);
    const float *lf = engine_logits(full);
    /* prefill 3 tokens, then one per call */
    int pre = 3;
    ck_assert_msg(engine_forward(inc, ids, pre, 0, 1, err, sizeof err) == 0, "%s", err);
    for (int t = 0; t < pre; t++)
        ck_assert_msg(!memcmp(engine_logits(inc) + t * V, lf + t * V, sizeof(float) * (size_t)V),
                      "%s: prefill position %d differs", name, t);
    for (int t = pre; t < n; t++) {
        /* the last row only (as generation asks) must equal the full pass's row too */
        ck_assert_msg(engine_forward(inc, ids + t, 1, t, t % 2, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(engine_logits_rows(inc), 1);
        const float *li = engine_logits(inc);
        for (int64_t j = 0; j < V; j++)
            ck_assert_msg(li[j] == lf[t * V + j], "%s: position %d logit %lld: %.9g (cached) vs %.9g (full)", name,
                          t, (long long)j, li[j], lf[t * V + j]);
    }
    engine_free(full);
    engine_free(inc);
    free(src);
}
END_TEST

START_TEST(bad_calls)
{
    char path[4096], err[1024];
    snprintf(path, sizeof path, "%s/models/llama.ue", root());
    char *src = slurp(path);
    Engine *e = open_case(cases[0], src, 16, 4);
    int32_t ids[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ck_assert_int_eq(engine_forward(e, ids, 5, 0, 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "5 tokens in one call") != NULL, "%s", err);
    ck_assert_int_eq(engine_forward(e, ids, 2, 15, 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "do not fit the context of 16") != NULL, "%s", err);
    int32_t bad[1] = {(int32_t)engine_vocab(e)};
    ck_assert_int_eq(engine_forward(e, bad, 1, 0, 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "outside the vocabulary") != NULL, "%s", err);
    ck_assert_int_eq(engine_forward(e, ids, 4, 0, 1, err, sizeof err), 0);
    engine_free(e);
    free(src);
}
END_TEST

Suite *suite_engine(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("engine");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, kv_cache_matches_full_sequence, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, bad_calls);
    suite_add_tcase(s, tc);
    return s;
}
