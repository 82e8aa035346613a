/* SPDX-License-Identifier: MIT */
/*
 * The kernels, written once over the vector contract of common/vmath.h and
 * instantiated by each backend file, which includes its simd_<isa>.h, then
 * defines SS_KERNEL_TABLE (the table's name), SS_KERNEL_ISA and
 * SS_KERNEL_NAME, then includes this file.
 *
 * Lane model (the same for every backend, hence bit-identical results):
 * element i of a loop goes to lane i % 8 of the accumulator; loops with two
 * accumulators send block b of 8 elements to accumulator b % 2 and add the
 * two before the fixed reduction tree. Tail lanes contribute exact zeros.
 */
#include "kernels/common/vmath.h"
#include "kernels/kernels.h"

static double k_dot_f32(const float *a, const float *b, int64_t n)
{
    vd acc0 = vd_zero(), acc1 = vd_zero();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = vd_fma(vd_load_f32(a + i), vd_load_f32(b + i), acc0);
        acc1 = vd_fma(vd_load_f32(a + i + 8), vd_load_f32(b + i + 8), acc1);
    }
    if (i + 8 <= n) {
        acc0 = vd_fma(vd_load_f32(a + i), vd_load_f32(b + i), acc0);
        i += 8;
    }
    if (i < n) {
        int rest = (int)(n - i);
        acc1 = vd_fma(vd_load_f32_partial(a + i, rest),
                      vd_load_f32_partial(b + i, rest), acc1);
    }
    return vd_hsum(vd_add(acc0, acc1));
}

/* k_dot_f32 of x with rows[r] of y (row rows[r] at y + rows[r] * ldy; r
 * itself when rows is NULL), r < count, into out[r]: four rows at a time,
 * each in k_dot_f32's lanes and order (the same bits), so that the four
 * chains of fused multiply-adds overlap instead of waiting on one. */
static void k_dots_f32(double *out, const float *x, const float *y, int64_t ldy,
                       const int64_t *rows, int64_t count, int64_t n)
{
    int64_t r = 0;
    for (; r + 4 <= count; r += 4) {
        const float *b[4];
        vd acc0[4], acc1[4];
        int64_t i = 0;
        int q;
        for (q = 0; q < 4; q++) {
            b[q] = y + (rows ? rows[r + q] : r + q) * ldy;
            acc0[q] = acc1[q] = vd_zero();
        }
        for (; i + 16 <= n; i += 16) {
            vd xa = vd_load_f32(x + i), xb = vd_load_f32(x + i + 8);
            for (q = 0; q < 4; q++) {
                acc0[q] = vd_fma(xa, vd_load_f32(b[q] + i), acc0[q]);
                acc1[q] = vd_fma(xb, vd_load_f32(b[q] + i + 8), acc1[q]);
            }
        }
        if (i + 8 <= n) {
            vd xa = vd_load_f32(x + i);
            for (q = 0; q < 4; q++)
                acc0[q] = vd_fma(xa, vd_load_f32(b[q] + i), acc0[q]);
            i += 8;
        }
        if (i < n) {
            int rest = (int)(n - i);
            vd xa = vd_load_f32_partial(x + i, rest);
            for (q = 0; q < 4; q++)
                acc1[q] = vd_fma(xa, vd_load_f32_partial(b[q] + i, rest), acc1[q]);
        }
        for (q = 0; q < 4; q++)
            out[r + q] = vd_hsum(vd_add(acc0[q], acc1[q]));
    }
    for (; r < count; r++)
        out[r] = k_dot_f32(x, y + (rows ? rows[r] : r) * ldy, n);
}

/* The sparse kernels are instantiated for int32 and int64 column indices
 * (the two widths a CSR matrix may hold): the same lanes and operations,
 * only the gathers' index type differs, so both give the same bits. */
#define SS_DEFINE_SPARSE_DOT(fname, idx_t, gather_f32, gather_f32_partial)    \
    static double fname(const idx_t *idx, const float *val, int64_t nnz,      \
                        const float *x)                                        \
    {                                                                          \
        vd acc = vd_zero();                                                    \
        int64_t k = 0;                                                         \
        for (; k + 8 <= nnz; k += 8)                                           \
            acc = vd_fma(vd_load_f32(val + k), gather_f32(x, idx + k), acc);   \
        if (k < nnz) {                                                         \
            int rest = (int)(nnz - k);                                         \
            acc = vd_fma(vd_load_f32_partial(val + k, rest),                   \
                         gather_f32_partial(x, idx + k, rest), acc);           \
        }                                                                      \
        return vd_hsum(acc);                                                   \
    }

