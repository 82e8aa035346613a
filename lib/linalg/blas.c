/* SPDX-License-Identifier: MIT */
/*
 * Row-major BLIS wrappers with per-call thread counts.
 */
#include <blis.h>
#ifdef _OPENMP
#include <omp.h>
#endif

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

static void runtime_for(const subsel_ctx *ctx, rntm_t *rntm)
{
    bli_rntm_init(rntm);
    bli_rntm_set_num_threads(ss_blas_threads(ctx), rntm);
}

static trans_t trans_of(int t)
{
    return t ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
}

void ss_sgemm(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
              int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    rntm_t rntm;
    runtime_for(ctx, &rntm);
    bli_sgemm_ex(trans_of(trans_a), trans_of(trans_b), m, n, k, &alpha,
                 (float *)a, lda, 1, (float *)b, ldb, 1, &beta, c, ldc, 1,
                 NULL, &rntm);
}

void ss_dgemm(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
              int64_t n, int64_t k, double alpha, const double *a,
              int64_t lda, const double *b, int64_t ldb, double beta,
              double *c, int64_t ldc)
{
    rntm_t rntm;
    runtime_for(ctx, &rntm);
    bli_dgemm_ex(trans_of(trans_a), trans_of(trans_b), m, n, k, &alpha,
                 (double *)a, lda, 1, (double *)b, ldb, 1, &beta, c, ldc, 1,
                 NULL, &rntm);
}

void ss_dgemv(const subsel_ctx *ctx, int trans, int64_t m, int64_t n,
              double alpha, const double *a, int64_t lda, const double *x,
              double beta, double *y)
{
    rntm_t rntm;
    runtime_for(ctx, &rntm);
    bli_dgemv_ex(trans_of(trans), BLIS_NO_CONJUGATE, m, n, &alpha, (double *)a,
                 lda, 1, (double *)x, 1, &beta, y, 1, NULL, &rntm);
}
