/* SPDX-License-Identifier: MIT */
/*
 * Optimizer options and their checks, progress and output shared by the
 * selecting commands.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "select_common.h"
#include "progress.h"
#include "stages.h"

/* Exit status of a selection stopped with a checkpoint (Ctrl-C,
 * --stop-after): what a shell reports for SIGINT, as `subsel lors`. */
#define SELECT_STOPPED 130

void select_defaults(select_options *o, const char *optimizer, const char *pool_option)
{
    memset(o, 0, sizeof *o);
    o->optimizer = optimizer;
    o->merge = "union";
    o->pool_option = pool_option;
}

void select_free(select_options *o)
{
    ids_free(&o->ids);
}

/* The SUBSEL_MERGE_* number of a --merge name, or -1. */
static int merge_mode(const char *name)
{
    if (strcmp(name, "union") == 0)
        return SUBSEL_MERGE_UNION;
    if (strcmp(name, "greedi") == 0)
        return SUBSEL_MERGE_GREEDI;
    return -1;
}

int select_context(const cli_command *cmd, const select_options *o,
                   subsel_ctx **ctx)
{
    return cli_make_ctx(cmd, o->threads, o->seed, ctx);
}

typedef struct progress_state {
    const char *command;
    int64_t last_decile;
    double start;
    int64_t stop_after; /* cancel stage "select" at this many items (0: never) */
    int64_t selected;   /* items of stage "select" at its last report */
} progress_state;

static progress_state progress;
/* One line per tenth of the way, and only for runs that last more than a
 * second, so logs stay short; cancels once stopped. */
static int on_progress(void *user, const char *stage, int64_t done, int64_t total)
{
    progress_state *p = user;
    int64_t decile = total > 0 ? done * 10 / total : 0;
    int selecting = strcmp(stage, "select") == 0;
    if (selecting)
        p->selected = done;
    if (cli_interrupted() || (selecting && p->stop_after > 0 && done >= p->stop_after))
        return 1;
    if (!progress_lines())
        return 0;
    if (decile > p->last_decile && cli_now() - p->start > 1.0) {
        p->last_decile = decile;
        fprintf(stderr, "subsel %s: %s %lld/%lld\n", p->command, stage,
                (long long)done, (long long)total);
    }
    return 0;
}

int select_algorithm(const char *name)
{
    static const struct {
        const char *name;
        int algorithm;
    } names[] = {
        {"naive", SUBSEL_ALGORITHM_NAIVE},
        {"lazy", SUBSEL_ALGORITHM_LAZY},
        {"stochastic", SUBSEL_ALGORITHM_STOCHASTIC},
        {"lazier", SUBSEL_ALGORITHM_LAZIER},
    };
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].algorithm;
    return -1;
}

/* 1 if the named algorithm draws random samples (several seeded runs of
 * it differ). */
static int is_random(const char *name)
{
    int a = select_algorithm(name);
    return a == SUBSEL_ALGORITHM_STOCHASTIC || a == SUBSEL_ALGORITHM_LAZIER;
}

int select_check(const cli_command *cmd, const select_options *o,
                 const char *automatic)
{
    const char *out_option = "--out";
    int automatic_choice = automatic != NULL && strcmp(o->optimizer, automatic) == 0;
    if (o->budget <= 0)
        return cli_usage(cmd, "--budget: must be positive, not %lld", (long long)o->budget);
    if (select_algorithm(o->optimizer) < 0 && !automatic_choice)
        return cli_usage(cmd, "--optimizer: '%s' is not %s%snaive, lazy, stochastic or lazier",
                         o->optimizer, automatic ? automatic : "", automatic ? ", " : "");
    if (merge_mode(o->merge) < 0)
        return cli_usage(cmd, "--merge: '%s' is not union or greedi", o->merge);
    if (ids_check(cmd, &o->ids) != 0)
        return CLI_USAGE;
    /* cli_parse checked each value against the library's bounds; what
     * remains are combinations */
    if (o->min_runs > o->runs)
        return cli_usage(cmd, "--min-runs %lld is outside [0, %lld] (0 to --runs)",
                         (long long)o->min_runs, (long long)o->runs);
    /* for "auto", the command checks once it has chosen */
    if (o->runs > 1 && !automatic_choice && !is_random(o->optimizer))
        return cli_usage(cmd, "--runs %lld needs --optimizer stochastic or lazier: %s is "
                              "deterministic, so every run would choose the same",
                         (long long)o->runs, o->optimizer);
    if ((o->checkpoint_every > 0 || o->stop_after > 0) && o->checkpoint == NULL)
        return cli_usage(cmd, "--checkpoint-every and --stop-after need --checkpoint");
    if (o->initial != NULL && o->resume != NULL)
        return cli_usage(cmd, "--resume goes on from the checkpoint's items: not with "
                              "--initial (which starts a new run)");
    if ((o->checkpoint != NULL || o->resume != NULL) && o->runs > 1)
        return cli_usage(cmd, "--checkpoint and --resume follow one run: not with --runs %lld",
                         (long long)o->runs);
    if ((o->checkpoint != NULL || o->resume != NULL || o->initial != NULL) && o->parts != 1)
        return cli_usage(cmd, "--initial, --checkpoint and --resume apply to one run over "
                              "the whole pool: give --parts 1");
    if (o->stop_after < 0)
        return cli_usage(cmd, "--stop-after: must be 0 or more, not %lld",
                         (long long)o->stop_after);
    return cli_check_outputs(cmd, 1, &out_option, &o->out);
}

