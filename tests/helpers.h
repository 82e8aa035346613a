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
/* A new, empty folder `name` in that temporary folder (mode 0700), for a
 * test whose files must be the only ones in their folder; the returned
 * buffer is kept until the next call. */
const char *temp_folder(const char *name);

/* Reads a whole .npy vector through the public API (ck_assert on failure);
 * the caller frees with free(). */
double *read_f64(const char *path, int64_t *count);
int64_t *read_i64(const char *path, int64_t *count);

/* Asserts that two CSR matrices have the same shape and the same entries,
 * bit for bit. */
void assert_csr_equal(const subsel_csr *a, const subsel_csr *b);

/* A random nonnegative n x d CSR of up to per_row entries a row, with a
 * few popular columns (Zipf-like), from `seed`. */
subsel_csr *random_pool(subsel_ctx *ctx, uint64_t seed, int64_t n, int64_t d,
                        int64_t per_row);

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
 * counting_allocator): they count the calls and the live blocks, and fail
 * call number fail_at (counting from 1; 0 or less: never). Safe to use
 * from several threads. */
typedef struct counting_allocator {
    int64_t calls, live, fail_at;
} counting_allocator;
void *counting_allocator_alloc(void *opaque, size_t size, size_t alignment);
void counting_allocator_free(void *opaque, void *ptr);

/* The allocation-failure sweep, the one way the suites fail allocations.
 * alloc_sweep runs `run` once for each n = 1, 2, ... (or every s-th n under
 * SUBSEL_TEST_SWEEP_STRIDE=s) on a fresh context
 * whose allocator (a counting_allocator) fails its n-th allocation,
 * counting the context's own (n = 1 fails the context, and run is not
 * called), until a run succeeds. It asserts, naming `what` and n, that
 * every run returns SUBSEL_OK or SUBSEL_E_NOMEM; that SUBSEL_E_NOMEM comes
 * with a message saying what could not be allocated; that a success never
 * reached its failing allocation (a failed allocation is never ignored);
 * and that nothing is left allocated once the context is freed and then
 * `after` (if not NULL) has run. Returns the number of allocations the
 * successful run made (the context's own not counted), for the caller to
 * check that the sweep reached what it meant to.
 *
 * `run` gets the context, the caller's `arg` and n; it frees everything it
 * made (handles it must free after the context go to `after`), checks its
 * results, and returns its status. The context has its default thread
 * count: a run whose allocations must come in the same order every time
 * sets one thread (SUBSEL_CTX_THREADS). */
typedef int (*alloc_sweep_fn)(subsel_ctx *ctx, void *arg, int64_t n);
int64_t alloc_sweep(const char *what, alloc_sweep_fn run,
                    void (*after)(void *arg), void *arg);

/* A progress callback (opaque: a progress_log) that checks the promise
 * every long call makes: stages nest (a stage may run whole inside another
 * one, never interleave with it), each run of a stage starts at done = 0,
 * keeps its total, never goes back, and ends with done == total exactly
 * once. A total of 0 is unknown (a stream): the stage then keeps it until
 * its last report gives the final total, with done == total. The first
 * violation is kept in `error` ("" when none); `open` is the number of
 * stages started and not ended; `calls` counts every report. Calls for the
 * stage named `ignore` (if not NULL) are not checked. With cancel_at set,
 * the callback cancels at the cancel_at-th report (1: the first) of the
 * stage cancel_stage, or of any stage when cancel_stage is NULL. */
#define PROGRESS_LOG_STAGES 32
typedef struct progress_log {
    const char *ignore;
    const char *cancel_stage;
    int64_t cancel_at;
    int64_t calls;
    int open;
    char stack[8][40];
    int64_t last[8], stack_total[8];
    char error[512];
    /* every stage name seen in order, with its number of reports, of
     * completed runs, and the done and total of its last report */
    int stages;
    char name[PROGRESS_LOG_STAGES][40];
    int64_t reports[PROGRESS_LOG_STAGES], ended[PROGRESS_LOG_STAGES];
    int64_t done[PROGRESS_LOG_STAGES], total[PROGRESS_LOG_STAGES];
} progress_log;
int progress_log_fn(void *user, const char *stage, int64_t done,
                    int64_t total);
/* Empties a log, keeping ignore and the cancel settings. */
void progress_log_reset(progress_log *log);
/* Reports of `stage` seen so far (0 if none). */
int64_t progress_log_reports(const progress_log *log, const char *stage);
/* Asserts that the log has no violation and no stage left open. */
void progress_log_assert_clean(const progress_log *log, const char *what);

#endif
