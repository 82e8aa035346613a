/* SPDX-License-Identifier: MIT */
/*
 * Acceptance check of the monotonicity loss (SDM paper, section 2.3) on
 * real images: two TopK sparse autoencoders are trained by
 * subsel_sae_trainer on Fashion-MNIST training images (Debian's
 * dataset-fashion-mnist) with the same seed, batches and settings, one with
 * L_mono (l_mono > 0) and one without (l_mono = 0). Both encode held-out
 * test images; the program prints, per SAE, one JSON line with the
 * monosemanticity and monotonicity scores of those codes
 * (subsel_sae_scores: MS, MT) and the held-out reconstruction error (mean
 * ||x - x~||^2, x~ = W_dec h(x) + b_dec), then a verdict line, and exits
 * nonzero unless MT(mono) > MT(no mono) and recons(mono) <= 1.10 *
 * recons(no mono).
 *
 * Inputs: pixels / 255, then each image scaled to unit norm. MT averages
 * raw inner products, and Delta(E|M) of L_mono is a difference of summed
 * raw inner products; on unnormalised images both would mostly measure how
 * much ink two images have (a coat has about four times a sandal's squared
 * norm), so a latent that sorts images by brightness would score well.
 * With unit rows every inner product is a cosine, in [0, 1] since pixels
 * are nonnegative: the scores measure shape alone and are on the scale of
 * the paper's (unit-normalised CLIP embeddings, MT about 0.6). Pixels are
 * not centred, so the inputs stay nonnegative as the paper's X is.
 *
 *   sae_mono_fashion_mnist [DATA_DIR [NAME=VALUE ...]]
 *
 * NAME is seed, train (training images), test (held-out images), features,
 * k, batch, epochs, lr, l_mono (of the first SAE), set_size, reservoir,
 * auxk, dead_rows or threads. The held-out reconstruction error comes from
 * subsel_sae_trainer_evaluate.
 * docs/sae_acceptance.md gives the defaults' reasons and measured results.
 * Exit code 77 when the data is missing (a skipped test).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <subsel.h>

#include "fashion_mnist.h"

#define PIXELS FASHION_MNIST_PIXELS

typedef struct settings {
    int64_t seed, train, test, features, k, batch, epochs, set_size, reservoir, threads, auxk,
        dead_rows;
    double lr, l_mono;
} settings;

typedef struct result {
    double ms, mt, recons, train_recons, train_mono, seconds;
    int64_t ms_n, mt_n, dead, steps;
} result;

static int failed(subsel_ctx *ctx, int rc, const char *what)
{
    if (rc != SUBSEL_OK)
        fprintf(stderr, "sae_mono_fashion_mnist: %s: %s (%s)\n", what, subsel_status_string(rc),
                ctx ? subsel_ctx_last_error(ctx) : "");
    return rc != SUBSEL_OK;
}

/* Rows as floats / 255, each scaled to unit norm (see the top comment). */
static float *unit_images(const unsigned char *px, int64_t count)
{
    float *x = fashion_mnist_floats(px, count);
    if (x != NULL)
        fashion_mnist_unit_rows(x, count);
    return x;
}

/* Trains one SAE with `l_mono` on the training rows (the same batches for
 * every call: the order comes from s->seed alone) and scores it on the
 * held-out rows. */
