/* tokenizer_decode.c - token ids -> text, all at once and streaming.
 *
 * tok_decode() is a literal transcription of HuggingFace's decode: the ids
 * become their token strings (added tokens by content, special ones left
 * out on request), and the decoder steps rewrite that list of strings one
 * after another (ByteLevel: characters back to bytes, then UTF-8 decoding
 * with U+FFFD for each maximal invalid subsequence, like Rust's
 * from_utf8_lossy; ByteFallback: a run of <0xNN> tokens becomes its bytes
 * if they are valid UTF-8, else one U+FFFD per byte; Fuse joins; Strip,
 * Replace and Metaspace work per string).  Without a decoder the tokens
 * are joined with spaces.
 *
 * The streaming decoder (TokStream) runs the same steps incrementally, as
 * a chain of small state machines: each step receives either a whole token
 * or, once a Fuse or ByteLevel step has joined everything into one string,
 * a chunk of that string, and passes its output on.  A step holds back
 * only what it cannot decide yet:
 *   ByteLevel    an incomplete UTF-8 sequence at the end (<= 3 bytes);
 *   ByteFallback the current run of byte tokens, until a non-byte token
 *                shows whether the whole run is valid UTF-8 (HuggingFace
 *                turns an invalid run entirely into U+FFFD, so emitting
 *                its valid prefix early could differ from tok_decode);
 *   Replace      (after a join) a suffix that may start the pattern;
 *   Strip        (after a join) trailing characters it may have to strip,
 *                and it strips the leading ones from the very start.
 * finish() flushes every step in order.  The stream's output is therefore
 * exactly tok_decode()'s, cut at points where the text is final; the tests
 * check this for every fixture text and for random id sequences.
 */
#include "tokenizer_impl.h"

#include <stdlib.h>
#include <string.h>

static const char FFFD[] = "\xEF\xBF\xBD";

/* At s[0..n): > 0 the length of a valid UTF-8 character; -k an invalid
 * maximal subpart of k bytes (one U+FFFD); 0 a valid but incomplete
 * prefix that reaches the end. */
static int utf8_step(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    int len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return -1;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n) return 0;
        unsigned b = s[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return -i;
    }
    return len;
}

/* Appends the lossy decoding of s[0..n) to out; returns how many bytes
 * at the end form an incomplete sequence (not consumed) unless final. */
static size_t lossy(TBuf *out, const unsigned char *s, size_t n, int final)
{
    size_t i = 0;
    while (i < n) {
        int k = utf8_step(s + i, n - i);
        if (k > 0) { tok_buf_put(out, s + i, (size_t)k); i += (size_t)k; }
        else if (k < 0) { tok_buf_put(out, FFFD, 3); i += (size_t)-k; }
        else if (final) { tok_buf_put(out, FFFD, 3); i = n; }
        else return n - i;
    }
    return 0;
}

static int valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        int k = utf8_step((const unsigned char *)s + i, n - i);
        if (k <= 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "<0xNN>" as HuggingFace's ByteFallback decoder recognises it (Rust's
 * u8::from_str_radix also takes "+N"); the byte, or -1. */
static int byte_token(const char *s, size_t n)
{
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    int a = hexval(s[3]), b = hexval(s[4]);
    if (s[3] == '+' && b >= 0) return b;
    return a >= 0 && b >= 0 ? a * 16 + b : -1;
}

/* Token bytes for ByteLevel: each character mapped back to its byte, or,
 * if any character is outside the byte alphabet, the raw UTF-8. */
static void bytelevel_token(TBuf *out, const char *s, size_t n)
{
    size_t start = out->len;
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        int l = tok_utf8_dec((const unsigned char *)s + i, n - i, &cp);
        int b = l > 0 ? tok_bytelevel_byte(cp) : -1;
        if (b < 0) {
            out->len = start;
            tok_buf_put(out, s, n);
            return;
        }
        tok_buf_putc(out, (char)b);
        i += (size_t)l;
    }
}

static int check_id(const Tokenizer *t, int32_t id, char *err, size_t errlen)
{
    if (id < 0 || id >= t->n_ids)
        return tok_fail(err, errlen, "tokenizer: error: token id %d is out of range (vocabulary size %d)",
                        (int)id, (int)t->n_ids);
    if (!t->id_str[id])
        return tok_fail(err, errlen, "tokenizer: error: token id %d has no token in the vocabulary", (int)id);
    return 0;
}

/* ------------------------------------------------------------------ */
/* tok_decode: lists of strings, step by step                          */

