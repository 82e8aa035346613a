/* SPDX-License-Identifier: MIT */
/*
 * The public face of the OT engine: the solver handle (its parameter
 * table, and the report of the last solve), argument checking, and the
 * four entry points (balanced / partial, on a cost matrix / between point
 * clouds), which all set up an ss_ot_problem for ss_ot_solve.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/options.h"
#include "matrix/matrix.h"
#include "ot/ot.h"

struct subsel_ot_solver {
    SS_HANDLE_HEAD;
    int64_t max_iter;
    int64_t anneal;
    int64_t memory;
    double tol;
    double anneal_factor;
    double anneal_start;
    int64_t last_iterations;
    double last_violation;
};

static const ss_param solver_params[] = {
    SS_PARAM_INT(SUBSEL_P_OT_MAX_ITER, 1, "max_iter", subsel_ot_solver, max_iter, 1,
                 1000000000, 100000, 0, "iterations over all annealing stages"),
    SS_PARAM_INT(SUBSEL_P_OT_ANNEAL, 2, "anneal", subsel_ot_solver, anneal, 0, 1, 1, 0,
                 "epsilon-scaling from anneal_start down to reg (0 or 1)"),
    SS_PARAM_INT(SUBSEL_P_OT_MEMORY, 3, "memory", subsel_ot_solver, memory, 0, INT64_MAX,
                 SS_OT_DEFAULT_BUDGET, 0,
                 "bytes a point-cloud cost matrix may take to be stored"),
    SS_PARAM_REAL(SUBSEL_P_OT_TOL, 4, "tol", subsel_ot_solver, tol, 1e-15, 1.0, 1e-9, 0, 0,
                  "L1 marginal violation to stop at, relative to the mass"),
    SS_PARAM_REAL(SUBSEL_P_OT_ANNEAL_FACTOR, 5, "anneal_factor", subsel_ot_solver,
                  anneal_factor, 0.01, 0.99, 0.1, 0, 0,
                  "ratio of successive regularisations when annealing"),
    SS_PARAM_REAL(SUBSEL_P_OT_ANNEAL_START, 6, "anneal_start", subsel_ot_solver,
                  anneal_start, 0.0, 1e300, 0.0, 0, 0,
                  "first regularisation when annealing (0: the cost range)"),
};

const ss_param_kind ss_ot_solver_params = {
    SUBSEL_KIND_OT_SOLVER, "OT solver", SS_KIND_OT_SOLVER, NULL,
    SS_PARAMS(solver_params), NULL, NULL, NULL,
};

static void set_defaults(subsel_ot_solver *s)
{
    ss_param_defaults(&ss_ot_solver_params, s);
    s->last_iterations = 0;
    s->last_violation = NAN;
}

int subsel_ot_solver_create(subsel_ctx *ctx, subsel_ot_solver **out)
{
    subsel_ot_solver *s;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_alloc_array(ctx, 1, sizeof *s, &s));
    ss_handle_init(s, SS_KIND_OT_SOLVER, &ctx->alloc);
    set_defaults(s);
    *out = s;
    return SUBSEL_OK;
}

void subsel_ot_solver_free(subsel_ot_solver *solver)
{
    ss_allocator a;
    if (!ss_handle_release(solver, SS_KIND_OT_SOLVER, __func__))
        return;
    a = solver->alloc;
    ss_free_raw(&a, solver);
}

int64_t subsel_ot_solver_iterations(const subsel_ot_solver *solver)
{
    return ss_handle_is(solver, SS_KIND_OT_SOLVER) ? solver->last_iterations
                                                   : 0;
}

double subsel_ot_solver_violation(const subsel_ot_solver *solver)
{
    return ss_handle_is(solver, SS_KIND_OT_SOLVER) ? solver->last_violation
                                                   : NAN;
}

/* Checks marginals (NULL: uniform with total 1) and writes their logs and
 * total. */
static int marginal(subsel_ctx *ctx, const char *fn, const char *name,
                    const double *w, int64_t n, double *logw, double *total)
{
    int64_t i;
    double sum = 0.0;
    for (i = 0; i < n; i++) {
        double v = w ? w[i] : 1.0 / (double)n;
        if (!(v > 0.0) || !isfinite(v))
            return ss_fail(ctx, v != v || isinf(v) ? SUBSEL_E_NUMERIC : SUBSEL_E_INVALID,
                           "%s: %s[%lld] = %g must be positive and finite",
                           fn, name, (long long)i, v);
        logw[i] = log(v);
        sum += v;
    }
    *total = sum;
    return SUBSEL_OK;
}

