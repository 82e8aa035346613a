/* SPDX-License-Identifier: MIT */
/*
 * UniPROT: the fixture's greedy order, f values and first-five plan; plans
 * meet their constraints; the water-filling gain matches an independent
 * sorted solution and a brute-force check of its KKT conditions, equals
 * the exact gain at P = {} and never exceeds it; f is monotone and has
 * diminishing returns on random instances; results do not depend on the
 * thread count; per-batch mode and the 1-NN evaluation; argument errors.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/rng.h"
#include "dispatch/dispatch.h"
#include "objectives/objective.h"
#include "uniprot/uniprot.h"
#include "tests/helpers.h"
#include "tests/suites.h"

static subsel_ctx *new_ctx(void)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    return ctx;
}

static subsel_dense *random_dense(subsel_ctx *ctx, int64_t rows, int64_t cols,
                                  double lo, double hi, uint64_t seed)
{
    float *v = malloc((size_t)(rows * cols) * sizeof *v);
    subsel_dense *d;
    ss_rng rng;
    int64_t i;
    ss_rng_seed(&rng, seed, 0);
    for (i = 0; i < rows * cols; i++)
        v[i] = (float)(lo + (hi - lo) * ss_rng_uniform(&rng));
    ck_assert_ok(ctx, subsel_dense_create(ctx, rows, cols, v, SUBSEL_COPY, &d));
    free(v);
    return d;
}

static double eval(subsel_ctx *ctx, const subsel_objective *obj,
                   const int64_t *set, int64_t count)
{
    double v;
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, set, count, &v));
    return v;
}

/* ---------------------------------------------------------------------- */
/* Fixture                                                                */
/* ---------------------------------------------------------------------- */

START_TEST(greedy_reproduces_fixture)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *s;
    subsel_objective *obj;
    subsel_optimizer *opt;
    subsel_selection *sel;
    int64_t cnt, i;
    int64_t *order = read_i64(fixture_path("uniprot/order.npy"), &cnt);
    double *values = read_f64(fixture_path("uniprot/values.npy"), &cnt);
    ck_assert_int_eq(cnt, 10);
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, fixture_path("uniprot/S.npy"), &s));
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, 10, 0.1, &obj));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 10));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), 10);
    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(subsel_selection_indices(sel)[i], order[i]);
        /* f after each step, from a fresh solve of the prefix. */
        ck_assert_double_eq_tol(eval(ctx, obj, order, i + 1), values[i], 1e-6);
    }
    ck_assert_double_eq_tol(subsel_selection_value(sel), values[9], 1e-6);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    subsel_dense_free(s);
    free(order), free(values);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(greedy_by_hand_matches_fixture)
{
    /* The objective's operations driven directly by a naive greedy loop:
     * the state's value after each add is f(P). */
    subsel_ctx *ctx = new_ctx();
    subsel_dense *s;
    subsel_objective *obj;
    void *state;
    int64_t cnt, step, n, items[60], i;
    int64_t *order = read_i64(fixture_path("uniprot/order.npy"), &cnt);
    double *values = read_f64(fixture_path("uniprot/values.npy"), &cnt);
    double gains[60], v;
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, fixture_path("uniprot/S.npy"), &s));
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, 10, 0.1, &obj));
    n = subsel_objective_size(obj);
    ck_assert_int_eq(n, 60);
    for (i = 0; i < n; i++)
        items[i] = i;
    ck_assert_ok(ctx, obj->ops->state_new(ctx, obj, &state));
    for (step = 0; step < 10; step++) {
        int64_t best = -1;
        ck_assert_ok(ctx, obj->ops->gains(ctx, obj, state, items, n, gains));
        for (i = 0; i < n; i++) {
            int64_t j;
            int taken = 0;
            for (j = 0; j < step; j++)
                taken |= order[j] == i;
            if (taken)
                ck_assert(gains[i] == 0.0);
            else if (best < 0 || gains[i] > gains[best])
                best = i;
        }
        ck_assert_int_eq(best, order[step]);
        ck_assert_ok(ctx, obj->ops->add(ctx, obj, state, best));
        ck_assert_ok(ctx, obj->ops->value(ctx, obj, state, &v));
        ck_assert_double_eq_tol(v, values[step], 1e-6);
    }
    /* k prototypes: no room for another. */
    ck_assert_status(ctx, obj->ops->gains(ctx, obj, state, items, 1, gains),
                     SUBSEL_E_INVALID);
    obj->ops->state_free(obj, state);
    subsel_objective_free(obj);
    subsel_dense_free(s);
    free(order), free(values);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(plan_of_first_five_matches_fixture)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *s;
    subsel_objective *obj;
    subsel_dense *want_plan;
    int64_t set[5] = {0, 1, 2, 3, 4}, i, j, n = 80;
    const float *want;
    double plan[5 * 80], value, cols[80];
    /* float32 is plenty for a 1e-6 comparison of entries below 1. */
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, fixture_path("uniprot/plan_first5.npy"),
                                            &want_plan));
    ck_assert_int_eq(subsel_dense_rows(want_plan) * subsel_dense_cols(want_plan), 5 * n);
    want = subsel_dense_data(want_plan);
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, fixture_path("uniprot/S.npy"), &s));
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, 10, 0.1, &obj));
    ck_assert_ok(ctx, subsel_uniprot_plan(ctx, obj, set, 5, plan, &value));
    /* expected.json "uniprot" f_first5. */
    ck_assert_double_eq_tol(value, 4.139424444486342, 1e-6);
    for (i = 0; i < 5 * n; i++)
        ck_assert_double_eq_tol(plan[i], want[i], 1e-6);
    /* Constraints: rows ship 1, columns get at most k / n. */
    for (j = 0; j < n; j++)
        cols[j] = 0.0;
    for (i = 0; i < 5; i++) {
        double row = 0.0;
        for (j = 0; j < n; j++) {
            row += plan[i * n + j];
            cols[j] += plan[i * n + j];
        }
        ck_assert_double_eq_tol(row, 1.0, 1e-9);
    }
    for (j = 0; j < n; j++)
        ck_assert_double_le(cols[j], 10.0 / 80.0 + 1e-9);
    /* The same value through the generic evaluation (adds one by one). */
    ck_assert_double_eq_tol(eval(ctx, obj, set, 5), value, 1e-8);
    subsel_objective_free(obj);
    subsel_dense_free(s);
    subsel_dense_free(want_plan);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The solve: convergence where k divides the targets and far beyond reg  */
/* ---------------------------------------------------------------------- */

/* rows x d points: standard normal (clusters 0), or `clusters` centres with
 * spread 3 and points 0.2 around them, times `scale`. */
static double *points(int64_t rows, int64_t d, int clusters, double scale,
                      uint64_t seed)
{
    double *x = malloc((size_t)(rows * d) * sizeof *x), *centres = NULL;
    ss_rng rng;
    int64_t i, l;
    ss_rng_seed(&rng, seed, 0);
    if (clusters > 0) {
        centres = malloc((size_t)(clusters * d) * sizeof *centres);
        for (i = 0; i < clusters * d; i++)
            centres[i] = 3.0 * ss_rng_normal(&rng);
    }
    for (i = 0; i < rows; i++) {
        int64_t c = clusters > 0 ? (int64_t)ss_rng_below(&rng, (uint64_t)clusters) : 0;
        for (l = 0; l < d; l++)
            x[i * d + l] = scale * ((centres ? centres[c * d + l] : 0.0) +
                                    (centres ? 0.2 : 1.0) * ss_rng_normal(&rng));
    }
    free(centres);
    return x;
}

