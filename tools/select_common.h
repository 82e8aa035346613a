/* SPDX-License-Identifier: MIT */
/*
 * What every selecting subcommand shares: the optimizer options
 * (--budget, --optimizer, --epsilon, --runs, --min-runs, --seed, --threads,
 * --out), running the optimizer with progress on stderr, writing the
 * selection, and the common fields of the JSON summary.
 */
#ifndef SUBSEL_SELECT_COMMON_H
#define SUBSEL_SELECT_COMMON_H

#include "cli.h"

typedef struct select_options {
    int64_t budget;
    const char *optimizer; /* naive | lazy | stochastic | lazier */
    double epsilon;
    int64_t runs, min_runs;
    int64_t seed, threads;
    int keep_nonpositive;
    const char *out;
} select_options;

/* Defaults, with the given default algorithm name. */
void select_defaults(select_options *o, const char *optimizer);

/* The option table entries for a select_options, to put in a command's
 * cli_option array. */
#define SELECT_CLI_OPTIONS(o)                                                  \
    {"budget", 'k', CLI_INT, &(o).budget, "items to select", 1},               \
    {"optimizer", 0, CLI_STRING, &(o).optimizer,                               \
     "naive | lazy | stochastic | lazier", 0},                                 \
    {"epsilon", 0, CLI_DOUBLE, &(o).epsilon,                                   \
     "stochastic sample accuracy, (0, 1) (default 1e-3)", 0},                  \
    {"runs", 0, CLI_INT, &(o).runs,                                            \
     "seeded stochastic runs to intersect (default 1)", 0},                    \
    {"min-runs", 0, CLI_INT, &(o).min_runs,                                    \
     "keep items chosen by at least this many runs (default: all)", 0},        \
    {"keep-nonpositive", 0, CLI_FLAG, &(o).keep_nonpositive,                   \
     "never stop at a best gain <= 0 (default: stop only for "                 \
     "non-monotone objectives)", 0},                                          \
    {"seed", 0, CLI_INT, &(o).seed, "random seed (default 0)", 0},             \
    {"threads", 't', CLI_INT, &(o).threads,                                    \
     "threads (default 0: all)", 0},                                           \
    {"out", 'o', CLI_STRING, &(o).out, "write the selected indices (.npy)", 1}

/* A context with the options' threads and seed. Returns 0 or an exit code. */
int select_context(const cli_command *cmd, const select_options *o,
                   subsel_ctx **ctx);

/* The SUBSEL_OPT_* number of an algorithm name (naive, lazy, stochastic,
 * lazier), or -1. */
int select_algorithm(const char *name);

/* Sets the optimizer options of `o` (budget, runs, min-runs, stopping,
 * epsilon) on `opt`. Returns 0 or an exit code (after a one-line error). */
int select_configure(const cli_command *cmd, const select_options *o,
                     subsel_optimizer *opt);

/* Runs the optimizer on `obj` with progress on stderr, writes the indices to
 * o->out, warns when the selection is short (select_warn_short), and
 * measures the seconds. Returns 0 or an exit code. */
int select_run(const cli_command *cmd, subsel_ctx *ctx,
               const select_options *o, const subsel_objective *obj,
               subsel_selection **sel, double *seconds);

/* Writes the JSON fields every selecting command prints (those of
 * select_json_budget included). */
void select_json(const select_options *o, const subsel_selection *sel,
                 double seconds);

/* The JSON fields of a selection's budget: "budget", "short" (0 or 1) and
 * "short_reason" (subsel_short_reason_string(), "" when not short). */
void select_json_budget(const subsel_selection *sel);

/* One warning line on stderr when the selection holds fewer items than its
 * budget: how many, and why. */
void select_warn_short(const cli_command *cmd, const subsel_selection *sel);

/* Parses "a,b,c" into a malloc'ed array; returns 0 or an exit code. */
int cli_parse_doubles(const cli_command *cmd, const char *option,
                      const char *text, double **values, int64_t *count);

/* Reads a whole 1-D .npy vector as doubles into a malloc'ed array. */
int cli_read_f64(const cli_command *cmd, subsel_ctx *ctx, const char *path,
                 double **values, int64_t *count);

#endif
