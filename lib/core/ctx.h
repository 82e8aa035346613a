/* SPDX-License-Identifier: MIT */
/*
 * The context as the library sees it: options, allocator, progress callback
 * and error message. Internal code reaches its fields directly.
 */
#ifndef SS_CORE_CTX_H
#define SS_CORE_CTX_H

#include <stdint.h>

#include "core/handle.h"
#include "core/options.h"
#include "kernels/kernels.h"
#include "subsel.h"

#define SS_ERROR_CAPACITY 512

struct subsel_ctx {
    SS_HANDLE_HEAD;     /* alloc: the user's hooks, charged to `meter` */
    int64_t threads;    /* 0: the OpenMP default */
    int64_t seed;
    int64_t max_isa;
    int64_t memory_limit; /* mirrored into meter.limit when set */
    int64_t parallel_gains; /* SUBSEL_PARALLEL_* */
    int64_t map_files;      /* 1: use files in place (lib/matrix/mapping.h) */
    subsel_progress_fn progress;
    void *progress_user;
    char last_error[SS_ERROR_CAPACITY];
    /* Outlives the rest of the context while handles made through it hold
     * blocks: see lib/core/alloc.h. */
    ss_meter meter;
};

/* The context's parameters (SUBSEL_P_THREADS ...). */
extern const ss_param_kind ss_ctx_params;

/* The kernel table calls on ctx must use: the process's level lowered by
 * SUBSEL_P_MAX_ISA, rounded down to a usable one (never NULL). */
const ss_kernels *ss_kernels_for(const subsel_ctx *ctx);

/* Threads to use for a parallel region of `work` independent items: the
 * context's count (subsel_ctx_threads(), capped at the CPUs available),
 * never more threads than items, at least 1. */
int ss_threads_for(const subsel_ctx *ctx, int64_t work);

/* Nonzero inside an OpenMP parallel region (where a nested region would
 * run on one thread anyway). */
int ss_in_parallel(void);

/* Threads for a batch of `count` gains that touch `work` entries in all,
 * for an objective whose parallel region pays from `min_work` entries: as
 * SUBSEL_P_PARALLEL_GAINS says (AUTO and PIPELINE: from min_work; NEVER:
 * 1; ALWAYS: one per item up to the context's), and 1 inside a parallel
 * region. */
int ss_threads_for_gains(const subsel_ctx *ctx, int64_t count, double work,
                         double min_work);

/* Reports progress; SUBSEL_E_CANCELLED (with a message) when the callback
 * asks to stop, SUBSEL_OK otherwise (also without a callback). Call from the
 * caller's thread only. */
int ss_progress(subsel_ctx *ctx, const char *stage, int64_t done,
                int64_t total);

#endif
