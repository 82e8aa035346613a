/* SPDX-License-Identifier: MIT */
/*
 * The common head of every public handle: kind checks and reference
 * counts (see handle.h).
 */
#include "core/error.h"
#include "core/handle.h"

void ss_handle_init(void *handle, uint32_t kind, const ss_allocator *a)
{
    ss_handle *h = handle;
    h->kind = kind;
    atomic_init(&h->refs, 1);
    h->alloc = *a;
}

int ss_handle_is(const void *handle, uint32_t kind)
{
    return handle != NULL && ((const ss_handle *)handle)->kind == kind;
}

const char *ss_kind_name(uint32_t kind)
{
    switch (kind) {
    case SS_KIND_CTX: return "context";
    case SS_KIND_CSR: return "CSR matrix";
    case SS_KIND_DENSE: return "dense matrix";
    case SS_KIND_OBJECTIVE: return "objective";
    case SS_KIND_OPTIMIZER: return "optimizer";
    case SS_KIND_SELECTION: return "selection";
    case SS_KIND_SAE: return "sparse autoencoder";
    case SS_KIND_OT_SOLVER: return "OT solver";
    case SS_KIND_TAROT: return "TAROT selector";
    case SS_KIND_SUMMARY: return "summary";
    case SS_KIND_SAE_TRAINER: return "SAE trainer";
    case SS_KIND_LORS: return "LoRS distiller";
    case SS_KIND_MAPPING: return "file mapping";
    default: return "unknown handle";
    }
}

int ss_handle_check(subsel_ctx *ctx, const void *handle, uint32_t kind,
                    const char *fn, const char *what)
{
    uint32_t other;
    if (handle == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: %s is NULL", fn, what);
    other = ((const ss_handle *)handle)->kind;
    if (other != kind)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %s is the wrong kind of handle (%s, not %s)", fn,
                       what, ss_kind_name(other), ss_kind_name(kind));
    return SUBSEL_OK;
}

void ss_handle_retain(const void *handle)
{
    atomic_fetch_add_explicit(&((ss_handle *)handle)->refs, 1,
                              memory_order_relaxed);
}

int ss_handle_release(const void *handle, uint32_t kind, const char *fn)
{
    if (handle == NULL)
        return 0;
    if (ss_handle_check(NULL, handle, kind, fn, "the handle") != SUBSEL_OK)
        return 0;
    /* acq_rel: whatever a thread did with the handle happens before the
     * thread that drops the last reference destroys it. */
    return atomic_fetch_sub_explicit(&((ss_handle *)handle)->refs, 1,
                                     memory_order_acq_rel) == 1;
}
