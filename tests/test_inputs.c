/* SPDX-License-Identifier: MIT */
/*
 * Inputs as the ecosystems hold them (issue 10, point 6): SciPy CSR arrays
 * with int32 or int64 index pairs used without a copy, float64 and float16
 * values converted once and selecting as float32 does, strided dense rows
 * borrowed as they are and giving the packed results in every method that
 * takes dense input, the float16 converter on special values and every
 * bit pattern, the sparse kernels of both index widths bit for bit, and
 * the refusals (dtypes, strides, misaligned arrays) with their messages.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/rng.h"
#include "dispatch/dispatch.h"
#include "kernels/kernels.h"
#include "matrix/matrix.h"
#include "tests/helpers.h"
#include "tests/suites.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Allocator hooks that record the largest block asked for: an array the
 * library copied would show up as a block of at least its size. */
typedef struct size_log {
    size_t largest;
    int64_t live;
} size_log;

static void *log_alloc(void *opaque, size_t size, size_t alignment)
{
    size_log *l = opaque;
    void *p = NULL;
    if (posix_memalign(&p, alignment, size ? size : 1) != 0)
        return NULL;
    if (size > l->largest)
        l->largest = size;
    l->live++;
    return p;
}

static void log_free(void *opaque, void *p)
{
    size_log *l = opaque;
    if (p != NULL) {
        l->live--;
        free(p);
    }
}

static subsel_ctx *new_ctx(void)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    return ctx;
}

static subsel_ctx *logged_ctx(size_log *log)
{
    subsel_ctx *ctx;
    memset(log, 0, sizeof *log);
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, log_alloc, log_free, log),
                     SUBSEL_OK);
    return ctx;
}

static void assert_message(subsel_ctx *ctx, const char *want)
{
    ck_assert_msg(strstr(subsel_ctx_last_error(ctx), want) != NULL,
                  "message '%s' lacks '%s'", subsel_ctx_last_error(ctx), want);
}

/* The half whose value is k / 8 (k in [0, 64]), found by the converter
 * itself: every such value is exact in float16, so float32 input of the
 * same values must select the same items. */
static uint16_t half_of_eighths(int k)
{
    static uint16_t table[65];
    static int ready;
    if (!ready) {
        uint32_t h;
        for (h = 0; h < 0x7c00; h++) {
            float f = ss_half_to_float((uint16_t)h);
            if (f * 8.0f == floorf(f * 8.0f) && f * 8.0f <= 64.0f)
                table[(int)(f * 8.0f)] = (uint16_t)h;
        }
        ready = 1;
    }
    ck_assert(k == 0 || table[k] != 0);
    return table[k];
}

/* A SciPy-shaped CSR pool in every dtype: rows x cols, each entry present
 * with probability 1/4, values k / 8 for k in [1, 64]. */
typedef struct pool {
    int64_t rows, cols, nnz;
    int32_t *ip32, *ix32;
    int64_t *ip64, *ix64;
    float *v32;
    double *v64;
    uint16_t *v16;
} pool;

static pool make_pool(int64_t rows, int64_t cols, uint64_t seed)
{
    pool p;
    ss_rng rng;
    int64_t r, c, k = 0;
    ss_rng_seed(&rng, seed, 0);
    memset(&p, 0, sizeof p);
    p.rows = rows;
    p.cols = cols;
    p.ip32 = malloc(sizeof *p.ip32 * (size_t)(rows + 1));
    p.ip64 = malloc(sizeof *p.ip64 * (size_t)(rows + 1));
    p.ix32 = malloc(sizeof *p.ix32 * (size_t)(rows * cols + 1));
    p.ix64 = malloc(sizeof *p.ix64 * (size_t)(rows * cols + 1));
    p.v32 = malloc(sizeof *p.v32 * (size_t)(rows * cols + 1));
    p.v64 = malloc(sizeof *p.v64 * (size_t)(rows * cols + 1));
    p.v16 = malloc(sizeof *p.v16 * (size_t)(rows * cols + 1));
    ck_assert(p.ip32 && p.ip64 && p.ix32 && p.ix64 && p.v32 && p.v64 && p.v16);
    p.ip32[0] = 0;
    p.ip64[0] = 0;
    for (r = 0; r < rows; r++) {
        for (c = 0; c < cols; c++) {
            int eighths;
            if (ss_rng_below(&rng, 4) != 0)
                continue;
            eighths = 1 + (int)ss_rng_below(&rng, 64);
            p.ix32[k] = (int32_t)c;
            p.ix64[k] = c;
            p.v32[k] = (float)eighths / 8.0f;
            p.v64[k] = (double)eighths / 8.0;
            p.v16[k] = half_of_eighths(eighths);
            k++;
        }
        p.ip32[r + 1] = (int32_t)k;
        p.ip64[r + 1] = k;
    }
    p.nnz = k;
    return p;
}

static void free_pool(pool *p)
{
    free(p->ip32);
    free(p->ip64);
    free(p->ix32);
    free(p->ix64);
    free(p->v32);
    free(p->v64);
    free(p->v16);
}

/* A selection of `budget` items by `algorithm`. */
static subsel_selection *run_optimizer(subsel_ctx *ctx, const subsel_objective *f,
                                       int algorithm, int64_t budget)
{
    subsel_optimizer *opt;
    subsel_selection *sel;
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, algorithm, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, budget));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
    subsel_optimizer_free(opt);
    return sel;
}

/* Stochastic greedy (the kernels' gains) on a feature-based function. */
static subsel_selection *select_fb(subsel_ctx *ctx, const subsel_csr *z)
{
    subsel_objective *f;
    subsel_selection *sel;
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0, NULL, &f));
    sel = run_optimizer(ctx, f, SUBSEL_OPT_STOCHASTIC, 40);
    subsel_objective_free(f);
    return sel;
}

/* Same items, gains and value, bit for bit. */
static void assert_same_selection(const subsel_selection *a,
                                  const subsel_selection *b, const char *what)
{
    int64_t n = subsel_selection_count(a);
    double va = subsel_selection_value(a), vb = subsel_selection_value(b);
    ck_assert_msg(n == subsel_selection_count(b), "%s: %lld vs %lld items", what,
                  (long long)n, (long long)subsel_selection_count(b));
    ck_assert_msg(memcmp(subsel_selection_indices(a), subsel_selection_indices(b),
                         (size_t)n * sizeof(int64_t)) == 0,
                  "%s: other items", what);
    ck_assert_msg(memcmp(subsel_selection_gains(a), subsel_selection_gains(b),
                         (size_t)n * sizeof(double)) == 0,
                  "%s: other gains", what);
    ck_assert_msg(memcmp(&va, &vb, sizeof va) == 0 || (isnan(va) && isnan(vb)),
                  "%s: value %.17g vs %.17g", what, va, vb);
}

