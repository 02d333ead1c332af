/* init.h - seeded, deterministic parameter initialisation.
 *
 * A small PRNG (xoshiro256** seeded by splitmix64) with no global state,
 * and the initialisation rules of ueajsum's ParamConfig.  See init.c for
 * the details and a worked example.
 */
#ifndef UEAJ_INIT_H
#define UEAJ_INIT_H

#include <stdint.h>

/* std of a standard normal truncated to [-2, 2] (JAX's variance_scaling) */
#define INIT_TRUNC_STD 0.87962566103423978

typedef struct InitRng { uint64_t s[4]; } InitRng;   /* xoshiro256** state */

/* Seeds r from (seed, stream).  stream is e.g. init_hash_name(name), so
 * that each parameter has its own stream whatever the order in which the
 * parameters are initialised.  Distinct streams of one seed start from
 * distinct splitmix64 states. */
void init_rng_seed(InitRng *r, uint64_t seed, uint64_t stream);
uint64_t init_rng_next(InitRng *r);          /* xoshiro256** */
double init_rng_uniform(InitRng *r);         /* [0,1), 53 random bits */
double init_rng_normal(InitRng *r);          /* standard normal (Box-Muller) */
/* standard normal truncated to [-2,2], divided by INIT_TRUNC_STD so that
 * its std is 1: values lie in [-2/INIT_TRUNC_STD, 2/INIT_TRUNC_STD] */
double init_rng_truncnormal(InitRng *r);
uint64_t init_hash_name(const char *s);      /* FNV-1a 64 (NULL: of "") */

/* Fills out[0..n), n = product of shape[0..rank), with the initial values
 * of parameter param_name (ueajsum ParamConfig rules):
 *   has_var: N(0, var) (var >= 0);
 *   else lecun normal: sqrt(1/fan_in) * init_rng_truncnormal, fan_in the
 *   product of all dims but the last (rank >= 2 required).
 * The stream is init_rng_seed(seed, init_hash_name(param_name)).
 * Returns 0, or -1 (nothing written) if rank < 0, a dim < 0, the element
 * count overflows, var < 0 or not finite, out is NULL with n > 0, or
 * rank < 2 without a variance. */
int init_param_values(double *out, int rank, const int64_t *shape, int has_var,
                      double var, uint64_t seed, const char *param_name);

#endif
