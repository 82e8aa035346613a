/* SPDX-License-Identifier: MIT */
/*
 * Screening products in bfloat16: packing float rows for the kernel
 * table's gemm_bf16 (kernels/kernels.h gives its layouts) and what bounds
 * the distance of its results from the exact dot products. A screen only
 * decides which dot products to compute exactly; nothing it rounds is
 * ever returned.
 *
 * The bound. With x~ = bf16(x) (nearest, ties to even) and dx = |x~ - x|
 * (the rounding's residual, as a vector norm), x~ . y~ - x . y =
 * (x~ - x) . y~ + x . (y~ - y), so by Cauchy-Schwarz
 *   |gemm_bf16(x, y) - x . y| <= dx |y~| + |x| dy + gamma |x~| |y~| + tiny
 * where gamma bounds the single-precision sums of the dim exact products
 * (ss_bf16_sum_error) and tiny what flushing denormals loses, and |x~| <=
 * |x| + dx. Residuals are typically a fifth of the worst case 2^-8 |x|,
 * so this is several times tighter than bounding each rounding alone.
 */
#ifndef SS_LINALG_BF16_H
#define SS_LINALG_BF16_H

#include <stdint.h>

/* Pairs of coordinates of rows of dim floats (an odd last one pairs with
 * 0). */
static inline int64_t ss_bf16_pairs(int64_t dim)
{
    return (dim + 1) / 2;
}

/* Rows x[0 .. rows) (dim floats each, ldx apart) as gemm_bf16's A:
 * rows / SS_BF16_MR strips (rows a multiple of SS_BF16_MR), each pairs x
 * SS_BF16_MR values, into out (rows x pairs values). */
void ss_bf16_pack_rows(const float *x, int64_t ldx, int64_t rows, int64_t dim,
                       uint32_t *out);

/* Rows y[0 .. cols) as gemm_bf16's B: cols / SS_BF16_NR panels (cols a
 * multiple of SS_BF16_NR), into out (cols x pairs values). */
void ss_bf16_pack_cols(const float *y, int64_t ldy, int64_t cols, int64_t dim,
                       uint32_t *out);

/* |x| and the residual |bf16(x) - x| of a row of dim floats, each
 * rounded up to a float. */
void ss_bf16_norms(const float *x, int64_t dim, float *norm, float *resid);

/* Norms up to this keep gemm_bf16 within the bound: products and sums far
 * from single precision's overflow, its flushed denormals within tiny. */
#define SS_BF16_MAX_NORM 0x1p20

/* Rows longer than this have no bound here (the sums' gamma needs dim
 * 2^-24 well under 1). */
#define SS_BF16_MAX_DIM 0x400000

/* The bound's gamma for rows of dim coordinates (dim <= SS_BF16_MAX_DIM),
 * with *tiny its absolute part for norms up to SS_BF16_MAX_NORM. */
double ss_bf16_sum_error(int64_t dim, double *tiny);

#endif
