/* SPDX-License-Identifier: MIT */
/*
 * The per-handle option functions, thin wrappers over the parameter
 * tables: the context's, 0.6's functions without a context (optimizer, OT
 * solver, TAROT: they also accept 0.6's parameter numbers, and leave their
 * messages for the calling thread), and the objectives' dedicated setters
 * (SDM's lambda, UniPROT's solver settings, ClipCov's weights and alpha).
 */
#include "core/error.h"
#include "core/handle.h"
#include "params/params.h"

/* ---- 0.6's calls without a context: messages for the thread ------------ */

static int legacy_set_int(const char *fn, const char *what, int kind,
                          void *handle, int param, int64_t value)
{
    const ss_param_kind *k;
    const ss_param *p;
    SS_CHECK(ss_param_resolve(NULL, handle, kind, param, 1, fn, what, &k, &p));
    return ss_param_set_int(NULL, k, handle, p, value, fn);
}

static int legacy_set_real(const char *fn, const char *what, int kind,
                           void *handle, int param, double value)
{
    const ss_param_kind *k;
    const ss_param *p;
    SS_CHECK(ss_param_resolve(NULL, handle, kind, param, 1, fn, what, &k, &p));
    return ss_param_set_real(NULL, k, handle, p, value, fn);
}

static int legacy_get_int(const char *fn, const char *what, int kind,
                          const void *handle, int param, int64_t *value)
{
    const ss_param_kind *k;
    const ss_param *p;
    SS_CHECK(ss_param_resolve(NULL, handle, kind, param, 1, fn, what, &k, &p));
    return ss_param_get_int(NULL, k, handle, p, value, fn);
}

static int legacy_get_real(const char *fn, const char *what, int kind,
                           const void *handle, int param, double *value)
{
    const ss_param_kind *k;
    const ss_param *p;
    SS_CHECK(ss_param_resolve(NULL, handle, kind, param, 1, fn, what, &k, &p));
    return ss_param_get_real(NULL, k, handle, p, value, fn);
}

static int legacy_bounds(const char *fn, int kind, int param, double *min_value,
                         double *max_value, double *default_value)
{
    const ss_param *p = ss_param_of_kind(kind, param, 1, fn);
    if (p == NULL)
        return SUBSEL_E_INVALID;
    ss_param_bounds_real(p, min_value, max_value, default_value);
    return SUBSEL_OK;
}

int subsel_optimizer_set_int(subsel_optimizer *opt, int param, int64_t value)
{
    return legacy_set_int("subsel_optimizer_set_int", "opt",
                          SUBSEL_KIND_OPTIMIZER, opt, param, value);
}

int subsel_optimizer_set_double(subsel_optimizer *opt, int param, double value)
{
    return legacy_set_real("subsel_optimizer_set_double", "opt",
                           SUBSEL_KIND_OPTIMIZER, opt, param, value);
}

int subsel_optimizer_get_int(const subsel_optimizer *opt, int param,
                             int64_t *value)
{
    return legacy_get_int("subsel_optimizer_get_int", "opt",
                          SUBSEL_KIND_OPTIMIZER, opt, param, value);
}

int subsel_optimizer_get_double(const subsel_optimizer *opt, int param,
                                double *value)
{
    return legacy_get_real("subsel_optimizer_get_double", "opt",
                           SUBSEL_KIND_OPTIMIZER, opt, param, value);
}

int subsel_optimizer_param_bounds(int param, double *min_value,
                                  double *max_value, double *default_value)
{
    return legacy_bounds("subsel_optimizer_param_bounds", SUBSEL_KIND_OPTIMIZER,
                         param, min_value, max_value, default_value);
}

int subsel_ot_solver_set_int(subsel_ot_solver *solver, int param,
                             int64_t value)
{
    return legacy_set_int("subsel_ot_solver_set_int", "solver",
                          SUBSEL_KIND_OT_SOLVER, solver, param, value);
}

int subsel_ot_solver_set_double(subsel_ot_solver *solver, int param,
                                double value)
{
    return legacy_set_real("subsel_ot_solver_set_double", "solver",
                           SUBSEL_KIND_OT_SOLVER, solver, param, value);
}

