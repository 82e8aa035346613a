/* SPDX-License-Identifier: MIT */
/*
 * LoRS towers (lib/lors/tower.c): the forward pass against values PyTorch
 * computed (nn.Linear, nn.GELU, nn.LayerNorm in float64); the gradients in
 * the parameters and the input against central finite differences; the
 * tangents (u_dot, grad_dot, dx_dot) against central differences along a
 * direction; the plain mode equal to the tangent mode; the same bits on
 * one and two threads; the work size; and the initialisation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "lors/lors.h"
#include "tests/helpers.h"
#include "tests/suites.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static subsel_ctx *ctx_of_threads(int64_t threads)
{
    subsel_ctx *ctx = NULL;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_int_eq(subsel_param_set_int(ctx, ctx, SUBSEL_P_THREADS, threads),
                     SUBSEL_OK);
    return ctx;
}

static double *alloc_doubles(int64_t n)
{
    /* never a zero-byte request: the linear tower needs no work */
    double *p = malloc(sizeof *p * (size_t)(n > 0 ? n : 1));
    ck_assert(p != NULL);
    return p;
}

static double *normals(ss_rng *rng, double scale, int64_t n)
{
    double *p = alloc_doubles(n);
    int64_t i;
    for (i = 0; i < n; i++)
        p[i] = scale * ss_rng_normal(rng);
    return p;
}

/* A tower with a point theta (PyTorch's initialisation moved off gamma = 1,
 * beta = 0 so that every parameter matters), a direction v, an input x,
 * and the fixed matrices of the upstream gradient du = R + C * u. */
typedef struct tower_case {
    ss_tower t;
    int64_t rows, params;
    double *theta, *v, *x, *r, *c;
} tower_case;

static tower_case tower_case_new(int kind, int64_t rows, int64_t in,
                                 int64_t out, uint64_t seed, double c_scale)
{
    tower_case tc;
    ss_rng rng;
    int64_t i;
    tc.t.kind = kind;
    tc.t.in = in;
    tc.t.out = out;
    tc.rows = rows;
    tc.params = ss_tower_params(&tc.t);
    ss_rng_seed(&rng, seed, 0);
    tc.theta = alloc_doubles(tc.params);
    ss_tower_init(&tc.t, &rng, tc.theta);
    for (i = 0; i < tc.params; i++)
        tc.theta[i] += 0.3 * ss_rng_normal(&rng);
    tc.v = normals(&rng, 1.0, tc.params);
    tc.x = normals(&rng, 1.0, rows * in);
    tc.r = normals(&rng, 1.0, rows * out);
    tc.c = normals(&rng, c_scale, rows * out);
    return tc;
}

static void tower_case_free(tower_case *tc)
{
    free(tc->theta);
    free(tc->v);
    free(tc->x);
    free(tc->r);
    free(tc->c);
}

/* Everything one forward and backward pass writes, each buffer its exact
 * size (so ASan and valgrind see an overrun). */
typedef struct tower_pass {
    double *u, *u_dot, *du, *du_dot, *grad, *grad_dot, *dx, *dx_dot, *work;
} tower_pass;

static tower_pass tower_pass_new(const tower_case *tc)
{
    tower_pass p;
    int64_t ro = tc->rows * tc->t.out, ri = tc->rows * tc->t.in;
    p.u = alloc_doubles(ro);
    p.u_dot = alloc_doubles(ro);
    p.du = alloc_doubles(ro);
    p.du_dot = alloc_doubles(ro);
    p.grad = alloc_doubles(tc->params);
    p.grad_dot = alloc_doubles(tc->params);
    p.dx = alloc_doubles(ri);
    p.dx_dot = alloc_doubles(ri);
    p.work = alloc_doubles(ss_tower_work(&tc->t, tc->rows));
    return p;
}

static void tower_pass_free(tower_pass *p)
{
    free(p->u);
    free(p->u_dot);
    free(p->du);
    free(p->du_dot);
    free(p->grad);
    free(p->grad_dot);
    free(p->dx);
    free(p->dx_dot);
    free(p->work);
}

/* Forward at (theta, x), du = R + C * u, backward; with tangent, along
 * tc->v (du_dot = C * u_dot). */
