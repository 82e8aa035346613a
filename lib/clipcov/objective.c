/* SPDX-License-Identifier: MIT */
/*
 * The ClipCov objective: construction (checks, row scales, latent classes,
 * the per-pair modular components from class sums and class means), the
 * term weights, and the set-function ops (state, gains, losses, add,
 * remove, value, merge).
 *
 * Derivation (docs/clipcov.md). With v_i = x_V(i), l_i = x_L(i) (each times
 * its scale), class sums SV_k, SL_k, means mV_k = SV_k / |V_k| and their
 * totals MV = sum_k mV_k:
 *   sum_{j in V_k} sim(i, j) = v_i.SL_k + l_i.SV_k, so F_intra's linear
 *   part, F_intra^reg and F_inter are modular, from class sums and means;
 *   sum_{i, j in S_k} sim(i, j) = 2 aV_k.aL_k with aV_k = sum_{S_k} v_i.
 * Hence F(S) = sum_{i in S} m_i - w_intra sum_k aV_k.aL_k / |V_k|, and
 *   gain(i | S) = m_i - w_intra/|V_k| (v_i.aL_k + l_i.aV_k + v_i.l_i)
 *   loss(i | S) = m_i - w_intra/|V_k| (v_i.aL_k + l_i.aV_k - v_i.l_i).
 */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/matrix.h"
#include "clipcov/clipcov.h"

/* A batch of gains below this many multiply-adds is not worth a parallel
 * region. */
#define PARALLEL_MIN_WORK 131072
/* Construction works on groups of classes with at least this many pairs
 * (enough for the threads to share a few large classes), reporting
 * progress between them. */
#define GROUP 262144

typedef struct cc_state {
    ss_allocator alloc;
    unsigned char *in_set;
    int64_t *count; /* |S_k| */
    /* Per class, allocated when the class gets its first member: aV_k in
     * [0, d), aL_k in [d, 2d). */
    double **acc;
    int64_t size;
} cc_state;

/* ---- access ------------------------------------------------------------ */

ss_clipcov *ss_clipcov_of(subsel_ctx *ctx, const subsel_objective *obj,
                          const char *caller)
{
    return ss_objective_impl(ctx, obj, &ss_clipcov_ops, caller);
}

void ss_clipcov_refresh_submodular(subsel_objective *obj)
{
    const ss_clipcov *cc = obj->impl;
    obj->submodular = cc->weight[SUBSEL_CLIPCOV_INTRA] == 0.0 ||
                      cc->sims == SS_SIMS_NONNEGATIVE;
}

const float *ss_clipcov_image_row(const ss_clipcov *cc, int64_t i)
{
    return ss_dense_row(cc->image, i);
}

const float *ss_clipcov_text_row(const ss_clipcov *cc, int64_t i)
{
    return ss_dense_row(cc->text, i);
}

/* m_i from the components and the current weights. */
static void recompute_modular(ss_clipcov *cc)
{
    const double *w = cc->weight;
    int64_t i;
    for (i = 0; i < cc->n; i++) {
        double inv = cc->inv_size[cc->class_of[i]];
        cc->modular[i] = w[SUBSEL_CLIPCOV_INTRA] * cc->intra_lin[i] +
                         w[SUBSEL_CLIPCOV_SELF] * 2.0 * cc->half_self[i] -
                         w[SUBSEL_CLIPCOV_INTER] * cc->inter[i] -
                         w[SUBSEL_CLIPCOV_REG] * cc->intra_lin[i] * inv +
                         w[SUBSEL_CLIPCOV_LABEL] * cc->alpha * cc->label[i];
    }
}

/* ---- state ------------------------------------------------------------- */

static void cc_state_free(const subsel_objective *obj, void *state)
{
    const ss_clipcov *cc = obj->impl;
    cc_state *st = state;
    ss_allocator a;
    int64_t k;
    if (st == NULL)
        return;
    a = st->alloc;
    if (st->acc != NULL)
        for (k = 0; k < cc->classes; k++)
            ss_free_raw(&a, st->acc[k]);
    ss_free_raw(&a, st->acc);
    ss_free_raw(&a, st->count);
    ss_free_raw(&a, st->in_set);
    ss_free_raw(&a, st);
}

