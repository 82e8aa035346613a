/* SPDX-License-Identifier: MIT */
/*
 * The trainer handle: creation with its initial weights, the parameter
 * table, the per-step buffers, the public step, the losses and the
 * encoder and decoder it hands out, release.
 *
 * Initial weights (the paper is silent; OpenAI's TopK SAEs): W_enc's rows
 * are random directions of unit norm (Gaussian, normalised), W_dec = W_enc
 * transposed (so every decoder column starts at unit norm), b_enc = 0, and
 * b_dec is set from the first batch: its mean, or its geometric median
 * (SUBSEL_P_SAE_B_DEC_INIT).
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "linalg/tiles.h"
#include "matrix/matrix.h"
#include "sae_train/trainer.h"

/* The public loss numbers are the internal ones. */
typedef char losses_match[(SUBSEL_SAE_LOSSES == SS_LOSS_COUNT &&
                           SUBSEL_SAE_LOSS_MONO == SS_LOSS_MONO &&
                           SUBSEL_SAE_LOSS_AUX == SS_LOSS_AUX)
                              ? 1
                              : -1];

/* ---- parameters -------------------------------------------------------- */

#define TR subsel_sae_trainer
/* Parameters that size the buffers or the reservoir: fixed once training
 * has started. */
#define FIXED_AFTER_START 1

static const ss_param trainer_params[] = {
    SS_PARAM_INT(SUBSEL_P_SAE_K, 0, "k", TR, k, 1, INT32_MAX, 128,
                 FIXED_AFTER_START,
                 "latents kept per row (TopK), at most the latents"),
    SS_PARAM_REAL(SUBSEL_P_SAE_LR, 0, "lr", TR, lr, 0.0, INFINITY, 2e-4,
                  SUBSEL_BOUND_OPEN_MIN | SUBSEL_BOUND_OPEN_MAX, 0, "Adam's learning rate"),
    SS_PARAM_REAL(SUBSEL_P_SAE_BETA1, 0, "beta1", TR, beta1, 0.0, 1.0, 0.9,
                  SUBSEL_BOUND_OPEN_MAX, 0, "Adam's first-moment decay"),
    SS_PARAM_REAL(SUBSEL_P_SAE_BETA2, 0, "beta2", TR, beta2, 0.0, 1.0, 0.999,
                  SUBSEL_BOUND_OPEN_MAX, 0, "Adam's second-moment decay"),
    SS_PARAM_REAL(SUBSEL_P_SAE_EPS, 0, "eps", TR, eps, 0.0, 1.0, 1e-8,
                  SUBSEL_BOUND_OPEN_MIN, 0, "Adam's denominator term"),
    SS_PARAM_REAL(SUBSEL_P_SAE_L_RECONS, 0, "l_recons", TR, l_recons, 0.0,
                  INFINITY, 1.0, SUBSEL_BOUND_OPEN_MAX, 0,
                  "weight of the reconstruction loss (lambda_1)"),
    SS_PARAM_REAL(SUBSEL_P_SAE_L_MONO, 0, "l_mono", TR, l_mono, 0.0,
                  INFINITY, 0.002, SUBSEL_BOUND_OPEN_MAX, 0,
                  "weight of the monotonicity loss (lambda_2); 0: none"),
    SS_PARAM_REAL(SUBSEL_P_SAE_L_ACT, 0, "l_act", TR, l_act, 0.0, INFINITY,
                  1e-10, SUBSEL_BOUND_OPEN_MAX, 0,
                  "weight of the activity regulariser (lambda_3)"),
    SS_PARAM_INT(SUBSEL_P_SAE_SET_SIZE, 0, "set_size", TR, set_size, 2,
                 (int64_t)1 << 20, 128, FIXED_AFTER_START,
                 "rows of the sets E and M of the monotonicity loss"),
    SS_PARAM_INT(SUBSEL_P_SAE_RESERVOIR, 0, "reservoir", TR, reservoir_size,
                 2, (int64_t)1 << 32, 50000, FIXED_AFTER_START,
                 "past inputs sampled for M's nearest neighbours"),
    SS_PARAM_INT(SUBSEL_P_SAE_AUXK, 0, "auxk", TR, auxk, 0, INT32_MAX, 0,
                 FIXED_AFTER_START,
                 "dead latents the AuxK loss decodes per row; 0: no AuxK"),
    SS_PARAM_REAL(SUBSEL_P_SAE_AUX_COEF, 0, "aux_coef", TR, aux_coef, 0.0,
                  INFINITY, 1.0 / 32.0, SUBSEL_BOUND_OPEN_MAX, 0, "weight of the AuxK loss"),
    SS_PARAM_INT(SUBSEL_P_SAE_DEAD_ROWS, 0, "dead_rows", TR, dead_rows, 1,
                 INT64_MAX, 10000000, 0,
                 "rows without firing after which a latent counts as dead"),
    SS_PARAM_INT(SUBSEL_P_SAE_BATCH, 0, "batch", TR, batch, 1,
                 (int64_t)1 << 24, 4096, 0,
                 "rows per step of subsel_sae_trainer_fit"),
    SS_PARAM_INT(SUBSEL_P_SAE_B_DEC_INIT, 0, "b_dec_init", TR, b_dec_init,
                 SUBSEL_SAE_INIT_MEAN, SUBSEL_SAE_INIT_GEOMETRIC_MEDIAN,
                 SUBSEL_SAE_INIT_GEOMETRIC_MEDIAN, 0,
                 "b_dec from the first batch: 0 its mean, 1 its geometric "
                 "median"),
    SS_PARAM_INT(SUBSEL_P_SAE_CHECKPOINT_STEPS, 0, "checkpoint_steps", TR,
                 checkpoint_steps, 0, INT64_MAX, 0, 0,
                 "fit: save a checkpoint every so many steps; 0: after each "
                 "epoch only"),
};

