/* SPDX-License-Identifier: MIT */
/*
 * The library's door to LAPACKE: factorisations of small dense symmetric
 * matrices (a d x d covariance), row-major, with failures reported through
 * the context. LAPACK allocates its own workspace outside the user's
 * allocator hooks; the matrices here are small.
 */
#ifndef SS_LINALG_LAPACK_H
#define SS_LINALG_LAPACK_H

#include <stdint.h>

#include "subsel.h"

/* In place, the lower-triangular Cholesky factor L of the symmetric positive
 * definite A = L L^T (n x n, row-major; only the lower triangle is read, and
 * the strict upper triangle is set to 0 on return). SUBSEL_E_NUMERIC when A
 * is not positive definite (the message gives the failing minor), with `what`
 * naming the matrix. */
int ss_cholesky_lower(subsel_ctx *ctx, const char *what, int64_t n, double *a,
                      int64_t lda);

/* Eigendecomposition A = Q diag(w) Q^T of a symmetric A (n x n, row-major,
 * lower triangle read): on return, column j of `a` is the unit eigenvector
 * of w[j], eigenvalues ascending (divide and conquer, dsyevd).
 * SUBSEL_E_NUMERIC if the iteration did not converge. */
int ss_symmetric_eigen(subsel_ctx *ctx, const char *what, int64_t n,
                       double *a, int64_t lda, double *w);

#endif
