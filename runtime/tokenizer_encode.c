/* tokenizer_encode.c - text -> token ids, following HuggingFace's
 * tokenizers pipeline step by step so that the ids come out identical:
 *
 *   1. added tokens (special or not) that are not "normalized" are found in
 *      the raw text, leftmost-longest, and cut out; they are never split
 *      (lstrip/rstrip widen the cut over neighbouring whitespace);
 *   2. each remaining segment is normalized (Prepend "▁", Replace " "->"▁"
 *      for LLaMA 1/2), then searched for "normalized" added tokens;
 *   3. the pre-tokenizer steps split each segment into pieces (Llama 3's
 *      Split regex, then ByteLevel mapping bytes to printable characters);
 *   4. each piece is a BPE word: with ignore_merges a piece that is a
 *      vocabulary entry is emitted as is; otherwise it starts as one symbol
 *      per character (byte-fallback <0xNN> tokens, or unk, for characters
 *      outside the vocabulary) and the adjacent pair with the lowest merge
 *      rank is merged until none is left.  The merge loop is HuggingFace's
 *      Word::merge_all: a binary heap of (rank, position) with stale
 *      entries skipped, so a whole LLaMA-2 paragraph (which has no
 *      pre-tokenizer, hence one word) costs O(n log n), not O(n^2).
 *
 * "origin" below tracks whether a piece starts at offset 0 of the original
 * text (Metaspace's prepend_scheme "first" needs it).  All scratch memory
 * lives in one Enc per call, so a const Tokenizer can be shared by threads.
 */
#include "tokenizer_impl.h"

#include <stdlib.h>
#include <string.h>

typedef struct Piece { size_t off, len; int origin; } Piece;
typedef struct PieceVec { Piece *v; size_t n, cap; } PieceVec;
typedef struct Span { size_t s, e; int32_t id; } Span;   /* id -1: text */
typedef struct SpanVec { Span *v; size_t n, cap; } SpanVec;
typedef struct Sym { int32_t id, prev, next; uint32_t len; } Sym;
typedef struct Merge { int32_t rank, pos, id; } Merge;

typedef struct Enc {
    const Tokenizer *t;
    unsigned flags;
    char *err;
    size_t errlen;
    pcre2_match_data *md;
    size_t limit;              /* the longest text the steps may make (TOK_MAX_GROWTH) */
    size_t in_len;             /* the input's length, for that message */
    int32_t *ids;
    size_t n, cap;
    int oom;
    TBuf norm, pa, pb, tmp, sub;
    PieceVec va, vb;
    SpanVec spans[2], sp;
    Sym *sym;
    size_t nsym, symcap;
    Merge *heap;
    size_t nheap, heapcap;
} Enc;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static void push_id(Enc *E, int32_t id)
{
    if (grow((void **)&E->ids, &E->cap, E->n + 1, sizeof *E->ids)) { E->oom = 1; return; }
    E->ids[E->n++] = id;
}

static void push_span(Enc *E, SpanVec *v, size_t s, size_t e, int32_t id)
{
    if (grow((void **)&v->v, &v->cap, v->n + 1, sizeof *v->v)) { E->oom = 1; return; }
    v->v[v->n++] = (Span){ s, e, id };
}

/* Appends a piece (copied into buf) unless it is empty. */
static void push_piece(Enc *E, PieceVec *v, TBuf *buf, const char *s, size_t n, int origin)
{
    if (n == 0) return;
    if (grow((void **)&v->v, &v->cap, v->n + 1, sizeof *v->v)) { E->oom = 1; return; }
    v->v[v->n++] = (Piece){ buf->len, n, origin };
    tok_buf_put(buf, s, n);
    if (buf->oom) E->oom = 1;
}

/* ------------------------------------------------------------------ */
/* Added tokens                                                        */

static int prev_char(const char *s, size_t i, uint32_t *cp)   /* start of the char before i */
{
    size_t k = i;
    do k--; while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80);
    tok_utf8_dec((const unsigned char *)s + k, i - k, cp);
    return (int)(i - k);
}

static int is_word_char(uint32_t c)
{
    return (c < 0x80 && ((c | 0x20) - 'a' < 26 || c - '0' < 10 || c == '_')) ||
           (c >= 0x80 && !tok_is_space(c));
}

