/* SPDX-License-Identifier: MIT */
/*
 * Selection across processes, in one process: summaries of row ranges
 * (global ids, values against the whole pool's objective), merges (GreeDi:
 * the better of merged and best part, order-independent, multi-round, the
 * quality against one greedy), SDM's bins travelling with the rows, the
 * byte form (round trip, every flipped byte and every truncation refused),
 * the exact mode over one process against subsel_optimizer_run, errors,
 * allocation failures. The MPI component across ranks: tests/mpi.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distributed/distributed.h"
#include "objectives/objective.h"
#include "tests/helpers.h"
#include "tests/suites.h"

/* The SDM objective over rows [first, first + count) of pool, with the
 * pool itself as the target (the same target for every part). */
static subsel_objective *sdm_part(subsel_ctx *ctx, const subsel_csr *pool,
                                  int64_t first, int64_t count)
{
    subsel_csr *view;
    subsel_objective *obj;
    ck_assert_ok(ctx, subsel_csr_view_rows(ctx, pool, first, count, &view));
    ck_assert_ok(ctx, subsel_sdm_create(ctx, view, &obj));
    ck_assert_ok(ctx, subsel_sdm_set_target(ctx, obj, pool));
    subsel_csr_free(view);
    return obj;
}

static subsel_optimizer *optimizer(subsel_ctx *ctx, int algorithm, int64_t budget)
{
    subsel_optimizer *opt;
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, algorithm, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_P_BUDGET, budget));
    return opt;
}

/* The summaries of `parts` row ranges of pool (sizes differing by one). */
static void summarise_parts(subsel_ctx *ctx, const subsel_csr *pool,
                            const subsel_optimizer *opt, int64_t parts,
                            subsel_summary **out)
{
    int64_t n = subsel_csr_rows(pool), j;
    for (j = 0; j < parts; j++) {
        int64_t first = n * j / parts, last = n * (j + 1) / parts;
        subsel_objective *obj = sdm_part(ctx, pool, first, last - first);
        ck_assert_ok(ctx, subsel_summary_select(ctx, opt, obj, first, n, &out[j]));
        subsel_objective_free(obj);
    }
}

/* Asserts the summary's value is f of its ids on the whole pool and its
 * ids are distinct and in range. */
static void assert_summary_consistent(subsel_ctx *ctx, const subsel_summary *s,
                                      const subsel_objective *whole)
{
    subsel_selection *sel;
    double v;
    ck_assert_ok(ctx, subsel_summary_selection(ctx, s, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), subsel_summary_count(s));
    /* evaluate refuses repeated and out-of-range ids */
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, whole, subsel_selection_indices(sel),
                                                subsel_selection_count(sel), &v));
    ck_assert_double_eq_tol(v, subsel_selection_value(sel), 1e-9 * fabs(v));
    subsel_selection_free(sel);
}

