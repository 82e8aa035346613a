/* SPDX-License-Identifier: MIT */
/*
 * Feature-based functions and SDM: the reference fixtures (brute-force
 * greedy orders and values), evaluation against a direct long-double
 * computation, monotonicity and diminishing returns of every phi, SDM's
 * target, quality bins and KL, state merging, and argument errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "objectives/fb.h"
#include "tests/helpers.h"
#include "tests/suites.h"

static subsel_ctx *new_ctx(void)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    return ctx;
}

/* A random nonnegative n x d CSR matrix with about `density` of its entries
 * set, some of them explicit zeros. */
static subsel_csr *random_csr(subsel_ctx *ctx, ss_rng *rng, int64_t n,
                              int64_t d, double density)
{
    int64_t *ip = malloc(sizeof *ip * (size_t)(n + 1));
    int32_t *ix = malloc(sizeof *ix * (size_t)(n * d));
    float *v = malloc(sizeof *v * (size_t)(n * d));
    int64_t r, c, k = 0;
    subsel_csr *m;
    ip[0] = 0;
    for (r = 0; r < n; r++) {
        for (c = 0; c < d; c++)
            if (ss_rng_uniform(rng) < density) {
                ix[k] = (int32_t)c;
                v[k++] = ss_rng_uniform(rng) < 0.05 ? 0.0f
                                                    : (float)(ss_rng_uniform(rng) * 3);
            }
        ip[r + 1] = k;
    }
    ck_assert_ok(ctx, subsel_csr_create(ctx, n, d, ip, ix, v, SUBSEL_COPY, &m));
    free(ip);
    free(ix);
    free(v);
    return m;
}

static const int concaves[] = {SUBSEL_CONCAVE_LOG1P, SUBSEL_CONCAVE_SQRT,
                               SUBSEL_CONCAVE_SATURATE, SUBSEL_CONCAVE_EXP,
                               SUBSEL_CONCAVE_MIN, SUBSEL_CONCAVE_POW};
static const double params[] = {0, 0, 0, 1.5, 2.0, 0.4};

static long double phi_ref(int kind, double param, long double x)
{
    switch (kind) {
    case SUBSEL_CONCAVE_LOG1P: return log1pl(x);
    case SUBSEL_CONCAVE_SQRT: return sqrtl(x);
    case SUBSEL_CONCAVE_SATURATE: return x / (1 + x);
    case SUBSEL_CONCAVE_EXP: return -expm1l(-x / param);
    case SUBSEL_CONCAVE_MIN: return x < param ? x : param;
    default: return x > 0 ? powl(x, param) : 0;
    }
}

/* f(set) computed directly from the matrix in long double. */
static double fb_direct(const subsel_csr *z, int kind, double param,
                        const double *w, const int64_t *set, int64_t count)
{
    int64_t d = subsel_csr_cols(z), i, k;
    long double *m = calloc((size_t)d, sizeof *m), f = 0;
    for (i = 0; i < count; i++) {
        const int32_t *ix;
        const float *v;
        int64_t nnz;
        subsel_csr_row(z, set[i], &ix, &v, &nnz);
        for (k = 0; k < nnz; k++)
            m[ix[k]] += v[k];
    }
    for (k = 0; k < d; k++)
        f += (w ? w[k] : 1.0) * phi_ref(kind, param, m[k]);
    free(m);
    return (double)f;
}

/* ---- fixtures ----------------------------------------------------------- */

