/* SPDX-License-Identifier: MIT */
/*
 * LoRS (lib/lors): the joint model's gradients and their tangents against
 * central finite differences; the gradient through unrolled training
 * against finite differences and against PyTorch autograd (the fixture in
 * tests/data/lors, made by make.py there); experts, distillation and its
 * resumption bit for bit, on one and two threads; retrieval recall and the
 * coreset baselines against brute force; and the errors.
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

static subsel_ctx *ctx_threads(int64_t threads)
{
    subsel_ctx *ctx = NULL;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_int_eq(subsel_param_set_int(ctx, ctx, SUBSEL_P_THREADS, threads),
                     SUBSEL_OK);
    return ctx;
}

static double *doubles(int64_t n)
{
    double *p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    ck_assert(p != NULL);
    return p;
}

static double *normals(ss_rng *rng, double scale, int64_t n)
{
    double *p = doubles(n);
    int64_t i;
    for (i = 0; i < n; i++)
        p[i] = scale * ss_rng_normal(rng);
    return p;
}

/* |a - b| within tol relative to the larger of |b|'s scale and 1e-3. */
static void assert_close(const char *what, int64_t n, const double *a,
                         const double *b, double tol)
{
    double scale = 1e-3, worst = 0.0;
    int64_t i, at = 0;
    for (i = 0; i < n; i++)
        scale = fmax(scale, fabs(b[i]));
    for (i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > worst) {
            worst = fabs(a[i] - b[i]);
            at = i;
        }
    ck_assert_msg(worst <= tol * scale,
                  "%s: entry %lld is %.12g, expected %.12g (scale %.3g)", what,
                  (long long)at, a[at], b[at], scale);
}

/* A model of `tower` towers, the loss, and learn_scale. */
static ss_model model_of(int tower, int64_t di, int64_t dt, int64_t e,
                         int loss, int learn_scale)
{
    ss_model m;
    memset(&m, 0, sizeof m);
    m.image.kind = m.text.kind = tower;
    m.image.in = di;
    m.text.in = dt;
    m.image.out = m.text.out = e;
    m.loss = loss;
    m.beta = 0.5;
    m.learn_scale = learn_scale;
    m.scale = log(1.0 / 0.07);
    ss_model_sizes(&m);
    return m;
}

/* Parameters not at a special point: initialised, then perturbed. */
static double *random_theta(const ss_model *m, ss_rng *rng)
{
    double *th = doubles(m->params);
    int64_t i;
    ss_tower_init(&m->image, rng, th);
    ss_tower_init(&m->text, rng, th + m->image_params);
    for (i = 0; i < m->params; i++)
        th[i] += 0.1 * ss_rng_normal(rng);
    if (m->learn_scale)
        th[m->params - 1] = 2.0;
    return th;
}

/* A target similarity with entries clear of wBCE's threshold 0.5. */
static double *random_similarity(ss_rng *rng, int64_t n)
{
    double *s = doubles(n * n);
    int64_t i;
    for (i = 0; i < n * n; i++)
        s[i] = ss_rng_uniform(rng) < 0.3 ? 0.7 + 0.3 * ss_rng_uniform(rng)
                                         : 0.3 * ss_rng_uniform(rng);
    return s;
}

/* ------------------------------------------------------------------------ */
/* The model: gradients and tangents                                        */
/* ------------------------------------------------------------------------ */

typedef struct model_case {
    int tower, loss, learn_scale;
} model_case;

static const model_case model_cases[] = {
    {SS_TOWER_LINEAR, SS_LOSS_INFONCE, 0}, {SS_TOWER_HEAD, SS_LOSS_ENCE, 1},
    {SS_TOWER_HEAD, SS_LOSS_BCE, 0},       {SS_TOWER_LINEAR, SS_LOSS_WBCE, 1},
    {SS_TOWER_HEAD, SS_LOSS_WBCE, 0},
};
#define N_MODEL_CASES (int)(sizeof model_cases / sizeof model_cases[0])

/* Everything ss_model_loss computes at one point. */
typedef struct model_out {
    double loss, *grad, *gx, *gy, *gs, *grad_dot, *gx_dot, *gy_dot, *gs_dot;
} model_out;

static void model_out_alloc(const ss_model *m, int64_t rows, model_out *o)
{
    o->grad = doubles(m->params);
    o->grad_dot = doubles(m->params);
    o->gx = doubles(rows * m->image.in);
    o->gx_dot = doubles(rows * m->image.in);
    o->gy = doubles(rows * m->text.in);
    o->gy_dot = doubles(rows * m->text.in);
    o->gs = doubles(rows * rows);
    o->gs_dot = doubles(rows * rows);
}

static void model_out_free(model_out *o)
{
    double *p[] = {o->grad, o->gx, o->gy, o->gs,
                   o->grad_dot, o->gx_dot, o->gy_dot, o->gs_dot};
    size_t i;
    for (i = 0; i < sizeof p / sizeof p[0]; i++)
        free(p[i]);
}

static void run_model(subsel_ctx *ctx, const ss_model *m, const double *th,
                      const double *th_dot, int64_t rows, const double *x,
                      const double *y, const double *s, model_out *o)
{
    double *work = doubles(ss_model_work_size(m, rows));
    ss_model_work w;
    ss_model_work_carve(m, rows, work, &w);
    o->loss = ss_model_loss(ctx, m, th, th_dot, rows, x, y, s, o->grad,
                            o->grad_dot, o->gx, o->gx_dot, o->gy, o->gy_dot,
                            o->gs, o->gs_dot, &w);
    free(work);
}

/* Central difference of the loss in coordinate i of v. */
static double fd_loss(subsel_ctx *ctx, const ss_model *m, double *th,
                      int64_t rows, double *x, double *y, double *s,
                      double *v, int64_t i)
{
    const double h = 1e-6;
    double keep = v[i], up, down;
    model_out o;
    model_out_alloc(m, rows, &o);
    v[i] = keep + h;
    run_model(ctx, m, th, NULL, rows, x, y, s, &o);
    up = o.loss;
    v[i] = keep - h;
    run_model(ctx, m, th, NULL, rows, x, y, s, &o);
    down = o.loss;
    v[i] = keep;
    model_out_free(&o);
    return (up - down) / (2 * h);
}

