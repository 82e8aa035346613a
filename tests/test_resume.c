/* SPDX-License-Identifier: MIT */
/*
 * Warm starts and resumed runs (issue 16): an initial set followed by the
 * greedy continuation equals a brute-force greedy forced to take those
 * items first; a run cancelled and resumed from its checkpoint, once or
 * several times, returns the selection, gains and value of the
 * uninterrupted run for every greedy algorithm (stochastic ones with their
 * seed); bad initial sets and checkpoints of other runs or objectives are
 * refused with their statuses; allocation failures leak nothing.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/helpers.h"
#include "tests/suites.h"

static const int algorithms[] = {SUBSEL_ALGORITHM_NAIVE, SUBSEL_ALGORITHM_LAZY,
                                 SUBSEL_ALGORITHM_STOCHASTIC, SUBSEL_ALGORITHM_LAZIER};

static subsel_ctx *new_ctx(void)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, 7));
    return ctx;
}

static subsel_optimizer *new_optimizer(subsel_ctx *ctx, int algorithm, int64_t budget)
{
    subsel_optimizer *opt;
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, algorithm, &opt));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_BUDGET, budget));
    return opt;
}

static subsel_selection *run(subsel_ctx *ctx, const subsel_optimizer *opt,
                             const subsel_objective *f)
{
    subsel_selection *sel;
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
    return sel;
}

/* The same items, gains (bit for bit) and value. */
static void assert_same_selection(const subsel_selection *a, const subsel_selection *b,
                                  const char *what)
{
    int64_t i;
    ck_assert_msg(subsel_selection_count(a) == subsel_selection_count(b),
                  "%s: %lld items, uninterrupted %lld", what,
                  (long long)subsel_selection_count(b), (long long)subsel_selection_count(a));
    for (i = 0; i < subsel_selection_count(a); i++) {
        ck_assert_msg(subsel_selection_indices(a)[i] == subsel_selection_indices(b)[i],
                      "%s: item %lld is %lld, uninterrupted %lld", what, (long long)i,
                      (long long)subsel_selection_indices(b)[i],
                      (long long)subsel_selection_indices(a)[i]);
        ck_assert_msg(memcmp(&subsel_selection_gains(a)[i], &subsel_selection_gains(b)[i],
                             sizeof(double)) == 0,
                      "%s: gain %lld differs", what, (long long)i);
    }
    ck_assert_msg(subsel_selection_value(a) == subsel_selection_value(b), "%s: value differs",
                  what);
}

static subsel_objective *fb(subsel_ctx *ctx, const subsel_csr *z)
{
    subsel_objective *f;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_LOG1P, 0, NULL, &f));
    return f;
}

/* ---- initial sets ------------------------------------------------------ */

/* Brute force: the initial items in order, then each step the item whose
 * f(S + i), evaluated from scratch, is largest (lowest index on ties). */
