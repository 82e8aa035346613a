/* SPDX-License-Identifier: MIT */
/*
 * Double greedy (Buchbinder, Feldman, Naor, Schwartz 2015) for unconstrained
 * maximisation of non-monotone set functions, over any objective whose ops
 * can remove items and report losses. One pass over a ground set: X grows
 * from the empty set, Y shrinks from the ground set, and each item joins X
 * or leaves Y; at the end X = Y.
 */
#ifndef SS_OPTIM_DOUBLE_GREEDY_H
#define SS_OPTIM_DOUBLE_GREEDY_H

#include <stdint.h>

#include "optim/optim.h"

/* The random stream of the coin flips when double greedy runs outside the
 * optimizer (subsel_double_greedy, the ClipCov filter): distinct from the
 * streams 0..1023 of seeded optimizer runs. */
#define SS_DOUBLE_GREEDY_STREAM UINT64_C(0x6467000000000000)

/* Double greedy over `ground` (count distinct indices in [0, n), checked;
 * NULL: all n items in index order). `x_state` starts as the items the
 * trace already holds (an initial set, kept: Y starts with them too; none
 * outside the optimizer) and ends holding X. Appends X's decided items to
 * `trace` in ground order with the gains a of
 * adding its items (the trace must have room for count items). randomized:
 * the coins come from (cfg->seed, cfg->stream). Progress (stage "double
 * greedy") when cfg->report; stops when cfg->cancel is set. Objectives
 * without remove/losses: SUBSEL_E_UNSUPPORTED. */
int ss_double_greedy_run(subsel_ctx *ctx, const subsel_objective *obj,
                         void *x_state, const int64_t *ground, int64_t count,
                         int randomized, const ss_run_config *cfg,
                         ss_trace *trace);

/* The same with its own X state, seed and stream, reporting progress: the
 * form the ClipCov pipeline and subsel_double_greedy use. */
int ss_double_greedy(subsel_ctx *ctx, const subsel_objective *obj,
                     const int64_t *ground, int64_t count, int randomized,
                     uint64_t seed, uint64_t stream, ss_trace *trace);

#endif
