/* SPDX-License-Identifier: MIT */
/*
 * One training step of the TopK sparse autoencoder (Algorithm 1, lines
 * 5-21), with analytic gradients.
 *
 * Forward. P = (x - b_dec) W_enc^T + b_enc by one BLIS sgemm (the only
 * O(features) work per row); h = TopK(ReLU(P)) keeps k slots per row; the
 * reconstruction x~ = W_dec h + b_dec reads only the k decoder columns of
 * the active latents, so it and every gradient below cost O(k inputs) per
 * row, not O(features inputs).
 *
 * Losses (means over the batch of B rows):
 *   L_recons = sum_r ||x~_r - x_r||^2 / B       L_act = sum_r ||h_r||^2 / B
 *   L_aux    = sum_r ||e~_r - e_r||^2 / B       (AuxK, optional: e = x - x~
 *              held fixed, e~ = W_dec h_aux from the auxk largest
 *              pre-activations among dead latents; OpenAI's TopK SAEs)
 *   L_mono   (mono.c)
 *   L = l_recons L_recons + l_mono L_mono + l_act L_act + aux_coef L_aux
 *
 * Backward. g_r = dL/dx~_r = 2 l_recons (x~_r - x_r) / B; per active slot
 * dL/dh = <W_dec[j], g_r> + 2 l_act h / B (+ the L_mono term); TopK and
 * ReLU pass it to P at the kept slots only (kept values are > 0). Then, per
 * latent j, over the slots where j is active (rows of the batch, of M and
 * of the AuxK codes):
 *   dW_enc[j] = sum dL/dP * (x - b_dec)     db_enc[j] = sum dL/dP
 *   dW_dec[j] = sum h * g  (batch and AuxK slots)
 * and db_dec = sum_r g_r - sum_j db_enc[j] W_enc[j] (x is centred on b_dec).
 *
 * Update. Each latent's two gradient rows are built in a per-thread buffer
 * and applied at once: the decoder gradient loses its component along the
 * (unit) decoder column, Adam (PyTorch's torch.optim.Adam arithmetic) moves
 * W_enc[j], W_dec[j] and b_enc[j], and W_dec[j] is scaled back to unit norm
 * (OpenAI's sparse_autoencoder does the same two things). Latents without
 * active slots still take Adam's step (their moments decay), as in PyTorch.
 * No gradient array of the weights' size is ever formed.
 *
 * Determinism. Every sum runs in a fixed order (rows in order, each
 * latent's slots sorted by set, row and slot by a counting sort), whatever
 * the thread count, and BLIS's sgemm splits its outputs among threads,
 * never its sums: a step gives the same bits on any thread count. Another
 * BLIS kernel set rounds the products differently (docs/sae.md).
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "core/ctx.h"
#include "core/error.h"
#include "linalg/tiles.h"
#include "matrix/matrix.h"
#include "sae_train/trainer.h"

/* One group of codes whose slots feed the gradients. */
typedef struct code_set {
    int64_t rows, k, base;  /* base: first entry number of its slots */
    const float *xc;        /* rows x inputs, centred on b_dec */
    const int32_t *idx;
    const float *val, *dh;  /* rows x k */
    const int64_t *cnt;
    const float *g;         /* rows x inputs: dL/d(its decoding), or NULL */
} code_set;

static code_set code_set_of(int64_t rows, int64_t k, const float *xc,
                            const int32_t *idx, const float *val,
                            const float *dh, const int64_t *cnt,
                            const float *g)
{
    code_set c;
    c.rows = rows;
    c.k = k;
    c.base = 0; /* set once every set is known */
    c.xc = xc;
    c.idx = idx;
    c.val = val;
    c.dh = dh;
    c.cnt = cnt;
    c.g = g;
    return c;
}

typedef struct adam_coef {
    float beta1, beta2, step_size, bc2_sqrt, eps;
} adam_coef;

