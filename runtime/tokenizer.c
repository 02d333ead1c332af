/* tokenizer.c - loading HuggingFace tokenizer.json files (and the
 * tokenizer_config.json / generation_config.json beside them).
 *
 * A tokenizer.json is a JSON description of a pipeline: added tokens,
 * normalizer, pre-tokenizer, model (here BPE), post-processor, decoder.  We
 * parse it with cJSON, then copy out everything we need into flat tables,
 * and drop the JSON tree:
 *   - the vocabulary into an open-addressing hash table (string -> id) and
 *     an id -> string array; cJSON's object lookup is a linear scan, far too
 *     slow for 128k entries;
 *   - the merges into a second hash table keyed by the pair of token ids,
 *     giving (rank, merged id); both "a b" strings and ["a", "b"] pairs are
 *     accepted, as both exist in the wild.  Like HuggingFace we refuse a
 *     merge whose parts or result are not in the vocabulary;
 *   - normalizer, pre-tokenizer and decoder into arrays of steps (nested
 *     Sequences are flattened), regexes compiled once with PCRE2 (UTF + UCP
 *     so that \p{L}, \p{N} and \s are Unicode-aware as in HuggingFace);
 *   - the added tokens into an array plus, for fast leftmost-longest
 *     matching, an index by first byte (see tokenizer_impl.h).
 * All strings are copied into one chunked pool owned by the Tokenizer.
 * Loading Llama 3 (9 MB, 128k tokens, 280k merges) takes 70-120 ms on a
 * two-core x86 VM: ~45 ms in cJSON, the rest filling the hash tables (the
 * 280k merges cost three vocabulary look-ups and one insertion each).
 *
 * Every problem is reported as "FILE: error: JSONPATH: what", e.g.
 * "tokenizer.json: error: $.model.merges[7]: 'xq' is not in the
 * vocabulary"; JSON syntax errors give the line and column.  Anything we
 * do not implement (a Unigram model, an NFC normalizer) is refused by name
 * rather than silently tokenizing differently from HuggingFace.
 *
 * This file also holds the small helpers the encoder and decoder share
 * (UTF-8, the byte-level alphabet, pattern search) and the public
 * accessors.
 */
#include "tokenizer_impl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_BYTES (1u << 30)
#define POOL_CHUNK (1u << 20)

/* ------------------------------------------------------------------ */
/* Shared helpers                                                      */

