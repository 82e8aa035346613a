/* SPDX-License-Identifier: MIT */
/*
 * Feature-based set functions f(A) = sum_i w_i phi(m_i(A)) (and SDM, which
 * is one with a quality term): construction, the state (running column sums
 * m in double precision, kept per column in the form the gain kernel wants),
 * batched gains through the kernel table, add / remove / losses / merge.
 */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/matrix.h"
#include "objectives/fb.h"

/* Below this many nonzeros a batch of gains is not worth a parallel region
 * (its start-up costs about as much as evaluating 50k entries). */
#define PARALLEL_MIN_NNZ 65536

typedef struct fb_state {
    ss_allocator alloc;   /* the allocator of the context that made it */
    double *m;            /* column sums m_i(A) */
    double *col;          /* the kernel's column state: 1/(1+m) for log1p,
                             else an alias of m */
    int64_t *bin_count;   /* |A cap bin_l| (SDM) */
    double *bin_gain;     /* the quality-term gain of a row of each bin now,
                             kept up to date so gains need no logarithm */
    unsigned char *in_set;
    int64_t size;
} fb_state;

/* ---- phi in double precision (libm), for values and losses ------------ */

static double phi_value(const ss_phi *phi, double x)
{
    switch (phi->kind) {
    case SS_PHI_LOG1P: return log1p(x);
    case SS_PHI_SQRT: return sqrt(x);
    case SS_PHI_SATURATE: return x / (1.0 + x);
    case SS_PHI_EXP: return -expm1(-x * phi->inv_param);
    case SS_PHI_MIN: return x < phi->param ? x : phi->param;
    default: return x > 0 ? pow(x, phi->param) : 0.0;
    }
}

/* phi(m + z) - phi(m) in the same stable forms the kernels use. */
static double phi_diff(const ss_phi *phi, double m, double z)
{
    switch (phi->kind) {
    case SS_PHI_LOG1P: return log1p(z / (1.0 + m));
    case SS_PHI_SQRT: return m + z > 0 ? z / (sqrt(m + z) + sqrt(m)) : 0.0;
    case SS_PHI_SATURATE: return z / ((1.0 + m) * (1.0 + m + z));
    case SS_PHI_EXP:
        return exp(-m * phi->inv_param) * -expm1(-z * phi->inv_param);
    case SS_PHI_MIN: return fmin(m + z, phi->param) - fmin(m, phi->param);
    default:
        if (m > 0)
            return pow(m, phi->param) * expm1(phi->param * log1p(z / m));
        return z > 0 ? pow(z, phi->param) : 0.0;
    }
}

/* Gain of the quality term for a row of bin b given the current count:
 * u_b (log(2 + c) - log(1 + c)) scaled by 1 - lambda. */
static double bin_gain(const ss_fb *fb, int64_t count, int32_t b)
{
    return (1.0 - fb->lambda) * fb->bin_weights[b] * log1p(1.0 / (1.0 + (double)count));
}

/* ---- state ------------------------------------------------------------- */

static void fb_state_free(const subsel_objective *obj, void *state)
{
    fb_state *st = state;
    const ss_fb *fb = obj->impl;
    ss_allocator a;
    if (st == NULL)
        return;
    a = st->alloc;
    if (st->col != st->m)
        ss_free_raw(&a, st->col);
    ss_free_raw(&a, st->m);
    ss_free_raw(&a, st->bin_count);
    ss_free_raw(&a, st->bin_gain);
    ss_free_raw(&a, st->in_set);
    (void)fb;
    ss_free_raw(&a, st);
}

