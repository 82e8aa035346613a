/* SPDX-License-Identifier: MIT */
/*
 * The public optimizer: its parameters (the table), one run or R seeded
 * runs in parallel (each with its own state of the shared, immutable
 * objective), the intersection of the runs, and the selection handed back.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/options.h"
#include "core/rank.h"
#include "optim/double_greedy.h"
#include "optim/optim.h"
#include "optim/step.h"

static const ss_param optimizer_params[] = {
    SS_PARAM_INT(SUBSEL_P_BUDGET, 1, "budget", subsel_optimizer, budget, 0, INT64_MAX, 0, 0,
                 "items to select (0: the whole ground set)"),
    SS_PARAM_INT(SUBSEL_P_RUNS, 2, "runs", subsel_optimizer, runs, 1, 1024, 1, 0,
                 "seeded runs to intersect (stochastic algorithms)"),
    SS_PARAM_INT(SUBSEL_P_MIN_RUNS, 3, "min_runs", subsel_optimizer, min_runs, 0, 1024, 0, 0,
                 "keep items chosen by at least this many runs (0: all runs)"),
    SS_PARAM_INT(SUBSEL_P_STOP_NONPOSITIVE, 4, "stop_nonpositive", subsel_optimizer,
                 stop_nonpositive, SUBSEL_STOP_NEVER, SUBSEL_STOP_AUTO, SUBSEL_STOP_AUTO, 0,
                 "end a run at a best gain <= 0: 0 never, 1 always, 2 unless monotone"),
    SS_PARAM_REAL(SUBSEL_P_EPSILON, 5, "epsilon", subsel_optimizer, epsilon, 0.0, 1.0, 1e-3,
                  SUBSEL_BOUND_OPEN_MIN | SUBSEL_BOUND_OPEN_MAX, 0,
                  "stochastic sample accuracy"),
    SS_PARAM_INT(SUBSEL_P_PARTS, 0, "parts", subsel_optimizer, parts, 0, 65536, 1, 0,
                 "random parts selected from in parallel (1: none, 0: one per thread)"),
    SS_PARAM_INT(SUBSEL_P_MERGE, 0, "merge", subsel_optimizer, merge, SUBSEL_MERGE_UNION,
                 SUBSEL_MERGE_GREEDI, SUBSEL_MERGE_UNION, 0,
                 "how parts combine: 0 union of budget shares, 1 RandGreeDi"),
    SS_PARAM_INT(SUBSEL_P_FANIN, 0, "fanin", subsel_optimizer, fanin, 0, 65536, 0, 0,
                 "summaries per merge across processes (0: all at once)"),
    SS_PARAM_INT(SUBSEL_P_CHECKPOINT_EVERY, 0, "checkpoint_every", subsel_optimizer,
                 checkpoint_every, 0, INT64_MAX, 0, 0,
                 "write the checkpoint every so many items (0: only when cancelled)"),
};

const ss_param_kind ss_optimizer_params = {
    SUBSEL_KIND_OPTIMIZER, "optimizer", SS_KIND_OPTIMIZER, NULL,
    SS_PARAMS(optimizer_params), NULL, NULL, NULL,
};

/* 0.6 numbered the algorithms 0 .. 5: binaries built against it still
 * pass those. */
static int algorithm_of(int number)
{
    if (number >= 0 && number <= SUBSEL_ALGORITHM_DOUBLE_GREEDY_RANDOM - SUBSEL_ALGORITHM_NAIVE)
        return SUBSEL_ALGORITHM_NAIVE + number;
    return number;
}

static int algorithm_known(int algorithm)
{
    switch (algorithm) {
    case SUBSEL_OPT_NAIVE:
    case SUBSEL_OPT_LAZY:
    case SUBSEL_OPT_STOCHASTIC:
    case SUBSEL_OPT_LAZIER:
    case SUBSEL_OPT_DOUBLE_GREEDY:
    case SUBSEL_OPT_DOUBLE_GREEDY_RANDOM:
        return 1;
    default:
        return 0;
    }
}

