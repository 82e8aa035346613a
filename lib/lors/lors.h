/* SPDX-License-Identifier: MIT */
/*
 * LoRS (Xu et al., ICML 2024): multimodal dataset distillation with
 * low-rank similarity mining, in embedding space. The internal calls its
 * files share.
 *
 *   tower.c       the two towers (a linear map, or the projection head of
 *                 the LoRS / vl-distill code): forward, backward, and the
 *                 tangents of both along a direction in parameter space
 *   contrast.c    the contrastive losses over a minibatch's logits with a
 *                 soft similarity S (InfoNCE, eNCE, BCE, weighted BCE):
 *                 value, gradients in the logits and in S, and tangents
 *   similarity.c  the learned S~ = diag(w) + (alpha/r) L R^T (or a full
 *                 matrix): a minibatch's block and the gradients back to
 *                 w, L, R
 *   model.c       the joint model: towers, unit normalisation, scaled
 *                 cosine logits, loss; gradient in the parameters and the
 *                 data, and its tangent (a Hessian-vector product)
 *   ...           (unrolling, distillation, experts, evaluation)
 *
 * Everything is computed in double: the sets are small (a few hundred
 * synthetic pairs), and the gradients through unrolled training are
 * checked against finite differences and PyTorch to tight tolerances.
 *
 * Tangents. Distillation differentiates through T steps of training: the
 * reverse sweep needs, at each step, H v and d/d(data) <grad, v> for a
 * vector v in parameter space. Both are the derivative, along theta_dot =
 * v, of the gradients a backward pass computes (the mixed partials are
 * symmetric), so every stage has a tangent mode: the same pass carried
 * along a direction theta_dot with the data held fixed ("forward over
 * reverse"). A NULL theta_dot skips the tangents.
 */
#ifndef SS_LORS_LORS_H
#define SS_LORS_LORS_H

#include <stdint.h>

#include "core/rng.h"
#include "subsel.h"

/* ---- towers ------------------------------------------------------------- */

/* Kinds of tower (the values of SUBSEL_LORS_TOWER_* in subsel.h). */
enum { SS_TOWER_LINEAR = 0, SS_TOWER_HEAD = 1 };

/* A tower maps rows of `in` columns to rows of `out` columns.
 *
 * Parameters, one flat block of ss_tower_params() doubles, in PyTorch's
 * nn.Linear layout (weights out x in, row-major):
 *   linear  W (out x in), b (out):             u = W x + b
 *   head    W1 (out x in), b1 (out),           p = W1 x + b1
 *           W2 (out x out), b2 (out),          h = W2 GELU(p) + b2
 *           gamma (out), beta (out)            u = LayerNorm(h + p)
 * GELU is the exact one (x Phi(x), PyTorch's nn.GELU()); LayerNorm
 * normalises each row over its `out` values with the biased variance and
 * eps SS_TOWER_LN_EPS, then scales by gamma and shifts by beta. No dropout
 * (distillation and evaluation train without it). */
typedef struct ss_tower {
    int kind;
    int64_t in, out;
} ss_tower;

#define SS_TOWER_LN_EPS 1e-5

/* Parameters of the tower. */
int64_t ss_tower_params(const ss_tower *t);

/* Doubles of `work` that ss_tower_forward and ss_tower_backward need for
 * batches of up to `rows` rows, tangents included. */
int64_t ss_tower_work(const ss_tower *t, int64_t rows);

/* PyTorch's default initialisation, drawn from rng in the layout's order:
 * every weight and bias of a Linear uniform in [-1/sqrt(fan_in),
 * 1/sqrt(fan_in)] (fan_in = its `in`), gamma 1, beta 0. */
void ss_tower_init(const ss_tower *t, ss_rng *rng, double *theta);

/* u (rows x out) = tower(x) for x (rows x in). With theta_dot non-NULL also
 * u_dot, the derivative of u along theta_dot (x fixed). Keeps in `work`
 * what ss_tower_backward needs for the same rows, theta and theta_dot.
 * Products run on ctx's threads; the result does not depend on their
 * number. */
void ss_tower_forward(const subsel_ctx *ctx, const ss_tower *t,
                      const double *theta, const double *theta_dot,
                      int64_t rows, const double *x, double *u, double *u_dot,
                      double *work);