static int cc_state_new(subsel_ctx *ctx, const subsel_objective *obj,
                        void **out)
{
    const ss_clipcov *cc = obj->impl;
    cc_state *st = NULL;
    int rc = SUBSEL_OK;
    SS_CHECK(ss_calloc_array(ctx, 1, sizeof *st, &st));
    st->alloc = ctx->alloc;
    SS_TRY(ss_calloc_array(ctx, cc->n, 1, &st->in_set));
    SS_TRY(ss_calloc_array(ctx, cc->classes, sizeof *st->count, &st->count));
    SS_TRY(ss_calloc_array(ctx, cc->classes, sizeof *st->acc, &st->acc));
    *out = st;
    return SUBSEL_OK;
cleanup:
    cc_state_free(obj, st);
    return rc;
}

/* ---- gains and losses -------------------------------------------------- */

/* v_i.aL_k + l_i.aV_k for pair i against the selected members of its class
 * (0 while the class has none). */
static double cross_with_set(const ss_kernels *k, const ss_clipcov *cc,
                             const cc_state *st, int64_t i)
{
    const double *acc = st->acc[cc->class_of[i]];
    if (acc == NULL)
        return 0.0;
    return cc->scale_v[i] * k->dot_f32_f64(ss_clipcov_image_row(cc, i),
                                           acc + cc->d, cc->d) +
           cc->scale_l[i] * k->dot_f32_f64(ss_clipcov_text_row(cc, i), acc,
                                           cc->d);
}

/* sign +1: gain of adding i (not in S); -1: loss of removing i (in S). */
static double delta_of(const ss_kernels *k, const ss_clipcov *cc,
                       const cc_state *st, int64_t i, double sign)
{
    double w = cc->weight[SUBSEL_CLIPCOV_INTRA] * cc->inv_size[cc->class_of[i]];
    if (w == 0.0)
        return cc->modular[i];
    return cc->modular[i] -
           w * (cross_with_set(k, cc, st, i) + sign * cc->half_self[i]);
}

static int batch(subsel_ctx *ctx, const subsel_objective *obj,
                 const cc_state *st, const int64_t *items, int64_t count,
                 double *out, int want_in_set, double sign)
{
    const ss_clipcov *cc = obj->impl;
    const ss_kernels *k = ss_kernels_for(ctx);
    int threads = ss_threads_for_gains(ctx, count, (double)count * (double)cc->d,
                                       PARALLEL_MIN_WORK);
    int64_t j;
#ifdef _OPENMP
    if (threads > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (j = 0; j < count; j++)
            out[j] = st->in_set[items[j]] == want_in_set
                         ? delta_of(k, cc, st, items[j], sign)
                         : 0.0;
        return SUBSEL_OK;
    }
#else
    (void)threads;
#endif
    for (j = 0; j < count; j++)
        out[j] = st->in_set[items[j]] == want_in_set
                     ? delta_of(k, cc, st, items[j], sign)
                     : 0.0;
    return SUBSEL_OK;
}

static int cc_gains(subsel_ctx *ctx, const subsel_objective *obj,
                    const void *state, const int64_t *items, int64_t count,
                    double *out)
{
    return batch(ctx, obj, state, items, count, out, 0, 1.0);
}

static int cc_losses(subsel_ctx *ctx, const subsel_objective *obj,
                     const void *state, const int64_t *items, int64_t count,
                     double *out)
{
    return batch(ctx, obj, state, items, count, out, 1, -1.0);
}

/* ---- updates ----------------------------------------------------------- */

static void accumulate(const ss_clipcov *cc, double *acc, int64_t i,
                       double sign)
{
    const float *v = ss_clipcov_image_row(cc, i);
    const float *l = ss_clipcov_text_row(cc, i);
    double sv = sign * cc->scale_v[i], sl = sign * cc->scale_l[i];
    int64_t c;
    for (c = 0; c < cc->d; c++) {
        acc[c] += sv * (double)v[c];
        acc[cc->d + c] += sl * (double)l[c];
    }
}

