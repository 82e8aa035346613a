/* SPDX-License-Identifier: MIT */
/*
 * When is ClipCov submodular? Its only non-modular part is
 * -w_intra sum_k aV_k.aL_k / |V_k|, whose second difference for two distinct
 * pairs i, j of class k is -w_intra sim(i, j) / |V_k| (pairs of different
 * classes do not interact). So F is submodular exactly when w_intra = 0 or
 * sim(i, j) >= 0 for every two distinct pairs of one class; and only then is
 * lazy greedy's stale bound an upper bound. Two ways to know:
 *
 *  - the cone test, O(n d), run at construction: if, within a class, every
 *    image embedding lies within angle tV of a unit direction u and every
 *    caption embedding within tL of it, with tV + tL <= pi/2, then every
 *    x_V(i).x_L(j) of the class is >= 0 (angles obey the triangle
 *    inequality), hence every sim(i, j). A sufficient condition only;
 *  - the exact test: every within-class similarity, block by block with
 *    BLIS sgemm (never a pair across classes), stopping at the first
 *    negative one. Entries that float rounding could put on the wrong side
 *    of 0 are recomputed in double with the kernel table before deciding.
 */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "linalg/blas.h"
#include "matrix/matrix.h"
#include "clipcov/clipcov.h"

/* Angles carry rounding of about 1e-8 rad (acos near 1); keep well clear. */
#define CONE_MARGIN 1e-6
/* Rows per block of the exact test. */
#define BLOCK 256
/* Block pairs between two progress reports (at least). */
#define TASKS_PER_REPORT 256

/* ---- the cone test ----------------------------------------------------- */

/* Angle between x (a raw row; its positive scale does not change angles)
 * and the unit vector u; negative for a zero row, which is skipped (every
 * product with it is 0). */
static double angle_to(const ss_kernels *k, const float *x, const double *u,
                       int64_t d)
{
    double norm = sqrt(k->dot_f32(x, x, d)), c;
    if (!(norm > 0))
        return -1.0;
    c = k->dot_f32_f64(x, u, d) / norm;
    return acos(c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c);
}

void ss_cone_start(const ss_clipcov *cc, int64_t klass, const double *mean,
                   double *scratch, ss_cone *cone)
{
    int64_t d = cc->d, c;
    double nv = 0.0, nl = 0.0, nu = 0.0;
    cone->u = NULL;
    cone->widest_v = cone->widest_l = 0.0;
    cone->size = cc->class_start[klass + 1] - cc->class_start[klass];
    if (cone->size < 2)
        return; /* no pair: nothing to prove, see ss_cone_holds */
    for (c = 0; c < d; c++) {
        nv += mean[c] * mean[c];
        nl += mean[d + c] * mean[d + c];
    }
    nv = sqrt(nv);
    nl = sqrt(nl);
    if (!(nv > 0) || !(nl > 0))
        return;
    /* the bisector of the two mean directions */
    for (c = 0; c < d; c++) {
        scratch[c] = mean[c] / nv + mean[d + c] / nl;
        nu += scratch[c] * scratch[c];
    }
    nu = sqrt(nu);
    if (!(nu > 0))
        return;
    for (c = 0; c < d; c++)
        scratch[c] /= nu;
    cone->u = scratch;
}

void ss_cone_add(const ss_kernels *k, const ss_clipcov *cc, ss_cone *cone,
                 int64_t i)
{
    double a;
    if (cone->u == NULL)
        return;
    a = angle_to(k, ss_clipcov_image_row(cc, i), cone->u, cc->d);
    if (a > cone->widest_v)
        cone->widest_v = a;
    a = angle_to(k, ss_clipcov_text_row(cc, i), cone->u, cc->d);
    if (a > cone->widest_l)
        cone->widest_l = a;
}

int ss_cone_holds(const ss_cone *cone)
{
    if (cone->size < 2)
        return 1;
    return cone->u != NULL &&
           cone->widest_v + cone->widest_l <= M_PI / 2 - CONE_MARGIN;
}

/* ---- the exact test ---------------------------------------------------- */

static int64_t blocks_of(const ss_clipcov *cc, int64_t klass)
{
    int64_t size = cc->class_start[klass + 1] - cc->class_start[klass];
    return size < 2 ? 0 : (size + BLOCK - 1) / BLOCK;
}

