/* SPDX-License-Identifier: MIT */
/*
 * Row-major BLIS wrappers with per-call thread counts.
 */
#include <blis.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/blis_arch.h"
#include "core/ctx.h"
#include "linalg/blas.h"

int ss_blas_threads(const subsel_ctx *ctx)
{
#ifdef _OPENMP
    if (omp_in_parallel())
        return 1;
#endif
    return subsel_ctx_threads(ctx);
}

/* A runtime object for one call: its thread count, and no small-matrix
 * ("sup") path
 *  - when k is not a multiple of 8, because BLIS 0.9.0's haswell/zen sup
 *    kernels then read one element past the end of A (flame/blis#821,
 *    fixed after 0.9.0; valgrind shows it on the SAE encoder's batches);
 *  - when no dimension is below 64: the packed path is then faster (on
 *    the development machine, BLIS 0.9's zen3 configuration on an AVX-512
 *    EPYC, a 64 x 512 x 512 dgemm on one core runs at 16 GFLOP/s with sup
 *    and 38 without; sgemm 51 and 75).
 * The packed path reads only the matrices. */
static int packed_path(int64_t m, int64_t n, int64_t k)
{
    return k % 8 != 0 || (m >= 64 && n >= 64 && k >= 64);
}

static void runtime_with(int threads, int64_t m, int64_t n, int64_t k,
                         rntm_t *rntm)
{
    bli_rntm_init(rntm);
    bli_rntm_set_num_threads(threads, rntm);
    if (packed_path(m, n, k))
        bli_rntm_disable_l3_sup(rntm);
}

static trans_t trans_of(int t)
{
    return t ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
}

static void sgemm_threads(int threads, int trans_a, int trans_b, int64_t m,
                          int64_t n, int64_t k, float alpha, const float *a,
                          int64_t lda, const float *b, int64_t ldb, float beta,
                          float *c, int64_t ldc)
{
    rntm_t rntm;
    runtime_with(threads, m, n, k, &rntm);
    bli_sgemm_ex(trans_of(trans_a), trans_of(trans_b), m, n, k, &alpha,
                 (float *)a, lda, 1, (float *)b, ldb, 1, &beta, c, ldc, 1,
                 ss_blis_cntx(), &rntm);
}

static void dgemm_threads(int threads, int trans_a, int trans_b, int64_t m,
                          int64_t n, int64_t k, double alpha, const double *a,
                          int64_t lda, const double *b, int64_t ldb,
                          double beta, double *c, int64_t ldc)
{
    rntm_t rntm;
    runtime_with(threads, m, n, k, &rntm);
    bli_dgemm_ex(trans_of(trans_a), trans_of(trans_b), m, n, k, &alpha,
                 (double *)a, lda, 1, (double *)b, ldb, 1, &beta, c, ldc, 1,
                 ss_blis_cntx(), &rntm);
}

void ss_sgemm(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
              int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    sgemm_threads(ss_blas_threads(ctx), trans_a, trans_b, m, n, k, alpha, a,
                  lda, b, ldb, beta, c, ldc);
}

void ss_dgemm(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
              int64_t n, int64_t k, double alpha, const double *a,
              int64_t lda, const double *b, int64_t ldb, double beta,
              double *c, int64_t ldc)
{
    dgemm_threads(ss_blas_threads(ctx), trans_a, trans_b, m, n, k, alpha, a,
                  lda, b, ldb, beta, c, ldc);
}

void ss_dgemv(const subsel_ctx *ctx, int trans, int64_t m, int64_t n,
              double alpha, const double *a, int64_t lda, const double *x,
              double beta, double *y)
{
    rntm_t rntm;
    runtime_with(ss_blas_threads(ctx), m, n, 0, &rntm);
    bli_dgemv_ex(trans_of(trans), BLIS_NO_CONJUGATE, m, n, &alpha, (double *)a,
                 lda, 1, (double *)x, 1, &beta, y, 1, ss_blis_cntx(), &rntm);
}

