/* SPDX-License-Identifier: MIT */
/*
 * The generic public face of objectives: size, evaluation of a set, gain of
 * an item, free; the helpers objective implementations share; and the calls
 * through which optimizers drive an objective.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "objectives/objective.h"

int ss_objective_new(subsel_ctx *ctx, const ss_objective_ops *ops, int64_t n,
                     subsel_objective **out)
{
    subsel_objective *obj;
    SS_CHECK(ss_alloc_array(ctx, 1, sizeof *obj, &obj));
    ss_handle_init(obj, SS_KIND_OBJECTIVE, &ctx->alloc);
    obj->ops = ops;
    obj->n = n;
    obj->impl = NULL;
    obj->submodular = ops->submodular;
    obj->monotone = ops->monotone;
    *out = obj;
    return SUBSEL_OK;
}

void *ss_objective_impl(subsel_ctx *ctx, const subsel_objective *obj,
                        const ss_objective_ops *ops, const char *caller)
{
    if (ss_handle_check(ctx, obj, SS_KIND_OBJECTIVE, caller, "the objective") !=
        SUBSEL_OK)
        return NULL;
    if (obj->ops != ops) {
        ss_fail(ctx, SUBSEL_E_INVALID, "%s: the objective is %s, not %s",
                caller, obj->ops->name, ops->name);
        return NULL;
    }
    return obj->impl;
}

void subsel_objective_free(subsel_objective *obj)
{
    ss_allocator a;
    if (!ss_handle_release(obj, SS_KIND_OBJECTIVE, __func__))
        return;
    a = obj->alloc;
    obj->ops->destroy(obj);
    ss_free_raw(&a, obj);
}

int64_t subsel_objective_size(const subsel_objective *obj)
{
    return ss_handle_is(obj, SS_KIND_OBJECTIVE) ? obj->n : 0;
}

int ss_check_set(subsel_ctx *ctx, const subsel_objective *obj,
                 const int64_t *set, int64_t count)
{
    unsigned char *seen = NULL;
    int64_t i;
    int rc = SUBSEL_OK;
    if (count < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID, "set size %lld is negative",
                       (long long)count);
    if (count > 0 && set == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID, "set is NULL with %lld items",
                       (long long)count);
    SS_CHECK(ss_calloc_array(ctx, obj->n, 1, &seen));
    for (i = 0; i < count; i++) {
        if (set[i] < 0 || set[i] >= obj->n) {
            rc = ss_fail(ctx, SUBSEL_E_INVALID,
                         "set item %lld is %lld, outside [0, %lld)",
                         (long long)i, (long long)set[i], (long long)obj->n);
            break;
        }
        if (seen[set[i]]) {
            rc = ss_fail(ctx, SUBSEL_E_INVALID,
                         "set item %lld repeats index %lld", (long long)i,
                         (long long)set[i]);
            break;
        }
        seen[set[i]] = 1;
    }
    ss_free(ctx, seen);
    return rc;
}

int ss_state_of_set(subsel_ctx *ctx, const subsel_objective *obj,
                    const int64_t *set, int64_t count, void **state)
{
    void *st = NULL;
    int64_t i;
    int rc = SUBSEL_OK;
    SS_CHECK(ss_objective_ready(ctx, obj));
    SS_CHECK(ss_check_set(ctx, obj, set, count));
    SS_CHECK(obj->ops->state_new(ctx, obj, &st));
    for (i = 0; i < count; i++)
        SS_TRY(obj->ops->add(ctx, obj, st, set[i]));
    *state = st;
    return SUBSEL_OK;
cleanup:
    obj->ops->state_free(obj, st);
    return rc;
}

int subsel_objective_evaluate(subsel_ctx *ctx, const subsel_objective *obj,
                              const int64_t *set, int64_t count, double *value)
{
    void *st = NULL;
    int rc;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, obj, SS_KIND_OBJECTIVE);
    SS_REQUIRE_NONNULL(ctx, value);
    SS_CHECK(ss_state_of_set(ctx, obj, set, count, &st));
    rc = obj->ops->value(ctx, obj, st, value);
    obj->ops->state_free(obj, st);
    return rc;
}

int subsel_objective_gain(subsel_ctx *ctx, const subsel_objective *obj,
                          const int64_t *set, int64_t count, int64_t item,
                          double *gain)
{
    void *st = NULL;
    int rc;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, obj, SS_KIND_OBJECTIVE);
    SS_REQUIRE_NONNULL(ctx, gain);
    if (item < 0 || item >= obj->n)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_objective_gain: item %lld outside [0, %lld)",
                       (long long)item, (long long)obj->n);
    SS_CHECK(ss_state_of_set(ctx, obj, set, count, &st));
    rc = obj->ops->gains(ctx, obj, st, &item, 1, gain);
    obj->ops->state_free(obj, st);
    return rc;
}

/* ---- calling an objective ---------------------------------------------- */

int ss_objective_ready(subsel_ctx *ctx, const subsel_objective *obj)
{
    return obj->ops->check_ready ? obj->ops->check_ready(ctx, obj) : SUBSEL_OK;
}

int ss_objective_state_new(subsel_ctx *ctx, const subsel_objective *obj,
                           void **state)
{
    return obj->ops->state_new(ctx, obj, state);
}

void ss_objective_state_free(const subsel_objective *obj, void *state)
{
    if (state != NULL)
        obj->ops->state_free(obj, state);
}

