/* SPDX-License-Identifier: MIT */
/*
 * The entropic OT engine: its kernels are bit-identical on every level; the
 * log-sum-exp passes match a direct computation on dense and tiled
 * (streamed) matrices; Sinkhorn and partial OT reproduce POT's plans;
 * every returned plan meets its marginal constraints within the
 * tolerance; the GeomLoss-style annealing reproduces the TAROT fixture;
 * results do not depend on the thread count; arguments are checked.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/rank.h"
#include "core/rng.h"
#include "dispatch/dispatch.h"
#include "ot/ot.h"
#include "linalg/tiles.h"
#include "tests/helpers.h"
#include "tests/suites.h"

#define MAX_LEN 70

static subsel_ctx *new_ctx(void)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    return ctx;
}

static void fill_uniform(ss_rng *rng, double *v, int64_t n, double lo,
                         double hi)
{
    int64_t i;
    for (i = 0; i < n; i++)
        v[i] = lo + (hi - lo) * ss_rng_uniform(rng);
}

/* Loads a fixture .npy matrix as floats (rows x cols). */
static float *load_matrix(subsel_ctx *ctx, const char *rel, int64_t *rows,
                          int64_t *cols)
{
    subsel_dense *m;
    float *out;
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, fixture_path(rel), &m));
    *rows = subsel_dense_rows(m);
    *cols = subsel_dense_cols(m);
    out = malloc((size_t)(*rows * *cols) * sizeof *out);
    ck_assert_ptr_nonnull(out);
    memcpy(out, subsel_dense_data(m), (size_t)(*rows * *cols) * sizeof *out);
    subsel_dense_free(m);
    return out;
}

/* ---------------------------------------------------------------------- */
/* Kernels                                                                */
/* ---------------------------------------------------------------------- */

START_TEST(kernels_match_scalar_bit_for_bit)
{
    const ss_kernels *ref = ss_kernels_level(SUBSEL_ISA_SCALAR);
    double c[MAX_LEN], h[MAX_LEN], w[MAX_LEN], r[MAX_LEN], rl[MAX_LEN];
    float xf[MAX_LEN];
    ss_rng rng;
    int isa;
    ss_rng_seed(&rng, 11, 0);
    for (isa = SUBSEL_ISA_AVX2; isa <= SUBSEL_ISA_AVX512; isa++) {
        const ss_kernels *k = ss_kernels_level(isa);
        int64_t n;
        if (k == NULL)
            continue;
        for (n = 0; n <= MAX_LEN; n++) {
            double s = -3.7, hi = 0.3, a, b, out_a[6], out_b[6];
            double ma[MAX_LEN], mb[MAX_LEN], aa[MAX_LEN], ab[MAX_LEN];
            float wa[MAX_LEN], wb[MAX_LEN], wf[MAX_LEN], cf[MAX_LEN];
            double m2[MAX_LEN], a2[MAX_LEN], ea[MAX_LEN], eb[MAX_LEN];
            int64_t j;
            fill_uniform(&rng, c, n, -2.0, 2.0);
            fill_uniform(&rng, h, n, -5.0, 5.0);
            fill_uniform(&rng, w, n, 0.0, 1.0);
            fill_uniform(&rng, r, n, 0.0, 0.05);
            for (j = 0; j < n; j++) {
                xf[j] = (float)(2.0 * ss_rng_uniform(&rng) - 1.0);
                rl[j] = r[j] > 0 ? r[j] * log(r[j]) : 0.0;
                if (j % 7 == 3)
                    r[j] = 0.0, rl[j] = 0.0;
            }
            a = ref->lse_max(c, h, s, n);
            b = k->lse_max(c, h, s, n);
            ck_assert(memcmp(&a, &b, sizeof a) == 0);
            a = ref->lse_sum(c, h, s, 1.5, n);
            b = k->lse_sum(c, h, s, 1.5, n);
            ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "lse_sum %s n=%d",
                          k->name, (int)n);
            fill_uniform(&rng, ma, n, -4.0, 4.0);
            memcpy(mb, ma, sizeof ma);
            ref->lse_col_max(ma, c, s, hi, n);
            k->lse_col_max(mb, c, s, hi, n);
            ck_assert(memcmp(ma, mb, (size_t)n * sizeof *ma) == 0);
            fill_uniform(&rng, aa, n, 0.0, 3.0);
            memcpy(ab, aa, sizeof aa);
            ref->lse_col_sum(aa, ea, ma, c, s, hi, n);
            k->lse_col_sum(ab, eb, ma, c, s, hi, n);
            ck_assert(memcmp(aa, ab, (size_t)n * sizeof *aa) == 0);
            ck_assert(memcmp(ea, eb, (size_t)n * sizeof *ea) == 0);
            for (j = 0; j < n; j++) /* the kept exps are the terms added */
                ck_assert(fabs(ea[j] - exp(fma(s, c[j], hi) - ma[j])) <= 4e-16 * ea[j]);
            memcpy(ab, aa, sizeof aa);
            k->lse_col_sum(ab, NULL, ma, c, s, hi, n); /* without them */
            ref->lse_col_sum(aa, ea, ma, c, s, hi, n);
            ck_assert(memcmp(aa, ab, (size_t)n * sizeof *aa) == 0);
            for (j = 0; j < n; j++)
                cf[j] = (float)c[j];
            memcpy(mb, ma, sizeof ma);
            a = ref->lse_both_max(cf, h, s, hi, ma, n);
            b = k->lse_both_max(cf, h, s, hi, mb, n);
            ck_assert(memcmp(&a, &b, sizeof a) == 0);
            ck_assert(memcmp(ma, mb, (size_t)n * sizeof *ma) == 0);
            memcpy(ab, aa, sizeof aa);
            a = ref->lse_both_sum(cf, h, s, hi, 1.5, ma, aa, n);
            b = k->lse_both_sum(cf, h, s, hi, 1.5, ma, ab, n);
            ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "lse_both_sum %s n=%d",
                          k->name, (int)n);
            ck_assert(memcmp(aa, ab, (size_t)n * sizeof *aa) == 0);
            a = ref->lse_max_f32(cf, h, s, n);
            b = k->lse_max_f32(cf, h, s, n);
            ck_assert(memcmp(&a, &b, sizeof a) == 0);
            memcpy(ab, aa, sizeof aa);
            a = ref->lse_sum_shared(cf, h, s, 1.5, 0.7, aa, n, cf);
            b = k->lse_sum_shared(cf, h, s, 1.5, 0.7, ab, n, cf);
            ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "lse_sum_shared %s n=%d",
                          k->name, (int)n);
            ck_assert(memcmp(aa, ab, (size_t)n * sizeof *aa) == 0);
            fill_uniform(&rng, m2, n, -4.0, 4.0);
            fill_uniform(&rng, a2, n, 0.5, 3.0);
            ref->lse_merge(ma, aa, m2, a2, n);
            k->lse_merge(mb, ab, m2, a2, n);
            ck_assert(memcmp(ma, mb, (size_t)n * sizeof *ma) == 0);
            ck_assert(memcmp(aa, ab, (size_t)n * sizeof *aa) == 0);
            a = ref->gibbs_row(ma, c, h, s, hi, n);
            b = k->gibbs_row(mb, c, h, s, hi, n);
            ck_assert(memcmp(&a, &b, sizeof a) == 0);
            ck_assert(memcmp(ma, mb, (size_t)n * sizeof *ma) == 0);
            a = ref->max_f32(xf, n);
            b = k->max_f32(xf, n);
            ck_assert(memcmp(&a, &b, sizeof a) == 0);
            a = ref->exp_affine_f32(wa, xf, 25.0, 3.0, n);
            b = k->exp_affine_f32(wb, xf, 25.0, 3.0, n);
            ck_assert(memcmp(&a, &b, sizeof a) == 0);
            ck_assert(memcmp(wa, wb, (size_t)n * sizeof *wa) == 0);
            {
                /* a random subset, across the word boundary at 64 */
                uint64_t bits[2] = {ss_rng_next(&rng), ss_rng_next(&rng)};
                float pa[MAX_LEN] = {0}, pb[MAX_LEN] = {0};
                if (n < 128)
                    bits[n / 64] &= ((uint64_t)1 << (n % 64)) - 1;
                if (n < 64)
                    bits[1] = 0;
                memset(wa, 0, sizeof wa);
                memset(wb, 0, sizeof wb);
                a = ref->pack_f32(wa, xf, NULL, NULL, bits, n);
                b = k->pack_f32(wb, xf, NULL, NULL, bits, n);
                ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "pack_f32 %s n=%d", k->name,
                              (int)n);
                ck_assert(memcmp(wa, wb, sizeof wa) == 0);
                /* with a second row (the costs cf): the same first, the
                 * second alike */
                b = k->pack_f32(wb, xf, pb, cf, bits, n);
                a = ref->pack_f32(wa, xf, pa, cf, bits, n);
                ck_assert(memcmp(&a, &b, sizeof a) == 0);
                ck_assert(memcmp(wa, wb, sizeof wa) == 0 && memcmp(pa, pb, sizeof pa) == 0);
            }
            for (j = 0; j < n; j++)
                wf[j] = (float)w[j];
            ref->waterfill_sums(wf, r, rl, xf, 9.0, n, out_a);
            k->waterfill_sums(wf, r, rl, xf, 9.0, n, out_b);
            ck_assert(memcmp(out_a, out_b, sizeof out_a) == 0);
            /* Distances from float products: r as squared norms, xf as
             * products (some of them near pairs). */
            for (hi = 0.0; hi < 2.0; hi += 1.0) {
                int64_t ca = ref->dist_from_dot_f32(ma, xf, 0.5, r, 0.9, (int)hi, n);
                int64_t cb = k->dist_from_dot_f32(mb, xf, 0.5, r, 0.9, (int)hi, n);
                ck_assert_int_eq(ca, cb);
                ck_assert(memcmp(ma, mb, (size_t)n * sizeof *ma) == 0);
            }
        }
    }
}
END_TEST