static int trainer_may_set(subsel_ctx *ctx, const void *handle,
                           const ss_param *p, const char *fn)
{
    const subsel_sae_trainer *t = handle;
    if ((p->flags & FIXED_AFTER_START) && t->step > 0)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "%s: '%s' is fixed once training has started", fn,
                       p->name);
    if (p->id == SUBSEL_P_SAE_BATCH && t->epoch_batch > 0)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "%s: 'batch' cannot change in the middle of an epoch "
                       "(its position is counted in batches)",
                       fn);
    return SUBSEL_OK;
}

const ss_param_kind ss_sae_trainer_params = {
    SUBSEL_KIND_SAE_TRAINER, "SAE trainer", SS_KIND_SAE_TRAINER, NULL,
    SS_PARAMS(trainer_params), NULL, trainer_may_set, NULL,
};

/* ---- buffers ----------------------------------------------------------- */

void ss_sae_buffers_free(const ss_allocator *a, ss_sae_buffers *b)
{
    void *blocks[] = {b->xc, b->act, b->g, b->dh, b->idx, b->val, b->cnt,
                      b->g_aux, b->dh_aux, b->val_aux, b->aux_row, b->idx_aux,
                      b->cnt_aux, b->m_x, b->m_xc, b->m_act, b->m_dh,
                      b->m_val, b->m_idx, b->m_cnt, b->e_rows, b->pick,
                      b->m_sum_e, b->m_sum_m, b->dist, b->sum_x, b->row_loss,
                      b->nn, b->start, b->entry, b->gb_enc, b->rowbuf,
                      b->resbuf, b->gb_dec};
    size_t i;
    for (i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        ss_free_raw(a, blocks[i]);
    ss_sae_scratch_free(a, &b->scratch);
    ss_sae_scratch_free(a, &b->aux_scratch);
    memset(b, 0, sizeof *b);
}

/* What the trainer keeps goes through its own allocator (a later call may
 * pass another context); failures are recorded on ctx. */
#define ALLOC(ptr, count)                                                      \
    SS_TRY(ss_alloc_with(ctx, &t->alloc, (count), sizeof *(ptr), &(ptr)))
#define CALLOC(ptr, count)                                                     \
    do {                                                                       \
        ALLOC(ptr, count);                                                     \
        memset((ptr), 0, (size_t)(count) * sizeof *(ptr));                    \
    } while (0)

int ss_sae_buffers_reserve(subsel_ctx *ctx, subsel_sae_trainer *t,
                           int64_t rows)
{
    ss_sae_buffers *b = &t->buf;
    const int64_t d = t->inputs, L = t->features, k = t->k;
    const int64_t ak = t->auxk > 0 ? t->auxk : 1;
    const int64_t s = t->set_size, mono = t->l_mono > 0.0;
    int64_t slots;
    int threads = ss_threads_for(ctx, L);
    int rc = SUBSEL_OK;
    /* kept while large enough, for the same threads, with the L_mono
     * buffers if l_mono (which may change between steps) needs them */
    if (b->rows >= rows && b->threads == threads && (!mono || b->m_x != NULL))
        return SUBSEL_OK;
    ss_sae_buffers_free(&t->alloc, b);
    if (rows > INT64_MAX / (L > d ? L : d) / 4)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer: a batch of %lld rows overflows "
                       "its buffers",
                       (long long)rows);
    slots = rows * k + s * k + (t->auxk > 0 ? rows * ak : 0);
    b->threads = threads;
    ALLOC(b->xc, rows * d);
    ALLOC(b->act, rows * L);
    ALLOC(b->g, rows * d);
    ALLOC(b->dh, rows * k);
    ALLOC(b->idx, rows * k);
    ALLOC(b->val, rows * k);
    ALLOC(b->cnt, rows);
    ALLOC(b->row_loss, 3 * rows);
    if (t->auxk > 0) {
        ALLOC(b->g_aux, rows * d);
        ALLOC(b->dh_aux, rows * ak);
        ALLOC(b->val_aux, rows * ak);
        ALLOC(b->idx_aux, rows * ak);
        ALLOC(b->cnt_aux, rows);
        ALLOC(b->aux_row, (int64_t)threads * L);
        SS_TRY(ss_sae_scratch_alloc(ctx, &t->alloc, L, ak, threads,
                                    &b->aux_scratch));
    }
    if (mono) {
        ALLOC(b->m_x, s * d);
        ALLOC(b->m_xc, s * d);
        ALLOC(b->m_act, s * L);
        ALLOC(b->m_dh, s * k);
        ALLOC(b->m_val, s * k);
        ALLOC(b->m_idx, s * k);
        ALLOC(b->m_cnt, s);
        ALLOC(b->e_rows, s);
        ALLOC(b->pick, rows);
        CALLOC(b->m_sum_e, L);
        CALLOC(b->m_sum_m, L);
        ALLOC(b->dist, t->reservoir_size);
        ALLOC(b->nn, s);
    }
    ALLOC(b->sum_x, d);
    ALLOC(b->start, L + 1);
    ALLOC(b->entry, slots);
    ALLOC(b->gb_enc, L);
    ALLOC(b->gb_dec, d);
    ALLOC(b->rowbuf, (int64_t)threads * 2 * d);
    ALLOC(b->resbuf, (int64_t)threads * 2 * d);
    SS_TRY(ss_sae_scratch_alloc(ctx, &t->alloc, L, k,
                                ss_threads_for(ctx, rows), &b->scratch));
    if (mono && t->res.rows == NULL) {
        /* both or neither: a failure leaves the reservoir unallocated */
        float *rows_ = NULL;
        int64_t *ids_ = NULL;
        ALLOC(rows_, t->reservoir_size * d);
        rc = ss_alloc_with(ctx, &t->alloc, t->reservoir_size, sizeof *ids_,
                           &ids_);
        if (rc < 0) {
            ss_free_raw(&t->alloc, rows_);
            goto cleanup;
        }
        t->res.rows = rows_;
        t->res.ids = ids_;
        t->res.capacity = t->reservoir_size;
    }
    b->rows = rows;
    return SUBSEL_OK;
cleanup:
    ss_sae_buffers_free(&t->alloc, b);
    return rc;
}