static int algorithm_is_random(int algorithm)
{
    return algorithm == SUBSEL_OPT_STOCHASTIC || algorithm == SUBSEL_OPT_LAZIER ||
           algorithm == SUBSEL_OPT_DOUBLE_GREEDY_RANDOM;
}

static int algorithm_needs_submodular(int algorithm)
{
    return algorithm == SUBSEL_OPT_LAZY || algorithm == SUBSEL_OPT_LAZIER;
}

/* Double greedy has no budget: it reports its own stage and chooses its own
 * size. */
static int algorithm_is_double_greedy(int algorithm)
{
    return algorithm == SUBSEL_OPT_DOUBLE_GREEDY ||
           algorithm == SUBSEL_OPT_DOUBLE_GREEDY_RANDOM;
}

/* SUBSEL_STOP_* resolved for one objective: AUTO stops only where an item
 * of gain <= 0 cannot be followed by a positive gain worth waiting for,
 * i.e. for objectives not known to be monotone. */
static int stops_on_nonpositive(const subsel_optimizer *opt,
                                const subsel_objective *obj)
{
    if (opt->stop_nonpositive == SUBSEL_STOP_AUTO)
        return !obj->monotone;
    return opt->stop_nonpositive == SUBSEL_STOP_ALWAYS;
}

int subsel_optimizer_create(subsel_ctx *ctx, int algorithm,
                            subsel_optimizer **out)
{
    subsel_optimizer *opt;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    algorithm = algorithm_of(algorithm);
    if (!algorithm_known(algorithm))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_optimizer_create: unknown algorithm %d (the "
                       "algorithms are %d to %d)",
                       algorithm, SUBSEL_ALGORITHM_NAIVE,
                       SUBSEL_ALGORITHM_DOUBLE_GREEDY_RANDOM);
    SS_CHECK(ss_calloc_array(ctx, 1, sizeof *opt, &opt));
    ss_handle_init(opt, SS_KIND_OPTIMIZER, &ctx->alloc);
    opt->algorithm = algorithm;
    ss_param_defaults(&ss_optimizer_params, opt);
    *out = opt;
    return SUBSEL_OK;
}

/* Forgets the optimizer's start (initial set or checkpoint to resume). */
static void clear_start(subsel_optimizer *opt)
{
    ss_free_raw(&opt->alloc, opt->initial);
    ss_free_raw(&opt->alloc, opt->resume_path);
    ss_free_raw(&opt->alloc, opt->resume);
    opt->initial = NULL;
    opt->initial_count = 0;
    opt->resume_path = NULL;
    opt->resume = NULL;
}

void subsel_optimizer_free(subsel_optimizer *opt)
{
    ss_allocator a;
    if (!ss_handle_release(opt, SS_KIND_OPTIMIZER, __func__))
        return;
    a = opt->alloc;
    clear_start(opt);
    ss_free_raw(&a, opt->checkpoint_path);
    ss_free_raw(&a, opt);
}

/* Checks what can be checked of an initial set without the objective:
 * items not NULL, none negative, none repeated (on a sorted copy). */
static int check_initial(subsel_ctx *ctx, const int64_t *items, int64_t count)
{
    int64_t *sorted = NULL, i;
    int rc = SUBSEL_OK;
    if (count < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_optimizer_set_initial: count %lld is negative",
                       (long long)count);
    if (count > 0 && items == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_optimizer_set_initial: items is NULL with count %lld",
                       (long long)count);
    for (i = 0; i < count; i++)
        if (items[i] < 0)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "subsel_optimizer_set_initial: item %lld is %lld, "
                           "a negative index",
                           (long long)i, (long long)items[i]);
    SS_CHECK(ss_alloc_array(ctx, count, sizeof *sorted, &sorted));
    if (count > 0)
        memcpy(sorted, items, (size_t)count * sizeof *items);
    qsort(sorted, (size_t)count, sizeof *sorted, ss_compare_int64);
    for (i = 1; i < count; i++)
        if (sorted[i] == sorted[i - 1]) {
            rc = ss_fail(ctx, SUBSEL_E_INVALID,
                         "subsel_optimizer_set_initial: index %lld appears "
                         "more than once",
                         (long long)sorted[i]);
            break;
        }
    ss_free(ctx, sorted);
    return rc;
}

