/* SPDX-License-Identifier: MIT */
/*
 * Optimizers: naive greedy against a brute-force greedy built on
 * subsel_objective_evaluate; lazy = naive; lazier = stochastic; the sample
 * size formula; determinism across thread counts and kernels; intersections
 * of seeded runs; filling the budget (SUBSEL_STOP_*) and saying why a
 * selection is short; options, errors, progress, cancellation and
 * allocation failures; selection over random parts (SUBSEL_P_PARTS).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "tests/cut.h"
#include "optim/optim.h"
#include "tests/helpers.h"
#include "tests/suites.h"

static subsel_ctx *new_ctx(void)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    return ctx;
}

/* One selection with the given options (parts 1: the exact algorithm). */
static subsel_selection *run_with(subsel_ctx *ctx, const subsel_objective *f, int algorithm,
                                  int64_t budget, int64_t runs, int64_t min_runs,
                                  int64_t parts, int64_t merge)
{
    subsel_optimizer *opt;
    subsel_selection *sel;
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, algorithm, &opt));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_BUDGET, budget));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_RUNS, runs));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_MIN_RUNS, min_runs));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_PARTS, parts));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_MERGE, merge));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
    subsel_optimizer_free(opt);
    return sel;
}

static subsel_selection *run(subsel_ctx *ctx, const subsel_objective *f,
                             int algorithm, int64_t budget, int64_t runs,
                             int64_t min_runs)
{
    return run_with(ctx, f, algorithm, budget, runs, min_runs, 1, SUBSEL_MERGE_UNION);
}

static void assert_same_selection(const subsel_selection *a, const subsel_selection *b)
{
    int64_t i;
    ck_assert_int_eq(subsel_selection_count(a), subsel_selection_count(b));
    for (i = 0; i < subsel_selection_count(a); i++) {
        ck_assert_int_eq(subsel_selection_indices(a)[i], subsel_selection_indices(b)[i]);
        ck_assert_msg(memcmp(&subsel_selection_gains(a)[i], &subsel_selection_gains(b)[i],
                             sizeof(double)) == 0,
                      "gain %lld differs", (long long)i);
    }
}

static const int concaves[] = {SUBSEL_CONCAVE_LOG1P, SUBSEL_CONCAVE_SQRT,
                               SUBSEL_CONCAVE_SATURATE, SUBSEL_CONCAVE_EXP,
                               SUBSEL_CONCAVE_MIN, SUBSEL_CONCAVE_POW};
static const double params[] = {0, 0, 0, 1.5, 2.0, 0.4};

START_TEST(naive_matches_brute_force_greedy)
{
    /* Brute force: each step, evaluate f(S + i) from scratch for every i
     * and keep the largest (lowest index on ties). */
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 21, 25, 20, 4);
    subsel_objective *f;
    subsel_selection *sel;
    int64_t set[25], step, i;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, concaves[_i], params[_i], NULL, &f));
    sel = run(ctx, f, SUBSEL_OPT_NAIVE, 8, 1, 0);
    for (step = 0; step < subsel_selection_count(sel); step++) {
        double base, best = -1;
        int64_t best_item = -1;
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, set, step, &base));
        for (i = 0; i < 25; i++) {
            double with;
            int64_t k, in = 0;
            for (k = 0; k < step; k++)
                in |= set[k] == i;
            if (in)
                continue;
            set[step] = i;
            ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, set, step + 1, &with));
            /* gains closer than rounding are ties: both are right */
            if (with - base > best + 1e-12 * fabs(best)) {
                best = with - base;
                best_item = i;
            }
        }
        set[step] = subsel_selection_indices(sel)[step];
        ck_assert_msg(set[step] == best_item ||
                      fabs(subsel_selection_gains(sel)[step] - best) <= 1e-12 * fabs(best),
                      "phi %d step %lld: greedy chose %lld, brute force %lld",
                      concaves[_i], (long long)step, (long long)set[step], (long long)best_item);
        ck_assert_double_le(fabs(subsel_selection_gains(sel)[step] - best), 1e-10 * fabs(best) + 1e-14);
    }
    subsel_selection_free(sel);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(lazy_equals_naive)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, (uint64_t)_i, 300, 64, 8);
    size_t p;
    for (p = 0; p < sizeof concaves / sizeof concaves[0]; p++) {
        subsel_objective *f;
        subsel_selection *a, *b;
        ck_assert_ok(ctx, subsel_fb_create(ctx, z, concaves[p], params[p], NULL, &f));
        a = run(ctx, f, SUBSEL_OPT_NAIVE, 40, 1, 0);
        b = run(ctx, f, SUBSEL_OPT_LAZY, 40, 1, 0);
        assert_same_selection(a, b);
        ck_assert_int_lt(subsel_selection_evaluations(b), subsel_selection_evaluations(a));
        subsel_selection_free(a);
        subsel_selection_free(b);
        subsel_objective_free(f);
    }
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* Lazy greedy ranks items in 32 bits (a stale bound and its item share one
 * 64-bit word). A modular objective over any number of items, f(S) = sum
 * of its items' indices, with nothing per item, lets a run reach the last
 * items: over 2^32 items lazy greedy picks item 2^32 - 1 first; over one
 * more it refuses, with a message, before it evaluates anything. The runs
 * choose from a three-item ground set, as a partition's part does. */
typedef struct index_sum {
    double sum;
} index_sum;

static int index_sum_state_new(subsel_ctx *ctx, const subsel_objective *obj, void **state)
{
    (void)ctx, (void)obj;
    *state = calloc(1, sizeof(index_sum));
    return *state != NULL ? SUBSEL_OK : SUBSEL_E_NOMEM;
}

static void index_sum_state_free(const subsel_objective *obj, void *state)
{
    (void)obj;
    free(state);
}

static int index_sum_gains(subsel_ctx *ctx, const subsel_objective *obj, const void *state,
                           const int64_t *items, int64_t count, double *out)
{
    int64_t j;
    (void)ctx, (void)obj, (void)state;
    for (j = 0; j < count; j++)
        out[j] = (double)items[j];
    return SUBSEL_OK;
}

static int index_sum_add(subsel_ctx *ctx, const subsel_objective *obj, void *state, int64_t item)
{
    (void)ctx, (void)obj;
    ((index_sum *)state)->sum += (double)item;
    return SUBSEL_OK;
}

static int index_sum_value(subsel_ctx *ctx, const subsel_objective *obj, const void *state,
                           double *out)
{
    (void)ctx, (void)obj;
    *out = ((const index_sum *)state)->sum;
    return SUBSEL_OK;
}

