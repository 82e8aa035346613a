/* SPDX-License-Identifier: MIT */
/*
 * ClipCov and double greedy. The objective is checked against a direct
 * double-precision evaluation of the paper's formulas (every pairwise
 * similarity written out), gains and losses against differences of that
 * evaluation, zero-shot classes against a cosine arg-max, the
 * submodularity tests against all within-class pairs; double greedy
 * against enumeration on random cut functions (1/3 deterministic, 1/2 on
 * average over seeds) and against an independent replay through the
 * public evaluate call; the pipeline for its promises (a subset of the
 * greedy result, never worse, reproducible, thread-count independent);
 * the new kernel bit for bit on every level.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/rng.h"
#include "dispatch/dispatch.h"
#include "clipcov/clipcov.h"
#include "tests/cut.h"
#include "optim/double_greedy.h"
#include "optim/optim.h"
#include "tests/helpers.h"
#include "tests/suites.h"

/* ---- data -------------------------------------------------------------- */

enum data_kind {
    GAUSSIAN, /* independent normal entries: negative similarities abound */
    POSITIVE, /* nonnegative entries: every similarity >= 0 */
    CONES,    /* per class, tight clusters around a direction (cone test) */
};

typedef struct data {
    int64_t n, d, K;
    float *xv, *xl, *y;
    int64_t *labels; /* or NULL for zero-shot */
    subsel_dense *image, *text, *emb;
} data;

static float normal_f(ss_rng *rng) { return (float)ss_rng_normal(rng); }

/* Classes K: labels cycle unevenly (class 1 is empty when K > 2 and
 * skip_one; the last class has one member when n is large enough). */
static void make_data(subsel_ctx *ctx, data *D, uint64_t seed, int64_t n,
                      int64_t d, int64_t K, int kind, int with_labels,
                      int skip_one)
{
    ss_rng rng;
    int64_t i, c, k;
    float *centre = malloc(sizeof(float) * (size_t)(K * d + 1));
    memset(D, 0, sizeof *D);
    D->n = n;
    D->d = d;
    D->K = K;
    D->xv = malloc(sizeof(float) * (size_t)(n * d + 1));
    D->xl = malloc(sizeof(float) * (size_t)(n * d + 1));
    D->y = malloc(sizeof(float) * (size_t)(K * d + 1));
    D->labels = malloc(sizeof(int64_t) * (size_t)(n + 1));
    ss_rng_seed(&rng, seed, 7);
    for (k = 0; k < K * d; k++)
        centre[k] = kind == POSITIVE ? (float)ss_rng_uniform(&rng) : normal_f(&rng);
    for (i = 0; i < n; i++) {
        k = (i * 7 + i / 3) % K;
        if (skip_one && K > 2 && k == 1)
            k = 0;
        if (K > 3 && n > 8 && i == n - 1)
            k = K - 1;
        else if (K > 3 && k == K - 1)
            k = K - 2;
        D->labels[i] = k;
        for (c = 0; c < d; c++) {
            float a, b;
            switch (kind) {
            case POSITIVE:
                a = (float)ss_rng_uniform(&rng);
                b = (float)ss_rng_uniform(&rng);
                break;
            case CONES:
                a = centre[k * d + c] + 0.05f * normal_f(&rng);
                b = centre[k * d + c] + 0.05f * normal_f(&rng);
                break;
            default:
                a = normal_f(&rng);
                b = normal_f(&rng);
            }
            D->xv[i * d + c] = a;
            D->xl[i * d + c] = b;
        }
    }
    for (k = 0; k < K * d; k++)
        D->y[k] = centre[k] + 0.3f * normal_f(&rng);
    free(centre);
    ck_assert_ok(ctx, subsel_dense_create(ctx, n, d, D->xv, SUBSEL_BORROW, &D->image));
    ck_assert_ok(ctx, subsel_dense_create(ctx, n, d, D->xl, SUBSEL_BORROW, &D->text));
    ck_assert_ok(ctx, subsel_dense_create(ctx, K, d, D->y, SUBSEL_BORROW, &D->emb));
    if (!with_labels) {
        free(D->labels);
        D->labels = NULL;
    }
}

static void free_data(data *D)
{
    subsel_dense_free(D->image);
    subsel_dense_free(D->text);
    subsel_dense_free(D->emb);
    free(D->xv);
    free(D->xl);
    free(D->y);
    free(D->labels);
}

static subsel_ctx *new_ctx(int64_t threads)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, threads));
    return ctx;
}

/* ---- the reference: the paper's formulas, term by term ----------------- */

typedef struct reference {
    const data *D;
    int64_t *cls; /* the latent classes */
    double *v, *l, *y; /* scaled, double */
    int64_t *size;
    double w[SUBSEL_CLIPCOV_TERMS], alpha;
} reference;

static double dotd(const double *a, const double *b, int64_t d)
{
    long double s = 0;
    int64_t c;
    for (c = 0; c < d; c++)
        s += (long double)a[c] * b[c];
    return (double)s;
}

static double sim(const reference *R, int64_t i, int64_t j)
{
    int64_t d = R->D->d;
    return dotd(R->v + i * d, R->l + j * d, d) + dotd(R->v + j * d, R->l + i * d, d);
}

/* Zero-shot by cosine in double, ties to the lowest class. */
static int64_t cosine_class(const data *D, int64_t i, double *best_cos)
{
    int64_t k, c, best = 0;
    double top = -INFINITY;
    for (k = 0; k < D->K; k++) {
        double xy = 0, yy = 0, xx = 0, cs;
        for (c = 0; c < D->d; c++) {
            xy += (double)D->xv[i * D->d + c] * D->y[k * D->d + c];
            yy += (double)D->y[k * D->d + c] * D->y[k * D->d + c];
            xx += (double)D->xv[i * D->d + c] * D->xv[i * D->d + c];
        }
        cs = xy / sqrt(xx * yy);
        if (cs > top) {
            top = cs;
            best = k;
        }
    }
    if (best_cos)
        *best_cos = top;
    return best;
}

static void scaled(const float *x, int64_t rows, int64_t d, int normalize,
                   double *out)
{
    int64_t i, c;
    for (i = 0; i < rows; i++) {
        double nn = 0;
        for (c = 0; c < d; c++)
            nn += (double)x[i * d + c] * x[i * d + c];
        for (c = 0; c < d; c++)
            out[i * d + c] = normalize ? x[i * d + c] / sqrt(nn) : x[i * d + c];
    }
}

static void make_reference(reference *R, const data *D, int normalize)
{
    int64_t i, t;
    memset(R, 0, sizeof *R);
    R->D = D;
    R->cls = malloc(sizeof(int64_t) * (size_t)(D->n + 1));
    R->size = calloc((size_t)D->K + 1, sizeof(int64_t));
    R->v = malloc(sizeof(double) * (size_t)(D->n * D->d + 1));
    R->l = malloc(sizeof(double) * (size_t)(D->n * D->d + 1));
    R->y = malloc(sizeof(double) * (size_t)(D->K * D->d + 1));
    for (i = 0; i < D->n; i++) {
        R->cls[i] = D->labels ? D->labels[i] : cosine_class(D, i, NULL);
        R->size[R->cls[i]]++;
    }
    scaled(D->xv, D->n, D->d, normalize, R->v);
    scaled(D->xl, D->n, D->d, normalize, R->l);
    scaled(D->y, D->K, D->d, normalize, R->y);
    for (t = 0; t < SUBSEL_CLIPCOV_TERMS; t++)
        R->w[t] = 1.0;
    R->alpha = 0.5;
}

static void free_reference(reference *R)
{
    free(R->cls);
    free(R->size);
    free(R->v);
    free(R->l);
    free(R->y);
}

/* F(S) for the membership vector `in`; *scale gets the sum of the terms'
 * magnitudes (for tolerances). */
static double ref_value(const reference *R, const unsigned char *in,
                        double *scale)
{
    const data *D = R->D;
    int64_t n = D->n, d = D->d, i, j;
    long double intra = 0, self = 0, inter = 0, reg = 0, label = 0;
    for (i = 0; i < n; i++) {
        int64_t k = R->cls[i];
        double vk = (double)R->size[k];
        if (!in[i])
            continue;
        self += sim(R, i, i);
        for (j = 0; j < n; j++) {
            int64_t kj = R->cls[j];
            double s = sim(R, i, j);
            if (kj == k) {
                intra += s / vk;
                reg += s / (vk * vk);
                if (in[j])
                    intra -= 0.5 * s / vk;
            } else {
                inter += s / (double)R->size[kj];
            }
        }
        label += dotd(R->l + i * d, R->y + k * d, d) * (1.0 - 1.0 / vk);
    }
    if (scale)
        *scale = (double)(fabsl(intra) + fabsl(self) + fabsl(inter) +
                          fabsl(reg) + fabsl(label)) + 1.0;
    return (double)(R->w[0] * intra + R->w[1] * self - R->w[2] * inter -
                    R->w[3] * reg + R->w[4] * R->alpha * label);
}

static subsel_objective *make_objective(subsel_ctx *ctx, const data *D,
                                        int normalize)
{
    subsel_objective *obj = NULL;
    ck_assert_ok(ctx, subsel_clipcov_create(ctx, D->image, D->text, D->emb,
                                            D->labels, normalize, &obj));
    return obj;
}

static void random_subset(ss_rng *rng, int64_t n, double p, unsigned char *in,
                          int64_t *set, int64_t *count)
{
    int64_t i;
    *count = 0;
    for (i = 0; i < n; i++) {
        in[i] = ss_rng_uniform(rng) < p;
        if (in[i])
            set[(*count)++] = i;
    }
}

/* ---- kernel ------------------------------------------------------------ */

