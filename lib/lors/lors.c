/* SPDX-License-Identifier: MIT */
/*
 * The LoRS handle: its parameters (one table, read by the library-wide
 * parameter functions), creation and release, what the distilled set
 * exposes, and the small pieces the other files share (input checks,
 * shuffling).
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "lors/lors.h"
#include "matrix/matrix.h"

#define LO subsel_lors
/* Parameters that shape the distilled set or the model it was matched
 * with: fixed once distillation has started. */
#define FIXED_AFTER_START 1

static const ss_param lors_params[] = {
    SS_PARAM_INT(SUBSEL_P_LORS_TOWER, 0, "tower", LO, tower,
                 SUBSEL_LORS_TOWER_LINEAR, SUBSEL_LORS_TOWER_HEAD,
                 SUBSEL_LORS_TOWER_HEAD, FIXED_AFTER_START,
                 "towers: 0 a linear map, 1 the LoRS projection head"),
    SS_PARAM_INT(SUBSEL_P_LORS_EMBED_DIM, 0, "embed_dim", LO, embed_dim, 1,
                 65536, 256, FIXED_AFTER_START,
                 "dimension e of the joint embedding space"),
    SS_PARAM_REAL(SUBSEL_P_LORS_TEMPERATURE, 0, "temperature", LO,
                  temperature, 0.0, INFINITY, 0.07,
                  SUBSEL_BOUND_OPEN_MIN | SUBSEL_BOUND_OPEN_MAX,
                  FIXED_AFTER_START,
                  "temperature tau of the cosine logits (the initial one "
                  "when learned)"),
    SS_PARAM_INT(SUBSEL_P_LORS_LEARN_TEMPERATURE, 0, "learn_temperature", LO,
                 learn_temperature, 0, 1, 0, FIXED_AFTER_START,
                 "1: the temperature is a trained parameter of the towers"),
    SS_PARAM_INT(SUBSEL_P_LORS_LOSS, 0, "loss", LO, loss,
                 SUBSEL_LORS_LOSS_INFONCE, SUBSEL_LORS_LOSS_WBCE,
                 SUBSEL_LORS_LOSS_WBCE, 0,
                 "contrastive loss: 0 InfoNCE, 1 eNCE, 2 BCE, 3 weighted BCE"),
    SS_PARAM_REAL(SUBSEL_P_LORS_BETA, 0, "beta", LO, beta, -INFINITY,
                  INFINITY, 0.5, SUBSEL_BOUND_OPEN_MIN | SUBSEL_BOUND_OPEN_MAX,
                  0, "weighted BCE: similarities above it are positives"),
    SS_PARAM_INT(SUBSEL_P_LORS_SIMILARITY, 0, "similarity", LO, similarity,
                 SUBSEL_LORS_SIM_IDENTITY, SUBSEL_LORS_SIM_FULL,
                 SUBSEL_LORS_SIM_LOWRANK, FIXED_AFTER_START,
                 "learned similarity: 0 none (S = I), 1 low rank, 2 full"),
    SS_PARAM_INT(SUBSEL_P_LORS_RANK, 0, "rank", LO, rank, 1, 1 << 20, 10,
                 FIXED_AFTER_START, "rank r of the low-rank similarity"),
    SS_PARAM_REAL(SUBSEL_P_LORS_ALPHA, 0, "alpha", LO, alpha, 0.0, INFINITY,
                  1.0, SUBSEL_BOUND_OPEN_MAX, FIXED_AFTER_START,
                  "alpha of S = diag(w) + (alpha/r) L R^T"),
    SS_PARAM_INT(SUBSEL_P_LORS_PAIRS, 0, "pairs", LO, pairs, 1, 1 << 24, 100,
                 FIXED_AFTER_START, "synthetic pairs"),
    SS_PARAM_INT(SUBSEL_P_LORS_SYN_STEPS, 0, "syn_steps", LO, syn_steps, 1,
                 1 << 16, 8, 0, "student steps T per iteration"),
    SS_PARAM_INT(SUBSEL_P_LORS_EXPERT_EPOCHS, 0, "expert_epochs", LO,
                 expert_epochs, 1, 1 << 20, 1, 0,
                 "M: the target is the expert M epochs after the start"),
    SS_PARAM_INT(SUBSEL_P_LORS_MAX_START_EPOCH, 0, "max_start_epoch", LO,
                 max_start_epoch, 1, 1 << 20, 2, 0,
                 "start epochs are drawn from [0, max_start_epoch)"),
    SS_PARAM_INT(SUBSEL_P_LORS_BATCH, 0, "batch", LO, batch, 1, 1 << 20, 20,
                 0, "synthetic pairs per student step"),
    SS_PARAM_REAL(SUBSEL_P_LORS_LR_IMAGE, 0, "lr_image", LO, lr_image, 0.0,
                  INFINITY, 1.0, SUBSEL_BOUND_OPEN_MAX, 0,
                  "learning rate of the synthetic image embeddings"),
    SS_PARAM_REAL(SUBSEL_P_LORS_LR_TEXT, 0, "lr_text", LO, lr_text, 0.0,
                  INFINITY, 1.0, SUBSEL_BOUND_OPEN_MAX, 0,
                  "learning rate of the synthetic text embeddings"),
    SS_PARAM_REAL(SUBSEL_P_LORS_LR_SIM, 0, "lr_sim", LO, lr_sim, 0.0,
                  INFINITY, 1.0, SUBSEL_BOUND_OPEN_MAX, 0,
                  "learning rate of w, L, R (or the full similarity)"),
    SS_PARAM_REAL(SUBSEL_P_LORS_LR_LR, 0, "lr_lr", LO, lr_lr, 0.0, INFINITY,
                  1e-5, SUBSEL_BOUND_OPEN_MAX, 0,
                  "learning rate of the student's step sizes eta"),
    SS_PARAM_REAL(SUBSEL_P_LORS_MOMENTUM, 0, "momentum", LO, momentum, 0.0,
                  1.0, 0.5, SUBSEL_BOUND_OPEN_MAX, 0,
                  "momentum of the synthetic set's SGD"),
    SS_PARAM_INT(SUBSEL_P_LORS_INIT, 0, "init", LO, init,
                 SUBSEL_LORS_INIT_REAL, SUBSEL_LORS_INIT_NOISE,
                 SUBSEL_LORS_INIT_REAL, FIXED_AFTER_START,
                 "synthetic pairs start as 0 random real pairs, 1 noise"),
    SS_PARAM_REAL(SUBSEL_P_LORS_EXPERT_LR, 0, "expert_lr", LO, expert_lr,
                  0.0, INFINITY, 0.1,
                  SUBSEL_BOUND_OPEN_MIN | SUBSEL_BOUND_OPEN_MAX, 0,
                  "SGD step of the experts, and the initial eta"),
    SS_PARAM_INT(SUBSEL_P_LORS_EXPERT_BATCH, 0, "expert_batch", LO,
                 expert_batch, 1, 1 << 24, 128, 0,
                 "real pairs per expert step"),
    SS_PARAM_INT(SUBSEL_P_LORS_BUFFER_EPOCHS, 0, "buffer_epochs", LO,
                 buffer_epochs, 1, 1 << 20, 10, 0,
                 "epochs each expert trains (its trajectory's length)"),
    SS_PARAM_INT(SUBSEL_P_LORS_EXPERTS, 0, "experts", LO, experts, 1,
                 1 << 20, 20, 0, "expert trajectories to train"),
    SS_PARAM_INT(SUBSEL_P_LORS_EVAL_EPOCHS, 0, "eval_epochs", LO,
                 eval_epochs, 1, 1 << 24, 10, 0,
                 "epochs of training in evaluation"),
    SS_PARAM_INT(SUBSEL_P_LORS_EVAL_BATCH, 0, "eval_batch", LO, eval_batch,
                 1, 1 << 24, 20, 0, "pairs per step in evaluation"),
    SS_PARAM_REAL(SUBSEL_P_LORS_EVAL_MOMENTUM, 0, "eval_momentum", LO,
                  eval_momentum, 0.0, 1.0, 0.0, SUBSEL_BOUND_OPEN_MAX, 0,
                  "SGD momentum in evaluation"),
    SS_PARAM_REAL(SUBSEL_P_LORS_EVAL_WEIGHT_DECAY, 0, "eval_weight_decay", LO,
                  eval_weight_decay, 0.0, INFINITY, 0.0,
                  SUBSEL_BOUND_OPEN_MAX, 0, "SGD weight decay in evaluation"),
};