static int cc_add(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                  int64_t item)
{
    const ss_clipcov *cc = obj->impl;
    cc_state *st = state;
    int64_t k = cc->class_of[item];
    if (st->in_set[item])
        return ss_fail(ctx, SUBSEL_E_INVALID, "item %lld is already in the set",
                       (long long)item);
    if (st->acc[k] == NULL)
        SS_CHECK(ss_calloc_array(ctx, 2 * cc->d, sizeof *st->acc[k], &st->acc[k]));
    accumulate(cc, st->acc[k], item, 1.0);
    st->count[k]++;
    st->in_set[item] = 1;
    st->size++;
    return SUBSEL_OK;
}

static int cc_remove(subsel_ctx *ctx, const subsel_objective *obj,
                     void *state, int64_t item)
{
    const ss_clipcov *cc = obj->impl;
    cc_state *st = state;
    int64_t k = cc->class_of[item];
    if (!st->in_set[item])
        return ss_fail(ctx, SUBSEL_E_INVALID, "item %lld is not in the set",
                       (long long)item);
    /* an emptied class gets exact zeros, not the rounding residue */
    if (--st->count[k] == 0)
        memset(st->acc[k], 0, (size_t)(2 * cc->d) * sizeof *st->acc[k]);
    else
        accumulate(cc, st->acc[k], item, -1.0);
    st->in_set[item] = 0;
    st->size--;
    return SUBSEL_OK;
}

static int cc_merge(subsel_ctx *ctx, const subsel_objective *obj, void *dst,
                    const void *src)
{
    const ss_clipcov *cc = obj->impl;
    cc_state *a = dst;
    const cc_state *b = src;
    int64_t i, k, c;
    for (i = 0; i < cc->n; i++)
        if (a->in_set[i] && b->in_set[i])
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "cannot merge states that share item %lld",
                           (long long)i);
    /* allocate first, so that a failure leaves dst unchanged */
    for (k = 0; k < cc->classes; k++)
        if (b->acc[k] != NULL && a->acc[k] == NULL)
            SS_CHECK(ss_calloc_array(ctx, 2 * cc->d, sizeof *a->acc[k], &a->acc[k]));
    for (k = 0; k < cc->classes; k++) {
        if (b->acc[k] == NULL)
            continue;
        for (c = 0; c < 2 * cc->d; c++)
            a->acc[k][c] += b->acc[k][c];
        a->count[k] += b->count[k];
    }
    for (i = 0; i < cc->n; i++)
        a->in_set[i] |= b->in_set[i];
    a->size += b->size;
    return SUBSEL_OK;
}

/* The modular part in index order (so the value does not depend on the
 * order items were added in), then the pairwise part class by class. */
static int cc_value(subsel_ctx *ctx, const subsel_objective *obj,
                    const void *state, double *out)
{
    const ss_clipcov *cc = obj->impl;
    const cc_state *st = state;
    double v = 0.0;
    int64_t i, k, c;
    (void)ctx;
    for (i = 0; i < cc->n; i++)
        if (st->in_set[i])
            v += cc->modular[i];
    for (k = 0; k < cc->classes; k++) {
        const double *acc = st->acc[k];
        double dot = 0.0;
        if (acc == NULL || st->count[k] == 0)
            continue;
        for (c = 0; c < cc->d; c++)
            dot += acc[c] * acc[cc->d + c];
        v -= cc->weight[SUBSEL_CLIPCOV_INTRA] * cc->inv_size[k] * dot;
    }
    *out = v;
    return SUBSEL_OK;
}

/* ---- construction ------------------------------------------------------ */

static void cc_destroy(subsel_objective *obj)
{
    ss_clipcov *cc = obj->impl;
    const ss_allocator *a = &obj->alloc;
    if (cc == NULL)
        return;
    ss_free_raw(a, cc->scale_v);
    ss_free_raw(a, cc->scale_l);
    ss_free_raw(a, cc->class_of);
    ss_free_raw(a, cc->class_label);
    ss_free_raw(a, cc->class_start);
    ss_free_raw(a, cc->members);
    ss_free_raw(a, cc->inv_size);
    ss_free_raw(a, cc->intra_lin);
    ss_free_raw(a, cc->inter);
    ss_free_raw(a, cc->label);
    ss_free_raw(a, cc->half_self);
    ss_free_raw(a, cc->modular);
    /* The objective's references on its embeddings (each goes too if its
     * caller has freed it). */
    subsel_dense_free((subsel_dense *)cc->image);
    subsel_dense_free((subsel_dense *)cc->text);
    subsel_dense_free((subsel_dense *)cc->labels);
    ss_free_raw(a, cc);
}