START_TEST(dot_f32_f64_is_bit_identical_on_every_level)
{
    const ss_kernels *k = ss_kernels_level(_i), *ref = ss_kernels_level(SUBSEL_ISA_SCALAR);
    float a[71];
    double x[71];
    ss_rng rng;
    int n, rep;
    if (k == NULL)
        return; /* not on this machine */
    ss_rng_seed(&rng, 99, 0);
    for (rep = 0; rep < 20; rep++) {
        for (n = 0; n <= 70; n++) {
            a[n] = (float)(ss_rng_normal(&rng) * pow(10.0, (double)ss_rng_below(&rng, 7) - 3));
            x[n] = ss_rng_normal(&rng) * pow(10.0, (double)ss_rng_below(&rng, 7) - 3);
        }
        for (n = 0; n <= 70; n++) {
            double want = ref->dot_f32_f64(a, x, n), got = k->dot_f32_f64(a, x, n);
            long double exact = 0, mag = 0;
            int c;
            ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                          "dot_f32_f64 n=%d on %s: %.17g vs scalar %.17g", n,
                          k->name, got, want);
            for (c = 0; c < n; c++) {
                exact += (long double)a[c] * x[c];
                mag += fabsl((long double)a[c] * x[c]);
            }
            ck_assert_double_le(fabs(got - (double)exact), 1e-14 * (double)mag + 1e-300);
        }
    }
}
END_TEST

/* ---- the objective ----------------------------------------------------- */

/* _i: bit 0 normalise, bit 1 zero-shot, bit 2 random weights. */
START_TEST(value_matches_the_formulas)
{
    subsel_ctx *ctx = new_ctx(1);
    int normalize = _i & 1, zero_shot = (_i >> 1) & 1, weighted = (_i >> 2) & 1;
    data D;
    reference R;
    subsel_objective *obj;
    ss_rng rng;
    unsigned char in[40];
    int64_t set[40], count;
    int rep, t;

    make_data(ctx, &D, 100 + (uint64_t)_i, 37, 11, 5, GAUSSIAN, !zero_shot, 1);
    obj = make_objective(ctx, &D, normalize);
    make_reference(&R, &D, normalize);
    ss_rng_seed(&rng, 5, (uint64_t)_i);
    if (weighted) {
        for (t = 0; t < SUBSEL_CLIPCOV_TERMS; t++) {
            R.w[t] = t == 1 ? 0.0 : 3.0 * ss_rng_uniform(&rng);
            ck_assert_ok(ctx, subsel_clipcov_set_weight(ctx, obj, t, R.w[t]));
        }
        R.alpha = 1.7;
        ck_assert_ok(ctx, subsel_clipcov_set_alpha(ctx, obj, R.alpha));
    }
    for (rep = 0; rep < 12; rep++) {
        double got, want, scale;
        random_subset(&rng, D.n, rep / 11.0, in, set, &count);
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, set, count, &got));
        want = ref_value(&R, in, &scale);
        ck_assert_msg(fabs(got - want) <= 1e-11 * scale,
                      "case %d, |S| = %lld: %.17g vs reference %.17g", _i,
                      (long long)count, got, want);
    }
    free_reference(&R);
    subsel_objective_free(obj);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

/* The paper's alpha (appendix A.3): the mean of sim(i, j) over all ordered
 * pairs over the mean of x_L(i).x_L(j), each pair written out in double.
 * Cases: data kind (Gaussian, nonnegative, cones) x normalise x zero-shot,
 * on 1 or 2 threads. Reading it leaves alpha at 0.5; setting it gives the
 * formulas' value with that alpha. */
START_TEST(data_alpha_is_the_papers_ratio)
{
    int kind = _i % 3, normalize = (_i / 3) & 1, zero_shot = (_i / 6) & 1;
    subsel_ctx *ctx = new_ctx(1 + (_i & 1));
    data D;
    reference R;
    subsel_objective *obj;
    long double cross = 0, text = 0;
    double alpha = -1, want, got, value, scale, n2;
    unsigned char in[60];
    int64_t set[60], count, i, j;
    ss_rng rng;
    int rc;

    make_data(ctx, &D, 300 + (uint64_t)_i, 53, 9, 4, kind, !zero_shot, 0);
    obj = make_objective(ctx, &D, normalize);
    make_reference(&R, &D, normalize);
    for (i = 0; i < D.n; i++)
        for (j = 0; j < D.n; j++) {
            cross += sim(&R, i, j);
            text += dotd(R.l + i * D.d, R.l + j * D.d, D.d);
        }
    n2 = (double)D.n * (double)D.n;
    want = (double)(cross / n2) / (double)(text / n2);
    rc = subsel_clipcov_data_alpha(ctx, obj, &alpha);
    if (!(text > 0) || want < 0) {
        /* Gaussian data may leave images against their captions */
        ck_assert_int_eq(rc, SUBSEL_E_NUMERIC);
        ck_assert(alpha == -1);
        ck_assert(strstr(subsel_ctx_last_error(ctx), "set alpha yourself") != NULL);
    } else {
        ck_assert_ok(ctx, rc);
        ck_assert_msg(fabs(alpha - want) <= 1e-12 * fabs(want) + 1e-15,
                      "case %d: alpha %.17g, pairs %.17g", _i, alpha, want);
        /* kind != GAUSSIAN: nonnegative entries and cones give a ratio */
    }
    if (kind != GAUSSIAN)
        ck_assert_ok(ctx, rc);
    ss_rng_seed(&rng, 8, (uint64_t)_i);
    random_subset(&rng, D.n, 0.4, in, set, &count);
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, set, count, &got));
    value = ref_value(&R, in, &scale); /* alpha 0.5: reading did not set it */
    ck_assert_msg(fabs(got - value) <= 1e-11 * scale, "%.17g vs %.17g", got, value);
    if (rc == SUBSEL_OK) {
        R.alpha = alpha;
        ck_assert_ok(ctx, subsel_clipcov_set_alpha(ctx, obj, alpha));
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, set, count, &got));
        value = ref_value(&R, in, &scale);
        ck_assert_msg(fabs(got - value) <= 1e-11 * scale, "%.17g vs %.17g", got, value);
    }
    free_reference(&R);
    subsel_objective_free(obj);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

/* No usable ratio: captions that cancel out (mean text similarity 0),
 * images opposite their captions (negative ratio); and bad arguments. */
START_TEST(data_alpha_refuses_what_has_no_ratio)
{
    subsel_ctx *ctx = new_ctx(1);
    float cancel_v[4] = {1, 0, 0, 1}, cancel_l[4] = {1, 0, -1, 0};
    float opp_v[4] = {-1, 0, -1, 0.5f}, opp_l[4] = {1, 0, 1, -0.5f};
    int64_t labels[2] = {0, 1};
    subsel_dense *v, *l;
    subsel_objective *obj;
    double alpha = 7;
    int c;

    for (c = 0; c < 2; c++) {
        ck_assert_ok(ctx, subsel_dense_create(ctx, 2, 2, c ? opp_v : cancel_v,
                                              SUBSEL_BORROW, &v));
        ck_assert_ok(ctx, subsel_dense_create(ctx, 2, 2, c ? opp_l : cancel_l,
                                              SUBSEL_BORROW, &l));
        ck_assert_ok(ctx, subsel_clipcov_create(ctx, v, l, NULL, labels, 0, &obj));
        ck_assert_int_eq(subsel_clipcov_data_alpha(ctx, obj, &alpha), SUBSEL_E_NUMERIC);
        ck_assert(alpha == 7);
        ck_assert(strstr(subsel_ctx_last_error(ctx), "average text similarity") != NULL);
        ck_assert_int_eq(subsel_clipcov_data_alpha(ctx, obj, NULL), SUBSEL_E_INVALID);
        ck_assert_int_eq(subsel_clipcov_data_alpha(NULL, obj, &alpha), SUBSEL_E_INVALID);
        subsel_objective_free(obj);
        subsel_dense_free(v);
        subsel_dense_free(l);
    }
    ck_assert_int_eq(subsel_clipcov_data_alpha(ctx, NULL, &alpha), SUBSEL_E_INVALID);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(each_term_alone_matches_its_formula)
{
    subsel_ctx *ctx = new_ctx(1);
    data D;
    reference R;
    subsel_objective *obj;
    ss_rng rng;
    unsigned char in[30];
    int64_t set[30], count;
    int t;

    make_data(ctx, &D, 7, 29, 6, 4, GAUSSIAN, 1, 0);
    obj = make_objective(ctx, &D, 0);
    make_reference(&R, &D, 0);
    ss_rng_seed(&rng, 6, 0);
    random_subset(&rng, D.n, 0.5, in, set, &count);
    for (t = 0; t < SUBSEL_CLIPCOV_TERMS; t++) {
        int u;
        double got, want, scale;
        for (u = 0; u < SUBSEL_CLIPCOV_TERMS; u++) {
            R.w[u] = u == t;
            ck_assert_ok(ctx, subsel_clipcov_set_weight(ctx, obj, u, R.w[u]));
        }
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, set, count, &got));
        want = ref_value(&R, in, &scale);
        ck_assert_msg(fabs(got - want) <= 1e-11 * scale, "term %d: %.17g vs %.17g",
                      t, got, want);
        ck_assert(want != 0.0);
    }
    free_reference(&R);
    subsel_objective_free(obj);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

/* Gains and losses through the ops on states built by adds and removes
 * equal differences of the reference. */