/* Two matrices with the same rows, entries and values. */
static void assert_same_csr(const subsel_csr *a, const subsel_csr *b)
{
    int64_t r;
    ck_assert_int_eq(subsel_csr_rows(a), subsel_csr_rows(b));
    ck_assert_int_eq(subsel_csr_cols(a), subsel_csr_cols(b));
    ck_assert_int_eq(subsel_csr_nnz(a), subsel_csr_nnz(b));
    for (r = 0; r < subsel_csr_rows(a); r++) {
        int64_t sa, ea, sb, eb, k;
        ss_csr_range(a, r, &sa, &ea);
        ss_csr_range(b, r, &sb, &eb);
        ck_assert_int_eq(ea - sa, eb - sb);
        for (k = 0; k < ea - sa; k++) {
            ck_assert_int_eq(ss_csr_col(a, sa + k), ss_csr_col(b, sb + k));
            ck_assert(a->values[sa + k] == b->values[sb + k]);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* CSR: zero-copy SciPy arrays                                              */
/* ------------------------------------------------------------------------ */

START_TEST(scipy_int32_arrays_are_borrowed_without_copy)
{
    pool p = make_pool(2000, 64, 1);
    size_log log;
    subsel_ctx *ctx = logged_ctx(&log);
    subsel_csr *m;
    const void *ix;
    const float *v;
    int64_t n;
    ck_assert_ok(ctx, subsel_csr_create_v2(ctx, p.rows, p.cols, p.ip32, p.ix32,
                                           SUBSEL_DTYPE_INT32, p.v32,
                                           SUBSEL_DTYPE_FLOAT32, SUBSEL_BORROW, &m));
    /* the handle reads the caller's arrays where they are */
    ck_assert_int_eq(m->ptr64, 0);
    ck_assert_int_eq(m->idx64, 0);
    ck_assert_ptr_eq(m->indptr.i32, p.ip32);
    ck_assert_ptr_eq(m->indices.i32, p.ix32);
    ck_assert_ptr_eq(m->values, p.v32);
    ck_assert_int_eq(subsel_csr_index_type(m), SUBSEL_DTYPE_INT32);
    ck_assert_int_eq(subsel_csr_nnz(m), p.nnz);
    ck_assert_ok(ctx, subsel_csr_row_v2(m, 7, &ix, &v, &n));
    ck_assert_ptr_eq(ix, p.ix32 + p.ip32[7]);
    ck_assert_ptr_eq(v, p.v32 + p.ip32[7]);
    ck_assert_int_eq(n, p.ip32[8] - p.ip32[7]);
    /* and allocates nothing of their size: the smallest is the row
     * pointers (8 KB), the handle itself is far smaller */
    ck_assert_msg(log.largest < (size_t)(p.rows + 1) * sizeof(int32_t),
                  "a block of %zu bytes", log.largest);
    subsel_csr_free(m);
    subsel_ctx_free(ctx);
    ck_assert_int_eq(log.live, 0);
    free_pool(&p);
}
END_TEST

START_TEST(scipy_int64_arrays_are_borrowed_without_copy)
{
    pool p = make_pool(2000, 64, 2);
    size_log log;
    subsel_ctx *ctx = logged_ctx(&log);
    subsel_csr *m;
    const void *ix;
    const int32_t *ix32;
    const float *v;
    int64_t n, k;
    ck_assert_ok(ctx, subsel_csr_create_v2(ctx, p.rows, p.cols, p.ip64, p.ix64,
                                           SUBSEL_DTYPE_INT64, p.v32,
                                           SUBSEL_DTYPE_FLOAT32, SUBSEL_BORROW, &m));
    ck_assert_int_eq(m->ptr64, 1);
    ck_assert_int_eq(m->idx64, 1);
    ck_assert_ptr_eq(m->indptr.i64, p.ip64);
    ck_assert_ptr_eq(m->indices.i64, p.ix64);
    ck_assert_ptr_eq(m->values, p.v32);
    ck_assert_int_eq(subsel_csr_index_type(m), SUBSEL_DTYPE_INT64);
    ck_assert_ok(ctx, subsel_csr_row_v2(m, 9, &ix, &v, &n));
    ck_assert_ptr_eq(ix, p.ix64 + p.ip64[9]);
    ck_assert_msg(log.largest < (size_t)(p.rows + 1) * sizeof(int64_t),
                  "a block of %zu bytes", log.largest);
    /* 0.6's accessor still answers, from an int32 copy made once */
    ck_assert_ok(ctx, subsel_csr_row(m, 9, &ix32, &v, &n));
    ck_assert_int_eq(n, p.ip64[10] - p.ip64[9]);
    for (k = 0; k < n; k++)
        ck_assert_int_eq(ix32[k], p.ix64[p.ip64[9] + k]);
    ck_assert_ptr_eq(v, p.v32 + p.ip64[9]);
    ck_assert_ok(ctx, subsel_csr_row(m, 1999, &ix32, &v, &n));
    ck_assert_ptr_eq(ix32, (const int32_t *)atomic_load(&m->indices32) + p.ip64[1999]);
    subsel_csr_free(m);
    subsel_ctx_free(ctx);
    ck_assert_int_eq(log.live, 0);
    free_pool(&p);
}
END_TEST

START_TEST(float64_and_float16_values_are_converted_once)
{
    pool p = make_pool(2000, 64, 3);
    size_log log;
    subsel_ctx *ctx = logged_ctx(&log);
    subsel_csr *m;
    int64_t k;
    int dtype;
    for (dtype = SUBSEL_DTYPE_FLOAT16; dtype <= SUBSEL_DTYPE_FLOAT64; dtype += 2) {
        const void *values = dtype == SUBSEL_DTYPE_FLOAT16 ? (const void *)p.v16
                                                           : (const void *)p.v64;
        log.largest = 0;
        ck_assert_ok(ctx, subsel_csr_create_v2(ctx, p.rows, p.cols, p.ip32, p.ix32,
                                               SUBSEL_DTYPE_INT32, values, dtype,
                                               SUBSEL_BORROW, &m));
        /* the index arrays are still the caller's */
        ck_assert_ptr_eq(m->indptr.i32, p.ip32);
        ck_assert_ptr_eq(m->indices.i32, p.ix32);
        ck_assert_ptr_ne(m->values, values);
        for (k = 0; k < p.nnz; k++)
            ck_assert(m->values[k] == p.v32[k]);
        /* one float32 copy of the values, nothing as large as the indices
         * again */
        ck_assert_uint_ge(log.largest, (size_t)p.nnz * sizeof(float));
        ck_assert_uint_lt(log.largest, (size_t)p.nnz * sizeof(float) + 1024);
        subsel_csr_free(m);
    }
    subsel_ctx_free(ctx);
    ck_assert_int_eq(log.live, 0);
    free_pool(&p);
}
END_TEST

START_TEST(every_dtype_selects_as_float32)
{
    pool p = make_pool(1500, 48, 4);
    subsel_ctx *ctx = new_ctx();
    subsel_csr *ref, *m;
    subsel_selection *want, *got;
    static const struct {
        int index_type, value_type, flags;
        const char *what;
    } cases[] = {
        {SUBSEL_DTYPE_INT64, SUBSEL_DTYPE_FLOAT32, SUBSEL_BORROW, "int64 / float32"},
        {SUBSEL_DTYPE_INT32, SUBSEL_DTYPE_FLOAT64, SUBSEL_BORROW, "int32 / float64"},
        {SUBSEL_DTYPE_INT32, SUBSEL_DTYPE_FLOAT16, SUBSEL_BORROW, "int32 / float16"},
        {SUBSEL_DTYPE_INT64, SUBSEL_DTYPE_FLOAT64, SUBSEL_COPY, "int64 / float64 copied"},
        {SUBSEL_DTYPE_INT64, SUBSEL_DTYPE_FLOAT16, SUBSEL_COPY, "int64 / float16 copied"},
        {SUBSEL_DTYPE_INT32, SUBSEL_DTYPE_FLOAT32, SUBSEL_COPY, "int32 / float32 copied"},
    };
    size_t i;
    ck_assert_ok(ctx, subsel_csr_create_v2(ctx, p.rows, p.cols, p.ip32, p.ix32,
                                           SUBSEL_DTYPE_INT32, p.v32,
                                           SUBSEL_DTYPE_FLOAT32, SUBSEL_BORROW, &ref));
    want = select_fb(ctx, ref);
    ck_assert_int_eq(subsel_selection_count(want), 40);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int wide = cases[i].index_type == SUBSEL_DTYPE_INT64;
        const void *values = cases[i].value_type == SUBSEL_DTYPE_FLOAT16 ? (const void *)p.v16
                             : cases[i].value_type == SUBSEL_DTYPE_FLOAT64 ? (const void *)p.v64
                                                                           : (const void *)p.v32;
        ck_assert_ok(ctx, subsel_csr_create_v2(ctx, p.rows, p.cols,
                                               wide ? (const void *)p.ip64 : (const void *)p.ip32,
                                               wide ? (const void *)p.ix64 : (const void *)p.ix32,
                                               cases[i].index_type, values,
                                               cases[i].value_type, cases[i].flags, &m));
        assert_same_csr(ref, m);
        got = select_fb(ctx, m);
        assert_same_selection(want, got, cases[i].what);
        subsel_selection_free(got);
        subsel_csr_free(m);
    }
    /* 0.6's constructor (int64 row pointers, int32 indices) too */
    ck_assert_ok(ctx, subsel_csr_create(ctx, p.rows, p.cols, p.ip64, p.ix32, p.v32,
                                        SUBSEL_BORROW, &m));
    got = select_fb(ctx, m);
    assert_same_selection(want, got, "subsel_csr_create");
    subsel_selection_free(got);
    subsel_csr_free(m);
    subsel_selection_free(want);
    subsel_csr_free(ref);
    subsel_ctx_free(ctx);
    free_pool(&p);
}
END_TEST

/* SDM with an int64 source and a float16 target, against int32 / float32:
 * the same target distribution, KL and selection. */
START_TEST(sdm_reads_every_width)
{
    pool p = make_pool(800, 40, 5), t = make_pool(300, 40, 6);
    subsel_ctx *ctx = new_ctx();
    subsel_csr *src[2], *tgt[2];
    subsel_objective *f[2];
    subsel_optimizer *opt;
    subsel_selection *sel[2];
    double kl[2];
    int i;
    ck_assert_ok(ctx, subsel_csr_create_v2(ctx, p.rows, p.cols, p.ip32, p.ix32, SUBSEL_DTYPE_INT32,
                                           p.v32, SUBSEL_DTYPE_FLOAT32, SUBSEL_BORROW, &src[0]));
    ck_assert_ok(ctx, subsel_csr_create_v2(ctx, t.rows, t.cols, t.ip32, t.ix32, SUBSEL_DTYPE_INT32,
                                           t.v32, SUBSEL_DTYPE_FLOAT32, SUBSEL_BORROW, &tgt[0]));
    ck_assert_ok(ctx, subsel_csr_create_v2(ctx, p.rows, p.cols, p.ip64, p.ix64, SUBSEL_DTYPE_INT64,
                                           p.v32, SUBSEL_DTYPE_FLOAT32, SUBSEL_BORROW, &src[1]));
    ck_assert_ok(ctx, subsel_csr_create_v2(ctx, t.rows, t.cols, t.ip64, t.ix64, SUBSEL_DTYPE_INT64,
                                           t.v16, SUBSEL_DTYPE_FLOAT16, SUBSEL_BORROW, &tgt[1]));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_LAZY, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 30));
    for (i = 0; i < 2; i++) {
        ck_assert_ok(ctx, subsel_sdm_create(ctx, src[i], &f[i]));
        ck_assert_ok(ctx, subsel_sdm_set_target(ctx, f[i], tgt[i]));
        ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f[i], &sel[i]));
        ck_assert_ok(ctx, subsel_sdm_kl(ctx, f[i], subsel_selection_indices(sel[i]),
                                        subsel_selection_count(sel[i]), &kl[i]));
    }
    assert_same_selection(sel[0], sel[1], "SDM int64 / float16");
    ck_assert(memcmp(&kl[0], &kl[1], sizeof kl[0]) == 0);
    for (i = 0; i < 2; i++) {
        subsel_selection_free(sel[i]);
        subsel_objective_free(f[i]);
        subsel_csr_free(src[i]);
        subsel_csr_free(tgt[i]);
    }
    subsel_optimizer_free(opt);
    subsel_ctx_free(ctx);
    free_pool(&p);
    free_pool(&t);
}
END_TEST

