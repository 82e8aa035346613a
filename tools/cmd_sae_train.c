/* SPDX-License-Identifier: MIT */
/*
 * `subsel sae-train`: trains a monotone TopK sparse autoencoder on dense
 * embeddings (.npy files, one or a glob of shards) and writes a folder
 * that `subsel encode --sae` reads, which is also a checkpoint that
 * --resume continues. Prints one JSON object; progress on standard error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "progress.h"
#include "stages.h"
#include "commands.h"
#include "shards.h"

typedef struct train_progress {
    double start, last;
    subsel_sae_trainer *t;
    subsel_ctx *ctx;
} train_progress;

/* One line on stderr per second at most, and the last. */
static int print_progress(void *user, const char *stage, int64_t done, int64_t total)
{
    train_progress *p = user;
    double now = cli_now(), l[SUBSEL_SAE_LOSSES];
    if (!progress_lines())
        return 0;
    if (strcmp(stage, "train") != 0 || (now - p->last < 1.0 && done != total))
        return 0;
    subsel_sae_trainer_losses(p->ctx, p->t, l, SUBSEL_SAE_LOSSES);
    fprintf(stderr,
            "subsel sae-train: %lld/%lld rows (%.0f%%, %.1f s) step %lld loss %.6g "
            "recons %.6g mono %.6g dead %lld\n",
            (long long)done, (long long)total,
            total > 0 ? 100.0 * (double)done / (double)total : 100.0, now - p->start,
            (long long)subsel_sae_trainer_steps(p->t), l[SUBSEL_SAE_LOSS_TOTAL],
            l[SUBSEL_SAE_LOSS_RECONS], l[SUBSEL_SAE_LOSS_MONO],
            (long long)subsel_sae_trainer_dead(p->t));
    p->last = now;
    return 0;
}

/* Notes --input for the summary: its files' rows together (read from
 * their headers). Returns 0 or an exit code. */
static int note_inputs(const cli_command *cmd, subsel_ctx *ctx, const shard_list *files)
{
    int64_t i, rows = 0, cols = 0;
    for (i = 0; i < files->count; i++) {
        int64_t r = 0;
        int rc = subsel_dense_npy_shape(ctx, files->paths[i], &r, &cols);
        if (rc != SUBSEL_OK)
            return cli_fail_status(cmd, ctx, rc, "--input");
        rows += r;
    }
    cli_note_input("--input", rows, cols, "float32");
    return 0;
}

