/* SPDX-License-Identifier: MIT */
/*
 * `subsel tarot`: TAROT targeted selection. Reads candidate and target
 * feature matrices (.npy), optionally projects them, whitens them, and
 * selects either a fixed fraction of the candidates (--ratio) or the set
 * that minimises the OT distance to held-out target folds (--otm). Writes
 * the selected indices (and, if asked, integer repetition weights) as .npy
 * files and prints one JSON object; progress goes to standard error.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"
#include "stages.h"
#include "commands.h"
#include "select_common.h"

/* The paper's k of its k-fold OTM ("k = 10 ensures a good match with the
 * target distribution while avoiding overfitting", section 4.3): the
 * default of --folds since 0.15 (it was 5). */
#define TAROT_PAPER_FOLDS 10

typedef struct tarot_progress {
    double start, last;
    char stage[32];
} tarot_progress;

/* The first report, then at most one line per second (the OT solves inside
 * a selection report too, so stages interleave quickly). */
static int print_progress(void *user, const char *stage, int64_t done,
                          int64_t total)
{
    tarot_progress *p = user;
    double now = cli_now();
    if (!progress_lines())
        return 0;
    if (p->stage[0] == '\0' || now - p->last >= 1.0) {
        if (total > 0)
            fprintf(stderr, "subsel tarot: %s %lld/%lld (%.1f s)\n", stage,
                    (long long)done, (long long)total, now - p->start);
        else
            fprintf(stderr, "subsel tarot: %s %lld (%.1f s)\n", stage,
                    (long long)done, now - p->start);
        snprintf(p->stage, sizeof p->stage, "%s", stage);
        p->last = now;
    }
    return 0;
}

static int parse_choice(const char *text, const char *const *names, int count)
{
    int i;
    for (i = 0; i < count; i++)
        if (strcmp(text, names[i]) == 0)
            return i;
    return -1;
}

/* Set a parameter of the selector; a value the library refuses is a usage
 * error naming the CLI option. Return 0 or an exit code. */
static int set_int(const cli_command *self, subsel_ctx *ctx, subsel_tarot *t, int param,
                   int64_t value, const char *option)
{
    int rc = subsel_param_set_int(ctx, t, param, value);
    return rc == SUBSEL_OK ? 0 : cli_option_status(self, ctx, rc, option);
}

static int set_real(const cli_command *self, subsel_ctx *ctx, subsel_tarot *t, int param,
                    double value, const char *option)
{
    int rc = subsel_param_set_real(ctx, t, param, value);
    return rc == SUBSEL_OK ? 0 : cli_option_status(self, ctx, rc, option);
}

