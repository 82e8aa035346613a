/* SPDX-License-Identifier: MIT */
/*
 * bfloat16 packing and the screen's error bound (bf16.h).
 */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "linalg/bf16.h"

/* The bfloat16 nearest to x, ties to even (x finite: bf16.h's bound on
 * norms keeps it from rounding up to infinity). */
static uint32_t bf16_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

/* Pair p of row r (0 past the row's end). */
static uint32_t pair_of(const float *r, int64_t dim, int64_t p)
{
    uint32_t lo = bf16_of(r[2 * p]);
    uint32_t hi = 2 * p + 1 < dim ? bf16_of(r[2 * p + 1]) : 0u;
    return lo | hi << 16;
}

/* Rows [0, count) in groups of `width`, each group pairs x width. */
static void pack(const float *x, int64_t ldx, int64_t count, int64_t dim,
                 int64_t width, uint32_t *out)
{
    int64_t pairs = ss_bf16_pairs(dim), g, p, i;
    for (g = 0; g < count; g += width)
        for (i = 0; i < width; i++) {
            const float *r = x + (g + i) * ldx;
            uint32_t *o = out + g * pairs + i;
            for (p = 0; p < pairs; p++)
                o[p * width] = pair_of(r, dim, p);
        }
}

void ss_bf16_pack_rows(const float *x, int64_t ldx, int64_t rows, int64_t dim,
                       uint32_t *out)
{
    pack(x, ldx, rows, dim, SS_BF16_MR, out);
}

void ss_bf16_pack_cols(const float *y, int64_t ldy, int64_t cols, int64_t dim,
                       uint32_t *out)
{
    pack(y, ldy, cols, dim, SS_BF16_NR, out);
}

void ss_bf16_norms(const float *x, int64_t dim, float *norm, float *resid)
{
    double sq = 0.0, rsq = 0.0;
    int64_t l;
    for (l = 0; l < dim; l++) {
        uint32_t u = bf16_of(x[l]) << 16;
        float r;
        double diff;
        memcpy(&r, &u, sizeof r);
        diff = (double)r - (double)x[l]; /* exact */
        sq += (double)x[l] * (double)x[l];
        rsq += diff * diff;
    }
    /* the sums' relative error, dim 2^-53, is far under the 2^-24 of the
     * step up */
    *norm = nextafterf((float)sqrt(sq), INFINITY);
    *resid = nextafterf((float)sqrt(rsq), INFINITY);
}

double ss_bf16_sum_error(int64_t dim, double *tiny)
{
    /* The products of bfloat16 values are exact in single precision; the
     * dim sums, in any order, move the total by at most gamma_dim |x~|
     * |y~|, under 2 dim 2^-24 |x~| |y~| while dim 2^-24 <= 1/4; 2^-40 more
     * is room for the caller's test in double. Flushed denormals (inputs
     * under 2^-126 and partial sums under 2^-126) move the total by at
     * most 2 dim 2^-126 (1 + SS_BF16_MAX_NORM). */
    *tiny = 2.0 * (double)dim * 0x1p-126 * (1.0 + SS_BF16_MAX_NORM);
    return 2.0 * (double)dim * 0x1p-24 + 0x1p-40;
}