/* SUBSEL_E_NUMERIC for the first NaN of out[0..count), naming its item. */
static int refuse_nan(subsel_ctx *ctx, const subsel_objective *obj,
                      const int64_t *items, int64_t count, const double *out,
                      const char *what)
{
    int64_t j;
    for (j = 0; j < count; j++)
        if (SS_UNLIKELY(isnan(out[j])))
            return ss_fail(ctx, SUBSEL_E_NUMERIC, "%s: %s of item %lld is NaN",
                           obj->ops->name, what, (long long)items[j]);
    return SUBSEL_OK;
}

int ss_objective_gains(subsel_ctx *ctx, const subsel_objective *obj,
                       const void *state, const int64_t *items, int64_t count,
                       double *out, int64_t *evaluations)
{
    SS_CHECK(obj->ops->gains(ctx, obj, state, items, count, out));
    if (evaluations != NULL)
        *evaluations += count;
    return refuse_nan(ctx, obj, items, count, out, "gain");
}

int ss_objective_can_remove(const subsel_objective *obj)
{
    return obj->ops->remove != NULL && obj->ops->losses != NULL;
}

static int cannot_remove(subsel_ctx *ctx, const subsel_objective *obj)
{
    return ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "the %s cannot remove items",
                   obj->ops->name);
}

int ss_objective_losses(subsel_ctx *ctx, const subsel_objective *obj,
                        const void *state, const int64_t *items, int64_t count,
                        double *out, int64_t *evaluations)
{
    if (!ss_objective_can_remove(obj))
        return cannot_remove(ctx, obj);
    SS_CHECK(obj->ops->losses(ctx, obj, state, items, count, out));
    if (evaluations != NULL)
        *evaluations += count;
    return refuse_nan(ctx, obj, items, count, out, "loss");
}

int ss_objective_add(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                     int64_t item)
{
    return obj->ops->add(ctx, obj, state, item);
}

int ss_objective_remove(subsel_ctx *ctx, const subsel_objective *obj,
                        void *state, int64_t item)
{
    if (!ss_objective_can_remove(obj))
        return cannot_remove(ctx, obj);
    return obj->ops->remove(ctx, obj, state, item);
}

int ss_objective_can_merge(const subsel_objective *obj)
{
    return obj->ops->merge != NULL;
}

int ss_objective_merge(subsel_ctx *ctx, const subsel_objective *obj, void *dst,
                       const void *src)
{
    if (!ss_objective_can_merge(obj))
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "%s: states cannot be merged", obj->ops->name);
    return obj->ops->merge(ctx, obj, dst, src);
}

int ss_objective_value(subsel_ctx *ctx, const subsel_objective *obj,
                       const void *state, double *out)
{
    return obj->ops->value(ctx, obj, state, out);
}

void ss_objective_prefetch(const subsel_objective *obj, const void *state,
                           const int64_t *items, int64_t count, int depth)
{
    if (obj->ops->prefetch != NULL)
        obj->ops->prefetch(obj, state, items, count, depth);
}

int ss_objective_can_distribute(const subsel_objective *obj)
{
    return obj->ops->rows != NULL && obj->ops->like != NULL &&
           obj->ops->add_row != NULL && obj->ops->sums_count != NULL &&
           obj->ops->state_sums != NULL && obj->ops->add_sums != NULL;
}

int ss_objective_require_distribute(subsel_ctx *ctx,
                                    const subsel_objective *obj,
                                    const char *caller)
{
    if (ss_objective_can_distribute(obj))
        return SUBSEL_OK;
    return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                   "%s: the %s cannot be split across processes (that needs "
                   "an objective over the rows of a CSR matrix: FB or SDM)",
                   caller, obj->ops->name);
}

int ss_objective_rows(subsel_ctx *ctx, const subsel_objective *obj,
                      const int64_t *items, int64_t count, subsel_csr **rows,
                      int32_t **labels)
{
    *rows = NULL;
    *labels = NULL;
    SS_CHECK(ss_objective_require_distribute(ctx, obj, __func__));
    return obj->ops->rows(ctx, obj, items, count, rows, labels);
}

int ss_objective_like(subsel_ctx *ctx, const subsel_objective *obj,
                      const subsel_csr *rows, const int32_t *labels,
                      subsel_objective **out)
{
    *out = NULL;
    SS_CHECK(ss_objective_require_distribute(ctx, obj, __func__));
    return obj->ops->like(ctx, obj, rows, labels, out);
}

int ss_objective_add_row(subsel_ctx *ctx, const subsel_objective *obj,
                         void *state, const subsel_csr *rows, int64_t row,
                         int32_t label)
{
    SS_CHECK(ss_objective_require_distribute(ctx, obj, __func__));
    return obj->ops->add_row(ctx, obj, state, rows, row, label);
}

/* The three below are called only on objectives that passed
 * ss_objective_require_distribute. */
int64_t ss_objective_sums_count(const subsel_objective *obj)
{
    return obj->ops->sums_count(obj);
}

void ss_objective_state_sums(const subsel_objective *obj, const void *state,
                             double *out)
{
    obj->ops->state_sums(obj, state, out);
}

int ss_objective_add_sums(subsel_ctx *ctx, const subsel_objective *obj,
                          void *state, const double *sums)
{
    return obj->ops->add_sums(ctx, obj, state, sums);
}
