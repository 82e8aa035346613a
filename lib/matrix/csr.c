/* SPDX-License-Identifier: MIT */
/*
 * CSR matrices: validation, construction from arrays (int32 or int64
 * index arrays borrowed as they are, float16 / float64 values converted
 * once) or from a dense matrix, accessors and column sums.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/matrix.h"
#include "core/progress.h"
#include "core/sweep.h"

int64_t ss_find_nonfinite(const float *data, int64_t n)
{
    /* Blocks of 64 are checked branch-free (vectorised); the first bad
     * value is then looked for only in a block that has one. */
    const uint32_t *bits = (const uint32_t *)(const void *)data;
    int64_t i = 0, k;
    for (; i + 64 <= n; i += 64) {
        unsigned bad = 0;
        for (k = 0; k < 64; k++)
            bad |= (bits[i + k] & 0x7f800000u) == 0x7f800000u;
        if (bad)
            break;
    }
    for (; i < n; i++)
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

/* Element r of an index array of either width. */
static inline int64_t index_at(ss_index_array a, int wide, int64_t r)
{
    return wide ? a.i64[r] : (int64_t)a.i32[r];
}

/* The same array starting `first` elements further. */
static ss_index_array index_offset(ss_index_array a, int wide, int64_t first)
{
    ss_index_array b;
    if (wide)
        b.i64 = a.i64 + first;
    else
        b.i32 = a.i32 + first;
    return b;
}

/* The first row whose pointer decreases, from row `from` on, or -1. */
static int64_t first_decrease(ss_index_array ip, int ptr64, int64_t from,
                              int64_t rows)
{
    int64_t r;
    for (r = from; r < rows; r++)
        if (index_at(ip, ptr64, r + 1) < index_at(ip, ptr64, r))
            return r;
    return -1;
}

static int decrease_error(subsel_ctx *ctx, ss_index_array ip, int ptr64,
                          int64_t r)
{
    return ss_fail(ctx, SUBSEL_E_FORMAT,
                   "row pointers decrease at row %lld (%lld then %lld)",
                   (long long)r, (long long)index_at(ip, ptr64, r),
                   (long long)index_at(ip, ptr64, r + 1));
}

int ss_csr_check_indptr(subsel_ctx *ctx, ss_index_array indptr, int ptr64,
                        int64_t rows)
{
    int64_t r;
    if (index_at(indptr, ptr64, 0) != 0)
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "row pointers must start at 0, not %lld",
                       (long long)index_at(indptr, ptr64, 0));
    r = first_decrease(indptr, ptr64, 0, rows);
    return r < 0 ? SUBSEL_OK : decrease_error(ctx, indptr, ptr64, r);
}

