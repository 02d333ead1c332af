/* test_checkpoint.c - HuggingFace model directories (runtime/checkpoint.c).
 *
 * Every checkpoint here is built at run time in a temporary directory
 * (safetensors files through tio_write_safetensors, or raw bytes for the
 * broken ones), so no fixture needs committing.  Two valid tiny models are
 * the starting points: a single model.safetensors, and two shards with an
 * index.  Each bad case starts from one of them (or from nothing), applies
 * a few file operations (write, truncate, replace by a directory, a FIFO, a
 * symlink loop, remove) and asserts that ckpt_open() fails with a message
 * that starts with the offending file (with LINE:COL for JSON syntax) and
 * names the tensor or key involved; ASan/LSan vouch for no leaks.
 *
 * Loading is checked against a naive per-element reference (one rounding
 * through double) for every float source dtype, several destination dtypes
 * and the permutations the fast paths distinguish: identity, inner axis
 * kept, 2-D and batched transposes with sizes that are not multiples of the
 * tile, size-1 axes, and general 3-D/4-D permutations.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"

/* ---- temporary directories ---- */

static char basedir[256];
static char tmpdir[300];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    chmod(path, 0700);
    remove(path);
    return 0;
}

static void base_setup(void)
{
    snprintf(basedir, sizeof basedir, "/tmp/ueaj_ckpt_XXXXXX");
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

static void remove_tmpdir(void) { nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static const char *tpath(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
    return buf;
}

static void write_file(const char *name, const void *p, size_t n)
{
    char path[600];
    FILE *fp = fopen(tpath(path, sizeof path, name), "wb");
    ck_assert_msg(fp != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

static void write_text(const char *name, const char *text) { write_file(name, text, strlen(text)); }

/* ---- safetensors from a compact spec ---- */

/* Element k of every generated tensor (exactly representable in f16/bf16
 * only for some k, so conversions have something to round). */
static double value(int64_t k) { return ((double)((k * 37) % 101) - 50.0) * 0.1234567 + (double)k * 1e-3; }

/* "name:DTYPE:2x3;name2:F32:4;scalar:F32:" -> a safetensors file. */
static void write_st(const char *name, const char *spec)
{
    HostTensor ts[64];
    const HostTensor *ptr[64];
    int n = 0;
    char *copy = strdup(spec), *save = NULL;
    for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        ck_assert_int_lt(n, 64);
        char *c1 = strchr(item, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        ck_assert_msg(c1 && c2, "bad spec item '%s'", item);
        *c1 = *c2 = '\0';
        HostTensor *t = &ts[n];
        memset(t, 0, sizeof *t);
        t->name = item;
        ck_assert_msg(dtype_from_st_name(c1 + 1, &t->dtype), "bad dtype in '%s'", c1 + 1);
        for (char *d = c2 + 1; *d;) {
            t->shape[t->rank++] = strtoll(d, &d, 10);
            if (*d == 'x') d++;
        }
        int64_t cnt = tio_numel(t);
        t->nbytes = (size_t)cnt * dtype_size(t->dtype);
        t->data = malloc(t->nbytes ? t->nbytes : 1);
        for (int64_t k = 0; k < cnt; k++)
            dtype_store(t->data, t->dtype, (size_t)k, t->dtype == DT_BOOL ? (double)(k & 1) : value(k));
        ptr[n] = t;
        n++;
    }
    char path[600];
    TioError err;
    int rc = tio_write_safetensors(tpath(path, sizeof path, name), ptr, n, &err);
    for (int i = 0; i < n; i++) free(ts[i].data);
    free(copy);
    ck_assert_msg(rc == 0, "%s", err.msg);
}

/* A safetensors file with the given header text and `dlen` data bytes;
 * hlen overrides the header length when nonzero. */
static void write_raw_st(const char *name, const char *json, size_t dlen, uint64_t hlen)
{
    size_t jl = strlen(json), n = 8 + jl + dlen;
    unsigned char *buf = calloc(1, n);
    uint64_t h = hlen ? hlen : jl;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(h >> (8 * i));
    memcpy(buf + 8, json, jl);
    write_file(name, buf, n);
    free(buf);
}

/* ---- the two valid tiny models ---- */

#define T_EMBED "model.embed_tokens.weight"
#define T_Q     "model.layers.0.self_attn.q_proj.weight"
#define T_NORM  "model.norm.weight"
#define T_HEAD  "lm_head.weight"
#define T_ROT   "model.layers.0.self_attn.rotary_emb.inv_freq"
#define SHARD1  "model-00001-of-00002.safetensors"
#define SHARD2  "model-00002-of-00002.safetensors"
#define S_EMBED T_EMBED ":BF16:8x4"
#define S_Q     T_Q ":BF16:4x4"
#define S_NORM  T_NORM ":F32:4"
#define S_HEAD  T_HEAD ":F16:8x4"
#define S_ROT   T_ROT ":F32:2"

static const char *config_json =
    "{\n"
    "  \"architectures\": [\"LlamaForCausalLM\"],\n"
    "  \"hidden_size\": 4,\n"
    "  \"vocab_size\": 8,\n"
    "  \"bos_token_id\": 0,\n"
    "  \"eos_token_id\": 2,\n"
    "  \"max_position_embeddings\": 64,\n"
    "  \"torch_dtype\": \"bfloat16\"\n"
    "}\n";

static const char *generation_json =
    "{\"bos_token_id\": 1, \"eos_token_id\": [2, 3, 5], \"temperature\": 0.6, \"top_p\": 0.9,\n"
    " \"do_sample\": true}\n";

static const char *index_json =
    "{\n"
    "  \"metadata\": {\"total_size\": 180},\n"
    "  \"weight_map\": {\n"
    "    \"" T_EMBED "\": \"" SHARD1 "\",\n"
    "    \"" T_Q "\": \"" SHARD1 "\",\n"
    "    \"" T_NORM "\": \"" SHARD2 "\",\n"
    "    \"" T_HEAD "\": \"" SHARD2 "\",\n"
    "    \"" T_ROT "\": \"" SHARD2 "\"\n"
    "  }\n"
    "}\n";

enum { B_EMPTY, B_CONFIG, B_SINGLE, B_SHARDED };

static void make_base(int base)
{
    if (base == B_EMPTY) return;
    write_text("config.json", config_json);
    if (base == B_CONFIG) return;
    write_text("generation_config.json", generation_json);
    if (base == B_SINGLE) {
        write_st("model.safetensors", S_EMBED ";" S_Q ";" S_NORM ";" S_HEAD ";" S_ROT);
    } else {
        write_st(SHARD1, S_EMBED ";" S_Q);
        write_st(SHARD2, S_NORM ";" S_HEAD ";" S_ROT);
        write_text("model.safetensors.index.json", index_json);
    }
}

/* ---- bad checkpoints ---- */

typedef enum {
    OP_NONE, OP_TEXT, OP_ST, OP_RAWST, OP_TRUNC, OP_RM, OP_MKDIR, OP_FIFO, OP_LOOP, OP_LINK
} OpKind;

typedef struct Op {
    OpKind      k;
    const char *file;
    const char *text;      /* OP_TEXT/OP_RAWST content, OP_ST spec, OP_LINK target */
    int64_t     a;         /* OP_RAWST data bytes; OP_TRUNC new size (< 0: from the end) */
    uint64_t    b;         /* OP_RAWST header length override */
} Op;

typedef struct BadCase {
    const char *what;
    int         base;
    Op          ops[3];
    const char *open;      /* what to open, relative to the directory ("" = it) */
    const char *file;      /* the message starts with DIR/file ("" = DIR) */
    const char *want[3];   /* substrings of the message */
} BadCase;

#define E(dt, shape, b, e) "{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

static const BadCase bad_cases[] = {
    /* paths and the directory */
    { "directory does not exist", B_EMPTY, { { OP_NONE, NULL, NULL, 0, 0 } }, "nope", "nope",
      { "cannot open: No such file or directory" } },
    { "a FIFO instead of a directory", B_EMPTY, { { OP_FIFO, "fifo", NULL, 0, 0 } }, "fifo", "fifo",
      { "not a model directory or a .safetensors file" } },
    { "the directory is a symlink loop", B_EMPTY, { { OP_LOOP, "loop", NULL, 0, 0 } }, "loop", "loop",
      { "Too many levels of symbolic links" } },
    { "empty directory", B_EMPTY, { { OP_NONE, NULL, NULL, 0, 0 } }, "", "config.json",
      { "cannot open: No such file or directory" } },
    /* config.json */
    { "config.json is malformed", B_CONFIG,
      { { OP_TEXT, "config.json", "{\n  \"hidden_size\": 4,\n  \"vocab_size\": 8\n  \"x\": 1\n}\n", 0, 0 } }, "",
      "config.json:4:3", { "error: invalid JSON near '\"x\": 1'" } },
    { "config.json is cut short", B_CONFIG, { { OP_TEXT, "config.json", "{\n  \"hidden_size\": ", 0, 0 } }, "",
      "config.json:2:18", { "error: invalid JSON: unexpected end of file" } },
    { "config.json is empty", B_CONFIG, { { OP_TEXT, "config.json", "", 0, 0 } }, "", "config.json:1:1",
      { "invalid JSON: the file is empty" } },
    { "config.json is a list", B_CONFIG, { { OP_TEXT, "config.json", "\n  [1, 2]", 0, 0 } }, "", "config.json:2:3",
      { "must hold a JSON object" } },
    { "config.json has trailing garbage", B_CONFIG, { { OP_TEXT, "config.json", "{\"a\": 1}\n}", 0, 0 } }, "",
      "config.json:2:1", { "invalid JSON: unexpected text after the object near '}'" } },
    { "config.json with a NUL byte", B_CONFIG, { { OP_RAWST, "config.json", "", 0, 0 } }, "", "config.json:1:5",
      { "invalid JSON near '?: 1}'" } },
    { "config.json is a directory", B_CONFIG, { { OP_RM, "config.json", NULL, 0, 0 }, { OP_MKDIR, "config.json", NULL, 0, 0 } }, "",
      "config.json", { "not a regular file" } },
    { "config.json is a FIFO", B_CONFIG, { { OP_RM, "config.json", NULL, 0, 0 }, { OP_FIFO, "config.json", NULL, 0, 0 } }, "",
      "config.json", { "not a regular file" } },
    { "config.json is a symlink loop", B_CONFIG, { { OP_RM, "config.json", NULL, 0, 0 }, { OP_LOOP, "config.json", NULL, 0, 0 } }, "",
      "config.json", { "Too many levels of symbolic links" } },
    { "config.json is a dangling symlink", B_CONFIG,
      { { OP_RM, "config.json", NULL, 0, 0 }, { OP_LINK, "config.json", "../blobs/0123abcd", 0, 0 } }, "", "config.json",
      { "cannot open: No such file or directory" } },
    { "eos_token_id is a string", B_CONFIG, { { OP_TEXT, "config.json", "{\"eos_token_id\": \"</s>\"}", 0, 0 } }, "",
      "config.json", { "'eos_token_id' must be a non-negative integer or a list of them" } },
    { "eos_token_id list with a negative id", B_CONFIG,
      { { OP_TEXT, "config.json", "{\"eos_token_id\": [2, -1]}", 0, 0 } }, "", "config.json",
      { "'eos_token_id'[1] is not a non-negative integer" } },
    { "bos_token_id is fractional", B_CONFIG, { { OP_TEXT, "config.json", "{\"bos_token_id\": 1.5}", 0, 0 } }, "",
      "config.json", { "'bos_token_id' must be a non-negative integer" } },
    { "unknown torch_dtype", B_CONFIG, { { OP_TEXT, "config.json", "{\"torch_dtype\": \"float128\"}", 0, 0 } }, "",
      "config.json", { "'torch_dtype' is 'float128', which is not a known dtype" } },
    { "max_position_embeddings 0", B_CONFIG,
      { { OP_TEXT, "config.json", "{\"max_position_embeddings\": 0}", 0, 0 } }, "", "config.json",
      { "'max_position_embeddings' must be a positive integer" } },
    /* generation_config.json */
    { "generation_config.json is malformed", B_SINGLE,
      { { OP_TEXT, "generation_config.json", "{\"eos_token_id\": [1, 2,,]}", 0, 0 } }, "",
      "generation_config.json:1:24", { "invalid JSON near ',]}'" } },
    { "generation_config.json eos with a string", B_SINGLE,
      { { OP_TEXT, "generation_config.json", "{\"eos_token_id\": [\"</s>\"]}", 0, 0 } }, "", "generation_config.json",
      { "'eos_token_id'[0] is not a non-negative integer" } },
    { "generation_config.json temperature", B_SINGLE,
      { { OP_TEXT, "generation_config.json", "{\"temperature\": \"hot\"}", 0, 0 } }, "", "generation_config.json",
      { "'temperature' must be a non-negative number" } },
    { "generation_config.json top_p above 1", B_SINGLE,
      { { OP_TEXT, "generation_config.json", "{\"top_p\": 1.5}", 0, 0 } }, "", "generation_config.json",
      { "'top_p' must be at most 1" } },
    { "generation_config.json is a directory", B_SINGLE,
      { { OP_RM, "generation_config.json", NULL, 0, 0 }, { OP_MKDIR, "generation_config.json", NULL, 0, 0 } }, "",
      "generation_config.json", { "not a regular file" } },
    /* where are the weights? */
    { "no weights", B_CONFIG, { { OP_NONE, NULL, NULL, 0, 0 } }, "", "", { "the directory has no weights" } },
    { "only pytorch_model.bin", B_CONFIG, { { OP_TEXT, "pytorch_model.bin", "PK", 0, 0 } }, "", "",
      { "'pytorch_model.bin': only safetensors weights are supported" } },
    { "shards without an index", B_SHARDED, { { OP_RM, "model.safetensors.index.json", NULL, 0, 0 } }, "", "",
      { "there is '" SHARD1 "', but no index" } },
    /* model.safetensors itself */
    { "truncated data", B_SINGLE, { { OP_TRUNC, "model.safetensors", NULL, -3, 0 } }, "", "model.safetensors",
      { "tensor 'model.layers.0.self_attn.rotary_emb.inv_freq'", "run past the end of the data" } },
    { "truncated header", B_SINGLE, { { OP_TRUNC, "model.safetensors", NULL, 40, 0 } }, "", "model.safetensors",
      { "header length", "runs past the end of the file" } },
    { "shorter than 8 bytes", B_SINGLE, { { OP_TRUNC, "model.safetensors", NULL, 5, 0 } }, "", "model.safetensors",
      { "file too short for a safetensors header (5 bytes)" } },
    { "header length past the end", B_SINGLE,
      { { OP_RAWST, "model.safetensors", "{\"w\":" E("F32", "[1]", 0, 4) "}", 4, 1u << 20 } }, "",
      "model.safetensors", { "header length 1048576 at offset 0 runs past the end of the file" } },
    { "overlapping offsets", B_SINGLE,
      { { OP_RAWST, "model.safetensors", "{\"" T_NORM "\":" E("F32", "[2]", 0, 8) ",\"" T_ROT "\":"
          E("F32", "[1]", 4, 8) "}", 8, 0 } }, "", "model.safetensors",
      { "tensor '" T_ROT "': data_offsets [4, 8] overlap tensor '" T_NORM "'" } },
    { "offsets out of range", B_SINGLE,
      { { OP_RAWST, "model.safetensors", "{\"" T_NORM "\":" E("F32", "[4]", 0, 16) "}", 8, 0 } }, "",
      "model.safetensors", { "tensor '" T_NORM "': data_offsets [0, 16] run past the end of the data (8 bytes)" } },
    { "unknown dtype", B_SINGLE,
      { { OP_RAWST, "model.safetensors", "{\"" T_NORM "\":" E("F128", "[1]", 0, 16) "}", 16, 0 } }, "",
      "model.safetensors", { "tensor '" T_NORM "': unknown dtype 'F128'" } },
    { "shape and offsets disagree", B_SINGLE,
      { { OP_RAWST, "model.safetensors", "{\"" T_HEAD "\":" E("BF16", "[8, 4]", 0, 32) "}", 32, 0 } }, "",
      "model.safetensors", { "tensor '" T_HEAD "'", "hold 32 bytes but shape [8, 4] of BF16 needs 64" } },
    { "header is not JSON", B_SINGLE, { { OP_RAWST, "model.safetensors", "{\"w\": [}", 0, 0 } }, "",
      "model.safetensors", { "invalid JSON header" } },
    { "model.safetensors is a directory", B_SINGLE,
      { { OP_RM, "model.safetensors", NULL, 0, 0 }, { OP_MKDIR, "model.safetensors", NULL, 0, 0 } }, "", "model.safetensors",
      { "not a regular file" } },
    { "model.safetensors is a FIFO", B_SINGLE,
      { { OP_RM, "model.safetensors", NULL, 0, 0 }, { OP_FIFO, "model.safetensors", NULL, 0, 0 } }, "", "model.safetensors",
      { "not a regular file" } },
    { "model.safetensors is a symlink loop", B_SINGLE,
      { { OP_RM, "model.safetensors", NULL, 0, 0 }, { OP_LOOP, "model.safetensors", NULL, 0, 0 } }, "", "model.safetensors",
      { "Too many levels of symbolic links" } },
    { "model.safetensors is a dangling symlink", B_SINGLE,
      { { OP_RM, "model.safetensors", NULL, 0, 0 }, { OP_LINK, "model.safetensors", "../blobs/feedbeef", 0, 0 } }, "",
      "model.safetensors", { "cannot open: No such file or directory" } },
    { "a .safetensors path that is not one", B_SINGLE, { { OP_TEXT, "x.safetensors", "hello, world", 0, 0 } },
      "x.safetensors", "x.safetensors", { "header length" } },
    /* the index */
    { "index is malformed", B_SHARDED,
      { { OP_TEXT, "model.safetensors.index.json", "{\"weight_map\": {\n  \"a\": \"b\"\n  \"c\": \"d\"}}", 0, 0 } }, "",
      "model.safetensors.index.json:3:3", { "invalid JSON near '\"c\": \"d\"}}'" } },
    { "index is empty", B_SHARDED, { { OP_TEXT, "model.safetensors.index.json", "  \n", 0, 0 } }, "",
      "model.safetensors.index.json:1:1", { "the file is empty" } },
    { "index without weight_map", B_SHARDED,
      { { OP_TEXT, "model.safetensors.index.json", "{\"metadata\": {}}", 0, 0 } }, "", "model.safetensors.index.json",
      { "no 'weight_map'" } },
    { "weight_map is a list", B_SHARDED,
      { { OP_TEXT, "model.safetensors.index.json", "{\"weight_map\": [\"" SHARD1 "\"]}", 0, 0 } }, "",
      "model.safetensors.index.json", { "'weight_map' is not a JSON object" } },
    { "weight_map is empty", B_SHARDED, { { OP_TEXT, "model.safetensors.index.json", "{\"weight_map\": {}}", 0, 0 } },
      "", "model.safetensors.index.json", { "'weight_map' is empty" } },
    { "weight_map value is a number", B_SHARDED,
      { { OP_TEXT, "model.safetensors.index.json", "{\"weight_map\": {\"" T_Q "\": 1}}", 0, 0 } }, "",
      "model.safetensors.index.json", { "entry for tensor '" T_Q "' is not a file name" } },
    { "weight_map points outside the directory", B_SHARDED,
      { { OP_TEXT, "model.safetensors.index.json", "{\"weight_map\": {\"" T_Q "\": \"../" SHARD1 "\"}}", 0, 0 } }, "",
      "model.safetensors.index.json", { "tensor '" T_Q "'", "'../" SHARD1 "' is not a plain file name" } },
    { "a shard named in the index is missing", B_SHARDED, { { OP_RM, SHARD2, NULL, 0, 0 } }, "", SHARD2,
      { "cannot open: No such file or directory",
        "(named in model.safetensors.index.json for tensor '" T_NORM "' and others)" } },
    { "a shard is corrupt", B_SHARDED, { { OP_TRUNC, SHARD2, NULL, -1, 0 } }, "", SHARD2,
      { "tensor '" T_ROT "'", "run past the end of the data" } },
    { "indexed tensor not in its file", B_SHARDED, { { OP_ST, SHARD2, S_NORM ";" S_HEAD, 0, 0 } }, "", SHARD2,
      { "tensor '" T_ROT "' is listed in model.safetensors.index.json for this file but is not in it" } },
    { "tensor in two shards", B_SHARDED, { { OP_ST, SHARD2, S_NORM ";" S_HEAD ";" S_ROT ";" S_Q, 0, 0 } }, "", SHARD2,
      { "tensor '" T_Q "' is present in two files", SHARD1 " and " } },
    { "tensor in a shard the index does not list", B_SHARDED,
      { { OP_ST, SHARD2, S_NORM ";" S_HEAD ";" S_ROT ";extra.bias:F32:3", 0, 0 } }, "", SHARD2,
      { "tensor 'extra.bias' is in this file but not listed in model.safetensors.index.json" } },
    { "index lists a tensor in the wrong shard", B_SHARDED,
      { { OP_TEXT, "model.safetensors.index.json", "{\"weight_map\": {\"" T_EMBED "\": \"" SHARD1 "\", \"" T_Q "\": \"" SHARD2 "\", \"" T_NORM "\": \""
          SHARD2 "\", \"" T_HEAD "\": \"" SHARD2 "\", \"" T_ROT "\": \"" SHARD2 "\"}}", 0, 0 } }, "", SHARD1,
      { "tensor '" T_Q "' is in this file, but model.safetensors.index.json lists it in" } },
    { "index lists a tensor twice", B_SHARDED,
      { { OP_TEXT, "model.safetensors.index.json", "{\"weight_map\": {\"" T_EMBED "\": \"" SHARD1 "\", \"" T_Q "\": \"" SHARD1 "\", \"" T_NORM "\": \""
          SHARD2 "\", \"" T_HEAD "\": \"" SHARD2 "\", \"" T_ROT "\": \"" SHARD2 "\", \"" T_Q "\": \"" SHARD1
          "\"}}", 0, 0 } }, "", "model.safetensors.index.json", { "weight_map lists tensor '" T_Q "' twice" } },
    { "index opened directly, malformed", B_SHARDED,
      { { OP_TEXT, "model.safetensors.index.json", "{\"weight_map\": {\"" T_Q "\": \"\"}}", 0, 0 } },
      "model.safetensors.index.json", "model.safetensors.index.json", { "'' is not a plain file name" } },
};

static void apply_op(const Op *op)
{
    char p[600];
    if (op->k == OP_NONE) return;
    tpath(p, sizeof p, op->file);
    switch (op->k) {
    case OP_TEXT: write_text(op->file, op->text); break;
    case OP_ST: write_st(op->file, op->text); break;
    case OP_RAWST:
        if (!*op->text) write_file(op->file, "{\"a\"\0: 1}", 9);       /* a NUL byte */
        else write_raw_st(op->file, op->text, (size_t)op->a, op->b);
        break;
    case OP_TRUNC: {
        struct stat sb;
        ck_assert_int_eq(stat(p, &sb), 0);
        ck_assert_int_eq(truncate(p, op->a < 0 ? sb.st_size + op->a : op->a), 0);
        break;
    }
    case OP_RM: ck_assert_int_eq(remove(p), 0); break;
    case OP_MKDIR: ck_assert_int_eq(mkdir(p, 0755), 0); break;
    case OP_FIFO: ck_assert_int_eq(mkfifo(p, 0644), 0); break;
    case OP_LOOP: ck_assert_int_eq(symlink(op->file, p), 0); break;
    case OP_LINK: ck_assert_int_eq(symlink(op->text, p), 0); break;
    default: break;
    }
}

static void assert_msg(const char *msg, const char *prefix, const char *const *want, int nwant)
{
    ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0, "message '%s' does not start with '%s'", msg, prefix);
    ck_assert_msg(strstr(msg, ": error: ") != NULL, "message '%s' has no ': error: '", msg);
    for (int i = 0; i < nwant && want[i]; i++)
        ck_assert_msg(strstr(msg, want[i]) != NULL, "message '%s' lacks '%s'", msg, want[i]);
}

START_TEST(test_bad_checkpoints)
{
    const BadCase *c = &bad_cases[_i];
    make_tmpdir();
    make_base(c->base);
    for (int i = 0; i < 3; i++) apply_op(&c->ops[i]);
    char open[600], prefix[700];
    if (*c->open) tpath(open, sizeof open, c->open);
    else snprintf(open, sizeof open, "%s", tmpdir);
    if (*c->file) tpath(prefix, sizeof prefix, c->file);
    else snprintf(prefix, sizeof prefix, "%s:", tmpdir);
    Checkpoint *ck = (Checkpoint *)&ck;        /* must be reset */
    CkptError err;
    memset(&err, 0, sizeof err);
    int rc = ckpt_open(open, &ck, &err);
    ck_assert_msg(rc == -1, "case '%s' was accepted", c->what);
    ck_assert_ptr_null(ck);
    assert_msg(err.msg, prefix, c->want, 3);
    remove_tmpdir();
}
END_TEST

/* Unreadable files.  A read error (EIO) comes from /proc/self/mem, which
 * claims to be a regular file; permissions are tested too, except as root,
 * whom they do not stop. */
START_TEST(test_unreadable)
{
    make_tmpdir();
    make_base(B_SINGLE);
    char p[600];
    CkptError err;
    Checkpoint *ck;
    tpath(p, sizeof p, "config.json");
    ck_assert_int_eq(remove(p), 0);
    ck_assert_int_eq(symlink("/proc/self/mem", p), 0);
    ck_assert_int_eq(ckpt_open(tmpdir, &ck, &err), -1);
    const char *eio[] = { "cannot read: Input/output error" };
    assert_msg(err.msg, p, eio, 1);
    ck_assert_int_eq(remove(p), 0);
    write_text("config.json", config_json);
    if (geteuid() == 0) {
        remove_tmpdir();
        return;
    }
    chmod(tpath(p, sizeof p, "config.json"), 0);
    ck_assert_int_eq(ckpt_open(tmpdir, &ck, &err), -1);
    const char *want[] = { "cannot open: Permission denied" };
    assert_msg(err.msg, p, want, 1);
    chmod(p, 0644);
    chmod(tpath(p, sizeof p, "model.safetensors"), 0);
    ck_assert_int_eq(ckpt_open(tmpdir, &ck, &err), -1);
    assert_msg(err.msg, p, want, 1);
    chmod(p, 0644);
    remove_tmpdir();
}
END_TEST

/* Every truncation of a valid model.safetensors is refused cleanly and
 * names the file. */
START_TEST(test_every_truncation)
{
    make_tmpdir();
    make_base(B_SINGLE);
    char p[600];
    struct stat sb;
    ck_assert_int_eq(stat(tpath(p, sizeof p, "model.safetensors"), &sb), 0);
    for (off_t len = sb.st_size - 1; len >= 0; len--) {
        ck_assert_int_eq(truncate(p, len), 0);
        Checkpoint *ck;
        CkptError err;
        ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == -1, "truncated to %lld bytes was accepted", (long long)len);
        ck_assert_msg(strncmp(err.msg, p, strlen(p)) == 0, "'%s' does not name %s", err.msg, p);
    }
    remove_tmpdir();
}
END_TEST

/* ---- valid checkpoints ---- */

static void check_tiny(const Checkpoint *ck, bool sharded)
{
    ck_assert_str_eq(ckpt_dir(ck), tmpdir);
    const cJSON *cfg = ckpt_config(ck);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(cfg, "hidden_size")->valueint, 4);
    ck_assert_ptr_nonnull(ckpt_generation_config(ck));
    ck_assert_int_eq(ckpt_bos_token_id(ck), 1);             /* generation_config.json wins */
    const int64_t *eos;
    ck_assert_int_eq(ckpt_eos_token_ids(ck, &eos), 3);      /* 2 from config, then 3 and 5 */
    ck_assert_int_eq(eos[0], 2);
    ck_assert_int_eq(eos[1], 3);
    ck_assert_int_eq(eos[2], 5);
    ck_assert(ckpt_is_eos(ck, 5));
    ck_assert(!ckpt_is_eos(ck, 4));
    ck_assert_int_eq(ckpt_torch_dtype(ck), DT_BF16);
    ck_assert_int_eq(ckpt_max_position_embeddings(ck), 64);
    const CkptSampling *s = ckpt_sampling(ck);
    ck_assert(s->has_temperature && s->temperature == 0.6);
    ck_assert(s->has_top_p && s->top_p == 0.9);
    ck_assert(!s->has_top_k);
    ck_assert(s->has_do_sample && s->do_sample);
    ck_assert_int_eq(ckpt_tensor_count(ck), 5);
    const char *file = NULL;
    const HostTensor *t = ckpt_find(ck, T_HEAD, &file);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->dtype, DT_F16);
    ck_assert_int_eq(t->rank, 2);
    ck_assert_int_eq(t->shape[0], 8);
    char p[600];
    ck_assert_str_eq(file, tpath(p, sizeof p, sharded ? SHARD2 : "model.safetensors"));
    t = ckpt_find(ck, T_Q, &file);
    ck_assert_str_eq(file, tpath(p, sizeof p, sharded ? SHARD1 : "model.safetensors"));
    for (int64_t k = 0; k < 16; k++)
        ck_assert(dtype_load(t->data, DT_BF16, (size_t)k) == dtype_load((uint16_t[]){ f32_to_bf16((float)value(k)) }, DT_BF16, 0));
    ck_assert_ptr_null(ckpt_find(ck, "model.layers.1.self_attn.q_proj.weight", NULL));
    ck_assert_ptr_null(ckpt_find(ck, "", NULL));
    int seen = 0;
    for (int i = 0; i < ckpt_tensor_count(ck); i++) {
        const HostTensor *u = ckpt_tensor(ck, i, &file);
        ck_assert_ptr_eq(ckpt_find(ck, u->name, NULL), u);
        seen++;
    }
    ck_assert_int_eq(seen, 5);
    ck_assert_ptr_null(ckpt_tensor(ck, 5, NULL));
    ck_assert_ptr_null(ckpt_tensor(ck, -1, NULL));
}

