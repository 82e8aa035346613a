/* SPDX-License-Identifier: MIT */
/*
 * A progress stage for long passes whose work comes in small, uneven
 * pieces (reading a file, checking a matrix, summing a target's columns):
 * it reports the stage on the context from 0 to its total, every so much
 * work, so that the user's callback sees the pass move and can cancel it
 * between blocks.
 */
#ifndef SS_CORE_PROGRESS_H
#define SS_CORE_PROGRESS_H

#include <stdint.h>

#include "subsel.h"

/* Work between two reports: bytes read, or rows plus entries checked. */
#define SS_PROGRESS_WORK ((int64_t)1 << 20)

/* Reports (stage, 0, total) at the start, (stage, done, total) once
 * SS_PROGRESS_WORK more work has been done, and (stage, total, total) at
 * the end. total 0 means unknown (a stream) until the end, when it becomes
 * what was done. Every report may return SUBSEL_E_CANCELLED. */
typedef struct ss_stage {
    subsel_ctx *ctx;
    const char *stage;
    int64_t done, total, work, next;
} ss_stage;

int ss_stage_begin(ss_stage *m, subsel_ctx *ctx, const char *stage,
                   int64_t total);
int ss_stage_report(ss_stage *m);
int ss_stage_end(ss_stage *m);

/* Adds `done` to the count and `work` to the work done. */
static inline int ss_stage_add(ss_stage *m, int64_t done, int64_t work)
{
    m->done += done;
    m->work += work;
    return m->work < m->next ? SUBSEL_OK : ss_stage_report(m);
}

#endif
