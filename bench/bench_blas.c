/* SPDX-License-Identifier: MIT */
/*
 * Dense products against the chip: how close subsel's sgemm and dgemm come
 * to the fp32 / fp64 FMA peak of this machine's cores, and how much faster
 * they are than BLIS's own kernel choice (which is "generic", portable C,
 * on CPUs the installed BLIS does not know; lib/core/blis_arch.c).
 *
 * The peak is measured, not looked up: a probe keeps 16 independent chains
 * of fused multiply-adds in flight on the widest vectors the CPU has
 * (AVX-512, else AVX2), on every thread at once, which is as many FMAs per
 * cycle as the cores retire at the clock they run under load.
 *
 * First, one line per short-side product of LoRS's towers ("blas_short":
 * the kernel table's gemm_rows / gemm_dots against BLIS, one thread; see
 * short_products). Then one JSON line per thread count (1 and 2 unless
 * SUBSEL_BENCH_THREADS says):
 *   {"bench":"blas","threads":T,"blis_arch":...,"blis_detected":...,
 *    "n":N,"fma_peak_sp_gflops":..,"sgemm_gflops":..,"sgemm_blis_own_gflops":..,
 *    "sgemm_of_peak":..,"sgemm_speedup":.., and the same for dp / dgemm}
 * Both products are timed in the same run, alternating, best of 3.
 * Between them, one line for the float products of OT's fast tiles
 * ("blas_tile": ss_sgemm_nt_serial against BLIS's packed path; see
 * tile_products). SUBSEL_BENCH_PARTS=short, =tile or =peak runs one part.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <blis.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench_util.h"
#include "core/blis_arch.h"
#include "dispatch/dispatch.h"
#include "linalg/blas.h"
#include "subsel.h"
#include "subsel_config.h"

#if SUBSEL_HAVE_X86
#include <immintrin.h>

#define CHAINS 16

/* FLOPs per second of one thread's FMA chains, `iters` rounds of CHAINS
 * vector FMAs. The chains never meet, so the core can overlap them all. */
#define FMA_PROBE(name, flags, vec, set1, fmadd, add, store, lanes, elem)        \
    __attribute__((target(flags))) static double name(int64_t iters)             \
    {                                                                              \
        vec acc[CHAINS], x = set1((elem)0.999999), y = set1((elem)1e-7);           \
        elem out[lanes];                                                           \
        double t;                                                                  \
        int64_t it;                                                                \
        int i;                                                                     \
        for (i = 0; i < CHAINS; i++)                                               \
            acc[i] = set1((elem)i);                                                \
        t = bench_now();                                                           \
        for (it = 0; it < iters; it++) {                                           \
            _Pragma("GCC unroll 16") for (i = 0; i < CHAINS; i++) acc[i] =         \
                fmadd(acc[i], x, y);                                               \
        }                                                                          \
        t = bench_now() - t;                                                       \
        for (i = 1; i < CHAINS; i++)                                               \
            acc[0] = add(acc[0], acc[i]);                                          \
        store(out, acc[0]);                                                        \
        if (out[0] == (elem)-1) /* keeps the chains alive */                       \
            puts("");                                                              \
        return 2.0 * CHAINS * (lanes) * (double)iters / t;                         \
    }

FMA_PROBE(fma_avx512_sp, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps,
          _mm512_storeu_ps, 16, float)
FMA_PROBE(fma_avx512_dp, "avx512f", __m512d, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd,
          _mm512_storeu_pd, 8, double)
FMA_PROBE(fma_avx2_sp, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps,
          _mm256_storeu_ps, 8, float)
FMA_PROBE(fma_avx2_dp, "avx2,fma", __m256d, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_add_pd,
          _mm256_storeu_pd, 4, double)

/* The machine's FMA peak on `threads` threads (GFLOP/s, summed), single
 * or double precision; 0 on a CPU without AVX2. Best of 3. */