int tok_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void tok_buf_put(TBuf *b, const void *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void tok_buf_putc(TBuf *b, char c) { tok_buf_put(b, &c, 1); }

void tok_buf_free(TBuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int tok_utf8_dec(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    int len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; v = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < (size_t)len) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

int tok_utf8_enc(uint32_t cp, char out[4])
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int tok_is_space(uint32_t c)
{
    return (c >= 9 && c <= 13) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
 * other 68 bytes (0-32, 127-160, 173), in order, to U+0100..U+0143. */
static int bl_printable(unsigned b)
{
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
}

uint32_t tok_bytelevel_cp(unsigned b)
{
    if (bl_printable(b)) return b;
    if (b <= 32) return 256 + b;
    if (b >= 127 && b <= 160) return 289 + (b - 127);
    return 323;   /* 173 */
}

int tok_bytelevel_byte(uint32_t cp)
{
    if (cp < 256) return bl_printable(cp) ? (int)cp : -1;
    if (cp <= 288) return (int)(cp - 256);
    if (cp <= 322) return (int)(cp - 289 + 127);
    if (cp == 323) return 173;
    return -1;
}

int tok_pattern_find(const TokPattern *pat, const char *s, size_t n, size_t from,
                 pcre2_match_data *md, size_t *ms, size_t *me, char *err, size_t errlen)
{
    const unsigned char *u = (const unsigned char *)s;
    switch (pat->kind) {
    case PAT_REGEX:
        while (from <= n) {
            int rc = pcre2_match(pat->re, (PCRE2_SPTR)s, n, from, PCRE2_NO_UTF_CHECK, md, NULL);
            if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
                rc = pcre2_match(pat->re, (PCRE2_SPTR)s, n, from,
                                 PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
            if (rc == PCRE2_ERROR_NOMATCH) return 0;
            if (rc < 0) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(rc, msg, sizeof msg);
                return tok_fail(err, errlen, "tokenizer: error: regex match failed: %s", (char *)msg);
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            if (ov[1] > ov[0]) { *ms = ov[0]; *me = ov[1]; return 1; }
            /* an empty match splits nothing (HuggingFace drops empty
             * pieces); go on one character later */
            from = ov[0] + 1;
            while (from < n && (u[from] & 0xC0) == 0x80) from++;
        }
        return 0;
    case PAT_LITERAL:
        if (pat->litlen == 0 || from >= n) return 0;
        {
            const char *p = memmem(s + from, n - from, pat->lit, pat->litlen);
            if (!p) return 0;
            *ms = (size_t)(p - s);
            *me = *ms + pat->litlen;
            return 1;
        }
    case PAT_DIGIT: case PAT_CHAR: case PAT_SPACE:
        for (size_t i = from; i < n;) {
            uint32_t cp = 0;
            int l = tok_utf8_dec(u + i, n - i, &cp);
            if (l <= 0) l = 1;          /* input is validated; defensive */
            int hit = pat->kind == PAT_DIGIT ? (cp >= '0' && cp <= '9')
                    : pat->kind == PAT_CHAR ? cp == pat->cp : tok_is_space(cp);
            if (hit) { *ms = i; *me = i + (size_t)l; return 1; }
            i += (size_t)l;
        }
        return 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ */
/* String pool                                                         */

struct PoolChunk { PoolChunk *next; size_t used, cap; char data[]; };

static const char *pool_dup(Tokenizer *t, const char *s, size_t n)
{
    PoolChunk *c = t->pool;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > POOL_CHUNK ? n + 1 : POOL_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = t->pool;
        c->used = 0;
        c->cap = cap;
        t->pool = c;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    p[n] = '\0';
    c->used += n + 1;
    return p;
}

/* ------------------------------------------------------------------ */
/* Hash tables                                                         */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint32_t table_cap(size_t n)
{
    uint32_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    return cap;
}

static int strmap_init(StrMap *m, size_t n)
{
    uint32_t cap = table_cap(n);
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->count = 0;
    return m->slots ? 0 : -1;
}

/* Inserts or overwrites (a later duplicate wins, as in a serde map). */
static void strmap_put(StrMap *m, const char *s, uint32_t len, int32_t id)
{
    uint32_t i = (uint32_t)hash_bytes(s, len) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        StrSlot *e = &m->slots[i];
        if (!e->s) { e->s = s; e->len = len; e->id = id; m->count++; return; }
        if (e->len == len && memcmp(e->s, s, len) == 0) { e->id = id; return; }
    }
}

int32_t tok_strmap_get(const StrMap *m, const char *s, size_t len)
{
    if (!m->slots) return -1;
    uint32_t i = (uint32_t)hash_bytes(s, len) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        const StrSlot *e = &m->slots[i];
        if (!e->s) return -1;
        if (e->len == len && memcmp(e->s, s, len) == 0) return e->id;
    }
}

static uint64_t pair_key(int32_t a, int32_t b)
{
    return (1ull << 63) | ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
}

static void pairmap_put(PairMap *m, int32_t a, int32_t b, int32_t rank, int32_t id)
{
    uint64_t k = pair_key(a, b);
    uint32_t i = (uint32_t)hash_u64(k) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        PairSlot *e = &m->slots[i];
        if (!e->key) { e->key = k; e->rank = rank; e->id = id; m->count++; return; }
        if (e->key == k) { e->rank = rank; e->id = id; return; }
    }
}

const PairSlot *tok_pairmap_get(const PairMap *m, int32_t a, int32_t b)
{
    if (!m->slots) return NULL;
    uint64_t k = pair_key(a, b);
    uint32_t i = (uint32_t)hash_u64(k) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        const PairSlot *e = &m->slots[i];
        if (!e->key) return NULL;
        if (e->key == k) return e;
    }
}

/* ------------------------------------------------------------------ */
/* Loader context and JSON helpers                                     */

typedef struct Ld {
    Tokenizer *t;
    const char *file;          /* the file being read, for messages */
    char *err;
    size_t errlen;
    double dec_growth;         /* how many times longer the decoder's Replaces can make a text */
} Ld;

static int ld_fail(Ld *L, const char *jp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ld_fail(Ld *L, const char *jp, const char *fmt, ...)
{
    if (!L->err || !L->errlen) return -1;
    int o = jp ? snprintf(L->err, L->errlen, "%s: error: %s: ", L->file, jp)
               : snprintf(L->err, L->errlen, "%s: error: ", L->file);
    if (o < 0 || (size_t)o >= L->errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err + o, L->errlen - (size_t)o, fmt, ap);
    va_end(ap);
    return -1;
}

static int ld_oom(Ld *L) { return ld_fail(L, NULL, "out of memory"); }

/* A string from a file, shortened and with controls escaped, for messages. */
typedef struct { char s[80]; } Esc;
static const char *esc(Esc *e, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 6 < sizeof e->s; s++) {
        unsigned char c = (unsigned char)*s;
        if (o > 56) { memcpy(e->s + o, "...", 3); o += 3; break; }
        if (c < 0x20 || c == '\'' || c == '\\') o += (size_t)snprintf(e->s + o, sizeof e->s - o, "\\x%02x", c);
        else e->s[o++] = (char)c;
    }
    e->s[o] = '\0';
    return e->s;
}

static const char *json_kind(const cJSON *j)
{
    if (!j) return "nothing";
    if (cJSON_IsNull(j)) return "null";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsObject(j)) return "an object";
    return "an invalid value";
}

static void jp_field(char *out, size_t n, const char *jp, const char *name)
{
    snprintf(out, n, "%s.%s", jp, name);
}

static void jp_index(char *out, size_t n, const char *jp, int i)
{
    snprintf(out, n, "%s[%d]", jp, i);
}

static const cJSON *get(const cJSON *obj, const char *name)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

static int expect(Ld *L, const cJSON *j, const char *jp, int ok, const char *what)
{
    if (ok) return 0;
    if (!j) return ld_fail(L, jp, "missing (expected %s)", what);
    return ld_fail(L, jp, "expected %s, found %s", what, json_kind(j));
}

/* A required string field (pool copy in *out). */
static int need_str(Ld *L, const cJSON *obj, const char *jp, const char *name,
                    const char **out, size_t *len)
{
    char p[256];
    jp_field(p, sizeof p, jp, name);
    const cJSON *j = get(obj, name);
    if (expect(L, j, p, cJSON_IsString(j), "a string")) return -1;
    size_t n = strlen(j->valuestring);
    *out = pool_dup(L->t, j->valuestring, n);
    if (!*out) return ld_oom(L);
    if (len) *len = n;
    return 0;
}

/* An optional boolean field (absent or null: dflt). */
static int opt_bool(Ld *L, const cJSON *obj, const char *jp, const char *name, int dflt, int *out)
{
    char p[256];
    jp_field(p, sizeof p, jp, name);
    const cJSON *j = get(obj, name);
    if (!j || cJSON_IsNull(j)) { *out = dflt; return 0; }
    if (expect(L, j, p, cJSON_IsBool(j), "true or false")) return -1;
    *out = cJSON_IsTrue(j);
    return 0;
}

/* A number that must be an integer in [lo, hi]. */
static int as_int(Ld *L, const cJSON *j, const char *jp, double lo, double hi, int64_t *out)
{
    if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) ||
        j->valuedouble < lo || j->valuedouble > hi) {
        if (cJSON_IsNumber(j))
            return ld_fail(L, jp, "expected an integer in %.0f..%.0f, found %g", lo, hi, j->valuedouble);
        return expect(L, j, jp, 0, "an integer");
    }
    *out = (int64_t)j->valuedouble;
    return 0;
}

static int is_id(const cJSON *j)
{
    return cJSON_IsNumber(j) && j->valuedouble >= 0 && j->valuedouble < TOK_MAX_IDS &&
           j->valuedouble == floor(j->valuedouble);
}

static int as_id(Ld *L, const cJSON *j, const char *jp, int32_t *out)
{
    int64_t v;
    if (as_int(L, j, jp, 0, TOK_MAX_IDS - 1, &v)) return -1;
    *out = (int32_t)v;
    return 0;
}

/* Reads a whole file; 0 ok, -1 missing (errno), -2 other error (message). */
static int read_file(Ld *L, const char *path, char **buf, size_t *len)
{
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ld_fail(L, NULL, "not a regular file"), -2;
    }
    if ((uint64_t)st.st_size > MAX_FILE_BYTES) {
        fclose(f);
        return ld_fail(L, NULL, "file too large (%lld bytes)", (long long)st.st_size), -2;
    }
    size_t n = (size_t)st.st_size;
    char *b = malloc(n + 1);
    if (!b) { fclose(f); return ld_oom(L), -2; }
    size_t got = fread(b, 1, n, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != n) { free(b); return ld_fail(L, NULL, "read error"), -2; }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* Line and column (1-based, in characters) of byte offset pos. */
static void line_col(const char *buf, size_t pos, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < pos; i++) {
        if (buf[i] == '\n') { ++*line; *col = 1; }
        else if (((unsigned char)buf[i] & 0xC0) != 0x80) ++*col;
    }
}

/* Whether a document that failed to parse simply stops early: it ends
 * inside a string or with objects/arrays still open. */
static int json_truncated(const char *buf, size_t len)
{
    long depth = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
        } else if (c == '"') in_str = 1;
        else if (c == '{' || c == '[') depth++;
        else if (c == '}' || c == ']') depth--;
    }
    return in_str || depth > 0;
}

/* Parses a JSON document, with line:column on a syntax error.  The file
 * must be UTF-8, as HF requires (Tokenizer::from_file reads a Rust
 * String): cJSON copies other bytes into strings unchecked, and the
 * regexes match with PCRE2_NO_UTF_CHECK, so an invalid byte in a token
 * or a Prepend would reach PCRE2 as invalid UTF-8 (undefined behaviour:
 * a crash, found while writing fuzz_tokenizer). */
