/* SPDX-License-Identifier: MIT */
/*
 * The towers of LoRS's embedding-space model (lors.h): a Linear map, or the
 * projection head Linear -> GELU -> Linear, a residual around the GELU and
 * the second Linear, then LayerNorm. Forward, backward, and both carried
 * along a direction theta_dot in parameter space (forward over reverse),
 * which is what distillation's Hessian-vector products are made of.
 *
 * Every Linear, the tower's own or the head's two, goes through one pair
 * of helpers: linear_forward and linear_backward, each with its tangent
 * (for the head's second Linear the input A = GELU(P) moves with theta
 * too). What is left is elementwise (GELU and its derivatives) or per row
 * (LayerNorm), and those loops run over rows on the context's threads:
 * each row is computed whole by one thread, and column sums run serially
 * in row order, so no result depends on the thread count. Products are
 * ss_dgemm_det's for the same reason.
 *
 * The tangents of LayerNorm, per row, with c = q - mean(q), r = (mean(c^2)
 * + eps)^(-1/2), n = c r:
 *   r_dot = -r^2 mean(n c_dot)        n_dot = r (c_dot - n mean(n c_dot))
 * and of its backward dq = r (dn - mean(dn) - n mean(dn n)):
 *   dq_dot = (r_dot / r) dq + r (dn_dot - mean(dn_dot) - n_dot mean(dn n)
 *            - n mean(dn_dot n + dn n_dot)).
 *
 * In the tangent mode of ss_tower_backward, du_dot and grad_dot are
 * required (theta_dot non-NULL says the caller wants the tangents);
 * dx_dot stays optional, like dx.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/ctx.h"
#include "linalg/blas.h"
#include "lors/lors.h"

/* Row loops are worth threads from this many entries on. */
#define ROWS_PARALLEL_MIN 16384

/* The head's forward state in `work`, rows x out each unless said: what
 * backward needs (P, A = GELU(P), Phi(P) and phi(P) for GELU's
 * derivatives, LayerNorm's n and r), their tangents (r_rel = r_dot / r,
 * per row), then backward's scratch (dq for D_Q, da for D_A and then D_P,
 * and their tangents). */
typedef struct head_work {
    double *p, *a, *cdf, *pdf, *n, *r;
    double *p_dot, *a_dot, *n_dot, *r_rel;
    double *dq, *da, *dq_dot, *da_dot;
} head_work;

#define HEAD_WORK_ARRAYS 12 /* of rows x out, then two of rows */

static head_work head_work_of(int64_t rows, int64_t out, double *work)
{
    head_work w;
    const int64_t m = rows * out;
    double **arrays[HEAD_WORK_ARRAYS] = {&w.p, &w.a, &w.cdf, &w.pdf, &w.n,
                                         &w.p_dot, &w.a_dot, &w.n_dot, &w.dq,
                                         &w.da, &w.dq_dot, &w.da_dot};
    int i;
    for (i = 0; i < HEAD_WORK_ARRAYS; i++, work += m)
        *arrays[i] = work;
    w.r = work;
    w.r_rel = w.r + rows;
    return w;
}

int64_t ss_tower_params(const ss_tower *t)
{
    if (t->kind == SS_TOWER_HEAD)
        return t->out * t->in + t->out * t->out + 4 * t->out;
    return t->out * t->in + t->out;
}

int64_t ss_tower_work(const ss_tower *t, int64_t rows)
{
    if (t->kind == SS_TOWER_HEAD)
        return HEAD_WORK_ARRAYS * rows * t->out + 2 * rows;
    return 0;
}

static void uniform_fill(ss_rng *rng, double bound, double *v, int64_t n)
{
    int64_t i;
    for (i = 0; i < n; i++)
        v[i] = bound * (2.0 * ss_rng_uniform(rng) - 1.0);
}

void ss_tower_init(const ss_tower *t, ss_rng *rng, double *theta)
{
    const int64_t in = t->in, out = t->out;
    int64_t i;
    /* a Linear's weights then its bias, as the layout stores them */
    uniform_fill(rng, 1.0 / sqrt((double)in), theta, out * in + out);
    if (t->kind != SS_TOWER_HEAD)
        return;
    theta += out * in + out;
    uniform_fill(rng, 1.0 / sqrt((double)out), theta, out * out + out);
    theta += out * out + out;
    for (i = 0; i < out; i++) {
        theta[i] = 1.0;
        theta[out + i] = 0.0;
    }
}

