/* SPDX-License-Identifier: MIT */
/*
 * The joint model LoRS trains on a minibatch of pairs: each tower, each
 * output scaled to unit length, logits z = exp(s) U V^T, a contrastive
 * loss against the minibatch's similarity; and the backward pass to the
 * parameters and to the data, in plain and in tangent mode (lors.h). The
 * tangent of the backward pass is what the reverse sweep through unrolled
 * training needs: a Hessian-vector product in the parameters and the
 * mixed second derivatives in the data, in one pass over the minibatch.
 */
#include <math.h>
#include <string.h>

#include "linalg/blas.h"
#include "lors/lors.h"

void ss_model_sizes(ss_model *m)
{
    m->image_params = ss_tower_params(&m->image);
    m->text_params = ss_tower_params(&m->text);
    m->params = m->image_params + m->text_params + (m->learn_scale ? 1 : 0);
}

/* Doubles of each tower's work for `rows` rows. */
static void tower_works(const ss_model *m, int64_t rows, int64_t *image,
                        int64_t *text)
{
    *image = ss_tower_work(&m->image, rows);
    *text = ss_tower_work(&m->text, rows);
}

int64_t ss_model_work_size(const ss_model *m, int64_t rows)
{
    int64_t twi, twt;
    tower_works(m, rows, &twi, &twt);
    return 8 * rows * m->image.out + 4 * rows + 4 * rows * rows + twi + twt +
           ss_contrast_work(rows);
}

void ss_model_work_carve(const ss_model *m, int64_t rows, double *block,
                         ss_model_work *w)
{
    int64_t e = m->image.out, twi, twt;
    double **me[] = {&w->u, &w->v, &w->u_dot, &w->v_dot,
                     &w->du, &w->dv, &w->du_dot, &w->dv_dot};
    double **per_row[] = {&w->ru, &w->rv, &w->ru_dot, &w->rv_dot};
    double **sq[] = {&w->z, &w->z_dot, &w->g, &w->g_dot};
    size_t i;
    tower_works(m, rows, &twi, &twt);
    w->rows = rows;
    w->forward_kept = 0;
    w->span[0] = w->span[1] = NULL;
    for (i = 0; i < sizeof me / sizeof me[0]; i++, block += rows * e)
        *me[i] = block;
    for (i = 0; i < sizeof per_row / sizeof per_row[0]; i++, block += rows)
        *per_row[i] = block;
    for (i = 0; i < sizeof sq / sizeof sq[0]; i++, block += rows * rows)
        *sq[i] = block;
    w->image_work = block;
    w->text_work = block + twi;
    w->contrast_work = block + twi + twt;
}

/* Scales each row of u (rows x e) to unit length, keeping r_i = 1/|u_i|.
 * With u_dot (the rows' tangent) also turns u_dot into the tangent of the
 * unit rows, r (u_dot - u^ (u^ . u_dot)), and writes r_dot, the tangent of
 * r: -r^2 (u^ . u_dot). A zero row gives infinities, which the loss
 * reports as not finite. */
static void normalise(int64_t rows, int64_t e, int primal, double *u,
                      double *u_dot, double *r, double *r_dot)
{
    int64_t i, c;
    for (i = 0; i < rows; i++) {
        double *ui = u + i * e, nn = 0.0;
        if (primal) { /* else u is unit already, and r kept */
            for (c = 0; c < e; c++)
                nn += ui[c] * ui[c];
            r[i] = 1.0 / sqrt(nn);
            for (c = 0; c < e; c++)
                ui[c] *= r[i];
        }
        if (u_dot) {
            double *di = u_dot + i * e, dot = 0.0;
            for (c = 0; c < e; c++)
                dot += ui[c] * di[c];
            r_dot[i] = -r[i] * r[i] * dot;
            for (c = 0; c < e; c++)
                di[c] = r[i] * (di[c] - ui[c] * dot);
        }
    }
}

