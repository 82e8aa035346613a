/* SPDX-License-Identifier: MIT */
/*
 * Dense row-major float matrices: construction (float32 rows of any stride
 * borrowed as they are, float16 / float64 converted once to a packed
 * float32 copy), accessors, column sums.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/sweep.h"
#include "matrix/matrix.h"

static int dense_wrap(subsel_ctx *ctx, int64_t rows, int64_t cols,
                      int64_t stride, const float *row0, int owned,
                      subsel_dense **out)
{
    subsel_dense *m;
    SS_CHECK(ss_alloc_array(ctx, 1, sizeof *m, &m));
    ss_handle_init(m, SS_KIND_DENSE, &ctx->alloc);
    m->rows = rows;
    m->cols = cols;
    m->stride = stride;
    m->row0 = row0;
    m->owned = owned ? (void *)row0 : NULL;
    m->keeper.handle = NULL;
    m->keeper.release = NULL;
    *out = m;
    return SUBSEL_OK;
}

typedef struct finite_job {
    const float *data;
    int64_t cols, stride;
} finite_job;

/* The first row in [begin, end) holding a value that is not finite. */
static int64_t first_nonfinite_row(void *arg, int64_t begin, int64_t end)
{
    const finite_job *j = arg;
    int64_t r;
    for (r = begin; r < end; r++)
        if (ss_find_nonfinite(j->data + r * j->stride, j->cols) >= 0)
            return r;
    return -1;
}

/* Checks the rows x cols values at data (row stride `stride`) in one
 * parallel sweep (progress in bytes on `meter`, or NULL); `orig`, when not
 * NULL, is the caller's array of `orig_type` (row stride orig_stride)
 * before conversion, whose value is quoted. */
static int check_finite(subsel_ctx *ctx, ss_stage *meter, const float *data,
                        int64_t rows, int64_t cols, int64_t stride,
                        const void *orig, int orig_type, int64_t orig_stride)
{
    /* about 256 KB of values per block */
    const int64_t block = cols < 65536 ? 65536 / (cols > 0 ? cols : 1) : 1;
    finite_job job = {data, cols, stride};
    int64_t r, bad;
    double v;
    SS_CHECK(ss_sweep(ctx, meter, rows, block, cols * (int64_t)sizeof(float),
                      cols, first_nonfinite_row, &job, &r));
    if (r < 0)
        return SUBSEL_OK;
    bad = ss_find_nonfinite(data + r * stride, cols);
    v = orig != NULL ? ss_dtype_value(orig, orig_type, r * orig_stride + bad)
                     : (double)data[r * stride + bad];
    return ss_fail(ctx, SUBSEL_E_NUMERIC,
                   "value at row %lld, column %lld %s (%g)", (long long)r,
                   (long long)bad,
                   isfinite(v) ? "is beyond the float32 range"
                               : "is not finite",
                   v);
}

int ss_dense_adopt(subsel_ctx *ctx, int64_t rows, int64_t cols, float *data,
                   subsel_dense **out)
{
    int rc = SUBSEL_OK;
    SS_TRY(check_finite(ctx, NULL, data, rows, cols, cols, NULL, 0, 0));
    SS_TRY(dense_wrap(ctx, rows, cols, cols, data, 1, out));
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, data);
    return rc;
}

int ss_dense_adopt_kept(subsel_ctx *ctx, ss_stage *meter, int64_t rows,
                        int64_t cols, const float *data, void *keeper,
                        void (*release)(void *keeper), subsel_dense **out)
{
    SS_CHECK(check_finite(ctx, meter, data, rows, cols, cols, NULL, 0, 0));
    return ss_dense_view(ctx, rows, cols, data, keeper, release, out);
}

int ss_dense_view(subsel_ctx *ctx, int64_t rows, int64_t cols,
                  const float *data, void *keeper,
                  void (*release)(void *keeper), subsel_dense **out)
{
    SS_CHECK(dense_wrap(ctx, rows, cols, cols, data, 0, out));
    ss_handle_retain(keeper);
    (*out)->keeper.handle = keeper;
    (*out)->keeper.release = release;
    return SUBSEL_OK;
}

