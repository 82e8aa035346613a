/* SPDX-License-Identifier: MIT */
/*
 * A list of 2-D .npy files seen as one matrix of rows, read a few rows at a
 * time without loading the files: the input of SAE training, whose data
 * need not fit in memory and is visited in a shuffled order. Headers are
 * parsed (and the files' lengths checked against them) once, at opening;
 * each read then takes the requested rows with pread, runs of consecutive
 * rows in one call, and converts them to float32.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/ctx.h"
#include "core/error.h"
#include "matrix/matrix.h"
#include "matrix/npy.h"

typedef struct rows_file {
    FILE *f;
    const char *path;  /* the caller's string: names the file in messages */
    int64_t first;     /* global index of its first row */
    int64_t rows;
    int64_t offset;    /* of the data, in bytes */
    int type;          /* SS_NPY_F2, _F4 or _F8 */
    size_t itemsize;
} rows_file;

struct ss_npy_rows {
    rows_file *files;
    int64_t count;     /* files */
    int64_t rows, cols;
    unsigned char *buf; /* raw bytes of one run of rows */
    int64_t buf_rows;
};

/* Reads and checks one file's header; the file stays open. */
static int open_one(subsel_ctx *ctx, const char *path, int64_t cols_wanted,
                    rows_file *rf, int64_t *cols)
{
    ss_file_reader r;
    ss_npy_header h;
    char shape[96];
    SS_CHECK(ss_open_read(ctx, path, &rf->f));
    rf->path = path;
    ss_file_reader_init(&r, ctx, rf->f);
    SS_CHECK(ss_npy_read_header(&r.base, &h));
    if (r.base.available == INT64_MAX)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "a stream (pipe) cannot be read in a shuffled order: "
                       "save it to a file");
    if (h.ndim != 2)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "the array has shape %s: rows of embeddings need 2 "
                       "dimensions",
                       ss_npy_shape_text(&h, shape, sizeof shape));
    if (h.type != SS_NPY_F2 && h.type != SS_NPY_F4 && h.type != SS_NPY_F8)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "dtype '%s': embeddings must be float16, float32 or "
                       "float64",
                       h.descr);
    if (h.fortran_order && h.shape[0] > 1 && h.shape[1] > 1)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "the array is in Fortran order, whose rows are not "
                       "contiguous: save np.ascontiguousarray(x)");
    if (cols_wanted >= 0 && h.shape[1] != cols_wanted)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "it has %lld columns where the first file has %lld",
                       (long long)h.shape[1], (long long)cols_wanted);
    SS_CHECK(ss_tell(ctx, rf->f, &rf->offset));
    rf->rows = h.shape[0];
    rf->type = h.type;
    rf->itemsize = h.itemsize;
    *cols = h.shape[1];
    return SUBSEL_OK;
}

int ss_npy_rows_open(subsel_ctx *ctx, const char *const *paths, int64_t count,
                     ss_npy_rows **out)
{
    ss_npy_rows *r = NULL;
    int64_t i, cols = -1;
    int rc = SUBSEL_OK;
    *out = NULL;
    if (count < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID, "no input files");
    SS_TRY(ss_calloc_array(ctx, 1, sizeof *r, &r));
    SS_TRY(ss_calloc_array(ctx, count, sizeof *r->files, &r->files));
    r->count = count;
    for (i = 0; i < count; i++) {
        if (paths[i] == NULL) {
            rc = ss_fail(ctx, SUBSEL_E_INVALID, "input path %lld is NULL",
                         (long long)i);
            goto cleanup;
        }
        rc = open_one(ctx, paths[i], cols, &r->files[i], &cols);
        if (rc != SUBSEL_OK) {
            rc = ss_fail_prefix(ctx, rc, "%s", paths[i]);
            goto cleanup;
        }
        r->files[i].first = r->rows;
        if (r->files[i].rows > INT64_MAX - r->rows) {
            rc = ss_fail(ctx, SUBSEL_E_INVALID, "the row count overflows");
            goto cleanup;
        }
        r->rows += r->files[i].rows;
    }
    r->cols = cols;
    if (cols < 1 || r->rows < 1) {
        rc = ss_fail(ctx, SUBSEL_E_INVALID,
                     "the inputs hold %lld rows of %lld columns: nothing to "
                     "read",
                     (long long)r->rows, (long long)cols);
        goto cleanup;
    }
    *out = r;
    return SUBSEL_OK;
cleanup:
    ss_npy_rows_close(ctx, r);
    return rc;
}