int64_t ss_clipcov_exact_test_work(const ss_clipcov *cc)
{
    int64_t k, work = 0;
    for (k = 0; k < cc->classes; k++) {
        double size = (double)(cc->class_start[k + 1] - cc->class_start[k]);
        double w = size < 2 ? 0.0 : 2.0 * size * size * (double)cc->d;
        if (w >= (double)INT64_MAX - (double)work)
            return INT64_MAX;
        work += (int64_t)w;
    }
    return work;
}

typedef struct block_buffers {
    float *v[2], *l[2]; /* the scaled rows of the two blocks */
    double *nv[2], *nl[2];
    float *sim;
} block_buffers;

/* Gathers block b of class k (rows times their scales) into slot s;
 * returns the number of rows. */
static int64_t gather(const ss_kernels *k, const ss_clipcov *cc,
                      block_buffers *buf, int s, int64_t klass, int64_t b)
{
    int64_t first = cc->class_start[klass] + b * BLOCK;
    int64_t last = cc->class_start[klass + 1], rows, r, c, d = cc->d;
    rows = last - first < BLOCK ? last - first : BLOCK;
    for (r = 0; r < rows; r++) {
        int64_t i = cc->members[first + r];
        const float *v = ss_clipcov_image_row(cc, i);
        const float *l = ss_clipcov_text_row(cc, i);
        float *gv = buf->v[s] + r * d, *gl = buf->l[s] + r * d;
        for (c = 0; c < d; c++) {
            gv[c] = (float)(cc->scale_v[i] * (double)v[c]);
            gl[c] = (float)(cc->scale_l[i] * (double)l[c]);
        }
        buf->nv[s][r] = cc->scale_v[i] * sqrt(k->dot_f32(v, v, d));
        buf->nl[s][r] = cc->scale_l[i] * sqrt(k->dot_f32(l, l, d));
    }
    return rows;
}

/* sim(i, j) in double from the original rows. */
static double exact_sim(const ss_kernels *k, const ss_clipcov *cc, int64_t i,
                        int64_t j)
{
    int64_t d = cc->d;
    return cc->scale_v[i] * cc->scale_l[j] *
               k->dot_f32(ss_clipcov_image_row(cc, i),
                          ss_clipcov_text_row(cc, j), d) +
           cc->scale_v[j] * cc->scale_l[i] *
               k->dot_f32(ss_clipcov_image_row(cc, j),
                          ss_clipcov_text_row(cc, i), d);
}

/* 1 if block pair (a, b), b <= a, of class k holds a negative similarity
 * of two distinct pairs. */
static int pair_has_negative(const ss_kernels *k, const ss_clipcov *cc,
                             block_buffers *buf,
                             int64_t klass, int64_t a, int64_t b)
{
    int64_t d = cc->d, ra, rb, r, q;
    /* a float product of length d is within about d 2^-24 |x||y| of the
     * real one; twice that, plus the rounding of the scaled rows */
    double tol = (double)(d + 4) * ldexp(1.0, -22);
    const int64_t *ma = cc->members + cc->class_start[klass] + a * BLOCK;
    const int64_t *mb = cc->members + cc->class_start[klass] + b * BLOCK;
    ra = gather(k, cc, buf, 0, klass, a);
    rb = gather(k, cc, buf, 1, klass, b);
    /* sim = V_a L_b^T + L_a V_b^T */
    ss_sgemm_serial(0, 1, ra, rb, d, 1.0f, buf->v[0], d, buf->l[1], d, 0.0f,
                    buf->sim, rb);
    ss_sgemm_serial(0, 1, ra, rb, d, 1.0f, buf->l[0], d, buf->v[1], d, 1.0f,
                    buf->sim, rb);
    for (r = 0; r < ra; r++)
        for (q = a == b ? r + 1 : 0; q < rb; q++) {
            double s = (double)buf->sim[r * rb + q];
            double bound = tol * (buf->nv[0][r] * buf->nl[1][q] +
                                  buf->nl[0][r] * buf->nv[1][q]);
            if (s < bound && exact_sim(k, cc, ma[r], mb[q]) < 0)
                return 1;
        }
    return 0;
}

/* Task t (a block pair) -> class and blocks, by the prefix sums of the
 * per-class pair counts. */
