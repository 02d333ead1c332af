/* tokenizer_impl.h - the inside of a Tokenizer, shared by tokenizer.c
 * (loading), tokenizer_encode.c and tokenizer_decode.c.  Not a public
 * header: only the three tokenizer sources include it.
 *
 * A loaded tokenizer is a set of flat tables plus three small "programs"
 * (normalizer, pre-tokenizer and decoder steps) that mirror the
 * tokenizer.json pipeline one to one.  Every string it holds (vocabulary
 * entries, added tokens, step arguments) lives in one chunked string pool
 * owned by the Tokenizer; the hash tables point into it.  Regexes are
 * compiled PCRE2 codes owned by the step that uses them.  Nothing is
 * modified after tok_load() returns, so encoding and decoding only read it.
 */
#ifndef UEAJ_TOKENIZER_IMPL_H
#define UEAJ_TOKENIZER_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "tokenizer.h"

#define TOK_MAX_IDS (1 << 24)          /* ids at or above this are refused at load */
/* Limits that keep a hostile tokenizer.json from hanging or exhausting
 * memory (real files are far inside them: LLaMA 2 has 5 steps, LLaMA 3 3):
 * at most TOK_MAX_STEPS normalizer, pre-tokenizer and decoder steps each
 * (nested Sequences flattened; the streaming decoder recurses once per
 * decoder step), refused at load; the normalizer and pre-tokenizer may
 * make a text at most TOK_MAX_GROWTH times (plus TOK_GROWTH_SLACK bytes)
 * longer, checked while encoding (a chain of Replace "a" -> "aaaa" steps
 * grows it exponentially); the decoder's Replace steps may together make
 * one at most TOK_MAX_GROWTH times longer, refused at load (their content
 * and pattern lengths bound it). */
#define TOK_MAX_STEPS 64
#define TOK_MAX_GROWTH 64
#define TOK_GROWTH_SLACK 4096

/* ---- growable byte buffer (malloc'd; sticky out-of-memory flag) ---------- */
typedef struct TBuf { char *p; size_t len, cap; int oom; } TBuf;
void tok_buf_put(TBuf *b, const void *s, size_t n);       /* keeps p NUL-terminated */
void tok_buf_putc(TBuf *b, char c);
void tok_buf_free(TBuf *b);

/* ---- hash tables --------------------------------------------------------- */
/* string -> id, open addressing; keys point into the pool. */
typedef struct StrSlot { const char *s; uint32_t len; int32_t id; } StrSlot;
typedef struct StrMap { StrSlot *slots; uint32_t mask, count; } StrMap;
/* (left id, right id) -> (merge rank, merged id). key 0 means empty. */
typedef struct PairSlot { uint64_t key; int32_t rank, id; } PairSlot;
typedef struct PairMap { PairSlot *slots; uint32_t mask, count; } PairMap;

int32_t tok_strmap_get(const StrMap *m, const char *s, size_t len);          /* -1 if absent */
const PairSlot *tok_pairmap_get(const PairMap *m, int32_t a, int32_t b);     /* NULL if absent */

/* ---- patterns (what Split, Replace and friends search for) --------------- */
enum { PAT_NONE, PAT_REGEX, PAT_LITERAL, PAT_DIGIT, PAT_CHAR, PAT_SPACE };
typedef struct TokPattern {
    int kind;
    pcre2_code *re;            /* PAT_REGEX (owned) */
    const char *lit;           /* PAT_LITERAL (pool) */
    size_t litlen;
    uint32_t cp;               /* PAT_CHAR */
} TokPattern;

/* HuggingFace's SplitDelimiterBehavior */
enum { SPLIT_REMOVED, SPLIT_ISOLATED, SPLIT_MERGED_PREV, SPLIT_MERGED_NEXT, SPLIT_CONTIGUOUS };
enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };

enum { NORM_PREPEND, NORM_REPLACE, NORM_STRIP };
typedef struct NormStep {
    int kind;
    TokPattern pat;            /* NORM_REPLACE */
    const char *s;             /* NORM_PREPEND / NORM_REPLACE content (pool) */
    size_t slen;
    int left, right;           /* NORM_STRIP */
} NormStep;