START_TEST(test_model_gradients)
{
    const model_case *c = &model_cases[_i];
    const int64_t rows = 4, di = 5, dt = 3, e = 4;
    ss_model m = model_of(c->tower, di, dt, e, c->loss, c->learn_scale);
    subsel_ctx *ctx = ctx_threads(1);
    ss_rng rng;
    double *th, *x, *y, *s, *fd;
    model_out o;
    int64_t i;
    ss_rng_seed(&rng, 41 + (uint64_t)_i, 1);
    th = random_theta(&m, &rng);
    x = normals(&rng, 1.0, rows * di);
    y = normals(&rng, 1.0, rows * dt);
    s = random_similarity(&rng, rows);
    model_out_alloc(&m, rows, &o);
    run_model(ctx, &m, th, NULL, rows, x, y, s, &o);
    ck_assert(isfinite(o.loss));

    fd = doubles(m.params);
    for (i = 0; i < m.params; i++)
        fd[i] = fd_loss(ctx, &m, th, rows, x, y, s, th, i);
    assert_close("dl/dtheta", m.params, o.grad, fd, 1e-6);
    free(fd);
    fd = doubles(rows * di);
    for (i = 0; i < rows * di; i++)
        fd[i] = fd_loss(ctx, &m, th, rows, x, y, s, x, i);
    assert_close("dl/dx", rows * di, o.gx, fd, 1e-6);
    free(fd);
    fd = doubles(rows * dt);
    for (i = 0; i < rows * dt; i++)
        fd[i] = fd_loss(ctx, &m, th, rows, x, y, s, y, i);
    assert_close("dl/dy", rows * dt, o.gy, fd, 1e-6);
    free(fd);
    if (c->loss != SS_LOSS_INFONCE) {
        fd = doubles(rows * rows);
        for (i = 0; i < rows * rows; i++)
            fd[i] = fd_loss(ctx, &m, th, rows, x, y, s, s, i);
        assert_close("dl/ds", rows * rows, o.gs, fd, 1e-6);
        free(fd);
    }
    model_out_free(&o);
    free(th);
    free(x);
    free(y);
    free(s);
    subsel_ctx_free(ctx);
}
END_TEST

/* A plain call, then a tangent call on the same work marked forward_kept
 * (as the reverse sweep of unrolled training makes them): every output
 * has the bits of `want`, the tangent call of a fresh work. */