START_TEST(gains_and_losses_are_differences_of_values)
{
    subsel_ctx *ctx = new_ctx(1);
    data D;
    reference R;
    subsel_objective *obj;
    void *st;
    ss_rng rng;
    unsigned char in[33];
    int64_t i;
    int rep;

    make_data(ctx, &D, 8, 33, 9, 4, GAUSSIAN, 1, 1);
    obj = make_objective(ctx, &D, _i);
    make_reference(&R, &D, _i);
    ss_rng_seed(&rng, 8, 1);
    memset(in, 0, sizeof in);
    ck_assert_ok(ctx, obj->ops->state_new(ctx, obj, &st));
    for (rep = 0; rep < 60; rep++) {
        double scale, base = ref_value(&R, in, &scale), g, want, value;
        int64_t item = (int64_t)ss_rng_below(&rng, (uint64_t)D.n);
        ck_assert_ok(ctx, obj->ops->value(ctx, obj, st, &value));
        ck_assert_double_le(fabs(value - base), 1e-11 * scale);
        if (in[item]) {
            ck_assert_ok(ctx, obj->ops->losses(ctx, obj, st, &item, 1, &g));
            in[item] = 0;
            want = base - ref_value(&R, in, NULL);
            ck_assert_ok(ctx, obj->ops->gains(ctx, obj, st, &item, 1, &value));
            ck_assert(value == 0.0); /* gain of a member */
            ck_assert_ok(ctx, obj->ops->remove(ctx, obj, st, item));
        } else {
            ck_assert_ok(ctx, obj->ops->gains(ctx, obj, st, &item, 1, &g));
            in[item] = 1;
            want = ref_value(&R, in, NULL) - base;
            ck_assert_ok(ctx, obj->ops->losses(ctx, obj, st, &item, 1, &value));
            ck_assert(value == 0.0); /* loss of a non-member */
            ck_assert_ok(ctx, obj->ops->add(ctx, obj, st, item));
        }
        ck_assert_msg(fabs(g - want) <= 1e-11 * scale, "step %d item %lld: %.17g vs %.17g",
                      rep, (long long)item, g, want);
    }
    /* double add / remove are refused */
    for (i = 0; i < D.n; i++) {
        int want = in[i] ? SUBSEL_E_INVALID : SUBSEL_OK;
        ck_assert_status(ctx, obj->ops->add(ctx, obj, st, i), want);
        ck_assert_ok(ctx, obj->ops->remove(ctx, obj, st, i));
        ck_assert_status(ctx, obj->ops->remove(ctx, obj, st, i), SUBSEL_E_INVALID);
    }
    obj->ops->state_free(obj, st);
    free_reference(&R);
    subsel_objective_free(obj);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(merged_states_equal_the_union)
{
    subsel_ctx *ctx = new_ctx(1);
    data D;
    subsel_objective *obj;
    void *a, *b, *u;
    int64_t A[] = {0, 3, 4, 9, 17}, B[] = {1, 2, 8, 20}, U[] = {0, 3, 4, 9, 17, 1, 2, 8, 20};
    int64_t i;
    double va, vu;

    make_data(ctx, &D, 9, 24, 5, 3, GAUSSIAN, 1, 0);
    obj = make_objective(ctx, &D, 1);
    ck_assert_ok(ctx, ss_state_of_set(ctx, obj, A, 5, &a));
    ck_assert_ok(ctx, ss_state_of_set(ctx, obj, B, 4, &b));
    ck_assert_ok(ctx, ss_state_of_set(ctx, obj, U, 9, &u));
    ck_assert_ok(ctx, obj->ops->merge(ctx, obj, a, b));
    ck_assert_ok(ctx, obj->ops->value(ctx, obj, a, &va));
    ck_assert_ok(ctx, obj->ops->value(ctx, obj, u, &vu));
    ck_assert_double_le(fabs(va - vu), 1e-12 * (1 + fabs(vu)));
    for (i = 0; i < D.n; i++) {
        double ga, gu;
        ck_assert_ok(ctx, obj->ops->gains(ctx, obj, a, &i, 1, &ga));
        ck_assert_ok(ctx, obj->ops->gains(ctx, obj, u, &i, 1, &gu));
        ck_assert_double_le(fabs(ga - gu), 1e-12 * (1 + fabs(gu)));
    }
    /* sharing an item is refused */
    ck_assert_status(ctx, obj->ops->merge(ctx, obj, a, u), SUBSEL_E_INVALID);
    obj->ops->state_free(obj, a);
    obj->ops->state_free(obj, b);
    obj->ops->state_free(obj, u);
    subsel_objective_free(obj);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(zero_shot_classes_are_the_cosine_argmax)
{
    subsel_ctx *ctx1 = new_ctx(1), *ctx2 = new_ctx(2);
    data D;
    subsel_objective *o1, *o2;
    int64_t *c1, *c2, i, d2;

    /* more than one block of rows, and several threads */
    make_data(ctx1, &D, 11, 1300, 16, 23, GAUSSIAN, 0, 0);
    o1 = make_objective(ctx1, &D, _i);
    o2 = make_objective(ctx2, &D, _i);
    ck_assert_int_eq(subsel_clipcov_class_count(o1), 23);
    c1 = malloc(sizeof(int64_t) * (size_t)D.n);
    c2 = malloc(sizeof(int64_t) * (size_t)D.n);
    ck_assert_ok(ctx1, subsel_clipcov_classes(ctx1, o1, c1, D.n));
    ck_assert_ok(ctx2, subsel_clipcov_classes(ctx2, o2, c2, D.n));
    ck_assert_status(ctx1, subsel_clipcov_classes(ctx1, o1, c1, D.n - 1), SUBSEL_E_INVALID);
    for (i = 0; i < D.n; i++) {
        double best, mine = 0, xx = 0, yy = 0;
        int64_t c, want = cosine_class(&D, i, &best);
        ck_assert_int_eq(c1[i], c2[i]);
        ck_assert(c1[i] >= 0 && c1[i] < D.K);
        for (c = 0; c < D.d; c++) {
            mine += (double)D.xv[i * D.d + c] * D.y[c1[i] * D.d + c];
            xx += (double)D.xv[i * D.d + c] * D.xv[i * D.d + c];
            yy += (double)D.y[c1[i] * D.d + c] * D.y[c1[i] * D.d + c];
        }
        /* float products: equal to the double arg-max up to near-ties */
        ck_assert_msg(c1[i] == want || mine / sqrt(xx * yy) >= best - 1e-5,
                      "pair %lld: class %lld, cosine arg-max %lld", (long long)i,
                      (long long)c1[i], (long long)want);
    }
    /* identical objectives whatever the thread count */
    for (i = 0, d2 = 0; i < D.n; i += 97) {
        double g1, g2;
        int64_t set[3] = {i, (i + 5) % D.n, (i + 11) % D.n};
        ck_assert_ok(ctx1, subsel_objective_evaluate(ctx1, o1, set, 3, &g1));
        ck_assert_ok(ctx2, subsel_objective_evaluate(ctx2, o2, set, 3, &g2));
        ck_assert(memcmp(&g1, &g2, sizeof g1) == 0);
        d2++;
    }
    ck_assert(d2 > 10);
    free(c1);
    free(c2);
    subsel_objective_free(o1);
    subsel_objective_free(o2);
    free_data(&D);
    subsel_ctx_free(ctx1);
    subsel_ctx_free(ctx2);
}
END_TEST

START_TEST(an_empty_pool_selects_nothing)
{
    subsel_ctx *ctx = new_ctx(1);
    float none[1] = {0}, y[4] = {1, 0, 0, 1};
    subsel_dense *image, *text, *emb;
    subsel_objective *obj;
    subsel_optimizer *g;
    subsel_selection *s, *gs;
    double v = -1;
    ck_assert_ok(ctx, subsel_dense_create(ctx, 0, 2, none, SUBSEL_BORROW, &image));
    ck_assert_ok(ctx, subsel_dense_create(ctx, 0, 2, none, SUBSEL_BORROW, &text));
    ck_assert_ok(ctx, subsel_dense_create(ctx, 2, 2, y, SUBSEL_BORROW, &emb));
    ck_assert_ok(ctx, subsel_clipcov_create(ctx, image, text, emb, NULL, 1, &obj));
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, NULL, 0, &v));
    ck_assert(v == 0.0);
    ck_assert_ok(ctx, subsel_clipcov_optimizer(ctx, obj, 0, &g));
    ck_assert_ok(ctx, subsel_clipcov_select(ctx, obj, g, SUBSEL_CLIPCOV_FILTER_RANDOMIZED, &s, &gs));
    ck_assert_int_eq(subsel_selection_count(s), 0);
    ck_assert_int_eq(subsel_selection_count(gs), 0);
    subsel_selection_free(s);
    subsel_selection_free(gs);
    subsel_optimizer_free(g);
    subsel_objective_free(obj);
    subsel_dense_free(image);
    subsel_dense_free(text);
    subsel_dense_free(emb);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---- submodularity ----------------------------------------------------- */

/* 1 if every within-class similarity of two distinct pairs is >= 0. */
static int brute_force_nonnegative(const reference *R)
{
    int64_t i, j;
    for (i = 0; i < R->D->n; i++)
        for (j = i + 1; j < R->D->n; j++)
            if (R->cls[i] == R->cls[j] && sim(R, i, j) < 0)
                return 0;
    return 1;
}

/* _i: the data kind; each with and without normalising. */
START_TEST(submodularity_tests_agree_with_all_pairs)
{
    int normalize;
    for (normalize = 0; normalize < 2; normalize++) {
        subsel_ctx *ctx = new_ctx(2);
        data D;
        reference R;
        subsel_objective *obj;
        int cheap, exact, truth;
        make_data(ctx, &D, 12 + (uint64_t)_i, 90, 7, 3, _i, 1, 0);
        obj = make_objective(ctx, &D, normalize);
        make_reference(&R, &D, normalize);
        truth = brute_force_nonnegative(&R);
        ck_assert_ok(ctx, subsel_clipcov_check_submodular(ctx, obj, 0, &cheap));
        ck_assert_ok(ctx, subsel_clipcov_check_submodular(ctx, obj, 1, &exact));
        ck_assert_int_eq(exact, truth);
        if (cheap)
            ck_assert(truth); /* the cone test never claims too much */
        /* the optimizers read the instance's flag; the shared table never
         * changes (it used to be swapped for a submodular copy) */
        ck_assert_int_eq(obj->submodular, truth);
        ck_assert_ptr_eq(obj->ops, &ss_clipcov_ops);
        switch (_i) {
        case GAUSSIAN: ck_assert(!truth); break;
        case POSITIVE: ck_assert(truth); break;
        default: ck_assert(cheap); /* tight cones: proven at construction */
        }
        /* without the pairwise term F is modular, hence submodular */
        ck_assert_ok(ctx, subsel_clipcov_set_weight(ctx, obj, SUBSEL_CLIPCOV_INTRA, 0));
        ck_assert_int_eq(obj->submodular, 1); /* set by the setter itself */
        ck_assert_ok(ctx, subsel_clipcov_check_submodular(ctx, obj, 0, &cheap));
        ck_assert(cheap);
        ck_assert_ok(ctx, subsel_clipcov_set_weight(ctx, obj, SUBSEL_CLIPCOV_INTRA, 2));
        ck_assert_int_eq(obj->submodular, truth);
        ck_assert_ok(ctx, subsel_clipcov_check_submodular(ctx, obj, 0, &cheap));
        ck_assert_int_eq(cheap, truth);
        ck_assert_ptr_eq(obj->ops, &ss_clipcov_ops);
        free_reference(&R);
        subsel_objective_free(obj);
        free_data(&D);
        subsel_ctx_free(ctx);
    }
}
END_TEST

/* A class of three blocks: one planted negative pair, across blocks 0 and
 * 2, is found, and without it the class passes. */
START_TEST(exact_test_finds_a_planted_negative_pair)
{
    int planted;
    for (planted = 0; planted < 2; planted++) {
        subsel_ctx *ctx = new_ctx(2);
        data D;
        subsel_objective *obj;
        int64_t n = 700, d = 6, i, c, p = 100, q = 690; /* blocks 0 and 2 */
        int sub;
        make_data(ctx, &D, 13, n, d, 2, POSITIVE, 1, 0);
        for (i = 0; i < n; i++) {
            D.labels[i] = i < 40 ? 1 : 0;
            D.xv[i * d + 0] = 0.01f; /* keeps sim(q, r) positive */
            D.xl[i * d + 2] = 1.0f;
        }
        if (planted) {
            for (c = 0; c < d; c++)
                D.xv[p * d + c] = D.xl[p * d + c] = D.xv[q * d + c] = D.xl[q * d + c] = 0;
            D.xv[p * d + 0] = 1; /* x_V(p) = e0, x_L(p) = e1 */
            D.xl[p * d + 1] = 1;
            D.xv[q * d + 2] = 1; /* x_V(q) = e2, x_L(q) = -e0 */
            D.xl[q * d + 0] = -1;
        }
        obj = make_objective(ctx, &D, 0);
        ck_assert_ok(ctx, subsel_clipcov_check_submodular(ctx, obj, 1, &sub));
        ck_assert_int_eq(sub, !planted);
        if (planted) {
            reference R;
            make_reference(&R, &D, 0);
            ck_assert(sim(&R, p, q) < 0);
            ck_assert(!brute_force_nonnegative(&R));
            free_reference(&R);
        }
        subsel_objective_free(obj);
        free_data(&D);
        subsel_ctx_free(ctx);
    }
}
END_TEST

START_TEST(lazy_greedy_only_when_proven_and_then_equal_to_naive)
{
    int kind;
    for (kind = GAUSSIAN; kind <= CONES; kind++) {
        subsel_ctx *ctx = new_ctx(1);
        data D;
        subsel_objective *obj;
        subsel_optimizer *opt, *naive, *lazy;
        subsel_selection *a = NULL, *b = NULL;
        make_data(ctx, &D, 14 + (uint64_t)kind, 60, 5, 3, kind, 1, 0);
        obj = make_objective(ctx, &D, 1);
        ck_assert_ok(ctx, subsel_clipcov_optimizer(ctx, obj, 20, &opt));
        ck_assert_int_eq(opt->algorithm, obj->submodular ? SUBSEL_OPT_LAZY
                                                                : SUBSEL_OPT_STOCHASTIC);
        ck_assert_int_eq(opt->budget, 20);
        ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, &naive));
        ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_LAZY, &lazy));
        ck_assert_ok(ctx, subsel_optimizer_set_int(naive, SUBSEL_OPT_BUDGET, 20));
        ck_assert_ok(ctx, subsel_optimizer_set_int(lazy, SUBSEL_OPT_BUDGET, 20));
        if (obj->submodular) {
            int64_t j;
            ck_assert_ok(ctx, subsel_optimizer_run(ctx, naive, obj, &a));
            ck_assert_ok(ctx, subsel_optimizer_run(ctx, lazy, obj, &b));
            ck_assert_int_eq(subsel_selection_count(a), subsel_selection_count(b));
            for (j = 0; j < subsel_selection_count(a); j++)
                ck_assert_int_eq(subsel_selection_indices(a)[j],
                                 subsel_selection_indices(b)[j]);
        } else {
            ck_assert_int_eq(kind, GAUSSIAN);
            ck_assert_status(ctx, subsel_optimizer_run(ctx, lazy, obj, &b), SUBSEL_E_INVALID);
            ck_assert_ptr_null(b);
        }
        subsel_selection_free(a);
        subsel_selection_free(b);
        subsel_optimizer_free(opt);
        subsel_optimizer_free(naive);
        subsel_optimizer_free(lazy);
        subsel_objective_free(obj);
        free_data(&D);
        subsel_ctx_free(ctx);
    }
}
END_TEST

