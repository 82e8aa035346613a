/* SPDX-License-Identifier: MIT */
/*
 * SAE training throughput (issue 13): Adam steps of the TopK SAE with the
 * monotonicity loss at d_in 768, 16,384 latents, k 64, batches of 4,096
 * rows (the paper's set size 128 and reservoir 50,000), on 1 thread and on
 * all of them. Prints, per thread count:
 *   {"bench":"sae_train","measure":"steps",...}  rows per second (best of
 *       the runs) and the time of each phase of a step
 *   {"bench":"sae_train","measure":"product",...}  the encoder's product as
 *       a step calls it (rows x d against W_enc, transposed) against BLIS
 *       sgemm of the same size in its preferred layout, alternated, best of
 *       3, and their ratio (issue: >= 0.8)
 * and once
 *   {"bench":"sae_train","measure":"latent_scaling",...}  each phase's
 *       time at 4,096 and at 16,384 latents (same k) and its growth: the
 *       encoder (O(latents) per row) grows about 4x; the decoder and its
 *       gradients (decode) cost O(k) per row and stay flat; update (the
 *       gradients per latent, O(k) per row, plus Adam's O(latents x d) per
 *       step) and mono (M's codes, O(latents) per M row) grow in between.
 * bench/bench_sae_train_torch.py runs this program and the same training
 * in PyTorch in one run, alternating, for the ratio the issue names.
 *
 *   bench_sae_train [STEPS]   (default 3 timed steps after 1 warm-up;
 *                              SUBSEL_BENCH_SCALE scales the batch)
 */
#include <math.h>
#include <stdint.h>

#include "bench_util.h"
#include "core/ctx.h"
#include "core/rng.h"
#include "linalg/blas.h"
#include "sae_train/trainer.h"

#define INPUTS 768
#define LATENTS 16384
#define K 64

static void die(subsel_ctx *ctx, const char *what)
{
    fprintf(stderr, "bench_sae_train: %s: %s\n", what,
            ctx ? subsel_ctx_last_error(ctx) : "");
    exit(1);
}

/* Embedding-like rows: nonnegative sparse mixtures of 256 directions. */
static float *make_rows(int64_t rows, int64_t d)
{
    float *dict = malloc(sizeof(float) * 256 * (size_t)d);
    float *x = calloc((size_t)(rows * d), sizeof(float));
    ss_rng rng;
    int64_t r, a, c;
    if (dict == NULL || x == NULL)
        die(NULL, "out of memory");
    ss_rng_seed(&rng, 7, 0);
    for (a = 0; a < 256 * d; a++)
        dict[a] = (float)fabs(ss_rng_normal(&rng)) / 16.0f;
    for (r = 0; r < rows; r++)
        for (a = 0; a < 4; a++) {
            int64_t j = (int64_t)ss_rng_below(&rng, 256);
            float w = (float)ss_rng_uniform(&rng);
            for (c = 0; c < d; c++)
                x[r * d + c] += w * dict[j * d + c];
        }
    free(dict);
    return x;
}

static subsel_ctx *ctx_with_threads(int threads)
{
    subsel_ctx *ctx = NULL;
    if (subsel_ctx_create(&ctx) != SUBSEL_OK ||
        subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, threads) != SUBSEL_OK)
        die(ctx, "context");
    return ctx;
}

/* Trains `steps` timed steps after one warm-up on batches of x; returns
 * the best rows/s of single steps and fills phase[] with the seconds of
 * each phase per step (means over the timed steps). */
static double train(subsel_ctx *ctx, int64_t latents, const float *x,
                    int64_t pool, int64_t batch, int steps, double *phase)
{
    subsel_sae_trainer *t = NULL;
    subsel_dense *b = NULL;
    double best = 0.0;
    int s, p;
    stages_begin("build");
    if (subsel_sae_trainer_create(ctx, INPUTS, latents, &t) != SUBSEL_OK ||
        subsel_param_set_int(ctx, t, SUBSEL_P_SAE_K, K) != SUBSEL_OK)
        die(ctx, "trainer");
    for (s = 0; s <= steps; s++) {
        int64_t first = (s * batch) % (pool - batch + 1);
        double t0;
        if (s == 1)
            for (p = 0; p < SS_PHASE_COUNT; p++)
                t->seconds[p] = 0.0;
        if (subsel_dense_create(ctx, batch, INPUTS, x + first * INPUTS,
                                SUBSEL_OWN_BORROW, &b) != SUBSEL_OK)
            die(ctx, "batch");
        stages_begin("train");
        t0 = bench_now();
        if (subsel_sae_trainer_step(ctx, t, b) != SUBSEL_OK)
            die(ctx, "step");
        t0 = bench_now() - t0;
        stages_begin("build");
        subsel_dense_free(b);
        if (s > 0 && (double)batch / t0 > best)
            best = (double)batch / t0;
    }
    stages_begin(NULL);
    for (p = 0; p < SS_PHASE_COUNT; p++)
        phase[p] = t->seconds[p] / steps;
    subsel_sae_trainer_free(t);
    return best;
}

