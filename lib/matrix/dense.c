/* SPDX-License-Identifier: MIT */
/*
 * Dense row-major float matrices: construction, accessors, column sums.
 */
#include <math.h>
#include <float.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/matrix.h"

static int dense_wrap(subsel_ctx *ctx, int64_t rows, int64_t cols,
                      const float *data, int owned, subsel_dense **out)
{
    subsel_dense *m;
    SS_CHECK(ss_alloc_array(ctx, 1, sizeof *m, &m));
    ss_handle_init(m, SS_KIND_DENSE, &ctx->alloc);
    m->rows = rows;
    m->cols = cols;
    m->data = data;
    m->owned = owned ? (void *)data : NULL;
    m->keeper.handle = NULL;
    m->keeper.release = NULL;
    *out = m;
    return SUBSEL_OK;
}

static int check_finite(subsel_ctx *ctx, const float *data, int64_t rows,
                        int64_t cols)
{
    int64_t bad = ss_find_nonfinite(data, rows * cols);
    if (bad >= 0)
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "value at row %lld, column %lld is not finite (%g)",
                       (long long)(bad / cols), (long long)(bad % cols),
                       (double)data[bad]);
    return SUBSEL_OK;
}

int ss_dense_adopt(subsel_ctx *ctx, int64_t rows, int64_t cols, float *data,
                   subsel_dense **out)
{
    int rc = SUBSEL_OK;
    SS_TRY(check_finite(ctx, data, rows, cols));
    SS_TRY(dense_wrap(ctx, rows, cols, data, 1, out));
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, data);
    return rc;
}

int ss_dense_view(subsel_ctx *ctx, int64_t rows, int64_t cols,
                  const float *data, void *keeper,
                  void (*release)(void *keeper), subsel_dense **out)
{
    SS_CHECK(dense_wrap(ctx, rows, cols, data, 0, out));
    ss_handle_retain(keeper);
    (*out)->keeper.handle = keeper;
    (*out)->keeper.release = release;
    return SUBSEL_OK;
}

int subsel_dense_create(subsel_ctx *ctx, int64_t rows, int64_t cols,
                        const float *data, int flags, subsel_dense **out)
{
    float *copy = NULL;
    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    if (flags != SUBSEL_COPY && flags != SUBSEL_BORROW)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_dense_create: flags must be SUBSEL_COPY or "
                       "SUBSEL_BORROW, not %d",
                       flags);
    SS_CHECK(ss_check_shape(ctx, rows, cols, sizeof(float), 0));
    if (rows * cols > 0)
        SS_REQUIRE_NONNULL(ctx, data);
    SS_CHECK(check_finite(ctx, data, rows, cols));
    if (flags == SUBSEL_BORROW)
        return dense_wrap(ctx, rows, cols, data, 0, out);
    SS_CHECK(ss_alloc_array(ctx, rows * cols, sizeof *copy, &copy));
    if (rows * cols > 0)
        memcpy(copy, data, (size_t)(rows * cols) * sizeof *copy);
    return ss_dense_adopt(ctx, rows, cols, copy, out);
}

int subsel_dense_create_f64(subsel_ctx *ctx, int64_t rows, int64_t cols,
                            const double *data, subsel_dense **out)
{
    float *copy = NULL;
    int64_t i;
    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_check_shape(ctx, rows, cols, sizeof(float), 0));
    if (rows * cols > 0)
        SS_REQUIRE_NONNULL(ctx, data);
    for (i = 0; i < rows * cols; i++)
        if (!isfinite(data[i]) || fabs(data[i]) > FLT_MAX)
            return ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "value at row %lld, column %lld (%g) is not a "
                           "finite float",
                           (long long)(i / cols), (long long)(i % cols),
                           data[i]);
    SS_CHECK(ss_alloc_array(ctx, rows * cols, sizeof *copy, &copy));
    for (i = 0; i < rows * cols; i++)
        copy[i] = (float)data[i];
    return ss_dense_adopt(ctx, rows, cols, copy, out);
}

void subsel_dense_free(subsel_dense *dense)
{
    ss_allocator a;
    ss_keeper keeper;
    if (!ss_handle_release(dense))
        return;
    a = dense->alloc;
    keeper = dense->keeper;
    ss_free_raw(&a, dense->owned);
    ss_free_raw(&a, dense);
    /* Last: the keeper may go with it (the data was its). */
    if (keeper.handle != NULL)
        keeper.release(keeper.handle);
}

int64_t subsel_dense_rows(const subsel_dense *d) { return d ? d->rows : 0; }
int64_t subsel_dense_cols(const subsel_dense *d) { return d ? d->cols : 0; }
const float *subsel_dense_data(const subsel_dense *d) { return d ? d->data : NULL; }

const float *subsel_dense_row(const subsel_dense *d, int64_t row)
{
    if (d == NULL || row < 0 || row >= d->rows)
        return NULL;
    return d->data + row * d->cols;
}

int subsel_dense_column_sums_v2(subsel_ctx *ctx, const subsel_dense *dense,
                                double *sums, int64_t capacity)
{
    int64_t r, c;
    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, dense);
    SS_REQUIRE_NONNULL(ctx, sums);
    SS_CHECK(ss_check_capacity(ctx, "subsel_dense_column_sums", "sums",
                               capacity, dense->cols));
    memset(sums, 0, (size_t)dense->cols * sizeof *sums);
    for (r = 0; r < dense->rows; r++) {
        const float *row = dense->data + r * dense->cols;
        for (c = 0; c < dense->cols; c++)
            sums[c] += (double)row[c];
    }
    return SUBSEL_OK;
}

/* Deprecated: the caller's buffer was assumed to hold every column. */
int subsel_dense_column_sums(subsel_ctx *ctx, const subsel_dense *dense,
                             double *sums)
{
    return subsel_dense_column_sums_v2(ctx, dense, sums, INT64_MAX);
}
