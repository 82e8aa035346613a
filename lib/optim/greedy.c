/* SPDX-License-Identifier: MIT */
/*
 * Deterministic greedy: naive (every remaining item, every step) and lazy
 * (Minoux): a max-heap of stale upper bounds, ordered by bound and then by
 * lowest index. For a submodular function a bound never underestimates, so
 * when the top of the heap is fresh it is the naive choice, ties included:
 * any other item with the same gain has a bound at least that high and so
 * sits below the top only if its index is larger.
 */
#include <math.h>

#include "core/ctx.h"
#include "core/error.h"
#include "optim/optim.h"
#include "optim/step.h"

int ss_greedy_naive(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                    const ss_run_config *cfg, ss_trace *trace)
{
    int64_t *pool = NULL;
    double *gains = NULL;
    int64_t remaining = obj->n, i;
    int rc = SUBSEL_OK;

    SS_TRY(ss_alloc_array(ctx, obj->n, sizeof *pool, &pool));
    SS_TRY(ss_alloc_array(ctx, obj->n, sizeof *gains, &gains));
    for (i = 0; i < obj->n; i++)
        pool[i] = i;
    while (trace->count < cfg->budget) {
        int64_t pos;
        SS_TRY(ss_step_begin(ctx, cfg, trace));
        SS_TRY(obj->ops->gains(ctx, obj, state, pool, remaining, gains));
        trace->evaluations += remaining;
        SS_TRY(ss_argmax(ctx, pool, gains, remaining, &pos));
        if (ss_step_stops(cfg, gains[pos], trace))
            break;
        SS_TRY(ss_step_commit(ctx, obj, state, pool[pos], gains[pos], trace));
        pool[pos] = pool[--remaining];
    }
cleanup:
    ss_free(ctx, pool);
    ss_free(ctx, gains);
    return rc;
}

typedef struct bound {
    double value;
    int64_t item;
    int64_t fresh_at; /* the step the value was computed for */
} bound;

/* a ranks above b: larger bound, then lower index */
static int above(const bound *a, const bound *b)
{
    return a->value > b->value || (a->value == b->value && a->item < b->item);
}

static void sift_down(bound *heap, int64_t size, int64_t i)
{
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, best = i;
        bound t;
        if (l < size && above(&heap[l], &heap[best]))
            best = l;
        if (r < size && above(&heap[r], &heap[best]))
            best = r;
        if (best == i)
            return;
        t = heap[i];
        heap[i] = heap[best];
        heap[best] = t;
        i = best;
    }
}

static void sift_up(bound *heap, int64_t i)
{
    while (i > 0) {
        int64_t parent = (i - 1) / 2;
        bound t;
        if (!above(&heap[i], &heap[parent]))
            return;
        t = heap[i];
        heap[i] = heap[parent];
        heap[parent] = t;
        i = parent;
    }
}

/* Stale bounds are refreshed a few at a time: the items come from all over
 * the pool, and one batch lets the objective fetch their data together
 * instead of waiting for memory item after item. Refreshing an item that
 * would not have been reached costs a gain but changes nothing: a fresh
 * value is still an upper bound for later steps. */
#define LAZY_BATCH 8

int ss_greedy_lazy(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                   const ss_run_config *cfg, ss_trace *trace)
{
    bound *heap = NULL;
    int64_t *items = NULL;
    double *gains = NULL;
    int64_t size = obj->n, i;
    int rc = SUBSEL_OK;

    SS_TRY(ss_alloc_array(ctx, obj->n, sizeof *heap, &heap));
    SS_TRY(ss_alloc_array(ctx, obj->n, sizeof *items, &items));
    SS_TRY(ss_alloc_array(ctx, obj->n, sizeof *gains, &gains));
    /* the first step evaluates everything, as one (parallel) batch */
    for (i = 0; i < obj->n; i++)
        items[i] = i;
    SS_TRY(obj->ops->gains(ctx, obj, state, items, obj->n, gains));
    trace->evaluations += obj->n;
    for (i = 0; i < obj->n; i++) {
        if (isnan(gains[i])) {
            rc = ss_fail(ctx, SUBSEL_E_NUMERIC, "gain of item %lld is NaN",
                         (long long)i);
            goto cleanup;
        }
        heap[i].value = gains[i];
        heap[i].item = i;
        heap[i].fresh_at = 0;
    }
    for (i = size / 2 - 1; i >= 0; i--)
        sift_down(heap, size, i);

    while (trace->count < cfg->budget && size > 0) {
        int64_t step = trace->count;
        SS_TRY(ss_step_begin(ctx, cfg, trace));
        while (heap[0].fresh_at != step) {
            int64_t batch = 0, b;
            /* take up to LAZY_BATCH stale items off the top */
            while (batch < LAZY_BATCH && size > 0 && heap[0].fresh_at != step) {
                items[batch++] = heap[0].item;
                heap[0] = heap[--size];
                sift_down(heap, size, 0);
            }
            SS_TRY(obj->ops->gains(ctx, obj, state, items, batch, gains));
            trace->evaluations += batch;
            for (b = 0; b < batch; b++) {
                if (isnan(gains[b])) {
                    rc = ss_fail(ctx, SUBSEL_E_NUMERIC,
                                 "gain of item %lld is NaN", (long long)items[b]);
                    goto cleanup;
                }
                heap[size].value = gains[b];
                heap[size].item = items[b];
                heap[size].fresh_at = step;
                sift_up(heap, size++);
            }
        }
        if (ss_step_stops(cfg, heap[0].value, trace))
            break;
        SS_TRY(ss_step_commit(ctx, obj, state, heap[0].item, heap[0].value, trace));
        heap[0] = heap[--size];
        sift_down(heap, size, 0);
    }
cleanup:
    ss_free(ctx, heap);
    ss_free(ctx, items);
    ss_free(ctx, gains);
    return rc;
}
