/* SPDX-License-Identifier: MIT */
/*
 * TAROT: the random projection against a double-precision brute force and
 * bit for bit across block sizes, thread counts and row batches; whitening
 * against the fixture's U, V and scores (tests/fixtures/tarot), Cholesky
 * against ZCA, zero rows, thread independence, failures and cancellation;
 * neighbour lists against a full sort of the score matrix; OT potentials
 * and loss against the fixture; fixed-size and OTM selections against the
 * fixture and the NumPy port in tests/data/tarot (make_data.py); the
 * integer weights against their rules and the authors' code; argument
 * errors and allocation failures.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ot/ot.h"
#include "tarot/tarot.h"
#include "tests/helpers.h"
#include "tests/suites.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static subsel_ctx *new_ctx(int threads)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, threads));
    return ctx;
}

static subsel_dense *load(subsel_ctx *ctx, const char *name)
{
    char rel[128];
    subsel_dense *d = NULL;
    snprintf(rel, sizeof rel, "tarot/%s", name);
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, fixture_path(rel), &d));
    return d;
}

/* A 2-D fixture as doubles (stored float64, read as float: the rounding,
 * 3e-8 on unit rows, is far below the tolerances used with it). */
static double *load_f64(subsel_ctx *ctx, const char *name)
{
    subsel_dense *d = load(ctx, name);
    int64_t n = subsel_dense_rows(d) * subsel_dense_cols(d), i;
    double *out = malloc(sizeof *out * (size_t)(n + 1));
    for (i = 0; i < n; i++)
        out[i] = subsel_dense_data(d)[i];
    subsel_dense_free(d);
    return out;
}

/* Normal rows (shifted, with a few dominant columns, so whitening
 * matters); `dups` copies row 0 into rows 1..dups. */
static subsel_dense *random_rows(subsel_ctx *ctx, int64_t rows, int64_t cols,
                                 uint64_t seed, int64_t dups)
{
    float *x = malloc(sizeof *x * (size_t)(rows * cols + 1));
    subsel_dense *d = NULL;
    ss_rng rng;
    int64_t i, c;
    ck_assert_ptr_nonnull(x);
    ss_rng_seed(&rng, seed, 1);
    for (i = 0; i < rows; i++)
        for (c = 0; c < cols; c++)
            x[i * cols + c] = (float)(ss_rng_normal(&rng) * (c % 5 == 0 ? 30.0 : 1.0) + 0.5 * c);
    for (i = 1; i <= dups && i < rows; i++)
        memcpy(x + i * cols, x, sizeof *x * (size_t)cols);
    ck_assert_ok(ctx, subsel_dense_create(ctx, rows, cols, x, SUBSEL_COPY, &d));
    free(x);
    return d;
}

