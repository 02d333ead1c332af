/* test_model.c - tests of model files (.ue) lowered to the IR through the C
 * API: parse_model() -> model_lower() -> run_passes() (compiler/model.c,
 * compiler/model_builtins.c).
 *
 *  - models/llama.ue with models/tiny-llama.json: parameters per layer,
 *    their shapes ([d, Hkv, R, k] for GQA), dtypes, checkpoint names with
 *    {l} substituted, checkpoint shapes and transposes; inputs and the
 *    output; `repeat` unrolled L times (node counts per op); eps from the
 *    config in every rms_norm; attention attributes (causal, no window,
 *    scale 1/sqrt(k)); the ueajsum nodes' letters;
 *  - config-driven choices: tied vs untied embeddings ("model.embed_tokens.
 *    weight" vs "lm_head.weight"), `??` defaults (no head_dim, no
 *    num_key_value_heads), an absent required field is an error;
 *  - --dim overrides (ModelOptions.dims) win over config.json, also for a
 *    `let`, and turn `dim n = runtime` into a constant;
 *  - `dim n = runtime` gives run-time dims (IrSize.dyn) that flow through
 *    the ops; --emit=ir-style dumps through run_passes + ir_dump;
 *  - rope's constant table equals HF's _compute_llama3_parameters (written
 *    out again here, in double, in HF's torch.where form) for two configs
 *    that exercise all three frequency bands, and the default and linear
 *    types;
 *  - attention attributes given explicitly (causal, window, scale);
 *  - diagnostics from the API land at the right place in the file.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include "internal.h"
#include "model_sema.h"

static char *render(const UeajCtx *ctx)
{
    char *p = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&p, &n);
    ueaj_diag_render(ctx, f);
    fclose(f);
    return p;
}

static char *slurp(const char *rel)
{
    const char *root = getenv("UEAJ_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root && *root ? root : ".", rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (set UEAJ_ROOT to the project root)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = 0;
    fclose(f);
    return p;
}

/* One lowering: the model text, the config.json text (NULL = no --config)
 * and --dim overrides as "NAME=V NAME=V". */
typedef struct Low {
    UeajCtx     *ctx;
    IrGraph     *g;      /* NULL after errors */
    cJSON       *config;
    ModelOptions opt;
    char        *dims;   /* storage for the dims' keys and values */
    char        *diag;   /* rendered diagnostics (malloc'd) */
} Low;

static Low lower_text(const char *model, const char *config_json, const char *dims)
{
    Low L;
    memset(&L, 0, sizeof L);
    L.ctx = ueaj_ctx_new(NULL);
    ck_assert_ptr_nonnull(L.ctx);
    L.opt.path = "m.ue";
    if (config_json) {
        L.config = cJSON_Parse(config_json);
        ck_assert_msg(L.config != NULL, "the test's config JSON is malformed");
    }
    if (dims) {
        L.dims = strdup(dims);
        for (char *tok = strtok(L.dims, " "); tok; tok = strtok(NULL, " ")) {
            char *eq = strchr(tok, '=');
            ck_assert_ptr_nonnull(eq);
            *eq = 0;
            L.opt.dims[L.opt.ndims].key = tok;
            L.opt.dims[L.opt.ndims].val = eq + 1;
            L.opt.ndims++;
        }
    }
    const Source *src = source_new(L.ctx, "m.ue", model, strlen(model));
    Program *p = parse_model(L.ctx, src);
    if (p) L.g = model_lower(L.ctx, p, L.config, &L.opt);
    L.diag = render(L.ctx);
    return L;
}

static Low lower_llama(const char *config_json, const char *dims)
{
    char *text = slurp("models/llama.ue");
    Low L = lower_text(text, config_json, dims);
    free(text);
    ck_assert_msg(L.g != NULL, "llama.ue did not lower:\n%s", L.diag);
    return L;
}

static void low_free(Low *L)
{
    cJSON_Delete(L->config);
    free(L->dims);
    free(L->diag);
    ueaj_ctx_free(L->ctx);
}

static IrTensor *find(const IrGraph *g, const char *name)
{
    for (int i = 0; i < g->tensors.n; i++) {
        IrTensor *t = g->tensors.v[i];
        if (t->name && !strcmp(t->name, name)) return t;
    }
    return NULL;
}

static IrTensor *must_find(const IrGraph *g, const char *name)
{
    IrTensor *t = find(g, name);
    ck_assert_msg(t != NULL, "no tensor named %s", name);
    return t;
}

static int count_kind(const IrGraph *g, TenKind k)
{
    int n = 0;
    for (int i = 0; i < g->tensors.n; i++) n += ((IrTensor *)g->tensors.v[i])->kind == k;
    return n;
}

static int count_op(const IrGraph *g, OpKind op)
{
    int n = 0;
    for (int i = 0; i < g->nodes.n; i++) n += ((IrNode *)g->nodes.v[i])->op == op;
    return n;
}

static IrNode *nth_op(const IrGraph *g, OpKind op, int k)
{
    for (int i = 0; i < g->nodes.n; i++) {
        IrNode *n = g->nodes.v[i];
        if (n->op == op && k-- == 0) return n;
    }
    ck_abort_msg("no node %d of op %s", k, ir_op_name(op));
    return NULL;
}

static IrNode *producer(const IrGraph *g, const IrTensor *t)
{
    for (int i = 0; i < g->nodes.n; i++) {
        IrNode *n = g->nodes.v[i];
        if (n->out == t) return n;
    }
    return NULL;
}

