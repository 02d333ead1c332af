/* convert.c - `ueajc convert`: a llama-architecture GGUF file into a
 * HuggingFace-layout directory that models/llama.ue (and transformers'
 * LlamaForCausalLM) load directly.
 *
 * What is checked before anything is written.  The GGUF reader validates
 * the file itself (gguf.c).  Here: general.architecture is "llama"; the
 * hyper-parameters that config.json needs are present, of integer/float
 * type and in range; every tensor has a llama name (token_embd,
 * output_norm, output, blk.N.{attn_norm,attn_q,attn_k,attn_v,attn_output,
 * ffn_norm,ffn_gate,ffn_up,ffn_down}.weight with N < block_count), a type
 * we can dequantize and exactly the shape the hyper-parameters imply; every
 * expected tensor is there (output.weight may be absent: tied embeddings);
 * the vocabulary matches the embedding, its strings are valid UTF-8, each
 * merge is "A B" with A, B and AB in the vocabulary (HF's loader refuses
 * anything else), a BOS/EOS that add_bos_token/add_eos_token ask for has
 * an id.  Unsupported features are refused by name instead of
 * converted wrongly: llama3-style rope scaling (a rope_freqs tensor), yarn,
 * partial rotary dims, per-layer head counts, SentencePiece vocabularies.
 *
 * Tensors.  GGUF lists dims fastest-first, so a tensor with ne = [in, out]
 * is already HF's [out, in] row-major; the shape is just reversed.
 * llama.cpp's convert_hf_to_gguf.py permutes the rows of q_proj and k_proj
 * (to turn HF's half-split rotary layout into ggml's interleaved one):
 *     permute(w, n) = w.reshape(n, 2, rows/n/2, cols).swapaxes(1, 2).reshape(rows, cols)
 * with n = n_head for q and n_head_kv for k.  Its inverse maps HF row
 * r = h*hd + j*(hd/2) + i (j < 2, i < hd/2) to GGUF row h*hd + 2*i + j, and
 * that is the row we read for r.  Tensors are streamed row by row
 * (dequantize one GGUF row, convert, write), so memory use is one row, not
 * the model.
 *
 * Output dtype.  The default is F32: ggml's dequantization is computed in
 * single precision (gguf_dequantize reproduces it bit for bit), so F32
 * holds exactly the weights llama.cpp computes with, and parity with it is
 * exact.  --dtype bf16 halves the size (one RNE rounding per value: a
 * Q4_1 value d*q+m has up to ~16 significant bits, bf16 keeps 8); f16 is
 * offered for completeness (its range is narrower than f32's).
 *
 * Metadata.  config.json takes llama.embedding_length (hidden_size),
 * feed_forward_length, block_count, attention.head_count(_kv),
 * rope.freq_base (rope_theta, default 10000), attention.
 * layer_norm_rms_epsilon, context_length (max_position_embeddings),
 * attention.key_length or rope.dimension_count (head_dim; must equal
 * hidden/heads rotary-wise), rope.scaling.type linear + factor, the token
 * count (vocab_size), bos/eos ids, tie_word_embeddings (output.weight
 * absent) and torch_dtype.  GGUF floats are f32: they are printed as the
 * shortest decimal that reads back as the same f32 (1e-05, not
 * 9.999999747378752e-06), as HF's own configs spell them.
 *
 * Tokenizer.  When the GGUF carries tokenizer.huggingface.json it is
 * written verbatim.  Otherwise tokenizer.ggml.model must be "gpt2"
 * (byte-level BPE) and tokenizer.json is rebuilt: vocab from
 * tokenizer.ggml.tokens (ids = positions; a later duplicate string is left
 * out of the vocab map and counted), merges from tokenizer.ggml.merges,
 * added_tokens from token_type CONTROL/UNKNOWN (special) and USER_DEFINED
 * (not special), a pre-tokenizer of Split regexes chosen by
 * tokenizer.ggml.pre followed by ByteLevel without its own regex, and a
 * ByteLevel decoder.  The Split regexes are HF's:
 *   llama-bpe/llama3/smaug-bpe: Llama 3's regex (and ignore_merges, as
 *     Llama 3's tokenizer.json has);
 *   smollm/starcoder/refact/command-r/codeshell/exaone/minerva: HF's
 *     Digits(individual_digits) + ByteLevel(use_regex) written as two
 *     Splits, "\p{N}" then GPT-2's regex (the same pieces: Digits isolates
 *     every \p{N} character, ByteLevel's use_regex splits by GPT-2's regex);
 *   gpt-2/gpt2/default (and an absent key, as llama.cpp's old files):
 *     GPT-2's regex.
 * The post-processor adds BOS/EOS (TemplateProcessing) when
 * tokenizer.ggml.add_bos_token/add_eos_token say so, and is HF's no-op
 * ByteLevel one otherwise.  tokenizer_config.json names bos/eos/unk/pad,
 * add_bos_token, the chat template (tokenizer.chat_template) and
 * model_max_length.
 *
 * Atomicity.  Everything is written into DIR.tmpXXXXXX beside DIR, then
 * renamed to DIR (replacing an empty DIR; a non-empty one only with
 * --force, which moves it aside first and deletes it after the rename).
 * On any failure the temporary directory is removed and DIR is untouched.
 */
#include "strbuf.h"
#include "convert.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Errors                                                              */

