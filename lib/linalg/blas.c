/* SPDX-License-Identifier: MIT */
/*
 * Row-major BLIS wrappers with per-call thread counts.
 */
#include <blis.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/blis_arch.h"
#include "core/ctx.h"
#include "linalg/blas.h"

int ss_blas_threads(const subsel_ctx *ctx)
{
#ifdef _OPENMP
    if (omp_in_parallel())
        return 1;
#endif
    return subsel_ctx_threads(ctx);
}

/* A runtime object for one call: its thread count, and no small-matrix
 * ("sup") path
 *  - when k is not a multiple of 8, because BLIS 0.9.0's haswell/zen sup
 *    kernels then read one element past the end of A (flame/blis#821,
 *    fixed after 0.9.0; valgrind shows it on the SAE encoder's batches);
 *  - when no dimension is below 64: the packed path is then faster (on
 *    the development machine, BLIS 0.9's zen3 configuration on an AVX-512
 *    EPYC, a 64 x 512 x 512 dgemm on one core runs at 16 GFLOP/s with sup
 *    and 38 without; sgemm 51 and 75).
 * The packed path reads only the matrices. */
static void runtime_with(int threads, int64_t m, int64_t n, int64_t k,
                         rntm_t *rntm)
{
    bli_rntm_init(rntm);
    bli_rntm_set_num_threads(threads, rntm);
    if (k % 8 != 0 || (m >= 64 && n >= 64 && k >= 64))
        bli_rntm_disable_l3_sup(rntm);
}

static trans_t trans_of(int t)
{
    return t ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
}

static void sgemm_threads(int threads, int trans_a, int trans_b, int64_t m,
                          int64_t n, int64_t k, float alpha, const float *a,
                          int64_t lda, const float *b, int64_t ldb, float beta,
                          float *c, int64_t ldc)
{
    rntm_t rntm;
    runtime_with(threads, m, n, k, &rntm);
    bli_sgemm_ex(trans_of(trans_a), trans_of(trans_b), m, n, k, &alpha,
                 (float *)a, lda, 1, (float *)b, ldb, 1, &beta, c, ldc, 1,
                 ss_blis_cntx(), &rntm);
}

static void dgemm_threads(int threads, int trans_a, int trans_b, int64_t m,
                          int64_t n, int64_t k, double alpha, const double *a,
                          int64_t lda, const double *b, int64_t ldb,
                          double beta, double *c, int64_t ldc)
{
    rntm_t rntm;
    runtime_with(threads, m, n, k, &rntm);
    bli_dgemm_ex(trans_of(trans_a), trans_of(trans_b), m, n, k, &alpha,
                 (double *)a, lda, 1, (double *)b, ldb, 1, &beta, c, ldc, 1,
                 ss_blis_cntx(), &rntm);
}

void ss_sgemm(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
              int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    sgemm_threads(ss_blas_threads(ctx), trans_a, trans_b, m, n, k, alpha, a,
                  lda, b, ldb, beta, c, ldc);
}

void ss_dgemm(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
              int64_t n, int64_t k, double alpha, const double *a,
              int64_t lda, const double *b, int64_t ldb, double beta,
              double *c, int64_t ldc)
{
    dgemm_threads(ss_blas_threads(ctx), trans_a, trans_b, m, n, k, alpha, a,
                  lda, b, ldb, beta, c, ldc);
}

void ss_dgemv(const subsel_ctx *ctx, int trans, int64_t m, int64_t n,
              double alpha, const double *a, int64_t lda, const double *x,
              double beta, double *y)
{
    rntm_t rntm;
    runtime_with(ss_blas_threads(ctx), m, n, 0, &rntm);
    bli_dgemv_ex(trans_of(trans), BLIS_NO_CONJUGATE, m, n, &alpha, (double *)a,
                 lda, 1, (double *)x, 1, &beta, y, 1, ss_blis_cntx(), &rntm);
}

/* One thread, whatever the context says: BLIS may take another code path
 * (packing, kernel variant) when it threads a small product, which changes
 * the last bits; callers that promise thread-independent results tile the
 * work themselves and call these. */
void ss_sgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n,
                     int64_t k, float alpha, const float *a, int64_t lda,
                     const float *b, int64_t ldb, float beta, float *c,
                     int64_t ldc)
{
    sgemm_threads(1, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
                  c, ldc);
}

void ss_dgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n,
                     int64_t k, double alpha, const double *a, int64_t lda,
                     const double *b, int64_t ldb, double beta, double *c,
                     int64_t ldc)
{
    dgemm_threads(1, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
                  c, ldc);
}