/* shape as text: "[n, 64, 2]" (run-time dims by name) */
static const char *shape_of(const IrGraph *g, const IrTensor *t)
{
    static char buf[8][128];
    static int which;
    char *b = buf[which++ % 8];
    int o = snprintf(b, 128, "[");
    for (int a = 0; a < t->rank; a++)
        o += t->shape[a].dyn >= 0 ? snprintf(b + o, 128 - (size_t)o, "%s%s", a ? ", " : "", g->dyn_names[t->shape[a].dyn])
                                  : snprintf(b + o, 128 - (size_t)o, "%s%lld", a ? ", " : "", (long long)t->shape[a].c);
    snprintf(b + o, 128 - (size_t)o, "]");
    return b;
}

static const char *load_shape_of(const IrTensor *t)
{
    static char buf[4][128];
    static int which;
    char *b = buf[which++ % 4];
    int o = snprintf(b, 128, "[");
    for (int a = 0; a < t->load_rank; a++)
        o += snprintf(b + o, 128 - (size_t)o, "%s%lld", a ? ", " : "", (long long)t->load_shape[a]);
    snprintf(b + o, 128 - (size_t)o, "]");
    return b;
}

#define CHECK_SHAPE(g, t, want) ck_assert_str_eq(shape_of((g), (t)), (want))

/* the tiny config with fields replaced / removed: edit("tie_word_embeddings", "false") */
static char *tiny_config_with(const char *field, const char *json_value)
{
    char *text = slurp("models/tiny-llama.json");
    cJSON *j = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(j);
    cJSON_DeleteItemFromObjectCaseSensitive(j, field);
    if (json_value) cJSON_AddItemToObject(j, field, cJSON_Parse(json_value));
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out;
}

/* ---- llama.ue with tiny-llama.json ------------------------------------------ */

/* d 64, F 160, L 2, H 4, Hkv 2 (R 2), k 16, V 256, tied */
typedef struct PSpec { const char *name, *shape, *load, *load_shape; bool perm; } PSpec;
static const PSpec layer_params[] = {
    {"attn_norm", "[64]", "model.layers.%d.input_layernorm.weight", "[64]", false},
    {"wq", "[64, 2, 2, 16]", "model.layers.%d.self_attn.q_proj.weight", "[64, 64]", true},
    {"wk", "[64, 2, 16]", "model.layers.%d.self_attn.k_proj.weight", "[32, 64]", true},
    {"wv", "[64, 2, 16]", "model.layers.%d.self_attn.v_proj.weight", "[32, 64]", true},
    {"wo", "[2, 2, 16, 64]", "model.layers.%d.self_attn.o_proj.weight", "[64, 64]", true},
    {"mlp_norm", "[64]", "model.layers.%d.post_attention_layernorm.weight", "[64]", false},
    {"wg", "[64, 160]", "model.layers.%d.mlp.gate_proj.weight", "[160, 64]", true},
    {"wu", "[64, 160]", "model.layers.%d.mlp.up_proj.weight", "[160, 64]", true},
    {"wd", "[160, 64]", "model.layers.%d.mlp.down_proj.weight", "[64, 160]", true},
};
#define NLAYER_PARAMS ((int)(sizeof layer_params / sizeof layer_params[0]))

static void check_layer_params(const IrGraph *g, int nlayers)
{
    for (int l = 0; l < nlayers; l++)
        for (int p = 0; p < NLAYER_PARAMS; p++) {
            const PSpec *s = &layer_params[p];
            char name[64], load[128];
            snprintf(name, sizeof name, "%s.%d", s->name, l);
            snprintf(load, sizeof load, s->load, l);
            IrTensor *t = must_find(g, name);
            ck_assert_int_eq(t->kind, TEN_PARAM);
            ck_assert_int_eq(t->group, UG_PARAM);
            ck_assert_msg(t->dtype == DT_BF16, "%s: dtype %s", name, dtype_name(t->dtype));
            ck_assert_msg(!strcmp(shape_of(g, t), s->shape), "%s: shape %s, want %s", name, shape_of(g, t), s->shape);
            ck_assert_ptr_nonnull(t->load_name);
            ck_assert_str_eq(t->load_name, load);
            ck_assert_msg(!strcmp(load_shape_of(t), s->load_shape), "%s: checkpoint shape %s, want %s", name,
                          load_shape_of(t), s->load_shape);
            ck_assert_int_eq(t->has_perm, s->perm);
            if (s->perm) {
                ck_assert_int_eq(t->load_perm[0], 1);
                ck_assert_int_eq(t->load_perm[1], 0);
            }
            /* the checkpoint and the declared shape hold the same elements */
            int64_t n = 1;
            for (int a = 0; a < t->load_rank; a++) n *= t->load_shape[a];
            ck_assert_int_eq(n, ir_numel_const(t));
        }
}

