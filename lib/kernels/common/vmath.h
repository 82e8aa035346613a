/* SPDX-License-Identifier: MIT */
/*
 * Elementary functions on the 8-lane vector type `vd`, written once for all
 * instruction sets.
 *
 * The backend contract. A backend header (scalar/, avx2/, avx512/) defines
 * `vd` (8 doubles), `vmask` (8 lane flags) and these operations:
 *   vd_set1 vd_zero vd_add vd_sub vd_mul vd_div vd_fma vd_sqrt vd_min vd_max
 *   vd_round (to nearest even)  vd_lt vd_gt vd_eq vm_first(n) vd_select
 *   vm_bits (lane l's flag as bit l)
 *   vd_load[_partial] vd_load_f32[_partial] vd_gather[_partial]
 *   vd_store[_partial] (write the first n lanes only)
 *   vd_gather_f32[_partial]
 *   vd_split_exponent (x = 2^e f, f in [1,2))  vd_pow2i (2^k)  vd_hsum
 * and `vf` (16 floats) with vf_set1 vf_mul vf_fma vf_min vf_max vf_round
 *   vf_select_lt(a, b, x, y) (a < b ? x : y)  vf_all_lt(a, b) (every
 *   lane of a below b's)  vf_pow2i (2^k, k in
 *   [-126, 127])  vf_from_vd(a, b) (lanes 0-7 of a, 8-15 of b, rounded to
 *   nearest)  vf_lo vf_hi (lanes 0-7 or 8-15 as doubles)
 * Optionally SS_VMATH, how the elementary functions are declared (see
 * below). Arithmetic is IEEE double with correct rounding (fma rounds once);
 * vd_min(a, b) is a < b ? a : b and vd_max(a, b) is a > b ? a : b; partial
 * loads read only the first n lanes and give 0 elsewhere; vd_hsum adds lanes
 * in the tree ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)). Exponent
 * operations are exact, so any exact method may implement them. Under this
 * contract every function here returns the same bits on every backend.
 *
 * Accuracy: log and log1p follow fdlibm's reduction and minimax polynomial
 * (under 1 ulp); exp and expm1 use Cody-Waite reduction and a degree-13
 * Taylor polynomial on |r| <= ln2/2 (error under 1e-16 relative).
 * Domain: log for positive normal finite inputs; log1p for x >= 0 finite;
 * exp and expm1 for y <= 709 (y < -708 gives exp 0 and expm1 -1).
 * vf_exp, in single precision, has a relative error under 2^-23 for y <= 88
 * (below -87 it gives 0: never a subnormal).
 */
#ifndef SS_KERNELS_VMATH_H
#define SS_KERNELS_VMATH_H

/* The elementary functions below are inlined into every kernel that calls
 * them, unless the backend defines SS_VMATH otherwise: the scalar backend
 * keeps one copy of each, since inlining its 8-lane loops dozens of times
 * makes functions so large that compiling them took 44 s (256 s under the
 * sanitizers) for no measurable speed. */
#ifndef SS_VMATH
#define SS_VMATH SS_INLINE
#endif

/* fdlibm e_log.c constants. */
#define SS_LN2_HI 6.93147180369123816490e-01
#define SS_LN2_LO 1.90821492927058770002e-10
#define SS_LG1 6.666666666666735130e-01
#define SS_LG2 3.999999999940941908e-01
#define SS_LG3 2.857142874366239149e-01
#define SS_LG4 2.222219843214978396e-01
#define SS_LG5 1.818357216161805012e-01
#define SS_LG6 1.531383769920937332e-01
#define SS_LG7 1.479819860511658591e-01
#define SS_SQRT2 1.41421356237309504880
#define SS_INV_LN2 1.44269504088896338700

/* x = 2^e f with the mantissa centred on 1, f in [sqrt(2)/2, sqrt(2));
 * returns e. */
SS_INLINE vd vd_log_reduce(vd x, vd *f)
{
    vd e = vd_split_exponent(x, f);
    vmask big = vd_gt(*f, vd_set1(SS_SQRT2));
    *f = vd_select(big, vd_mul(*f, vd_set1(0.5)), *f);
    return vd_select(big, vd_add(e, vd_set1(1.0)), e);
}