static int lors_may_set(subsel_ctx *ctx, const void *handle,
                        const ss_param *p, const char *fn)
{
    const subsel_lors *l = handle;
    if ((p->flags & FIXED_AFTER_START) && l->started)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "%s: '%s' is fixed once distillation has started", fn,
                       p->name);
    return SUBSEL_OK;
}

const ss_param_kind ss_lors_params = {
    SUBSEL_KIND_LORS, "LoRS distiller", SS_KIND_LORS, NULL,
    SS_PARAMS(lors_params), NULL, lors_may_set, NULL,
};

void ss_lors_model_of(const subsel_lors *l, ss_model *m)
{
    memset(m, 0, sizeof *m);
    m->image.kind = m->text.kind = (int)l->tower;
    m->image.in = l->image_dim;
    m->text.in = l->text_dim;
    m->image.out = m->text.out = l->embed_dim;
    m->loss = (int)l->loss;
    m->beta = l->beta;
    m->learn_scale = (int)l->learn_temperature;
    m->scale = log(1.0 / l->temperature);
    ss_model_sizes(m);
}

void ss_lors_sim_of(const subsel_lors *l, int64_t n, ss_sim *s)
{
    s->kind = (int)l->similarity;
    s->n = n;
    s->rank = l->rank;
    s->alpha = l->alpha;
}

