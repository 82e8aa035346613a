/* SPDX-License-Identifier: MIT */
/*
 * The matrix handles as the library sees them, the one way to read their
 * rows (ss_csr_range / ss_csr_col, ss_dense_row: every reader of matrix
 * data goes through these, whatever index width or row stride the matrix
 * has), and the constructors the file readers share: a reader allocates
 * arrays through the context, then hands them to ss_csr_adopt /
 * ss_dense_adopt, which validate and take ownership (freeing them on
 * failure, so a reader never leaks).
 */
#ifndef SS_MATRIX_H
#define SS_MATRIX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/handle.h"
#include "core/progress.h"
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

/* An index array of either width: SciPy keeps int32 arrays below 2^31
 * nonzeros and int64 ones above, and 0.6's subsel_csr_create takes int64
 * row pointers with int32 column indices, so the two arrays of a matrix
 * have their own widths. */
typedef union ss_index_array {
    const void *any;
    const int32_t *i32;
    const int64_t *i64;
} ss_index_array;

/* Row pointers are absolute offsets into indices / values: row r is entries
 * [indptr[r], indptr[r + 1]). indptr[0] is 0 except for row views, which
 * share their parent's arrays; nnz = indptr[rows] - indptr[0]. Read them
 * with ss_csr_range and ss_csr_col, never by width. */
struct subsel_csr {
    SS_HANDLE_HEAD; /* alloc frees the owned arrays, even after the context */
    int64_t rows, cols, nnz;
    ss_index_array indptr;  /* rows + 1 */
    ss_index_array indices; /* nnz, strictly increasing within a row */
    int ptr64, idx64;       /* widths: 1 for int64, 0 for int32 */
    const float *values;    /* nnz, finite */
    void *owned[3];         /* indptr, indices, values when owned; else NULL */
    ss_keeper keeper;       /* a view's parent, retained */
    /* An int32 copy of int64 column indices (entries [indptr[0],
     * indptr[rows]) at [0, nnz)), made on the first subsel_csr_row() call,
     * which returns int32 pointers; freed with the matrix. */
    _Atomic(int32_t *) indices32;
};

/* A dense matrix: row r is the cols floats at row0 + r * stride. stride is
 * cols for every matrix the library makes and for packed caller arrays;
 * subsel_dense_create_v2 borrows wider rows. */
struct subsel_dense {
    SS_HANDLE_HEAD;
    int64_t rows, cols;
    int64_t stride;    /* floats from one row to the next, >= cols */
    const float *row0; /* finite values */
    void *owned;       /* row0 when owned; else NULL */
    ss_keeper keeper;  /* the handle that owns the rows, retained (views) */
};

/* Row pointer r, for r in [0, rows]: the first entry of row r, or the end
 * of the last row. */
static inline int64_t ss_csr_ptr(const subsel_csr *m, int64_t r)
{
    return m->ptr64 ? m->indptr.i64[r] : (int64_t)m->indptr.i32[r];
}

/* Entries [*start, *end) of row r. */
static inline void ss_csr_range(const subsel_csr *m, int64_t r, int64_t *start,
                                int64_t *end)
{
    if (m->ptr64) {
        *start = m->indptr.i64[r];
        *end = m->indptr.i64[r + 1];
    } else {
        *start = m->indptr.i32[r];
        *end = m->indptr.i32[r + 1];
    }
}

/* The column index of entry k. */
static inline int64_t ss_csr_col(const subsel_csr *m, int64_t k)
{
    return m->idx64 ? m->indices.i64[k] : (int64_t)m->indices.i32[k];
}

/* The address of entry k's column index (kernels take the typed array,
 * prefetches its bytes). */
static inline const void *ss_csr_col_addr(const subsel_csr *m, int64_t k)
{
    return m->idx64 ? (const void *)(m->indices.i64 + k)
                    : (const void *)(m->indices.i32 + k);
}

/* The address of row r's pointer (for prefetching). */
static inline const void *ss_csr_ptr_addr(const subsel_csr *m, int64_t r)
{
    return m->ptr64 ? (const void *)(m->indptr.i64 + r)
                    : (const void *)(m->indptr.i32 + r);
}

/* Bytes of one column index. */
static inline size_t ss_csr_index_size(const subsel_csr *m)
{
    return m->idx64 ? sizeof(int64_t) : sizeof(int32_t);
}

/* Row r of a dense matrix (cols floats). */
static inline const float *ss_dense_row(const subsel_dense *m, int64_t r)
{
    return m->row0 + r * m->stride;
}

/* Checks CSR structure and values in one pass over the rows, reporting
 * progress stage "validate" (rows checked, rows); the message names the
 * first bad row and entry. `m` holds the arrays (a handle being built:
 * only rows, cols, the arrays and their widths are read). `orig` /
 * `orig_type` (a SUBSEL_DTYPE_* float type), when orig is not NULL, are the
 * caller's values before conversion to m->values, quoted in messages.
 * SUBSEL_E_FORMAT for structure, SUBSEL_E_NUMERIC for NaN/Inf (or a value
 * beyond the float32 range), SUBSEL_E_CANCELLED. */
int ss_csr_validate(subsel_ctx *ctx, const subsel_csr *m, const void *orig,
                    int orig_type);

/* Rows per block of the validation sweep: a few hundred KB of entries at
 * the usual tens of nonzeros per row, so that a hook reads them from
 * cache. */
#define SS_VALIDATE_BLOCK_ROWS 1024