static int row_threads(const subsel_ctx *ctx, int64_t rows, int64_t cols)
{
    return rows * cols >= ROWS_PARALLEL_MIN ? ss_threads_for(ctx, rows) : 1;
}

/* s (cols) = sum over the rows of m (rows x cols), in row order. */
static void column_sums(int64_t rows, int64_t cols, const double *m,
                        double *s)
{
    int64_t i, j;
    memset(s, 0, sizeof *s * (size_t)cols);
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++)
            s[j] += m[i * cols + j];
}

/* ---- one Linear, y = x W^T + b, W (out x in) then b (out) ---------------- */

/* y = x W^T + b (unless `primal` is 0: y is then not used), and with
 * lin_dot non-NULL y_dot = x W_dot^T + b_dot (+ x_dot W^T when the input
 * moves too, x_dot non-NULL). */
static void linear_forward(const subsel_ctx *ctx, int primal, int64_t rows,
                           int64_t in, int64_t out, const double *lin,
                           const double *lin_dot, const double *x,
                           const double *x_dot, double *y, double *y_dot)
{
    const double *b = lin + out * in;
    int64_t i;
    /* the bias first and the product added to it, as PyTorch's addmm */
    if (primal) {
        for (i = 0; i < rows; i++)
            memcpy(y + i * out, b, sizeof *y * (size_t)out);
        ss_dgemm_det(ctx, 0, 1, rows, out, in, 1.0, x, in, lin, in, 1.0, y,
                     out);
    }
    if (!lin_dot)
        return;
    for (i = 0; i < rows; i++)
        memcpy(y_dot + i * out, lin_dot + out * in, sizeof *y * (size_t)out);
    ss_dgemm_det(ctx, 0, 1, rows, out, in, 1.0, x, in, lin_dot, in, 1.0,
                 y_dot, out);
    if (x_dot)
        ss_dgemm_det(ctx, 0, 1, rows, out, in, 1.0, x_dot, in, lin, in, 1.0,
                     y_dot, out);
}

/* Given dy (rows x out): the Linear's gradient g_lin (W then b; when
 * non-NULL) and, when dx is non-NULL, dx = dy W. With dy_dot non-NULL their tangents
 * g_lin_dot and dx_dot (when non-NULL), where W moves along lin_dot and x
 * along x_dot (NULL: x fixed). */
static void linear_backward(const subsel_ctx *ctx, int64_t rows, int64_t in,
                            int64_t out, const double *lin,
                            const double *lin_dot, const double *x,
                            const double *x_dot, const double *dy,
                            const double *dy_dot, double *g_lin,
                            double *g_lin_dot, double *dx, double *dx_dot)
{
    if (g_lin) {
        ss_dgemm_det(ctx, 1, 0, out, in, rows, 1.0, dy, out, x, in, 0.0, g_lin,
                     in);
        column_sums(rows, out, dy, g_lin + out * in);
    }
    if (dx)
        ss_dgemm_det(ctx, 0, 0, rows, in, out, 1.0, dy, out, lin, in, 0.0, dx,
                     in);
    if (!dy_dot)
        return;
    ss_dgemm_det(ctx, 1, 0, out, in, rows, 1.0, dy_dot, out, x, in, 0.0,
                 g_lin_dot, in);
    if (x_dot)
        ss_dgemm_det(ctx, 1, 0, out, in, rows, 1.0, dy, out, x_dot, in, 1.0,
                     g_lin_dot, in);
    column_sums(rows, out, dy_dot, g_lin_dot + out * in);
    if (dx_dot) {
        ss_dgemm_det(ctx, 0, 0, rows, in, out, 1.0, dy_dot, out, lin, in, 0.0,
                     dx_dot, in);
        ss_dgemm_det(ctx, 0, 0, rows, in, out, 1.0, dy, out, lin_dot, in, 1.0,
                     dx_dot, in);
    }
}

/* ---- a tower's first Linear, which span mode hands to the caller -------- */

/* The first Linear's forward: linear_forward, or in span mode y = xw + b
 * and y_dot = xw_dot + b_dot from the caller's products. */
static void first_forward(const subsel_ctx *ctx, int primal, int64_t rows,
                          int64_t in, int64_t out, const double *lin,
                          const double *lin_dot, const double *x,
                          const ss_span_layer *span, double *y, double *y_dot)
{
    int64_t i, j;
    if (!span) {
        linear_forward(ctx, primal, rows, in, out, lin, lin_dot, x, NULL, y,
                       y_dot);
        return;
    }
    for (i = 0; i < rows; i++)
        for (j = 0; j < out; j++) {
            if (primal)
                y[i * out + j] = span->xw[i * out + j] + lin[out * in + j];
            if (lin_dot)
                y_dot[i * out + j] =
                    span->xw_dot[i * out + j] + lin_dot[out * in + j];
        }
}

