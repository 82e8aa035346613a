/* SPDX-License-Identifier: MIT */
/*
 * Pairwise values between the rows of two point clouds (squared and plain
 * Euclidean distances, cosine, dot products) through one matrix product:
 * |x - y|^2 = |x|^2 + |y|^2 - 2 x.y. OT tiles are exact ones (a dgemm on
 * double copies: at a small regularisation an error in a cost is divided
 * by reg in the plan's exponent) or fast ones (a float sgemm with near
 * pairs redone in double, for solvers that need only potentials, which
 * move by at most the largest error of a cost). Similarity matrices
 * (UniPROT) only need float and use one sgemm.
 */
#include <math.h>

#include "core/ctx.h"
#include "core/error.h"
#include "linalg/blas.h"
#include "matrix/matrix.h"
#include "linalg/pairwise.h"
#include "linalg/tiles.h"

const subsel_ctx *ss_blas_ctx(const subsel_ctx *ctx, double work,
                              subsel_ctx *one)
{
    if (work >= SS_BLAS_SERIAL_WORK)
        return ctx;
    *one = *ctx;
    one->threads = 1;
    return one;
}

void ss_row_sqnorms(const subsel_ctx *ctx, const float *x, int64_t ldx,
                    int64_t n, int64_t d, double *sq)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t i;
#pragma omp parallel for num_threads(ss_threads_for(ctx, n * d / 65536 + 1)) schedule(static)
    for (i = 0; i < n; i++)
        sq[i] = k->dot_f32(x + i * ldx, x + i * ldx, d);
}

/* Distances taken as |x - y| rather than its square; distances negated
 * (similarities). */
static int is_root(int metric)
{
    return metric == SS_METRIC_EUCLID || metric == SS_METRIC_NEG_EUCLID;
}

static int is_negated(int metric)
{
    return metric == SS_METRIC_NEG_SQEUCLID || metric == SS_METRIC_NEG_EUCLID;
}

/* row[j] = metric(x, y_j) from row[j] = x.y_j and the squared norms. Loops
 * per metric, so that they vectorise (sqrt too: -fno-math-errno). */
static void finish_row(int metric, double *row, double xs, const double *ys,
                       int64_t ny)
{
    int64_t j;
    switch (metric) {
    case SS_METRIC_SQEUCLID:
    case SS_METRIC_EUCLID:
    case SS_METRIC_NEG_SQEUCLID:
    case SS_METRIC_NEG_EUCLID:
        for (j = 0; j < ny; j++) {
            double sq = xs + ys[j] - 2.0 * row[j];
            row[j] = sq > 0.0 ? sq : 0.0;
        }
        if (is_root(metric))
            for (j = 0; j < ny; j++)
                row[j] = sqrt(row[j]);
        if (is_negated(metric))
            for (j = 0; j < ny; j++)
                row[j] = -row[j];
        break;
    case SS_METRIC_COSINE:
    case SS_METRIC_COSINE_DIST:
        for (j = 0; j < ny; j++) {
            double den = sqrt(xs) * sqrt(ys[j]);
            double c = den > 0.0 ? row[j] / den : 0.0;
            row[j] = metric == SS_METRIC_COSINE ? c : 1.0 - c;
        }
        break;
    default:
        break;
    }
}

/* Fast tiles take the products from a float sgemm, which accumulates in
 * float: a product is then off by about 2^-24 sqrt(d) |x| |y|, and a
 * distance by that over twice the distance, which is harmless for far
 * pairs and not for near ones (at a distance of 0.01 between unit rows it
 * is ~1e-4). Products of pairs with |x - y|^2 below NEAR_FRACTION
 * (|x|^2 + |y|^2) are therefore redone exactly in double. */
#define NEAR_FRACTION 0.0625

static int is_distance(int metric)
{
    return metric == SS_METRIC_SQEUCLID || metric == SS_METRIC_EUCLID ||
           metric == SS_METRIC_NEG_SQEUCLID || metric == SS_METRIC_NEG_EUCLID;
}

/* A fast tile's distances (out, from the float products prod), with the
 * near pairs redone from exact double products. */
