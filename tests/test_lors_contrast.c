/* SPDX-License-Identifier: MIT */
/*
 * LoRS's contrastive losses (lib/lors/contrast.c) and its learned
 * similarity (lib/lors/similarity.c): every gradient and tangent against
 * central finite differences, the closed forms the losses reduce to, the
 * limits they reach at logits of +-1000, a plain evaluation with direct
 * exp and log, the paper's Propositions 3.1-3.3 (the gradient in an image
 * representation) by chaining through z = U V^T / tau, and the gradient
 * the similarity's block sends back to w, L, R or the full matrix.
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

#define MAX_M 5
#define MAX_ENTRIES (MAX_M * MAX_M)

static const int64_t batch_sizes[] = {1, 2, 5};
#define N_BATCH_SIZES ((int)(sizeof batch_sizes / sizeof batch_sizes[0]))

static const char *const loss_names[] = {"InfoNCE", "eNCE", "BCE", "wBCE"};

/* wBCE's threshold, as in the paper */
static const double beta = 0.5;

/* Room for ss_contrast_work(MAX_M) doubles, checked at first use. */
static double work[2 * MAX_ENTRIES + 6 * MAX_M + 64];

static double contrast(int loss, int64_t m, const double *z, const double *s,
                       const double *z_dot, double *g, double *gs,
                       double *g_dot, double *gs_dot)
{
    ck_assert_int_le(ss_contrast_work(m), (int64_t)(sizeof work /
                                                    sizeof work[0]));
    return ss_contrast(loss, beta, m, z, s, z_dot, g, gs, g_dot, gs_dot,
                       work);
}

static void fill_normal(ss_rng *rng, double scale, int64_t n, double *x)
{
    int64_t i;
    for (i = 0; i < n; i++)
        x[i] = scale * ss_rng_normal(rng);
}

/* A soft target in [0, 1] with nothing within 0.05 of beta: a finite
 * difference in s never moves an entry across wBCE's split. */
static void fill_target(ss_rng *rng, int64_t n, double *s)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        s[i] = ss_rng_uniform(rng);
        if (fabs(s[i] - beta) < 0.05)
            s[i] = s[i] < beta ? beta - 0.05 : beta + 0.05;
    }
}

/* max_i |got_i - want_i| / max_i |want_i| (absolute when want is 0). */
static double relative_error(int64_t n, const double *got, const double *want)
{
    double diff = 0.0, size = 0.0;
    int64_t i;
    for (i = 0; i < n; i++) {
        diff = fmax(diff, fabs(got[i] - want[i]));
        size = fmax(size, fabs(want[i]));
    }
    return size > 0.0 ? diff / size : diff;
}

static void assert_close(const char *what, int loss, int64_t m, int64_t n,
                         const double *got, const double *want, double tol)
{
    double err = relative_error(n, got, want);
    ck_assert_msg(err < tol, "%s, %s, m %d: relative error %g (tolerance %g)",
                  what, loss_names[loss], (int)m, err, tol);
}

static void assert_finite(const char *what, int loss, int64_t n,
                          const double *x)
{
    int64_t i;
    for (i = 0; i < n; i++)
        ck_assert_msg(isfinite(x[i]), "%s, %s: entry %d is %g", what,
                      loss_names[loss], (int)i, x[i]);
}

static void assert_all_zero(const char *what, int loss, int64_t n,
                            const double *x)
{
    int64_t i;
    for (i = 0; i < n; i++)
        ck_assert_msg(x[i] == 0.0, "%s, %s: entry %d is %g, not 0", what,
                      loss_names[loss], (int)i, x[i]);
}

/* ------------------------------------------------------------------------ */
/* Gradients and tangents against finite differences                        */
/* ------------------------------------------------------------------------ */

START_TEST(test_gradients_match_finite_differences)
{
    int loss = _i, b;
    const double h = 1e-5;
    ss_rng rng;
    ss_rng_seed(&rng, 1401, (uint64_t)loss);
    for (b = 0; b < N_BATCH_SIZES; b++) {
        int64_t m = batch_sizes[b], n = m * m, e;
        double z[MAX_ENTRIES], s[MAX_ENTRIES], g[MAX_ENTRIES],
            gs[MAX_ENTRIES], fd[MAX_ENTRIES], fds[MAX_ENTRIES];
        fill_normal(&rng, 3.0, n, z);
        fill_target(&rng, n, s);
        contrast(loss, m, z, s, NULL, g, gs, NULL, NULL);
        for (e = 0; e < n; e++) {
            double keep = z[e], up, down;
            z[e] = keep + h;
            up = contrast(loss, m, z, s, NULL, NULL, NULL, NULL, NULL);
            z[e] = keep - h;
            down = contrast(loss, m, z, s, NULL, NULL, NULL, NULL, NULL);
            z[e] = keep;
            fd[e] = (up - down) / (2.0 * h);
            keep = s[e];
            s[e] = keep + h;
            up = contrast(loss, m, z, s, NULL, NULL, NULL, NULL, NULL);
            s[e] = keep - h;
            down = contrast(loss, m, z, s, NULL, NULL, NULL, NULL, NULL);
            s[e] = keep;
            fds[e] = (up - down) / (2.0 * h);
        }
        assert_close("dl/dz", loss, m, n, g, fd, 1e-7);
        if (loss == SS_LOSS_INFONCE) {
            /* InfoNCE ignores s: its differences and its gs are exactly 0 */
            assert_all_zero("InfoNCE's l moved with s", loss, n, fds);
            assert_all_zero("gs", loss, n, gs);
        } else {
            assert_close("dl/ds", loss, m, n, gs, fds, 1e-7);
        }
    }
}
END_TEST

