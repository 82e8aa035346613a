/* SPDX-License-Identifier: MIT */
/*
 * Table-driven typed options with bounds.
 */
#include <string.h>

#include "core/error.h"
#include "core/options.h"

const ss_option *ss_option_find(const ss_option_table *table, int id)
{
    size_t i;
    for (i = 0; i < table->count; i++)
        if (table->options[i].id == id)
            return &table->options[i];
    return NULL;
}

static int64_t *int_field(void *handle, const ss_option *o)
{
    return (int64_t *)((char *)handle + o->offset);
}

static double *real_field(void *handle, const ss_option *o)
{
    return (double *)((char *)handle + o->offset);
}

void ss_option_defaults(const ss_option_table *table, void *handle)
{
    size_t i;
    for (i = 0; i < table->count; i++) {
        const ss_option *o = &table->options[i];
        if (o->is_int)
            *int_field(handle, o) = o->idef;
        else
            *real_field(handle, o) = o->ddef;
    }
}

static const ss_option *typed(subsel_ctx *ctx, const ss_option_table *table,
                              int id, int is_int)
{
    const ss_option *o = ss_option_find(table, id);
    if (o == NULL)
        ss_fail(ctx, SUBSEL_E_INVALID, "unknown option %d", id);
    else if (o->is_int != is_int)
        ss_fail(ctx, SUBSEL_E_INVALID, "option %s is %s, not %s", o->name,
                o->is_int ? "an integer" : "a real number",
                is_int ? "an integer" : "a real number");
    else
        return o;
    return NULL;
}

int ss_option_set_int(subsel_ctx *ctx, const ss_option_table *table,
                      void *handle, int id, int64_t value)
{
    const ss_option *o = typed(ctx, table, id, 1);
    if (o == NULL)
        return SUBSEL_E_INVALID;
    if (value < o->imin || value > o->imax)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "option %s = %lld is outside [%lld, %lld]", o->name,
                       (long long)value, (long long)o->imin,
                       (long long)o->imax);
    *int_field(handle, o) = value;
    return SUBSEL_OK;
}

int ss_option_set_double(subsel_ctx *ctx, const ss_option_table *table,
                         void *handle, int id, double value)
{
    const ss_option *o = typed(ctx, table, id, 0);
    int inside;
    if (o == NULL)
        return SUBSEL_E_INVALID;
    /* written so that NaN is outside too */
    inside = o->open ? value > o->dmin && value < o->dmax
                     : value >= o->dmin && value <= o->dmax;
    if (!inside)
        return ss_fail(ctx, SUBSEL_E_INVALID, "option %s = %g is outside %c%g, %g%c",
                       o->name, value, o->open ? '(' : '[', o->dmin, o->dmax,
                       o->open ? ')' : ']');
    *real_field(handle, o) = value;
    return SUBSEL_OK;
}

int ss_option_get_int(const ss_option_table *table, const void *handle,
                      int id, int64_t *value)
{
    const ss_option *o = typed(NULL, table, id, 1);
    if (o == NULL || value == NULL)
        return SUBSEL_E_INVALID;
    *value = *int_field((void *)handle, o);
    return SUBSEL_OK;
}

int ss_option_get_double(const ss_option_table *table, const void *handle,
                         int id, double *value)
{
    const ss_option *o = typed(NULL, table, id, 0);
    if (o == NULL || value == NULL)
        return SUBSEL_E_INVALID;
    *value = *real_field((void *)handle, o);
    return SUBSEL_OK;
}

int ss_option_bounds(const ss_option_table *table, int id, double *min_value,
                     double *max_value, double *default_value)
{
    const ss_option *o = ss_option_find(table, id);
    if (o == NULL)
        return SUBSEL_E_INVALID;
    if (min_value)
        *min_value = o->is_int ? (double)o->imin : o->dmin;
    if (max_value)
        *max_value = o->is_int ? (double)o->imax : o->dmax;
    if (default_value)
        *default_value = o->is_int ? (double)o->idef : o->ddef;
    return SUBSEL_OK;
}
