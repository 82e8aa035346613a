/* SPDX-License-Identifier: MIT */
/*
 * Example: TAROT targeted selection from two .npy feature matrices. Whitens
 * the candidates and targets, prints each target's three nearest candidates
 * in whitened space (the first few targets), selects a fixed fraction of the
 * candidates and the OTM set, and prints the selections with their OT
 * distance to the targets and integer repetition weights.
 *
 *   cc tarot_select.c $(pkg-config --cflags --libs subsel) -o tarot_select
 *   ./tarot_select candidates.npy targets.npy [RATIO]
 */
#include <stdio.h>
#include <stdlib.h>

#include <subsel.h>

/* The selection's gains are its items' potentials in OT(selection,
 * targets), its value that OT distance. */
static void print_selection(const char *name, const subsel_selection *sel)
{
    int64_t count = subsel_selection_count(sel), i;
    printf("%s: %lld candidates, OT distance to the targets %.6f\n  ", name, (long long)count,
           subsel_selection_value(sel));
    for (i = 0; i < count; i++)
        printf("%lld%s", (long long)subsel_selection_indices(sel)[i], i + 1 < count ? " " : "\n");
}

int main(int argc, char **argv)
{
    subsel_ctx *ctx = NULL;
    subsel_dense *cand = NULL, *targ = NULL;
    subsel_tarot *tarot = NULL;
    subsel_selection *fixed = NULL, *otm = NULL;
    int64_t n, m, k = 3, j, r, *nn = NULL, *w = NULL;
    float *score = NULL;
    double ratio = argc > 3 ? atof(argv[3]) : 0.2;
    int rc, status = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: %s CANDIDATES.npy TARGETS.npy [RATIO]\n", argv[0]);
        return 2;
    }
    if (subsel_ctx_create(&ctx) != SUBSEL_OK)
        return 1;
    if ((rc = subsel_dense_load_npy(ctx, argv[1], &cand)) != SUBSEL_OK ||
        (rc = subsel_dense_load_npy(ctx, argv[2], &targ)) != SUBSEL_OK ||
        (rc = subsel_tarot_create(ctx, cand, targ, &tarot)) != SUBSEL_OK)
        goto fail;
    n = subsel_dense_rows(cand);
    m = subsel_dense_rows(targ);

    /* Options: the defaults are the paper's (Cholesky whitening with joint
     * centring and eps 1e-5, OT blur 0.01 and scaling 0.5). */
    nn = malloc(sizeof *nn * (size_t)(m * k));
    score = malloc(sizeof *score * (size_t)(m * k));
    if (nn == NULL || score == NULL || k > n)
        goto fail;
    if ((rc = subsel_tarot_topk(ctx, tarot, k, nn, score)) != SUBSEL_OK)
        goto fail;
    for (j = 0; j < m && j < 3; j++) {
        printf("target %lld: nearest candidates", (long long)j);
        for (r = 0; r < k; r++)
            printf(" %lld (cos %.3f)", (long long)nn[j * k + r], score[j * k + r]);
        printf("\n");
    }

    if ((rc = subsel_tarot_select_fixed(ctx, tarot, (int64_t)(ratio * (double)n), &fixed)) != SUBSEL_OK ||
        (rc = subsel_tarot_select_otm(ctx, tarot, m >= 5 ? 5 : 2, NULL, &otm)) != SUBSEL_OK)
        goto fail;
    print_selection("fixed-size", fixed);
    print_selection("OTM", otm);

    /* Repetition weights for the OTM set, summing to N + M as in the paper. */
    w = malloc(sizeof *w * (size_t)(subsel_selection_count(otm) + 1));
    if (w == NULL)
        goto fail;
    if ((rc = subsel_tarot_weights(ctx, subsel_selection_gains(otm), subsel_selection_count(otm),
                                   n + m, w)) != SUBSEL_OK)
        goto fail;
    printf("OTM weights (sum %lld):", (long long)(n + m));
    for (j = 0; j < subsel_selection_count(otm) && j < 10; j++)
        printf(" %lld", (long long)w[j]);
    printf("%s\n", subsel_selection_count(otm) > 10 ? " ..." : "");
    status = 0;
    goto done;
fail:
    fprintf(stderr, "tarot_select: %s\n", subsel_ctx_last_error(ctx));
done:
    free(nn);
    free(score);
    free(w);
    subsel_selection_free(fixed);
    subsel_selection_free(otm);
    subsel_tarot_free(tarot);
    subsel_dense_free(cand);
    subsel_dense_free(targ);
    subsel_ctx_free(ctx);
    return status;
}
