/* SPDX-License-Identifier: MIT */
/*
 * SDM at scale, on synthetic SAE-like codes: n rows of `nnz` distinct
 * columns out of d, drawn with Zipf-like popularity (rank^-1 over a random
 * permutation of the columns), positive activations, random quality scores
 * in 3 rank bins, and a target distribution with its own skewed popularity.
 *
 *  - stochastic greedy (epsilon 1e-3, budget n/5): one run per kernel level
 *    on one thread, with gains and nonzeros evaluated per second and the
 *    speed-up over scalar measured in the same process;
 *  - the lazier-than-lazy variant on the best level;
 *  - five intersected runs in parallel on 2 threads;
 *  - lazy greedy on n = 200,000, d = 4,096, budget 1,000, and on 2
 *    threads with SUBSEL_P_PARALLEL_GAINS auto, never, always and
 *    pipeline (the heap's pops overlapped with the gains; speedups over
 *    never and over always, which shares the gains and never overlaps);
 *  - peak resident memory against the CSR's bytes.
 * One JSON object per line. SUBSEL_BENCH_SCALE scales n (default 1);
 * SUBSEL_BENCH_PARTS=isa,stochastic,lazier,intersect,lazy picks parts
 * (default all; stochastic repeats the best level of isa alone).
 */
#include <math.h>
#include <stdint.h>

#include "bench_pool.h"
#include "bench_util.h"
#include "core/rng.h"
#include "subsel.h"

static int64_t p_big_rows; /* rows of the big pool */

/* SDM over the pool: random quality in 3 bins, a skewed target. */
static subsel_objective *make_sdm(subsel_ctx *ctx, const pool *p)
{
    subsel_objective *f;
    double *q = malloc(sizeof *q * (size_t)p->n);
    double *target = malloc(sizeof *target * (size_t)p->d);
    ss_rng rng;
    int64_t i;
    stages_begin("build");
    ss_rng_seed(&rng, 4242, 0);
    for (i = 0; i < p->n; i++)
        q[i] = ss_rng_uniform(&rng);
    for (i = 0; i < p->d; i++)
        target[i] = pow(1.0 + (double)ss_rng_below(&rng, (uint64_t)p->d), -1.2);
    if (subsel_sdm_create(ctx, p->z, &f) != SUBSEL_OK ||
        subsel_sdm_set_target_distribution(ctx, f, target, p->d) != SUBSEL_OK ||
        subsel_sdm_set_quality(ctx, f, q, p->n, 3) != SUBSEL_OK) {
        fprintf(stderr, "bench_sdm: %s\n", subsel_ctx_last_error(ctx));
        exit(1);
    }
    free(q);
    free(target);
    return f;
}

static subsel_selection *timed_run_parts(subsel_ctx *ctx, const subsel_objective *f,
                                         int algorithm, int64_t budget, int64_t runs,
                                         int64_t parts, int64_t merge, double *seconds)
{
    subsel_optimizer *opt;
    subsel_selection *sel;
    double t0;
    stages_begin("build");
    subsel_optimizer_create(ctx, algorithm, &opt);
    subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, budget);
    subsel_optimizer_set_int(opt, SUBSEL_OPT_RUNS, runs);
    subsel_optimizer_set_double(opt, SUBSEL_OPT_EPSILON, 1e-3);
    if (subsel_param_set_int(ctx, opt, SUBSEL_P_PARTS, parts) != SUBSEL_OK ||
        subsel_param_set_int(ctx, opt, SUBSEL_P_MERGE, merge) != SUBSEL_OK) {
        fprintf(stderr, "bench_sdm: %s\n", subsel_ctx_last_error(ctx));
        exit(1);
    }
    stages_begin("select");
    t0 = bench_now();
    if (subsel_optimizer_run(ctx, opt, f, &sel) != SUBSEL_OK) {
        fprintf(stderr, "bench_sdm: %s\n", subsel_ctx_last_error(ctx));
        exit(1);
    }
    *seconds = bench_now() - t0;
    stages_begin(NULL);
    subsel_optimizer_free(opt);
    return sel;
}

static subsel_selection *timed_run(subsel_ctx *ctx, const subsel_objective *f,
                                   int algorithm, int64_t budget, int64_t runs,
                                   double *seconds)
{
    return timed_run_parts(ctx, f, algorithm, budget, runs, 1, SUBSEL_MERGE_UNION, seconds);
}

static double kl_of(subsel_ctx *ctx, const subsel_objective *f, const subsel_selection *sel)
{
    double kl = NAN;
    stages_begin("evaluate");
    subsel_sdm_kl(ctx, f, subsel_selection_indices(sel), subsel_selection_count(sel), &kl);
    stages_begin(NULL);
    return kl;
}

/* One selection on 1 thread (exact stochastic greedy) against the same on
 * 2 threads through `parts` random parts merged by `merge`, alternating
 * `rounds` times (the machine is noisy), best of each: the speedup and
 * what it costs in objective and KL. */
