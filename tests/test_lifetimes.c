/* SPDX-License-Identifier: MIT */
/*
 * Lifetimes and output buffers (issue 10, points 4 and 5). Handles that keep
 * other handles hold references on them: a matrix freed by its caller stays
 * valid while an objective, a row view, an encoder or a TAROT selector made
 * from it lives, and a whitened view keeps its selector; whatever the order
 * of the frees, a counting allocator sees every block returned, also when
 * two threads drop the last references at once. Every function that writes
 * into caller memory takes a capacity: a buffer one element too small fails
 * with a message naming it, its capacity and the size needed, and the guard
 * bytes around and inside it stay as they were; the exact size works and
 * gives what the deprecated form without a capacity gives.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "tests/helpers.h"
#include "tests/suites.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static subsel_ctx *counting_ctx(counting_allocator *c)
{
    subsel_ctx *ctx = NULL;
    memset(c, 0, sizeof *c);
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_allocator_alloc,
                                                      counting_allocator_free, c),
                     SUBSEL_OK);
    return ctx;
}

/* Frees the context and asserts that every block the library took through
 * `c` came back. */
static void assert_all_freed(subsel_ctx *ctx, const counting_allocator *c,
                             const char *what)
{
    subsel_ctx_free(ctx);
    ck_assert_msg(c->live == 0, "%s: %lld blocks still allocated", what,
                  (long long)c->live);
}

/* A nonnegative rows x cols CSR matrix with about half the entries set. */
static subsel_csr *random_csr(subsel_ctx *ctx, int64_t rows, int64_t cols,
                              uint64_t seed)
{
    int64_t *indptr = malloc(sizeof *indptr * (size_t)(rows + 1));
    int32_t *indices = malloc(sizeof *indices * (size_t)(rows * cols + 1));
    float *values = malloc(sizeof *values * (size_t)(rows * cols + 1));
    subsel_csr *m = NULL;
    ss_rng rng;
    int64_t r, c, k = 0;
    ss_rng_seed(&rng, seed, 7);
    indptr[0] = 0;
    for (r = 0; r < rows; r++) {
        for (c = 0; c < cols; c++)
            if (ss_rng_uniform(&rng) < 0.5) {
                indices[k] = (int32_t)c;
                values[k++] = (float)(0.1 + ss_rng_uniform(&rng));
            }
        indptr[r + 1] = k;
    }
    ck_assert_ok(ctx, subsel_csr_create(ctx, rows, cols, indptr, indices, values,
                                        SUBSEL_COPY, &m));
    free(indptr);
    free(indices);
    free(values);
    return m;
}

/* rows x cols standard normal values (plus `shift`), copied. */
static subsel_dense *random_dense(subsel_ctx *ctx, int64_t rows, int64_t cols,
                                  uint64_t seed, double shift)
{
    float *x = malloc(sizeof *x * (size_t)(rows * cols + 1));
    subsel_dense *d = NULL;
    ss_rng rng;
    int64_t i;
    ss_rng_seed(&rng, seed, 3);
    for (i = 0; i < rows * cols; i++)
        x[i] = (float)(ss_rng_normal(&rng) + shift);
    ck_assert_ok(ctx, subsel_dense_create(ctx, rows, cols, x, SUBSEL_COPY, &d));
    free(x);
    return d;
}

/* A greedy selection of `budget` items (naive greedy, to the budget). */
static subsel_selection *greedy(subsel_ctx *ctx, const subsel_objective *obj,
                                int64_t budget)
{
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL;
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, budget));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE,
                                               SUBSEL_STOP_NEVER));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &sel));
    subsel_optimizer_free(opt);
    return sel;
}

static void assert_same_selection(const subsel_selection *a,
                                  const subsel_selection *b)
{
    int64_t n = subsel_selection_count(a);
    ck_assert_int_eq(n, subsel_selection_count(b));
    ck_assert_int_gt(n, 0);
    ck_assert_mem_eq(subsel_selection_indices(a), subsel_selection_indices(b),
                     sizeof(int64_t) * (size_t)n);
    ck_assert(subsel_selection_value(a) == subsel_selection_value(b));
}

/* The value of the first three items, from scratch. */
static double value_of_three(subsel_ctx *ctx, const subsel_objective *obj)
{
    static const int64_t set[3] = {0, 2, 3};
    double v = -1.0;
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, set, 3, &v));
    return v;
}

/* ------------------------------------------------------------------------ */
/* 4. Borrowed handles cannot dangle                                        */
/* ------------------------------------------------------------------------ */

START_TEST(row_view_outlives_its_parent)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_csr *z = random_csr(ctx, 9, 6, 1), *view = NULL, *inner = NULL;
    double want[6], got[6];
    const int32_t *idx, *idx2;
    const float *val, *val2;
    int64_t r, n, n2;
    int32_t *want_idx[4];
    float *want_val[4];
    int64_t want_n[4];

    ck_assert_ok(ctx, subsel_csr_view_rows(ctx, z, 3, 4, &view));
    for (r = 0; r < 4; r++) {
        ck_assert_ok(ctx, subsel_csr_row(z, 3 + r, &idx, &val, &n));
        want_n[r] = n;
        want_idx[r] = malloc(sizeof(int32_t) * (size_t)(n + 1));
        want_val[r] = malloc(sizeof(float) * (size_t)(n + 1));
        memcpy(want_idx[r], idx, sizeof(int32_t) * (size_t)n);
        memcpy(want_val[r], val, sizeof(float) * (size_t)n);
    }
    ck_assert_ok(ctx, subsel_csr_column_sums_v2(ctx, view, want, 6));
    subsel_csr_free(z); /* the view keeps it */
    for (r = 0; r < 4; r++) {
        ck_assert_ok(ctx, subsel_csr_row(view, r, &idx2, &val2, &n2));
        ck_assert_int_eq(n2, want_n[r]);
        ck_assert_mem_eq(idx2, want_idx[r], sizeof(int32_t) * (size_t)n2);
        ck_assert_mem_eq(val2, want_val[r], sizeof(float) * (size_t)n2);
        free(want_idx[r]);
        free(want_val[r]);
    }
    ck_assert_ok(ctx, subsel_csr_column_sums_v2(ctx, view, got, 6));
    ck_assert_mem_eq(got, want, sizeof want);
    /* A view of the view keeps the chain alive. */
    ck_assert_ok(ctx, subsel_csr_view_rows(ctx, view, 1, 2, &inner));
    subsel_csr_free(view);
    ck_assert_int_eq(subsel_csr_rows(inner), 2);
    ck_assert_ok(ctx, subsel_csr_row(inner, 1, &idx2, &val2, &n2));
    ck_assert_int_eq(n2, want_n[2]);
    ck_assert(c.live > 1);
    subsel_csr_free(inner);
    assert_all_freed(ctx, &c, "row views");
}
END_TEST