/* A copy of items on the optimizer's allocator (NULL for none). */
static int copy_items(subsel_ctx *ctx, const subsel_optimizer *opt,
                      const int64_t *items, int64_t count, int64_t **out)
{
    *out = NULL;
    if (count == 0)
        return SUBSEL_OK;
    SS_CHECK(ss_alloc_with(ctx, &opt->alloc, count, sizeof **out, out));
    memcpy(*out, items, (size_t)count * sizeof *items);
    return SUBSEL_OK;
}

/* A copy of a string on the optimizer's allocator. */
static int copy_string(subsel_ctx *ctx, const subsel_optimizer *opt,
                       const char *text, char **out)
{
    size_t len = strlen(text) + 1;
    SS_CHECK(ss_alloc_with(ctx, &opt->alloc, (int64_t)len, 1, out));
    memcpy(*out, text, len);
    return SUBSEL_OK;
}

int subsel_optimizer_set_initial(subsel_ctx *ctx, subsel_optimizer *opt,
                                 const int64_t *items, int64_t count)
{
    int64_t *copy = NULL;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, opt, SS_KIND_OPTIMIZER);
    SS_CHECK(check_initial(ctx, items, count));
    SS_CHECK(copy_items(ctx, opt, items, count, &copy));
    clear_start(opt);
    opt->initial = copy;
    opt->initial_count = count;
    return SUBSEL_OK;
}

int subsel_optimizer_set_checkpoint(subsel_ctx *ctx, subsel_optimizer *opt,
                                    const char *path)
{
    char *copy = NULL;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, opt, SS_KIND_OPTIMIZER);
    if (path != NULL && path[0] == '\0')
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_optimizer_set_checkpoint: the path is empty");
    if (path != NULL)
        SS_CHECK(copy_string(ctx, opt, path, &copy));
    ss_free_raw(&opt->alloc, opt->checkpoint_path);
    opt->checkpoint_path = copy;
    return SUBSEL_OK;
}

int subsel_optimizer_resume(subsel_ctx *ctx, subsel_optimizer *opt,
                            const char *path)
{
    ss_checkpoint_meta read, *meta = NULL;
    int64_t *items = NULL, *copy = NULL, count = 0;
    char *path_copy = NULL;
    int rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, opt, SS_KIND_OPTIMIZER);
    SS_REQUIRE_NONNULL(ctx, path);
    SS_CHECK(ss_checkpoint_read(ctx, path, &items, &count, &read));
    SS_TRY(copy_items(ctx, opt, items, count, &copy));
    SS_TRY(copy_string(ctx, opt, path, &path_copy));
    SS_TRY(ss_alloc_with(ctx, &opt->alloc, 1, sizeof *meta, &meta));
    *meta = read;
    clear_start(opt);
    opt->initial = copy;
    opt->initial_count = count;
    opt->resume = meta;
    opt->resume_path = path_copy;
    copy = NULL;
    path_copy = NULL;
cleanup:
    ss_free(ctx, items);
    ss_free_raw(&opt->alloc, copy);
    ss_free_raw(&opt->alloc, path_copy);
    return rc;
}

int ss_optimizer_require_plain(subsel_ctx *ctx, const subsel_optimizer *opt,
                               const char *caller)
{
    if (opt->initial_count > 0 || opt->resume != NULL || opt->checkpoint_path != NULL)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "%s does not take an initial set or checkpoints: "
                       "clear them (subsel_optimizer_set_initial() with no "
                       "items, subsel_optimizer_set_checkpoint() with NULL)",
                       caller);
    return SUBSEL_OK;
}

/* Adds the run's initial items to `state` in order, each with its gain,
 * to the trace, and marks them in *taken (n bytes, allocated on ctx). */
