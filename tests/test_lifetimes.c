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
    static const int64_t rows[4] = {3, 4, 5, 6};
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_csr *z = random_csr(ctx, 9, 6, 1), *view = NULL, *inner = NULL;
    subsel_csr *copy = NULL, *inner_copy = NULL;
    double want[6], got[6];

    ck_assert_ok(ctx, subsel_csr_view_rows(ctx, z, 3, 4, &view));
    ck_assert_ok(ctx, subsel_csr_gather_rows(ctx, z, rows, 4, &copy));
    ck_assert_ok(ctx, subsel_csr_gather_rows(ctx, z, rows + 1, 2, &inner_copy));
    ck_assert_ok(ctx, subsel_csr_column_sums_v2(ctx, view, want, 6));
    subsel_csr_free(z); /* the view keeps it */
    assert_csr_equal(view, copy);
    ck_assert_ok(ctx, subsel_csr_column_sums_v2(ctx, view, got, 6));
    ck_assert_mem_eq(got, want, sizeof want);
    /* A view of the view keeps the chain alive. */
    ck_assert_ok(ctx, subsel_csr_view_rows(ctx, view, 1, 2, &inner));
    subsel_csr_free(view);
    assert_csr_equal(inner, inner_copy);
    subsel_csr_free(inner);
    subsel_csr_free(copy);
    subsel_csr_free(inner_copy);
    assert_all_freed(ctx, &c, "row views");
}
END_TEST

/* What an objective selects (greedy to `budget`) and evaluates, taken
 * while its inputs are alive, to compare with after they are freed. */
typedef struct snapshot {
    subsel_selection *sel;
    double value;
    int64_t budget;
} snapshot;

static snapshot take_snapshot(subsel_ctx *ctx, const subsel_objective *obj,
                              int64_t budget)
{
    snapshot s;
    s.sel = greedy(ctx, obj, budget);
    s.value = value_of_three(ctx, obj);
    s.budget = budget;
    return s;
}

/* The objective still selects and evaluates as in the snapshot; then both
 * are freed. */
static void assert_snapshot_and_free(subsel_ctx *ctx, subsel_objective *obj,
                                     snapshot *s)
{
    subsel_selection *got = greedy(ctx, obj, s->budget);
    assert_same_selection(got, s->sel);
    ck_assert(value_of_three(ctx, obj) == s->value);
    subsel_selection_free(got);
    subsel_selection_free(s->sel);
    subsel_objective_free(obj);
}

START_TEST(fb_and_sdm_objectives_outlive_their_matrix)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_csr *z = random_csr(ctx, 30, 8, 2);
    subsel_objective *fb = NULL, *sdm = NULL;
    double p[8] = {1, 2, 3, 4, 4, 3, 2, 1};
    snapshot s_fb, s_sdm;

    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0.0, NULL, &fb));
    ck_assert_ok(ctx, subsel_sdm_create(ctx, z, &sdm));
    ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, sdm, p, 8));
    s_fb = take_snapshot(ctx, fb, 5);
    s_sdm = take_snapshot(ctx, sdm, 5);
    subsel_csr_free(z); /* both objectives keep it */
    assert_snapshot_and_free(ctx, fb, &s_fb);
    assert_snapshot_and_free(ctx, sdm, &s_sdm); /* the last to keep it */
    assert_all_freed(ctx, &c, "FB and SDM");
}
END_TEST

START_TEST(uniprot_outlives_its_similarity_matrix)
{
    static const int64_t set[2] = {4, 1};
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_dense *s = random_dense(ctx, 12, 7, 3, 2.0);
    subsel_objective *obj = NULL;
    snapshot snap;
    double plan[14], v, v2;

    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, 4, 0.5, &obj));
    snap = take_snapshot(ctx, obj, 4);
    ck_assert_ok(ctx, subsel_uniprot_plan_v2(ctx, obj, set, 2, plan, 14, &v));
    subsel_dense_free(s);
    ck_assert_ok(ctx, subsel_uniprot_plan_v2(ctx, obj, set, 2, plan, 14, &v2));
    ck_assert(v == v2);
    assert_snapshot_and_free(ctx, obj, &snap);
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
    snapshot s1, s2;
    int64_t classes[16], i;

    for (i = 0; i < 16; i++)
        classes[i] = i % 3;
    ck_assert_ok(ctx, subsel_clipcov_create(ctx, image, text, labels, NULL, 1,
                                            &zero_shot));
    ck_assert_ok(ctx, subsel_clipcov_create(ctx, image, text, NULL, classes, 0,
                                            &given));
    s1 = take_snapshot(ctx, zero_shot, 6);
    s2 = take_snapshot(ctx, given, 6);
    subsel_dense_free(labels);
    subsel_dense_free(text);
    subsel_dense_free(image);
    assert_snapshot_and_free(ctx, zero_shot, &s1);
    assert_snapshot_and_free(ctx, given, &s2);
    assert_all_freed(ctx, &c, "ClipCov");
}
END_TEST

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
    assert_csr_equal(got, want);
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

