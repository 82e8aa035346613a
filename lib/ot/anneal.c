/* SPDX-License-Identifier: MIT */
/*
 * Balanced OT between two uniform point clouds with the Euclidean cost, the
 * way GeomLoss's SamplesLoss("sinkhorn", p=2, debias=False) runs it and the
 * TAROT reference uses it: epsilon-scaling from the squared diameter of the
 * clouds' bounding box down to blur^2, one symmetric update per epsilon
 * (both potentials from the previous pair, then averaged with it), and a
 * final full update at blur^2. The schedule is
 *   [diam^2] + exp(arange(2 log diam, 2 log blur, 2 log scaling)) + [blur^2]
 * with NumPy's arange (length ceil((stop - start) / step), values
 * start + i * delta with delta = (start + step) - start). The potentials
 * start from the soft c-transforms of the log-weights at diam^2.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/matrix.h"
#include "ot/ot.h"

/* Coordinates of a block of diameter()'s bounds: the rows are read in
 * order, a block of coordinates at a time, instead of one coordinate's
 * column down all of them (a cache miss per value on wide rows). */
#define DIAM_BLOCK 64

/* Extends lo/hi over coordinates k0.. (len of them) of the rows of p. */
static void bounds_block(const float *p, int64_t rows, int64_t d, int64_t k0,
                         int64_t len, double *lo, double *hi)
{
    int64_t i, k;
    for (i = 0; i < rows; i++) {
        const float *row = p + i * d + k0;
        for (k = 0; k < len; k++) {
            lo[k] = row[k] < lo[k] ? row[k] : lo[k];
            hi[k] = row[k] > hi[k] ? row[k] : hi[k];
        }
    }
}

/* Length of the bounding-box diagonal of both clouds (GeomLoss's
 * max_diameter). */
static double diameter(const float *x, int64_t n, const float *y, int64_t m,
                       int64_t d)
{
    double sum = 0.0, lo[DIAM_BLOCK], hi[DIAM_BLOCK];
    int64_t k0, k;
    for (k0 = 0; k0 < d; k0 += DIAM_BLOCK) {
        int64_t len = d - k0 < DIAM_BLOCK ? d - k0 : DIAM_BLOCK;
        for (k = 0; k < len; k++) {
            lo[k] = INFINITY;
            hi[k] = -INFINITY;
        }
        bounds_block(x, n, d, k0, len, lo, hi);
        bounds_block(y, m, d, k0, len, lo, hi);
        for (k = 0; k < len; k++)
            sum += (hi[k] - lo[k]) * (hi[k] - lo[k]);
    }
    return sqrt(sum);
}

/* Length of the epsilon schedule. */
static int64_t schedule_length(double diam, double blur, double scaling)
{
    double len = ceil((2.0 * log(blur) - 2.0 * log(diam)) / (2.0 * log(scaling)));
    return 2 + (len > 0.0 ? (int64_t)len : 0);
}

/* The epsilon schedule, schedule_length() values. */
static void schedule(double diam, double blur, double scaling, double *eps,
                     int64_t count)
{
    double start = 2.0 * log(diam), step = 2.0 * log(scaling);
    double delta = (start + step) - start;
    int64_t i;
    eps[0] = diam * diam;
    for (i = 1; i + 1 < count; i++)
        eps[i] = exp(start + (double)(i - 1) * delta);
    eps[count - 1] = blur * blur;
}

/* out = -eps * out (soft c-transform from a log-sum-exp). */
static void scale(double *v, int64_t n, double eps)
{
    int64_t i;
    for (i = 0; i < n; i++)
        v[i] = -eps * v[i];
}

int ss_ot_anneal_uniform(subsel_ctx *ctx, const float *x, int64_t n,
                         const float *y, int64_t m, int64_t d, double blur,
                         double scaling, double *f, double *g, double *loss)
{
    return ss_ot_anneal_uniform_budget(ctx, x, n, y, m, d, blur, scaling,
                                       SS_OT_DEFAULT_BUDGET, f, g, loss);
}

int ss_ot_anneal_uniform_budget(subsel_ctx *ctx, const float *x, int64_t n,
                                const float *y, int64_t m, int64_t d,
                                double blur, double scaling, int64_t budget,
                                double *f, double *g, double *loss)
{
    return ss_ot_anneal_uniform_cached(ctx, x, n, NULL, NULL, y, m, d, blur,
                                       scaling, budget, f, g, loss);
}

