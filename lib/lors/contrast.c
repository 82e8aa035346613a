/* SPDX-License-Identifier: MIT */
/*
 * The contrastive losses of LoRS (section 3.2, eqs. 1, 3, 4, 5) over one
 * minibatch's m x m logits z and a soft target similarity s: the value,
 * the gradients in z (what the towers receive) and in s (what the learned
 * similarity receives), and the derivatives of both gradients along a
 * direction z_dot, which the Hessian-vector products of unrolled training
 * are made of. The logits grow with a learned temperature, so nothing here
 * exponentiates a logit directly: the softmaxes go through log-sum-exp and
 * the binary terms through softplus and an overflow-free sigmoid; and
 * each -log P is built from the logit's distance to the largest of its row
 * (column) and a log1p, never as the difference of two large numbers, so
 * that small losses and probabilities near 1 keep their digits.
 */
#include <math.h>

#include "lors/lors.h"

/* The work layout of the softmax losses: both softmaxes, then for each
 * row and each column its largest logit and the log1p of the rest of its
 * exponential sum (their sum is the log-sum-exp), the target's row and
 * column sums, and the expectations of z_dot under each softmax (for the
 * tangents). */
enum { WORK_VECTORS = 8 };

int64_t ss_contrast_work(int64_t m)
{
    return 2 * m * m + WORK_VECTORS * m;
}

/* s_ij, with NULL standing for the identity. */
static double target_at(const double *s, int64_t m, int64_t i, int64_t j)
{
    return s != NULL ? s[i * m + j] : (i == j ? 1.0 : 0.0);
}

/* log sum_k exp(x[k * stride]) for n >= 1 values, in two parts: the
 * largest value, returned, and log1p of the sum of exp(x_k - largest)
 * over the others, in *rest. Kept apart, they give -log P = (largest -
 * x_k) + rest and P = exp((x_k - largest) - rest) without rounding the
 * small part against the large one (at logits near 1000, adding log 2 to
 * 1000 would cost 13 digits of P). */
static double log_sum_exp(const double *x, int64_t n, int64_t stride,
                          double *rest)
{
    int64_t k, top = 0;
    double others = 0.0;
    for (k = 1; k < n; k++)
        if (x[k * stride] > x[top * stride])
            top = k;
    for (k = 0; k < n; k++)
        if (k != top)
            others += exp(x[k * stride] - x[top * stride]);
    *rest = log1p(others);
    return x[top * stride];
}

/* eNCE (eq. 3), and InfoNCE (eq. 1) as its case s = I with no gradient in
 * s. With LSE_row_i and LSE_col_j the log-sum-exps of row i and column j,
 *   l = (1/m) sum_ij s_ij ((LSE_row_i - z_ij) + (LSE_col_j - z_ij)),
 * and with r_i, c_j the row and column sums of s,
 *   dl/dz_ij = (1/m) (r_i P^V_ij + c_j P^T_ij - 2 s_ij). */
static double softmax_loss(int infonce, int64_t m, const double *z,
                           const double *s, const double *z_dot, double *g,
                           double *gs, double *g_dot, double *gs_dot,
                           double *work)
{
    double *pv = work, *pt = pv + m * m;
    double *max_row = pt + m * m, *rest_row = max_row + m;
    double *max_col = rest_row + m, *rest_col = max_col + m;
    double *row_sum = rest_col + m, *col_sum = row_sum + m;
    double *ev_row = col_sum + m, *ev_col = ev_row + m;
    double inv_m = 1.0 / (double)m, loss = 0.0;
    int64_t i, j, k;

    if (infonce)
        s = NULL;
    for (i = 0; i < m; i++) {
        max_row[i] = log_sum_exp(z + i * m, m, 1, &rest_row[i]);
        max_col[i] = log_sum_exp(z + i, m, m, &rest_col[i]);
        row_sum[i] = col_sum[i] = 0.0;
    }
    for (i = 0; i < m; i++)
        for (j = 0; j < m; j++) {
            double sij = target_at(s, m, i, j);
            double zij = z[i * m + j];
            double to_row = zij - max_row[i], to_col = zij - max_col[j];
            /* -log P^V_ij - log P^T_ij */
            double nlp = (rest_row[i] - to_row) + (rest_col[j] - to_col);
            pv[i * m + j] = exp(to_row - rest_row[i]);
            pt[i * m + j] = exp(to_col - rest_col[j]);
            row_sum[i] += sij;
            col_sum[j] += sij;
            loss += sij * nlp;
            if (gs != NULL)
                gs[i * m + j] = infonce ? 0.0 : inv_m * nlp;
        }
    if (g != NULL)
        for (i = 0; i < m; i++)
            for (j = 0; j < m; j++)
                g[i * m + j] = inv_m * (row_sum[i] * pv[i * m + j] +
                                        col_sum[j] * pt[i * m + j] -
                                        2.0 * target_at(s, m, i, j));
    if (z_dot == NULL || (g_dot == NULL && gs_dot == NULL))
        return inv_m * loss;

    /* Along z_dot, P^V_ij moves by P^V_ij (z_dot_ij - E_{P^V_i}[z_dot_i.])
     * and the log-sum-exp of row i by that expectation; likewise over
     * columns. */
    for (i = 0; i < m; i++) {
        ev_row[i] = 0.0;
        for (k = 0; k < m; k++)
            ev_row[i] += pv[i * m + k] * z_dot[i * m + k];
    }
    for (j = 0; j < m; j++) {
        ev_col[j] = 0.0;
        for (k = 0; k < m; k++)
            ev_col[j] += pt[k * m + j] * z_dot[k * m + j];
    }
    for (i = 0; i < m; i++)
        for (j = 0; j < m; j++) {
            double zd = z_dot[i * m + j];
            if (g_dot != NULL)
                g_dot[i * m + j] =
                    inv_m * (row_sum[i] * pv[i * m + j] * (zd - ev_row[i]) +
                             col_sum[j] * pt[i * m + j] * (zd - ev_col[j]));
            if (gs_dot != NULL)
                gs_dot[i * m + j] =
                    infonce ? 0.0 : inv_m * (ev_row[i] + ev_col[j] - 2.0 * zd);
        }
    return inv_m * loss;
}

