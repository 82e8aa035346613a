/* SPDX-License-Identifier: MIT */
/*
 * Kernels of the entropic optimal-transport engine (lib/ot) and of the
 * UniPROT gains, written once over the vector contract of vmath.h and
 * included by kernels_template.h. They are the inner loops of every
 * log-domain Sinkhorn pass: row and column log-sum-exps of
 * x_ij = s * c_ij + h (one fused multiply-add, so that the maximum found by
 * one kernel is exactly the shift used by the next and its exp is exactly
 * 1), the plan of a row, and the water-filling sums of the UniPROT
 * approximate gain. Same lane model as kernels_template.h; tail lanes are
 * masked out explicitly, since a zero-padded lane of an exp is not zero.
 */
#include <math.h>

#include "kernels/prefetch.h"

/* x = s * c + h for one vector, the single rounding every kernel shares. */
SS_INLINE vd lse_arg(vd s, vd c, vd h)
{
    return vd_fma(s, c, h);
}

/* The maximum of the 8 lanes (exact, so any order gives the same bits). */
SS_INLINE double vd_hmax(vd a)
{
    double lanes[8], m;
    int l;
    vd_store(lanes, a);
    m = lanes[0];
    for (l = 1; l < 8; l++)
        m = lanes[l] > m ? lanes[l] : m;
    return m;
}

static double k_lse_max(const double *c, const double *h, double s,
                        int64_t n)
{
    vd vs = vd_set1(s), mx = vd_set1(-INFINITY);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        mx = vd_max(mx, lse_arg(vs, vd_load(c + j), vd_load(h + j)));
    if (j < n) {
        int rest = (int)(n - j);
        vd x = lse_arg(vs, vd_load_partial(c + j, rest),
                       vd_load_partial(h + j, rest));
        mx = vd_max(mx, vd_select(vm_first(rest), x, vd_set1(-INFINITY)));
    }
    return vd_hmax(mx);
}

/* Two blocks of 8 per step, into two accumulators (block b to
 * accumulator b % 2): two independent exp chains in flight. */
static double k_lse_sum(const double *c, const double *h, double s,
                        double shift, int64_t n)
{
    vd vs = vd_set1(s), sh = vd_set1(shift), acc0 = vd_zero(), acc1 = vd_zero();
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        vd x0 = lse_arg(vs, vd_load(c + j), vd_load(h + j));
        vd x1 = lse_arg(vs, vd_load(c + j + 8), vd_load(h + j + 8));
        acc0 = vd_add(acc0, vd_exp(vd_sub(x0, sh)));
        acc1 = vd_add(acc1, vd_exp(vd_sub(x1, sh)));
    }
    if (j + 8 <= n) {
        vd x = lse_arg(vs, vd_load(c + j), vd_load(h + j));
        acc0 = vd_add(acc0, vd_exp(vd_sub(x, sh)));
        j += 8;
    }
    if (j < n) {
        int rest = (int)(n - j);
        vd x = lse_arg(vs, vd_load_partial(c + j, rest),
                       vd_load_partial(h + j, rest));
        acc1 = vd_add(acc1, vd_select(vm_first(rest), vd_exp(vd_sub(x, sh)),
                                      vd_zero()));
    }
    return vd_hsum(vd_add(acc0, acc1));
}

static void k_lse_col_max(double *mx, const double *c, double s, double hi,
                          int64_t n)
{
    vd vs = vd_set1(s), vh = vd_set1(hi);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        vd_store(mx + j, vd_max(vd_load(mx + j), lse_arg(vs, vd_load(c + j), vh)));
    if (j < n) {
        int rest = (int)(n - j);
        vd x = lse_arg(vs, vd_load_partial(c + j, rest), vh);
        vd_store_partial(mx + j, vd_max(vd_load_partial(mx + j, rest), x), rest);
    }
}

/* e may be NULL; else e[j] gets the exponential added to acc[j] (the
 * semi-dual solver keeps them as its plan). The test is outside the loops
 * so that both variants stay plain vector loops. */
SS_INLINE vd lse_col_term(vd s, vd c, vd hi, vd mx)
{
    return vd_exp(vd_sub(lse_arg(s, c, hi), mx));
}

