/* SPDX-License-Identifier: MIT */
/*
 * The Monosemanticity (MS) and Monotonicity (MT) scores of sparse codes
 * (SDM paper, section 3.4 and appendix I). The codes are turned once into
 * per-latent lists of (row, activation) -- a CSC-like transpose of the
 * activating entries -- and each latent is then scored on its own, by one
 * thread, in a fixed order of summation, so the result does not depend on
 * the thread count; the dot products go through the kernel table, whose
 * levels agree bit for bit. Work is O(nnz x d) in all, memory O(nnz +
 * rows + features + threads x d).
 *
 * MS is computed without pairs: with u = x / |x| over the n activating
 * rows, sum_{a != b} <u_a, u_b> = |sum u|^2 - n, so the mean pairwise
 * cosine costs one pass over the rows instead of n^2 / 2 products.
 */
#include <math.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "linalg/pairwise.h"
#include "matrix/matrix.h"
#include "sae/sae.h"

/* One activating entry of a latent's list. */
typedef struct activation {
    int64_t row;
    float value;
} activation;

/* Larger activation first, ties to the lower row (core/rank.h). */
static int by_activation(const void *pa, const void *pb)
{
    const activation *a = pa, *b = pb;
    return ss_rank_compare(a->value, a->row, b->value, b->row);
}

/* The activating entries (value > 0) of `codes`, grouped by latent:
 * latent i's are list[start[i] .. start[i + 1]), in ascending rows.
 * start has features + 1 entries; *list is allocated here. */
static int transpose_codes(subsel_ctx *ctx, const subsel_csr *codes,
                           int64_t *start, activation **list)
{
    int64_t features = codes->cols, *next = NULL, r, i, total = 0;
    int rc = SUBSEL_OK;
    *list = NULL;
    for (i = 0; i <= features; i++)
        start[i] = 0;
    for (r = 0; r < codes->rows; r++) {
        int64_t s, e, k;
        ss_csr_range(codes, r, &s, &e);
        for (k = s; k < e; k++)
            if (codes->values[k] > 0)
                start[ss_csr_col(codes, k) + 1]++;
    }
    for (i = 0; i < features; i++)
        start[i + 1] += start[i];
    total = start[features];
    SS_TRY(ss_alloc_array(ctx, total, sizeof **list, list));
    SS_TRY(ss_alloc_array(ctx, features, sizeof *next, &next));
    for (i = 0; i < features; i++)
        next[i] = start[i];
    for (r = 0; r < codes->rows; r++) {
        int64_t s, e, k;
        ss_csr_range(codes, r, &s, &e);
        for (k = s; k < e; k++) {
            float v = codes->values[k];
            if (v > 0) {
                activation *a = *list + next[ss_csr_col(codes, k)]++;
                a->row = r;
                a->value = v;
            }
        }
    }
cleanup:
    ss_free(ctx, next);
    if (rc < 0) {
        ss_free(ctx, *list);
        *list = NULL;
    }
    return rc;
}

/* Scores one latent from its n activating entries, sorting them in place
 * (larger activation first). inv_norm[r] is 1 / |x_r|, or 0 for a row of
 * zero norm; `sum` is scratch for d doubles. NaN for a score that has
 * fewer than 2 rows. */
static void score_latent(const ss_kernels *k, const subsel_dense *x,
                         const double *inv_norm, activation *a, int64_t n,
                         double *sum, double *ms, double *mt)
{
    int64_t d = x->cols, j, c, m = 0;
    double pairs = 0, sq = 0;
    qsort(a, (size_t)n, sizeof *a, by_activation);
    for (c = 0; c < d; c++)
        sum[c] = 0;
    for (j = 0; j < n; j++) {
        const float *row = ss_dense_row(x, a[j].row);
        double s = inv_norm[a[j].row];
        if (s == 0)
            continue; /* a zero row has no direction: no cosine */
        for (c = 0; c < d; c++)
            sum[c] += s * (double)row[c];
        m++;
    }
    for (c = 0; c < d; c++)
        sq += sum[c] * sum[c];
    *ms = m < 2 ? NAN : (sq - (double)m) / ((double)m * (double)(m - 1));
    for (j = 0; j + 1 < n; j++)
        pairs += k->dot_f32(ss_dense_row(x, a[j].row),
                            ss_dense_row(x, a[j + 1].row), d);
    *mt = n < 2 ? NAN : pairs / (double)(n - 1);
}

/* The end of the block of latents starting at `first`: latents up to
 * about `entries` activating entries in all (at least one latent), so
 * that progress moves evenly however the entries are spread. */
static int64_t block_end(const int64_t *start, int64_t features, int64_t first,
                         int64_t entries)
{
    int64_t last = first + 1;
    while (last < features && start[last + 1] - start[first] <= entries)
        last++;
    return last;
}

/* The mean of the scores that are not NaN, in latent order; NaN if none.
 * *count (may be NULL) gets how many there are. */
