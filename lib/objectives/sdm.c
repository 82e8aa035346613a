/* SPDX-License-Identifier: MIT */
/*
 * SDM (Submodular Distribution Matching): the FB engine with phi = log1p,
 * weights lambda * p over the columns, and a quality term over bins of the
 * rows. This file holds what is particular to SDM: the target distribution,
 * the quality bins and their weights, lambda, and KL(p || p(A)).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "matrix/matrix.h"
#include "core/progress.h"
#include "objectives/fb.h"

static ss_fb *sdm_of(subsel_ctx *ctx, const subsel_objective *obj,
                     const char *caller)
{
    if (ctx == NULL) {
        ss_fail(NULL, SUBSEL_E_INVALID, "%s: ctx is NULL", caller);
        return NULL;
    }
    return ss_objective_impl(ctx, obj, &ss_sdm_ops, caller);
}

/* w = lambda * p (0 where p is 0, or everywhere before p is set). */
static void refresh_weights(ss_fb *fb)
{
    int64_t c;
    for (c = 0; c < fb->z->cols; c++)
        fb->w[c] = fb->p ? fb->lambda * fb->p[c] : 0.0;
}

/* ---- parameters (set through lib/params) -------------------------------- */

static int sdm_owns(const void *handle)
{
    return ((const subsel_objective *)handle)->ops == &ss_sdm_ops;
}

static void *sdm_fields(const void *handle)
{
    return ((const subsel_objective *)handle)->impl;
}

static void sdm_changed(void *handle, const ss_param *p)
{
    (void)p; /* lambda, the only one */
    refresh_weights(((subsel_objective *)handle)->impl);
}

static const ss_param sdm_params[] = {
    SS_PARAM_REAL(SUBSEL_P_SDM_LAMBDA, 0, "lambda", ss_fb, lambda, 0.0, 1.0, 0.7, 0, 0,
                  "weight of distribution matching against the quality term"),
};

const ss_param_kind ss_sdm_params = {
    SUBSEL_KIND_SDM, "SDM objective", SS_KIND_OBJECTIVE, sdm_owns,
    SS_PARAMS(sdm_params), sdm_fields, NULL, sdm_changed,
};

int subsel_sdm_create(subsel_ctx *ctx, const subsel_csr *source,
                      subsel_objective **out)
{
    subsel_objective *obj;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL; /* no handle on failure, whatever *out held */
    SS_CHECK(ss_fb_new(ctx, &ss_sdm_ops, source, SS_PHI_LOG1P, 0.0, 0.0, &obj));
    ss_param_defaults(&ss_sdm_params, obj);
    *out = obj;
    return SUBSEL_OK;
}

/* Normalises `mass` (d nonnegative finite values allocated with the
 * objective's allocator) into the target distribution and installs it.
 * Frees mass on failure. */
static int install_target(subsel_ctx *ctx, subsel_objective *obj, ss_fb *fb,
                          double *mass)
{
    double total = 0.0;
    int64_t c, d = fb->z->cols;
    for (c = 0; c < d; c++) {
        if (!isfinite(mass[c]) || mass[c] < 0) {
            double bad = mass[c];
            ss_free_raw(&obj->alloc, mass);
            return ss_fail(ctx, isnan(bad) ? SUBSEL_E_NUMERIC : SUBSEL_E_INVALID,
                           "target mass of column %lld is %g: it must be "
                           "finite and nonnegative",
                           (long long)c, bad);
        }
        total += mass[c];
    }
    if (!(total > 0) || !isfinite(total)) {
        ss_free_raw(&obj->alloc, mass);
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "target distribution has total mass %g: it needs a "
                       "positive finite total",
                       total);
    }
    for (c = 0; c < d; c++)
        mass[c] /= total;
    ss_free_raw(&obj->alloc, fb->p);
    fb->p = mass;
    refresh_weights(fb);
    return SUBSEL_OK;
}

/* The column sums of the target (in row order, as subsel_csr_column_sums),
 * refusing negative values, in one pass that reports progress stage
 * "target" (rows, rows) and can be cancelled between blocks of rows. */
static int target_mass(subsel_ctx *ctx, const subsel_csr *target,
                       double *mass)
{
    ss_stage meter;
    int64_t r, k;
    memset(mass, 0, (size_t)target->cols * sizeof *mass);
    SS_CHECK(ss_stage_begin(&meter, ctx, "target", target->rows));
    for (r = 0; r < target->rows; r++) {
        int64_t start, end;
        ss_csr_range(target, r, &start, &end);
        for (k = start; k < end; k++) {
            if (target->values[k] < 0.0f)
                return ss_fail(ctx, SUBSEL_E_INVALID,
                               "target value %g at row %lld, column %lld "
                               "(entry %lld) is negative",
                               (double)target->values[k], (long long)r,
                               (long long)ss_csr_col(target, k), (long long)k);
            mass[ss_csr_col(target, k)] += (double)target->values[k];
        }
        SS_CHECK(ss_stage_add(&meter, 1, 1 + end - start));
    }
    return ss_stage_end(&meter);
}

