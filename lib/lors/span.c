/* SPDX-License-Identifier: MIT */
/*
 * A tower's first Linear in span coordinates, for the unrolled student
 * (unroll.c; lors.h).
 *
 * During one matching problem the synthetic rows Xs (N x d) are fixed, and
 * every gradient of the first weight matrix W (e x d) is dP^T X_b, a
 * combination of rows of Xs. So along the student's trajectory
 *     W_k = W_0 + C_k Xs                 (C_k: e x N, C_0 = 0)
 * and in the reverse sweep, with Lambda the W-block of dL/dtheta_T,
 *     lambda_W,k = Lambda + D_k Xs       (D_T = 0)
 * When N < d, the student keeps C_k and D_k in place of W_k and lambda_W,k
 * (the first e x N doubles of W's block), and each product with W shrinks
 * from b x d x e to b x N x e:
 *     X_b W_k^T = (Xs W_0^T)[b] + G[b,:] C_k^T          G = Xs Xs^T
 *     X_b V^T   = eta ((Xs Lambda^T)[b] + G[b,:] D^T)   V = eta lambda_W
 * The gradient to the data, dP_dot W_k + dP V per step, splits the same
 * way into terms linear in the fixed W_0 and Lambda, summed over the steps
 * per synthetic row and multiplied once at the end, and small terms
 * through C_k and D:
 *     dP_dot W_0 + eta dP Lambda + (dP_dot C_k + eta dP D) Xs.
 * The same numbers as the dense student up to rounding (tests/test_lors.c
 * checks both ways against each other and against PyTorch).
 */
#include <string.h>

#include "linalg/blas.h"
#include "lors/lors.h"

int64_t ss_span_work_size(int64_t e, int64_t d, int64_t n, int64_t b)
{
    return 4 * n * e + 2 * n * n + e * d + n * d + 2 * b * n + 6 * b * e;
}

void ss_span_carve(ss_span *s, int64_t e, int64_t d, int64_t n, int64_t b,
                   const double *xs, double *work)
{
    s->e = e;
    s->d = d;
    s->n = n;
    s->b = b;
    s->xs = xs;
    s->xw0 = work;
    s->xl = s->xw0 + n * e;
    s->a0 = s->xl + n * e;
    s->al = s->a0 + n * e;
    s->g = s->al + n * e;
    s->m = s->g + n * n;
    s->dense = s->m + n * n;
    s->tmp = s->dense + e * d;
    s->gb = s->tmp + n * d;
    s->r = s->gb + b * n;
    s->xw = s->r + b * n;
    s->xw_dot = s->xw + b * e;
    s->dp = s->xw_dot + b * e;
    s->dp_dot = s->dp + b * e;
    s->q = s->dp_dot + b * e;
    s->scaled = s->q + b * e;
}

void ss_span_begin(const subsel_ctx *ctx, ss_span *s, const double *w0)
{
    const int64_t e = s->e, d = s->d, n = s->n;
    ss_dgemm_det(ctx, 0, 1, n, e, d, 1.0, s->xs, d, w0, d, 0.0, s->xw0, e);
    ss_dgemm_det(ctx, 0, 1, n, n, d, 1.0, s->xs, d, s->xs, d, 0.0, s->g, n);
    memset(s->a0, 0, sizeof(double) * (size_t)(n * e));
    memset(s->al, 0, sizeof(double) * (size_t)(n * e));
    memset(s->m, 0, sizeof(double) * (size_t)(n * n));
}

/* gb = G[idx, :] */
static void gather_gram(ss_span *s, const int64_t *idx)
{
    int64_t i;
    for (i = 0; i < s->b; i++)
        memcpy(s->gb + i * s->n, s->g + idx[i] * s->n,
               sizeof(double) * (size_t)s->n);
}

/* out = rows[idx] + gb coef^T: a minibatch's product with Y + coef Xs,
 * where rows = Xs Y^T */