START_TEST(fb_and_sdm_objectives_outlive_their_matrix)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_csr *z = random_csr(ctx, 30, 8, 2);
    subsel_objective *fb = NULL, *sdm = NULL;
    subsel_selection *want_fb, *want_sdm, *got;
    double p[8] = {1, 2, 3, 4, 4, 3, 2, 1}, v_fb, v_sdm;

    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0.0, NULL, &fb));
    ck_assert_ok(ctx, subsel_sdm_create(ctx, z, &sdm));
    ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, sdm, p, 8));
    want_fb = greedy(ctx, fb, 5);
    want_sdm = greedy(ctx, sdm, 5);
    v_fb = value_of_three(ctx, fb);
    v_sdm = value_of_three(ctx, sdm);

    subsel_csr_free(z); /* both objectives keep it */
    ck_assert(value_of_three(ctx, fb) == v_fb);
    got = greedy(ctx, fb, 5);
    assert_same_selection(got, want_fb);
    subsel_selection_free(got);
    subsel_objective_free(fb);
    /* still kept by the SDM objective */
    ck_assert(value_of_three(ctx, sdm) == v_sdm);
    got = greedy(ctx, sdm, 5);
    assert_same_selection(got, want_sdm);
    subsel_selection_free(got);
    subsel_objective_free(sdm);
    subsel_selection_free(want_fb);
    subsel_selection_free(want_sdm);
    assert_all_freed(ctx, &c, "FB and SDM");
}
END_TEST

START_TEST(uniprot_outlives_its_similarity_matrix)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_dense *s = random_dense(ctx, 12, 7, 3, 2.0);
    subsel_objective *obj = NULL;
    subsel_selection *want, *got;
    static const int64_t set[2] = {4, 1};
    double plan[14], v, v2;

    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, 4, 0.5, &obj));
    want = greedy(ctx, obj, 4);
    ck_assert_ok(ctx, subsel_uniprot_plan_v2(ctx, obj, set, 2, plan, 14, &v));
    subsel_dense_free(s);
    got = greedy(ctx, obj, 4);
    assert_same_selection(got, want);
    ck_assert_ok(ctx, subsel_uniprot_plan_v2(ctx, obj, set, 2, plan, 14, &v2));
    ck_assert(v == v2);
    subsel_selection_free(got);
    subsel_selection_free(want);
    subsel_objective_free(obj);
    assert_all_freed(ctx, &c, "UniPROT");
}
END_TEST

START_TEST(clipcov_outlives_its_embeddings)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_dense *image = random_dense(ctx, 16, 5, 4, 0.3);
    subsel_dense *text = random_dense(ctx, 16, 5, 5, 0.3);
    subsel_dense *labels = random_dense(ctx, 3, 5, 6, 0.3);
    subsel_objective *zero_shot = NULL, *given = NULL;
    subsel_selection *want1, *want2, *got;
    int64_t classes[16], i;
    double v1, v2;

    for (i = 0; i < 16; i++)
        classes[i] = i % 3;
    ck_assert_ok(ctx, subsel_clipcov_create(ctx, image, text, labels, NULL, 1,
                                            &zero_shot));
    ck_assert_ok(ctx, subsel_clipcov_create(ctx, image, text, NULL, classes, 0,
                                            &given));
    want1 = greedy(ctx, zero_shot, 6);
    want2 = greedy(ctx, given, 6);
    v1 = value_of_three(ctx, zero_shot);
    v2 = value_of_three(ctx, given);
    subsel_dense_free(labels);
    subsel_dense_free(text);
    subsel_dense_free(image);
    got = greedy(ctx, zero_shot, 6);
    assert_same_selection(got, want1);
    subsel_selection_free(got);
    ck_assert(value_of_three(ctx, zero_shot) == v1);
    subsel_objective_free(zero_shot);
    got = greedy(ctx, given, 6);
    assert_same_selection(got, want2);
    subsel_selection_free(got);
    ck_assert(value_of_three(ctx, given) == v2);
    subsel_objective_free(given);
    subsel_selection_free(want1);
    subsel_selection_free(want2);
    assert_all_freed(ctx, &c, "ClipCov");
}
END_TEST

static void assert_same_csr(const subsel_csr *a, const subsel_csr *b)
{
    int64_t r;
    ck_assert_int_eq(subsel_csr_rows(a), subsel_csr_rows(b));
    ck_assert_int_eq(subsel_csr_nnz(a), subsel_csr_nnz(b));
    for (r = 0; r < subsel_csr_rows(a); r++) {
        const int32_t *ia, *ib;
        const float *va, *vb;
        int64_t na, nb;
        ck_assert_int_eq(subsel_csr_row(a, r, &ia, &va, &na), SUBSEL_OK);
        ck_assert_int_eq(subsel_csr_row(b, r, &ib, &vb, &nb), SUBSEL_OK);
        ck_assert_int_eq(na, nb);
        ck_assert_mem_eq(ia, ib, sizeof *ia * (size_t)na);
        ck_assert_mem_eq(va, vb, sizeof *va * (size_t)na);
    }
}

