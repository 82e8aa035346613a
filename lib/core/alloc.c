/* SPDX-License-Identifier: MIT */
/*
 * Allocation through user hooks with overflow-checked sizes.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/ctx.h"
#include "core/error.h"

static void *default_alloc(void *opaque, size_t size, size_t alignment)
{
    void *p = NULL;
    (void)opaque;
    if (posix_memalign(&p, alignment, size) != 0)
        return NULL;
    return p;
}

static void default_free(void *opaque, void *ptr)
{
    (void)opaque;
    free(ptr);
}

const ss_allocator ss_default_allocator = {default_alloc, default_free, NULL};

void *ss_alloc_raw(const ss_allocator *a, size_t size)
{
    if (size == 0)
        size = 1;
    /* Round up to whole alignment units so vector tails never cross the end
     * of an allocation; refuse sizes where that would overflow. */
    if (size > SIZE_MAX - SS_ALIGNMENT)
        return NULL;
    size = (size + SS_ALIGNMENT - 1) & ~(size_t)(SS_ALIGNMENT - 1);
    return a->alloc(a->opaque, size, SS_ALIGNMENT);
}

void ss_free_raw(const ss_allocator *a, void *ptr)
{
    if (ptr != NULL)
        a->free(a->opaque, ptr);
}

int ss_mul_size(int64_t a, size_t b, size_t *out)
{
    if (a < 0)
        return 0;
    if (b != 0 && (uint64_t)a > SIZE_MAX / b)
        return 0;
    *out = (size_t)a * b;
    return 1;
}

int ss_alloc_with(subsel_ctx *ctx, const ss_allocator *a, int64_t count,
                  size_t elsize, void *out_ptr)
{
    size_t bytes;
    void *p;
    if (!ss_mul_size(count, elsize, &bytes))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "array of %lld elements of %zu bytes does not fit in "
                       "memory addresses",
                       (long long)count, elsize);
    p = ss_alloc_raw(a, bytes);
    if (p == NULL)
        return ss_fail(ctx, SUBSEL_E_NOMEM, "cannot allocate %zu bytes", bytes);
    memcpy(out_ptr, &p, sizeof p);
    return SUBSEL_OK;
}

int ss_alloc_array(subsel_ctx *ctx, int64_t count, size_t elsize, void *out_ptr)
{
    return ss_alloc_with(ctx, ctx ? &ctx->alloc : &ss_default_allocator, count,
                         elsize, out_ptr);
}

int ss_calloc_array(subsel_ctx *ctx, int64_t count, size_t elsize,
                    void *out_ptr)
{
    void *p = NULL;
    SS_CHECK(ss_alloc_array(ctx, count, elsize, &p));
    memset(p, 0, (size_t)count * elsize);
    memcpy(out_ptr, &p, sizeof p);
    return SUBSEL_OK;
}

void ss_free(subsel_ctx *ctx, void *ptr)
{
    ss_free_raw(ctx ? &ctx->alloc : &ss_default_allocator, ptr);
}
