/* SPDX-License-Identifier: MIT */
/*
 * Stochastic greedy (Mirzasoleiman et al. 2015): each step draws a sample of
 * s = ceil((n / k) ln(1 / epsilon)) remaining items without replacement (a
 * partial Fisher-Yates shuffle of the pool, seeded) and adds the best of
 * them. "Lazier than lazy" keeps each item's last gain as an upper bound and
 * evaluates the sample in decreasing bound order, stopping once no unseen
 * bound can beat the best fresh gain; for a submodular function it picks
 * exactly what stochastic greedy picks, from the same random draws.
 */
#include <math.h>
#include <stdlib.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rng.h"
#include "optim/optim.h"
#include "optim/step.h"

int64_t ss_stochastic_sample_size(int64_t n, int64_t k, double epsilon)
{
    double s;
    if (n <= 0 || k <= 0)
        return n > 0 ? n : 0;
    s = ceil((double)n / (double)k * log(1.0 / epsilon));
    if (!(s >= 1))
        return 1;
    return s >= (double)n ? n : (int64_t)s;
}

typedef struct ranked_bound {
    double bound;
    int64_t item;  /* the item, whose index ranks ties */
    int64_t local; /* its position in the run's ground set: its bound's slot */
} ranked_bound;

/* x before y (core/rank.h) */
static int ranks_before(const ranked_bound *x, const ranked_bound *y)
{
    return ss_ranks_before(x->bound, x->item, y->bound, y->item);
}

/* Insertion sort: samples are a few dozen items, where it beats qsort and
 * its comparison calls. */
static void sort_by_bound(ranked_bound *order, int64_t size)
{
    int64_t i, j;
    for (i = 1; i < size; i++) {
        ranked_bound t = order[i];
        for (j = i; j > 0 && ranks_before(&t, &order[j - 1]); j--)
            order[j] = order[j - 1];
        order[j] = t;
    }
}

/* Evaluates the sample (positions in the ground set) in decreasing order
 * of the items' bounds until no unseen bound can win; *best_local /
 * *best_gain get the winner's position and gain; *evaluated gets the
 * number of gains made, which is what the next step expects to make.
 *
 * The draw fetched only the sample's bounds and bookkeeping (row
 * pointers, membership). Once they are sorted, the rows of the first
 * 2e + 4 items in bound order (e = *evaluated on entry; their items listed
 * in fetch, which holds `cap`) are fetched: rows are far from the cache
 * and a step evaluates few of them, so fetching every sampled row at the
 * draw made the step wait behind rows it never reads. Alternated in one
 * process with that (SDM, 1M rows, 35 a step, about 13.5 evaluated):
 * 1.04-1.23 s against 1.12-1.34 s, in every pair. The bookkeeping at the
 * draw lets that fetch start without waiting on the row pointers:
 * 1.10-1.12 s against 1.11-1.15 s and 1.32-1.40 s against 1.43-1.46 s,
 * faster in 8 pairs of 8 in two runs. */
static int lazier_pick(subsel_ctx *ctx, const subsel_objective *obj,
                       const void *state, const ss_run_config *cfg,
                       const int64_t *sample, int64_t size, double *upper,
                       ranked_bound *order, int64_t *fetch, int64_t cap,
                       ss_trace *trace, int64_t *evaluated,
                       int64_t *best_local, double *best_gain)
{
    int64_t j, best_item = -1, ahead = 2 * *evaluated + 4;
    for (j = 0; j < size; j++) {
        order[j].bound = upper[sample[j]];
        order[j].item = ss_ground_item(cfg, sample[j]);
        order[j].local = sample[j];
    }
    sort_by_bound(order, size);
    ahead = ahead < size ? ahead : size;
    ahead = ahead < cap ? ahead : cap;
    for (j = 0; j < ahead; j++)
        fetch[j] = order[j].item;
    ss_objective_prefetch(obj, state, fetch, ahead, SS_PREFETCH_DATA);
    *best_local = -1;
    *best_gain = -INFINITY;
    for (j = 0; j < size; j++) {
        double g;
        /* sorted in rank order: once a bound does not rank before the best
         * fresh gain (items are distinct), nothing further can win */
        if (best_item >= 0 && !ss_ranks_before(order[j].bound, order[j].item,
                                               *best_gain, best_item))
            break;
        SS_CHECK(ss_objective_gains(ctx, obj, state, &order[j].item, 1, &g,
                                    &trace->evaluations));
        upper[order[j].local] = g;
        if (best_item < 0 || ss_ranks_before(g, order[j].item, *best_gain, best_item)) {
            *best_gain = g;
            best_item = order[j].item;
            *best_local = order[j].local;
        }
    }
    *evaluated = j;
    return SUBSEL_OK;
}

/* The positions are drawn first and fetched together: the pool is large
 * and each swap would otherwise wait for its own miss. */
void ss_sample_draw(ss_rng *rng, int64_t *pool, int64_t remaining,
                    int64_t first, int64_t count, int64_t *draws)
{
    int64_t j;
    for (j = 0; j < count; j++) {
        draws[j] = first + j +
                   (int64_t)ss_rng_below(rng, (uint64_t)(remaining - first - j));
        SS_PREFETCH(&pool[draws[j]]);
    }
    for (j = 0; j < count; j++) {
        int64_t t = pool[first + j];
        pool[first + j] = pool[draws[j]];
        pool[draws[j]] = t;
    }
}

/* The items at ground-set positions pool[0..count), into items. */
static void items_of(const ss_run_config *cfg, const int64_t *pool, int64_t count,
                     int64_t *items)
{
    int64_t j;
    for (j = 0; j < count; j++)
        items[j] = ss_ground_item(cfg, pool[j]);
}

