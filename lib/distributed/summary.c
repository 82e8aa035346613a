/* SPDX-License-Identifier: MIT */
/*
 * Partial selections and their merge (GreeDi): subsel_summary_select runs
 * the optimizer on one part's objective and keeps, besides the choice, the
 * chosen rows themselves; subsel_summary_merge rebuilds the objective over
 * the union of the summaries' rows (the objective's `like`), runs the
 * optimizer there and keeps the better of that and the best summary.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "distributed/distributed.h"
#include "matrix/matrix.h"
#include "objectives/objective.h"
#include "optim/optim.h"

int ss_summary_adopt(subsel_ctx *ctx, int64_t count, int64_t total,
                     int64_t evaluations, double value, int64_t *ids,
                     double *gains, subsel_csr *rows, int32_t *labels,
                     subsel_summary **out)
{
    subsel_summary *s = NULL;
    *out = NULL;
    if (ss_calloc_array(ctx, 1, sizeof *s, &s) != SUBSEL_OK) {
        ss_free(ctx, ids);
        ss_free(ctx, gains);
        ss_free(ctx, labels);
        subsel_csr_free(rows);
        return SUBSEL_E_NOMEM;
    }
    ss_handle_init(s, SS_KIND_SUMMARY, &ctx->alloc);
    s->count = count;
    s->total = total;
    s->evaluations = evaluations;
    s->value = value;
    s->ids = ids;
    s->gains = gains;
    s->rows = rows;
    s->labels = labels;
    *out = s;
    return SUBSEL_OK;
}

void subsel_summary_free(subsel_summary *s)
{
    ss_allocator a;
    if (!ss_handle_release(s, SS_KIND_SUMMARY, __func__))
        return;
    a = s->alloc;
    ss_free_raw(&a, s->ids);
    ss_free_raw(&a, s->gains);
    ss_free_raw(&a, s->labels);
    subsel_csr_free(s->rows);
    ss_free_raw(&a, s);
}

int64_t subsel_summary_count(const subsel_summary *s)
{
    return ss_handle_is(s, SS_KIND_SUMMARY) ? s->count : 0;
}

int64_t subsel_summary_total(const subsel_summary *s)
{
    return ss_handle_is(s, SS_KIND_SUMMARY) ? s->total : 0;
}

int subsel_summary_selection(subsel_ctx *ctx, const subsel_summary *s,
                             subsel_selection **out)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, s, SS_KIND_SUMMARY);
    return ss_selection_new(ctx, s->ids, s->gains, s->count, s->value,
                            s->evaluations, out);
}

int subsel_summary_rows(subsel_ctx *ctx, const subsel_summary *s,
                        subsel_csr **out)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, s, SS_KIND_SUMMARY);
    ss_handle_retain(s->rows);
    *out = s->rows;
    return SUBSEL_OK;
}

/* The summary of selection `sel` of obj's items `local` (ids offset +
 * local), with the chosen rows. */
static int summarise(subsel_ctx *ctx, const subsel_objective *obj,
                     const subsel_selection *sel, const int64_t *map,
                     int64_t offset, int64_t total, int64_t extra_evaluations,
                     subsel_summary **out)
{
    int64_t count = subsel_selection_count(sel), i;
    const int64_t *local = subsel_selection_indices(sel);
    int64_t *ids = NULL;
    double *gains = NULL;
    subsel_csr *rows = NULL;
    int32_t *labels = NULL;
    int rc;

    if (ss_alloc_array(ctx, count, sizeof *ids, &ids) != SUBSEL_OK ||
        ss_alloc_array(ctx, count, sizeof *gains, &gains) != SUBSEL_OK) {
        ss_free(ctx, ids);
        return SUBSEL_E_NOMEM;
    }
    for (i = 0; i < count; i++)
        ids[i] = map != NULL ? map[local[i]] : offset + local[i];
    if (count > 0)
        memcpy(gains, subsel_selection_gains(sel), (size_t)count * sizeof *gains);
    rc = ss_objective_rows(ctx, obj, local, count, &rows, &labels);
    if (rc != SUBSEL_OK) {
        ss_free(ctx, ids);
        ss_free(ctx, gains);
        return rc;
    }
    return ss_summary_adopt(ctx, count, total,
                            subsel_selection_evaluations(sel) + extra_evaluations,
                            subsel_selection_value(sel), ids, gains, rows, labels,
                            out);
}

