/* SPDX-License-Identifier: MIT */
/*
 * Value matrices of OT problems: a dense array the caller owns, or two
 * point clouds and a metric. Point-cloud values are computed in fixed tiles
 * (their shape depends on the sizes only, so results never depend on the
 * thread count) and kept as one n x m matrix when that fits a memory
 * budget; otherwise every pass recomputes them tile by tile. Fast values
 * (float products) are kept in float: all of them, or their first rows
 * within the budget.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "ot/ot.h"
#include "linalg/blas.h"
#include "linalg/tiles.h"

void ss_ot_cost_dense(ss_ot_cost *cost, const double *c, int64_t n,
                      int64_t m, int64_t ld)
{
    memset(cost, 0, sizeof *cost);
    cost->c = c;
    cost->n = n;
    cost->m = m;
    cost->ld = ld;
}

int64_t ss_tile_rows(int64_t n, int fast)
{
    int64_t rows = fast ? SS_TILE_ROWS_MAX : SS_TILE_ROWS_MIN;
    while (rows > SS_TILE_ROWS_MIN && n < 16 * rows)
        rows /= 2;
    return rows;
}

int64_t ss_tile_cols(int64_t d)
{
    /* About 4 MiB of double conversions per thread, 64 to 512 columns. */
    int64_t ct = d > 0 ? ((int64_t)1 << 19) / d : 512;
    ct = ct < 64 ? 64 : ct > 512 ? 512 : ct;
    return ct & ~(int64_t)7;
}

/* n rounded up to a multiple of 8. */
static int64_t round8(int64_t n)
{
    return n > INT64_MAX - 7 ? INT64_MAX & ~(int64_t)7 : (n + 7) & ~(int64_t)7;
}

ss_tiles ss_tiles_for(int64_t n, int64_t m, int64_t d, int fast)
{
    ss_tiles t;
    t.rows = ss_tile_rows(n, fast);
    t.cols = ss_tile_cols(d);
    t.rows = round8(n) < t.rows ? round8(n) : t.rows;
    t.cols = round8(m) < t.cols ? round8(m) : t.cols;
    t.rows = t.rows > 0 ? t.rows : 8;
    t.cols = t.cols > 0 ? t.cols : 8;
    t.d = d;
    t.fast = fast;
    return t;
}

int ss_tile_scratch(subsel_ctx *ctx, int threads, int64_t each, double **out)
{
    if (each > INT64_MAX / threads)
        return ss_fail(ctx, SUBSEL_E_NOMEM, "OT tile scratch overflows");
    return ss_alloc_array(ctx, each * threads, sizeof **out, out);
}

int64_t ss_tile_inputs(const ss_tiles *t)
{
    /* Double copies of the rows (exact tiles), or float products and the
     * panels ss_sgemm_nt_serial packs them from (fast). */
    int64_t copies = (t->rows + t->cols) * t->d;
    int64_t products = (t->rows * t->cols + 1) / 2;
    if (t->fast)
        return (t->rows * t->cols +
                ss_sgemm_nt_pack_floats(t->rows, t->cols, t->d) + 1) / 2;
    return products > copies ? products : copies;
}

int64_t ss_tile_scratch_stride(const ss_tiles *t, int64_t per)
{
    return ss_tile_inputs(t) + t->rows * t->cols + per;
}

/* Rows [0, rows_total) of the values, computed once (by the cost's kind of
 * tile) into cost->owned, or rounded to float into rows dst[i] when dst. */
static int store_rows(subsel_ctx *ctx, ss_ot_cost *cost, int64_t rows_total,
                      float *const *dst)
{
    ss_tiles tiles = ss_tiles_for(cost->n, cost->m, cost->d, cost->fast);
    int64_t n = rows_total, m = cost->m, d = cost->d, ct = tiles.cols;
    int64_t tr = tiles.rows;
    int64_t blocks = (n + tr - 1) / tr, b;
    int64_t stride = ss_tile_scratch_stride(&tiles, 0);
    int threads = ss_threads_for(ctx, blocks);
    double *scratch = NULL;
    SS_CHECK(ss_tile_scratch(ctx, threads, stride, &scratch));
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (b = 0; b < blocks; b++) {
        double *own = scratch + stride * ss_thread_num();
        double *tile = own + ss_tile_inputs(&tiles);
        int64_t i0 = b * tr, j0, r, q;
        int64_t rows = n - i0 < tr ? n - i0 : tr;
        for (j0 = 0; j0 < m; j0 += ct) {
            int64_t cols = m - j0 < ct ? m - j0 : ct;
            double *out = dst ? tile : cost->owned + i0 * m + j0;
            ss_pairwise_tile(ctx, cost->metric, cost->fast,
                             cost->x + i0 * cost->ldx, cost->ldx, rows,
                             cost->xs + i0, cost->y + j0 * cost->ldy,
                             cost->ldy, cols, cost->ys + j0, d, own, out,
                             dst ? ct : m);
            for (r = 0; dst && r < rows; r++) {
                float *row = dst[i0 + r] + j0;
                for (q = 0; q < cols; q++)
                    row[q] = (float)tile[r * ct + q];
            }
        }
    }
    ss_free(ctx, scratch);
    return SUBSEL_OK;
}