START_TEST(test_single)
{
    make_tmpdir();
    make_base(B_SINGLE);
    Checkpoint *ck;
    CkptError err;
    ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == 0, "%s", err.msg);
    check_tiny(ck, false);
    ckpt_close(ck);
    /* a trailing slash is the same directory */
    char p[600];
    snprintf(p, sizeof p, "%s/", tmpdir);
    ck_assert_msg(ckpt_open(p, &ck, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(ckpt_dir(ck), tmpdir);
    ckpt_close(ck);
    /* the file alone: weights only */
    ck_assert_msg(ckpt_open(tpath(p, sizeof p, "model.safetensors"), &ck, &err) == 0, "%s", err.msg);
    ck_assert_ptr_null(ckpt_config(ck));
    ck_assert_int_eq(ckpt_bos_token_id(ck), -1);
    ck_assert_int_eq(ckpt_eos_token_ids(ck, NULL), 0);
    ck_assert_int_eq(ckpt_torch_dtype(ck), DT_NONE);
    ck_assert_int_eq(ckpt_max_position_embeddings(ck), -1);
    ck_assert_int_eq(ckpt_tensor_count(ck), 5);
    ck_assert_str_eq(ckpt_dir(ck), tmpdir);
    ckpt_close(ck);
    ckpt_close(NULL);
    remove_tmpdir();
}
END_TEST

START_TEST(test_sharded)
{
    make_tmpdir();
    make_base(B_SHARDED);
    /* stray files HF ignores: a consolidated copy, a stale shard */
    write_st("consolidated.safetensors", S_Q);
    write_text("model-00003-of-00003.safetensors", "junk");
    Checkpoint *ck;
    CkptError err;
    ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == 0, "%s", err.msg);
    check_tiny(ck, true);
    ckpt_close(ck);
    char p[600];
    ck_assert_msg(ckpt_open(tpath(p, sizeof p, "model.safetensors.index.json"), &ck, &err) == 0, "%s", err.msg);
    ck_assert_ptr_null(ckpt_config(ck));
    ck_assert_int_eq(ckpt_tensor_count(ck), 5);
    ckpt_close(ck);
    /* model.safetensors, when present, is preferred (as transformers does) */
    write_st("model.safetensors", S_NORM);
    ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ckpt_tensor_count(ck), 1);
    ckpt_close(ck);
    remove_tmpdir();
}
END_TEST

