/* SPDX-License-Identifier: MIT */
/* Placeholder: SciPy save_npz CSR files (being written). */
#include "core/error.h"
#include "matrix/matrix.h"

int subsel_csr_load_npz(subsel_ctx *ctx, const char *path, subsel_csr **out)
{ (void)path; if (out) *out = NULL; return ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "not yet"); }
int subsel_csr_save_npz(subsel_ctx *ctx, const subsel_csr *c, const char *path, int compressed)
{ (void)c; (void)path; (void)compressed; return ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "not yet"); }
