/* SPDX-License-Identifier: MIT */
/*
 * The bfloat16 block product (AVX512_BF16's vdpbf16ps), the AVX-512
 * table's gemm_bf16: a strip of SS_BF16_MR rows of packed A against
 * `panels` panels of SS_BF16_NR columns of packed B (kernels.h gives the
 * layouts). It only screens: the neighbour search re-ranks what passes by
 * exact dot products, so its rounding (bfloat16 inputs, single-precision
 * sums; denormals flushed) never reaches a result, only the error bound
 * its caller allows for.
 *
 * Only this function is compiled for AVX512_BF16 (a target attribute, not
 * a flag for the file), so nothing else can pick up its instructions;
 * lib/dispatch leaves it out of the table on CPUs without them.
 */
#include "subsel_config.h"

#if SUBSEL_HAVE_BF16
#include <immintrin.h>

#include "kernels/kernels.h"

/* Eight rows by two vectors of 16 columns: 16 accumulators, two loads of
 * B and eight broadcasts of A per pair of coordinates. 8 x 32 ran at
 * about 0.9 of the instruction's peak on Zen 5 (12 x 32 and 6 x 64 no
 * faster); 8 divides the neighbour search's blocks. */
__attribute__((target("avx512f,avx512bf16"))) void
ss_gemm_bf16_avx512(int64_t pairs, int64_t panels, const uint32_t *a,
                    const uint32_t *b, float *c, int64_t ldc)
{
    int64_t q, p;
    for (q = 0; q < panels; q++) {
        const uint32_t *bq = b + q * pairs * SS_BF16_NR;
        __m512 acc[SS_BF16_MR][2];
        int i;
#pragma GCC unroll 8
        for (i = 0; i < SS_BF16_MR; i++)
            acc[i][0] = acc[i][1] = _mm512_setzero_ps();
        for (p = 0; p < pairs; p++) {
            __m512bh b0 = (__m512bh)_mm512_loadu_si512(bq + p * SS_BF16_NR);
            __m512bh b1 = (__m512bh)_mm512_loadu_si512(bq + p * SS_BF16_NR + 16);
#pragma GCC unroll 8
            for (i = 0; i < SS_BF16_MR; i++) {
                __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[p * SS_BF16_MR + i]);
                acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
                acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
            }
        }
#pragma GCC unroll 8
        for (i = 0; i < SS_BF16_MR; i++) {
            _mm512_storeu_ps(c + i * ldc + q * SS_BF16_NR, acc[i][0]);
            _mm512_storeu_ps(c + i * ldc + q * SS_BF16_NR + 16, acc[i][1]);
        }
    }
}
#endif