static int train_and_score(const settings *s, double l_mono, const float *train, const float *test,
                           result *r)
{
    subsel_ctx *ctx = NULL;
    subsel_sae_trainer *t = NULL;
    subsel_dense *batch = NULL, *x_test = NULL;
    subsel_sae *sae = NULL;
    subsel_csr *codes = NULL;
    int64_t *order = malloc(sizeof *order * (size_t)s->train), e, i, n;
    float *rows = malloc(sizeof *rows * (size_t)(s->batch * PIXELS));
    double losses[SUBSEL_SAE_LOSSES];
    uint64_t shuffle = (uint64_t)s->seed * 0x2545F4914F6CDD1DULL + 7;
    struct timespec t0, t1;
    int rc = 1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(r, 0, sizeof *r);
    if (order == NULL || rows == NULL || failed(NULL, subsel_ctx_create(&ctx), "context") ||
        failed(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_SEED, s->seed), "seed") ||
        (s->threads > 0 && failed(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, s->threads), "threads")) ||
        failed(ctx, subsel_sae_trainer_create(ctx, PIXELS, s->features, &t), "trainer") ||
        failed(ctx, subsel_param_set_int(ctx, t, SUBSEL_P_SAE_K, s->k), "k") ||
        failed(ctx, subsel_param_set_int(ctx, t, SUBSEL_P_SAE_SET_SIZE, s->set_size), "set_size") ||
        failed(ctx, subsel_param_set_int(ctx, t, SUBSEL_P_SAE_RESERVOIR, s->reservoir), "reservoir") ||
        failed(ctx, subsel_param_set_int(ctx, t, SUBSEL_P_SAE_AUXK, s->auxk), "auxk") ||
        failed(ctx, subsel_param_set_int(ctx, t, SUBSEL_P_SAE_DEAD_ROWS, s->dead_rows), "dead_rows") ||
        failed(ctx, subsel_param_set_real(ctx, t, SUBSEL_P_SAE_LR, s->lr), "lr") ||
        failed(ctx, subsel_param_set_real(ctx, t, SUBSEL_P_SAE_L_MONO, l_mono), "l_mono"))
        goto done;
    for (i = 0; i < s->train; i++)
        order[i] = i;
    for (e = 0; e < s->epochs; e++) {
        for (i = s->train - 1; i > 0; i--) { /* Fisher-Yates, seeded */
            int64_t j = (int64_t)(fashion_mnist_splitmix(&shuffle) % (uint64_t)(i + 1)), tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (i = 0; i + s->batch <= s->train; i += s->batch) { /* whole batches only */
            for (n = 0; n < s->batch; n++)
                memcpy(rows + n * PIXELS, train + order[i + n] * PIXELS, sizeof(float) * PIXELS);
            if (failed(ctx, subsel_dense_create(ctx, s->batch, PIXELS, rows, SUBSEL_OWN_BORROW, &batch), "batch") ||
                failed(ctx, subsel_sae_trainer_step(ctx, t, batch), "step"))
                goto done;
            subsel_dense_free(batch);
            batch = NULL;
        }
    }
    r->steps = subsel_sae_trainer_steps(t);
    r->dead = subsel_sae_trainer_dead(t);
    if (failed(ctx, subsel_sae_trainer_losses(ctx, t, losses, SUBSEL_SAE_LOSSES), "losses"))
        goto done;
    r->train_recons = losses[SUBSEL_SAE_LOSS_RECONS];
    r->train_mono = losses[SUBSEL_SAE_LOSS_MONO];

    if (failed(ctx, subsel_dense_create(ctx, s->test, PIXELS, test, SUBSEL_OWN_BORROW, &x_test), "test") ||
        failed(ctx, subsel_sae_trainer_evaluate(ctx, t, x_test, &r->recons, NULL), "evaluate") ||
        failed(ctx, subsel_sae_trainer_encoder(ctx, t, &sae), "encoder") ||
        failed(ctx, subsel_sae_encode(ctx, sae, x_test, s->k, &codes), "encode") ||
        failed(ctx, subsel_sae_scores(ctx, x_test, codes, &r->ms, &r->mt, &r->ms_n, &r->mt_n, NULL, 0, NULL, 0),
               "scores"))
        goto done;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    rc = isnan(r->recons);
done:
    subsel_csr_free(codes);
    subsel_sae_free(sae);
    subsel_dense_free(x_test);
    subsel_dense_free(batch);
    subsel_sae_trainer_free(t);
    subsel_ctx_free(ctx);
    free(order);
    free(rows);
    return rc;
}

