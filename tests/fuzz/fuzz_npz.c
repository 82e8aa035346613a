/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the .npz reader (zip, inflate, the five .npy members
 * and the CSR checks): the input is read from memory (fmemopen) by the same
 * internal function subsel_csr_load_npz() uses. Besides the sanitizers, it
 * checks the contract: a status from the documented set, a message on
 * failure, a handle exactly on success, and a matrix that passes the
 * library's own validation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "matrix/matrix.h"
#include "matrix/npz.h"
#include "subsel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    subsel_ctx *ctx;
    subsel_csr *m;
    FILE *f;
    int rc;
    if (size == 0 || subsel_ctx_create(&ctx) != SUBSEL_OK)
        return 0;
    f = fmemopen((void *)data, size, "rb");
    if (f != NULL) {
        m = (subsel_csr *)ctx;
        rc = ss_npz_load_csr(ctx, f, &m);
        if (rc > 0 || rc < SUBSEL_E_UNSUPPORTED || rc == SUBSEL_E_INVALID ||
            (rc == SUBSEL_OK) != (m != NULL) ||
            (rc < 0 && subsel_ctx_last_error(ctx)[0] == '\0'))
            abort();
        if (m != NULL && ss_csr_validate(ctx, m->rows, m->cols, m->indptr,
                                         m->indices, m->values) != SUBSEL_OK)
            abort();
        subsel_csr_free(m);
        fclose(f);
    }
    subsel_ctx_free(ctx);
    return 0;
}
