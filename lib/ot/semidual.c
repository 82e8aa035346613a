/* SPDX-License-Identifier: MIT */
/*
 * Newton's method on the semi-dual of entropic OT with few equality rows
 * and capped columns,
 *   max_G sign <C, G> - reg sum G log G  s.t.  G 1 = a,  G^T 1 <= b,
 * the problem behind every UniPROT value (a row per prototype, a capped
 * column per target). Alternating projections converge slowly here (many
 * columns sit at their cap and every row update pushes others over it:
 * thousands of iterations at reg = 0.01), while the rows are few (at most
 * k), so the row potentials f can be optimised directly: for fixed f the
 * best column potentials are closed-form,
 *   g_j = -reg max(0, L_j - log b_j),  L_j = log sum_i exp((sign C_ij + f_i) / reg),
 * and what remains is the smooth convex function
 *   Phi(f) = -sum_i a_i f_i + sum_j phi_j(L_j),
 *   phi_j(L) = reg e^L (L <= log b_j),  reg b_j (1 + L - log b_j) (else),
 * with gradient G 1 - a and Hessian (diag(G 1) - G_s diag(1/b) G_s^T) / reg
 * (G_s: the columns at their cap), formed by one matrix product and solved
 * by Cholesky. Equality columns (col_ineq 0) are always "at their cap":
 * when the caps add up to the rows' mass every column of the optimum sits
 * exactly on the kink of phi_j, where Newton's method on the inequality
 * form only converges linearly; callers pass equalities then. Newton steps with Armijo backtracking converge in a handful
 * of iterations; the columns of every iterate meet their caps exactly, and
 * the iteration stops on the L1 violation of the rows.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "linalg/blas.h"
#include "linalg/lapack.h"
#include "ot/ot.h"

/* Largest change of a potential per step, in units of reg. */
#define MAX_MOVE 100.0

typedef struct newton {
    int64_t n, m;
    double *h, *lse, *plan, *hess, *grad, *step, *trial, *lse_trial;
} newton;

/* Sum of a row with four interleaved accumulators (a fixed order: the
 * sum of one chain of additions would be latency-bound). */
static double row_sum(const double *v, int64_t m)
{
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    int64_t j = 0;
    for (; j + 4 <= m; j += 4) {
        acc[0] += v[j];
        acc[1] += v[j + 1];
        acc[2] += v[j + 2];
        acc[3] += v[j + 3];
    }
    for (; j < m; j++)
        acc[j & 3] += v[j];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

/* L (the column log-sum-exps at f) and Phi(f). */
static int semidual(subsel_ctx *ctx, const ss_ot_problem *p, double reg,
                    const double *f, double *h, double *lse, double *phi)
{
    int64_t i, j;
    double v = 0.0;
    for (i = 0; i < p->cost->n; i++) {
        h[i] = f[i] / reg;
        v -= exp(p->log_a[i]) * f[i];
    }
    SS_CHECK(ss_ot_col_lse(ctx, p->cost, p->sign / reg, h, lse));
    for (j = 0; j < p->cost->m; j++) {
        double lb = p->log_b[j];
        v += lse[j] <= lb && p->col_ineq ? reg * exp(lse[j])
                                         : reg * exp(lb) * (1.0 + lse[j] - lb);
    }
    *phi = v;
    return SUBSEL_OK;
}

/* The Hessian (diag(G 1) - G_s diag(1/b) G_s^T) / reg into w->hess (its
 * lower triangle; the plan in w->plan is overwritten). At small reg a plan
 * is nearly sparse: each capped column holds mass from a few rows, so the
 * products are summed over the entries above 1e-15 b_j of the capped
 * columns (dropping the others changes each row of H by less than 1e-15
 * of its diagonal), unless a dense product is cheaper. */
static int hessian(subsel_ctx *ctx, const ss_ot_problem *p, double reg,
                   newton *w, const double *rowsum)
{
    int64_t n = p->cost->n, m = p->cost->m, i, j, a, c, nnz = 0;
    double pairs = 0.0, *scale = w->h, *val = NULL;
    int64_t *start = NULL, *row = NULL;
    int rc = SUBSEL_OK;
    int64_t *sat = NULL, ns = 0, q;
    SS_TRY(ss_calloc_array(ctx, m + 1, sizeof *start, &start));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *sat, &sat));
    for (j = 0; j < m; j++) {
        scale[j] = w->lse[j] > p->log_b[j] || !p->col_ineq ? exp(-0.5 * p->log_b[j])
                                                           : 0.0;
        if (scale[j] > 0.0)
            sat[ns++] = j;
    }
    for (i = 0; i < n; i++)
        for (q = 0; q < ns; q++) {
            j = sat[q];
            start[j + 1] += w->plan[i * m + j] * scale[j] * scale[j] >= 1e-15;
        }
    for (j = 0; j < m; j++) {
        pairs += 0.5 * (double)start[j + 1] * (double)(start[j + 1] + 1);
        start[j + 1] += start[j];
    }
    nnz = start[m];
    /* A scattered scalar update costs about 8 times a BLIS multiply-add
     * of the dense product (n^2 m / 2 of them for the lower half). */
    if (pairs * 16.0 >= (double)n * (double)n * (double)m) {
        for (i = 0; i < n; i++)
            for (j = 0; j < m; j++)
                w->plan[i * m + j] *= scale[j];
        subsel_ctx one;
        ss_dgemm(ss_blas_ctx(ctx, (double)n * (double)n * (double)m, &one), 0, 1,
                 n, n, m, -1.0 / reg, w->plan, m, w->plan, m, 0.0, w->hess, n);
    } else {
        SS_TRY(ss_alloc_array(ctx, nnz, sizeof *row, &row));
        SS_TRY(ss_alloc_array(ctx, nnz, sizeof *val, &val));
        for (i = 0; i < n; i++)
            for (q = 0; q < ns; q++) {
                double v;
                j = sat[q];
                v = w->plan[i * m + j] * scale[j];
                if (v * scale[j] >= 1e-15) {
                    row[start[j]] = i;
                    val[start[j]++] = v;
                }
            }
        memset(w->hess, 0, (size_t)(n * n) * sizeof *w->hess);
        /* start[j] now ends column j; column j begins where j - 1 ends. */
        for (j = 0; j < m; j++)
            for (a = j ? start[j - 1] : 0; a < start[j]; a++)
                for (c = j ? start[j - 1] : 0; c <= a; c++)
                    w->hess[row[a] * n + row[c]] -= val[a] * val[c];
        for (i = 0; i < n * n; i++)
            w->hess[i] /= reg;
    }
    for (i = 0; i < n; i++)
        w->hess[i * n + i] += rowsum[i] / reg;