static void run_pass(const subsel_ctx *ctx, const tower_case *tc,
                     const double *theta, const double *x, int tangent,
                     tower_pass *p)
{
    const double *theta_dot = tangent ? tc->v : NULL;
    int64_t i;
    ss_tower_forward(ctx, &tc->t, theta, theta_dot, tc->rows, x, p->u,
                     tangent ? p->u_dot : NULL, p->work);
    for (i = 0; i < tc->rows * tc->t.out; i++) {
        p->du[i] = tc->r[i] + tc->c[i] * p->u[i];
        if (tangent)
            p->du_dot[i] = tc->c[i] * p->u_dot[i];
    }
    ss_tower_backward(ctx, &tc->t, theta, theta_dot, tc->rows, x, p->du,
                      tangent ? p->du_dot : NULL, p->work, p->grad,
                      tangent ? p->grad_dot : NULL, p->dx,
                      tangent ? p->dx_dot : NULL);
}

static const int kinds[] = {SS_TOWER_LINEAR, SS_TOWER_HEAD};
static const char *const kind_names[] = {"linear", "head"};

#define FD_STEP 1e-5
#define FD_TOLERANCE 1e-6

/* ||a - b|| / ||b|| */
static double relative_error(const double *a, const double *b, int64_t n)
{
    double diff = 0.0, norm = 0.0;
    int64_t i;
    for (i = 0; i < n; i++) {
        diff += (a[i] - b[i]) * (a[i] - b[i]);
        norm += b[i] * b[i];
    }
    ck_assert(norm > 0.0);
    return sqrt(diff / norm);
}

/* got within FD_TOLERANCE of the finite differences fd, relative to fd */
static void assert_matches_fd(const char *what, int kind_index,
                              const double *got, const double *fd, int64_t n)
{
    double err = relative_error(got, fd, n);
    ck_assert_msg(err < FD_TOLERANCE, "%s: %s off by %g",
                  kind_names[kind_index], what, err);
}

static void copy_moved(const double *from, const double *dir, double step,
                       int64_t n, double *to)
{
    int64_t i;
    for (i = 0; i < n; i++)
        to[i] = from[i] + step * dir[i];
}

/* ------------------------------------------------------------------------ */
/* Forward against PyTorch                                                  */
/* ------------------------------------------------------------------------ */

/* u for rows 2, in 3, out 4, with theta_i = 0.5 sin(1.3 i + 0.2) (PyTorch's
 * parameter order) and x_k = cos(0.7 k), row-major: torch.float64,
 * nn.Linear, and for the head LayerNorm(Linear(GELU(p)) + p) with p =
 * Linear(x), nn.GELU() and nn.LayerNorm(4) (eps 1e-5). */
static const double torch_u[2][8] = {
    {0.46331285335718608, -1.16228690637678, 0.24656955804688169,
     0.37259027331804739, -0.72288412122151147, -0.11098472216874705,
     -0.093581901359976405, -0.18485804548146467},
    {0.48019306338024542, 0.72033502625262125, -0.63397956907864439,
     0.077378220900562872, 0.3779251697088295, 0.13072403387410206,
     -0.71054369780330451, 0.11583244677080792}};