static void compare_parts(subsel_ctx *ctx, const subsel_objective *f, const pool *p,
                          int64_t budget, int64_t parts, int64_t merge, int rounds)
{
    double t1 = INFINITY, t2 = INFINITY, s, v1 = 0, v2 = 0, kl1 = 0, kl2 = 0;
    char kl1_text[32], kl2_text[32];
    int r;
    for (r = 0; r < rounds; r++) {
        subsel_selection *sel;
        subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1);
        sel = timed_run(ctx, f, SUBSEL_OPT_STOCHASTIC, budget, 1, &s);
        t1 = s < t1 ? s : t1;
        v1 = subsel_selection_value(sel);
        kl1 = kl_of(ctx, f, sel);
        subsel_selection_free(sel);
        subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 2);
        sel = timed_run_parts(ctx, f, SUBSEL_OPT_STOCHASTIC, budget, 1, parts, merge, &s);
        t2 = s < t2 ? s : t2;
        v2 = subsel_selection_value(sel);
        kl2 = kl_of(ctx, f, sel);
        subsel_selection_free(sel);
    }
    printf("{\"bench\": \"sdm_parts\", \"n\": %lld, \"budget\": %lld, \"parts\": %lld, "
           "\"merge\": \"%s\", \"seconds_1_thread_exact\": %.3f, \"seconds_2_threads\": %.3f, "
           "\"speedup\": %.2f, \"objective_exact\": %.10g, \"objective_parts\": %.10g, "
           "\"objective_ratio\": %.6f, \"kl_exact\": %s, \"kl_parts\": %s",
           (long long)p->n, (long long)budget, (long long)parts,
           merge == SUBSEL_MERGE_GREEDI ? "greedi" : "union", t1, t2, t1 / t2, v1, v2,
           v2 / v1, bench_json_number(kl1_text, kl1), bench_json_number(kl2_text, kl2));
    bench_end_line();
}

static const char *algo_name(int a)
{
    return a == SUBSEL_OPT_LAZY ? "lazy" : a == SUBSEL_OPT_LAZIER ? "lazier" : "stochastic";
}

/* peak_rss_over_csr is reported for the big pool only: the process's peak
 * includes it, so it means nothing against the smaller pool's bytes. */
static void report(const char *bench, const pool *p, int algorithm, int isa,
                   int threads, int64_t runs, int64_t budget, double seconds,
                   const subsel_selection *sel, double scalar_seconds)
{
    double evals = (double)subsel_selection_evaluations(sel);
    printf("{\"bench\": \"%s\", \"n\": %lld, \"d\": %lld, \"nnz_per_row\": %lld, "
           "\"budget\": %lld, \"algorithm\": \"%s\", \"runs\": %lld, \"isa\": \"%s\", "
           "\"threads\": %d, \"seconds\": %.3f, \"selected\": %lld, \"objective\": %.10g, "
           "\"gains_per_s\": %.4g, \"nnz_per_s\": %.4g",
           bench, (long long)p->n, (long long)p->d, (long long)p->nnz_per_row,
           (long long)budget, algo_name(algorithm), (long long)runs, subsel_isa_name(isa),
           threads, seconds, (long long)subsel_selection_count(sel),
           subsel_selection_value(sel), evals / seconds,
           evals * (double)p->nnz_per_row / seconds);
    if (scalar_seconds > 0)
        printf(", \"speedup_vs_scalar\": %.2f", scalar_seconds / seconds);
    if (p->n == p_big_rows)
        printf(", \"peak_rss_over_csr\": %.3f", bench_peak_rss_bytes() / p->csr_bytes);
    bench_end_line();
}