/* One thread, whatever the context says: BLIS may take another code path
 * (packing, kernel variant) when it threads a small product, which changes
 * the last bits; callers that promise thread-independent results tile the
 * work themselves and call these. */
void ss_sgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n,
                     int64_t k, float alpha, const float *a, int64_t lda,
                     const float *b, int64_t ldb, float beta, float *c,
                     int64_t ldc)
{
    sgemm_threads(1, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
                  c, ldc);
}

/* ss_sgemm_nt_serial's direct path: BLIS's float micro-kernel on panels
 * packed by the kernel table, in BLIS's blocks of k. The operand whose
 * rows index the kernel's MR side ("a") is the one BLIS itself would pack
 * there: B for kernels that prefer column-stored C (BLIS then multiplies
 * C^T = B A^T), else A. Each entry of C then gets the same micro-kernel
 * calls as in BLIS's packed path, one per block of k, the first with beta
 * 0 and the others adding to C, so the bits are BLIS's. */
typedef struct direct_gemm {
    cntx_t *cntx;
    sgemm_ukr_ft ukr;
    int64_t mr, nr, mc, kc, kc_max, stride_a, stride_b, panels_a, panels_b;
    int cols; /* the kernel prefers column-stored C */
} direct_gemm;

/* Floats of a micro-panel of `rows` rows over k, rounded up to 64 bytes. */
static int64_t panel_floats(int64_t rows, int64_t k)
{
    return (rows * k + 15) / 16 * 16;
}

/* The block of k that starts at p0: BLIS's forward partitioning (KC, or
 * all that is left once that fits the largest block). */
static int64_t k_block(const direct_gemm *g, int64_t p0, int64_t k)
{
    return k - p0 <= g->kc_max ? k - p0 : g->kc;
}

/* Whether the direct path computes this product with BLIS's bits, and its
 * plan: the same micro-kernel (native, its packed panels MR and NR wide),
 * the packed path (no "sup"), panels within INT64. */
static int direct_plan(int64_t m, int64_t n, int64_t k, direct_gemm *g)
{
    cntx_t *cntx = ss_blis_cntx();
    int64_t rows_a, rows_b, kp;
    if (cntx == NULL)
        cntx = bli_gks_query_cntx();
    if (cntx == NULL || m < 1 || n < 1 || k < 1 || !packed_path(m, n, k))
        return 0;
    g->cntx = cntx;
    g->ukr = (sgemm_ukr_ft)bli_cntx_get_l3_nat_ukr_dt(BLIS_FLOAT, BLIS_GEMM_UKR, cntx);
    g->mr = bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_MR, cntx);
    g->nr = bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_NR, cntx);
    g->mc = bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_MC, cntx);
    g->kc = bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_KC, cntx);
    g->kc_max = bli_cntx_get_blksz_max_dt(BLIS_FLOAT, BLIS_KC, cntx);
    g->cols = bli_cntx_l3_nat_ukr_prefers_cols_dt(BLIS_FLOAT, BLIS_GEMM_UKR, cntx);
    if (g->ukr == NULL || g->mr < 1 || g->nr < 1 || g->mr * g->nr > SS_SGEMM_TILE_MAX ||
        g->mc < g->mr || g->kc < 1 || g->kc_max < g->kc ||
        bli_cntx_get_blksz_max_dt(BLIS_FLOAT, BLIS_MR, cntx) != g->mr ||
        bli_cntx_get_blksz_max_dt(BLIS_FLOAT, BLIS_NR, cntx) != g->nr)
        return 0;
    g->mc -= g->mc % g->mr;
    rows_a = g->cols ? n : m;
    rows_b = g->cols ? m : n;
    kp = k < g->kc_max ? k : g->kc_max; /* the largest block */
    g->panels_a = (rows_a + g->mr - 1) / g->mr;
    g->panels_b = (rows_b + g->nr - 1) / g->nr;
    g->stride_a = panel_floats(g->mr, kp);
    g->stride_b = panel_floats(g->nr, kp);
    return g->panels_a <= (INT64_MAX / 2 - 16) / g->stride_a / 2 &&
           g->panels_b <= (INT64_MAX / 2 - 16) / g->stride_b / 2;
}