static int fb_state_new(subsel_ctx *ctx, const subsel_objective *obj,
                        void **out)
{
    const ss_fb *fb = obj->impl;
    int64_t d = fb->z->cols, c;
    fb_state *st = NULL;
    int rc = SUBSEL_OK;

    SS_CHECK(ss_calloc_array(ctx, 1, sizeof *st, &st));
    st->alloc = ctx->alloc;
    SS_TRY(ss_calloc_array(ctx, d, sizeof *st->m, &st->m));
    SS_TRY(ss_calloc_array(ctx, obj->n, 1, &st->in_set));
    SS_TRY(ss_calloc_array(ctx, fb->bins, sizeof *st->bin_count, &st->bin_count));
    SS_TRY(ss_alloc_array(ctx, fb->bins, sizeof *st->bin_gain, &st->bin_gain));
    for (c = 0; c < fb->bins; c++)
        st->bin_gain[c] = bin_gain(fb, 0, (int32_t)c);
    if (fb->phi.kind == SS_PHI_LOG1P) {
        SS_TRY(ss_alloc_array(ctx, d, sizeof *st->col, &st->col));
        for (c = 0; c < d; c++)
            st->col[c] = 1.0;
    } else {
        st->col = st->m;
    }
    *out = st;
    return SUBSEL_OK;
cleanup:
    fb_state_free(obj, st);
    return rc;
}

const double *ss_fb_state_sums(const void *state)
{
    return ((const fb_state *)state)->m;
}

/* ---- gains ------------------------------------------------------------- */

/* Rows of a sample are scattered over a pool far larger than the caches.
 * Row data is fetched a few items ahead of the kernel, every cache line of
 * the row; the per-item bookkeeping (row pointer, membership, bin) further
 * ahead, since the row fetch needs the row pointer. */
#define PREFETCH_BOOKKEEPING 8
#define PREFETCH_ROWS 4

/* The gain loop and its prefetches, instantiated for each pair of widths a
 * matrix's row pointers (ptr_t, union member ptr) and column indices
 * (idx_t, member idx, gain kernels `gains`) can have. A batch picks its
 * instance once, so the per-item code reads the arrays as plain typed
 * arrays: width tests per item, even well predicted, cost the int32 loop
 * a fifth of its speed (bench_sdm's stochastic line). */
#define FB_GAIN_LOOP(sfx, ptr_t, ptr, idx_t, idx, gains)                       \
    static void prefetch_bookkeeping_##sfx(const ss_fb *fb,                    \
                                           const fb_state *st, int64_t item)   \
    {                                                                          \
        /* both of the row's pointers, which may lie on two lines */           \
        ss_prefetch_bytes(fb->z->indptr.ptr + item, 2 * sizeof(ptr_t));        \
        SS_PREFETCH(&st->in_set[item]);                                        \
        if (fb->bins > 0)                                                      \
            SS_PREFETCH(&fb->bin_of[item]);                                    \
    }                                                                          \
                                                                               \
    static void prefetch_row_data_##sfx(const ss_fb *fb, int64_t item)         \
    {                                                                          \
        const ptr_t *ip = fb->z->indptr.ptr;                                   \
        int64_t start = ip[item], n = ip[item + 1] - start;                    \
        ss_prefetch_bytes(fb->z->indices.idx + start,                          \
                          (size_t)n * sizeof(idx_t));                          \
        ss_prefetch_bytes(fb->z->values + start, (size_t)n * sizeof(float));   \
    }                                                                          \
                                                                               \
    static double gain_of_##sfx(const ss_kernels *k, const ss_fb *fb,          \
                                const fb_state *st, int64_t item)              \
    {                                                                          \
        const ptr_t *ip = fb->z->indptr.ptr;                                   \
        int64_t start, end;                                                    \
        double g;                                                              \
        if (st->in_set[item])                                                  \
            return 0.0;                                                        \
        start = ip[item];                                                      \
        end = ip[item + 1];                                                    \
        g = k->gains[fb->phi.kind](fb->z->indices.idx + start,                 \
                                   fb->z->values + start, end - start,         \
                                   st->col, fb->w, &fb->phi);                  \
        if (fb->bins > 0)                                                      \
            g += st->bin_gain[fb->bin_of[item]];                               \
        return g;                                                              \
    }                                                                          \
                                                                               \
    static void gains_range_##sfx(const ss_kernels *k, const ss_fb *fb,        \
                                  const fb_state *st, const int64_t *items,    \
                                  int64_t begin, int64_t end, double *out)     \
    {                                                                          \
        int64_t j;                                                             \
        for (j = begin; j < end; j++) {                                        \
            if (j + PREFETCH_BOOKKEEPING < end)                                \
                prefetch_bookkeeping_##sfx(fb, st,                             \
                                           items[j + PREFETCH_BOOKKEEPING]);   \
            if (j + PREFETCH_ROWS < end)                                       \
                prefetch_row_data_##sfx(fb, items[j + PREFETCH_ROWS]);         \
            out[j] = gain_of_##sfx(k, fb, st, items[j]);                       \
        }                                                                      \
    }                                                                          \
                                                                               \
    /* The whole sample at once: bookkeeping first, then, for                  \
     * SS_PREFETCH_DATA (once the row pointers arrive, all in one wait),       \
     * every row. */                                                           \
    static void prefetch_all_##sfx(const ss_fb *fb, const fb_state *st,        \
                                   const int64_t *items, int64_t count,        \
                                   int depth)                                  \
    {                                                                          \
        int64_t j;                                                             \
        for (j = 0; j < count; j++)                                            \
            prefetch_bookkeeping_##sfx(fb, st, items[j]);                      \
        for (j = 0; depth == SS_PREFETCH_DATA && j < count; j++)               \
            prefetch_row_data_##sfx(fb, items[j]);                             \
    }