START_TEST(parts_summarise_with_global_ids)
{
    subsel_ctx *ctx;
    subsel_csr *pool, *rows;
    subsel_objective *whole;
    subsel_optimizer *opt;
    subsel_summary *s[3];
    subsel_selection *sel;
    int64_t j, i;
    ck_assert_ok(NULL, subsel_ctx_create(&ctx));
    pool = random_pool(ctx, 5, 900, 48, 6);
    whole = sdm_part(ctx, pool, 0, 900);
    opt = optimizer(ctx, SUBSEL_ALGORITHM_LAZY, 40);
    summarise_parts(ctx, pool, opt, 3, s);
    for (j = 0; j < 3; j++) {
        ck_assert_int_eq(subsel_summary_count(s[j]), 40);
        ck_assert_int_eq(subsel_summary_total(s[j]), 900);
        assert_summary_consistent(ctx, s[j], whole);
        ck_assert_ok(ctx, subsel_summary_selection(ctx, s[j], &sel));
        ck_assert_ok(ctx, subsel_summary_rows(ctx, s[j], &rows));
        ck_assert_int_eq(subsel_csr_rows(rows), 40);
        for (i = 0; i < 40; i++) {
            int64_t id = subsel_selection_indices(sel)[i];
            subsel_csr *one, *orig;
            ck_assert(id >= 300 * j && id < 300 * (j + 1));
            /* row i of the summary is the pool's row id, bit for bit */
            ck_assert_ok(ctx, subsel_csr_view_rows(ctx, rows, i, 1, &one));
            ck_assert_ok(ctx, subsel_csr_view_rows(ctx, pool, id, 1, &orig));
            assert_csr_equal(one, orig);
            subsel_csr_free(one);
            subsel_csr_free(orig);
        }
        subsel_csr_free(rows);
        subsel_selection_free(sel);
    }
    /* a part smaller than the budget selects all it has */
    {
        subsel_objective *small = sdm_part(ctx, pool, 890, 10);
        subsel_summary *t;
        ck_assert_ok(ctx, subsel_summary_select(ctx, opt, small, 890, 900, &t));
        ck_assert_int_eq(subsel_summary_count(t), 10);
        subsel_summary_free(t);
        subsel_objective_free(small);
    }
    for (j = 0; j < 3; j++)
        subsel_summary_free(s[j]);
    subsel_optimizer_free(opt);
    subsel_objective_free(whole);
    subsel_csr_free(pool);
    subsel_ctx_free(ctx);
}
END_TEST

/* GreeDi: the merge is the better of the merged set and the best part, in
 * any order of the summaries; multi-round merges too; on this pool both
 * stay within 1% of one greedy over the whole pool (docs/distributed.md
 * states the bound). */
START_TEST(merges_follow_greedi)
{
    subsel_ctx *ctx;
    subsel_csr *pool;
    subsel_objective *whole;
    subsel_optimizer *opt;
    subsel_selection *single, *a_sel, *b_sel;
    subsel_summary *s[4], *rev[4], *a, *b, *left, *right, *tree;
    int64_t j;
    double best = 0;
    ck_assert_ok(NULL, subsel_ctx_create(&ctx));
    pool = random_pool(ctx, 9, 2000, 64, 8);
    whole = sdm_part(ctx, pool, 0, 2000);
    opt = optimizer(ctx, SUBSEL_ALGORITHM_LAZY, 60);
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, whole, &single));
    summarise_parts(ctx, pool, opt, 4, s);
    for (j = 0; j < 4; j++) {
        rev[3 - j] = s[j];
        ck_assert_ok(NULL, subsel_summary_selection(ctx, s[j], &a_sel));
        if (subsel_selection_value(a_sel) > best)
            best = subsel_selection_value(a_sel);
        subsel_selection_free(a_sel);
    }
    ck_assert_ok(ctx, subsel_summary_merge(ctx, opt, whole,
                                           (const subsel_summary *const *)s, 4, &a));
    ck_assert_ok(ctx, subsel_summary_merge(ctx, opt, whole,
                                           (const subsel_summary *const *)rev, 4, &b));
    ck_assert_ok(ctx, subsel_summary_selection(ctx, a, &a_sel));
    ck_assert_ok(ctx, subsel_summary_selection(ctx, b, &b_sel));
    ck_assert_int_eq(subsel_selection_count(a_sel), 60);
    ck_assert_mem_eq(subsel_selection_indices(a_sel), subsel_selection_indices(b_sel),
                     60 * sizeof(int64_t));
    assert_summary_consistent(ctx, a, whole);
    ck_assert(subsel_selection_value(a_sel) >= best);
    ck_assert(subsel_selection_value(a_sel) >= 0.99 * subsel_selection_value(single));
    /* the evaluations of every part and of the merge */
    ck_assert(subsel_selection_evaluations(a_sel) > 4 * 60);
    subsel_selection_free(a_sel);
    subsel_selection_free(b_sel);

    /* two rounds of two */
    ck_assert_ok(ctx, subsel_summary_merge(ctx, opt, whole,
                                           (const subsel_summary *const *)s, 2, &left));
    ck_assert_ok(ctx, subsel_summary_merge(ctx, opt, whole,
                                           (const subsel_summary *const *)s + 2, 2, &right));
    {
        const subsel_summary *pair[2] = {left, right};
        ck_assert_ok(ctx, subsel_summary_merge(ctx, opt, whole, pair, 2, &tree));
    }
    assert_summary_consistent(ctx, tree, whole);
    ck_assert_ok(ctx, subsel_summary_selection(ctx, tree, &a_sel));
    ck_assert(subsel_selection_value(a_sel) >= 0.99 * subsel_selection_value(single));
    subsel_selection_free(a_sel);

    for (j = 0; j < 4; j++)
        subsel_summary_free(s[j]);
    subsel_summary_free(a);
    subsel_summary_free(b);
    subsel_summary_free(left);
    subsel_summary_free(right);
    subsel_summary_free(tree);
    subsel_selection_free(single);
    subsel_optimizer_free(opt);
    subsel_objective_free(whole);
    subsel_csr_free(pool);
    subsel_ctx_free(ctx);
}
END_TEST