/* The rows x n similarity matrix (-|x - y|^2, or x . y with `dot`) in
 * double precision, rounded once to float: independent of BLIS. */
static subsel_dense *similarity_matrix(subsel_ctx *ctx, const double *x,
                                       int64_t rows, const double *y, int64_t n,
                                       int64_t d, int dot)
{
    float *s = malloc((size_t)(rows * n) * sizeof *s);
    subsel_dense *out;
    int64_t i, j, l;
    for (i = 0; i < rows; i++)
        for (j = 0; j < n; j++) {
            double v = 0.0;
            for (l = 0; l < d; l++) {
                double diff = x[i * d + l] - y[j * d + l];
                v += dot ? x[i * d + l] * y[j * d + l] : -diff * diff;
            }
            s[i * n + j] = (float)v;
        }
    ck_assert_ok(ctx, subsel_dense_create(ctx, rows, n, s, SUBSEL_COPY, &out));
    free(s);
    return out;
}

/* Greedy selects k prototypes (one solve per prototype); the plan of the
 * selection meets its constraints (rows within row_tol of 1: the solve's
 * tolerance, or its rounding floor when values span ~1e7 reg) and its
 * value is the objective's. */
static void check_greedy_solves(subsel_ctx *ctx, const subsel_dense *s, int64_t k,
                                double reg, double row_tol)
{
    subsel_objective *obj;
    subsel_optimizer *opt;
    subsel_selection *sel;
    int64_t n = subsel_dense_cols(s), i, j;
    double *plan = malloc((size_t)(k * n) * sizeof *plan), *cols = calloc((size_t)n, sizeof *cols);
    double value, direct = 0.0, cap = (double)k / (double)n;
    const float *sim = subsel_dense_data(s);
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, k, reg, &obj));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, k));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), k);
    ck_assert_ok(ctx, subsel_uniprot_plan(ctx, obj, subsel_selection_indices(sel), k,
                                          plan, &value));
    for (i = 0; i < k; i++) {
        const float *row = sim + subsel_selection_indices(sel)[i] * n;
        double sum = 0.0;
        for (j = 0; j < n; j++) {
            double g = plan[i * n + j];
            ck_assert(g >= 0.0 && isfinite(g));
            sum += g;
            cols[j] += g;
            direct += g * row[j] - (g > 0.0 ? reg * g * log(g) : 0.0);
        }
        ck_assert_double_eq_tol(sum, 1.0, row_tol);
    }
    /* Columns meet their caps up to the rounding of the entries. */
    for (j = 0; j < n; j++)
        ck_assert_double_le(cols[j], cap * (1.0 + 1e-9));
    ck_assert_double_eq_tol(direct, value, 1e-7 * (1.0 + fabs(value)));
    ck_assert_double_eq_tol(subsel_selection_value(sel), value, 1e-7 * (1.0 + fabs(value)));
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    free(plan);
    free(cols);
}

START_TEST(solves_converge_when_k_divides_the_targets)
{
    /* When |P| n / k is a whole number (always when k divides n), the
     * optimum puts columns exactly on the kink of their cap; Newton's
     * method with Armijo backtracking then stalled near the tolerance,
     * where BLIS's rounding decided between success and failure. Each case
     * failed with the earlier solver under every BLIS configuration tried
     * (generic, skx, haswell). Kinds: bit 0 dot products (else negative
     * squared distances), bit 1 clustered points (else normal ones). */
    static const struct {
        int kind;
        double reg;
        int64_t k;
    } cases[] = {{0, 1e-2, 24}, {1, 1e-2, 20}, {3, 1e-2, 12}, {0, 1e-3, 20},
                 {2, 1e-3, 30}};
    subsel_ctx *ctx = new_ctx();
    size_t c;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int kind = cases[c].kind, dot = kind & 1, clusters = kind & 2 ? 8 : 0;
        double *x = points(120, 6, clusters, 1.0, 11 + (uint64_t)kind);
        double *y = points(120, 6, clusters, 1.0, 23 + (uint64_t)kind);
        subsel_dense *s = similarity_matrix(ctx, x, 120, y, 120, 6, dot);
        check_greedy_solves(ctx, s, cases[c].k, cases[c].reg, 1e-9 * (double)cases[c].k);
        subsel_dense_free(s);
        free(x);
        free(y);
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* The last of k prototypes fills what room is left (sum r = 1 exactly,
 * up to the last solve's row violation). When the solve left a deficit
 * above the water-filling's own rounding margin, every candidate's
 * approximate gain was -inf and greedy took whichever item came first
 * instead of the best one; a loose tolerance makes such deficits common.
 * Each selection's last step must have a finite gain and be the
 * candidate whose gain, computed by the objective from the first k - 1,
 * is largest. */
START_TEST(last_prototype_is_chosen_by_its_gain)
{
    subsel_ctx *ctx = new_ctx();
    int trial, infinite = 0;
    for (trial = 0; trial < 8; trial++) {
        const int64_t rows = 60, n = 80, k = 10;
        double *x = points(rows, 5, trial % 2 ? 6 : 0, 1.0, 101 + (uint64_t)trial);
        double *y = points(n, 5, trial % 2 ? 6 : 0, 1.0, 201 + (uint64_t)trial);
        subsel_dense *s = similarity_matrix(ctx, x, rows, y, n, 5, trial % 3 == 0);
        subsel_objective *obj;
        subsel_optimizer *opt;
        subsel_selection *sel;
        const int64_t *items;
        double best = -INFINITY, last;
        int64_t v, best_item = -1;
        ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, k, 0.1, &obj));
        ck_assert_ok(ctx, subsel_param_set_real(ctx, obj, SUBSEL_P_UNIPROT_TOL, 1e-5));
        ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, &opt));
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, k));
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
        ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &sel));
        ck_assert_int_eq(subsel_selection_count(sel), k);
        items = subsel_selection_indices(sel);
        last = subsel_selection_gains(sel)[k - 1];
        infinite += !isfinite(last);
        for (v = 0; v < rows; v++) {
            double g;
            int64_t i, taken = 0;
            for (i = 0; i < k - 1; i++)
                taken |= items[i] == v;
            if (taken)
                continue;
            ck_assert_ok(ctx, subsel_objective_gain(ctx, obj, items, k - 1, v, &g));
            if (g > best) {
                best = g;
                best_item = v;
            }
        }
        ck_assert_msg(isfinite(last) && items[k - 1] == best_item,
                      "trial %d: last pick %lld with gain %g, best %lld with %g", trial,
                      (long long)items[k - 1], last, (long long)best_item, best);
        subsel_selection_free(sel);
        subsel_optimizer_free(opt);
        subsel_objective_free(obj);
        subsel_dense_free(s);
        free(x);
        free(y);
    }
    ck_assert_int_eq(infinite, 0);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(solves_converge_far_beyond_reg)
{
    /* Similarities spanning ~10^7 times reg: from a warm start Newton
     * must cross many kinks, and the solve falls back to annealing. Each
     * Newton step used to move a potential by at most 100 reg. */
    subsel_ctx *ctx = new_ctx();
    double *x = points(200, 8, 10, 1.0, 5);
    double *y = points(200, 8, 10, 1.0, 6);
    subsel_dense *s = similarity_matrix(ctx, x, 200, y, 200, 8, 0);
    check_greedy_solves(ctx, s, 20, 1e-4, 1e-6);
    check_greedy_solves(ctx, s, 25, 1e-4, 1e-6);
    subsel_dense_free(s);
    free(x);
    free(y);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(iteration_cap_failure_names_the_cap)
{
    subsel_ctx *ctx = new_ctx();
    double *x = points(60, 4, 0, 1.0, 8);
    subsel_dense *s = similarity_matrix(ctx, x, 60, x, 60, 4, 0);
    subsel_objective *obj;
    int64_t set[3] = {0, 1, 2};
    double v;
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, 3, 1e-3, &obj));
    ck_assert_ok(ctx, subsel_uniprot_set_max_iterations(ctx, obj, 1));
    ck_assert_status(ctx, subsel_uniprot_plan(ctx, obj, set, 3, NULL, &v), SUBSEL_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "iteration cap"));
    ck_assert_ok(ctx, subsel_uniprot_set_max_iterations(ctx, obj, 1000));
    ck_assert_ok(ctx, subsel_uniprot_plan(ctx, obj, set, 3, NULL, &v));
    subsel_objective_free(obj);
    subsel_dense_free(s);
    free(x);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Water-filling gain                                                     */
