/* SPDX-License-Identifier: MIT */
/*
 * Training a monotone TopK sparse autoencoder (SDM paper, sections 2.2-2.3,
 * Algorithm 1 of appendix G): the trainer handle and the internal calls its
 * files share.
 *
 *   trainer.c     the handle: creation, initial weights, parameters, the
 *                 encoder it exports, release
 *   step.c        one Adam step on a batch: forward, the losses, the
 *                 analytic backward and the update, fused per latent
 *   mono.c        the monotonicity loss (eq. 3): the reservoir of past
 *                 inputs, the sets E and M, the gradient through f
 *   fit.c         epochs over .npy files: shuffling, batches, log,
 *                 checkpoints, progress
 *   checkpoint.c  saving and resuming
 *
 * Layout. All weights live in one float block `theta`, and Adam's two
 * moments in blocks of the same layout, so the update is one loop:
 *   W_enc  features x inputs   (row j: encoder weights of latent j)
 *   W_dec  features x inputs   (row j: decoder column j, unit norm; saved
 *                               transposed, inputs x features, as the paper
 *                               writes W_dec)
 *   b_enc  features
 *   b_dec  inputs
 */
#ifndef SS_SAE_TRAIN_TRAINER_H
#define SS_SAE_TRAIN_TRAINER_H

#include <stdint.h>

#include "core/handle.h"
#include "core/options.h"
#include "core/rng.h"
#include "sae/sae.h"
#include "subsel.h"

/* Random streams of the trainer's seed. */
#define SS_SAE_STREAM_INIT 0x5AE1u  /* initial weights */
#define SS_SAE_STREAM_STEPS 0x5AE2u /* reservoir and the sets of L_mono */
#define SS_SAE_STREAM_EPOCH 0x5AE3u /* + epoch: the order of an epoch */

/* Losses of the last step, in subsel_sae_trainer_losses()'s order. */
enum { SS_LOSS_TOTAL, SS_LOSS_RECONS, SS_LOSS_MONO, SS_LOSS_ACT, SS_LOSS_AUX,
       SS_LOSS_COUNT };

/* Phases of a step, timed for the benchmarks (seconds summed over steps). */
enum { SS_PHASE_ENCODE,   /* the batch's product and TopK */
       SS_PHASE_DECODE,   /* reconstruction, losses, dL/dh (and AuxK) */
       SS_PHASE_MONO,     /* reservoir, sets, M's codes, L_mono */
       SS_PHASE_UPDATE,   /* slots per latent, gradients, Adam */
       SS_PHASE_COUNT };

/* The reservoir of past inputs (Algorithm 1, line 5): a uniform sample of
 * every row offered so far (Vitter's algorithm R), with each row's id so
 * that an input's own copy is never its neighbour. */
typedef struct ss_reservoir {
    float *rows;     /* capacity x inputs */
    int64_t *ids;
    int64_t capacity, count, seen;
} ss_reservoir;

/* A reservoir row and its distance, in the neighbour search. */
typedef struct ss_nn_entry {
    double dist;
    int64_t slot;
} ss_nn_entry;

/* Per-step buffers, for batches of up to `rows` rows. */
typedef struct ss_sae_buffers {
    int64_t rows;               /* capacity in rows; 0 before the first step */
    float *xc, *act, *g, *dh;   /* batch: centred, pre-activations, dL/dx~,
                                   dL/dh per slot */
    int32_t *idx;
    float *val;
    int64_t *cnt;
    /* AuxK: codes over dead latents and their gradients */
    float *g_aux, *dh_aux, *val_aux, *aux_row;
    int32_t *idx_aux;
    int64_t *cnt_aux;
    /* L_mono: M's raw rows and codes, E's rows, per-latent sums */
    float *m_x, *m_xc, *m_act, *m_dh, *m_val;
    int32_t *m_idx;
    int64_t *m_cnt, *e_rows, *pick;
    double *m_sum_e, *m_sum_m, *dist, *sum_x, *row_loss;
    ss_nn_entry *nn;
    /* backward: codes of each latent (counting sort), per-thread rows */
    int64_t *start, *entry;
    float *gb_enc, *rowbuf, *resbuf;
    int threads;  /* parts of rowbuf / resbuf / aux_row */
    double *gb_dec;
    ss_sae_scratch scratch, aux_scratch;
} ss_sae_buffers;