typedef struct call {
    const char *fn;
    const double *a, *b;
    int64_t n, m;
    double reg, mass; /* mass < 0: balanced */
    double *value, *f, *g, *plan;
    int64_t f_cap, g_cap, plan_cap; /* elements the caller's buffers hold */
} call;

/* Everything after the value matrix is set up. */
static int run(subsel_ctx *ctx, subsel_ot_solver *solver, const call *cl,
               ss_ot_cost *cost)
{
    subsel_ot_solver defaults;
    const subsel_ot_solver *opt = solver;
    ss_ot_problem p;
    ss_ot_params par;
    ss_ot_duals d;
    double *la = NULL, *lb = NULL, *f = NULL, *g = NULL;
    double sa = 0.0, sb = 0.0, dot = 0.0;
    int64_t i;
    int rc = SUBSEL_OK;
    if (opt == NULL) {
        set_defaults(&defaults);
        opt = &defaults;
    }
    memset(&d, 0, sizeof d);
    SS_TRY(ss_alloc_array(ctx, cl->n, sizeof *la, &la));
    SS_TRY(ss_alloc_array(ctx, cl->m, sizeof *lb, &lb));
    SS_TRY(ss_alloc_array(ctx, cl->n, sizeof *f, &f));
    SS_TRY(ss_alloc_array(ctx, cl->m, sizeof *g, &g));
    SS_TRY(marginal(ctx, cl->fn, "a", cl->a, cl->n, la, &sa));
    SS_TRY(marginal(ctx, cl->fn, "b", cl->b, cl->m, lb, &sb));
    memset(&p, 0, sizeof p);
    p.cost = cost;
    p.sign = -1.0;
    p.log_a = la;
    p.log_b = lb;
    if (cl->mass < 0.0) {
        /* Balanced: the totals must agree; b is rescaled to a's total so
         * that rounding in the caller's sums does not stall convergence. */
        double shift;
        if (fabs(sa - sb) > 1e-6 * fmax(sa, sb)) {
            rc = ss_fail(ctx, SUBSEL_E_INVALID,
                         "%s: sum(a) = %.17g and sum(b) = %.17g differ",
                         cl->fn, sa, sb);
            goto cleanup;
        }
        shift = log(sa) - log(sb);
        for (i = 0; i < cl->m; i++)
            lb[i] += shift;
    } else {
        p.row_ineq = p.col_ineq = 1;
        p.mass = cl->mass;
        if (!(cl->mass > 0.0) || cl->mass > fmin(sa, sb) * (1.0 + 1e-12)) {
            rc = ss_fail(ctx, SUBSEL_E_INVALID,
                         "%s: mass %g must be in (0, min(sum a, sum b) = %g]",
                         cl->fn, cl->mass, fmin(sa, sb));
            goto cleanup;
        }
    }
    memset(&par, 0, sizeof par);
    par.reg = cl->reg;
    par.tol = opt->tol;
    par.max_iter = opt->max_iter;
    par.anneal_factor = opt->anneal_factor;
    par.report = 1;
    par.anneal = (int)opt->anneal;
    par.anneal_start = opt->anneal_start;
    d.f = f;
    d.g = g;
    rc = ss_ot_solve(ctx, &p, &par, &d, 0);
    if (solver != NULL) {
        solver->last_iterations = d.iterations;
        solver->last_violation = d.violation;
    }
    if (rc < 0)
        goto cleanup;
    SS_TRY(ss_ot_plan(ctx, &p, cl->reg, &d, cl->plan, &dot));
    if (cl->value)
        *cl->value = dot;
    /* Report f with the mass potential folded in. */
    if (cl->f)
        for (i = 0; i < cl->n; i++)
            cl->f[i] = f[i] + d.t;
    if (cl->g)
        memcpy(cl->g, g, (size_t)cl->m * sizeof *g);
cleanup:
    ss_free(ctx, la);
    ss_free(ctx, lb);
    ss_free(ctx, f);
    ss_free(ctx, g);
    return rc;
}