/* ---------------------------------------------------------------------- */

/* Checks a from KKT by brute force: the value of a = min(r, c e^{s/reg})
 * at the c the bisection finds, against the gain. */
static double bisection_gain(const float *s, int64_t n, const double *r,
                             double reg)
{
    double lo = -1e5, hi = 1e5, lc = 0.0, value = 0.0, smax = -INFINITY;
    int64_t j;
    int it;
    for (j = 0; j < n; j++)
        smax = fmax(smax, s[j] / reg);
    for (it = 0; it < 400; it++) {
        double total = 0.0;
        lc = 0.5 * (lo + hi);
        for (j = 0; j < n; j++)
            total += fmin(r[j], exp(fmin(s[j] / reg - smax + lc, 700.0)));
        if (total > 1.0)
            hi = lc;
        else
            lo = lc;
    }
    for (j = 0; j < n; j++) {
        double a = fmin(r[j], exp(s[j] / reg - smax + lc));
        if (a > 0.0)
            value += a * (s[j] - reg * log(a));
    }
    return value;
}

/* The approximate gain's weights are rounded to float (uniprot/waterfill.c):
 * each within 2^-24 relatively, the gain (unit mass) within reg 2^-24 and a
 * free coordinate within 2^-23 relatively, on top of double rounding. */
#define WEIGHT_ROUNDING 0x1p-24

/* The approximate gain of similarity row s, its weights made here. */
static double waterfill(const ss_kernels *k, const float *s, int64_t n, const double *r,
                        const double *rl, double reg, double *work, double *alpha,
                        double *log_c, double *hint)
{
    float w[256];
    ss_waterfill_row row;
    ck_assert_int_le(n, 256);
    row.s = s;
    row.s_max = (float)k->max_f32(s, n);
    row.w = w;
    row.w_sum = ss_waterfill_weights(k, s, row.s_max, n, reg, w);
    return ss_waterfill_gain(k, &row, n, r, rl, reg, 0.0, work, alpha, log_c, hint);
}

START_TEST(waterfill_matches_sorted_and_bisection)
{
    const ss_kernels *k = ss_kernels_level(subsel_isa_selected());
    const double regs[] = {1.0, 0.1, 0.01, 0.001};
    enum { N = 203 };
    float s[N];
    double r[N], rl[N], w[3 * N + 1], a_fast[N], a_sorted[N];
    ss_rng rng;
    int trial;
    ss_rng_seed(&rng, 21, 0);
    for (trial = 0; trial < 200; trial++) {
        double reg = regs[trial % 4], rsum = 0.0, fast, sorted, ref, lc_fast, lc_sorted;
        int64_t n = 1 + (int64_t)ss_rng_below(&rng, N), j;
        for (j = 0; j < n; j++) {
            s[j] = (float)(2.0 * ss_rng_uniform(&rng) - 1.0);
            /* Some exhausted capacities, some full, the rest in between. */
            r[j] = ss_rng_below(&rng, 5) == 0 ? 0.0 : (2.0 + 3.0 * ss_rng_uniform(&rng)) / (double)n;
            if (trial % 3 == 0 && s[j] > 0.3f)
                r[j] = 1e-6; /* the best targets used up: free mass far down */
            rl[j] = r[j] > 0 ? r[j] * log(r[j]) : 0.0;
            rsum += r[j];
        }
        if (rsum < 1.0) {
            ck_assert(ss_waterfill_sorted(s, n, r, reg, 0.0, w, NULL, NULL) == -INFINITY);
            continue;
        }
        fast = waterfill(k, s, n, r, rl, reg, w, a_fast, &lc_fast, NULL);
        {
            /* Warm starts give the same bits: from the root of larger
             * capacities (right of this root: the greedy case), from one of
             * smaller ones (left: the cold start follows), and from the
             * root itself. */
            double r2[N], rl2[N], hint, again, lc_again;
            const double scales[3] = {1.5, 0.5, 1.0};
            int v;
            for (v = 0; v < 3; v++) {
                for (j = 0; j < n; j++) {
                    r2[j] = r[j] * scales[v];
                    rl2[j] = r2[j] > 0 ? r2[j] * log(r2[j]) : 0.0;
                }
                hint = 0.0;
                waterfill(k, s, n, v < 2 ? r2 : r, v < 2 ? rl2 : rl, reg, w, NULL, NULL,
                          &hint);
                again = waterfill(k, s, n, r, rl, reg, w, NULL, &lc_again, &hint);
                ck_assert_msg(again == fast || (isnan(again) && isnan(fast)),
                              "trial %d scale %g: warm %.17g cold %.17g", trial, scales[v],
                              again, fast);
                ck_assert(lc_again == lc_fast || (isnan(lc_again) && isnan(lc_fast)));
            }
        }
        sorted = ss_waterfill_sorted(s, n, r, reg, 0.0, w, a_sorted, &lc_sorted);
        ref = bisection_gain(s, n, r, reg);
        {
            /* The maximisers agree, are feasible and have that value. */
            double total = 0.0, value = 0.0, s_max = k->max_f32(s, n);
            for (j = 0; j < n; j++) {
                ck_assert_double_eq_tol(a_fast[j], a_sorted[j],
                                        1e-9 + 2.0 * WEIGHT_ROUNDING * a_sorted[j]);
                ck_assert_double_le(a_fast[j], r[j]);
                ck_assert_double_ge(a_fast[j], 0.0);
                total += a_fast[j];
                if (a_fast[j] > 0.0)
                    value += a_fast[j] * (s[j] - reg * log(a_fast[j]));
            }
            ck_assert_double_eq_tol(total, 1.0, 1e-9);
            ck_assert_double_eq_tol(value, fast,
                                    1e-8 * (1.0 + fabs(fast)) + reg * WEIGHT_ROUNDING);
            /* log c: the free coordinates are exp(s_j / reg + log c). */
            ck_assert_double_eq_tol(lc_fast, lc_sorted,
                                    1e-7 * (1.0 + fabs(lc_sorted)) + WEIGHT_ROUNDING);
            /* (where the weight is a normal float: the smaller ones are
             * exact to 2^-150 only, and hold less than 2^-50 of the mass) */
            for (j = 0; j < n; j++)
                if (a_fast[j] > 1e-300 && a_fast[j] < r[j] * (1.0 - 1e-9) &&
                    (s[j] - s_max) / reg > log(FLT_MIN))
                    ck_assert_double_eq_tol(log(a_fast[j]), s[j] / reg + lc_fast,
                                            1e-9 * (1.0 + fabs(s[j] / reg)) +
                                                2.0 * WEIGHT_ROUNDING);
        }
        ck_assert_msg(fabs(fast - sorted) <= 1e-9 * (1.0 + fabs(sorted)) + reg * WEIGHT_ROUNDING,
                      "trial %d n %lld reg %g: fast %.17g sorted %.17g", trial,
                      (long long)n, reg, fast, sorted);
        ck_assert_msg(fabs(sorted - ref) <= 1e-7 * (1.0 + fabs(ref)),
                      "trial %d: sorted %.17g bisection %.17g", trial, sorted, ref);
    }
}
END_TEST