int select_configure(const cli_command *cmd, const select_options *o,
                     subsel_optimizer *opt)
{
    if (o->runs > 1 && !is_random(o->optimizer))
        return cli_usage(cmd, "--runs %lld needs --optimizer stochastic or lazier: %s is "
                              "deterministic, so every run would choose the same",
                         (long long)o->runs, o->optimizer);
    if (subsel_optimizer_set_int(opt, SUBSEL_P_BUDGET, o->budget) != SUBSEL_OK ||
        subsel_optimizer_set_int(opt, SUBSEL_P_RUNS, o->runs) != SUBSEL_OK ||
        subsel_optimizer_set_int(opt, SUBSEL_P_MIN_RUNS, o->min_runs) != SUBSEL_OK ||
        subsel_optimizer_set_int(opt, SUBSEL_P_STOP_NONPOSITIVE,
                                 o->stop_nonpositive ? SUBSEL_STOP_ALWAYS
                                                     : SUBSEL_STOP_NEVER) != SUBSEL_OK ||
        subsel_optimizer_set_double(opt, SUBSEL_P_EPSILON, o->epsilon) != SUBSEL_OK ||
        subsel_optimizer_set_int(opt, SUBSEL_P_PARTS, o->parts) != SUBSEL_OK ||
        subsel_optimizer_set_int(opt, SUBSEL_P_MERGE, merge_mode(o->merge)) != SUBSEL_OK)
        return cli_fail_status(cmd, NULL, SUBSEL_E_INVALID, "optimizer options");
    return 0;
}

int select_start(const cli_command *cmd, subsel_ctx *ctx, const select_options *o,
                 subsel_optimizer *opt)
{
    int64_t *items = NULL, count = 0;
    int rc;
    if (o->initial != NULL) {
        if ((rc = cli_read_i64(cmd, ctx, "--initial", o->initial, &items, &count)) != 0)
            return rc;
        rc = subsel_optimizer_set_initial(ctx, opt, items, count);
        subsel_array_free(items);
        if (rc != SUBSEL_OK)
            return cli_fail_status(cmd, ctx, rc, "--initial");
    }
    if (o->resume != NULL && (rc = subsel_optimizer_resume(ctx, opt, o->resume)) != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, "--resume");
    if (o->checkpoint != NULL) {
        if ((rc = subsel_optimizer_set_checkpoint(ctx, opt, o->checkpoint)) != SUBSEL_OK ||
            (rc = subsel_param_set_int(ctx, opt, SUBSEL_P_CHECKPOINT_EVERY,
                                       o->checkpoint_every)) != SUBSEL_OK)
            return cli_fail_status(cmd, ctx, rc, "--checkpoint");
        cli_catch_interrupts();
    }
    progress.stop_after = o->stop_after;
    return 0;
}

int select_failed(const cli_command *cmd, subsel_ctx *ctx, const select_options *o,
                  int status)
{
    if (status != SUBSEL_E_CANCELLED || o->checkpoint == NULL)
        return cli_fail_status(cmd, ctx, status, "selection");
    cli_fail(cmd, "stopped at %lld of %lld items; the checkpoint %s holds them (go on "
                  "with --resume %s)",
             (long long)progress.selected, (long long)o->budget, o->checkpoint,
             o->checkpoint);
    return SELECT_STOPPED;
}