static void k_lse_col_sum(double *acc, double *e, const double *mx,
                          const double *c, double s, double hi, int64_t n)
{
    vd vs = vd_set1(s), vh = vd_set1(hi);
    int64_t j = 0;
    if (e == NULL) {
        for (; j + 16 <= n; j += 16) {
            vd e0 = lse_col_term(vs, vd_load(c + j), vh, vd_load(mx + j));
            vd e1 = lse_col_term(vs, vd_load(c + j + 8), vh, vd_load(mx + j + 8));
            vd_store(acc + j, vd_add(vd_load(acc + j), e0));
            vd_store(acc + j + 8, vd_add(vd_load(acc + j + 8), e1));
        }
    } else {
        for (; j + 16 <= n; j += 16) {
            vd e0 = lse_col_term(vs, vd_load(c + j), vh, vd_load(mx + j));
            vd e1 = lse_col_term(vs, vd_load(c + j + 8), vh, vd_load(mx + j + 8));
            vd_store(e + j, e0);
            vd_store(e + j + 8, e1);
            vd_store(acc + j, vd_add(vd_load(acc + j), e0));
            vd_store(acc + j + 8, vd_add(vd_load(acc + j + 8), e1));
        }
    }
    for (; j + 8 <= n; j += 8) {
        vd x = lse_col_term(vs, vd_load(c + j), vh, vd_load(mx + j));
        if (e != NULL)
            vd_store(e + j, x);
        vd_store(acc + j, vd_add(vd_load(acc + j), x));
    }
    if (j < n) {
        int rest = (int)(n - j);
        vd x = lse_col_term(vs, vd_load_partial(c + j, rest), vh,
                            vd_load_partial(mx + j, rest));
        if (e != NULL)
            vd_store_partial(e + j, x, rest);
        vd_store_partial(acc + j, vd_add(vd_load_partial(acc + j, rest), x),
                         rest);
    }
}

/* Both passes over one row of float values c (the annealed solves' costs):
 * the row's exponents x_j = s c_j + hcol_j and the columns' z_j =
 * s c_j + hi. k_lse_both_max returns max_j x_j (-inf for n = 0) and raises
 * colmax[j] to z_j; k_lse_both_sum returns sum_j exp(x_j - rowmax) and adds
 * exp(z_j - colmax[j]) to colacc[j]. The exps are in single precision, the
 * row's and the columns' of 8 entries in one 16-lane vf_exp; exponents and
 * sums stay in double, so each term is off by at most 2^-24 (|y| + 2) of
 * itself (y its exponent). */
static double k_lse_both_max(const float *c, const double *hcol, double s,
                             double hi, double *colmax, int64_t n)
{
    vd vs = vd_set1(s), vh = vd_set1(hi), mx = vd_set1(-INFINITY);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        vd cj = vd_load_f32(c + j);
        mx = vd_max(mx, lse_arg(vs, cj, vd_load(hcol + j)));
        vd_store(colmax + j, vd_max(vd_load(colmax + j), lse_arg(vs, cj, vh)));
    }
    if (j < n) {
        int rest = (int)(n - j);
        vd cj = vd_load_f32_partial(c + j, rest);
        vd x = lse_arg(vs, cj, vd_load_partial(hcol + j, rest));
        mx = vd_max(mx, vd_select(vm_first(rest), x, vd_set1(-INFINITY)));
        vd_store_partial(colmax + j, vd_max(vd_load_partial(colmax + j, rest),
                                            lse_arg(vs, cj, vh)), rest);
    }
    return vd_hmax(mx);
}

static double k_lse_both_sum(const float *c, const double *hcol, double s,
                             double hi, double rowmax, const double *colmax,
                             double *colacc, int64_t n)
{
    vd vs = vd_set1(s), vh = vd_set1(hi), sh = vd_set1(rowmax);
    vd acc = vd_zero(), er, ec;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        vd cj = vd_load_f32(c + j);
        vf e = vf_exp(vf_from_vd(vd_sub(lse_arg(vs, cj, vd_load(hcol + j)), sh),
                                 vd_sub(lse_arg(vs, cj, vh), vd_load(colmax + j))));
        acc = vd_add(acc, vf_lo(e));
        vd_store(colacc + j, vd_add(vd_load(colacc + j), vf_hi(e)));
    }
    if (j < n) {
        int rest = (int)(n - j);
        vd cj = vd_load_f32_partial(c + j, rest);
        vf e = vf_exp(vf_from_vd(
            vd_sub(lse_arg(vs, cj, vd_load_partial(hcol + j, rest)), sh),
            vd_sub(lse_arg(vs, cj, vh), vd_load_partial(colmax + j, rest))));
        er = vf_lo(e);
        ec = vf_hi(e);
        acc = vd_add(acc, vd_select(vm_first(rest), er, vd_zero()));
        vd_store_partial(colacc + j, vd_add(vd_load_partial(colacc + j, rest), ec),
                         rest);
    }
    return vd_hsum(acc);
}