START_TEST(llama_tiny_params)
{
    char *cfg = slurp("models/tiny-llama.json");
    Low L = lower_llama(cfg, NULL);
    free(cfg);
    IrGraph *g = L.g;
    ck_assert_str_eq(g->name, "llama");
    ck_assert_int_eq(count_kind(g, TEN_PARAM), 2 * NLAYER_PARAMS + 3);
    check_layer_params(g, 2);
    ck_assert_ptr_null(find(g, "wq.2"));
    ck_assert_ptr_null(find(g, "wq")); /* per-layer params always carry the layer */

    IrTensor *e = must_find(g, "embed");
    CHECK_SHAPE(g, e, "[256, 64]");
    ck_assert_str_eq(e->load_name, "model.embed_tokens.weight");
    ck_assert_str_eq(load_shape_of(e), "[256, 64]");
    ck_assert(!e->has_perm);
    IrTensor *nrm = must_find(g, "norm");
    CHECK_SHAPE(g, nrm, "[64]");
    ck_assert_str_eq(nrm->load_name, "model.norm.weight");
    /* tied: the head is the embedding table, transposed */
    IrTensor *h = must_find(g, "head");
    CHECK_SHAPE(g, h, "[64, 256]");
    ck_assert_str_eq(h->load_name, "model.embed_tokens.weight");
    ck_assert_str_eq(load_shape_of(h), "[256, 64]");
    ck_assert(h->has_perm);
    ck_assert_int_eq(h->load_perm[0], 1);
    ck_assert_int_eq(h->load_perm[1], 0);

    /* inputs and the output: n (tokens in a call), C (the KV cache length) and
     * m (rows of logits wanted) are run-time dims */
    ck_assert_int_eq(g->ndyn, 3);
    ck_assert_str_eq(g->dyn_names[0], "n");
    ck_assert_str_eq(g->dyn_names[1], "C");
    ck_assert_str_eq(g->dyn_names[2], "m");
    ck_assert_int_eq(count_kind(g, TEN_INPUT), 2);
    IrTensor *tok = must_find(g, "tokens"), *pos = must_find(g, "pos");
    ck_assert_int_eq(tok->kind, TEN_INPUT);
    ck_assert_int_eq(tok->dtype, DT_I32);
    ck_assert_int_eq(pos->dtype, DT_I32);
    CHECK_SHAPE(g, tok, "[n]");
    ck_assert_int_eq(tok->shape[0].dyn, 0);
    ck_assert_int_eq(count_kind(g, TEN_OUTPUT), 1);
    IrTensor *lg = must_find(g, "logits");
    ck_assert_int_eq(lg->kind, TEN_OUTPUT);
    CHECK_SHAPE(g, lg, "[m, 256]"); /* m: rows of logits the runtime asks for */
    low_free(&L);
}
END_TEST

START_TEST(llama_tiny_nodes)
{
    char *cfg = slurp("models/tiny-llama.json");
    Low L = lower_llama(cfg, NULL);
    free(cfg);
    IrGraph *g = L.g;
    /* repeat unrolled: per layer 2 rms_norm, 2 rope, 1 attention, 1 silu,
     * 7 contractions (q k v o gate up down), 1 mul, 2 residual adds */
    ck_assert_int_eq(count_op(g, OP_EMBED), 1);
    ck_assert_int_eq(count_op(g, OP_RMSNORM), 2 * 2 + 1);
    ck_assert_int_eq(count_op(g, OP_ROPE), 2 * 2);
    ck_assert_int_eq(count_op(g, OP_ATTENTION), 2);
    ck_assert_int_eq(count_op(g, OP_SILU), 2);
    ck_assert_int_eq(count_op(g, OP_MUL), 2);
    ck_assert_int_eq(count_op(g, OP_ADD), 2 * 2);
    ck_assert_int_eq(count_op(g, OP_CONTRACT), 2 * 7 + 1);
    /* eps from the config in every norm, HF's mode by default */
    for (int i = 0; i < count_op(g, OP_RMSNORM); i++) {
        IrNode *n = nth_op(g, OP_RMSNORM, i);
        ck_assert_double_eq(n->fattr[0], 1e-5);
        ck_assert_int_eq(n->iattr[0], RMSNORM_HF);
        ck_assert_int_eq(n->nin, 2);
    }
    /* attention: causal, no window, scale 1/sqrt(k) = 1/4; q [n, Hkv, R, k] */
    for (int l = 0; l < 2; l++) {
        IrNode *a = nth_op(g, OP_ATTENTION, l);
        ck_assert_int_eq(a->iattr[0], 1);
        ck_assert_int_eq(a->iattr[1], 0);
        ck_assert_double_eq_tol(a->fattr[0], 0.25, 1e-15);
        CHECK_SHAPE(g, a->in[0], "[n, 2, 2, 16]");
        CHECK_SHAPE(g, a->in[1], "[C, 2, 16]");
        CHECK_SHAPE(g, a->in[2], "[C, 2, 16]");
        CHECK_SHAPE(g, a->out, "[n, 2, 2, 16]");
        /* q comes from rope; k and v are the layer's caches, written by cache_write
         * from the rope'd keys and the v projection at positions pos */
        ck_assert_int_eq(a->nin, 4);
        ck_assert_str_eq(a->in[3]->name, "pos");
        ck_assert_int_eq(producer(g, a->in[0])->op, OP_ROPE);
        ck_assert_int_eq(a->in[1]->kind, TEN_STATE);
        ck_assert_int_eq(a->in[2]->kind, TEN_STATE);
        IrNode *wk = producer(g, a->in[1]), *wv = producer(g, a->in[2]);
        ck_assert_int_eq(wk->op, OP_CACHE_WRITE);
        ck_assert_int_eq(wv->op, OP_CACHE_WRITE);
        ck_assert_int_eq(producer(g, wk->in[0])->op, OP_ROPE);
        ck_assert_int_eq(producer(g, wv->in[0])->op, OP_CONTRACT);
    }
    /* the q projection: letters from the ueajsum string, wq of layer 1 */
    IrNode *q1 = producer(g, must_find(g, "q.1"));
    ck_assert_ptr_nonnull(q1);
    ck_assert_int_eq(q1->op, OP_CONTRACT);
    ck_assert_int_eq(q1->nin, 2);
    ck_assert_str_eq(q1->in_letters[0], "nd");
    ck_assert_str_eq(q1->in_letters[1], "dhik");
    ck_assert_str_eq(q1->out_letters, "nhik");
    ck_assert_str_eq(q1->in[1]->name, "wq.1");
    ck_assert_str_eq(q1->in[0]->name, "h.1");
    /* the final projection writes the output */
    IrNode *last = producer(g, must_find(g, "logits"));
    ck_assert_int_eq(last->op, OP_CONTRACT);
    ck_assert_str_eq(last->in[1]->name, "head");
    ck_assert_str_eq(last->out_letters, "nv");
    low_free(&L);
}
END_TEST

