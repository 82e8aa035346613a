/* SPDX-License-Identifier: MIT */
/*
 * The directed cut function (test-only, see cut.h). The state keeps, for
 * every vertex v, the weight between v and the set in both directions, so
 * gains and losses are O(1) and updates O(n):
 *   gain(e | S) = out(e) - to_set(e) - from_set(e)   for e not in S
 *   loss(e | S) = out(e) - to_set(e) - from_set(e)   for e in S
 * where out(e) = sum_j W[e][j], to_set(e) = sum_{j in S} W[e][j] and
 * from_set(e) = sum_{i in S} W[i][e] (the diagonal is 0, so e's own
 * membership never enters its sums).
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "tests/cut.h"

typedef struct cut {
    double *w;   /* n x n */
    double *out; /* row sums */
} cut;

typedef struct cut_state {
    ss_allocator alloc;
    double *to_set, *from_set;
    unsigned char *in_set;
} cut_state;

static void cut_state_free(const subsel_objective *obj, void *state)
{
    cut_state *st = state;
    ss_allocator a;
    (void)obj;
    if (st == NULL)
        return;
    a = st->alloc;
    ss_free_raw(&a, st->to_set);
    ss_free_raw(&a, st->from_set);
    ss_free_raw(&a, st->in_set);
    ss_free_raw(&a, st);
}

static int cut_state_new(subsel_ctx *ctx, const subsel_objective *obj,
                         void **out)
{
    cut_state *st = NULL;
    int rc = SUBSEL_OK;
    SS_CHECK(ss_calloc_array(ctx, 1, sizeof *st, &st));
    st->alloc = ctx->alloc;
    SS_TRY(ss_calloc_array(ctx, obj->n, sizeof *st->to_set, &st->to_set));
    SS_TRY(ss_calloc_array(ctx, obj->n, sizeof *st->from_set, &st->from_set));
    SS_TRY(ss_calloc_array(ctx, obj->n, 1, &st->in_set));
    *out = st;
    return SUBSEL_OK;
cleanup:
    cut_state_free(obj, st);
    return rc;
}

static double delta(const cut *c, const cut_state *st, int64_t e)
{
    return c->out[e] - st->to_set[e] - st->from_set[e];
}

/* delta for the items whose membership is `member`, 0 for the others. */
static void batch(const subsel_objective *obj, const cut_state *st,
                  const int64_t *items, int64_t count, int member, double *out)
{
    int64_t j;
    for (j = 0; j < count; j++)
        out[j] = st->in_set[items[j]] == member ? delta(obj->impl, st, items[j])
                                                : 0.0;
}

static int cut_gains(subsel_ctx *ctx, const subsel_objective *obj,
                     const void *state, const int64_t *items, int64_t count,
                     double *out)
{
    (void)ctx;
    batch(obj, state, items, count, 0, out);
    return SUBSEL_OK;
}

static int cut_losses(subsel_ctx *ctx, const subsel_objective *obj,
                      const void *state, const int64_t *items, int64_t count,
                      double *out)
{
    (void)ctx;
    batch(obj, state, items, count, 1, out);
    return SUBSEL_OK;
}

static void update(const subsel_objective *obj, cut_state *st, int64_t e,
                   double sign)
{
    const cut *c = obj->impl;
    int64_t v, n = obj->n;
    for (v = 0; v < n; v++) {
        st->to_set[v] += sign * c->w[v * n + e];
        st->from_set[v] += sign * c->w[e * n + v];
    }
    st->in_set[e] = sign > 0;
}

static int cut_add(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                   int64_t item)
{
    cut_state *st = state;
    if (st->in_set[item])
        return ss_fail(ctx, SUBSEL_E_INVALID, "item %lld is already in the set",
                       (long long)item);
    update(obj, st, item, 1.0);
    return SUBSEL_OK;
}

static int cut_remove(subsel_ctx *ctx, const subsel_objective *obj,
                      void *state, int64_t item)
{
    cut_state *st = state;
    if (!st->in_set[item])
        return ss_fail(ctx, SUBSEL_E_INVALID, "item %lld is not in the set",
                       (long long)item);
    update(obj, st, item, -1.0);
    return SUBSEL_OK;
}

/* From the definition, not from the running sums. */
static int cut_value(subsel_ctx *ctx, const subsel_objective *obj,
                     const void *state, double *out)
{
    const cut *c = obj->impl;
    const cut_state *st = state;
    int64_t i, j, n = obj->n;
    double v = 0.0;
    (void)ctx;
    for (i = 0; i < n; i++)
        if (st->in_set[i])
            for (j = 0; j < n; j++)
                if (!st->in_set[j])
                    v += c->w[i * n + j];
    *out = v;
    return SUBSEL_OK;
}

static void cut_destroy(subsel_objective *obj)
{
    cut *c = obj->impl;
    if (c == NULL)
        return;
    ss_free_raw(&obj->alloc, c->w);
    ss_free_raw(&obj->alloc, c->out);
    ss_free_raw(&obj->alloc, c);
}

const ss_objective_ops ss_cut_ops = {
    "cut function",
    1, /* submodular */
    0, /* not monotone */
    NULL,
    cut_state_new,
    cut_state_free,
    cut_gains,
    cut_add,
    cut_value,
    cut_remove,
    cut_losses,
    NULL,
    cut_destroy,
    NULL, /* prefetch */
    NULL, /* rows */
    NULL, /* like */
    NULL, /* add_row */
    NULL, /* sums_count */
    NULL, /* state_sums */
    NULL, /* add_sums */
};

int ss_cut_create(subsel_ctx *ctx, int64_t n, const double *weights,
                  subsel_objective **out)
{
    subsel_objective *obj = NULL;
    cut *c = NULL;
    int64_t i, j;
    int rc = SUBSEL_OK;

    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(ctx, weights);
    if (n < 0 || n > 65536)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "cut function: %lld vertices outside [0, 65536]",
                       (long long)n);
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++) {
            double w = weights[i * n + j];
            if (!isfinite(w) || w < 0 || (i == j && w != 0))
                return ss_fail(ctx, SUBSEL_E_INVALID,
                               "cut function: weight (%lld, %lld) is %g; "
                               "weights must be finite, >= 0, 0 on the "
                               "diagonal",
                               (long long)i, (long long)j, w);
        }
    SS_CHECK(ss_objective_new(ctx, &ss_cut_ops, n, &obj));
    SS_TRY(ss_calloc_array(ctx, 1, sizeof *c, &c));
    obj->impl = c;
    SS_TRY(ss_alloc_array(ctx, n * n, sizeof *c->w, &c->w));
    SS_TRY(ss_calloc_array(ctx, n, sizeof *c->out, &c->out));
    if (n > 0)
        memcpy(c->w, weights, (size_t)(n * n) * sizeof *weights);
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            c->out[i] += weights[i * n + j];
    *out = obj;
    return SUBSEL_OK;
cleanup:
    subsel_objective_free(obj);
    return rc;
}
