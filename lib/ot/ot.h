/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of the entropic optimal-transport engine.
 *
 * Everything is in the log domain. A problem is a matrix of values C (costs
 * to minimise, or similarities to maximise) given either as a dense double
 * array or as two point clouds and a metric (computed tile by tile with
 * BLIS, stored once when it fits a memory budget). Plans have the form
 *   P_ij = exp((f_i + g_j + t + sign * C_ij) / reg)
 * with dual potentials f, g in the units of C and a mass potential t. The
 * one solver (scaling.c) is block coordinate ascent on the dual, which is
 * the vector form of Dykstra's / Bregman's iterated projections: the
 * correction matrices of Dykstra's algorithm are rank one, so each
 * iteration is two log-sum-exp passes, O(nm). Equality marginals give
 * Sinkhorn; inequality marginals plus a total mass give POT's entropic
 * partial OT; equality rows and capped columns give UniPROT's problem.
 */
#ifndef SS_OT_OT_H
#define SS_OT_OT_H

#include <stddef.h>
#include <stdint.h>

#include "core/options.h"
#include "linalg/pairwise.h"
#include "subsel.h"

/* Default memory budget for materialising point-cloud values (bytes). */
#define SS_OT_DEFAULT_BUDGET ((int64_t)512 << 20)

/* The OT solver's parameters (SUBSEL_P_OT_MAX_ITER ...: solver.c). */
extern const ss_param_kind ss_ot_solver_params;

/* Balanced OT between uniform point clouds x (n x d) and y (m x d), row-major
 * float, cost |x_i - y_j| (Euclidean), geomloss-style annealed symmetric
 * log-domain Sinkhorn. Writes the potentials f (n) and g (m) and
 * loss = mean(f) + mean(g). blur > 0, 0 < scaling < 1. */
int ss_ot_anneal_uniform(subsel_ctx *ctx, const float *x, int64_t n,
                         const float *y, int64_t m, int64_t d, double blur,
                         double scaling, double *f, double *g, double *loss);

/* As ss_ot_anneal_uniform, storing the n x m costs (in float) only as far
 * as they take at most `budget` bytes (ss_ot_anneal_uniform:
 * SS_OT_DEFAULT_BUDGET); every pass recomputes the rest tile by tile, once
 * for both potentials. The costs come from float products with near pairs
 * redone in double (ss_pairwise_tile's fast tiles; the potentials then move
 * by about 1e-6 |x| |y| at most). */
int ss_ot_anneal_uniform_budget(subsel_ctx *ctx, const float *x, int64_t n,
                                const float *y, int64_t m, int64_t d,
                                double blur, double scaling, int64_t budget,
                                double *f, double *g, double *loss);

struct ss_ot_row_cache;
/* As ss_ot_anneal_uniform_budget, row i of x being row ids[i] of the pool
 * of a row cache (ss_ot_cost_points_cached) that keeps the costs of rows
 * across solves against the same y; cache NULL: without one. */
int ss_ot_anneal_uniform_cached(subsel_ctx *ctx, const float *x, int64_t n,
                                const int64_t *ids, struct ss_ot_row_cache *cache,
                                const float *y, int64_t m, int64_t d,
                                double blur, double scaling, int64_t budget,
                                double *f, double *g, double *loss);

/* ------------------------------------------------------------------------ */
/* Value matrices (cost.c)                                                  */
/* ------------------------------------------------------------------------ */

typedef struct ss_ot_cost {
    int64_t n, m;
    const double *c; /* dense values (row i at c + i * ld), or NULL */
    int64_t ld;
    /* Point clouds, when c is NULL (values computed tile by tile): rows of
     * d floats, ldx and ldy floats apart. */
    const float *x, *y;
    int64_t d, ldx, ldy;
    int metric;
    int fast;        /* values by ss_pairwise_tile's fast tiles: for
                        potentials only (a plan's exponent would divide
                        their error by reg; ss_ot_gibbs streams exact ones) */
    double *xs, *ys; /* squared row norms (owned) */
    double *owned;   /* the materialised matrix, when it fit the budget */
    /* Fast values only: the rows kept in float, rowp[i] (n pointers) for
     * row i or NULL if it is recomputed at every pass. Without a row cache
     * they are the first rows, all of them or as many whole tiles as fit
     * the budget, in `head` (ld m). */
    float **rowp;
    float *head;
} ss_ot_cost;

/* Float rows of fast values kept across annealed solves whose sets are
 * drawn from one pool of rows (ids in [0, ids)) against the same columns
 * (TAROT's OTM folds): a row is computed once, the first time its id comes,
 * while the cache has room (its budget / (4 m) rows). Chunks of rows are
 * allocated as it fills. */
