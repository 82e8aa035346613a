/* SPDX-License-Identifier: MIT */
/*
 * Double greedy, deterministic (a 1/3-approximation) and randomised (1/2 in
 * expectation) for nonnegative submodular functions, over any objective
 * with remove and losses ops; also the public subsel_double_greedy().
 *
 * For item e, a = f(X + e) - f(X) is the gain of adding e to X and
 * b = f(Y - e) - f(Y) = -loss(e | Y) the gain of taking it out of Y (the
 * paper's a_i and b_i). Submodularity gives a + b >= 0, which is what the
 * guarantees rest on. The randomised version draws one uniform number per
 * item whatever the gains, so the stream it consumes depends only on the
 * ground set size.
 */
#include "core/ctx.h"
#include "core/error.h"
#include "core/rng.h"
#include "optim/double_greedy.h"
#include "optim/step.h"

/* Stage "double greedy" (items decided, ground set size): 0 before any
 * work, about 200 reports during the pass, the total once at the end.
 * Honours and sets the cancel flag shared by parallel runs. */
static int progress(subsel_ctx *ctx, const ss_run_config *cfg, int64_t done,
                    int64_t total)
{
    int64_t every = total / 200 > 0 ? total / 200 : 1;
    return ss_run_progress(ctx, cfg, "double greedy", done, total,
                           done % every == 0 || done == total);
}

static int check_objective(subsel_ctx *ctx, const subsel_objective *obj)
{
    if (!ss_objective_can_remove(obj))
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "double greedy needs an objective that can remove "
                       "items; the %s cannot",
                       obj->ops->name);
    return ss_objective_ready(ctx, obj);
}

int ss_double_greedy_run(subsel_ctx *ctx, const subsel_objective *obj,
                         void *x_state, const int64_t *ground, int64_t count,
                         int randomized, const ss_run_config *cfg,
                         ss_trace *trace)
{
    void *y_state = NULL;
    ss_rng rng;
    int64_t t;
    int rc = SUBSEL_OK;

    SS_CHECK(check_objective(ctx, obj));
    if (ground == NULL)
        count = obj->n;
    else
        SS_CHECK(ss_check_set(ctx, obj, ground, count));
    if (trace->capacity - trace->count < count)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "double greedy: the trace has room for %lld items, "
                       "the ground set has %lld",
                       (long long)(trace->capacity - trace->count),
                       (long long)count);
    SS_CHECK(progress(ctx, cfg, 0, count));
    SS_CHECK(ss_objective_state_new(ctx, obj, &y_state));
    /* Y starts as X (the items the trace holds already: an initial set)
     * plus the ground set to decide */
    for (t = 0; t < trace->count; t++)
        SS_TRY(ss_objective_add(ctx, obj, y_state, trace->items[t]));
    for (t = 0; t < count; t++)
        SS_TRY(ss_objective_add(ctx, obj, y_state, ground ? ground[t] : t));
    ss_rng_seed(&rng, cfg->seed, cfg->stream);

    for (t = 0; t < count; t++) {
        int64_t e = ground ? ground[t] : t;
        double a, loss, b, u = randomized ? ss_rng_uniform(&rng) : 0.0;
        int take;
        if (t > 0)
            SS_TRY(progress(ctx, cfg, t, count));
        SS_TRY(ss_objective_gains(ctx, obj, x_state, &e, 1, &a,
                                  &trace->evaluations));
        SS_TRY(ss_objective_losses(ctx, obj, y_state, &e, 1, &loss,
                                   &trace->evaluations));
        b = -loss;
        if (randomized) {
            double ap = a > 0 ? a : 0.0, bp = b > 0 ? b : 0.0;
            take = ap + bp > 0 ? u < ap / (ap + bp) : 1;
        } else {
            take = a >= b;
        }
        if (take) {
            SS_TRY(ss_objective_add(ctx, obj, x_state, e));
            trace->items[trace->count] = e;
            trace->gains[trace->count] = a;
            trace->count++;
        } else {
            SS_TRY(ss_objective_remove(ctx, obj, y_state, e));
        }
    }
    if (count > 0)
        SS_TRY(progress(ctx, cfg, count, count));
cleanup:
    ss_objective_state_free(obj, y_state);
    return rc;
}

int ss_double_greedy(subsel_ctx *ctx, const subsel_objective *obj,
                     const int64_t *ground, int64_t count, int randomized,
                     uint64_t seed, uint64_t stream, ss_trace *trace)
{
    ss_run_config cfg = {0};
    void *x_state = NULL;
    int rc;
    cfg.seed = seed;
    cfg.stream = stream;
    cfg.report = 1;
    SS_CHECK(check_objective(ctx, obj));
    SS_CHECK(ss_objective_state_new(ctx, obj, &x_state));
    rc = ss_double_greedy_run(ctx, obj, x_state, ground, count, randomized,
                              &cfg, trace);
    ss_objective_state_free(obj, x_state);
    return rc;
}

int subsel_double_greedy(subsel_ctx *ctx, const subsel_objective *obj,
                         const int64_t *ground, int64_t count, int randomized,
                         subsel_selection **out)
{
    ss_trace trace = {0};
    void *x_state = NULL;
    ss_run_config cfg = {0};
    double value = 0.0;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, obj, SS_KIND_OBJECTIVE);
    if (ground != NULL && count < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_double_greedy: count %lld is negative",
                       (long long)count);
    SS_CHECK(check_objective(ctx, obj));
    cfg.seed = (uint64_t)ctx->seed;
    cfg.stream = SS_DOUBLE_GREEDY_STREAM;
    cfg.report = 1;
    SS_TRY(ss_trace_init(ctx, &trace, ground ? count : obj->n));
    SS_TRY(ss_objective_state_new(ctx, obj, &x_state));
    SS_TRY(ss_double_greedy_run(ctx, obj, x_state, ground, count, randomized,
                                &cfg, &trace));
    SS_TRY(ss_objective_value(ctx, obj, x_state, &value));
    SS_TRY(ss_selection_new(ctx, trace.items, trace.gains, trace.count, value,
                            trace.evaluations, out));
cleanup:
    ss_objective_state_free(obj, x_state);
    ss_trace_free(ctx, &trace);
    return rc;
}
