/* SPDX-License-Identifier: MIT */
/*
 * CRC-32 as zlib computes it (the reflected polynomial 0xEDB88320, the
 * register inverted before and after), for the x86 tables, which define
 * SS_KERNEL_CLMUL: 64-byte blocks are folded into four 128-bit lanes with
 * carry-less multiplies, the lanes into one, and that one reduced to 32
 * bits by a Barrett reduction (V. Gopal et al., "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ Instruction", Intel, 2009; the
 * folding constants are those of Linux's crc32-pclmul). Bytes that do not
 * fill a 16-byte lane are done bit by bit. The result is the CRC, exactly:
 * the kernel suite checks it against zlib on every length up to a few
 * blocks. The scalar table has no entry (callers use zlib's crc32).
 */
#ifdef SS_KERNEL_CLMUL
#include <immintrin.h>

/* The register after n more bytes, one bit at a time. */
static uint32_t crc32_bits(uint32_t c, const unsigned char *p, int64_t n)
{
    int64_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c;
}

/* x's two halves multiplied by k's (the distances they move forward),
 * added to the data they land on. */
__attribute__((target("pclmul,sse4.1"))) static inline __m128i
crc32_fold(__m128i x, __m128i k, __m128i next)
{
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                                       _mm_clmulepi64_si128(x, k, 0x11)),
                         next);
}

#define CRC_LOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

__attribute__((target("pclmul,sse4.1"))) static uint32_t
k_crc32(uint32_t crc, const unsigned char *p, int64_t n)
{
    uint32_t c = ~crc;
    if (n >= 64) {
        /* (high, low): 512-bit fold, 128-bit fold, 64 -> 32, Barrett */
        const __m128i k12 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
        const __m128i k34 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
        const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
        const __m128i mu_p = _mm_set_epi64x(0x1f7011641, 0x1db710641);
        const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);
        __m128i x1 = _mm_xor_si128(CRC_LOAD(p), _mm_cvtsi32_si128((int)c));
        __m128i x2 = CRC_LOAD(p + 16), x3 = CRC_LOAD(p + 32);
        __m128i x4 = CRC_LOAD(p + 48), t;
        p += 64;
        n -= 64;
        for (; n >= 64; p += 64, n -= 64) {
            x1 = crc32_fold(x1, k12, CRC_LOAD(p));
            x2 = crc32_fold(x2, k12, CRC_LOAD(p + 16));
            x3 = crc32_fold(x3, k12, CRC_LOAD(p + 32));
            x4 = crc32_fold(x4, k12, CRC_LOAD(p + 48));
        }
        x1 = crc32_fold(x1, k34, x2);
        x1 = crc32_fold(x1, k34, x3);
        x1 = crc32_fold(x1, k34, x4);
        for (; n >= 16; p += 16, n -= 16)
            x1 = crc32_fold(x1, k34, CRC_LOAD(p));
        /* 128 bits to 64 (with 32 zero bits appended), then to 32 */
        t = _mm_clmulepi64_si128(k34, x1, 0x01);
        x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
        t = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00);
        x1 = _mm_xor_si128(_mm_srli_si128(x1, 4), t);
        t = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), mu_p, 0x10);
        t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), mu_p, 0x00);
        c = (uint32_t)_mm_extract_epi32(_mm_xor_si128(x1, t), 1);
    }
    return ~crc32_bits(c, p, n);
}
#undef CRC_LOAD
#define SS_KERNEL_CRC32 k_crc32
#else
#define SS_KERNEL_CRC32 NULL
#endif
