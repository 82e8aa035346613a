/* SPDX-License-Identifier: MIT */
/*
 * Internals every layer relies on, tested once: the one ranking order
 * (core/rank.h) and the calls through which optimizers drive objectives
 * (objectives/objective.h), which own the NaN checks and the evaluation
 * counts for every algorithm. The objective here is the test-only cut
 * function with a fault injected: one item's gain or loss comes out NaN,
 * and every item it computes is counted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rank.h"
#include "optim/optim.h"
#include "tests/cut.h"
#include "tests/helpers.h"
#include "tests/suites.h"

static subsel_ctx *new_ctx(void)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1));
    return ctx;
}

/* ---- the ranking order --------------------------------------------------- */

START_TEST(rank_order_is_larger_value_then_lower_index)
{
    ck_assert(ss_ranks_before(2.0, 7, 1.0, 0));
    ck_assert(!ss_ranks_before(1.0, 0, 2.0, 7));
    ck_assert(ss_ranks_before(1.0, 3, 1.0, 4)); /* a tie: the lower index */
    ck_assert(!ss_ranks_before(1.0, 4, 1.0, 3));
    ck_assert(!ss_ranks_before(1.0, 4, 1.0, 4)); /* not before itself */
    ck_assert(ss_ranks_before(-0.0, 1, 0.0, 2)); /* -0 == 0: a tie */
    ck_assert(ss_ranks_before(INFINITY, 9, 1e308, 0));
    /* NaN ranks neither before nor after anything */
    ck_assert(!ss_ranks_before(NAN, 0, 1.0, 1));
    ck_assert(!ss_ranks_before(1.0, 1, NAN, 0));
    /* floats and int32 indices convert exactly: neighbours stay apart */
    ck_assert(ss_ranks_before(nextafterf(1.0f, 2.0f), 5, 1.0f, 0));
    ck_assert(ss_ranks_before(1.0f, INT32_MAX - 1, 1.0f, INT32_MAX));
    ck_assert_int_eq(ss_rank_compare(2.0, 0, 1.0, 0), -1);
    ck_assert_int_eq(ss_rank_compare(1.0, 0, 2.0, 0), 1);
    ck_assert_int_eq(ss_rank_compare(1.0, 2, 1.0, 1), 1);
    ck_assert_int_eq(ss_rank_compare(1.0, 2, 1.0, 2), 0);
}
END_TEST

typedef struct entry {
    double value;
    int64_t index;
} entry;

static int by_rank(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return ss_rank_compare(x->value, x->index, y->value, y->index);
}

/* qsort with the comparison form sorts many ties into one total order,
 * whatever order the entries came in. */
START_TEST(rank_compare_sorts_ties_by_index)
{
    enum { N = 200 };
    entry e[N];
    int64_t i, j;
    for (i = 0; i < N; i++) {
        j = (i * 73) % N; /* a permutation of the indices */
        e[i].index = j;
        e[i].value = (double)(j % 5);
    }
    qsort(e, N, sizeof *e, by_rank);
    for (i = 1; i < N; i++)
        ck_assert(e[i - 1].value > e[i].value ||
                  (e[i - 1].value == e[i].value && e[i - 1].index < e[i].index));
}
END_TEST

/* ---- the calls into objectives --------------------------------------------- */

/* The fault: the gain of nan_gain_item and the loss of nan_loss_item are
 * NaN (-1: none); `computed` counts every item whose gain or loss the
 * objective computed. */
static int64_t nan_gain_item = -1, nan_loss_item = -1, computed;
static ss_objective_ops faulty_ops;

static int faulty_gains(subsel_ctx *ctx, const subsel_objective *obj,
                        const void *state, const int64_t *items, int64_t count,
                        double *out)
{
    int64_t j;
    int rc = ss_cut_ops.gains(ctx, obj, state, items, count, out);
    __atomic_add_fetch(&computed, count, __ATOMIC_SEQ_CST);
    for (j = 0; j < count; j++)
        if (items[j] == nan_gain_item)
            out[j] = NAN;
    return rc;
}

static int faulty_losses(subsel_ctx *ctx, const subsel_objective *obj,
                         const void *state, const int64_t *items, int64_t count,
                         double *out)
{
    int64_t j;
    int rc = ss_cut_ops.losses(ctx, obj, state, items, count, out);
    __atomic_add_fetch(&computed, count, __ATOMIC_SEQ_CST);
    for (j = 0; j < count; j++)
        if (items[j] == nan_loss_item)
            out[j] = NAN;
    return rc;
}

