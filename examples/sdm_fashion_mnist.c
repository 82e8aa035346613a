/* SPDX-License-Identifier: MIT */
/*
 * Example and demo: SDM on real images. Fashion-MNIST (Debian's
 * dataset-fashion-mnist) training images are the pool; a class-skewed sample
 * of the test images is the target. As in the paper, a TopK sparse
 * autoencoder with the monotonicity loss is trained on the pool
 * (subsel_sae_trainer; images as pixels / 255 scaled to unit norm, as
 * examples/sae_mono_fashion_mnist.c explains) and encodes pool and target
 * into sparse nonnegative codes (subsel_sae_encode); SDM selects a subset
 * of the pool whose code distribution matches the target's (image contrast
 * as quality), and the program prints
 * KL and the class mix of the selection against a random selection of the
 * same size. KL is +inf when a target concept is left uncovered (SDM trades
 * the rarest concepts for quality and for the mass of common ones), so the
 * program also prints how many target concepts each selection misses and
 * the total-variation distance between class mixes, and exits nonzero
 * unless SDM's class mix is closer to the target's than random's.
 *
 *   sdm_fashion_mnist [DATA_DIR] [POOL_SIZE] [BUDGET] [SAE_STEPS] [--save DIR]
 *
 * DATA_DIR defaults to /usr/share/datasets/fashion-mnist. With --save, the
 * rows behind the table go to DIR as .npy files for a picture
 * (examples/sdm_fashion_mnist_png.py draws the one of `./run demo`):
 * target_rows.npy (test images), sdm_rows.npy and random_rows.npy
 * (training images), kl.npy (SDM's KL, then random's). Exit code 77 when
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
/* The SAE: latents, codes per image, and its training (a fixed number of
 * steps, so the time does not grow with the pool; about 3 epochs of the
 * test's 12,000-image pool, one of the full 60,000). */
#define FEATURES 512
#define CODE_K 16
#define TRAIN_BATCH 256
#define TRAIN_STEPS 240
#define L_MONO 0.002

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