static adam_coef adam_coef_for(const subsel_sae_trainer *t)
{
    double n = (double)(t->step + 1);
    adam_coef c;
    c.beta1 = (float)t->beta1;
    c.beta2 = (float)t->beta2;
    c.step_size = (float)(t->lr / (1.0 - pow(t->beta1, n)));
    c.bc2_sqrt = (float)sqrt(1.0 - pow(t->beta2, n));
    c.eps = (float)t->eps;
    return c;
}

static void adam(float *p, float *m, float *v, const float *g, int64_t n,
                 const adam_coef *c)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        float gi = g ? g[i] : 0.0f;
        m[i] = c->beta1 * m[i] + (1.0f - c->beta1) * gi;
        v[i] = c->beta2 * v[i] + (1.0f - c->beta2) * gi * gi;
        p[i] -= c->step_size * m[i] / (sqrtf(v[i]) / c->bc2_sqrt + c->eps);
    }
}

static float dotf(const float *a, const float *b, int64_t n)
{
    double s = 0.0;
    int64_t i;
    for (i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return (float)s;
}

static void axpyf(float a, const float *x, float *y, int64_t n)
{
    int64_t i;
    for (i = 0; i < n; i++)
        y[i] += a * x[i];
}

double ss_sae_reconstruct(const subsel_sae_trainer *t, const int32_t *idx,
                          const float *val, int64_t cnt, float *out)
{
    const int64_t d = t->inputs;
    double act = 0.0;
    int64_t s;
    memcpy(out, t->b_dec, (size_t)d * sizeof *out);
    for (s = 0; s < cnt; s++) {
        axpyf(val[s], t->w_dec + (int64_t)idx[s] * d, out, d);
        act += (double)val[s] * val[s];
    }
    return act;
}

/* ---- b_dec from the first batch ---------------------------------------- */

/* The mean of the rows, then (geometric median) Weiszfeld's iterations
 * from it: y <- sum w_r x_r / sum w_r with w_r = 1 / ||x_r - y||, rows at
 * y left out, until y moves by less than 1e-7 of the mean distance, at
 * most 200 times. */
static void init_b_dec(subsel_sae_trainer *t, const float *x, int64_t ld,
                       int64_t rows, double *y, double *next)
{
    const int64_t d = t->inputs;
    int64_t r, c, it;
    memset(y, 0, (size_t)d * sizeof *y);
    for (r = 0; r < rows; r++)
        for (c = 0; c < d; c++)
            y[c] += x[r * ld + c];
    for (c = 0; c < d; c++)
        y[c] /= (double)rows;
    for (it = 0; t->b_dec_init == SUBSEL_SAE_INIT_GEOMETRIC_MEDIAN && it < 200;
         it++) {
        double wsum = 0.0, dsum = 0.0, move = 0.0;
        memset(next, 0, (size_t)d * sizeof *next);
        for (r = 0; r < rows; r++) {
            double dist = 0.0, w;
            for (c = 0; c < d; c++) {
                double e = x[r * ld + c] - y[c];
                dist += e * e;
            }
            dist = sqrt(dist);
            dsum += dist;
            if (dist == 0.0)
                continue;
            w = 1.0 / dist;
            wsum += w;
            for (c = 0; c < d; c++)
                next[c] += w * x[r * ld + c];
        }
        if (wsum == 0.0)
            break;
        for (c = 0; c < d; c++) {
            double e = next[c] / wsum - y[c];
            move += e * e;
            y[c] = next[c] / wsum;
        }
        if (sqrt(move) <= 1e-7 * dsum / (double)rows)
            break;
    }
    for (c = 0; c < d; c++)
        t->b_dec[c] = (float)y[c];
}

/* ---- forward ----------------------------------------------------------- */

/* Decodes every row, its losses, g and dh; and with AuxK the codes over
 * dead latents, their decoding and gradients. row_loss gets (recons, act,
 * aux) per row, summed afterwards in row order. */
static void decode_rows(subsel_sae_trainer *t, const subsel_ctx *ctx,
                        const float *x, int64_t ld, int64_t rows, int aux)
{
    ss_sae_buffers *b = &t->buf;
    const int64_t d = t->inputs, L = t->features, k = t->k, ak = t->auxk;
    const float grad_scale = (float)(2.0 * t->l_recons / (double)rows);
    const float act_scale = (float)(2.0 * t->l_act / (double)rows);
    const float aux_scale = (float)(2.0 * t->aux_coef / (double)rows);
    int64_t r;
#pragma omp parallel for num_threads(b->threads) schedule(static)
    for (r = 0; r < rows; r++) {
        int part = ss_thread_num();
        float *res = b->resbuf + (int64_t)part * 2 * d, *rec = res + d;
        const int32_t *idx = b->idx + r * k;
        const float *val = b->val + r * k;
        float *g = b->g + r * d, *dh = b->dh + r * k;
        double l_rec = 0.0, l_act = 0.0, l_aux = 0.0;
        int64_t s, c;
        l_act = ss_sae_reconstruct(t, idx, val, b->cnt[r], rec);
        for (c = 0; c < d; c++) {
            res[c] = rec[c] - x[r * ld + c];
            l_rec += (double)res[c] * res[c];
            g[c] = grad_scale * res[c];
        }
        for (s = 0; s < b->cnt[r]; s++)
            dh[s] = dotf(t->w_dec + (int64_t)idx[s] * d, g, d) +
                    act_scale * val[s];
        if (aux) {
            /* the pre-activations of dead latents only (others 0, which
             * ReLU never keeps) */
            float *row = b->aux_row + (int64_t)part * L;
            const float *a = b->act + r * L;
            const int32_t *ai = b->idx_aux + r * ak;
            const float *av = b->val_aux + r * ak;
            float *ga = b->g_aux + r * d, *dha = b->dh_aux + r * ak;
            int64_t j;
            for (j = 0; j < L; j++)
                row[j] = t->rows_seen - t->last_fired[j] >= t->dead_rows
                             ? a[j] : 0.0f;
            b->cnt_aux[r] = ss_sae_topk_row(
                row, NULL, L, ak, b->aux_scratch.heap + (int64_t)part * ak,
                b->aux_scratch.work + (int64_t)part * b->aux_scratch.work_len,
                b->idx_aux + r * ak, b->val_aux + r * ak);
            /* e~ - e with e = x - x~ held fixed: e~ + res */
            memcpy(rec, res, (size_t)d * sizeof *rec);
            for (s = 0; s < b->cnt_aux[r]; s++)
                axpyf(av[s], t->w_dec + (int64_t)ai[s] * d, rec, d);
            for (c = 0; c < d; c++) {
                l_aux += (double)rec[c] * rec[c];
                ga[c] = aux_scale * rec[c];
            }
            for (s = 0; s < b->cnt_aux[r]; s++)
                dha[s] = dotf(t->w_dec + (int64_t)ai[s] * d, ga, d);
        }
        b->row_loss[3 * r] = l_rec;
        b->row_loss[3 * r + 1] = l_act;
        b->row_loss[3 * r + 2] = l_aux;
    }
}

/* ---- backward and update ----------------------------------------------- */

/* Lists every latent's slots, in set, row and slot order (start[j] ..
 * start[j + 1] in entry[]), and sums db_enc. */
static void sort_slots(subsel_sae_trainer *t, const code_set *sets, int n)
{
    ss_sae_buffers *b = &t->buf;
    const int64_t L = t->features;
    int64_t j, r, s;
    int q;
    memset(b->start, 0, (size_t)(L + 1) * sizeof *b->start);
    for (q = 0; q < n; q++)
        for (r = 0; r < sets[q].rows; r++)
            for (s = 0; s < sets[q].cnt[r]; s++)
                b->start[sets[q].idx[r * sets[q].k + s] + 1]++;
    for (j = 0; j < L; j++)
        b->start[j + 1] += b->start[j];
    for (q = 0; q < n; q++)
        for (r = 0; r < sets[q].rows; r++)
            for (s = 0; s < sets[q].cnt[r]; s++) {
                int64_t slot = r * sets[q].k + s;
                int32_t lat = sets[q].idx[slot];
                b->entry[b->start[lat]++] = sets[q].base + slot;
            }
    /* start[j] now holds the end of j's list: shift back */
    for (j = L; j > 0; j--)
        b->start[j] = b->start[j - 1];
    b->start[0] = 0;
}

/* The set an entry number belongs to. */
static const code_set *set_of(const code_set *sets, int n, int64_t e)
{
    int q = n - 1;
    while (q > 0 && e < sets[q].base)
        q--;
    return &sets[q];
}

/* db_enc per latent, then db_dec = sum_r g_r - sum_j db_enc[j] W_enc[j],
 * with the W_enc of before the update. */
static void bias_grads(subsel_sae_trainer *t, const subsel_ctx *ctx,
                       const code_set *sets, int n, int64_t rows)
{
    ss_sae_buffers *b = &t->buf;
    const int64_t d = t->inputs, L = t->features;
    int64_t j, c;
    for (j = 0; j < L; j++) {
        double s = 0.0;
        int64_t e;
        for (e = b->start[j]; e < b->start[j + 1]; e++) {
            const code_set *q = set_of(sets, n, b->entry[e]);
            s += q->dh[b->entry[e] - q->base];
        }
        b->gb_enc[j] = (float)s;
    }
#pragma omp parallel for num_threads(ss_threads_for(ctx, d)) schedule(static)
    for (c = 0; c < d; c++) {
        double s = 0.0;
        int64_t r, jj;
        for (r = 0; r < rows; r++)
            s += b->g[r * d + c];
        for (jj = 0; jj < L; jj++)
            if (b->gb_enc[jj] != 0.0f)
                s -= (double)b->gb_enc[jj] * t->w_enc[jj * d + c];
        b->gb_dec[c] = s;
    }
}

/* Builds latent j's gradient rows (gw: W_enc, gd: W_dec) from its slots. */
static void latent_grads(const subsel_sae_trainer *t, const code_set *sets,
                         int n, int64_t j, float *gw, float *gd)
{
    const ss_sae_buffers *b = &t->buf;
    const int64_t d = t->inputs;
    int64_t e;
    memset(gw, 0, (size_t)d * sizeof *gw);
    memset(gd, 0, (size_t)d * sizeof *gd);
    for (e = b->start[j]; e < b->start[j + 1]; e++) {
        const code_set *q = set_of(sets, n, b->entry[e]);
        int64_t slot = b->entry[e] - q->base, r = slot / q->k;
        axpyf(q->dh[slot], q->xc + r * d, gw, d);
        if (q->g != NULL)
            axpyf(q->val[slot], q->g + r * d, gd, d);
    }
}

static void update(subsel_sae_trainer *t, const subsel_ctx *ctx,
                   const code_set *sets, int n)
{
    ss_sae_buffers *b = &t->buf;
    const int64_t d = t->inputs, L = t->features, Ld = L * d;
    const adam_coef c = adam_coef_for(t);
    float *grad = t->grad_out;
    int64_t j;
#pragma omp parallel for num_threads(b->threads) schedule(dynamic, 16)
    for (j = 0; j < L; j++) {
        float *gw = b->rowbuf + (int64_t)ss_thread_num() * 2 * d, *gd = gw + d;
        float *wd = t->w_dec + j * d;
        int64_t off_b = 2 * Ld + j;
        float proj, norm;
        int64_t i;
        latent_grads(t, sets, n, j, gw, gd);
        if (grad != NULL) {
            memcpy(grad + j * d, gw, (size_t)d * sizeof *gw);
            memcpy(grad + Ld + j * d, gd, (size_t)d * sizeof *gd);
            grad[off_b] = b->gb_enc[j];
            continue;
        }
        proj = dotf(gd, wd, d);
        for (i = 0; i < d; i++)
            gd[i] -= proj * wd[i];
        adam(t->w_enc + j * d, t->adam_m + j * d, t->adam_v + j * d, gw, d,
             &c);
        adam(wd, t->adam_m + Ld + j * d, t->adam_v + Ld + j * d, gd, d, &c);
        adam(t->b_enc + j, t->adam_m + off_b, t->adam_v + off_b,
             b->gb_enc + j, 1, &c);
        norm = sqrtf(dotf(wd, wd, d));
        if (norm > 0.0f)
            for (i = 0; i < d; i++)
                wd[i] /= norm;
    }
    {
        float *gbd = b->rowbuf; /* the rows are free again */
        int64_t off = 2 * Ld + L;
        for (j = 0; j < d; j++)
            gbd[j] = (float)b->gb_dec[j];
        if (grad != NULL)
            memcpy(grad + off, gbd, (size_t)d * sizeof *gbd);
        else
            adam(t->b_dec, t->adam_m + off, t->adam_v + off, gbd, d, &c);
    }
}

/* ---- the step ---------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Adds the time since *mark to phase p and moves the mark. */
static void lap(subsel_sae_trainer *t, int p, double *mark)
{
    double n = now();
    t->seconds[p] += n - *mark;
    *mark = n;
}

static int check_codes(subsel_ctx *ctx, const int64_t *cnt, int64_t rows,
                       const char *what)
{
    int64_t r;
    for (r = 0; r < rows; r++)
        if (cnt[r] < 0)
            return ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "subsel_sae_trainer_step: %s row %lld has an "
                           "activation that is not finite (the weights or "
                           "the inputs overflow float)",
                           what, (long long)r);
    return SUBSEL_OK;
}