/* ---- the handle -------------------------------------------------------- */

ss_sae_weights ss_sae_trainer_weights(const subsel_sae_trainer *t)
{
    ss_sae_weights w;
    w.features = t->features;
    w.inputs = t->inputs;
    w.w_enc = t->w_enc;
    w.w_ld = t->inputs;
    w.b_enc = t->b_enc;
    w.b_dec = t->b_dec;
    return w;
}

/* Points the weight names into theta. */
static void place_weights(subsel_sae_trainer *t)
{
    const int64_t Ld = t->features * t->inputs;
    t->w_enc = t->theta;
    t->w_dec = t->theta + Ld;
    t->b_enc = t->theta + 2 * Ld;
    t->b_dec = t->theta + 2 * Ld + t->features;
}

int ss_sae_trainer_alloc(subsel_ctx *ctx, int64_t inputs, int64_t features,
                         const char *fn, subsel_sae_trainer **out)
{
    subsel_sae_trainer *t = NULL;
    int rc = SUBSEL_OK;
    *out = NULL;
    if (inputs < 1 || features < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %lld inputs and %lld latents: both must be at "
                       "least 1",
                       fn, (long long)inputs, (long long)features);
    if (features > INT32_MAX)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %lld latents do not fit the int32 column indices "
                       "of the codes",
                       fn, (long long)features);
    if (inputs > (INT64_MAX / 4 - features) / (2 * features + 1))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %lld inputs x %lld latents overflow", fn,
                       (long long)inputs, (long long)features);
    SS_TRY(ss_calloc_array(ctx, 1, sizeof *t, &t));
    ss_handle_init(t, SS_KIND_SAE_TRAINER, &ctx->alloc);
    ss_param_defaults(&ss_sae_trainer_params, t);
    t->inputs = inputs;
    t->features = features;
    t->seed = ctx->seed;
    t->size = 2 * features * inputs + features + inputs;
    CALLOC(t->theta, t->size);
    CALLOC(t->adam_m, t->size);
    CALLOC(t->adam_v, t->size);
    CALLOC(t->last_fired, features);
    place_weights(t);
    ss_rng_seed(&t->rng, (uint64_t)t->seed, SS_SAE_STREAM_STEPS);
    *out = t;
    return SUBSEL_OK;