int subsel_summary_select(subsel_ctx *ctx, const subsel_optimizer *opt,
                          const subsel_objective *obj, int64_t offset,
                          int64_t total, subsel_summary **out)
{
    subsel_selection *sel = NULL;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, opt, SS_KIND_OPTIMIZER);
    SS_REQUIRE_KIND(ctx, obj, SS_KIND_OBJECTIVE);
    if (offset < 0 || total < 0 || offset > total || obj->n > total - offset)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "a part of %lld rows at offset %lld does not fit a "
                       "pool of %lld rows",
                       (long long)obj->n, (long long)offset, (long long)total);
    SS_CHECK(ss_objective_require_distribute(ctx, obj, __func__));
    SS_CHECK(ss_optimizer_run(ctx, opt, obj, obj->n, &sel));
    rc = summarise(ctx, obj, sel, NULL, offset, total, 0, out);
    subsel_selection_free(sel);
    return rc;
}

/* ---- merge -------------------------------------------------------------- */

/* An id of the union with where its row lives. */
typedef struct union_row {
    int64_t id;
    int64_t summary, row;
} union_row;

static int compare_union_rows(const void *a, const void *b)
{
    return ss_compare_int64(&((const union_row *)a)->id, &((const union_row *)b)->id);
}

/* Checks the summaries belong to one pool and lists their rows by id. */
static int list_union(subsel_ctx *ctx, const subsel_summary *const *s,
                      int64_t count, union_row **out, int64_t *rows)
{
    int64_t n = 0, j, i, at = 0;
    union_row *u = NULL;
    for (j = 0; j < count; j++) {
        SS_CHECK(ss_handle_check(ctx, s[j], SS_KIND_SUMMARY, "subsel_summary_merge",
                                 "a summary"));
        if (s[j]->total != s[0]->total)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "summary %lld is of a pool of %lld rows, summary 0 "
                           "of %lld: they are not parts of one pool",
                           (long long)j, (long long)s[j]->total,
                           (long long)s[0]->total);
        if ((s[j]->labels != NULL) != (s[0]->labels != NULL))
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "summary %lld %s quality bins, summary 0 %s",
                           (long long)j, s[j]->labels ? "has" : "has no",
                           s[0]->labels ? "has" : "has none");
        n += s[j]->count;
    }
    SS_CHECK(ss_alloc_array(ctx, n, sizeof *u, &u));
    for (j = 0; j < count; j++)
        for (i = 0; i < s[j]->count; i++) {
            u[at].id = s[j]->ids[i];
            u[at].summary = j;
            u[at++].row = i;
        }
    qsort(u, (size_t)n, sizeof *u, compare_union_rows);
    for (i = 1; i < n; i++)
        if (u[i].id == u[i - 1].id) {
            int64_t id = u[i].id, a = u[i - 1].summary, b = u[i].summary;
            ss_free(ctx, u);
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "row %lld is in summary %lld and in summary %lld: "
                           "merged summaries must be of disjoint parts",
                           (long long)id, (long long)a, (long long)b);
        }
    *out = u;
    *rows = n;
    return SUBSEL_OK;
}

/* The union's rows as one matrix (in id order) with their labels. */
static int union_matrix(subsel_ctx *ctx, const subsel_summary *const *s,
                        int64_t count, const union_row *u, int64_t n,
                        subsel_csr **rows, int32_t **labels)
{
    const subsel_csr **from = NULL;
    int64_t *which = NULL, *row = NULL, i;
    int rc = SUBSEL_OK;

    *rows = NULL;
    *labels = NULL;
    for (i = 1; i < count; i++)
        if (s[i]->rows->cols != s[0]->rows->cols)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "summary %lld has rows of %lld columns, summary 0 "
                           "of %lld",
                           (long long)i, (long long)s[i]->rows->cols,
                           (long long)s[0]->rows->cols);
    SS_TRY(ss_alloc_array(ctx, count, sizeof *from, &from));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *which, &which));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *row, &row));
    for (i = 0; i < count; i++)
        from[i] = s[i]->rows;
    for (i = 0; i < n; i++) {
        which[i] = u[i].summary;
        row[i] = u[i].row;
    }
    if (s[0]->labels != NULL) {
        SS_TRY(ss_alloc_array(ctx, n, sizeof **labels, labels));
        for (i = 0; i < n; i++)
            (*labels)[i] = s[u[i].summary]->labels[u[i].row];
    }
    rc = ss_csr_gather_rows(ctx, from, which, row, n, rows);
