/* sampler.h - choosing the next token from a logits vector.
 *
 * The seed's sample_from_logits (seed-semantics.md section 7), in its
 * order, plus llama.cpp's repetition penalty in front:
 *
 *   0. repetition penalty (repeat_penalty > 0 and != 1): every distinct
 *      token among the last repeat_last_n entries of the history has its
 *      logit divided by the penalty when positive, multiplied when <= 0
 *      (llama.cpp's penalty_repeat).  Applied before greedy decoding too.
 *   1. temperature: T <= 0 -> greedy argmax, every filter ignored;
 *      else logits /= T;
 *   2. min-p (min_p > 0): keep p >= min_p * max p;
 *   3. top-k (top_k > 0): keep the k largest logits;
 *   4. top-p (0 < top_p < 1): sorted descending over what is left, keep up
 *      to and including the token where the cumulative probability first
 *      reaches top_p (probabilities renormalised over the kept set);
 *   5. draw from the softmax of what is left.
 *
 * Ties are broken by the lower token id everywhere (argmax, top-k, the
 * top-p order), so the kept set is a function of the logits alone.
 * NaN logits are treated as -inf (never chosen).  If any logit is +inf,
 * the token is the lowest id with +inf (the limit of the softmax is
 * uniform over those, but a deterministic choice is easier to reason
 * about).  When no logit is above -inf the sampler returns -1.
 *
 * Random numbers: xoshiro256** (Blackman and Vigna, 2018), its 256-bit
 * state filled from the 64-bit seed by splitmix64, one state per Sampler.
 * A draw uses the top 53 bits of one output as a double u in [0, 1) and
 * walks the kept tokens' probabilities (best first when top-k or top-p
 * ran, else by id) until the running sum passes u * total.  The same
 * seed and the same logits give the same tokens on every machine with
 * IEEE floats; the JAX seed's threefry stream is not reproduced.
 * Without a seed (has_seed = 0) the seed comes from the OS (getrandom,
 * else /dev/urandom, else the clock); sampler_seed() returns it so that a
 * caller can print it and the run can be repeated with -s.
 *
 * Cost for a vocabulary of V tokens: O(V) for the penalty, temperature,
 * min-p and the draw; top-k is a quickselect (O(V) expected) followed by a
 * sort of the k survivors; top-p without top-k sorts a growing prefix
 * (64, 256, ... tokens, each found by quickselect) until the prefix holds
 * top_p of the mass, so a peaked distribution never sorts all 128k logits.
 * Scratch memory (about 8 bytes per token) lives in the Sampler and is
 * reused from call to call.
 */
#ifndef UEAJ_SAMPLER_H
#define UEAJ_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

typedef struct SamplerConfig {
    float    temperature;    /* <= 0: greedy argmax */
    int      top_k;          /* <= 0: off */
    float    top_p;          /* used when 0 < top_p < 1 */
    float    min_p;          /* used when min_p > 0 */
    float    repeat_penalty; /* used when > 0 and != 1 */
    int      repeat_last_n;  /* window over the history; < 0: all of it, 0: off */
    uint64_t seed;
    int      has_seed;       /* 0: seed from the OS, see sampler_seed() */
} SamplerConfig;

/* The seed's defaults (temperature 0.8, top_k 50, top_p 0.95, no min-p),
 * no repetition penalty (1.0, window 64), and no seed (has_seed = 0). */
void sampler_config_default(SamplerConfig *cfg);

typedef struct Sampler Sampler;

/* NULL when out of memory.  The config is copied. */
Sampler *sampler_new(const SamplerConfig *cfg);
void     sampler_free(Sampler *s);
uint64_t sampler_seed(const Sampler *s);      /* the seed in use (given or drawn) */

/* One token id in [0, V), or -1 (V < 1, NULL logits, no finite or +inf
 * logit, out of memory).  logits is modified (penalty, temperature);
 * history (may be NULL when nhist is 0) is the token ids so far, oldest
 * first; ids outside [0, V) in it are ignored. */
int32_t sampler_sample(Sampler *s, float *logits, int32_t V,
                       const int32_t *history, int nhist);

/* Steps 0-4 without the draw: writes the kept token ids to ids (room for V)
 * and their renormalised probabilities to probs (may be NULL), in the
 * order the draw walks them, and returns how many were kept (0 when none
 * can be, -1 on bad arguments or out of memory).  T <= 0 keeps the argmax
 * alone with probability 1.  logits is modified as by sampler_sample. */
int32_t sampler_filter(Sampler *s, float *logits, int32_t V,
                       const int32_t *history, int nhist,
                       int32_t *ids, double *probs);

/* The next raw 64-bit output of the sampler's generator. */
uint64_t sampler_next_u64(Sampler *s);

#endif
