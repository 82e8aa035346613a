/* SPDX-License-Identifier: MIT */
/*
 * Allocation failures: every allocation the library makes, zlib's
 * included, goes through the context's hooks, so failing the n-th one for
 * n = 1, 2, ... reaches every failure path (alloc_sweep, tests/helpers.h).
 * Each run must give SUBSEL_OK (when the failing allocation is never
 * reached) or SUBSEL_E_NOMEM with a message, free everything it allocated,
 * return no handle, and, for writers, leave the destination as it was with
 * no temporary file behind.
 * Swept here: the file readers and writers; UniPROT (construction from
 * features, approximate and exact greedy, plans, per-batch selection); OT
 * (balanced and partial, from costs and from point clouds); the 1-NN
 * accuracy; and the SDM and FB paths the optimizer suite's sweep does not
 * reach (CSR targets, quality bins and edges, KL, evaluation, every
 * concave function with weights, naive, lazy and lazier runs). Problems
 * are tiny and run on one thread, so each sweep stays fast under valgrind.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "tests/helpers.h"
#include "tests/suites.h"

/* One call under test; `arg` is what it reads or writes. */
typedef int (*io_op)(subsel_ctx *ctx, const void *arg);

typedef struct write_job {
    const subsel_csr *csr;
    const subsel_dense *dense;
    const char *path;
} write_job;

static int load_npz(subsel_ctx *ctx, const void *path)
{
    subsel_csr *m = NULL;
    int rc = subsel_csr_load_npz(ctx, path, &m);
    if (rc == SUBSEL_OK)
        ck_assert_int_eq(subsel_csr_nnz(m), 400);
    else
        ck_assert_ptr_null(m);
    subsel_csr_free(m);
    return rc;
}

static int load_npy(subsel_ctx *ctx, const void *path)
{
    subsel_dense *d = NULL;
    int rc = subsel_dense_load_npy(ctx, path, &d);
    if (rc == SUBSEL_OK)
        ck_assert_int_eq(subsel_dense_rows(d) * subsel_dense_cols(d), 200 * 50);
    else
        ck_assert_ptr_null(d);
    subsel_dense_free(d);
    return rc;
}

static int read_vector(subsel_ctx *ctx, const void *path)
{
    double v[64];
    int64_t n = 0;
    int rc = subsel_npy_read_f64(ctx, path, v, 64, &n);
    if (rc == SUBSEL_OK)
        ck_assert_int_eq(n, 50);
    return rc;
}

static int save_npz_deflate(subsel_ctx *ctx, const void *arg)
{
    const write_job *j = arg;
    return subsel_csr_save_npz(ctx, j->csr, j->path, 1);
}

static int save_npz_stored(subsel_ctx *ctx, const void *arg)
{
    const write_job *j = arg;
    return subsel_csr_save_npz(ctx, j->csr, j->path, 0);
}

static int save_npy(subsel_ctx *ctx, const void *arg)
{
    const write_job *j = arg;
    return subsel_dense_save_npy(ctx, j->dense, j->path);
}

static int write_vector(subsel_ctx *ctx, const void *arg)
{
    static const int64_t v[3] = {1, 2, 3};
    const write_job *j = arg;
    return subsel_npy_write_i64(ctx, j->path, v, 3);
}

static const char old_content[] = "the previous file";

static void put_old_file(const char *path)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(old_content, 1, sizeof old_content, f), sizeof old_content);
    fclose(f);
}

/* After a failed write: the old file is intact and no temporary is left. */
static void assert_untouched(const char *path)
{
    char buf[64], dir[512], *slash;
    struct dirent *e;
    DIR *d;
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(buf, 1, sizeof buf, f), sizeof old_content);
    fclose(f);
    ck_assert_mem_eq(buf, old_content, sizeof old_content);
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    *slash = '\0';
    d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        ck_assert_msg(strstr(e->d_name, ".tmp-") == NULL, "%s left behind", e->d_name);
    closedir(d);
}

/* One sweep's call with its destination file (or NULL). */
typedef struct sweep_job {
    io_op op;
    const void *arg;
    const char *dest;
} sweep_job;

/* A run of the sweep: on one thread (allocations in the same order every
 * run), with the old file in place, which a failure must leave intact. */
static int sweep_run(subsel_ctx *ctx, void *arg, int64_t n)
{
    const sweep_job *job = arg;
    int rc;
    (void)n;
    if (job->dest != NULL)
        put_old_file(job->dest);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1));
    rc = job->op(ctx, job->arg);
    if (rc == SUBSEL_E_NOMEM && job->dest != NULL)
        assert_untouched(job->dest);
    return rc;
}

