/* SPDX-License-Identifier: MIT */
/*
 * What every selecting subcommand shares: the optimizer options
 * (--budget, --optimizer, --epsilon, --runs, --min-runs, --stop-nonpositive,
 * --parts, --merge, --seed, --threads, --out), the start and checkpoints
 * (--initial, --checkpoint, --checkpoint-every, --resume, --stop-after)
 * and their checks, running the optimizer with
 * progress on stderr, writing the selection, and the common fields of the
 * JSON summary.
 */
#ifndef SUBSEL_SELECT_COMMON_H
#define SUBSEL_SELECT_COMMON_H

#include "cli.h"
#include "ids.h"

typedef struct select_options {
    int64_t budget;
    const char *optimizer; /* naive | lazy | stochastic | lazier */
    double epsilon;
    int64_t runs, min_runs;
    int64_t seed, threads;
    int stop_nonpositive;
    int64_t parts;
    const char *merge; /* union | greedi */
    const char *out;
    const char *initial;    /* --initial: items to start from (.npy) */
    const char *checkpoint; /* --checkpoint: file written as the run goes */
    int64_t checkpoint_every;
    const char *resume;     /* --resume: a checkpoint to go on from */
    int64_t stop_after;     /* --stop-after: items, then stop (0: never) */
    cli_ids ids;              /* --ids: what --out holds */
    const char *pool_option;  /* the input whose rows are the pool, for
                                 messages ("--features") */
} select_options;

/* Defaults of what is not a library parameter (cli_parse sets those),
 * with the given default algorithm name and the input whose rows are the
 * pool. */
void select_defaults(select_options *o, const char *optimizer, const char *pool_option);

/* Releases what the options read (the ids). */
void select_free(select_options *o);

/* The option table entries for a select_options, to put in a command's
 * cli_option array. The optimizer's and context's parameters take their
 * defaults, bounds and descriptions from the library. */
#define SELECT_CLI_OPTIONS(o)                                                  \
    {"budget", 'k', CLI_INT, &(o).budget, "items to select", 1, NULL, 0, 0},   \
    {"optimizer", 0, CLI_STRING, &(o).optimizer,                               \
     "naive | lazy | stochastic | lazier", 0, NULL, 0, 0},                     \
    {"epsilon", 0, CLI_DOUBLE, &(o).epsilon, NULL, 0, NULL, 0,                 \
     SUBSEL_P_EPSILON},                                                        \
    {"runs", 0, CLI_INT, &(o).runs, NULL, 0, NULL, 0, SUBSEL_P_RUNS},          \
    {"min-runs", 0, CLI_INT, &(o).min_runs,                                    \
     "keep items chosen by at least this many runs", 0, "0: all runs", 0,     \
     SUBSEL_P_MIN_RUNS},                                                       \
    {"stop-nonpositive", 0, CLI_FLAG, &(o).stop_nonpositive,                   \
     "stop a run at the first step whose best gain is <= 0, short of the "     \
     "budget", 0, NULL, 0, 0},                                                 \
    {"parts", 0, CLI_INT, &(o).parts,                                          \
     "split the pool into random parts selected from in parallel", 0,         \
     "1: none (exact); 0: one per thread on large pools", 0, SUBSEL_P_PARTS}, \
    {"merge", 0, CLI_STRING, &(o).merge,                                       \
     "how parts combine: union (budget shares) | greedi (RandGreeDi)", 0,     \
     NULL, 0, 0},                                                              \
    {"seed", 0, CLI_INT, &(o).seed, NULL, 0, NULL, 0, SUBSEL_P_SEED},          \
    {"threads", 't', CLI_INT, &(o).threads, "threads", 0,                      \
     "0: as many as OpenMP gives", 0, SUBSEL_P_THREADS},                       \
    {"out", 'o', CLI_STRING, &(o).out,                                         \
     "write the selected indices (.npy; - for standard output)", 1, NULL, 0, 0}, \
    {"initial", 0, CLI_STRING, &(o).initial,                                   \
     "start from these items (int .npy), in order; --budget counts them", 0,  \
     NULL, 0, 0},                                                              \
    {"checkpoint", 0, CLI_STRING, &(o).checkpoint,                             \
     "save the selection so far to this file (.npz) every --checkpoint-every " \
     "items and when stopped (Ctrl-C, --stop-after)", 0, NULL, 0, 0},          \
    {"checkpoint-every", 0, CLI_INT, &(o).checkpoint_every, NULL, 0, NULL, 0,  \
     SUBSEL_P_CHECKPOINT_EVERY},                                               \
    {"resume", 0, CLI_STRING, &(o).resume,                                     \
     "go on from this checkpoint (same inputs and options) to the selection " \
     "of an uninterrupted run", 0, NULL, 0, 0},                                \
    {"stop-after", 0, CLI_INT, &(o).stop_after,                                \
     "stop once this many items are chosen, saving --checkpoint (exit 130)",   \
     0, "0: never", 0, 0},                                                 \
    IDS_CLI_OPTIONS((o).ids)

