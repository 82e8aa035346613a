/* SPDX-License-Identifier: MIT */
/*
 * Dispatch and kernels: detection is consistent, the SUBSEL_ISA variable is
 * honoured, and every kernel of every level gives bit-identical results to
 * the scalar one on awkward lengths, and accurate ones against libm.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/ctx.h"
#include "core/rng.h"
#include "dispatch/dispatch.h"
#include "linalg/bf16.h"
#include "linalg/blas.h"
#include "subsel_config.h"
#include "tests/helpers.h"
#include "tests/suites.h"

#define MAX_LEN 70
#define D 97 /* columns of the random sparse rows */

START_TEST(detection_is_consistent)
{
    int isa;
    ck_assert(subsel_isa_compiled(SUBSEL_ISA_SCALAR));
    ck_assert(subsel_isa_supported(SUBSEL_ISA_SCALAR));
    ck_assert(!subsel_isa_compiled(3) && !subsel_isa_compiled(-1));
    ck_assert_str_eq(subsel_isa_name(7), "unknown");
    for (isa = 0; isa <= SUBSEL_ISA_AVX512; isa++) {
        if (subsel_isa_supported(isa))
            ck_assert(subsel_isa_compiled(isa));
        ck_assert_int_eq(ss_kernels_level(isa) != NULL, subsel_isa_supported(isa));
        if (ss_kernels_level(isa))
            ck_assert_int_eq(ss_kernels_level(isa)->isa, isa);
    }
    ck_assert(subsel_isa_supported(subsel_isa_selected()));
}
END_TEST

START_TEST(environment_variable_lowers_the_choice)
{
    /* meson runs the suite under SUBSEL_ISA=<level>; the level it names is
     * the one selected when the machine has it. */
    const char *env = getenv("SUBSEL_ISA");
    int isa, wanted = -1;
    if (env == NULL)
        return;
    for (isa = 0; isa <= SUBSEL_ISA_AVX512; isa++)
        if (strcmp(env, subsel_isa_name(isa)) == 0)
            wanted = isa;
    if (wanted >= 0 && subsel_isa_supported(wanted))
        ck_assert_int_eq(subsel_isa_selected(), wanted);
    else if (wanted >= 0) /* not compiled or not supported: the best below */
        ck_assert_int_eq(subsel_isa_selected(), ss_isa_usable(wanted));
    else
        ck_assert_int_le(subsel_isa_selected(), ss_cpu_best_isa());
    ck_assert(subsel_isa_supported(subsel_isa_selected()));
}
END_TEST

START_TEST(every_request_rounds_down_to_a_usable_level)
{
    /* A build may leave out a middle level (-Disa_avx2=false) while the CPU
     * has a higher one: asking for the missing level, from the environment
     * or a context, must give a level that is compiled and supported. */
    int wanted, level;
    for (wanted = -1; wanted <= SUBSEL_ISA_AVX512 + 1; wanted++) {
        int got = ss_isa_usable(wanted);
        ck_assert_msg(subsel_isa_supported(got), "%d -> %d", wanted, got);
        ck_assert_int_le(got, wanted < SUBSEL_ISA_SCALAR ? SUBSEL_ISA_SCALAR : wanted);
        for (level = got + 1; level <= wanted && level <= SUBSEL_ISA_AVX512; level++)
            ck_assert_msg(!subsel_isa_supported(level), "%d -> %d skips usable %d", wanted,
                          got, level);
    }
}
END_TEST

START_TEST(context_can_only_lower)
{
    subsel_ctx *ctx;
    int isa;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    for (isa = 0; isa <= SUBSEL_ISA_AVX512; isa++) {
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_MAX_ISA, isa));
        ck_assert_int_le(subsel_ctx_isa(ctx), isa);
        ck_assert_int_le(subsel_ctx_isa(ctx), subsel_isa_selected());
        ck_assert_msg(subsel_isa_supported(subsel_ctx_isa(ctx)), "max %d gives %s", isa,
                      subsel_isa_name(subsel_ctx_isa(ctx)));
        ck_assert_ptr_nonnull(ss_kernels_for(ctx));
        ck_assert_int_eq(ss_kernels_for(ctx)->isa, subsel_ctx_isa(ctx));
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* Random test data: n values, a sparse row of n sorted unique columns in
 * [0, D), running sums m and weights w over D columns. Values span several
 * orders of magnitude, with some exact zeros. */
