/* SPDX-License-Identifier: MIT */
/*
 * Example: load a SciPy CSR matrix saved with scipy.sparse.save_npz and
 * print its shape, its number of nonzeros and its densest row.
 *
 *   cc load_npz.c $(pkg-config --cflags --libs subsel) -o load_npz
 *   ./load_npz Z.npz
 */
#include <stdio.h>

#include <subsel.h>

int main(int argc, char **argv)
{
    subsel_ctx *ctx = NULL;
    subsel_csr *z = NULL;
    int64_t row, best_row = -1, best = -1;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.npz\n", argv[0]);
        return 2;
    }
    if (subsel_ctx_create(&ctx) != SUBSEL_OK) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    rc = subsel_csr_load_npz(ctx, argv[1], &z);
    if (rc != SUBSEL_OK) {
        /* The status says what kind of failure, the context says exactly what. */
        fprintf(stderr, "%s: %s\n", subsel_status_string(rc), subsel_ctx_last_error(ctx));
        subsel_ctx_free(ctx);
        return 1;
    }
    for (row = 0; row < subsel_csr_rows(z); row++) {
        const int32_t *cols;
        const float *vals;
        int64_t count;
        subsel_csr_row(z, row, &cols, &vals, &count);
        if (count > best) {
            best = count;
            best_row = row;
        }
    }
    printf("%s: %lld x %lld, %lld nonzeros", argv[1], (long long)subsel_csr_rows(z),
           (long long)subsel_csr_cols(z), (long long)subsel_csr_nnz(z));
    if (best_row >= 0)
        printf(", densest row %lld with %lld", (long long)best_row, (long long)best);
    printf("\n");
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
    return 0;
}