START_TEST(approx_gain_is_exact_at_empty_set_and_a_lower_bound)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *s = random_dense(ctx, 12, 9, -1.0, 1.0, 3);
    subsel_objective *obj;
    int64_t items[12], i, trial;
    double approx[12], exact[12];
    ss_rng rng;
    ss_rng_seed(&rng, 4, 0);
    for (i = 0; i < 12; i++)
        items[i] = i;
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, 5, 0.2, &obj));
    ck_assert_ok(ctx, subsel_uniprot_set_tolerance(ctx, obj, 1e-12));
    for (trial = 0; trial < 8; trial++) {
        /* A random set of 0..4 rows. */
        int64_t set[4], count = trial % 5, c;
        void *st;
        for (c = 0; c < count;) {
            int64_t v = (int64_t)ss_rng_below(&rng, 12), q, dup = 0;
            for (q = 0; q < c; q++)
                dup |= set[q] == v;
            if (!dup)
                set[c++] = v;
        }
        ck_assert_ok(ctx, ss_state_of_set(ctx, obj, set, count, &st));
        ck_assert_ok(ctx, subsel_uniprot_set_gain(ctx, obj, SUBSEL_UNIPROT_GAIN_APPROX));
        ck_assert_ok(ctx, obj->ops->gains(ctx, obj, st, items, 12, approx));
        ck_assert_ok(ctx, subsel_uniprot_set_gain(ctx, obj, SUBSEL_UNIPROT_GAIN_EXACT));
        ck_assert_ok(ctx, obj->ops->gains(ctx, obj, st, items, 12, exact));
        for (i = 0; i < 12; i++) {
            if (count == 0)
                ck_assert_double_eq_tol(approx[i], exact[i], 1e-9 + 0.2 * WEIGHT_ROUNDING);
            else
                ck_assert_double_le(approx[i], exact[i] + 1e-9 + 0.2 * WEIGHT_ROUNDING);
        }
        /* The exact gain is f(P + v) - f(P). */
        for (i = 0; i < 12; i++) {
            int64_t q, in = 0, bigger[5];
            for (q = 0; q < count; q++)
                in |= set[q] == i, bigger[q] = set[q];
            if (in)
                continue;
            bigger[count] = i;
            ck_assert_double_eq_tol(exact[i], eval(ctx, obj, bigger, count + 1) -
                                                  eval(ctx, obj, set, count), 1e-8);
        }
        obj->ops->state_free(obj, st);
    }
    subsel_objective_free(obj);
    subsel_dense_free(s);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Properties of f                                                        */
/* ---------------------------------------------------------------------- */

START_TEST(gains_read_only_columns_with_room)
{
    /* Late in a selection most targets are full and the approximate gains
     * read only the columns with room (objective.c): they must still be
     * the water-filling gains of whole rows against the state's r (the
     * sorted method's, on every column), as when every column is read. */
    const ss_kernels *k = ss_kernels_level(subsel_isa_selected());
    const int64_t rows = 40, n = 24, kk = 8;
    const double reg = 0.05;
    subsel_ctx *ctx = new_ctx();
    subsel_dense *s = random_dense(ctx, rows, n, -1.0, 1.0, 5);
    subsel_objective *obj;
    subsel_optimizer *opt;
    subsel_selection *sel;
    int64_t items[40], count, v, packed = 0;
    double got[40], work[3 * 24 + 1], rl[24];
    for (v = 0; v < rows; v++)
        items[v] = v;
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, kk, reg, &obj));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, kk - 1));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), kk - 1);
    for (count = 0; count < kk; count++) {
        const double *r;
        double unplaced;
        void *st;
        int64_t room, j;
        ck_assert_ok(ctx, ss_state_of_set(ctx, obj, subsel_selection_indices(sel), count, &st));
        ck_assert_ok(ctx, obj->ops->gains(ctx, obj, st, items, rows, got));
        room = ss_uniprot_state_room(st, &r, &unplaced);
        packed += room < n;
        for (j = 0; j < n; j++)
            rl[j] = r[j] > 0.0 ? r[j] * log(r[j]) : 0.0;
        for (v = 0; v < rows; v++) {
            const float *row = subsel_dense_data(s) + v * n;
            double sorted = ss_waterfill_sorted(row, n, r, reg, unplaced, work, NULL, NULL);
            double whole = waterfill(k, row, n, r, rl, reg, work, NULL, NULL, NULL);
            int in = 0, q;
            for (q = 0; q < count; q++)
                in |= subsel_selection_indices(sel)[q] == v;
            if (in)
                continue;
            ck_assert_msg(fabs(got[v] - sorted) <= 1e-12 + 4.0 * reg * WEIGHT_ROUNDING &&
                              fabs(got[v] - whole) <= 1e-13 * (1.0 + fabs(whole)),
                          "|P| = %lld, room %lld of %lld: row %lld's gain %.17g, sorted %.17g, "
                          "every column %.17g", (long long)count, (long long)room, (long long)n,
                          (long long)v, got[v], sorted, whole);
        }
        obj->ops->state_free(obj, st);
    }
    ck_assert_int_gt(packed, 0); /* the last states read fewer columns */
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    subsel_dense_free(s);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(f_is_monotone_and_submodular_on_random_instances)
{
    subsel_ctx *ctx = new_ctx();
    ss_rng rng;
    int trial;
    ss_rng_seed(&rng, 5, 0);
    for (trial = 0; trial < 12; trial++) {
        int64_t rows = 9, n = 7, k = 6, a[6], b[6], na, nb, v, q;
        subsel_dense *s = random_dense(ctx, rows, n, 0.0, 1.0, 100 + (uint64_t)trial);
        subsel_objective *obj;
        double reg = trial % 2 ? 0.05 : 0.5, fa, fb, fav, fbv;
        ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, k, reg, &obj));
        ck_assert_ok(ctx, subsel_uniprot_set_tolerance(ctx, obj, 1e-12));
        /* A subset of B (|B| <= k - 1) and an item outside B. */
        nb = 1 + (int64_t)ss_rng_below(&rng, (uint64_t)(k - 1));
        for (q = 0; q < nb;) {
            int64_t x = (int64_t)ss_rng_below(&rng, (uint64_t)rows), p, dup = 0;
            for (p = 0; p < q; p++)
                dup |= b[p] == x;
            if (!dup)
                b[q++] = x;
        }
        na = (int64_t)ss_rng_below(&rng, (uint64_t)nb + 1);
        memcpy(a, b, (size_t)na * sizeof *a);
        do {
            int64_t p;
            int in = 0;
            v = (int64_t)ss_rng_below(&rng, (uint64_t)rows);
            for (p = 0; p < nb; p++)
                in |= b[p] == v;
            if (!in)
                break;
        } while (1);
        fa = eval(ctx, obj, a, na);
        fb = eval(ctx, obj, b, nb);
        a[na] = v;
        b[nb] = v;
        fav = eval(ctx, obj, a, na + 1);
        fbv = eval(ctx, obj, b, nb + 1);
        ck_assert_double_ge(fb, fa - 1e-9);   /* monotone (S >= 0) */
        ck_assert_double_ge(fav, fa - 1e-9);
        ck_assert_msg(fav - fa >= fbv - fb - 1e-8,
                      "trial %d: gain %.12g on A < %.12g on B", trial,
                      fav - fa, fbv - fb);
        subsel_objective_free(obj);
        subsel_dense_free(s);
    }
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(results_do_not_depend_on_threads)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *src = random_dense(ctx, 300, 16, -1.0, 1.0, 7);
    subsel_dense *tgt = random_dense(ctx, 700, 16, -1.0, 1.0, 8);
    subsel_objective *obj;
    subsel_optimizer *opt;
    subsel_selection *sel[2];
    int t;
    ck_assert_ok(ctx, subsel_uniprot_create_from_features(ctx, src, tgt,
                                                          SUBSEL_SIM_COSINE, 20,
                                                          0.02, &obj));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_STOCHASTIC, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 20));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
    ck_assert_ok(ctx, subsel_optimizer_set_double(opt, SUBSEL_OPT_EPSILON, 0.01));
    for (t = 0; t < 2; t++) {
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, t + 1));
        ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &sel[t]));
    }
    ck_assert_int_eq(subsel_selection_count(sel[0]), 20);
    ck_assert(memcmp(subsel_selection_indices(sel[0]), subsel_selection_indices(sel[1]),
                     20 * sizeof(int64_t)) == 0);
    ck_assert(memcmp(subsel_selection_gains(sel[0]), subsel_selection_gains(sel[1]),
                     20 * sizeof(double)) == 0);
    ck_assert(subsel_selection_value(sel[0]) == subsel_selection_value(sel[1]));
    subsel_selection_free(sel[0]);
    subsel_selection_free(sel[1]);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    subsel_dense_free(src);
    subsel_dense_free(tgt);
    subsel_ctx_free(ctx);
}
END_TEST

