/* SPDX-License-Identifier: MIT */
/*
 * UniPROT around training: the per-batch modes of the paper's supplement
 * (UniPROT-PB, the prototypes of a batch among its own rows; UniPROT-PS,
 * those of each data source of the batch among the source's rows), and
 * the paper's evaluation (1-nearest-prototype accuracy of a labelled
 * target set).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "matrix/matrix.h"
#include "objectives/objective.h"
#include "optim/optim.h"
#include "uniprot/uniprot.h"
#include "ot/ot.h"

/* Targets per block of the accuracy evaluation. */
#define NN_BLOCK 1024

/* The prototypes of the rows x (count x d, rows ld floats apart) among
 * themselves: k = round(fraction count) (at least 1) by greedy on the
 * UniPROT objective of the rows against themselves, lazy with appended
 * plans (which equals naive greedy there) and naive with re-solves (whose
 * approximate gains may grow after a solve, so that bounds could lie). A
 * similarity beyond float names its rows in bad[0], bad[1]. */
static int select_rows(subsel_ctx *ctx, const float *x, int64_t ld,
                       int64_t count, int64_t d, double fraction, double reg,
                       int metric, int update, subsel_selection **out,
                       int64_t *bad)
{
    subsel_objective *obj = NULL;
    subsel_optimizer *opt = NULL;
    float *sim = NULL;
    int64_t k = (int64_t)floor(fraction * (double)count + 0.5);
    int rc = SUBSEL_OK;
    k = k < 1 ? 1 : k > count ? count : k;
    SS_CHECK(ss_check_shape(ctx, count, count, sizeof *sim, 0));
    SS_CHECK(ss_alloc_array(ctx, count * count, sizeof *sim, &sim));
    rc = ss_pairwise_f32(ctx, metric, x, ld, count, x, ld, count, d, sim, bad);
    if (rc < 0) {
        ss_free(ctx, sim);
        return rc;
    }
    bad[0] = bad[1] = -1;
    SS_TRY(ss_uniprot_make(ctx, sim, sim, count, count, count, k, reg, &obj));
    SS_TRY(subsel_uniprot_set_update(ctx, obj, update));
    SS_TRY(subsel_optimizer_create(ctx, update == SUBSEL_UNIPROT_UPDATE_APPEND
                                            ? SUBSEL_OPT_LAZY
                                            : SUBSEL_OPT_NAIVE,
                                   &opt));
    SS_TRY(subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, k));
    SS_TRY(subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
    SS_TRY(subsel_optimizer_run(ctx, opt, obj, out));
cleanup:
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    return rc;
}

/* A batch row and its source, sorted by source, then by row. */
typedef struct sourced {
    int64_t source, row;
} sourced;

static int by_source(const void *a, const void *b)
{
    const sourced *x = a, *y = b;
    if (x->source != y->source)
        return (x->source > y->source) - (x->source < y->source);
    return (x->row > y->row) - (x->row < y->row);
}

/* UniPROT-PS: select_rows on the rows of each source (in increasing label
 * order), their selections joined. */
static int select_sources(subsel_ctx *ctx, const subsel_dense *batch,
                          const int64_t *sources, double fraction, double reg,
                          int metric, int update, subsel_selection **out,
                          int64_t *bad)
{
    int64_t b = batch->rows, d = batch->cols, *items = NULL;
    int64_t first, last, total = 0, evaluations = 0, i;
    double *gains = NULL, value = 0.0;
    float *rows = NULL;
    sourced *order = NULL;
    subsel_selection *part = NULL;
    int rc = SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, b, sizeof *order, &order));
    SS_TRY(ss_alloc_array(ctx, b, sizeof *items, &items));
    SS_TRY(ss_alloc_array(ctx, b, sizeof *gains, &gains));
    SS_TRY(ss_alloc_array(ctx, b * d, sizeof *rows, &rows));
    for (i = 0; i < b; i++) {
        order[i].source = sources[i];
        order[i].row = i;
    }
    qsort(order, (size_t)b, sizeof *order, by_source);
    for (first = 0; first < b; first = last) {
        const int64_t *idx;
        int64_t count;
        for (last = first + 1; last < b && order[last].source == order[first].source; last++)
            ;
        for (i = first; i < last; i++)
            memcpy(rows + (i - first) * d, ss_dense_row(batch, order[i].row),
                   (size_t)d * sizeof *rows);
        rc = select_rows(ctx, rows, d, last - first, d, fraction, reg, metric,
                         update, &part, bad);
        if (rc < 0) {
            if (bad[0] >= 0) { /* rows of the source: rows of the batch */
                bad[0] = order[first + bad[0]].row;
                bad[1] = order[first + bad[1]].row;
            }
            goto cleanup;
        }
        idx = subsel_selection_indices(part);
        count = subsel_selection_count(part);
        for (i = 0; i < count; i++) {
            items[total + i] = order[first + idx[i]].row;
            gains[total + i] = subsel_selection_gains(part)[i];
        }
        total += count;
        value += subsel_selection_value(part);
        evaluations += subsel_selection_evaluations(part);
        subsel_selection_free(part);
        part = NULL;
    }
    SS_TRY(ss_selection_new(ctx, items, gains, total, value, evaluations, out));
