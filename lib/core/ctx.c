/* SPDX-License-Identifier: MIT */
/*
 * Context: creation, options with bounds and defaults, the thread count
 * calls use, the memory meter, progress reporting.
 */
#include <limits.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/cpus.h"
#include "core/ctx.h"
#include "core/error.h"
#include "core/options.h"
#include "dispatch/dispatch.h"

static const ss_option ctx_options[] = {
    SS_OPTION_INT(SUBSEL_CTX_THREADS, "threads", subsel_ctx, threads, 0, 4096, 0, 0),
    SS_OPTION_INT(SUBSEL_CTX_SEED, "seed", subsel_ctx, seed, 0, INT64_MAX, 0, 0),
    SS_OPTION_INT(SUBSEL_CTX_MAX_ISA, "max_isa", subsel_ctx, max_isa,
                  SUBSEL_ISA_SCALAR, SUBSEL_ISA_AVX512, SUBSEL_ISA_AVX512, 0),
    SS_OPTION_INT(SUBSEL_CTX_MEMORY_LIMIT, "memory_limit", subsel_ctx,
                  memory_limit, 0, INT64_MAX, 0, 0),
};
static const ss_option_table ctx_table = SS_OPTION_TABLE(ctx_options);

int subsel_ctx_create_with_allocator(subsel_ctx **out, subsel_alloc_fn alloc,
                                     subsel_free_fn free_fn, void *opaque)
{
    ss_allocator a;
    subsel_ctx *ctx;

    if (out == NULL)
        return SUBSEL_E_INVALID;
    *out = NULL;
    if (alloc == NULL || free_fn == NULL)
        return SUBSEL_E_INVALID;
    a.alloc = alloc;
    a.free = free_fn;
    a.opaque = opaque;
    a.meter = NULL;
    /* One block for the context and its meter: creating a context stays
     * one call of the hooks. */
    ctx = ss_alloc_raw(&a, sizeof *ctx);
    if (ctx == NULL)
        return SUBSEL_E_NOMEM;
    memset(ctx, 0, sizeof *ctx);
    ss_meter_init(&ctx->meter, &a, ctx);
    a.meter = &ctx->meter;
    ss_handle_init(ctx, SS_KIND_CTX, &a);
    ss_option_defaults(&ctx_table, ctx);
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
    /* The block goes when the last handle made through the context lets go
     * of its meter; nothing but the meter is read after this. */
    if (ctx != NULL)
        ss_meter_release(&ctx->meter);
}

int subsel_ctx_param_bounds(int param, int64_t *min_value, int64_t *max_value,
                            int64_t *default_value)
{
    const ss_option *o = ss_option_find(&ctx_table, param);
    if (o == NULL)
        return SUBSEL_E_INVALID;
    if (min_value)
        *min_value = o->imin;
    if (max_value)
        *max_value = o->imax;
    if (default_value)
        *default_value = o->idef;
    return SUBSEL_OK;
}

int subsel_ctx_set_int(subsel_ctx *ctx, int param, int64_t value)
{
    if (ctx == NULL)
        return SUBSEL_E_INVALID;
    SS_CHECK(ss_option_set_int(ctx, &ctx_table, ctx, param, value));
    if (param == SUBSEL_CTX_MEMORY_LIMIT)
        ss_meter_set_limit(&ctx->meter, (uint64_t)ctx->memory_limit > SIZE_MAX
                                            ? SIZE_MAX
                                            : (size_t)ctx->memory_limit);
    return SUBSEL_OK;
}

int subsel_ctx_get_int(const subsel_ctx *ctx, int param, int64_t *value)
{
    if (ctx == NULL)
        return SUBSEL_E_INVALID;
    return ss_option_get_int(&ctx_table, ctx, param, value);
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
    int wanted = 1;
    if (ctx == NULL)
        return 1;
    if (ctx->threads > 0)
        wanted = (int)ctx->threads;
#ifdef _OPENMP
    else
        wanted = omp_get_max_threads();
#endif
    return ss_threads_cap(wanted);
}

int ss_threads_for(const subsel_ctx *ctx, int64_t work)
{
    int t = subsel_ctx_threads(ctx);
    if (work < t)
        t = work < 1 ? 1 : (int)work;
    return t;
}

const ss_kernels *ss_kernels_for(const subsel_ctx *ctx)
{
    return ss_kernels_at(subsel_ctx_isa(ctx));
}

int subsel_ctx_isa(const subsel_ctx *ctx)
{
    int isa = subsel_isa_selected();
    if (ctx == NULL)
        return SUBSEL_ISA_SCALAR;
    return ss_isa_usable(ctx->max_isa < isa ? (int)ctx->max_isa : isa);
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
