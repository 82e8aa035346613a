/* SPDX-License-Identifier: MIT */
/*
 * The monotonicity loss of SDM (section 2.3, eq. 3; Algorithm 1, lines
 * 5 and 10-17):
 *
 *   L_mono(E, M) = |D| * log(1 + exp(1 - (f(E) - f(M)) / D))
 *   f(A) = sum_i log(1 + m_i(A)),  m_i(A) = sum_{x in A} h_i(x)
 *   D = S(M) - S(E),  S(A) = sum over pairs {x, x'} of A of <x, x'>
 *
 * E is set_size distinct rows of the batch drawn at random; M is one of
 * them, e, with its set_size - 1 nearest neighbours among a reservoir
 * sample of the inputs seen so far (e's own copies, recognised by id,
 * excluded). Choices the paper leaves open, documented in docs/sae.md:
 * pairs are unordered pairs of distinct rows, S(A) = (||sum x||^2 - sum
 * ||x||^2) / 2 in the raw input space, in double; "nearest" is Euclidean
 * distance, computed in double, ties to the lower reservoir slot; a step
 * whose batch is smaller than set_size, whose reservoir holds fewer than
 * set_size - 1 other rows, or whose D is 0 has no L_mono term.
 *
 * Gradient: with u = 1 - (f(E) - f(M)) / D and sigma the logistic
 * function, dL/df(E) = -sign(D) sigma(u) and dL/df(M) = sign(D) sigma(u);
 * df/dh_i(x) = 1 / (1 + m_i(A)) for every row x of A. These reach the
 * codes of E (rows of the batch, which also feed L_recons) and of M (coded
 * again with the current weights), and through them the encoder.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "sae_train/trainer.h"

void ss_reservoir_offer(ss_reservoir *r, ss_rng *rng, const float *x,
                        int64_t ld, int64_t rows, int64_t inputs,
                        const int64_t *ids, int64_t first_id)
{
    int64_t i;
    for (i = 0; i < rows; i++) {
        int64_t slot;
        if (r->count < r->capacity) {
            slot = r->count++;
        } else {
            slot = (int64_t)ss_rng_below(rng, (uint64_t)r->seen + 1);
            if (slot >= r->capacity) {
                r->seen++;
                continue;
            }
        }
        memcpy(r->rows + slot * inputs, x + i * ld,
               (size_t)inputs * sizeof *r->rows);
        r->ids[slot] = ids ? ids[i] : first_id + i;
        r->seen++;
    }
}

/* Max-heap on (dist, slot): the root is the worst kept neighbour. */
static int nn_worse(const ss_nn_entry *a, const ss_nn_entry *b)
{
    return a->dist > b->dist || (a->dist == b->dist && a->slot > b->slot);
}