START_TEST(sae_outlives_its_w_enc)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_dense *w = random_dense(ctx, 12, 6, 7, 0.0);
    subsel_dense *x = random_dense(ctx, 10, 6, 8, 0.5);
    subsel_sae *sae = NULL;
    subsel_csr *want = NULL, *got = NULL;

    ck_assert_ok(ctx, subsel_sae_create(ctx, w, NULL, NULL, &sae));
    ck_assert_ok(ctx, subsel_sae_encode(ctx, sae, x, 3, &want));
    subsel_dense_free(w);
    ck_assert_ok(ctx, subsel_sae_encode(ctx, sae, x, 3, &got));
    assert_same_csr(got, want);
    subsel_sae_free(sae);
    subsel_csr_free(got);
    subsel_csr_free(want);
    subsel_dense_free(x);
    assert_all_freed(ctx, &c, "SAE");
}
END_TEST

START_TEST(tarot_outlives_its_matrices)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_dense *cand = random_dense(ctx, 40, 6, 9, 0.0);
    subsel_dense *targ = random_dense(ctx, 8, 6, 10, 0.4);
    subsel_tarot *t1 = NULL, *t2 = NULL;
    subsel_selection *want = NULL, *got = NULL;

    ck_assert_ok(ctx, subsel_tarot_create(ctx, cand, targ, &t1));
    ck_assert_ok(ctx, subsel_tarot_create(ctx, cand, targ, &t2));
    ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t1, 10, &want));
    subsel_tarot_free(t1);
    /* t2 has not whitened yet: it reads the freed-by-caller matrices now */
    subsel_dense_free(cand);
    subsel_dense_free(targ);
    ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t2, 10, &got));
    assert_same_selection(got, want);
    subsel_selection_free(got);
    subsel_selection_free(want);
    subsel_tarot_free(t2);
    assert_all_freed(ctx, &c, "TAROT");
}
END_TEST

START_TEST(whitened_views_outlive_their_selector)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_dense *cand = random_dense(ctx, 30, 5, 11, 0.0);
    subsel_dense *targ = random_dense(ctx, 6, 5, 12, 0.2);
    subsel_tarot *t = NULL;
    subsel_dense *u = NULL, *v = NULL;
    subsel_objective *obj = NULL;
    float *u_copy, *v_copy;
    double sums[5], sums_again[5];
    int64_t nu, nv;

    ck_assert_ok(ctx, subsel_tarot_create(ctx, cand, targ, &t));
    subsel_dense_free(cand);
    subsel_dense_free(targ);
    ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t, &u, &v));
    nu = subsel_dense_rows(u) * subsel_dense_cols(u);
    nv = subsel_dense_rows(v) * subsel_dense_cols(v);
    ck_assert_int_eq(nu, 30 * 5);
    u_copy = malloc(sizeof *u_copy * (size_t)nu);
    v_copy = malloc(sizeof *v_copy * (size_t)nv);
    memcpy(u_copy, subsel_dense_data(u), sizeof *u_copy * (size_t)nu);
    memcpy(v_copy, subsel_dense_data(v), sizeof *v_copy * (size_t)nv);
    ck_assert_ok(ctx, subsel_dense_column_sums_v2(ctx, u, sums, 5));

    subsel_tarot_free(t); /* each view keeps it */
    ck_assert_mem_eq(subsel_dense_data(u), u_copy, sizeof *u_copy * (size_t)nu);
    ck_assert_ok(ctx, subsel_dense_column_sums_v2(ctx, u, sums_again, 5));
    ck_assert_mem_eq(sums, sums_again, sizeof sums);
    /* A view can feed another handle, which keeps it (and so the
     * selector) alive. */
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, u, 3, 1.0, &obj));
    subsel_dense_free(u);
    (void)value_of_three(ctx, obj);
    ck_assert_mem_eq(subsel_dense_data(v), v_copy, sizeof *v_copy * (size_t)nv);
    subsel_dense_free(v);
    (void)value_of_three(ctx, obj);
    subsel_objective_free(obj);
    free(u_copy);
    free(v_copy);
    assert_all_freed(ctx, &c, "whitened views");
}
END_TEST

/* Every order of freeing four handles that keep one another: a CSR chain
 * (matrix, row view, FB over the view, SDM over the matrix) and a dense one
 * (matrix, TAROT over it twice, a whitened view, UniPROT over the view).
 * After each free, what is left is used; at the end nothing is left. */
static const int perms_of_4[24][4] = {
    {0, 1, 2, 3}, {0, 1, 3, 2}, {0, 2, 1, 3}, {0, 2, 3, 1}, {0, 3, 1, 2},
    {0, 3, 2, 1}, {1, 0, 2, 3}, {1, 0, 3, 2}, {1, 2, 0, 3}, {1, 2, 3, 0},
    {1, 3, 0, 2}, {1, 3, 2, 0}, {2, 0, 1, 3}, {2, 0, 3, 1}, {2, 1, 0, 3},
    {2, 1, 3, 0}, {2, 3, 0, 1}, {2, 3, 1, 0}, {3, 0, 1, 2}, {3, 0, 2, 1},
    {3, 1, 0, 2}, {3, 1, 2, 0}, {3, 2, 0, 1}, {3, 2, 1, 0}};

START_TEST(csr_handles_free_in_any_order)
{
    int order = _i;
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_csr *z = random_csr(ctx, 20, 6, 13), *view = NULL;
    subsel_objective *fb = NULL, *sdm = NULL;
    double p[6] = {1, 1, 2, 2, 3, 3};
    int alive[4] = {1, 1, 1, 1}, step;

    ck_assert_ok(ctx, subsel_csr_view_rows(ctx, z, 5, 10, &view));
    ck_assert_ok(ctx, subsel_fb_create(ctx, view, SUBSEL_CONCAVE_LOG1P, 0.0, NULL, &fb));
    ck_assert_ok(ctx, subsel_sdm_create(ctx, z, &sdm));
    ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, sdm, p, 6));
    for (step = 0; step < 4; step++) {
        int h = perms_of_4[order][step];
        switch (h) {
        case 0: subsel_csr_free(z); break;
        case 1: subsel_csr_free(view); break;
        case 2: subsel_objective_free(fb); break;
        default: subsel_objective_free(sdm); break;
        }
        alive[h] = 0;
        if (alive[1])
            ck_assert_int_eq(subsel_csr_nnz(view) >= 0, 1);
        if (alive[2])
            (void)value_of_three(ctx, fb);
        if (alive[3])
            (void)value_of_three(ctx, sdm);
    }
    assert_all_freed(ctx, &c, "CSR chain");
}
END_TEST

