/* SPDX-License-Identifier: MIT */
/*
 * subsel_mpi_select across the ranks of an mpirun (`./run bench` runs it
 * on 2 ranks of this machine: shared memory, so the network's share of
 * the planning model is not measured here), on bench_sdm's synthetic pool
 * (n = 100,000 x SUBSEL_BENCH_SCALE rows of 128 nonzeros over 16,384
 * columns, split into the ranks' row blocks):
 *
 *  - exact at budget n / 5 (samples of 35 items a step: the paper's
 *    regime) and n / 1000 (samples of 6,900): seconds against one process
 *    holding the pool (rank 0 alone, the same seed), and the per-step cost
 *    of the exchange, (exact - single / ranks) / steps: the c_step of the
 *    model;
 *  - union at budget n / 5 and greedi at n / 1000: seconds, objective
 *    against the single process's.
 * Rank 0 prints one JSON object per line.
 */
#include <mpi.h>

#include "bench_pool.h"
#include "bench_util.h"

static subsel_ctx *ctx;
static int rank, size;

static void check(int rc, const char *what)
{
    if (rc != SUBSEL_OK) {
        fprintf(stderr, "bench_mpi_distributed (rank %d): %s: %s\n", rank, what,
                subsel_ctx_last_error(ctx));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

/* One method on every rank against one process (rank 0) with the same
 * optimizer: seconds and objectives. */
static void compare(const char *method_name, int method, int algorithm, int64_t budget,
                    const subsel_objective *whole, const subsel_objective *mine)
{
    subsel_optimizer *o = bench_optimizer(ctx, algorithm, budget);
    subsel_selection *one = NULL, *sel = NULL;
    double t_single = 0, t;
    int64_t comm = (int64_t)MPI_Comm_c2f(MPI_COMM_WORLD);
    if (rank == 0) {
        stages_begin("single");
        t = bench_now();
        check(subsel_optimizer_run(ctx, o, whole, &one), "single");
        t_single = bench_now() - t;
    }
    MPI_Barrier(MPI_COMM_WORLD);
    stages_begin("select");
    t = bench_now();
    check(subsel_mpi_select(ctx, o, mine, method, comm, &sel), method_name);
    t = bench_now() - t;
    stages_begin(NULL);
    if (rank == 0) {
        int same = subsel_selection_count(one) == subsel_selection_count(sel) &&
                   memcmp(subsel_selection_indices(one), subsel_selection_indices(sel),
                          (size_t)subsel_selection_count(sel) * sizeof(int64_t)) == 0;
        printf("{\"bench\": \"mpi_%s\", \"ranks\": %d, \"n\": %lld, \"budget\": %lld, "
               "\"single_seconds\": %.4f, \"seconds\": %.4f, \"speedup\": %.2f, "
               "\"step_cost_seconds\": %.3e, \"objective_ratio\": %.6f, "
               "\"same_selection\": %d",
               method_name, size, (long long)subsel_objective_size(whole), (long long)budget,
               t_single, t, t_single / t, (t - t_single / size) / (double)budget,
               subsel_selection_value(sel) / subsel_selection_value(one), same);
        bench_end_line();
    }
    subsel_selection_free(one);
    subsel_selection_free(sel);
    subsel_optimizer_free(o);
}

int main(int argc, char **argv)
{
    pool p;
    int64_t n = (int64_t)(100000 * bench_scale()), d = 16384, i, first, count;
    double *target;
    subsel_objective *whole, *mine;
    ss_rng rng;
    int provided;

    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    check(subsel_ctx_create(&ctx), "context");
    check(subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1), "threads");
    /* every rank makes the same pool (the same seed) and keeps its block */
    make_pool(ctx, &p, n, d, 128, 7);
    target = malloc(sizeof *target * (size_t)d);
    ss_rng_seed(&rng, 4242, 0);
    for (i = 0; i < d; i++)
        target[i] = pow(1.0 + (double)ss_rng_below(&rng, (uint64_t)d), -1.2);
    first = n * rank / size;
    count = n * (rank + 1) / size - first;
    whole = bench_sdm_over(ctx, &p, target, 0, n);
    mine = bench_sdm_over(ctx, &p, target, first, count);
    compare("exact", SUBSEL_DISTRIBUTED_EXACT, SUBSEL_ALGORITHM_STOCHASTIC, n / 5, whole, mine);
    compare("exact", SUBSEL_DISTRIBUTED_EXACT, SUBSEL_ALGORITHM_STOCHASTIC, n / 1000, whole,
            mine);
    compare("union", SUBSEL_DISTRIBUTED_UNION, SUBSEL_ALGORITHM_STOCHASTIC, n / 5, whole, mine);
    compare("greedi", SUBSEL_DISTRIBUTED_GREEDI, SUBSEL_ALGORITHM_STOCHASTIC, n / 1000, whole,
            mine);
    subsel_objective_free(whole);
    subsel_objective_free(mine);
    subsel_csr_free(p.z);
    subsel_ctx_free(ctx);
    free(target);
    MPI_Finalize();
    return 0;
}