/* The one-exp form of both passes (lib/ot/lse.c's shared columns): the
 * row's maximum, max_j x_j with x_j = s c_j + hcol_j (-inf for n = 0);
 * then sum_j e_j with e_j = exp(x_j - rowmax) in single precision, each
 * e_j also added, times a, to colacc[j]. A column's exponent differs from
 * the row's by a per-row and a per-column constant, so a times e_j is the
 * column's term when a carries the row's part of that difference. */
static double k_lse_max_f32(const float *c, const double *hcol, double s, int64_t n)
{
    vd vs = vd_set1(s), mx = vd_set1(-INFINITY), m1 = mx, m2 = mx, m3 = mx;
    int64_t j = 0;
    /* four chains, so that the max's latency does not bound the loop (the
     * maximum is exact: any order gives the same bits) */
    for (; j + 32 <= n; j += 32) {
        mx = vd_max(mx, lse_arg(vs, vd_load_f32(c + j), vd_load(hcol + j)));
        m1 = vd_max(m1, lse_arg(vs, vd_load_f32(c + j + 8), vd_load(hcol + j + 8)));
        m2 = vd_max(m2, lse_arg(vs, vd_load_f32(c + j + 16), vd_load(hcol + j + 16)));
        m3 = vd_max(m3, lse_arg(vs, vd_load_f32(c + j + 24), vd_load(hcol + j + 24)));
    }
    mx = vd_max(vd_max(mx, m1), vd_max(m2, m3));
    for (; j + 8 <= n; j += 8)
        mx = vd_max(mx, lse_arg(vs, vd_load_f32(c + j), vd_load(hcol + j)));
    if (j < n) {
        int rest = (int)(n - j);
        vd x = lse_arg(vs, vd_load_f32_partial(c + j, rest),
                       vd_load_partial(hcol + j, rest));
        mx = vd_max(mx, vd_select(vm_first(rest), x, vd_set1(-INFINITY)));
    }
    return vd_hmax(mx);
}

static double k_lse_sum_shared(const float *c, const double *hcol, double s,
                               double rowmax, double a, double *colacc, int64_t n,
                               const float *next)
{
    vd vs = vd_set1(s), sh = vd_set1(rowmax), va = vd_set1(a), acc = vd_zero();
    const vf flush = vf_set1(SS_EXPF_FLUSH);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        vf y, e;
        SS_PREFETCH(next + j);
        y = vf_from_vd(
            vd_sub(lse_arg(vs, vd_load_f32(c + j), vd_load(hcol + j)), sh),
            vd_sub(lse_arg(vs, vd_load_f32(c + j + 8), vd_load(hcol + j + 8)), sh));
        /* Sixteen arguments under vf_exp's flush give sixteen exact zeros,
         * which would change neither sum: skipped, with the same bits (a
         * quarter of the entries of OTM's solves, most in the late passes
         * of an annealing, where far targets drop out). */
        if (vf_all_lt(y, flush))
            continue;
        e = vf_exp(y);
        vd lo = vf_lo(e), hi = vf_hi(e);
        acc = vd_add(acc, vd_add(lo, hi));
        vd_store(colacc + j, vd_fma(va, lo, vd_load(colacc + j)));
        vd_store(colacc + j + 8, vd_fma(va, hi, vd_load(colacc + j + 8)));
    }
    for (; j < n; j += 8) { /* up to 15 left, 8 at a time */
        int rest = n - j < 8 ? (int)(n - j) : 8;
        vd x = vd_sub(lse_arg(vs, vd_load_f32_partial(c + j, rest),
                              vd_load_partial(hcol + j, rest)), sh);
        vd e = vf_lo(vf_exp(vf_from_vd(x, vd_set1(-INFINITY))));
        e = vd_select(vm_first(rest), e, vd_zero());
        acc = vd_add(acc, e);
        vd_store_partial(colacc + j, vd_fma(va, e, vd_load_partial(colacc + j, rest)),
                         rest);
    }
    return vd_hsum(acc);
}

