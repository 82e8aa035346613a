/* SPDX-License-Identifier: MIT */
/*
 * The one entropic OT solver: block coordinate ascent on the dual of
 *   max / min  sign <P, C> - reg sum P log P
 * under row marginals (P 1 = a or <= a), column marginals (= b or <= b)
 * and optionally a total mass. Each block update is an exact KL projection
 * in potential form, so the iteration is Sinkhorn for equalities and the
 * vector form of Dykstra's algorithm (Benamou et al. 2015, as in POT's
 * entropic_partial_wasserstein) for inequalities: POT's correction
 * matrices q1, q2, q3 are exp(-f/reg), exp(-g/reg) and exp(-t/reg) spread
 * over rows, columns and the whole matrix, so they are stored as vectors and
 * an iteration costs two log-sum-exp passes instead of dense products.
 *
 * Stopping: before each row update the row marginals of the current plan
 * are measured exactly (the row pass computes them), and its column
 * marginals are known from the last column update and mass rescaling. The
 * iteration stops when the L1 distance of both to what the next projection
 * would make them falls below tol; that plan (not updated further) is
 * returned, so the reported violation is the violation of the returned
 * plan. Annealing solves a decreasing sequence of regularisations, each
 * warm-started from the potentials (in cost units) of the previous one.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "ot/ot.h"

typedef struct work {
    double *h, *lse, *klse, *rowsum, *colsum;
} work;

/* The row update of potential p (f or g) from the log-sum-exp l and the
 * log marginal la; inequality potentials stay <= 0. */
static double updated(double la, double l, double t, double reg, int ineq)
{
    double v = reg * (la - l) - t;
    return ineq && v > 0.0 ? 0.0 : v;
}

/* What the next projection would make a column sum c with potential g. */
static double projected(double c, double lb, double g, double reg, int ineq)
{
    double b = exp(lb);
    if (!ineq)
        return b;
    c *= exp(-g / reg);
    return c < b ? c : b;
}

/* The mass a plan carries, the scale of the intermediate tolerances. */
static double total_mass(const ss_ot_problem *p)
{
    double sa = 0.0;
    int64_t i;
    if (p->mass > 0.0)
        return p->mass;
    for (i = 0; i < p->cost->n; i++)
        sa += exp(p->log_a[i]);
    return sa;
}

double ss_ot_max_abs(const double *x, int64_t n)
{
    double v = 0.0;
    int64_t i;
    for (i = 0; i < n; i++)
        v = fmax(v, fabs(x[i]));
    return v;
}

double ss_ot_violation_floor(double mass, double vmax, const double *f,
                             int64_t n, const double *g, int64_t m, double t,
                             double reg)
{
    double terms = (vmax + ss_ot_max_abs(f, n) + ss_ot_max_abs(g, m) + fabs(t)) / reg;
    return SS_OT_FLOOR_FACTOR * DBL_EPSILON * mass *
           (terms + log2((double)(n > m ? n : m)) + 2.0);
}

/* Solves at one regularisation until the violation is at most tol or the
 * floating-point floor of both marginals (values up to cmax), or `*budget`
 * iterations are spent. Returns SUBSEL_OK with *violation set, and
 * SUBSEL_E_NUMERIC as soon as a potential or the violation is not finite. */