/* The first Linear's backward: linear_backward, or in span mode only the
 * bias's gradient (and tangent), with dy and dy_dot handed to the caller
 * (span->dp, span->dp_dot); W's part of g_lin and g_lin_dot is left
 * alone, and dx is not formed. */
static void first_backward(const subsel_ctx *ctx, int64_t rows, int64_t in,
                           int64_t out, const double *lin,
                           const double *lin_dot, const double *x,
                           const ss_span_layer *span, const double *dy,
                           const double *dy_dot, double *g_lin,
                           double *g_lin_dot, double *dx, double *dx_dot)
{
    if (!span) {
        linear_backward(ctx, rows, in, out, lin, lin_dot, x, NULL, dy, dy_dot,
                        g_lin, g_lin_dot, dx, dx_dot);
        return;
    }
    if (g_lin)
        column_sums(rows, out, dy, g_lin + out * in);
    memcpy(span->dp, dy, sizeof *dy * (size_t)(rows * out));
    if (dy_dot) {
        column_sums(rows, out, dy_dot, g_lin_dot + out * in);
        memcpy(span->dp_dot, dy_dot, sizeof *dy * (size_t)(rows * out));
    }
}

/* ---- GELU (exact) ---------------------------------------------------------- */

static double normal_pdf(double v)
{
    return exp(-0.5 * v * v) * 0.39894228040143267794; /* 1/sqrt(2 pi) */
}

/* Phi(v) through erfc: accurate in the lower tail, where 1 + erf cancels */
static double normal_cdf(double v)
{
    return 0.5 * erfc(-v * M_SQRT1_2);
}

/* GELU's first and second derivatives at v from Phi(v) and phi(v), which
 * the forward pass keeps */
static double gelu_d1(double v, double cdf, double pdf)
{
    return cdf + v * pdf;
}

static double gelu_d2(double v, double pdf)
{
    return pdf * (2.0 - v * v);
}

/* ---- the head --------------------------------------------------------------- */

/* The parameters of the head's parts, in the layout's order. */
typedef struct head_params {
    const double *lin1, *lin2, *gamma, *beta;
} head_params;

static head_params head_params_of(const ss_tower *t, const double *theta)
{
    head_params h;
    h.lin1 = theta;
    h.lin2 = h.lin1 + t->out * t->in + t->out;
    h.gamma = h.lin2 + t->out * t->out + t->out;
    h.beta = h.gamma + t->out;
    return h;
}

/* One row of LayerNorm: q (out) holds h + p on entry and u on return; n
 * and r kept (with `primal` 0, n and r are kept from an earlier call and
 * q is not used). With q_dot non-NULL likewise q_dot -> u_dot, n_dot and
 * r_rel = r_dot / r. */
static void layer_norm_row(int64_t out, int primal, const head_params *hp,
                           const head_params *hp_dot, double *q, double *n,
                           double *r, double *q_dot, double *n_dot,
                           double *r_rel)
{
    double mean = 0.0, var = 0.0, inv, dot_mean = 0.0, nc = 0.0;
    int64_t j;
    if (primal) {
        for (j = 0; j < out; j++)
            mean += q[j];
        mean /= (double)out;
        for (j = 0; j < out; j++) {
            double c = q[j] - mean;
            var += c * c;
        }
        *r = 1.0 / sqrt(var / (double)out + SS_TOWER_LN_EPS);
        for (j = 0; j < out; j++) {
            n[j] = (q[j] - mean) * *r;
            q[j] = hp->gamma[j] * n[j] + hp->beta[j];
        }
    }
    inv = *r;
    if (!q_dot)
        return;
    for (j = 0; j < out; j++)
        dot_mean += q_dot[j];
    dot_mean /= (double)out;
    for (j = 0; j < out; j++)
        nc += n[j] * (q_dot[j] - dot_mean);
    nc /= (double)out;
    *r_rel = -inv * nc;
    for (j = 0; j < out; j++) {
        n_dot[j] = inv * (q_dot[j] - dot_mean - n[j] * nc);
        q_dot[j] = hp_dot->gamma[j] * n[j] + hp->gamma[j] * n_dot[j] +
                   hp_dot->beta[j];
    }
}