/* The encoder's product as the trainer calls it (x against W_enc^T) and
 * sgemm of the same size with B not transposed: GFLOP/s of each, best of
 * 3 alternated. */
static void product(subsel_ctx *ctx, int threads, int64_t batch,
                    const float *x)
{
    const int64_t L = LATENTS, d = INPUTS;
    float *w = malloc(sizeof(float) * (size_t)(L * d));
    float *wt = malloc(sizeof(float) * (size_t)(L * d));
    float *c = malloc(sizeof(float) * (size_t)(batch * L));
    double flops = 2.0 * (double)batch * (double)L * (double)d;
    double best_enc = 1e30, best_ref = 1e30;
    int rep;
    int64_t i;
    if (w == NULL || wt == NULL || c == NULL)
        die(NULL, "out of memory");
    stages_begin("build");
    for (i = 0; i < L * d; i++)
        w[i] = wt[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    stages_begin("sgemm");
    for (rep = 0; rep < 4; rep++) {
        double t0 = bench_now();
        ss_sgemm(ctx, 0, 1, batch, L, d, 1.0f, x, d, w, d, 0.0f, c, L);
        t0 = bench_now() - t0;
        if (rep > 0 && t0 < best_enc)
            best_enc = t0;
        t0 = bench_now();
        ss_sgemm(ctx, 0, 0, batch, L, d, 1.0f, x, d, wt, L, 0.0f, c, L);
        t0 = bench_now() - t0;
        if (rep > 0 && t0 < best_ref)
            best_ref = t0;
    }
    printf("{\"bench\":\"sae_train\",\"measure\":\"product\",\"threads\":%d,"
           "\"rows\":%lld,\"latents\":%lld,\"inputs\":%lld,"
           "\"encoder_gflops\":%.1f,\"sgemm_gflops\":%.1f,\"ratio\":%.3f,"
           "\"target\":0.8",
           threads, (long long)batch, (long long)L, (long long)d,
           flops / best_enc * 1e-9, flops / best_ref * 1e-9,
           best_ref / best_enc);
    bench_end_line();
    free(w);
    free(wt);
    free(c);
}

int main(int argc, char **argv)
{
    const int steps = argc > 1 ? atoi(argv[1]) : 3;
    const int64_t batch = (int64_t)(4096 * bench_scale());
    const int64_t pool = 3 * batch;
    subsel_ctx *probe = ctx_with_threads(0);
    const int max_threads = subsel_ctx_threads(probe);
    float *x = make_rows(pool, INPUTS);
    double phase[SS_PHASE_COUNT];
    int threads;
    static const char *const names[SS_PHASE_COUNT] = {"encode", "decode", "mono",
                                                      "update"};
    subsel_ctx_free(probe);
    if (steps < 1 || batch < 128)
        die(NULL, "STEPS >= 1 and a batch of at least 128 rows");
    /* one thread, then all of them */
    for (threads = 1; threads <= max_threads;
         threads = threads < max_threads ? max_threads : threads + 1) {
        subsel_ctx *ctx = ctx_with_threads(threads);
        int p;
        double rate;
        if (bench_wanted("steps")) {
            rate = train(ctx, LATENTS, x, pool, batch, steps, phase);
            printf("{\"bench\":\"sae_train\",\"measure\":\"steps\",\"threads\":%d,"
                   "\"inputs\":%d,\"latents\":%d,\"k\":%d,\"batch\":%lld,"
                   "\"steps\":%d,\"rows_per_s\":%.1f",
                   threads, INPUTS, LATENTS, K, (long long)batch, steps, rate);
            for (p = 0; p < SS_PHASE_COUNT; p++)
                printf(",\"%s_s\":%.4f", names[p], phase[p]);
            printf(",\"peak_rss_mb\":%.0f", bench_peak_rss_bytes() / 1e6);
            bench_end_line();
        }
        if (bench_wanted("product"))
            product(ctx, threads, batch, x);
        if (threads == max_threads && bench_wanted("scaling")) {
            double small[SS_PHASE_COUNT], rest_small, rest_large;
            train(ctx, LATENTS / 4, x, pool, batch, steps, small);
            train(ctx, LATENTS, x, pool, batch, steps, phase);
            rest_small = small[1] + small[2] + small[3];
            rest_large = phase[1] + phase[2] + phase[3];
            printf("{\"bench\":\"sae_train\",\"measure\":\"latent_scaling\","
                   "\"threads\":%d,\"k\":%d,\"latents\":[%d,%d]",
                   threads, K, LATENTS / 4, LATENTS);
            for (p = 0; p < SS_PHASE_COUNT; p++)
                printf(",\"%s_s\":[%.4f,%.4f],\"%s_growth\":%.2f", names[p],
                       small[p], phase[p], names[p], phase[p] / small[p]);
            printf(",\"other_growth\":%.2f", rest_large / rest_small);
            bench_end_line();
        }
        subsel_ctx_free(ctx);
    }
    free(x);
    return 0;
}
