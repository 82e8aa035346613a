/* SPDX-License-Identifier: MIT */
/*
 * The avx512 kernel table: the shared templates over the avx512 vector backend.
 */
#include "subsel.h"
#include "kernels/avx512/simd_avx512.h"

#define SS_KERNEL_TABLE ss_kernels_avx512
#define SS_KERNEL_ISA SUBSEL_ISA_AVX512
/* every CPU with AVX2 has PCLMULQDQ; lib/dispatch checks it too */
#define SS_KERNEL_CLMUL 1
#define SS_KERNEL_NAME "avx512"
#include "kernels/common/kernels_template.h"
