/* init.c - seeded, deterministic parameter initialisation.
 *
 * Input: a parameter's shape, its optional variance, a global seed and the
 * parameter's name.  Output: its initial values as doubles, the same on
 * every machine and run for the same (seed, name, shape, variance),
 * whatever else is initialised and in what order.  There is no global
 * state: everything lives in the caller's InitRng.
 *
 * Generator.  xoshiro256** (Blackman & Vigna, 2018): 256 bits of state,
 * period 2^256 - 1, output rotl(s1 * 5, 7) * 9.  Seeding:
 *     x    = mix64(mix64(seed) ^ stream ^ 0xD1B54A32D192ED03)
 *     s[i] = the i-th output of splitmix64 started at x  (i = 0..3)
 * where mix64 is splitmix64's output function (a bijection of 64-bit
 * words), so for one seed distinct streams start from distinct x, and the
 * state is never all zero.  The stream of a parameter is the FNV-1a 64
 * hash of its name.
 *
 * Distributions.
 *   uniform:     (next >> 11) * 2^-53, in [0, 1) on a 2^-53 grid;
 *   normal:      Box-Muller, one value per call (no cached second value,
 *                so the state stays the four words):
 *                sqrt(-2 ln(1 - u1)) * cos(2 pi u2);
 *   truncnormal: a standard normal drawn until |z| <= 2 (accepted with
 *                probability 0.954), divided by 0.87962566103423978, the
 *                std of N(0,1) truncated to [-2, 2], so that the result
 *                has std 1 - the convention of JAX's variance_scaling /
 *                lecun_normal.  Values lie within +-2.2737.
 *
 * Rules (ueajsum ParamConfig).  With a variance v: N(0, v), i.e.
 * sqrt(v) * normal.  Without: lecun normal, sqrt(1 / fan_in) *
 * truncnormal, fan_in = product of all dims but the last (for a rank-2
 * (in, out) weight, in; for higher ranks the receptive field times in, as
 * JAX's in_axis=-2 with the leading dims as receptive field).
 *
 * Worked example: a weight of shape (256, 64), no variance: fan_in = 256,
 * target std 1/16 = 0.0625; each value is 0.0625 * z / 0.8796..., z a
 * normal sample with |z| <= 2, so all values lie in [-0.1421, 0.1421] and
 * their std is 0.0625.  The stream is FNV-1a("w") for a parameter named
 * "w", so "w" gets the same values whether it is initialised before or
 * after any other parameter.
 */
#include "init.h"

#include <math.h>
#include <stddef.h>

#define INIT_TWO_PI 6.283185307179586476925286766559

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t splitmix64_next(uint64_t *x)
{
    *x += 0x9E3779B97F4A7C15ull;
    return mix64(*x);
}

void init_rng_seed(InitRng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = mix64(mix64(seed) ^ stream ^ 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64_next(&x);
}

uint64_t init_rng_next(InitRng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

double init_rng_uniform(InitRng *r)
{
    return (double)(init_rng_next(r) >> 11) * 0x1.0p-53;
}

double init_rng_normal(InitRng *r)
{
    double u1 = 1.0 - init_rng_uniform(r);   /* (0, 1]: log is finite */
    double u2 = init_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(INIT_TWO_PI * u2);
}

double init_rng_truncnormal(InitRng *r)
{
    for (;;) {
        double z = init_rng_normal(r);
        if (z >= -2.0 && z <= 2.0) return z / INIT_TRUNC_STD;
    }
}

uint64_t init_hash_name(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    if (!s) return h;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return h;
}

int init_param_values(double *out, int rank, const int64_t *shape, int has_var,
                      double var, uint64_t seed, const char *param_name)
{
    if (rank < 0 || (rank > 0 && !shape)) return -1;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] > 0 && n > INT64_MAX / shape[i]) return -1;
        n *= shape[i];
    }
    if (n > 0 && !out) return -1;
    if ((size_t)n != (uint64_t)n) return -1;

    InitRng r;
    init_rng_seed(&r, seed, init_hash_name(param_name));
    if (has_var) {
        if (!(var >= 0.0) || !isfinite(var)) return -1;
        double sd = sqrt(var);
        for (int64_t i = 0; i < n; i++) out[i] = sd * init_rng_normal(&r);
        return 0;
    }
    if (rank < 2) return -1;
    if (n == 0) return 0;
    int64_t fan_in = 1;
    for (int i = 0; i < rank - 1; i++) fan_in *= shape[i];   /* <= n: no overflow */
    double sd = sqrt(1.0 / (double)fan_in);
    for (int64_t i = 0; i < n; i++) out[i] = sd * init_rng_truncnormal(&r);
    return 0;
}