/* A selector over the fixture's whitened rows used as they are. */
static subsel_tarot *fixture_uv_tarot(subsel_ctx *ctx, subsel_dense **u,
                                      subsel_dense **v)
{
    subsel_tarot *t = NULL;
    *u = load(ctx, "U.npy");
    *v = load(ctx, "V.npy");
    ck_assert_ok(ctx, subsel_tarot_create(ctx, *u, *v, &t));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_WHITEN, SUBSEL_WHITEN_NONE));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_CENTER, 0));
    return t;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void assert_same_set(const int64_t *got, int64_t ngot,
                            const int64_t *want, int64_t nwant)
{
    int64_t *a = malloc(sizeof *a * (size_t)(ngot + 1));
    int64_t *b = malloc(sizeof *b * (size_t)(nwant + 1));
    int64_t i;
    ck_assert_int_eq(ngot, nwant);
    memcpy(a, got, sizeof *a * (size_t)ngot);
    memcpy(b, want, sizeof *b * (size_t)nwant);
    qsort(a, (size_t)ngot, sizeof *a, cmp_i64);
    qsort(b, (size_t)nwant, sizeof *b, cmp_i64);
    for (i = 0; i < ngot; i++)
        ck_assert_msg(a[i] == b[i], "sets differ at sorted position %lld: %lld vs %lld",
                      (long long)i, (long long)a[i], (long long)b[i]);
    free(a);
    free(b);
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */

START_TEST(create_validates)
{
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *a = random_rows(ctx, 10, 4, 1, 0);
    subsel_dense *b = random_rows(ctx, 5, 3, 2, 0);
    subsel_dense *e = NULL;
    subsel_tarot *t = (subsel_tarot *)1;
    ck_assert_ok(ctx, subsel_dense_create(ctx, 0, 4, NULL, SUBSEL_COPY, &e));
    ck_assert_status(ctx, subsel_tarot_create(ctx, a, b, &t), SUBSEL_E_INVALID);
    ck_assert_ptr_null(t);
    ck_assert_status(ctx, subsel_tarot_create(ctx, a, e, &t), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_create(ctx, e, a, &t), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_create(ctx, NULL, a, &t), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_create(ctx, a, a, NULL), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_create(NULL, a, a, &t), SUBSEL_E_INVALID);
    ck_assert_ok(ctx, subsel_tarot_create(ctx, a, a, &t));
    subsel_tarot_free(t);
    subsel_tarot_free(NULL);
    subsel_dense_free(a);
    subsel_dense_free(b);
    subsel_dense_free(e);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(options_bounds_and_state)
{
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *a = random_rows(ctx, 20, 6, 3, 0);
    subsel_tarot *t = NULL;
    double lo, hi, def, x;
    int64_t v;
    ck_assert_ok(ctx, subsel_tarot_create(ctx, a, a, &t));
    /* defaults as documented */
    ck_assert_int_eq(subsel_tarot_get_int(t, SUBSEL_TAROT_WHITEN, &v), SUBSEL_OK);
    ck_assert_int_eq(v, SUBSEL_WHITEN_CHOLESKY);
    ck_assert_int_eq(subsel_tarot_get_int(t, SUBSEL_TAROT_CENTER, &v), SUBSEL_OK);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(subsel_tarot_get_int(t, SUBSEL_TAROT_MAX_RANK, &v), SUBSEL_OK);
    ck_assert_int_eq(v, 2000);
    ck_assert_int_eq(subsel_tarot_get_double(t, SUBSEL_TAROT_EPS, &x), SUBSEL_OK);
    ck_assert(x == 1e-5);
    ck_assert_int_eq(subsel_tarot_get_double(t, SUBSEL_TAROT_BLUR, &x), SUBSEL_OK);
    ck_assert(x == 0.01);
    ck_assert_int_eq(subsel_tarot_get_double(t, SUBSEL_TAROT_SCALING, &x), SUBSEL_OK);
    ck_assert(x == 0.5);
    ck_assert_int_eq(subsel_tarot_param_bounds(SUBSEL_TAROT_SCALING, &lo, &hi, &def), SUBSEL_OK);
    ck_assert(lo == 0.01 && hi == 0.99 && def == 0.5);
    ck_assert_int_eq(subsel_tarot_param_bounds(99, &lo, NULL, NULL), SUBSEL_E_INVALID);
    /* wrong type, unknown, out of bounds, NaN: rejected, unchanged */
    ck_assert_int_eq(subsel_tarot_set_double(t, SUBSEL_TAROT_WHITEN, 1.0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_set_int(t, SUBSEL_TAROT_EPS, 1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_set_int(t, 42, 1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_set_int(t, SUBSEL_TAROT_WHITEN, 3), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_set_int(t, SUBSEL_TAROT_MAX_RANK, 0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_set_double(t, SUBSEL_TAROT_SCALING, 1.0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_set_double(t, SUBSEL_TAROT_EPS, NAN), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_set_double(t, SUBSEL_TAROT_EPS, -1.0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_set_int(NULL, SUBSEL_TAROT_CENTER, 0), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_get_int(t, SUBSEL_TAROT_EPS, &v), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_tarot_get_double(t, SUBSEL_TAROT_EPS, &x), SUBSEL_OK);
    ck_assert(x == 1e-5);
    ck_assert_int_eq(subsel_tarot_set_int(t, SUBSEL_TAROT_PROJ_DIM, 4), SUBSEL_OK);
    /* after whitening: whitening options frozen, selection options not */
    ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t, NULL, NULL));
    ck_assert_int_eq(subsel_tarot_set_int(t, SUBSEL_TAROT_PROJ_DIM, 5), SUBSEL_E_STATE);
    ck_assert_int_eq(subsel_tarot_set_int(t, SUBSEL_TAROT_WHITEN, 2), SUBSEL_E_STATE);
    ck_assert_int_eq(subsel_tarot_set_double(t, SUBSEL_TAROT_EPS, 1.0), SUBSEL_E_STATE);
    ck_assert_int_eq(subsel_tarot_set_int(t, SUBSEL_TAROT_REFERENCE, 1), SUBSEL_OK);
    ck_assert_int_eq(subsel_tarot_set_double(t, SUBSEL_TAROT_BLUR, 0.05), SUBSEL_OK);
    subsel_tarot_free(t);
    subsel_dense_free(a);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Random projection                                                        */
/* ------------------------------------------------------------------------ */

/* y = x P / sqrt(dim) in double, P regenerated here from the documented
 * streams; the tolerance bounds float accumulation. */
static void brute_projection(subsel_ctx *ctx, const subsel_dense *x,
                             int64_t dim, int kind, const subsel_dense *y)
{
    int64_t rows = subsel_dense_rows(x), cols = subsel_dense_cols(x), i, j, c;
    double *p = malloc(sizeof *p * (size_t)(cols * dim));
    int64_t seed;
    ck_assert_ok(ctx, subsel_ctx_get_int(ctx, SUBSEL_CTX_SEED, &seed));
    for (j = 0; j < cols; j++) {
        ss_rng rng;
        ss_rng_seed(&rng, (uint64_t)seed, SS_TAROT_STREAM_PROJ + (uint64_t)j);
        for (c = 0; c < dim; c++) {
            if (kind == SUBSEL_PROJ_GAUSSIAN) {
                p[j * dim + c] = (double)(float)ss_rng_normal(&rng);
            } else {
                static uint64_t bits;
                if (c % 64 == 0)
                    bits = ss_rng_next(&rng);
                p[j * dim + c] = (bits >> (c % 64)) & 1 ? 1.0 : -1.0;
            }
        }
    }
    for (i = 0; i < rows; i++) {
        const float *xr = subsel_dense_row(x, i);
        const float *yr = subsel_dense_row(y, i);
        for (c = 0; c < dim; c++) {
            double s = 0, mag = 0;
            for (j = 0; j < cols; j++) {
                s += (double)xr[j] * p[j * dim + c];
                mag += fabs((double)xr[j] * p[j * dim + c]);
            }
            s /= sqrt((double)dim);
            mag /= sqrt((double)dim);
            ck_assert_msg(fabs((double)yr[c] - s) <= 1e-5 * mag + 1e-6,
                          "row %lld col %lld: %g vs %g", (long long)i,
                          (long long)c, (double)yr[c], s);
        }
    }
    free(p);
}

START_TEST(projection_matches_brute_force)
{
    int kind = _i;
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *x = random_rows(ctx, 40, 300, 7, 0), *y = NULL;
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, 11));
    ck_assert_ok(ctx, subsel_tarot_project(ctx, x, 70, kind, 0, &y));
    ck_assert_int_eq(subsel_dense_rows(y), 40);
    ck_assert_int_eq(subsel_dense_cols(y), 70);
    brute_projection(ctx, x, 70, kind, y);
    subsel_dense_free(y);
    subsel_dense_free(x);
    subsel_ctx_free(ctx);
}
END_TEST

/* The same bits whatever the block size, thread count or row batch. */
START_TEST(projection_is_block_thread_and_batch_independent)
{
    int kind = _i;
    subsel_ctx *c1 = new_ctx(1), *c2 = new_ctx(2);
    subsel_dense *x = random_rows(c1, 300, 300, 9, 0), *ref = NULL;
    const int64_t blocks[] = {1, 300, 100000};
    const int64_t cuts[] = {0, 1, 263, 300};
    size_t b;
    ck_assert_ok(c1, subsel_tarot_project(c1, x, 33, kind, 0, &ref));
    for (b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        subsel_dense *y = NULL;
        subsel_ctx *ctx = b == 1 ? c2 : c1;
        ck_assert_ok(ctx, subsel_tarot_project(ctx, x, 33, kind, blocks[b], &y));
        ck_assert_msg(memcmp(subsel_dense_data(y), subsel_dense_data(ref), sizeof(float) * 300 * 33) == 0,
                      "block %lld differs", (long long)blocks[b]);
        subsel_dense_free(y);
    }
    for (b = 0; b + 1 < sizeof cuts / sizeof cuts[0]; b++) {
        int64_t r0 = cuts[b], nr = cuts[b + 1] - cuts[b];
        subsel_dense *part = NULL, *y = NULL;
        subsel_ctx *ctx = b == 1 ? c2 : c1;
        ck_assert_ok(ctx, subsel_dense_create(ctx, nr, 300, subsel_dense_row(x, r0), SUBSEL_BORROW, &part));
        ck_assert_ok(ctx, subsel_tarot_project(ctx, part, 33, kind, 256, &y));
        ck_assert(memcmp(subsel_dense_data(y), subsel_dense_row(ref, r0), sizeof(float) * (size_t)(nr * 33)) == 0);
        subsel_dense_free(y);
        subsel_dense_free(part);
    }
    subsel_dense_free(ref);
    subsel_dense_free(x);
    subsel_ctx_free(c1);
    subsel_ctx_free(c2);
}
END_TEST

START_TEST(projection_seed_kind_and_errors)
{
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *x = random_rows(ctx, 40, 50, 5, 0), *a = NULL, *b = NULL, *c = NULL;
    subsel_dense *e = NULL, *ye = NULL;
    double na = 0, nx = 0;
    int64_t i;
    ck_assert_ok(ctx, subsel_tarot_project(ctx, x, 64, SUBSEL_PROJ_RADEMACHER, 0, &a));
    ck_assert_ok(ctx, subsel_tarot_project(ctx, x, 64, SUBSEL_PROJ_GAUSSIAN, 0, &b));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, 5));
    ck_assert_ok(ctx, subsel_tarot_project(ctx, x, 64, SUBSEL_PROJ_RADEMACHER, 0, &c));
    ck_assert(memcmp(subsel_dense_data(a), subsel_dense_data(b), sizeof(float) * 40 * 64) != 0);
    ck_assert(memcmp(subsel_dense_data(a), subsel_dense_data(c), sizeof(float) * 40 * 64) != 0);
    /* Johnson-Lindenstrauss scaling: squared norms kept on average */
    for (i = 0; i < 40 * 64; i++)
        na += (double)subsel_dense_data(a)[i] * subsel_dense_data(a)[i];
    for (i = 0; i < 40 * 50; i++)
        nx += (double)subsel_dense_data(x)[i] * subsel_dense_data(x)[i];
    ck_assert_msg(fabs(na / nx - 1.0) < 0.25, "norm ratio %g", na / nx);
    ck_assert_status(ctx, subsel_tarot_project(ctx, x, 0, 0, 0, &e), SUBSEL_E_INVALID);
    ck_assert_ptr_null(e);
    ck_assert_status(ctx, subsel_tarot_project(ctx, x, 8, 2, 0, &e), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_project(ctx, x, 8, 0, -1, &e), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_project(ctx, NULL, 8, 0, 0, &e), SUBSEL_E_INVALID);
    /* no rows: an empty result */
    ck_assert_ok(ctx, subsel_dense_create(ctx, 0, 50, NULL, SUBSEL_COPY, &e));
    ck_assert_ok(ctx, subsel_tarot_project(ctx, e, 8, 0, 0, &ye));
    ck_assert_int_eq(subsel_dense_rows(ye), 0);
    ck_assert_int_eq(subsel_dense_cols(ye), 8);
    subsel_dense_free(ye);
    subsel_dense_free(e);
    subsel_dense_free(a);
    subsel_dense_free(b);
    subsel_dense_free(c);
    subsel_dense_free(x);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Whitening                                                                */
/* ------------------------------------------------------------------------ */

static void assert_close(const float *got, const double *want, int64_t n,
                         double tol, const char *what)
{
    int64_t i;
    double worst = 0;
    for (i = 0; i < n; i++)
        if (fabs((double)got[i] - want[i]) > worst)
            worst = fabs((double)got[i] - want[i]);
    ck_assert_msg(worst <= tol, "%s: max error %g > %g", what, worst, tol);
}

START_TEST(whitening_reproduces_fixture)
{
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *c = load(ctx, "candidates.npy"), *t_ = load(ctx, "targets.npy");
    subsel_dense *u = NULL, *v = NULL;
    subsel_tarot *t = NULL;
    int64_t i;
    double *U = load_f64(ctx, "U.npy"), *V = load_f64(ctx, "V.npy");
    double *S = load_f64(ctx, "score.npy");
    float *scores = malloc(sizeof *scores * 200 * 50), *dist = malloc(sizeof *dist * 200 * 50);
    ck_assert_ok(ctx, subsel_tarot_create(ctx, c, t_, &t));
    ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t, &u, &v));
    ck_assert_int_eq(subsel_dense_rows(u), 200);
    ck_assert_int_eq(subsel_dense_cols(u), 16);
    ck_assert_int_eq(subsel_dense_rows(v), 50);
    assert_close(subsel_dense_data(u), U, 200 * 16, 1e-5, "U");
    assert_close(subsel_dense_data(v), V, 50 * 16, 1e-5, "V");
    ck_assert_ok(ctx, subsel_tarot_scores(ctx, t, 0, 200, 0, 50, scores, dist));
    assert_close(scores, S, 200 * 50, 1e-5, "score");
    for (i = 0; i < 200 * 50; i++)
        ck_assert(fabs(dist[i] - sqrt(fmax(0.0, 2.0 - 2.0 * S[i]))) < 1e-4);
    /* a block of the score matrix is the same block of the whole */
    {
        float blk[7 * 3];
        int64_t a, b;
        ck_assert_ok(ctx, subsel_tarot_scores(ctx, t, 190, 7, 46, 3, blk, NULL));
        for (a = 0; a < 7; a++)
            for (b = 0; b < 3; b++)
                ck_assert(blk[a * 3 + b] == scores[(190 + a) * 50 + 46 + b]);
    }
    ck_assert_status(ctx, subsel_tarot_scores(ctx, t, 195, 6, 0, 1, scores, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_scores(ctx, t, 0, 1, 0, 1, NULL, NULL), SUBSEL_E_INVALID);
    free(scores);
    free(dist);
    free(U);
    free(V);
    free(S);
    subsel_dense_free(u);
    subsel_dense_free(v);
    subsel_tarot_free(t);
    subsel_dense_free(c);
    subsel_dense_free(t_);
    subsel_ctx_free(ctx);
}
END_TEST

static float *whitened_scores(subsel_ctx *ctx, const subsel_dense *c,
                              const subsel_dense *tg, int method, int64_t proj)
{
    subsel_tarot *t = NULL;
    int64_t n = subsel_dense_rows(c), m = subsel_dense_rows(tg);
    float *s = malloc(sizeof *s * (size_t)(n * m));
    ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_WHITEN, method));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_PROJ_DIM, proj));
    ck_assert_ok(ctx, subsel_tarot_scores(ctx, t, 0, n, 0, m, s, NULL));
    subsel_tarot_free(t);
    return s;
}