START_TEST(kernels_are_accurate)
{
    /* Against libm and plain loops on the level under test. */
    const ss_kernels *k = ss_kernels_level(subsel_isa_selected());
    double c[MAX_LEN], h[MAX_LEN], out[MAX_LEN], w[MAX_LEN], r[MAX_LEN];
    double rl[MAX_LEN], sums[6];
    float xf[MAX_LEN], wf[MAX_LEN];
    ss_rng rng;
    int64_t n = MAX_LEN, j;
    double s = -2.5, mx = -INFINITY, sum = 0.0, dot = 0.0, got;
    double want[6] = {0, 0, 0, 0, 0, 0}, mu = 7.0;
    ss_rng_seed(&rng, 12, 0);
    fill_uniform(&rng, c, n, -2.0, 2.0);
    fill_uniform(&rng, h, n, -5.0, 5.0);
    for (j = 0; j < n; j++)
        mx = fmax(mx, s * c[j] + h[j]);
    for (j = 0; j < n; j++) {
        sum += exp(s * c[j] + h[j] - mx);
        dot += exp(s * c[j] + h[j] + 0.25) * c[j];
    }
    ck_assert_double_eq_tol(k->lse_max(c, h, s, n), mx, 1e-14);
    ck_assert_double_eq_tol(k->lse_sum(c, h, s, mx, n), sum, 1e-13 * sum);
    got = k->gibbs_row(out, c, h, s, 0.25, n);
    ck_assert_double_eq_tol(got, dot, 1e-12 * fabs(dot) + 1e-14);
    for (j = 0; j < n; j++)
        ck_assert_double_eq_tol(out[j], exp(s * c[j] + h[j] + 0.25),
                                1e-14 * out[j]);
    ck_assert(k->lse_max(c, h, s, 0) == -INFINITY);
    ck_assert(k->lse_sum(c, h, s, 0.0, 0) == 0.0);
    {
        /* Both passes over float values, single-precision exps: each term
         * within 2^-24 (|y| + 2) of itself, y its exponent (rounded to
         * float, then under 2^-23). */
        double bound = 0.0, rmax = -INFINITY, rsum = 0.0, zero_col = 0.0, top;
        int zeros = 0;
        double acc[MAX_LEN], base[MAX_LEN], mcol[MAX_LEN], cmax[MAX_LEN];
        float cf[MAX_LEN];
        for (j = 0; j < n; j++) {
            cf[j] = (float)c[j];
            rmax = fmax(rmax, s * cf[j] + h[j]);
            mcol[j] = s * cf[j] + 0.75 + 3.0 * ss_rng_uniform(&rng);
            cmax[j] = mcol[j] - 1.0;
            base[j] = 0.5 * j;
            acc[j] = base[j];
        }
        ck_assert(k->lse_both_max(cf, h, s, 0.75, &zero_col, 0) == -INFINITY);
        ck_assert(k->lse_both_sum(cf, h, s, 0.75, 0.0, mcol, acc, 0) == 0.0);
        ck_assert_double_eq_tol(k->lse_both_max(cf, h, s, 0.75, cmax, n), rmax,
                                1e-14);
        for (j = 0; j < n; j++) /* raised to s c + 0.75 where that is more */
            ck_assert(cmax[j] == fmax(mcol[j] - 1.0, fma(s, cf[j], 0.75)));
        for (j = 0; j < n; j++) {
            double y = s * cf[j] + h[j] - rmax;
            rsum += exp(y);
            bound += exp(y) * (fabs(y) + 2.0) * 0x1p-24;
        }
        ck_assert_double_eq_tol(k->lse_both_sum(cf, h, s, 0.75, rmax, mcol, acc, n),
                                rsum, bound + 1e-15 * rsum);
        for (j = 0; j < n; j++) {
            double y = s * cf[j] + 0.75 - mcol[j], e = exp(y);
            ck_assert_double_eq_tol(acc[j] - base[j], e,
                                    e * (fabs(y) + 2.0) * 0x1p-24 + 1e-15 * acc[j]);
        }
        /* The one-exp form: the row's maximum (exact), its sum, and a times
         * each term added to the columns; the exponents reach below -87,
         * where the terms are 0. */
        ck_assert(k->lse_max_f32(cf, h, s, 0) == -INFINITY);
        ck_assert(k->lse_sum_shared(cf, h, s, 0.0, 0.5, acc, 0, cf) == 0.0);
        ck_assert(k->lse_max_f32(cf, h, s, n) == rmax);
        top = k->lse_max_f32(cf, h, 40.0 * s, n);
        for (j = 0; j < n; j++)
            acc[j] = base[j];
        got = k->lse_sum_shared(cf, h, 40.0 * s, top, 0.375, acc, n, cf);
        for (j = 0, rsum = 0.0, bound = 0.0; j < n; j++) {
            double y = fma(40.0 * s, cf[j], h[j]) - top, e = y < -87.0 ? 0.0 : exp(y);
            ck_assert(fabs(acc[j] - base[j] - 0.375 * e) <=
                      0.375 * e * (fabs(y) + 2.0) * 0x1p-24 + 1e-15 * acc[j]);
            rsum += e;
            bound += e * (fabs(y) + 2.0) * 0x1p-24;
            zeros += e == 0.0;
        }
        ck_assert(zeros > 0 && zeros < n); /* both sides of -87 */
        ck_assert_double_eq_tol(got, rsum, bound + 1e-15 * rsum);
        {
            /* Whole blocks of 16 under the flush are skipped: a block all
             * far under, one with a single entry just over -87, one of
             * ordinary terms, then a tail with -87 itself and the float
             * just under it. Every term as its definition gives it. */
            double hy[53], sacc[53], ssum = 0.0, sbound = 0.0, sgot;
            float zero[53];
            for (j = 0; j < 53; j++) {
                zero[j] = 0.0f;
                hy[j] = j >= 32 && j < 48 ? -1.0 - 0.125 * (double)(j - 32) : -200.0;
                sacc[j] = 0.0;
            }
            hy[23] = -86.9;
            hy[49] = -87.0;
            hy[50] = (double)nextafterf(-87.0f, -INFINITY);
            hy[51] = -86.99;
            sgot = k->lse_sum_shared(zero, hy, s, 0.0, 0.25, sacc, 53, zero);
            for (j = 0; j < 53; j++) {
                double e = (float)hy[j] < -87.0f ? 0.0 : exp(hy[j]);
                ck_assert_msg(fabs(sacc[j] - 0.25 * e) <= 0.25 * e * 89.0 * 0x1p-24,
                              "entry %d: %.17g", (int)j, sacc[j]);
                ck_assert((e == 0.0) == (sacc[j] == 0.0));
                ssum += e;
                sbound += e * 89.0 * 0x1p-24;
            }
            ck_assert(sacc[23] > 0.0 && sacc[49] > 0.0 && sacc[50] == 0.0);
            ck_assert_double_eq_tol(sgot, ssum, sbound + 1e-15 * ssum);
        }
    }
    fill_uniform(&rng, w, n, 0.0, 1.0);
    fill_uniform(&rng, r, n, 0.0, 0.2);
    for (j = 0; j < n; j++) {
        xf[j] = (float)ss_rng_uniform(&rng);
        wf[j] = (float)w[j];
        rl[j] = r[j] * log(r[j]);
        if (r[j] * mu < wf[j]) {
            want[1] += r[j];
            want[2] += r[j] * xf[j];
            want[3] += rl[j];
            want[4] += 1.0;
        } else {
            want[0] += wf[j];
            if (r[j] > 0.0)
                want[5] = fmax(want[5], wf[j] / r[j]);
        }
    }
    ck_assert_double_gt(want[5], 0.0);
    k->waterfill_sums(wf, r, rl, xf, mu, n, sums);
    for (j = 0; j < 6; j++)
        ck_assert_double_eq_tol(sums[j], want[j], 1e-12 * (1.0 + fabs(want[j])));
    {
        /* exp_affine_f32: each weight exp rounded to float (within 2^-24
         * and the exp's own error), the sum of the weights as stored. */
        double total = 0.0, got_sum = k->exp_affine_f32(wf, xf, 9.0, 4.0, n);
        for (j = 0; j < n; j++) {
            double e = exp(9.0 * xf[j] - 4.0);
            ck_assert_double_eq_tol(wf[j], e, 6.0e-8 * e);
            total += wf[j];
        }
        ck_assert_double_eq_tol(got_sum, total, 1e-13 * total);
    }
    {
        /* pack_f32 keeps the set bits' values in order, and its sum of
         * packed kept weights is exp_affine_f32's of the weights made from
         * the packed values, to the bit (what lets UniPROT's gains read
         * kept weights or make them anew). */
        uint64_t bits[(MAX_LEN + 63) / 64] = {0};
        float packed[MAX_LEN], kept[MAX_LEN], made[MAX_LEN], again[MAX_LEN], both[MAX_LEN];
        int64_t count = 0;
        double made_sum, kept_sum;
        for (j = 0; j < n; j++)
            if (ss_rng_uniform(&rng) < 0.6)
                bits[j / 64] |= (uint64_t)1 << (j % 64);
        k->exp_affine_f32(kept, xf, 9.0, 4.0, n);
        k->pack_f32(packed, xf, NULL, NULL, bits, n);
        kept_sum = k->pack_f32(again, kept, both, xf, bits, n);
        for (j = 0; j < n; j++)
            if (bits[j / 64] >> (j % 64) & 1) {
                ck_assert(packed[count] == xf[j] && both[count] == xf[j]);
                ck_assert(again[count++] == kept[j]);
            }
        ck_assert_int_gt(count, 0);
        ck_assert_int_lt(count, n);
        made_sum = k->exp_affine_f32(made, packed, 9.0, 4.0, count);
        ck_assert(memcmp(made, again, (size_t)count * sizeof *made) == 0);
        ck_assert(memcmp(&made_sum, &kept_sum, sizeof made_sum) == 0);
    }
    {
        /* dist_from_dot_f32 against its definition, with r as the squared
         * norms and xf as the products. */
        int64_t near = 0, root;
        for (j = 0; j < n; j++)
            near += (0.3 + r[j]) - 2.0 * (double)xf[j] < 0.5 * (0.3 + r[j]);
        ck_assert_int_gt(near, 0);
        ck_assert_int_lt(near, n);
        for (root = 0; root < 2; root++) {
            ck_assert_int_eq(k->dist_from_dot_f32(out, xf, 0.3, r, 0.5, (int)root, n), near);
            for (j = 0; j < n; j++) {
                double q = fmax((0.3 + r[j]) - 2.0 * (double)xf[j], 0.0);
                ck_assert(out[j] == (root ? sqrt(q) : q));
            }
        }
    }
}
END_TEST

