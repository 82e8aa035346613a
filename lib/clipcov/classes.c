/* SPDX-License-Identifier: MIT */
/*
 * Latent classes of ClipCov: the user's labels (without label embeddings,
 * mapped to dense class numbers, so that per-class arrays are sized by the
 * number of distinct labels and not by the largest one: a single label of
 * 3e8 or INT64_MAX among 30 pairs is 30 pairs' worth of classes), or
 * zero-shot assignment of each pair to the label embedding closest in
 * cosine to its image embedding (as a CLIP zero-shot classifier does), then
 * the member lists of every class. Zero-shot scores come from BLIS sgemm
 * over fixed blocks of rows, one block per OpenMP iteration with a
 * single-threaded product (BLIS may change the last bits when it threads a
 * product itself), so the assignment does not depend on the thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "linalg/blas.h"
#include "matrix/matrix.h"
#include "clipcov/clipcov.h"

/* Score buffers hold about this many floats per thread. */
#define SCORE_FLOATS (1 << 20)
/* Blocks between two progress reports. */
#define BLOCKS_PER_REPORT 64

/* The class of the largest score[k] * inv_norm[k], ties to the lowest k. */
static int64_t best_class(const float *score, const double *inv_norm,
                          int64_t classes)
{
    int64_t k, best = 0;
    double top = -INFINITY;
    for (k = 0; k < classes; k++) {
        double s = (double)score[k] * inv_norm[k];
        if (ss_ranks_before(s, k, top, best)) {
            top = s;
            best = k;
        }
    }
    return best;
}

static int zero_shot(subsel_ctx *ctx, ss_clipcov *cc)
{
    const ss_kernels *kern = ss_kernels_for(ctx);
    const subsel_dense *y = cc->labels;
    int64_t K = cc->classes, d = cc->d, n = cc->n, k;
    int64_t rows = SCORE_FLOATS / (K > 0 ? K : 1), blocks, first;
    double *inv_norm = NULL;
    float *scores = NULL;
    int threads;
    int rc = SUBSEL_OK;

    if (K == 0)
        return n == 0 ? SUBSEL_OK
                      : ss_fail(ctx, SUBSEL_E_INVALID,
                                "subsel_clipcov_create: no label embeddings "
                                "to assign classes from");
    if (rows < 16)
        rows = 16;
    if (rows > 512)
        rows = 512;
    blocks = (n + rows - 1) / rows;
    threads = ss_threads_for(ctx, blocks);
    SS_TRY(ss_alloc_array(ctx, K, sizeof *inv_norm, &inv_norm));
    for (k = 0; k < K; k++) {
        const float *r = ss_dense_row(y, k);
        double norm = sqrt(kern->dot_f32(r, r, d));
        if (!(norm > 0) || !isfinite(norm)) {
            rc = ss_fail(ctx, SUBSEL_E_INVALID,
                         "subsel_clipcov_create: label embedding %lld has "
                         "norm 0 (or too large), so no cosine to it exists",
                         (long long)k);
            goto cleanup;
        }
        inv_norm[k] = 1.0 / norm;
    }
    SS_TRY(ss_alloc_array(ctx, (int64_t)threads * rows * K, sizeof *scores,
                          &scores));
    for (first = 0; first < blocks; first += BLOCKS_PER_REPORT) {
        int64_t last = first + BLOCKS_PER_REPORT < blocks
                           ? first + BLOCKS_PER_REPORT
                           : blocks,
                b;
        SS_TRY(ss_progress(ctx, "clipcov zero-shot", first * rows, n));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (b = first; b < last; b++) {
            int me = 0;
            int64_t r0 = b * rows, m = n - r0 < rows ? n - r0 : rows, r;
            float *s;
#ifdef _OPENMP
            me = omp_get_thread_num();
#endif
            s = scores + (int64_t)me * rows * K;
            ss_sgemm_serial(0, 1, m, K, d, 1.0f, ss_dense_row(cc->image, r0),
                            cc->image->stride, y->row0, y->stride, 0.0f, s, K);
            for (r = 0; r < m; r++)
                cc->class_of[r0 + r] = best_class(s + r * K, inv_norm, K);
        }
    }
    /* stage "clipcov zero-shot": 0 before the first block (above), n once
     * after the last */
    SS_TRY(ss_progress(ctx, "clipcov zero-shot", n, n));
cleanup:
    ss_free(ctx, inv_norm);
    ss_free(ctx, scores);
    return rc;
}