/* ------------------------------------------------------------------------ */
/* Handles of the wrong kind                                                */
/* ------------------------------------------------------------------------ */

/* What a binding passing raw pointers can do: hand one kind of handle to a
 * function taking another. Every entry point refuses it with a message
 * naming both kinds (or, without a status to return, answers 0 / NULL), and
 * a *_free given the wrong handle leaves it alone (the messages name the
 * kinds). */
#define REFUSED(ctx, call)                                                     \
    do {                                                                       \
        ck_assert_int_eq((call), SUBSEL_E_INVALID);                            \
        ck_assert_msg(strstr(subsel_ctx_last_error(ctx),                       \
                             "kind") != NULL,                                  \
                      "%s: %s", #call, subsel_ctx_last_error(ctx));            \
    } while (0)

START_TEST(handles_of_the_wrong_kind_are_refused)
{
    counting_allocator c;
    subsel_ctx *ctx = counting_ctx(&c);
    subsel_csr *z = random_csr(ctx, 6, 4, 41);
    subsel_dense *d = random_dense(ctx, 6, 4, 42, 0.0);
    subsel_objective *fb = NULL, *none = fb;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL;
    /* each pointer below is a handle of another kind than its type says */
    void *not_obj = z, *not_csr = d, *not_dense = z, *not_opt = d;
    void *not_sel = z, *not_solver = z, *not_sae = d, *not_tarot = z, *not_ctx = d;
    const int32_t *ix;
    const float *v;
    const void *ixv;
    int64_t n, set[1] = {0};
    double value, sums[8];
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0.0, NULL, &fb));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_NAIVE, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_P_BUDGET, 2));

    /* objectives */
    REFUSED(ctx, subsel_optimizer_run(ctx, opt, not_obj, &sel));
    ck_assert_ptr_null(sel);
    REFUSED(ctx, subsel_optimizer_run(ctx, not_opt, fb, &sel));
    REFUSED(ctx, subsel_double_greedy(ctx, not_obj, NULL, 0, 0, &sel));
    REFUSED(ctx, subsel_objective_evaluate(ctx, not_obj, set, 1, &value));
    REFUSED(ctx, subsel_objective_gain(ctx, not_obj, set, 0, 0, &value));
    REFUSED(ctx, subsel_sdm_set_lambda(ctx, not_obj, 0.5));
    REFUSED(ctx, subsel_sdm_set_target_distribution(ctx, not_obj, sums, 4));
    REFUSED(ctx, subsel_clipcov_set_alpha(ctx, not_obj, 0.5));
    ck_assert_int_eq(subsel_objective_size(not_obj), 0);
    ck_assert_int_eq(subsel_clipcov_class_count(not_obj), 0);
    /* matrices */
    REFUSED(ctx, subsel_fb_create(ctx, not_csr, SUBSEL_CONCAVE_SQRT, 0.0, NULL, &none));
    ck_assert_ptr_null(none);
    REFUSED(ctx, subsel_csr_column_sums_v2(ctx, not_csr, sums, 8));
    REFUSED(ctx, subsel_dense_column_sums_v2(ctx, not_dense, sums, 8));
    REFUSED(ctx, subsel_csr_save_npz(ctx, not_csr, "/nonexistent/x.npz", 0));
    REFUSED(ctx, subsel_dense_save_npy(ctx, not_dense, "/nonexistent/x.npy"));
    REFUSED(NULL, subsel_csr_row(not_csr, 0, &ix, &v, &n));
    REFUSED(NULL, subsel_csr_row_v2(not_csr, 0, &ixv, &v, &n));
    ck_assert_int_eq(subsel_csr_rows(not_csr), 0);
    ck_assert_int_eq(subsel_csr_index_type(not_csr), 0);
    ck_assert_int_eq(subsel_dense_rows(not_dense), 0);
    ck_assert_ptr_null(subsel_dense_data(not_dense));
    ck_assert_ptr_null(subsel_dense_row(not_dense, 0));
    REFUSED(ctx, subsel_ot_sinkhorn_points_v2(ctx, NULL, NULL, not_dense, NULL, d,
                                              SUBSEL_COST_SQEUCLID, 0.5, &value,
                                              NULL, 0, NULL, 0, NULL, 0));
    /* the other handles */
    REFUSED(ctx, subsel_ot_sinkhorn_points_v2(ctx, not_solver, NULL, d, NULL, d,
                                              SUBSEL_COST_SQEUCLID, 0.5, &value,
                                              NULL, 0, NULL, 0, NULL, 0));
    REFUSED(NULL, subsel_optimizer_set_int(not_opt, SUBSEL_P_BUDGET, 3));
    REFUSED(NULL, subsel_tarot_set_int(not_tarot, SUBSEL_P_TAROT_PROJ_DIM, 3));
    ck_assert_int_eq(subsel_selection_count(not_sel), 0);
    ck_assert_ptr_null(subsel_selection_indices(not_sel));
    ck_assert_int_eq(subsel_ot_solver_iterations(not_solver), 0);
    ck_assert_int_eq(subsel_sae_inputs(not_sae), 0);

    /* a handle passed as the context: refused, the message the thread's */
    REFUSED(NULL, subsel_optimizer_run((subsel_ctx *)not_ctx, opt, fb, &sel));
    REFUSED(NULL, subsel_fb_create((subsel_ctx *)not_ctx, z, SUBSEL_CONCAVE_SQRT, 0.0,
                                   NULL, &none));
    REFUSED(NULL, subsel_ctx_set_int((subsel_ctx *)not_ctx, SUBSEL_P_THREADS, 1));
    ck_assert_ptr_eq(subsel_ctx_last_error((subsel_ctx *)not_ctx),
                     subsel_ctx_last_error(NULL));
    subsel_ctx_free((subsel_ctx *)not_ctx);

    /* frees of the wrong kind leave the handles as they were */
    subsel_objective_free(not_obj);
    subsel_csr_free(not_csr);
    subsel_dense_free(not_dense);
    subsel_optimizer_free(not_opt);
    subsel_selection_free(not_sel);
    subsel_ot_solver_free(not_solver);
    subsel_sae_free(not_sae);
    subsel_tarot_free(not_tarot);
    ck_assert_msg(strstr(subsel_ctx_last_error(NULL), "wrong kind of handle") != NULL,
                  "%s", subsel_ctx_last_error(NULL));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, fb, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), 2);
    ck_assert_int_eq(subsel_csr_rows(z), 6);
    ck_assert_int_eq(subsel_dense_rows(d), 6);

    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(fb);
    subsel_csr_free(z);
    subsel_dense_free(d);
    assert_all_freed(ctx, &c, "wrong kinds");
}
END_TEST

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

