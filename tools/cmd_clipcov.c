/* SPDX-License-Identifier: MIT */
/*
 * `subsel clipcov`: ClipCov selection of image-caption pairs. Loads the
 * paired embeddings (and label embeddings, labels), builds the objective,
 * runs greedy to the budget and the double greedy filter, writes the
 * selected indices and prints one JSON summary.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"
#include "stages.h"
#include "commands.h"
#include "select_common.h"

typedef struct stage_progress {
    const char *command;
    char stage[32];
    int64_t last_decile;
    double start;
} stage_progress;

/* One line per tenth of each stage, once the call has run for a second. */
static int on_progress(void *user, const char *stage, int64_t done,
                       int64_t total)
{
    stage_progress *p = user;
    int64_t decile = total > 0 ? done * 10 / total : 0;
    if (!progress_lines())
        return 0;
    if (strncmp(stage, p->stage, sizeof p->stage) != 0) {
        snprintf(p->stage, sizeof p->stage, "%s", stage);
        p->last_decile = 0;
    }
    if (decile > p->last_decile && cli_now() - p->start > 1.0) {
        p->last_decile = decile;
        fprintf(stderr, "subsel %s: %s %lld/%lld\n", p->command, stage,
                (long long)done, (long long)total);
    }
    return 0;
}

static int filter_of(const char *name)
{
    static const char *names[] = {"none", "deterministic", "randomized"};
    int i;
    for (i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0)
            return i; /* SUBSEL_CLIPCOV_FILTER_NONE .. _RANDOMIZED */
    return -1;
}

static int load(const cli_command *self, subsel_ctx *ctx, const char *option,
                const char *path, subsel_dense **out)
{
    return path == NULL ? 0 : cli_load_dense(self, ctx, option, path, out);
}

/* --alpha: "auto" (*alpha set to NaN: from the data) or a finite number
 * >= 0. Returns 0 or CLI_USAGE. */
static int parse_alpha(const cli_command *self, const char *text, double *alpha)
{
    char *end = NULL;
    if (strcmp(text, "auto") == 0) {
        *alpha = NAN;
        return 0;
    }
    errno = 0;
    *alpha = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(*alpha))
        return cli_usage(self, "--alpha: expected auto or a finite number, got '%s'", text);
    if (!(*alpha >= 0))
        return cli_usage(self, "--alpha %s is not >= 0 (or auto)", text);
    return 0;
}

/* Term weights in the order of SUBSEL_CLIPCOV_TERM_INTRA .. _LABEL, and alpha
 * (values the library refuses are usage errors); alpha NaN: the paper's
 * alpha from the data, written back to *alpha, with *source "data"; a pool
 * without a usable ratio (centred embeddings: both averages near 0) gets
 * the paper's reported 0.5 instead, with one warning line and *source
 * "fallback". */
static int configure(const cli_command *self, subsel_ctx *ctx,
                     subsel_objective *f, const double *w, double *alpha,
                     const char **source)
{
    int64_t t;
    int rc;
    for (t = 0; w != NULL && t < SUBSEL_CLIPCOV_TERM_COUNT; t++)
        if ((rc = subsel_clipcov_set_weight(ctx, f, (int)t, w[t])) != SUBSEL_OK)
            return cli_option_status(self, ctx, rc, "--term-weights");
    *source = "given";
    if (isnan(*alpha)) {
        *source = "data";
        if ((rc = subsel_clipcov_data_alpha(ctx, f, alpha)) == SUBSEL_E_NUMERIC) {
            cli_warn_status(self, ctx, rc, "--alpha auto: using 0.5, the paper's reported value");
            *alpha = 0.5;
            *source = "fallback";
        } else if (rc != SUBSEL_OK) {
            return cli_fail_status(self, ctx, rc, "--alpha auto");
        }
    }
    rc = subsel_clipcov_set_alpha(ctx, f, *alpha);
    return rc == SUBSEL_OK ? 0 : cli_option_status(self, ctx, rc, "--alpha");
}

/* The greedy optimizer: ClipCov's recommendation ("auto") or the named one,
 * with the command's options. Lazy evaluation needs a submodular objective,
 * and several runs a random one. */
