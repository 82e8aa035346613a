/* SPDX-License-Identifier: MIT */
/*
 * The passes of every log-domain solver: row and column log-sum-exps of
 * s C_ij + h, and the plan with <P, C>. Dense matrices are read in place:
 * rows in parallel, columns in parallel stripes that walk down the rows in
 * fixed chunks and merge the chunk log-sum-exps in order. Point clouds
 * without a stored matrix are computed tile by tile; a column pass is a row
 * pass of the transposed problem (the metrics are symmetric). Both passes
 * at once (the annealed solves', on fast values kept in float) go tile by
 * tile, so that each value is read from memory (or computed) once for
 * both. Every sum has a fixed order, so results do not depend on the
 * thread count.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "ot/ot.h"
#include "linalg/tiles.h"

/* Column stripes and row chunks of the dense column pass. */
#define STRIPE_COLS 256
#define CHUNK_ROWS 128

int ss_ot_threads_for(const subsel_ctx *ctx, int64_t items, int64_t entries)
{
    int64_t work = entries / 65536 + 1;
    return ss_threads_for(ctx, work < items ? work : items);
}

static void dense_row_lse(const subsel_ctx *ctx, const ss_ot_cost *cost,
                          double s, const double *h, double *out)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t n = cost->n, m = cost->m, i;
#pragma omp parallel for num_threads(ss_ot_threads_for(ctx, n, n * m)) schedule(static)
    for (i = 0; i < n; i++) {
        const double *row = cost->c + i * cost->ld;
        double mx = k->lse_max(row, h, s, m);
        out[i] = mx + log(k->lse_sum(row, h, s, mx, m));
    }
}

static int dense_col_lse(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                         const double *h, double *out)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t n = cost->n, m = cost->m, ld = cost->ld;
    int64_t stripes = (m + STRIPE_COLS - 1) / STRIPE_COLS, st;
    int threads = ss_ot_threads_for(ctx, stripes, n * m);
    double *scratch = NULL;
    SS_CHECK(ss_alloc_array(ctx, (int64_t)threads * 4 * STRIPE_COLS,
                            sizeof *scratch, &scratch));
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (st = 0; st < stripes; st++) {
        double *big_m = scratch + (int64_t)ss_thread_num() * 4 * STRIPE_COLS;
        double *big_a = big_m + STRIPE_COLS, *cm = big_a + STRIPE_COLS;
        double *ca = cm + STRIPE_COLS;
        int64_t j0 = st * STRIPE_COLS, i0, i, j;
        int64_t w = m - j0 < STRIPE_COLS ? m - j0 : STRIPE_COLS;
        for (i0 = 0; i0 < n; i0 += CHUNK_ROWS) {
            int64_t i1 = n - i0 < CHUNK_ROWS ? n : i0 + CHUNK_ROWS;
            int first = i0 == 0;
            double *mx = first ? big_m : cm, *acc = first ? big_a : ca;
            for (j = 0; j < w; j++) {
                mx[j] = -INFINITY;
                acc[j] = 0.0;
            }
            for (i = i0; i < i1; i++)
                k->lse_col_max(mx, cost->c + i * ld + j0, s, h[i], w);
            for (i = i0; i < i1; i++)
                k->lse_col_sum(acc, NULL, mx, cost->c + i * ld + j0, s, h[i], w);
            if (!first)
                k->lse_merge(big_m, big_a, cm, ca, w);
        }
        for (j = 0; j < w; j++)
            out[j0 + j] = big_m[j] + log(big_a[j]);
    }
    ss_free(ctx, scratch);
    return SUBSEL_OK;
}

/* Columns of a stripe of ss_ot_col_exp: all n rows of a stripe in about
 * 256 KB, so that the exp pass finds them in L2 after the max pass. */
static int64_t exp_stripe_cols(int64_t n)
{
    int64_t cols = 32768 / (n > 0 ? n : 1);
    cols = cols < 8 ? 8 : cols > STRIPE_COLS ? STRIPE_COLS : cols;
    return cols - cols % 8;
}

void ss_ot_col_exp(const subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                   const double *h, double *e, double *mx, double *sum)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t n = cost->n, m = cost->m, ld = cost->ld, width = exp_stripe_cols(n);
    int64_t stripes = (m + width - 1) / width, st;
#pragma omp parallel for num_threads(ss_ot_threads_for(ctx, stripes, n * m)) schedule(dynamic)
    for (st = 0; st < stripes; st++) {
        int64_t j0 = st * width, cols = m - j0 < width ? m - j0 : width, i, j;
        for (j = j0; j < j0 + cols; j++) {
            mx[j] = -INFINITY;
            sum[j] = 0.0;
        }
        for (i = 0; i < n; i++)
            k->lse_col_max(mx + j0, cost->c + i * ld + j0, s, h[i], cols);
        for (i = 0; i < n; i++)
            k->lse_col_sum(sum + j0, e + i * m + j0, mx + j0, cost->c + i * ld + j0,
                           s, h[i], cols);
    }
}