/* One output array of a call: its name in messages, element size, the
 * elements the call writes, and (set by check_capacities) the buffer and
 * capacity the call is given. */
typedef struct out_buf {
    const char *name;
    size_t size;
    int64_t need;
    void *buf;
    int64_t cap;
} out_buf;

/* A _v2 call writing into outs[i].buf with capacity outs[i].cap, and the
 * deprecated form writing into old[i]; both may write one scalar too. */
typedef int (*v2_fn)(subsel_ctx *ctx, const void *arg, const out_buf *outs,
                     double *scalar);
typedef int (*old_fn)(subsel_ctx *ctx, const void *arg, void *const *old,
                      double *scalar);

/* Buffers are surrounded by GUARD elements, and filled, with POISON
 * bytes: a refused call must leave all of it so, and a successful one must
 * not touch the guards. */
#define GUARD 8
#define POISON 0xA5

static int poisoned(const void *buf, size_t size, int64_t from, int64_t to)
{
    const unsigned char *p = (const unsigned char *)buf + (int64_t)size * from;
    size_t i, bytes = size * (size_t)(to - from);
    for (i = 0; i < bytes; i++)
        if (p[i] != POISON)
            return 0;
    return 1;
}

static void alloc_guarded(out_buf *o, int count)
{
    int i;
    for (i = 0; i < count; i++) {
        size_t bytes = o[i].size * (size_t)(o[i].need + 2 * GUARD);
        unsigned char *p = malloc(bytes);
        ck_assert_ptr_nonnull(p);
        memset(p, POISON, bytes);
        o[i].buf = p + o[i].size * GUARD;
        o[i].cap = o[i].need;
    }
}

