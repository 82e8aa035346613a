/* SPDX-License-Identifier: MIT */
/*
 * Allocation through the user's hooks. Every buffer the library allocates
 * itself goes through an ss_allocator: the context's, or the copy a handle
 * keeps so it can be freed after its context. Sizes are checked for overflow
 * before any allocation; a failure is SUBSEL_E_NOMEM with a message.
 *
 * Each block starts with a header (one alignment unit) that records the
 * bytes it holds and the memory meter it was charged to, so a free credits
 * the right meter whichever copy of the allocator frees it. The meter of a
 * context bounds what the context and every handle made through it hold at
 * once (SUBSEL_P_MEMORY_LIMIT). It lives inside the context's own block,
 * which is released only when the context is freed and the last block
 * charged to the meter is gone: handles that outlive their context keep
 * charging and crediting a live meter without holding a reference of their
 * own, because each of them holds at least one charged block (itself).
 */
#ifndef SS_CORE_ALLOC_H
#define SS_CORE_ALLOC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "subsel.h"

/* Every allocation is aligned for the widest vector loads (AVX-512). */
#define SS_ALIGNMENT 64

typedef struct ss_meter ss_meter;

typedef struct ss_allocator {
    subsel_alloc_fn alloc;
    subsel_free_fn free;
    void *opaque;
    ss_meter *meter; /* charged for every block; NULL: not metered */
} ss_allocator;

struct ss_meter {
    atomic_size_t bytes; /* requested from the hooks for live blocks */
    atomic_size_t refs;  /* 1 while the owner lives, + 1 per live block */
    atomic_size_t limit; /* most `bytes` may reach; 0: no limit */
    ss_allocator hooks;  /* unmetered: frees `block` */
    void *block;         /* the allocation holding this meter */
};

/* The C library allocator (posix_memalign / free), not metered. */
extern const ss_allocator ss_default_allocator;

/* Raw allocation; NULL on failure, overflow or a meter's limit. size 0
 * allocates 1 byte so that empty arrays still have a unique, freeable
 * pointer. The hooks see the size rounded up to whole alignment units plus
 * one unit of header, and an alignment of SS_ALIGNMENT. */
void *ss_alloc_raw(const ss_allocator *a, size_t size);
/* Frees a block of ss_alloc_raw through `a`'s hooks (the ones that
 * allocated it) and credits the meter it was charged to; NULL is a no-op. */
void ss_free_raw(const ss_allocator *a, void *ptr);

/* count * elsize bytes through ctx's allocator, recorded on ctx on failure.
 * count < 0 or an overflowing product is SUBSEL_E_INVALID; a failing hook or
 * the context's memory limit is SUBSEL_E_NOMEM (the message says which). */
int ss_alloc_array(subsel_ctx *ctx, int64_t count, size_t elsize, void *out_ptr);
/* As ss_alloc_array, through allocator `a` (a handle's own, for buffers a
 * handle keeps, which it frees with ss_free_raw(a, ...)). */
int ss_alloc_with(subsel_ctx *ctx, const ss_allocator *a, int64_t count,
                  size_t elsize, void *out_ptr);
/* As ss_alloc_array, zero-filled. */
int ss_calloc_array(subsel_ctx *ctx, int64_t count, size_t elsize,
                    void *out_ptr);
/* Frees a buffer from ss_alloc_array / ss_calloc_array; NULL is a no-op. */
void ss_free(subsel_ctx *ctx, void *ptr);

/* a * b into *out as size_t; 0 (and *out untouched) on overflow or a < 0. */
int ss_mul_size(int64_t a, size_t b, size_t *out);

/* A meter inside `block` (an unmetered allocation of `hooks`), held by its
 * owner: no bytes, no limit, one reference. */
void ss_meter_init(ss_meter *m, const ss_allocator *hooks, void *block);
/* Bytes a meter may hold from now on (0: no limit); blocks already held are
 * kept even above a lower limit. */
void ss_meter_set_limit(ss_meter *m, size_t limit);
/* Bytes held now (header and rounding included). */
size_t ss_meter_bytes(const ss_meter *m);
/* Drops the owner's reference; the block holding the meter is freed now or
 * when the last block charged to it is freed. */
void ss_meter_release(ss_meter *m);

#endif