static int start_run(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                     const ss_run_config *cfg, ss_trace *trace,
                     unsigned char **taken)
{
    int64_t i;
    double gain, value;
    SS_CHECK(ss_calloc_array(ctx, obj->n, 1, taken));
    for (i = 0; i < cfg->initial_count; i++) {
        int64_t item = cfg->initial[i];
        SS_CHECK(ss_objective_gains(ctx, obj, state, &item, 1, &gain, NULL));
        SS_CHECK(ss_step_commit(ctx, obj, state, item, gain, trace));
        (*taken)[item] = i < cfg->warm ? SS_TAKEN_WARM : SS_TAKEN_REPLAYED;
    }
    trace->checkpointed = trace->count;
    if (cfg->resume == NULL)
        return SUBSEL_OK;
    /* f of the checkpoint's items fingerprints the objective's data; the
     * kernels make it the same on any machine, the slack is for sums in
     * another order */
    SS_CHECK(ss_objective_value(ctx, obj, state, &value));
    if (!(fabs(value - cfg->resume->value) <=
          1e-9 * fmax(1.0, fabs(cfg->resume->value))))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "the checkpoint does not belong to this objective: f "
                       "of its %lld items was %.17g, here it is %.17g",
                       (long long)cfg->initial_count, cfg->resume->value, value);
    return SUBSEL_OK;
}

/* Double greedy over the items not in `taken` (NULL: none taken), the
 * initial items being in X already (and in Y, which holds everything not
 * dropped). */
static int double_greedy_rest(subsel_ctx *ctx, const subsel_objective *obj,
                              void *state, const unsigned char *taken,
                              int randomized, const ss_run_config *cfg,
                              ss_trace *trace)
{
    int64_t *rest = NULL, count = 0, i;
    int rc;
    if (taken == NULL)
        return ss_double_greedy_run(ctx, obj, state, NULL, 0, randomized, cfg, trace);
    SS_CHECK(ss_alloc_array(ctx, obj->n, sizeof *rest, &rest));
    for (i = 0; i < obj->n; i++)
        if (!taken[i])
            rest[count++] = i;
    rc = ss_double_greedy_run(ctx, obj, state, rest, count, randomized, cfg, trace);
    ss_free(ctx, rest);
    return rc;
}

int ss_run_algorithm(subsel_ctx *ctx, int algorithm,
                     const subsel_objective *obj, const ss_run_config *cfg,
                     ss_trace *trace, double *value, void **final_state)
{
    void *state = NULL;
    unsigned char *taken = NULL;
    ss_run_config run = *cfg;
    int rc;
    SS_CHECK(ss_objective_state_new(ctx, obj, &state));
    if (cfg->initial_count > 0) {
        rc = start_run(ctx, obj, state, cfg, trace, &taken);
        run.taken = taken;
        cfg = &run;
        if (rc != SUBSEL_OK)
            goto done;
    }
    switch (algorithm) {
    case SUBSEL_OPT_NAIVE:
        rc = ss_greedy_naive(ctx, obj, state, cfg, trace);
        break;
    case SUBSEL_OPT_LAZY:
        rc = ss_greedy_lazy(ctx, obj, state, cfg, trace);
        break;
    case SUBSEL_OPT_DOUBLE_GREEDY:
    case SUBSEL_OPT_DOUBLE_GREEDY_RANDOM:
        rc = double_greedy_rest(ctx, obj, state, taken,
                                algorithm == SUBSEL_OPT_DOUBLE_GREEDY_RANDOM, cfg,
                                trace);
        break;
    default:
        rc = ss_greedy_stochastic(ctx, obj, state, cfg,
                                  algorithm == SUBSEL_OPT_LAZIER, trace);
        break;
    }
    if (rc == SUBSEL_OK && value != NULL)
        rc = ss_objective_value(ctx, obj, state, value);
done:
    ss_free(ctx, taken);
    if (rc == SUBSEL_OK && final_state != NULL) {
        *final_state = state;
        return SUBSEL_OK;
    }
    ss_objective_state_free(obj, state);
    return rc;
}

/* Nonzero when a run starts from items or writes checkpoints. */
static int has_start_or_checkpoint(const subsel_optimizer *opt)
{
    return opt->initial_count > 0 || opt->resume != NULL || opt->checkpoint_path != NULL;
}

/* Items per part below which SUBSEL_P_PARTS = 0 does not split: a part's
 * run must outweigh the partition and the threads' start. */