static void free_guarded(out_buf *o, int count)
{
    int i;
    for (i = 0; i < count; i++)
        free((unsigned char *)o[i].buf - o[i].size * GUARD);
}

/* For each output in turn, one element short (and then a negative
 * capacity): SUBSEL_E_INVALID, a message naming the buffer, its capacity
 * and the need, and nothing written anywhere. Then exact capacities: the
 * guards stay, and the results equal the deprecated form's bit for bit. */
static void check_capacities(subsel_ctx *ctx, v2_fn v2, old_fn old,
                             const void *arg, out_buf *o, int count)
{
    void *plain[4];
    double scalar, old_scalar = -9.0;
    char want[160];
    int i, j;
    ck_assert_int_le(count, 4);
    for (i = 0; i < count; i++) {
        int64_t caps[2] = {o[i].need - 1, -1};
        int c;
        for (c = 0; c < 2; c++) {
            alloc_guarded(o, count);
            o[i].cap = caps[c];
            scalar = -7.0;
            ck_assert_status(ctx, v2(ctx, arg, o, &scalar), SUBSEL_E_INVALID);
            if (c == 0)
                snprintf(want, sizeof want, "%s has room for %lld values, %lld needed",
                         o[i].name, (long long)caps[c], (long long)o[i].need);
            else
                snprintf(want, sizeof want, "capacity of %s is negative", o[i].name);
            ck_assert_msg(strstr(subsel_ctx_last_error(ctx), want) != NULL,
                          "message \"%s\" does not say \"%s\"",
                          subsel_ctx_last_error(ctx), want);
            for (j = 0; j < count; j++)
                ck_assert_msg(poisoned(o[j].buf, o[j].size, -GUARD, o[j].need + GUARD),
                              "refused call wrote into %s", o[j].name);
            ck_assert(scalar == -7.0);
            free_guarded(o, count);
        }
    }
    alloc_guarded(o, count);
    ck_assert_ok(ctx, v2(ctx, arg, o, &scalar));
    for (j = 0; j < count; j++) {
        ck_assert_msg(poisoned(o[j].buf, o[j].size, -GUARD, 0) &&
                          poisoned(o[j].buf, o[j].size, o[j].need, o[j].need + GUARD),
                      "%s written outside its buffer", o[j].name);
        plain[j] = malloc(o[j].size * (size_t)o[j].need);
    }
    ck_assert_ok(ctx, old(ctx, arg, plain, &old_scalar));
    ck_assert(scalar == old_scalar);
    for (j = 0; j < count; j++) {
        ck_assert_msg(memcmp(o[j].buf, plain[j], o[j].size * (size_t)o[j].need) == 0,
                      "%s differs from the deprecated form's", o[j].name);
        free(plain[j]);
    }
    free_guarded(o, count);
}

typedef struct matrices {
    const subsel_csr *z;
    const subsel_dense *d;
} matrices;

static int csr_sums_v2(subsel_ctx *ctx, const void *arg, const out_buf *o, double *scalar)
{
    (void)scalar;
    return subsel_csr_column_sums_v2(ctx, ((const matrices *)arg)->z, o[0].buf, o[0].cap);
}

static int csr_sums_old(subsel_ctx *ctx, const void *arg, void *const *old, double *scalar)
{
    *scalar = -7.0;
    return subsel_csr_column_sums(ctx, ((const matrices *)arg)->z, old[0]);
}

