/* SPDX-License-Identifier: MIT */
/*
 * The TAROT selector handle: creation from candidate and target matrices,
 * its parameter table, and release of the computed state.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/options.h"
#include "matrix/matrix.h"
#include "ot/ot.h"
#include "tarot/tarot.h"

/* Parameters that shape U and V are fixed once they are computed. */
#define FIXED_AFTER_WHITENING 1

static const ss_param tarot_params[] = {
    SS_PARAM_INT(SUBSEL_P_TAROT_PROJ_DIM, 1, "proj_dim", subsel_tarot, proj_dim, 0, 1048576,
                 0, FIXED_AFTER_WHITENING,
                 "random projection to this many columns first (0: none)"),
    SS_PARAM_INT(SUBSEL_P_TAROT_PROJ_KIND, 2, "proj_kind", subsel_tarot, proj_kind,
                 SUBSEL_PROJ_RADEMACHER, SUBSEL_PROJ_GAUSSIAN, SUBSEL_PROJ_RADEMACHER,
                 FIXED_AFTER_WHITENING, "projection entries: 0 Rademacher, 1 Gaussian"),
    SS_PARAM_INT(SUBSEL_P_TAROT_PROJ_BLOCK, 3, "proj_block", subsel_tarot, proj_block, 0,
                 INT64_MAX, 0, FIXED_AFTER_WHITENING,
                 "input columns of the projection held at once (0: 64 MiB worth)"),
    SS_PARAM_INT(SUBSEL_P_TAROT_WHITEN, 4, "whiten", subsel_tarot, whiten,
                 SUBSEL_WHITEN_NONE, SUBSEL_WHITEN_ZCA, SUBSEL_WHITEN_CHOLESKY,
                 FIXED_AFTER_WHITENING, "whitening: 0 none, 1 Cholesky, 2 ZCA"),
    SS_PARAM_INT(SUBSEL_P_TAROT_CENTER, 5, "center", subsel_tarot, center, 0, 1, 1,
                 FIXED_AFTER_WHITENING,
                 "subtract the mean of candidates and targets together (0 or 1)"),
    SS_PARAM_INT(SUBSEL_P_TAROT_REFERENCE, 6, "reference", subsel_tarot, reference, 0, 1, 0,
                 0, "reproduce the authors' code where it differs (0 or 1)"),
    SS_PARAM_INT(SUBSEL_P_TAROT_MAX_RANK, 7, "max_rank", subsel_tarot, max_rank, 1,
                 INT64_MAX, 2000, 0, "deepest neighbour rank OTM grows to"),
    SS_PARAM_INT(SUBSEL_P_TAROT_POTENTIALS, 8, "potentials", subsel_tarot, potentials, 0, 1,
                 1, 0, "solve OT(selection, targets) for the value and gains (0 or 1)"),
    SS_PARAM_REAL(SUBSEL_P_TAROT_EPS, 9, "eps", subsel_tarot, eps, 0, 1e30, 1e-5, 0,
                  FIXED_AFTER_WHITENING, "added to the covariance diagonal"),
    SS_PARAM_REAL(SUBSEL_P_TAROT_BLUR, 10, "blur", subsel_tarot, blur, 1e-6, 1e6, 0.01, 0, 0,
                  "OT blur: the last entropic temperature is blur^2"),
    SS_PARAM_REAL(SUBSEL_P_TAROT_SCALING, 11, "scaling", subsel_tarot, scaling, 0.01, 0.99,
                  0.5, 0, 0, "OT annealing: each temperature is the last times scaling^2"),
    SS_PARAM_INT(SUBSEL_P_TAROT_OT_MEMORY, 0, "ot_memory", subsel_tarot, ot_memory, 0,
                 INT64_MAX, SS_OT_DEFAULT_BUDGET, 0,
                 "bytes each OT solve (or OTM fold) may store its costs in (the rest recomputed each pass)"),
};

static int tarot_may_set(subsel_ctx *ctx, const void *handle,
                         const ss_param *p, const char *fn)
{
    const subsel_tarot *t = handle;
    if ((p->flags & FIXED_AFTER_WHITENING) && t->v != NULL)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "%s: %s cannot change once the rows are whitened", fn,
                       p->name);
    return SUBSEL_OK;
}

const ss_param_kind ss_tarot_params = {
    SUBSEL_KIND_TAROT, "TAROT selector", SS_KIND_TAROT, NULL,
    SS_PARAMS(tarot_params), NULL, tarot_may_set, NULL,
};

int subsel_tarot_create(subsel_ctx *ctx, const subsel_dense *candidates,
                        const subsel_dense *targets, subsel_tarot **out)
{
    const char *fn = "subsel_tarot_create";
    subsel_tarot *t;
    SS_REQUIRE_CTX(ctx);
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
    ss_param_defaults(&ss_tarot_params, t);
    *out = t;
    return SUBSEL_OK;
}

void subsel_tarot_free(subsel_tarot *t)
{
    ss_allocator a;
    if (!ss_handle_release(t, SS_KIND_TAROT, __func__))
        return;
    a = t->alloc;
    ss_free_raw(&a, t->u);
    ss_free_raw(&a, t->v);
    ss_free_raw(&a, t->u_sq);
    ss_free_raw(&a, t->v_sq);
    ss_free_raw(&a, t->mean);
    ss_free_raw(&a, t->factor);
    ss_tarot_lists_free(&a, &t->cache);
    subsel_dense_free((subsel_dense *)t->cand);
    subsel_dense_free((subsel_dense *)t->targ);
    ss_free_raw(&a, t);
}