/* Splits s[0..n) into text spans and added-token spans of set `set`. */
static void split_added(Enc *E, int set, const char *s, size_t n, SpanVec *out)
{
    const Tokenizer *t = E->t;
    out->n = 0;
    size_t seg = 0, pos = 0;
    int any = t->first[set][256] > 0;
    while (any && pos < n) {
        unsigned c = (unsigned char)s[pos];
        const AddedTok *hit = NULL;
        for (uint32_t k = t->first[set][c]; k < t->first[set][c + 1]; k++) {
            const AddedTok *a = &t->added[t->order[set][k]];
            if (a->len <= n - pos && memcmp(s + pos, a->s, a->len) == 0) { hit = a; break; }
        }
        if (!hit) {
            pos++;
            while (pos < n && ((unsigned char)s[pos] & 0xC0) == 0x80) pos++;
            continue;
        }
        size_t start = pos, stop = pos + hit->len;
        int skip = hit->special && (E->flags & TOK_SPECIAL_AS_TEXT);
        if (!skip && hit->single_word) {
            uint32_t cp = 0;
            if (start > 0 && (prev_char(s, start, &cp), is_word_char(cp))) skip = 1;
            if (stop < n && tok_utf8_dec((const unsigned char *)s + stop, n - stop, &cp) && is_word_char(cp)) skip = 1;
        }
        if (skip) {   /* as HuggingFace: the match is consumed, not retried shorter */
            pos = stop;
            continue;
        }
        if (hit->lstrip)
            while (start > seg) {
                uint32_t cp = 0;
                int l = prev_char(s, start, &cp);
                if (!tok_is_space(cp)) break;
                start -= (size_t)l;
            }
        if (hit->rstrip)
            while (stop < n) {
                uint32_t cp = 0;
                int l = tok_utf8_dec((const unsigned char *)s + stop, n - stop, &cp);
                if (l <= 0 || !tok_is_space(cp)) break;
                stop += (size_t)l;
            }
        if (start > seg) push_span(E, out, seg, start, -1);
        push_span(E, out, start, stop, hit->id);
        seg = pos = stop;
    }
    if (n > seg) push_span(E, out, seg, n, -1);
}

/* ------------------------------------------------------------------ */
/* Normalizers                                                         */

/* A step made the text longer than E->limit: the error (not out of
 * memory: the tokenizer's steps would grow it without bound). */
static int too_long(Enc *E, const char *stage)
{
    return tok_fail(E->err, E->errlen, "tokenizer: error: the %s steps make the text longer than %zu bytes "
                    "(at most %d times the input's %zu bytes, plus %d)",
                    stage, E->limit, TOK_MAX_GROWTH, E->in_len, TOK_GROWTH_SLACK);
}

/* Replaces every match of pat in in[0..n) by rep, into out. */
static int replace_all(Enc *E, const TokPattern *pat, const char *in, size_t n,
                       const char *rep, size_t replen, TBuf *out)
{
    out->len = 0;
    tok_buf_put(out, "", 0);
    size_t pos = 0, ms, me;
    for (;;) {
        int r = tok_pattern_find(pat, in, n, pos, E->md, &ms, &me, E->err, E->errlen);
        if (r < 0) return -1;
        if (!r) break;
        if (out->len + (ms - pos) + replen > E->limit) return too_long(E, "normalizer");
        tok_buf_put(out, in + pos, ms - pos);
        tok_buf_put(out, rep, replen);
        pos = me;
    }
    if (out->len + (n - pos) > E->limit) return too_long(E, "normalizer");
    tok_buf_put(out, in + pos, n - pos);
    return out->oom ? (E->oom = 1, -1) : 0;
}

static int normalize(Enc *E, const char *s, size_t n)
{
    const Tokenizer *t = E->t;
    TBuf *cur = &E->norm, *alt = &E->tmp;
    cur->len = 0;
    tok_buf_put(cur, s, n);
    for (int i = 0; i < t->n_norm; i++) {
        const NormStep *st = &t->norm[i];
        if (st->kind == NORM_PREPEND) {
            if (cur->len == 0) continue;
            if (cur->len + st->slen > E->limit) return too_long(E, "normalizer");
            alt->len = 0;
            tok_buf_put(alt, st->s, st->slen);
            tok_buf_put(alt, cur->p, cur->len);
        } else if (st->kind == NORM_REPLACE) {
            if (replace_all(E, &st->pat, cur->p, cur->len, st->s, st->slen, alt)) return -1;
        } else {   /* NORM_STRIP */
            size_t a = 0, b = cur->len;
            uint32_t cp;
            int l;
            while (st->left && a < b && (l = tok_utf8_dec((unsigned char *)cur->p + a, b - a, &cp)) > 0 &&
                   tok_is_space(cp))
                a += (size_t)l;
            while (st->right && b > a && (l = prev_char(cur->p, b, &cp)) > 0 && tok_is_space(cp))
                b -= (size_t)l;
            alt->len = 0;
            tok_buf_put(alt, cur->p + a, b - a);
        }
        TBuf x = *cur; *cur = *alt; *alt = x;
    }
    if (cur->oom || alt->oom) { E->oom = 1; return -1; }
    return 0;   /* the swaps exchange contents: the result is in E->norm */
}

