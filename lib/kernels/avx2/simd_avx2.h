/* SPDX-License-Identifier: MIT */
/*
 * The AVX2 + FMA 8-lane vector backend: two 256-bit halves. Matches the
 * scalar backend bit for bit (see common/vmath.h).
 */
#ifndef SS_SIMD_AVX2_H
#define SS_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define SS_INLINE static inline __attribute__((always_inline))

/* gemm_template.h's tiles, for 16 registers (a vector is two of them):
 * 4 x 1 vectors accumulate in 8 */
#define SS_GEMM_VECS 1
#define SS_GEMM_DOT_COLS 2

typedef struct {
    __m256d lo, hi;
} vd;
typedef struct {
    __m256d lo, hi;
} vmask;

/* A lane-wise binary operation on the two halves of a vector of type T. */
#define HALVES_BIN(T, op)                                                      \
    T r;                                                                       \
    r.lo = op(a.lo, b.lo);                                                     \
    r.hi = op(a.hi, b.hi);                                                     \
    return r
#define VD_BIN(op) HALVES_BIN(vd, op)
/* A lane-wise fused multiply-add a b + c on the two halves. */
#define HALVES_FMA(T, op)                                                      \
    T r;                                                                       \
    r.lo = op(a.lo, b.lo, c.lo);                                               \
    r.hi = op(a.hi, b.hi, c.hi);                                               \
    return r

