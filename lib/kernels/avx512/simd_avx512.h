/* SPDX-License-Identifier: MIT */
/*
 * The AVX-512 (F, DQ, BW, VL) 8-lane vector backend: one 512-bit register.
 * Matches the scalar backend bit for bit (see common/vmath.h).
 */
#ifndef SS_SIMD_AVX512_H
#define SS_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#define SS_INLINE static inline __attribute__((always_inline))

/* gemm_template.h's tiles: 4 x 3 vectors (12 of the 32 registers
 * accumulate: enough chains to hide the FMA latency on two pipes) */
#define SS_GEMM_VECS 3
#define SS_GEMM_DOT_COLS 4

typedef __m512d vd;
typedef __mmask8 vmask;

SS_INLINE vd vd_set1(double x) { return _mm512_set1_pd(x); }
SS_INLINE vd vd_zero(void) { return _mm512_setzero_pd(); }
SS_INLINE vd vd_add(vd a, vd b) { return _mm512_add_pd(a, b); }
SS_INLINE vd vd_sub(vd a, vd b) { return _mm512_sub_pd(a, b); }
SS_INLINE vd vd_mul(vd a, vd b) { return _mm512_mul_pd(a, b); }
SS_INLINE vd vd_div(vd a, vd b) { return _mm512_div_pd(a, b); }
SS_INLINE vd vd_fma(vd a, vd b, vd c) { return _mm512_fmadd_pd(a, b, c); }
SS_INLINE vd vd_sqrt(vd a) { return _mm512_sqrt_pd(a); }
SS_INLINE vd vd_min(vd a, vd b) { return _mm512_min_pd(a, b); }
SS_INLINE vd vd_max(vd a, vd b) { return _mm512_max_pd(a, b); }
SS_INLINE vd vd_round(vd a)
{
    return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

SS_INLINE vmask vm_first(int n) { return (vmask)((1u << n) - 1u); }

SS_INLINE vd vd_load_f32(const float *p)
{
    return _mm512_cvtps_pd(_mm256_loadu_ps(p));
}
SS_INLINE vd vd_load_f32_partial(const float *p, int n)
{
    return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(vm_first(n), p));
}
SS_INLINE vd vd_load(const double *p) { return _mm512_loadu_pd(p); }
SS_INLINE vd vd_load_partial(const double *p, int n)
{
    return _mm512_maskz_loadu_pd(vm_first(n), p);
}
SS_INLINE void vd_store(double *p, vd a) { _mm512_storeu_pd(p, a); }
SS_INLINE void vd_store_partial(double *p, vd a, int n)
{
    _mm512_mask_storeu_pd(p, vm_first(n), a);
}
/* Lanes rounded to float (to nearest) and stored. */
SS_INLINE void vd_store_f32(float *p, vd a)
{
    _mm256_storeu_ps(p, _mm512_cvtpd_ps(a));
}
SS_INLINE void vd_store_f32_partial(float *p, vd a, int n)
{
    _mm256_mask_storeu_ps(p, vm_first(n), _mm512_cvtpd_ps(a));
}
/* Gathers are built from scalar loads: on AMD Zen the gather instructions
 * are microcoded and slower than eight loads and a few inserts; on Intel the
 * two are about even. */
#define VD_GATHER_LOADS(idx_t, sfx)                                            \
    SS_INLINE vd vd_gather##sfx(const double *base, const idx_t *idx)          \
    {                                                                          \
        __m128d a = _mm_loadh_pd(_mm_load_sd(base + idx[0]), base + idx[1]);   \
        __m128d b = _mm_loadh_pd(_mm_load_sd(base + idx[2]), base + idx[3]);   \
        __m128d c = _mm_loadh_pd(_mm_load_sd(base + idx[4]), base + idx[5]);   \
        __m128d d = _mm_loadh_pd(_mm_load_sd(base + idx[6]), base + idx[7]);   \
        __m256d lo = _mm256_insertf128_pd(_mm256_castpd128_pd256(a), b, 1);    \
        __m256d hi = _mm256_insertf128_pd(_mm256_castpd128_pd256(c), d, 1);    \
        return _mm512_insertf64x4(_mm512_castpd256_pd512(lo), hi, 1);          \
    }