/* (m, a) (+) (m2, a2) = (M, a e^(m - M) + a2 e^(m2 - M)), M = max(m, m2). */
SS_INLINE void lse_merge_vec(vd *m, vd *a, vd m2, vd a2)
{
    vd top = vd_max(*m, m2);
    *a = vd_fma(*a, vd_exp(vd_sub(*m, top)), vd_mul(a2, vd_exp(vd_sub(m2, top))));
    *m = top;
}

static void k_lse_merge(double *mx, double *acc, const double *mx2,
                        const double *acc2, int64_t n)
{
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        vd m = vd_load(mx + j), a = vd_load(acc + j);
        lse_merge_vec(&m, &a, vd_load(mx2 + j), vd_load(acc2 + j));
        vd_store(mx + j, m);
        vd_store(acc + j, a);
    }
    if (j < n) {
        int rest = (int)(n - j);
        vd m = vd_load_partial(mx + j, rest), a = vd_load_partial(acc + j, rest);
        lse_merge_vec(&m, &a, vd_load_partial(mx2 + j, rest),
                      vd_load_partial(acc2 + j, rest));
        vd_store_partial(mx + j, m, rest);
        vd_store_partial(acc + j, a, rest);
    }
}

static double k_gibbs_row(double *out, const double *c, const double *h,
                          double s, double hi, int64_t n)
{
    vd vs = vd_set1(s), vh = vd_set1(hi), acc = vd_zero();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        vd cj = vd_load(c + j);
        vd p = vd_exp(vd_add(lse_arg(vs, cj, vd_load(h + j)), vh));
        vd_store(out + j, p);
        acc = vd_fma(p, cj, acc);
    }
    if (j < n) {
        int rest = (int)(n - j);
        vd cj = vd_load_partial(c + j, rest);
        vd p = vd_exp(vd_add(lse_arg(vs, cj, vd_load_partial(h + j, rest)), vh));
        p = vd_select(vm_first(rest), p, vd_zero());
        vd_store_partial(out + j, p, rest);
        acc = vd_fma(p, cj, acc);
    }
    return vd_hsum(acc);
}

/* q = (xs + ys) - 2 dot for one vector (no fused multiply-add: the caller
 * recomputes q in scalar C to find the near pairs the count announces). */
SS_INLINE vd sqdist_arg(vd xs, vd ys, vd dot)
{
    return vd_sub(vd_add(xs, ys), vd_mul(vd_set1(2.0), dot));
}

SS_INLINE vd sqdist_finish(vd q, int root)
{
    q = vd_max(q, vd_zero());
    return root ? vd_sqrt(q) : q;
}

static int64_t k_dist_from_dot_f32(double *out, const float *dot, double xs,
                                   const double *ys, double near, int root,
                                   int64_t n)
{
    vd vx = vd_set1(xs), vn = vd_set1(near), one = vd_set1(1.0);
    vd count = vd_zero();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        vd sum = vd_add(vx, vd_load(ys + j));
        vd q = sqdist_arg(vx, vd_load(ys + j), vd_load_f32(dot + j));
        count = vd_add(count, vd_select(vd_lt(q, vd_mul(vn, sum)), one, vd_zero()));
        vd_store(out + j, sqdist_finish(q, root));
    }
    if (j < n) {
        int rest = (int)(n - j);
        vd y = vd_load_partial(ys + j, rest), sum = vd_add(vx, y);
        vd q = sqdist_arg(vx, y, vd_load_f32_partial(dot + j, rest));
        vd near_lane = vd_select(vd_lt(q, vd_mul(vn, sum)), one, vd_zero());
        count = vd_add(count, vd_select(vm_first(rest), near_lane, vd_zero()));
        vd_store_partial(out + j, sqdist_finish(q, root), rest);
    }
    return (int64_t)vd_hsum(count);
}

static double k_max_f32(const float *x, int64_t n)
{
    vd mx = vd_set1(-INFINITY);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        mx = vd_max(mx, vd_load_f32(x + j));
    if (j < n) {
        int rest = (int)(n - j);
        mx = vd_max(mx, vd_select(vm_first(rest), vd_load_f32_partial(x + j, rest),
                                  vd_set1(-INFINITY)));
    }
    return vd_hmax(mx);
}

