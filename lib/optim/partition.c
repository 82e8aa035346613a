/* SPDX-License-Identifier: MIT */
/*
 * Selection over random parts of the ground set (SUBSEL_P_PARTS). The items
 * are dealt at random (seeded) into parts of equal size; each part runs the
 * optimizer's algorithm over its own items, on its own state of the shared
 * objective, in parallel; then the parts combine (SUBSEL_P_MERGE):
 *
 *  - UNION: part j selects its share of the budget and the selection is the
 *    union of the parts' choices, listed round-robin by step (every part's
 *    first choice, then every part's second, ...), so that a prefix of it
 *    is close to the greedy order, each with the gain its part saw. Each
 *    part samples (n_j / k_j) ln(1 / epsilon) = (n / k) ln(1 / epsilon)
 *    items a step, as the whole pool would, for k_j = k / p steps: p parts
 *    on p threads take about 1/p of the time. The value of the union comes
 *    from the parts' final states merged: replaying the union item by item
 *    on one thread would cost a fifth of the parts' own time.
 *  - GREEDI: RandGreeDi (Barbosa, Ene, Nguyen, Ward, ICML 2015): part j
 *    selects min(k, n_j) items, the algorithm runs again over the union of
 *    their choices, and the better of that merged set and the best part's
 *    own selection is kept, as the analysis requires.
 *
 * The partition, the parts' random streams and the order of the result
 * depend on the seed, the run's stream and the part count, never on the
 * thread count. These are the partial selections and the merge that
 * distributed selection builds on.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "core/rng.h"
#include "optim/optim.h"

/* Random streams apart from the runs' (0 .. 1023): run r deals its items
 * with stream PARTITION_STREAMS + r, and part j of run r draws from
 * PART_STREAMS + r * (65536 + 1) + j, the merge as part j = parts. */
#define PARTITION_STREAMS (UINT64_C(1) << 62)
#define PART_STREAMS (UINT64_C(1) << 61)

/* The parts of a run: items[start[j] .. start[j + 1]) are part j's,
 * ascending. Sizes differ by at most one, the larger parts first. */
typedef struct partition {
    int64_t parts;
    int64_t *items; /* n */
    int64_t *start; /* parts + 1 */
} partition;

static void partition_free(subsel_ctx *ctx, partition *p)
{
    ss_free(ctx, p->items);
    ss_free(ctx, p->start);
}

/* Deals 0 .. n-1 into `parts` parts: a label per item, the labels of parts
 * of the right sizes shuffled (Fisher-Yates, seeded), so every assignment
 * with those sizes is equally likely; then each part's items in order. */
static int partition_make(subsel_ctx *ctx, int64_t n, int64_t parts,
                          uint64_t seed, uint64_t stream, partition *p)
{
    int32_t *label = NULL;
    int64_t *next = NULL, i, j;
    ss_rng rng;
    int rc = SUBSEL_OK;

    memset(p, 0, sizeof *p);
    p->parts = parts;
    SS_TRY(ss_alloc_array(ctx, parts + 1, sizeof *p->start, &p->start));
    for (j = 0; j <= parts; j++)
        p->start[j] = (n / parts) * j + (j < n % parts ? j : n % parts);
    SS_TRY(ss_alloc_array(ctx, n, sizeof *label, &label));
    for (j = 0; j < parts; j++)
        for (i = p->start[j]; i < p->start[j + 1]; i++)
            label[i] = (int32_t)j;
    ss_rng_seed(&rng, seed, stream);
    for (i = n - 1; i > 0; i--) {
        int64_t k = (int64_t)ss_rng_below(&rng, (uint64_t)i + 1);
        int32_t t = label[i];
        label[i] = label[k];
        label[k] = t;
    }
    SS_TRY(ss_alloc_array(ctx, parts, sizeof *next, &next));
    memcpy(next, p->start, (size_t)parts * sizeof *next);
    SS_TRY(ss_alloc_array(ctx, n, sizeof *p->items, &p->items));
    for (i = 0; i < n; i++)
        p->items[next[label[i]]++] = i;
cleanup:
    ss_free(ctx, label);
    ss_free(ctx, next);
    if (rc != SUBSEL_OK)
        partition_free(ctx, p);
    return rc;
}

/* What each part was asked for and what it chose. */
typedef struct part_runs {
    int64_t parts;
    ss_trace *traces;
    double *values;
    void **states; /* each part's final state (holding its choices) */
    int *status;
    subsel_ctx *shadows;
} part_runs;

