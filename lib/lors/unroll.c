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
} unroll_parts;

/* Doubles of each part, in carving order. */
enum { PART_STATES, PART_VECTORS, PART_X, PART_Y, PART_BLOCK, PART_MODEL,
       PART_PARTIAL, PARTS };

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

/* Step k's minibatch: its rows of x and y, and its block of S~. */
static void gather(const ss_unroll *u, int64_t k, unroll_parts *p)
{
    const int64_t *idx = u->batches + k * u->batch;
    int64_t di = u->model->image.in, dt = u->model->text.in, i;
    for (i = 0; i < u->batch; i++) {
        memcpy(p->bx + i * di, u->x + idx[i] * di, sizeof(double) * (size_t)di);
        memcpy(p->by + i * dt, u->y + idx[i] * dt, sizeof(double) * (size_t)dt);
    }
    ss_sim_block(u->sim, u->sim_params, u->batch, idx, p->block);
}

/* The P-length loops. Each visits the parameters in blocks of PBLOCK, in
 * parallel, and runs [lo, hi) of one SGD group run at a time. */

/* next = th - eta[group] * grad */
static void step_forward(int threads, const ss_group_run *runs,
                         const double *eta, const double *th,
                         const double *grad, double *next, int64_t P)
{
    int64_t blk;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (blk = 0; blk < blocks_of(P); blk++) {
        int r;
        for (r = 0; r < SS_GROUP_RUNS; r++) {
            int64_t lo = runs[r].lo > blk * PBLOCK ? runs[r].lo : blk * PBLOCK;
            int64_t hi = runs[r].hi < (blk + 1) * PBLOCK ? runs[r].hi
                                                         : (blk + 1) * PBLOCK;
            double e = eta[runs[r].group];
            int64_t i;
            for (i = lo; i < hi; i++)
                next[i] = th[i] - e * grad[i];
        }
    }
}

/* The sum of the blocks' partial sums, in block order. */
static double sum_blocks(const double *partial, int64_t P)
{
    double total = 0.0;
    int64_t blk;
    for (blk = 0; blk < blocks_of(P); blk++)
        total += partial[blk];
    return total;
}

/* ||a - c||^2 */
static double distance2(int threads, const double *a, const double *c,
                        int64_t P, double *partial)
{
    int64_t blk;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (blk = 0; blk < blocks_of(P); blk++) {
        int64_t i, hi = (blk + 1) * PBLOCK < P ? (blk + 1) * PBLOCK : P;
        double acc = 0.0;
        for (i = blk * PBLOCK; i < hi; i++)
            acc += (a[i] - c[i]) * (a[i] - c[i]);
        partial[blk] = acc;
    }
    return sum_blocks(partial, P);
}

/* One reverse step's parameter update, after the tangent pass: dots[g] =
 * <g_k, lambda> over group g, lambda -= grad_dot, and then (next_v
 * non-zero) v = eta (.) lambda for the step before; one pass.
 *
 * g_k is grad when given. Else it is read off the step the forward sweep
 * took, (th - th_next) / eta, which skips the products that form grad: the
 * same up to the rounding of th_next, at most 2^-53 |th_next| per entry,
 * so at most 2^-53 sum |lambda| |th_next| / |eta| in the dot. Returns 0
 * when that bound exceeds DOT_TOLERANCE |dot| in a group (a step size so
 * small that the step drowns in the rounding of theta): the caller then
 * forms grad and calls again with lambda restored. */
