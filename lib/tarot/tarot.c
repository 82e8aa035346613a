/* SPDX-License-Identifier: MIT */
/*
 * The TAROT selector handle: creation from candidate and target matrices,
 * options with bounds and defaults, and release of the computed state.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/matrix.h"
#include "tarot/tarot.h"

enum { KIND_INT, KIND_DOUBLE };

typedef struct param_spec {
    int id;
    const char *name;
    int kind;
    int frozen_after_whitening; /* projection and whitening options */
    double min, max, def;
} param_spec;

static const param_spec params[] = {
    {SUBSEL_TAROT_PROJ_DIM, "proj_dim", KIND_INT, 1, 0, 1048576, 0},
    {SUBSEL_TAROT_PROJ_KIND, "proj_kind", KIND_INT, 1, SUBSEL_PROJ_RADEMACHER,
     SUBSEL_PROJ_GAUSSIAN, SUBSEL_PROJ_RADEMACHER},
    {SUBSEL_TAROT_PROJ_BLOCK, "proj_block", KIND_INT, 1, 0, (double)INT64_MAX,
     0},
    {SUBSEL_TAROT_WHITEN, "whiten", KIND_INT, 1, SUBSEL_WHITEN_NONE,
     SUBSEL_WHITEN_ZCA, SUBSEL_WHITEN_CHOLESKY},
    {SUBSEL_TAROT_CENTER, "center", KIND_INT, 1, 0, 1, 1},
    {SUBSEL_TAROT_REFERENCE, "reference", KIND_INT, 0, 0, 1, 0},
    {SUBSEL_TAROT_MAX_RANK, "max_rank", KIND_INT, 0, 1, (double)INT64_MAX,
     2000},
    {SUBSEL_TAROT_POTENTIALS, "potentials", KIND_INT, 0, 0, 1, 1},
    {SUBSEL_TAROT_EPS, "eps", KIND_DOUBLE, 1, 0, 1e30, 1e-5},
    {SUBSEL_TAROT_BLUR, "blur", KIND_DOUBLE, 0, 1e-6, 1e6, 0.01},
    {SUBSEL_TAROT_SCALING, "scaling", KIND_DOUBLE, 0, 0.01, 0.99, 0.5},
};

static const param_spec *find_param(int id)
{
    size_t i;
    for (i = 0; i < sizeof params / sizeof params[0]; i++)
        if (params[i].id == id)
            return &params[i];
    return NULL;
}

static int64_t *int_slot(subsel_tarot *t, int id)
{
    switch (id) {
    case SUBSEL_TAROT_PROJ_DIM: return &t->proj_dim;
    case SUBSEL_TAROT_PROJ_KIND: return &t->proj_kind;
    case SUBSEL_TAROT_PROJ_BLOCK: return &t->proj_block;
    case SUBSEL_TAROT_WHITEN: return &t->whiten;
    case SUBSEL_TAROT_CENTER: return &t->center;
    case SUBSEL_TAROT_REFERENCE: return &t->reference;
    case SUBSEL_TAROT_MAX_RANK: return &t->max_rank;
    case SUBSEL_TAROT_POTENTIALS: return &t->potentials;
    default: return NULL;
    }
}

static double *double_slot(subsel_tarot *t, int id)
{
    switch (id) {
    case SUBSEL_TAROT_EPS: return &t->eps;
    case SUBSEL_TAROT_BLUR: return &t->blur;
    case SUBSEL_TAROT_SCALING: return &t->scaling;
    default: return NULL;
    }
}

int subsel_tarot_create(subsel_ctx *ctx, const subsel_dense *candidates,
                        const subsel_dense *targets, subsel_tarot **out)
{
    subsel_tarot *t;
    size_t i;
    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(ctx, candidates);
    SS_REQUIRE_NONNULL(ctx, targets);
    if (candidates->rows < 1 || targets->rows < 1 || candidates->cols < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_create: candidates (%lld x %lld) and "
                       "targets (%lld x %lld) need at least one row and one "
                       "column",
                       (long long)candidates->rows,
                       (long long)candidates->cols, (long long)targets->rows,
                       (long long)targets->cols);
    if (candidates->cols != targets->cols)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_create: candidates have %lld columns, "
                       "targets %lld",
                       (long long)candidates->cols, (long long)targets->cols);
    SS_CHECK(ss_calloc_array(ctx, 1, sizeof *t, &t));
    t->alloc = ctx->alloc;
    t->cand = candidates;
    t->targ = targets;
    t->n = candidates->rows;
    t->m = targets->rows;
    t->cols = candidates->cols;
    for (i = 0; i < sizeof params / sizeof params[0]; i++) {
        if (params[i].kind == KIND_INT)
            *int_slot(t, params[i].id) = (int64_t)params[i].def;
        else
            *double_slot(t, params[i].id) = params[i].def;
    }
    *out = t;
    return SUBSEL_OK;
}

void subsel_tarot_free(subsel_tarot *t)
{
    ss_allocator a;
    if (t == NULL)
        return;
    a = t->alloc;
    ss_free_raw(&a, t->u);
    ss_free_raw(&a, t->v);
    ss_free_raw(&a, t->u_sq);
    ss_free_raw(&a, t->v_sq);
    ss_tarot_lists_free(&a, &t->cache);
    ss_free_raw(&a, t);
}

static int check_settable(const subsel_tarot *t, const param_spec *p,
                          int kind)
{
    if (t == NULL || p == NULL || p->kind != kind)
        return SUBSEL_E_INVALID;
    if (p->frozen_after_whitening && t->u != NULL)
        return SUBSEL_E_STATE;
    return SUBSEL_OK;
}

int subsel_tarot_set_int(subsel_tarot *t, int param, int64_t value)
{
    const param_spec *p = find_param(param);
    SS_CHECK(check_settable(t, p, KIND_INT));
    if ((double)value < p->min || (double)value > p->max)
        return SUBSEL_E_INVALID;
    *int_slot(t, param) = value;
    return SUBSEL_OK;
}

int subsel_tarot_set_double(subsel_tarot *t, int param, double value)
{
    const param_spec *p = find_param(param);
    SS_CHECK(check_settable(t, p, KIND_DOUBLE));
    if (!(value >= p->min && value <= p->max)) /* NaN fails too */
        return SUBSEL_E_INVALID;
    *double_slot(t, param) = value;
    return SUBSEL_OK;
}

int subsel_tarot_get_int(const subsel_tarot *t, int param, int64_t *value)
{
    const param_spec *p = find_param(param);
    if (t == NULL || value == NULL || p == NULL || p->kind != KIND_INT)
        return SUBSEL_E_INVALID;
    *value = *int_slot((subsel_tarot *)t, param);
    return SUBSEL_OK;
}

int subsel_tarot_get_double(const subsel_tarot *t, int param, double *value)
{
    const param_spec *p = find_param(param);
    if (t == NULL || value == NULL || p == NULL || p->kind != KIND_DOUBLE)
        return SUBSEL_E_INVALID;
    *value = *double_slot((subsel_tarot *)t, param);
    return SUBSEL_OK;
}

int subsel_tarot_param_bounds(int param, double *min_value, double *max_value,
                              double *default_value)
{
    const param_spec *p = find_param(param);
    if (p == NULL)
        return SUBSEL_E_INVALID;
    if (min_value)
        *min_value = p->min;
    if (max_value)
        *max_value = p->max;
    if (default_value)
        *default_value = p->def;
    return SUBSEL_OK;
}