static void part_runs_free(subsel_ctx *ctx, const subsel_objective *obj,
                           part_runs *r)
{
    int64_t j;
    if (r->traces != NULL)
        for (j = 0; j < r->parts; j++)
            ss_trace_free(ctx, &r->traces[j]);
    if (r->states != NULL)
        for (j = 0; j < r->parts; j++)
            ss_objective_state_free(obj, r->states[j]);
    ss_free(ctx, r->states);
    ss_free(ctx, r->traces);
    ss_free(ctx, r->values);
    ss_free(ctx, r->status);
    ss_free(ctx, r->shadows);
}

/* Part j's budget: UNION shares the budget k out as k / p each, the
 * remainder to the first parts (which are the larger ones, so a share
 * never exceeds its part); GREEDI asks every part for k. */
static int64_t part_budget(const subsel_optimizer *opt, const partition *p,
                           int64_t k, int64_t j)
{
    int64_t size = p->start[j + 1] - p->start[j];
    if (opt->merge == SUBSEL_MERGE_GREEDI)
        return k < size ? k : size;
    return k / p->parts + (j < k % p->parts ? 1 : 0);
}

/* Runs every part in parallel, each on a private copy of the context (its
 * own error message; progress only from part 0, on the calling thread). */
static int run_all_parts(subsel_ctx *ctx, const subsel_optimizer *opt,
                         const subsel_objective *obj,
                         const ss_run_config *base, const partition *p,
                         part_runs *r)
{
    int64_t parts = p->parts, j;
    int cancel = 0;
    int threads = ss_threads_for(ctx, parts);
    int rc = SUBSEL_OK;

    memset(r, 0, sizeof *r);
    r->parts = parts;
    SS_TRY(ss_calloc_array(ctx, parts, sizeof *r->traces, &r->traces));
    SS_TRY(ss_calloc_array(ctx, parts, sizeof *r->values, &r->values));
    SS_TRY(ss_calloc_array(ctx, parts, sizeof *r->states, &r->states));
    SS_TRY(ss_calloc_array(ctx, parts, sizeof *r->status, &r->status));
    SS_TRY(ss_alloc_array(ctx, parts, sizeof *r->shadows, &r->shadows));
    for (j = 0; j < parts; j++) {
        SS_TRY(ss_trace_init(ctx, &r->traces[j], part_budget(opt, p, base->budget, j)));
        r->shadows[j] = *ctx;
        r->shadows[j].last_error[0] = '\0';
        if (j != 0)
            r->shadows[j].progress = NULL;
    }

    /* static chunks of 1 give part 0 to thread 0, the calling thread */
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (j = 0; j < parts; j++) {
        ss_run_config cfg = *base;
        cfg.budget = r->traces[j].capacity;
        cfg.ground = p->items + p->start[j];
        cfg.ground_count = p->start[j + 1] - p->start[j];
        cfg.stream = PART_STREAMS + base->stream * (65536 + 1) + (uint64_t)j;
        cfg.report = base->report && j == 0;
        /* GREEDI's parts show the first half of the stage, its merge the
         * second */
        cfg.report_total = opt->merge == SUBSEL_MERGE_GREEDI ? base->budget / 2
                                                             : base->budget;
        cfg.report_offset = 0;
        cfg.report_of = base->budget;
        cfg.cancel = base->cancel != NULL ? base->cancel : &cancel;
        r->status[j] = ss_run_algorithm(&r->shadows[j], opt->algorithm, obj, &cfg,
                                        &r->traces[j], &r->values[j], &r->states[j]);
        if (r->status[j] != SUBSEL_OK)
            __atomic_store_n(cfg.cancel, 1, __ATOMIC_RELAXED);
    }
    /* a part's own failure explains more than the cancellations it caused */
    for (j = 0; j < parts; j++)
        if (r->status[j] != SUBSEL_OK && r->status[j] != SUBSEL_E_CANCELLED)
            return ss_fail(ctx, r->status[j], "part %lld: %s", (long long)j,
                           r->shadows[j].last_error);
    for (j = 0; j < parts; j++)
        if (r->status[j] == SUBSEL_E_CANCELLED)
            return ss_fail(ctx, SUBSEL_E_CANCELLED, "%s", r->shadows[j].last_error);
cleanup:
    return rc;
}

/* Copies a trace's choices into `out` (whose capacity suffices). */
static void trace_copy(ss_trace *out, const ss_trace *in)
{
    memcpy(out->items, in->items, (size_t)in->count * sizeof *in->items);
    memcpy(out->gains, in->gains, (size_t)in->count * sizeof *in->gains);
    out->count = in->count;
    out->short_reason = in->short_reason;
}

/* UNION: every part's choices, round-robin by step, with the gains their
 * parts saw; short when a part was (that part's reason). The value: the
 * parts' states merged, or, for an objective without a merge, a state that
 * adds every item. */
