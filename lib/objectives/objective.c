/* SPDX-License-Identifier: MIT */
/*
 * The generic public face of objectives: size, evaluation of a set, gain of
 * an item, free; and the helpers objective implementations share.
 */
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
    obj->monotone = ops->monotone;
    *out = obj;
    return SUBSEL_OK;
}

void *ss_objective_impl(subsel_ctx *ctx, const subsel_objective *obj,
                        const ss_objective_ops *ops, const char *caller)
{
    if (obj == NULL) {
        ss_fail(ctx, SUBSEL_E_INVALID, "%s: objective is NULL", caller);
        return NULL;
    }
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
    if (!ss_handle_release(obj))
        return;
    a = obj->alloc;
    obj->ops->destroy(obj);
    ss_free_raw(&a, obj);
}

int64_t subsel_objective_size(const subsel_objective *obj)
{
    return obj ? obj->n : 0;
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
    if (obj->ops->check_ready)
        SS_CHECK(obj->ops->check_ready(ctx, obj));
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
    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, obj);
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
    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, obj);
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