/* The backward pass of normalise, in place: du, the gradient in the unit
 * rows u^, becomes the gradient in the raw rows, r (du - u^ (u^ . du)).
 * With tangents (u_dot and r_dot from normalise, du_dot the tangent of
 * du), du_dot becomes the tangent of that result. */
static void normalise_backward(int64_t rows, int64_t e, const double *u,
                               const double *u_dot, const double *r,
                               const double *r_dot, double *du,
                               double *du_dot)
{
    int64_t i, c;
    for (i = 0; i < rows; i++) {
        const double *ui = u + i * e;
        double *gi = du + i * e, a = 0.0;
        for (c = 0; c < e; c++)
            a += ui[c] * gi[c];
        if (du_dot) {
            const double *ti = u_dot + i * e;
            double *hi = du_dot + i * e, a_dot = 0.0;
            for (c = 0; c < e; c++)
                a_dot += ti[c] * gi[c] + ui[c] * hi[c];
            for (c = 0; c < e; c++)
                hi[c] = r_dot[i] * (gi[c] - ui[c] * a) +
                        r[i] * (hi[c] - ti[c] * a - ui[c] * a_dot);
        }
        for (c = 0; c < e; c++)
            gi[c] = r[i] * (gi[c] - ui[c] * a);
    }
}

/* Threads for the towers' sections: two when the context has two or more
 * and the caller is not already in a parallel region. */
static int tower_threads(const subsel_ctx *ctx)
{
    return ss_blas_threads(ctx) > 1 ? 2 : 1;
}

