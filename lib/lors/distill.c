/* SPDX-License-Identifier: MIT */
/*
 * Distillation (`subsel lors distill`, the paper's Algorithm 1 with MTT's
 * trajectory matching): each iteration draws an expert and a start epoch,
 * trains a student from the expert's parameters there for T steps on
 * minibatches of the synthetic set, and moves the synthetic embeddings,
 * the learned similarity and the step sizes by SGD with momentum along the
 * exact gradient of the matching loss (unroll.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ctx.h"
#include "core/error.h"
#include "lors/lors.h"
#include "matrix/fileio.h"
#include "matrix/matrix.h"
#include "matrix/npy.h"

/* The trajectories of a buffer folder, checked against the model. */
typedef struct buffer {
    ss_npy_rows *rows; /* expert e's epoch k is row e (epochs + 1) + k */
    int64_t experts, epochs;
} buffer;

static int open_buffer(subsel_ctx *ctx, const subsel_lors *l,
                       const ss_model *m, const char *dir, buffer *b)
{
    double meta[SS_BUF_COUNT], want[SS_BUF_COUNT];
    char path[4096], **paths = NULL;
    int64_t got = 0, e;
    int i, rc = SUBSEL_OK;
    static const char *const field[SS_BUF_COUNT] = {
        "format", "tower", "image_dim", "text_dim", "embed_dim",
        "learn_temperature", "temperature", "parameters", "epochs",
        "experts"};

    memset(b, 0, sizeof *b);
    SS_CHECK(ss_path_join(ctx, dir, "meta.npy", path, sizeof path));
    rc = subsel_npy_read_f64(ctx, path, meta, SS_BUF_COUNT, &got);
    if (rc == SUBSEL_OK && got != SS_BUF_COUNT)
        rc = ss_fail(ctx, SUBSEL_E_FORMAT, "%s: %lld values, expected %d",
                     path, (long long)got, SS_BUF_COUNT);
    if (rc != SUBSEL_OK)
        return ss_fail_prefix(ctx, rc,
                              "%s is not a buffer of subsel_lors_buffer", dir);
    ss_lors_buffer_meta(l, m, 0, want);
    for (i = 0; i < SS_BUF_EPOCHS; i++)
        if (meta[i] != want[i])
            return ss_fail(ctx, SUBSEL_E_FORMAT,
                           "%s: the trajectories have %s %g, but this "
                           "handle's is %g",
                           dir, field[i], meta[i], want[i]);
    b->epochs = (int64_t)meta[SS_BUF_EPOCHS];
    b->experts = (int64_t)meta[SS_BUF_EXPERTS];
    if (b->epochs < l->expert_epochs || b->experts < 1 ||
        meta[SS_BUF_EPOCHS] != (double)b->epochs ||
        meta[SS_BUF_EXPERTS] != (double)b->experts)
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "%s: %g experts of %g epochs: too short for "
                       "expert_epochs %lld",
                       dir, meta[SS_BUF_EXPERTS], meta[SS_BUF_EPOCHS],
                       (long long)l->expert_epochs);
    SS_TRY(ss_calloc_array(ctx, b->experts, sizeof *paths, &paths));
    for (e = 0; e < b->experts; e++) {
        SS_TRY(ss_alloc_array(ctx, (int64_t)sizeof path, 1, &paths[e]));
        SS_TRY(ss_lors_expert_path(ctx, dir, e, paths[e], sizeof path));
    }
    SS_TRY(ss_npy_rows_open(ctx, (const char *const *)paths, b->experts,
                            &b->rows));
    if (ss_npy_rows_count(b->rows) != b->experts * (b->epochs + 1) ||
        ss_npy_rows_cols(b->rows) != m->params)
        SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT,
                       "%s: the trajectories hold %lld x %lld values, "
                       "expected %lld x %lld",
                       dir, (long long)ss_npy_rows_count(b->rows),
                       (long long)ss_npy_rows_cols(b->rows),
                       (long long)(b->experts * (b->epochs + 1)),
                       (long long)m->params));