const ss_objective_ops ss_clipcov_ops = {
    "ClipCov objective",
    0, /* submodular: per instance, see ss_clipcov_refresh_submodular */
    0, /* never monotone */
    NULL, cc_state_new, cc_state_free, cc_gains, cc_add, cc_value, cc_remove,
    cc_losses, cc_merge, cc_destroy, NULL /* prefetch */,
    NULL, NULL, NULL, /* rows, like, add_row: not over CSR rows */
    NULL, NULL, NULL, /* sums_count, state_sums, add_sums */
};

static int check_inputs(subsel_ctx *ctx, const subsel_dense *image,
                        const subsel_dense *text, const subsel_dense *y,
                        const int64_t *labels, int64_t *classes)
{
    const char *fn = "subsel_clipcov_create";
    int64_t i;
    SS_CHECK(ss_handle_check(ctx, image, SS_KIND_DENSE, fn, "image"));
    SS_CHECK(ss_handle_check(ctx, text, SS_KIND_DENSE, fn, "text"));
    if (y != NULL)
        SS_CHECK(ss_handle_check(ctx, y, SS_KIND_DENSE, fn,
                                 "label_embeddings"));
    if (image->rows != text->rows || image->cols != text->cols)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_clipcov_create: image embeddings are %lld x "
                       "%lld but text embeddings %lld x %lld",
                       (long long)image->rows, (long long)image->cols,
                       (long long)text->rows, (long long)text->cols);
    if (y != NULL && y->cols != image->cols)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_clipcov_create: label embeddings have %lld "
                       "columns, the pair embeddings %lld",
                       (long long)y->cols, (long long)image->cols);
    if (y == NULL && labels == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_clipcov_create: without labels, label "
                       "embeddings are needed to assign classes zero-shot");
    if (labels != NULL)
        for (i = 0; i < image->rows; i++)
            if (labels[i] < 0 || (y != NULL && labels[i] >= y->rows))
                return ss_fail(ctx, SUBSEL_E_INVALID,
                               "subsel_clipcov_create: label %lld of pair "
                               "%lld is outside [0, %s%lld)",
                               (long long)labels[i], (long long)i,
                               y != NULL ? "" : "INT64_MAX = ",
                               (long long)(y != NULL ? y->rows : INT64_MAX));
    /* without label embeddings, the distinct labels (counted later) */
    *classes = y != NULL ? y->rows : 0;
    return SUBSEL_OK;
}

/* scale[i] = 1 / |row i| (or 1 without normalising); a zero row cannot be
 * normalised and is reported by its index (the lowest one). */
static int row_scales(subsel_ctx *ctx, const subsel_dense *m, int normalize,
                      const char *what, double *scale)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t i, bad = INT64_MAX, rows = m->rows, d = m->cols;
    if (!normalize) {
        for (i = 0; i < rows; i++)
            scale[i] = 1.0;
        return SUBSEL_OK;
    }
#pragma omp parallel for num_threads(ss_threads_for(ctx, rows / 1024 + 1)) \
    schedule(static) reduction(min : bad)
    for (i = 0; i < rows; i++) {
        const float *r = ss_dense_row(m, i);
        double norm = sqrt(k->dot_f32(r, r, d));
        int ok = norm > 0 && isfinite(norm);
        scale[i] = ok ? 1.0 / norm : 0.0;
        if (!ok && i < bad)
            bad = i;
    }
    if (bad != INT64_MAX)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_clipcov_create: %s row %lld has norm 0 (or "
                       "too large for double) and cannot be normalised",
                       what, (long long)bad);
    return SUBSEL_OK;
}

/* Class means of the scaled embeddings, K x 2d in the accumulator layout
 * [mean of v | mean of l], each summed in member order; then their totals
 * over the nonempty classes, in class order. On the way, the pool sums
 * (the class sums added in class order, into `pool`, 2d doubles of zeros)
 * give the averages behind the paper's alpha:
 *   mean over (i, j) of sim(i, j)     = 2 (sum v).(sum l) / n^2
 *   mean over (i, j) of x_L(i).x_L(j) = |sum l|^2 / n^2. */
