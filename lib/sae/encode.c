/* SPDX-License-Identifier: MIT */
/*
 * Batched encoding of dense rows into TopK sparse codes. Per batch of rows:
 * centre the rows on b_dec, one BLIS sgemm against W_enc (threaded by
 * BLIS), then the per-row selection of topk.c in parallel over rows, each
 * row writing into its own k slots of the output; the slots are then packed
 * into CSR order. Memory beyond the result is O(batch x features).
 *
 * Why centre the rows rather than fold b_dec into the bias
 * (W (x - b_dec) = W x - W b_dec): b_dec is usually close to the mean of
 * the embeddings, so W x and W b_dec are large and nearly cancel; centring
 * first keeps the float product accurate, and costs one pass over the batch
 * against 2 x features flops per input value for the product.
 */
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "linalg/blas.h"
#include "matrix/matrix.h"
#include "sae/sae.h"

int64_t ss_sae_batch_rows(int64_t features, int64_t rows)
{
    const int64_t budget = (int64_t)64 << 20; /* bytes of pre-activations */
    int64_t b = budget / ((features > 0 ? features : 1) * (int64_t)sizeof(float));
    if (b < 16)
        b = 16;
    if (b > 2048)
        b = 2048;
    if (b > rows)
        b = rows;
    return b < 1 ? 1 : b;
}

/* xc = x[rows] - b_dec, row by row (rows of x `ld` floats apart). */
static void centre_rows(const subsel_ctx *ctx, const float *x, int64_t ld,
                        int64_t rows, int64_t inputs, const float *b_dec,
                        float *xc)
{
    int64_t r;
#pragma omp parallel for num_threads(ss_threads_for(ctx, rows)) schedule(static)
    for (r = 0; r < rows; r++) {
        const float *src = x + r * ld;
        float *dst = xc + r * inputs;
        int64_t c;
        for (c = 0; c < inputs; c++)
            dst[c] = src[c] - b_dec[c];
    }
}

int ss_sae_scratch_alloc(subsel_ctx *ctx, const ss_allocator *a,
                         int64_t features, int64_t k, int parts,
                         ss_sae_scratch *s)
{
    s->parts = parts;
    s->work_len = ss_sae_topk_work(features, k);
    s->heap = NULL;
    s->work = NULL;
    SS_CHECK(ss_alloc_with(ctx, a, parts * k, sizeof *s->heap, &s->heap));
    return ss_alloc_with(ctx, a, parts * s->work_len, sizeof *s->work,
                         &s->work);
}

void ss_sae_scratch_free(const ss_allocator *a, ss_sae_scratch *s)
{
    ss_free_raw(a, s->heap);
    ss_free_raw(a, s->work);
    s->heap = NULL;
    s->work = NULL;
}

/* Selects the code of every row of the batch into the row's k slots of
 * indices / values (row i at offset i * k); counts[i] is the number kept,
 * or -1 for a row with a non-finite activation. The rows are dealt into
 * `parts` interleaved parts, one per thread, each with its own scratch. */
static void select_rows(float *act, int64_t rows, int64_t features,
                        const float *b_enc, int64_t k,
                        const ss_sae_scratch *s, int32_t *indices,
                        float *values, int64_t *counts)
{
    int64_t p;
#pragma omp parallel for num_threads(s->parts) schedule(static, 1)
    for (p = 0; p < s->parts; p++) {
        int64_t r;
        for (r = p; r < rows; r += s->parts)
            counts[r] = ss_sae_topk_row(act + r * features, b_enc, features,
                                        k, s->heap + p * k,
                                        s->work + p * s->work_len,
                                        indices + r * k, values + r * k);
    }
}

void ss_sae_code_rows(const subsel_ctx *ctx, const ss_sae_weights *w,
                      const float *x, int64_t ld, int64_t rows, int64_t k,
                      const ss_sae_scratch *s, float *xc, float *act,
                      int32_t *indices, float *values, int64_t *counts)
{
    centre_rows(ctx, x, ld, rows, w->inputs, w->b_dec, xc);
    ss_sgemm(ctx, 0, 1, rows, w->features, w->inputs, 1.0f, xc, w->inputs,
             w->w_enc, w->w_ld, 0.0f, act, w->features);
    select_rows(act, rows, w->features, w->b_enc, k, s, indices, values,
                counts);
}

/* Packs the codes of rows r0 .. r0 + nb - 1, each in its k slots, after
 * the *nnz entries already in CSR order, and sets their row pointers. Row
 * r0 + i starts at (r0 + i) * k >= *nnz, so entries only move towards the
 * front. Fails for a row with a non-finite activation (count -1). */
static int pack_batch(subsel_ctx *ctx, int64_t r0, int64_t nb, int64_t k,
                      const int64_t *counts, int32_t *indices, float *values,
                      int64_t *indptr, int64_t *nnz)
{
    int64_t i;
    for (i = 0; i < nb; i++) {
        int64_t c = counts[i], from = (r0 + i) * k;
        if (c < 0)
            return ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "subsel_sae_encode: row %lld has an activation "
                           "that is not finite (the product overflows float)",
                           (long long)(r0 + i));
        if (from != *nnz && c > 0) {
            memmove(indices + *nnz, indices + from, (size_t)c * sizeof *indices);
            memmove(values + *nnz, values + from, (size_t)c * sizeof *values);
        }
        *nnz += c;
        indptr[r0 + i + 1] = *nnz;
    }
    return SUBSEL_OK;
}