/* Runs op under the allocation-failure sweep (tests/helpers.h). `dest` is
 * a written file, or NULL. */
static void sweep(io_op op, const void *arg, const char *dest, const char *what)
{
    sweep_job job = {op, arg, dest};
    ck_assert_int_gt(alloc_sweep(what, sweep_run, NULL, &job), 0); /* it did allocate */
}

START_TEST(readers_survive_every_allocation_failure)
{
    char path[512];
    snprintf(path, sizeof path, "%s", fixture_path("fb/Z.npz"));
    sweep(load_npz, path, NULL, "load Z.npz (deflate)");
    snprintf(path, sizeof path, "%s", fixture_path("fb/Z_uncompressed.npz"));
    sweep(load_npz, path, NULL, "load Z_uncompressed.npz (stored)");
    snprintf(path, sizeof path, "%s", fixture_path("tarot/score.npy"));
    sweep(load_npy, path, NULL, "load score.npy");
    snprintf(path, sizeof path, "%s", fixture_path("fb/w.npy"));
    sweep(read_vector, path, NULL, "read w.npy");
}
END_TEST

START_TEST(writers_survive_every_allocation_failure)
{
    subsel_ctx *ctx;
    subsel_csr *m;
    subsel_dense *d;
    char dest[512];
    write_job job;

    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, fixture_path("fb/Z.npz"), &m));
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, fixture_path("uniprot/S.npy"), &d));
    snprintf(dest, sizeof dest, "%s", temp_path("out.bin"));
    job.csr = m;
    job.dense = d;
    job.path = dest;
    sweep(save_npz_deflate, &job, dest, "save_npz compressed");
    sweep(save_npz_stored, &job, dest, "save_npz stored");
    sweep(save_npy, &job, dest, "save_npy");
    sweep(write_vector, &job, dest, "write_i64");
    subsel_csr_free(m);
    subsel_dense_free(d);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---- computations --------------------------------------------------- */

/* Inputs of the computation sweeps, made once with a plain context. */
typedef struct problem {
    subsel_dense *source, *target, *batch; /* 12 x 4, 10 x 4, 16 x 4 */
    int64_t source_labels[12], target_labels[10];
    double cost[5 * 4], a[5], b[4];
    subsel_csr *pool, *target_csr; /* 30 x 12 and 6 x 12, nonnegative */
    double quality[30], weights[12], p[12];
} problem;

static subsel_dense *random_dense(subsel_ctx *ctx, ss_rng *rng, int64_t rows,
                                  int64_t cols)
{
    float x[64];
    subsel_dense *d = NULL;
    int64_t i;
    ck_assert_int_le(rows * cols, 64);
    for (i = 0; i < rows * cols; i++)
        x[i] = (float)ss_rng_normal(rng);
    ck_assert_ok(ctx, subsel_dense_create(ctx, rows, cols, x, SUBSEL_COPY, &d));
    return d;
}

/* A nonnegative CSR with about 3 entries per row; row 0 is empty. */
static subsel_csr *random_csr(subsel_ctx *ctx, ss_rng *rng, int64_t rows,
                              int64_t cols)
{
    int64_t ip[31], i, c, nnz = 0;
    int32_t ix[31 * 12];
    float v[31 * 12];
    subsel_csr *m = NULL;
    ip[0] = 0;
    for (i = 0; i < rows; i++) {
        for (c = 0; c < cols && i > 0; c++)
            if (ss_rng_uniform(rng) < 0.25) {
                ix[nnz] = (int32_t)c;
                v[nnz++] = (float)(0.1 + ss_rng_uniform(rng));
            }
        ip[i + 1] = nnz;
    }
    ck_assert_ok(ctx, subsel_csr_create(ctx, rows, cols, ip, ix, v, SUBSEL_COPY, &m));
    return m;
}

static void problem_make(problem *P, subsel_ctx *ctx)
{
    ss_rng rng;
    int64_t i;
    ss_rng_seed(&rng, 91, 0);
    P->source = random_dense(ctx, &rng, 12, 4);
    P->target = random_dense(ctx, &rng, 10, 4);
    P->batch = random_dense(ctx, &rng, 16, 4);
    for (i = 0; i < 12; i++)
        P->source_labels[i] = i % 3;
    for (i = 0; i < 10; i++)
        P->target_labels[i] = i % 4;
    for (i = 0; i < 20; i++)
        P->cost[i] = ss_rng_uniform(&rng);
    for (i = 0; i < 5; i++)
        P->a[i] = 0.2;
    for (i = 0; i < 4; i++)
        P->b[i] = 0.25;
    P->pool = random_csr(ctx, &rng, 30, 12);
    P->target_csr = random_csr(ctx, &rng, 6, 12);
    for (i = 0; i < 30; i++)
        P->quality[i] = ss_rng_uniform(&rng);
    for (i = 0; i < 12; i++) {
        P->weights[i] = 0.5 + ss_rng_uniform(&rng);
        P->p[i] = 1.0 + (double)(i % 4);
    }
}

