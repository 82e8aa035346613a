/* SPDX-License-Identifier: MIT */
/*
 * SAE training: the analytic gradient of every loss term against central
 * finite differences; a PyTorch autograd reference (tests/fixtures/
 * sae_train, made by make.py there) step by step; the nearest-neighbour
 * sets against brute force; learning on data with a known sparse
 * structure; exact resumption from checkpoints and cancellation; the same
 * weights on 1 and 2 threads; float16 input; and the errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "sae_train/trainer.h"
#include "tests/helpers.h"
#include "tests/suites.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* A context of one thread: the tests run under valgrind, whose serialised
 * threads make every OpenMP region of two threads slow (only the
 * thread-count test uses two). */
static subsel_ctx *one_thread_ctx(void)
{
    subsel_ctx *ctx = NULL;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_int_eq(subsel_param_set_int(ctx, ctx, SUBSEL_P_THREADS, 1),
                     SUBSEL_OK);
    return ctx;
}

static void set_int(subsel_ctx *ctx, subsel_sae_trainer *t, int p, int64_t v)
{
    ck_assert_int_eq(subsel_param_set_int(ctx, t, p, v), SUBSEL_OK);
}

static void set_real(subsel_ctx *ctx, subsel_sae_trainer *t, int p, double v)
{
    ck_assert_int_eq(subsel_param_set_real(ctx, t, p, v), SUBSEL_OK);
}

/* Rows that are sparse nonnegative mixtures of `atoms` random directions
 * (each row 1 to 3 atoms), plus a little noise: what an SAE can learn. */
static float *mixture_rows(uint64_t seed, int64_t rows, int64_t d,
                           int64_t atoms)
{
    ss_rng rng;
    float *dict = malloc(sizeof *dict * (size_t)(atoms * d));
    float *x = calloc((size_t)(rows * d), sizeof *x);
    int64_t r, a, c;
    ck_assert(dict != NULL && x != NULL);
    ss_rng_seed(&rng, seed, 1);
    for (a = 0; a < atoms * d; a++)
        dict[a] = (float)fabs(ss_rng_normal(&rng));
    for (r = 0; r < rows; r++) {
        int64_t m = 1 + (int64_t)ss_rng_below(&rng, 3);
        for (a = 0; a < m; a++) {
            int64_t j = (int64_t)ss_rng_below(&rng, (uint64_t)atoms);
            double w = 0.5 + ss_rng_uniform(&rng);
            for (c = 0; c < d; c++)
                x[r * d + c] += (float)(w * dict[j * d + c]);
        }
        for (c = 0; c < d; c++)
            x[r * d + c] += (float)(0.01 * ss_rng_normal(&rng));
    }
    free(dict);
    return x;
}

static subsel_sae_trainer *small_trainer(subsel_ctx *ctx, int64_t d,
                                         int64_t L, int64_t k, int64_t s)
{
    subsel_sae_trainer *t = NULL;
    ck_assert_int_eq(subsel_sae_trainer_create(ctx, d, L, &t), SUBSEL_OK);
    set_int(ctx, t, SUBSEL_P_SAE_K, k);
    set_int(ctx, t, SUBSEL_P_SAE_SET_SIZE, s);
    set_int(ctx, t, SUBSEL_P_SAE_RESERVOIR, 64);
    return t;
}

/* The total loss at the current weights, with fixed sets, and its
 * gradient in grad (the step then updates nothing); the codes' latents are
 * left in the trainer's buffers. */
static double loss_at(subsel_ctx *ctx, subsel_sae_trainer *t, const float *x,
                      int64_t rows, const ss_mono_sets *sets, float *grad)
{
    t->grad_out = grad;
    ck_assert_int_eq(ss_sae_train_step(ctx, t, x, t->inputs, rows, NULL,
                                       sets),
                     SUBSEL_OK);
    t->grad_out = NULL;
    return t->losses[SS_LOSS_TOTAL];
}

/* A fingerprint of the active slots of the batch and of M (so that a
 * finite difference across a change of the TopK set is recognised). */
static uint64_t codes_hash(const subsel_sae_trainer *t, int64_t rows,
                           int64_t m_rows)
{
    uint64_t h = 1469598103934665603ULL;
    int64_t r, s;
    for (r = 0; r < rows; r++)
        for (s = 0; s < t->buf.cnt[r]; s++)
            h = (h ^ (uint64_t)t->buf.idx[r * t->k + s]) * 1099511628211ULL;
    for (r = 0; r < m_rows; r++)
        for (s = 0; s < t->buf.m_cnt[r]; s++)
            h = (h ^ (uint64_t)t->buf.m_idx[r * t->k + s]) * 1099511628211ULL;
    if (t->auxk > 0)
        for (r = 0; r < rows; r++)
            for (s = 0; s < t->buf.cnt_aux[r]; s++)
                h = (h ^ (uint64_t)t->buf.idx_aux[r * t->auxk + s]) *
                    1099511628211ULL;
    return h;
}

/* Central differences on every weight of a tiny problem against the
 * analytic gradient of the step. Coordinates whose +-h change the kept
 * latents are skipped (the loss is not differentiable across them); the
 * test asserts that most were checked. */
