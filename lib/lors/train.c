/* SPDX-License-Identifier: MIT */
/*
 * Training towers by minibatch SGD on a set of pairs: how the experts learn
 * on the real pairs (their trajectories are what distillation matches) and
 * how evaluation trains fresh towers on a distilled or selected set (the
 * paper's Algorithm 2). One loop for both, so that the two cannot drift.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "lors/lors.h"

int ss_lors_train(subsel_ctx *ctx, const ss_model *m, double *theta,
                  int64_t n, const double *x, const double *y,
                  const ss_sim *sim, const double *sim_params,
                  int64_t epochs, int64_t batch, const double lr[2], double mu,
                  double wd, int64_t decay_epoch, ss_rng *rng,
                  float *trajectory, FILE *log, const char *tag,
                  const char *stage, int64_t done0, int64_t total)
{
    const int64_t P = m->params, di = m->image.in, dt = m->text.in;
    const int64_t b = batch < n ? batch : n;
    int64_t *perm = NULL, ep, i, start;
    double *bx = NULL, *by = NULL, *block = NULL, *grad = NULL, *buf = NULL;
    double *work = NULL;
    ss_model_work mw;
    ss_group_run runs[SS_GROUP_RUNS];
    int g, rc = SUBSEL_OK;

    SS_TRY(ss_alloc_array(ctx, n, sizeof *perm, &perm));
    SS_TRY(ss_alloc_array(ctx, b * di, sizeof *bx, &bx));
    SS_TRY(ss_alloc_array(ctx, b * dt, sizeof *by, &by));
    SS_TRY(ss_alloc_array(ctx, b * b, sizeof *block, &block));
    SS_TRY(ss_alloc_array(ctx, P, sizeof *grad, &grad));
    SS_TRY(ss_calloc_array(ctx, P, sizeof *buf, &buf));
    SS_TRY(ss_alloc_array(ctx, ss_model_work_size(m, b), sizeof *work,
                          &work));
    ss_model_work_carve(m, b, work, &mw);
    ss_model_group_runs(m, runs);
    if (trajectory)
        for (i = 0; i < P; i++)
            trajectory[i] = (float)theta[i];

    for (ep = 0; ep < epochs; ep++) {
        double scale = decay_epoch >= 0 && ep >= decay_epoch ? 0.1 : 1.0;
        double sum = 0.0;
        int64_t batches = 0;
        ss_lors_shuffle(rng, n, perm);
        for (start = 0; start < n; start += b) {
            int64_t len = n - start < b ? n - start : b, r;
            const int64_t *idx = perm + start;
            double l;
            for (r = 0; r < len; r++) {
                memcpy(bx + r * di, x + idx[r] * di, sizeof *bx * (size_t)di);
                memcpy(by + r * dt, y + idx[r] * dt, sizeof *by * (size_t)dt);
            }
            ss_sim_block(sim, sim_params, len, idx, block);
            l = ss_model_loss(ctx, m, theta, NULL, len, bx, by, block, grad,
                              NULL, NULL, NULL, NULL, NULL, NULL, NULL, &mw);
            if (!isfinite(l))
                SS_TRY(ss_fail(ctx, SUBSEL_E_NUMERIC,
                               "%s: the training loss is not finite in epoch "
                               "%lld (%g): training diverged; a smaller step "
                               "size may help",
                               stage, (long long)ep + 1, l));
            for (g = 0; g < SS_GROUP_RUNS; g++) {
                double step = lr[runs[g].group] * scale;
                for (i = runs[g].lo; i < runs[g].hi; i++) {
                    double gi = grad[i] + wd * theta[i];
                    buf[i] = mu * buf[i] + gi;
                    theta[i] -= step * buf[i];
                }
            }
            sum += l;
            batches++;
        }
        if (trajectory)
            for (i = 0; i < P; i++)
                trajectory[(ep + 1) * P + i] = (float)theta[i];
        if (log)
            fprintf(log, "{%s\"epoch\":%lld,\"loss\":%.9g}\n", tag ? tag : "",
                    (long long)ep + 1, sum / (double)batches);
        SS_TRY(ss_progress(ctx, stage, done0 + ep + 1, total));
    }
cleanup:
    ss_free(ctx, perm);
    ss_free(ctx, bx);
    ss_free(ctx, by);
    ss_free(ctx, block);
    ss_free(ctx, grad);
    ss_free(ctx, buf);
    ss_free(ctx, work);
    return rc;
}
