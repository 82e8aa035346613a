/* SPDX-License-Identifier: MIT */
/*
 * subsel.h — the public contract of libsubsel, an embeddable library for data
 * subset selection. What is not declared here is not API.
 *
 * Conventions that hold for every function below unless its comment says
 * otherwise:
 *   - Functions that can fail return an int status: SUBSEL_OK (0) or a
 *     negative SUBSEL_E_* code, and write results through out-parameters.
 *     On failure, out-parameters that are handles are set to NULL and other
 *     out-parameters are left unchanged; nothing is leaked.
 *   - Functions that take a context report the details of a failure through
 *     subsel_ctx_last_error(ctx).
 *   - Every subsel_*_free(NULL) is a harmless no-op.
 *   - Counts, sizes and indices are int64_t; negative values are rejected.
 *   - Booleans are int (0 false, nonzero true); enumerations are passed as int.
 *   - Threading: one thread at a time per handle. Immutable data handles
 *     (subsel_csr, subsel_dense) may be read by many threads at once, from
 *     calls on different contexts.
 *   - Determinism: the same inputs and seed give the same results whatever the
 *     thread count and whichever instruction-set kernel runs.
 */
#ifndef SUBSEL_H
#define SUBSEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(SUBSEL_BUILDING_DLL)
#define SUBSEL_API __declspec(dllexport)
#elif defined(SUBSEL_BUILDING) && defined(__GNUC__) && __GNUC__ >= 4
#define SUBSEL_API __attribute__((visibility("default")))
#else
#define SUBSEL_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

#define SUBSEL_VERSION_MAJOR 0
#define SUBSEL_VERSION_MINOR 1
#define SUBSEL_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH */
#define SUBSEL_VERSION_NUMBER                                                  \
    (SUBSEL_VERSION_MAJOR * 10000 + SUBSEL_VERSION_MINOR * 100 +               \
     SUBSEL_VERSION_PATCH)
#define SUBSEL_VERSION_STRING "0.1.0"

/*! subsel_version_number() :
 * @return the version of the library actually linked, encoded as
 *         SUBSEL_VERSION_NUMBER. Compare with the macro to detect a header /
 *         library mismatch. Thread-safe. */
SUBSEL_API int subsel_version_number(void);

/*! subsel_version_string() :
 * @return a static string such as "0.1.0". Thread-safe. */
SUBSEL_API const char *subsel_version_string(void);

/* ------------------------------------------------------------------------ */
/* Status codes. The numbers are fixed and never reused or renumbered.      */
/* ------------------------------------------------------------------------ */

#define SUBSEL_OK 0
#define SUBSEL_E_INVALID (-1)     /* invalid argument: NULL, size, range, ... */
#define SUBSEL_E_NOMEM (-2)       /* an allocation failed                    */
#define SUBSEL_E_IO (-3)          /* open, read or write failed              */
#define SUBSEL_E_FORMAT (-4)      /* malformed or truncated file or data     */
#define SUBSEL_E_NUMERIC (-5)     /* NaN/Inf, or an iteration did not converge */
#define SUBSEL_E_UNSUPPORTED (-6) /* valid, but not supported by this build  */
#define SUBSEL_E_CANCELLED (-7)   /* the progress callback asked to stop     */
#define SUBSEL_E_STATE (-8)       /* call not valid in the handle's state    */

/*! subsel_status_string() :
 * @return a static, human-readable name for a status code ("invalid argument",
 *         ...); never NULL, "unknown status" for numbers not listed above.
 *         Thread-safe. */
SUBSEL_API const char *subsel_status_string(int status);

/* ------------------------------------------------------------------------ */
/* Instruction sets and build information                                   */
/* ------------------------------------------------------------------------ */

#define SUBSEL_ISA_SCALAR 0 /* portable C                               */
#define SUBSEL_ISA_AVX2 1   /* AVX2 + FMA                               */
#define SUBSEL_ISA_AVX512 2 /* AVX-512 F, DQ, BW, VL                    */

/*! subsel_isa_name() :
 * @return "scalar", "avx2" or "avx512"; "unknown" for other values. */
SUBSEL_API const char *subsel_isa_name(int isa);

/*! subsel_isa_compiled() :
 * @return 1 if kernels for `isa` were compiled into this library, else 0. */
SUBSEL_API int subsel_isa_compiled(int isa);

/*! subsel_isa_supported() :
 * @return 1 if `isa` is compiled in and the running CPU and OS support it
 *         (cpuid and xgetbv), else 0. Thread-safe. */