static void check_gradient(int with_mono, int with_aux)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *t;
    const int64_t d = 6, L = 12, k = 3, rows = 10, s = 4;
    float *x = mixture_rows(11, rows, d, 4), *m_rows, *grad, *unused;
    int64_t e_rows[4] = {1, 4, 6, 9}, i, checked = 0;
    ss_mono_sets sets;
    ss_rng rng;
    double worst = 0.0;
    t = small_trainer(ctx, d, L, k, s);
    set_real(ctx, t, SUBSEL_P_SAE_L_MONO, with_mono ? 0.3 : 0.0);
    set_real(ctx, t, SUBSEL_P_SAE_L_ACT, 0.05);
    if (with_aux) {
        set_int(ctx, t, SUBSEL_P_SAE_AUXK, 4);
        set_int(ctx, t, SUBSEL_P_SAE_DEAD_ROWS, 1);
        set_real(ctx, t, SUBSEL_P_SAE_AUX_COEF, 0.5);
        /* every latent dead: each row's AuxK code is its top 4 of all */
        t->rows_seen = 5;
    }
    /* b_dec and b_enc away from zero, so their gradients are exercised */
    ss_rng_seed(&rng, 5, 0);
    for (i = 0; i < d; i++)
        t->b_dec[i] = (float)(0.3 * ss_rng_uniform(&rng));
    for (i = 0; i < L; i++)
        t->b_enc[i] = (float)(0.1 * ss_rng_normal(&rng));
    t->b_dec_ready = 1;
    /* M: row 4 of the batch and three other rows of the same data */
    m_rows = mixture_rows(12, s, d, 4);
    memcpy(m_rows, x + 4 * d, sizeof *m_rows * (size_t)d);
    sets.e_rows = e_rows;
    sets.m_rows = m_rows;
    sets.size = s;
    grad = calloc((size_t)t->size, sizeof *grad);
    unused = calloc((size_t)t->size, sizeof *unused);
    ck_assert(grad != NULL && unused != NULL);
    loss_at(ctx, t, x, rows, with_mono ? &sets : NULL, grad);
    if (with_mono)
        ck_assert_msg(!t->mono_skipped && t->losses[SS_LOSS_MONO] > 0.0,
                      "the mono term is active");
    if (with_aux)
        ck_assert_msg(t->losses[SS_LOSS_AUX] > 0.0, "the AuxK term is active");
    {
        uint64_t base = codes_hash(t, rows, with_mono ? s : 0);
        /* AuxK's target e = x - x~ is held fixed (its gradient stops
         * there), which a finite difference cannot do: with AuxK only the
         * weights that do not move x~ are compared, the encoder and decoder
         * rows of latents in no batch code (which AuxK's codes use) */
        char *in_x = calloc((size_t)L, 1);
        int64_t r, q;
        ck_assert_ptr_nonnull(in_x);
        for (r = 0; r < rows; r++)
            for (q = 0; q < t->buf.cnt[r]; q++)
                in_x[t->buf.idx[r * k + q]] = 1;
        for (i = 0; i < t->size; i++) {
            int64_t lat = i < 2 * L * d ? (i % (L * d)) / d
                          : i < 2 * L * d + L ? i - 2 * L * d : -1;
            if (with_aux && (lat < 0 || in_x[lat]))
                continue;
            const float h = 1e-2f * fmaxf(1.0f, fabsf(t->theta[i]));
            float keep = t->theta[i];
            double up, down, fd, err;
            uint64_t hu, hd;
            t->theta[i] = keep + h;
            up = loss_at(ctx, t, x, rows, with_mono ? &sets : NULL, unused);
            hu = codes_hash(t, rows, with_mono ? s : 0);
            t->theta[i] = keep - h;
            down = loss_at(ctx, t, x, rows, with_mono ? &sets : NULL, unused);
            hd = codes_hash(t, rows, with_mono ? s : 0);
            t->theta[i] = keep;
            if (hu != base || hd != base)
                continue;
            fd = (up - down) / (2.0 * ((double)(keep + h) - keep));
            err = fabs(fd - grad[i]) / fmax(0.05, fabs(fd));
            worst = fmax(worst, err);
            ck_assert_msg(err < 2e-2,
                          "weight %lld: finite difference %g, analytic %g",
                          (long long)i, fd, (double)grad[i]);
            checked++;
        }
        free(in_x);
    }
    ck_assert_msg(checked > (with_aux ? (2 * d + 1) * 2 : t->size * 3 / 4),
                  "checked %lld of %lld weights", (long long)checked,
                  (long long)t->size);
    free(grad);
    free(unused);
    free(x);
    free(m_rows);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
}

START_TEST(test_gradient_recons_act)
{
    check_gradient(0, 0);
}
END_TEST

START_TEST(test_gradient_mono)
{
    check_gradient(1, 0);
}
END_TEST