/* ---- argument checks --------------------------------------------------- */

START_TEST(bad_arguments_are_rejected)
{
    subsel_ctx *ctx = new_ctx(1);
    data D;
    subsel_objective *obj = (subsel_objective *)&obj, *cut = NULL;
    subsel_optimizer *opt = (subsel_optimizer *)&opt;
    subsel_dense *small = NULL, *narrow = NULL, *zero_rows = NULL;
    float zeros[12] = {0};
    double w[4] = {0, 1, 1, 0};
    int sub;

    make_data(ctx, &D, 15, 12, 3, 4, GAUSSIAN, 1, 0);
    ck_assert_ok(ctx, subsel_dense_create(ctx, 11, 3, D.xv, SUBSEL_BORROW, &small));
    ck_assert_ok(ctx, subsel_dense_create(ctx, 12, 2, D.xv, SUBSEL_BORROW, &narrow));
    ck_assert_ok(ctx, subsel_dense_create(ctx, 4, 3, zeros, SUBSEL_BORROW, &zero_rows));

    ck_assert_status(ctx, subsel_clipcov_create(ctx, NULL, D.text, D.emb, D.labels, 0, &obj), SUBSEL_E_INVALID);
    ck_assert_ptr_null(obj);
    ck_assert_status(ctx, subsel_clipcov_create(ctx, D.image, small, D.emb, D.labels, 0, &obj), SUBSEL_E_INVALID);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "11 x 3") != NULL);
    ck_assert_status(ctx, subsel_clipcov_create(ctx, D.image, D.text, narrow, D.labels, 0, &obj), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_create(ctx, D.image, D.text, NULL, NULL, 0, &obj), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_create(NULL, D.image, D.text, D.emb, NULL, 0, &obj), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_create(ctx, D.image, D.text, D.emb, NULL, 0, NULL), SUBSEL_E_INVALID);
    D.labels[5] = 4;
    ck_assert_status(ctx, subsel_clipcov_create(ctx, D.image, D.text, D.emb, D.labels, 0, &obj), SUBSEL_E_INVALID);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "pair 5") != NULL);
    D.labels[5] = -1;
    ck_assert_status(ctx, subsel_clipcov_create(ctx, D.image, D.text, D.emb, D.labels, 0, &obj), SUBSEL_E_INVALID);
    D.labels[5] = 1;
    /* zero rows cannot be normalised, zero label embeddings have no cosine */
    D.xl[7 * 3] = D.xl[7 * 3 + 1] = D.xl[7 * 3 + 2] = 0;
    ck_assert_status(ctx, subsel_clipcov_create(ctx, D.image, D.text, D.emb, D.labels, 1, &obj), SUBSEL_E_INVALID);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "text row 7") != NULL);
    ck_assert_ok(ctx, subsel_clipcov_create(ctx, D.image, D.text, D.emb, D.labels, 0, &obj));
    subsel_objective_free(obj);
    ck_assert_status(ctx, subsel_clipcov_create(ctx, D.image, D.text, zero_rows, NULL, 0, &obj), SUBSEL_E_INVALID);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "label embedding 0") != NULL);
    /* labels without embeddings: K = max + 1, no label term */
    ck_assert_ok(ctx, subsel_clipcov_create(ctx, D.image, D.text, NULL, D.labels, 0, &obj));
    ck_assert_int_eq(subsel_clipcov_class_count(obj), 4);

    ck_assert_status(ctx, subsel_clipcov_set_weight(ctx, obj, 5, 1.0), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_set_weight(ctx, obj, -1, 1.0), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_set_weight(ctx, obj, 0, -0.5), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_set_weight(ctx, obj, 0, NAN), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_set_weight(ctx, obj, 0, INFINITY), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_set_alpha(ctx, obj, -1), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_set_alpha(ctx, obj, NAN), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_set_weight(ctx, NULL, 0, 1), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_optimizer(ctx, obj, 13, &opt), SUBSEL_E_INVALID);
    ck_assert_ptr_null(opt);
    ck_assert_status(ctx, subsel_clipcov_optimizer(ctx, obj, -1, &opt), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_check_submodular(ctx, obj, 0, NULL), SUBSEL_E_INVALID);

    /* other objectives are not ClipCov */
    ck_assert_ok(ctx, ss_cut_create(ctx, 2, w, &cut));
    ck_assert_int_eq(subsel_clipcov_class_count(cut), 0);
    ck_assert_int_eq(subsel_clipcov_class_count(NULL), 0);
    ck_assert_status(ctx, subsel_clipcov_set_alpha(ctx, cut, 1), SUBSEL_E_INVALID);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "cut function") != NULL);
    ck_assert_status(ctx, subsel_clipcov_check_submodular(ctx, cut, 1, &sub), SUBSEL_E_INVALID);

    subsel_objective_free(cut);
    subsel_objective_free(obj);
    free_data(&D);
    subsel_ctx_free(ctx);
    subsel_dense_free(small);
    subsel_dense_free(narrow);
    subsel_dense_free(zero_rows);
}
END_TEST