typedef struct {
    float a[MAX_LEN + 1], b[MAX_LEN + 1], x[D];
    int32_t idx[MAX_LEN + 1];
    double m[D], w[D];
    double inv_1pm[D]; /* the column state of log1p: 1 / (1 + m) */
} kernel_data;

static float spread(ss_rng *rng)
{
    double u = ss_rng_uniform(rng);
    if (u < 0.05)
        return 0.0f;
    return (float)(exp(ss_rng_uniform(rng) * 12.0 - 8.0) * (u < 0.5 ? -1 : 1));
}

static void make_data(kernel_data *kd, ss_rng *rng, int n)
{
    int c, k = 0;
    for (c = 0; c < MAX_LEN + 1; c++) {
        kd->a[c] = spread(rng);
        kd->b[c] = spread(rng);
    }
    for (c = 0; c < D; c++) {
        kd->x[c] = spread(rng);
        kd->m[c] = ss_rng_uniform(rng) < 0.2 ? 0.0 : fabs(spread(rng)) * 100;
        kd->w[c] = ss_rng_uniform(rng) * 2;
        kd->inv_1pm[c] = 1.0 / (1.0 + kd->m[c]);
    }
    /* choose n distinct sorted columns */
    for (c = 0; c < D && k < n; c++)
        if (ss_rng_below(rng, (uint64_t)(D - c)) < (uint64_t)(n - k))
            kd->idx[k++] = c;
    for (c = 0; c < n; c++)
        kd->b[c] = fabsf(kd->b[c]); /* FB values are nonnegative */
}

static const ss_phi phis[SS_PHI_COUNT] = {
    {SS_PHI_LOG1P, 0, 0},   {SS_PHI_SQRT, 0, 0},      {SS_PHI_SATURATE, 0, 0},
    {SS_PHI_EXP, 2.5, 0.4}, {SS_PHI_MIN, 3.0, 1 / 3.}, {SS_PHI_POW, 0.3, 1 / .3},
};

/* The column state a kernel takes for phi p (see ss_kernels.fb_gain). */
static const double *col_state(const kernel_data *kd, int p)
{
    return p == SS_PHI_LOG1P ? kd->inv_1pm : kd->m;
}

START_TEST(kernels_match_scalar_bit_for_bit)
{
    const ss_kernels *k = ss_kernels_level(_i);
    const ss_kernels *ref = &ss_kernels_scalar;
    ss_rng rng;
    int n, rep, p;
    kernel_data kd;
    if (k == NULL)
        return; /* level not available on this machine */
    ss_rng_seed(&rng, 1234, (uint64_t)_i);
    for (rep = 0; rep < 20; rep++)
        for (n = 0; n <= MAX_LEN; n++) {
            double want, got;
            make_data(&kd, &rng, n);
            want = ref->dot_f32(kd.a, kd.b, n);
            got = k->dot_f32(kd.a, kd.b, n);
            ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                          "dot_f32 n=%d: %.17g vs scalar %.17g", n, got, want);
            {
                /* dots_f32 against dot_f32 row by row: 7 rows of kd.x (a
                 * group of four, then three alone), listed or in order */
                double dots[7];
                float ys[7 * MAX_LEN + 1];
                const int64_t rows[7] = {5, 0, 3, 1, 6, 2, 4};
                int q, listed;
                for (q = 0; q < 7 * n; q++)
                    ys[q] = (float)(ss_rng_normal(&rng) * (q % 9 == 0 ? 1e3 : 1.0));
                for (listed = 0; listed < 2; listed++) {
                    k->dots_f32(dots, kd.a, ys, n, listed ? rows : NULL, 7, n);
                    for (q = 0; q < 7; q++) {
                        want = ref->dot_f32(kd.a, ys + (listed ? rows[q] : q) * n, n);
                        ck_assert_msg(memcmp(&want, &dots[q], sizeof want) == 0,
                                      "dots_f32 n=%d row %d: %.17g vs %.17g", n, q, dots[q], want);
                    }
                }
            }
            want = ref->sparse_dot_f32(kd.idx, kd.b, n, kd.x);
            got = k->sparse_dot_f32(kd.idx, kd.b, n, kd.x);
            ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                          "sparse_dot_f32 n=%d: %.17g vs scalar %.17g", n, got, want);
            for (p = 0; p < SS_PHI_COUNT; p++) {
                want = ref->fb_gain[p](kd.idx, kd.b, n, col_state(&kd, p), kd.w, &phis[p]);
                got = k->fb_gain[p](kd.idx, kd.b, n, col_state(&kd, p), kd.w, &phis[p]);
                ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                              "fb_gain[%d] n=%d: %.17g vs scalar %.17g", p, n, got, want);
            }
        }
}
END_TEST