/* A cut function over n vertices, weight w between every two (w = 0:
 * random weights), with the fault. */
static subsel_objective *faulty_cut(subsel_ctx *ctx, int64_t n, double w)
{
    double *weights = calloc((size_t)(n * n), sizeof *weights);
    subsel_objective *obj;
    int64_t i, j;
    ck_assert_ptr_nonnull(weights);
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            if (i != j)
                weights[i * n + j] = w > 0 ? w : (double)((i * 7 + j * 3) % 10) / 4.0;
    ck_assert_ok(ctx, ss_cut_create(ctx, n, weights, &obj));
    free(weights);
    faulty_ops = ss_cut_ops;
    faulty_ops.gains = faulty_gains;
    faulty_ops.losses = faulty_losses;
    obj->ops = &faulty_ops;
    nan_gain_item = nan_loss_item = -1;
    computed = 0;
    return obj;
}

static const int algorithms[] = {
    SUBSEL_OPT_NAIVE, SUBSEL_OPT_LAZY, SUBSEL_OPT_STOCHASTIC, SUBSEL_OPT_LAZIER,
    SUBSEL_OPT_DOUBLE_GREEDY, SUBSEL_OPT_DOUBLE_GREEDY_RANDOM,
};
#define ALGORITHMS ((int)(sizeof algorithms / sizeof algorithms[0]))

static int is_double_greedy(int algorithm)
{
    return algorithm == SUBSEL_OPT_DOUBLE_GREEDY ||
           algorithm == SUBSEL_OPT_DOUBLE_GREEDY_RANDOM;
}

static subsel_optimizer *optimizer(subsel_ctx *ctx, int algorithm, int64_t budget,
                                   int64_t runs)
{
    subsel_optimizer *opt;
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, algorithm, &opt));
    if (!is_double_greedy(algorithm))
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, budget));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_RUNS, runs));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE,
                                               SUBSEL_STOP_NEVER));
    return opt;
}

/* _i: the algorithm. A NaN gain is SUBSEL_E_NUMERIC naming the objective
 * and the item, whichever algorithm meets it; so is a NaN loss in double
 * greedy. */
START_TEST(every_algorithm_refuses_a_nan_gain)
{
    subsel_ctx *ctx = new_ctx();
    subsel_objective *obj = faulty_cut(ctx, 12, 0);
    subsel_optimizer *opt = optimizer(ctx, algorithms[_i], 4, 1);
    subsel_selection *sel = (subsel_selection *)ctx;
    nan_gain_item = 3;
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, obj, &sel), SUBSEL_E_NUMERIC);
    ck_assert_ptr_null(sel);
    ck_assert_str_eq(subsel_ctx_last_error(ctx), "cut function: gain of item 3 is NaN");
    if (is_double_greedy(algorithms[_i])) {
        nan_gain_item = -1;
        nan_loss_item = 5;
        ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, obj, &sel), SUBSEL_E_NUMERIC);
        ck_assert_ptr_null(sel);
        ck_assert_str_eq(subsel_ctx_last_error(ctx), "cut function: loss of item 5 is NaN");
        ck_assert_status(ctx, subsel_double_greedy(ctx, obj, NULL, 0, _i % 2, &sel),
                         SUBSEL_E_NUMERIC);
        ck_assert_ptr_null(sel);
    }
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    subsel_ctx_free(ctx);
}
END_TEST

/* _i: the algorithm. A selection's evaluation count is exactly the gains
 * (and losses) the objective computed for it: counted in one place, never
 * twice, never missed. With seeded runs, the gains of the intersection's
 * replay (one per kept item) are the only ones not counted. */
START_TEST(evaluations_are_what_the_objective_computed)
{
    int64_t runs;
    for (runs = 1; runs <= 3; runs += 2) {
        subsel_ctx *ctx = new_ctx();
        subsel_objective *obj = faulty_cut(ctx, 30, 0);
        subsel_optimizer *opt;
        subsel_selection *sel;
        int random = algorithms[_i] == SUBSEL_OPT_STOCHASTIC ||
                     algorithms[_i] == SUBSEL_OPT_LAZIER ||
                     algorithms[_i] == SUBSEL_OPT_DOUBLE_GREEDY_RANDOM;
        if (runs > 1 && !random) {
            subsel_objective_free(obj);
            subsel_ctx_free(ctx);
            continue;
        }
        opt = optimizer(ctx, algorithms[_i], 6, runs);
        ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &sel));
        ck_assert_int_gt(subsel_selection_evaluations(sel), 0);
        ck_assert_int_eq(computed, subsel_selection_evaluations(sel) +
                                       (runs > 1 ? subsel_selection_count(sel) : 0));
        subsel_selection_free(sel);
        subsel_optimizer_free(opt);
        subsel_objective_free(obj);
        subsel_ctx_free(ctx);
    }
}
END_TEST