/* A merge keeps the best part when the merged run does worse: a merge
 * with a budget of one item over a part that chose the best item
 * (naive greedy is exact for one item, so they agree), and with SDM's
 * quality bins carried along (edges, the same on every part). */
START_TEST(bins_travel_with_rows)
{
    subsel_ctx *ctx;
    subsel_csr *pool;
    subsel_objective *parts[2], *whole, *plain;
    subsel_optimizer *opt;
    subsel_summary *s[2], *m;
    double quality[600], edges[2] = {0.3, 0.7};
    int64_t j;
    ck_assert_ok(NULL, subsel_ctx_create(&ctx));
    pool = random_pool(ctx, 21, 600, 32, 5);
    for (j = 0; j < 600; j++)
        quality[j] = (double)((j * 37) % 100) / 100.0;
    whole = sdm_part(ctx, pool, 0, 600);
    ck_assert_ok(ctx, subsel_sdm_set_quality_edges(ctx, whole, quality, 600, edges, 2));
    opt = optimizer(ctx, SUBSEL_ALGORITHM_LAZY, 25);
    for (j = 0; j < 2; j++) {
        parts[j] = sdm_part(ctx, pool, 300 * j, 300);
        ck_assert_ok(ctx, subsel_sdm_set_quality_edges(ctx, parts[j], quality + 300 * j,
                                                       300, edges, 2));
        ck_assert_ok(ctx, subsel_summary_select(ctx, opt, parts[j], 300 * j, 600, &s[j]));
        assert_summary_consistent(ctx, s[j], whole);
    }
    ck_assert_ok(ctx, subsel_summary_merge(ctx, opt, parts[1],
                                           (const subsel_summary *const *)s, 2, &m));
    assert_summary_consistent(ctx, m, whole);
    subsel_summary_free(m);
    /* an objective without bins cannot merge rows that have them */
    plain = sdm_part(ctx, pool, 0, 10);
    ck_assert_status(ctx, subsel_summary_merge(ctx, opt, plain,
                                               (const subsel_summary *const *)s, 2, &m),
                     SUBSEL_E_INVALID);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "quality bins"));
    for (j = 0; j < 2; j++) {
        subsel_summary_free(s[j]);
        subsel_objective_free(parts[j]);
    }
    subsel_objective_free(plain);
    subsel_objective_free(whole);
    subsel_optimizer_free(opt);
    subsel_csr_free(pool);
    subsel_ctx_free(ctx);
}
END_TEST

/* The byte form: a round trip gives the same bytes and selection; every
 * single flipped byte and every truncation is refused (the CRC, then the
 * checks), never read past. Files: save and load. */