int64_t ss_csr_row_of_entry(ss_index_array indptr, int ptr64, int64_t rows,
                            int64_t k)
{
    int64_t lo = 0, hi = rows;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (index_at(indptr, ptr64, mid) <= k)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The message for a value that is not a finite float: `orig` (when not
 * NULL) is the caller's array before conversion, whose value is quoted. */
static int value_error(subsel_ctx *ctx, const subsel_csr *m, int64_t r,
                       int64_t k, const void *orig, int orig_type)
{
    double v = orig != NULL ? ss_dtype_value(orig, orig_type, k)
                            : (double)m->values[k];
    return ss_fail(ctx, SUBSEL_E_NUMERIC,
                   "value at row %lld, column %lld (entry %lld) %s (%g)",
                   (long long)r, (long long)ss_csr_col(m, k), (long long)k,
                   isfinite(v) ? "is beyond the float32 range"
                               : "is not finite",
                   v);
}


/* A block's faults are found branch-free (the loops vectorise and read at
 * memory speed) and reported by report_row(), which names the first.
 * ptr64 / idx64 are constants where these are inlined, so each width gets
 * its own loops. Strictly increasing columns are all in range when the
 * first and last are. */
static inline int row_faulty(const subsel_csr *m, int64_t r, int64_t nnz,
                             int ptr64, int idx64)
{
    const int64_t start = ptr64 ? m->indptr.i64[r] : m->indptr.i32[r];
    const int64_t end = ptr64 ? m->indptr.i64[r + 1] : m->indptr.i32[r + 1];
    int64_t k;
    unsigned bad = 0;
    /* start < 0: an earlier row's pointer decreased (a block's rows are
     * checked apart from the rows before it), which is what is reported */
    if (start < 0 || end < start || end > nnz)
        return 1;
    if (end == start)
        return 0;
    if (idx64) {
        const int64_t *c = m->indices.i64;
        for (k = start + 1; k < end; k++)
            bad |= c[k] <= c[k - 1];
        bad |= c[start] < 0 || c[end - 1] >= m->cols;
    } else {
        const int32_t *c = m->indices.i32;
        for (k = start + 1; k < end; k++)
            bad |= c[k] <= c[k - 1];
        bad |= c[start] < 0 || c[end - 1] >= m->cols;
    }
    return bad != 0;
}

/* 1 when a value in [start, end) is Inf or NaN. */
static int values_faulty(const float *values, int64_t start, int64_t end)
{
    const uint32_t *bits = (const uint32_t *)(const void *)values;
    int64_t k;
    unsigned bad = 0;
    for (k = start; k < end; k++)
        bad |= (bits[k] & 0x7f800000u) == 0x7f800000u;
    return bad != 0;
}

typedef struct validate_job {
    const subsel_csr *m;
    int64_t nnz;
    ss_csr_block_fn after; /* or NULL */
    void *arg;
} validate_job;

/* A sound block: handed to the caller's hook while its entries are in
 * cache. */
static int64_t block_done(const validate_job *j, int64_t begin, int64_t first,
                          int64_t last)
{
    if (j->after != NULL)
        j->after(j->arg, begin / SS_VALIDATE_BLOCK_ROWS, first, last);
    return -1;
}

/* The structure row by row, then the block's values in one run (their
 * entries are contiguous once the rows are sound); a block with a bad
 * value is searched row by row for it. */
#define FIRST_FAULTY_ROW(name, ptr64, idx64)                                   \
    static int64_t name(void *arg, int64_t begin, int64_t end)                 \
    {                                                                          \
        const validate_job *j = arg;                                           \
        const subsel_csr *m = j->m;                                            \
        int64_t r, first, last;                                                \
        for (r = begin; r < end; r++)                                          \
            if (row_faulty(m, r, j->nnz, ptr64, idx64))                        \
                return r;                                                      \
        first = ptr64 ? m->indptr.i64[begin] : m->indptr.i32[begin];           \
        last = ptr64 ? m->indptr.i64[end] : m->indptr.i32[end];                \
        if (!values_faulty(m->values, first, last))                            \
            return block_done(j, begin, first, last);                          \
        for (r = begin; r < end; r++) {                                        \
            int64_t s, e;                                                      \
            ss_csr_range(m, r, &s, &e);                                        \
            if (values_faulty(m->values, s, e))                                \
                return r;                                                      \
        }                                                                      \
        return -1;                                                             \
    }
FIRST_FAULTY_ROW(faulty_rows_32_32, 0, 0)
FIRST_FAULTY_ROW(faulty_rows_32_64, 0, 1)
FIRST_FAULTY_ROW(faulty_rows_64_32, 1, 0)
FIRST_FAULTY_ROW(faulty_rows_64_64, 1, 1)

/* The message for the first fault of row r, which row_faulty() found. A
 * row pointer past nnz means a later one decreases, which is reported. */
static int report_row(subsel_ctx *ctx, const subsel_csr *m, int64_t r,
                      int64_t nnz, const void *orig, int orig_type)
{
    int64_t start, end, k, cols = m->cols;
    ss_csr_range(m, r, &start, &end);
    if (end < start)
        return decrease_error(ctx, m->indptr, m->ptr64, r);
    if (end > nnz)
        return decrease_error(ctx, m->indptr, m->ptr64,
                              first_decrease(m->indptr, m->ptr64, r, m->rows));
    for (k = start; k < end; k++) {
        int64_t c = ss_csr_col(m, k);
        if (c < 0 || c >= cols)
            return ss_fail(ctx, SUBSEL_E_FORMAT,
                           "column index %lld out of range [0, %lld) in "
                           "row %lld (entry %lld)",
                           (long long)c, (long long)cols, (long long)r,
                           (long long)k);
        if (k > start && c <= ss_csr_col(m, k - 1))
            return ss_fail(ctx, SUBSEL_E_FORMAT,
                           "column indices of row %lld are %s at entry "
                           "%lld (%lld after %lld)",
                           (long long)r,
                           c == ss_csr_col(m, k - 1) ? "duplicated"
                                                     : "unsorted",
                           (long long)k, (long long)c,
                           (long long)ss_csr_col(m, k - 1));
        if (!isfinite(m->values[k]))
            return value_error(ctx, m, r, k, orig, orig_type);
    }
    return ss_fail(ctx, SUBSEL_E_FORMAT, "row %lld was found faulty, but "
                   "no fault is left to report", (long long)r);
}

/* One parallel sweep over the rows (stage "validate", rows checked, rows;
 * the callback can cancel between rounds of blocks); the first faulty row
 * is reported, as a serial pass would. */
int ss_csr_validate(subsel_ctx *ctx, const subsel_csr *m, const void *orig,
                    int orig_type)
{
    return ss_csr_validate_blocks(ctx, m, orig, orig_type, NULL, NULL);
}

int ss_csr_validate_blocks(subsel_ctx *ctx, const subsel_csr *m,
                           const void *orig, int orig_type,
                           ss_csr_block_fn after, void *arg)
{
    static const ss_sweep_fn by_width[2][2] = {
        {faulty_rows_32_32, faulty_rows_32_64},
        {faulty_rows_64_32, faulty_rows_64_64}};
    ss_stage meter;
    validate_job job;
    int64_t bad, rows = m->rows;
    SS_CHECK(ss_check_shape(ctx, rows, m->cols, 0, 1));
    if (index_at(m->indptr, m->ptr64, 0) != 0)
        return ss_csr_check_indptr(ctx, m->indptr, m->ptr64, rows);
    job.m = m;
    job.nnz = index_at(m->indptr, m->ptr64, rows);
    job.after = after;
    job.arg = arg;
    SS_CHECK(ss_stage_begin(&meter, ctx, "validate", rows));
    SS_CHECK(ss_sweep(ctx, &meter, rows, SS_VALIDATE_BLOCK_ROWS, 1,
                      1 + (rows > 0 ? job.nnz / rows : 0),
                      by_width[m->ptr64][m->idx64], &job, &bad));
    if (bad >= 0)
        return report_row(ctx, m, bad, job.nnz, orig, orig_type);
    return ss_stage_end(&meter);
}

/* Fills the fields of a matrix from its arrays (also for the unchecked
 * matrices that validation reads). */
static void csr_fill(subsel_csr *m, int64_t rows, int64_t cols,
                     ss_index_array indptr, int ptr64, ss_index_array indices,
                     int idx64, const float *values)
{
    m->rows = rows;
    m->cols = cols;
    m->indptr = indptr;
    m->ptr64 = ptr64 != 0;
    m->indices = indices;
    m->idx64 = idx64 != 0;
    m->values = values;
    m->nnz = index_at(indptr, ptr64, rows) - index_at(indptr, ptr64, 0);
}

/* A new handle over arrays; owned[] lists those it frees (or NULL). */
static int csr_wrap(subsel_ctx *ctx, int64_t rows, int64_t cols,
                    ss_index_array indptr, int ptr64, ss_index_array indices,
                    int idx64, const float *values, void *const owned[3],
                    subsel_csr **out)
{
    subsel_csr *m;
    SS_CHECK(ss_alloc_array(ctx, 1, sizeof *m, &m));
    memset(m, 0, sizeof *m);
    ss_handle_init(m, SS_KIND_CSR, &ctx->alloc);
    csr_fill(m, rows, cols, indptr, ptr64, indices, idx64, values);
    if (owned != NULL)
        memcpy(m->owned, owned, sizeof m->owned);
    atomic_init(&m->indices32, NULL);
    *out = m;
    return SUBSEL_OK;
}

int ss_csr_adopt_kept(subsel_ctx *ctx, int64_t rows, int64_t cols,
                      const void *indptr, int ptr64, const void *indices,
                      int idx64, const float *values, void *const owned[3],
                      void *keeper, void (*release)(void *keeper),
                      ss_csr_block_fn after, void *arg, subsel_csr **out)
{
    subsel_csr tmp;
    ss_index_array ip, ix;
    int rc = SUBSEL_OK;
    ip.any = indptr;
    ix.any = indices;
    csr_fill(&tmp, rows, cols, ip, ptr64, ix, idx64, values);
    SS_TRY(ss_csr_validate_blocks(ctx, &tmp, NULL, 0, after, arg));
    SS_TRY(csr_wrap(ctx, rows, cols, ip, ptr64, ix, idx64, values, owned, out));
    if (keeper != NULL && (owned[0] != indptr || owned[1] != indices ||
                           owned[2] != (const void *)values)) {
        ss_handle_retain(keeper);
        (*out)->keeper.handle = keeper;
        (*out)->keeper.release = release;
    }
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, owned[0]);
    ss_free(ctx, owned[1]);
    ss_free(ctx, owned[2]);
    return rc;
}