static void index_sum_destroy(subsel_objective *obj)
{
    (void)obj; /* no data of its own */
}

static const ss_objective_ops index_sum_ops = {
    .name = "index sum",
    .submodular = 1,
    .monotone = 1,
    .state_new = index_sum_state_new,
    .state_free = index_sum_state_free,
    .gains = index_sum_gains,
    .add = index_sum_add,
    .value = index_sum_value,
    .destroy = index_sum_destroy,
};

START_TEST(lazy_ranks_items_in_32_bits)
{
    static const int64_t ground[3] = {17, 999, ((int64_t)1 << 32) - 1};
    subsel_ctx *ctx = new_ctx();
    int over;
    for (over = 0; over <= 1; over++) {
        subsel_objective *f;
        void *state;
        ss_run_config cfg;
        ss_trace trace;
        ck_assert_ok(ctx, ss_objective_new(ctx, &index_sum_ops, ((int64_t)1 << 32) + over, &f));
        ck_assert_ok(ctx, ss_objective_state_new(ctx, f, &state));
        ck_assert_ok(ctx, ss_trace_init(ctx, &trace, 2));
        memset(&cfg, 0, sizeof cfg);
        cfg.budget = 2;
        cfg.ground = ground;
        cfg.ground_count = 3;
        if (over) {
            ck_assert_int_eq(ss_greedy_lazy(ctx, f, state, &cfg, &trace), SUBSEL_E_INVALID);
            ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "2^32 - 1"));
            ck_assert_int_eq(trace.count, 0);
            ck_assert_int_eq(trace.evaluations, 0);
        } else {
            ck_assert_ok(ctx, ss_greedy_lazy(ctx, f, state, &cfg, &trace));
            ck_assert_int_eq(trace.count, 2);
            ck_assert_int_eq(trace.items[0], ground[2]);
            ck_assert_int_eq(trace.items[1], 999);
            ck_assert(trace.gains[0] == 4294967295.0 && trace.gains[1] == 999.0);
        }
        ss_trace_free(ctx, &trace);
        ss_objective_state_free(f, state);
        subsel_objective_free(f);
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* Lazy greedy's heap keeps its bounds rounded up to float (greedy.c): on
 * gains that differ only past float's precision, tie exactly, or go to
 * zero and below, it must still make naive greedy's choices to the bit, in
 * every way of running its rounds. A cut function over 12 cliques of 10
 * (adding a vertex leaves the other cliques' gains, so their stale bounds
 * stay exact) whose weights differ by multiples of 2^-38 (every sum exact:
 * vertices i and i + 60 tie), to the whole set (the gains end below
 * zero). */
START_TEST(lazy_equals_naive_on_near_ties)
{
    const int64_t n = 120;
    double *w = malloc((size_t)(n * n) * sizeof *w);
    subsel_ctx *ctx = new_ctx();
    subsel_objective *f;
    subsel_selection *sel[5];
    int64_t i, j, mode;
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            w[i * n + j] = i == j || i / 10 != j / 10
                               ? 0.0
                               : 1.0 + (double)(i % 20) * 0x1p-36 + (double)(j % 3) * 0x1p-38;
    ck_assert_ok(ctx, ss_cut_create(ctx, n, w, &f));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 2));
    for (mode = 0; mode < 5; mode++) {
        subsel_optimizer *opt;
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_PARALLEL_GAINS, mode < 4 ? mode : 0));
        ck_assert_ok(ctx, subsel_optimizer_create(ctx, mode < 4 ? SUBSEL_OPT_LAZY : SUBSEL_OPT_NAIVE,
                                                  &opt));
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, n));
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
        ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel[mode]));
        subsel_optimizer_free(opt);
    }
    ck_assert_int_eq(subsel_selection_count(sel[4]), n);
    ck_assert_double_lt(subsel_selection_gains(sel[4])[n - 1], -5.0);
    {
        /* the first step's gains (the rows' sums) tie and differ past
         * float's precision */
        int64_t near = 0, equal = 0;
        double out[120];
        for (i = 0; i < n; i++) {
            out[i] = 0.0;
            for (j = 0; j < n; j++)
                out[i] += w[i * n + j];
        }
        for (i = 0; i < n; i++)
            for (j = 0; j < i; j++) {
                equal += out[i] == out[j];
                near += out[i] != out[j] && (float)out[i] == (float)out[j];
            }
        ck_assert_int_gt(equal, 0);
        ck_assert_int_gt(near, 0);
    }
    for (mode = 0; mode < 4; mode++)
        assert_same_selection(sel[mode], sel[4]);
    for (mode = 0; mode < 5; mode++)
        subsel_selection_free(sel[mode]);
    subsel_objective_free(f);
    subsel_ctx_free(ctx);
    free(w);
}
END_TEST

START_TEST(lazier_equals_stochastic)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 100 + (uint64_t)_i, 2000, 128, 10);
    subsel_objective *f;
    subsel_selection *a, *b;
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, 7 + _i));
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_LOG1P, 0, NULL, &f));
    a = run(ctx, f, SUBSEL_OPT_STOCHASTIC, 300, 1, 0);
    b = run(ctx, f, SUBSEL_OPT_LAZIER, 300, 1, 0);
    assert_same_selection(a, b);
    ck_assert_int_lt(subsel_selection_evaluations(b), subsel_selection_evaluations(a));
    subsel_selection_free(a);
    subsel_selection_free(b);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(stochastic_is_close_to_greedy)
{
    /* Stochastic greedy is within (1 - 1/e - eps) of the optimum in
     * expectation; in practice it is within a few percent of greedy. */
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 5, 3000, 200, 12);
    subsel_objective *f;
    subsel_selection *g, *s;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0, NULL, &f));
    g = run(ctx, f, SUBSEL_OPT_LAZY, 150, 1, 0);
    s = run(ctx, f, SUBSEL_OPT_STOCHASTIC, 150, 1, 0);
    ck_assert_double_ge(subsel_selection_value(s), 0.95 * subsel_selection_value(g));
    ck_assert_double_le(subsel_selection_value(s), subsel_selection_value(g) * (1 + 1e-12));
    /* n/k ln(1/eps) = 20 * 6.9: far fewer evaluations than lazy's first pass */
    ck_assert_int_le(subsel_selection_evaluations(s), 150 * 139);
    subsel_selection_free(g);
    subsel_selection_free(s);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(sample_size_formula)
{
    ck_assert_int_eq(ss_stochastic_sample_size(1000000, 200000, 1e-3), 35); /* 5 ln 1000 = 34.5 */
    ck_assert_int_eq(ss_stochastic_sample_size(100, 100, 0.5), 1);          /* ln 2 = 0.69 */
    ck_assert_int_eq(ss_stochastic_sample_size(10, 1, 1e-3), 10);           /* capped at n */
    ck_assert_int_eq(ss_stochastic_sample_size(0, 0, 1e-3), 0);
}
END_TEST