int64_t ss_sgemm_nt_pack_floats(int64_t m, int64_t n, int64_t k)
{
    direct_gemm g;
    if (!direct_plan(m, n, k, &g))
        return 0;
    /* 16 to align the panels; then room for the loads a micro-kernel
     * issues ahead of the k it is at (haswell's read past the last panel
     * of B, which BLIS's larger pool blocks absorb) */
    return g.panels_a * g.stride_a + g.panels_b * g.stride_b + 16 + 8 * (g.mr + g.nr);
}

/* One block of k (kc columns of the packed panels pa, pb) into C: beta 0
 * for the first block, 1 (adding to C) for the others. */
static void direct_block(const direct_gemm *g, int64_t rows_a, int64_t rows_b,
                         int64_t kc, const float *pa, const float *pb, int add,
                         float *c, int64_t rs_c, int64_t cs_c)
{
    float one = 1.0f, zero = 0.0f;
    float tile[SS_SGEMM_TILE_MAX] __attribute__((aligned(64)));
    int64_t i0, ib, jb;
    auxinfo_t aux;
    memset(&aux, 0, sizeof aux);
    bli_auxinfo_set_schema_a(BLIS_PACKED_ROW_PANELS, &aux);
    bli_auxinfo_set_schema_b(BLIS_PACKED_COL_PANELS, &aux);
    bli_auxinfo_set_is_a(1, &aux);
    bli_auxinfo_set_is_b(1, &aux);
    /* blocks of MC rows of the MR side stay in the cache while every NR
     * panel passes them, as in BLIS's loops */
    for (i0 = 0; i0 < rows_a; i0 += g->mc) {
        int64_t i1 = rows_a - i0 < g->mc ? rows_a : i0 + g->mc;
        for (jb = 0; jb < rows_b; jb += g->nr) {
            float *bp = (float *)pb + jb / g->nr * g->stride_b;
            int64_t nr = rows_b - jb < g->nr ? rows_b - jb : g->nr;
            for (ib = i0; ib < i1; ib += g->mr) {
                float *ap = (float *)pa + ib / g->mr * g->stride_a;
                float *out = c + ib * rs_c + jb * cs_c;
                int64_t mr = i1 - ib < g->mr ? i1 - ib : g->mr, p, q;
                int last = ib + g->mr >= i1;
                bli_auxinfo_set_next_a(last ? (float *)pa + i0 / g->mr * g->stride_a
                                            : ap + g->stride_a, &aux);
                bli_auxinfo_set_next_b(last ? bp + g->stride_b : bp, &aux);
                if (mr == g->mr && nr == g->nr) {
                    g->ukr(g->mr, g->nr, kc, &one, ap, bp, add ? &one : &zero, out,
                           rs_c, cs_c, &aux, g->cntx);
                    continue;
                }
                /* an edge: the whole tile, then the part that exists (as
                 * BLIS's edge case: C = tile + beta C) */
                g->ukr(g->mr, g->nr, kc, &one, ap, bp, &zero, tile, 1, g->mr, &aux,
                       g->cntx);
                for (q = 0; q < nr; q++)
                    for (p = 0; p < mr; p++) {
                        float *e = out + p * rs_c + q * cs_c;
                        *e = add ? tile[q * g->mr + p] + *e : tile[q * g->mr + p];
                    }
            }
        }
    }
}

/* 64-byte aligned start of a caller's pack buffer (its floats include the
 * 16 of slack for this). */