void ss_ot_scale_cols(const subsel_ctx *ctx, double *e, int64_t n, int64_t m,
                      const double *v, double *sums)
{
    int64_t i;
#pragma omp parallel for num_threads(ss_ot_threads_for(ctx, n, n * m)) schedule(static)
    for (i = 0; i < n; i++) {
        double sum = 0.0, *row = e + i * m;
        int64_t j;
        for (j = 0; j < m; j++) {
            row[j] *= v[j];
            sum += row[j];
        }
        sums[i] = sum;
    }
}

void ss_ot_row_dot(const subsel_ctx *ctx, const double *e, int64_t n, int64_t m,
                   const double *v, double *out)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t i;
#pragma omp parallel for num_threads(ss_ot_threads_for(ctx, n, n * m)) schedule(static)
    for (i = 0; i < n; i++)
        k->gemm_dots(1, 1, m, e + i * m, m, v, m, out + i, 1, 0);
}

/* Tile (i0.., j0..) of the values, or of their transpose, into `tile`
 * (leading dimension ct): read from the stored float rows when they hold
 * it, else computed into it. */
static void values_tile(const subsel_ctx *ctx, const ss_ot_cost *cost,
                        int transpose, int64_t i0, int64_t rows, int64_t j0,
                        int64_t cols, double *own, double *tile, int64_t ct)
{
    int64_t r, q;
    if (!transpose && ss_ot_cost_stored_block(cost, i0, rows)) {
        for (r = 0; r < rows; r++) {
            const float *src = cost->rowp[i0 + r] + j0;
            for (q = 0; q < cols; q++)
                tile[r * ct + q] = src[q];
        }
    } else if (!transpose) {
        ss_pairwise_tile(ctx, cost->metric, cost->fast,
                         cost->x + i0 * cost->ldx, cost->ldx, rows,
                         cost->xs + i0, cost->y + j0 * cost->ldy, cost->ldy,
                         cols, cost->ys + j0, cost->d, own, tile, ct);
    } else {
        ss_pairwise_tile(ctx, cost->metric, cost->fast,
                         cost->y + i0 * cost->ldy, cost->ldy, rows,
                         cost->ys + i0, cost->x + j0 * cost->ldx, cost->ldx,
                         cols, cost->xs + j0, cost->d, own, tile, ct);
    }
}

/* out[i] = log sum_j exp(s metric(x_i, y_j) + h[j]), tile by tile. */
static int stream_lse(subsel_ctx *ctx, const ss_ot_cost *cost, int transpose,
                      double s, const double *h, double *out)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t n = transpose ? cost->m : cost->n;
    int64_t m = transpose ? cost->n : cost->m, d = cost->d;
    int64_t tr = ss_tile_rows(n, cost->fast), ct = ss_tile_cols(d);
    int64_t blocks = (n + tr - 1) / tr, b;
    int64_t stride = ss_tile_scratch_stride(tr, d, cost->fast, 4 * tr);
    int threads = ss_ot_threads_for(ctx, blocks, n * m * (d + 8) / 8);
    double *scratch = NULL;
    SS_CHECK(ss_tile_scratch(ctx, threads, tr, d, cost->fast, 4 * tr,
                             &scratch));
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (b = 0; b < blocks; b++) {
        double *own = scratch + stride * ss_thread_num();
        double *tile = own + ss_tile_inputs(tr, d, cost->fast);
        double *big_m = tile + tr * ct, *big_a = big_m + tr;
        double *pm = big_a + tr, *pa = pm + tr;
        int64_t i0 = b * tr, j0, r;
        int64_t rows = n - i0 < tr ? n - i0 : tr;
        for (j0 = 0; j0 < m; j0 += ct) {
            int64_t cols = m - j0 < ct ? m - j0 : ct;
            int first = j0 == 0;
            double *mx = first ? big_m : pm, *acc = first ? big_a : pa;
            values_tile(ctx, cost, transpose, i0, rows, j0, cols, own, tile, ct);
            for (r = 0; r < rows; r++) {
                mx[r] = k->lse_max(tile + r * ct, h + j0, s, cols);
                acc[r] = k->lse_sum(tile + r * ct, h + j0, s, mx[r], cols);
            }
            if (!first)
                k->lse_merge(big_m, big_a, pm, pa, rows);
        }
        for (r = 0; r < rows; r++)
            out[i0 + r] = big_m[r] + log(big_a[r]);
    }
    ss_free(ctx, scratch);
    return SUBSEL_OK;
}