typedef struct ss_ot_row_cache {
    float **chunks;
    int64_t *slot; /* slot[id]: its row in the cache, or -1 */
    int64_t ids, m, rows, capacity;
} ss_ot_row_cache;

int ss_ot_row_cache_init(subsel_ctx *ctx, ss_ot_row_cache *cache, int64_t ids,
                         int64_t m, int64_t budget);
/* Frees it; safe on a zeroed struct. */
void ss_ot_row_cache_release(subsel_ctx *ctx, ss_ot_row_cache *cache);


/* A dense n x m value matrix with leading dimension ld >= m (borrowed). */
void ss_ot_cost_dense(ss_ot_cost *cost, const double *c, int64_t n,
                      int64_t m, int64_t ld);

/* Values metric(x_i, y_j) between the rows of x (n x d, rows ldx floats
 * apart) and y (m x d, ldy apart), both borrowed, by ss_pairwise_tile's
 * exact tiles or (`fast`) its fast ones.
 * The n x m matrix is computed once and kept if it takes at most `budget`
 * bytes, else computed tile by tile at every pass; fast values are kept
 * in float instead, all rows or their first rows within the budget. */
int ss_ot_cost_points(subsel_ctx *ctx, ss_ot_cost *cost, int metric, int fast,
                      const float *x, int64_t ldx, int64_t n, const float *y,
                      int64_t ldy, int64_t m, int64_t d, int64_t budget);

/* As ss_ot_cost_points for fast values, row i being row ids[i] of the
 * cache's pool: rows the cache holds are read there, new ones computed into
 * it while it has room (then the budget is the cache's). cache NULL:
 * ss_ot_cost_points. */
int ss_ot_cost_points_cached(subsel_ctx *ctx, ss_ot_cost *cost, int metric,
                             int fast, const float *x, int64_t ldx, int64_t n,
                             const int64_t *ids, ss_ot_row_cache *cache,
                             const float *y, int64_t ldy, int64_t m, int64_t d,
                             int64_t budget);

/* Whether rows [i0, i0 + rows) of fast values are all kept (rowp). */
int ss_ot_cost_stored_block(const ss_ot_cost *cost, int64_t i0, int64_t rows);

/* Frees what ss_ot_cost_points allocated; safe on a zeroed struct. */
void ss_ot_cost_release(subsel_ctx *ctx, ss_ot_cost *cost);

/* The smallest and largest value (an upper bound of the range for
 * streamed point clouds). */
void ss_ot_cost_range(const subsel_ctx *ctx, const ss_ot_cost *cost,
                      double *lo, double *hi);

/* ------------------------------------------------------------------------ */
/* Log-sum-exp passes (lse.c)                                               */
/* ------------------------------------------------------------------------ */

/* out[i] = log sum_j exp(s C_ij + h[j]) for every row i (m >= 1). */
int ss_ot_row_lse(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                  const double *h, double *out);

/* out[j] = log sum_i exp(s C_ij + h[i]) for every column j (n >= 1). */
int ss_ot_col_lse(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                  const double *h, double *out);

/* Both at once: row_out[i] = log sum_j exp(s C_ij + hcol[j]) and
 * col_out[j] = log sum_i exp(s C_ij + hrow[i]), tile by tile: each tile is
 * read from memory (or computed) once for both. For the annealed solves:
 * the values must be fast point-cloud ones (ss_ot_cost_points with fast),
 * which it reads as floats, and the exps are in single precision, which
 * puts each log-sum-exp within about 2^-24 (log(count) + 2) of the exact
 * one (the fast costs' own error is about 1e-6 |x| |y| / eps). */
int ss_ot_both_lse(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                   const double *hcol, double *row_out, const double *hrow,
                   double *col_out);

/* The column pass that keeps its exponentials, for dense values (c set):
 * with x_ij = s C_ij + h[i] and mx[j] = max_i x_ij, e_ij = exp(x_ij - mx[j])
 * (n x m, row-major) and sum[j] = sum_i e_ij (the column's log-sum-exp is
 * mx[j] + log sum[j]). Then any plan exp(x_ij + g_j) is e_ij exp(mx[j] +
 * g_j): one exp per entry serves the column sums, the row sums and the
 * plan. Each column is summed down the rows in order, so the bits do not
 * depend on the thread count. */
void ss_ot_col_exp(const subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                   const double *h, double *e, double *mx, double *sum);

/* Threads for `items` parallel items totalling `entries` matrix entries:
 * one thread per 64k entries at most. */
int ss_ot_threads_for(const subsel_ctx *ctx, int64_t items, int64_t entries);