/* Cholesky and ZCA differ by a rotation: the same inner products. */
START_TEST(cholesky_and_zca_agree)
{
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *c = _i ? random_rows(ctx, 300, 40, 21, 0) : load(ctx, "candidates.npy");
    subsel_dense *tg = _i ? random_rows(ctx, 60, 40, 22, 0) : load(ctx, "targets.npy");
    int64_t proj = _i == 2 ? 24 : 0;
    int64_t n = subsel_dense_rows(c) * subsel_dense_rows(tg), i;
    float *a = whitened_scores(ctx, c, tg, SUBSEL_WHITEN_CHOLESKY, proj);
    float *b = whitened_scores(ctx, c, tg, SUBSEL_WHITEN_ZCA, proj);
    float *none = whitened_scores(ctx, c, tg, SUBSEL_WHITEN_NONE, proj);
    double worst = 0, differs = 0;
    for (i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)a[i] - b[i]));
        differs = fmax(differs, fabs((double)a[i] - none[i]));
    }
    ck_assert_msg(worst < 2e-5, "cholesky vs zca: %g", worst);
    ck_assert_msg(differs > 1e-2, "whitening changed nothing (%g)", differs);
    free(a);
    free(b);
    free(none);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(ctx);
}
END_TEST

/* Without whitening: centred (or not) rows scaled to unit length, zero rows
 * kept at zero and at distance |v| from every target. */
START_TEST(no_whitening_normalises_and_guards_zero_rows)
{
    subsel_ctx *ctx = new_ctx(1);
    float xc[3 * 2] = {3, 4, 0, 0, 1e-30f, 0}, xt[2 * 2] = {0, 2, -1, 0};
    subsel_dense *c = NULL, *tg = NULL, *u = NULL, *v = NULL;
    subsel_tarot *t = NULL;
    float s[6], d[6];
    const float *ud;
    ck_assert_ok(ctx, subsel_dense_create(ctx, 3, 2, xc, SUBSEL_COPY, &c));
    ck_assert_ok(ctx, subsel_dense_create(ctx, 2, 2, xt, SUBSEL_COPY, &tg));
    ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_WHITEN, SUBSEL_WHITEN_NONE));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_CENTER, 0));
    ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t, &u, &v));
    ud = subsel_dense_data(u);
    ck_assert(fabs(ud[0] - 0.6f) < 1e-7 && fabs(ud[1] - 0.8f) < 1e-7);
    ck_assert(ud[2] == 0.0f && ud[3] == 0.0f);
    ck_assert(ud[4] == 1.0f && ud[5] == 0.0f); /* tiny but not zero: a direction */
    ck_assert_ok(ctx, subsel_tarot_scores(ctx, t, 0, 3, 0, 2, s, d));
    ck_assert(fabs(s[0] - 0.8f) < 1e-7 && fabs(s[1] + 0.6f) < 1e-7);
    ck_assert(s[2] == 0.0f && s[3] == 0.0f && d[2] == 1.0f && d[3] == 1.0f);
    ck_assert(fabs(d[5] - 2.0f) < 1e-6);
    subsel_dense_free(u);
    subsel_dense_free(v);
    subsel_tarot_free(t);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(whitening_is_thread_independent)
{
    subsel_ctx *c1 = new_ctx(1), *c2 = new_ctx(2);
    subsel_dense *c = random_rows(c1, 500, 40, 31, 0), *tg = random_rows(c1, 100, 40, 32, 0);
    subsel_dense *u1, *v1, *u2, *v2;
    subsel_tarot *t1 = NULL, *t2 = NULL;
    ck_assert_ok(c1, subsel_tarot_create(c1, c, tg, &t1));
    ck_assert_ok(c2, subsel_tarot_create(c2, c, tg, &t2));
    ck_assert_ok(c1, subsel_tarot_set_int(t1, SUBSEL_TAROT_WHITEN, _i ? SUBSEL_WHITEN_ZCA : SUBSEL_WHITEN_CHOLESKY));
    ck_assert_ok(c2, subsel_tarot_set_int(t2, SUBSEL_TAROT_WHITEN, _i ? SUBSEL_WHITEN_ZCA : SUBSEL_WHITEN_CHOLESKY));
    ck_assert_ok(c1, subsel_tarot_whiten(c1, t1, &u1, &v1));
    ck_assert_ok(c2, subsel_tarot_whiten(c2, t2, &u2, &v2));
    ck_assert(memcmp(subsel_dense_data(u1), subsel_dense_data(u2), sizeof(float) * 500 * 40) == 0);
    ck_assert(memcmp(subsel_dense_data(v1), subsel_dense_data(v2), sizeof(float) * 100 * 40) == 0);
    subsel_dense_free(u1);
    subsel_dense_free(v1);
    subsel_dense_free(u2);
    subsel_dense_free(v2);
    subsel_tarot_free(t1);
    subsel_tarot_free(t2);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(c1);
    subsel_ctx_free(c2);
}
END_TEST

static int cancel_at_whiten(void *user, const char *stage, int64_t done, int64_t total)
{
    (void)done;
    (void)total;
    ++*(int *)user;
    return strcmp(stage, "whiten") == 0;
}

/* Issue 9: --proj-dim 1048576 (the documented maximum) projected for 30 s
 * and 2.5 GB before its 8 TB covariance failed. A whitening that cannot fit
 * in memory fails before any work (no progress stage starts) with a
 * message saying what it needs, and the selector can then be set smaller. */
START_TEST(whitening_that_cannot_fit_fails_before_any_work)
{
    subsel_ctx *ctx = new_ctx(2);
    subsel_dense *c = random_rows(ctx, 20, 8, 81, 0), *tg = random_rows(ctx, 5, 8, 82, 0);
    subsel_tarot *t = NULL;
    subsel_selection *sel = (subsel_selection *)ctx;
    progress_log log;
    memset(&log, 0, sizeof log);
    log.ignore = "ot"; /* the OT engine's stage */
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, progress_log_fn, &log));
    ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_PROJ_DIM, 1048576));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_WHITEN, _i ? SUBSEL_WHITEN_ZCA
                                                                   : SUBSEL_WHITEN_CHOLESKY));
    ck_assert_status(ctx, subsel_tarot_whiten(ctx, t, NULL, NULL), SUBSEL_E_NOMEM);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "1048576 x 1048576 covariance") != NULL);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "lower the projection dimension") != NULL);
    ck_assert_status(ctx, subsel_tarot_select_fixed(ctx, t, 3, &sel), SUBSEL_E_NOMEM);
    ck_assert_ptr_null(sel);
    ck_assert_int_eq(log.stages, 0);
    /* nothing was frozen: a smaller projection works */
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_PROJ_DIM, 6));
    ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t, 3, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), 3);
    progress_log_assert_clean(&log, "smaller projection");
    subsel_selection_free(sel);
    subsel_tarot_free(t);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(ctx);
}
END_TEST

/* A singular covariance fails cleanly; cancelling leaves the selector as it
 * was; both can be retried. */
START_TEST(whitening_failures_are_recoverable)
{
    subsel_ctx *ctx = new_ctx(1);
    float x[8 * 3];
    subsel_dense *c = NULL;
    subsel_tarot *t = NULL;
    int calls = 0, i;
    for (i = 0; i < 8; i++) {
        x[i * 3] = (float)i;
        x[i * 3 + 1] = (float)(2 * i); /* dependent column */
        x[i * 3 + 2] = (float)(i * i % 5);
    }
    ck_assert_ok(ctx, subsel_dense_create(ctx, 8, 3, x, SUBSEL_COPY, &c));
    for (i = 0; i < 2; i++) {
        ck_assert_ok(ctx, subsel_tarot_create(ctx, c, c, &t));
        ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_WHITEN, i ? SUBSEL_WHITEN_ZCA : SUBSEL_WHITEN_CHOLESKY));
        ck_assert_ok(ctx, subsel_tarot_set_double(t, SUBSEL_TAROT_EPS, 0.0));
        ck_assert_status(ctx, subsel_tarot_whiten(ctx, t, NULL, NULL), SUBSEL_E_NUMERIC);
        ck_assert(strstr(subsel_ctx_last_error(ctx), "positive definite") != NULL);
        ck_assert_ok(ctx, subsel_tarot_set_double(t, SUBSEL_TAROT_EPS, 1e-3));
        ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, cancel_at_whiten, &calls));
        ck_assert_status(ctx, subsel_tarot_whiten(ctx, t, NULL, NULL), SUBSEL_E_CANCELLED);
        ck_assert_ok(ctx, subsel_tarot_set_double(t, SUBSEL_TAROT_EPS, 1e-2)); /* not frozen */
        ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, NULL, NULL));
        ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t, NULL, NULL));
        subsel_tarot_free(t);
    }
    ck_assert_int_gt(calls, 0);
    subsel_dense_free(c);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Neighbour lists                                                          */
/* ------------------------------------------------------------------------ */

typedef struct ranked {
    float s;
    int64_t i;
} ranked;

static int by_rank(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->s != b->s)
        return a->s > b->s ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Every target's list (ki, ks: m lists of k) is the first k of a full sort
 * of its column of the n x m score matrix s; col is n entries of scratch. */
static void assert_lists_are_the_full_sort(const float *s, int64_t n, int64_t m, int64_t k,
                                           const int64_t *ki, const float *ks, ranked *col)
{
    int64_t i, j, r;
    for (j = 0; j < m; j++) {
        for (i = 0; i < n; i++) {
            col[i].s = s[i * m + j];
            col[i].i = i;
        }
        qsort(col, (size_t)n, sizeof *col, by_rank);
        for (r = 0; r < k; r++) {
            ck_assert_msg(ki[j * k + r] == col[r].i, "target %lld rank %lld: %lld vs %lld",
                          (long long)j, (long long)r, (long long)ki[j * k + r], (long long)col[r].i);
            ck_assert(ks[j * k + r] == col[r].s);
        }
    }
}

/* Against a full sort of every column of the score matrix, with enough
 * candidates and targets to cross block and tile edges, and duplicate rows
 * for exact ties. */
/* Loops 0, 1: one chunk of candidates, shallow and deep lists; 2, 3: 20,000
 * candidates, whitened in two chunks (the heaps carry over), on one
 * thread and on two (the one target tile's candidates then split in parts,
 * each part's lists merged). */