/* config fields: absent, null, lists, the newer "dtype" key */
START_TEST(test_config_fields)
{
    make_tmpdir();
    make_base(B_SINGLE);
    remove(tpath((char[600]){ 0 }, 600, "generation_config.json"));
    write_text("config.json", "{\"bos_token_id\": null, \"eos_token_id\": [128001, 128008, 128009, 128001],"
                              " \"dtype\": \"float16\", \"max_position_embeddings\": null, \"extra\": {\"x\": [1]}}");
    Checkpoint *ck;
    CkptError err;
    ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == 0, "%s", err.msg);
    ck_assert_ptr_null(ckpt_generation_config(ck));
    ck_assert_int_eq(ckpt_bos_token_id(ck), -1);
    const int64_t *eos;
    ck_assert_int_eq(ckpt_eos_token_ids(ck, &eos), 3);
    ck_assert_int_eq(eos[2], 128009);
    ck_assert_int_eq(ckpt_torch_dtype(ck), DT_F16);
    ck_assert_int_eq(ckpt_max_position_embeddings(ck), -1);
    const CkptSampling *s = ckpt_sampling(ck);
    ck_assert(!s->has_temperature && !s->has_top_p && !s->has_top_k && !s->has_do_sample);
    ckpt_close(ck);
    write_text("generation_config.json", "{\"top_k\": 50, \"eos_token_id\": 7, \"bos_token_id\": null}");
    write_text("config.json", "{\"bos_token_id\": 3, \"torch_dtype\": \"float32\"}");
    ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ckpt_bos_token_id(ck), 3);
    ck_assert_int_eq(ckpt_eos_token_ids(ck, &eos), 1);
    ck_assert_int_eq(eos[0], 7);
    ck_assert_int_eq(ckpt_torch_dtype(ck), DT_F32);
    ck_assert(ckpt_sampling(ck)->has_top_k && ckpt_sampling(ck)->top_k == 50);
    ckpt_close(ck);
    remove_tmpdir();
}
END_TEST

