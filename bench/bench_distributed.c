/* SPDX-License-Identifier: MIT */
/*
 * The inputs of docs/distributed.md's planning model, measured on this
 * machine in one process, on the synthetic SDM pool of bench_sdm (rows of
 * 128 nonzeros over 16,384 columns, the paper's shape; n = 200,000 x
 * SUBSEL_BENCH_SCALE rows, budget n / 5 as in the paper):
 *
 *  - single: one stochastic greedy over the pool: seconds per gain
 *    evaluated (draws and adds included), the figure every time in the
 *    model is made of;
 *  - union: 8 row-range parts each selecting its share (budget / 8), as
 *    subsel_mpi_select's SUBSEL_DISTRIBUTED_UNION does: the slowest part's
 *    time and the union's objective against the single run's;
 *  - greedi: the same 8 parts with a budget of n / 1000 (where GreeDi's
 *    union stays small), their merge: the merge's seconds per union row and
 *    the objective against one run; at budget n / 5 each part would keep
 *    all its rows (the union would be the pool: printed as greedi_union_rows);
 *  - summary: bytes per summary row (what GreeDi sends per selected row).
 *
 * bench_mpi_distributed measures the per-step cost of the exact mode and
 * the methods' times across 2 MPI ranks. One JSON object per line.
 */
#include "bench_pool.h"
#include "bench_util.h"

#define PARTS 8

static subsel_ctx *ctx;
static double *target, *quality;
static const double edges[2] = {1.0 / 3.0, 2.0 / 3.0};

static void check(int rc, const char *what)
{
    bench_check(ctx, rc, what);
}

/* SDM over rows [first, first + count) of the pool: the same target and
 * quality bins (by edges) on every part. */
static subsel_objective *sdm_over(const pool *p, int64_t first, int64_t count)
{
    subsel_objective *f = bench_sdm_over(ctx, p, target, first, count);
    check(subsel_sdm_set_quality_edges(ctx, f, quality + first, count, edges, 2), "quality");
    return f;
}

static subsel_optimizer *optimizer(int algorithm, int64_t budget)
{
    return bench_optimizer(ctx, algorithm, budget);
}

