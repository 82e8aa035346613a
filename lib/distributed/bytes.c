/* SPDX-License-Identifier: MIT */
/*
 * A summary as bytes, for sending between processes and for files
 * (docs/distributed.md has the layout). Little-endian, fixed-width fields;
 * a CRC-32 of everything before it at the end, so truncation and
 * corruption are caught before anything is parsed. The reader checks every
 * size against the bytes present before it allocates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "distributed/distributed.h"
#include "matrix/fileio.h"
#include "matrix/matrix.h"
#include "matrix/zip.h" /* zlib's crc32 */

static const unsigned char MAGIC[8] = {'S', 'U', 'B', 'S', 'E', 'L', 'S', 'M'};
#define FORMAT_VERSION 1
#define FLAG_LABELS 1u
#define HEADER_BYTES 64

/* The bytes a summary of `count` rows and `nnz` entries takes, or -1 when
 * that does not fit an int64. */
static int64_t size_for(int64_t count, int64_t nnz, int labels)
{
    /* ids, gains, indptr (count + 1): 8 bytes each; indices, values: 4 */
    const int64_t limit = INT64_MAX / 64;
    if (count < 0 || nnz < 0 || count > limit || nnz > limit)
        return -1;
    return HEADER_BYTES + 8 * count + 8 * count + 8 * (count + 1) + 4 * nnz +
           4 * nnz + (labels ? 4 * count : 0) + 4;
}

/* zlib's crc32 takes its length as uInt: longer data in steps. */
static uint32_t crc_of(const unsigned char *p, int64_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt step = n > (int64_t)0x40000000 ? 0x40000000u : (uInt)n;
        crc = crc32(crc, p, step);
        p += step;
        n -= step;
    }
    return (uint32_t)crc;
}

int subsel_summary_to_bytes(subsel_ctx *ctx, const subsel_summary *s,
                            void *buf, int64_t capacity, int64_t *size)
{
    const subsel_csr *m;
    unsigned char *p = buf;
    int64_t need, i, t, nnz;
    uint64_t bits;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, size);
    SS_REQUIRE_KIND(ctx, s, SS_KIND_SUMMARY);
    m = s->rows;
    nnz = m->nnz;
    need = size_for(s->count, nnz, s->labels != NULL);
    *size = need;
    if (buf == NULL && capacity == 0)
        return SUBSEL_OK;
    if (buf == NULL || capacity < need)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "a buffer of %lld bytes for a summary of %lld bytes",
                       (long long)capacity, (long long)need);
    memcpy(p, MAGIC, 8);
    ss_store_le32(p + 8, FORMAT_VERSION);
    ss_store_le32(p + 12, s->labels != NULL ? FLAG_LABELS : 0);
    ss_store_le64(p + 16, (uint64_t)s->total);
    ss_store_le64(p + 24, (uint64_t)s->count);
    ss_store_le64(p + 32, (uint64_t)m->cols);
    ss_store_le64(p + 40, (uint64_t)nnz);
    ss_store_le64(p + 48, (uint64_t)s->evaluations);
    memcpy(&bits, &s->value, 8);
    ss_store_le64(p + 56, bits);
    p += HEADER_BYTES;
    for (i = 0; i < s->count; i++, p += 8)
        ss_store_le64(p, (uint64_t)s->ids[i]);
    for (i = 0; i < s->count; i++, p += 8) {
        memcpy(&bits, &s->gains[i], 8);
        ss_store_le64(p, bits);
    }
    for (i = 0; i <= s->count; i++, p += 8)
        ss_store_le64(p, (uint64_t)(ss_csr_ptr(m, i) - ss_csr_ptr(m, 0)));
    for (t = ss_csr_ptr(m, 0); t < ss_csr_ptr(m, 0) + nnz; t++, p += 4)
        ss_store_le32(p, (uint32_t)ss_csr_col(m, t));
    for (t = ss_csr_ptr(m, 0); t < ss_csr_ptr(m, 0) + nnz; t++, p += 4) {
        uint32_t v;
        memcpy(&v, &m->values[t], 4);
        ss_store_le32(p, v);
    }
    if (s->labels != NULL)
        for (i = 0; i < s->count; i++, p += 4)
            ss_store_le32(p, (uint32_t)s->labels[i]);
    ss_store_le32(p, crc_of(buf, need - 4));
    return SUBSEL_OK;
}

static int corrupt(subsel_ctx *ctx, const char *what)
{
    return ss_fail(ctx, SUBSEL_E_FORMAT, "not a valid summary: %s", what);
}

