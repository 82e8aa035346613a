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
 * form only converges linearly; callers pass equalities then.
 *
 * Globalisation: Phi is convex, so along a Newton direction its slope
 * psi(t) = grad Phi(f + t step) . step only grows. The line search works
 * on psi, computed from row sums, not on Phi: near the optimum the decrease
 * of Phi drowns in the rounding of Phi itself (Armijo's test then stalls
 * and leaves the violation wherever the last BLIS rounding put it), while
 * psi stays accurate down to the rounding of the row sums. The step ends
 * where |psi| is a small fraction of |psi(0)|, short of the line's minimum
 * or just past it: the full Newton step when it qualifies (near the
 * optimum it lands a hair past the minimum as often as short of it, and
 * bracketing it would trade Newton's quadratic convergence for a
 * bisection's creep), else a longer one while psi stays steep
 * (next to a column about to leave its cap the model sees only an
 * exponential tail and underestimates the distance), or the bracketed
 * approach to psi's sign change (which lands on the kinks of the capped
 * columns, where a fixed-fraction backtracking only creeps towards them).
 * Phi decreases, except that a point past the minimum may raise it, by at
 * most t psi(t) <= t |psi(0)| / 100 (convexity). When Newton has not
 * converged after DIRECT_STEPS steps, the values span many times reg and
 * the potentials must cross many kinks: the solve then follows the optima
 * from reg = the value range down (annealing), each stage warm-started.
 *
 * Stopping is scale-aware: the L1 row violation must fall to tol times the
 * rows' mass, or to the floating-point floor of the problem (the rounding
 * of the row sums given the sizes of S / reg and of the potentials),
 * whichever is larger; the violation reached is reported. The solve fails
 * (SUBSEL_E_NUMERIC, the message naming the cause) only when the values
 * divided by reg overflow, when the iteration cap is reached above that
 * level, or when no descent is possible above the floor.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "linalg/blas.h"
#include "linalg/lapack.h"
#include "linalg/pairwise.h"
#include "linalg/tiles.h"
#include "ot/ot.h"

/* psi(t) must fall to this fraction of |psi(0)| for the line search to stop
 * short of the line's minimum (psi <= 0), or to OVERSHOOT_FRACTION of it
 * past the minimum (psi > 0), where Phi may have risen by up to t psi(t). */
#define SEARCH_FRACTION 0.1
#define OVERSHOOT_FRACTION 0.01
/* Most evaluations of psi one line search may spend inside a bracket. */
#define SEARCH_EVALUATIONS 60
/* Newton steps at the target regularisation before falling back to
 * annealing, and the schedule of that fallback: each stage's reg is the
 * last one's times ANNEAL_FACTOR, solved to ANNEAL_TOL times the mass. */
#define DIRECT_STEPS 100
#define ANNEAL_FACTOR 0.1
#define ANNEAL_TOL 1e-3

typedef struct newton {
    int64_t n, m;
    double mass, smax, range, logmax; /* scales of the problem */
    double *work;
    double *h, *lse, *hess, *grad, *step, *trial, *lse_trial;
    double *grad_trial, *rowsum_trial;
    double *plan_rows; /* row sums of plan, the Hessian's diagonal term */
    double *col_scale; /* b_j^(-1/2), the Hessian's column scales */
    /* The current point's and the trial point's exponentials e (n x m) and
     * column factors v (m): the plan is e_ij v_j (evaluate()). The current
     * e becomes the plan, in place; the Hessian packs its capped columns
     * into e_trial, which the line search then overwrites. */
    double *e, *e_trial, *v, *v_trial, *colmax;
} newton;

/* Whether column j, with log-sum-exp L_j, sits at its cap: above it (its
 * potential pulls it down to it), or an equality column. */
static int capped(const ss_ot_problem *p, const double *lse, int64_t j)
{
    return lse[j] > p->log_b[j] || !p->col_ineq;
}

/* The column potentials of the plan at f: g_j = -reg max(0, L_j - log b_j)
 * (every column at its cap exactly, or below it; equality columns always at
 * it). */
static void column_potentials(const ss_ot_problem *p, double reg,
                              const double *lse, double *g)
{
    int64_t j;
    for (j = 0; j < p->cost->m; j++)
        g[j] = capped(p, lse, j) ? -reg * (lse[j] - p->log_b[j]) : 0.0;
}