cleanup:
    if (rc != SUBSEL_OK) {
        ss_free(ctx, *labels);
        *labels = NULL;
    }
    ss_free(ctx, from);
    ss_free(ctx, which);
    ss_free(ctx, row);
    return rc;
}

/* f of summary j's set, evaluated on the union objective (whose item i is
 * u[i]). */
static int value_of_summary(subsel_ctx *ctx, const subsel_objective *like,
                            const union_row *u, int64_t n, int64_t j,
                            int64_t *scratch, double *value)
{
    int64_t i, count = 0;
    void *state = NULL;
    int rc;
    for (i = 0; i < n; i++)
        if (u[i].summary == j)
            scratch[count++] = i;
    SS_CHECK(ss_state_of_set(ctx, like, scratch, count, &state));
    rc = ss_objective_value(ctx, like, state, value);
    ss_objective_state_free(like, state);
    return rc;
}

int subsel_summary_merge(subsel_ctx *ctx, const subsel_optimizer *opt,
                         const subsel_objective *like,
                         const subsel_summary *const *summaries, int64_t count,
                         subsel_summary **out)
{
    union_row *u = NULL;
    int64_t n = 0, j, best = -1, *map = NULL, *scratch = NULL, evaluations = 0;
    subsel_csr *rows = NULL;
    int32_t *labels = NULL;
    subsel_objective *merged_obj = NULL;
    subsel_selection *merged = NULL;
    double best_value = 0.0;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, opt, SS_KIND_OPTIMIZER);
    SS_REQUIRE_KIND(ctx, like, SS_KIND_OBJECTIVE);
    SS_REQUIRE_NONNULL(ctx, summaries);
    if (count < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%lld summaries to merge: need at "
                       "least one", (long long)count);
    SS_CHECK(ss_objective_require_distribute(ctx, like, __func__));
    SS_CHECK(list_union(ctx, summaries, count, &u, &n));
    SS_TRY(union_matrix(ctx, summaries, count, u, n, &rows, &labels));
    SS_TRY(ss_objective_like(ctx, like, rows, labels, &merged_obj));
    SS_TRY(ss_optimizer_run(ctx, opt, merged_obj, n, &merged));
    for (j = 0; j < count; j++)
        evaluations += summaries[j]->evaluations;
    /* the best input, by f on the union (RandGreeDi keeps it when it beats
     * the merged set) */
    SS_TRY(ss_alloc_array(ctx, n, sizeof *scratch, &scratch));
    for (j = 0; j < count; j++) {
        double v;
        SS_TRY(value_of_summary(ctx, merged_obj, u, n, j, scratch, &v));
        if (best < 0 || v > best_value) {
            best = j;
            best_value = v;
        }
    }
    if (best_value > subsel_selection_value(merged)) {
        const subsel_summary *b = summaries[best];
        int64_t *ids = NULL;
        double *gains = NULL;
        int32_t *blabels = NULL;
        if (ss_alloc_array(ctx, b->count, sizeof *ids, &ids) != SUBSEL_OK ||
            ss_alloc_array(ctx, b->count, sizeof *gains, &gains) != SUBSEL_OK ||
            (b->labels != NULL &&
             ss_alloc_array(ctx, b->count, sizeof *blabels, &blabels) != SUBSEL_OK)) {
            ss_free(ctx, ids);
            ss_free(ctx, gains);
            rc = SUBSEL_E_NOMEM;
            goto cleanup;
        }
        if (b->count > 0) {
            memcpy(ids, b->ids, (size_t)b->count * sizeof *ids);
            memcpy(gains, b->gains, (size_t)b->count * sizeof *gains);
            if (blabels != NULL)
                memcpy(blabels, b->labels, (size_t)b->count * sizeof *blabels);
        }
        ss_handle_retain(b->rows);
        rc = ss_summary_adopt(ctx, b->count, b->total,
                              evaluations + subsel_selection_evaluations(merged),
                              best_value, ids, gains, b->rows, blabels, out);
        goto cleanup;
    }
    SS_TRY(ss_alloc_array(ctx, n, sizeof *map, &map));
    for (j = 0; j < n; j++)
        map[j] = u[j].id;
    rc = summarise(ctx, merged_obj, merged, map, 0, summaries[0]->total,
                   evaluations, out);
cleanup:
    subsel_selection_free(merged);
    subsel_objective_free(merged_obj);
    subsel_csr_free(rows);
    ss_free(ctx, labels);
    ss_free(ctx, u);
    ss_free(ctx, map);
    ss_free(ctx, scratch);
    return rc;
}