/* ------------------------------------------------------------------ */
/* Pre-tokenizers                                                      */

/* Splits one piece by a pattern with a HuggingFace split behavior. */
static int split_piece(Enc *E, const char *s, size_t n, int origin, const TokPattern *pat,
                       int behavior, int invert, PieceVec *out, TBuf *buf)
{
    SpanVec *sp = &E->sp;
    sp->n = 0;
    size_t pos = 0, ms, me;
    for (;;) {   /* spans covering s: id 1 for a match, 0 otherwise */
        int r = tok_pattern_find(pat, s, n, pos, E->md, &ms, &me, E->err, E->errlen);
        if (r < 0) return -1;
        if (!r) break;
        if (ms > pos) push_span(E, sp, pos, ms, 0);
        push_span(E, sp, ms, me, 1);
        pos = me;
    }
    if (n > pos) push_span(E, sp, pos, n, 0);
    if (E->oom) return -1;
    for (size_t i = 0; i < sp->n; i++) sp->v[i].id ^= invert;
    size_t k = 0;   /* merge spans in place by behavior */
    switch (behavior) {
    case SPLIT_REMOVED:
        for (size_t i = 0; i < sp->n; i++) if (!sp->v[i].id) sp->v[k++] = sp->v[i];
        break;
    case SPLIT_ISOLATED:
        k = sp->n;
        break;
    case SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < sp->n; i++) {
            if (k && sp->v[k - 1].id == sp->v[i].id) sp->v[k - 1].e = sp->v[i].e;
            else sp->v[k++] = sp->v[i];
        }
        break;
    case SPLIT_MERGED_PREV: {
        int prev_match = 0;
        for (size_t i = 0; i < sp->n; i++) {
            int m = sp->v[i].id;
            if (m && !prev_match && k) sp->v[k - 1].e = sp->v[i].e;
            else sp->v[k++] = sp->v[i];
            prev_match = m;
        }
        break;
    }
    case SPLIT_MERGED_NEXT: {   /* the mirror image, built from the end */
        int prev_match = 0;
        size_t w = sp->n;
        for (size_t i = sp->n; i-- > 0;) {
            int m = sp->v[i].id;
            if (m && !prev_match && w < sp->n) sp->v[w].s = sp->v[i].s;
            else sp->v[--w] = sp->v[i];
            prev_match = m;
        }
        memmove(sp->v, sp->v + w, (sp->n - w) * sizeof *sp->v);
        k = sp->n - w;
        break;
    }
    }
    for (size_t i = 0; i < k; i++)
        push_piece(E, out, buf, s + sp->v[i].s, sp->v[i].e - sp->v[i].s, origin && sp->v[i].s == 0);
    return E->oom ? -1 : 0;
}