START_TEST(initial_set_then_greedy_equals_forced_brute_force)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 31, 30, 20, 4);
    subsel_objective *f = fb(ctx, z);
    const int64_t initial[] = {17, 4, 29};
    const int64_t budget = 9;
    subsel_optimizer *opt = new_optimizer(ctx, algorithms[_i], budget);
    subsel_selection *sel;
    int64_t set[30], step, i;

    ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, initial, 3));
    sel = run(ctx, opt, f);
    ck_assert_int_eq(subsel_selection_count(sel), budget);
    ck_assert_int_eq(subsel_selection_budget(sel), budget);
    for (step = 0; step < budget; step++) {
        double base, best = -1, with;
        int64_t best_item = -1, k;
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, set, step, &base));
        if (step < 3) {
            /* forced: the initial items first, with their gains */
            set[step] = initial[step];
            ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, set, step + 1, &with));
            ck_assert_int_eq(subsel_selection_indices(sel)[step], initial[step]);
            ck_assert_double_le(fabs(subsel_selection_gains(sel)[step] - (with - base)),
                                1e-10 * fabs(with - base) + 1e-14);
            continue;
        }
        for (i = 0; i < 30; i++) {
            int in = 0;
            for (k = 0; k < step; k++)
                in |= set[k] == i;
            if (in)
                continue;
            set[step] = i;
            ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, set, step + 1, &with));
            if (with - base > best + 1e-12 * fabs(best)) {
                best = with - base;
                best_item = i;
            }
        }
        set[step] = subsel_selection_indices(sel)[step];
        if (algorithms[_i] == SUBSEL_ALGORITHM_NAIVE || algorithms[_i] == SUBSEL_ALGORITHM_LAZY) {
            ck_assert_msg(set[step] == best_item ||
                              fabs(subsel_selection_gains(sel)[step] - best) <= 1e-12 * best,
                          "step %lld: chose %lld, forced brute force %lld", (long long)step,
                          (long long)set[step], (long long)best_item);
        } else {
            /* a sample's best: never an initial item, never twice */
            for (k = 0; k < step; k++)
                ck_assert_int_ne(set[k], set[step]);
        }
    }
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* Lazy = naive and lazier = stochastic from an initial set too; every run
 * of an intersection starts from it; clearing it gives the plain run; the
 * budget counts the initial items, which may fill it. */
START_TEST(initial_set_keeps_the_algorithms_relations)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 5, 400, 64, 8);
    subsel_objective *f = fb(ctx, z);
    const int64_t initial[] = {399, 0, 123, 57};
    subsel_selection *sel[4], *plain, *cleared, *full, *runs;
    subsel_optimizer *opt;
    int a, i;
    for (a = 0; a < 4; a++) {
        opt = new_optimizer(ctx, algorithms[a], 40);
        ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, initial, 4));
        sel[a] = run(ctx, opt, f);
        for (i = 0; i < 4; i++)
            ck_assert_int_eq(subsel_selection_indices(sel[a])[i], initial[i]);
        subsel_optimizer_free(opt);
    }
    assert_same_selection(sel[0], sel[1], "lazy from an initial set");
    assert_same_selection(sel[2], sel[3], "lazier from an initial set");

    opt = new_optimizer(ctx, SUBSEL_ALGORITHM_LAZY, 40);
    plain = run(ctx, opt, f);
    ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, initial, 4));
    ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, NULL, 0));
    cleared = run(ctx, opt, f);
    assert_same_selection(plain, cleared, "a cleared initial set");
    ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, initial, 4));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_BUDGET, 4));
    full = run(ctx, opt, f);
    ck_assert_int_eq(subsel_selection_count(full), 4);
    ck_assert_int_eq(subsel_selection_short_reason(full), SUBSEL_SHORT_NONE);
    subsel_optimizer_free(opt);

    opt = new_optimizer(ctx, SUBSEL_ALGORITHM_STOCHASTIC, 40);
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_RUNS, 3));
    ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, initial, 4));
    runs = run(ctx, opt, f);
    for (i = 0; i < 4; i++) {
        int64_t k, found = 0;
        for (k = 0; k < subsel_selection_count(runs); k++)
            found |= subsel_selection_indices(runs)[k] == initial[i];
        ck_assert_msg(found, "initial item %lld missing from the intersection",
                      (long long)initial[i]);
    }
    subsel_optimizer_free(opt);
    for (a = 0; a < 4; a++)
        subsel_selection_free(sel[a]);
    subsel_selection_free(plain);
    subsel_selection_free(cleared);
    subsel_selection_free(full);
    subsel_selection_free(runs);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(bad_initial_sets_are_refused)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 6, 50, 16, 4);
    subsel_objective *f = fb(ctx, z);
    subsel_optimizer *opt = new_optimizer(ctx, SUBSEL_ALGORITHM_NAIVE, 5);
    subsel_selection *sel = (subsel_selection *)ctx;
    subsel_summary *summary = NULL;
    const int64_t ok[] = {1, 2}, dup[] = {3, 9, 3}, neg[] = {4, -1};
    const int64_t far[] = {2, 50}, many[] = {0, 1, 2, 3, 4, 5};

    ck_assert_int_eq(subsel_optimizer_set_initial(NULL, opt, ok, 2), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_optimizer_set_initial(ctx, NULL, ok, 2), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_optimizer_set_initial(ctx, opt, NULL, 2), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_optimizer_set_initial(ctx, opt, ok, -1), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_optimizer_set_initial(ctx, opt, dup, 3), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "index 3 appears more than once"));
    ck_assert_status(ctx, subsel_optimizer_set_initial(ctx, opt, neg, 2), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "negative"));

    /* checked against the objective and the budget at run time */
    ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, far, 2));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_INVALID);
    ck_assert_ptr_null(sel);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "initial set"));
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "outside [0, 50)"));
    ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, many, 6));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "more than the budget of 5"));

    /* what takes no initial set */
    ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, ok, 2));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_PARTS, 2));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_UNSUPPORTED);
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_PARTS, 0));
    sel = run(ctx, opt, f); /* automatic parts: one */
    ck_assert_int_eq(subsel_selection_indices(sel)[0], 1);
    subsel_selection_free(sel);
    ck_assert_status(ctx, subsel_summary_select(ctx, opt, f, 0, 50, &summary),
                     SUBSEL_E_UNSUPPORTED);
    ck_assert_ptr_null(summary);
    subsel_optimizer_free(opt);
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_DOUBLE_GREEDY, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_checkpoint(ctx, opt, temp_path("double-greedy.ckpt.npz")));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "double greedy takes an initial set but no checkpoint"));
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---- checkpoints ------------------------------------------------------- */