static int stage(subsel_ctx *ctx, const ss_ot_problem *p,
                 const ss_ot_params *par, double reg, double tol, double cmax,
                 int64_t *budget, ss_ot_duals *d, work *w, double *violation)
{
    const ss_ot_cost *c = p->cost;
    int64_t n = c->n, m = c->m, i, j;
    double s = p->sign / reg, colviol = INFINITY;
    for (;;) {
        double rowviol = 0.0;
        /* Row pass: the row sums of the current plan. */
        for (j = 0; j < m; j++)
            w->h[j] = d->g[j] / reg;
        SS_CHECK(ss_ot_row_lse(ctx, c, s, w->h, w->lse));
        for (i = 0; i < n; i++) {
            double cur = exp((d->f[i] + d->t) / reg + w->lse[i]);
            double nf = updated(p->log_a[i], w->lse[i], d->t, reg, p->row_ineq);
            rowviol += fabs(cur - exp((nf + d->t) / reg + w->lse[i]));
            w->rowsum[i] = cur;
            if (!isfinite(nf))
                return ss_fail(ctx, SUBSEL_E_NUMERIC,
                               "OT: row potential %lld is not finite (reg %g)",
                               (long long)i, reg);
        }
        *violation = rowviol + colviol;
        if (!isfinite(rowviol))
            return ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "OT: the marginals of the plan are not finite at "
                           "iteration %lld (reg %g)", (long long)d->iterations, reg);
        if (*violation <= fmax(tol, 2.0 * ss_ot_violation_floor(total_mass(p), cmax, d->f, n,
                                                                d->g, m, d->t, reg)) ||
            *budget <= 0)
            return SUBSEL_OK;
        if (par->report)
            SS_CHECK(ss_progress(ctx, "ot", d->iterations, par->max_iter));
        --*budget;
        d->iterations++;
        for (i = 0; i < n; i++)
            d->f[i] = updated(p->log_a[i], w->lse[i], d->t, reg, p->row_ineq);

        /* Column pass and update; the new column sums follow exactly. */
        for (i = 0; i < n; i++)
            w->h[i] = d->f[i] / reg;
        SS_CHECK(ss_ot_col_lse(ctx, c, s, w->h, w->klse));
        for (j = 0; j < m; j++) {
            double ng = updated(p->log_b[j], w->klse[j], d->t, reg, p->col_ineq);
            if (!isfinite(ng))
                return ss_fail(ctx, SUBSEL_E_NUMERIC,
                               "OT: column potential %lld is not finite (reg %g)",
                               (long long)j, reg);
            d->g[j] = ng;
            w->colsum[j] = exp((ng + d->t) / reg + w->klse[j]);
        }
        if (p->mass > 0.0) {
            /* Mass projection: t moves every entry by the same factor. */
            double mx = -INFINITY, sum = 0.0, nt, factor;
            for (j = 0; j < m; j++) {
                double v = d->g[j] / reg + w->klse[j];
                mx = v > mx ? v : mx;
            }
            for (j = 0; j < m; j++)
                sum += exp(d->g[j] / reg + w->klse[j] - mx);
            nt = reg * (log(p->mass) - mx - log(sum));
            factor = exp((nt - d->t) / reg);
            d->t = nt;
            for (j = 0; j < m; j++)
                w->colsum[j] *= factor;
        }
        colviol = 0.0;
        for (j = 0; j < m; j++)
            colviol += fabs(w->colsum[j] - projected(w->colsum[j], p->log_b[j],
                                                     d->g[j], reg, p->col_ineq));
    }
}

