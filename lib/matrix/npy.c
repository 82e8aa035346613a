/* SPDX-License-Identifier: MIT */
/* Placeholder: NumPy .npy reading and writing (being written). */
#include "core/error.h"
#include "matrix/matrix.h"

int subsel_dense_load_npy(subsel_ctx *ctx, const char *path, subsel_dense **out)
{ (void)path; if (out) *out = NULL; return ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "not yet"); }
int subsel_dense_save_npy(subsel_ctx *ctx, const subsel_dense *d, const char *path)
{ (void)d; (void)path; return ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "not yet"); }
int subsel_npy_read_f64(subsel_ctx *ctx, const char *path, double *out, int64_t cap, int64_t *count)
{ (void)path; (void)out; (void)cap; (void)count; return ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "not yet"); }
int subsel_npy_read_i64(subsel_ctx *ctx, const char *path, int64_t *out, int64_t cap, int64_t *count)
{ (void)path; (void)out; (void)cap; (void)count; return ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "not yet"); }
int subsel_npy_write_f64(subsel_ctx *ctx, const char *path, const double *v, int64_t n)
{ (void)path; (void)v; (void)n; return ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "not yet"); }
int subsel_npy_write_i64(subsel_ctx *ctx, const char *path, const int64_t *v, int64_t n)
{ (void)path; (void)v; (void)n; return ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "not yet"); }
