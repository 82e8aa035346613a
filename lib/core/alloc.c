/* SPDX-License-Identifier: MIT */
/*
 * Allocation through user hooks with overflow-checked sizes, a header per
 * block, and the memory meter that enforces a context's memory limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/alloc.h"
#include "core/ctx.h"
#include "core/error.h"

/* The first alignment unit of every block: what a free must credit. */
typedef struct block_header {
    size_t bytes;    /* requested from the hooks for this block */
    ss_meter *meter; /* charged for it, or NULL */
} block_header;

_Static_assert(sizeof(block_header) <= SS_ALIGNMENT,
               "the block header must fit in one alignment unit");

/* Blocks from this size on are backed by transparent huge pages where the
 * system allows (its setting "madvise", the usual default): the first
 * touch of a fresh 4 KiB page costs a fault, and filling a new array of
 * hundreds of MB (a matrix read from a file) is otherwise mostly faults,
 * several times slower than the copy itself. NumPy does the same for its
 * arrays. */
#define HUGE_PAGE_FROM ((size_t)4 << 20)
#define HUGE_PAGE ((uintptr_t)2 << 20)

static void *default_alloc(void *opaque, size_t size, size_t alignment)
{
    void *p = NULL;
    (void)opaque;
    if (posix_memalign(&p, alignment, size) != 0)
        return NULL;
    if (size >= HUGE_PAGE_FROM) {
        /* the whole huge pages inside the block: its own memory */
        uintptr_t first = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        uintptr_t end = ((uintptr_t)p + size) & ~(HUGE_PAGE - 1);
        if (end > first)
            (void)madvise((void *)first, end - first, MADV_HUGEPAGE);
    }
    return p;
}

static void default_free(void *opaque, void *ptr)
{
    (void)opaque;
    free(ptr);
}

const ss_allocator ss_default_allocator = {default_alloc, default_free, NULL,
                                           NULL};

void ss_meter_init(ss_meter *m, const ss_allocator *hooks, void *block)
{
    atomic_init(&m->bytes, 0);
    atomic_init(&m->refs, 1);
    atomic_init(&m->limit, 0);
    m->hooks = *hooks;
    m->hooks.meter = NULL;
    m->block = block;
}

void ss_meter_set_limit(ss_meter *m, size_t limit)
{
    atomic_store_explicit(&m->limit, limit, memory_order_relaxed);
}

size_t ss_meter_bytes(const ss_meter *m)
{
    return atomic_load_explicit(&((ss_meter *)m)->bytes, memory_order_relaxed);
}

void ss_meter_release(ss_meter *m)
{
    /* acq_rel: every credit made by other threads happens before the block
     * is freed by whichever thread drops the last reference. */
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) {
        ss_allocator hooks = m->hooks; /* m lives inside the block */
        ss_free_raw(&hooks, m->block);
    }
}

/* Reserves `bytes` on m unless that would pass its limit. A compare-and-swap
 * loop rather than add-then-undo, so that two threads racing near the limit
 * never both fail where one of them fits. The caller holds a reference (a
 * live context or a live block), so the new one cannot resurrect a meter. */
static int meter_charge(ss_meter *m, size_t bytes)
{
    size_t limit = atomic_load_explicit(&m->limit, memory_order_relaxed);
    if (limit == 0) {
        atomic_fetch_add_explicit(&m->bytes, bytes, memory_order_relaxed);
    } else {
        size_t used = atomic_load_explicit(&m->bytes, memory_order_relaxed);
        do {
            if (bytes > limit || used > limit - bytes)
                return 0;
        } while (!atomic_compare_exchange_weak_explicit(
            &m->bytes, &used, used + bytes, memory_order_relaxed,
            memory_order_relaxed));
    }
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return 1;
}

static void meter_credit(ss_meter *m, size_t bytes)
{
    atomic_fetch_sub_explicit(&m->bytes, bytes, memory_order_relaxed);
    ss_meter_release(m);
}

/* The block for `size` bytes; *over_limit tells a refusal by the meter
 * apart from a failing hook. */
static void *alloc_block(const ss_allocator *a, size_t size, int *over_limit)
{
    block_header *h;
    size_t bytes;
    *over_limit = 0;
    if (size == 0)
        size = 1;
    /* Round up to whole alignment units so vector tails never cross the end
     * of an allocation, and add one unit for the header; refuse sizes where
     * that would overflow. */
    if (size > SIZE_MAX - 2 * SS_ALIGNMENT)
        return NULL;
    bytes = ((size + SS_ALIGNMENT - 1) & ~(size_t)(SS_ALIGNMENT - 1)) +
            SS_ALIGNMENT;
    if (a->meter != NULL && !meter_charge(a->meter, bytes)) {
        *over_limit = 1;
        return NULL;
    }
    h = a->alloc(a->opaque, bytes, SS_ALIGNMENT);
    if (h == NULL) {
        if (a->meter != NULL)
            meter_credit(a->meter, bytes);
        return NULL;
    }
    h->bytes = bytes;
    h->meter = a->meter;
    return (char *)h + SS_ALIGNMENT;
}

void *ss_alloc_raw(const ss_allocator *a, size_t size)
{
    int over_limit;
    return alloc_block(a, size, &over_limit);
}

void ss_free_raw(const ss_allocator *a, void *ptr)
{
    block_header *h;
    ss_meter *meter;
    size_t bytes;
    if (ptr == NULL)
        return;
    h = (block_header *)((char *)ptr - SS_ALIGNMENT);
    meter = h->meter;
    bytes = h->bytes;
    /* `a` may live inside the block being freed (a handle's own copy). */
    a->free(a->opaque, h);
    if (meter != NULL)
        meter_credit(meter, bytes);
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
    int over_limit;
    if (!ss_mul_size(count, elsize, &bytes))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "array of %lld elements of %zu bytes does not fit in "
                       "memory addresses",
                       (long long)count, elsize);
    p = alloc_block(a, bytes, &over_limit);
    if (p == NULL && over_limit)
        return ss_fail(ctx, SUBSEL_E_NOMEM,
                       "cannot allocate %zu bytes: the memory limit "
                       "SUBSEL_P_MEMORY_LIMIT = %zu bytes would be passed "
                       "(%zu bytes in use)",
                       bytes,
                       atomic_load_explicit(&a->meter->limit,
                                            memory_order_relaxed),
                       ss_meter_bytes(a->meter));
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