int subsel_sdm_set_target(subsel_ctx *ctx, subsel_objective *obj,
                          const subsel_csr *target)
{
    ss_fb *fb = sdm_of(ctx, obj, "subsel_sdm_set_target");
    double *mass = NULL;
    int rc;
    if (fb == NULL)
        return SUBSEL_E_INVALID;
    SS_REQUIRE_KIND(ctx, target, SS_KIND_CSR);
    if (target->cols != fb->z->cols)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "target has %lld columns, the source %lld",
                       (long long)target->cols, (long long)fb->z->cols);
    SS_CHECK(ss_alloc_with(ctx, &obj->alloc, target->cols, sizeof *mass, &mass));
    rc = target_mass(ctx, target, mass);
    if (rc < 0) {
        /* the objective keeps the target it had */
        ss_free_raw(&obj->alloc, mass);
        return rc;
    }
    return install_target(ctx, obj, fb, mass);
}

int subsel_sdm_set_target_distribution(subsel_ctx *ctx, subsel_objective *obj,
                                       const double *p, int64_t count)
{
    ss_fb *fb = sdm_of(ctx, obj, "subsel_sdm_set_target_distribution");
    double *mass = NULL;
    if (fb == NULL)
        return SUBSEL_E_INVALID;
    SS_REQUIRE_NONNULL(ctx, p);
    if (count != fb->z->cols)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "target distribution has %lld values, the source %lld "
                       "columns",
                       (long long)count, (long long)fb->z->cols);
    SS_CHECK(ss_alloc_with(ctx, &obj->alloc, count, sizeof *mass, &mass));
    memcpy(mass, p, (size_t)count * sizeof *mass);
    return install_target(ctx, obj, fb, mass);
}

static int check_quality(subsel_ctx *ctx, const ss_fb *fb,
                         const double *quality, int64_t count)
{
    int64_t i;
    SS_REQUIRE_NONNULL(ctx, quality);
    if (count != fb->z->rows)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%lld quality scores for %lld source rows",
                       (long long)count, (long long)fb->z->rows);
    for (i = 0; i < count; i++)
        if (!isfinite(quality[i]))
            return ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "quality score of row %lld is %g", (long long)i,
                           quality[i]);
    return SUBSEL_OK;
}

/* Installs the bins (bin_of, allocated with the objective's allocator) and
 * the default weights for 3 bins. Frees bin_of on failure. */
static int install_bins(subsel_ctx *ctx, subsel_objective *obj, ss_fb *fb,
                        int32_t *bin_of, int64_t bins)
{
    static const double default3[3] = {0.0, 0.01, 0.99};
    double *weights = NULL;
    int rc = ss_alloc_with(ctx, &obj->alloc, bins, sizeof *weights, &weights);
    if (rc != SUBSEL_OK) {
        ss_free_raw(&obj->alloc, bin_of);
        return rc;
    }
    memset(weights, 0, (size_t)bins * sizeof *weights);
    if (bins == 3)
        memcpy(weights, default3, sizeof default3);
    ss_free_raw(&obj->alloc, fb->bin_of);
    ss_free_raw(&obj->alloc, fb->bin_weights);
    fb->bin_of = bin_of;
    fb->bin_weights = weights;
    fb->bins = bins;
    fb->bin_weights_set = bins == 3;
    return SUBSEL_OK;
}

typedef struct ranked {
    double q;
    int64_t row;
} ranked;

/* the lowest quality first (core/rank.h's order on -q), ties to the lower
 * row */
static int by_quality_then_row(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return ss_rank_compare(-x->q, x->row, -y->q, y->row);
}

int subsel_sdm_set_quality(subsel_ctx *ctx, subsel_objective *obj,
                           const double *quality, int64_t count, int64_t bins)
{
    ss_fb *fb = sdm_of(ctx, obj, "subsel_sdm_set_quality");
    ranked *order = NULL;
    int32_t *bin_of = NULL;
    int64_t n, r;
    int rc = SUBSEL_OK;
    if (fb == NULL)
        return SUBSEL_E_INVALID;
    n = fb->z->rows;
    SS_CHECK(check_quality(ctx, fb, quality, count));
    if (bins < 1 || (n > 0 && bins > n) || bins > INT32_MAX)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%lld quality bins for %lld rows: need 1 <= bins <= "
                       "rows",
                       (long long)bins, (long long)n);
    SS_TRY(ss_alloc_array(ctx, n, sizeof *order, &order));
    SS_TRY(ss_alloc_with(ctx, &obj->alloc, n, sizeof *bin_of, &bin_of));
    for (r = 0; r < n; r++) {
        order[r].q = quality[r];
        order[r].row = r;
    }
    /* ordering by (score, row) makes qsort behave as a stable sort */
    qsort(order, (size_t)n, sizeof *order, by_quality_then_row);
    /* floor(r * bins / n) without overflow: r < n and bins <= n */
    for (r = 0; r < n; r++)
        bin_of[order[r].row] =
            (int32_t)(((unsigned __int128)r * (uint64_t)bins) / (uint64_t)n);
    ss_free(ctx, order);
    return install_bins(ctx, obj, fb, bin_of, bins);
