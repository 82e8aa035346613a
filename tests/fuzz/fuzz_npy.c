/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the .npy reader: the input is read from memory
 * (fmemopen) by the same internal functions subsel_dense_load_npy() and
 * subsel_npy_read_f64() / _i64() use, as a matrix and as vectors; then
 * again as a stream that cannot seek (a pipe's path: growing buffers, the
 * one-call vector reader), with a progress callback that cancels on a call
 * the input chooses. Besides the sanitizers, it checks the contract: a
 * status from the documented set, a message on failure, a handle or array
 * exactly on success, finite values. Last, the row reader of SAE training
 * (ss_npy_rows, pread on a real descriptor: a memfd) reads every row,
 * forwards and backwards. And the ids reader (subsel_ids_load_npy(), the
 * integer widths and '|S<n>' the number readers refuse) on the same file.
 */
#include "stream.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "matrix/matrix.h"
#include "matrix/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_status(subsel_ctx *ctx, int rc)
{
    if (!fuzz_status_ok(ctx, rc))
        abort();
}

static void load_dense(subsel_ctx *ctx, FILE *f)
{
    subsel_dense *d = (subsel_dense *)ctx;
    int rc = ss_npy_load_dense(ctx, f, &d);
    int64_t i, n;
    check_status(ctx, rc);
    if ((rc == SUBSEL_OK) != (d != NULL))
        abort();
    if (d == NULL)
        return;
    n = subsel_dense_rows(d) * subsel_dense_cols(d);
    for (i = 0; i < n; i++)
        if (!isfinite(subsel_dense_data(d)[i]))
            abort();
    subsel_dense_free(d);
}

static void read_vector(subsel_ctx *ctx, FILE *f, int type)
{
    int64_t buf[256], count = -1;
    int rc;
    rewind(f);
    rc = ss_npy_read_vector(ctx, f, type, NULL, 0, &count);
    if (rc == SUBSEL_OK && count < 0)
        abort();
    rewind(f);
    rc = ss_npy_read_vector(ctx, f, type, buf, 256, &count);
    if (rc == SUBSEL_E_INVALID && count <= 256)
        abort(); /* capacity was enough */
    if (rc != SUBSEL_E_INVALID)
        check_status(ctx, rc);
}

/* The one-call reader on a stream: an array exactly on success. */
static void load_vector(subsel_ctx *ctx, const uint8_t *data, size_t size,
                        int type)
{
    fuzz_stream s;
    FILE *f = fuzz_stream_open(&s, data, size);
    int64_t count = -1;
    void *values = ctx;
    int rc;
    if (f == NULL)
        return;
    rc = ss_npy_load_vector(ctx, f, type, &values, &count);
    check_status(ctx, rc);
    if ((rc == SUBSEL_OK) != (values != NULL) || (rc == SUBSEL_OK && count < 0))
        abort();
    subsel_array_free(values);
    fclose(f);
}

/* The rows reader on the input as a file: a status from the set; on
 * success every row readable in any order, with finite values. */
static void read_rows(subsel_ctx *ctx, const uint8_t *data, size_t size)
{
    char path[64];
    const char *paths[1] = {path};
    ss_npy_rows *r = NULL;
    int fd = memfd_create("fuzz_npy", 0);
    int rc;
    if (fd < 0)
        return;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    rc = ss_npy_rows_open(ctx, paths, 1, &r);
    /* an array of no rows or no columns is the caller's (empty) data set:
     * SUBSEL_E_INVALID, the one such status of a parser */
    if (!(rc == SUBSEL_E_INVALID &&
          strstr(subsel_ctx_last_error(ctx), "nothing to read") != NULL))
        check_status(ctx, rc);
    if ((rc == SUBSEL_OK) != (r != NULL))
        abort();
    if (r != NULL && ss_npy_rows_cols(r) <= 4096 && ss_npy_rows_count(r) <= 4096) {
        int64_t n = ss_npy_rows_count(r), d = ss_npy_rows_cols(r), i;
        int64_t *ids = malloc(sizeof *ids * (size_t)n);
        float *out = malloc(sizeof *out * (size_t)(n * d));
        if (ids != NULL && out != NULL) {
            for (i = 0; i < n; i++)
                ids[i] = i;
            rc = ss_npy_rows_read(ctx, r, ids, n, out);
            check_status(ctx, rc);
            for (i = 0; rc == SUBSEL_OK && i < n * d; i++)
                if (!isfinite(out[i]))
                    abort();
            for (i = 0; i < n; i++)
                ids[i] = n - 1 - i;
            check_status(ctx, ss_npy_rows_read(ctx, r, ids, n, out));
        }
        free(ids);
        free(out);
    }
    ss_npy_rows_close(ctx, r);
    close(fd);
}

/* The ids reader on the input as a file: a status from the set; on
 * success an array exactly, of count ids of itemsize bytes each, and the
 * dtype it names. */
static void load_ids(subsel_ctx *ctx, const uint8_t *data, size_t size)
{
    char path[64], dtype[SUBSEL_IDS_DTYPE_MAX];
    void *ids = ctx;
    int64_t count = -1;
    size_t itemsize = 0;
    int rc, fd = memfd_create("fuzz_ids", 0);
    if (fd < 0)
        return;
    if (write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        rc = subsel_ids_load_npy(ctx, path, &ids, &count, &itemsize, dtype);
        check_status(ctx, rc);
        if ((rc == SUBSEL_OK) != (ids != NULL))
            abort();
        if (rc == SUBSEL_OK &&
            (count < 0 || itemsize < 1 || itemsize > 4096 || dtype[0] == '\0' ||
             memchr(dtype, '\0', sizeof dtype) == NULL))
            abort();
        if (rc == SUBSEL_OK) { /* every byte of the ids readable */
            volatile unsigned char sum = 0;
            size_t b;
            for (b = 0; b < (size_t)count * itemsize; b++)
                sum ^= ((const unsigned char *)ids)[b];
            (void)sum;
        }
        subsel_array_free(ids);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    subsel_ctx *ctx;
    fuzz_cancel cancel;
    fuzz_stream s;
    FILE *f;
    if (size == 0 || subsel_ctx_create(&ctx) != SUBSEL_OK)
        return 0;
    f = fmemopen((void *)data, size, "rb");
    if (f != NULL) {
        load_dense(ctx, f);
        read_vector(ctx, f, SS_NPY_F8);
        read_vector(ctx, f, SS_NPY_I8);
        fclose(f);
    }
    f = fuzz_file_open(data, size); /* mapped, used in place */
    if (f != NULL) {
        load_dense(ctx, f);
        fclose(f);
    }
    fuzz_cancel_install(ctx, &cancel, data, size);
    f = fuzz_stream_open(&s, data, size);
    if (f != NULL) {
        load_dense(ctx, f);
        fclose(f);
    }
    load_vector(ctx, data, size, SS_NPY_F8);
    load_vector(ctx, data, size, SS_NPY_I8);
    subsel_ctx_set_progress(ctx, NULL, NULL);
    read_rows(ctx, data, size);
    load_ids(ctx, data, size);
    subsel_ctx_free(ctx);
    return 0;
}
