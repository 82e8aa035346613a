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
 *   span.c        a tower's first Linear in span coordinates, for the
 *                 unrolled student when the set has fewer rows than
 *                 the tower's inputs
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

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/handle.h"
#include "core/options.h"
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

/* A tower's first Linear in span mode (ss_unroll_grad): the caller forms
 * its product x W^T, which it can do more cheaply when every x is one of a
 * few fixed rows (unroll.c), and takes its output's gradient back. */
typedef struct ss_span_layer {
    const double *xw;     /* rows x out: x W^T (forward, primal part) */
    const double *xw_dot; /* rows x out: x W_dot^T (forward, tangent part) */
    double *dp, *dp_dot;  /* rows x out: dl/dP and its tangent (backward) */
} ss_span_layer;

/* ss_tower_forward, with two options: `primal` 0 computes only the tangent
 * u_dot, after an ss_tower_forward(theta, NULL) on the same rows that left
 * `work` as it is (the same bits as a tangent pass from scratch; u is not
 * used); `span` non-NULL takes the first Linear's product from span (x is
 * not used). */
void ss_tower_forward_ex(const subsel_ctx *ctx, const ss_tower *t, int primal,
                         const double *theta, const double *theta_dot,
                         int64_t rows, const double *x,
                         const ss_span_layer *span, double *u, double *u_dot,
                         double *work);

/* ss_tower_backward after an ss_tower_forward_ex with the same span: with
 * span non-NULL, W's block of grad and grad_dot (the first out x in
 * doubles) is left alone and dx, dx_dot are not formed; span->dp and
 * span->dp_dot receive dl/dP and its tangent instead (P the first Linear's
 * output, so that W's gradient is dp^T x). */
void ss_tower_backward_ex(const subsel_ctx *ctx, const ss_tower *t,
                          const double *theta, const double *theta_dot,
                          int64_t rows, const double *x,
                          const ss_span_layer *span, const double *du,
                          const double *du_dot, double *work, double *grad,
                          double *grad_dot, double *dx, double *dx_dot);

/* After ss_tower_forward on the same arguments: given du = dl/du (rows x
 * out), writes grad = dl/dtheta (overwritten, ss_tower_params doubles; NULL:
 * not wanted, allowed with theta_dot only) and, when dx is non-NULL, dx =
 * dl/dx (rows x in). With theta_dot non-NULL
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

/* Row i of the whole S~ (n values). */
void ss_sim_row(const ss_sim *s, const double *params, int64_t i,
                double *row);

/* Adds to grad (ss_sim_params doubles) the gradient that gblock = dl/d
 * S~[idx, idx] sends back to the parameters. */
void ss_sim_block_backward(const ss_sim *s, const double *params, int64_t m,
                           const int64_t *idx, const double *gblock,
                           double *grad);

/* ---- the joint model ----------------------------------------------------- */

/* Two towers, unit normalisation, logits z_ij = exp(s) u_i . v_j and a
 * contrastive loss. Parameters theta, one flat block of `params` doubles:
 * the image tower's, then the text tower's, then s when the temperature is
 * learned (s = log(1 / tau); else s is the constant `scale`). For SGD the
 * parameters fall in two groups, each with its own step size: the image
 * tower and s (group 0), the text tower (group 1). */
typedef struct ss_model {
    ss_tower image, text;
    int loss;
    double beta;
    int learn_scale;
    double scale;                  /* s when not learned */
    int64_t image_params, text_params, params;
} ss_model;

/* Fills the sizes of m (towers, loss, beta, learn_scale and scale set). */
void ss_model_sizes(ss_model *m);

/* Scratch of ss_model_loss for minibatches of up to `rows` pairs. */
typedef struct ss_model_work {
    int64_t rows;
    /* Set by the caller (ss_model_work_carve clears it) when the work holds
     * the forward pass of an earlier ss_model_loss on the same theta and
     * data: a call with theta_dot then computes only the forward pass's
     * tangents, with the same results. */
    int forward_kept;
    /* Span mode of each tower (0 image, 1 text; NULL: off, as
     * ss_model_work_carve leaves them), for ss_tower_forward_ex and
     * ss_tower_backward_ex: the caller forms that tower's first product, x
     * (or y) is not used, and neither the first Linear's weight gradient
     * nor gx (gy) and their tangents are formed. */
    const ss_span_layer *span[2];
    double *u, *v, *u_dot, *v_dot;     /* tower outputs, normalised in place */
    double *ru, *rv, *ru_dot, *rv_dot; /* 1 / |u_i|, 1 / |v_j|, tangents */
    double *z, *z_dot, *g, *g_dot;     /* rows x rows */
    double *du, *dv, *du_dot, *dv_dot; /* rows x e */
    double *image_work, *text_work, *contrast_work;
} ss_model_work;