static double fma_peak(int threads, int dp)
{
    int isa = ss_cpu_best_isa(), rep;
    double best = 0;
    for (rep = 0; rep < 3; rep++) {
        double total = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : total)
#endif
        {
            const int64_t iters = 50000000;
            if (isa == SUBSEL_ISA_AVX512)
                total += dp ? fma_avx512_dp(iters) : fma_avx512_sp(iters);
            else if (isa == SUBSEL_ISA_AVX2)
                total += dp ? fma_avx2_dp(iters) : fma_avx2_sp(iters);
        }
        if (total > best)
            best = total;
    }
    return best / 1e9;
}
#else
static double fma_peak(int threads, int dp)
{
    (void)threads;
    (void)dp;
    return 0;
}
#endif

/* Seconds of one n x n x n product: with subsel's kernels (ss_*gemm) or,
 * own != 0, with BLIS's own choice (no context). */
static double time_gemm(int64_t n, int threads, int dp, int own, const void *a, const void *b,
                        void *c, subsel_ctx *ctx)
{
    double t = bench_now();
    rntm_t rntm;
    bli_rntm_init(&rntm);
    bli_rntm_set_num_threads(threads, &rntm);
    if (dp) {
        double one = 1, zero = 0;
        if (own)
            bli_dgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, n, n, n, &one, (double *)a, n, 1,
                         (double *)b, n, 1, &zero, c, n, 1, NULL, &rntm);
        else
            ss_dgemm(ctx, 0, 0, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
    } else {
        float one = 1, zero = 0;
        if (own)
            bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, n, n, n, &one, (float *)a, n, 1,
                         (float *)b, n, 1, &zero, c, n, 1, NULL, &rntm);
        else
            ss_sgemm(ctx, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    }
    return bench_now() - t;
}

/* Best GFLOP/s of 3 alternating runs each: [0] subsel's kernels, [1]
 * BLIS's own choice. */
static void gemm_gflops(int64_t n, int threads, int dp, subsel_ctx *ctx, double out[2])
{
    size_t elem = dp ? sizeof(double) : sizeof(float), i;
    size_t count = (size_t)(n * n);
    char *a = malloc(count * elem), *b = malloc(count * elem), *c = calloc(count, elem);
    double best[2] = {INFINITY, INFINITY};
    int rep, own;
    if (!a || !b || !c) {
        fprintf(stderr, "bench_blas: out of memory\n");
        exit(1);
    }
    for (i = 0; i < count; i++) {
        double va = (double)(i % 13) / 13.0 - 0.5, vb = (double)(i % 7) / 7.0 - 0.5;
        if (dp) {
            ((double *)a)[i] = va;
            ((double *)b)[i] = vb;
        } else {
            ((float *)a)[i] = (float)va;
            ((float *)b)[i] = (float)vb;
        }
    }
    time_gemm(256, threads, dp, 0, a, b, c, ctx); /* warm-up */
    for (rep = 0; rep < 3; rep++)
        for (own = 0; own < 2; own++) {
            double t = time_gemm(n, threads, dp, own, a, b, c, ctx);
            if (t < best[own])
                best[own] = t;
        }
    for (own = 0; own < 2; own++)
        out[own] = 2.0 * (double)n * (double)n * (double)n / best[own] / 1e9;
    free(a);
    free(b);
    free(c);
}

/* The short-side products of LoRS's towers (a 20-row minibatch against
 * 512 x 256 weights, and the weights' gradient, a sum over the 20 rows) on
 * one thread: through ss_dgemm_det, which runs them on the kernel table's
 * gemm_rows / gemm_dots, against BLIS's serial dgemm with subsel's
 * kernels. Best of 5 rounds of 200 products each, alternating. */