static void problem_free(problem *P)
{
    subsel_dense_free(P->source);
    subsel_dense_free(P->target);
    subsel_dense_free(P->batch);
    subsel_csr_free(P->pool);
    subsel_csr_free(P->target_csr);
}

/* A selection of `budget` by `algorithm` on f; the selection is checked
 * when the run succeeds and must be NULL when it fails. */
static int optimize(subsel_ctx *ctx, const subsel_objective *f, int algorithm,
                    int64_t budget, int64_t runs)
{
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = (subsel_selection *)ctx;
    int rc = subsel_optimizer_create(ctx, algorithm, &opt);
    if (rc != SUBSEL_OK) {
        ck_assert_ptr_null(opt);
        return rc;
    }
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, budget));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_RUNS, runs));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE,
                                               SUBSEL_STOP_NEVER));
    rc = subsel_optimizer_run(ctx, opt, f, &sel);
    if (rc == SUBSEL_OK)
        ck_assert_int_eq(subsel_selection_count(sel), runs > 1 ? subsel_selection_count(sel)
                                                               : budget);
    else
        ck_assert_ptr_null(sel);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    return rc;
}

static int uniprot_paths(subsel_ctx *ctx, const void *arg)
{
    const problem *P = arg;
    subsel_objective *f = (subsel_objective *)ctx;
    subsel_selection *sel = (subsel_selection *)ctx;
    static const int64_t set[3] = {4, 0, 9};
    double plan[3 * 10], value;
    int rc = subsel_uniprot_create_from_features(ctx, P->source, P->target, SUBSEL_SIM_COSINE,
                                                 3, 0.1, &f);
    if (rc != SUBSEL_OK) {
        ck_assert_ptr_null(f);
        return rc;
    }
    rc = optimize(ctx, f, SUBSEL_OPT_LAZY, 3, 1);
    if (rc == SUBSEL_OK)
        rc = subsel_uniprot_plan(ctx, f, set, 3, plan, &value);
    if (rc == SUBSEL_OK)
        rc = subsel_uniprot_set_gain(ctx, f, SUBSEL_UNIPROT_GAIN_EXACT);
    if (rc == SUBSEL_OK)
        rc = optimize(ctx, f, SUBSEL_OPT_NAIVE, 1, 1);
    subsel_objective_free(f);
    if (rc != SUBSEL_OK)
        return rc;
    rc = subsel_uniprot_select_batch(ctx, P->batch, 0.25, 0.1, SUBSEL_SIM_DOT, &sel);
    if (rc == SUBSEL_OK)
        ck_assert_int_eq(subsel_selection_count(sel), 4);
    else
        ck_assert_ptr_null(sel);
    subsel_selection_free(sel);
    return rc;
}

static int ot_paths(subsel_ctx *ctx, const void *arg)
{
    const problem *P = arg;
    subsel_ot_solver *solver = (subsel_ot_solver *)ctx;
    double value = 0, f[12], g[12], plan[12 * 10];
    int rc = subsel_ot_solver_create(ctx, &solver);
    if (rc != SUBSEL_OK) {
        ck_assert_ptr_null(solver);
        return rc;
    }
    rc = subsel_ot_sinkhorn(ctx, solver, P->a, 5, P->b, 4, P->cost, 0.1, &value, f, g, plan);
    if (rc == SUBSEL_OK)
        rc = subsel_ot_partial(ctx, solver, P->a, 5, P->b, 4, P->cost, 0.1, 0.6, &value, f, g,
                               plan);
    if (rc == SUBSEL_OK)
        rc = subsel_ot_sinkhorn_points(ctx, solver, NULL, P->source, NULL, P->target,
                                       SUBSEL_COST_SQEUCLID, 0.5, &value, f, g, plan);
    if (rc == SUBSEL_OK)
        rc = subsel_ot_partial_points(ctx, solver, NULL, P->source, NULL, P->target,
                                      SUBSEL_COST_COSINE, 0.1, 0.5, &value, f, g, plan);
    if (rc == SUBSEL_OK)
        ck_assert(isfinite(value));
    subsel_ot_solver_free(solver);
    return rc;
}