/* class_start by counting, members in ascending index order, inv_size. */
static int build_members(subsel_ctx *ctx, ss_clipcov *cc)
{
    int64_t K = cc->classes, i, k;
    int64_t *next = NULL;
    int rc = SUBSEL_OK;
    SS_TRY(ss_calloc_array(ctx, K + 1, sizeof *cc->class_start, &cc->class_start));
    SS_TRY(ss_alloc_array(ctx, cc->n, sizeof *cc->members, &cc->members));
    SS_TRY(ss_alloc_array(ctx, K, sizeof *cc->inv_size, &cc->inv_size));
    SS_TRY(ss_alloc_array(ctx, K, sizeof *next, &next));
    for (i = 0; i < cc->n; i++)
        cc->class_start[cc->class_of[i] + 1]++;
    for (k = 0; k < K; k++) {
        int64_t size = cc->class_start[k + 1];
        cc->inv_size[k] = size > 0 ? 1.0 / (double)size : 0.0;
        cc->class_start[k + 1] += cc->class_start[k];
        next[k] = cc->class_start[k];
    }
    for (i = 0; i < cc->n; i++)
        cc->members[next[cc->class_of[i]]++] = i;
cleanup:
    ss_free(ctx, next);
    return rc;
}

/* Dense classes for labels without embeddings: the distinct labels
 * ascending (so labels 0..K-1 keep their numbers) into cc->class_label,
 * cc->classes their count, and each pair's class by binary search. */
static int dense_classes(subsel_ctx *ctx, ss_clipcov *cc,
                         const int64_t *labels)
{
    int64_t *sorted = NULL, i, distinct = 0;
    int rc = SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, cc->n, sizeof *sorted, &sorted));
    if (cc->n > 0)
        memcpy(sorted, labels, (size_t)cc->n * sizeof *sorted);
    qsort(sorted, (size_t)cc->n, sizeof *sorted, ss_compare_int64);
    for (i = 0; i < cc->n; i++)
        if (i == 0 || sorted[i] != sorted[distinct - 1])
            sorted[distinct++] = sorted[i];
    SS_TRY(ss_alloc_array(ctx, distinct, sizeof *cc->class_label,
                          &cc->class_label));
    if (distinct > 0)
        memcpy(cc->class_label, sorted, (size_t)distinct * sizeof *sorted);
    cc->classes = distinct;
    for (i = 0; i < cc->n; i++) {
        int64_t lo = 0, hi = distinct - 1;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (cc->class_label[mid] < labels[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        cc->class_of[i] = lo;
    }
cleanup:
    ss_free(ctx, sorted);
    return rc;
}

int ss_clipcov_assign_classes(subsel_ctx *ctx, ss_clipcov *cc,
                              const int64_t *labels)
{
    SS_CHECK(ss_alloc_array(ctx, cc->n, sizeof *cc->class_of, &cc->class_of));
    if (labels != NULL && cc->labels == NULL) {
        SS_CHECK(dense_classes(ctx, cc, labels));
    } else if (labels != NULL) {
        /* checked by the constructor: in [0, K) */
        if (cc->n > 0)
            memcpy(cc->class_of, labels, (size_t)cc->n * sizeof *labels);
    } else {
        SS_CHECK(zero_shot(ctx, cc));
    }
    return build_members(ctx, cc);
}