/* ---- double greedy ----------------------------------------------------- */

/* A random directed graph on n vertices, density p, weights in (0, 1]. */
static subsel_objective *random_cut(subsel_ctx *ctx, ss_rng *rng, int64_t n,
                                    double p, double *w)
{
    subsel_objective *obj;
    int64_t i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            w[i * n + j] = i != j && ss_rng_uniform(rng) < p ? 1.0 - ss_rng_uniform(rng) : 0.0;
    ck_assert_ok(ctx, ss_cut_create(ctx, n, w, &obj));
    return obj;
}

static double cut_of(const double *w, int64_t n, uint64_t mask)
{
    double v = 0;
    int64_t i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            if ((mask >> i & 1) && !(mask >> j & 1))
                v += w[i * n + j];
    return v;
}

START_TEST(cut_gains_and_losses_match_the_definition)
{
    subsel_ctx *ctx = new_ctx(1);
    ss_rng rng;
    double w[100];
    subsel_objective *obj;
    void *st;
    uint64_t mask = 0;
    int rep;
    ss_rng_seed(&rng, 20, 0);
    obj = random_cut(ctx, &rng, 10, 0.5, w);
    ck_assert_ok(ctx, obj->ops->state_new(ctx, obj, &st));
    for (rep = 0; rep < 50; rep++) {
        int64_t e = (int64_t)ss_rng_below(&rng, 10);
        double g, v;
        if (mask >> e & 1) {
            ck_assert_ok(ctx, obj->ops->losses(ctx, obj, st, &e, 1, &g));
            ck_assert_double_le(fabs(g - (cut_of(w, 10, mask) - cut_of(w, 10, mask & ~(1ull << e)))), 1e-12);
            ck_assert_ok(ctx, obj->ops->remove(ctx, obj, st, e));
            mask &= ~(1ull << e);
        } else {
            ck_assert_ok(ctx, obj->ops->gains(ctx, obj, st, &e, 1, &g));
            ck_assert_double_le(fabs(g - (cut_of(w, 10, mask | 1ull << e) - cut_of(w, 10, mask))), 1e-12);
            ck_assert_ok(ctx, obj->ops->add(ctx, obj, st, e));
            mask |= 1ull << e;
        }
        ck_assert_ok(ctx, obj->ops->value(ctx, obj, st, &v));
        ck_assert_double_le(fabs(v - cut_of(w, 10, mask)), 1e-12);
    }
    obj->ops->state_free(obj, st);
    subsel_objective_free(obj);
    w[0] = 1; /* a loop is not a cut weight */
    ck_assert_status(ctx, ss_cut_create(ctx, 10, w, &obj), SUBSEL_E_INVALID);
    subsel_ctx_free(ctx);
}
END_TEST

/* Deterministic double greedy >= OPT / 3 and the randomised one's mean over
 * seeds >= OPT / 2, OPT by enumeration; on random cut functions. */
START_TEST(double_greedy_meets_its_guarantees)
{
    subsel_ctx *ctx = new_ctx(1);
    ss_rng rng;
    double w[14 * 14];
    int inst;
    ss_rng_seed(&rng, 21, 0);
    for (inst = 0; inst < 25; inst++) {
        int64_t n = 6 + inst % 9, s;
        subsel_objective *obj = random_cut(ctx, &rng, n, 0.15 + 0.05 * (inst % 6), w);
        subsel_selection *sel;
        double opt = 0, mean = 0, det;
        uint64_t m;
        for (m = 0; m < (1ull << n); m++) {
            double v = cut_of(w, n, m);
            opt = v > opt ? v : opt;
        }
        ck_assert_ok(ctx, subsel_double_greedy(ctx, obj, NULL, 0, 0, &sel));
        det = subsel_selection_value(sel);
        ck_assert_msg(det >= opt / 3 - 1e-12, "instance %d: %g < OPT/3, OPT %g", inst, det, opt);
        ck_assert_double_le(det, opt + 1e-12);
        subsel_selection_free(sel);
        for (s = 0; s < 200; s++) {
            ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, s));
            ck_assert_ok(ctx, subsel_double_greedy(ctx, obj, NULL, 0, 1, &sel));
            mean += subsel_selection_value(sel) / 200;
            subsel_selection_free(sel);
        }
        ck_assert_msg(mean >= opt / 2, "instance %d: mean %g < OPT/2, OPT %g", inst, mean, opt);
        subsel_objective_free(obj);
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* The decisions, replayed with nothing but subsel_objective_evaluate: X
 * starts as the *nx items in x (an initial set), Y as those plus the
 * ground set. */
static void replay_double_greedy(subsel_ctx *ctx, const subsel_objective *obj,
                                 const int64_t *ground, int64_t count,
                                 int64_t *x, int64_t *nx)
{
    int64_t y[64], ny = *nx + count, t, j;
    memcpy(y, x, sizeof(int64_t) * (size_t)*nx);
    memcpy(y + *nx, ground, sizeof(int64_t) * (size_t)count);
    for (t = 0; t < count; t++) {
        int64_t e = ground[t], ym[64], nym = 0;
        double fx, fxe, fy, fym;
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, x, *nx, &fx));
        x[*nx] = e;
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, x, *nx + 1, &fxe));
        for (j = 0; j < ny; j++)
            if (y[j] != e)
                ym[nym++] = y[j];
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, y, ny, &fy));
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, ym, nym, &fym));
        if (fxe - fx >= fym - fy) {
            (*nx)++;
        } else {
            memcpy(y, ym, sizeof(int64_t) * (size_t)nym);
            ny = nym;
        }
    }
}

START_TEST(double_greedy_follows_its_definition)
{
    subsel_ctx *ctx = new_ctx(1);
    data D;
    subsel_objective *obj;
    subsel_selection *sel = NULL;
    int64_t ground[40], x[64], nx, t, count = 0, i;
    double sum = 0, v;

    /* a non-monotone ClipCov instance, on a ground subset in a scrambled
     * order */
    make_data(ctx, &D, 22, 50, 6, 3, GAUSSIAN, 1, 0);
    obj = make_objective(ctx, &D, 1);
    ck_assert_ok(ctx, subsel_clipcov_set_weight(ctx, obj, SUBSEL_CLIPCOV_INTRA, 30));
    for (i = 0; i < 40; i++)
        ground[count++] = (i * 17 + 3) % 50;
    ck_assert_ok(ctx, subsel_double_greedy(ctx, obj, ground, count, 0, &sel));
    nx = 0;
    replay_double_greedy(ctx, obj, ground, count, x, &nx);
    ck_assert_int_eq(subsel_selection_count(sel), nx);
    ck_assert(nx > 0 && nx < count);
    for (t = 0; t < nx; t++) {
        ck_assert_int_eq(subsel_selection_indices(sel)[t], x[t]);
        sum += subsel_selection_gains(sel)[t];
    }
    ck_assert_int_eq(subsel_selection_evaluations(sel), 2 * count);
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, x, nx, &v));
    ck_assert_double_le(fabs(subsel_selection_value(sel) - v), 1e-12 * (1 + fabs(v)));
    ck_assert_double_le(fabs(sum - v), 1e-9 * (1 + fabs(v))); /* f(empty) = 0 */
    subsel_selection_free(sel);
    subsel_objective_free(obj);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

/* Double greedy through the optimizer from an initial set: the initial
 * items first, kept, then the decisions on every other item in index order
 * with X starting as the initial set and Y as everything; the randomised
 * version keeps them too. */