static void head_forward(const subsel_ctx *ctx, int primal, const ss_tower *t,
                         const double *theta, const double *theta_dot,
                         int64_t rows, const double *x,
                         const ss_span_layer *span, double *u, double *u_dot,
                         double *work)
{
    const int64_t out = t->out, m = rows * out;
    head_work w = head_work_of(rows, out, work);
    head_params hp = head_params_of(t, theta), hp_dot = {0};
    int tangent = theta_dot != NULL;
    int threads = row_threads(ctx, rows, out);
    int64_t i;
    if (tangent)
        hp_dot = head_params_of(t, theta_dot);
    first_forward(ctx, primal, rows, t->in, out, hp.lin1,
                  tangent ? hp_dot.lin1 : NULL, x, span, w.p, w.p_dot);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (i = 0; i < m; i++) {
        if (primal) {
            w.cdf[i] = normal_cdf(w.p[i]);
            w.pdf[i] = normal_pdf(w.p[i]);
            w.a[i] = w.p[i] * w.cdf[i];
        }
        if (tangent)
            w.a_dot[i] = gelu_d1(w.p[i], w.cdf[i], w.pdf[i]) * w.p_dot[i];
    }
    linear_forward(ctx, primal, rows, out, out, hp.lin2,
                   tangent ? hp_dot.lin2 : NULL, w.a, w.a_dot, u, u_dot);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (i = 0; i < rows; i++) {
        int64_t j, o = i * out;
        if (primal)
            for (j = 0; j < out; j++)
                u[o + j] += w.p[o + j];
        if (tangent)
            for (j = 0; j < out; j++)
                u_dot[o + j] += w.p_dot[o + j];
        layer_norm_row(out, primal, &hp, &hp_dot, primal ? u + o : NULL,
                       w.n + o, w.r + i,
                       tangent ? u_dot + o : NULL, w.n_dot + o, w.r_rel + i);
    }
}

/* LayerNorm's backward for one row: dq from du, and with du_dot non-NULL
 * dq_dot (formulas at the top of the file). */
static void layer_norm_row_backward(int64_t out, const head_params *hp,
                                    const head_params *hp_dot,
                                    const double *n, double r,
                                    const double *du, double *dq,
                                    const double *n_dot, double r_rel,
                                    const double *du_dot, double *dq_dot)
{
    double dn_mean = 0.0, dnn_mean = 0.0, dd_mean = 0.0, ddn_mean = 0.0;
    int64_t j;
    for (j = 0; j < out; j++) {
        double dn = du[j] * hp->gamma[j];
        dn_mean += dn;
        dnn_mean += dn * n[j];
        if (du_dot) {
            double dn_dot = du_dot[j] * hp->gamma[j] + du[j] * hp_dot->gamma[j];
            dd_mean += dn_dot;
            ddn_mean += dn_dot * n[j] + dn * n_dot[j];
        }
    }
    dn_mean /= (double)out;
    dnn_mean /= (double)out;
    dd_mean /= (double)out;
    ddn_mean /= (double)out;
    for (j = 0; j < out; j++) {
        double dn = du[j] * hp->gamma[j];
        dq[j] = r * (dn - dn_mean - n[j] * dnn_mean);
        if (du_dot) {
            double dn_dot = du_dot[j] * hp->gamma[j] + du[j] * hp_dot->gamma[j];
            dq_dot[j] = r_rel * dq[j] +
                        r * (dn_dot - dd_mean - n_dot[j] * dnn_mean -
                             n[j] * ddn_mean);
        }
    }
}

