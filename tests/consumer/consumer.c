/* SPDX-License-Identifier: MIT */
/*
 * A program built against an installed libsubsel the ways docs/building.md
 * gives (CMake's find_package, shared and static; a fully static link with
 * `pkg-config --static`). Each step reaches one of the libraries the
 * library needs, so that a link line missing one fails to link or run:
 * a feature-based greedy selection (OpenMP), a compressed .npz written and
 * read back (zlib), TAROT's Cholesky and ZCA whitenings (LAPACKE: dpotrf,
 * dsyevd) and their scores (BLIS sgemm). Exits 0 only when every answer is
 * the known one.
 *   consumer SCRATCH_DIR
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <subsel.h>

static int check(int ok, const char *what)
{
    if (!ok)
        fprintf(stderr, "consumer: wrong %s\n", what);
    return ok;
}

static int failed(subsel_ctx *ctx, int rc, const char *what)
{
    fprintf(stderr, "consumer: %s: %s: %s\n", what, subsel_status_string(rc),
            subsel_ctx_last_error(ctx));
    return 0;
}

/* f(A) = sum_j log(1 + m_j(A)) over 3 columns: greedy takes row 2
 * (gain log 6), then row 1 (2 log 2), then row 0 or 3 (log 1.5 each; the
 * lower index wins ties): f = log 3 + log 2 + log 6. The matrix also makes a round trip through a
 * deflate-compressed .npz. */
static int select_rows(subsel_ctx *ctx, const char *dir)
{
    static const int64_t indptr[] = {0, 1, 3, 4, 5};
    static const int32_t indices[] = {0, 0, 1, 2, 1};
    static const float values[] = {1, 1, 1, 5, 1};
    const double want = log(3.0) + log(2.0) + log(6.0);
    char path[4096];
    subsel_csr *z = NULL, *loaded = NULL;
    subsel_objective *f = NULL;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL;
    int ok = 0, rc;

    snprintf(path, sizeof path, "%s/z.npz", dir);
    if ((rc = subsel_csr_create(ctx, 4, 3, indptr, indices, values, SUBSEL_OWN_COPY, &z)) ||
        (rc = subsel_csr_save_npz(ctx, z, path, 1)) ||
        (rc = subsel_csr_load_npz(ctx, path, &loaded)) ||
        (rc = subsel_fb_create(ctx, loaded, SUBSEL_CONCAVE_LOG1P, 0, NULL, &f)) ||
        (rc = subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_NAIVE, &opt)) ||
        (rc = subsel_optimizer_set_int(opt, SUBSEL_P_BUDGET, 3)) ||
        (rc = subsel_optimizer_run(ctx, opt, f, &sel))) {
        failed(ctx, rc, "feature-based selection");
        goto done;
    }
    {
        const int64_t *idx = subsel_selection_indices(sel);
        ok = check(subsel_csr_nnz(loaded) == 5, "nonzeros after the .npz round trip") &
             check(subsel_selection_count(sel) == 3 && idx[0] == 2 && idx[1] == 1 &&
                       idx[2] == 0,
                   "selection (want 2, 1, 0)") &
             check(fabs(subsel_selection_value(sel) - want) < 1e-5, "objective value");
    }
done:
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_csr_free(loaded);
    subsel_csr_free(z);
    remove(path);
    return ok;
}

/* Cosine scores of whitened candidates and targets, whitened by `method`
 * (SUBSEL_WHITEN_*). */
static int whitened_scores(subsel_ctx *ctx, int method, float *scores)
{
    enum { N = 6, M = 3, D = 3 };
    static const float candidates[N * D] = {1, 0.5f, 0.2f, 0.3f, 2, -1, -1, 1, 0.5f,
                                            2, -0.5f, 1, 0.1f, 0.2f, 3, -2, -1, 0.4f};
    static const float targets[M * D] = {0.5f, 1, 1, -1, 0.2f, 2, 1.5f, -1, -0.3f};
    subsel_dense *c = NULL, *t = NULL;
    subsel_tarot *tarot = NULL;
    int rc;
    if ((rc = subsel_dense_create(ctx, N, D, candidates, SUBSEL_OWN_COPY, &c)) ||
        (rc = subsel_dense_create(ctx, M, D, targets, SUBSEL_OWN_COPY, &t)) ||
        (rc = subsel_tarot_create(ctx, c, t, &tarot)) ||
        (rc = subsel_param_set_int(ctx, tarot, SUBSEL_P_TAROT_WHITEN, method)) ||
        (rc = subsel_tarot_scores_v2(ctx, tarot, 0, N, 0, M, scores, N * M, NULL, 0)))
        failed(ctx, rc, "TAROT whitening");
    subsel_tarot_free(tarot);
    subsel_dense_free(t);
    subsel_dense_free(c);
    return rc == SUBSEL_OK;
}

/* Both whitenings give the same inner products (subsel_tarot_whiten()),
 * and whitening changes them: compared with no whitening. */
static int whiten(subsel_ctx *ctx)
{
    float chol[18], zca[18], none[18];
    double diff = 0, moved = 0;
    int i;
    if (!whitened_scores(ctx, SUBSEL_WHITEN_CHOLESKY, chol) ||
        !whitened_scores(ctx, SUBSEL_WHITEN_ZCA, zca) ||
        !whitened_scores(ctx, SUBSEL_WHITEN_NONE, none))
        return 0;
    for (i = 0; i < 18; i++) {
        diff = fmax(diff, fabs(chol[i] - zca[i]));
        moved = fmax(moved, fabs(chol[i] - none[i]));
    }
    return check(diff < 1e-4, "scores: Cholesky and ZCA whitening differ") &
           check(moved > 1e-2, "scores: whitening changed nothing");
}

int main(int argc, char **argv)
{
    subsel_ctx *ctx = NULL;
    int ok;
    if (argc != 2) {
        fprintf(stderr, "usage: consumer SCRATCH_DIR\n");
        return 2;
    }
    if (!check(subsel_version_number() == SUBSEL_VERSION_NUMBER, "library version") ||
        subsel_ctx_create(&ctx) != SUBSEL_OK)
        return 1;
    /* two threads: OpenMP regions run for real */
    ok = subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 2) == SUBSEL_OK;
    ok = ok && select_rows(ctx, argv[1]);
    ok = whiten(ctx) && ok;
    subsel_ctx_free(ctx);
    if (ok)
        printf("consumer: subsel %s: all answers right\n", subsel_version_string());
    return ok ? 0 : 1;
}