START_TEST(test_forward_matches_pytorch)
{
    subsel_ctx *ctx = ctx_of_threads(1);
    ss_tower t;
    double theta[52], x[6], u[8], *work;
    int64_t i, n;
    t.kind = kinds[_i];
    t.in = 3;
    t.out = 4;
    n = ss_tower_params(&t);
    ck_assert_int_le(n, 52);
    for (i = 0; i < n; i++)
        theta[i] = 0.5 * sin(1.3 * (double)i + 0.2);
    for (i = 0; i < 6; i++)
        x[i] = cos(0.7 * (double)i);
    work = alloc_doubles(ss_tower_work(&t, 2));
    ss_tower_forward(ctx, &t, theta, NULL, 2, x, u, NULL, work);
    for (i = 0; i < 8; i++)
        ck_assert_msg(fabs(u[i] - torch_u[_i][i]) < 1e-13,
                      "%s: u[%d] = %.17g, PyTorch %.17g", kind_names[_i],
                      (int)i, u[i], torch_u[_i][i]);
    free(work);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Gradients and tangents against finite differences                        */
/* ------------------------------------------------------------------------ */

/* l = sum(R * u): its gradient in every parameter and every input entry
 * against central differences (du = R: no C term). */
START_TEST(test_gradients_match_finite_differences)
{
    subsel_ctx *ctx = ctx_of_threads(1);
    tower_case tc = tower_case_new(kinds[_i], 3, 5, 4, 11, 0.0);
    tower_pass p = tower_pass_new(&tc), q = tower_pass_new(&tc);
    int64_t ro = tc.rows * tc.t.out, ri = tc.rows * tc.t.in, i, k;
    double *fd_grad = alloc_doubles(tc.params), *fd_dx = alloc_doubles(ri);
    double *theta = alloc_doubles(tc.params), *x = alloc_doubles(ri);

    run_pass(ctx, &tc, tc.theta, tc.x, 0, &p);
    for (k = 0; k < tc.params + ri; k++) {
        double loss[2];
        int side;
        for (side = 0; side < 2; side++) {
            double h = side ? -FD_STEP : FD_STEP;
            memcpy(theta, tc.theta, sizeof *theta * (size_t)tc.params);
            memcpy(x, tc.x, sizeof *x * (size_t)ri);
            if (k < tc.params)
                theta[k] += h;
            else
                x[k - tc.params] += h;
            ss_tower_forward(ctx, &tc.t, theta, NULL, tc.rows, x, q.u, NULL,
                             q.work);
            loss[side] = 0.0;
            for (i = 0; i < ro; i++)
                loss[side] += tc.r[i] * q.u[i];
        }
        if (k < tc.params)
            fd_grad[k] = (loss[0] - loss[1]) / (2.0 * FD_STEP);
        else
            fd_dx[k - tc.params] = (loss[0] - loss[1]) / (2.0 * FD_STEP);
    }
    assert_matches_fd("grad", _i, p.grad, fd_grad, tc.params);
    assert_matches_fd("dx", _i, p.dx, fd_dx, ri);

    free(fd_grad);
    free(fd_dx);
    free(theta);
    free(x);
    tower_pass_free(&p);
    tower_pass_free(&q);
    tower_case_free(&tc);
    subsel_ctx_free(ctx);
}
END_TEST

/* u_dot, grad_dot and dx_dot against (f(theta + h v) - f(theta - h v)) / 2h
 * of u, grad and dx, with du = R + C * u moving with theta. */
START_TEST(test_tangents_match_finite_differences)
{
    subsel_ctx *ctx = ctx_of_threads(1);
    tower_case tc = tower_case_new(kinds[_i], 3, 5, 4, 12, 0.7);
    tower_pass p = tower_pass_new(&tc), plus = tower_pass_new(&tc),
               minus = tower_pass_new(&tc);
    int64_t ro = tc.rows * tc.t.out, ri = tc.rows * tc.t.in, i;
    double *theta = alloc_doubles(tc.params);
    double *fd_u = alloc_doubles(ro), *fd_grad = alloc_doubles(tc.params);
    double *fd_dx = alloc_doubles(ri);

    run_pass(ctx, &tc, tc.theta, tc.x, 1, &p);
    copy_moved(tc.theta, tc.v, FD_STEP, tc.params, theta);
    run_pass(ctx, &tc, theta, tc.x, 0, &plus);
    copy_moved(tc.theta, tc.v, -FD_STEP, tc.params, theta);
    run_pass(ctx, &tc, theta, tc.x, 0, &minus);
    for (i = 0; i < ro; i++)
        fd_u[i] = (plus.u[i] - minus.u[i]) / (2.0 * FD_STEP);
    for (i = 0; i < tc.params; i++)
        fd_grad[i] = (plus.grad[i] - minus.grad[i]) / (2.0 * FD_STEP);
    for (i = 0; i < ri; i++)
        fd_dx[i] = (plus.dx[i] - minus.dx[i]) / (2.0 * FD_STEP);
    assert_matches_fd("u_dot", _i, p.u_dot, fd_u, ro);
    assert_matches_fd("grad_dot", _i, p.grad_dot, fd_grad, tc.params);
    assert_matches_fd("dx_dot", _i, p.dx_dot, fd_dx, ri);

    free(theta);
    free(fd_u);
    free(fd_grad);
    free(fd_dx);
    tower_pass_free(&p);
    tower_pass_free(&plus);
    tower_pass_free(&minus);
    tower_case_free(&tc);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Modes, threads, work                                                     */
/* ------------------------------------------------------------------------ */

/* The tangents ride along without changing a bit of u, grad or dx; dx may
 * be left out; and the tangent computed after the plain forward pass, from
 * its kept work, has the same bits. */
START_TEST(test_plain_mode_equals_tangent_mode)
{
    subsel_ctx *ctx = ctx_of_threads(1);
    tower_case tc = tower_case_new(kinds[_i], 3, 5, 4, 13, 0.7);
    tower_pass plain = tower_pass_new(&tc), tangent = tower_pass_new(&tc);
    int64_t ro = tc.rows * tc.t.out, ri = tc.rows * tc.t.in;
    size_t d = sizeof(double);

    run_pass(ctx, &tc, tc.theta, tc.x, 0, &plain);
    run_pass(ctx, &tc, tc.theta, tc.x, 1, &tangent);
    ck_assert(memcmp(plain.u, tangent.u, d * (size_t)ro) == 0);
    ck_assert(memcmp(plain.grad, tangent.grad, d * (size_t)tc.params) == 0);
    ck_assert(memcmp(plain.dx, tangent.dx, d * (size_t)ri) == 0);

    /* no dx nor dx_dot: the same gradient and its tangent */
    memset(tangent.grad, 0, d * (size_t)tc.params);
    memcpy(plain.grad_dot, tangent.grad_dot, d * (size_t)tc.params);
    ss_tower_backward(ctx, &tc.t, tc.theta, tc.v, tc.rows, tc.x, tangent.du,
                      tangent.du_dot, tangent.work, tangent.grad,
                      tangent.grad_dot, NULL, NULL);
    ck_assert(memcmp(plain.grad, tangent.grad, d * (size_t)tc.params) == 0);
    ck_assert(memcmp(plain.grad_dot, tangent.grad_dot,
                     d * (size_t)tc.params) == 0);

    /* the tangent alone after a plain forward (its work kept): the same
     * u_dot, and the backward then gives the same bits */
    run_pass(ctx, &tc, tc.theta, tc.x, 0, &plain);
    ss_tower_forward_ex(ctx, &tc.t, 0, tc.theta, tc.v, tc.rows, tc.x, NULL,
                        NULL, plain.u_dot, plain.work);
    ck_assert(memcmp(plain.u_dot, tangent.u_dot, d * (size_t)ro) == 0);
    ss_tower_backward(ctx, &tc.t, tc.theta, tc.v, tc.rows, tc.x, tangent.du,
                      tangent.du_dot, plain.work, plain.grad, plain.grad_dot,
                      plain.dx, plain.dx_dot);
    run_pass(ctx, &tc, tc.theta, tc.x, 1, &tangent);
    ck_assert(memcmp(plain.grad, tangent.grad, d * (size_t)tc.params) == 0);
    ck_assert(memcmp(plain.grad_dot, tangent.grad_dot,
                     d * (size_t)tc.params) == 0);
    ck_assert(memcmp(plain.dx_dot, tangent.dx_dot, d * (size_t)ri) == 0);

    tower_pass_free(&plain);
    tower_pass_free(&tangent);
    tower_case_free(&tc);
    subsel_ctx_free(ctx);
}
END_TEST

/* Sizes where ss_dgemm_det cuts its products into blocks and the row loops
 * take threads: every output has the same bits on one and two threads. */
START_TEST(test_threads_give_the_same_bits)
{
    subsel_ctx *one = ctx_of_threads(1), *two = ctx_of_threads(2);
    tower_case tc = tower_case_new(kinds[_i], 200, 70, 130, 14, 0.7);
    tower_pass a = tower_pass_new(&tc), b = tower_pass_new(&tc);
    size_t ro = sizeof(double) * (size_t)(tc.rows * tc.t.out);
    size_t ri = sizeof(double) * (size_t)(tc.rows * tc.t.in);
    size_t np = sizeof(double) * (size_t)tc.params;

    run_pass(one, &tc, tc.theta, tc.x, 1, &a);
    run_pass(two, &tc, tc.theta, tc.x, 1, &b);
    ck_assert(memcmp(a.u, b.u, ro) == 0);
    ck_assert(memcmp(a.u_dot, b.u_dot, ro) == 0);
    ck_assert(memcmp(a.grad, b.grad, np) == 0);
    ck_assert(memcmp(a.grad_dot, b.grad_dot, np) == 0);
    ck_assert(memcmp(a.dx, b.dx, ri) == 0);
    ck_assert(memcmp(a.dx_dot, b.dx_dot, ri) == 0);

    tower_pass_free(&a);
    tower_pass_free(&b);
    tower_case_free(&tc);
    subsel_ctx_free(one);
    subsel_ctx_free(two);
}
END_TEST

/* ss_tower_work(rows) doubles suffice: nothing past them is written, and
 * more rows never need less. */
START_TEST(test_work_is_not_overrun)
{
    subsel_ctx *ctx = ctx_of_threads(1);
    tower_case tc = tower_case_new(kinds[_i], 3, 5, 4, 15, 0.7);
    tower_pass p = tower_pass_new(&tc), q = tower_pass_new(&tc);
    int64_t used = ss_tower_work(&tc.t, tc.rows), spare = 32, i;
    double *big = alloc_doubles(used + spare);

    ck_assert_int_ge(ss_tower_work(&tc.t, tc.rows + 1), used);
    for (i = 0; i < used + spare; i++)
        big[i] = -7.0;
    run_pass(ctx, &tc, tc.theta, tc.x, 1, &p);
    free(q.work);
    q.work = big;
    run_pass(ctx, &tc, tc.theta, tc.x, 1, &q);
    for (i = used; i < used + spare; i++)
        ck_assert(big[i] == -7.0);
    ck_assert(memcmp(p.grad_dot, q.grad_dot,
                     sizeof(double) * (size_t)tc.params) == 0);

    tower_pass_free(&p);
    tower_pass_free(&q);
    tower_case_free(&tc);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Initialisation                                                           */
/* ------------------------------------------------------------------------ */

/* One Linear's weights and bias: within +-1/sqrt(fan_in), spread over that
 * range (mean near 0, mean square near bound^2 / 3). */
static void assert_uniform_linear(const double *lin, int64_t in, int64_t out)
{
    double bound = 1.0 / sqrt((double)in), sum = 0.0, sq = 0.0, top = 0.0;
    int64_t i, n = out * in + out;
    for (i = 0; i < n; i++) {
        ck_assert(fabs(lin[i]) <= bound);
        sum += lin[i];
        sq += lin[i] * lin[i];
        top = fmax(top, fabs(lin[i]));
    }
    ck_assert_msg(fabs(sum / (double)n) < 0.06 * bound, "mean %g",
                  sum / (double)n);
    ck_assert_msg(fabs(sq / (double)n / (bound * bound) - 1.0 / 3.0) < 0.04,
                  "mean square %g of bound^2", sq / (double)n / (bound * bound));
    ck_assert(top > 0.95 * bound);
}

START_TEST(test_init_statistics)
{
    ss_tower t;
    ss_rng rng;
    double *a, *b, *c;
    int64_t n, i, in = 50, out = 40;
    t.kind = kinds[_i];
    t.in = in;
    t.out = out;
    n = ss_tower_params(&t);
    ck_assert_int_eq(n, t.kind == SS_TOWER_HEAD
                            ? out * in + out * out + 4 * out
                            : out * in + out);
    a = alloc_doubles(n);
    b = alloc_doubles(n);
    c = alloc_doubles(n);
    ss_rng_seed(&rng, 5, 0);
    ss_tower_init(&t, &rng, a);
    ss_rng_seed(&rng, 5, 0);
    ss_tower_init(&t, &rng, b);
    ss_rng_seed(&rng, 6, 0);
    ss_tower_init(&t, &rng, c);
    ck_assert(memcmp(a, b, sizeof *a * (size_t)n) == 0);
    ck_assert(memcmp(a, c, sizeof *a * (size_t)n) != 0);

    assert_uniform_linear(a, in, out);
    if (t.kind == SS_TOWER_HEAD) {
        const double *lin2 = a + out * in + out;
        const double *gamma = lin2 + out * out + out;
        assert_uniform_linear(lin2, out, out);
        for (i = 0; i < out; i++) {
            ck_assert(gamma[i] == 1.0);
            ck_assert(gamma[out + i] == 0.0);
        }
    }
    free(a);
    free(b);
    free(c);
}
END_TEST

Suite *lors_tower_suite(void)
{
    Suite *s = suite_create("lors_tower");
    TCase *forward = tcase_create("forward");
    TCase *derivatives = tcase_create("derivatives");
    TCase *modes = tcase_create("modes");
    TCase *init = tcase_create("init");
    tcase_add_loop_test(forward, test_forward_matches_pytorch, 0, 2);
    tcase_add_loop_test(derivatives, test_gradients_match_finite_differences,
                        0, 2);
    tcase_add_loop_test(derivatives, test_tangents_match_finite_differences,
                        0, 2);
    tcase_add_loop_test(modes, test_plain_mode_equals_tangent_mode, 0, 2);
    tcase_add_loop_test(modes, test_threads_give_the_same_bits, 0, 2);
    tcase_add_loop_test(modes, test_work_is_not_overrun, 0, 2);
    tcase_add_loop_test(init, test_init_statistics, 0, 2);
    suite_add_tcase(s, forward);
    suite_add_tcase(s, derivatives);
    suite_add_tcase(s, modes);
    suite_add_tcase(s, init);
    return s;
}