int ss_csr_adopt(subsel_ctx *ctx, int64_t rows, int64_t cols, void *indptr,
                 int ptr64, void *indices, int idx64, float *values,
                 subsel_csr **out)
{
    void *const owned[3] = {indptr, indices, values};
    return ss_csr_adopt_kept(ctx, rows, cols, indptr, ptr64, indices, idx64,
                             values, owned, NULL, NULL, NULL, NULL, out);
}

int ss_csr_gather_rows(subsel_ctx *ctx, const subsel_csr *const *from,
                       const int64_t *which, const int64_t *rows, int64_t count,
                       subsel_csr **out)
{
    int64_t *indptr = NULL, i, nnz = 0, cols = from[0]->cols;
    int idx64 = cols > INT32_MAX; /* int32 indices wherever they fit */
    void *indices = NULL;
    float *values = NULL;

    *out = NULL;
    if (ss_alloc_array(ctx, count + 1, sizeof *indptr, &indptr) != SUBSEL_OK)
        return SUBSEL_E_NOMEM;
    indptr[0] = 0;
    for (i = 0; i < count; i++) {
        int64_t start, end;
        ss_csr_range(from[which != NULL ? which[i] : 0], rows[i], &start, &end);
        nnz += end - start;
        indptr[i + 1] = nnz;
    }
    if (ss_alloc_array(ctx, nnz, idx64 ? sizeof(int64_t) : sizeof(int32_t),
                       &indices) != SUBSEL_OK ||
        ss_alloc_array(ctx, nnz, sizeof *values, &values) != SUBSEL_OK) {
        ss_free(ctx, indptr);
        ss_free(ctx, indices);
        return SUBSEL_E_NOMEM;
    }
    for (i = 0; i < count; i++) {
        const subsel_csr *m = from[which != NULL ? which[i] : 0];
        int64_t start, end, t, at = indptr[i];
        ss_csr_range(m, rows[i], &start, &end);
        for (t = start; t < end; t++, at++) {
            if (idx64)
                ((int64_t *)indices)[at] = ss_csr_col(m, t);
            else
                ((int32_t *)indices)[at] = (int32_t)ss_csr_col(m, t);
            values[at] = m->values[t];
        }
    }
    return ss_csr_adopt(ctx, count, cols, indptr, 1, indices, idx64, values, out);
}