int ss_ot_row_lse(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                  const double *h, double *out)
{
    if (cost->c == NULL)
        return stream_lse(ctx, cost, 0, s, h, out);
    dense_row_lse(ctx, cost, s, h, out);
    return SUBSEL_OK;
}

int ss_ot_col_lse(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                  const double *h, double *out)
{
    if (cost->c == NULL)
        return stream_lse(ctx, cost, 1, s, h, out);
    return dense_col_lse(ctx, cost, s, h, out);
}

/* Row blocks of one wave of the symmetric pass: their column partials are
 * kept, then merged in block order (a fixed order whatever the thread
 * count). */
#define WAVE_BLOCKS 16

/* Row i of the values, from column j0: the stored row, or the row of the
 * block's own tile. */
static const float *float_row(const ss_ot_cost *cost, int stored, int64_t i,
                              int64_t j0, const float *own)
{
    return stored ? cost->rowp[i] + j0 : own;
}

/* Both passes from one reading of each tile of a fast point-cloud cost,
 * whose values are floats: a block whose rows are all stored is read in
 * place, the others computed into the thread's tile and rounded to float
 * as the stored rows were. Row i of the block and column j of the tile
 * each get a partial log-sum-exp from two sweeps (the maxima, then the
 * sums); rows merge across the tiles of their block, columns across
 * blocks, wave by wave. */
static int tiled_both(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                      const double *hcol, double *row_out,
                      const double *hrow, double *col_out)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t n = cost->n, m = cost->m, d = cost->d, ct = ss_tile_cols(d);
    int64_t tr = ss_tile_rows(n, 1);
    int64_t blocks = (n + tr - 1) / tr, w0, j;
    int64_t inputs = ss_tile_inputs(tr, d, 1);
    /* per thread, after the tile: 4 partials per row and the float tile */
    int64_t per = 4 * tr + (tr * ct + 1) / 2;
    int64_t stride = ss_tile_scratch_stride(tr, d, 1, per);
    int threads = ss_ot_threads_for(ctx, blocks < WAVE_BLOCKS ? blocks : WAVE_BLOCKS,
                              n * m * (d + 8) / 8);
    double *scratch = NULL, *slots = NULL, *col_m = NULL, *col_a = NULL;
    int rc = SUBSEL_OK;
    if (cost->x == NULL || !cost->fast)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "ss_ot_both_lse: needs fast point-cloud values");
    SS_TRY(ss_tile_scratch(ctx, threads, tr, d, 1, per, &scratch));
    SS_TRY(ss_alloc_array(ctx, 2 * WAVE_BLOCKS * m, sizeof *slots, &slots));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *col_m, &col_m));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *col_a, &col_a));
    for (w0 = 0; w0 < blocks; w0 += WAVE_BLOCKS) {
        int64_t wn = blocks - w0 < WAVE_BLOCKS ? blocks - w0 : WAVE_BLOCKS, b;
#pragma omp parallel for num_threads(threads) schedule(dynamic)
        for (b = w0; b < w0 + wn; b++) {
            double *own = scratch + stride * ss_thread_num();
            double *tile = own + inputs;
            double *big_m = tile + tr * ct, *big_a = big_m + tr;
            double *pm = big_a + tr, *pa = pm + tr;
            float *ftile = (float *)(pa + tr);
            double *sm = slots + 2 * (b - w0) * m, *sa = sm + m;
            int64_t i0 = b * tr, j0, r, q;
            int64_t rows = n - i0 < tr ? n - i0 : tr;
            int stored = ss_ot_cost_stored_block(cost, i0, rows);
            for (j0 = 0; j0 < m; j0 += ct) {
                int64_t cols = m - j0 < ct ? m - j0 : ct, next = 0;
                int first = j0 == 0;
                double *mx = first ? big_m : pm, *acc = first ? big_a : pa;
                if (stored) {
                    /* the next tile's columns, fetched row by row below: the
                     * first sweep over a stored tile otherwise waits on
                     * memory at the start of each of its rows */
                    next = m - j0 - cols < ct ? m - j0 - cols : ct;
                } else {
                    values_tile(ctx, cost, 0, i0, rows, j0, cols, own, tile, ct);
                    for (r = 0; r < rows; r++)
                        for (q = 0; q < cols; q++)
                            ftile[r * ct + q] = (float)tile[r * ct + q];
                }
                for (q = 0; q < cols; q++) {
                    sm[j0 + q] = -INFINITY;
                    sa[j0 + q] = 0.0;
                }
                for (r = 0; r < rows; r++) {
                    const float *v = float_row(cost, stored, i0 + r, j0, ftile + r * ct);
                    ss_prefetch_bytes(v + cols, (size_t)next * sizeof *v);
                    mx[r] = k->lse_both_max(v, hcol + j0, s, hrow[i0 + r],
                                            sm + j0, cols);
                }
                for (r = 0; r < rows; r++)
                    acc[r] = k->lse_both_sum(
                        float_row(cost, stored, i0 + r, j0, ftile + r * ct),
                        hcol + j0, s, hrow[i0 + r], mx[r], sm + j0, sa + j0, cols);
                if (!first)
                    k->lse_merge(big_m, big_a, pm, pa, rows);
            }
            for (r = 0; r < rows; r++)
                row_out[i0 + r] = big_m[r] + log(big_a[r]);
        }
        /* Merge this wave's column partials in block order. */
        if (w0 == 0) {
            memcpy(col_m, slots, (size_t)m * sizeof *col_m);
            memcpy(col_a, slots + m, (size_t)m * sizeof *col_a);
        }
        for (b = w0 == 0 ? 1 : 0; b < wn; b++)
            k->lse_merge(col_m, col_a, slots + 2 * b * m, slots + 2 * b * m + m, m);
    }
    for (j = 0; j < m; j++)
        col_out[j] = col_m[j] + log(col_a[j]);
