/* SPDX-License-Identifier: MIT */
/*
 * The exact distributed stochastic greedy. Every process keeps the same
 * random pool permutation as stochastic greedy on one process would (the
 * same stream, the same partial Fisher-Yates draws: ss_sample_draw), so
 * every process draws the same sample each step. Each evaluates the
 * sampled items it holds against its own state, the processes agree on the
 * best (core/rank.h's order: largest gain, ties to the lowest global id),
 * the process holding it sends its row, and every process adds that row to
 * its state. The states are then the one state of a single process, held
 * in copies: same sums, added in the same order, so the same gains, bit
 * for bit, and the same selection. The price is a permutation of the whole
 * pool's ids in every process (8 bytes a row) and two collectives a step.
 */
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "core/rng.h"
#include "distributed/distributed.h"
#include "objectives/objective.h"
#include "optim/optim.h"
#include "optim/step.h"

/* The best of this process's items among pool[first .. first + count)
 * into *best (kept when nothing of the block beats it). */
static int evaluate_block(subsel_ctx *ctx, const subsel_objective *obj,
                          const void *state, int64_t offset,
                          const int64_t *sample, int64_t count,
                          int64_t *local, int64_t *global, double *gains,
                          int64_t *evaluations, ss_candidate *best)
{
    int64_t j, held = 0, pos;
    for (j = 0; j < count; j++)
        if (sample[j] >= offset && sample[j] - offset < obj->n) {
            global[held] = sample[j];
            local[held++] = sample[j] - offset;
        }
    if (held == 0)
        return SUBSEL_OK;
    ss_objective_prefetch(obj, state, local, held, SS_PREFETCH_DATA);
    SS_CHECK(ss_objective_gains(ctx, obj, state, local, held, gains, evaluations));
    pos = ss_argmax(global, gains, held);
    if (best->item < 0 ||
        ss_ranks_before(gains[pos], global[pos], best->gain, best->item)) {
        best->item = global[pos];
        best->gain = gains[pos];
    }
    return SUBSEL_OK;
}