/* Independent reference: libm, long double accumulation. */
static double ref_term(int p, double m, double z)
{
    const ss_phi *phi = &phis[p];
    switch (p) {
    /* the kernel multiplies by the stored 1 / (1 + m); so does the reference */
    case SS_PHI_LOG1P: return log1p(z * (1 / (1 + m)));
    case SS_PHI_SQRT: return m + z == 0 ? 0 : z / (sqrt(m + z) + sqrt(m));
    case SS_PHI_SATURATE: return z / ((1 + m) * (1 + m + z));
    /* the kernel scales by the precomputed 1/c; so does the reference */
    case SS_PHI_EXP: return exp(-m * phi->inv_param) * -expm1(-z * phi->inv_param);
    case SS_PHI_MIN: return fmin(m + z, phi->param) - fmin(m, phi->param);
    default:
        if (m > 0)
            return pow(m, phi->param) * expm1(phi->param * log1p(z / m));
        return z > 0 ? pow(z, phi->param) : 0;
    }
}

START_TEST(kernels_are_accurate)
{
    const ss_kernels *k = ss_kernels_level(_i);
    ss_rng rng;
    int n, rep, p;
    kernel_data kd;
    if (k == NULL)
        return;
    ss_rng_seed(&rng, 99, (uint64_t)_i);
    for (rep = 0; rep < 20; rep++)
        for (n = 0; n <= MAX_LEN; n++) {
            long double want = 0, mag = 0;
            int j;
            make_data(&kd, &rng, n);
            for (j = 0; j < n; j++) {
                want += (long double)kd.a[j] * kd.b[j];
                mag += fabsl((long double)kd.a[j] * kd.b[j]);
            }
            ck_assert_double_le(fabs(k->dot_f32(kd.a, kd.b, n) - (double)want),
                                1e-14 * (double)mag + 1e-300);
            for (p = 0; p < SS_PHI_COUNT; p++) {
                double got = k->fb_gain[p](kd.idx, kd.b, n, col_state(&kd, p), kd.w, &phis[p]);
                want = 0;
                for (j = 0; j < n; j++)
                    want += kd.w[kd.idx[j]] * ref_term(p, kd.m[kd.idx[j]], kd.b[j]);
                ck_assert_msg(fabs(got - (double)want) <= 1e-13 * fabs((double)want) + 1e-300,
                              "fb_gain[%d] n=%d: %.17g vs reference %.17Lg", p, n, got, want);
            }
        }
}
END_TEST

START_TEST(elementary_functions_over_wide_ranges)
{
    /* One-element rows isolate the vector log1p / sqrt / exp / pow over
     * many orders of magnitude of m and z. */
    const ss_kernels *k = ss_kernels_level(_i);
    int32_t idx[1] = {0};
    double w[1] = {1.0};
    int p, i, j;
    if (k == NULL)
        return;
    for (p = 0; p < SS_PHI_COUNT; p++)
        for (i = -40; i <= 40; i++)
            for (j = -38; j <= 38; j += 2) {
                double m[1] = {i <= -40 ? 0.0 : pow(10.0, i * 0.25)};
                double col[1] = {p == SS_PHI_LOG1P ? 1 / (1 + m[0]) : m[0]};
                float z[1] = {(float)pow(10.0, j)};
                double got = k->fb_gain[p](idx, z, 1, col, w, &phis[p]);
                double want = ref_term(p, m[0], z[0]);
                ck_assert_msg(fabs(got - want) <= 1e-15 * fabs(want) + 1e-300 ||
                              (p == SS_PHI_POW && fabs(got - want) <= 5e-15 * fabs(want)),
                              "phi %d m=%g z=%g: %.17g vs %.17g", p, m[0], (double)z[0], got, want);
            }
}
END_TEST

