/* fuzz_tokenizer.c - bytes as a tokenizer directory into tok_load
 * (runtime/tokenizer*.c), then encoding and decoding with what loaded.
 *
 * The input, cut at NUL bytes, is tokenizer.json, then (optionally)
 * tokenizer_config.json and generation_config.json: tok_load reads all
 * three, and the runtime reads tokenizer_config.json a second time with
 * chat_config_load.  Every input must load or give a message naming the
 * file, never a crash, a leak, undefined behaviour, a hang or a huge
 * allocation.  A tokenizer that loads encodes fixed texts (ASCII, UTF-8,
 * whitespace, special-token markup, the start of the input itself; invalid
 * UTF-8 must be refused) under each flag, and decodes the ids back, all at
 * once and streaming: the streamed pieces must add up to tok_decode's text
 * (tokenizer.h's promise).  Every id's piece is decoded the same way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "chat.h"
#include "tokenizer.h"
#include "fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tok_decode of ids, and the same through a TokStream: equal. */
static void decode(const Tokenizer *t, const int32_t *ids, size_t n, unsigned flags)
{
    char err[512];
    char *text = NULL;
    size_t len = 0;
    if (tok_decode(t, ids, n, flags, &text, &len, err, sizeof err) != 0) {
        for (size_t i = 0; i < n; i++)
            if (!tok_piece(t, ids[i], NULL)) return;     /* an id without a token: refused */
        abort();
    }
    char *cleaned = NULL;
    if (tok_decode(t, ids, n, flags | TOK_CLEANUP, &cleaned, NULL, err, sizeof err) != 0) abort();
    free(cleaned);
    TokStream *s = tok_stream_new(t, flags, err, sizeof err);
    if (!s) abort();
    char *acc = malloc(len + 1);
    size_t got = 0;
    int bad = !acc;
    for (size_t i = 0; i <= n && !bad; i++) {
        const char *piece;
        size_t pl;
        int rc = i < n ? tok_stream_put(s, ids[i], &piece, &pl, err, sizeof err) : tok_stream_finish(s, &piece, &pl);
        if (rc != 0 || pl > len - got) { bad = 1; break; }
        memcpy(acc + got, piece, pl);
        got += pl;
    }
    if (bad || got != len || memcmp(acc, text, len)) abort();
    free(acc);
    tok_stream_free(s);
    free(text);
}

static void encode(const Tokenizer *t, const char *s, size_t len)
{
    static const unsigned flags[] = { 0, TOK_ADD_DEFAULT, TOK_SPECIAL_AS_TEXT, TOK_ADD_BOS | TOK_ADD_EOS };
    char err[512];
    for (size_t f = 0; f < sizeof flags / sizeof *flags; f++) {
        int32_t *ids = NULL;
        size_t n = 0;
        if (tok_encode_ex(t, s, len, flags[f], &ids, &n, err, sizeof err) == 0) {
            for (size_t i = 0; i < n; i++)
                if (ids[i] < 0 || ids[i] >= tok_vocab_size(t)) abort();
            decode(t, ids, n, 0);
            decode(t, ids, n, TOK_SKIP_SPECIAL);
        } else if (strncmp(err, "tokenizer: error: ", 18) != 0) {
            abort();
        }
        free(ids);
    }
}

static int valid_utf8_prefix(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] && p[i] < 0x80) i++;              /* ASCII is enough here */
    return (int)i;
}

static void exercise(const Tokenizer *t, const uint8_t *data, size_t size)
{
    static const char *texts[] = {
        "Hello world! The quick brown fox, 12345 + 67 = 12412.",
        "h\xC3\xA9llo w\xC3\xB6rld \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\xA6\x99",
        "  leading\n\n\ttabs  and   spaces   \r\n",
        "<s>[INST] hi [/INST]</s><|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>",
        "<unk><0x0A>\xE2\x96\x81\xE2\x96\x81 \xC4\xA0the",
        "",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) encode(t, texts[i], strlen(texts[i]));
    encode(t, (const char *)data, (size_t)valid_utf8_prefix(data, size < 300 ? size : 300));
    /* invalid UTF-8 is refused, with a message */
    int32_t *ids = NULL;
    size_t n = 0;
    char err[512];
    if (tok_encode(t, "ok \xFF\xFE", 5, 0, &ids, &n, err, sizeof err) == 0) abort();
    free(ids);
    /* every token, decoded alone and all together */
    int32_t nv = tok_vocab_size(t);
    if (nv <= 0) abort();
    size_t m = nv < 512 ? (size_t)nv : 512, k = 0;
    int32_t *all = malloc(m * sizeof *all);
    if (!all) return;
    for (int32_t id = 0; id < (int32_t)m; id++) {
        const char *p = tok_piece(t, id, NULL);
        if (!p) continue;
        if (tok_find(t, p) < 0) abort();
        all[k++] = id;
        decode(t, &id, 1, 0);
    }
    decode(t, all, k, 0);
    decode(t, all, k, TOK_SKIP_SPECIAL);
    free(all);
    (void)tok_bos(t);
    size_t ne;
    const int32_t *eos = tok_eos_ids(t, &ne);
    for (size_t i = 0; i < ne; i++)
        if (!tok_is_eos(t, eos[i]) || !tok_piece(t, eos[i], NULL)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[3];
    size_t len[3];
    int np = fz_split(data, size, part, len, 3);
    char dir[256];
    if (fz_tmpdir(dir)) return 0;
    static const char *names[3] = { "tokenizer.json", "tokenizer_config.json", "generation_config.json" };
    for (int i = 0; i < np; i++)
        if (fz_write(dir, names[i], part[i], len[i])) goto out;
    char err[1024];
    Tokenizer *t = tok_load(dir, err, sizeof err);
    if (t) {
        exercise(t, part[0], len[0]);
        tok_free(t);
    } else if (!strstr(err, dir)) {
        abort();                                    /* the message names the file */
    }
    if (np > 1) {
        char path[300];
        snprintf(path, sizeof path, "%s/%s", dir, names[1]);
        ChatConfig cc;
        if (chat_config_load(path, &cc, err, sizeof err) == 0) chat_config_free(&cc);
        else if (!strstr(err, path)) abort();
    }
out:
    fz_rmdir(dir);
    return 0;
}
