/* SPDX-License-Identifier: MIT */
/*
 * SS_PREFETCH(p): fetch the cache line holding *p ahead of its use. Here,
 * in the lowest layer, so that kernels and the layers above share it.
 */
#ifndef SS_KERNELS_PREFETCH_H
#define SS_KERNELS_PREFETCH_H

/* GCC 12's dead-code elimination drops __builtin_prefetch inside loops
 * whose only effect it is (a prefetch loop over a row vanished at -O2 and
 * -O3), so on x86 the instruction is written as volatile assembly, which
 * the compiler must keep. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define SS_PREFETCH(p) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(p)))
#elif defined(__GNUC__)
#define SS_PREFETCH(p) __builtin_prefetch(p)
#else
#define SS_PREFETCH(p) ((void)(p))
#endif

#endif