/* The same selection for 1 and 2 threads and for every kernel level. */
START_TEST(deterministic_across_threads_and_kernels)
{
    static const int algorithms[] = {SUBSEL_OPT_LAZY, SUBSEL_OPT_STOCHASTIC, SUBSEL_OPT_LAZIER};
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 9, 20000, 512, 16);
    subsel_objective *f;
    int a;
    double p[512];
    int64_t i;
    for (i = 0; i < 512; i++)
        p[i] = 1.0 / (1.0 + (double)i);
    ck_assert_ok(ctx, subsel_sdm_create(ctx, z, &f));
    ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, f, p, 512));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, 12345));
    for (a = 0; a < 3; a++) {
        subsel_selection *ref, *other;
        int threads, isa;
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1));
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_MAX_ISA, SUBSEL_ISA_SCALAR));
        ref = run(ctx, f, algorithms[a], 500, 1, 0);
        for (threads = 1; threads <= 2; threads++)
            for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++) {
                ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, threads));
                ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_MAX_ISA, isa));
                other = run(ctx, f, algorithms[a], 500, 1, 0);
                assert_same_selection(ref, other);
                subsel_selection_free(other);
            }
        subsel_selection_free(ref);
    }
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(intersection_of_runs)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 31, 4000, 256, 12);
    subsel_objective *f;
    subsel_selection *single, *all, *any, *two, *again;
    int64_t i, j;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_LOG1P, 0, NULL, &f));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, 99));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 2));
    single = run(ctx, f, SUBSEL_OPT_STOCHASTIC, 400, 1, 0);
    all = run(ctx, f, SUBSEL_OPT_STOCHASTIC, 400, 5, 0);
    two = run(ctx, f, SUBSEL_OPT_STOCHASTIC, 400, 5, 2);
    any = run(ctx, f, SUBSEL_OPT_LAZIER, 400, 5, 1);
    /* more votes needed, fewer items; all runs agree on a good share */
    ck_assert_int_le(subsel_selection_count(all), subsel_selection_count(two));
    ck_assert_int_le(subsel_selection_count(two), subsel_selection_count(any));
    ck_assert_int_gt(subsel_selection_count(all), 40);
    ck_assert_int_le(subsel_selection_count(all), 400);
    ck_assert_int_ge(subsel_selection_count(any), 400);
    /* ascending, and run 0 is the single run (same seed, stream 0): the
     * intersection is inside it */
    for (i = 0; i < subsel_selection_count(all); i++) {
        int found = 0;
        if (i > 0)
            ck_assert_int_lt(subsel_selection_indices(all)[i - 1], subsel_selection_indices(all)[i]);
        for (j = 0; j < subsel_selection_count(single); j++)
            found |= subsel_selection_indices(single)[j] == subsel_selection_indices(all)[i];
        ck_assert(found);
    }
    /* the union from LAZIER equals the union from STOCHASTIC */
    again = run(ctx, f, SUBSEL_OPT_STOCHASTIC, 400, 5, 1);
    assert_same_selection(any, again);
    subsel_selection_free(again);
    /* the same with one thread */
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1));
    again = run(ctx, f, SUBSEL_OPT_STOCHASTIC, 400, 5, 0);
    assert_same_selection(all, again);
    {
        double v;
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, subsel_selection_indices(all),
                                                    subsel_selection_count(all), &v));
        ck_assert_double_le(fabs(v - subsel_selection_value(all)), 1e-12 * v);
    }
    subsel_selection_free(again);
    subsel_selection_free(single);
    subsel_selection_free(all);
    subsel_selection_free(two);
    subsel_selection_free(any);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* A selection of `algorithm` with the budget, runs and stopping rule given
 * (stop < 0: the default). */
static subsel_selection *run_stop(subsel_ctx *ctx, const subsel_objective *f,
                                  int algorithm, int64_t budget, int64_t runs,
                                  int64_t stop)
{
    subsel_optimizer *opt;
    subsel_selection *sel;
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, algorithm, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, budget));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_RUNS, runs));
    if (stop >= 0)
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, stop));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
    subsel_optimizer_free(opt);
    return sel;
}

START_TEST(stops_when_gains_vanish)
{
    /* min(x, c) saturates: once every column reaches c nothing gains. */
    static const int64_t ip[5] = {0, 1, 2, 3, 4};
    static const int32_t ix[4] = {0, 0, 1, 1};
    static const float v[4] = {5, 5, 5, 5};
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z;
    subsel_objective *f;
    subsel_selection *sel;
    ck_assert_ok(ctx, subsel_csr_create(ctx, 4, 2, ip, ix, v, SUBSEL_BORROW, &z));
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_MIN, 1.0, NULL, &f));
    sel = run_stop(ctx, f, SUBSEL_OPT_LAZY, 4, 1, SUBSEL_STOP_ALWAYS);
    ck_assert_int_eq(subsel_selection_count(sel), 2);
    ck_assert_int_eq(subsel_selection_indices(sel)[0], 0);
    ck_assert_int_eq(subsel_selection_indices(sel)[1], 2);
    ck_assert_double_eq(subsel_selection_value(sel), 2.0);
    ck_assert_int_eq(subsel_selection_budget(sel), 4);
    ck_assert_int_eq(subsel_selection_short_reason(sel), SUBSEL_SHORT_NONPOSITIVE);
    subsel_selection_free(sel);
    sel = run_stop(ctx, f, SUBSEL_OPT_NAIVE, 0, 1, SUBSEL_STOP_NEVER);
    ck_assert_int_eq(subsel_selection_count(sel), 4); /* budget 0: the whole pool */
    ck_assert_int_eq(subsel_selection_budget(sel), 4);
    ck_assert_int_eq(subsel_selection_short_reason(sel), SUBSEL_SHORT_NONE);
    subsel_selection_free(sel);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* The pool of tests/data/sparse_pool: 4000 rows of which only 200 have a
 * nonzero entry, so 95% of the rows add nothing to SDM. */
static subsel_objective *sparse_pool_sdm(subsel_ctx *ctx, subsel_csr **z)
{
    subsel_objective *f;
    int64_t np = 0;
    double *p = read_f64(data_path("sparse_pool/p_target.npy"), &np);
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, data_path("sparse_pool/pool.npz"), z));
    ck_assert_int_eq(subsel_csr_rows(*z), 4000);
    ck_assert_ok(ctx, subsel_sdm_create(ctx, *z, &f));
    ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, f, p, np));
    free(p);
    return f;
}

