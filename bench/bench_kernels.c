/* SPDX-License-Identifier: MIT */
/*
 * Kernel throughput per instruction set, measured in one run so the ratios
 * to scalar are meaningful on a noisy machine: feature-based gains of sparse
 * rows (the SDM hot loop: gather m and w, phi difference, weighted sum), the
 * sparse gather-dot and the dense dot product. One JSON line per kernel and
 * level: {"bench":"kernels","kernel":...,"isa":...,"elements_per_s":...,
 * "speedup_vs_scalar":...}. Then the CRC-32 of the x86 tables against
 * zlib's crc32 (the scalar table's), on 1 MiB in cache, the block the .npz
 * readers check at once: {"bench":"kernels","kernel":"crc32","isa":...,
 * "bytes_per_s":...,"speedup_vs_zlib":...}. Then the exp-bound passes of
 * UniPROT and the OT engine on rows of 5,000 (one UniPROT target set) in
 * cache: the gain's exp pass and water-filling sums, a log-sum-exp row
 * pass and column pass, and the annealed solves' pass that adds both
 * (single-precision exps, float values): {"bench":"kernels","kernel":
 * "exp_affine_f32",...,"ns_per_entry":...,"speedup_vs_scalar":...};
 * lse_both_sum also gives "speedup_vs_double_sums", its time per entry
 * against lse_sum's and lse_col_sum's together on the same level. Last, the
 * two forms of that pass whole: "lse_two_sweeps" (lse_both_max, then
 * lse_both_sum: two exps per entry) and "lse_shared" (lse_max_f32, then
 * lse_sum_shared: one exp per entry, the rows' terms reused for the
 * columns), with "speedup_vs_two_sweeps".
 */
#include <math.h>
#include <stdint.h>

#include <zlib.h>

#include "bench_util.h"
#include "core/rng.h"
#include "dispatch/dispatch.h"

#define D 16384    /* columns: an SAE dictionary */
#define NNZ 64     /* nonzeros per row */
#define ROWS 4096  /* distinct rows, cycled */

typedef struct {
    int32_t *idx;
    float *val;
    double *m, *w;
    float *x, *a, *b;
} bench_data;

static void make(bench_data *bd, ss_rng *rng)
{
    int64_t r, c;
    bd->idx = malloc(sizeof(int32_t) * ROWS * NNZ);
    bd->val = malloc(sizeof(float) * ROWS * NNZ);
    bd->m = malloc(sizeof(double) * D);
    bd->w = malloc(sizeof(double) * D);
    bd->x = malloc(sizeof(float) * D);
    bd->a = malloc(sizeof(float) * D);
    bd->b = malloc(sizeof(float) * D);
    for (c = 0; c < D; c++) {
        bd->m[c] = ss_rng_uniform(rng) * 5; /* for log1p: read as 1 / (1 + m) */
        bd->w[c] = ss_rng_uniform(rng);
        bd->x[c] = bd->a[c] = (float)ss_rng_uniform(rng);
        bd->b[c] = (float)ss_rng_uniform(rng);
    }
    for (r = 0; r < ROWS; r++) {
        /* sorted distinct columns: strides of D / NNZ with jitter */
        for (c = 0; c < NNZ; c++) {
            bd->idx[r * NNZ + c] = (int32_t)(c * (D / NNZ) + (int64_t)ss_rng_below(rng, D / NNZ));
            bd->val[r * NNZ + c] = (float)ss_rng_uniform(rng);
        }
    }
}

static const ss_phi phis[SS_PHI_COUNT] = {
    {SS_PHI_LOG1P, 0, 0},   {SS_PHI_SQRT, 0, 0},       {SS_PHI_SATURATE, 0, 0},
    {SS_PHI_EXP, 2.0, 0.5}, {SS_PHI_MIN, 3.0, 1 / 3.}, {SS_PHI_POW, 0.5, 2.0},
};
static const char *phi_names[SS_PHI_COUNT] = {"log1p", "sqrt", "saturate", "exp", "min", "pow"};

/* Runs `body` until at least min_seconds pass; returns elements per second
 * (the "kernel" stage). */