START_TEST(double_greedy_keeps_an_initial_set)
{
    subsel_ctx *ctx = new_ctx(1);
    data D;
    subsel_objective *obj;
    subsel_optimizer *opt;
    subsel_selection *sel = NULL;
    const int64_t initial[] = {7, 31, 12};
    int64_t ground[50], x[64], nx = 3, count = 0, i, t;
    int randomized;
    make_data(ctx, &D, 22, 50, 6, 3, GAUSSIAN, 1, 0);
    obj = make_objective(ctx, &D, 1);
    ck_assert_ok(ctx, subsel_clipcov_set_weight(ctx, obj, SUBSEL_CLIPCOV_INTRA, 30));
    for (i = 0; i < 50; i++)
        if (i != 7 && i != 31 && i != 12)
            ground[count++] = i;
    memcpy(x, initial, sizeof initial);
    replay_double_greedy(ctx, obj, ground, count, x, &nx);
    ck_assert(nx > 3 && nx < 50);
    for (randomized = 0; randomized <= 1; randomized++) {
        ck_assert_ok(ctx, subsel_optimizer_create(ctx, randomized
                                                           ? SUBSEL_ALGORITHM_DOUBLE_GREEDY_RANDOM
                                                           : SUBSEL_ALGORITHM_DOUBLE_GREEDY,
                                                  &opt));
        ck_assert_ok(ctx, subsel_optimizer_set_initial(ctx, opt, initial, 3));
        ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, obj, &sel));
        for (t = 0; t < 3; t++)
            ck_assert_int_eq(subsel_selection_indices(sel)[t], initial[t]);
        if (!randomized) {
            ck_assert_int_eq(subsel_selection_count(sel), nx);
            for (t = 3; t < nx; t++)
                ck_assert_int_eq(subsel_selection_indices(sel)[t], x[t]);
        } else {
            for (t = 3; t < subsel_selection_count(sel); t++)
                ck_assert(subsel_selection_indices(sel)[t] != 7 &&
                          subsel_selection_indices(sel)[t] != 31 &&
                          subsel_selection_indices(sel)[t] != 12);
        }
        subsel_selection_free(sel);
        subsel_optimizer_free(opt);
    }
    subsel_objective_free(obj);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(randomised_double_greedy_is_reproducible)
{
    subsel_ctx *ctx = new_ctx(1);
    ss_rng rng;
    double w[30 * 30];
    subsel_objective *obj;
    subsel_selection *a, *b, *c;
    int64_t seed, differ = 0;
    ss_rng_seed(&rng, 23, 0);
    obj = random_cut(ctx, &rng, 30, 0.3, w);
    for (seed = 0; seed < 10; seed++) {
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, seed));
        ck_assert_ok(ctx, subsel_double_greedy(ctx, obj, NULL, 0, 1, &a));
        ck_assert_ok(ctx, subsel_double_greedy(ctx, obj, NULL, 0, 1, &b));
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, seed + 1000));
        ck_assert_ok(ctx, subsel_double_greedy(ctx, obj, NULL, 0, 1, &c));
        ck_assert_int_eq(subsel_selection_count(a), subsel_selection_count(b));
        ck_assert(memcmp(subsel_selection_indices(a), subsel_selection_indices(b),
                         sizeof(int64_t) * (size_t)subsel_selection_count(a)) == 0);
        differ += subsel_selection_count(a) != subsel_selection_count(c) ||
                  memcmp(subsel_selection_indices(a), subsel_selection_indices(c),
                         sizeof(int64_t) * (size_t)subsel_selection_count(a)) != 0;
        subsel_selection_free(a);
        subsel_selection_free(b);
        subsel_selection_free(c);
    }
    ck_assert(differ > 0); /* the seed matters */
    subsel_objective_free(obj);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(double_greedy_needs_removal_and_valid_ground_sets)
{
    subsel_ctx *ctx = new_ctx(1);
    ss_rng rng;
    double w[25];
    subsel_objective *obj, fake;
    ss_objective_ops ops;
    subsel_selection *sel = (subsel_selection *)&sel;
    int64_t dup[] = {1, 2, 1}, out_of_range[] = {0, 5};
    ss_trace trace;
    ss_rng_seed(&rng, 24, 0);
    obj = random_cut(ctx, &rng, 5, 0.5, w);
    ck_assert_status(ctx, subsel_double_greedy(ctx, obj, dup, 3, 0, &sel), SUBSEL_E_INVALID);
    ck_assert_ptr_null(sel);
    ck_assert_status(ctx, subsel_double_greedy(ctx, obj, out_of_range, 2, 0, &sel), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_double_greedy(ctx, obj, dup, -1, 0, &sel), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_double_greedy(ctx, NULL, NULL, 0, 0, &sel), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_double_greedy(ctx, obj, NULL, 0, 0, NULL), SUBSEL_E_INVALID);
    ck_assert_ok(ctx, subsel_double_greedy(ctx, obj, dup, 0, 0, &sel)); /* empty ground set */
    ck_assert_int_eq(subsel_selection_count(sel), 0);
    ck_assert(subsel_selection_value(sel) == 0.0);
    subsel_selection_free(sel);
    /* the same objective without remove / losses */
    ops = *obj->ops;
    ops.remove = NULL;
    fake = *obj;
    fake.ops = &ops;
    ck_assert_status(ctx, subsel_double_greedy(ctx, &fake, NULL, 0, 0, &sel), SUBSEL_E_UNSUPPORTED);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "cut function") != NULL);
    ck_assert_ok(ctx, ss_trace_init(ctx, &trace, 5));
    ck_assert_status(ctx, ss_double_greedy(ctx, &fake, NULL, 0, 1, 0, 0, &trace), SUBSEL_E_UNSUPPORTED);
    ck_assert_ok(ctx, ss_double_greedy(ctx, obj, NULL, 0, 1, 3, 4, &trace));
    ck_assert_int_eq(trace.evaluations, 10);
    ss_trace_free(ctx, &trace);
    subsel_objective_free(obj);
    subsel_ctx_free(ctx);
}
END_TEST

/* Double greedy works on the other objectives of the library too. */
START_TEST(double_greedy_runs_on_feature_based_functions)
{
    subsel_ctx *ctx = new_ctx(1);
    float z[8 * 5];
    subsel_dense *dz;
    subsel_csr *csr;
    subsel_objective *obj;
    subsel_selection *sel;
    double v;
    int i;
    for (i = 0; i < 40; i++)
        z[i] = (float)((i * 7) % 5) * 0.5f;
    ck_assert_ok(ctx, subsel_dense_create(ctx, 8, 5, z, SUBSEL_COPY, &dz));
    ck_assert_ok(ctx, subsel_csr_from_dense(ctx, dz, &csr));
    ck_assert_ok(ctx, subsel_fb_create(ctx, csr, SUBSEL_CONCAVE_SQRT, 0, NULL, &obj));
    ck_assert_ok(ctx, subsel_double_greedy(ctx, obj, NULL, 0, 0, &sel));
    /* monotone: every item has a >= 0 >= b, so X takes the whole ground set */
    ck_assert_int_eq(subsel_selection_count(sel), 8);
    ck_assert_ok(ctx, subsel_objective_evaluate(ctx, obj, subsel_selection_indices(sel), 8, &v));
    ck_assert_double_le(fabs(v - subsel_selection_value(sel)), 1e-12 * (1 + v));
    subsel_selection_free(sel);
    subsel_objective_free(obj);
    subsel_csr_free(csr);
    subsel_dense_free(dz);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---- the pipeline ------------------------------------------------------ */

static int is_subset_in_order(const subsel_selection *a, const subsel_selection *b)
{
    int64_t i = 0, j;
    for (j = 0; j < subsel_selection_count(b) && i < subsel_selection_count(a); j++)
        if (subsel_selection_indices(b)[j] == subsel_selection_indices(a)[i])
            i++;
    return i == subsel_selection_count(a);
}

static int same_selection(const subsel_selection *a, const subsel_selection *b)
{
    int64_t n = subsel_selection_count(a);
    double va = subsel_selection_value(a), vb = subsel_selection_value(b);
    return n == subsel_selection_count(b) &&
           memcmp(subsel_selection_indices(a), subsel_selection_indices(b),
                  sizeof(int64_t) * (size_t)n) == 0 &&
           memcmp(&va, &vb, sizeof va) == 0;
}

/* The optimizer runs double greedy too: the deterministic one equals
 * subsel_double_greedy() over all items whatever the budget; the randomised
 * one meets 1/2 on average and intersects seeded runs. */
START_TEST(optimizer_runs_double_greedy)
{
    subsel_ctx *ctx = new_ctx(2);
    ss_rng rng;
    double w[12 * 12], opt_value = 0, mean = 0;
    subsel_objective *obj;
    subsel_optimizer *det, *rnd;
    subsel_selection *a, *b;
    uint64_t m;
    int64_t s;
    ss_rng_seed(&rng, 25, 0);
    obj = random_cut(ctx, &rng, 12, 0.3, w);
    for (m = 0; m < (1ull << 12); m++)
        opt_value = fmax(opt_value, cut_of(w, 12, m));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_DOUBLE_GREEDY, &det));
    ck_assert_ok(ctx, subsel_optimizer_create(ctx, SUBSEL_OPT_DOUBLE_GREEDY_RANDOM, &rnd));
    ck_assert_ok(ctx, subsel_optimizer_set_int(det, SUBSEL_OPT_BUDGET, 2));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, det, obj, &a));
    ck_assert_ok(ctx, subsel_double_greedy(ctx, obj, NULL, 0, 0, &b));
    ck_assert(same_selection(a, b));
    ck_assert_int_gt(subsel_selection_count(a), 2); /* the budget is ignored */
    ck_assert_int_eq(subsel_selection_evaluations(a), 24);
    subsel_selection_free(a);
    subsel_selection_free(b);
    for (s = 0; s < 100; s++) {
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, s));
        ck_assert_ok(ctx, subsel_optimizer_run(ctx, rnd, obj, &a));
        ck_assert_ok(ctx, subsel_optimizer_run(ctx, rnd, obj, &b));
        ck_assert(same_selection(a, b));
        mean += subsel_selection_value(a) / 100;
        subsel_selection_free(a);
        subsel_selection_free(b);
    }
    ck_assert(mean >= opt_value / 2);
    ck_assert_ok(ctx, subsel_optimizer_set_int(rnd, SUBSEL_OPT_RUNS, 4));
    ck_assert_ok(ctx, subsel_optimizer_run(ctx, rnd, obj, &a));
    ck_assert_int_le(subsel_selection_count(a), 12);
    subsel_selection_free(a);
    ck_assert_ok(ctx, subsel_optimizer_set_int(det, SUBSEL_OPT_RUNS, 2));
    ck_assert_status(ctx, subsel_optimizer_run(ctx, det, obj, &a), SUBSEL_E_INVALID);
    subsel_optimizer_free(det);
    subsel_optimizer_free(rnd);
    subsel_objective_free(obj);
    subsel_ctx_free(ctx);
}
END_TEST