FB_GAIN_LOOP(p64_i32, int64_t, i64, int32_t, i32, fb_gain)
FB_GAIN_LOOP(p32_i32, int32_t, i32, int32_t, i32, fb_gain)
FB_GAIN_LOOP(p64_i64, int64_t, i64, int64_t, i64, fb_gain_i64)
FB_GAIN_LOOP(p32_i64, int32_t, i32, int64_t, i64, fb_gain_i64)

/* Calls instance `fn`_<widths> for z's widths. A switch of direct calls,
 * not a table of pointers: each instance can then be inlined where it is
 * called, as the one loop of 0.6 was, and the int32 path keeps 0.6's speed
 * (called through a pointer, the stochastic SDM run of bench_sdm took a
 * fifth longer than in 0.6, with the same instructions in its loops). */
#define FB_BY_WIDTHS(z, fn, ...)                                               \
    do {                                                                       \
        if ((z)->ptr64)                                                        \
            (z)->idx64 ? fn##_p64_i64(__VA_ARGS__) : fn##_p64_i32(__VA_ARGS__); \
        else                                                                   \
            (z)->idx64 ? fn##_p32_i64(__VA_ARGS__) : fn##_p32_i32(__VA_ARGS__); \
    } while (0)

static void fb_prefetch(const subsel_objective *obj, const void *state,
                        const int64_t *items, int64_t count, int depth)
{
    const ss_fb *fb = obj->impl;
    FB_BY_WIDTHS(fb->z, prefetch_all, fb, state, items, count, depth);
}

static void gains_range(const ss_kernels *k, const ss_fb *fb,
                        const fb_state *st, const int64_t *items,
                        int64_t begin, int64_t end, double *out)
{
    FB_BY_WIDTHS(fb->z, gains_range, k, fb, st, items, begin, end, out);
}

static int fb_gains(subsel_ctx *ctx, const subsel_objective *obj,
                    const void *state, const int64_t *items, int64_t count,
                    double *out)
{
    const ss_fb *fb = obj->impl;
    const fb_state *st = state;
    const ss_kernels *k = ss_kernels_for(ctx);
    double avg_nnz = fb->z->rows ? (double)fb->z->nnz / (double)fb->z->rows : 0;
    int threads = ss_threads_for_gains(ctx, count, (double)count * avg_nnz,
                                       PARALLEL_MIN_NNZ);

#ifdef _OPENMP
    if (threads > 1) {
        /* blocks of consecutive items, so each thread prefetches its own:
         * 256, or fewer so that a small batch still reaches every thread */
        int64_t per = (count + threads - 1) / threads;
        int64_t size = per < 256 ? per : 256, blocks = (count + size - 1) / size, b;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (b = 0; b < blocks; b++)
            gains_range(k, fb, st, items, b * size,
                        (b + 1) * size < count ? (b + 1) * size : count, out);
        return SUBSEL_OK;
    }
#else
    (void)threads;
#endif
    gains_range(k, fb, st, items, 0, count, out);
    return SUBSEL_OK;
}

