/* SPDX-License-Identifier: MIT */
/*
 * The one kernel table. Every hot loop of every selector goes through a
 * table of this type, one per instruction set (scalar, AVX2, AVX-512),
 * chosen at run time by lib/dispatch.
 *
 * All three tables are instantiated from the same templates in common/ over
 * an 8-lane double-precision vector type, with the same operation sequence
 * (every multiply-add an explicit fused one, every other operation correctly
 * rounded, and reductions in one fixed tree). The results are therefore
 * bit-identical across instruction sets, which is what makes selections
 * reproducible whichever kernel runs, not merely close.
 */
#ifndef SS_KERNELS_H
#define SS_KERNELS_H

#include <stdint.h>

/* Concave functions phi of feature-based set functions. */
enum ss_phi_kind {
    SS_PHI_LOG1P = 0,  /* log(1 + x)        */
    SS_PHI_SQRT = 1,   /* sqrt(x)           */
    SS_PHI_SATURATE = 2, /* x / (1 + x)     */
    SS_PHI_EXP = 3,    /* 1 - exp(-x / c)   */
    SS_PHI_MIN = 4,    /* min(x, c)         */
    SS_PHI_POW = 5,    /* x^a, 0 < a < 1    */
    SS_PHI_COUNT = 6
};

/* phi with its parameter; `inv_param` is 1 / param, precomputed once. */
typedef struct ss_phi {
    int kind;
    double param;
    double inv_param;
} ss_phi;

