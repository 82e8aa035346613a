/* SPDX-License-Identifier: MIT */
/*
 * The synthetic SAE-like pool the SDM benchmarks share: n rows of `nnz`
 * distinct columns out of d, drawn with Zipf-like popularity (rank^-1 over
 * a random permutation of the columns), exponential activations; the same
 * seed gives the same pool whatever the thread count.
 */
#ifndef SUBSEL_BENCH_POOL_H
#define SUBSEL_BENCH_POOL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "core/rng.h"
#include "subsel.h"

typedef struct pool {
    subsel_csr *z;
    int64_t n, d, nnz_per_row;
    double csr_bytes;
} pool;

/* Inverse-CDF sampling of Zipf ranks: cdf[r] = P(rank <= r). */
static inline int64_t draw_rank(const double *cdf, int64_t d, ss_rng *rng)
{
    double u = ss_rng_uniform(rng);
    int64_t lo = 0, hi = d - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static inline int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static inline void make_pool(subsel_ctx *ctx, pool *p, int64_t n, int64_t d,
                      int64_t per_row, uint64_t seed)
{
    int64_t *ip = malloc(sizeof *ip * (size_t)(n + 1));
    int32_t *ix = malloc(sizeof *ix * (size_t)(n * per_row));
    float *v = malloc(sizeof *v * (size_t)(n * per_row));
    double *cdf = malloc(sizeof *cdf * (size_t)d), total = 0;
    int32_t *perm = malloc(sizeof *perm * (size_t)d);
    int64_t r, c;
    ss_rng rng;
    stages_begin("build");
    ss_rng_seed(&rng, seed, 0);
    for (c = 0; c < d; c++) {
        total += 1.0 / (double)(c + 1);
        cdf[c] = total;
        perm[c] = (int32_t)c;
    }
    for (c = 0; c < d; c++)
        cdf[c] /= total;
    for (c = d - 1; c > 0; c--) {
        int64_t k = (int64_t)ss_rng_below(&rng, (uint64_t)c + 1);
        int32_t t = perm[c];
        perm[c] = perm[k];
        perm[k] = t;
    }
    for (r = 0; r <= n; r++)
        ip[r] = r * per_row;
#pragma omp parallel for schedule(dynamic, 4096)
    for (r = 0; r < n; r++) {
        ss_rng row_rng;
        int32_t *cols = ix + r * per_row;
        int64_t k = 0, j;
        ss_rng_seed(&row_rng, seed, (uint64_t)r + 1);
        while (k < per_row) {
            int32_t col = perm[draw_rank(cdf, d, &row_rng)];
            for (j = 0; j < k && cols[j] != col; j++)
                ;
            if (j == k)
                cols[k++] = col;
        }
        qsort(cols, (size_t)per_row, sizeof *cols, cmp_i32);
        for (j = 0; j < per_row; j++) /* exponential activations */
            v[r * per_row + j] = (float)(-log(1.0 - ss_rng_uniform(&row_rng)));
    }
    if (subsel_csr_create(ctx, n, d, ip, ix, v, SUBSEL_BORROW, &p->z) != SUBSEL_OK) {
        fprintf(stderr, "make_pool: %s\n", subsel_ctx_last_error(ctx));
        exit(1);
    }
    p->n = n;
    p->d = d;
    p->nnz_per_row = per_row;
    p->csr_bytes = (double)(n + 1) * 8 + (double)(n * per_row) * 8;
    free(cdf);
    free(perm);
    /* ip, ix, v stay alive: the matrix borrows them for the whole run */
}

/* The benchmarks' one failure path: the message and exit 1. */
static inline void bench_check(subsel_ctx *ctx, int rc, const char *what)
{
    if (rc != SUBSEL_OK) {
        fprintf(stderr, "%s: %s\n", what, subsel_ctx_last_error(ctx));
        exit(1);
    }
}

/* SDM over rows [first, first + count) of the pool, matching the target
 * distribution (d values): the same objective on every part. */
static inline subsel_objective *bench_sdm_over(subsel_ctx *ctx, const pool *p,
                                               const double *target, int64_t first,
                                               int64_t count)
{
    subsel_csr *view;
    subsel_objective *f;
    bench_check(ctx, subsel_csr_view_rows(ctx, p->z, first, count, &view), "view");
    bench_check(ctx, subsel_sdm_create(ctx, view, &f), "sdm");
    bench_check(ctx, subsel_sdm_set_target_distribution(ctx, f, target, p->d), "target");
    subsel_csr_free(view);
    return f;
}

/* An optimizer with its budget. */
static inline subsel_optimizer *bench_optimizer(subsel_ctx *ctx, int algorithm,
                                                int64_t budget)
{
    subsel_optimizer *o;
    bench_check(ctx, subsel_optimizer_create(ctx, algorithm, &o), "optimizer");
    bench_check(ctx, subsel_optimizer_set_int(o, SUBSEL_P_BUDGET, budget), "budget");
    return o;
}

#endif