int subsel_ot_solver_get_int(const subsel_ot_solver *solver, int param,
                             int64_t *value)
{
    return legacy_get_int("subsel_ot_solver_get_int", "solver",
                          SUBSEL_KIND_OT_SOLVER, solver, param, value);
}

int subsel_ot_solver_get_double(const subsel_ot_solver *solver, int param,
                                double *value)
{
    return legacy_get_real("subsel_ot_solver_get_double", "solver",
                           SUBSEL_KIND_OT_SOLVER, solver, param, value);
}

int subsel_ot_solver_param_bounds(int param, double *min_value,
                                  double *max_value, double *default_value)
{
    return legacy_bounds("subsel_ot_solver_param_bounds", SUBSEL_KIND_OT_SOLVER,
                         param, min_value, max_value, default_value);
}

int subsel_tarot_set_int(subsel_tarot *tarot, int param, int64_t value)
{
    return legacy_set_int("subsel_tarot_set_int", "tarot", SUBSEL_KIND_TAROT,
                          tarot, param, value);
}

int subsel_tarot_set_double(subsel_tarot *tarot, int param, double value)
{
    return legacy_set_real("subsel_tarot_set_double", "tarot",
                           SUBSEL_KIND_TAROT, tarot, param, value);
}

int subsel_tarot_get_int(const subsel_tarot *tarot, int param, int64_t *value)
{
    return legacy_get_int("subsel_tarot_get_int", "tarot", SUBSEL_KIND_TAROT,
                          tarot, param, value);
}

int subsel_tarot_get_double(const subsel_tarot *tarot, int param,
                            double *value)
{
    return legacy_get_real("subsel_tarot_get_double", "tarot",
                           SUBSEL_KIND_TAROT, tarot, param, value);
}

int subsel_tarot_param_bounds(int param, double *min_value, double *max_value,
                              double *default_value)
{
    return legacy_bounds("subsel_tarot_param_bounds", SUBSEL_KIND_TAROT, param,
                         min_value, max_value, default_value);
}

/* ---- the context's ----------------------------------------------------- */

int subsel_ctx_set_int(subsel_ctx *ctx, int param, int64_t value)
{
    const char *fn = "subsel_ctx_set_int";
    const ss_param_kind *k;
    const ss_param *p;
    SS_REQUIRE_CTX(ctx);
    SS_CHECK(ss_param_resolve(ctx, ctx, SUBSEL_KIND_CONTEXT, param, 0, fn,
                              "ctx", &k, &p));
    return ss_param_set_int(ctx, k, ctx, p, value, fn);
}

int subsel_ctx_get_int(const subsel_ctx *ctx, int param, int64_t *value)
{
    const char *fn = "subsel_ctx_get_int";
    /* The message buffer is the one part of a context a read may change. */
    subsel_ctx *msg = (subsel_ctx *)ctx;
    const ss_param_kind *k;
    const ss_param *p;
    SS_REQUIRE_CTX(ctx);
    SS_CHECK(ss_param_resolve(msg, ctx, SUBSEL_KIND_CONTEXT, param, 0, fn,
                              "ctx", &k, &p));
    return ss_param_get_int(msg, k, ctx, p, value, fn);
}

int subsel_ctx_param_bounds(int param, int64_t *min_value, int64_t *max_value,
                            int64_t *default_value)
{
    const ss_param *p = ss_param_of_kind(SUBSEL_KIND_CONTEXT, param, 0,
                                         "subsel_ctx_param_bounds");
    if (p == NULL)
        return SUBSEL_E_INVALID;
    if (min_value)
        *min_value = p->imin;
    if (max_value)
        *max_value = p->imax;
    if (default_value)
        *default_value = p->idef;
    return SUBSEL_OK;
}

/* ---- the objectives' dedicated setters --------------------------------- */