static void product(const subsel_ctx *ctx, const ss_span *s, const int64_t *idx,
                    const double *rows, const double *coef, double *out)
{
    int64_t i;
    for (i = 0; i < s->b; i++)
        memcpy(out + i * s->e, rows + idx[i] * s->e, sizeof(double) * (size_t)s->e);
    ss_dgemm_det(ctx, 0, 1, s->b, s->e, s->n, 1.0, s->gb, s->n, coef, s->n, 1.0,
                 out, s->e);
}

void ss_span_forward(const subsel_ctx *ctx, ss_span *s, const int64_t *idx,
                     const double *c)
{
    gather_gram(s, idx);
    product(ctx, s, idx, s->xw0, c, s->xw);
}

void ss_span_scatter(const ss_span *s, const int64_t *idx, const double *dp,
                     double *coef)
{
    int64_t i, j;
    memset(coef, 0, sizeof(double) * (size_t)(s->e * s->n));
    for (i = 0; i < s->b; i++)
        for (j = 0; j < s->e; j++)
            coef[j * s->n + idx[i]] = dp[i * s->e + j];
}

void ss_span_dense(const subsel_ctx *ctx, const ss_span *s, const double *w0,
                   const double *c, double *w)
{
    memcpy(w, w0, sizeof(double) * (size_t)(s->e * s->d));
    ss_dgemm_det(ctx, 0, 0, s->e, s->d, s->n, 1.0, c, s->n, s->xs, s->d, 1.0, w,
                 s->d);
}

void ss_span_reverse_begin(const subsel_ctx *ctx, ss_span *s)
{
    ss_dgemm_det(ctx, 0, 1, s->n, s->e, s->d, 1.0, s->xs, s->d, s->dense, s->d,
                 0.0, s->xl, s->e);
}

void ss_span_tangent(const subsel_ctx *ctx, ss_span *s, const int64_t *idx,
                     const double *dcoef, double eta)
{
    int64_t i;
    gather_gram(s, idx);
    product(ctx, s, idx, s->xl, dcoef, s->q);
    for (i = 0; i < s->b * s->e; i++)
        s->xw_dot[i] = eta * s->q[i];
}

double ss_span_accumulate(const subsel_ctx *ctx, ss_span *s,
                          const int64_t *idx, const double *c,
                          const double *dcoef, double eta)
{
    const int64_t b = s->b, e = s->e, n = s->n;
    double dot = 0.0;
    int64_t i, j;
    for (i = 0; i < b * e; i++) {
        dot += s->dp[i] * s->q[i];
        s->scaled[i] = eta * s->dp[i];
    }
    /* r = dP_dot C_k + eta dP D */
    ss_dgemm_det(ctx, 0, 0, b, n, e, 1.0, s->dp_dot, e, c, n, 0.0, s->r, n);
    ss_dgemm_det(ctx, 0, 0, b, n, e, 1.0, s->scaled, e, dcoef, n, 1.0, s->r, n);
    for (i = 0; i < b; i++) {
        double *a0 = s->a0 + idx[i] * e, *al = s->al + idx[i] * e;
        double *m = s->m + idx[i] * n;
        for (j = 0; j < e; j++) {
            a0[j] += s->dp_dot[i * e + j];
            al[j] += s->scaled[i * e + j];
        }
        for (j = 0; j < n; j++)
            m[j] += s->r[i * n + j];
    }
    return dot;
}

void ss_span_finish(const subsel_ctx *ctx, ss_span *s, const double *w0,
                    double *gx)
{
    const int64_t e = s->e, d = s->d, n = s->n;
    int64_t i;
    ss_dgemm_det(ctx, 0, 0, n, d, e, 1.0, s->a0, e, w0, d, 0.0, s->tmp, d);
    ss_dgemm_det(ctx, 0, 0, n, d, e, 1.0, s->al, e, s->dense, d, 1.0, s->tmp, d);
    ss_dgemm_det(ctx, 0, 0, n, d, n, 1.0, s->m, n, s->xs, d, 1.0, s->tmp, d);
    for (i = 0; i < n * d; i++)
        gx[i] -= s->tmp[i];
}
