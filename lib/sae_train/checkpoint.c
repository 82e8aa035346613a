/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints: a folder of .npy files holding everything a trainer is, so
 * that training resumed from it continues exactly as if it had never
 * stopped (on the same machine: bit for bit).
 *
 *   W_enc.npy  b_enc.npy  b_dec.npy   the encoder, as subsel_sae_load and
 *                                     `subsel encode` read it
 *   W_dec.npy                         inputs x latents (the paper's shape)
 *   trainer.npy            int64: format, sizes, position, random state,
 *                          integer parameters (layout below)
 *   trainer_real.npy       float64: real parameters
 *   trainer_adam.npy       float32, 2 x size: Adam's moments (theta's layout)
 *   trainer_fired.npy      int64: rows seen when each latent last fired
 *   trainer_reservoir.npy, trainer_reservoir_ids.npy   the reservoir
 *
 * trainer.npy is removed first and written last: a folder without it is
 * not a checkpoint (a save that died half way is refused on loading, not
 * read as a mixture of two steps).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/fileio.h"
#include "matrix/matrix.h"
#include "matrix/npy.h"
#include "sae_train/trainer.h"

#define MAGIC 0x5353414554524e31LL /* "SSAETRN1" */
#define FORMAT 1

/* trainer.npy, in this order */
enum { S_MAGIC, S_FORMAT, S_INPUTS, S_FEATURES, S_STEP, S_ROWS_SEEN, S_EPOCH,
       S_EPOCH_BATCH, S_DATA_ROWS, S_B_DEC_READY, S_RES_COUNT, S_RES_SEEN,
       S_RNG0, S_RNG1, S_RNG2, S_RNG3, S_SEED, S_K, S_BATCH, S_SET_SIZE,
       S_RESERVOIR, S_AUXK, S_DEAD_ROWS, S_B_DEC_INIT, S_CHECKPOINT_STEPS,
       S_COUNT };

static const int int_params[] = {
    SUBSEL_P_SAE_K, SUBSEL_P_SAE_BATCH, SUBSEL_P_SAE_SET_SIZE,
    SUBSEL_P_SAE_RESERVOIR, SUBSEL_P_SAE_AUXK, SUBSEL_P_SAE_DEAD_ROWS,
    SUBSEL_P_SAE_B_DEC_INIT, SUBSEL_P_SAE_CHECKPOINT_STEPS};
static const int real_params[] = {
    SUBSEL_P_SAE_LR, SUBSEL_P_SAE_BETA1, SUBSEL_P_SAE_BETA2,
    SUBSEL_P_SAE_EPS, SUBSEL_P_SAE_L_RECONS, SUBSEL_P_SAE_L_MONO,
    SUBSEL_P_SAE_L_ACT, SUBSEL_P_SAE_AUX_COEF};
#define N_INT (int)(sizeof int_params / sizeof int_params[0])
#define N_REAL (int)(sizeof real_params / sizeof real_params[0])

#define PATH(name) SS_CHECK(ss_path_join(ctx, dir, (name), path, sizeof path))

static int save_f32(subsel_ctx *ctx, const char *dir, const char *name,
                    int ndim, int64_t rows, int64_t cols, const float *data)
{
    char path[4096];
    int64_t shape[2] = {rows, cols};
    PATH(name);
    return ss_npy_save_array(ctx, path, "<f4", 4, ndim, shape, data);
}

static int save_i64(subsel_ctx *ctx, const char *dir, const char *name,
                    int64_t count, const int64_t *data)
{
    char path[4096];
    PATH(name);
    return ss_npy_save_array(ctx, path, "<i8", 8, 1, &count, data);
}