static void assert_tangents_from_kept_forward(subsel_ctx *ctx, const ss_model *m,
                                              const double *th, const double *v,
                                              int64_t rows, const double *x,
                                              const double *y, const double *s,
                                              const model_out *want)
{
    double *work = doubles(ss_model_work_size(m, rows));
    ss_model_work w;
    model_out o;
    model_out_alloc(m, rows, &o);
    ss_model_work_carve(m, rows, work, &w);
    ss_model_loss(ctx, m, th, NULL, rows, x, y, s, o.grad, NULL, NULL, NULL,
                  NULL, NULL, NULL, NULL, &w);
    w.forward_kept = 1;
    o.loss = ss_model_loss(ctx, m, th, v, rows, x, y, s, o.grad, o.grad_dot,
                           o.gx, o.gx_dot, o.gy, o.gy_dot, o.gs, o.gs_dot, &w);
    ck_assert(o.loss == want->loss);
#define SAME(field, n)                                                         \
    ck_assert_msg(memcmp(o.field, want->field, sizeof(double) * (size_t)(n)) == 0, \
                  #field " differs with the forward pass kept")
    SAME(grad, m->params);
    SAME(grad_dot, m->params);
    SAME(gx, rows * m->image.in);
    SAME(gx_dot, rows * m->image.in);
    SAME(gy, rows * m->text.in);
    SAME(gy_dot, rows * m->text.in);
    if (m->loss != SS_LOSS_INFONCE) {
        SAME(gs, rows * rows);
        SAME(gs_dot, rows * rows);
    }
#undef SAME
    model_out_free(&o);
    free(work);
}

/* The tangent outputs against central differences of the plain outputs
 * along theta_dot; the plain outputs unchanged by the tangent mode, and
 * by a forward pass kept from an earlier call. */
START_TEST(test_model_tangents)
{
    const model_case *c = &model_cases[_i];
    const int64_t rows = 4, di = 5, dt = 3, e = 4;
    const double h = 1e-6;
    ss_model m = model_of(c->tower, di, dt, e, c->loss, c->learn_scale);
    subsel_ctx *ctx = ctx_threads(1);
    ss_rng rng;
    double *th, *v, *x, *y, *s, *tp, *fd;
    model_out o, plain, up, down;
    int64_t i;
    ss_rng_seed(&rng, 77 + (uint64_t)_i, 1);
    th = random_theta(&m, &rng);
    v = normals(&rng, 1.0, m.params);
    x = normals(&rng, 1.0, rows * di);
    y = normals(&rng, 1.0, rows * dt);
    s = random_similarity(&rng, rows);
    model_out_alloc(&m, rows, &o);
    model_out_alloc(&m, rows, &plain);
    model_out_alloc(&m, rows, &up);
    model_out_alloc(&m, rows, &down);
    run_model(ctx, &m, th, v, rows, x, y, s, &o);
    run_model(ctx, &m, th, NULL, rows, x, y, s, &plain);
    ck_assert(o.loss == plain.loss);
    ck_assert(memcmp(o.grad, plain.grad, sizeof(double) * (size_t)m.params) ==
              0);
    assert_tangents_from_kept_forward(ctx, &m, th, v, rows, x, y, s, &o);
    tp = doubles(m.params);
    for (i = 0; i < m.params; i++)
        tp[i] = th[i] + h * v[i];
    run_model(ctx, &m, tp, NULL, rows, x, y, s, &up);
    for (i = 0; i < m.params; i++)
        tp[i] = th[i] - h * v[i];
    run_model(ctx, &m, tp, NULL, rows, x, y, s, &down);
#define FD_OF(field, n)                                                        \
    do {                                                                       \
        fd = doubles(n);                                                       \
        for (i = 0; i < (n); i++)                                              \
            fd[i] = (up.field[i] - down.field[i]) / (2 * h);                   \
        assert_close(#field "_dot", (n), o.field##_dot, fd, 1e-6);             \
        free(fd);                                                              \
    } while (0)
    FD_OF(grad, m.params);
    FD_OF(gx, rows * di);
    FD_OF(gy, rows * dt);
    if (c->loss != SS_LOSS_INFONCE)
        FD_OF(gs, rows * rows);
#undef FD_OF
    model_out_free(&o);
    model_out_free(&plain);
    model_out_free(&up);
    model_out_free(&down);
    free(tp);
    free(th);
    free(v);
    free(x);
    free(y);
    free(s);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Unrolled training: PyTorch's fixture and finite differences              */
/* ------------------------------------------------------------------------ */

static const char *const fixture_cases[] = {
    "head_wbce_lowrank", "linear_ence_full_lt", "head_bce_identity",
    "linear_infonce"};

static double *fixture(const char *name, const char *file, int64_t *count)
{
    char rel[256];
    snprintf(rel, sizeof rel, "lors/%s/%s", name, file);
    return read_f64(data_path(rel), count);
}

/* A matching problem read from a fixture case, with its arrays. */
typedef struct problem {
    ss_model model;
    ss_sim sim;
    ss_unroll u;
    int64_t n;
    double *x, *y, *simp, *theta0, *star;
    int64_t *batches;
} problem;

static void problem_from_fixture(const char *name, problem *p)
{
    int64_t count;
    double *cfg = fixture(name, "config.npy", &count);
    char rel[256];
    ck_assert_int_eq(count, 16);
    memset(p, 0, sizeof *p);
    p->model = model_of((int)cfg[0], (int64_t)cfg[1], (int64_t)cfg[2],
                        (int64_t)cfg[3], (int)cfg[7], (int)cfg[10]);
    p->model.beta = cfg[11];
    p->model.scale = cfg[13];
    p->n = (int64_t)cfg[4];
    p->sim.kind = (int)cfg[8];
    p->sim.n = p->n;
    p->sim.rank = cfg[9] > 0 ? (int64_t)cfg[9] : 1;
    p->sim.alpha = cfg[12];
    p->x = fixture(name, "x.npy", &count);
    ck_assert_int_eq(count, p->n * p->model.image.in);
    p->y = fixture(name, "y.npy", &count);
    ck_assert_int_eq(count, p->n * p->model.text.in);
    p->simp = fixture(name, "sim.npy", &count);
    ck_assert_int_eq(count, ss_sim_params(&p->sim));
    p->theta0 = fixture(name, "theta0.npy", &count);
    ck_assert_int_eq(count, p->model.params);
    p->star = fixture(name, "theta_star.npy", &count);
    snprintf(rel, sizeof rel, "lors/%s/batches.npy", name);
    p->batches = read_i64(data_path(rel), &count);
    ck_assert_int_eq(count, (int64_t)cfg[5] * (int64_t)cfg[6]);
    p->u.model = &p->model;
    p->u.sim = &p->sim;
    p->u.steps = (int64_t)cfg[6];
    p->u.batch = (int64_t)cfg[5];
    p->u.batches = p->batches;
    p->u.x = p->x;
    p->u.y = p->y;
    p->u.sim_params = p->simp;
    p->u.theta0 = p->theta0;
    p->u.theta_star = p->star;
    p->u.eta[0] = cfg[14];
    p->u.eta[1] = cfg[15];
    p->u.span = SS_SPAN_AUTO;
    free(cfg);
}

static void problem_free(problem *p)
{
    free(p->x);
    free(p->y);
    free(p->simp);
    free(p->theta0);
    free(p->star);
    free(p->batches);
}

/* The gradients of one unrolled problem. */
typedef struct unroll_out {
    double loss, *gx, *gy, *gsim, geta[2], *step_loss, *theta_end;
} unroll_out;

static void run_unroll(subsel_ctx *ctx, const problem *p, unroll_out *o)
{
    double *work = doubles(ss_unroll_work_size(&p->u));
    o->gx = doubles(p->n * p->model.image.in);
    o->gy = doubles(p->n * p->model.text.in);
    o->gsim = doubles(ss_sim_params(&p->sim));
    o->step_loss = doubles(p->u.steps);
    o->theta_end = doubles(p->model.params);
    o->loss = ss_unroll_grad(ctx, &p->u, o->gx, o->gy, o->gsim, o->geta,
                             o->step_loss, o->theta_end, work);
    free(work);
}

static void unroll_out_free(unroll_out *o)
{
    free(o->gx);
    free(o->gy);
    free(o->gsim);
    free(o->step_loss);
    free(o->theta_end);
}

START_TEST(test_unroll_matches_pytorch)
{
    const char *name = fixture_cases[_i];
    subsel_ctx *ctx = ctx_threads(1);
    problem p;
    unroll_out o;
    int64_t count;
    double *want;
    problem_from_fixture(name, &p);
    run_unroll(ctx, &p, &o);
    want = fixture(name, "loss.npy", &count);
    assert_close("loss", 1, &o.loss, want, 1e-10);
    free(want);
    want = fixture(name, "step_losses.npy", &count);
    assert_close("step losses", p.u.steps, o.step_loss, want, 1e-10);
    free(want);
    want = fixture(name, "theta_T.npy", &count);
    assert_close("theta_T", p.model.params, o.theta_end, want, 1e-10);
    free(want);
    want = fixture(name, "grad_x.npy", &count);
    assert_close("dL/dx", count, o.gx, want, 1e-8);
    free(want);
    want = fixture(name, "grad_y.npy", &count);
    assert_close("dL/dy", count, o.gy, want, 1e-8);
    free(want);
    want = fixture(name, "grad_sim.npy", &count);
    ck_assert_int_eq(count, ss_sim_params(&p.sim));
    if (count > 0)
        assert_close("dL/dsim", count, o.gsim, want, 1e-8);
    free(want);
    want = fixture(name, "grad_eta.npy", &count);
    assert_close("dL/deta", 2, o.geta, want, 1e-8);
    free(want);
    unroll_out_free(&o);
    problem_free(&p);
    subsel_ctx_free(ctx);
}
END_TEST

/* Tiny step sizes, where the reverse sweep cannot read a step's gradient
 * off the stored states: at 0 it forms the gradient from the start; at
 * 1e-16 the step is lost in theta's rounding, which the sweep notices and
 * forms the gradient too. dL/deta against a central difference of the loss
 * in eta, for each group in turn. */
START_TEST(test_unroll_tiny_step_sizes)
{
    subsel_ctx *ctx = ctx_threads(1);
    const double h = 1e-7;
    problem p;
    unroll_out at0, tiny, up, down;
    double keep, fd;
    int g;
    problem_from_fixture(fixture_cases[1], &p);
    for (g = 0; g < 2; g++) {
        keep = p.u.eta[g];
        p.u.eta[g] = 0.0;
        run_unroll(ctx, &p, &at0);
        p.u.eta[g] = 1e-16;
        run_unroll(ctx, &p, &tiny);
        p.u.eta[g] = h;
        run_unroll(ctx, &p, &up);
        p.u.eta[g] = -h;
        run_unroll(ctx, &p, &down);
        fd = (up.loss - down.loss) / (2 * h);
        ck_assert_msg(fabs(at0.geta[g] - fd) <= 1e-6 * fabs(fd),
                      "dL/deta[%d] at 0: %.12g, central difference %.12g", g,
                      at0.geta[g], fd);
        ck_assert_msg(fabs(tiny.geta[g] - at0.geta[g]) <= 1e-6 * fabs(at0.geta[g]),
                      "dL/deta[%d] at 1e-16: %.12g, at 0: %.12g", g, tiny.geta[g],
                      at0.geta[g]);
        p.u.eta[g] = keep;
        unroll_out_free(&at0);
        unroll_out_free(&tiny);
        unroll_out_free(&up);
        unroll_out_free(&down);
    }
    problem_free(&p);
    subsel_ctx_free(ctx);
}
END_TEST

/* A fixture's problem with wider data (the set's n rows then fewer than
 * each tower's inputs: the student runs its first Linears in span
 * coordinates, span.c) and random theta0 and theta_star for it. */
static void widen(problem *p, uint64_t seed)
{
    ss_rng rng;
    int64_t i, di = p->n + 3, dt = p->n + 2;
    ss_rng_seed(&rng, seed, 3);
    p->model = model_of(p->model.image.kind, di, dt, p->model.image.out, p->model.loss,
                        p->model.learn_scale);
    free(p->x);
    free(p->y);
    free(p->theta0);
    free(p->star);
    p->x = normals(&rng, 1.0, p->n * di);
    p->y = normals(&rng, 1.0, p->n * dt);
    p->theta0 = random_theta(&p->model, &rng);
    p->star = doubles(p->model.params);
    for (i = 0; i < p->model.params; i++)
        p->star[i] = p->theta0[i] + 0.05 * ss_rng_normal(&rng);
    p->u.x = p->x;
    p->u.y = p->y;
    p->u.theta0 = p->theta0;
    p->u.theta_star = p->star;
}

static void assert_same_outputs(const problem *p, const unroll_out *a,
                                const unroll_out *b, double tol)
{
    assert_close("loss", 1, &a->loss, &b->loss, tol);
    assert_close("step losses", p->u.steps, a->step_loss, b->step_loss, tol);
    assert_close("theta_T", p->model.params, a->theta_end, b->theta_end, tol);
    assert_close("dL/dx", p->n * p->model.image.in, a->gx, b->gx, tol);
    assert_close("dL/dy", p->n * p->model.text.in, a->gy, b->gy, tol);
    if (ss_sim_params(&p->sim) > 0)
        assert_close("dL/dsim", ss_sim_params(&p->sim), a->gsim, b->gsim, tol);
    assert_close("dL/deta", 2, a->geta, b->geta, tol);
}

/* The first Linears in span coordinates give the dense student's numbers,
 * for every fixture case's model, loss and similarity, at ordinary step
 * sizes and at one so small that the reverse sweep forms the gradient; and
 * the same bits on two threads as on one. */
START_TEST(test_unroll_span_matches_dense)
{
    subsel_ctx *ctx = ctx_threads(1), *ctx2 = ctx_threads(2);
    problem p;
    unroll_out span, dense, span2;
    int tiny;
    problem_from_fixture(fixture_cases[_i], &p);
    widen(&p, 11 + (uint64_t)_i);
    for (tiny = 0; tiny < 2; tiny++) {
        if (tiny)
            p.u.eta[0] = 1e-16;
        p.u.span = SS_SPAN_AUTO;
        run_unroll(ctx, &p, &span);
        run_unroll(ctx2, &p, &span2);
        p.u.span = SS_SPAN_OFF;
        run_unroll(ctx, &p, &dense);
        assert_same_outputs(&p, &span, &dense, 1e-10);
        assert_same_outputs(&p, &span2, &span, 0.0);
        unroll_out_free(&span);
        unroll_out_free(&span2);
        unroll_out_free(&dense);
    }
    problem_free(&p);
    subsel_ctx_free(ctx);
    subsel_ctx_free(ctx2);
}
END_TEST

/* A combination the fixture lacks (projection head, eNCE, low rank,
 * learned temperature): the directional derivative of the loss along a
 * random direction in (x, y, sim, eta) against a central difference; with
 * the fixture's data, and (_i 1) with wider data, where the student runs
 * its first Linears in span coordinates. */
START_TEST(test_unroll_directional_fd)
{
    subsel_ctx *ctx = ctx_threads(1);
    problem p;
    unroll_out o, up, down;
    ss_rng rng;
    const double h = 1e-6;
    double *dx, *dy, *ds, de[2], slope = 0.0, fd, keep_eta[2];
    double *keep_x, *keep_y, *keep_s;
    int64_t nx, ny, ns, i, k;
    int sgn;
    problem_from_fixture("head_wbce_lowrank", &p);
    if (_i == 1)
        widen(&p, 23); /* the first Linears in span coordinates */
    p.model = model_of(SS_TOWER_HEAD, p.model.image.in, p.model.text.in,
                       p.model.image.out, SS_LOSS_ENCE, 1);
    ss_rng_seed(&rng, 5, 1);
    free(p.theta0);
    free(p.star);
    p.theta0 = random_theta(&p.model, &rng);
    p.star = doubles(p.model.params);
    for (i = 0; i < p.model.params; i++)
        p.star[i] = p.theta0[i] + 0.05 * ss_rng_normal(&rng);
    p.u.theta0 = p.theta0;
    p.u.theta_star = p.star;
    nx = p.n * p.model.image.in;
    ny = p.n * p.model.text.in;
    ns = ss_sim_params(&p.sim);
    run_unroll(ctx, &p, &o);
    dx = normals(&rng, 1.0, nx);
    dy = normals(&rng, 1.0, ny);
    ds = normals(&rng, 1.0, ns);
    de[0] = ss_rng_normal(&rng);
    de[1] = ss_rng_normal(&rng);
    for (i = 0; i < nx; i++)
        slope += o.gx[i] * dx[i];
    for (i = 0; i < ny; i++)
        slope += o.gy[i] * dy[i];
    for (i = 0; i < ns; i++)
        slope += o.gsim[i] * ds[i];
    slope += o.geta[0] * de[0] + o.geta[1] * de[1];
    keep_x = p.x;
    keep_y = p.y;
    keep_s = p.simp;
    keep_eta[0] = p.u.eta[0];
    keep_eta[1] = p.u.eta[1];
    for (sgn = -1; sgn <= 1; sgn += 2) {
        double *x2 = doubles(nx), *y2 = doubles(ny), *s2 = doubles(ns);
        for (i = 0; i < nx; i++)
            x2[i] = keep_x[i] + sgn * h * dx[i];
        for (i = 0; i < ny; i++)
            y2[i] = keep_y[i] + sgn * h * dy[i];
        for (i = 0; i < ns; i++)
            s2[i] = keep_s[i] + sgn * h * ds[i];
        p.u.x = x2;
        p.u.y = y2;
        p.u.sim_params = s2;
        for (k = 0; k < 2; k++)
            p.u.eta[k] = keep_eta[k] + sgn * h * de[k];
        run_unroll(ctx, &p, sgn < 0 ? &down : &up);
        free(x2);
        free(y2);
        free(s2);
    }
    fd = (up.loss - down.loss) / (2 * h);
    ck_assert_msg(fabs(fd - slope) <= 1e-5 * fmax(1.0, fabs(fd)),
                  "directional derivative %.10g, central difference %.10g",
                  slope, fd);
    p.u.x = keep_x;
    p.u.y = keep_y;
    p.u.sim_params = keep_s;
    unroll_out_free(&o);
    unroll_out_free(&up);
    unroll_out_free(&down);
    free(dx);
    free(dy);
    free(ds);
    problem_free(&p);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The public calls                                                         */
/* ------------------------------------------------------------------------ */

/* Paired rows sharing a latent: image = A z + noise, text = B z + noise,
 * so that retrieval can be learnt. */
static void paired_rows(uint64_t seed, int64_t n, int64_t di, int64_t dt,
                        subsel_ctx *ctx, subsel_dense **im, subsel_dense **tx)
{
    const int64_t k = 4;
    ss_rng rng;
    float *x = malloc(sizeof *x * (size_t)(n * di));
    float *y = malloc(sizeof *y * (size_t)(n * dt));
    double *a, *b, z[4];
    int64_t r, c, j;
    ck_assert(x != NULL && y != NULL);
    ss_rng_seed(&rng, 1000, 1); /* the same maps for every seed */
    a = normals(&rng, 1.0, di * k);
    b = normals(&rng, 1.0, dt * k);
    ss_rng_seed(&rng, seed, 2);
    for (r = 0; r < n; r++) {
        for (j = 0; j < k; j++)
            z[j] = ss_rng_normal(&rng);
        for (c = 0; c < di; c++) {
            double v = 0.3 * ss_rng_normal(&rng);
            for (j = 0; j < k; j++)
                v += a[c * k + j] * z[j];
            x[r * di + c] = (float)v;
        }
        for (c = 0; c < dt; c++) {
            double v = 0.3 * ss_rng_normal(&rng);
            for (j = 0; j < k; j++)
                v += b[c * k + j] * z[j];
            y[r * dt + c] = (float)v;
        }
    }
    ck_assert_int_eq(subsel_dense_create(ctx, n, di, x, SUBSEL_OWN_COPY, im),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_dense_create(ctx, n, dt, y, SUBSEL_OWN_COPY, tx),
                     SUBSEL_OK);
    free(a);
    free(b);
    free(x);
    free(y);
}

/* A small handle: towers of e 8, 12 pairs, T 3, batch 4, 2 experts of 3
 * epochs. */
static subsel_lors *small_lors(subsel_ctx *ctx, int64_t di, int64_t dt)
{
    subsel_lors *l = NULL;
    ck_assert_int_eq(subsel_lors_create(ctx, di, dt, &l), SUBSEL_OK);
#define SET_I(p, v) ck_assert_int_eq(subsel_param_set_int(ctx, l, p, v), 0)
#define SET_R(p, v) ck_assert_int_eq(subsel_param_set_real(ctx, l, p, v), 0)
    SET_I(SUBSEL_P_LORS_EMBED_DIM, 8);
    SET_I(SUBSEL_P_LORS_PAIRS, 12);
    SET_I(SUBSEL_P_LORS_SYN_STEPS, 3);
    SET_I(SUBSEL_P_LORS_BATCH, 4);
    SET_I(SUBSEL_P_LORS_RANK, 2);
    SET_I(SUBSEL_P_LORS_EXPERTS, 2);
    SET_I(SUBSEL_P_LORS_BUFFER_EPOCHS, 3);
    SET_I(SUBSEL_P_LORS_EXPERT_BATCH, 16);
    SET_I(SUBSEL_P_LORS_EVAL_EPOCHS, 5);
    SET_R(SUBSEL_P_LORS_LR_IMAGE, 1.0);
    SET_R(SUBSEL_P_LORS_LR_TEXT, 1.0);
    SET_R(SUBSEL_P_LORS_LR_SIM, 1.0);
#undef SET_I
#undef SET_R
    return l;
}

/* The whole distilled state as floats: x, y, S~, and eta. */
static float *snapshot(subsel_ctx *ctx, const subsel_lors *l, int64_t di,
                       int64_t dt, int64_t n, int64_t *len)
{
    float *s;
    double eta[2];
    *len = n * di + n * dt + n * n + 2;
    s = malloc(sizeof *s * (size_t)*len);
    ck_assert(s != NULL);
    ck_assert_int_eq(subsel_lors_synthetic(ctx, l, s, s + n * di), SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_similarity(ctx, l, s + n * di + n * dt),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_eta(ctx, l, &eta[0], &eta[1]), SUBSEL_OK);
    s[*len - 2] = (float)eta[0];
    s[*len - 1] = (float)eta[1];
    return s;
}

/* Experts, then distillation: the loss finite, S~ moved off the identity,
 * the same bits on 1 and 2 threads, and save + load + more iterations the
 * same as the iterations in one go. */
START_TEST(test_distill_resume_threads)
{
    const int64_t di = 6, dt = 5, n = 12;
    subsel_ctx *c1 = ctx_threads(1), *c2 = ctx_threads(2);
    subsel_dense *im, *tx;
    subsel_lors *a = small_lors(c1, di, dt), *b = small_lors(c2, di, dt);
    subsel_lors *r = NULL;
    char buf[4096], saved[4096];
    float *sa, *sb, *sr;
    int64_t len, i;
    double loss, off = 0.0;
    /* temp_folder() reuses one buffer: keep each path */
    snprintf(buf, sizeof buf, "%s", temp_folder("lors_buffer"));
    snprintf(saved, sizeof saved, "%s", temp_folder("lors_saved"));
    paired_rows(3, 64, di, dt, c1, &im, &tx);
    ck_assert_int_eq(subsel_lors_buffer(c1, a, im, tx, buf, NULL), SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_iterations(a), 0);
    ck_assert_int_eq(subsel_lors_distill(c1, a, im, tx, buf, 4, NULL),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_iterations(a), 4);
    ck_assert_int_eq(subsel_lors_last_loss(c1, a, &loss), SUBSEL_OK);
    ck_assert(isfinite(loss) && loss > 0.0);
    ck_assert_int_eq(subsel_lors_distill(c2, b, im, tx, buf, 2, NULL),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_save(c2, b, saved), SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_load(c1, saved, &r), SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_iterations(r), 2);
    ck_assert_int_eq(subsel_lors_distill(c2, b, NULL, NULL, buf, 2, NULL),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_distill(c1, r, NULL, NULL, buf, 2, NULL),
                     SUBSEL_OK);
    sa = snapshot(c1, a, di, dt, n, &len);
    sb = snapshot(c2, b, di, dt, n, &len);
    sr = snapshot(c1, r, di, dt, n, &len);
    ck_assert_msg(memcmp(sa, sb, sizeof *sa * (size_t)len) == 0,
                  "1 and 2 threads differ");
    ck_assert_msg(memcmp(sa, sr, sizeof *sa * (size_t)len) == 0,
                  "a saved and resumed distillation differs");
    for (i = 0; i < n * n; i++)
        off += fabs(sa[n * di + n * dt + i] - (i % (n + 1) == 0 ? 1.0 : 0.0));
    ck_assert_msg(off > 1e-6, "S~ never left the identity");
    free(sa);
    free(sb);
    free(sr);
    subsel_lors_free(a);
    subsel_lors_free(b);
    subsel_lors_free(r);
    subsel_dense_free(im);
    subsel_dense_free(tx);
    subsel_ctx_free(c1);
    subsel_ctx_free(c2);
}
END_TEST

/* Experts train with InfoNCE whatever the handle's loss (subsel.h): the
 * trajectories of a wBCE handle and of an InfoNCE one are the same bits. */
START_TEST(test_buffer_infonce)
{
    const int64_t di = 6, dt = 5;
    subsel_ctx *ctx = ctx_threads(1);
    subsel_dense *im, *tx, *ta = NULL, *tb = NULL;
    subsel_lors *a = small_lors(ctx, di, dt), *b = small_lors(ctx, di, dt);
    char dir_a[512], dir_b[512], path[4096]; /* temp_folder's is static */
    int64_t count;
    snprintf(dir_a, sizeof dir_a, "%s", temp_folder("lors_buffer_wbce"));
    snprintf(dir_b, sizeof dir_b, "%s", temp_folder("lors_buffer_infonce"));
    paired_rows(5, 40, di, dt, ctx, &im, &tx);
    ck_assert_int_eq(subsel_param_set_int(ctx, a, SUBSEL_P_LORS_LOSS,
                                          SUBSEL_LORS_LOSS_WBCE), SUBSEL_OK);
    ck_assert_int_eq(subsel_param_set_int(ctx, b, SUBSEL_P_LORS_LOSS,
                                          SUBSEL_LORS_LOSS_INFONCE), SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_buffer(ctx, a, im, tx, dir_a, NULL), SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_buffer(ctx, b, im, tx, dir_b, NULL), SUBSEL_OK);
    snprintf(path, sizeof path, "%s/expert_0001.npy", dir_a);
    ck_assert_int_eq(subsel_dense_load_npy(ctx, path, &ta), SUBSEL_OK);
    snprintf(path, sizeof path, "%s/expert_0001.npy", dir_b);
    ck_assert_int_eq(subsel_dense_load_npy(ctx, path, &tb), SUBSEL_OK);
    count = subsel_dense_rows(ta) * subsel_dense_cols(ta);
    ck_assert_int_eq(subsel_dense_rows(ta), 4); /* 3 epochs and the start */
    ck_assert_int_eq(count, subsel_dense_rows(tb) * subsel_dense_cols(tb));
    ck_assert_msg(memcmp(subsel_dense_data(ta), subsel_dense_data(tb),
                         sizeof(float) * (size_t)count) == 0,
                  "the experts' trajectories depend on the handle's loss");
    ck_assert_msg(memcmp(subsel_dense_data(ta),
                         subsel_dense_data(ta) + subsel_dense_cols(ta),
                         sizeof(float) * (size_t)subsel_dense_cols(ta)) != 0,
                  "the expert did not move");
    subsel_dense_free(ta);
    subsel_dense_free(tb);
    subsel_lors_free(a);
    subsel_lors_free(b);
    subsel_dense_free(im);
    subsel_dense_free(tx);
    subsel_ctx_free(ctx);
}
END_TEST

/* Recall against brute force, with several texts per image. */
START_TEST(test_recall_brute_force)
{
    const int64_t e = 3, ni = 9, nt = 20;
    subsel_ctx *ctx = ctx_threads(1);
    ss_rng rng;
    double *im, *tx, got[3];
    int64_t owner[20], i, j, k, t;
    static const int64_t ks[3] = {1, 5, 10};
    ss_rng_seed(&rng, 9, 1);
    im = normals(&rng, 1.0, ni * e);
    tx = normals(&rng, 1.0, nt * e);
    for (t = 0; t < nt; t++)
        owner[t] = t < ni ? t : (int64_t)ss_rng_below(&rng, ni);
    /* text to image */
    ck_assert_int_eq(ss_lors_recall(ctx, e, tx, nt, im, ni, NULL, owner, got),
                     SUBSEL_OK);
    for (k = 0; k < 3; k++) {
        int64_t hits = 0;
        for (t = 0; t < nt; t++) {
            double own = 0.0;
            int64_t above = 0;
            for (j = 0; j < e; j++)
                own += tx[t * e + j] * im[owner[t] * e + j];
            for (i = 0; i < ni; i++) {
                double sc = 0.0;
                for (j = 0; j < e; j++)
                    sc += tx[t * e + j] * im[i * e + j];
                above += sc > own;
            }
            hits += above < ks[k];
        }
        ck_assert_double_eq_tol(got[k], (double)hits / nt, 1e-15);
    }
    /* image to text: a hit when any of its texts ranks high enough */
    ck_assert_int_eq(ss_lors_recall(ctx, e, im, ni, tx, nt, owner, NULL, got),
                     SUBSEL_OK);
    for (k = 0; k < 3; k++) {
        int64_t hits = 0;
        for (i = 0; i < ni; i++) {
            int hit = 0;
            for (t = 0; t < nt; t++) {
                double own = 0.0;
                int64_t above = 0, u;
                if (owner[t] != i)
                    continue;
                for (j = 0; j < e; j++)
                    own += im[i * e + j] * tx[t * e + j];
                for (u = 0; u < nt; u++) {
                    double sc = 0.0;
                    for (j = 0; j < e; j++)
                        sc += im[i * e + j] * tx[u * e + j];
                    above += sc > own;
                }
                hit |= above < ks[k];
            }
            hits += hit;
        }
        ck_assert_double_eq_tol(got[k], (double)hits / ni, 1e-15);
    }
    free(im);
    free(tx);
    subsel_ctx_free(ctx);
}
END_TEST

/* The baselines against brute-force statements of their rules. */
START_TEST(test_baselines)
{
    const int64_t di = 4, dt = 3, n = 40, count = 7, d = di + dt;
    subsel_ctx *ctx = ctx_threads(1);
    subsel_dense *im, *tx;
    subsel_lors *l = NULL;
    int64_t idx[7], i, j, k, c;
    double f[40 * 7], mean[7] = {0}, sum[7] = {0};
    unsigned char seen[40];
    paired_rows(11, n, di, dt, ctx, &im, &tx);
    ck_assert_int_eq(subsel_lors_create(ctx, di, dt, &l), SUBSEL_OK);
    for (i = 0; i < n; i++) {
        const float *rows[2] = {subsel_dense_row(im, i),
                                subsel_dense_row(tx, i)};
        int64_t w[2] = {di, dt}, off = 0, s;
        for (s = 0; s < 2; s++) {
            double nn = 0.0;
            for (c = 0; c < w[s]; c++)
                nn += (double)rows[s][c] * rows[s][c];
            for (c = 0; c < w[s]; c++)
                f[i * d + off + c] = rows[s][c] / sqrt(nn);
            off += w[s];
        }
    }
    /* random: distinct, in range */
    ck_assert_int_eq(subsel_lors_baseline(ctx, l, SUBSEL_LORS_BASELINE_RANDOM,
                                          im, tx, count, idx),
                     SUBSEL_OK);
    memset(seen, 0, sizeof seen);
    for (k = 0; k < count; k++) {
        ck_assert(idx[k] >= 0 && idx[k] < n && !seen[idx[k]]);
        seen[idx[k]] = 1;
    }
    /* k-centre: each pick is the farthest from the chosen ones */
    ck_assert_int_eq(subsel_lors_baseline(ctx, l, SUBSEL_LORS_BASELINE_KCENTER,
                                          im, tx, count, idx),
                     SUBSEL_OK);
    for (k = 1; k < count; k++) {
        double best = -1.0, got = INFINITY;
        for (i = 0; i < n; i++) {
            double near = INFINITY;
            int chosen = 0;
            for (j = 0; j < k; j++) {
                double dd = 0.0;
                chosen |= idx[j] == i;
                for (c = 0; c < d; c++)
                    dd += (f[i * d + c] - f[idx[j] * d + c]) *
                          (f[i * d + c] - f[idx[j] * d + c]);
                near = fmin(near, dd);
            }
            if (!chosen)
                best = fmax(best, near);
            if (i == idx[k])
                got = near;
        }
        ck_assert_double_eq_tol(got, best, 1e-12);
    }
    /* herding: each pick brings the running mean closest to the mean */
    ck_assert_int_eq(subsel_lors_baseline(ctx, l, SUBSEL_LORS_BASELINE_HERDING,
                                          im, tx, count, idx),
                     SUBSEL_OK);
    for (i = 0; i < n; i++)
        for (c = 0; c < d; c++)
            mean[c] += f[i * d + c] / n;
    for (k = 0; k < count; k++) {
        double best = INFINITY, got = INFINITY;
        for (i = 0; i < n; i++) {
            double dd = 0.0;
            int chosen = 0;
            for (j = 0; j < k; j++)
                chosen |= idx[j] == i;
            if (chosen)
                continue;
            for (c = 0; c < d; c++) {
                double g = (sum[c] + f[i * d + c]) / (k + 1) - mean[c];
                dd += g * g;
            }
            best = fmin(best, dd);
            if (i == idx[k])
                got = dd;
        }
        ck_assert_double_eq_tol(got, best, 1e-12);
        for (c = 0; c < d; c++)
            sum[c] += f[idx[k] * d + c];
    }
    ck_assert_int_eq(subsel_lors_baseline(ctx, l, 7, im, tx, count, idx),
                     SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_lors_baseline(ctx, l, 0, im, tx, n + 1, idx),
                     SUBSEL_E_INVALID);
    subsel_lors_free(l);
    subsel_dense_free(im);
    subsel_dense_free(tx);
    subsel_ctx_free(ctx);
}
END_TEST

/* Evaluation learns the structure: towers trained on the real pairs
 * retrieve held-out pairs far above chance; the distilled set and a
 * similarity given as a matrix run; the recalls are ordered. */
START_TEST(test_evaluate)
{
    const int64_t di = 6, dt = 5;
    subsel_ctx *ctx = ctx_threads(1);
    subsel_dense *im, *tx, *ti, *tt;
    subsel_lors *l = small_lors(ctx, di, dt);
    double rec[SUBSEL_LORS_RECALLS];
    float *sim;
    int64_t k, text_image[30];
    paired_rows(21, 200, di, dt, ctx, &im, &tx);
    paired_rows(22, 30, di, dt, ctx, &ti, &tt);
    ck_assert_int_eq(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_EVAL_EPOCHS,
                                          30),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_LOSS,
                                          SUBSEL_LORS_LOSS_INFONCE),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_evaluate(ctx, l, im, tx, NULL, 0.0, 0.0, ti,
                                          tt, NULL, rec),
                     SUBSEL_OK);
    for (k = 0; k < 2; k++) {
        ck_assert(rec[3 * k] <= rec[3 * k + 1] &&
                  rec[3 * k + 1] <= rec[3 * k + 2] && rec[3 * k + 2] <= 1.0);
    }
    /* chance at 1 is 1/30; the shared latent makes it far easier */
    ck_assert_msg(rec[SUBSEL_LORS_IR1] > 0.3 && rec[SUBSEL_LORS_TR1] > 0.3,
                  "R@1 %.3f / %.3f", rec[SUBSEL_LORS_IR1],
                  rec[SUBSEL_LORS_TR1]);
    /* no distilled set yet */
    ck_assert_int_eq(subsel_lors_evaluate(ctx, l, NULL, NULL, NULL, 0, 0, ti,
                                          tt, NULL, rec),
                     SUBSEL_E_STATE);
    /* a similarity matrix of the training pairs, and text_image checks */
    sim = calloc(200 * 200, sizeof *sim);
    ck_assert(sim != NULL);
    for (k = 0; k < 200; k++)
        sim[k * 200 + k] = 1.0f;
    ck_assert_int_eq(subsel_lors_evaluate(ctx, l, im, tx, sim, 0.0, 0.0, ti,
                                          tt, NULL, rec),
                     SUBSEL_OK);
    for (k = 0; k < 30; k++)
        text_image[k] = k;
    text_image[29] = 30;
    ck_assert_int_eq(subsel_lors_evaluate(ctx, l, im, tx, NULL, 0.0, 0.0, ti,
                                          tt, text_image, rec),
                     SUBSEL_E_INVALID);
    text_image[29] = 28; /* image 29 then has no text */
    ck_assert_int_eq(subsel_lors_evaluate(ctx, l, im, tx, NULL, 0.0, 0.0, ti,
                                          tt, text_image, rec),
                     SUBSEL_E_INVALID);
    free(sim);
    subsel_lors_free(l);
    subsel_dense_free(im);
    subsel_dense_free(tx);
    subsel_dense_free(ti);
    subsel_dense_free(tt);
    subsel_ctx_free(ctx);
}
END_TEST

/* Bad input: clear statuses, nothing half-built. */
START_TEST(test_errors)
{
    const int64_t di = 6, dt = 5;
    subsel_ctx *ctx = ctx_threads(1);
    subsel_dense *im, *tx, *other;
    subsel_lors *l = NULL, *m = NULL;
    char buf[4096];
    float f[12];
    ck_assert_int_eq(subsel_lors_create(ctx, 0, 5, &l), SUBSEL_E_INVALID);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(subsel_lors_create(NULL, 6, 5, &l), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_lors_create(ctx, 6, 5, NULL), SUBSEL_E_INVALID);
    subsel_lors_free(NULL);
    snprintf(buf, sizeof buf, "%s", temp_folder("lors_err_buffer"));
    l = small_lors(ctx, di, dt);
    paired_rows(1, 30, di, dt, ctx, &im, &tx);
    memset(f, 0, sizeof f);
    ck_assert_int_eq(subsel_dense_create(ctx, 2, 6, f, SUBSEL_OWN_COPY,
                                         &other),
                     SUBSEL_OK);
    /* rows differ; columns differ */
    ck_assert_int_eq(subsel_lors_buffer(ctx, l, other, tx, buf, NULL),
                     SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_lors_buffer(ctx, l, tx, tx, buf, NULL),
                     SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_lors_buffer(ctx, l, im, tx, NULL, NULL),
                     SUBSEL_E_INVALID);
    /* nothing distilled yet */
    ck_assert_int_eq(subsel_lors_synthetic(ctx, l, f, NULL), SUBSEL_E_STATE);
    ck_assert_int_eq(subsel_lors_save(ctx, l, temp_folder("lors_err_save")),
                     SUBSEL_E_STATE);
    /* no buffer there; then a buffer of other towers */
    ck_assert_int_eq(subsel_lors_distill(ctx, l, im, tx,
                                         temp_folder("lors_err_none"), 1,
                                         NULL),
                     SUBSEL_E_IO);
    ck_assert_int_eq(subsel_lors_buffer(ctx, l, im, tx, buf, NULL), SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_create(ctx, di, dt, &m), SUBSEL_OK);
    ck_assert_int_eq(subsel_param_set_int(ctx, m, SUBSEL_P_LORS_EMBED_DIM, 9),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_param_set_int(ctx, m, SUBSEL_P_LORS_PAIRS, 12),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_distill(ctx, m, im, tx, buf, 1, NULL),
                     SUBSEL_E_FORMAT);
    ck_assert_int_eq(subsel_lors_iterations(m), 0);
    /* too few real pairs for the synthetic set */
    ck_assert_int_eq(subsel_param_set_int(ctx, m, SUBSEL_P_LORS_EMBED_DIM, 8),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_param_set_int(ctx, m, SUBSEL_P_LORS_PAIRS, 31),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_distill(ctx, m, im, tx, buf, 1, NULL),
                     SUBSEL_E_INVALID);
    /* expert_epochs beyond the trajectories */
    ck_assert_int_eq(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_EXPERT_EPOCHS,
                                          4),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_distill(ctx, l, im, tx, buf, 1, NULL),
                     SUBSEL_E_FORMAT);
    ck_assert_int_eq(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_EXPERT_EPOCHS,
                                          1),
                     SUBSEL_OK);
    ck_assert_int_eq(subsel_lors_distill(ctx, l, im, tx, buf, -1, NULL),
                     SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_lors_distill(ctx, l, im, tx, buf, 1, NULL),
                     SUBSEL_OK);
    /* fixed once started */
    ck_assert_int_eq(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_PAIRS, 5),
                     SUBSEL_E_STATE);
    ck_assert_int_eq(subsel_param_set_real(ctx, l, SUBSEL_P_LORS_LR_SIM, 2.0),
                     SUBSEL_OK);
    /* a folder that is no saved set */
    {
        subsel_lors *none = l;
        ck_assert_int_eq(subsel_lors_load(ctx, buf, &none), SUBSEL_E_FORMAT);
        ck_assert_ptr_null(none);
    }
    /* a diverging distillation stops; when at its first iteration, with
     * the set exactly as it was */
    {
        float before[12 * 6], after[12 * 6];
        int64_t it = subsel_lors_iterations(l);
        ck_assert_int_eq(subsel_lors_synthetic(ctx, l, before, NULL),
                         SUBSEL_OK);
        ck_assert_int_eq(subsel_param_set_real(ctx, l,
                                               SUBSEL_P_LORS_LR_IMAGE, 1e308),
                         SUBSEL_OK);
        ck_assert_int_eq(subsel_lors_distill(ctx, l, NULL, NULL, buf, 3, NULL),
                         SUBSEL_E_NUMERIC);
        ck_assert_int_eq(subsel_lors_synthetic(ctx, l, after, NULL),
                         SUBSEL_OK);
        if (subsel_lors_iterations(l) == it)
            ck_assert(memcmp(before, after, sizeof before) == 0);
    }
    subsel_lors_free(l);
    subsel_lors_free(m);
    subsel_dense_free(im);
    subsel_dense_free(tx);
    subsel_dense_free(other);
    subsel_ctx_free(ctx);
}
END_TEST