/* Issue 9: stochastic greedy ended a run at the first random sample whose
 * best gain was 0, returning a few items of a budget of hundreds, silently.
 * For a monotone objective the default now adds the best item every step,
 * as the published algorithm: |A| = budget, with every algorithm. */
START_TEST(monotone_objectives_fill_the_budget)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z;
    subsel_objective *f = sparse_pool_sdm(ctx, &z);
    int algorithm = SUBSEL_OPT_NAIVE + _i;
    /* 300 > the 200 rows that add anything: positive gains run out too */
    subsel_selection *sel = run_stop(ctx, f, algorithm, 300, 1, -1);
    const int64_t *idx = subsel_selection_indices(sel);
    const double *gains = subsel_selection_gains(sel);
    unsigned char *seen = calloc(4000, 1);
    int64_t i, positive = 0;
    ck_assert_int_eq(subsel_selection_count(sel), 300);
    ck_assert_int_eq(subsel_selection_budget(sel), 300);
    ck_assert_int_eq(subsel_selection_short_reason(sel), SUBSEL_SHORT_NONE);
    for (i = 0; i < 300; i++) {
        ck_assert(!seen[idx[i]]);
        seen[idx[i]] = 1;
        ck_assert_double_ge(gains[i], 0.0);
        positive += gains[i] > 0;
    }
    if (algorithm <= SUBSEL_OPT_LAZY) {
        /* the 200 useful rows first, then zero gains (ties to the lowest
         * index) */
        ck_assert_int_eq(positive, 200);
        for (i = 0; i < 200; i++)
            ck_assert_double_gt(gains[i], 0.0);
    } else {
        /* a sample without a useful row adds a zero-gain row and goes on */
        ck_assert_int_ge(positive, 150);
    }
    free(seen);
    subsel_selection_free(sel);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* Stopping early stays available (SUBSEL_STOP_ALWAYS), and the selection
 * says so. */
START_TEST(stopping_early_is_explicit_and_reported)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z;
    subsel_objective *f = sparse_pool_sdm(ctx, &z);
    subsel_selection *sel = run_stop(ctx, f, SUBSEL_OPT_STOCHASTIC, 300, 1,
                                     SUBSEL_STOP_ALWAYS);
    int64_t i;
    ck_assert_int_lt(subsel_selection_count(sel), 300);
    ck_assert_int_eq(subsel_selection_budget(sel), 300);
    ck_assert_int_eq(subsel_selection_short_reason(sel), SUBSEL_SHORT_NONPOSITIVE);
    for (i = 0; i < subsel_selection_count(sel); i++)
        ck_assert_double_gt(subsel_selection_gains(sel)[i], 0.0);
    subsel_selection_free(sel);
    /* runs that stop early explain a short intersection better than the
     * intersection does */
    sel = run_stop(ctx, f, SUBSEL_OPT_STOCHASTIC, 300, 5, SUBSEL_STOP_ALWAYS);
    ck_assert_int_lt(subsel_selection_count(sel), 300);
    ck_assert_int_eq(subsel_selection_short_reason(sel), SUBSEL_SHORT_NONPOSITIVE);
    subsel_selection_free(sel);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* Issue 9: --runs 5 on that pool returned 0 rows (KL = inf). Now every run
 * fills its budget, and an intersection smaller than the budget says so. */
START_TEST(intersections_report_why_they_are_short)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z;
    subsel_objective *f = sparse_pool_sdm(ctx, &z);
    subsel_optimizer *opt;
    subsel_selection *sel = run_stop(ctx, f, SUBSEL_OPT_STOCHASTIC, 200, 5, -1);
    double kl = 0.0;
    ck_assert_int_gt(subsel_selection_count(sel), 100);
    ck_assert_int_lt(subsel_selection_count(sel), 200);
    ck_assert_int_eq(subsel_selection_budget(sel), 200);
    ck_assert_int_eq(subsel_selection_short_reason(sel), SUBSEL_SHORT_INTERSECTION);
    ck_assert_ok(ctx, subsel_sdm_kl(ctx, f, subsel_selection_indices(sel),
                                    subsel_selection_count(sel), &kl));
    ck_assert(isfinite(kl));
    subsel_selection_free(sel);
    /* the union (kept by one run) reaches the budget: not short */
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_LAZIER, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 200));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_RUNS, 5));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_MIN_RUNS, 1));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
    ck_assert_int_ge(subsel_selection_count(sel), 200);
    ck_assert_int_eq(subsel_selection_short_reason(sel), SUBSEL_SHORT_NONE);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* AUTO stops at a nonpositive gain for objectives not known to be monotone
 * (a cut function), and monotonicity belongs to the objective instance. */
