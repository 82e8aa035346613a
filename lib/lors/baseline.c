/* SPDX-License-Identifier: MIT */
/*
 * The coreset baselines the paper compares distillation with (Tables 2,
 * 3): a random sample, k-centre (greedy farthest-first) and herding, each
 * choosing real pairs. A pair is described by its image and its text
 * embedding, each scaled to unit length, side by side, so that neither
 * modality outweighs the other by its scale.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "lors/lors.h"
#include "matrix/matrix.h"

/* The pairs' descriptions: n x (di + dt), each half unit length (a zero
 * half stays zero). */
static int describe(subsel_ctx *ctx, const subsel_dense *im,
                    const subsel_dense *tx, double **out)
{
    const subsel_dense *src[2] = {im, tx};
    int64_t n = im->rows, d = im->cols + tx->cols, r, c, s;
    double *f;
    SS_CHECK(ss_alloc_array(ctx, n * d, sizeof *f, &f));
    for (r = 0; r < n; r++) {
        double *row = f + r * d;
        for (s = 0; s < 2; s++) {
            const float *v = ss_dense_row(src[s], r);
            double nn = 0.0;
            for (c = 0; c < src[s]->cols; c++)
                nn += (double)v[c] * v[c];
            nn = nn > 0.0 ? 1.0 / sqrt(nn) : 0.0;
            for (c = 0; c < src[s]->cols; c++)
                row[c] = v[c] * nn;
            row += src[s]->cols;
        }
    }
    *out = f;
    return SUBSEL_OK;
}

static double sqdist(int64_t d, const double *a, const double *b)
{
    double s = 0.0;
    int64_t c;
    for (c = 0; c < d; c++)
        s += (a[c] - b[c]) * (a[c] - b[c]);
    return s;
}

/* Farthest-first: from `first`, each step the unchosen pair farthest from
 * its nearest chosen one (ties: the lowest index). */
static void kcenter(int64_t n, int64_t d, const double *f, int64_t first,
                    int64_t count, double *near, unsigned char *taken,
                    int64_t *out)
{
    int64_t k, i, pick = first;
    for (i = 0; i < n; i++)
        near[i] = INFINITY;
    for (k = 0; k < count; k++) {
        const double *c = f + pick * d;
        int64_t best = -1;
        out[k] = pick;
        taken[pick] = 1;
        if (k + 1 == count)
            break;
        for (i = 0; i < n; i++) {
            double dd;
            if (taken[i])
                continue;
            dd = sqdist(d, f + i * d, c);
            if (dd < near[i])
                near[i] = dd;
            if (best < 0 || near[i] > near[best])
                best = i;
        }
        pick = best;
    }
}

/* Herding: each step the unchosen pair that brings the chosen pairs' mean
 * closest to the mean of all, i.e. the smallest |f_i|^2 - 2 <r, f_i> with
 * r = (k + 1) mean - (sum of the chosen). */
static void herding(int64_t n, int64_t d, const double *f, int64_t count,
                    double *work, unsigned char *taken, int64_t *out)
{
    double *mean = work, *sum = work + d, *r = work + 2 * d;
    int64_t k, i, c;
    memset(work, 0, sizeof *work * (size_t)(3 * d));
    for (i = 0; i < n; i++)
        for (c = 0; c < d; c++)
            mean[c] += f[i * d + c];
    for (c = 0; c < d; c++)
        mean[c] /= (double)n;
    for (k = 0; k < count; k++) {
        int64_t best = -1;
        double best_v = INFINITY;
        for (c = 0; c < d; c++)
            r[c] = (double)(k + 1) * mean[c] - sum[c];
        for (i = 0; i < n; i++) {
            double v = 0.0;
            if (taken[i])
                continue;
            for (c = 0; c < d; c++)
                v += f[i * d + c] * (f[i * d + c] - 2.0 * r[c]);
            if (v < best_v) {
                best_v = v;
                best = i;
            }
        }
        out[k] = best;
        taken[best] = 1;
        for (c = 0; c < d; c++)
            sum[c] += f[best * d + c];
    }
}

int subsel_lors_baseline(subsel_ctx *ctx, const subsel_lors *l, int method,
                         const subsel_dense *images, const subsel_dense *texts,
                         int64_t count, int64_t *indices)
{
    ss_rng rng;
    double *f = NULL, *work = NULL;
    int64_t *perm = NULL, n, d;
    unsigned char *taken = NULL;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, l, SS_KIND_LORS);
    SS_REQUIRE_NONNULL(ctx, indices);
    SS_CHECK(ss_lors_check_pairs(ctx, l, images, texts, 1, __func__));
    n = images->rows;
    d = images->cols + texts->cols;
    if (count < 1 || count > n)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: count %lld must be in [1, %lld], the pairs",
                       __func__, (long long)count, (long long)n);
    if (method < SUBSEL_LORS_BASELINE_RANDOM ||
        method > SUBSEL_LORS_BASELINE_HERDING)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: method %d is not a SUBSEL_LORS_BASELINE_*",
                       __func__, method);
    ss_rng_seed(&rng, (uint64_t)ctx->seed,
                SS_LORS_STREAM_BASELINE + (uint64_t)method);
    if (method == SUBSEL_LORS_BASELINE_RANDOM) {
        SS_TRY(ss_alloc_array(ctx, n, sizeof *perm, &perm));
        ss_lors_shuffle(&rng, n, perm);
        memcpy(indices, perm, sizeof *indices * (size_t)count);
        goto cleanup;
    }
    SS_TRY(describe(ctx, images, texts, &f));
    SS_TRY(ss_calloc_array(ctx, n, 1, &taken));
    if (method == SUBSEL_LORS_BASELINE_KCENTER) {
        SS_TRY(ss_alloc_array(ctx, n, sizeof *work, &work));
        kcenter(n, d, f, (int64_t)ss_rng_below(&rng, (uint64_t)n), count,
                work, taken, indices);
    } else {
        SS_TRY(ss_alloc_array(ctx, 3 * d, sizeof *work, &work));
        herding(n, d, f, count, work, taken, indices);
    }
cleanup:
    ss_free(ctx, f);
    ss_free(ctx, work);
    ss_free(ctx, perm);
    ss_free(ctx, taken);
    return rc;
}