typedef struct SList { TBuf data; size_t *off, *len; size_t n, cap; int oom; } SList;

static void sl_push(SList *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        size_t *a = realloc(l->off, nc * sizeof *a), *b;
        if (a) l->off = a;
        b = a ? realloc(l->len, nc * sizeof *b) : NULL;
        if (!a || !b) { l->oom = 1; return; }
        l->len = b;
        l->cap = nc;
    }
    l->off[l->n] = l->data.len;
    l->len[l->n++] = n;
    tok_buf_put(&l->data, s, n);
    if (l->data.oom) l->oom = 1;
}

static void sl_free(SList *l)
{
    tok_buf_free(&l->data);
    free(l->off);
    free(l->len);
    memset(l, 0, sizeof *l);
}

#define SL_STR(l, i) ((l)->data.p + (l)->off[i])

/* Strip / Metaspace on one string (also used by the stream in token mode). */
static void strip_token(TBuf *out, const DecStep *st, const char *s, size_t n)
{
    char c[4];
    size_t cl = (size_t)tok_utf8_enc(st->cp, c), a = 0, b = n;
    for (size_t k = 0; k < st->start && a + cl <= b && !memcmp(s + a, c, cl); k++) a += cl;
    for (size_t k = 0; k < st->stop && b >= a + cl && !memcmp(s + b - cl, c, cl); k++) b -= cl;
    tok_buf_put(out, s + a, b - a);
}

static void metaspace_token(TBuf *out, const DecStep *st, const char *s, size_t n, int first)
{
    char c[4];
    size_t cl = (size_t)tok_utf8_enc(st->cp, c);
    for (size_t i = 0; i < n;) {
        if (i + cl <= n && !memcmp(s + i, c, cl)) {
            if (!(first && st->prepend != PREPEND_NEVER)) tok_buf_putc(out, ' ');
            i += cl;
        } else {
            tok_buf_putc(out, s[i++]);
        }
    }
}

static void replace_token(TBuf *out, const DecStep *st, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *p = st->patlen <= n - i ? memmem(s + i, n - i, st->pat, st->patlen) : NULL;
        if (!p) break;
        tok_buf_put(out, s + i, (size_t)(p - s) - i);
        tok_buf_put(out, st->content, st->contentlen);
        i = (size_t)(p - s) + st->patlen;
    }
    tok_buf_put(out, s + i, n - i);
}

static void flush_bytes(SList *out, TBuf *run)
{
    if (!run->len) return;
    if (valid_utf8(run->p, run->len)) sl_push(out, run->p, run->len);
    else for (size_t k = 0; k < run->len; k++) sl_push(out, FFFD, 3);
    run->len = 0;
}

static void apply_step(const DecStep *st, SList *in, SList *out, TBuf *tmp)
{
    out->n = 0;
    out->data.len = 0;
    if (st->kind == DEC_BYTELEVEL || st->kind == DEC_FUSE) {
        tmp->len = 0;
        for (size_t i = 0; i < in->n; i++) {
            if (st->kind == DEC_FUSE) tok_buf_put(tmp, SL_STR(in, i), in->len[i]);
            else bytelevel_token(tmp, SL_STR(in, i), in->len[i]);
        }
        if (st->kind == DEC_FUSE) { sl_push(out, tmp->p ? tmp->p : "", tmp->len); return; }
        TBuf txt = { 0 };
        tok_buf_put(&txt, "", 0);
        lossy(&txt, (const unsigned char *)(tmp->p ? tmp->p : ""), tmp->len, 1);
        sl_push(out, txt.p ? txt.p : "", txt.len);
        if (txt.oom) out->oom = 1;
        tok_buf_free(&txt);
        return;
    }
    if (st->kind == DEC_BYTEFALLBACK) {
        tmp->len = 0;
        for (size_t i = 0; i < in->n; i++) {
            int b = byte_token(SL_STR(in, i), in->len[i]);
            if (b >= 0) { tok_buf_putc(tmp, (char)b); continue; }
            flush_bytes(out, tmp);
            sl_push(out, SL_STR(in, i), in->len[i]);
        }
        flush_bytes(out, tmp);
        return;
    }
    for (size_t i = 0; i < in->n; i++) {
        tmp->len = 0;
        tok_buf_put(tmp, "", 0);
        if (st->kind == DEC_REPLACE) replace_token(tmp, st, SL_STR(in, i), in->len[i]);
        else if (st->kind == DEC_STRIP) strip_token(tmp, st, SL_STR(in, i), in->len[i]);
        else metaspace_token(tmp, st, SL_STR(in, i), in->len[i], i == 0);
        sl_push(out, tmp->p, tmp->len);
    }
}