START_TEST(dense_handles_free_in_any_order)
{
    int order = _i;
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_dense *d = random_dense(ctx, 12, 4, 14, 0.0), *u = NULL;
    subsel_tarot *t = NULL;
    subsel_objective *up = NULL;
    subsel_selection *sel;
    int alive[4] = {1, 1, 1, 1}, step;

    ck_assert_ok(ctx, subsel_tarot_create(ctx, d, d, &t));
    ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t, &u, NULL));
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, u, 3, 1.0, &up));
    for (step = 0; step < 4; step++) {
        int h = perms_of_4[order][step];
        switch (h) {
        case 0: subsel_dense_free(d); break;
        case 1: subsel_tarot_free(t); break;
        case 2: subsel_dense_free(u); break;
        default: subsel_objective_free(up); break;
        }
        alive[h] = 0;
        if (alive[1]) {
            ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t, 3, &sel));
            subsel_selection_free(sel);
        }
        if (alive[2])
            ck_assert_int_eq(subsel_dense_rows(u), 12);
        if (alive[3])
            (void)value_of_three(ctx, up);
    }
    assert_all_freed(ctx, &c, "dense chain");
}
END_TEST

/* A thread with its own context that runs naive greedy (budget 6) on `obj`
 * when both threads are ready, then, with `free_obj`, frees the objective
 * when both have selected (so that the two frees race). */
typedef struct worker {
    const subsel_objective *obj;
    int free_obj;
    pthread_barrier_t *start;
    subsel_selection *sel;
    int status;
} worker;

static void *select_in_thread(void *arg)
{
    worker *w = arg;
    subsel_ctx *ctx = NULL;
    subsel_optimizer *opt = NULL;
    w->status = subsel_ctx_create(&ctx);
    if (w->status == SUBSEL_OK)
        w->status = subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1);
    if (w->status == SUBSEL_OK)
        w->status = subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, &opt);
    if (w->status == SUBSEL_OK)
        w->status = subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 6);
    if (w->status == SUBSEL_OK)
        w->status = subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE,
                                             SUBSEL_STOP_NEVER);
    pthread_barrier_wait(w->start);
    if (w->status == SUBSEL_OK)
        w->status = subsel_optimizer_run(ctx, opt, w->obj, &w->sel);
    pthread_barrier_wait(w->start);
    if (w->free_obj)
        subsel_objective_free((subsel_objective *)w->obj);
    subsel_optimizer_free(opt);
    subsel_ctx_free(ctx);
    return NULL;
}

/* Runs two workers and checks that both selected `want`. */
static void run_two(worker *w, const subsel_selection *want)
{
    pthread_barrier_t start;
    pthread_t tid[2];
    int i;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, 2), 0);
    for (i = 0; i < 2; i++) {
        w[i].start = &start;
        w[i].sel = NULL;
        ck_assert_int_eq(pthread_create(&tid[i], NULL, select_in_thread, &w[i]), 0);
    }
    for (i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(w[i].status, SUBSEL_OK);
        assert_same_selection(w[i].sel, want);
        subsel_selection_free(w[i].sel);
    }
}

/* Two threads, each with its own context, select with their own objective
 * over one matrix whose caller has freed it, then free their objectives at
 * the same time: the last reference destroys the matrix, once. */
START_TEST(threads_free_objectives_sharing_a_matrix)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_csr *z = random_csr(ctx, 40, 10, 15);
    subsel_objective *obj = NULL;
    subsel_selection *want;
    int round, i;

    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0.0, NULL, &obj));
    want = greedy(ctx, obj, 6);
    subsel_objective_free(obj);
    subsel_csr_free(z);
    for (round = 0; round < 50; round++) {
        worker w[2];
        z = random_csr(ctx, 40, 10, 15);
        memset(w, 0, sizeof w);
        for (i = 0; i < 2; i++) {
            ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0.0,
                                               NULL, &obj));
            w[i].obj = obj;
            w[i].free_obj = 1;
        }
        subsel_csr_free(z); /* only the objectives keep it now */
        run_two(w, want);
    }
    subsel_selection_free(want);
    assert_all_freed(ctx, &c, "two threads");
}
END_TEST

/* Two threads, each with its own context, run optimizers on one objective
 * at once (the header's promise for calls taking a const objective). */
START_TEST(threads_share_one_objective)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_csr *z = random_csr(ctx, 60, 12, 16);
    subsel_objective *obj = NULL;
    subsel_selection *want;
    worker w[2];
    int round;

    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0.0, NULL, &obj));
    subsel_csr_free(z);
    want = greedy(ctx, obj, 6);
    for (round = 0; round < 20; round++) {
        memset(w, 0, sizeof w);
        w[0].obj = w[1].obj = obj;
        run_two(w, want);
    }
    subsel_selection_free(want);
    subsel_objective_free(obj);
    assert_all_freed(ctx, &c, "one objective");
}
END_TEST

/* A constructor that fails (allocation number n failing, for every n)
 * keeps nothing: once its inputs are freed, they are gone. The inputs are
 * made on a context of their own, whose counter must come back to zero. */
enum { MAKE_VIEW, MAKE_FB, MAKE_SDM, MAKE_UNIPROT, MAKE_CLIPCOV, MAKE_SAE,
       MAKE_TAROT, MAKE_WHITENED, MAKE_KINDS };

