/* SPDX-License-Identifier: MIT */
/*
 * TAROT's speed, stage by stage, on synthetic gradient-like features (a
 * mixture of Gaussian clusters with a few dominant directions; the targets
 * come from a third of the clusters):
 *   1. N = 200,000 candidates, M = 20,000 targets, d = 512: whitening
 *      (Cholesky), the top-50 neighbours of every target, and a 10 %
 *      fixed-size selection (with its OT fill, whose size is reported as
 *      fill_layer, then the OT distance of the selection to the targets as
 *      a separate stage), with peak memory;
 *   2. OTM with 10 folds on N = 50,000, M = 5,000, d = 256;
 *   3. thread scaling of whitening and top-k in one run (1 thread against
 *      all), on a quarter of the first problem;
 *   4. top-k's two screens in one run, on a quarter of the first problem:
 *      bfloat16 (where the CPU has AVX512_BF16) against single precision
 *      (SUBSEL_CTX_MAX_ISA avx2), alternated, best of 3 each, and whether
 *      their lists and scores are the same bits (they must be).
 * One JSON object per line. SUBSEL_BENCH_SCALE scales N and M (0.05 for a
 * quick run); SUBSEL_BENCH_PARTS=1,2,3,4 picks parts (default all);
 * SUBSEL_BENCH_OT_MEMORY sets the first part's ot_memory (bytes; the
 * selector's default otherwise), which trades its fill's and final OT's
 * speed for peak memory (peak_ratio: peak RSS over the inputs' size).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "core/rng.h"
#include "subsel.h"

#define CLUSTERS 60

/* rows x d features: cluster centre + noise, columns with a few large
 * scales (what whitening is for); rows of `first_cluster` .. step. */
static float *make_features(int64_t rows, int64_t d, int stride,
                            uint64_t stream)
{
    float *x, *centres;
    int64_t i;
    ss_rng rng;
    stages_begin("build");
    x = malloc((size_t)(rows * d) * sizeof *x);
    centres = malloc((size_t)(CLUSTERS * d) * sizeof *centres);
    ss_rng_seed(&rng, 7, 0);
    for (i = 0; i < CLUSTERS * d; i++)
        centres[i] = (float)(2.0 * ss_rng_normal(&rng));
#pragma omp parallel for schedule(static)
    for (i = 0; i < rows; i += 1024) {
        ss_rng r;
        int64_t end = i + 1024 < rows ? i + 1024 : rows, a, c;
        ss_rng_seed(&r, 7, stream + (uint64_t)(i / 1024) + 1);
        for (a = i; a < end; a++) {
            int64_t k = (int64_t)ss_rng_below(&r, CLUSTERS / stride) * stride;
            for (c = 0; c < d; c++)
                x[a * d + c] = (float)((centres[k * d + c] + ss_rng_normal(&r)) *
                                       (c % 64 == 0 ? 20.0 : 1.0));
        }
    }
    free(centres);
    return x;
}

static int want(int part)
{
    char tag[4];
    snprintf(tag, sizeof tag, "%d", part);
    return bench_wanted(tag);
}

static void check(int rc, subsel_ctx *ctx, const char *what)
{
    if (rc != SUBSEL_OK) {
        fprintf(stderr, "bench_tarot: %s: %s\n", what, subsel_ctx_last_error(ctx));
        exit(1);
    }
}

/* A context with `threads` and a selector over borrowed rows. */
typedef struct setup {
    subsel_ctx *ctx;
    subsel_dense *c, *t;
    subsel_tarot *tr;
} setup;

static void open_setup(setup *s, const float *xc, int64_t n, const float *xt, int64_t m,
                       int64_t d, int threads)
{
    stages_begin("build");
    subsel_ctx_create(&s->ctx);
    subsel_ctx_set_int(s->ctx, SUBSEL_CTX_THREADS, threads);
    check(subsel_dense_create(s->ctx, n, d, xc, SUBSEL_BORROW, &s->c), s->ctx, "candidates");
    check(subsel_dense_create(s->ctx, m, d, xt, SUBSEL_BORROW, &s->t), s->ctx, "targets");
    check(subsel_tarot_create(s->ctx, s->c, s->t, &s->tr), s->ctx, "create");
}

static void close_setup(setup *s)
{
    subsel_tarot_free(s->tr);
    subsel_dense_free(s->c);
    subsel_dense_free(s->t);
    subsel_ctx_free(s->ctx);
}