START_TEST(test_gradient_auxk)
{
    check_gradient(0, 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* PyTorch reference                                                        */
/* ------------------------------------------------------------------------ */

static float *read_f32_matrix(const char *name, int64_t rows, int64_t cols)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_dense *m = NULL;
    float *out;
    int64_t r;
    ck_assert_int_eq(subsel_dense_load_npy(ctx, data_path(name), &m),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_dense_rows(m) * subsel_dense_cols(m),
                     rows * cols);
    out = malloc(sizeof *out * (size_t)(rows * cols));
    ck_assert_ptr_nonnull(out);
    for (r = 0; r < subsel_dense_rows(m); r++)
        memcpy(out + r * subsel_dense_cols(m), subsel_dense_row(m, r),
               sizeof *out * (size_t)subsel_dense_cols(m));
    subsel_dense_free(m);
    subsel_ctx_free(ctx);
    return out;
}

/* Asserts |a - b| <= tol * (1 + |b|) elementwise; returns the worst. */
static double assert_close(const char *what, const float *a, const float *b,
                           int64_t n, double tol)
{
    double worst = 0.0;
    int64_t i;
    for (i = 0; i < n; i++) {
        double err = fabs((double)a[i] - b[i]) / (1.0 + fabs(b[i]));
        worst = fmax(worst, err);
        ck_assert_msg(err <= tol, "%s[%lld]: %g, PyTorch %g", what,
                      (long long)i, (double)a[i], (double)b[i]);
    }
    return worst;
}

START_TEST(test_pytorch_reference)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *t;
    int64_t n_cfg = 0, n_e = 0, n_loss = 0, d, L, k, B, s, steps, step, j;
    double *cfg = read_f64(data_path("sae_train/config.npy"), &n_cfg);
    double *losses;
    int64_t *e;
    float *x, *m, *w_dec0, *w_dec;
    ck_assert_int_eq(n_cfg, 13);
    d = (int64_t)cfg[0];
    L = (int64_t)cfg[1];
    k = (int64_t)cfg[2];
    B = (int64_t)cfg[3];
    s = (int64_t)cfg[4];
    steps = (int64_t)cfg[5];
    e = read_i64(data_path("sae_train/E.npy"), &n_e);
    losses = read_f64(data_path("sae_train/losses.npy"), &n_loss);
    ck_assert_int_eq(n_e, steps * s);
    ck_assert_int_eq(n_loss, steps * 4);
    x = read_f32_matrix("sae_train/X.npy", steps * B, d);
    m = read_f32_matrix("sae_train/M.npy", steps * s, d);

    t = small_trainer(ctx, d, L, k, s);
    set_real(ctx, t, SUBSEL_P_SAE_L_RECONS, cfg[6]);
    set_real(ctx, t, SUBSEL_P_SAE_L_MONO, cfg[7]);
    set_real(ctx, t, SUBSEL_P_SAE_L_ACT, cfg[8]);
    set_real(ctx, t, SUBSEL_P_SAE_LR, cfg[9]);
    set_real(ctx, t, SUBSEL_P_SAE_BETA1, cfg[10]);
    set_real(ctx, t, SUBSEL_P_SAE_BETA2, cfg[11]);
    set_real(ctx, t, SUBSEL_P_SAE_EPS, cfg[12]);
    {
        float *w = read_f32_matrix("sae_train/W_enc0.npy", L, d);
        float *be = read_f32_matrix("sae_train/b_enc0.npy", L, 1);
        float *bd = read_f32_matrix("sae_train/b_dec0.npy", d, 1);
        memcpy(t->w_enc, w, sizeof *w * (size_t)(L * d));
        memcpy(t->b_enc, be, sizeof *be * (size_t)L);
        memcpy(t->b_dec, bd, sizeof *bd * (size_t)d);
        free(w);
        free(be);
        free(bd);
    }
    /* W_dec is inputs x latents in the files, latents x inputs here */
    w_dec0 = read_f32_matrix("sae_train/W_dec0.npy", d, L);
    for (j = 0; j < L * d; j++)
        t->w_dec[(j % L) * d + j / L] = w_dec0[j];
    t->b_dec_ready = 1;
    for (step = 0; step < steps; step++) {
        ss_mono_sets sets;
        sets.e_rows = e + step * s;
        sets.m_rows = m + step * s * d;
        sets.size = s;
        ck_assert_int_eq(ss_sae_train_step(ctx, t, x + step * B * d, d, B,
                                           NULL, &sets),
                         SUBSEL_OK);
        /* recons, mono, act, total in the fixture */
        ck_assert_msg(fabs(t->losses[SS_LOSS_RECONS] - losses[4 * step]) <=
                          1e-4 * fabs(losses[4 * step]),
                      "step %lld recons %.9g, PyTorch %.9g", (long long)step,
                      t->losses[SS_LOSS_RECONS], losses[4 * step]);
        ck_assert_msg(fabs(t->losses[SS_LOSS_MONO] - losses[4 * step + 1]) <=
                          1e-4 * fabs(losses[4 * step + 1]) + 1e-6,
                      "step %lld mono %.9g, PyTorch %.9g", (long long)step,
                      t->losses[SS_LOSS_MONO], losses[4 * step + 1]);
        ck_assert_msg(fabs(t->losses[SS_LOSS_ACT] - losses[4 * step + 2]) <=
                          1e-4 * fabs(losses[4 * step + 2]),
                      "step %lld act %.9g, PyTorch %.9g", (long long)step,
                      t->losses[SS_LOSS_ACT], losses[4 * step + 2]);
        ck_assert_msg(fabs(t->losses[SS_LOSS_TOTAL] - losses[4 * step + 3]) <=
                          1e-4 * fabs(losses[4 * step + 3]),
                      "step %lld total %.9g, PyTorch %.9g", (long long)step,
                      t->losses[SS_LOSS_TOTAL], losses[4 * step + 3]);
    }
    {
        float *w = read_f32_matrix("sae_train/W_enc.npy", L, d);
        float *be = read_f32_matrix("sae_train/b_enc.npy", L, 1);
        float *bd = read_f32_matrix("sae_train/b_dec.npy", d, 1);
        float *mine = malloc(sizeof *mine * (size_t)(L * d));
        ck_assert_ptr_nonnull(mine);
        assert_close("W_enc", t->w_enc, w, L * d, 1e-4);
        assert_close("b_enc", t->b_enc, be, L, 1e-4);
        assert_close("b_dec", t->b_dec, bd, d, 1e-4);
        w_dec = read_f32_matrix("sae_train/W_dec.npy", d, L);
        for (j = 0; j < L * d; j++)
            mine[j] = t->w_dec[(j % L) * d + j / L];
        assert_close("W_dec", mine, w_dec, L * d, 1e-4);
        free(mine);
        free(w_dec);
        free(w);
        free(be);
        free(bd);
    }
    free(w_dec0);
    free(cfg);
    free(e);
    free(losses);
    free(x);
    free(m);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The sets of L_mono                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(test_mono_sets_brute_force)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *t;
    const int64_t d = 5, rows = 40, s = 6;
    float *x = mixture_rows(21, rows, d, 5);
    int64_t round;
    t = small_trainer(ctx, d, 8, 2, s);
    set_int(ctx, t, SUBSEL_P_SAE_RESERVOIR, 25);
    ck_assert_int_eq(ss_sae_buffers_reserve(ctx, t, rows), SUBSEL_OK);
    for (round = 0; round < 5; round++) {
        int64_t i, q, e = -1, e_id;
        ss_reservoir_offer(&t->res, &t->rng, x, d, rows, d, NULL,
                           round * rows);
        ck_assert_int_eq(t->res.count, 25);
        ck_assert_int_eq(t->res.seen, (round + 1) * rows);
        ck_assert_int_eq(ss_mono_draw(t, ctx, x, d, rows, NULL, round * rows),
                         1);
        /* E: distinct rows of the batch */
        for (i = 0; i < s; i++) {
            int64_t j;
            ck_assert(t->buf.e_rows[i] >= 0 && t->buf.e_rows[i] < rows);
            for (j = 0; j < i; j++)
                ck_assert(t->buf.e_rows[i] != t->buf.e_rows[j]);
        }
        /* M[0] is a row of E */
        for (i = 0; i < s; i++)
            if (memcmp(t->buf.m_x, x + t->buf.e_rows[i] * d,
                       sizeof(float) * (size_t)d) == 0)
                e = t->buf.e_rows[i];
        ck_assert_int_ge(e, 0);
        e_id = round * rows + e;
        /* M[1..] are its s - 1 nearest reservoir rows, nearest first, its
         * own copy excluded: every other row is at least as far */
        for (i = 1; i < s; i++) {
            double di = 0.0;
            int64_t c, closer = 0;
            for (c = 0; c < d; c++) {
                double diff = (double)t->buf.m_x[i * d + c] - x[e * d + c];
                di += diff * diff;
            }
            for (q = 0; q < t->res.count; q++) {
                double dq = 0.0;
                if (t->res.ids[q] == e_id)
                    continue;
                for (c = 0; c < d; c++) {
                    double diff = (double)t->res.rows[q * d + c] - x[e * d + c];
                    dq += diff * diff;
                }
                closer += dq < di;
            }
            ck_assert_int_le(closer, i - 1);
        }
    }
    free(x);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Training                                                                 */
/* ------------------------------------------------------------------------ */

/* A .npy file of the rows, for fit (the path is the caller's to free). */
static char *save_rows(const char *name, const float *x, int64_t rows,
                             int64_t d)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_dense *m = NULL;
    char *path = strdup(temp_path(name));
    ck_assert_ptr_nonnull(path);
    ck_assert_int_eq(subsel_dense_create(ctx, rows, d, x, SUBSEL_OWN_COPY, &m),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_dense_save_npy(ctx, m, path), SUBSEL_OK);
    subsel_dense_free(m);
    subsel_ctx_free(ctx);
    return path;
}