SUBSEL_API int subsel_isa_supported(int isa);

/*! subsel_isa_selected() :
 * @return the instruction set that calls on a context with the default
 *         maximum ISA use: the best supported one, lowered by the environment
 *         variable SUBSEL_ISA=scalar|avx2|avx512 when it is set. The choice is
 *         made once per process (a bad value is ignored, with a warning on
 *         stderr). Set SUBSEL_ISA_DEBUG=1 to log the decision. Thread-safe. */
SUBSEL_API int subsel_isa_selected(void);

/*! subsel_build_info() :
 * @return a static one-line description of this build, for logs and bug
 *         reports: version, compiled and selected kernels, and whether BLIS,
 *         LAPACKE, OpenMP and zlib are present. Thread-safe. */
SUBSEL_API const char *subsel_build_info(void);

/* ------------------------------------------------------------------------ */
/* Context                                                                  */
/* ------------------------------------------------------------------------ */

/* A context holds options (threads, seed, maximum ISA), the allocator, the
 * progress callback and the message of the last failing call. Create one per
 * thread that calls the library. */
typedef struct subsel_ctx subsel_ctx;

/* Allocator hooks. `alloc` returns `size` bytes aligned to `alignment` (a
 * power of two, at least sizeof(void *)), or NULL. `free` releases a pointer
 * that `alloc` returned (never NULL). `opaque` is passed back unchanged. The
 * hooks may be called from several threads at once within one call. */
typedef void *(*subsel_alloc_fn)(void *opaque, size_t size, size_t alignment);
typedef void (*subsel_free_fn)(void *opaque, void *ptr);

/* Progress callback: `stage` names the phase ("select", "load", ...), `done`
 * counts work done out of `total` (total may be 0 when unknown). Return 0 to
 * go on, nonzero to cancel: the running call then returns SUBSEL_E_CANCELLED
 * and leaves every handle in a consistent state. Called from the thread that
 * made the call, never from worker threads. */
typedef int (*subsel_progress_fn)(void *user, const char *stage, int64_t done,
                                  int64_t total);

/*! subsel_ctx_create() :
 * Creates a context with default options and the C library allocator.
 * @return SUBSEL_OK, SUBSEL_E_INVALID if out is NULL, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_ctx_create(subsel_ctx **out);

/*! subsel_ctx_create_with_allocator() :
 * As subsel_ctx_create(), but every allocation the library makes itself for
 * this context and the handles created through it (the context included)
 * goes through `alloc` / `free`. Memory allocated inside BLIS, LAPACK and the
 * OpenMP runtime does not. Handles created through the context keep a copy
 * of the hooks, so they may outlive the context; the hooks must stay valid
 * until the last of them is freed.
 * @return SUBSEL_OK, SUBSEL_E_INVALID if a pointer other than opaque is NULL,
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_ctx_create_with_allocator(subsel_ctx **out,
                                                subsel_alloc_fn alloc,
                                                subsel_free_fn free_fn,
                                                void *opaque);

/*! subsel_ctx_free() : releases a context. NULL is a no-op. */
SUBSEL_API void subsel_ctx_free(subsel_ctx *ctx);

/*! subsel_ctx_last_error() :
 * @return the detailed message of the most recent call on this context that
 *         failed ("" if none has). The string is owned by the context and
 *         stays valid until the next failing call on it or its free. A NULL
 *         context gives a static message. */
SUBSEL_API const char *subsel_ctx_last_error(const subsel_ctx *ctx);

/* Context options, set with subsel_ctx_set_int(). Bounds and defaults are also
 * returned by subsel_ctx_param_bounds(). */
#define SUBSEL_CTX_THREADS 1 /* OpenMP threads per call. [0, 4096], default 0:
                                the OpenMP default (omp_get_max_threads())   */
#define SUBSEL_CTX_SEED 2    /* seed of every random choice.
                                [0, INT64_MAX], default 0                    */
#define SUBSEL_CTX_MAX_ISA 3 /* highest instruction set to use; can only
                                lower subsel_isa_selected(). [0, 2], default 2 */

/*! subsel_ctx_set_int() :
 * Sets an option. @return SUBSEL_OK, SUBSEL_E_INVALID for a NULL context, an
 * unknown option or a value out of bounds (the option is then unchanged). */
SUBSEL_API int subsel_ctx_set_int(subsel_ctx *ctx, int param, int64_t value);

