/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the summary parser (subsel_summary_from_bytes, which
 * subsel_summary_load reads files with). Besides the sanitizers, it checks
 * the contract: a status from the documented set, a message on failure, a
 * handle exactly on success; and that what parses is canonical: written
 * back, it gives the input's bytes, and its rows and selection agree with
 * its count. Each input is parsed twice: as it is, and with its last four
 * bytes replaced by the CRC-32 of the rest, so that the checks behind the
 * checksum are reached too.
 */
#include "stream.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse(const uint8_t *data, size_t size)
{
    subsel_ctx *ctx = NULL;
    subsel_summary *s = (subsel_summary *)1;
    subsel_selection *sel = NULL;
    subsel_csr *rows = NULL;
    unsigned char *again;
    int64_t written = 0;
    int rc;
    if (subsel_ctx_create(&ctx) != SUBSEL_OK)
        return;
    rc = subsel_summary_from_bytes(ctx, data, (int64_t)size, &s);
    if (!fuzz_status_ok(ctx, rc) || (rc == SUBSEL_OK) != (s != NULL))
        abort();
    if (s != NULL) {
        again = malloc(size > 0 ? size : 1);
        if (again == NULL ||
            subsel_summary_to_bytes(ctx, s, again, (int64_t)size, &written) != SUBSEL_OK ||
            written != (int64_t)size || memcmp(again, data, size) != 0)
            abort();
        free(again);
        if (subsel_summary_selection(ctx, s, &sel) != SUBSEL_OK ||
            subsel_summary_rows(ctx, s, &rows) != SUBSEL_OK ||
            subsel_selection_count(sel) != subsel_summary_count(s) ||
            subsel_csr_rows(rows) != subsel_summary_count(s))
            abort();
        subsel_selection_free(sel);
        subsel_csr_free(rows);
        subsel_summary_free(s);
    }
    subsel_ctx_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *fixed;
    uLong crc;
    parse(data, size);
    if (size < 4 || (fixed = malloc(size)) == NULL)
        return 0;
    memcpy(fixed, data, size);
    crc = crc32(0L, fixed, (uInt)(size - 4));
    fixed[size - 4] = (uint8_t)crc;
    fixed[size - 3] = (uint8_t)(crc >> 8);
    fixed[size - 2] = (uint8_t)(crc >> 16);
    fixed[size - 1] = (uint8_t)(crc >> 24);
    parse(fixed, size);
    free(fixed);
    return 0;
}