static void check_fb_fixture(const char *concave_name, int concave)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z;
    subsel_objective *f;
    subsel_optimizer *opt;
    subsel_selection *sel;
    char path[64];
    int64_t nw, norder, nvalues, i;
    double *w = read_f64(fixture_path("fb/w.npy"), &nw);
    int64_t *order;
    double *values;

    snprintf(path, sizeof path, "fb/order_%s.npy", concave_name);
    order = read_i64(fixture_path(path), &norder);
    snprintf(path, sizeof path, "fb/values_%s.npy", concave_name);
    values = read_f64(fixture_path(path), &nvalues);
    ck_assert_int_eq(norder, 12);
    ck_assert_int_eq(nvalues, 12);

    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, fixture_path("fb/Z.npz"), &z));
    ck_assert_int_eq(nw, subsel_csr_cols(z));
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, concave, 0.0, w, &f));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, &opt));
    ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, 12));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), 12);
    for (i = 0; i < 12; i++) {
        double v;
        ck_assert_msg(subsel_selection_indices(sel)[i] == order[i],
                      "%s step %lld: chose %lld, reference %lld", concave_name,
                      (long long)i, (long long)subsel_selection_indices(sel)[i],
                      (long long)order[i]);
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, order, i + 1, &v));
        ck_assert_msg(fabs(v - values[i]) <= 1e-9 * fabs(values[i]),
                      "%s value after %lld: %.17g vs %.17g", concave_name,
                      (long long)i + 1, v, values[i]);
    }
    ck_assert_double_le(fabs(subsel_selection_value(sel) - values[11]), 1e-9 * values[11]);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_csr_free(z);
    free(w);
    free(order);
    free(values);
    subsel_ctx_free(ctx);
}

START_TEST(fb_fixture_log1p) { check_fb_fixture("log1p", SUBSEL_CONCAVE_LOG1P); }
END_TEST

START_TEST(fb_fixture_sqrt) { check_fb_fixture("sqrt", SUBSEL_CONCAVE_SQRT); }
END_TEST

/* The SDM fixture. Its reference took p from column sums accumulated in
 * float32 (scipy's default for a float32 matrix), then normalised in
 * float64: p_target.npy. Values are checked with that p; with p from the
 * target (our double-precision column sums) the greedy order must still be
 * the same and p within float32 accumulation error. Both optimizers. */
START_TEST(sdm_fixture)
{
    static const char *sources[] = {"sdm/source.npz", "sdm/source_uncompressed.npz"};
    subsel_ctx *ctx = new_ctx();
    subsel_csr *src, *tgt;
    subsel_objective *from_target, *from_p, *f;
    subsel_optimizer *opt;
    subsel_selection *sel;
    int64_t nq, nb, nu, np, norder, nvalues, i, *bins, *order, *got_bins;
    double *q = read_f64(fixture_path("sdm/quality.npy"), &nq);
    double *u = read_f64(fixture_path("sdm/bin_weights.npy"), &nu);
    double *p = read_f64(fixture_path("sdm/p_target.npy"), &np);
    double *values = read_f64(fixture_path("sdm/values.npy"), &nvalues);
    double *colsums, total = 0, kl;
    int algo, which;
    bins = read_i64(fixture_path("sdm/bins.npy"), &nb);
    order = read_i64(fixture_path("sdm/order.npy"), &norder);

    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, fixture_path(sources[_i]), &src));
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, fixture_path("sdm/target.npz"), &tgt));
    ck_assert_int_eq(np, subsel_csr_cols(src));
    colsums = malloc(sizeof *colsums * (size_t)np);
    ck_assert_ok(ctx, subsel_csr_column_sums(ctx, tgt, colsums));
    for (i = 0; i < np; i++)
        total += colsums[i];
    for (i = 0; i < np; i++)
        ck_assert_double_le(fabs(colsums[i] / total - p[i]), 1e-7 * p[i] + 1e-12);

    ck_assert_ok(ctx, subsel_sdm_create(ctx, src, &from_target));
    ck_assert_ok(ctx, subsel_sdm_set_target(ctx, from_target, tgt));
    ck_assert_ok(ctx, subsel_sdm_create(ctx, src, &from_p));
    ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, from_p, p, np));
    for (which = 0; which < 2; which++) {
        f = which ? from_p : from_target;
        ck_assert_ok(ctx, subsel_sdm_set_quality(ctx, f, q, nq, 3));
        ck_assert_ok(ctx, subsel_sdm_set_bin_weights(ctx, f, u, nu));
        ck_assert_ok(ctx, subsel_sdm_set_lambda(ctx, f, 0.7));
    }

    got_bins = malloc(sizeof *got_bins * (size_t)nb);
    ck_assert_ok(ctx, subsel_sdm_quality_bins(ctx, from_p, got_bins, nb));
    for (i = 0; i < nb; i++)
        ck_assert_int_eq(got_bins[i], bins[i]);

    for (which = 0; which < 2; which++)
        for (algo = SUBSEL_OPT_NAIVE; algo <= SUBSEL_OPT_LAZY; algo++) {
            f = which ? from_p : from_target;
            ck_assert_ok(ctx, subsel_optimizer_create(ctx, algo, &opt));
            ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, norder));
            ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
            ck_assert_int_eq(subsel_selection_count(sel), norder);
            for (i = 0; i < norder; i++)
                ck_assert_msg(subsel_selection_indices(sel)[i] == order[i],
                              "p %s, algorithm %d, step %lld: %lld vs %lld",
                              which ? "given" : "from target", algo, (long long)i,
                              (long long)subsel_selection_indices(sel)[i], (long long)order[i]);
            subsel_selection_free(sel);
            subsel_optimizer_free(opt);
        }
    for (i = 0; i < norder; i++) {
        double v;
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, from_p, order, i + 1, &v));
        ck_assert_msg(fabs(v - values[i]) <= 1e-9 * fabs(values[i]),
                      "value after %lld: %.17g vs %.17g", (long long)i + 1, v, values[i]);
    }
    /* expected.json: kl_after is inf (a target concept stays uncovered) */
    ck_assert_ok(ctx, subsel_sdm_kl(ctx, from_p, order, norder, &kl));
    ck_assert(isinf(kl) && kl > 0);

    subsel_objective_free(from_target);
    subsel_objective_free(from_p);
    subsel_csr_free(src);
    subsel_csr_free(tgt);
    free(q); free(u); free(p); free(values); free(bins); free(order); free(got_bins); free(colsums);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---- evaluation and properties ------------------------------------------ */

