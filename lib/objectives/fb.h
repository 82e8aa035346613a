/* SPDX-License-Identifier: MIT */
/*
 * The feature-based engine shared by the FB objective and SDM: f(A) =
 * sum_i w_i phi(m_i(A)) over the rows of a nonnegative CSR matrix, plus
 * (for SDM) a quality term sum_l u_l log(1 + |A cap bin_l|). SDM is this
 * engine with phi = log1p, w = lambda p and the quality term scaled by
 * 1 - lambda; sdm.c only adds its setters and KL.
 */
#ifndef SS_OBJECTIVES_FB_H
#define SS_OBJECTIVES_FB_H

#include <stdint.h>

#include "core/options.h"
#include "kernels/kernels.h"
#include "objectives/objective.h"

typedef struct ss_fb {
    const subsel_csr *z; /* retained; released by destroy */
    ss_phi phi;
    double *w;           /* per column: the weights, or lambda * p for SDM */
    /* SDM only */
    double *p;           /* normalised target distribution, NULL until set */
    double lambda;
    int64_t bins;        /* 0: no quality term */
    int32_t *bin_of;     /* per row */
    double *bin_weights; /* per bin, u_l (already without 1 - lambda) */
    int bin_weights_set;
} ss_fb;

extern const ss_objective_ops ss_fb_ops;
extern const ss_objective_ops ss_sdm_ops;

/* SDM's parameter (SUBSEL_P_SDM_LAMBDA: sdm.c). */
extern const ss_param_kind ss_sdm_params;

/* Creates an FB-engine objective with `ops` (ss_fb_ops or ss_sdm_ops) over
 * `z`, checking that z is nonnegative; w is filled with `w_fill`. */
int ss_fb_new(subsel_ctx *ctx, const ss_objective_ops *ops,
              const subsel_csr *z, int phi_kind, double param, double w_fill,
              subsel_objective **out);

/* The column sums m(A) of a state (d values). */
const double *ss_fb_state_sums(const void *state);

#endif