static void task_of(const ss_clipcov *cc, const int64_t *task_start, int64_t t,
                    int64_t *klass, int64_t *a, int64_t *b)
{
    int64_t lo = 0, hi = cc->classes, p, row;
    while (hi - lo > 1) { /* last class with task_start <= t */
        int64_t mid = lo + (hi - lo) / 2;
        if (task_start[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    p = t - task_start[lo];
    /* p = row (row + 1) / 2 + col with col <= row */
    row = (int64_t)((sqrt(8.0 * (double)p + 1.0) - 1.0) / 2.0);
    while (row * (row + 1) / 2 > p)
        row--;
    while ((row + 1) * (row + 2) / 2 <= p)
        row++;
    *klass = lo;
    *a = row;
    *b = p - row * (row + 1) / 2;
}

static void buffers_free(subsel_ctx *ctx, block_buffers *buf, int count)
{
    int t, s;
    if (buf == NULL)
        return;
    for (t = 0; t < count; t++) {
        for (s = 0; s < 2; s++) {
            ss_free(ctx, buf[t].v[s]);
            ss_free(ctx, buf[t].l[s]);
            ss_free(ctx, buf[t].nv[s]);
            ss_free(ctx, buf[t].nl[s]);
        }
        ss_free(ctx, buf[t].sim);
    }
    ss_free(ctx, buf);
}

static int buffers_new(subsel_ctx *ctx, int count, int64_t d,
                       block_buffers **out)
{
    block_buffers *buf = NULL;
    int t, s, rc = SUBSEL_OK;
    SS_CHECK(ss_calloc_array(ctx, count, sizeof *buf, &buf));
    for (t = 0; t < count; t++) {
        for (s = 0; s < 2; s++) {
            SS_TRY(ss_alloc_array(ctx, BLOCK * d, sizeof(float), &buf[t].v[s]));
            SS_TRY(ss_alloc_array(ctx, BLOCK * d, sizeof(float), &buf[t].l[s]));
            SS_TRY(ss_alloc_array(ctx, BLOCK, sizeof(double), &buf[t].nv[s]));
            SS_TRY(ss_alloc_array(ctx, BLOCK, sizeof(double), &buf[t].nl[s]));
        }
        SS_TRY(ss_alloc_array(ctx, BLOCK * BLOCK, sizeof(float), &buf[t].sim));
    }
    *out = buf;
    return SUBSEL_OK;
cleanup:
    buffers_free(ctx, buf, count);
    return rc;
}

int ss_clipcov_exact_test(subsel_ctx *ctx, ss_clipcov *cc)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t *task_start = NULL, tasks, first, klass, per_report;
    block_buffers *buf = NULL;
    int threads = 0, found = 0;
    int rc = SUBSEL_OK;

    SS_TRY(ss_alloc_array(ctx, cc->classes + 1, sizeof *task_start, &task_start));
    task_start[0] = 0;
    for (klass = 0; klass < cc->classes; klass++) {
        int64_t nb = blocks_of(cc, klass);
        task_start[klass + 1] = task_start[klass] + nb * (nb + 1) / 2;
    }
    tasks = task_start[cc->classes];
    threads = ss_threads_for(ctx, tasks);
    SS_TRY(buffers_new(ctx, threads, cc->d, &buf));
    per_report = tasks / 100 > TASKS_PER_REPORT ? tasks / 100 : TASKS_PER_REPORT;
    for (first = 0; first < tasks && !found; first += per_report) {
        int64_t last = first + per_report < tasks ? first + per_report : tasks;
        int64_t t;
        SS_TRY(ss_progress(ctx, "clipcov check", first, tasks));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (t = first; t < last; t++) {
            int64_t kk, a, b;
            int me = 0, stop;
#ifdef _OPENMP
            me = omp_get_thread_num();
#endif
#pragma omp atomic read
            stop = found;
            if (stop)
                continue;
            task_of(cc, task_start, t, &kk, &a, &b);
            if (pair_has_negative(k, cc, &buf[me], kk, a, b)) {
#pragma omp atomic write
                found = 1;
            }
        }
    }
    /* the stage ends at its total also when a negative pair ended it
     * early; a cancel here still leaves nothing decided */
    SS_TRY(ss_progress(ctx, "clipcov check", tasks, tasks));
    cc->sims = found ? SS_SIMS_NEGATIVE : SS_SIMS_NONNEGATIVE;
cleanup:
    buffers_free(ctx, buf, threads);
    ss_free(ctx, task_start);
    return rc;
}