int main(void)
{
    pool p;
    int64_t n = (int64_t)(200000 * bench_scale()), d = 16384, k = n / 5, j, i;
    int64_t k_small = n / 1000 > 10 ? n / 1000 : 10;
    subsel_objective *whole, *part[PARTS];
    subsel_optimizer *opt, *share_opt, *small_opt;
    subsel_selection *single, *sel;
    subsel_summary *s[PARTS], *merged;
    int64_t *union_ids, union_count = 0, bytes;
    double t, single_s, slowest = 0, union_value, merge_s, parts_s = 0, v_small;
    ss_rng rng;

    stages_begin("build");
    check(subsel_ctx_create(&ctx), "context");
    check(subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1), "threads");
    make_pool(ctx, &p, n, d, 128, 7);
    target = malloc(sizeof *target * (size_t)d);
    quality = malloc(sizeof *quality * (size_t)n);
    union_ids = malloc(sizeof *union_ids * (size_t)n);
    ss_rng_seed(&rng, 4242, 0);
    for (i = 0; i < n; i++)
        quality[i] = ss_rng_uniform(&rng);
    for (i = 0; i < d; i++)
        target[i] = pow(1.0 + (double)ss_rng_below(&rng, (uint64_t)d), -1.2);
    whole = sdm_over(&p, 0, n);

    /* one stochastic greedy over the pool */
    opt = optimizer(SUBSEL_ALGORITHM_STOCHASTIC, k);
    stages_begin("select");
    t = bench_now();
    check(subsel_optimizer_run(ctx, opt, whole, &single), "single");
    single_s = bench_now() - t;
    printf("{\"bench\": \"distributed_single\", \"n\": %lld, \"d\": %lld, \"nnz_per_row\": 128, "
           "\"budget\": %lld, \"seconds\": %.4f, \"evaluations\": %lld, "
           "\"seconds_per_evaluation\": %.3e, \"objective\": %.9g",
           (long long)n, (long long)d, (long long)k, single_s,
           (long long)subsel_selection_evaluations(single),
           single_s / (double)subsel_selection_evaluations(single),
           subsel_selection_value(single));
    bench_end_line();

    /* the union of 8 parts' shares */
    for (j = 0; j < PARTS; j++) {
        int64_t first = n * j / PARTS, last = n * (j + 1) / PARTS;
        int64_t share = k * last / n - k * first / n;
        stages_begin("build");
        part[j] = sdm_over(&p, first, last - first);
        share_opt = optimizer(SUBSEL_ALGORITHM_STOCHASTIC, share);
        stages_begin("select");
        t = bench_now();
        check(subsel_optimizer_run(ctx, share_opt, part[j], &sel), "share");
        t = bench_now() - t;
        if (t > slowest)
            slowest = t;
        for (i = 0; i < subsel_selection_count(sel); i++)
            union_ids[union_count++] = first + subsel_selection_indices(sel)[i];
        subsel_selection_free(sel);
        subsel_optimizer_free(share_opt);
    }
    stages_begin("evaluate");
    check(subsel_objective_evaluate(ctx, whole, union_ids, union_count, &union_value), "value");
    printf("{\"bench\": \"distributed_union\", \"parts\": %d, \"budget\": %lld, "
           "\"slowest_part_seconds\": %.4f, \"speedup_over_single\": %.2f, "
           "\"objective_ratio\": %.6f",
           PARTS, (long long)k, slowest, single_s / slowest,
           union_value / subsel_selection_value(single));
    bench_end_line();

    /* GreeDi where it fits: a small budget */
    small_opt = optimizer(SUBSEL_ALGORITHM_STOCHASTIC, k_small);
    for (j = 0; j < PARTS; j++) {
        int64_t first = n * j / PARTS;
        stages_begin("select");
        t = bench_now();
        check(subsel_summary_select(ctx, small_opt, part[j], first, n, &s[j]), "part");
        parts_s += bench_now() - t;
    }
    stages_begin("merge");
    t = bench_now();
    check(subsel_summary_merge(ctx, small_opt, whole, (const subsel_summary *const *)s, PARTS,
                               &merged),
          "merge");
    merge_s = bench_now() - t;
    stages_begin("evaluate"); /* and the single run it is measured against */
    check(subsel_summary_to_bytes(ctx, merged, NULL, 0, &bytes), "bytes");
    check(subsel_summary_selection(ctx, merged, &sel), "selection");
    v_small = subsel_selection_value(sel);
    subsel_selection_free(sel);
    check(subsel_optimizer_run(ctx, small_opt, whole, &sel), "single small");
    printf("{\"bench\": \"distributed_greedi\", \"parts\": %d, \"budget\": %lld, "
           "\"part_seconds_mean\": %.4f, \"merge_seconds\": %.4f, "
           "\"merge_seconds_per_union_row\": %.3e, \"summary_bytes_per_row\": %.1f, "
           "\"objective_ratio\": %.6f, \"greedi_union_rows_at_n_over_5\": %lld",
           PARTS, (long long)k_small, parts_s / PARTS, merge_s,
           merge_s / (double)(PARTS * k_small),
           (double)bytes / (double)subsel_summary_count(merged),
           v_small / subsel_selection_value(sel),
           (long long)(PARTS * (k < n / PARTS ? k : n / PARTS)));
    bench_end_line();
    subsel_selection_free(sel);
    subsel_summary_free(merged);
    for (j = 0; j < PARTS; j++) {
        subsel_summary_free(s[j]);
        subsel_objective_free(part[j]);
    }
    subsel_optimizer_free(small_opt);
    subsel_optimizer_free(opt);
    subsel_selection_free(single);
    subsel_objective_free(whole);
    subsel_csr_free(p.z);
    subsel_ctx_free(ctx);
    free(target);
    free(quality);
    free(union_ids);
    return 0;
}
