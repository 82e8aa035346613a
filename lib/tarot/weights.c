/* SPDX-License-Identifier: MIT */
/*
 * Integer repetition counts from OT potentials, summing exactly to a
 * chosen total: real-valued shares are floored and the share_rest goes one
 * by one to the largest fractional parts (ties to the lower position), the
 * largest-share_rest method. Two rules for the shares: the default gives a
 * base of one repetition to every selected item and shares the rest in
 * proportion to max(f) - f_i (smaller potentials are more useful, and only
 * differences of potentials matter); the reference rule is the authors'
 * (shares proportional to [f, max f x targets], negative values clamped).
 */
#include <math.h>
#include <stdlib.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "tarot/tarot.h"

typedef struct share_rest {
    double frac;
    int64_t pos;
} share_rest;

/* the largest fractional part first, ties to the lower position */
static int cmp_remainder(const void *a, const void *b)
{
    const share_rest *x = a, *y = b;
    return ss_rank_compare(x->frac, x->pos, y->frac, y->pos);
}

/* Totals up to 2^53 are exact in double precision, so every share below
 * is within a few units of its exact value and the sums below cannot
 * overflow; larger totals are refused (issue 9: INT64_MAX overflowed the
 * floors and then counted the difference out one unit at a time). */
static int check_total(subsel_ctx *ctx, const char *fn, int64_t total)
{
    if (total <= SUBSEL_TAROT_MAX_WEIGHT_TOTAL)
        return SUBSEL_OK;
    return ss_fail(ctx, SUBSEL_E_INVALID,
                   "%s: total %lld is above %lld (2^53), the largest total "
                   "whose shares are exact in double precision",
                   fn, (long long)total,
                   (long long)SUBSEL_TAROT_MAX_WEIGHT_TOTAL);
}

/* weights[p] += share of `total` (<= 2^53) in proportion to share[p] >= 0
 * (equal shares when they sum to 0), exactly `total` in all. */
static int apportion(subsel_ctx *ctx, const double *share, int64_t count,
                     int64_t total, int64_t *weights)
{
    share_rest *rem = NULL;
    int64_t *added = NULL;
    double sum = 0.0;
    int64_t p, given = 0;
    int rc = SUBSEL_OK;
    if (count == 0 || total == 0)
        return SUBSEL_OK;
    for (p = 0; p < count; p++)
        sum += share[p];
    SS_TRY(ss_alloc_array(ctx, count, sizeof *rem, &rem));
    SS_TRY(ss_alloc_array(ctx, count, sizeof *added, &added));
    for (p = 0; p < count; p++) {
        /* (share / sum) * total, in the authors' order of operations. */
        double scaled = sum > 0.0 ? share[p] / sum * (double)total
                                  : (double)total / (double)count;
        double whole = floor(scaled);
        added[p] = (int64_t)whole; /* <= total (1 + 2^-52): no overflow */
        given += added[p];
        rem[p].frac = scaled - whole;
        rem[p].pos = p;
    }
    qsort(rem, (size_t)count, sizeof *rem, cmp_remainder);
    /* The floors fall short of the total by less than count, give or take
     * the few units rounding can shift each by: both loops end within a
     * few passes. Only what was added here is taken back, never what the
     * caller's weights held before. */
    for (p = 0; given < total; p = (p + 1) % count, given++)
        added[rem[p].pos]++;
    for (p = count - 1; given > total; p = (p + count - 1) % count) {
        if (added[rem[p].pos] > 0) {
            added[rem[p].pos]--;
            given--;
        }
    }
    for (p = 0; p < count; p++)
        weights[p] += added[p];
cleanup:
    ss_free(ctx, rem);
    ss_free(ctx, added);
    return rc;
}

static int check_potentials(subsel_ctx *ctx, const char *fn,
                            const double *potentials, int64_t count)
{
    int64_t p;
    for (p = 0; p < count; p++)
        if (!isfinite(potentials[p]))
            return ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "%s: potential %lld is not finite (%g)", fn,
                           (long long)p, potentials[p]);
    return SUBSEL_OK;
}

