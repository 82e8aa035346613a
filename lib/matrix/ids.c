/* SPDX-License-Identifier: MIT */
/*
 * Ids: the user's name of every pool row (an integer, or fixed-width bytes
 * such as DataComp's uids), read from a .npy as the file holds them and
 * written back for a selection: in its order, sorted and each once, or as
 * DataComp's subset file (each 32-hex-digit uid as two uint64, sorted).
 * Reading and writing go through the one .npy parser and writer (npy.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/handle.h"
#include "matrix/fileio.h"
#include "matrix/npy.h"

/* Longer byte ids are not ids. */
#define MAX_BYTES_ID 4096

static int check_ids_header(subsel_ctx *ctx, const ss_npy_header *h)
{
    int integer = h->type == SS_NPY_I4 || h->type == SS_NPY_I8 ||
                  h->type == SS_NPY_INT_RAW;
    if (integer || (h->type == SS_NPY_BYTES && h->itemsize <= MAX_BYTES_ID))
        return SUBSEL_OK;
    return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                   "dtype '%s' is not an id type (integers of 1 to 8 bytes, "
                   "or bytes '|S<n>' up to n = %d, are)",
                   h->descr, MAX_BYTES_ID);
}

typedef struct ids_request {
    void **ids;
    ss_npy_header h;
} ids_request;

static int load_ids_cb(subsel_ctx *ctx, FILE *f, void *arg)
{
    ids_request *q = arg;
    return ss_npy_load_raw(ctx, f, check_ids_header, &q->h, q->ids);
}

int subsel_ids_load_npy(subsel_ctx *ctx, const char *path, void **ids,
                        int64_t *count, size_t *itemsize, char *dtype)
{
    ids_request q;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, ids);
    *ids = NULL;
    SS_REQUIRE_NONNULL(ctx, path);
    SS_REQUIRE_NONNULL(ctx, count);
    SS_REQUIRE_NONNULL(ctx, itemsize);
    SS_REQUIRE_NONNULL(ctx, dtype);
    q.ids = ids;
    SS_CHECK(ss_read_file(ctx, path, load_ids_cb, &q));
    *count = q.h.count;
    *itemsize = q.h.itemsize;
    snprintf(dtype, SUBSEL_IDS_DTYPE_MAX, "%s", q.h.descr);
    return SUBSEL_OK;
}

/* ---- writing ------------------------------------------------------------ */

/* What a dtype says of its ids: their bytes, and how they compare. */
typedef struct id_kind {
    size_t itemsize;
    int is_signed; /* integers */
    int is_bytes;
} id_kind;

static int kind_of(subsel_ctx *ctx, const char *dtype, id_kind *k)
{
    ss_npy_header h;
    char dict[96];
    int n;
    memset(&h, 0, sizeof h);
    n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
                                    "'shape': (1,), }", dtype);
    if (n <= 0 || (size_t)n >= sizeof dict ||
        ss_npy_parse_dict(ctx, dict, (size_t)n, &h) != SUBSEL_OK ||
        check_ids_header(ctx, &h) != SUBSEL_OK)
        return ss_fail(ctx, SUBSEL_E_INVALID, "dtype '%s' is not an id type",
                       dtype);
    k->itemsize = h.itemsize;
    k->is_bytes = h.type == SS_NPY_BYTES;
    k->is_signed = dtype[1] == 'i';
    return SUBSEL_OK;
}

/* An integer id as an unsigned number that orders as the id: signed ids
 * have their sign bit flipped. */
static uint64_t ordered_value(const unsigned char *p, const id_kind *k)
{
    uint64_t v = 0;
    size_t i;
    for (i = k->itemsize; i-- > 0;)
        v = v << 8 | p[i];
    if (k->is_signed)
        v ^= (uint64_t)1 << (8 * k->itemsize - 1);
    return v;
}

static int compare_ids(const unsigned char *a, const unsigned char *b,
                       const id_kind *k)
{
    uint64_t x, y;
    if (k->is_bytes) /* NumPy's order of NUL-padded bytes */
        return memcmp(a, b, k->itemsize);
    x = ordered_value(a, k);
    y = ordered_value(b, k);
    return (x > y) - (x < y);
}

/* qsort has no user pointer: the kind of the ids being sorted (one sort at
 * a time per thread). */
static _Thread_local const id_kind *sorting;

static int compare_for_qsort(const void *a, const void *b)
{
    return compare_ids(a, b, sorting);
}

