/* SPDX-License-Identifier: MIT */
/*
 * TAROT as the library sees it: the selector handle with its options and
 * its computed state (whitened unit rows, the cached neighbour lists), and
 * the stages the public calls are made of: projection (project.c),
 * whitening (whiten.c), blockwise scores and top-k (topk.c), OT between
 * sets (transport.c), fixed-size and OTM selection (select_fixed.c,
 * select_otm.c), and repetition weights (weights.c).
 */
#ifndef SS_TAROT_H
#define SS_TAROT_H

#include <stdint.h>

#include "core/handle.h"
#include "core/options.h"
#include "subsel.h"

/* Random streams (ss_rng_seed's stream number), distinct per purpose: row j
 * of the projection matrix uses SS_TAROT_STREAM_PROJ + j. */
#define SS_TAROT_STREAM_PROJ 0x7a70000000000000ULL
#define SS_TAROT_STREAM_FOLDS 0x7a6f000000000000ULL

/* Neighbour lists of some targets: idx[p * k + r] is the rank-r candidate
 * of the p-th target (best first, ties to the lower index), score[p * k + r]
 * its score. */
typedef struct ss_tarot_lists {
    int64_t k;
    int64_t *idx;
    float *score;
} ss_tarot_lists;

/* The TAROT selector's parameters (SUBSEL_P_TAROT_PROJ_DIM ...: tarot.c). */
extern const ss_param_kind ss_tarot_params;

struct subsel_tarot {
    SS_HANDLE_HEAD;
    const subsel_dense *cand, *targ; /* retained */
    int64_t n, m, cols;

    /* options */
    int64_t proj_dim, proj_kind, proj_block, whiten, center, reference,
        max_rank, potentials, ot_memory;
    double eps, blur, scaling;

    /* whitened unit rows, n x dim and m x dim, and their squared norms (1,
     * or 0 for a zero row): v once whitened (NULL before); u only when the
     * rows are projected or a view of them was asked for, else NULL (the
     * candidates are whitened when needed: ss_tarot_cand_rows) */
    int64_t dim;
    float *u, *v;
    float *u_sq, *v_sq;
    /* the whitening of unprojected rows (NULL otherwise): the joint mean
     * (zero when not centred) and the factor, dim x dim (L for Cholesky,
     * C^-1/2 for ZCA, NULL for none) */
    double *mean, *factor;

    /* neighbour lists of every target (cache.k == 0: none yet) */
    ss_tarot_lists cache;
};

/* rows x cols, the size of an output buffer, saturating at INT64_MAX (no
 * capacity holds that many) instead of overflowing. */
static inline int64_t ss_tarot_cells(int64_t rows, int64_t cols)
{
    return rows > 0 && cols > INT64_MAX / rows ? INT64_MAX : rows * cols;
}

/* The input-column chunks of a projection of `cols` columns: its progress
 * counts them (stage "project"). */
int64_t ss_tarot_project_chunks(int64_t cols);

/* The scratch bytes ss_tarot_project_rows allocates for a projection of
 * `cols` columns to `dim` with `block` on `threads` threads (in double:
 * never overflows). */
double ss_tarot_project_scratch_bytes(int64_t cols, int64_t dim,
                                      int64_t block, int threads);

/* Projects rows [0, rows) of x (stride ld) to dim columns into out
 * (rows x dim). Used by subsel_tarot_project and the whitening stage.
 * Progress: stage "project" at done0 + chunks done out of `total` after
 * each block of chunks (the caller reports the stage's 0). */
int ss_tarot_project_rows(subsel_ctx *ctx, const float *x, int64_t ld,
                          int64_t rows, int64_t cols, int64_t dim, int kind,
                          int64_t block, int64_t done0, int64_t total,
                          float *out);

/* Whitens, if not done yet: the targets (t->v, t->v_sq), and either the
 * candidates (t->u, t->u_sq: projected rows) or what whitens them when
 * needed (t->mean, t->factor). */
int ss_tarot_whiten(subsel_ctx *ctx, subsel_tarot *t);

/* The whitened candidates set[0..count) (first .. first + count when set
 * is NULL) into out (count x dim) and their squared norms into sq (may be
 * NULL), the same bits however they are grouped. Needs ss_tarot_whiten. */
int ss_tarot_cand_rows(subsel_ctx *ctx, const subsel_tarot *t,
                       const int64_t *set, int64_t first, int64_t count,
                       float *out, float *sq);

/* For the targets list[0..count) (NULL: all, count = m), their k best
 * candidates, best first, ties to the lower index: idx[p * k + r] and
 * score[p * k + r] (score may be NULL). Progress under `stage` if not NULL.
 * Needs whitened rows. */
int ss_tarot_topk_targets(subsel_ctx *ctx, const subsel_tarot *t,
                          const int64_t *list, int64_t count, int64_t k,
                          int64_t *idx, float *score, const char *stage);

/* Replaces `lists` (arrays from allocator `a`) by the k-rank lists of the
 * targets list[0..count) (NULL: all, count = m): copied from the selector's
 * cache when it is deep enough, else computed. `lists` is unchanged on
 * failure. The cache uses the selector's allocator, scratch lists the
 * context's. */
int ss_tarot_lists_make(subsel_ctx *ctx, const subsel_tarot *t,
                        const ss_allocator *a, const int64_t *list,
                        int64_t count, int64_t k, ss_tarot_lists *lists,
                        const char *stage);
void ss_tarot_lists_free(const ss_allocator *a, ss_tarot_lists *lists);

/* Makes the cache hold at least `k` ranks (k <= n) of every target. */
int ss_tarot_cache_topk(subsel_ctx *ctx, subsel_tarot *t, int64_t k,
                        const char *stage);

/* Whitens every candidate row and keeps them on the selector (t->u,
 * t->u_sq; at once if kept already), for a view or for a stage that reads
 * them many times. ss_tarot_drop_cand_rows frees them (unprojected
 * selectors only: nothing else could whiten them again). */
int ss_tarot_keep_cand_rows(subsel_ctx *ctx, subsel_tarot *t);
void ss_tarot_drop_cand_rows(subsel_tarot *t);

/* Gathers rows set[0..count) of `rows` (`dim` columns) into out
 * (count x dim). */
void ss_tarot_gather(const float *rows, int64_t dim, const int64_t *set,
                     int64_t count, float *out);

/* OT(x rows, y rows) with the selector's blur and scaling: potentials f
 * (nx), g (ny) (either may be NULL) and loss. */
int ss_tarot_ot_rows(subsel_ctx *ctx, const subsel_tarot *t, const float *x,
                     int64_t nx, const float *y, int64_t ny, double *f,
                     double *g, double *loss);

/* The same, row i of x being candidate ids[i], whose costs against y the
 * cache (lib/ot's ss_ot_row_cache, for this y) keeps across solves. */
struct ss_ot_row_cache;
int ss_tarot_ot_rows_cached(subsel_ctx *ctx, const subsel_tarot *t,
                            const float *x, int64_t nx, const int64_t *ids,
                            struct ss_ot_row_cache *cache, const float *y,
                            int64_t ny, double *f, double *g, double *loss);

/* Turns the chosen items into a selection: with the POTENTIALS option, the
 * gains are the items' potentials in OT(items, targets) and the value that
 * OT distance; otherwise NaN. `solves` counts the OT solves made. */
int ss_tarot_finish(subsel_ctx *ctx, const subsel_tarot *t,
                    const int64_t *items, int64_t count, int64_t solves,
                    subsel_selection **out);

#endif