int64_t ss_npy_rows_count(const ss_npy_rows *r) { return r->rows; }
int64_t ss_npy_rows_cols(const ss_npy_rows *r) { return r->cols; }

/* The file holding global row `row` (binary search on first rows). */
static rows_file *file_of(const ss_npy_rows *r, int64_t row)
{
    int64_t lo = 0, hi = r->count - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (r->files[mid].first <= row)
            lo = mid;
        else
            hi = mid - 1;
    }
    return &r->files[lo];
}

/* Converts `count` raw little-endian values of a file's type to float;
 * the index of the first value that is not finite (or beyond float32),
 * or -1. */
static int64_t convert_run(const rows_file *rf, const unsigned char *raw,
                           int64_t count, float *out)
{
    int64_t i;
    for (i = 0; i < count; i++) {
        const unsigned char *p = raw + (size_t)i * rf->itemsize;
        double v;
        if (rf->type == SS_NPY_F2)
            v = ss_half_to_float(ss_load_le16(p));
        else if (rf->type == SS_NPY_F4) {
            uint32_t u = ss_load_le32(p);
            float fv;
            memcpy(&fv, &u, sizeof fv);
            v = fv;
        } else {
            uint64_t u = ss_load_le64(p);
            memcpy(&v, &u, sizeof v);
        }
        if (!isfinite(v) || fabs(v) > FLT_MAX)
            return i;
        out[i] = (float)v;
    }
    return -1;
}

/* pread of exactly n bytes at offset. */
static int pread_exact(subsel_ctx *ctx, const rows_file *rf, void *buf,
                       size_t n, int64_t offset)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(fileno(rf->f), (char *)buf + done, n - done,
                            (off_t)(offset + (int64_t)done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return ss_fail(ctx, SUBSEL_E_IO, "%s: %s", rf->path,
                           strerror(errno));
        if (got == 0)
            return ss_fail(ctx, SUBSEL_E_FORMAT,
                           "%s: the file ended while rows were read (it "
                           "changed after it was opened)",
                           rf->path);
        done += (size_t)got;
    }
    return SUBSEL_OK;
}

/* Most rows one pread brings: about 1 MiB. */
static int64_t run_cap(const ss_npy_rows *r)
{
    int64_t per = r->cols * 8, cap = ((int64_t)1 << 20) / per;
    return cap < 1 ? 1 : cap;
}

int ss_npy_rows_read(subsel_ctx *ctx, ss_npy_rows *r, const int64_t *ids,
                     int64_t n, float *out)
{
    int64_t i = 0, cap = run_cap(r);
    if (r->buf == NULL) {
        SS_CHECK(ss_alloc_array(ctx, cap * r->cols, 8, &r->buf));
        r->buf_rows = cap;
    }
    while (i < n) {
        const rows_file *rf;
        int64_t run = 1, local, bad, row_bytes;
        if (ids[i] < 0 || ids[i] >= r->rows)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "row %lld is outside the %lld rows of the inputs",
                           (long long)ids[i], (long long)r->rows);
        rf = file_of(r, ids[i]);
        local = ids[i] - rf->first;
        /* consecutive rows of the same file go in one read */
        while (i + run < n && run < cap && ids[i + run] == ids[i] + run &&
               local + run < rf->rows)
            run++;
        row_bytes = r->cols * (int64_t)rf->itemsize;
        SS_CHECK(pread_exact(ctx, rf, r->buf, (size_t)(run * row_bytes),
                             rf->offset + local * row_bytes));
        bad = convert_run(rf, r->buf, run * r->cols, out + i * r->cols);
        if (bad >= 0)
            return ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "%s: row %lld, column %lld is not a finite float32 "
                           "value",
                           rf->path, (long long)(local + bad / r->cols),
                           (long long)(bad % r->cols));
        i += run;
    }
    return SUBSEL_OK;
}

void ss_npy_rows_close(subsel_ctx *ctx, ss_npy_rows *r)
{
    int64_t i;
    if (r == NULL)
        return;
    for (i = 0; r->files != NULL && i < r->count; i++)
        if (r->files[i].f != NULL)
            fclose(r->files[i].f);
    ss_free(ctx, r->files);
    ss_free(ctx, r->buf);
    ss_free(ctx, r);
}
