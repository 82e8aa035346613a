/* SPDX-License-Identifier: MIT */
/*
 * The scalar kernel table: the shared templates over the scalar vector backend.
 */
#include "subsel.h"
#include "kernels/scalar/simd_scalar.h"

#define SS_KERNEL_TABLE ss_kernels_scalar
#define SS_KERNEL_ISA SUBSEL_ISA_SCALAR
#define SS_KERNEL_NAME "scalar"
#include "kernels/common/kernels_template.h"
