/* SPDX-License-Identifier: MIT */
/*
 * The gradient of trajectory matching through T unrolled student steps
 * (LoRS Algorithm 1, MTT): exact, by reverse mode over the stored student
 * parameters. For theta_{k+1} = theta_k - eta (.) g_k(theta_k, D_k), with
 * lambda_{k+1} = dL/dtheta_{k+1} and v = eta (.) lambda_{k+1}:
 *   dL/dtheta_k = lambda_{k+1} - H_k v
 *   dL/dD_k    -= d/dD <g_k, v>
 *   dL/deta_g  -= <g_k, lambda_{k+1}> over group g's parameters
 * and one tangent pass of the model along v (lors.h) gives H_k v and
 * d/dD <g_k, v> together. Memory: T + 1 parameter vectors and T model
 * works: each step's forward pass is kept from the forward sweep, so the
 * reverse sweep computes only its tangents (a quarter of the products),
 * and g_k in <g_k, lambda_{k+1}> is (theta_k - theta_{k+1}) / eta, so it
 * skips the products that form the plain gradient (another sixth).
 *
 * When the synthetic set has fewer rows than a tower's inputs, that
 * tower's first weight matrix runs in span coordinates (span.c): the
 * states and lambda keep its e x n coefficients in the first doubles of
 * its block (the rest of the block is not used), and its products shrink
 * by d / n.
 *
 * The loops over all P parameters move several megabytes per step and
 * run on the context's threads, in fixed blocks: their sums add the
 * blocks' partial sums in block order, so no result depends on the thread
 * count. (TESLA's constant-memory scheme,
 * as the authors' code runs it, leaves out the terms through theta_k's
 * dependence on earlier steps, so it is not used here; docs/lors.md.)
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "lors/lors.h"

/* Parameters per block of the P-length loops. */
#define PBLOCK 8192

/* The work's parts, carved in this order. */
typedef struct unroll_parts {
    double *states;          /* (steps + 1) x P */
    double *lambda, *v, *grad, *grad_dot; /* P each */
    double *bx, *by, *gbx, *gby; /* batch x image.in, batch x text.in */
    double *block, *gblock;      /* batch x batch */
    double *model;               /* steps x ss_model_work_size */
    double *partial;             /* two per block of PBLOCK parameters */
    double *span[2];             /* each tower's ss_span, when in span mode */
} unroll_parts;

/* Doubles of each part, in carving order. */
enum { PART_STATES, PART_VECTORS, PART_X, PART_Y, PART_BLOCK, PART_MODEL,
       PART_PARTIAL, PART_SPAN_IMAGE, PART_SPAN_TEXT, PARTS };

/* Tower t's first Linear (0 image, 1 text) in span coordinates (span.c):
 * when the set has fewer rows than the tower's inputs. */
static int span_on(const ss_unroll *u, int t)
{
    const ss_tower *tw = t ? &u->model->text : &u->model->image;
    return u->span != SS_SPAN_OFF && u->sim->n < tw->in;
}

static int64_t blocks_of(int64_t n)
{
    return (n + PBLOCK - 1) / PBLOCK;
}

static void part_sizes(const ss_unroll *u, int64_t sizes[PARTS])
{
    const ss_model *m = u->model;
    int64_t P = m->params, b = u->batch;
    sizes[PART_STATES] = (u->steps + 1) * P;
    sizes[PART_VECTORS] = 4 * P; /* lambda, v, grad, grad_dot */
    sizes[PART_X] = 2 * b * m->image.in;
    sizes[PART_Y] = 2 * b * m->text.in;
    sizes[PART_BLOCK] = 2 * b * b;
    sizes[PART_MODEL] = u->steps * ss_model_work_size(m, b);
    sizes[PART_PARTIAL] = 2 * blocks_of(P);
    sizes[PART_SPAN_IMAGE] = span_on(u, 0) ? ss_span_work_size(m->image.out, m->image.in,
                                                               u->sim->n, b)
                                           : 0;
    sizes[PART_SPAN_TEXT] = span_on(u, 1) ? ss_span_work_size(m->text.out, m->text.in,
                                                              u->sim->n, b)
                                          : 0;
}

