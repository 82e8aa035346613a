/* SPDX-License-Identifier: MIT */
/*
 * CSR matrices: validation, construction from arrays or a dense matrix,
 * accessors and column sums.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/matrix.h"
#include "core/progress.h"

int64_t ss_find_nonfinite(const float *data, int64_t n)
{
    int64_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(data[i]))
            return i;
    return -1;
}

int ss_check_shape(subsel_ctx *ctx, int64_t rows, int64_t cols, size_t elsize,
                   int csr)
{
    size_t bytes;
    if (rows < 0 || cols < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "matrix shape %lld x %lld is negative", (long long)rows,
                       (long long)cols);
    if (csr) {
        if (cols > INT32_MAX)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "%lld columns do not fit int32 column indices",
                           (long long)cols);
        if (rows == INT64_MAX || !ss_mul_size(rows + 1, sizeof(int64_t), &bytes))
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "%lld rows do not fit in memory addresses",
                           (long long)rows);
        return SUBSEL_OK;
    }
    if (cols != 0 && rows > INT64_MAX / cols)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "matrix shape %lld x %lld overflows", (long long)rows,
                       (long long)cols);
    if (!ss_mul_size(rows * cols, elsize, &bytes))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "matrix shape %lld x %lld does not fit in memory "
                       "addresses",
                       (long long)rows, (long long)cols);
    return SUBSEL_OK;
}

/* The first row whose pointer decreases, from row `from` on, or -1. */
static int64_t first_decrease(const int64_t *indptr, int64_t from, int64_t rows)
{
    int64_t r;
    for (r = from; r < rows; r++)
        if (indptr[r + 1] < indptr[r])
            return r;
    return -1;
}

static int decrease_error(subsel_ctx *ctx, const int64_t *indptr, int64_t r)
{
    return ss_fail(ctx, SUBSEL_E_FORMAT,
                   "row pointers decrease at row %lld (%lld then %lld)",
                   (long long)r, (long long)indptr[r],
                   (long long)indptr[r + 1]);
}

int ss_csr_check_indptr(subsel_ctx *ctx, const int64_t *indptr, int64_t rows)
{
    int64_t r;
    if (indptr[0] != 0)
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "row pointers must start at 0, not %lld",
                       (long long)indptr[0]);
    r = first_decrease(indptr, 0, rows);
    return r < 0 ? SUBSEL_OK : decrease_error(ctx, indptr, r);
}

/* One pass over the rows, in blocks between which progress is reported
 * (stage "validate", rows checked, rows) and the callback can cancel. A
 * row is read only once its pointers are known to lie in [0, nnz]: a row
 * pointer past nnz means a later one decreases, which is reported. */
int ss_csr_validate(subsel_ctx *ctx, int64_t rows, int64_t cols,
                    const int64_t *indptr, const int32_t *indices,
                    const float *values)
{
    ss_stage meter;
    int64_t r, k, nnz;
    SS_CHECK(ss_check_shape(ctx, rows, cols, 0, 1));
    if (indptr[0] != 0)
        return ss_csr_check_indptr(ctx, indptr, rows);
    nnz = indptr[rows];
    SS_CHECK(ss_stage_begin(&meter, ctx, "validate", rows));
    for (r = 0; r < rows; r++) {
        int64_t start = indptr[r], end = indptr[r + 1];
        if (end < start)
            return decrease_error(ctx, indptr, r);
        if (end > nnz)
            return decrease_error(ctx, indptr, first_decrease(indptr, r, rows));
        for (k = start; k < end; k++) {
            int32_t c = indices[k];
            if (c < 0 || c >= cols)
                return ss_fail(ctx, SUBSEL_E_FORMAT,
                               "column index %d out of range [0, %lld) in row "
                               "%lld (entry %lld)",
                               c, (long long)cols, (long long)r, (long long)k);
            if (k > start && c <= indices[k - 1])
                return ss_fail(ctx, SUBSEL_E_FORMAT,
                               "column indices of row %lld are %s at entry "
                               "%lld (%d after %d)",
                               (long long)r,
                               c == indices[k - 1] ? "duplicated" : "unsorted",
                               (long long)k, c, indices[k - 1]);
            if (!isfinite(values[k]))
                return ss_fail(ctx, SUBSEL_E_NUMERIC,
                               "value %lld of the matrix is not finite (%g)",
                               (long long)k, (double)values[k]);
        }
        SS_CHECK(ss_stage_add(&meter, 1, 1 + end - start));
    }
    return ss_stage_end(&meter);
}