int subsel_sae_trainer_save(subsel_ctx *ctx, const subsel_sae_trainer *t,
                            const char *dir)
{
    int64_t state[S_COUNT], d, L;
    double reals[N_REAL];
    float *wt = NULL;
    char path[4096];
    int i, rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, t, SS_KIND_SAE_TRAINER);
    SS_REQUIRE_NONNULL(ctx, dir);
    d = t->inputs;
    L = t->features;
    SS_CHECK(ss_make_dir(ctx, dir));
    PATH("trainer.npy");
    if (unlink(path) != 0 && errno != ENOENT)
        return ss_fail(ctx, SUBSEL_E_IO, "%s: %s", path, strerror(errno));

    SS_TRY(save_f32(ctx, dir, "W_enc.npy", 2, L, d, t->w_enc));
    SS_TRY(save_f32(ctx, dir, "b_enc.npy", 1, L, 0, t->b_enc));
    SS_TRY(save_f32(ctx, dir, "b_dec.npy", 1, d, 0, t->b_dec));
    SS_TRY(ss_sae_trainer_decoder_t(ctx, t, &wt));
    SS_TRY(save_f32(ctx, dir, "W_dec.npy", 2, d, L, wt));
    /* m then v: one block, as they are allocated apart */
    {
        int64_t shape[2] = {1, t->size};
        char p2[4096];
        SS_TRY(ss_path_join(ctx, dir, "trainer_adam_m.npy", p2, sizeof p2));
        SS_TRY(ss_npy_save_array(ctx, p2, "<f4", 4, 2, shape, t->adam_m));
        SS_TRY(ss_path_join(ctx, dir, "trainer_adam_v.npy", p2, sizeof p2));
        SS_TRY(ss_npy_save_array(ctx, p2, "<f4", 4, 2, shape, t->adam_v));
    }
    SS_TRY(save_i64(ctx, dir, "trainer_fired.npy", L, t->last_fired));
    SS_TRY(save_f32(ctx, dir, "trainer_reservoir.npy", 2, t->res.count, d,
                    t->res.rows));
    SS_TRY(save_i64(ctx, dir, "trainer_reservoir_ids.npy", t->res.count,
                    t->res.ids));

    for (i = 0; i < N_REAL; i++)
        reals[i] = ss_param_real(&ss_sae_trainer_params, t,
                                 ss_param_of(&ss_sae_trainer_params,
                                             real_params[i]));
    SS_TRY(ss_path_join(ctx, dir, "trainer_real.npy", path, sizeof path));
    SS_TRY(subsel_npy_write_f64(ctx, path, reals, N_REAL));

    state[S_MAGIC] = MAGIC;
    state[S_FORMAT] = FORMAT;
    state[S_INPUTS] = d;
    state[S_FEATURES] = L;
    state[S_STEP] = t->step;
    state[S_ROWS_SEEN] = t->rows_seen;
    state[S_EPOCH] = t->epoch;
    state[S_EPOCH_BATCH] = t->epoch_batch;
    state[S_DATA_ROWS] = t->data_rows;
    state[S_B_DEC_READY] = t->b_dec_ready;
    state[S_RES_COUNT] = t->res.count;
    state[S_RES_SEEN] = t->res.seen;
    for (i = 0; i < 4; i++)
        memcpy(&state[S_RNG0 + i], &t->rng.s[i], sizeof t->rng.s[i]);
    state[S_SEED] = t->seed;
    for (i = 0; i < N_INT; i++)
        state[S_K + i] = ss_param_int(&ss_sae_trainer_params, t,
                                      ss_param_of(&ss_sae_trainer_params,
                                                  int_params[i]));
    SS_TRY(ss_path_join(ctx, dir, "trainer.npy", path, sizeof path));
    SS_TRY(subsel_npy_write_i64(ctx, path, state, S_COUNT));
cleanup:
    ss_free(ctx, wt);
    return rc;
}

/* ---- loading ----------------------------------------------------------- */

/* Loads a float32 array of exactly rows x cols (a vector: cols 1) into
 * out, naming the file in messages. */