int select_optimizer(const cli_command *cmd, subsel_ctx *ctx,
                     const select_options *o, subsel_optimizer **opt)
{
    int algorithm = select_algorithm(o->optimizer), rc;
    *opt = NULL;
    if (algorithm < 0)
        return cli_usage(cmd, "--optimizer: '%s' is not naive, lazy, stochastic or lazier",
                         o->optimizer);
    if ((rc = subsel_optimizer_create(ctx, algorithm, opt)) != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, "optimizer");
    if ((rc = select_configure(cmd, o, *opt)) != 0 ||
        (rc = select_start(cmd, ctx, o, *opt)) != 0) {
        subsel_optimizer_free(*opt);
        *opt = NULL;
    }
    return rc;
}

void select_progress(const cli_command *cmd, subsel_ctx *ctx, int on)
{
    progress.command = cmd->name;
    progress.last_decile = 0;
    progress.start = cli_now();
    stages_set_progress(ctx, on ? on_progress : NULL, on ? &progress : NULL);
}

int select_run(const cli_command *cmd, subsel_ctx *ctx,
               select_options *o, const subsel_objective *obj,
               subsel_selection **sel, double *seconds)
{
    subsel_optimizer *opt = NULL;
    double t0;
    int rc;

    if (o->budget > subsel_objective_size(obj))
        return cli_usage(cmd, "--budget %lld is larger than the %lld items to choose from",
                         (long long)o->budget, (long long)subsel_objective_size(obj));
    if ((rc = ids_load(cmd, ctx, &o->ids, subsel_objective_size(obj),
                       o->pool_option)) != 0 ||
        (rc = select_optimizer(cmd, ctx, o, &opt)) != 0)
        return rc;
    select_progress(cmd, ctx, 1);
    stages_begin("select");
    t0 = cli_now();
    rc = subsel_optimizer_run(ctx, opt, obj, sel);
    *seconds = cli_now() - t0;
    select_progress(cmd, ctx, 0);
    subsel_optimizer_free(opt);
    if (rc != SUBSEL_OK)
        return select_failed(cmd, ctx, o, rc);
    if ((rc = select_write(cmd, ctx, o, *sel)) != 0) {
        subsel_selection_free(*sel);
        *sel = NULL;
        return rc;
    }
    select_warn_short(cmd, *sel);
    return 0;
}

int select_write(const cli_command *cmd, subsel_ctx *ctx, const select_options *o,
                 const subsel_selection *sel)
{
    stages_begin("write");
    return ids_write(cmd, ctx, &o->ids, subsel_selection_indices(sel),
                     subsel_selection_count(sel), "--out", o->out);
}

void select_json(const select_options *o, const subsel_selection *sel,
                 double seconds)
{
    json_int("selected", subsel_selection_count(sel));
    json_double("objective", subsel_selection_value(sel));
    json_double("seconds", seconds);
    json_string("optimizer", o->optimizer);
    json_int("runs", o->runs);
    json_int("parts", o->parts);
    json_string("merge", o->merge);
    json_int("evaluations", subsel_selection_evaluations(sel));
    json_string("out", o->out);
    ids_json(&o->ids);
    select_json_budget(sel);
    json_stages();
}

void select_json_budget(const subsel_selection *sel)
{
    int reason = subsel_selection_short_reason(sel);
    json_int("budget", subsel_selection_budget(sel));
    json_int("short", reason != SUBSEL_SHORT_NONE);
    json_string("short_reason",
                reason != SUBSEL_SHORT_NONE ? subsel_short_reason_string(reason) : "");
}

void select_warn_short(const cli_command *cmd, const subsel_selection *sel)
{
    int reason = subsel_selection_short_reason(sel);
    progress_break();
    if (reason != SUBSEL_SHORT_NONE)
        fprintf(stderr, "subsel %s: warning: selected %lld of the budget of %lld: %s\n",
                cmd->name, (long long)subsel_selection_count(sel),
                (long long)subsel_selection_budget(sel),
                subsel_short_reason_string(reason));
}

int cli_parse_doubles(const cli_command *cmd, const char *option,
                      const char *text, double **values, int64_t *count)
{
    const char *p = text;
    int64_t n = 1, i = 0;
    double *v;
    for (; *p; p++)
        n += *p == ',';
    v = malloc(sizeof *v * (size_t)n);
    if (v == NULL)
        return cli_fail(cmd, "out of memory");
    for (p = text; i < n; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p || (*end != ',' && *end != '\0') || !isfinite(v[i])) {
            free(v);
            return cli_usage(cmd, "--%s: '%s' is not a comma-separated list of finite "
                                  "numbers", option, text);
        }
        p = end + (*end == ',');
    }
    *values = v;
    *count = n;
    return 0;
}