/* _i: the algorithm (the greedy family). Every gain ties at every step (a
 * cut function with equal weights): each algorithm takes the lowest index
 * left, 0, 1, 2, ..., the order of core/rank.h. */
START_TEST(every_greedy_algorithm_breaks_ties_by_lowest_index)
{
    subsel_ctx *ctx = new_ctx();
    subsel_objective *obj = faulty_cut(ctx, 40, 1.0);
    /* epsilon small enough that the stochastic sample is the whole pool */
    subsel_optimizer *opt = optimizer(ctx, algorithms[_i], 10, 1);
    subsel_selection *sel;
    int64_t j;
    ck_assert_ok(ctx, subsel_optimizer_set_double(opt, SUBSEL_OPT_EPSILON, 1e-12));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), 10);
    for (j = 0; j < 10; j++)
        ck_assert_int_eq(subsel_selection_indices(sel)[j], j);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    subsel_ctx_free(ctx);
}
END_TEST

/* The helpers on their own: counts added only on success, NaN refused,
 * optional ops absent. */
START_TEST(call_helpers_own_checks_and_counts)
{
    subsel_ctx *ctx = new_ctx();
    subsel_objective *obj = faulty_cut(ctx, 8, 0);
    static const int64_t items[3] = {0, 4, 7};
    ss_objective_ops no_remove;
    double out[3];
    int64_t evaluations = 10;
    void *state = NULL;
    ck_assert_ok(ctx, ss_objective_ready(ctx, obj));
    ck_assert_ok(ctx, ss_objective_state_new(ctx, obj, &state));
    ck_assert_ok(ctx, ss_objective_gains(ctx, obj, state, items, 3, out, &evaluations));
    ck_assert_int_eq(evaluations, 13);
    ck_assert_ok(ctx, ss_objective_gains(ctx, obj, state, items, 3, out, NULL));
    ck_assert_ok(ctx, ss_objective_add(ctx, obj, state, 4));
    ck_assert_ok(ctx, ss_objective_losses(ctx, obj, state, &items[1], 1, out, &evaluations));
    ck_assert_int_eq(evaluations, 14);
    nan_gain_item = 7;
    ck_assert_status(ctx, ss_objective_gains(ctx, obj, state, items, 3, out, &evaluations),
                     SUBSEL_E_NUMERIC);
    ck_assert_int_eq(evaluations, 17); /* computed, then refused */
    ck_assert_str_eq(subsel_ctx_last_error(ctx), "cut function: gain of item 7 is NaN");
    ss_objective_prefetch(obj, state, items, 3, SS_PREFETCH_DATA); /* the cut has no prefetch */

    /* an objective that cannot remove items */
    no_remove = faulty_ops;
    no_remove.remove = NULL;
    no_remove.losses = NULL;
    obj->ops = &no_remove;
    ck_assert_int_eq(ss_objective_can_remove(obj), 0);
    ck_assert_status(ctx, ss_objective_losses(ctx, obj, state, &items[1], 1, out, &evaluations),
                     SUBSEL_E_UNSUPPORTED);
    ck_assert_int_eq(evaluations, 17);
    ck_assert_status(ctx, ss_objective_remove(ctx, obj, state, 4), SUBSEL_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "cannot remove items"));
    obj->ops = &faulty_ops;
    ck_assert_int_eq(ss_objective_can_remove(obj), 1);
    ss_objective_state_free(obj, state);
    ss_objective_state_free(obj, NULL); /* a no-op */
    subsel_objective_free(obj);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *internals_suite(void)
{
    Suite *s = suite_create("internals");
    TCase *tc = tcase_create("rank");
    tcase_add_test(tc, rank_order_is_larger_value_then_lower_index);
    tcase_add_test(tc, rank_compare_sorts_ties_by_index);
    suite_add_tcase(s, tc);

    tc = tcase_create("objective calls");
    tcase_add_loop_test(tc, every_algorithm_refuses_a_nan_gain, 0, ALGORITHMS);
    tcase_add_loop_test(tc, evaluations_are_what_the_objective_computed, 0, ALGORITHMS);
    tcase_add_loop_test(tc, every_greedy_algorithm_breaks_ties_by_lowest_index, 0, 4);
    tcase_add_test(tc, call_helpers_own_checks_and_counts);
    suite_add_tcase(s, tc);
    return s;
}