/* transformers' clean_up_tokenization: the replacements in its order */
static void cleanup(TBuf *b)
{
    static const char *const from[] = { " .", " ?", " !", " ,", " ' ", " n't", " 'm", " 's", " 've", " 're" };
    static const char *const to[] = { ".", "?", "!", ",", "'", "n't", "'m", "'s", "'ve", "'re" };
    for (int r = 0; r < 10; r++) {
        size_t fl = strlen(from[r]), tl = strlen(to[r]), w = 0, i = 0;
        while (i < b->len) {   /* in place: the result is never longer */
            if (i + fl <= b->len && !memcmp(b->p + i, from[r], fl)) {
                memmove(b->p + w, to[r], tl);
                w += tl;
                i += fl;
            } else {
                b->p[w++] = b->p[i++];
            }
        }
        b->len = w;
        if (b->p) b->p[w] = '\0';
    }
}

int tok_decode(const Tokenizer *t, const int32_t *ids, size_t n, unsigned flags,
               char **text, size_t *len, char *err, size_t errlen)
{
    if (text) *text = NULL;
    if (len) *len = 0;
    if (!t || !text || (!ids && n))
        return tok_fail(err, errlen, "tokenizer: error: invalid arguments to tok_decode");
    for (size_t i = 0; i < n; i++)
        if (check_id(t, ids[i], err, errlen)) return -1;
    SList a = { 0 }, b = { 0 };
    TBuf tmp = { 0 }, res = { 0 };
    for (size_t i = 0; i < n; i++)
        if (!((flags & TOK_SKIP_SPECIAL) && (t->id_flags[ids[i]] & TF_SPECIAL)))
            sl_push(&a, t->id_str[ids[i]], t->id_len[ids[i]]);
    SList *cur = &a, *nxt = &b;
    for (int k = 0; k < t->n_dec; k++) {
        apply_step(&t->dec[k], cur, nxt, &tmp);
        SList *x = cur; cur = nxt; nxt = x;
    }
    tok_buf_put(&res, "", 0);
    for (size_t i = 0; i < cur->n; i++) {
        if (i && !t->has_decoder) tok_buf_putc(&res, ' ');
        tok_buf_put(&res, SL_STR(cur, i), cur->len[i]);
    }
    if (flags & TOK_CLEANUP) cleanup(&res);
    int oom = a.oom || b.oom || tmp.oom || res.oom;
    sl_free(&a);
    sl_free(&b);
    tok_buf_free(&tmp);
    if (oom) {
        tok_buf_free(&res);
        return tok_fail(err, errlen, "tokenizer: error: out of memory");
    }
    *text = res.p;
    if (len) *len = res.len;
    return 0;
}

/* ------------------------------------------------------------------ */
/* TokStream                                                           */

typedef struct StepState {
    TBuf held;         /* ByteLevel: incomplete bytes; ByteFallback: the run;
                          Replace (joined): a possible pattern start */
    size_t count;      /* tokens seen (token mode) / chunks seen (joined) */
    size_t strip_left; /* Strip (joined): leading characters still to strip */
    size_t held_cps;   /* Strip (joined): trailing content characters held */
} StepState;

struct TokStream {
    const Tokenizer *t;
    unsigned flags;
    StepState *st;     /* [n_dec] */
    int *joined;       /* [n_dec + 1]: a Fuse/ByteLevel runs before step k */
    size_t ntok;       /* tokens output (no-decoder join) */
    TBuf out;
};

static void sfeed(TokStream *s, int k, const char *p, size_t n, int newtok);

/* Hands on a step's output; in joined mode only the first chunk opens a token. */
static void pass(TokStream *s, int k, const char *p, size_t n)
{
    StepState *st = &s->st[k];
    if (n == 0 && s->joined[k + 1]) return;
    int newtok = !s->joined[k + 1] || st->count++ == 0;
    sfeed(s, k + 1, p, n, newtok);
}

static void flush_run(TokStream *s, int k)
{
    TBuf *run = &s->st[k].held;
    if (!run->len) return;
    TBuf copy = { 0 };     /* pass() may re-enter the step's successors only */
    tok_buf_put(&copy, run->p, run->len);
    run->len = 0;
    if (copy.oom) { s->out.oom = 1; return; }
    if (valid_utf8(copy.p, copy.len)) pass(s, k, copy.p, copy.len);
    else for (size_t i = 0; i < copy.len; i++) pass(s, k, FFFD, 3);
    tok_buf_free(&copy);
}

