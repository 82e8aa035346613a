/* SPDX-License-Identifier: MIT */
/*
 * The one option mechanism: typed, bounds-checked set and get of the
 * parameters a handle kind describes in its table (see options.h).
 */
#include <inttypes.h>
#include <stdio.h>

#include "core/error.h"
#include "core/options.h"

const ss_param *ss_param_of(const ss_param_kind *k, int id)
{
    size_t i;
    for (i = 0; i < k->count; i++)
        if (k->params[i].id == id)
            return &k->params[i];
    return NULL;
}

const ss_param *ss_param_of_legacy(const ss_param_kind *k, int number)
{
    size_t i;
    for (i = 0; i < k->count; i++)
        if (k->params[i].legacy != 0 && k->params[i].legacy == number)
            return &k->params[i];
    return NULL;
}

static void *fields_of(const ss_param_kind *k, const void *handle)
{
    return k->fields ? k->fields(handle) : (void *)handle;
}

static int64_t *int_field(const ss_param_kind *k, const void *handle,
                          const ss_param *p)
{
    return (int64_t *)((char *)fields_of(k, handle) + p->offset);
}

static double *real_field(const ss_param_kind *k, const void *handle,
                          const ss_param *p)
{
    return (double *)((char *)fields_of(k, handle) + p->offset);
}

void ss_param_defaults(const ss_param_kind *k, void *handle)
{
    size_t i;
    for (i = 0; i < k->count; i++) {
        const ss_param *p = &k->params[i];
        if (p->type == SUBSEL_TYPE_INT)
            *int_field(k, handle, p) = p->idef;
        else
            *real_field(k, handle, p) = p->ddef;
    }
}

int64_t ss_param_int(const ss_param_kind *k, const void *handle,
                     const ss_param *p)
{
    return *int_field(k, handle, p);
}

double ss_param_real(const ss_param_kind *k, const void *handle,
                     const ss_param *p)
{
    return *real_field(k, handle, p);
}

int ss_param_int_ok(const ss_param *p, int64_t value)
{
    return value >= p->imin && value <= p->imax;
}

int ss_param_real_ok(const ss_param *p, double value)
{
    /* written so that NaN is outside, whatever the ends */
    int above = (p->open & SUBSEL_BOUND_OPEN_MIN) ? value > p->dmin
                                                  : value >= p->dmin;
    int below = (p->open & SUBSEL_BOUND_OPEN_MAX) ? value < p->dmax
                                                  : value <= p->dmax;
    return above && below;
}

void ss_param_range_text(const ss_param *p, char *buf, size_t cap)
{
    if (p->type == SUBSEL_TYPE_INT)
        snprintf(buf, cap, "[%" PRId64 ", %" PRId64 "]", p->imin, p->imax);
    else
        snprintf(buf, cap, "%c%g, %g%c",
                 (p->open & SUBSEL_BOUND_OPEN_MIN) ? '(' : '[', p->dmin,
                 p->dmax, (p->open & SUBSEL_BOUND_OPEN_MAX) ? ')' : ']');
}

void ss_param_bounds_real(const ss_param *p, double *min_value,
                          double *max_value, double *default_value)
{
    int is_int = p->type == SUBSEL_TYPE_INT;
    if (min_value)
        *min_value = is_int ? (double)p->imin : p->dmin;
    if (max_value)
        *max_value = is_int ? (double)p->imax : p->dmax;
    if (default_value)
        *default_value = is_int ? (double)p->idef : p->ddef;
}

/* SUBSEL_OK if p has `type`, else a message saying which function to use. */
static int typed(subsel_ctx *ctx, const ss_param_kind *k, const ss_param *p,
                 int type, const char *fn)
{
    if (p->type == type)
        return SUBSEL_OK;
    return ss_fail(ctx, SUBSEL_E_INVALID,
                   "%s: parameter %s (%s) is %s, not %s", fn, p->name,
                   k->name,
                   p->type == SUBSEL_TYPE_INT ? "an integer" : "a real number",
                   type == SUBSEL_TYPE_INT ? "an integer" : "a real number");
}

static int may_set(subsel_ctx *ctx, const ss_param_kind *k,
                   const void *handle, const ss_param *p, const char *fn)
{
    return k->may_set ? k->may_set(ctx, handle, p, fn) : SUBSEL_OK;
}

int ss_param_set_int(subsel_ctx *ctx, const ss_param_kind *k, void *handle,
                     const ss_param *p, int64_t value, const char *fn)
{
    char range[96];
    SS_CHECK(typed(ctx, k, p, SUBSEL_TYPE_INT, fn));
    if (!ss_param_int_ok(p, value)) {
        ss_param_range_text(p, range, sizeof range);
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: %s = %" PRId64 " is outside %s",
                       fn, p->name, value, range);
    }
    SS_CHECK(may_set(ctx, k, handle, p, fn));
    *int_field(k, handle, p) = value;
    if (k->changed)
        k->changed(handle, p);
    return SUBSEL_OK;
}

int ss_param_set_real(subsel_ctx *ctx, const ss_param_kind *k, void *handle,
                      const ss_param *p, double value, const char *fn)
{
    char range[96];
    SS_CHECK(typed(ctx, k, p, SUBSEL_TYPE_REAL, fn));
    if (!ss_param_real_ok(p, value)) {
        ss_param_range_text(p, range, sizeof range);
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: %s = %g is outside %s", fn,
                       p->name, value, range);
    }
    SS_CHECK(may_set(ctx, k, handle, p, fn));
    *real_field(k, handle, p) = value;
    if (k->changed)
        k->changed(handle, p);
    return SUBSEL_OK;
}

int ss_param_get_int(subsel_ctx *ctx, const ss_param_kind *k,
                     const void *handle, const ss_param *p, int64_t *value,
                     const char *fn)
{
    SS_CHECK(typed(ctx, k, p, SUBSEL_TYPE_INT, fn));
    if (value == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: value is NULL", fn);
    *value = *int_field(k, handle, p);
    return SUBSEL_OK;
}

int ss_param_get_real(subsel_ctx *ctx, const ss_param_kind *k,
                      const void *handle, const ss_param *p, double *value,
                      const char *fn)
{
    SS_CHECK(typed(ctx, k, p, SUBSEL_TYPE_REAL, fn));
    if (value == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: value is NULL", fn);
    *value = *real_field(k, handle, p);
    return SUBSEL_OK;
}