cleanup:
    subsel_sae_trainer_free(t);
    return rc;
}

int subsel_sae_trainer_create(subsel_ctx *ctx, int64_t inputs,
                              int64_t features, subsel_sae_trainer **out)
{
    subsel_sae_trainer *t;
    ss_rng rng;
    int64_t j, c, d = inputs;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    SS_CHECK(ss_sae_trainer_alloc(ctx, inputs, features, __func__, out));
    t = *out;
    ss_rng_seed(&rng, (uint64_t)t->seed, SS_SAE_STREAM_INIT);
    for (j = 0; j < features; j++) {
        float *w = t->w_enc + j * d;
        double norm = 0.0;
        for (c = 0; c < d; c++) {
            w[c] = (float)ss_rng_normal(&rng);
            norm += (double)w[c] * w[c];
        }
        norm = sqrt(norm);
        for (c = 0; c < d; c++)
            w[c] = norm > 0.0 ? (float)(w[c] / norm) : (c == 0);
    }
    /* W_dec = W_enc^T: with W_dec stored by columns, the same rows */
    memcpy(t->w_dec, t->w_enc, (size_t)(features * d) * sizeof *t->w_dec);
    return SUBSEL_OK;
}

void subsel_sae_trainer_free(subsel_sae_trainer *t)
{
    ss_allocator a;
    if (!ss_handle_release(t, SS_KIND_SAE_TRAINER, __func__))
        return;
    a = t->alloc;
    ss_sae_buffers_free(&a, &t->buf);
    ss_free_raw(&a, t->res.rows);
    ss_free_raw(&a, t->res.ids);
    ss_free_raw(&a, t->theta);
    ss_free_raw(&a, t->adam_m);
    ss_free_raw(&a, t->adam_v);
    ss_free_raw(&a, t->last_fired);
    ss_free_raw(&a, t);
}