START_TEST(llama_tiny_passes)
{
    char *cfg = slurp("models/tiny-llama.json");
    Low L = lower_llama(cfg, NULL);
    free(cfg);
    Buf b;
    buf_init(&b);
    ck_assert_int_eq(run_passes(L.ctx, L.g, NULL, NULL), 0);
    ck_assert_int_eq(ueaj_error_count(L.ctx), 0);
    ck_assert_int_eq(must_find(L.g, "logits")->dtype, DT_F32); /* activations are f32 */
    ir_dump(&b, L.g);
    ck_assert_ptr_nonnull(strstr(b.p, "logits   output [m, 256] f32"));
    ck_assert_ptr_nonnull(strstr(b.p, "wq.1     param  [64, 2, 2, 16] bf16"));
    ck_assert_ptr_nonnull(strstr(b.p, "attention"));
    /* contractions accumulate in f32 (bf16 params, f32 activations) */
    for (int i = 0; i < L.g->nodes.n; i++) {
        IrNode *n = L.g->nodes.v[i];
        if (n->op == OP_CONTRACT) ck_assert_msg(n->acc == DT_F32, "node %d accumulates in %s", i, dtype_name(n->acc));
    }
    buf_free(&b);
    low_free(&L);
}
END_TEST

START_TEST(llama_untied)
{
    char *cfg = tiny_config_with("tie_word_embeddings", "false");
    Low L = lower_llama(cfg, NULL);
    free(cfg);
    IrTensor *h = must_find(L.g, "head");
    ck_assert_str_eq(h->load_name, "lm_head.weight");
    ck_assert_str_eq(load_shape_of(h), "[256, 64]");
    ck_assert(h->has_perm);
    ck_assert_str_eq(must_find(L.g, "embed")->load_name, "model.embed_tokens.weight");
    low_free(&L);
    /* absent: the file's default (false) */
    cfg = tiny_config_with("tie_word_embeddings", NULL);
    L = lower_llama(cfg, NULL);
    free(cfg);
    ck_assert_str_eq(must_find(L.g, "head")->load_name, "lm_head.weight");
    low_free(&L);
    /* --dim tied=1 overrides the config's false */
    cfg = tiny_config_with("tie_word_embeddings", "false");
    L = lower_llama(cfg, "tied=1");
    free(cfg);
    ck_assert_str_eq(must_find(L.g, "head")->load_name, "model.embed_tokens.weight");
    low_free(&L);
}
END_TEST

START_TEST(llama_defaults)
{
    /* no head_dim: k = d / H = 16; no num_key_value_heads: Hkv = H, R = 1 */
    char *c1 = tiny_config_with("head_dim", NULL);
    cJSON *j = cJSON_Parse(c1);
    free(c1);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "num_key_value_heads");
    cJSON_DeleteItemFromObjectCaseSensitive(j, "rms_norm_eps");
    char *cfg = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    Low L = lower_llama(cfg, NULL);
    free(cfg);
    CHECK_SHAPE(L.g, must_find(L.g, "wq.0"), "[64, 4, 1, 16]");
    CHECK_SHAPE(L.g, must_find(L.g, "wk.0"), "[64, 4, 16]");
    CHECK_SHAPE(L.g, must_find(L.g, "wo.1"), "[4, 1, 16, 64]");
    ck_assert_str_eq(load_shape_of(must_find(L.g, "wk.0")), "[64, 64]");
    ck_assert_double_eq(nth_op(L.g, OP_RMSNORM, 0)->fattr[0], 1e-6); /* the file's ?? 1e-6 */
    low_free(&L);
}
END_TEST

START_TEST(llama_head_dim_not_d_over_h)
{
    /* head_dim given and != d / H (as in some checkpoints): q_proj is [H*k, d] */
    char *cfg = tiny_config_with("head_dim", "8");
    Low L = lower_llama(cfg, NULL);
    free(cfg);
    IrTensor *wq = must_find(L.g, "wq.0");
    CHECK_SHAPE(L.g, wq, "[64, 2, 2, 8]");
    ck_assert_str_eq(load_shape_of(wq), "[32, 64]");
    ck_assert_str_eq(load_shape_of(must_find(L.g, "wo.0")), "[64, 32]");
    ck_assert_double_eq_tol(nth_op(L.g, OP_ATTENTION, 0)->fattr[0], 1 / sqrt(8.0), 1e-15);
    low_free(&L);
}
END_TEST

START_TEST(llama_missing_field)
{
    char *cfg = tiny_config_with("hidden_size", NULL);
    char *text = slurp("models/llama.ue");
    Low L = lower_text(text, cfg, NULL);
    free(text);
    free(cfg);
    ck_assert_ptr_null(L.g);
    ck_assert_msg(strstr(L.diag, "m.ue:12:11: error: this config field is absent (not in config.json)") != NULL,
                  "%s", L.diag);
    low_free(&L);
    /* without any config */
    text = slurp("models/llama.ue");
    L = lower_text(text, NULL, NULL);
    free(text);
    ck_assert_ptr_null(L.g);
    ck_assert_ptr_nonnull(strstr(L.diag, "(no --config given)"));
    low_free(&L);
}
END_TEST

/* ---- --dim overrides ---------------------------------------------------------- */