/* Rows of a row cache, in chunks of this many allocated as it fills. */
#define CACHE_CHUNK 256

int ss_ot_row_cache_init(subsel_ctx *ctx, ss_ot_row_cache *cache, int64_t ids,
                         int64_t m, int64_t budget)
{
    int64_t i;
    int rc = SUBSEL_OK;
    memset(cache, 0, sizeof *cache);
    cache->ids = ids;
    cache->m = m;
    cache->capacity = m > 0 ? budget / 4 / m : 0;
    cache->capacity = cache->capacity < ids ? cache->capacity : ids;
    SS_TRY(ss_calloc_array(ctx, cache->capacity / CACHE_CHUNK + 1,
                           sizeof *cache->chunks, &cache->chunks));
    SS_TRY(ss_alloc_array(ctx, ids, sizeof *cache->slot, &cache->slot));
    for (i = 0; i < ids; i++)
        cache->slot[i] = -1;
cleanup:
    if (rc < 0)
        ss_ot_row_cache_release(ctx, cache);
    return rc;
}

void ss_ot_row_cache_release(subsel_ctx *ctx, ss_ot_row_cache *cache)
{
    int64_t c;
    for (c = 0; cache->chunks != NULL && c <= cache->capacity / CACHE_CHUNK; c++)
        ss_free(ctx, cache->chunks[c]);
    ss_free(ctx, cache->chunks);
    ss_free(ctx, cache->slot);
    memset(cache, 0, sizeof *cache);
}

/* The cache's row `slot`, its chunk allocated on first use. */
static int cache_row(subsel_ctx *ctx, ss_ot_row_cache *cache, int64_t slot,
                     float **row)
{
    float **chunk = &cache->chunks[slot / CACHE_CHUNK];
    if (*chunk == NULL)
        SS_CHECK(ss_alloc_array(ctx, CACHE_CHUNK * cache->m, sizeof **chunk,
                                chunk));
    *row = *chunk + (slot % CACHE_CHUNK) * cache->m;
    return SUBSEL_OK;
}

/* Fast values from the cache: rows whose id it holds are read there; the
 * others are computed into it while it has room (their rows gathered into
 * one block), else left to be recomputed at every pass. */
static int store_cached(subsel_ctx *ctx, ss_ot_cost *cost, const int64_t *ids,
                        ss_ot_row_cache *cache)
{
    int64_t n = cost->n, d = cost->d, fresh = 0, i, q;
    int64_t *which = NULL;
    float *xg = NULL;
    ss_ot_cost part;
    int rc = SUBSEL_OK;
    memset(&part, 0, sizeof part);
    SS_TRY(ss_alloc_array(ctx, n, sizeof *which, &which));
    for (i = 0; i < n; i++) {
        int64_t slot = cache->slot[ids[i]];
        float *row;
        if (slot < 0 && cache->rows < cache->capacity) {
            slot = cache->slot[ids[i]] = cache->rows++;
            which[fresh++] = i;
        }
        if (slot < 0)
            continue;
        SS_TRY(cache_row(ctx, cache, slot, &row));
        cost->rowp[i] = row;
    }
    if (fresh > 0) {
        /* the fresh rows as one block of point-cloud values */
        part = *cost;
        part.n = fresh;
        part.x = NULL;
        part.xs = NULL;
        part.rowp = NULL;
        SS_TRY(ss_alloc_array(ctx, fresh * d, sizeof *xg, &xg));
        SS_TRY(ss_alloc_array(ctx, fresh, sizeof *part.xs, &part.xs));
        SS_TRY(ss_alloc_array(ctx, fresh, sizeof *part.rowp, &part.rowp));
        for (q = 0; q < fresh; q++) {
            memcpy(xg + q * d, cost->x + which[q] * cost->ldx,
                   (size_t)d * sizeof *xg);
            part.xs[q] = cost->xs[which[q]];
            part.rowp[q] = cost->rowp[which[q]];
        }
        part.x = xg;
        part.ldx = d;
        SS_TRY(store_rows(ctx, &part, fresh, part.rowp));
    }
cleanup:
    ss_free(ctx, which);
    ss_free(ctx, xg);
    ss_free(ctx, part.xs);
    ss_free(ctx, part.rowp);
    return rc;
}

/* Fast values without a cache: all rows if they fit the budget, else what
 * fits of the first rows, whole tiles, in cost->head; the rest are
 * recomputed at every pass. */
static int store_head(subsel_ctx *ctx, ss_ot_cost *cost, int64_t budget)
{
    int64_t n = cost->n, m = cost->m, tr = ss_tiles_for(n, m, cost->d, 1).rows, i;
    int64_t head = budget / 4 / m;
    head = head >= n ? n : head / tr * tr;
    if (head == 0)
        return SUBSEL_OK;
    SS_CHECK(ss_alloc_array(ctx, head * m, sizeof *cost->head, &cost->head));
    for (i = 0; i < head; i++)
        cost->rowp[i] = cost->head + i * m;
    return store_rows(ctx, cost, head, cost->rowp);
}

