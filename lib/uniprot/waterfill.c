/* SPDX-License-Identifier: MIT */
/*
 * The UniPROT approximate gain: the best entropic placement of one new
 * prototype's unit mass into the residual target capacities r,
 *   max_{a >= 0, sum a = 1, a <= r} <s, a> - reg sum a log a.
 * By the KKT conditions a_j = min(r_j, c exp(s_j / reg)) with c fixed by
 * sum a = 1: coordinates whose capacity is below the unconstrained
 * (softmax) value are saturated at r_j, the others share the rest in
 * proportion to exp(s_j / reg). (The authors' published code swaps the two
 * cases; this is the solution of the stated problem.) Its value is
 *   sum_sat r_j (s_j - reg log r_j) - reg log(c) (1 - sum_sat r_j).
 *
 * Fast path: with weights w_j = exp(s_j / reg - U) (U the largest
 * exponent, one exp per entry) and mu = 1 / (c e^U), sum_j min(r_j mu,
 * w_j) - mu is concave, piecewise linear and decreasing past its root;
 * Newton's method started at the unconstrained solution mu = sum w steps
 * down to the root without overshooting, each step being the closed form
 * of one piece:
 *   mu <- (sum of free w) / (1 - sum of saturated r).
 * The saturated set only grows, so it stops when the set repeats (a few
 * vectorised passes). Reference / fallback: sort t_j = log r_j - s_j / reg
 * and scan the prefixes in the log domain.
 *
 * The weights are rounded to float. A row's weights do not depend on the
 * capacities, so a caller may keep them across the gains it asks for
 * (objective.c does, within a memory budget), and half the bytes make
 * twice the rows fit. Rounding moves each weight by at most 2^-24
 * relatively and the gain (unit mass) by at most reg 2^-24, while the
 * similarities' own rounding to float moves it by up to max |s_j| 2^-24:
 * less than that whenever reg is below the similarities' scale. Weights
 * made again are the same bits, so keeping them or not never changes a
 * result.
 *
 * Warm start: greedy asks for a candidate's gain again and again while the
 * capacities only shrink (mostly), which moves the root mu down. The root
 * of the candidate's previous call (a hint the caller keeps) is then still
 * right of the new root, and Newton's method goes on from there: one or
 * two passes instead of about five. Whatever the start, the passes end on
 * the root's saturated set and take mu and the sums from that set alone,
 * so the result is the same to the bit; a hint left of the root (a
 * capacity grew) costs one pass and the cold start follows.
 */
#include <math.h>
#include <stdlib.h>

#include "core/rank.h"
#include "uniprot/uniprot.h"

/* Each pass also finds the mu below which one more coordinate would
 * saturate (the largest w_j / r_j of the free ones): a Newton step that
 * stays above it (by this margin over the division's rounding) keeps the
 * set, which is then final without a pass at that step (the usual case of
 * a warm start). */
#define STAY_MARGIN (1.0 + 0x1p-50)

/* Past this many Newton steps (never seen: sets grow by many coordinates
 * per step) the sorted method takes over. */
#define MAX_NEWTON 64

/* How far sum r may fall below 1 by rounding alone (the sums of n
 * capacities, of appended plans), on top of the caller's slack. */
#define ROUNDING_DEFICIT 1e-9

/* Free weights summing below this (2^-100) leave the free mass to weights
 * near or below float's smallest normal (2^-126), where rounding is no
 * longer relative: the sorted method, in the log domain, takes over. */
#define FREE_WEIGHT_MIN 0x1p-100

double ss_waterfill_weights(const ss_kernels *k, const float *s, float s_max,
                            int64_t n, double reg, float *w)
{
    double inv = 1.0 / reg;
    return k->exp_affine_f32(w, s, inv, inv * s_max, n);
}

