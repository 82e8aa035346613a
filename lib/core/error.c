/* SPDX-License-Identifier: MIT */
/*
 * Status names and the per-context error message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"

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

int ss_fail(subsel_ctx *ctx, int status, const char *fmt, ...)
{
    if (ctx != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
        va_end(ap);
    }
    return status;
}

int ss_fail_prefix(subsel_ctx *ctx, int status, const char *fmt, ...)
{
    if (ctx != NULL) {
        /* "prefix: old message", truncated to the buffer. */
        char old[SS_ERROR_CAPACITY];
        size_t len;
        va_list ap;
        memcpy(old, ctx->last_error, sizeof old);
        va_start(ap, fmt);
        vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
        va_end(ap);
        len = strlen(ctx->last_error);
        snprintf(ctx->last_error + len, sizeof ctx->last_error - len, ": %s",
                 old[0] ? old : subsel_status_string(status));
    }
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
    if (ctx == NULL)
        return "no context (NULL)";
    return ctx->last_error;
}