/* for int32 indices, and (_i64) the int64 ones of wide CSR matrices */
VD_GATHER_LOADS(int32_t, )
VD_GATHER_LOADS(int64_t, _i64)
SS_INLINE vd vd_gather_partial(const double *base, const int32_t *idx, int n)
{
    vmask m = vm_first(n);
    __m256i vi = _mm256_maskz_loadu_epi32(m, idx);
    return _mm512_mask_i32gather_pd(_mm512_setzero_pd(), m, vi, base, 8);
}
SS_INLINE vd vd_gather_f32(const float *base, const int32_t *idx)
{
    return _mm512_cvtps_pd(
        _mm256_i32gather_ps(base, _mm256_loadu_si256((const __m256i *)idx), 4));
}
SS_INLINE vd vd_gather_f32_partial(const float *base, const int32_t *idx, int n)
{
    vmask m = vm_first(n);
    __m256i vi = _mm256_maskz_loadu_epi32(m, idx);
    return _mm512_cvtps_pd(
        _mm256_mmask_i32gather_ps(_mm256_setzero_ps(), m, vi, base, 4));
}
/* The masked gathers for int64 indices (CSR matrices with int64 indices). */
SS_INLINE vd vd_gather_partial_i64(const double *base, const int64_t *idx, int n)
{
    vmask m = vm_first(n);
    __m512i vi = _mm512_maskz_loadu_epi64(m, idx);
    return _mm512_mask_i64gather_pd(_mm512_setzero_pd(), m, vi, base, 8);
}
SS_INLINE vd vd_gather_f32_i64(const float *base, const int64_t *idx)
{
    return _mm512_cvtps_pd(_mm512_i64gather_ps(_mm512_loadu_si512(idx), base, 4));
}
SS_INLINE vd vd_gather_f32_partial_i64(const float *base, const int64_t *idx,
                                       int n)
{
    vmask m = vm_first(n);
    __m512i vi = _mm512_maskz_loadu_epi64(m, idx);
    return _mm512_cvtps_pd(
        _mm512_mask_i64gather_ps(_mm256_setzero_ps(), m, vi, base, 4));
}
/* UniPROT's packing of the columns with room (common/ot_template.h): 16
 * floats at a time by the compress instruction, the count stored by a
 * masked store. bits: one per src value, the last word's past n clear. */
#define SS_SIMD_PACK_F32 1
SS_INLINE int64_t pack_f32_bits(float *dst, const float *src, float *dst2,
                                const float *src2, const uint64_t *bits, int64_t n)
{
    int64_t o = 0, j = 0;
    for (; j < n; j += 16) {
        __mmask16 in = (__mmask16)(n - j >= 16 ? 0xffff : (1u << (n - j)) - 1);
        __mmask16 m = (__mmask16)(bits[j >> 6] >> (j & 63)) & in;
        __mmask16 out = (__mmask16)((1u << __builtin_popcount(m)) - 1);
        _mm512_mask_storeu_ps(dst + o, out,
                              _mm512_maskz_compress_ps(m, _mm512_maskz_loadu_ps(in, src + j)));
        if (src2 != NULL)
            _mm512_mask_storeu_ps(
                dst2 + o, out, _mm512_maskz_compress_ps(m, _mm512_maskz_loadu_ps(in, src2 + j)));
        o += __builtin_popcount(m);
    }
    return o;
}

SS_INLINE vmask vd_lt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
SS_INLINE vmask vd_gt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
SS_INLINE vmask vd_eq(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
SS_INLINE unsigned vm_bits(vmask m) { return (unsigned)m; }
SS_INLINE vd vd_select(vmask m, vd a, vd b) { return _mm512_mask_blend_pd(m, b, a); }

SS_INLINE vd vd_split_exponent(vd x, vd *f)
{
    *f = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    return _mm512_getexp_pd(x);
}

SS_INLINE vd vd_pow2i(vd k) { return _mm512_scalef_pd(_mm512_set1_pd(1.0), k); }

/* The 16-lane float vector `vf`: one 512-bit register. */
typedef __m512 vf;

SS_INLINE vf vf_set1(float x) { return _mm512_set1_ps(x); }
SS_INLINE vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
SS_INLINE vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
SS_INLINE vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
SS_INLINE vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
SS_INLINE vf vf_round(vf a)
{
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
SS_INLINE vf vf_select_lt(vf a, vf b, vf x, vf y)
{
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), y, x);
}
SS_INLINE int vf_all_lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ) == 0xffff; }
SS_INLINE vf vf_pow2i(vf k)
{
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}
SS_INLINE vf vf_from_vd(vd a, vd b)
{
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(a)),
                              _mm512_cvtpd_ps(b), 1);
}
SS_INLINE vd vf_lo(vf a) { return _mm512_cvtps_pd(_mm512_castps512_ps256(a)); }
SS_INLINE vd vf_hi(vf a) { return _mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1)); }

SS_INLINE double vd_hsum(vd a)
{
    __m256d s = _mm256_add_pd(_mm512_castpd512_pd256(a), _mm512_extractf64x4_pd(a, 1));
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

#include "kernels/common/transpose_avx.h"

#endif