START_TEST(dims_override_config)
{
    char *cfg = slurp("models/tiny-llama.json");
    Low L = lower_llama(cfg, "L=3 d=32 F=48 eps=0.125");
    free(cfg);
    IrGraph *g = L.g;
    ck_assert_int_eq(count_kind(g, TEN_PARAM), 3 * NLAYER_PARAMS + 3);
    ck_assert_int_eq(count_op(g, OP_ATTENTION), 3);
    ck_assert_ptr_nonnull(find(g, "wd.2"));
    ck_assert_ptr_null(find(g, "wd.3"));
    ck_assert_str_eq(must_find(g, "wd.2")->load_name, "model.layers.2.mlp.down_proj.weight");
    /* d = 32 from --dim, k = 16 still from config.head_dim */
    CHECK_SHAPE(g, must_find(g, "wq.2"), "[32, 2, 2, 16]");
    ck_assert_str_eq(load_shape_of(must_find(g, "wq.2")), "[64, 32]");
    CHECK_SHAPE(g, must_find(g, "wg.0"), "[32, 48]");
    CHECK_SHAPE(g, must_find(g, "embed"), "[256, 32]");
    for (int i = 0; i < count_op(g, OP_RMSNORM); i++) ck_assert_double_eq(nth_op(g, OP_RMSNORM, i)->fattr[0], 0.125);
    low_free(&L);
}
END_TEST

START_TEST(dims_override_runtime)
{
    /* --dim n=5 makes the run-time dim a constant */
    char *cfg = slurp("models/tiny-llama.json");
    Low L = lower_llama(cfg, "n=5");
    free(cfg);
    ck_assert_int_eq(L.g->ndyn, 2); /* C (the cache length) and m (logit rows) stay run-time dims */
    ck_assert_str_eq(L.g->dyn_names[0], "C");
    ck_assert_str_eq(L.g->dyn_names[1], "m");
    CHECK_SHAPE(L.g, must_find(L.g, "tokens"), "[5]");
    CHECK_SHAPE(L.g, must_find(L.g, "logits"), "[m, 256]");
    ck_assert_int_eq(run_passes(L.ctx, L.g, NULL, NULL), 0);
    low_free(&L);
}
END_TEST

START_TEST(dims_override_errors)
{
    Low L = lower_text("model t\ndim d = 4\ninput x[d]\ny = x * 2\noutput y\n", NULL, "d=4x");
    ck_assert_ptr_null(L.g);
    ck_assert_msg(strstr(L.diag, "m.ue:2:5: error: --dim d=4x: not a number") != NULL, "%s", L.diag);
    low_free(&L);
    /* a fractional override of a dim */
    L = lower_text("model t\ndim d = 4\ninput x[d]\ny = x * 2\noutput y\n", NULL, "d=2.5");
    ck_assert_ptr_null(L.g);
    ck_assert_msg(strstr(L.diag, "m.ue:2:5: error: --dim d=2.5: a dim must be a non-negative whole number") != NULL, "%s", L.diag);
    low_free(&L);
}
END_TEST

/* ---- run-time dims ------------------------------------------------------------- */

START_TEST(runtime_dims)
{
    Low L = lower_text("model t\n"
                       "dim n = runtime\n"
                       "dim m = runtime\n"
                       "dim d = 6\n"
                       "input a[n, d]\n"
                       "input b[m, d]\n"
                       "param w[d, d] : f32\n"
                       "y = ueajsum(\"nd,md,*de->nme\", a, b, w)\n"
                       "z = softmax(y) * 0.5\n"
                       "s = sum(z)\n"
                       "output s\n",
                       NULL, NULL);
    ck_assert_msg(L.g != NULL, "%s", L.diag);
    IrGraph *g = L.g;
    ck_assert_int_eq(g->ndyn, 2);
    ck_assert_str_eq(g->dyn_names[0], "n");
    ck_assert_str_eq(g->dyn_names[1], "m");
    IrTensor *a = must_find(g, "a"), *b = must_find(g, "b");
    ck_assert_int_eq(a->shape[0].dyn, 0);
    ck_assert_int_eq(a->shape[1].dyn, -1);
    ck_assert_int_eq(a->shape[1].c, 6);
    ck_assert_int_eq(b->shape[0].dyn, 1);
    CHECK_SHAPE(g, must_find(g, "y"), "[n, m, 6]");
    CHECK_SHAPE(g, must_find(g, "z"), "[n, m, 6]");
    CHECK_SHAPE(g, must_find(g, "s"), "[n, m]");
    ck_assert_int_eq(ir_numel_const(a), -1);
    ck_assert_int_eq(ir_numel_const(must_find(g, "w")), 36);
    IrNode *mc = producer(g, must_find(g, "z"));
    ck_assert_int_eq(mc->op, OP_MULC);
    ck_assert_double_eq(mc->fattr[0], 0.5);
    ck_assert_int_eq(run_passes(L.ctx, g, NULL, NULL), 0);
    low_free(&L);
}
END_TEST

START_TEST(runtime_only_whole)
{
    /* `runtime` may only be a whole dim value; a let cannot be one */
    Low L = lower_text("model t\ndim n = runtime\nlet r = runtime\ninput x[n]\ny = x * 2\noutput y\n", NULL, NULL);
    ck_assert_ptr_null(L.g);
    ck_assert_msg(strstr(L.diag, "m.ue:3:9: error: 'runtime' is only valid as a whole dim value") != NULL, "%s",
                  L.diag);
    low_free(&L);
}
END_TEST