static int make_greedy(const cli_command *self, subsel_ctx *ctx,
                       select_options *so, subsel_objective *f,
                       subsel_optimizer **opt)
{
    int rc, algorithm, submodular = 0;
    if (so->budget > subsel_objective_size(f))
        return cli_usage(self, "--budget %lld is larger than the %lld pairs",
                         (long long)so->budget, (long long)subsel_objective_size(f));
    if (strcmp(so->optimizer, "auto") == 0) {
        if ((rc = subsel_clipcov_optimizer(ctx, f, so->budget, opt)) != SUBSEL_OK)
            return cli_fail_status(self, ctx, rc, "--budget");
        subsel_clipcov_check_submodular(ctx, f, 0, &submodular);
        so->optimizer = submodular ? "lazy" : "stochastic";
    } else {
        algorithm = select_algorithm(so->optimizer);
        subsel_clipcov_check_submodular(ctx, f, 0, &submodular);
        if (!submodular && (algorithm == SUBSEL_ALGORITHM_LAZY || algorithm == SUBSEL_ALGORITHM_LAZIER))
            return cli_usage(self, "--optimizer %s needs a submodular objective, and this "
                                   "one is not known to be: use naive or stochastic, or "
                                   "--exact-check to settle it", so->optimizer);
        if ((rc = subsel_optimizer_create(ctx, algorithm, opt)) != SUBSEL_OK)
            return cli_fail_status(self, ctx, rc, "--optimizer");
    }
    if ((rc = select_configure(self, so, *opt)) == 0)
        rc = select_start(self, ctx, so, *opt);
    return rc;
}