/* Thousands of tensors over several shards: every one is found. */
START_TEST(test_many_tensors)
{
    enum { NS = 3, PER = 60, NT = NS * PER };
    make_tmpdir();
    write_text("config.json", "{}");
    char *index = malloc(NT * 100 + 100);
    size_t o = (size_t)sprintf(index, "{\"weight_map\": {");
    for (int s = 0; s < NS; s++) {
        char spec[PER * 48], file[64];
        size_t so = 0;
        snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", s + 1, NS);
        for (int i = 0; i < PER; i++) {
            int id = s * PER + i;
            so += (size_t)sprintf(spec + so, "%sblk.%d.w:F32:%d", i ? ";" : "", id, 1 + id % 5);
            o += (size_t)sprintf(index + o, "%s\"blk.%d.w\": \"%s\"", id ? ", " : "", id, file);
        }
        write_st(file, spec);
    }
    sprintf(index + o, "}}");
    write_text("model.safetensors.index.json", index);
    free(index);
    Checkpoint *ck;
    CkptError err;
    ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ckpt_tensor_count(ck), NT);
    CkptExpect *want = calloc(NT, sizeof *want);
    char (*names)[32] = calloc(NT, 32);
    for (int id = 0; id < NT; id++) {
        snprintf(names[id], 32, "blk.%d.w", id);
        const HostTensor *t = ckpt_find(ck, names[id], NULL);
        ck_assert_msg(t != NULL, "%s not found", names[id]);
        ck_assert_int_eq(t->shape[0], 1 + id % 5);
        want[id] = (CkptExpect){ .name = names[id], .rank = 1, .shape = { 1 + id % 5 }, .need_float = true };
    }
    CkptReport rep;
    ck_assert_int_eq(ckpt_validate(ck, want, NT, &rep), 0);
    ck_assert_int_eq(rep.missing + rep.bad_shape + rep.bad_dtype + rep.unused, 0);
    ckpt_report_free(&rep);
    free(want);
    free(names);
    ckpt_close(ck);
    remove_tmpdir();
}
END_TEST

