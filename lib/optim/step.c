/* SPDX-License-Identifier: MIT */
/*
 * Shared per-step pieces of the greedy algorithms.
 */
#include "core/ctx.h"
#include "core/error.h"
#include "optim/step.h"

int ss_run_progress(subsel_ctx *ctx, const ss_run_config *cfg,
                    const char *stage, int64_t done, int64_t total, int due)
{
    int rc;
    if (cfg->cancel != NULL && __atomic_load_n(cfg->cancel, __ATOMIC_RELAXED))
        return ss_fail(ctx, SUBSEL_E_CANCELLED,
                       "%s: cancelled by the progress callback", stage);
    if (!cfg->report || !due)
        return SUBSEL_OK;
    rc = ss_progress(ctx, stage, done, total);
    if (rc != SUBSEL_OK && cfg->cancel != NULL)
        __atomic_store_n(cfg->cancel, 1, __ATOMIC_RELAXED);
    return rc;
}

int ss_step_begin(subsel_ctx *ctx, const subsel_objective *obj,
                  const void *state, const ss_run_config *cfg,
                  ss_trace *trace)
{
    const ss_checkpoint *cp = cfg->checkpoint;
    int64_t every = cfg->budget / 200 > 0 ? cfg->budget / 200 : 1;
    int64_t done = trace->count, total = cfg->budget;
    int rc;
    if (cfg->report_total > 0) {
        /* a part reports its steps as a stretch of the whole selection's */
        done = cfg->report_offset + (int64_t)((double)trace->count *
                                              (double)cfg->report_total /
                                              (double)cfg->budget);
        total = cfg->report_of;
    }
    rc = ss_run_progress(ctx, cfg, "select", done, total,
                         trace->count > 0 && trace->count % every == 0);
    /* a cancelled run leaves what it chose in its checkpoint, so that no
     * step is lost; a run resumed from a checkpoint does not write the
     * same one again */
    if (cp != NULL && trace->count > trace->checkpointed &&
        (rc == SUBSEL_E_CANCELLED ||
         (rc == SUBSEL_OK && cp->every > 0 && trace->count % cp->every == 0))) {
        int written = ss_checkpoint_write(ctx, obj, state, cp, trace);
        if (written != SUBSEL_OK)
            return written;
        trace->checkpointed = trace->count;
    }
    return rc;
}

int ss_step_stops(const ss_run_config *cfg, double best_gain,
                  ss_trace *trace)
{
    if (!cfg->stop_nonpositive || best_gain > 0)
        return 0;
    trace->short_reason = SUBSEL_SHORT_NONPOSITIVE;
    return 1;
}

int64_t ss_argmax(const int64_t *items, const double *gains, int64_t count)
{
    int64_t j, best = 0;
    for (j = 1; j < count; j++)
        if (ss_ranks_before(gains[j], items[j], gains[best], items[best]))
            best = j;
    return best;
}

int ss_step_commit(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                   int64_t item, double gain, ss_trace *trace)
{
    SS_CHECK(ss_objective_add(ctx, obj, state, item));
    trace->items[trace->count] = item;
    trace->gains[trace->count] = gain;
    trace->count++;
    return SUBSEL_OK;
}
