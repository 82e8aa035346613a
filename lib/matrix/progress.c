/* SPDX-License-Identifier: MIT */
/*
 * The progress meter of the matrix layer's long passes.
 */
#include "core/ctx.h"
#include "matrix/progress.h"

int ss_meter_begin(ss_meter *m, subsel_ctx *ctx, const char *stage,
                   int64_t total)
{
    m->ctx = ctx;
    m->stage = stage;
    m->done = 0;
    m->total = total;
    m->work = 0;
    m->next = SS_PROGRESS_WORK;
    return ss_progress(ctx, stage, 0, total);
}

int ss_meter_report(ss_meter *m)
{
    m->next = m->work + SS_PROGRESS_WORK;
    /* the end is reported once, by ss_meter_end */
    if (m->total > 0 && m->done >= m->total)
        return SUBSEL_OK;
    return ss_progress(m->ctx, m->stage, m->done, m->total);
}

int ss_meter_end(ss_meter *m)
{
    if (m->total == 0)
        m->total = m->done;
    m->done = m->total;
    return ss_progress(m->ctx, m->stage, m->done, m->total);
}