static void class_means(subsel_ctx *ctx, ss_clipcov *cc, double *means,
                        double *totals, double *pool)
{
    int64_t k, c, d = cc->d, d2 = 2 * cc->d;
    int threads = ss_threads_for(ctx, cc->classes);
    double cross = 0.0, text = 0.0, n2 = (double)cc->n * (double)cc->n;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (k = 0; k < cc->classes; k++) {
        double *m = means + k * d2;
        int64_t t;
        for (t = cc->class_start[k]; t < cc->class_start[k + 1]; t++)
            accumulate(cc, m, cc->members[t], 1.0);
    }
    for (k = 0; k < cc->classes; k++)
        for (c = 0; c < d2; c++) {
            pool[c] += means[k * d2 + c];
            means[k * d2 + c] *= cc->inv_size[k];
            totals[c] += means[k * d2 + c];
        }
    for (c = 0; c < d; c++) {
        cross += pool[c] * pool[d + c];
        text += pool[d + c] * pool[d + c];
    }
    cc->mean_cross = cc->n > 0 ? 2.0 * cross / n2 : 0.0;
    cc->mean_text = cc->n > 0 ? text / n2 : 0.0;
}

/* The components of pair i (see clipcov.h); y_scale[k] scales label
 * embedding k. */
static void components(const ss_kernels *k, ss_clipcov *cc,
                       const double *means, const double *totals,
                       const double *y_scale, int64_t i)
{
    int64_t d = cc->d, c = cc->class_of[i];
    const float *v = ss_clipcov_image_row(cc, i);
    const float *l = ss_clipcov_text_row(cc, i);
    const double *m = means + c * 2 * d;
    double sv = cc->scale_v[i], sl = cc->scale_l[i];
    /* v.mL_k, l.mV_k, v.ML, l.MV */
    double v_ml = sv * k->dot_f32_f64(v, m + d, d);
    double l_mv = sl * k->dot_f32_f64(l, m, d);
    double v_tl = sv * k->dot_f32_f64(v, totals + d, d);
    double l_tv = sl * k->dot_f32_f64(l, totals, d);
    cc->intra_lin[i] = v_ml + l_mv;
    cc->inter[i] = (v_tl - v_ml) + (l_tv - l_mv);
    cc->half_self[i] = sv * sl * k->dot_f32(v, l, d);
    cc->label[i] = 0.0;
    if (cc->labels != NULL)
        cc->label[i] = sl * y_scale[c] *
                       k->dot_f32(l, ss_dense_row(cc->labels, c), d) *
                       (1.0 - cc->inv_size[c]);
}

/* Fills the per-pair components class by class (a class mean stays in
 * cache while its members stream by) and runs the cone test on the way, in
 * groups of classes with progress between them. */
static int precompute(subsel_ctx *ctx, ss_clipcov *cc)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    double *means = NULL, *totals = NULL, *pool = NULL, *y_scale = NULL;
    double *scratch = NULL;
    int64_t first, d2 = 2 * cc->d;
    int threads = ss_threads_for(ctx, cc->classes), failed = 0;
    int rc = SUBSEL_OK;

    SS_TRY(ss_calloc_array(ctx, cc->classes * d2, sizeof *means, &means));
    SS_TRY(ss_calloc_array(ctx, d2, sizeof *totals, &totals));
    SS_TRY(ss_calloc_array(ctx, d2, sizeof *pool, &pool));
    SS_TRY(ss_alloc_array(ctx, cc->classes, sizeof *y_scale, &y_scale));
    SS_TRY(ss_alloc_array(ctx, (int64_t)threads * cc->d, sizeof *scratch, &scratch));
    if (cc->labels != NULL)
        SS_TRY(row_scales(ctx, cc->labels, cc->normalize, "label embedding",
                          y_scale));
    class_means(ctx, cc, means, totals, pool);
    for (first = 0; first < cc->classes;) {
        int64_t last = first, klass;
        while (last < cc->classes &&
               cc->class_start[last] - cc->class_start[first] < GROUP)
            last++;
        /* pairs done so far; the total (n) is reported once, at the end */
        if (cc->class_start[first] < cc->n)
            SS_TRY(ss_progress(ctx, "clipcov", cc->class_start[first], cc->n));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) \
    reduction(| : failed)
        for (klass = first; klass < last; klass++) {
            int me = 0;
            int64_t t;
            ss_cone cone;
#ifdef _OPENMP
            me = omp_get_thread_num();
#endif
            ss_cone_start(cc, klass, means + klass * d2,
                          scratch + (int64_t)me * cc->d, &cone);
            for (t = cc->class_start[klass]; t < cc->class_start[klass + 1]; t++) {
                components(k, cc, means, totals, y_scale, cc->members[t]);
                ss_cone_add(k, cc, &cone, cc->members[t]);
            }
            if (!ss_cone_holds(&cone))
                failed |= 1;
        }
        first = last;
    }
    if (!failed)
        cc->sims = SS_SIMS_NONNEGATIVE;
    SS_TRY(ss_progress(ctx, "clipcov", cc->n, cc->n));
