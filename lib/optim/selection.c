/* SPDX-License-Identifier: MIT */
/*
 * Traces (what one optimizer run chose) and selections (what the caller
 * gets back): ordered indices, per-step gains, the value, the number of
 * gains evaluated, and the budget the call was asked for with the reason
 * the selection falls short of it, if it does.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "optim/optim.h"

struct subsel_selection {
    SS_HANDLE_HEAD;
    int64_t count;
    int64_t *indices;
    double *gains;
    double value;
    int64_t evaluations;
    int64_t budget;
    int short_reason; /* SUBSEL_SHORT_* */
};

int ss_trace_init(subsel_ctx *ctx, ss_trace *trace, int64_t capacity)
{
    memset(trace, 0, sizeof *trace);
    SS_CHECK(ss_alloc_array(ctx, capacity, sizeof *trace->items, &trace->items));
    if (ss_alloc_array(ctx, capacity, sizeof *trace->gains, &trace->gains) != SUBSEL_OK) {
        ss_free(ctx, trace->items);
        trace->items = NULL;
        return SUBSEL_E_NOMEM;
    }
    trace->capacity = capacity;
    return SUBSEL_OK;
}

void ss_trace_free(subsel_ctx *ctx, ss_trace *trace)
{
    ss_free(ctx, trace->items);
    ss_free(ctx, trace->gains);
    memset(trace, 0, sizeof *trace);
}

int ss_selection_new(subsel_ctx *ctx, const int64_t *items,
                     const double *gains, int64_t count, double value,
                     int64_t evaluations, subsel_selection **out)
{
    subsel_selection *sel = NULL;
    int rc = SUBSEL_OK;
    SS_CHECK(ss_calloc_array(ctx, 1, sizeof *sel, &sel));
    ss_handle_init(sel, SS_KIND_SELECTION, &ctx->alloc);
    SS_TRY(ss_alloc_array(ctx, count, sizeof *sel->indices, &sel->indices));
    SS_TRY(ss_alloc_array(ctx, count, sizeof *sel->gains, &sel->gains));
    if (count > 0) {
        memcpy(sel->indices, items, (size_t)count * sizeof *items);
        memcpy(sel->gains, gains, (size_t)count * sizeof *gains);
    }
    sel->count = count;
    sel->value = value;
    sel->evaluations = evaluations;
    sel->budget = count;
    sel->short_reason = SUBSEL_SHORT_NONE;
    *out = sel;
    return SUBSEL_OK;
cleanup:
    subsel_selection_free(sel);
    return rc;
}

int ss_trace_short_reason(const ss_trace *trace, int64_t budget)
{
    if (trace->count >= budget)
        return SUBSEL_SHORT_NONE;
    return trace->short_reason != SUBSEL_SHORT_NONE ? trace->short_reason
                                                    : SUBSEL_SHORT_EXHAUSTED;
}

void ss_selection_set_budget(subsel_selection *sel, int64_t budget,
                             int reason)
{
    sel->budget = budget;
    if (sel->count >= budget)
        sel->short_reason = SUBSEL_SHORT_NONE;
    else
        sel->short_reason =
            reason != SUBSEL_SHORT_NONE ? reason : SUBSEL_SHORT_EXHAUSTED;
}

void subsel_selection_free(subsel_selection *sel)
{
    ss_allocator a;
    if (!ss_handle_release(sel, SS_KIND_SELECTION, __func__))
        return;
    a = sel->alloc;
    ss_free_raw(&a, sel->indices);
    ss_free_raw(&a, sel->gains);
    ss_free_raw(&a, sel);
}

int64_t subsel_selection_count(const subsel_selection *sel)
{
    return ss_handle_is(sel, SS_KIND_SELECTION) ? sel->count : 0;
}

const int64_t *subsel_selection_indices(const subsel_selection *sel)
{
    return ss_handle_is(sel, SS_KIND_SELECTION) ? sel->indices : NULL;
}

const double *subsel_selection_gains(const subsel_selection *sel)
{
    return ss_handle_is(sel, SS_KIND_SELECTION) ? sel->gains : NULL;
}

double subsel_selection_value(const subsel_selection *sel)
{
    return ss_handle_is(sel, SS_KIND_SELECTION) ? sel->value : NAN;
}

int64_t subsel_selection_evaluations(const subsel_selection *sel)
{
    return ss_handle_is(sel, SS_KIND_SELECTION) ? sel->evaluations : 0;
}

int64_t subsel_selection_budget(const subsel_selection *sel)
{
    return ss_handle_is(sel, SS_KIND_SELECTION) ? sel->budget : 0;
}

int subsel_selection_short_reason(const subsel_selection *sel)
{
    return ss_handle_is(sel, SS_KIND_SELECTION) ? sel->short_reason
                                                : SUBSEL_SHORT_NONE;
}

const char *subsel_short_reason_string(int reason)
{
    switch (reason) {
    case SUBSEL_SHORT_NONE:
        return "the selection holds its budget";
    case SUBSEL_SHORT_NONPOSITIVE:
        return "a run stopped at a step whose best gain was <= 0";
    case SUBSEL_SHORT_INTERSECTION:
        return "fewer items were chosen by enough of the seeded runs";
    case SUBSEL_SHORT_EXHAUSTED:
        return "no candidate was left to add";
    case SUBSEL_SHORT_FILTERED:
        return "the double greedy filter dropped items whose removal "
               "raised the objective";
    default:
        return "unknown reason";
    }
}

int subsel_selection_save_npy(subsel_ctx *ctx, const subsel_selection *sel,
                              const char *path)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, sel);
    return subsel_npy_write_i64(ctx, path, sel->indices, sel->count);
}
