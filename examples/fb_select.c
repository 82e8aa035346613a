/* SPDX-License-Identifier: MIT */
/*
 * Example: pick k rows of a sparse feature matrix that cover its features
 * best, by a feature-based submodular function f(A) = sum_i sqrt(m_i(A)),
 * with lazy greedy, and print them with their gains.
 *
 *   fb_select Z.npz [K]
 */
#include <stdio.h>
#include <stdlib.h>

#include <subsel.h>

int main(int argc, char **argv)
{
    subsel_ctx *ctx = NULL;
    subsel_csr *z = NULL;
    subsel_objective *f = NULL;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL;
    int64_t k = argc > 2 ? atoll(argv[2]) : 5, i;
    int rc;

    if (argc < 2) {
        fprintf(stderr, "usage: %s Z.npz [K]\n", argv[0]);
        return 2;
    }
    if (subsel_ctx_create(&ctx) != SUBSEL_OK)
        return 1;
    /* every call below can fail; the first failure skips the rest */
    rc = subsel_csr_load_npz(ctx, argv[1], &z);
    if (rc == SUBSEL_OK)
        rc = subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0.0, NULL, &f);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_LAZY, &opt);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_set_int(opt, SUBSEL_P_BUDGET, k);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_run(ctx, opt, f, &sel);
    if (rc != SUBSEL_OK) {
        fprintf(stderr, "%s: %s\n", subsel_status_string(rc), subsel_ctx_last_error(ctx));
    } else {
        for (i = 0; i < subsel_selection_count(sel); i++)
            printf("step %lld: row %lld, gain %.6f\n", (long long)i + 1,
                   (long long)subsel_selection_indices(sel)[i], subsel_selection_gains(sel)[i]);
        printf("f = %.6f after %lld gain evaluations\n", subsel_selection_value(sel),
               (long long)subsel_selection_evaluations(sel));
    }
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
    return rc == SUBSEL_OK ? 0 : 1;
}