static int pretok_step(Enc *E, const PreStep *st, const char *s, size_t n, int origin,
                       PieceVec *out, TBuf *buf)
{
    TBuf *tmp = &E->sub;
    if (st->kind == PRE_SPLIT)
        return split_piece(E, s, n, origin, &st->pat, st->behavior, st->invert, out, buf);
    if (st->kind == PRE_BYTELEVEL) {
        tmp->len = 0;
        if (st->add_prefix_space && (n == 0 || s[0] != ' ')) tok_buf_putc(tmp, ' ');
        tok_buf_put(tmp, s, n);
        if (tmp->oom) return E->oom = 1, -1;
        /* map bytes to characters piece by piece, after the optional split */
        size_t first = out->n, start = buf->len;
        if (st->pat.kind == PAT_REGEX) {
            if (split_piece(E, tmp->p, tmp->len, origin, &st->pat, SPLIT_ISOLATED, 0, out, buf)) return -1;
        } else {
            push_piece(E, out, buf, tmp->p, tmp->len, origin);
        }
        /* rewrite the new pieces in place at the end of buf */
        TBuf *m = &E->tmp;
        m->len = 0;
        tok_buf_put(m, buf->p + start, buf->len - start);
        if (m->oom) return E->oom = 1, -1;
        buf->len = start;
        size_t src = 0;
        for (size_t i = first; i < out->n; i++) {
            Piece *p = &out->v[i];
            size_t off = buf->len;
            for (size_t j = 0; j < p->len; j++) {
                char u[4];
                int l = tok_utf8_enc(tok_bytelevel_cp((unsigned char)m->p[src + j]), u);
                tok_buf_put(buf, u, (size_t)l);
            }
            src += p->len;
            p->off = off;
            p->len = buf->len - off;
        }
        return buf->oom ? (E->oom = 1, -1) : 0;
    }
    /* PRE_METASPACE */
    char r[4];
    int rl = tok_utf8_enc(st->repl, r);
    tmp->len = 0;
    int starts = (size_t)rl <= n && memcmp(s, r, (size_t)rl) == 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') { tok_buf_put(tmp, r, (size_t)rl); if (i == 0) starts = 1; }
        else tok_buf_putc(tmp, s[i]);
    }
    TBuf *m = &E->tmp;
    m->len = 0;
    if (!starts && (st->prepend == PREPEND_ALWAYS || (st->prepend == PREPEND_FIRST && origin)))
        tok_buf_put(m, r, (size_t)rl);
    tok_buf_put(m, tmp->p ? tmp->p : "", tmp->len);
    if (m->oom || tmp->oom) return E->oom = 1, -1;
    if (!st->split) {
        push_piece(E, out, buf, m->p, m->len, origin);
        return E->oom ? -1 : 0;
    }
    TokPattern pat = { .kind = PAT_CHAR, .cp = st->repl };
    return split_piece(E, m->p, m->len, origin, &pat, SPLIT_MERGED_NEXT, 0, out, buf);
}

/* ------------------------------------------------------------------ */
/* BPE                                                                 */

static int merge_less(const Merge *a, const Merge *b)
{
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(Enc *E, Merge m)
{
    if (grow((void **)&E->heap, &E->heapcap, E->nheap + 1, sizeof *E->heap)) { E->oom = 1; return; }
    size_t i = E->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!merge_less(&m, &E->heap[p])) break;
        E->heap[i] = E->heap[p];
        i = p;
    }
    E->heap[i] = m;
}

static Merge heap_pop(Enc *E)
{
    Merge top = E->heap[0], last = E->heap[--E->nheap];
    size_t i = 0, n = E->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && merge_less(&E->heap[c + 1], &E->heap[c])) c++;
        if (!merge_less(&E->heap[c], &last)) break;
        E->heap[i] = E->heap[c];
        i = c;
    }
    if (n) E->heap[i] = last;
    return top;
}

static void add_sym(Enc *E, int32_t id, size_t len)
{
    if (grow((void **)&E->sym, &E->symcap, E->nsym + 1, sizeof *E->sym)) { E->oom = 1; return; }
    int32_t i = (int32_t)E->nsym++;
    E->sym[i] = (Sym){ id, i - 1, -1, (uint32_t)len };
    if (i > 0) E->sym[i - 1].next = i;
}

static void try_pair(Enc *E, int32_t pos)
{
    const Sym *a = &E->sym[pos];
    if (a->next < 0) return;
    const PairSlot *m = tok_pairmap_get(&E->t->merges, a->id, E->sym[a->next].id);
    if (m) heap_push(E, (Merge){ m->rank, pos, m->id });
}