/* Every allocation of a whole cycle failing in turn: each failure is
 * SUBSEL_E_NOMEM with nothing leaked and nothing half-built. */
typedef struct sweep_data {
    subsel_dense *im, *tx;
    char buf[4096], saved[4096];
} sweep_data;

static int sweep_cycle(subsel_ctx *ctx, void *arg, int64_t n)
{
    sweep_data *d = arg;
    subsel_lors *l = NULL, *r = NULL;
    double rec[SUBSEL_LORS_RECALLS];
    float sim[12 * 12];
    int64_t idx[5];
    int rc;
    (void)n;
    rc = subsel_lors_create(ctx, 6, 5, &l);
    if (rc != SUBSEL_OK)
        return rc;
    subsel_param_set_int(ctx, l, SUBSEL_P_LORS_EMBED_DIM, 4);
    subsel_param_set_int(ctx, l, SUBSEL_P_LORS_PAIRS, 12);
    subsel_param_set_int(ctx, l, SUBSEL_P_LORS_SYN_STEPS, 2);
    subsel_param_set_int(ctx, l, SUBSEL_P_LORS_BATCH, 4);
    subsel_param_set_int(ctx, l, SUBSEL_P_LORS_EXPERTS, 1);
    subsel_param_set_int(ctx, l, SUBSEL_P_LORS_BUFFER_EPOCHS, 2);
    subsel_param_set_int(ctx, l, SUBSEL_P_LORS_EVAL_EPOCHS, 2);
    subsel_param_set_real(ctx, l, SUBSEL_P_LORS_LR_IMAGE, 0.01);
    subsel_param_set_real(ctx, l, SUBSEL_P_LORS_LR_TEXT, 0.01);
    if ((rc = subsel_lors_buffer(ctx, l, d->im, d->tx, d->buf, NULL)) ||
        (rc = subsel_lors_distill(ctx, l, d->im, d->tx, d->buf, 2, NULL)) ||
        (rc = subsel_lors_similarity(ctx, l, sim)) ||
        (rc = subsel_lors_save(ctx, l, d->saved)) ||
        (rc = subsel_lors_load(ctx, d->saved, &r)) ||
        (rc = subsel_lors_distill(ctx, r, NULL, NULL, d->buf, 1, NULL)) ||
        (rc = subsel_lors_evaluate(ctx, r, NULL, NULL, NULL, 0, 0, d->im,
                                   d->tx, NULL, rec)) ||
        (rc = subsel_lors_evaluate(ctx, r, d->im, d->tx, NULL, 0, 0, d->im,
                                   d->tx, NULL, rec)) ||
        (rc = subsel_lors_baseline(ctx, r, SUBSEL_LORS_BASELINE_KCENTER,
                                   d->im, d->tx, 5, idx)) ||
        (rc = subsel_lors_baseline(ctx, r, SUBSEL_LORS_BASELINE_HERDING,
                                   d->im, d->tx, 5, idx)) ||
        (rc = subsel_lors_baseline(ctx, r, SUBSEL_LORS_BASELINE_RANDOM, d->im,
                                   d->tx, 5, idx))) {
        /* the first failure ends the cycle */
    }
    subsel_lors_free(l);
    subsel_lors_free(r);
    return rc;
}