/* A copy of n elements of `size` bytes on ctx (n may be 0). */
static int copy_array(subsel_ctx *ctx, const void *src, int64_t n, size_t size,
                      void **out)
{
    SS_CHECK(ss_alloc_array(ctx, n, size, out));
    if (n > 0)
        memcpy(*out, src, (size_t)n * size);
    return SUBSEL_OK;
}

/* What a constructor was given. */
typedef struct csr_args {
    const char *fn;
    int64_t rows, cols;
    ss_index_array indptr, indices;
    int ptr64, idx64;
    const void *values;
    int value_type; /* SUBSEL_DTYPE_FLOAT16 / 32 / 64 */
    int flags;
} csr_args;

/* The constructors' one path: checks, conversion of the values (once,
 * after the row pointers are known sound, so that nnz can be trusted),
 * validation, then a borrowing or copying handle. */
static int csr_create(subsel_ctx *ctx, const csr_args *a, subsel_csr **out)
{
    const int ptr_type = a->ptr64 ? SUBSEL_DTYPE_INT64 : SUBSEL_DTYPE_INT32;
    const int idx_type = a->idx64 ? SUBSEL_DTYPE_INT64 : SUBSEL_DTYPE_INT32;
    const int convert = a->value_type != SUBSEL_DTYPE_FLOAT32;
    void *owned[3] = {NULL, NULL, NULL};
    const float *values = a->values;
    ss_index_array ip = a->indptr, ix = a->indices;
    subsel_csr tmp;
    int64_t nnz;
    int rc = SUBSEL_OK;

    if (a->flags != SUBSEL_COPY && a->flags != SUBSEL_BORROW)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: flags must be SUBSEL_COPY or SUBSEL_BORROW, not "
                       "%d",
                       a->fn, a->flags);
    if (ip.any == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: indptr is NULL", a->fn);
    SS_CHECK(ss_check_shape(ctx, a->rows, a->cols, 0, 1));
    SS_CHECK(ss_check_aligned(ctx, ip.any, ptr_type, a->fn, "indptr"));
    SS_CHECK(ss_check_aligned(ctx, ix.any, idx_type, a->fn, "indices"));
    SS_CHECK(ss_check_aligned(ctx, a->values, a->value_type, a->fn, "values"));
    nnz = index_at(ip, a->ptr64, a->rows);
    if (nnz < 0)
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "%s: nnz = indptr[rows] = %lld is negative", a->fn,
                       (long long)nnz);
    if (nnz > 0 && (ix.any == NULL || a->values == NULL))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: indices or values is NULL with %lld nonzeros",
                       a->fn, (long long)nnz);
    if (convert) {
        SS_CHECK(ss_csr_check_indptr(ctx, ip, a->ptr64, a->rows));
        SS_CHECK(ss_alloc_array(ctx, nnz, sizeof(float), &owned[2]));
        ss_convert_to_float(a->values, a->value_type, nnz, owned[2]);
        values = owned[2];
    }
    csr_fill(&tmp, a->rows, a->cols, ip, a->ptr64, ix, a->idx64, values);
    SS_TRY(ss_csr_validate(ctx, &tmp, convert ? a->values : NULL,
                           a->value_type));
    if (a->flags == SUBSEL_COPY) {
        /* each array in its own width: the copy is as compact as the input */
        SS_TRY(copy_array(ctx, ip.any, a->rows + 1, a->ptr64 ? 8 : 4, &owned[0]));
        SS_TRY(copy_array(ctx, ix.any, nnz, a->idx64 ? 8 : 4, &owned[1]));
        if (!convert)
            SS_TRY(copy_array(ctx, values, nnz, sizeof(float), &owned[2]));
        ip.any = owned[0];
        ix.any = owned[1];
        values = owned[2];
    }
    SS_TRY(csr_wrap(ctx, a->rows, a->cols, ip, a->ptr64, ix, a->idx64, values,
                    owned, out));
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, owned[0]);
    ss_free(ctx, owned[1]);
    ss_free(ctx, owned[2]);
    return rc;
}

