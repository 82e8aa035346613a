/* SPDX-License-Identifier: MIT */
/*
 * OT-distance minimisation (TAROT's Algorithm 2). The targets are split
 * into K shuffled folds; for each fold, its targets contribute their rank-1,
 * rank-2, ... neighbours one rank at a time, and after each rank the OT
 * distance between the grown set and the targets of the other folds is
 * measured. Growth stops at the first rank that does not lower the
 * distance (a rank that adds nothing new leaves it equal, so it stops too).
 * The default keeps the set at the minimum; the reference-compatible mode
 * keeps the set of the rank that stopped (one step past the minimum) and,
 * as the authors' code, only counts neighbours of positive score. The
 * selection is the union over folds, in ascending order.
 *
 * The sets grow by appending, so each fold only remembers sizes: the set at
 * a rank is a prefix of the appended candidates.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "core/rng.h"
#include "ot/ot.h"
#include "tarot/tarot.h"

#define OTM_FIRST_DEPTH 16

int subsel_tarot_folds_v2(subsel_ctx *ctx, int64_t targets, int64_t folds,
                          int64_t *fold_of_target, int64_t capacity)
{
    int64_t *perm = NULL, i, f, pos = 0;
    ss_rng rng;
    int rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, fold_of_target);
    if (folds < 2 || folds > targets)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_folds: folds %lld outside [2, %lld] "
                       "(the number of targets)",
                       (long long)folds, (long long)targets);
    SS_CHECK(ss_check_capacity(ctx, "subsel_tarot_folds", "fold_of_target",
                               capacity, targets));
    SS_TRY(ss_alloc_array(ctx, targets, sizeof *perm, &perm));
    for (i = 0; i < targets; i++)
        perm[i] = i;
    ss_rng_seed(&rng, (uint64_t)ctx->seed, SS_TAROT_STREAM_FOLDS);
    for (i = targets - 1; i > 0; i--) {
        int64_t j = (int64_t)ss_rng_below(&rng, (uint64_t)i + 1), tmp;
        tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    /* As scikit-learn's KFold: the first targets % folds folds are one
     * larger. */
    for (f = 0; f < folds; f++) {
        int64_t size = targets / folds + (f < targets % folds), q;
        for (q = 0; q < size; q++)
            fold_of_target[perm[pos++]] = f;
    }
cleanup:
    ss_free(ctx, perm);
    return rc;
}

/* Deprecated: fold_of_target was assumed to hold `targets` values. */
int subsel_tarot_folds(subsel_ctx *ctx, int64_t targets, int64_t folds,
                       int64_t *fold_of_target)
{
    return subsel_tarot_folds_v2(ctx, targets, folds, fold_of_target,
                                 INT64_MAX);
}

/* Scratch shared by the folds. */
typedef struct otm_state {
    int64_t *members, *others, *grown, *sorted;
    unsigned char *in_set, *chosen;
    float *x, *y;
    ss_tarot_lists lists;
    /* the fold's candidates' costs against its other targets, kept from
     * one solve to the next (each set holds the last one's) */
    ss_ot_row_cache cache;
    int64_t solves;
} otm_state;

/* Grows one fold's set and marks the kept prefix in st->chosen. */
static int run_fold(subsel_ctx *ctx, const subsel_tarot *t, otm_state *st,
                    int64_t nmem, int64_t noth, int64_t fold, int64_t folds)
{
    int64_t max_k = t->max_rank < t->n ? t->max_rank : t->n;
    int64_t size = 0, best = 0, keep, k, p;
    double min_c = INFINITY;
    int stopped = 0, rc = SUBSEL_OK;
    int64_t depth = t->cache.k > OTM_FIRST_DEPTH ? t->cache.k : OTM_FIRST_DEPTH;

    memset(st->in_set, 0, (size_t)t->n);
    ss_tarot_gather(t->v, t->dim, st->others, noth, st->y);
    ss_tarot_lists_free(&ctx->alloc, &st->lists);
    SS_TRY(ss_ot_row_cache_init(ctx, &st->cache, t->n, noth, t->ot_memory));
    for (k = 1; k <= max_k && !stopped; k++) {
        int64_t before = size;
        double c;
        if (k > st->lists.k) {
            int64_t want = st->lists.k == 0 ? depth : 2 * st->lists.k;
            SS_TRY(ss_tarot_lists_make(ctx, t, &ctx->alloc, st->members,
                                       nmem, want < max_k ? want : max_k,
                                       &st->lists, "topk"));
        }
        for (p = 0; p < nmem; p++) {
            int64_t at = p * st->lists.k + (k - 1);
            int64_t i = st->lists.idx[at];
            if (t->reference && !(st->lists.score[at] > 0.0f))
                continue;
            if (!st->in_set[i]) {
                st->in_set[i] = 1;
                st->grown[size++] = i;
            }
        }
        if (size == before) {
            stopped = 1; /* same set, same distance: not a decrease */
            break;
        }
        memcpy(st->sorted, st->grown, (size_t)size * sizeof *st->sorted);
        qsort(st->sorted, (size_t)size, sizeof *st->sorted, ss_compare_int64);
        ss_tarot_gather(t->u, t->dim, st->sorted, size, st->x);
        SS_TRY(ss_tarot_ot_rows_cached(ctx, t, st->x, size, st->sorted,
                                       &st->cache, st->y, noth, NULL, NULL, &c));
        st->solves++;
        SS_TRY(ss_progress(ctx, "otm", fold, folds));
        if (c < min_c) {
            min_c = c;
            best = size;
        } else {
            stopped = 1;
        }
    }
    keep = stopped && !t->reference ? best : size;
    for (p = 0; p < keep; p++)
        st->chosen[st->grown[p]] = 1;
cleanup:
    ss_ot_row_cache_release(ctx, &st->cache);
    return rc;
}

