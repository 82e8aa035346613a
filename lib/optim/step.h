/* SPDX-License-Identifier: MIT */
/*
 * The pieces every greedy-type algorithm repeats each step, written once:
 * progress and cancellation before a step, the arg-max with ties to the
 * lowest index, and committing the chosen item.
 */
#ifndef SS_OPTIM_STEP_H
#define SS_OPTIM_STEP_H

#include "core/rank.h"
#include "optim/optim.h"

/* Progress of one run, the way every algorithm reports it: fails with
 * SUBSEL_E_CANCELLED once any parallel run was cancelled (cfg->cancel);
 * else, when `due` and this is the reporting run, reports (stage, done,
 * total), and a cancel by the callback sets cfg->cancel for the others. */
int ss_run_progress(subsel_ctx *ctx, const ss_run_config *cfg,
                    const char *stage, int64_t done, int64_t total, int due);

/* Reports progress (stage "select") from the reporting run about 200 times
 * per run, and stops every run once one of them was cancelled. The stage's
 * first report (0) and last (budget) are the driver's (optimizer.c), so
 * this one reports only 0 < done < budget. With cfg->checkpoint, writes
 * the checkpoint (the trace's items; `state` holds them) every
 * cfg->checkpoint->every items and when the run is cancelled here. */
int ss_step_begin(subsel_ctx *ctx, const subsel_objective *obj,
                  const void *state, const ss_run_config *cfg,
                  ss_trace *trace);

/* Nonzero when the run must end before adding an item of gain
 * `best_gain` (cfg->stop_nonpositive and best_gain <= 0); the trace then
 * records SUBSEL_SHORT_NONPOSITIVE. */
int ss_step_stops(const ss_run_config *cfg, double best_gain,
                  ss_trace *trace);

/* The position of the best gain by ss_ranks_before (core/rank.h): the
 * largest, ties to the lowest item index. count > 0; the gains come from
 * ss_objective_gains, which refused NaN. */
int64_t ss_argmax(const int64_t *items, const double *gains, int64_t count);

/* Adds `item` to the state and appends it with its gain to the trace. */
int ss_step_commit(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                   int64_t item, double gain, ss_trace *trace);

#endif