/* exp((float)y) for the row and exp((float)y2) for the column of one
 * entry of lse_both_sum (value 0, s = 1): its two halves of one vf_exp. */
static void single_exps(const ss_kernels *k, double y, double y2, double *row,
                        double *col)
{
    float zero = 0.0f;
    double colmax = -y2;
    *col = 0.0;
    *row = k->lse_both_sum(&zero, &y, 1.0, 0.0, 0.0, &colmax, col, 1);
}

START_TEST(single_exps_are_accurate)
{
    /* vf_exp: exp(y) for y rounded to float, within 2^-23 relative (7.8e-8
     * here, 8.7e-8 on a sweep 13 times denser) at 14,000 points over
     * [-87, 88], 0 below -87 and never a subnormal, in both halves of the
     * vector. Every instruction set is checked, so a polynomial or
     * reduction changed in one backend fails here. */
    int isa;
    for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++) {
        const ss_kernels *k = ss_kernels_level(isa);
        double worst = 0.0, y, row, col;
        if (k == NULL)
            continue;
        for (y = -87.0; y <= 88.0; y += 0.0123457) {
            double yf = (double)(float)y, want = exp(yf);
            single_exps(k, y, y, &row, &col);
            ck_assert(row == col);
            worst = fmax(worst, fabs(row - want) / want);
            ck_assert_msg(row == (double)(float)row && row >= 0x1p-126,
                          "%s: exp(%.9g) = %a is not a normal float", k->name,
                          yf, row);
        }
        ck_assert_msg(worst <= 0x1p-23, "%s: worst relative error %.3g", k->name,
                      worst);
        for (y = -87.5; y > -1e6; y *= 3.0) {
            single_exps(k, y, y, &row, &col);
            ck_assert(row == 0.0 && col == 0.0);
        }
        {
            /* the tail lanes (partial vectors) give the same terms */
            double ys[19], mx[19], acc[19], total, one_row, one_col;
            float zeros[19] = {0.0f};
            int j, len;
            for (j = 0; j < 19; j++)
                ys[j] = -0.37 * j;
            for (len = 1; len <= 19; len++) {
                total = 0.0;
                for (j = 0; j < len; j++) {
                    mx[j] = 0.37 * j;
                    acc[j] = 0.0;
                    single_exps(k, ys[j], ys[j], &one_row, &one_col);
                    total += one_row;
                }
                ck_assert_double_eq_tol(
                    k->lse_both_sum(zeros, ys, 1.0, 0.0, 0.0, mx, acc, len),
                    total, 1e-15 * total);
                for (j = 0; j < len; j++) {
                    single_exps(k, ys[j], ys[j], &one_row, &one_col);
                    ck_assert(acc[j] == one_col);
                }
            }
        }
    }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Log-sum-exp passes                                                     */
/* ---------------------------------------------------------------------- */

/* Direct row and column log-sum-exps of s C + h. */
static void lse_reference(const double *c, int64_t n, int64_t m, double s,
                          const double *hcol, const double *hrow,
                          double *row, double *col)
{
    int64_t i, j;
    for (i = 0; i < n; i++) {
        double mx = -INFINITY, sum = 0.0;
        for (j = 0; j < m; j++)
            mx = fmax(mx, s * c[i * m + j] + hcol[j]);
        for (j = 0; j < m; j++)
            sum += exp(s * c[i * m + j] + hcol[j] - mx);
        row[i] = mx + log(sum);
    }
    for (j = 0; j < m; j++) {
        double mx = -INFINITY, sum = 0.0;
        for (i = 0; i < n; i++)
            mx = fmax(mx, s * c[i * m + j] + hrow[i]);
        for (i = 0; i < n; i++)
            sum += exp(s * c[i * m + j] + hrow[i] - mx);
        col[j] = mx + log(sum);
    }
}

/* How many rows of fast values are kept (rowp), not recomputed. */
static int64_t stored_rows(const ss_ot_cost *cost)
{
    int64_t i, count = 0;
    for (i = 0; cost->rowp != NULL && i < cost->n; i++)
        count += cost->rowp[i] != NULL;
    return count;
}