/* ---- validation ---- */

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

START_TEST(test_validate)
{
    make_tmpdir();
    make_base(B_SINGLE);
    write_st("model.safetensors", S_EMBED ";" S_Q ";" S_NORM ";" S_HEAD ";" S_ROT
             ";model.layers.0.mlp.gate_proj.weight:I32:4x4;model.layers.0.mlp.up_proj.weight:F8_E4M3:4x4"
             ";model.layers.0.mlp.down_proj.weight:F64:4x4;position_ids:I64:4");
    Checkpoint *ck;
    CkptError err;
    ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == 0, "%s", err.msg);
    char file[600];
    tpath(file, sizeof file, "model.safetensors");
    CkptExpect ok[] = {
        { T_EMBED, 2, { 8, 4 }, true }, { T_Q, 2, { 4, 4 }, true }, { T_NORM, 1, { 4 }, true },
        { T_EMBED, 2, { 8, 4 }, true },    /* tied: the same tensor twice */
        { T_HEAD, 2, { 8, 4 }, true },
        { "model.layers.0.mlp.gate_proj.weight", 2, { 4, 4 }, false },   /* any dtype */
        { "model.layers.0.mlp.up_proj.weight", 2, { 4, 4 }, false },
        { "model.layers.0.mlp.down_proj.weight", 2, { 4, 4 }, false },
        { "position_ids", 1, { 4 }, false },
    };
    CkptReport rep;
    ck_assert_int_eq(ckpt_validate(ck, ok, 9, &rep), 0);
    ck_assert_int_eq(rep.unused, 1);
    ck_assert_int_eq(count_lines(rep.text), 1);
    char want[900];
    snprintf(want, sizeof want, "%s: warning: tensor '" T_ROT "' is not used by the model\n", file);
    ck_assert_str_eq(rep.text, want);
    ckpt_report_free(&rep);

    CkptExpect bad[] = {
        { T_EMBED, 2, { 8, 4 }, true },
        { "model.layers.1.self_attn.q_proj.weight", 2, { 4, 4 }, true },   /* missing */
        { T_Q, 2, { 4, 8 }, true },                                        /* shape */
        { T_NORM, 2, { 4, 1 }, true },                                     /* rank */
        { "model.layers.0.mlp.gate_proj.weight", 2, { 4, 4 }, true },      /* I32 */
        { "model.layers.0.mlp.up_proj.weight", 2, { 4, 4 }, true },        /* F8 */
        { "model.layers.0.mlp.down_proj.weight", 3, { 4, 4, 1 }, true },   /* F64 and shape */
        { "model.layers.1.self_attn.q_proj.weight", 2, { 4, 4 }, true },   /* repeated: once */
        { "lm_head.bias", 1, { 8 }, false },                               /* missing */
        { T_Q, 2, { 4, 8 }, true },                                        /* repeated: once */
    };
    ck_assert_int_eq(ckpt_validate(ck, bad, 10, &rep), -1);
    ck_assert_int_eq(rep.missing, 2);
    ck_assert_int_eq(rep.bad_shape, 3);
    ck_assert_int_eq(rep.bad_dtype, 3);
    ck_assert_int_eq(rep.unused, 3);       /* inv_freq, lm_head.weight, position_ids */
    ck_assert_int_eq(count_lines(rep.text), 11);
    char dirs[8][900];
    snprintf(dirs[0], 900, "%s: error: missing tensor 'model.layers.1.self_attn.q_proj.weight' (the model expects shape [4, 4])", file);
    snprintf(dirs[1], 900, "%s: error: tensor '" T_Q "' has shape [4, 4]; the model expects [4, 8]", file);
    snprintf(dirs[2], 900, "%s: error: tensor '" T_NORM "' has shape [4]; the model expects [4, 1]", file);
    snprintf(dirs[3], 900, "%s: error: tensor 'model.layers.0.mlp.gate_proj.weight' has dtype I32; weights must be F32, F16 or BF16", file);
    snprintf(dirs[4], 900, "%s: error: tensor 'model.layers.0.mlp.up_proj.weight' has dtype F8_E4M3", file);
    snprintf(dirs[5], 900, "%s: error: tensor 'model.layers.0.mlp.down_proj.weight' has dtype F64", file);
    snprintf(dirs[6], 900, "%s: error: missing tensor 'lm_head.bias' (the model expects shape [8])", file);
    snprintf(dirs[7], 900, "%s: warning: tensor '" T_HEAD "' is not used by the model", file);
    for (int i = 0; i < 8; i++) ck_assert_msg(strstr(rep.text, dirs[i]) != NULL, "report lacks '%s':\n%s", dirs[i], rep.text);
    ck_assert_ptr_null(strstr(rep.text, "'" T_EMBED "'"));
    /* errors come before warnings */
    ck_assert(strstr(rep.text, "warning") > strstr(rep.text, "missing tensor 'lm_head.bias'"));
    ckpt_report_free(&rep);
    ckpt_close(ck);

    /* sharded: a missing tensor is reported against the index, others against their shard */
    make_base(B_SHARDED);
    remove(tpath(file, sizeof file, "model.safetensors"));
    ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == 0, "%s", err.msg);
    CkptExpect sh[] = { { "nope", 0, { 0 }, true }, { T_HEAD, 2, { 4, 8 }, true } };
    ck_assert_int_eq(ckpt_validate(ck, sh, 2, &rep), -1);
    snprintf(want, sizeof want, "%s/model.safetensors.index.json: error: missing tensor 'nope' (the model expects shape [])\n"
             "%s/" SHARD2 ": error: tensor '" T_HEAD "' has shape [8, 4]; the model expects [4, 8]\n", tmpdir, tmpdir);
    ck_assert_msg(strncmp(rep.text, want, strlen(want)) == 0, "got:\n%s", rep.text);
    ck_assert_int_eq(rep.unused, 4);
    ckpt_report_free(&rep);
    ckpt_report_free(NULL);
    ckpt_close(ck);
    remove_tmpdir();
}
END_TEST