START_TEST(fb_evaluate_matches_direct_computation)
{
    subsel_ctx *ctx = new_ctx();
    ss_rng rng;
    subsel_csr *z;
    size_t p;
    ss_rng_seed(&rng, 5, (uint64_t)_i);
    z = random_csr(ctx, &rng, 40, 30, 0.3);
    for (p = 0; p < sizeof concaves / sizeof concaves[0]; p++) {
        subsel_objective *f;
        double w[30];
        int64_t set[40], count, i;
        for (i = 0; i < 30; i++)
            w[i] = ss_rng_uniform(&rng) * 2;
        ck_assert_ok(ctx, subsel_fb_create(ctx, z, concaves[p], params[p], w, &f));
        for (count = 0; count <= 40; count += 7) {
            double got, want, g, with;
            for (i = 0; i < count; i++)
                set[i] = (i * 13 + _i) % 40;
            ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, set, count, &got));
            want = fb_direct(z, concaves[p], params[p], w, set, count);
            ck_assert_msg(fabs(got - want) <= 1e-12 * fabs(want) + 1e-15,
                          "phi %d |A|=%lld: %.17g vs %.17g", concaves[p], (long long)count, got, want);
            if (count < 40) {
                /* gain = f(A + i) - f(A) for an item outside A */
                int64_t item = (count * 13 + _i) % 40;
                ck_assert_ok(ctx, subsel_objective_gain(ctx, f, set, count, item, &g));
                set[count] = item;
                with = fb_direct(z, concaves[p], params[p], w, set, count + 1);
                ck_assert_msg(fabs(g - (with - want)) <= 1e-12 * fabs(with) + 1e-14,
                              "phi %d gain %.17g vs %.17g", concaves[p], g, with - want);
            }
        }
        subsel_objective_free(f);
    }
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(fb_is_monotone_and_submodular)
{
    /* For random chains A within B and items i outside B:
     * 0 <= gain(i | B) <= gain(i | A). */
    subsel_ctx *ctx = new_ctx();
    ss_rng rng;
    subsel_csr *z;
    size_t p;
    ss_rng_seed(&rng, 11, (uint64_t)_i);
    z = random_csr(ctx, &rng, 30, 12, 0.4);
    for (p = 0; p < sizeof concaves / sizeof concaves[0]; p++) {
        subsel_objective *f;
        int trial;
        ck_assert_ok(ctx, subsel_fb_create(ctx, z, concaves[p], params[p], NULL, &f));
        for (trial = 0; trial < 50; trial++) {
            int64_t perm[30], i, a, b, item;
            double ga, gb;
            for (i = 0; i < 30; i++)
                perm[i] = i;
            for (i = 29; i > 0; i--) {
                int64_t r = (int64_t)ss_rng_below(&rng, (uint64_t)i + 1), t = perm[i];
                perm[i] = perm[r];
                perm[r] = t;
            }
            a = (int64_t)ss_rng_below(&rng, 15);
            b = a + (int64_t)ss_rng_below(&rng, 14);
            item = perm[29];
            ck_assert_ok(ctx, subsel_objective_gain(ctx, f, perm, a, item, &ga));
            ck_assert_ok(ctx, subsel_objective_gain(ctx, f, perm, b, item, &gb));
            ck_assert_msg(gb >= -1e-15, "phi %d: negative gain %g", concaves[p], gb);
            ck_assert_msg(gb <= ga + 1e-12 * fabs(ga),
                          "phi %d: gain grows from %.17g (|A|=%lld) to %.17g (|B|=%lld)",
                          concaves[p], ga, (long long)a, gb, (long long)b);
        }
        subsel_objective_free(f);
    }
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(states_merge_into_the_union)
{
    subsel_ctx *ctx = new_ctx();
    ss_rng rng;
    subsel_csr *z;
    subsel_objective *f;
    void *a, *b;
    int64_t set[20], i;
    double merged, direct;
    ss_rng_seed(&rng, 3, 0);
    z = random_csr(ctx, &rng, 20, 16, 0.3);
    ck_assert_ok(ctx, subsel_fb_create(ctx, z, SUBSEL_CONCAVE_SQRT, 0, NULL, &f));
    for (i = 0; i < 20; i++)
        set[i] = (i * 7) % 20;
    ck_assert_ok(ctx, ss_state_of_set(ctx, f, set, 8, &a));
    ck_assert_ok(ctx, ss_state_of_set(ctx, f, set + 8, 9, &b));
    ck_assert_ok(ctx, f->ops->merge(ctx, f, a, b));
    ck_assert_ok(ctx, f->ops->value(ctx, f, a, &merged));
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, set, 17, &direct));
    ck_assert_double_le(fabs(merged - direct), 1e-12 * direct);
    /* overlapping states do not merge */
    ck_assert_status(ctx, f->ops->merge(ctx, f, a, b), SUBSEL_E_INVALID);
    f->ops->state_free(f, a);
    f->ops->state_free(f, b);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(remove_and_losses_undo_add)
{
    subsel_ctx *ctx = new_ctx();
    ss_rng rng;
    subsel_csr *z;
    subsel_objective *f;
    void *st;
    int64_t set[10] = {0, 3, 5, 7, 9, 11, 13, 15, 17, 19}, i;
    double before, loss, after;
    ss_rng_seed(&rng, 8, 0);
    z = random_csr(ctx, &rng, 20, 16, 0.3);
    ck_assert_ok(ctx, subsel_sdm_create(ctx, z, &f));
    {
        double p[16];
        for (i = 0; i < 16; i++)
            p[i] = (double)(i % 5);
        ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, f, p, 16));
    }
    ck_assert_ok(ctx, ss_state_of_set(ctx, f, set, 10, &st));
    ck_assert_ok(ctx, f->ops->value(ctx, f, st, &before));
    ck_assert_ok(ctx, f->ops->losses(ctx, f, st, &set[4], 1, &loss));
    ck_assert_ok(ctx, f->ops->remove(ctx, f, st, set[4]));
    ck_assert_ok(ctx, f->ops->value(ctx, f, st, &after));
    ck_assert_double_le(fabs((before - after) - loss), 1e-12 * before);
    ck_assert_status(ctx, f->ops->remove(ctx, f, st, set[4]), SUBSEL_E_INVALID);
    f->ops->state_free(f, st);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---- SDM specifics ------------------------------------------------------ */