static int make_keeper(subsel_ctx *ctx, int kind, subsel_csr *z,
                       subsel_dense *a, subsel_dense *b, subsel_tarot *t)
{
    subsel_csr *view = NULL;
    subsel_objective *obj = NULL;
    subsel_sae *sae = NULL;
    subsel_tarot *t2 = NULL;
    subsel_dense *u = NULL, *v = NULL;
    int64_t labels[12], i;
    int rc;
    for (i = 0; i < 12; i++)
        labels[i] = i % 4;
    switch (kind) {
    case MAKE_VIEW:
        rc = subsel_csr_view_rows(ctx, z, 2, 5, &view);
        ck_assert(rc == SUBSEL_OK || view == NULL);
        subsel_csr_free(view);
        return rc;
    case MAKE_FB:
        rc = subsel_fb_create(ctx, z, SUBSEL_CONCAVE_LOG1P, 0.0, NULL, &obj);
        break;
    case MAKE_SDM:
        rc = subsel_sdm_create(ctx, z, &obj);
        break;
    case MAKE_UNIPROT:
        rc = subsel_uniprot_create(ctx, a, 3, 1.0, &obj);
        break;
    case MAKE_CLIPCOV:
        rc = subsel_clipcov_create(ctx, a, b, NULL, labels, 1, &obj);
        break;
    case MAKE_SAE:
        rc = subsel_sae_create(ctx, a, NULL, NULL, &sae);
        ck_assert(rc == SUBSEL_OK || sae == NULL);
        subsel_sae_free(sae);
        return rc;
    case MAKE_TAROT:
        rc = subsel_tarot_create(ctx, a, b, &t2);
        ck_assert(rc == SUBSEL_OK || t2 == NULL);
        subsel_tarot_free(t2);
        return rc;
    default:
        rc = subsel_tarot_whiten(ctx, t, &u, &v);
        ck_assert(rc == SUBSEL_OK || (u == NULL && v == NULL));
        subsel_dense_free(u);
        subsel_dense_free(v);
        return rc;
    }
    ck_assert(rc == SUBSEL_OK || obj == NULL);
    subsel_objective_free(obj);
    return rc;
}

START_TEST(failed_constructors_keep_nothing)
{
    const int kind = _i;
    int64_t n;
    int done = 0;
    for (n = 1; n < 10000 && !done; n++) {
        counting_allocator cm, cf;
        subsel_ctx *maker = counting_ctx(&cm), *ctx;
        subsel_csr *z = random_csr(maker, 12, 5, 30);
        subsel_dense *a = random_dense(maker, 12, 5, 31, 0.5);
        subsel_dense *b = random_dense(maker, 12, 5, 32, 0.5);
        subsel_tarot *t = NULL;
        int rc;
        ck_assert_ok(maker, subsel_tarot_create(maker, a, b, &t));
        memset(&cf, 0, sizeof cf);
        cf.fail_at = n;
        if (subsel_ctx_create_with_allocator(&ctx, counting_allocator_alloc,
                                             counting_allocator_free, &cf) == SUBSEL_OK) {
            ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1));
            rc = make_keeper(ctx, kind, z, a, b, t);
            ck_assert_msg(rc == SUBSEL_OK || rc == SUBSEL_E_NOMEM,
                          "kind %d, allocation %lld failing: %d (%s)", kind,
                          (long long)n, rc, subsel_ctx_last_error(ctx));
            done = rc == SUBSEL_OK;
            subsel_ctx_free(ctx);
        }
        ck_assert_msg(cf.live == 0, "kind %d, allocation %lld failing: %lld blocks left",
                      kind, (long long)n, (long long)cf.live);
        subsel_tarot_free(t);
        subsel_csr_free(z);
        subsel_dense_free(a);
        subsel_dense_free(b);
        assert_all_freed(maker, &cm, "the inputs of a failed constructor");
    }
    ck_assert(done);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 5. Every output buffer has a capacity                                    */
/* ------------------------------------------------------------------------ */

/* A buffer of n elements of `size` bytes with GUARD elements of 0xA5 bytes
 * on each side, itself filled with 0xA5: a refused call must leave all of
 * it so, and a successful one must not touch the guards. */
#define GUARD 8
#define POISON 0xA5

static void *guarded(size_t size, int64_t n)
{
    size_t bytes = size * (size_t)(n + 2 * GUARD);
    unsigned char *p = malloc(bytes);
    ck_assert_ptr_nonnull(p);
    memset(p, POISON, bytes);
    return p + size * GUARD;
}

static int region_is_poison(const void *buf, size_t size, int64_t from,
                            int64_t to)
{
    const unsigned char *p = (const unsigned char *)buf + (int64_t)size * from;
    size_t i, bytes = size * (size_t)(to - from);
    for (i = 0; i < bytes; i++)
        if (p[i] != POISON)
            return 0;
    return 1;
}

/* All of it (guards and the n elements) untouched. */
static void assert_untouched(const void *buf, size_t size, int64_t n)
{
    ck_assert_msg(region_is_poison(buf, size, -GUARD, n + GUARD),
                  "a refused call wrote into the buffer");
}

/* The guards untouched (the n elements may have been written). */
static void assert_guards(const void *buf, size_t size, int64_t n)
{
    ck_assert_msg(region_is_poison(buf, size, -GUARD, 0) &&
                      region_is_poison(buf, size, n, n + GUARD),
                  "a call wrote outside its buffer");
}

static void release(void *buf, size_t size)
{
    if (buf != NULL)
        free((unsigned char *)buf - size * GUARD);
}

/* A refused call's message names the buffer, its capacity and the need. */
static void assert_capacity_message(subsel_ctx *ctx, const char *name,
                                    int64_t capacity, int64_t needed)
{
    char want[128];
    snprintf(want, sizeof want, "%s has room for %lld values, %lld needed",
             name, (long long)capacity, (long long)needed);
    ck_assert_msg(strstr(subsel_ctx_last_error(ctx), want) != NULL,
                  "message \"%s\" does not say \"%s\"",
                  subsel_ctx_last_error(ctx), want);
}