#define PARTS_AUTO_MIN_ITEMS 65536

/* The number of parts a call uses: opt->parts, or for 0 one per thread the
 * call gets while each part keeps PARTS_AUTO_MIN_ITEMS items. */
static int64_t parts_for(subsel_ctx *ctx, const subsel_optimizer *opt,
                         const subsel_objective *obj)
{
    int64_t parts;
    if (algorithm_is_double_greedy(opt->algorithm))
        return 1; /* it refuses more than one part (check_options) */
    if (opt->parts != 0)
        return opt->parts;
    if (has_start_or_checkpoint(opt))
        return 1; /* parts take neither (check_start) */
    parts = ss_threads_for(ctx, obj->n / PARTS_AUTO_MIN_ITEMS);
    return parts > 1 ? parts : 1;
}

/* One run of the optimizer: its algorithm over the whole ground set, or
 * over random parts combined (partition.c). */
static int run_one(subsel_ctx *ctx, const subsel_optimizer *opt,
                   const subsel_objective *obj, const ss_run_config *cfg,
                   ss_trace *trace, double *value)
{
    int64_t parts = parts_for(ctx, opt, obj);
    if (parts > 1)
        return ss_run_parts(ctx, opt, obj, cfg, parts, trace, value);
    return ss_run_algorithm(ctx, opt->algorithm, obj, cfg, trace, value, NULL);
}

int ss_check_budget(subsel_ctx *ctx, const subsel_optimizer *opt, int64_t n)
{
    if (opt->budget > n)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "budget %lld is larger than the pool of %lld items",
                       (long long)opt->budget, (long long)n);
    return SUBSEL_OK;
}

static int check_options(subsel_ctx *ctx, const subsel_optimizer *opt,
                         const subsel_objective *obj, int64_t budget_cap)
{
    SS_CHECK(ss_objective_ready(ctx, obj));
    if (budget_cap < 0)
        SS_CHECK(ss_check_budget(ctx, opt, obj->n));
    if (opt->runs > 1 && !algorithm_is_random(opt->algorithm))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%lld runs of a deterministic algorithm would all be "
                       "the same: use SUBSEL_ALGORITHM_STOCHASTIC or "
                       "SUBSEL_ALGORITHM_LAZIER",
                       (long long)opt->runs);
    if (opt->min_runs > opt->runs)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "min_runs %lld is larger than runs %lld",
                       (long long)opt->min_runs, (long long)opt->runs);
    if (opt->parts > 1 && algorithm_is_double_greedy(opt->algorithm))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "parts = %lld: double greedy runs over the whole "
                       "ground set; parts apply to the greedy algorithms",
                       (long long)opt->parts);
    if (opt->parts > 1 && opt->parts > obj->n)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "parts %lld is larger than the pool of %lld items",
                       (long long)opt->parts, (long long)obj->n);
    if (algorithm_needs_submodular(opt->algorithm) && !obj->submodular)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "lazy evaluation needs a submodular objective; %s is "
                       "not: use SUBSEL_ALGORITHM_NAIVE or "
                       "SUBSEL_ALGORITHM_STOCHASTIC",
                       obj->ops->name);
    return SUBSEL_OK;
}

/* The record a checkpoint of this call carries (value aside). */
static void checkpoint_meta_of(const subsel_optimizer *opt, const ss_run_config *cfg,
                               const subsel_objective *obj, ss_checkpoint_meta *m)
{
    memset(m, 0, sizeof *m);
    m->algorithm = opt->algorithm;
    m->n = obj->n;
    m->budget = cfg->budget;
    m->seed = (int64_t)cfg->seed;
    m->stop_nonpositive = cfg->stop_nonpositive;
    m->warm = cfg->warm;
    m->epsilon = cfg->epsilon;
}

/* A checkpoint fits a call when it was written by a run with the same
 * algorithm, ground set size, budget, seed, stopping rule and (for the
 * stochastic algorithms) epsilon; f of its items is checked once they
 * are added (start_run). */