SS_INLINE vd vd_set1(double x)
{
    vd r;
    r.lo = r.hi = _mm256_set1_pd(x);
    return r;
}
SS_INLINE vd vd_zero(void) { return vd_set1(0.0); }
SS_INLINE vd vd_add(vd a, vd b) { VD_BIN(_mm256_add_pd); }
SS_INLINE vd vd_sub(vd a, vd b) { VD_BIN(_mm256_sub_pd); }
SS_INLINE vd vd_mul(vd a, vd b) { VD_BIN(_mm256_mul_pd); }
SS_INLINE vd vd_div(vd a, vd b) { VD_BIN(_mm256_div_pd); }
SS_INLINE vd vd_min(vd a, vd b) { VD_BIN(_mm256_min_pd); }
SS_INLINE vd vd_max(vd a, vd b) { VD_BIN(_mm256_max_pd); }
SS_INLINE vd vd_fma(vd a, vd b, vd c) { HALVES_FMA(vd, _mm256_fmadd_pd); }
SS_INLINE vd vd_sqrt(vd a)
{
    vd r;
    r.lo = _mm256_sqrt_pd(a.lo);
    r.hi = _mm256_sqrt_pd(a.hi);
    return r;
}
SS_INLINE vd vd_round(vd a)
{
    vd r;
    r.lo = _mm256_round_pd(a.lo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r.hi = _mm256_round_pd(a.hi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return r;
}

SS_INLINE vd vd_load_f32(const float *p)
{
    vd r;
    r.lo = _mm256_cvtps_pd(_mm_loadu_ps(p));
    r.hi = _mm256_cvtps_pd(_mm_loadu_ps(p + 4));
    return r;
}
SS_INLINE vd vd_load_f32_partial(const float *p, int n)
{
    float tmp[8] = {0};
    memcpy(tmp, p, (size_t)n * sizeof *p);
    return vd_load_f32(tmp);
}
SS_INLINE vd vd_load(const double *p)
{
    vd r;
    r.lo = _mm256_loadu_pd(p);
    r.hi = _mm256_loadu_pd(p + 4);
    return r;
}
SS_INLINE vd vd_load_partial(const double *p, int n)
{
    double tmp[8] = {0};
    memcpy(tmp, p, (size_t)n * sizeof *p);
    return vd_load(tmp);
}
SS_INLINE void vd_store(double *p, vd a)
{
    _mm256_storeu_pd(p, a.lo);
    _mm256_storeu_pd(p + 4, a.hi);
}
SS_INLINE void vd_store_partial(double *p, vd a, int n)
{
    double tmp[8];
    vd_store(tmp, a);
    memcpy(p, tmp, (size_t)n * sizeof *p);
}
/* Lanes rounded to float (to nearest) and stored. */
SS_INLINE void vd_store_f32(float *p, vd a)
{
    _mm_storeu_ps(p, _mm256_cvtpd_ps(a.lo));
    _mm_storeu_ps(p + 4, _mm256_cvtpd_ps(a.hi));
}
SS_INLINE void vd_store_f32_partial(float *p, vd a, int n)
{
    float tmp[8];
    vd_store_f32(tmp, a);
    memcpy(p, tmp, (size_t)n * sizeof *p);
}
/* Gathers are built from scalar loads: on AMD Zen the gather instructions
 * are microcoded and slower than eight loads and a few inserts; on Intel the
 * two are about even. */
#define VD_GATHER_LOADS(idx_t, sfx)                                            \
    SS_INLINE __m256d gather4##sfx(const double *base, const idx_t *idx)       \
    {                                                                          \
        __m128d a = _mm_loadh_pd(_mm_load_sd(base + idx[0]), base + idx[1]);   \
        __m128d b = _mm_loadh_pd(_mm_load_sd(base + idx[2]), base + idx[3]);   \
        return _mm256_insertf128_pd(_mm256_castpd128_pd256(a), b, 1);          \
    }                                                                          \
    SS_INLINE vd vd_gather##sfx(const double *base, const idx_t *idx)          \
    {                                                                          \
        vd r;                                                                  \
        r.lo = gather4##sfx(base, idx);                                        \
        r.hi = gather4##sfx(base, idx + 4);                                    \
        return r;                                                              \
    }
/* for int32 indices, and (_i64) the int64 ones of wide CSR matrices */
VD_GATHER_LOADS(int32_t, )
VD_GATHER_LOADS(int64_t, _i64)
SS_INLINE vd vd_gather_f32(const float *base, const int32_t *idx)
{
    __m128 lo = _mm_i32gather_ps(base, _mm_loadu_si128((const __m128i *)idx), 4);
    __m128 hi = _mm_i32gather_ps(base, _mm_loadu_si128((const __m128i *)(idx + 4)), 4);
    vd r;
    r.lo = _mm256_cvtps_pd(lo);
    r.hi = _mm256_cvtps_pd(hi);
    return r;
}

SS_INLINE vmask vm_first(int n)
{
    const __m256i lanes_lo = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i lanes_hi = _mm256_setr_epi64x(4, 5, 6, 7);
    __m256i nn = _mm256_set1_epi64x(n);
    vmask m;
    m.lo = _mm256_castsi256_pd(_mm256_cmpgt_epi64(nn, lanes_lo));
    m.hi = _mm256_castsi256_pd(_mm256_cmpgt_epi64(nn, lanes_hi));
    return m;
}
SS_INLINE vd vd_select(vmask m, vd a, vd b)
{
    vd r;
    r.lo = _mm256_blendv_pd(b.lo, a.lo, m.lo);
    r.hi = _mm256_blendv_pd(b.hi, a.hi, m.hi);
    return r;
}
/* Tail gathers read only the first n lanes: indices past n are padded with
 * 0 and masked out of the gather. */
SS_INLINE vd vd_gather_partial(const double *base, const int32_t *idx, int n)
{
    int32_t tmp[8] = {0};
    vmask m = vm_first(n);
    vd r;
    memcpy(tmp, idx, (size_t)n * sizeof *idx);
    r.lo = _mm256_mask_i32gather_pd(_mm256_setzero_pd(), base,
                                    _mm_loadu_si128((const __m128i *)tmp), m.lo, 8);
    r.hi = _mm256_mask_i32gather_pd(_mm256_setzero_pd(), base,
                                    _mm_loadu_si128((const __m128i *)(tmp + 4)), m.hi, 8);
    return r;
}
#define VD_GATHER_F32_PARTIAL(idx_t, sfx)                                      \
    SS_INLINE vd vd_gather_f32_partial##sfx(const float *base,                 \
                                            const idx_t *idx, int n)           \
    {                                                                          \
        float tmp[8] = {0};                                                    \
        int l;                                                                 \
        for (l = 0; l < n; l++)                                                \
            tmp[l] = base[idx[l]];                                             \
        return vd_load_f32(tmp);                                               \
    }
VD_GATHER_F32_PARTIAL(int32_t, )
VD_GATHER_F32_PARTIAL(int64_t, _i64)
/* The other gathers for int64 indices (CSR matrices with int64 indices). */
SS_INLINE vd vd_gather_partial_i64(const double *base, const int64_t *idx, int n)
{
    int64_t tmp[8] = {0};
    vmask m = vm_first(n);
    vd r;
    memcpy(tmp, idx, (size_t)n * sizeof *idx);
    r.lo = _mm256_mask_i64gather_pd(_mm256_setzero_pd(), base,
                                    _mm256_loadu_si256((const __m256i *)tmp), m.lo, 8);
    r.hi = _mm256_mask_i64gather_pd(_mm256_setzero_pd(), base,
                                    _mm256_loadu_si256((const __m256i *)(tmp + 4)), m.hi, 8);
    return r;
}
SS_INLINE vd vd_gather_f32_i64(const float *base, const int64_t *idx)
{
    __m128 lo = _mm256_i64gather_ps(base, _mm256_loadu_si256((const __m256i *)idx), 4);
    __m128 hi = _mm256_i64gather_ps(base, _mm256_loadu_si256((const __m256i *)(idx + 4)), 4);
    vd r;
    r.lo = _mm256_cvtps_pd(lo);
    r.hi = _mm256_cvtps_pd(hi);
    return r;
}

#define VM_CMP(pred)                                                           \
    vmask m;                                                                   \
    m.lo = _mm256_cmp_pd(a.lo, b.lo, pred);                                    \
    m.hi = _mm256_cmp_pd(a.hi, b.hi, pred);                                    \
    return m
SS_INLINE vmask vd_lt(vd a, vd b) { VM_CMP(_CMP_LT_OQ); }
SS_INLINE vmask vd_gt(vd a, vd b) { VM_CMP(_CMP_GT_OQ); }
SS_INLINE vmask vd_eq(vd a, vd b) { VM_CMP(_CMP_EQ_OQ); }
SS_INLINE unsigned vm_bits(vmask m)
{
    return (unsigned)_mm256_movemask_pd(m.lo) | (unsigned)_mm256_movemask_pd(m.hi) << 4;
}

SS_INLINE __m256d split_exponent_half(__m256d x, __m256d *f)
{
    const __m256i mant_mask = _mm256_set1_epi64x(0x000fffffffffffffLL);
    const __m256i one_bits = _mm256_set1_epi64x(0x3ff0000000000000LL);
    const __m256i magic = _mm256_set1_epi64x(0x4330000000000000LL); /* 2^52 */
    __m256i bits = _mm256_castpd_si256(x);
    __m256i biased = _mm256_srli_epi64(bits, 52);
    __m256d e = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(biased, magic)),
                              _mm256_set1_pd(4503599627370496.0 + 1023.0));
    *f = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, mant_mask), one_bits));
    return e;
}
SS_INLINE vd vd_split_exponent(vd x, vd *f)
{
    vd e;
    e.lo = split_exponent_half(x.lo, &f->lo);
    e.hi = split_exponent_half(x.hi, &f->hi);
    return e;
}