static int bpe_word(Enc *E, const char *w, size_t n)
{
    const Tokenizer *t = E->t;
    if (n == 0) return 0;
    if (t->ignore_merges) {
        int32_t id = tok_strmap_get(&t->vocab, w, n);
        if (id >= 0) { push_id(E, id); return E->oom ? -1 : 0; }
    }
    /* one symbol per character (HuggingFace's BPE::merge_word) */
    E->nsym = 0;
    int32_t unk = -1;
    size_t unk_len = 0;
    TBuf *s = &E->sub;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int l = tok_utf8_dec((const unsigned char *)w + i, n - i, &cp);
        if (l <= 0) l = 1;
        size_t end = i + (size_t)l;
        const char *c = w + i;
        size_t clen = (size_t)l;
        if ((i > 0 && t->cs_prefix) || (end == n && t->eow_suffix)) {
            s->len = 0;
            if (i > 0 && t->cs_prefix) tok_buf_put(s, t->cs_prefix, t->cs_prefix_len);
            tok_buf_put(s, c, clen);
            if (end == n && t->eow_suffix) tok_buf_put(s, t->eow_suffix, t->eow_suffix_len);
            if (s->oom) return E->oom = 1, -1;
            c = s->p;
            clen = s->len;
        }
        int32_t id = tok_strmap_get(&t->vocab, c, clen);
        if (id >= 0) {
            if (unk >= 0) { add_sym(E, unk, unk_len); unk = -1; }
            add_sym(E, id, (size_t)l);
        } else {
            int done = 0;
            if (t->byte_fallback) {
                int32_t bid[8];
                size_t k;
                for (k = 0; k < clen && k < 8; k++) {
                    char name[8];
                    static const char hex[] = "0123456789ABCDEF";
                    unsigned b = (unsigned char)c[k];
                    memcpy(name, "<0x", 3);
                    name[3] = hex[b >> 4];
                    name[4] = hex[b & 15];
                    name[5] = '>';
                    if ((bid[k] = tok_strmap_get(&t->vocab, name, 6)) < 0) break;
                }
                if (k == clen && k <= 8) {
                    for (k = 0; k < clen; k++) add_sym(E, bid[k], 1);
                    done = 1;
                }
            }
            if (!done && t->unk_id >= 0) {
                if (unk >= 0 && t->fuse_unk) unk_len += (size_t)l;
                else {
                    if (unk >= 0) add_sym(E, unk, unk_len);
                    unk = t->unk_id;
                    unk_len = (size_t)l;
                }
            }
        }
        i = end;
    }
    if (unk >= 0) add_sym(E, unk, unk_len);
    if (E->oom) return -1;

    /* merges, lowest rank first, then leftmost (Word::merge_all) */
    E->nheap = 0;
    for (int32_t i = 0; i + 1 < (int32_t)E->nsym; i++) try_pair(E, i);
    while (E->nheap > 0 && !E->oom) {
        Merge top = heap_pop(E);
        Sym *a = &E->sym[top.pos];
        if (a->len == 0 || a->next < 0) continue;
        int32_t nx = a->next;
        Sym *b = &E->sym[nx];
        const PairSlot *m = tok_pairmap_get(&t->merges, a->id, b->id);
        if (!m || m->id != top.id) continue;   /* stale entry */
        a->id = top.id;
        a->len += b->len;
        a->next = b->next;
        b->len = 0;
        if (b->next >= 0) E->sym[b->next].prev = top.pos;
        if (a->prev >= 0) try_pair(E, a->prev);
        try_pair(E, top.pos);
    }
    for (int32_t i = E->nsym ? 0 : -1; i >= 0; i = E->sym[i].next) push_id(E, E->sym[i].id);
    return E->oom ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The pipeline                                                        */

static int pretok_and_bpe(Enc *E, const char *s, size_t n, int origin)
{
    const Tokenizer *t = E->t;
    if (t->n_pre == 0) return bpe_word(E, s, n);
    PieceVec *cur = &E->va, *nxt = &E->vb;
    TBuf *cb = &E->pa, *nb = &E->pb;
    cur->n = 0;
    cb->len = 0;
    push_piece(E, cur, cb, s, n, origin);
    for (int i = 0; i < t->n_pre && !E->oom; i++) {
        nxt->n = 0;
        nb->len = 0;
        for (size_t k = 0; k < cur->n; k++) {
            Piece p = cur->v[k];
            if (pretok_step(E, &t->pre[i], cb->p + p.off, p.len, p.origin, nxt, nb)) return -1;
            /* one piece grows at most 4 times (Metaspace: ' ' -> a 4-byte
             * character), so checking after each bounds the buffer */
            if (nb->len > E->limit) return too_long(E, "pre-tokenizer");
        }
        PieceVec *x = cur; cur = nxt; nxt = x;
        TBuf *y = cb; cb = nb; nb = y;
    }
    if (E->oom) return -1;
    for (size_t k = 0; k < cur->n; k++)
        if (bpe_word(E, cb->p + cur->v[k].off, cur->v[k].len)) return -1;
    return 0;
}

static int encode_segment(Enc *E, const char *s, size_t n, int origin)
{
    const Tokenizer *t = E->t;
    if (t->n_norm) {
        if (normalize(E, s, n)) return -1;
        s = E->norm.p ? E->norm.p : "";
        n = E->norm.len;
    }
    if (t->first[1][256] == 0) return pretok_and_bpe(E, s, n, origin);
    /* normalized added tokens are matched in the normalized text; the
     * segment may live in E->norm, which pretok does not touch */
    SpanVec *sv = &E->spans[1];
    split_added(E, 1, s, n, sv);
    if (E->oom) return -1;
    for (size_t i = 0; i < sv->n; i++) {
        Span sp = sv->v[i];
        if (sp.id >= 0) push_id(E, sp.id);
        else if (pretok_and_bpe(E, s + sp.s, sp.e - sp.s, origin && sp.s == 0)) return -1;
    }
    return E->oom ? -1 : 0;
}

