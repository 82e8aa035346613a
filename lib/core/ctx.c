/* SPDX-License-Identifier: MIT */
/*
 * Context: creation, its parameters (the table; lib/params has the public
 * functions that set them), the thread count calls use, the memory meter,
 * progress reporting.
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

static void ctx_changed(void *handle, const ss_param *p)
{
    subsel_ctx *ctx = handle;
    if (p->id == SUBSEL_P_MEMORY_LIMIT)
        ss_meter_set_limit(&ctx->meter, (uint64_t)ctx->memory_limit > SIZE_MAX
                                            ? SIZE_MAX
                                            : (size_t)ctx->memory_limit);
}

static const ss_param ctx_params[] = {
    SS_PARAM_INT(SUBSEL_P_THREADS, 0, "threads", subsel_ctx, threads, 0, 4096, 0, 0,
                 "threads per call (0: the OpenMP default), capped at the CPUs available"),
    SS_PARAM_INT(SUBSEL_P_SEED, 0, "seed", subsel_ctx, seed, 0, INT64_MAX, 0, 0,
                 "seed of every random choice"),
    SS_PARAM_INT(SUBSEL_P_MAX_ISA, 0, "max_isa", subsel_ctx, max_isa, SUBSEL_ISA_SCALAR,
                 SUBSEL_ISA_AVX512, SUBSEL_ISA_AVX512, 0,
                 "highest instruction set to use (0 scalar, 1 AVX2, 2 AVX-512)"),
    SS_PARAM_INT(SUBSEL_P_MEMORY_LIMIT, 0, "memory_limit", subsel_ctx, memory_limit, 0,
                 INT64_MAX, 0, 0,
                 "most bytes held at once for the context and its handles (0: no limit)"),
    SS_PARAM_INT(SUBSEL_P_PARALLEL_GAINS, 0, "parallel_gains", subsel_ctx, parallel_gains,
                 SUBSEL_PARALLEL_AUTO, SUBSEL_PARALLEL_PIPELINE, SUBSEL_PARALLEL_AUTO, 0,
                 "share batches of gains among threads: 0 when worth it, 1 never, 2 always, "
                 "3 as 0, and lazy greedy overlaps its heap with its gains"),
    SS_PARAM_INT(SUBSEL_P_MAP_FILES, 0, "map_files", subsel_ctx, map_files, 0, 1, 1, 0,
                 "use uncompressed .npy files and stored .npz members in place, memory-mapped (0: copy)"),
};

const ss_param_kind ss_ctx_params = {
    SUBSEL_KIND_CONTEXT, "context", SS_KIND_CTX, NULL, SS_PARAMS(ctx_params),
    NULL, NULL, ctx_changed,
};

int subsel_ctx_create_with_allocator(subsel_ctx **out, subsel_alloc_fn alloc,
                                     subsel_free_fn free_fn, void *opaque)
{
    ss_allocator a;
    subsel_ctx *ctx;

    SS_REQUIRE_NONNULL(NULL, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(NULL, alloc);
    SS_REQUIRE_NONNULL(NULL, free_fn);
    a.alloc = alloc;
    a.free = free_fn;
    a.opaque = opaque;
    a.meter = NULL;
    /* One block for the context and its meter: creating a context stays
     * one call of the hooks. */
    ctx = ss_alloc_raw(&a, sizeof *ctx);
    if (ctx == NULL)
        return ss_fail(NULL, SUBSEL_E_NOMEM,
                       "subsel_ctx_create: cannot allocate the context (%zu "
                       "bytes)",
                       sizeof *ctx);
    memset(ctx, 0, sizeof *ctx);
    ss_meter_init(&ctx->meter, &a, ctx);
    a.meter = &ctx->meter;
    ss_handle_init(ctx, SS_KIND_CTX, &a);
    ss_param_defaults(&ss_ctx_params, ctx);
    *out = ctx;
    return SUBSEL_OK;
}

int subsel_ctx_create(subsel_ctx **out)
{
    SS_REQUIRE_NONNULL(NULL, out);
    return subsel_ctx_create_with_allocator(out, ss_default_allocator.alloc,
                                            ss_default_allocator.free, NULL);
}

void subsel_ctx_free(subsel_ctx *ctx)
{
    /* The block goes when the last handle made through the context lets go
     * of its meter; nothing but the meter is read after this. */
    if (ctx != NULL && ss_handle_check(NULL, ctx, SS_KIND_CTX, "subsel_ctx_free",
                                         "ctx") == SUBSEL_OK)
        ss_meter_release(&ctx->meter);
}

int subsel_ctx_set_progress(subsel_ctx *ctx, subsel_progress_fn fn, void *user)
{
    SS_CHECK(ss_handle_check(NULL, ctx, SS_KIND_CTX, "subsel_ctx_set_progress",
                             "ctx"));
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

int ss_in_parallel(void)
{
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return 0;
#endif
}

int ss_threads_for_gains(const subsel_ctx *ctx, int64_t count, double work,
                         double min_work)
{
    if (ctx->parallel_gains == SUBSEL_PARALLEL_NEVER ||
        (ctx->parallel_gains != SUBSEL_PARALLEL_ALWAYS && work < min_work) ||
        ss_in_parallel())
        return 1;
    return ss_threads_for(ctx, count);
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
