/* SPDX-License-Identifier: MIT */
/*
 * UniPROT around training: the per-batch mode (the prototypes of a batch
 * among its own rows, fast enough for every step) and the paper's
 * evaluation (1-nearest-prototype accuracy of a labelled target set).
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "matrix/matrix.h"
#include "objectives/objective.h"
#include "uniprot/uniprot.h"
#include "ot/ot.h"

/* Targets per block of the accuracy evaluation. */
#define NN_BLOCK 1024

int subsel_uniprot_select_batch(subsel_ctx *ctx, const subsel_dense *batch,
                                double fraction, double reg, int similarity,
                                subsel_selection **out)
{
    const char *fn = "subsel_uniprot_select_batch";
    subsel_objective *obj = NULL;
    subsel_optimizer *opt = NULL;
    float *sim = NULL;
    int64_t b, k, bad[2] = {0, 0};
    int metric, rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_uniprot_check_features(ctx, fn, batch, batch, similarity, &metric));
    b = batch->rows;
    if (b < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: the batch is empty", fn);
    if (!(fraction > 0.0 && fraction <= 1.0))
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: fraction %g is outside (0, 1]",
                       fn, fraction);
    if (!(reg > 0.0) || !isfinite(reg))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: reg = %g must be positive and finite", fn, reg);
    k = (int64_t)floor(fraction * (double)b + 0.5);
    k = k < 1 ? 1 : k > b ? b : k;
    SS_CHECK(ss_check_shape(ctx, b, b, sizeof *sim, 0));
    SS_CHECK(ss_alloc_array(ctx, b * b, sizeof *sim, &sim));
    rc = ss_pairwise_f32(ctx, metric, batch->row0, batch->stride, b,
                         batch->row0, batch->stride, b, batch->cols, sim, bad);
    if (rc < 0) {
        ss_free(ctx, sim);
        return ss_fail_prefix(ctx, rc, "%s: batch rows %lld and %lld", fn,
                              (long long)bad[0], (long long)bad[1]);
    }
    SS_TRY(ss_uniprot_make(ctx, sim, sim, b, b, b, k, reg, &obj));
    SS_TRY(subsel_uniprot_set_update(ctx, obj, SUBSEL_UNIPROT_UPDATE_APPEND));
    SS_TRY(subsel_optimizer_create(ctx, SUBSEL_OPT_LAZY, &opt));
    SS_TRY(subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, k));
    SS_TRY(subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
    SS_TRY(subsel_optimizer_run(ctx, opt, obj, out));
cleanup:
    subsel_optimizer_free(opt);
    subsel_objective_free(obj);
    if (rc < 0)
        return ss_fail_prefix(ctx, rc, "%s", fn);
    return rc;
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
