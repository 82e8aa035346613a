/* SPDX-License-Identifier: MIT */
/*
 * What every public handle starts with: its kind, so that a call given a
 * handle of another kind (or a stray pointer) fails with a message instead
 * of reading the wrong struct; a reference count, so that a handle that
 * keeps another (an objective its matrices, a view its parent) retains it
 * and a caller's *_free only releases; and the allocator that frees it,
 * whatever became of the context that made it.
 */
#ifndef SS_CORE_HANDLE_H
#define SS_CORE_HANDLE_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/alloc.h"
#include "subsel.h"

/* Kinds of handle. The values are arbitrary tags, unlikely in a stray
 * pointer's first word. */
enum ss_kind {
    SS_KIND_CTX = 0x53530001,
    SS_KIND_CSR,
    SS_KIND_DENSE,
    SS_KIND_OBJECTIVE,
    SS_KIND_OPTIMIZER,
    SS_KIND_SELECTION,
    SS_KIND_SAE,
    SS_KIND_OT_SOLVER,
    SS_KIND_TAROT,
    SS_KIND_SUMMARY,
    SS_KIND_SAE_TRAINER,
    SS_KIND_LORS,
    SS_KIND_MAPPING /* internal: a mapped file (lib/matrix/mapping.h) */
};

/* The head of a handle, its first member: a C11 anonymous struct, so that
 * its fields read as the handle's own (x->alloc, x->kind). */
#define SS_HANDLE_HEAD                                                         \
    struct {                                                                   \
        uint32_t kind;                                                         \
        atomic_int refs;                                                       \
        ss_allocator alloc;                                                    \
    }

typedef struct ss_handle {
    SS_HANDLE_HEAD;
} ss_handle;

/* Starts a handle of `kind` with one reference (its creator's), freed
 * through `a` (copied). */
void ss_handle_init(void *handle, uint32_t kind, const ss_allocator *a);

/* 1 if `handle` is a live handle of `kind`, else 0 (NULL included). */
int ss_handle_is(const void *handle, uint32_t kind);

/* SUBSEL_OK if `handle` is a handle of `kind`; else SUBSEL_E_INVALID with
 * "fn: what is NULL" or "fn: what is not a <kind> (it is a <other>)". */
int ss_handle_check(subsel_ctx *ctx, const void *handle, uint32_t kind,
                    const char *fn, const char *what);

/* The name of a kind ("CSR matrix", "optimizer", ...), for messages; the
 * same words as subsel_kind_name(), which also tells objectives apart. */
const char *ss_kind_name(uint32_t kind);

/* Takes one more reference (thread-safe). */
void ss_handle_retain(const void *handle);

/* Drops one reference of a handle of `kind`; 1 when it was the last (the
 * caller then destroys the handle), else 0. NULL gives 0; so does a handle
 * of another kind, which is left as it is, with a message for the thread
 * naming `fn` (a *_free given the wrong handle through an FFI must not
 * destroy it as the wrong struct). */
int ss_handle_release(const void *handle, uint32_t kind, const char *fn);

/* In a public function: returns SUBSEL_E_INVALID with a message when
 * `handle` (a parameter, named in the message) is NULL or not of `kind`.
 * Every function taking an input handle checks it so: C's distinct types
 * catch a wrong handle at compile time, an FFI passing raw pointers does
 * not. */
#define SS_REQUIRE_KIND(ctx, handle, kind)                                     \
    SS_CHECK(ss_handle_check((ctx), (handle), (kind), __func__, #handle))

/* The same for a function's context (the message goes to the thread's
 * slot: there is no context to hold it). */
#define SS_REQUIRE_CTX(ctx)                                                    \
    SS_CHECK(ss_handle_check(NULL, (ctx), SS_KIND_CTX, __func__, "ctx"))

#endif
