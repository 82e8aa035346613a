/* SPDX-License-Identifier: MIT */
/*
 * The avx2 kernel table: the shared templates over the avx2 vector backend.
 */
#include "subsel.h"
#include "kernels/avx2/simd_avx2.h"

#define SS_KERNEL_TABLE ss_kernels_avx2
#define SS_KERNEL_ISA SUBSEL_ISA_AVX2
/* every CPU with AVX2 has PCLMULQDQ; lib/dispatch checks it too */
#define SS_KERNEL_CLMUL 1
#define SS_KERNEL_NAME "avx2"
#include "kernels/common/kernels_template.h"