int cmd_sae_train(const cli_command *self, int argc, char **argv)
{
    const char *input = NULL, *out = NULL, *log_path = NULL;
    int64_t latents = 0, epochs = 1, threads = 0, seed = 0, k = 0, batch = 0;
    int64_t set_size = 0, reservoir = 0, auxk = 0, dead_rows = 0, b_dec_init = 0;
    int64_t checkpoint_steps = 0, steps0;
    double lr = 0, beta1 = 0, beta2 = 0, eps = 0, l_recons = 0, l_mono = 0, l_act = 0;
    double aux_coef = 0, t0;
    int resume = 0;
    cli_option options[] = {
        {"input", 0, CLI_STRING, &input,
         "embeddings: a rows x inputs .npy file (float16/32/64), or a glob of shards", 1,
         NULL, 0, 0},
        {"out", 'o', CLI_STRING, &out,
         "folder for the autoencoder (W_enc.npy, b_enc.npy, b_dec.npy, W_dec.npy) and its "
         "checkpoint",
         1, NULL, 0, 0},
        {"latents", 0, CLI_INT, &latents, "latents (d_sparse); not with --resume", 0,
         "required without --resume", 0, 0},
        {"epochs", 0, CLI_INT, &epochs, "epochs in all (with --resume: including those done)",
         0, NULL, 0, 0},
        {"resume", 0, CLI_FLAG, &resume, "continue from the checkpoint in --out", 0, NULL, 0,
         0},
        {"log", 0, CLI_STRING, &log_path, "append a JSON line per step and per epoch", 0,
         "none", 0, 0},
        {"k", 'k', CLI_INT, &k, NULL, 0, NULL, 0, SUBSEL_P_SAE_K},
        {"batch", 0, CLI_INT, &batch, NULL, 0, NULL, 0, SUBSEL_P_SAE_BATCH},
        {"lr", 0, CLI_DOUBLE, &lr, NULL, 0, NULL, 0, SUBSEL_P_SAE_LR},
        {"beta1", 0, CLI_DOUBLE, &beta1, NULL, 0, NULL, 0, SUBSEL_P_SAE_BETA1},
        {"beta2", 0, CLI_DOUBLE, &beta2, NULL, 0, NULL, 0, SUBSEL_P_SAE_BETA2},
        {"adam-eps", 0, CLI_DOUBLE, &eps, NULL, 0, NULL, 0, SUBSEL_P_SAE_EPS},
        {"l-recons", 0, CLI_DOUBLE, &l_recons, NULL, 0, NULL, 0, SUBSEL_P_SAE_L_RECONS},
        {"l-mono", 0, CLI_DOUBLE, &l_mono, NULL, 0, NULL, 0, SUBSEL_P_SAE_L_MONO},
        {"l-act", 0, CLI_DOUBLE, &l_act, NULL, 0, NULL, 0, SUBSEL_P_SAE_L_ACT},
        {"set-size", 0, CLI_INT, &set_size, NULL, 0, NULL, 0, SUBSEL_P_SAE_SET_SIZE},
        {"reservoir", 0, CLI_INT, &reservoir, NULL, 0, NULL, 0, SUBSEL_P_SAE_RESERVOIR},
        {"auxk", 0, CLI_INT, &auxk, NULL, 0, NULL, 0, SUBSEL_P_SAE_AUXK},
        {"aux-coef", 0, CLI_DOUBLE, &aux_coef, NULL, 0, NULL, 0, SUBSEL_P_SAE_AUX_COEF},
        {"dead-rows", 0, CLI_INT, &dead_rows, NULL, 0, NULL, 0, SUBSEL_P_SAE_DEAD_ROWS},
        {"b-dec-init", 0, CLI_INT, &b_dec_init, NULL, 0, NULL, 0, SUBSEL_P_SAE_B_DEC_INIT},
        {"checkpoint-steps", 0, CLI_INT, &checkpoint_steps, NULL, 0, NULL, 0,
         SUBSEL_P_SAE_CHECKPOINT_STEPS},
        {"threads", 't', CLI_INT, &threads, "threads", 0, "0: as many as OpenMP gives", 0,
         SUBSEL_P_THREADS},
        {"seed", 0, CLI_INT, &seed, "seed of the initial weights, the order and the sets", 0,
         NULL, 0, SUBSEL_P_SEED},
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    train_progress progress;
    shard_list files;
    subsel_ctx *ctx = NULL;
    subsel_sae_trainer *t = NULL;
    double l[SUBSEL_SAE_LOSSES];
    int rc = cli_parse(self, argc, argv, options,
                       "--input X.npy|'shard-*.npy' --out DIR (--latents L | --resume) "
                       "[--epochs E] [--k K] [--lr LR] [--l-mono L2] [--log LOG.jsonl]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if (resume == cli_given(options, "latents"))
        return cli_usage(self, "give --latents for a new autoencoder, or --resume");
    if (resume && (cli_given(options, "seed")))
        return cli_usage(self, "--seed is the checkpoint's with --resume");
    if (epochs < 1)
        return cli_usage(self, "--epochs %lld must be at least 1", (long long)epochs);
    if ((rc = cli_make_ctx(self, threads, seed, &ctx)) != 0)
        return rc;
    if ((rc = shards_find(self, NULL, "--input", input, &files)) != 0) {
        subsel_ctx_free(ctx);
        return rc;
    }
    rc = CLI_FAILED;
    if ((rc = note_inputs(self, ctx, &files)) != 0)
        goto done;
    rc = CLI_FAILED;
    if (resume) {
        if ((rc = subsel_sae_trainer_load(ctx, out, &t)) != SUBSEL_OK) {
            rc = cli_fail_status(self, ctx, rc, "--resume");
            goto done;
        }
    } else {
        int64_t rows = 0, cols = 0;
        if ((rc = subsel_dense_npy_shape(ctx, files.paths[0], &rows, &cols)) != SUBSEL_OK) {
            rc = cli_fail_status(self, ctx, rc, "--input");
            goto done;
        }
        stages_begin("build");
        if ((rc = subsel_sae_trainer_create(ctx, cols, latents, &t)) != SUBSEL_OK) {
            rc = cli_fail_status(self, ctx, rc, "--latents");
            goto done;
        }
    }
    if ((rc = cli_set_params(self, ctx, t, options, resume)) != 0)
        goto done;
    progress.start = progress.last = cli_now();
    progress.t = t;
    progress.ctx = ctx;
    stages_set_progress(ctx, print_progress, &progress);
    steps0 = subsel_sae_trainer_steps(t);
    stages_begin("train"); /* reading rows and writing checkpoints included */
    t0 = cli_now();
    rc = subsel_sae_trainer_fit(ctx, t, (const char *const *)files.paths, files.count,
                                epochs, out, log_path);
    if (rc != SUBSEL_OK) {
        rc = cli_fail_status(self, ctx, rc, "training");
        goto done;
    }
    t0 = cli_now() - t0;
    subsel_sae_trainer_losses(ctx, t, l, SUBSEL_SAE_LOSSES);
    subsel_param_get_int(ctx, t, SUBSEL_P_SAE_K, &k);
    subsel_param_get_int(ctx, t, SUBSEL_P_SAE_BATCH, &batch);
    json_begin();
    json_int("k", k);
    json_int("batch", batch);
    json_int("files", files.count);
    json_int("epochs", subsel_sae_trainer_epochs(t));
    json_int("steps", subsel_sae_trainer_steps(t));
    json_int("steps_this_run", subsel_sae_trainer_steps(t) - steps0);
    json_double("loss", l[SUBSEL_SAE_LOSS_TOTAL]);
    json_double("recons", l[SUBSEL_SAE_LOSS_RECONS]);
    json_double("mono", l[SUBSEL_SAE_LOSS_MONO]);
    json_double("act", l[SUBSEL_SAE_LOSS_ACT]);
    json_double("aux", l[SUBSEL_SAE_LOSS_AUX]);
    json_int("dead", subsel_sae_trainer_dead(t));
    json_int("threads", subsel_ctx_threads(ctx));
    json_double("seconds", cli_now() - progress.start);
    json_double("train_seconds", t0);
    json_string("out", out);
    json_stages();
    json_end();
    rc = 0;
done:
    subsel_sae_trainer_free(t);
    shards_free(&files);
    subsel_ctx_free(ctx);
    return rc;
}