/* Strip after a join: leading chars from the start, trailing ones held. */
static void strip_joined(TokStream *s, int k, const char *p, size_t n)
{
    const DecStep *d = &s->t->dec[k];
    StepState *st = &s->st[k];
    char c[4];
    size_t cl = (size_t)tok_utf8_enc(d->cp, c);
    while (st->strip_left && n) {
        if (n >= cl && !memcmp(p, c, cl)) { p += cl; n -= cl; st->strip_left--; }
        else st->strip_left = 0;
    }
    if (!n) return;
    st->strip_left = 0;
    size_t trail = 0;   /* trailing content chars of held + p */
    while (trail * cl < n && !memcmp(p + n - (trail + 1) * cl, c, cl)) trail++;
    int all = trail * cl == n;
    size_t total = all ? trail + st->held_cps : trail;
    size_t keep = total < d->stop ? total : d->stop;
    TBuf *b = &st->held;
    b->len = 0;
    if (!all) for (size_t i = 0; i < st->held_cps; i++) tok_buf_put(b, c, cl);
    size_t body = n - (all ? n : trail * cl);
    tok_buf_put(b, p, body);
    for (size_t i = keep; i < total; i++) tok_buf_put(b, c, cl);
    st->held_cps = keep;
    if (b->oom) { s->out.oom = 1; return; }
    if (b->len) pass(s, k, b->p, b->len);   /* pass() only reaches later steps */
}

/* Replace after a join: replaces the complete matches, and holds back
 * the tail from the first position where an incomplete match may start. */
static void replace_joined(TokStream *s, int k, const char *p, size_t n, int final)
{
    const DecStep *d = &s->t->dec[k];
    TBuf *h = &s->st[k].held;
    tok_buf_put(h, p, n);
    if (h->oom) { s->out.oom = 1; return; }
    TBuf out = { 0 };
    tok_buf_put(&out, "", 0);
    size_t i = 0, len = h->len;
    for (;;) {
        const char *m = d->patlen <= len - i ? memmem(h->p + i, len - i, d->pat, d->patlen) : NULL;
        if (!m) break;
        tok_buf_put(&out, h->p + i, (size_t)(m - h->p) - i);
        tok_buf_put(&out, d->content, d->contentlen);
        i = (size_t)(m - h->p) + d->patlen;
    }
    size_t cut = len;
    for (size_t j = i; !final && j < len; j++)
        if (len - j < d->patlen && !memcmp(h->p + j, d->pat, len - j)) { cut = j; break; }
    tok_buf_put(&out, h->p + i, cut - i);
    memmove(h->p, h->p + cut, len - cut);
    h->len = len - cut;
    if (out.oom) s->out.oom = 1;
    else pass(s, k, out.p, out.len);
    tok_buf_free(&out);
}

static void sfeed(TokStream *s, int k, const char *p, size_t n, int newtok)
{
    const Tokenizer *t = s->t;
    if (k == t->n_dec) {
        if (!t->has_decoder && newtok && s->ntok++ > 0) tok_buf_putc(&s->out, ' ');
        tok_buf_put(&s->out, p, n);
        return;
    }
    const DecStep *d = &t->dec[k];
    StepState *st = &s->st[k];
    switch (d->kind) {
    case DEC_BYTELEVEL: {
        TBuf *h = &st->held;
        bytelevel_token(h, p, n);
        TBuf txt = { 0 };
        tok_buf_put(&txt, "", 0);
        size_t rest = lossy(&txt, (const unsigned char *)(h->p ? h->p : ""), h->len, 0);
        if (rest) memmove(h->p, h->p + h->len - rest, rest);
        h->len = rest;
        if (txt.oom || h->oom) s->out.oom = 1;
        else pass(s, k, txt.p, txt.len);
        tok_buf_free(&txt);
        return;
    }
    case DEC_FUSE:
        pass(s, k, p, n);
        return;
    case DEC_BYTEFALLBACK: {
        int b = byte_token(p, n);
        if (b >= 0) { tok_buf_putc(&st->held, (char)b); return; }
        flush_run(s, k);
        pass(s, k, p, n);
        return;
    }
    case DEC_REPLACE:
        if (s->joined[k]) { replace_joined(s, k, p, n, 0); return; }
        break;
    case DEC_STRIP:
        if (s->joined[k]) { strip_joined(s, k, p, n); return; }
        break;
    default:
        break;
    }
    /* per-token steps: a whole token (or, joined, a chunk of token 0) */
    TBuf local = { 0 };
    tok_buf_put(&local, "", 0);
    if (d->kind == DEC_REPLACE) replace_token(&local, d, p, n);
    else if (d->kind == DEC_STRIP) strip_token(&local, d, p, n);
    else metaspace_token(&local, d, p, n, s->joined[k] || st->count == 0);
    if (!s->joined[k] && newtok) st->count++;
    if (local.oom) s->out.oom = 1;
    else pass(s, k, local.p, local.len);
    tok_buf_free(&local);
}

