/* SPDX-License-Identifier: MIT */
/*
 * `subsel lors`: LoRS multimodal dataset distillation from the shell, in
 * four subcommands over the library's LoRS handle: `buffer` trains the
 * expert trajectories, `distill` matches them with a small synthetic set
 * and its learned similarity (saved to a folder that --resume continues,
 * also after Ctrl-C), `eval` trains fresh towers on a set (a distilled one,
 * given pairs, or a coreset baseline) and prints its retrieval recalls over
 * one or several seeds, and `baseline` writes a coreset's indices. Every
 * LoRS parameter that matters to a subcommand is one of its options, with
 * the library's default and range. One JSON object on standard output;
 * progress on standard error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"
#include "stages.h"
#include "commands.h"
#include "select_common.h"

/* Exit status of a run stopped by SIGINT or SIGTERM (what a shell reports
 * for Ctrl-C); what was done is saved first where there is a folder. */
#define LORS_INTERRUPTED 130

/* ---- the LoRS parameters as options ------------------------------------ */

/* The options --threads and --seed (whose help says what it draws). */
#define THREADS_AND_SEED(threads, seed, seed_help)                                          \
    {"threads", 't', CLI_INT, &(threads), "threads", 0, "0: as many as OpenMP gives", 0,    \
     SUBSEL_P_THREADS},                                                                     \
    {"seed", 0, CLI_INT, &(seed), seed_help, 0, NULL, 0, SUBSEL_P_SEED}

enum { USE_BUFFER = 1, USE_DISTILL = 2, USE_EVAL = 4 };

static const struct {
    const char *name;
    int param;
    unsigned used; /* the subcommands that take it */
} lors_param_options[] = {
    {"tower", SUBSEL_P_LORS_TOWER, USE_BUFFER | USE_DISTILL | USE_EVAL},
    {"embed-dim", SUBSEL_P_LORS_EMBED_DIM, USE_BUFFER | USE_DISTILL | USE_EVAL},
    {"temperature", SUBSEL_P_LORS_TEMPERATURE, USE_BUFFER | USE_DISTILL | USE_EVAL},
    {"learn-temperature", SUBSEL_P_LORS_LEARN_TEMPERATURE,
     USE_BUFFER | USE_DISTILL | USE_EVAL},
    {"loss", SUBSEL_P_LORS_LOSS, USE_DISTILL | USE_EVAL},
    {"beta", SUBSEL_P_LORS_BETA, USE_DISTILL | USE_EVAL},
    {"similarity", SUBSEL_P_LORS_SIMILARITY, USE_DISTILL},
    {"rank", SUBSEL_P_LORS_RANK, USE_DISTILL},
    {"alpha", SUBSEL_P_LORS_ALPHA, USE_DISTILL},
    {"pairs", SUBSEL_P_LORS_PAIRS, USE_DISTILL},
    {"syn-steps", SUBSEL_P_LORS_SYN_STEPS, USE_DISTILL},
    {"expert-epochs", SUBSEL_P_LORS_EXPERT_EPOCHS, USE_DISTILL},
    {"max-start-epoch", SUBSEL_P_LORS_MAX_START_EPOCH, USE_DISTILL},
    {"batch", SUBSEL_P_LORS_BATCH, USE_DISTILL},
    {"lr-image", SUBSEL_P_LORS_LR_IMAGE, USE_DISTILL},
    {"lr-text", SUBSEL_P_LORS_LR_TEXT, USE_DISTILL},
    {"lr-sim", SUBSEL_P_LORS_LR_SIM, USE_DISTILL},
    {"lr-lr", SUBSEL_P_LORS_LR_LR, USE_DISTILL},
    {"momentum", SUBSEL_P_LORS_MOMENTUM, USE_DISTILL},
    {"init", SUBSEL_P_LORS_INIT, USE_DISTILL},
    {"expert-lr", SUBSEL_P_LORS_EXPERT_LR, USE_BUFFER | USE_DISTILL | USE_EVAL},
    {"expert-batch", SUBSEL_P_LORS_EXPERT_BATCH, USE_BUFFER},
    {"buffer-epochs", SUBSEL_P_LORS_BUFFER_EPOCHS, USE_BUFFER},
    {"experts", SUBSEL_P_LORS_EXPERTS, USE_BUFFER},
    /* saved with a distilled set, so `eval --set` uses them */
    {"eval-epochs", SUBSEL_P_LORS_EVAL_EPOCHS, USE_DISTILL | USE_EVAL},
    {"eval-batch", SUBSEL_P_LORS_EVAL_BATCH, USE_DISTILL | USE_EVAL},
    {"eval-momentum", SUBSEL_P_LORS_EVAL_MOMENTUM, USE_DISTILL | USE_EVAL},
    {"eval-weight-decay", SUBSEL_P_LORS_EVAL_WEIGHT_DECAY, USE_DISTILL | USE_EVAL},
};

#define LORS_PARAM_OPTIONS (sizeof lors_param_options / sizeof lors_param_options[0])
/* room for a subcommand's own options, its parameters and the end mark */
#define MAX_OPTIONS (24 + LORS_PARAM_OPTIONS)

/* Where the parameter options' values live. */
typedef struct param_values {
    int64_t ints[LORS_PARAM_OPTIONS];
    double reals[LORS_PARAM_OPTIONS];
} param_values;

/* Appends to options (ending at *count) the parameters `use` takes, then
 * the end mark. */