START_TEST(bytes_round_trip_and_refuse_damage)
{
    subsel_ctx *ctx;
    subsel_csr *pool;
    subsel_objective *obj;
    subsel_optimizer *opt;
    subsel_summary *s, *t;
    unsigned char *buf, *copy, *again;
    int64_t size, size2, i;
    ck_assert_ok(NULL, subsel_ctx_create(&ctx));
    pool = random_pool(ctx, 3, 200, 16, 4);
    obj = sdm_part(ctx, pool, 100, 100);
    opt = optimizer(ctx, SUBSEL_ALGORITHM_STOCHASTIC, 12);
    ck_assert_ok(ctx, subsel_summary_select(ctx, opt, obj, 100, 200, &s));
    ck_assert_ok(ctx, subsel_summary_to_bytes(ctx, s, NULL, 0, &size));
    buf = malloc((size_t)size);
    copy = malloc((size_t)size);
    again = malloc((size_t)size);
    ck_assert_status(ctx, subsel_summary_to_bytes(ctx, s, buf, size - 1, &size2),
                     SUBSEL_E_INVALID);
    ck_assert_ok(ctx, subsel_summary_to_bytes(ctx, s, buf, size, &size2));
    ck_assert_int_eq(size2, size);
    ck_assert_ok(ctx, subsel_summary_from_bytes(ctx, buf, size, &t));
    ck_assert_ok(ctx, subsel_summary_to_bytes(ctx, t, again, size, &size2));
    ck_assert_mem_eq(buf, again, (size_t)size);
    subsel_summary_free(t);

    for (i = 0; i < size; i++) {
        memcpy(copy, buf, (size_t)size);
        copy[i] ^= 0x41;
        t = (subsel_summary *)1;
        ck_assert_int_lt(subsel_summary_from_bytes(ctx, copy, size, &t), 0);
        ck_assert_ptr_null(t);
    }
    for (i = 0; i < size; i++) {
        /* a truncated copy in a buffer of its own size, so a read past it
         * is caught by ASan and valgrind */
        unsigned char *cut = malloc((size_t)(i > 0 ? i : 1));
        memcpy(cut, buf, (size_t)i);
        ck_assert_status(ctx, subsel_summary_from_bytes(ctx, cut, i, &t), SUBSEL_E_FORMAT);
        free(cut);
    }
    ck_assert_ok(ctx, subsel_summary_save(ctx, s, temp_path("part.sss")));
    ck_assert_ok(ctx, subsel_summary_load(ctx, temp_path("part.sss"), &t));
    ck_assert_ok(ctx, subsel_summary_to_bytes(ctx, t, again, size, &size2));
    ck_assert_mem_eq(buf, again, (size_t)size);
    subsel_summary_free(t);
    ck_assert_status(ctx, subsel_summary_load(ctx, "/nonexistent/x.sss", &t), SUBSEL_E_IO);
    free(buf);
    free(copy);
    free(again);
    subsel_summary_free(s);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    subsel_csr_free(pool);
    subsel_ctx_free(ctx);
}
END_TEST

/* ss_exact_select over one process is subsel_optimizer_run's stochastic
 * greedy, byte for byte (several processes: tests/mpi). */
static int agree_one(subsel_ctx *ctx, void *impl, int status)
{
    (void)ctx;
    (void)impl;
    return status;
}

static int gather_one(subsel_ctx *ctx, void *impl, const ss_candidate *mine,
                      ss_candidate *all)
{
    (void)ctx;
    (void)impl;
    all[0] = *mine;
    return SUBSEL_OK;
}

static int broadcast_none(subsel_ctx *ctx, void *impl, int owner,
                          const subsel_csr *rows, int64_t row, int32_t label,
                          subsel_csr **got, int32_t *got_label)
{
    (void)ctx, (void)impl, (void)owner, (void)rows, (void)row, (void)label;
    ck_assert_ptr_null(got); /* one process owns everything */
    (void)got_label;
    return SUBSEL_OK;
}

