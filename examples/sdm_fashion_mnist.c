/* SPDX-License-Identifier: MIT */
/*
 * Example and demo: SDM on real images. Fashion-MNIST (Debian's
 * dataset-fashion-mnist) training images are the pool; a class-skewed sample
 * of the test images is the target. Images are encoded into sparse
 * nonnegative codes by a TopK encoder whose dictionary is a random sample of
 * centred, normalised training images (each code says which exemplars an
 * image resembles), SDM selects a subset of the pool whose code distribution
 * matches the target's (image contrast as quality), and the program prints
 * KL and the class mix of the selection against a random selection of the
 * same size. KL is +inf when a target concept is left uncovered (SDM trades
 * the rarest concepts for quality and for the mass of common ones), so the
 * program also prints how many target concepts each selection misses and
 * the total-variation distance between class mixes, and exits nonzero
 * unless SDM's class mix is closer to the target's than random's.
 *
 *   sdm_fashion_mnist [DATA_DIR] [POOL_SIZE] [BUDGET]
 *
 * DATA_DIR defaults to /usr/share/datasets/fashion-mnist. Exit code 77 when
 * the data is missing (a skipped test).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <subsel.h>

#include "fashion_mnist.h"

#define PIXELS FASHION_MNIST_PIXELS
#define CLASSES FASHION_MNIST_CLASSES
#define DICTIONARY 256
#define CODE_K 16

/* The target leans heavily on footwear and bags. */
static const double target_mix[CLASSES] = {0.02, 0.02, 0.02, 0.02, 0.02, 0.25, 0.02, 0.25, 0.13, 0.25};

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void check(subsel_ctx *ctx, int rc, const char *what)
{
    if (rc != SUBSEL_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, subsel_status_string(rc), subsel_ctx_last_error(ctx));
        exit(1);
    }
}

/* Prints the class mix of `items`, and returns it in mix[]. */
static void print_mix(const char *label, const unsigned char *labels, const int64_t *items,
                      int64_t count, double *mix)
{
    int c;
    fashion_mnist_class_mix(labels, items, count, mix);
    printf("  %-10s", label);
    for (c = 0; c < CLASSES; c++)
        printf(" %7.1f%%", 100.0 * mix[c]);
    printf("\n");
}

