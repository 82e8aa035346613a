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
#include "subsel_config.h"
#if SUBSEL_HAVE_BF16
#define SS_KERNEL_GEMM_BF16 ss_gemm_bf16_avx512
#endif
#include "kernels/common/kernels_template.h"