/* _i: the filter. Across many instances: a subset of the greedy result in
 * greedy order, never worse, at most the budget, identical with 1 and 2
 * threads; and the filter strictly improves some instances. */
START_TEST(pipeline_keeps_its_promises)
{
    int inst, improved = 0, filter = _i;
    for (inst = 0; inst < 12; inst++) {
        subsel_ctx *c1 = new_ctx(1), *c2 = new_ctx(2);
        data D;
        subsel_objective *o1, *o2;
        subsel_optimizer *g1, *g2;
        subsel_selection *s1, *s2, *gr1, *gr2;
        int64_t budget = 100, t;
        double sum = 0, v;
        make_data(c1, &D, 30 + (uint64_t)inst, 120, 8, 3, inst % 2 ? GAUSSIAN : POSITIVE, inst % 3 != 0, 0);
        ck_assert_ok(c1, subsel_ctx_set_int(c1, SUBSEL_CTX_SEED, inst));
        ck_assert_ok(c2, subsel_ctx_set_int(c2, SUBSEL_CTX_SEED, inst));
        o1 = make_objective(c1, &D, inst % 4 < 2);
        o2 = make_objective(c2, &D, inst % 4 < 2);
        ck_assert_ok(c1, subsel_clipcov_optimizer(c1, o1, budget, &g1));
        ck_assert_ok(c2, subsel_clipcov_optimizer(c2, o2, budget, &g2));
        /* the recommended greedy goes to the budget whatever the gains, as
         * the paper's Algorithm 1 (near the whole pool, F decreases: the
         * filter has harm to undo); a third of the time it stops instead */
        ck_assert_ok(c1, subsel_optimizer_set_int(g1, SUBSEL_OPT_STOP_NONPOSITIVE, inst % 3 == 1));
        ck_assert_ok(c2, subsel_optimizer_set_int(g2, SUBSEL_OPT_STOP_NONPOSITIVE, inst % 3 == 1));
        ck_assert_ok(c1, subsel_clipcov_select(c1, o1, g1, filter, &s1, &gr1));
        ck_assert_ok(c2, subsel_clipcov_select(c2, o2, g2, filter, &s2, &gr2));
        ck_assert(same_selection(s1, s2));
        ck_assert(same_selection(gr1, gr2));
        ck_assert_int_le(subsel_selection_count(s1), budget);
        /* both know their budget and why they fall short of it */
        ck_assert_int_eq(subsel_selection_budget(gr1), budget);
        ck_assert_int_eq(subsel_selection_budget(s1), budget);
        ck_assert_int_eq(subsel_selection_short_reason(gr1),
                         subsel_selection_count(gr1) == budget ? SUBSEL_SHORT_NONE
                                                               : SUBSEL_SHORT_NONPOSITIVE);
        if (subsel_selection_count(s1) == budget)
            ck_assert_int_eq(subsel_selection_short_reason(s1), SUBSEL_SHORT_NONE);
        else if (subsel_selection_count(gr1) < budget)
            ck_assert_int_eq(subsel_selection_short_reason(s1), SUBSEL_SHORT_NONPOSITIVE);
        else
            ck_assert_int_eq(subsel_selection_short_reason(s1), SUBSEL_SHORT_FILTERED);
        ck_assert(is_subset_in_order(s1, gr1));
        ck_assert(subsel_selection_value(s1) >= subsel_selection_value(gr1));
        improved += subsel_selection_value(s1) > subsel_selection_value(gr1);
        if (filter == SUBSEL_CLIPCOV_FILTER_NONE)
            ck_assert(same_selection(s1, gr1));
        for (t = 0; t < subsel_selection_count(s1); t++)
            sum += subsel_selection_gains(s1)[t];
        ck_assert_ok(c1, subsel_objective_evaluate(c1, o1, subsel_selection_indices(s1),
                                                   subsel_selection_count(s1), &v));
        ck_assert_double_le(fabs(v - subsel_selection_value(s1)), 1e-12 * (1 + fabs(v)));
        ck_assert_double_le(fabs(sum - v), 1e-9 * (1 + fabs(v)));
        ck_assert_int_ge(subsel_selection_evaluations(s1), subsel_selection_evaluations(gr1));
        subsel_selection_free(s1);
        subsel_selection_free(s2);
        subsel_selection_free(gr1);
        subsel_selection_free(gr2);
        subsel_optimizer_free(g1);
        subsel_optimizer_free(g2);
        subsel_objective_free(o1);
        subsel_objective_free(o2);
        free_data(&D);
        subsel_ctx_free(c1);
        subsel_ctx_free(c2);
    }
    if (filter != SUBSEL_CLIPCOV_FILTER_NONE)
        ck_assert_msg(improved > 0, "the filter never helped");
    else
        ck_assert_int_eq(improved, 0);
}
END_TEST

START_TEST(pipeline_rejects_bad_arguments)
{
    subsel_ctx *ctx = new_ctx(1);
    data D;
    subsel_objective *obj, fake;
    ss_objective_ops ops;
    subsel_optimizer *g;
    subsel_selection *s = (subsel_selection *)&s, *gs = (subsel_selection *)&gs;
    make_data(ctx, &D, 40, 20, 4, 2, GAUSSIAN, 1, 0);
    obj = make_objective(ctx, &D, 0);
    ck_assert_ok(ctx, subsel_clipcov_optimizer(ctx, obj, 5, &g));
    ck_assert_status(ctx, subsel_clipcov_select(ctx, obj, g, 3, &s, &gs), SUBSEL_E_INVALID);
    ck_assert_ptr_null(s);
    ck_assert_ptr_null(gs);
    ck_assert_status(ctx, subsel_clipcov_select(ctx, obj, g, -1, &s, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_select(ctx, obj, NULL, 0, &s, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_select(ctx, NULL, g, 0, &s, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_clipcov_select(ctx, obj, g, 0, NULL, NULL), SUBSEL_E_INVALID);
    ops = *obj->ops;
    ops.losses = NULL;
    fake = *obj;
    fake.ops = &ops;
    ck_assert_status(ctx, subsel_clipcov_select(ctx, &fake, g, 1, &s, NULL), SUBSEL_E_UNSUPPORTED);
    ck_assert_ok(ctx, subsel_clipcov_select(ctx, &fake, g, 0, &s, NULL));
    subsel_selection_free(s);
    subsel_optimizer_free(g);
    subsel_objective_free(obj);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

/* Issue 9: without label embeddings, per-class arrays were sized by the
 * largest label + 1 (one label of 3e8 among 30 pairs asked for 38 GB; one
 * of INT64_MAX overflowed). Labels are now dense classes: as many as there
 * are distinct labels, reported back as the user's labels, and the
 * objective is the same as with the labels renumbered 0, 1, ... */
START_TEST(sparse_labels_are_dense_classes)
{
    static const int64_t huge[] = {300000000, INT64_MAX};
    subsel_ctx *ctx = new_ctx(2);
    data D;
    int64_t i, *user, *dense, out[30];
    make_data(ctx, &D, 16, 30, 4, 3, GAUSSIAN, 1, 0);
    user = malloc(sizeof *user * 30);
    dense = malloc(sizeof *dense * 30);
    for (i = 0; i < 30; i++) {
        /* classes 0, 1, 2 become 7, a huge label and 12 */
        user[i] = D.labels[i] == 0 ? 7 : D.labels[i] == 1 ? huge[_i] : 12;
        /* the same classes numbered in ascending order of the labels */
        dense[i] = D.labels[i] == 0 ? 0 : D.labels[i] == 1 ? 2 : 1;
    }
    {
        subsel_objective *a, *b;
        subsel_optimizer *opt;
        subsel_selection *sa, *sb;
        double va, vb;
        ck_assert_ok(ctx, subsel_clipcov_create(ctx, D.image, D.text, NULL, user, 1, &a));
        ck_assert_ok(ctx, subsel_clipcov_create(ctx, D.image, D.text, NULL, dense, 1, &b));
        ck_assert_int_eq(subsel_clipcov_class_count(a), 3);
        ck_assert_ok(ctx, subsel_clipcov_classes(ctx, a, out, 30));
        for (i = 0; i < 30; i++)
            ck_assert_int_eq(out[i], user[i]);
        ck_assert_ok(ctx, subsel_clipcov_optimizer(ctx, a, 12, &opt));
        ck_assert_ok(ctx, subsel_clipcov_select(ctx, a, opt, SUBSEL_CLIPCOV_FILTER_DETERMINISTIC,
                                                &sa, NULL));
        ck_assert_ok(ctx, subsel_clipcov_select(ctx, b, opt, SUBSEL_CLIPCOV_FILTER_DETERMINISTIC,
                                                &sb, NULL));
        ck_assert(same_selection(sa, sb));
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, a, subsel_selection_indices(sa),
                                                    subsel_selection_count(sa), &va));
        ck_assert_ok(ctx, subsel_objective_evaluate(ctx, b, subsel_selection_indices(sa),
                                                    subsel_selection_count(sa), &vb));
        ck_assert_double_eq(va, vb);
        subsel_selection_free(sa);
        subsel_selection_free(sb);
        subsel_optimizer_free(opt);
        subsel_objective_free(a);
        subsel_objective_free(b);
    }
    /* negative labels stay invalid */
    user[3] = -5;
    {
        subsel_objective *bad = (subsel_objective *)ctx;
        ck_assert_status(ctx, subsel_clipcov_create(ctx, D.image, D.text, NULL, user, 1, &bad),
                         SUBSEL_E_INVALID);
        ck_assert_ptr_null(bad);
        ck_assert(strstr(subsel_ctx_last_error(ctx), "pair 3") != NULL);
    }
    free(user);
    free(dense);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

/* ---- progress, cancellation, allocation failures ----------------------- */

static int cancel_at_stage(void *user, const char *stage, int64_t done, int64_t total)
{
    (void)done;
    (void)total;
    return strcmp(stage, (const char *)user) == 0;
}

START_TEST(long_calls_can_be_cancelled)
{
    static const char *stages[] = {"clipcov zero-shot", "clipcov", "clipcov check",
                                   "double greedy"};
    subsel_ctx *ctx = new_ctx(1);
    data D;
    subsel_objective *obj = NULL;
    subsel_selection *sel = NULL;
    int sub = -1;
    make_data(ctx, &D, 41, 300, 4, 3, GAUSSIAN, 0, 0);
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, cancel_at_stage, (void *)stages[_i]));
    if (_i < 2) {
        ck_assert_status(ctx, subsel_clipcov_create(ctx, D.image, D.text, D.emb, NULL, 0, &obj),
                         SUBSEL_E_CANCELLED);
        ck_assert_ptr_null(obj);
    } else {
        ck_assert_ok(ctx, subsel_clipcov_create(ctx, D.image, D.text, D.emb, NULL, 0, &obj));
        if (_i == 2) {
            ck_assert_status(ctx, subsel_clipcov_check_submodular(ctx, obj, 1, &sub),
                             SUBSEL_E_CANCELLED);
            ck_assert_int_eq(sub, -1);
            /* the objective is still usable: nothing was decided */
            ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, NULL, NULL));
            ck_assert_ok(ctx, subsel_clipcov_check_submodular(ctx, obj, 1, &sub));
            ck_assert_int_eq(sub, 0);
        } else {
            ck_assert_status(ctx, subsel_double_greedy(ctx, obj, NULL, 0, 1, &sel),
                             SUBSEL_E_CANCELLED);
            ck_assert_ptr_null(sel);
        }
    }
    subsel_objective_free(obj);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