static int fail(TioError *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(TioError *err, const char *path, const char *fmt, ...)
{
    if (!err) return -1;
    int n = snprintf(err->msg, sizeof err->msg, "%s: error: ", path ? path : "(null)");
    if (n < 0 || (size_t)n >= sizeof err->msg) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A string from the file, printable (at most ~60 bytes). */
typedef struct Esc { char s[256]; } Esc;
static const char *esc(Esc *e, const char *s)
{
    size_t o = 0;
    for (size_t i = 0; s && s[i] && o + 8 < sizeof e->s; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= 60) { memcpy(e->s + o, "...", 3); o += 3; break; }
        if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') o += (size_t)snprintf(e->s + o, 8, "\\x%02x", c);
        else e->s[o++] = (char)c;
    }
    e->s[o] = '\0';
    return e->s;
}

/* ------------------------------------------------------------------ */
/* Metadata                                                            */

typedef struct Hp {
    int64_t d, F, L, H, Hkv, hd, ctx, V;
    double  theta, eps;
    bool    theta_f32, eps_f32;
    const char *rope_type;      /* NULL or "linear" */
    double  rope_factor;
    bool    rope_factor_f32;
    int64_t bos, eos, unk, pad; /* -1: absent */
    bool    add_bos, add_eos;
    bool    tied;
} Hp;

/* 0 found, 1 absent and optional, -1 error. */
static int md_int(const GgufFile *g, const char *key, bool required, int64_t *out, TioError *err)
{
    const GgufValue *v = gguf_get(g, key);
    if (!v) return required ? fail(err, g->path, "metadata '%s' is missing (needed for config.json)", key) : 1;
    if (v->type == GGUF_VT_ARRAY)
        return fail(err, g->path, "metadata '%s' is an array (per-layer values are not supported)", key);
    if (v->type == GGUF_VT_BOOL || !gguf_value_int(v, out))
        return fail(err, g->path, "metadata '%s' has type %s, expected an integer", key,
                    gguf_value_type_name(v->type));
    return 0;
}

static int md_float(const GgufFile *g, const char *key, bool required, double *out, bool *is_f32,
                    TioError *err)
{
    const GgufValue *v = gguf_get(g, key);
    if (!v) return required ? fail(err, g->path, "metadata '%s' is missing (needed for config.json)", key) : 1;
    if (!gguf_value_float(v, out))
        return fail(err, g->path, "metadata '%s' has type %s, expected a number", key,
                    gguf_value_type_name(v->type));
    if (!isfinite(*out)) return fail(err, g->path, "metadata '%s' is not finite", key);
    if (is_f32) *is_f32 = v->type == GGUF_VT_FLOAT32;
    return 0;
}

static int md_bool(const GgufFile *g, const char *key, bool *out, TioError *err)
{
    const GgufValue *v = gguf_get(g, key);
    if (!v) return 1;
    if (v->type != GGUF_VT_BOOL)
        return fail(err, g->path, "metadata '%s' has type %s, expected bool", key, gguf_value_type_name(v->type));
    *out = v->v.b;
    return 0;
}

static int md_str(const GgufFile *g, const char *key, bool required, const char **out, TioError *err)
{
    const GgufValue *v = gguf_get(g, key);
    if (!v) return required ? fail(err, g->path, "metadata '%s' is missing", key) : 1;
    if (v->type != GGUF_VT_STRING)
        return fail(err, g->path, "metadata '%s' has type %s, expected string", key, gguf_value_type_name(v->type));
    if (strlen(v->v.str.s) != v->v.str.len)
        return fail(err, g->path, "metadata '%s' contains a NUL byte", key);
    *out = v->v.str.s;
    return 0;
}

static int in_range(const GgufFile *g, const char *key, int64_t v, int64_t lo, int64_t hi, TioError *err)
{
    if (v < lo || v > hi)
        return fail(err, g->path, "metadata '%s' = %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                    key, v, lo, hi);
    return 0;
}

static int read_hparams(const GgufFile *g, Hp *hp, TioError *err)
{
    const char *arch;
    const int64_t big = (int64_t)1 << 24;
    memset(hp, 0, sizeof *hp);
    if (md_str(g, "general.architecture", true, &arch, err)) return -1;
    if (strcmp(arch, "llama") != 0) {
        Esc e;
        return fail(err, g->path, "architecture '%s' is not supported (only 'llama')", esc(&e, arch));
    }
    if (md_int(g, "llama.embedding_length", true, &hp->d, err) ||
        in_range(g, "llama.embedding_length", hp->d, 1, big, err) ||
        md_int(g, "llama.feed_forward_length", true, &hp->F, err) ||
        in_range(g, "llama.feed_forward_length", hp->F, 1, big, err) ||
        md_int(g, "llama.block_count", true, &hp->L, err) ||
        in_range(g, "llama.block_count", hp->L, 1, 100000, err) ||
        md_int(g, "llama.attention.head_count", true, &hp->H, err) ||
        in_range(g, "llama.attention.head_count", hp->H, 1, hp->d, err) ||
        md_int(g, "llama.context_length", true, &hp->ctx, err) ||
        in_range(g, "llama.context_length", hp->ctx, 1, INT32_MAX, err))
        return -1;
    int r = md_int(g, "llama.attention.head_count_kv", false, &hp->Hkv, err);
    if (r < 0) return -1;
    if (r) hp->Hkv = hp->H;
    if (in_range(g, "llama.attention.head_count_kv", hp->Hkv, 1, hp->H, err)) return -1;
    if (hp->H % hp->Hkv != 0)
        return fail(err, g->path, "head_count %" PRId64 " is not a multiple of head_count_kv %" PRId64,
                    hp->H, hp->Hkv);
    r = md_int(g, "llama.attention.key_length", false, &hp->hd, err);
    if (r < 0) return -1;
    if (r) {
        if (hp->d % hp->H != 0)
            return fail(err, g->path, "embedding_length %" PRId64 " is not a multiple of head_count %" PRId64,
                        hp->d, hp->H);
        hp->hd = hp->d / hp->H;
    }
    if (in_range(g, "llama.attention.key_length", hp->hd, 2, big, err)) return -1;
    if (hp->hd % 2 != 0) return fail(err, g->path, "head dimension %" PRId64 " is odd", hp->hd);
    int64_t vl;
    if ((r = md_int(g, "llama.attention.value_length", false, &vl, err)) < 0) return -1;
    if (r == 0 && vl != hp->hd)
        return fail(err, g->path, "value_length %" PRId64 " differs from key_length %" PRId64 " (not supported)",
                    vl, hp->hd);
    int64_t rd;
    if ((r = md_int(g, "llama.rope.dimension_count", false, &rd, err)) < 0) return -1;
    if (r == 0 && rd != hp->hd)
        return fail(err, g->path, "rope.dimension_count %" PRId64 " differs from the head dimension %" PRId64
                    " (partial rotary embeddings are not supported)", rd, hp->hd);
    if ((r = md_float(g, "llama.rope.freq_base", false, &hp->theta, &hp->theta_f32, err)) < 0) return -1;
    if (r) { hp->theta = 10000.0; hp->theta_f32 = false; }
    if (md_float(g, "llama.attention.layer_norm_rms_epsilon", true, &hp->eps, &hp->eps_f32, err)) return -1;
    if (hp->theta <= 0 || hp->eps < 0)
        return fail(err, g->path, "rope.freq_base must be positive and layer_norm_rms_epsilon non-negative");
    const char *st = NULL;
    if ((r = md_str(g, "llama.rope.scaling.type", false, &st, err)) < 0) return -1;
    hp->rope_factor = 1.0;
    if ((r = md_float(g, "llama.rope.scaling.factor", false, &hp->rope_factor, &hp->rope_factor_f32, err)) < 0)
        return -1;
    if (r && (r = md_float(g, "llama.rope.scale_linear", false, &hp->rope_factor, &hp->rope_factor_f32, err)) < 0)
        return -1;
    if (r == 0 && !st && hp->rope_factor != 1.0) st = "linear";
    if (st && strcmp(st, "none") != 0) {
        Esc e;
        if (strcmp(st, "linear") != 0)
            return fail(err, g->path, "rope scaling type '%s' is not supported (only linear)", esc(&e, st));
        if (!(hp->rope_factor > 0)) return fail(err, g->path, "rope scaling factor must be positive");
        hp->rope_type = "linear";
    }
    hp->bos = hp->eos = hp->unk = hp->pad = -1;
    if (md_int(g, "tokenizer.ggml.bos_token_id", false, &hp->bos, err) < 0 ||
        md_int(g, "tokenizer.ggml.eos_token_id", false, &hp->eos, err) < 0 ||
        md_int(g, "tokenizer.ggml.unknown_token_id", false, &hp->unk, err) < 0 ||
        md_int(g, "tokenizer.ggml.padding_token_id", false, &hp->pad, err) < 0 ||
        md_bool(g, "tokenizer.ggml.add_bos_token", &hp->add_bos, err) < 0 ||
        md_bool(g, "tokenizer.ggml.add_eos_token", &hp->add_eos, err) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Tensor plan                                                         */

typedef enum Perm { PERM_NONE, PERM_ROWS } Perm;

/* Per-layer tensors, in the order they are written. */
static const struct { const char *gguf, *hf; } layer_names[] = {
    { "attn_norm",   "input_layernorm" },
    { "attn_q",      "self_attn.q_proj" },
    { "attn_k",      "self_attn.k_proj" },
    { "attn_v",      "self_attn.v_proj" },
    { "attn_output", "self_attn.o_proj" },
    { "ffn_norm",    "post_attention_layernorm" },
    { "ffn_gate",    "mlp.gate_proj" },
    { "ffn_up",      "mlp.up_proj" },
    { "ffn_down",    "mlp.down_proj" },
};
enum { NPL = (int)(sizeof layer_names / sizeof layer_names[0]) };
enum { S_ATTN_NORM, S_Q, S_K, S_V, S_O, S_FFN_NORM, S_GATE, S_UP, S_DOWN };

typedef struct Entry {
    const GgufTensor *t;
    char     hf[96];
    int64_t  rows, cols;        /* HF shape [rows, cols]; rows = 0 for a 1-D tensor [cols] */
    Perm     perm;
    int64_t  nh;                /* PERM_ROWS: heads */
} Entry;

/* Parses "blk.N.NAME.weight"; returns the slot in the layer or -1. */
static int layer_slot(const char *name, int64_t *layer)
{
    if (strncmp(name, "blk.", 4) != 0) return -1;
    const char *p = name + 4;
    int64_t n = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 10) { n = n * 10 + (*p++ - '0'); digits++; }
    if (digits == 0 || *p != '.' || (digits > 1 && name[4] == '0')) return -1;
    p++;
    for (int s = 0; s < NPL; s++) {
        size_t k = strlen(layer_names[s].gguf);
        if (strncmp(p, layer_names[s].gguf, k) == 0 && strcmp(p + k, ".weight") == 0) {
            *layer = n;
            return s;
        }
    }
    return -1;
}

static int build_plan(const GgufFile *g, Hp *hp, Entry **out, int *nout, ConvertReport *rep,
                      TioError *err)
{
    int64_t n = 1 + NPL * hp->L + 2;    /* embed, layers, norm, lm_head */
    Entry *e = calloc((size_t)n, sizeof *e);
    if (!e) return fail(err, g->path, "out of memory");
    const int64_t qrows = hp->H * hp->hd, kvrows = hp->Hkv * hp->hd;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const GgufTensor *t = &g->tensors[i];
        Esc es;
        int64_t slot, l;
        int s;
        if (strcmp(t->name, "token_embd.weight") == 0) slot = 0;
        else if (strcmp(t->name, "output_norm.weight") == 0) slot = n - 2;
        else if (strcmp(t->name, "output.weight") == 0) slot = n - 1;
        else if ((s = layer_slot(t->name, &l)) >= 0) {
            if (l >= hp->L) {
                fail(err, g->path, "tensor '%s' (info at offset %" PRIu64 "): layer %" PRId64
                     " is beyond llama.block_count %" PRId64, esc(&es, t->name), t->info_offset, l, hp->L);
                goto bad;
            }
            slot = 1 + l * NPL + s;
        } else if (strcmp(t->name, "rope_freqs.weight") == 0) {
            fail(err, g->path, "tensor 'rope_freqs.weight': llama3-style rope scaling (rope_freqs) is not supported");
            goto bad;
        } else {
            fail(err, g->path, "tensor '%s' (info at offset %" PRIu64 ") is not part of a llama model",
                 esc(&es, t->name), t->info_offset);
            goto bad;
        }
        Entry *en = &e[slot];
        en->t = t;
        en->perm = PERM_NONE;
        if (slot == 0) {
            snprintf(en->hf, sizeof en->hf, "model.embed_tokens.weight");
            en->rows = hp->V; en->cols = hp->d;
        } else if (slot == n - 2) {
            snprintf(en->hf, sizeof en->hf, "model.norm.weight");
            en->rows = 0; en->cols = hp->d;
        } else if (slot == n - 1) {
            snprintf(en->hf, sizeof en->hf, "lm_head.weight");
            en->rows = hp->V; en->cols = hp->d;
        } else {
            s = (int)((slot - 1) % NPL);
            l = (slot - 1) / NPL;
            snprintf(en->hf, sizeof en->hf, "model.layers.%" PRId64 ".%s.weight", l, layer_names[s].hf);
            switch (s) {
            case S_ATTN_NORM: case S_FFN_NORM: en->rows = 0; en->cols = hp->d; break;
            case S_Q: en->rows = qrows; en->cols = hp->d; en->perm = PERM_ROWS; en->nh = hp->H; break;
            case S_K: en->rows = kvrows; en->cols = hp->d; en->perm = PERM_ROWS; en->nh = hp->Hkv; break;
            case S_V: en->rows = kvrows; en->cols = hp->d; break;
            case S_O: en->rows = hp->d; en->cols = qrows; break;
            case S_GATE: case S_UP: en->rows = hp->F; en->cols = hp->d; break;
            default: en->rows = hp->d; en->cols = hp->F; break;
            }
        }
        bool ok = en->rows == 0 ? t->n_dims == 1 && t->ne[0] == en->cols
                                : t->n_dims == 2 && t->ne[0] == en->cols && t->ne[1] == en->rows;
        if (!ok) {
            char got[96] = "[", want[64];
            for (int d = 0; d < t->n_dims; d++)
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%" PRId64, d ? ", " : "", t->ne[d]);
            snprintf(got + strlen(got), sizeof got - strlen(got), "]");
            if (en->rows) snprintf(want, sizeof want, "[%" PRId64 ", %" PRId64 "]", en->cols, en->rows);
            else snprintf(want, sizeof want, "[%" PRId64 "]", en->cols);
            fail(err, g->path, "tensor '%s' (info at offset %" PRIu64 ") has ne = %s, expected %s for %s"
                 " (from the model's hyper-parameters)", esc(&es, t->name), t->info_offset, got, want, en->hf);
            goto bad;
        }
        if (!gguf_can_dequantize(t->type)) {
            fail(err, g->path, "tensor '%s' has type %s, which convert cannot dequantize (supported: F32 F16"
                 " BF16 F64 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K)", esc(&es, t->name),
                 gguf_type_name(t->type));
            goto bad;
        }
    }
    for (int64_t i = 0; i < n - 1; i++)
        if (!e[i].t) {
            char nm[64];
            if (i == 0) snprintf(nm, sizeof nm, "token_embd.weight");
            else if (i == n - 2) snprintf(nm, sizeof nm, "output_norm.weight");
            else snprintf(nm, sizeof nm, "blk.%" PRId64 ".%s.weight", (i - 1) / NPL, layer_names[(i - 1) % NPL].gguf);
            fail(err, g->path, "tensor '%s' is missing", nm);
            goto bad;
        }
    *out = e;
    hp->tied = !e[n - 1].t;
    *nout = (int)(hp->tied ? n - 1 : n);
    if (rep) {
        for (int i = 0; i < *nout; i++) rep->type_count[e[i].t->type]++;
        rep->n_tensors = *nout;
    }
    return 0;
bad:
    free(e);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Writing files                                                       */


static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static int close_file(FILE *f, int e)
{
    if (!e && fflush(f) != 0) e = errno;
    if (!e && fsync(fileno(f)) != 0) e = errno;
    if (fclose(f) != 0 && !e) e = errno;
    return e;
}

static int write_text(const char *dir, const char *name, const char *text, const char *shown, TioError *err)
{
    char *path = join(dir, name);
    if (!path) return fail(err, shown, "out of memory");
    FILE *f = fopen(path, "wb");
    int e = f ? 0 : errno;
    if (f) {
        size_t n = strlen(text);
        if (fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF) e = errno ? errno : EIO;
        e = close_file(f, e);
    }
    free(path);
    if (e) return fail(err, shown, "cannot write %s: %s", name, strerror(e));
    return 0;
}

/* HF row r reads GGUF row perm_row(r) (the inverse of llama.cpp's permute). */
static int64_t perm_row(const Entry *en, int64_t r)
{
    if (en->perm == PERM_NONE) return r;
    int64_t hd = en->rows / en->nh, half = hd / 2;
    int64_t h = r / hd, rem = r % hd, j = rem / half, i = rem % half;
    return h * hd + 2 * i + j;
}

static int write_weights(const char *dir, const Entry *ents, int n, DType dt, const char *shown,
                         uint64_t *bytes, TioError *err)
{
    size_t es = dtype_size(dt);
    Str h = { 0 };
    uint64_t off = 0;
    str_add(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < n; i++) {
        const Entry *en = &ents[i];
        uint64_t nb = (uint64_t)(en->rows ? en->rows : 1) * (uint64_t)en->cols * es;
        if (en->rows)
            str_add(&h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%" PRId64 ",%" PRId64 "],\"data_offsets\":[%" PRIu64
                    ",%" PRIu64 "]}", en->hf, dtype_st_name(dt), en->rows, en->cols, off, off + nb);
        else
            str_add(&h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%" PRId64 "],\"data_offsets\":[%" PRIu64
                    ",%" PRIu64 "]}", en->hf, dtype_st_name(dt), en->cols, off, off + nb);
        off += nb;
    }
    str_add(&h, "}");
    while (!h.oom && (h.n + 8) % 8) str_add(&h, " ");
    if (h.oom) { free(h.p); return fail(err, shown, "out of memory"); }
    int64_t maxc = 0;
    for (int i = 0; i < n; i++) if (ents[i].cols > maxc) maxc = ents[i].cols;
    float *fb = malloc((size_t)maxc * sizeof *fb);
    void *ob = malloc((size_t)maxc * es);
    char *path = join(dir, "model.safetensors");
    FILE *f = path ? fopen(path, "wb") : NULL;
    int e = path ? (f ? 0 : errno) : ENOMEM;
    if (!fb || !ob) e = ENOMEM;
    if (f && !e) setvbuf(f, NULL, _IOFBF, (size_t)1 << 22);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)h.n >> (8 * i));
    if (!e && (fwrite(len8, 1, 8, f) != 8 || fwrite(h.p, 1, h.n, f) != h.n)) e = errno ? errno : EIO;
    for (int i = 0; i < n && !e; i++) {
        const Entry *en = &ents[i];
        const GgufTensor *t = en->t;
        int64_t rows = en->rows ? en->rows : 1;
        uint64_t rowbytes = t->nbytes / (uint64_t)rows;
        for (int64_t r = 0; r < rows && !e; r++) {
            const unsigned char *src = t->data + (uint64_t)perm_row(en, r) * rowbytes;
            if (!gguf_dequantize(t->type, src, fb, en->cols)) { e = EINVAL; break; }
            const void *w = fb;
            if (dt != DT_F32) { dtype_convert(ob, dt, fb, DT_F32, (size_t)en->cols); w = ob; }
            if (fwrite(w, es, (size_t)en->cols, f) != (size_t)en->cols) e = errno ? errno : EIO;
        }
    }
    if (f) e = close_file(f, e);
    free(fb);
    free(ob);
    free(path);
    free(h.p);
    if (e) return fail(err, shown, "cannot write model.safetensors: %s", strerror(e));
    *bytes = 8 + h.n + off;
    return 0;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

