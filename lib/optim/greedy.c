/* SPDX-License-Identifier: MIT */
/*
 * Deterministic greedy: naive (every remaining item, every step) and lazy
 * (Minoux): a max-heap of stale upper bounds, ordered by bound and then by
 * lowest index, refreshed in rounds that may overlap the heap's work with
 * the gains'. Their state is one pool entry (naive) or one heap entry
 * (lazy) per item, plus fixed-size buffers: memory stays within a small
 * factor of the matrix even for pools of many tiny rows.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "optim/optim.h"
#include "optim/step.h"

/* Items whose gains are evaluated in one call when every item is: in
 * blocks, so that no buffer besides the optimizer's own per-item state
 * grows with the pool (gains are per item, so blocks change no result). */
#define GAIN_BLOCK 65536

int ss_greedy_naive(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                    const ss_run_config *cfg, ss_trace *trace)
{
    int64_t *pool = NULL;
    double *gains = NULL;
    int64_t ground = ss_ground_count(cfg, obj), remaining = 0, i;
    int64_t block = ground < GAIN_BLOCK ? ground : GAIN_BLOCK;
    int rc = SUBSEL_OK;

    SS_TRY(ss_alloc_array(ctx, ground, sizeof *pool, &pool));
    SS_TRY(ss_alloc_array(ctx, block, sizeof *gains, &gains));
    for (i = 0; i < ground; i++)
        if (!ss_run_taken(cfg, ss_ground_item(cfg, i)))
            pool[remaining++] = ss_ground_item(cfg, i);
    while (trace->count < cfg->budget && remaining > 0) {
        int64_t pos = -1, first;
        double best = 0.0;
        SS_TRY(ss_step_begin(ctx, obj, state, cfg, trace));
        /* the argmax over blocks, in the one order of core/rank.h */
        for (first = 0; first < remaining; first += block) {
            int64_t count = remaining - first < block ? remaining - first : block, p;
            SS_TRY(ss_objective_gains(ctx, obj, state, pool + first, count, gains,
                                      &trace->evaluations));
            p = ss_argmax(pool + first, gains, count);
            if (pos < 0 || ss_ranks_before(gains[p], pool[first + p], best, pool[pos])) {
                pos = first + p;
                best = gains[p];
            }
        }
        if (ss_step_stops(cfg, best, trace))
            break;
        SS_TRY(ss_step_commit(ctx, obj, state, pool[pos], best, trace));
        pool[pos] = pool[--remaining];
    }
cleanup:
    ss_free(ctx, pool);
    ss_free(ctx, gains);
    return rc;
}

/* A fresh gain: its exact value and its item. */
typedef struct bound {
    double value;
    int64_t item;
} bound;

/* A stale bound in the heap, in one 64-bit word: the bound rounded up to
 * float, mapped to unsigned order, above 2^32 - 1 - item, so that a larger
 * word ranks above (a higher bound, then a lower index). Rounding up keeps
 * every bound an upper bound, so the selection is still exactly naive
 * greedy's; at most a gain within float rounding of the best is refreshed
 * that exact bounds would have left. Half the bytes of (double, int64)
 * pairs, compared in one instruction: each pop walks a heap of the whole
 * pool, and on flat gains those walks are most of a run (SDM's 200,000
 * rows: a pop took 80 ns instead of 120 in a standalone model). Items
 * must fit 32 bits (ss_greedy_lazy checks). */
typedef uint64_t stale;

#define ITEM_BITS 0xffffffffu

static stale stale_of(double value, int64_t item)
{
    float f = (float)value;
    uint32_t u;
    if (value != value)
        return (uint64_t)(ITEM_BITS - (uint32_t)item); /* NaN ranks below all */
    if ((double)f < value)
        f = nextafterf(f, INFINITY);
    f += 0.0f; /* -0 as +0: they tie */
    memcpy(&u, &f, sizeof u);
    u = u >> 31 ? ~u : u | 0x80000000u;
    return (uint64_t)u << 32 | (ITEM_BITS - (uint32_t)item);
}

static int64_t stale_item(stale s)
{
    return (int64_t)(ITEM_BITS - (uint32_t)s);
}

static double stale_value(stale s)
{
    uint32_t u = (uint32_t)(s >> 32);
    float f;
    if (u == 0)
        return NAN;
    u = u >> 31 ? u & 0x7fffffffu : ~u;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* s ranks above the fresh gain b (core/rank.h) */
static int above(stale s, const bound *b)
{
    return ss_ranks_before(stale_value(s), stale_item(s), b->value, b->item);
}

static void sift_down(stale *heap, int64_t size, int64_t i)
{
    stale x = heap[i];
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= size)
            break;
        c += c + 1 < size && heap[c + 1] > heap[c];
        if (heap[c] <= x)
            break;
        heap[i] = heap[c];
        i = c;
    }
    heap[i] = x;
}