struct subsel_sae_trainer {
    SS_HANDLE_HEAD;
    int64_t features, inputs;
    /* parameters (the table in trainer.c) */
    int64_t k, batch, set_size, reservoir_size, auxk, dead_rows, b_dec_init,
        checkpoint_steps, seed;
    double lr, beta1, beta2, eps, l_recons, l_mono, l_act, aux_coef;
    /* weights and Adam's moments: blocks of `size` floats (layout above) */
    float *theta, *adam_m, *adam_v;
    int64_t size;
    float *w_enc, *w_dec, *b_enc, *b_dec; /* into theta */
    int b_dec_ready; /* b_dec has been set from the first batch */
    /* position */
    int64_t step, rows_seen;
    int64_t epoch, epoch_batch, data_rows; /* of fit(): resumable */
    ss_rng rng;                            /* stream SS_SAE_STREAM_STEPS */
    int64_t *last_fired; /* rows_seen when each latent last fired */
    ss_reservoir res;
    double losses[SS_LOSS_COUNT];
    int64_t dead;        /* dead latents at the last step */
    int mono_skipped;    /* the last step had no L_mono term */
    ss_sae_buffers buf;
    double seconds[SS_PHASE_COUNT];
    /* tests: when set, a step writes the gradient (theta's layout, the
     * decoder's before its projection) here instead of updating */
    float *grad_out;
};

extern const ss_param_kind ss_sae_trainer_params;

/* The sets of L_mono for one step, given (tests) or drawn (NULL): E as
 * rows of the batch, M as explicit rows (its first the input of one
 * element of E). */
typedef struct ss_mono_sets {
    const int64_t *e_rows;
    const float *m_rows;
    int64_t size;
} ss_mono_sets;

/* One step on `rows` rows of x (rows `ld` floats apart) whose ids (NULL:
 * numbered from rows_seen) identify them in the reservoir. sets: NULL to
 * draw E and M as Algorithm 1 does. Fails before any weight changes. */
int ss_sae_train_step(subsel_ctx *ctx, subsel_sae_trainer *t, const float *x,
                      int64_t ld, int64_t rows, const int64_t *ids,
                      const ss_mono_sets *sets);

/* A trainer of zero weights and default parameters, seeded from ctx
 * (trainer.c); fn names the caller in messages. */
int ss_sae_trainer_alloc(subsel_ctx *ctx, int64_t inputs, int64_t features,
                         const char *fn, subsel_sae_trainer **out);

/* W_dec as the paper writes it, inputs x features, in a new buffer on ctx. */
int ss_sae_trainer_decoder_t(subsel_ctx *ctx, const subsel_sae_trainer *t,
                             float **out);

/* x~ = W_dec h + b_dec into out (inputs floats) from a row's code (cnt
 * slots of idx / val); returns ||h||^2. The step and the held-out
 * evaluation decode through it (step.c). */
double ss_sae_reconstruct(const subsel_sae_trainer *t, const int32_t *idx,
                          const float *val, int64_t cnt, float *out);

/* The weights as the encoder reads them. */
ss_sae_weights ss_sae_trainer_weights(const subsel_sae_trainer *t);

/* Allocates the buffers for batches of `rows` rows (kept when large
 * enough). */
int ss_sae_buffers_reserve(subsel_ctx *ctx, subsel_sae_trainer *t,
                           int64_t rows);
void ss_sae_buffers_free(const ss_allocator *a, ss_sae_buffers *b);

/* mono.c */
void ss_reservoir_offer(ss_reservoir *r, ss_rng *rng, const float *x,
                        int64_t ld, int64_t rows, int64_t inputs,
                        const int64_t *ids, int64_t first_id);
/* Draws E (t->set_size rows of the batch) and M (a random element of E and
 * its set_size - 1 nearest neighbours in the reservoir, by Euclidean
 * distance, itself excluded) into the buffers. 0 when the batch or the
 * reservoir is too small for the sets (the step then has no L_mono). */
int ss_mono_draw(subsel_sae_trainer *t, const subsel_ctx *ctx, const float *x,
                 int64_t ld, int64_t rows, const int64_t *ids,
                 int64_t first_id);
/* Given the codes of E (in the batch's slots) and of M (buffers), returns
 * L_mono and adds l_mono * dL/dh to the batch's dh and to m_dh.
 * e_rows: E's rows in the batch; m_x: M's raw rows. */
double ss_mono_loss(subsel_sae_trainer *t, const float *x, int64_t ld,
                    const int64_t *e_rows, const float *m_x, int64_t size);

#endif