/* e ln2 + log(1 + g) by fdlibm's polynomial, with `lo` the low-order part
 * added below the polynomial (e ln2_lo, plus any correction of g):
 * e*ln2_hi - ((hfsq - (s*(hfsq+R) + lo)) - g). */
SS_INLINE vd vd_log_poly(vd g, vd e, vd lo)
{
    vd s = vd_div(g, vd_add(vd_set1(2.0), g));
    vd z = vd_mul(s, s);
    vd w = vd_mul(z, z);
    vd t1 = vd_mul(w, vd_fma(w, vd_fma(w, vd_set1(SS_LG6), vd_set1(SS_LG4)),
                             vd_set1(SS_LG2)));
    vd t2 = vd_mul(z, vd_fma(w, vd_fma(w, vd_fma(w, vd_set1(SS_LG7),
                                                 vd_set1(SS_LG5)),
                                       vd_set1(SS_LG3)),
                             vd_set1(SS_LG1)));
    vd r = vd_add(t2, t1);
    vd hfsq = vd_mul(vd_set1(0.5), vd_mul(g, g));
    vd inner = vd_fma(s, vd_add(hfsq, r), lo);
    return vd_sub(vd_mul(e, vd_set1(SS_LN2_HI)),
                  vd_sub(vd_sub(hfsq, inner), g));
}

/* log(x), x positive normal finite. */
SS_VMATH vd vd_log(vd x)
{
    vd f, e = vd_log_reduce(x, &f);
    vd g = vd_sub(f, vd_set1(1.0)); /* exact */
    return vd_log_poly(g, e, vd_mul(e, vd_set1(SS_LN2_LO)));
}

/* log(1 + x), x >= 0 finite, with a single division. u = 1 + x is split
 * as 2^e f like log(u); when e = 0 (x < sqrt(2) - 1) the reduced argument
 * g = f - 1 is taken as x itself, exactly, instead of from the rounded u;
 * when e >= 1 the rounding error c = x - (u - 1) of u (exact) enters as
 * c / u ~ c 2^-e (2 - f): |c / u| <= 2^-53, so a 20% approximation of 1/f
 * leaves an error far below an ulp of the result. */
SS_VMATH vd vd_log1p(vd x)
{
    vd one = vd_set1(1.0);
    vd u = vd_add(one, x);
    vd f, e = vd_log_reduce(u, &f);
    vmask reduced = vd_gt(e, vd_zero());
    vd g = vd_select(reduced, vd_sub(f, one), x);
    vd c = vd_sub(x, vd_sub(u, one));
    vd corr = vd_select(reduced,
                        vd_mul(vd_mul(c, vd_pow2i(vd_sub(vd_zero(), e))),
                               vd_sub(vd_set1(2.0), f)),
                        vd_zero());
    return vd_log_poly(g, e, vd_fma(e, vd_set1(SS_LN2_LO), corr));
}

/* Shared reduction of exp and expm1: y = k ln2 + r, |r| <= ln2/2; returns
 * q = expm1(r) and sets *two_k = 2^k. y is clamped to [-708, 709]. */
