/* SPDX-License-Identifier: MIT */
/*
 * OT between sets of whitened rows, through the engine's annealed
 * log-domain Sinkhorn (lib/ot), and the step every TAROT selection ends
 * with: measuring the chosen set against all targets.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "optim/optim.h"
#include "ot/ot.h"
#include "tarot/tarot.h"

void ss_tarot_gather(const float *rows, int64_t dim, const int64_t *set,
                     int64_t count, float *out)
{
    int64_t p;
    for (p = 0; p < count; p++)
        memcpy(out + p * dim, rows + set[p] * dim, (size_t)dim * sizeof *out);
}

int ss_tarot_ot_rows(subsel_ctx *ctx, const subsel_tarot *t, const float *x,
                     int64_t nx, const float *y, int64_t ny, double *f,
                     double *g, double *loss)
{
    return ss_tarot_ot_rows_cached(ctx, t, x, nx, NULL, NULL, y, ny, f, g,
                                   loss);
}

int ss_tarot_ot_rows_cached(subsel_ctx *ctx, const subsel_tarot *t,
                            const float *x, int64_t nx, const int64_t *ids,
                            ss_ot_row_cache *cache, const float *y, int64_t ny,
                            double *f, double *g, double *loss)
{
    double *fbuf = NULL, *gbuf = NULL, l = 0.0;
    int rc = SUBSEL_OK;
    if (f == NULL)
        SS_TRY(ss_alloc_array(ctx, nx, sizeof *fbuf, &fbuf));
    if (g == NULL)
        SS_TRY(ss_alloc_array(ctx, ny, sizeof *gbuf, &gbuf));
    SS_TRY(ss_ot_anneal_uniform_cached(ctx, x, nx, ids, cache, y, ny, t->dim,
                                       t->blur, t->scaling, t->ot_memory,
                                       f ? f : fbuf, g ? g : gbuf, &l));
    if (loss)
        *loss = l;
cleanup:
    ss_free(ctx, fbuf);
    ss_free(ctx, gbuf);
    return rc;
}

int ss_tarot_finish(subsel_ctx *ctx, const subsel_tarot *t,
                    const int64_t *items, int64_t count, int64_t solves,
                    subsel_selection **out)
{
    double *gains = NULL, value = NAN;
    float *x = NULL;
    int64_t i;
    int rc = SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, count, sizeof *gains, &gains));
    for (i = 0; i < count; i++)
        gains[i] = NAN;
    if (t->potentials && count > 0) {
        SS_TRY(ss_alloc_array(ctx, count * t->dim, sizeof *x, &x));
        SS_TRY(ss_tarot_cand_rows(ctx, t, items, 0, count, x, NULL));
        SS_TRY(ss_tarot_ot_rows(ctx, t, x, count, t->v, t->m, gains, NULL,
                                &value));
        solves++;
    }
    SS_TRY(ss_selection_new(ctx, items, gains, count, value, solves, out));
cleanup:
    ss_free(ctx, gains);
    ss_free(ctx, x);
    return rc;
}

int subsel_tarot_ot_v2(subsel_ctx *ctx, subsel_tarot *t, const int64_t *set,
                       int64_t count, double *f, int64_t f_capacity,
                       double *g, int64_t g_capacity, double *loss)
{
    float *x = NULL;
    int64_t p;
    int rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, t, SS_KIND_TAROT);
    if (count < 1 || (set == NULL && count != t->n))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_ot: count %lld must be at least 1 (and "
                       "%lld, all candidates, when set is NULL)",
                       (long long)count, (long long)t->n);
    for (p = 0; set != NULL && p < count; p++)
        if (set[p] < 0 || set[p] >= t->n)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "subsel_tarot_ot: set[%lld] = %lld is not a "
                           "candidate index in [0, %lld)",
                           (long long)p, (long long)set[p], (long long)t->n);
    if (f != NULL)
        SS_CHECK(ss_check_capacity(ctx, "subsel_tarot_ot", "f", f_capacity,
                                   count));
    if (g != NULL)
        SS_CHECK(ss_check_capacity(ctx, "subsel_tarot_ot", "g", g_capacity,
                                   t->m));
    SS_CHECK(ss_tarot_whiten(ctx, t));
    if (set == NULL && t->u != NULL) /* all of the kept rows: in place */
        return ss_tarot_ot_rows(ctx, t, t->u, t->n, t->v, t->m, f, g, loss);
    SS_TRY(ss_alloc_array(ctx, count * t->dim, sizeof *x, &x));
    SS_TRY(ss_tarot_cand_rows(ctx, t, set, 0, count, x, NULL));
    SS_TRY(ss_tarot_ot_rows(ctx, t, x, count, t->v, t->m, f, g, loss));
cleanup:
    ss_free(ctx, x);
    return rc;
}

/* Deprecated: f and g were assumed to hold count and M values. */
int subsel_tarot_ot(subsel_ctx *ctx, subsel_tarot *t, const int64_t *set,
                    int64_t count, double *f, double *g, double *loss)
{
    return subsel_tarot_ot_v2(ctx, t, set, count, f, INT64_MAX, g, INT64_MAX,
                              loss);
}
