/* SPDX-License-Identifier: MIT */
/*
 * The library's door to BLIS. Row-major wrappers that pass the thread count
 * to BLIS per call (a runtime object), so the caller's global BLIS and
 * OpenMP settings are never touched; inside an OpenMP parallel region they
 * run single-threaded to avoid oversubscription.
 */
#ifndef SS_LINALG_BLAS_H
#define SS_LINALG_BLAS_H

#include <stdint.h>

#include "kernels/kernels.h"
#include "subsel.h"

/* Threads a BLIS call made now on ctx should use: subsel_ctx_threads(), so
 * never more than the CPUs available to the caller (BLIS's barriers spin:
 * oversubscribed cores made products 25x slower), one in a forked child of
 * a threaded process, and one inside an OpenMP parallel region. */
int ss_blas_threads(const subsel_ctx *ctx);

/* C (m x n) = alpha * op(A) * op(B) + beta * C, all row-major with leading
 * dimensions lda, ldb, ldc; op(X) is X or its transpose (trans_x nonzero).
 * op(A) is m x k and op(B) is k x n. */
void ss_sgemm(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
              int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
void ss_dgemm(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
              int64_t n, int64_t k, double alpha, const double *a,
              int64_t lda, const double *b, int64_t ldb, double beta,
              double *c, int64_t ldc);

/* y (len m, or n when trans) = alpha * op(A) x + beta * y, A m x n row-major. */
void ss_dgemv(const subsel_ctx *ctx, int trans, int64_t m, int64_t n,
              double alpha, const double *a, int64_t lda, const double *x,
              double beta, double *y);

/* As ss_sgemm / ss_dgemm, on one thread whatever the context says. BLIS may
 * take another code path when it threads a small product, changing the last
 * bits; code that promises thread-independent results cuts the work into
 * fixed tiles, runs them in parallel itself and calls these. */
void ss_sgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n,
                     int64_t k, float alpha, const float *a, int64_t lda,
                     const float *b, int64_t ldb, float beta, float *c,
                     int64_t ldc);
void ss_dgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n,
                     int64_t k, double alpha, const double *a, int64_t lda,
                     const double *b, int64_t ldb, double beta, double *c,
                     int64_t ldc);

/* C (m x n) = A B^T, A (m x k) and B (n x k), all row-major, on one
 * thread, with the bits of ss_sgemm_serial(0, 1, m, n, k, 1, a, lda, b,
 * ldb, 0, c, ldc). BLIS 0.9 packs the 32-row side of its skx micro-kernel
 * with generic code, a column at a time, which cost the OT tiles' products
 * (a 512-column side packed again for every tile) about a fifth of their
 * time; so where it gives the same bits, this packs both operands with the
 * kernel table's pack_panels_f32 into `pack` and runs BLIS's micro-kernel
 * on them directly, block of k by block of k as BLIS does, and otherwise
 * (pack NULL, a product BLIS may run on its small-matrix path) calls
 * BLIS. pack: ss_sgemm_nt_pack_floats(m, n, k) floats, 0 when BLIS runs
 * the product. */
int64_t ss_sgemm_nt_pack_floats(int64_t m, int64_t n, int64_t k);
void ss_sgemm_nt_serial(const ss_kernels *kern, int64_t m, int64_t n,
                        int64_t k, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float *c, int64_t ldc,
                        float *pack);

/* A packed once for several products A B^T with the same A (an OT pass's
 * block of rows against each tile of columns), as the direct path packs
 * it: ss_sgemm_nt_a_floats(m, n, k) floats (0 when products of n columns
 * do not run directly), filled by ss_sgemm_nt_pack_a, which returns 0
 * (and packs nothing) in that case. ss_sgemm_nt_serial_packed then packs
 * only B; a_packed may be NULL, and is not read when the product's plan
 * is not direct (a narrower last tile of columns), so a and lda are
 * always given. Same bits as ss_sgemm_nt_serial. */
int64_t ss_sgemm_nt_a_floats(int64_t m, int64_t n, int64_t k);
int ss_sgemm_nt_pack_a(const ss_kernels *kern, int64_t m, int64_t n, int64_t k,
                       const float *a, int64_t lda, float *out);
void ss_sgemm_nt_serial_packed(const ss_kernels *kern, int64_t m, int64_t n,
                               int64_t k, const float *a, int64_t lda,
                               const float *a_packed, const float *b,
                               int64_t ldb, float *c, int64_t ldc, float *pack);

/* The largest micro-tile (MR x NR floats) of a BLIS sub-configuration
 * that ss_sgemm_nt_serial runs directly (skx's is 32 x 12). */
#define SS_SGEMM_TILE_MAX 1024

/* The lower triangle of C (n x n) := alpha A A^T + beta C, A n x k, all
 * row-major, on one thread; C's strict upper triangle is left as it was. */
void ss_dsyrk_lower_serial(int64_t n, int64_t k, double alpha, const double *a,
                           int64_t lda, double beta, double *c, int64_t ldc);

/* As ss_dgemm, with the same bits whatever ctx's thread count: C is cut
 * into blocks whose shapes depend on m, n and k only (row blocks when C
 * is tall enough, else column blocks), and each block is one serial
 * product; the blocks run on ctx's threads. For the small products of
 * training (LoRS), where BLIS's own threading may change the rounding.
 * Products with a side of at most 32 (a minibatch, or a sum over one) and
 * alpha 1, beta 0 or 1, run on the kernel table's gemm_rows / gemm_dots instead
 * of BLIS: faster there, and their bits do not depend on the BLIS kernels
 * or the instruction set either. */
void ss_dgemm_det(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
                  int64_t n, int64_t k, double alpha, const double *a,
                  int64_t lda, const double *b, int64_t ldb, double beta,
                  double *c, int64_t ldc);

/* B (m x n, row-major) := B L^-T in place on one thread, with L (n x n)
 * lower triangular with a nonzero diagonal: the triangular solve
 * X L^T = B, row by row of B. For TAROT's Cholesky whitening. */
void ss_dtrsm_right_lower_trans_serial(int64_t m, int64_t n, const double *l,
                                       int64_t ldl, double *b, int64_t ldb);

#endif