#define MEASURE(min_seconds, elements_per_rep, body, out)                      \
    do {                                                                       \
        double t0, t;                                                          \
        int64_t reps = 0;                                                      \
        stages_begin("kernel");                                                \
        t0 = bench_now();                                                      \
        do {                                                                   \
            body;                                                              \
            reps++;                                                            \
            t = bench_now() - t0;                                              \
        } while (t < (min_seconds));                                           \
        stages_begin(NULL);                                                    \
        (out) = (double)reps * (elements_per_rep) / t;                         \
    } while (0)

static volatile double sink;

static void bench_crc32(double secs)
{
    enum { BYTES = 1 << 20 };
    unsigned char *buf = malloc(BYTES);
    double zlib_rate = 0;
    int isa, i;
    if (buf == NULL)
        return;
    stages_begin("build");
    for (i = 0; i < BYTES; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++) {
        const ss_kernels *k = ss_kernels_level(isa);
        double rate;
        if (k == NULL)
            continue;
        if (k->crc32 == NULL) /* the scalar table: zlib */
            MEASURE(secs, (double)BYTES, { sink = (double)crc32(0, buf, BYTES); }, rate);
        else
            MEASURE(secs, (double)BYTES, { sink = (double)k->crc32(0, buf, BYTES); }, rate);
        if (isa == SUBSEL_ISA_SCALAR)
            zlib_rate = rate;
        printf("{\"bench\": \"kernels\", \"kernel\": \"crc32\", \"isa\": \"%s\", "
               "\"bytes_per_s\": %.4g, \"speedup_vs_zlib\": %.2f",
               k->crc32 == NULL ? "zlib" : subsel_isa_name(isa), rate, rate / zlib_rate);
        bench_end_line();
    }
    free(buf);
}

/* The exp-bound kernels of UniPROT and lib/ot, per entry of a row of
 * EXP_N values (cosine similarities over reg 0.1, as in UniPROT). */
#define EXP_N 5000
static void bench_exp(double secs)
{
    enum { KERNELS = 7 };
    static const char *const names[KERNELS] = {"exp_affine_f32", "waterfill_sums",
                                               "lse_sum",        "lse_col_sum",
                                               "lse_both_sum",   "lse_two_sweeps",
                                               "lse_shared"};
    float *x = malloc(sizeof(float) * EXP_N);
    float *w = malloc(sizeof(float) * EXP_N);
    double *c = malloc(sizeof(double) * EXP_N);
    double *r = malloc(sizeof(double) * EXP_N), *rl = malloc(sizeof(double) * EXP_N);
    double *h = calloc(EXP_N, sizeof(double)), base[KERNELS] = {0}, sums[6];
    double *acc = calloc(EXP_N, sizeof(double)), rates[KERNELS];
    double *cm = calloc(EXP_N, sizeof(double)); /* the columns' maxima */
    ss_rng rng;
    int isa, q;
    int64_t j;
    if (!x || !w || !c || !r || !rl || !h || !acc || !cm)
        goto done;
    stages_begin("build");
    ss_rng_seed(&rng, 2, 0);
    for (j = 0; j < EXP_N; j++) {
        x[j] = (float)(2.0 * ss_rng_uniform(&rng) - 1.0);
        c[j] = x[j];
        r[j] = (j % 3) * 2e-4; /* a third of the targets full */
        rl[j] = r[j] > 0.0 ? r[j] * log(r[j]) : 0.0;
    }
    for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++) {
        const ss_kernels *k = ss_kernels_level(isa);
        if (k == NULL)
            continue;
        for (q = 0; q < KERNELS; q++) {
            double rate;
            if (q == 0)
                MEASURE(secs, (double)EXP_N, { sink = k->exp_affine_f32(w, x, 10.0, 10.0, EXP_N); }, rate);
            else if (q == 1)
                MEASURE(secs, (double)EXP_N, {
                    k->waterfill_sums(w, r, rl, x, 1e2, EXP_N, sums);
                    sink = sums[0];
                }, rate);
            else if (q == 2)
                MEASURE(secs, (double)EXP_N, { sink = k->lse_sum(c, h, 10.0, 10.0, EXP_N); }, rate);
            else if (q == 3) /* the column pass: h as every column's maximum */
                MEASURE(secs, (double)EXP_N, {
                    k->lse_col_sum(acc, NULL, h, c, 10.0, -10.0, EXP_N);
                    sink = acc[0];
                }, rate);
            else if (q == 4) /* both: x as float values */
                MEASURE(secs, (double)EXP_N, {
                    sink = k->lse_both_sum(x, h, 10.0, -10.0, 10.0, h, acc, EXP_N);
                }, rate);
            else if (q == 5) /* the two-sweep form: maxima, then sums */
                MEASURE(secs, (double)EXP_N, {
                    double mx = k->lse_both_max(x, h, 10.0, -10.0, cm, EXP_N);
                    sink = k->lse_both_sum(x, h, 10.0, -10.0, mx, cm, acc, EXP_N);
                }, rate);
            else /* the shared form: the row's maximum, then one exp each */
                MEASURE(secs, (double)EXP_N, {
                    double mx = k->lse_max_f32(x, h, 10.0, EXP_N);
                    sink = k->lse_sum_shared(x, h, 10.0, mx, 0.5, acc, EXP_N, x);
                }, rate);
            if (isa == SUBSEL_ISA_SCALAR)
                base[q] = rate;
            rates[q] = rate;
            printf("{\"bench\": \"kernels\", \"kernel\": \"%s\", \"isa\": \"%s\", "
                   "\"elements_per_s\": %.4g, \"ns_per_entry\": %.3f, \"speedup_vs_scalar\": %.2f",
                   names[q], subsel_isa_name(isa), rate, 1e9 / rate, rate / base[q]);
            if (q == 4)
                printf(", \"speedup_vs_double_sums\": %.2f",
                       (1.0 / rates[2] + 1.0 / rates[3]) * rate);
            if (q == 6)
                printf(", \"speedup_vs_two_sweeps\": %.2f", rate / rates[5]);
            bench_end_line();
        }
    }
