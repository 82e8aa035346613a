/* SPDX-License-Identifier: MIT */
/*
 * Matrices built from caller arrays: validation with precise messages,
 * copy and borrow semantics, accessors, column sums; progress and
 * cancellation of validation and of SDM's target sums.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers.h"
#include "tests/suites.h"

/* 3 x 4:
 *   [1 0 2 0]
 *   [0 0 0 0]
 *   [0 3 0 4] */
static const int64_t ip[] = {0, 2, 2, 4};
static const int32_t ix[] = {0, 2, 1, 3};
static const float vals[] = {1, 2, 3, 4};

static subsel_ctx *new_ctx(void)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    return ctx;
}

START_TEST(csr_create_copy_and_accessors)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *m;
    const int32_t *ri;
    const float *rv;
    int64_t n;
    double sums[4];
    int64_t ip2[4];
    memcpy(ip2, ip, sizeof ip);
    ck_assert_ok(ctx, subsel_csr_create(ctx, 3, 4, ip2, ix, vals, SUBSEL_COPY, &m));
    ip2[1] = 99; /* a copy does not see later changes */
    ck_assert_int_eq(subsel_csr_rows(m), 3);
    ck_assert_int_eq(subsel_csr_cols(m), 4);
    ck_assert_int_eq(subsel_csr_nnz(m), 4);
    ck_assert_int_eq(subsel_csr_row(m, 2, &ri, &rv, &n), SUBSEL_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ri[0], 1);
    ck_assert_float_eq(rv[1], 4.0f);
    ck_assert_int_eq(subsel_csr_row(m, 1, &ri, &rv, &n), SUBSEL_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(subsel_csr_row(m, 3, &ri, &rv, &n), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_csr_row(m, -1, &ri, &rv, &n), SUBSEL_E_INVALID);
    ck_assert_ok(ctx, subsel_csr_column_sums(ctx, m, sums));
    ck_assert_double_eq(sums[0], 1);
    ck_assert_double_eq(sums[1], 3);
    ck_assert_double_eq(sums[2], 2);
    ck_assert_double_eq(sums[3], 4);
    subsel_csr_free(m);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(csr_borrow_shares_caller_arrays)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *m;
    const int32_t *ri;
    const float *rv;
    int64_t n;
    ck_assert_ok(ctx, subsel_csr_create(ctx, 3, 4, ip, ix, vals, SUBSEL_BORROW, &m));
    ck_assert_int_eq(subsel_csr_row(m, 0, &ri, &rv, &n), SUBSEL_OK);
    ck_assert_ptr_eq(ri, ix);
    ck_assert_ptr_eq(rv, vals);
    subsel_ctx_free(ctx); /* a matrix may outlive its context */
    subsel_csr_free(m);
}
END_TEST

START_TEST(csr_empty_shapes)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *m;
    const int64_t zero[1] = {0};
    ck_assert_ok(ctx, subsel_csr_create(ctx, 0, 0, zero, NULL, NULL, SUBSEL_COPY, &m));
    ck_assert_int_eq(subsel_csr_nnz(m), 0);
    subsel_csr_free(m);
    subsel_csr_free(NULL);
    ck_assert_int_eq(subsel_csr_rows(NULL), 0);
    subsel_ctx_free(ctx);
}
END_TEST

typedef struct {
    const char *what;
    int64_t rows, cols;
    int64_t ip[4];
    int32_t ix[4];
    float v[4];
    int status;
    const char *message;
} bad_csr;

