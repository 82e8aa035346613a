/* SPDX-License-Identifier: MIT */
/*
 * Pairwise values between the rows of two point clouds (squared and plain
 * Euclidean distances, cosines, dot products) through one matrix product,
 * and the thread count a product of a given size deserves. Used by the OT
 * engine (cost tiles), UniPROT (similarity matrices) and the pipelines
 * above them.
 */
#ifndef SS_LINALG_PAIRWISE_H
#define SS_LINALG_PAIRWISE_H

#include <stdint.h>

#include "subsel.h"

enum ss_metric {
    SS_METRIC_SQEUCLID = 0,     /* |x - y|^2                                */
    SS_METRIC_EUCLID = 1,       /* |x - y|                                  */
    SS_METRIC_COSINE_DIST = 2,  /* 1 - cos(x, y)                            */
    SS_METRIC_COSINE = 3,       /* cos(x, y); 0 when either row is zero     */
    SS_METRIC_DOT = 4,          /* x . y                                    */
    SS_METRIC_NEG_SQEUCLID = 5, /* -|x - y|^2                               */
    SS_METRIC_NEG_EUCLID = 6,   /* -|x - y|                                 */
    SS_METRIC_COUNT = 7
};

/* Below this many multiply-adds a BLIS product runs on one thread: its
 * thread start and barriers would cost more than they save. */
#define SS_BLAS_SERIAL_WORK 4000000.0

/* ctx itself, or (for a product of `work` multiply-adds below
 * SS_BLAS_SERIAL_WORK) `one`, a copy of it limited to one thread. Only
 * for passing to the lib/linalg wrappers. */
const subsel_ctx *ss_blas_ctx(const subsel_ctx *ctx, double work,
                              subsel_ctx *one);

/* sq[i] = |x_i|^2 in double precision, for the n rows of x (n x d, rows
 * ldx >= d floats apart). */
void ss_row_sqnorms(const subsel_ctx *ctx, const float *x, int64_t ldx,
                    int64_t n, int64_t d, double *sq);

/* out[i * ldo + j] = metric(x_i, y_j) for i < nx, j < ny (rows of x and y
 * ldx and ldy floats apart), from the products x_i.y_j and the squared
 * norms xs, ys, on one thread. Exact (fast == 0):
 * a dgemm on double copies of the rows. Fast: a float sgemm, twice the
 * speed, with the products of near pairs of distance metrics redone in
 * double (pairwise.c says how near); every value is then within about
 * 1e-6 |x| |y| of the exact one. `scratch` holds ss_tile_scratch_stride()
 * doubles (tiles.h). */
void ss_pairwise_tile(const subsel_ctx *ctx, int metric, int fast,
                      const float *x, int64_t ldx, int64_t nx,
                      const double *xs, const float *y, int64_t ldy,
                      int64_t ny, const double *ys, int64_t d,
                      double *scratch, double *out, int64_t ldo);

/* As ss_pairwise_tile's fast tiles, rounded to float into out (row i at
 * out + i * ldo): the same floats as rounding its double tile, made a row
 * at a time through `row` (ny doubles), so that no double tile goes
 * through memory (lib/ot's passes over costs read them as floats).
 * x_packed: x's rows packed by ss_sgemm_nt_pack_a (blas.h) for products
 * of this width, when the caller multiplies them with several tiles of
 * columns, or NULL. */
void ss_pairwise_tile_f32(const subsel_ctx *ctx, int metric, const float *x,
                          int64_t ldx, const float *x_packed, int64_t nx,
                          const double *xs, const float *y, int64_t ldy,
                          int64_t ny, const double *ys, int64_t d,
                          double *scratch, double *row, float *out,
                          int64_t ldo);

/* A float matrix out (nx x ny) of metric(x_i, y_j) (rows of x and y ldx
 * and ldy floats apart; cosine, dot or a distance), by one sgemm on the
 * context's threads; for similarity matrices. Cosines come from rows
 * scaled to unit length first, so they exist for any finite rows;
 * distances of near pairs are redone from exact products. A value
 * that does not fit float (a dot product or distance of huge rows) is
 * SUBSEL_E_NUMERIC, with its rows (the first such in row order) in bad[0]
 * (of x) and bad[1] (of y) for the caller's message. */
int ss_pairwise_f32(subsel_ctx *ctx, int metric, const float *x, int64_t ldx,
                    int64_t nx, const float *y, int64_t ldy, int64_t ny,
                    int64_t d, float *out, int64_t *bad);

#endif