int ss_ot_cost_points_cached(subsel_ctx *ctx, ss_ot_cost *cost, int metric,
                             int fast, const float *x, int64_t ldx, int64_t n,
                             const int64_t *ids, ss_ot_row_cache *cache,
                             const float *y, int64_t ldy, int64_t m, int64_t d,
                             int64_t budget)
{
    int rc = SUBSEL_OK;
    memset(cost, 0, sizeof *cost);
    cost->x = x;
    cost->y = y;
    cost->n = n;
    cost->m = m;
    cost->d = d;
    cost->ldx = ldx;
    cost->ldy = ldy;
    cost->metric = metric;
    cost->fast = fast;
    SS_TRY(ss_alloc_array(ctx, n, sizeof *cost->xs, &cost->xs));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *cost->ys, &cost->ys));
    ss_row_sqnorms(ctx, x, ldx, n, d, cost->xs);
    ss_row_sqnorms(ctx, y, ldy, m, d, cost->ys);
    if (n == 0 || m == 0)
        return SUBSEL_OK;
    if (fast) {
        /* Fast values are read as floats (ss_ot_both_lse), row by row. */
        SS_TRY(ss_calloc_array(ctx, n, sizeof *cost->rowp, &cost->rowp));
        if (cache != NULL)
            SS_TRY(store_cached(ctx, cost, ids, cache));
        else
            SS_TRY(store_head(ctx, cost, budget));
    } else if (n <= budget / 8 / m) {
        /* Small enough: compute it once, in place. */
        SS_TRY(ss_alloc_array(ctx, n * m, sizeof *cost->owned, &cost->owned));
        SS_TRY(store_rows(ctx, cost, n, NULL));
        cost->c = cost->owned;
        cost->ld = m;
    }
cleanup:
    if (rc < 0)
        ss_ot_cost_release(ctx, cost);
    return rc;
}

int ss_ot_cost_points(subsel_ctx *ctx, ss_ot_cost *cost, int metric, int fast,
                      const float *x, int64_t ldx, int64_t n, const float *y,
                      int64_t ldy, int64_t m, int64_t d, int64_t budget)
{
    return ss_ot_cost_points_cached(ctx, cost, metric, fast, x, ldx, n, NULL,
                                    NULL, y, ldy, m, d, budget);
}

int ss_ot_cost_stored_block(const ss_ot_cost *cost, int64_t i0, int64_t rows)
{
    int64_t r;
    for (r = 0; cost->rowp != NULL && r < rows; r++)
        if (cost->rowp[i0 + r] == NULL)
            return 0;
    return cost->rowp != NULL;
}

void ss_ot_cost_release(subsel_ctx *ctx, ss_ot_cost *cost)
{
    ss_free(ctx, cost->xs);
    ss_free(ctx, cost->ys);
    ss_free(ctx, cost->owned);
    ss_free(ctx, cost->head);
    ss_free(ctx, cost->rowp);
    cost->xs = cost->ys = cost->owned = NULL;
    cost->head = NULL;
    cost->rowp = NULL;
    if (cost->x != NULL)
        cost->c = NULL;
}

void ss_ot_cost_range(const subsel_ctx *ctx, const ss_ot_cost *cost,
                      double *lo, double *hi)
{
    double mn = INFINITY, mx = -INFINITY;
    int64_t i;
    if (cost->c != NULL) {
        /* min and max are exact: any split of the rows gives the same */
#pragma omp parallel for num_threads(ss_ot_threads_for(ctx, cost->n, cost->n * cost->m)) \
    schedule(static) reduction(min : mn) reduction(max : mx)
        for (i = 0; i < cost->n; i++) {
            const double *row = cost->c + i * cost->ld;
            int64_t j;
            for (j = 0; j < cost->m; j++) {
                mn = row[j] < mn ? row[j] : mn;
                mx = row[j] > mx ? row[j] : mx;
            }
        }
    } else {
        /* |x - y| <= |x| + |y|; |x.y| <= |x| |y|. */
        double xm = 0.0, ym = 0.0, r;
        for (i = 0; i < cost->n; i++)
            xm = cost->xs[i] > xm ? cost->xs[i] : xm;
        for (i = 0; i < cost->m; i++)
            ym = cost->ys[i] > ym ? cost->ys[i] : ym;
        xm = sqrt(xm);
        ym = sqrt(ym);
        r = xm + ym;
        switch (cost->metric) {
        case SS_METRIC_SQEUCLID: mn = 0.0; mx = r * r; break;
        case SS_METRIC_EUCLID: mn = 0.0; mx = r; break;
        case SS_METRIC_NEG_SQEUCLID: mn = -r * r; mx = 0.0; break;
        case SS_METRIC_NEG_EUCLID: mn = -r; mx = 0.0; break;
        case SS_METRIC_COSINE_DIST: mn = 0.0; mx = 2.0; break;
        case SS_METRIC_COSINE: mn = -1.0; mx = 1.0; break;
        default: mn = -xm * ym; mx = xm * ym; break;
        }
    }
    if (!(mn <= mx))
        mn = mx = 0.0;
    *lo = mn;
    *hi = mx;
}