static subsel_sae_trainer *fit_trainer(subsel_ctx *ctx, int64_t d)
{
    subsel_sae_trainer *t = small_trainer(ctx, d, 32, 4, 8);
    set_int(ctx, t, SUBSEL_P_SAE_BATCH, 64);
    set_real(ctx, t, SUBSEL_P_SAE_LR, 5e-3);
    set_real(ctx, t, SUBSEL_P_SAE_L_MONO, 0.01);
    return t;
}

START_TEST(test_learns_sparse_structure)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *t;
    const int64_t d = 16, rows = 1024;
    float *x = mixture_rows(31, rows, d, 12);
    char *path = save_rows("mix.npy", x, rows, d);
    double first, last, out[SUBSEL_SAE_LOSSES];
    t = fit_trainer(ctx, d);
    ck_assert_int_eq(subsel_sae_trainer_losses(ctx, t, out, SUBSEL_SAE_LOSSES),
                     SUBSEL_OK);
    ck_assert(isnan(out[0]));
    ck_assert_int_eq(subsel_sae_trainer_fit(ctx, t, (const char *const *)&path, 1, 1, NULL, NULL),
                     SUBSEL_OK);
    first = t->losses[SS_LOSS_RECONS];
    ck_assert_int_eq(subsel_sae_trainer_fit(ctx, t, (const char *const *)&path, 1, 30, NULL, NULL),
                     SUBSEL_OK);
    last = t->losses[SS_LOSS_RECONS];
    ck_assert_int_eq(subsel_sae_trainer_epochs(t), 30);
    ck_assert_int_eq(subsel_sae_trainer_steps(t), 30 * 16);
    ck_assert_msg(last < 0.25 * first,
                  "reconstruction %g after 30 epochs, %g after 1", last,
                  first);
    ck_assert_msg(!t->mono_skipped, "L_mono is used");
    /* decoder columns stay at unit norm */
    {
        int64_t j, c;
        for (j = 0; j < t->features; j++) {
            double n2 = 0.0;
            for (c = 0; c < d; c++)
                n2 += (double)t->w_dec[j * d + c] * t->w_dec[j * d + c];
            ck_assert_msg(fabs(n2 - 1.0) < 1e-5, "column %lld norm^2 %g",
                          (long long)j, n2);
        }
    }
    free(x);
    free(path);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