SS_DEFINE_SPARSE_DOT(k_sparse_dot_f32, int32_t, vd_gather_f32,
                     vd_gather_f32_partial)
SS_DEFINE_SPARSE_DOT(k_sparse_dot_f32_i64, int64_t, vd_gather_f32_i64,
                     vd_gather_f32_partial_i64)

/* phi(m + z) - phi(m) for each concave function, in forms that do not
 * cancel when z << m, and that give exactly 0 for z = 0 (explicitly stored
 * zeros and padded tail lanes). The first argument is the column state
 * (see ss_kernels.fb_gain). */

/* For log1p the column state is 1 / (1 + m), kept by the objective, which
 * turns the division z / (1 + m) into a product. */
SS_INLINE vd term_log1p(vd inv_1pm, vd z, const ss_phi *phi)
{
    (void)phi;
    return vd_log1p(vd_mul(z, inv_1pm));
}

SS_INLINE vd term_sqrt(vd m, vd z, const ss_phi *phi)
{
    vd den = vd_add(vd_sqrt(vd_add(m, z)), vd_sqrt(m));
    vmask pos = vd_gt(den, vd_zero());
    (void)phi;
    return vd_select(pos, vd_div(z, vd_select(pos, den, vd_set1(1.0))), vd_zero());
}

SS_INLINE vd term_saturate(vd m, vd z, const ss_phi *phi)
{
    vd one_m = vd_add(vd_set1(1.0), m);
    (void)phi;
    return vd_div(z, vd_mul(one_m, vd_add(one_m, z)));
}

SS_INLINE vd term_exp(vd m, vd z, const ss_phi *phi)
{
    /* exp(-m/c) - exp(-(m+z)/c) = exp(-m/c) * -expm1(-z/c) */
    vd neg_inv_c = vd_set1(-phi->inv_param);
    return vd_mul(vd_exp(vd_mul(m, neg_inv_c)),
                  vd_sub(vd_zero(), vd_expm1(vd_mul(z, neg_inv_c))));
}

SS_INLINE vd term_min(vd m, vd z, const ss_phi *phi)
{
    vd c = vd_set1(phi->param);
    return vd_sub(vd_min(vd_add(m, z), c), vd_min(m, c));
}

SS_INLINE vd term_pow(vd m, vd z, const ss_phi *phi)
{
    /* m > 0: m^a * expm1(a * log1p(z / m)); m = 0: z^a (0 when z = 0). Logs
     * get 1 in the lanes whose branch is not taken, to stay in domain. */
    vd a = vd_set1(phi->param);
    vd one = vd_set1(1.0);
    vmask m_pos = vd_gt(m, vd_zero());
    vmask z_pos = vd_gt(z, vd_zero());
    vd m_safe = vd_select(m_pos, m, one);
    vd z_safe = vd_select(z_pos, z, one);
    vd from_m = vd_mul(vd_exp(vd_mul(a, vd_log(m_safe))),
                       vd_expm1(vd_mul(a, vd_log1p(vd_div(z, m_safe)))));
    vd from_0 = vd_select(z_pos, vd_exp(vd_mul(a, vd_log(z_safe))), vd_zero());
    return vd_select(m_pos, from_m, from_0);
}

#define SS_DEFINE_FB_GAIN(fname, term, idx_t, gather, gather_partial)        \
    static double fname(const idx_t *idx, const float *val, int64_t nnz,      \
                        const double *col, const double *w, const ss_phi *phi) \
    {                                                                          \
        vd acc = vd_zero();                                                    \
        int64_t k = 0;                                                         \
        for (; k + 8 <= nnz; k += 8) {                                         \
            vd t = term(gather(col, idx + k), vd_load_f32(val + k), phi);     \
            acc = vd_fma(gather(w, idx + k), t, acc);                          \
        }                                                                      \
        if (k < nnz) {                                                         \
            int rest = (int)(nnz - k);                                         \
            vd t = term(gather_partial(col, idx + k, rest),                    \
                        vd_load_f32_partial(val + k, rest), phi);              \
            t = vd_select(vm_first(rest), t, vd_zero());                       \
            acc = vd_fma(gather_partial(w, idx + k, rest), t, acc);            \
        }                                                                      \
        return vd_hsum(acc);                                                   \
    }
#define SS_DEFINE_FB_GAINS(fname, term)                                        \
    SS_DEFINE_FB_GAIN(fname, term, int32_t, vd_gather, vd_gather_partial)      \
    SS_DEFINE_FB_GAIN(fname##_i64, term, int64_t, vd_gather_i64,               \
                      vd_gather_partial_i64)

