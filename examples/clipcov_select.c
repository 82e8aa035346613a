/* SPDX-License-Identifier: MIT */
/*
 * Example: choose K image-caption pairs with ClipCov from the embeddings of
 * a proxy CLIP model, classes assigned zero-shot from the label embeddings;
 * greedy as ClipCov recommends, then the double greedy filter. Prints how
 * many pairs each latent class gets and the objective before and after the
 * filter.
 *
 *   clipcov_select DIR [K]     (DIR holds image.npy, text.npy, label_emb.npy)
 */
#include <stdio.h>
#include <stdlib.h>

#include <subsel.h>

int main(int argc, char **argv)
{
    subsel_ctx *ctx = NULL;
    subsel_dense *image = NULL, *text = NULL, *emb = NULL;
    subsel_objective *f = NULL;
    subsel_optimizer *greedy = NULL;
    subsel_selection *sel = NULL, *before = NULL;
    int64_t k = argc > 2 ? atoll(argv[2]) : 50, *classes = NULL, *count = NULL, i;
    char path[4096];
    int rc;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [K]\n", argv[0]);
        return 2;
    }
    if (subsel_ctx_create(&ctx) != SUBSEL_OK)
        return 1;
    /* every call below can fail; the first failure skips the rest */
    snprintf(path, sizeof path, "%s/image.npy", argv[1]);
    rc = subsel_dense_load_npy(ctx, path, &image);
    snprintf(path, sizeof path, "%s/text.npy", argv[1]);
    if (rc == SUBSEL_OK)
        rc = subsel_dense_load_npy(ctx, path, &text);
    snprintf(path, sizeof path, "%s/label_emb.npy", argv[1]);
    if (rc == SUBSEL_OK)
        rc = subsel_dense_load_npy(ctx, path, &emb);
    /* labels NULL: zero-shot classes; normalise every embedding */
    if (rc == SUBSEL_OK)
        rc = subsel_clipcov_create(ctx, image, text, emb, NULL, 1, &f);
    if (rc == SUBSEL_OK)
        rc = subsel_clipcov_optimizer(ctx, f, k, &greedy);
    if (rc == SUBSEL_OK)
        rc = subsel_clipcov_select(ctx, f, greedy, SUBSEL_CLIPCOV_FILTER_DETERMINISTIC,
                                   &sel, &before);
    if (rc == SUBSEL_OK) {
        int64_t n = subsel_objective_size(f), K = subsel_clipcov_class_count(f);
        classes = malloc(sizeof *classes * (size_t)n);
        count = calloc((size_t)K, sizeof *count);
        rc = classes && count ? subsel_clipcov_classes(ctx, f, classes, n) : SUBSEL_E_NOMEM;
        if (rc == SUBSEL_OK) {
            for (i = 0; i < subsel_selection_count(sel); i++)
                count[classes[subsel_selection_indices(sel)[i]]]++;
            for (i = 0; i < K; i++)
                printf("class %lld: %lld pairs\n", (long long)i, (long long)count[i]);
            printf("greedy: %lld pairs, F = %.6f; after the filter: %lld pairs, F = %.6f\n",
                   (long long)subsel_selection_count(before), subsel_selection_value(before),
                   (long long)subsel_selection_count(sel), subsel_selection_value(sel));
        }
    }
    if (rc != SUBSEL_OK)
        fprintf(stderr, "%s: %s\n", subsel_status_string(rc), subsel_ctx_last_error(ctx));
    free(classes);
    free(count);
    subsel_selection_free(sel);
    subsel_selection_free(before);
    subsel_optimizer_free(greedy);
    subsel_objective_free(f);
    subsel_dense_free(image);
    subsel_dense_free(text);
    subsel_dense_free(emb);
    subsel_ctx_free(ctx);
    return rc == SUBSEL_OK ? 0 : 1;
}