static int check_common(subsel_ctx *ctx, const call *cl)
{
    if (cl->n < 1 || cl->m < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: sizes %lld x %lld must be >= 1",
                       cl->fn, (long long)cl->n, (long long)cl->m);
    if (!(cl->reg > 0.0) || !isfinite(cl->reg))
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: reg %g must be positive and finite",
                       cl->fn, cl->reg);
    if (cl->n > INT64_MAX / 8 / cl->m)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: %lld x %lld is too large",
                       cl->fn, (long long)cl->n, (long long)cl->m);
    /* Before any work, so that a refused call writes nothing. */
    if (cl->f != NULL)
        SS_CHECK(ss_check_capacity(ctx, cl->fn, "f", cl->f_cap, cl->n));
    if (cl->g != NULL)
        SS_CHECK(ss_check_capacity(ctx, cl->fn, "g", cl->g_cap, cl->m));
    if (cl->plan != NULL)
        SS_CHECK(ss_check_capacity(ctx, cl->fn, "plan", cl->plan_cap,
                                   cl->n * cl->m));
    return SUBSEL_OK;
}

static int on_matrix(subsel_ctx *ctx, subsel_ot_solver *solver, call *cl,
                     const double *cost)
{
    ss_ot_cost c;
    int64_t i;
    SS_REQUIRE_CTX(ctx);
    if (solver != NULL) /* NULL: the default settings */
        SS_CHECK(ss_handle_check(ctx, solver, SS_KIND_OT_SOLVER, cl->fn,
                                 "solver"));
    if (cost == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: cost is NULL", cl->fn);
    SS_CHECK(check_common(ctx, cl));
    for (i = 0; i < cl->n * cl->m; i++)
        if (!isfinite(cost[i]))
            return ss_fail(ctx, SUBSEL_E_NUMERIC, "%s: cost[%lld][%lld] is %g",
                           cl->fn, (long long)(i / cl->m),
                           (long long)(i % cl->m), cost[i]);
    ss_ot_cost_dense(&c, cost, cl->n, cl->m, cl->m);
    return run(ctx, solver, cl, &c);
}

static int on_points(subsel_ctx *ctx, subsel_ot_solver *solver, call *cl,
                     const subsel_dense *x, const subsel_dense *y, int kind)
{
    static const int metrics[] = {SS_METRIC_SQEUCLID, SS_METRIC_EUCLID,
                                  SS_METRIC_COSINE_DIST};
    ss_ot_cost c;
    int rc;
    SS_REQUIRE_CTX(ctx);
    if (solver != NULL) /* NULL: the default settings */
        SS_CHECK(ss_handle_check(ctx, solver, SS_KIND_OT_SOLVER, cl->fn,
                                 "solver"));
    SS_CHECK(ss_handle_check(ctx, x, SS_KIND_DENSE, cl->fn, "x"));
    SS_CHECK(ss_handle_check(ctx, y, SS_KIND_DENSE, cl->fn, "y"));
    if (x->cols != y->cols)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: x has %lld columns and y %lld", cl->fn,
                       (long long)x->cols, (long long)y->cols);
    if (kind < 0 || kind > SUBSEL_COST_COSINE)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: unknown cost %d", cl->fn, kind);
    cl->n = x->rows;
    cl->m = y->rows;
    SS_CHECK(check_common(ctx, cl));
    SS_CHECK(ss_ot_cost_points(ctx, &c, metrics[kind], 0, x->row0, x->stride,
                               x->rows, y->row0, y->stride, y->rows, x->cols,
                               solver ? solver->memory : SS_OT_DEFAULT_BUDGET));
    rc = run(ctx, solver, cl, &c);
    ss_ot_cost_release(ctx, &c);
    return rc;
}

int subsel_ot_sinkhorn_v2(subsel_ctx *ctx, subsel_ot_solver *solver,
                          const double *a, int64_t n, const double *b,
                          int64_t m, const double *cost, double reg,
                          double *value, double *f, int64_t f_capacity,
                          double *g, int64_t g_capacity, double *plan,
                          int64_t plan_capacity)
{
    call cl = {"subsel_ot_sinkhorn", a, b, n, m, reg, -1.0, value, f, g, plan,
               f_capacity, g_capacity, plan_capacity};
    return on_matrix(ctx, solver, &cl, cost);
}

