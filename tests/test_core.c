/* SPDX-License-Identifier: MIT */
/*
 * Core: status strings, version, context options and bounds, allocator
 * hooks, progress callback and error messages, RNG.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/ctx.h"
#include "core/error.h"
#include "core/rng.h"
#include "tests/helpers.h"
#include "tests/suites.h"

START_TEST(status_strings_are_distinct_and_total)
{
    int a, b;
    for (a = SUBSEL_E_STATE; a <= SUBSEL_OK; a++) {
        ck_assert_ptr_nonnull(subsel_status_string(a));
        ck_assert_str_ne(subsel_status_string(a), "unknown status");
        for (b = a + 1; b <= SUBSEL_OK; b++)
            ck_assert_str_ne(subsel_status_string(a), subsel_status_string(b));
    }
    ck_assert_str_eq(subsel_status_string(-99), "unknown status");
    ck_assert_str_eq(subsel_status_string(5), "unknown status");
}
END_TEST

START_TEST(status_numbers_are_fixed)
{
    /* These numbers are ABI: they must never change. */
    ck_assert_int_eq(SUBSEL_OK, 0);
    ck_assert_int_eq(SUBSEL_E_INVALID, -1);
    ck_assert_int_eq(SUBSEL_E_NOMEM, -2);
    ck_assert_int_eq(SUBSEL_E_IO, -3);
    ck_assert_int_eq(SUBSEL_E_FORMAT, -4);
    ck_assert_int_eq(SUBSEL_E_NUMERIC, -5);
    ck_assert_int_eq(SUBSEL_E_UNSUPPORTED, -6);
    ck_assert_int_eq(SUBSEL_E_CANCELLED, -7);
    ck_assert_int_eq(SUBSEL_E_STATE, -8);
}
END_TEST

START_TEST(version_matches_header)
{
    ck_assert_int_eq(subsel_version_number(), SUBSEL_VERSION_NUMBER);
    ck_assert_str_eq(subsel_version_string(), SUBSEL_VERSION_STRING);
    ck_assert_ptr_nonnull(strstr(subsel_build_info(), SUBSEL_VERSION_STRING));
    ck_assert_ptr_nonnull(strstr(subsel_build_info(), "scalar"));
    ck_assert_ptr_nonnull(strstr(subsel_build_info(), "openmp=yes"));
}
END_TEST

START_TEST(ctx_defaults_follow_bounds)
{
    static const int params[] = {SUBSEL_CTX_THREADS, SUBSEL_CTX_SEED,
                                 SUBSEL_CTX_MAX_ISA};
    subsel_ctx *ctx;
    size_t i;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    for (i = 0; i < sizeof params / sizeof params[0]; i++) {
        int64_t lo, hi, def, v;
        ck_assert_int_eq(subsel_ctx_param_bounds(params[i], &lo, &hi, &def), SUBSEL_OK);
        ck_assert(lo <= def && def <= hi);
        ck_assert_int_eq(subsel_ctx_get_int(ctx, params[i], &v), SUBSEL_OK);
        ck_assert_int_eq(v, def);
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, params[i], hi));
        ck_assert_int_eq(subsel_ctx_get_int(ctx, params[i], &v), SUBSEL_OK);
        ck_assert_int_eq(v, hi);
        if (lo > INT64_MIN)
            ck_assert_status(ctx, subsel_ctx_set_int(ctx, params[i], lo - 1), SUBSEL_E_INVALID);
        if (hi < INT64_MAX)
            ck_assert_status(ctx, subsel_ctx_set_int(ctx, params[i], hi + 1), SUBSEL_E_INVALID);
        /* a refused value leaves the option as it was */
        ck_assert_int_eq(subsel_ctx_get_int(ctx, params[i], &v), SUBSEL_OK);
        ck_assert_int_eq(v, hi);
    }
    ck_assert_int_eq(subsel_ctx_param_bounds(999, NULL, NULL, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_ctx_set_int(ctx, 999, 1), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "unknown option"));
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(ctx_null_arguments)
{
    int64_t v;
    ck_assert_int_eq(subsel_ctx_create(NULL), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_ctx_set_int(NULL, SUBSEL_CTX_SEED, 1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_ctx_get_int(NULL, SUBSEL_CTX_SEED, &v), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_ctx_set_progress(NULL, NULL, NULL), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(subsel_ctx_last_error(NULL));
    ck_assert_int_eq(subsel_ctx_threads(NULL), 1);
    subsel_ctx_free(NULL);
}
END_TEST

START_TEST(ctx_threads_and_isa)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_int_ge(subsel_ctx_threads(ctx), 1);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 3));
    ck_assert_int_eq(subsel_ctx_threads(ctx), 3);
    ck_assert_int_eq(ss_threads_for(ctx, 2), 2);
    ck_assert_int_eq(ss_threads_for(ctx, 0), 1);
    ck_assert_int_eq(subsel_ctx_isa(ctx), subsel_isa_selected());
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_MAX_ISA, SUBSEL_ISA_SCALAR));
    ck_assert_int_eq(subsel_ctx_isa(ctx), SUBSEL_ISA_SCALAR);
    subsel_ctx_free(ctx);
}
END_TEST

/* A counting allocator that can be told to fail. */
typedef struct {
    int64_t live, calls, fail_at;
    size_t last_alignment;
} counting;

static void *counting_alloc(void *opaque, size_t size, size_t alignment)
{
    counting *c = opaque;
    void *p = NULL;
    if (++c->calls == c->fail_at)
        return NULL;
    c->last_alignment = alignment;
    if (posix_memalign(&p, alignment, size) != 0)
        return NULL;
    c->live++;
    return p;
}

static void counting_free(void *opaque, void *ptr)
{
    counting *c = opaque;
    c->live--;
    free(ptr);
}