/* Runs keep each row's gain weights (within SUBSEL_P_UNIPROT_GAIN_MEMORY,
 * shared by the runs of one objective) or make them again for every gain:
 * the same bits either way, for every optimizer and update. The kept
 * weights count toward the memory limit: below their size, the default
 * fails and a budget of 0 runs. */
START_TEST(kept_weights_change_nothing)
{
    /* the last: naive greedy on 3 parts at once, which share the weights
     * (batches of 600 rows: kept weights serve batches of 512 or more) */
    const int opts[4] = {SUBSEL_OPT_NAIVE, SUBSEL_OPT_LAZY, SUBSEL_OPT_STOCHASTIC,
                         SUBSEL_OPT_NAIVE};
    const int64_t rows = 1800, n = 100, k = 12;
    const int64_t weights = rows * n * (int64_t)sizeof(float); /* 720 KB */
    subsel_ctx *plain = new_ctx(), *ctx = new_ctx();
    subsel_dense *src = random_dense(plain, rows, 16, -1.0, 1.0, 31);
    subsel_dense *tgt = random_dense(plain, n, 16, -1.0, 1.0, 32);
    subsel_objective *obj;
    subsel_optimizer *opt;
    subsel_selection *sel = NULL;
    int64_t budget;
    int o, update;
    ck_assert_ok(ctx, subsel_uniprot_create_from_features(ctx, src, tgt, SUBSEL_SIM_COSINE,
                                                          k, 0.02, &obj));
    ck_assert_ok(ctx, subsel_param_get_int(ctx, obj, SUBSEL_P_UNIPROT_GAIN_MEMORY, &budget));
    ck_assert_int_eq(budget, (int64_t)512 << 20);
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_LAZY, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, k));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MEMORY_LIMIT,
                                         (int64_t)ss_meter_bytes(&ctx->meter) + weights * 3 / 4));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, opt, obj, &sel), SUBSEL_E_NOMEM);
    ck_assert_ptr_null(sel);
    ck_assert_ok(ctx, subsel_param_set_int(ctx, obj, SUBSEL_P_UNIPROT_GAIN_MEMORY, 0));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), k);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MEMORY_LIMIT, 0));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 2));
    for (update = 0; update < 2; update++)
        for (o = 0; o < 4; o++) {
            subsel_selection *got[2];
            int kept;
            ck_assert_ok(ctx, subsel_uniprot_set_update(ctx, obj, update));
            ck_assert_ok(ctx, subsel_optimizer_create(ctx, opts[o], &opt));
            ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, k));
            ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
            ck_assert_ok(ctx, subsel_optimizer_set_double(opt, SUBSEL_OPT_EPSILON, 0.05));
            ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_P_PARTS, o == 3 ? 3 : 1));
            for (kept = 0; kept < 2; kept++) {
                ck_assert_ok(ctx, subsel_param_set_int(ctx, obj, SUBSEL_P_UNIPROT_GAIN_MEMORY,
                                                       kept ? weights : weights - 1));
                ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &got[kept]));
            }
            ck_assert_int_eq(subsel_selection_count(got[0]), k);
            ck_assert_int_eq(subsel_selection_count(got[1]), k);
            ck_assert_msg(memcmp(subsel_selection_indices(got[0]),
                                 subsel_selection_indices(got[1]), (size_t)k * sizeof(int64_t)) == 0 &&
                              memcmp(subsel_selection_gains(got[0]), subsel_selection_gains(got[1]),
                                     (size_t)k * sizeof(double)) == 0 &&
                              subsel_selection_value(got[0]) == subsel_selection_value(got[1]),
                          "run %d update %d: kept weights change the selection", o, update);
            subsel_selection_free(got[0]);
            subsel_selection_free(got[1]);
            subsel_optimizer_free(opt);
        }
    ck_assert_status(ctx, subsel_param_set_int(ctx, obj, SUBSEL_P_UNIPROT_GAIN_MEMORY, -1),
                     SUBSEL_E_INVALID);
    subsel_objective_free(obj);
    subsel_dense_free(src);
    subsel_dense_free(tgt);
    subsel_ctx_free(ctx);
    subsel_ctx_free(plain);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Features, per-batch mode, evaluation                                   */
/* ---------------------------------------------------------------------- */