/* Doubles of one ss_model_work for `rows` pairs (one block: see
 * ss_model_work_carve). */
int64_t ss_model_work_size(const ss_model *m, int64_t rows);

/* Points w's arrays into `block` (ss_model_work_size doubles). */
void ss_model_work_carve(const ss_model *m, int64_t rows, double *block,
                         ss_model_work *w);

/* The loss of the model theta on `rows` pairs (x: rows x image.in, y: rows
 * x text.in) with target similarity s (rows x rows; NULL: identity),
 * returned. Writes grad = dl/dtheta (NULL: not wanted, allowed with
 * theta_dot only), and when non-NULL: gx = dl/dx, gy = dl/dy, gs = dl/ds. With theta_dot non-NULL also the derivatives of those
 * along theta_dot (data fixed) into grad_dot, gx_dot, gy_dot, gs_dot (each
 * when non-NULL): grad_dot is the Hessian times theta_dot, and gx_dot is
 * d/dx <grad, theta_dot> (likewise gy_dot, gs_dot). */
double ss_model_loss(const subsel_ctx *ctx, const ss_model *m,
                     const double *theta, const double *theta_dot,
                     int64_t rows, const double *x, const double *y,
                     const double *s, double *grad, double *grad_dot,
                     double *gx, double *gx_dot, double *gy, double *gy_dot,
                     double *gs, double *gs_dot, ss_model_work *w);

/* Embeddings of `rows` rows through one tower, normalised to unit length
 * (for retrieval): out (rows x e). work: ss_tower_work(t, rows) doubles,
 * and at least `rows`. */
void ss_model_embed(const subsel_ctx *ctx, const ss_tower *t,
                    const double *theta, int64_t rows, const double *x,
                    double *out, double *work);

/* ---- training through unrolled steps ------------------------------------ */

/* The parameters in runs of one SGD group each (0: the image tower and s;
 * 1: the text tower): the image tower, the text tower, then s, so that
 * per-parameter loops run over contiguous ranges and vectorise. */
typedef struct ss_group_run {
    int64_t lo, hi;
    int group;
} ss_group_run;
#define SS_GROUP_RUNS 3

static inline void ss_model_group_runs(const ss_model *m,
                                       ss_group_run runs[SS_GROUP_RUNS])
{
    int64_t a = m->image_params, b = a + m->text_params;
    runs[0] = (ss_group_run){0, a, 0};
    runs[1] = (ss_group_run){a, b, 1};
    runs[2] = (ss_group_run){b, m->params, 0};
}

/* ---- the first Linear in span coordinates (span.c) ------------------------ */

/* One tower's span state for a matching problem: the synthetic rows xs
 * (n x d) and what is formed from them once (xw0 = xs W_0^T, g = xs xs^T,
 * xl = xs Lambda^T), the sums over the steps that give the data's
 * gradient at the end (a0, al: n x e; m: n x n), a dense e x d block
 * (W_T, then Lambda) and one step's scratch (b rows). See span.c. */
typedef struct ss_span {
    int64_t e, d, n, b;
    const double *xs;
    double *xw0, *xl, *a0, *al, *g, *m, *dense, *tmp;
    double *gb, *r, *xw, *xw_dot, *dp, *dp_dot, *q, *scaled;
} ss_span;

/* Doubles of one ss_span, and carving it from `work`. */
int64_t ss_span_work_size(int64_t e, int64_t d, int64_t n, int64_t b);
void ss_span_carve(ss_span *s, int64_t e, int64_t d, int64_t n, int64_t b,
                   const double *xs, double *work);

/* Start of the forward sweep, from W_0 (e x d): xw0, g; sums cleared. */
void ss_span_begin(const subsel_ctx *ctx, ss_span *s, const double *w0);

/* xw = X_b W_k^T for the minibatch idx, W_k = W_0 + c xs (c: e x n). */
void ss_span_forward(const subsel_ctx *ctx, ss_span *s, const int64_t *idx,
                     const double *c);

/* coef (e x n) = the coefficients of dp^T X_b (dp: b x e): dp's rows in
 * the minibatch's columns, zeros elsewhere. */
void ss_span_scatter(const ss_span *s, const int64_t *idx, const double *dp,
                     double *coef);

/* w (e x d) = w0 + c xs. */
void ss_span_dense(const subsel_ctx *ctx, const ss_span *s, const double *w0,
                   const double *c, double *w);