/* f(S) - f(S - {item}) for item in S, from libm (double greedy, tests). */
static double loss_of(const ss_fb *fb, const fb_state *st, int64_t item)
{
    int64_t start, end, t;
    double g = 0.0;
    if (!st->in_set[item])
        return 0.0;
    ss_csr_range(fb->z, item, &start, &end);
    for (t = start; t < end; t++) {
        int64_t c = ss_csr_col(fb->z, t);
        double m = st->m[c], z = (double)fb->z->values[t];
        double base = m - z > 0 ? m - z : 0.0;
        g += fb->w[c] * phi_diff(&fb->phi, base, z);
    }
    if (fb->bins > 0) {
        int32_t b = fb->bin_of[item];
        g += bin_gain(fb, st->bin_count[b] - 1, b);
    }
    return g;
}

static int fb_losses(subsel_ctx *ctx, const subsel_objective *obj,
                     const void *state, const int64_t *items, int64_t count,
                     double *out)
{
    int64_t j;
    (void)ctx;
    for (j = 0; j < count; j++)
        out[j] = loss_of(obj->impl, state, items[j]);
    return SUBSEL_OK;
}

/* ---- updates ----------------------------------------------------------- */

/* Adds (sign +1) or removes (sign -1) the contribution of row `row` of z,
 * in bin `bin` (ignored without bins), to the sums. */
static void update_sums(const ss_fb *fb, fb_state *st, const subsel_csr *z,
                        int64_t row, int32_t bin, int sign)
{
    int64_t start, end, t;
    ss_csr_range(z, row, &start, &end);
    for (t = start; t < end; t++) {
        int64_t c = ss_csr_col(z, t);
        double m = st->m[c] + sign * (double)z->values[t];
        /* removal can leave a rounding residue below 0; m is a sum of
         * nonnegative values */
        st->m[c] = m > 0 ? m : 0.0;
        if (st->col != st->m)
            st->col[c] = 1.0 / (1.0 + st->m[c]);
    }
    if (fb->bins > 0) {
        st->bin_count[bin] += sign;
        st->bin_gain[bin] = bin_gain(fb, st->bin_count[bin], bin);
    }
    st->size += sign;
}

/* Adds (sign +1) or removes (sign -1) one of the objective's own items. */
static void update(const ss_fb *fb, fb_state *st, int64_t item, int sign)
{
    update_sums(fb, st, fb->z, item, fb->bins > 0 ? fb->bin_of[item] : 0, sign);
    st->in_set[item] = sign > 0;
}

static int fb_add(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                  int64_t item)
{
    fb_state *st = state;
    if (st->in_set[item])
        return ss_fail(ctx, SUBSEL_E_INVALID, "item %lld is already in the set",
                       (long long)item);
    update(obj->impl, st, item, +1);
    return SUBSEL_OK;
}

static int fb_remove(subsel_ctx *ctx, const subsel_objective *obj,
                     void *state, int64_t item)
{
    fb_state *st = state;
    if (!st->in_set[item])
        return ss_fail(ctx, SUBSEL_E_INVALID, "item %lld is not in the set",
                       (long long)item);
    update(obj->impl, st, item, -1);
    return SUBSEL_OK;
}

static int fb_merge(subsel_ctx *ctx, const subsel_objective *obj, void *dst,
                    const void *src)
{
    const ss_fb *fb = obj->impl;
    fb_state *a = dst;
    const fb_state *b = src;
    int64_t i;
    for (i = 0; i < obj->n; i++)
        if (a->in_set[i] && b->in_set[i])
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "cannot merge states that share item %lld",
                           (long long)i);
    for (i = 0; i < fb->z->cols; i++) {
        a->m[i] += b->m[i];
        if (a->col != a->m)
            a->col[i] = 1.0 / (1.0 + a->m[i]);
    }
    for (i = 0; i < fb->bins; i++) {
        a->bin_count[i] += b->bin_count[i];
        a->bin_gain[i] = bin_gain(fb, a->bin_count[i], (int32_t)i);
    }
    for (i = 0; i < obj->n; i++)
        a->in_set[i] |= b->in_set[i];
    a->size += b->size;
    return SUBSEL_OK;
}