START_TEST(repeat_unrolls)
{
    Low L = lower_text("model t\n"
                       "dim L = 4\n"
                       "dim d = 3\n"
                       "input x[d]\n"
                       "repeat l < L {\n"
                       "    param w[d, d] : f32 = load \"blocks.{l}.w\" [d, d] transpose(1, 0)\n"
                       "    x = x + ueajsum(\"d,*de->e\", x, w) * (l + 1)\n"
                       "}\n"
                       "output x\n",
                       NULL, NULL);
    ck_assert_msg(L.g != NULL, "%s", L.diag);
    IrGraph *g = L.g;
    ck_assert_int_eq(count_kind(g, TEN_PARAM), 4);
    ck_assert_int_eq(count_op(g, OP_CONTRACT), 4);
    ck_assert_int_eq(count_op(g, OP_MULC), 4);
    ck_assert_int_eq(count_op(g, OP_ADD), 4);
    for (int l = 0; l < 4; l++) {
        char name[16], load[32];
        snprintf(name, sizeof name, "w.%d", l);
        snprintf(load, sizeof load, "blocks.%d.w", l);
        IrTensor *w = must_find(g, name);
        ck_assert_str_eq(w->load_name, load);
        ck_assert(w->has_perm);
        /* the l-th scaling uses l + 1, and consumes the l-th contraction */
        IrNode *m = nth_op(g, OP_MULC, l);
        ck_assert_double_eq(m->fattr[0], l + 1);
        IrNode *c = producer(g, m->in[0]);
        ck_assert_int_eq(c->op, OP_CONTRACT);
        ck_assert_ptr_eq(c->in[1], w);
    }
    /* the chain: each add reads the previous one's result */
    for (int l = 1; l < 4; l++) ck_assert_ptr_eq(nth_op(g, OP_ADD, l)->in[0], nth_op(g, OP_ADD, l - 1)->out);
    ck_assert_int_eq(nth_op(g, OP_ADD, 3)->out->kind, TEN_OUTPUT);
    ck_assert_int_eq(run_passes(L.ctx, g, NULL, NULL), 0);
    low_free(&L);
}
END_TEST

/* ---- rope tables vs HF ----------------------------------------------------------- */

/* HF transformers' rope init, in double: _compute_default_rope_parameters
 * then _compute_llama3_parameters, in its torch.where form.  Returns the
 * band of each frequency (0 high: kept, 1 medium: smoothed, 2 low: / factor). */
static void hf_llama3_inv_freq(double base, int dim, double factor, double low_freq_factor, double high_freq_factor,
                               double old_context_len, double *out, int *band)
{
    double low_freq_wavelen = old_context_len / low_freq_factor;
    double high_freq_wavelen = old_context_len / high_freq_factor;
    for (int i = 0; i < dim / 2; i++) {
        double inv_freq = 1.0 / pow(base, (double)(2 * i) / dim);
        double wavelen = 2 * M_PI / inv_freq;
        double inv_freq_llama = wavelen > low_freq_wavelen ? inv_freq / factor : inv_freq;
        double smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
        double smoothed = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama;
        bool is_medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
        out[i] = is_medium ? smoothed : inv_freq_llama;
        band[i] = is_medium ? 1 : wavelen > low_freq_wavelen ? 2 : 0;
    }
}

static void check_table(const IrNode *n, const double *want, int half)
{
    ck_assert_ptr_nonnull(n->table);
    ck_assert_int_eq(n->iattr[2], half);
    for (int j = 0; j < half; j++) {
        double got = n->table[j];
        /* the table is f32: one rounding of the double value */
        ck_assert_msg(fabs(got - want[j]) <= 1.5e-7 * fabs(want[j]), "inv_freq[%d] = %.9g, HF gives %.9g", j, got,
                      want[j]);
        ck_assert_msg((float)want[j] == n->table[j], "inv_freq[%d] = %.9g is not the f32 rounding of %.17g", j,
                      got, want[j]);
    }
}

START_TEST(rope_llama3_tiny)
{
    char *cfg = slurp("models/tiny-llama.json");
    Low L = lower_llama(cfg, NULL);
    free(cfg);
    double want[8];
    int band[8], nb[3] = {0};
    hf_llama3_inv_freq(500000.0, 16, 32.0, 1.0, 4.0, 8192.0, want, band);
    for (int j = 0; j < 8; j++) nb[band[j]]++;
    ck_assert_msg(nb[0] && nb[1] && nb[2], "the config should exercise every band: %d %d %d", nb[0], nb[1], nb[2]);
    ck_assert_int_eq(count_op(L.g, OP_ROPE), 4);
    for (int i = 0; i < 4; i++) check_table(nth_op(L.g, OP_ROPE, i), want, 8);
    low_free(&L);
}
END_TEST

START_TEST(rope_llama3_31)
{
    /* LLaMA 3.1's rope_scaling with a 64-wide head: several medium bands */
    const char *cfg = "{\"hidden_size\": 128, \"intermediate_size\": 32, \"num_hidden_layers\": 1,"
                      " \"num_attention_heads\": 2, \"vocab_size\": 16, \"rope_theta\": 500000.0,"
                      " \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0,"
                      " \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}}";
    Low L = lower_llama(cfg, NULL);
    double want[32];
    int band[32], nb[3] = {0};
    hf_llama3_inv_freq(500000.0, 64, 8.0, 1.0, 4.0, 8192.0, want, band);
    for (int j = 0; j < 32; j++) nb[band[j]]++;
    ck_assert_msg(nb[0] && nb[1] >= 2 && nb[2], "bands %d %d %d", nb[0], nb[1], nb[2]);
    CHECK_SHAPE(L.g, must_find(L.g, "wq.0"), "[128, 2, 1, 64]");
    check_table(nth_op(L.g, OP_ROPE, 0), want, 32);
    check_table(nth_op(L.g, OP_ROPE, 1), want, 32);
    low_free(&L);

    /* other low/high factors: the same formula */
    const char *cfg2 = "{\"hidden_size\": 128, \"intermediate_size\": 32, \"num_hidden_layers\": 1,"
                       " \"num_attention_heads\": 2, \"vocab_size\": 16, \"rope_theta\": 10000.0,"
                       " \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 4.0, \"low_freq_factor\": 2.0,"
                       " \"high_freq_factor\": 8.0, \"original_max_position_embeddings\": 2048}}";
    L = lower_llama(cfg2, NULL);
    hf_llama3_inv_freq(10000.0, 64, 4.0, 2.0, 8.0, 2048.0, want, band);
    nb[0] = nb[1] = nb[2] = 0;
    for (int j = 0; j < 32; j++) nb[band[j]]++;
    ck_assert_msg(nb[0] && nb[1] && nb[2], "bands %d %d %d", nb[0], nb[1], nb[2]);
    check_table(nth_op(L.g, OP_ROPE, 0), want, 32);
    low_free(&L);
}
END_TEST