START_TEST(test_tangents_match_finite_differences)
{
    int loss = _i, b;
    const double h = 1e-5;
    ss_rng rng;
    ss_rng_seed(&rng, 1402, (uint64_t)loss);
    for (b = 0; b < N_BATCH_SIZES; b++) {
        int64_t m = batch_sizes[b], n = m * m, e;
        double z[MAX_ENTRIES], s[MAX_ENTRIES], zd[MAX_ENTRIES],
            zp[MAX_ENTRIES], zm[MAX_ENTRIES], g_dot[MAX_ENTRIES],
            gs_dot[MAX_ENTRIES], gp[MAX_ENTRIES], gm[MAX_ENTRIES],
            gsp[MAX_ENTRIES], gsm[MAX_ENTRIES], fd[MAX_ENTRIES],
            fds[MAX_ENTRIES], g[MAX_ENTRIES], g_again[MAX_ENTRIES];
        double l, l_again;
        fill_normal(&rng, 3.0, n, z);
        fill_target(&rng, n, s);
        fill_normal(&rng, 1.0, n, zd);
        for (e = 0; e < n; e++) {
            zp[e] = z[e] + h * zd[e];
            zm[e] = z[e] - h * zd[e];
        }
        l = contrast(loss, m, z, s, zd, g, NULL, g_dot, gs_dot);
        contrast(loss, m, zp, s, NULL, gp, gsp, NULL, NULL);
        contrast(loss, m, zm, s, NULL, gm, gsm, NULL, NULL);
        for (e = 0; e < n; e++) {
            fd[e] = (gp[e] - gm[e]) / (2.0 * h);
            fds[e] = (gsp[e] - gsm[e]) / (2.0 * h);
        }
        assert_close("g_dot", loss, m, n, g_dot, fd, 1e-7);
        if (loss == SS_LOSS_INFONCE)
            assert_all_zero("gs_dot", loss, n, gs_dot);
        else
            assert_close("gs_dot", loss, m, n, gs_dot, fds, 1e-7);
        /* the tangents change neither the value nor the gradient */
        l_again = contrast(loss, m, z, s, NULL, g_again, NULL, NULL, NULL);
        ck_assert(l == l_again);
        ck_assert(memcmp(g, g_again, sizeof *g * (size_t)n) == 0);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Closed forms                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_infonce_of_zero_logits)
{
    int b;
    for (b = 0; b < N_BATCH_SIZES; b++) {
        int64_t m = batch_sizes[b], i, j;
        double z[MAX_ENTRIES] = {0}, g[MAX_ENTRIES];
        double l = contrast(SS_LOSS_INFONCE, m, z, NULL, NULL, g, NULL, NULL,
                            NULL);
        ck_assert_msg(fabs(l - 2.0 * log((double)m)) < 1e-15,
                      "m %d: %.17g, not 2 log m", (int)m, l);
        /* both softmaxes uniform: (1/m)(2/m - 2 [i == j]) */
        for (i = 0; i < m; i++)
            for (j = 0; j < m; j++)
                ck_assert(fabs(g[i * m + j] -
                               (2.0 / (double)m - (i == j ? 2.0 : 0.0)) /
                                   (double)m) < 1e-15);
    }
}
END_TEST

/* At s = sigmoid(z) every binary term is at its minimum in z: the
 * gradient vanishes and the loss is the mean binary entropy. */
START_TEST(test_bce_at_its_own_probabilities)
{
    int b;
    ss_rng rng;
    ss_rng_seed(&rng, 1403, 0);
    for (b = 0; b < N_BATCH_SIZES; b++) {
        int64_t m = batch_sizes[b], n = m * m, e;
        double z[MAX_ENTRIES], s[MAX_ENTRIES], g[MAX_ENTRIES], entropy = 0.0,
                                                                l;
        fill_normal(&rng, 2.0, n, z);
        for (e = 0; e < n; e++) {
            s[e] = 1.0 / (1.0 + exp(-z[e]));
            entropy += -s[e] * log(s[e]) - (1.0 - s[e]) * log(1.0 - s[e]);
        }
        l = contrast(SS_LOSS_BCE, m, z, s, NULL, g, NULL, NULL, NULL);
        ck_assert_msg(fabs(l - entropy / (double)m) < 1e-14 * (double)n,
                      "m %d: %.17g against %.17g", (int)m, l,
                      entropy / (double)m);
        for (e = 0; e < n; e++)
            ck_assert_msg(fabs(g[e]) < 1e-16, "m %d: g[%d] = %g", (int)m,
                          (int)e, g[e]);
    }
}
END_TEST

/* With every entry on one side of beta, wBCE is the plain mean over the
 * m^2 entries: BCE * m / m^2, and so are all its derivatives. */
START_TEST(test_wbce_with_one_group_is_scaled_bce)
{
    int b, side;
    ss_rng rng;
    ss_rng_seed(&rng, 1404, 0);
    for (side = 0; side < 2; side++)
        for (b = 0; b < N_BATCH_SIZES; b++) {
            int64_t m = batch_sizes[b], n = m * m, e;
            double z[MAX_ENTRIES], s[MAX_ENTRIES], zd[MAX_ENTRIES],
                gb[4][MAX_ENTRIES], gw[4][MAX_ENTRIES];
            double scale = (double)m / (double)n, lb, lw;
            int k;
            fill_normal(&rng, 3.0, n, z);
            fill_normal(&rng, 1.0, n, zd);
            for (e = 0; e < n; e++)
                s[e] = side ? beta + 1e-3 + 0.4 * ss_rng_uniform(&rng)
                            : beta * ss_rng_uniform(&rng);
            if (!side)
                s[0] = beta; /* the boundary belongs to s <= beta */
            lb = contrast(SS_LOSS_BCE, m, z, s, zd, gb[0], gb[1], gb[2],
                          gb[3]);
            lw = contrast(SS_LOSS_WBCE, m, z, s, zd, gw[0], gw[1], gw[2],
                          gw[3]);
            ck_assert_msg(fabs(lw - lb * scale) <= 1e-14 * fabs(lw),
                          "side %d, m %d: wBCE %.17g, BCE m/m^2 %.17g", side,
                          (int)m, lw, lb * scale);
            for (k = 0; k < 4; k++)
                for (e = 0; e < n; e++)
                    ck_assert(fabs(gw[k][e] - gb[k][e] * scale) <=
                              1e-14 * fabs(gw[k][e]));
        }
}
END_TEST

/* eNCE with s = I (given, or NULL) is InfoNCE, bit for bit, in everything
 * but gs (InfoNCE has none). */
START_TEST(test_ence_of_identity_is_infonce)
{
    int b;
    ss_rng rng;
    ss_rng_seed(&rng, 1405, 0);
    for (b = 0; b < N_BATCH_SIZES; b++) {
        int64_t m = batch_sizes[b], n = m * m, i;
        double z[MAX_ENTRIES], eye[MAX_ENTRIES] = {0}, zd[MAX_ENTRIES],
            gi[2][MAX_ENTRIES], ge[2][MAX_ENTRIES], gn[2][MAX_ENTRIES],
            other[MAX_ENTRIES];
        double li, le, ln, lo;
        fill_normal(&rng, 3.0, n, z);
        fill_normal(&rng, 1.0, n, zd);
        for (i = 0; i < m; i++)
            eye[i * m + i] = 1.0;
        li = contrast(SS_LOSS_INFONCE, m, z, NULL, zd, gi[0], NULL, gi[1],
                      NULL);
        le = contrast(SS_LOSS_ENCE, m, z, eye, zd, ge[0], NULL, ge[1], NULL);
        ln = contrast(SS_LOSS_ENCE, m, z, NULL, zd, gn[0], NULL, gn[1], NULL);
        ck_assert(li == le && li == ln);
        for (i = 0; i < 2; i++) {
            ck_assert(memcmp(gi[i], ge[i], sizeof gi[i][0] * (size_t)n) == 0);
            ck_assert(memcmp(gi[i], gn[i], sizeof gi[i][0] * (size_t)n) == 0);
        }
        /* InfoNCE ignores whatever s it is given */
        fill_target(&rng, n, other);
        lo = contrast(SS_LOSS_INFONCE, m, z, other, NULL, NULL, NULL, NULL,
                      NULL);
        ck_assert(lo == li);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Stability at large logits                                                */
/* ------------------------------------------------------------------------ */

/* Logits of +-1000 (a learned temperature far past CLIP's 1/0.07). The
 * exponentials of differences of 2000 vanish in double, so the limits are
 * exact: a row's log-sum-exp is its largest value plus the log of how
 * many times it occurs, and the softmax is uniform over those places. */
START_TEST(test_large_logits_reach_their_limits)
{
    int loss = _i, b;
    ss_rng rng;
    ss_rng_seed(&rng, 1406, (uint64_t)loss);
    for (b = 0; b < N_BATCH_SIZES; b++) {
        int64_t m = batch_sizes[b], n = m * m, i, j;
        double z[MAX_ENTRIES], s[MAX_ENTRIES], zd[MAX_ENTRIES],
            d[4][MAX_ENTRIES], want[MAX_ENTRIES];
        double l, want_l = 0.0, inv_m = 1.0 / (double)m;
        int64_t top_row[MAX_M], top_col[MAX_M];
        double max_row[MAX_M], max_col[MAX_M];
        for (i = 0; i < n; i++)
            z[i] = ss_rng_below(&rng, 2) ? 1000.0 : -1000.0;
        fill_target(&rng, n, s);
        fill_normal(&rng, 1.0, n, zd);
        if (loss == SS_LOSS_INFONCE)
            for (i = 0; i < n; i++)
                s[i] = i % (m + 1) == 0; /* what InfoNCE uses */
        l = contrast(loss, m, z, s, zd, d[0], d[1], d[2], d[3]);
        ck_assert_msg(isfinite(l), "%s, m %d: l = %g", loss_names[loss],
                      (int)m, l);
        for (i = 0; i < 4; i++)
            assert_finite("derivatives", loss, n, d[i]);
        if (loss == SS_LOSS_BCE || loss == SS_LOSS_WBCE) {
            /* softplus(1000) - s 1000 = (1 - s) 1000; softplus(-1000) +
             * s 1000 = s 1000; the sigmoid is 1 or 0 */
            int64_t pos = 0;
            for (i = 0; i < n; i++)
                pos += s[i] > beta;
            for (i = 0; i < n; i++) {
                double w = loss == SS_LOSS_BCE
                               ? inv_m
                               : 1.0 / (double)(s[i] > beta ? pos : n - pos);
                want_l += w * (z[i] > 0 ? (1.0 - s[i]) * 1000.0
                                        : s[i] * 1000.0);
                want[i] = w * ((z[i] > 0 ? 1.0 : 0.0) - s[i]);
            }
        } else {
            for (i = 0; i < m; i++) {
                max_row[i] = max_col[i] = -INFINITY;
                top_row[i] = top_col[i] = 0;
            }
            for (i = 0; i < m; i++)
                for (j = 0; j < m; j++) {
                    max_row[i] = fmax(max_row[i], z[i * m + j]);
                    max_col[j] = fmax(max_col[j], z[i * m + j]);
                }
            for (i = 0; i < m; i++)
                for (j = 0; j < m; j++) {
                    top_row[i] += z[i * m + j] == max_row[i];
                    top_col[j] += z[i * m + j] == max_col[j];
                }
            for (i = 0; i < m; i++)
                for (j = 0; j < m; j++) {
                    double r = 0.0, c = 0.0, zij = z[i * m + j];
                    int64_t k;
                    for (k = 0; k < m; k++) {
                        r += s[i * m + k];
                        c += s[k * m + j];
                    }
                    want_l += inv_m * s[i * m + j] *
                              (max_row[i] + log((double)top_row[i]) - zij +
                               max_col[j] + log((double)top_col[j]) - zij);
                    want[i * m + j] =
                        inv_m * (r * (zij == max_row[i]) / top_row[i] +
                                 c * (zij == max_col[j]) / top_col[j] -
                                 2.0 * s[i * m + j]);
                }
        }
        ck_assert_msg(fabs(l - want_l) <= 1e-14 * fmax(1.0, fabs(want_l)),
                      "%s, m %d: l %.17g, limit %.17g", loss_names[loss],
                      (int)m, l, want_l);
        assert_close("g at +-1000", loss, m, n, d[0], want, 1e-14);
    }
}
END_TEST

/* The confident cases one by one: a right answer costs 0, a wrong one
 * costs the logit, whatever the batch size. */
START_TEST(test_confident_answers)
{
    int b;
    for (b = 0; b < N_BATCH_SIZES; b++) {
        int64_t m = batch_sizes[b], n = m * m, i;
        double z[MAX_ENTRIES], one[MAX_ENTRIES], g[MAX_ENTRIES], l;
        for (i = 0; i < n; i++) {
            z[i] = 1000.0;
            one[i] = 1.0;
        }
        ck_assert(contrast(SS_LOSS_BCE, m, z, one, NULL, g, NULL, NULL,
                           NULL) == 0.0);
        assert_all_zero("BCE g, z = 1000, s = 1", SS_LOSS_BCE, n, g);
        l = contrast(SS_LOSS_BCE, m, z, NULL, NULL, NULL, NULL, NULL, NULL);
        ck_assert(fabs(l - 1000.0 * (double)(n - m) / (double)m) < 1e-9);
        /* InfoNCE with the diagonal far ahead: 0, and no gradient */
        for (i = 0; i < n; i++)
            z[i] = i % (m + 1) == 0 ? 1000.0 : -1000.0;
        ck_assert(contrast(SS_LOSS_INFONCE, m, z, NULL, NULL, g, NULL, NULL,
                           NULL) == 0.0);
        assert_all_zero("InfoNCE g, diagonal 1000", SS_LOSS_INFONCE, n, g);
        /* ... and far behind: each -log P is 2000 + log(m - 1) */
        for (i = 0; i < n; i++)
            z[i] = -z[i];
        if (m > 1) {
            l = contrast(SS_LOSS_INFONCE, m, z, NULL, NULL, NULL, NULL, NULL,
                         NULL);
            ck_assert(fabs(l - 2.0 * (2000.0 + log((double)(m - 1)))) <
                      1e-12);
        }
    }
}
END_TEST

/* Near-certain answers give losses and derivatives far below 1, which
 * keep their relative precision: nothing computes 1 + tiny and then
 * subtracts 1. */
START_TEST(test_small_values_keep_their_digits)
{
    double z[4] = {20.0, -20.0, -20.0, 20.0}, g[4], zd = 0.75, g_dot, l;
    double e40 = exp(-40.0), e30 = exp(-30.0), want;
    /* each diagonal entry: -log P = log1p(e^-40), twice per row */
    l = contrast(SS_LOSS_INFONCE, 2, z, NULL, NULL, NULL, NULL, NULL, NULL);
    want = 2.0 * log1p(e40);
    ck_assert_msg(fabs(l - want) < 1e-14 * want, "InfoNCE %g, not %g", l,
                  want);
    l = contrast(SS_LOSS_ENCE, 2, z, NULL, NULL, NULL, NULL, NULL, NULL);
    ck_assert(fabs(l - want) < 1e-14 * want);
    /* BCE of one right answer at 40: log1p(e^-40), gradient -sigmoid(-40) */
    z[0] = 40.0;
    l = contrast(SS_LOSS_BCE, 1, z, NULL, NULL, g, NULL, NULL, NULL);
    want = log1p(e40);
    ck_assert_msg(fabs(l - want) < 1e-14 * want, "BCE %g, not %g", l, want);
    want = -e40 / (1.0 + e40);
    ck_assert_msg(fabs(g[0] - want) < 1e-14 * fabs(want), "BCE g %g, not %g",
                  g[0], want);
    /* and its tangent at 30: sigmoid'(30) = e^-30 / (1 + e^-30)^2 */
    z[0] = 30.0;
    contrast(SS_LOSS_BCE, 1, z, NULL, &zd, NULL, NULL, &g_dot, NULL);
    want = zd * e30 / ((1.0 + e30) * (1.0 + e30));
    ck_assert_msg(fabs(g_dot - want) < 1e-14 * want, "BCE g_dot %g, not %g",
                  g_dot, want);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A plain evaluation                                                        */
/* ------------------------------------------------------------------------ */

/* The losses as the paper writes them, with exp and log taken directly:
 * fine for logits of moderate size. */
static double plain_loss(int loss, int64_t m, const double *z,
                         const double *s_in)
{
    double s[MAX_ENTRIES], pos_sum = 0.0, neg_sum = 0.0, total = 0.0;
    int64_t i, j, k, pos = 0, neg = 0;
    for (i = 0; i < m; i++)
        for (j = 0; j < m; j++)
            s[i * m + j] = loss == SS_LOSS_INFONCE ? (i == j) : s_in[i * m + j];
    for (i = 0; i < m; i++)
        for (j = 0; j < m; j++) {
            double zij = z[i * m + j], sij = s[i * m + j];
            if (loss == SS_LOSS_INFONCE || loss == SS_LOSS_ENCE) {
                double row = 0.0, col = 0.0;
                for (k = 0; k < m; k++) {
                    row += exp(z[i * m + k]);
                    col += exp(z[k * m + j]);
                }
                total -= sij * (log(exp(zij) / row) + log(exp(zij) / col));
            } else {
                double p = 1.0 / (1.0 + exp(-zij));
                double term = -sij * log(p) - (1.0 - sij) * log(1.0 - p);
                total += term;
                if (sij > beta) {
                    pos_sum += term;
                    pos++;
                } else {
                    neg_sum += term;
                    neg++;
                }
            }
        }
    if (loss == SS_LOSS_WBCE)
        return (pos > 0 ? pos_sum / (double)pos : 0.0) +
               (neg > 0 ? neg_sum / (double)neg : 0.0);
    return total / (double)m;
}

START_TEST(test_plain_evaluation_agrees)
{
    int loss = _i, b, round;
    ss_rng rng;
    ss_rng_seed(&rng, 1407, (uint64_t)loss);
    for (round = 0; round < 4; round++)
        for (b = 0; b < N_BATCH_SIZES; b++) {
            int64_t m = batch_sizes[b], n = m * m;
            double z[MAX_ENTRIES], s[MAX_ENTRIES], l, want;
            fill_normal(&rng, 4.0, n, z);
            fill_target(&rng, n, s);
            l = contrast(loss, m, z, s, NULL, NULL, NULL, NULL, NULL);
            want = plain_loss(loss, m, z, s);
            ck_assert_msg(fabs(l - want) <= 1e-12 * fabs(want),
                          "%s, m %d: %.17g, plainly %.17g", loss_names[loss],
                          (int)m, l, want);
        }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Propositions 3.1-3.3: the gradient in an image representation            */
/* ------------------------------------------------------------------------ */

#define DIM 4

/* l(U) for z = U V^T / tau, U and V m x DIM row-major; g, when non-NULL,
 * the gradient in z. */
static double loss_of_images(int loss, int64_t m, const double *u,
                             const double *v, double tau, const double *s,
                             double *z, double *g)
{
    int64_t i, j, c;
    for (i = 0; i < m; i++)
        for (j = 0; j < m; j++) {
            double dot = 0.0;
            for (c = 0; c < DIM; c++)
                dot += u[i * DIM + c] * v[j * DIM + c];
            z[i * m + j] = dot / tau;
        }
    return contrast(loss, m, z, s, NULL, g, NULL, NULL, NULL);
}

/* The paper's eqs. 7, 9 and 10, with the anchor weights W_j formed from
 * its own quantities (softmaxes by direct exp, marginal similarities),
 * against g chained by hand through z = U V^T / tau (dl/du_n = sum_j g_nj
 * v_j / tau) and against central differences in U. */
START_TEST(test_gradient_in_image_representations)
{
    static const int losses[] = {SS_LOSS_INFONCE, SS_LOSS_ENCE, SS_LOSS_BCE};
    int loss = losses[_i], b;
    const double tau = 0.07, h = 1e-6;
    ss_rng rng;
    ss_rng_seed(&rng, 1408, (uint64_t)loss);
    for (b = 0; b < N_BATCH_SIZES; b++) {
        int64_t m = batch_sizes[b], n = m * m, i, j, k, c;
        double u[MAX_M * DIM], v[MAX_M * DIM], s[MAX_ENTRIES], z[MAX_ENTRIES],
            g[MAX_ENTRIES], chained[MAX_M * DIM], paper[MAX_M * DIM],
            fd[MAX_M * DIM];
        /* unit representations, as the propositions assume: |z| <= 1/tau */
        fill_normal(&rng, 1.0, m * DIM, u);
        fill_normal(&rng, 1.0, m * DIM, v);
        for (i = 0; i < 2 * m; i++) {
            double *row = i < m ? u + i * DIM : v + (i - m) * DIM, norm = 0.0;
            for (c = 0; c < DIM; c++)
                norm += row[c] * row[c];
            for (c = 0; c < DIM; c++)
                row[c] /= sqrt(norm);
        }
        fill_target(&rng, n, s);
        if (loss == SS_LOSS_INFONCE)
            for (i = 0; i < n; i++)
                s[i] = i % (m + 1) == 0; /* eq. 7's s is the identity */
        loss_of_images(loss, m, u, v, tau, s, z, g);
        for (i = 0; i < m; i++)
            for (c = 0; c < DIM; c++) {
                chained[i * DIM + c] = 0.0;
                for (j = 0; j < m; j++)
                    chained[i * DIM + c] += g[i * m + j] * v[j * DIM + c] / tau;
            }
        for (i = 0; i < m; i++) {
            double row_norm = 0.0, s_row = 0.0;
            for (k = 0; k < m; k++) {
                row_norm += exp(z[i * m + k]);
                s_row += s[i * m + k];
            }
            for (c = 0; c < DIM; c++)
                paper[i * DIM + c] = 0.0;
            for (j = 0; j < m; j++) {
                double col_norm = 0.0, s_col = 0.0, w;
                for (k = 0; k < m; k++) {
                    col_norm += exp(z[k * m + j]);
                    s_col += s[k * m + j];
                }
                if (loss == SS_LOSS_BCE)
                    w = (1.0 / (1.0 + exp(-z[i * m + j])) - s[i * m + j]) /
                        ((double)m * tau);
                else
                    w = (s_row * exp(z[i * m + j]) / row_norm +
                         s_col * exp(z[i * m + j]) / col_norm -
                         2.0 * s[i * m + j]) /
                        ((double)m * tau);
                for (c = 0; c < DIM; c++)
                    paper[i * DIM + c] += w * v[j * DIM + c];
            }
        }
        for (i = 0; i < m * DIM; i++) {
            double keep = u[i], up, down;
            u[i] = keep + h;
            up = loss_of_images(loss, m, u, v, tau, s, z, NULL);
            u[i] = keep - h;
            down = loss_of_images(loss, m, u, v, tau, s, z, NULL);
            u[i] = keep;
            fd[i] = (up - down) / (2.0 * h);
        }
        assert_close("chained g against the proposition", loss, m, m * DIM,
                     chained, paper, 1e-12);
        assert_close("chained g against differences in U", loss, m, m * DIM,
                     chained, fd, 1e-7);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The learned similarity                                                   */
/* ------------------------------------------------------------------------ */

#define SIM_N 6
#define SIM_M 3
static const int64_t sim_idx[SIM_M] = {4, 1, 3};

/* eNCE on fixed logits with the block as its target: the loss the
 * similarity is trained through. Fills gblock when non-NULL. */
static double loss_of_similarity(const ss_sim *sim, const double *params,
                                 const double *z, double *gblock)
{
    double block[SIM_M * SIM_M];
    ss_sim_block(sim, params, SIM_M, sim_idx, block);
    return contrast(SS_LOSS_ENCE, SIM_M, z, block, NULL, NULL, gblock, NULL,
                    NULL);
}

static void check_block_backward(const ss_sim *sim, const double *params_in)
{
    int64_t np = ss_sim_params(sim), p;
    double *params = malloc(sizeof *params * (size_t)np);
    double *grad = malloc(sizeof *grad * (size_t)np);
    double *fd = malloc(sizeof *fd * (size_t)np);
    double z[SIM_M * SIM_M], gblock[SIM_M * SIM_M];
    const double h = 1e-5, start = 0.25;
    ss_rng rng;
    ck_assert(params != NULL && grad != NULL && fd != NULL);
    memcpy(params, params_in, sizeof *params * (size_t)np);
    ss_rng_seed(&rng, 1409, (uint64_t)sim->kind);
    fill_normal(&rng, 2.0, SIM_M * SIM_M, z);
    loss_of_similarity(sim, params, z, gblock);
    /* the backward adds: start from something that is not 0 */
    for (p = 0; p < np; p++)
        grad[p] = start;
    ss_sim_block_backward(sim, params, SIM_M, sim_idx, gblock, grad);
    for (p = 0; p < np; p++) {
        double keep = params[p], up, down;
        params[p] = keep + h;
        up = loss_of_similarity(sim, params, z, NULL);
        params[p] = keep - h;
        down = loss_of_similarity(sim, params, z, NULL);
        params[p] = keep;
        fd[p] = (up - down) / (2.0 * h);
        grad[p] -= start;
    }
    {
        double err = relative_error(np, grad, fd);
        ck_assert_msg(err < 1e-8, "kind %d: relative error %g", sim->kind,
                      err);
    }
    /* what the minibatch does not touch gets nothing */
    for (p = 0; p < np; p++)
        if (fd[p] == 0.0)
            ck_assert_msg(grad[p] == 0.0, "kind %d: parameter %d got %g",
                          sim->kind, (int)p, grad[p]);
    free(fd);
    free(grad);
    free(params);
}

START_TEST(test_lowrank_block_backward)
{
    ss_sim sim = {SS_SIM_LOWRANK, SIM_N, 2, 1.5};
    double params[SIM_N * (1 + 2 * 2)];
    int64_t p, untouched = 0;
    ss_rng rng;
    ck_assert_int_eq(ss_sim_params(&sim), SIM_N * 5);
    ss_rng_seed(&rng, 1410, 0);
    fill_normal(&rng, 1.0, SIM_N * 5, params); /* w, L and R all nonzero */
    for (p = 0; p < SIM_N * 5; p++)
        ck_assert(params[p] != 0.0);
    check_block_backward(&sim, params);
    /* rows 0, 2, 5 of w, L, R are outside the minibatch: make sure the
     * check above saw zeros there (and so tested them) */
    {
        double z[SIM_M * SIM_M] = {0}, gblock[SIM_M * SIM_M];
        double grad[SIM_N * 5] = {0};
        z[1] = 1.0;
        loss_of_similarity(&sim, params, z, gblock);
        ss_sim_block_backward(&sim, params, SIM_M, sim_idx, gblock, grad);
        for (p = 0; p < SIM_N * 5; p++) {
            int64_t row = p < SIM_N ? p : ((p - SIM_N) % (SIM_N * 2)) / 2;
            if (row == 0 || row == 2 || row == 5) {
                ck_assert(grad[p] == 0.0);
                untouched++;
            }
        }
        ck_assert_int_eq(untouched, 3 * 5);
    }
}
END_TEST

START_TEST(test_full_block_backward)
{
    ss_sim sim = {SS_SIM_FULL, SIM_N, 0, 0.0};
    double params[SIM_N * SIM_N];
    ss_rng rng;
    ck_assert_int_eq(ss_sim_params(&sim), SIM_N * SIM_N);
    ss_rng_seed(&rng, 1411, 0);
    fill_normal(&rng, 1.0, SIM_N * SIM_N, params);
    check_block_backward(&sim, params);
}
END_TEST

START_TEST(test_init_is_the_identity)
{
    static const int kinds[] = {SS_SIM_IDENTITY, SS_SIM_LOWRANK, SS_SIM_FULL};
    ss_sim sim = {kinds[_i], SIM_N, 2, 1.5};
    int64_t all[SIM_N], i, j, np = ss_sim_params(&sim);
    double params[SIM_N * SIM_N], block[SIM_N * SIM_N],
        sub[SIM_M * SIM_M];
    ss_rng rng;
    /* something else first, so that init has to overwrite it */
    for (i = 0; i < SIM_N * SIM_N; i++)
        params[i] = 7.0;
    ss_rng_seed(&rng, 1412, 0);
    ss_sim_init(&sim, &rng, params);
    for (i = 0; i < SIM_N; i++)
        all[i] = i;
    ss_sim_block(&sim, params, SIM_N, all, block);
    for (i = 0; i < SIM_N; i++)
        for (j = 0; j < SIM_N; j++)
            ck_assert_msg(block[i * SIM_N + j] == (i == j ? 1.0 : 0.0),
                          "kind %d: S~[%d, %d] = %g", sim.kind, (int)i,
                          (int)j, block[i * SIM_N + j]);
    ss_sim_block(&sim, params, SIM_M, sim_idx, sub);
    for (i = 0; i < SIM_M; i++)
        for (j = 0; j < SIM_M; j++)
            ck_assert(sub[i * SIM_M + j] == (i == j ? 1.0 : 0.0));
    if (sim.kind == SS_SIM_LOWRANK) {
        /* L drawn (so that it still gets a gradient), R zero */
        int64_t nonzero = 0;
        for (i = SIM_N; i < SIM_N * 3; i++)
            nonzero += params[i] != 0.0;
        ck_assert_int_eq(nonzero, SIM_N * 2);
        for (i = SIM_N * 3; i < np; i++)
            ck_assert(params[i] == 0.0);
    }
    if (sim.kind == SS_SIM_IDENTITY)
        ck_assert_int_eq(np, 0);
}
END_TEST

Suite *lors_contrast_suite(void)
{
    Suite *s = suite_create("lors_contrast");
    TCase *grad = tcase_create("derivatives");
    TCase *closed = tcase_create("closed forms");
    TCase *stable = tcase_create("large logits");
    TCase *plain = tcase_create("plain evaluation");
    TCase *paper = tcase_create("propositions");
    TCase *sim = tcase_create("similarity");
    tcase_add_loop_test(grad, test_gradients_match_finite_differences, 0, 4);
    tcase_add_loop_test(grad, test_tangents_match_finite_differences, 0, 4);
    tcase_add_test(closed, test_infonce_of_zero_logits);
    tcase_add_test(closed, test_bce_at_its_own_probabilities);
    tcase_add_test(closed, test_wbce_with_one_group_is_scaled_bce);
    tcase_add_test(closed, test_ence_of_identity_is_infonce);
    tcase_add_loop_test(stable, test_large_logits_reach_their_limits, 0, 4);
    tcase_add_test(stable, test_confident_answers);
    tcase_add_test(stable, test_small_values_keep_their_digits);
    tcase_add_loop_test(plain, test_plain_evaluation_agrees, 0, 4);
    tcase_add_loop_test(paper, test_gradient_in_image_representations, 0, 3);
    tcase_add_test(sim, test_lowrank_block_backward);
    tcase_add_test(sim, test_full_block_backward);
    tcase_add_loop_test(sim, test_init_is_the_identity, 0, 3);
    suite_add_tcase(s, grad);
    suite_add_tcase(s, closed);
    suite_add_tcase(s, stable);
    suite_add_tcase(s, plain);
    suite_add_tcase(s, paper);
    suite_add_tcase(s, sim);
    return s;
}
