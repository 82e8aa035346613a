/* SPDX-License-Identifier: MIT */
/*
 * The progress meter of the matrix layer's long passes.
 */
#include "core/ctx.h"
#include "core/progress.h"

int ss_stage_begin(ss_stage *m, subsel_ctx *ctx, const char *stage,
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

int ss_stage_report(ss_stage *m)
{
    m->next = m->work + SS_PROGRESS_WORK;
    /* the end is reported once, by ss_stage_end */
    if (m->total > 0 && m->done >= m->total)
        return SUBSEL_OK;
    return ss_progress(m->ctx, m->stage, m->done, m->total);
}

int ss_stage_end(ss_stage *m)
{
    if (m->total == 0)
        m->total = m->done;
    m->done = m->total;
    return ss_progress(m->ctx, m->stage, m->done, m->total);
}