int ss_ot_solve(subsel_ctx *ctx, const ss_ot_problem *p,
                const ss_ot_params *par, ss_ot_duals *d, int warm)
{
    const ss_ot_cost *c = p->cost;
    int64_t n = c->n, m = c->m, budget = par->max_iter, j;
    double reg, violation = INFINITY, lo, hi, cmax, mass = total_mass(p), tol;
    double floor;
    work w;
    int rc = SUBSEL_OK;
    memset(&w, 0, sizeof w);
    d->iterations = 0;
    d->violation = INFINITY;
    if (!warm) {
        memset(d->f, 0, (size_t)n * sizeof *d->f);
        memset(d->g, 0, (size_t)m * sizeof *d->g);
        d->t = 0.0;
    }
    /* Values divided by reg must be representable, or every plan entry
     * is 0 or infinite: the problem is then beyond the log domain too. */
    ss_ot_cost_range(ctx, c, &lo, &hi);
    cmax = fmax(fabs(lo), fabs(hi));
    if (!isfinite(cmax / par->reg) || !isfinite((hi - lo) / par->reg))
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "OT: values up to %g in magnitude (spanning %g) divided "
                       "by reg %g overflow double precision (raise reg or "
                       "rescale the costs)", cmax, hi - lo, par->reg);
    tol = par->tol * mass;
    SS_TRY(ss_alloc_array(ctx, n > m ? n : m, sizeof *w.h, &w.h));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *w.lse, &w.lse));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *w.klse, &w.klse));
    if (d->rowsum != NULL)
        w.rowsum = d->rowsum;
    else
        SS_TRY(ss_alloc_array(ctx, n, sizeof *w.rowsum, &w.rowsum));
    if (d->colsum != NULL)
        w.colsum = d->colsum;
    else
        SS_TRY(ss_alloc_array(ctx, m, sizeof *w.colsum, &w.colsum));

    /* With a mass constraint, start t where the mass is right: POT's
     * K = exp(-M/reg) * m / sum(exp(-M/reg)). */
    reg = par->reg;
    if (par->anneal)
        reg = fmax(reg, par->anneal_start > 0.0 ? par->anneal_start : hi - lo);
    if (p->mass > 0.0 && !warm) {
        double mx = -INFINITY, sum = 0.0;
        int64_t i;
        for (j = 0; j < m; j++)
            w.h[j] = 0.0;
        SS_TRY(ss_ot_row_lse(ctx, c, p->sign / reg, w.h, w.lse));
        for (i = 0; i < n; i++)
            mx = w.lse[i] > mx ? w.lse[i] : mx;
        for (i = 0; i < n; i++)
            sum += exp(w.lse[i] - mx);
        d->t = reg * (log(p->mass) - mx - log(sum));
    }
    for (;;) {
        int last = reg <= par->reg;
        /* Intermediate stages only need to bring the potentials close. */
        double stage_tol = last ? tol : fmax(tol, 1e-3 * mass);
        SS_TRY(stage(ctx, p, par, reg, stage_tol, cmax, &budget, d, &w, &violation));
        if (last)
            break;
        reg = fmax(par->reg, reg * par->anneal_factor);
    }
    d->violation = violation;
    floor = 2.0 * ss_ot_violation_floor(mass, cmax, d->f, n, d->g, m, d->t, par->reg);
    /* The iteration count is only bounded by max_iter: a converged solve
     * reports that bound as reached, so that the stage ends at its total. */
    if (violation <= fmax(tol, floor) && par->report)
        SS_TRY(ss_progress(ctx, "ot", par->max_iter, par->max_iter));
    if (!(violation <= fmax(tol, floor)))
        rc = ss_fail(ctx, SUBSEL_E_NUMERIC,
                     "OT: marginal violation %.3g is above the tolerance %.3g "
                     "after the cap of %lld iterations (reg %g): raise the "
                     "iteration cap",
                     violation, fmax(tol, floor), (long long)par->max_iter,
                     par->reg);
cleanup:
    ss_free(ctx, w.h);
    ss_free(ctx, w.lse);
    ss_free(ctx, w.klse);
    if (w.rowsum != d->rowsum)
        ss_free(ctx, w.rowsum);
    if (w.colsum != d->colsum)
        ss_free(ctx, w.colsum);
    return rc;
}

int ss_ot_plan(subsel_ctx *ctx, const ss_ot_problem *p, double reg,
               const ss_ot_duals *d, double *plan, double *dot)
{
    const ss_ot_cost *c = p->cost;
    double *hrow = NULL, *h = NULL;
    int64_t i;
    int rc = SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, c->n, sizeof *hrow, &hrow));
    SS_TRY(ss_alloc_array(ctx, c->m, sizeof *h, &h));
    for (i = 0; i < c->n; i++)
        hrow[i] = (d->f[i] + d->t) / reg;
    for (i = 0; i < c->m; i++)
        h[i] = d->g[i] / reg;
    SS_TRY(ss_ot_gibbs(ctx, c, p->sign / reg, hrow, h, plan, dot));
cleanup:
    ss_free(ctx, hrow);
    ss_free(ctx, h);
    return rc;
}