/* e_ij *= v[j] in place, and sums[i] = sum_j e_ij (in column order) for
 * the rows of the n x m matrix e. */
void ss_ot_scale_cols(const subsel_ctx *ctx, double *e, int64_t n, int64_t m,
                      const double *v, double *sums);

/* out[i] = sum_j e_ij v[j] for the rows of the n x m matrix e, each in the
 * fixed order of the kernels' products. */
void ss_ot_row_dot(const subsel_ctx *ctx, const double *e, int64_t n, int64_t m,
                   const double *v, double *out);

/* Row i of the plan exp(s C_ij + h[j] + hrow[i]) into plan (n x m, or NULL
 * to skip storing it), and *dot = sum_ij plan_ij C_ij. */
int ss_ot_gibbs(subsel_ctx *ctx, const ss_ot_cost *cost, double s,
                const double *hrow, const double *h, double *plan,
                double *dot);

/* ------------------------------------------------------------------------ */
/* The solver (scaling.c)                                                   */
/* ------------------------------------------------------------------------ */

typedef struct ss_ot_problem {
    const ss_ot_cost *cost;
    double sign;         /* -1: C are costs; +1: C are similarities      */
    const double *log_a; /* n row marginals (log)                         */
    const double *log_b; /* m column marginals (log)                      */
    int row_ineq;        /* 0: P 1 = a; 1: P 1 <= a                       */
    int col_ineq;        /* 0: P^T 1 = b; 1: P^T 1 <= b                   */
    double mass;         /* > 0: 1^T P 1 = mass; 0: no such constraint    */
} ss_ot_problem;

typedef struct ss_ot_params {
    double reg;            /* target regularisation, > 0                  */
    double tol;            /* L1 marginal violation, relative to the mass  */
    int64_t max_iter;      /* iterations over all annealing stages         */
    int anneal;            /* solve a decreasing schedule of regs first    */
    double anneal_start;   /* its first reg; 0: the value range (max - min) */
    double anneal_factor;  /* (0, 1): ratio of successive stages           */
    int report;            /* report progress ("ot") and honour cancelling */
} ss_ot_params;

/* Dual state. f, g are caller arrays (n, m); rowsum and colsum (n, m, may
 * be NULL) receive the marginals of the final plan. */
typedef struct ss_ot_duals {
    double *f, *g;
    double t;
    double *rowsum, *colsum;
    int64_t iterations; /* out */
    double violation;   /* out: L1 violation of the final plan */
} ss_ot_duals;

/* Solves from the potentials in d (warm) or from zero (warm == 0), until
 * the L1 violation of both marginals is at most tol times the mass a plan
 * carries, or the floating-point floor of the problem (both marginals),
 * whichever is larger. SUBSEL_E_NUMERIC if the values divided by reg
 * overflow, if a potential or the violation stops being finite (at once),
 * or if the violation is still above that after max_iter iterations;
 * SUBSEL_E_CANCELLED. */
int ss_ot_solve(subsel_ctx *ctx, const ss_ot_problem *p,
                const ss_ot_params *par, ss_ot_duals *d, int warm);

/* The same problem when rows are equalities (row_ineq 0), columns are caps
 * (col_ineq 1) or equalities, there is no mass constraint and the rows are
 * few: Newton's method on the row potentials (semidual.c), from the f in d
 * (always warm; g is an output). Dense values only (cost->c set); it keeps
 * two n x m buffers of exponentials. Columns of the result meet their caps
 * exactly; tol bounds the L1 row violation; max_iter counts Newton steps. */
int ss_ot_solve_rows(subsel_ctx *ctx, const ss_ot_problem *p,
                     const ss_ot_params *par, ss_ot_duals *d);

/* The L1 violation of one marginal below which rounding decides, for
 * plan entries exp((f_i + g_j + t + sign C_ij) / reg) with |C| <= vmax and
 * a marginal of total `mass`: each entry carries a relative error of about
 * eps times its exponent's terms, and a sum of many of them about eps
 * log2(terms) more. SS_OT_FLOOR_FACTOR is the safety factor over that
 * first-order estimate. */
#define SS_OT_FLOOR_FACTOR 8.0
double ss_ot_violation_floor(double mass, double vmax, const double *f,
                             int64_t n, const double *g, int64_t m, double t,
                             double reg);

/* max_i |x_i| (0 for n = 0; NaN entries are skipped, as by fmax). */
double ss_ot_max_abs(const double *x, int64_t n);

/* The plan of a solved problem (n x m, or NULL) and <P, C>. */
int ss_ot_plan(subsel_ctx *ctx, const ss_ot_problem *p, double reg,
               const ss_ot_duals *d, double *plan, double *dot);

#endif