/* The short-side products against the order their contract states, written
 * out in plain C: gemm_rows, one fma chain per entry over l from beta C;
 * gemm_dots, 8 lane chains (lane t takes l = t mod 8) reduced as
 * ((t0 + t4) + (t2 + t6)) + ((t1 + t5) + (t3 + t7)), added to beta C. The
 * same bits on every level, on shapes that leave every kind of remainder
 * (rows past a tile of 4, columns past whole vectors, k past 8), with both
 * A and A^T, beta 0 (C's old values never read: NaN there) and 1, and
 * leading dimensions wider than the rows. */
static double ref_rows_entry(int64_t k, const double *a, int64_t a_row,
                             int64_t a_col, const double *b, int64_t ldb,
                             int64_t i, int64_t j, double start)
{
    double acc = start;
    int64_t l;
    for (l = 0; l < k; l++)
        acc = fma(a[i * a_row + l * a_col], b[l * ldb + j], acc);
    return acc;
}

static double ref_dots_entry(int64_t k, const double *a, const double *b)
{
    double lane[8] = {0};
    int64_t l;
    for (l = 0; l < k; l++)
        lane[l % 8] = fma(a[l], b[l], lane[l % 8]);
    return ((lane[0] + lane[4]) + (lane[2] + lane[6])) +
           ((lane[1] + lane[5]) + (lane[3] + lane[7]));
}

START_TEST(gemm_kernels_follow_their_order)
{
    static const int64_t ms[] = {1, 3, 4, 5, 9, 20};
    static const int64_t ns[] = {1, 7, 8, 9, 16, 17, 33};
    static const int64_t ks[] = {1, 7, 8, 9, 20, 37};
    const ss_kernels *kern = ss_kernels_level(_i);
    ss_rng rng;
    size_t a_i, n_i, k_i;
    if (kern == NULL)
        return;
    ss_rng_seed(&rng, 99, (uint64_t)_i);
    for (a_i = 0; a_i < sizeof ms / sizeof ms[0]; a_i++)
        for (n_i = 0; n_i < sizeof ns / sizeof ns[0]; n_i++)
            for (k_i = 0; k_i < sizeof ks / sizeof ks[0]; k_i++) {
                const int64_t m = ms[a_i], n = ns[n_i], k = ks[k_i];
                const int64_t lda = (m > k ? m : k) + 3, ldb = (n > k ? n : k) + 2;
                const int64_t ldc = n + 5;
                double *a = malloc(sizeof(double) * (size_t)(lda * lda));
                double *b = malloc(sizeof(double) * (size_t)(ldb * ldb));
                double *c0 = malloc(sizeof(double) * (size_t)(m * ldc));
                double *c = malloc(sizeof(double) * (size_t)(m * ldc));
                int64_t i, j, t;
                int beta;
                ck_assert(a && b && c0 && c);
                for (i = 0; i < lda * lda; i++)
                    a[i] = ss_rng_normal(&rng);
                for (i = 0; i < ldb * ldb; i++)
                    b[i] = ss_rng_normal(&rng);
                for (i = 0; i < m * ldc; i++)
                    c0[i] = ss_rng_normal(&rng);
                for (beta = 0; beta <= 1; beta++)
                    for (t = 0; t < 3; t++) {
                        /* t 0: A (m x k), 1: A^T (a is k x m), 2: dots */
                        int64_t a_row = t == 1 ? 1 : lda, a_col = t == 1 ? lda : 1;
                        for (i = 0; i < m * ldc; i++)
                            c[i] = beta ? c0[i] : NAN;
                        if (t < 2)
                            kern->gemm_rows(m, n, k, a, a_row, a_col, b, ldb, c, ldc, beta);
                        else
                            kern->gemm_dots(m, n, k, a, lda, b, ldb, c, ldc, beta);
                        for (i = 0; i < m; i++)
                            for (j = 0; j < ldc; j++) {
                                double want, got = c[i * ldc + j];
                                if (j >= n) { /* past the columns: untouched */
                                    ck_assert(beta ? got == c0[i * ldc + j] : isnan(got));
                                    continue;
                                }
                                if (t < 2)
                                    want = ref_rows_entry(k, a, a_row, a_col, b, ldb, i, j,
                                                          beta ? c0[i * ldc + j] : 0.0);
                                else {
                                    want = ref_dots_entry(k, a + i * lda, b + j * ldb);
                                    if (beta)
                                        want = c0[i * ldc + j] + want;
                                }
                                ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                                              "%s m=%lld n=%lld k=%lld beta=%d (%lld,%lld): "
                                              "%.17g, want %.17g",
                                              t == 2 ? "gemm_dots" : t ? "gemm_rows A^T" : "gemm_rows",
                                              (long long)m, (long long)n, (long long)k, beta,
                                              (long long)i, (long long)j, got, want);
                            }
                    }
                free(a);
                free(b);
                free(c0);
                free(c);
            }
}
END_TEST