int subsel_csr_create(subsel_ctx *ctx, int64_t rows, int64_t cols,
                      const int64_t *indptr, const int32_t *indices,
                      const float *values, int flags, subsel_csr **out)
{
    csr_args a;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    a.fn = "subsel_csr_create";
    a.rows = rows;
    a.cols = cols;
    a.indptr.i64 = indptr;
    a.ptr64 = 1;
    a.indices.i32 = indices;
    a.idx64 = 0;
    a.values = values;
    a.value_type = SUBSEL_DTYPE_FLOAT32;
    a.flags = flags;
    return csr_create(ctx, &a, out);
}

int subsel_csr_create_v2(subsel_ctx *ctx, int64_t rows, int64_t cols,
                         const void *indptr, const void *indices,
                         int index_type, const void *values, int value_type,
                         int flags, subsel_csr **out)
{
    csr_args a;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    a.fn = "subsel_csr_create_v2";
    if (index_type != SUBSEL_DTYPE_INT32 && index_type != SUBSEL_DTYPE_INT64)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: index_type %d is not SUBSEL_DTYPE_INT32 or "
                       "SUBSEL_DTYPE_INT64 (%s)",
                       a.fn, index_type, ss_dtype_name(index_type));
    if (value_type != SUBSEL_DTYPE_FLOAT32 &&
        value_type != SUBSEL_DTYPE_FLOAT64 &&
        value_type != SUBSEL_DTYPE_FLOAT16)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: value_type %d is not SUBSEL_DTYPE_FLOAT32, "
                       "_FLOAT64 or _FLOAT16 (%s)",
                       a.fn, value_type, ss_dtype_name(value_type));
    a.rows = rows;
    a.cols = cols;
    a.indptr.any = indptr;
    a.indices.any = indices;
    a.ptr64 = a.idx64 = index_type == SUBSEL_DTYPE_INT64;
    a.values = values;
    a.value_type = value_type;
    a.flags = flags;
    return csr_create(ctx, &a, out);
}

