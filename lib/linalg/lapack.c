/* SPDX-License-Identifier: MIT */
/*
 * LAPACKE wrappers: Cholesky factorisation and symmetric eigendecomposition
 * of row-major double matrices, with errors as status codes and messages.
 */
#include <lapacke.h>

#include "core/error.h"
#include "linalg/lapack.h"

int ss_cholesky_lower(subsel_ctx *ctx, const char *what, int64_t n, double *a,
                      int64_t lda)
{
    lapack_int info;
    int64_t i, j;
    if (n < 0 || lda < n || n > (int64_t)INT32_MAX)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: bad size %lld for a "
                       "Cholesky factorisation", what, (long long)n);
    if (n == 0)
        return SUBSEL_OK;
    info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, a,
                          (lapack_int)lda);
    if (info > 0)
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "%s is not positive definite (leading minor %d); "
                       "increase the regularisation eps",
                       what, (int)info);
    if (info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return ss_fail(ctx, SUBSEL_E_NOMEM, "%s: LAPACKE_dpotrf ran out of "
                       "memory", what);
    if (info < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: LAPACKE_dpotrf rejected argument %d", what,
                       (int)-info);
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            a[i * lda + j] = 0.0;
    return SUBSEL_OK;
}

int ss_symmetric_eigen(subsel_ctx *ctx, const char *what, int64_t n,
                       double *a, int64_t lda, double *w)
{
    lapack_int info;
    if (n < 0 || lda < n || n > (int64_t)INT32_MAX)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: bad size %lld for an "
                       "eigendecomposition", what, (long long)n);
    if (n == 0)
        return SUBSEL_OK;
    info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int)n, a,
                          (lapack_int)lda, w);
    if (info > 0)
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "%s: the eigendecomposition did not converge (%d)",
                       what, (int)info);
    if (info == LAPACK_WORK_MEMORY_ERROR ||
        info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return ss_fail(ctx, SUBSEL_E_NOMEM, "%s: LAPACKE_dsyevd ran out of "
                       "memory", what);
    if (info < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: LAPACKE_dsyevd rejected argument %d", what,
                       (int)-info);
    return SUBSEL_OK;
}