/* Draws again the samples of the steps that chose the run's replayed
 * initial items (a checkpoint of this run) and takes each chosen item out
 * of the pool as the step did, so the random stream and the pool end where
 * the interrupted run left them. An item missing from its step's sample
 * proves the checkpoint was made by another run. */
static int replay_steps(subsel_ctx *ctx, const ss_run_config *cfg, ss_rng *rng,
                        int64_t *pool, int64_t *remaining, int64_t s,
                        int64_t block, int64_t *draws)
{
    int64_t step, first, pos;
    for (step = cfg->warm; step < cfg->initial_count; step++) {
        int64_t size = s < *remaining ? s : *remaining;
        int64_t item = cfg->initial[step];
        for (first = 0; first < size; first += block)
            ss_sample_draw(rng, pool, *remaining, first,
                           size - first < block ? size - first : block, draws);
        for (pos = 0; pos < size && ss_ground_item(cfg, pool[pos]) != item; pos++)
            ;
        if (pos == size)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "the checkpoint does not belong to this run: its "
                           "item %lld (step %lld) is not in the sample this "
                           "run draws at that step",
                           (long long)item, (long long)step);
        pool[pos] = pool[--*remaining];
    }
    return SUBSEL_OK;
}

/* The pool and the bounds hold positions in the run's ground set, not
 * items: a part of a partition then needs memory for its own items only.
 * The run's initial items are not in the pool; those a checkpoint of this
 * run chose are taken out as their steps' samples are drawn again. The
 * sample size is that of the whole run: n (initial items included) over
 * the budget. */
int ss_greedy_stochastic(subsel_ctx *ctx, const subsel_objective *obj,
                         void *state, const ss_run_config *cfg, int lazier,
                         ss_trace *trace)
{
    int64_t *pool = NULL, *draws = NULL, *items = NULL;
    double *gains = NULL, *upper = NULL;
    ranked_bound *order = NULL;
    int64_t ground = ss_ground_count(cfg, obj), remaining = 0, i;
    int64_t s = ss_stochastic_sample_size(ground, cfg->budget, cfg->epsilon);
    int64_t block = s < SS_SAMPLE_BLOCK ? s : SS_SAMPLE_BLOCK;
    int64_t evaluated = 0; /* lazier: the last step's gains */
    ss_rng rng;
    int rc = SUBSEL_OK;

    ss_rng_seed(&rng, cfg->seed, cfg->stream);
    SS_TRY(ss_alloc_array(ctx, ground, sizeof *pool, &pool));
    SS_TRY(ss_alloc_array(ctx, block, sizeof *gains, &gains));
    SS_TRY(ss_alloc_array(ctx, block, sizeof *draws, &draws));
    SS_TRY(ss_alloc_array(ctx, block, sizeof *items, &items));
    if (lazier) {
        SS_TRY(ss_alloc_array(ctx, ground, sizeof *upper, &upper));
        SS_TRY(ss_alloc_array(ctx, s, sizeof *order, &order));
        for (i = 0; i < ground; i++)
            upper[i] = INFINITY;
    }
    for (i = 0; i < ground; i++)
        if (cfg->taken == NULL || cfg->taken[ss_ground_item(cfg, i)] != SS_TAKEN_WARM)
            pool[remaining++] = i;
    SS_TRY(replay_steps(ctx, cfg, &rng, pool, &remaining, s, block, draws));

    while (trace->count < cfg->budget && remaining > 0) {
        int64_t size = s < remaining ? s : remaining, pos, first;
        int64_t best = -1, best_local = -1;
        double best_gain = 0.0;
        SS_TRY(ss_step_begin(ctx, obj, state, cfg, trace));
        /* the sample: a partial Fisher-Yates shuffle into pool[0..size) */
        for (first = 0; first < size; first += block) {
            int64_t count = size - first < block ? size - first : block;
            ss_sample_draw(&rng, pool, remaining, first, count, draws);
            if (lazier) { /* the rows once sorted (lazier_pick) */
                for (pos = first; pos < first + count; pos++)
                    SS_PREFETCH(&upper[pool[pos]]);
                items_of(cfg, pool + first, count, items);
                ss_objective_prefetch(obj, state, items, count, SS_PREFETCH_INDEX);
                continue;
            }
            items_of(cfg, pool + first, count, items);
            ss_objective_prefetch(obj, state, items, count, SS_PREFETCH_DATA);
            /* the best of the block, in the one order of core/rank.h */
            SS_TRY(ss_objective_gains(ctx, obj, state, items, count, gains,
                                      &trace->evaluations));
            pos = ss_argmax(items, gains, count);
            if (best < 0 || ss_ranks_before(gains[pos], items[pos], best_gain, best)) {
                best = items[pos];
                best_local = pool[first + pos];
                best_gain = gains[pos];
            }
        }
        if (lazier) {
            SS_TRY(lazier_pick(ctx, obj, state, cfg, pool, size, upper, order, items,
                               block, trace, &evaluated, &best_local, &best_gain));
            best = ss_ground_item(cfg, best_local);
        }
        if (ss_step_stops(cfg, best_gain, trace))
            break;
        SS_TRY(ss_step_commit(ctx, obj, state, best, best_gain, trace));
        /* take the chosen item out of the pool */
        for (pos = 0; pool[pos] != best_local; pos++)
            ;
        pool[pos] = pool[--remaining];
    }
cleanup:
    ss_free(ctx, pool);
    ss_free(ctx, draws);
    ss_free(ctx, items);
    ss_free(ctx, gains);
    ss_free(ctx, upper);
    ss_free(ctx, order);
    return rc;
}