START_TEST(csr_validation_messages)
{
    static const bad_csr cases[] = {
        {"indptr[0] != 0", 3, 4, {1, 2, 2, 4}, {0, 2, 1, 3}, {1, 2, 3, 4}, SUBSEL_E_FORMAT, "start at 0"},
        {"decreasing", 3, 4, {0, 2, 1, 4}, {0, 2, 1, 3}, {1, 2, 3, 4}, SUBSEL_E_FORMAT, "decrease at row 1"},
        /* row 0 would reach past the 4 entries: reported, not read */
        {"past the end", 3, 4, {0, 5, 2, 4}, {0, 1, 2, 3}, {1, 2, 3, 4}, SUBSEL_E_FORMAT, "decrease at row 1 (5 then 2)"},
        {"out of range", 3, 4, {0, 2, 2, 4}, {0, 4, 1, 3}, {1, 2, 3, 4}, SUBSEL_E_FORMAT, "column index 4 out of range [0, 4) in row 0"},
        {"negative col", 3, 4, {0, 2, 2, 4}, {-1, 2, 1, 3}, {1, 2, 3, 4}, SUBSEL_E_FORMAT, "column index -1"},
        {"unsorted", 3, 4, {0, 2, 2, 4}, {2, 0, 1, 3}, {1, 2, 3, 4}, SUBSEL_E_FORMAT, "unsorted"},
        {"duplicate", 3, 4, {0, 2, 2, 4}, {0, 2, 3, 3}, {1, 2, 3, 4}, SUBSEL_E_FORMAT, "duplicated"},
        {"nan", 3, 4, {0, 2, 2, 4}, {0, 2, 1, 3}, {1, 2, NAN, 4}, SUBSEL_E_NUMERIC, "value at row 2, column 1 (entry 2) is not finite"},
        {"inf", 3, 4, {0, 2, 2, 4}, {0, 2, 1, 3}, {1, INFINITY, 3, 4}, SUBSEL_E_NUMERIC, "not finite"},
        {"negative rows", -1, 4, {0, 2, 2, 4}, {0, 2, 1, 3}, {1, 2, 3, 4}, SUBSEL_E_INVALID, "negative"},
        {"cols > int32", 3, (int64_t)INT32_MAX + 1, {0, 2, 2, 4}, {0, 2, 1, 3}, {1, 2, 3, 4}, SUBSEL_E_INVALID, "int32"},
    };
    size_t i;
    subsel_ctx *ctx = new_ctx();
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        subsel_csr *m = (subsel_csr *)ctx; /* must come back NULL */
        int rc = subsel_csr_create(ctx, cases[i].rows, cases[i].cols, cases[i].ip,
                                   cases[i].ix, cases[i].v, SUBSEL_COPY, &m);
        ck_assert_msg(rc == cases[i].status, "%s: status %d", cases[i].what, rc);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(subsel_ctx_last_error(ctx), cases[i].message) != NULL,
                      "%s: message '%s'", cases[i].what, subsel_ctx_last_error(ctx));
    }
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(csr_null_and_flag_arguments)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *m;
    ck_assert_int_eq(subsel_csr_create(NULL, 3, 4, ip, ix, vals, SUBSEL_COPY, &m), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_csr_create(ctx, 3, 4, ip, ix, vals, SUBSEL_COPY, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_csr_create(ctx, 3, 4, NULL, ix, vals, SUBSEL_COPY, &m), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "indptr is NULL"));
    ck_assert_status(ctx, subsel_csr_create(ctx, 3, 4, ip, NULL, vals, SUBSEL_COPY, &m), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_csr_create(ctx, 3, 4, ip, ix, vals, 7, &m), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_csr_column_sums(ctx, NULL, NULL), SUBSEL_E_INVALID);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(dense_create_and_from_dense)
{
    static const float d[12] = {1, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 4};
    static const double d64[6] = {1.5, -2, 3, 1e30, 0, 7};
    subsel_ctx *ctx = new_ctx();
    subsel_dense *m, *m64;
    subsel_csr *c;
    double sums[4];
    const int32_t *ri;
    const float *rv;
    int64_t n, r;
    ck_assert_ok(ctx, subsel_dense_create(ctx, 3, 4, d, SUBSEL_COPY, &m));
    ck_assert_int_eq(subsel_dense_rows(m), 3);
    ck_assert_int_eq(subsel_dense_cols(m), 4);
    ck_assert_ptr_ne(subsel_dense_data(m), d);
    ck_assert_float_eq(subsel_dense_row(m, 2)[3], 4.0f);
    ck_assert_ptr_null(subsel_dense_row(m, 3));
    ck_assert_ok(ctx, subsel_dense_column_sums(ctx, m, sums));
    ck_assert_double_eq(sums[1], 3.0);
    ck_assert_ok(ctx, subsel_csr_from_dense(ctx, m, &c));
    ck_assert_int_eq(subsel_csr_nnz(c), 4);
    for (r = 0; r < 3; r++) {
        ck_assert_int_eq(subsel_csr_row(c, r, &ri, &rv, &n), SUBSEL_OK);
        ck_assert_int_eq(n, ip[r + 1] - ip[r]);
        if (n)
            ck_assert_int_eq(memcmp(ri, ix + ip[r], (size_t)n * sizeof *ri), 0);
    }
    subsel_csr_free(c);
    subsel_dense_free(m);
    ck_assert_ok(ctx, subsel_dense_create(ctx, 3, 4, d, SUBSEL_BORROW, &m));
    ck_assert_ptr_eq(subsel_dense_data(m), d);
    subsel_dense_free(m);
    ck_assert_ok(ctx, subsel_dense_create_f64(ctx, 2, 3, d64, &m64));
    ck_assert_float_eq(subsel_dense_row(m64, 1)[0], 1e30f);
    subsel_dense_free(m64);
    subsel_dense_free(NULL);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(dense_rejects_bad_values_and_shapes)
{
    static const float nan_data[2] = {1, NAN};
    static const double big[2] = {1, 1e300};
    subsel_ctx *ctx = new_ctx();
    subsel_dense *m = (subsel_dense *)ctx;
    ck_assert_status(ctx, subsel_dense_create(ctx, 1, 2, nan_data, SUBSEL_COPY, &m), SUBSEL_E_NUMERIC);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "row 0, column 1"));
    ck_assert_status(ctx, subsel_dense_create_f64(ctx, 1, 2, big, &m), SUBSEL_E_NUMERIC);
    ck_assert_status(ctx, subsel_dense_create(ctx, -2, 2, nan_data, SUBSEL_COPY, &m), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_dense_create(ctx, INT64_MAX / 2, 4, nan_data, SUBSEL_COPY, &m), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_dense_create(ctx, 2, 2, NULL, SUBSEL_COPY, &m), SUBSEL_E_INVALID);
    ck_assert_ok(ctx, subsel_dense_create(ctx, 0, 5, NULL, SUBSEL_COPY, &m));
    subsel_dense_free(m);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Progress and cancellation                                                */