START_TEST(topk_matches_full_sort)
{
    const int64_t n = _i < 2 ? 2100 : 20000, m = _i < 2 ? 260 : 40, d = _i < 2 ? 12 : 5;
    const int64_t k = _i == 1 ? 300 : _i == 0 ? 37 : 25;
    subsel_ctx *ctx = new_ctx(_i == 3 ? 2 : 1);
    subsel_dense *c = random_rows(ctx, n, d, 41, 5), *tg = random_rows(ctx, m, d, 42, 0);
    subsel_tarot *t = NULL;
    float *s = malloc(sizeof *s * (size_t)(n * m)), *ks = malloc(sizeof *ks * (size_t)(m * k));
    int64_t *ki = malloc(sizeof *ki * (size_t)(m * k)), j, r;
    ranked *col = malloc(sizeof *col * (size_t)n);
    ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t));
    ck_assert_ok(ctx, subsel_tarot_scores(ctx, t, 0, n, 0, m, s, NULL));
    ck_assert_ok(ctx, subsel_tarot_topk(ctx, t, k, ki, ks));
    assert_lists_are_the_full_sort(s, n, m, k, ki, ks, col);
    /* the duplicates of candidate 0 tie: they come in index order */
    for (j = 0; j < m; j++)
        for (r = 0; r + 1 < k; r++)
            if (ks[j * k + r] == ks[j * k + r + 1])
                ck_assert(ki[j * k + r] < ki[j * k + r + 1]);
    ck_assert_status(ctx, subsel_tarot_topk(ctx, t, 0, ki, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_topk(ctx, t, n + 1, ki, NULL), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_topk(ctx, t, 3, NULL, NULL), SUBSEL_E_INVALID);
    free(col);
    free(s);
    free(ks);
    free(ki);
    subsel_tarot_free(t);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(ctx);
}
END_TEST

/* Issue 15: the neighbour lists come from exact scores whichever screen
 * picks the candidates to score (bfloat16 on AVX-512 CPUs with BF16,
 * single precision elsewhere): on near-duplicate candidates that neither
 * screen can tell apart (1e-4 apart, bfloat16 resolves 4e-3), every level
 * gives the same lists and scores, bit for bit, equal to a full sort of
 * subsel_tarot_scores_v2, whose scores are the (normalised) rows' dot
 * products rounded once to float (against long double). Loops: k 30 (floors
 * from the first block's bounds) and k 2100 (more than a block: every
 * candidate scored until the heaps fill). */
START_TEST(topk_screens_agree_on_near_ties)
{
    const int64_t n = 5000, m = 70, d = 24, k = _i == 0 ? 30 : 2100;
    float *x = malloc(sizeof *x * (size_t)(n * d)), *y = malloc(sizeof *y * (size_t)(m * d));
    float *s = malloc(sizeof *s * (size_t)(n * m)), *ks[3] = {NULL, NULL, NULL};
    int64_t *ki[3] = {NULL, NULL, NULL}, i, j, r, l;
    ranked *col = malloc(sizeof *col * (size_t)n);
    subsel_ctx *ctx = new_ctx(2);
    subsel_dense *c = NULL, *tg = NULL, *u = NULL, *v = NULL;
    subsel_tarot *t = NULL;
    ss_rng rng;
    int isa, first = -1;
    ss_rng_seed(&rng, 123, 1);
    for (j = 0; j < d; j++) /* row 0: the base; rows 1 .. n/2 copies of it, jittered */
        x[j] = (float)ss_rng_normal(&rng);
    for (i = 1; i < n; i++)
        for (j = 0; j < d; j++)
            x[i * d + j] = i <= n / 2 ? x[j] + (float)(1e-4 * ss_rng_normal(&rng))
                                      : (float)ss_rng_normal(&rng);
    for (i = 0; i < m * d; i++) /* targets near the base too */
        y[i] = x[i % d] + (float)(0.3 * ss_rng_normal(&rng));
    ck_assert_ok(ctx, subsel_dense_create(ctx, n, d, x, SUBSEL_BORROW, &c));
    ck_assert_ok(ctx, subsel_dense_create(ctx, m, d, y, SUBSEL_BORROW, &tg));
    for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++) {
        if (!subsel_isa_supported(isa))
            continue;
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_MAX_ISA, isa));
        ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t));
        /* cosines of the rows as they are: the near-duplicates stay near */
        ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_WHITEN, SUBSEL_WHITEN_NONE));
        ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_CENTER, 0));
        ks[isa] = malloc(sizeof *ks[isa] * (size_t)(m * k));
        ki[isa] = malloc(sizeof *ki[isa] * (size_t)(m * k));
        ck_assert_ok(ctx, subsel_tarot_topk_v2(ctx, t, k, ki[isa], m * k, ks[isa], m * k));
        if (first < 0) {
            first = isa;
            ck_assert_ok(ctx, subsel_tarot_scores_v2(ctx, t, 0, n, 0, m, s, n * m, NULL, 0));
            ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t, &u, &v));
        }
        subsel_tarot_free(t);
        ck_assert(memcmp(ki[isa], ki[first], sizeof *ki[isa] * (size_t)(m * k)) == 0);
        ck_assert(memcmp(ks[isa], ks[first], sizeof *ks[isa] * (size_t)(m * k)) == 0);
    }
    /* the scores are the same in both loops: checked in the first (long
     * double is slow under valgrind) */
    for (i = 0; i < (_i == 0 ? n : 0); i++)
        for (j = 0; j < m; j++) {
            const float *a = subsel_dense_data(u) + i * d, *b = subsel_dense_data(v) + j * d;
            long double dot = 0.0L, mag = 0.0L;
            for (l = 0; l < d; l++) {
                dot += (long double)a[l] * b[l];
                mag += fabsl((long double)a[l] * b[l]);
            }
            /* one rounding to float, plus the double sum's (d 2^-53 of mag) */
            ck_assert(fabsl(s[i * m + j] - dot) <= 0x1p-24L * fabsl(dot) + d * 0x1p-52L * mag);
        }
    assert_lists_are_the_full_sort(s, n, m, k, ki[first], ks[first], col);
    for (j = 0; j < m; j++) {
        int64_t near = 0;
        for (r = 0; r < k; r++)
            near += ki[first][j * k + r] <= n / 2;
        ck_assert_int_ge(near, (k < n / 2 ? k : n / 2)); /* the near-duplicates lead */
    }
    for (isa = 0; isa < 3; isa++) {
        free(ks[isa]);
        free(ki[isa]);
    }
    subsel_dense_free(u);
    subsel_dense_free(v);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(ctx);
    free(x);
    free(y);
    free(s);
    free(col);
}
END_TEST

/* Neighbour lists are the same for any thread count, depth or subset of
 * targets (what lets selections reuse or deepen them). */
START_TEST(topk_is_thread_depth_and_subset_independent)
{
    const int64_t n = 2300, m = 300, d = 9;
    subsel_ctx *c1 = new_ctx(1), *c2 = new_ctx(2);
    subsel_dense *c = random_rows(c1, n, d, 51, 0), *tg = random_rows(c1, m, d, 52, 0);
    subsel_tarot *t1 = NULL, *t2 = NULL;
    int64_t *a = malloc(sizeof *a * (size_t)(m * 40)), *b = malloc(sizeof *b * (size_t)(m * 40));
    int64_t list[3] = {299, 3, 260}, sub[3 * 40], p;
    float sa[3 * 40];
    ck_assert_ok(c1, subsel_tarot_create(c1, c, tg, &t1));
    ck_assert_ok(c2, subsel_tarot_create(c2, c, tg, &t2));
    ck_assert_ok(c1, subsel_tarot_topk(c1, t1, 40, a, NULL));
    ck_assert_ok(c2, subsel_tarot_topk(c2, t2, 10, b, NULL));
    for (p = 0; p < m; p++)
        ck_assert(memcmp(a + p * 40, b + p * 10, 10 * sizeof *a) == 0);
    ck_assert_ok(c2, subsel_tarot_topk(c2, t2, 40, b, NULL));
    ck_assert(memcmp(a, b, sizeof *a * (size_t)(m * 40)) == 0);
    ck_assert_ok(c2, ss_tarot_topk_targets(c2, t2, list, 3, 40, sub, sa, NULL));
    for (p = 0; p < 3; p++)
        ck_assert(memcmp(sub + p * 40, a + list[p] * 40, 40 * sizeof *a) == 0);
    /* fewer tiles than threads: candidates split in parts, lists merged,
     * some parts shorter than k */
    {
        subsel_ctx *c3 = new_ctx(2);
        int64_t *deep = malloc(sizeof *deep * 3 * 2100), *dsub = malloc(sizeof *dsub * 3 * 2100);
        float *dss = malloc(sizeof *dss * 3 * 2100), *ds = malloc(sizeof *ds * 3 * 2100);
        ck_assert_ok(c1, ss_tarot_topk_targets(c1, t1, list, 3, 2100, deep, ds, NULL));
        ck_assert_ok(c3, ss_tarot_topk_targets(c3, t2, list, 3, 2100, dsub, dss, NULL));
        ck_assert(memcmp(dsub, deep, 3 * 2100 * sizeof *deep) == 0);
        ck_assert(memcmp(dss, ds, 3 * 2100 * sizeof *ds) == 0);
        for (p = 0; p < 3; p++)
            ck_assert(memcmp(deep + p * 2100, a + list[p] * 40, 40 * sizeof *a) == 0);
        free(deep);
        free(dsub);
        free(dss);
        free(ds);
        subsel_ctx_free(c3);
    }
    free(a);
    free(b);
    subsel_tarot_free(t1);
    subsel_tarot_free(t2);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(c1);
    subsel_ctx_free(c2);
}
END_TEST