static void enc_free(Enc *E)
{
    pcre2_match_data_free(E->md);
    tok_buf_free(&E->norm);
    tok_buf_free(&E->pa);
    tok_buf_free(&E->pb);
    tok_buf_free(&E->tmp);
    tok_buf_free(&E->sub);
    free(E->va.v);
    free(E->vb.v);
    free(E->spans[0].v);
    free(E->spans[1].v);
    free(E->sp.v);
    free(E->sym);
    free(E->heap);
}

int tok_encode_ex(const Tokenizer *t, const char *text, size_t len, unsigned flags,
                  int32_t **ids, size_t *n, char *err, size_t errlen)
{
    if (ids) *ids = NULL;
    if (n) *n = 0;
    if (!t || !ids || !n || (!text && len))
        return tok_fail(err, errlen, "tokenizer: error: invalid arguments to tok_encode");
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int l = tok_utf8_dec((const unsigned char *)text + i, len - i, &cp);
        if (l <= 0)
            return tok_fail(err, errlen, "tokenizer: error: the text is not valid UTF-8 (byte %zu: 0x%02x)",
                            i, (unsigned char)text[i]);
        i += (size_t)l;
    }
    Enc E;
    memset(&E, 0, sizeof E);
    E.t = t;
    E.flags = flags;
    E.err = err;
    E.errlen = errlen;
    E.in_len = len;
    E.limit = len <= (SIZE_MAX - TOK_GROWTH_SLACK) / TOK_MAX_GROWTH ? len * TOK_MAX_GROWTH + TOK_GROWTH_SLACK
                                                                     : SIZE_MAX;
    E.md = pcre2_match_data_create(1, NULL);
    if (!E.md) E.oom = 1;
    int rc = -1;
    if (E.oom) goto out;

    if (flags & TOK_ADD_DEFAULT)
        for (size_t i = 0; i < t->n_def_prefix; i++) push_id(&E, t->def_prefix[i]);
    if ((flags & TOK_ADD_BOS) && !(E.n && E.ids[0] == t->bos)) {
        if (t->bos < 0) { tok_fail(err, errlen, "tokenizer: error: this tokenizer has no BOS token"); goto out; }
        push_id(&E, t->bos);
    }
    if ((flags & TOK_ADD_EOS) && !t->n_eos) {
        tok_fail(err, errlen, "tokenizer: error: this tokenizer has no EOS token");
        goto out;
    }
    SpanVec *sv = &E.spans[0];
    split_added(&E, 0, text ? text : "", len, sv);
    for (size_t i = 0; i < sv->n && !E.oom; i++) {
        Span sp = sv->v[i];
        if (sp.id >= 0) push_id(&E, sp.id);
        else if (encode_segment(&E, text + sp.s, sp.e - sp.s, sp.s == 0)) goto out;
    }
    if (flags & TOK_ADD_DEFAULT)
        for (size_t i = 0; i < t->n_def_suffix; i++) push_id(&E, t->def_suffix[i]);
    if ((flags & TOK_ADD_EOS) && !(E.n && (flags & TOK_ADD_DEFAULT) && t->n_def_suffix &&
                                   E.ids[E.n - 1] == t->eos[0]))
        push_id(&E, t->eos[0]);
    if (!E.oom) rc = 0;
out:
    if (E.oom && rc) tok_fail(err, errlen, "tokenizer: error: out of memory");
    if (rc == 0) {
        if (!E.ids) E.ids = malloc(sizeof *E.ids);   /* a valid pointer even for no ids */
        if (!E.ids) { rc = tok_fail(err, errlen, "tokenizer: error: out of memory"); }
        *ids = E.ids;
        *n = E.n;
        E.ids = NULL;
    }
    free(E.ids);
    enc_free(&E);
    return rc;
}

int tok_encode(const Tokenizer *t, const char *text, size_t len, int add_bos,
               int32_t **ids, size_t *n, char *err, size_t errlen)
{
    return tok_encode_ex(t, text, len, add_bos ? TOK_ADD_BOS : 0, ids, n, err, errlen);
}
