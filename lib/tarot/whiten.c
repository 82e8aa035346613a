/* SPDX-License-Identifier: MIT */
/*
 * Whitened unit rows: the rows of candidates and targets (projected first if
 * asked) are centred by their joint mean, whitened with the covariance
 * C = X^T X / (N + M) + eps I of the centred rows, and scaled to unit
 * length. Cholesky whitening solves x_w L^T = x (C = L L^T, no inverse is
 * formed); ZCA multiplies by C^-1/2 = Q diag(w)^-1/2 Q^T from the symmetric
 * eigendecomposition. Both give x C^-1 y^T as inner products. Everything
 * after the (float) input is double precision until the unit rows are
 * stored as floats. The whitened targets are kept; unprojected candidates
 * are whitened again whenever a stage reads them (ss_tarot_cand_rows), so
 * that the selector holds no copy of them, and projected ones are kept.
 *
 * Determinism: the mean sums every column in row order; the covariance adds
 * fixed row blocks in order, each block's Gram matrix in fixed column
 * panels; the transform works on zero-padded tiles of a fixed size. Every
 * BLIS call is single-threaded with a shape that does not depend on the
 * thread count (the threads share out panels and tiles), so the whitened
 * rows are the same bits for any thread count, and for any set of rows
 * whitened together.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "linalg/blas.h"
#include "linalg/lapack.h"
#include "matrix/matrix.h"
#include "tarot/tarot.h"

#define WHITEN_TILE 256
#define COV_PANEL 64
#define COV_BLOCK_BYTES ((int64_t)32 << 20)

/* The rows being whitened: candidates then targets, `dim` floats each,
 * cand_ld and targ_ld floats apart (the caller's strides, or dim once
 * projected). */
typedef struct source {
    const float *cand, *targ;
    int64_t n, m, dim, cand_ld, targ_ld;
} source;

static const float *source_row(const source *s, int64_t r)
{
    return r < s->n ? s->cand + r * s->cand_ld
                    : s->targ + (r - s->n) * s->targ_ld;
}

/* Rows r0 .. r0 + count of a row list (set[r], or r itself when set is
 * NULL) minus the mean into b (rows x dim, double); rows past the list's
 * end, up to `padded`, are zero. */
static void centred_rows(const source *s, const double *mean,
                         const int64_t *set, int64_t r0, int64_t count,
                         int64_t padded, double *b)
{
    int64_t r, c;
    for (r = 0; r < padded; r++) {
        double *dst = b + r * s->dim;
        if (r < count) {
            const float *src = source_row(s, set ? set[r0 + r] : r0 + r);
            for (c = 0; c < s->dim; c++)
                dst[c] = (double)src[c] - mean[c];
        } else {
            memset(dst, 0, (size_t)s->dim * sizeof *dst);
        }
    }
}

static void joint_mean(const subsel_ctx *ctx, const source *s, double *mean)
{
    int64_t total = s->n + s->m, c;
    int nt = ss_threads_for(ctx, s->dim / 64 + 1);
    /* Each column is summed in row order by one thread. */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (c = 0; c < s->dim; c += 64) {
        int64_t c1 = c + 64 < s->dim ? c + 64 : s->dim, r, k;
        double acc[64] = {0};
        for (r = 0; r < total; r++) {
            const float *row = source_row(s, r);
            for (k = c; k < c1; k++)
                acc[k - c] += (double)row[k];
        }
        for (k = c; k < c1; k++)
            mean[k] = acc[k - c] / (double)total;
    }
}

/* cov[j0.., j0..j0+w) (+)= B[:, j0..]^T B[:, j0..j0+w) for every panel of
 * COV_PANEL columns: the lower triangle (and a little above it), panels in
 * parallel, each one fixed-shape single-threaded product. */
static void add_gram(const subsel_ctx *ctx, const double *b, int64_t rows,
                     int64_t dim, int first, double *cov)
{
    int64_t panels = (dim + COV_PANEL - 1) / COV_PANEL, p;
    int nt = ss_threads_for(ctx, panels);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (p = 0; p < panels; p++) {
        int64_t j0 = p * COV_PANEL;
        int64_t w = dim - j0 < COV_PANEL ? dim - j0 : COV_PANEL;
        ss_dgemm_serial(1, 0, dim - j0, w, rows, 1.0, b + j0, dim, b + j0, dim,
                        first ? 0.0 : 1.0, cov + j0 * dim + j0, dim);
    }
}