static int dense_sums_v2(subsel_ctx *ctx, const void *arg, const out_buf *o, double *scalar)
{
    (void)scalar;
    return subsel_dense_column_sums_v2(ctx, ((const matrices *)arg)->d, o[0].buf, o[0].cap);
}

static int dense_sums_old(subsel_ctx *ctx, const void *arg, void *const *old, double *scalar)
{
    *scalar = -7.0;
    return subsel_dense_column_sums(ctx, ((const matrices *)arg)->d, old[0]);
}

START_TEST(column_sums_have_a_capacity)
{
    subsel_ctx *ctx = NULL;
    matrices m;
    out_buf o[1] = {{"sums", sizeof(double), 7, NULL, 0}};
    double sums[10];
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    m.z = random_csr(ctx, 15, 7, 17);
    m.d = random_dense(ctx, 15, 7, 18, 0.0);
    check_capacities(ctx, csr_sums_v2, csr_sums_old, &m, o, 1);
    check_capacities(ctx, dense_sums_v2, dense_sums_old, &m, o, 1);
    /* a larger buffer is fine: only the first cols values are written */
    memset(sums, POISON, sizeof sums);
    ck_assert_ok(ctx, subsel_dense_column_sums_v2(ctx, m.d, sums, 10));
    ck_assert(poisoned(sums, sizeof *sums, 7, 10));
    subsel_csr_free((subsel_csr *)m.z);
    subsel_dense_free((subsel_dense *)m.d);
    subsel_ctx_free(ctx);
}
END_TEST

/* The four OT entry points: on the cost matrix of x and y (points 0) or
 * between their rows (points 1), balanced (mass 0) or partial. */
typedef struct ot_case {
    int points;
    double mass;
    const double *cost;
    const subsel_dense *x, *y;
} ot_case;

static int ot_v2(subsel_ctx *ctx, const void *arg, const out_buf *o, double *value)
{
    const ot_case *c = arg;
    const int64_t n = subsel_dense_rows(c->x), m = subsel_dense_rows(c->y);
    if (c->points && c->mass > 0)
        return subsel_ot_partial_points_v2(ctx, NULL, NULL, c->x, NULL, c->y,
                                           SUBSEL_COST_SQEUCLID, 0.5, c->mass, value,
                                           o[0].buf, o[0].cap, o[1].buf, o[1].cap,
                                           o[2].buf, o[2].cap);
    if (c->points)
        return subsel_ot_sinkhorn_points_v2(ctx, NULL, NULL, c->x, NULL, c->y,
                                            SUBSEL_COST_SQEUCLID, 0.5, value,
                                            o[0].buf, o[0].cap, o[1].buf, o[1].cap,
                                            o[2].buf, o[2].cap);
    if (c->mass > 0)
        return subsel_ot_partial_v2(ctx, NULL, NULL, n, NULL, m, c->cost, 0.5, c->mass,
                                    value, o[0].buf, o[0].cap, o[1].buf, o[1].cap,
                                    o[2].buf, o[2].cap);
    return subsel_ot_sinkhorn_v2(ctx, NULL, NULL, n, NULL, m, c->cost, 0.5, value,
                                 o[0].buf, o[0].cap, o[1].buf, o[1].cap, o[2].buf,
                                 o[2].cap);
}

static int ot_old(subsel_ctx *ctx, const void *arg, void *const *old, double *value)
{
    const ot_case *c = arg;
    const int64_t n = subsel_dense_rows(c->x), m = subsel_dense_rows(c->y);
    if (c->points && c->mass > 0)
        return subsel_ot_partial_points(ctx, NULL, NULL, c->x, NULL, c->y,
                                        SUBSEL_COST_SQEUCLID, 0.5, c->mass, value,
                                        old[0], old[1], old[2]);
    if (c->points)
        return subsel_ot_sinkhorn_points(ctx, NULL, NULL, c->x, NULL, c->y,
                                         SUBSEL_COST_SQEUCLID, 0.5, value, old[0],
                                         old[1], old[2]);
    if (c->mass > 0)
        return subsel_ot_partial(ctx, NULL, NULL, n, NULL, m, c->cost, 0.5, c->mass,
                                 value, old[0], old[1], old[2]);
    return subsel_ot_sinkhorn(ctx, NULL, NULL, n, NULL, m, c->cost, 0.5, value,
                              old[0], old[1], old[2]);
}

