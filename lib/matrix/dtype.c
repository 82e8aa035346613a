/* SPDX-License-Identifier: MIT */
/*
 * Element types of caller arrays (SUBSEL_DTYPE_*): sizes, names, alignment
 * checks, and the one conversion to the float32 every kernel reads. float16
 * is converted by a scalar bit-level routine, exact for all 65536 halves
 * (tests/check_float16.py compares it with NumPy's); conversion happens
 * once per constructor, so it is not worth an F16C kernel.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "matrix/matrix.h"

size_t ss_dtype_size(int dtype)
{
    switch (dtype) {
    case SUBSEL_DTYPE_FLOAT16: return 2;
    case SUBSEL_DTYPE_FLOAT32: return 4;
    case SUBSEL_DTYPE_FLOAT64: return 8;
    case SUBSEL_DTYPE_INT32: return 4;
    case SUBSEL_DTYPE_INT64: return 8;
    default: return 0;
    }
}

const char *ss_dtype_name(int dtype)
{
    switch (dtype) {
    case SUBSEL_DTYPE_FLOAT16: return "float16";
    case SUBSEL_DTYPE_FLOAT32: return "float32";
    case SUBSEL_DTYPE_FLOAT64: return "float64";
    case SUBSEL_DTYPE_INT32: return "int32";
    case SUBSEL_DTYPE_INT64: return "int64";
    default: return "unknown";
    }
}

float ss_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu, bits;
    float f;
    if (exponent == 0x1f) {
        /* infinity, or NaN keeping its payload */
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent != 0) {
        /* normal: rebias the exponent from 15 to 127 */
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign; /* signed zero */
    } else {
        /* subnormal mantissa * 2^-24: normalise until the implicit bit
         * (bit 10) is set, one exponent step down per shift from 2^-14's
         * biased exponent 113 */
        uint32_t e = 113;
        while (!(mantissa & 0x400u)) {
            mantissa <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((mantissa & 0x3ffu) << 13);
    }
    memcpy(&f, &bits, sizeof f);
    return f;
}

void ss_convert_to_float(const void *in, int dtype, int64_t n, float *out)
{
    int64_t i;
    switch (dtype) {
    case SUBSEL_DTYPE_FLOAT16: {
        const uint16_t *h = in;
        for (i = 0; i < n; i++)
            out[i] = ss_half_to_float(h[i]);
        break;
    }
    case SUBSEL_DTYPE_FLOAT64: {
        /* beyond FLT_MAX is infinite, as the .npy reader has it (never
         * rounded down to FLT_MAX), and never an undefined conversion */
        const double *d = in;
        for (i = 0; i < n; i++)
            out[i] = d[i] > FLT_MAX    ? INFINITY
                     : d[i] < -FLT_MAX ? -INFINITY
                                       : (float)d[i];
        break;
    }
    default:
        if (n > 0)
            memcpy(out, in, (size_t)n * sizeof *out);
        break;
    }
}

double ss_dtype_value(const void *in, int dtype, int64_t k)
{
    switch (dtype) {
    case SUBSEL_DTYPE_FLOAT16: return ss_half_to_float(((const uint16_t *)in)[k]);
    case SUBSEL_DTYPE_FLOAT64: return ((const double *)in)[k];
    default: return ((const float *)in)[k];
    }
}

int ss_check_aligned(subsel_ctx *ctx, const void *p, int dtype,
                     const char *fn, const char *what)
{
    size_t size = ss_dtype_size(dtype);
    if (p == NULL || size == 0 || (uintptr_t)p % size == 0)
        return SUBSEL_OK;
    return ss_fail(ctx, SUBSEL_E_INVALID,
                   "%s: %s at %p is not aligned for %s (a multiple of %zu "
                   "bytes)",
                   fn, what, p, ss_dtype_name(dtype), size);
}
