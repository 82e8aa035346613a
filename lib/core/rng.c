/* SPDX-License-Identifier: MIT */
/*
 * xoshiro256** (Blackman and Vigna), seeded through splitmix64.
 */
#include <math.h>

#include "core/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void ss_rng_seed(ss_rng *rng, uint64_t seed, uint64_t stream)
{
    /* Mix the stream number in through its own splitmix step so that
     * (seed, stream) pairs never collide in an obvious way. */
    uint64_t x = seed;
    uint64_t y = stream ^ 0x6a09e667f3bcc909ULL;
    uint64_t k = splitmix64(&x) ^ splitmix64(&y);
    int i;
    for (i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&k);
}

uint64_t ss_rng_next(ss_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t ss_rng_below(ss_rng *rng, uint64_t bound)
{
    /* Lemire's multiply-and-shift: the high word of x * bound, rejecting
     * the few low words that would bias it. The division that computes the
     * rejection threshold runs only when the low word is small, about
     * bound / 2^64 of the time, instead of on every draw. */
    unsigned __int128 m = (unsigned __int128)ss_rng_next(rng) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = (0 - bound) % bound;
        while (low < threshold) {
            m = (unsigned __int128)ss_rng_next(rng) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double ss_rng_uniform(ss_rng *rng)
{
    return (double)(ss_rng_next(rng) >> 11) * 0x1.0p-53;
}

double ss_rng_normal(ss_rng *rng)
{
    /* Box-Muller; u1 in (0, 1] keeps log finite. */
    double u1 = 1.0 - ss_rng_uniform(rng);
    double u2 = ss_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

/* ---- permutations in O(1) memory --------------------------------------- */

/* The round function: splitmix64's finaliser of the half keyed. */
static uint64_t feistel_round(uint64_t half, uint64_t key, uint64_t mask)
{
    uint64_t z = half ^ key;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) & mask;
}

void ss_perm_init(ss_perm *p, uint64_t n, uint64_t seed, uint64_t stream)
{
    ss_rng rng;
    int i;
    p->n = n;
    p->half_bits = 1;
    /* the smallest even number of bits whose range holds n: under 4n */
    while (p->half_bits < 32 && ((uint64_t)1 << (2 * p->half_bits)) < n)
        p->half_bits++;
    p->mask = ((uint64_t)1 << p->half_bits) - 1;
    ss_rng_seed(&rng, seed, stream);
    for (i = 0; i < SS_PERM_ROUNDS; i++)
        p->keys[i] = ss_rng_next(&rng);
}

uint64_t ss_perm_at(const ss_perm *p, uint64_t i)
{
    uint64_t x = i;
    /* Cycle-walking: the Feistel network permutes [0, 4^half_bits); its
     * walk from an index below n returns below n within a few steps, and
     * restricted that way it is a permutation of [0, n). */
    do {
        uint64_t left = x >> p->half_bits, right = x & p->mask;
        int r;
        for (r = 0; r < SS_PERM_ROUNDS; r++) {
            uint64_t t = left ^ feistel_round(right, p->keys[r], p->mask);
            left = right;
            right = t;
        }
        x = (left << p->half_bits) | right;
    } while (x >= p->n);
    return x;
}
