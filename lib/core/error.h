/* SPDX-License-Identifier: MIT */
/*
 * The one error path of the library. A failing function records a detailed
 * message with ss_fail() and returns the status code: on the context, or,
 * for calls without one (ctx NULL), in the calling thread's slot that
 * subsel_ctx_last_error(NULL) reads. Callers
 * propagate with SS_CHECK (return at once) or SS_TRY (jump forward to the
 * function's single `cleanup:` label, which frees what was allocated).
 */
#ifndef SS_CORE_ERROR_H
#define SS_CORE_ERROR_H

#include "subsel.h"
#include "kernels/prefetch.h"

#if defined(__GNUC__)
#define SS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define SS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SS_PRINTF(fmt, args)
#define SS_UNLIKELY(x) (x)
#endif

/* Prefetch every cache line that bytes [p, p + bytes) touch. Counted from
 * the line of the first byte to the line of the last: arrays the caller
 * allocated (NumPy's start 16 bytes into a line) put a 128-byte row on
 * three lines, and stepping 64 bytes from p would miss the third. */
static inline void ss_prefetch_bytes(const void *p, size_t bytes)
{
    const size_t line = 64;
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)(line - 1);
    uintptr_t last = (uintptr_t)p + bytes - 1;
    if (bytes == 0)
        return;
    for (; a <= last; a += line)
        SS_PREFETCH((const char *)a);
}

/* Records "message" on ctx (for the calling thread when ctx is NULL) and
 * returns `status`. */
int ss_fail(subsel_ctx *ctx, int status, const char *fmt, ...) SS_PRINTF(3, 4);

/* Prefixes the message already recorded on ctx (the thread's when ctx is
 * NULL) with "prefix: " (used to add a file name or a function name as an
 * error travels up). Returns status. */
int ss_fail_prefix(subsel_ctx *ctx, int status, const char *fmt, ...)
    SS_PRINTF(3, 4);

/* Checks that a caller's output buffer `name` of `capacity` elements can
 * take the `needed` elements a call (`fn`) is about to write. Called before
 * anything is written, so a refused call leaves the buffer untouched.
 * SUBSEL_E_INVALID with "fn: name has room for C values, N needed" (or "...
 * capacity C is negative"), else SUBSEL_OK. */
int ss_check_capacity(subsel_ctx *ctx, const char *fn, const char *name,
                      int64_t capacity, int64_t needed);

/* Return from the current function if `expr` fails. */
#define SS_CHECK(expr)                                                         \
    do {                                                                       \
        int ss_check_rc_ = (expr);                                             \
        if (SS_UNLIKELY(ss_check_rc_ < 0))                                     \
            return ss_check_rc_;                                               \
    } while (0)

/* Store the status of `expr` in the local `rc` and jump to `cleanup` if it
 * failed. The function declares `int rc = SUBSEL_OK;` and one `cleanup:`. */
#define SS_TRY(expr)                                                           \
    do {                                                                       \
        rc = (expr);                                                           \
        if (SS_UNLIKELY(rc < 0))                                               \
            goto cleanup;                                                      \
    } while (0)

/* Fail with SUBSEL_E_INVALID naming the NULL argument. */
#define SS_REQUIRE_NONNULL(ctx, ptr)                                           \
    do {                                                                       \
        if (SS_UNLIKELY((ptr) == NULL))                                        \
            return ss_fail((ctx), SUBSEL_E_INVALID, "%s: %s is NULL",          \
                           __func__, #ptr);                                    \
    } while (0)

#endif
