/* SPDX-License-Identifier: MIT */
/*
 * The ClipCov pipeline (the paper's Algorithm 1): greedy to the budget,
 * lazy when the objective is proven submodular and stochastic otherwise,
 * then double greedy over the greedy result, keeping the better of the two
 * sets; and the public submodularity check behind that choice.
 */
#include "core/ctx.h"
#include "core/error.h"
#include "clipcov/clipcov.h"
#include "optim/double_greedy.h"
#include "optim/optim.h"

/* The automatic choice runs the exact check below this many multiply-adds
 * (well under a second of BLIS). */
#define AUTO_EXACT_WORK (INT64_C(1) << 33)

int subsel_clipcov_check_submodular(subsel_ctx *ctx, subsel_objective *obj,
                                    int exact, int *submodular)
{
    ss_clipcov *cc;
    SS_REQUIRE_CTX(ctx);
    cc = ss_clipcov_of(ctx, obj, "subsel_clipcov_check_submodular");
    if (cc == NULL)
        return SUBSEL_E_INVALID;
    SS_REQUIRE_NONNULL(ctx, submodular);
    if (exact && cc->sims == SS_SIMS_UNKNOWN &&
        cc->weight[SUBSEL_CLIPCOV_INTRA] != 0.0)
        SS_CHECK(ss_clipcov_exact_test(ctx, cc));
    ss_clipcov_refresh_submodular(obj);
    *submodular = obj->submodular;
    return SUBSEL_OK;
}

int subsel_clipcov_optimizer(subsel_ctx *ctx, subsel_objective *obj,
                             int64_t budget, subsel_optimizer **out)
{
    ss_clipcov *cc;
    subsel_optimizer *opt = NULL;
    int submodular, rc;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    cc = ss_clipcov_of(ctx, obj, "subsel_clipcov_optimizer");
    if (cc == NULL)
        return SUBSEL_E_INVALID;
    if (budget < 0 || budget > cc->n)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_clipcov_optimizer: budget %lld outside [0, "
                       "%lld]",
                       (long long)budget, (long long)cc->n);
    SS_CHECK(subsel_clipcov_check_submodular(
        ctx, obj, ss_clipcov_exact_test_work(cc) <= AUTO_EXACT_WORK,
        &submodular));
    SS_CHECK(subsel_optimizer_create(
        ctx, submodular ? SUBSEL_OPT_LAZY : SUBSEL_OPT_STOCHASTIC, &opt));
    rc = subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, budget);
    /* to the budget whatever the gains, as the paper's Algorithm 1: the
     * double greedy filter then removes what hurts, which can end higher
     * than stopping at the first nonpositive gain */
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0);
    if (rc != SUBSEL_OK) {
        subsel_optimizer_free(opt);
        return ss_fail(ctx, rc, "subsel_clipcov_optimizer: cannot set the "
                                "options (budget %lld)", (long long)budget);
    }
    *out = opt;
    return SUBSEL_OK;
}

/* A copy of `sel` that reports `evaluations`, with its budget and reason. */
static int copy_selection(subsel_ctx *ctx, const subsel_selection *sel,
                          int64_t evaluations, subsel_selection **out)
{
    SS_CHECK(ss_selection_new(ctx, subsel_selection_indices(sel),
                              subsel_selection_gains(sel),
                              subsel_selection_count(sel),
                              subsel_selection_value(sel), evaluations, out));
    ss_selection_set_budget(*out, subsel_selection_budget(sel),
                            subsel_selection_short_reason(sel));
    return SUBSEL_OK;
}

int subsel_clipcov_select(subsel_ctx *ctx, const subsel_objective *obj,
                          const subsel_optimizer *greedy, int filter,
                          subsel_selection **out,
                          subsel_selection **greedy_out)
{
    subsel_selection *g = NULL;
    ss_trace trace = {0};
    int64_t count, evaluations;
    double filtered = 0.0;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    if (greedy_out != NULL)
        *greedy_out = NULL;
    SS_REQUIRE_KIND(ctx, obj, SS_KIND_OBJECTIVE);
    SS_REQUIRE_KIND(ctx, greedy, SS_KIND_OPTIMIZER);
    if (filter < SUBSEL_CLIPCOV_FILTER_NONE ||
        filter > SUBSEL_CLIPCOV_FILTER_RANDOMIZED)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_clipcov_select: unknown filter %d", filter);
    if (filter != SUBSEL_CLIPCOV_FILTER_NONE &&
        !ss_objective_can_remove(obj))
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "subsel_clipcov_select: the double greedy filter "
                       "needs an objective that can remove items; the %s "
                       "cannot",
                       obj->ops->name);
    SS_TRY(subsel_optimizer_run(ctx, greedy, obj, &g));
    count = subsel_selection_count(g);
    evaluations = subsel_selection_evaluations(g);
    if (filter == SUBSEL_CLIPCOV_FILTER_NONE) {
        SS_TRY(copy_selection(ctx, g, evaluations, out));
        goto cleanup;
    }
    SS_TRY(ss_trace_init(ctx, &trace, count));
    SS_TRY(ss_double_greedy(ctx, obj, subsel_selection_indices(g), count,
                            filter == SUBSEL_CLIPCOV_FILTER_RANDOMIZED,
                            (uint64_t)ctx->seed, SS_DOUBLE_GREEDY_STREAM,
                            &trace));
    evaluations += trace.evaluations;
    SS_TRY(subsel_objective_evaluate(ctx, obj, trace.items, trace.count,
                                     &filtered));
    /* the filter never makes the result worse */
    if (filtered >= subsel_selection_value(g)) {
        int reason = subsel_selection_short_reason(g);
        SS_TRY(ss_selection_new(ctx, trace.items, trace.gains, trace.count,
                                filtered, evaluations, out));
        /* a greedy that stopped short says more than the filter */
        ss_selection_set_budget(*out, subsel_selection_budget(g),
                                reason != SUBSEL_SHORT_NONE ? reason
                                                            : SUBSEL_SHORT_FILTERED);
    } else {
        SS_TRY(copy_selection(ctx, g, evaluations, out));
    }
cleanup:
    ss_trace_free(ctx, &trace);
    if (rc == SUBSEL_OK && greedy_out != NULL)
        *greedy_out = g;
    else
        subsel_selection_free(g);
    return rc;
}
