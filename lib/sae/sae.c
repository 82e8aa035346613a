/* SPDX-License-Identifier: MIT */
/*
 * The encoder handle: building it from caller weights or from a folder of
 * .npy files (W_enc.npy, b_enc.npy, b_dec.npy), checking that the shapes
 * agree before any encoding, accessors and release. The encoding itself is
 * in encode.c.
 */
#include <stdio.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/fileio.h"
#include "matrix/matrix.h"
#include "matrix/npy.h"
#include "sae/sae.h"

/* Copies a bias vector (NULL: zeros) after checking it is finite. */
static int copy_bias(subsel_ctx *ctx, const float *src, int64_t n,
                     const char *name, float **out)
{
    int64_t bad = src ? ss_find_nonfinite(src, n) : -1;
    float *b = NULL;
    if (bad >= 0)
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "subsel_sae_create: %s[%lld] is not finite (%g)", name,
                       (long long)bad, (double)src[bad]);
    if (src != NULL) {
        SS_CHECK(ss_alloc_array(ctx, n, sizeof *b, &b));
        memcpy(b, src, (size_t)n * sizeof *b);
    } else {
        SS_CHECK(ss_calloc_array(ctx, n, sizeof *b, &b));
    }
    *out = b;
    return SUBSEL_OK;
}

int subsel_sae_create(subsel_ctx *ctx, const subsel_dense *w_enc,
                      const float *b_enc, const float *b_dec, subsel_sae **out)
{
    subsel_sae *sae = NULL;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_handle_check(ctx, w_enc, SS_KIND_DENSE, "subsel_sae_create",
                             "w_enc"));
    if (w_enc->rows < 1 || w_enc->cols < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_create: W_enc is %lld x %lld; it needs at "
                       "least one feature (row) and one input (column)",
                       (long long)w_enc->rows, (long long)w_enc->cols);
    if (w_enc->rows > INT32_MAX)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_create: %lld features do not fit the int32 "
                       "column indices of the codes",
                       (long long)w_enc->rows);
    SS_TRY(ss_calloc_array(ctx, 1, sizeof *sae, &sae));
    ss_handle_init(sae, SS_KIND_SAE, &ctx->alloc);
    sae->features = w_enc->rows;
    sae->inputs = w_enc->cols;
    /* Kept for the encoder's life (subsel_sae_free releases it): the
     * caller may free W_enc at once. */
    ss_handle_retain(w_enc);
    sae->w_matrix = w_enc;
    sae->w_enc = w_enc->row0;
    sae->w_ld = w_enc->stride;
    SS_TRY(copy_bias(ctx, b_enc, sae->features, "b_enc", &sae->b_enc));
    SS_TRY(copy_bias(ctx, b_dec, sae->inputs, "b_dec", &sae->b_dec));
    *out = sae;
    return SUBSEL_OK;
cleanup:
    subsel_sae_free(sae);
    return rc;
}

void subsel_sae_free(subsel_sae *sae)
{
    ss_allocator a;
    if (!ss_handle_release(sae, SS_KIND_SAE, __func__))
        return;
    a = sae->alloc;
    subsel_dense_free((subsel_dense *)sae->w_matrix);
    ss_free_raw(&a, sae->b_enc);
    ss_free_raw(&a, sae->b_dec);
    ss_free_raw(&a, sae);
}

int64_t subsel_sae_inputs(const subsel_sae *sae)
{
    return ss_handle_is(sae, SS_KIND_SAE) ? sae->inputs : 0;
}

int64_t subsel_sae_features(const subsel_sae *sae)
{
    return ss_handle_is(sae, SS_KIND_SAE) ? sae->features : 0;
}

/* The number of dimensions of the array in an .npy file: subsel's loader
 * reads a 1-D array as one column, and W_enc must really be a matrix. */
static int npy_ndim(subsel_ctx *ctx, const char *path, int *ndim)
{
    FILE *f = NULL;
    ss_file_reader r;
    ss_npy_header h;
    int rc = ss_open_read(ctx, path, &f);
    if (rc == SUBSEL_OK) {
        ss_file_reader_init(&r, ctx, f);
        rc = ss_npy_read_header(&r.base, &h);
        fclose(f);
    }
    if (rc < 0)
        return ss_fail_prefix(ctx, rc, "%s", path);
    *ndim = h.ndim;
    return SUBSEL_OK;
}