/* ---- loading ---- */

/* The naive reference: output element o reads source element by the
 * permuted strides; one rounding via double. */
static void ref_permute(void *dst, DType dt, const void *src, DType st, int r, const int64_t *shape, const int *perm)
{
    int64_t n = 1, stride[CKPT_MAX_RANK], oshape[CKPT_MAX_RANK], idx[CKPT_MAX_RANK] = { 0 };
    for (int a = r - 1; a >= 0; a--) { stride[a] = n; n *= shape[a]; }
    for (int a = 0; a < r; a++) oshape[a] = shape[perm[a]];
    for (int64_t o = 0; o < n; o++) {
        int64_t s = 0;
        for (int a = 0; a < r; a++) s += idx[a] * stride[perm[a]];
        dtype_store(dst, dt, (size_t)o, dtype_load(src, st, (size_t)s));
        for (int a = r - 1; a >= 0; a--) { if (++idx[a] < oshape[a]) break; idx[a] = 0; }
    }
}

typedef struct PermCase { int rank; int64_t shape[5]; int perm[5]; } PermCase;

static const PermCase perm_cases[] = {
    { 0, { 0 }, { 0 } },
    { 1, { 37 }, { 0 } },
    { 2, { 67, 131 }, { 0, 1 } },
    { 2, { 67, 131 }, { 1, 0 } },            /* tiled transpose, ragged tiles */
    { 2, { 128, 64 }, { 1, 0 } },            /* whole tiles */
    { 2, { 1, 50 }, { 1, 0 } },              /* size-1 axis: a plain copy */
    { 3, { 5, 67, 70 }, { 0, 2, 1 } },       /* batched transpose */
    { 3, { 4, 6, 5 }, { 1, 0, 2 } },         /* inner axis kept */
    { 3, { 4, 6, 5 }, { 2, 1, 0 } },
    { 3, { 4, 6, 5 }, { 1, 2, 0 } },         /* merges to a 2-D transpose */
    { 3, { 4, 6, 5 }, { 2, 0, 1 } },         /* likewise */
    { 3, { 300, 3, 2 }, { 1, 0, 2 } },
    { 3, { 3, 300, 2 }, { 2, 1, 0 } },       /* strided gather, > 256 per line */
    { 4, { 3, 1, 4, 5 }, { 3, 2, 1, 0 } },
    { 4, { 2, 3, 4, 5 }, { 0, 2, 3, 1 } },
    { 4, { 2, 3, 4, 5 }, { 3, 1, 0, 2 } },
    { 5, { 2, 1, 3, 1, 4 }, { 4, 1, 2, 3, 0 } },
};