/* Sorts n ids of k in place and drops repeats; returns how many are left. */
static int64_t sort_unique(unsigned char *ids, int64_t n, const id_kind *k)
{
    int64_t i, kept = 0;
    sorting = k;
    qsort(ids, (size_t)n, k->itemsize, compare_for_qsort);
    for (i = 0; i < n; i++)
        if (kept == 0 || compare_ids(ids + (size_t)(kept - 1) * k->itemsize,
                                     ids + (size_t)i * k->itemsize, k) != 0) {
            if (kept != i)
                memcpy(ids + (size_t)kept * k->itemsize,
                       ids + (size_t)i * k->itemsize, k->itemsize);
            kept++;
        }
    return kept;
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A uid (32 hex digits, or its 16 bytes) as DataComp's pair of uint64,
 * stored as 16 big-endian bytes, which memcmp orders as the pair. */
static int datacomp_uid(subsel_ctx *ctx, const unsigned char *id,
                        const id_kind *k, int64_t row, unsigned char out[16])
{
    int i;
    if (k->itemsize == 16) {
        memcpy(out, id, 16);
        return SUBSEL_OK;
    }
    for (i = 0; i < 16; i++) {
        int hi = hex_digit(id[2 * i]), lo = hex_digit(id[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "the id of row %lld, '%.32s', is not 32 hex "
                           "digits (a DataComp uid)",
                           (long long)row, (const char *)id);
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return SUBSEL_OK;
}

typedef struct ids_file {
    const char *descr; /* the dict's literal */
    const unsigned char *data;
    int64_t count;
    size_t itemsize;
    int datacomp; /* data holds big-endian pairs: write them little-endian */
} ids_file;

static int write_ids_cb(subsel_ctx *ctx, FILE *f, void *arg)
{
    const ids_file *a = arg;
    ss_file_writer w;
    int64_t i;
    ss_file_writer_init(&w, ctx, f);
    SS_CHECK(ss_npy_write_header_literal(&w.base, a->descr, 1, &a->count));
    if (!a->datacomp)
        return w.base.write(&w.base, a->data, (size_t)a->count * a->itemsize);
    for (i = 0; i < a->count; i++) {
        unsigned char le[16];
        int b;
        for (b = 0; b < 8; b++) { /* each half's bytes reversed */
            le[b] = a->data[16 * i + 7 - b];
            le[8 + b] = a->data[16 * i + 15 - b];
        }
        SS_CHECK(w.base.write(&w.base, le, sizeof le));
    }
    return SUBSEL_OK;
}

int subsel_ids_save_npy(subsel_ctx *ctx, const char *path, const void *ids,
                        int64_t count, const char *dtype,
                        const int64_t *positions, int64_t npositions,
                        int flags)
{
    id_kind k;
    ids_file file;
    unsigned char *out = NULL;
    char quoted[SUBSEL_IDS_DTYPE_MAX + 2];
    size_t width;
    int64_t i;
    int rc = SUBSEL_OK, datacomp = (flags & SUBSEL_IDS_DATACOMP) != 0;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, path);
    SS_REQUIRE_NONNULL(ctx, dtype);
    if (count > 0)
        SS_REQUIRE_NONNULL(ctx, ids);
    if (npositions > 0)
        SS_REQUIRE_NONNULL(ctx, positions);
    if (count < 0 || npositions < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID, "negative count");
    if (flags & ~(SUBSEL_IDS_SORTED | SUBSEL_IDS_DATACOMP))
        return ss_fail(ctx, SUBSEL_E_INVALID, "unknown flags %d", flags);
    SS_CHECK(kind_of(ctx, dtype, &k));
    if (datacomp && !(k.is_bytes && (k.itemsize == 32 || k.itemsize == 16)))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "DataComp uids are 32 hex digits ('|S32') or 16 "
                       "bytes ('|S16'), not '%s'", dtype);
    width = datacomp ? 16 : k.itemsize;
    SS_CHECK(ss_alloc_array(ctx, npositions > 0 ? npositions : 1, width, &out));
    for (i = 0; i < npositions; i++) {
        const unsigned char *id;
        if (positions[i] < 0 || positions[i] >= count)
            SS_TRY(ss_fail(ctx, SUBSEL_E_INVALID,
                           "position %lld is outside the %lld ids",
                           (long long)positions[i], (long long)count));
        id = (const unsigned char *)ids + (size_t)positions[i] * k.itemsize;
        if (datacomp)
            SS_TRY(datacomp_uid(ctx, id, &k, positions[i], out + (size_t)i * 16));
        else
            memcpy(out + (size_t)i * width, id, width);
    }
    file.count = npositions;
    if (datacomp) {
        id_kind pairs = {16, 0, 1}; /* big-endian pairs order as bytes */
        file.count = sort_unique(out, npositions, &pairs);
        file.descr = "[('f0', '<u8'), ('f1', '<u8')]";
    } else {
        if (flags & SUBSEL_IDS_SORTED)
            file.count = sort_unique(out, npositions, &k);
        snprintf(quoted, sizeof quoted, "'%s'", dtype);
        file.descr = quoted;
    }
    file.data = out;
    file.itemsize = width;
    file.datacomp = datacomp;
    SS_TRY(ss_write_atomic(ctx, path, write_ids_cb, &file));
cleanup:
    ss_free(ctx, out);
    return rc;
}