/*! subsel_ctx_get_int() :
 * Reads an option into *value. @return SUBSEL_OK or SUBSEL_E_INVALID. */
SUBSEL_API int subsel_ctx_get_int(const subsel_ctx *ctx, int param,
                                  int64_t *value);

/*! subsel_ctx_param_bounds() :
 * Writes the bounds and default of an option; any out-pointer may be NULL.
 * @return SUBSEL_OK or SUBSEL_E_INVALID for an unknown option. */
SUBSEL_API int subsel_ctx_param_bounds(int param, int64_t *min_value,
                                       int64_t *max_value,
                                       int64_t *default_value);

/*! subsel_ctx_isa() :
 * @return the instruction set calls on this context use: the smaller of
 *         subsel_isa_selected() and the SUBSEL_CTX_MAX_ISA option
 *         (SUBSEL_ISA_SCALAR for a NULL context). */
SUBSEL_API int subsel_ctx_isa(const subsel_ctx *ctx);

/*! subsel_ctx_threads() :
 * @return the number of threads calls on this context use (the option, or
 *         the OpenMP default when it is 0); 1 for a NULL context. */
SUBSEL_API int subsel_ctx_threads(const subsel_ctx *ctx);

/*! subsel_ctx_set_progress() :
 * Installs (or, with fn NULL, removes) the progress callback.
 * @return SUBSEL_OK, SUBSEL_E_INVALID for a NULL context. */
SUBSEL_API int subsel_ctx_set_progress(subsel_ctx *ctx, subsel_progress_fn fn,
                                       void *user);

/* ------------------------------------------------------------------------ */
/* Matrices                                                                 */
/* ------------------------------------------------------------------------ */

/* Ownership flags for constructors that take caller arrays. */
#define SUBSEL_COPY 0   /* copy the arrays; the caller may free them at once */
#define SUBSEL_BORROW 1 /* keep pointers to the caller's arrays: they must
                           stay valid and unchanged until the handle is freed */

/* A compressed sparse row matrix: int64 row pointers, int32 column indices,
 * float values. Column indices are strictly increasing within a row, values
 * are finite. Immutable once created. */
typedef struct subsel_csr subsel_csr;

/* A dense row-major float matrix. Immutable once created. */
typedef struct subsel_dense subsel_dense;

/*! subsel_csr_create() :
 * Builds a CSR matrix from caller arrays of rows + 1 row pointers and
 * indptr[rows] column indices and values, after validating them: indptr[0]
 * == 0, nondecreasing row pointers, column indices in [0, cols) and strictly
 * increasing within each row, finite values. `flags` is SUBSEL_COPY or
 * SUBSEL_BORROW. rows and cols may be 0; cols must fit int32.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL pointer, bad size or flags),
 *         SUBSEL_E_FORMAT (structure check failed: the message names the
 *         row and entry), SUBSEL_E_NUMERIC (NaN/Inf value), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_create(subsel_ctx *ctx, int64_t rows, int64_t cols,
                                 const int64_t *indptr, const int32_t *indices,
                                 const float *values, int flags,
                                 subsel_csr **out);

/*! subsel_csr_from_dense() :
 * Builds a CSR matrix holding the nonzero entries of a dense matrix.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_from_dense(subsel_ctx *ctx, const subsel_dense *dense,
                                     subsel_csr **out);

/*! subsel_csr_free() : releases a CSR matrix. NULL is a no-op. */
SUBSEL_API void subsel_csr_free(subsel_csr *csr);

/* Accessors. A NULL matrix gives 0. */
SUBSEL_API int64_t subsel_csr_rows(const subsel_csr *csr);
SUBSEL_API int64_t subsel_csr_cols(const subsel_csr *csr);
SUBSEL_API int64_t subsel_csr_nnz(const subsel_csr *csr);

/*! subsel_csr_row() :
 * Points *indices and *values at row `row`'s entries (owned by the matrix,
 * valid until it is freed) and writes their number to *count.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL pointer or row out of range). */
SUBSEL_API int subsel_csr_row(const subsel_csr *csr, int64_t row,
                              const int32_t **indices, const float **values,
                              int64_t *count);

