/* SPDX-License-Identifier: MIT */
/*
 * Selection across processes: the summary handle that partial selections
 * produce and merges consume (summary.c), its byte form (bytes.c), and the
 * exact distributed stochastic greedy over an abstract exchange (exact.c)
 * that the MPI component (mpi.c) implements with collectives.
 */
#ifndef SS_DISTRIBUTED_H
#define SS_DISTRIBUTED_H

#include <stdint.h>

#include "core/handle.h"
#include "subsel.h"

/* A part's (or a merge's) selection, self-contained: what a merge in
 * another process needs and nothing more. */
struct subsel_summary {
    SS_HANDLE_HEAD;
    int64_t count;       /* items chosen */
    int64_t total;       /* rows of the whole pool */
    int64_t evaluations; /* gains evaluated, over every part and merge */
    double value;        /* f of the set */
    int64_t *ids;        /* count global row ids, in the order chosen */
    double *gains;       /* count */
    subsel_csr *rows;    /* count rows: row i is ids[i]'s */
    int32_t *labels;     /* count row labels (SDM's bins), or NULL */
};

/* A summary that takes ownership of ids, gains, rows and labels (all
 * allocated on ctx; freed on failure). */
int ss_summary_adopt(subsel_ctx *ctx, int64_t count, int64_t total,
                     int64_t evaluations, double value, int64_t *ids,
                     double *gains, subsel_csr *rows, int32_t *labels,
                     subsel_summary **out);

/* ---- the exact distributed stochastic greedy (exact.c) ------------------ */

/* The winner of one step as one process saw it: its best sampled item
 * (global id; -1 when it held none of the sample) and that item's gain.
 * `cancel` is nonzero when the process was cancelled. */
typedef struct ss_candidate {
    double gain;
    int64_t item;
    int64_t cancel;
} ss_candidate;

/* What the exact algorithm needs from the engine that connects the
 * processes; every process calls these in the same order, and each call
 * completes on every process whatever failed locally (a failure that
 * leaves a process out of a call would leave the others waiting).
 * agree: every process's status; SUBSEL_OK when all are, else this
 *   process's own error or one naming a failed process.
 * gather: all processes' candidates of a step, into all[0 .. size).
 * broadcast_row: the process holding the step's winner (`owner`) sends its
 *   row (row `row` of `rows`, with its label; rows NULL when the owner
 *   could not get it: every process then fails); every other process
 *   receives it into a one-row matrix *got (freed by the caller) and its
 *   label. */
typedef struct ss_exchange {
    void *impl;
    int size, rank;
    int (*agree)(subsel_ctx *ctx, void *impl, int status);
    int (*gather)(subsel_ctx *ctx, void *impl, const ss_candidate *mine,
                  ss_candidate *all);
    int (*broadcast_row)(subsel_ctx *ctx, void *impl, int owner,
                         const subsel_csr *rows, int64_t row, int32_t label,
                         subsel_csr **got, int32_t *got_label);
} ss_exchange;

/* Stochastic greedy over a pool spread over the exchange's processes:
 * process r holds global ids offsets[r] .. offsets[r + 1] - 1 (offsets
 * has size + 1 entries, ascending, offsets[size] the pool's size), this
 * one as `obj`'s items. The selection (global ids, gains, value) equals
 * that of one run on one process holding the pool. */
int ss_exact_select(subsel_ctx *ctx, const subsel_optimizer *opt,
                    const subsel_objective *obj, const int64_t *offsets,
                    const ss_exchange *ex, subsel_selection **out);

#endif