static cJSON *parse_json(Ld *L, const char *buf, size_t len)
{
    if (len == 0) { ld_fail(L, NULL, "empty file (expected a JSON object)"); return NULL; }
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int l = (unsigned char)buf[i] < 0x80 ? 1 : tok_utf8_dec((const unsigned char *)buf + i, len - i, &cp);
        if (l <= 0) {
            int line, col;
            line_col(buf, i, &line, &col);
            ld_fail(L, NULL, "invalid UTF-8 at line %d, column %d (byte 0x%02x at offset %zu)", line, col,
                    (unsigned char)buf[i], i);
            return NULL;
        }
        i += (size_t)l;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    int line, col;
    if (j) {
        /* after the value only JSON white space, as HF's loader (serde_json) requires */
        size_t pos = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : len;
        while (pos < len && (buf[pos] == ' ' || buf[pos] == '\t' || buf[pos] == '\n' || buf[pos] == '\r')) pos++;
        if (pos == len) return j;
        cJSON_Delete(j);
        line_col(buf, pos, &line, &col);
        ld_fail(L, NULL, "invalid JSON: text after the value at line %d, column %d", line, col);
        return NULL;
    }
    if (json_truncated(buf, len)) {
        line_col(buf, len, &line, &col);
        ld_fail(L, NULL, "invalid JSON: the file ends at line %d, column %d, inside an unfinished "
                         "value (truncated?)", line, col);
        return NULL;
    }
    size_t pos = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : len;
    line_col(buf, pos, &line, &col);
    ld_fail(L, NULL, "invalid JSON at line %d, column %d", line, col);
    return NULL;
}

static pcre2_code *compile_regex(Ld *L, const char *jp, const char *pattern)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[200];
        pcre2_get_error_message(ec, msg, sizeof msg);
        Esc e;
        ld_fail(L, jp, "invalid regular expression '%s': %s at offset %zu", esc(&e, pattern),
                (char *)msg, (size_t)eo);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* optional: falls back to the interpreter */
    return re;
}

/* pattern: {"String": "..."} or {"Regex": "..."} */
static int parse_pattern(Ld *L, const cJSON *obj, const char *jp, TokPattern *pat)
{
    char p[256];
    jp_field(p, sizeof p, jp, "pattern");
    const cJSON *j = get(obj, "pattern");
    if (expect(L, j, p, cJSON_IsObject(j), "an object {\"String\": ...} or {\"Regex\": ...}")) return -1;
    const cJSON *s = get(j, "String"), *r = get(j, "Regex");
    if (s) {
        const char *lit;
        size_t n;
        if (need_str(L, j, p, "String", &lit, &n)) return -1;
        pat->kind = PAT_LITERAL;
        pat->lit = lit;
        pat->litlen = n;
        return 0;
    }
    if (r) {
        char q[300];
        jp_field(q, sizeof q, p, "Regex");
        if (expect(L, r, q, cJSON_IsString(r), "a string")) return -1;
        pat->kind = PAT_REGEX;
        pat->re = compile_regex(L, q, r->valuestring);
        return pat->re ? 0 : -1;
    }
    return ld_fail(L, p, "expected \"String\" or \"Regex\"");
}

/* A string field that must hold exactly one character. */
static int need_char(Ld *L, const cJSON *obj, const char *jp, const char *name, uint32_t *cp)
{
    const char *s;
    size_t n;
    if (need_str(L, obj, jp, name, &s, &n)) return -1;
    int l = tok_utf8_dec((const unsigned char *)s, n, cp);
    if (l <= 0 || (size_t)l != n) {
        char p[256];
        jp_field(p, sizeof p, jp, name);
        return ld_fail(L, p, "expected a single character");
    }
    return 0;
}

static int need_type(Ld *L, const cJSON *obj, const char *jp, const char **type)
{
    char p[256];
    jp_field(p, sizeof p, jp, "type");
    if (expect(L, obj, jp, cJSON_IsObject(obj), "an object")) return -1;
    const cJSON *j = get(obj, "type");
    if (expect(L, j, p, cJSON_IsString(j), "a string")) return -1;
    *type = j->valuestring;
    return 0;
}

static int parse_prepend_scheme(Ld *L, const cJSON *obj, const char *jp, int *out)
{
    char p[256];
    const cJSON *j = get(obj, "prepend_scheme");
    if (j) {
        jp_field(p, sizeof p, jp, "prepend_scheme");
        if (expect(L, j, p, cJSON_IsString(j), "a string")) return -1;
        if (!strcmp(j->valuestring, "always")) *out = PREPEND_ALWAYS;
        else if (!strcmp(j->valuestring, "first")) *out = PREPEND_FIRST;
        else if (!strcmp(j->valuestring, "never")) *out = PREPEND_NEVER;
        else return ld_fail(L, p, "expected \"always\", \"first\" or \"never\"");
        return 0;
    }
    int aps;   /* older files: add_prefix_space */
    if (opt_bool(L, obj, jp, "add_prefix_space", 1, &aps)) return -1;
    *out = aps ? PREPEND_ALWAYS : PREPEND_NEVER;
    return 0;
}

/* Appends to a step array (grown by doubling). */
#define PUSH_STEP(L, arr, n, cap, st) \
    ((n) == (cap) ? grow_steps((L), (void **)&(arr), &(cap), sizeof *(arr)) : 0) \
    ? -1 : ((arr)[(n)++] = (st), 0)

/* Before a step is added to a pipeline that has n (TOK_MAX_STEPS). */
static int step_room(Ld *L, const char *jp, int n, const char *what)
{
    if (n < TOK_MAX_STEPS) return 0;
    return ld_fail(L, jp, "more than %d %s steps (nested Sequences included) are not supported",
                   TOK_MAX_STEPS, what);
}