int cmd_clipcov(const cli_command *self, int argc, char **argv)
{
    const char *image_path = NULL, *text_path = NULL, *emb_path = NULL;
    const char *labels_path = NULL, *weights_text = NULL, *filter_name = "deterministic";
    const char *alpha_text = "auto", *alpha_source = "given";
    double alpha = 0, t0 = 0, *term_weights = NULL;
    int normalize = 0, exact = 0, filter, submodular = 0;
    int64_t *labels = NULL, nlabels = 0, nterms = 0;
    select_options so;
    stage_progress progress;
    subsel_ctx *ctx = NULL;
    subsel_dense *image = NULL, *text = NULL, *emb = NULL;
    subsel_objective *f = NULL;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL, *greedy = NULL;
    int rc, status = CLI_FAILED;
    cli_option options[] = {
        {"image", 0, CLI_STRING, &image_path, "image embeddings, n x d (.npy)", 1, NULL, 0, 0},
        {"text", 0, CLI_STRING, &text_path, "caption embeddings, n x d (.npy)", 1, NULL, 0, 0},
        {"label-embeddings", 0, CLI_STRING, &emb_path,
         "text embeddings of the K class names, K x d (.npy)", 0, NULL, 0, 0},
        {"labels", 0, CLI_STRING, &labels_path,
         "class of every pair in [0, K) (.npy)", 0, "none: zero-shot", 0, 0},
        {"normalize", 0, CLI_FLAG, &normalize, "divide every embedding by its norm", 0, NULL, 0, 0},
        {"alpha", 0, CLI_STRING, &alpha_text,
         "factor of the label term: auto (the paper's: average cross-modal over average "
         "text similarity of the pool) or a number >= 0 (the paper finds about 0.5)",
         0, NULL, 0, 0},
        {"term-weights", 0, CLI_STRING, &weights_text,
         "intra,self,inter,reg,label weights, each >= 0", 0, "1,1,1,1,1", 0, 0},
        {"filter", 0, CLI_STRING, &filter_name,
         "none | deterministic | randomized double greedy", 0, NULL, 0, 0},
        {"exact-check", 0, CLI_FLAG, &exact,
         "settle submodularity on all within-class pairs (allows lazy greedy)", 0, NULL, 0, 0},
        SELECT_CLI_OPTIONS(so),
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    select_defaults(&so, "auto", "--image");
    rc = cli_parse(self, argc, argv, options,
                   "--image X.npy --text Y.npy --label-embeddings E.npy [--labels y.npy] "
                   "--budget K --out sel.npy [--optimizer auto|naive|lazy|stochastic|lazier] "
                   "[options]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if ((filter = filter_of(filter_name)) < 0)
        return cli_usage(self, "--filter: '%s' is not none, deterministic or randomized",
                         filter_name);
    if ((status = parse_alpha(self, alpha_text, &alpha)) != 0)
        return status;
    if ((status = select_check(self, &so, "auto")) != 0)
        return status;
    if (weights_text != NULL) {
        if ((status = cli_parse_doubles(self, "term-weights", weights_text, &term_weights,
                                        &nterms)) != 0)
            return status;
        if (nterms != SUBSEL_CLIPCOV_TERM_COUNT) {
            free(term_weights);
            return cli_usage(self, "--term-weights: %lld values, expected %d "
                                   "(intra,self,inter,reg,label)",
                             (long long)nterms, SUBSEL_CLIPCOV_TERM_COUNT);
        }
    }
    if ((status = select_context(self, &so, &ctx)) != 0)
        goto done;
    status = CLI_FAILED;
    memset(&progress, 0, sizeof progress);
    progress.command = self->name;
    progress.start = t0 = cli_now();
    stages_set_progress(ctx, on_progress, &progress);

    if (load(self, ctx, "--image", image_path, &image) != 0 ||
        load(self, ctx, "--text", text_path, &text) != 0 ||
        load(self, ctx, "--label-embeddings", emb_path, &emb) != 0)
        goto done;
    if (labels_path != NULL) {
        if (cli_read_i64(self, ctx, "--labels", labels_path, &labels, &nlabels) != 0)
            goto done;
        if (nlabels != subsel_dense_rows(image)) {
            cli_fail(self, "--labels: %lld labels for %lld pairs", (long long)nlabels,
                     (long long)subsel_dense_rows(image));
            goto done;
        }
    }
    stages_begin("build");
    if ((rc = subsel_clipcov_create(ctx, image, text, emb, labels, normalize, &f)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "objective");
        goto done;
    }
    if ((status = configure(self, ctx, f, term_weights, &alpha, &alpha_source)) != 0)
        goto done;
    status = CLI_FAILED;
    if (exact && (rc = subsel_clipcov_check_submodular(ctx, f, 1, &submodular)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "--exact-check");
        goto done;
    }
    if ((status = make_greedy(self, ctx, &so, f, &opt)) != 0 ||
        (status = ids_load(self, ctx, &so.ids, subsel_dense_rows(image), "--image")) != 0)
        goto done;
    status = CLI_FAILED;
    stages_begin("select");
    select_progress(self, ctx, 1);
    rc = subsel_clipcov_select(ctx, f, opt, filter, &sel, &greedy);
    select_progress(self, ctx, 0);
    if (rc != SUBSEL_OK) {
        status = select_failed(self, ctx, &so, rc);
        goto done;
    }
    if (select_write(self, ctx, &so, sel) != 0)
        goto done;
    select_warn_short(self, sel);
    subsel_clipcov_check_submodular(ctx, f, 0, &submodular);
    json_begin();
    select_json(&so, sel, cli_now() - t0);
    json_int("pairs", subsel_dense_rows(image));
    json_int("dim", subsel_dense_cols(image));
    json_int("classes", subsel_clipcov_class_count(f));
    json_int("zero_shot", labels == NULL);
    json_int("normalize", normalize);
    json_int("submodular", submodular);
    json_string("filter", filter_name);
    json_double("alpha", alpha);
    json_string("alpha_source", alpha_source);
    json_int("greedy_selected", subsel_selection_count(greedy));
    json_double("greedy_objective", subsel_selection_value(greedy));
    json_end();
    status = 0;
done:
    subsel_selection_free(sel);
    subsel_selection_free(greedy);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_dense_free(image);
    subsel_dense_free(text);
    subsel_dense_free(emb);
    subsel_array_free(labels);
    free(term_weights);
    select_free(&so);
    subsel_ctx_free(ctx);
    return status;
}
