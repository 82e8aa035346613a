/* SPDX-License-Identifier: MIT */
/*
 * Example: encode dense embeddings into TopK sparse-autoencoder codes, print
 * the code of the first row and the five most active features, and save
 * the codes for SciPy (or for `subsel sdm`).
 *
 *   cc sae_encode.c $(pkg-config --cflags --libs subsel) -o sae_encode
 *   ./sae_encode SAE_DIR X.npy K [Z.npz]
 *
 * SAE_DIR holds W_enc.npy (features x inputs), b_enc.npy and b_dec.npy.
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
    subsel_sae *sae = NULL;
    subsel_dense *x = NULL;
    subsel_csr *z = NULL;
    double *sums = NULL;
    const int32_t *idx;
    const float *val;
    int64_t k, n, j, top;
    int rc, status = 1;

    if (argc < 4 || argc > 5 || (k = strtoll(argv[3], NULL, 10)) < 1) {
        fprintf(stderr, "usage: %s SAE_DIR X.npy K [Z.npz]\n", argv[0]);
        return 2;
    }
    if (subsel_ctx_create(&ctx) != SUBSEL_OK) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    if ((rc = subsel_sae_load(ctx, argv[1], &sae)) != SUBSEL_OK) {
        fail(ctx, rc, "loading the encoder");
        goto done;
    }
    if ((rc = subsel_dense_load_npy(ctx, argv[2], &x)) != SUBSEL_OK) {
        fail(ctx, rc, "loading the embeddings");
        goto done;
    }
    /* The codes: at most k positive activations per row, columns sorted. */
    if ((rc = subsel_sae_encode(ctx, sae, x, k, &z)) != SUBSEL_OK) {
        fail(ctx, rc, "encoding");
        goto done;
    }
    printf("%lld rows x %lld inputs -> %lld features, k = %lld: %lld nonzeros\n",
           (long long)subsel_dense_rows(x), (long long)subsel_sae_inputs(sae),
           (long long)subsel_sae_features(sae), (long long)k,
           (long long)subsel_csr_nnz(z));
    if (subsel_csr_rows(z) > 0 && subsel_csr_row(z, 0, &idx, &val, &n) == SUBSEL_OK) {
        printf("row 0:");
        for (j = 0; j < n; j++)
            printf(" %d:%.4f", idx[j], val[j]);
        printf("\n");
    }

    /* Feature usage over the whole set, as SDM's target distribution sees it. */
    sums = calloc((size_t)subsel_sae_features(sae), sizeof *sums);
    if (sums == NULL || subsel_csr_column_sums(ctx, z, sums) != SUBSEL_OK) {
        fprintf(stderr, "column sums failed\n");
        goto done;
    }
    printf("most active features:");
    for (top = 0; top < 5 && top < subsel_sae_features(sae); top++) {
        int64_t best = -1;
        for (j = 0; j < subsel_sae_features(sae); j++)
            if (sums[j] >= 0 && (best < 0 || sums[j] > sums[best]))
                best = j;
        printf(" %lld (%.3f)", (long long)best, sums[best]);
        sums[best] = -1; /* taken */
    }
    printf("\n");

    if (argc == 5 && (rc = subsel_csr_save_npz(ctx, z, argv[4], 1)) != SUBSEL_OK) {
        fail(ctx, rc, "saving the codes");
        goto done;
    }
    status = 0;
done:
    free(sums);
    subsel_csr_free(z);
    subsel_dense_free(x);
    subsel_sae_free(sae);
    subsel_ctx_free(ctx);
    return status;
}