/* The carry-less CRC-32 of the x86 tables is zlib's, on every length up
 * to a few 64-byte blocks, at every alignment, from any starting CRC, and
 * on a long buffer; the scalar table has none (callers use zlib). */
START_TEST(crc32_matches_zlib)
{
    enum { LEN = 700, BIG = 1 << 20 };
    const ss_kernels *k = ss_kernels_level(_i);
    unsigned char *buf;
    ss_rng rng;
    int n, off;
    if (k == NULL)
        return;
    if (_i == SUBSEL_ISA_SCALAR) {
        ck_assert_ptr_null(k->crc32);
        return;
    }
    ck_assert_ptr_nonnull(k->crc32);
    buf = malloc(BIG);
    ck_assert_ptr_nonnull(buf);
    ss_rng_seed(&rng, 77, (uint64_t)_i);
    for (n = 0; n < BIG; n++)
        buf[n] = (unsigned char)ss_rng_next(&rng);
    for (off = 0; off < 16; off++)
        for (n = 0; n <= LEN; n++) {
            uint32_t start = off == 0 ? 0 : (uint32_t)ss_rng_next(&rng);
            uint32_t want = (uint32_t)crc32(start, buf + off, (uInt)n);
            uint32_t got = k->crc32(start, buf + off, n);
            ck_assert_msg(got == want, "crc32 offset %d n=%d: %08x vs zlib %08x", off, n,
                          (unsigned)got, (unsigned)want);
        }
    ck_assert_uint_eq(k->crc32(0, buf + 3, BIG - 3), (uint32_t)crc32(0, buf + 3, BIG - 3));
    /* in pieces, as readers call it */
    ck_assert_uint_eq(k->crc32(k->crc32(0, buf, 1000), buf + 1000, BIG - 1000),
                      (uint32_t)crc32(0, buf, BIG));
    free(buf);
}
END_TEST

/* The bfloat16 screen (the AVX-512 table's gemm_bf16) is there exactly on
 * CPUs with AVX512_BF16, and its products stay within linalg/bf16.h's
 * bound of the exact ones, dx |y~| + |x| dy + gamma |x~| |y~| + tiny:
 * odd and even lengths, rows of mixed scales, values under single
 * precision's smallest normal (flushed), a zero row. The bound is not
 * loose by orders of magnitude either (the largest error seen reaches a
 * tenth of it). */