static void sift_up(stale *heap, int64_t i)
{
    stale x = heap[i];
    while (i > 0 && heap[(i - 1) / 2] < x) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = x;
}

/* Stale bounds are refreshed a few at a time: the items come from all over
 * the pool, and one batch lets the objective fetch their data together
 * instead of waiting for memory item after item. Refreshing an item that
 * would not have been reached costs a gain but changes nothing: a fresh
 * value is still an upper bound for later steps. */
#define LAZY_BATCH 8
#define LAZY_BATCH_MAX 256

/* Takes the top bound off a heap of *size (at least one), by Floyd's
 * method: the hole goes down to a leaf by the larger children, then the
 * last entry rises from there (it belongs near the bottom: about half the
 * comparisons of sifting it down, each free of branches). */
static stale take_top(stale *heap, int64_t *size)
{
    stale top = heap[0], last = heap[--*size];
    int64_t n = *size, i = 0, c;
    while ((c = 2 * i + 1) + 1 < n) {
        c += heap[c + 1] > heap[c];
        heap[i] = heap[c];
        i = c;
    }
    if (c < n) {
        heap[i] = heap[c];
        i = c;
    }
    heap[i] = last;
    sift_up(heap, i);
    return top;
}

/* Takes up to `round` stale bounds that rank above *best off the top, in
 * rank order, into out; their count. */
static int64_t pop_round(stale *heap, int64_t *size, int64_t round, const bound *best,
                         stale *out)
{
    int64_t n = 0;
    while (n < round && *size > 0 && (best->item < 0 || above(heap[0], best)))
        out[n++] = take_top(heap, size);
    return n;
}

/* A step's rounds run in one of two ways, with the same batches and so the
 * same gains, evaluations and result:
 *  - in turn: a round's stale bounds come off the heap, then their gains
 *    are made (shared among the threads when the objective finds that
 *    worth it);
 *  - overlapped (SUBSEL_PARALLEL_PIPELINE, two threads or more, outside a
 *    parallel region): the next round's bounds come off the heap on one
 *    thread while this round's gains are made on another, against the
 *    best gain before this round; those the new best then outranks go
 *    back.
 * On flat gains every item is refreshed several times, and each pop walks
 * a heap of the whole pool, missing the cache and the branch predictor on
 * the way down: on SDM's 64-nonzero rows the pops take longer than the
 * gains, and overlapping them hides the gains. Where gains cost more than
 * pops (UniPROT's), making them on one thread loses more than it hides,
 * and where other processes share the cores the two threads wait for each
 * other's time slices at every round: so it is asked for, not automatic
 * (timing each step to choose was tried: the timings of one step were too
 * noisy to choose from on the development VM). */
static int overlaps(const subsel_ctx *ctx)
{
    if (ctx->parallel_gains != SUBSEL_PARALLEL_PIPELINE)
        return 0;
#ifdef _OPENMP
    return !ss_in_parallel() && subsel_ctx_threads(ctx) >= 2;
#else
    return 0; /* no second thread */
#endif
}

/* The bounds of one step: the heap heap[0..size) holds the stale bounds,
 * and the gains refreshed during the step wait in the slots the heap gave
 * up at its end, heap[size + na..size + na + fresh), where the na slots
 * between are those of the round popped ahead (into `ahead`) while the
 * last round's gains were made; so the whole state is one entry per item.
 * The best fresh gain wins once it ranks above every stale bound: for a
 * submodular function a bound never underestimates, so it is then the
 * naive choice, ties included (an item with the same gain has a bound at
 * least that high and ranks below only if its index is larger). */
