/* SPDX-License-Identifier: MIT */
/*
 * UniPROT as the library sees it: the objective's data, and the pieces its
 * files share (the water-filling gain, the prototype plan solve).
 *
 *   f(P) = max_G <S_P, G> + reg H(G)  s.t.  G 1 = 1, G^T 1 <= (k / n) 1
 *
 * over the rows P of a |S| x n similarity matrix. The state keeps the
 * converged dual potentials of f(P) (warm start of the next solve), the
 * plan's column sums and the residual capacities r = max(k/n - G^T 1, 0)
 * the approximate gain needs.
 */
#ifndef SS_OBJECTIVES_UNIPROT_H
#define SS_OBJECTIVES_UNIPROT_H

#include <stdint.h>

#include "core/options.h"
#include "kernels/kernels.h"
#include "subsel.h"

typedef struct ss_uniprot {
    const float *sim; /* rows x n, row-major, rows ld floats apart */
    int64_t rows, n, ld;
    float *owned;     /* sim, when computed from features */
    float *row_max;   /* rows: each row's largest similarity (the shift of
                         its water-filling exponents), computed once */
    int64_t k;
    double reg;
    double cap;       /* k / n */
    int64_t gain;     /* SUBSEL_UNIPROT_GAIN_* */
    int64_t update;   /* SUBSEL_UNIPROT_UPDATE_* */
    double tol;
    int64_t max_iter;
    int64_t gain_memory; /* SUBSEL_P_UNIPROT_GAIN_MEMORY */
} ss_uniprot;

/* The default of SUBSEL_P_UNIPROT_GAIN_MEMORY: the same working memory
 * the OT engine may store its costs in (SS_OT_DEFAULT_BUDGET). */
#define SS_UNIPROT_DEFAULT_GAIN_MEMORY ((int64_t)512 << 20)

/* UniPROT's parameters (SUBSEL_P_UNIPROT_GAIN ...: objective.c; gain,
 * update, tol and max_iter above). */
extern const ss_param_kind ss_uniprot_params;

/* A similarity row as the approximate gain reads it: s (n floats), its
 * largest value s_max (k->max_f32(s, n), which callers keep per row), and
 * its weights w_j = exp((s_j - s_max) / reg) rounded to float, with their
 * sum w_sum, both from ss_waterfill_weights. */
typedef struct ss_waterfill_row {
    const float *s;
    float s_max;
    const float *w;
    double w_sum;
} ss_waterfill_row;

/* Writes the weights of row s (n floats, largest s_max) to w (n floats)
 * and returns their sum. They do not depend on the capacities: a caller
 * may keep them for later gains of the row (the same bits as made anew). */
double ss_waterfill_weights(const ss_kernels *k, const float *s, float s_max,
                            int64_t n, double reg, float *w);

/* The approximate gain
 *   max_{a >= 0, sum a = 1, a <= r} <s, a> - reg sum a log a
 * of a similarity row against residual capacities r (with rlogr[j] =
 * r_j log r_j, 0 for r_j = 0), whose solution is water-filling a_j =
 * min(r_j, c exp(s_j / reg)); the maximiser a goes to alpha (n values) and
 * log c to *log_c (NaN when every coordinate is saturated) unless they are
 * NULL. `work` is scratch of 3 n + 1 doubles. Newton's method on the
 * concave piecewise-linear equation in mu = 1/c (a few vectorised passes
 * over the row's weights); falls back to ss_waterfill_sorted when the free
 * mass underflows. Needs sum r >= 1 up to `slack` plus rounding: a smaller
 * deficit (the mass a solve that produced r may leave unplaced, its row
 * violation) counts as none, and every coordinate is then saturated; a
 * larger one is infeasible (-inf). mu_hint (or NULL) is the caller's cache
 * for this row: the root mu of the last call, 0 for none; a warm start
 * when the capacities have only shrunk since, the same result either way. */
double ss_waterfill_gain(const ss_kernels *k, const ss_waterfill_row *row,
                         int64_t n, const double *r, const double *rlogr,
                         double reg, double slack, double *work,
                         double *alpha, double *log_c, double *mu_hint);

/* The same value (and maximiser) by sorting t_j = log r_j - s_j / reg
 * (O(n log n), fully in the log domain): the reference the fast path is
 * tested against. `work` is scratch of 3 n + 1 doubles. Returns -inf when
 * infeasible (sum r below 1 by more than slack plus rounding). */
double ss_waterfill_sorted(const float *s, int64_t n, const double *r,
                           double reg, double slack, double *work,
                           double *alpha, double *log_c);

/* The objective over sim (rows x n, rows ld >= n floats apart); `owned`
 * (sim itself or NULL) becomes the objective's, and is freed on failure
 * too. Parameters checked. */
int ss_uniprot_make(subsel_ctx *ctx, const float *sim, float *owned,
                    int64_t rows, int64_t n, int64_t ld, int64_t k, double reg,
                    subsel_objective **out);

/* Row i of the similarity matrix (n floats). */
static inline const float *ss_uniprot_row(const ss_uniprot *up, int64_t i)
{
    return up->sim + i * up->ld;
}

/* For tests: a state's residual capacities r (n values) and the solve's
 * row violation the gains allow for (*unplaced); returns how many columns
 * the approximate gains read (n, or those with room once enough are
 * full). */
int64_t ss_uniprot_state_room(const void *state, const double **r, double *unplaced);

/* Checks a source / target pair of feature matrices (non-NULL, the same
 * columns) and a SUBSEL_SIM_* constant, whose ss_metric goes to *metric;
 * errors name the function fn. */
int ss_uniprot_check_features(subsel_ctx *ctx, const char *fn,
                              const subsel_dense *source,
                              const subsel_dense *target, int similarity,
                              int *metric);

/* Solves f(set) from scratch: writes the value, the plan G (count x n,
 * unless plan is NULL) and the transport similarity <S_set, G> (unless
 * transport is NULL; streamed, G need not be stored). The solve starts
 * from the potentials the appended plan of the set (in its order) gives:
 * each row's log c (reg log c is its potential). */
int ss_uniprot_solve_set(subsel_ctx *ctx, const subsel_objective *obj,
                         const int64_t *set, int64_t count, double *plan,
                         double *value, double *transport);

#endif
