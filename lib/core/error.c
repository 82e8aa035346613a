/* SPDX-License-Identifier: MIT */
/*
 * Status names and the error messages: one per context, and one per thread
 * for the calls that have no context (ss_fail(NULL, ...)), so that every
 * failing call leaves its message where the caller can read it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/handle.h"

const char *subsel_status_string(int status)
{
    switch (status) {
    case SUBSEL_OK: return "ok";
    case SUBSEL_E_INVALID: return "invalid argument";
    case SUBSEL_E_NOMEM: return "out of memory";
    case SUBSEL_E_IO: return "input/output error";
    case SUBSEL_E_FORMAT: return "malformed data";
    case SUBSEL_E_NUMERIC: return "numeric failure";
    case SUBSEL_E_UNSUPPORTED: return "unsupported";
    case SUBSEL_E_CANCELLED: return "cancelled";
    case SUBSEL_E_STATE: return "invalid state";
    default: return "unknown status";
    }
}

/* The message of the calling thread's last failing call made without a
 * context (a setter that takes none, or a call given a NULL context). */
static _Thread_local char thread_error[SS_ERROR_CAPACITY];

/* A context's slot; the thread's for NULL and for a pointer that is no
 * context (a wrong handle passed as one through an FFI must not be written
 * into). */
static char *slot(subsel_ctx *ctx)
{
    return ss_handle_is(ctx, SS_KIND_CTX) ? ctx->last_error : thread_error;
}

int ss_fail(subsel_ctx *ctx, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot(ctx), SS_ERROR_CAPACITY, fmt, ap);
    va_end(ap);
    return status;
}

int ss_fail_prefix(subsel_ctx *ctx, int status, const char *fmt, ...)
{
    /* "prefix: old message", truncated to the buffer. */
    char old[SS_ERROR_CAPACITY];
    char *msg = slot(ctx);
    size_t len;
    va_list ap;
    memcpy(old, msg, sizeof old);
    va_start(ap, fmt);
    vsnprintf(msg, SS_ERROR_CAPACITY, fmt, ap);
    va_end(ap);
    len = strlen(msg);
    snprintf(msg + len, SS_ERROR_CAPACITY - len, ": %s",
             old[0] ? old : subsel_status_string(status));
    return status;
}

int ss_check_capacity(subsel_ctx *ctx, const char *fn, const char *name,
                      int64_t capacity, int64_t needed)
{
    if (capacity < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: the capacity of %s is negative (%lld)", fn, name,
                       (long long)capacity);
    if (capacity < needed)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %s has room for %lld values, %lld needed", fn,
                       name, (long long)capacity, (long long)needed);
    return SUBSEL_OK;
}

const char *subsel_ctx_last_error(const subsel_ctx *ctx)
{
    return slot((subsel_ctx *)ctx);
}