/* Issue 9: every stage of construction, the exact check and the pipeline
 * runs from 0 to its total, each end once, and can be cancelled at its
 * first report, its second and its last. */
START_TEST(every_stage_reports_from_zero_to_total)
{
    subsel_ctx *ctx = new_ctx(2);
    data D;
    progress_log log;
    int stage, sub = -1;
    int64_t at;
    make_data(ctx, &D, 43, 400, 4, 3, GAUSSIAN, 0, 0);
    memset(&log, 0, sizeof log);
    for (stage = -1; stage < log.stages; stage++) {
        int64_t reports = stage < 0 ? 0 : log.reports[stage];
        for (at = 1; at <= (stage < 0 ? 1 : reports); at = at < 2 || at == reports ? at + 1 : reports) {
            subsel_objective *obj = NULL;
            subsel_optimizer *opt = NULL;
            subsel_selection *sel = NULL;
            int rc;
            progress_log run;
            memset(&run, 0, sizeof run);
            if (stage >= 0) {
                run.cancel_stage = log.name[stage];
                run.cancel_at = at;
            }
            ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, progress_log_fn, &run));
            rc = subsel_clipcov_create(ctx, D.image, D.text, D.emb, NULL, 0, &obj);
            if (rc == SUBSEL_OK)
                rc = subsel_clipcov_check_submodular(ctx, obj, 1, &sub);
            if (rc == SUBSEL_OK)
                rc = subsel_clipcov_optimizer(ctx, obj, 150, &opt);
            if (rc == SUBSEL_OK)
                rc = subsel_clipcov_select(ctx, obj, opt, SUBSEL_CLIPCOV_FILTER_DETERMINISTIC,
                                           &sel, NULL);
            if (stage < 0) {
                ck_assert_ok(ctx, rc);
                progress_log_assert_clean(&run, "clipcov");
                log = run;
            } else {
                ck_assert_msg(rc == SUBSEL_E_CANCELLED, "%s at %lld: %d (%s)", log.name[stage],
                              (long long)at, rc, subsel_ctx_last_error(ctx));
                ck_assert_ptr_null(sel);
                ck_assert_int_eq(progress_log_reports(&run, log.name[stage]), at);
            }
            subsel_selection_free(sel);
            subsel_optimizer_free(opt);
            subsel_objective_free(obj);
        }
    }
    /* the stages of zero-shot construction, the check and the pipeline */
    ck_assert_int_eq(progress_log_reports(&log, "clipcov zero-shot") > 0, 1);
    ck_assert_int_eq(progress_log_reports(&log, "clipcov") > 0, 1);
    ck_assert_int_eq(progress_log_reports(&log, "clipcov check") > 0, 1);
    ck_assert_int_eq(progress_log_reports(&log, "select") > 0, 1);
    ck_assert_int_eq(progress_log_reports(&log, "double greedy") > 0, 1);
    free_data(&D);
    subsel_ctx_free(ctx);
}
END_TEST

/* Every allocation of creation, the check, the pipeline and double greedy
 * fails in turn: each time a clean SUBSEL_E_NOMEM and nothing left over. */
static int clipcov_paths(subsel_ctx *ctx, void *arg, int64_t n)
{
    const data *D = arg;
    subsel_objective *obj = NULL;
    subsel_optimizer *g = NULL;
    subsel_selection *s = NULL, *gs = NULL;
    int rc, sub;
    (void)n;
    /* one thread: allocations in the same order every run */
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 1));
    rc = subsel_clipcov_create(ctx, D->image, D->text, D->emb, D->labels, 1, &obj);
    if (rc == SUBSEL_OK)
        rc = subsel_clipcov_set_weight(ctx, obj, SUBSEL_CLIPCOV_INTRA, 20);
    if (rc == SUBSEL_OK)
        rc = subsel_clipcov_check_submodular(ctx, obj, 1, &sub);
    if (rc == SUBSEL_OK)
        rc = subsel_clipcov_optimizer(ctx, obj, 10, &g);
    if (rc == SUBSEL_OK)
        rc = subsel_clipcov_select(ctx, obj, g, SUBSEL_CLIPCOV_FILTER_RANDOMIZED, &s, &gs);
    if (rc != SUBSEL_OK)
        ck_assert_ptr_null(s);
    subsel_selection_free(s);
    subsel_selection_free(gs);
    subsel_optimizer_free(g);
    subsel_objective_free(obj);
    return rc;
}

START_TEST(allocation_failures_are_clean)
{
    data D;
    subsel_ctx *setup = new_ctx(1);
    make_data(setup, &D, 42, 40, 5, 3, POSITIVE, _i, 0);
    ck_assert_int_gt(alloc_sweep("ClipCov", clipcov_paths, NULL, &D), 17);
    free_data(&D);
    subsel_ctx_free(setup);
}
END_TEST

Suite *clipcov_suite(void)
{
    Suite *s = suite_create("clipcov");
    TCase *tc = tcase_create("kernel");
    tcase_add_loop_test(tc, dot_f32_f64_is_bit_identical_on_every_level, SUBSEL_ISA_SCALAR,
                        SUBSEL_ISA_AVX512 + 1);
    suite_add_tcase(s, tc);

    tc = tcase_create("objective");
    tcase_add_loop_test(tc, value_matches_the_formulas, 0, 8);
    tcase_add_test(tc, each_term_alone_matches_its_formula);
    tcase_add_loop_test(tc, data_alpha_is_the_papers_ratio, 0, 12);
    tcase_add_test(tc, data_alpha_refuses_what_has_no_ratio);
    tcase_add_loop_test(tc, gains_and_losses_are_differences_of_values, 0, 2);
    tcase_add_test(tc, merged_states_equal_the_union);
    tcase_add_loop_test(tc, zero_shot_classes_are_the_cosine_argmax, 0, 2);
    tcase_add_test(tc, bad_arguments_are_rejected);
    tcase_add_test(tc, an_empty_pool_selects_nothing);
    tcase_add_loop_test(tc, sparse_labels_are_dense_classes, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("submodularity");
    tcase_add_loop_test(tc, submodularity_tests_agree_with_all_pairs, GAUSSIAN, CONES + 1);
    tcase_add_test(tc, exact_test_finds_a_planted_negative_pair);
    tcase_add_test(tc, lazy_greedy_only_when_proven_and_then_equal_to_naive);
    suite_add_tcase(s, tc);

    tc = tcase_create("double greedy");
    tcase_add_test(tc, cut_gains_and_losses_match_the_definition);
    tcase_add_test(tc, double_greedy_meets_its_guarantees);
    tcase_add_test(tc, double_greedy_follows_its_definition);
    tcase_add_test(tc, double_greedy_keeps_an_initial_set);
    tcase_add_test(tc, randomised_double_greedy_is_reproducible);
    tcase_add_test(tc, double_greedy_needs_removal_and_valid_ground_sets);
    tcase_add_test(tc, double_greedy_runs_on_feature_based_functions);
    suite_add_tcase(s, tc);

    tc = tcase_create("pipeline");
    tcase_add_test(tc, optimizer_runs_double_greedy);
    tcase_add_loop_test(tc, pipeline_keeps_its_promises, SUBSEL_CLIPCOV_FILTER_NONE,
                        SUBSEL_CLIPCOV_FILTER_RANDOMIZED + 1);
    tcase_add_test(tc, pipeline_rejects_bad_arguments);
    tcase_add_loop_test(tc, long_calls_can_be_cancelled, 0, 4);
    tcase_add_test(tc, every_stage_reports_from_zero_to_total);
    tcase_add_loop_test(tc, allocation_failures_are_clean, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