/* At row potentials f: the column log-sum-exps L (lse), the plan with the
 * best column potentials as e_ij v_j (ss_ot_col_exp's exponentials e and
 * column factors v_j = exp(M_j + g_j / reg), M_j the column maximum), its
 * row sums, the gradient G 1 - a of Phi and its L1 norm (the row
 * violation). One exp per entry: the row sums and the plan reuse the
 * column pass's. A capped column's factor is b_j / sum_i e_ij, formed
 * without M_j, whose size (up to the values over reg) would cost its
 * rounding; a free column's is exp(M_j) <= b_j. `h` is scratch of n. */
static int evaluate(subsel_ctx *ctx, const ss_ot_problem *p, double reg,
                    const double *f, newton *w, double *e, double *v,
                    double *lse, double *rowsum, double *grad, double *viol)
{
    int64_t n = p->cost->n, m = p->cost->m, i, j;
    double val = 0.0;
    for (i = 0; i < n; i++)
        w->h[i] = f[i] / reg;
    ss_ot_col_exp(ctx, p->cost, p->sign / reg, w->h, e, w->colmax, v);
    /* a log and an exp per column: in parallel too once the plan is big */
#pragma omp parallel for num_threads(ss_ot_threads_for(ctx, m, n * m)) schedule(static)
    for (j = 0; j < m; j++) {
        double log_sum = log(v[j]);
        lse[j] = w->colmax[j] + log_sum;
        /* capped: g_j = -reg (L_j - log b_j) (column_potentials) */
        v[j] = capped(p, lse, j) ? exp(p->log_b[j] - log_sum) : exp(w->colmax[j]);
    }
    ss_ot_row_dot(ctx, e, n, m, v, rowsum);
    for (i = 0; i < n; i++) {
        grad[i] = rowsum[i] - exp(p->log_a[i]);
        val += fabs(grad[i]);
    }
    *viol = val;
    return SUBSEL_OK;
}

static double dot(const double *x, const double *y, int64_t n)
{
    double s = 0.0;
    int64_t i;
    for (i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

/* The Hessian's dense product is cut into pieces of capped columns, each
 * about SS_BLAS_SERIAL_WORK multiply-adds (but from PIECE_MIN to PIECE_MAX
 * columns), one serial BLIS call per piece on the threads a BLIS call
 * would get (ss_blas_ctx), added up in the pieces' order. The pieces
 * depend on the sizes alone, so the bits do not depend on the thread
 * count; one BLIS call threaded on the rows of a product of a few dozen
 * rows barely scales, and may round differently when it does. */
#define PIECE_MIN 64
#define PIECE_MAX 512

/* -G_s diag(1/b) G_s^T / reg, dense, into the lower triangle of w->hess:
 * `packed` (n x ns) holds the capped columns already scaled by b^(-1/2). */
static int dense_product(subsel_ctx *ctx, double reg, newton *w,
                         const double *packed, int64_t ns)
{
    int64_t n = w->n, width, pieces, first, e;
    double columns = SS_BLAS_SERIAL_WORK / ((double)n * (double)n);
    int threads;
    double *part = NULL;
    subsel_ctx one;
    width = columns < PIECE_MIN ? PIECE_MIN : columns > PIECE_MAX ? PIECE_MAX : (int64_t)columns;
    pieces = (ns + width - 1) / width;
    threads = ss_blas_threads(ss_blas_ctx(ctx, (double)n * (double)n * (double)ns, &one));
    if (threads > pieces)
        threads = (int)pieces;
    /* each thread's piece goes to its own n x n block */
    SS_CHECK(ss_alloc_array(ctx, (int64_t)threads * n * n, sizeof *part, &part));
    for (first = 0; first < pieces; first += threads) {
        int64_t group = pieces - first < threads ? pieces - first : threads, g;
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (g = 0; g < group; g++) {
            int64_t c0 = (first + g) * width, kc = ns - c0 < width ? ns - c0 : width;
            ss_dsyrk_lower_serial(n, kc, -1.0 / reg, packed + c0, ns, 0.0, part + g * n * n,
                                  n);
        }
#pragma omp parallel for num_threads(ss_ot_threads_for(ctx, n, n * n * group)) schedule(static)
        for (e = 0; e < n; e++) {
            double *h = w->hess + e * n;
            int64_t piece, c;
            for (piece = 0; piece < group; piece++) {
                const double *src = part + piece * n * n + e * n;
                if (first + piece == 0)
                    memcpy(h, src, (size_t)(e + 1) * sizeof *h);
                else
                    for (c = 0; c <= e; c++)
                        h[c] += src[c];
            }
        }
    }
    ss_free(ctx, part);
    return SUBSEL_OK;
}

/* The Hessian (diag(G 1) - G_s diag(1/b) G_s^T) / reg into the lower
 * triangle of w->hess (w->e_trial is scratch). At small reg a plan is
 * nearly sparse: each capped column holds mass from a few rows, so the
 * products are summed over the entries above 1e-15 b_j of the capped
 * columns (dropping the others changes each row of H by less than 1e-15 of
 * its diagonal), unless a dense product is cheaper. */
static int hessian(subsel_ctx *ctx, const ss_ot_problem *p, double reg,
                   newton *w, const double *plan, const double *rowsum)
{
    int64_t n = p->cost->n, m = p->cost->m, i, j, a, c, nnz = 0;
    double pairs = 0.0, *val = NULL, *packed = w->e_trial, *sc = NULL;
    int64_t *start = NULL, *row = NULL, *counts = NULL;
    int rc = SUBSEL_OK;
    int64_t *sat = NULL, ns = 0, q;
    int threads, t;
    SS_TRY(ss_calloc_array(ctx, m + 1, sizeof *start, &start));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *sat, &sat));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *sc, &sc));
    for (j = 0; j < m; j++)
        if (capped(p, w->lse, j)) {
            sc[ns] = w->col_scale[j];
            sat[ns++] = j;
        }
    /* G_s diag(1/b)^(1/2): the capped columns of each row, scaled, packed
     * to the left (the product then skips the free columns, most of them
     * while few targets are full), and per thread the entries of each
     * capped column that count (integers: any split adds up the same) */
    threads = ss_ot_threads_for(ctx, n, n * ns);
    SS_TRY(ss_calloc_array(ctx, (int64_t)threads * ns, sizeof *counts, &counts));
