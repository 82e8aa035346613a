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
 * d/dD <g_k, v> together. Memory: T + 1 parameter vectors; activations are
 * recomputed per step instead of stored. (TESLA's constant-memory scheme,
 * as the authors' code runs it, leaves out the terms through theta_k's
 * dependence on earlier steps, so it is not used here; docs/lors.md.)
 */
#include <string.h>

#include "lors/lors.h"

/* The work's parts, carved in this order. */
typedef struct unroll_parts {
    double *states;          /* (steps + 1) x P */
    double *lambda, *v, *grad, *grad_dot; /* P each */
    double *bx, *by, *gbx, *gby; /* batch x image.in, batch x text.in */
    double *block, *gblock;      /* batch x batch */
    double *model;               /* ss_model_work_size */
} unroll_parts;

/* Doubles of each part, in carving order. */
enum { PART_STATES, PART_VECTORS, PART_X, PART_Y, PART_BLOCK, PART_MODEL,
       PARTS };

static void part_sizes(const ss_unroll *u, int64_t sizes[PARTS])
{
    const ss_model *m = u->model;
    int64_t P = m->params, b = u->batch;
    sizes[PART_STATES] = (u->steps + 1) * P;
    sizes[PART_VECTORS] = 4 * P; /* lambda, v, grad, grad_dot */
    sizes[PART_X] = 2 * b * m->image.in;
    sizes[PART_Y] = 2 * b * m->text.in;
    sizes[PART_BLOCK] = 2 * b * b;
    sizes[PART_MODEL] = ss_model_work_size(m, b);
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

double ss_unroll_grad(const subsel_ctx *ctx, const ss_unroll *u, double *gx,
                      double *gy, double *gsim, double *geta,
                      double *step_loss, double *theta_end, double *work)
{
    const ss_model *m = u->model;
    const int64_t P = m->params, T = u->steps, b = u->batch;
    const int64_t di = m->image.in, dt = m->text.in;
    unroll_parts p;
    ss_model_work mw;
    ss_group_run runs[SS_GROUP_RUNS];
    double dist0 = 0.0, dist = 0.0, loss;
    int64_t k, i, c;
    int r;

    carve(u, work, &p);
    ss_model_group_runs(m, runs);
    ss_model_work_carve(m, b, p.model, &mw);

    /* forward: the student's trajectory */
    memcpy(p.states, u->theta0, sizeof(double) * (size_t)P);
    for (k = 0; k < T; k++) {
        const double *th = p.states + k * P;
        double *next = p.states + (k + 1) * P;
        double l;
        gather(u, k, &p);
        l = ss_model_loss(ctx, m, th, NULL, b, p.bx, p.by, p.block, p.grad,
                          NULL, NULL, NULL, NULL, NULL, NULL, NULL, &mw);
        if (step_loss)
            step_loss[k] = l;
        for (r = 0; r < SS_GROUP_RUNS; r++) {
            double eta = u->eta[runs[r].group];
            for (i = runs[r].lo; i < runs[r].hi; i++)
                next[i] = th[i] - eta * p.grad[i];
        }
    }
    for (i = 0; i < P; i++) {
        double a = u->theta0[i] - u->theta_star[i];
        double e = p.states[T * P + i] - u->theta_star[i];
        dist0 += a * a;
        dist += e * e;
    }
    loss = dist / dist0;
    if (theta_end)
        memcpy(theta_end, p.states + T * P, sizeof(double) * (size_t)P);

    /* reverse: lambda = dL/dtheta_T, then back through each step */
    memset(gsim, 0, sizeof(double) * (size_t)ss_sim_params(u->sim));
    geta[0] = geta[1] = 0.0;
    for (i = 0; i < P; i++)
        p.lambda[i] =
            2.0 * (p.states[T * P + i] - u->theta_star[i]) / dist0;
    for (k = T - 1; k >= 0; k--) {
        const int64_t *idx = u->batches + k * b;
        for (r = 0; r < SS_GROUP_RUNS; r++) {
            double eta = u->eta[runs[r].group];
            for (i = runs[r].lo; i < runs[r].hi; i++)
                p.v[i] = eta * p.lambda[i];
        }
        gather(u, k, &p);
        ss_model_loss(ctx, m, p.states + k * P, p.v, b, p.bx, p.by, p.block,
                      p.grad, p.grad_dot, NULL, p.gbx, NULL, p.gby, NULL,
                      u->sim->kind == SS_SIM_IDENTITY ? NULL : p.gblock, &mw);
        for (r = 0; r < SS_GROUP_RUNS; r++) {
            double dot = 0.0;
            for (i = runs[r].lo; i < runs[r].hi; i++) {
                dot += p.grad[i] * p.lambda[i];
                p.lambda[i] -= p.grad_dot[i];
            }
            geta[runs[r].group] -= dot;
        }
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