/* Columns with target mass that no row of `items` touches. */
static int64_t uncovered(subsel_ctx *ctx, const subsel_csr *codes, const subsel_csr *target, const int64_t *items,
                         int64_t count)
{
    int64_t d = subsel_csr_cols(codes), i, k, n = 0;
    double *want = calloc((size_t)d, sizeof *want);
    unsigned char *got = calloc((size_t)d, 1);
    subsel_csr_column_sums(ctx, target, want);
    for (i = 0; i < count; i++) {
        const int32_t *cols;
        const float *vals;
        int64_t nnz;
        subsel_csr_row(codes, items[i], &cols, &vals, &nnz);
        for (k = 0; k < nnz; k++)
            got[cols[k]] = 1;
    }
    for (k = 0; k < d; k++)
        n += want[k] > 0 && !got[k];
    free(want);
    free(got);
    return n;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : FASHION_MNIST_DIR;
    int64_t pool = argc > 2 ? atoll(argv[2]) : 60000;
    int64_t budget = argc > 3 ? atoll(argv[3]) : 3000;
    int64_t n_train, n_test, n_train_labels, n_test_labels, i, c, n_target = 0;
    unsigned char *train_px, *test_px, *train_y, *test_y;
    float *train, *test, *dict, *b_dec, *b_enc, *target_x;
    int64_t *target_rows, *random_rows, *all_rows;
    double *quality, kl_sdm, kl_random, mix_target[CLASSES], mix_sdm[CLASSES], mix_random[CLASSES];
    subsel_ctx *ctx;
    subsel_dense *w_enc, *x_pool, *x_target;
    subsel_sae *sae;
    subsel_csr *codes, *target_codes;
    subsel_objective *sdm;
    subsel_optimizer *opt;
    subsel_selection *sel;

    train_px = fashion_mnist_read(dir, "train-images-idx3-ubyte.gz", 3, PIXELS, &n_train);
    test_px = fashion_mnist_read(dir, "t10k-images-idx3-ubyte.gz", 3, PIXELS, &n_test);
    train_y = fashion_mnist_read(dir, "train-labels-idx1-ubyte.gz", 1, 1, &n_train_labels);
    test_y = fashion_mnist_read(dir, "t10k-labels-idx1-ubyte.gz", 1, 1, &n_test_labels);
    if (!train_px || !test_px || !train_y || !test_y) {
        fprintf(stderr, "Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist)\n", dir);
        return 77;
    }
    if (pool > n_train)
        pool = n_train;
    if (budget > pool)
        budget = pool;
    train = fashion_mnist_floats(train_px, pool);
    test = fashion_mnist_floats(test_px, n_test);

    /* The target: test images drawn with the skewed class mix. */
    target_rows = malloc(sizeof *target_rows * (size_t)n_test);
    for (i = 0; i < n_test; i++)
        if ((double)(next_random() % 1000000) / 1e6 < target_mix[test_y[i]] * 4)
            target_rows[n_target++] = i;
    target_x = malloc(sizeof *target_x * (size_t)(n_target * PIXELS));
    for (i = 0; i < n_target; i++)
        memcpy(target_x + i * PIXELS, test + target_rows[i] * PIXELS, sizeof(float) * PIXELS);

    /* Encoder: b_dec = mean image; dictionary rows = unit-norm centred
     * random training images; b_enc = 0. */
    b_dec = calloc(PIXELS, sizeof *b_dec);
    b_enc = calloc(DICTIONARY, sizeof *b_enc);
    dict = malloc(sizeof *dict * DICTIONARY * PIXELS);
    for (i = 0; i < pool; i++)
        for (c = 0; c < PIXELS; c++)
            b_dec[c] += train[i * PIXELS + c] / (float)pool;
    for (i = 0; i < DICTIONARY; i++) {
        int64_t r = (int64_t)(next_random() % (uint64_t)pool);
        double norm = 0;
        for (c = 0; c < PIXELS; c++) {
            dict[i * PIXELS + c] = train[r * PIXELS + c] - b_dec[c];
            norm += dict[i * PIXELS + c] * dict[i * PIXELS + c];
        }
        for (c = 0; c < PIXELS; c++)
            dict[i * PIXELS + c] /= (float)sqrt(norm + 1e-12);
    }

    check(NULL, subsel_ctx_create(&ctx), "context");
    check(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_SEED, 1), "seed");
    check(ctx, subsel_dense_create(ctx, DICTIONARY, PIXELS, dict, SUBSEL_OWN_BORROW, &w_enc), "W_enc");
    check(ctx, subsel_sae_create(ctx, w_enc, b_enc, b_dec, &sae), "encoder");
    check(ctx, subsel_dense_create(ctx, pool, PIXELS, train, SUBSEL_OWN_BORROW, &x_pool), "pool");
    check(ctx, subsel_dense_create(ctx, n_target, PIXELS, target_x, SUBSEL_OWN_BORROW, &x_target), "target");
    check(ctx, subsel_sae_encode(ctx, sae, x_pool, CODE_K, &codes), "encode pool");
    check(ctx, subsel_sae_encode(ctx, sae, x_target, CODE_K, &target_codes), "encode target");

    /* Quality: image contrast (the standard deviation of the pixels). */
    quality = malloc(sizeof *quality * (size_t)pool);
    for (i = 0; i < pool; i++) {
        double s = 0, s2 = 0;
        for (c = 0; c < PIXELS; c++) {
            s += train[i * PIXELS + c];
            s2 += train[i * PIXELS + c] * train[i * PIXELS + c];
        }
        quality[i] = sqrt(s2 / PIXELS - (s / PIXELS) * (s / PIXELS));
    }

    check(ctx, subsel_sdm_create(ctx, codes, &sdm), "SDM");
    check(ctx, subsel_sdm_set_target(ctx, sdm, target_codes), "target distribution");
    check(ctx, subsel_sdm_set_quality(ctx, sdm, quality, pool, 3), "quality");
    check(ctx, subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_LAZIER, &opt), "optimizer");
    check(ctx, subsel_optimizer_set_int(opt, SUBSEL_P_BUDGET, budget), "budget");
    check(ctx, subsel_optimizer_run(ctx, opt, sdm, &sel), "selection");

    random_rows = malloc(sizeof *random_rows * (size_t)budget);
    all_rows = malloc(sizeof *all_rows * (size_t)pool);
    for (i = 0; i < pool; i++)
        all_rows[i] = i;
    for (i = 0; i < budget; i++) { /* partial Fisher-Yates */
        int64_t r = i + (int64_t)(next_random() % (uint64_t)(pool - i)), t = all_rows[i];
        all_rows[i] = all_rows[r];
        all_rows[r] = t;
        random_rows[i] = all_rows[i];
    }
    check(ctx, subsel_sdm_kl(ctx, sdm, subsel_selection_indices(sel), subsel_selection_count(sel), &kl_sdm), "KL");
    check(ctx, subsel_sdm_kl(ctx, sdm, random_rows, budget, &kl_random), "KL");

    printf("SDM on Fashion-MNIST: pool %lld training images, target %lld test images, "
           "codes %d of %d, budget %lld\n", (long long)pool, (long long)n_target, CODE_K,
           DICTIONARY, (long long)budget);
    printf("  %s\n", subsel_build_info());
    printf("  KL(target || selection): SDM %.4f, random %.4f\n", kl_sdm, kl_random);
    printf("  target concepts left uncovered: SDM %lld, random %lld\n",
           (long long)uncovered(ctx, codes, target_codes, subsel_selection_indices(sel),
                                subsel_selection_count(sel)),
           (long long)uncovered(ctx, codes, target_codes, random_rows, budget));
    printf("  class mix   ");
    for (c = 0; c < CLASSES; c++)
        printf(" %8s", fashion_mnist_classes[c]);
    printf("\n");
    print_mix("target", test_y, target_rows, n_target, mix_target);
    print_mix("SDM", train_y, subsel_selection_indices(sel), subsel_selection_count(sel), mix_sdm);
    print_mix("random", train_y, random_rows, budget, mix_random);
    printf("  class-mix distance to the target (total variation): SDM %.3f, random %.3f\n",
           fashion_mnist_total_variation(mix_sdm, mix_target), fashion_mnist_total_variation(mix_random, mix_target));

    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(sdm);
    subsel_csr_free(codes);
    subsel_csr_free(target_codes);
    subsel_dense_free(x_pool);
    subsel_dense_free(x_target);
    subsel_sae_free(sae);
    subsel_dense_free(w_enc);
    subsel_ctx_free(ctx);
    free(train_px); free(test_px); free(train_y); free(test_y); free(train); free(test);
    free(dict); free(b_dec); free(b_enc); free(target_x); free(target_rows); free(random_rows);
    free(all_rows); free(quality);
    return fashion_mnist_total_variation(mix_sdm, mix_target) < fashion_mnist_total_variation(mix_random, mix_target) ? 0 : 1;
}
