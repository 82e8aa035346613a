/* SPDX-License-Identifier: MIT */
/*
 * The one random number generator: xoshiro256** seeded by splitmix64 from
 * (seed, stream). Independent streams (one per run, per fold, per block)
 * come from the same seed with different stream numbers, so results do not
 * depend on how work is split across threads.
 */
#ifndef SS_CORE_RNG_H
#define SS_CORE_RNG_H

#include <stdint.h>

typedef struct ss_rng {
    uint64_t s[4];
} ss_rng;

void ss_rng_seed(ss_rng *rng, uint64_t seed, uint64_t stream);
uint64_t ss_rng_next(ss_rng *rng);
/* Uniform integer in [0, bound), bound > 0, without modulo bias. */
uint64_t ss_rng_below(ss_rng *rng, uint64_t bound);
/* Uniform double in [0, 1) with 53 random bits. */
double ss_rng_uniform(ss_rng *rng);
/* Standard normal deviate (Box-Muller, both values used in turn is not
 * needed: one per call keeps streams simple to reason about). */
double ss_rng_normal(ss_rng *rng);

#endif