cleanup:
    ss_free(ctx, means);
    ss_free(ctx, totals);
    ss_free(ctx, pool);
    ss_free(ctx, y_scale);
    ss_free(ctx, scratch);
    return rc;
}

int subsel_clipcov_create(subsel_ctx *ctx, const subsel_dense *image,
                          const subsel_dense *text,
                          const subsel_dense *label_embeddings,
                          const int64_t *labels, int normalize,
                          subsel_objective **out)
{
    subsel_objective *obj = NULL;
    ss_clipcov *cc = NULL;
    int64_t classes = 0, n;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(check_inputs(ctx, image, text, label_embeddings, labels, &classes));
    n = image->rows;
    SS_CHECK(ss_objective_new(ctx, &ss_clipcov_ops, n, &obj));
    SS_TRY(ss_calloc_array(ctx, 1, sizeof *cc, &cc));
    obj->impl = cc;
    /* Kept for the objective's life (cc_destroy releases them): the caller
     * may free the matrices at once. */
    ss_handle_retain(image);
    ss_handle_retain(text);
    if (label_embeddings != NULL)
        ss_handle_retain(label_embeddings);
    cc->image = image;
    cc->text = text;
    cc->labels = label_embeddings;
    cc->n = n;
    cc->d = image->cols;
    cc->classes = classes;
    cc->normalize = normalize != 0;
    cc->sims = SS_SIMS_UNKNOWN;
    ss_param_defaults(&ss_clipcov_params, obj);
    SS_TRY(ss_alloc_array(ctx, n, sizeof *cc->scale_v, &cc->scale_v));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *cc->scale_l, &cc->scale_l));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *cc->intra_lin, &cc->intra_lin));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *cc->inter, &cc->inter));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *cc->label, &cc->label));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *cc->half_self, &cc->half_self));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *cc->modular, &cc->modular));
    SS_TRY(row_scales(ctx, image, cc->normalize, "image", cc->scale_v));
    SS_TRY(row_scales(ctx, text, cc->normalize, "text", cc->scale_l));
    SS_TRY(ss_clipcov_assign_classes(ctx, cc, labels));
    SS_TRY(precompute(ctx, cc));
    recompute_modular(cc);
    ss_clipcov_refresh_submodular(obj);
    *out = obj;
    return SUBSEL_OK;
cleanup:
    subsel_objective_free(obj);
    return rc;
}

/* ---- parameters (set through lib/params) and queries ------------------- */

static int clipcov_owns(const void *handle)
{
    const subsel_objective *obj = handle;
    return obj->ops == &ss_clipcov_ops;
}

static void *clipcov_fields(const void *handle)
{
    return ((const subsel_objective *)handle)->impl;
}

/* m_i depends on every weight and alpha; submodularity on w_intra. */
static void clipcov_changed(void *handle, const ss_param *p)
{
    subsel_objective *obj = handle;
    recompute_modular(obj->impl);
    if (p->id != SUBSEL_P_CLIPCOV_ALPHA)
        ss_clipcov_refresh_submodular(obj);
}

#define CLIPCOV_WEIGHT(id, name, term, doc)                                    \
    SS_PARAM_REAL(id, 0, name, ss_clipcov, weight[term], 0.0, HUGE_VAL, 1.0,   \
                  SUBSEL_BOUND_OPEN_MAX, 0, doc)