START_TEST(column_sums_have_a_capacity)
{
    subsel_ctx *ctx = NULL;
    subsel_csr *z;
    subsel_dense *d;
    double *sums, old[7];
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    z = random_csr(ctx, 15, 7, 17);
    d = random_dense(ctx, 15, 7, 18, 0.0);

    sums = guarded(sizeof *sums, 7);
    ck_assert_status(ctx, subsel_csr_column_sums_v2(ctx, z, sums, 6), SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "sums", 6, 7);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "subsel_csr_column_sums") != NULL);
    assert_untouched(sums, sizeof *sums, 7);
    ck_assert_status(ctx, subsel_csr_column_sums_v2(ctx, z, sums, -1), SUBSEL_E_INVALID);
    assert_untouched(sums, sizeof *sums, 7);
    ck_assert_ok(ctx, subsel_csr_column_sums_v2(ctx, z, sums, 7));
    assert_guards(sums, sizeof *sums, 7);
    ck_assert_ok(ctx, subsel_csr_column_sums(ctx, z, old));
    ck_assert_mem_eq(sums, old, sizeof old);
    release(sums, sizeof *sums);

    sums = guarded(sizeof *sums, 7);
    ck_assert_status(ctx, subsel_dense_column_sums_v2(ctx, d, sums, 0), SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "sums", 0, 7);
    assert_untouched(sums, sizeof *sums, 7);
    ck_assert_ok(ctx, subsel_dense_column_sums_v2(ctx, d, sums, 7));
    assert_guards(sums, sizeof *sums, 7);
    ck_assert_ok(ctx, subsel_dense_column_sums(ctx, d, old));
    ck_assert_mem_eq(sums, old, sizeof old);
    /* a larger buffer is fine and only its first cols values are written */
    release(sums, sizeof *sums);
    sums = guarded(sizeof *sums, 10);
    ck_assert_ok(ctx, subsel_dense_column_sums_v2(ctx, d, sums, 10));
    ck_assert(region_is_poison(sums, sizeof *sums, 7, 10 + GUARD));
    release(sums, sizeof *sums);

    subsel_csr_free(z);
    subsel_dense_free(d);
    subsel_ctx_free(ctx);
}
END_TEST

/* The four OT entry points through one signature: on a cost matrix
 * (points 0) or between the rows of x and y (points 1), balanced (mass
 * <= 0) or partial. */
static int ot_v2(subsel_ctx *ctx, int points, const double *cost,
                 const subsel_dense *x, const subsel_dense *y, double mass,
                 double *value, double *f, int64_t fc, double *g, int64_t gc,
                 double *plan, int64_t pc)
{
    const int64_t n = subsel_dense_rows(x), m = subsel_dense_rows(y);
    if (points && mass > 0)
        return subsel_ot_partial_points_v2(ctx, NULL, NULL, x, NULL, y,
                                           SUBSEL_COST_SQEUCLID, 0.5, mass,
                                           value, f, fc, g, gc, plan, pc);
    if (points)
        return subsel_ot_sinkhorn_points_v2(ctx, NULL, NULL, x, NULL, y,
                                            SUBSEL_COST_SQEUCLID, 0.5, value,
                                            f, fc, g, gc, plan, pc);
    if (mass > 0)
        return subsel_ot_partial_v2(ctx, NULL, NULL, n, NULL, m, cost, 0.5,
                                    mass, value, f, fc, g, gc, plan, pc);
    return subsel_ot_sinkhorn_v2(ctx, NULL, NULL, n, NULL, m, cost, 0.5, value,
                                 f, fc, g, gc, plan, pc);
}

static int ot_old(subsel_ctx *ctx, int points, const double *cost,
                  const subsel_dense *x, const subsel_dense *y, double mass,
                  double *value, double *f, double *g, double *plan)
{
    const int64_t n = subsel_dense_rows(x), m = subsel_dense_rows(y);
    if (points && mass > 0)
        return subsel_ot_partial_points(ctx, NULL, NULL, x, NULL, y,
                                        SUBSEL_COST_SQEUCLID, 0.5, mass, value,
                                        f, g, plan);
    if (points)
        return subsel_ot_sinkhorn_points(ctx, NULL, NULL, x, NULL, y,
                                         SUBSEL_COST_SQEUCLID, 0.5, value, f,
                                         g, plan);
    if (mass > 0)
        return subsel_ot_partial(ctx, NULL, NULL, n, NULL, m, cost, 0.5, mass,
                                 value, f, g, plan);
    return subsel_ot_sinkhorn(ctx, NULL, NULL, n, NULL, m, cost, 0.5, value, f,
                              g, plan);
}