static int csr_wrap(subsel_ctx *ctx, int64_t rows, int64_t cols,
                    const int64_t *indptr, const int32_t *indices,
                    const float *values, int owned, subsel_csr **out)
{
    subsel_csr *m;
    SS_CHECK(ss_alloc_array(ctx, 1, sizeof *m, &m));
    memset(m, 0, sizeof *m);
    ss_handle_init(m, SS_KIND_CSR, &ctx->alloc);
    m->rows = rows;
    m->cols = cols;
    m->nnz = indptr[rows] - indptr[0];
    m->indptr = indptr;
    m->indices = indices;
    m->values = values;
    if (owned) {
        m->owned[0] = (void *)indptr;
        m->owned[1] = (void *)indices;
        m->owned[2] = (void *)values;
    }
    *out = m;
    return SUBSEL_OK;
}

int ss_csr_adopt(subsel_ctx *ctx, int64_t rows, int64_t cols, int64_t *indptr,
                 int32_t *indices, float *values, subsel_csr **out)
{
    int rc = SUBSEL_OK;
    SS_TRY(ss_csr_validate(ctx, rows, cols, indptr, indices, values));
    SS_TRY(csr_wrap(ctx, rows, cols, indptr, indices, values, 1, out));
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, indptr);
    ss_free(ctx, indices);
    ss_free(ctx, values);
    return rc;
}

int subsel_csr_create(subsel_ctx *ctx, int64_t rows, int64_t cols,
                      const int64_t *indptr, const int32_t *indices,
                      const float *values, int flags, subsel_csr **out)
{
    int64_t *ip = NULL;
    int32_t *ix = NULL;
    float *v = NULL;
    int64_t nnz;
    int rc = SUBSEL_OK;

    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(ctx, indptr);
    if (flags != SUBSEL_COPY && flags != SUBSEL_BORROW)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_csr_create: flags must be SUBSEL_COPY or "
                       "SUBSEL_BORROW, not %d",
                       flags);
    SS_CHECK(ss_check_shape(ctx, rows, cols, 0, 1));
    nnz = indptr[rows];
    if (nnz < 0)
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "subsel_csr_create: nnz = indptr[rows] = %lld is "
                       "negative",
                       (long long)nnz);
    if (nnz > 0 && (indices == NULL || values == NULL))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_csr_create: indices or values is NULL with %lld "
                       "nonzeros",
                       (long long)nnz);
    SS_CHECK(ss_csr_validate(ctx, rows, cols, indptr, indices, values));
    if (flags == SUBSEL_BORROW)
        return csr_wrap(ctx, rows, cols, indptr, indices, values, 0, out);

    SS_TRY(ss_alloc_array(ctx, rows + 1, sizeof *ip, &ip));
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof *ix, &ix));
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof *v, &v));
    memcpy(ip, indptr, (size_t)(rows + 1) * sizeof *ip);
    if (nnz > 0) {
        memcpy(ix, indices, (size_t)nnz * sizeof *ix);
        memcpy(v, values, (size_t)nnz * sizeof *v);
    }
    SS_TRY(csr_wrap(ctx, rows, cols, ip, ix, v, 1, out));
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, ip);
    ss_free(ctx, ix);
    ss_free(ctx, v);
    return rc;
}

int subsel_csr_from_dense(subsel_ctx *ctx, const subsel_dense *dense,
                          subsel_csr **out)
{
    int64_t *ip = NULL;
    int32_t *ix = NULL;
    float *v = NULL;
    int64_t r, c, nnz = 0, k = 0;
    int rc = SUBSEL_OK;

    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(ctx, dense);
    SS_CHECK(ss_check_shape(ctx, dense->rows, dense->cols, 0, 1));
    for (r = 0; r < dense->rows * dense->cols; r++)
        nnz += dense->data[r] != 0.0f;
    SS_TRY(ss_alloc_array(ctx, dense->rows + 1, sizeof *ip, &ip));
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof *ix, &ix));
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof *v, &v));
    ip[0] = 0;
    for (r = 0; r < dense->rows; r++) {
        const float *row = dense->data + r * dense->cols;
        for (c = 0; c < dense->cols; c++)
            if (row[c] != 0.0f) {
                ix[k] = (int32_t)c;
                v[k++] = row[c];
            }
        ip[r + 1] = k;
    }
    SS_TRY(csr_wrap(ctx, dense->rows, dense->cols, ip, ix, v, 1, out));
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, ip);
    ss_free(ctx, ix);
    ss_free(ctx, v);
    return rc;
}

void subsel_csr_free(subsel_csr *csr)
{
    int i;
    ss_allocator a;
    ss_keeper keeper;
    if (!ss_handle_release(csr))
        return;
    a = csr->alloc;
    keeper = csr->keeper;
    for (i = 0; i < 3; i++)
        ss_free_raw(&a, csr->owned[i]);
    ss_free_raw(&a, csr);
    /* Last: a view's parent may go with it (its arrays are the view's). */
    if (keeper.handle != NULL)
        keeper.release(keeper.handle);
}

int64_t subsel_csr_rows(const subsel_csr *csr) { return csr ? csr->rows : 0; }
int64_t subsel_csr_cols(const subsel_csr *csr) { return csr ? csr->cols : 0; }
int64_t subsel_csr_nnz(const subsel_csr *csr) { return csr ? csr->nnz : 0; }