/* ------------------------------------------------------------------------ */

/* rows x 4 with one entry per row: rows plus entries make a few blocks. */
typedef struct tall_csr {
    int64_t rows, *ip;
    int32_t *ix;
    float *v;
} tall_csr;

static tall_csr make_tall(int64_t rows)
{
    tall_csr t;
    int64_t r;
    t.rows = rows;
    t.ip = malloc(sizeof *t.ip * (size_t)(rows + 1));
    t.ix = malloc(sizeof *t.ix * (size_t)rows);
    t.v = malloc(sizeof *t.v * (size_t)rows);
    ck_assert(t.ip && t.ix && t.v);
    t.ip[0] = 0;
    for (r = 0; r < rows; r++) {
        t.ix[r] = (int32_t)(r % 4);
        t.v[r] = (float)(1 + r % 3);
        t.ip[r + 1] = r + 1;
    }
    return t;
}

static void free_tall(tall_csr *t)
{
    free(t->ip);
    free(t->ix);
    free(t->v);
}

START_TEST(csr_validation_reports_progress_and_cancels)
{
    counting_allocator counts = {0, 0, 0};
    tall_csr t = make_tall(1500000);
    subsel_ctx *ctx;
    subsel_csr *m;
    progress_log log;
    int64_t live;

    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_allocator_alloc,
                                                      counting_allocator_free, &counts),
                     SUBSEL_OK);
    memset(&log, 0, sizeof log);
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, progress_log_fn, &log));
    ck_assert_ok(ctx, subsel_csr_create(ctx, t.rows, 4, t.ip, t.ix, t.v, SUBSEL_COPY, &m));
    subsel_csr_free(m);
    progress_log_assert_clean(&log, "validate");
    ck_assert_int_eq(log.stages, 1);
    ck_assert_str_eq(log.name[0], "validate");
    ck_assert_int_ge(log.calls, 3);
    ck_assert_int_eq(log.total[0], t.rows);
    ck_assert_int_eq(log.ended[0], 1);
    /* cancelled on the second report: between blocks */
    memset(&log, 0, sizeof log);
    log.cancel_at = 2;
    live = counts.live;
    m = (subsel_csr *)ctx;
    ck_assert_status(ctx, subsel_csr_create(ctx, t.rows, 4, t.ip, t.ix, t.v, SUBSEL_COPY, &m),
                     SUBSEL_E_CANCELLED);
    ck_assert_ptr_null(m);
    ck_assert_int_lt(log.done[0], t.rows);
    ck_assert_int_eq(counts.live, live);
    subsel_ctx_free(ctx);
    ck_assert_int_eq(counts.live, 0);
    free_tall(&t);
}
END_TEST