/* Views, gathers, column sums and the .npz writer on int64 matrices. */
START_TEST(int64_matrices_view_gather_sum_and_save)
{
    pool p = make_pool(300, 20, 7);
    subsel_ctx *ctx = new_ctx();
    subsel_csr *a, *b, *va, *vb, *ga, *gb, *loaded;
    const int64_t pick[4] = {299, 0, 17, 17};
    double sa[20], sb[20];
    char path[512];
    ck_assert_ok(ctx, subsel_csr_create_v2(ctx, p.rows, p.cols, p.ip32, p.ix32, SUBSEL_DTYPE_INT32,
                                           p.v32, SUBSEL_DTYPE_FLOAT32, SUBSEL_BORROW, &a));
    ck_assert_ok(ctx, subsel_csr_create_v2(ctx, p.rows, p.cols, p.ip64, p.ix64, SUBSEL_DTYPE_INT64,
                                           p.v64, SUBSEL_DTYPE_FLOAT64, SUBSEL_BORROW, &b));
    ck_assert_ok(ctx, subsel_csr_column_sums(ctx, a, sa));
    ck_assert_ok(ctx, subsel_csr_column_sums(ctx, b, sb));
    ck_assert(memcmp(sa, sb, sizeof sa) == 0);
    ck_assert_ok(ctx, subsel_csr_view_rows(ctx, a, 100, 150, &va));
    ck_assert_ok(ctx, subsel_csr_view_rows(ctx, b, 100, 150, &vb));
    assert_same_csr(va, vb);
    ck_assert_ptr_eq(vb->indices.i64, p.ix64); /* a view shares the arrays */
    ck_assert_ok(ctx, subsel_csr_gather_rows(ctx, a, pick, 4, &ga));
    ck_assert_ok(ctx, subsel_csr_gather_rows(ctx, b, pick, 4, &gb));
    assert_same_csr(ga, gb);
    ck_assert_int_eq(subsel_csr_index_type(gb), SUBSEL_DTYPE_INT64);
    /* written as SciPy does (int32 indices), read back the same */
    snprintf(path, sizeof path, "%s", temp_path("int64_view.npz"));
    ck_assert_ok(ctx, subsel_csr_save_npz(ctx, vb, path, 1));
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, path, &loaded));
    assert_same_csr(va, loaded);
    ck_assert_int_eq(subsel_csr_index_type(loaded), SUBSEL_DTYPE_INT32);
    ck_assert_int_eq(loaded->ptr64, 0); /* the file's int32, not widened */
    subsel_csr_free(loaded);
    subsel_csr_free(ga);
    subsel_csr_free(gb);
    subsel_csr_free(va);
    subsel_csr_free(vb);
    subsel_csr_free(a);
    subsel_csr_free(b);
    subsel_ctx_free(ctx);
    free_pool(&p);
}
END_TEST