START_TEST(bf16_screen_stays_within_its_bound)
{
    const ss_kernels *k = ss_kernels_level(_i);
    const int64_t dims[5] = {1, 2, 7, 32, 513};
    const int64_t rows = SS_BF16_MR, cols = 2 * SS_BF16_NR;
    double worst = 0.0;
    ss_rng rng;
    int di;
    if (k == NULL)
        return;
    ck_assert_int_eq(k->gemm_bf16 != NULL,
                     _i == SUBSEL_ISA_AVX512 && SUBSEL_HAVE_BF16 && ss_cpu_has_bf16());
    if (k->gemm_bf16 == NULL)
        return;
    ss_rng_seed(&rng, 77, 1);
    for (di = 0; di < 5; di++) {
        const int64_t d = dims[di], pairs = ss_bf16_pairs(d);
        float *x = malloc(sizeof *x * (size_t)(rows * d)), *y = malloc(sizeof *y * (size_t)(cols * d));
        float *c = malloc(sizeof *c * (size_t)(rows * cols));
        double gamma, tiny;
        uint32_t *a = malloc(sizeof *a * (size_t)(rows * pairs)), *b = malloc(sizeof *b * (size_t)(cols * pairs));
        int64_t i, j, l;
        for (i = 0; i < rows * d; i++) /* row scales 1e-3 .. 1e3; row 1 tiny, row 2 zero */
            x[i] = i / d == 2 ? 0.0f
                   : (float)(ss_rng_normal(&rng) * (i / d == 1 ? 1e-39 : pow(10.0, (double)(i / d % 7) - 3.0)));
        for (j = 0; j < cols * d; j++)
            y[j] = (float)(ss_rng_normal(&rng) * (j / d % 3 == 0 ? 1e-40 : 1.0));
        ss_bf16_pack_rows(x, d, rows, d, a);
        ss_bf16_pack_cols(y, d, cols, d, b);
        k->gemm_bf16(pairs, cols / SS_BF16_NR, a, b, c, cols);
        gamma = ss_bf16_sum_error(d, &tiny);
        for (i = 0; i < rows; i++)
            for (j = 0; j < cols; j++) {
                long double exact = 0.0L, err, bound;
                float nx, dx, ny, dy;
                for (l = 0; l < d; l++)
                    exact += (long double)x[i * d + l] * y[j * d + l];
                ss_bf16_norms(x + i * d, d, &nx, &dx);
                ss_bf16_norms(y + j * d, d, &ny, &dy);
                err = fabsl((long double)c[i * cols + j] - exact);
                bound = (long double)dx * (ny + dy) + (long double)nx * dy +
                        gamma * ((long double)nx + dx) * ((long double)ny + dy) + tiny;
                ck_assert_msg(err <= bound, "d %lld (%lld, %lld): error %Lg over the bound %Lg",
                              (long long)d, (long long)i, (long long)j, err, bound);
                if (bound > 1e-20L && (double)(err / bound) > worst)
                    worst = (double)(err / bound);
            }
        free(x);
        free(y);
        free(c);
        free(a);
        free(b);
    }
    ck_assert_msg(worst > 0.1, "largest error %g of the bound", worst);
}
END_TEST

/* The screen's test (above_floor) on every level: each bit as its
 * definition in double gives it, NaN passing and equality passing, for
 * every length 0 .. MAX_LEN + 64; the words past the last untouched. */
START_TEST(above_floor_follows_its_definition)
{
    const ss_kernels *k = ss_kernels_level(_i);
    float x[MAX_LEN + 64], y1[MAX_LEN + 64], y2[MAX_LEN + 64], fl[MAX_LEN + 64];
    uint64_t bits[4];
    const double e1 = 0.37, e2 = 1.5, tiny = 1e-30;
    ss_rng rng;
    int n, p;
    if (k == NULL)
        return;
    ss_rng_seed(&rng, 99, (uint64_t)_i);
    for (n = 0; n <= MAX_LEN + 64; n++) {
        int any = 0, got;
        for (p = 0; p < n; p++) {
            x[p] = (float)ss_rng_normal(&rng);
            y1[p] = (float)fabs(ss_rng_normal(&rng));
            y2[p] = p % 5 == 0 ? 0.0f : (float)fabs(ss_rng_normal(&rng));
            fl[p] = (float)(ss_rng_normal(&rng) * 2.0);
            if (p % 7 == 3)
                x[p] = NAN;
            if (p % 11 == 4) { /* exactly at the floor: passes */
                y1[p] = y2[p] = 0.0f;
                x[p] = 1.0f;
                fl[p] = (float)(1.0 + tiny) ; /* rounds to 1 */
            }
        }
        memset(bits, 0xab, sizeof bits);
        got = k->above_floor(bits, x, y1, y2, fl, e1, e2, tiny, n);
        for (p = 0; p < n; p++) {
            double v = (double)x[p] + fma(e1, y1[p], fma(e2, y2[p], tiny));
            int want = !(v < (double)fl[p]);
            any |= want;
            ck_assert_msg((int)(bits[p / 64] >> (p % 64) & 1) == want, "n %d entry %d", n, p);
        }
        ck_assert_int_eq(got, any);
        for (p = (n + 63) / 64; p < 4; p++)
            ck_assert(bits[p] == 0xababababababababULL);
    }
}
END_TEST

/* pack_panels_f32 writes BLIS's micro-panel layout, entry (p, l) of panel
 * q at out[q * stride + l * panel + p], zeros for the rows past the last,
 * and nothing else (the gaps between panels keep their sentinel), on
 * shapes that leave every remainder: rows past whole panels and past
 * blocks of 8 and 4, k past blocks of 8 and 4, rows wider than k. */