cleanup:
    subsel_selection_free(part);
    ss_free(ctx, order);
    ss_free(ctx, items);
    ss_free(ctx, gains);
    ss_free(ctx, rows);
    return rc;
}

static int select_batch(subsel_ctx *ctx, const char *fn,
                        const subsel_dense *batch, const int64_t *sources,
                        double fraction, double reg, int similarity,
                        int update, subsel_selection **out)
{
    int64_t bad[2] = {-1, -1};
    int metric, rc;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_uniprot_check_features(ctx, fn, batch, batch, similarity, &metric));
    if (batch->rows < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: the batch is empty", fn);
    if (!(fraction > 0.0 && fraction <= 1.0))
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: fraction %g is outside (0, 1]",
                       fn, fraction);
    if (!(reg > 0.0) || !isfinite(reg))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: reg = %g must be positive and finite", fn, reg);
    if (update != SUBSEL_UNIPROT_UPDATE_SOLVE && update != SUBSEL_UNIPROT_UPDATE_APPEND)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: update %d is neither SUBSEL_UNIPROT_UPDATE_SOLVE nor "
                       "_APPEND", fn, update);
    if (sources == NULL)
        rc = select_rows(ctx, batch->row0, batch->stride, batch->rows,
                         batch->cols, fraction, reg, metric, update, out, bad);
    else
        rc = select_sources(ctx, batch, sources, fraction, reg, metric, update,
                            out, bad);
    if (rc < 0 && bad[0] >= 0)
        return ss_fail_prefix(ctx, rc, "%s: batch rows %lld and %lld", fn,
                              (long long)bad[0], (long long)bad[1]);
    if (rc < 0)
        return ss_fail_prefix(ctx, rc, "%s", fn);
    return rc;
}

int subsel_uniprot_select_batch(subsel_ctx *ctx, const subsel_dense *batch,
                                double fraction, double reg, int similarity,
                                subsel_selection **out)
{
    return select_batch(ctx, "subsel_uniprot_select_batch", batch, NULL,
                        fraction, reg, similarity,
                        SUBSEL_UNIPROT_UPDATE_APPEND, out);
}

int subsel_uniprot_select_batch_v2(subsel_ctx *ctx, const subsel_dense *batch,
                                   const int64_t *sources, double fraction,
                                   double reg, int similarity, int update,
                                   subsel_selection **out)
{
    return select_batch(ctx, "subsel_uniprot_select_batch_v2", batch, sources,
                        fraction, reg, similarity, update, out);
}

int subsel_nn_accuracy(subsel_ctx *ctx, const subsel_dense *source,
                       const int64_t *source_labels, const int64_t *prototypes,
                       int64_t count, const subsel_dense *target,
                       const int64_t *target_labels, int similarity,
                       double *accuracy)
{
    const char *fn = "subsel_nn_accuracy";
    float *protos = NULL, *sim = NULL;
    int64_t d, i, t0, correct = 0, bad[2] = {0, 0};
    int metric, rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, source_labels);
    SS_REQUIRE_NONNULL(ctx, prototypes);
    SS_REQUIRE_NONNULL(ctx, target_labels);
    SS_REQUIRE_NONNULL(ctx, accuracy);
    SS_CHECK(ss_uniprot_check_features(ctx, fn, source, target, similarity, &metric));
    if (count < 1 || target->rows < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %lld prototypes and %lld targets (need >= 1 each)",
                       fn, (long long)count, (long long)target->rows);
    for (i = 0; i < count; i++)
        if (prototypes[i] < 0 || prototypes[i] >= source->rows)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "%s: prototype %lld is row %lld, outside [0, %lld)",
                           fn, (long long)i, (long long)prototypes[i],
                           (long long)source->rows);
    d = source->cols;
    SS_TRY(ss_alloc_array(ctx, count * d, sizeof *protos, &protos));
    SS_TRY(ss_alloc_array(ctx, NN_BLOCK * count, sizeof *sim, &sim));
    for (i = 0; i < count; i++)
        memcpy(protos + i * d, ss_dense_row(source, prototypes[i]),
               (size_t)d * sizeof *protos);
    for (t0 = 0; t0 < target->rows; t0 += NN_BLOCK) {
        int64_t rows = target->rows - t0 < NN_BLOCK ? target->rows - t0 : NN_BLOCK;
        rc = ss_pairwise_f32(ctx, metric, ss_dense_row(target, t0),
                             target->stride, rows, protos, d, count, d, sim,
                             bad);
        if (rc < 0) {
            ss_fail_prefix(ctx, rc, "%s: target row %lld and prototype %lld", fn,
                           (long long)(t0 + bad[0]), (long long)prototypes[bad[1]]);
            goto cleanup;
        }
        for (i = 0; i < rows; i++) {
            const float *row = sim + i * count;
            int64_t best = 0, p;
            for (p = 1; p < count; p++)
                if (ss_ranks_before(row[p], p, row[best], best))
                    best = p;
            correct += source_labels[prototypes[best]] == target_labels[t0 + i];
        }
    }
    *accuracy = (double)correct / (double)target->rows;
cleanup:
    ss_free(ctx, protos);
    ss_free(ctx, sim);
    return rc;
}
