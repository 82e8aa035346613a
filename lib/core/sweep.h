/* SPDX-License-Identifier: MIT */
/*
 * One parallel pass over n items in fixed blocks, for the checks that run
 * over whole arrays (a loaded matrix's structure and values, a mapped
 * archive member's CRC): blocks are shared among the context's threads a
 * round at a time, and between rounds the caller's progress stage moves
 * (so its callback can cancel). A visit returns the first bad item of its
 * block; the pass returns the lowest one, which is the item a serial loop
 * would have stopped at, whatever the threads.
 */
#ifndef SS_CORE_SWEEP_H
#define SS_CORE_SWEEP_H

#include <stdint.h>

#include "core/progress.h"
#include "subsel.h"

/* Checks items [begin, end) (block number begin / block); returns the
 * first bad one, or -1. Runs on any thread: it must only read shared
 * data, or write the slots of its own block. */
typedef int64_t (*ss_sweep_fn)(void *arg, int64_t begin, int64_t end);

/* Visits [0, n) in blocks of `block` items (the last may be shorter).
 * After each round, adds `done_per_item` times the items done to `meter`'s
 * count and `work_per_item` times them to its work (the meter's own units:
 * rows, bytes); `meter` is begun by the caller, or NULL (no progress, no
 * cancellation). *first_bad is the lowest bad item
 * any visit returned, or -1 when all were fine; a round with a bad item
 * ends the pass. SUBSEL_E_CANCELLED when the progress callback stops it. */
int ss_sweep(subsel_ctx *ctx, ss_stage *meter, int64_t n, int64_t block,
             int64_t done_per_item, int64_t work_per_item, ss_sweep_fn visit,
             void *arg, int64_t *first_bad);

#endif