done:
    free(x); free(w); free(c); free(r); free(rl); free(h); free(acc); free(cm);
}

int main(void)
{
    bench_data bd;
    ss_rng rng;
    double base[SS_PHI_COUNT + 2] = {0};
    double secs = 0.3 * bench_scale();
    int isa, p;
    stages_begin("build");
    ss_rng_seed(&rng, 1, 0);
    make(&bd, &rng);
    for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++) {
        const ss_kernels *k = ss_kernels_level(isa);
        if (k == NULL)
            continue;
        for (p = 0; p <= SS_PHI_COUNT + 1; p++) {
            double rate;
            const char *name;
            if (p < SS_PHI_COUNT) {
                name = phi_names[p];
                MEASURE(secs, (double)ROWS * NNZ, {
                    double s = 0;
                    int64_t r;
                    for (r = 0; r < ROWS; r++)
                        s += k->fb_gain[p](bd.idx + r * NNZ, bd.val + r * NNZ, NNZ, bd.m, bd.w, &phis[p]);
                    sink = s;
                }, rate);
            } else if (p == SS_PHI_COUNT) {
                name = "sparse_dot_f32";
                MEASURE(secs, (double)ROWS * NNZ, {
                    double s = 0;
                    int64_t r;
                    for (r = 0; r < ROWS; r++)
                        s += k->sparse_dot_f32(bd.idx + r * NNZ, bd.val + r * NNZ, NNZ, bd.x);
                    sink = s;
                }, rate);
            } else {
                name = "dot_f32";
                MEASURE(secs, (double)D * 64, {
                    double s = 0;
                    int r;
                    for (r = 0; r < 64; r++)
                        s += k->dot_f32(bd.a, bd.b, D - r);
                    sink = s;
                }, rate);
            }
            if (isa == SUBSEL_ISA_SCALAR)
                base[p] = rate;
            printf("{\"bench\": \"kernels\", \"kernel\": \"%s%s\", \"isa\": \"%s\", "
                   "\"elements_per_s\": %.4g, \"speedup_vs_scalar\": %.2f",
                   p < SS_PHI_COUNT ? "fb_gain_" : "", name, subsel_isa_name(isa), rate,
                   rate / base[p]);
            bench_end_line();
        }
    }
    bench_crc32(secs);
    bench_exp(secs);
    free(bd.idx); free(bd.val); free(bd.m); free(bd.w); free(bd.x); free(bd.a); free(bd.b);
    return 0;
}