static int cancel_at(void *user, const char *stage, int64_t done, int64_t total)
{
    (void)total;
    return strcmp(stage, "select") == 0 && done >= *(const int64_t *)user;
}

/* A run of opt cancelled once `stop` items are chosen; its checkpoint
 * then holds them. */
static void run_until(subsel_ctx *ctx, const subsel_optimizer *opt, const subsel_objective *f,
                      int64_t stop)
{
    subsel_selection *sel = (subsel_selection *)ctx;
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, cancel_at, &stop));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_CANCELLED);
    ck_assert_ptr_null(sel);
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, NULL, NULL));
}

/* Each algorithm, without and with an initial set: the uninterrupted run;
 * a run cancelled at 23 items, resumed and cancelled again at 41 (its
 * checkpoint written every 10 items and on cancelling), resumed to the
 * end; and a resume from a checkpoint written on schedule only. */
START_TEST(resume_equals_uninterrupted)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 8, 500, 64, 8);
    subsel_objective *f = fb(ctx, z);
    const int algorithm = algorithms[_i % 4];
    const int64_t initial[] = {250, 3};
    const int warm = _i >= 4;
    const char *path = temp_path("resume.ckpt.npz");
    const char *scheduled = temp_path("scheduled.ckpt.npz");
    subsel_optimizer *opt;
    subsel_selection *whole, *resumed, *again;
    char what[64];

    opt = new_optimizer(ctx, algorithm, 60);
    if (warm)
        ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, initial, 2));
    whole = run(ctx, opt, f);
    subsel_optimizer_free(opt);

    opt = new_optimizer(ctx, algorithm, 60);
    if (warm)
        ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, initial, 2));
    ck_assert_ok(ctx, subsel_optimizer_set_checkpoint(ctx, opt, path));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_CHECKPOINT_EVERY, 10));
    run_until(ctx, opt, f, 23);
    ck_assert_ok(ctx, subsel_optimizer_resume(ctx, opt, path));
    run_until(ctx, opt, f, 41);
    ck_assert_ok(ctx, subsel_optimizer_resume(ctx, opt, path));
    resumed = run(ctx, opt, f);
    snprintf(what, sizeof what, "algorithm %d%s, resumed twice", algorithm,
             warm ? " from an initial set" : "");
    assert_same_selection(whole, resumed, what);
    subsel_optimizer_free(opt);

    /* a checkpoint written on schedule by a run that finished */
    opt = new_optimizer(ctx, algorithm, 60);
    if (warm)
        ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, initial, 2));
    ck_assert_ok(ctx, subsel_optimizer_set_checkpoint(ctx, opt, scheduled));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_CHECKPOINT_EVERY, 25));
    subsel_selection_free(run(ctx, opt, f));
    ck_assert_ok(ctx, subsel_optimizer_set_checkpoint(ctx, opt, NULL));
    ck_assert_ok(ctx, subsel_optimizer_resume(ctx, opt, scheduled));
    again = run(ctx, opt, f);
    snprintf(what, sizeof what, "algorithm %d%s, from step 50", algorithm,
             warm ? " from an initial set" : "");
    assert_same_selection(whole, again, what);
    subsel_optimizer_free(opt);

    subsel_selection_free(whole);
    subsel_selection_free(resumed);
    subsel_selection_free(again);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* A checkpoint names its run: another budget, seed, algorithm, epsilon,
 * ground set or objective is refused at run time, with the difference
 * named; a file that is no checkpoint at resume. */
