/* SPDX-License-Identifier: MIT */
/*
 * Allocation through the user's hooks. Every buffer the library allocates
 * itself goes through an ss_allocator: the context's, or the copy a handle
 * keeps so it can be freed after its context. Sizes are checked for overflow
 * before any allocation; a failure is SUBSEL_E_NOMEM with a message.
 */
#ifndef SS_CORE_ALLOC_H
#define SS_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "subsel.h"

/* Every allocation is aligned for the widest vector loads (AVX-512). */
#define SS_ALIGNMENT 64

typedef struct ss_allocator {
    subsel_alloc_fn alloc;
    subsel_free_fn free;
    void *opaque;
} ss_allocator;

/* The C library allocator (posix_memalign / free). */
extern const ss_allocator ss_default_allocator;

/* Raw allocation; NULL on failure or overflow. size 0 allocates 1 byte so
 * that empty arrays still have a unique, freeable pointer. */
void *ss_alloc_raw(const ss_allocator *a, size_t size);
void ss_free_raw(const ss_allocator *a, void *ptr);

/* count * elsize bytes through ctx's allocator, recorded on ctx on failure.
 * count < 0 or an overflowing product is SUBSEL_E_INVALID. */
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

#endif
