/* SPDX-License-Identifier: MIT */
/*
 * Shared test helpers: paths to fixtures and test data, a context per test,
 * assertions on status codes that print the context's message.
 */
#ifndef SS_TESTS_HELPERS_H
#define SS_TESTS_HELPERS_H

#include <check.h>
#include <stdint.h>

#include "subsel.h"

/* Absolute path of a file under tests/fixtures/ (the copy of
 * ../shared/fixtures) or tests/data/; a static buffer per call site kind. */
const char *fixture_path(const char *relative);
const char *data_path(const char *relative);
/* A fresh path in a per-process temporary folder, removed at exit. */
const char *temp_path(const char *name);

/* Reads a whole .npy vector through the public API (ck_assert on failure);
 * the caller frees with free(). */
double *read_f64(const char *path, int64_t *count);
int64_t *read_i64(const char *path, int64_t *count);

#define ck_assert_ok(ctx, expr)                                                \
    do {                                                                       \
        int ck_rc_ = (expr);                                                   \
        ck_assert_msg(ck_rc_ == SUBSEL_OK, "%s failed: %d (%s)", #expr,        \
                      ck_rc_, subsel_ctx_last_error(ctx));                     \
    } while (0)

#define ck_assert_status(ctx, expr, want)                                      \
    do {                                                                       \
        int ck_rc_ = (expr);                                                   \
        ck_assert_msg(ck_rc_ == (want), "%s returned %d, wanted %d (%s)",      \
                      #expr, ck_rc_, (want), subsel_ctx_last_error(ctx));      \
    } while (0)

/* Hooks for subsel_ctx_create_with_allocator() (opaque: a
 * counting_allocator) for allocation-failure sweeps: they count the calls
 * and the live blocks, and fail call number fail_at (counting from 1; 0 or
 * less: never). */
typedef struct counting_allocator {
    int64_t calls, live, fail_at;
} counting_allocator;
void *counting_allocator_alloc(void *opaque, size_t size, size_t alignment);
void counting_allocator_free(void *opaque, void *ptr);

#endif