cleanup:
    ss_free(ctx, start);
    ss_free(ctx, sat);
    ss_free(ctx, row);
    ss_free(ctx, val);
    return rc;
}

/* Past this size the Cholesky factorisation goes to LAPACK; below it the
 * fixed cost of a LAPACK call (BLIS dispatch for each block) exceeds the
 * n^3 / 6 flops of a plain loop. */
#define SMALL_CHOLESKY 160

/* In-place lower Cholesky factor of a small matrix; 0 if not positive
 * definite. */
static int cholesky_small(int64_t n, double *a)
{
    int64_t i, j, l;
    for (j = 0; j < n; j++) {
        double djj = a[j * n + j];
        for (l = 0; l < j; l++)
            djj -= a[j * n + l] * a[j * n + l];
        if (!(djj > 0.0))
            return 0;
        djj = sqrt(djj);
        a[j * n + j] = djj;
        for (i = j + 1; i < n; i++) {
            double v = a[i * n + j];
            for (l = 0; l < j; l++)
                v -= a[i * n + l] * a[j * n + l];
            a[i * n + j] = v / djj;
        }
    }
    return 1;
}

/* Solves (H + ridge I) x = rhs in place with a Cholesky factor of H,
 * raising the ridge until H is numerically positive definite (H is
 * singular along 1 when every column is at its cap). */
static int newton_step(subsel_ctx *ctx, int64_t n, double *hess, double *work,
                       const double *rhs, double *x)
{
    double top = 0.0, ridge;
    int64_t i, l;
    int tries;
    for (i = 0; i < n; i++)
        top = fmax(top, hess[i * n + i]);
    ridge = 1e-13 * (top > 0.0 ? top : 1.0);
    for (tries = 0; tries < 12; tries++, ridge *= 100.0) {
        memcpy(work, hess, (size_t)(n * n) * sizeof *work);
        for (i = 0; i < n; i++)
            work[i * n + i] += ridge;
        if (n <= SMALL_CHOLESKY ? cholesky_small(n, work)
                                : ss_cholesky_lower(ctx, "OT semi-dual Hessian", n,
                                                    work, n) == SUBSEL_OK)
            break;
    }
    if (tries == 12)
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "OT semi-dual: the Hessian is not positive definite");
    /* L L^T x = rhs: forward, then backward substitution. */
    for (i = 0; i < n; i++) {
        double s = rhs[i];
        for (l = 0; l < i; l++)
            s -= work[i * n + l] * x[l];
        x[i] = s / work[i * n + i];
    }
    for (i = n - 1; i >= 0; i--) {
        double s = x[i];
        for (l = i + 1; l < n; l++)
            s -= work[l * n + i] * x[l];
        x[i] = s / work[i * n + i];
    }
    return SUBSEL_OK;
}

