/* fuzz_gguf.c - bytes as a GGUF file into gguf_open (runtime/gguf.c) and,
 * when it opens, into `ueajc convert` (runtime/convert.c).
 *
 * A GGUF file is downloaded from anywhere: every input must open or give a
 * message naming the file, never a crash, a leak, undefined behaviour or
 * an allocation beyond a small multiple of the file's size.  An opened
 * file is walked as a reader would: every key looked up, every value and
 * array element decoded, every tensor found by name and, where its type
 * allows, dequantized.  Then the file is converted into a HuggingFace
 * directory; a conversion that succeeds must give a directory the runtime
 * itself accepts: ckpt_open reads its config and weights, tok_load its
 * rebuilt tokenizer.json (which then encodes and decodes a text), and
 * chat_config_load its tokenizer_config.json. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "chat.h"
#include "checkpoint.h"
#include "convert.h"
#include "gguf.h"
#include "tokenizer.h"
#include "fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void value(const GgufValue *v, int depth)
{
    int64_t i;
    double f;
    (void)gguf_value_int(v, &i);
    (void)gguf_value_float(v, &f);
    const char *s = gguf_value_str(v);
    if (s && strlen(s) > v->v.str.len) abort();
    if (v->type == GGUF_VT_ARRAY) {
        if (depth > GGUF_MAX_NESTING) abort();
        GgufValue e;
        for (uint64_t k = 0; k < v->v.arr.n; k++) {
            if (!gguf_arr_get(v, k, &e)) abort();
            value(&e, depth + 1);
        }
        if (gguf_arr_get(v, v->v.arr.n, &e)) abort();
    }
}

static void walk(const GgufFile *g)
{
    for (int64_t i = 0; i < g->n_kv; i++) {
        if (gguf_get(g, g->kv[i].key) != &g->kv[i].value) abort();   /* keys are unique */
        value(&g->kv[i].value, 1);
    }
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const GgufTensor *t = &g->tensors[i];
        if (gguf_find_tensor(g, t->name) != t) abort();
        if (!gguf_can_dequantize(t->type)) continue;
        /* the product is checked at open; a partial one may not fit when an axis is 0: unsigned */
        int64_t n = (int64_t)((uint64_t)t->ne[0] * (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3]);
        float *y = malloc((size_t)n * sizeof *y + 1);
        if (y && !gguf_dequantize(t->type, t->data, y, n)) abort();
        free(y);
    }
}

static void convert(const char *path)
{
    char dir[256], out[300];
    if (fz_tmpdir(dir)) return;
    snprintf(out, sizeof out, "%s/model", dir);
    ConvertOptions opt = { DT_BF16, false };
    ConvertReport rep;
    TioError err;
    if (ueaj_convert_gguf(path, out, &opt, &rep, &err) == 0) {
        CkptError ce;
        Checkpoint *ck = NULL;
        if (ckpt_open(out, &ck, &ce) != 0) abort();
        ckpt_close(ck);
        char msg[1024];
        Tokenizer *tok = tok_load(out, msg, sizeof msg);
        if (!tok && !rep.tokenizer_verbatim) abort();
        if (tok) {
            static const char text[] = "Hello, world! 12345 h\xC3\xA9llo";
            int32_t *ids = NULL;
            size_t n = 0;
            char *back = NULL;
            if (tok_encode_ex(tok, text, sizeof text - 1, TOK_ADD_DEFAULT, &ids, &n, msg, sizeof msg) == 0)
                (void)tok_decode(tok, ids, n, TOK_SKIP_SPECIAL, &back, NULL, msg, sizeof msg);
            free(ids);
            free(back);
            tok_free(tok);
        }
        char cpath[400];
        snprintf(cpath, sizeof cpath, "%s/tokenizer_config.json", out);
        ChatConfig cc;
        if (chat_config_load(cpath, &cc, msg, sizeof msg) != 0) abort();
        chat_config_free(&cc);
    } else if (!strstr(err.msg, path) && !strstr(err.msg, out)) {
        abort();
    }
    fz_rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fz_memfd(data, size, path);
    if (fd < 0) return 0;
    GgufFile g;
    TioError err;
    if (gguf_open(path, &g, &err) == 0) {
        walk(&g);
        gguf_close(&g);
        convert(path);
    } else if (!strstr(err.msg, path)) {
        abort();
    }
    close(fd);
    return 0;
}
