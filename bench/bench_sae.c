/* SPDX-License-Identifier: MIT */
/*
 * The TopK SAE encoder against BLIS's own peak, measured in the same run:
 * first BLIS sgemm on a large square product (the best this machine and
 * BLIS do), then subsel_sae_encode on 100,000 x 768 embeddings into 16,384
 * codes with k = 64 (rows scaled by SUBSEL_BENCH_SCALE), with one thread and
 * with all of them; the ratio of the encoder's GFLOP/s (2 rows inputs
 * features per encoding) to the peak with the same threads is the figure
 * of merit. A last line splits one batch into its product and its top-k
 * selection. One JSON object per line:
 *   {"bench":"sae","measure":"sgemm_peak"|"encode"|"stages",...}
 */
#include <math.h>
#include <stdint.h>

#include "bench_util.h"
#include "core/ctx.h"
#include "core/rng.h"
#include "linalg/blas.h"
#include "sae/sae.h"

#define INPUTS 768
#define FEATURES 16384
#define K 64

static float *random_floats(int64_t n, double mean, double sd, uint64_t stream)
{
    float *v = malloc(sizeof(float) * (size_t)n);
    ss_rng rng;
    int64_t i;
    if (v == NULL) {
        fprintf(stderr, "bench_sae: out of memory\n");
        exit(1);
    }
    ss_rng_seed(&rng, 42, stream);
    for (i = 0; i < n; i++)
        v[i] = (float)(mean + sd * ss_rng_normal(&rng));
    return v;
}

static subsel_ctx *ctx_with_threads(int threads)
{
    subsel_ctx *ctx = NULL;
    if (subsel_ctx_create(&ctx) != SUBSEL_OK ||
        subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, threads) != SUBSEL_OK) {
        fprintf(stderr, "bench_sae: cannot make a context\n");
        exit(1);
    }
    return ctx;
}