double ss_model_loss(const subsel_ctx *ctx, const ss_model *m,
                     const double *theta, const double *theta_dot,
                     int64_t rows, const double *x, const double *y,
                     const double *s, double *grad, double *grad_dot,
                     double *gx, double *gx_dot, double *gy, double *gy_dot,
                     double *gs, double *gs_dot, ss_model_work *w)
{
    const int64_t n = rows, e = m->image.out, nn = rows * rows;
    const int tan = theta_dot != NULL;
    const double *th_text = theta + m->image_params;
    const double *td_text = tan ? theta_dot + m->image_params : NULL;
    double sc = m->learn_scale ? theta[m->params - 1] : m->scale;
    double sc_dot = tan && m->learn_scale ? theta_dot[m->params - 1] : 0.0;
    double es = exp(sc), loss;
    /* the forward pass of an earlier call on the same data and theta */
    const int kept = tan && w->forward_kept;
    int64_t i;

    /* the two towers are independent up to the logits and again after
     * them: on two threads each runs whole on one (its products serial:
     * small products gain nothing from splitting) */
#pragma omp parallel sections num_threads(2) if (tower_threads(ctx) > 1)
    {
#pragma omp section
        {
            ss_tower_forward_ex(ctx, &m->image, !kept, theta, theta_dot, n, x,
                                w->span[0], w->u, tan ? w->u_dot : NULL,
                                w->image_work);
            normalise(n, e, !kept, w->u, tan ? w->u_dot : NULL, w->ru,
                      w->ru_dot);
        }
#pragma omp section
        {
            ss_tower_forward_ex(ctx, &m->text, !kept, th_text, td_text, n, y,
                                w->span[1], w->v, tan ? w->v_dot : NULL,
                                w->text_work);
            normalise(n, e, !kept, w->v, tan ? w->v_dot : NULL, w->rv,
                      w->rv_dot);
        }
    }

    /* z = e^s U V^T, and its tangent s_dot z + e^s (U_dot V^T + U V_dot^T) */
    if (!kept)
        ss_dgemm_det(ctx, 0, 1, n, n, e, es, w->u, e, w->v, e, 0.0, w->z, n);
    if (tan) {
        ss_dgemm_det(ctx, 0, 1, n, n, e, es, w->u_dot, e, w->v, e, 0.0,
                     w->z_dot, n);
        ss_dgemm_det(ctx, 0, 1, n, n, e, es, w->u, e, w->v_dot, e, 1.0,
                     w->z_dot, n);
        for (i = 0; i < nn; i++)
            w->z_dot[i] += sc_dot * w->z[i];
    }
    loss = ss_contrast(m->loss, m->beta, n, w->z, s, tan ? w->z_dot : NULL,
                       w->g, gs, tan ? w->g_dot : NULL, gs_dot,
                       w->contrast_work);

    /* dl/ds = sum G .* z (dz/ds = z), and its tangent */
    if (m->learn_scale) {
        double ds = 0.0, ds_dot = 0.0;
        for (i = 0; i < nn; i++) {
            ds += w->g[i] * w->z[i];
            if (tan)
                ds_dot += w->g_dot[i] * w->z[i] + w->g[i] * w->z_dot[i];
        }
        if (grad)
            grad[m->params - 1] = ds;
        if (tan && grad_dot)
            grad_dot[m->params - 1] = ds_dot;
    }

    /* dl/dU^ = e^s G V, dl/dV^ = e^s G^T U, and their tangents
     * s_dot dU^ + e^s (G_dot V + G V_dot) (likewise for V^) */
    ss_dgemm_det(ctx, 0, 0, n, e, n, es, w->g, n, w->v, e, 0.0, w->du, e);
    ss_dgemm_det(ctx, 1, 0, n, e, n, es, w->g, n, w->u, e, 0.0, w->dv, e);
    if (tan) {
        ss_dgemm_det(ctx, 0, 0, n, e, n, es, w->g_dot, n, w->v, e, 0.0,
                     w->du_dot, e);
        ss_dgemm_det(ctx, 0, 0, n, e, n, es, w->g, n, w->v_dot, e, 1.0,
                     w->du_dot, e);
        ss_dgemm_det(ctx, 1, 0, n, e, n, es, w->g_dot, n, w->u, e, 0.0,
                     w->dv_dot, e);
        ss_dgemm_det(ctx, 1, 0, n, e, n, es, w->g, n, w->u_dot, e, 1.0,
                     w->dv_dot, e);
        for (i = 0; i < n * e; i++) {
            w->du_dot[i] += sc_dot * w->du[i];
            w->dv_dot[i] += sc_dot * w->dv[i];
        }
    }
#pragma omp parallel sections num_threads(2) if (tower_threads(ctx) > 1)
    {
#pragma omp section
        {
            normalise_backward(n, e, w->u, tan ? w->u_dot : NULL, w->ru,
                               w->ru_dot, w->du, tan ? w->du_dot : NULL);
            ss_tower_backward_ex(ctx, &m->image, theta, theta_dot, n, x,
                                 w->span[0], w->du, tan ? w->du_dot : NULL,
                                 w->image_work, grad, tan ? grad_dot : NULL,
                                 gx, tan ? gx_dot : NULL);
        }
#pragma omp section
        {
            normalise_backward(n, e, w->v, tan ? w->v_dot : NULL, w->rv,
                               w->rv_dot, w->dv, tan ? w->dv_dot : NULL);
            ss_tower_backward_ex(ctx, &m->text, th_text, td_text, n, y,
                                 w->span[1], w->dv, tan ? w->dv_dot : NULL,
                                 w->text_work,
                                 grad ? grad + m->image_params : NULL,
                                 tan && grad_dot ? grad_dot + m->image_params
                                                 : NULL,
                                 gy, tan ? gy_dot : NULL);
        }
    }
    return loss;
}

void ss_model_embed(const subsel_ctx *ctx, const ss_tower *t,
                    const double *theta, int64_t rows, const double *x,
                    double *out, double *work)
{
    ss_tower_forward(ctx, t, theta, NULL, rows, x, out, NULL, work);
    normalise(rows, t->out, 1, out, NULL, work, NULL);
}