static float *aligned(const float *p)
{
    return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* A's panels in the plan: MR wide when A is the MR side, else NR; the
 * floats of one block of k of them. */
static int64_t a_panels_floats(const direct_gemm *g)
{
    return g->cols ? g->panels_b * g->stride_b : g->panels_a * g->stride_a;
}

/* The blocks of k the direct path splits k into. */
static int64_t k_blocks(const direct_gemm *g, int64_t k)
{
    int64_t p0, count = 0;
    for (p0 = 0; p0 < k; p0 += k_block(g, p0, k))
        count++;
    return count;
}

int64_t ss_sgemm_nt_a_floats(int64_t m, int64_t n, int64_t k)
{
    direct_gemm g;
    if (!direct_plan(m, n, k, &g))
        return 0;
    return k_blocks(&g, k) * a_panels_floats(&g) + 16 + 8 * (g.mr + g.nr);
}

int ss_sgemm_nt_pack_a(const ss_kernels *kern, int64_t m, int64_t n, int64_t k,
                       const float *a, int64_t lda, float *out)
{
    direct_gemm g;
    float *dst;
    int64_t p0, kc;
    if (!direct_plan(m, n, k, &g))
        return 0;
    dst = aligned(out);
    for (p0 = 0; p0 < k; p0 += kc, dst += a_panels_floats(&g)) {
        kc = k_block(&g, p0, k);
        if (g.cols)
            kern->pack_panels_f32(dst, a + p0, lda, m, kc, g.nr, g.stride_b);
        else
            kern->pack_panels_f32(dst, a + p0, lda, m, kc, g.mr, g.stride_a);
    }
    return 1;
}

void ss_sgemm_nt_serial_packed(const ss_kernels *kern, int64_t m, int64_t n,
                               int64_t k, const float *a, int64_t lda,
                               const float *a_packed, const float *b,
                               int64_t ldb, float *c, int64_t ldc, float *pack)
{
    direct_gemm g;
    float *pa, *pb;
    const float *src_a, *src_b, *pa_k, *pb_k, *a_k = NULL;
    int64_t rows_a, rows_b, ld_a, ld_b, p0, kc;
    if (pack == NULL || !direct_plan(m, n, k, &g)) {
        sgemm_threads(1, 0, 1, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
        return;
    }
    /* the MR side and the NR side */
    src_a = g.cols ? b : a;
    src_b = g.cols ? a : b;
    ld_a = g.cols ? ldb : lda;
    ld_b = g.cols ? lda : ldb;
    rows_a = g.cols ? n : m;
    rows_b = g.cols ? m : n;
    pa = aligned(pack);
    pb = pa + g.panels_a * g.stride_a;
    if (a_packed != NULL)
        a_k = aligned(a_packed);
    for (p0 = 0; p0 < k; p0 += kc) {
        kc = k_block(&g, p0, k);
        /* A's panels of this block from a_packed when given; the rest
         * packed here */
        pa_k = a_k != NULL && !g.cols ? a_k : pa;
        pb_k = a_k != NULL && g.cols ? a_k : pb;
        if (pa_k == pa)
            kern->pack_panels_f32(pa, src_a + p0, ld_a, rows_a, kc, g.mr, g.stride_a);
        if (pb_k == pb)
            kern->pack_panels_f32(pb, src_b + p0, ld_b, rows_b, kc, g.nr, g.stride_b);
        direct_block(&g, rows_a, rows_b, kc, pa_k, pb_k, p0 > 0, c,
                     g.cols ? 1 : ldc, g.cols ? ldc : 1);
        if (a_k != NULL)
            a_k += a_panels_floats(&g);
    }
}

void ss_sgemm_nt_serial(const ss_kernels *kern, int64_t m, int64_t n,
                        int64_t k, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float *c, int64_t ldc,
                        float *pack)
{
    ss_sgemm_nt_serial_packed(kern, m, n, k, a, lda, NULL, b, ldb, c, ldc, pack);
}

void ss_dgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n,
                     int64_t k, double alpha, const double *a, int64_t lda,
                     const double *b, int64_t ldb, double beta, double *c,
                     int64_t ldc)
{
    dgemm_threads(1, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
                  c, ldc);
}

void ss_dsyrk_lower_serial(int64_t n, int64_t k, double alpha, const double *a,
                           int64_t lda, double beta, double *c, int64_t ldc)
{
    rntm_t rntm;
    runtime_with(1, n, n, k, &rntm);
    bli_dsyrk_ex(BLIS_LOWER, BLIS_NO_TRANSPOSE, n, k, &alpha, (double *)a, lda, 1,
                 &beta, c, ldc, 1, ss_blis_cntx(), &rntm);
}

/* Rows (or columns) of C per block of ss_dgemm_det: large enough for a
 * serial product to run near BLIS's peak, small enough that a batch of a
 * few hundred rows still gives every thread blocks. */
#define DET_BLOCK 64
/* Products smaller than this (multiply-adds) run whole on one thread: a
 * split small product costs more in packing than it saves. */
#define DET_MIN_SPLIT ((int64_t)1 << 22)

/* A product's shortest side up to which the kernel table's gemm_rows and
 * gemm_dots run it instead of BLIS. BLIS packs the long operands first:
 * for a 20-row minibatch against a 512 x 256 weight matrix the packing
 * costs about as much as the multiplying. On LoRS's shapes the kernels
 * run 1.2-1.5x BLIS's skx kernels (bench/bench_blas.c, "short"). */
#define SHORT_SIDE 32

/* One serial block of ss_dgemm_det: the kernel table's short-side
 * products when they apply (alpha 1, beta 0 or 1, not both transposed),
 * else BLIS. */
static void det_block(const ss_kernels *kern, int trans_a, int trans_b,
                      int64_t m, int64_t n, int64_t k, double alpha,
                      const double *a, int64_t lda, const double *b,
                      int64_t ldb, double beta, double *c, int64_t ldc)
{
    if (kern && alpha == 1.0 && (beta == 0.0 || beta == 1.0)) {
        if (!trans_b) {
            kern->gemm_rows(m, n, k, a, trans_a ? 1 : lda, trans_a ? lda : 1,
                            b, ldb, c, ldc, beta == 1.0);
            return;
        }
        if (!trans_a) {
            kern->gemm_dots(m, n, k, a, lda, b, ldb, c, ldc, beta == 1.0);
            return;
        }
    }
    ss_dgemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                    ldc);
}