static int check_resume(subsel_ctx *ctx, const subsel_optimizer *opt,
                        const ss_checkpoint_meta *ours)
{
    const ss_checkpoint_meta *theirs = opt->resume;
    static const struct {
        const char *what;
        size_t offset;
    } fields[] = {
        {"algorithm", offsetof(ss_checkpoint_meta, algorithm)},
        {"ground set size", offsetof(ss_checkpoint_meta, n)},
        {"budget", offsetof(ss_checkpoint_meta, budget)},
        {"seed", offsetof(ss_checkpoint_meta, seed)},
        {"stop_nonpositive (resolved)", offsetof(ss_checkpoint_meta, stop_nonpositive)},
    };
    size_t i;
    for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        int64_t a, b;
        memcpy(&a, (const char *)theirs + fields[i].offset, sizeof a);
        memcpy(&b, (const char *)ours + fields[i].offset, sizeof b);
        if (a != b)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "the checkpoint %s was written by another run: its "
                           "%s is %lld, this run's %lld",
                           opt->resume_path, fields[i].what, (long long)a,
                           (long long)b);
    }
    if (algorithm_is_random(opt->algorithm) && theirs->epsilon != ours->epsilon)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "the checkpoint %s was written by another run: its "
                       "epsilon is %.17g, this run's %.17g",
                       opt->resume_path, theirs->epsilon, ours->epsilon);
    return SUBSEL_OK;
}

/* What an initial set, a checkpoint or a resume needs of the call: greedy
 * algorithms, no parts (and one run for checkpoints), items of this
 * ground set, no more of them than the budget. */
static int check_start(subsel_ctx *ctx, const subsel_optimizer *opt,
                       const subsel_objective *obj, const ss_run_config *cfg)
{
    int rc;
    if (!has_start_or_checkpoint(opt))
        return SUBSEL_OK;
    if (algorithm_is_double_greedy(opt->algorithm) &&
        (opt->resume != NULL || opt->checkpoint_path != NULL))
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "double greedy takes an initial set but no checkpoint: "
                       "it decides the items in one pass whose state (its "
                       "Y set) a checkpoint of the selection does not hold");
    if (opt->parts > 1)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "parts = %lld: an initial set or a checkpoint applies "
                       "to a run over the whole ground set (parts = 1)",
                       (long long)opt->parts);
    if ((opt->resume != NULL || opt->checkpoint_path != NULL) && opt->runs > 1)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "runs = %lld: checkpoints follow a single run (an "
                       "initial set applies to every run)",
                       (long long)opt->runs);
    if (opt->initial_count > cfg->budget)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "the initial set has %lld items, more than the budget "
                       "of %lld (the budget counts them)",
                       (long long)opt->initial_count, (long long)cfg->budget);
    rc = ss_check_set(ctx, obj, opt->initial, opt->initial_count);
    if (rc != SUBSEL_OK)
        return ss_fail_prefix(ctx, rc, "%s", opt->resume != NULL ? "checkpoint" : "initial set");
    return SUBSEL_OK;
}

/* Items whose rows are fetched ahead of the replay: the items come from
 * all over the pool, and each would otherwise wait for memory twice (its
 * gain, then its add). */
#define REPLAY_AHEAD 8

/* The gains of adding `items` in order to an empty state of obj, and the
 * value of the whole set. */
static int replay(subsel_ctx *ctx, const subsel_objective *obj,
                  const int64_t *items, int64_t count, double *gains,
                  double *value)
{
    void *state = NULL;
    int64_t i;
    int rc = SUBSEL_OK;
    SS_CHECK(ss_objective_state_new(ctx, obj, &state));
    ss_objective_prefetch(obj, state, items,
                          count < REPLAY_AHEAD ? count : REPLAY_AHEAD,
                          SS_PREFETCH_DATA);
    for (i = 0; i < count; i++) {
        if (i + REPLAY_AHEAD < count)
            ss_objective_prefetch(obj, state, &items[i + REPLAY_AHEAD], 1,
                                  SS_PREFETCH_DATA);
        SS_TRY(ss_objective_gains(ctx, obj, state, &items[i], 1, &gains[i], NULL));
        SS_TRY(ss_objective_add(ctx, obj, state, items[i]));
    }
    SS_TRY(ss_objective_value(ctx, obj, state, value));
cleanup:
    ss_objective_state_free(obj, state);
    return rc;
}