SS_INLINE __m256d pow2i_half(__m256d k)
{
    __m256d t = _mm256_add_pd(k, _mm256_set1_pd(4503599627370496.0 + 1023.0));
    return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(t), 52));
}
SS_INLINE vd vd_pow2i(vd k)
{
    vd r;
    r.lo = pow2i_half(k.lo);
    r.hi = pow2i_half(k.hi);
    return r;
}

/* The 16-lane float vector `vf`: two 256-bit halves. */
typedef struct {
    __m256 lo, hi;
} vf;

#define VF_BIN(op) HALVES_BIN(vf, op)

SS_INLINE vf vf_set1(float x)
{
    vf r;
    r.lo = r.hi = _mm256_set1_ps(x);
    return r;
}
SS_INLINE vf vf_mul(vf a, vf b) { VF_BIN(_mm256_mul_ps); }
SS_INLINE vf vf_min(vf a, vf b) { VF_BIN(_mm256_min_ps); }
SS_INLINE vf vf_max(vf a, vf b) { VF_BIN(_mm256_max_ps); }
SS_INLINE vf vf_fma(vf a, vf b, vf c) { HALVES_FMA(vf, _mm256_fmadd_ps); }
SS_INLINE vf vf_round(vf a)
{
    vf r;
    r.lo = _mm256_round_ps(a.lo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r.hi = _mm256_round_ps(a.hi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return r;
}
SS_INLINE vf vf_select_lt(vf a, vf b, vf x, vf y)
{
    vf r;
    r.lo = _mm256_blendv_ps(y.lo, x.lo, _mm256_cmp_ps(a.lo, b.lo, _CMP_LT_OQ));
    r.hi = _mm256_blendv_ps(y.hi, x.hi, _mm256_cmp_ps(a.hi, b.hi, _CMP_LT_OQ));
    return r;
}
SS_INLINE int vf_all_lt(vf a, vf b)
{
    return (_mm256_movemask_ps(_mm256_cmp_ps(a.lo, b.lo, _CMP_LT_OQ)) &
            _mm256_movemask_ps(_mm256_cmp_ps(a.hi, b.hi, _CMP_LT_OQ))) == 0xff;
}
SS_INLINE __m256 pow2f_half(__m256 k)
{
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}
SS_INLINE vf vf_pow2i(vf k)
{
    vf r;
    r.lo = pow2f_half(k.lo);
    r.hi = pow2f_half(k.hi);
    return r;
}
SS_INLINE vf vf_from_vd(vd a, vd b)
{
    vf r;
    r.lo = _mm256_set_m128(_mm256_cvtpd_ps(a.hi), _mm256_cvtpd_ps(a.lo));
    r.hi = _mm256_set_m128(_mm256_cvtpd_ps(b.hi), _mm256_cvtpd_ps(b.lo));
    return r;
}
SS_INLINE vd vf_lo(vf a)
{
    vd r;
    r.lo = _mm256_cvtps_pd(_mm256_castps256_ps128(a.lo));
    r.hi = _mm256_cvtps_pd(_mm256_extractf128_ps(a.lo, 1));
    return r;
}
SS_INLINE vd vf_hi(vf a)
{
    vd r;
    r.lo = _mm256_cvtps_pd(_mm256_castps256_ps128(a.hi));
    r.hi = _mm256_cvtps_pd(_mm256_extractf128_ps(a.hi, 1));
    return r;
}

SS_INLINE double vd_hsum(vd a)
{
    __m256d s = _mm256_add_pd(a.lo, a.hi); /* l0+l4, l1+l5, l2+l6, l3+l7 */
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

#include "kernels/common/transpose_avx.h"

#endif
