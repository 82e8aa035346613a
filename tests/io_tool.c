/* SPDX-License-Identifier: MIT */
/*
 * A small driver for check_scipy_compat.py: reads a file with one of the
 * library's readers and writes it back with the matching writer, so that
 * NumPy and SciPy can check what our writers produce against what they
 * read from the original. Usage:
 *
 *   subsel-io-tool csr IN.npz OUT.npz stored|deflate|zip64
 *   subsel-io-tool view IN.npz OUT.npz FIRST COUNT   (rows FIRST..+COUNT)
 *   subsel-io-tool dense IN.npy OUT.npy
 *   subsel-io-tool f64 IN.npy OUT.npy
 *   subsel-io-tool i64 IN.npy OUT.npy
 *
 * Exits 0 on success, 1 with the library's message on stderr otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/npz.h"
#include "subsel.h"

static int copy_csr(subsel_ctx *ctx, const char *in, const char *out,
                    const char *mode)
{
    subsel_csr *m = NULL;
    int rc = subsel_csr_load_npz(ctx, in, &m);
    if (rc == SUBSEL_OK)
        rc = ss_npz_save_csr(ctx, m, out, strcmp(mode, "stored") != 0,
                             strcmp(mode, "zip64") == 0);
    subsel_csr_free(m);
    return rc;
}

static int copy_view(subsel_ctx *ctx, const char *in, const char *out,
                     int64_t first, int64_t count)
{
    subsel_csr *m = NULL, *v = NULL;
    int rc = subsel_csr_load_npz(ctx, in, &m);
    if (rc == SUBSEL_OK)
        rc = subsel_csr_view_rows(ctx, m, first, count, &v);
    if (rc == SUBSEL_OK)
        rc = subsel_csr_save_npz(ctx, v, out, 1);
    subsel_csr_free(v);
    subsel_csr_free(m);
    return rc;
}

static int copy_dense(subsel_ctx *ctx, const char *in, const char *out)
{
    subsel_dense *d = NULL;
    int rc = subsel_dense_load_npy(ctx, in, &d);
    if (rc == SUBSEL_OK)
        rc = subsel_dense_save_npy(ctx, d, out);
    subsel_dense_free(d);
    return rc;
}

static int copy_vector(subsel_ctx *ctx, const char *in, const char *out,
                       int integers)
{
    int64_t n = 0;
    void *buf;
    int rc = integers ? subsel_npy_read_i64(ctx, in, NULL, 0, &n)
                      : subsel_npy_read_f64(ctx, in, NULL, 0, &n);
    if (rc != SUBSEL_OK)
        return rc;
    buf = malloc((size_t)(n > 0 ? n : 1) * 8);
    if (buf == NULL)
        return SUBSEL_E_NOMEM;
    rc = integers ? subsel_npy_read_i64(ctx, in, buf, n, &n)
                  : subsel_npy_read_f64(ctx, in, buf, n, &n);
    if (rc == SUBSEL_OK)
        rc = integers ? subsel_npy_write_i64(ctx, out, buf, n)
                      : subsel_npy_write_f64(ctx, out, buf, n);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    subsel_ctx *ctx;
    int rc;
    if (argc < 4) {
        fprintf(stderr, "usage: %s csr|view|dense|f64|i64 IN OUT [...]\n",
                argv[0]);
        return 2;
    }
    if (subsel_ctx_create(&ctx) != SUBSEL_OK)
        return 1;
    if (strcmp(argv[1], "csr") == 0 && argc == 5)
        rc = copy_csr(ctx, argv[2], argv[3], argv[4]);
    else if (strcmp(argv[1], "view") == 0 && argc == 6)
        rc = copy_view(ctx, argv[2], argv[3], atoll(argv[4]), atoll(argv[5]));
    else if (strcmp(argv[1], "dense") == 0)
        rc = copy_dense(ctx, argv[2], argv[3]);
    else if (strcmp(argv[1], "f64") == 0 || strcmp(argv[1], "i64") == 0)
        rc = copy_vector(ctx, argv[2], argv[3], argv[1][0] == 'i');
    else
        rc = SUBSEL_E_INVALID;
    if (rc != SUBSEL_OK)
        fprintf(stderr, "%s: %s (%s)\n", argv[1], subsel_ctx_last_error(ctx),
                subsel_status_string(rc));
    subsel_ctx_free(ctx);
    return rc == SUBSEL_OK ? 0 : 1;
}