static const DType load_dtypes[] = { DT_F32, DT_F16, DT_BF16, DT_F64, DT_F8E4M3 };

START_TEST(test_copy_permuted)
{
    const PermCase *pc = &perm_cases[_i];
    int64_t n = 1;
    for (int a = 0; a < pc->rank; a++) n *= pc->shape[a];
    double *vals = malloc(sizeof(double) * (size_t)n);
    for (int64_t k = 0; k < n; k++) vals[k] = value(k) * (k % 7 == 0 ? 1e3 : 1);
    for (size_t si = 0; si < sizeof load_dtypes / sizeof load_dtypes[0]; si++)
        for (size_t di = 0; di < sizeof load_dtypes / sizeof load_dtypes[0]; di++) {
            DType st = load_dtypes[si], dt = load_dtypes[di];
            void *src = malloc((size_t)n * 8), *got = malloc((size_t)n * 8 + 1), *want = malloc((size_t)n * 8 + 1);
            for (int64_t k = 0; k < n; k++) dtype_store(src, st, (size_t)k, vals[k]);
            memset(got, 0xa5, (size_t)n * 8 + 1);
            memset(want, 0xa5, (size_t)n * 8 + 1);
            ref_permute(want, dt, src, st, pc->rank, pc->shape, pc->perm);
            ck_assert(ckpt_copy_permuted(got, dt, src, st, pc->rank, pc->shape, pc->perm));
            ck_assert_msg(memcmp(got, want, (size_t)n * dtype_size(dt) + 1) == 0,
                          "case %d: %s -> %s differs from the reference", _i, dtype_name(st), dtype_name(dt));
            free(src);
            free(got);
            free(want);
        }
    free(vals);
}
END_TEST