START_TEST(sdm_bins_by_rank_and_by_edges)
{
    static const int64_t ip[7] = {0, 1, 2, 3, 4, 5, 6};
    static const int32_t ix[6] = {0, 1, 0, 1, 0, 1};
    static const float v[6] = {1, 1, 1, 1, 1, 1};
    static const double q[6] = {0.5, 0.1, 0.5, 0.9, -2, 0.5};
    static const double edges[2] = {0.0, 0.5};
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z;
    subsel_objective *f;
    int64_t bins[6];
    ck_assert_ok(ctx, subsel_csr_create(ctx, 6, 2, ip, ix, v, SUBSEL_BORROW, &z));
    ck_assert_ok(ctx, subsel_sdm_create(ctx, z, &f));
    /* ranks (stable): row4 (-2), row1 (.1), row0, row2, row5 (.5), row3 (.9) */
    ck_assert_ok(ctx, subsel_sdm_set_quality(ctx, f, q, 6, 3));
    ck_assert_ok(ctx, subsel_sdm_quality_bins(ctx, f, bins, 6));
    ck_assert_int_eq(bins[4], 0);
    ck_assert_int_eq(bins[1], 0);
    ck_assert_int_eq(bins[0], 1);
    ck_assert_int_eq(bins[2], 1);
    ck_assert_int_eq(bins[5], 2);
    ck_assert_int_eq(bins[3], 2);
    /* numpy.digitize(q, [0, 0.5]) = [2, 1, 2, 2, 0, 2] */
    ck_assert_ok(ctx, subsel_sdm_set_quality_edges(ctx, f, q, 6, edges, 2));
    ck_assert_ok(ctx, subsel_sdm_quality_bins(ctx, f, bins, 6));
    ck_assert_int_eq(bins[0], 2);
    ck_assert_int_eq(bins[1], 1);
    ck_assert_int_eq(bins[3], 2);
    ck_assert_int_eq(bins[4], 0);
    /* 3 bins from edges get the default weights too */
    {
        double p[2] = {1, 1}, val;
        int64_t one = 3;
        ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, f, p, 2));
        ck_assert_ok(ctx, subsel_sdm_set_lambda(ctx, f, 0.0));
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, &one, 1, &val));
        ck_assert_double_eq_tol(val, 0.99 * log(2.0), 1e-15);
    }
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(sdm_kl_matches_formula)
{
    static const int64_t ip[4] = {0, 2, 3, 5};
    static const int32_t ix[5] = {0, 1, 1, 0, 2};
    static const float v[5] = {1, 3, 2, 2, 4};
    static const double p[3] = {0.5, 0.25, 0.25};
    subsel_ctx *ctx = new_ctx();
    subsel_csr *z;
    subsel_objective *f;
    int64_t set[3] = {0, 2, 1};
    double kl, want;
    ck_assert_ok(ctx, subsel_csr_create(ctx, 3, 3, ip, ix, v, SUBSEL_BORROW, &z));
    ck_assert_ok(ctx, subsel_sdm_create(ctx, z, &f));
    ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, f, p, 3));
    /* rows 0 and 2: m = (3, 3, 4), p(A) = (0.3, 0.3, 0.4) */
    ck_assert_ok(ctx, subsel_sdm_kl(ctx, f, set, 2, &kl));
    want = 0.5 * log(0.5 / 0.3) + 0.25 * log(0.25 / 0.3) + 0.25 * log(0.25 / 0.4);
    ck_assert_double_eq_tol(kl, want, 1e-15);
    /* row 0 alone leaves column 2 uncovered: +inf, not NaN */
    ck_assert_ok(ctx, subsel_sdm_kl(ctx, f, set, 1, &kl));
    ck_assert(isinf(kl) && kl > 0);
    ck_assert_ok(ctx, subsel_sdm_kl(ctx, f, NULL, 0, &kl));
    ck_assert(isinf(kl) && kl > 0);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(argument_errors)
{
    static const int64_t ip[3] = {0, 1, 2};
    static const int32_t ix[2] = {0, 1};
    static const float neg[2] = {1, -1};
    static const float pos[2] = {1, 2};
    subsel_ctx *ctx = new_ctx();
    subsel_csr *zn, *zp;
    subsel_objective *f = (subsel_objective *)ctx;
    double w[2] = {1, NAN}, q[2] = {0, 1}, v;
    int64_t set[2] = {1, 1}, bad = 5;
    ck_assert_ok(ctx, subsel_csr_create(ctx, 2, 2, ip, ix, neg, SUBSEL_BORROW, &zn));
    ck_assert_ok(ctx, subsel_csr_create(ctx, 2, 2, ip, ix, pos, SUBSEL_BORROW, &zp));
    ck_assert_status(ctx, subsel_fb_create(ctx, zn, SUBSEL_CONCAVE_LOG1P, 0, NULL, &f), SUBSEL_E_INVALID);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "negative"));
    ck_assert_status(ctx, subsel_fb_create(ctx, zp, 17, 0, NULL, &f), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_fb_create(ctx, zp, SUBSEL_CONCAVE_POW, 1.5, NULL, &f), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_fb_create(ctx, zp, SUBSEL_CONCAVE_MIN, 0, NULL, &f), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_fb_create(ctx, zp, SUBSEL_CONCAVE_SQRT, 0, w, &f), SUBSEL_E_NUMERIC);
    ck_assert_status(ctx, subsel_fb_create(ctx, NULL, SUBSEL_CONCAVE_SQRT, 0, NULL, &f), SUBSEL_E_INVALID);

    ck_assert_ok(ctx, subsel_fb_create(ctx, zp, SUBSEL_CONCAVE_SQRT, 0, NULL, &f));
    ck_assert_status(ctx, subsel_objective_evaluate(ctx, f, set, 2, &v), SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "repeats"));
    ck_assert_status(ctx, subsel_objective_evaluate(ctx, f, &bad, 1, &v), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_objective_evaluate(ctx, f, set, -1, &v), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_objective_gain(ctx, f, NULL, 0, 2, &v), SUBSEL_E_INVALID);
    /* SDM setters refuse other objectives */
    ck_assert_status(ctx, subsel_sdm_set_lambda(ctx, f, 0.5), SUBSEL_E_INVALID);
    subsel_objective_free(f);

    ck_assert_ok(ctx, subsel_sdm_create(ctx, zp, &f));
    ck_assert_status(ctx, subsel_objective_evaluate(ctx, f, NULL, 0, &v), SUBSEL_E_STATE);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "target"));
    ck_assert_status(ctx, subsel_sdm_set_lambda(ctx, f, 1.5), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_sdm_set_bin_weights(ctx, f, w, 2), SUBSEL_E_STATE);
    ck_assert_status(ctx, subsel_sdm_set_quality(ctx, f, q, 2, 3), SUBSEL_E_INVALID);
    q[1] = INFINITY;
    ck_assert_status(ctx, subsel_sdm_set_quality(ctx, f, q, 2, 2), SUBSEL_E_NUMERIC);
    q[1] = 1;
    ck_assert_ok(ctx, subsel_sdm_set_quality(ctx, f, q, 2, 2));
    {
        double p[2] = {0, 0};
        ck_assert_status(ctx, subsel_sdm_set_target_distribution(ctx, f, p, 2), SUBSEL_E_INVALID);
        p[0] = 1;
        ck_assert_ok(ctx, subsel_sdm_set_target_distribution(ctx, f, p, 2));
    }
    /* 2 bins have no default weights */
    ck_assert_status(ctx, subsel_objective_evaluate(ctx, f, NULL, 0, &v), SUBSEL_E_STATE);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "bin weights"));
    ck_assert_ok(ctx, subsel_sdm_set_bin_weights(ctx, f, q, 2));
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, f, NULL, 0, &v));
    ck_assert_double_eq(v, 0.0);
    subsel_objective_free(f);
    subsel_objective_free(NULL);
    subsel_csr_free(zn);
    subsel_csr_free(zp);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *objectives_suite(void)
{
    Suite *s = suite_create("objectives");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, fb_fixture_log1p);
    tcase_add_test(tc, fb_fixture_sqrt);
    tcase_add_loop_test(tc, sdm_fixture, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("fb");
    tcase_add_loop_test(tc, fb_evaluate_matches_direct_computation, 0, 3);
    tcase_add_loop_test(tc, fb_is_monotone_and_submodular, 0, 3);
    tcase_add_test(tc, states_merge_into_the_union);
    tcase_add_test(tc, remove_and_losses_undo_add);
    suite_add_tcase(s, tc);

    tc = tcase_create("sdm");
    tcase_add_test(tc, sdm_bins_by_rank_and_by_edges);
    tcase_add_test(tc, sdm_kl_matches_formula);
    tcase_add_test(tc, argument_errors);
    suite_add_tcase(s, tc);
    return s;
}