/* ---- public calls ------------------------------------------------------ */

#define REQUIRE_TRAINER(ctx, t) SS_REQUIRE_KIND(ctx, t, SS_KIND_SAE_TRAINER)

int subsel_sae_trainer_step(subsel_ctx *ctx, subsel_sae_trainer *t,
                            const subsel_dense *batch)
{
    SS_REQUIRE_CTX(ctx);
    REQUIRE_TRAINER(ctx, t);
    SS_REQUIRE_KIND(ctx, batch, SS_KIND_DENSE);
    if (batch->cols != t->inputs)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_step: the batch has %lld columns "
                       "but the autoencoder takes %lld inputs",
                       (long long)batch->cols, (long long)t->inputs);
    if (batch->rows < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_step: the batch has no rows");
    return ss_sae_train_step(ctx, t, batch->row0, batch->stride, batch->rows,
                             NULL, NULL);
}

int subsel_sae_trainer_losses(subsel_ctx *ctx, const subsel_sae_trainer *t,
                              double *out, int64_t capacity)
{
    SS_REQUIRE_CTX(ctx);
    REQUIRE_TRAINER(ctx, t);
    SS_REQUIRE_NONNULL(ctx, out);
    SS_CHECK(ss_check_capacity(ctx, __func__, "out", capacity,
                               SUBSEL_SAE_LOSSES));
    if (t->step == 0) {
        int i;
        for (i = 0; i < SUBSEL_SAE_LOSSES; i++)
            out[i] = NAN;
    } else {
        memcpy(out, t->losses, sizeof t->losses);
    }
    return SUBSEL_OK;
}

int64_t subsel_sae_trainer_steps(const subsel_sae_trainer *t)
{
    return ss_handle_is(t, SS_KIND_SAE_TRAINER) ? t->step : -1;
}

int64_t subsel_sae_trainer_epochs(const subsel_sae_trainer *t)
{
    return ss_handle_is(t, SS_KIND_SAE_TRAINER) ? t->epoch : -1;
}

int64_t subsel_sae_trainer_dead(const subsel_sae_trainer *t)
{
    return ss_handle_is(t, SS_KIND_SAE_TRAINER) ? t->dead : -1;
}

int subsel_sae_trainer_encoder(subsel_ctx *ctx, const subsel_sae_trainer *t,
                               subsel_sae **out)
{
    subsel_dense *w = NULL;
    int rc;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    REQUIRE_TRAINER(ctx, t);
    SS_CHECK(subsel_dense_create(ctx, t->features, t->inputs, t->w_enc,
                                 SUBSEL_COPY, &w));
    rc = subsel_sae_create(ctx, w, t->b_enc, t->b_dec, out);
    subsel_dense_free(w);
    return rc;
}

int ss_sae_trainer_decoder_t(subsel_ctx *ctx, const subsel_sae_trainer *t,
                             float **out)
{
    const int64_t d = t->inputs, L = t->features;
    float *wt;
    int64_t j, c;
    SS_CHECK(ss_alloc_array(ctx, d * L, sizeof *wt, &wt));
    for (c = 0; c < d; c++)
        for (j = 0; j < L; j++)
            wt[c * L + j] = t->w_dec[j * d + c];
    *out = wt;
    return SUBSEL_OK;
}

int subsel_sae_trainer_decoder(subsel_ctx *ctx, const subsel_sae_trainer *t,
                               subsel_dense **out)
{
    float *wt = NULL;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    REQUIRE_TRAINER(ctx, t);
    SS_CHECK(ss_sae_trainer_decoder_t(ctx, t, &wt));
    return ss_dense_adopt(ctx, t->inputs, t->features, wt, out);
}

/* Held-out evaluation: the rows go through the encoder in batches as in
 * subsel_sae_encode, each row is decoded from its k slots, and the squared
 * errors and activations are summed per row, then over rows in order (the
 * result does not depend on the thread count). */