/* The distilled set's arrays, in one list for allocation and release. */
#define SET_ARRAYS(l)                                                          \
    { &(l)->x, &(l)->y, &(l)->sim_params, &(l)->mom_x, &(l)->mom_y,            \
      &(l)->mom_sim }

void ss_lors_free_set(subsel_lors *l)
{
    double **arrays[] = SET_ARRAYS(l);
    size_t i;
    for (i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        ss_free_raw(&l->alloc, *arrays[i]);
        *arrays[i] = NULL;
    }
}

int ss_lors_alloc_set(subsel_ctx *ctx, subsel_lors *l)
{
    double **arrays[] = SET_ARRAYS(l);
    int64_t n = l->sim.n, sp = ss_sim_params(&l->sim);
    int64_t counts[] = {n * l->image_dim, n * l->text_dim, sp,
                        n * l->image_dim, n * l->text_dim, sp};
    size_t i;
    int rc = SUBSEL_OK;
    for (i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        SS_TRY(ss_alloc_with(ctx, &l->alloc, counts[i], sizeof(double),
                             arrays[i]));
    for (i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        memset(*arrays[i], 0, sizeof(double) * (size_t)counts[i]);
    return SUBSEL_OK;
cleanup:
    ss_lors_free_set(l);
    return rc;
}

int ss_lors_alloc(subsel_ctx *ctx, int64_t image_dim, int64_t text_dim,
                  const char *fn, subsel_lors **out)
{
    subsel_lors *l = NULL;
    *out = NULL;
    if (image_dim < 1 || text_dim < 1 || image_dim > (1 << 24) ||
        text_dim > (1 << 24))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: image_dim %lld and text_dim %lld must be in "
                       "[1, 2^24]",
                       fn, (long long)image_dim, (long long)text_dim);
    SS_CHECK(ss_calloc_array(ctx, 1, sizeof *l, &l));
    ss_handle_init(l, SS_KIND_LORS, &ctx->alloc);
    ss_param_defaults(&ss_lors_params, l);
    l->image_dim = image_dim;
    l->text_dim = text_dim;
    l->seed = ctx->seed;
    l->last_loss = NAN;
    ss_rng_seed(&l->rng, (uint64_t)l->seed, SS_LORS_STREAM_DISTILL);
    *out = l;
    return SUBSEL_OK;
}

int subsel_lors_create(subsel_ctx *ctx, int64_t image_dim, int64_t text_dim,
                       subsel_lors **out)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    return ss_lors_alloc(ctx, image_dim, text_dim, __func__, out);
}

void subsel_lors_free(subsel_lors *l)
{
    ss_allocator a;
    if (!ss_handle_release(l, SS_KIND_LORS, __func__))
        return;
    a = l->alloc;
    ss_lors_free_set(l);
    ss_free_raw(&a, l);
}

/* ---- what the distilled set exposes ------------------------------------ */

#define REQUIRE_LORS(ctx, l) SS_REQUIRE_KIND(ctx, l, SS_KIND_LORS)

