/* SPDX-License-Identifier: MIT */
/*
 * Example and real-data check: TAROT targeted selection on Fashion-MNIST
 * (Debian's dataset-fashion-mnist). The candidates are training images of
 * all ten classes; the target is a sample of test images of three classes
 * (sandal, sneaker, ankle boot). Pixels are projected to 128 dimensions
 * (seeded Rademacher), centred, whitened and normalised, and 10 % of the
 * pool is selected by TAROT's fixed-size rule, by its reference-compatible
 * mode and at random; OTM runs too. One JSON line per selection gives its
 * class mix, the total-variation distance to the target's class mix and
 * the OT distance to the target; the program exits nonzero unless both
 * TAROT selections are closer to the target's mix than random is.
 *
 *   tarot_fashion_mnist [DATA_DIR] [POOL_SIZE] [TARGET_SIZE]
 *
 * DATA_DIR defaults to /usr/share/datasets/fashion-mnist, POOL_SIZE to
 * 20000, TARGET_SIZE to 1000. Exit code 77 when the data is missing (a
 * skipped test).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <subsel.h>

#include "fashion_mnist.h"

#define PIXELS FASHION_MNIST_PIXELS
#define CLASSES FASHION_MNIST_CLASSES

static const int target_classes[] = {5, 7, 9};

static double report(const char *method, const unsigned char *labels, const int64_t *items,
                     int64_t count, double ot_distance, const double *target_mix)
{
    double mix[CLASSES];
    int c;
    fashion_mnist_class_mix(labels, items, count, mix);
    printf("{\"example\":\"tarot_fashion_mnist\",\"selection\":\"%s\",\"count\":%lld,"
           "\"tv_to_target\":%.4f,\"ot_distance\":%.5f,\"class_mix\":{",
           method, (long long)count, fashion_mnist_total_variation(mix, target_mix), ot_distance);
    for (c = 0; c < CLASSES; c++)
        printf("%s\"%s\":%.3f", c ? "," : "", fashion_mnist_classes[c], mix[c]);
    printf("}}\n");
    return fashion_mnist_total_variation(mix, target_mix);
}

static int check(subsel_ctx *ctx, int rc, const char *what)
{
    if (rc != SUBSEL_OK)
        fprintf(stderr, "tarot_fashion_mnist: %s: %s (%s)\n", what, subsel_status_string(rc),
                subsel_ctx_last_error(ctx));
    return rc != SUBSEL_OK;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : FASHION_MNIST_DIR;
    int64_t pool = argc > 2 ? atoll(argv[2]) : 20000;
    int64_t want = argc > 3 ? atoll(argv[3]) : 1000;
    int64_t ntrain, ntrain_labels, ntest, ntest_labels, m = 0, i, budget;
    unsigned char *train = fashion_mnist_read(dir, "train-images-idx3-ubyte.gz", 3, PIXELS, pool, &ntrain);
    unsigned char *train_y = fashion_mnist_read(dir, "train-labels-idx1-ubyte.gz", 1, 1, pool, &ntrain_labels);
    unsigned char *test = fashion_mnist_read(dir, "t10k-images-idx3-ubyte.gz", 3, PIXELS, 0, &ntest);
    unsigned char *test_y = fashion_mnist_read(dir, "t10k-labels-idx1-ubyte.gz", 1, 1, 0, &ntest_labels);
    float *xc = NULL, *xt = NULL;
    unsigned char *target_y = NULL;
    int64_t *random_items = NULL, *perm = NULL;
    double target_mix[CLASSES], tv_tarot, tv_ref, tv_random, loss;
    subsel_ctx *ctx = NULL;
    subsel_dense *cand = NULL, *targ = NULL;
    subsel_tarot *tarot = NULL;
    subsel_selection *fixed = NULL, *ref = NULL, *otm = NULL;
    int status = 1;

    if (train == NULL || train_y == NULL || test == NULL || test_y == NULL) {
        fprintf(stderr, "tarot_fashion_mnist: no Fashion-MNIST in %s "
                        "(apt-get install dataset-fashion-mnist)\n", dir);
        status = 77;
        goto done;
    }
    if (pool < 100 || pool > ntrain || ntrain_labels != ntrain || ntest_labels != ntest ||
        want < 10) {
        fprintf(stderr, "usage: %s [DATA_DIR] [POOL_SIZE 100..%lld] [TARGET_SIZE >= 10]\n",
                argv[0], (long long)ntrain);
        goto done;
    }
    /* Candidates: the first `pool` training images, every class. Target:
     * the first `want` test images of the target classes. */
    xc = malloc(sizeof *xc * (size_t)(pool * PIXELS));
    xt = malloc(sizeof *xt * (size_t)(want * PIXELS));
    target_y = malloc((size_t)want);
    if (xc == NULL || xt == NULL || target_y == NULL)
        goto done;
    for (i = 0; i < pool * PIXELS; i++)
        xc[i] = (float)train[i] / 255.0f;
    for (i = 0; i < ntest && m < want; i++) {
        size_t c;
        for (c = 0; c < sizeof target_classes / sizeof target_classes[0]; c++)
            if (test_y[i] == target_classes[c]) {
                int64_t p;
                for (p = 0; p < PIXELS; p++)
                    xt[m * PIXELS + p] = (float)test[i * PIXELS + p] / 255.0f;
                target_y[m++] = test_y[i];
            }
    }
    fashion_mnist_class_mix(target_y, NULL, m, target_mix);
    budget = pool / 10;

    if (subsel_ctx_create(&ctx) != SUBSEL_OK)
        goto done;
    if (check(ctx, subsel_dense_create(ctx, pool, PIXELS, xc, SUBSEL_OWN_BORROW, &cand), "candidates") ||
        check(ctx, subsel_dense_create(ctx, m, PIXELS, xt, SUBSEL_OWN_BORROW, &targ), "targets") ||
        check(ctx, subsel_tarot_create(ctx, cand, targ, &tarot), "create") ||
        check(ctx, subsel_tarot_set_int(tarot, SUBSEL_P_TAROT_PROJ_DIM, 128), "projection") ||
        check(ctx, subsel_tarot_select_fixed(ctx, tarot, budget, &fixed), "fixed-size") ||
        check(ctx, subsel_tarot_set_int(tarot, SUBSEL_P_TAROT_REFERENCE, 1), "option") ||
        check(ctx, subsel_tarot_select_fixed(ctx, tarot, budget, &ref), "reference") ||
        check(ctx, subsel_tarot_set_int(tarot, SUBSEL_P_TAROT_REFERENCE, 0), "option") ||
        check(ctx, subsel_tarot_select_otm(ctx, tarot, 5, NULL, &otm), "otm"))
        goto done;

    /* A seeded random selection of the same size (a shuffle's prefix). */
    random_items = malloc(sizeof *random_items * (size_t)budget);
    perm = malloc(sizeof *perm * (size_t)pool);
    if (random_items == NULL || perm == NULL)
        goto done;
    srand(1);
    for (i = 0; i < pool; i++)
        perm[i] = i;
    for (i = 0; i < budget; i++) {
        int64_t j = i + (int64_t)((double)rand() / ((double)RAND_MAX + 1.0) * (double)(pool - i));
        int64_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
        random_items[i] = perm[i];
    }
    if (check(ctx, subsel_tarot_ot(ctx, tarot, random_items, budget, NULL, NULL, &loss), "ot"))
        goto done;

    report("target", target_y, NULL, m, 0.0, target_mix);
    tv_tarot = report("tarot_fixed", train_y, subsel_selection_indices(fixed),
                      subsel_selection_count(fixed), subsel_selection_value(fixed), target_mix);
    tv_ref = report("tarot_fixed_reference", train_y, subsel_selection_indices(ref),
                    subsel_selection_count(ref), subsel_selection_value(ref), target_mix);
    report("tarot_otm", train_y, subsel_selection_indices(otm), subsel_selection_count(otm),
           subsel_selection_value(otm), target_mix);
    tv_random = report("random", train_y, random_items, budget, loss, target_mix);
    status = tv_tarot < tv_random && tv_ref < tv_random ? 0 : 1;
    if (status != 0)
        fprintf(stderr, "tarot_fashion_mnist: TAROT's class mix is not closer to the target "
                        "than random's\n");
done:
    subsel_selection_free(fixed);
    subsel_selection_free(ref);
    subsel_selection_free(otm);
    subsel_tarot_free(tarot);
    subsel_dense_free(cand);
    subsel_dense_free(targ);
    subsel_ctx_free(ctx);
    free(train);
    free(train_y);
    free(test);
    free(test_y);
    free(xc);
    free(xt);
    free(target_y);
    free(random_items);
    free(perm);
    return status;
}
