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
#include "core/options.h"
#include "matrix/matrix.h"
#include "tarot/tarot.h"

/* Options that shape U and V are fixed once they are computed. */
#define FIXED_AFTER_WHITENING 1

static const ss_option tarot_options[] = {
    SS_OPTION_INT(SUBSEL_TAROT_PROJ_DIM, "proj_dim", subsel_tarot, proj_dim, 0, 1048576, 0,
                  FIXED_AFTER_WHITENING),
    SS_OPTION_INT(SUBSEL_TAROT_PROJ_KIND, "proj_kind", subsel_tarot, proj_kind,
                  SUBSEL_PROJ_RADEMACHER, SUBSEL_PROJ_GAUSSIAN, SUBSEL_PROJ_RADEMACHER,
                  FIXED_AFTER_WHITENING),
    SS_OPTION_INT(SUBSEL_TAROT_PROJ_BLOCK, "proj_block", subsel_tarot, proj_block, 0,
                  INT64_MAX, 0, FIXED_AFTER_WHITENING),
    SS_OPTION_INT(SUBSEL_TAROT_WHITEN, "whiten", subsel_tarot, whiten, SUBSEL_WHITEN_NONE,
                  SUBSEL_WHITEN_ZCA, SUBSEL_WHITEN_CHOLESKY, FIXED_AFTER_WHITENING),
    SS_OPTION_INT(SUBSEL_TAROT_CENTER, "center", subsel_tarot, center, 0, 1, 1,
                  FIXED_AFTER_WHITENING),
    SS_OPTION_INT(SUBSEL_TAROT_REFERENCE, "reference", subsel_tarot, reference, 0, 1, 0, 0),
    SS_OPTION_INT(SUBSEL_TAROT_MAX_RANK, "max_rank", subsel_tarot, max_rank, 1, INT64_MAX,
                  2000, 0),
    SS_OPTION_INT(SUBSEL_TAROT_POTENTIALS, "potentials", subsel_tarot, potentials, 0, 1, 1,
                  0),
    SS_OPTION_REAL(SUBSEL_TAROT_EPS, "eps", subsel_tarot, eps, 0, 1e30, 1e-5, 0,
                   FIXED_AFTER_WHITENING),
    SS_OPTION_REAL(SUBSEL_TAROT_BLUR, "blur", subsel_tarot, blur, 1e-6, 1e6, 0.01, 0, 0),
    SS_OPTION_REAL(SUBSEL_TAROT_SCALING, "scaling", subsel_tarot, scaling, 0.01, 0.99, 0.5,
                   0, 0),
};
static const ss_option_table tarot_table = SS_OPTION_TABLE(tarot_options);

int subsel_tarot_create(subsel_ctx *ctx, const subsel_dense *candidates,
                        const subsel_dense *targets, subsel_tarot **out)
{
    const char *fn = "subsel_tarot_create";
    subsel_tarot *t;
    SS_REQUIRE_NONNULL(ctx, ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_handle_check(ctx, candidates, SS_KIND_DENSE, fn, "candidates"));
    SS_CHECK(ss_handle_check(ctx, targets, SS_KIND_DENSE, fn, "targets"));
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
    ss_handle_init(t, SS_KIND_TAROT, &ctx->alloc);
    /* Kept for the selector's life (subsel_tarot_free releases them): the
     * caller may free the matrices at once. */
    ss_handle_retain(candidates);
    ss_handle_retain(targets);
    t->cand = candidates;
    t->targ = targets;
    t->n = candidates->rows;
    t->m = targets->rows;
    t->cols = candidates->cols;
    ss_option_defaults(&tarot_table, t);
    *out = t;
    return SUBSEL_OK;
}

void subsel_tarot_free(subsel_tarot *t)
{
    ss_allocator a;
    if (!ss_handle_release(t))
        return;
    a = t->alloc;
    ss_free_raw(&a, t->u);
    ss_free_raw(&a, t->v);
    ss_free_raw(&a, t->u_sq);
    ss_free_raw(&a, t->v_sq);
    ss_tarot_lists_free(&a, &t->cache);
    subsel_dense_free((subsel_dense *)t->cand);
    subsel_dense_free((subsel_dense *)t->targ);
    ss_free_raw(&a, t);
}

/* NULL, and options fixed once the rows are whitened. */
static int check_settable(const subsel_tarot *t, int param)
{
    const ss_option *o = ss_option_find(&tarot_table, param);
    if (t == NULL)
        return SUBSEL_E_INVALID;
    if (o != NULL && (o->flags & FIXED_AFTER_WHITENING) && t->u != NULL)
        return SUBSEL_E_STATE;
    return SUBSEL_OK;
}

int subsel_tarot_set_int(subsel_tarot *t, int param, int64_t value)
{
    SS_CHECK(check_settable(t, param));
    return ss_option_set_int(NULL, &tarot_table, t, param, value);
}

int subsel_tarot_set_double(subsel_tarot *t, int param, double value)
{
    SS_CHECK(check_settable(t, param));
    return ss_option_set_double(NULL, &tarot_table, t, param, value);
}

int subsel_tarot_get_int(const subsel_tarot *t, int param, int64_t *value)
{
    if (t == NULL)
        return SUBSEL_E_INVALID;
    return ss_option_get_int(&tarot_table, t, param, value);
}

int subsel_tarot_get_double(const subsel_tarot *t, int param, double *value)
{
    if (t == NULL)
        return SUBSEL_E_INVALID;
    return ss_option_get_double(&tarot_table, t, param, value);
}

int subsel_tarot_param_bounds(int param, double *min_value, double *max_value,
                              double *default_value)
{
    return ss_option_bounds(&tarot_table, param, min_value, max_value,
                            default_value);
}
