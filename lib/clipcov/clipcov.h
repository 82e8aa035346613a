/* SPDX-License-Identifier: MIT */
/*
 * The ClipCov objective as the library sees it. The set function of the
 * paper (appendix A) splits into a modular part, one number m_i per pair
 * precomputed at construction, and one pairwise part per latent class:
 *
 *   F(S) = sum_{i in S} m_i - w_intra sum_k (aV_k . aL_k) / |V_k|
 *
 * where aV_k, aL_k are the sums of the image and caption embeddings of the
 * selected members of class k (running sums in the state). Every gain is
 * then O(d) with no pairwise matrix; see docs/clipcov.md for the derivation.
 * The files: clipcov.c (construction, weights, the set-function ops),
 * clipcov_classes.c (latent classes, zero-shot), clipcov_submodular.c
 * (proofs that the lazy greedy is valid), clipcov_select.c (the pipeline).
 */
#ifndef SS_OBJECTIVES_CLIPCOV_H
#define SS_OBJECTIVES_CLIPCOV_H

#include <stdint.h>

#include "core/options.h"
#include "objectives/objective.h"

/* Whether every within-class similarity is >= 0 (so F is submodular). */
#define SS_SIMS_UNKNOWN (-1)
#define SS_SIMS_NEGATIVE 0
#define SS_SIMS_NONNEGATIVE 1

typedef struct ss_clipcov {
    const subsel_dense *image;  /* n x d, retained */
    const subsel_dense *text;   /* n x d, retained */
    const subsel_dense *labels; /* K x d label embeddings, retained, or NULL */
    int64_t n, d, classes;
    int normalize;

    /* Per pair: the factor each row is used with (1/|x| when normalising,
     * else 1), and its latent class in [0, classes). */
    double *scale_v, *scale_l;
    int64_t *class_of;
    /* Labels given without label embeddings are mapped to dense classes,
     * ascending: class k stands for the user's label class_label[k] (the
     * classes are the distinct labels, however large or sparse their
     * numbers). NULL otherwise: class k is label k. */
    int64_t *class_label;
    /* Members of class k: members[class_start[k] .. class_start[k + 1]),
     * ascending. inv_size[k] = 1 / |V_k| (0 for an empty class). */
    int64_t *class_start, *members;
    double *inv_size;

    /* Per-pair components of the modular part (docs/clipcov.md):
     * intra_lin = (1/|V_k|) sum_{j in V_k} sim(i, j); inter = the class-mean
     * cross term of F_inter; label = x_L(i).y_k (1 - 1/|V_k|);
     * half_self = sim(i, i) / 2 = x_V(i).x_L(i). */
    double *intra_lin, *inter, *label, *half_self;
    double *modular; /* m_i under the current weights */

    /* The pool's averages behind the paper's alpha (appendix A.3, eq. 28):
     * the mean over all ordered pairs (i, j) of sim(i, j), and of
     * x_L(i).x_L(j); from the pool sums at construction (O(d)). */
    double mean_cross, mean_text;

    double weight[SUBSEL_CLIPCOV_TERM_COUNT];
    double alpha;
    int sims; /* SS_SIMS_* */
} ss_clipcov;

/* ClipCov's parameters (SUBSEL_P_CLIPCOV_WEIGHT_INTRA ...: objective.c;
 * weight[] and alpha above). */
extern const ss_param_kind ss_clipcov_params;

/* The ClipCov table (never submodular by default: the objective's own
 * flag says when it is, see ss_clipcov_refresh_submodular). */
extern const ss_objective_ops ss_clipcov_ops;

/* The ClipCov data of obj, or NULL with a SUBSEL_E_INVALID message. */
ss_clipcov *ss_clipcov_of(subsel_ctx *ctx, const subsel_objective *obj,
                          const char *caller);

/* Sets obj->submodular from what is known: submodular when w_intra = 0
 * (F is modular) or every within-class similarity is proven >= 0; the
 * optimizers then allow lazy evaluation. Called whenever either changes. */
void ss_clipcov_refresh_submodular(subsel_objective *obj);

/* Row i of the image / text embeddings (d floats). */
const float *ss_clipcov_image_row(const ss_clipcov *cc, int64_t i);
const float *ss_clipcov_text_row(const ss_clipcov *cc, int64_t i);

/* clipcov_classes.c: fills class_of (from `labels`, checked; without label
 * embeddings mapped to dense classes with class_label and `classes` set;
 * or zero-shot from the label embeddings), then class_start, members and
 * inv_size. */
int ss_clipcov_assign_classes(subsel_ctx *ctx, ss_clipcov *cc,
                              const int64_t *labels);

/* clipcov_submodular.c: the cone test, O(d) per pair, run class by class
 * during construction's pass over the embeddings. For class k:
 * ss_cone_start (with the class mean [mean of x_V | mean of x_L], 2d values,
 * and d doubles of scratch for the direction), ss_cone_add for each member,
 * then ss_cone_holds: 1 if it proves every within-class similarity >= 0. */
typedef struct ss_cone {
    double *u;   /* unit direction, or NULL when the test cannot tell */
    double widest_v, widest_l; /* largest angles to u so far */
    int64_t size;
} ss_cone;

void ss_cone_start(const ss_clipcov *cc, int64_t klass, const double *mean,
                   double *scratch, ss_cone *cone);
struct ss_kernels;
void ss_cone_add(const struct ss_kernels *k, const ss_clipcov *cc,
                 ss_cone *cone, int64_t i);
int ss_cone_holds(const ss_cone *cone);

/* The exact test: every within-class pair, block by block with BLIS, until
 * a negative similarity is found. Sets cc->sims to NONNEGATIVE or NEGATIVE. */
int ss_clipcov_exact_test(subsel_ctx *ctx, ss_clipcov *cc);

/* About 2 sum_k |V_k|^2 d: the multiply-adds of the exact test's two
 * products per block pair (saturating at INT64_MAX). */
int64_t ss_clipcov_exact_test_work(const ss_clipcov *cc);

#endif