static int load_f32(subsel_ctx *ctx, const char *dir, const char *name,
                    int64_t rows, int64_t cols, float *out)
{
    char path[4096];
    subsel_dense *m = NULL;
    int64_t r;
    PATH(name);
    SS_CHECK(subsel_dense_load_npy(ctx, path, &m));
    if (m->rows * m->cols != rows * cols ||
        (cols > 1 && (m->rows != rows || m->cols != cols))) {
        int rc = ss_fail(ctx, SUBSEL_E_FORMAT,
                         "%s: shape %lld x %lld, expected %lld x %lld", path,
                         (long long)m->rows, (long long)m->cols,
                         (long long)rows, (long long)cols);
        subsel_dense_free(m);
        return rc;
    }
    for (r = 0; r < m->rows; r++)
        memcpy(out + r * m->cols, ss_dense_row(m, r),
               (size_t)m->cols * sizeof *out);
    subsel_dense_free(m);
    return SUBSEL_OK;
}

static int load_i64(subsel_ctx *ctx, const char *dir, const char *name,
                    int64_t count, int64_t *out)
{
    char path[4096];
    int64_t got = -1;
    PATH(name);
    SS_CHECK(subsel_npy_read_i64(ctx, path, out, count, &got));
    if (got != count)
        return ss_fail(ctx, SUBSEL_E_FORMAT, "%s: %lld values, expected %lld",
                       path, (long long)got, (long long)count);
    return SUBSEL_OK;
}

/* The state vector's checks that need no trainer. */
static int check_state(subsel_ctx *ctx, const char *path, const int64_t *s)
{
    if (s[S_MAGIC] != MAGIC)
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "%s is not a subsel trainer state", path);
    if (s[S_FORMAT] != FORMAT)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "%s: checkpoint format %lld; this library reads %d",
                       path, (long long)s[S_FORMAT], FORMAT);
    if (s[S_STEP] < 0 || s[S_ROWS_SEEN] < 0 || s[S_EPOCH] < 0 ||
        s[S_EPOCH_BATCH] < 0 || s[S_DATA_ROWS] < 0 || s[S_RES_COUNT] < 0 ||
        s[S_RES_SEEN] < s[S_RES_COUNT] || s[S_RES_COUNT] > s[S_RESERVOIR] ||
        (s[S_B_DEC_READY] != 0 && s[S_B_DEC_READY] != 1))
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "%s: the position or reservoir counts are inconsistent",
                       path);
    return SUBSEL_OK;
}

static int restore_params(subsel_ctx *ctx, subsel_sae_trainer *t,
                          const int64_t *state, const double *reals,
                          const char *path)
{
    const ss_param_kind *k = &ss_sae_trainer_params;
    const char *fn = "subsel_sae_trainer_load";
    int i;
    for (i = 0; i < N_INT; i++)
        if (ss_param_set_int(ctx, k, t, ss_param_of(k, int_params[i]),
                             state[S_K + i], fn) < 0)
            return ss_fail_prefix(ctx, SUBSEL_E_FORMAT, "%s", path);
    for (i = 0; i < N_REAL; i++)
        if (ss_param_set_real(ctx, k, t, ss_param_of(k, real_params[i]),
                              reals[i], fn) < 0)
            return ss_fail_prefix(ctx, SUBSEL_E_FORMAT, "%s", path);
    return SUBSEL_OK;
}

