/* SPDX-License-Identifier: MIT */
/*
 * CPU feature detection. A CPU may report AVX2 or AVX-512 while the OS does
 * not save the YMM / ZMM registers on a context switch, so each level needs
 * both the cpuid feature bits and the matching XCR0 bits from xgetbv.
 */
#include "dispatch/dispatch.h"
#include "subsel_config.h"

#if SUBSEL_HAVE_X86 && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>

static uint64_t read_xcr0(void)
{
    uint32_t eax, edx;
    /* xgetbv with ecx = 0, written as bytes so no -mxsave flag is needed. */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

int ss_cpu_best_isa(void)
{
    unsigned int eax, ebx, ecx, edx;
    uint64_t xcr0;
    int avx2, avx512;

    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return SUBSEL_ISA_SCALAR;
    /* OSXSAVE (ecx bit 27), AVX (bit 28), FMA (bit 12) and PCLMULQDQ (bit
     * 1, which the x86 tables' CRC-32 uses; every AVX2 CPU has it) */
    if (!(ecx & (1u << 27)) || !(ecx & (1u << 28)) || !(ecx & (1u << 12)) ||
        !(ecx & (1u << 1)))
        return SUBSEL_ISA_SCALAR;
    xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) /* XMM and YMM state */
        return SUBSEL_ISA_SCALAR;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return SUBSEL_ISA_SCALAR;
    avx2 = (ebx >> 5) & 1;
    /* AVX512F (16), DQ (17), BW (30), VL (31) */
    avx512 = ((ebx >> 16) & 1) && ((ebx >> 17) & 1) && ((ebx >> 30) & 1) &&
             ((ebx >> 31) & 1);
    if (!avx2)
        return SUBSEL_ISA_SCALAR;
    /* opmask, ZMM_Hi256 and Hi16_ZMM state */
    if (avx512 && (xcr0 & 0xe0) == 0xe0)
        return SUBSEL_ISA_AVX512;
    return SUBSEL_ISA_AVX2;
}

int ss_cpu_has_bf16(void)
{
    unsigned int eax, ebx, ecx, edx;
    /* AVX512_BF16: leaf 7, sub-leaf 1, eax bit 5 (on top of AVX-512) */
    if (ss_cpu_best_isa() != SUBSEL_ISA_AVX512 ||
        !__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx))
        return 0;
    return (eax >> 5) & 1;
}
#else
int ss_cpu_best_isa(void)
{
    return SUBSEL_ISA_SCALAR;
}

int ss_cpu_has_bf16(void)
{
    return 0;
}
#endif