START_TEST(auto_stops_only_for_non_monotone_objectives)
{
    /* a path 0 -> 1 -> 2 -> 3: the cut gains of 1..3 become <= 0 once
     * their predecessor is in */
    static const double w[16] = {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    subsel_ctx *ctx = new_ctx();
    subsel_objective *cut;
    subsel_selection *sel;
    double lo, hi, def;
    ck_assert_ok(ctx, ss_cut_create(ctx, 4, w, &cut));
    ck_assert_int_eq(cut->monotone, 0);
    sel = run_stop(ctx, cut, SUBSEL_OPT_NAIVE, 4, 1, -1);
    ck_assert_int_lt(subsel_selection_count(sel), 4);
    ck_assert_int_eq(subsel_selection_short_reason(sel), SUBSEL_SHORT_NONPOSITIVE);
    subsel_selection_free(sel);
    sel = run_stop(ctx, cut, SUBSEL_OPT_NAIVE, 4, 1, SUBSEL_STOP_NEVER);
    ck_assert_int_eq(subsel_selection_count(sel), 4);
    ck_assert_int_eq(subsel_selection_short_reason(sel), SUBSEL_SHORT_NONE);
    subsel_selection_free(sel);
    /* an instance declared monotone fills the budget under AUTO */
    cut->monotone = 1;
    sel = run_stop(ctx, cut, SUBSEL_OPT_NAIVE, 4, 1, SUBSEL_STOP_AUTO);
    ck_assert_int_eq(subsel_selection_count(sel), 4);
    subsel_selection_free(sel);
    /* the option: AUTO by default, NEVER and ALWAYS keep 0 and 1 */
    ck_assert_ok(ctx, subsel_optimizer_param_bounds(SUBSEL_OPT_STOP_NONPOSITIVE, &lo, &hi, &def));
    ck_assert_double_eq(lo, SUBSEL_STOP_NEVER);
    ck_assert_double_eq(hi, SUBSEL_STOP_AUTO);
    ck_assert_double_eq(def, SUBSEL_STOP_AUTO);
    ck_assert_int_eq(SUBSEL_STOP_NEVER, 0);
    ck_assert_int_eq(SUBSEL_STOP_ALWAYS, 1);
    subsel_objective_free(cut);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(short_reasons_have_names)
{
    int r;
    for (r = SUBSEL_SHORT_NONE; r <= SUBSEL_SHORT_FILTERED; r++) {
        int q;
        ck_assert_str_ne(subsel_short_reason_string(r), "unknown reason");
        for (q = SUBSEL_SHORT_NONE; q < r; q++)
            ck_assert_str_ne(subsel_short_reason_string(r), subsel_short_reason_string(q));
    }
    ck_assert_str_eq(subsel_short_reason_string(-1), "unknown reason");
    ck_assert_str_eq(subsel_short_reason_string(99), "unknown reason");
    ck_assert_int_eq(subsel_selection_budget(NULL), 0);
    ck_assert_int_eq(subsel_selection_short_reason(NULL), SUBSEL_SHORT_NONE);
}
END_TEST

START_TEST(options_and_errors)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 1, 50, 16, 3);
    subsel_objective *f;
    subsel_optimizer *opt = (subsel_optimizer *)ctx;
    subsel_selection *sel = (subsel_selection *)ctx;
    double lo, hi, def, e;
    int64_t v;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0, NULL, &f));
    ck_assert_status(ctx, subsel_optimizer_create(ctx, 42, &opt), SUBSEL_E_INVALID);
    ck_assert_ptr_null(opt);
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_STOCHASTIC, &opt));
    ck_assert_int_eq(subsel_optimizer_param_bounds(SUBSEL_OPT_EPSILON, &lo, &hi, &def), SUBSEL_OK);
    ck_assert_double_eq(def, 1e-3);
    ck_assert_int_eq(subsel_optimizer_get_double(opt, SUBSEL_OPT_EPSILON, &e), SUBSEL_OK);
    ck_assert_double_eq(e, 1e-3);
    ck_assert_int_eq(subsel_optimizer_set_double(opt, SUBSEL_OPT_EPSILON, 0.0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_optimizer_set_double(opt, SUBSEL_OPT_EPSILON, 1.0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_optimizer_set_double(opt, SUBSEL_OPT_BUDGET, 1.0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_optimizer_set_int(opt, SUBSEL_OPT_EPSILON, 1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_optimizer_set_int(opt, SUBSEL_OPT_RUNS, 0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, -1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_optimizer_set_int(opt, 99, 1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_optimizer_get_int(opt, SUBSEL_OPT_RUNS, &v), SUBSEL_OK);
    ck_assert_int_eq(v, 1);
    /* budget above the pool */
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 51));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_INVALID);
    ck_assert_ptr_null(sel);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "larger than the pool"));
    /* min_runs above runs */
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 10));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_MIN_RUNS, 3));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_INVALID);
    subsel_optimizer_free(opt);
    /* several runs of a deterministic algorithm */
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_LAZY, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_RUNS, 3));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, NULL, &sel), SUBSEL_E_INVALID);
    subsel_optimizer_free(opt);
    subsel_optimizer_free(NULL);
    subsel_selection_free(NULL);
    ck_assert_int_eq(subsel_selection_count(NULL), 0);
    ck_assert(isnan(subsel_selection_value(NULL)));
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

static int cancel_at(void *user, const char *stage, int64_t done, int64_t total)
{
    (void)stage;
    (void)total;
    return done >= *(int64_t *)user;
}

START_TEST(progress_cancels_runs)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 2, 3000, 128, 8);
    subsel_objective *f;
    subsel_optimizer *opt;
    subsel_selection *sel = (subsel_selection *)ctx;
    int64_t limit = 100;
    int algo;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_LOG1P, 0, NULL, &f));
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, cancel_at, &limit));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 2));
    for (algo = SUBSEL_OPT_NAIVE; algo <= SUBSEL_OPT_LAZIER; algo++) {
        ck_assert_ok(ctx, subsel_optimizer_create(ctx, algo, &opt));
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 1000));
        if (algo >= SUBSEL_OPT_STOCHASTIC && _i)
            ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_RUNS, 4));
        ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_CANCELLED);
        ck_assert_ptr_null(sel);
        subsel_optimizer_free(opt);
    }
    /* the objective is still usable */
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, NULL, NULL));
    sel = run(ctx, f, SUBSEL_OPT_LAZY, 10, 1, 0);
    ck_assert_int_eq(subsel_selection_count(sel), 10);
    subsel_selection_free(sel);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* Issue 9: the final done == total report was never sent (the last was
 * 498/500). Every algorithm, with one run or several, double greedy
 * included, reports its stage from 0 to the total, each end once, also for
 * a short selection; and the callback can cancel at its first report, its
 * second and its last. */
START_TEST(progress_runs_from_zero_to_total)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 3, 600, 64, 6);
    subsel_objective *f;
    int algorithm = SUBSEL_ALGORITHM_NAIVE + _i % 6, runs = _i < 6 ? 1 : 3;
    const char *stage = algorithm >= SUBSEL_OPT_DOUBLE_GREEDY ? "double greedy" : "select";
    int64_t at, total, budget = 250;
    progress_log log;
    subsel_optimizer *opt;
    subsel_selection *sel;
    if (runs > 1 && (algorithm == SUBSEL_OPT_NAIVE || algorithm == SUBSEL_OPT_LAZY ||
                     algorithm == SUBSEL_OPT_DOUBLE_GREEDY)) {
        subsel_csr_free(z);
        subsel_ctx_free(ctx);
        return; /* one run only */
    }
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_MIN, 1.0, NULL, &f));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 2));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, algorithm, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, budget));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_RUNS, runs));
    memset(&log, 0, sizeof log);
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, progress_log_fn, &log));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
    progress_log_assert_clean(&log, stage);
    ck_assert_int_eq(log.stages, 1);
    ck_assert_str_eq(log.name[0], stage);
    ck_assert_int_eq(log.ended[0], 1);
    total = log.reports[0];
    ck_assert_int_ge(total, 3);
    subsel_selection_free(sel);
    /* min(x, 1) saturates: stopping early still ends the stage */
    if (algorithm < SUBSEL_OPT_DOUBLE_GREEDY) {
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE,
                                                   SUBSEL_STOP_ALWAYS));
        memset(&log, 0, sizeof log);
        ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
        ck_assert_int_lt(subsel_selection_count(sel), budget);
        progress_log_assert_clean(&log, "short selection");
        ck_assert_int_eq(log.ended[0], 1);
        subsel_selection_free(sel);
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE,
                                                   SUBSEL_STOP_AUTO));
    }
    for (at = 1; at <= total; at = at < 2 || at == total ? at + 1 : total) {
        memset(&log, 0, sizeof log);
        log.cancel_stage = stage;
        log.cancel_at = at;
        sel = (subsel_selection *)ctx;
        ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_CANCELLED);
        ck_assert_ptr_null(sel);
        ck_assert_int_eq(progress_log_reports(&log, stage), at);
    }
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* Allocation failures at every point of objective creation and a run end
 * in SUBSEL_E_NOMEM (or success), with nothing leaked. */