typedef struct J { bool oom; } J;

static cJSON *jput(J *j, cJSON *parent, const char *key, cJSON *item)
{
    if (!item) { j->oom = true; return NULL; }
    if (!parent) { j->oom = true; cJSON_Delete(item); return NULL; }
    bool ok = key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item);
    if (!ok) { j->oom = true; cJSON_Delete(item); return NULL; }
    return item;
}

/* The shortest decimal that reads back as v (as an f32 when f32), spelled
 * as Python's repr spells floats: positional for exponents -4..15
 * (100000.0), scientific otherwise (1e-05), always with a '.' or an
 * exponent so that it reads as a float. */
static void fmt_float(char *buf, size_t size, double v, bool f32)
{
    int p = 1;
    for (; p < 17; p++) {
        snprintf(buf, size, "%.*e", p - 1, v);
        double back = strtod(buf, NULL);
        if (f32 ? (float)back == (float)v : back == v) break;
    }
    const char *e = strchr(buf, 'e');
    int ex = e ? atoi(e + 1) : 0;
    if (isfinite(v) && ex >= -4 && ex < 16) {
        snprintf(buf, size, "%.*f", p - 1 - ex > 0 ? p - 1 - ex : 0, v);
        if (!strchr(buf, '.')) snprintf(buf + strlen(buf), size - strlen(buf), ".0");
        return;
    }
    snprintf(buf, size, "%.*g", p, v);     /* 1e-05, 1.5e+20 */
    if (!strpbrk(buf, ".eEn")) snprintf(buf + strlen(buf), size - strlen(buf), ".0");
}