int cmd_tarot(const cli_command *self, int argc, char **argv)
{
    static const char *const whitenings[] = {"none", "cholesky", "zca"};
    static const char *const kinds[] = {"rademacher", "gaussian"};
    const char *cand_path = NULL, *targ_path = NULL, *out = NULL;
    const char *whiten = "cholesky", *kind = "rademacher";
    const char *weights_out = NULL, *folds_path = NULL;
    /* the library's parameters get its defaults from cli_parse */
    int64_t proj_dim = 0, folds = TAROT_PAPER_FOLDS, weights_total = 0, max_rank = 0;
    int64_t ot_memory = 0;
    int64_t threads = 0, seed = 0, budget = 0, n, m, k, nw = 0, nfolds = 0;
    double ratio = -1.0, eps = 0, blur = 0, scaling = 0;
    int otm = 0, reference = 0, no_center = 0, w_choice, k_choice;
    cli_ids ids = {0};
    cli_option options[] = {
        {"candidates", 0, CLI_STRING, &cand_path, "candidate features, an N x D .npy array", 1, NULL, 0, 0},
        {"targets", 0, CLI_STRING, &targ_path, "target features, an M x D .npy array", 1, NULL, 0, 0},
        {"out", 'o', CLI_STRING, &out, "selected candidate indices, an int64 .npy vector (- for standard output)", 1, NULL, 0, 0},
        IDS_CLI_OPTIONS(ids),
        {"ratio", 0, CLI_DOUBLE, &ratio, "fixed-size selection of floor(ratio * N) candidates, ratio in (0, 1]", 0, "none: give --ratio or --otm", 0, 0},
        {"otm", 0, CLI_FLAG, &otm, "OT-distance minimisation over target folds instead of --ratio", 0, NULL, 0, 0},
        {"folds", 0, CLI_INT, &folds, "target folds for --otm, in [2, M] (the paper's k = 10)", 0,
         "10, or M when fewer targets; with --target-folds, the file's", 0, 0},
        {"target-folds", 0, CLI_STRING, &folds_path, "fold of every target (int .npy vector)", 0, "the seeded split", 0, 0},
        {"max-rank", 0, CLI_INT, &max_rank, "deepest neighbour rank --otm grows to", 0, NULL, 0,
         SUBSEL_P_TAROT_MAX_RANK},
        {"proj-dim", 0, CLI_INT, &proj_dim, "random projection to P columns first", 0,
         "0: no projection", 0, SUBSEL_P_TAROT_PROJ_DIM},
        {"proj-kind", 0, CLI_STRING, &kind, "rademacher or gaussian", 0, NULL, 0, 0},
        {"whiten", 0, CLI_STRING, &whiten, "cholesky, zca or none", 0, NULL, 0, 0},
        {"eps", 0, CLI_DOUBLE, &eps, NULL, 0, NULL, 0, SUBSEL_P_TAROT_EPS},
        {"no-center", 0, CLI_FLAG, &no_center, "do not subtract the joint mean", 0, NULL, 0, 0},
        {"blur", 0, CLI_DOUBLE, &blur, NULL, 0, NULL, 0, SUBSEL_P_TAROT_BLUR},
        {"scaling", 0, CLI_DOUBLE, &scaling, NULL, 0, NULL, 0, SUBSEL_P_TAROT_SCALING},
        {"ot-memory", 0, CLI_INT, &ot_memory, "bytes each OT solve may store its costs in (less: slower)",
         0, NULL, 0, SUBSEL_P_TAROT_OT_MEMORY},
        {"reference-compatible", 0, CLI_FLAG, &reference, "reproduce the authors' code (see docs/tarot.md)", 0, NULL, 0, 0},
        {"weights", 0, CLI_INT, &weights_total, "integer repetition weights summing to R", 0, "0: N + M, or N when reference-compatible", 0, 0},
        {"weights-out", 0, CLI_STRING, &weights_out, "write the weights as an int64 .npy vector (- for standard output)", 0, NULL, 0, 0},
        {"threads", 't', CLI_INT, &threads, "threads", 0, "0: as many as OpenMP gives", 0,
         SUBSEL_P_THREADS},
        {"seed", 0, CLI_INT, &seed, "seed of the projection and the folds", 0, NULL, 0,
         SUBSEL_P_SEED},
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    const char *outputs[2] = {"--out", "--weights-out"};
    const char *paths[2];
    tarot_progress progress;
    subsel_ctx *ctx = NULL;
    subsel_dense *cand = NULL, *targ = NULL;
    subsel_tarot *t = NULL;
    subsel_selection *sel = NULL;
    int64_t *fold_of = NULL, *weights = NULL;
    int want_weights;
    int rc = cli_parse(self, argc, argv, options,
                       "--candidates C.npy --targets T.npy (--ratio R | --otm [--folds K]) "
                       "--out SEL.npy [--proj-dim P] [--whiten cholesky|zca|none] [--eps E] "
                       "[--weights R] [--weights-out W.npy] [--reference-compatible]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    want_weights = cli_given(options, "weights") || weights_out != NULL;
    if (otm == cli_given(options, "ratio"))
        return cli_usage(self, "give exactly one of --ratio and --otm (see --help)");
    if (!otm && !(ratio > 0.0 && ratio <= 1.0))
        return cli_usage(self, "--ratio %g must be in (0, 1]", ratio);
    if (!otm && (cli_given(options, "folds") || folds_path != NULL))
        return cli_usage(self, "--folds and --target-folds go with --otm");
    if (otm && folds < 2)
        return cli_usage(self, "--folds %lld must be at least 2", (long long)folds);
    if ((w_choice = parse_choice(whiten, whitenings, 3)) < 0)
        return cli_usage(self, "--whiten: expected cholesky, zca or none, got '%s'", whiten);
    if ((k_choice = parse_choice(kind, kinds, 2)) < 0)
        return cli_usage(self, "--proj-kind: expected rademacher or gaussian, got '%s'", kind);
    if (weights_total < 0 || weights_total > SUBSEL_LIMIT_TAROT_WEIGHT_TOTAL)
        return cli_usage(self, "--weights %lld must be in [0, %lld] (2^53)",
                         (long long)weights_total,
                         (long long)SUBSEL_LIMIT_TAROT_WEIGHT_TOTAL);
    paths[0] = out;
    paths[1] = weights_out;
    if ((rc = ids_check(self, &ids)) != 0 ||
        (rc = cli_check_outputs(self, 2, outputs, paths)) != 0 ||
        (rc = cli_make_ctx(self, threads, seed, &ctx)) != 0)
        return rc;
    progress.start = progress.last = cli_now();
    progress.stage[0] = '\0';
    stages_set_progress(ctx, print_progress, &progress);
    rc = CLI_FAILED;

    if (cli_load_dense(self, ctx, "--candidates", cand_path, &cand) != 0 ||
        cli_load_dense(self, ctx, "--targets", targ_path, &targ) != 0 ||
        ids_load(self, ctx, &ids, subsel_dense_rows(cand), "--candidates") != 0)
        goto done;
    n = subsel_dense_rows(cand);
    m = subsel_dense_rows(targ);
    if (otm && !cli_given(options, "folds") && folds > m)
        folds = m; /* the paper's 10 folds need 10 targets; fewer: one each */
    if (otm && folds > m) {
        rc = cli_usage(self, "--folds %lld is more than the %lld targets", (long long)folds,
                       (long long)m);
        goto done;
    }
    stages_begin("build");
    if ((k = subsel_tarot_create(ctx, cand, targ, &t)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, (int)k, "inputs");
        goto done;
    }
    if ((rc = set_int(self, ctx, t, SUBSEL_P_TAROT_PROJ_DIM, proj_dim, "--proj-dim")) != 0 ||
        (rc = set_int(self, ctx, t, SUBSEL_P_TAROT_PROJ_KIND, k_choice, "--proj-kind")) != 0 ||
        (rc = set_int(self, ctx, t, SUBSEL_P_TAROT_WHITEN, w_choice, "--whiten")) != 0 ||
        (rc = set_real(self, ctx, t, SUBSEL_P_TAROT_EPS, eps, "--eps")) != 0 ||
        (rc = set_int(self, ctx, t, SUBSEL_P_TAROT_CENTER, !no_center, "--no-center")) != 0 ||
        (rc = set_int(self, ctx, t, SUBSEL_P_TAROT_REFERENCE, reference, "--reference-compatible")) != 0 ||
        (rc = set_int(self, ctx, t, SUBSEL_P_TAROT_MAX_RANK, max_rank, "--max-rank")) != 0 ||
        (rc = set_real(self, ctx, t, SUBSEL_P_TAROT_BLUR, blur, "--blur")) != 0 ||
        (rc = set_real(self, ctx, t, SUBSEL_P_TAROT_SCALING, scaling, "--scaling")) != 0 ||
        (rc = set_int(self, ctx, t, SUBSEL_P_TAROT_OT_MEMORY, ot_memory, "--ot-memory")) != 0)
        goto done;
    rc = CLI_FAILED;
    if (otm) {
        if (folds_path != NULL) {
            if (cli_read_i64(self, ctx, "--target-folds", folds_path, &fold_of, &nfolds) != 0)
                goto done;
            if (nfolds != m) {
                cli_fail(self, "--target-folds: %lld values for %lld targets",
                         (long long)nfolds, (long long)m);
                goto done;
            }
            if (!cli_given(options, "folds")) { /* the split the file gives */
                int64_t i;
                folds = 0;
                for (i = 0; i < m; i++)
                    if (fold_of[i] >= folds)
                        folds = fold_of[i] + 1;
            }
        }
        /* whitening apart, so that the stages say where the time goes */
        stages_begin("whiten");
        k = subsel_tarot_whiten(ctx, t, NULL, NULL);
        stages_begin("select");
        if (k == SUBSEL_OK)
            k = subsel_tarot_select_otm(ctx, t, folds, fold_of, &sel);
    } else {
        /* floor(ratio * N), as the authors' int(ratio * N) */
        budget = (int64_t)floor(ratio * (double)n);
        stages_begin("whiten");
        k = subsel_tarot_whiten(ctx, t, NULL, NULL);
        stages_begin("select");
        if (k == SUBSEL_OK)
            k = subsel_tarot_select_fixed(ctx, t, budget, &sel);
    }
    if (k != SUBSEL_OK) {
        cli_fail_status(self, ctx, (int)k, "selection");
        goto done;
    }
    stages_begin("write");
    if (ids_write(self, ctx, &ids, subsel_selection_indices(sel), subsel_selection_count(sel),
                  "--out", out) != 0)
        goto done;
    select_warn_short(self, sel);
    if (want_weights) {
        int64_t count = subsel_selection_count(sel);
        nw = count + (reference ? m : 0);
        if (weights_total == 0)
            weights_total = reference ? n : n + m;
        weights = malloc(sizeof *weights * (size_t)(nw > 0 ? nw : 1));
        if (weights == NULL) {
            cli_fail(self, "out of memory");
            goto done;
        }
        k = reference ? subsel_tarot_weights_reference(ctx, subsel_selection_gains(sel), count, m,
                                                       weights_total, weights)
                      : subsel_tarot_weights(ctx, subsel_selection_gains(sel), count,
                                             weights_total, weights);
        if (k != SUBSEL_OK) {
            rc = cli_option_status(self, ctx, (int)k, "--weights");
            goto done;
        }
        if (weights_out != NULL &&
            (k = subsel_npy_write_i64(ctx, cli_output_path(weights_out), weights, nw)) !=
                SUBSEL_OK) {
            cli_fail_status(self, ctx, (int)k, "--weights-out");
            goto done;
        }
    }
    json_begin();
    json_string("method", otm ? "otm" : "fixed");
    json_int("candidates", n);
    json_int("targets", m);
    if (otm)
        json_int("folds", folds);
    json_int("selected", subsel_selection_count(sel));
    select_json_budget(sel);
    json_double("ot_distance", subsel_selection_value(sel)); /* null: not computed */
    json_int("ot_solves", subsel_selection_evaluations(sel));
    json_int("reference_compatible", reference);
    if (weights != NULL)
        json_int("weights_total", weights_total);
    json_int("threads", subsel_ctx_threads(ctx));
    json_double("seconds", cli_now() - progress.start);
    json_string("out", out);
    ids_json(&ids);
    json_stages();
    json_end();
    rc = 0;
done:
    subsel_array_free(fold_of);
    ids_free(&ids);
    free(weights);
    subsel_selection_free(sel);
    subsel_tarot_free(t);
    subsel_dense_free(cand);
    subsel_dense_free(targ);
    subsel_ctx_free(ctx);
    return rc;
}