static void head_backward(const subsel_ctx *ctx, const ss_tower *t,
                          const double *theta, const double *theta_dot,
                          int64_t rows, const double *x,
                          const ss_span_layer *span, const double *du,
                          const double *du_dot, double *work, double *grad,
                          double *grad_dot, double *dx, double *dx_dot)
{
    const int64_t in = t->in, out = t->out, m = rows * out;
    head_work w = head_work_of(rows, out, work);
    head_params hp = head_params_of(t, theta), hp_dot = {0};
    /* grad may be NULL (only its tangent wanted) */
    double *g_lin2 = grad ? grad + (hp.lin2 - theta) : NULL;
    double *g_gamma = grad ? grad + (hp.gamma - theta) : NULL;
    double *g_beta = grad ? g_gamma + out : NULL;
    double *gd_lin2 = NULL, *gd_gamma = NULL, *gd_beta = NULL;
    int tangent = theta_dot != NULL;
    int threads = row_threads(ctx, rows, out);
    int64_t i, j;
    if (tangent) {
        hp_dot = head_params_of(t, theta_dot);
        gd_lin2 = grad_dot + (hp.lin2 - theta);
        gd_gamma = grad_dot + (hp.gamma - theta);
        gd_beta = gd_gamma + out;
    }

    /* gamma and beta, serially in row order */
    if (grad)
        memset(g_gamma, 0, sizeof *grad * (size_t)(2 * out));
    if (tangent)
        memset(gd_gamma, 0, sizeof *grad_dot * (size_t)(2 * out));
    for (i = 0; i < rows; i++)
        for (j = 0; j < out; j++) {
            int64_t e = i * out + j;
            if (grad) {
                g_gamma[j] += du[e] * w.n[e];
                g_beta[j] += du[e];
            }
            if (tangent) {
                gd_gamma[j] += du_dot[e] * w.n[e] + du[e] * w.n_dot[e];
                gd_beta[j] += du_dot[e];
            }
        }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (i = 0; i < rows; i++) {
        int64_t o = i * out;
        layer_norm_row_backward(out, &hp, &hp_dot, w.n + o, w.r[i], du + o,
                                w.dq + o, w.n_dot + o, w.r_rel[i],
                                tangent ? du_dot + o : NULL, w.dq_dot + o);
    }

    /* the second Linear, whose input A moves with theta; D_A into da */
    linear_backward(ctx, rows, out, out, hp.lin2, tangent ? hp_dot.lin2 : NULL,
                    w.a, w.a_dot, w.dq, tangent ? w.dq_dot : NULL, g_lin2,
                    gd_lin2, w.da, w.da_dot);

    /* D_P = D_A GELU'(P) + D_Q (the residual), its tangent first since it
     * reads D_A */
#pragma omp parallel for num_threads(threads) schedule(static)
    for (i = 0; i < m; i++) {
        double d1 = gelu_d1(w.p[i], w.cdf[i], w.pdf[i]);
        if (tangent)
            w.da_dot[i] = w.da_dot[i] * d1 +
                          w.da[i] * gelu_d2(w.p[i], w.pdf[i]) * w.p_dot[i] +
                          w.dq_dot[i];
        w.da[i] = w.da[i] * d1 + w.dq[i];
    }

    first_backward(ctx, rows, in, out, hp.lin1, tangent ? hp_dot.lin1 : NULL,
                   x, span, w.da, tangent ? w.da_dot : NULL, grad, grad_dot,
                   dx, dx_dot);
}

/* ---- the calls ---------------------------------------------------------------- */

void ss_tower_forward_ex(const subsel_ctx *ctx, const ss_tower *t, int primal,
                         const double *theta, const double *theta_dot,
                         int64_t rows, const double *x,
                         const ss_span_layer *span, double *u, double *u_dot,
                         double *work)
{
    if (t->kind == SS_TOWER_HEAD)
        head_forward(ctx, primal, t, theta, theta_dot, rows, x, span, u, u_dot,
                     work);
    else
        first_forward(ctx, primal, rows, t->in, t->out, theta, theta_dot, x,
                      span, u, u_dot);
}

void ss_tower_forward(const subsel_ctx *ctx, const ss_tower *t,
                      const double *theta, const double *theta_dot,
                      int64_t rows, const double *x, double *u, double *u_dot,
                      double *work)
{
    ss_tower_forward_ex(ctx, t, 1, theta, theta_dot, rows, x, NULL, u, u_dot,
                        work);
}

void ss_tower_backward_ex(const subsel_ctx *ctx, const ss_tower *t,
                          const double *theta, const double *theta_dot,
                          int64_t rows, const double *x,
                          const ss_span_layer *span, const double *du,
                          const double *du_dot, double *work, double *grad,
                          double *grad_dot, double *dx, double *dx_dot)
{
    if (t->kind == SS_TOWER_HEAD)
        head_backward(ctx, t, theta, theta_dot, rows, x, span, du, du_dot,
                      work, grad, grad_dot, dx, dx_dot);
    else
        first_backward(ctx, rows, t->in, t->out, theta, theta_dot, x, span, du,
                       theta_dot ? du_dot : NULL, grad, grad_dot, dx, dx_dot);
}

void ss_tower_backward(const subsel_ctx *ctx, const ss_tower *t,
                       const double *theta, const double *theta_dot,
                       int64_t rows, const double *x, const double *du,
                       const double *du_dot, double *work, double *grad,
                       double *grad_dot, double *dx, double *dx_dot)
{
    ss_tower_backward_ex(ctx, t, theta, theta_dot, rows, x, NULL, du, du_dot,
                         work, grad, grad_dot, dx, dx_dot);
}