/* Checks the options (values, combinations, --out) before anything is
 * read, so a bad command line fails at once. `automatic` is the name of an
 * extra optimizer choice the command resolves itself ("auto"), or NULL.
 * Returns 0 or CLI_USAGE. */
int select_check(const cli_command *cmd, const select_options *o,
                 const char *automatic);

/* A context with the options' threads and seed. Returns 0 or an exit code. */
int select_context(const cli_command *cmd, const select_options *o,
                   subsel_ctx **ctx);

/* The SUBSEL_ALGORITHM_* number of an algorithm name (naive, lazy,
 * stochastic, lazier), or -1. */
int select_algorithm(const char *name);

/* Sets the optimizer options of `o` (budget, runs, min-runs, stopping,
 * epsilon, checked by select_check) on `opt`. Returns 0 or an exit code
 * (after a one-line error). */
int select_configure(const cli_command *cmd, const select_options *o,
                     subsel_optimizer *opt);

/* Gives `opt` the start and checkpoints of the options (--initial,
 * --resume, --checkpoint, --checkpoint-every) and arms --stop-after and
 * Ctrl-C (with --checkpoint) for the next select_progress(). Returns 0 or
 * an exit code. */
int select_start(const cli_command *cmd, subsel_ctx *ctx, const select_options *o,
                 subsel_optimizer *opt);

/* The exit code and message for a failed selection: 130, naming the
 * checkpoint, when it was stopped (Ctrl-C, --stop-after) with one;
 * otherwise as cli_fail_status(). */
int select_failed(const cli_command *cmd, subsel_ctx *ctx, const select_options *o,
                  int status);

/* The optimizer the options describe. Returns 0 or an exit code. */
int select_optimizer(const cli_command *cmd, subsel_ctx *ctx,
                     const select_options *o, subsel_optimizer **opt);

/* Progress lines on stderr for the calls that follow (on), or none. */
void select_progress(const cli_command *cmd, subsel_ctx *ctx, int on);

/* Runs the optimizer on `obj` with progress on stderr, writes the indices
 * (or their --ids, read first and checked against the objective's size) to
 * o->out, and measures the seconds. Returns 0 or an exit code. */
int select_run(const cli_command *cmd, subsel_ctx *ctx,
               select_options *o, const subsel_objective *obj,
               subsel_selection **sel, double *seconds);

/* Writes a selection to o->out: its positions, or their --ids (ids_load
 * first). Returns 0 or an exit code. */
int select_write(const cli_command *cmd, subsel_ctx *ctx, const select_options *o,
                 const subsel_selection *sel);

/* Writes the JSON fields every selecting command prints. */
void select_json(const select_options *o, const subsel_selection *sel,
                 double seconds);

/* The JSON fields of a selection's budget: "budget", "short" (0 or 1) and
 * "short_reason" (subsel_short_reason_string(), "" when not short). */
void select_json_budget(const subsel_selection *sel);

/* One warning line on stderr when the selection holds fewer items than its
 * budget: how many, and why. */
void select_warn_short(const cli_command *cmd, const subsel_selection *sel);

/* Parses "a,b,c" into a malloc'ed array; returns 0 or CLI_USAGE. */
int cli_parse_doubles(const cli_command *cmd, const char *option,
                      const char *text, double **values, int64_t *count);

#endif
