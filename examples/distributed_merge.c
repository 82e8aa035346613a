/* SPDX-License-Identifier: MIT */
/*
 * Example: selection over a pool split into parts, as a job array would
 * run it (docs/distributed.md). Each "task" builds an SDM objective over
 * its own rows only, selects from them and writes its summary to a file;
 * a final "job" loads the summaries and merges them (GreeDi). The result
 * is in the pool's row ids, and is compared with one process selecting
 * from the whole pool.
 *
 *   distributed_merge POOL.npz TARGET.npz PARTS K FOLDER
 */
#include <stdio.h>
#include <stdlib.h>

#include <subsel.h>

static int check(subsel_ctx *ctx, int rc, const char *what)
{
    if (rc != SUBSEL_OK)
        fprintf(stderr, "%s: %s\n", what, subsel_ctx_last_error(ctx));
    return rc == SUBSEL_OK;
}

/* An SDM objective over `rows`, matching the target's distribution. */
static subsel_objective *sdm(subsel_ctx *ctx, const subsel_csr *rows, const subsel_csr *target)
{
    subsel_objective *f = NULL;
    if (!check(ctx, subsel_sdm_create(ctx, rows, &f), "objective") ||
        !check(ctx, subsel_sdm_set_target(ctx, f, target), "target")) {
        subsel_objective_free(f);
        return NULL;
    }
    return f;
}

/* Task j of `parts`: rows [n j / parts, n (j + 1) / parts) of the pool,
 * selected from and summarised into FOLDER/part-j.sss. In a real job
 * array the task would load only its own shard. */
static int run_task(subsel_ctx *ctx, const subsel_csr *pool, const subsel_csr *target,
                    const subsel_optimizer *opt, int64_t j, int64_t parts, const char *folder)
{
    int64_t n = subsel_csr_rows(pool), first = n * j / parts, last = n * (j + 1) / parts;
    subsel_csr *rows = NULL;
    subsel_objective *f = NULL;
    subsel_summary *s = NULL;
    char path[4096];
    int ok;
    snprintf(path, sizeof path, "%s/part-%lld.sss", folder, (long long)j);
    ok = check(ctx, subsel_csr_view_rows(ctx, pool, first, last - first, &rows), "rows") &&
         (f = sdm(ctx, rows, target)) != NULL &&
         check(ctx, subsel_summary_select(ctx, opt, f, first, n, &s), "part") &&
         check(ctx, subsel_summary_save(ctx, s, path), path);
    if (ok)
        printf("task %lld: rows %lld..%lld, %lld chosen\n", (long long)j, (long long)first,
               (long long)last - 1, (long long)subsel_summary_count(s));
    subsel_summary_free(s);
    subsel_objective_free(f);
    subsel_csr_free(rows);
    return ok;
}

int main(int argc, char **argv)
{
    subsel_ctx *ctx = NULL;
    subsel_csr *pool = NULL, *target = NULL, *rows = NULL;
    subsel_objective *like = NULL, *whole = NULL;
    subsel_optimizer *opt = NULL;
    subsel_summary **s = NULL, *merged = NULL;
    subsel_selection *sel = NULL, *single = NULL;
    int64_t parts, k, j, i;
    char path[4096];
    int ok = 1;

    if (argc != 6) {
        fprintf(stderr, "usage: %s POOL.npz TARGET.npz PARTS K FOLDER\n", argv[0]);
        return 2;
    }
    parts = atoll(argv[3]);
    k = atoll(argv[4]);
    if (parts < 1 || k < 1 || subsel_ctx_create(&ctx) != SUBSEL_OK)
        return 2;
    s = calloc((size_t)parts, sizeof *s);
    ok = s != NULL && check(ctx, subsel_csr_load_npz(ctx, argv[1], &pool), argv[1]) &&
         check(ctx, subsel_csr_load_npz(ctx, argv[2], &target), argv[2]) &&
         check(ctx, subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_LAZY, &opt), "optimizer") &&
         check(ctx, subsel_optimizer_set_int(opt, SUBSEL_P_BUDGET, k), "budget");
    /* the tasks */
    for (j = 0; ok && j < parts; j++)
        ok = run_task(ctx, pool, target, opt, j, parts, argv[5]);
    /* the final job: it holds no part, so its objective is built over the
     * rows of a summary (any rows with the pool's columns will do) */
    for (j = 0; ok && j < parts; j++) {
        snprintf(path, sizeof path, "%s/part-%lld.sss", argv[5], (long long)j);
        ok = check(ctx, subsel_summary_load(ctx, path, &s[j]), path);
    }
    ok = ok && check(ctx, subsel_summary_rows(ctx, s[0], &rows), "rows") &&
         (like = sdm(ctx, rows, target)) != NULL &&
         check(ctx, subsel_summary_merge(ctx, opt, like, (const subsel_summary *const *)s,
                                         parts, &merged),
               "merge") &&
         check(ctx, subsel_summary_selection(ctx, merged, &sel), "selection");
    /* the same budget from the whole pool in one process, to compare */
    ok = ok && (whole = sdm(ctx, pool, target)) != NULL &&
         check(ctx, subsel_optimizer_run(ctx, opt, whole, &single), "single");
    if (ok) {
        printf("merged %lld parts: f = %.6f (one process: %.6f, ratio %.4f); first ids:",
               (long long)parts, subsel_selection_value(sel), subsel_selection_value(single),
               subsel_selection_value(sel) / subsel_selection_value(single));
        for (i = 0; i < subsel_selection_count(sel) && i < 8; i++)
            printf(" %lld", (long long)subsel_selection_indices(sel)[i]);
        printf("\n");
        /* GreeDi keeps the better of the merge and the best part: never
         * far below one process on data like this */
        ok = subsel_selection_value(sel) >= 0.95 * subsel_selection_value(single);
    }
    subsel_selection_free(single);
    subsel_selection_free(sel);
    subsel_summary_free(merged);
    for (j = 0; s != NULL && j < parts; j++)
        subsel_summary_free(s[j]);
    free(s);
    subsel_objective_free(whole);
    subsel_objective_free(like);
    subsel_optimizer_free(opt);
    subsel_csr_free(rows);
    subsel_csr_free(target);
    subsel_csr_free(pool);
    subsel_ctx_free(ctx);
    return ok ? 0 : 1;
}