START_TEST(pack_panels_follow_blis_layout)
{
    static const int64_t rows_list[] = {1, 3, 5, 12, 31, 32, 33, 70};
    static const int64_t ks[] = {1, 3, 4, 7, 8, 9, 17, 64};
    static const int64_t panels[] = {6, 12, 16, 32};
    const ss_kernels *kern = ss_kernels_level(_i);
    ss_rng rng;
    size_t r_i, k_i, p_i;
    if (kern == NULL)
        return;
    ss_rng_seed(&rng, 31, (uint64_t)_i);
    for (r_i = 0; r_i < sizeof rows_list / sizeof rows_list[0]; r_i++)
        for (k_i = 0; k_i < sizeof ks / sizeof ks[0]; k_i++)
            for (p_i = 0; p_i < sizeof panels / sizeof panels[0]; p_i++) {
                const int64_t rows = rows_list[r_i], k = ks[k_i], panel = panels[p_i];
                const int64_t ld = k + 3, stride = panel * k + 5;
                const int64_t count = (rows + panel - 1) / panel;
                float *src = malloc(sizeof(float) * (size_t)(rows * ld));
                float *out = malloc(sizeof(float) * (size_t)(count * stride));
                int64_t i, q, l, p;
                ck_assert(src && out);
                for (i = 0; i < rows * ld; i++)
                    src[i] = (float)ss_rng_normal(&rng);
                for (i = 0; i < count * stride; i++)
                    out[i] = -7.0f;
                kern->pack_panels_f32(out, src, ld, rows, k, panel, stride);
                for (q = 0; q < count; q++) {
                    for (l = 0; l < k; l++)
                        for (p = 0; p < panel; p++) {
                            int64_t r = q * panel + p;
                            float want = r < rows ? src[r * ld + l] : 0.0f;
                            float got = out[q * stride + l * panel + p];
                            ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                                          "%s rows=%lld k=%lld panel=%lld (%lld,%lld,%lld)",
                                          kern->name, (long long)rows, (long long)k,
                                          (long long)panel, (long long)q, (long long)l,
                                          (long long)p);
                        }
                    for (i = panel * k; i < stride; i++)
                        ck_assert(out[q * stride + i] == -7.0f);
                }
                free(src);
                free(out);
            }
}
END_TEST

/* ss_sgemm_nt_serial gives BLIS's own bits (ss_sgemm_serial) with each
 * level's packing, under whichever BLIS sub-configuration runs (CI runs
 * this suite under a second one): on products of the packed path with
 * edge tiles on both sides, sides longer than an MC block (500 x 490: a
 * short k keeps it cheap under valgrind, and 33 keeps it off BLIS's
 * small-matrix path), a k that is no multiple of 8 with small sides,
 * rows wider than k, an unaligned pack buffer, k in several of BLIS's
 * blocks (skx's KC is 768, stretched to 960 for the last; haswell's 256)
 * and in one stretched block; and on products it leaves to BLIS (a side
 * under 64 on the small-matrix path, no buffer), where it must call BLIS
 * itself. The same with A packed ahead (ss_sgemm_nt_pack_a) for this
 * product and for a narrower one. */
