/* SPDX-License-Identifier: MIT */
/*
 * Training over .npy files: epochs of shuffled batches streamed from disk,
 * with a JSON log, checkpoints and progress.
 *
 * Epoch e visits the rows in the order of a seeded permutation (the
 * trainer's seed, stream SS_SAE_STREAM_EPOCH + e) computed one index at a
 * time (lib/core/rng.h), so shuffling needs no memory per row and a data
 * set of any size is visited in a uniformly random order. Batch b of the
 * epoch is the rows at positions b * batch ... of that order (the last may
 * be smaller), read sorted by row so that the reads go forward through the
 * files. The trainer counts its epoch and batch: a later call (after a
 * cancellation, or on a trainer loaded from a checkpoint) continues from
 * there, and the same data and settings give the same weights as a run
 * that never stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/npy.h"
#include "sae_train/trainer.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void log_step(FILE *log, const subsel_sae_trainer *t)
{
    const double *l = t->losses;
    fprintf(log,
            "{\"step\": %lld, \"epoch\": %lld, \"rows\": %lld, \"total\": "
            "%.9g, \"recons\": %.9g, \"mono\": %.9g, \"act\": %.9g, \"aux\": "
            "%.9g, \"mono_used\": %s, \"dead\": %lld}\n",
            (long long)t->step, (long long)t->epoch, (long long)t->rows_seen,
            l[SS_LOSS_TOTAL], l[SS_LOSS_RECONS], l[SS_LOSS_MONO],
            l[SS_LOSS_ACT], l[SS_LOSS_AUX], t->mono_skipped ? "false" : "true",
            (long long)t->dead);
}

/* Means of the losses over the steps of one epoch this call ran. */
static void log_epoch(FILE *log, const subsel_sae_trainer *t,
                      const double *sums, int64_t steps)
{
    double n = steps > 0 ? (double)steps : 1.0;
    fprintf(log,
            "{\"epoch_end\": %lld, \"steps\": %lld, \"total\": %.9g, "
            "\"recons\": %.9g, \"mono\": %.9g, \"act\": %.9g, \"aux\": "
            "%.9g, \"dead\": %lld}\n",
            (long long)t->epoch, (long long)steps, sums[SS_LOSS_TOTAL] / n,
            sums[SS_LOSS_RECONS] / n, sums[SS_LOSS_MONO] / n,
            sums[SS_LOSS_ACT] / n, sums[SS_LOSS_AUX] / n, (long long)t->dead);
}

static int log_flush(subsel_ctx *ctx, FILE *log, const char *path)
{
    if (log != NULL && (fflush(log) != 0 || ferror(log)))
        return ss_fail(ctx, SUBSEL_E_IO, "%s: the log cannot be written",
                       path);
    return SUBSEL_OK;
}