int ss_greedy_lazy(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                   const ss_run_config *cfg, ss_trace *trace)
{
    stale *heap = NULL, *ahead = NULL; /* ahead: the round popped next */
    bound first = {0.0, -1};           /* the first step's best gain */
    int64_t first_slot = -1;
    int64_t *items = NULL;
    double *gains = NULL;
    int64_t ground = ss_ground_count(cfg, obj), size = 0, i, next = 0;
    int64_t block = ground < GAIN_BLOCK ? ground : GAIN_BLOCK;
    /* a step that keeps finding stale bounds doubles its batch (up to
     * LAZY_BATCH_MAX), so that the objective gets batches worth sharing
     * among threads (SUBSEL_PARALLEL_AUTO decides from their work, ALWAYS
     * shares every one); the batches, and so the evaluation count, do not
     * depend on the thread count */
    int64_t lazy_batch = ctx->parallel_gains == SUBSEL_PARALLEL_NEVER ? LAZY_BATCH
                                                                      : LAZY_BATCH_MAX;
    int all_fresh, rc = SUBSEL_OK, overlap = overlaps(ctx);

    if (obj->n - 1 > (int64_t)ITEM_BITS)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "lazy greedy ranks items 0 to 2^32 - 1; this objective has %lld "
                       "(stochastic greedy takes any number)", (long long)obj->n);
    SS_TRY(ss_alloc_array(ctx, ground, sizeof *heap, &heap));
    SS_TRY(ss_alloc_array(ctx, lazy_batch, sizeof *ahead, &ahead));
    SS_TRY(ss_alloc_array(ctx, block > lazy_batch ? block : lazy_batch,
                          sizeof *items, &items));
    SS_TRY(ss_alloc_array(ctx, block > lazy_batch ? block : lazy_batch,
                          sizeof *gains, &gains));
    /* the first step evaluates everything but the initial items, in
     * (parallel) blocks */
    while (next < ground) {
        int64_t count = 0;
        for (; next < ground && count < block; next++)
            if (!ss_run_taken(cfg, ss_ground_item(cfg, next)))
                items[count++] = ss_ground_item(cfg, next);
        if (count == 0)
            break;
        SS_TRY(ss_objective_gains(ctx, obj, state, items, count, gains,
                                  &trace->evaluations));
        for (i = 0; i < count; i++) {
            if (first.item < 0 || ss_ranks_before(gains[i], items[i], first.value, first.item)) {
                first.value = gains[i];
                first.item = items[i];
                first_slot = size;
            }
            heap[size++] = stale_of(gains[i], items[i]);
        }
    }
    /* the first step's best, exact, waits past the heap as its fresh gain */
    all_fresh = size > 0;
    if (all_fresh) {
        stale t = heap[first_slot];
        heap[first_slot] = heap[--size];
        heap[size] = t;
    }
    for (i = size / 2 - 1; i >= 0; i--)
        sift_down(heap, size, i);

    while (trace->count < cfg->budget && (size > 0 || all_fresh)) {
        int64_t fresh = 0, b, round, batch;
        bound best = {0.0, -1};
        SS_TRY(ss_step_begin(ctx, obj, state, cfg, trace));
        if (all_fresh) {
            /* the first step's bounds are its gains: the best is fresh,
             * and only bounds within float rounding of it rank above */
            best = first;
            fresh = 1;
            all_fresh = 0;
        }
        round = LAZY_BATCH;
        batch = pop_round(heap, &size, round, &best, ahead);
        while (batch > 0) {
            /* na: the next round's bounds already off the heap */
            int64_t na = 0, later = round < lazy_batch / 2 ? 2 * round : lazy_batch;
            for (b = 0; b < batch; b++)
                items[b] = stale_item(ahead[b]);
            if (overlap) {
                int grc = SUBSEL_OK;
#pragma omp parallel sections num_threads(2)
                {
#pragma omp section
                    grc = ss_objective_gains(ctx, obj, state, items, batch, gains,
                                             &trace->evaluations);
#pragma omp section
                    na = pop_round(heap, &size, later, &best, ahead);
                }
                SS_TRY(grc);
            } else {
                SS_TRY(ss_objective_gains(ctx, obj, state, items, batch, gains,
                                          &trace->evaluations));
            }
            /* this round's gains go just below the earlier rounds', past
             * the slots of the bounds popped ahead */
            for (b = 0; b < batch; b++) {
                heap[size + na + b] = stale_of(gains[b], items[b]);
                if (best.item < 0 || ss_ranks_before(gains[b], items[b], best.value, best.item)) {
                    best.value = gains[b];
                    best.item = items[b];
                }
            }
            fresh += batch;
            if (overlap) {
                while (na > 0 && !above(ahead[na - 1], &best)) {
                    heap[size] = ahead[--na];
                    sift_up(heap, size++);
                }
            } else {
                na = pop_round(heap, &size, later, &best, ahead);
            }
            batch = na;
            round = later;
        }
        if (ss_step_stops(cfg, best.value, trace))
            break;
        SS_TRY(ss_step_commit(ctx, obj, state, best.item, best.value, trace));
        /* the other fresh gains go back into the heap as stale bounds */
        for (b = 0; stale_item(heap[size + b]) != best.item; b++)
            ;
        heap[size + b] = heap[size + fresh - 1];
        for (fresh--; fresh > 0; fresh--)
            sift_up(heap, size++);
    }
cleanup:
    ss_free(ctx, heap);
    ss_free(ctx, ahead);
    ss_free(ctx, items);
    ss_free(ctx, gains);
    return rc;
}
