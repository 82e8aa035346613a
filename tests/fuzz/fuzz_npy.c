/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the .npy reader: the input is read from memory
 * (fmemopen) by the same internal functions subsel_dense_load_npy() and
 * subsel_npy_read_f64() / _i64() use, as a matrix and as vectors. Besides
 * the sanitizers, it checks the contract: a status from the documented set,
 * a message on failure, a handle exactly on success, finite values.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "matrix/matrix.h"
#include "matrix/npy.h"
#include "subsel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_status(subsel_ctx *ctx, int rc)
{
    if (rc > 0 || rc < SUBSEL_E_UNSUPPORTED || rc == SUBSEL_E_INVALID)
        abort();
    if (rc < 0 && subsel_ctx_last_error(ctx)[0] == '\0')
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    subsel_ctx *ctx;
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
    subsel_ctx_free(ctx);
    return 0;
}
