/* SPDX-License-Identifier: MIT */
/*
 * Example: train a monotone TopK sparse autoencoder on embeddings in .npy
 * files, printing the losses of each epoch; save it where `subsel encode`
 * and subsel_sae_load() find it; then encode the first file and print the
 * MS / MT scores of the latents.
 *
 *   cc sae_train.c $(pkg-config --cflags --libs subsel) -o sae_train
 *   ./sae_train OUT_DIR LATENTS K EPOCHS X.npy [MORE.npy ...]
 */
#include <stdio.h>
#include <stdlib.h>

#include <subsel.h>

static int fail(subsel_ctx *ctx, int rc, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", what, subsel_status_string(rc),
            subsel_ctx_last_error(ctx));
    return 1;
}

int main(int argc, char **argv)
{
    subsel_ctx *ctx = NULL;
    subsel_sae_trainer *t = NULL;
    subsel_sae *sae = NULL;
    subsel_dense *x = NULL;
    subsel_csr *z = NULL;
    double loss[SUBSEL_SAE_LOSSES], ms, mt;
    int64_t latents, k, epochs, cols, rows, e, ms_n, mt_n;
    int rc, status = 1;

    if (argc < 6 || (latents = strtoll(argv[2], NULL, 10)) < 1 ||
        (k = strtoll(argv[3], NULL, 10)) < 1 || (epochs = strtoll(argv[4], NULL, 10)) < 1) {
        fprintf(stderr, "usage: %s OUT_DIR LATENTS K EPOCHS X.npy [MORE.npy ...]\n", argv[0]);
        return 2;
    }
    if (subsel_ctx_create(&ctx) != SUBSEL_OK)
        return 1;
    /* the width of the embeddings, from the first file's header */
    if ((rc = subsel_dense_npy_shape(ctx, argv[5], &rows, &cols)) != SUBSEL_OK ||
        (rc = subsel_sae_trainer_create(ctx, cols, latents, &t)) != SUBSEL_OK ||
        (rc = subsel_param_set_int(ctx, t, SUBSEL_P_SAE_K, k)) != SUBSEL_OK ||
        (rc = subsel_param_set_int(ctx, t, SUBSEL_P_SAE_BATCH, 256)) != SUBSEL_OK ||
        (rc = subsel_param_set_int(ctx, t, SUBSEL_P_SAE_SET_SIZE, 32)) != SUBSEL_OK ||
        (rc = subsel_param_set_real(ctx, t, SUBSEL_P_SAE_LR, 1e-3)) != SUBSEL_OK) {
        status = fail(ctx, rc, "setup");
        goto done;
    }
    /* one epoch per call, to print each epoch's losses (fit continues where
     * the trainer stopped; a single call with EPOCHS does the same work) */
    for (e = 1; e <= epochs; e++) {
        rc = subsel_sae_trainer_fit(ctx, t, (const char *const *)(argv + 5), argc - 5, e,
                                    argv[1], NULL);
        if (rc != SUBSEL_OK) {
            status = fail(ctx, rc, "training");
            goto done;
        }
        subsel_sae_trainer_losses(ctx, t, loss, SUBSEL_SAE_LOSSES);
        printf("epoch %lld: step %lld, loss %.5g (recons %.5g, mono %.5g), %lld dead latents\n",
               (long long)e, (long long)subsel_sae_trainer_steps(t), loss[SUBSEL_SAE_LOSS_TOTAL],
               loss[SUBSEL_SAE_LOSS_RECONS], loss[SUBSEL_SAE_LOSS_MONO],
               (long long)subsel_sae_trainer_dead(t));
    }
    /* the saved folder is an encoder: codes and scores of the first file */
    if ((rc = subsel_sae_load(ctx, argv[1], &sae)) != SUBSEL_OK ||
        (rc = subsel_dense_load_npy(ctx, argv[5], &x)) != SUBSEL_OK ||
        (rc = subsel_sae_encode(ctx, sae, x, k, &z)) != SUBSEL_OK ||
        (rc = subsel_sae_scores(ctx, x, z, &ms, &mt, &ms_n, &mt_n, NULL, 0, NULL, 0)) !=
            SUBSEL_OK) {
        status = fail(ctx, rc, "scoring");
        goto done;
    }
    printf("saved in %s; on %s: MS %.4f over %lld latents, MT %.4g over %lld latents\n",
           argv[1], argv[5], ms, (long long)ms_n, mt, (long long)mt_n);
    status = 0;
done:
    subsel_csr_free(z);
    subsel_dense_free(x);
    subsel_sae_free(sae);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
    return status;
}