/* The .npz loader keeps each index array in the file's width. */
START_TEST(npz_keeps_the_file_index_widths)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *m32, *m64;
    const int32_t *ix;
    const float *v;
    int64_t n;
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, data_path("variants/csr_int64_arrays.npz"), &m64));
    ck_assert_int_eq(m64->ptr64, 1);
    ck_assert_int_eq(m64->idx64, 1);
    ck_assert_int_eq(subsel_csr_index_type(m64), SUBSEL_DTYPE_INT64);
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, data_path("variants/csr_deflate.npz"), &m32));
    ck_assert_int_eq(m32->ptr64, 0);
    ck_assert_int_eq(m32->idx64, 0);
    assert_same_csr(m32, m64);
    ck_assert_ok(ctx, subsel_csr_row(m64, 0, &ix, &v, &n));
    subsel_csr_free(m32);
    subsel_csr_free(m64);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* CSR: refusals                                                            */
/* ------------------------------------------------------------------------ */

/* subsel_csr_create_v2 of a 3 x 4 matrix fails with `status` and a message
 * holding `message`, and leaves its out-handle NULL. */
static void expect_csr_refused(subsel_ctx *ctx, const void *ip, const void *ix,
                               int index_type, const void *v, int value_type,
                               int flags, int status, const char *message)
{
    subsel_csr *m = (subsel_csr *)ctx;
    ck_assert_status(ctx, subsel_csr_create_v2(ctx, 3, 4, ip, ix, index_type, v, value_type,
                                               flags, &m),
                     status);
    ck_assert_ptr_null(m);
    assert_message(ctx, message);
}

START_TEST(csr_v2_validation_names_row_and_entry)
{
    subsel_ctx *ctx = new_ctx();
    /* 3 x 4: [1 0 2 0] [0 0 0 0] [0 3 0 4] */
    const int64_t ip64[4] = {0, 2, 2, 4};
    const int32_t ip32[4] = {0, 2, 2, 4};
    int64_t ix64[4] = {0, 2, 1, 3};
    const int32_t ix32[4] = {0, 2, 1, 3};
    double v64[4] = {1, 2, 3, 4};
    uint16_t v16[4] = {0x3c00, 0x4000, 0x4200, 0x4400}; /* 1 2 3 4 */
    const int I32 = SUBSEL_DTYPE_INT32, I64 = SUBSEL_DTYPE_INT64;
    const int F16 = SUBSEL_DTYPE_FLOAT16, F64 = SUBSEL_DTYPE_FLOAT64;

    v16[2] = 0x7e00; /* NaN */
    expect_csr_refused(ctx, ip32, ix32, I32, v16, F16, SUBSEL_BORROW, SUBSEL_E_NUMERIC,
                       "value at row 2, column 1 (entry 2) is not finite (nan)");
    v16[2] = 0x4200;
    v16[3] = 0xfc00; /* -inf */
    expect_csr_refused(ctx, ip64, ix64, I64, v16, F16, SUBSEL_COPY, SUBSEL_E_NUMERIC,
                       "value at row 2, column 3 (entry 3) is not finite (-inf)");
    v64[1] = 1e300;
    expect_csr_refused(ctx, ip64, ix64, I64, v64, F64, SUBSEL_BORROW, SUBSEL_E_NUMERIC,
                       "value at row 0, column 2 (entry 1) is beyond the float32 range "
                       "(1e+300)");
    v64[1] = 2;
    ix64[2] = 3;
    ix64[3] = 1;
    expect_csr_refused(ctx, ip64, ix64, I64, v64, F64, SUBSEL_BORROW, SUBSEL_E_FORMAT,
                       "column indices of row 2 are unsorted at entry 3 (1 after 3)");
    ix64[2] = 1;
    ix64[3] = 4;
    expect_csr_refused(ctx, ip64, ix64, I64, v64, F64, SUBSEL_BORROW, SUBSEL_E_FORMAT,
                       "column index 4 out of range [0, 4) in row 2 (entry 3)");
    ix64[3] = (int64_t)1 << 40; /* an int64 index that int32 would wrap to 0 */
    expect_csr_refused(ctx, ip64, ix64, I64, v64, F64, SUBSEL_BORROW, SUBSEL_E_FORMAT,
                       "column index 1099511627776 out of range");
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(csr_v2_refuses_bad_dtypes_flags_and_alignment)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *m = (subsel_csr *)ctx;
    const int64_t ip64[4] = {0, 2, 2, 4};
    const int32_t ix32[4] = {0, 2, 1, 3};
    const float v32[4] = {1, 2, 3, 4};
    const int I64 = SUBSEL_DTYPE_INT64, F32 = SUBSEL_DTYPE_FLOAT32;
    /* room to place arrays at odd addresses */
    union {
        int64_t i64[8];
        unsigned char bytes[64];
    } buf;

    expect_csr_refused(ctx, ip64, ix32, F32, v32, F32, SUBSEL_BORROW, SUBSEL_E_INVALID,
                       "index_type 2002 is not SUBSEL_DTYPE_INT32 or SUBSEL_DTYPE_INT64 "
                       "(float32)");
    /* a flag in a dtype's place */
    expect_csr_refused(ctx, ip64, ix32, SUBSEL_BORROW, v32, F32, SUBSEL_BORROW,
                       SUBSEL_E_INVALID, "index_type 1 is not");
    expect_csr_refused(ctx, ip64, ix32, I64, v32, SUBSEL_DTYPE_INT32, SUBSEL_BORROW,
                       SUBSEL_E_INVALID,
                       "value_type 2011 is not SUBSEL_DTYPE_FLOAT32, _FLOAT64 or _FLOAT16 "
                       "(int32)");
    expect_csr_refused(ctx, ip64, ix32, I64, v32, F32, 2, SUBSEL_E_INVALID,
                       "flags must be SUBSEL_COPY or SUBSEL_BORROW, not 2");
    expect_csr_refused(ctx, NULL, ix32, I64, v32, F32, SUBSEL_BORROW, SUBSEL_E_INVALID,
                       "subsel_csr_create_v2: indptr is NULL");
    /* int64 row pointers at an address 4 past an 8-byte boundary */
    memcpy(buf.bytes + 4, ip64, sizeof ip64);
    expect_csr_refused(ctx, buf.bytes + 4, buf.bytes + 4, I64, v32, F32, SUBSEL_BORROW,
                       SUBSEL_E_INVALID,
                       "is not aligned for int64 (a multiple of 8 bytes)");
    assert_message(ctx, "subsel_csr_create_v2: indptr at");
    /* float32 values one byte off, through 0.6's constructor too */
    memcpy(buf.bytes + 1, v32, sizeof v32);
    ck_assert_status(ctx, subsel_csr_create(ctx, 3, 4, ip64, ix32,
                                            (const float *)(const void *)(buf.bytes + 1),
                                            SUBSEL_COPY, &m),
                     SUBSEL_E_INVALID);
    assert_message(ctx, "subsel_csr_create: values at");
    ck_assert_ptr_null(m);
    subsel_ctx_free(ctx);
}
END_TEST