int subsel_ot_partial_v2(subsel_ctx *ctx, subsel_ot_solver *solver,
                         const double *a, int64_t n, const double *b,
                         int64_t m, const double *cost, double reg,
                         double mass, double *value, double *f,
                         int64_t f_capacity, double *g, int64_t g_capacity,
                         double *plan, int64_t plan_capacity)
{
    call cl = {"subsel_ot_partial", a, b, n, m, reg, mass, value, f, g, plan,
               f_capacity, g_capacity, plan_capacity};
    if (!(mass > 0.0))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_ot_partial: mass %g must be positive", mass);
    return on_matrix(ctx, solver, &cl, cost);
}

int subsel_ot_sinkhorn_points_v2(subsel_ctx *ctx, subsel_ot_solver *solver,
                                 const double *a, const subsel_dense *x,
                                 const double *b, const subsel_dense *y,
                                 int cost, double reg, double *value,
                                 double *f, int64_t f_capacity, double *g,
                                 int64_t g_capacity, double *plan,
                                 int64_t plan_capacity)
{
    call cl = {"subsel_ot_sinkhorn_points", a, b, 0, 0, reg, -1.0, value, f,
               g, plan, f_capacity, g_capacity, plan_capacity};
    return on_points(ctx, solver, &cl, x, y, cost);
}

int subsel_ot_partial_points_v2(subsel_ctx *ctx, subsel_ot_solver *solver,
                                const double *a, const subsel_dense *x,
                                const double *b, const subsel_dense *y,
                                int cost, double reg, double mass,
                                double *value, double *f, int64_t f_capacity,
                                double *g, int64_t g_capacity, double *plan,
                                int64_t plan_capacity)
{
    call cl = {"subsel_ot_partial_points", a, b, 0, 0, reg, mass, value, f, g,
               plan, f_capacity, g_capacity, plan_capacity};
    if (!(mass > 0.0))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_ot_partial_points: mass %g must be positive", mass);
    return on_points(ctx, solver, &cl, x, y, cost);
}

/* The deprecated forms: the caller's buffers were assumed to hold n, m and
 * n x m values, as their contract said; no capacity bounds them. */
#define UNBOUNDED INT64_MAX

int subsel_ot_sinkhorn(subsel_ctx *ctx, subsel_ot_solver *solver,
                       const double *a, int64_t n, const double *b,
                       int64_t m, const double *cost, double reg,
                       double *value, double *f, double *g, double *plan)
{
    return subsel_ot_sinkhorn_v2(ctx, solver, a, n, b, m, cost, reg, value, f,
                                 UNBOUNDED, g, UNBOUNDED, plan, UNBOUNDED);
}

int subsel_ot_partial(subsel_ctx *ctx, subsel_ot_solver *solver,
                      const double *a, int64_t n, const double *b, int64_t m,
                      const double *cost, double reg, double mass,
                      double *value, double *f, double *g, double *plan)
{
    return subsel_ot_partial_v2(ctx, solver, a, n, b, m, cost, reg, mass,
                                value, f, UNBOUNDED, g, UNBOUNDED, plan,
                                UNBOUNDED);
}

int subsel_ot_sinkhorn_points(subsel_ctx *ctx, subsel_ot_solver *solver,
                              const double *a, const subsel_dense *x,
                              const double *b, const subsel_dense *y,
                              int cost, double reg, double *value, double *f,
                              double *g, double *plan)
{
    return subsel_ot_sinkhorn_points_v2(ctx, solver, a, x, b, y, cost, reg,
                                        value, f, UNBOUNDED, g, UNBOUNDED,
                                        plan, UNBOUNDED);
}

int subsel_ot_partial_points(subsel_ctx *ctx, subsel_ot_solver *solver,
                             const double *a, const subsel_dense *x,
                             const double *b, const subsel_dense *y, int cost,
                             double reg, double mass, double *value,
                             double *f, double *g, double *plan)
{
    return subsel_ot_partial_points_v2(ctx, solver, a, x, b, y, cost, reg,
                                       mass, value, f, UNBOUNDED, g,
                                       UNBOUNDED, plan, UNBOUNDED);
}