/* The selector keeps no whitened copy of unprojected candidates: it
 * whitens them when needed, in fixed tiles. Everything computed from them
 * (rows, scores and distances, neighbour lists, OT, a selection) has the
 * bits of rows kept for a view, for every whitening. */
START_TEST(candidates_whitened_when_needed_match_kept_rows)
{
    const int64_t n = 2200, m = 120, d = 16, k = 30, budget = 80;
    const int64_t rows[5] = {2199, 0, 1234, 257, 256};
    subsel_ctx *ctx = new_ctx(2);
    subsel_dense *c = random_rows(ctx, n, d, 91, 3), *tg = random_rows(ctx, m, d, 92, 0);
    subsel_dense *u = NULL;
    subsel_tarot *t[2] = {NULL, NULL};
    subsel_selection *sel[2] = {NULL, NULL};
    float *s[2], *dist[2], *ks[2], got[5 * 16];
    int64_t *ki[2], set[60], p, w;
    double f[2][60], g[2][120], loss[2];
    for (p = 0; p < 60; p++)
        set[p] = p * 31;
    for (w = 0; w < 2; w++) {
        s[w] = malloc(sizeof *s[w] * 1500 * 120);
        dist[w] = malloc(sizeof *dist[w] * 1500 * 120);
        ks[w] = malloc(sizeof *ks[w] * (size_t)(m * k));
        ki[w] = malloc(sizeof *ki[w] * (size_t)(m * k));
        ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t[w]));
        ck_assert_ok(ctx, subsel_tarot_set_int(t[w], SUBSEL_TAROT_WHITEN, _i));
    }
    ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t[1], &u, NULL)); /* kept */
    ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t[0], NULL, NULL));
    ck_assert_ptr_null(t[0]->u);
    ck_assert_ptr_nonnull(t[1]->u);
    ck_assert_ok(ctx, ss_tarot_cand_rows(ctx, t[0], rows, 0, 5, got, NULL));
    for (p = 0; p < 5; p++)
        ck_assert(memcmp(got + p * d, subsel_dense_data(u) + rows[p] * d, sizeof *got * d) == 0);
    for (w = 0; w < 2; w++) {
        ck_assert_ok(ctx, subsel_tarot_scores_v2(ctx, t[w], 700, 1500, 0, m, s[w], 1500 * 120,
                                                 dist[w], 1500 * 120));
        ck_assert_ok(ctx, subsel_tarot_topk_v2(ctx, t[w], k, ki[w], m * k, ks[w], m * k));
        ck_assert_ok(ctx, subsel_tarot_ot_v2(ctx, t[w], set, 60, f[w], 60, g[w], 120,
                                             &loss[w]));
        ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t[w], budget, &sel[w]));
    }
    ck_assert(memcmp(s[0], s[1], sizeof *s[0] * 1500 * 120) == 0);
    ck_assert(memcmp(dist[0], dist[1], sizeof *dist[0] * 1500 * 120) == 0);
    ck_assert(memcmp(ks[0], ks[1], sizeof *ks[0] * (size_t)(m * k)) == 0);
    ck_assert(memcmp(ki[0], ki[1], sizeof *ki[0] * (size_t)(m * k)) == 0);
    ck_assert(memcmp(f[0], f[1], sizeof f[0]) == 0 && memcmp(g[0], g[1], sizeof g[0]) == 0);
    ck_assert(loss[0] == loss[1]);
    ck_assert_int_eq(subsel_selection_count(sel[0]), budget);
    ck_assert(memcmp(subsel_selection_indices(sel[0]), subsel_selection_indices(sel[1]),
                     sizeof(int64_t) * budget) == 0);
    ck_assert(memcmp(subsel_selection_gains(sel[0]), subsel_selection_gains(sel[1]),
                     sizeof(double) * budget) == 0);
    for (w = 0; w < 2; w++) {
        subsel_selection_free(sel[w]);
        subsel_tarot_free(t[w]);
        free(s[w]);
        free(dist[w]);
        free(ks[w]);
        free(ki[w]);
    }
    subsel_dense_free(u);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(ctx);
}
END_TEST

/* Issue 15: a selection holds its inputs, the whitened targets and
 * bounded scratch, not a whitened copy of the candidates. Once whitened
 * (whose covariance takes a bounded scratch of its own), under a memory
 * limit below that copy's size, a selection succeeds, and only asking for
 * a view of the whitened candidates fails (the selector is unchanged). */
START_TEST(selection_holds_no_copy_of_the_candidates)
{
    const int64_t n = 120000, m = 100, d = 16;
    const int64_t copy = n * d * (int64_t)sizeof(float); /* 7.7 MB */
    subsel_ctx *plain = new_ctx(1), *ctx = new_ctx(1);
    subsel_dense *c = random_rows(plain, n, d, 95, 0), *tg = random_rows(plain, m, d, 96, 0);
    subsel_dense *u = NULL;
    subsel_tarot *t = NULL;
    subsel_selection *sel = NULL;
    ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_P_TAROT_OT_MEMORY, 1 << 20));
    ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t, NULL, NULL));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MEMORY_LIMIT, copy * 3 / 4));
    ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t, 1000, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), 1000);
    ck_assert_status(ctx, subsel_tarot_whiten(ctx, t, &u, NULL), SUBSEL_E_NOMEM);
    ck_assert_ptr_null(u);
    ck_assert_ptr_null(t->u);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MEMORY_LIMIT, 0));
    ck_assert_ok(ctx, subsel_tarot_whiten(ctx, t, &u, NULL));
    ck_assert_int_eq(subsel_dense_rows(u), n);
    subsel_dense_free(u);
    subsel_selection_free(sel);
    subsel_tarot_free(t);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(ctx);
    subsel_ctx_free(plain);
}
END_TEST

/* ot_memory trades speed for memory: below a solve's cost matrix, its
 * first rows are kept in float and the rest recomputed each pass; the
 * selection stays the same and its potentials move by about 1e-7. */
START_TEST(ot_memory_keeps_the_selection)
{
    /* The costs are kept in float within ot_memory and the rest recomputed
     * and rounded the same way, so any budget gives the same bits: the
     * fixed-size selection with its potentials (stored whole; the first
     * 128 of 150 rows kept; none kept), and OTM on a smaller problem, whose
     * folds keep their candidates' cost rows from one solve to the next
     * (all; 40 rows of a fold, fewer than it grows to; none). */
    const int64_t n = 800, m = 300, budget = 150;
    const int64_t memory[3] = {SS_OT_DEFAULT_BUDGET, 256 << 10, 0};
    const int64_t otm_memory[3] = {SS_OT_DEFAULT_BUDGET, 40 * 4 * 30, 0};
    subsel_ctx *ctx = new_ctx(2);
    subsel_dense *c = random_rows(ctx, n, 12, 97, 0), *tg = random_rows(ctx, m, 12, 98, 0);
    subsel_dense *oc = random_rows(ctx, 200, 12, 95, 0), *otg = random_rows(ctx, 60, 12, 96, 0);
    subsel_selection *sel[3], *otm[3];
    int64_t v, w;
    for (w = 0; w < 3; w++) {
        subsel_tarot *t = NULL;
        ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t));
        ck_assert_ok(ctx, subsel_tarot_get_int(t, SUBSEL_P_TAROT_OT_MEMORY, &v));
        ck_assert_int_eq(v, SS_OT_DEFAULT_BUDGET);
        ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_P_TAROT_OT_MEMORY, memory[w]));
        ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t, budget, &sel[w]));
        subsel_tarot_free(t);
        /* 2 folds of 30 targets: each fold's others are 30 columns */
        ck_assert_ok(ctx, subsel_tarot_create(ctx, oc, otg, &t));
        ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_P_TAROT_OT_MEMORY, otm_memory[w]));
        ck_assert_ok(ctx, subsel_tarot_select_otm(ctx, t, 2, NULL, &otm[w]));
        subsel_tarot_free(t);
    }
    ck_assert_int_gt(subsel_selection_count(otm[0]), 80); /* a fold outgrew 40 rows */
    for (w = 1; w < 3; w++) {
        int64_t count = subsel_selection_count(otm[0]);
        ck_assert(memcmp(subsel_selection_indices(sel[0]), subsel_selection_indices(sel[w]),
                         sizeof(int64_t) * budget) == 0);
        ck_assert_msg(memcmp(subsel_selection_gains(sel[0]), subsel_selection_gains(sel[w]),
                             sizeof(double) * budget) == 0,
                      "ot_memory %lld moved the potentials", (long long)memory[w]);
        ck_assert_int_eq(subsel_selection_count(otm[w]), count);
        ck_assert(memcmp(subsel_selection_indices(otm[0]), subsel_selection_indices(otm[w]),
                         sizeof(int64_t) * (size_t)count) == 0);
    }
    for (w = 0; w < 3; w++) {
        subsel_selection_free(sel[w]);
        subsel_selection_free(otm[w]);
    }
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_dense_free(oc);
    subsel_dense_free(otg);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* OT between sets                                                          */
/* ------------------------------------------------------------------------ */

START_TEST(ot_reproduces_fixture)
{
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *u, *v;
    subsel_tarot *t = fixture_uv_tarot(ctx, &u, &v);
    int64_t n, i, all[200];
    double *F = read_f64(fixture_path("tarot/f.npy"), &n);
    double *G = read_f64(fixture_path("tarot/g.npy"), &n);
    double f[200], g[50], loss = 0, f2[200], loss2;
    ck_assert_ok(ctx, subsel_tarot_ot(ctx, t, NULL, 200, f, g, &loss));
    for (i = 0; i < 200; i++)
        ck_assert_msg(fabs(f[i] - F[i]) < 1e-6, "f[%lld] %.9g vs %.9g", (long long)i, f[i], F[i]);
    for (i = 0; i < 50; i++)
        ck_assert_msg(fabs(g[i] - G[i]) < 1e-6, "g[%lld] %.9g vs %.9g", (long long)i, g[i], G[i]);
    ck_assert_msg(fabs(loss - 0.9882505286610235) < 1e-6, "loss %.12g", loss);
    /* an explicit set of all candidates is the same problem */
    for (i = 0; i < 200; i++)
        all[i] = i;
    ck_assert_ok(ctx, subsel_tarot_ot(ctx, t, all, 200, f2, NULL, &loss2));
    ck_assert(loss2 == loss);
    ck_assert(memcmp(f, f2, sizeof f) == 0);
    all[3] = 200;
    ck_assert_status(ctx, subsel_tarot_ot(ctx, t, all, 200, f2, NULL, &loss2), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_ot(ctx, t, NULL, 10, f2, NULL, &loss2), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_ot(ctx, t, all, 0, f2, NULL, &loss2), SUBSEL_E_INVALID);
    free(F);
    free(G);
    subsel_tarot_free(t);
    subsel_dense_free(u);
    subsel_dense_free(v);
    subsel_ctx_free(ctx);
}
END_TEST

