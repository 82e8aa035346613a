/* SPDX-License-Identifier: MIT */
/*
 * Context: creation, options with bounds and defaults, progress reporting.
 */
#include <limits.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "dispatch/dispatch.h"

typedef struct param_spec {
    int id;
    const char *name;
    int64_t min, max, def;
} param_spec;

static const param_spec params[] = {
    {SUBSEL_CTX_THREADS, "threads", 0, 4096, 0},
    {SUBSEL_CTX_SEED, "seed", 0, INT64_MAX, 0},
    {SUBSEL_CTX_MAX_ISA, "max_isa", SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512,
     SUBSEL_ISA_AVX512},
};

static const param_spec *find_param(int id)
{
    size_t i;
    for (i = 0; i < sizeof params / sizeof params[0]; i++)
        if (params[i].id == id)
            return &params[i];
    return NULL;
}

static int64_t *param_slot(subsel_ctx *ctx, int id)
{
    switch (id) {
    case SUBSEL_CTX_THREADS: return &ctx->threads;
    case SUBSEL_CTX_SEED: return &ctx->seed;
    case SUBSEL_CTX_MAX_ISA: return &ctx->max_isa;
    default: return NULL;
    }
}

int subsel_ctx_create_with_allocator(subsel_ctx **out, subsel_alloc_fn alloc,
                                     subsel_free_fn free_fn, void *opaque)
{
    ss_allocator a;
    subsel_ctx *ctx;
    size_t i;

    if (out == NULL)
        return SUBSEL_E_INVALID;
    *out = NULL;
    if (alloc == NULL || free_fn == NULL)
        return SUBSEL_E_INVALID;
    a.alloc = alloc;
    a.free = free_fn;
    a.opaque = opaque;
    ctx = ss_alloc_raw(&a, sizeof *ctx);
    if (ctx == NULL)
        return SUBSEL_E_NOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->alloc = a;
    for (i = 0; i < sizeof params / sizeof params[0]; i++)
        *param_slot(ctx, params[i].id) = params[i].def;
    *out = ctx;
    return SUBSEL_OK;
}

int subsel_ctx_create(subsel_ctx **out)
{
    return subsel_ctx_create_with_allocator(out, ss_default_allocator.alloc,
                                            ss_default_allocator.free, NULL);
}

void subsel_ctx_free(subsel_ctx *ctx)
{
    ss_allocator a;
    if (ctx == NULL)
        return;
    a = ctx->alloc;
    ss_free_raw(&a, ctx);
}

int subsel_ctx_param_bounds(int param, int64_t *min_value, int64_t *max_value,
                            int64_t *default_value)
{
    const param_spec *p = find_param(param);
    if (p == NULL)
        return SUBSEL_E_INVALID;
    if (min_value)
        *min_value = p->min;
    if (max_value)
        *max_value = p->max;
    if (default_value)
        *default_value = p->def;
    return SUBSEL_OK;
}

int subsel_ctx_set_int(subsel_ctx *ctx, int param, int64_t value)
{
    const param_spec *p = find_param(param);
    if (ctx == NULL)
        return SUBSEL_E_INVALID;
    if (p == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_ctx_set_int: unknown option %d", param);
    if (value < p->min || value > p->max)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_ctx_set_int: %s = %lld is outside [%lld, %lld]",
                       p->name, (long long)value, (long long)p->min,
                       (long long)p->max);
    *param_slot(ctx, param) = value;
    return SUBSEL_OK;
}

int subsel_ctx_get_int(const subsel_ctx *ctx, int param, int64_t *value)
{
    if (ctx == NULL || value == NULL || find_param(param) == NULL)
        return SUBSEL_E_INVALID;
    *value = *param_slot((subsel_ctx *)ctx, param);
    return SUBSEL_OK;
}

int subsel_ctx_set_progress(subsel_ctx *ctx, subsel_progress_fn fn, void *user)
{
    if (ctx == NULL)
        return SUBSEL_E_INVALID;
    ctx->progress = fn;
    ctx->progress_user = fn ? user : NULL;
    return SUBSEL_OK;
}

int subsel_ctx_threads(const subsel_ctx *ctx)
{
    if (ctx == NULL)
        return 1;
    if (ctx->threads > 0)
        return (int)ctx->threads;
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int ss_threads_for(const subsel_ctx *ctx, int64_t work)
{
    int t = subsel_ctx_threads(ctx);
    if (work < t)
        t = work < 1 ? 1 : (int)work;
    return t;
}

int subsel_ctx_isa(const subsel_ctx *ctx)
{
    int isa = subsel_isa_selected();
    if (ctx == NULL)
        return SUBSEL_ISA_SCALAR;
    return ctx->max_isa < isa ? (int)ctx->max_isa : isa;
}

int ss_progress(subsel_ctx *ctx, const char *stage, int64_t done,
                int64_t total)
{
    if (ctx == NULL || ctx->progress == NULL)
        return SUBSEL_OK;
    if (ctx->progress(ctx->progress_user, stage, done, total) != 0)
        return ss_fail(ctx, SUBSEL_E_CANCELLED,
                       "%s: cancelled by the progress callback after %lld of "
                       "%lld",
                       stage, (long long)done, (long long)total);
    return SUBSEL_OK;
}