static int combine_union(subsel_ctx *ctx, const subsel_objective *obj,
                         part_runs *r, ss_trace *out, double *value)
{
    int64_t step, j, longest = 0;
    void *state = NULL;
    int rc = SUBSEL_OK;
    out->count = 0;
    for (j = 0; j < r->parts; j++) {
        if (r->traces[j].count > longest)
            longest = r->traces[j].count;
        if (out->short_reason == SUBSEL_SHORT_NONE)
            out->short_reason = r->traces[j].short_reason;
    }
    for (step = 0; step < longest; step++)
        for (j = 0; j < r->parts; j++)
            if (step < r->traces[j].count) {
                out->items[out->count] = r->traces[j].items[step];
                out->gains[out->count++] = r->traces[j].gains[step];
            }
    if (value == NULL)
        return SUBSEL_OK;
    if (ss_objective_can_merge(obj)) {
        for (j = 1; j < r->parts; j++)
            SS_CHECK(ss_objective_merge(ctx, obj, r->states[0], r->states[j]));
        return ss_objective_value(ctx, obj, r->states[0], value);
    }
    SS_CHECK(ss_objective_state_new(ctx, obj, &state));
    for (j = 0; j < out->count; j++)
        SS_TRY(ss_objective_add(ctx, obj, state, out->items[j]));
    SS_TRY(ss_objective_value(ctx, obj, state, value));
cleanup:
    ss_objective_state_free(obj, state);
    return rc;
}

/* GREEDI: the algorithm again over the union of the parts' choices, then
 * the better of that and the best part (ties to the merged set, then to
 * the lower part). */
static int combine_greedi(subsel_ctx *ctx, const subsel_optimizer *opt,
                          const subsel_objective *obj,
                          const ss_run_config *base, part_runs *r,
                          ss_trace *out, double *value)
{
    int64_t *ground = NULL, count = 0, j, best = 0;
    ss_trace merged;
    ss_run_config cfg = *base;
    double merged_value = 0.0;
    int rc = SUBSEL_OK;

    memset(&merged, 0, sizeof merged);
    for (j = 0; j < r->parts; j++)
        count += r->traces[j].count;
    SS_TRY(ss_alloc_array(ctx, count, sizeof *ground, &ground));
    count = 0;
    for (j = 0; j < r->parts; j++) {
        memcpy(ground + count, r->traces[j].items,
               (size_t)r->traces[j].count * sizeof *ground);
        count += r->traces[j].count;
    }
    /* parts are disjoint: sorted, the union is a ground set */
    qsort(ground, (size_t)count, sizeof *ground, ss_compare_int64);
    cfg.ground = ground;
    cfg.ground_count = count;
    cfg.budget = base->budget < count ? base->budget : count;
    cfg.stream = PART_STREAMS + base->stream * (65536 + 1) + (uint64_t)r->parts;
    cfg.report_offset = base->budget / 2;
    cfg.report_total = base->budget - base->budget / 2;
    cfg.report_of = base->budget;
    SS_TRY(ss_trace_init(ctx, &merged, cfg.budget));
    SS_TRY(ss_run_algorithm(ctx, opt->algorithm, obj, &cfg, &merged, &merged_value,
                            NULL));
    out->evaluations += merged.evaluations;
    for (j = 1; j < r->parts; j++)
        if (r->values[j] > r->values[best])
            best = j;
    if (r->values[best] > merged_value) {
        trace_copy(out, &r->traces[best]);
        merged_value = r->values[best];
    } else {
        trace_copy(out, &merged);
    }
    if (value != NULL)
        *value = merged_value;
cleanup:
    ss_trace_free(ctx, &merged);
    ss_free(ctx, ground);
    return rc;
}

int ss_run_parts(subsel_ctx *ctx, const subsel_optimizer *opt,
                 const subsel_objective *obj, const ss_run_config *cfg,
                 int64_t parts, ss_trace *trace, double *value)
{
    partition p;
    part_runs r;
    int64_t j;
    int rc = SUBSEL_OK;

    memset(&r, 0, sizeof r);
    SS_CHECK(partition_make(ctx, obj->n, parts, cfg->seed,
                            PARTITION_STREAMS + cfg->stream, &p));
    SS_TRY(run_all_parts(ctx, opt, obj, cfg, &p, &r));
    for (j = 0; j < parts; j++)
        trace->evaluations += r.traces[j].evaluations;
    if (opt->merge == SUBSEL_MERGE_GREEDI)
        SS_TRY(combine_greedi(ctx, opt, obj, cfg, &r, trace, value));
    else
        SS_TRY(combine_union(ctx, obj, &r, trace, value));
cleanup:
    part_runs_free(ctx, obj, &r);
    partition_free(ctx, &p);
    return rc;
}