static int fb_value(subsel_ctx *ctx, const subsel_objective *obj,
                    const void *state, double *out)
{
    const ss_fb *fb = obj->impl;
    const fb_state *st = state;
    double v = 0.0;
    int64_t c;
    (void)ctx;
    for (c = 0; c < fb->z->cols; c++)
        if (fb->w[c] != 0.0)
            v += fb->w[c] * phi_value(&fb->phi, st->m[c]);
    for (c = 0; c < fb->bins; c++)
        v += (1.0 - fb->lambda) * fb->bin_weights[c] * log1p((double)st->bin_count[c]);
    *out = v;
    return SUBSEL_OK;
}

/* ---- across processes (lib/distributed) --------------------------------- */

static int fb_rows(subsel_ctx *ctx, const subsel_objective *obj,
                   const int64_t *items, int64_t count, subsel_csr **rows,
                   int32_t **labels)
{
    const ss_fb *fb = obj->impl;
    int64_t i;
    SS_CHECK(ss_csr_gather_rows(ctx, &fb->z, NULL, items, count, rows));
    if (fb->bins == 0)
        return SUBSEL_OK;
    if (ss_alloc_array(ctx, count, sizeof **labels, labels) != SUBSEL_OK) {
        subsel_csr_free(*rows);
        *rows = NULL;
        return SUBSEL_E_NOMEM;
    }
    for (i = 0; i < count; i++)
        (*labels)[i] = fb->bin_of[items[i]];
    return SUBSEL_OK;
}

/* A copy of n doubles on the objective's allocator (NULL stays NULL). */
static int copy_doubles(subsel_ctx *ctx, subsel_objective *obj,
                        const double *src, int64_t n, double **out)
{
    *out = NULL;
    if (src == NULL)
        return SUBSEL_OK;
    SS_CHECK(ss_alloc_with(ctx, &obj->alloc, n, sizeof **out, out));
    if (n > 0)
        memcpy(*out, src, (size_t)n * sizeof **out);
    return SUBSEL_OK;
}

static int fb_like(subsel_ctx *ctx, const subsel_objective *obj,
                   const subsel_csr *rows, const int32_t *labels,
                   subsel_objective **out)
{
    const ss_fb *fb = obj->impl;
    subsel_objective *like = NULL;
    ss_fb *to;
    int64_t r;
    int rc = SUBSEL_OK;

    if (rows->cols != fb->z->cols)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "rows of %lld columns for a %s over %lld columns",
                       (long long)rows->cols, obj->ops->name,
                       (long long)fb->z->cols);
    if ((fb->bins > 0) != (labels != NULL))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       fb->bins > 0 ? "the %s has quality bins, but the rows "
                                      "come without them"
                                    : "the rows come with quality bins, but "
                                      "the %s has none",
                       obj->ops->name);
    SS_CHECK(ss_fb_new(ctx, obj->ops, rows, fb->phi.kind, fb->phi.param, 0.0, &like));
    to = like->impl;
    like->submodular = obj->submodular;
    like->monotone = obj->monotone;
    memcpy(to->w, fb->w, (size_t)fb->z->cols * sizeof *to->w);
    to->lambda = fb->lambda;
    SS_TRY(copy_doubles(ctx, like, fb->p, fb->z->cols, &to->p));
    if (fb->bins > 0) {
        SS_TRY(copy_doubles(ctx, like, fb->bin_weights, fb->bins, &to->bin_weights));
        SS_TRY(ss_alloc_with(ctx, &like->alloc, rows->rows, sizeof *to->bin_of,
                             &to->bin_of));
        for (r = 0; r < rows->rows; r++) {
            if (labels[r] < 0 || labels[r] >= fb->bins) {
                rc = ss_fail(ctx, SUBSEL_E_INVALID,
                             "row %lld is in quality bin %ld of %lld",
                             (long long)r, (long)labels[r], (long long)fb->bins);
                goto cleanup;
            }
            to->bin_of[r] = labels[r];
        }
        to->bins = fb->bins;
        to->bin_weights_set = fb->bin_weights_set;
    }
    *out = like;
    return SUBSEL_OK;
cleanup:
    subsel_objective_free(like);
    return rc;
}