/*! subsel_csr_column_sums() :
 * Writes the sum of every column, in double precision, to sums[0..cols).
 * The result does not depend on the thread count.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_column_sums(subsel_ctx *ctx, const subsel_csr *csr,
                                      double *sums);

/*! subsel_csr_load_npz() :
 * Reads a CSR matrix written by scipy.sparse.save_npz (compressed or not,
 * int32 or int64 index arrays, float32 or float64 values: float64 is
 * rounded to float32). The whole file is validated as by subsel_csr_create().
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO (cannot open or read),
 *         SUBSEL_E_FORMAT (not a valid npz / CSR file: the message says what
 *         is wrong), SUBSEL_E_UNSUPPORTED (a valid file in a form this build
 *         does not read, such as another sparse format or a big-endian
 *         dtype), SUBSEL_E_NUMERIC, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_load_npz(subsel_ctx *ctx, const char *path,
                                   subsel_csr **out);

/*! subsel_csr_save_npz() :
 * Writes a CSR matrix in scipy.sparse.save_npz's format (int32 indices,
 * int64 row pointers when nnz needs them, float32 values), deflate-compressed
 * if `compressed` is nonzero. The file is written to a temporary name in the
 * same folder and renamed into place, so readers never see half a file.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_save_npz(subsel_ctx *ctx, const subsel_csr *csr,
                                   const char *path, int compressed);

/*! subsel_dense_create() :
 * Wraps a rows x cols row-major float array (SUBSEL_COPY or SUBSEL_BORROW);
 * every value must be finite.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NUMERIC, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_dense_create(subsel_ctx *ctx, int64_t rows, int64_t cols,
                                   const float *data, int flags,
                                   subsel_dense **out);

/*! subsel_dense_create_f64() :
 * Copies a rows x cols row-major double array, rounding to float.
 * @return as subsel_dense_create(); SUBSEL_E_NUMERIC also when a value
 *         overflows float. */
SUBSEL_API int subsel_dense_create_f64(subsel_ctx *ctx, int64_t rows,
                                       int64_t cols, const double *data,
                                       subsel_dense **out);

/*! subsel_dense_free() : releases a dense matrix. NULL is a no-op. */
SUBSEL_API void subsel_dense_free(subsel_dense *dense);

/* Accessors. A NULL matrix gives 0 / NULL. The data pointer is owned by the
 * matrix (or, when borrowed, by the caller) and is row-major, rows * cols. */
SUBSEL_API int64_t subsel_dense_rows(const subsel_dense *dense);
SUBSEL_API int64_t subsel_dense_cols(const subsel_dense *dense);
SUBSEL_API const float *subsel_dense_data(const subsel_dense *dense);

/*! subsel_dense_row() :
 * @return a pointer to row `row` (cols floats), or NULL when out of range. */
SUBSEL_API const float *subsel_dense_row(const subsel_dense *dense,
                                         int64_t row);

/*! subsel_dense_column_sums() :
 * Writes the double-precision sum of every column to sums[0..cols).
 * @return SUBSEL_OK, SUBSEL_E_INVALID. */
SUBSEL_API int subsel_dense_column_sums(subsel_ctx *ctx,
                                        const subsel_dense *dense,
                                        double *sums);

/*! subsel_dense_load_npy() :
 * Reads a NumPy .npy file (format versions 1 to 3) holding a 1-D or 2-D
 * little-endian float32, float64, int32 or int64 array, in C or Fortran
 * order, as a float matrix (a 1-D array of n values becomes n x 1; float64
 * and integers are rounded to float32). Values must be finite.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO, SUBSEL_E_FORMAT,
 *         SUBSEL_E_UNSUPPORTED (another dtype or more dimensions),
 *         SUBSEL_E_NUMERIC, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_dense_load_npy(subsel_ctx *ctx, const char *path,
                                     subsel_dense **out);

/*! subsel_dense_save_npy() :
 * Writes a dense matrix as a 2-D float32 .npy file (atomically, as
 * subsel_csr_save_npz()). @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO. */
SUBSEL_API int subsel_dense_save_npy(subsel_ctx *ctx, const subsel_dense *dense,
                                     const char *path);

/* ------------------------------------------------------------------------ */
/* Plain vectors in .npy files (labels, weights, quality scores, indices)   */
/* ------------------------------------------------------------------------ */

/*! subsel_npy_read_f64() :
 * Reads a 1-D .npy array (or a 2-D one with a dimension of 1) of float32,
 * float64, int32 or int64 into out[0..capacity). The element count is
 * written to *count whenever the header is valid. With out NULL, only the
 * count is read (and SUBSEL_OK returned): call so first to size the buffer.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (also when out is not NULL and
 *         capacity < count: nothing is written to out then), SUBSEL_E_IO,
 *         SUBSEL_E_FORMAT, SUBSEL_E_UNSUPPORTED, SUBSEL_E_NOMEM. NaN and Inf
 *         values are returned as they are. */