static void carve(const ss_unroll *u, double *w, unroll_parts *p)
{
    const ss_model *m = u->model;
    int64_t sizes[PARTS], P = m->params, b = u->batch;
    part_sizes(u, sizes);
    p->states = w;
    w += sizes[PART_STATES];
    p->lambda = w;
    p->v = w + P;
    p->grad = w + 2 * P;
    p->grad_dot = w + 3 * P;
    w += sizes[PART_VECTORS];
    p->bx = w;
    p->gbx = w + b * m->image.in;
    w += sizes[PART_X];
    p->by = w;
    p->gby = w + b * m->text.in;
    w += sizes[PART_Y];
    p->block = w;
    p->gblock = w + b * b;
    w += sizes[PART_BLOCK];
    p->model = w;
    w += sizes[PART_MODEL];
    p->partial = w;
    w += sizes[PART_PARTIAL];
    p->span[0] = w;
    p->span[1] = w + sizes[PART_SPAN_IMAGE];
}

int64_t ss_unroll_work_size(const ss_unroll *u)
{
    int64_t sizes[PARTS], total = 0;
    int i;
    part_sizes(u, sizes);
    for (i = 0; i < PARTS; i++)
        total += sizes[i];
    return total;
}

/* Step k's minibatch: its rows of x and y (not for a tower in span mode,
 * span[t] non-zero, which reads its rows through span.c), and its block of
 * S~. */
static void gather(const ss_unroll *u, int64_t k, const int span[2],
                   unroll_parts *p)
{
    const int64_t *idx = u->batches + k * u->batch;
    int64_t di = u->model->image.in, dt = u->model->text.in, i;
    for (i = 0; i < u->batch; i++) {
        if (!span[0])
            memcpy(p->bx + i * di, u->x + idx[i] * di, sizeof(double) * (size_t)di);
        if (!span[1])
            memcpy(p->by + i * dt, u->y + idx[i] * dt, sizeof(double) * (size_t)dt);
    }
    ss_sim_block(u->sim, u->sim_params, u->batch, idx, p->block);
}

/* The parameters in runs of one SGD group each, as ss_model_group_runs
 * gives them, except that a tower in span mode has its first weight
 * matrix's block cut to the coefficients kept there (coef: e x n at its
 * start; the rest of the block is not used). */
typedef struct run {
    int64_t lo, hi;
    int group, coef;
} run;
#define MAX_RUNS (SS_GROUP_RUNS + 2)

static int make_runs(const ss_unroll *u, run *runs)
{
    const ss_model *m = u->model;
    ss_group_run g[SS_GROUP_RUNS];
    int r, count = 0;
    ss_model_group_runs(m, g);
    for (r = 0; r < SS_GROUP_RUNS; r++) {
        /* runs 0 and 1 are the image and the text tower */
        if (r < 2 && span_on(u, r)) {
            const ss_tower *tw = r ? &m->text : &m->image;
            runs[count++] = (run){g[r].lo, g[r].lo + tw->out * u->sim->n, g[r].group, 1};
            runs[count++] = (run){g[r].lo + tw->out * tw->in, g[r].hi, g[r].group, 0};
        } else {
            runs[count++] = (run){g[r].lo, g[r].hi, g[r].group, 0};
        }
    }
    return count;
}

/* The P-length loops visit the runs in blocks of PBLOCK, in parallel. */

/* next = th - eta[group] * grad */
static void step_forward(int threads, const run *runs, int nruns,
                         const double *eta, const double *th,
                         const double *grad, double *next)
{
    int r;
    for (r = 0; r < nruns; r++) {
        const double e = eta[runs[r].group];
        int64_t i;
#pragma omp parallel for num_threads(threads) schedule(static, PBLOCK)
        for (i = runs[r].lo; i < runs[r].hi; i++)
            next[i] = th[i] - e * grad[i];
    }
}

/* The sum of the blocks' partial sums, in block order. */
static double sum_blocks(const double *partial, int64_t n)
{
    double total = 0.0;
    int64_t blk;
    for (blk = 0; blk < blocks_of(n); blk++)
        total += partial[blk];
    return total;
}

/* ||a - c||^2 over n entries */
static double distance2(int threads, const double *a, const double *c,
                        int64_t n, double *partial)
{
    int64_t blk;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (blk = 0; blk < blocks_of(n); blk++) {
        int64_t i, end = (blk + 1) * PBLOCK < n ? (blk + 1) * PBLOCK : n;
        double acc = 0.0;
        for (i = blk * PBLOCK; i < end; i++)
            acc += (a[i] - c[i]) * (a[i] - c[i]);
        partial[blk] = acc;
    }
    return sum_blocks(partial, n);
}