void ss_dgemm_det(const subsel_ctx *ctx, int trans_a, int trans_b, int64_t m,
                  int64_t n, int64_t k, double alpha, const double *a,
                  int64_t lda, const double *b, int64_t ldb, double beta,
                  double *c, int64_t ldc)
{
    int by_rows = m >= 2 * DET_BLOCK || m >= n;
    int64_t extent = by_rows ? m : n;
    int64_t blocks = (extent + DET_BLOCK - 1) / DET_BLOCK, i;
    int64_t shortest = m < n ? (m < k ? m : k) : (n < k ? n : k);
    /* the choice depends on the shape only, never on the threads */
    const ss_kernels *kern = shortest <= SHORT_SIDE ? ss_kernels_for(ctx) : NULL;
    int threads = ss_blas_threads(ctx);
    if (blocks < 2 || threads < 2 || m * n * k < DET_MIN_SPLIT) {
        /* the same blocks on one thread: the same bits */
        threads = 1;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
#endif
    for (i = 0; i < blocks; i++) {
        int64_t lo = i * DET_BLOCK;
        int64_t len = extent - lo < DET_BLOCK ? extent - lo : DET_BLOCK;
        if (by_rows)
            det_block(kern, trans_a, trans_b, len, n, k, alpha,
                      trans_a ? a + lo : a + lo * lda, lda, b, ldb, beta,
                      c + lo * ldc, ldc);
        else
            det_block(kern, trans_a, trans_b, m, len, k, alpha, a, lda,
                      trans_b ? b + lo * ldb : b + lo, ldb, beta, c + lo,
                      ldc);
    }
}

void ss_dtrsm_right_lower_trans_serial(int64_t m, int64_t n, const double *l,
                                       int64_t ldl, double *b, int64_t ldb)
{
    rntm_t rntm;
    double one = 1.0;
    runtime_with(1, m, n, 0, &rntm);
    bli_dtrsm_ex(BLIS_RIGHT, BLIS_LOWER, BLIS_TRANSPOSE, BLIS_NONUNIT_DIAG, m,
                 n, &one, (double *)l, ldl, 1, b, ldb, 1, ss_blis_cntx(), &rntm);
}