/* Every failure point of the converting constructors leaks nothing. */
START_TEST(csr_v2_allocation_failures_leak_nothing)
{
    pool p = make_pool(100, 16, 8);
    int64_t fail_at;
    for (fail_at = 1;; fail_at++) {
        counting_allocator counts = {0, 0, 0};
        subsel_ctx *ctx;
        subsel_csr *m = NULL;
        int rc;
        ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_allocator_alloc,
                                                          counting_allocator_free, &counts),
                         SUBSEL_OK);
        counts.fail_at = counts.calls + fail_at;
        rc = subsel_csr_create_v2(ctx, p.rows, p.cols, p.ip64, p.ix64, SUBSEL_DTYPE_INT64,
                                  p.v16, SUBSEL_DTYPE_FLOAT16, SUBSEL_COPY, &m);
        ck_assert(rc == SUBSEL_OK || rc == SUBSEL_E_NOMEM);
        ck_assert((rc == SUBSEL_OK) == (m != NULL));
        subsel_csr_free(m);
        subsel_ctx_free(ctx);
        ck_assert_int_eq(counts.live, 0);
        if (rc == SUBSEL_OK)
            break;
    }
    ck_assert_int_ge(fail_at, 4); /* values, row pointers, indices, handle */
    free_pool(&p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Kernels of both index widths                                             */
/* ------------------------------------------------------------------------ */

static const ss_phi phis[SS_PHI_COUNT] = {
    {SS_PHI_LOG1P, 0, 0},   {SS_PHI_SQRT, 0, 0},       {SS_PHI_SATURATE, 0, 0},
    {SS_PHI_EXP, 2.5, 0.4}, {SS_PHI_MIN, 3.0, 1 / 3.}, {SS_PHI_POW, 0.3, 1 / .3},
};

START_TEST(sparse_kernels_of_both_widths_match_scalar)
{
    const ss_kernels *k = ss_kernels_level(_i), *ref = &ss_kernels_scalar;
    enum { D = 300 };
    double m[D], inv_1pm[D], w[D];
    float x[D];
    ss_rng rng;
    int n, p, c;
    if (k == NULL)
        return; /* level not available on this machine */
    ss_rng_seed(&rng, 99, (uint64_t)_i);
    for (c = 0; c < D; c++) {
        m[c] = ss_rng_uniform(&rng) * 4;
        inv_1pm[c] = 1.0 / (1.0 + m[c]);
        w[c] = ss_rng_uniform(&rng);
        x[c] = (float)ss_rng_normal(&rng);
    }
    for (n = 0; n <= 45; n++) {
        /* arrays exactly n long, so that a read past the end is an error
         * under ASan */
        int32_t *i32 = malloc(sizeof *i32 * (size_t)(n + (n == 0)));
        int64_t *i64 = malloc(sizeof *i64 * (size_t)(n + (n == 0)));
        float *val = malloc(sizeof *val * (size_t)(n + (n == 0)));
        int e;
        double want, got;
        for (e = 0; e < n; e++) {
            i32[e] = (int32_t)((e * 37 + n) % D);
            i64[e] = i32[e];
            val[e] = (float)ss_rng_uniform(&rng) * 3;
        }
        want = ref->sparse_dot_f32(i32, val, n, x);
        got = k->sparse_dot_f32_i64(i64, val, n, x);
        ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                      "sparse_dot_f32_i64 n=%d: %.17g vs %.17g", n, got, want);
        for (p = 0; p < SS_PHI_COUNT; p++) {
            const double *col = p == SS_PHI_LOG1P ? inv_1pm : m;
            want = ref->fb_gain[p](i32, val, n, col, w, &phis[p]);
            got = k->fb_gain_i64[p](i64, val, n, col, w, &phis[p]);
            ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                          "fb_gain_i64[%d] n=%d: %.17g vs %.17g", p, n, got, want);
            got = k->fb_gain[p](i32, val, n, col, w, &phis[p]);
            ck_assert(memcmp(&want, &got, sizeof want) == 0);
        }
        free(i32);
        free(i64);
        free(val);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* float16                                                                  */
/* ------------------------------------------------------------------------ */

START_TEST(half_special_values)
{
    static const struct {
        uint16_t h;
        float f;
    } cases[] = {
        {0x0000, 0.0f},          {0x3c00, 1.0f},           {0xc000, -2.0f},
        {0x3555, 0x1.554p-2f},   {0x7bff, 65504.0f},       {0xfbff, -65504.0f},
        {0x0400, 0x1p-14f},      /* smallest normal */
        {0x03ff, 0x1.ff8p-15f},  /* largest subnormal */
        {0x0001, 0x1p-24f},      /* smallest subnormal */
        {0x8001, -0x1p-24f},     {0x0200, 0x1p-15f},       {0x0003, 0x1.8p-23f},
    };
    size_t i;
    float f;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f = ss_half_to_float(cases[i].h);
        ck_assert_msg(f == cases[i].f, "half 0x%04x: %a, not %a", cases[i].h, f, cases[i].f);
    }
    f = ss_half_to_float(0x8000);
    ck_assert(f == 0.0f && signbit(f));
    ck_assert(isinf(ss_half_to_float(0x7c00)) && ss_half_to_float(0x7c00) > 0);
    ck_assert(isinf(ss_half_to_float(0xfc00)) && ss_half_to_float(0xfc00) < 0);
    ck_assert(isnan(ss_half_to_float(0x7e00)));
    ck_assert(isnan(ss_half_to_float(0x7c01)));
    ck_assert(isnan(ss_half_to_float(0xffff)) && signbit(ss_half_to_float(0xffff)));
}
END_TEST

/* Every finite half against its definition, (-1)^s 2^(e - 15) (1 + m /
 * 1024), or 2^-24 m for subnormals, computed in double with ldexp. */