static void fast_distances(const ss_kernels *k, int metric, const float *x,
                           int64_t ldx, int64_t nx, const double *xs,
                           const float *y, int64_t ldy, int64_t ny,
                           const double *ys, int64_t d, const float *prod,
                           double *out, int64_t ldo)
{
    int root = is_root(metric);
    int64_t i, j;
    for (i = 0; i < nx; i++) {
        double *row = out + i * ldo;
        const float *p = prod + i * ny;
        if (k->dist_from_dot_f32(row, p, xs[i], ys, NEAR_FRACTION, root, ny) > 0)
            for (j = 0; j < ny; j++) {
                double sum = xs[i] + ys[j], q = sum - 2.0 * (double)p[j];
                if (!(q < NEAR_FRACTION * sum))
                    continue;
                q = sum - 2.0 * k->dot_f32(x + i * ldx, y + j * ldy, d);
                q = q > 0.0 ? q : 0.0;
                row[j] = root ? sqrt(q) : q;
            }
        if (is_negated(metric))
            for (j = 0; j < ny; j++)
                row[j] = -row[j];
    }
}

/* A fast tile's float products x_i.y_j (row i at prod + i * ny), into
 * the scratch, which then holds the panels they were packed from. */
static const float *fast_products(const ss_kernels *k, const float *x,
                                  int64_t ldx, const float *x_packed,
                                  int64_t nx, const float *y, int64_t ldy,
                                  int64_t ny, int64_t d, double *scratch)
{
    float *prod = (float *)scratch;
    ss_sgemm_nt_serial_packed(k, nx, ny, d, x, ldx, x_packed, y, ldy, prod, ny,
                              prod + nx * ny);
    return prod;
}

/* Row i of a fast tile in double (row, ny values) from its products:
 * distances with the near pairs redone, other metrics finished from the
 * products as they are. */
static void fast_row(const ss_kernels *k, int metric, const float *x,
                     int64_t ldx, int64_t i, const double *xs, const float *y,
                     int64_t ldy, int64_t ny, const double *ys, int64_t d,
                     const float *prod, double *row)
{
    int64_t j;
    if (is_distance(metric)) {
        fast_distances(k, metric, x + i * ldx, ldx, 1, xs + i, y, ldy, ny, ys, d,
                       prod + i * ny, row, ny);
        return;
    }
    for (j = 0; j < ny; j++)
        row[j] = prod[i * ny + j];
    finish_row(metric, row, xs[i], ys, ny);
}

void ss_pairwise_tile(const subsel_ctx *ctx, int metric, int fast,
                      const float *x, int64_t ldx, int64_t nx,
                      const double *xs, const float *y, int64_t ldy,
                      int64_t ny, const double *ys, int64_t d,
                      double *scratch, double *out, int64_t ldo)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    double *xd = scratch, *yd = scratch + nx * d;
    int64_t i, j;
    if (nx == 0 || ny == 0)
        return;
    if (fast) {
        const float *prod = fast_products(k, x, ldx, NULL, nx, y, ldy, ny, d, scratch);
        for (i = 0; i < nx; i++)
            fast_row(k, metric, x, ldx, i, xs, y, ldy, ny, ys, d, prod, out + i * ldo);
        return;
    }
    /* exact: a dgemm on packed double copies of the rows */
    for (i = 0; i < nx; i++)
        for (j = 0; j < d; j++)
            xd[i * d + j] = x[i * ldx + j];
    for (i = 0; i < ny; i++)
        for (j = 0; j < d; j++)
            yd[i * d + j] = y[i * ldy + j];
    ss_dgemm_serial(0, 1, nx, ny, d, 1.0, xd, d, yd, d, 0.0, out, ldo);
    for (i = 0; i < nx; i++)
        finish_row(metric, out + i * ldo, xs[i], ys, ny);
}

void ss_pairwise_tile_f32(const subsel_ctx *ctx, int metric, const float *x,
                          int64_t ldx, const float *x_packed, int64_t nx,
                          const double *xs, const float *y, int64_t ldy,
                          int64_t ny, const double *ys, int64_t d,
                          double *scratch, double *row, float *out,
                          int64_t ldo)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    const float *prod;
    int64_t i, j;
    if (nx == 0 || ny == 0)
        return;
    prod = fast_products(k, x, ldx, x_packed, nx, y, ldy, ny, d, scratch);
    for (i = 0; i < nx; i++) {
        fast_row(k, metric, x, ldx, i, xs, y, ldy, ny, ys, d, prod, row);
        for (j = 0; j < ny; j++)
            out[i * ldo + j] = (float)row[j];
    }
}

