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

/* A seeded pseudo-random permutation of [0, n), n >= 1 (at most 2^64 - 1),
 * evaluated one index at a time in O(1) memory: a Feistel network over
 * the smallest power of 4 that holds n, cycle-walked down to n. For
 * shuffling data sets too large to hold a permutation array of. The same
 * (n, seed, stream) gives the same permutation on every machine. */
#define SS_PERM_ROUNDS 4
typedef struct ss_perm {
    uint64_t n, half_bits, mask;
    uint64_t keys[SS_PERM_ROUNDS];
} ss_perm;
void ss_perm_init(ss_perm *p, uint64_t n, uint64_t seed, uint64_t stream);
/* The image of i < n. */
uint64_t ss_perm_at(const ss_perm *p, uint64_t i);

#endif