START_TEST(similarities_from_features)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *src = random_dense(ctx, 5, 6, -1.0, 1.0, 9);
    subsel_dense *tgt = random_dense(ctx, 4, 6, -1.0, 1.0, 10);
    const float *x = subsel_dense_data(src), *y = subsel_dense_data(tgt);
    int sim;
    for (sim = SUBSEL_SIM_COSINE; sim <= SUBSEL_SIM_NEG_EUCLID; sim++) {
        subsel_objective *obj;
        const ss_uniprot *up;
        int64_t i, j, c;
        ck_assert_ok(ctx, subsel_uniprot_create_from_features(ctx, src, tgt, sim,
                                                              2, 0.1, &obj));
        up = obj->impl;
        for (i = 0; i < 5; i++)
            for (j = 0; j < 4; j++) {
                double dot = 0, nx = 0, ny = 0, want;
                for (c = 0; c < 6; c++) {
                    dot += (double)x[i * 6 + c] * y[j * 6 + c];
                    nx += (double)x[i * 6 + c] * x[i * 6 + c];
                    ny += (double)y[j * 6 + c] * y[j * 6 + c];
                }
                want = sim == SUBSEL_SIM_COSINE        ? dot / sqrt(nx * ny)
                       : sim == SUBSEL_SIM_DOT         ? dot
                       : sim == SUBSEL_SIM_NEG_SQEUCLID ? -(nx + ny - 2 * dot)
                                                       : -sqrt(nx + ny - 2 * dot);
                ck_assert_double_eq_tol(up->sim[i * 4 + j], want, 1e-5);
            }
        subsel_objective_free(obj);
        /* a row's distance to itself is 0, not the float products' error
         * (which the square root would blow up to ~1e-4) */
        if (sim == SUBSEL_SIM_NEG_SQEUCLID || sim == SUBSEL_SIM_NEG_EUCLID) {
            ck_assert_ok(ctx, subsel_uniprot_create_from_features(ctx, src, src, sim,
                                                                  2, 0.1, &obj));
            up = obj->impl;
            for (i = 0; i < 5; i++)
                ck_assert(up->sim[i * 5 + i] == 0.0f);
            subsel_objective_free(obj);
        }
    }
    subsel_dense_free(src);
    subsel_dense_free(tgt);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(batch_mode_is_greedy_on_the_batch)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *batch = random_dense(ctx, 64, 12, -1.0, 1.0, 11);
    subsel_selection *sel, *ref;
    subsel_objective *obj;
    subsel_optimizer *opt;
    int64_t i, j;
    ck_assert_ok(ctx, subsel_uniprot_select_batch(ctx, batch, 0.25, 0.05,
                                                  SUBSEL_SIM_COSINE, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), 16);
    for (i = 0; i < 16; i++)
        for (j = 0; j < i; j++)
            ck_assert_int_ne(subsel_selection_indices(sel)[i],
                             subsel_selection_indices(sel)[j]);
    /* The same as naive greedy with appended plans on an objective over the
     * batch against itself, and its value is f of the selection. */
    ck_assert_ok(ctx, subsel_uniprot_create_from_features(ctx, batch, batch,
                                                          SUBSEL_SIM_COSINE, 16,
                                                          0.05, &obj));
    ck_assert_ok(ctx, subsel_uniprot_set_update(ctx, obj, SUBSEL_UNIPROT_UPDATE_APPEND));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 16));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &ref));
    ck_assert(memcmp(subsel_selection_indices(sel), subsel_selection_indices(ref),
                     16 * sizeof(int64_t)) == 0);
    ck_assert(memcmp(subsel_selection_gains(sel), subsel_selection_gains(ref),
                     16 * sizeof(double)) == 0);
    ck_assert(subsel_selection_value(ref) == subsel_selection_value(sel));
    /* The appended plan's value is a lower bound of f. */
    ck_assert_ok(ctx, subsel_uniprot_set_update(ctx, obj, SUBSEL_UNIPROT_UPDATE_SOLVE));
    ck_assert_double_le(subsel_selection_value(sel),
                        eval(ctx, obj, subsel_selection_indices(sel), 16) + 1e-9);
    subsel_selection_free(sel);
    subsel_selection_free(ref);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    /* Bad arguments. */
    ck_assert_status(ctx, subsel_uniprot_select_batch(ctx, batch, 0.0, 0.05, 0, &sel),
                     SUBSEL_E_INVALID);
    ck_assert_ptr_null(sel);
    ck_assert_status(ctx, subsel_uniprot_select_batch(ctx, batch, 1.5, 0.05, 0, &sel),
                     SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_select_batch(ctx, batch, 0.5, -1.0, 0, &sel),
                     SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_select_batch(ctx, batch, 0.5, 0.1, 9, &sel),
                     SUBSEL_E_INVALID);
    subsel_dense_free(batch);
    subsel_ctx_free(ctx);
}
END_TEST

/* The paper's f = <S_P, G> next to the entropic value: from the plan by
 * hand, and value - f = reg H(G). */
START_TEST(transport_similarity_is_the_plans_similarity)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *src = random_dense(ctx, 30, 8, -1.0, 1.0, 21);
    subsel_dense *tgt = random_dense(ctx, 40, 8, -1.0, 1.0, 22);
    const int64_t set[] = {3, 17, 5, 29, 11};
    double plan[5 * 40], value, f, v2, dot = 0.0, ent = 0.0;
    subsel_objective *obj, *fb;
    const ss_uniprot *up;
    int64_t i, j;
    ck_assert_ok(ctx, subsel_uniprot_create_from_features(ctx, src, tgt, SUBSEL_SIM_NEG_EUCLID,
                                                          8, 0.1, &obj));
    up = obj->impl;
    ck_assert_ok(ctx, subsel_uniprot_plan_v2(ctx, obj, set, 5, plan, 5 * 40, &value));
    ck_assert_ok(ctx, subsel_uniprot_transport_similarity(ctx, obj, set, 5, &f, &v2));
    for (i = 0; i < 5; i++)
        for (j = 0; j < 40; j++) {
            double g = plan[i * 40 + j];
            dot += g * ss_uniprot_row(up, set[i])[j];
            ent -= g > 0.0 ? g * log(g) : 0.0;
        }
    ck_assert_double_eq_tol(f, dot, 1e-12 * (1.0 + fabs(dot)));
    ck_assert_double_eq_tol(v2, value, 1e-12 * (1.0 + fabs(value)));
    ck_assert_double_eq_tol(value - f, 0.1 * ent, 1e-9);
    ck_assert_double_gt(value, f); /* the entropy term is positive */
    ck_assert_ok(ctx, subsel_uniprot_transport_similarity(ctx, obj, set, 5, &f, NULL));
    ck_assert_ok(ctx, subsel_uniprot_transport_similarity(ctx, obj, set, 0, &f, &v2));
    ck_assert(f == 0.0 && v2 == 0.0);
    /* bad arguments: NULL output, too many rows, a repeated row, not UniPROT */
    ck_assert_status(ctx, subsel_uniprot_transport_similarity(ctx, obj, set, 5, NULL, &v2),
                     SUBSEL_E_INVALID);
    {
        const int64_t many[] = {0, 1, 2, 3, 4, 5, 6, 7, 8}, twice[] = {1, 1};
        ck_assert_status(ctx, subsel_uniprot_transport_similarity(ctx, obj, many, 9, &f, NULL),
                         SUBSEL_E_INVALID);
        ck_assert_status(ctx, subsel_uniprot_transport_similarity(ctx, obj, twice, 2, &f, NULL),
                         SUBSEL_E_INVALID);
    }
    {
        const double w[8] = {1, 1, 1, 1, 1, 1, 1, 1};
        subsel_csr *z;
        const int64_t ip[] = {0, 1};
        const int32_t ix[] = {0};
        const float v[] = {1};
        ck_assert_ok(ctx, subsel_csr_create(ctx, 1, 8, ip, ix, v, SUBSEL_COPY, &z));
        ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0.0, w, &fb));
        ck_assert_status(ctx, subsel_uniprot_transport_similarity(ctx, fb, set, 1, &f, NULL),
                         SUBSEL_E_INVALID);
        subsel_objective_free(fb);
        subsel_csr_free(z);
    }
    subsel_objective_free(obj);
    subsel_dense_free(src);
    subsel_dense_free(tgt);
    subsel_ctx_free(ctx);
}
END_TEST

