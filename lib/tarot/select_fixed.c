/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size selection (TAROT's Algorithm 1): the rank-1 neighbours of every
 * target, then the rank-2 ones, and so on, are added rank by rank while the
 * union fits the budget. On the rank that would overflow it, the remaining
 * places go to that rank's new candidates ranked by their potentials in
 * OT(new candidates, targets): smallest first by default (a small potential
 * is a cheap, useful point), largest first in the reference-compatible
 * mode, as the authors' code does. Nothing is added once the budget is met
 * exactly (the authors' code then adds the whole next rank).
 *
 * The neighbour lists come from the selector's cache, deepened by doubling
 * when the ranks run out, so the budget is always met.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "optim/optim.h"
#include "tarot/tarot.h"

enum { FREE = 0, CHOSEN = 1, IN_LAYER = 2 };

typedef struct ranked {
    double f;
    int64_t i;
} ranked;

/* By potential, the smallest / the largest first; ties to the lower index
 * either way (core/rank.h, on -f for the smallest). */
static int cmp_smallest(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return ss_rank_compare(-x->f, x->i, -y->f, y->i);
}

static int cmp_largest(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return ss_rank_compare(x->f, x->i, y->f, y->i);
}

/* The remaining `need` places from the overflowing layer, by potential. */
static int fill_by_potential(subsel_ctx *ctx, const subsel_tarot *t,
                             const int64_t *layer, int64_t count,
                             int64_t need, int64_t *dest)
{
    float *x = NULL;
    double *f = NULL;
    ranked *order = NULL;
    int64_t p;
    int rc = SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, count * t->dim, sizeof *x, &x));
    SS_TRY(ss_alloc_array(ctx, count, sizeof *f, &f));
    SS_TRY(ss_alloc_array(ctx, count, sizeof *order, &order));
    SS_TRY(ss_tarot_cand_rows(ctx, t, layer, 0, count, x, NULL));
    SS_TRY(ss_tarot_ot_rows(ctx, t, x, count, t->v, t->m, f, NULL, NULL));
    for (p = 0; p < count; p++) {
        order[p].f = f[p];
        order[p].i = layer[p];
    }
    qsort(order, (size_t)count, sizeof *order,
          t->reference ? cmp_largest : cmp_smallest);
    for (p = 0; p < need; p++)
        dest[p] = order[p].i;
cleanup:
    ss_free(ctx, x);
    ss_free(ctx, f);
    ss_free(ctx, order);
    return rc;
}

/* First depth to try without a cache: each rank adds at most m candidates,
 * so the budget needs at least budget / m ranks; twice that usually does. */
static int64_t first_depth(const subsel_tarot *t, int64_t budget)
{
    int64_t d = 2 * ((budget + t->m - 1) / t->m);
    if (d < 16)
        d = 16;
    return d < t->n ? d : t->n;
}

int subsel_tarot_select_fixed(subsel_ctx *ctx, subsel_tarot *t,
                              int64_t budget, subsel_selection **out)
{
    int64_t *items = NULL, *layer = NULL;
    unsigned char *mark = NULL;
    int64_t count = 0, rank = 0, solves = 0;
    int done, rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, t, SS_KIND_TAROT);
    if (budget < 0 || budget > t->n)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_select_fixed: budget %lld outside [0, "
                       "%lld] (the number of candidates)",
                       (long long)budget, (long long)t->n);
    SS_CHECK(ss_tarot_whiten(ctx, t));
    SS_TRY(ss_alloc_array(ctx, budget, sizeof *items, &items));
    SS_TRY(ss_alloc_array(ctx, t->m, sizeof *layer, &layer));
    SS_TRY(ss_calloc_array(ctx, t->n, sizeof *mark, &mark));
    /* stage "select": places filled, 0 first and the budget once, last */
    SS_TRY(ss_progress(ctx, "select", 0, budget));
    done = budget == 0;
    if (!done && t->cache.k == 0)
        SS_TRY(ss_tarot_cache_topk(ctx, t, first_depth(t, budget), "topk"));
    while (!done) {
        for (; !done && rank < t->cache.k; rank++) {
            int64_t j, nl = 0, p;
            for (j = 0; j < t->m; j++) {
                int64_t i = t->cache.idx[j * t->cache.k + rank];
                if (mark[i] == FREE) {
                    mark[i] = IN_LAYER;
                    layer[nl++] = i;
                }
            }
            qsort(layer, (size_t)nl, sizeof *layer, ss_compare_int64);
            if (count + nl <= budget) {
                for (p = 0; p < nl; p++) {
                    mark[layer[p]] = CHOSEN;
                    items[count++] = layer[p];
                }
            } else {
                SS_TRY(fill_by_potential(ctx, t, layer, nl, budget - count,
                                         items + count));
                solves++;
                count = budget;
            }
            done = count == budget;
            for (p = 0; p < nl; p++)
                if (mark[layer[p]] == IN_LAYER)
                    mark[layer[p]] = FREE;
            if (count < budget)
                SS_TRY(ss_progress(ctx, "select", count, budget));
        }
        if (done || t->cache.k == t->n)
            break;
        SS_TRY(ss_tarot_cache_topk(
            ctx, t, 2 * t->cache.k < t->n ? 2 * t->cache.k : t->n, "topk"));
    }
    if (budget > 0)
        SS_TRY(ss_progress(ctx, "select", budget, budget));
    SS_TRY(ss_tarot_finish(ctx, t, items, count, solves, out));
    ss_selection_set_budget(*out, budget, SUBSEL_SHORT_EXHAUSTED);
cleanup:
    ss_free(ctx, items);
    ss_free(ctx, layer);
    ss_free(ctx, mark);
    return rc;
}