static int fb_add_row(subsel_ctx *ctx, const subsel_objective *obj,
                      void *state, const subsel_csr *rows, int64_t row,
                      int32_t label)
{
    const ss_fb *fb = obj->impl;
    if (rows->cols != fb->z->cols || row < 0 || row >= rows->rows ||
        (fb->bins > 0 && (label < 0 || label >= fb->bins)))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "row %lld (bin %ld) of a %lld x %lld matrix cannot join "
                       "a %s over %lld columns and %lld bins",
                       (long long)row, (long)label, (long long)rows->rows,
                       (long long)rows->cols, obj->ops->name,
                       (long long)fb->z->cols, (long long)fb->bins);
    update_sums(fb, state, rows, row, label, +1);
    return SUBSEL_OK;
}

static int64_t fb_sums_count(const subsel_objective *obj)
{
    const ss_fb *fb = obj->impl;
    return fb->z->cols + fb->bins;
}

static void fb_state_sums(const subsel_objective *obj, const void *state,
                          double *out)
{
    const ss_fb *fb = obj->impl;
    const fb_state *st = state;
    int64_t c, d = fb->z->cols;
    memcpy(out, st->m, (size_t)d * sizeof *out);
    for (c = 0; c < fb->bins; c++)
        out[d + c] = (double)st->bin_count[c];
}

static int fb_add_sums(subsel_ctx *ctx, const subsel_objective *obj,
                       void *state, const double *sums)
{
    const ss_fb *fb = obj->impl;
    fb_state *st = state;
    int64_t c, d = fb->z->cols;
    for (c = 0; c < d + fb->bins; c++)
        if (!(sums[c] >= 0) || !isfinite(sums[c]) ||
            (c >= d && sums[c] != floor(sums[c])))
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "state sum %lld is %g: column sums and bin counts "
                           "are finite, nonnegative (bin counts whole)",
                           (long long)c, sums[c]);
    for (c = 0; c < d; c++) {
        st->m[c] += sums[c];
        if (st->col != st->m)
            st->col[c] = 1.0 / (1.0 + st->m[c]);
    }
    for (c = 0; c < fb->bins; c++) {
        st->bin_count[c] += (int64_t)sums[d + c];
        st->size += (int64_t)sums[d + c];
        st->bin_gain[c] = bin_gain(fb, st->bin_count[c], (int32_t)c);
    }
    return SUBSEL_OK;
}

/* ---- construction ------------------------------------------------------ */

static void fb_destroy(subsel_objective *obj)
{
    ss_fb *fb = obj->impl;
    if (fb == NULL)
        return;
    ss_free_raw(&obj->alloc, fb->w);
    ss_free_raw(&obj->alloc, fb->p);
    ss_free_raw(&obj->alloc, fb->bin_of);
    ss_free_raw(&obj->alloc, fb->bin_weights);
    /* The objective's reference on its matrix (the matrix goes too if the
     * caller has freed it). */
    subsel_csr_free((subsel_csr *)fb->z);
    ss_free_raw(&obj->alloc, fb);
}

static int check_phi(subsel_ctx *ctx, int kind, double param, ss_phi *phi)
{
    phi->kind = kind;
    phi->param = param;
    phi->inv_param = 0.0;
    switch (kind) {
    case SS_PHI_LOG1P:
    case SS_PHI_SQRT:
    case SS_PHI_SATURATE:
        return SUBSEL_OK;
    case SS_PHI_EXP:
    case SS_PHI_MIN:
        if (!(param > 0) || !isfinite(param))
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "the %s function needs a parameter c > 0, not %g",
                           kind == SS_PHI_EXP ? "1 - exp(-x/c)" : "min(x, c)",
                           param);
        phi->inv_param = 1.0 / param;
        return SUBSEL_OK;
    case SS_PHI_POW:
        if (!(param > 0 && param < 1))
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "x^a needs 0 < a < 1, not %g", param);
        return SUBSEL_OK;
    default:
        return ss_fail(ctx, SUBSEL_E_INVALID, "unknown concave function %d",
                       kind);
    }
}