SUBSEL_API int subsel_npy_read_f64(subsel_ctx *ctx, const char *path,
                                   double *out, int64_t capacity,
                                   int64_t *count);

/*! subsel_npy_read_i64() :
 * As subsel_npy_read_f64() for an int32 or int64 array.
 * @return as subsel_npy_read_f64(); SUBSEL_E_UNSUPPORTED for float arrays. */
SUBSEL_API int subsel_npy_read_i64(subsel_ctx *ctx, const char *path,
                                   int64_t *out, int64_t capacity,
                                   int64_t *count);

/*! subsel_npy_write_f64() / subsel_npy_write_i64() :
 * Write a 1-D float64 / int64 .npy array of `count` values (atomically).
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO. */
SUBSEL_API int subsel_npy_write_f64(subsel_ctx *ctx, const char *path,
                                    const double *values, int64_t count);
SUBSEL_API int subsel_npy_write_i64(subsel_ctx *ctx, const char *path,
                                    const int64_t *values, int64_t count);

/*! subsel_csr_view_rows() :
 * A matrix made of rows [first, first + count) of `csr`, sharing its arrays
 * (no copy): `csr` must outlive the view. Row i of the view is row first + i
 * of `csr`. For splitting a pool into ranges (distributed selection).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (range outside the matrix),
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_view_rows(subsel_ctx *ctx, const subsel_csr *csr,
                                    int64_t first, int64_t count,
                                    subsel_csr **out);

/*! subsel_csr_gather_rows() :
 * A new matrix (a copy) holding rows rows[0..count) of `csr`, in that order.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, index out of range),
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_gather_rows(subsel_ctx *ctx, const subsel_csr *csr,
                                      const int64_t *rows, int64_t count,
                                      subsel_csr **out);

/* ------------------------------------------------------------------------ */
/* Set functions (objectives)                                               */
/* ------------------------------------------------------------------------ */

/* A set function f over a ground set {0, ..., n-1} (the rows of a pool).
 * Objectives borrow the matrices they are built from: those must outlive
 * the objective and stay unchanged. An objective is immutable while an
 * optimizer runs on it. */
typedef struct subsel_objective subsel_objective;

/*! subsel_objective_size() : @return n, the size of the ground set (0 for NULL). */
SUBSEL_API int64_t subsel_objective_size(const subsel_objective *obj);

/*! subsel_objective_evaluate() :
 * Writes f(set) to *value, computed from scratch in double precision. The
 * set holds `count` distinct indices in [0, n), in any order.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, index out of range, repeated
 *         index), SUBSEL_E_STATE (objective not fully configured),
 *         SUBSEL_E_NOMEM, or an error of the objective's own computation. */
SUBSEL_API int subsel_objective_evaluate(subsel_ctx *ctx,
                                         const subsel_objective *obj,
                                         const int64_t *set, int64_t count,
                                         double *value);

/*! subsel_objective_gain() :
 * Writes the marginal gain f(set + {item}) - f(set) to *gain, as the
 * optimizers compute it (0 if item is already in the set).
 * @return as subsel_objective_evaluate(). */
SUBSEL_API int subsel_objective_gain(subsel_ctx *ctx,
                                     const subsel_objective *obj,
                                     const int64_t *set, int64_t count,
                                     int64_t item, double *gain);

/*! subsel_objective_free() : releases an objective. NULL is a no-op. */
SUBSEL_API void subsel_objective_free(subsel_objective *obj);

/* Concave functions phi for feature-based functions. */
#define SUBSEL_CONCAVE_LOG1P 0    /* log(1 + x)                          */
#define SUBSEL_CONCAVE_SQRT 1     /* sqrt(x)                             */
#define SUBSEL_CONCAVE_SATURATE 2 /* x / (1 + x)                         */
#define SUBSEL_CONCAVE_EXP 3      /* 1 - exp(-x / c), param c > 0        */
#define SUBSEL_CONCAVE_MIN 4      /* min(x, c), param c > 0              */
#define SUBSEL_CONCAVE_POW 5      /* x^a, param 0 < a < 1                */