START_TEST(ot_outputs_have_capacities)
{
    const int points = _i / 2;
    const double mass = _i % 2 ? 0.6 : 0.0;
    const int64_t n = 5, m = 4;
    subsel_ctx *ctx = NULL;
    subsel_dense *x, *y;
    double cost[20], value, old_value, old_f[5], old_g[4], old_plan[20];
    double *f, *g, *plan;
    int64_t i, j, k;
    int which;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    x = random_dense(ctx, n, 3, 19, 0.0);
    y = random_dense(ctx, m, 3, 20, 0.5);
    for (i = 0; i < n; i++)
        for (j = 0; j < m; j++) {
            double d2 = 0.0;
            for (k = 0; k < 3; k++) {
                double t = (double)subsel_dense_row(x, i)[k] -
                           (double)subsel_dense_row(y, j)[k];
                d2 += t * t;
            }
            cost[i * m + j] = d2;
        }

    /* One buffer at a time one element short; the others large enough. */
    for (which = 0; which < 3; which++) {
        const char *name = which == 0 ? "f" : which == 1 ? "g" : "plan";
        const int64_t need = which == 0 ? n : which == 1 ? m : n * m;
        f = guarded(sizeof *f, n);
        g = guarded(sizeof *g, m);
        plan = guarded(sizeof *plan, n * m);
        value = -7.0;
        ck_assert_status(ctx,
                         ot_v2(ctx, points, cost, x, y, mass, &value, f,
                               n - (which == 0), g, m - (which == 1), plan,
                               n * m - (which == 2)),
                         SUBSEL_E_INVALID);
        assert_capacity_message(ctx, name, need - 1, need);
        assert_untouched(f, sizeof *f, n);
        assert_untouched(g, sizeof *g, m);
        assert_untouched(plan, sizeof *plan, n * m);
        ck_assert(value == -7.0);
        release(f, sizeof *f);
        release(g, sizeof *g);
        release(plan, sizeof *plan);
    }
    /* Capacities of NULL outputs are not looked at. */
    ck_assert_ok(ctx, ot_v2(ctx, points, cost, x, y, mass, &value, NULL, -1,
                            NULL, -1, NULL, -1));
    /* Exact sizes work and give what the deprecated form gives. */
    f = guarded(sizeof *f, n);
    g = guarded(sizeof *g, m);
    plan = guarded(sizeof *plan, n * m);
    ck_assert_ok(ctx, ot_v2(ctx, points, cost, x, y, mass, &value, f, n, g, m,
                            plan, n * m));
    assert_guards(f, sizeof *f, n);
    assert_guards(g, sizeof *g, m);
    assert_guards(plan, sizeof *plan, n * m);
    ck_assert_ok(ctx, ot_old(ctx, points, cost, x, y, mass, &old_value, old_f,
                             old_g, old_plan));
    ck_assert(value == old_value);
    ck_assert_mem_eq(f, old_f, sizeof old_f);
    ck_assert_mem_eq(g, old_g, sizeof old_g);
    ck_assert_mem_eq(plan, old_plan, sizeof old_plan);
    release(f, sizeof *f);
    release(g, sizeof *g);
    release(plan, sizeof *plan);
    subsel_dense_free(x);
    subsel_dense_free(y);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(uniprot_plan_has_a_capacity)
{
    subsel_ctx *ctx = NULL;
    subsel_dense *s;
    subsel_objective *obj = NULL;
    static const int64_t set[3] = {2, 0, 5};
    double *plan, old[3 * 6], v = -7.0, old_v;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    s = random_dense(ctx, 9, 6, 21, 1.0);
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, 4, 0.5, &obj));
    plan = guarded(sizeof *plan, 18);
    ck_assert_status(ctx, subsel_uniprot_plan_v2(ctx, obj, set, 3, plan, 17, &v),
                     SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "plan", 17, 18);
    assert_untouched(plan, sizeof *plan, 18);
    ck_assert(v == -7.0);
    ck_assert_ok(ctx, subsel_uniprot_plan_v2(ctx, obj, set, 3, plan, 18, &v));
    assert_guards(plan, sizeof *plan, 18);
    ck_assert_ok(ctx, subsel_uniprot_plan(ctx, obj, set, 3, old, &old_v));
    ck_assert(v == old_v);
    ck_assert_mem_eq(plan, old, sizeof old);
    /* no plan wanted: its capacity is not looked at */
    ck_assert_ok(ctx, subsel_uniprot_plan_v2(ctx, obj, set, 3, NULL, -1, &v));
    ck_assert(v == old_v);
    release(plan, sizeof *plan);
    subsel_objective_free(obj);
    subsel_dense_free(s);
    subsel_ctx_free(ctx);
}
END_TEST

static subsel_tarot *small_tarot(subsel_ctx *ctx)
{
    subsel_dense *cand = random_dense(ctx, 25, 4, 22, 0.0);
    subsel_dense *targ = random_dense(ctx, 6, 4, 23, 0.3);
    subsel_tarot *t = NULL;
    ck_assert_ok(ctx, subsel_tarot_create(ctx, cand, targ, &t));
    subsel_dense_free(cand);
    subsel_dense_free(targ);
    return t;
}