/* Lower triangle of the regularised covariance into cov (dim x dim).
 * Progress: stage "whiten" at the rows read, out of `units`. */
static int covariance(subsel_ctx *ctx, const source *s, const double *mean,
                      double eps, double *cov, int64_t units)
{
    int64_t total = s->n + s->m, dim = s->dim, r0, i;
    int64_t rows = COV_BLOCK_BYTES / (dim * (int64_t)sizeof(double));
    double *b = NULL;
    int rc = SUBSEL_OK;
    if (rows < 64)
        rows = 64;
    if (rows > total)
        rows = total;
    SS_TRY(ss_alloc_array(ctx, rows * dim, sizeof *b, &b));
    for (r0 = 0; r0 < total; r0 += rows) {
        int64_t nb = total - r0 < rows ? total - r0 : rows, r;
        int nt = ss_threads_for(ctx, nb / 256 + 1);
#pragma omp parallel for num_threads(nt) schedule(static)
        for (r = 0; r < nb; r += 256)
            centred_rows(s, mean, NULL, r0 + r, nb - r < 256 ? nb - r : 256,
                         nb - r < 256 ? nb - r : 256, b + r * dim);
        add_gram(ctx, b, nb, dim, r0 == 0, cov);
        SS_TRY(ss_progress(ctx, "whiten", r0 + nb, units));
    }
    for (i = 0; i < dim; i++) {
        int64_t j;
        for (j = 0; j <= i; j++)
            cov[i * dim + j] /= (double)total;
        cov[i * dim + i] += eps;
    }
cleanup:
    ss_free(ctx, b);
    return rc;
}

/* Whitening divides by the square roots of the covariance's eigenvalues (or
 * of the Cholesky pivots): below dim * DBL_EPSILON times the largest
 * variance they are rounding noise, and the whitened rows would be too. */
static int singular(subsel_ctx *ctx, double smallest, double largest,
                    int64_t dim)
{
    if (smallest > (double)dim * DBL_EPSILON * largest)
        return SUBSEL_OK;
    return ss_fail(ctx, SUBSEL_E_NUMERIC,
                   "the covariance is not positive definite in double "
                   "precision (smallest %s %g, largest variance %g); "
                   "increase the regularisation eps",
                   "pivot or eigenvalue", smallest, largest);
}

static double largest_variance(const double *cov, int64_t dim)
{
    double v = 0.0;
    int64_t i;
    for (i = 0; i < dim; i++)
        if (cov[i * dim + i] > v)
            v = cov[i * dim + i];
    return v;
}

/* cov := L, its lower-triangular Cholesky factor. */
static int cholesky_factor(subsel_ctx *ctx, int64_t dim, double *cov)
{
    double top = largest_variance(cov, dim), low = INFINITY;
    int64_t i;
    SS_CHECK(ss_cholesky_lower(ctx, "the covariance", dim, cov, dim));
    for (i = 0; i < dim; i++)
        if (cov[i * dim + i] * cov[i * dim + i] < low)
            low = cov[i * dim + i] * cov[i * dim + i];
    return singular(ctx, low, top, dim);
}

/* cov := C^-1/2 (full, symmetric) from the lower triangle of C, with
 * scratch w (dim) and qs, q (dim x dim). */
static int zca_matrix(subsel_ctx *ctx, int64_t dim, double *cov, double *w,
                      double *qs, double *q)
{
    double top = largest_variance(cov, dim);
    int64_t i, j;
    SS_CHECK(ss_symmetric_eigen(ctx, "the covariance", dim, cov, dim, w));
    SS_CHECK(singular(ctx, w[0], top, dim));
    /* C^-1/2 = (Q diag(w)^-1/2) Q^T. */
    memcpy(q, cov, (size_t)(dim * dim) * sizeof *q);
    for (i = 0; i < dim; i++)
        for (j = 0; j < dim; j++)
            qs[i * dim + j] = q[i * dim + j] / sqrt(w[j]);
    ss_dgemm_serial(0, 1, dim, dim, dim, 1.0, qs, dim, q, dim, 0.0, cov, dim);
    return SUBSEL_OK;
}