START_TEST(both_lse_shares_the_rows_exps)
{
    /* ss_ot_both_lse's one-exp form, on integer points, whose float
     * products are exact: the values are the reference's, and the errors
     * are the exps' own. A row's log-sum-exp is within 2^-24 (log m + 2);
     * a column's terms are the rows' exps, each within 2^-24 (87 + 2) of
     * itself. Three cases: plain; rows whose u_i = rowmax_i + hrow_i rises
     * down each tile (the reference moves and rescales the sums so far);
     * and a first row whose hrow of 500 puts it first in every column while
     * its own exps go below e^-87 in most of them, so that only the
     * two-sweep form (each column's own maximum) gets those columns right.
     * Each with all rows stored and with none: the same bits. */
    subsel_ctx *ctx = new_ctx();
    int64_t n = 1100, m = 600, d = 3, i, j, kase;
    float *x = malloc((size_t)(n * d) * sizeof *x), *y = malloc((size_t)(m * d) * sizeof *y);
    double *c = malloc((size_t)(n * m) * sizeof *c);
    double *hc = malloc((size_t)m * sizeof *hc), *hr = malloc((size_t)n * sizeof *hr);
    double *row = malloc((size_t)n * sizeof *row), *col = malloc((size_t)m * sizeof *col);
    double *row2 = malloc((size_t)n * sizeof *row2), *col2 = malloc((size_t)m * sizeof *col2);
    double *row3 = malloc((size_t)n * sizeof *row3), *col3 = malloc((size_t)m * sizeof *col3);
    ss_rng rng;
    ss_rng_seed(&rng, 31, 0);
    for (i = 0; i < n * d; i++)
        x[i] = (float)(int)ss_rng_below(&rng, 9) - 4.0f;
    for (i = 0; i < m * d; i++)
        y[i] = (float)(int)ss_rng_below(&rng, 9) - 4.0f;
    for (i = 0; i < n; i++)
        for (j = 0; j < m; j++) {
            double s2 = 0.0;
            int64_t q;
            for (q = 0; q < d; q++)
                s2 += ((double)x[i * d + q] - y[j * d + q]) * ((double)x[i * d + q] - y[j * d + q]);
            c[i * m + j] = s2;
        }
    for (kase = 0; kase < 3; kase++) {
        double s = kase == 2 ? -1.0 : -0.3;
        int64_t budget;
        fill_uniform(&rng, hc, m, -3.0, 3.0);
        fill_uniform(&rng, hr, n, -3.0, 3.0);
        for (i = 0; kase == 1 && i < n; i++)
            hr[i] += 0.4 * (double)(i % 128); /* 128-row tiles */
        if (kase == 2)
            hr[0] = 500.0;
        lse_reference(c, n, m, s, hc, hr, row, col);
        for (budget = 0; budget < 2; budget++) {
            ss_ot_cost cost;
            ck_assert_ok(ctx, ss_ot_cost_points(ctx, &cost, SS_METRIC_SQEUCLID, 1, x, d, n,
                                                y, d, m, d,
                                                budget ? SS_OT_DEFAULT_BUDGET : 0));
            ck_assert_int_eq(stored_rows(&cost), budget ? n : 0);
            ck_assert_ok(ctx, ss_ot_both_lse(ctx, &cost, s, hc, row2, hr, col2));
            ss_ot_cost_release(ctx, &cost);
            for (i = 0; i < n; i++)
                ck_assert_double_eq_tol(row2[i], row[i], 0x1p-24 * (log((double)m) + 2.0) +
                                                             1e-14 * fabs(row[i]));
            for (j = 0; j < m; j++)
                ck_assert_double_eq_tol(col2[j], col[j], 0x1p-24 * 89.0 + 1e-14 * fabs(col[j]));
            if (budget) {
                ck_assert(memcmp(row2, row3, (size_t)n * sizeof *row2) == 0);
                ck_assert(memcmp(col2, col3, (size_t)m * sizeof *col2) == 0);
            }
            memcpy(row3, row2, (size_t)n * sizeof *row2);
            memcpy(col3, col2, (size_t)m * sizeof *col2);
        }
    }
    free(x), free(y), free(c), free(hc), free(hr);
    free(row), free(col), free(row2), free(col2), free(row3), free(col3);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(lse_passes_match_direct_computation)
{
    /* Sizes that cross the stripe (256), chunk (128) and tile (128 to 512
     * rows x 512) boundaries, with tiles of all three heights (the last
     * shape's 17 tiles of 512 rows span two waves of ss_ot_both_lse); dense,
     * materialised and streamed point clouds, exact and fast (float
     * products; the first tile rows stored in float). */
    static const int64_t shapes[][2] = {{1, 1},     {3, 700},   {300, 5}, {131, 513},
                                        {1100, 70}, {4500, 20}, {8300, 9}};
    subsel_ctx *ctx = new_ctx();
    ss_rng rng;
    size_t q;
    /* Tile heights: for fast tiles the largest that leaves 16 tiles, from
     * n alone; exact tiles keep 128 rows. */
    ck_assert_int_eq(ss_tile_rows(1, 1), 128);
    ck_assert_int_eq(ss_tile_rows(4095, 1), 128);
    ck_assert_int_eq(ss_tile_rows(4096, 1), 256);
    ck_assert_int_eq(ss_tile_rows(8191, 1), 256);
    ck_assert_int_eq(ss_tile_rows(8192, 1), 512);
    ck_assert_int_eq(ss_tile_rows(INT64_MAX, 1), 512);
    ck_assert_int_eq(ss_tile_rows(INT64_MAX, 0), 128);
    /* A pass's tiles are those, clamped to the matrix (rounded up to 8):
     * one tile either way, with scratch for its own size only. */
    {
        ss_tiles small = ss_tiles_for(10, 6, 7, 1), big = ss_tiles_for(9000, 700, 7, 1);
        ss_tiles exact = ss_tiles_for(131, 513, 7, 0), one = ss_tiles_for(1, 1, 7, 0);
        ck_assert_int_eq(small.rows, 16);
        ck_assert_int_eq(small.cols, 8);
        ck_assert_int_eq(big.rows, 512);
        ck_assert_int_eq(big.cols, ss_tile_cols(7));
        ck_assert_int_eq(exact.rows, 128);
        ck_assert_int_eq(exact.cols, ss_tile_cols(7));
        ck_assert_int_eq(one.rows, 8);
        ck_assert_int_eq(one.cols, 8);
        ck_assert_int_lt(ss_tile_scratch_stride(&small, 0), ss_tile_scratch_stride(&big, 0) / 100);
    }
    ss_rng_seed(&rng, 13, 0);
    for (q = 0; q < sizeof shapes / sizeof shapes[0]; q++) {
        int64_t n = shapes[q][0], m = shapes[q][1], d = 7, i, mode;
        float *x = malloc((size_t)(n * d) * sizeof *x);
        float *y = malloc((size_t)(m * d) * sizeof *y);
        double *c = malloc((size_t)(n * m) * sizeof *c);
        double *hc = malloc((size_t)m * sizeof *hc), *hr = malloc((size_t)n * sizeof *hr);
        double *row = malloc((size_t)n * sizeof *row), *col = malloc((size_t)m * sizeof *col);
        double *row2 = malloc((size_t)n * sizeof *row2), *col2 = malloc((size_t)m * sizeof *col2);
        for (i = 0; i < n * d; i++)
            x[i] = (float)(2.0 * ss_rng_uniform(&rng) - 1.0);
        for (i = 0; i < m * d; i++)
            y[i] = (float)(2.0 * ss_rng_uniform(&rng) - 1.0);
        for (i = 0; i < n; i++) {
            int64_t j, k;
            for (j = 0; j < m; j++) {
                double s2 = 0.0;
                for (k = 0; k < d; k++) {
                    double diff = (double)x[i * d + k] - (double)y[j * d + k];
                    s2 += diff * diff;
                }
                c[i * m + j] = s2;
            }
        }
        fill_uniform(&rng, hc, m, -3.0, 3.0);
        fill_uniform(&rng, hr, n, -3.0, 3.0);
        lse_reference(c, n, m, -4.0, hc, hr, row, col);
        for (mode = 0; mode < 5; mode++) {
            /* Modes 3 and 4 are fast: values within ~1e-6 |x| |y| (here
             * |x|^2 <= 7), so log-sum-exps at s = -4 within ~1e-4. */
            double tol = mode < 3 ? 1e-12 : 1e-4;
            int64_t tr = ss_tile_rows(n, 1), head = 4 * m * tr; /* bytes: one tile */
            int stored;
            ss_ot_cost cost;
            if (mode == 0)
                ss_ot_cost_dense(&cost, c, n, m, m);
            else
                ck_assert_ok(ctx, ss_ot_cost_points(
                                      ctx, &cost, SS_METRIC_SQEUCLID, mode >= 3, x, d, n, y,
                                      d, m, d, mode == 1 ? SS_OT_DEFAULT_BUDGET
                                                      : mode == 4 ? head : 0));
            /* Exact values are stored in double (mode 1) or streamed (2);
             * fast ones in float, mode 4's budget holding one tile of rows
             * (all of a problem no taller). */
            stored = mode < 2;
            ck_assert((cost.c != NULL) == stored);
            ck_assert_int_eq(stored_rows(&cost), mode == 4 ? (n < tr ? n : tr) : 0);
            ck_assert_ok(ctx, ss_ot_row_lse(ctx, &cost, -4.0, hc, row2));
            ck_assert_ok(ctx, ss_ot_col_lse(ctx, &cost, -4.0, hr, col2));
            for (i = 0; i < n; i++)
                ck_assert_double_eq_tol(row2[i], row[i], tol * (1.0 + fabs(row[i])));
            for (i = 0; i < m; i++)
                ck_assert_double_eq_tol(col2[i], col[i], tol * (1.0 + fabs(col[i])));
            /* Both from one pass over the tiles (waves of 16 row blocks),
             * for fast values only, in float and with single-precision
             * exps: each log-sum-exp of `count` terms within 2^-24
             * (log(count) + 2), plus the values' own error. */
            if (mode < 3) {
                ck_assert_int_eq(ss_ot_both_lse(ctx, &cost, -4.0, hc, row2, hr, col2),
                                 SUBSEL_E_INVALID);
                ss_ot_cost_release(ctx, &cost);
                continue;
            }
            ck_assert_ok(ctx, ss_ot_both_lse(ctx, &cost, -4.0, hc, row2, hr, col2));
            for (i = 0; i < n; i++)
                ck_assert_double_eq_tol(row2[i], row[i],
                                        tol * (1.0 + fabs(row[i])) +
                                            0x1p-24 * (log((double)m) + 2.0));
            for (i = 0; i < m; i++)
                ck_assert_double_eq_tol(col2[i], col[i],
                                        tol * (1.0 + fabs(col[i])) +
                                            0x1p-24 * (log((double)n) + 2.0));
            ss_ot_cost_release(ctx, &cost);
        }
        free(x), free(y), free(c), free(hc), free(hr);
        free(row), free(col), free(row2), free(col2);
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* GeomLoss-style annealing (TAROT)                                       */
/* ---------------------------------------------------------------------- */

START_TEST(anneal_reproduces_tarot_fixture)
{
    subsel_ctx *ctx = new_ctx();
    int64_t n, m, d, d2, cnt, i;
    float *u = load_matrix(ctx, "tarot/U.npy", &n, &d);
    float *v = load_matrix(ctx, "tarot/V.npy", &m, &d2);
    double *fw = read_f64(fixture_path("tarot/f.npy"), &cnt);
    double *gw = read_f64(fixture_path("tarot/g.npy"), &cnt);
    double *f = malloc((size_t)n * sizeof *f), *g = malloc((size_t)m * sizeof *g);
    double *f0 = malloc((size_t)n * sizeof *f0), loss, loss0 = 0.0;
    int streamed;
    ck_assert_int_eq(d, d2);
    /* Stored costs, then streamed fast tiles (budget 0): the values are the
     * same floats either way, so the potentials are the same bits. */
    for (streamed = 0; streamed < 2; streamed++) {
        ck_assert_ok(ctx, ss_ot_anneal_uniform_budget(
                              ctx, u, n, v, m, d, 0.01, 0.5,
                              streamed ? 0 : SS_OT_DEFAULT_BUDGET, f, g, &loss));
        if (!streamed) {
            memcpy(f0, f, (size_t)n * sizeof *f);
            loss0 = loss;
        } else {
            ck_assert(memcmp(f0, f, (size_t)n * sizeof *f) == 0);
            ck_assert(memcmp(&loss0, &loss, sizeof loss) == 0);
        }
        for (i = 0; i < n; i++)
            ck_assert_double_eq_tol(f[i], fw[i], 1e-6);
        for (i = 0; i < m; i++)
            ck_assert_double_eq_tol(g[i], gw[i], 1e-6);
        /* expected.json "tarot" loss. */
        ck_assert_double_eq_tol(loss, 0.9882505286610235, 1e-6);
    }
    free(u), free(v), free(fw), free(gw), free(f), free(g), free(f0);
    subsel_ctx_free(ctx);
}
END_TEST


START_TEST(anneal_row_cache_gives_the_same_bits)
{
    /* Growing sets of rows of a pool (each holding the last, in ascending
     * order as TAROT's OTM solves them), solved with a row cache and
     * afresh: the same potentials and loss, bit for bit, each row computed
     * once while the cache has room. A cache with room for 40 rows leaves
     * the rest recomputed at every pass, to the same bits. */
    enum { POOL = 300, M = 90, D = 16, SETS = 4 };
    static const int64_t sizes[SETS] = {50, 120, 200, 300};
    subsel_ctx *ctx = new_ctx();
    float *pool = malloc(sizeof(float) * POOL * D), *y = malloc(sizeof(float) * M * D);
    float *x = malloc(sizeof(float) * POOL * D);
    int64_t perm[POOL], ids[POOL], i, q, room;
    double f[POOL], g[M], f2[POOL], g2[M], loss, loss2;
    ss_rng rng;
    ss_perm order;
    ss_rng_seed(&rng, 41, 0);
    for (i = 0; i < POOL * D; i++)
        pool[i] = (float)ss_rng_normal(&rng);
    for (i = 0; i < M * D; i++)
        y[i] = (float)(ss_rng_normal(&rng) + 0.5);
    ss_perm_init(&order, POOL, 41, 1);
    for (i = 0; i < POOL; i++)
        perm[i] = (int64_t)ss_perm_at(&order, (uint64_t)i);
    for (room = 0; room < 2; room++) {
        ss_ot_row_cache cache;
        int64_t budget = room ? 40 * 4 * M : SS_OT_DEFAULT_BUDGET;
        ck_assert_ok(ctx, ss_ot_row_cache_init(ctx, &cache, POOL, M, budget));
        ck_assert_int_eq(cache.capacity, room ? 40 : POOL);
        for (q = 0; q < SETS; q++) {
            int64_t n = sizes[q];
            memcpy(ids, perm, (size_t)n * sizeof *ids);
            qsort(ids, (size_t)n, sizeof *ids, ss_compare_int64);
            for (i = 0; i < n; i++)
                memcpy(x + i * D, pool + ids[i] * D, sizeof(float) * D);
            ck_assert_ok(ctx, ss_ot_anneal_uniform_cached(ctx, x, n, ids, &cache, y, M,
                                                          D, 0.05, 0.5, budget, f,
                                                          g, &loss));
            ck_assert_int_eq(cache.rows, room ? 40 : n);
            ck_assert_ok(ctx, ss_ot_anneal_uniform_budget(ctx, x, n, y, M, D, 0.05,
                                                          0.5, SS_OT_DEFAULT_BUDGET,
                                                          f2, g2, &loss2));
            ck_assert(memcmp(f, f2, (size_t)n * sizeof *f) == 0);
            ck_assert(memcmp(g, g2, sizeof g) == 0);
            ck_assert(memcmp(&loss, &loss2, sizeof loss) == 0);
        }
        ss_ot_row_cache_release(ctx, &cache);
    }
    free(pool), free(y), free(x);
    subsel_ctx_free(ctx);
}
END_TEST

/* Fast tiles: every value within the float products' error of the exact
 * tile, and near pairs (here exact duplicates and near-duplicates, where a
 * float product would leave the distance wrong by ~1e-3) exact. */
START_TEST(fast_tiles_redo_near_pairs_in_double)
{
    subsel_ctx *ctx = new_ctx();
    const int64_t nx = 100, ny = 120, d = 256;
    float *x = malloc((size_t)(nx * d) * sizeof *x), *y = malloc((size_t)(ny * d) * sizeof *y);
    double xs[100], ys[120], *scratch, *exact, *fast, worst = 0.0;
    int metric;
    int64_t i, j;
    ss_rng rng;
    ss_rng_seed(&rng, 61, 0);
    for (i = 0; i < nx * d; i++)
        x[i] = (float)ss_rng_normal(&rng) / 16.0f;
    for (i = 0; i < ny * d; i++)
        y[i] = (float)ss_rng_normal(&rng) / 16.0f;
    for (j = 0; j < 40; j++) /* duplicates, then near-duplicates */
        for (i = 0; i < d; i++)
            y[j * d + i] = x[j * d + i] + (j < 20 ? 0.0f : 1e-4f * (float)(i % 3));
    ss_row_sqnorms(ctx, x, d, nx, d, xs);
    ss_row_sqnorms(ctx, y, d, ny, d, ys);
    ck_assert_int_le(nx, SS_TILE_ROWS_MIN);
    ck_assert_int_le(ny, ss_tile_cols(d));
    {
        ss_tiles tiles = ss_tiles_for(nx, ny, d, 0);
        ck_assert_ok(ctx, ss_tile_scratch(ctx, 1, ss_tile_scratch_stride(&tiles, 0), &scratch));
    }
    exact = malloc((size_t)(nx * ny) * sizeof *exact);
    fast = malloc((size_t)(nx * ny) * sizeof *fast);
    for (metric = 0; metric < SS_METRIC_COUNT; metric++) {
        ss_pairwise_tile(ctx, metric, 0, x, d, nx, xs, y, d, ny, ys, d, scratch, exact, ny);
        ss_pairwise_tile(ctx, metric, 1, x, d, nx, xs, y, d, ny, ys, d, scratch, fast, ny);
        for (i = 0; i < nx; i++)
            for (j = 0; j < ny; j++) {
                double err = fabs(fast[i * ny + j] - exact[i * ny + j]);
                double bound = 1e-6 * sqrt(xs[i] * ys[j]);
                if (metric != SS_METRIC_DOT && metric != SS_METRIC_COSINE &&
                    metric != SS_METRIC_COSINE_DIST && j < 40 && i == j) {
                    /* A near pair, redone in double: squared distances
                     * agree to double rounding (which sqrt amplifies). */
                    if (metric == SS_METRIC_EUCLID || metric == SS_METRIC_NEG_EUCLID)
                        err = fabs(fast[i * ny + j] * fast[i * ny + j] -
                                   exact[i * ny + j] * exact[i * ny + j]);
                    bound = 1e-12;
                }
                ck_assert_msg(err <= bound, "metric %d (%lld, %lld): %g vs %g", metric,
                              (long long)i, (long long)j, fast[i * ny + j],
                              exact[i * ny + j]);
                worst = err > worst ? err : worst;
            }
    }
    ck_assert(worst > 0.0); /* the fast path did take float products */
    free(x), free(y), free(exact), free(fast);
    ss_free(ctx, scratch);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Balanced and partial OT against POT                                    */
/* ---------------------------------------------------------------------- */

typedef struct fixture {
    double *a, *b, *c, *plan;
    int64_t n, m;
} fixture;

/* A 2-D C-order float64 .npy matrix of known size (the public readers give
 * float matrices or vectors; costs must keep double precision). */
static double *read_f64_matrix(const char *path, int64_t count)
{
    unsigned char pre[10];
    char header[1024];
    size_t hlen;
    double *out = malloc((size_t)count * sizeof *out);
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fread(pre, 1, 10, fp), 10);
    ck_assert(memcmp(pre, "\x93NUMPY\x01", 7) == 0);
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    ck_assert(hlen < sizeof header);
    ck_assert_int_eq(fread(header, 1, hlen, fp), hlen);
    header[hlen] = 0;
    ck_assert_ptr_nonnull(strstr(header, "'descr': '<f8'"));
    ck_assert_ptr_nonnull(strstr(header, "'fortran_order': False"));
    ck_assert_int_eq(fread(out, sizeof *out, (size_t)count, fp), count);
    fclose(fp);
    return out;
}

static fixture load_fixture(const char *dir)
{
    fixture fx;
    char path[256];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    fx.a = read_f64(fixture_path(path), &fx.n);
    snprintf(path, sizeof path, "%s/b.npy", dir);
    fx.b = read_f64(fixture_path(path), &fx.m);
    snprintf(path, sizeof path, "%s/M.npy", dir);
    fx.c = read_f64_matrix(fixture_path(path), fx.n * fx.m);
    snprintf(path, sizeof path, "%s/plan.npy", dir);
    fx.plan = read_f64_matrix(fixture_path(path), fx.n * fx.m);
    return fx;
}

static void free_fixture(fixture *fx)
{
    free(fx->a), free(fx->b), free(fx->c), free(fx->plan);
}

/* Row and column sums of a plan. */
static void marginals(const double *plan, int64_t n, int64_t m, double *rows,
                      double *cols)
{
    int64_t i, j;
    for (j = 0; j < m; j++)
        cols[j] = 0.0;
    for (i = 0; i < n; i++) {
        rows[i] = 0.0;
        for (j = 0; j < m; j++) {
            rows[i] += plan[i * m + j];
            cols[j] += plan[i * m + j];
        }
    }
}

START_TEST(sinkhorn_reproduces_pot)
{
    subsel_ctx *ctx = new_ctx();
    subsel_ot_solver *solver;
    fixture fx = load_fixture("ot_sinkhorn");
    int64_t n = fx.n, m = fx.m, i, j, anneal;
    double *plan = malloc((size_t)(n * m) * sizeof *plan);
    double *f = malloc((size_t)n * sizeof *f), *g = malloc((size_t)m * sizeof *g);
    double rows[64], cols[64], value, viol;
    ck_assert_ok(ctx, subsel_ot_solver_create(ctx, &solver));
    for (anneal = 0; anneal <= 1; anneal++) {
        ck_assert_ok(ctx, subsel_ot_solver_set_int(solver, SUBSEL_OT_ANNEAL, anneal));
        ck_assert_ok(ctx, subsel_ot_sinkhorn(ctx, solver, fx.a, n, fx.b, m, fx.c,
                                             0.05, &value, f, g, plan));
        for (i = 0; i < n * m; i++)
            ck_assert_double_eq_tol(plan[i], fx.plan[i], 1e-7);
        /* expected.json: cost 0.09572268522459197. */
        ck_assert_double_eq_tol(value, 0.09572268522459197, 1e-8);
        /* Potentials give the plan; marginals within the tolerance. */
        for (i = 0; i < n; i++)
            for (j = 0; j < m; j++)
                ck_assert_double_eq_tol(exp((f[i] + g[j] - fx.c[i * m + j]) / 0.05),
                                        plan[i * m + j], 1e-12);
        marginals(plan, n, m, rows, cols);
        viol = 0.0;
        for (i = 0; i < n; i++)
            viol += fabs(rows[i] - fx.a[i]);
        for (j = 0; j < m; j++)
            viol += fabs(cols[j] - fx.b[j]);
        ck_assert_double_le(viol, 1e-9 + 1e-12);
        ck_assert_double_le(subsel_ot_solver_violation(solver), 1e-9);
        ck_assert_int_gt(subsel_ot_solver_iterations(solver), 0);
    }
    subsel_ot_solver_free(solver);
    free(plan), free(f), free(g);
    free_fixture(&fx);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(partial_reproduces_pot)
{
    subsel_ctx *ctx = new_ctx();
    fixture fx = load_fixture("ot_partial");
    int64_t n = fx.n, m = fx.m, i, j;
    double *plan = malloc((size_t)(n * m) * sizeof *plan);
    double *f = malloc((size_t)n * sizeof *f), *g = malloc((size_t)m * sizeof *g);
    double rows[64], cols[64], value, total = 0.0, mass = 0.5399999999999999;
    ck_assert_ok(ctx, subsel_ot_partial(ctx, NULL, fx.a, n, fx.b, m, fx.c, 0.1,
                                        mass, &value, f, g, plan));
    for (i = 0; i < n * m; i++)
        ck_assert_double_eq_tol(plan[i], fx.plan[i], 1e-7);
    ck_assert_double_eq_tol(value, 0.05384968161372342, 1e-8);
    marginals(plan, n, m, rows, cols);
    for (i = 0; i < n; i++) {
        ck_assert_double_le(rows[i], fx.a[i] + 1e-9);
        total += rows[i];
    }
    for (j = 0; j < m; j++) {
        ck_assert_double_le(cols[j], fx.b[j] + 1e-9);
        ck_assert_double_le(g[j], 0.0);
    }
    ck_assert_double_eq_tol(total, mass, 1e-12);
    for (i = 0; i < n; i++)
        for (j = 0; j < m; j++)
            ck_assert_double_eq_tol(exp((f[i] + g[j] - fx.c[i * m + j]) / 0.1),
                                    plan[i * m + j], 1e-12);
    free(plan), free(f), free(g);
    free_fixture(&fx);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Constraints, stability, determinism, errors                            */
/* ---------------------------------------------------------------------- */

/* A random problem: costs in [lo, hi], positive random marginals. */
static void random_problem(uint64_t seed, int64_t n, int64_t m, double lo,
                           double hi, double *a, double *b, double *c)
{
    ss_rng rng;
    ss_rng_seed(&rng, seed, 0);
    fill_uniform(&rng, a, n, 0.2, 1.0);
    fill_uniform(&rng, b, m, 0.2, 1.0);
    fill_uniform(&rng, c, n * m, lo, hi);
}

static void check_partial_plan(const double *plan, int64_t n, int64_t m,
                               const double *a, const double *b, double mass,
                               double tol)
{
    double *rows = malloc((size_t)n * sizeof *rows), *cols = malloc((size_t)m * sizeof *cols);
    double total = 0.0;
    int64_t i;
    marginals(plan, n, m, rows, cols);
    for (i = 0; i < n * m; i++)
        ck_assert(isfinite(plan[i]) && plan[i] >= 0.0);
    for (i = 0; i < n; i++) {
        ck_assert_double_le(rows[i], a[i] + tol);
        total += rows[i];
    }
    for (i = 0; i < m; i++)
        ck_assert_double_le(cols[i], b[i] + tol);
    ck_assert_double_eq_tol(total, mass, tol);
    free(rows), free(cols);
}

START_TEST(partial_stays_finite_at_small_reg)
{
    /* POT's scaling form overflows once (max C - min C) / reg passes ~700:
     * costs in [-1, 1] at reg 1e-3 is 2000. */
    enum { N = 60, M = 45 };
    subsel_ctx *ctx = new_ctx();
    subsel_ot_solver *solver;
    double a[N], b[M], c[N * M], plan[N * M], f[N], g[M], value;
    const double regs[] = {1e-3, 3e-4};
    int r;
    ck_assert_ok(ctx, subsel_ot_solver_create(ctx, &solver));
    random_problem(31, N, M, -1.0, 1.0, a, b, c);
    for (r = 0; r < 2; r++) {
        int64_t i, j;
        ck_assert_ok(ctx, subsel_ot_partial(ctx, solver, a, N, b, M, c, regs[r], 10.0,
                                            &value, f, g, plan));
        ck_assert(isfinite(value));
        check_partial_plan(plan, N, M, a, b, 10.0, 1e-9 * 10.0);
        /* Complementary slackness: a column with a negative potential
         * receives its whole marginal. */
        for (j = 0; j < M; j++) {
            double col = 0.0;
            for (i = 0; i < N; i++)
                col += plan[i * M + j];
            if (g[j] < -1e-9 * regs[r])
                ck_assert_double_eq_tol(col, b[j], 1e-8);
        }
        for (j = 0; j < M; j++)
            ck_assert(isfinite(g[j]) && g[j] <= 0.0);
    }
    subsel_ot_solver_free(solver);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(random_plans_meet_their_constraints)
{
    subsel_ctx *ctx = new_ctx();
    int trial;
    for (trial = 0; trial < 6; trial++) {
        int64_t n = 7 + 13 * trial, m = 31 - 3 * trial, i;
        double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)m * sizeof *b);
        double *c = malloc((size_t)(n * m) * sizeof *c), *plan = malloc((size_t)(n * m) * sizeof *plan);
        double *rows = malloc((size_t)n * sizeof *rows), *cols = malloc((size_t)m * sizeof *cols);
        double sa = 0.0, sb = 0.0, mass, value, reg = trial % 2 ? 0.02 : 0.3, viol = 0.0;
        random_problem(40 + (uint64_t)trial, n, m, 0.0, 1.0, a, b, c);
        for (i = 0; i < n; i++)
            sa += a[i];
        for (i = 0; i < m; i++)
            sb += b[i];
        mass = 0.7 * fmin(sa, sb);
        ck_assert_ok(ctx, subsel_ot_partial(ctx, NULL, a, n, b, m, c, reg, mass, &value,
                                            NULL, NULL, plan));
        check_partial_plan(plan, n, m, a, b, mass, 1e-9 * mass);
        /* Balanced: rescale b to a's total. */
        for (i = 0; i < m; i++)
            b[i] *= sa / sb;
        ck_assert_ok(ctx, subsel_ot_sinkhorn(ctx, NULL, a, n, b, m, c, reg, &value,
                                             NULL, NULL, plan));
        marginals(plan, n, m, rows, cols);
        for (i = 0; i < n; i++)
            viol += fabs(rows[i] - a[i]);
        for (i = 0; i < m; i++)
            viol += fabs(cols[i] - b[i]);
        /* The tolerance is relative to the mass the plan carries. */
        ck_assert_double_le(viol, 1e-9 * sa + 1e-12);
        free(a), free(b), free(c), free(plan), free(rows), free(cols);
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* Rows of mass 1 (log_a = 0) against columns capped at b (log_b = log b,
 * inequalities), on uniform values in [-1, 1) from `seed`, and solver
 * parameters at reg and tol (the caller sets the iteration cap). */
static void capped_rows_problem(uint64_t seed, double *c, double *la, double *lb, int64_t n,
                                int64_t m, double b, ss_ot_cost *cost, ss_ot_problem *p,
                                ss_ot_params *par, double reg, double tol)
{
    ss_rng rng;
    int64_t i;
    ss_rng_seed(&rng, seed, 0);
    fill_uniform(&rng, c, n * m, -1.0, 1.0);
    for (i = 0; i < n; i++)
        la[i] = 0.0;
    for (i = 0; i < m; i++)
        lb[i] = log(b);
    ss_ot_cost_dense(cost, c, n, m, m);
    memset(p, 0, sizeof *p);
    p->cost = cost;
    p->sign = 1.0;
    p->log_a = la;
    p->log_b = lb;
    p->col_ineq = 1;
    memset(par, 0, sizeof *par);
    par->reg = reg;
    par->tol = tol;
}

START_TEST(semidual_newton_matches_dual_ascent)
{
    /* Equality rows and capped columns, by the two independent solvers. */
    enum { N = 9, M = 50 };
    subsel_ctx *ctx = new_ctx();
    double c[N * M], la[N], lb[M], f1[N], g1[M], f2[N], g2[M], rs[N], cs[M];
    double p1[N * M], p2[N * M], dot1, dot2;
    ss_ot_cost cost;
    ss_ot_problem p;
    ss_ot_params par;
    ss_ot_duals d;
    int64_t i;
    capped_rows_problem(50, c, la, lb, N, M, 12.0 / M, &cost, &p, &par, 0.05, 1e-11);
    par.max_iter = 1000000;
    par.anneal_factor = 0.5;
    memset(&d, 0, sizeof d);
    d.f = f1, d.g = g1, d.rowsum = rs, d.colsum = cs;
    ck_assert_ok(ctx, ss_ot_solve(ctx, &p, &par, &d, 0));
    ck_assert_ok(ctx, ss_ot_plan(ctx, &p, par.reg, &d, p1, &dot1));
    memset(f2, 0, sizeof f2);
    d.f = f2, d.g = g2;
    par.max_iter = 100;
    ck_assert_ok(ctx, ss_ot_solve_rows(ctx, &p, &par, &d));
    ck_assert_int_lt(d.iterations, 30);
    ck_assert_ok(ctx, ss_ot_plan(ctx, &p, par.reg, &d, p2, &dot2));
    for (i = 0; i < N * M; i++)
        ck_assert_double_eq_tol(p1[i], p2[i], 1e-9);
    ck_assert_double_eq_tol(dot1, dot2, 1e-9);
    for (i = 0; i < M; i++)
        ck_assert_double_le(cs[i], 12.0 / M * (1.0 + 1e-14));
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(semidual_hessian_in_pieces_gives_the_same_bits_on_any_threads)
{
    /* Enough rows and capped columns that the Hessian's dense product is cut
     * into pieces of columns, run on the threads and added in order: the
     * same bits on 1 and 2 threads, in a few Newton steps, and a plan (made
     * from the potentials alone) that meets its marginals. The dual-ascent
     * comparison of semidual_newton_matches_dual_ascent covers the solution
     * itself. */
    enum { N = 60, M = 3000 };
    const double cap = 1.05 * N / M;
    subsel_ctx *ctx = new_ctx();
    double *c = malloc(sizeof(double) * N * M), *plan = malloc(sizeof(double) * N * M);
    double la[N], lb[M], f[3][N], g[3][M], rs[N], cs[M], dot, viol = 0.0;
    ss_ot_cost cost;
    ss_ot_problem p;
    ss_ot_params par;
    ss_ot_duals d;
    int64_t i, j, t, iterations = 0, capped = 0;
    capped_rows_problem(51, c, la, lb, N, M, cap, &cost, &p, &par, 0.2, 1e-11);
    par.max_iter = 100;
    for (t = 1; t <= 2; t++) {
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, t));
        memset(f[t], 0, sizeof f[t]);
        memset(&d, 0, sizeof d);
        d.f = f[t], d.g = g[t], d.rowsum = rs, d.colsum = cs;
        ck_assert_ok(ctx, ss_ot_solve_rows(ctx, &p, &par, &d));
        ck_assert_int_gt(d.iterations, 1); /* Hessians were formed */
        iterations = d.iterations;
    }
    ck_assert(memcmp(f[1], f[2], sizeof f[1]) == 0 && memcmp(g[1], g[2], sizeof g[1]) == 0);
    ck_assert_int_lt(iterations, 30);
    ck_assert_ok(ctx, ss_ot_plan(ctx, &p, par.reg, &d, plan, &dot));
    for (i = 0; i < N; i++) {
        double sum = 0.0;
        for (j = 0; j < M; j++)
            sum += plan[i * M + j];
        viol += fabs(sum - 1.0);
    }
    ck_assert_double_le(viol, 1e-9);
    for (j = 0; j < M; j++) {
        double sum = 0.0;
        for (i = 0; i < N; i++)
            sum += plan[i * M + j];
        ck_assert_double_le(sum, cap * (1.0 + 1e-12));
        capped += sum >= cap * (1.0 - 1e-9);
    }
    /* pieces of 512 columns, on 2 threads (60^2 x 1112 > 4M) */
    ck_assert_int_gt(capped, 1112);
    free(c), free(plan);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(results_do_not_depend_on_threads_or_storage)
{
    /* Dense, stored point clouds and streamed point clouds: the same plan
     * (to rounding), and bit for bit the same on 1 and 2 threads. */
    subsel_ctx *ctx = new_ctx();
    subsel_ot_solver *solver;
    const int64_t n = 150, m = 330, d = 5;
    float *x = malloc((size_t)(n * d) * sizeof *x), *y = malloc((size_t)(m * d) * sizeof *y);
    double *c = malloc((size_t)(n * m) * sizeof *c), *plan[3][2], value[3][2], f[3][2][150];
    subsel_dense *dx, *dy;
    ss_rng rng;
    int64_t i, j, k;
    int mode, t;
    ss_rng_seed(&rng, 60, 0);
    for (i = 0; i < n * d; i++)
        x[i] = (float)ss_rng_uniform(&rng);
    for (i = 0; i < m * d; i++)
        y[i] = (float)ss_rng_uniform(&rng);
    for (i = 0; i < n; i++)
        for (j = 0; j < m; j++) {
            double s2 = 0.0;
            for (k = 0; k < d; k++) {
                double diff = (double)x[i * d + k] - y[j * d + k];
                s2 += diff * diff;
            }
            c[i * m + j] = sqrt(s2);
        }
    ck_assert_ok(ctx, subsel_dense_create(ctx, n, d, x, SUBSEL_BORROW, &dx));
    ck_assert_ok(ctx, subsel_dense_create(ctx, m, d, y, SUBSEL_BORROW, &dy));
    ck_assert_ok(ctx, subsel_ot_solver_create(ctx, &solver));
    for (mode = 0; mode < 3; mode++)
        for (t = 0; t < 2; t++) {
            plan[mode][t] = malloc((size_t)(n * m) * sizeof **plan);
            ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, t + 1));
            ck_assert_ok(ctx, subsel_ot_solver_set_int(solver, SUBSEL_OT_MEMORY,
                                                       mode == 2 ? 0 : 1 << 30));
            if (mode == 0)
                ck_assert_ok(ctx, subsel_ot_partial(ctx, solver, NULL, n, NULL, m, c, 0.05,
                                                    0.6, &value[mode][t], f[mode][t], NULL,
                                                    plan[mode][t]));
            else
                ck_assert_ok(ctx, subsel_ot_partial_points(ctx, solver, NULL, dx, NULL, dy,
                                                           SUBSEL_COST_EUCLID, 0.05, 0.6,
                                                           &value[mode][t], f[mode][t], NULL,
                                                           plan[mode][t]));
            ck_assert(memcmp(plan[mode][t], plan[mode][0], (size_t)(n * m) * sizeof(double)) == 0);
            ck_assert(memcmp(f[mode][t], f[mode][0], sizeof f[mode][t]) == 0);
            ck_assert(value[mode][t] == value[mode][0]);
        }
    for (mode = 1; mode < 3; mode++) {
        for (i = 0; i < n * m; i++)
            ck_assert_double_eq_tol(plan[mode][0][i], plan[0][0][i], 1e-9);
        ck_assert_double_eq_tol(value[mode][0], value[0][0], 1e-9);
    }
    {
        /* The annealing TAROT calls, too. */
        double fa[150], fb[150], ga[330], gb[330], la, lb;
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1));
        ck_assert_ok(ctx, ss_ot_anneal_uniform(ctx, x, n, y, m, d, 0.05, 0.5, fa, ga, &la));
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 2));
        ck_assert_ok(ctx, ss_ot_anneal_uniform(ctx, x, n, y, m, d, 0.05, 0.5, fb, gb, &lb));
        ck_assert(memcmp(fa, fb, sizeof fa) == 0 && memcmp(ga, gb, sizeof ga) == 0);
        ck_assert(la == lb);
        /* Streamed (fast tiles from float products, both potentials per
         * tile): potentials within the costs' float error (ot.h: ~1e-6
         * |x| |y|, and |x|, |y| <= sqrt(5) here), and bit for bit on 1 and
         * 2 threads. */
        ck_assert_ok(ctx, ss_ot_anneal_uniform_budget(ctx, x, n, y, m, d, 0.05, 0.5, 0,
                                                      fb, gb, &lb));
        for (i = 0; i < n; i++)
            ck_assert_double_eq_tol(fb[i], fa[i], 5e-6);
        for (i = 0; i < m; i++)
            ck_assert_double_eq_tol(gb[i], ga[i], 5e-6);
        ck_assert_double_eq_tol(lb, la, 5e-6);
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1));
        ck_assert_ok(ctx, ss_ot_anneal_uniform_budget(ctx, x, n, y, m, d, 0.05, 0.5, 0,
                                                      fa, ga, &la));
        ck_assert(memcmp(fa, fb, sizeof fa) == 0 && memcmp(ga, gb, sizeof ga) == 0);
    }
    for (mode = 0; mode < 3; mode++)
        for (t = 0; t < 2; t++)
            free(plan[mode][t]);
    subsel_ot_solver_free(solver);
    subsel_dense_free(dx);
    subsel_dense_free(dy);
    free(x), free(y), free(c);
    subsel_ctx_free(ctx);
}
END_TEST