int subsel_csr_from_dense(subsel_ctx *ctx, const subsel_dense *dense,
                          subsel_csr **out)
{
    void *owned[3] = {NULL, NULL, NULL};
    int64_t *ip;
    int32_t *ix;
    float *v;
    ss_index_array pa, xa;
    int64_t r, c, nnz = 0, k = 0;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, dense, SS_KIND_DENSE);
    SS_CHECK(ss_check_shape(ctx, dense->rows, dense->cols, 0, 1));
    for (r = 0; r < dense->rows; r++) {
        const float *row = ss_dense_row(dense, r);
        for (c = 0; c < dense->cols; c++)
            nnz += row[c] != 0.0f;
    }
    SS_TRY(ss_alloc_array(ctx, dense->rows + 1, sizeof *ip, &owned[0]));
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof *ix, &owned[1]));
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof *v, &owned[2]));
    ip = owned[0];
    ix = owned[1];
    v = owned[2];
    ip[0] = 0;
    for (r = 0; r < dense->rows; r++) {
        const float *row = ss_dense_row(dense, r);
        for (c = 0; c < dense->cols; c++)
            if (row[c] != 0.0f) {
                ix[k] = (int32_t)c;
                v[k++] = row[c];
            }
        ip[r + 1] = k;
    }
    pa.i64 = ip;
    xa.i32 = ix;
    SS_TRY(csr_wrap(ctx, dense->rows, dense->cols, pa, 1, xa, 0, v, owned, out));
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, owned[0]);
    ss_free(ctx, owned[1]);
    ss_free(ctx, owned[2]);
    return rc;
}

void subsel_csr_free(subsel_csr *csr)
{
    int i;
    ss_allocator a;
    ss_keeper keeper;
    if (!ss_handle_release(csr, SS_KIND_CSR, __func__))
        return;
    a = csr->alloc;
    keeper = csr->keeper;
    for (i = 0; i < 3; i++)
        ss_free_raw(&a, csr->owned[i]);
    ss_free_raw(&a, atomic_load(&csr->indices32));
    ss_free_raw(&a, csr);
    /* Last: a view's parent may go with it (its arrays are the view's). */
    if (keeper.handle != NULL)
        keeper.release(keeper.handle);
}