/* Loads a bias vector: a 1-D array (or 2-D with a dimension of 1) of
 * `want` values; the message names the file and what the size must match. */
static int load_bias(subsel_ctx *ctx, const char *path, int64_t want,
                     const char *matches, subsel_dense **out)
{
    subsel_dense *v = NULL;
    int64_t n;
    SS_CHECK(subsel_dense_load_npy(ctx, path, &v));
    n = v->rows * v->cols;
    if ((v->rows != 1 && v->cols != 1) || n != want) {
        int rc = ss_fail(ctx, SUBSEL_E_INVALID,
                         "%s: shape %lld x %lld, expected a vector of %lld "
                         "values (%s)",
                         path, (long long)v->rows, (long long)v->cols,
                         (long long)want, matches);
        subsel_dense_free(v);
        return rc;
    }
    *out = v;
    return SUBSEL_OK;
}

int subsel_sae_load(subsel_ctx *ctx, const char *dir, subsel_sae **out)
{
    static const char *const names[3] = {"W_enc.npy", "b_enc.npy",
                                         "b_dec.npy"};
    char *path[3] = {NULL, NULL, NULL};
    subsel_dense *w = NULL, *b_enc = NULL, *b_dec = NULL;
    size_t len;
    int rc = SUBSEL_OK, ndim = 0, i;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(ctx, dir);
    len = strlen(dir);
    for (i = 0; i < 3; i++) {
        size_t cap = len + strlen(names[i]) + 2;
        SS_TRY(ss_alloc_array(ctx, (int64_t)cap, 1, &path[i]));
        snprintf(path[i], cap, "%s%s%s", dir,
                 len > 0 && dir[len - 1] == '/' ? "" : "/", names[i]);
    }
    SS_TRY(npy_ndim(ctx, path[0], &ndim));
    if (ndim != 2)
        SS_TRY(ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: a %d-D array; W_enc must be 2-D (features x "
                       "inputs)",
                       path[0], ndim));
    SS_TRY(subsel_dense_load_npy(ctx, path[0], &w));
    if (w->rows != w->cols) {
        /* A transposed matrix (inputs x features, as some libraries save
         * it) is refused with a hint rather than guessed at. */
        int64_t n_enc = 0, n_dec = 0;
        int probe = subsel_npy_read_f64(ctx, path[1], NULL, 0, &n_enc);
        if (probe == SUBSEL_OK)
            probe = subsel_npy_read_f64(ctx, path[2], NULL, 0, &n_dec);
        /* A bias file that cannot give the hint is reported by its own
         * load below; a failed allocation is reported now. */
        if (probe == SUBSEL_E_NOMEM)
            SS_TRY(probe);
        if (probe == SUBSEL_OK && n_enc == w->cols && n_dec == w->rows)
            SS_TRY(ss_fail(ctx, SUBSEL_E_INVALID,
                           "%s: shape %lld x %lld looks transposed: b_enc "
                           "has %lld values and b_dec %lld, so W_enc must "
                           "be %lld x %lld (features x inputs)",
                           path[0], (long long)w->rows, (long long)w->cols,
                           (long long)n_enc, (long long)n_dec,
                           (long long)w->cols, (long long)w->rows));
    }
    SS_TRY(load_bias(ctx, path[1], w->rows,
                     "one per feature, the rows of W_enc", &b_enc));
    SS_TRY(load_bias(ctx, path[2], w->cols,
                     "one per input, the columns of W_enc", &b_dec));
    /* The encoder retains w; the cleanup drops this function's reference. */
    SS_TRY(subsel_sae_create(ctx, w, b_enc->row0, b_dec->row0, out));
cleanup:
    subsel_dense_free(w);
    subsel_dense_free(b_enc);
    subsel_dense_free(b_dec);
    for (i = 0; i < 3; i++)
        ss_free(ctx, path[i]);
    return rc;
}
