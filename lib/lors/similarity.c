/* SPDX-License-Identifier: MIT */
/*
 * The learned similarity of the synthetic pairs (LoRS, eq. 11):
 * S~ = diag(w) + (alpha/r) L R^T, or a full learned matrix, or the fixed
 * identity. A minibatch of synthetic pairs trains on the block S~[b, b],
 * so only that block is ever formed: O(m^2 r) per step, never O(n^2).
 */
#include <string.h>

#include "lors/lors.h"

int64_t ss_sim_params(const ss_sim *s)
{
    switch (s->kind) {
    case SS_SIM_LOWRANK:
        return s->n * (1 + 2 * s->rank);
    case SS_SIM_FULL:
        return s->n * s->n;
    default:
        return 0;
    }
}

void ss_sim_init(const ss_sim *s, ss_rng *rng, double *params)
{
    int64_t i;
    if (s->kind == SS_SIM_LOWRANK) {
        double *w = params, *l = params + s->n, *r = l + s->n * s->rank;
        for (i = 0; i < s->n; i++)
            w[i] = 1.0;
        for (i = 0; i < s->n * s->rank; i++)
            l[i] = ss_rng_normal(rng);
        /* R = 0: S~ starts at the identity and L still gets a gradient */
        memset(r, 0, sizeof *r * (size_t)(s->n * s->rank));
    } else if (s->kind == SS_SIM_FULL) {
        memset(params, 0, sizeof *params * (size_t)(s->n * s->n));
        for (i = 0; i < s->n; i++)
            params[i * s->n + i] = 1.0;
    }
}

/* S~_ij. */
static double entry(const ss_sim *s, const double *params, int64_t i,
                    int64_t j)
{
    if (s->kind == SS_SIM_LOWRANK) {
        const double *l = params + s->n, *r = l + s->n * s->rank;
        const double *li = l + i * s->rank, *rj = r + j * s->rank;
        double dot = 0.0;
        int64_t c;
        for (c = 0; c < s->rank; c++)
            dot += li[c] * rj[c];
        return s->alpha / (double)s->rank * dot + (i == j ? params[i] : 0.0);
    }
    if (s->kind == SS_SIM_FULL)
        return params[i * s->n + j];
    return i == j ? 1.0 : 0.0;
}

void ss_sim_block(const ss_sim *s, const double *params, int64_t m,
                  const int64_t *idx, double *block)
{
    int64_t i, j;
    for (i = 0; i < m; i++)
        for (j = 0; j < m; j++)
            block[i * m + j] = entry(s, params, idx[i], idx[j]);
}

void ss_sim_row(const ss_sim *s, const double *params, int64_t i,
                double *row)
{
    int64_t j;
    for (j = 0; j < s->n; j++)
        row[j] = entry(s, params, i, j);
}

void ss_sim_block_backward(const ss_sim *s, const double *params, int64_t m,
                           const int64_t *idx, const double *gblock,
                           double *grad)
{
    int64_t i, j, c;
    if (s->kind == SS_SIM_LOWRANK) {
        const double *l = params + s->n, *r = l + s->n * s->rank;
        double *gw = grad, *gl = grad + s->n, *gr = gl + s->n * s->rank;
        double scale = s->alpha / (double)s->rank;
        for (i = 0; i < m; i++) {
            gw[idx[i]] += gblock[i * m + i];
            for (j = 0; j < m; j++) {
                /* d block_ij / d L[idx_i] = scale R[idx_j], and back */
                double g = scale * gblock[i * m + j];
                double *gli = gl + idx[i] * s->rank;
                double *grj = gr + idx[j] * s->rank;
                const double *li = l + idx[i] * s->rank;
                const double *rj = r + idx[j] * s->rank;
                for (c = 0; c < s->rank; c++) {
                    gli[c] += g * rj[c];
                    grj[c] += g * li[c];
                }
            }
        }
    } else if (s->kind == SS_SIM_FULL) {
        for (i = 0; i < m; i++)
            for (j = 0; j < m; j++)
                grad[idx[i] * s->n + idx[j]] += gblock[i * m + j];
    }
}