static int check_nonnegative(subsel_ctx *ctx, const subsel_csr *z)
{
    int64_t r;
    for (r = 0; r < z->rows; r++) {
        int64_t k, start, end;
        ss_csr_range(z, r, &start, &end);
        for (k = start; k < end; k++)
            if (z->values[k] < 0.0f)
                return ss_fail(ctx, SUBSEL_E_INVALID,
                               "feature matrix value %g at row %lld, column "
                               "%lld (entry %lld) is negative: feature-based "
                               "functions need nonnegative features",
                               (double)z->values[k], (long long)r,
                               (long long)ss_csr_col(z, k), (long long)k);
    }
    return SUBSEL_OK;
}

int ss_fb_new(subsel_ctx *ctx, const ss_objective_ops *ops,
              const subsel_csr *z, int phi_kind, double param, double w_fill,
              subsel_objective **out)
{
    const char *fn =
        ops == &ss_sdm_ops ? "subsel_sdm_create" : "subsel_fb_create";
    subsel_objective *obj = NULL;
    ss_fb *fb = NULL;
    ss_phi phi;
    int64_t c;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_handle_check(ctx, z, SS_KIND_CSR, fn, "the matrix"));
    SS_CHECK(check_phi(ctx, phi_kind, param, &phi));
    SS_CHECK(check_nonnegative(ctx, z));
    SS_CHECK(ss_objective_new(ctx, ops, z->rows, &obj));
    SS_TRY(ss_calloc_array(ctx, 1, sizeof *fb, &fb));
    obj->impl = fb;
    /* Kept for the objective's life: the caller may free the matrix at
     * once (fb_destroy drops this reference). */
    ss_handle_retain(z);
    fb->z = z;
    fb->phi = phi;
    fb->lambda = 1.0;
    SS_TRY(ss_alloc_array(ctx, z->cols, sizeof *fb->w, &fb->w));
    for (c = 0; c < z->cols; c++)
        fb->w[c] = w_fill;
    *out = obj;
    return SUBSEL_OK;
cleanup:
    subsel_objective_free(obj);
    return rc;
}

int subsel_fb_create(subsel_ctx *ctx, const subsel_csr *features, int concave,
                     double param, const double *weights,
                     subsel_objective **out)
{
    subsel_objective *obj = NULL;
    ss_fb *fb;
    int64_t c;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_fb_new(ctx, &ss_fb_ops, features, concave, param, 1.0, &obj));
    fb = obj->impl;
    if (weights != NULL) {
        for (c = 0; c < features->cols; c++) {
            if (!(weights[c] >= 0) || !isfinite(weights[c])) {
                int rc = ss_fail(ctx, isnan(weights[c]) ? SUBSEL_E_NUMERIC : SUBSEL_E_INVALID,
                                 "weight %lld is %g: weights must be finite "
                                 "and nonnegative",
                                 (long long)c, weights[c]);
                subsel_objective_free(obj);
                return rc;
            }
            fb->w[c] = weights[c];
        }
    }
    *out = obj;
    return SUBSEL_OK;
}

/* The ops after check_ready: FB and SDM are one engine. */
#define FB_ENGINE_OPS                                                          \
    fb_state_new, fb_state_free, fb_gains, fb_add, fb_value, fb_remove,        \
        fb_losses, fb_merge, fb_destroy, fb_prefetch, fb_rows, fb_like,        \
        fb_add_row, fb_sums_count, fb_state_sums, fb_add_sums

const ss_objective_ops ss_fb_ops = {
    "feature-based function",
    1, /* submodular */
    1, /* monotone */
    NULL,
    FB_ENGINE_OPS,
};

static int sdm_check_ready(subsel_ctx *ctx, const subsel_objective *obj)
{
    const ss_fb *fb = obj->impl;
    if (fb->p == NULL)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "SDM objective has no target distribution: call "
                       "subsel_sdm_set_target() or "
                       "subsel_sdm_set_target_distribution()");
    if (fb->bins > 0 && !fb->bin_weights_set)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "SDM objective has %lld quality bins but no bin "
                       "weights: call subsel_sdm_set_bin_weights()",
                       (long long)fb->bins);
    return SUBSEL_OK;
}

const ss_objective_ops ss_sdm_ops = {
    "SDM objective",
    1,
    1,
    sdm_check_ready,
    FB_ENGINE_OPS,
};