START_TEST(exact_on_one_process_is_stochastic_greedy)
{
    subsel_ctx *ctx;
    subsel_csr *pool;
    subsel_objective *obj;
    subsel_optimizer *opt;
    subsel_selection *want, *got;
    int64_t offsets[2] = {0, 1500};
    ss_exchange ex = {NULL, 1, 0, agree_one, gather_one, broadcast_none};
    ck_assert_ok(NULL, subsel_ctx_create(&ctx));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, 77));
    pool = random_pool(ctx, 8, 1500, 40, 6);
    obj = sdm_part(ctx, pool, 0, 1500);
    opt = optimizer(ctx, SUBSEL_ALGORITHM_STOCHASTIC, 50);
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &want));
    ck_assert_ok(ctx, ss_exact_select(ctx, opt, obj, offsets, &ex, &got));
    ck_assert_int_eq(subsel_selection_count(got), 50);
    ck_assert_mem_eq(subsel_selection_indices(got), subsel_selection_indices(want),
                     50 * sizeof(int64_t));
    ck_assert_mem_eq(subsel_selection_gains(got), subsel_selection_gains(want),
                     50 * sizeof(double));
    ck_assert(subsel_selection_value(got) == subsel_selection_value(want));
    subsel_selection_free(want);
    subsel_selection_free(got);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    subsel_csr_free(pool);
    subsel_ctx_free(ctx);
}
END_TEST

/* The state sums add up: the states of two disjoint sets, exported and
 * added into an empty state, give the value of their union (what the MPI
 * union adds up with one MPI_Allreduce). */