/* One reverse step's parameter update, after the tangent pass: dots[g] =
 * <g_k, lambda> over group g (not over coefficient runs, whose share the
 * caller adds), lambda -= grad_dot, and then (next_v non-zero) v = eta
 * (.) lambda for the step before; one pass.
 *
 * g_k is grad when given. Else it is read off the step the forward sweep
 * took, (th - th_next) / eta, which skips the products that form grad: the
 * same up to the rounding of th_next, at most 2^-53 |th_next| per entry,
 * so at most 2^-53 sum |lambda| |th_next| / |eta| in the dot. Returns 0
 * when that bound exceeds DOT_TOLERANCE |dot| in a group (a step size so
 * small that the step drowns in the rounding of theta): the caller then
 * forms grad and calls again with lambda restored. */
#define DOT_TOLERANCE 1e-9
static int step_reverse(int threads, const run *runs, int nruns,
                        const double *eta, const double *grad,
                        const double *th, const double *th_next,
                        const double *grad_dot, double *lambda, double *v,
                        int next_v, double *partial, double *dots)
{
    int r, ok = 1;
    dots[0] = dots[1] = 0.0;
    for (r = 0; r < nruns; r++) {
        const int64_t lo = runs[r].lo, n = runs[r].hi - runs[r].lo;
        const int64_t nb = blocks_of(n);
        const int with_dot = !runs[r].coef;
        const double e = eta[runs[r].group];
        double dot, bound;
        int64_t blk;
#pragma omp parallel for num_threads(threads) schedule(static)
        for (blk = 0; blk < nb; blk++) {
            int64_t i, end = lo + ((blk + 1) * PBLOCK < n ? (blk + 1) * PBLOCK : n);
            double d = 0.0, rounding = 0.0;
            for (i = lo + blk * PBLOCK; i < end; i++) {
                if (with_dot && grad) {
                    d += grad[i] * lambda[i];
                } else if (with_dot) {
                    d += (th[i] - th_next[i]) * lambda[i];
                    rounding += fabs(lambda[i] * th_next[i]);
                }
                lambda[i] -= grad_dot[i];
                if (next_v)
                    v[i] = e * lambda[i];
            }
            partial[blk] = d;
            partial[nb + blk] = rounding;
        }
        if (!with_dot)
            continue;
        dot = sum_blocks(partial, n);
        if (!grad) {
            bound = 0x1p-53 * sum_blocks(partial + nb, n) / fabs(e);
            dot /= e;
            if (!(bound <= DOT_TOLERANCE * fabs(dot)))
                ok = 0;
        }
        dots[runs[r].group] += dot;
    }
    return ok;
}

/* Undoes step_reverse's update of lambda (up to rounding), for a call
 * again with grad formed. */
static void lambda_restore(int threads, const run *runs, int nruns,
                           double *lambda, const double *grad_dot)
{
    int r;
    for (r = 0; r < nruns; r++) {
        int64_t i;
#pragma omp parallel for num_threads(threads) schedule(static, PBLOCK)
        for (i = runs[r].lo; i < runs[r].hi; i++)
            lambda[i] += grad_dot[i];
    }
}

/* v = eta (.) lambda, lambda = 2 (theta_T - theta_star) / dist0; zero on
 * coefficient runs (D_T = 0; their Lambda is the span's dense block) */
static void reverse_start(int threads, const run *runs, int nruns,
                          const double *eta, const double *theta_end,
                          const double *theta_star, double dist0,
                          double *lambda, double *v)
{
    int r;
    for (r = 0; r < nruns; r++) {
        const double e = eta[runs[r].group];
        const int coef = runs[r].coef;
        int64_t i;
#pragma omp parallel for num_threads(threads) schedule(static, PBLOCK)
        for (i = runs[r].lo; i < runs[r].hi; i++) {
            lambda[i] = coef ? 0.0 : 2.0 * (theta_end[i] - theta_star[i]) / dist0;
            v[i] = e * lambda[i];
        }
    }
}

/* Where tower t's block (0 image, 1 text) starts in theta. */
static int64_t tower_start(const ss_model *m, int t)
{
    return t ? m->image_params : 0;
}