START_TEST(mismatched_checkpoints_are_refused)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 9, 300, 32, 6);
    subsel_csr *other_z = random_pool(ctx, 10, 300, 32, 6);
    subsel_csr *small_z = random_pool(ctx, 9, 299, 32, 6);
    subsel_objective *f = fb(ctx, z), *other = fb(ctx, other_z), *small = fb(ctx, small_z);
    const char *path = temp_path("mismatch.ckpt.npz");
    const char *npy = temp_path("not-a-checkpoint.npy");
    const int64_t items[] = {1, 2, 3};
    subsel_optimizer *opt = new_optimizer(ctx, SUBSEL_ALGORITHM_STOCHASTIC, 30);
    subsel_selection *sel = (subsel_selection *)ctx;

    ck_assert_ok(ctx, subsel_optimizer_set_checkpoint(ctx, opt, path));
    run_until(ctx, opt, f, 12);
    ck_assert_ok(ctx, subsel_optimizer_set_checkpoint(ctx, opt, NULL));
    ck_assert_ok(ctx, subsel_optimizer_resume(ctx, opt, path));

#define REFUSED(status, text)                                                  \
    do {                                                                       \
        ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), status); \
        ck_assert_ptr_null(sel);                                               \
        ck_assert_msg(strstr(subsel_ctx_last_error(ctx), text) != NULL,        \
                      "'%s' lacks '%s'", subsel_ctx_last_error(ctx), text);    \
    } while (0)
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_BUDGET, 31));
    REFUSED(SUBSEL_E_INVALID, "budget is 30, this run's 31");
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_BUDGET, 30));
    ck_assert_ok(ctx, subsel_param_set_real(ctx, opt, SUBSEL_P_EPSILON, 0.01));
    REFUSED(SUBSEL_E_INVALID, "epsilon");
    ck_assert_ok(ctx, subsel_param_set_real(ctx, opt, SUBSEL_P_EPSILON, 1e-3));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, 8));
    REFUSED(SUBSEL_E_INVALID, "seed is 7, this run's 8");
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, 7));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_RUNS, 2));
    REFUSED(SUBSEL_E_UNSUPPORTED, "single run");
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_RUNS, 1));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, other, &sel), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "does not belong to this objective"));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, small, &sel), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "ground set size is 300"));
    /* the same file still resumes the run it belongs to */
    sel = run(ctx, opt, f);
    ck_assert_int_eq(subsel_selection_count(sel), 30);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);

    opt = new_optimizer(ctx, SUBSEL_ALGORITHM_LAZIER, 30);
    ck_assert_ok(ctx, subsel_optimizer_resume(ctx, opt, path));
    REFUSED(SUBSEL_E_INVALID, "algorithm is 1002, this run's 1003");
    subsel_optimizer_free(opt);

    /* no checkpoint: refused at resume, the optimizer left as it was */
    opt = new_optimizer(ctx, SUBSEL_ALGORITHM_NAIVE, 5);
    ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, items, 3));
    ck_assert_ok(ctx, subsel_npy_write_i64(ctx, npy, items, 3));
    ck_assert_status(ctx, subsel_optimizer_resume(ctx, opt, npy), SUBSEL_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), npy));
    ck_assert_status(ctx, subsel_optimizer_resume(ctx, opt, temp_path("missing.npz")),
                     SUBSEL_E_IO);
    ck_assert_status(ctx, subsel_optimizer_resume(ctx, opt, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_optimizer_set_checkpoint(ctx, opt, ""), SUBSEL_E_INVALID);
    sel = run(ctx, opt, f);
    ck_assert_int_eq(subsel_selection_indices(sel)[2], 3);
    subsel_selection_free(sel);
    /* a checkpoint that cannot be written fails the run */
    ck_assert_ok(ctx, subsel_optimizer_set_checkpoint(ctx, opt, "/nonexistent/dir/c.npz"));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_CHECKPOINT_EVERY, 4));
    REFUSED(SUBSEL_E_IO, "checkpoint");