int subsel_tarot_weights_v2(subsel_ctx *ctx, const double *potentials,
                            int64_t count, int64_t total, int64_t *weights,
                            int64_t capacity)
{
    double *share = NULL, fmax = -INFINITY;
    int64_t p;
    int rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    if (count < 0 || total < count)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_weights: total %lld must be at least "
                       "count %lld (>= 0): every item is kept once",
                       (long long)total, (long long)count);
    SS_CHECK(check_total(ctx, "subsel_tarot_weights", total));
    if (count == 0)
        return SUBSEL_OK;
    SS_REQUIRE_NONNULL(ctx, potentials);
    SS_REQUIRE_NONNULL(ctx, weights);
    SS_CHECK(ss_check_capacity(ctx, "subsel_tarot_weights", "weights",
                               capacity, count));
    SS_CHECK(check_potentials(ctx, "subsel_tarot_weights", potentials, count));
    SS_TRY(ss_alloc_array(ctx, count, sizeof *share, &share));
    for (p = 0; p < count; p++)
        if (potentials[p] > fmax)
            fmax = potentials[p];
    for (p = 0; p < count; p++) {
        share[p] = fmax - potentials[p];
        weights[p] = 1;
    }
    SS_TRY(apportion(ctx, share, count, total - count, weights));
cleanup:
    ss_free(ctx, share);
    return rc;
}

/* Deprecated: weights was assumed to hold `count` values. */
int subsel_tarot_weights(subsel_ctx *ctx, const double *potentials,
                         int64_t count, int64_t total, int64_t *weights)
{
    return subsel_tarot_weights_v2(ctx, potentials, count, total, weights,
                                   INT64_MAX);
}

int subsel_tarot_weights_reference_v2(subsel_ctx *ctx,
                                      const double *potentials,
                                      int64_t count, int64_t targets,
                                      int64_t total, int64_t *weights,
                                      int64_t capacity)
{
    double *share = NULL, fmax = 0.0;
    int64_t p;
    int rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    if (count < 0 || targets < 0 || total < 0 ||
        count > INT64_MAX - targets)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_weights_reference: count %lld, targets "
                       "%lld and total %lld must be >= 0",
                       (long long)count, (long long)targets, (long long)total);
    SS_CHECK(check_total(ctx, "subsel_tarot_weights_reference", total));
    if (count + targets == 0) {
        if (total != 0)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "subsel_tarot_weights_reference: a total of %lld "
                           "over no items",
                           (long long)total);
        return SUBSEL_OK;
    }
    if (count > 0)
        SS_REQUIRE_NONNULL(ctx, potentials);
    SS_REQUIRE_NONNULL(ctx, weights);
    SS_CHECK(ss_check_capacity(ctx, "subsel_tarot_weights_reference",
                               "weights", capacity, count + targets));
    SS_CHECK(check_potentials(ctx, "subsel_tarot_weights_reference",
                              potentials, count));
    SS_TRY(ss_alloc_array(ctx, count + targets, sizeof *share, &share));
    for (p = 0; p < count; p++) {
        /* Negative potentials would give negative counts: clamp at 0. */
        share[p] = potentials[p] > 0.0 ? potentials[p] : 0.0;
        if (share[p] > fmax)
            fmax = share[p];
    }
    for (p = 0; p < targets; p++)
        share[count + p] = fmax;
    for (p = 0; p < count + targets; p++)
        weights[p] = 0;
    SS_TRY(apportion(ctx, share, count + targets, total, weights));
cleanup:
    ss_free(ctx, share);
    return rc;
}

/* Deprecated: weights was assumed to hold count + targets values. */
int subsel_tarot_weights_reference(subsel_ctx *ctx, const double *potentials,
                                   int64_t count, int64_t targets,
                                   int64_t total, int64_t *weights)
{
    return subsel_tarot_weights_reference_v2(ctx, potentials, count, targets,
                                             total, weights, INT64_MAX);
}