static void add_param_options(cli_option *options, int *count, unsigned use,
                              param_values *values)
{
    size_t i;
    for (i = 0; i < LORS_PARAM_OPTIONS; i++) {
        cli_option *o = &options[*count];
        int type = 0;
        if (!(lors_param_options[i].used & use))
            continue;
        subsel_param_info(lors_param_options[i].param, NULL, &type, NULL, NULL);
        memset(o, 0, sizeof *o);
        o->name = lors_param_options[i].name;
        o->kind = type == SUBSEL_TYPE_INT ? CLI_INT : CLI_DOUBLE;
        o->dest = type == SUBSEL_TYPE_INT ? (void *)&values->ints[i] : (void *)&values->reals[i];
        o->param = lors_param_options[i].param;
        (*count)++;
    }
    memset(&options[*count], 0, sizeof options[*count]);
}

/* ---- progress and interruption ----------------------------------------- */

typedef struct run_progress {
    const cli_command *cmd;
    const char *stage;   /* the stage printed; others (loading) are not */
    const char *unit;    /* "iterations", "epochs" */
    int64_t offset, all; /* done before this call, and in all */
    double start, last;
} run_progress;

/* One line on stderr per second at most, and the last; cancels once a
 * signal came. */
static int print_progress(void *user, const char *stage, int64_t done, int64_t total)
{
    run_progress *p = user;
    double now = cli_now();
    int64_t all = p->all > 0 ? p->all : total;
    (void)total;
    if (cli_interrupted())
        return 1;
    if (!progress_lines())
        return 0;
    if (strcmp(stage, p->stage) != 0 || (now - p->last < 1.0 && p->offset + done != all))
        return 0;
    fprintf(stderr, "subsel %s: %lld/%lld %s (%.0f%%, %.1f s)\n", p->cmd->name,
            (long long)(p->offset + done), (long long)all, p->unit,
            all > 0 ? 100.0 * (double)(p->offset + done) / (double)all : 100.0, now - p->start);
    p->last = now;
    return 0;
}

static void start_progress(subsel_ctx *ctx, run_progress *p, const cli_command *cmd,
                           const char *stage, const char *unit, int64_t all)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->stage = stage;
    p->unit = unit;
    p->all = all;
    p->start = p->last = cli_now();
    stages_set_progress(ctx, print_progress, p);
}

/* ---- inputs ------------------------------------------------------------- */

static int load_dense(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                      const char *path, subsel_dense **out)
{
    int rc = subsel_dense_load_npy(ctx, path, out);
    if (rc == SUBSEL_E_CANCELLED) {
        cli_fail(cmd, "interrupted");
        return LORS_INTERRUPTED;
    }
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, option);
    cli_note_dense(option, *out);
    return 0;
}

/* Loads a pair of image and text embeddings that must have the same rows
 * (row i of one with row i of the other). */
static int load_pairs(const cli_command *cmd, subsel_ctx *ctx, const char *image_option,
                      const char *image_path, const char *text_option, const char *text_path,
                      subsel_dense **images, subsel_dense **texts)
{
    int rc;
    if ((rc = load_dense(cmd, ctx, image_option, image_path, images)) != 0 ||
        (rc = load_dense(cmd, ctx, text_option, text_path, texts)) != 0)
        return rc;
    if (subsel_dense_rows(*images) != subsel_dense_rows(*texts))
        return cli_fail(cmd, "%s has %lld rows but %s has %lld: row i of one is paired with "
                             "row i of the other",
                        image_option, (long long)subsel_dense_rows(*images), text_option,
                        (long long)subsel_dense_rows(*texts));
    return 0;
}

/* A LoRS handle for the columns of images and texts, with the options'
 * parameters (all of them, or only those given). */
static int make_handle(const cli_command *cmd, subsel_ctx *ctx, int64_t image_dim,
                       int64_t text_dim, const cli_option *options, int given_only,
                       subsel_lors **out)
{
    int rc = subsel_lors_create(ctx, image_dim, text_dim, out);
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, "creating the LoRS handle");
    return cli_set_params(cmd, ctx, *out, options, given_only);
}

/* What buffer, distill and baseline work with. */
typedef struct lors_job {
    subsel_ctx *ctx;
    subsel_dense *images, *texts;
    subsel_lors *l;
} lors_job;

/* The context of --threads and --seed and, when image_path is not NULL,
 * the real pairs and a handle for them with every parameter option. On
 * failure the caller still closes the job. */
static int job_open(const cli_command *cmd, int64_t threads, int64_t seed,
                    const char *image_path, const char *text_path, const cli_option *options,
                    lors_job *job)
{
    int rc;
    memset(job, 0, sizeof *job);
    if ((rc = cli_make_ctx(cmd, threads, seed, &job->ctx)) != 0 || image_path == NULL)
        return rc;
    if ((rc = load_pairs(cmd, job->ctx, "--images", image_path, "--texts", text_path,
                         &job->images, &job->texts)) != 0)
        return rc;
    stages_begin("build");
    return make_handle(cmd, job->ctx, subsel_dense_cols(job->images),
                       subsel_dense_cols(job->texts), options, 0, &job->l);
}

static void job_close(lors_job *job)
{
    subsel_lors_free(job->l);
    subsel_dense_free(job->images);
    subsel_dense_free(job->texts);
    subsel_ctx_free(job->ctx);
}

/* ---- subsel lors buffer --------------------------------------------------- */