static cJSON *jfloat(double v, bool f32)
{
    char buf[64];
    fmt_float(buf, sizeof buf, v, f32);
    return cJSON_CreateRaw(buf);
}

/* Prints root (and frees it).  Pretty output is re-indented from cJSON's
 * tabs to two spaces and "key": value; a raw tab can only be formatting,
 * since cJSON escapes tabs inside strings. */
static char *print_json(J *j, cJSON *root, bool pretty)
{
    char *s = j->oom ? NULL : pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s || !pretty) return s;
    size_t tabs = 0, n = strlen(s);
    for (size_t i = 0; i < n; i++) tabs += s[i] == '\t';
    char *o = malloc(n + tabs + 1);
    if (!o) { cJSON_free(s); return NULL; }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\t') o[k++] = s[i];
        else if (i && s[i - 1] == ':') o[k++] = ' ';
        else { o[k++] = ' '; o[k++] = ' '; }
    }
    o[k] = '\0';
    cJSON_free(s);
    return o;
}

static const char *torch_dtype(DType dt)
{
    return dt == DT_BF16 ? "bfloat16" : dt == DT_F16 ? "float16" : "float32";
}

static char *config_json(const Hp *hp, DType dt, const char *source)
{
    J j = { 0 };
    cJSON *o = cJSON_CreateObject();
    cJSON *a = jput(&j, o, "architectures", cJSON_CreateArray());
    jput(&j, a, NULL, cJSON_CreateString("LlamaForCausalLM"));
    jput(&j, o, "model_type", cJSON_CreateString("llama"));
    jput(&j, o, "hidden_size", cJSON_CreateNumber((double)hp->d));
    jput(&j, o, "intermediate_size", cJSON_CreateNumber((double)hp->F));
    jput(&j, o, "num_hidden_layers", cJSON_CreateNumber((double)hp->L));
    jput(&j, o, "num_attention_heads", cJSON_CreateNumber((double)hp->H));
    jput(&j, o, "num_key_value_heads", cJSON_CreateNumber((double)hp->Hkv));
    jput(&j, o, "head_dim", cJSON_CreateNumber((double)hp->hd));
    jput(&j, o, "hidden_act", cJSON_CreateString("silu"));
    jput(&j, o, "max_position_embeddings", cJSON_CreateNumber((double)hp->ctx));
    jput(&j, o, "rms_norm_eps", jfloat(hp->eps, hp->eps_f32));
    jput(&j, o, "rope_theta", jfloat(hp->theta, hp->theta_f32));
    if (hp->rope_type) {
        cJSON *rs = jput(&j, o, "rope_scaling", cJSON_CreateObject());
        jput(&j, rs, "rope_type", cJSON_CreateString(hp->rope_type));
        jput(&j, rs, "type", cJSON_CreateString(hp->rope_type));
        jput(&j, rs, "factor", jfloat(hp->rope_factor, hp->rope_factor_f32));
    } else {
        jput(&j, o, "rope_scaling", cJSON_CreateNull());
    }
    jput(&j, o, "vocab_size", cJSON_CreateNumber((double)hp->V));
    jput(&j, o, "tie_word_embeddings", cJSON_CreateBool(hp->tied));
    jput(&j, o, "bos_token_id", hp->bos >= 0 ? cJSON_CreateNumber((double)hp->bos) : cJSON_CreateNull());
    jput(&j, o, "eos_token_id", hp->eos >= 0 ? cJSON_CreateNumber((double)hp->eos) : cJSON_CreateNull());
    if (hp->pad >= 0) jput(&j, o, "pad_token_id", cJSON_CreateNumber((double)hp->pad));
    jput(&j, o, "attention_bias", cJSON_CreateFalse());
    jput(&j, o, "attention_dropout", cJSON_CreateRaw("0.0"));
    jput(&j, o, "mlp_bias", cJSON_CreateFalse());
    jput(&j, o, "initializer_range", cJSON_CreateRaw("0.02"));
    jput(&j, o, "pretraining_tp", cJSON_CreateNumber(1));
    jput(&j, o, "use_cache", cJSON_CreateTrue());
    jput(&j, o, "torch_dtype", cJSON_CreateString(torch_dtype(dt)));
    jput(&j, o, "ueajc_converted_from", cJSON_CreateString(source));
    return print_json(&j, o, true);
}

static char *generation_config_json(const Hp *hp)
{
    J j = { 0 };
    cJSON *o = cJSON_CreateObject();
    if (hp->bos >= 0) jput(&j, o, "bos_token_id", cJSON_CreateNumber((double)hp->bos));
    if (hp->eos >= 0) jput(&j, o, "eos_token_id", cJSON_CreateNumber((double)hp->eos));
    if (hp->pad >= 0) jput(&j, o, "pad_token_id", cJSON_CreateNumber((double)hp->pad));
    return print_json(&j, o, true);
}

/* ------------------------------------------------------------------ */
/* Tokenizer                                                           */

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER_DEFINED = 4, TT_UNUSED = 5, TT_BYTE = 6 };