enum { PRE_SPLIT, PRE_BYTELEVEL, PRE_METASPACE };
typedef struct PreStep {
    int kind;
    TokPattern pat;            /* PRE_SPLIT, and PRE_BYTELEVEL's GPT-2 regex (use_regex) */
    int behavior, invert;      /* PRE_SPLIT */
    int add_prefix_space;      /* PRE_BYTELEVEL */
    uint32_t repl;             /* PRE_METASPACE replacement character */
    int prepend, split;        /* PRE_METASPACE */
} PreStep;

enum { DEC_BYTELEVEL, DEC_REPLACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP, DEC_METASPACE };
typedef struct DecStep {
    int kind;
    const char *pat, *content; /* DEC_REPLACE (pool); pat non-empty */
    size_t patlen, contentlen;
    uint32_t cp;               /* DEC_STRIP content char, DEC_METASPACE replacement */
    size_t start, stop;        /* DEC_STRIP */
    int prepend;               /* DEC_METASPACE */
} DecStep;

typedef struct AddedTok {
    const char *s;             /* content (pool) */
    uint32_t len;
    int32_t id;
    uint8_t special, lstrip, rstrip, normalized, single_word;
} AddedTok;

/* id_flags bits */
enum { TF_SPECIAL = 1, TF_ADDED = 2 };

typedef struct PoolChunk PoolChunk;

struct Tokenizer {
    char *path;                /* the tokenizer.json path, for messages */
    PoolChunk *pool;
    int32_t n_ids;             /* 1 + the largest id */
    const char **id_str;       /* [n_ids], NULL for an id without a token */
    uint32_t *id_len;
    uint8_t *id_flags;
    StrMap vocab;              /* the model's vocabulary */
    PairMap merges;
    int byte_fallback, fuse_unk, ignore_merges;
    int32_t unk_id;            /* -1 if none */
    const char *cs_prefix, *eow_suffix;   /* NULL if none */
    size_t cs_prefix_len, eow_suffix_len;
    AddedTok *added;           /* n_added, in file order */
    uint32_t n_added;
    /* Added-token matcher, one per set (0: matched in the raw text,
     * 1: normalized = true, matched after normalization): order[set] lists
     * added-token indices sorted by first byte, longest first;
     * first[set][c]..first[set][c+1] is the range starting with byte c. */
    uint32_t *order[2];
    uint32_t first[2][257];
    NormStep *norm; int n_norm;
    PreStep *pre; int n_pre;
    DecStep *dec; int n_dec;
    int has_decoder;           /* 0: decode joins tokens with " " */
    int32_t bos;               /* -1 if none */
    int32_t *eos; size_t n_eos;
    int32_t *def_prefix, *def_suffix;     /* TOK_ADD_DEFAULT ids */
    size_t n_def_prefix, n_def_suffix;
    int cleanup_default;
};

/* ---- shared helpers (tokenizer.c) ----------------------------------------- */
int tok_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Length of the valid UTF-8 sequence at s[0..n), 0 if it is invalid or
 * truncated; the code point goes to *cp. */
int tok_utf8_dec(const unsigned char *s, size_t n, uint32_t *cp);
int tok_utf8_enc(uint32_t cp, char out[4]);
int tok_is_space(uint32_t cp);                  /* Rust's char::is_whitespace */
uint32_t tok_bytelevel_cp(unsigned byte);           /* GPT-2's bytes_to_unicode */
int tok_bytelevel_byte(uint32_t cp);                /* its inverse, -1 if unmapped */
/* Finds the next match of pat in s[from..n): 1 and [*ms, *me) if found,
 * 0 if none, -1 on a regex engine error (message in err).  md may be NULL
 * for non-regex patterns. */
int tok_pattern_find(const TokPattern *pat, const char *s, size_t n, size_t from,
                 pcre2_match_data *md, size_t *ms, size_t *me, char *err, size_t errlen);

#endif