int ss_ot_anneal_uniform_cached(subsel_ctx *ctx, const float *x, int64_t n,
                                const int64_t *ids, ss_ot_row_cache *cache,
                                const float *y, int64_t m, int64_t d,
                                double blur, double scaling, int64_t budget,
                                double *f, double *g, double *loss)
{
    ss_ot_cost cost;
    double *eps_list = NULL, *hn = NULL, *hm = NULL, *ft = NULL, *gt = NULL;
    double *fw = NULL, *gw = NULL, diam, la, lb, eps, sf = 0.0, sg = 0.0;
    int64_t steps, it, i;
    int rc = SUBSEL_OK;
    memset(&cost, 0, sizeof cost);
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, x);
    SS_REQUIRE_NONNULL(ctx, y);
    SS_REQUIRE_NONNULL(ctx, f);
    SS_REQUIRE_NONNULL(ctx, g);
    SS_REQUIRE_NONNULL(ctx, loss);
    if (n < 1 || m < 1 || d < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "ss_ot_anneal_uniform: sizes n %lld, m %lld, d %lld "
                       "must be >= 1", (long long)n, (long long)m, (long long)d);
    if (!(blur > 0.0) || !isfinite(blur) || !(scaling > 0.0 && scaling < 1.0))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "ss_ot_anneal_uniform: blur %g must be > 0 and "
                       "scaling %g in (0, 1)", blur, scaling);
    if (ss_find_nonfinite(x, n * d) >= 0 || ss_find_nonfinite(y, m * d) >= 0)
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "ss_ot_anneal_uniform: a point has a NaN/Inf coordinate");

    /* A cloud of one repeated point has diameter 0: start at blur then. */
    diam = diameter(x, n, y, m, d);
    if (!(diam > blur))
        diam = blur;
    steps = schedule_length(diam, blur, scaling);
    if (steps > 1000000)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "ss_ot_anneal_uniform: %lld annealing steps from "
                       "diameter %g to blur %g with scaling %g is too many",
                       (long long)steps, diam, blur, scaling);
    SS_TRY(ss_alloc_array(ctx, steps, sizeof *eps_list, &eps_list));
    schedule(diam, blur, scaling, eps_list, steps);

    /* Only potentials come out of here, and they move by at most the
     * largest error of a cost, so streamed costs may come from float
     * products (ss_pairwise_tile's fast tiles: within ~1e-6 of exact). */
    SS_TRY(ss_ot_cost_points_cached(ctx, &cost, SS_METRIC_EUCLID, 1, x, d, n,
                                    ids, cache, y, d, m, d, budget));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *hn, &hn));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *hm, &hm));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *ft, &ft));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *gt, &gt));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *fw, &fw));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *gw, &gw));
    la = -log((double)n);
    lb = -log((double)m);

    /* Initial potentials: soft c-transforms of the log-weights. */
    eps = eps_list[0];
    for (i = 0; i < n; i++)
        hn[i] = la;
    for (i = 0; i < m; i++)
        hm[i] = lb;
    SS_TRY(ss_ot_both_lse(ctx, &cost, -1.0 / eps, hm, fw, hn, gw));
    scale(gw, m, eps);
    scale(fw, n, eps);

    for (it = 0; it <= steps; it++) {
        int final = it == steps;
        eps = eps_list[final ? steps - 1 : it];
        SS_TRY(ss_progress(ctx, "ot", it, steps + 1));
        for (i = 0; i < m; i++)
            hm[i] = lb + gw[i] / eps;
        for (i = 0; i < n; i++)
            hn[i] = la + fw[i] / eps;
        SS_TRY(ss_ot_both_lse(ctx, &cost, -1.0 / eps, hm, ft, hn, gt));
        scale(ft, n, eps);
        scale(gt, m, eps);
        /* Symmetric (averaged) updates; the last one is a plain update. */
        for (i = 0; i < n; i++)
            fw[i] = final ? ft[i] : 0.5 * (fw[i] + ft[i]);
        for (i = 0; i < m; i++)
            gw[i] = final ? gt[i] : 0.5 * (gw[i] + gt[i]);
    }
    SS_TRY(ss_progress(ctx, "ot", steps + 1, steps + 1));
    for (i = 0; i < n; i++)
        sf += fw[i];
    for (i = 0; i < m; i++)
        sg += gw[i];
    memcpy(f, fw, (size_t)n * sizeof *f);
    memcpy(g, gw, (size_t)m * sizeof *g);
    *loss = sf / (double)n + sg / (double)m;
cleanup:
    ss_ot_cost_release(ctx, &cost);
    ss_free(ctx, hn);
    ss_free(ctx, hm);
    ss_free(ctx, ft);
    ss_free(ctx, gt);
    ss_free(ctx, fw);
    ss_free(ctx, gw);
    ss_free(ctx, eps_list);
    return rc;
}