/* Scales z (dim doubles) to unit length into dst (floats); a zero row stays
 * zero. Returns the squared norm of the stored floats. */
static float unit_row(const double *z, int64_t dim, float *dst)
{
    double amax = 0.0, s = 0.0, norm, sq = 0.0;
    int64_t c;
    for (c = 0; c < dim; c++)
        if (fabs(z[c]) > amax)
            amax = fabs(z[c]);
    if (amax == 0.0) {
        memset(dst, 0, (size_t)dim * sizeof *dst);
        return 0.0f;
    }
    /* Scaling by the largest entry keeps the squares from under- or
     * overflowing. */
    for (c = 0; c < dim; c++) {
        double q = z[c] / amax;
        s += q * q;
    }
    norm = amax * sqrt(s);
    for (c = 0; c < dim; c++) {
        dst[c] = (float)(z[c] / norm);
        sq += (double)dst[c] * (double)dst[c];
    }
    return (float)sq;
}

/* A whitening: rows of `src` minus `mean`, times the factor, scaled to unit
 * length. */
typedef struct transform {
    source src;
    const double *mean;
    const double *factor; /* L (Cholesky), C^-1/2 (ZCA) or NULL */
    int method;
} transform;

/* Rows to whiten: row r is source row set[r] (first + r when set is NULL),
 * whitened into out + r * dim, its squared norm into sq[r] (if sq). */
typedef struct job {
    const int64_t *set;
    int64_t first, count;
    float *out, *sq;
} job;

/* Tile `tile` of the job. Every tile is a zero-padded WHITEN_TILE rows, so
 * a row's bits do not depend on the rows whitened with it: rows whitened
 * for a gathered set equal those of a whole pass. */
static void transform_tile(const transform *tr, const job *jb, int64_t tile,
                           double *b, double *z)
{
    int64_t dim = tr->src.dim, r0 = tile * WHITEN_TILE, r;
    int64_t nr = jb->count - r0 < WHITEN_TILE ? jb->count - r0 : WHITEN_TILE;
    const double *rows = b;
    centred_rows(&tr->src, tr->mean, jb->set, jb->set ? r0 : jb->first + r0,
                 nr, WHITEN_TILE, b);
    if (tr->method == SUBSEL_WHITEN_CHOLESKY) {
        ss_dtrsm_right_lower_trans_serial(WHITEN_TILE, dim, tr->factor, dim,
                                          b, dim);
    } else if (tr->method == SUBSEL_WHITEN_ZCA) {
        ss_dgemm_serial(0, 0, WHITEN_TILE, dim, dim, 1.0, b, dim, tr->factor,
                        dim, 0.0, z, dim);
        rows = z;
    }
    for (r = 0; r < nr; r++) {
        float sq = unit_row(rows + r * dim, dim, jb->out + (r0 + r) * dim);
        if (jb->sq)
            jb->sq[r0 + r] = sq;
    }
}

/* Whitens the job's rows, tiles shared out among the threads. With a
 * stage, reports done0 + the rows done, out of `units`, after each batch
 * of tiles. */
static int apply(subsel_ctx *ctx, const transform *tr, const job *jb,
                 const char *stage, int64_t done0, int64_t units)
{
    int64_t dim = tr->src.dim;
    int64_t tiles = (jb->count + WHITEN_TILE - 1) / WHITEN_TILE, t0;
    int nt = ss_threads_for(ctx, tiles);
    int64_t batch = (int64_t)nt * 8;
    double *b = NULL, *z = NULL;
    int rc = SUBSEL_OK;
    if (tiles == 0)
        return SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, (int64_t)nt * WHITEN_TILE * dim, sizeof *b, &b));
    if (tr->method == SUBSEL_WHITEN_ZCA)
        SS_TRY(ss_alloc_array(ctx, (int64_t)nt * WHITEN_TILE * dim, sizeof *z,
                              &z));
    for (t0 = 0; t0 < tiles; t0 += batch) {
        int64_t t1 = t0 + batch < tiles ? t0 + batch : tiles, tile;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (tile = t0; tile < t1; tile++) {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            transform_tile(tr, jb, tile,
                           b + (int64_t)tid * WHITEN_TILE * dim,
                           z ? z + (int64_t)tid * WHITEN_TILE * dim : NULL);
        }
        if (stage != NULL)
            SS_TRY(ss_progress(ctx, stage,
                               done0 + (t1 * WHITEN_TILE < jb->count
                                            ? t1 * WHITEN_TILE
                                            : jb->count),
                               units));
    }