START_TEST(state_sums_add_up)
{
    subsel_ctx *ctx;
    subsel_csr *pool;
    subsel_objective *obj;
    void *a, *b, *sum;
    int64_t left[3] = {1, 7, 30}, right[2] = {12, 44}, both[5] = {1, 7, 30, 12, 44};
    int64_t n;
    double *sums, *more, want, got;
    double quality[60], edges[1] = {0.5};
    int i;
    ck_assert_ok(NULL, subsel_ctx_create(&ctx));
    pool = random_pool(ctx, 6, 60, 20, 4);
    obj = sdm_part(ctx, pool, 0, 60);
    for (i = 0; i < 60; i++)
        quality[i] = (i % 10) / 10.0;
    ck_assert_ok(ctx, subsel_sdm_set_quality_edges(ctx, obj, quality, 60, edges, 1));
    ck_assert_ok(ctx, subsel_sdm_set_bin_weights(ctx, obj, (const double[]){0.2, 0.8}, 2));
    n = ss_objective_sums_count(obj);
    ck_assert_int_eq(n, 20 + 2);
    sums = calloc((size_t)n, sizeof *sums);
    more = calloc((size_t)n, sizeof *more);
    ck_assert_ok(ctx, ss_state_of_set(ctx, obj, left, 3, &a));
    ck_assert_ok(ctx, ss_state_of_set(ctx, obj, right, 2, &b));
    ss_objective_state_sums(obj, a, sums);
    ss_objective_state_sums(obj, b, more);
    for (i = 0; i < n; i++)
        sums[i] += more[i];
    ck_assert_ok(ctx, ss_objective_state_new(ctx, obj, &sum));
    ck_assert_ok(ctx, ss_objective_add_sums(ctx, obj, sum, sums));
    ck_assert_ok(ctx, ss_objective_value(ctx, obj, sum, &got));
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, both, 5, &want));
    ck_assert_double_eq_tol(got, want, 1e-12 * fabs(want));
    sums[20] = 0.5; /* a bin count must be whole */
    ck_assert_status(ctx, ss_objective_add_sums(ctx, obj, sum, sums), SUBSEL_E_INVALID);
    ss_objective_state_free(obj, a);
    ss_objective_state_free(obj, b);
    ss_objective_state_free(obj, sum);
    free(sums);
    free(more);
    subsel_objective_free(obj);
    subsel_csr_free(pool);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(errors_are_clear)
{
    subsel_ctx *ctx;
    subsel_csr *pool, *other;
    subsel_dense *points;
    subsel_objective *obj, *up, *narrow;
    subsel_optimizer *opt;
    subsel_summary *s[2], *t = NULL;
    float data[8] = {1, 0, 0, 1, 1, 1, 0, 0};
    int64_t rows, cols;
    subsel_selection *sel;
    ck_assert_ok(NULL, subsel_ctx_create(&ctx));
    pool = random_pool(ctx, 4, 100, 12, 3);
    obj = sdm_part(ctx, pool, 0, 50);
    opt = optimizer(ctx, SUBSEL_ALGORITHM_LAZY, 5);
    ck_assert_status(ctx, subsel_summary_select(ctx, opt, obj, 60, 100, &t), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "does not fit a pool"));
    ck_assert_status(ctx, subsel_summary_select(ctx, opt, obj, -1, 100, &t), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_summary_select(ctx, NULL, obj, 0, 100, &t), SUBSEL_E_INVALID);
    ck_assert_ptr_null(t);
    /* objectives not over CSR rows */
    ck_assert_ok(ctx, subsel_dense_create(ctx, 4, 2, data, SUBSEL_OWN_COPY, &points));
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, points, 2, 0.1, &up));
    ck_assert_status(ctx, subsel_summary_select(ctx, opt, up, 0, 4, &t), SUBSEL_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "FB or SDM"));
    /* merges: none, of different pools, overlapping, other columns */
    ck_assert_ok(ctx, subsel_summary_select(ctx, opt, obj, 0, 100, &s[0]));
    ck_assert_ok(ctx, subsel_summary_select(ctx, opt, obj, 0, 101, &s[1]));
    ck_assert_status(ctx, subsel_summary_merge(ctx, opt, obj,
                                               (const subsel_summary *const *)s, 0, &t),
                     SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_summary_merge(ctx, opt, obj,
                                               (const subsel_summary *const *)s, 2, &t),
                     SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "not parts of one pool"));
    subsel_summary_free(s[1]);
    ck_assert_ok(ctx, subsel_summary_select(ctx, opt, obj, 0, 100, &s[1]));
    ck_assert_status(ctx, subsel_summary_merge(ctx, opt, obj,
                                               (const subsel_summary *const *)s, 2, &t),
                     SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "disjoint"));
    other = random_pool(ctx, 4, 10, 13, 3);
    narrow = sdm_part(ctx, other, 0, 10);
    ck_assert_status(ctx, subsel_summary_merge(ctx, opt, narrow,
                                               (const subsel_summary *const *)s, 1, &t),
                     SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "columns"));
    ck_assert_status(ctx, subsel_summary_merge(ctx, opt, up,
                                               (const subsel_summary *const *)s, 1, &t),
                     SUBSEL_E_UNSUPPORTED);
    ck_assert_ptr_null(t);
    ck_assert_status(ctx, subsel_summary_selection(ctx, NULL, &sel), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_summary_count(NULL), 0);
    subsel_summary_free(NULL);
    /* the MPI entry point without MPI initialised, or without MPI */
    ck_assert_int_lt(subsel_mpi_select(ctx, opt, obj, SUBSEL_DISTRIBUTED_EXACT, 0, &sel), 0);
    ck_assert_ptr_null(sel);
    /* the shape of a shard without its arrays */
    ck_assert_ok(ctx, subsel_csr_save_npz(ctx, pool, temp_path("shard.npz"), 1));
    ck_assert_ok(ctx, subsel_csr_npz_shape(ctx, temp_path("shard.npz"), &rows, &cols));
    ck_assert_int_eq(rows, 100);
    ck_assert_int_eq(cols, 12);
    ck_assert_status(ctx, subsel_csr_npz_shape(ctx, "/nonexistent.npz", &rows, &cols),
                     SUBSEL_E_IO);
    subsel_summary_free(s[0]);
    subsel_summary_free(s[1]);
    subsel_objective_free(narrow);
    subsel_csr_free(other);
    subsel_objective_free(up);
    subsel_dense_free(points);
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    subsel_csr_free(pool);
    subsel_ctx_free(ctx);
}
END_TEST