static int lors_buffer(const cli_command *self, int argc, char **argv)
{
    const char *image_path = NULL, *text_path = NULL, *out = NULL, *log_path = NULL;
    int64_t threads = 0, seed = 0, experts = 0, epochs = 0;
    param_values values;
    cli_option options[MAX_OPTIONS] = {
        {"images", 0, CLI_STRING, &image_path, "image embeddings of the real pairs, n x d_I (.npy)",
         1, NULL, 0, 0},
        {"texts", 0, CLI_STRING, &text_path, "text embeddings of the real pairs, n x d_T (.npy)",
         1, NULL, 0, 0},
        {"out", 'o', CLI_STRING, &out,
         "folder for the trajectories (expert_0000.npy ..., meta.npy)", 1, NULL, 0, 0},
        {"log", 0, CLI_STRING, &log_path, "append a JSON line per expert epoch", 0, "none", 0,
         0},
        THREADS_AND_SEED(threads, seed,
                         "seed of the experts' initial towers and batches"),
    };
    int count = 6, rc;
    run_progress progress;
    lors_job job = {0};

    add_param_options(options, &count, USE_BUFFER, &values);
    rc = cli_parse(self, argc, argv, options,
                   "--images I.npy --texts T.npy --out DIR [--experts N] [--buffer-epochs E] "
                   "[--tower 0|1] [--embed-dim e] [--log LOG.jsonl]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    cli_catch_interrupts();
    if ((rc = job_open(self, threads, seed, image_path, text_path, options, &job)) != 0)
        goto done;
    subsel_param_get_int(job.ctx, job.l, SUBSEL_P_LORS_EXPERTS, &experts);
    subsel_param_get_int(job.ctx, job.l, SUBSEL_P_LORS_BUFFER_EPOCHS, &epochs);
    start_progress(job.ctx, &progress, self, "buffer", "expert epochs", experts * epochs);
    stages_begin("buffer"); /* the trajectories' files written as they come */
    rc = subsel_lors_buffer(job.ctx, job.l, job.images, job.texts, out, log_path);
    if (rc == SUBSEL_E_CANCELLED) {
        cli_fail(self, "interrupted: the experts finished so far are in %s", out);
        rc = LORS_INTERRUPTED;
        goto done;
    }
    if (rc != SUBSEL_OK) {
        rc = cli_fail_status(self, job.ctx, rc, "training the experts");
        goto done;
    }
    json_begin();
    json_int("pairs", subsel_dense_rows(job.images));
    json_int("image_dim", subsel_dense_cols(job.images));
    json_int("text_dim", subsel_dense_cols(job.texts));
    json_int("experts", experts);
    json_int("buffer_epochs", epochs);
    json_int("threads", subsel_ctx_threads(job.ctx));
    json_double("seconds", cli_now() - progress.start);
    json_string("out", out);
    json_stages();
    json_end();
    rc = 0;
done:
    job_close(&job);
    return rc;
}

/* ---- subsel lors distill -------------------------------------------------- */

/* Saves the set to dir, without the progress callback: a signal that
 * stopped the distillation must not stop the save too. */
static int save_set(const cli_command *cmd, subsel_ctx *ctx, const subsel_lors *l,
                    const char *dir)
{
    int rc;
    stages_set_progress(ctx, NULL, NULL);
    rc = subsel_lors_save(ctx, l, dir);
    return rc == SUBSEL_OK ? 0 : cli_fail_status(cmd, ctx, rc, "--out");
}

static int lors_distill(const cli_command *self, int argc, char **argv)
{
    const char *image_path = NULL, *text_path = NULL, *buffer = NULL, *out = NULL;
    const char *log_path = NULL;
    int64_t threads = 0, seed = 0, iterations = 0, every = 0, done0 = 0, pairs = 0;
    int resume = 0, stopped = 0;
    double loss = NAN, eta_image = NAN, eta_text = NAN;
    param_values values;
    cli_option options[MAX_OPTIONS] = {
        {"images", 0, CLI_STRING, &image_path,
         "image embeddings of the real pairs, n x d_I (.npy); not needed with --resume", 0,
         "required without --resume", 0, 0},
        {"texts", 0, CLI_STRING, &text_path,
         "text embeddings of the real pairs, n x d_T (.npy); not needed with --resume", 0,
         "required without --resume", 0, 0},
        {"buffer", 0, CLI_STRING, &buffer, "folder of `subsel lors buffer` (the same towers)",
         1, NULL, 0, 0},
        {"out", 'o', CLI_STRING, &out,
         "folder for the distilled set (images.npy, texts.npy, similarity.npy, eta.npy, and "
         "what --resume needs)",
         1, NULL, 0, 0},
        {"iterations", 0, CLI_INT, &iterations,
         "iterations in all (with --resume: including those done)", 1, NULL, 0, 0},
        {"resume", 0, CLI_FLAG, &resume, "continue the set saved in --out", 0, NULL, 0, 0},
        {"checkpoint-every", 0, CLI_INT, &every,
         "also save to --out after every K iterations", 0, "0: at the end only", 0, 0},
        {"log", 0, CLI_STRING, &log_path, "append a JSON line per iteration", 0, "none", 0, 0},
        THREADS_AND_SEED(threads, seed,
                         "seed of the initial set, the similarity's L and the iterations' draws"),
    };
    int count = 10, rc;
    run_progress progress;
    lors_job job = {0};

    add_param_options(options, &count, USE_DISTILL, &values);
    rc = cli_parse(self, argc, argv, options,
                   "--images I.npy --texts T.npy --buffer DIR --out DIR --iterations N "
                   "[--resume] [--pairs P] [--syn-steps T] [--log LOG.jsonl] [options]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if (!resume && (image_path == NULL || text_path == NULL))
        return cli_usage(self, "give --images and --texts (the real pairs), or --resume");
    if (resume && cli_given(options, "seed"))
        return cli_usage(self, "--seed is the saved set's with --resume");
    if (iterations < 0)
        return cli_usage(self, "--iterations %lld must be >= 0", (long long)iterations);
    if (every < 0)
        return cli_usage(self, "--checkpoint-every %lld must be >= 0", (long long)every);
    cli_catch_interrupts();
    /* with --resume the real pairs are not used again: the set holds what
     * it needs */
    if ((rc = job_open(self, threads, seed, resume ? NULL : image_path, text_path, options,
                       &job)) != 0)
        goto done;
    if (resume) {
        if ((rc = subsel_lors_load(job.ctx, out, &job.l)) != SUBSEL_OK) {
            rc = cli_fail_status(self, job.ctx, rc, "--resume");
            goto done;
        }
        if ((rc = cli_set_params(self, job.ctx, job.l, options, 1)) != 0)
            goto done;
    }
    done0 = subsel_lors_iterations(job.l);
    if (iterations < done0) {
        rc = cli_fail(self, "--iterations %lld: the set in %s has done %lld already",
                      (long long)iterations, out, (long long)done0);
        goto done;
    }
    start_progress(job.ctx, &progress, self, "distill", "iterations", iterations);
    stages_begin("distill"); /* checkpoints included */
    /* in chunks of --checkpoint-every, each saved; one call does no
     * iteration but starts the set when --iterations is what is done */
    do {
        int64_t left = iterations - subsel_lors_iterations(job.l);
        int64_t chunk = every > 0 && every < left ? every : left;
        progress.offset = subsel_lors_iterations(job.l);
        rc = subsel_lors_distill(job.ctx, job.l, job.images, job.texts, buffer, chunk, log_path);
        if (rc == SUBSEL_E_CANCELLED) {
            stopped = 1;
            break;
        }
        if (rc != SUBSEL_OK) {
            int failure = rc;
            rc = cli_fail_status(self, job.ctx, rc, "distillation");
            /* a divergence leaves the set as before that iteration: keep
             * what this run did, to continue with smaller steps */
            if (failure == SUBSEL_E_NUMERIC && subsel_lors_iterations(job.l) > done0 &&
                save_set(self, job.ctx, job.l, out) == 0)
                cli_fail(self, "the %lld iterations before it are saved to %s",
                         (long long)subsel_lors_iterations(job.l), out);
            goto done;
        }
        if (every > 0 && subsel_lors_iterations(job.l) < iterations &&
            (rc = save_set(self, job.ctx, job.l, out)) != 0)
            goto done;
        stages_set_progress(job.ctx, print_progress, &progress);
    } while (subsel_lors_iterations(job.l) < iterations);
    if (subsel_lors_iterations(job.l) == 0 && stopped) {
        /* stopped before the set was made: nothing to save */
        cli_fail(self, "interrupted before the first iteration; nothing saved");
        rc = LORS_INTERRUPTED;
        goto done;
    }
    stages_begin("write");
    if ((rc = save_set(self, job.ctx, job.l, out)) != 0)
        goto done;
    subsel_lors_last_loss(job.ctx, job.l, &loss);
    subsel_lors_eta(job.ctx, job.l, &eta_image, &eta_text);
    subsel_param_get_int(job.ctx, job.l, SUBSEL_P_LORS_PAIRS, &pairs);
    if (stopped)
        cli_fail(self, "interrupted after %lld of %lld iterations; saved to %s (continue "
                       "with --resume)",
                 (long long)subsel_lors_iterations(job.l), (long long)iterations, out);
    json_begin();
    json_int("pairs", pairs);
    json_int("iterations", subsel_lors_iterations(job.l));
    json_int("iterations_this_run", subsel_lors_iterations(job.l) - done0);
    json_int("interrupted", stopped);
    json_double("loss", loss);
    json_double("eta_image", eta_image);
    json_double("eta_text", eta_text);
    json_int("threads", subsel_ctx_threads(job.ctx));
    json_double("seconds", cli_now() - progress.start);
    json_string("out", out);
    json_stages();
    json_end();
    rc = stopped ? LORS_INTERRUPTED : 0;
done:
    job_close(&job);
    return rc;
}

/* ---- baselines ------------------------------------------------------------ */

static int baseline_of(const char *name)
{
    if (strcmp(name, "random") == 0)
        return SUBSEL_LORS_BASELINE_RANDOM;
    if (strcmp(name, "kcenter") == 0)
        return SUBSEL_LORS_BASELINE_KCENTER;
    if (strcmp(name, "herding") == 0)
        return SUBSEL_LORS_BASELINE_HERDING;
    return -1;
}

/* The rows idx[0..count) of m, as a new matrix. */
static int subset_rows(const cli_command *cmd, subsel_ctx *ctx, const subsel_dense *m,
                       const int64_t *idx, int64_t count, subsel_dense **out)
{
    int64_t cols = subsel_dense_cols(m), i;
    float *rows = malloc(sizeof *rows * (size_t)(count * cols));
    int rc;
    if (rows == NULL)
        return cli_fail(cmd, "out of memory");
    for (i = 0; i < count; i++)
        memcpy(rows + i * cols, subsel_dense_row(m, idx[i]), sizeof *rows * (size_t)cols);
    rc = subsel_dense_create(ctx, count, cols, rows, SUBSEL_OWN_COPY, out);
    free(rows);
    return rc == SUBSEL_OK ? 0 : cli_fail_status(cmd, ctx, rc, "the baseline's pairs");
}

static int lors_baseline(const cli_command *self, int argc, char **argv)
{
    const char *image_path = NULL, *text_path = NULL, *out = NULL, *method_name = NULL;
    int64_t threads = 0, seed = 0, count = 0, *idx = NULL;
    int method, rc;
    double t0;
    cli_ids ids = {0};
    cli_option options[] = {
        {"images", 0, CLI_STRING, &image_path, "image embeddings of the real pairs (.npy)", 1,
         NULL, 0, 0},
        {"texts", 0, CLI_STRING, &text_path, "text embeddings of the real pairs (.npy)", 1,
         NULL, 0, 0},
        {"method", 0, CLI_STRING, &method_name, "random | kcenter | herding", 1, NULL, 0, 0},
        {"count", 0, CLI_INT, &count, "pairs to choose, 1 to the pairs", 1, NULL, 0, 0},
        {"out", 'o', CLI_STRING, &out, "the chosen indices, an int64 .npy (-: standard output)",
         1, NULL, 0, 0},
        IDS_CLI_OPTIONS(ids),
        THREADS_AND_SEED(threads, seed,
                         "seed of the random sample and k-center's first pair"),
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    const char *out_options[] = {"--out"};
    lors_job job = {0};

    rc = cli_parse(self, argc, argv, options,
                   "--images I.npy --texts T.npy --method random|kcenter|herding --count K "
                   "--out idx.npy");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if ((method = baseline_of(method_name)) < 0)
        return cli_usage(self, "--method: '%s' is not random, kcenter or herding", method_name);
    if (count < 1)
        return cli_usage(self, "--count %lld must be at least 1", (long long)count);
    if ((rc = ids_check(self, &ids)) != 0 ||
        (rc = cli_check_outputs(self, 1, out_options, &out)) != 0)
        return rc;
    t0 = cli_now();
    if ((rc = job_open(self, threads, seed, image_path, text_path, options, &job)) != 0 ||
        (rc = ids_load(self, job.ctx, &ids, subsel_dense_rows(job.images), "--images")) != 0)
        goto done;
    if (count > subsel_dense_rows(job.images)) {
        rc = cli_usage(self, "--count %lld is larger than the %lld pairs", (long long)count,
                       (long long)subsel_dense_rows(job.images));
        goto done;
    }
    if ((idx = malloc(sizeof *idx * (size_t)count)) == NULL) {
        rc = cli_fail(self, "out of memory");
        goto done;
    }
    stages_begin("select");
    if ((rc = subsel_lors_baseline(job.ctx, job.l, method, job.images, job.texts, count,
                                   idx)) != SUBSEL_OK) {
        rc = cli_fail_status(self, job.ctx, rc, "--method");
        goto done;
    }
    stages_begin("write");
    if ((rc = ids_write(self, job.ctx, &ids, idx, count, "--out", out)) != 0)
        goto done;
    json_begin();
    json_string("method", method_name);
    json_int("count", count);
    json_int("pairs", subsel_dense_rows(job.images));
    json_double("seconds", cli_now() - t0);
    json_string("out", out);
    ids_json(&ids);
    json_stages();
    json_end();
    rc = 0;
done:
    free(idx);
    ids_free(&ids);
    job_close(&job);
    return rc;
}

/* ---- subsel lors eval ------------------------------------------------------ */

static const char *const recall_names[SUBSEL_LORS_RECALLS] = {"ir1", "ir5", "ir10",
                                                              "tr1", "tr5", "tr10"};

/* What one evaluation trains on: pairs (with a similarity and step sizes),
 * a distilled set, or a baseline drawn per seed from pairs. */
typedef struct eval_train {
    subsel_dense *images, *texts; /* given pairs, the set's, or the pool */
    subsel_dense *similarity;     /* n x n, or NULL: the identity */
    double eta_image, eta_text;   /* <= 0: expert_lr */
    subsel_lors *set;             /* a loaded distilled set, or NULL */
    int baseline;                 /* SUBSEL_LORS_BASELINE_*, or -1 */
    int64_t count;                /* the baseline's pairs */
} eval_train;

/* The recalls of one seed, ctx's (the evaluation's towers and batches,
 * and the baseline's choice, come from it): a distilled set evaluates
 * itself (with its S~ and learned eta, in double), other pairs train a
 * fresh handle. */
static int evaluate_seed(const cli_command *cmd, subsel_ctx *ctx, const eval_train *tr,
                         const cli_option *options, const subsel_dense *test_images,
                         const subsel_dense *test_texts, const int64_t *text_image,
                         double *recalls)
{
    subsel_lors *l = NULL;
    subsel_dense *images = tr->images, *texts = tr->texts;
    int64_t *idx = NULL;
    int rc;
    if (tr->set != NULL) {
        /* the set's own parameters, changed only by those given */
        if ((rc = cli_set_params(cmd, ctx, tr->set, options, 1)) != 0)
            return rc;
        rc = subsel_lors_evaluate(ctx, tr->set, NULL, NULL, NULL, 0, 0, test_images,
                                  test_texts, text_image, recalls);
        goto status;
    }
    rc = subsel_lors_create(ctx, subsel_dense_cols(tr->images), subsel_dense_cols(tr->texts),
                            &l);
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, "creating the LoRS handle");
    if ((rc = cli_set_params(cmd, ctx, l, options, 0)) != 0)
        goto done;
    if (tr->baseline >= 0) {
        images = texts = NULL;
        if ((idx = malloc(sizeof *idx * (size_t)tr->count)) == NULL) {
            rc = cli_fail(cmd, "out of memory");
            goto done;
        }
        if ((rc = subsel_lors_baseline(ctx, l, tr->baseline, tr->images, tr->texts, tr->count,
                                       idx)) != SUBSEL_OK) {
            rc = cli_fail_status(cmd, ctx, rc, "--baseline");
            goto done;
        }
        if ((rc = subset_rows(cmd, ctx, tr->images, idx, tr->count, &images)) != 0 ||
            (rc = subset_rows(cmd, ctx, tr->texts, idx, tr->count, &texts)) != 0)
            goto done;
    }
    rc = subsel_lors_evaluate(ctx, l, images, texts,
                              tr->similarity ? subsel_dense_data(tr->similarity) : NULL,
                              tr->eta_image, tr->eta_text, test_images, test_texts,
                              text_image, recalls);
status:
    if (rc == SUBSEL_E_CANCELLED) {
        cli_fail(cmd, "interrupted");
        rc = LORS_INTERRUPTED;
    } else if (rc != SUBSEL_OK) {
        rc = cli_fail_status(cmd, ctx, rc, "evaluation");
    }
done:
    if (tr->baseline >= 0) {
        subsel_dense_free(images);
        subsel_dense_free(texts);
    }
    free(idx);
    subsel_lors_free(l);
    return rc;
}

/* The seeds of --seeds "a,b,c" (or the one of --seed), into a malloc'ed
 * array. */
static int parse_seeds(const cli_command *cmd, const char *text, int64_t seed,
                       int64_t **seeds, int64_t *count)
{
    double *values = NULL;
    int64_t i, lo = 0, hi = 0;
    int rc;
    *count = 1;
    if (text != NULL && (rc = cli_parse_doubles(cmd, "seeds", text, &values, count)) != 0)
        return rc;
    if ((*seeds = malloc(sizeof **seeds * (size_t)*count)) == NULL) {
        free(values);
        return cli_fail(cmd, "out of memory");
    }
    (*seeds)[0] = seed;
    subsel_ctx_param_bounds(SUBSEL_P_SEED, &lo, &hi, NULL);
    for (i = 0; values != NULL && i < *count; i++) {
        /* a double holds every integer up to 2^53 exactly */
        if (values[i] != floor(values[i]) || values[i] < (double)lo ||
            values[i] > 9007199254740992.0 || values[i] > (double)hi) {
            free(values);
            return cli_usage(cmd, "--seeds: '%s' is not a list of seeds (integers >= %lld)",
                             text, (long long)lo);
        }
        (*seeds)[i] = (int64_t)values[i];
    }
    free(values);
    return 0;
}

/* Mean and standard deviation over the seeds (NumPy's np.std: divided by
 * the count) of each recall and of their mean, per seed in per_seed
 * (SUBSEL_LORS_RECALLS + 1 rows of `seeds` values). */
static void print_recalls(const int64_t *seeds, int64_t n, double *per_seed)
{
    int64_t k, s;
    double mean[SUBSEL_LORS_RECALLS + 1], std[SUBSEL_LORS_RECALLS + 1];
    char key[32];
    for (k = 0; k <= SUBSEL_LORS_RECALLS; k++) {
        double sum = 0, sq = 0;
        for (s = 0; s < n; s++)
            sum += per_seed[k * n + s];
        mean[k] = sum / (double)n;
        for (s = 0; s < n; s++)
            sq += (per_seed[k * n + s] - mean[k]) * (per_seed[k * n + s] - mean[k]);
        std[k] = sqrt(sq / (double)n);
    }
    json_int_array("seeds", seeds, n);
    for (k = 0; k <= SUBSEL_LORS_RECALLS; k++)
        json_double(k < SUBSEL_LORS_RECALLS ? recall_names[k] : "mean", mean[k]);
    for (k = 0; k <= SUBSEL_LORS_RECALLS; k++) {
        snprintf(key, sizeof key, "%s_std", k < SUBSEL_LORS_RECALLS ? recall_names[k] : "mean");
        json_double(key, std[k]);
    }
    for (k = 0; k <= SUBSEL_LORS_RECALLS; k++) {
        snprintf(key, sizeof key, "%s_per_seed",
                 k < SUBSEL_LORS_RECALLS ? recall_names[k] : "mean");
        json_double_array(key, per_seed + k * n, n);
    }
}

/* The distilled set of dir (tr->set, owned by *set). */
static int load_set(const cli_command *cmd, subsel_ctx *ctx, const char *dir, subsel_lors **set,
                    eval_train *tr)
{
    int rc = subsel_lors_load(ctx, dir, set);
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, "--set");
    tr->set = *set;
    return 0;
}

static int lors_eval(const cli_command *self, int argc, char **argv)
{
    const char *test_image_path = NULL, *test_text_path = NULL, *map_path = NULL;
    const char *set_dir = NULL, *image_path = NULL, *text_path = NULL, *sim_path = NULL;
    const char *baseline_name = NULL, *seeds_text = NULL, *mode;
    int64_t threads = 0, seed = 0, count = 0, nmap = 0, nseeds = 0, *seeds = NULL, s, k;
    int64_t *text_image = NULL;
    double eta_image = 0, eta_text = 0, *per_seed = NULL;
    param_values values;
    cli_option options[MAX_OPTIONS] = {
        {"test-images", 0, CLI_STRING, &test_image_path, "held-out image embeddings (.npy)", 1,
         NULL, 0, 0},
        {"test-texts", 0, CLI_STRING, &test_text_path, "held-out text embeddings (.npy)", 1,
         NULL, 0, 0},
        {"text-image", 0, CLI_STRING, &map_path,
         "the image of every test text, int64 (.npy); for several texts per image", 0,
         "none: text i of image i", 0, 0},
        {"set", 0, CLI_STRING, &set_dir,
         "train on a distilled set (a folder of `subsel lors distill`) with its S~ and eta", 0,
         "none", 0, 0},
        {"images", 0, CLI_STRING, &image_path,
         "train on these image embeddings (or choose a --baseline among them)", 0, "none", 0,
         0},
        {"texts", 0, CLI_STRING, &text_path, "the text embeddings paired with --images", 0,
         "none", 0, 0},
        {"similarity", 0, CLI_STRING, &sim_path,
         "the pairs' target similarity, n x n (.npy); with --images", 0, "the identity", 0,
         0},
        {"eta-image", 0, CLI_DOUBLE, &eta_image, "step size of the image tower; with --images",
         0, "0: --expert-lr", 0, 0},
        {"eta-text", 0, CLI_DOUBLE, &eta_text, "step size of the text tower; with --images", 0,
         "0: --expert-lr", 0, 0},
        {"baseline", 0, CLI_STRING, &baseline_name,
         "train on --count pairs of --images/--texts chosen by random | kcenter | herding", 0,
         "none", 0, 0},
        {"count", 0, CLI_INT, &count, "pairs a --baseline chooses", 0, "required with --baseline",
         0, 0},
        {"seeds", 0, CLI_STRING, &seeds_text,
         "evaluate once per seed (a,b,c) and print each, their mean and deviation", 0,
         "--seed", 0, 0},
        THREADS_AND_SEED(threads, seed,
                         "seed of the evaluation's towers and batches (and baseline)"),
    };
    int count_options = 14, rc, modes;
    eval_train tr;
    run_progress progress;
    subsel_ctx *ctx = NULL;
    subsel_dense *test_images = NULL, *test_texts = NULL;
    subsel_lors *set = NULL;

    memset(&tr, 0, sizeof tr);
    tr.baseline = -1;
    add_param_options(options, &count_options, USE_EVAL, &values);
    rc = cli_parse(self, argc, argv, options,
                   "--test-images I.npy --test-texts T.npy [--text-image map.npy] "
                   "(--set DIR | --images I.npy --texts T.npy [--similarity S.npy] | "
                   "--baseline random|kcenter|herding --count K --images I.npy --texts T.npy) "
                   "[--seeds a,b,c]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    modes = (set_dir != NULL) + (image_path != NULL || text_path != NULL);
    if (modes != 1)
        return cli_usage(self, "give --set, or --images and --texts (with or without "
                               "--baseline)");
    if (set_dir == NULL && (image_path == NULL || text_path == NULL))
        return cli_usage(self, "--images and --texts go together");
    if (set_dir != NULL && (sim_path != NULL || cli_given(options, "eta-image") ||
                            cli_given(options, "eta-text")))
        return cli_usage(self, "--similarity, --eta-image and --eta-text are the set's own "
                               "with --set");
    if (baseline_name != NULL) {
        if ((tr.baseline = baseline_of(baseline_name)) < 0)
            return cli_usage(self, "--baseline: '%s' is not random, kcenter or herding",
                             baseline_name);
        if (!cli_given(options, "count") || count < 1)
            return cli_usage(self, "--baseline needs --count K, at least 1");
        if (sim_path != NULL)
            return cli_usage(self, "--similarity is not for a --baseline (its S is I)");
    } else if (cli_given(options, "count")) {
        return cli_usage(self, "--count is for --baseline");
    }
    if (seeds_text != NULL && cli_given(options, "seed"))
        return cli_usage(self, "give --seed or --seeds, not both");
    if ((rc = parse_seeds(self, seeds_text, seed, &seeds, &nseeds)) != 0)
        goto done;
    if ((rc = cli_make_ctx(self, threads, seed, &ctx)) != 0)
        goto done;
    cli_catch_interrupts();
    if ((rc = load_dense(self, ctx, "--test-images", test_image_path, &test_images)) != 0 ||
        (rc = load_dense(self, ctx, "--test-texts", test_text_path, &test_texts)) != 0)
        goto done;
    if (map_path == NULL && subsel_dense_rows(test_images) != subsel_dense_rows(test_texts)) {
        rc = cli_fail(self, "--test-images has %lld rows but --test-texts has %lld: give "
                            "--text-image to say whose each text is",
                      (long long)subsel_dense_rows(test_images),
                      (long long)subsel_dense_rows(test_texts));
        goto done;
    }
    if (map_path != NULL) {
        /* several texts per image: the map says whose each is */
        if ((rc = cli_read_i64(self, ctx, "--text-image", map_path, &text_image, &nmap)) != 0)
            goto done;
        if (nmap != subsel_dense_rows(test_texts)) {
            rc = cli_fail(self, "--text-image has %lld entries for %lld test texts",
                          (long long)nmap, (long long)subsel_dense_rows(test_texts));
            goto done;
        }
    }
    if (set_dir != NULL) {
        mode = "set";
        if ((rc = load_set(self, ctx, set_dir, &set, &tr)) != 0)
            goto done;
    } else {
        mode = tr.baseline >= 0 ? "baseline" : "pairs";
        if ((rc = load_pairs(self, ctx, "--images", image_path, "--texts", text_path,
                             &tr.images, &tr.texts)) != 0)
            goto done;
        tr.eta_image = eta_image;
        tr.eta_text = eta_text;
        tr.count = count;
        if (tr.baseline >= 0 && count > subsel_dense_rows(tr.images)) {
            rc = cli_usage(self, "--count %lld is larger than the %lld pairs", (long long)count,
                           (long long)subsel_dense_rows(tr.images));
            goto done;
        }
        if (sim_path != NULL) {
            if ((rc = load_dense(self, ctx, "--similarity", sim_path, &tr.similarity)) != 0)
                goto done;
            if (subsel_dense_rows(tr.similarity) != subsel_dense_rows(tr.images) ||
                subsel_dense_cols(tr.similarity) != subsel_dense_rows(tr.images)) {
                rc = cli_fail(self, "--similarity is %lld x %lld, but there are %lld pairs",
                              (long long)subsel_dense_rows(tr.similarity),
                              (long long)subsel_dense_cols(tr.similarity),
                              (long long)subsel_dense_rows(tr.images));
                goto done;
            }
        }
    }
    if ((per_seed = malloc(sizeof *per_seed * (size_t)(nseeds * (SUBSEL_LORS_RECALLS + 1)))) ==
        NULL) {
        rc = cli_fail(self, "out of memory");
        goto done;
    }
    start_progress(ctx, &progress, self, "evaluate", "epochs", 0);
    stages_begin("evaluate");
    for (s = 0; s < nseeds; s++) {
        double recalls[SUBSEL_LORS_RECALLS], mean = 0;
        if ((rc = subsel_ctx_set_int(ctx, SUBSEL_P_SEED, seeds[s])) != SUBSEL_OK) {
            rc = cli_option_status(self, ctx, rc, "--seeds");
            goto done;
        }
        if ((rc = evaluate_seed(self, ctx, &tr, options, test_images, test_texts, text_image,
                                recalls)) != 0)
            goto done;
        for (k = 0; k < SUBSEL_LORS_RECALLS; k++) {
            per_seed[k * nseeds + s] = recalls[k];
            mean += recalls[k] / SUBSEL_LORS_RECALLS;
        }
        per_seed[SUBSEL_LORS_RECALLS * nseeds + s] = mean;
    }
    json_begin();
    json_string("mode", mode);
    if (tr.baseline >= 0) {
        json_string("baseline", baseline_name);
        json_int("count", count);
    }
    {
        int64_t pairs = 0;
        if (set != NULL)
            subsel_param_get_int(ctx, set, SUBSEL_P_LORS_PAIRS, &pairs);
        json_int("train_pairs", set != NULL          ? pairs
                                : tr.baseline >= 0 ? count
                                                   : subsel_dense_rows(tr.images));
    }
    json_int("test_images", subsel_dense_rows(test_images));
    json_int("test_texts", subsel_dense_rows(test_texts));
    print_recalls(seeds, nseeds, per_seed);
    json_int("threads", subsel_ctx_threads(ctx));
    json_double("seconds", cli_now() - progress.start);
    json_stages();
    json_end();
    rc = 0;
done:
    free(per_seed);
    free(seeds);
    subsel_array_free(text_image);
    subsel_dense_free(tr.images);
    subsel_dense_free(tr.texts);
    subsel_dense_free(tr.similarity);
    subsel_lors_free(set);
    subsel_dense_free(test_images);
    subsel_dense_free(test_texts);
    subsel_ctx_free(ctx);
    return rc;
}

/* ---- subsel lors ---------------------------------------------------------- */

static const cli_command subcommands[] = {
    {"lors buffer", "Train the expert trajectories LoRS distillation matches.", lors_buffer},
    {"lors distill", "Distil real pairs into a few synthetic pairs and a learned similarity.",
     lors_distill},
    {"lors eval", "Train fresh towers on a set and print their retrieval recalls.", lors_eval},
    {"lors baseline", "Choose real pairs by random, k-center or herding selection.",
     lors_baseline},
};

#define SUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static void usage(FILE *out)
{
    size_t i;
    fprintf(out, "usage: subsel lors <subcommand> [options]\n"
                 "       subsel lors <subcommand> --help\n\nsubcommands:\n");
    for (i = 0; i < SUBCOMMANDS; i++)
        fprintf(out, "  %-9s %s\n", subcommands[i].name + 5, subcommands[i].summary);
}

int cmd_lors(const cli_command *self, int argc, char **argv)
{
    size_t i;
    int rc;
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (!cli_man()) {
            usage(stdout);
            return 0;
        }
        /* the man page has a section per subcommand */
        for (i = 0; i < SUBCOMMANDS; i++)
            if ((rc = cli_run_help(&subcommands[i])) != 0)
                return rc;
        return 0;
    }
    for (i = 0; i < SUBCOMMANDS; i++)
        if (strcmp(argv[1], subcommands[i].name + 5) == 0)
            return subcommands[i].run(&subcommands[i], argc - 1, argv + 1);
    return cli_usage(self, "unknown subcommand '%s' (buffer, distill, eval, baseline)", argv[1]);
}