static int nn_accuracy_path(subsel_ctx *ctx, const void *arg)
{
    const problem *P = arg;
    static const int64_t prototypes[4] = {1, 5, 7, 10};
    double accuracy = -1;
    int rc = subsel_nn_accuracy(ctx, P->source, P->source_labels, prototypes, 4, P->target,
                                P->target_labels, SUBSEL_SIM_NEG_SQEUCLID, &accuracy);
    if (rc == SUBSEL_OK)
        ck_assert(accuracy >= 0 && accuracy <= 1);
    else
        ck_assert_double_eq(accuracy, -1);
    return rc;
}

static int sdm_paths(subsel_ctx *ctx, const void *arg)
{
    const problem *P = arg;
    static const double edges[2] = {0.3, 0.6}, bin_weights[3] = {0.1, 0.3, 0.6};
    static const int64_t set[4] = {3, 17, 8, 0};
    subsel_objective *f = (subsel_objective *)ctx;
    int64_t bins[30];
    double kl, value, gain;
    int rc = subsel_sdm_create(ctx, P->pool, &f);
    if (rc != SUBSEL_OK) {
        ck_assert_ptr_null(f);
        return rc;
    }
    rc = subsel_sdm_set_target(ctx, f, P->target_csr);
    if (rc == SUBSEL_OK)
        rc = subsel_sdm_set_quality(ctx, f, P->quality, 30, 3);
    if (rc == SUBSEL_OK)
        rc = optimize(ctx, f, SUBSEL_OPT_LAZY, 8, 1);
    if (rc == SUBSEL_OK)
        rc = subsel_sdm_set_quality_edges(ctx, f, P->quality, 30, edges, 2);
    if (rc == SUBSEL_OK)
        rc = subsel_sdm_set_bin_weights(ctx, f, bin_weights, 3);
    if (rc == SUBSEL_OK)
        rc = subsel_sdm_quality_bins(ctx, f, bins, 30);
    if (rc == SUBSEL_OK)
        rc = subsel_sdm_set_target_distribution(ctx, f, P->p, 12);
    if (rc == SUBSEL_OK)
        rc = optimize(ctx, f, SUBSEL_OPT_NAIVE, 5, 1);
    if (rc == SUBSEL_OK)
        rc = subsel_sdm_kl(ctx, f, set, 4, &kl);
    if (rc == SUBSEL_OK)
        rc = subsel_objective_evaluate(ctx, f, set, 4, &value);
    if (rc == SUBSEL_OK)
        rc = subsel_objective_gain(ctx, f, set, 3, 5, &gain);
    subsel_objective_free(f);
    return rc;
}

static int fb_paths(subsel_ctx *ctx, const void *arg)
{
    const problem *P = arg;
    int concave, rc = SUBSEL_OK;
    for (concave = SUBSEL_CONCAVE_LOG1P; concave <= SUBSEL_CONCAVE_POW && rc == SUBSEL_OK;
         concave++) {
        subsel_objective *f = (subsel_objective *)ctx;
        rc = subsel_fb_create(ctx, P->pool, concave, 0.5, concave % 2 ? P->weights : NULL, &f);
        if (rc != SUBSEL_OK) {
            ck_assert_ptr_null(f);
            break;
        }
        rc = optimize(ctx, f, concave % 3 == 0   ? SUBSEL_OPT_NAIVE
                              : concave % 3 == 1 ? SUBSEL_OPT_LAZY
                                                 : SUBSEL_OPT_LAZIER,
                      6, concave % 3 == 2 ? 2 : 1);
        subsel_objective_free(f);
    }
    return rc;
}

START_TEST(computations_survive_every_allocation_failure)
{
    subsel_ctx *ctx;
    problem P;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    problem_make(&P, ctx);
    switch (_i) {
    case 0:
        sweep(uniprot_paths, &P, NULL, "UniPROT");
        break;
    case 1:
        sweep(ot_paths, &P, NULL, "OT");
        break;
    case 2:
        sweep(nn_accuracy_path, &P, NULL, "1-NN accuracy");
        break;
    case 3:
        sweep(sdm_paths, &P, NULL, "SDM");
        break;
    default:
        sweep(fb_paths, &P, NULL, "FB");
        break;
    }
    problem_free(&P);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *allocfail_suite(void)
{
    Suite *s = suite_create("allocfail");
    TCase *tc = tcase_create("io");
    tcase_add_test(tc, readers_survive_every_allocation_failure);
    tcase_add_test(tc, writers_survive_every_allocation_failure);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);

    tc = tcase_create("computations");
    tcase_add_loop_test(tc, computations_survive_every_allocation_failure, 0, 5);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return s;
}