static void short_products(void)
{
    static const struct {
        int trans_a, trans_b;
        int64_t m, n, k;
        const char *name;
    } shapes[] = {
        {0, 1, 20, 256, 512, "x_wT"},   /* forward: X W^T (W out x in) */
        {0, 0, 20, 512, 256, "dy_w"},   /* backward to the input: dY W */
        {1, 0, 256, 512, 20, "dyT_x"},  /* the weights' gradient: dY^T X */
    };
    subsel_ctx *ctx;
    double *a = malloc(sizeof(double) * 512 * 512), *b = malloc(sizeof(double) * 512 * 512);
    double *c = malloc(sizeof(double) * 512 * 512);
    size_t sh;
    int64_t i;
    if (!a || !b || !c || subsel_ctx_create(&ctx) != SUBSEL_OK ||
        subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 1) != SUBSEL_OK) {
        fprintf(stderr, "bench_blas: out of memory\n");
        exit(1);
    }
    stages_begin("build");
    for (i = 0; i < 512 * 512; i++) {
        a[i] = (double)(i % 11) / 11.0 - 0.5;
        b[i] = (double)(i % 5) / 5.0 - 0.5;
    }
    for (sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        const int ta = shapes[sh].trans_a, tb = shapes[sh].trans_b;
        const int64_t m = shapes[sh].m, n = shapes[sh].n, k = shapes[sh].k;
        const int64_t lda = ta ? m : k, ldb = tb ? k : n;
        double best[2] = {INFINITY, INFINITY}, gf[2];
        int rep, way, r;
        stages_begin("gemm");
        for (rep = 0; rep < 5; rep++)
            for (way = 0; way < 2; way++) {
                double t = bench_now();
                for (r = 0; r < 200; r++) {
                    if (way == 0)
                        ss_dgemm_det(ctx, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, n);
                    else
                        ss_dgemm_serial(ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, n);
                }
                t = (bench_now() - t) / 200;
                if (t < best[way])
                    best[way] = t;
            }
        for (way = 0; way < 2; way++)
            gf[way] = 2.0 * (double)(m * n * k) / best[way] / 1e9;
        printf("{\"bench\": \"blas_short\", \"product\": \"%s\", \"m\": %lld, "
               "\"n\": %lld, \"k\": %lld, \"threads\": 1, \"isa\": \"%s\", "
               "\"blis_arch\": \"%s\", \"kernel_gflops\": %.1f, "
               "\"blis_gflops\": %.1f, \"speedup\": %.2f",
               shapes[sh].name, (long long)m, (long long)n, (long long)k,
               subsel_isa_name(subsel_ctx_isa(ctx)), ss_blis_arch_name(), gf[0], gf[1],
               gf[0] / gf[1]);
        bench_end_line();
    }
    subsel_ctx_free(ctx);
    free(a);
    free(b);
    free(c);
}

/* The float products of OT's fast tiles (lib/linalg/pairwise.c), as in
 * TAROT's fill: a block of 512 rows against 20,000 targets of dimension
 * 512, 512 targets per product, so the targets stream from memory as in
 * a pass. ss_sgemm_nt_serial (panels packed by the kernel table, BLIS's
 * micro-kernel) against ss_sgemm_serial (BLIS's packed path, whose 32-row
 * panels BLIS 0.9 packs with generic code), and against the block's rows
 * packed once per pass (ss_sgemm_nt_pack_a, as OT's passes do: each
 * product then packs only its targets); one thread, the same bits; best
 * of 5 passes each, alternating. */