START_TEST(sgemm_nt_serial_has_blis_bits)
{
    static const int64_t shapes[][3] = {{64, 64, 64},   {100, 77, 72}, {70, 130, 67},
                                        {5, 3, 13},     {33, 65, 96},  {500, 490, 33},
                                        {10, 100, 64},  {96, 80, 1000}, {40, 70, 900},
                                        {64, 70, 1700}};
    const ss_kernels *kern = ss_kernels_level(_i);
    ss_rng rng;
    size_t t;
    if (kern == NULL)
        return;
    ss_rng_seed(&rng, 47, (uint64_t)_i);
    for (t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const int64_t m = shapes[t][0], n = shapes[t][1], k = shapes[t][2];
        const int64_t lda = k + 5, ldb = k + 2, ldc = n + 3;
        int64_t floats = ss_sgemm_nt_pack_floats(m, n, k), i;
        float *a = malloc(sizeof(float) * (size_t)(m * lda));
        float *b = malloc(sizeof(float) * (size_t)(n * ldb));
        float *want = malloc(sizeof(float) * (size_t)(m * ldc));
        float *got = malloc(sizeof(float) * (size_t)(m * ldc));
        float *pack = malloc(sizeof(float) * (size_t)(floats + 1));
        int with_pack;
        ck_assert(a && b && want && got && pack);
        ck_assert(floats >= 0);
        for (i = 0; i < m * lda; i++)
            a[i] = (float)ss_rng_normal(&rng);
        for (i = 0; i < n * ldb; i++)
            b[i] = (float)ss_rng_normal(&rng);
        for (i = 0; i < m * ldc; i++)
            want[i] = -3.0f;
        ss_sgemm_serial(0, 1, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, want, ldc);
        for (with_pack = 0; with_pack <= 1; with_pack++) {
            for (i = 0; i < m * ldc; i++)
                got[i] = -3.0f;
            ss_sgemm_nt_serial(kern, m, n, k, a, lda, b, ldb, got, ldc,
                               with_pack && floats > 0 ? pack + 1 : NULL);
            ck_assert_msg(memcmp(want, got, sizeof(float) * (size_t)(m * ldc)) == 0,
                          "%s m=%lld n=%lld k=%lld pack=%d: not BLIS's bits", kern->name,
                          (long long)m, (long long)n, (long long)k, with_pack);
        }
        /* A packed once (into an unaligned buffer), then used for this
         * product and for one with fewer columns, which may be left to
         * BLIS: still BLIS's bits */
        {
            int64_t a_floats = ss_sgemm_nt_a_floats(m, n, k), n2 = n - n / 3, w;
            float *a_packed = malloc(sizeof(float) * (size_t)(a_floats + 1));
            float *want2 = malloc(sizeof(float) * (size_t)(m * ldc));
            int packed;
            ck_assert(a_packed && want2);
            ck_assert_int_eq(a_floats > 0, floats > 0);
            packed = ss_sgemm_nt_pack_a(kern, m, n, k, a, lda, a_packed + 1);
            ck_assert_int_eq(packed, floats > 0);
            for (i = 0; i < m * ldc; i++)
                want2[i] = -3.0f;
            ss_sgemm_serial(0, 1, m, n2, k, 1.0f, a, lda, b, ldb, 0.0f, want2, ldc);
            for (w = 0; w < 2; w++) {
                for (i = 0; i < m * ldc; i++)
                    got[i] = -3.0f;
                ss_sgemm_nt_serial_packed(kern, m, w ? n2 : n, k, a, lda,
                                          packed ? a_packed + 1 : NULL, b, ldb, got, ldc,
                                          floats > 0 ? pack + 1 : NULL);
                ck_assert_msg(memcmp(w ? want2 : want, got, sizeof(float) * (size_t)(m * ldc)) == 0,
                              "%s m=%lld n=%lld k=%lld, A packed: not BLIS's bits", kern->name,
                              (long long)m, (long long)(w ? n2 : n), (long long)k);
            }
            free(a_packed);
            free(want2);
        }
        free(a);
        free(b);
        free(want);
        free(got);
        free(pack);
    }
}
END_TEST

Suite *dispatch_suite(void)
{
    Suite *s = suite_create("dispatch");
    TCase *tc = tcase_create("selection");
    tcase_add_test(tc, detection_is_consistent);
    tcase_add_test(tc, environment_variable_lowers_the_choice);
    tcase_add_test(tc, every_request_rounds_down_to_a_usable_level);
    tcase_add_test(tc, context_can_only_lower);
    suite_add_tcase(s, tc);

    tc = tcase_create("kernels");
    tcase_add_loop_test(tc, kernels_match_scalar_bit_for_bit, SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512 + 1);
    tcase_add_loop_test(tc, kernels_are_accurate, SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512 + 1);
    tcase_add_loop_test(tc, elementary_functions_over_wide_ranges, SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512 + 1);
    tcase_add_loop_test(tc, gemm_kernels_follow_their_order, SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512 + 1);
    tcase_add_loop_test(tc, crc32_matches_zlib, SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512 + 1);
    tcase_add_loop_test(tc, bf16_screen_stays_within_its_bound, SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512 + 1);
    tcase_add_loop_test(tc, above_floor_follows_its_definition, SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512 + 1);
    tcase_add_loop_test(tc, pack_panels_follow_blis_layout, SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512 + 1);
    tcase_add_loop_test(tc, sgemm_nt_serial_has_blis_bits, SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512 + 1);
    suite_add_tcase(s, tc);
    return s;
}