void ss_dsyrk_lower_serial(int64_t n, int64_t k, double alpha, const double *a,
                           int64_t lda, double beta, double *c, int64_t ldc)
{
    rntm_t rntm;
    runtime_with(1, n, n, k, &rntm);
    bli_dsyrk_ex(BLIS_LOWER, BLIS_NO_TRANSPOSE, n, k, &alpha, (double *)a, lda, 1,
                 &beta, c, ldc, 1, ss_blis_cntx(), &rntm);
}

/* Rows (or columns) of C per block of ss_dgemm_det: large enough for a
 * serial product to run near BLIS's peak, small enough that a batch of a
 * few hundred rows still gives every thread blocks. */
#define DET_BLOCK 64
/* Products smaller than this (multiply-adds) run whole on one thread: a
 * split small product costs more in packing than it saves. */
#define DET_MIN_SPLIT ((int64_t)1 << 22)

/* A product's shortest side up to which the kernel table's gemm_rows and
 * gemm_dots run it instead of BLIS. BLIS packs the long operands first:
 * for a 20-row minibatch against a 512 x 256 weight matrix the packing
 * costs about as much as the multiplying. On LoRS's shapes the kernels
 * run 1.2-1.5x BLIS's skx kernels (bench/bench_blas.c, "short"). */
#define SHORT_SIDE 32

/* One serial block of ss_dgemm_det: the kernel table's short-side
 * products when they apply (alpha 1, beta 0 or 1, not both transposed),
 * else BLIS. */
static void det_block(const ss_kernels *kern, int trans_a, int trans_b,
                      int64_t m, int64_t n, int64_t k, double alpha,
                      const double *a, int64_t lda, const double *b,
                      int64_t ldb, double beta, double *c, int64_t ldc)
{
    if (kern && alpha == 1.0 && (beta == 0.0 || beta == 1.0)) {
        if (!trans_b) {
            kern->gemm_rows(m, n, k, a, trans_a ? 1 : lda, trans_a ? lda : 1,
                            b, ldb, c, ldc, beta == 1.0);
            return;
        }
        if (!trans_a) {
            kern->gemm_dots(m, n, k, a, lda, b, ldb, c, ldc, beta == 1.0);
            return;
        }
    }
    ss_dgemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                    ldc);
}

void ss_dgemm_det(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
                  int64_t n, int64_t k, double alpha, const double *a,
                  int64_t lda, const double *b, int64_t ldb, double beta,
                  double *c, int64_t ldc)
{
    int by_rows = m >= 2 * DET_BLOCK || m >= n;
    int64_t extent = by_rows ? m : n;
    int64_t blocks = (extent + DET_BLOCK - 1) / DET_BLOCK, i;
    int64_t shortest = m < n ? (m < k ? m : k) : (n < k ? n : k);
    /* the choice depends on the shape only, never on the threads */
    const ss_kernels *kern = shortest <= SHORT_SIDE ? ss_kernels_for(ctx) : NULL;
    int threads = ss_blas_threads(ctx);
    if (blocks < 2 || threads < 2 || m * n * k < DET_MIN_SPLIT) {
        /* the same blocks on one thread: the same bits */
        threads = 1;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
#endif
    for (i = 0; i < blocks; i++) {
        int64_t lo = i * DET_BLOCK;
        int64_t len = extent - lo < DET_BLOCK ? extent - lo : DET_BLOCK;
        if (by_rows)
            det_block(kern, trans_a, trans_b, len, n, k, alpha,
                      trans_a ? a + lo : a + lo * lda, lda, b, ldb, beta,
                      c + lo * ldc, ldc);
        else
            det_block(kern, trans_a, trans_b, m, len, k, alpha, a, lda,
                      trans_b ? b + lo * ldb : b + lo, ldb, beta, c + lo,
                      ldc);
    }
}

void ss_dtrsm_right_lower_trans_serial(int64_t m, int64_t n, const double *l,
                                       int64_t ldl, double *b, int64_t ldb)
{
    rntm_t rntm;
    double one = 1.0;
    runtime_with(1, m, n, 0, &rntm);
    bli_dtrsm_ex(BLIS_RIGHT, BLIS_LOWER, BLIS_TRANSPOSE, BLIS_NONUNIT_DIAG, m,
                 n, &one, (double *)l, ldl, 1, b, ldb, 1, ss_blis_cntx(), &rntm);
}