typedef struct sdm_job {
    const subsel_csr *z;
    const double *p;
} sdm_job;

static int sdm_stochastic_runs(subsel_ctx *ctx, void *arg, int64_t n)
{
    const sdm_job *job = arg;
    subsel_objective *f = NULL;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL;
    int rc;
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1 + (int)(n % 2)));
    rc = subsel_sdm_create(ctx, job->z, &f);
    if (rc == SUBSEL_OK)
        rc = subsel_sdm_set_target_distribution(ctx, f, job->p, 32);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_create(ctx, SUBSEL_OPT_STOCHASTIC, &opt);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 20);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_set_int(opt, SUBSEL_OPT_RUNS, 3);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_run(ctx, opt, f, &sel);
    if (rc == SUBSEL_OK)
        ck_assert_int_gt(subsel_selection_count(sel), 0);
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
    subsel_csr *z = random_pool(plain, 4, 200, 32, 5);
    double p[32];
    sdm_job job = {z, p};
    int64_t i;
    for (i = 0; i < 32; i++)
        p[i] = 1.0;
    ck_assert_int_gt(alloc_sweep("SDM, 3 stochastic runs", sdm_stochastic_runs, NULL, &job),
                     9);
    subsel_csr_free(z);
    subsel_ctx_free(plain);
}
END_TEST

/* ---- random parts (SUBSEL_P_PARTS) ------------------------------------ */

static subsel_selection *run_parts(subsel_ctx *ctx, const subsel_objective *f, int algorithm,
                                   int64_t budget, int64_t runs, int64_t parts, int64_t merge)
{
    return run_with(ctx, f, algorithm, budget, runs, 0, parts, merge);
}

static double value_of(subsel_ctx *ctx, const subsel_objective *f, const int64_t *set,
                       int64_t count)
{
    double v;
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, set, count, &v));
    return v;
}

/* Distinct items in range, and the value is f of them. */
static void assert_valid_selection(subsel_ctx *ctx, const subsel_objective *f,
                                   const subsel_selection *sel, int64_t n)
{
    int64_t i, count = subsel_selection_count(sel);
    const int64_t *idx = subsel_selection_indices(sel);
    unsigned char *seen = calloc((size_t)n, 1);
    double v = value_of(ctx, f, idx, count);
    for (i = 0; i < count; i++) {
        ck_assert(idx[i] >= 0 && idx[i] < n);
        ck_assert_msg(!seen[idx[i]], "item %lld twice", (long long)idx[i]);
        seen[idx[i]] = 1;
    }
    free(seen);
    ck_assert_msg(fabs(subsel_selection_value(sel) - v) <= 1e-9 * fabs(v) + 1e-12,
                  "value %.17g, f(selection) %.17g", subsel_selection_value(sel), v);
}

/* UNION: the budget, from every algorithm; each listed gain is what the
 * item's part saw, which for a submodular f is at least its true marginal
 * gain after the items listed before it (the part's set is a subset of
 * them), and the first item of every part is listed with f({item}); the
 * same selection on 1 and 2 threads; close to the exact selection. */
START_TEST(parts_union_fills_the_budget_deterministically)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 11, 3000, 128, 8);
    subsel_objective *f;
    int algorithm = SUBSEL_ALGORITHM_NAIVE + _i % 4;
    int64_t parts = _i < 4 ? 2 : 7, budget = 300, i;
    subsel_selection *one, *two, *exact;
    void *state = NULL;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_LOG1P, 0, NULL, &f));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 1));
    one = run_parts(ctx, f, algorithm, budget, 1, parts, SUBSEL_MERGE_UNION);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 2));
    two = run_parts(ctx, f, algorithm, budget, 1, parts, SUBSEL_MERGE_UNION);
    assert_same_selection(one, two);
    ck_assert_int_eq(subsel_selection_count(one), budget);
    ck_assert_int_eq(subsel_selection_short_reason(one), SUBSEL_SHORT_NONE);
    assert_valid_selection(ctx, f, one, 3000);

    ck_assert_int_eq(ss_objective_state_new(ctx, f, &state), SUBSEL_OK);
    for (i = 0; i < budget; i++) {
        int64_t item = subsel_selection_indices(one)[i];
        double g = subsel_selection_gains(one)[i], truth;
        ck_assert_int_eq(ss_objective_gains(ctx, f, state, &item, 1, &truth, NULL), SUBSEL_OK);
        ck_assert_msg(g >= truth - 1e-12, "gain %lld: %.17g < %.17g", (long long)i, g, truth);
        if (i < parts)
            ck_assert_double_eq_tol(g, value_of(ctx, f, &item, 1), 1e-12);
        ck_assert_int_eq(ss_objective_add(ctx, f, state, item), SUBSEL_OK);
    }
    ss_objective_state_free(f, state);

    exact = run(ctx, f, algorithm, budget, 1, 0);
    ck_assert_msg(subsel_selection_value(one) >= 0.98 * subsel_selection_value(exact),
                  "%lld parts: %g against %g", (long long)parts, subsel_selection_value(one),
                  subsel_selection_value(exact));
    subsel_selection_free(one);
    subsel_selection_free(two);
    subsel_selection_free(exact);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* Closed forms: with one part per item, RandGreeDi's merge is the
 * algorithm over the whole ground set, so it equals the exact selection
 * (the best single part, one item, cannot beat it); a budget of the whole
 * ground set takes every item in either mode; and with parts = 0 a pool
 * far below 65,536 items per part is not split. */