static double mean_of_scored(const double *score, int64_t features,
                             int64_t *count)
{
    double total = 0;
    int64_t i, n = 0;
    for (i = 0; i < features; i++)
        if (!isnan(score[i])) {
            total += score[i];
            n++;
        }
    if (count != NULL)
        *count = n;
    return n > 0 ? total / (double)n : NAN;
}

int subsel_sae_scores(subsel_ctx *ctx, const subsel_dense *x,
                      const subsel_csr *codes, double *ms, double *mt,
                      int64_t *ms_latents, int64_t *mt_latents,
                      double *ms_per_latent, int64_t ms_capacity,
                      double *mt_per_latent, int64_t mt_capacity)
{
    static const char fn[] = "subsel_sae_scores";
    const ss_kernels *k;
    int64_t rows, features, d, r, i, first, entries, *start = NULL;
    double *inv_norm = NULL, *ms_l = NULL, *mt_l = NULL, *sums = NULL;
    activation *list = NULL;
    int threads, rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, x, SS_KIND_DENSE);
    SS_REQUIRE_KIND(ctx, codes, SS_KIND_CSR);
    rows = x->rows;
    d = x->cols;
    features = codes->cols;
    if (codes->rows != rows)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: codes has %lld rows but x has %lld (one code per "
                       "input row)",
                       fn, (long long)codes->rows, (long long)rows);
    if (ms_per_latent != NULL)
        SS_CHECK(ss_check_capacity(ctx, fn, "ms_per_latent", ms_capacity,
                                   features));
    if (mt_per_latent != NULL)
        SS_CHECK(ss_check_capacity(ctx, fn, "mt_per_latent", mt_capacity,
                                   features));
    k = ss_kernels_for(ctx);
    threads = ss_threads_for(ctx, features);

    SS_TRY(ss_alloc_array(ctx, rows, sizeof *inv_norm, &inv_norm));
    SS_TRY(ss_alloc_array(ctx, features + 1, sizeof *start, &start));
    SS_TRY(ss_alloc_array(ctx, features, sizeof *ms_l, &ms_l));
    SS_TRY(ss_alloc_array(ctx, features, sizeof *mt_l, &mt_l));
    SS_TRY(ss_alloc_array(ctx, d > 0 ? (int64_t)threads * d : 1,
                          sizeof *sums, &sums));

    /* stage "scores": latents scored, features */
    SS_TRY(ss_progress(ctx, "scores", 0, features));
    ss_row_sqnorms(ctx, x->row0, x->stride, rows, d, inv_norm);
    for (r = 0; r < rows; r++) {
        /* finite floats cannot overflow a double sum of squares: a
         * non-finite one is a value the caller changed after lending it */
        if (!isfinite(inv_norm[r])) {
            int64_t c = ss_find_nonfinite(ss_dense_row(x, r), d);
            SS_TRY(ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "%s: x has a value that is not finite at row "
                           "%lld, column %lld",
                           fn, (long long)r, (long long)(c < 0 ? 0 : c)));
        }
        inv_norm[r] = inv_norm[r] > 0 ? 1.0 / sqrt(inv_norm[r]) : 0.0;
    }
    SS_TRY(transpose_codes(ctx, codes, start, &list));

    /* about 1% of the entries per block (at least 4096): a report and a
     * chance to cancel every so often, and enough latents per parallel
     * region to keep the threads busy */
    entries = start[features] / 100;
    if (entries < 4096)
        entries = 4096;
    for (first = 0; first < features;) {
        int64_t last = block_end(start, features, first, entries);
#pragma omp parallel for num_threads(threads < last - first ? threads : (int)(last - first)) schedule(dynamic, 1)
        for (i = first; i < last; i++) {
#ifdef _OPENMP
            double *sum = sums + (int64_t)omp_get_thread_num() * d;
#else
            double *sum = sums;
#endif
            score_latent(k, x, inv_norm, list + start[i], start[i + 1] - start[i],
                         sum, &ms_l[i], &mt_l[i]);
        }
        first = last;
        SS_TRY(ss_progress(ctx, "scores", first, features));
    }

    /* nothing reaches the caller before every latent is scored */
    for (i = 0; ms_per_latent != NULL && i < features; i++)
        ms_per_latent[i] = ms_l[i];
    for (i = 0; mt_per_latent != NULL && i < features; i++)
        mt_per_latent[i] = mt_l[i];
    {
        double ms_mean = mean_of_scored(ms_l, features, ms_latents);
        double mt_mean = mean_of_scored(mt_l, features, mt_latents);
        if (ms != NULL)
            *ms = ms_mean;
        if (mt != NULL)
            *mt = mt_mean;
    }
cleanup:
    ss_free(ctx, inv_norm);
    ss_free(ctx, start);
    ss_free(ctx, ms_l);
    ss_free(ctx, mt_l);
    ss_free(ctx, sums);
    ss_free(ctx, list);
    return rc;
}