START_TEST(tarot_scores_have_capacities)
{
    subsel_ctx *ctx = NULL;
    subsel_tarot *t;
    float *scores, *dist, old_s[7 * 3], old_d[7 * 3];
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    t = small_tarot(ctx);
    scores = guarded(sizeof *scores, 21);
    dist = guarded(sizeof *dist, 21);
    ck_assert_status(ctx, subsel_tarot_scores_v2(ctx, t, 4, 7, 2, 3, scores, 20,
                                                 dist, 21),
                     SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "scores", 20, 21);
    ck_assert_status(ctx, subsel_tarot_scores_v2(ctx, t, 4, 7, 2, 3, scores, 21,
                                                 dist, 3),
                     SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "distances", 3, 21);
    assert_untouched(scores, sizeof *scores, 21);
    assert_untouched(dist, sizeof *dist, 21);
    ck_assert_ok(ctx, subsel_tarot_scores_v2(ctx, t, 4, 7, 2, 3, scores, 21,
                                             dist, 21));
    assert_guards(scores, sizeof *scores, 21);
    assert_guards(dist, sizeof *dist, 21);
    ck_assert_ok(ctx, subsel_tarot_scores(ctx, t, 4, 7, 2, 3, old_s, old_d));
    ck_assert_mem_eq(scores, old_s, sizeof old_s);
    ck_assert_mem_eq(dist, old_d, sizeof old_d);
    /* distances not wanted: their capacity is not looked at */
    ck_assert_ok(ctx, subsel_tarot_scores_v2(ctx, t, 4, 7, 2, 3, scores, 21,
                                             NULL, -1));
    release(scores, sizeof *scores);
    release(dist, sizeof *dist);
    subsel_tarot_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(tarot_topk_has_capacities)
{
    subsel_ctx *ctx = NULL;
    subsel_tarot *t;
    int64_t *idx, old_i[6 * 4];
    float *sc, old_s[6 * 4];
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    t = small_tarot(ctx);
    idx = guarded(sizeof *idx, 24);
    sc = guarded(sizeof *sc, 24);
    ck_assert_status(ctx, subsel_tarot_topk_v2(ctx, t, 4, idx, 23, sc, 24),
                     SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "indices", 23, 24);
    ck_assert_status(ctx, subsel_tarot_topk_v2(ctx, t, 4, idx, 24, sc, 4),
                     SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "scores", 4, 24);
    assert_untouched(idx, sizeof *idx, 24);
    assert_untouched(sc, sizeof *sc, 24);
    ck_assert_ok(ctx, subsel_tarot_topk_v2(ctx, t, 4, idx, 24, sc, 24));
    assert_guards(idx, sizeof *idx, 24);
    assert_guards(sc, sizeof *sc, 24);
    ck_assert_ok(ctx, subsel_tarot_topk(ctx, t, 4, old_i, old_s));
    ck_assert_mem_eq(idx, old_i, sizeof old_i);
    ck_assert_mem_eq(sc, old_s, sizeof old_s);
    release(idx, sizeof *idx);
    release(sc, sizeof *sc);
    subsel_tarot_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(tarot_ot_has_capacities)
{
    subsel_ctx *ctx = NULL;
    subsel_tarot *t;
    static const int64_t set[5] = {3, 9, 1, 20, 7};
    double *f, *g, old_f[5], old_g[6], loss = -7.0, old_loss;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    t = small_tarot(ctx);
    f = guarded(sizeof *f, 5);
    g = guarded(sizeof *g, 6);
    ck_assert_status(ctx, subsel_tarot_ot_v2(ctx, t, set, 5, f, 4, g, 6, &loss),
                     SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "f", 4, 5);
    ck_assert_status(ctx, subsel_tarot_ot_v2(ctx, t, set, 5, f, 5, g, 5, &loss),
                     SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "g", 5, 6);
    assert_untouched(f, sizeof *f, 5);
    assert_untouched(g, sizeof *g, 6);
    ck_assert(loss == -7.0);
    ck_assert_ok(ctx, subsel_tarot_ot_v2(ctx, t, set, 5, f, 5, g, 6, &loss));
    assert_guards(f, sizeof *f, 5);
    assert_guards(g, sizeof *g, 6);
    ck_assert_ok(ctx, subsel_tarot_ot(ctx, t, set, 5, old_f, old_g, &old_loss));
    ck_assert(loss == old_loss);
    ck_assert_mem_eq(f, old_f, sizeof old_f);
    ck_assert_mem_eq(g, old_g, sizeof old_g);
    release(f, sizeof *f);
    release(g, sizeof *g);
    subsel_tarot_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(tarot_folds_and_weights_have_capacities)
{
    subsel_ctx *ctx = NULL;
    static const double pot[5] = {0.3, -0.1, 0.8, 0.3, 0.05};
    int64_t *buf, old[11];
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);

    buf = guarded(sizeof *buf, 11);
    ck_assert_status(ctx, subsel_tarot_folds_v2(ctx, 11, 3, buf, 10), SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "fold_of_target", 10, 11);
    assert_untouched(buf, sizeof *buf, 11);
    ck_assert_ok(ctx, subsel_tarot_folds_v2(ctx, 11, 3, buf, 11));
    assert_guards(buf, sizeof *buf, 11);
    ck_assert_ok(ctx, subsel_tarot_folds(ctx, 11, 3, old));
    ck_assert_mem_eq(buf, old, sizeof(int64_t) * 11);
    release(buf, sizeof *buf);

    buf = guarded(sizeof *buf, 5);
    ck_assert_status(ctx, subsel_tarot_weights_v2(ctx, pot, 5, 40, buf, 4),
                     SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "weights", 4, 5);
    assert_untouched(buf, sizeof *buf, 5);
    ck_assert_ok(ctx, subsel_tarot_weights_v2(ctx, pot, 5, 40, buf, 5));
    assert_guards(buf, sizeof *buf, 5);
    ck_assert_ok(ctx, subsel_tarot_weights(ctx, pot, 5, 40, old));
    ck_assert_mem_eq(buf, old, sizeof(int64_t) * 5);
    release(buf, sizeof *buf);

    buf = guarded(sizeof *buf, 8);
    ck_assert_status(ctx, subsel_tarot_weights_reference_v2(ctx, pot, 5, 3, 40, buf, 7),
                     SUBSEL_E_INVALID);
    assert_capacity_message(ctx, "weights", 7, 8);
    assert_untouched(buf, sizeof *buf, 8);
    ck_assert_ok(ctx, subsel_tarot_weights_reference_v2(ctx, pot, 5, 3, 40, buf, 8));
    assert_guards(buf, sizeof *buf, 8);
    ck_assert_ok(ctx, subsel_tarot_weights_reference(ctx, pot, 5, 3, 40, old));
    ck_assert_mem_eq(buf, old, sizeof(int64_t) * 8);
    /* a negative capacity is refused on its own */
    ck_assert_status(ctx, subsel_tarot_weights_reference_v2(ctx, pot, 5, 3, 40, buf, -8),
                     SUBSEL_E_INVALID);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "negative") != NULL);
    release(buf, sizeof *buf);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *lifetimes_suite(void)
{
    Suite *s = suite_create("lifetimes");
    TCase *tc = tcase_create("kept handles");
    tcase_add_test(tc, row_view_outlives_its_parent);
    tcase_add_test(tc, fb_and_sdm_objectives_outlive_their_matrix);
    tcase_add_test(tc, uniprot_outlives_its_similarity_matrix);
    tcase_add_test(tc, clipcov_outlives_its_embeddings);
    tcase_add_test(tc, sae_outlives_its_w_enc);
    tcase_add_test(tc, tarot_outlives_its_matrices);
    tcase_add_test(tc, whitened_views_outlive_their_selector);
    tcase_add_loop_test(tc, csr_handles_free_in_any_order, 0, 24);
    tcase_add_loop_test(tc, dense_handles_free_in_any_order, 0, 24);
    tcase_add_loop_test(tc, failed_constructors_keep_nothing, 0, MAKE_KINDS);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_add_test(tc, threads_free_objectives_sharing_a_matrix);
    tcase_add_test(tc, threads_share_one_objective);
    suite_add_tcase(s, tc);
    tc = tcase_create("capacity");
    tcase_add_test(tc, column_sums_have_a_capacity);
    tcase_add_loop_test(tc, ot_outputs_have_capacities, 0, 4);
    tcase_add_test(tc, uniprot_plan_has_a_capacity);
    tcase_add_test(tc, tarot_scores_have_capacities);
    tcase_add_test(tc, tarot_topk_has_capacities);
    tcase_add_test(tc, tarot_ot_has_capacities);
    tcase_add_test(tc, tarot_folds_and_weights_have_capacities);
    suite_add_tcase(s, tc);
    return s;
}