static void assert_same_trainer(const subsel_sae_trainer *a,
                                const subsel_sae_trainer *b)
{
    ck_assert_int_eq(a->step, b->step);
    ck_assert_int_eq(a->epoch, b->epoch);
    ck_assert(memcmp(a->theta, b->theta, sizeof(float) * (size_t)a->size) == 0);
    ck_assert(memcmp(a->adam_v, b->adam_v, sizeof(float) * (size_t)a->size) ==
              0);
}

START_TEST(test_resume_is_exact)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *straight, *first, *resumed = NULL;
    const int64_t d = 8, rows = 300;
    float *x = mixture_rows(41, rows, d, 6);
    char *path = save_rows("resume.npy", x, rows, d);
    const char *dir = temp_folder("ckpt");
    progress_log log;
    straight = fit_trainer(ctx, d);
    ck_assert_ok(ctx, subsel_sae_trainer_fit(ctx, straight, (const char *const *)&path, 1, 3, NULL,
                                             NULL));
    /* the same, cancelled in the middle of epoch 2, saved, loaded, resumed */
    first = fit_trainer(ctx, d);
    memset(&log, 0, sizeof log);
    log.cancel_stage = "train";
    log.cancel_at = 7; /* after the 6th step: epoch 2, batch 2 of 5 */
    ck_assert_int_eq(subsel_ctx_set_progress(ctx, progress_log_fn, &log),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_sae_trainer_fit(ctx, first, (const char *const *)&path, 1, 3, NULL,
                                            NULL),
                     SUBSEL_E_CANCELLED);
    ck_assert_int_eq(subsel_ctx_set_progress(ctx, NULL, NULL), SUBSEL_OK);
    ck_assert_int_eq(first->step, 6);
    ck_assert_int_eq(first->epoch, 1);
    ck_assert_int_eq(subsel_sae_trainer_save(ctx, first, dir), SUBSEL_OK);
    ck_assert_int_eq(subsel_sae_trainer_load(ctx, dir, &resumed), SUBSEL_OK);
    assert_same_trainer(first, resumed);
    ck_assert_int_eq(subsel_sae_trainer_fit(ctx, resumed, (const char *const *)&path, 1, 3, NULL,
                                            NULL),
                     SUBSEL_OK);
    assert_same_trainer(straight, resumed);
    /* the cancelled one continues in memory as well */
    ck_assert_int_eq(subsel_sae_trainer_fit(ctx, first, (const char *const *)&path, 1, 3, NULL,
                                            NULL),
                     SUBSEL_OK);
    assert_same_trainer(straight, first);
    /* the checkpoint is an encoder folder too */
    {
        subsel_sae *sae = NULL;
        ck_assert_int_eq(subsel_sae_load(ctx, dir, &sae), SUBSEL_OK);
        ck_assert_int_eq(subsel_sae_features(sae), 32);
        subsel_sae_free(sae);
    }
    free(x);
    free(path);
    subsel_sae_trainer_free(straight);
    subsel_sae_trainer_free(first);
    subsel_sae_trainer_free(resumed);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(test_threads_agree_exactly)
{
    subsel_ctx *one = NULL, *two = NULL;
    subsel_sae_trainer *a, *b;
    const int64_t d = 16, rows = 512;
    float *x = mixture_rows(51, rows, d, 8);
    char *path = save_rows("threads.npy", x, rows, d);
    int64_t i;
    double worst = 0.0;
    ck_assert_int_eq(subsel_ctx_create(&one), SUBSEL_OK);
    ck_assert_int_eq(subsel_ctx_create(&two), SUBSEL_OK);
    ck_assert_int_eq(subsel_param_set_int(one, one, SUBSEL_P_THREADS, 1),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_param_set_int(two, two, SUBSEL_P_THREADS, 2),
                     SUBSEL_OK);
    a = fit_trainer(one, d);
    b = fit_trainer(two, d);
    ck_assert_int_eq(subsel_sae_trainer_fit(one, a, (const char *const *)&path, 1, 3, NULL, NULL),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_sae_trainer_fit(two, b, (const char *const *)&path, 1, 3, NULL, NULL),
                     SUBSEL_OK);
    for (i = 0; i < a->size; i++)
        worst = fmax(worst, fabs((double)a->theta[i] - b->theta[i]));
    /* every sum of the trainer runs in a fixed order, and BLIS splits a
     * product's outputs among threads, never its sums: the same bits */
    ck_assert_msg(worst == 0.0, "weights differ by %g across thread counts",
                  worst);
    ck_assert(a->losses[0] == b->losses[0]);
    free(x);
    free(path);
    subsel_sae_trainer_free(a);
    subsel_sae_trainer_free(b);
    subsel_ctx_free(one);
    subsel_ctx_free(two);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Inputs and errors                                                        */
/* ------------------------------------------------------------------------ */

START_TEST(test_fit_reads_float16_shards)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *t;
    /* two float16 shards written by hand: 3 + 2 rows of 2 values; a
     * version 1.0 header padded to 128 bytes, as NumPy writes it */
    const char *paths[2];
    int shard;
    for (shard = 0; shard < 2; shard++) {
        char text[118];
        unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                      118, 0};
        int rows = shard == 0 ? 3 : 2, i, len;
        FILE *f;
        paths[shard] = strdup(temp_path(shard == 0 ? "h0.npy" : "h1.npy"));
        f = fopen(paths[shard], "wb");
        ck_assert_ptr_nonnull(f);
        len = snprintf(text, sizeof text,
                       "{'descr': '<f2', 'fortran_order': False, 'shape': "
                       "(%d, 2), }",
                       rows);
        memset(text + len, ' ', sizeof text - (size_t)len);
        text[sizeof text - 1] = '\n';
        fwrite(preamble, 1, sizeof preamble, f);
        fwrite(text, 1, sizeof text, f);
        for (i = 0; i < 2 * rows; i++) {
            uint16_t h = (uint16_t)(0x3c00 + (i << 6)); /* 1.0, 1.0625, ... */
            fwrite(&h, 2, 1, f);
        }
        fclose(f);
    }
    /* the .npy reader converts float16 exactly */
    {
        subsel_dense *m = NULL;
        int64_t rows = 0, cols = 0, i;
        ck_assert_int_eq(subsel_dense_load_npy(ctx, paths[0], &m), SUBSEL_OK);
        ck_assert_int_eq(subsel_dense_npy_shape(ctx, paths[0], &rows, &cols),
                         SUBSEL_OK);
        ck_assert_int_eq(rows, 3);
        ck_assert_int_eq(cols, 2);
        for (i = 0; i < 6; i++)
            ck_assert(subsel_dense_row(m, i / 2)[i % 2] == 1.0f + i / 16.0f);
        subsel_dense_free(m);
    }
    t = small_trainer(ctx, 2, 4, 1, 2);
    set_real(ctx, t, SUBSEL_P_SAE_L_MONO, 0.0);
    ck_assert_int_eq(subsel_sae_trainer_fit(ctx, t, paths, 2, 2, NULL, NULL),
                     SUBSEL_OK);
    ck_assert_int_eq(t->rows_seen, 10);
    ck_assert_int_eq(t->data_rows, 5);
    free((void *)paths[0]);
    free((void *)paths[1]);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(test_errors)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *t = NULL;
    subsel_dense *batch = NULL;
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const char *missing = "/nonexistent/subsel.npy";
    ck_assert_int_eq(subsel_sae_trainer_create(ctx, 0, 4, &t),
                     SUBSEL_E_INVALID);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(subsel_sae_trainer_create(ctx, 4, (int64_t)1 << 40, &t),
                     SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_sae_trainer_create(NULL, 4, 4, &t),
                     SUBSEL_E_INVALID);
    t = small_trainer(ctx, 4, 4, 2, 2);
    set_real(ctx, t, SUBSEL_P_SAE_L_MONO, 0.0);
    ck_assert_int_eq(subsel_param_set_real(ctx, t, SUBSEL_P_SAE_LR, 0.0),
                     SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_param_set_int(ctx, t, SUBSEL_P_SAE_K, 0),
                     SUBSEL_E_INVALID);
    /* k above the latents is caught at the step */
    set_int(ctx, t, SUBSEL_P_SAE_K, 5);
    ck_assert_int_eq(subsel_dense_create(ctx, 2, 4, x, SUBSEL_OWN_COPY, &batch),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_sae_trainer_step(ctx, t, batch), SUBSEL_E_INVALID);
    set_int(ctx, t, SUBSEL_P_SAE_K, 2);
    ck_assert_int_eq(subsel_sae_trainer_step(ctx, t, batch), SUBSEL_OK);
    /* fixed once started */
    ck_assert_int_eq(subsel_param_set_int(ctx, t, SUBSEL_P_SAE_K, 1),
                     SUBSEL_E_STATE);
    ck_assert_int_eq(subsel_param_set_real(ctx, t, SUBSEL_P_SAE_LR, 1e-3),
                     SUBSEL_OK);
    subsel_dense_free(batch);
    /* wrong columns; NULLs; missing files */
    ck_assert_int_eq(subsel_dense_create(ctx, 4, 2, x, SUBSEL_OWN_COPY, &batch),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_sae_trainer_step(ctx, t, batch), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_sae_trainer_step(ctx, t, NULL), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_sae_trainer_step(ctx, NULL, batch),
                     SUBSEL_E_INVALID);
    subsel_dense_free(batch);
    ck_assert_int_eq(subsel_sae_trainer_fit(ctx, t, &missing, 1, 1, NULL,
                                            NULL),
                     SUBSEL_E_IO);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), missing));
    ck_assert_int_eq(subsel_sae_trainer_fit(ctx, t, &missing, 0, 1, NULL,
                                            NULL),
                     SUBSEL_E_INVALID);
    {
        char *wrong = save_rows("wrong.npy", x, 2, 4);
        ck_assert_int_eq(subsel_sae_trainer_fit(ctx, t,
                                                (const char *const *)&wrong,
                                                1, -1, NULL, NULL),
                         SUBSEL_E_INVALID);
        free(wrong);
        wrong = save_rows("wrong3.npy", x, 2, 3);
        ck_assert_int_eq(subsel_sae_trainer_fit(ctx, t,
                                                (const char *const *)&wrong,
                                                1, 1, NULL, NULL),
                         SUBSEL_E_INVALID);
        free(wrong);
    }
    /* a folder without trainer.npy */
    {
        subsel_sae_trainer *u = NULL;
        const char *dir = temp_folder("empty_ckpt");
        ck_assert_int_eq(subsel_sae_trainer_load(ctx, dir, &u), SUBSEL_E_IO);
        ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx),
                                     "not a complete checkpoint"));
        ck_assert_ptr_null(u);
    }
    /* a handle of another kind is refused before it is read */
    ck_assert_int_eq(subsel_sae_trainer_save(ctx, (subsel_sae_trainer *)ctx,
                                             temp_folder("wrong_kind")),
                     SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_sae_trainer_evaluate(
                         ctx, (const subsel_sae_trainer *)ctx, NULL, NULL, NULL),
                     SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_sae_trainer_steps((subsel_sae_trainer *)ctx), -1);
    ck_assert_int_eq(subsel_sae_trainer_steps(NULL), -1);
    subsel_sae_trainer_free(NULL);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(test_nonfinite_input_changes_nothing)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *t;
    subsel_dense *batch = NULL;
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, *before;
    t = small_trainer(ctx, 4, 4, 2, 2);
    before = malloc(sizeof *before * (size_t)t->size);
    ck_assert_ptr_nonnull(before);
    memcpy(before, t->theta, sizeof *before * (size_t)t->size);
    x[5] = NAN;
    ck_assert_int_eq(subsel_dense_create_v2(ctx, 2, 4, x, SUBSEL_DTYPE_FLOAT32,
                                            4, SUBSEL_BORROW, &batch),
                     SUBSEL_E_NUMERIC);
    /* through the internal step, which sees the raw rows */
    ck_assert_int_eq(ss_sae_train_step(ctx, t, x, 4, 2, NULL, NULL),
                     SUBSEL_E_NUMERIC);
    ck_assert(memcmp(before, t->theta, sizeof *before * (size_t)t->size) == 0);
    ck_assert_int_eq(t->step, 0);
    ck_assert_int_eq(t->b_dec_ready, 0);
    free(before);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