/* Called for each block of rows that passed validation (rows [block *
 * SS_VALIDATE_BLOCK_ROWS, ...), entries [first, last)), on the thread that
 * checked it, right after: a loader checks its own bytes of the block
 * (CRCs) while they are in cache. Blocks come in any order and only write
 * their own slots. */
typedef void (*ss_csr_block_fn)(void *arg, int64_t block, int64_t first,
                                int64_t last);

/* As ss_csr_validate, calling `after` (unless NULL) for every sound block.
 * When validation fails, blocks after the failing one may not be seen. */
int ss_csr_validate_blocks(subsel_ctx *ctx, const subsel_csr *m,
                           const void *orig, int orig_type,
                           ss_csr_block_fn after, void *arg);

/* Checks that rows + 1 row pointers (of the given width) start at 0 and
 * never decrease. */
int ss_csr_check_indptr(subsel_ctx *ctx, ss_index_array indptr, int ptr64,
                        int64_t rows);

/* The row holding entry k of checked row pointers (the last row starting
 * at or before k, which skips empty rows). */
int64_t ss_csr_row_of_entry(ss_index_array indptr, int ptr64, int64_t rows,
                            int64_t k);

/* Checks that rows and cols are valid matrix sizes (nonnegative, cols fits
 * int32 for CSR, rows * cols * elsize addressable). */
int ss_check_shape(subsel_ctx *ctx, int64_t rows, int64_t cols, size_t elsize,
                   int csr);

/* Validates and wraps arrays allocated with ss_alloc_array on ctx: row
 * pointers and column indices of the given widths (1: int64, 0: int32),
 * float values. On any failure the arrays are freed. */
int ss_csr_adopt(subsel_ctx *ctx, int64_t rows, int64_t cols, void *indptr,
                 int ptr64, void *indices, int idx64, float *values,
                 subsel_csr **out);
/* As ss_csr_adopt, for arrays of which only those listed in owned[]
 * (indptr, indices, values, or NULL) were allocated on ctx; the others
 * belong to the handle `keeper`, which the matrix retains and drops with
 * `release` (a mapped file's arrays used in place). Validation calls
 * `after` (with `arg`) for every sound block (ss_csr_validate_blocks), or
 * nothing when it is NULL. On failure the owned arrays are freed and
 * keeper is not retained. */
int ss_csr_adopt_kept(subsel_ctx *ctx, int64_t rows, int64_t cols,
                      const void *indptr, int ptr64, const void *indices,
                      int idx64, const float *values, void *const owned[3],
                      void *keeper, void (*release)(void *keeper),
                      ss_csr_block_fn after, void *arg, subsel_csr **out);
/* A new matrix of `count` rows gathered from the matrices `from` (all
 * with from[0]'s columns): row i is row rows[i] (in range; repeats
 * allowed) of from[which[i]], or of from[0] when which is NULL. int64 row
 * pointers, int32 column indices (int64 beyond 2^31 columns). */
int ss_csr_gather_rows(subsel_ctx *ctx, const subsel_csr *const *from,
                       const int64_t *which, const int64_t *rows, int64_t count,
                       subsel_csr **out);

/* As ss_csr_adopt for rows x cols packed floats. */
int ss_dense_adopt(subsel_ctx *ctx, int64_t rows, int64_t cols, float *data,
                   subsel_dense **out);

/* As ss_dense_view for data that is not checked yet (a mapped file's):
 * checks that every value is finite first, reporting the bytes checked on
 * `meter` (begun by the caller, or NULL). */
int ss_dense_adopt_kept(subsel_ctx *ctx, ss_stage *meter, int64_t rows,
                        int64_t cols, const float *data, void *keeper,
                        void (*release)(void *keeper), subsel_dense **out);
/* A dense matrix over `data`, which belongs to the handle `keeper`: the
 * matrix retains keeper (ss_handle_retain) and releases it with `release`
 * when it is destroyed. The data is the keeper's, already checked, and is
 * not checked again. */
int ss_dense_view(subsel_ctx *ctx, int64_t rows, int64_t cols,
                  const float *data, void *keeper,
                  void (*release)(void *keeper), subsel_dense **out);

/* First index of a non-finite float in data[0..n), or -1. */
int64_t ss_find_nonfinite(const float *data, int64_t n);

/* ---- element types (dtype.c) ------------------------------------------- */

/* Bytes of one element of a SUBSEL_DTYPE_* type; 0 for an unknown one. */
size_t ss_dtype_size(int dtype);

/* "float16", "int64", ... or "unknown", for messages. */
const char *ss_dtype_name(int dtype);

/* IEEE 754 binary16 to binary32, exactly (every half is a float):
 * subnormals become normal floats, infinities stay infinite, NaNs stay
 * NaN with their sign and payload (shifted, as hardware converts). */
float ss_half_to_float(uint16_t h);

/* out[i] = (float)in[i] for n elements of `dtype` (FLOAT16, FLOAT32 or
 * FLOAT64) read from in (aligned for its type), without any check: a
 * float64 beyond +-FLT_MAX becomes an infinity, which finiteness checks
 * then find (and report as beyond the float32 range). */
void ss_convert_to_float(const void *in, int dtype, int64_t n, float *out);

/* Element k of a float array of `dtype` in double (exact), for messages. */
double ss_dtype_value(const void *in, int dtype, int64_t k);

/* SUBSEL_OK if p is aligned for elements of `dtype`; else SUBSEL_E_INVALID
 * naming fn and what. NULL passes (callers check it apart). */
int ss_check_aligned(subsel_ctx *ctx, const void *p, int dtype,
                     const char *fn, const char *what);

#endif