int main(void)
{
    subsel_ctx *ctx;
    pool big, small;
    subsel_objective *f;
    subsel_selection *sel, *ref = NULL;
    double scale = bench_scale(), seconds, scalar_seconds = 0;
    int64_t n = (int64_t)(1000000 * scale), budget = n / 5;
    int isa, best = subsel_isa_selected();

    subsel_ctx_create(&ctx);
    subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, 2024);
    make_pool(ctx, &big, n, 16384, 64, 1);
    p_big_rows = n;
    f = make_sdm(ctx, &big);
    printf("{\"bench\": \"sdm_setup\", \"n\": %lld, \"csr_bytes\": %.0f, \"peak_rss_over_csr\": %.3f",
           (long long)n, big.csr_bytes, bench_peak_rss_bytes() / big.csr_bytes);
    bench_end_line();

    /* one run per kernel level, one thread: the same selection each time */
    subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1);
    for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512 && bench_wanted("isa"); isa++) {
        if (!subsel_isa_supported(isa))
            continue;
        subsel_ctx_set_int(ctx, SUBSEL_CTX_MAX_ISA, isa);
        sel = timed_run(ctx, f, SUBSEL_OPT_STOCHASTIC, budget, 1, &seconds);
        if (isa == SUBSEL_ISA_SCALAR)
            scalar_seconds = seconds;
        report("sdm_stochastic", &big, SUBSEL_OPT_STOCHASTIC, isa, 1, 1, budget, seconds, sel,
               scalar_seconds);
        if (ref == NULL) {
            ref = sel;
        } else {
            int same = subsel_selection_count(ref) == subsel_selection_count(sel) &&
                       memcmp(subsel_selection_indices(ref), subsel_selection_indices(sel),
                              sizeof(int64_t) * (size_t)subsel_selection_count(sel)) == 0;
            printf("{\"bench\": \"sdm_identical_across_isa\", \"isa\": \"%s\", \"identical\": %s",
                   subsel_isa_name(isa), same ? "true" : "false");
            bench_end_line();
            subsel_selection_free(sel);
        }
    }
    subsel_selection_free(ref);
    subsel_ctx_set_int(ctx, SUBSEL_CTX_MAX_ISA, best);

    if (bench_wanted("stochastic")) { /* the best level alone, for quick checks */
        subsel_ctx_set_int(ctx, SUBSEL_CTX_MAX_ISA, best);
        sel = timed_run(ctx, f, SUBSEL_OPT_STOCHASTIC, budget, 1, &seconds);
        report("sdm_stochastic", &big, SUBSEL_OPT_STOCHASTIC, best, 1, 1, budget, seconds, sel, 0);
        subsel_selection_free(sel);
    }
    if (bench_wanted("lazier")) {
        sel = timed_run(ctx, f, SUBSEL_OPT_LAZIER, budget, 1, &seconds);
        report("sdm_lazier", &big, SUBSEL_OPT_LAZIER, best, 1, 1, budget, seconds, sel, 0);
        subsel_selection_free(sel);
    }

    if (bench_wanted("parts")) {
        compare_parts(ctx, f, &big, budget, 2, SUBSEL_MERGE_UNION, 3);
        compare_parts(ctx, f, &big, budget, 2, SUBSEL_MERGE_GREEDI, 1);
    }

    subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 2);
    if (bench_wanted("intersect")) {
        sel = timed_run(ctx, f, SUBSEL_OPT_STOCHASTIC, budget, 5, &seconds);
        report("sdm_intersect5", &big, SUBSEL_OPT_STOCHASTIC, best, 2, 5, budget, seconds, sel, 0);
        subsel_selection_free(sel);
        sel = timed_run(ctx, f, SUBSEL_OPT_LAZIER, budget, 5, &seconds);
        report("sdm_intersect5", &big, SUBSEL_OPT_LAZIER, best, 2, 5, budget, seconds, sel, 0);
        subsel_selection_free(sel);
    }
    subsel_objective_free(f);
    if (!bench_wanted("lazy")) {
        subsel_ctx_free(ctx);
        return 0;
    }

    /* lazy greedy on a smaller pool */
    make_pool(ctx, &small, (int64_t)(200000 * scale), 4096, 64, 2);
    f = make_sdm(ctx, &small);
    for (isa = 1; isa <= 2; isa++) {
        subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, isa);
        sel = timed_run(ctx, f, SUBSEL_OPT_LAZY, 1000, 1, &seconds);
        report("sdm_lazy", &small, SUBSEL_OPT_LAZY, best, isa, 1, 1000, seconds, sel, 0);
        subsel_selection_free(sel);
    }
    /* SUBSEL_P_PARALLEL_GAINS on 2 threads, alternating (the machine is
     * noisy): lazy greedy forced to share its re-evaluations, and made to
     * overlap its heap with them (pipeline), against never sharing a batch
     * (AUTO shares only the first step's) */
    {
        static const char *const names[4] = {"auto", "never", "always", "pipeline"};
        double best_s[4] = {1e30, 1e30, 1e30, 1e30};
        int64_t evals[4] = {0, 0, 0, 0}, mode, rep;
        subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 2);
        for (rep = 0; rep < 3; rep++)
            for (mode = 0; mode < 4; mode++) {
                subsel_ctx_set_int(ctx, SUBSEL_P_PARALLEL_GAINS, mode);
                sel = timed_run(ctx, f, SUBSEL_OPT_LAZY, 1000, 1, &seconds);
                if (seconds < best_s[mode])
                    best_s[mode] = seconds;
                evals[mode] = subsel_selection_evaluations(sel);
                subsel_selection_free(sel);
            }
        for (mode = 0; mode < 4; mode++) { /* the first line has every run's stages */
            printf("{\"bench\": \"sdm_lazy_parallel_gains\", \"mode\": \"%s\", "
                   "\"threads\": 2, \"n\": %lld, \"budget\": 1000, \"seconds\": %.4f, "
                   "\"evaluations\": %lld, \"speedup_over_never\": %.3f, "
                   "\"speedup_over_always\": %.3f",
                   names[mode], (long long)small.n, best_s[mode], (long long)evals[mode],
                   best_s[1] / best_s[mode], best_s[2] / best_s[mode]);
            bench_end_line();
        }
        subsel_ctx_set_int(ctx, SUBSEL_P_PARALLEL_GAINS, SUBSEL_PARALLEL_AUTO);
    }
    subsel_objective_free(f);
    subsel_ctx_free(ctx);
    return 0;
}