#pragma omp parallel for num_threads(threads) schedule(static)
    for (i = 0; i < n; i++) {
        int64_t *mine = counts + (int64_t)ss_thread_num() * ns;
        for (q = 0; q < ns; q++) {
            double v = plan[i * m + sat[q]] * sc[q];
            packed[i * ns + q] = v;
            mine[q] += v * sc[q] >= 1e-15;
        }
    }
    for (t = 0; t < threads; t++)
        for (q = 0; q < ns; q++)
            start[sat[q] + 1] += counts[(int64_t)t * ns + q];
    for (j = 0; j < m; j++) {
        pairs += 0.5 * (double)start[j + 1] * (double)(start[j + 1] + 1);
        start[j + 1] += start[j];
    }
    nnz = start[m];
    /* A scattered scalar update costs about 8 times a BLIS multiply-add
     * of the dense product (n^2 ns / 2 of them for the lower half). */
    if (ns > 0 && pairs * 16.0 >= (double)n * (double)n * (double)ns) {
        SS_TRY(dense_product(ctx, reg, w, packed, ns));
    } else {
        SS_TRY(ss_alloc_array(ctx, nnz, sizeof *row, &row));
        SS_TRY(ss_alloc_array(ctx, nnz, sizeof *val, &val));
        for (i = 0; i < n; i++)
            for (q = 0; q < ns; q++) {
                double v = packed[i * ns + q];
                j = sat[q];
                if (v * sc[q] >= 1e-15) {
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
    ss_free(ctx, sc);
    ss_free(ctx, counts);
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
 * singular along 1 when every column is at its cap). `scale` is the size
 * of H's terms before they cancel (the largest row mass over reg): a row
 * whose mass sits in capped columns it alone fills has a diagonal entry
 * that is a difference of such terms, zero up to their rounding, which can
 * make it slightly negative. */
static int newton_step(subsel_ctx *ctx, int64_t n, double *hess, double *work,
                       double scale, const double *rhs, double *x)
{
    double ridge = 1e-13 * (scale > DBL_MIN * 1e13 ? scale : 1.0);
    int64_t i, l;
    int tries;
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

/* psi(t) = grad Phi(f + t step) . step, with everything evaluate() gives at
 * that point left in w's trial buffers and t's violation in *viol. */
static int slope_at(subsel_ctx *ctx, const ss_ot_problem *p, double reg,
                    newton *w, const double *f, double t, double *psi,
                    double *viol)
{
    int64_t i;
    for (i = 0; i < w->n; i++)
        w->trial[i] = f[i] + t * w->step[i];
    SS_CHECK(evaluate(ctx, p, reg, w->trial, w, w->e_trial, w->v_trial,
                      w->lse_trial, w->rowsum_trial, w->grad_trial, viol));
    if (!isfinite(*viol))
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "OT semi-dual: the plan is not finite at reg %g (the "
                       "values divided by reg overflow)", reg);
    *psi = dot(w->grad_trial, w->step, w->n);
    return SUBSEL_OK;
}

/* Whether psi(t) ends the line search (see SEARCH_FRACTION). */
static int slope_small(double psi, double psi0)
{
    return psi <= 0.0 ? psi >= SEARCH_FRACTION * psi0 : psi <= -OVERSHOOT_FRACTION * psi0;
}

/* The step length along w->step from f, where psi0 = psi(0) < 0: a point
 * t > 0 where psi(t) is small (slope_small: the step went most of the
 * way to the minimum along the line, or a little past it), which the full
 * Newton step usually is. When
 * psi(1) is still steeply negative (the model underestimated the distance,
 * as next to a column about to leave its cap), the step is stretched by 4
 * at a time up to t_max; when psi changes sign, the change is bracketed and
 * approached from below by Illinois' regula falsi, superlinear on the
 * smooth pieces of psi. *t is 0 when no point with psi < 0 is found
 * (rounding decides psi's sign there), and *evaluated is 1 when the trial
 * buffers hold the point *t. */
static int line_search(subsel_ctx *ctx, const ss_ot_problem *p, double reg,
                       newton *w, const double *f, double psi0, double t_max,
                       double *t, int *evaluated)
{
    double lo = 0.0, hi, psi_lo = psi0, psi_hi, viol, psi, x = 1.0;
    int side = 0, k;
    *evaluated = 1;
    /* Stretch while the slope stays steep. */
    for (;;) {
        SS_CHECK(slope_at(ctx, p, reg, w, f, x, &psi, &viol));
        if (slope_small(psi, psi0)) {
            *t = x;
            return SUBSEL_OK;
        }
        if (psi > 0.0)
            break;
        lo = x;
        psi_lo = psi;
        if (x >= t_max) {
            *t = x;
            return SUBSEL_OK;
        }
        x = fmin(4.0 * x, t_max);
    }
    hi = x;
    psi_hi = psi;
    for (k = 0; k < SEARCH_EVALUATIONS && hi - lo > 1e-15 * hi; k++) {
        x = lo + (hi - lo) * (psi_lo / (psi_lo - psi_hi));
        /* Keep the point inside the bracket: regula falsi can stick to an
         * end when psi is very flat on one side of a kink. */
        if (!(x > lo + 1e-3 * (hi - lo) && x < hi - 1e-3 * (hi - lo)))
            x = 0.5 * (lo + hi);
        SS_CHECK(slope_at(ctx, p, reg, w, f, x, &psi, &viol));
        if (slope_small(psi, psi0)) {
            *t = x;
            return SUBSEL_OK;
        }
        if (psi <= 0.0) {
            lo = x;
            psi_lo = psi;
            if (side == -1)
                psi_hi *= 0.5; /* Illinois: the stale end loses weight */
            side = -1;
        } else {
            hi = x;
            psi_hi = psi;
            if (side == 1)
                psi_lo *= 0.5;
            side = 1;
        }
    }
    /* The bracket closed (or the budget ran out) before |psi| fell far
     * enough: the best point before the sign change still decreases Phi. */
    *evaluated = 0;
    *t = lo;
    return SUBSEL_OK;
}

/* The outcome of one Newton run. */
typedef struct run_result {
    double viol, floor;
    int converged, stalled;
} run_result;

/* Newton's method at `reg` from the row potentials d->f until the row
 * violation is at most max(tol, floor), *budget steps are spent or no
 * descent is possible; d->g, d->rowsum and w->lse hold the final point. */
static int newton_run(subsel_ctx *ctx, const ss_ot_problem *p,
                      const ss_ot_params *par, newton *w, ss_ot_duals *d,
                      double reg, double tol, int64_t *budget, run_result *r)
{
    int64_t n = w->n, m = w->m, i;
    double move_cap = w->range + reg * (64.0 + w->logmax + log((double)m));
    double viol;
    memset(r, 0, sizeof *r);
    if (!isfinite(w->smax / reg) || !isfinite(move_cap))
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "OT semi-dual: values up to %g divided by reg %g "
                       "overflow", w->smax, reg);
    SS_CHECK(evaluate(ctx, p, reg, d->f, w, w->e, w->v, w->lse, d->rowsum,
                      w->grad, &viol));
    for (;;) {
        double psi0, t, big;
        int evaluated;
        if (!isfinite(viol))
            return ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "OT semi-dual: the plan is not finite at reg %g "
                           "(the values divided by reg overflow)", reg);
        column_potentials(p, reg, w->lse, d->g);
        r->viol = viol;
        r->floor = ss_ot_violation_floor(w->mass, w->smax, d->f, n, d->g, m, 0.0, reg);
        if (viol <= fmax(tol, r->floor)) {
            r->converged = 1;
            return SUBSEL_OK;
        }
        if (r->stalled || *budget <= 0)
            return SUBSEL_OK;
        if (par->report)
            SS_CHECK(ss_progress(ctx, "ot", d->iterations, par->max_iter));
        d->iterations++;
        --*budget;

        /* The plan at f (for the Hessian), e_ij v_j in place of e, and its
         * row sums: the diagonal term from the same plan as the
         * off-diagonal one, so that rounding cannot make H indefinite. */
        ss_ot_scale_cols(ctx, w->e, n, m, w->v, w->plan_rows);
        SS_CHECK(hessian(ctx, p, reg, w, w->e, w->plan_rows));
        for (i = 0; i < n; i++)
            w->trial[i] = -w->grad[i];
        SS_CHECK(newton_step(ctx, n, w->hess, w->work,
                             ss_ot_max_abs(w->plan_rows, n) / reg, w->trial, w->step));
        /* Where the curvature almost vanishes (a row whose mass sits in
         * capped columns: Phi is then almost linear in f) the Newton step
         * explodes; no move beyond move_cap can help. */
        big = ss_ot_max_abs(w->step, n);
        psi0 = dot(w->grad, w->step, n);
        if (!(big > 0.0) || !(psi0 < 0.0)) {
            r->stalled = 1; /* rounding decides the direction */
            continue;
        }
        if (big > move_cap) {
            for (i = 0; i < n; i++)
                w->step[i] *= move_cap / big;
            psi0 *= move_cap / big;
            big = move_cap;
        }
        SS_CHECK(line_search(ctx, p, reg, w, d->f, psi0, move_cap / big, &t,
                             &evaluated));
        if (!(t > 0.0)) {
            r->stalled = 1;
            continue;
        }
        for (i = 0; i < n; i++)
            d->f[i] += t * w->step[i];
        if (evaluated) {
            /* slope_at left the evaluation at f + t step in the trial
             * buffers */
            double *swap = w->e;
            w->e = w->e_trial;
            w->e_trial = swap;
            swap = w->v;
            w->v = w->v_trial;
            w->v_trial = swap;
            memcpy(w->lse, w->lse_trial, (size_t)m * sizeof *w->lse);
            memcpy(d->rowsum, w->rowsum_trial, (size_t)n * sizeof *d->rowsum);
            memcpy(w->grad, w->grad_trial, (size_t)n * sizeof *w->grad);
            viol = 0.0;
            for (i = 0; i < n; i++)
                viol += fabs(w->grad[i]);
        } else {
            SS_CHECK(evaluate(ctx, p, reg, d->f, w, w->e, w->v, w->lse,
                              d->rowsum, w->grad, &viol));
        }
    }
}