cleanup:
    ss_free(ctx, b);
    ss_free(ctx, z);
    return rc;
}

/* Bytes whitening holds at its peak (in double: no overflow): what it
 * keeps whole (projected rows, the covariance and, for ZCA, two more
 * dim x dim matrices, the whitened rows it keeps) and the largest scratch
 * of a stage (projection blocks, covariance row block, transform tiles). */
static double whiten_bytes(const subsel_ctx *ctx, const subsel_tarot *t,
                           int64_t dim, double *covariance_bytes)
{
    double rows = (double)(t->n + t->m), d = (double)dim;
    double threads = (double)subsel_ctx_threads(ctx), scratch;
    /* the whitened targets, and the candidates when projected */
    double kept = t->proj_dim > 0 ? rows : (double)t->m;
    double keep = kept * (d + 1) * sizeof(float) + d * sizeof(double);
    int zca = t->whiten == SUBSEL_WHITEN_ZCA;
    *covariance_bytes = 0.0;
    if (t->whiten != SUBSEL_WHITEN_NONE)
        *covariance_bytes = d * d * sizeof(double) * (zca ? 3 : 1) + d * sizeof(double);
    keep += *covariance_bytes;
    scratch = threads * WHITEN_TILE * d * sizeof(double) * (zca ? 2 : 1);
    if (t->whiten != SUBSEL_WHITEN_NONE)
        scratch = fmax(scratch, fmax((double)COV_BLOCK_BYTES, 64 * d * sizeof(double)));
    if (t->proj_dim > 0) {
        keep += rows * d * sizeof(float);
        scratch = fmax(scratch, ss_tarot_project_scratch_bytes(
                                    t->cols, dim, t->proj_block, (int)threads));
    }
    return keep + scratch;
}

static double physical_memory_bytes(void)
{
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages > 0 && size > 0)
        return (double)pages * (double)size;
#endif
    return INFINITY;
}

/* Refuses, before any work, a whitening that cannot fit: more bytes than
 * the machine has (issue 9: --proj-dim 1048576 projected for 30 s and 2.5
 * GB before its 8 TB covariance failed to allocate). */
static int check_fits(subsel_ctx *ctx, const subsel_tarot *t, int64_t dim)
{
    double cov, need = whiten_bytes(ctx, t, dim, &cov);
    double have = physical_memory_bytes();
    if (need <= have && need < (double)SIZE_MAX)
        return SUBSEL_OK;
    return ss_fail(ctx, SUBSEL_E_NOMEM,
                   "whitening %lld rows of %lld columns needs %.1f GB "
                   "(%.1f GB of it for the %lld x %lld covariance in double "
                   "precision), more than the %.1f GB of memory of this "
                   "machine: lower the projection dimension%s",
                   (long long)(t->n + t->m), (long long)dim, need / 1e9,
                   cov / 1e9, (long long)dim, (long long)dim, have / 1e9,
                   t->proj_dim > 0 ? "" : " (project the rows first)");
}

static source source_of(const subsel_tarot *t, int64_t dim)
{
    source s;
    s.n = t->n;
    s.m = t->m;
    s.dim = dim;
    s.cand = t->cand->row0;
    s.targ = t->targ->row0;
    s.cand_ld = t->cand->stride;
    s.targ_ld = t->targ->stride;
    return s;
}