static int64_t count_dead(const subsel_sae_trainer *t)
{
    int64_t j, dead = 0;
    for (j = 0; j < t->features; j++)
        dead += t->rows_seen - t->last_fired[j] >= t->dead_rows;
    return dead;
}

int ss_sae_train_step(subsel_ctx *ctx, subsel_sae_trainer *t, const float *x,
                      int64_t ld, int64_t rows, const int64_t *ids,
                      const ss_mono_sets *sets)
{
    ss_sae_buffers *b = &t->buf;
    ss_sae_weights w;
    code_set cs[3];
    int n = 1, aux, mono = 0, had_b_dec = t->b_dec_ready;
    double mark;
    double sum[3] = {0.0, 0.0, 0.0}, l_mono = 0.0;
    const int64_t d = t->inputs;
    int64_t r, j;
    int rc;

    if (t->k > t->features)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_step: k = %lld exceeds the %lld "
                       "latents",
                       (long long)t->k, (long long)t->features);
    if (t->auxk > t->features)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_sae_trainer_step: auxk = %lld exceeds the %lld "
                       "latents",
                       (long long)t->auxk, (long long)t->features);
    for (r = 0; r < rows; r++) {
        int64_t bad = ss_find_nonfinite(x + r * ld, d);
        if (bad >= 0)
            return ss_fail(ctx, SUBSEL_E_NUMERIC,
                           "subsel_sae_trainer_step: input row %lld, column "
                           "%lld is not finite",
                           (long long)r, (long long)bad);
    }
    SS_CHECK(ss_sae_buffers_reserve(ctx, t, rows));
    if (!t->b_dec_ready)
        init_b_dec(t, x, ld, rows, b->gb_dec, b->sum_x);
    t->b_dec_ready = 1;
    w = ss_sae_trainer_weights(t);
    mark = now();
    ss_sae_code_rows(ctx, &w, x, ld, rows, t->k, &b->scratch, b->xc, b->act,
                     b->idx, b->val, b->cnt);
    lap(t, SS_PHASE_ENCODE, &mark);
    rc = check_codes(ctx, b->cnt, rows, "input");
    if (rc < 0) {
        t->b_dec_ready = had_b_dec;
        return rc;
    }
    t->dead = count_dead(t);
    aux = t->auxk > 0 && t->dead > 0;
    decode_rows(t, ctx, x, ld, rows, aux);
    lap(t, SS_PHASE_DECODE, &mark);

    /* L_mono: the batch joins the reservoir first (Algorithm 1, line 5) */
    t->mono_skipped = 1;
    if (t->l_mono > 0.0) {
        const int64_t *e_rows = NULL;
        const float *m_x = NULL;
        int64_t size = t->set_size;
        if (sets != NULL) {
            e_rows = sets->e_rows;
            m_x = sets->m_rows;
            size = sets->size;
            mono = 1;
        } else {
            ss_reservoir_offer(&t->res, &t->rng, x, ld, rows, d, ids,
                               t->rows_seen);
            mono = ss_mono_draw(t, ctx, x, ld, rows, ids, t->rows_seen);
            e_rows = b->e_rows;
            m_x = b->m_x;
        }
        if (mono) {
            ss_sae_code_rows(ctx, &w, m_x, d, size, t->k, &b->scratch, b->m_xc,
                             b->m_act, b->m_idx, b->m_val, b->m_cnt);
            SS_CHECK(check_codes(ctx, b->m_cnt, size, "M"));
            l_mono = ss_mono_loss(t, x, ld, e_rows, m_x, size);
            cs[n++] = code_set_of(size, t->k, b->m_xc, b->m_idx, b->m_val,
                                  b->m_dh, b->m_cnt, NULL);
        }
    }

    lap(t, SS_PHASE_MONO, &mark);
    for (r = 0; r < rows; r++)
        for (j = 0; j < 3; j++)
            sum[j] += b->row_loss[3 * r + j];
    t->losses[SS_LOSS_RECONS] = sum[0] / (double)rows;
    t->losses[SS_LOSS_ACT] = sum[1] / (double)rows;
    t->losses[SS_LOSS_AUX] = aux ? sum[2] / (double)rows : 0.0;
    t->losses[SS_LOSS_MONO] = l_mono;
    t->losses[SS_LOSS_TOTAL] = t->l_recons * t->losses[SS_LOSS_RECONS] +
                               t->l_mono * l_mono +
                               t->l_act * t->losses[SS_LOSS_ACT] +
                               t->aux_coef * t->losses[SS_LOSS_AUX];

    /* a diverged step is refused before it can write NaN into the weights */
    if (!isfinite(adam_coef_for(t).step_size))
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "subsel_sae_trainer_step: lr = %g overflows float",
                       t->lr);
    if (!isfinite(t->losses[SS_LOSS_TOTAL]))
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "subsel_sae_trainer_step: the loss is not finite "
                       "(recons %g, mono %g, act %g, aux %g): training "
                       "diverged; lower lr or the loss weights",
                       t->losses[SS_LOSS_RECONS], t->losses[SS_LOSS_MONO],
                       t->losses[SS_LOSS_ACT], t->losses[SS_LOSS_AUX]);
    cs[0] = code_set_of(rows, t->k, b->xc, b->idx, b->val, b->dh, b->cnt,
                        b->g);
    if (aux)
        cs[n++] = code_set_of(rows, t->auxk, b->xc, b->idx_aux, b->val_aux,
                              b->dh_aux, b->cnt_aux, b->g_aux);
    cs[0].base = 0;
    for (j = 1; j < n; j++)
        cs[j].base = cs[j - 1].base + cs[j - 1].rows * cs[j - 1].k;
    sort_slots(t, cs, n);
    bias_grads(t, ctx, cs, n, rows);
    update(t, ctx, cs, n);
    lap(t, SS_PHASE_UPDATE, &mark);
    if (t->grad_out != NULL)
        return SUBSEL_OK;

    for (r = 0; r < rows; r++)
        for (j = 0; j < b->cnt[r]; j++)
            t->last_fired[b->idx[r * t->k + j]] = t->rows_seen + rows;
    t->step++;
    t->rows_seen += rows;
    return SUBSEL_OK;
}
