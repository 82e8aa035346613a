/* SPDX-License-Identifier: MIT */
/*
 * The optimizers as the library sees them. Every algorithm is a function
 * that runs on one objective with one state and appends what it chooses to
 * a trace; the public optimizer handle (optimizer.c) validates options,
 * runs one algorithm or several seeded runs in parallel, intersects them,
 * and turns the result into a subsel_selection.
 */
#ifndef SS_OPTIM_H
#define SS_OPTIM_H

#include <stdint.h>

#include "core/options.h"
#include "core/rng.h"
#include "objectives/objective.h"
#include "subsel.h"

/* The optimizer's parameters (SUBSEL_P_BUDGET ...: optimizer.c). */
extern const ss_param_kind ss_optimizer_params;

/* The optimizer handle: options with their bounds (optimizer.c). */
struct subsel_optimizer {
    SS_HANDLE_HEAD;
    int algorithm;
    int64_t budget;
    int64_t runs;
    int64_t min_runs;
    int64_t stop_nonpositive;
    double epsilon;
    int64_t parts; /* SUBSEL_P_PARTS: 1 none, 0 automatic */
    int64_t merge; /* SUBSEL_MERGE_* */
    int64_t fanin; /* SUBSEL_P_FANIN: read by lib/distributed */
    int64_t checkpoint_every; /* SUBSEL_P_CHECKPOINT_EVERY */
    /* Where a run starts (subsel_optimizer_set_initial(), or
     * subsel_optimizer_resume() with `resume` set): a copy of the items,
     * on the optimizer's allocator, or NULL. */
    int64_t *initial;
    int64_t initial_count;
    char *checkpoint_path; /* subsel_optimizer_set_checkpoint(), or NULL */
    char *resume_path;     /* the checkpoint `initial` came from, or NULL */
    struct ss_checkpoint_meta *resume; /* its record, or NULL */
};

/* What a checkpoint records besides its items (checkpoint.c): the run it
 * belongs to, checked on resume, and f of its items, which fingerprints
 * the objective's data. */
typedef struct ss_checkpoint_meta {
    int64_t algorithm;        /* SUBSEL_ALGORITHM_* */
    int64_t n;                /* ground set size */
    int64_t budget;           /* resolved (n for a budget of 0) */
    int64_t seed;             /* the context's SUBSEL_P_SEED */
    int64_t stop_nonpositive; /* resolved for the objective: 0 or 1 */
    int64_t warm;             /* the leading items that were the run's own
                                 initial set (the rest it chose) */
    double epsilon;
    double value;             /* f of the items */
} ss_checkpoint_meta;

/* A run's checkpoint: its file, how often, and the record written with
 * the items (value filled at each write). */
typedef struct ss_checkpoint {
    const char *path;
    int64_t every; /* steps; 0: only when the run is cancelled */
    ss_checkpoint_meta meta;
} ss_checkpoint;

/* What one run chose: items in order with their gains, how many gains it
 * evaluated, and why it ended before its budget (SUBSEL_SHORT_*, NONE when
 * it did not). Arrays have room for `capacity` items. */
typedef struct ss_trace {
    int64_t *items;
    double *gains;
    int64_t count;
    int64_t capacity;
    int64_t evaluations;
    int short_reason;
    int64_t checkpointed; /* count when the last checkpoint was written */
} ss_trace;

int ss_trace_init(subsel_ctx *ctx, ss_trace *trace, int64_t capacity);
void ss_trace_free(subsel_ctx *ctx, ss_trace *trace);

/* Settings of one run. `stream` picks the random stream (run number);
 * `report` is nonzero for the run that reports progress (progress is only
 * ever reported from the calling thread). */
typedef struct ss_run_config {
    int64_t budget;        /* items to select, <= n */
    int stop_nonpositive;  /* stop when the best gain <= 0 (resolved from
                              SUBSEL_STOP_* and the objective) */
    double epsilon;        /* stochastic algorithms */
    uint64_t seed, stream; /* stochastic algorithms */
    int report;
    int *cancel;           /* shared by parallel runs (atomic access): set
                              once any run is cancelled, so the others stop
                              too; or NULL */
    const int64_t *ground; /* the items the run may choose, ascending, or
                              NULL for all n (a part of a partition) */
    int64_t ground_count;  /* entries of ground (n when ground is NULL) */
    int64_t report_total;  /* progress shows report_offset + count *
                              report_total / budget (a part reports for the
                              whole selection); 0: count of budget */
    int64_t report_offset;
    int64_t report_of;     /* the total shown with report_total */
    /* The items the run starts from, added in order before its first
     * step (ss_run_algorithm), or NULL. The first `warm` of them were
     * given (an initial set); the others are a checkpoint's steps of this
     * very run, whose samples the stochastic algorithms draw again to
     * reach the random stream's and the pool's position. `taken` marks
     * them, SS_TAKEN_WARM or SS_TAKEN_REPLAYED (n bytes, set by
     * ss_run_algorithm for the algorithms). */
    const int64_t *initial;
    int64_t initial_count, warm;
    const unsigned char *taken;
    /* Set when the initial items come from a checkpoint: f of them must
     * be resume->value. */
    const ss_checkpoint_meta *resume;
    const ss_checkpoint *checkpoint; /* written as the run goes, or NULL */
} ss_run_config;

#define SS_TAKEN_WARM 1
#define SS_TAKEN_REPLAYED 2

/* Nonzero when `item` is one of the run's initial items. */
static inline int ss_run_taken(const ss_run_config *cfg, int64_t item)
{
    return cfg->taken != NULL && cfg->taken[item];
}