/* UniPROT-PB with re-solves is naive greedy with re-solves on the batch
 * against itself; with appended plans it is subsel_uniprot_select_batch. */
START_TEST(batch_v2_solves_as_the_paper_does)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *batch = random_dense(ctx, 40, 10, -1.0, 1.0, 23);
    subsel_selection *sel, *ref;
    subsel_objective *obj;
    subsel_optimizer *opt;
    int64_t k = 10;
    ck_assert_ok(ctx, subsel_uniprot_select_batch_v2(ctx, batch, NULL, 0.25, 0.05,
                                                     SUBSEL_SIM_COSINE,
                                                     SUBSEL_UNIPROT_UPDATE_APPEND, &sel));
    ck_assert_ok(ctx, subsel_uniprot_select_batch(ctx, batch, 0.25, 0.05, SUBSEL_SIM_COSINE,
                                                  &ref));
    ck_assert_int_eq(subsel_selection_count(sel), k);
    ck_assert(memcmp(subsel_selection_indices(sel), subsel_selection_indices(ref),
                     (size_t)k * sizeof(int64_t)) == 0);
    ck_assert(subsel_selection_value(sel) == subsel_selection_value(ref));
    subsel_selection_free(sel);
    subsel_selection_free(ref);

    ck_assert_ok(ctx, subsel_uniprot_select_batch_v2(ctx, batch, NULL, 0.25, 0.05,
                                                     SUBSEL_SIM_COSINE,
                                                     SUBSEL_UNIPROT_UPDATE_SOLVE, &sel));
    ck_assert_ok(ctx, subsel_uniprot_create_from_features(ctx, batch, batch, SUBSEL_SIM_COSINE,
                                                          k, 0.05, &obj));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, k));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &ref));
    ck_assert_int_eq(subsel_selection_count(sel), k);
    ck_assert(memcmp(subsel_selection_indices(sel), subsel_selection_indices(ref),
                     (size_t)k * sizeof(int64_t)) == 0);
    /* its value is f of the selection */
    ck_assert_double_eq_tol(subsel_selection_value(sel),
                            eval(ctx, obj, subsel_selection_indices(sel), k), 1e-7);
    subsel_selection_free(sel);
    subsel_selection_free(ref);
    ck_assert_status(ctx, subsel_uniprot_select_batch_v2(ctx, batch, NULL, 0.25, 0.05,
                                                         SUBSEL_SIM_COSINE, 2, &sel),
                     SUBSEL_E_INVALID);
    ck_assert_ptr_null(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    subsel_dense_free(batch);
    subsel_ctx_free(ctx);
}
END_TEST

/* UniPROT-PS: each source's prototypes are those of the source's rows on
 * their own, round(fraction B_q) of them, sources in label order. */
START_TEST(batch_v2_per_source_selects_within_each_source)
{
    subsel_ctx *ctx = new_ctx();
    const int64_t b = 45, d = 7;
    subsel_dense *batch = random_dense(ctx, b, d, -1.0, 1.0, 24);
    const float *x = subsel_dense_data(batch);
    int64_t sources[45], want_count = 0, at = 0, i, q;
    const int64_t labels[3] = {-5, 2, 9}; /* 20, 16 and 9 rows, interleaved */
    subsel_selection *sel;
    double value = 0.0;
    for (i = 0; i < b; i++)
        sources[i] = labels[i % 5 < 2 ? 0 : i % 5 < 4 ? 1 : 2] ;
    ck_assert_ok(ctx, subsel_uniprot_select_batch_v2(ctx, batch, sources, 0.3, 0.05,
                                                     SUBSEL_SIM_NEG_EUCLID,
                                                     SUBSEL_UNIPROT_UPDATE_SOLVE, &sel));
    for (q = 0; q < 3; q++) {
        int64_t rows[45], count = 0, k;
        float *part = malloc((size_t)(b * d) * sizeof *part);
        subsel_dense *pd;
        subsel_selection *ref;
        for (i = 0; i < b; i++)
            if (sources[i] == labels[q]) {
                memcpy(part + count * d, x + i * d, (size_t)d * sizeof *part);
                rows[count++] = i;
            }
        k = (int64_t)floor(0.3 * (double)count + 0.5);
        ck_assert_ok(ctx, subsel_dense_create(ctx, count, d, part, SUBSEL_COPY, &pd));
        ck_assert_ok(ctx, subsel_uniprot_select_batch_v2(ctx, pd, NULL, 0.3, 0.05,
                                                         SUBSEL_SIM_NEG_EUCLID,
                                                         SUBSEL_UNIPROT_UPDATE_SOLVE, &ref));
        ck_assert_int_eq(subsel_selection_count(ref), k);
        for (i = 0; i < k; i++) {
            ck_assert_int_eq(subsel_selection_indices(sel)[at + i],
                             rows[subsel_selection_indices(ref)[i]]);
            ck_assert(subsel_selection_gains(sel)[at + i] == subsel_selection_gains(ref)[i]);
        }
        at += k;
        want_count += k;
        value += subsel_selection_value(ref);
        subsel_selection_free(ref);
        subsel_dense_free(pd);
        free(part);
    }
    ck_assert_int_eq(subsel_selection_count(sel), want_count);
    ck_assert_double_eq_tol(subsel_selection_value(sel), value, 1e-12 * fabs(value));
    subsel_selection_free(sel);
    subsel_dense_free(batch);
    subsel_ctx_free(ctx);
}
END_TEST

/* A similarity beyond float names the rows of the batch, not of the
 * source's own matrix. */