/* The constructors' one path. */
static int dense_create(subsel_ctx *ctx, const char *fn, int64_t rows,
                        int64_t cols, const void *data, int dtype,
                        int64_t stride, int flags, subsel_dense **out)
{
    const size_t size = ss_dtype_size(dtype);
    float *copy = NULL;
    int64_t r;
    size_t bytes;
    int rc = SUBSEL_OK;

    if (flags != SUBSEL_COPY && flags != SUBSEL_BORROW)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: flags must be SUBSEL_COPY or SUBSEL_BORROW, not "
                       "%d",
                       fn, flags);
    if (dtype != SUBSEL_DTYPE_FLOAT32 && dtype != SUBSEL_DTYPE_FLOAT64 &&
        dtype != SUBSEL_DTYPE_FLOAT16)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: dtype %d is not SUBSEL_DTYPE_FLOAT32, _FLOAT64 or "
                       "_FLOAT16 (%s)",
                       fn, dtype, ss_dtype_name(dtype));
    SS_CHECK(ss_check_shape(ctx, rows, cols, sizeof(float), 0));
    if (stride == 0)
        stride = cols;
    if (stride < cols)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: row_stride %lld is less than the %lld columns "
                       "(it counts elements, not bytes; 0 means packed)",
                       fn, (long long)stride, (long long)cols);
    /* the last row ends (rows - 1) * stride + cols elements in */
    if (rows > 1 && (rows - 1 > (INT64_MAX - cols) / stride ||
                     !ss_mul_size((rows - 1) * stride + cols, size, &bytes)))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %lld rows of stride %lld do not fit in memory "
                       "addresses",
                       fn, (long long)rows, (long long)stride);
    if (rows * cols > 0 && data == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: data is NULL", fn);
    SS_CHECK(ss_check_aligned(ctx, data, dtype, fn, "data"));
    if (dtype == SUBSEL_DTYPE_FLOAT32) {
        SS_CHECK(check_finite(ctx, NULL, data, rows, cols, stride, NULL, 0, 0));
        if (flags == SUBSEL_BORROW)
            return dense_wrap(ctx, rows, cols, stride, data, 0, out);
    }
    /* a packed float32 copy: of the rows as they are, or converted once */
    SS_CHECK(ss_alloc_array(ctx, rows * cols, sizeof *copy, &copy));
    for (r = 0; r < rows; r++)
        ss_convert_to_float((const char *)data + (size_t)(r * stride) * size,
                            dtype, cols, copy + r * cols);
    if (dtype != SUBSEL_DTYPE_FLOAT32)
        SS_TRY(check_finite(ctx, NULL, copy, rows, cols, cols, data, dtype, stride));
    SS_TRY(dense_wrap(ctx, rows, cols, cols, copy, 1, out));
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, copy);
    return rc;
}

int subsel_dense_create(subsel_ctx *ctx, int64_t rows, int64_t cols,
                        const float *data, int flags, subsel_dense **out)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    return dense_create(ctx, "subsel_dense_create", rows, cols, data,
                        SUBSEL_DTYPE_FLOAT32, cols, flags, out);
}

int subsel_dense_create_f64(subsel_ctx *ctx, int64_t rows, int64_t cols,
                            const double *data, subsel_dense **out)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    return dense_create(ctx, "subsel_dense_create_f64", rows, cols, data,
                        SUBSEL_DTYPE_FLOAT64, cols, SUBSEL_COPY, out);
}

int subsel_dense_create_v2(subsel_ctx *ctx, int64_t rows, int64_t cols,
                           const void *data, int dtype, int64_t row_stride,
                           int flags, subsel_dense **out)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    if (row_stride < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_dense_create_v2: row_stride %lld is negative",
                       (long long)row_stride);
    return dense_create(ctx, "subsel_dense_create_v2", rows, cols, data, dtype,
                        row_stride, flags, out);
}

void subsel_dense_free(subsel_dense *dense)
{
    ss_allocator a;
    ss_keeper keeper;
    if (!ss_handle_release(dense, SS_KIND_DENSE, __func__))
        return;
    a = dense->alloc;
    keeper = dense->keeper;
    ss_free_raw(&a, dense->owned);
    ss_free_raw(&a, dense);
    /* Last: the keeper may go with it (the data was its). */
    if (keeper.handle != NULL)
        keeper.release(keeper.handle);
}

int64_t subsel_dense_rows(const subsel_dense *d)
{
    return ss_handle_is(d, SS_KIND_DENSE) ? d->rows : 0;
}
int64_t subsel_dense_cols(const subsel_dense *d)
{
    return ss_handle_is(d, SS_KIND_DENSE) ? d->cols : 0;
}
int64_t subsel_dense_stride(const subsel_dense *d)
{
    return ss_handle_is(d, SS_KIND_DENSE) ? d->stride : 0;
}
const float *subsel_dense_data(const subsel_dense *d)
{
    return ss_handle_is(d, SS_KIND_DENSE) ? d->row0 : NULL;
}

const float *subsel_dense_row(const subsel_dense *d, int64_t row)
{
    if (!ss_handle_is(d, SS_KIND_DENSE) || row < 0 || row >= d->rows)
        return NULL;
    return ss_dense_row(d, row);
}

int subsel_dense_column_sums_v2(subsel_ctx *ctx, const subsel_dense *dense,
                                double *sums, int64_t capacity)
{
    int64_t r, c;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, dense, SS_KIND_DENSE);
    SS_REQUIRE_NONNULL(ctx, sums);
    SS_CHECK(ss_check_capacity(ctx, "subsel_dense_column_sums", "sums",
                               capacity, dense->cols));
    memset(sums, 0, (size_t)dense->cols * sizeof *sums);
    for (r = 0; r < dense->rows; r++) {
        const float *row = ss_dense_row(dense, r);
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