double ss_waterfill_gain(const ss_kernels *k, const ss_waterfill_row *row,
                         int64_t n, const double *r, const double *rlogr,
                         double reg, double slack, double *work,
                         double *alpha, double *log_c, double *mu_hint)
{
    const float *s = row->s, *w = row->w;
    double shift = (1.0 / reg) * row->s_max, mu = row->w_sum, sums[6];
    double prev = -1.0, free_mass, hint = 0.0;
    int it, have_sums = 0;
    if (n == 0)
        return -INFINITY;
    /* relaxed atomics: a caller may ask for one item's gain on two threads */
    if (mu_hint != NULL)
        __atomic_load(mu_hint, &hint, __ATOMIC_RELAXED);
    if (hint > 0.0 && hint < mu) {
        k->waterfill_sums(w, r, rlogr, s, hint, n, sums);
        /* right of the root: its Newton step does not move up */
        if (sums[1] < 1.0 && sums[0] > 0.0 && sums[0] / (1.0 - sums[1]) <= hint) {
            mu = hint;
            have_sums = 1;
        }
    }
    for (it = 0; it < MAX_NEWTON; it++) {
        double next;
        if (!have_sums)
            k->waterfill_sums(w, r, rlogr, s, mu, n, sums);
        have_sums = 0;
        if (sums[4] == prev)
            break;
        prev = sums[4];
        if (!(sums[1] < 1.0) || sums[0] <= 0.0)
            break;
        next = sums[0] / (1.0 - sums[1]);
        /* No coordinate saturates between mu and next: the pass at next
         * would only repeat these sums and stop. */
        if (next <= mu && next >= sums[5] * STAY_MARGIN) {
            mu = next;
            break;
        }
        mu = next;
    }
    free_mass = 1.0 - sums[1];
    hint = it < MAX_NEWTON && free_mass > 0.0 && sums[0] > 0.0 ? mu : 0.0;
    if (mu_hint != NULL)
        __atomic_store(mu_hint, &hint, __ATOMIC_RELAXED);
    if (it == MAX_NEWTON ||
        (free_mass > ROUNDING_DEFICIT + slack && sums[0] < FREE_WEIGHT_MIN))
        return ss_waterfill_sorted(s, n, r, reg, slack, work, alpha, log_c);
    if (free_mass <= 0.0 || sums[0] <= 0.0)
        free_mass = 0.0; /* all saturated: a deficit within the tolerance */
    if (log_c != NULL)
        *log_c = free_mass > 0.0 ? -shift - log(mu) : NAN;
    if (alpha != NULL) {
        int64_t j;
        for (j = 0; j < n; j++)
            alpha[j] = r[j] * mu < w[j] ? r[j] : free_mass > 0.0 ? w[j] / mu : 0.0;
    }
    if (free_mass == 0.0)
        return sums[2] - reg * sums[3];
    return sums[2] - reg * sums[3] + free_mass * reg * (shift + log(mu));
}

/* pairs (t_j, j) by increasing t_j, ties to the lower j (core/rank.h's
 * order on -t) */
static int by_key(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return ss_rank_compare(-x[0], (int64_t)x[1], -y[0], (int64_t)y[1]);
}

/* The solution of the sorted method: the first q of the sorted pairs
 * saturated, the others exp(s_j / reg + lambda), zero capacities 0. */
static void fill_alpha(const float *s, int64_t n, const double *r, double reg,
                       const double *pairs, int64_t q, int64_t count,
                       double lambda, double *alpha)
{
    int64_t p, j;
    for (j = 0; j < n; j++)
        alpha[j] = 0.0;
    for (p = 0; p < count; p++) {
        j = (int64_t)pairs[2 * p + 1];
        alpha[j] = p < q ? r[j] : exp((double)s[j] / reg + lambda);
    }
}

static double log_add_exp(double a, double b)
{
    double hi = a > b ? a : b, lo = a > b ? b : a;
    if (hi == -INFINITY)
        return -INFINITY;
    return hi + log1p(exp(lo - hi));
}

double ss_waterfill_sorted(const float *s, int64_t n, const double *r,
                           double reg, double slack, double *work,
                           double *alpha, double *log_c)
{
    /* work: pairs (t_j, j) for r_j > 0, then the suffix log-sum-exps. */
    double *pairs = work, *suffix = work + 2 * n, sat = 0.0, rsum = 0.0;
    int64_t count = 0, q, j;
    for (j = 0; j < n; j++) {
        if (r[j] > 0.0) {
            pairs[2 * count] = log(r[j]) - (double)s[j] / reg;
            pairs[2 * count + 1] = (double)j;
            count++;
        }
    }
    qsort(pairs, (size_t)count, 2 * sizeof *pairs, by_key);
    suffix[count] = -INFINITY;
    for (q = count - 1; q >= 0; q--)
        suffix[q] = log_add_exp((double)s[(int64_t)pairs[2 * q + 1]] / reg,
                                suffix[q + 1]);
    /* The first q in sorted order saturated, the rest free. */
    for (q = 0; q < count && rsum < 1.0; q++) {
        double lambda = log1p(-rsum) - suffix[q];
        if ((q == 0 || lambda >= pairs[2 * (q - 1)]) && lambda < pairs[2 * q]) {
            if (alpha != NULL)
                fill_alpha(s, n, r, reg, pairs, q, count, lambda, alpha);
            if (log_c != NULL)
                *log_c = lambda;
            return sat - reg * lambda * (1.0 - rsum);
        }
        j = (int64_t)pairs[2 * q + 1];
        sat += r[j] * ((double)s[j] - reg * log(r[j]));
        rsum += r[j];
    }
    /* Everything saturated: feasible only if the capacities sum to 1. */
    if (rsum < 1.0 - (ROUNDING_DEFICIT + slack))
        return -INFINITY;
    if (alpha != NULL)
        fill_alpha(s, n, r, reg, pairs, q, count, -INFINITY, alpha);
    if (log_c != NULL)
        *log_c = NAN;
    return sat;
}