SS_DEFINE_FB_GAINS(k_fb_gain_log1p, term_log1p)
SS_DEFINE_FB_GAINS(k_fb_gain_sqrt, term_sqrt)
SS_DEFINE_FB_GAINS(k_fb_gain_saturate, term_saturate)
SS_DEFINE_FB_GAINS(k_fb_gain_exp, term_exp)
SS_DEFINE_FB_GAINS(k_fb_gain_min, term_min)
SS_DEFINE_FB_GAINS(k_fb_gain_pow, term_pow)

/* As k_dot_f32 with a double second operand: same lanes, same tree. */
static double k_dot_f32_f64(const float *a, const double *x, int64_t n)
{
    vd acc0 = vd_zero(), acc1 = vd_zero();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = vd_fma(vd_load_f32(a + i), vd_load(x + i), acc0);
        acc1 = vd_fma(vd_load_f32(a + i + 8), vd_load(x + i + 8), acc1);
    }
    if (i + 8 <= n) {
        acc0 = vd_fma(vd_load_f32(a + i), vd_load(x + i), acc0);
        i += 8;
    }
    if (i < n) {
        int rest = (int)(n - i);
        acc1 = vd_fma(vd_load_f32_partial(a + i, rest),
                      vd_load_partial(x + i, rest), acc1);
    }
    return vd_hsum(vd_add(acc0, acc1));
}

/* Which of n entries pass a screen: bit p % 64 of bits[p / 64] set when
 * x[p] + (e1 y1[p] + (e2 y2[p] + tiny)) is not below floor[p] (NaN
 * passes); the words past n / 64 untouched. Returns whether any passed. */
static int k_above_floor(uint64_t *bits, const float *x, const float *y1,
                         const float *y2, const float *floor, double e1,
                         double e2, double tiny, int64_t n)
{
    const vd v1 = vd_set1(e1), v2 = vd_set1(e2), vt = vd_set1(tiny);
    uint64_t any = 0, word = 0;
    int64_t p;
    for (p = 0; p < n; p += 8) {
        int rest = n - p < 8 ? (int)(n - p) : 8;
        vd v, f;
        uint64_t pass;
        if (rest == 8) {
            v = vd_fma(v1, vd_load_f32(y1 + p), vd_fma(v2, vd_load_f32(y2 + p), vt));
            v = vd_add(vd_load_f32(x + p), v);
            f = vd_load_f32(floor + p);
        } else {
            v = vd_fma(v1, vd_load_f32_partial(y1 + p, rest),
                       vd_fma(v2, vd_load_f32_partial(y2 + p, rest), vt));
            v = vd_add(vd_load_f32_partial(x + p, rest), v);
            f = vd_load_f32_partial(floor + p, rest);
        }
        pass = ~(uint64_t)vm_bits(vd_lt(v, f)) & ((1u << rest) - 1u);
        word |= pass << (p % 64);
        any |= pass;
        if (p % 64 == 56 || p + 8 >= n) {
            bits[p / 64] = word;
            word = 0;
        }
    }
    return any != 0;
}

#include "kernels/common/ot_template.h"
#include "kernels/common/gemm_template.h"
#include "kernels/common/crc32_template.h"

/* the bfloat16 screen: only the AVX-512 file names one */
#ifndef SS_KERNEL_GEMM_BF16
#define SS_KERNEL_GEMM_BF16 NULL
#endif

const ss_kernels SS_KERNEL_TABLE = {
    SS_KERNEL_ISA,
    SS_KERNEL_NAME,
    k_dot_f32,
    k_sparse_dot_f32,
    {k_fb_gain_log1p, k_fb_gain_sqrt, k_fb_gain_saturate, k_fb_gain_exp,
     k_fb_gain_min, k_fb_gain_pow},
    k_sparse_dot_f32_i64,
    {k_fb_gain_log1p_i64, k_fb_gain_sqrt_i64, k_fb_gain_saturate_i64,
     k_fb_gain_exp_i64, k_fb_gain_min_i64, k_fb_gain_pow_i64},
    k_dot_f32_f64,
    k_lse_max,
    k_lse_sum,
    k_lse_col_max,
    k_lse_col_sum,
    k_lse_merge,
    k_lse_both_max,
    k_lse_both_sum,
    k_lse_max_f32,
    k_lse_sum_shared,
    k_gibbs_row,
    k_dist_from_dot_f32,
    k_max_f32,
    k_exp_affine_f32,
    k_pack_f32,
    k_waterfill_sums,
    k_gemm_rows,
    k_gemm_dots,
    k_pack_panels_f32,
    SS_KERNEL_CRC32,
    SS_KERNEL_GEMM_BF16,
    k_above_floor,
    k_dots_f32,
};