/* The run's ground set: its size, and its i-th item. */
static inline int64_t ss_ground_count(const ss_run_config *cfg,
                                      const subsel_objective *obj)
{
    return cfg->ground != NULL ? cfg->ground_count : obj->n;
}

static inline int64_t ss_ground_item(const ss_run_config *cfg, int64_t i)
{
    return cfg->ground != NULL ? cfg->ground[i] : i;
}

/* One run of an algorithm on `state` (which starts holding the run's
 * initial items, already in `trace`, and ends holding the chosen items),
 * over the run's ground set less the initial items. Each appends to
 * `trace`. */
int ss_greedy_naive(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                    const ss_run_config *cfg, ss_trace *trace);
int ss_greedy_lazy(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                   const ss_run_config *cfg, ss_trace *trace);
int ss_greedy_stochastic(subsel_ctx *ctx, const subsel_objective *obj,
                         void *state, const ss_run_config *cfg, int lazier,
                         ss_trace *trace);

/* One run of `algorithm` on a fresh state of obj, which first adds the
 * run's initial items (optimizer.c); *value (if
 * not NULL) gets f of the chosen set. On success the final state goes to
 * *final_state when that is not NULL (the caller frees it), else it is
 * freed. */
int ss_run_algorithm(subsel_ctx *ctx, int algorithm,
                     const subsel_objective *obj, const ss_run_config *cfg,
                     ss_trace *trace, double *value, void **final_state);

/* SUBSEL_E_UNSUPPORTED, naming `caller`, when opt has an initial set, a
 * checkpoint to write or one to resume from: selection across processes
 * (lib/distributed) takes none of them. */
int ss_optimizer_require_plain(subsel_ctx *ctx, const subsel_optimizer *opt,
                               const char *caller);

/* Writes the checkpoint of a run: the items of `trace`, cp->meta with f of
 * `state` (which holds them), as ss_write_atomic does (checkpoint.c). */
int ss_checkpoint_write(subsel_ctx *ctx, const subsel_objective *obj,
                        const void *state, const ss_checkpoint *cp,
                        const ss_trace *trace);

/* Reads a checkpoint: its items (allocated on ctx) and its record.
 * SUBSEL_E_FORMAT for a file that is not one, SUBSEL_E_UNSUPPORTED for a
 * later format; messages prefixed with the path. */
int ss_checkpoint_read(subsel_ctx *ctx, const char *path, int64_t **items,
                       int64_t *count, ss_checkpoint_meta *meta);

/* SUBSEL_E_INVALID with the one message for a budget above a pool of n
 * items, else SUBSEL_OK. */
int ss_check_budget(subsel_ctx *ctx, const subsel_optimizer *opt, int64_t n);

/* The settings of subsel_optimizer_run()'s single run (run 0's stream,
 * progress reported) over a ground set of n items: the exact distributed
 * mode (lib/distributed) starts from these, so that it makes that run. */
void ss_run_config_of(const subsel_ctx *ctx, const subsel_optimizer *opt,
                      const subsel_objective *obj, int64_t n, ss_run_config *cfg);

/* subsel_optimizer_run() with the budget capped at budget_cap (when >= 0;
 * a budget above the pool is then no error): a part of a pool selects
 * what it can (lib/distributed). */
int ss_optimizer_run(subsel_ctx *ctx, const subsel_optimizer *opt,
                     const subsel_objective *obj, int64_t budget_cap,
                     subsel_selection **out);

/* One run as `parts` parts (partition.c): the ground set split at random
 * into `parts` parts, each run by opt's algorithm in parallel on the
 * context's threads, combined as opt->merge says into `trace` and *value
 * (f of the items in the trace). The same seed, stream and part count give
 * the same result whatever the thread count. */
int ss_run_parts(subsel_ctx *ctx, const subsel_optimizer *opt,
                 const subsel_objective *obj, const ss_run_config *cfg,
                 int64_t parts, ss_trace *trace, double *value);

/* Sampled items drawn, then evaluated, per block: with a small budget the
 * sample is most of the pool, and its buffers must not grow with it (draws
 * do not depend on the pool's contents and gains are per item, so blocks
 * change no result). */
#define SS_SAMPLE_BLOCK 65536

/* Draws sample positions [first, first + count) of a partial Fisher-Yates
 * shuffle of pool[0..remaining) and swaps them in (stochastic.c): every
 * process that draws from the same stream in the same order draws the
 * same samples (lib/distributed's exact mode). */
void ss_sample_draw(ss_rng *rng, int64_t *pool, int64_t remaining,
                    int64_t first, int64_t count, int64_t *draws);

/* The stochastic greedy sample size ceil((n / k) ln(1 / epsilon)), at
 * least 1 and at most n. */
int64_t ss_stochastic_sample_size(int64_t n, int64_t k, double epsilon);

/* Makes a selection handle from the first `count` entries of items/gains
 * (copied) with value and evaluation count. Its budget is `count` (a call
 * that chooses its own size) until ss_selection_set_budget says otherwise. */
int ss_selection_new(subsel_ctx *ctx, const int64_t *items,
                     const double *gains, int64_t count, double value,
                     int64_t evaluations, subsel_selection **out);

/* Records the budget the call was asked for and, when the selection holds
 * fewer items, why (SUBSEL_SHORT_*; a full selection always reads NONE,
 * and a short one without a reason reads EXHAUSTED). */
void ss_selection_set_budget(subsel_selection *sel, int64_t budget,
                             int reason);

/* The trace's reason to have ended before `budget` items: its own, or
 * EXHAUSTED (nothing left to add) when it has none; NONE when full. */
int ss_trace_short_reason(const ss_trace *trace, int64_t budget);

#endif