double ss_unroll_grad(const subsel_ctx *ctx, const ss_unroll *u, double *gx,
                      double *gy, double *gsim, double *geta,
                      double *step_loss, double *theta_end, double *work)
{
    const ss_model *m = u->model;
    const int64_t P = m->params, T = u->steps, b = u->batch;
    const int64_t mws = ss_model_work_size(m, b);
    const int threads = ss_threads_for(ctx, blocks_of(P));
    /* the reverse sweep reads each step's gradient off the stored states
     * when both step sizes are non-zero */
    const int grad_from_steps = u->eta[0] != 0.0 && u->eta[1] != 0.0;
    const ss_tower *towers[2] = {&m->image, &m->text};
    const double *data[2] = {u->x, u->y};
    double *gdata[2] = {gx, gy};
    unroll_parts p;
    run runs[MAX_RUNS];
    int nruns, t, on[2], span_threads;
    ss_span sp[2];
    ss_span_layer layer[2];
    double dist0, dist, loss, dots[2];
    int64_t k, i, c;

    carve(u, work, &p);
    nruns = make_runs(u, runs);
    for (t = 0; t < 2; t++) {
        on[t] = span_on(u, t);
        if (on[t])
            ss_span_carve(&sp[t], towers[t]->out, towers[t]->in, u->sim->n, b,
                          data[t], p.span[t]);
    }
    /* the span towers' own work, one tower per thread (their products are
     * serial inside: ss_dgemm_det's blocks do not depend on the threads) */
    span_threads = on[0] && on[1] && threads > 1 ? 2 : 1;
#pragma omp parallel for num_threads(span_threads) schedule(static)
    for (t = 0; t < 2; t++)
        if (on[t])
            ss_span_begin(ctx, &sp[t], u->theta0 + tower_start(m, t));

    /* forward: the student's trajectory, each step's forward pass kept in
     * its own model work; a span tower's first weights kept as C_k */
    memcpy(p.states, u->theta0, sizeof(double) * (size_t)P);
    for (t = 0; t < 2; t++)
        if (on[t])
            memset(p.states + tower_start(m, t), 0,
                   sizeof(double) * (size_t)(sp[t].e * sp[t].n));
    for (k = 0; k < T; k++) {
        const int64_t *idx = u->batches + k * b;
        const double *th = p.states + k * P;
        ss_model_work mw;
        double l;
        ss_model_work_carve(m, b, p.model + k * mws, &mw);
        gather(u, k, on, &p);
#pragma omp parallel for num_threads(span_threads) schedule(static)
        for (t = 0; t < 2; t++) {
            if (!on[t])
                continue;
            ss_span_forward(ctx, &sp[t], idx, th + tower_start(m, t));
            layer[t] = (ss_span_layer){sp[t].xw, NULL, sp[t].dp, NULL};
            mw.span[t] = &layer[t];
        }
        l = ss_model_loss(ctx, m, th, NULL, b, p.bx, p.by, p.block, p.grad,
                          NULL, NULL, NULL, NULL, NULL, NULL, NULL, &mw);
        if (step_loss)
            step_loss[k] = l;
#pragma omp parallel for num_threads(span_threads) schedule(static)
        for (t = 0; t < 2; t++)
            if (on[t])
                ss_span_scatter(&sp[t], idx, sp[t].dp, p.grad + tower_start(m, t));
        step_forward(threads, runs, nruns, u->eta, th, p.grad,
                     p.states + (k + 1) * P);
    }

    /* the loss, over the dense parameters: a span tower's W_T formed */
    dist0 = distance2(threads, u->theta0, u->theta_star, P, p.partial);
    dist = 0.0;
    for (c = 0; c < nruns; c++)
        if (!runs[c].coef)
            dist += distance2(threads, p.states + T * P + runs[c].lo,
                              u->theta_star + runs[c].lo, runs[c].hi - runs[c].lo,
                              p.partial);
    for (t = 0; t < 2; t++)
        if (on[t]) {
            const int64_t at = tower_start(m, t);
            ss_span_dense(ctx, &sp[t], u->theta0 + at, p.states + T * P + at,
                          sp[t].dense);
            dist += distance2(threads, sp[t].dense, u->theta_star + at,
                              sp[t].e * sp[t].d, p.partial);
        }
    loss = dist / dist0;
    if (theta_end) {
        /* the runs and a span tower's dense W cover every parameter; the
         * rest of a span tower's W block in the states was never written */
        for (c = 0; c < nruns; c++)
            if (!runs[c].coef)
                memcpy(theta_end + runs[c].lo, p.states + T * P + runs[c].lo,
                       sizeof(double) * (size_t)(runs[c].hi - runs[c].lo));
        for (t = 0; t < 2; t++)
            if (on[t])
                memcpy(theta_end + tower_start(m, t), sp[t].dense,
                       sizeof(double) * (size_t)(sp[t].e * sp[t].d));
    }

    /* reverse: lambda = dL/dtheta_T, then back through each step; a span
     * tower's Lambda, dense, in its span, and D_k in lambda */
    memset(gsim, 0, sizeof(double) * (size_t)ss_sim_params(u->sim));
    geta[0] = geta[1] = 0.0;
    reverse_start(threads, runs, nruns, u->eta, p.states + T * P, u->theta_star,
                  dist0, p.lambda, p.v);
#pragma omp parallel for num_threads(span_threads) schedule(static)
    for (t = 0; t < 2; t++)
        if (on[t]) {
            const double *star = u->theta_star + tower_start(m, t);
            int64_t j;
            for (j = 0; j < sp[t].e * sp[t].d; j++)
                sp[t].dense[j] = 2.0 * (sp[t].dense[j] - star[j]) / dist0;
            ss_span_reverse_begin(ctx, &sp[t]);
        }
    for (k = T - 1; k >= 0; k--) {
        const int64_t *idx = u->batches + k * b;
        const double *th = p.states + k * P;
        double span_dot[2] = {0.0, 0.0};
        ss_model_work mw;
        ss_model_work_carve(m, b, p.model + k * mws, &mw);
        mw.forward_kept = 1;
        gather(u, k, on, &p);
#pragma omp parallel for num_threads(span_threads) schedule(static)
        for (t = 0; t < 2; t++) {
            if (!on[t])
                continue;
            ss_span_tangent(ctx, &sp[t], idx, p.lambda + tower_start(m, t),
                            u->eta[t]);
            layer[t] = (ss_span_layer){NULL, sp[t].xw_dot, sp[t].dp, sp[t].dp_dot};
            mw.span[t] = &layer[t];
        }
        ss_model_loss(ctx, m, th, p.v, b, p.bx, p.by, p.block,
                      grad_from_steps ? NULL : p.grad, p.grad_dot, NULL, p.gbx,
                      NULL, p.gby, NULL,
                      u->sim->kind == SS_SIM_IDENTITY ? NULL : p.gblock, &mw);
#pragma omp parallel for num_threads(span_threads) schedule(static)
        for (t = 0; t < 2; t++) {
            if (!on[t])
                continue;
            /* with D_{k+1}, before lambda moves on */
            span_dot[t] = ss_span_accumulate(ctx, &sp[t], idx, th + tower_start(m, t),
                                             p.lambda + tower_start(m, t), u->eta[t]);
            ss_span_scatter(&sp[t], idx, sp[t].dp_dot, p.grad_dot + tower_start(m, t));
        }
        if (!step_reverse(threads, runs, nruns, u->eta,
                          grad_from_steps ? NULL : p.grad, th, p.states + (k + 1) * P,
                          p.grad_dot, p.lambda, p.v, k > 0, p.partial, dots)) {
            /* the step is lost in theta's rounding: form the gradient (a
             * plain pass; v has moved on, grad_dot stays) */
            lambda_restore(threads, runs, nruns, p.lambda, p.grad_dot);
            for (t = 0; t < 2; t++)
                if (on[t]) {
                    ss_span_forward(ctx, &sp[t], idx, th + tower_start(m, t));
                    layer[t] = (ss_span_layer){sp[t].xw, NULL, sp[t].dp, NULL};
                }
            mw.forward_kept = 0;
            ss_model_loss(ctx, m, th, NULL, b, p.bx, p.by, p.block, p.grad, NULL,
                          NULL, NULL, NULL, NULL, NULL, NULL, &mw);
            step_reverse(threads, runs, nruns, u->eta, p.grad, NULL, NULL, p.grad_dot,
                         p.lambda, p.v, k > 0, p.partial, dots);
        }
        /* the image tower and s are group 0, the text tower group 1 */
        geta[0] -= dots[0] + span_dot[0];
        geta[1] -= dots[1] + span_dot[1];
        for (t = 0; t < 2; t++) {
            const int64_t in = towers[t]->in;
            const double *g = t ? p.gby : p.gbx;
            if (on[t])
                continue;
            for (i = 0; i < b; i++)
                for (c = 0; c < in; c++)
                    gdata[t][idx[i] * in + c] -= g[i * in + c];
        }
        if (u->sim->kind != SS_SIM_IDENTITY) {
            for (i = 0; i < b * b; i++)
                p.gblock[i] = -p.gblock[i];
            ss_sim_block_backward(u->sim, u->sim_params, b, idx, p.gblock,
                                  gsim);
        }
    }
#pragma omp parallel for num_threads(span_threads) schedule(static)
    for (t = 0; t < 2; t++)
        if (on[t])
            ss_span_finish(ctx, &sp[t], u->theta0 + tower_start(m, t), gdata[t]);
    return loss;
}