/*! subsel_fb_create() :
 * The feature-based function f(A) = sum_i w_i phi(m_i(A)) with
 * m_i(A) = sum_{j in A} Z[j, i] over the rows of the nonnegative CSR matrix
 * `features` (borrowed). `weights` holds one nonnegative finite weight per
 * column (copied), or is NULL for all ones. `param` is c or a for the
 * functions that take one, and ignored by the others. Monotone submodular.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, unknown function, parameter
 *         out of range, negative value in the matrix or the weights: the
 *         message says where), SUBSEL_E_NUMERIC (NaN weight), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_fb_create(subsel_ctx *ctx, const subsel_csr *features,
                                int concave, double param,
                                const double *weights, subsel_objective **out);

/*! subsel_sdm_create() :
 * The SDM objective (Submodular Distribution Matching) over the rows of the
 * nonnegative CSR matrix `source` (borrowed):
 *   f(A) = lambda sum_i p_i log(1 + m_i(A))
 *        + (1 - lambda) sum_l u_l log(1 + |A cap bin_l|)
 * with a target distribution p over the columns (required: set with
 * subsel_sdm_set_target() or subsel_sdm_set_target_distribution()),
 * quality bins of the rows (optional: without quality scores the second
 * term is 0), bin weights u and lambda (default 0.7). Columns with p_i = 0
 * contribute nothing. Monotone submodular.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sdm_create(subsel_ctx *ctx, const subsel_csr *source,
                                 subsel_objective **out);

/*! subsel_sdm_set_target() :
 * Sets p to the normalised column sums of the nonnegative CSR matrix
 * `target`, which must have as many columns as the source (it is read
 * here and not kept).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (not an SDM objective, column count,
 *         negative value, all-zero target), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sdm_set_target(subsel_ctx *ctx, subsel_objective *obj,
                                     const subsel_csr *target);

/*! subsel_sdm_set_target_distribution() :
 * Sets p from `count` (= source columns) nonnegative finite values,
 * normalised here to sum 1. @return as subsel_sdm_set_target(). */
SUBSEL_API int subsel_sdm_set_target_distribution(subsel_ctx *ctx,
                                                  subsel_objective *obj,
                                                  const double *p,
                                                  int64_t count);

/*! subsel_sdm_set_quality() :
 * Quantises one finite quality score per source row into `bins` bins of
 * equal size by rank: a stable ascending sort of the scores, rank r going
 * to bin floor(r * bins / n); bin 0 holds the lowest scores. With 3 bins the
 * bin weights default to (0, 0.01, 0.99); other counts need
 * subsel_sdm_set_bin_weights(). @return SUBSEL_OK, SUBSEL_E_INVALID (count
 * != rows, bins outside [1, rows] (or 1 when rows = 0)),
 * SUBSEL_E_NUMERIC (NaN/Inf score), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sdm_set_quality(subsel_ctx *ctx, subsel_objective *obj,
                                      const double *quality, int64_t count,
                                      int64_t bins);

/*! subsel_sdm_set_quality_edges() :
 * Quantises quality scores by explicit strictly increasing finite edges:
 * edge_count edges make edge_count + 1 bins, and a score q goes to the bin
 * numbered by how many edges are <= q (numpy.digitize). Bin weights as for
 * subsel_sdm_set_quality(). @return as subsel_sdm_set_quality(). */
SUBSEL_API int subsel_sdm_set_quality_edges(subsel_ctx *ctx,
                                            subsel_objective *obj,
                                            const double *quality,
                                            int64_t count, const double *edges,
                                            int64_t edge_count);

/*! subsel_sdm_set_bin_weights() :
 * Sets the bin weights u (one nonnegative finite value per bin, lowest bin
 * first). @return SUBSEL_OK, SUBSEL_E_INVALID (count differs from the bin
 * count, negative value), SUBSEL_E_STATE (no quality scores set yet). */
SUBSEL_API int subsel_sdm_set_bin_weights(subsel_ctx *ctx,
                                          subsel_objective *obj,
                                          const double *weights,
                                          int64_t count);

/*! subsel_sdm_set_lambda() :
 * Sets lambda in [0, 1]. @return SUBSEL_OK, SUBSEL_E_INVALID. */
SUBSEL_API int subsel_sdm_set_lambda(subsel_ctx *ctx, subsel_objective *obj,
                                     double lambda);

/*! subsel_sdm_quality_bins() :
 * Writes the quality bin of every source row to out[0..rows).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (capacity < rows),
 *         SUBSEL_E_STATE (no quality scores). */
SUBSEL_API int subsel_sdm_quality_bins(subsel_ctx *ctx,
                                       const subsel_objective *obj,
                                       int64_t *out, int64_t capacity);