int subsel_sae_trainer_load(subsel_ctx *ctx, const char *dir,
                            subsel_sae_trainer **out)
{
    subsel_sae_trainer *t = NULL;
    int64_t state[S_COUNT], got = -1, d, L, j;
    double reals[N_REAL];
    char path[4096];
    float *wt = NULL;
    int i, rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(ctx, dir);
    PATH("trainer.npy");
    rc = subsel_npy_read_i64(ctx, path, state, S_COUNT, &got);
    if (rc == SUBSEL_E_IO && access(path, F_OK) != 0)
        return ss_fail(ctx, SUBSEL_E_IO,
                       "%s has no trainer.npy: not a complete checkpoint of "
                       "subsel_sae_trainer_save",
                       dir);
    SS_CHECK(rc);
    if (got != S_COUNT)
        return ss_fail(ctx, SUBSEL_E_FORMAT, "%s: %lld values, expected %d",
                       path, (long long)got, S_COUNT);
    SS_CHECK(check_state(ctx, path, state));
    SS_CHECK(ss_path_join(ctx, dir, "trainer_real.npy", path, sizeof path));
    SS_CHECK(subsel_npy_read_f64(ctx, path, reals, N_REAL, &got));
    if (got != N_REAL)
        return ss_fail(ctx, SUBSEL_E_FORMAT, "%s: %lld values, expected %d",
                       path, (long long)got, N_REAL);

    d = state[S_INPUTS];
    L = state[S_FEATURES];
    SS_CHECK(ss_sae_trainer_alloc(ctx, d, L, "subsel_sae_trainer_load", &t));
    PATH("trainer.npy");
    SS_TRY(restore_params(ctx, t, state, reals, path));
    t->seed = state[S_SEED];
    t->step = state[S_STEP];
    t->rows_seen = state[S_ROWS_SEEN];
    t->epoch = state[S_EPOCH];
    t->epoch_batch = state[S_EPOCH_BATCH];
    t->data_rows = state[S_DATA_ROWS];
    t->b_dec_ready = (int)state[S_B_DEC_READY];
    for (i = 0; i < 4; i++)
        memcpy(&t->rng.s[i], &state[S_RNG0 + i], sizeof t->rng.s[i]);

    SS_TRY(load_f32(ctx, dir, "W_enc.npy", L, d, t->w_enc));
    SS_TRY(load_f32(ctx, dir, "b_enc.npy", L, 1, t->b_enc));
    SS_TRY(load_f32(ctx, dir, "b_dec.npy", d, 1, t->b_dec));
    SS_TRY(ss_alloc_array(ctx, d * L, sizeof *wt, &wt));
    SS_TRY(load_f32(ctx, dir, "W_dec.npy", d, L, wt));
    for (j = 0; j < L; j++)
        for (i = 0; i < d; i++)
            t->w_dec[j * d + i] = wt[(int64_t)i * L + j];
    SS_TRY(load_f32(ctx, dir, "trainer_adam_m.npy", 1, t->size, t->adam_m));
    SS_TRY(load_f32(ctx, dir, "trainer_adam_v.npy", 1, t->size, t->adam_v));
    for (j = 0; j < t->size; j++)
        if (t->adam_v[j] < 0.0f)
            SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT,
                           "%s: trainer_adam_v.npy has a negative second "
                           "moment",
                           dir));
    SS_TRY(load_i64(ctx, dir, "trainer_fired.npy", L, t->last_fired));
    for (j = 0; j < L; j++)
        if (t->last_fired[j] < 0 || t->last_fired[j] > t->rows_seen)
            SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT,
                           "%s: trainer_fired.npy[%lld] = %lld is outside "
                           "[0, %lld] (the rows seen)",
                           dir, (long long)j, (long long)t->last_fired[j],
                           (long long)t->rows_seen));
    if (state[S_RES_COUNT] > 0 || t->l_mono > 0.0) {
        t->res.capacity = t->reservoir_size;
        SS_TRY(ss_alloc_with(ctx, &t->alloc, t->res.capacity * d,
                             sizeof *t->res.rows, &t->res.rows));
        SS_TRY(ss_alloc_with(ctx, &t->alloc, t->res.capacity,
                             sizeof *t->res.ids, &t->res.ids));
        t->res.count = state[S_RES_COUNT];
        t->res.seen = state[S_RES_SEEN];
        if (t->res.count > 0) {
            SS_TRY(load_f32(ctx, dir, "trainer_reservoir.npy", t->res.count,
                            d, t->res.rows));
            SS_TRY(load_i64(ctx, dir, "trainer_reservoir_ids.npy",
                            t->res.count, t->res.ids));
        }
    }
    *out = t;
    t = NULL;
cleanup:
    ss_free(ctx, wt);
    subsel_sae_trainer_free(t);
    return rc;
}
