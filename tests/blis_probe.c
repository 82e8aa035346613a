/* SPDX-License-Identifier: MIT */
/*
 * For CI (.ci/run): can the BLIS sub-configuration chosen now (by BLIS or
 * subsel for this CPU, or forced with BLIS_ARCH_TYPE) run the library's products, and
 * how do they round? Runs sgemm and dgemm through the library's own
 * wrappers on the packed and the small-matrix paths, checks them against a
 * plain triple loop, and prints one line:
 *     <arch id> <arch name> <hash of the products' bits>
 * Exit status 0 when every product is right, 1 when one is wrong; a
 * configuration the CPU cannot run dies of SIGILL or a BLIS abort instead,
 * which is why CI runs this in a child process per candidate.
 * `blis_probe --count` prints the number of arch ids BLIS_ARCH_TYPE takes.
 */
#include <blis.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blis_arch.h"
#include "core/rng.h"
#include "linalg/blas.h"

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n--)
        h = (h ^ *b++) * 0x100000001b3ULL; /* FNV-1a */
    return h;
}

/* C = A B^T for an m x k and an n x k, in float and double, each against
 * the exact sum in long double; folds the results' bits into *h. */
static int product_is_right(int64_t m, int64_t n, int64_t k, uint64_t *h)
{
    float *af = malloc((size_t)(m * k) * sizeof *af), *bf = malloc((size_t)(n * k) * sizeof *bf);
    float *cf = malloc((size_t)(m * n) * sizeof *cf);
    double *ad = malloc((size_t)(m * k) * sizeof *ad), *bd = malloc((size_t)(n * k) * sizeof *bd);
    double *cd = malloc((size_t)(m * n) * sizeof *cd);
    int64_t i, j, l;
    int right = af && bf && cf && ad && bd && cd;
    ss_rng rng;
    ss_rng_seed(&rng, 2024, (uint64_t)(m * 1000000 + n * 1000 + k));
    for (i = 0; right && i < m * k; i++)
        ad[i] = af[i] = (float)(ss_rng_uniform(&rng) * 2 - 1);
    for (i = 0; right && i < n * k; i++)
        bd[i] = bf[i] = (float)(ss_rng_uniform(&rng) * 2 - 1);
    if (right) {
        ss_sgemm_serial(0, 1, m, n, k, 1.0f, af, k, bf, k, 0.0f, cf, n);
        ss_dgemm_serial(0, 1, m, n, k, 1.0, ad, k, bd, k, 0.0, cd, n);
    }
    for (i = 0; right && i < m; i++)
        for (j = 0; j < n; j++) {
            long double exact = 0, mag = 0;
            for (l = 0; l < k; l++) {
                exact += (long double)ad[i * k + l] * bd[j * k + l];
                mag += fabsl((long double)ad[i * k + l] * bd[j * k + l]);
            }
            if (fabsl(cf[i * n + j] - exact) > 1e-5L * mag + 1e-30L ||
                fabsl(cd[i * n + j] - exact) > 1e-13L * mag + 1e-300L)
                right = 0;
        }
    if (right) {
        *h = hash_bytes(*h, cf, (size_t)(m * n) * sizeof *cf);
        *h = hash_bytes(*h, cd, (size_t)(m * n) * sizeof *cd);
    }
    free(af);
    free(bf);
    free(cf);
    free(ad);
    free(bd);
    free(cd);
    return right;
}

int main(int argc, char **argv)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    arch_t id;
    if (argc > 1 && strcmp(argv[1], "--count") == 0) {
        printf("%d\n", (int)BLIS_NUM_ARCHS);
        return 0;
    }
    /* the kernels the library's products run with (lib/core/blis_arch.c) */
    id = (arch_t)ss_blis_arch_id();
    /* the packed path (every dimension >= 64) and the small-matrix one */
    if (!product_is_right(96, 80, 200, &h) || !product_is_right(20, 70, 72, &h)) {
        fprintf(stderr, "blis_probe: %s computes wrong products\n", bli_arch_string(id));
        return 1;
    }
    printf("%d %s %016" PRIx64 "\n", (int)id, bli_arch_string(id), h);
    return 0;
}