/* Start of the reverse sweep, with Lambda in s->dense: xl. */
void ss_span_reverse_begin(const subsel_ctx *ctx, ss_span *s);

/* q = X_b lambda_W^T and xw_dot = eta q = X_b V^T, for lambda_W =
 * Lambda + dcoef xs. */
void ss_span_tangent(const subsel_ctx *ctx, ss_span *s, const int64_t *idx,
                     const double *dcoef, double eta);

/* After the tangent pass left dp and dp_dot: adds the step's terms of the
 * data's gradient to the sums (c: the step's C_k, dcoef: D_{k+1}), and
 * returns <g_W, lambda_W> = <dp, q>. */
double ss_span_accumulate(const subsel_ctx *ctx, ss_span *s,
                          const int64_t *idx, const double *c,
                          const double *dcoef, double eta);

/* End of the reverse sweep (Lambda still in s->dense): gx -= the data's
 * gradient through the first Linear over all steps (n x d). */
void ss_span_finish(const subsel_ctx *ctx, ss_span *s, const double *w0,
                    double *gx);

/* One matching problem of Algorithm 1: a student starts at theta0 and takes
 * `steps` SGD steps theta -= eta[group] * grad on minibatches of the
 * synthetic set (step k uses the `batch` pairs batches[k * batch ...], and
 * their block of the similarity); the loss is ||theta_T - theta_star||^2 /
 * ||theta0 - theta_star||^2. */
typedef struct ss_unroll {
    const ss_model *model;
    const ss_sim *sim;
    int64_t steps, batch;
    const int64_t *batches;
    const double *x, *y;       /* the synthetic set: n x image.in, n x text.in */
    const double *sim_params;  /* ss_sim_params(sim) doubles */
    const double *theta0, *theta_star;
    double eta[2];
    /* SS_SPAN_AUTO: a tower's first Linear in span coordinates (span.c)
     * when the set has fewer rows than the tower's inputs; SS_SPAN_OFF:
     * never (tests compare the two) */
    int span;
} ss_unroll;
enum { SS_SPAN_AUTO = 0, SS_SPAN_OFF = 1 };

/* Doubles of work ss_unroll_grad needs. */
int64_t ss_unroll_work_size(const ss_unroll *u);

/* The matching loss, returned, and its exact gradient through the steps
 * (reverse mode over the stored states, with a Hessian-vector product per
 * step): writes gx (n x image.in), gy, gsim (ss_sim_params doubles), geta
 * (2), all overwritten; gx and gy only on the rows some batch used, which
 * the caller zeroes first (the synthetic set may be large). With step_loss
 * (NULL: not wanted) the contrastive loss of each step; with theta_end the
 * student's final parameters. A loss that is not finite is returned as is,
 * the gradients then unspecified. */
double ss_unroll_grad(const subsel_ctx *ctx, const ss_unroll *u, double *gx,
                      double *gy, double *gsim, double *geta,
                      double *step_loss, double *theta_end, double *work);

/* ---- the handle ------------------------------------------------------------ */

/* Random streams of the handle's seed. */
#define SS_LORS_STREAM_EXPERT 0x10250000u /* + expert: its towers and batches */
#define SS_LORS_STREAM_DISTILL 0x1025D000u /* initial set, L, iterations */
#define SS_LORS_STREAM_EVAL 0x1025E000u   /* evaluation's towers, batches */
#define SS_LORS_STREAM_BASELINE 0x1025B000u

struct subsel_lors {
    SS_HANDLE_HEAD;
    int64_t image_dim, text_dim;
    int64_t seed;
    /* parameters (SUBSEL_P_LORS_*) */
    int64_t tower, embed_dim, learn_temperature, loss, similarity, rank;
    int64_t pairs, syn_steps, expert_epochs, max_start_epoch, batch, init;
    int64_t expert_batch, buffer_epochs, experts, eval_epochs, eval_batch;
    double temperature, beta, alpha, lr_image, lr_text, lr_sim, lr_lr;
    double momentum, expert_lr, eval_momentum, eval_weight_decay;
    /* the distilled set, once distillation has started (fixed then: the
     * model and the similarity's shape) */
    int started;
    ss_model model;
    ss_sim sim;
    double *x, *y, *sim_params; /* pairs x image_dim, pairs x text_dim */
    double eta[2];
    double *mom_x, *mom_y, *mom_sim, mom_eta[2]; /* SGD momentum buffers */
    int64_t iterations;
    double last_loss;
    ss_rng rng; /* the distillation stream, where it stands */
};

