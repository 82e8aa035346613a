/* SPDX-License-Identifier: MIT */
/*
 * The portable 8-lane vector backend: plain C arrays, fma() from libm. It
 * defines the reference semantics that the AVX2 and AVX-512 backends match
 * bit for bit (see common/vmath.h).
 */
#ifndef SS_SIMD_SCALAR_H
#define SS_SIMD_SCALAR_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define SS_INLINE static inline __attribute__((always_inline))
/* one out-of-line copy of each elementary function (common/vmath.h) */
#define SS_VMATH static __attribute__((noinline, unused))

typedef struct {
    double v[8];
} vd;
typedef struct {
    unsigned char b[8];
} vmask;

/* A vector of type T (`lanes` lanes) whose lane l is expr. */
#define LANES_MAP1(T, lanes, expr)                                             \
    T r;                                                                       \
    int l;                                                                     \
    for (l = 0; l < (lanes); l++)                                              \
        r.v[l] = (expr);                                                       \
    return r
#define VD_MAP1(expr) LANES_MAP1(vd, 8, expr)

SS_INLINE vd vd_set1(double x) { VD_MAP1(x); }
SS_INLINE vd vd_zero(void) { return vd_set1(0.0); }
SS_INLINE vd vd_add(vd a, vd b) { VD_MAP1(a.v[l] + b.v[l]); }
SS_INLINE vd vd_sub(vd a, vd b) { VD_MAP1(a.v[l] - b.v[l]); }
SS_INLINE vd vd_mul(vd a, vd b) { VD_MAP1(a.v[l] * b.v[l]); }
SS_INLINE vd vd_div(vd a, vd b) { VD_MAP1(a.v[l] / b.v[l]); }
SS_INLINE vd vd_fma(vd a, vd b, vd c) { VD_MAP1(fma(a.v[l], b.v[l], c.v[l])); }
SS_INLINE vd vd_sqrt(vd a) { VD_MAP1(sqrt(a.v[l])); }
SS_INLINE vd vd_min(vd a, vd b) { VD_MAP1(a.v[l] < b.v[l] ? a.v[l] : b.v[l]); }
SS_INLINE vd vd_max(vd a, vd b) { VD_MAP1(a.v[l] > b.v[l] ? a.v[l] : b.v[l]); }
SS_INLINE vd vd_round(vd a) { VD_MAP1(rint(a.v[l])); }

SS_INLINE vd vd_load_f32(const float *p) { VD_MAP1((double)p[l]); }
SS_INLINE vd vd_load_f32_partial(const float *p, int n)
{
    VD_MAP1(l < n ? (double)p[l] : 0.0);
}
SS_INLINE vd vd_load(const double *p) { VD_MAP1(p[l]); }
SS_INLINE vd vd_load_partial(const double *p, int n)
{
    VD_MAP1(l < n ? p[l] : 0.0);
}
SS_INLINE void vd_store(double *p, vd a) { memcpy(p, a.v, sizeof a.v); }
SS_INLINE void vd_store_partial(double *p, vd a, int n)
{
    memcpy(p, a.v, (size_t)n * sizeof *p);
}
/* Lanes rounded to float (to nearest) and stored. */
SS_INLINE void vd_store_f32(float *p, vd a)
{
    int l;
    for (l = 0; l < 8; l++)
        p[l] = (float)a.v[l];
}
SS_INLINE void vd_store_f32_partial(float *p, vd a, int n)
{
    int l;
    for (l = 0; l < n; l++)
        p[l] = (float)a.v[l];
}
/* The gathers, for int32 indices and (suffix _i64) int64 ones: CSR
 * matrices hold either width. */
#define VD_GATHERS(idx_t, sfx)                                                 \
    SS_INLINE vd vd_gather##sfx(const double *base, const idx_t *idx)          \
    {                                                                          \
        VD_MAP1(base[idx[l]]);                                                 \
    }                                                                          \
    SS_INLINE vd vd_gather_partial##sfx(const double *base, const idx_t *idx,  \
                                        int n)                                 \
    {                                                                          \
        VD_MAP1(l < n ? base[idx[l]] : 0.0);                                   \
    }                                                                          \
    SS_INLINE vd vd_gather_f32##sfx(const float *base, const idx_t *idx)       \
    {                                                                          \
        VD_MAP1((double)base[idx[l]]);                                         \
    }                                                                          \
    SS_INLINE vd vd_gather_f32_partial##sfx(const float *base,                 \
                                            const idx_t *idx, int n)           \
    {                                                                          \
        VD_MAP1(l < n ? (double)base[idx[l]] : 0.0);                           \
    }
VD_GATHERS(int32_t, )
VD_GATHERS(int64_t, _i64)