static bool utf8_ok(const unsigned char *s, uint64_t n)
{
    for (uint64_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x80) { if (c == 0) return false; i++; continue; }
        int k;
        unsigned min, cp;
        if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (n - i <= (uint64_t)k) return false;
        for (int m = 1; m <= k; m++) {
            if ((s[i + m] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + m] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += (uint64_t)k + 1;
    }
    return true;
}

/* A set of token strings (open addressing), for duplicate and merge checks. */
typedef struct Vocab {
    const GgufValue *tok;       /* the token strings */
    int64_t n;
    int64_t *slot;              /* -1 empty, else token id */
    uint64_t mask;
} Vocab;

static uint64_t hash_bytes(const char *s, uint64_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (uint64_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int64_t vocab_find(const Vocab *v, const char *s, uint64_t n)
{
    for (uint64_t i = hash_bytes(s, n) & v->mask;; i = (i + 1) & v->mask) {
        int64_t id = v->slot[i];
        if (id < 0) return -1;
        if (v->tok[id].v.str.len == n && memcmp(v->tok[id].v.str.s, s, (size_t)n) == 0) return id;
    }
}

/* Adds id; returns false if its string is already there. */
static bool vocab_add(Vocab *v, int64_t id)
{
    const char *s = v->tok[id].v.str.s;
    uint64_t n = v->tok[id].v.str.len;
    uint64_t i = hash_bytes(s, n) & v->mask;
    for (; v->slot[i] >= 0; i = (i + 1) & v->mask) {
        int64_t o = v->slot[i];
        if (v->tok[o].v.str.len == n && memcmp(v->tok[o].v.str.s, s, (size_t)n) == 0) return false;
    }
    v->slot[i] = id;
    return true;
}

static const char RE_LLAMA3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_GPT2[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
static const char RE_DIGIT[] = "\\p{N}";

static const struct { const char *pre; const char *re1, *re2; bool ignore_merges; } pre_table[] = {
    { "llama-bpe", RE_LLAMA3, NULL, true },
    { "llama3",    RE_LLAMA3, NULL, true },
    { "smaug-bpe", RE_LLAMA3, NULL, true },
    { "smollm",    RE_DIGIT, RE_GPT2, false },
    { "starcoder", RE_DIGIT, RE_GPT2, false },
    { "refact",    RE_DIGIT, RE_GPT2, false },
    { "command-r", RE_DIGIT, RE_GPT2, false },
    { "codeshell", RE_DIGIT, RE_GPT2, false },
    { "exaone",    RE_DIGIT, RE_GPT2, false },
    { "minerva-7b", RE_DIGIT, RE_GPT2, false },
    { "gpt-2",     RE_GPT2, NULL, false },
    { "gpt2",      RE_GPT2, NULL, false },
    { "default",   RE_GPT2, NULL, false },
};

static void add_split(J *j, cJSON *arr, const char *re)
{
    cJSON *s = jput(j, arr, NULL, cJSON_CreateObject());
    jput(j, s, "type", cJSON_CreateString("Split"));
    cJSON *p = jput(j, s, "pattern", cJSON_CreateObject());
    jput(j, p, "Regex", cJSON_CreateString(re));
    jput(j, s, "behavior", cJSON_CreateString("Isolated"));
    jput(j, s, "invert", cJSON_CreateFalse());
}

static void add_bytelevel(J *j, cJSON *parent, const char *key, bool prefix, bool trim, bool regex)
{
    cJSON *b = jput(j, parent, key, cJSON_CreateObject());
    jput(j, b, "type", cJSON_CreateString("ByteLevel"));
    jput(j, b, "add_prefix_space", cJSON_CreateBool(prefix));
    jput(j, b, "trim_offsets", cJSON_CreateBool(trim));
    jput(j, b, "use_regex", cJSON_CreateBool(regex));
}

static void add_special(J *j, cJSON *seq, const char *content, int type_id)
{
    cJSON *it = jput(j, seq, NULL, cJSON_CreateObject());
    cJSON *sp = jput(j, it, "SpecialToken", cJSON_CreateObject());
    jput(j, sp, "id", cJSON_CreateString(content));
    jput(j, sp, "type_id", cJSON_CreateNumber(type_id));
}

static void add_sequence(J *j, cJSON *seq, const char *id, int type_id)
{
    cJSON *it = jput(j, seq, NULL, cJSON_CreateObject());
    cJSON *sq = jput(j, it, "Sequence", cJSON_CreateObject());
    jput(j, sq, "id", cJSON_CreateString(id));
    jput(j, sq, "type_id", cJSON_CreateNumber(type_id));
}

/* TemplateProcessing: [BOS] $A [EOS], pair [BOS] $A [EOS] [BOS] $B [EOS]
 * (the second half with type_id 1), bos/eos NULL when not added. */
static void add_template(J *j, cJSON *o, const char *bos, int64_t bos_id, const char *eos, int64_t eos_id)
{
    cJSON *pp = jput(j, o, "post_processor", cJSON_CreateObject());
    jput(j, pp, "type", cJSON_CreateString("TemplateProcessing"));
    cJSON *single = jput(j, pp, "single", cJSON_CreateArray());
    cJSON *pair = jput(j, pp, "pair", cJSON_CreateArray());
    if (bos) add_special(j, single, bos, 0);
    add_sequence(j, single, "A", 0);
    if (eos) add_special(j, single, eos, 0);
    for (int part = 0; part < 2; part++) {
        if (bos) add_special(j, pair, bos, part);
        add_sequence(j, pair, part ? "B" : "A", part);
        if (eos) add_special(j, pair, eos, part);
    }
    cJSON *st = jput(j, pp, "special_tokens", cJSON_CreateObject());
    for (int k = 0; k < 2; k++) {
        const char *c = k ? eos : bos;
        int64_t id = k ? eos_id : bos_id;
        if (!c || (k && bos && strcmp(bos, eos) == 0)) continue;
        cJSON *e = jput(j, st, c, cJSON_CreateObject());
        jput(j, e, "id", cJSON_CreateString(c));
        cJSON *ids = jput(j, e, "ids", cJSON_CreateArray());
        jput(j, ids, NULL, cJSON_CreateNumber((double)id));
        cJSON *toks = jput(j, e, "tokens", cJSON_CreateArray());
        jput(j, toks, NULL, cJSON_CreateString(c));
    }
}

static cJSON *added_token(J *j, cJSON *parent, const char *key, int64_t id, const char *content, bool special)
{
    cJSON *a = jput(j, parent, key, cJSON_CreateObject());
    if (id >= 0) jput(j, a, "id", cJSON_CreateNumber((double)id));
    jput(j, a, "content", cJSON_CreateString(content));
    jput(j, a, "single_word", cJSON_CreateFalse());
    jput(j, a, "lstrip", cJSON_CreateFalse());
    jput(j, a, "rstrip", cJSON_CreateFalse());
    jput(j, a, "normalized", cJSON_CreateBool(!special));
    jput(j, a, "special", cJSON_CreateBool(special));
    return a;
}

typedef struct Tok {
    const GgufValue *tokens, *types, *merges;   /* types may be NULL */
    int64_t n_tokens, n_merges;
    const char *pre;
    int pre_idx;
} Tok;

static const char *tok_str(const Tok *t, int64_t id) { return t->tokens->v.arr.elems[id].v.str.s; }

static int64_t tok_type(const Tok *t, int64_t id)
{
    GgufValue v;
    int64_t x;
    if (!t->types || !gguf_arr_get(t->types, (uint64_t)id, &v) || !gguf_value_int(&v, &x)) return TT_NORMAL;
    return x;
}

static int read_vocab(const GgufFile *g, Hp *hp, Tok *tk, TioError *err)
{
    memset(tk, 0, sizeof *tk);
    const GgufValue *v = gguf_get(g, "tokenizer.ggml.tokens");
    if (!v) return fail(err, g->path, "metadata 'tokenizer.ggml.tokens' is missing (the vocabulary)");
    if (v->type != GGUF_VT_ARRAY || v->v.arr.etype != GGUF_VT_STRING || v->v.arr.n == 0)
        return fail(err, g->path, "metadata 'tokenizer.ggml.tokens' is not a non-empty array of strings");
    if (v->v.arr.n > INT32_MAX)
        return fail(err, g->path, "metadata 'tokenizer.ggml.tokens' has %" PRIu64 " entries (too many)",
                    v->v.arr.n);
    tk->tokens = v;
    tk->n_tokens = (int64_t)v->v.arr.n;
    hp->V = tk->n_tokens;
    v = gguf_get(g, "tokenizer.ggml.token_type");
    if (v) {
        if (v->type != GGUF_VT_ARRAY || v->v.arr.n != (uint64_t)tk->n_tokens ||
            v->v.arr.etype == GGUF_VT_STRING || v->v.arr.etype == GGUF_VT_ARRAY)
            return fail(err, g->path, "metadata 'tokenizer.ggml.token_type' is not an integer array of %" PRId64
                        " entries (one per token)", tk->n_tokens);
        tk->types = v;
    }
    int64_t ids[4] = { hp->bos, hp->eos, hp->unk, hp->pad };
    static const char *const idk[4] = { "bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id" };
    for (int i = 0; i < 4; i++)
        if (ids[i] < -1 || ids[i] >= tk->n_tokens)
            return fail(err, g->path, "metadata 'tokenizer.ggml.%s' = %" PRId64 " is not a token id (vocabulary"
                        " of %" PRId64 ")", idk[i], ids[i], tk->n_tokens);
    /* HF refuses add_bos_token without a bos_token (and so does tok_load):
     * a BOS that cannot be added is an error here, not a config that
     * fails later. */
    if (hp->add_bos && hp->bos < 0)
        return fail(err, g->path, "metadata 'tokenizer.ggml.add_bos_token' is true, but there is no"
                    " 'tokenizer.ggml.bos_token_id'");
    if (hp->add_eos && hp->eos < 0)
        return fail(err, g->path, "metadata 'tokenizer.ggml.add_eos_token' is true, but there is no"
                    " 'tokenizer.ggml.eos_token_id'");
    return 0;
}

static char *tokenizer_json(const GgufFile *g, const Hp *hp, Tok *tk, ConvertReport *rep, TioError *err)
{
    const char *model = NULL;
    Esc es;
    if (md_str(g, "tokenizer.ggml.model", true, &model, err)) return NULL;
    if (strcmp(model, "gpt2") != 0) {
        fail(err, g->path, "tokenizer model '%s' is not supported (only 'gpt2', byte-level BPE)", esc(&es, model));
        return NULL;
    }
    tk->pre = "default";
    if (md_str(g, "tokenizer.ggml.pre", false, &tk->pre, err) < 0) return NULL;
    tk->pre_idx = -1;
    for (size_t i = 0; i < sizeof pre_table / sizeof pre_table[0]; i++)
        if (strcmp(tk->pre, pre_table[i].pre) == 0) tk->pre_idx = (int)i;
    if (tk->pre_idx < 0) {
        fail(err, g->path, "pre-tokenizer '%s' (tokenizer.ggml.pre) is not supported (known: llama-bpe, llama3,"
             " smaug-bpe, smollm, starcoder, refact, command-r, codeshell, exaone, minerva-7b, gpt-2, default)",
             esc(&es, tk->pre));
        return NULL;
    }
    const GgufValue *mv = gguf_get(g, "tokenizer.ggml.merges");
    if (!mv || mv->type != GGUF_VT_ARRAY || (mv->v.arr.n && mv->v.arr.etype != GGUF_VT_STRING)) {
        fail(err, g->path, "metadata 'tokenizer.ggml.merges' is %s (a BPE tokenizer needs an array of strings)",
             mv ? "not an array of strings" : "missing");
        return NULL;
    }
    tk->merges = mv;
    tk->n_merges = (int64_t)mv->v.arr.n;

    Vocab voc = { .tok = tk->tokens->v.arr.elems, .n = tk->n_tokens };
    uint64_t cap = 16;
    while (cap < 2 * (uint64_t)tk->n_tokens) cap *= 2;
    voc.slot = malloc(cap * sizeof *voc.slot);
    voc.mask = cap - 1;
    J j = { 0 };
    cJSON *o = cJSON_CreateObject();
    if (!voc.slot) { fail(err, g->path, "out of memory"); cJSON_Delete(o); return NULL; }
    memset(voc.slot, 0xff, cap * sizeof *voc.slot);
    jput(&j, o, "version", cJSON_CreateString("1.0"));
    jput(&j, o, "truncation", cJSON_CreateNull());
    jput(&j, o, "padding", cJSON_CreateNull());
    cJSON *added = jput(&j, o, "added_tokens", cJSON_CreateArray());
    jput(&j, o, "normalizer", cJSON_CreateNull());
    cJSON *pt = jput(&j, o, "pre_tokenizer", cJSON_CreateObject());
    jput(&j, pt, "type", cJSON_CreateString("Sequence"));
    cJSON *pts = jput(&j, pt, "pretokenizers", cJSON_CreateArray());
    add_split(&j, pts, pre_table[tk->pre_idx].re1);
    if (pre_table[tk->pre_idx].re2) add_split(&j, pts, pre_table[tk->pre_idx].re2);
    add_bytelevel(&j, pts, NULL, false, true, false);
    const char *bos = hp->bos >= 0 ? tok_str(tk, hp->bos) : NULL;
    const char *eos = hp->eos >= 0 ? tok_str(tk, hp->eos) : NULL;
    if ((hp->add_bos && bos) || (hp->add_eos && eos))
        add_template(&j, o, hp->add_bos ? bos : NULL, hp->bos, hp->add_eos ? eos : NULL, hp->eos);
    else
        add_bytelevel(&j, o, "post_processor", true, false, true);
    add_bytelevel(&j, o, "decoder", true, true, true);
    cJSON *m = jput(&j, o, "model", cJSON_CreateObject());
    jput(&j, m, "type", cJSON_CreateString("BPE"));
    jput(&j, m, "dropout", cJSON_CreateNull());
    jput(&j, m, "unk_token", cJSON_CreateNull());
    jput(&j, m, "continuing_subword_prefix", cJSON_CreateNull());
    jput(&j, m, "end_of_word_suffix", cJSON_CreateNull());
    jput(&j, m, "fuse_unk", cJSON_CreateFalse());
    jput(&j, m, "byte_fallback", cJSON_CreateFalse());
    jput(&j, m, "ignore_merges", cJSON_CreateBool(pre_table[tk->pre_idx].ignore_merges));
    cJSON *vocab = jput(&j, m, "vocab", cJSON_CreateObject());
    cJSON *merges = jput(&j, m, "merges", cJSON_CreateArray());
    int rc = 0;
    for (int64_t id = 0; id < tk->n_tokens && !rc && !j.oom; id++) {
        const GgufValue *s = &tk->tokens->v.arr.elems[id];
        if (!utf8_ok((const unsigned char *)s->v.str.s, s->v.str.len)) {
            rc = fail(err, g->path, "tokenizer.ggml.tokens[%" PRId64 "] is not valid UTF-8%s", id,
                      strlen(s->v.str.s) != s->v.str.len ? " (it contains a NUL byte)" : "");
            break;
        }
        if (vocab_add(&voc, id)) jput(&j, vocab, s->v.str.s, cJSON_CreateNumber((double)id));
        else if (rep) rep->n_duplicate_tokens++;
        int64_t tt = tok_type(tk, id);
        if (tt == TT_CONTROL || tt == TT_UNKNOWN || tt == TT_USER_DEFINED) {
            added_token(&j, added, NULL, id, s->v.str.s, tt != TT_USER_DEFINED);
            if (rep) rep->n_added++;
        }
    }
    for (int64_t i = 0; i < tk->n_merges && !rc && !j.oom; i++) {
        const GgufValue *s = &mv->v.arr.elems[i];
        const char *str = s->v.str.s, *sp = strchr(str, ' ');
        if (!utf8_ok((const unsigned char *)str, s->v.str.len)) {
            rc = fail(err, g->path, "tokenizer.ggml.merges[%" PRId64 "] is not valid UTF-8", i);
            break;
        }
        if (!sp || sp == str || !sp[1] || strchr(sp + 1, ' ')) {
            rc = fail(err, g->path, "tokenizer.ggml.merges[%" PRId64 "] '%s' is not two tokens separated by one"
                      " space", i, esc(&es, str));
            break;
        }
        size_t la = (size_t)(sp - str), lb = strlen(sp + 1);
        char *ab = malloc(la + lb + 1);
        if (!ab) { j.oom = true; break; }
        memcpy(ab, str, la);
        memcpy(ab + la, sp + 1, lb + 1);
        const char *miss = vocab_find(&voc, str, la) < 0 ? "its first token" :
                           vocab_find(&voc, sp + 1, lb) < 0 ? "its second token" :
                           vocab_find(&voc, ab, la + lb) < 0 ? "the merged token" : NULL;
        free(ab);
        if (miss) {
            rc = fail(err, g->path, "tokenizer.ggml.merges[%" PRId64 "] '%s': %s is not in the vocabulary", i,
                      esc(&es, str), miss);
            break;
        }
        jput(&j, merges, NULL, cJSON_CreateString(str));
    }
    free(voc.slot);
    if (rc) { cJSON_Delete(o); return NULL; }
    char *s = print_json(&j, o, false);
    if (!s) fail(err, g->path, "out of memory");
    if (rep) { rep->n_vocab = tk->n_tokens; rep->n_merges = tk->n_merges; }
    return s;
}

static char *tokenizer_config_json(const GgufFile *g, const Hp *hp, const Tok *tk, bool verbatim, TioError *err)
{
    J j = { 0 };
    cJSON *o = cJSON_CreateObject();
    jput(&j, o, "add_bos_token", cJSON_CreateBool(hp->add_bos));
    jput(&j, o, "add_eos_token", cJSON_CreateBool(hp->add_eos));
    if (!verbatim) {
        cJSON *dec = jput(&j, o, "added_tokens_decoder", cJSON_CreateObject());
        for (int64_t id = 0; id < tk->n_tokens && !j.oom; id++) {
            int64_t tt = tok_type(tk, id);
            if (tt != TT_CONTROL && tt != TT_UNKNOWN && tt != TT_USER_DEFINED) continue;
            char key[24];
            snprintf(key, sizeof key, "%" PRId64, id);
            added_token(&j, dec, key, -1, tok_str(tk, id), tt != TT_USER_DEFINED);
        }
    }
    static const char *const names[4] = { "bos_token", "eos_token", "unk_token", "pad_token" };
    int64_t ids[4] = { hp->bos, hp->eos, hp->unk, hp->pad };
    for (int i = 0; i < 4; i++)
        jput(&j, o, names[i], ids[i] >= 0 ? cJSON_CreateString(tok_str(tk, ids[i])) : cJSON_CreateNull());
    const char *tmpl = NULL;
    if (md_str(g, "tokenizer.chat_template", false, &tmpl, err) < 0) { cJSON_Delete(o); return NULL; }
    if (tmpl) {
        if (!utf8_ok((const unsigned char *)tmpl, strlen(tmpl))) {
            cJSON_Delete(o);
            fail(err, g->path, "metadata 'tokenizer.chat_template' is not valid UTF-8");
            return NULL;
        }
        jput(&j, o, "chat_template", cJSON_CreateString(tmpl));
    }
    jput(&j, o, "clean_up_tokenization_spaces", cJSON_CreateFalse());
    jput(&j, o, "model_max_length", cJSON_CreateNumber((double)hp->ctx));
    jput(&j, o, "tokenizer_class", cJSON_CreateString("PreTrainedTokenizerFast"));
    char *s = print_json(&j, o, true);
    if (!s) fail(err, g->path, "out of memory");
    return s;
}

/* ------------------------------------------------------------------ */
/* The output directory                                                */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* 1 empty directory, 0 non-empty directory, -1 not a directory or unreadable. */
static int dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int empty = 1;
    struct dirent *e;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = 0;
    closedir(d);
    return empty;
}

/* May DIR be (re)placed?  0 yes (*exists says whether something is there). */
static int check_out(const char *out, bool force, bool *nonempty, TioError *err)
{
    struct stat st;
    *nonempty = false;
    if (lstat(out, &st) != 0) {
        if (errno == ENOENT) return 0;
        return fail(err, out, "cannot stat: %s", strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) return fail(err, out, "exists and is not a directory");
    int e = dir_empty(out);
    if (e < 0) return fail(err, out, "cannot read the directory: %s", strerror(errno));
    if (e == 0 && !force) return fail(err, out, "already exists and is not empty (use --force to replace it)");
    *nonempty = e == 0;
    return 0;
}

static int install(const char *tmp, const char *out, bool force, TioError *err)
{
    bool nonempty;
    if (check_out(out, force, &nonempty, err)) return -1;
    if (!nonempty) {
        if (rename(tmp, out) != 0) return fail(err, out, "cannot rename %s into place: %s", tmp, strerror(errno));
        return 0;
    }
    size_t n = strlen(out);
    char *old = malloc(n + 12);
    if (!old) return fail(err, out, "out of memory");
    memcpy(old, out, n);
    memcpy(old + n, ".oldXXXXXX", 11);
    if (!mkdtemp(old)) {
        free(old);
        return fail(err, out, "cannot create a directory beside it: %s", strerror(errno));
    }
    if (rename(out, old) != 0) {
        int e = errno;
        rmdir(old);
        free(old);
        return fail(err, out, "cannot move the old directory aside: %s", strerror(e));
    }
    if (rename(tmp, out) != 0) {
        int e = errno;
        if (rename(old, out) != 0) {
            fail(err, out, "cannot rename %s into place: %s; the old directory is now %s", tmp, strerror(e), old);
            free(old);
            return -1;
        }
        free(old);
        return fail(err, out, "cannot rename %s into place: %s", tmp, strerror(e));
    }
    remove_tree(old);
    free(old);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Conversion                                                          */

int ueaj_convert_gguf(const char *gguf_path, const char *out_dir, const ConvertOptions *opt,
                      ConvertReport *rep, TioError *err)
{
    DType dt = opt && opt->dtype != DT_NONE ? opt->dtype : DT_F32;
    bool force = opt && opt->force;
    if (rep) memset(rep, 0, sizeof *rep);
    if (dt != DT_F32 && dt != DT_BF16 && dt != DT_F16)
        return fail(err, out_dir, "output dtype %s is not supported (f32, bf16 or f16)", dtype_name(dt));
    if (!out_dir || !*out_dir) return fail(err, "convert", "no output directory");
    /* DIR without trailing slashes (so that DIR.tmpXXXXXX is a sibling). */
    size_t ol = strlen(out_dir);
    while (ol > 1 && out_dir[ol - 1] == '/') ol--;
    char *out = strndup(out_dir, ol);
    if (!out) return fail(err, out_dir, "out of memory");
    if (strcmp(out, "/") == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
        free(out);
        return fail(err, out_dir, "cannot replace this directory; name a new one");
    }

    GgufFile g;
    Hp hp;
    Tok tk;
    Entry *ents = NULL;
    int n_ents = 0;
    char *tmp = NULL, *tok = NULL, *tokcfg = NULL, *cfg = NULL, *gen = NULL;
    bool nonempty, verbatim = false;
    int rc = -1;
    if (gguf_open(gguf_path, &g, err)) { free(out); return -1; }
    if (read_hparams(&g, &hp, err) || read_vocab(&g, &hp, &tk, err)) goto done;
    if (build_plan(&g, &hp, &ents, &n_ents, rep, err)) goto done;
    if (rep) rep->tied = hp.tied;

    /* Every text file is built before the directory is created. */
    const GgufValue *hfj = gguf_get(&g, "tokenizer.huggingface.json");
    if (hfj) {
        const char *s = gguf_value_str(hfj);
        cJSON *p = s && strlen(s) == hfj->v.str.len ? cJSON_Parse(s) : NULL;
        if (!p) {
            fail(err, g.path, "metadata 'tokenizer.huggingface.json' is not a JSON string");
            goto done;
        }
        cJSON_Delete(p);
        tok = strdup(s);
        verbatim = true;
        if (rep) { rep->tokenizer_verbatim = true; rep->n_vocab = tk.n_tokens; }
    } else {
        tok = tokenizer_json(&g, &hp, &tk, rep, err);
    }
    if (!tok) { if (verbatim) fail(err, g.path, "out of memory"); goto done; }
    const char *base = strrchr(gguf_path, '/');
    base = base ? base + 1 : gguf_path;
    if (!(tokcfg = tokenizer_config_json(&g, &hp, &tk, verbatim, err))) goto done;
    cfg = config_json(&hp, dt, base);
    gen = generation_config_json(&hp);
    if (!cfg || !gen) { fail(err, out, "out of memory"); goto done; }

    if (check_out(out, force, &nonempty, err)) goto done;
    tmp = malloc(ol + 12);
    if (!tmp) { fail(err, out, "out of memory"); goto done; }
    memcpy(tmp, out, ol);
    memcpy(tmp + ol, ".tmpXXXXXX", 11);
    if (!mkdtemp(tmp)) {
        fail(err, out, "cannot create a temporary directory beside it: %s", strerror(errno));
        free(tmp);
        tmp = NULL;
        goto done;
    }
    chmod(tmp, 0755);
    uint64_t wb = 0;
    if (write_weights(tmp, ents, n_ents, dt, out, &wb, err) ||
        write_text(tmp, "config.json", cfg, out, err) ||
        write_text(tmp, "generation_config.json", gen, out, err) ||
        write_text(tmp, "tokenizer.json", tok, out, err) ||
        write_text(tmp, "tokenizer_config.json", tokcfg, out, err) ||
        install(tmp, out, force, err))
        goto done;
    if (rep) rep->weight_bytes = wb;
    free(tmp);
    tmp = NULL;
    rc = 0;
done:
    if (tmp) { remove_tree(tmp); free(tmp); }
    free(ents);
    free(tok);
    free(tokcfg);
    free(cfg);
    free(gen);
    gguf_close(&g);
    free(out);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The command line                                                    */

static void print_value(FILE *f, const GgufValue *v)
{
    switch (v->type) {
    case GGUF_VT_STRING: {
        fputc('"', f);
        const char *s = v->v.str.s;
        uint64_t n = v->v.str.len;
        for (uint64_t i = 0; i < n && i < 80; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
            else if (c < 0x20 || c == 0x7f) fprintf(f, "\\x%02x", c);
            else fputc(c, f);
        }
        fputs(n > 80 ? "\"..." : "\"", f);
        if (n > 80) fprintf(f, " (%" PRIu64 " bytes)", n);
        break;
    }
    case GGUF_VT_ARRAY: {
        fprintf(f, "[%s x %" PRIu64 "]", gguf_value_type_name(v->v.arr.etype), v->v.arr.n);
        for (uint64_t i = 0; i < v->v.arr.n && i < 6; i++) {
            GgufValue e;
            gguf_arr_get(v, i, &e);
            fputs(i ? ", " : " ", f);
            if (e.type == GGUF_VT_ARRAY) fprintf(f, "[...]");
            else print_value(f, &e);
        }
        if (v->v.arr.n > 6) fputs(", ...", f);
        break;
    }
    case GGUF_VT_FLOAT32: case GGUF_VT_FLOAT64: {
        char b[64];
        fmt_float(b, sizeof b, v->v.f, v->type == GGUF_VT_FLOAT32);
        fputs(b, f);
        break;
    }
    case GGUF_VT_BOOL: fputs(v->v.b ? "true" : "false", f); break;
    case GGUF_VT_INT8: case GGUF_VT_INT16: case GGUF_VT_INT32: case GGUF_VT_INT64:
        fprintf(f, "%" PRId64, v->v.i);
        break;
    default: fprintf(f, "%" PRIu64, v->v.u); break;
    }
}

static int print_info(const char *path)
{
    GgufFile g;
    TioError err;
    if (gguf_open(path, &g, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    printf("%s: GGUF version %" PRIu32 ", %" PRId64 " metadata pairs, %" PRId64 " tensors, alignment %" PRIu64
           ", data at offset %" PRIu64 "\n", path, g.version, g.n_kv, g.n_tensors, g.alignment, g.data_offset);
    for (int64_t i = 0; i < g.n_kv; i++) {
        printf("  %s: %s = ", g.kv[i].key, gguf_value_type_name(g.kv[i].value.type));
        print_value(stdout, &g.kv[i].value);
        putchar('\n');
    }
    for (int64_t i = 0; i < g.n_tensors; i++) {
        const GgufTensor *t = &g.tensors[i];
        printf("  tensor %s: %s [", t->name, gguf_type_name(t->type));
        for (int d = 0; d < t->n_dims; d++) printf("%s%" PRId64, d ? ", " : "", t->ne[d]);
        printf("] at %" PRIu64 " (%" PRIu64 " bytes)\n", t->offset, t->nbytes);
    }
    gguf_close(&g);
    return 0;
}

static void convert_usage(FILE *f)
{
    fputs("usage: ueajc convert MODEL.gguf -o DIR [--dtype f32|bf16|f16] [--force] [-q]\n"
          "       ueajc convert MODEL.gguf --info\n"
          "\n"
          "Converts a llama-architecture GGUF file (F32 F16 BF16 F64 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K\n"
          "Q5_K Q6_K tensors) into a HuggingFace-layout directory: model.safetensors, config.json,\n"
          "generation_config.json, tokenizer.json, tokenizer_config.json.\n"
          "\n"
          "  -o DIR        the output directory (built beside it, then renamed into place)\n"
          "  --dtype DT    dtype of the weights: f32 (default: exactly llama.cpp's dequantized\n"
          "                values), bf16 (half the size) or f16\n"
          "  --force       replace DIR if it exists and is not empty\n"
          "  --info        print the file's metadata and tensors instead of converting\n"
          "  -q, --quiet   no summary line\n", f);
}

int ueaj_convert_main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    ConvertOptions opt = { DT_F32, false };
    bool info = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { convert_usage(stdout); return 0; }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "--dtype") == 0) {
            if (i + 1 >= argc) { fprintf(stderr, "ueajc convert: error: %s needs a value\n", a); return 2; }
            val = argv[++i];
        } else if (strncmp(a, "--output=", 9) == 0) { val = a + 9; a = "-o"; }
        else if (strncmp(a, "--dtype=", 8) == 0) { val = a + 8; a = "--dtype"; }
        if (val && strcmp(a, "--dtype") == 0) {
            if (!dtype_parse(val, &opt.dtype) || (opt.dtype != DT_F32 && opt.dtype != DT_BF16 && opt.dtype != DT_F16)) {
                fprintf(stderr, "ueajc convert: error: --dtype must be f32, bf16 or f16, not '%s'\n", val);
                return 2;
            }
        } else if (val) {
            if (out) { fprintf(stderr, "ueajc convert: error: -o given twice\n"); return 2; }
            out = val;
        } else if (strcmp(a, "--force") == 0) opt.force = true;
        else if (strcmp(a, "--info") == 0) info = true;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) quiet = true;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "ueajc convert: error: unknown option '%s'\n", a);
            convert_usage(stderr);
            return 2;
        } else if (in) {
            fprintf(stderr, "ueajc convert: error: more than one input file ('%s' and '%s')\n", in, a);
            return 2;
        } else in = a;
    }
    if (!in) { fprintf(stderr, "ueajc convert: error: no input file\n"); convert_usage(stderr); return 2; }
    if (info) return print_info(in);
    if (!out) { fprintf(stderr, "ueajc convert: error: no output directory (-o DIR)\n"); return 2; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ConvertReport rep;
    TioError err;
    if (ueaj_convert_gguf(in, out, &opt, &rep, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!quiet) {
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        fprintf(stderr, "ueajc convert: %s -> %s: %d tensors (", in, out, rep.n_tensors);
        const char *sep = "";
        for (int t = 0; t < GGML_T_COUNT; t++)
            if (rep.type_count[t]) { fprintf(stderr, "%s%s %d", sep, gguf_type_name((uint32_t)t), rep.type_count[t]); sep = ", "; }
        fprintf(stderr, ") as %s, %.1f MB; vocabulary %" PRId64 " (%" PRId64 " merges, %" PRId64 " added tokens%s)%s;"
                " %.2f s\n", dtype_name(opt.dtype), (double)rep.weight_bytes / 1e6, rep.n_vocab, rep.n_merges,
                rep.n_added, rep.tokenizer_verbatim ? ", tokenizer.json verbatim" : "",
                rep.tied ? "; tied embeddings" : "", s);
        if (rep.n_duplicate_tokens)
            fprintf(stderr, "ueajc convert: note: %" PRId64 " duplicate token strings kept only under their first id\n",
                    rep.n_duplicate_tokens);
    }
    return 0;
}