#define DOT_TOLERANCE 1e-9
static int step_reverse(int threads, const ss_group_run *runs,
                        const double *eta, const double *grad,
                        const double *th, const double *th_next,
                        const double *grad_dot, double *lambda, double *v,
                        int next_v, double *partial, double *dots)
{
    int r, ok = 1;
    dots[0] = dots[1] = 0.0;
    for (r = 0; r < SS_GROUP_RUNS; r++) {
        const int64_t lo = runs[r].lo, n = runs[r].hi - runs[r].lo;
        const int64_t nb = blocks_of(n);
        const double e = eta[runs[r].group];
        double dot, bound;
        int64_t blk;
#pragma omp parallel for num_threads(threads) schedule(static)
        for (blk = 0; blk < nb; blk++) {
            int64_t i, end = lo + ((blk + 1) * PBLOCK < n ? (blk + 1) * PBLOCK : n);
            double d = 0.0, rounding = 0.0;
            for (i = lo + blk * PBLOCK; i < end; i++) {
                if (grad) {
                    d += grad[i] * lambda[i];
                } else {
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
static void lambda_restore(int threads, double *lambda, const double *grad_dot,
                           int64_t P)
{
    int64_t i;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (i = 0; i < P; i++)
        lambda[i] += grad_dot[i];
}

/* v = eta (.) lambda, lambda = 2 (theta_T - theta_star) / dist0 */
static void reverse_start(int threads, const ss_group_run *runs,
                          const double *eta, const double *theta_end,
                          const double *theta_star, double dist0,
                          double *lambda, double *v)
{
    int r;
    for (r = 0; r < SS_GROUP_RUNS; r++) {
        const double e = eta[runs[r].group];
        int64_t i;
#pragma omp parallel for num_threads(threads) schedule(static)
        for (i = runs[r].lo; i < runs[r].hi; i++) {
            lambda[i] = 2.0 * (theta_end[i] - theta_star[i]) / dist0;
            v[i] = e * lambda[i];
        }
    }
}

double ss_unroll_grad(const subsel_ctx *ctx, const ss_unroll *u, double *gx,
                      double *gy, double *gsim, double *geta,
                      double *step_loss, double *theta_end, double *work)
{
    const ss_model *m = u->model;
    const int64_t P = m->params, T = u->steps, b = u->batch;
    const int64_t di = m->image.in, dt = m->text.in;
    const int64_t mws = ss_model_work_size(m, b);
    const int threads = ss_threads_for(ctx, blocks_of(P));
    /* the reverse sweep reads each step's gradient off the stored states
     * when both step sizes are non-zero */
    const int grad_from_steps = u->eta[0] != 0.0 && u->eta[1] != 0.0;
    unroll_parts p;
    ss_group_run runs[SS_GROUP_RUNS];
    double dist0, loss, dots[2];
    int64_t k, i, c;

    carve(u, work, &p);
    ss_model_group_runs(m, runs);

    /* forward: the student's trajectory, each step's forward pass kept in
     * its own model work */
    memcpy(p.states, u->theta0, sizeof(double) * (size_t)P);
    for (k = 0; k < T; k++) {
        const double *th = p.states + k * P;
        ss_model_work mw;
        double l;
        ss_model_work_carve(m, b, p.model + k * mws, &mw);
        gather(u, k, &p);
        l = ss_model_loss(ctx, m, th, NULL, b, p.bx, p.by, p.block, p.grad,
                          NULL, NULL, NULL, NULL, NULL, NULL, NULL, &mw);
        if (step_loss)
            step_loss[k] = l;
        step_forward(threads, runs, u->eta, th, p.grad, p.states + (k + 1) * P,
                     P);
    }
    dist0 = distance2(threads, u->theta0, u->theta_star, P, p.partial);
    loss = distance2(threads, p.states + T * P, u->theta_star, P, p.partial) /
           dist0;
    if (theta_end)
        memcpy(theta_end, p.states + T * P, sizeof(double) * (size_t)P);

    /* reverse: lambda = dL/dtheta_T, then back through each step */
    memset(gsim, 0, sizeof(double) * (size_t)ss_sim_params(u->sim));
    geta[0] = geta[1] = 0.0;
    reverse_start(threads, runs, u->eta, p.states + T * P, u->theta_star,
                  dist0, p.lambda, p.v);
    for (k = T - 1; k >= 0; k--) {
        const int64_t *idx = u->batches + k * b;
        ss_model_work mw;
        ss_model_work_carve(m, b, p.model + k * mws, &mw);
        mw.forward_kept = 1;
        gather(u, k, &p);
        ss_model_loss(ctx, m, p.states + k * P, p.v, b, p.bx, p.by, p.block,
                      grad_from_steps ? NULL : p.grad, p.grad_dot, NULL, p.gbx,
                      NULL, p.gby, NULL,
                      u->sim->kind == SS_SIM_IDENTITY ? NULL : p.gblock, &mw);
        if (!step_reverse(threads, runs, u->eta, grad_from_steps ? NULL : p.grad,
                          p.states + k * P, p.states + (k + 1) * P, p.grad_dot,
                          p.lambda, p.v, k > 0, p.partial, dots)) {
            /* the step is lost in theta's rounding: form the gradient
             * (a plain pass; the kept forward pass is the same) */
            lambda_restore(threads, p.lambda, p.grad_dot, P);
            mw.forward_kept = 0;
            ss_model_loss(ctx, m, p.states + k * P, NULL, b, p.bx, p.by,
                          p.block, p.grad, NULL, NULL, NULL, NULL, NULL, NULL,
                          NULL, &mw);
            step_reverse(threads, runs, u->eta, p.grad, NULL, NULL, p.grad_dot,
                         p.lambda, p.v, k > 0, p.partial, dots);
        }
        geta[0] -= dots[0];
        geta[1] -= dots[1];
        for (i = 0; i < b; i++) {
            for (c = 0; c < di; c++)
                gx[idx[i] * di + c] -= p.gbx[i * di + c];
            for (c = 0; c < dt; c++)
                gy[idx[i] * dt + c] -= p.gby[i * dt + c];
        }
        if (u->sim->kind != SS_SIM_IDENTITY) {
            for (i = 0; i < b * b; i++)
                p.gblock[i] = -p.gblock[i];
            ss_sim_block_backward(u->sim, u->sim_params, b, idx, p.gblock,
                                  gsim);
        }
    }
    return loss;
}