static int require_set(subsel_ctx *ctx, const subsel_lors *l, const char *fn)
{
    if (!l->started)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "%s: nothing is distilled yet (run "
                       "subsel_lors_distill or load a saved set)",
                       fn);
    return SUBSEL_OK;
}

int64_t subsel_lors_iterations(const subsel_lors *l)
{
    return ss_handle_is(l, SS_KIND_LORS) ? l->iterations : -1;
}

int subsel_lors_last_loss(subsel_ctx *ctx, const subsel_lors *l, double *loss)
{
    SS_REQUIRE_CTX(ctx);
    REQUIRE_LORS(ctx, l);
    SS_REQUIRE_NONNULL(ctx, loss);
    *loss = l->last_loss;
    return SUBSEL_OK;
}

int subsel_lors_synthetic(subsel_ctx *ctx, const subsel_lors *l,
                          float *images, float *texts)
{
    int64_t i;
    SS_REQUIRE_CTX(ctx);
    REQUIRE_LORS(ctx, l);
    SS_CHECK(require_set(ctx, l, __func__));
    if (images)
        for (i = 0; i < l->sim.n * l->image_dim; i++)
            images[i] = (float)l->x[i];
    if (texts)
        for (i = 0; i < l->sim.n * l->text_dim; i++)
            texts[i] = (float)l->y[i];
    return SUBSEL_OK;
}

int subsel_lors_similarity(subsel_ctx *ctx, const subsel_lors *l,
                           float *similarity)
{
    int64_t n, i;
    double *row = NULL;
    int rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    REQUIRE_LORS(ctx, l);
    SS_REQUIRE_NONNULL(ctx, similarity);
    SS_CHECK(require_set(ctx, l, __func__));
    n = l->sim.n;
    SS_TRY(ss_alloc_array(ctx, n, sizeof *row, &row));
    for (i = 0; i < n; i++) {
        int64_t j;
        ss_sim_row(&l->sim, l->sim_params, i, row);
        for (j = 0; j < n; j++)
            similarity[i * n + j] = (float)row[j];
    }
cleanup:
    ss_free(ctx, row);
    return rc;
}

int subsel_lors_eta(subsel_ctx *ctx, const subsel_lors *l, double *eta_image,
                    double *eta_text)
{
    SS_REQUIRE_CTX(ctx);
    REQUIRE_LORS(ctx, l);
    SS_CHECK(require_set(ctx, l, __func__));
    if (eta_image)
        *eta_image = l->eta[0];
    if (eta_text)
        *eta_text = l->eta[1];
    return SUBSEL_OK;
}

/* ---- shared pieces -------------------------------------------------------- */

int ss_lors_check_pairs(subsel_ctx *ctx, const subsel_lors *l,
                        const subsel_dense *images, const subsel_dense *texts,
                        int64_t min_rows, const char *fn)
{
    SS_CHECK(ss_handle_check(ctx, images, SS_KIND_DENSE, fn, "images"));
    SS_CHECK(ss_handle_check(ctx, texts, SS_KIND_DENSE, fn, "texts"));
    if (images->cols != l->image_dim || texts->cols != l->text_dim)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: the pairs have %lld image and %lld text columns "
                       "but the handle was made for %lld and %lld",
                       fn, (long long)images->cols, (long long)texts->cols,
                       (long long)l->image_dim, (long long)l->text_dim);
    if (images->rows != texts->rows)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %lld image rows but %lld text rows: row i of "
                       "each makes pair i",
                       fn, (long long)images->rows, (long long)texts->rows);
    if (images->rows < min_rows)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %lld pairs, fewer than the %lld needed", fn,
                       (long long)images->rows, (long long)min_rows);
    return SUBSEL_OK;
}

int ss_lors_rows_double(subsel_ctx *ctx, const subsel_dense *m, double **out)
{
    int64_t r, c;
    double *d;
    SS_CHECK(ss_alloc_array(ctx, m->rows * m->cols, sizeof *d, &d));
    for (r = 0; r < m->rows; r++) {
        const float *row = ss_dense_row(m, r);
        for (c = 0; c < m->cols; c++)
            d[r * m->cols + c] = row[c];
    }
    *out = d;
    return SUBSEL_OK;
}

void ss_lors_shuffle(ss_rng *rng, int64_t n, int64_t *perm)
{
    int64_t i;
    for (i = 0; i < n; i++)
        perm[i] = i;
    for (i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)ss_rng_below(rng, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
