/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the .npz reader (zip, inflate, the five .npy members
 * and the CSR checks): the input is read from memory (fmemopen) by the same
 * internal function subsel_csr_load_npz() uses, then from a regular file
 * (memory-mapped, arrays used in place), then again as a stream that
 * cannot seek (a pipe: read into memory first), with a progress callback
 * that cancels on a call the input chooses. Besides the sanitizers, it
 * checks the contract: a status from the documented set, a message on
 * failure, a handle exactly on success, and a matrix that passes the
 * library's own validation.
 */
#include "stream.h"

#include <stdlib.h>

#include "matrix/matrix.h"
#include "matrix/npz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load(subsel_ctx *ctx, FILE *f)
{
    subsel_csr *m = (subsel_csr *)ctx;
    int rc = ss_npz_load_csr(ctx, f, &m);
    if (!fuzz_status_ok(ctx, rc) || (rc == SUBSEL_OK) != (m != NULL))
        abort();
    if (m != NULL) {
        subsel_ctx_set_progress(ctx, NULL, NULL);
        if (ss_csr_validate(ctx, m, NULL, 0) != SUBSEL_OK)
            abort();
    }
    subsel_csr_free(m);
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
        load(ctx, f);
        fclose(f);
    }
    f = fuzz_file_open(data, size);
    if (f != NULL) {
        load(ctx, f);
        fclose(f);
    }
    fuzz_cancel_install(ctx, &cancel, data, size);
    f = fuzz_stream_open(&s, data, size);
    if (f != NULL) {
        load(ctx, f);
        fclose(f);
    }
    subsel_ctx_free(ctx);
    return 0;
}