/* From the raw features: whitening error (float input) stays small in the
 * potentials. */
START_TEST(ot_from_raw_features_is_close)
{
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *c = load(ctx, "candidates.npy"), *tg = load(ctx, "targets.npy");
    subsel_tarot *t = NULL;
    int64_t n, i;
    double *F = read_f64(fixture_path("tarot/f.npy"), &n), f[200], loss;
    ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t));
    ck_assert_ok(ctx, subsel_tarot_ot(ctx, t, NULL, 200, f, NULL, &loss));
    for (i = 0; i < 200; i++)
        ck_assert(fabs(f[i] - F[i]) < 2e-5);
    ck_assert(fabs(loss - 0.9882505286610235) < 1e-6);
    free(F);
    subsel_tarot_free(t);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Selections                                                               */
/* ------------------------------------------------------------------------ */

static void assert_potentials_are_gains(subsel_ctx *ctx, subsel_tarot *t,
                                        const subsel_selection *sel)
{
    int64_t count = subsel_selection_count(sel);
    double *f = malloc(sizeof *f * (size_t)(count + 1)), loss;
    ck_assert_ok(ctx, subsel_tarot_ot(ctx, t, subsel_selection_indices(sel), count, f, NULL, &loss));
    ck_assert(memcmp(f, subsel_selection_gains(sel), sizeof *f * (size_t)count) == 0);
    ck_assert(loss == subsel_selection_value(sel));
    free(f);
}

START_TEST(fixed_size_matches_reference_code)
{
    static const int64_t budgets[] = {40, 60, 100};
    int reference = _i % 2;
    int64_t budget = budgets[_i / 2], n;
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *u, *v;
    subsel_tarot *t = fixture_uv_tarot(ctx, &u, &v);
    subsel_selection *sel = NULL;
    char name[64];
    int64_t *want;
    snprintf(name, sizeof name, "tarot/fixed_%s_%lld.npy", reference ? "reference" : "default",
             (long long)budget);
    want = read_i64(data_path(name), &n);
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_REFERENCE, reference));
    ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t, budget, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), n);
    /* the exact order: ranks, ascending within a rank, then the fill */
    ck_assert(memcmp(subsel_selection_indices(sel), want, sizeof *want * (size_t)n) == 0);
    if (reference && budget == 40) {
        int64_t nf, *fixture = read_i64(fixture_path("tarot/fixed_size_reference.npy"), &nf);
        assert_same_set(subsel_selection_indices(sel), subsel_selection_count(sel), fixture, nf);
        free(fixture);
    }
    assert_potentials_are_gains(ctx, t, sel);
    free(want);
    subsel_selection_free(sel);
    subsel_tarot_free(t);
    subsel_dense_free(u);
    subsel_dense_free(v);
    subsel_ctx_free(ctx);
}
END_TEST

/* The whole pipeline from raw features gives the fixture's selections. */
START_TEST(pipeline_from_raw_features)
{
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *c = load(ctx, "candidates.npy"), *tg = load(ctx, "targets.npy");
    subsel_tarot *t = NULL;
    subsel_selection *sel = NULL;
    int64_t nf, n, *folds = read_i64(fixture_path("tarot/target_folds.npy"), &nf);
    int64_t *fixed = read_i64(fixture_path("tarot/fixed_size_reference.npy"), &n);
    int64_t *otm_ref = read_i64(fixture_path("tarot/otm_reference.npy"), &n);
    ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_REFERENCE, 1));
    ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t, 40, &sel));
    assert_same_set(subsel_selection_indices(sel), subsel_selection_count(sel), fixed, 40);
    subsel_selection_free(sel);
    ck_assert_ok(ctx, subsel_tarot_select_otm(ctx, t, 5, folds, &sel));
    assert_same_set(subsel_selection_indices(sel), subsel_selection_count(sel), otm_ref, n);
    subsel_selection_free(sel);
    free(folds);
    free(fixed);
    free(otm_ref);
    subsel_tarot_free(t);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(ctx);
}
END_TEST

/* Budget met exactly by whole ranks: nothing more is added (no fill
 * solve), and the edges 0 and N. */
START_TEST(fixed_size_budget_edges)
{
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *u, *v;
    subsel_tarot *t = fixture_uv_tarot(ctx, &u, &v);
    subsel_selection *sel = (subsel_selection *)1;
    int64_t top1[50], layer = 0, i, j;
    unsigned char seen[200] = {0};
    ck_assert_ok(ctx, subsel_tarot_topk(ctx, t, 1, top1, NULL));
    for (j = 0; j < 50; j++)
        if (!seen[top1[j]]) {
            seen[top1[j]] = 1;
            layer++;
        }
    ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t, layer, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), layer);
    ck_assert_int_eq(subsel_selection_budget(sel), layer);
    ck_assert_int_eq(subsel_selection_short_reason(sel), SUBSEL_SHORT_NONE);
    for (i = 0; i < layer; i++) {
        ck_assert(seen[subsel_selection_indices(sel)[i]]);
        if (i > 0)
            ck_assert(subsel_selection_indices(sel)[i] > subsel_selection_indices(sel)[i - 1]);
    }
    ck_assert_int_eq(subsel_selection_evaluations(sel), 1); /* the final OT only */
    subsel_selection_free(sel);
    ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t, 0, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), 0);
    ck_assert(isnan(subsel_selection_value(sel)));
    subsel_selection_free(sel);
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_POTENTIALS, 0));
    ck_assert_ok(ctx, subsel_tarot_select_fixed(ctx, t, 200, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), 200);
    ck_assert(isnan(subsel_selection_value(sel)) && isnan(subsel_selection_gains(sel)[0]));
    memset(seen, 0, sizeof seen);
    for (i = 0; i < 200; i++) {
        ck_assert(!seen[subsel_selection_indices(sel)[i]]);
        seen[subsel_selection_indices(sel)[i]] = 1;
    }
    subsel_selection_free(sel);
    sel = (subsel_selection *)1;
    ck_assert_status(ctx, subsel_tarot_select_fixed(ctx, t, 201, &sel), SUBSEL_E_INVALID);
    ck_assert_ptr_null(sel);
    ck_assert_status(ctx, subsel_tarot_select_fixed(ctx, t, -1, &sel), SUBSEL_E_INVALID);
    subsel_tarot_free(t);
    subsel_dense_free(u);
    subsel_dense_free(v);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(otm_matches_fixture)
{
    int reference = _i;
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *u, *v;
    subsel_tarot *t = fixture_uv_tarot(ctx, &u, &v);
    subsel_selection *sel = NULL;
    int64_t nf, n, i;
    int64_t *folds = read_i64(fixture_path("tarot/target_folds.npy"), &nf);
    int64_t *want = read_i64(fixture_path(reference ? "tarot/otm_reference.npy" : "tarot/otm_argmin.npy"), &n);
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_REFERENCE, reference));
    ck_assert_ok(ctx, subsel_tarot_select_otm(ctx, t, 5, folds, &sel));
    ck_assert_int_eq(subsel_selection_count(sel), n);
    ck_assert(memcmp(subsel_selection_indices(sel), want, sizeof *want * (size_t)n) == 0);
    for (i = 1; i < n; i++)
        ck_assert(subsel_selection_indices(sel)[i] > subsel_selection_indices(sel)[i - 1]);
    assert_potentials_are_gains(ctx, t, sel);
    ck_assert_int_gt(subsel_selection_evaluations(sel), 5);
    free(folds);
    free(want);
    subsel_selection_free(sel);
    subsel_tarot_free(t);
    subsel_dense_free(u);
    subsel_dense_free(v);
    subsel_ctx_free(ctx);
}
END_TEST

/* Seeded folds: balanced, reproducible, seed-dependent; OTM with them is
 * the same whatever the thread count. */