START_TEST(batch_v2_errors_name_batch_rows)
{
    subsel_ctx *ctx = new_ctx();
    float x[6 * 2] = {1, 0, 0, 1, 1, 1, 1e20f, 1e20f, 2, 0, 0, 2};
    const int64_t sources[6] = {1, 0, 1, 0, 1, 0};
    subsel_dense *batch;
    subsel_selection *sel = NULL;
    ck_assert_ok(ctx, subsel_dense_create(ctx, 6, 2, x, SUBSEL_BORROW, &batch));
    ck_assert_status(ctx, subsel_uniprot_select_batch_v2(ctx, batch, sources, 0.5, 0.1,
                                                         SUBSEL_SIM_DOT,
                                                         SUBSEL_UNIPROT_UPDATE_APPEND, &sel),
                     SUBSEL_E_NUMERIC);
    ck_assert_ptr_null(sel);
    /* source 0 holds rows 1, 3, 5: its first pair beyond float is (3, 3) */
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "batch rows 3 and 3"));
    subsel_dense_free(batch);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(nn_accuracy_counts_nearest_prototype_labels)
{
    /* Prototypes on the axes; targets near them. */
    subsel_ctx *ctx = new_ctx();
    const float src[] = {1, 0, 0, 1, -1, 0, 0.9f, 0.1f};
    const float tgt[] = {2, 0.1f, 0.1f, 3, -1, -0.2f, 0.5f, 0.6f, 1, 0};
    const int64_t slab[] = {7, 8, 9, 7}, tlab[] = {7, 8, 9, 7, 8};
    const int64_t protos[] = {0, 1, 2};
    subsel_dense *s, *t;
    double acc;
    ck_assert_ok(ctx, subsel_dense_create(ctx, 4, 2, src, SUBSEL_BORROW, &s));
    ck_assert_ok(ctx, subsel_dense_create(ctx, 5, 2, tgt, SUBSEL_BORROW, &t));
    ck_assert_ok(ctx, subsel_nn_accuracy(ctx, s, slab, protos, 3, t, tlab,
                                         SUBSEL_SIM_COSINE, &acc));
    /* (0.5, 0.6) is nearer to (0, 1): label 8, wrong for 7; (1, 0): 7, wrong for 8. */
    ck_assert_double_eq_tol(acc, 3.0 / 5.0, 1e-15);
    ck_assert_ok(ctx, subsel_nn_accuracy(ctx, s, slab, protos, 3, t, tlab,
                                         SUBSEL_SIM_NEG_SQEUCLID, &acc));
    ck_assert_double_eq_tol(acc, 3.0 / 5.0, 1e-15);
    {
        const int64_t bad[] = {0, 4};
        ck_assert_status(ctx, subsel_nn_accuracy(ctx, s, slab, bad, 2, t, tlab,
                                                 SUBSEL_SIM_COSINE, &acc),
                         SUBSEL_E_INVALID);
        ck_assert_status(ctx, subsel_nn_accuracy(ctx, s, slab, protos, 0, t, tlab,
                                                 SUBSEL_SIM_COSINE, &acc),
                         SUBSEL_E_INVALID);
    }
    subsel_dense_free(s);
    subsel_dense_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(arguments_are_checked)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *s = random_dense(ctx, 6, 5, 0.0, 1.0, 12);
    subsel_dense *t = random_dense(ctx, 6, 4, 0.0, 1.0, 13);
    subsel_objective *obj = (subsel_objective *)1, *fb = NULL;
    int64_t set[3] = {0, 0, 1};
    double v;
    ck_assert_status(ctx, subsel_uniprot_create(ctx, NULL, 2, 0.1, &obj), SUBSEL_E_INVALID);
    ck_assert_ptr_null(obj);
    ck_assert_status(ctx, subsel_uniprot_create(ctx, s, 0, 0.1, &obj), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_create(ctx, s, 7, 0.1, &obj), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_create(ctx, s, 2, 0.0, &obj), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_create(ctx, s, 2, NAN, &obj), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_create_from_features(ctx, s, t, 0, 2, 0.1, &obj),
                     SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_create_from_features(ctx, s, s, 4, 2, 0.1, &obj),
                     SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_create_from_features(ctx, s, s, -1, 2, 0.1, &obj),
                     SUBSEL_E_INVALID);
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, 2, 0.1, &obj));
    ck_assert_status(ctx, subsel_uniprot_set_gain(ctx, obj, 2), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_set_update(ctx, obj, -1), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_set_tolerance(ctx, obj, 0.5), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_set_tolerance(ctx, obj, NAN), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_set_max_iterations(ctx, obj, 0), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_plan(ctx, obj, set, 3, NULL, &v), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_uniprot_plan(ctx, obj, set, 2, NULL, &v), SUBSEL_E_INVALID);
    ck_assert_ok(ctx, subsel_uniprot_plan(ctx, obj, set, 0, NULL, &v));
    ck_assert(v == 0.0);
    /* k = 2: a third prototype does not fit. */
    set[1] = 1;
    set[2] = 2;
    ck_assert_status(ctx, subsel_objective_evaluate(ctx, obj, set, 3, &v), SUBSEL_E_INVALID);
    /* A solve that cannot converge in one iteration fails cleanly. */
    ck_assert_ok(ctx, subsel_uniprot_set_max_iterations(ctx, obj, 1));
    ck_assert_status(ctx, subsel_objective_evaluate(ctx, obj, set, 2, &v), SUBSEL_E_NUMERIC);
    /* Setters refuse other objectives. */
    {
        subsel_csr *z;
        ck_assert_ok(ctx, subsel_csr_from_dense(ctx, s, &z));
        ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_LOG1P, 0, NULL, &fb));
        ck_assert_status(ctx, subsel_uniprot_set_gain(ctx, fb, 0), SUBSEL_E_INVALID);
        ck_assert_status(ctx, subsel_uniprot_plan(ctx, fb, set, 1, NULL, &v), SUBSEL_E_INVALID);
        subsel_objective_free(fb);
        subsel_csr_free(z);
    }
    subsel_objective_free(obj);
    subsel_dense_free(s);
    subsel_dense_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *uniprot_suite(void)
{
    Suite *s = suite_create("uniprot");
    TCase *tc = tcase_create("fixture");
    tcase_add_test(tc, greedy_reproduces_fixture);
    tcase_add_test(tc, greedy_by_hand_matches_fixture);
    tcase_add_test(tc, plan_of_first_five_matches_fixture);
    suite_add_tcase(s, tc);
    tc = tcase_create("solve");
    tcase_add_test(tc, solves_converge_when_k_divides_the_targets);
    tcase_add_test(tc, solves_converge_far_beyond_reg);
    tcase_add_test(tc, last_prototype_is_chosen_by_its_gain);
    tcase_add_test(tc, iteration_cap_failure_names_the_cap);
    suite_add_tcase(s, tc);
    tc = tcase_create("gain");
    tcase_add_test(tc, waterfill_matches_sorted_and_bisection);
    tcase_add_test(tc, approx_gain_is_exact_at_empty_set_and_a_lower_bound);
    tcase_add_test(tc, gains_read_only_columns_with_room);
    suite_add_tcase(s, tc);
    tc = tcase_create("properties");
    tcase_add_test(tc, f_is_monotone_and_submodular_on_random_instances);
    tcase_add_test(tc, results_do_not_depend_on_threads);
    tcase_add_test(tc, kept_weights_change_nothing);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_test(tc, similarities_from_features);
    tcase_add_test(tc, batch_mode_is_greedy_on_the_batch);
    tcase_add_test(tc, transport_similarity_is_the_plans_similarity);
    tcase_add_test(tc, batch_v2_solves_as_the_paper_does);
    tcase_add_test(tc, batch_v2_per_source_selects_within_each_source);
    tcase_add_test(tc, batch_v2_errors_name_batch_rows);
    tcase_add_test(tc, nn_accuracy_counts_nearest_prototype_labels);
    tcase_add_test(tc, arguments_are_checked);
    suite_add_tcase(s, tc);
    return s;
}