/* The weights are rounded to float, and the sum is of the rounded values:
 * the same bits whether a caller keeps them or makes them again. */
static double k_exp_affine_f32(float *w, const float *x, double s,
                               double shift, int64_t n)
{
    vd vs = vd_set1(s), sh = vd_set1(shift), acc = vd_zero();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        vd_store_f32(w + j, vd_exp(vd_sub(vd_mul(vs, vd_load_f32(x + j)), sh)));
        acc = vd_add(acc, vd_load_f32(w + j));
    }
    if (j < n) {
        int rest = (int)(n - j);
        vd e = vd_exp(vd_sub(vd_mul(vs, vd_load_f32_partial(x + j, rest)), sh));
        vd_store_f32_partial(w + j, e, rest);
        acc = vd_add(acc, vd_load_f32_partial(w + j, rest));
    }
    return vd_hsum(acc);
}

#ifndef SS_SIMD_PACK_F32
/* The packing itself (of src, and of src2 unless NULL), where the backend
 * has no compress instruction: one set bit after another. Returns the
 * count packed. */
SS_INLINE int64_t pack_f32_bits(float *dst, const float *src, float *dst2,
                                const float *src2, const uint64_t *bits, int64_t n)
{
    int64_t o = 0, word;
    for (word = 0; word * 64 < n; word++) {
        uint64_t b = bits[word];
        for (; b != 0; b &= b - 1, o++) {
            int64_t j = word * 64 + __builtin_ctzll(b);
            dst[o] = src[j];
            if (src2 != NULL)
                dst2[o] = src2[j];
        }
    }
    return o;
}
#endif

/* The sum adds the packed floats lane by lane as k_exp_affine_f32 adds the
 * weights it stores: the same floats give the same bits either way. */
static double k_pack_f32(float *dst, const float *src, float *dst2, const float *src2,
                         const uint64_t *bits, int64_t n)
{
    int64_t count = pack_f32_bits(dst, src, dst2, src2, bits, n), j = 0;
    vd acc = vd_zero();
    for (; j + 8 <= count; j += 8)
        acc = vd_add(acc, vd_load_f32(dst + j));
    if (j < count)
        acc = vd_add(acc, vd_load_f32_partial(dst + j, (int)(count - j)));
    return vd_hsum(acc);
}

/* One water-filling step: lane j is saturated when r_j mu < w_j; acc[5]
 * keeps the largest w_j / r_j of the unsaturated lanes (those with r_j =
 * 0 have w_j = 0: 0), the mu below which the next one saturates. */
SS_INLINE void waterfill_lanes(vd w, vd r, vd rl, vd x, vd mu, vd *acc)
{
    vd z = vd_zero(), one = vd_set1(1.0);
    vmask sat = vd_lt(vd_mul(r, mu), w);
    vd ratio = vd_div(w, vd_select(vd_gt(r, z), r, one));
    acc[0] = vd_add(acc[0], vd_select(sat, z, w));
    acc[1] = vd_add(acc[1], vd_select(sat, r, z));
    acc[2] = vd_fma(vd_select(sat, r, z), x, acc[2]);
    acc[3] = vd_add(acc[3], vd_select(sat, rl, z));
    acc[4] = vd_add(acc[4], vd_select(sat, one, z));
    acc[5] = vd_max(acc[5], vd_select(sat, z, ratio));
}

static void k_waterfill_sums(const float *w, const double *r,
                             const double *rlogr, const float *x, double mu,
                             int64_t n, double *out)
{
    vd acc[6], vmu = vd_set1(mu);
    int64_t j = 0;
    int q;
    for (q = 0; q < 6; q++)
        acc[q] = vd_zero();
    for (; j + 8 <= n; j += 8)
        waterfill_lanes(vd_load_f32(w + j), vd_load(r + j), vd_load(rlogr + j),
                        vd_load_f32(x + j), vmu, acc);
    if (j < n) {
        /* Zero-padded lanes have r = w = 0: never saturated, weight 0. */
        int rest = (int)(n - j);
        waterfill_lanes(vd_load_f32_partial(w + j, rest), vd_load_partial(r + j, rest),
                        vd_load_partial(rlogr + j, rest),
                        vd_load_f32_partial(x + j, rest), vmu, acc);
    }
    for (q = 0; q < 5; q++)
        out[q] = vd_hsum(acc[q]);
    out[5] = vd_hmax(acc[5]);
}