START_TEST(folds_from_seed)
{
    subsel_ctx *c1 = new_ctx(1), *c2 = new_ctx(2);
    int64_t a[53], b[53], sizes[5] = {0}, i;
    subsel_dense *u, *v;
    subsel_tarot *t1, *t2;
    subsel_selection *s1 = NULL, *s2 = NULL;
    ck_assert_ok(c1, subsel_tarot_folds(c1, 53, 5, a));
    ck_assert_ok(c2, subsel_tarot_folds(c2, 53, 5, b));
    ck_assert(memcmp(a, b, sizeof a) == 0);
    for (i = 0; i < 53; i++)
        sizes[a[i]]++;
    ck_assert(sizes[0] == 11 && sizes[1] == 11 && sizes[2] == 11 && sizes[3] == 10 && sizes[4] == 10);
    ck_assert_ok(c2, subsel_ctx_set_int(c2, SUBSEL_CTX_SEED, 3));
    ck_assert_ok(c2, subsel_tarot_folds(c2, 53, 5, b));
    ck_assert(memcmp(a, b, sizeof a) != 0);
    ck_assert_status(c1, subsel_tarot_folds(c1, 53, 1, a), SUBSEL_E_INVALID);
    ck_assert_status(c1, subsel_tarot_folds(c1, 3, 4, a), SUBSEL_E_INVALID);
    ck_assert_ok(c1, subsel_ctx_set_int(c1, SUBSEL_CTX_SEED, 3));
    t1 = fixture_uv_tarot(c1, &u, &v);
    ck_assert_ok(c2, subsel_tarot_create(c2, u, v, &t2));
    ck_assert_ok(c2, subsel_tarot_set_int(t2, SUBSEL_TAROT_WHITEN, SUBSEL_WHITEN_NONE));
    ck_assert_ok(c2, subsel_tarot_set_int(t2, SUBSEL_TAROT_CENTER, 0));
    ck_assert_ok(c1, subsel_tarot_select_otm(c1, t1, 4, NULL, &s1));
    ck_assert_ok(c2, subsel_tarot_select_otm(c2, t2, 4, NULL, &s2));
    ck_assert_int_eq(subsel_selection_count(s1), subsel_selection_count(s2));
    ck_assert(memcmp(subsel_selection_indices(s1), subsel_selection_indices(s2),
                     sizeof(int64_t) * (size_t)subsel_selection_count(s1)) == 0);
    ck_assert(subsel_selection_value(s1) == subsel_selection_value(s2));
    subsel_selection_free(s1);
    subsel_selection_free(s2);
    subsel_tarot_free(t1);
    subsel_tarot_free(t2);
    subsel_dense_free(u);
    subsel_dense_free(v);
    subsel_ctx_free(c1);
    subsel_ctx_free(c2);
}
END_TEST

START_TEST(otm_validates_folds)
{
    subsel_ctx *ctx = new_ctx(1);
    subsel_dense *u, *v;
    subsel_tarot *t = fixture_uv_tarot(ctx, &u, &v);
    subsel_selection *sel = (subsel_selection *)1;
    int64_t folds[50], i;
    for (i = 0; i < 50; i++)
        folds[i] = i % 3;
    ck_assert_status(ctx, subsel_tarot_select_otm(ctx, t, 4, folds, &sel), SUBSEL_E_INVALID);
    ck_assert_ptr_null(sel);
    ck_assert(strstr(subsel_ctx_last_error(ctx), "fold 3") != NULL);
    folds[7] = -1;
    ck_assert_status(ctx, subsel_tarot_select_otm(ctx, t, 3, folds, &sel), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_select_otm(ctx, t, 1, NULL, &sel), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_select_otm(ctx, t, 51, NULL, &sel), SUBSEL_E_INVALID);
    /* MAX_RANK 1: every fold stops after its first rank */
    folds[7] = 1;
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_MAX_RANK, 1));
    ck_assert_ok(ctx, subsel_tarot_select_otm(ctx, t, 3, folds, &sel));
    {
        int64_t top1[50], j, k = 0;
        unsigned char seen[200] = {0};
        ck_assert_ok(ctx, subsel_tarot_topk(ctx, t, 1, top1, NULL));
        for (j = 0; j < 50; j++)
            k += !seen[top1[j]], seen[top1[j]] = 1;
        ck_assert_int_eq(subsel_selection_count(sel), k);
        for (j = 0; j < k; j++)
            ck_assert(seen[subsel_selection_indices(sel)[j]]);
    }
    subsel_selection_free(sel);
    subsel_tarot_free(t);
    subsel_dense_free(u);
    subsel_dense_free(v);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Weights                                                                  */
/* ------------------------------------------------------------------------ */

START_TEST(weights_default_rule)
{
    subsel_ctx *ctx = new_ctx(1);
    double f[6] = {0.4, -0.2, 0.9, 0.4, 0.1, 0.9}, g[6];
    int64_t w[6], w2[6], sum = 0, i;
    ck_assert_ok(ctx, subsel_tarot_weights(ctx, f, 6, 1000, w));
    for (i = 0; i < 6; i++) {
        sum += w[i];
        ck_assert_int_ge(w[i], 1);
        g[i] = f[i] - 7.5; /* potentials are defined up to a constant */
    }
    ck_assert_int_eq(sum, 1000);
    /* smaller potential, more repetitions: 1 + 994 (0.9 - f) / 2.9 floored
     * (171.4, 377.0, 0, 171.4, 274.2, 0), the one left over to the larger
     * remainder, the lower position of two equal ones */
    ck_assert(w[0] == 173 && w[1] == 378 && w[2] == 1 && w[3] == 172 && w[4] == 275 && w[5] == 1);
    ck_assert_ok(ctx, subsel_tarot_weights(ctx, g, 6, 1000, w2));
    ck_assert(memcmp(w, w2, sizeof w) == 0);
    /* equal potentials: the rest shared equally, extra to lower positions */
    for (i = 0; i < 6; i++)
        g[i] = 2.0;
    ck_assert_ok(ctx, subsel_tarot_weights(ctx, g, 6, 10, w));
    ck_assert(w[0] == 2 && w[1] == 2 && w[2] == 2 && w[3] == 2 && w[4] == 1 && w[5] == 1);
    ck_assert_ok(ctx, subsel_tarot_weights(ctx, f, 6, 6, w));
    for (i = 0; i < 6; i++)
        ck_assert_int_eq(w[i], 1);
    ck_assert_status(ctx, subsel_tarot_weights(ctx, f, 6, 5, w), SUBSEL_E_INVALID);
    ck_assert_ok(ctx, subsel_tarot_weights(ctx, NULL, 0, 0, NULL));
    f[2] = NAN;
    ck_assert_status(ctx, subsel_tarot_weights(ctx, f, 6, 100, w), SUBSEL_E_NUMERIC);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(weights_reference_rule)
{
    subsel_ctx *ctx = new_ctx(1);
    int64_t n, nw, w[250], i, sum = 0;
    double *f = read_f64(fixture_path("tarot/f.npy"), &n);
    int64_t *want = read_i64(data_path("tarot/weights_reference.npy"), &nw);
    double neg[3] = {-1.0, 2.0, 2.0};
    int64_t w3[5];
    ck_assert_int_eq(nw, 250);
    ck_assert_ok(ctx, subsel_tarot_weights_reference(ctx, f, 200, 50, 200, w));
    for (i = 0; i < 250; i++) {
        ck_assert_msg(w[i] == want[i], "weight %lld: %lld vs %lld", (long long)i, (long long)w[i],
                      (long long)want[i]);
        sum += w[i];
    }
    ck_assert_int_eq(sum, 200);
    /* negative potentials count as 0; the targets get max f */
    ck_assert_ok(ctx, subsel_tarot_weights_reference(ctx, neg, 3, 2, 12, w3));
    ck_assert(w3[0] == 0 && w3[1] == 3 && w3[2] == 3 && w3[3] == 3 && w3[4] == 3);
    neg[1] = neg[2] = -3.0;
    ck_assert_ok(ctx, subsel_tarot_weights_reference(ctx, neg, 3, 2, 7, w3));
    ck_assert(w3[0] == 2 && w3[1] == 2 && w3[2] == 1 && w3[3] == 1 && w3[4] == 1);
    ck_assert_status(ctx, subsel_tarot_weights_reference(ctx, neg, 3, -1, 7, w3), SUBSEL_E_INVALID);
    ck_assert_status(ctx, subsel_tarot_weights_reference(ctx, neg, 0, 0, 7, w3), SUBSEL_E_INVALID);
    free(f);
    free(want);
    subsel_ctx_free(ctx);
}
END_TEST

/* Issue 9: a total of INT64_MAX overflowed the apportionment (UBSan) and
 * then counted ~2^63 units out one by one. Totals are exact up to 2^53 and
 * refused above, at once, by both rules. */
START_TEST(weights_totals_are_bounded)
{
    static const int64_t refused[] = {INT64_MAX, INT64_MAX - 1, INT64_C(1) << 62,
                                      SUBSEL_TAROT_MAX_WEIGHT_TOTAL + 1};
    static const int64_t exact[] = {SUBSEL_TAROT_MAX_WEIGHT_TOTAL,
                                    SUBSEL_TAROT_MAX_WEIGHT_TOTAL - 1, INT64_C(1) << 40};
    subsel_ctx *ctx = new_ctx(1);
    double f[5] = {0.1, 0.7, 0.3, 0.3, -2.5};
    int64_t w[7], i, j, sum;
    ck_assert_int_eq(SUBSEL_TAROT_MAX_WEIGHT_TOTAL, INT64_C(1) << 53);
    for (i = 0; i < 4; i++) {
        for (j = 0; j < 7; j++)
            w[j] = -7;
        ck_assert_status(ctx, subsel_tarot_weights(ctx, f, 5, refused[i], w), SUBSEL_E_INVALID);
        ck_assert(strstr(subsel_ctx_last_error(ctx), "2^53") != NULL);
        ck_assert_status(ctx, subsel_tarot_weights_reference(ctx, f, 5, 2, refused[i], w),
                         SUBSEL_E_INVALID);
        ck_assert(strstr(subsel_ctx_last_error(ctx), "2^53") != NULL);
        for (j = 0; j < 7; j++)
            ck_assert_int_eq(w[j], -7); /* nothing written */
    }
    for (i = 0; i < 3; i++) {
        ck_assert_ok(ctx, subsel_tarot_weights(ctx, f, 5, exact[i], w));
        for (j = 0, sum = 0; j < 5; j++) {
            ck_assert_int_ge(w[j], 1);
            sum += w[j];
        }
        ck_assert_int_eq(sum, exact[i]);
        /* the largest potentials keep only their base repetition */
        ck_assert_int_eq(w[1], 1);
        ck_assert_int_gt(w[4], w[0]);
        ck_assert_ok(ctx, subsel_tarot_weights_reference(ctx, f, 5, 2, exact[i], w));
        for (j = 0, sum = 0; j < 7; j++) {
            ck_assert_int_ge(w[j], 0);
            sum += w[j];
        }
        ck_assert_int_eq(sum, exact[i]);
        ck_assert_int_eq(w[4], 0); /* clamped negative potential */
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* Runs the TAROT pipeline on the progress log: projection, whitening, a
 * fixed-size selection (top-k inside) and OTM (top-k per fold inside) on a
 * fresh selector. Returns the first failing status, or SUBSEL_OK. */
static int progress_pipeline(subsel_ctx *ctx, const subsel_dense *c,
                             const subsel_dense *tg, progress_log *log)
{
    subsel_tarot *t = NULL;
    subsel_selection *fixed = NULL, *otm = NULL;
    subsel_dense *p = NULL;
    int rc;
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, progress_log_fn, log));
    ck_assert_ok(ctx, subsel_tarot_create(ctx, c, tg, &t));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_PROJ_DIM, 24));
    ck_assert_ok(ctx, subsel_tarot_set_int(t, SUBSEL_TAROT_PROJ_BLOCK, 256));
    rc = subsel_tarot_project(ctx, c, 24, SUBSEL_PROJ_RADEMACHER, 256, &p);
    if (rc != SUBSEL_OK)
        ck_assert_ptr_null(p);
    if (rc == SUBSEL_OK && (rc = subsel_tarot_select_fixed(ctx, t, 200, &fixed)) != SUBSEL_OK)
        ck_assert_ptr_null(fixed);
    if (rc == SUBSEL_OK && (rc = subsel_tarot_select_otm(ctx, t, 3, NULL, &otm)) != SUBSEL_OK)
        ck_assert_ptr_null(otm);
    if (rc == SUBSEL_OK) {
        ck_assert_int_eq(subsel_selection_budget(fixed), 200);
        ck_assert_int_eq(subsel_selection_short_reason(fixed), SUBSEL_SHORT_NONE);
        /* OTM chooses its own size */
        ck_assert_int_eq(subsel_selection_budget(otm), subsel_selection_count(otm));
    }
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, NULL, NULL));
    subsel_selection_free(fixed);
    subsel_selection_free(otm);
    subsel_dense_free(p);
    subsel_tarot_free(t);
    return rc;
}