typedef struct ss_kernels {
    int isa;
    const char *name;

    /* sum_k a[k] * b[k], accumulated in double. */
    double (*dot_f32)(const float *a, const float *b, int64_t n);

    /* sum_k val[k] * x[idx[k]] (a sparse row times a dense vector). */
    double (*sparse_dot_f32)(const int32_t *idx, const float *val, int64_t nnz,
                             const float *x);

    /* Marginal gain of one sparse row for a feature-based function:
     * sum_k w[idx[k]] * (phi(m[idx[k]] + val[k]) - phi(m[idx[k]])),
     * computed in numerically stable forms (log1p(z / (1 + m)) for log1p,
     * z / (sqrt(m + z) + sqrt(m)) for sqrt, ...). `col` is the per-column
     * state: 1 / (1 + m) for SS_PHI_LOG1P (so the kernel multiplies instead
     * of dividing), m itself for the others. Requires m >= 0, val >= 0,
     * finite inputs. Indexed by enum ss_phi_kind. */
    double (*fb_gain[SS_PHI_COUNT])(const int32_t *idx, const float *val,
                                    int64_t nnz, const double *col,
                                    const double *w, const ss_phi *phi);

    /* The same two for int64 column indices, giving the same bits. */
    double (*sparse_dot_f32_i64)(const int64_t *idx, const float *val,
                                 int64_t nnz, const float *x);
    double (*fb_gain_i64[SS_PHI_COUNT])(const int64_t *idx, const float *val,
                                        int64_t nnz, const double *col,
                                        const double *w, const ss_phi *phi);

    /* sum_k a[k] * x[k] for float a and double x (an embedding row against
     * a running double-precision sum: the ClipCov gains). */
    double (*dot_f32_f64)(const float *a, const double *x, int64_t n);

    /* Entropic OT (lib/ot, common/ot_template.h). Every kernel forms
     * x = fma(s, c[j], h) with h = h[j] (row kernels) or hi (column
     * kernels); inputs finite, n >= 0.
     * lse_max: max_j x_j (-inf for n = 0). lse_sum: sum_j exp(x_j - shift).
     * lse_col_max: mx[j] = max(mx[j], x_j). lse_col_sum: acc[j] +=
     * exp(x_j - mx[j]), and e[j] = that exp unless e is NULL. lse_merge: (mx, acc) becomes the log-sum-exp pair of
     * the union with (mx2, acc2) (all finite). gibbs_row: out[j] =
     * exp(x_j + hi) (h = h[j]); returns sum_j out[j] c[j]. */
    double (*lse_max)(const double *c, const double *h, double s, int64_t n);
    double (*lse_sum)(const double *c, const double *h, double s,
                      double shift, int64_t n);
    void (*lse_col_max)(double *mx, const double *c, double s, double hi,
                        int64_t n);
    void (*lse_col_sum)(double *acc, double *e, const double *mx,
                        const double *c, double s, double hi, int64_t n);
    void (*lse_merge)(double *mx, double *acc, const double *mx2,
                      const double *acc2, int64_t n);
    /* Both passes over one row of float values (the annealed solves'
     * costs), with x_j = fma(s, c[j], hcol[j]) for the row and z_j =
     * fma(s, c[j], hi) for the columns. lse_both_max: returns max_j x_j
     * (-inf for n = 0); colmax[j] = max(colmax[j], z_j). lse_both_sum:
     * returns sum_j exp(x_j - rowmax); colacc[j] += exp(z_j - colmax[j]).
     * Its exps are in single precision (common/vmath.h's vf_exp; exponents
     * and sums in double): each term within 2^-24 (|y| + 2) of itself. */
    double (*lse_both_max)(const float *c, const double *hcol, double s,
                           double hi, double *colmax, int64_t n);
    double (*lse_both_sum)(const float *c, const double *hcol, double s,
                           double hi, double rowmax, const double *colmax,
                           double *colacc, int64_t n);
    /* The one-exp form of both passes, for lib/ot/lse.c: lse_max_f32
     * returns max_j x_j (-inf for n = 0); lse_sum_shared returns sum_j e_j,
     * e_j = exp(x_j - rowmax) by vf_exp (within 2^-24 (|x_j - rowmax| + 2)
     * of itself), and adds a e_j to colacc[j]; meanwhile it prefetches
     * next[0..n), a row of n floats it does not read (the caller's next
     * row, or c itself). */
    double (*lse_max_f32)(const float *c, const double *hcol, double s, int64_t n);
    double (*lse_sum_shared)(const float *c, const double *hcol, double s,
                             double rowmax, double a, double *colacc, int64_t n,
                             const float *next);
    double (*gibbs_row)(double *out, const double *c, const double *h,
                        double s, double hi, int64_t n);
    /* Squared distances from float dot products (lib/ot's fast tiles):
     * q_j = (xs + ys[j]) - 2 dot[j] in double, out[j] = max(q_j, 0), or its
     * square root when root != 0. Returns how many j have
     * q_j < near (xs + ys[j]): pairs too close for a float product, which
     * the caller redoes (q_j computed the same way in C finds them). */
    int64_t (*dist_from_dot_f32)(double *out, const float *dot, double xs,
                                 const double *ys, double near, int root,
                                 int64_t n);
    /* UniPROT approximate gain. max_f32: max_j x[j] (-inf for n = 0).
     * exp_affine_f32: w[j] = exp(s x[j] - shift) rounded to float, returns
     * the sum of the w[j] as stored.
     * waterfill_sums: with lane j saturated when r[j] mu < w[j], writes
     * out[0] = sum of w over unsaturated lanes, out[1] = sum_sat r,
     * out[2] = sum_sat r x, out[3] = sum_sat rlogr, out[4] = #saturated,
     * out[5] = max of w / r over the unsaturated lanes with r > 0 (0 if
     * none): the mu below which one more lane saturates.
     * pack_f32: the src[j] whose bit j is set in bits (j < n; the bits of
     * the last word past n clear) to dst in order, and src2's likewise to
     * dst2 unless src2 is NULL (one pass: two rows streaming from memory
     * together arrive faster than one after the other); returns the sum of
     * the values packed to dst in exp_affine_f32's order (the same bits for
     * the same floats). */
    double (*max_f32)(const float *x, int64_t n);
    double (*exp_affine_f32)(float *w, const float *x, double s,
                             double shift, int64_t n);
    double (*pack_f32)(float *dst, const float *src, float *dst2, const float *src2,
                       const uint64_t *bits, int64_t n);
    void (*waterfill_sums)(const float *w, const double *r,
                           const double *rlogr, const float *x, double mu,
                           int64_t n, double *out);
    /* Products with a short side (common/gemm_template.h, which fixes each
     * entry's order of fused multiply-adds), beta 0 or 1:
     * gemm_rows: C (m x n) = beta C + A B with a(i, l) = a[i * a_row +
     * l * a_col] (so A or A^T) and B row-major k x n;
     * gemm_dots: C (m x n) = beta C + A B^T, A m x k, B n x k, row-major. */
    void (*gemm_rows)(int64_t m, int64_t n, int64_t k, const double *a,
                      int64_t a_row, int64_t a_col, const double *b,
                      int64_t ldb, double *c, int64_t ldc, int beta);
    void (*gemm_dots)(int64_t m, int64_t n, int64_t k, const double *a,
                      int64_t lda, const double *b, int64_t ldb, double *c,
                      int64_t ldc, int beta);
    /* pack_panels_f32: the rows of src (rows x k, row-major, ld apart)
     * as BLIS micro-panels of `panel` rows for linalg/blas.c's products:
     * panel q at out + q * stride, its entry (p, l) at [l * panel + p],
     * the last panel's missing rows zero. Copies only: the same floats on
     * every instruction set. */
    void (*pack_panels_f32)(float *out, const float *src, int64_t ld,
                            int64_t rows, int64_t k, int64_t panel,
                            int64_t stride);
    /* zlib's crc32(crc, p, n), exactly (common/crc32_template.h: carry-less
     * multiplies); NULL in the scalar table, whose callers use zlib. */
    uint32_t (*crc32)(uint32_t crc, const unsigned char *p, int64_t n);
    /* A screening product in bfloat16 (avx512/gemm_bf16.c), NULL except
     * in the AVX-512 table on CPUs with AVX512_BF16 (lib/dispatch clears
     * it elsewhere): C (SS_BF16_MR x panels SS_BF16_NR, row stride ldc) =
     * A B^T over 2 x pairs coordinates, each uint32 a pair of bfloat16 (the
     * even coordinate in the low half). A is SS_BF16_MR rows interleaved,
     * a[p * SS_BF16_MR + i] row i's pair p; B is `panels` panels one after
     * another, each pairs x SS_BF16_NR, b[(q * pairs + p) * SS_BF16_NR + j]
     * column q SS_BF16_NR + j's pair p. Single-precision sums in an order
     * of its own: not bit-identical to anything, a screen only. */
    void (*gemm_bf16)(int64_t pairs, int64_t panels, const uint32_t *a,
                      const uint32_t *b, float *c, int64_t ldc);
    /* A screen's test (lib/tarot/topk.c): bit p % 64 of bits[p / 64] set
     * where x[p] + (e1 y1[p] + (e2 y2[p] + tiny)) is not below floor[p]
     * in double (NaN passes), for p < n; returns whether any bit is. */
    int (*above_floor)(uint64_t *bits, const float *x, const float *y1,
                       const float *y2, const float *floor, double e1,
                       double e2, double tiny, int64_t n);
    /* out[r] = dot_f32(x, row rows[r] of y, n), the same bits, for r <
     * count (row i at y + i * ldy; rows NULL: row r); several rows at a
     * time, which a single dot's chain of multiply-adds cannot be. */
    void (*dots_f32)(double *out, const float *x, const float *y, int64_t ldy,
                     const int64_t *rows, int64_t count, int64_t n);
} ss_kernels;

#define SS_BF16_MR 8
#define SS_BF16_NR 32

extern const ss_kernels ss_kernels_scalar;
extern const ss_kernels ss_kernels_avx2;
extern const ss_kernels ss_kernels_avx512;

/* avx512/gemm_bf16.c, in builds whose compiler has AVX512_BF16 */
void ss_gemm_bf16_avx512(int64_t pairs, int64_t panels, const uint32_t *a,
                         const uint32_t *b, float *c, int64_t ldc);

#endif
