/* sampler.c - temperature, min-p, top-k, top-p and a seeded draw.
 *
 * The pipeline is described in sampler.h; this note is about how it is
 * computed.  Every step after the temperature works on a compact array of
 * candidates {logit, id}, built once from the finite logits in id order.
 * Nothing is ever normalised before it must be: with m the largest kept
 * logit, a token's weight is w = exp(l - m) in double precision, so
 *   min-p      keeps w >= min_p (p / max p is exactly w),
 *   top-p      compares the running sum of w with top_p * sum(w),
 *   the draw   walks the running sum of w up to u * sum(w).
 * The candidate order that matters is "better": the larger logit, then
 * the lower id.  It is a strict total order (ids are distinct), which is
 * what makes the quickselect below safe on any input, ties included, and
 * what makes the kept set independent of how the selection happened to
 * shuffle the array.
 *
 * top-k is a quickselect of the k best followed by a sort of those k.
 * top-p needs the tokens in descending order only as far as the cutoff,
 * so it sorts a prefix: the best 64 (found by quickselect, then sorted),
 * and when they hold less than top_p of the mass, the next 3*64 of the
 * remainder, and so on, four times as many each round.  For a vocabulary of
 * 128k and a typical top_p, one or two rounds suffice.
 *
 * The generator is xoshiro256** seeded through splitmix64, as its authors
 * recommend; both are a few lines and documented at
 * https://prng.di.unimi.it/ .  The state lives in the Sampler.
 */
#include "sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

typedef struct Cand { float l; int32_t id; } Cand;

struct Sampler {
    SamplerConfig cfg;
    uint64_t      seed;
    uint64_t      st[4];           /* xoshiro256** state */
    Cand         *cand;            /* scratch, cap entries */
    int32_t      *ids;             /* scratch for sampler_sample */
    uint8_t      *mark;            /* scratch for the penalty, zeroed between calls */
    size_t        cap;
};

void sampler_config_default(SamplerConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->temperature = 0.8f;
    cfg->top_k = 50;
    cfg->top_p = 0.95f;
    cfg->min_p = 0.0f;
    cfg->repeat_penalty = 1.0f;
    cfg->repeat_last_n = 64;
    cfg->has_seed = 0;
}

/* ---- the generator ----------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sampler_next_u64(Sampler *s)
{
    uint64_t *q = s->st;
    uint64_t result = rotl(q[1] * 5, 7) * 9;
    uint64_t t = q[1] << 17;
    q[2] ^= q[0];
    q[3] ^= q[1];
    q[1] ^= q[2];
    q[0] ^= q[3];
    q[2] ^= t;
    q[3] = rotl(q[3], 45);
    return result;
}

static double next_unit(Sampler *s) /* [0, 1) with 53 random bits */
{
    return (double)(sampler_next_u64(s) >> 11) * 0x1.0p-53;
}

static uint64_t os_seed(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) == (ssize_t)sizeof v)
        return v;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, &v, sizeof v);
        close(fd);
        if (got == (ssize_t)sizeof v)
            return v;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
    return splitmix64(&x);
}

Sampler *sampler_new(const SamplerConfig *cfg)
{
    Sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (cfg) s->cfg = *cfg; else sampler_config_default(&s->cfg);
    s->seed = s->cfg.has_seed ? s->cfg.seed : os_seed();
    uint64_t x = s->seed;
    for (int i = 0; i < 4; i++) s->st[i] = splitmix64(&x);
    return s;
}

void sampler_free(Sampler *s)
{
    if (!s) return;
    free(s->cand);
    free(s->ids);
    free(s->mark);
    free(s);
}

uint64_t sampler_seed(const Sampler *s) { return s->seed; }