/* Issue 9: every stage runs from 0 to its total (the final done == total
 * report was missing) and nests in the one that contains it; each can be
 * cancelled at its first report, its second and its last. (Stage "ot",
 * the OT engine's, is not TAROT's and is not checked here.) */
START_TEST(every_stage_reports_from_zero_to_total)
{
    subsel_ctx *ctx = new_ctx(2);
    /* 300 columns: two chunks of the projection per matrix */
    subsel_dense *c = random_rows(ctx, 700, 300, 71, 0), *tg = random_rows(ctx, 60, 300, 72, 0);
    progress_log log;
    int stage;
    static const char *const expected[] = {"project", "whiten", "select", "topk", "otm"};
    memset(&log, 0, sizeof log);
    log.ignore = "ot";
    ck_assert_ok(ctx, progress_pipeline(ctx, c, tg, &log));
    progress_log_assert_clean(&log, "tarot");
    for (stage = 0; stage < 5; stage++)
        ck_assert_msg(progress_log_reports(&log, expected[stage]) >= 2, "stage %s: %lld reports",
                      expected[stage], (long long)progress_log_reports(&log, expected[stage]));
    for (stage = 0; stage < log.stages; stage++) {
        int64_t reports = log.reports[stage], at;
        for (at = 1; at <= reports; at = at < 2 || at == reports ? at + 1 : reports) {
            progress_log run;
            memset(&run, 0, sizeof run);
            run.ignore = "ot";
            run.cancel_stage = log.name[stage];
            run.cancel_at = at;
            ck_assert_status(ctx, progress_pipeline(ctx, c, tg, &run), SUBSEL_E_CANCELLED);
            ck_assert_int_eq(progress_log_reports(&run, log.name[stage]), at);
        }
    }
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Allocation failures                                                      */
/* ------------------------------------------------------------------------ */


/* Each stage swept on its own (a sweep of everything at once repeats the
 * early stages for every later failure point): creation, projection,
 * whitening and neighbour lists with the selector's own allocator failing;
 * then the selections and weights with the calling context's allocator
 * failing, on a selector made with another, working, context. */
typedef struct tarot_job {
    int64_t stage;
    subsel_ctx *plain;
    const subsel_dense *c, *tg;
    subsel_tarot *t; /* freed after the context (after_tarot) */
} tarot_job;

static int tarot_paths(subsel_ctx *ctx, void *arg, int64_t n)
{
    tarot_job *job = arg;
    int64_t stage = job->stage;
    subsel_ctx *plain = job->plain;
    subsel_tarot *t = NULL;
    subsel_selection *s1 = NULL, *s2 = NULL;
    subsel_dense *u = NULL;
    int64_t w[80], nn[18];
    int rc;
    /* two threads now and then: one run per path shape is enough */
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, n % 16 == 0 ? 2 : 1));
    rc = subsel_tarot_create(stage == 0 ? ctx : plain, job->c, job->tg, &t);
    if (rc == SUBSEL_OK)
        rc = subsel_tarot_set_int(t, SUBSEL_TAROT_PROJ_DIM, 5);
    if (rc == SUBSEL_OK)
        rc = subsel_tarot_set_int(t, SUBSEL_TAROT_MAX_RANK, 2);
    if (rc == SUBSEL_OK)
        rc = subsel_tarot_set_int(t, SUBSEL_TAROT_WHITEN, n % 3 == 0 ? SUBSEL_WHITEN_ZCA : SUBSEL_WHITEN_CHOLESKY);
    if (rc == SUBSEL_OK)
        rc = subsel_tarot_whiten(stage == 0 ? ctx : plain, t, &u, NULL);
    if (rc == SUBSEL_OK && stage == 0)
        rc = subsel_tarot_topk(ctx, t, 3, nn, NULL);
    if (rc == SUBSEL_OK && stage == 1)
        rc = subsel_tarot_select_fixed(ctx, t, 10, &s1);
    if (rc == SUBSEL_OK && stage == 1)
        rc = subsel_tarot_select_otm(ctx, t, 2, NULL, &s2);
    if (rc == SUBSEL_OK && stage == 1)
        rc = subsel_tarot_weights(ctx, subsel_selection_gains(s1), 10, 36, w);
    if (rc == SUBSEL_OK && stage == 1)
        rc = subsel_tarot_weights_reference(ctx, subsel_selection_gains(s1), 10, 6, 30, w);
    subsel_selection_free(s1);
    subsel_selection_free(s2);
    subsel_dense_free(u);
    job->t = t;
    return rc;
}

/* The selector outlives the context that whitened it. */
static void after_tarot(void *arg)
{
    tarot_job *job = arg;
    subsel_tarot_free(job->t);
    job->t = NULL;
}

START_TEST(allocation_failures_are_clean)
{
    subsel_ctx *plain = new_ctx(1);
    subsel_dense *c = random_rows(plain, 30, 7, 61, 0), *tg = random_rows(plain, 6, 7, 62, 0);
    tarot_job job = {_i, plain, c, tg, NULL};
    ck_assert_int_gt(alloc_sweep(_i == 0 ? "TAROT with the selector's context failing"
                                         : "TAROT with the calling context failing",
                                 tarot_paths, after_tarot, &job),
                     4);
    subsel_dense_free(c);
    subsel_dense_free(tg);
    subsel_ctx_free(plain);
}
END_TEST

Suite *tarot_suite(void)
{
    Suite *s = suite_create("tarot");
    TCase *tc = tcase_create("options");
    tcase_add_test(tc, create_validates);
    tcase_add_test(tc, options_bounds_and_state);
    suite_add_tcase(s, tc);

    tc = tcase_create("projection");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, projection_matches_brute_force, 0, 2);
    tcase_add_loop_test(tc, projection_is_block_thread_and_batch_independent, 0, 2);
    tcase_add_test(tc, projection_seed_kind_and_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("whitening");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, whitening_reproduces_fixture);
    tcase_add_loop_test(tc, cholesky_and_zca_agree, 0, 3);
    tcase_add_test(tc, no_whitening_normalises_and_guards_zero_rows);
    tcase_add_loop_test(tc, whitening_is_thread_independent, 0, 2);
    tcase_add_test(tc, whitening_failures_are_recoverable);
    tcase_add_loop_test(tc, whitening_that_cannot_fit_fails_before_any_work, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("topk");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, topk_matches_full_sort, 0, 4);
    tcase_add_test(tc, topk_is_thread_depth_and_subset_independent);
    tcase_add_loop_test(tc, topk_screens_agree_on_near_ties, 0, 2);
    tcase_add_loop_test(tc, candidates_whitened_when_needed_match_kept_rows, 0, 3);
    tcase_add_test(tc, selection_holds_no_copy_of_the_candidates);
    tcase_add_test(tc, ot_memory_keeps_the_selection);
    suite_add_tcase(s, tc);

    tc = tcase_create("ot");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ot_reproduces_fixture);
    tcase_add_test(tc, ot_from_raw_features_is_close);
    suite_add_tcase(s, tc);

    tc = tcase_create("selection");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, fixed_size_matches_reference_code, 0, 6);
    tcase_add_test(tc, pipeline_from_raw_features);
    tcase_add_test(tc, fixed_size_budget_edges);
    tcase_add_loop_test(tc, otm_matches_fixture, 0, 2);
    tcase_add_test(tc, folds_from_seed);
    tcase_add_test(tc, otm_validates_folds);
    suite_add_tcase(s, tc);

    tc = tcase_create("weights");
    tcase_add_test(tc, weights_default_rule);
    tcase_add_test(tc, weights_reference_rule);
    tcase_add_test(tc, weights_totals_are_bounded);
    suite_add_tcase(s, tc);

    tc = tcase_create("allocfail");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, allocation_failures_are_clean, 0, 2);
    tcase_add_test(tc, every_stage_reports_from_zero_to_total);
    suite_add_tcase(s, tc);
    return s;
}