int ss_tarot_whiten(subsel_ctx *ctx, subsel_tarot *t)
{
    float *pc = NULL, *pt = NULL;
    double *mean = NULL, *factor = NULL, *zw = NULL, *zqs = NULL, *zq = NULL;
    float *u = NULL, *v = NULL, *u_sq = NULL, *v_sq = NULL;
    transform tr;
    job jb;
    int64_t dim = t->proj_dim > 0 ? t->proj_dim : t->cols, cov_units, units;
    int projected = t->proj_dim > 0;
    int rc = SUBSEL_OK;

    if (t->v != NULL)
        return SUBSEL_OK;
    tr.src = source_of(t, dim);
    tr.method = (int)t->whiten;
    /* Sizes that cannot fit fail here, and everything held whole is
     * allocated before any work, largest first, so that an allocation
     * failure comes at once. What the selector keeps comes from its own
     * allocator (it may be called on other contexts); scratch from the
     * context's. Unprojected candidates are whitened when needed, from
     * the kept mean and factor (ss_tarot_cand_rows): the selector holds no
     * copy of them. Projected ones are whitened once and kept, since the
     * projected rows are not. */
    SS_CHECK(check_fits(ctx, t, dim));
    if (t->whiten != SUBSEL_WHITEN_NONE) {
        SS_TRY(ss_alloc_with(ctx, &t->alloc, dim * dim, sizeof *factor,
                             &factor));
        memset(factor, 0, (size_t)(dim * dim) * sizeof *factor);
    }
    if (t->whiten == SUBSEL_WHITEN_ZCA) {
        SS_TRY(ss_alloc_array(ctx, dim * dim, sizeof *zqs, &zqs));
        SS_TRY(ss_alloc_array(ctx, dim * dim, sizeof *zq, &zq));
        SS_TRY(ss_alloc_array(ctx, dim, sizeof *zw, &zw));
    }
    if (projected) {
        SS_TRY(ss_alloc_with(ctx, &t->alloc, t->n * dim, sizeof *u, &u));
        SS_TRY(ss_alloc_with(ctx, &t->alloc, t->n, sizeof *u_sq, &u_sq));
    }
    SS_TRY(ss_alloc_with(ctx, &t->alloc, t->m * dim, sizeof *v, &v));
    SS_TRY(ss_alloc_with(ctx, &t->alloc, t->m, sizeof *v_sq, &v_sq));
    if (projected) {
        SS_TRY(ss_alloc_array(ctx, t->n * dim, sizeof *pc, &pc));
        SS_TRY(ss_alloc_array(ctx, t->m * dim, sizeof *pt, &pt));
    }
    SS_TRY(ss_alloc_with(ctx, &t->alloc, dim, sizeof *mean, &mean));
    memset(mean, 0, (size_t)dim * sizeof *mean);
    if (projected) {
        /* stage "project": the chunks of the candidates, then the targets' */
        int64_t chunks = ss_tarot_project_chunks(t->cols);
        SS_TRY(ss_progress(ctx, "project", 0, 2 * chunks));
        SS_TRY(ss_tarot_project_rows(ctx, t->cand->row0, t->cand->stride, t->n,
                                     t->cols, dim,
                                     (int)t->proj_kind, t->proj_block, 0,
                                     2 * chunks, pc));
        SS_TRY(ss_tarot_project_rows(ctx, t->targ->row0, t->targ->stride, t->m,
                                     t->cols, dim,
                                     (int)t->proj_kind, t->proj_block, chunks,
                                     2 * chunks, pt));
        tr.src.cand = pc;
        tr.src.targ = pt;
        tr.src.cand_ld = tr.src.targ_ld = dim;
    }
    /* stage "whiten": the rows the covariance reads, then those whitened
     * here (the targets, and the candidates when projected) */
    cov_units = t->whiten != SUBSEL_WHITEN_NONE ? t->n + t->m : 0;
    units = cov_units + (projected ? t->n : 0) + t->m;
    SS_TRY(ss_progress(ctx, "whiten", 0, units));
    if (t->center)
        joint_mean(ctx, &tr.src, mean);
    if (t->whiten != SUBSEL_WHITEN_NONE) {
        SS_TRY(covariance(ctx, &tr.src, mean, t->eps, factor, units));
        if (t->whiten == SUBSEL_WHITEN_CHOLESKY)
            SS_TRY(cholesky_factor(ctx, dim, factor));
        else
            SS_TRY(zca_matrix(ctx, dim, factor, zw, zqs, zq));
    }
    tr.mean = mean;
    tr.factor = factor;
    jb.set = NULL;
    if (projected) {
        jb.first = 0;
        jb.count = t->n;
        jb.out = u;
        jb.sq = u_sq;
        SS_TRY(apply(ctx, &tr, &jb, "whiten", cov_units, units));
    }
    jb.first = t->n;
    jb.count = t->m;
    jb.out = v;
    jb.sq = v_sq;
    SS_TRY(apply(ctx, &tr, &jb, "whiten", units - t->m, units));
    t->dim = dim;
    t->u = u;
    t->v = v;
    t->u_sq = u_sq;
    t->v_sq = v_sq;
    u = v = NULL;
    u_sq = v_sq = NULL;
    if (!projected) {
        t->mean = mean;
        t->factor = factor;
        mean = factor = NULL;
    }
cleanup:
    ss_free(ctx, pc);
    ss_free(ctx, pt);
    ss_free_raw(&t->alloc, mean);
    ss_free_raw(&t->alloc, factor);
    ss_free(ctx, zw);
    ss_free(ctx, zqs);
    ss_free(ctx, zq);
    ss_free_raw(&t->alloc, u);
    ss_free_raw(&t->alloc, v);
    ss_free_raw(&t->alloc, u_sq);
    ss_free_raw(&t->alloc, v_sq);
    return rc;
}