/*! subsel_sdm_kl() :
 * Writes KL(p || p(A)) = sum_{p_i > 0} p_i log(p_i / p_i(A)), where p(A) is
 * the normalised column sums of the selected rows. It is +Inf (not NaN) when
 * a column with p_i > 0 is not covered by A (and for the empty set).
 * @return as subsel_objective_evaluate(). */
SUBSEL_API int subsel_sdm_kl(subsel_ctx *ctx, const subsel_objective *obj,
                             const int64_t *set, int64_t count, double *kl);

/* ------------------------------------------------------------------------ */
/* Optimizers and selections                                                */
/* ------------------------------------------------------------------------ */

typedef struct subsel_optimizer subsel_optimizer;
typedef struct subsel_selection subsel_selection;

/* Algorithms. */
#define SUBSEL_OPT_NAIVE 0      /* greedy: every remaining item each step    */
#define SUBSEL_OPT_LAZY 1       /* Minoux's lazy greedy: same result as naive
                                   for submodular functions, far fewer gains */
#define SUBSEL_OPT_STOCHASTIC 2 /* stochastic greedy (Mirzasoleiman et al.):
                                   each step, the best of a random sample of
                                   ceil((n / k) ln(1 / epsilon)) items       */
#define SUBSEL_OPT_LAZIER 3     /* lazier than lazy: stochastic greedy that
                                   skips sampled items whose stale upper
                                   bound cannot win; same result as STOCHASTIC
                                   for submodular functions                  */

/* Integer options (subsel_optimizer_set_int). */
#define SUBSEL_OPT_BUDGET 1     /* items to select, [0, INT64_MAX]; 0: the
                                   whole ground set. Default 0. A budget above
                                   the ground set size fails at run time.     */
#define SUBSEL_OPT_RUNS 2       /* seeded runs to intersect, [1, 1024],
                                   default 1 (stochastic algorithms only)    */
#define SUBSEL_OPT_MIN_RUNS 3   /* keep items chosen by at least this many of
                                   the runs, [0, 1024]; 0 (default): all runs */
#define SUBSEL_OPT_STOP_NONPOSITIVE 4 /* stop when the best gain is <= 0,
                                   0 or 1, default 1                          */
/* Real options (subsel_optimizer_set_double). */
#define SUBSEL_OPT_EPSILON 5    /* stochastic sample accuracy, (0, 1),
                                   default 1e-3                               */

/*! subsel_optimizer_create() :
 * Creates an optimizer running `algorithm` with default options.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (unknown algorithm), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_optimizer_create(subsel_ctx *ctx, int algorithm,
                                       subsel_optimizer **out);

/*! subsel_optimizer_free() : releases an optimizer. NULL is a no-op. */
SUBSEL_API void subsel_optimizer_free(subsel_optimizer *opt);

/*! subsel_optimizer_set_int() / subsel_optimizer_set_double() :
 * Set an option of the right type within its bounds.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, unknown option, wrong type,
 *         value out of bounds: the option is then unchanged). */
SUBSEL_API int subsel_optimizer_set_int(subsel_optimizer *opt, int param,
                                        int64_t value);
SUBSEL_API int subsel_optimizer_set_double(subsel_optimizer *opt, int param,
                                           double value);

/*! subsel_optimizer_get_int() / subsel_optimizer_get_double() :
 * Read an option. @return SUBSEL_OK or SUBSEL_E_INVALID. */
SUBSEL_API int subsel_optimizer_get_int(const subsel_optimizer *opt,
                                        int param, int64_t *value);
SUBSEL_API int subsel_optimizer_get_double(const subsel_optimizer *opt,
                                           int param, double *value);

/*! subsel_optimizer_param_bounds() :
 * Writes an option's bounds and default as doubles (integer options are
 * exact up to 2^53; INT64_MAX reads as 9.2e18). Any out-pointer may be
 * NULL. @return SUBSEL_OK or SUBSEL_E_INVALID. */
SUBSEL_API int subsel_optimizer_param_bounds(int param, double *min_value,
                                             double *max_value,
                                             double *default_value);

/*! subsel_optimizer_run() :
 * Maximises `obj` and returns the selection. Ties between equal gains go to
 * the lowest index. With one run, the selection lists items in the order
 * chosen with the gain of each step; with several runs (intersection), it
 * lists the kept items in ascending order, with the gains of adding them in
 * that order. The same inputs, seed (SUBSEL_CTX_SEED; run r uses stream r)
 * and options give the same selection whatever the thread count and kernel.
 * Runs execute in parallel on the context's threads; a single run uses
 * them to evaluate large batches of gains. Progress is reported with stage
 * "select" (items chosen so far, budget) and can cancel.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (budget above the ground set, runs > 1
 *         with a deterministic algorithm, MIN_RUNS > RUNS),
 *         SUBSEL_E_STATE (objective not configured), SUBSEL_E_CANCELLED,
 *         SUBSEL_E_NOMEM, or an error of the objective. */