int subsel_summary_from_bytes(subsel_ctx *ctx, const void *buf, int64_t size,
                              subsel_summary **out)
{
    const unsigned char *p = buf;
    int64_t total, count, cols, nnz, evaluations, i, need;
    uint32_t flags;
    uint64_t bits;
    double value;
    int64_t *ids = NULL, *indptr = NULL;
    double *gains = NULL;
    int32_t *indices = NULL, *labels = NULL;
    float *values = NULL;
    subsel_csr *rows = NULL;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    if (buf == NULL && size != 0)
        return ss_fail(ctx, SUBSEL_E_INVALID, "summary bytes are NULL");
    if (size < HEADER_BYTES + 4 || memcmp(p, MAGIC, 8) != 0)
        return corrupt(ctx, size < HEADER_BYTES + 4
                                ? "shorter than its header"
                                : "it does not begin with SUBSELSM");
    /* the checksum first: a damaged version field is damage, not a newer
     * format */
    if (crc_of(p, size - 4) != ss_load_le32(p + size - 4))
        return corrupt(ctx, "its CRC-32 does not match (truncated or damaged)");
    if (ss_load_le32(p + 8) != FORMAT_VERSION)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "summary format version %lu (this library reads %d)",
                       (unsigned long)ss_load_le32(p + 8), FORMAT_VERSION);
    flags = ss_load_le32(p + 12);
    total = (int64_t)ss_load_le64(p + 16);
    count = (int64_t)ss_load_le64(p + 24);
    cols = (int64_t)ss_load_le64(p + 32);
    nnz = (int64_t)ss_load_le64(p + 40);
    evaluations = (int64_t)ss_load_le64(p + 48);
    bits = ss_load_le64(p + 56);
    memcpy(&value, &bits, 8);
    if ((flags & ~FLAG_LABELS) != 0)
        return corrupt(ctx, "unknown flags");
    need = size_for(count, nnz, (flags & FLAG_LABELS) != 0);
    if (need < 0 || need != size)
        return corrupt(ctx, "its sizes do not match its length");
    if (total < 0 || count > total || cols < 0 || cols > INT32_MAX ||
        evaluations < 0)
        return corrupt(ctx, "a size is out of range");
    p += HEADER_BYTES;

    SS_TRY(ss_alloc_array(ctx, count, sizeof *ids, &ids));
    SS_TRY(ss_alloc_array(ctx, count, sizeof *gains, &gains));
    for (i = 0; i < count; i++, p += 8) {
        ids[i] = (int64_t)ss_load_le64(p);
        if (ids[i] < 0 || ids[i] >= total) {
            rc = corrupt(ctx, "a row id is outside the pool");
            goto cleanup;
        }
    }
    for (i = 0; i < count; i++, p += 8) {
        bits = ss_load_le64(p);
        memcpy(&gains[i], &bits, 8);
    }
    SS_TRY(ss_alloc_array(ctx, count + 1, sizeof *indptr, &indptr));
    for (i = 0; i <= count; i++, p += 8)
        indptr[i] = (int64_t)ss_load_le64(p);
    if (indptr[0] != 0 || indptr[count] != nnz) {
        rc = corrupt(ctx, "its row pointers do not span its entries");
        goto cleanup;
    }
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof *indices, &indices));
    SS_TRY(ss_alloc_array(ctx, nnz, sizeof *values, &values));
    for (i = 0; i < nnz; i++, p += 4)
        indices[i] = (int32_t)ss_load_le32(p);
    for (i = 0; i < nnz; i++, p += 4) {
        uint32_t v = ss_load_le32(p);
        memcpy(&values[i], &v, 4);
    }
    if (flags & FLAG_LABELS) {
        SS_TRY(ss_alloc_array(ctx, count, sizeof *labels, &labels));
        for (i = 0; i < count; i++, p += 4)
            labels[i] = (int32_t)ss_load_le32(p);
    }
    /* validates structure (monotone pointers, sorted in-range columns) and
     * values; owns the arrays from here, success or not */
    rc = ss_csr_adopt(ctx, count, cols, indptr, 1, indices, 0, values, &rows);
    indptr = NULL;
    indices = NULL;
    values = NULL;
    if (rc != SUBSEL_OK) {
        rc = ss_fail_prefix(ctx, rc, "not a valid summary: its rows");
        goto cleanup;
    }
    {
        /* distinct ids: sorted copy */
        int64_t *sorted = NULL;
        SS_TRY(ss_alloc_array(ctx, count, sizeof *sorted, &sorted));
        if (count > 0)
            memcpy(sorted, ids, (size_t)count * sizeof *sorted);
        qsort(sorted, (size_t)count, sizeof *sorted, ss_compare_int64);
        for (i = 1; i < count && sorted[i] != sorted[i - 1]; i++)
            ;
        ss_free(ctx, sorted);
        if (count > 1 && i < count) {
            rc = corrupt(ctx, "a row id appears twice");
            goto cleanup;
        }
    }
    return ss_summary_adopt(ctx, count, total, evaluations, value, ids, gains,
                            rows, labels, out);
cleanup:
    ss_free(ctx, ids);
    ss_free(ctx, gains);
    ss_free(ctx, indptr);
    ss_free(ctx, indices);
    ss_free(ctx, values);
    ss_free(ctx, labels);
    subsel_csr_free(rows);
    return rc;
}

/* ---- files -------------------------------------------------------------- */

static int write_summary(subsel_ctx *ctx, FILE *f, void *arg)
{
    const subsel_summary *s = arg;
    unsigned char *buf = NULL;
    int64_t size;
    int rc = SUBSEL_OK;
    SS_CHECK(subsel_summary_to_bytes(ctx, s, NULL, 0, &size));
    SS_CHECK(ss_alloc_array(ctx, size, 1, &buf));
    SS_TRY(subsel_summary_to_bytes(ctx, s, buf, size, &size));
    SS_TRY(ss_fwrite_all(ctx, f, buf, (size_t)size));
cleanup:
    ss_free(ctx, buf);
    return rc;
}

int subsel_summary_save(subsel_ctx *ctx, const subsel_summary *s,
                        const char *path)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, path);
    SS_REQUIRE_KIND(ctx, s, SS_KIND_SUMMARY);
    return ss_write_atomic(ctx, path, write_summary, (void *)s);
}

static int read_summary(subsel_ctx *ctx, FILE *f, void *arg)
{
    unsigned char *data = NULL;
    int64_t size = 0;
    int rc;
    SS_CHECK(ss_read_stream(ctx, f, &data, &size));
    rc = subsel_summary_from_bytes(ctx, data, size, arg);
    ss_free(ctx, data);
    return rc;
}

int subsel_summary_load(subsel_ctx *ctx, const char *path,
                        subsel_summary **out)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(ctx, path);
    return ss_read_file(ctx, path, read_summary, out);
}
