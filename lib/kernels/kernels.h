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
     * z / (sqrt(m + z) + sqrt(m)) for sqrt, ...). Requires m >= 0, val >= 0,
     * finite inputs. Indexed by enum ss_phi_kind. */
    double (*fb_gain[SS_PHI_COUNT])(const int32_t *idx, const float *val,
                                    int64_t nnz, const double *m,
                                    const double *w, const ss_phi *phi);
} ss_kernels;

extern const ss_kernels ss_kernels_scalar;
extern const ss_kernels ss_kernels_avx2;
extern const ss_kernels ss_kernels_avx512;

#endif
