/* SPDX-License-Identifier: MIT */
/*
 * Expert trajectories (`subsel lors buffer`): towers trained on the real
 * pairs with plain SGD and InfoNCE-type targets (S = I), their parameters
 * saved before the first epoch and after every epoch. Distillation matches
 * a student trained on the synthetic set against these.
 *
 * The folder: expert_0000.npy ... (float32, (epochs + 1) x parameters) and
 * meta.npy (float64, the BUF_* fields below), which is removed first and
 * written last, naming how many experts are complete: a folder whose
 * training was cancelled still serves with the experts it has.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "lors/lors.h"
#include "matrix/fileio.h"
#include "matrix/matrix.h"
#include "matrix/npy.h"

int ss_lors_buffer_meta(const subsel_lors *l, const ss_model *m,
                        int64_t experts, double *meta)
{
    meta[SS_BUF_FORMAT] = SS_BUF_FORMAT_VERSION;
    meta[SS_BUF_TOWER] = (double)l->tower;
    meta[SS_BUF_IMAGE_DIM] = (double)l->image_dim;
    meta[SS_BUF_TEXT_DIM] = (double)l->text_dim;
    meta[SS_BUF_EMBED_DIM] = (double)l->embed_dim;
    meta[SS_BUF_LEARN_TEMPERATURE] = (double)l->learn_temperature;
    meta[SS_BUF_TEMPERATURE] = l->temperature;
    meta[SS_BUF_PARAMS] = (double)m->params;
    meta[SS_BUF_EPOCHS] = (double)l->buffer_epochs;
    meta[SS_BUF_EXPERTS] = (double)experts;
    return SS_BUF_COUNT;
}

int ss_lors_expert_path(subsel_ctx *ctx, const char *dir, int64_t expert,
                        char *buf, size_t cap)
{
    char name[32];
    snprintf(name, sizeof name, "expert_%04lld.npy", (long long)expert);
    return ss_path_join(ctx, dir, name, buf, cap);
}

int subsel_lors_buffer(subsel_ctx *ctx, subsel_lors *l,
                       const subsel_dense *images, const subsel_dense *texts,
                       const char *dir, const char *log_path)
{
    ss_model m;
    ss_sim identity = {SS_SIM_IDENTITY, 0, 1, 0.0};
    double *x = NULL, *y = NULL, *theta = NULL, meta[SS_BUF_COUNT];
    float *traj = NULL;
    FILE *log = NULL;
    char path[4096];
    int64_t E, n, i, done = 0;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, l, SS_KIND_LORS);
    SS_REQUIRE_NONNULL(ctx, dir);
    SS_CHECK(ss_lors_check_pairs(ctx, l, images, texts, 2, __func__));
    ss_lors_model_of(l, &m);
    /* experts train as CLIP does, whatever loss the distillation will use
     * (the trajectories do not record one, so any handle may match them) */
    m.loss = SS_LOSS_INFONCE;
    n = images->rows;
    E = l->buffer_epochs;
    identity.n = n;
    SS_TRY(ss_lors_rows_double(ctx, images, &x));
    SS_TRY(ss_lors_rows_double(ctx, texts, &y));
    SS_TRY(ss_alloc_array(ctx, m.params, sizeof *theta, &theta));
    SS_TRY(ss_alloc_array(ctx, (E + 1) * m.params, sizeof *traj, &traj));
    SS_TRY(ss_make_dir(ctx, dir));
    SS_TRY(ss_path_join(ctx, dir, "meta.npy", path, sizeof path));
    if (remove(path) != 0 && errno != ENOENT)
        SS_TRY(ss_fail(ctx, SUBSEL_E_IO, "%s: %s", path, strerror(errno)));
    if (log_path) {
        log = fopen(log_path, "a");
        if (log == NULL)
            SS_TRY(ss_fail(ctx, SUBSEL_E_IO, "%s: %s", log_path,
                           strerror(errno)));
    }
    SS_TRY(ss_progress(ctx, "buffer", 0, l->experts * E));
    for (i = 0; i < l->experts; i++) {
        double lr[2] = {l->expert_lr, l->expert_lr};
        int64_t shape[2] = {E + 1, m.params};
        char tag[48];
        ss_rng rng;
        ss_rng_seed(&rng, (uint64_t)l->seed,
                    SS_LORS_STREAM_EXPERT + (uint64_t)i);
        ss_tower_init(&m.image, &rng, theta);
        ss_tower_init(&m.text, &rng, theta + m.image_params);
        if (m.learn_scale)
            theta[m.params - 1] = m.scale;
        snprintf(tag, sizeof tag, "\"expert\":%lld,", (long long)i);
        rc = ss_lors_train(ctx, &m, theta, n, x, y, &identity, NULL, E,
                           l->expert_batch, lr, 0.0, 0.0, -1, &rng, traj, log,
                           tag, "buffer", i * E, l->experts * E);
        if (rc != SUBSEL_OK)
            break;
        SS_TRY(ss_lors_expert_path(ctx, dir, i, path, sizeof path));
        SS_TRY(ss_npy_save_array(ctx, path, "<f4", 4, 2, shape, traj));
        done = i + 1;
    }
    if (done > 0) {
        int wrc;
        ss_lors_buffer_meta(l, &m, done, meta);
        wrc = ss_path_join(ctx, dir, "meta.npy", path, sizeof path);
        if (wrc == SUBSEL_OK)
            wrc = subsel_npy_write_f64(ctx, path, meta, SS_BUF_COUNT);
        if (rc == SUBSEL_OK)
            rc = wrc;
    }
cleanup:
    if (log != NULL && fclose(log) != 0 && rc == SUBSEL_OK)
        rc = ss_fail(ctx, SUBSEL_E_IO, "%s: the log cannot be written",
                     log_path);
    ss_free(ctx, x);
    ss_free(ctx, y);
    ss_free(ctx, theta);
    ss_free(ctx, traj);
    return rc;
}
