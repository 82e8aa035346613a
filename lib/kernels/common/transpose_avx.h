/* SPDX-License-Identifier: MIT */
/*
 * Transposes of small float blocks with AVX (256- and 128-bit shuffles),
 * shared by the AVX2 and AVX-512 backends: the copies of
 * gemm_template.h's BLIS panels (common to both, since 256-bit shuffles
 * run as fast as any on the CPUs that have AVX-512).
 */
#ifndef SS_KERNELS_TRANSPOSE_AVX_H
#define SS_KERNELS_TRANSPOSE_AVX_H

#include <immintrin.h>
#include <stdint.h>

#ifndef SS_INLINE
#define SS_INLINE static inline __attribute__((always_inline))
#endif

/* An 8 x 8 block of floats transposed (gemm_template.h's BLIS panels):
 * rows s[q * ld ..] (8 floats each) to columns of o (rows ldo apart). */
#define SS_SIMD_TRANSPOSE8 1
SS_INLINE void ss_transpose8_f32(const float *s, int64_t ld, float *o, int64_t ldo)
{
    __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ld);
    __m256 r2 = _mm256_loadu_ps(s + 2 * ld), r3 = _mm256_loadu_ps(s + 3 * ld);
    __m256 r4 = _mm256_loadu_ps(s + 4 * ld), r5 = _mm256_loadu_ps(s + 5 * ld);
    __m256 r6 = _mm256_loadu_ps(s + 6 * ld), r7 = _mm256_loadu_ps(s + 7 * ld);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(o, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(o + ldo, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(o + 2 * ldo, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(o + 3 * ldo, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(o + 4 * ldo, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(o + 5 * ldo, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(o + 6 * ldo, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(o + 7 * ldo, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* A 4 x 4 block likewise (the rows of a panel past its last 8). */
SS_INLINE void ss_transpose4_f32(const float *s, int64_t ld, float *o, int64_t ldo)
{
    __m128 r0 = _mm_loadu_ps(s), r1 = _mm_loadu_ps(s + ld);
    __m128 r2 = _mm_loadu_ps(s + 2 * ld), r3 = _mm_loadu_ps(s + 3 * ld);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(o, r0);
    _mm_storeu_ps(o + ldo, r1);
    _mm_storeu_ps(o + 2 * ldo, r2);
    _mm_storeu_ps(o + 3 * ldo, r3);
}

#endif
