/* SPDX-License-Identifier: MIT */
/*
 * The parallel pass of core/sweep.h.
 */
#include "core/ctx.h"
#include "core/error.h"
#include "core/sweep.h"

/* Blocks per thread in one round: enough to even out uneven blocks, few
 * enough that progress and cancellation come often. */
#define BLOCKS_PER_THREAD 4

int ss_sweep(subsel_ctx *ctx, ss_stage *meter, int64_t n, int64_t block,
             int64_t done_per_item, int64_t work_per_item, ss_sweep_fn visit,
             void *arg, int64_t *first_bad)
{
    const int64_t blocks = n > 0 ? (n - 1) / block + 1 : 0;
    const int threads = ss_threads_for(ctx, blocks);
    const int64_t round = (int64_t)threads * BLOCKS_PER_THREAD;
    int64_t b0;

    *first_bad = -1;
    for (b0 = 0; b0 < blocks; b0 += round) {
        const int64_t b1 = blocks - b0 < round ? blocks : b0 + round;
        const int64_t done = (b1 == blocks ? n : b1 * block) - b0 * block;
        int64_t bad = INT64_MAX, b;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) reduction(min : bad) if (threads > 1)
        for (b = b0; b < b1; b++) {
            const int64_t begin = b * block;
            const int64_t end = n - begin < block ? n : begin + block;
            const int64_t r = visit(arg, begin, end);
            if (r >= 0 && r < bad)
                bad = r;
        }
        if (bad != INT64_MAX) {
            *first_bad = bad;
            return SUBSEL_OK;
        }
        if (meter != NULL)
            SS_CHECK(ss_stage_add(meter, done * done_per_item,
                                  done * work_per_item));
    }
    return SUBSEL_OK;
}