/* y (n x d) = the rows of x scaled to unit length in double precision,
 * rounded once (zero rows stay zero): cosines of any finite rows, however
 * large or small their norms (sq: squared norms), then come from one
 * product without overflow or underflow. */
static void unit_rows(const subsel_ctx *ctx, const float *x, int64_t ldx,
                      int64_t n, int64_t d, const double *sq, float *y)
{
    int64_t i;
#pragma omp parallel for num_threads(ss_threads_for(ctx, n * d / 65536 + 1)) schedule(static)
    for (i = 0; i < n; i++) {
        double inv = sq[i] > 0.0 ? 1.0 / sqrt(sq[i]) : 0.0;
        int64_t l;
        for (l = 0; l < d; l++)
            y[i * d + l] = (float)((double)x[i * ldx + l] * inv);
    }
}

int ss_pairwise_f32(subsel_ctx *ctx, int metric, const float *x, int64_t ldx,
                    int64_t nx, const float *y, int64_t ldy, int64_t ny,
                    int64_t d, float *out, int64_t *bad)
{
    double *xs = NULL, *ys = NULL, *rows = NULL;
    float *xu = NULL, *yu = NULL;
    const float *xa = x, *ya = y;
    int64_t i, first;
    int threads, rc = SUBSEL_OK;
    subsel_ctx one;
    if (nx == 0 || ny == 0)
        return SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, nx, sizeof *xs, &xs));
    SS_TRY(ss_alloc_array(ctx, ny, sizeof *ys, &ys));
    ss_row_sqnorms(ctx, x, ldx, nx, d, xs);
    ss_row_sqnorms(ctx, y, ldy, ny, d, ys);
    if (metric == SS_METRIC_COSINE) {
        SS_TRY(ss_alloc_array(ctx, nx * d, sizeof *xu, &xu));
        SS_TRY(ss_alloc_array(ctx, ny * d, sizeof *yu, &yu));
        unit_rows(ctx, x, ldx, nx, d, xs, xu);
        unit_rows(ctx, y, ldy, ny, d, ys, yu);
        xa = xu;
        ya = yu;
        ldx = ldy = d;
    }
    ss_sgemm(ss_blas_ctx(ctx, (double)nx * (double)ny * (double)d, &one), 0, 1,
             nx, ny, d, 1.0f, xa, ldx, ya, ldy, 0.0f, out, ny);
    if (metric == SS_METRIC_COSINE) {
        /* rounding can take a product of unit rows just past +-1 */
        for (i = 0; i < nx * ny; i++)
            out[i] = out[i] > 1.0f ? 1.0f : out[i] < -1.0f ? -1.0f : out[i];
    } else if (is_distance(metric)) {
        /* Distances as the fast tiles take them: from the float products,
         * near pairs redone from exact products (with the kernel table's
         * dot, so no BLIS kernel's rounding decides them). Without that a
         * row's distance to itself came out as sqrt(2^-24) |x| or so. */
        const ss_kernels *k = ss_kernels_for(ctx);
        threads = ss_threads_for(ctx, nx * ny / 65536 + 1);
        SS_TRY(ss_alloc_array(ctx, (int64_t)threads * ny, sizeof *rows, &rows));
#pragma omp parallel for num_threads(threads) schedule(static)
        for (i = 0; i < nx; i++) {
            double *row = rows + (int64_t)ss_thread_num() * ny;
            int64_t j;
            fast_distances(k, metric, x + i * ldx, ldx, 1, xs + i, y, ldy, ny, ys, d,
                           out + i * ny, row, ny);
            for (j = 0; j < ny; j++)
                out[i * ny + j] = (float)row[j];
        }
    }
    /* Products (dot) and distances of large rows can exceed float. */
    first = ss_find_nonfinite(out, nx * ny);
    if (first >= 0) {
        bad[0] = first / ny;
        bad[1] = first % ny;
        rc = ss_fail(ctx, SUBSEL_E_NUMERIC,
                     "their similarity does not fit float (row norms %.3g and "
                     "%.3g): rescale the features", sqrt(xs[bad[0]]),
                     sqrt(ys[bad[1]]));
    }
cleanup:
    ss_free(ctx, xs);
    ss_free(ctx, ys);
    ss_free(ctx, xu);
    ss_free(ctx, yu);
    ss_free(ctx, rows);
    return rc;
}