START_TEST(rope_default_and_linear)
{
    /* no rope_scaling: the default table 1 / theta^(2j/k) */
    const char *cfg = "{\"hidden_size\": 32, \"intermediate_size\": 8, \"num_hidden_layers\": 1,"
                      " \"num_attention_heads\": 2, \"vocab_size\": 16, \"rope_theta\": 10000.0}";
    Low L = lower_llama(cfg, NULL);
    double want[8];
    for (int j = 0; j < 8; j++) want[j] = 1.0 / pow(10000.0, 2.0 * j / 16);
    check_table(nth_op(L.g, OP_ROPE, 0), want, 8);
    low_free(&L);
    /* rope_theta absent: the file's default 10000 as well */
    const char *cfg0 = "{\"hidden_size\": 32, \"intermediate_size\": 8, \"num_hidden_layers\": 1,"
                       " \"num_attention_heads\": 2, \"vocab_size\": 16}";
    L = lower_llama(cfg0, NULL);
    check_table(nth_op(L.g, OP_ROPE, 1), want, 8);
    low_free(&L);
    /* the older "type" key, linear scaling: every frequency / factor */
    const char *cfg2 = "{\"hidden_size\": 32, \"intermediate_size\": 8, \"num_hidden_layers\": 1,"
                       " \"num_attention_heads\": 2, \"vocab_size\": 16, \"rope_theta\": 1000.0,"
                       " \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.5}}";
    L = lower_llama(cfg2, NULL);
    for (int j = 0; j < 8; j++) want[j] = 1.0 / pow(1000.0, 2.0 * j / 16) / 2.5;
    check_table(nth_op(L.g, OP_ROPE, 0), want, 8);
    low_free(&L);
}
END_TEST

START_TEST(rope_direct)
{
    /* a rope call with every keyword argument given in the file */
    Low L = lower_text("model t\n"
                       "dim n = runtime\n"
                       "input x[n, 3, 12]\n"
                       "input p[n] : i32\n"
                       "y = rope(x, p, theta = 50, type = \"llama3\", factor = 3, low_freq_factor = 1,\n"
                       "         high_freq_factor = 2, original_max_position = 40)\n"
                       "output y\n",
                       NULL, NULL);
    ck_assert_msg(L.g != NULL, "%s", L.diag);
    double want[6];
    int band[6], nb[3] = {0};
    hf_llama3_inv_freq(50.0, 12, 3.0, 1.0, 2.0, 40.0, want, band);
    for (int j = 0; j < 6; j++) nb[band[j]]++;
    ck_assert_msg(nb[0] && nb[1] && nb[2], "bands %d %d %d", nb[0], nb[1], nb[2]);
    IrNode *r = nth_op(L.g, OP_ROPE, 0);
    check_table(r, want, 6);
    CHECK_SHAPE(L.g, r->out, "[n, 3, 12]");
    ck_assert_str_eq(r->in[1]->name, "p");
    low_free(&L);
}
END_TEST

/* ---- attention attributes ------------------------------------------------------- */

START_TEST(attention_attrs)
{
    Low L = lower_text("model t\n"
                       "dim n = runtime\n"
                       "dim k = 9\n"
                       "input q[n, 6, k]\n"
                       "input kk[n, 2, k]\n"
                       "input v[n, 2, 5]\n"
                       "a = attention(q, kk, v)\n"
                       "b = attention(q, kk, v, causal = false)\n"
                       "c = attention(q, kk, v, window = 3, scale = 0.5)\n"
                       "let win = 4\n"
                       "e = attention(q, kk, v, causal = win > 2, window = win * 2)\n"
                       "y = a + b + c + e\n"
                       "output y\n",
                       NULL, NULL);
    ck_assert_msg(L.g != NULL, "%s", L.diag);
    IrGraph *g = L.g;
    ck_assert_int_eq(count_op(g, OP_ATTENTION), 4);
    IrNode *a = nth_op(g, OP_ATTENTION, 0), *b = nth_op(g, OP_ATTENTION, 1), *c = nth_op(g, OP_ATTENTION, 2),
           *e = nth_op(g, OP_ATTENTION, 3);
    ck_assert_int_eq(a->iattr[0], 1);
    ck_assert_int_eq(a->iattr[1], 0);
    ck_assert_double_eq_tol(a->fattr[0], 1.0 / 3.0, 1e-15);
    ck_assert_int_eq(b->iattr[0], 0);
    ck_assert_int_eq(b->iattr[1], 0);
    ck_assert_int_eq(c->iattr[0], 1);
    ck_assert_int_eq(c->iattr[1], 3);
    ck_assert_double_eq(c->fattr[0], 0.5);
    ck_assert_int_eq(e->iattr[0], 1);
    ck_assert_int_eq(e->iattr[1], 8);
    /* [n, H, k] queries: the output has the query heads and v's width */
    CHECK_SHAPE(g, a->out, "[n, 6, 5]");
    ck_assert_ptr_eq(a->in[0], must_find(g, "q"));
    ck_assert_ptr_eq(a->in[1], must_find(g, "kk"));
    ck_assert_ptr_eq(a->in[2], must_find(g, "v"));
    ck_assert_int_eq(run_passes(L.ctx, g, NULL, NULL), 0);
    low_free(&L);
}
END_TEST