int ss_tarot_cand_rows(subsel_ctx *ctx, const subsel_tarot *t,
                       const int64_t *set, int64_t first, int64_t count,
                       float *out, float *sq)
{
    transform tr;
    job jb;
    int64_t p;
    if (t->u != NULL) {
        for (p = 0; p < count; p++) {
            int64_t i = set ? set[p] : first + p;
            memcpy(out + p * t->dim, t->u + i * t->dim,
                   (size_t)t->dim * sizeof *out);
            if (sq)
                sq[p] = t->u_sq[i];
        }
        return SUBSEL_OK;
    }
    tr.src = source_of(t, t->dim);
    tr.mean = t->mean;
    tr.factor = t->factor;
    tr.method = (int)t->whiten;
    jb.set = set;
    jb.first = first;
    jb.count = count;
    jb.out = out;
    jb.sq = sq;
    return apply(ctx, &tr, &jb, NULL, 0, 0);
}

int ss_tarot_keep_cand_rows(subsel_ctx *ctx, subsel_tarot *t)
{
    float *u = NULL, *u_sq = NULL;
    int rc = SUBSEL_OK;
    if (t->u != NULL)
        return SUBSEL_OK;
    SS_TRY(ss_alloc_with(ctx, &t->alloc, t->n * t->dim, sizeof *u, &u));
    SS_TRY(ss_alloc_with(ctx, &t->alloc, t->n, sizeof *u_sq, &u_sq));
    SS_TRY(ss_tarot_cand_rows(ctx, t, NULL, 0, t->n, u, u_sq));
    t->u = u;
    t->u_sq = u_sq;
    return SUBSEL_OK;
cleanup:
    ss_free_raw(&t->alloc, u);
    ss_free_raw(&t->alloc, u_sq);
    return rc;
}

void ss_tarot_drop_cand_rows(subsel_tarot *t)
{
    ss_free_raw(&t->alloc, t->u);
    ss_free_raw(&t->alloc, t->u_sq);
    t->u = NULL;
    t->u_sq = NULL;
}

/* The keeper's release of a whitened view: drops its reference on the
 * selector that owns the rows. */
static void release_tarot(void *t) { subsel_tarot_free(t); }

int subsel_tarot_whiten(subsel_ctx *ctx, subsel_tarot *t, subsel_dense **u,
                        subsel_dense **v)
{
    int rc = SUBSEL_OK;
    if (u)
        *u = NULL;
    if (v)
        *v = NULL;
    SS_REQUIRE_CTX(ctx);
    SS_CHECK(ss_handle_check(ctx, t, SS_KIND_TAROT, "subsel_tarot_whiten",
                             "tarot"));
    SS_CHECK(ss_tarot_whiten(ctx, t));
    if (u)
        SS_CHECK(ss_tarot_keep_cand_rows(ctx, t));
    /* The views read the selector's rows, which never change once
     * whitened; each view keeps the selector alive. */
    if (u)
        SS_TRY(ss_dense_view(ctx, t->n, t->dim, t->u, t, release_tarot, u));
    if (v)
        SS_TRY(ss_dense_view(ctx, t->m, t->dim, t->v, t, release_tarot, v));
    return SUBSEL_OK;
cleanup:
    if (u) {
        subsel_dense_free(*u);
        *u = NULL;
    }
    return rc;
}