#define VM_MAP(expr)                                                           \
    vmask r;                                                                   \
    int l;                                                                     \
    for (l = 0; l < 8; l++)                                                    \
        r.b[l] = (unsigned char)(expr);                                        \
    return r

SS_INLINE vmask vd_lt(vd a, vd b) { VM_MAP(a.v[l] < b.v[l]); }
SS_INLINE vmask vd_gt(vd a, vd b) { VM_MAP(a.v[l] > b.v[l]); }
SS_INLINE vmask vd_eq(vd a, vd b) { VM_MAP(a.v[l] == b.v[l]); }
SS_INLINE vmask vm_first(int n) { VM_MAP(l < n); }
SS_INLINE unsigned vm_bits(vmask m)
{
    unsigned r = 0;
    int l;
    for (l = 0; l < 8; l++)
        r |= (unsigned)(m.b[l] != 0) << l;
    return r;
}
SS_INLINE vd vd_select(vmask m, vd a, vd b) { VD_MAP1(m.b[l] ? a.v[l] : b.v[l]); }

/* x = 2^e * f with f in [1, 2), for positive normal finite x. Exact. */
SS_INLINE vd vd_split_exponent(vd x, vd *f)
{
    vd e;
    int l;
    for (l = 0; l < 8; l++) {
        uint64_t bits;
        memcpy(&bits, &x.v[l], sizeof bits);
        e.v[l] = (double)((int64_t)((bits >> 52) & 0x7ff) - 1023);
        bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
        memcpy(&f->v[l], &bits, sizeof bits);
    }
    return e;
}

/* 2^k for integer-valued k in [-1022, 1023]. Exact. */
SS_INLINE vd vd_pow2i(vd k)
{
    vd r;
    int l;
    for (l = 0; l < 8; l++) {
        uint64_t bits = (uint64_t)((int64_t)k.v[l] + 1023) << 52;
        memcpy(&r.v[l], &bits, sizeof bits);
    }
    return r;
}

/* The 16-lane float vector `vf` (common/vmath.h's single-precision exp):
 * IEEE single arithmetic, fmaf rounding once. */
typedef struct {
    float v[16];
} vf;

#define VF_MAP1(expr) LANES_MAP1(vf, 16, expr)

SS_INLINE vf vf_set1(float x) { VF_MAP1(x); }
SS_INLINE vf vf_mul(vf a, vf b) { VF_MAP1(a.v[l] * b.v[l]); }
SS_INLINE vf vf_fma(vf a, vf b, vf c) { VF_MAP1(fmaf(a.v[l], b.v[l], c.v[l])); }
SS_INLINE vf vf_min(vf a, vf b) { VF_MAP1(a.v[l] < b.v[l] ? a.v[l] : b.v[l]); }
SS_INLINE vf vf_max(vf a, vf b) { VF_MAP1(a.v[l] > b.v[l] ? a.v[l] : b.v[l]); }
SS_INLINE vf vf_round(vf a) { VF_MAP1(rintf(a.v[l])); }
/* a < b ? x : y, lane by lane */
SS_INLINE vf vf_select_lt(vf a, vf b, vf x, vf y)
{
    VF_MAP1(a.v[l] < b.v[l] ? x.v[l] : y.v[l]);
}
SS_INLINE int vf_all_lt(vf a, vf b)
{
    int l, all = 1;
    for (l = 0; l < 16; l++)
        all &= a.v[l] < b.v[l];
    return all;
}
/* 2^k for integer-valued k in [-126, 127]. Exact. */
SS_INLINE vf vf_pow2i(vf k)
{
    vf r;
    int l;
    for (l = 0; l < 16; l++) {
        uint32_t bits = (uint32_t)((int32_t)k.v[l] + 127) << 23;
        memcpy(&r.v[l], &bits, sizeof bits);
    }
    return r;
}
/* Lanes 0-7 from a and 8-15 from b, rounded to float (to nearest). */
SS_INLINE vf vf_from_vd(vd a, vd b)
{
    VF_MAP1((float)(l < 8 ? a.v[l] : b.v[l - 8]));
}
/* Lanes 0-7 (lo) or 8-15 (hi) as doubles (exact). */
SS_INLINE vd vf_lo(vf a) { VD_MAP1((double)a.v[l]); }
SS_INLINE vd vf_hi(vf a) { VD_MAP1((double)a.v[l + 8]); }

/* The fixed reduction tree shared by every backend. */
SS_INLINE double vd_hsum(vd a)
{
    double s0 = a.v[0] + a.v[4], s1 = a.v[1] + a.v[5];
    double s2 = a.v[2] + a.v[6], s3 = a.v[3] + a.v[7];
    return (s0 + s2) + (s1 + s3);
}

#endif