START_TEST(half_every_pattern_by_definition)
{
    uint32_t h;
    for (h = 0; h < 65536; h++) {
        int s = (int)(h >> 15), e = (int)((h >> 10) & 0x1f), mant = (int)(h & 0x3ff);
        double want;
        float got = ss_half_to_float((uint16_t)h);
        if (e == 0x1f) {
            ck_assert(mant == 0 ? isinf(got) : isnan(got));
            ck_assert(!signbit(got) == !s);
            continue;
        }
        want = e == 0 ? ldexp(mant, -24) : ldexp(1024 + mant, e - 25);
        if (s)
            want = -want;
        ck_assert_msg((double)got == want && !signbit(got) == !s,
                      "half 0x%04x: %a, not %a", h, got, want);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Dense: strides and dtypes                                                */
/* ------------------------------------------------------------------------ */

/* A rows x stride buffer holding `packed` (rows x cols) in its first cols
 * columns and NaN in the gaps: any read of a gap poisons the result. */
static float *strided_copy(const float *packed, int64_t rows, int64_t cols,
                           int64_t stride)
{
    float *buf = malloc(sizeof *buf * (size_t)(rows * stride + 1));
    int64_t r, c;
    ck_assert_ptr_nonnull(buf);
    for (r = 0; r < rows; r++)
        for (c = 0; c < stride; c++)
            buf[r * stride + c] = c < cols ? packed[r * cols + c] : NAN;
    return buf;
}

static float *random_floats(int64_t n, uint64_t seed, float scale)
{
    float *x = malloc(sizeof *x * (size_t)(n + 1));
    ss_rng rng;
    int64_t i;
    ss_rng_seed(&rng, seed, 0);
    for (i = 0; i < n; i++)
        x[i] = (float)ss_rng_normal(&rng) * scale;
    return x;
}

/* A packed and a strided (NaN gaps) matrix of the same values. */
typedef struct pair {
    subsel_dense *packed, *strided;
    float *data, *buf;
} pair;

static pair make_pair(subsel_ctx *ctx, int64_t rows, int64_t cols,
                      int64_t stride, uint64_t seed)
{
    pair p;
    p.data = random_floats(rows * cols, seed, 1.0f);
    p.buf = strided_copy(p.data, rows, cols, stride);
    ck_assert_ok(ctx, subsel_dense_create(ctx, rows, cols, p.data, SUBSEL_BORROW, &p.packed));
    ck_assert_ok(ctx, subsel_dense_create_v2(ctx, rows, cols, p.buf, SUBSEL_DTYPE_FLOAT32,
                                             stride, SUBSEL_BORROW, &p.strided));
    return p;
}

static void free_pair(pair *p)
{
    subsel_dense_free(p->packed);
    subsel_dense_free(p->strided);
    free(p->data);
    free(p->buf);
}

START_TEST(strided_float32_is_borrowed_without_copy)
{
    size_log log;
    subsel_ctx *ctx = logged_ctx(&log);
    float *data = random_floats(300 * 40, 11, 1.0f);
    float *buf = strided_copy(data, 300, 40, 56);
    subsel_dense *m;
    double sums[40], want[40];
    subsel_csr *z;
    int64_t r, c;
    ck_assert_ok(ctx, subsel_dense_create_v2(ctx, 300, 40, buf, SUBSEL_DTYPE_FLOAT32, 56,
                                             SUBSEL_BORROW, &m));
    ck_assert_ptr_eq(m->row0, buf);
    ck_assert_ptr_eq(subsel_dense_data(m), buf);
    ck_assert_int_eq(subsel_dense_stride(m), 56);
    ck_assert_ptr_eq(subsel_dense_row(m, 299), buf + 299 * 56);
    ck_assert_msg(log.largest < 300 * 40 * sizeof(float), "a block of %zu bytes", log.largest);
    /* readers use the rows, never the NaN gaps */
    ck_assert_ok(ctx, subsel_dense_column_sums(ctx, m, sums));
    for (c = 0; c < 40; c++) {
        want[c] = 0;
        for (r = 0; r < 300; r++)
            want[c] += (double)data[r * 40 + c];
        ck_assert(sums[c] == want[c]);
    }
    ck_assert_ok(ctx, subsel_csr_from_dense(ctx, m, &z));
    ck_assert_int_eq(subsel_csr_nnz(z), 300 * 40);
    subsel_csr_free(z);
    subsel_dense_free(m);
    /* packed rows: stride 0 means cols */
    ck_assert_ok(ctx, subsel_dense_create_v2(ctx, 300, 40, data, SUBSEL_DTYPE_FLOAT32, 0,
                                             SUBSEL_BORROW, &m));
    ck_assert_int_eq(subsel_dense_stride(m), 40);
    ck_assert_ptr_eq(subsel_dense_data(m), data);
    subsel_dense_free(m);
    subsel_ctx_free(ctx);
    ck_assert_int_eq(log.live, 0);
    free(data);
    free(buf);
}
END_TEST

START_TEST(dense_float16_and_float64_are_converted_once)
{
    subsel_ctx *ctx = new_ctx();
    /* 3 x 2 with a stride of 3; the gaps hold NaN / Inf, never read */
    const uint16_t h[9] = {0x3c00, 0x0001, 0x7e00, 0xc000, 0x7bff, 0x7c00, 0x3555, 0x8000, 0xffff};
    const double d[9] = {1.5, -2, NAN, 3, 1e30, INFINITY, 0, 7, NAN};
    subsel_dense *m;
    ck_assert_ok(ctx, subsel_dense_create_v2(ctx, 3, 2, h, SUBSEL_DTYPE_FLOAT16, 3,
                                             SUBSEL_BORROW, &m));
    ck_assert_int_eq(subsel_dense_stride(m), 2); /* a packed float32 copy */
    ck_assert(subsel_dense_row(m, 0)[0] == 1.0f);
    ck_assert(subsel_dense_row(m, 0)[1] == 0x1p-24f);
    ck_assert(subsel_dense_row(m, 1)[0] == -2.0f);
    ck_assert(subsel_dense_row(m, 1)[1] == 65504.0f);
    ck_assert(subsel_dense_row(m, 2)[0] == 0x1.554p-2f);
    ck_assert(subsel_dense_row(m, 2)[1] == 0.0f && signbit(subsel_dense_row(m, 2)[1]));
    subsel_dense_free(m);
    ck_assert_ok(ctx, subsel_dense_create_v2(ctx, 3, 2, d, SUBSEL_DTYPE_FLOAT64, 3,
                                             SUBSEL_COPY, &m));
    ck_assert(subsel_dense_row(m, 1)[1] == 1e30f);
    ck_assert(subsel_dense_row(m, 2)[1] == 7.0f);
    subsel_dense_free(m);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(dense_v2_refusals)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *m = (subsel_dense *)ctx;
    const uint16_t h[4] = {0x3c00, 0x7c00, 0x4000, 0x4200};
    const double d[4] = {1, 2, -1e39, 4};
    const double edge[2] = {FLT_MAX, FLT_MAX * (1.0 + 0x1p-30)};
    const float f[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    union {
        float f[4];
        unsigned char bytes[16];
    } odd;
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 2, 3, f, SUBSEL_DTYPE_FLOAT32, 2,
                                                 SUBSEL_BORROW, &m),
                     SUBSEL_E_INVALID);
    ck_assert_ptr_null(m);
    assert_message(ctx, "row_stride 2 is less than the 3 columns");
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 2, 3, f, SUBSEL_DTYPE_FLOAT32, -4,
                                                 SUBSEL_BORROW, &m),
                     SUBSEL_E_INVALID);
    assert_message(ctx, "row_stride -4 is negative");
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 3, 3, f, SUBSEL_DTYPE_FLOAT32,
                                                 INT64_MAX / 2, SUBSEL_BORROW, &m),
                     SUBSEL_E_INVALID);
    assert_message(ctx, "do not fit in memory addresses");
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 2, 2, f, SUBSEL_DTYPE_INT32, 0,
                                                 SUBSEL_BORROW, &m),
                     SUBSEL_E_INVALID);
    assert_message(ctx, "dtype 2011 is not SUBSEL_DTYPE_FLOAT32, _FLOAT64 or _FLOAT16 (int32)");
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 2, 2, f, SUBSEL_BORROW, 0,
                                                 SUBSEL_BORROW, &m),
                     SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 2, 2, f, SUBSEL_DTYPE_FLOAT32, 0, 5, &m),
                     SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 2, 2, NULL, SUBSEL_DTYPE_FLOAT32, 0,
                                                 SUBSEL_BORROW, &m),
                     SUBSEL_E_INVALID);
    assert_message(ctx, "data is NULL");
    memcpy(odd.bytes + 2, f, 8);
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 1, 2, odd.bytes + 2, SUBSEL_DTYPE_FLOAT32,
                                                 0, SUBSEL_BORROW, &m),
                     SUBSEL_E_INVALID);
    assert_message(ctx, "is not aligned for float32 (a multiple of 4 bytes)");
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 1, 2, odd.bytes + 1, SUBSEL_DTYPE_FLOAT16,
                                                 0, SUBSEL_BORROW, &m),
                     SUBSEL_E_INVALID);
    assert_message(ctx, "not aligned for float16 (a multiple of 2 bytes)");
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 2, 2, h, SUBSEL_DTYPE_FLOAT16, 0,
                                                 SUBSEL_BORROW, &m),
                     SUBSEL_E_NUMERIC);
    assert_message(ctx, "value at row 0, column 1 is not finite (inf)");
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 2, 2, d, SUBSEL_DTYPE_FLOAT64, 0,
                                                 SUBSEL_COPY, &m),
                     SUBSEL_E_NUMERIC);
    assert_message(ctx, "value at row 1, column 0 is beyond the float32 range (-1e+39)");
    ck_assert_ptr_null(m);
    /* just past FLT_MAX would round down to it: refused, as the .npy
     * reader refuses it; FLT_MAX itself is a float */
    ck_assert_status(ctx, subsel_dense_create_v2(ctx, 1, 2, edge, SUBSEL_DTYPE_FLOAT64, 0,
                                                 SUBSEL_COPY, &m),
                     SUBSEL_E_NUMERIC);
    assert_message(ctx, "value at row 0, column 1 is beyond the float32 range");
    ck_assert_ok(ctx, subsel_dense_create_v2(ctx, 1, 1, edge, SUBSEL_DTYPE_FLOAT64, 0,
                                             SUBSEL_COPY, &m));
    ck_assert(subsel_dense_row(m, 0)[0] == FLT_MAX);
    subsel_dense_free(m);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---- strided input gives the packed results in every method ------------ */