START_TEST(test_copy_permuted_invalid)
{
    float src[6] = { 0 }, dst[6];
    int64_t shape[2] = { 2, 3 }, neg[2] = { -1, 3 };
    ck_assert(!ckpt_copy_permuted(dst, DT_F32, src, DT_F32, 2, shape, (int[]){ 0, 0 }));
    ck_assert(!ckpt_copy_permuted(dst, DT_F32, src, DT_F32, 2, shape, (int[]){ 0, 2 }));
    ck_assert(!ckpt_copy_permuted(dst, DT_F32, src, DT_F32, 2, neg, NULL));
    ck_assert(!ckpt_copy_permuted(dst, DT_NONE, src, DT_F32, 2, shape, NULL));
    ck_assert(!ckpt_copy_permuted(dst, DT_F32, src, DT_COUNT, 2, shape, NULL));
    ck_assert(!ckpt_copy_permuted(dst, DT_F32, src, DT_F32, CKPT_MAX_RANK + 1, shape, NULL));
    ck_assert(ckpt_copy_permuted(dst, DT_F32, src, DT_F32, 2, (int64_t[]){ 0, 3 }, (int[]){ 1, 0 }));
    ck_assert(ckpt_copy_permuted(dst, DT_F32, src, DT_F32, 2, shape, NULL));
}
END_TEST

START_TEST(test_load_tensor)
{
    make_tmpdir();
    make_base(B_SHARDED);
    Checkpoint *ck;
    CkptError err;
    ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == 0, "%s", err.msg);
    /* lm_head [8, 4] F16 -> [4, 8] bf16, as the plan's transpose(1, 0) */
    uint16_t got[32], want[32];
    const HostTensor *t = ckpt_find(ck, T_HEAD, NULL);
    ref_permute(want, DT_BF16, t->data, DT_F16, 2, (int64_t[]){ 8, 4 }, (int[]){ 1, 0 });
    ck_assert_msg(ckpt_load_tensor(ck, T_HEAD, 2, (int64_t[]){ 8, 4 }, (int[]){ 1, 0 }, got, DT_BF16, &err) == 0,
                  "%s", err.msg);
    ck_assert_mem_eq(got, want, sizeof got);
    float f[4];
    ck_assert_int_eq(ckpt_load_tensor(ck, T_NORM, 1, (int64_t[]){ 4 }, NULL, f, DT_F32, &err), 0);
    for (int k = 0; k < 4; k++) ck_assert(f[k] == (float)value(k));

    char p[600], s1[600];
    tpath(p, sizeof p, SHARD2);
    tpath(s1, sizeof s1, "model.safetensors.index.json");
    ck_assert_int_eq(ckpt_load_tensor(ck, T_HEAD, 2, (int64_t[]){ 4, 8 }, (int[]){ 1, 0 }, got, DT_BF16, &err), -1);
    const char *w1[] = { "tensor '" T_HEAD "' has shape [8, 4]; the model expects [4, 8]" };
    assert_msg(err.msg, p, w1, 1);
    ck_assert_int_eq(ckpt_load_tensor(ck, T_HEAD, 1, (int64_t[]){ 32 }, NULL, got, DT_BF16, &err), -1);
    assert_msg(err.msg, p, w1, 0);
    ck_assert_int_eq(ckpt_load_tensor(ck, T_HEAD, 2, (int64_t[]){ 8, 4 }, (int[]){ 1, 1 }, got, DT_BF16, &err), -1);
    const char *w2[] = { "tensor '" T_HEAD "': (1, 1) is not a permutation of its 2 axes" };
    assert_msg(err.msg, p, w2, 1);
    ck_assert_int_eq(ckpt_load_tensor(ck, "lm_head.bias", 1, (int64_t[]){ 8 }, NULL, got, DT_BF16, &err), -1);
    const char *w3[] = { "no tensor 'lm_head.bias' in the checkpoint" };
    assert_msg(err.msg, s1, w3, 1);
    ck_assert_int_eq(ckpt_load_tensor(ck, T_HEAD, 2, (int64_t[]){ 8, 4 }, NULL, got, DT_NONE, &err), -1);
    const char *w4[] = { "tensor '" T_HEAD "': invalid destination dtype" };
    assert_msg(err.msg, p, w4, 1);
    ckpt_close(ck);
    /* integer tensors are not weights */
    write_st(SHARD2, S_NORM ";" S_HEAD ";" T_ROT ":I32:2");
    ck_assert_msg(ckpt_open(tmpdir, &ck, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ckpt_load_tensor(ck, T_ROT, 1, (int64_t[]){ 2 }, NULL, f, DT_F32, &err), -1);
    const char *w5[] = { "tensor '" T_ROT "' has dtype I32; a float dtype is expected" };
    assert_msg(err.msg, p, w5, 1);
    ckpt_close(ck);
    ck_assert_int_eq(ckpt_load_tensor(NULL, T_ROT, 1, (int64_t[]){ 2 }, NULL, f, DT_F32, &err), -1);
    remove_tmpdir();
}
END_TEST

/* A large transpose (1000 x 2051, bf16 -> bf16 and bf16 -> f32): the
 * tiled path against a plain loop. */
START_TEST(test_load_large)
{
    enum { M = 1000, N = 2051 };
    uint16_t *src = malloc(sizeof(uint16_t) * M * N), *got = malloc(sizeof(uint16_t) * M * N),
             *want = malloc(sizeof(uint16_t) * M * N);
    for (int64_t k = 0; k < (int64_t)M * N; k++) src[k] = f32_to_bf16((float)value(k));
    int64_t shape[2] = { M, N };
    ck_assert(ckpt_copy_permuted(got, DT_BF16, src, DT_BF16, 2, shape, (int[]){ 1, 0 }));
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) want[j * M + i] = src[i * N + j];
    ck_assert_mem_eq(got, want, sizeof(uint16_t) * M * N);
    float *f = malloc(sizeof(float) * M * N);
    ck_assert(ckpt_copy_permuted(f, DT_F32, src, DT_BF16, 2, shape, (int[]){ 1, 0 }));
    for (int64_t i = 0; i < M; i += 7)
        for (int64_t j = 0; j < N; j += 13) ck_assert(f[j * M + i] == bf16_to_f32(src[i * N + j]));
    free(f);
    free(src);
    free(got);
    free(want);
}
END_TEST

extern Suite *suite_checkpoint(void);
Suite *suite_checkpoint(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("open");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_loop_test(tc, test_bad_checkpoints, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_unreadable);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_single);
    tcase_add_test(tc, test_sharded);
    tcase_add_test(tc, test_config_fields);
    tcase_add_test(tc, test_many_tensors);
    tcase_add_test(tc, test_validate);
    suite_add_tcase(s, tc);
    tc = tcase_create("load");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_loop_test(tc, test_copy_permuted, 0, (int)(sizeof perm_cases / sizeof perm_cases[0]));
    tcase_add_test(tc, test_copy_permuted_invalid);
    tcase_add_test(tc, test_load_tensor);
    tcase_add_test(tc, test_load_large);
    suite_add_tcase(s, tc);
    return s;
}
