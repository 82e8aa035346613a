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
#include "linalg/blas.h"
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
    ss_tiles tiles = ss_tiles_for(n, m, d, cost->fast);
    int64_t tr = tiles.rows, ct = tiles.cols;
    int64_t blocks = (n + tr - 1) / tr, b;
    int64_t stride = ss_tile_scratch_stride(&tiles, 4 * tr);
    int threads = ss_ot_threads_for(ctx, blocks, n * m * (d + 8) / 8);
    double *scratch = NULL;
    SS_CHECK(ss_tile_scratch(ctx, threads, stride, &scratch));
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (b = 0; b < blocks; b++) {
        double *own = scratch + stride * ss_thread_num();
        double *tile = own + ss_tile_inputs(&tiles);
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

/* One tile of the symmetric pass: rows i0.. and columns j0.. of a fast
 * point-cloud cost, read from the stored float rows or from the thread's
 * float tile. */
typedef struct {
    const ss_ot_cost *cost;
    const float *ftile; /* rows x ct, when the rows are not stored */
    int64_t i0, rows, j0, cols, ct;
    int64_t next; /* columns of the block's next tile, for prefetching */
    int stored;
} both_tile;

static const float *tile_row(const both_tile *t, int64_t r)
{
    return t->stored ? t->cost->rowp[t->i0 + r] + t->j0 : t->ftile + r * t->ct;
}

/* The two-sweep form: the rows' and the columns' maxima, then the sums,
 * two exps per value. mx, acc: the rows' partials; sm, sa: the columns'. */
static void sweep_two(const ss_kernels *k, const both_tile *t, double s,
                      const double *hcol, const double *hrow, double *mx,
                      double *acc, double *sm, double *sa)
{
    int64_t r, q;
    for (q = 0; q < t->cols; q++) {
        sm[q] = -INFINITY;
        sa[q] = 0.0;
    }
    for (r = 0; r < t->rows; r++) {
        const float *v = tile_row(t, r);
        /* the next tile's columns, fetched row by row: the first sweep over
         * a stored tile otherwise waits on memory at the start of each of
         * its rows */
        if (t->stored)
            ss_prefetch_bytes(v + t->cols, (size_t)t->next * sizeof *v);
        mx[r] = k->lse_both_max(v, hcol, s, hrow[r], sm, t->cols);
    }
    for (r = 0; r < t->rows; r++)
        acc[r] = k->lse_both_sum(tile_row(t, r), hcol, s, hrow[r], mx[r], sm, sa, t->cols);
}

/* The shared form lets a row's factor exp(u_i - U) reach e^SHARED_SLACK
 * before it moves the tile's reference U up to u_i (rescaling the sums so
 * far), so that rows in rising order of u_i do not rescale at each row. */
#define SHARED_SLACK 8.0

/* The shared form's exps fetch the row this many rows ahead, one cache
 * line per vector: a row's exps take about as long as memory's latency, so
 * the row after next arrives in time. */
#define AHEAD_ROWS 2

/* The shared form: one sweep, one exp per value (see tiled_both). Each row
 * is read once: its maximum, then its exps from L1. */
static void sweep_shared(const ss_kernels *k, const both_tile *t, double s,
                         const double *hcol, const double *hrow, double *mx,
                         double *acc, double *sm, double *sa)
{
    double top = -INFINITY;
    int64_t r, q;
    for (q = 0; q < t->cols; q++)
        sa[q] = 0.0;
    for (r = 0; r < t->rows; r++) {
        const float *v = tile_row(t, r), *ahead = v;
        int64_t a = r + AHEAD_ROWS;
        double u;
        if (t->stored && a < t->rows)
            ahead = tile_row(t, a);
        else if (t->stored && a - t->rows < t->rows && t->next >= t->cols)
            ahead = tile_row(t, a - t->rows) + t->cols; /* the next tile's */
        mx[r] = k->lse_max_f32(v, hcol, s, t->cols);
        u = mx[r] + hrow[r];
        if (u > top + SHARED_SLACK) { /* at the first row, f = 0 on sums of 0 */
            double f = exp(top - u);
            for (q = 0; q < t->cols; q++)
                sa[q] *= f;
            top = u;
        }
        acc[r] = k->lse_sum_shared(v, hcol, s, mx[r], exp(u - top), sa, t->cols, ahead);
    }
    for (q = 0; q < t->cols; q++)
        sm[q] = top - hcol[q];
}

/* Both passes from one reading of each tile of a fast point-cloud cost,
 * whose values are floats: a block whose rows are all stored is read in
 * place, the others computed into the thread's tile and rounded to float
 * as the stored rows were. Row i of the block and column j of the tile
 * each get a partial log-sum-exp; rows merge across the tiles of their
 * block, columns across blocks, wave by wave.
 *
 * `shared`: one exp per value. A column's exponent z_ij = s c_ij + hrow_i
 * is the row's x_ij = s c_ij + hcol_j plus hrow_i - hcol_j, so with u_i =
 * rowmax_i + hrow_i and a reference U near the tile's largest u_i,
 * exp(z_ij - (U - hcol_j)) = exp(x_ij - rowmax_i) exp(u_i - U): the row's
 * own term times a per-row factor. A column whose terms all sit far below
 * U - hcol_j loses precision that way (its single-precision exps below
 * e^-87 are flushed); *short_cols counts the columns whose sums are too
 * small to vouch for, and the caller then runs the two-sweep form, which
 * takes each column's own maximum. */
static int tiled_both(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                      const double *hcol, double *row_out,
                      const double *hrow, double *col_out, int shared,
                      int64_t *short_cols)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t n = cost->n, m = cost->m, d = cost->d;
    ss_tiles tiles = ss_tiles_for(n, m, d, 1);
    int64_t tr = tiles.rows, ct = tiles.cols;
    int64_t blocks = (n + tr - 1) / tr, w0, j, lost = 0;
    int64_t inputs = ss_tile_inputs(&tiles);
    /* a recomputed block's rows, packed once for all its tiles' products:
     * every tile of a block has the same rows, and packing them again for
     * each was half the packing (which took 9 % of TAROT's fill in a
     * profile; the products run 1.04x faster, bench_blas's blas_tile) */
    int64_t x_packed = ss_sgemm_nt_a_floats(tr, ct, d);
    /* per thread, after the products' inputs: a row of doubles (recomputed
     * values go to float a row at a time, so no double tile), 4 partials
     * per row, the float tile and the packed rows */
    int64_t per = ct + 4 * tr + (tr * ct + 1) / 2 + (x_packed + 1) / 2;
    int64_t stride = inputs + per;
    int threads = ss_ot_threads_for(ctx, blocks < WAVE_BLOCKS ? blocks : WAVE_BLOCKS,
                              n * m * (d + 8) / 8);
    /* Each flushed term of a column is under e^(SHARED_SLACK - 87) of its
     * reference; a sum this many times the row count keeps all of them
     * together under 2^-30 of it. */
    double min_sum = exp(SHARED_SLACK - 87.0) * 0x1p30 * (double)n;
    double *scratch = NULL, *slots = NULL, *col_m = NULL, *col_a = NULL;
    int rc = SUBSEL_OK;
    SS_TRY(ss_tile_scratch(ctx, threads, stride, &scratch));
    SS_TRY(ss_alloc_array(ctx, 2 * WAVE_BLOCKS * m, sizeof *slots, &slots));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *col_m, &col_m));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *col_a, &col_a));
    for (w0 = 0; w0 < blocks; w0 += WAVE_BLOCKS) {
        int64_t wn = blocks - w0 < WAVE_BLOCKS ? blocks - w0 : WAVE_BLOCKS, b;
#pragma omp parallel for num_threads(threads) schedule(dynamic)
        for (b = w0; b < w0 + wn; b++) {
            double *own = scratch + stride * ss_thread_num();
            double *row = own + inputs;
            double *big_m = row + ct, *big_a = big_m + tr;
            double *pm = big_a + tr, *pa = pm + tr;
            float *ftile = (float *)(pa + tr);
            float *xp = (float *)(pa + tr + (tr * ct + 1) / 2);
            const float *x = cost->x + b * tr * cost->ldx;
            double *sm = slots + 2 * (b - w0) * m, *sa = sm + m;
            both_tile t;
            int64_t r;
            t.cost = cost;
            t.ftile = ftile;
            t.i0 = b * tr;
            t.rows = n - t.i0 < tr ? n - t.i0 : tr;
            t.ct = ct;
            t.stored = ss_ot_cost_stored_block(cost, t.i0, t.rows);
            if (t.stored || x_packed == 0 ||
                !ss_sgemm_nt_pack_a(k, t.rows, ct, d, x, cost->ldx, xp))
                xp = NULL;
            for (t.j0 = 0; t.j0 < m; t.j0 += ct) {
                int first = t.j0 == 0;
                double *mx = first ? big_m : pm, *acc = first ? big_a : pa;
                t.cols = m - t.j0 < ct ? m - t.j0 : ct;
                t.next = m - t.j0 - t.cols < ct ? m - t.j0 - t.cols : ct;
                if (!t.stored) /* recomputed, as the stored ones: in float */
                    ss_pairwise_tile_f32(ctx, cost->metric, x, cost->ldx, xp, t.rows,
                                         cost->xs + t.i0, cost->y + t.j0 * cost->ldy,
                                         cost->ldy, t.cols, cost->ys + t.j0, cost->d, own,
                                         row, ftile, ct);
                (shared ? sweep_shared : sweep_two)(k, &t, s, hcol + t.j0, hrow + t.i0,
                                                    mx, acc, sm + t.j0, sa + t.j0);
                if (!first)
                    k->lse_merge(big_m, big_a, pm, pa, t.rows);
            }
            for (r = 0; r < t.rows; r++)
                row_out[t.i0 + r] = big_m[r] + log(big_a[r]);
        }
        /* Merge this wave's column partials in block order. */
        if (w0 == 0) {
            memcpy(col_m, slots, (size_t)m * sizeof *col_m);
            memcpy(col_a, slots + m, (size_t)m * sizeof *col_a);
        }
        for (b = w0 == 0 ? 1 : 0; b < wn; b++)
            k->lse_merge(col_m, col_a, slots + 2 * b * m, slots + 2 * b * m + m, m);
    }
    for (j = 0; j < m; j++) {
        col_out[j] = col_m[j] + log(col_a[j]);
        /* the negation counts NaN too */
        lost += shared && !(col_a[j] >= min_sum && isfinite(col_m[j]));
    }
    *short_cols = lost;
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
    int64_t short_cols = 0;
    if (cost->x == NULL || !cost->fast)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "ss_ot_both_lse: needs fast point-cloud values");
    SS_CHECK(tiled_both(ctx, cost, s, hcol, row_out, hrow, col_out, 1, &short_cols));
    if (short_cols == 0)
        return SUBSEL_OK;
    return tiled_both(ctx, cost, s, hcol, row_out, hrow, col_out, 0, &short_cols);
}

int ss_ot_gibbs(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                const double *hrow, const double *h, double *plan,
                double *dot)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t n = cost->n, m = cost->m, d = cost->d, i;
    ss_tiles tiles = ss_tiles_for(n, m, d, 0);
    int64_t ct = tiles.cols, tr = tiles.rows, stride, b, blocks;
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
        blocks = (n + tr - 1) / tr;
        stride = ss_tile_scratch_stride(&tiles, ct);
        threads = ss_ot_threads_for(ctx, blocks, n * m * (d + 8) / 8);
        SS_TRY(ss_tile_scratch(ctx, threads, stride, &scratch));
#pragma omp parallel for num_threads(threads) schedule(dynamic)
        for (b = 0; b < blocks; b++) {
            double *own = scratch + stride * ss_thread_num();
            double *tile = own + ss_tile_inputs(&tiles);
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