int64_t subsel_csr_rows(const subsel_csr *csr)
{
    return ss_handle_is(csr, SS_KIND_CSR) ? csr->rows : 0;
}
int64_t subsel_csr_cols(const subsel_csr *csr)
{
    return ss_handle_is(csr, SS_KIND_CSR) ? csr->cols : 0;
}
int64_t subsel_csr_nnz(const subsel_csr *csr)
{
    return ss_handle_is(csr, SS_KIND_CSR) ? csr->nnz : 0;
}

int subsel_csr_index_type(const subsel_csr *csr)
{
    if (!ss_handle_is(csr, SS_KIND_CSR))
        return 0;
    return csr->idx64 ? SUBSEL_DTYPE_INT64 : SUBSEL_DTYPE_INT32;
}

/* The int32 copy of a matrix's int64 column indices, made on first use
 * (NULL when it cannot be allocated). It is a cache that does not change
 * what the matrix holds, so readers on several threads may race to make
 * it: the first to publish wins and the others free theirs. */
static const int32_t *indices32(const subsel_csr *csr)
{
    subsel_csr *m = (subsel_csr *)csr;
    int32_t *copy = atomic_load_explicit(&m->indices32, memory_order_acquire);
    int32_t *none = NULL;
    int64_t base, end, k;
    if (copy != NULL)
        return copy;
    base = index_at(m->indptr, m->ptr64, 0);
    end = index_at(m->indptr, m->ptr64, m->rows);
    copy = ss_alloc_raw(&m->alloc, (size_t)(end - base) * sizeof *copy);
    if (copy == NULL)
        return NULL;
    for (k = base; k < end; k++)
        copy[k - base] = (int32_t)m->indices.i64[k];
    if (!atomic_compare_exchange_strong_explicit(&m->indices32, &none, copy,
                                                 memory_order_acq_rel,
                                                 memory_order_acquire)) {
        ss_free_raw(&m->alloc, copy);
        copy = none;
    }
    return copy;
}

/* The arguments of subsel_csr_row / _v2. No context: the message is the
 * calling thread's. */
static int check_row_args(const subsel_csr *csr, int64_t row,
                          const void *indices, const void *values,
                          const void *count, const char *fn)
{
    const void *const args[3] = {indices, values, count};
    static const char *const names[3] = {"indices", "values", "count"};
    int i;
    SS_CHECK(ss_handle_check(NULL, csr, SS_KIND_CSR, fn, "csr"));
    for (i = 0; i < 3; i++)
        if (args[i] == NULL)
            return ss_fail(NULL, SUBSEL_E_INVALID, "%s: %s is NULL", fn,
                           names[i]);
    if (row < 0 || row >= csr->rows)
        return ss_fail(NULL, SUBSEL_E_INVALID,
                       "%s: row %lld is outside [0, %lld)", fn, (long long)row,
                       (long long)csr->rows);
    return SUBSEL_OK;
}

int subsel_csr_row(const subsel_csr *csr, int64_t row, const int32_t **indices,
                   const float **values, int64_t *count)
{
    int64_t start, end;
    SS_CHECK(check_row_args(csr, row, indices, values, count, "subsel_csr_row"));
    ss_csr_range(csr, row, &start, &end);
    if (csr->idx64) {
        const int32_t *copy = indices32(csr);
        if (copy == NULL)
            return ss_fail(NULL, SUBSEL_E_NOMEM,
                           "subsel_csr_row: no memory for the int32 copy of "
                           "the %lld column indices",
                           (long long)csr->nnz);
        *indices = copy + (start - index_at(csr->indptr, csr->ptr64, 0));
    } else {
        *indices = csr->indices.i32 + start;
    }
    *values = csr->values + start;
    *count = end - start;
    return SUBSEL_OK;
}