static void print_result(const settings *s, double l_mono, const result *r)
{
    printf("{\"example\":\"sae_mono_fashion_mnist\",\"l_mono\":%g,\"seed\":%lld,\"ms\":%.4f,"
           "\"mt\":%.4f,\"recons\":%.5f,\"ms_latents\":%lld,\"mt_latents\":%lld,\"dead\":%lld,"
           "\"steps\":%lld,\"train_recons\":%.5f,\"train_mono\":%.4f,\"seconds\":%.2f}\n",
           l_mono, (long long)s->seed, r->ms, r->mt, r->recons, (long long)r->ms_n,
           (long long)r->mt_n, (long long)r->dead, (long long)r->steps, r->train_recons,
           r->train_mono, r->seconds);
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : FASHION_MNIST_DIR;
    settings s = {.seed = 1, .train = 20000, .test = 5000, .features = 512, .k = 16,
                  .batch = 256, .epochs = 2, .set_size = 64, .reservoir = 8192, .threads = 0, .auxk = 0,
                  .dead_rows = 10000000,
                  .lr = 1e-3, .l_mono = 0.0007};
    unsigned char *train_px, *test_px;
    int64_t n_train, n_test;
    float *train, *test;
    result with, without;
    double l_mono[2];
    int i, ok;

    for (i = 2; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        size_t len = eq ? (size_t)(eq - argv[i]) : 0;
        const char *v = eq ? eq + 1 : "";
#define NAME(n) (len == strlen(n) && strncmp(argv[i], n, len) == 0)
        if (NAME("seed")) s.seed = atoll(v);
        else if (NAME("train")) s.train = atoll(v);
        else if (NAME("test")) s.test = atoll(v);
        else if (NAME("features")) s.features = atoll(v);
        else if (NAME("k")) s.k = atoll(v);
        else if (NAME("batch")) s.batch = atoll(v);
        else if (NAME("epochs")) s.epochs = atoll(v);
        else if (NAME("set_size")) s.set_size = atoll(v);
        else if (NAME("reservoir")) s.reservoir = atoll(v);
        else if (NAME("threads")) s.threads = atoll(v);
        else if (NAME("auxk")) s.auxk = atoll(v);
        else if (NAME("dead_rows")) s.dead_rows = atoll(v);
        else if (NAME("lr")) s.lr = atof(v);
        else if (NAME("l_mono")) s.l_mono = atof(v);
        else {
            fprintf(stderr, "sae_mono_fashion_mnist: unknown argument %s\n", argv[i]);
            return 2;
        }
#undef NAME
    }

    train_px = fashion_mnist_read(data, "train-images-idx3-ubyte.gz", 3, PIXELS, 0, &n_train);
    test_px = fashion_mnist_read(data, "t10k-images-idx3-ubyte.gz", 3, PIXELS, 0, &n_test);
    if (!train_px || !test_px) {
        fprintf(stderr, "Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist)\n", data);
        free(train_px);
        free(test_px);
        return 77;
    }
    if (s.train > n_train)
        s.train = n_train;
    if (s.test > n_test)
        s.test = n_test;
    if (s.batch > s.train || s.l_mono <= 0 || s.test < 2) {
        fprintf(stderr, "sae_mono_fashion_mnist: need batch <= train, l_mono > 0, test >= 2\n");
        return 2;
    }
    train = unit_images(train_px, s.train);
    test = unit_images(test_px, s.test);
    l_mono[0] = s.l_mono;
    l_mono[1] = 0;
    ok = train != NULL && test != NULL && train_and_score(&s, l_mono[0], train, test, &with) == 0 &&
         train_and_score(&s, l_mono[1], train, test, &without) == 0;
    if (ok) {
        print_result(&s, l_mono[0], &with);
        print_result(&s, l_mono[1], &without);
        ok = with.mt > without.mt && with.recons <= 1.10 * without.recons;
        printf("{\"example\":\"sae_mono_fashion_mnist\",\"seed\":%lld,\"mt_gain\":%.4f,"
               "\"ms_gain\":%.4f,\"recons_ratio\":%.4f,\"accepted\":%s}\n",
               (long long)s.seed, with.mt - without.mt, with.ms - without.ms,
               with.recons / without.recons, ok ? "true" : "false");
    }
    free(train_px);
    free(test_px);
    free(train);
    free(test);
    return ok ? 0 : 1;
}