/* Every allocation of a part's selection, a merge and a parse can fail
 * cleanly. */
static int sweep_select_merge_parse(subsel_ctx *ctx, void *arg, int64_t n)
{
    const subsel_csr *pool = arg;
    subsel_objective *a = NULL, *b = NULL;
    subsel_optimizer *opt = NULL;
    subsel_summary *s[2] = {NULL, NULL}, *m = NULL, *back = NULL;
    subsel_csr *va = NULL, *vb = NULL;
    unsigned char buf[1 << 14];
    int64_t size;
    int rc;
    (void)n;
    if ((rc = subsel_csr_view_rows(ctx, pool, 0, 40, &va)) != SUBSEL_OK ||
        (rc = subsel_csr_view_rows(ctx, pool, 40, 40, &vb)) != SUBSEL_OK ||
        (rc = subsel_fb_create(ctx, va, SUBSEL_CONCAVE_SQRT, 0, NULL, &a)) != SUBSEL_OK ||
        (rc = subsel_fb_create(ctx, vb, SUBSEL_CONCAVE_SQRT, 0, NULL, &b)) != SUBSEL_OK ||
        (rc = subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_LAZY, &opt)) != SUBSEL_OK ||
        (rc = subsel_optimizer_set_int(opt, SUBSEL_P_BUDGET, 6)) != SUBSEL_OK ||
        (rc = subsel_summary_select(ctx, opt, a, 0, 80, &s[0])) != SUBSEL_OK ||
        (rc = subsel_summary_select(ctx, opt, b, 40, 80, &s[1])) != SUBSEL_OK ||
        (rc = subsel_summary_merge(ctx, opt, a, (const subsel_summary *const *)s, 2, &m)) !=
            SUBSEL_OK ||
        (rc = subsel_summary_to_bytes(ctx, m, buf, sizeof buf, &size)) != SUBSEL_OK)
        goto done;
    rc = subsel_summary_from_bytes(ctx, buf, size, &back);
done:
    subsel_summary_free(back);
    subsel_summary_free(m);
    subsel_summary_free(s[0]);
    subsel_summary_free(s[1]);
    subsel_optimizer_free(opt);
    subsel_objective_free(a);
    subsel_objective_free(b);
    subsel_csr_free(va);
    subsel_csr_free(vb);
    return rc;
}

START_TEST(allocation_failures_are_clean)
{
    subsel_ctx *ctx;
    subsel_csr *pool;
    ck_assert_ok(NULL, subsel_ctx_create(&ctx));
    pool = random_pool(ctx, 2, 80, 10, 3);
    ck_assert_int_gt(alloc_sweep("select, merge, parse", sweep_select_merge_parse, NULL,
                                 pool),
                     20);
    subsel_csr_free(pool);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *distributed_suite(void)
{
    Suite *s = suite_create("distributed");
    TCase *tc = tcase_create("summaries");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, parts_summarise_with_global_ids);
    tcase_add_test(tc, merges_follow_greedi);
    tcase_add_test(tc, bins_travel_with_rows);
    tcase_add_test(tc, bytes_round_trip_and_refuse_damage);
    tcase_add_test(tc, exact_on_one_process_is_stochastic_greedy);
    tcase_add_test(tc, state_sums_add_up);
    tcase_add_test(tc, errors_are_clear);
    tcase_add_test(tc, allocation_failures_are_clean);
    suite_add_tcase(s, tc);
    return s;
}