cleanup:
    if (paths)
        for (e = 0; e < b->experts; e++)
            ss_free(ctx, paths[e]);
    ss_free(ctx, paths);
    if (rc != SUBSEL_OK && b->rows) {
        ss_npy_rows_close(ctx, b->rows);
        b->rows = NULL;
    }
    return rc;
}

/* The synthetic set's first state: random real pairs, or noise with the
 * real columns' means and deviations; S~ = I; eta = expert_lr. */
static int init_set(subsel_ctx *ctx, subsel_lors *l, const subsel_dense *im,
                    const subsel_dense *tx)
{
    const subsel_dense *src[2] = {im, tx};
    double *dst[2] = {l->x, l->y};
    int64_t n = im->rows, N = l->sim.n, *perm = NULL, s, r, c;
    int rc = SUBSEL_OK;
    if (l->init == SUBSEL_LORS_INIT_REAL) {
        SS_TRY(ss_alloc_array(ctx, n, sizeof *perm, &perm));
        ss_lors_shuffle(&l->rng, n, perm);
    }
    for (s = 0; s < 2; s++) {
        int64_t d = src[s]->cols;
        if (perm) {
            for (r = 0; r < N; r++) {
                const float *row = ss_dense_row(src[s], perm[r]);
                for (c = 0; c < d; c++)
                    dst[s][r * d + c] = row[c];
            }
            continue;
        }
        for (c = 0; c < d; c++) {
            double mean = 0.0, var = 0.0;
            for (r = 0; r < n; r++)
                mean += ss_dense_row(src[s], r)[c];
            mean /= (double)n;
            for (r = 0; r < n; r++) {
                double dv = ss_dense_row(src[s], r)[c] - mean;
                var += dv * dv;
            }
            var /= (double)(n > 1 ? n - 1 : 1);
            for (r = 0; r < N; r++)
                dst[s][r * d + c] = mean + sqrt(var) * ss_rng_normal(&l->rng);
        }
    }
    ss_sim_init(&l->sim, &l->rng, l->sim_params);
    l->eta[0] = l->eta[1] = l->expert_lr;
cleanup:
    ss_free(ctx, perm);
    return rc;
}

/* Buffers of one call. */
typedef struct scratch {
    int64_t *batches, *perm;
    double *theta0, *theta_star, *gx, *gy, *gsim, *step_loss, *work;
    double *staged; /* the update's new values, before they are kept */
    float *pair;
} scratch;