static void pipeline(int64_t n, int64_t m, int64_t d, int threads)
{
    setup su;
    subsel_ctx *ctx;
    subsel_tarot *tr;
    subsel_selection *sel;
    float *xc = make_features(n, d, 1, 0), *xt = make_features(m, d, 3, 1 << 20);
    int64_t k = 50, budget = n / 10, *idx = malloc((size_t)(m * k) * sizeof *idx);
    int64_t layer = 0, ot_memory = 0;
    const char *ot_memory_env = getenv("SUBSEL_BENCH_OT_MEMORY");
    double t0, t_whiten, t_topk, t_fixed, t_ot, loss, input_mb;
    open_setup(&su, xc, n, xt, m, d, threads);
    ctx = su.ctx;
    tr = su.tr;
    subsel_tarot_set_int(tr, SUBSEL_TAROT_POTENTIALS, 0);
    if (ot_memory_env != NULL)
        check(subsel_tarot_set_int(tr, SUBSEL_P_TAROT_OT_MEMORY, strtoll(ot_memory_env, NULL, 10)),
              ctx, "SUBSEL_BENCH_OT_MEMORY");
    check(subsel_tarot_get_int(tr, SUBSEL_P_TAROT_OT_MEMORY, &ot_memory), ctx, "ot_memory");
    stages_begin("whiten");
    t0 = bench_now();
    check(subsel_tarot_whiten(ctx, tr, NULL, NULL), ctx, "whiten");
    t_whiten = bench_now() - t0;
    stages_begin("topk");
    t0 = bench_now();
    check(subsel_tarot_topk(ctx, tr, k, idx, NULL), ctx, "topk");
    t_topk = bench_now() - t0;
    stages_begin(NULL);
    /* The rank-by-rank layers of the fixed-size rule, from the top-k lists:
     * the overflowing layer is the fill's OT problem (layer x M). */
    {
        unsigned char *seen = calloc((size_t)n, 1);
        int64_t r, j, total = 0;
        for (r = 0; r < k && total <= budget; r++) {
            layer = 0;
            for (j = 0; j < m; j++)
                if (!seen[idx[j * k + r]]) {
                    seen[idx[j * k + r]] = 1;
                    layer++;
                }
            total += layer;
        }
        free(seen);
    }
    stages_begin("select");
    t0 = bench_now();
    check(subsel_tarot_select_fixed(ctx, tr, budget, &sel), ctx, "fixed");
    t_fixed = bench_now() - t0;
    stages_begin("evaluate");
    t0 = bench_now();
    check(subsel_tarot_ot(ctx, tr, subsel_selection_indices(sel), subsel_selection_count(sel),
                          NULL, NULL, &loss),
          ctx, "ot");
    t_ot = bench_now() - t0;
    input_mb = (double)((n + m) * d) * 4.0 / 1048576.0;
    printf("{\"bench\":\"tarot_pipeline\",\"n\":%lld,\"m\":%lld,\"d\":%lld,\"k\":%lld,"
           "\"budget\":%lld,\"threads\":%d,\"whiten_s\":%.3f,\"topk_s\":%.3f,"
           "\"fixed_select_s\":%.3f,\"fill_layer\":%lld,\"total_s\":%.3f,"
           "\"final_ot_s\":%.3f,\"ot_distance\":%.6f,\"ot_memory_mb\":%.0f,"
           "\"peak_rss_mb\":%.0f,\"input_mb\":%.0f,\"peak_ratio\":%.2f",
           (long long)n, (long long)m, (long long)d, (long long)k, (long long)budget,
           subsel_ctx_threads(ctx), t_whiten, t_topk, t_fixed, (long long)layer,
           t_whiten + t_topk + t_fixed, t_ot, loss, (double)ot_memory / 1048576.0,
           bench_peak_rss_bytes() / 1048576.0, input_mb,
           bench_peak_rss_bytes() / 1048576.0 / input_mb);
    bench_end_line();
    subsel_selection_free(sel);
    close_setup(&su);
    free(xc);
    free(xt);
    free(idx);
}

static void otm(int64_t n, int64_t m, int64_t d)
{
    setup su;
    subsel_ctx *ctx;
    subsel_tarot *tr;
    subsel_selection *sel;
    float *xc = make_features(n, d, 1, 2 << 20), *xt = make_features(m, d, 3, 3 << 20);
    double t0, t_whiten, t_otm;
    open_setup(&su, xc, n, xt, m, d, 0);
    ctx = su.ctx;
    tr = su.tr;
    stages_begin("whiten");
    t0 = bench_now();
    check(subsel_tarot_whiten(ctx, tr, NULL, NULL), ctx, "whiten");
    t_whiten = bench_now() - t0;
    stages_begin("select");
    t0 = bench_now();
    check(subsel_tarot_select_otm(ctx, tr, 10, NULL, &sel), ctx, "otm");
    t_otm = bench_now() - t0;
    printf("{\"bench\":\"tarot_otm\",\"n\":%lld,\"m\":%lld,\"d\":%lld,\"folds\":10,"
           "\"threads\":%d,\"whiten_s\":%.3f,\"otm_s\":%.3f,\"ot_solves\":%lld,"
           "\"selected\":%lld,\"ot_distance\":%.6f",
           (long long)n, (long long)m, (long long)d, subsel_ctx_threads(ctx), t_whiten, t_otm,
           (long long)subsel_selection_evaluations(sel), (long long)subsel_selection_count(sel),
           subsel_selection_value(sel));
    bench_end_line();
    subsel_selection_free(sel);
    close_setup(&su);
    free(xc);
    free(xt);
}

