/* SPDX-License-Identifier: MIT */
/*
 * Pairwise values between the rows of two point clouds (squared and plain
 * Euclidean distances, cosine, dot products) through one matrix product:
 * |x - y|^2 = |x|^2 + |y|^2 - 2 x.y. OT tiles are computed in double
 * precision (dgemm on double copies), because at a small regularisation an
 * error in a cost is multiplied by 1/reg in the exponent: a float product
 * would leave distances between near neighbours wrong by ~1e-4. Similarity
 * matrices (UniPROT) only need float and use one sgemm.
 */
#include <math.h>

#include "core/ctx.h"
#include "core/error.h"
#include "dispatch/dispatch.h"
#include "linalg/blas.h"
#include "ot/ot.h"

const subsel_ctx *ss_blas_ctx(const subsel_ctx *ctx, double work,
                              subsel_ctx *one)
{
    if (work >= SS_BLAS_SERIAL_WORK)
        return ctx;
    *one = *ctx;
    one->threads = 1;
    return one;
}

void ss_row_sqnorms(const subsel_ctx *ctx, const float *x, int64_t n,
                    int64_t d, double *sq)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t i;
#pragma omp parallel for num_threads(ss_threads_for(ctx, n * d / 65536 + 1)) schedule(static)
    for (i = 0; i < n; i++)
        sq[i] = k->dot_f32(x + i * d, x + i * d, d);
}

/* The metric from a dot product and the two squared norms. */
static double finish(int metric, double dot, double xs, double ys)
{
    double sq, den;
    switch (metric) {
    case SS_METRIC_SQEUCLID:
    case SS_METRIC_EUCLID:
    case SS_METRIC_NEG_SQEUCLID:
        sq = xs + ys - 2.0 * dot;
        sq = sq > 0.0 ? sq : 0.0;
        if (metric == SS_METRIC_EUCLID)
            return sqrt(sq);
        return metric == SS_METRIC_SQEUCLID ? sq : -sq;
    case SS_METRIC_COSINE:
    case SS_METRIC_COSINE_DIST:
        den = sqrt(xs) * sqrt(ys);
        dot = den > 0.0 ? dot / den : 0.0;
        return metric == SS_METRIC_COSINE ? dot : 1.0 - dot;
    default:
        return dot;
    }
}

void ss_pairwise_tile(const subsel_ctx *ctx, int metric, const float *x,
                      int64_t nx, const double *xs, const float *y,
                      int64_t ny, const double *ys, int64_t d,
                      double *scratch, double *out, int64_t ldo)
{
    double *xd = scratch, *yd = scratch + nx * d;
    int64_t i, j;
    subsel_ctx one;
    if (nx == 0 || ny == 0)
        return;
    for (i = 0; i < nx * d; i++)
        xd[i] = x[i];
    for (i = 0; i < ny * d; i++)
        yd[i] = y[i];
    ss_dgemm(ss_blas_ctx(ctx, (double)nx * (double)ny * (double)d, &one), 0, 1,
             nx, ny, d, 1.0, xd, d, yd, d, 0.0, out, ldo);
    if (metric == SS_METRIC_DOT)
        return;
    for (i = 0; i < nx; i++)
        for (j = 0; j < ny; j++)
            out[i * ldo + j] = finish(metric, out[i * ldo + j], xs[i], ys[j]);
}

int ss_pairwise_f32(subsel_ctx *ctx, int metric, const float *x, int64_t nx,
                    const float *y, int64_t ny, int64_t d, float *out)
{
    double *xs = NULL, *ys = NULL;
    int64_t i;
    int rc = SUBSEL_OK;
    subsel_ctx one;
    if (nx == 0 || ny == 0)
        return SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, nx, sizeof *xs, &xs));
    SS_TRY(ss_alloc_array(ctx, ny, sizeof *ys, &ys));
    ss_row_sqnorms(ctx, x, nx, d, xs);
    ss_row_sqnorms(ctx, y, ny, d, ys);
    ss_sgemm(ss_blas_ctx(ctx, (double)nx * (double)ny * (double)d, &one), 0, 1,
             nx, ny, d, 1.0f, x, d, y, d, 0.0f, out, ny);
    if (metric != SS_METRIC_DOT) {
#pragma omp parallel for num_threads(ss_threads_for(ctx, nx * ny / 65536 + 1)) schedule(static)
        for (i = 0; i < nx; i++) {
            int64_t j;
            for (j = 0; j < ny; j++)
                out[i * ny + j] =
                    (float)finish(metric, out[i * ny + j], xs[i], ys[j]);
        }
    }
cleanup:
    ss_free(ctx, xs);
    ss_free(ctx, ys);
    return rc;
}