static int check_folds(subsel_ctx *ctx, const subsel_tarot *t, int64_t folds,
                       const int64_t *fold_of_target, int64_t *sizes)
{
    int64_t j, f;
    for (j = 0; j < t->m; j++) {
        if (fold_of_target[j] < 0 || fold_of_target[j] >= folds)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "subsel_tarot_select_otm: fold_of_target[%lld] = "
                           "%lld outside [0, %lld)",
                           (long long)j, (long long)fold_of_target[j],
                           (long long)folds);
        sizes[fold_of_target[j]]++;
    }
    for (f = 0; f < folds; f++)
        if (sizes[f] == 0)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "subsel_tarot_select_otm: fold %lld has no target",
                           (long long)f);
    return SUBSEL_OK;
}

int subsel_tarot_select_otm(subsel_ctx *ctx, subsel_tarot *t, int64_t folds,
                            const int64_t *fold_of_target,
                            subsel_selection **out)
{
    otm_state st;
    int64_t *fold_buf = NULL, *sizes = NULL, *items = NULL;
    int64_t f, j, count = 0;
    int drop_after = 0, rc = SUBSEL_OK;

    memset(&st, 0, sizeof st);
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, t, SS_KIND_TAROT);
    if (folds < 2 || folds > t->m)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_select_otm: folds %lld outside [2, %lld] "
                       "(the number of targets)",
                       (long long)folds, (long long)t->m);
    SS_TRY(ss_calloc_array(ctx, folds, sizeof *sizes, &sizes));
    if (fold_of_target == NULL) {
        SS_TRY(ss_alloc_array(ctx, t->m, sizeof *fold_buf, &fold_buf));
        SS_TRY(subsel_tarot_folds_v2(ctx, t->m, folds, fold_buf, t->m));
        fold_of_target = fold_buf;
    }
    SS_TRY(check_folds(ctx, t, folds, fold_of_target, sizes));
    SS_TRY(ss_tarot_whiten(ctx, t));
    SS_TRY(ss_alloc_array(ctx, t->m, sizeof *st.members, &st.members));
    SS_TRY(ss_alloc_array(ctx, t->m, sizeof *st.others, &st.others));
    SS_TRY(ss_alloc_array(ctx, t->n, sizeof *st.grown, &st.grown));
    SS_TRY(ss_alloc_array(ctx, t->n, sizeof *st.sorted, &st.sorted));
    SS_TRY(ss_alloc_array(ctx, t->n, 1, &st.in_set));
    SS_TRY(ss_calloc_array(ctx, t->n, 1, &st.chosen));
    SS_TRY(ss_alloc_array(ctx, t->n * t->dim, sizeof *st.x, &st.x));
    SS_TRY(ss_alloc_array(ctx, t->m * t->dim, sizeof *st.y, &st.y));
    /* Every fold's neighbour lists and hundreds of solves read the same
     * candidates: they are whitened once and kept for the selection (as
     * large as st.x), not for every read (a few percent of OTM's time). */
    drop_after = t->u == NULL;
    SS_TRY(ss_tarot_keep_cand_rows(ctx, t));
    /* stage "otm": folds done, 0 first (and after each solve of a fold, a
     * point to cancel at), folds once at the end */
    SS_TRY(ss_progress(ctx, "otm", 0, folds));
    for (f = 0; f < folds; f++) {
        int64_t nmem = 0, noth = 0;
        for (j = 0; j < t->m; j++) {
            if (fold_of_target[j] == f)
                st.members[nmem++] = j;
            else
                st.others[noth++] = j;
        }
        SS_TRY(run_fold(ctx, t, &st, nmem, noth, f, folds));
        SS_TRY(ss_progress(ctx, "otm", f + 1, folds));
    }
    for (j = 0; j < t->n; j++)
        count += st.chosen[j];
    SS_TRY(ss_alloc_array(ctx, count, sizeof *items, &items));
    count = 0;
    for (j = 0; j < t->n; j++)
        if (st.chosen[j])
            items[count++] = j;
    SS_TRY(ss_tarot_finish(ctx, t, items, count, st.solves, out));
cleanup:
    ss_free(ctx, fold_buf);
    ss_free(ctx, sizes);
    ss_free(ctx, items);
    ss_free(ctx, st.members);
    ss_free(ctx, st.others);
    ss_free(ctx, st.grown);
    ss_free(ctx, st.sorted);
    ss_free(ctx, st.in_set);
    ss_free(ctx, st.chosen);
    if (drop_after)
        ss_tarot_drop_cand_rows(t);
    ss_free(ctx, st.x);
    ss_free(ctx, st.y);
    ss_tarot_lists_free(&ctx->alloc, &st.lists);
    return rc;
}