/* R runs in parallel, each on a private copy of the context (its own error
 * message; progress only from the calling thread), then the items chosen by
 * at least `keep` runs, ascending. */
static int run_intersection(subsel_ctx *ctx, const subsel_optimizer *opt,
                            const subsel_objective *obj,
                            const ss_run_config *base, subsel_selection **out)
{
    int64_t runs = opt->runs, r, i, kept = 0, evaluations = 0;
    int64_t keep = opt->min_runs > 0 ? opt->min_runs : runs;
    ss_trace *traces = NULL;
    int *status = NULL;
    subsel_ctx *shadows = NULL;
    int32_t *votes = NULL;
    int64_t *items = NULL;
    double *gains = NULL, value = 0.0;
    int cancel = 0;
    int threads = ss_threads_for(ctx, runs);
    int rc = SUBSEL_OK;

    SS_TRY(ss_calloc_array(ctx, runs, sizeof *traces, &traces));
    SS_TRY(ss_calloc_array(ctx, runs, sizeof *status, &status));
    SS_TRY(ss_alloc_array(ctx, runs, sizeof *shadows, &shadows));
    for (r = 0; r < runs; r++) {
        SS_TRY(ss_trace_init(ctx, &traces[r], base->budget));
        shadows[r] = *ctx;
        shadows[r].last_error[0] = '\0';
    }

    /* static scheduling with chunks of 1 gives run 0 to thread 0, the
     * calling thread: that run reports progress (only the calling thread may
     * call the user's callback) and every run stops once it cancels */
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (r = 0; r < runs; r++) {
        ss_run_config cfg = *base;
        cfg.stream = (uint64_t)r;
        cfg.cancel = &cancel;
        cfg.report = r == 0;
        if (r != 0)
            shadows[r].progress = NULL;
        status[r] = run_one(&shadows[r], opt, obj, &cfg, &traces[r], NULL);

        if (status[r] != SUBSEL_OK)
            __atomic_store_n(&cancel, 1, __ATOMIC_RELAXED);
    }
    for (r = 0; r < runs; r++) {
        if (status[r] != SUBSEL_OK && status[r] != SUBSEL_E_CANCELLED) {
            rc = ss_fail(ctx, status[r], "run %lld: %s", (long long)r,
                         shadows[r].last_error);
            goto cleanup;
        }
    }
    for (r = 0; r < runs; r++)
        if (status[r] == SUBSEL_E_CANCELLED) {
            rc = ss_fail(ctx, SUBSEL_E_CANCELLED, "%s", shadows[r].last_error);
            goto cleanup;
        }

    SS_TRY(ss_calloc_array(ctx, obj->n, sizeof *votes, &votes));
    for (r = 0; r < runs; r++) {
        evaluations += traces[r].evaluations;
        for (i = 0; i < traces[r].count; i++)
            votes[traces[r].items[i]]++;
    }
    SS_TRY(ss_alloc_array(ctx, obj->n, sizeof *items, &items));
    for (i = 0; i < obj->n; i++)
        if (votes[i] >= keep)
            items[kept++] = i;
    SS_TRY(ss_alloc_array(ctx, kept, sizeof *gains, &gains));
    SS_TRY(replay(ctx, obj, items, kept, gains, &value));
    SS_TRY(ss_selection_new(ctx, items, gains, kept, value, evaluations, out));
    if (!algorithm_is_double_greedy(opt->algorithm)) {
        /* a run that stopped short explains more than the intersection */
        int reason = SUBSEL_SHORT_INTERSECTION;
        for (r = runs - 1; r >= 0; r--)
            if (ss_trace_short_reason(&traces[r], base->budget) != SUBSEL_SHORT_NONE)
                reason = ss_trace_short_reason(&traces[r], base->budget);
        ss_selection_set_budget(*out, base->budget, reason);
    }
cleanup:
    if (traces != NULL)
        for (r = 0; r < runs; r++)
            ss_trace_free(ctx, &traces[r]);
    ss_free(ctx, traces);
    ss_free(ctx, status);
    ss_free(ctx, shadows);
    ss_free(ctx, votes);
    ss_free(ctx, items);
    ss_free(ctx, gains);
    return rc;
}