START_TEST(ot_outputs_have_capacities)
{
    const int64_t n = 5, m = 4;
    out_buf o[3] = {{"f", sizeof(double), 5, NULL, 0},
                    {"g", sizeof(double), 4, NULL, 0},
                    {"plan", sizeof(double), 20, NULL, 0}};
    subsel_ctx *ctx = NULL;
    double cost[20], value;
    ot_case c;
    int64_t i, j, k;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    c.points = _i / 2;
    c.mass = _i % 2 ? 0.6 : 0.0;
    c.cost = cost;
    c.x = random_dense(ctx, n, 3, 19, 0.0);
    c.y = random_dense(ctx, m, 3, 20, 0.5);
    for (i = 0; i < n; i++)
        for (j = 0; j < m; j++) {
            double d2 = 0.0;
            for (k = 0; k < 3; k++) {
                double t = (double)subsel_dense_row(c.x, i)[k] -
                           (double)subsel_dense_row(c.y, j)[k];
                d2 += t * t;
            }
            cost[i * m + j] = d2;
        }
    check_capacities(ctx, ot_v2, ot_old, &c, o, 3);
    /* the capacities of outputs not wanted are not looked at */
    ck_assert_ok(ctx, subsel_ot_sinkhorn_v2(ctx, NULL, NULL, n, NULL, m, cost, 0.5,
                                            &value, NULL, -1, NULL, -1, NULL, -1));
    subsel_dense_free((subsel_dense *)c.x);
    subsel_dense_free((subsel_dense *)c.y);
    subsel_ctx_free(ctx);
}
END_TEST

static const int64_t some_rows[5] = {3, 9, 1, 20, 7};

static int plan_v2(subsel_ctx *ctx, const void *obj, const out_buf *o, double *value)
{
    return subsel_uniprot_plan_v2(ctx, obj, some_rows, 3, o[0].buf, o[0].cap, value);
}

static int plan_old(subsel_ctx *ctx, const void *obj, void *const *old, double *value)
{
    return subsel_uniprot_plan(ctx, obj, some_rows, 3, old[0], value);
}

START_TEST(uniprot_plan_has_a_capacity)
{
    subsel_ctx *ctx = NULL;
    subsel_dense *s;
    subsel_objective *obj = NULL;
    out_buf o[1] = {{"plan", sizeof(double), 3 * 6, NULL, 0}};
    double v;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    s = random_dense(ctx, 25, 6, 21, 1.0);
    ck_assert_ok(ctx, subsel_uniprot_create(ctx, s, 4, 0.5, &obj));
    check_capacities(ctx, plan_v2, plan_old, obj, o, 1);
    /* no plan wanted: its capacity is not looked at */
    ck_assert_ok(ctx, subsel_uniprot_plan_v2(ctx, obj, some_rows, 3, NULL, -1, &v));
    subsel_objective_free(obj);
    subsel_dense_free(s);
    subsel_ctx_free(ctx);
}
END_TEST

/* TAROT over 25 candidates and 6 targets of 4 columns. */
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

static int scores_v2(subsel_ctx *ctx, const void *t, const out_buf *o, double *scalar)
{
    (void)scalar;
    return subsel_tarot_scores_v2(ctx, (subsel_tarot *)t, 4, 7, 2, 3, o[0].buf,
                                  o[0].cap, o[1].buf, o[1].cap);
}

static int scores_old(subsel_ctx *ctx, const void *t, void *const *old, double *scalar)
{
    *scalar = -7.0;
    return subsel_tarot_scores(ctx, (subsel_tarot *)t, 4, 7, 2, 3, old[0], old[1]);
}

static int topk_v2(subsel_ctx *ctx, const void *t, const out_buf *o, double *scalar)
{
    (void)scalar;
    return subsel_tarot_topk_v2(ctx, (subsel_tarot *)t, 4, o[0].buf, o[0].cap,
                                o[1].buf, o[1].cap);
}

static int topk_old(subsel_ctx *ctx, const void *t, void *const *old, double *scalar)
{
    *scalar = -7.0;
    return subsel_tarot_topk(ctx, (subsel_tarot *)t, 4, old[0], old[1]);
}