START_TEST(sdm_target_reports_progress_and_cancels)
{
    subsel_ctx *ctx = new_ctx();
    tall_csr t = make_tall(1500000);
    const double skewed[4] = {0.7, 0.1, 0.1, 0.1};
    const int64_t pick[2] = {0, 1};
    subsel_csr *source, *target;
    subsel_objective *f;
    progress_log log;
    double kl_before, kl_after;

    ck_assert_ok(ctx, subsel_csr_create(ctx, 3, 4, ip, ix, vals, SUBSEL_BORROW, &source));
    ck_assert_ok(ctx, subsel_csr_create(ctx, t.rows, 4, t.ip, t.ix, t.v, SUBSEL_BORROW, &target));
    ck_assert_ok(ctx, subsel_sdm_create(ctx, source, &f));
    memset(&log, 0, sizeof log);
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, progress_log_fn, &log));
    ck_assert_ok(ctx, subsel_sdm_set_target(ctx, f, target));
    progress_log_assert_clean(&log, "target");
    ck_assert_int_eq(log.stages, 1);
    ck_assert_str_eq(log.name[0], "target");
    ck_assert_int_ge(log.calls, 3);
    ck_assert_int_eq(log.total[0], t.rows);
    ck_assert_int_eq(log.ended[0], 1);
    /* a cancelled call leaves the target it had */
    ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, f, skewed, 4));
    ck_assert_ok(ctx, subsel_sdm_kl(ctx, f, pick, 2, &kl_before));
    memset(&log, 0, sizeof log);
    log.cancel_at = 2;
    ck_assert_status(ctx, subsel_sdm_set_target(ctx, f, target), SUBSEL_E_CANCELLED);
    ck_assert_ok(ctx, subsel_sdm_kl(ctx, f, pick, 2, &kl_after));
    ck_assert_double_eq(kl_after, kl_before);
    subsel_objective_free(f);
    subsel_csr_free(target);
    subsel_csr_free(source);
    subsel_ctx_free(ctx);
    free_tall(&t);
}
END_TEST

Suite *matrix_suite(void)
{
    Suite *s = suite_create("matrix");
    TCase *tc = tcase_create("csr");
    tcase_add_test(tc, csr_create_copy_and_accessors);
    tcase_add_test(tc, csr_borrow_shares_caller_arrays);
    tcase_add_test(tc, csr_empty_shapes);
    tcase_add_test(tc, csr_validation_messages);
    tcase_add_test(tc, csr_null_and_flag_arguments);
    suite_add_tcase(s, tc);
    tc = tcase_create("dense");
    tcase_add_test(tc, dense_create_and_from_dense);
    tcase_add_test(tc, dense_rejects_bad_values_and_shapes);
    suite_add_tcase(s, tc);
    tc = tcase_create("progress");
    tcase_add_test(tc, csr_validation_reports_progress_and_cancels);
    tcase_add_test(tc, sdm_target_reports_progress_and_cancels);
    suite_add_tcase(s, tc);
    return s;
}