static const ss_param clipcov_params[] = {
    CLIPCOV_WEIGHT(SUBSEL_P_CLIPCOV_WEIGHT_INTRA, "weight_intra", SUBSEL_CLIPCOV_TERM_INTRA,
                   "weight of F_intra (0 removes it)"),
    CLIPCOV_WEIGHT(SUBSEL_P_CLIPCOV_WEIGHT_SELF, "weight_self", SUBSEL_CLIPCOV_TERM_SELF,
                   "weight of F_self"),
    CLIPCOV_WEIGHT(SUBSEL_P_CLIPCOV_WEIGHT_INTER, "weight_inter", SUBSEL_CLIPCOV_TERM_INTER,
                   "weight of F_inter (subtracted)"),
    CLIPCOV_WEIGHT(SUBSEL_P_CLIPCOV_WEIGHT_REG, "weight_reg", SUBSEL_CLIPCOV_TERM_REG,
                   "weight of F_intra^reg (subtracted)"),
    CLIPCOV_WEIGHT(SUBSEL_P_CLIPCOV_WEIGHT_LABEL, "weight_label", SUBSEL_CLIPCOV_TERM_LABEL,
                   "weight of F_label (also scaled by alpha)"),
    SS_PARAM_REAL(SUBSEL_P_CLIPCOV_ALPHA, 0, "alpha", ss_clipcov, alpha, 0.0, HUGE_VAL, 0.5,
                  SUBSEL_BOUND_OPEN_MAX, 0, "factor of F_label"),
};

const ss_param_kind ss_clipcov_params = {
    SUBSEL_KIND_CLIPCOV, "ClipCov objective", SS_KIND_OBJECTIVE, clipcov_owns,
    SS_PARAMS(clipcov_params), clipcov_fields, NULL, clipcov_changed,
};

int subsel_clipcov_data_alpha(subsel_ctx *ctx, const subsel_objective *obj,
                              double *alpha)
{
    const ss_clipcov *cc;
    double ratio;
    SS_REQUIRE_CTX(ctx);
    cc = ss_clipcov_of(ctx, obj, "subsel_clipcov_data_alpha");
    if (cc == NULL)
        return SUBSEL_E_INVALID;
    SS_REQUIRE_NONNULL(ctx, alpha);
    ratio = cc->mean_cross / cc->mean_text;
    /* A caption cloud centred on the origin (mean text similarity 0) or
     * images anti-aligned with their captions (a negative mean
     * cross-modal similarity) leave no usable ratio: F_label would be
     * scaled by infinity or rewarded for captions unlike their labels. */
    if (!(cc->mean_text > 0.0) || !isfinite(ratio) || ratio < 0.0)
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "subsel_clipcov_data_alpha: the average cross-modal "
                       "similarity is %g and the average text similarity "
                       "%g, so their ratio is not a usable alpha; set "
                       "alpha yourself (the paper's value is about 0.5)",
                       cc->mean_cross, cc->mean_text);
    *alpha = ratio;
    return SUBSEL_OK;
}

int64_t subsel_clipcov_class_count(const subsel_objective *obj)
{
    if (!ss_handle_is(obj, SS_KIND_OBJECTIVE) || obj->ops != &ss_clipcov_ops)
        return 0;
    return ((const ss_clipcov *)obj->impl)->classes;
}

int subsel_clipcov_classes(subsel_ctx *ctx, const subsel_objective *obj,
                           int64_t *out, int64_t capacity)
{
    const ss_clipcov *cc;
    SS_REQUIRE_CTX(ctx);
    cc = ss_clipcov_of(ctx, obj, "subsel_clipcov_classes");
    if (cc == NULL)
        return SUBSEL_E_INVALID;
    SS_REQUIRE_NONNULL(ctx, out);
    if (capacity < cc->n)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_clipcov_classes: capacity %lld is below the "
                       "%lld pairs",
                       (long long)capacity, (long long)cc->n);
    if (cc->class_label != NULL) {
        int64_t i;
        for (i = 0; i < cc->n; i++)
            out[i] = cc->class_label[cc->class_of[i]];
    } else if (cc->n > 0) {
        memcpy(out, cc->class_of, (size_t)cc->n * sizeof *out);
    }
    return SUBSEL_OK;
}