START_TEST(allocator_hooks_see_every_allocation)
{
    counting c = {0, 0, 0, 0};
    subsel_ctx *ctx;
    void *p;
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_alloc, counting_free, &c), SUBSEL_OK);
    ck_assert_int_eq(c.live, 1);
    ck_assert_ok(ctx, ss_alloc_array(ctx, 100, sizeof(double), &p));
    ck_assert_int_eq(c.live, 2);
    ck_assert_uint_eq((uintptr_t)p % SS_ALIGNMENT, 0);
    ck_assert_uint_ge(c.last_alignment, SS_ALIGNMENT);
    ss_free(ctx, p);
    ck_assert_int_eq(c.live, 1);
    subsel_ctx_free(ctx);
    ck_assert_int_eq(c.live, 0);
}
END_TEST

START_TEST(allocator_failure_is_nomem)
{
    counting c = {0, 0, 1, 0};
    subsel_ctx *ctx = (subsel_ctx *)&c; /* must be reset to NULL */
    void *p;
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_alloc, counting_free, &c), SUBSEL_E_NOMEM);
    ck_assert_ptr_null(ctx);
    c.calls = 0;
    c.fail_at = 2;
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_alloc, counting_free, &c), SUBSEL_OK);
    ck_assert_status(ctx, ss_alloc_array(ctx, 8, 8, &p), SUBSEL_E_NOMEM);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "cannot allocate"));
    subsel_ctx_free(ctx);
    ck_assert_int_eq(c.live, 0);
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, NULL, counting_free, &c), SUBSEL_E_INVALID);
}
END_TEST

START_TEST(overflowing_sizes_are_refused)
{
    subsel_ctx *ctx;
    void *p;
    size_t s;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_status(ctx, ss_alloc_array(ctx, INT64_MAX, 16, &p), SUBSEL_E_INVALID);
    ck_assert_status(ctx, ss_alloc_array(ctx, -1, 1, &p), SUBSEL_E_INVALID);
    ck_assert_int_eq(ss_mul_size(INT64_MAX / 2, 16, &s), 0);
    ck_assert_int_eq(ss_mul_size(3, 4, &s), 1);
    ck_assert_uint_eq(s, 12);
    subsel_ctx_free(ctx);
}
END_TEST

static int cancel_after(void *user, const char *stage, int64_t done, int64_t total)
{
    int64_t *limit = user;
    (void)stage;
    (void)total;
    return done >= *limit;
}

START_TEST(progress_can_cancel)
{
    subsel_ctx *ctx;
    int64_t limit = 3;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_int_eq(ss_progress(ctx, "x", 5, 10), SUBSEL_OK); /* no callback */
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, cancel_after, &limit));
    ck_assert_int_eq(ss_progress(ctx, "select", 2, 10), SUBSEL_OK);
    ck_assert_int_eq(ss_progress(ctx, "select", 3, 10), SUBSEL_E_CANCELLED);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "select"));
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, NULL, NULL));
    ck_assert_int_eq(ss_progress(ctx, "select", 3, 10), SUBSEL_OK);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(error_message_prefix)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_str_eq(subsel_ctx_last_error(ctx), "");
    ck_assert_int_eq(ss_fail(ctx, SUBSEL_E_FORMAT, "bad %d", 7), SUBSEL_E_FORMAT);
    ck_assert_int_eq(ss_fail_prefix(ctx, SUBSEL_E_FORMAT, "file %s", "a.npy"), SUBSEL_E_FORMAT);
    ck_assert_str_eq(subsel_ctx_last_error(ctx), "file a.npy: bad 7");
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(rng_is_reproducible_and_uniform)
{
    ss_rng a, b, c;
    int64_t counts[10] = {0};
    int i;
    double mean = 0, var = 0;
    ss_rng_seed(&a, 42, 0);
    ss_rng_seed(&b, 42, 0);
    ss_rng_seed(&c, 42, 1);
    for (i = 0; i < 100; i++) {
        uint64_t x = ss_rng_next(&a);
        ck_assert_uint_eq(x, ss_rng_next(&b));
    }
    ck_assert_uint_ne(ss_rng_next(&a), ss_rng_next(&c));
    for (i = 0; i < 100000; i++)
        counts[ss_rng_below(&a, 10)]++;
    for (i = 0; i < 10; i++) /* 5 sigma of a binomial(1e5, 0.1) */
        ck_assert_int_lt(labs((long)(counts[i] - 10000)), 475);
    for (i = 0; i < 100000; i++) {
        double z = ss_rng_normal(&a);
        mean += z;
        var += z * z;
    }
    mean /= 100000;
    var = var / 100000 - mean * mean;
    ck_assert_double_lt(mean < 0 ? -mean : mean, 0.02);
    ck_assert_double_lt(var < 1 ? 1 - var : var - 1, 0.03);
}
END_TEST

Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, status_strings_are_distinct_and_total);
    tcase_add_test(tc, status_numbers_are_fixed);
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, error_message_prefix);
    suite_add_tcase(s, tc);

    tc = tcase_create("context");
    tcase_add_test(tc, ctx_defaults_follow_bounds);
    tcase_add_test(tc, ctx_null_arguments);
    tcase_add_test(tc, ctx_threads_and_isa);
    tcase_add_test(tc, progress_can_cancel);
    suite_add_tcase(s, tc);

    tc = tcase_create("alloc");
    tcase_add_test(tc, allocator_hooks_see_every_allocation);
    tcase_add_test(tc, allocator_failure_is_nomem);
    tcase_add_test(tc, overflowing_sizes_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("rng");
    tcase_add_test(tc, rng_is_reproducible_and_uniform);
    suite_add_tcase(s, tc);
    return s;
}