START_TEST(strided_sae_encode)
{
    subsel_ctx *ctx = new_ctx();
    pair w = make_pair(ctx, 96, 24, 31, 21), x = make_pair(ctx, 150, 24, 40, 22);
    float *b_enc = random_floats(96, 23, 0.1f), *b_dec = random_floats(24, 24, 0.1f);
    subsel_sae *sp, *ss;
    subsel_csr *zp, *zs;
    ck_assert_ok(ctx, subsel_sae_create(ctx, w.packed, b_enc, b_dec, &sp));
    ck_assert_ok(ctx, subsel_sae_create(ctx, w.strided, b_enc, b_dec, &ss));
    ck_assert_ok(ctx, subsel_sae_encode(ctx, sp, x.packed, 8, &zp));
    ck_assert_ok(ctx, subsel_sae_encode(ctx, ss, x.strided, 8, &zs));
    ck_assert_int_eq(subsel_csr_nnz(zp), 150 * 8);
    assert_same_csr(zp, zs);
    subsel_csr_free(zp);
    subsel_csr_free(zs);
    subsel_sae_free(sp);
    subsel_sae_free(ss);
    free(b_enc);
    free(b_dec);
    free_pair(&w);
    free_pair(&x);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(strided_uniprot)
{
    subsel_ctx *ctx = new_ctx();
    pair src = make_pair(ctx, 120, 16, 20, 31), tgt = make_pair(ctx, 60, 16, 17, 32);
    pair sim = make_pair(ctx, 80, 50, 64, 33);
    subsel_objective *fp, *fs;
    subsel_selection *a, *b;
    int64_t *ls = malloc(sizeof *ls * 120), *lt = malloc(sizeof *lt * 60), i;
    double acc_p, acc_s;
    int similarity;
    for (similarity = SUBSEL_SIM_COSINE; similarity <= SUBSEL_SIM_NEG_SQEUCLID; similarity++) {
        ck_assert_ok(ctx, subsel_uniprot_create_from_features(ctx, src.packed, tgt.packed,
                                                              similarity, 10, 0.1, &fp));
        ck_assert_ok(ctx, subsel_uniprot_create_from_features(ctx, src.strided, tgt.strided,
                                                              similarity, 10, 0.1, &fs));
        a = run_optimizer(ctx, fp, SUBSEL_OPT_LAZY, 10);
        b = run_optimizer(ctx, fs, SUBSEL_OPT_LAZY, 10);
        assert_same_selection(a, b, "UniPROT from features");
        subsel_selection_free(a);
        subsel_selection_free(b);
        subsel_objective_free(fp);
        subsel_objective_free(fs);
        ck_assert_ok(ctx, subsel_uniprot_select_batch(ctx, src.packed, 0.1, 0.1, similarity, &a));
        ck_assert_ok(ctx, subsel_uniprot_select_batch(ctx, src.strided, 0.1, 0.1, similarity, &b));
        assert_same_selection(a, b, "UniPROT per batch");
        /* the batch's prototypes, evaluated on the targets */
        for (i = 0; i < 120; i++)
            ls[i] = i % 3;
        for (i = 0; i < 60; i++)
            lt[i] = (i * 7) % 3;
        ck_assert_ok(ctx, subsel_nn_accuracy(ctx, src.packed, ls, subsel_selection_indices(a),
                                             subsel_selection_count(a), tgt.packed, lt,
                                             similarity, &acc_p));
        ck_assert_ok(ctx, subsel_nn_accuracy(ctx, src.strided, ls, subsel_selection_indices(a),
                                             subsel_selection_count(a), tgt.strided, lt,
                                             similarity, &acc_s));
        ck_assert(acc_p == acc_s);
        subsel_selection_free(a);
        subsel_selection_free(b);
    }
    /* a similarity matrix of its own, strided */
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, sim.packed, 12, 0.05, &fp));
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, sim.strided, 12, 0.05, &fs));
    a = run_optimizer(ctx, fp, SUBSEL_OPT_LAZY, 12);
    b = run_optimizer(ctx, fs, SUBSEL_OPT_LAZY, 12);
    assert_same_selection(a, b, "UniPROT from a similarity matrix");
    subsel_selection_free(a);
    subsel_selection_free(b);
    subsel_objective_free(fp);
    subsel_objective_free(fs);
    free(ls);
    free(lt);
    free_pair(&src);
    free_pair(&tgt);
    free_pair(&sim);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(strided_tarot)
{
    subsel_ctx *ctx = new_ctx();
    pair cand = make_pair(ctx, 200, 24, 33, 41), targ = make_pair(ctx, 40, 24, 25, 42);
    int proj;
    for (proj = 0; proj <= 1; proj++) {
        subsel_tarot *tp, *ts;
        subsel_dense *up, *vp, *us, *vs, *xp, *xs;
        subsel_selection *a, *b;
        ck_assert_ok(ctx, subsel_tarot_create(ctx, cand.packed, targ.packed, &tp));
        ck_assert_ok(ctx, subsel_tarot_create(ctx, cand.strided, targ.strided, &ts));
        if (proj) {
            ck_assert_ok(ctx, subsel_tarot_set_int(tp, SUBSEL_TAROT_PROJ_DIM, 12));
            ck_assert_ok(ctx, subsel_tarot_set_int(ts, SUBSEL_TAROT_PROJ_DIM, 12));
        }
        ck_assert_ok(ctx, subsel_tarot_whiten(ctx, tp, &up, &vp));
        ck_assert_ok(ctx, subsel_tarot_whiten(ctx, ts, &us, &vs));
        ck_assert_int_eq(subsel_dense_cols(up), subsel_dense_cols(us));
        ck_assert(memcmp(subsel_dense_data(up), subsel_dense_data(us),
                         sizeof(float) * (size_t)(200 * subsel_dense_cols(up))) == 0);
        ck_assert(memcmp(subsel_dense_data(vp), subsel_dense_data(vs),
                         sizeof(float) * (size_t)(40 * subsel_dense_cols(vp))) == 0);
        ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, tp, 30, &a));
        ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, ts, 30, &b));
        assert_same_selection(a, b, "TAROT fixed-size");
        subsel_selection_free(a);
        subsel_selection_free(b);
        subsel_dense_free(up);
        subsel_dense_free(vp);
        subsel_dense_free(us);
        subsel_dense_free(vs);
        subsel_tarot_free(tp);
        subsel_tarot_free(ts);
        ck_assert_ok(ctx, subsel_tarot_project(ctx, cand.packed, 9, SUBSEL_PROJ_GAUSSIAN, 0, &xp));
        ck_assert_ok(ctx, subsel_tarot_project(ctx, cand.strided, 9, SUBSEL_PROJ_GAUSSIAN, 0, &xs));
        ck_assert(memcmp(subsel_dense_data(xp), subsel_dense_data(xs),
                         sizeof(float) * 200 * 9) == 0);
        subsel_dense_free(xp);
        subsel_dense_free(xs);
    }
    free_pair(&cand);
    free_pair(&targ);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(strided_clipcov)
{
    subsel_ctx *ctx = new_ctx();
    pair img = make_pair(ctx, 150, 20, 27, 51), txt = make_pair(ctx, 150, 20, 21, 52);
    pair lab = make_pair(ctx, 5, 20, 32, 53);
    subsel_objective *fp, *fs;
    subsel_optimizer *opt;
    subsel_selection *a, *b;
    int64_t cp[150], cs[150];
    int normalize, sub_p, sub_s;
    for (normalize = 0; normalize <= 1; normalize++) {
        ck_assert_ok(ctx, subsel_clipcov_create(ctx, img.packed, txt.packed, lab.packed, NULL,
                                                normalize, &fp));
        ck_assert_ok(ctx, subsel_clipcov_create(ctx, img.strided, txt.strided, lab.strided,
                                                NULL, normalize, &fs));
        ck_assert_ok(ctx, subsel_clipcov_classes(ctx, fp, cp, 150));
        ck_assert_ok(ctx, subsel_clipcov_classes(ctx, fs, cs, 150));
        ck_assert(memcmp(cp, cs, sizeof cp) == 0);
        ck_assert_ok(ctx, subsel_clipcov_check_submodular(ctx, fp, 1, &sub_p));
        ck_assert_ok(ctx, subsel_clipcov_check_submodular(ctx, fs, 1, &sub_s));
        ck_assert_int_eq(sub_p, sub_s);
        ck_assert_ok(ctx, subsel_clipcov_optimizer(ctx, fp, 25, &opt));
        ck_assert_ok(ctx, subsel_clipcov_select(ctx, fp, opt, SUBSEL_CLIPCOV_FILTER_DETERMINISTIC,
                                                &a, NULL));
        ck_assert_ok(ctx, subsel_clipcov_select(ctx, fs, opt, SUBSEL_CLIPCOV_FILTER_DETERMINISTIC,
                                                &b, NULL));
        assert_same_selection(a, b, "ClipCov");
        subsel_selection_free(a);
        subsel_selection_free(b);
        subsel_optimizer_free(opt);
        subsel_objective_free(fp);
        subsel_objective_free(fs);
    }
    free_pair(&img);
    free_pair(&txt);
    free_pair(&lab);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(strided_ot_points)
{
    subsel_ctx *ctx = new_ctx();
    pair x = make_pair(ctx, 70, 12, 19, 61), y = make_pair(ctx, 50, 12, 13, 62);
    double fp[70], gp[50], fs[70], gs[50], vp, vs;
    int cost;
    for (cost = SUBSEL_COST_SQEUCLID; cost <= SUBSEL_COST_COSINE; cost++) {
        ck_assert_ok(ctx, subsel_ot_sinkhorn_points(ctx, NULL, NULL, x.packed, NULL, y.packed,
                                                    cost, 0.5, &vp, fp, gp, NULL));
        ck_assert_ok(ctx, subsel_ot_sinkhorn_points(ctx, NULL, NULL, x.strided, NULL,
                                                    y.strided, cost, 0.5, &vs, fs, gs, NULL));
        ck_assert(vp == vs);
        ck_assert(memcmp(fp, fs, sizeof fp) == 0 && memcmp(gp, gs, sizeof gp) == 0);
        ck_assert_ok(ctx, subsel_ot_partial_points(ctx, NULL, NULL, x.packed, NULL, y.packed,
                                                   cost, 0.5, 0.5, &vp, fp, gp, NULL));
        ck_assert_ok(ctx, subsel_ot_partial_points(ctx, NULL, NULL, x.strided, NULL,
                                                   y.strided, cost, 0.5, 0.5, &vs, fs, gs,
                                                   NULL));
        ck_assert(vp == vs);
        ck_assert(memcmp(fp, fs, sizeof fp) == 0 && memcmp(gp, gs, sizeof gp) == 0);
    }
    free_pair(&x);
    free_pair(&y);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(strided_save_npy_writes_the_rows)
{
    subsel_ctx *ctx = new_ctx();
    pair x = make_pair(ctx, 33, 7, 10, 71);
    subsel_dense *back;
    char path[512];
    snprintf(path, sizeof path, "%s", temp_path("strided.npy"));
    ck_assert_ok(ctx, subsel_dense_save_npy(ctx, x.strided, path));
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, path, &back));
    ck_assert_int_eq(subsel_dense_rows(back), 33);
    ck_assert_int_eq(subsel_dense_cols(back), 7);
    ck_assert(memcmp(subsel_dense_data(back), x.data, sizeof(float) * 33 * 7) == 0);
    subsel_dense_free(back);
    free_pair(&x);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *inputs_suite(void)
{
    Suite *s = suite_create("inputs");
    TCase *tc = tcase_create("csr");
    tcase_add_test(tc, scipy_int32_arrays_are_borrowed_without_copy);
    tcase_add_test(tc, scipy_int64_arrays_are_borrowed_without_copy);
    tcase_add_test(tc, float64_and_float16_values_are_converted_once);
    tcase_add_test(tc, every_dtype_selects_as_float32);
    tcase_add_test(tc, sdm_reads_every_width);
    tcase_add_test(tc, int64_matrices_view_gather_sum_and_save);
    tcase_add_test(tc, npz_keeps_the_file_index_widths);
    tcase_add_test(tc, csr_v2_validation_names_row_and_entry);
    tcase_add_test(tc, csr_v2_refuses_bad_dtypes_flags_and_alignment);
    tcase_add_test(tc, csr_v2_allocation_failures_leak_nothing);
    suite_add_tcase(s, tc);
    tc = tcase_create("kernels");
    tcase_add_loop_test(tc, sparse_kernels_of_both_widths_match_scalar, SUBSEL_ISA_SCALAR,
                        SUBSEL_ISA_AVX512 + 1);
    suite_add_tcase(s, tc);
    tc = tcase_create("float16");
    tcase_add_test(tc, half_special_values);
    tcase_add_test(tc, half_every_pattern_by_definition);
    suite_add_tcase(s, tc);
    tc = tcase_create("dense");
    tcase_add_test(tc, strided_float32_is_borrowed_without_copy);
    tcase_add_test(tc, dense_float16_and_float64_are_converted_once);
    tcase_add_test(tc, dense_v2_refusals);
    tcase_add_test(tc, strided_sae_encode);
    tcase_add_test(tc, strided_uniprot);
    tcase_add_test(tc, strided_tarot);
    tcase_add_test(tc, strided_clipcov);
    tcase_add_test(tc, strided_ot_points);
    tcase_add_test(tc, strided_save_npy_writes_the_rows);
    suite_add_tcase(s, tc);
    return s;
}