/* Whitening and top-k on 1 thread and on all, same data, same run. */
static void scaling(int64_t n, int64_t m, int64_t d)
{
    float *xc = make_features(n, d, 1, 4 << 20), *xt = make_features(m, d, 3, 5 << 20);
    int64_t k = 50, *idx = malloc((size_t)(m * k) * sizeof *idx);
    double secs[2][2];
    int pass, all = 0;
    for (pass = 0; pass < 2; pass++) {
        setup su;
        double t0;
        open_setup(&su, xc, n, xt, m, d, pass == 0 ? 1 : 0);
        all = subsel_ctx_threads(su.ctx);
        stages_begin("whiten");
        t0 = bench_now();
        check(subsel_tarot_whiten(su.ctx, su.tr, NULL, NULL), su.ctx, "whiten");
        secs[pass][0] = bench_now() - t0;
        stages_begin("topk");
        t0 = bench_now();
        check(subsel_tarot_topk(su.ctx, su.tr, k, idx, NULL), su.ctx, "topk");
        secs[pass][1] = bench_now() - t0;
        close_setup(&su);
    }
    printf("{\"bench\":\"tarot_threads\",\"n\":%lld,\"m\":%lld,\"d\":%lld,\"threads\":%d,"
           "\"whiten_1t_s\":%.3f,\"whiten_s\":%.3f,\"whiten_speedup\":%.2f,"
           "\"topk_1t_s\":%.3f,\"topk_s\":%.3f,\"topk_speedup\":%.2f,"
           "\"topk_gflops\":%.1f",
           (long long)n, (long long)m, (long long)d, all, secs[0][0], secs[1][0],
           secs[0][0] / secs[1][0], secs[0][1], secs[1][1], secs[0][1] / secs[1][1],
           2.0 * (double)n * (double)m * (double)d / secs[1][1] * 1e-9);
    bench_end_line();
    free(xc);
    free(xt);
    free(idx);
}

/* Top-k with each screen, same data, same run (part 4). */
static void screens(int64_t n, int64_t m, int64_t d)
{
    float *xc = make_features(n, d, 1, 6 << 20), *xt = make_features(m, d, 3, 7 << 20);
    int64_t k = 50, *idx[2];
    float *sc[2];
    double best[2] = {INFINITY, INFINITY};
    int round, side, same;
    for (side = 0; side < 2; side++) {
        idx[side] = malloc((size_t)(m * k) * sizeof *idx[side]);
        sc[side] = malloc((size_t)(m * k) * sizeof *sc[side]);
    }
    for (round = 0; round < 3; round++)
        for (side = 0; side < 2; side++) {
            setup su;
            double t0;
            open_setup(&su, xc, n, xt, m, d, 0);
            if (side == 1)
                subsel_ctx_set_int(su.ctx, SUBSEL_CTX_MAX_ISA, SUBSEL_ISA_AVX2);
            stages_begin("whiten");
            check(subsel_tarot_whiten(su.ctx, su.tr, NULL, NULL), su.ctx, "whiten");
            stages_begin("topk");
            t0 = bench_now();
            check(subsel_tarot_topk_v2(su.ctx, su.tr, k, idx[side], m * k, sc[side], m * k),
                  su.ctx, "topk");
            t0 = bench_now() - t0;
            best[side] = t0 < best[side] ? t0 : best[side];
            close_setup(&su);
        }
    same = memcmp(idx[0], idx[1], (size_t)(m * k) * sizeof *idx[0]) == 0 &&
           memcmp(sc[0], sc[1], (size_t)(m * k) * sizeof *sc[0]) == 0;
    printf("{\"bench\":\"tarot_topk_screens\",\"n\":%lld,\"m\":%lld,\"d\":%lld,\"k\":%lld,"
           "\"bf16_screen\":%s,\"topk_s\":%.3f,\"topk_single_s\":%.3f,\"speedup\":%.2f,"
           "\"same_lists\":%s",
           (long long)n, (long long)m, (long long)d, (long long)k,
           strstr(subsel_build_info(), "bf16_screen=yes") ? "true" : "false", best[0], best[1],
           best[1] / best[0], same ? "true" : "false");
    bench_end_line();
    for (side = 0; side < 2; side++) {
        free(idx[side]);
        free(sc[side]);
    }
    free(xc);
    free(xt);
}

int main(void)
{
    double s = bench_scale();
    int64_t n = (int64_t)(200000 * s), m = (int64_t)(20000 * s);
    if (n < 100)
        n = 100;
    if (m < 10)
        m = 10;
    if (want(1))
        pipeline(n, m, 512, 0);
    if (want(2))
        otm(n / 4, m / 4, 256);
    if (want(3))
        scaling(n / 4, m / 4, 512);
    if (want(4))
        screens(n / 4, m / 4, 512);
    return 0;
}