#undef REFUSED
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_objective_free(other);
    subsel_objective_free(small);
    subsel_csr_free(z);
    subsel_csr_free(other_z);
    subsel_csr_free(small_z);
    subsel_ctx_free(ctx);
}
END_TEST

/* Every allocation of a warm start, a checkpointed run and a resume can
 * fail with nothing leaked and no selection returned. */
typedef struct sweep_job {
    const subsel_csr *z;
    const char *path;
} sweep_job;

static int resume_sweep(subsel_ctx *ctx, void *arg, int64_t n)
{
    const sweep_job *job = arg;
    const int64_t initial[] = {5, 9};
    subsel_objective *f = NULL;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL;
    int rc;
    (void)n;
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1));
    rc = subsel_fb_create(ctx, job->z, SUBSEL_CONCAVE_SQRT, 0, NULL, &f);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_LAZIER, &opt);
    if (rc == SUBSEL_OK)
        rc = subsel_param_set_int(ctx, opt, SUBSEL_P_BUDGET, 12);
    if (rc == SUBSEL_OK)
        rc = subsel_param_set_int(ctx, opt, SUBSEL_P_CHECKPOINT_EVERY, 5);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_set_initial(ctx, opt, initial, 2);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_set_checkpoint(ctx, opt, job->path);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_run(ctx, opt, f, &sel);
    subsel_selection_free(sel);
    sel = NULL;
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_resume(ctx, opt, job->path);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_run(ctx, opt, f, &sel);
    if (rc == SUBSEL_OK)
        ck_assert_int_eq(subsel_selection_count(sel), 12);
    else
        ck_assert_ptr_null(sel);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    return rc;
}

START_TEST(allocation_failures_are_clean)
{
    subsel_ctx *plain = new_ctx();
    subsel_csr *z = random_pool(plain, 12, 150, 24, 5);
    sweep_job job = {z, temp_path("sweep.ckpt.npz")};
    ck_assert_int_gt(alloc_sweep("warm start, checkpoint, resume", resume_sweep, NULL, &job),
                     10);
    subsel_csr_free(z);
    subsel_ctx_free(plain);
}
END_TEST

Suite *resume_suite(void)
{
    Suite *s = suite_create("resume");
    TCase *tc = tcase_create("initial set");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, initial_set_then_greedy_equals_forced_brute_force, 0, 4);
    tcase_add_test(tc, initial_set_keeps_the_algorithms_relations);
    tcase_add_test(tc, bad_initial_sets_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("checkpoint");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, resume_equals_uninterrupted, 0, 8);
    tcase_add_test(tc, mismatched_checkpoints_are_refused);
    tcase_add_test(tc, allocation_failures_are_clean);
    suite_add_tcase(s, tc);
    return s;
}
