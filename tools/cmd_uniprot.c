/* SPDX-License-Identifier: MIT */
/*
 * `subsel uniprot`: pick k prototypes among the rows of a source feature
 * matrix that cover a target set under partial optimal transport
 * (UniPROT), optionally scoring them by the 1-nearest-prototype accuracy
 * of the labelled targets. `subsel uniprot-batch`: the per-batch modes
 * (UniPROT-PB, and UniPROT-PS with the source of each row).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stages.h"
#include "commands.h"
#include "select_common.h"

/* The --similarity names, at their SUBSEL_SIM_* values. */
static const char *const similarities[] = {"cosine", "dot", "neg-sqeuclid", "neg-euclid"};
#define SIMILARITY_HELP "cosine | dot | neg-sqeuclid | neg-euclid"
static const char *const updates[] = {"solve", "append"};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int pick(const char *name, const char *const *names, int count)
{
    int i;
    for (i = 0; i < count; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* Reads an int64 label vector of exactly `want` values; returns 0 or an
 * exit code. */
static int read_labels(const cli_command *cmd, subsel_ctx *ctx,
                       const char *option, const char *path, int64_t want,
                       int64_t **out)
{
    int64_t count = 0;
    if (cli_read_i64(cmd, ctx, option, path, out, &count) != 0)
        return CLI_FAILED;
    if (count != want)
        return cli_fail(cmd, "%s: %lld labels for %lld rows", option,
                        (long long)count, (long long)want);
    return 0;
}

int cmd_uniprot(const cli_command *self, int argc, char **argv)
{
    static const char *const gains[] = {"approx", "exact"};
    const char *source_path = NULL, *target_path = NULL, *labels_path = NULL;
    const char *tlabels_path = NULL, *similarity = "cosine", *gain = "approx";
    const char *update = "solve";
    double reg = 0.01, tol = 0, seconds = 0, accuracy = 0; /* tol, max_iter: the library's */
    double transport = 0, entropic = 0;
    int64_t *labels = NULL, *tlabels = NULL, max_iter = 0, gain_memory = 0;
    select_options so;
    subsel_ctx *ctx = NULL;
    subsel_dense *source = NULL, *target = NULL;
    subsel_objective *obj = NULL;
    subsel_selection *sel = NULL;
    int rc, status = CLI_FAILED, sim, gain_kind, update_kind;
    cli_option options[] = {
        {"source", 0, CLI_STRING, &source_path, "source features (.npy, rows are candidates)", 1, NULL, 0, 0},
        {"target", 0, CLI_STRING, &target_path, "target features (.npy)", 0, "the source", 0, 0},
        {"reg", 0, CLI_DOUBLE, &reg, "entropic regularisation", 0, NULL, 0, 0},
        {"similarity", 0, CLI_STRING, &similarity, SIMILARITY_HELP, 0, NULL, 0, 0},
        {"gain", 0, CLI_STRING, &gain, "approx | exact", 0, NULL, 0, 0},
        {"update", 0, CLI_STRING, &update, "solve | append", 0, NULL, 0, 0},
        {"tol", 0, CLI_DOUBLE, &tol,
         "L1 marginal violation of each solve, relative to its mass (a solve also ends at "
         "its rounding floor)", 0, NULL, 0, SUBSEL_P_UNIPROT_TOL},
        {"max-iter", 0, CLI_INT, &max_iter, "Newton steps of each solve", 0, NULL, 0,
         SUBSEL_P_UNIPROT_MAX_ITER},
        {"gain-memory", 0, CLI_INT, &gain_memory,
         "bytes the source rows' gain weights may be kept in (less: slower)", 0, NULL, 0,
         SUBSEL_P_UNIPROT_GAIN_MEMORY},
        {"labels", 0, CLI_STRING, &labels_path, "source labels (.npy int) for the 1-NN accuracy", 0, NULL, 0, 0},
        {"target-labels", 0, CLI_STRING, &tlabels_path, "target labels (.npy int)", 0, NULL, 0, 0},
        SELECT_CLI_OPTIONS(so),
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    select_defaults(&so, "naive", "--source");
    rc = cli_parse(self, argc, argv, options,
                   "--source S.npy [--target T.npy] -k K --out sel.npy [options]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if (strcmp(so.optimizer, "greedy") == 0)
        so.optimizer = "naive";
    sim = pick(similarity, similarities, COUNT(similarities));
    gain_kind = pick(gain, gains, COUNT(gains));
    update_kind = pick(update, updates, COUNT(updates));
    if (sim < 0)
        return cli_usage(self, "--similarity: '%s' is not %s", similarity, SIMILARITY_HELP);
    if (gain_kind < 0)
        return cli_usage(self, "--gain: '%s' is not approx or exact", gain);
    if (update_kind < 0)
        return cli_usage(self, "--update: '%s' is not solve or append", update);
    if ((labels_path == NULL) != (tlabels_path == NULL))
        return cli_usage(self, "--labels and --target-labels go together");
    if (!(reg > 0))
        return cli_usage(self, "--reg %g must be positive", reg);
    if ((status = select_check(self, &so, NULL)) != 0 ||
        (status = select_context(self, &so, &ctx)) != 0)
        return status;
    status = CLI_FAILED;
    if (cli_load_dense(self, ctx, "--source", source_path, &source) != 0 ||
        (target_path != NULL &&
         cli_load_dense(self, ctx, "--target", target_path, &target) != 0))
        goto done;
    if (labels_path != NULL &&
        (read_labels(self, ctx, "--labels", labels_path, subsel_dense_rows(source), &labels) != 0 ||
         read_labels(self, ctx, "--target-labels", tlabels_path,
                     subsel_dense_rows(target ? target : source), &tlabels) != 0))
        goto done;
    stages_begin("build");
    rc = subsel_uniprot_create_from_features(ctx, source, target ? target : source, sim,
                                             so.budget, reg, &obj);
    if (rc == SUBSEL_OK)
        rc = subsel_uniprot_set_gain(ctx, obj, gain_kind);
    if (rc == SUBSEL_OK)
        rc = subsel_uniprot_set_update(ctx, obj, update_kind);
    if (rc != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "objective");
        goto done;
    }
    if ((rc = subsel_uniprot_set_tolerance(ctx, obj, tol)) != SUBSEL_OK) {
        status = cli_option_status(self, ctx, rc, "--tol");
        goto done;
    }
    if ((rc = subsel_uniprot_set_max_iterations(ctx, obj, max_iter)) != SUBSEL_OK) {
        status = cli_option_status(self, ctx, rc, "--max-iter");
        goto done;
    }
    if ((rc = subsel_param_set_int(ctx, obj, SUBSEL_P_UNIPROT_GAIN_MEMORY, gain_memory)) !=
        SUBSEL_OK) {
        status = cli_option_status(self, ctx, rc, "--gain-memory");
        goto done;
    }
    if ((status = select_run(self, ctx, &so, obj, &sel, &seconds)) != 0)
        goto done;
    status = CLI_FAILED;
    /* the paper's objective <S, G> of the selection's optimal plan, and
     * its entropic value, from one solve; the selection is written and
     * valid whatever happens here, so a solve that fails is a warning and
     * the two values are null */
    stages_begin("evaluate");
    if ((rc = subsel_uniprot_transport_similarity(ctx, obj, subsel_selection_indices(sel),
                                                  subsel_selection_count(sel), &transport,
                                                  &entropic)) != SUBSEL_OK) {
        cli_warn_status(self, ctx, rc, "no transport similarity");
        transport = entropic = NAN;
    }
    stages_begin("score");
    if (labels != NULL &&
        (rc = subsel_nn_accuracy(ctx, source, labels, subsel_selection_indices(sel),
                                 subsel_selection_count(sel), target ? target : source,
                                 tlabels, sim, &accuracy)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "accuracy");
        goto done;
    }
    json_begin();
    select_json(&so, sel, seconds);
    json_int("k", so.budget);
    json_double("reg", reg);
    json_string("similarity", similarity);
    json_string("gain", gain);
    json_string("update", update);
    json_double("transport_similarity", transport);
    json_double("entropic_objective", entropic);
    if (labels != NULL)
        json_double("nn_accuracy", accuracy);
    json_end();
    status = 0;
done:
    subsel_selection_free(sel);
    subsel_objective_free(obj);
    subsel_dense_free(source);
    subsel_dense_free(target);
    subsel_array_free(labels);
    subsel_array_free(tlabels);
    select_free(&so);
    subsel_ctx_free(ctx);
    return status;
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* How many different values `values` holds (0 when it cannot tell: out of
 * memory, which only the summary would miss). */
static int64_t count_distinct(const int64_t *values, int64_t count)
{
    int64_t *copy = malloc(sizeof *copy * (size_t)(count > 0 ? count : 1)), i, n = 0;
    if (copy == NULL)
        return 0;
    memcpy(copy, values, sizeof *copy * (size_t)count);
    qsort(copy, (size_t)count, sizeof *copy, compare_i64);
    for (i = 0; i < count; i++)
        n += i == 0 || copy[i] != copy[i - 1];
    free(copy);
    return n;
}

int cmd_uniprot_batch(const cli_command *self, int argc, char **argv)
{
    const char *batch_path = NULL, *sources_path = NULL, *out = NULL;
    const char *similarity = "cosine", *update = "append";
    const char *const outputs[] = {"--out"};
    /* the supplement's 1e-2 (its per-batch runs and Table 9); 0.05 before 0.15 */
    double fraction = 0, reg = 0.01, seconds;
    cli_ids ids = {0};
    int64_t threads = 0, *sources = NULL, count = 0, distinct = 0;
    subsel_ctx *ctx = NULL;
    subsel_dense *batch = NULL;
    subsel_selection *sel = NULL;
    int rc, status, sim, update_kind;
    cli_option options[] = {
        {"batch", 0, CLI_STRING, &batch_path, "the batch's features (.npy, one row per example)", 1, NULL, 0, 0},
        {"fraction", 0, CLI_DOUBLE, &fraction, "share of each batch (or source) to keep, in (0, 1]", 1, NULL, 0, 0},
        {"sources", 0, CLI_STRING, &sources_path,
         "the source of each row (.npy int): UniPROT-PS, prototypes per source", 0,
         "none: UniPROT-PB, prototypes of the whole batch", 0, 0},
        {"reg", 0, CLI_DOUBLE, &reg, "entropic regularisation (the paper's 0.01)", 0, NULL, 0, 0},
        {"similarity", 0, CLI_STRING, &similarity, SIMILARITY_HELP, 0, NULL, 0, 0},
        {"update", 0, CLI_STRING, &update,
         "solve (re-solve after every prototype, as the paper) | append (no solve, fast)", 0,
         NULL, 0, 0},
        {"out", 'o', CLI_STRING, &out, "selected rows, an int64 .npy (- for standard output)", 1, NULL, 0, 0},
        IDS_CLI_OPTIONS(ids),
        {"threads", 't', CLI_INT, &threads, "threads", 0, "0: as many as OpenMP gives", 0,
         SUBSEL_P_THREADS},
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    rc = cli_parse(self, argc, argv, options,
                   "--batch X.npy --fraction F [--sources S.npy] --out sel.npy [options]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    sim = pick(similarity, similarities, COUNT(similarities));
    update_kind = pick(update, updates, COUNT(updates));
    if (sim < 0)
        return cli_usage(self, "--similarity: '%s' is not %s", similarity, SIMILARITY_HELP);
    if (update_kind < 0)
        return cli_usage(self, "--update: '%s' is not solve or append", update);
    if (!(fraction > 0 && fraction <= 1))
        return cli_usage(self, "--fraction %g is outside (0, 1]", fraction);
    if (!(reg > 0))
        return cli_usage(self, "--reg %g must be positive", reg);
    if ((status = ids_check(self, &ids)) != 0 ||
        (status = cli_check_outputs(self, 1, outputs, &out)) != 0 ||
        (status = cli_make_ctx(self, threads, 0, &ctx)) != 0)
        return status;
    status = CLI_FAILED;
    if (cli_load_dense(self, ctx, "--batch", batch_path, &batch) != 0 ||
        ids_load(self, ctx, &ids, subsel_dense_rows(batch), "--batch") != 0)
        goto done;
    if (sources_path != NULL) {
        if (cli_read_i64(self, ctx, "--sources", sources_path, &sources, &count) != 0)
            goto done;
        if (count != subsel_dense_rows(batch)) {
            cli_fail(self, "--sources: %lld labels for %lld rows", (long long)count,
                     (long long)subsel_dense_rows(batch));
            goto done;
        }
        distinct = count_distinct(sources, count);
    }
    stages_begin("select");
    seconds = cli_now();
    rc = subsel_uniprot_select_batch_v2(ctx, batch, sources, fraction, reg, sim, update_kind,
                                        &sel);
    seconds = cli_now() - seconds;
    if (rc != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "selection");
        goto done;
    }
    stages_begin("write");
    if (ids_write(self, ctx, &ids, subsel_selection_indices(sel), subsel_selection_count(sel),
                  "--out", out) != 0)
        goto done;
    json_begin();
    json_int("selected", subsel_selection_count(sel));
    json_double("objective", subsel_selection_value(sel));
    json_double("seconds", seconds);
    json_int("evaluations", subsel_selection_evaluations(sel));
    json_int("rows", subsel_dense_rows(batch));
    json_int("sources", distinct);
    json_string("mode", sources != NULL ? "per-source" : "per-batch");
    json_double("fraction", fraction);
    json_double("reg", reg);
    json_string("similarity", similarity);
    json_string("update", update);
    json_string("out", out);
    ids_json(&ids);
    json_stages();
    json_end();
    status = 0;
done:
    subsel_selection_free(sel);
    subsel_dense_free(batch);
    subsel_array_free(sources);
    ids_free(&ids);
    subsel_ctx_free(ctx);
    return status;
}