static int cancel_at_5(void *user, const char *stage, int64_t done, int64_t total)
{
    (void)user;
    (void)total;
    ck_assert_str_eq(stage, "ot");
    return done >= 5;
}

START_TEST(arguments_and_failures_are_reported)
{
    enum { N = 6, M = 4 };
    subsel_ctx *ctx = new_ctx();
    subsel_ot_solver *solver = NULL;
    double a[N], b[M], c[N * M], f[N], value = -1.0, lo, hi, def, v;
    int64_t iv;
    random_problem(70, N, M, 0.0, 1.0, a, b, c);
    /* Options: bounds, defaults, types. */
    ck_assert_int_eq(subsel_ot_solver_create(NULL, &solver), SUBSEL_E_INVALID);
    ck_assert_ok(ctx, subsel_ot_solver_create(ctx, &solver));
    ck_assert_int_eq(subsel_ot_solver_param_bounds(SUBSEL_OT_TOL, &lo, &hi, &def), SUBSEL_OK);
    ck_assert(lo == 1e-15 && hi == 1.0 && def == 1e-9);
    ck_assert_int_eq(subsel_ot_solver_param_bounds(99, NULL, NULL, NULL), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_ot_solver_set_double(solver, SUBSEL_OT_TOL, 0.0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_ot_solver_set_double(solver, SUBSEL_OT_TOL, NAN), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_ot_solver_set_double(solver, SUBSEL_OT_MAX_ITER, 5.0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_ot_solver_set_int(solver, SUBSEL_OT_ANNEAL, 2), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_ot_solver_set_int(solver, SUBSEL_OT_MAX_ITER, 0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_ot_solver_get_double(solver, SUBSEL_OT_TOL, &v), SUBSEL_OK);
    ck_assert(v == 1e-9);
    ck_assert_int_eq(subsel_ot_solver_get_int(solver, SUBSEL_OT_MAX_ITER, &iv), SUBSEL_OK);
    ck_assert_int_eq(iv, 100000);
    ck_assert_int_eq(subsel_ot_solver_get_int(solver, SUBSEL_OT_TOL, &iv), SUBSEL_E_INVALID);
    ck_assert(isnan(subsel_ot_solver_violation(solver)));
    ck_assert_int_eq(subsel_ot_solver_iterations(NULL), 0);
    subsel_ot_solver_free(NULL);

    /* Arguments. */
    ck_assert_status(ctx, subsel_ot_sinkhorn(ctx, NULL, a, N, b, M, NULL, 0.1, &value,
                                             NULL, NULL, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_ot_sinkhorn(ctx, NULL, a, 0, b, M, c, 0.1, &value,
                                             NULL, NULL, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_ot_sinkhorn(ctx, NULL, a, N, b, M, c, 0.0, &value,
                                             NULL, NULL, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_ot_sinkhorn(ctx, NULL, a, N, b, M, c, 0.1, &value,
                                             NULL, NULL, NULL), SUBSEL_E_INVALID); /* totals */
    ck_assert_status(ctx, subsel_ot_partial(ctx, NULL, a, N, b, M, c, 0.1, 100.0, &value,
                                            NULL, NULL, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_ot_partial(ctx, NULL, a, N, b, M, c, 0.1, -1.0, &value,
                                            NULL, NULL, NULL), SUBSEL_E_INVALID);
    a[2] = 0.0;
    ck_assert_status(ctx, subsel_ot_partial(ctx, NULL, a, N, b, M, c, 0.1, 0.5, &value,
                                            NULL, NULL, NULL), SUBSEL_E_INVALID);
    a[2] = 0.5;
    c[3] = NAN;
    ck_assert_status(ctx, subsel_ot_partial(ctx, NULL, a, N, b, M, c, 0.1, 0.5, &value,
                                            NULL, NULL, NULL), SUBSEL_E_NUMERIC);
    c[3] = 0.5;
    ck_assert(value == -1.0);

    /* No convergence: an error, outputs untouched, the report kept. */
    ck_assert_ok(ctx, subsel_ot_solver_set_int(solver, SUBSEL_OT_MAX_ITER, 2));
    ck_assert_ok(ctx, subsel_ot_solver_set_double(solver, SUBSEL_OT_TOL, 1e-15));
    f[0] = 42.0;
    ck_assert_status(ctx, subsel_ot_partial(ctx, solver, a, N, b, M, c, 0.01, 0.5, &value,
                                            f, NULL, NULL), SUBSEL_E_NUMERIC);
    ck_assert(value == -1.0 && f[0] == 42.0);
    ck_assert_int_eq(subsel_ot_solver_iterations(solver), 2);
    ck_assert_double_gt(subsel_ot_solver_violation(solver), 1e-15);

    /* Cancellation from the progress callback. */
    ck_assert_ok(ctx, subsel_ot_solver_set_int(solver, SUBSEL_OT_MAX_ITER, 100000));
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, cancel_at_5, NULL));
    ck_assert_status(ctx, subsel_ot_partial(ctx, solver, a, N, b, M, c, 1e-4, 0.5, &value,
                                            f, NULL, NULL), SUBSEL_E_CANCELLED);
    ck_assert(value == -1.0 && f[0] == 42.0);
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, NULL, NULL));

    /* Point clouds: shapes and cost kinds. */
    {
        float px[12] = {0}, py[8] = {0};
        subsel_dense *dx, *dy;
        ck_assert_ok(ctx, subsel_dense_create(ctx, 4, 3, px, SUBSEL_BORROW, &dx));
        ck_assert_ok(ctx, subsel_dense_create(ctx, 4, 2, py, SUBSEL_BORROW, &dy));
        ck_assert_status(ctx, subsel_ot_sinkhorn_points(ctx, NULL, NULL, dx, NULL, dy,
                                                        SUBSEL_COST_SQEUCLID, 0.1, &value,
                                                        NULL, NULL, NULL), SUBSEL_E_INVALID);
        ck_assert_status(ctx, subsel_ot_sinkhorn_points(ctx, NULL, NULL, dx, NULL, dx, 7, 0.1,
                                                        &value, NULL, NULL, NULL),
                         SUBSEL_E_INVALID);
        ck_assert_status(ctx, subsel_ot_partial_points(ctx, NULL, NULL, NULL, NULL, dx,
                                                       SUBSEL_COST_SQEUCLID, 0.1, 0.5, &value,
                                                       NULL, NULL, NULL), SUBSEL_E_INVALID);
        /* Identical points: a cost matrix of zeros; the plan is uniform. */
        ck_assert_ok(ctx, subsel_ot_sinkhorn_points(ctx, NULL, NULL, dx, NULL, dx,
                                                    SUBSEL_COST_COSINE, 0.1, &value, NULL,
                                                    NULL, NULL));
        ck_assert_double_eq_tol(value, 1.0, 1e-12); /* cos = 0 for zero rows */
        subsel_dense_free(dx);
        subsel_dense_free(dy);
    }
    {
        float u[6] = {0, 0, 1, 1, 2, 2};
        double fu[3], gu[3], loss;
        ck_assert_status(ctx, ss_ot_anneal_uniform(ctx, u, 3, u, 3, 2, 0.0, 0.5, fu, gu, &loss),
                         SUBSEL_E_INVALID);
        ck_assert_status(ctx, ss_ot_anneal_uniform(ctx, u, 3, u, 3, 2, 0.01, 1.0, fu, gu, &loss),
                         SUBSEL_E_INVALID);
        ck_assert_status(ctx, ss_ot_anneal_uniform(ctx, u, 0, u, 3, 2, 0.01, 0.5, fu, gu, &loss),
                         SUBSEL_E_INVALID);
        /* One repeated point: diameter 0, potentials 0. */
        ck_assert_ok(ctx, ss_ot_anneal_uniform(ctx, u, 1, u, 1, 2, 0.01, 0.5, fu, gu, &loss));
        ck_assert_double_eq_tol(loss, 0.0, 1e-12);
        u[3] = NAN;
        ck_assert_status(ctx, ss_ot_anneal_uniform(ctx, u, 3, u, 3, 2, 0.01, 0.5, fu, gu, &loss),
                         SUBSEL_E_NUMERIC);
    }
    subsel_ot_solver_free(solver);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(values_over_reg_that_overflow_fail_at_once)
{
    /* Costs of 1e308 at reg 1e-300: every plan entry is 0 or infinite. */
    enum { N = 5, M = 4 };
    subsel_ctx *ctx = new_ctx();
    subsel_ot_solver *solver;
    double c[N * M], value = -1.0;
    int64_t i;
    ck_assert_ok(ctx, subsel_ot_solver_create(ctx, &solver));
    /* values near 1e308 spanning 1e300: the annealed solve took 100,000
     * iterations to report a NaN violation */
    for (i = 0; i < N * M; i++)
        c[i] = 1e308 - (double)(i % 2) * 1e300;
    ck_assert_status(ctx, subsel_ot_sinkhorn(ctx, solver, NULL, N, NULL, M, c, 1e-300,
                                             &value, NULL, NULL, NULL), SUBSEL_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "overflow"));
    ck_assert_int_eq(subsel_ot_solver_iterations(solver), 0);
    ck_assert_status(ctx, subsel_ot_partial(ctx, solver, NULL, N, NULL, M, c, 1e-300, 0.5,
                                            &value, NULL, NULL, NULL), SUBSEL_E_NUMERIC);
    ck_assert_int_eq(subsel_ot_solver_iterations(solver), 0);
    ck_assert(value == -1.0);
    subsel_ot_solver_free(solver);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(tolerance_below_the_rounding_floor_ends_at_the_floor)
{
    /* A tolerance of 1e-15 cannot be reached by sums of many rounded
     * entries: the solve ends at the floor, and reports the violation it
     * reached, instead of spending all 100,000 iterations (14 s) and
     * failing. */
    enum { N = 400, M = 300 };
    subsel_ctx *ctx = new_ctx();
    subsel_ot_solver *solver;
    double *a = malloc(N * sizeof *a), *b = malloc(M * sizeof *b);
    double *c = malloc(N * M * sizeof *c), value;
    int r;
    random_problem(77, N, M, 0.0, 1.0, a, b, c);
    ck_assert_ok(ctx, subsel_ot_solver_create(ctx, &solver));
    ck_assert_ok(ctx, subsel_ot_solver_set_double(solver, SUBSEL_OT_TOL, 1e-15));
    for (r = 0; r < 2; r++) {
        double reg = r ? 0.01 : 0.1;
        ck_assert_ok(ctx, subsel_ot_sinkhorn(ctx, solver, NULL, N, NULL, M, c, reg, &value,
                                             NULL, NULL, NULL));
        ck_assert_double_le(subsel_ot_solver_violation(solver), 1e-11);
        ck_assert_int_lt(subsel_ot_solver_iterations(solver), 1000);
        ck_assert_ok(ctx, subsel_ot_partial(ctx, solver, NULL, N, NULL, M, c, reg, 0.6,
                                            &value, NULL, NULL, NULL));
        ck_assert_double_le(subsel_ot_solver_violation(solver), 1e-11);
    }
    subsel_ot_solver_free(solver);
    subsel_ctx_free(ctx);
    free(a), free(b), free(c);
}
END_TEST

START_TEST(progress_runs_from_zero_to_total)
{
    enum { N = 30, M = 20 };
    subsel_ctx *ctx = new_ctx();
    double a[N], b[M], c[N * M], value;
    progress_log log;
    random_problem(78, N, M, 0.0, 1.0, a, b, c);
    memset(&log, 0, sizeof log);
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, progress_log_fn, &log));
    ck_assert_ok(ctx, subsel_ot_sinkhorn(ctx, NULL, NULL, N, NULL, M, c, 0.01, &value,
                                         NULL, NULL, NULL));
    ck_assert_ok(ctx, subsel_ot_partial(ctx, NULL, NULL, N, NULL, M, c, 0.01, 0.5, &value,
                                        NULL, NULL, NULL));
    progress_log_assert_clean(&log, "ot");
    ck_assert_int_eq(log.stages, 1);
    ck_assert_str_eq(log.name[0], "ot");
    ck_assert_int_eq(log.ended[0], 2);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *ot_suite(void)
{
    Suite *s = suite_create("ot");
    TCase *tc = tcase_create("kernels");
    tcase_add_test(tc, kernels_match_scalar_bit_for_bit);
    tcase_add_test(tc, kernels_are_accurate);
    tcase_add_test(tc, single_exps_are_accurate);
    suite_add_tcase(s, tc);
    tc = tcase_create("passes");
    tcase_add_test(tc, lse_passes_match_direct_computation);
    tcase_add_test(tc, both_lse_shares_the_rows_exps);
    suite_add_tcase(s, tc);
    tc = tcase_create("pot");
    tcase_add_test(tc, sinkhorn_reproduces_pot);
    tcase_add_test(tc, partial_reproduces_pot);
    suite_add_tcase(s, tc);
    tc = tcase_create("anneal");
    tcase_add_test(tc, anneal_reproduces_tarot_fixture);
    tcase_add_test(tc, anneal_row_cache_gives_the_same_bits);
    tcase_add_test(tc, fast_tiles_redo_near_pairs_in_double);
    suite_add_tcase(s, tc);
    tc = tcase_create("solver");
    tcase_add_test(tc, partial_stays_finite_at_small_reg);
    tcase_add_test(tc, random_plans_meet_their_constraints);
    tcase_add_test(tc, semidual_newton_matches_dual_ascent);
    tcase_add_test(tc, semidual_hessian_in_pieces_gives_the_same_bits_on_any_threads);
    tcase_add_test(tc, results_do_not_depend_on_threads_or_storage);
    tcase_add_test(tc, arguments_and_failures_are_reported);
    tcase_add_test(tc, values_over_reg_that_overflow_fail_at_once);
    tcase_add_test(tc, tolerance_below_the_rounding_floor_ends_at_the_floor);
    tcase_add_test(tc, progress_runs_from_zero_to_total);
    suite_add_tcase(s, tc);
    return s;
}