/* Shrinks the value and index arrays to `nnz` entries when that frees a
 * quarter of them or more; keeps them as they are when it cannot allocate
 * (the result is right either way, only larger). */
static void shrink(subsel_ctx *ctx, int64_t nnz, int64_t capacity,
                   int32_t **indices, float **values)
{
    int32_t *ix;
    float *v;
    if (nnz > capacity - capacity / 4)
        return;
    ix = ss_alloc_raw(&ctx->alloc, (size_t)nnz * sizeof *ix);
    v = ss_alloc_raw(&ctx->alloc, (size_t)nnz * sizeof *v);
    if (ix == NULL || v == NULL) {
        ss_free_raw(&ctx->alloc, ix);
        ss_free_raw(&ctx->alloc, v);
        return;
    }
    if (nnz > 0) {
        memcpy(ix, *indices, (size_t)nnz * sizeof *ix);
        memcpy(v, *values, (size_t)nnz * sizeof *v);
    }
    ss_free(ctx, *indices);
    ss_free(ctx, *values);
    *indices = ix;
    *values = v;
}

int subsel_sae_encode(subsel_ctx *ctx, const subsel_sae *sae,
                      const subsel_dense *x, int64_t k, subsel_csr **out)
{
    int64_t *indptr = NULL, *counts = NULL;
    int32_t *indices = NULL;
    float *values = NULL, *xc = NULL, *act = NULL;
    ss_sae_scratch scratch = {NULL, NULL, 0, 1};
    ss_sae_weights w;
    int64_t rows, features, inputs, batch, capacity, nnz = 0, r0;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, sae, SS_KIND_SAE);
    SS_REQUIRE_KIND(ctx, x, SS_KIND_DENSE);
    rows = x->rows;
    features = sae->features;
    inputs = sae->inputs;
    if (x->cols != inputs)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_encode: x has %lld columns but the encoder "
                       "takes %lld inputs (the columns of W_enc)",
                       (long long)x->cols, (long long)inputs);
    if (k < 1 || k > features)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_encode: k = %lld is outside [1, %lld] (the "
                       "number of features)",
                       (long long)k, (long long)features);
    if (rows > INT64_MAX / k)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_encode: %lld rows x k = %lld overflows",
                       (long long)rows, (long long)k);
    capacity = rows * k;
    batch = ss_sae_batch_rows(features, rows);
    if (inputs > INT64_MAX / (batch + 1))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_encode: %lld inputs per row overflow the "
                       "batch buffer",
                       (long long)inputs);
    w.features = features;
    w.inputs = inputs;
    w.w_enc = sae->w_enc;
    w.w_ld = sae->w_ld;
    w.b_enc = sae->b_enc;
    w.b_dec = sae->b_dec;

    SS_TRY(ss_alloc_array(ctx, rows + 1, sizeof *indptr, &indptr));
    SS_TRY(ss_alloc_array(ctx, capacity, sizeof *indices, &indices));
    SS_TRY(ss_alloc_array(ctx, capacity, sizeof *values, &values));
    SS_TRY(ss_calloc_array(ctx, batch * inputs, sizeof *xc, &xc));
    SS_TRY(ss_alloc_array(ctx, batch * features, sizeof *act, &act));
    SS_TRY(ss_alloc_array(ctx, batch, sizeof *counts, &counts));
    SS_TRY(ss_sae_scratch_alloc(ctx, &ctx->alloc, features, k,
                                ss_threads_for(ctx, batch), &scratch));

    indptr[0] = 0;
    /* stage "encode": 0 before the first batch, rows after the last */
    SS_TRY(ss_progress(ctx, "encode", 0, rows));
    for (r0 = 0; r0 < rows; r0 += batch) {
        int64_t nb = rows - r0 < batch ? rows - r0 : batch;
        ss_sae_code_rows(ctx, &w, ss_dense_row(x, r0), x->stride, nb, k,
                         &scratch, xc, act, indices + r0 * k, values + r0 * k,
                         counts);
        SS_TRY(pack_batch(ctx, r0, nb, k, counts, indices, values, indptr,
                          &nnz));
        SS_TRY(ss_progress(ctx, "encode", r0 + nb, rows));
    }
    shrink(ctx, nnz, capacity, &indices, &values);
    rc = ss_csr_adopt(ctx, rows, features, indptr, 1, indices, 0, values, out);
    indptr = NULL; /* adopted, or freed by ss_csr_adopt */
    indices = NULL;
    values = NULL;
cleanup:
    ss_free(ctx, indptr);
    ss_free(ctx, indices);
    ss_free(ctx, values);
    ss_free(ctx, xc);
    ss_free(ctx, act);
    ss_free(ctx, counts);
    ss_sae_scratch_free(&ctx->alloc, &scratch);
    return rc;
}