/* Best GFLOP/s of three n x n x n sgemm calls with `threads`. */
static double sgemm_peak(int64_t n, int threads)
{
    subsel_ctx *ctx;
    float *a, *b, *c;
    double best = INFINITY, gflops;
    int rep;
    stages_begin("build");
    ctx = ctx_with_threads(threads);
    a = random_floats(n * n, 0, 1, 1);
    b = random_floats(n * n, 0, 1, 2);
    c = calloc((size_t)(n * n), sizeof(float));
    stages_begin("sgemm");
    ss_sgemm(ctx, 0, 0, 256, 256, 256, 1.0f, a, n, b, n, 0.0f, c, n); /* warm-up */
    for (rep = 0; rep < 3; rep++) {
        double t0 = bench_now(), t;
        ss_sgemm(ctx, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t = bench_now() - t0;
        if (t < best)
            best = t;
    }
    gflops = 2.0 * (double)n * (double)n * (double)n / best / 1e9;
    printf("{\"bench\": \"sae\", \"measure\": \"sgemm_peak\", \"n\": %lld, "
           "\"threads\": %d, \"seconds\": %.4f, \"gflops\": %.2f",
           (long long)n, threads, best, gflops);
    bench_end_line();
    free(a);
    free(b);
    free(c);
    subsel_ctx_free(ctx);
    return gflops;
}

static void bench_encode(const subsel_sae *sae, const subsel_dense *x,
                         int threads, double peak)
{
    subsel_ctx *ctx = ctx_with_threads(threads);
    subsel_csr *z = NULL;
    double t0, t, gflops;
    int rc;
    stages_begin("encode");
    t0 = bench_now();
    rc = subsel_sae_encode(ctx, sae, x, K, &z);
    t = bench_now() - t0;
    if (rc != SUBSEL_OK) {
        fprintf(stderr, "bench_sae: %s\n", subsel_ctx_last_error(ctx));
        exit(1);
    }
    gflops = 2.0 * (double)subsel_dense_rows(x) * INPUTS * FEATURES / t / 1e9;
    printf("{\"bench\": \"sae\", \"measure\": \"encode\", \"rows\": %lld, "
           "\"inputs\": %d, \"features\": %d, \"k\": %d, \"threads\": %d, "
           "\"batch_rows\": %lld, "
           "\"nnz\": %lld, \"seconds\": %.4f, \"rows_per_s\": %.1f, "
           "\"gflops\": %.2f, \"peak_gflops\": %.2f, \"ratio_to_peak\": %.3f, "
           "\"peak_rss_mb\": %.1f",
           (long long)subsel_dense_rows(x), INPUTS, FEATURES, K, threads,
           (long long)ss_sae_batch_rows(FEATURES, subsel_dense_rows(x)),
           (long long)subsel_csr_nnz(z), t, (double)subsel_dense_rows(x) / t,
           gflops, peak, gflops / peak, bench_peak_rss_bytes() / 1048576.0);
    bench_end_line();
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}

/* One batch on one thread: the product, then the selection of every row. */
static void bench_stages(const subsel_sae *sae, const float *x, int64_t rows)
{
    subsel_ctx *ctx = ctx_with_threads(1);
    int64_t batch = ss_sae_batch_rows(FEATURES, rows), r, nnz = 0;
    float *act = malloc(sizeof(float) * (size_t)(batch * FEATURES));
    float *xc = malloc(sizeof(float) * (size_t)(batch * INPUTS));
    float *values = malloc(sizeof(float) * K);
    int32_t *indices = malloc(sizeof(int32_t) * K);
    ss_topk_entry *heap = malloc(sizeof *heap * K);
    float *work = malloc(sizeof(float) * (size_t)(ss_sae_topk_work(FEATURES, K) + 1));
    double t0, t_gemm, t_select;
    stages_begin("build");
    for (r = 0; r < batch * INPUTS; r++)
        xc[r] = x[r] - sae->b_dec[r % INPUTS];
    stages_begin("sgemm");
    t0 = bench_now();
    ss_sgemm(ctx, 0, 1, batch, FEATURES, INPUTS, 1.0f, xc, INPUTS, sae->w_enc,
             INPUTS, 0.0f, act, FEATURES);
    t_gemm = bench_now() - t0;
    stages_begin("topk");
    t0 = bench_now();
    for (r = 0; r < batch; r++)
        nnz += ss_sae_topk_row(act + r * FEATURES, sae->b_enc, FEATURES, K,
                               heap, work, indices, values);
    t_select = bench_now() - t0;
    printf("{\"bench\": \"sae\", \"measure\": \"stages\", \"batch_rows\": %lld, "
           "\"threads\": 1, \"gemm_seconds\": %.4f, \"select_seconds\": %.4f, "
           "\"select_ns_per_activation\": %.3f, \"select_fraction\": %.3f, "
           "\"nnz\": %lld",
           (long long)batch, t_gemm, t_select,
           1e9 * t_select / ((double)batch * FEATURES),
           t_select / (t_gemm + t_select), (long long)nnz);
    bench_end_line();
    free(act);
    free(xc);
    free(values);
    free(indices);
    free(heap);
    free(work);
    subsel_ctx_free(ctx);
}

int main(void)
{
    double scale = bench_scale();
    int64_t rows = (int64_t)(100000 * scale), n_peak;
    int all;
    float *w, *x, *b_enc, *b_dec;
    subsel_ctx *ctx = ctx_with_threads(0);
    subsel_dense *wd = NULL, *xd = NULL;
    subsel_sae *sae = NULL;
    double peak1, peak_all;

    all = subsel_ctx_threads(ctx);
    if (rows < 64)
        rows = 64;
    /* a large square product: 4096 at full scale, smaller for quick runs */
    n_peak = (int64_t)(4096 * cbrt(scale > 1 ? 1 : scale)) / 256 * 256;
    if (n_peak < 1024)
        n_peak = 1024;

    stages_begin("build");
    w = random_floats((int64_t)FEATURES * INPUTS, 0, 1 / sqrt(INPUTS), 3);
    b_enc = random_floats(FEATURES, -0.1, 0.05, 4);
    b_dec = random_floats(INPUTS, 0.5, 1, 5);
    x = random_floats(rows * INPUTS, 0.5, 1, 6);
    if (subsel_dense_create(ctx, FEATURES, INPUTS, w, SUBSEL_BORROW, &wd) != SUBSEL_OK ||
        subsel_dense_create(ctx, rows, INPUTS, x, SUBSEL_BORROW, &xd) != SUBSEL_OK ||
        subsel_sae_create(ctx, wd, b_enc, b_dec, &sae) != SUBSEL_OK) {
        fprintf(stderr, "bench_sae: %s\n", subsel_ctx_last_error(ctx));
        return 1;
    }

    peak_all = sgemm_peak(n_peak, all);
    bench_encode(sae, xd, all, peak_all);
    if (all > 1) {
        peak1 = sgemm_peak(n_peak, 1);
        bench_encode(sae, xd, 1, peak1);
    }
    bench_stages(sae, x, rows);

    subsel_sae_free(sae);
    subsel_dense_free(xd);
    subsel_dense_free(wd);
    subsel_ctx_free(ctx);
    free(w);
    free(x);
    free(b_enc);
    free(b_dec);
    return 0;
}