static int reserve(Sampler *s, size_t V)
{
    if (V <= s->cap) return 0;
    Cand *c = malloc(V * sizeof *c);
    int32_t *ids = malloc(V * sizeof *ids);
    uint8_t *mark = calloc(V, 1);
    if (!c || !ids || !mark) { free(c); free(ids); free(mark); return -1; }
    free(s->cand); free(s->ids); free(s->mark);
    s->cand = c; s->ids = ids; s->mark = mark; s->cap = V;
    return 0;
}

/* ---- ordering: larger logit first, then lower id ------------------------ */

static int better(Cand a, Cand b) { return a.l > b.l || (a.l == b.l && a.id < b.id); }

static int cmp_cand(const void *pa, const void *pb)
{
    Cand a = *(const Cand *)pa, b = *(const Cand *)pb;
    return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

static void swap_c(Cand *a, Cand *b) { Cand t = *a; *a = *b; *b = t; }

/* Reorders c[0..n) so that c[0..k) are the k best (in no particular order).
 * Median-of-three quickselect; the order is strict, so no equal keys. */
static void select_best(Cand *c, size_t n, size_t k)
{
    size_t lo = 0, hi = n;               /* the k-th best lies in [lo, hi) */
    if (k == 0 || k >= n) return;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (better(c[mid], c[lo])) swap_c(&c[mid], &c[lo]);
        if (better(c[last], c[lo])) swap_c(&c[last], &c[lo]);
        if (better(c[last], c[mid])) swap_c(&c[last], &c[mid]);
        /* now c[lo] >= c[mid] >= c[last]; the median goes to the end */
        swap_c(&c[mid], &c[last]);
        Cand pivot = c[last];
        size_t store = lo;
        for (size_t i = lo; i < last; i++)
            if (better(c[i], pivot)) swap_c(&c[i], &c[store++]);
        swap_c(&c[store], &c[last]);     /* pivot at its final rank `store` */
        if (store == k || store + 1 == k) return;
        if (store > k) hi = store;
        else lo = store + 1;
    }
}

/* ---- the pipeline -------------------------------------------------------- */

static void apply_penalty(Sampler *s, float *logits, int32_t V, const int32_t *hist, int nhist)
{
    float pen = s->cfg.repeat_penalty;
    int last = s->cfg.repeat_last_n;
    if (!(pen > 0.0f) || pen == 1.0f || last == 0 || !hist || nhist <= 0) return;
    int from = (last < 0 || last >= nhist) ? 0 : nhist - last;
    for (int i = from; i < nhist; i++) {
        int32_t t = hist[i];
        if (t < 0 || t >= V || s->mark[t]) continue;
        s->mark[t] = 1;
        if (logits[t] <= 0.0f) logits[t] *= pen;
        else logits[t] /= pen;
    }
    for (int i = from; i < nhist; i++)
        if (hist[i] >= 0 && hist[i] < V) s->mark[hist[i]] = 0;
}

/* Index of the largest non-NaN logit (lowest id among equals), -1 when all
 * are NaN or -inf. */
static int32_t argmax(const float *logits, int32_t V)
{
    int32_t best = -1;
    for (int32_t i = 0; i < V; i++) {
        float l = logits[i];
        if (isnan(l) || l == -INFINITY) continue;
        if (best < 0 || l > logits[best]) best = i;
    }
    return best;
}

/* Keeps the candidates c[0..n) that survive steps 2-4; returns the new n.
 * *sorted says whether c[0..n) ends in descending order. */