START_TEST(test_allocation_failures)
{
    subsel_ctx *ctx = ctx_threads(1);
    sweep_data d;
    paired_rows(4, 30, 6, 5, ctx, &d.im, &d.tx);
    snprintf(d.buf, sizeof d.buf, "%s", temp_folder("lors_sweep_buffer"));
    snprintf(d.saved, sizeof d.saved, "%s", temp_folder("lors_sweep_saved"));
    ck_assert_int_gt(alloc_sweep("LoRS cycle", sweep_cycle, NULL, &d), 20);
    subsel_dense_free(d.im);
    subsel_dense_free(d.tx);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *lors_suite(void)
{
    Suite *s = suite_create("lors");
    TCase *tc = tcase_create("model");
    tcase_add_loop_test(tc, test_model_gradients, 0, N_MODEL_CASES);
    tcase_add_loop_test(tc, test_model_tangents, 0, N_MODEL_CASES);
    suite_add_tcase(s, tc);
    tc = tcase_create("unroll");
    tcase_add_loop_test(tc, test_unroll_matches_pytorch, 0,
                        (int)(sizeof fixture_cases / sizeof fixture_cases[0]));
    tcase_add_loop_test(tc, test_unroll_directional_fd, 0, 2);
    tcase_add_loop_test(tc, test_unroll_span_matches_dense, 0,
                        (int)(sizeof fixture_cases / sizeof fixture_cases[0]));
    tcase_add_test(tc, test_unroll_tiny_step_sizes);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_distill_resume_threads);
    tcase_add_test(tc, test_buffer_infonce);
    tcase_add_test(tc, test_recall_brute_force);
    tcase_add_test(tc, test_baselines);
    tcase_add_test(tc, test_evaluate);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}
