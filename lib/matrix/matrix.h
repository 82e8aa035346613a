/* SPDX-License-Identifier: MIT */
/*
 * The matrix handles as the library sees them, and the constructors the
 * file readers share: a reader allocates arrays through the context, then
 * hands them to ss_csr_adopt / ss_dense_adopt, which validate and take
 * ownership (freeing them on failure, so a reader never leaks).
 */
#ifndef SS_MATRIX_H
#define SS_MATRIX_H

#include <stdint.h>

#include "core/handle.h"
#include "subsel.h"

/* The reference a matrix holds on the handle its arrays belong to, when
 * they are another handle's (a row view's parent, the TAROT selector behind
 * a whitened view): taken when the matrix is made, so that freeing that
 * handle only drops its caller's reference, and dropped through `release`
 * (the keeper's own *_free) when the matrix is destroyed. */
typedef struct ss_keeper {
    void *handle;                  /* NULL: the arrays are no handle's */
    void (*release)(void *handle);
} ss_keeper;

/* Row pointers are absolute offsets into indices / values: row r is entries
 * [indptr[r], indptr[r + 1]). indptr[0] is 0 except for row views, which
 * share their parent's arrays; nnz = indptr[rows] - indptr[0]. */
struct subsel_csr {
    SS_HANDLE_HEAD; /* alloc frees the owned arrays, even after the context */
    int64_t rows, cols, nnz;
    const int64_t *indptr;  /* rows + 1 */
    const int32_t *indices; /* nnz, strictly increasing within a row */
    const float *values;    /* nnz, finite */
    void *owned[3];         /* indptr, indices, values when owned; else NULL */
    ss_keeper keeper;       /* a view's parent, retained */
};

struct subsel_dense {
    SS_HANDLE_HEAD;
    int64_t rows, cols;
    const float *data; /* rows * cols, row-major, finite */
    void *owned;       /* data when owned; else NULL */
    ss_keeper keeper;  /* the handle that owns data, retained (views) */
};

/* Checks CSR structure and values in one pass over the rows, reporting
 * progress stage "validate" (rows checked, rows); the message names the
 * first bad row and entry. SUBSEL_E_FORMAT for structure, SUBSEL_E_NUMERIC
 * for NaN/Inf, SUBSEL_E_CANCELLED. */
int ss_csr_validate(subsel_ctx *ctx, int64_t rows, int64_t cols,
                    const int64_t *indptr, const int32_t *indices,
                    const float *values);

/* Checks that rows + 1 row pointers start at 0 and never decrease. */
int ss_csr_check_indptr(subsel_ctx *ctx, const int64_t *indptr, int64_t rows);

/* Checks that rows and cols are valid matrix sizes (nonnegative, cols fits
 * int32 for CSR, rows * cols * elsize addressable). */
int ss_check_shape(subsel_ctx *ctx, int64_t rows, int64_t cols, size_t elsize,
                   int csr);

/* Validates and wraps arrays allocated with ss_alloc_array on ctx. On any
 * failure the arrays are freed. */
int ss_csr_adopt(subsel_ctx *ctx, int64_t rows, int64_t cols, int64_t *indptr,
                 int32_t *indices, float *values, subsel_csr **out);
int ss_dense_adopt(subsel_ctx *ctx, int64_t rows, int64_t cols, float *data,
                   subsel_dense **out);

/* A dense matrix over `data`, which belongs to the handle `keeper`: the
 * matrix retains keeper (ss_handle_retain) and releases it with `release`
 * when it is destroyed. The data is the keeper's, already checked, and is
 * not checked again. */
int ss_dense_view(subsel_ctx *ctx, int64_t rows, int64_t cols,
                  const float *data, void *keeper,
                  void (*release)(void *keeper), subsel_dense **out);

/* First index of a non-finite float in data[0..n), or -1. */
int64_t ss_find_nonfinite(const float *data, int64_t n);

#endif