static size_t filter_cands(const SamplerConfig *cfg, Cand *c, size_t n, int *sorted)
{
    *sorted = 0;
    float m = c[0].l;
    for (size_t i = 1; i < n; i++) if (c[i].l > m) m = c[i].l;

    if (cfg->min_p > 0.0f) {                         /* 2. min-p */
        size_t w = 0;
        double thr = (double)cfg->min_p;
        for (size_t i = 0; i < n; i++)
            if (exp((double)c[i].l - (double)m) >= thr || c[i].l == m) c[w++] = c[i];
        n = w;
    }
    if (cfg->top_k > 0 && (size_t)cfg->top_k < n) {  /* 3. top-k */
        select_best(c, n, (size_t)cfg->top_k);
        n = (size_t)cfg->top_k;
        qsort(c, n, sizeof *c, cmp_cand);
        *sorted = 1;
    }
    if (cfg->top_p > 0.0f && cfg->top_p < 1.0f && n > 1) { /* 4. top-p */
        double z = 0.0;
        for (size_t i = 0; i < n; i++) z += exp((double)c[i].l - (double)m);
        double cum = 0.0, top_p = (double)cfg->top_p;
        size_t done = 0;                         /* c[0..done) sorted and summed */
        size_t want = *sorted ? n : (n < 64 ? n : 64);
        for (;;) {
            if (!*sorted) {
                select_best(c + done, n - done, want - done);
                qsort(c + done, want - done, sizeof *c, cmp_cand);
            }
            for (size_t i = done; i < want; i++) {
                cum += exp((double)c[i].l - (double)m) / z;
                if (cum >= top_p) { *sorted = 1; return i + 1; }
            }
            done = want;
            if (done == n) break;                /* rounding: keep them all */
            want = done * 4 > n ? n : done * 4;
        }
        *sorted = 1;
    }
    return n;
}

int32_t sampler_filter(Sampler *s, float *logits, int32_t V,
                       const int32_t *history, int nhist,
                       int32_t *ids, double *probs)
{
    if (!s || !logits || V < 1 || !ids) return -1;
    if (reserve(s, (size_t)V) != 0) return -1;
    apply_penalty(s, logits, V, history, nhist);

    float T = s->cfg.temperature;
    if (!(T > 0.0f)) {                                /* 1. greedy */
        int32_t best = argmax(logits, V);
        if (best < 0) return 0;
        ids[0] = best;
        if (probs) probs[0] = 1.0;
        return 1;
    }
    size_t n = 0;
    for (int32_t i = 0; i < V; i++) {
        float l = logits[i];
        if (isnan(l)) continue;
        l = logits[i] = l / T;
        if (l == INFINITY) {                      /* the lowest +inf id wins */
            ids[0] = i;
            if (probs) probs[0] = 1.0;
            for (int32_t j = i + 1; j < V; j++) if (!isnan(logits[j])) logits[j] /= T;
            return 1;
        }
        if (l == -INFINITY) continue;
        s->cand[n].l = l;
        s->cand[n].id = i;
        n++;
    }
    if (n == 0) return 0;
    int sorted;
    n = filter_cands(&s->cfg, s->cand, n, &sorted);
    float m = s->cand[0].l;
    for (size_t i = 1; i < n; i++) if (s->cand[i].l > m) m = s->cand[i].l;
    double z = 0.0;
    for (size_t i = 0; i < n; i++) z += exp((double)s->cand[i].l - (double)m);
    for (size_t i = 0; i < n; i++) {
        ids[i] = s->cand[i].id;
        if (probs) probs[i] = exp((double)s->cand[i].l - (double)m) / z;
    }
    return (int32_t)n;
}

int32_t sampler_sample(Sampler *s, float *logits, int32_t V,
                       const int32_t *history, int nhist)
{
    if (!s || !logits || V < 1 || reserve(s, (size_t)V) != 0) return -1;
    int32_t n = sampler_filter(s, logits, V, history, nhist, s->ids, NULL);
    if (n <= 0) return -1;
    if (n == 1) return s->ids[0];
    /* the kept logits (temperature applied) are in logits[ids[i]] */
    float m = logits[s->ids[0]];
    for (int32_t i = 1; i < n; i++) if (logits[s->ids[i]] > m) m = logits[s->ids[i]];
    double z = 0.0;
    for (int32_t i = 0; i < n; i++) z += exp((double)logits[s->ids[i]] - (double)m);
    double target = next_unit(s) * z, cum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        cum += exp((double)logits[s->ids[i]] - (double)m);
        if (cum > target) return s->ids[i];
    }
    return s->ids[n - 1];
}