START_TEST(embedding_and_norm_modes)
{
    Low L = lower_text("model t\n"
                       "dim n = runtime\n"
                       "input ids[n] : i32\n"
                       "param e[10, 4] : f32 = load \"emb\"\n"
                       "param w[4] : f16 = load \"w\"\n"
                       "x = embedding(e, ids)\n"
                       "a = rms_norm(x, w)\n"
                       "b = rms_norm(x, w, mode = \"centered\", eps = 0.5)\n"
                       "c = rms_norm(x, w, mode = \"uncentered\")\n"
                       "d = rms_norm(x, mode = \"none\")\n"
                       "y = a + b + c + d\n"
                       "output y : bf16\n",
                       NULL, NULL);
    ck_assert_msg(L.g != NULL, "%s", L.diag);
    IrGraph *g = L.g;
    IrNode *em = nth_op(g, OP_EMBED, 0);
    CHECK_SHAPE(g, em->out, "[n, 4]");
    ck_assert_int_eq(must_find(g, "w")->dtype, DT_F16);
    ck_assert_str_eq(load_shape_of(must_find(g, "e")), "[10, 4]");
    int modes[] = {RMSNORM_HF, RMSNORM_CENTERED, RMSNORM_UNCENTERED, RMSNORM_NONE};
    double eps[] = {1e-6, 0.5, 1e-6, 1e-6};
    for (int i = 0; i < 4; i++) {
        IrNode *n = nth_op(g, OP_RMSNORM, i);
        ck_assert_int_eq(n->iattr[0], modes[i]);
        ck_assert_double_eq(n->fattr[0], eps[i]);
        ck_assert_int_eq(n->nin, i == 3 ? 1 : 2);
    }
    IrTensor *y = must_find(g, "y");
    ck_assert_int_eq(y->kind, TEN_OUTPUT);
    ck_assert_int_eq(y->dtype, DT_BF16);
    low_free(&L);
}
END_TEST

/* ---- diagnostics through the API ----------------------------------------------- */

START_TEST(ueajsum_error_position)
{
    /* the string starts at column 13 of line 5; 'dk' is at column 17.  The
     * shapes are checked by pass_shapes, after the lowering. */
    Low L = lower_text("model t\n"
                       "dim n = runtime\n"
                       "input x[n, 4]\n"
                       "param w[3, 2] : f32\n"
                       "y = ueajsum(\"nd,*dk->nk\", x, w)\n"
                       "output y\n",
                       NULL, NULL);
    ck_assert_msg(L.g != NULL, "%s", L.diag);
    ck_assert_int_eq(run_passes(L.ctx, L.g, NULL, NULL), -1);
    free(L.diag);
    L.diag = render(L.ctx);
    ck_assert_ptr_nonnull(L.ctx->diags);
    const Diag *d = L.ctx->diags;
    ck_assert_int_eq(d->sev, SEV_ERROR);
    ck_assert_int_eq(d->span.line, 1); /* in the slice of the file... */
    ck_assert_ptr_nonnull(d->span.src->parent);
    ck_assert_msg(strstr(L.diag, "m.ue:5:17: error: shape mismatch for argument 1") != NULL, "%s", L.diag);
    ck_assert_msg(strstr(L.diag, "    5 | y = ueajsum(\"nd,*dk->nk\", x, w)\n      |                 ^~~\n") != NULL,
                  "%s", L.diag);
    low_free(&L);
}
END_TEST

START_TEST(no_output)
{
    Low L = lower_text("model t\ninput x[2]\ny = x * 2\n", NULL, NULL);
    ck_assert_ptr_null(L.g);
    ck_assert_msg(strstr(L.diag, "m.ue:1:1: error: the model declares no output") != NULL, "%s", L.diag);
    low_free(&L);
}
END_TEST

extern Suite *suite_model(void);
Suite *suite_model(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("llama");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, llama_tiny_params);
    tcase_add_test(tc, llama_tiny_nodes);
    tcase_add_test(tc, llama_tiny_passes);
    tcase_add_test(tc, llama_untied);
    tcase_add_test(tc, llama_defaults);
    tcase_add_test(tc, llama_head_dim_not_d_over_h);
    tcase_add_test(tc, llama_missing_field);
    suite_add_tcase(s, tc);
    tc = tcase_create("dims");
    tcase_add_test(tc, dims_override_config);
    tcase_add_test(tc, dims_override_runtime);
    tcase_add_test(tc, dims_override_errors);
    tcase_add_test(tc, runtime_dims);
    tcase_add_test(tc, runtime_only_whole);
    tcase_add_test(tc, repeat_unrolls);
    suite_add_tcase(s, tc);
    tc = tcase_create("builtins");
    tcase_add_test(tc, rope_llama3_tiny);
    tcase_add_test(tc, rope_llama3_31);
    tcase_add_test(tc, rope_default_and_linear);
    tcase_add_test(tc, rope_direct);
    tcase_add_test(tc, attention_attrs);
    tcase_add_test(tc, embedding_and_norm_modes);
    suite_add_tcase(s, tc);
    tc = tcase_create("diagnostics");
    tcase_add_test(tc, ueajsum_error_position);
    tcase_add_test(tc, no_output);
    suite_add_tcase(s, tc);
    return s;
}