cleanup:
    ss_free(ctx, scratch);
    ss_free(ctx, slots);
    ss_free(ctx, col_m);
    ss_free(ctx, col_a);
    return rc;
}

int ss_ot_both_lse(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                   const double *hcol, double *row_out, const double *hrow,
                   double *col_out)
{
    return tiled_both(ctx, cost, s, hcol, row_out, hrow, col_out);
}

int ss_ot_gibbs(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                const double *hrow, const double *h, double *plan,
                double *dot)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t n = cost->n, m = cost->m, d = cost->d, i;
    int64_t ct = ss_tile_cols(d), tr, stride, b, blocks;
    double *dots = NULL, *scratch = NULL, total = 0.0;
    int threads, rc = SUBSEL_OK;
    SS_TRY(ss_calloc_array(ctx, n, sizeof *dots, &dots));
    if (cost->c != NULL) {
        threads = ss_ot_threads_for(ctx, n, n * m);
        if (plan == NULL)
            SS_TRY(ss_alloc_array(ctx, (int64_t)threads * m, sizeof *scratch,
                                  &scratch));
#pragma omp parallel for num_threads(threads) schedule(static)
        for (i = 0; i < n; i++) {
            double *out = plan ? plan + i * m : scratch + (int64_t)ss_thread_num() * m;
            dots[i] = k->gibbs_row(out, cost->c + i * cost->ld, h, s, hrow[i], m);
        }
    } else {
        tr = ss_tile_rows(n, 0);
        blocks = (n + tr - 1) / tr;
        stride = ss_tile_scratch_stride(tr, d, 0, ct);
        threads = ss_ot_threads_for(ctx, blocks, n * m * (d + 8) / 8);
        SS_TRY(ss_tile_scratch(ctx, threads, tr, d, 0, ct, &scratch));
#pragma omp parallel for num_threads(threads) schedule(dynamic)
        for (b = 0; b < blocks; b++) {
            double *own = scratch + stride * ss_thread_num();
            double *tile = own + ss_tile_inputs(tr, d, 0);
            double *row_out = tile + tr * ct;
            int64_t i0 = b * tr, j0, r;
            int64_t rows = n - i0 < tr ? n - i0 : tr;
            for (j0 = 0; j0 < m; j0 += ct) {
                int64_t cols = m - j0 < ct ? m - j0 : ct;
                /* Plans are always exact: a cost error is divided by reg
                 * in their exponent. */
                ss_pairwise_tile(ctx, cost->metric, 0,
                                 cost->x + i0 * cost->ldx, cost->ldx, rows,
                                 cost->xs + i0, cost->y + j0 * cost->ldy,
                                 cost->ldy, cols, cost->ys + j0, d, own, tile,
                                 ct);
                for (r = 0; r < rows; r++) {
                    double *out = plan ? plan + (i0 + r) * m + j0 : row_out;
                    dots[i0 + r] += k->gibbs_row(out, tile + r * ct, h + j0, s,
                                                 hrow[i0 + r], cols);
                }
            }
        }
    }
    for (i = 0; i < n; i++)
        total += dots[i];
    *dot = total;
cleanup:
    ss_free(ctx, dots);
    ss_free(ctx, scratch);
    return rc;
}