static void stream_reset(TokStream *s)
{
    const Tokenizer *t = s->t;
    for (int k = 0; k < t->n_dec; k++) {
        s->st[k].held.len = 0;
        s->st[k].count = 0;
        s->st[k].held_cps = 0;
        s->st[k].strip_left = t->dec[k].start;
    }
    s->ntok = 0;
}

TokStream *tok_stream_new(const Tokenizer *t, unsigned flags, char *err, size_t errlen)
{
    if (!t) { tok_fail(err, errlen, "tokenizer: error: no tokenizer"); return NULL; }
    TokStream *s = calloc(1, sizeof *s);
    if (s) {
        s->t = t;
        s->st = calloc((size_t)t->n_dec + 1, sizeof *s->st);
        s->joined = calloc((size_t)t->n_dec + 1, sizeof *s->joined);
    }
    if (!s || !s->st || !s->joined) {
        tok_stream_free(s);
        tok_fail(err, errlen, "tokenizer: error: out of memory");
        return NULL;
    }
    s->t = t;
    s->flags = flags;
    for (int k = 0; k < t->n_dec; k++)
        s->joined[k + 1] = s->joined[k] || t->dec[k].kind == DEC_FUSE || t->dec[k].kind == DEC_BYTELEVEL;
    stream_reset(s);
    return s;
}

static int stream_out(TokStream *s, const char **out, size_t *outlen, char *err, size_t errlen)
{
    if (s->out.oom) {
        s->out.oom = 0;
        s->out.len = 0;
        if (out) *out = "";
        if (outlen) *outlen = 0;
        return tok_fail(err, errlen, "tokenizer: error: out of memory");
    }
    if (out) *out = s->out.p ? s->out.p : "";
    if (outlen) *outlen = s->out.len;
    return 0;
}

int tok_stream_put(TokStream *s, int32_t id, const char **out, size_t *outlen, char *err, size_t errlen)
{
    if (out) *out = "";
    if (outlen) *outlen = 0;
    if (!s) return tok_fail(err, errlen, "tokenizer: error: no stream");
    const Tokenizer *t = s->t;
    if (check_id(t, id, err, errlen)) return -1;
    s->out.len = 0;
    if (s->out.p) s->out.p[0] = '\0';
    if (!((s->flags & TOK_SKIP_SPECIAL) && (t->id_flags[id] & TF_SPECIAL)))
        sfeed(s, 0, t->id_str[id], t->id_len[id], 1);
    return stream_out(s, out, outlen, err, errlen);
}

int tok_stream_finish(TokStream *s, const char **out, size_t *outlen)
{
    if (out) *out = "";
    if (outlen) *outlen = 0;
    if (!s) return -1;
    const Tokenizer *t = s->t;
    s->out.len = 0;
    if (s->out.p) s->out.p[0] = '\0';
    for (int k = 0; k < t->n_dec; k++) {
        const DecStep *d = &t->dec[k];
        StepState *st = &s->st[k];
        if (d->kind == DEC_BYTEFALLBACK) flush_run(s, k);
        else if (d->kind == DEC_REPLACE && s->joined[k]) replace_joined(s, k, "", 0, 1);
        else if (d->kind == DEC_BYTELEVEL && st->held.len) {
            st->held.len = 0;
            pass(s, k, FFFD, 3);     /* an incomplete sequence at the end */
        }
        /* Strip (joined): the held trailing characters are stripped */
    }
    int rc = stream_out(s, out, outlen, NULL, 0);
    stream_reset(s);
    return rc;
}

void tok_stream_free(TokStream *s)
{
    if (!s) return;
    for (int k = 0; s->st && k < s->t->n_dec; k++) tok_buf_free(&s->st[k].held);
    free(s->st);
    free(s->joined);
    tok_buf_free(&s->out);
    free(s);
}