SS_INLINE vd vd_exp_reduce(vd y, vd *two_k)
{
    vd yc = vd_min(vd_max(y, vd_set1(-708.0)), vd_set1(709.0));
    vd k = vd_round(vd_mul(yc, vd_set1(SS_INV_LN2)));
    vd r = vd_fma(vd_sub(vd_zero(), k), vd_set1(SS_LN2_HI), yc);
    vd r2, r4, p01, p23, p45, p67, p89, p1011, p;
    r = vd_fma(vd_sub(vd_zero(), k), vd_set1(SS_LN2_LO), r);
    /* expm1(r) = r + r^2 (1/2! + r/3! + ... + r^11/13!), the polynomial by
     * Estrin's scheme: pairs, then powers r^2, r^4, r^8, a dependency depth
     * of 5 operations instead of Horner's 12, so that the exps of several
     * vectors overlap in the pipeline (an exp pass runs 1.4x faster). */
    r2 = vd_mul(r, r);
    r4 = vd_mul(r2, r2);
    p01 = vd_fma(vd_set1(1.0 / 6.0), r, vd_set1(0.5));
    p23 = vd_fma(vd_set1(1.0 / 120.0), r, vd_set1(1.0 / 24.0));
    p45 = vd_fma(vd_set1(1.0 / 5040.0), r, vd_set1(1.0 / 720.0));
    p67 = vd_fma(vd_set1(1.0 / 362880.0), r, vd_set1(1.0 / 40320.0));
    p89 = vd_fma(vd_set1(1.0 / 39916800.0), r, vd_set1(1.0 / 3628800.0));
    p1011 = vd_fma(vd_set1(1.0 / 6227020800.0), r, vd_set1(1.0 / 479001600.0));
    p = vd_fma(vd_fma(p1011, r2, p89), vd_mul(r4, r4),
               vd_fma(vd_fma(p67, r2, p45), r4, vd_fma(p23, r2, p01)));
    *two_k = vd_pow2i(k);
    return vd_fma(r2, p, r);
}

/* exp(y), y <= 709; 0 below -708. */
SS_VMATH vd vd_exp(vd y)
{
    vd two_k, q = vd_exp_reduce(y, &two_k);
    vd r = vd_fma(two_k, q, two_k);
    return vd_select(vd_lt(y, vd_set1(-708.0)), vd_zero(), r);
}

/* exp(y) - 1, y <= 709, accurate near 0: 2^k q + (2^k - 1). */
SS_VMATH vd vd_expm1(vd y)
{
    vd two_k, q = vd_exp_reduce(y, &two_k);
    vd r = vd_fma(two_k, q, vd_sub(two_k, vd_set1(1.0)));
    return vd_select(vd_lt(y, vd_set1(-708.0)), vd_set1(-1.0), r);
}

/* float's ln2 = SS_LN2F_HI + SS_LN2F_LO, the high part with 9 significant
 * bits so that k * SS_LN2F_HI is exact for |k| <= 127 (Cephes' split). */
#define SS_LN2F_HI 0.693359375f
#define SS_LN2F_LO -2.12194440e-4f

/* exp(y) in single precision, 16 lanes: y = k ln2 + r, |r| <= ln2/2, and
 * e^r = 1 + r + r^2 P(r) with P the Taylor polynomial to r^5/7! (the
 * truncation is under 6e-9 relative), so the result is 2^k (1 + q) rounded
 * once. Its use is where float's precision is more than the inputs carry
 * and two to four times the exps per second of vd_exp matter (the annealed
 * OT solves). */
/* vf_exp's arguments below this give exactly 0. */
#define SS_EXPF_FLUSH (-87.0f)

SS_VMATH vf vf_exp(vf y)
{
    vf lo = vf_set1(SS_EXPF_FLUSH);
    vf yc = vf_min(vf_max(y, lo), vf_set1(88.0f));
    vf k = vf_round(vf_mul(yc, vf_set1((float)SS_INV_LN2)));
    vf r = vf_fma(k, vf_set1(-SS_LN2F_HI), yc);
    vf r2, p01, p23, p45, p, q, two_k;
    r = vf_fma(k, vf_set1(-SS_LN2F_LO), r);
    r2 = vf_mul(r, r);
    p01 = vf_fma(vf_set1(1.0f / 6.0f), r, vf_set1(0.5f));
    p23 = vf_fma(vf_set1(1.0f / 120.0f), r, vf_set1(1.0f / 24.0f));
    p45 = vf_fma(vf_set1(1.0f / 5040.0f), r, vf_set1(1.0f / 720.0f));
    p = vf_fma(p45, vf_mul(r2, r2), vf_fma(p23, r2, p01));
    q = vf_fma(r2, p, r);
    two_k = vf_pow2i(k);
    return vf_select_lt(y, lo, vf_set1(0.0f), vf_fma(two_k, q, two_k));
}

#endif
