/* SPDX-License-Identifier: MIT */
/*
 * Example: load a SciPy CSR matrix saved with scipy.sparse.save_npz and
 * print its shape, its number of nonzeros and its densest row. With a
 * second path, also write the matrix there as an uncompressed archive with
 * aligned members, which later loads use in place (memory-mapped, no copy;
 * see docs/matrices.md), and load it back to show the difference.
 *
 *   cc load_npz.c $(pkg-config --cflags --libs subsel) -o load_npz
 *   ./load_npz Z.npz [ALIGNED.npz]
 */
#include <stdio.h>
#include <time.h>

#include <subsel.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Loads path into *z, printing how long it took; 1 on failure. */
static int load(subsel_ctx *ctx, const char *path, subsel_csr **z)
{
    double t = now();
    int rc = subsel_csr_load_npz(ctx, path, z);
    if (rc != SUBSEL_OK) {
        /* The status says what kind of failure, the context says exactly what. */
        fprintf(stderr, "%s: %s\n", subsel_status_string(rc), subsel_ctx_last_error(ctx));
        return 1;
    }
    printf("%s: loaded in %.4f s (validated, CRCs checked)\n", path, now() - t);
    return 0;
}

int main(int argc, char **argv)
{
    subsel_ctx *ctx = NULL;
    subsel_csr *z = NULL, *again = NULL;
    int64_t row, best_row = -1, best = -1;
    int status = 1;

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s FILE.npz [ALIGNED.npz]\n", argv[0]);
        return 2;
    }
    if (subsel_ctx_create(&ctx) != SUBSEL_OK) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    /* map_files is on by default; 0 would copy every array instead */
    if (load(ctx, argv[1], &z) != 0)
        goto done;
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
    if (argc == 3) {
        /* stored (0: not compressed): SciPy reads it as well */
        int rc = subsel_csr_save_npz(ctx, z, argv[2], 0);
        if (rc != SUBSEL_OK) {
            fprintf(stderr, "%s: %s\n", subsel_status_string(rc), subsel_ctx_last_error(ctx));
            goto done;
        }
        if (load(ctx, argv[2], &again) != 0)
            goto done;
        if (subsel_csr_nnz(again) != subsel_csr_nnz(z)) {
            fprintf(stderr, "%s: the copy has another number of nonzeros\n", argv[2]);
            goto done;
        }
    }
    status = 0;
done:
    subsel_csr_free(again);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
    return status;
}