/* sigmoid(x), without overflow for either sign. */
static double sigmoid(double x)
{
    double e;
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    e = exp(x);
    return e / (1.0 + e);
}

/* sigmoid(x) - y; for x >= 0 as (1 - y) - sigmoid(-x), so that a right
 * answer's small gradient (x = 40, y = 1: -4e-18) is not lost to
 * sigmoid(40) rounding to 1. */
static double sigmoid_minus(double x, double y)
{
    return x >= 0.0 ? (1.0 - y) - sigmoid(-x) : sigmoid(x) - y;
}

/* softplus(x) - y x = -y log sigmoid(x) - (1-y) log(1 - sigmoid(x)), with
 * the linear part collected before log1p's small term is added, so that a
 * confident right answer (x = 1000, y = 1) gives 0, not 1000 - 1000. */
static double binary_term(double x, double y)
{
    if (x >= 0.0)
        return (1.0 - y) * x + log1p(exp(-x));
    return -y * x + log1p(exp(x));
}

/* BCE (eq. 4) and wBCE (eq. 5): each entry's term weighed by 1/m, or by
 * 1/(the size of its group, s > beta or s <= beta). The groups are those
 * of s as given; moving s does not move an entry across beta (the paper's
 * code computes the split without a gradient). */
static double binary_loss(int weighted, double beta, int64_t m,
                          const double *z, const double *s,
                          const double *z_dot, double *g, double *gs,
                          double *g_dot, double *gs_dot)
{
    double w_pos = 1.0 / (double)m, w_neg = w_pos, loss = 0.0;
    int64_t i, j;

    if (weighted) {
        int64_t positives = 0, negatives;
        for (i = 0; i < m; i++)
            for (j = 0; j < m; j++)
                positives += target_at(s, m, i, j) > beta;
        negatives = m * m - positives;
        /* an empty group's weight is never used */
        w_pos = positives > 0 ? 1.0 / (double)positives : 0.0;
        w_neg = negatives > 0 ? 1.0 / (double)negatives : 0.0;
    }
    for (i = 0; i < m; i++)
        for (j = 0; j < m; j++) {
            int64_t e = i * m + j;
            double sij = target_at(s, m, i, j);
            double w = sij > beta ? w_pos : w_neg;
            loss += w * binary_term(z[e], sij);
            if (g != NULL)
                g[e] = w * sigmoid_minus(z[e], sij);
            if (gs != NULL)
                gs[e] = -w * z[e];
            if (z_dot == NULL)
                continue;
            /* sigmoid' = sigmoid(x) sigmoid(-x): no 1 - sigmoid(x) to
             * round to 0 for large x */
            if (g_dot != NULL)
                g_dot[e] = w * sigmoid(z[e]) * sigmoid(-z[e]) * z_dot[e];
            if (gs_dot != NULL)
                gs_dot[e] = -w * z_dot[e];
        }
    return loss;
}

double ss_contrast(int loss, double beta, int64_t m, const double *z,
                   const double *s, const double *z_dot, double *g,
                   double *gs, double *g_dot, double *gs_dot, double *work)
{
    if (m <= 0)
        return 0.0;
    switch (loss) {
    case SS_LOSS_INFONCE:
    case SS_LOSS_ENCE:
        return softmax_loss(loss == SS_LOSS_INFONCE, m, z, s, z_dot, g, gs,
                            g_dot, gs_dot, work);
    case SS_LOSS_BCE:
    case SS_LOSS_WBCE:
        /* BCE never compares with beta: its two weights are equal */
        return binary_loss(loss == SS_LOSS_WBCE, beta, m, z, s, z_dot, g,
                           gs, g_dot, gs_dot);
    default:
        return NAN;
    }
}