int subsel_sae_trainer_evaluate(subsel_ctx *ctx, const subsel_sae_trainer *t,
                                const subsel_dense *x, double *recons,
                                double *act)
{
    ss_sae_scratch scratch = {NULL, NULL, 0, 1};
    int64_t d, L, k;
    ss_sae_weights w;
    float *xc = NULL, *pre = NULL, *val = NULL, *rec = NULL;
    int32_t *idx = NULL;
    int64_t *cnt = NULL, batch, r0, threads;
    double *row_sums = NULL, sum_rec = 0.0, sum_act = 0.0;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    REQUIRE_TRAINER(ctx, t);
    SS_REQUIRE_KIND(ctx, x, SS_KIND_DENSE);
    d = t->inputs;
    L = t->features;
    k = t->k;
    if (x->cols != d)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_evaluate: x has %lld columns but "
                       "the autoencoder takes %lld inputs",
                       (long long)x->cols, (long long)d);
    if (x->rows < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_evaluate: x has no rows");
    if (k > L)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_evaluate: k = %lld exceeds the "
                       "%lld latents",
                       (long long)k, (long long)L);
    batch = ss_sae_batch_rows(L, x->rows);
    threads = ss_threads_for(ctx, batch);
    w = ss_sae_trainer_weights(t);
    SS_TRY(ss_alloc_array(ctx, batch * d, sizeof *xc, &xc));
    SS_TRY(ss_alloc_array(ctx, batch * L, sizeof *pre, &pre));
    SS_TRY(ss_alloc_array(ctx, batch * k, sizeof *val, &val));
    SS_TRY(ss_alloc_array(ctx, batch * k, sizeof *idx, &idx));
    SS_TRY(ss_alloc_array(ctx, batch, sizeof *cnt, &cnt));
    SS_TRY(ss_alloc_array(ctx, 2 * batch, sizeof *row_sums, &row_sums));
    SS_TRY(ss_alloc_array(ctx, threads * d, sizeof *rec, &rec));
    SS_TRY(ss_sae_scratch_alloc(ctx, &ctx->alloc, L, k, (int)threads,
                                &scratch));
    for (r0 = 0; r0 < x->rows; r0 += batch) {
        int64_t nb = x->rows - r0 < batch ? x->rows - r0 : batch, r;
        ss_sae_code_rows(ctx, &w, ss_dense_row(x, r0), x->stride, nb, k,
                         &scratch, xc, pre, idx, val, cnt);
        for (r = 0; r < nb; r++)
            if (cnt[r] < 0)
                SS_TRY(ss_fail(ctx, SUBSEL_E_NUMERIC,
                               "subsel_sae_trainer_evaluate: row %lld has an "
                               "activation that is not finite",
                               (long long)(r0 + r)));
#pragma omp parallel for num_threads((int)threads) schedule(static)
        for (r = 0; r < nb; r++) {
            float *y = rec + (int64_t)ss_thread_num() * d;
            const float *xr = ss_dense_row(x, r0 + r);
            double e = 0.0;
            double a = ss_sae_reconstruct(t, idx + r * k, val + r * k, cnt[r], y);
            int64_t c;
            for (c = 0; c < d; c++)
                e += ((double)y[c] - xr[c]) * ((double)y[c] - xr[c]);
            row_sums[2 * r] = e;
            row_sums[2 * r + 1] = a;
        }
        for (r = 0; r < nb; r++) {
            sum_rec += row_sums[2 * r];
            sum_act += row_sums[2 * r + 1];
        }
    }
    if (recons != NULL)
        *recons = sum_rec / (double)x->rows;
    if (act != NULL)
        *act = sum_act / (double)x->rows;
cleanup:
    ss_sae_scratch_free(&ctx->alloc, &scratch);
    ss_free(ctx, xc);
    ss_free(ctx, pre);
    ss_free(ctx, val);
    ss_free(ctx, idx);
    ss_free(ctx, cnt);
    ss_free(ctx, row_sums);
    ss_free(ctx, rec);
    return rc;
}
