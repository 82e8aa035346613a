/* SPDX-License-Identifier: MIT */
/*
 * Run-time choice of the kernel table. The process-wide level is fixed once
 * (pthread_once) from cpuid + xgetbv and the SUBSEL_ISA variable; a context
 * can only lower it (SUBSEL_CTX_MAX_ISA; core/ctx.h's ss_kernels_for). Builds
 * may leave levels out (-Disa_avx2=false): requests round down past them.
 * Below lib/core: nothing here knows contexts.
 */
#ifndef SS_DISPATCH_H
#define SS_DISPATCH_H

#include "kernels/kernels.h"
#include "subsel.h"

/* The best level at most `wanted` that is both compiled in and supported by
 * the CPU and OS (scalar at worst). Every request for a level (SUBSEL_ISA,
 * SUBSEL_CTX_MAX_ISA) is rounded down through here, so a level compiled
 * out is never selected, whatever was asked. */
int ss_isa_usable(int wanted);

/* The table of a level ss_isa_usable() returned (never NULL). */
const ss_kernels *ss_kernels_at(int usable_isa);

/* The table of one level, or NULL if it is not compiled in or the CPU cannot
 * run it (tests use this to compare every level with scalar). */
const ss_kernels *ss_kernels_level(int isa);

/* What the CPU and OS support, ignoring SUBSEL_ISA: 0 scalar, 1 AVX2 + FMA,
 * 2 AVX-512 F/DQ/BW/VL. Defined in cpu.c. */
int ss_cpu_best_isa(void);

/* Whether the CPU also runs AVX512_BF16 (the AVX-512 table's gemm_bf16);
 * cpu.c. */
int ss_cpu_has_bf16(void);

#endif