static void scratch_free(subsel_ctx *ctx, scratch *s)
{
    void *blocks[] = {s->batches, s->perm, s->theta0, s->theta_star, s->gx,
                      s->gy, s->gsim, s->step_loss, s->work, s->staged,
                      s->pair};
    size_t i;
    for (i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        ss_free(ctx, blocks[i]);
}

static int all_finite(int64_t n, const double *v)
{
    int64_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* One group of the synthetic set's SGD with momentum, as PyTorch runs it
 * (dampening 0): buf' = mu buf + g, p' = p - lr buf'. */
typedef struct sgd_group {
    int64_t n;
    double lr;
    const double *g;
    double *buf, *p;
} sgd_group;

/* Computes every group's new buffers and values into `staged` and keeps
 * them only when all are finite: a step that overflows leaves the set as
 * it was. 1 when kept. */
static int sgd_update(const sgd_group *groups, int count, double mu,
                      double *staged)
{
    double *at = staged;
    int k;
    for (k = 0; k < count; k++) {
        const sgd_group *q = &groups[k];
        int64_t i;
        for (i = 0; i < q->n; i++) {
            at[i] = mu * q->buf[i] + q->g[i];
            at[q->n + i] = q->p[i] - q->lr * at[i];
        }
        if (!all_finite(2 * q->n, at))
            return 0;
        at += 2 * q->n;
    }
    for (k = 0, at = staged; k < count; at += 2 * groups[k].n, k++) {
        memcpy(groups[k].buf, at, sizeof(double) * (size_t)groups[k].n);
        memcpy(groups[k].p, at + groups[k].n,
               sizeof(double) * (size_t)groups[k].n);
    }
    return 1;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One iteration of Algorithm 1 on the handle's state. */
static int iterate(subsel_ctx *ctx, subsel_lors *l, buffer *b, ss_unroll *u,
                   scratch *s, FILE *log)
{
    const int64_t P = l->model.params, N = l->sim.n, T = u->steps;
    const int64_t m = u->batch, span = b->epochs - l->expert_epochs + 1;
    const int64_t sx = N * l->image_dim, sy = N * l->text_dim;
    const int64_t ssim = ss_sim_params(&l->sim);
    int64_t expert, start, ids[2], k, pos = N, i;
    double loss, geta[2], t0 = seconds_now();

    expert = (int64_t)ss_rng_below(&l->rng, (uint64_t)b->experts);
    start = (int64_t)ss_rng_below(
        &l->rng, (uint64_t)(l->max_start_epoch < span ? l->max_start_epoch
                                                      : span));
    ids[0] = expert * (b->epochs + 1) + start;
    ids[1] = ids[0] + l->expert_epochs;
    SS_CHECK(ss_npy_rows_read(ctx, b->rows, ids, 2, s->pair));
    for (i = 0; i < P; i++) {
        s->theta0[i] = s->pair[i];
        s->theta_star[i] = s->pair[P + i];
    }
    /* minibatches: consecutive runs of a permutation, a new one when the
     * next run would not fit (as the authors' code draws them) */
    for (k = 0; k < T; k++) {
        if (pos + m > N) {
            ss_lors_shuffle(&l->rng, N, s->perm);
            pos = 0;
        }
        memcpy(s->batches + k * m, s->perm + pos, sizeof(int64_t) * (size_t)m);
        pos += m;
    }
    u->theta0 = s->theta0;
    u->theta_star = s->theta_star;
    u->eta[0] = l->eta[0];
    u->eta[1] = l->eta[1];
    memset(s->gx, 0, sizeof(double) * (size_t)sx);
    memset(s->gy, 0, sizeof(double) * (size_t)sy);
    loss = ss_unroll_grad(ctx, u, s->gx, s->gy, s->gsim, geta, s->step_loss,
                          NULL, s->work);
    if (!isfinite(loss) || !all_finite(sx, s->gx) || !all_finite(sy, s->gy) ||
        !all_finite(ssim, s->gsim) || !all_finite(2, geta))
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "subsel_lors_distill: iteration %lld: the matching "
                       "loss (%g) or its gradient is not finite (expert "
                       "%lld, start epoch %lld); smaller learning rates may "
                       "help. The synthetic set is as before the iteration",
                       (long long)l->iterations + 1, loss, (long long)expert,
                       (long long)start);
    {
        sgd_group groups[4] = {
            {sx, l->lr_image, s->gx, l->mom_x, l->x},
            {sy, l->lr_text, s->gy, l->mom_y, l->y},
            {ssim, l->lr_sim, s->gsim, l->mom_sim, l->sim_params},
            {2, l->lr_lr, geta, l->mom_eta, l->eta}};
        if (!sgd_update(groups, 4, l->momentum, s->staged))
            return ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "subsel_lors_distill: iteration %lld: the update "
                           "overflows (learning rates too large?). The "
                           "synthetic set is as before the iteration",
                           (long long)l->iterations + 1);
    }
    l->iterations++;
    l->last_loss = loss;
    if (log)
        fprintf(log,
                "{\"iteration\":%lld,\"loss\":%.9g,\"expert\":%lld,"
                "\"start_epoch\":%lld,\"first_step_loss\":%.9g,"
                "\"last_step_loss\":%.9g,\"eta_image\":%.9g,"
                "\"eta_text\":%.9g,\"seconds\":%.6f}\n",
                (long long)l->iterations, loss, (long long)expert,
                (long long)start, s->step_loss[0], s->step_loss[T - 1],
                l->eta[0], l->eta[1], seconds_now() - t0);
    return SUBSEL_OK;
}

int subsel_lors_distill(subsel_ctx *ctx, subsel_lors *l,
                        const subsel_dense *images, const subsel_dense *texts,
                        const char *buffer_dir, int64_t iterations,
                        const char *log_path)
{
    ss_model m;
    buffer b = {0};
    scratch s = {0};
    ss_unroll u;
    FILE *log = NULL;
    int64_t it, N, batch;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, l, SS_KIND_LORS);
    SS_REQUIRE_NONNULL(ctx, buffer_dir);
    if (iterations < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: iterations %lld is negative", __func__,
                       (long long)iterations);
    if (!l->started)
        SS_CHECK(ss_lors_check_pairs(ctx, l, images, texts, l->pairs,
                                     __func__));
    if (l->started) {
        m = l->model;
    } else {
        ss_lors_model_of(l, &m);
    }
    /* loss and beta may change between calls; the rest is fixed */
    m.loss = (int)l->loss;
    m.beta = l->beta;
    SS_CHECK(open_buffer(ctx, l, &m, buffer_dir, &b));
    if (!l->started) {
        l->model = m;
        ss_lors_sim_of(l, l->pairs, &l->sim);
        SS_TRY(ss_lors_alloc_set(ctx, l));
        rc = init_set(ctx, l, images, texts);
        if (rc != SUBSEL_OK) {
            ss_lors_free_set(l);
            goto cleanup;
        }
        l->started = 1;
    }
    l->model = m;
    N = l->sim.n;
    batch = l->batch < N ? l->batch : N;
    u.model = &l->model;
    u.sim = &l->sim;
    u.steps = l->syn_steps;
    u.batch = batch;
    u.x = l->x;
    u.y = l->y;
    u.sim_params = l->sim_params;
    u.span = SS_SPAN_AUTO;
    SS_TRY(ss_alloc_array(ctx, u.steps * batch, sizeof(int64_t), &s.batches));
    u.batches = s.batches;
    SS_TRY(ss_alloc_array(ctx, N, sizeof(int64_t), &s.perm));
    SS_TRY(ss_alloc_array(ctx, m.params, sizeof(double), &s.theta0));
    SS_TRY(ss_alloc_array(ctx, m.params, sizeof(double), &s.theta_star));
    SS_TRY(ss_alloc_array(ctx, 2 * m.params, sizeof(float), &s.pair));
    SS_TRY(ss_alloc_array(ctx, N * l->image_dim, sizeof(double), &s.gx));
    SS_TRY(ss_alloc_array(ctx, N * l->text_dim, sizeof(double), &s.gy));
    SS_TRY(ss_alloc_array(ctx, ss_sim_params(&l->sim), sizeof(double),
                          &s.gsim));
    SS_TRY(ss_alloc_array(ctx, u.steps, sizeof(double), &s.step_loss));
    SS_TRY(ss_alloc_array(ctx,
                          2 * (N * (l->image_dim + l->text_dim) +
                               ss_sim_params(&l->sim) + 2),
                          sizeof(double), &s.staged));
    SS_TRY(ss_alloc_array(ctx, ss_unroll_work_size(&u), sizeof(double),
                          &s.work));
    if (log_path) {
        log = fopen(log_path, "a");
        if (log == NULL)
            SS_TRY(ss_fail(ctx, SUBSEL_E_IO, "%s: %s", log_path,
                           strerror(errno)));
    }
    SS_TRY(ss_progress(ctx, "distill", 0, iterations));
    for (it = 0; it < iterations; it++) {
        SS_TRY(iterate(ctx, l, &b, &u, &s, log));
        if (log && fflush(log) != 0)
            SS_TRY(ss_fail(ctx, SUBSEL_E_IO, "%s: the log cannot be written",
                           log_path));
        SS_TRY(ss_progress(ctx, "distill", it + 1, iterations));
    }
cleanup:
    if (log != NULL && fclose(log) != 0 && rc == SUBSEL_OK)
        rc = ss_fail(ctx, SUBSEL_E_IO, "%s: the log cannot be written",
                     log_path);
    if (b.rows)
        ss_npy_rows_close(ctx, b.rows);
    scratch_free(ctx, &s);
    return rc;
}