/* One run, as the selection handed back. */
static int run_single(subsel_ctx *ctx, const subsel_optimizer *opt,
                      const subsel_objective *obj, const ss_run_config *cfg,
                      subsel_selection **out)
{
    ss_trace trace;
    double value = 0.0;
    int rc = SUBSEL_OK;
    SS_CHECK(ss_trace_init(ctx, &trace, cfg->budget));
    SS_TRY(run_one(ctx, opt, obj, cfg, &trace, &value));
    SS_TRY(ss_selection_new(ctx, trace.items, trace.gains, trace.count, value,
                            trace.evaluations, out));
    if (!algorithm_is_double_greedy(opt->algorithm))
        ss_selection_set_budget(*out, cfg->budget,
                                ss_trace_short_reason(&trace, cfg->budget));
cleanup:
    ss_trace_free(ctx, &trace);
    return rc;
}

void ss_run_config_of(const subsel_ctx *ctx, const subsel_optimizer *opt,
                      const subsel_objective *obj, int64_t n, ss_run_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    /* double greedy has no budget; its trace needs room for all n */
    cfg->budget = opt->budget > 0 && !algorithm_is_double_greedy(opt->algorithm)
                      ? opt->budget
                      : n;
    cfg->stop_nonpositive = stops_on_nonpositive(opt, obj);
    cfg->epsilon = opt->epsilon;
    cfg->seed = (uint64_t)ctx->seed;
    cfg->stream = 0;
    cfg->report = 1;
}

int ss_optimizer_run(subsel_ctx *ctx, const subsel_optimizer *opt,
                     const subsel_objective *obj, int64_t budget_cap,
                     subsel_selection **out)
{
    ss_run_config cfg;
    ss_checkpoint cp;
    int reports;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, opt, SS_KIND_OPTIMIZER);
    SS_REQUIRE_KIND(ctx, obj, SS_KIND_OBJECTIVE);
    SS_CHECK(check_options(ctx, opt, obj, budget_cap));
    if (budget_cap >= 0)
        SS_CHECK(ss_optimizer_require_plain(ctx, opt, "selection across processes"));

    ss_run_config_of(ctx, opt, obj, obj->n, &cfg);
    if (budget_cap >= 0 && cfg.budget > budget_cap)
        cfg.budget = budget_cap;
    SS_CHECK(check_start(ctx, opt, obj, &cfg));
    cfg.initial = opt->initial;
    cfg.initial_count = opt->initial_count;
    cfg.warm = opt->resume != NULL ? opt->resume->warm : opt->initial_count;
    cfg.resume = opt->resume;
    checkpoint_meta_of(opt, &cfg, obj, &cp.meta);
    if (opt->resume != NULL)
        SS_CHECK(check_resume(ctx, opt, &cp.meta));
    if (opt->checkpoint_path != NULL) {
        cp.path = opt->checkpoint_path;
        cp.every = opt->checkpoint_every;
        cfg.checkpoint = &cp;
    }
    /* Stage "select" runs from 0 to the budget, each end once, around all
     * the runs (the runs report the steps between); double greedy reports
     * a stage of its own. */
    reports = !algorithm_is_double_greedy(opt->algorithm);
    if (reports)
        SS_CHECK(ss_progress(ctx, "select", 0, cfg.budget));
    if (opt->runs > 1)
        SS_TRY(run_intersection(ctx, opt, obj, &cfg, out));
    else
        SS_TRY(run_single(ctx, opt, obj, &cfg, out));
    if (reports)
        SS_TRY(ss_progress(ctx, "select", cfg.budget, cfg.budget));
    return SUBSEL_OK;
cleanup:
    subsel_selection_free(*out);
    *out = NULL;
    return rc;
}

int subsel_optimizer_run(subsel_ctx *ctx, const subsel_optimizer *opt,
                         const subsel_objective *obj, subsel_selection **out)
{
    return ss_optimizer_run(ctx, opt, obj, -1, out);
}