/* Sets parameter `param` of objective `obj`, which must be of `kind`. */
static int objective_set_int(subsel_ctx *ctx, const char *fn, int kind,
                             subsel_objective *obj, int param, int64_t value)
{
    const ss_param_kind *k;
    const ss_param *p;
    if (ctx == NULL)
        return ss_fail(NULL, SUBSEL_E_INVALID, "%s: ctx is NULL", fn);
    SS_CHECK(ss_param_resolve(ctx, obj, kind, param, 0, fn, "obj", &k, &p));
    return ss_param_set_int(ctx, k, obj, p, value, fn);
}

static int objective_set_real(subsel_ctx *ctx, const char *fn, int kind,
                              subsel_objective *obj, int param, double value)
{
    const ss_param_kind *k;
    const ss_param *p;
    if (ctx == NULL)
        return ss_fail(NULL, SUBSEL_E_INVALID, "%s: ctx is NULL", fn);
    SS_CHECK(ss_param_resolve(ctx, obj, kind, param, 0, fn, "obj", &k, &p));
    return ss_param_set_real(ctx, k, obj, p, value, fn);
}

int subsel_sdm_set_lambda(subsel_ctx *ctx, subsel_objective *obj,
                          double lambda)
{
    return objective_set_real(ctx, "subsel_sdm_set_lambda", SUBSEL_KIND_SDM,
                              obj, SUBSEL_P_SDM_LAMBDA, lambda);
}

int subsel_uniprot_set_gain(subsel_ctx *ctx, subsel_objective *obj, int gain)
{
    return objective_set_int(ctx, "subsel_uniprot_set_gain",
                             SUBSEL_KIND_UNIPROT, obj, SUBSEL_P_UNIPROT_GAIN,
                             gain);
}

int subsel_uniprot_set_update(subsel_ctx *ctx, subsel_objective *obj,
                              int update)
{
    return objective_set_int(ctx, "subsel_uniprot_set_update",
                             SUBSEL_KIND_UNIPROT, obj, SUBSEL_P_UNIPROT_UPDATE,
                             update);
}

int subsel_uniprot_set_tolerance(subsel_ctx *ctx, subsel_objective *obj,
                                 double tol)
{
    return objective_set_real(ctx, "subsel_uniprot_set_tolerance",
                              SUBSEL_KIND_UNIPROT, obj, SUBSEL_P_UNIPROT_TOL,
                              tol);
}

int subsel_uniprot_set_max_iterations(subsel_ctx *ctx, subsel_objective *obj,
                                      int64_t iterations)
{
    return objective_set_int(ctx, "subsel_uniprot_set_max_iterations",
                             SUBSEL_KIND_UNIPROT, obj,
                             SUBSEL_P_UNIPROT_MAX_ITER, iterations);
}

int subsel_clipcov_set_weight(subsel_ctx *ctx, subsel_objective *obj,
                              int term, double weight)
{
    const char *fn = "subsel_clipcov_set_weight";
    const ss_param_kind *k;
    const ss_param *p;
    if (ctx == NULL)
        return ss_fail(NULL, SUBSEL_E_INVALID, "%s: ctx is NULL", fn);
    /* the objective first, as for every other mistake */
    SS_CHECK(ss_param_resolve(ctx, obj, SUBSEL_KIND_CLIPCOV,
                              SUBSEL_P_CLIPCOV_ALPHA, 0, fn, "obj", &k, &p));
    if (term < 0 || term >= SUBSEL_CLIPCOV_TERM_COUNT)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: unknown term %d (0 to %d)", fn, term,
                       SUBSEL_CLIPCOV_TERM_COUNT - 1);
    return objective_set_real(ctx, fn, SUBSEL_KIND_CLIPCOV, obj,
                              SUBSEL_P_CLIPCOV_WEIGHT_INTRA + term, weight);
}

int subsel_clipcov_set_alpha(subsel_ctx *ctx, subsel_objective *obj,
                             double alpha)
{
    return objective_set_real(ctx, "subsel_clipcov_set_alpha",
                              SUBSEL_KIND_CLIPCOV, obj, SUBSEL_P_CLIPCOV_ALPHA,
                              alpha);
}