/* A diverging run (an absurd learning rate) stops with SUBSEL_E_NUMERIC
 * and never writes a value that is not finite into the weights. */
START_TEST(test_divergence_is_refused)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *t;
    subsel_dense *batch = NULL;
    float *x = mixture_rows(91, 32, 6, 4);
    int i, rc = SUBSEL_OK;
    int64_t j;
    ck_assert_int_eq(subsel_dense_create(ctx, 32, 6, x, SUBSEL_OWN_BORROW, &batch),
                     SUBSEL_OK);
    t = small_trainer(ctx, 6, 12, 3, 4);
    set_real(ctx, t, SUBSEL_P_SAE_LR, 1e36);
    for (i = 0; i < 20 && rc == SUBSEL_OK; i++)
        rc = subsel_sae_trainer_step(ctx, t, batch);
    ck_assert_int_eq(rc, SUBSEL_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "not finite"));
    for (j = 0; j < t->size; j++)
        ck_assert_msg(isfinite(t->theta[j]), "weight %lld is %g", (long long)j,
                      (double)t->theta[j]);
    free(x);
    subsel_dense_free(batch);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

/* Held-out evaluation gives the losses the next step reports for the same
 * rows, and updates nothing. */
START_TEST(test_evaluate_matches_the_step)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *t;
    subsel_dense *batch = NULL;
    float *x = mixture_rows(81, 40, 6, 4), *before;
    double recons = -1.0, act = -1.0;
    ck_assert_int_eq(subsel_dense_create(ctx, 40, 6, x, SUBSEL_OWN_BORROW, &batch),
                     SUBSEL_OK);
    t = small_trainer(ctx, 6, 12, 3, 4);
    ck_assert_int_eq(subsel_sae_trainer_step(ctx, t, batch), SUBSEL_OK);
    before = malloc(sizeof *before * (size_t)t->size);
    ck_assert_ptr_nonnull(before);
    memcpy(before, t->theta, sizeof *before * (size_t)t->size);
    ck_assert_int_eq(subsel_sae_trainer_evaluate(ctx, t, batch, &recons, &act),
                     SUBSEL_OK);
    ck_assert(memcmp(before, t->theta, sizeof *before * (size_t)t->size) == 0);
    ck_assert_int_eq(subsel_sae_trainer_step(ctx, t, batch), SUBSEL_OK);
    ck_assert_msg(fabs(recons - t->losses[SS_LOSS_RECONS]) <=
                      1e-6 * t->losses[SS_LOSS_RECONS],
                  "evaluate %.9g, step %.9g", recons, t->losses[SS_LOSS_RECONS]);
    ck_assert(act == t->losses[SS_LOSS_ACT]);
    ck_assert_int_eq(subsel_sae_trainer_evaluate(ctx, t, NULL, &recons, &act),
                     SUBSEL_E_INVALID);
    free(before);
    free(x);
    subsel_dense_free(batch);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