/* After ss_tower_forward on the same arguments: given du = dl/du (rows x
 * out), writes grad = dl/dtheta (overwritten, ss_tower_params doubles) and,
 * when dx is non-NULL, dx = dl/dx (rows x in). With theta_dot non-NULL
 * (the same as in the forward) and du_dot, the derivative of du along
 * theta_dot, it also writes grad_dot and (when dx_dot is non-NULL) dx_dot:
 * the derivatives of grad and dx along theta_dot. */
void ss_tower_backward(const subsel_ctx *ctx, const ss_tower *t,
                       const double *theta, const double *theta_dot,
                       int64_t rows, const double *x, const double *du,
                       const double *du_dot, double *work, double *grad,
                       double *grad_dot, double *dx, double *dx_dot);

/* ---- contrastive losses ------------------------------------------------- */

/* The losses (the values of SUBSEL_LORS_LOSS_* in subsel.h), over an m x m
 * logit matrix z (z_ij: image i against text j) and a target similarity s
 * (m x m), as the paper writes them (section 3):
 *   InfoNCE  eq. 1: eNCE with s = I (s is ignored)
 *   eNCE     eq. 3: -(1/m) sum_ij s_ij (log P^V_ij + log P^T_ij), P^V the
 *            softmax of z over each row, P^T over each column
 *   BCE      eq. 4: (1/m) sum_ij l(s_ij, sigmoid(z_ij))
 *   wBCE     eq. 5: the mean of l over the entries with s_ij > beta plus
 *            the mean over those with s_ij <= beta (a group without
 *            entries adds 0)
 * with l(y, sigmoid(x)) = softplus(x) - y x, the exact form of
 * -y log p - (1-y) log(1-p) (no epsilon inside the logarithms). */
enum { SS_LOSS_INFONCE = 0, SS_LOSS_ENCE = 1, SS_LOSS_BCE = 2,
       SS_LOSS_WBCE = 3 };

/* Doubles of `work` ss_contrast needs for m x m logits. */
int64_t ss_contrast_work(int64_t m);

/* The loss of kind `loss` (threshold beta for wBCE) for logits z and
 * target s (NULL: identity; always identity for InfoNCE), returned. Writes
 * g = dl/dz (m x m) when g is non-NULL, and gs = dl/ds when gs is non-NULL
 * (zeros for InfoNCE; for wBCE the split by beta is held fixed, as in the
 * paper's code). With z_dot non-NULL (a direction for z, s fixed) also
 * g_dot and gs_dot (each when non-NULL): the derivatives of g and gs along
 * z_dot. Stable for any finite z (log-sum-exp, softplus). */
double ss_contrast(int loss, double beta, int64_t m, const double *z,
                   const double *s, const double *z_dot, double *g,
                   double *gs, double *g_dot, double *gs_dot, double *work);

/* ---- the learned similarity ---------------------------------------------- */

/* Kinds (the values of SUBSEL_LORS_SIM_* in subsel.h):
 *   identity  S~ = I, nothing learned (the "no similarity mining" ablation)
 *   lowrank   S~ = diag(w) + (alpha/r) L R^T, eq. 11; parameters, one flat
 *             block: w (n), L (n x r), R (n x r), row-major
 *   full      S~ an n x n matrix, all of it learned (row-major) */
enum { SS_SIM_IDENTITY = 0, SS_SIM_LOWRANK = 1, SS_SIM_FULL = 2 };

typedef struct ss_sim {
    int kind;
    int64_t n, rank;
    double alpha;
} ss_sim;

/* Parameters of the similarity (0 for identity). */
int64_t ss_sim_params(const ss_sim *s);

/* The initial parameters: w = 1, L ~ N(0, 1) from rng, R = 0 (so S~ = I);
 * full: the identity. */
void ss_sim_init(const ss_sim *s, ss_rng *rng, double *params);

/* The block S~[idx, idx] (m x m) of the minibatch idx (m indices in
 * [0, n), distinct). */
void ss_sim_block(const ss_sim *s, const double *params, int64_t m,
                  const int64_t *idx, double *block);

/* Adds to grad (ss_sim_params doubles) the gradient that gblock = dl/d
 * S~[idx, idx] sends back to the parameters. */
void ss_sim_block_backward(const ss_sim *s, const double *params, int64_t m,
                           const int64_t *idx, const double *gblock,
                           double *grad);

#endif
