/* SPDX-License-Identifier: MIT */
/*
 * Example: UniPROT prototypes. Picks k rows of a source feature matrix
 * that, each carrying the same mass, cover a target set under partial
 * optimal transport; prints the prototypes, the paper's objective <S, G>
 * beside the entropic value f the greedy maximises, the 1-nearest-prototype
 * accuracy of the labelled targets and the same for the first k rows; then
 * the per-batch modes on the source itself: UniPROT-PB, and UniPROT-PS with
 * the source labels as the rows' data sources.
 *
 *   cc uniprot_prototypes.c $(pkg-config --cflags --libs subsel) -o uniprot_prototypes
 *   ./uniprot_prototypes DIR K   (DIR holds source.npy, target.npy,
 *                                 source_labels.npy, target_labels.npy)
 */
#include <stdio.h>
#include <stdlib.h>

#include <subsel.h>

static int64_t *labels(subsel_ctx *ctx, const char *dir, const char *name)
{
    char path[1024];
    int64_t count = 0, *v;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (subsel_npy_read_i64(ctx, path, NULL, 0, &count) != SUBSEL_OK)
        return NULL;
    v = malloc(sizeof *v * (size_t)(count > 0 ? count : 1));
    if (v && subsel_npy_read_i64(ctx, path, v, count, &count) != SUBSEL_OK) {
        free(v);
        v = NULL;
    }
    return v;
}

int main(int argc, char **argv)
{
    char path[1024];
    subsel_ctx *ctx = NULL;
    subsel_dense *src = NULL, *tgt = NULL;
    subsel_objective *obj = NULL;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL, *batch = NULL, *per_source = NULL;
    int64_t k, i, *ls = NULL, *lt = NULL, *first = NULL;
    double acc, acc_first, transport;
    int rc, status = 1;

    if (argc != 3 || (k = atoll(argv[2])) < 1) {
        fprintf(stderr, "usage: %s DIR K\n", argv[0]);
        return 2;
    }
    if (subsel_ctx_create(&ctx) != SUBSEL_OK)
        return 1;
    snprintf(path, sizeof path, "%s/source.npy", argv[1]);
    rc = subsel_dense_load_npy(ctx, path, &src);
    snprintf(path, sizeof path, "%s/target.npy", argv[1]);
    if (rc == SUBSEL_OK)
        rc = subsel_dense_load_npy(ctx, path, &tgt);
    ls = labels(ctx, argv[1], "source_labels.npy");
    lt = labels(ctx, argv[1], "target_labels.npy");
    if (rc != SUBSEL_OK || !ls || !lt) {
        fprintf(stderr, "loading %s: %s\n", argv[1], subsel_ctx_last_error(ctx));
        goto done;
    }
    /* Cosine similarities, reg 0.05; k prototypes, so the budget is k. */
    rc = subsel_uniprot_create_from_features(ctx, src, tgt, SUBSEL_SIM_COSINE, k, 0.05, &obj);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_NAIVE, &opt);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_set_int(opt, SUBSEL_P_BUDGET, k);
    if (rc == SUBSEL_OK) /* gains may be negative: never stop early */
        rc = subsel_optimizer_set_int(opt, SUBSEL_P_STOP_NONPOSITIVE, 0);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_run(ctx, opt, obj, &sel);
    if (rc != SUBSEL_OK) {
        fprintf(stderr, "uniprot: %s\n", subsel_ctx_last_error(ctx));
        goto done;
    }
    printf("prototypes:");
    for (i = 0; i < subsel_selection_count(sel); i++)
        printf(" %lld", (long long)subsel_selection_indices(sel)[i]);
    if (subsel_uniprot_transport_similarity(ctx, obj, subsel_selection_indices(sel),
                                            subsel_selection_count(sel), &transport,
                                            NULL) != SUBSEL_OK) {
        fprintf(stderr, "transport similarity: %s\n", subsel_ctx_last_error(ctx));
        goto done;
    }
    printf("\n<S, G> = %.6f (the paper's f), entropic f = %.6f\n", transport,
           subsel_selection_value(sel));

    first = malloc(sizeof *first * (size_t)k);
    for (i = 0; first && i < k; i++)
        first[i] = i;
    if (!first ||
        subsel_nn_accuracy(ctx, src, ls, subsel_selection_indices(sel), k, tgt, lt,
                           SUBSEL_SIM_COSINE, &acc) != SUBSEL_OK ||
        subsel_nn_accuracy(ctx, src, ls, first, k, tgt, lt, SUBSEL_SIM_COSINE,
                           &acc_first) != SUBSEL_OK) {
        fprintf(stderr, "accuracy: %s\n", subsel_ctx_last_error(ctx));
        goto done;
    }
    printf("1-NN accuracy of the targets: %.3f (first %lld rows: %.3f)\n", acc,
           (long long)k, acc_first);

    /* Per-batch mode: a quarter of the source as its own prototypes. */
    if (subsel_uniprot_select_batch(ctx, src, 0.25, 0.05, SUBSEL_SIM_COSINE, &batch) != SUBSEL_OK) {
        fprintf(stderr, "batch: %s\n", subsel_ctx_last_error(ctx));
        goto done;
    }
    printf("per-batch: %lld of %lld rows, appended-plan value %.6f\n",
           (long long)subsel_selection_count(batch), (long long)subsel_dense_rows(src),
           subsel_selection_value(batch));
    /* Per source (the labels stand for data sources), solved as the paper. */
    if (subsel_uniprot_select_batch_v2(ctx, src, ls, 0.25, 0.05, SUBSEL_SIM_COSINE,
                                       SUBSEL_UNIPROT_UPDATE_SOLVE, &per_source) != SUBSEL_OK) {
        fprintf(stderr, "per source: %s\n", subsel_ctx_last_error(ctx));
        goto done;
    }
    printf("per-source: %lld of %lld rows, f summed over the sources %.6f\n",
           (long long)subsel_selection_count(per_source), (long long)subsel_dense_rows(src),
           subsel_selection_value(per_source));
    status = 0;
done:
    subsel_selection_free(sel);
    subsel_selection_free(batch);
    subsel_selection_free(per_source);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    subsel_dense_free(src);
    subsel_dense_free(tgt);
    subsel_ctx_free(ctx);
    free(ls), free(lt), free(first);
    return status;
}