SUBSEL_API int subsel_optimizer_run(subsel_ctx *ctx,
                                    const subsel_optimizer *opt,
                                    const subsel_objective *obj,
                                    subsel_selection **out);

/* Accessors of a selection. NULL gives 0 / NULL / NaN. Arrays are owned by
 * the selection and have subsel_selection_count() entries. */
SUBSEL_API int64_t subsel_selection_count(const subsel_selection *sel);
SUBSEL_API const int64_t *subsel_selection_indices(const subsel_selection *sel);
SUBSEL_API const double *subsel_selection_gains(const subsel_selection *sel);
/* f(selection). */
SUBSEL_API double subsel_selection_value(const subsel_selection *sel);
/* Marginal gains evaluated by the optimizer (all runs), for benchmarks. */
SUBSEL_API int64_t subsel_selection_evaluations(const subsel_selection *sel);

/*! subsel_selection_save_npy() :
 * Writes the indices as a 1-D int64 .npy file (atomically).
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO. */
SUBSEL_API int subsel_selection_save_npy(subsel_ctx *ctx,
                                         const subsel_selection *sel,
                                         const char *path);

/*! subsel_selection_free() : releases a selection. NULL is a no-op. */
SUBSEL_API void subsel_selection_free(subsel_selection *sel);

/* ------------------------------------------------------------------------ */
/* TopK sparse autoencoder encoder                                          */
/* ------------------------------------------------------------------------ */

/* h(x) = TopK(ReLU(W_enc (x - b_dec) + b_enc)): dense embeddings to sparse
 * nonnegative codes, the input of SDM. */
typedef struct subsel_sae subsel_sae;

/*! subsel_sae_create() :
 * An encoder from W_enc (features x inputs, borrowed: it must outlive the
 * encoder), b_enc (features values) and b_dec (inputs values), both copied.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NUMERIC, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_create(subsel_ctx *ctx, const subsel_dense *w_enc,
                                 const float *b_enc, const float *b_dec,
                                 subsel_sae **out);

/*! subsel_sae_load() :
 * Loads W_enc.npy, b_enc.npy and b_dec.npy from folder `dir` (the encoder
 * then owns W_enc). @return as subsel_sae_create(), and the errors of
 * subsel_dense_load_npy(). */
SUBSEL_API int subsel_sae_load(subsel_ctx *ctx, const char *dir,
                               subsel_sae **out);

/*! subsel_sae_free() : releases an encoder. NULL is a no-op. */
SUBSEL_API void subsel_sae_free(subsel_sae *sae);

/* Input and feature (code) dimensions; 0 for NULL. */
SUBSEL_API int64_t subsel_sae_inputs(const subsel_sae *sae);
SUBSEL_API int64_t subsel_sae_features(const subsel_sae *sae);

/*! subsel_sae_encode() :
 * Encodes every row of `x` (rows x inputs) into a CSR matrix (rows x
 * features) keeping, per row, the k largest positive activations (ties to
 * the lowest feature index), with sorted column indices. Works in batches
 * with BLIS sgemm; the result does not depend on the thread count.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (dimension mismatch, k < 1 or
 *         k > features), SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_encode(subsel_ctx *ctx, const subsel_sae *sae,
                                 const subsel_dense *x, int64_t k,
                                 subsel_csr **out);

/* ------------------------------------------------------------------------ */
/* Optimal transport                                                        */
/* ------------------------------------------------------------------------ */

/* (issue 4: Sinkhorn and entropic partial OT) */

/* ------------------------------------------------------------------------ */
/* UniPROT prototype selection                                              */
/* ------------------------------------------------------------------------ */

/* (issue 4) */

/* ------------------------------------------------------------------------ */
/* TAROT: whitened feature distance and OT-based targeted selection         */
/* ------------------------------------------------------------------------ */

/* (issue 5) */

/* ------------------------------------------------------------------------ */
/* ClipCov and double greedy                                                */
/* ------------------------------------------------------------------------ */

/* (issue 6) */

#ifdef __cplusplus
}
#endif

#endif /* SUBSEL_H */