int ss_ot_solve_rows(subsel_ctx *ctx, const ss_ot_problem *p,
                     const ss_ot_params *par, ss_ot_duals *d)
{
    const ss_ot_cost *c = p->cost;
    int64_t n = c->n, m = c->m, i, j, it;
    double reg = par->reg, phi, viol = INFINITY, dot;
    newton w;
    double *work = NULL;
    int rc = SUBSEL_OK;
    memset(&w, 0, sizeof w);
    d->iterations = 0;
    d->t = 0.0;
    SS_TRY(ss_alloc_array(ctx, n > m ? n : m, sizeof *w.h, &w.h));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *w.lse, &w.lse));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *w.lse_trial, &w.lse_trial));
    SS_TRY(ss_alloc_array(ctx, n * m, sizeof *w.plan, &w.plan));
    SS_TRY(ss_alloc_array(ctx, n * n, sizeof *w.hess, &w.hess));
    SS_TRY(ss_alloc_array(ctx, n * n, sizeof *work, &work));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *w.grad, &w.grad));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *w.step, &w.step));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *w.trial, &w.trial));
    SS_TRY(semidual(ctx, p, reg, d->f, w.h, w.lse, &phi));
    for (it = 0;; it++) {
        double slope = 0.0, t = 1.0, phi_t = phi;
        /* The plan at f with the best g: columns exactly at or below cap. */
        for (j = 0; j < m; j++) {
            double over = w.lse[j] - p->log_b[j];
            d->g[j] = over > 0.0 || !p->col_ineq ? -reg * over : 0.0;
            w.h[j] = d->g[j] / reg;
        }
        for (i = 0; i < n; i++)
            w.trial[i] = d->f[i] / reg;
        SS_TRY(ss_ot_gibbs(ctx, c, p->sign / reg, w.trial, w.h, w.plan, &dot));
        viol = 0.0;
        for (i = 0; i < n; i++) {
            double s = row_sum(w.plan + i * m, m);
            d->rowsum[i] = s;
            w.grad[i] = s - exp(p->log_a[i]);
            viol += fabs(w.grad[i]);
        }
        if (!isfinite(viol))
            SS_TRY(ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "OT semi-dual: the plan is not finite (reg %g)", reg));
        if (viol <= par->tol || it >= par->max_iter)
            break;
        if (par->report)
            SS_TRY(ss_progress(ctx, "ot", it, par->max_iter));
        d->iterations++;

        SS_TRY(hessian(ctx, p, reg, &w, d->rowsum));
        for (i = 0; i < n; i++)
            w.trial[i] = -w.grad[i];
        SS_TRY(newton_step(ctx, n, w.hess, work, w.trial, w.step));
        /* Far from the optimum the curvature can vanish (a row whose mass
         * sits in capped columns: Phi is then almost linear in f), and the
         * Newton step explodes: no potential moves by more than MAX_MOVE
         * reg (a factor e^MAX_MOVE on plan entries) per step. */
        {
            double big = 0.0;
            for (i = 0; i < n; i++)
                big = fmax(big, fabs(w.step[i]));
            if (big > MAX_MOVE * reg)
                for (i = 0; i < n; i++)
                    w.step[i] *= MAX_MOVE * reg / big;
        }
        for (i = 0; i < n; i++)
            slope += w.grad[i] * w.step[i];

        /* Armijo backtracking; Phi is convex, so full steps are the rule.
         * Near the optimum the decrease a step promises (-slope) drowns in
         * the rounding of Phi itself: there a step that leaves Phi within
         * its rounding is taken (Newton's local convergence needs no line
         * search), but not one that visibly increases it. */
        for (; t > 1e-12; t *= 0.5) {
            for (i = 0; i < n; i++)
                w.trial[i] = d->f[i] + t * w.step[i];
            SS_TRY(semidual(ctx, p, reg, w.trial, w.h, w.lse_trial, &phi_t));
            if (phi_t <= phi + 1e-4 * t * slope ||
                (-slope <= 1e-12 * (1.0 + fabs(phi)) &&
                 phi_t <= phi + 1e-13 * (1.0 + fabs(phi))))
                break;
        }
        if (!(t > 1e-12))
            break; /* no progress possible: report the violation */
        memcpy(d->f, w.trial, (size_t)n * sizeof *d->f);
        memcpy(w.lse, w.lse_trial, (size_t)m * sizeof *w.lse);
        phi = phi_t;
    }
    for (j = 0; j < m; j++)
        d->colsum[j] = exp(w.lse[j] < p->log_b[j] && p->col_ineq ? w.lse[j]
                                                                 : p->log_b[j]);
    d->violation = viol;
    if (!(viol <= par->tol))
        rc = ss_fail(ctx, SUBSEL_E_NUMERIC,
                     "OT semi-dual: no convergence in %lld Newton steps (row "
                     "violation %.3g > tolerance %.3g at reg %g)",
                     (long long)d->iterations, viol, par->tol, reg);
cleanup:
    ss_free(ctx, w.h);
    ss_free(ctx, w.lse);
    ss_free(ctx, w.lse_trial);
    ss_free(ctx, w.plan);
    ss_free(ctx, w.hess);
    ss_free(ctx, work);
    ss_free(ctx, w.grad);
    ss_free(ctx, w.step);
    ss_free(ctx, w.trial);
    return rc;
}