static void tile_products(void)
{
    enum { ROWS = 512, COLS = 512, D = 512, TARGETS = 20000 };
    const ss_kernels *kern = ss_kernels_at(ss_isa_usable(SUBSEL_ISA_AVX512));
    int64_t floats = ss_sgemm_nt_pack_floats(ROWS, COLS, D), i, j0;
    int64_t a_floats = ss_sgemm_nt_a_floats(ROWS, COLS, D);
    float *x = malloc(sizeof(float) * ROWS * D), *y = malloc(sizeof(float) * TARGETS * D);
    float *c = malloc(sizeof(float) * ROWS * COLS);
    float *pack = malloc(sizeof(float) * (size_t)(floats > 0 ? floats : 1));
    float *x_packed = malloc(sizeof(float) * (size_t)(a_floats > 0 ? a_floats : 1));
    double best[3] = {INFINITY, INFINITY, INFINITY}, gf[3];
    int rep, way;
    if (!x || !y || !c || !pack || !x_packed) {
        fprintf(stderr, "bench_blas: out of memory\n");
        exit(1);
    }
    stages_begin("build");
    for (i = 0; i < (int64_t)ROWS * D; i++)
        x[i] = (float)(i % 13) / 13.0f - 0.5f;
    for (i = 0; i < (int64_t)TARGETS * D; i++)
        y[i] = (float)(i % 7) / 7.0f - 0.5f;
    stages_begin("sgemm");
    for (rep = 0; rep < 5; rep++)
        for (way = 0; way < 3; way++) {
            double t = bench_now();
            const float *xp = NULL;
            if (way == 2 && ss_sgemm_nt_pack_a(kern, ROWS, COLS, D, x, D, x_packed))
                xp = x_packed;
            for (j0 = 0; j0 < TARGETS; j0 += COLS) {
                int64_t cols = TARGETS - j0 < COLS ? TARGETS - j0 : COLS;
                if (way == 1)
                    ss_sgemm_serial(0, 1, ROWS, cols, D, 1.0f, x, D, y + j0 * D, D, 0.0f, c,
                                    COLS);
                else
                    ss_sgemm_nt_serial_packed(kern, ROWS, cols, D, x, D, xp, y + j0 * D, D,
                                              c, COLS, pack);
            }
            t = bench_now() - t;
            if (t < best[way])
                best[way] = t;
        }
    for (way = 0; way < 3; way++)
        gf[way] = 2.0 * ROWS * (double)TARGETS * D / best[way] / 1e9;
    printf("{\"bench\": \"blas_tile\", \"m\": %d, \"n\": %d, \"k\": %d, \"targets\": %d, "
           "\"threads\": 1, \"isa\": \"%s\", \"blis_arch\": \"%s\", \"direct\": %s, "
           "\"direct_gflops\": %.1f, \"blis_gflops\": %.1f, \"speedup\": %.2f, "
           "\"rows_packed_gflops\": %.1f, \"rows_packed_speedup\": %.2f",
           ROWS, COLS, D, TARGETS, kern->name, ss_blis_arch_name(),
           floats > 0 ? "true" : "false", gf[0], gf[1], gf[0] / gf[1], gf[2], gf[2] / gf[0]);
    bench_end_line();
    free(x_packed);
    free(x);
    free(y);
    free(c);
    free(pack);
}

int main(void)
{
    int64_t n = (int64_t)(3000 * sqrt(bench_scale()));
    const char *env = getenv("SUBSEL_BENCH_THREADS");
    int counts[2] = {1, 2}, nc = 2, k;
    if (env && atoi(env) > 0) {
        counts[0] = atoi(env);
        nc = 1;
    }
    n = n < 256 ? 256 : n;
    if (bench_wanted("short"))
        short_products();
    if (bench_wanted("tile"))
        tile_products();
    for (k = 0; k < nc && bench_wanted("peak"); k++) {
        int threads = counts[k];
        subsel_ctx *ctx;
        double s[2], d[2], peak_sp, peak_dp;
        if (subsel_ctx_create(&ctx) != SUBSEL_OK ||
            subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, threads) != SUBSEL_OK) {
            fprintf(stderr, "bench_blas: no context\n");
            return 1;
        }
        threads = subsel_ctx_threads(ctx); /* capped at the CPUs available */
        stages_begin("fma_peak");
        peak_sp = fma_peak(threads, 0);
        stages_begin("sgemm");
        gemm_gflops(n, threads, 0, ctx, s);
        stages_begin("fma_peak");
        peak_dp = fma_peak(threads, 1);
        stages_begin("dgemm");
        gemm_gflops(n, threads, 1, ctx, d);
        printf("{\"bench\": \"blas\", \"threads\": %d, \"blis_arch\": \"%s\", "
               "\"blis_detected\": \"%s\", \"n\": %lld, "
               "\"fma_peak_sp_gflops\": %.1f, \"sgemm_gflops\": %.1f, "
               "\"sgemm_blis_own_gflops\": %.1f, \"sgemm_of_peak\": %.3f, "
               "\"sgemm_speedup\": %.2f, "
               "\"fma_peak_dp_gflops\": %.1f, \"dgemm_gflops\": %.1f, "
               "\"dgemm_blis_own_gflops\": %.1f, \"dgemm_of_peak\": %.3f, "
               "\"dgemm_speedup\": %.2f",
               threads, ss_blis_arch_name(), ss_blis_arch_detected(), (long long)n, peak_sp,
               s[0], s[1], peak_sp > 0 ? s[0] / peak_sp : 0.0, s[0] / s[1], peak_dp, d[0], d[1],
               peak_dp > 0 ? d[0] / peak_dp : 0.0, d[0] / d[1]);
        bench_end_line();
        subsel_ctx_free(ctx);
    }
    return 0;
}