START_TEST(parts_closed_forms)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 12, 60, 32, 5);
    subsel_objective *f;
    subsel_selection *a, *b;
    int algorithm = _i == 0 ? SUBSEL_ALGORITHM_NAIVE : SUBSEL_ALGORITHM_LAZY;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0, NULL, &f));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 2));
    a = run_parts(ctx, f, algorithm, 10, 1, 60, SUBSEL_MERGE_GREEDI);
    b = run(ctx, f, algorithm, 10, 1, 0);
    assert_same_selection(a, b);
    subsel_selection_free(a);
    a = run_parts(ctx, f, algorithm, 10, 1, 0, SUBSEL_MERGE_UNION);
    assert_same_selection(a, b);
    subsel_selection_free(a);
    subsel_selection_free(b);
    a = run_parts(ctx, f, algorithm, 60, 1, 7, SUBSEL_MERGE_UNION);
    b = run_parts(ctx, f, algorithm, 60, 1, 7, SUBSEL_MERGE_GREEDI);
    ck_assert_int_eq(subsel_selection_count(a), 60);
    ck_assert_int_eq(subsel_selection_count(b), 60);
    assert_valid_selection(ctx, f, a, 60);
    assert_valid_selection(ctx, f, b, 60);
    ck_assert_double_eq_tol(subsel_selection_value(a), subsel_selection_value(b), 1e-9);
    subsel_selection_free(a);
    subsel_selection_free(b);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* On SDM: RandGreeDi gives a valid selection of the budget, the same on 1
 * and 2 threads, and so do intersected runs over parts; both modes keep
 * the objective within 1% of the exact stochastic greedy, as the benchmark
 * measures at scale. */
START_TEST(parts_greedi_and_runs)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 13, 4000, 64, 6);
    subsel_objective *f;
    subsel_selection *g1, *g2, *u, *exact, *r1, *r2;
    double p[64];
    int64_t i;
    for (i = 0; i < 64; i++)
        p[i] = 1.0 / (1.0 + (double)i);
    ck_assert_ok(ctx, subsel_sdm_create(ctx, z, &f));
    ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, f, p, 64));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 1));
    g1 = run_parts(ctx, f, SUBSEL_ALGORITHM_STOCHASTIC, 400, 1, 3, SUBSEL_MERGE_GREEDI);
    r1 = run_parts(ctx, f, SUBSEL_ALGORITHM_LAZIER, 400, 3, 2, SUBSEL_MERGE_UNION);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 2));
    g2 = run_parts(ctx, f, SUBSEL_ALGORITHM_STOCHASTIC, 400, 1, 3, SUBSEL_MERGE_GREEDI);
    r2 = run_parts(ctx, f, SUBSEL_ALGORITHM_LAZIER, 400, 3, 2, SUBSEL_MERGE_UNION);
    assert_same_selection(g1, g2);
    assert_same_selection(r1, r2);
    ck_assert_int_eq(subsel_selection_count(g1), 400);
    assert_valid_selection(ctx, f, g1, 4000);
    assert_valid_selection(ctx, f, r1, 4000);
    ck_assert_int_gt(subsel_selection_count(r1), 0);
    u = run_parts(ctx, f, SUBSEL_ALGORITHM_STOCHASTIC, 400, 1, 3, SUBSEL_MERGE_UNION);
    exact = run(ctx, f, SUBSEL_ALGORITHM_STOCHASTIC, 400, 1, 0);
    ck_assert_double_ge(subsel_selection_value(u), 0.99 * subsel_selection_value(exact));
    ck_assert_double_ge(subsel_selection_value(g1), 0.99 * subsel_selection_value(exact));
    subsel_selection_free(g1);
    subsel_selection_free(g2);
    subsel_selection_free(r1);
    subsel_selection_free(r2);
    subsel_selection_free(u);
    subsel_selection_free(exact);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* An objective without a state merge (the cut function, not monotone) gets
 * the value of the union from a state that adds every item. */
START_TEST(parts_without_a_state_merge)
{
    subsel_ctx *ctx = new_ctx();
    enum { N = 40 };
    double *w = calloc(N * N, sizeof *w);
    subsel_objective *f;
    subsel_selection *sel;
    ss_rng rng;
    int64_t i, j;
    ss_rng_seed(&rng, 14, 0);
    for (i = 0; i < N; i++)
        for (j = i + 1; j < N; j++)
            w[i * N + j] = w[j * N + i] = ss_rng_uniform(&rng);
    ck_assert_int_eq(ss_cut_create(ctx, N, w, &f), SUBSEL_OK);
    sel = run_parts(ctx, f, SUBSEL_ALGORITHM_NAIVE, 30, 1, 3, SUBSEL_MERGE_UNION);
    assert_valid_selection(ctx, f, sel, N);
    ck_assert_int_le(subsel_selection_count(sel), 30);
    ck_assert_int_gt(subsel_selection_count(sel), 3);
    subsel_selection_free(sel);
    subsel_objective_free(f);
    free(w);
    subsel_ctx_free(ctx);
}
END_TEST

/* Refused: parts for double greedy, more parts than items, values out of
 * bounds (the message names them); progress runs from 0 to the budget once
 * in both modes, and the callback cancels a partitioned run. */
START_TEST(parts_errors_and_progress)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 15, 500, 64, 6);
    subsel_objective *f;
    subsel_optimizer *opt;
    subsel_selection *sel = NULL;
    progress_log log;
    int64_t merge;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_LOG1P, 0, NULL, &f));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_DOUBLE_GREEDY, &opt));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_PARTS, 2));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "double greedy"));
    /* automatic parts mean one part for double greedy */
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_PARTS, 0));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
    ck_assert_int_gt(subsel_selection_count(sel), 0);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_LAZY, &opt));
    ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_PARTS, 501));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "parts 501 is larger than the pool"));
    ck_assert_status(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_PARTS, 65537),
                     SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_MERGE, 2), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "merge"));
    subsel_optimizer_free(opt);

    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 2));
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, progress_log_fn, &log));
    for (merge = SUBSEL_MERGE_UNION; merge <= SUBSEL_MERGE_GREEDI; merge++) {
        memset(&log, 0, sizeof log);
        sel = run_parts(ctx, f, SUBSEL_ALGORITHM_STOCHASTIC, 200, 1, 3, merge);
        progress_log_assert_clean(&log, "parts");
        ck_assert_int_eq(log.stages, 1);
        ck_assert_int_ge(log.reports[0], 3);
        subsel_selection_free(sel);
        memset(&log, 0, sizeof log);
        log.cancel_stage = "select";
        log.cancel_at = 2;
        ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_STOCHASTIC, &opt));
        ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_BUDGET, 200));
        ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_PARTS, 3));
        ck_assert_ok(ctx, subsel_param_set_int(ctx, opt, SUBSEL_P_MERGE, merge));
        sel = (subsel_selection *)ctx;
        ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, f, &sel), SUBSEL_E_CANCELLED);
        ck_assert_ptr_null(sel);
        subsel_optimizer_free(opt);
    }
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