/* The process holding global id `item`. */
static int owner_of(const int64_t *offsets, int size, int64_t item)
{
    int lo = 0, hi = size - 1;
    while (lo < hi) { /* the last r with offsets[r] <= item */
        int mid = lo + (hi - lo + 1) / 2;
        if (offsets[mid] <= item)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* Adds the step's winner to this process's state: its own item, or the
 * row its holder broadcasts. */
static int add_winner(subsel_ctx *ctx, const subsel_objective *obj,
                      void *state, const ss_exchange *ex,
                      const int64_t *offsets, int64_t item)
{
    int owner = owner_of(offsets, ex->size, item);
    subsel_csr *rows = NULL, *got = NULL;
    int32_t *labels = NULL, label = 0, got_label = 0;
    int64_t local = item - offsets[ex->rank];
    int rc = SUBSEL_OK;

    if (owner == ex->rank) {
        /* a failure here still broadcasts (rows NULL), so the others do not
         * wait for a row that never comes */
        rc = ss_objective_rows(ctx, obj, &local, 1, &rows, &labels);
        if (labels != NULL)
            label = labels[0];
        SS_TRY(ex->broadcast_row(ctx, ex->impl, owner, rows, 0, label, NULL, NULL));
        SS_TRY(rc);
        SS_TRY(ss_objective_add(ctx, obj, state, local));
    } else {
        SS_TRY(ex->broadcast_row(ctx, ex->impl, owner, NULL, 0, 0, &got, &got_label));
        SS_TRY(ss_objective_add_row(ctx, obj, state, got, 0, got_label));
    }
cleanup:
    subsel_csr_free(rows);
    subsel_csr_free(got);
    ss_free(ctx, labels);
    return rc;
}

int ss_exact_select(subsel_ctx *ctx, const subsel_optimizer *opt,
                    const subsel_objective *obj, const int64_t *offsets,
                    const ss_exchange *ex, subsel_selection **out)
{
    int64_t total = offsets[ex->size], offset = offsets[ex->rank];
    int64_t *pool = NULL, *draws = NULL, *local = NULL, *global = NULL;
    double *gains = NULL, value = 0.0;
    ss_candidate *all = NULL;
    ss_trace trace;
    ss_run_config cfg;
    void *state = NULL;
    ss_rng rng;
    int64_t remaining = total, s, block, i;
    int rc = SUBSEL_OK, failed = SUBSEL_OK;

    memset(&trace, 0, sizeof trace);
    /* subsel_optimizer_run's single run over the whole pool; progress from
     * rank 0 alone */
    ss_run_config_of(ctx, opt, obj, total, &cfg);
    cfg.report = ex->rank == 0;
    s = ss_stochastic_sample_size(total, cfg.budget, cfg.epsilon);
    block = s < SS_SAMPLE_BLOCK ? s : SS_SAMPLE_BLOCK;
    ss_rng_seed(&rng, cfg.seed, cfg.stream);

    /* every process's memory first (the pool permutation is the big one),
     * agreed on before the first step */
    failed = ss_trace_init(ctx, &trace, cfg.budget);
    if (failed == SUBSEL_OK)
        failed = ss_alloc_array(ctx, total, sizeof *pool, &pool);
    if (failed == SUBSEL_OK)
        failed = ss_alloc_array(ctx, block, sizeof *draws, &draws);
    if (failed == SUBSEL_OK)
        failed = ss_alloc_array(ctx, block, sizeof *local, &local);
    if (failed == SUBSEL_OK)
        failed = ss_alloc_array(ctx, block, sizeof *global, &global);
    if (failed == SUBSEL_OK)
        failed = ss_alloc_array(ctx, block, sizeof *gains, &gains);
    if (failed == SUBSEL_OK)
        failed = ss_alloc_array(ctx, ex->size, sizeof *all, &all);
    if (failed == SUBSEL_OK)
        failed = ss_objective_state_new(ctx, obj, &state);
    SS_TRY(ex->agree(ctx, ex->impl, failed));
    for (i = 0; i < total; i++)
        pool[i] = i;
    if (cfg.report)
        SS_TRY(ss_progress(ctx, "select", 0, cfg.budget));

    while (trace.count < cfg.budget && remaining > 0) {
        int64_t size = s < remaining ? s : remaining, first, pos;
        ss_candidate mine = {0.0, -1, 0}, best = {0.0, -1, 0};
        /* a failure of the last step's add waits for this exchange */
        int step_rc = failed != SUBSEL_OK
                          ? failed
                          : ss_step_begin(ctx, obj, state, &cfg, &trace);
        for (first = 0; first < size && step_rc == SUBSEL_OK; first += block) {
            int64_t count = size - first < block ? size - first : block;
            ss_sample_draw(&rng, pool, remaining, first, count, draws);
            step_rc = evaluate_block(ctx, obj, state, offset, pool + first, count,
                                     local, global, gains, &trace.evaluations, &mine);
        }
        /* every process reaches the exchange, failed or not, so none waits
         * for another that has given up */
        mine.cancel = step_rc == SUBSEL_OK ? 0 : step_rc == SUBSEL_E_CANCELLED ? 1 : 2;
        SS_TRY(ex->gather(ctx, ex->impl, &mine, all));
        SS_TRY(step_rc);
        for (i = 0; i < ex->size; i++) {
            if (all[i].cancel != 0) {
                rc = ss_fail(ctx, all[i].cancel == 1 ? SUBSEL_E_CANCELLED : SUBSEL_E_STATE,
                             "rank %lld %s", (long long)i,
                             all[i].cancel == 1 ? "was cancelled"
                                                : "failed (its message is on that rank)");
                goto cleanup;
            }
            if (all[i].item >= 0 &&
                (best.item < 0 ||
                 ss_ranks_before(all[i].gain, all[i].item, best.gain, best.item)))
                best = all[i];
        }
        if (ss_step_stops(&cfg, best.gain, &trace))
            break;
        /* a failure here is said at the next exchange, or at the final
         * agreement; the bookkeeping below goes on, so that every process
         * takes the same steps */
        failed = add_winner(ctx, obj, state, ex, offsets, best.item);
        trace.items[trace.count] = best.item;
        trace.gains[trace.count++] = best.gain;
        /* take the chosen item out of the pool */
        for (pos = 0; pool[pos] != best.item; pos++)
            ;
        pool[pos] = pool[--remaining];
    }
    if (failed == SUBSEL_OK)
        failed = ss_objective_value(ctx, obj, state, &value);
    if (failed == SUBSEL_OK)
        failed = ss_selection_new(ctx, trace.items, trace.gains, trace.count, value,
                                  trace.evaluations, out);
    rc = ex->agree(ctx, ex->impl, failed);
    if (rc != SUBSEL_OK) {
        subsel_selection_free(*out);
        *out = NULL;
        goto cleanup;
    }
    ss_selection_set_budget(*out, cfg.budget, ss_trace_short_reason(&trace, cfg.budget));
    if (cfg.report) /* the selection is made: a cancel now changes nothing */
        (void)ss_progress(ctx, "select", cfg.budget, cfg.budget);
cleanup:
    ss_objective_state_free(obj, state);
    ss_trace_free(ctx, &trace);
    ss_free(ctx, pool);
    ss_free(ctx, draws);
    ss_free(ctx, local);
    ss_free(ctx, global);
    ss_free(ctx, gains);
    ss_free(ctx, all);
    return rc;
}