static int grow_steps(Ld *L, void **arr, int *cap, size_t elem)
{
    int nc = *cap ? *cap * 2 : 4;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return ld_oom(L);
    *arr = p;
    *cap = nc;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Normalizer, pre-tokenizer, decoder                                  */

static int parse_normalizer(Ld *L, const cJSON *j, const char *jp, int *cap)
{
    Tokenizer *t = L->t;
    const char *type;
    if (need_type(L, j, jp, &type)) return -1;
    NormStep st;
    memset(&st, 0, sizeof st);
    char p[256];
    if (!strcmp(type, "Sequence")) {
        jp_field(p, sizeof p, jp, "normalizers");
        const cJSON *a = get(j, "normalizers");
        if (expect(L, a, p, cJSON_IsArray(a), "an array")) return -1;
        int i = 0;
        for (const cJSON *c = a->child; c; c = c->next, i++) {
            char q[300];
            jp_index(q, sizeof q, p, i);
            if (parse_normalizer(L, c, q, cap)) return -1;
        }
        return 0;
    }
    if (step_room(L, jp, t->n_norm, "normalizer")) return -1;
    if (!strcmp(type, "Prepend")) {
        st.kind = NORM_PREPEND;
        if (need_str(L, j, jp, "prepend", &st.s, &st.slen)) return -1;
    } else if (!strcmp(type, "Replace")) {
        st.kind = NORM_REPLACE;
        if (parse_pattern(L, j, jp, &st.pat)) return -1;
        if (PUSH_STEP(L, t->norm, t->n_norm, *cap, st)) {   /* owns the regex now */
            pcre2_code_free(st.pat.re);
            return -1;
        }
        return need_str(L, j, jp, "content", &t->norm[t->n_norm - 1].s, &t->norm[t->n_norm - 1].slen);
    } else if (!strcmp(type, "Strip")) {
        st.kind = NORM_STRIP;
        if (opt_bool(L, j, jp, "strip_left", 1, &st.left) || opt_bool(L, j, jp, "strip_right", 1, &st.right))
            return -1;
    } else {
        jp_field(p, sizeof p, jp, "type");
        Esc e;
        return ld_fail(L, p, "unsupported normalizer '%s' (supported: Sequence, Prepend, Replace, Strip)",
                       esc(&e, type));
    }
    return PUSH_STEP(L, t->norm, t->n_norm, *cap, st);
}

static int parse_behavior(Ld *L, const cJSON *j, const char *jp, int *out)
{
    char p[256];
    jp_field(p, sizeof p, jp, "behavior");
    const cJSON *b = get(j, "behavior");
    if (expect(L, b, p, cJSON_IsString(b), "a string")) return -1;
    static const char *const names[] = { "Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous" };
    for (int i = 0; i < 5; i++)
        if (!strcmp(b->valuestring, names[i])) { *out = i; return 0; }
    Esc e;
    return ld_fail(L, p, "unknown split behavior '%s'", esc(&e, b->valuestring));
}

static int parse_pretok(Ld *L, const cJSON *j, const char *jp, int *cap)
{
    Tokenizer *t = L->t;
    const char *type;
    if (need_type(L, j, jp, &type)) return -1;
    PreStep st;
    memset(&st, 0, sizeof st);
    char p[256];
    if (!strcmp(type, "Sequence")) {
        jp_field(p, sizeof p, jp, "pretokenizers");
        const cJSON *a = get(j, "pretokenizers");
        if (expect(L, a, p, cJSON_IsArray(a), "an array")) return -1;
        int i = 0;
        for (const cJSON *c = a->child; c; c = c->next, i++) {
            char q[300];
            jp_index(q, sizeof q, p, i);
            if (parse_pretok(L, c, q, cap)) return -1;
        }
        return 0;
    }
    if (step_room(L, jp, t->n_pre, "pre-tokenizer")) return -1;
    if (!strcmp(type, "Split")) {
        st.kind = PRE_SPLIT;
        if (parse_behavior(L, j, jp, &st.behavior) || opt_bool(L, j, jp, "invert", 0, &st.invert) ||
            parse_pattern(L, j, jp, &st.pat))
            return -1;
    } else if (!strcmp(type, "ByteLevel")) {
        int use_regex;
        st.kind = PRE_BYTELEVEL;
        if (opt_bool(L, j, jp, "add_prefix_space", 1, &st.add_prefix_space) ||
            opt_bool(L, j, jp, "use_regex", 1, &use_regex))
            return -1;
        if (use_regex) {
            st.pat.kind = PAT_REGEX;
            st.pat.re = compile_regex(L, jp, "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+|"
                                             " ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
            if (!st.pat.re) return -1;
        }
    } else if (!strcmp(type, "Metaspace")) {
        st.kind = PRE_METASPACE;
        if (need_char(L, j, jp, "replacement", &st.repl) || parse_prepend_scheme(L, j, jp, &st.prepend) ||
            opt_bool(L, j, jp, "split", 1, &st.split))
            return -1;
    } else if (!strcmp(type, "Digits")) {
        int ind;
        if (opt_bool(L, j, jp, "individual_digits", 0, &ind)) return -1;
        st.kind = PRE_SPLIT;
        st.pat.kind = PAT_DIGIT;
        st.behavior = ind ? SPLIT_ISOLATED : SPLIT_CONTIGUOUS;
    } else if (!strcmp(type, "Whitespace")) {
        st.kind = PRE_SPLIT;
        st.behavior = SPLIT_REMOVED;
        st.invert = 1;
        st.pat.kind = PAT_REGEX;
        st.pat.re = compile_regex(L, jp, "\\w+|[^\\w\\s]+");
        if (!st.pat.re) return -1;
    } else if (!strcmp(type, "WhitespaceSplit")) {
        st.kind = PRE_SPLIT;
        st.behavior = SPLIT_REMOVED;
        st.pat.kind = PAT_SPACE;
    } else {
        jp_field(p, sizeof p, jp, "type");
        Esc e;
        return ld_fail(L, p, "unsupported pre-tokenizer '%s' (supported: Sequence, Split, ByteLevel, "
                             "Metaspace, Digits, Whitespace, WhitespaceSplit)", esc(&e, type));
    }
    if (PUSH_STEP(L, t->pre, t->n_pre, *cap, st)) {
        pcre2_code_free(st.pat.re);
        return -1;
    }
    return 0;
}

/* fused: set once a Fuse or ByteLevel step has joined the tokens; the
 * streaming decoder cannot run ByteLevel or ByteFallback after that. */
static int parse_decoder(Ld *L, const cJSON *j, const char *jp, int *cap, int *fused)
{
    Tokenizer *t = L->t;
    const char *type;
    if (need_type(L, j, jp, &type)) return -1;
    DecStep st;
    memset(&st, 0, sizeof st);
    char p[256];
    Esc e;
    if (!strcmp(type, "Sequence")) {
        jp_field(p, sizeof p, jp, "decoders");
        const cJSON *a = get(j, "decoders");
        if (expect(L, a, p, cJSON_IsArray(a), "an array")) return -1;
        int i = 0;
        for (const cJSON *c = a->child; c; c = c->next, i++) {
            char q[300];
            jp_index(q, sizeof q, p, i);
            if (parse_decoder(L, c, q, cap, fused)) return -1;
        }
        return 0;
    }
    if (step_room(L, jp, t->n_dec, "decoder")) return -1;
    if (!strcmp(type, "ByteLevel") || !strcmp(type, "ByteFallback")) {
        if (*fused)
            return ld_fail(L, jp, "a %s decoder after Fuse or ByteLevel is not supported", type);
        st.kind = type[4] == 'L' ? DEC_BYTELEVEL : DEC_BYTEFALLBACK;
        if (st.kind == DEC_BYTELEVEL) *fused = 1;
    } else if (!strcmp(type, "Fuse")) {
        st.kind = DEC_FUSE;
        *fused = 1;
    } else if (!strcmp(type, "Replace")) {
        TokPattern pat;
        memset(&pat, 0, sizeof pat);
        st.kind = DEC_REPLACE;
        if (parse_pattern(L, j, jp, &pat)) return -1;
        if (pat.kind != PAT_LITERAL || pat.litlen == 0) {
            pcre2_code_free(pat.re);
            jp_field(p, sizeof p, jp, "pattern");
            return ld_fail(L, p, "only a non-empty String pattern is supported in a Replace decoder");
        }
        st.pat = pat.lit;
        st.patlen = pat.litlen;
        if (need_str(L, j, jp, "content", &st.content, &st.contentlen)) return -1;
        /* n bytes hold at most n / patlen matches: at most n * contentlen / patlen bytes come out */
        if (st.contentlen > st.patlen) L->dec_growth *= (double)st.contentlen / (double)st.patlen;
        if (L->dec_growth > TOK_MAX_GROWTH)
            return ld_fail(L, jp, "this Replace (%zu bytes for %zu) and those before it can make a decoded "
                           "text %.1f times longer; at most %d is supported", st.contentlen, st.patlen,
                           L->dec_growth, TOK_MAX_GROWTH);
    } else if (!strcmp(type, "Strip")) {
        int64_t a, b;
        st.kind = DEC_STRIP;
        char q[256];
        if (need_char(L, j, jp, "content", &st.cp)) return -1;
        jp_field(p, sizeof p, jp, "start");
        jp_field(q, sizeof q, jp, "stop");
        if (as_int(L, get(j, "start"), p, 0, 1e9, &a) || as_int(L, get(j, "stop"), q, 0, 1e9, &b)) return -1;
        st.start = (size_t)a;
        st.stop = (size_t)b;
    } else if (!strcmp(type, "Metaspace")) {
        st.kind = DEC_METASPACE;
        if (need_char(L, j, jp, "replacement", &st.cp) || parse_prepend_scheme(L, j, jp, &st.prepend))
            return -1;
    } else {
        jp_field(p, sizeof p, jp, "type");
        return ld_fail(L, p, "unsupported decoder '%s' (supported: Sequence, ByteLevel, Replace, "
                             "ByteFallback, Fuse, Strip, Metaspace)", esc(&e, type));
    }
    return PUSH_STEP(L, t->dec, t->n_dec, *cap, st);
}

/* ------------------------------------------------------------------ */
/* Model: BPE                                                          */

static int parse_model(Ld *L, const cJSON *root)
{
    Tokenizer *t = L->t;
    const char *jp = "$.model";
    const cJSON *m = get(root, "model");
    if (expect(L, m, jp, cJSON_IsObject(m), "an object")) return -1;
    const cJSON *type = get(m, "type");
    if (type) {
        if (expect(L, type, "$.model.type", cJSON_IsString(type), "a string")) return -1;
        if (strcmp(type->valuestring, "BPE")) {
            Esc e;
            return ld_fail(L, "$.model.type", "unsupported model type '%s' (only BPE is implemented)",
                           esc(&e, type->valuestring));
        }
    } else if (!get(m, "merges")) {
        return ld_fail(L, "$.model", "no \"type\" and no \"merges\": not a BPE model");
    }

    /* vocab */
    const cJSON *v = get(m, "vocab");
    if (expect(L, v, "$.model.vocab", cJSON_IsObject(v), "an object")) return -1;
    size_t nv = 0;
    for (const cJSON *c = v->child; c; c = c->next) nv++;
    if (strmap_init(&t->vocab, nv)) return ld_oom(L);
    for (const cJSON *c = v->child; c; c = c->next) {
        int32_t id;
        if (!is_id(c)) {   /* the path is built only for the message */
            char p[200];
            Esc e;
            snprintf(p, sizeof p, "$.model.vocab['%s']", esc(&e, c->string ? c->string : ""));
            return as_id(L, c, p, &id);
        }
        id = (int32_t)c->valuedouble;
        size_t n = strlen(c->string);
        const char *s = pool_dup(t, c->string, n);
        if (!s) return ld_oom(L);
        strmap_put(&t->vocab, s, (uint32_t)n, id);
        if (id + 1 > t->n_ids) t->n_ids = id + 1;
    }

    /* options */
    if (opt_bool(L, m, jp, "byte_fallback", 0, &t->byte_fallback) ||
        opt_bool(L, m, jp, "fuse_unk", 0, &t->fuse_unk) ||
        opt_bool(L, m, jp, "ignore_merges", 0, &t->ignore_merges))
        return -1;
    const cJSON *d = get(m, "dropout");
    if (d && !cJSON_IsNull(d) && !(cJSON_IsNumber(d) && d->valuedouble == 0.0))
        return ld_fail(L, "$.model.dropout", "BPE dropout is not supported (expected null)");
    t->unk_id = -1;
    const cJSON *u = get(m, "unk_token");
    if (u && !cJSON_IsNull(u)) {
        if (expect(L, u, "$.model.unk_token", cJSON_IsString(u), "a string or null")) return -1;
        t->unk_id = tok_strmap_get(&t->vocab, u->valuestring, strlen(u->valuestring));
        Esc e;
        if (t->unk_id < 0)
            return ld_fail(L, "$.model.unk_token", "'%s' is not in the vocabulary", esc(&e, u->valuestring));
    }
    const char *names[2] = { "continuing_subword_prefix", "end_of_word_suffix" };
    const char **dst[2] = { &t->cs_prefix, &t->eow_suffix };
    size_t *dlen[2] = { &t->cs_prefix_len, &t->eow_suffix_len };
    for (int i = 0; i < 2; i++) {
        const cJSON *s = get(m, names[i]);
        if (!s || cJSON_IsNull(s)) continue;
        if (need_str(L, m, jp, names[i], dst[i], dlen[i])) return -1;
    }

    /* merges */
    const cJSON *mg = get(m, "merges");
    if (!mg) return 0;   /* a BPE without merges: characters only */
    if (expect(L, mg, "$.model.merges", cJSON_IsArray(mg), "an array")) return -1;
    size_t nm = 0;
    for (const cJSON *c = mg->child; c; c = c->next) nm++;
    uint32_t cap = 16;   /* load factor up to 3/4: the table is large, keep it in fewer pages */
    while ((size_t)cap * 3 < nm * 4) cap *= 2;
    t->merges.slots = calloc(cap, sizeof *t->merges.slots);
    if (!t->merges.slots) return ld_oom(L);
    t->merges.mask = cap - 1;
    TBuf joined = { 0 };
    int rank = 0, rc = 0;
    char p[64];   /* "$.model.merges[rank]", written only for a message */
    for (const cJSON *c = mg->child; c; c = c->next, rank++) {
#define MERGE_PATH (jp_index(p, sizeof p, "$.model.merges", rank), p)
        const char *a, *b;
        size_t alen, blen;
        if (cJSON_IsString(c)) {
            a = c->valuestring;
            const char *sp = strchr(a, ' ');
            if (!sp || strchr(sp + 1, ' ')) {
                Esc e;
                rc = ld_fail(L, MERGE_PATH, "expected \"A B\" (two tokens separated by one space), found '%s'",
                             esc(&e, a));
                break;
            }
            alen = (size_t)(sp - a);
            b = sp + 1;
            blen = strlen(b);
        } else if (cJSON_IsArray(c) && cJSON_GetArraySize(c) == 2 && cJSON_IsString(c->child) &&
                   cJSON_IsString(c->child->next)) {
            a = c->child->valuestring;
            b = c->child->next->valuestring;
            alen = strlen(a);
            blen = strlen(b);
        } else {
            rc = expect(L, c, MERGE_PATH, 0, "a string \"A B\" or a pair [\"A\", \"B\"]");
            break;
        }
        int32_t ia = tok_strmap_get(&t->vocab, a, alen), ib = tok_strmap_get(&t->vocab, b, blen);
        if (ia < 0 || ib < 0) {
            Esc e;
            char tmp[256];
            const char *miss = ia < 0 ? a : b;
            size_t ml = ia < 0 ? alen : blen;
            snprintf(tmp, sizeof tmp, "%.*s", (int)(ml < 200 ? ml : 200), miss);
            rc = ld_fail(L, MERGE_PATH, "'%s' is not in the vocabulary", esc(&e, tmp));
            break;
        }
        /* the merged token: a + b without b's continuing-subword prefix */
        size_t skip = t->cs_prefix && blen >= t->cs_prefix_len &&
                      !memcmp(b, t->cs_prefix, t->cs_prefix_len) ? t->cs_prefix_len : 0;
        joined.len = 0;
        tok_buf_put(&joined, a, alen);
        tok_buf_put(&joined, b + skip, blen - skip);
        if (joined.oom) { rc = ld_oom(L); break; }
        int32_t iab = tok_strmap_get(&t->vocab, joined.p, joined.len);
        if (iab < 0) {
            Esc e;
            rc = ld_fail(L, MERGE_PATH, "the merged token '%s' is not in the vocabulary", esc(&e, joined.p));
            break;
        }
        pairmap_put(&t->merges, ia, ib, rank, iab);
    }
#undef MERGE_PATH
    tok_buf_free(&joined);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Added tokens                                                        */

static int add_token(Ld *L, const cJSON *o, const char *jp, int32_t id, size_t *cap)
{
    Tokenizer *t = L->t;
    AddedTok a;
    memset(&a, 0, sizeof a);
    a.id = id;
    const char *s;
    size_t n;
    int special, lstrip, rstrip, norm, sw;
    if (need_str(L, o, jp, "content", &s, &n) || opt_bool(L, o, jp, "special", 0, &special) ||
        opt_bool(L, o, jp, "lstrip", 0, &lstrip) || opt_bool(L, o, jp, "rstrip", 0, &rstrip) ||
        opt_bool(L, o, jp, "normalized", !special, &norm) || opt_bool(L, o, jp, "single_word", 0, &sw))
        return -1;
    if (n == 0) return ld_fail(L, jp, "an added token's content must not be empty");
    for (uint32_t i = 0; i < t->n_added; i++)
        if (t->added[i].id == id) return 0;    /* tokenizer.json's entry wins over the config's */
    a.s = s;
    a.len = (uint32_t)n;
    a.special = (uint8_t)special;
    a.lstrip = (uint8_t)lstrip;
    a.rstrip = (uint8_t)rstrip;
    a.normalized = (uint8_t)norm;
    a.single_word = (uint8_t)sw;
    if (t->n_added == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        AddedTok *p = realloc(t->added, nc * sizeof *p);
        if (!p) return ld_oom(L);
        t->added = p;
        *cap = nc;
    }
    t->added[t->n_added++] = a;
    if (id + 1 > t->n_ids) t->n_ids = id + 1;
    return 0;
}

static int parse_added(Ld *L, const cJSON *root, size_t *cap)
{
    const cJSON *a = get(root, "added_tokens");
    if (!a || cJSON_IsNull(a)) return 0;
    if (expect(L, a, "$.added_tokens", cJSON_IsArray(a), "an array")) return -1;
    int i = 0;
    for (const cJSON *c = a->child; c; c = c->next, i++) {
        char p[64], q[80];
        jp_index(p, sizeof p, "$.added_tokens", i);
        if (expect(L, c, p, cJSON_IsObject(c), "an object")) return -1;
        jp_field(q, sizeof q, p, "id");
        int32_t id;
        if (as_id(L, get(c, "id"), q, &id) || add_token(L, c, p, id, cap)) return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Post-processor: which ids a default encode adds around the text      */

static int push_ids(Ld *L, int32_t **arr, size_t *n, int32_t id)
{
    int32_t *p = realloc(*arr, (*n + 1) * sizeof *p);
    if (!p) return ld_oom(L);
    *arr = p;
    p[(*n)++] = id;
    return 0;
}

static int parse_postproc(Ld *L, const cJSON *pp, const char *jp)
{
    Tokenizer *t = L->t;
    if (!pp || cJSON_IsNull(pp)) return 0;
    const char *type;
    char p[256];
    if (need_type(L, pp, jp, &type)) return -1;
    if (!strcmp(type, "ByteLevel")) return 0;
    if (!strcmp(type, "Sequence")) {
        jp_field(p, sizeof p, jp, "processors");
        const cJSON *a = get(pp, "processors");
        if (expect(L, a, p, cJSON_IsArray(a), "an array")) return -1;
        int i = 0;
        for (const cJSON *c = a->child; c; c = c->next, i++) {
            char q[300];
            jp_index(q, sizeof q, p, i);
            if (parse_postproc(L, c, q)) return -1;
        }
        return 0;
    }
    if (!strcmp(type, "BertProcessing") || !strcmp(type, "RobertaProcessing")) {
        const char *keys[2] = { "cls", "sep" };
        for (int k = 0; k < 2; k++) {
            jp_field(p, sizeof p, jp, keys[k]);
            const cJSON *a = get(pp, keys[k]);
            int32_t id;
            if (expect(L, a, p, cJSON_IsArray(a) && cJSON_GetArraySize(a) == 2, "a pair [TOKEN, ID]") ||
                as_id(L, cJSON_GetArrayItem(a, 1), p, &id) ||
                push_ids(L, k ? &t->def_suffix : &t->def_prefix, k ? &t->n_def_suffix : &t->n_def_prefix, id))
                return -1;
        }
        return 0;
    }
    if (strcmp(type, "TemplateProcessing")) {
        jp_field(p, sizeof p, jp, "type");
        Esc e;
        return ld_fail(L, p, "unsupported post-processor '%s'", esc(&e, type));
    }
    jp_field(p, sizeof p, jp, "single");
    const cJSON *single = get(pp, "single");
    if (expect(L, single, p, cJSON_IsArray(single), "an array")) return -1;
    const cJSON *specials = get(pp, "special_tokens");
    int seen_seq = 0, i = 0;
    for (const cJSON *c = single->child; c; c = c->next, i++) {
        char q[300], r[400];
        jp_index(q, sizeof q, p, i);
        if (get(c, "Sequence")) { seen_seq = 1; continue; }
        const cJSON *st = get(c, "SpecialToken");
        if (!st) return ld_fail(L, q, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
        jp_field(r, sizeof r, q, "SpecialToken.id");
        const cJSON *name = get(st, "id");
        if (expect(L, name, r, cJSON_IsString(name), "a string")) return -1;
        const cJSON *sp = get(specials, name->valuestring);
        const cJSON *ids = get(sp, "ids");
        Esc e;
        if (!cJSON_IsArray(ids))
            return ld_fail(L, r, "'%s' has no ids in $.post_processor.special_tokens", esc(&e, name->valuestring));
        for (const cJSON *x = ids->child; x; x = x->next) {
            int32_t id;
            if (as_id(L, x, r, &id) ||
                push_ids(L, seen_seq ? &t->def_suffix : &t->def_prefix,
                         seen_seq ? &t->n_def_suffix : &t->n_def_prefix, id))
                return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* tokenizer_config.json and generation_config.json                    */

/* bos_token / eos_token: a string, {"content": "..."}, or null. */
static const char *config_token(const cJSON *cfg, const char *name)
{
    const cJSON *j = get(cfg, name);
    if (cJSON_IsObject(j)) j = get(j, "content");
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

static int32_t find_token(const Tokenizer *t, const char *s, size_t n)
{
    for (uint32_t i = 0; i < t->n_added; i++)
        if (t->added[i].len == n && !memcmp(t->added[i].s, s, n)) return t->added[i].id;
    return tok_strmap_get(&t->vocab, s, n);
}

static int parse_config_added(Ld *L, const cJSON *cfg, size_t *cap)
{
    const cJSON *d = get(cfg, "added_tokens_decoder");
    if (!d || cJSON_IsNull(d)) return 0;
    if (expect(L, d, "$.added_tokens_decoder", cJSON_IsObject(d), "an object")) return -1;
    for (const cJSON *c = d->child; c; c = c->next) {
        char p[200];
        Esc e;
        snprintf(p, sizeof p, "$.added_tokens_decoder['%s']", esc(&e, c->string));
        char *end;
        errno = 0;
        long id = strtol(c->string, &end, 10);
        if (errno || end == c->string || *end || id < 0 || id >= TOK_MAX_IDS)
            return ld_fail(L, p, "the key must be a token id in 0..%d", TOK_MAX_IDS - 1);
        if (expect(L, c, p, cJSON_IsObject(c), "an object") || add_token(L, c, p, (int32_t)id, cap)) return -1;
    }
    return 0;
}

static int parse_config_tokens(Ld *L, const cJSON *cfg)
{
    Tokenizer *t = L->t;
    const char *bos = config_token(cfg, "bos_token"), *eos = config_token(cfg, "eos_token");
    Esc e;
    if (bos) {
        t->bos = find_token(t, bos, strlen(bos));
        if (t->bos < 0) return ld_fail(L, "$.bos_token", "'%s' is not a token of the tokenizer", esc(&e, bos));
    }
    if (eos) {
        int32_t id = find_token(t, eos, strlen(eos));
        if (id < 0) return ld_fail(L, "$.eos_token", "'%s' is not a token of the tokenizer", esc(&e, eos));
        if (push_ids(L, &t->eos, &t->n_eos, id)) return -1;
    }
    int ab, ae;
    if (opt_bool(L, cfg, "$", "add_bos_token", -1, &ab) || opt_bool(L, cfg, "$", "add_eos_token", -1, &ae) ||
        opt_bool(L, cfg, "$", "clean_up_tokenization_spaces", 0, &t->cleanup_default))
        return -1;
    if (ab >= 0 || ae >= 0) {   /* the config overrides the post-processor's template */
        t->n_def_prefix = t->n_def_suffix = 0;
        if (ab == 1) {
            if (t->bos < 0) return ld_fail(L, "$.add_bos_token", "true, but there is no bos_token");
            if (push_ids(L, &t->def_prefix, &t->n_def_prefix, t->bos)) return -1;
        }
        if (ae == 1) {
            if (!t->n_eos) return ld_fail(L, "$.add_eos_token", "true, but there is no eos_token");
            if (push_ids(L, &t->def_suffix, &t->n_def_suffix, t->eos[0])) return -1;
        }
    }
    return 0;
}

static int add_eos(Ld *L, const cJSON *j, const char *jp)
{
    Tokenizer *t = L->t;
    int32_t id;
    if (as_id(L, j, jp, &id)) return -1;
    for (size_t k = 0; k < t->n_eos; k++)
        if (t->eos[k] == id) return 0;
    return push_ids(L, &t->eos, &t->n_eos, id);
}

static int parse_genconfig(Ld *L, const cJSON *g)
{
    Tokenizer *t = L->t;
    const cJSON *b = get(g, "bos_token_id");
    if (t->bos < 0 && b && !cJSON_IsNull(b) && as_id(L, b, "$.bos_token_id", &t->bos)) return -1;
    const cJSON *e = get(g, "eos_token_id");
    if (!e || cJSON_IsNull(e)) return 0;
    if (!cJSON_IsArray(e)) return add_eos(L, e, "$.eos_token_id");
    int i = 0;
    for (const cJSON *c = e->child; c; c = c->next, i++) {
        char p[64];
        jp_index(p, sizeof p, "$.eos_token_id", i);
        if (add_eos(L, c, p)) return -1;
    }
    return 0;
}

/* Reads an optional JSON file beside tokenizer.json; *out NULL if absent. */
static int load_side_json(Ld *L, const char *dir, const char *name, char **pathp, cJSON **out)
{
    *out = NULL;
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path) return ld_oom(L);
    snprintf(path, n, "%s/%s", dir, name);
    *pathp = path;
    L->file = path;
    char *buf;
    size_t len;
    int rc = read_file(L, path, &buf, &len);
    if (rc == -1) return errno == ENOENT ? 0 : ld_fail(L, NULL, "cannot open: %s", strerror(errno));
    if (rc) return -1;
    *out = parse_json(L, buf, len);
    free(buf);
    if (!*out) return -1;
    if (!cJSON_IsObject(*out)) return expect(L, *out, "$", 0, "an object");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */

static int build_tables(Ld *L)
{
    Tokenizer *t = L->t;
    if (t->n_ids == 0) return ld_fail(L, "$.model.vocab", "the vocabulary is empty");
    size_t n = (size_t)t->n_ids;
    t->id_str = calloc(n, sizeof *t->id_str);
    t->id_len = calloc(n, sizeof *t->id_len);
    t->id_flags = calloc(n, 1);
    if (!t->id_str || !t->id_len || !t->id_flags) return ld_oom(L);
    for (uint32_t i = 0; i <= t->vocab.mask; i++) {
        const StrSlot *e = &t->vocab.slots[i];
        if (!e->s) continue;
        /* two strings with one id: keep one deterministically (the smaller) */
        if (t->id_str[e->id] && (t->id_len[e->id] < e->len ||
            (t->id_len[e->id] == e->len && memcmp(t->id_str[e->id], e->s, e->len) < 0)))
            continue;
        t->id_str[e->id] = e->s;
        t->id_len[e->id] = e->len;
    }
    for (uint32_t i = 0; i < t->n_added; i++) {
        const AddedTok *a = &t->added[i];
        t->id_str[a->id] = a->s;
        t->id_len[a->id] = a->len;
        t->id_flags[a->id] = (uint8_t)(TF_ADDED | (a->special ? TF_SPECIAL : 0));
    }
    /* the added-token matcher: per set, counting sort by first byte, then
     * longest first within a bucket (insertion sort: buckets are small) */
    for (int set = 0; set < 2; set++) {
        t->order[set] = malloc((t->n_added + 1) * sizeof *t->order[set]);
        if (!t->order[set]) return ld_oom(L);
        uint32_t count[257] = { 0 };
        for (uint32_t i = 0; i < t->n_added; i++)
            if (t->added[i].normalized == set) count[(unsigned char)t->added[i].s[0] + 1]++;
        for (int c = 0; c < 256; c++) count[c + 1] += count[c];
        memcpy(t->first[set], count, sizeof count);
        for (uint32_t i = 0; i < t->n_added; i++) {
            if (t->added[i].normalized != set) continue;
            unsigned c = (unsigned char)t->added[i].s[0];
            uint32_t k = count[c]++;
            while (k > t->first[set][c] && t->added[t->order[set][k - 1]].len < t->added[i].len) {
                t->order[set][k] = t->order[set][k - 1];
                k--;
            }
            t->order[set][k] = i;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* tok_load                                                            */

static int load_main(Ld *L, const cJSON *root, const cJSON *cfg, char *cfg_path, const char *json_path)
{
    Tokenizer *t = L->t;
    size_t added_cap = 0;
    int cap;
    if (!cJSON_IsObject(root)) return expect(L, root, "$", 0, "an object");
    if (parse_model(L, root) || parse_added(L, root, &added_cap)) return -1;
    if (cfg) {
        L->file = cfg_path;
        if (parse_config_added(L, cfg, &added_cap)) return -1;
        L->file = json_path;
    }
    const cJSON *nz = get(root, "normalizer");
    cap = 0;
    if (nz && !cJSON_IsNull(nz) && parse_normalizer(L, nz, "$.normalizer", &cap)) return -1;
    const cJSON *pt = get(root, "pre_tokenizer");
    cap = 0;
    if (pt && !cJSON_IsNull(pt) && parse_pretok(L, pt, "$.pre_tokenizer", &cap)) return -1;
    const cJSON *dc = get(root, "decoder");
    cap = 0;
    int fused = 0;
    t->has_decoder = dc && !cJSON_IsNull(dc);
    if (t->has_decoder && parse_decoder(L, dc, "$.decoder", &cap, &fused)) return -1;
    if (parse_postproc(L, get(root, "post_processor"), "$.post_processor")) return -1;
    if (build_tables(L)) return -1;
    for (size_t i = 0; i < t->n_def_prefix + t->n_def_suffix; i++) {
        int32_t id = i < t->n_def_prefix ? t->def_prefix[i] : t->def_suffix[i - t->n_def_prefix];
        if (id >= t->n_ids || !t->id_str[id])
            return ld_fail(L, "$.post_processor", "token id %d is not in the vocabulary", (int)id);
    }
    if (t->n_def_prefix) t->bos = t->def_prefix[0];
    return 0;
}

Tokenizer *tok_load(const char *path, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!path) { tok_fail(err, errlen, "tokenizer: error: no path given"); return NULL; }
    Tokenizer *t = calloc(1, sizeof *t);
    if (!t) { tok_fail(err, errlen, "%s: error: out of memory", path); return NULL; }
    t->bos = -1;
    t->unk_id = -1;
    Ld L = { t, path, err, errlen, 1.0 };
    char *json_path = NULL, *dir = NULL, *cfg_path = NULL, *gen_path = NULL, *buf = NULL;
    cJSON *root = NULL, *cfg = NULL, *gen = NULL;
    int ok = 0;

    struct stat st;
    size_t pl = strlen(path);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        json_path = malloc(pl + 16);
        dir = strdup(path);
        if (json_path) snprintf(json_path, pl + 16, "%s/tokenizer.json", path);
    } else {
        json_path = strdup(path);
        const char *slash = strrchr(path, '/');
        dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    }
    if (!json_path || !dir) { ld_oom(&L); goto done; }
    t->path = json_path;
    L.file = json_path;

    size_t len;
    int rc = read_file(&L, json_path, &buf, &len);
    if (rc == -1) { ld_fail(&L, NULL, "cannot open: %s", strerror(errno)); goto done; }
    if (rc) goto done;
    root = parse_json(&L, buf, len);
    free(buf);
    buf = NULL;
    if (!root) goto done;
    if (load_side_json(&L, dir, "tokenizer_config.json", &cfg_path, &cfg)) goto done;
    if (load_side_json(&L, dir, "generation_config.json", &gen_path, &gen)) goto done;
    L.file = json_path;
    if (load_main(&L, root, cfg, cfg_path, json_path)) goto done;
    if (cfg) {
        L.file = cfg_path;
        if (parse_config_tokens(&L, cfg)) goto done;
    }
    if (gen) {
        L.file = gen_path;
        if (parse_genconfig(&L, gen)) goto done;
    }
    L.file = json_path;
    if (t->bos >= t->n_ids || (t->bos >= 0 && !t->id_str[t->bos])) {
        ld_fail(&L, NULL, "the BOS id %d is not in the vocabulary", (int)t->bos);
        goto done;
    }
    for (size_t i = 0; i < t->n_eos; i++)
        if (t->eos[i] >= t->n_ids || !t->id_str[t->eos[i]]) {
            ld_fail(&L, NULL, "the EOS id %d is not in the vocabulary", (int)t->eos[i]);
            goto done;
        }
    ok = 1;
done:
    free(buf);
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    cJSON_Delete(gen);
    free(dir);
    free(cfg_path);
    free(gen_path);
    if (!ok) {
        if (!t->path) free(json_path);
        tok_free(t);
        return NULL;
    }
    return t;
}

void tok_free(Tokenizer *t)
{
    if (!t) return;
    for (int i = 0; i < t->n_norm; i++) pcre2_code_free(t->norm[i].pat.re);
    for (int i = 0; i < t->n_pre; i++) pcre2_code_free(t->pre[i].pat.re);
    free(t->norm);
    free(t->pre);
    free(t->dec);
    free(t->vocab.slots);
    free(t->merges.slots);
    free(t->id_str);
    free(t->id_len);
    free(t->id_flags);
    free(t->added);
    free(t->order[0]);
    free(t->order[1]);
    free(t->eos);
    free(t->def_prefix);
    free(t->def_suffix);
    for (PoolChunk *c = t->pool, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(t->path);
    free(t);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */

int32_t tok_vocab_size(const Tokenizer *t) { return t ? t->n_ids : 0; }
int32_t tok_bos(const Tokenizer *t) { return t ? t->bos : -1; }
int tok_clean_up_default(const Tokenizer *t) { return t ? t->cleanup_default : 0; }

const int32_t *tok_eos_ids(const Tokenizer *t, size_t *n)
{
    if (n) *n = t ? t->n_eos : 0;
    return t ? t->eos : NULL;
}

int tok_is_eos(const Tokenizer *t, int32_t id)
{
    for (size_t i = 0; t && i < t->n_eos; i++)
        if (t->eos[i] == id) return 1;
    return 0;
}

int tok_is_special(const Tokenizer *t, int32_t id)
{
    return t && id >= 0 && id < t->n_ids && (t->id_flags[id] & TF_SPECIAL);
}

int32_t tok_find(const Tokenizer *t, const char *piece)
{
    return t && piece ? find_token(t, piece, strlen(piece)) : -1;
}

const char *tok_piece(const Tokenizer *t, int32_t id, size_t *len)
{
    if (!t || id < 0 || id >= t->n_ids || !t->id_str[id]) return NULL;
    if (len) *len = t->id_len[id];
    return t->id_str[id];
}