/* A copy of the rows, each scaled to unit norm. */
static float *unit_rows(const float *x, int64_t rows)
{
    float *u = malloc(sizeof *u * (size_t)(rows * PIXELS));
    if (u == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memcpy(u, x, sizeof *u * (size_t)(rows * PIXELS));
    fashion_mnist_unit_rows(u, rows);
    return u;
}

/* Trains the SAE on the rows of x: TRAIN_STEPS batches of TRAIN_BATCH rows
 * taken in a seeded random order, reshuffled at each pass over the pool. */
static subsel_sae *train_sae(subsel_ctx *ctx, const float *x, int64_t rows, int64_t steps)
{
    subsel_sae_trainer *t;
    subsel_dense *batch;
    subsel_sae *sae;
    int64_t *order = malloc(sizeof *order * (size_t)rows), batch_rows = rows < TRAIN_BATCH ? rows : TRAIN_BATCH;
    float *buf = malloc(sizeof *buf * (size_t)(batch_rows * PIXELS));
    double losses[SUBSEL_SAE_LOSSES];
    int64_t step, i, next = rows;
    if (order == NULL || buf == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (i = 0; i < rows; i++)
        order[i] = i;
    check(ctx, subsel_sae_trainer_create(ctx, PIXELS, FEATURES, &t), "SAE trainer");
    check(ctx, subsel_param_set_int(ctx, t, SUBSEL_P_SAE_K, CODE_K), "k");
    check(ctx, subsel_param_set_int(ctx, t, SUBSEL_P_SAE_SET_SIZE, 64), "set_size");
    check(ctx, subsel_param_set_int(ctx, t, SUBSEL_P_SAE_RESERVOIR, 8192), "reservoir");
    check(ctx, subsel_param_set_real(ctx, t, SUBSEL_P_SAE_LR, 1e-3), "lr");
    check(ctx, subsel_param_set_real(ctx, t, SUBSEL_P_SAE_L_MONO, L_MONO), "l_mono");
    for (step = 0; step < steps; step++) {
        for (i = 0; i < batch_rows; i++) {
            if (next == rows) { /* a new pass: reshuffle (Fisher-Yates) */
                int64_t j, r, tmp;
                for (j = rows - 1; j > 0; j--) {
                    r = (int64_t)(next_random() % (uint64_t)(j + 1));
                    tmp = order[j];
                    order[j] = order[r];
                    order[r] = tmp;
                }
                next = 0;
            }
            memcpy(buf + i * PIXELS, x + order[next++] * PIXELS, sizeof(float) * PIXELS);
        }
        check(ctx, subsel_dense_create(ctx, batch_rows, PIXELS, buf, SUBSEL_OWN_BORROW, &batch), "batch");
        check(ctx, subsel_sae_trainer_step(ctx, t, batch), "SAE step");
        subsel_dense_free(batch);
    }
    check(ctx, subsel_sae_trainer_losses(ctx, t, losses, SUBSEL_SAE_LOSSES), "losses");
    printf("  SAE: %d steps of %lld images, %d latents, k %d, l_mono %g: last step L_recons %.4f, "
           "L_mono %.1f\n", (int)steps, (long long)batch_rows, FEATURES, CODE_K, L_MONO,
           losses[SUBSEL_SAE_LOSS_RECONS], losses[SUBSEL_SAE_LOSS_MONO]);
    check(ctx, subsel_sae_trainer_encoder(ctx, t, &sae), "SAE encoder");
    subsel_sae_trainer_free(t);
    free(order);
    free(buf);
    return sae;
}

/* Writes what --save promises to dir (which must exist). */
static void save_rows(subsel_ctx *ctx, const char *dir, const int64_t *target_rows, int64_t n_target,
                      const subsel_selection *sel, const int64_t *random_rows, int64_t n_random,
                      double kl_sdm, double kl_random)
{
    char path[4096];
    const double kl[2] = {kl_sdm, kl_random};
    snprintf(path, sizeof path, "%s/target_rows.npy", dir);
    check(ctx, subsel_npy_write_i64(ctx, path, target_rows, n_target), "--save");
    snprintf(path, sizeof path, "%s/sdm_rows.npy", dir);
    check(ctx, subsel_selection_save_npy(ctx, sel, path), "--save");
    snprintf(path, sizeof path, "%s/random_rows.npy", dir);
    check(ctx, subsel_npy_write_i64(ctx, path, random_rows, n_random), "--save");
    snprintf(path, sizeof path, "%s/kl.npy", dir);
    check(ctx, subsel_npy_write_f64(ctx, path, kl, 2), "--save");
}

int main(int argc, char **argv)
{
    const char *save_dir = NULL;
    int arg, kept = 1;
    /* --save DIR may come anywhere; the rest are positional */
    for (arg = 1; arg < argc; arg++) {
        if (strcmp(argv[arg], "--save") == 0 && arg + 1 < argc)
            save_dir = argv[++arg];
        else
            argv[kept++] = argv[arg];
    }
    argc = kept;
    const char *dir = argc > 1 ? argv[1] : FASHION_MNIST_DIR;
    int64_t pool = argc > 2 ? atoll(argv[2]) : 60000;
    int64_t budget = argc > 3 ? atoll(argv[3]) : 3000;
    int64_t sae_steps = argc > 4 ? atoll(argv[4]) : TRAIN_STEPS;
    int64_t n_train, n_test, n_train_labels, n_test_labels, i, c, n_target = 0;
    unsigned char *train_px, *test_px, *train_y, *test_y;
    float *train, *test, *target_x, *unit_pool, *unit_target;
    int64_t *target_rows, *random_rows, *all_rows;
    double *quality, kl_sdm, kl_random, mix_target[CLASSES], mix_sdm[CLASSES], mix_random[CLASSES];
    subsel_ctx *ctx;
    subsel_dense *x_pool, *x_target;
    subsel_sae *sae;
    subsel_csr *codes, *target_codes;
    subsel_objective *sdm;
    subsel_optimizer *opt;
    subsel_selection *sel;

    train_px = fashion_mnist_read(dir, "train-images-idx3-ubyte.gz", 3, PIXELS, pool, &n_train);
    test_px = fashion_mnist_read(dir, "t10k-images-idx3-ubyte.gz", 3, PIXELS, 0, &n_test);
    train_y = fashion_mnist_read(dir, "train-labels-idx1-ubyte.gz", 1, 1, pool, &n_train_labels);
    test_y = fashion_mnist_read(dir, "t10k-labels-idx1-ubyte.gz", 1, 1, 0, &n_test_labels);
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

    check(NULL, subsel_ctx_create(&ctx), "context");
    check(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_SEED, 1), "seed");
    unit_pool = unit_rows(train, pool);
    unit_target = unit_rows(target_x, n_target);
    sae = train_sae(ctx, unit_pool, pool, sae_steps < 1 ? 1 : sae_steps);
    check(ctx, subsel_dense_create(ctx, pool, PIXELS, unit_pool, SUBSEL_OWN_BORROW, &x_pool), "pool");
    check(ctx, subsel_dense_create(ctx, n_target, PIXELS, unit_target, SUBSEL_OWN_BORROW, &x_target), "target");
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
           "codes %d of %d SAE latents, budget %lld\n", (long long)pool, (long long)n_target,
           CODE_K, FEATURES, (long long)budget);
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

    if (save_dir != NULL)
        save_rows(ctx, save_dir, target_rows, n_target, sel, random_rows, budget, kl_sdm, kl_random);

    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(sdm);
    subsel_csr_free(codes);
    subsel_csr_free(target_codes);
    subsel_dense_free(x_pool);
    subsel_dense_free(x_target);
    subsel_sae_free(sae);
    subsel_ctx_free(ctx);
    free(train_px); free(test_px); free(train_y); free(test_y); free(train); free(test);
    free(unit_pool); free(unit_target); free(target_x); free(target_rows); free(random_rows);
    free(all_rows); free(quality);
    return fashion_mnist_total_variation(mix_sdm, mix_target) < fashion_mnist_total_variation(mix_random, mix_target) ? 0 : 1;
}