/* l_mono may change between steps: switched on after steps without it,
 * the reservoir and L_mono's buffers appear then. */
START_TEST(test_mono_switched_on_later)
{
    subsel_ctx *ctx = one_thread_ctx();
    subsel_sae_trainer *t;
    subsel_dense *batch = NULL;
    float *x = mixture_rows(71, 32, 6, 4);
    int i;
    t = small_trainer(ctx, 6, 12, 2, 4);
    set_real(ctx, t, SUBSEL_P_SAE_L_MONO, 0.0);
    ck_assert_int_eq(subsel_dense_create(ctx, 32, 6, x, SUBSEL_OWN_BORROW, &batch),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_sae_trainer_step(ctx, t, batch), SUBSEL_OK);
    ck_assert(t->mono_skipped && t->res.rows == NULL);
    set_real(ctx, t, SUBSEL_P_SAE_L_MONO, 0.5);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(subsel_sae_trainer_step(ctx, t, batch), SUBSEL_OK);
    ck_assert(!t->mono_skipped && t->losses[SS_LOSS_MONO] > 0.0);
    ck_assert_int_eq(t->res.count, 64);
    subsel_dense_free(batch);
    free(x);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

/* Every allocation of a whole cycle (create, steps with L_mono and AuxK,
 * save, load, fit one epoch from the file) failed in turn: SUBSEL_E_NOMEM
 * with a message, nothing leaked (alloc_sweep, tests/helpers.h). */
typedef struct sweep_data {
    const float *x;
    const char *file, *dir;
} sweep_data;

static int sweep_cycle(subsel_ctx *ctx, void *arg, int64_t n)
{
    const sweep_data *data = arg;
    subsel_sae_trainer *t = NULL, *u = NULL;
    subsel_dense *batch = NULL;
    subsel_sae *enc = NULL;
    int rc;
    (void)n;
    subsel_param_set_int(ctx, ctx, SUBSEL_P_THREADS, 1);
    rc = subsel_sae_trainer_create(ctx, 8, 16, &t);
    if (rc == SUBSEL_OK) {
        subsel_param_set_int(ctx, t, SUBSEL_P_SAE_K, 3);
        subsel_param_set_int(ctx, t, SUBSEL_P_SAE_SET_SIZE, 4);
        subsel_param_set_int(ctx, t, SUBSEL_P_SAE_RESERVOIR, 20);
        subsel_param_set_int(ctx, t, SUBSEL_P_SAE_AUXK, 2);
        subsel_param_set_int(ctx, t, SUBSEL_P_SAE_DEAD_ROWS, 8);
        subsel_param_set_int(ctx, t, SUBSEL_P_SAE_BATCH, 16);
        subsel_param_set_real(ctx, t, SUBSEL_P_SAE_L_MONO, 0.1);
        rc = subsel_dense_create(ctx, 16, 8, data->x, SUBSEL_OWN_BORROW, &batch);
    }
    if (rc == SUBSEL_OK)
        rc = subsel_sae_trainer_step(ctx, t, batch);
    if (rc == SUBSEL_OK)
        rc = subsel_sae_trainer_step(ctx, t, batch);
    if (rc == SUBSEL_OK)
        rc = subsel_sae_trainer_save(ctx, t, data->dir);
    if (rc == SUBSEL_OK)
        rc = subsel_sae_trainer_load(ctx, data->dir, &u);
    if (rc == SUBSEL_OK)
        rc = subsel_sae_trainer_fit(ctx, u, &data->file, 1, 1, NULL, NULL);
    if (rc == SUBSEL_OK)
        rc = subsel_sae_trainer_encoder(ctx, u, &enc);
    subsel_sae_free(enc);
    subsel_dense_free(batch);
    subsel_sae_trainer_free(t);
    subsel_sae_trainer_free(u);
    return rc;
}

START_TEST(test_allocation_failures_leak_nothing)
{
    float *x = mixture_rows(61, 32, 8, 4);
    char *file = save_rows("sweep.npy", x, 32, 8);
    sweep_data data;
    data.x = x;
    data.file = file;
    data.dir = strdup(temp_folder("sweep_ckpt"));
    ck_assert_int_gt(alloc_sweep("trainer cycle", sweep_cycle, NULL, &data),
                     40);
    free((void *)data.dir);
    free(file);
    free(x);
}
END_TEST

Suite *sae_train_suite(void)
{
    Suite *s = suite_create("sae_train");
    TCase *grad = tcase_create("gradients");
    TCase *ref = tcase_create("reference");
    TCase *train = tcase_create("training");
    TCase *err = tcase_create("errors");
    tcase_add_test(grad, test_gradient_recons_act);
    tcase_add_test(grad, test_gradient_mono);
    tcase_add_test(grad, test_gradient_auxk);
    tcase_add_test(ref, test_pytorch_reference);
    tcase_add_test(ref, test_mono_sets_brute_force);
    tcase_add_test(train, test_learns_sparse_structure);
    tcase_add_test(train, test_resume_is_exact);
    tcase_add_test(train, test_threads_agree_exactly);
    tcase_add_test(train, test_fit_reads_float16_shards);
    tcase_add_test(train, test_mono_switched_on_later);
    tcase_add_test(train, test_evaluate_matches_the_step);
    tcase_add_test(train, test_divergence_is_refused);
    tcase_set_timeout(train, 120);
    tcase_add_test(err, test_errors);
    tcase_add_test(err, test_nonfinite_input_changes_nothing);
    tcase_add_test(err, test_allocation_failures_leak_nothing);
    tcase_set_timeout(err, 120);
    suite_add_tcase(s, grad);
    suite_add_tcase(s, ref);
    suite_add_tcase(s, train);
    suite_add_tcase(s, err);
    return s;
}