int ss_ot_solve_rows(subsel_ctx *ctx, const ss_ot_problem *p,
                     const ss_ot_params *par, ss_ot_duals *d)
{
    const ss_ot_cost *c = p->cost;
    int64_t n = c->n, m = c->m, i, j, budget = par->max_iter;
    double reg = par->reg, lo, hi, tol;
    newton w;
    run_result r;
    int rc = SUBSEL_OK;
    memset(&w, 0, sizeof w);
    memset(&r, 0, sizeof r);
    if (c->c == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID, "OT semi-dual: dense values only");
    w.n = n;
    w.m = m;
    d->iterations = 0;
    d->t = 0.0;
    SS_TRY(ss_alloc_array(ctx, n > m ? n : m, sizeof *w.h, &w.h));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *w.lse, &w.lse));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *w.lse_trial, &w.lse_trial));
    SS_TRY(ss_alloc_array(ctx, n * m, sizeof *w.e, &w.e));
    SS_TRY(ss_alloc_array(ctx, n * m, sizeof *w.e_trial, &w.e_trial));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *w.v, &w.v));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *w.v_trial, &w.v_trial));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *w.colmax, &w.colmax));
    SS_TRY(ss_alloc_array(ctx, n * n, sizeof *w.hess, &w.hess));
    SS_TRY(ss_alloc_array(ctx, n * n, sizeof *w.work, &w.work));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *w.grad, &w.grad));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *w.step, &w.step));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *w.trial, &w.trial));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *w.grad_trial, &w.grad_trial));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *w.rowsum_trial, &w.rowsum_trial));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *w.plan_rows, &w.plan_rows));
    SS_TRY(ss_alloc_array(ctx, m, sizeof *w.col_scale, &w.col_scale));

    /* Scales: the rows' mass, the largest value and the value range. */
    for (i = 0; i < n; i++) {
        w.mass += exp(p->log_a[i]);
        w.logmax = fmax(w.logmax, fabs(p->log_a[i]));
    }
    for (j = 0; j < m; j++) {
        w.logmax = fmax(w.logmax, fabs(p->log_b[j]));
        w.col_scale[j] = exp(-0.5 * p->log_b[j]);
    }
    ss_ot_cost_range(ctx, c, &lo, &hi);
    w.smax = fmax(fabs(lo), fabs(hi));
    w.range = hi - lo;
    tol = par->tol * w.mass;

    /* From a warm start Newton usually converges in tens of steps; when it
     * has not after DIRECT_STEPS, the potentials are far from the optimum
     * of a problem with many kinks (values spread over many times reg):
     * follow the path of optima from reg = the value range down instead,
     * each stage warm-started from the last and crossing few kinks. */
    {
        int64_t direct = budget < DIRECT_STEPS ? budget : DIRECT_STEPS;
        budget -= direct;
        SS_TRY(newton_run(ctx, p, par, &w, d, reg, tol, &direct, &r));
        budget += direct;
    }
    if (!r.converged && budget > 0 && w.range > reg) {
        double stage = w.range;
        for (; stage > reg; stage *= ANNEAL_FACTOR)
            SS_TRY(newton_run(ctx, p, par, &w, d, stage, ANNEAL_TOL * w.mass,
                              &budget, &r));
        SS_TRY(newton_run(ctx, p, par, &w, d, reg, tol, &budget, &r));
    }
    for (j = 0; j < m; j++)
        d->colsum[j] = exp(capped(p, w.lse, j) ? p->log_b[j] : w.lse[j]);
    d->violation = r.viol;
    if (r.converged) {
        if (par->report) /* the stage ends at its total, as in scaling.c */
            rc = ss_progress(ctx, "ot", par->max_iter, par->max_iter);
        goto cleanup;
    }
    if (r.stalled)
        rc = ss_fail(ctx, SUBSEL_E_NUMERIC,
                     "OT semi-dual: no descent along the Newton direction at "
                     "row violation %.3g after %lld steps (tolerance %.3g, "
                     "rounding floor %.3g, reg %g)",
                     r.viol, (long long)d->iterations, tol, r.floor, reg);
    else
        rc = ss_fail(ctx, SUBSEL_E_NUMERIC,
                     "OT semi-dual: row violation %.3g is above the tolerance "
                     "%.3g after the cap of %lld Newton steps (reg %g): raise "
                     "the iteration cap",
                     r.viol, fmax(tol, r.floor), (long long)par->max_iter, reg);
cleanup:
    ss_free(ctx, w.h);
    ss_free(ctx, w.lse);
    ss_free(ctx, w.lse_trial);
    ss_free(ctx, w.e);
    ss_free(ctx, w.e_trial);
    ss_free(ctx, w.v);
    ss_free(ctx, w.v_trial);
    ss_free(ctx, w.colmax);
    ss_free(ctx, w.hess);
    ss_free(ctx, w.work);
    ss_free(ctx, w.grad);
    ss_free(ctx, w.step);
    ss_free(ctx, w.trial);
    ss_free(ctx, w.grad_trial);
    ss_free(ctx, w.rowsum_trial);
    ss_free(ctx, w.plan_rows);
    ss_free(ctx, w.col_scale);
    return rc;
}
