/* tokenizer.h - HuggingFace tokenizer.json tokenizers (BPE) for LLaMA-family
 * models: encoding text to token ids, decoding ids to text, and streaming
 * decoding of generated ids.
 *
 * What is supported (anything else is refused at load time with an error
 * naming the file and the JSON path):
 *   model        BPE (vocab + merges as "a b" strings or ["a", "b"] pairs,
 *                byte_fallback, unk_token/fuse_unk, ignore_merges,
 *                continuing_subword_prefix, end_of_word_suffix);
 *   normalizer   Sequence, Prepend, Replace (String or Regex), Strip;
 *   pre_tokenizer Sequence, Split (String or Regex, every behavior, invert),
 *                ByteLevel (add_prefix_space, use_regex), Metaspace,
 *                Digits, Whitespace, WhitespaceSplit;
 *   decoder      Sequence, ByteLevel, Replace (String), ByteFallback, Fuse,
 *                Strip, Metaspace; no decoder joins tokens with spaces;
 *   added_tokens special/lstrip/rstrip/normalized/single_word flags.
 * Regexes are PCRE2 with UTF and UCP, so \p{L}, \p{N}, \s behave like the
 * Oniguruma regexes HuggingFace uses for these patterns.
 * tokenizer_config.json beside tokenizer.json (optional) supplies bos_token,
 * eos_token, add_bos_token, add_eos_token, clean_up_tokenization_spaces and
 * added_tokens_decoder; generation_config.json (optional) more EOS ids.
 *
 * Errors: functions returning int give 0 on success and -1 on failure;
 * functions returning pointers give NULL on failure.  The message goes to
 * err (errlen bytes, always NUL-terminated, may be NULL) in the form
 * "PATH: error: MESSAGE" for load errors (with the JSON path, e.g.
 * "$.model.merges[12]", where one applies) and "tokenizer: error: MESSAGE"
 * for encode/decode errors.  Nothing here exits or prints.
 *
 * Ownership and threads: a Tokenizer is immutable after tok_load(); any
 * number of threads may encode and decode with it at once.  Output arrays
 * and strings are malloc'd and owned by the caller (free()).  A TokStream
 * belongs to one thread and must be freed before its Tokenizer.
 */
#ifndef UEAJ_TOKENIZER_H
#define UEAJ_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct Tokenizer Tokenizer;
typedef struct TokStream TokStream;

/* Loads PATH: a tokenizer.json file, or a directory holding one (then
 * tokenizer_config.json and generation_config.json are read from the same
 * directory too, as they are beside a file).  Llama 3's 9 MB file loads in
 * 70-120 ms.
 * The files' behaviour is tokenizer.json's, as in HF's fast tokenizers:
 * LLaMA 2's "legacy" mode is its Prepend normalizer (each text segment
 * between added tokens gets a "▁"), the non-legacy variant a Metaspace
 * pre-tokenizer with prepend_scheme "first"; the config's `legacy` flag
 * itself is not read. */
Tokenizer *tok_load(const char *path, char *err, size_t errlen);
void tok_free(Tokenizer *t);                     /* NULL is fine */

/* ---- encoding -------------------------------------------------------- */

/* Flags for tok_encode_ex. */
enum {
    TOK_ADD_BOS      = 1u << 0,   /* prepend the BOS token (error if there is none) */
    TOK_ADD_EOS      = 1u << 1,   /* append the first EOS token (error if none) */
    TOK_ADD_DEFAULT  = 1u << 2,   /* BOS/EOS as the tokenizer adds them by default
                                     (add_bos_token/add_eos_token, else the
                                     post-processor's template) */
    TOK_SPECIAL_AS_TEXT = 1u << 3 /* do not match special added tokens in the
                                     text; encode "<s>" as ordinary text (for
                                     untrusted input) */
};

/* Encodes len bytes of UTF-8 text (may contain NUL bytes).  Added tokens
 * in the text are matched first (longest match) and never split.  *ids is
 * malloc'd (possibly for 0 ids), *n its length.  Invalid UTF-8 is an error. */
int tok_encode_ex(const Tokenizer *t, const char *text, size_t len, unsigned flags,
                  int32_t **ids, size_t *n, char *err, size_t errlen);
/* tok_encode_ex with TOK_ADD_BOS when add_bos is nonzero. */
int tok_encode(const Tokenizer *t, const char *text, size_t len, int add_bos,
               int32_t **ids, size_t *n, char *err, size_t errlen);

/* ---- decoding -------------------------------------------------------- */

enum {
    TOK_SKIP_SPECIAL = 1u << 0,   /* leave out special added tokens (<s>, <|eot_id|>) */
    TOK_CLEANUP      = 1u << 1    /* transformers' clean_up_tokenization_spaces:
                                     " ." -> "." etc. (tok_decode only) */
};

/* Decodes n ids with the tokenizer's decoder, as HuggingFace's
 * Tokenizer.decode does.  *text is malloc'd and NUL-terminated, *len its
 * length (the text may contain NUL bytes).  An id outside 0..vocab_size-1
 * or without a token is an error. */
int tok_decode(const Tokenizer *t, const int32_t *ids, size_t n, unsigned flags,
               char **text, size_t *len, char *err, size_t errlen);

/* Streaming decoder: feed generated ids one at a time; each call hands
 * back the text that is now final - only complete, valid UTF-8 (partial
 * multi-byte sequences and runs of byte-fallback tokens are held back
 * until they are complete).  The concatenation of everything put() and
 * finish() return equals tok_decode() of all the ids (flags: only
 * TOK_SKIP_SPECIAL).  *out points into the stream's buffer, is
 * NUL-terminated, and stays valid until the next call on the stream. */
TokStream *tok_stream_new(const Tokenizer *t, unsigned flags, char *err, size_t errlen);
int  tok_stream_put(TokStream *s, int32_t id, const char **out, size_t *outlen,
                    char *err, size_t errlen);
/* Flushes what is held back (an incomplete sequence becomes U+FFFD) and
 * resets the stream for a new text. */
int  tok_stream_finish(TokStream *s, const char **out, size_t *outlen);
void tok_stream_free(TokStream *s);

/* ---- vocabulary ------------------------------------------------------ */

int32_t tok_vocab_size(const Tokenizer *t);      /* 1 + the largest id */
int32_t tok_bos(const Tokenizer *t);             /* -1 if none */
/* The EOS ids: eos_token of the config, then those of
 * generation_config.json's eos_token_id; *n may be 0. */
const int32_t *tok_eos_ids(const Tokenizer *t, size_t *n);
int     tok_is_eos(const Tokenizer *t, int32_t id);
int     tok_is_special(const Tokenizer *t, int32_t id);
/* The id of an exact token string (added token or vocabulary entry), -1. */
int32_t tok_find(const Tokenizer *t, const char *piece);
/* The token string of an id as stored in the file (byte-level tokens in
 * their mapped form, e.g. "Ġthe"), NULL for an unknown id. */
const char *tok_piece(const Tokenizer *t, int32_t id, size_t *len);
/* tokenizer_config.json's clean_up_tokenization_spaces (0 when absent). */
int     tok_clean_up_default(const Tokenizer *t);

/* ---- the command line (runtime/tokenize_cli.c) ------------------------ */

/* `ueajc tokenize ...`; argv[0] is "tokenize".  Returns the exit status:
 * 0, 1 on an error, 2 on a usage error. */
int ueaj_tokenize_main(int argc, char **argv);

#endif
