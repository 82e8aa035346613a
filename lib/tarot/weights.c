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
#include "tarot/tarot.h"

typedef struct share_rest {
    double frac;
    int64_t pos;
} share_rest;

static int cmp_remainder(const void *a, const void *b)
{
    const share_rest *x = a, *y = b;
    if (x->frac != y->frac)
        return x->frac > y->frac ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* weights[p] += share of `total` in proportion to share[p] >= 0 (equal
 * shares when they sum to 0), exactly `total` in all. */
static int apportion(subsel_ctx *ctx, const double *share, int64_t count,
                     int64_t total, int64_t *weights)
{
    share_rest *rem = NULL;
    double sum = 0.0;
    int64_t p, given = 0;
    int rc = SUBSEL_OK;
    if (count == 0 || total == 0)
        return SUBSEL_OK;
    for (p = 0; p < count; p++)
        sum += share[p];
    SS_TRY(ss_alloc_array(ctx, count, sizeof *rem, &rem));
    for (p = 0; p < count; p++) {
        /* (share / sum) * total, in the authors' order of operations. */
        double scaled = sum > 0.0 ? share[p] / sum * (double)total
                                  : (double)total / (double)count;
        double whole = floor(scaled);
        weights[p] += (int64_t)whole;
        given += (int64_t)whole;
        rem[p].frac = scaled - whole;
        rem[p].pos = p;
    }
    qsort(rem, (size_t)count, sizeof *rem, cmp_remainder);
    /* The floors never exceed the total, and fall short by less than
     * count; rounding can only shift that by a unit at the edges. */
    for (p = 0; given < total; p = (p + 1) % count, given++)
        weights[rem[p].pos]++;
    for (p = count - 1; given > total; p = (p + count - 1) % count) {
        if (weights[rem[p].pos] > 0) {
            weights[rem[p].pos]--;
            given--;
        }
    }
cleanup:
    ss_free(ctx, rem);
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

int subsel_tarot_weights(subsel_ctx *ctx, const double *potentials,
                         int64_t count, int64_t total, int64_t *weights)
{
    double *share = NULL, fmax = -INFINITY;
    int64_t p;
    int rc = SUBSEL_OK;
    SS_REQUIRE_NONNULL(ctx, ctx);
    if (count < 0 || total < count)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_weights: total %lld must be at least "
                       "count %lld (>= 0): every item is kept once",
                       (long long)total, (long long)count);
    if (count == 0)
        return SUBSEL_OK;
    SS_REQUIRE_NONNULL(ctx, potentials);
    SS_REQUIRE_NONNULL(ctx, weights);
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

int subsel_tarot_weights_reference(subsel_ctx *ctx, const double *potentials,
                                   int64_t count, int64_t targets,
                                   int64_t total, int64_t *weights)
{
    double *share = NULL, fmax = 0.0;
    int64_t p;
    int rc = SUBSEL_OK;
    SS_REQUIRE_NONNULL(ctx, ctx);
    if (count < 0 || targets < 0 || total < 0 ||
        count > INT64_MAX - targets)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_weights_reference: count %lld, targets "
                       "%lld and total %lld must be >= 0",
                       (long long)count, (long long)targets, (long long)total);
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