int subsel_csr_row_v2(const subsel_csr *csr, int64_t row, const void **indices,
                      const float **values, int64_t *count)
{
    int64_t start, end;
    SS_CHECK(check_row_args(csr, row, indices, values, count,
                            "subsel_csr_row_v2"));
    ss_csr_range(csr, row, &start, &end);
    *indices = ss_csr_col_addr(csr, start);
    *values = csr->values + start;
    *count = end - start;
    return SUBSEL_OK;
}

int subsel_csr_column_sums_v2(subsel_ctx *ctx, const subsel_csr *csr,
                              double *sums, int64_t capacity)
{
    int64_t k, first, last;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, csr, SS_KIND_CSR);
    SS_REQUIRE_NONNULL(ctx, sums);
    SS_CHECK(ss_check_capacity(ctx, "subsel_csr_column_sums", "sums",
                               capacity, csr->cols));
    /* One sequential pass in storage order: the sum of each column is taken
     * in row order, so the result is the same on every run and thread count
     * (a parallel version would need per-thread copies of the d sums). */
    memset(sums, 0, (size_t)csr->cols * sizeof *sums);
    first = index_at(csr->indptr, csr->ptr64, 0);
    last = index_at(csr->indptr, csr->ptr64, csr->rows);
    for (k = first; k < last; k++)
        sums[ss_csr_col(csr, k)] += (double)csr->values[k];
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
    SS_REQUIRE_CTX(ctx);
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
    SS_CHECK(csr_wrap(ctx, count, csr->cols,
                      index_offset(csr->indptr, csr->ptr64, first), csr->ptr64,
                      csr->indices, csr->idx64, csr->values, NULL, out));
    ss_handle_retain(csr);
    (*out)->keeper.handle = (void *)csr;
    (*out)->keeper.release = release_csr;
    return SUBSEL_OK;
}

int subsel_csr_gather_rows(subsel_ctx *ctx, const subsel_csr *csr,
                           const int64_t *rows, int64_t count,
                           subsel_csr **out)
{
    void *owned[3] = {NULL, NULL, NULL};
    size_t isize;
    int64_t *ip;
    ss_index_array pa, xa;
    int64_t i, nnz = 0;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, csr, SS_KIND_CSR);
    if (count < 0 || (count > 0 && rows == NULL))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_csr_gather_rows: %lld rows from %s",
                       (long long)count, rows ? "an array" : "NULL");
    for (i = 0; i < count; i++) {
        int64_t start, end;
        if (rows[i] < 0 || rows[i] >= csr->rows)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "subsel_csr_gather_rows: row %lld (entry %lld) is "
                           "outside [0, %lld)",
                           (long long)rows[i], (long long)i,
                           (long long)csr->rows);
        ss_csr_range(csr, rows[i], &start, &end);
        nnz += end - start;
    }
    /* int64 row pointers (any count of rows fits), indices in the width of
     * the parent's */
    isize = ss_csr_index_size(csr);
    SS_TRY(ss_alloc_array(ctx, count + 1, sizeof *ip, &owned[0]));
    SS_TRY(ss_alloc_array(ctx, nnz, isize, &owned[1]));
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof(float), &owned[2]));
    ip = owned[0];
    ip[0] = 0;
    for (i = 0; i < count; i++) {
        int64_t start, end, len;
        ss_csr_range(csr, rows[i], &start, &end);
        len = end - start;
        if (len > 0) {
            memcpy((char *)owned[1] + (size_t)ip[i] * isize,
                   ss_csr_col_addr(csr, start), (size_t)len * isize);
            memcpy((float *)owned[2] + ip[i], csr->values + start,
                   (size_t)len * sizeof(float));
        }
        ip[i + 1] = ip[i] + len;
    }
    pa.i64 = ip;
    xa.any = owned[1];
    SS_TRY(csr_wrap(ctx, count, csr->cols, pa, 1, xa, csr->idx64, owned[2],
                    owned, out));
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, owned[0]);
    ss_free(ctx, owned[1]);
    ss_free(ctx, owned[2]);
    return rc;
}