int subsel_sae_trainer_fit(subsel_ctx *ctx, subsel_sae_trainer *t,
                           const char *const *paths, int64_t count,
                           int64_t epochs, const char *checkpoint_dir,
                           const char *log_path)
{
    ss_npy_rows *data = NULL;
    FILE *log = NULL;
    int64_t *ids = NULL;
    float *x = NULL;
    int64_t n, d, batch, per_epoch, total, start, i;
    double sums[SS_LOSS_COUNT];
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, t, SS_KIND_SAE_TRAINER);
    SS_REQUIRE_NONNULL(ctx, paths);
    if (epochs < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_fit: epochs = %lld is negative",
                       (long long)epochs);
    rc = ss_npy_rows_open(ctx, paths, count, &data);
    if (rc < 0)
        return ss_fail_prefix(ctx, rc, "subsel_sae_trainer_fit");
    n = ss_npy_rows_count(data);
    d = ss_npy_rows_cols(data);
    if (d != t->inputs)
        SS_TRY(ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_fit: the inputs have %lld columns "
                       "but the autoencoder takes %lld",
                       (long long)d, (long long)t->inputs));
    if (t->epoch_batch > 0 && t->data_rows != n)
        SS_TRY(ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_fit: the trainer stopped in the "
                       "middle of an epoch over %lld rows; these inputs have "
                       "%lld (resume with the same files)",
                       (long long)t->data_rows, (long long)n));
    batch = t->batch < n ? t->batch : n;
    per_epoch = (n + batch - 1) / batch;
    if (epochs > INT64_MAX / n)
        SS_TRY(ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_fit: %lld epochs of %lld rows "
                       "overflow",
                       (long long)epochs, (long long)n));
    if (t->epoch_batch > per_epoch)
        SS_TRY(ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_fit: the trainer is at batch %lld "
                       "of an epoch of %lld batches (another batch size or "
                       "data set)",
                       (long long)t->epoch_batch, (long long)per_epoch));
    /* progress counts the rows of this call, from where the trainer is */
    start = t->epoch >= epochs
                ? epochs * n
                : t->epoch * n +
                      (t->epoch_batch * batch < n ? t->epoch_batch * batch : n);
    total = epochs * n - start;
    if (log_path != NULL) {
        log = fopen(log_path, "a");
        if (log == NULL)
            SS_TRY(ss_fail(ctx, SUBSEL_E_IO, "%s: %s", log_path,
                           strerror(errno)));
    }
    SS_TRY(ss_alloc_array(ctx, batch, sizeof *ids, &ids));
    SS_TRY(ss_alloc_array(ctx, batch * d, sizeof *x, &x));
    t->data_rows = n;

    SS_TRY(ss_progress(ctx, "train", 0, total));
    while (t->epoch < epochs) {
        ss_perm perm;
        int64_t steps = 0;
        ss_perm_init(&perm, (uint64_t)n, (uint64_t)t->seed,
                     SS_SAE_STREAM_EPOCH + (uint64_t)t->epoch);
        memset(sums, 0, sizeof sums);
        while (t->epoch_batch < per_epoch) {
            int64_t r0 = t->epoch_batch * batch;
            int64_t nb = n - r0 < batch ? n - r0 : batch;
            for (i = 0; i < nb; i++)
                ids[i] = (int64_t)ss_perm_at(&perm, (uint64_t)(r0 + i));
            qsort(ids, (size_t)nb, sizeof *ids, cmp_i64);
            SS_TRY(ss_npy_rows_read(ctx, data, ids, nb, x));
            SS_TRY(ss_sae_train_step(ctx, t, x, d, nb, ids, NULL));
            t->epoch_batch++;
            steps++;
            for (i = 0; i < SS_LOSS_COUNT; i++)
                sums[i] += t->losses[i];
            if (log != NULL)
                log_step(log, t);
            if (checkpoint_dir != NULL && t->checkpoint_steps > 0 &&
                t->step % t->checkpoint_steps == 0 &&
                t->epoch_batch < per_epoch)
                SS_TRY(subsel_sae_trainer_save(ctx, t, checkpoint_dir));
            /* last: a cancellation here leaves the step logged and saved */
            SS_TRY(ss_progress(ctx, "train", t->epoch * n + r0 + nb - start,
                               total));
        }
        t->epoch++;
        t->epoch_batch = 0;
        if (log != NULL)
            log_epoch(log, t, sums, steps);
        SS_TRY(log_flush(ctx, log, log_path));
        if (checkpoint_dir != NULL)
            SS_TRY(subsel_sae_trainer_save(ctx, t, checkpoint_dir));
    }
cleanup:
    if (log != NULL) {
        int bad = fclose(log) != 0;
        if (bad && rc == SUBSEL_OK)
            rc = ss_fail(ctx, SUBSEL_E_IO, "%s: the log cannot be written",
                         log_path);
    }
    ss_free(ctx, ids);
    ss_free(ctx, x);
    ss_npy_rows_close(ctx, data);
    return rc;
}