static int tarot_ot_v2(subsel_ctx *ctx, const void *t, const out_buf *o, double *loss)
{
    return subsel_tarot_ot_v2(ctx, (subsel_tarot *)t, some_rows, 5, o[0].buf,
                              o[0].cap, o[1].buf, o[1].cap, loss);
}

static int tarot_ot_old(subsel_ctx *ctx, const void *t, void *const *old, double *loss)
{
    return subsel_tarot_ot(ctx, (subsel_tarot *)t, some_rows, 5, old[0], old[1], loss);
}

START_TEST(tarot_outputs_have_capacities)
{
    subsel_ctx *ctx = NULL;
    subsel_tarot *t;
    out_buf scores[2] = {{"scores", sizeof(float), 7 * 3, NULL, 0},
                         {"distances", sizeof(float), 7 * 3, NULL, 0}};
    out_buf topk[2] = {{"indices", sizeof(int64_t), 6 * 4, NULL, 0},
                       {"scores", sizeof(float), 6 * 4, NULL, 0}};
    out_buf ot[2] = {{"f", sizeof(double), 5, NULL, 0}, {"g", sizeof(double), 6, NULL, 0}};
    float s[21];
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    t = small_tarot(ctx);
    check_capacities(ctx, scores_v2, scores_old, t, scores, 2);
    check_capacities(ctx, topk_v2, topk_old, t, topk, 2);
    check_capacities(ctx, tarot_ot_v2, tarot_ot_old, t, ot, 2);
    /* distances not wanted: their capacity is not looked at */
    ck_assert_ok(ctx, subsel_tarot_scores_v2(ctx, t, 4, 7, 2, 3, s, 21, NULL, -1));
    subsel_tarot_free(t);
    subsel_ctx_free(ctx);
}
END_TEST

static const double potentials[5] = {0.3, -0.1, 0.8, 0.3, 0.05};

static int folds_v2(subsel_ctx *ctx, const void *arg, const out_buf *o, double *scalar)
{
    (void)arg;
    (void)scalar;
    return subsel_tarot_folds_v2(ctx, 11, 3, o[0].buf, o[0].cap);
}

static int folds_old(subsel_ctx *ctx, const void *arg, void *const *old, double *scalar)
{
    (void)arg;
    *scalar = -7.0;
    return subsel_tarot_folds(ctx, 11, 3, old[0]);
}

static int weights_v2(subsel_ctx *ctx, const void *arg, const out_buf *o, double *scalar)
{
    (void)scalar;
    if (arg != NULL)
        return subsel_tarot_weights_reference_v2(ctx, potentials, 5, 3, 40, o[0].buf,
                                                 o[0].cap);
    return subsel_tarot_weights_v2(ctx, potentials, 5, 40, o[0].buf, o[0].cap);
}

static int weights_old(subsel_ctx *ctx, const void *arg, void *const *old, double *scalar)
{
    *scalar = -7.0;
    if (arg != NULL)
        return subsel_tarot_weights_reference(ctx, potentials, 5, 3, 40, old[0]);
    return subsel_tarot_weights(ctx, potentials, 5, 40, old[0]);
}

START_TEST(tarot_folds_and_weights_have_capacities)
{
    subsel_ctx *ctx = NULL;
    out_buf folds[1] = {{"fold_of_target", sizeof(int64_t), 11, NULL, 0}};
    out_buf weights[1] = {{"weights", sizeof(int64_t), 5, NULL, 0}};
    out_buf reference[1] = {{"weights", sizeof(int64_t), 5 + 3, NULL, 0}};
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    check_capacities(ctx, folds_v2, folds_old, NULL, folds, 1);
    check_capacities(ctx, weights_v2, weights_old, NULL, weights, 1);
    check_capacities(ctx, weights_v2, weights_old, "reference", reference, 1);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *lifetimes_suite(void)
{
    Suite *s = suite_create("lifetimes");
    TCase *tc = tcase_create("kept handles");
    tcase_add_test(tc, row_view_outlives_its_parent);
    tcase_add_test(tc, handles_of_the_wrong_kind_are_refused);
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
    tcase_add_test(tc, tarot_outputs_have_capacities);
    tcase_add_test(tc, tarot_folds_and_weights_have_capacities);
    suite_add_tcase(s, tc);
    return s;
}