cleanup:
    ss_free(ctx, order);
    ss_free_raw(&obj->alloc, bin_of);
    return rc;
}

int subsel_sdm_set_quality_edges(subsel_ctx *ctx, subsel_objective *obj,
                                 const double *quality, int64_t count,
                                 const double *edges, int64_t edge_count)
{
    ss_fb *fb = sdm_of(ctx, obj, "subsel_sdm_set_quality_edges");
    int32_t *bin_of = NULL;
    int64_t r, e;
    if (fb == NULL)
        return SUBSEL_E_INVALID;
    SS_CHECK(check_quality(ctx, fb, quality, count));
    if (edge_count < 0 || edge_count >= INT32_MAX)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%lld bin edges",
                       (long long)edge_count);
    if (edge_count > 0)
        SS_REQUIRE_NONNULL(ctx, edges);
    for (e = 0; e < edge_count; e++)
        if (!isfinite(edges[e]) || (e > 0 && !(edges[e] > edges[e - 1])))
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "bin edge %lld (%g) is not finite and strictly "
                           "above the previous one",
                           (long long)e, edges[e]);
    SS_CHECK(ss_alloc_with(ctx, &obj->alloc, count, sizeof *bin_of, &bin_of));
    for (r = 0; r < count; r++) {
        /* binary search: the number of edges <= q */
        int64_t lo = 0, hi = edge_count;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (edges[mid] <= quality[r])
                lo = mid + 1;
            else
                hi = mid;
        }
        bin_of[r] = (int32_t)lo;
    }
    return install_bins(ctx, obj, fb, bin_of, edge_count + 1);
}

int subsel_sdm_set_bin_weights(subsel_ctx *ctx, subsel_objective *obj,
                               const double *weights, int64_t count)
{
    ss_fb *fb = sdm_of(ctx, obj, "subsel_sdm_set_bin_weights");
    int64_t b;
    if (fb == NULL)
        return SUBSEL_E_INVALID;
    SS_REQUIRE_NONNULL(ctx, weights);
    if (fb->bins == 0)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "set quality scores before bin weights");
    if (count != fb->bins)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%lld bin weights for %lld bins",
                       (long long)count, (long long)fb->bins);
    for (b = 0; b < count; b++)
        if (!(weights[b] >= 0) || !isfinite(weights[b]))
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "bin weight %lld is %g: it must be finite and "
                           "nonnegative",
                           (long long)b, weights[b]);
    memcpy(fb->bin_weights, weights, (size_t)count * sizeof *weights);
    fb->bin_weights_set = 1;
    return SUBSEL_OK;
}

int subsel_sdm_quality_bins(subsel_ctx *ctx, const subsel_objective *obj,
                            int64_t *out, int64_t capacity)
{
    const ss_fb *fb = sdm_of(ctx, obj, "subsel_sdm_quality_bins");
    int64_t r;
    if (fb == NULL)
        return SUBSEL_E_INVALID;
    SS_REQUIRE_NONNULL(ctx, out);
    if (fb->bins == 0)
        return ss_fail(ctx, SUBSEL_E_STATE, "no quality scores set");
    if (capacity < fb->z->rows)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "capacity %lld is below the %lld rows",
                       (long long)capacity, (long long)fb->z->rows);
    for (r = 0; r < fb->z->rows; r++)
        out[r] = fb->bin_of[r];
    return SUBSEL_OK;
}

int subsel_sdm_kl(subsel_ctx *ctx, const subsel_objective *obj,
                  const int64_t *set, int64_t count, double *kl)
{
    const ss_fb *fb = sdm_of(ctx, obj, "subsel_sdm_kl");
    void *st = NULL;
    const double *m;
    double total = 0.0, sum = 0.0;
    int64_t c, d;
    if (fb == NULL)
        return SUBSEL_E_INVALID;
    SS_REQUIRE_NONNULL(ctx, kl);
    SS_CHECK(ss_state_of_set(ctx, obj, set, count, &st));
    m = ss_fb_state_sums(st);
    d = fb->z->cols;
    for (c = 0; c < d; c++)
        total += m[c];
    for (c = 0; c < d && isfinite(sum); c++) {
        if (fb->p[c] == 0.0)
            continue;
        if (m[c] == 0.0)
            sum = INFINITY; /* a target concept the set does not cover */
        else
            sum += fb->p[c] * (log(fb->p[c]) - log(m[c] / total));
    }
    obj->ops->state_free(obj, st);
    *kl = sum;
    return SUBSEL_OK;
}