extern const ss_param_kind ss_lors_params;

/* The model the handle's parameters describe now. */
void ss_lors_model_of(const subsel_lors *l, ss_model *m);

/* The similarity the handle's parameters describe for n pairs. */
void ss_lors_sim_of(const subsel_lors *l, int64_t n, ss_sim *s);

/* Allocates the distilled set's arrays for the model and similarity set in
 * l->model / l->sim (zeroed); on failure frees what it allocated. */
int ss_lors_alloc_set(subsel_ctx *ctx, subsel_lors *l);

/* Frees the distilled set's arrays (NULL ones too). */
void ss_lors_free_set(subsel_lors *l);

/* A new handle with default parameters (ss_lors_create's checks). */
int ss_lors_alloc(subsel_ctx *ctx, int64_t image_dim, int64_t text_dim,
                  const char *fn, subsel_lors **out);

/* Rows of a dense matrix as doubles (rows x cols, allocated on ctx). */
int ss_lors_rows_double(subsel_ctx *ctx, const subsel_dense *m,
                        double **out);

/* Checks that images and texts are dense matrices of the handle's columns
 * with the same rows, at least `min_rows`, for function fn. */
int ss_lors_check_pairs(subsel_ctx *ctx, const subsel_lors *l,
                        const subsel_dense *images, const subsel_dense *texts,
                        int64_t min_rows, const char *fn);

/* Trains towers theta (the model's layout) for `epochs` epochs on the
 * pairs x (n x image.in), y, similarity `sim` with params sim_params (the
 * identity for SS_SIM_IDENTITY), with SGD: step sizes lr[2] per group,
 * momentum mu, weight decay wd, batches of `batch` pairs in a seeded order
 * (rng), the step divided by 10 from epoch `decay_epoch` on (-1: never).
 * When trajectory is non-NULL, copies theta there before the first epoch
 * and after each (epochs + 1 rows of m->params floats). With log (NULL:
 * none) one JSON line per epoch, its first fields `tag` (JSON text ending
 * in a comma, or ""). Progress: one report of stage after each epoch
 * (done0 + epoch, total). SUBSEL_E_NUMERIC, naming stage, on a loss that
 * is not finite. */
int ss_lors_train(subsel_ctx *ctx, const ss_model *m, double *theta,
                  int64_t n, const double *x, const double *y,
                  const ss_sim *sim, const double *sim_params,
                  int64_t epochs, int64_t batch, const double lr[2], double mu,
                  double wd, int64_t decay_epoch, ss_rng *rng,
                  float *trajectory, FILE *log, const char *tag,
                  const char *stage, int64_t done0, int64_t total);

/* A seeded random permutation of [0, n) into perm (Fisher-Yates). */
void ss_lors_shuffle(ss_rng *rng, int64_t n, int64_t *perm);

/* ---- expert trajectories -------------------------------------------------- */

/* meta.npy of a buffer folder (float64), in this order. */
enum { SS_BUF_FORMAT, SS_BUF_TOWER, SS_BUF_IMAGE_DIM, SS_BUF_TEXT_DIM,
       SS_BUF_EMBED_DIM, SS_BUF_LEARN_TEMPERATURE, SS_BUF_TEMPERATURE,
       SS_BUF_PARAMS, SS_BUF_EPOCHS, SS_BUF_EXPERTS, SS_BUF_COUNT };
#define SS_BUF_FORMAT_VERSION 1

/* Fills meta (SS_BUF_COUNT values) for trajectories of l's towers (model
 * m) and `experts` experts; returns SS_BUF_COUNT. */
int ss_lors_buffer_meta(const subsel_lors *l, const ss_model *m,
                        int64_t experts, double *meta);

/* The path of expert `expert`'s trajectory in dir. */
int ss_lors_expert_path(subsel_ctx *ctx, const char *dir, int64_t expert,
                        char *buf, size_t cap);

/* ---- evaluation ------------------------------------------------------------ */

/* Recall at 1, 5, 10 (out[3], fractions) of one retrieval direction:
 * queries q (nq x e) against items (ni x e) by inner product. Query a's
 * correct items are those t with owner[t] == a when owner is non-NULL;
 * else the one item target[a] (target non-NULL) or a. A query is a hit at
 * K when one of its items has fewer than K items scoring strictly higher
 * (ties count for the query). */
int ss_lors_recall(subsel_ctx *ctx, int64_t e, const double *q, int64_t nq,
                   const double *items, int64_t ni, const int64_t *owner,
                   const int64_t *target, double out[3]);

#endif