static int fb_parts_runs(subsel_ctx *ctx, void *arg, int64_t n)
{
    subsel_objective *f = NULL;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL;
    int rc;
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1 + (int)(n % 2)));
    rc = subsel_fb_create(ctx, arg, SUBSEL_CONCAVE_LOG1P, 0, NULL, &f);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_create(ctx, SUBSEL_OPT_STOCHASTIC, &opt);
    if (rc == SUBSEL_OK)
        rc = subsel_param_set_int(ctx, opt, SUBSEL_P_BUDGET, 20);
    if (rc == SUBSEL_OK)
        rc = subsel_param_set_int(ctx, opt, SUBSEL_P_PARTS, 3);
    if (rc == SUBSEL_OK)
        rc = subsel_param_set_int(ctx, opt, SUBSEL_P_MERGE, n % 3 == 0);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_run(ctx, opt, f, &sel);
    if (rc == SUBSEL_OK)
        ck_assert_int_eq(subsel_selection_count(sel), 20);
    else
        ck_assert_ptr_null(sel);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    return rc;
}

START_TEST(parts_allocation_failures_are_clean)
{
    subsel_ctx *plain = new_ctx();
    subsel_csr *z = random_pool(plain, 16, 200, 32, 5);
    ck_assert_int_gt(alloc_sweep("FB, 3 random parts", fb_parts_runs, NULL, z), 9);
    subsel_csr_free(z);
    subsel_ctx_free(plain);
}
END_TEST

/* SUBSEL_P_PARALLEL_GAINS: never, automatic, always and pipelined give the
 * same selection and gains on 2 threads, for naive, lazy and stochastic
 * greedy (loop i), on FB; forcing it makes lazy greedy refresh more bounds
 * a round, so it evaluates at least as many gains. Lazy greedy's rounds
 * are the same whether they overlap the heap with the gains (pipelined)
 * or not (automatic, always): the same evaluation count, which bounds
 * popped ahead of a round and put back wrongly would change. */
START_TEST(parallel_gains_change_no_result)
{
    static const int algorithms[3] = {SUBSEL_ALGORITHM_NAIVE, SUBSEL_ALGORITHM_LAZY,
                                      SUBSEL_ALGORITHM_STOCHASTIC};
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z = random_pool(ctx, 31, 3000, 48, 7);
    subsel_objective *f;
    subsel_selection *sel[4];
    int64_t mode;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0, NULL, &f));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 2));
    for (mode = SUBSEL_PARALLEL_AUTO; mode <= SUBSEL_PARALLEL_PIPELINE; mode++) {
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_PARALLEL_GAINS, mode));
        sel[mode] = run_with(ctx, f, algorithms[_i], 40, 1, 0, 1, SUBSEL_MERGE_UNION);
    }
    for (mode = 1; mode < 4; mode++) {
        ck_assert_int_eq(subsel_selection_count(sel[mode]), 40);
        ck_assert_mem_eq(subsel_selection_indices(sel[mode]), subsel_selection_indices(sel[0]),
                         40 * sizeof(int64_t));
        ck_assert_mem_eq(subsel_selection_gains(sel[mode]), subsel_selection_gains(sel[0]),
                         40 * sizeof(double));
    }
    if (algorithms[_i] == SUBSEL_ALGORITHM_LAZY)
        ck_assert_int_ge(subsel_selection_evaluations(sel[SUBSEL_PARALLEL_ALWAYS]),
                         subsel_selection_evaluations(sel[SUBSEL_PARALLEL_NEVER]));
    else
        ck_assert_int_eq(subsel_selection_evaluations(sel[SUBSEL_PARALLEL_ALWAYS]),
                         subsel_selection_evaluations(sel[SUBSEL_PARALLEL_NEVER]));
    ck_assert_int_eq(subsel_selection_evaluations(sel[SUBSEL_PARALLEL_PIPELINE]),
                     subsel_selection_evaluations(sel[SUBSEL_PARALLEL_ALWAYS]));
    ck_assert_int_eq(subsel_selection_evaluations(sel[SUBSEL_PARALLEL_AUTO]),
                     subsel_selection_evaluations(sel[SUBSEL_PARALLEL_ALWAYS]));
    ck_assert_status(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_PARALLEL_GAINS, 4), SUBSEL_E_INVALID);
    for (mode = 0; mode < 4; mode++)
        subsel_selection_free(sel[mode]);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *optim_suite(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("greedy");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, naive_matches_brute_force_greedy, 0, 6);
    tcase_add_test(tc, lazy_equals_naive_on_near_ties);
    tcase_add_test(tc, lazy_ranks_items_in_32_bits);
    tcase_add_loop_test(tc, lazy_equals_naive, 0, 3);
    tcase_add_loop_test(tc, lazier_equals_stochastic, 0, 3);
    tcase_add_test(tc, stochastic_is_close_to_greedy);
    tcase_add_test(tc, sample_size_formula);
    tcase_add_test(tc, stops_when_gains_vanish);
    suite_add_tcase(s, tc);

    tc = tcase_create("budget");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, monotone_objectives_fill_the_budget, 0, 4);
    tcase_add_test(tc, stopping_early_is_explicit_and_reported);
    tcase_add_test(tc, intersections_report_why_they_are_short);
    tcase_add_test(tc, auto_stops_only_for_non_monotone_objectives);
    tcase_add_test(tc, short_reasons_have_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("runs");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, deterministic_across_threads_and_kernels);
    tcase_add_test(tc, intersection_of_runs);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, options_and_errors);
    tcase_add_loop_test(tc, progress_cancels_runs, 0, 2);
    tcase_add_loop_test(tc, progress_runs_from_zero_to_total, 0, 12);
    tcase_add_test(tc, allocation_failures_are_clean);
    suite_add_tcase(s, tc);

    tc = tcase_create("parallel gains");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, parallel_gains_change_no_result, 0, 3);
    suite_add_tcase(s, tc);

    tc = tcase_create("parts");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, parts_union_fills_the_budget_deterministically, 0, 8);
    tcase_add_loop_test(tc, parts_closed_forms, 0, 2);
    tcase_add_test(tc, parts_greedi_and_runs);
    tcase_add_test(tc, parts_without_a_state_merge);
    tcase_add_test(tc, parts_errors_and_progress);
    tcase_add_test(tc, parts_allocation_failures_are_clean);
    suite_add_tcase(s, tc);
    return s;
}