static void nn_sift_down(ss_nn_entry *h, int64_t n, int64_t i)
{
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, m = i;
        ss_nn_entry tmp;
        if (l < n && nn_worse(&h[l], &h[m]))
            m = l;
        if (r < n && nn_worse(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

static int nn_cmp(const void *a, const void *b)
{
    const ss_nn_entry *x = a, *y = b;
    return nn_worse(x, y) ? 1 : nn_worse(y, x) ? -1 : 0;
}

int ss_mono_draw(subsel_sae_trainer *t, const subsel_ctx *ctx, const float *x,
                 int64_t ld, int64_t rows, const int64_t *ids,
                 int64_t first_id)
{
    ss_sae_buffers *b = &t->buf;
    const ss_reservoir *res = &t->res;
    const int64_t s = t->set_size, d = t->inputs, want = s - 1;
    int64_t i, q, kept = 0, e, e_id;
    const float *xe;
    if (rows < s || res->count < want)
        return 0;
    for (i = 0; i < rows; i++)
        b->pick[i] = i;
    for (i = 0; i < s; i++) {
        int64_t j = i + (int64_t)ss_rng_below(&t->rng, (uint64_t)(rows - i));
        int64_t tmp = b->pick[i];
        b->pick[i] = b->pick[j];
        b->pick[j] = tmp;
        b->e_rows[i] = b->pick[i];
    }
    e = b->e_rows[ss_rng_below(&t->rng, (uint64_t)s)];
    e_id = ids ? ids[e] : first_id + e;
    xe = x + e * ld;
#pragma omp parallel for num_threads(ss_threads_for(ctx, res->count)) schedule(static)
    for (q = 0; q < res->count; q++) {
        const float *rq = res->rows + q * d;
        double dist = 0.0;
        int64_t c;
        for (c = 0; c < d; c++) {
            double diff = (double)rq[c] - xe[c];
            dist += diff * diff;
        }
        b->dist[q] = res->ids[q] == e_id ? INFINITY : dist;
    }
    for (q = 0; q < res->count; q++) {
        ss_nn_entry cand;
        if (isinf(b->dist[q]))
            continue;
        cand.dist = b->dist[q];
        cand.slot = q;
        if (kept < want) {
            int64_t c = kept++;
            b->nn[c] = cand;
            /* sift up */
            while (c > 0 && nn_worse(&b->nn[c], &b->nn[(c - 1) / 2])) {
                ss_nn_entry tmp = b->nn[c];
                b->nn[c] = b->nn[(c - 1) / 2];
                b->nn[(c - 1) / 2] = tmp;
                c = (c - 1) / 2;
            }
        } else if (nn_worse(&b->nn[0], &cand)) {
            b->nn[0] = cand;
            nn_sift_down(b->nn, kept, 0);
        }
    }
    if (kept < want)
        return 0;
    qsort(b->nn, (size_t)kept, sizeof *b->nn, nn_cmp);
    memcpy(b->m_x, xe, (size_t)d * sizeof *b->m_x);
    for (i = 0; i < want; i++)
        memcpy(b->m_x + (i + 1) * d, res->rows + b->nn[i].slot * d,
               (size_t)d * sizeof *b->m_x);
    return 1;
}

/* S(A) = sum over unordered pairs of <x, x'>, in double. */
static double pair_sum(const float *x, int64_t ld, const int64_t *rows,
                       int64_t n, int64_t d, double *sum)
{
    double self = 0.0, total = 0.0;
    int64_t i, c;
    memset(sum, 0, (size_t)d * sizeof *sum);
    for (i = 0; i < n; i++) {
        const float *r = x + (rows ? rows[i] : i) * ld;
        for (c = 0; c < d; c++) {
            sum[c] += r[c];
            self += (double)r[c] * r[c];
        }
    }
    for (c = 0; c < d; c++)
        total += sum[c] * sum[c];
    return (total - self) / 2.0;
}

/* f(A) for the codes of A's rows (slots of `k`), leaving in m[j], for
 * each latent j active in A, 1 / (1 + m_j(A)) stored negated (a mark that
 * j has been counted once). */
static double f_of(double *m, const int64_t *rows, int64_t n, int64_t k,
                   const int32_t *idx, const float *val, const int64_t *cnt)
{
    double f = 0.0;
    int64_t i, s;
    for (i = 0; i < n; i++) {
        int64_t r = rows ? rows[i] : i;
        for (s = 0; s < cnt[r]; s++)
            m[idx[r * k + s]] += val[r * k + s];
    }
    for (i = 0; i < n; i++) {
        int64_t r = rows ? rows[i] : i;
        for (s = 0; s < cnt[r]; s++) {
            double *mj = &m[idx[r * k + s]];
            if (*mj > 0.0) {
                f += log1p(*mj);
                *mj = -1.0 / (1.0 + *mj);
            }
        }
    }
    return f;
}

/* Adds coef * df/dh to dh at A's slots and clears m there. */
static void f_grad(double *m, const int64_t *rows, int64_t n, int64_t k,
                   const int32_t *idx, const int64_t *cnt, double coef,
                   float *dh)
{
    int64_t i, s;
    for (i = 0; i < n; i++) {
        int64_t r = rows ? rows[i] : i;
        for (s = 0; s < cnt[r]; s++)
            dh[r * k + s] += (float)(coef * -m[idx[r * k + s]]);
    }
    for (i = 0; i < n; i++) {
        int64_t r = rows ? rows[i] : i;
        for (s = 0; s < cnt[r]; s++)
            m[idx[r * k + s]] = 0.0;
    }
}

double ss_mono_loss(subsel_sae_trainer *t, const float *x, int64_t ld,
                    const int64_t *e_rows, const float *m_x, int64_t size)
{
    ss_sae_buffers *b = &t->buf;
    const int64_t d = t->inputs, k = t->k;
    double s_e, s_m, delta, f_e, f_m, u, sig, loss, sign;
    int64_t i;
    s_e = pair_sum(x, ld, e_rows, size, d, b->sum_x);
    s_m = pair_sum(m_x, d, NULL, size, d, b->sum_x);
    delta = s_m - s_e;
    f_e = f_of(b->m_sum_e, e_rows, size, k, b->idx, b->val, b->cnt);
    f_m = f_of(b->m_sum_m, NULL, size, k, b->m_idx, b->m_val, b->m_cnt);
    for (i = 0; i < size * k; i++)
        b->m_dh[i] = 0.0f;
    if (delta == 0.0 || !isfinite(delta)) {
        f_grad(b->m_sum_e, e_rows, size, k, b->idx, b->cnt, 0.0, b->dh);
        f_grad(b->m_sum_m, NULL, size, k, b->m_idx, b->m_cnt, 0.0, b->m_dh);
        return 0.0;
    }
    t->mono_skipped = 0;
    u = 1.0 - (f_e - f_m) / delta;
    /* softplus and the logistic function without overflow */
    loss = fabs(delta) * (u > 0.0 ? u + log1p(exp(-u)) : log1p(exp(u)));
    sig = u >= 0.0 ? 1.0 / (1.0 + exp(-u)) : exp(u) / (1.0 + exp(u));
    sign = delta > 0.0 ? 1.0 : -1.0;
    f_grad(b->m_sum_e, e_rows, size, k, b->idx, b->cnt,
           t->l_mono * -sign * sig, b->dh);
    f_grad(b->m_sum_m, NULL, size, k, b->m_idx, b->m_cnt,
           t->l_mono * sign * sig, b->m_dh);
    return loss;
}