int subsel_csr_row(const subsel_csr *csr, int64_t row, const int32_t **indices,
                   const float **values, int64_t *count)
{
    int64_t start;
    /* no context: the messages are the calling thread's */
    SS_REQUIRE_NONNULL(NULL, csr);
    SS_REQUIRE_NONNULL(NULL, indices);
    SS_REQUIRE_NONNULL(NULL, values);
    SS_REQUIRE_NONNULL(NULL, count);
    if (row < 0 || row >= csr->rows)
        return ss_fail(NULL, SUBSEL_E_INVALID,
                       "subsel_csr_row: row %lld is outside [0, %lld)",
                       (long long)row, (long long)csr->rows);
    start = csr->indptr[row];
    *indices = csr->indices + start;
    *values = csr->values + start;
    *count = csr->indptr[row + 1] - start;
    return SUBSEL_OK;
}

int subsel_csr_column_sums_v2(subsel_ctx *ctx, const subsel_csr *csr,
                              double *sums, int64_t capacity)
{
    int64_t k;
    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, csr);
    SS_REQUIRE_NONNULL(ctx, sums);
    SS_CHECK(ss_check_capacity(ctx, "subsel_csr_column_sums", "sums",
                               capacity, csr->cols));
    /* One sequential pass in storage order: the sum of each column is taken
     * in row order, so the result is the same on every run and thread count
     * (a parallel version would need per-thread copies of the d sums). */
    memset(sums, 0, (size_t)csr->cols * sizeof *sums);
    for (k = csr->indptr[0]; k < csr->indptr[csr->rows]; k++)
        sums[csr->indices[k]] += (double)csr->values[k];
    return SUBSEL_OK;
}

/* Deprecated: the caller's buffer was assumed to hold every column. */
int subsel_csr_column_sums(subsel_ctx *ctx, const subsel_csr *csr,
                           double *sums)
{
    return subsel_csr_column_sums_v2(ctx, csr, sums, INT64_MAX);
}

/* The keeper's release of a view: drops its reference on the parent. */
static void release_csr(void *parent) { subsel_csr_free(parent); }

int subsel_csr_view_rows(subsel_ctx *ctx, const subsel_csr *csr, int64_t first,
                         int64_t count, subsel_csr **out)
{
    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_handle_check(ctx, csr, SS_KIND_CSR, "subsel_csr_view_rows",
                             "csr"));
    if (first < 0 || count < 0 || first > csr->rows || count > csr->rows - first)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_csr_view_rows: rows [%lld, %lld + %lld) are not "
                       "inside the %lld rows",
                       (long long)first, (long long)first, (long long)count,
                       (long long)csr->rows);
    /* Row pointers stay absolute offsets into the parent's arrays, which
     * the view keeps alive by holding a reference on the parent. */
    SS_CHECK(csr_wrap(ctx, count, csr->cols, csr->indptr + first,
                      csr->indices, csr->values, 0, out));
    ss_handle_retain(csr);
    (*out)->keeper.handle = (void *)csr;
    (*out)->keeper.release = release_csr;
    return SUBSEL_OK;
}

int subsel_csr_gather_rows(subsel_ctx *ctx, const subsel_csr *csr,
                           const int64_t *rows, int64_t count,
                           subsel_csr **out)
{
    int64_t *ip = NULL;
    int32_t *ix = NULL;
    float *v = NULL;
    int64_t i, nnz = 0;
    int rc = SUBSEL_OK;

    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(ctx, csr);
    if (count < 0 || (count > 0 && rows == NULL))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_csr_gather_rows: %lld rows from %s",
                       (long long)count, rows ? "an array" : "NULL");
    for (i = 0; i < count; i++) {
        if (rows[i] < 0 || rows[i] >= csr->rows)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "subsel_csr_gather_rows: row %lld (entry %lld) is "
                           "outside [0, %lld)",
                           (long long)rows[i], (long long)i,
                           (long long)csr->rows);
        nnz += csr->indptr[rows[i] + 1] - csr->indptr[rows[i]];
    }
    SS_TRY(ss_alloc_array(ctx, count + 1, sizeof *ip, &ip));
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof *ix, &ix));
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof *v, &v));
    ip[0] = 0;
    for (i = 0; i < count; i++) {
        int64_t start = csr->indptr[rows[i]];
        int64_t len = csr->indptr[rows[i] + 1] - start;
        if (len > 0) {
            memcpy(ix + ip[i], csr->indices + start, (size_t)len * sizeof *ix);
            memcpy(v + ip[i], csr->values + start, (size_t)len * sizeof *v);
        }
        ip[i + 1] = ip[i] + len;
    }
    SS_TRY(csr_wrap(ctx, count, csr->cols, ip, ix, v, 1, out));
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, ip);
    ss_free(ctx, ix);
    ss_free(ctx, v);
    return rc;
}
