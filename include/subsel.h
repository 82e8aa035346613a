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
 *     subsel_ctx_last_error(ctx). Functions that take none (and those given
 *     a NULL context) record it for the calling thread instead, read with
 *     subsel_ctx_last_error(NULL) on that thread. Every failing call leaves
 *     a message naming the function and what was wrong.
 *   - Constants: one prefix per concept (docs/abi.md lists them). Names
 *     that predate that rule stay as deprecated aliases; define
 *     SUBSEL_NO_DEPRECATED before including this header to hide them (for
 *     binding generators that group constants by prefix).
 *   - Every subsel_*_free(NULL) is a harmless no-op.
 *   - Lifetimes: a handle that keeps another handle (an objective its
 *     matrices, a row view its parent, an encoder its W_enc, a TAROT
 *     selector its matrices, a whitened view its selector) holds a
 *     reference on it, so the kept handle lives as long as either needs
 *     it: its subsel_*_free() may come first, in any order, from any
 *     thread (reference counts are atomic), and only drops the caller's
 *     reference. Each constructor says what it keeps. Caller memory cannot
 *     be kept that way: arrays given with SUBSEL_BORROW must stay valid
 *     and unchanged until the last handle that reads them (the borrowing
 *     matrix, and whatever keeps it) is freed.
 *   - Output buffers: a function that writes an array into caller memory
 *     takes, after the pointer, the capacity of the buffer in elements; a
 *     buffer too small for what the call would write fails with
 *     SUBSEL_E_INVALID (the message names the buffer, its capacity and the
 *     size needed) before anything is written. Functions of 0.6 and earlier
 *     without a capacity remain, deprecated, beside their *_v2 forms.
 *   - Counts, sizes and indices are int64_t; negative values are rejected.
 *   - Booleans are int (0 false, nonzero true); enumerations are passed as int.
 *   - Threading: one thread at a time per handle. Immutable data handles
 *     (subsel_csr, subsel_dense) may be read by many threads at once, from
 *     calls on different contexts; so may objectives, through the calls
 *     that take them const (see "Set functions" below).
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
#define SUBSEL_VERSION_MINOR 15
#define SUBSEL_VERSION_PATCH 1
/* MAJOR * 10000 + MINOR * 100 + PATCH */
#define SUBSEL_VERSION_NUMBER                                                  \
    (SUBSEL_VERSION_MAJOR * 10000 + SUBSEL_VERSION_MINOR * 100 +               \
     SUBSEL_VERSION_PATCH)
#define SUBSEL_VERSION_STRING "0.15.1"

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
 *         variable SUBSEL_ISA=scalar|avx2|avx512 when it is set. A level that
 *         is not compiled in or not supported rounds down to the best one
 *         below it that is (with a warning on stderr); an unknown value is
 *         ignored with a warning. The choice is made once per process. Set
 *         SUBSEL_ISA_DEBUG=1 to log the decision. Thread-safe. */
SUBSEL_API int subsel_isa_selected(void);

/*! subsel_build_info() :
 * @return a static one-line description of this build, for logs and bug
 *         reports: "subsel <version>" then space-separated key=value fields:
 *         kernels (compiled), selected, blis (version), blis_arch (the BLIS
 *         sub-configuration chosen for this CPU, or forced by BLIS_ARCH_TYPE),
 *         blis_threads (openmp, pthreads or none), lapacke, openmp, zlib.
 *         Fields may be added, never removed. Thread-safe. */
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
 * Creates a context with default parameters and the C library allocator.
 * @return SUBSEL_OK, SUBSEL_E_INVALID if out is NULL, SUBSEL_E_NOMEM (with
 *         a message for the thread: subsel_ctx_last_error(NULL)). */
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
 *         stays valid until the next failing call on it or its free.
 *         With ctx NULL: the message of the most recent failing call made
 *         by the calling thread without a context (a function that takes
 *         none, such as subsel_optimizer_set_int(), or one given a NULL
 *         context), "" if none has; the string belongs to the thread and
 *         stays valid until its next such failure or its exit. Read it
 *         right after the call. Never NULL. Thread-safe. */
SUBSEL_API const char *subsel_ctx_last_error(const subsel_ctx *ctx);

/* Context parameters (SUBSEL_KIND_CONTEXT), set with subsel_ctx_set_int()
 * or subsel_param_set_int(); bounds and defaults also from
 * subsel_param_int_bounds() and subsel_ctx_param_bounds(). */
#define SUBSEL_P_THREADS 1 /* "threads": threads per call (OpenMP regions
                              and BLIS products). [0, 4096], default 0: the
                              OpenMP default (omp_get_max_threads()). Calls
                              use at most as many threads as the caller has
                              CPUs (its affinity mask and cgroup CPU quota,
                              not the host's core count), and one thread in
                              a child forked from a process that had
                              threads (see subsel_ctx_threads())            */
#define SUBSEL_P_SEED 2    /* "seed": seed of every random choice.
                              [0, INT64_MAX], default 0                     */
#define SUBSEL_P_MAX_ISA 3 /* "max_isa": highest instruction set to use;
                              can only lower subsel_isa_selected(), and
                              rounds down past levels not compiled in.
                              [0, 2], default 2                             */
#define SUBSEL_P_MEMORY_LIMIT 4 /* "memory_limit": most bytes the library
                              may hold at once for this context and every
                              handle created through it (arrays, handles
                              and the scratch of running calls, as
                              requested from the allocator hooks, with a
                              64-byte header per block), also after the
                              context is freed. An allocation that would
                              pass it fails with SUBSEL_E_NOMEM and a
                              message naming the limit and the request.
                              Memory inside BLIS, LAPACK and OpenMP is not
                              counted. [0, INT64_MAX], default 0: no limit  */
#define SUBSEL_P_PARALLEL_GAINS 5 /* "parallel_gains": when a batch of
                              gains (naive greedy's pool, lazy greedy's
                              first step and its re-evaluations, a
                              stochastic sample) is shared out among the
                              context's threads: SUBSEL_PARALLEL_AUTO,
                              _NEVER, _ALWAYS or _PIPELINE, [0, 3],
                              default AUTO.
                              Results never depend on it. (Since 0.9.)      */
#define SUBSEL_P_MAP_FILES 6 /* "map_files": 1 (default): the loaders
                              (subsel_csr_load_npz, subsel_dense_load_npy)
                              memory-map a regular file read-only and use
                              an uncompressed .npy's float32 data, or a
                              stored .npz member of the matrix's own type
                              (float32 values, int32 / int64 indices), in
                              place instead of copying it (and inflates a
                              deflated .npz's indices and values at once on
                              two threads, from the mapping); a matrix
                              whose arrays lie in the file keeps the mapping
                              until it is freed, and those pages are the
                              file's (not counted by memory_limit).
                              Validation and the members' CRC-32 checks run
                              as for a copy. Replacing the file by rename
                              (as subsel's writers do) is safe; truncating
                              or rewriting it in place while such a matrix
                              lives is not (the system may stop the process
                              with SIGBUS, as with any memory map): set 0
                              to copy. [0, 1]. (Since 0.13.)                */

/* Values of SUBSEL_P_PARALLEL_GAINS. */
#define SUBSEL_PARALLEL_AUTO 0   /* when the batch's work pays for a parallel
                                    region (FB / SDM: 65,536 nonzeros; each
                                    objective has its own break-even). A
                                    lazy greedy step that keeps meeting
                                    stale bounds doubles its batch of
                                    re-evaluations (8, 16, ... up to 256)
                                    so that batches grow worth sharing; the
                                    batches do not depend on the threads   */
#define SUBSEL_PARALLEL_NEVER 1  /* always on the calling thread; lazy
                                    greedy re-evaluates 8 at a time        */
#define SUBSEL_PARALLEL_ALWAYS 2 /* every batch of two items or more       */
#define SUBSEL_PARALLEL_PIPELINE 3 /* as AUTO, and lazy greedy (on 2
                                    threads or more) overlaps its heap with
                                    its gains: the next round's stale
                                    bounds come off the heap on one thread
                                    while this round's gains are made on
                                    another. For cheap gains on large
                                    pools (SDM's short rows); not where
                                    gains cost more than the heap, nor on
                                    cores other processes share         */

#ifndef SUBSEL_NO_DEPRECATED
/* Deprecated names of the context parameters (same numbers). */
#define SUBSEL_CTX_THREADS SUBSEL_P_THREADS
#define SUBSEL_CTX_SEED SUBSEL_P_SEED
#define SUBSEL_CTX_MAX_ISA SUBSEL_P_MAX_ISA
#define SUBSEL_CTX_MEMORY_LIMIT SUBSEL_P_MEMORY_LIMIT
#endif

/*! subsel_ctx_set_int() :
 * Sets a context parameter (as subsel_param_set_int(ctx, ctx, ...)).
 * @return SUBSEL_OK, SUBSEL_E_INVALID for a NULL context (message for the
 *         thread), a parameter that is not the context's or a value out of
 *         bounds (the parameter is then unchanged; message on ctx). */
SUBSEL_API int subsel_ctx_set_int(subsel_ctx *ctx, int param, int64_t value);

/*! subsel_ctx_get_int() :
 * Reads a context parameter into *value. @return SUBSEL_OK or
 * SUBSEL_E_INVALID (message on the context; for the thread when ctx is
 * NULL). */
SUBSEL_API int subsel_ctx_get_int(const subsel_ctx *ctx, int param,
                                  int64_t *value);

/*! subsel_ctx_param_bounds() :
 * Writes the bounds and default of a context parameter; any out-pointer may
 * be NULL (as subsel_param_int_bounds()).
 * @return SUBSEL_OK or SUBSEL_E_INVALID for another number (message for the
 *         thread). */
SUBSEL_API int subsel_ctx_param_bounds(int param, int64_t *min_value,
                                       int64_t *max_value,
                                       int64_t *default_value);

/*! subsel_ctx_isa() :
 * @return the instruction set calls on this context use: the smaller of
 *         subsel_isa_selected() and the SUBSEL_P_MAX_ISA parameter, rounded
 *         down to a level that is compiled in and supported
 *         (SUBSEL_ISA_SCALAR for a NULL context). */
SUBSEL_API int subsel_ctx_isa(const subsel_ctx *ctx);

/*! subsel_ctx_threads() :
 * @return the number of threads calls on this context use now: the option
 *         (the OpenMP default when it is 0) capped at the CPUs available to
 *         the calling thread (affinity mask and cgroup v1/v2 CPU quota,
 *         re-read at most once a second); 1 for a NULL context.
 *         Fork: in a child created with fork() from a process that had more
 *         than one thread (a previous parallel call leaves OpenMP's idle
 *         workers behind), every call runs on one thread and this returns 1:
 *         OpenMP's thread pool does not survive fork, and a parallel region
 *         in the child would wait for ever. Such children work, serially;
 *         for parallel workers start processes with spawn/forkserver or
 *         exec. LAPACK's internal BLAS calls follow BLIS's own settings
 *         (BLIS_NUM_THREADS, OMP_NUM_THREADS; one thread when unset): keep
 *         them at 1 in forked children. Never fork while another thread is
 *         inside a call. */
SUBSEL_API int subsel_ctx_threads(const subsel_ctx *ctx);

/*! subsel_ctx_set_progress() :
 * Installs (or, with fn NULL, removes) the progress callback.
 * @return SUBSEL_OK, SUBSEL_E_INVALID for a NULL context (message for the
 *         thread). */
SUBSEL_API int subsel_ctx_set_progress(subsel_ctx *ctx, subsel_progress_fn fn,
                                       void *user);

/* ------------------------------------------------------------------------ */
/* Handle kinds and parameters                                              */
/* ------------------------------------------------------------------------ */

/* Every handle knows its kind, which subsel_handle_kind() reports at run
 * time: a binding can then check what it was given and find the
 * parameters that apply. Objectives report their method. Fixed numbers. */
#define SUBSEL_KIND_CONTEXT 1   /* subsel_ctx                               */
#define SUBSEL_KIND_OPTIMIZER 2 /* subsel_optimizer                         */
#define SUBSEL_KIND_OT_SOLVER 3 /* subsel_ot_solver                         */
#define SUBSEL_KIND_TAROT 4     /* subsel_tarot                             */
#define SUBSEL_KIND_SDM 5       /* subsel_objective of subsel_sdm_create()  */
#define SUBSEL_KIND_UNIPROT 6   /* subsel_objective of subsel_uniprot_*     */
#define SUBSEL_KIND_CLIPCOV 7   /* subsel_objective of subsel_clipcov_create */
#define SUBSEL_KIND_FB 8        /* subsel_objective of subsel_fb_create()   */
#define SUBSEL_KIND_CSR 9       /* subsel_csr                               */
#define SUBSEL_KIND_DENSE 10    /* subsel_dense                             */
#define SUBSEL_KIND_SELECTION 11 /* subsel_selection                        */
#define SUBSEL_KIND_SAE 12      /* subsel_sae                               */
#define SUBSEL_KIND_SUMMARY 13  /* subsel_summary (since 0.9)               */
#define SUBSEL_KIND_SAE_TRAINER 14 /* subsel_sae_trainer (since 0.10)      */
#define SUBSEL_KIND_LORS 15     /* subsel_lors (since 0.11)                 */

/* Parameters are numbered across the whole library (SUBSEL_P_*, defined
 * with the handle they belong to): each kind owns a block of 100 numbers
 * (context 1-99, optimizer 101-199, OT solver 201-299, TAROT 301-399, SDM
 * 401-499, UniPROT 501-599, ClipCov 601-699, SAE trainer 701-799, LoRS 801-899), so a
 * number names exactly one parameter of one kind, and numbers stay below
 * 1000 (algorithms are 1000 and up). Each parameter also has a name, lower case and unique
 * within its kind ("budget", "max_iter": the constant's name without
 * SUBSEL_P_ and its kind's prefix), a type, bounds, a default and a one-line
 * description, all readable at run time: a binding can list the parameters
 * of a handle instead of copying these constants. The numbers and names
 * are fixed; new parameters may be added. */

/* Value types of parameters. */
#define SUBSEL_TYPE_INT 1  /* int64_t, set with subsel_param_set_int()     */
#define SUBSEL_TYPE_REAL 2 /* double, set with subsel_param_set_real()     */

/* Ends of the range of a real parameter that are excluded
 * (subsel_param_real_bounds()); integer bounds are always included. */
#define SUBSEL_BOUND_OPEN_MIN 1 /* value > min (else value >= min)        */
#define SUBSEL_BOUND_OPEN_MAX 2 /* value < max (else value <= max)        */

/*! subsel_handle_kind() :
 * @return the SUBSEL_KIND_* of `handle`, any handle of this library passed
 *         as a pointer; SUBSEL_E_INVALID (with a message for the thread)
 *         for NULL or a pointer that is not a live handle of a kind listed
 *         above (its first four bytes are read, so it must point to at
 *         least that much readable memory). Thread-safe, also while
 *         another thread uses the handle. */
SUBSEL_API int subsel_handle_kind(const void *handle);

/*! subsel_kind_name() :
 * @return a static name for a SUBSEL_KIND_* ("optimizer", "OT solver",
 *         "SDM objective", ...), for messages; "unknown kind" for other
 *         numbers. Never NULL. Thread-safe. */
SUBSEL_API const char *subsel_kind_name(int kind);

/*! subsel_param_count() :
 * @return the number of parameters of all handle kinds. Thread-safe. */
SUBSEL_API int64_t subsel_param_count(void);

/*! subsel_param_at() :
 * Writes the number of the index-th parameter (0 <= index <
 * subsel_param_count(), in ascending order of numbers, so grouped by kind)
 * to *param: the way to enumerate them.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (index out of range, param NULL:
 *         message for the thread). Thread-safe. */
SUBSEL_API int subsel_param_at(int64_t index, int *param);

/*! subsel_param_find() :
 * Writes the number of the parameter `name` of handles of `kind`
 * (SUBSEL_KIND_*) to *param. Names are lower case, with underscores
 * ("max_iter"), compared exactly.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL name or param, no such
 *         parameter for that kind: message for the thread). Thread-safe. */
SUBSEL_API int subsel_param_find(int kind, const char *name, int *param);

/*! subsel_param_info() :
 * Describes a parameter: the kind of handle it belongs to, its type
 * (SUBSEL_TYPE_*), its name and a one-line description (static strings).
 * Any out-pointer may be NULL.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (not a parameter number: message for
 *         the thread). Thread-safe. */
SUBSEL_API int subsel_param_info(int param, int *kind, int *type,
                                 const char **name, const char **doc);

/*! subsel_param_int_bounds() :
 * Writes the bounds (both included) and the default of an integer
 * parameter; any out-pointer may be NULL.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (not a parameter, or a real one:
 *         message for the thread). Thread-safe. */
SUBSEL_API int subsel_param_int_bounds(int param, int64_t *min_value,
                                       int64_t *max_value,
                                       int64_t *default_value);

/*! subsel_param_real_bounds() :
 * Writes the bounds and the default of a real parameter, and in *open which
 * ends are excluded (SUBSEL_BOUND_OPEN_MIN | SUBSEL_BOUND_OPEN_MAX, 0 for
 * a closed range). A bound may be infinite (then always excluded: values
 * are finite). Any out-pointer may be NULL.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (not a parameter, or an integer one:
 *         message for the thread). Thread-safe. */
SUBSEL_API int subsel_param_real_bounds(int param, double *min_value,
                                        double *max_value,
                                        double *default_value, int *open);

/*! subsel_param_set_int() / subsel_param_set_real() :
 * Sets parameter `param` of `handle` (any handle: its kind is checked at
 * run time) to `value`, which must be of the parameter's type and within
 * its bounds. Only SUBSEL_P_* numbers are accepted here (not the numbers
 * of 0.6's per-handle functions). Setting a parameter never retains or
 * releases anything. One thread at a time per handle, as every call that
 * changes it.
 * @return SUBSEL_OK; SUBSEL_E_INVALID (NULL handle, not a parameter, a
 *         parameter of another kind of handle, the other type, a value out
 *         of bounds: the parameter is then unchanged), SUBSEL_E_STATE (a
 *         parameter that can no longer change, such as TAROT's projection
 *         once the rows are whitened). The message, on ctx (for the thread
 *         when ctx is NULL, which also fails), names the function, the
 *         parameter and, for a handle of another kind, both kinds. */
SUBSEL_API int subsel_param_set_int(subsel_ctx *ctx, void *handle, int param,
                                    int64_t value);
SUBSEL_API int subsel_param_set_real(subsel_ctx *ctx, void *handle, int param,
                                     double value);

/*! subsel_param_get_int() / subsel_param_get_real() :
 * Reads parameter `param` of `handle` into *value.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (as subsel_param_set_int(); *value
 *         is then unchanged). Several threads may read one handle's
 *         parameters at once while none sets them. */
SUBSEL_API int subsel_param_get_int(subsel_ctx *ctx, const void *handle,
                                    int param, int64_t *value);
SUBSEL_API int subsel_param_get_real(subsel_ctx *ctx, const void *handle,
                                     int param, double *value);

/* ------------------------------------------------------------------------ */
/* Matrices                                                                 */
/* ------------------------------------------------------------------------ */

/* Progress of loading and checking matrices (see subsel_progress_fn): each
 * stage is reported from (0, total) to a last call with done == total, and
 * the callback can cancel between blocks (about 1 MiB of data, or rows
 * plus entries). Stages:
 *   "read"      reading a stream (a pipe) into memory before parsing it as
 *               a zip: bytes read; total 0 until the stream ends
 *   "load"      reading array data: bytes (.npy: the data after the header;
 *               .npz: the uncompressed bytes of its five members)
 *   "validate"  checking a CSR matrix (subsel_csr_create[_v2], the loaders,
 *               the codes of subsel_sae_encode): rows checked, rows
 *   "target"    subsel_sdm_set_target(): target rows summed, target rows
 * A cancelled call returns SUBSEL_E_CANCELLED with no handle made and
 * nothing left allocated. Paths may name pipes, FIFOs and /dev/stdin: every
 * reader reads its input in one pass. */

/* Ownership of caller arrays, for the constructors that take them. */
#define SUBSEL_OWN_COPY 0   /* copy the arrays; the caller may free them at
                               once                                          */
#define SUBSEL_OWN_BORROW 1 /* keep pointers to the caller's arrays: they
                               must stay valid and unchanged until the
                               matrix is destroyed, that is until it and
                               every handle keeping it (objectives, views,
                               encoders, selectors made from it) are freed */
#ifndef SUBSEL_NO_DEPRECATED
#define SUBSEL_COPY SUBSEL_OWN_COPY     /* deprecated name */
#define SUBSEL_BORROW SUBSEL_OWN_BORROW /* deprecated name */
#endif

/* Element types of caller arrays (subsel_csr_create_v2(),
 * subsel_dense_create_v2()), as NumPy names them. The values are fixed and
 * never reused; they lie in a range of their own (2000 and up, apart from
 * parameters and algorithms), so that an ownership flag or another
 * constant passed by mistake is refused. */
#define SUBSEL_DTYPE_FLOAT16 2001 /* IEEE 754 binary16 (NumPy float16) */
#define SUBSEL_DTYPE_FLOAT32 2002 /* float */
#define SUBSEL_DTYPE_FLOAT64 2003 /* double */
#define SUBSEL_DTYPE_INT32 2011   /* int32_t */
#define SUBSEL_DTYPE_INT64 2012   /* int64_t */

/* A compressed sparse row matrix: row pointers and column indices of int32
 * or int64 (as the caller or the file had them), float values. Column
 * indices are strictly increasing within a row, values are finite.
 * Immutable once created. */
typedef struct subsel_csr subsel_csr;

/* A dense row-major float matrix whose rows may lie a stride apart
 * (subsel_dense_stride()). Immutable once created. */
typedef struct subsel_dense subsel_dense;

/*! subsel_csr_create() :
 * Builds a CSR matrix from caller arrays of rows + 1 row pointers and
 * indptr[rows] column indices and values, after validating them: indptr[0]
 * == 0, nondecreasing row pointers, column indices in [0, cols) and strictly
 * increasing within each row, finite values. `flags` is SUBSEL_COPY (the
 * matrix keeps nothing of the caller's) or SUBSEL_BORROW (it keeps
 * pointers to the three arrays, which must stay valid and unchanged until
 * the matrix is destroyed: until it and every handle keeping it are
 * freed). rows and cols may be 0; cols must fit int32. Progress: stage
 * "validate".
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL pointer, bad size or flags),
 *         SUBSEL_E_FORMAT (structure check failed: the message names the
 *         row and entry), SUBSEL_E_NUMERIC (NaN/Inf value),
 *         SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_create(subsel_ctx *ctx, int64_t rows, int64_t cols,
                                 const int64_t *indptr, const int32_t *indices,
                                 const float *values, int flags,
                                 subsel_csr **out);

/*! subsel_csr_create_v2() :
 * As subsel_csr_create() for the arrays as SciPy holds them: `indptr`
 * (rows + 1) and `indices` (indptr[rows]) both of `index_type`,
 * SUBSEL_DTYPE_INT32 or SUBSEL_DTYPE_INT64, and `values` (indptr[rows]) of
 * `value_type`, SUBSEL_DTYPE_FLOAT32, SUBSEL_DTYPE_FLOAT64 or
 * SUBSEL_DTYPE_FLOAT16. Each array must be aligned for its type.
 * With SUBSEL_BORROW, index arrays of either width and float32 values are
 * used where they are, without any copy: they must stay valid and
 * unchanged until the matrix is freed. float64 and float16 values are
 * converted once to a float32 array the matrix owns (the caller may free
 * its values array at once; the index arrays are still borrowed); a
 * float64 value beyond the float32 range is refused like a non-finite
 * one. With SUBSEL_COPY every array is copied (index arrays in their own
 * width). indices and values may be NULL when there are no entries.
 * Validation as subsel_csr_create(); the messages name the row, column and
 * entry at fault and quote the caller's value. cols must fit int32 with
 * either index width. The matrix keeps nothing alive but the borrowed
 * arrays, and may be read from many threads at once. Progress: stage
 * "validate".
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL pointer, bad size, flags or
 *         dtype, a misaligned array), SUBSEL_E_FORMAT, SUBSEL_E_NUMERIC,
 *         SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_create_v2(subsel_ctx *ctx, int64_t rows,
                                    int64_t cols, const void *indptr,
                                    const void *indices, int index_type,
                                    const void *values, int value_type,
                                    int flags, subsel_csr **out);

/*! subsel_csr_from_dense() :
 * Builds a CSR matrix holding the nonzero entries of a dense matrix.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_from_dense(subsel_ctx *ctx, const subsel_dense *dense,
                                     subsel_csr **out);

/*! subsel_csr_free() :
 * Releases the caller's reference on a CSR matrix; the matrix is destroyed
 * when no handle keeps it any more (objectives, row views). NULL is a
 * no-op. Thread-safe against other handles' releases of the same matrix. */
SUBSEL_API void subsel_csr_free(subsel_csr *csr);

/* Accessors. A NULL matrix gives 0. */
SUBSEL_API int64_t subsel_csr_rows(const subsel_csr *csr);
SUBSEL_API int64_t subsel_csr_cols(const subsel_csr *csr);
SUBSEL_API int64_t subsel_csr_nnz(const subsel_csr *csr);

/*! subsel_csr_row() :
 * Points *indices and *values at row `row`'s entries (owned by the matrix,
 * valid until it is freed) and writes their number to *count. For a matrix
 * with int64 column indices (subsel_csr_index_type()), the first call
 * makes an int32 copy of all its indices, kept (and freed) by the matrix;
 * subsel_csr_row_v2() reads them in place. Thread-safe like every reader
 * of a matrix.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL pointer or row out of range),
 *         SUBSEL_E_NOMEM (that copy could not be made); the message is
 *         the thread's, subsel_ctx_last_error(NULL). */
SUBSEL_API int subsel_csr_row(const subsel_csr *csr, int64_t row,
                              const int32_t **indices, const float **values,
                              int64_t *count);

/*! subsel_csr_column_sums_v2() :
 * Writes the sum of every column, in double precision, to sums[0..cols);
 * `capacity` is the number of doubles sums holds. The result does not
 * depend on the thread count.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, capacity < cols: nothing is
 *         written then). */
SUBSEL_API int subsel_csr_column_sums_v2(subsel_ctx *ctx,
                                         const subsel_csr *csr, double *sums,
                                         int64_t capacity);

/*! subsel_csr_index_type() :
 * @return the type of the matrix's column indices, SUBSEL_DTYPE_INT32 or
 *         SUBSEL_DTYPE_INT64 (0 for NULL). */
SUBSEL_API int subsel_csr_index_type(const subsel_csr *csr);

/*! subsel_csr_row_v2() :
 * As subsel_csr_row() with *indices pointing at the row's column indices
 * where the matrix holds them, of subsel_csr_index_type(): no copy, ever.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL pointer or row out of range:
 *         message for the thread, subsel_ctx_last_error(NULL)). */
SUBSEL_API int subsel_csr_row_v2(const subsel_csr *csr, int64_t row,
                                 const void **indices, const float **values,
                                 int64_t *count);

/*! subsel_csr_column_sums() :
 * Deprecated: subsel_csr_column_sums_v2() without a capacity (sums must
 * hold cols values). */
SUBSEL_API int subsel_csr_column_sums(subsel_ctx *ctx, const subsel_csr *csr,
                                      double *sums);

/*! subsel_csr_load_npz() :
 * Reads a CSR matrix written by scipy.sparse.save_npz (compressed or not,
 * ZIP64 or not; int32 or int64 index arrays, each kept in the width the
 * file has; float32, float64, int32 or int64 values, rounded to float32;
 * the format member as bytes or str).
 * The whole file is checked: zip structure, CRC-32 of every member,
 * lengths of the arrays against each other, and the matrix as by
 * subsel_csr_create(); nothing is allocated for sizes the file cannot hold.
 * Memory peaks at the matrix's own arrays plus small fixed buffers. A
 * stream (a pipe, /dev/stdin) is first read into memory through the
 * context's allocator, since a zip's directory is at its end: its bytes
 * then add to the peak. Progress: stages "read" (streams only), "load",
 * "validate".
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL argument), SUBSEL_E_IO (cannot
 *         open or read), SUBSEL_E_FORMAT (not a valid npz / CSR file: the
 *         message names the file, the member and what is wrong),
 *         SUBSEL_E_UNSUPPORTED (a valid file in a form this build does not
 *         read: another sparse format (convert with .tocsr()), a big-endian
 *         dtype, an encrypted or split archive, a compression method other
 *         than deflate), SUBSEL_E_NUMERIC (NaN/Inf, or a float64 value
 *         beyond the float32 range), SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_load_npz(subsel_ctx *ctx, const char *path,
                                   subsel_csr **out);

/*! subsel_csr_save_npz() :
 * Writes a CSR matrix in scipy.sparse.save_npz's format, members in its
 * order: int32 indices, int32 row pointers (int64 when nnz exceeds
 * INT32_MAX), the format as b'csr' ('|S3', as save_npz writes it), an int64
 * shape and float32 data; deflate-compressed if `compressed` is nonzero,
 * with ZIP64 records when sizes or offsets need them. A row view is written
 * as a matrix of its own. A regular (or new) file is written to a new
 * temporary file ".subsel-<pid>-<n>.tmp" in the same folder (mode 0666
 * less the umask), synced and renamed into place, so readers never see half
 * a file; on failure the temporary file is removed and the file is left as
 * it was. A symbolic link is followed: the file it points to is replaced
 * and the link stays. A device, FIFO or terminal, and a file reached
 * through /dev/stdout, /dev/fd/N or /proc/self/fd/N, is written in place
 * (not atomically), as fopen(path, "wb") would. Stale temporary files of
 * writers that died (unlocked, a minute old, this user's) in the folder are
 * removed. Every writer of the library (*_save_*, *_write_*) does the same.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO (with the system's
 *         reason), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_csr_save_npz(subsel_ctx *ctx, const subsel_csr *csr,
                                   const char *path, int compressed);

/*! subsel_dense_create() :
 * Wraps a rows x cols row-major float array, copied (SUBSEL_COPY) or
 * borrowed (SUBSEL_BORROW: it must stay valid and unchanged until the
 * matrix is destroyed, that is until it and every handle keeping it are
 * freed); every value must be finite.
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

/*! subsel_dense_create_v2() :
 * A rows x cols matrix from row-major `data` of `dtype`
 * (SUBSEL_DTYPE_FLOAT32, SUBSEL_DTYPE_FLOAT64 or SUBSEL_DTYPE_FLOAT16),
 * row r starting row_stride * r elements (not bytes) after data:
 * row_stride >= cols, or 0 for packed rows (cols). data must be aligned
 * for its type. float32 with SUBSEL_BORROW is used where it is, whatever
 * the stride, without any copy: the rows (not the gaps between them) must
 * stay valid and unchanged until the matrix is freed. float64 and float16
 * are converted once, and float32 with SUBSEL_COPY copied, to a packed
 * float32 array the matrix owns (the caller may free data at once).
 * Values must be finite (float64: within the float32 range); the message
 * names the row and column and quotes the caller's value. data may be NULL
 * when rows * cols is 0. Every function taking a dense matrix reads a
 * strided one as it is. The matrix keeps nothing alive but borrowed data,
 * and may be read from many threads at once.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL pointer, bad size, stride,
 *         flags or dtype, misaligned data), SUBSEL_E_NUMERIC,
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_dense_create_v2(subsel_ctx *ctx, int64_t rows,
                                      int64_t cols, const void *data,
                                      int dtype, int64_t row_stride, int flags,
                                      subsel_dense **out);

/*! subsel_dense_free() :
 * Releases the caller's reference on a dense matrix; the matrix is
 * destroyed when no handle keeps it any more (objectives, encoders, TAROT
 * selectors). NULL is a no-op. Thread-safe against other handles' releases
 * of the same matrix. */
SUBSEL_API void subsel_dense_free(subsel_dense *dense);

/* Accessors. A NULL matrix gives 0 / NULL. The data pointer is owned by the
 * matrix (or, when borrowed, by the caller) and points at row 0; row r
 * starts subsel_dense_stride() * r floats after it. The stride is cols
 * (rows * cols packed floats) for every matrix but a strided one borrowed
 * by subsel_dense_create_v2(). */
SUBSEL_API int64_t subsel_dense_rows(const subsel_dense *dense);
SUBSEL_API int64_t subsel_dense_cols(const subsel_dense *dense);
SUBSEL_API const float *subsel_dense_data(const subsel_dense *dense);
SUBSEL_API int64_t subsel_dense_stride(const subsel_dense *dense);

/*! subsel_dense_row() :
 * @return a pointer to row `row` (cols floats), or NULL when out of range. */
SUBSEL_API const float *subsel_dense_row(const subsel_dense *dense,
                                         int64_t row);

/*! subsel_dense_column_sums_v2() :
 * Writes the double-precision sum of every column to sums[0..cols);
 * `capacity` is the number of doubles sums holds.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, capacity < cols: nothing is
 *         written then). */
SUBSEL_API int subsel_dense_column_sums_v2(subsel_ctx *ctx,
                                           const subsel_dense *dense,
                                           double *sums, int64_t capacity);

/*! subsel_dense_column_sums() :
 * Deprecated: subsel_dense_column_sums_v2() without a capacity (sums must
 * hold cols values). */
SUBSEL_API int subsel_dense_column_sums(subsel_ctx *ctx,
                                        const subsel_dense *dense,
                                        double *sums);

/*! subsel_dense_load_npy() :
 * Reads a NumPy .npy file (format versions 1 to 3) holding a 1-D or 2-D
 * little-endian float16 (since 0.10), float32, float64, int32 or int64
 * array, in C or Fortran order, as a row-major float matrix (a 1-D array
 * of n values becomes n x 1; float16 converts exactly, float64 and
 * integers are rounded to float32 as NumPy's astype does). Values must be finite. The header is checked before anything is
 * allocated (shape against the file's size), and the file must end with
 * the array's data. float64 data is converted in small chunks, never
 * copied whole. A stream (a pipe, /dev/stdin), whose size cannot be known
 * in advance, is read in one pass into a buffer that grows as the data
 * arrives (up to 1.5 times the array while it grows), never past what the
 * header declares: a stream shorter than its header says is
 * SUBSEL_E_FORMAT naming the bytes expected and received. Progress: stage
 * "load".
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL argument), SUBSEL_E_IO,
 *         SUBSEL_E_FORMAT (malformed or truncated: the message names the
 *         file and says what is wrong), SUBSEL_E_UNSUPPORTED (another dtype,
 *         a big-endian one, 0-D or more than 2-D), SUBSEL_E_NUMERIC (NaN,
 *         Inf or a float64 value beyond the float32 range),
 *         SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_dense_load_npy(subsel_ctx *ctx, const char *path,
                                     subsel_dense **out);

/*! subsel_dense_npy_shape() :
 * The shape of the matrix subsel_dense_load_npy() would read from `path`
 * (rows x cols; a vector is one column), from its header alone: the data
 * is not read, but the file must be long enough to hold it. Since 0.10.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL argument), SUBSEL_E_IO,
 *         SUBSEL_E_FORMAT, SUBSEL_E_UNSUPPORTED (more than 2 dimensions, or
 *         a dtype that is not a number). */
SUBSEL_API int subsel_dense_npy_shape(subsel_ctx *ctx, const char *path,
                                      int64_t *rows, int64_t *cols);

/*! subsel_dense_save_npy() :
 * Writes a dense matrix as a 2-D '<f4' C-order .npy file, format 1.0, its
 * data starting at a multiple of 64 bytes (written as subsel_csr_save_npz()
 * writes).
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_dense_save_npy(subsel_ctx *ctx, const subsel_dense *dense,
                                     const char *path);

/* ------------------------------------------------------------------------ */
/* Plain vectors in .npy files (labels, weights, quality scores, indices)   */
/* ------------------------------------------------------------------------ */

/*! subsel_npy_read_f64() :
 * Reads a 1-D .npy array (or a 2-D one with a dimension of 1) of float32,
 * float64, int32 or int64 into out[0..capacity). The element count is
 * written to *count whenever the header is valid, even if the call then
 * fails (also when the array is not a vector or has another dtype). With
 * out NULL, only the header is read (and SUBSEL_OK returned when it is
 * valid and the file is long enough): call so first to size the buffer.
 * A pipe can be read only once: read those with subsel_npy_load_f64(). If
 * the data turns out to be malformed after reading has started, the
 * contents of out are unspecified. Progress: stage "load".
 * @return SUBSEL_OK, SUBSEL_E_INVALID (a NULL path or count, or out not
 *         NULL and capacity < count: nothing is written to out then),
 *         SUBSEL_E_IO, SUBSEL_E_FORMAT, SUBSEL_E_UNSUPPORTED (another dtype,
 *         or not a vector), SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. NaN and Inf
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

/*! subsel_npy_load_f64() :
 * Reads a whole vector .npy file, as subsel_npy_read_f64() reads it, in
 * one call and one pass: *values gets a new array of the *count values,
 * allocated through the context's allocator and owned by the caller, who
 * releases it with subsel_array_free(). Unlike the two calls of
 * subsel_npy_read_f64() (header, then data), this reads a pipe, a FIFO or
 * /dev/stdin, which can be read only once; from such a stream the array
 * grows as the data arrives (never past what the header declares), so a
 * header claiming more than the stream holds is SUBSEL_E_FORMAT, not a
 * huge allocation. Progress: stage "load" (data bytes read, data bytes),
 * which can cancel.
 * @return SUBSEL_OK; SUBSEL_E_INVALID (a NULL ctx, path, values or count);
 *         otherwise as subsel_npy_read_f64() (SUBSEL_E_CANCELLED too). On
 *         failure *values is NULL and nothing is left allocated; *count is
 *         written whenever the header is valid. */
SUBSEL_API int subsel_npy_load_f64(subsel_ctx *ctx, const char *path,
                                   double **values, int64_t *count);

/*! subsel_npy_load_i64() :
 * As subsel_npy_load_f64() for an int32 or int64 array (as
 * subsel_npy_read_i64() reads it).
 * @return as subsel_npy_load_f64(); SUBSEL_E_UNSUPPORTED for float arrays. */
SUBSEL_API int subsel_npy_load_i64(subsel_ctx *ctx, const char *path,
                                   int64_t **values, int64_t *count);

/*! subsel_array_free() :
 * Releases an array returned by subsel_npy_load_f64(),
 * subsel_npy_load_i64() or subsel_ids_load_npy(). NULL is a no-op. The
 * array keeps its context's allocator hooks, so it may be freed after
 * the context (the hooks must still be valid), from any thread. */
SUBSEL_API void subsel_array_free(void *values);

/*! subsel_npy_write_f64() / subsel_npy_write_i64() :
 * Write a 1-D '<f8' / '<i8' .npy array of `count` values (values may be
 * NULL when count is 0), written as subsel_csr_save_npz() writes.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_npy_write_f64(subsel_ctx *ctx, const char *path,
                                    const double *values, int64_t count);
SUBSEL_API int subsel_npy_write_i64(subsel_ctx *ctx, const char *path,
                                    const int64_t *values, int64_t count);

/* ------------------------------------------------------------------------ */
/* Ids: the user's name of every pool row (since 0.15)                      */
/* ------------------------------------------------------------------------ */

/* The longest dtype text subsel_ids_load_npy() writes, with its NUL. */
#define SUBSEL_IDS_DTYPE_MAX 32
/* Flags of subsel_ids_save_npy(). */
#define SUBSEL_IDS_SORTED 1   /* ascending, each id once                   */
#define SUBSEL_IDS_DATACOMP 2 /* DataComp's subset file: each uid (32 hex
                                 digits, '|S32', or its 16 bytes, '|S16')
                                 as two uint64 (dtype "u8,u8"), sorted,
                                 each once                                */

/*! subsel_ids_load_npy() :
 * Reads a vector .npy of ids, one per pool row: any integer dtype ('|i1',
 * '|u1', '<i2', '<u2', '<i4', '<u4', '<i8', '<u8') or fixed-width bytes
 * ('|S<n>', n <= 4096: DataComp's uids are '|S32' hex digits). The ids are
 * kept as the file holds them (little-endian, `*itemsize` bytes each), in
 * one pass (pipes work), in a new array `*ids` released with
 * subsel_array_free(); `dtype` (SUBSEL_IDS_DTYPE_MAX bytes) receives the
 * dtype as the file names it ("<u8", "|S32"), for subsel_ids_save_npy().
 * @return SUBSEL_OK; SUBSEL_E_UNSUPPORTED for another dtype (floats,
 *         '<U', structured) or shape, naming it; SUBSEL_E_INVALID for a
 *         NULL argument; otherwise as subsel_npy_load_i64(). On failure
 *         *ids is NULL. */
SUBSEL_API int subsel_ids_load_npy(subsel_ctx *ctx, const char *path,
                                   void **ids, int64_t *count,
                                   size_t *itemsize, char *dtype);

/*! subsel_ids_save_npy() :
 * Writes the ids of rows `positions[0..npositions)` of `ids` (`count` ids
 * of `dtype`, as subsel_ids_load_npy() gives them) as a 1-D .npy of that
 * dtype, in the order of `positions`, or with `flags` SUBSEL_IDS_SORTED
 * ascending (integers by value, bytes as NumPy orders them) and each once,
 * or SUBSEL_IDS_DATACOMP as DataComp's subset file; written as
 * subsel_npy_write_i64() writes (atomically).
 * @return SUBSEL_OK; SUBSEL_E_INVALID for a position outside [0, count),
 *         an unknown dtype or flag, or a DataComp uid that is not 32 hex
 *         digits (naming the row); SUBSEL_E_IO, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_ids_save_npy(subsel_ctx *ctx, const char *path,
                                   const void *ids, int64_t count,
                                   const char *dtype, const int64_t *positions,
                                   int64_t npositions, int flags);

/*! subsel_csr_view_rows() :
 * A matrix made of rows [first, first + count) of `csr`, sharing its arrays
 * (no copy). The view keeps `csr` alive (it holds a reference, dropped when
 * the view is destroyed), so `csr` may be freed first; arrays `csr`
 * borrowed from the caller must stay valid until both are. Row i of the
 * view is row first + i of `csr`. For splitting a pool into ranges
 * (distributed selection).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not a CSR matrix, range
 *         outside the matrix), SUBSEL_E_NOMEM. */
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
 * Lifetimes: an objective keeps the matrices it reads (each constructor
 * says which) by holding a reference on them, so the caller may free them
 * as soon as the objective is made; arrays such a matrix borrowed from the
 * caller (SUBSEL_BORROW) must stay valid and unchanged until the objective
 * is freed too.
 * Threads: every call that takes the objective as `const subsel_objective
 * *` only reads it (evaluation, gains, KL, quality bins, classes, plans,
 * subsel_optimizer_run(), subsel_double_greedy(), subsel_clipcov_select()):
 * any number of threads, each with its own context, may make such calls on
 * one objective at once, and each run keeps its own state. The calls that
 * take it non-const (the subsel_sdm_set_*, subsel_uniprot_set_* and
 * subsel_clipcov_set_* setters, subsel_clipcov_check_submodular(),
 * subsel_clipcov_optimizer()) change it: none may run while any other call
 * uses the same objective. subsel_objective_free() may be called while
 * other handles still keep what the objective kept. */
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

/*! subsel_objective_free() :
 * Releases an objective, and its references on the matrices it kept (each
 * is destroyed if nothing else keeps it). NULL is a no-op. */
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
 * `features`, which the objective keeps (a reference: the caller may free
 * it at once; arrays it borrowed must stay valid until the objective is
 * freed). `weights` holds one nonnegative finite weight per column
 * (copied), or is NULL for all ones. `param` is c or a for the functions
 * that take one, and ignored by the others. Monotone submodular.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not a CSR matrix, unknown
 *         function, parameter out of range, negative value in the matrix or
 *         the weights: the message says where), SUBSEL_E_NUMERIC (NaN
 *         weight), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_fb_create(subsel_ctx *ctx, const subsel_csr *features,
                                int concave, double param,
                                const double *weights, subsel_objective **out);

/*! subsel_sdm_create() :
 * The SDM objective (Submodular Distribution Matching) over the rows of the
 * nonnegative CSR matrix `source`, which the objective keeps (as
 * subsel_fb_create() keeps its matrix):
 *   f(A) = lambda sum_i p_i log(1 + m_i(A))
 *        + (1 - lambda) sum_l u_l log(1 + |A cap bin_l|)
 * with a target distribution p over the columns (required: set with
 * subsel_sdm_set_target() or subsel_sdm_set_target_distribution()),
 * quality bins of the rows (optional: without quality scores the second
 * term is 0), bin weights u and lambda (default 0.7). Columns with p_i = 0
 * contribute nothing. Monotone submodular.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not a CSR matrix, negative
 *         value), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sdm_create(subsel_ctx *ctx, const subsel_csr *source,
                                 subsel_objective **out);

/*! subsel_sdm_set_target() :
 * Sets p to the normalised column sums of the nonnegative CSR matrix
 * `target`, which must have as many columns as the source (it is read
 * here and not kept). Progress: stage "target" (target rows summed, target
 * rows), which can cancel between blocks of rows; on any failure the
 * objective keeps the target it had.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (not an SDM objective, column count,
 *         negative value, all-zero target), SUBSEL_E_CANCELLED,
 *         SUBSEL_E_NOMEM. */
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

/* The parameter of an SDM objective (SUBSEL_KIND_SDM), set with
 * subsel_param_set_real() or subsel_sdm_set_lambda(). */
#define SUBSEL_P_SDM_LAMBDA 401 /* "lambda": the weight of distribution
                                   matching, [0, 1], default 0.7. Real.    */

/*! subsel_sdm_set_lambda() :
 * Sets lambda (SUBSEL_P_SDM_LAMBDA) in [0, 1].
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL ctx, not an SDM objective,
 *         lambda out of range: the message names the function and what was
 *         wrong). */
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

/* Algorithms, for subsel_optimizer_create(). Numbers 1000 and up, apart
 * from every parameter number. */
#define SUBSEL_ALGORITHM_NAIVE 1000 /* greedy: every remaining item each
                                   step                                      */
#define SUBSEL_ALGORITHM_LAZY 1001  /* Minoux's lazy greedy: same result as
                                   naive for submodular functions, far fewer
                                   gains; items 0 to 2^32 - 1 (more:
                                   SUBSEL_E_INVALID)                         */
#define SUBSEL_ALGORITHM_STOCHASTIC 1002 /* stochastic greedy (Mirzasoleiman
                                   et al.): each step, the best of a random
                                   sample of ceil((n / k) ln(1 / epsilon))
                                   items                                     */
#define SUBSEL_ALGORITHM_LAZIER 1003 /* lazier than lazy: stochastic greedy
                                   that skips sampled items whose stale
                                   upper bound cannot win; same result as
                                   STOCHASTIC for submodular functions       */
#define SUBSEL_ALGORITHM_DOUBLE_GREEDY 1004 /* double greedy over all n
                                   items, for non-monotone functions (see
                                   subsel_double_greedy()); the budget and
                                   STOP_NONPOSITIVE are ignored: it selects
                                   as many items as it finds worth it        */
#define SUBSEL_ALGORITHM_DOUBLE_GREEDY_RANDOM 1005 /* randomised double
                                   greedy; run r draws its coins from
                                   stream r                                  */

/* Parameters of an optimizer (SUBSEL_KIND_OPTIMIZER), set with
 * subsel_param_set_int() / _real() or subsel_optimizer_set_int() /
 * _double(). */
#define SUBSEL_P_BUDGET 101     /* "budget": items to select, [0, INT64_MAX];
                                   0: the whole ground set. Default 0. A
                                   budget above the ground set size fails at
                                   run time. Integer.                        */
#define SUBSEL_P_RUNS 102       /* "runs": seeded runs to intersect,
                                   [1, 1024], default 1 (stochastic
                                   algorithms only). Integer.                */
#define SUBSEL_P_MIN_RUNS 103   /* "min_runs": keep items chosen by at least
                                   this many of the runs, [0, 1024]; 0
                                   (default): all runs. Integer.             */
#define SUBSEL_P_STOP_NONPOSITIVE 104 /* "stop_nonpositive": when to end a
                                   run at a step whose best gain is <= 0:
                                   SUBSEL_STOP_NEVER, _ALWAYS or _AUTO,
                                   [0, 2], default AUTO. 0 and 1 keep the
                                   meaning they had before AUTO existed (1
                                   was the default). Integer.                */
#define SUBSEL_P_EPSILON 105    /* "epsilon": stochastic sample accuracy,
                                   (0, 1), default 1e-3. Real.               */
#define SUBSEL_P_PARTS 106      /* "parts": split the ground set at random
                                   (seeded) into this many parts of equal
                                   size, select from the parts in parallel
                                   on the context's threads, and combine
                                   them as SUBSEL_P_MERGE says. [0, 65536],
                                   default 1: no split, the exact algorithm.
                                   0: automatic, one part per thread the
                                   call gets when the ground set holds at
                                   least 65,536 items per part, else 1; the
                                   selection then depends on the thread
                                   count, which an explicit count avoids.
                                   Greedy algorithms only: double greedy
                                   refuses more than one part (0 means one
                                   for it). Integer. (Since 0.8.)            */
#define SUBSEL_P_MERGE 107      /* "merge": how parts combine,
                                   SUBSEL_MERGE_UNION or
                                   SUBSEL_MERGE_GREEDI, [0, 1], default
                                   UNION. Integer. (Since 0.8.)              */
#define SUBSEL_P_FANIN 108      /* "fanin": summaries per merge when
                                   selection spans processes
                                   (subsel_mpi_select() with
                                   SUBSEL_DISTRIBUTED_GREEDI, and the
                                   bindings' engines): f >= 2 merges
                                   groups of f, then groups of the results,
                                   ... (multi-round GreeDi), so no merge
                                   holds more than f x budget rows; 0 (and
                                   1) merge every part's summary at once.
                                   [0, 65536], default 0. Integer.
                                   (Since 0.9.)                              */
#define SUBSEL_P_CHECKPOINT_EVERY 109 /* "checkpoint_every": with a
                                   checkpoint file
                                   (subsel_optimizer_set_checkpoint()), write
                                   it each time the selection reaches a
                                   multiple of this many items;
                                   [0, INT64_MAX], default 0: only when the
                                   run is cancelled. Integer. (Since 0.15.)  */

#ifndef SUBSEL_NO_DEPRECATED
/* Deprecated names. 0.6 numbered the algorithms 0 to 5 and the optimizer's
 * parameters 1 to 5, so SUBSEL_OPT_LAZY (1) read as SUBSEL_OPT_BUDGET:
 * subsel_optimizer_create() still accepts 0 to 5, and the per-handle
 * functions (subsel_optimizer_set_int() ...) still accept 1 to 5, for
 * programs built against 0.6; code compiled with this header passes the
 * new numbers. */
#define SUBSEL_OPT_NAIVE SUBSEL_ALGORITHM_NAIVE
#define SUBSEL_OPT_LAZY SUBSEL_ALGORITHM_LAZY
#define SUBSEL_OPT_STOCHASTIC SUBSEL_ALGORITHM_STOCHASTIC
#define SUBSEL_OPT_LAZIER SUBSEL_ALGORITHM_LAZIER
#define SUBSEL_OPT_DOUBLE_GREEDY SUBSEL_ALGORITHM_DOUBLE_GREEDY
#define SUBSEL_OPT_DOUBLE_GREEDY_RANDOM SUBSEL_ALGORITHM_DOUBLE_GREEDY_RANDOM
#define SUBSEL_OPT_BUDGET SUBSEL_P_BUDGET
#define SUBSEL_OPT_RUNS SUBSEL_P_RUNS
#define SUBSEL_OPT_MIN_RUNS SUBSEL_P_MIN_RUNS
#define SUBSEL_OPT_STOP_NONPOSITIVE SUBSEL_P_STOP_NONPOSITIVE
#define SUBSEL_OPT_EPSILON SUBSEL_P_EPSILON
#endif

/* Values of SUBSEL_P_STOP_NONPOSITIVE. Stochastic greedy as published
 * (Mirzasoleiman et al.; the SDM paper's Algorithm 2) adds the best sampled
 * item at every step, so |A| = budget; stopping early is a shortcut that is
 * only safe when no later gain can be positive again, and a sample whose
 * best gain is 0 says little about the rest of the pool. */
#define SUBSEL_STOP_NEVER 0  /* every run goes to the budget, whatever
                                the gains                                     */
#define SUBSEL_STOP_ALWAYS 1 /* a run ends at the first step whose best
                                (sampled) gain is <= 0                        */
#define SUBSEL_STOP_AUTO 2   /* NEVER for objectives known to be monotone
                                (FB, SDM, UniPROT with similarities >= 0),
                                ALWAYS for the others (cut, ClipCov,
                                UniPROT with negative similarities): a
                                non-monotone f can only lose by adding an
                                item of negative gain. Default.               */

/* Values of SUBSEL_P_MERGE (since 0.8). With a random partition, every
 * part looks like a sample of the whole pool, so each part's greedy
 * choices are nearly what a single greedy would choose there. */
#define SUBSEL_MERGE_UNION 0  /* each part selects its share of the budget
                                 (budget / parts, the remainder to the
                                 first parts), and the selection is their
                                 union: no merge step, so p parts on p
                                 threads take about 1/p of the time. It
                                 lists every part's first choice, then
                                 every part's second, ..., each with the
                                 gain it had in its part (for a submodular
                                 f at least its gain after the items listed
                                 before it); the value is f of the union.
                                 Default.                                    */
#define SUBSEL_MERGE_GREEDI 1 /* RandGreeDi (Barbosa et al. 2015): each part
                                 selects the whole budget, the algorithm
                                 runs again over the union of their choices,
                                 and the selection is the better of that
                                 merged set and the best part's own: a
                                 constant-factor guarantee for monotone
                                 submodular f, at the cost of parts x budget
                                 candidates in the merge.                    */

/* Why a selection holds fewer items than its budget
 * (subsel_selection_short_reason()). Fixed numbers, never renumbered. */
#define SUBSEL_SHORT_NONE 0         /* it holds its budget                   */
#define SUBSEL_SHORT_NONPOSITIVE 1  /* a run stopped at a best gain <= 0
                                       (SUBSEL_P_STOP_NONPOSITIVE)            */
#define SUBSEL_SHORT_INTERSECTION 2 /* fewer items were chosen by enough
                                       runs (SUBSEL_P_RUNS, _MIN_RUNS)        */
#define SUBSEL_SHORT_EXHAUSTED 3    /* no candidate was left to add          */
#define SUBSEL_SHORT_FILTERED 4     /* the double greedy filter dropped
                                       items whose removal raised f
                                       (subsel_clipcov_select())              */

/*! subsel_optimizer_create() :
 * Creates an optimizer running `algorithm` (SUBSEL_ALGORITHM_*; 0.6's
 * numbers 0 to 5 are still accepted) with default parameters.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (unknown algorithm), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_optimizer_create(subsel_ctx *ctx, int algorithm,
                                       subsel_optimizer **out);

/*! subsel_optimizer_free() : releases an optimizer. NULL is a no-op. */
SUBSEL_API void subsel_optimizer_free(subsel_optimizer *opt);

/*! subsel_optimizer_set_int() / subsel_optimizer_set_double() :
 * Set a parameter of the right type within its bounds, as
 * subsel_param_set_int() / _real() do, but without a context: `param` is a
 * SUBSEL_P_* number of an optimizer, or its 0.6 number (1 to 5). Kept for
 * 0.6 programs; new code can use subsel_param_set_int() and get its
 * messages on a context.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not an optimizer, not an
 *         optimizer parameter (an algorithm number, say), wrong type, value
 *         out of bounds: the parameter is then unchanged). The message is
 *         the thread's: subsel_ctx_last_error(NULL). */
SUBSEL_API int subsel_optimizer_set_int(subsel_optimizer *opt, int param,
                                        int64_t value);
SUBSEL_API int subsel_optimizer_set_double(subsel_optimizer *opt, int param,
                                           double value);

/*! subsel_optimizer_get_int() / subsel_optimizer_get_double() :
 * Read a parameter (numbers as for subsel_optimizer_set_int()).
 * @return SUBSEL_OK or SUBSEL_E_INVALID (message for the thread). */
SUBSEL_API int subsel_optimizer_get_int(const subsel_optimizer *opt,
                                        int param, int64_t *value);
SUBSEL_API int subsel_optimizer_get_double(const subsel_optimizer *opt,
                                           int param, double *value);

/*! subsel_optimizer_param_bounds() :
 * Writes a parameter's bounds and default as doubles (integer bounds are
 * exact up to 2^53; INT64_MAX reads as 9.2e18; subsel_param_int_bounds()
 * gives them exactly). Numbers as for subsel_optimizer_set_int(). Any
 * out-pointer may be NULL.
 * @return SUBSEL_OK or SUBSEL_E_INVALID (message for the thread). */
SUBSEL_API int subsel_optimizer_param_bounds(int param, double *min_value,
                                             double *max_value,
                                             double *default_value);

/*! subsel_optimizer_run() :
 * Maximises `obj` and returns the selection. Ties between equal gains go to
 * the lowest index. With one run, the selection lists items in the order
 * chosen with the gain of each step (with SUBSEL_P_PARTS, as
 * SUBSEL_P_MERGE says); with several runs (intersection), it
 * lists the kept items in ascending order, with the gains of adding them in
 * that order. The same inputs, seed (SUBSEL_P_SEED; run r uses stream r)
 * and parameters give the same selection whatever the thread count and kernel.
 * Runs execute in parallel on the context's threads; a single run uses
 * them to evaluate large batches of gains. Progress: stage "select" (items
 * chosen so far by run 0, budget) from 0 before any work to the budget
 * after the last run, each end once, also when the selection is short;
 * double greedy reports its own stage instead. The callback can cancel
 * between steps. The selection records its budget and, when it is short,
 * why (subsel_selection_short_reason()).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (budget above the ground set, runs > 1
 *         with a deterministic algorithm, MIN_RUNS > RUNS),
 *         SUBSEL_E_STATE (objective not configured), SUBSEL_E_NUMERIC (a
 *         gain or loss of the objective is NaN: the message names the
 *         item), SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM, or an error of the
 *         objective. */
SUBSEL_API int subsel_optimizer_run(subsel_ctx *ctx,
                                    const subsel_optimizer *opt,
                                    const subsel_objective *obj,
                                    subsel_selection **out);

/*! subsel_optimizer_set_initial() :
 * Makes every run of `opt` start from `items` (a warm start): they are
 * added in the given order, then the algorithm chooses the rest. The
 * selection lists them first, each with its gain when added, then the
 * items chosen; SUBSEL_P_BUDGET is the size of the whole selection, the
 * initial items included (so a budget of 0 still means the whole ground
 * set). The stochastic algorithms draw their samples from the items not
 * given, of the size the whole run would draw (ceil((n / k) ln(1 /
 * epsilon)) for a ground set of n and a budget of k), from the seed's
 * stream as a run without them. STOP_NONPOSITIVE applies to the steps
 * after them. With RUNS > 1 every run starts from them (so every
 * intersection holds them). The items are copied; count 0 (items may then
 * be NULL) clears them. Replaces a checkpoint given to
 * subsel_optimizer_resume(). Checked here: no negative or repeated index;
 * at run time: indices below the ground set size, count at most the
 * budget. Double greedy keeps the initial items (in X and Y from the
 * start) and decides the others; it ignores the budget as always.
 * SUBSEL_P_PARTS > 1 and selection across processes
 * (subsel_summary_select(), subsel_mpi_select()) take no initial set
 * (SUBSEL_E_UNSUPPORTED at run time); SUBSEL_P_PARTS = 0 then means one
 * part.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL ctx or optimizer, count < 0,
 *         items NULL with count > 0, a negative or repeated index),
 *         SUBSEL_E_NOMEM. (Since 0.15.) */
SUBSEL_API int subsel_optimizer_set_initial(subsel_ctx *ctx,
                                            subsel_optimizer *opt,
                                            const int64_t *items,
                                            int64_t count);

/*! subsel_optimizer_set_checkpoint() :
 * Makes each run of `opt` save its selection so far to the file `path`
 * (copied; NULL: no checkpoint): every SUBSEL_P_CHECKPOINT_EVERY items
 * (0: never on schedule), and when the progress callback cancels the run,
 * so a cancelled run loses no step. The file is replaced atomically (a
 * temporary file in its folder, renamed over it) and is an .npz archive
 * that NumPy reads (docs/optimizers.md#checkpoints). A failed write fails
 * the run with its SUBSEL_E_IO. The greedy algorithms with RUNS = 1 and
 * PARTS <= 1 only (SUBSEL_E_UNSUPPORTED at run time otherwise).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL ctx or optimizer, an empty
 *         path), SUBSEL_E_NOMEM. (Since 0.15.) */
SUBSEL_API int subsel_optimizer_set_checkpoint(subsel_ctx *ctx,
                                               subsel_optimizer *opt,
                                               const char *path);

/*! subsel_optimizer_resume() :
 * Reads the checkpoint at `path` (written by subsel_optimizer_set_checkpoint())
 * so that the next runs of `opt` go on from it: subsel_optimizer_run()
 * then returns the selection, gains and value that the run which wrote it
 * would have returned uninterrupted (the evaluation count differs). The
 * run must be that run's: same algorithm, ground set size, budget, seed,
 * epsilon (stochastic algorithms) and resolved STOP_NONPOSITIVE, and f of
 * the checkpoint's items must be the recorded value (a fingerprint of the
 * objective's data); otherwise the run fails with SUBSEL_E_INVALID naming
 * the difference. The checkpoint replaces an initial set; the run may
 * write a checkpoint (the same file, too). Lazy and lazier greedy rebuild
 * their bounds, which for a submodular objective changes only the
 * evaluation count.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL argument), SUBSEL_E_IO,
 *         SUBSEL_E_FORMAT (not a checkpoint, damaged),
 *         SUBSEL_E_UNSUPPORTED (a later format), SUBSEL_E_NOMEM; on
 *         failure the optimizer is unchanged. (Since 0.15.) */
SUBSEL_API int subsel_optimizer_resume(subsel_ctx *ctx, subsel_optimizer *opt,
                                       const char *path);

/* Accessors of a selection. NULL gives 0 / NULL / NaN. Arrays are owned by
 * the selection and have subsel_selection_count() entries. */
SUBSEL_API int64_t subsel_selection_count(const subsel_selection *sel);
SUBSEL_API const int64_t *subsel_selection_indices(const subsel_selection *sel);
SUBSEL_API const double *subsel_selection_gains(const subsel_selection *sel);
/* f(selection). */
SUBSEL_API double subsel_selection_value(const subsel_selection *sel);
/* Marginal gains evaluated by the optimizer (all runs), for benchmarks. */
SUBSEL_API int64_t subsel_selection_evaluations(const subsel_selection *sel);

/*! subsel_selection_budget() :
 * @return the number of items the call that made the selection was asked
 *         for: the optimizer's SUBSEL_P_BUDGET (n when that is 0), the
 *         budget of subsel_tarot_select_fixed(), the greedy budget of
 *         subsel_clipcov_select(), the k of subsel_uniprot_select_batch().
 *         Calls that choose their own size (double greedy, TAROT's OTM)
 *         give subsel_selection_count(). 0 for NULL. */
SUBSEL_API int64_t subsel_selection_budget(const subsel_selection *sel);

/*! subsel_selection_short_reason() :
 * @return SUBSEL_SHORT_NONE when the selection holds its budget, else why
 *         it holds fewer items (SUBSEL_SHORT_*; with several runs, the
 *         reason of the first run that stopped short, or
 *         SUBSEL_SHORT_INTERSECTION when every run filled the budget).
 *         SUBSEL_SHORT_NONE for NULL. */
SUBSEL_API int subsel_selection_short_reason(const subsel_selection *sel);

/*! subsel_short_reason_string() :
 * @return a static one-line explanation of a SUBSEL_SHORT_* code ("the
 *         best gain was <= 0", ...); never NULL, "unknown reason" for
 *         numbers not listed above. Thread-safe. */
SUBSEL_API const char *subsel_short_reason_string(int reason);

/*! subsel_selection_save_npy() :
 * Writes the indices as a 1-D int64 .npy file (as subsel_csr_save_npz()
 * writes: atomically for regular files, links followed).
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
 * nonnegative codes, the input of SDM. An encoder is immutable once
 * created: several threads may encode with it at once, each with its own
 * context. */
typedef struct subsel_sae subsel_sae;

/*! subsel_sae_create() :
 * An encoder from W_enc (features x inputs), which the encoder keeps (a
 * reference: the caller may free it at once; arrays it borrowed must stay
 * valid and unchanged until the encoder is freed), b_enc (features values)
 * and b_dec (inputs values), both copied; either bias may be NULL for
 * zeros. features must fit int32 (the column indices of the codes).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL ctx, w_enc or out; w_enc not a
 *         dense matrix; W_enc with no rows or no columns, or more than
 *         INT32_MAX rows),
 *         SUBSEL_E_NUMERIC (a NaN/Inf bias value: the message names it),
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_create(subsel_ctx *ctx, const subsel_dense *w_enc,
                                 const float *b_enc, const float *b_dec,
                                 subsel_sae **out);

/*! subsel_sae_load() :
 * Loads `dir`/W_enc.npy (a 2-D array, features x inputs), `dir`/b_enc.npy
 * and `dir`/b_dec.npy (1-D arrays, or 2-D with a dimension of 1, of
 * features and inputs values) with subsel_dense_load_npy(); the encoder
 * then holds the only reference on W_enc. A W_enc saved transposed (inputs x features, as some
 * training libraries store it) is refused with a message saying so, not
 * guessed at. Every message names the file at fault.
 * @return as subsel_sae_create(); SUBSEL_E_INVALID also for shapes that do
 *         not agree; and the errors of subsel_dense_load_npy(). */
SUBSEL_API int subsel_sae_load(subsel_ctx *ctx, const char *dir,
                               subsel_sae **out);

/*! subsel_sae_free() : releases an encoder and its reference on W_enc
 * (destroyed if nothing else keeps it). NULL is a no-op. */
SUBSEL_API void subsel_sae_free(subsel_sae *sae);

/* Input and feature (code) dimensions; 0 for NULL. */
SUBSEL_API int64_t subsel_sae_inputs(const subsel_sae *sae);
SUBSEL_API int64_t subsel_sae_features(const subsel_sae *sae);

/*! subsel_sae_encode() :
 * Encodes every row of `x` (rows x inputs) into a new CSR matrix (rows x
 * features) keeping, per row, the k largest positive activations (ties to
 * the lowest feature index), with sorted column indices; a row with fewer
 * than k positive activations keeps only those (zeros are never stored).
 * Rows go in batches (about 64 MiB of activations each) through one BLIS
 * sgemm on the context's threads, then a parallel top-k over rows, so
 * memory beyond the result is O(batch x features). The result does not
 * depend on the thread count or the ISA. Progress: stage "encode" (rows
 * done, rows), 0 before the first batch and after each batch up to rows;
 * the callback can cancel before any batch. x may have 0 rows.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL argument, x's columns differ
 *         from the encoder's inputs, k < 1 or k > features),
 *         SUBSEL_E_NUMERIC (an activation overflows float: the message
 *         names the row), SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_encode(subsel_ctx *ctx, const subsel_sae *sae,
                                 const subsel_dense *x, int64_t k,
                                 subsel_csr **out);

/*! subsel_sae_scores() :  (since 0.10)
 * The Monosemanticity (MS) and Monotonicity (MT) scores of sparse codes
 * (SDM paper, section 3.4 and appendix I), which say how interpretable an
 * encoder's latents are on a sample of inputs. `x` holds the inputs (rows
 * x d, as encoded) and `codes` their codes (rows x features, e.g. from
 * subsel_sae_encode()); an entry > 0 means that the row activates that
 * latent (other entries are ignored). Of latent i, over its activating
 * rows:
 *   MS: the mean pairwise cosine similarity of the rows of nonzero norm
 *       among them (a zero row has no direction), n_i of them, computed
 *       without pairs: with u = x / |x| summed over those rows,
 *       (|sum u|^2 - n_i) / (n_i (n_i - 1)); in [-1, 1].
 *   MT: the rows sorted by activation, largest first (ties: lower row
 *       first), the mean of the raw inner products <x_a, x_b> over the
 *       m_i - 1 neighbouring pairs of that order (m_i: all its activating
 *       rows), as the paper. Deviation from the paper, which sorts all
 *       rows including the ones that do not activate i (whose order among
 *       themselves is arbitrary, and which would swamp the score of a
 *       sparse latent): only the activating rows are scored.
 * A latent with fewer than 2 such rows has no score of that kind: NaN in
 * the per-latent arrays, left out of the means and the counts.
 * *ms, *mt: the means over the scored latents (NaN when none is).
 * *ms_latents, *mt_latents: how many latents have an MS and an MT score
 * (they can differ: zero rows count for MT only), for reporting "over N
 * latents". ms_per_latent / mt_per_latent: NULL, or room for
 * `ms_capacity` / `mt_capacity` doubles, at least features. Every output
 * pointer may be NULL; nothing is written unless the call succeeds.
 * Work O(nnz x d) in all, sums in double; parallel over latents on the
 * context's threads, the result independent of the thread count and the
 * ISA. Memory: about 16 bytes per activating entry, plus O(rows +
 * features + threads x d). Progress stage "scores" (latents scored,
 * features); the callback can cancel between blocks of latents.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL ctx, x or codes, or not a
 *         dense / CSR matrix; codes and x with different row counts; an
 *         output array smaller than features), SUBSEL_E_NUMERIC (a NaN/Inf
 *         value in x: the message names its row), SUBSEL_E_CANCELLED,
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_scores(subsel_ctx *ctx, const subsel_dense *x,
                                 const subsel_csr *codes, double *ms,
                                 double *mt, int64_t *ms_latents,
                                 int64_t *mt_latents, double *ms_per_latent,
                                 int64_t ms_capacity, double *mt_per_latent,
                                 int64_t mt_capacity);

/* ------------------------------------------------------------------------ */
/* Training sparse autoencoders (since 0.10)                                */
/* ------------------------------------------------------------------------ */

/* A trainer of a monotone TopK sparse autoencoder: SDM's first step
 * (Algorithm 1 of the SDM paper). It minimises
 *   L = l_recons L_recons + l_mono L_mono + l_act L_act (+ aux_coef L_aux)
 * with L_recons = mean over the batch of ||x - x~||^2, L_act = mean of
 * ||h(x)||^2, L_mono the monotonicity loss of eq. 3 (sets E and M: a
 * random subset of the batch, and one of its rows with its nearest
 * neighbours in a reservoir sample of past inputs), and the optional AuxK
 * loss over dead latents, by Adam, keeping the decoder's columns at unit
 * norm. docs/sae.md states every choice the paper leaves open. One thread
 * at a time per trainer (each call may use the context's threads). The
 * parameters (SUBSEL_P_SAE_*) are set with subsel_param_set_int/_real(). */
typedef struct subsel_sae_trainer subsel_sae_trainer;

/* Parameters of a trainer (block 701-799). Those marked "fixed" cannot
 * change once a step has run (SUBSEL_E_STATE). */
#define SUBSEL_P_SAE_K 701        /* "k": latents kept per row, [1, 2^31-1]
                                     and at most the latents; default 128
                                     (the paper's); fixed */
#define SUBSEL_P_SAE_LR 702       /* "lr": Adam's learning rate, (0, inf),
                                     default 2e-4 */
#define SUBSEL_P_SAE_BETA1 703    /* "beta1": [0, 1), default 0.9 */
#define SUBSEL_P_SAE_BETA2 704    /* "beta2": [0, 1), default 0.999 */
#define SUBSEL_P_SAE_EPS 705      /* "eps": Adam's epsilon, (0, 1], 1e-8 */
#define SUBSEL_P_SAE_L_RECONS 706 /* "l_recons": lambda_1, [0, inf), 1 */
#define SUBSEL_P_SAE_L_MONO 707   /* "l_mono": lambda_2, [0, inf), 0.002;
                                     0 trains without L_mono (and without
                                     the reservoir) */
#define SUBSEL_P_SAE_L_ACT 708    /* "l_act": lambda_3, [0, inf), 1e-10 */
#define SUBSEL_P_SAE_SET_SIZE 709 /* "set_size": |E| = |M|, [2, 2^20],
                                     default 128; fixed */
#define SUBSEL_P_SAE_RESERVOIR 710 /* "reservoir": past inputs kept for M's
                                     neighbours, [2, 2^32], default 50,000;
                                     fixed */
#define SUBSEL_P_SAE_AUXK 711     /* "auxk": dead latents the AuxK loss
                                     decodes per row, [0, 2^31-1] and at most
                                     the latents; 0 (default): no AuxK;
                                     fixed */
#define SUBSEL_P_SAE_AUX_COEF 712 /* "aux_coef": [0, inf), default 1/32 */
#define SUBSEL_P_SAE_DEAD_ROWS 713 /* "dead_rows": a latent that has not
                                     fired for this many rows is dead,
                                     [1, 2^63-1], default 10,000,000 */
#define SUBSEL_P_SAE_BATCH 714    /* "batch": rows per step of
                                     subsel_sae_trainer_fit(), [1, 2^24],
                                     default 4096; fixed within an epoch */
#define SUBSEL_P_SAE_B_DEC_INIT 715 /* "b_dec_init": SUBSEL_SAE_INIT_*,
                                     default GEOMETRIC_MEDIAN */
#define SUBSEL_P_SAE_CHECKPOINT_STEPS 716 /* "checkpoint_steps": fit saves a
                                     checkpoint every so many steps as well
                                     as after each epoch; 0 (default):
                                     after each epoch only */

/* Values of SUBSEL_P_SAE_B_DEC_INIT: b_dec from the first batch. */
#define SUBSEL_SAE_INIT_MEAN 0             /* its mean */
#define SUBSEL_SAE_INIT_GEOMETRIC_MEDIAN 1 /* its geometric median
                                              (Weiszfeld's iterations) */

/* The losses of the last step (subsel_sae_trainer_losses()), unweighted
 * except the total. */
#define SUBSEL_SAE_LOSS_TOTAL 0  /* the weighted sum L                     */
#define SUBSEL_SAE_LOSS_RECONS 1 /* L_recons                               */
#define SUBSEL_SAE_LOSS_MONO 2   /* L_mono (0 when the step had no sets)   */
#define SUBSEL_SAE_LOSS_ACT 3    /* L_act                                  */
#define SUBSEL_SAE_LOSS_AUX 4    /* L_aux (0 without AuxK or dead latents) */
#define SUBSEL_SAE_LOSSES 5      /* how many                               */

/*! subsel_sae_trainer_create() :
 * A trainer of an autoencoder from `inputs` dimensions to `features`
 * latents (features <= INT32_MAX), with the default parameters and
 * initial weights drawn from the context's seed (SUBSEL_P_SEED, read now):
 * W_enc's rows random unit vectors, W_dec = W_enc transposed, b_enc 0;
 * b_dec is set from the first batch (SUBSEL_P_SAE_B_DEC_INIT).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL ctx or out, sizes < 1 or too
 *         large), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_trainer_create(subsel_ctx *ctx, int64_t inputs,
                                         int64_t features,
                                         subsel_sae_trainer **out);

/*! subsel_sae_trainer_free() : releases a trainer. NULL is a no-op. */
SUBSEL_API void subsel_sae_trainer_free(subsel_sae_trainer *t);

/*! subsel_sae_trainer_step() :
 * One Adam step on the rows of `batch` (rows x inputs, at least one row;
 * any row count, a different one each step if wished): the rows join the
 * reservoir, then the losses, their gradients and the update. With l_mono
 * > 0 a step has an L_mono term only when the batch has at least set_size
 * rows and the reservoir holds set_size - 1 rows other than the chosen
 * row's copies.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL or wrong handles, columns
 *         differ from inputs, no rows, k or auxk above the latents),
 *         SUBSEL_E_NUMERIC (an input that is not finite, activations
 *         that overflow float, or a loss that is not finite, as when
 *         training diverges: the weights are then unchanged),
 *         SUBSEL_E_NOMEM (nothing changed). */
SUBSEL_API int subsel_sae_trainer_step(subsel_ctx *ctx, subsel_sae_trainer *t,
                                       const subsel_dense *batch);

/*! subsel_sae_trainer_fit() :
 * Trains over the rows of `count` .npy files (2-D, float16, float32 or
 * float64, C order, the same columns: one data set of their rows, in
 * order), streamed in batches of SUBSEL_P_SAE_BATCH rows and never loaded
 * whole, until `epochs` epochs have been done in all. Each epoch visits
 * every row once in a seeded random order. The trainer remembers its epoch
 * and batch, so a call after a cancellation or on a trainer from
 * subsel_sae_trainer_load() continues where training stopped (give it the
 * same files). With checkpoint_dir (NULL: none) it saves a checkpoint
 * there after each epoch and every SUBSEL_P_SAE_CHECKPOINT_STEPS steps;
 * with log_path (NULL: none) it appends one JSON line per step (step,
 * epoch, rows, the losses, dead latents) and one per epoch (the means).
 * Progress: stage "train" (rows done by this call, rows it has to do): 0
 * first, then after each step; cancelling stops between steps, the trainer
 * consistent and resumable. The same data, seed and parameters give the
 * same weights, bit for bit, on any thread count; another machine (another
 * BLIS kernel set) may round the products differently (docs/sae.md).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL arguments, count < 1, epochs
 *         < 0, no rows, columns differ from inputs or between files, a
 *         mid-epoch trainer given data of another length), SUBSEL_E_IO, SUBSEL_E_FORMAT (a file is not
 *         a valid .npy or is truncated), SUBSEL_E_UNSUPPORTED (not 2-D,
 *         dtype, Fortran order, a pipe), SUBSEL_E_NUMERIC (a value not finite in
 *         float32: the message names file, row and column),
 *         SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_trainer_fit(subsel_ctx *ctx, subsel_sae_trainer *t,
                                      const char *const *paths, int64_t count,
                                      int64_t epochs,
                                      const char *checkpoint_dir,
                                      const char *log_path);

/*! subsel_sae_trainer_losses() :
 * Writes the SUBSEL_SAE_LOSSES losses of the last step (SUBSEL_SAE_LOSS_*
 * order) to out[0..capacity); all NaN before the first step.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, capacity too small). */
SUBSEL_API int subsel_sae_trainer_losses(subsel_ctx *ctx,
                                         const subsel_sae_trainer *t,
                                         double *out, int64_t capacity);

/* Steps taken, epochs completed by subsel_sae_trainer_fit(), and latents
 * dead at the last step (SUBSEL_P_SAE_DEAD_ROWS); -1 for NULL or a handle
 * of another kind. */
SUBSEL_API int64_t subsel_sae_trainer_steps(const subsel_sae_trainer *t);
SUBSEL_API int64_t subsel_sae_trainer_epochs(const subsel_sae_trainer *t);
SUBSEL_API int64_t subsel_sae_trainer_dead(const subsel_sae_trainer *t);

/*! subsel_sae_trainer_evaluate() :
 * Held-out evaluation with the current weights, nothing updated: the mean
 * over the rows of x (rows x inputs) of ||x - x~||^2 into *recons and of
 * ||h(x)||^2 into *act (either may be NULL), as L_recons and L_act of a
 * step. Rows go through in batches of about 64 MiB of activations; the
 * result does not depend on the thread count.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL or wrong handles, columns
 *         differ from inputs, no rows, k above the latents),
 *         SUBSEL_E_NUMERIC (activations overflow float), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_trainer_evaluate(subsel_ctx *ctx,
                                           const subsel_sae_trainer *t,
                                           const subsel_dense *x,
                                           double *recons, double *act);

/*! subsel_sae_trainer_encoder() :
 * A new encoder (as subsel_sae_create()) with a copy of the current
 * weights, independent of the trainer.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_trainer_encoder(subsel_ctx *ctx,
                                          const subsel_sae_trainer *t,
                                          subsel_sae **out);

/*! subsel_sae_trainer_decoder() :
 * A new dense matrix with a copy of W_dec, inputs x features (columns of
 * unit norm): x~ = W_dec h + b_dec.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_trainer_decoder(subsel_ctx *ctx,
                                          const subsel_sae_trainer *t,
                                          subsel_dense **out);

/*! subsel_sae_trainer_save() :
 * Writes a checkpoint to the folder `dir` (created if missing): W_enc.npy,
 * b_enc.npy and b_dec.npy, which subsel_sae_load() and `subsel encode`
 * read; W_dec.npy (inputs x features); and trainer*.npy, the rest of the
 * trainer (Adam's moments, the reservoir, parameters, position, random
 * state). Each file is replaced atomically; trainer.npy goes last, so a
 * folder without it is an unfinished save.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_trainer_save(subsel_ctx *ctx,
                                       const subsel_sae_trainer *t,
                                       const char *dir);

/*! subsel_sae_trainer_load() :
 * A trainer from a checkpoint of subsel_sae_trainer_save(): training
 * continued from it gives the weights an uninterrupted run gives, bit for
 * bit (on the same machine).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL arguments), SUBSEL_E_IO (no
 *         such folder or file; a folder without trainer.npy is an
 *         unfinished save), SUBSEL_E_FORMAT (inconsistent or damaged
 *         files: the message names the file), SUBSEL_E_UNSUPPORTED (a
 *         later checkpoint format), SUBSEL_E_NUMERIC, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_sae_trainer_load(subsel_ctx *ctx, const char *dir,
                                       subsel_sae_trainer **out);

/* ------------------------------------------------------------------------ */
/* LoRS: multimodal dataset distillation (since 0.11)                       */
/* ------------------------------------------------------------------------ */

/* LoRS (Xu et al., ICML 2024) distils a set of image-text pairs into a few
 * synthetic pairs plus a learned soft similarity S~ = diag(w) + (alpha/r)
 * L R^T between them, so that a contrastive model trained on the synthetic
 * set approaches one trained on all the pairs. subsel distils in embedding
 * space: the pairs are rows of image embeddings and text embeddings from
 * frozen encoders, and the model trained on them is two small towers (a
 * linear map or the LoRS projection head) into a joint space, compared by
 * cosine similarity over a temperature (docs/lors.md).
 *
 * The work has three parts, all on one handle, whose parameters
 * (SUBSEL_P_LORS_*) are set with subsel_param_set_int/_real():
 *   subsel_lors_buffer()    expert trajectories: towers trained on the real
 *                           pairs, saved after every epoch;
 *   subsel_lors_distill()   trajectory matching (the paper's Algorithm 1);
 *   subsel_lors_evaluate()  fresh towers trained on a set (Algorithm 2)
 *                           and their retrieval recall on held-out pairs.
 * The experts and the distillation draw from the context's seed
 * (SUBSEL_P_SEED) as it was when the handle was created; an evaluation and
 * a baseline from the seed of the context passed to that call, so that one
 * distilled set can be evaluated over several seeds. Results are the same
 * bits on any thread count. One thread at a time per handle. */
typedef struct subsel_lors subsel_lors;

#define SUBSEL_P_LORS_TOWER 801      /* "tower": SUBSEL_LORS_TOWER_*, default
                                        HEAD */
#define SUBSEL_P_LORS_EMBED_DIM 802  /* "embed_dim": e, [1, 65536], 256 */
#define SUBSEL_P_LORS_TEMPERATURE 803 /* "temperature": tau, (0, inf), 0.07 */
#define SUBSEL_P_LORS_LEARN_TEMPERATURE 804 /* "learn_temperature": 0/1, 0 */
#define SUBSEL_P_LORS_LOSS 805       /* "loss": SUBSEL_LORS_LOSS_*, WBCE */
#define SUBSEL_P_LORS_BETA 806       /* "beta": wBCE's threshold, 0.5 */
#define SUBSEL_P_LORS_SIMILARITY 807 /* "similarity": SUBSEL_LORS_SIM_*,
                                        LOWRANK */
#define SUBSEL_P_LORS_RANK 808       /* "rank": r, [1, 2^20], 10 */
#define SUBSEL_P_LORS_ALPHA 809      /* "alpha": [0, inf), 1 */
#define SUBSEL_P_LORS_PAIRS 810      /* "pairs": synthetic pairs, 100 */
#define SUBSEL_P_LORS_SYN_STEPS 811  /* "syn_steps": T, student steps, 8 */
#define SUBSEL_P_LORS_EXPERT_EPOCHS 812 /* "expert_epochs": M, epochs of the
                                           expert ahead of the start, 1 */
#define SUBSEL_P_LORS_MAX_START_EPOCH 813 /* "max_start_epoch": starts are
                                             drawn from [0, this), 2 */
#define SUBSEL_P_LORS_BATCH 814      /* "batch": synthetic pairs per student
                                        step, 20 */
#define SUBSEL_P_LORS_LR_IMAGE 815   /* "lr_image": for the synthetic image
                                        embeddings, 1 */
#define SUBSEL_P_LORS_LR_TEXT 816    /* "lr_text": for the text ones, 1 */
#define SUBSEL_P_LORS_LR_SIM 817     /* "lr_sim": for w, L, R, 1 */
#define SUBSEL_P_LORS_LR_LR 818      /* "lr_lr": for the step sizes, 1e-5 */
#define SUBSEL_P_LORS_MOMENTUM 819   /* "momentum": of every SGD update of
                                        the synthetic set, 0.5 */
#define SUBSEL_P_LORS_INIT 820       /* "init": SUBSEL_LORS_INIT_*, REAL */
#define SUBSEL_P_LORS_EXPERT_LR 821  /* "expert_lr": SGD's step for the
                                        experts and the initial eta, 0.1 */
#define SUBSEL_P_LORS_EXPERT_BATCH 822 /* "expert_batch": 128 */
#define SUBSEL_P_LORS_BUFFER_EPOCHS 823 /* "buffer_epochs": E, epochs each
                                           expert trains, 10 */
#define SUBSEL_P_LORS_EXPERTS 824    /* "experts": trajectories, 20 */
#define SUBSEL_P_LORS_EVAL_EPOCHS 825 /* "eval_epochs": 10 */
#define SUBSEL_P_LORS_EVAL_BATCH 826 /* "eval_batch": 20 (as "batch": a
                                        distilled set trains best as it was
                                        distilled) */
#define SUBSEL_P_LORS_EVAL_MOMENTUM 827 /* "eval_momentum": 0 */
#define SUBSEL_P_LORS_EVAL_WEIGHT_DECAY 828 /* "eval_weight_decay": 0 */

/* Values of SUBSEL_P_LORS_TOWER. */
#define SUBSEL_LORS_TOWER_LINEAR 0 /* u = W x + b */
#define SUBSEL_LORS_TOWER_HEAD 1   /* p = W1 x + b1; LayerNorm(W2 GELU(p) +
                                      b2 + p), the LoRS projection head */
/* Values of SUBSEL_P_LORS_LOSS (the paper's section 3). */
#define SUBSEL_LORS_LOSS_INFONCE 0 /* eq. 1 (the similarity is ignored) */
#define SUBSEL_LORS_LOSS_ENCE 1    /* extended InfoNCE, eq. 3 */
#define SUBSEL_LORS_LOSS_BCE 2     /* binary cross-entropy, eq. 4 */
#define SUBSEL_LORS_LOSS_WBCE 3    /* weighted BCE, eq. 5 */
/* Values of SUBSEL_P_LORS_SIMILARITY. */
#define SUBSEL_LORS_SIM_IDENTITY 0 /* S = I, not learned (no similarity
                                      mining: the ablation) */
#define SUBSEL_LORS_SIM_LOWRANK 1  /* diag(w) + (alpha/r) L R^T, eq. 11 */
#define SUBSEL_LORS_SIM_FULL 2     /* a full learned matrix */
/* Values of SUBSEL_P_LORS_INIT: the synthetic pairs start as */
#define SUBSEL_LORS_INIT_REAL 0  /* random real pairs */
#define SUBSEL_LORS_INIT_NOISE 1 /* Gaussian noise with each column's mean
                                    and deviation over the real pairs */
/* Baseline selections (subsel_lors_baseline()). */
#define SUBSEL_LORS_BASELINE_RANDOM 0
#define SUBSEL_LORS_BASELINE_KCENTER 1
#define SUBSEL_LORS_BASELINE_HERDING 2
/* The recalls subsel_lors_evaluate() writes, in this order. */
#define SUBSEL_LORS_IR1 0  /* text to image, recall at 1 */
#define SUBSEL_LORS_IR5 1
#define SUBSEL_LORS_IR10 2
#define SUBSEL_LORS_TR1 3  /* image to text */
#define SUBSEL_LORS_TR5 4
#define SUBSEL_LORS_TR10 5
#define SUBSEL_LORS_RECALLS 6

/*! subsel_lors_create() :
 * A LoRS handle for image embeddings of `image_dim` columns and text
 * embeddings of `text_dim`, with the default parameters and the context's
 * seed (read now).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL ctx or out, a dimension < 1 or
 *         above 2^24), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_lors_create(subsel_ctx *ctx, int64_t image_dim,
                                  int64_t text_dim, subsel_lors **out);

/*! subsel_lors_free() : releases a handle. NULL is a no-op. */
SUBSEL_API void subsel_lors_free(subsel_lors *l);

/*! subsel_lors_buffer() :
 * Trains SUBSEL_P_LORS_EXPERTS experts (fresh towers, seeded, each its own
 * random stream) on the real pairs (row i of images with row i of texts)
 * with SGD (SUBSEL_P_LORS_EXPERT_LR, batches of SUBSEL_P_LORS_EXPERT_BATCH,
 * the InfoNCE loss, the temperature parameters) for
 * SUBSEL_P_LORS_BUFFER_EPOCHS epochs, and writes their trajectories to the
 * folder `dir` (created if missing; files there of the same names are
 * replaced): expert_0000.npy ... (float32, (epochs + 1) x parameters: the
 * initial parameters, then those after each epoch) and meta.npy (what
 * subsel_lors_distill() checks the trajectories against). With log_path
 * (NULL: none) appends one JSON line per expert epoch (expert, epoch, mean
 * loss). Progress: stage "buffer" (epochs done, epochs in all); cancelling
 * stops between epochs, leaving the experts finished so far.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL arguments, columns differ from
 *         the handle's, row counts differ, fewer than 2 pairs),
 *         SUBSEL_E_NUMERIC (a loss that is not finite: the expert
 *         diverged; lower expert_lr), SUBSEL_E_IO, SUBSEL_E_CANCELLED,
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_lors_buffer(subsel_ctx *ctx, subsel_lors *l,
                                  const subsel_dense *images,
                                  const subsel_dense *texts, const char *dir,
                                  const char *log_path);

/*! subsel_lors_distill() :
 * Runs `iterations` iterations of trajectory matching (Algorithm 1) with
 * the trajectories in `buffer_dir` (from subsel_lors_buffer() with the
 * same tower parameters). The first call initialises the synthetic set
 * from the real pairs (SUBSEL_P_LORS_INIT; at least SUBSEL_P_LORS_PAIRS of
 * them); later calls, and calls on a handle from subsel_lors_load(),
 * continue (the real pairs are then not used: pass them or NULL). Each
 * iteration draws an expert and a start epoch s, trains the student from
 * the expert's parameters at s for T steps on minibatches of the synthetic
 * set (its block of S~, step sizes eta), and moves the synthetic
 * embeddings, w, L, R and eta by SGD with momentum along the exact
 * gradient of ||theta_T - theta_{s+M}||^2 / ||theta_s - theta_{s+M}||^2
 * through the T steps. With log_path (NULL: none) appends one JSON line
 * per iteration. Progress: stage "distill" (iterations done by this call,
 * iterations); cancelling stops between iterations.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL arguments, real pairs needed
 *         and missing or too few, columns differ), SUBSEL_E_FORMAT (the
 *         buffer does not match the handle's towers or dimensions, or its
 *         trajectories are shorter than expert_epochs; start epochs are
 *         drawn from what they hold), SUBSEL_E_IO,
 *         SUBSEL_E_NUMERIC (a loss or gradient that is not finite: the
 *         synthetic set is left as before that iteration), SUBSEL_E_CANCELLED,
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_lors_distill(subsel_ctx *ctx, subsel_lors *l,
                                   const subsel_dense *images,
                                   const subsel_dense *texts,
                                   const char *buffer_dir, int64_t iterations,
                                   const char *log_path);

/* Iterations done by subsel_lors_distill() (0 before the first); -1 for
 * NULL or another kind of handle. */
SUBSEL_API int64_t subsel_lors_iterations(const subsel_lors *l);

/*! subsel_lors_last_loss() :
 * The matching loss of the last iteration (NaN before the first).
 * @return SUBSEL_OK, SUBSEL_E_INVALID. */
SUBSEL_API int subsel_lors_last_loss(subsel_ctx *ctx, const subsel_lors *l,
                                     double *loss);

/*! subsel_lors_synthetic() :
 * Copies the synthetic set out: images (pairs x image_dim floats) and
 * texts (pairs x text_dim), either may be NULL.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_STATE (not distilled or
 *         loaded yet). */
SUBSEL_API int subsel_lors_synthetic(subsel_ctx *ctx, const subsel_lors *l,
                                     float *images, float *texts);

/*! subsel_lors_similarity() :
 * Writes the learned similarity S~ (pairs x pairs floats, row-major; the
 * identity for SUBSEL_LORS_SIM_IDENTITY).
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_STATE. */
SUBSEL_API int subsel_lors_similarity(subsel_ctx *ctx, const subsel_lors *l,
                                      float *similarity);

/*! subsel_lors_eta() :
 * The learned step sizes of the image and the text tower.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_STATE. */
SUBSEL_API int subsel_lors_eta(subsel_ctx *ctx, const subsel_lors *l,
                               double *eta_image, double *eta_text);

/*! subsel_lors_save() :
 * Writes the distilled set and everything needed to continue to the folder
 * `dir` (created if missing): images.npy, texts.npy (float32),
 * similarity.npy (float32, pairs x pairs), eta.npy, the learned
 * similarity's parameters, the optimiser's state and the parameters.
 * lors_state.npy is written last, so a folder whose save was interrupted
 * is refused by subsel_lors_load().
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_STATE, SUBSEL_E_IO,
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_lors_save(subsel_ctx *ctx, const subsel_lors *l,
                                const char *dir);

/*! subsel_lors_load() :
 * A handle from a folder of subsel_lors_save(): the same parameters, the
 * distilled set, and distillation continues bit for bit where it stopped.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO, SUBSEL_E_FORMAT (not
 *         such a folder, or one from an unfinished save), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_lors_load(subsel_ctx *ctx, const char *dir,
                                subsel_lors **out);

/*! subsel_lors_evaluate() :
 * Trains fresh towers (from ctx's seed, read now) on a training set as the
 * paper's Algorithm 2 does (SGD with momentum SUBSEL_P_LORS_EVAL_MOMENTUM and weight decay
 * SUBSEL_P_LORS_EVAL_WEIGHT_DECAY, SUBSEL_P_LORS_EVAL_EPOCHS epochs of
 * batches of SUBSEL_P_LORS_EVAL_BATCH, the step divided by 10 after half
 * of them, the handle's loss on each batch's block of the similarity),
 * then writes to recalls the SUBSEL_LORS_RECALLS retrieval recalls
 * (fractions, SUBSEL_LORS_IR1 ...) on held-out pairs: an image's text
 * query is a hit at K when its image ranks among the first K images; an
 * image is a hit at K when any of its texts ranks among the first K texts.
 * The training set is the handle's distilled set with its S~ and eta when
 * train_images is NULL; else the pairs of train_images and train_texts,
 * with train_similarity (rows x rows floats; NULL: the identity) and step
 * sizes eta_image, eta_text (<= 0: SUBSEL_P_LORS_EXPERT_LR). The test set
 * is test_images and test_texts, where text t belongs to image
 * text_image[t] (NULL: text t to image t, the same row counts).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL arguments, columns differ, an
 *         image index out of range, an image without a text), SUBSEL_E_STATE
 *         (no distilled set), SUBSEL_E_NUMERIC (training diverged),
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_lors_evaluate(subsel_ctx *ctx, const subsel_lors *l,
                                    const subsel_dense *train_images,
                                    const subsel_dense *train_texts,
                                    const float *train_similarity,
                                    double eta_image, double eta_text,
                                    const subsel_dense *test_images,
                                    const subsel_dense *test_texts,
                                    const int64_t *text_image,
                                    double *recalls);

/*! subsel_lors_baseline() :
 * The coreset baselines of the paper's tables: `count` pairs chosen from
 * the real pairs, written to indices (count int64s, in the order chosen).
 * Each pair is described by its image and text embeddings, each scaled to
 * unit length, side by side. RANDOM: a uniform sample; KCENTER: greedy
 * farthest-first from a random first pair (both from ctx's seed, read
 * now); HERDING: Welling's
 * herding, each step the pair that brings the chosen pairs' mean closest
 * to the mean of all pairs. Ties go to the lowest index.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL arguments, columns differ from
 *         the handle's, row counts differ, count < 1 or above the pairs, an
 *         unknown method), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_lors_baseline(subsel_ctx *ctx, const subsel_lors *l,
                                    int method, const subsel_dense *images,
                                    const subsel_dense *texts, int64_t count,
                                    int64_t *indices);

/* ------------------------------------------------------------------------ */
/* Optimal transport                                                        */
/* ------------------------------------------------------------------------ */

/* Entropic optimal transport, solved in the log domain (stable for any
 * regularisation) by block coordinate ascent on the dual: Sinkhorn for the
 * balanced problem and the vector form of Dykstra's projections for the
 * partial one (O(nm) per iteration). Plans are P_ij = exp((f_i + g_j -
 * C_ij) / reg) with the potentials f, g returned. Costs are a dense n x m
 * row-major double matrix of the caller, or are computed from two point
 * clouds block by block (stored once as one n x m double matrix when it fits
 * SUBSEL_P_OT_MEMORY, never more). Iterations stop when the L1 violation of
 * the marginal constraints of the current plan, sum_i |(P 1)_i - target_i| +
 * sum_j |(P^T 1)_j - target_j| (targets: what the next projection would
 * make them), is at most SUBSEL_P_OT_TOL times the mass the plan carries
 * (sum a, or the partial mass), or at most the floating-point floor of the
 * problem, whichever is larger: the floor is the rounding of the marginal
 * sums, about 16 eps (mass) ((max |C| + max |f| + max |g|) / reg +
 * log2 max(n, m)). That plan is the one returned, and the violation it
 * reached is reported by subsel_ot_solver_violation(). A solve fails with
 * SUBSEL_E_NUMERIC, and a message naming the cause, only when the values
 * divided by reg overflow double precision (at once), when a potential or
 * the violation stops being finite (at once), or when SUBSEL_P_OT_MAX_ITER
 * iterations leave the violation above that level. */
typedef struct subsel_ot_solver subsel_ot_solver;

/* Costs between point clouds (subsel_ot_*_points). */
#define SUBSEL_COST_SQEUCLID 0 /* |x - y|^2                                */
#define SUBSEL_COST_EUCLID 1   /* |x - y|                                  */
#define SUBSEL_COST_COSINE 2   /* 1 - cos(x, y); cos is 0 for a zero row   */

/* Parameters of an OT solver (SUBSEL_KIND_OT_SOLVER), set with
 * subsel_param_set_int() / _real() or subsel_ot_solver_set_int() /
 * _double(). */
#define SUBSEL_P_OT_MAX_ITER 201 /* "max_iter": iterations over all
                                   annealing stages, [1, 10^9], default
                                   100000. Integer.                       */
#define SUBSEL_P_OT_ANNEAL 202  /* "anneal": epsilon-scaling: solve at
                                   regularisations START, START * FACTOR,
                                   ... down to reg, each warm-started; 0
                                   or 1, default 1. Integer.              */
#define SUBSEL_P_OT_MEMORY 203  /* "memory": bytes a point-cloud cost
                                   matrix may take to be stored (else it is
                                   recomputed in tiles at every pass),
                                   [0, INT64_MAX], default 512 MiB.
                                   Integer.                               */
#define SUBSEL_P_OT_TOL 204     /* "tol": L1 marginal violation to stop at,
                                   relative to the mass, [1e-15, 1],
                                   default 1e-9 (a solve also ends at its
                                   floating-point floor, see above). Real. */
#define SUBSEL_P_OT_ANNEAL_FACTOR 205 /* "anneal_factor": ratio of
                                   successive regularisations, [0.01,
                                   0.99], default 0.1. Real.              */
#define SUBSEL_P_OT_ANNEAL_START 206 /* "anneal_start": first
                                   regularisation; 0 (default): the range
                                   max C - min C (a bound of it for point
                                   clouds). [0, 1e300]. Real.             */

#ifndef SUBSEL_NO_DEPRECATED
/* Deprecated names; subsel_ot_solver_set_int() ... still accept 0.6's
 * numbers 1 to 6 for them. */
#define SUBSEL_OT_MAX_ITER SUBSEL_P_OT_MAX_ITER
#define SUBSEL_OT_ANNEAL SUBSEL_P_OT_ANNEAL
#define SUBSEL_OT_MEMORY SUBSEL_P_OT_MEMORY
#define SUBSEL_OT_TOL SUBSEL_P_OT_TOL
#define SUBSEL_OT_ANNEAL_FACTOR SUBSEL_P_OT_ANNEAL_FACTOR
#define SUBSEL_OT_ANNEAL_START SUBSEL_P_OT_ANNEAL_START
#endif

/*! subsel_ot_solver_create() :
 * A solver handle with default options. It also records the iteration
 * count and violation of the last solve made with it.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_ot_solver_create(subsel_ctx *ctx,
                                       subsel_ot_solver **out);

/*! subsel_ot_solver_free() : releases a solver. NULL is a no-op. */
SUBSEL_API void subsel_ot_solver_free(subsel_ot_solver *solver);

/*! subsel_ot_solver_set_int() / subsel_ot_solver_set_double() :
 * Set a parameter of the right type within its bounds, without a context:
 * `param` is a SUBSEL_P_OT_* number or its 0.6 number (1 to 6). Kept for
 * 0.6 programs (see subsel_param_set_int()).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not an OT solver, not one of
 *         its parameters, wrong type, out of bounds: the parameter is then
 *         unchanged; message for the thread: subsel_ctx_last_error(NULL)). */
SUBSEL_API int subsel_ot_solver_set_int(subsel_ot_solver *solver, int param,
                                        int64_t value);
SUBSEL_API int subsel_ot_solver_set_double(subsel_ot_solver *solver,
                                           int param, double value);

/*! subsel_ot_solver_get_int() / subsel_ot_solver_get_double() :
 * Read a parameter (numbers as for subsel_ot_solver_set_int()).
 * @return SUBSEL_OK or SUBSEL_E_INVALID (message for the thread). */
SUBSEL_API int subsel_ot_solver_get_int(const subsel_ot_solver *solver,
                                        int param, int64_t *value);
SUBSEL_API int subsel_ot_solver_get_double(const subsel_ot_solver *solver,
                                           int param, double *value);

/*! subsel_ot_solver_param_bounds() :
 * Writes a parameter's bounds and default as doubles (numbers as for
 * subsel_ot_solver_set_int()); any out-pointer may be NULL.
 * @return SUBSEL_OK or SUBSEL_E_INVALID (message for the thread). */
SUBSEL_API int subsel_ot_solver_param_bounds(int param, double *min_value,
                                             double *max_value,
                                             double *default_value);

/*! subsel_ot_solver_iterations() / subsel_ot_solver_violation() :
 * @return the iterations and the final L1 marginal violation of the last
 *         solve with this solver (also when it failed to converge); 0 and
 *         NaN before any solve or for NULL. */
SUBSEL_API int64_t subsel_ot_solver_iterations(const subsel_ot_solver *solver);
SUBSEL_API double subsel_ot_solver_violation(const subsel_ot_solver *solver);

/*! subsel_ot_sinkhorn_v2() :
 * Balanced entropic OT (POT's ot.sinkhorn):
 *   min <P, C> + reg sum P (log P - 1)  s.t.  P 1 = a, P^T 1 = b,
 * for n x m row-major costs C (finite). a (n) and b (m) are positive
 * marginals, or NULL for uniform ones (1/n, 1/m); their totals must agree
 * to 1e-6 relative (b is then rescaled to a's total). `solver` may be NULL
 * (defaults). Writes <P, C> to *value (may be NULL) and, when not NULL,
 * the potentials f (n) and g (m) with P_ij = exp((f_i + g_j - C_ij) / reg)
 * and the plan (n x m row-major). Each output array is followed by its
 * capacity in doubles (ignored when the array is NULL). Threads: the
 * context's. Progress stage "ot" (iterations, SUBSEL_OT_MAX_ITER; a
 * converged solve ends with done == total), can cancel.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL cost, sizes < 1, reg <= 0,
 *         nonpositive marginal, totals differ, an output array smaller
 *         than n, m or n x m: nothing is written then), SUBSEL_E_NUMERIC
 *         (NaN/Inf input, costs divided by reg overflow, or no convergence
 *         within SUBSEL_OT_MAX_ITER: outputs are then not written),
 *         SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_ot_sinkhorn_v2(subsel_ctx *ctx, subsel_ot_solver *solver,
                                     const double *a, int64_t n,
                                     const double *b, int64_t m,
                                     const double *cost, double reg,
                                     double *value, double *f,
                                     int64_t f_capacity, double *g,
                                     int64_t g_capacity, double *plan,
                                     int64_t plan_capacity);

/*! subsel_ot_partial_v2() :
 * Entropic partial OT (POT's ot.partial.entropic_partial_wasserstein):
 *   min <P, C> + reg sum P log P  s.t.  P 1 <= a, P^T 1 <= b, 1^T P 1 = mass,
 * 0 < mass <= min(sum a, sum b). Outputs and capacities as
 * subsel_ot_sinkhorn_v2(), with P_ij = exp((f_i + g_j - C_ij) / reg),
 * f_i + t <= t and g_j <= 0 for the mass potential t folded into f. Stable
 * for any reg (POT's scaling form overflows once (max C - min C) / reg
 * passes about 700).
 * @return as subsel_ot_sinkhorn_v2(); SUBSEL_E_INVALID for a mass out of
 *         range. */
SUBSEL_API int subsel_ot_partial_v2(subsel_ctx *ctx, subsel_ot_solver *solver,
                                    const double *a, int64_t n,
                                    const double *b, int64_t m,
                                    const double *cost, double reg,
                                    double mass, double *value, double *f,
                                    int64_t f_capacity, double *g,
                                    int64_t g_capacity, double *plan,
                                    int64_t plan_capacity);

/*! subsel_ot_sinkhorn_points_v2() / subsel_ot_partial_points_v2() :
 * As subsel_ot_sinkhorn_v2() / subsel_ot_partial_v2() with C_ij =
 * cost(x_i, y_j) between the rows of x (n x d) and y (m x d), `cost` one
 * of SUBSEL_COST_*. Costs are computed in double precision with BLIS, in
 * tiles; the n x m matrix is stored only if it fits SUBSEL_OT_MEMORY
 * bytes. x and y are read during the call and not kept.
 * @return as subsel_ot_sinkhorn_v2(); SUBSEL_E_INVALID also for different
 *         column counts or an unknown cost. */
SUBSEL_API int subsel_ot_sinkhorn_points_v2(
    subsel_ctx *ctx, subsel_ot_solver *solver, const double *a,
    const subsel_dense *x, const double *b, const subsel_dense *y, int cost,
    double reg, double *value, double *f, int64_t f_capacity, double *g,
    int64_t g_capacity, double *plan, int64_t plan_capacity);
SUBSEL_API int subsel_ot_partial_points_v2(
    subsel_ctx *ctx, subsel_ot_solver *solver, const double *a,
    const subsel_dense *x, const double *b, const subsel_dense *y, int cost,
    double reg, double mass, double *value, double *f, int64_t f_capacity,
    double *g, int64_t g_capacity, double *plan, int64_t plan_capacity);

/*! subsel_ot_sinkhorn() / subsel_ot_partial() /
 *  subsel_ot_sinkhorn_points() / subsel_ot_partial_points() :
 * Deprecated: the *_v2 functions above without capacities (f, g and plan,
 * when not NULL, must hold n, m and n x m values). */
SUBSEL_API int subsel_ot_sinkhorn(subsel_ctx *ctx, subsel_ot_solver *solver,
                                  const double *a, int64_t n, const double *b,
                                  int64_t m, const double *cost, double reg,
                                  double *value, double *f, double *g,
                                  double *plan);
SUBSEL_API int subsel_ot_partial(subsel_ctx *ctx, subsel_ot_solver *solver,
                                 const double *a, int64_t n, const double *b,
                                 int64_t m, const double *cost, double reg,
                                 double mass, double *value, double *f,
                                 double *g, double *plan);
SUBSEL_API int subsel_ot_sinkhorn_points(subsel_ctx *ctx,
                                         subsel_ot_solver *solver,
                                         const double *a,
                                         const subsel_dense *x,
                                         const double *b,
                                         const subsel_dense *y, int cost,
                                         double reg, double *value, double *f,
                                         double *g, double *plan);
SUBSEL_API int subsel_ot_partial_points(subsel_ctx *ctx,
                                        subsel_ot_solver *solver,
                                        const double *a, const subsel_dense *x,
                                        const double *b, const subsel_dense *y,
                                        int cost, double reg, double mass,
                                        double *value, double *f, double *g,
                                        double *plan);

/* ------------------------------------------------------------------------ */
/* UniPROT prototype selection                                              */
/* ------------------------------------------------------------------------ */

/* UniPROT (Uniform Prototype selection via Partial Optimal Transport):
 * pick k prototypes P among the rows of a |S| x n source-to-target
 * similarity matrix S so that, each carrying mass 1, they cover the n
 * targets:
 *   f(P) = max_G <S_P, G> + reg H(G)  s.t.  G 1 = 1_|P|,  G^T 1 <= (k/n) 1_n
 * with H(G) = -sum G log G. f is submodular (and monotone when S >= 0); at
 * |P| = k it is the uniform-weight entropic OT objective. Each added
 * prototype triggers a warm-started log-domain solve (lib/ot). Use it with
 * any optimizer, with a budget of at most k. The objective counts as
 * monotone (SUBSEL_STOP_AUTO fills the budget) when every similarity is
 * >= 0; when some are negative, gains can be negative and AUTO stops at the
 * first nonpositive one: set SUBSEL_P_STOP_NONPOSITIVE to
 * SUBSEL_STOP_NEVER for k prototypes whatever the gains (adding a constant
 * to S adds it to every gain and does not change the greedy order). */

/* Similarities between feature rows. */
#define SUBSEL_SIM_COSINE 0       /* cos(x, y); 0 for a zero row          */
#define SUBSEL_SIM_DOT 1          /* x . y                                */
#define SUBSEL_SIM_NEG_SQEUCLID 2 /* -|x - y|^2                           */
#define SUBSEL_SIM_NEG_EUCLID 3   /* -|x - y|: the plain Euclidean cost   */

/* Marginal gains the optimizers see. */
#define SUBSEL_UNIPROT_GAIN_APPROX 0 /* the paper's: the best entropic
        placement of the new prototype's mass into the residual capacities
        r = max(k/n - G_P^T 1, 0) with the current plan fixed,
        max_{a >= 0, sum a = 1, a <= r} <S_v, a> + reg H(a), solved in
        closed form (water-filling); equals the exact gain at P = {} and
        never exceeds it. Default. */
#define SUBSEL_UNIPROT_GAIN_EXACT 1  /* f(P + v) - f(P) by a solve per
        candidate: for small problems and tests. */

/* How the state follows an added prototype. */
#define SUBSEL_UNIPROT_UPDATE_SOLVE 0  /* re-solve f(P + v), warm-started
        (Newton's method on the prototypes' potentials): the state always
        holds the optimal plan of its set. Default. */
#define SUBSEL_UNIPROT_UPDATE_APPEND 1 /* append v's water-filling row (the
        maximiser of its approximate gain) to the current plan, with no
        re-solve: O(n) per prototype. The state's value is then the value
        of that appended plan, a lower bound of f(P) that depends on the
        order of insertion; approximate gains are its exact marginal gains
        and never increase, so lazy greedy equals naive greedy. The gain
        option is ignored. */

/* Parameters of a UniPROT objective (SUBSEL_KIND_UNIPROT), set with
 * subsel_param_set_int() / _real() or the setters below. */
#define SUBSEL_P_UNIPROT_GAIN 501 /* "gain": SUBSEL_UNIPROT_GAIN_*, [0, 1],
        default APPROX. Integer. */
#define SUBSEL_P_UNIPROT_UPDATE 502 /* "update": SUBSEL_UNIPROT_UPDATE_*,
        [0, 1], default SOLVE. Integer. */
#define SUBSEL_P_UNIPROT_TOL 503 /* "tol": see
        subsel_uniprot_set_tolerance(). [1e-15, 1e-2], default 1e-9. Real. */
#define SUBSEL_P_UNIPROT_MAX_ITER 504 /* "max_iter": see
        subsel_uniprot_set_max_iterations(). [1, 10^9], default 1000.
        Integer. */
#define SUBSEL_P_UNIPROT_GAIN_MEMORY 505 /* "gain_memory": bytes the
        objective may keep its rows' water-filling weights in (|S| x n
        floats, made by the first run that asks for the approximate gains
        of 512 rows or more at once, as naive and stochastic greedy do,
        each row's filled from its second gain on, shared by later and
        concurrent runs, freed with the objective), [0, INT64_MAX],
        default 512 MiB; they count toward SUBSEL_P_MEMORY_LIMIT. When
        they need more, every gain makes them again: slower, the same
        results. Integer. */

/*! subsel_uniprot_create() :
 * UniPROT over the rows of `similarity` (|S| x n), which the objective
 * keeps (a reference: the caller may free it at once; arrays it borrowed
 * must stay valid and unchanged until the objective is freed), with k
 * prototypes (1 <= k <= |S|) and regularisation reg
 * (> 0). Defaults: approximate gains, re-solved updates, solver
 * tolerance 1e-9, at most 1000 Newton steps per solve.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not a dense matrix, empty
 *         matrix, k or reg out of range), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_uniprot_create(subsel_ctx *ctx,
                                     const subsel_dense *similarity,
                                     int64_t k, double reg,
                                     subsel_objective **out);

/*! subsel_uniprot_create_from_features() :
 * As subsel_uniprot_create() with S = similarity(source_i, target_j)
 * (SUBSEL_SIM_*) between the rows of source (|S| x d) and target (n x d),
 * computed here with one BLIS product and owned by the objective (|S| n
 * floats); source and target are not kept. Cosines are computed from the
 * rows scaled to unit length first, so they exist for any finite rows; a
 * dot product or squared distance that does not fit float is an error
 * naming its source and target rows.
 * @return as subsel_uniprot_create(); SUBSEL_E_INVALID also for different
 *         column counts or an unknown similarity; SUBSEL_E_NUMERIC for a
 *         similarity beyond float. */
SUBSEL_API int subsel_uniprot_create_from_features(subsel_ctx *ctx,
                                                   const subsel_dense *source,
                                                   const subsel_dense *target,
                                                   int similarity, int64_t k,
                                                   double reg,
                                                   subsel_objective **out);

/*! subsel_uniprot_set_gain() :
 * Chooses SUBSEL_UNIPROT_GAIN_APPROX or SUBSEL_UNIPROT_GAIN_EXACT (the
 * parameter SUBSEL_P_UNIPROT_GAIN).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL ctx, not a UniPROT objective,
 *         unknown gain: the message names the function and what was
 *         wrong). */
SUBSEL_API int subsel_uniprot_set_gain(subsel_ctx *ctx, subsel_objective *obj,
                                       int gain);

/*! subsel_uniprot_set_update() :
 * Chooses SUBSEL_UNIPROT_UPDATE_SOLVE or SUBSEL_UNIPROT_UPDATE_APPEND
 * (SUBSEL_P_UNIPROT_UPDATE).
 * @return as subsel_uniprot_set_gain(). */
SUBSEL_API int subsel_uniprot_set_update(subsel_ctx *ctx,
                                         subsel_objective *obj, int update);

/*! subsel_uniprot_set_tolerance() :
 * L1 row violation at which each solve stops, relative to the rows' mass
 * (every prototype ships 1), [1e-15, 1e-2], default 1e-9
 * (SUBSEL_P_UNIPROT_TOL). A solve also
 * stops at its floating-point floor (the rounding of the row sums, about
 * 8 eps |P| ((max |S| + max |f| + max |g|) / reg + log2 n)) when that is
 * larger; columns always meet their caps up to rounding.
 * @return as subsel_uniprot_set_gain(). */
SUBSEL_API int subsel_uniprot_set_tolerance(subsel_ctx *ctx,
                                            subsel_objective *obj, double tol);

/*! subsel_uniprot_set_max_iterations() :
 * Cap on the Newton steps of each solve, [1, 10^9], default 1000
 * (SUBSEL_P_UNIPROT_MAX_ITER; a
 * handful is typical from a warm start, tens when targets sit on their
 * caps; a solve that has not converged after 100 steps follows the optima
 * from reg = the similarity range down, some tens of steps per decade). A
 * solve that does not converge within the cap fails with SUBSEL_E_NUMERIC
 * and a message saying so.
 * @return as subsel_uniprot_set_gain(). */
SUBSEL_API int subsel_uniprot_set_max_iterations(subsel_ctx *ctx,
                                                 subsel_objective *obj,
                                                 int64_t iterations);

/*! subsel_uniprot_plan_v2() :
 * Solves f(set) for `count` distinct rows (count <= k) from scratch and
 * writes its value and, when plan is not NULL, the optimal plan G
 * (count x n row-major; row i belongs to set[i]) into plan, which holds
 * plan_capacity doubles (ignored when plan is NULL).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (not a UniPROT objective, bad set,
 *         plan_capacity < count x n: nothing is written then),
 *         SUBSEL_E_NUMERIC (no convergence), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_uniprot_plan_v2(subsel_ctx *ctx,
                                      const subsel_objective *obj,
                                      const int64_t *set, int64_t count,
                                      double *plan, int64_t plan_capacity,
                                      double *value);

/*! subsel_uniprot_transport_similarity() :
 * The UniPROT paper's objective of a set, f = <S_P, G>: the similarity the
 * optimal entropic plan G of f(set) carries (count distinct rows, count <=
 * k; solved from scratch as subsel_uniprot_plan_v2() does, without storing
 * G), without the entropy term. *value, when value is not NULL, receives
 * the entropic value f(set) = <S_P, G> + reg H(G) itself, which the gains
 * and the optimizers work with. An empty set gives 0 and 0.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL similarity, not a UniPROT
 *         objective, bad set), SUBSEL_E_NUMERIC (no convergence),
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_uniprot_transport_similarity(subsel_ctx *ctx,
                                                   const subsel_objective *obj,
                                                   const int64_t *set,
                                                   int64_t count,
                                                   double *similarity,
                                                   double *value);

/*! subsel_uniprot_plan() :
 * Deprecated: subsel_uniprot_plan_v2() without a capacity (plan, when not
 * NULL, must hold count x n values). */
SUBSEL_API int subsel_uniprot_plan(subsel_ctx *ctx,
                                   const subsel_objective *obj,
                                   const int64_t *set, int64_t count,
                                   double *plan, double *value);

/*! subsel_uniprot_select_batch() :
 * Per-batch UniPROT (UniPROT-PB): selects k = round(fraction * B) (at
 * least 1) rows of a batch (B x d, for example per-example gradient
 * features) as prototypes of the batch itself (source = target = batch),
 * fast enough for every training step: greedy (lazy, which here equals
 * naive) with approximate gains and SUBSEL_UNIPROT_UPDATE_APPEND, without
 * any OT solve. The selection lists rows in the order chosen with their
 * gains, and its value is that of the appended plan (a lower bound of
 * f(selection); subsel_uniprot_plan() solves f if it is wanted).
 * fraction in (0, 1], reg > 0, similarity one of SUBSEL_SIM_*. Threads:
 * the context's.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NUMERIC, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_uniprot_select_batch(subsel_ctx *ctx,
                                           const subsel_dense *batch,
                                           double fraction, double reg,
                                           int similarity,
                                           subsel_selection **out);

/*! subsel_uniprot_select_batch_v2() :
 * The per-batch modes of the UniPROT paper's supplement. With sources NULL,
 * UniPROT-PB: k = round(fraction * B) (at least 1) rows of the batch (B x d)
 * as prototypes of the whole batch. With sources (B int64 labels, for
 * example the dataset each example comes from), UniPROT-PS: for each
 * source q, round(fraction * B_q) (at least 1) of its B_q rows as
 * prototypes of that source's rows. update SUBSEL_UNIPROT_UPDATE_SOLVE
 * re-solves the partial OT problem after every prototype, as the paper
 * does (naive greedy: bounds could lie after a solve);
 * SUBSEL_UNIPROT_UPDATE_APPEND appends water-filling rows without any
 * solve (lazy greedy, which equals naive greedy there), as
 * subsel_uniprot_select_batch() does: tens of times faster. Approximate
 * gains. The selection lists batch rows, source by source in increasing
 * label order, each source's in the order chosen, with their gains; its
 * value is the sum over the sources of their final values (f of each
 * source's prototypes with SOLVE, the appended plans' values with APPEND).
 * fraction in (0, 1], reg > 0, similarity one of SUBSEL_SIM_*. Threads:
 * the context's.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, empty batch, bad fraction,
 *         reg, similarity or update), SUBSEL_E_NUMERIC (a similarity beyond
 *         float, naming its rows; a solve that does not converge),
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_uniprot_select_batch_v2(subsel_ctx *ctx,
                                              const subsel_dense *batch,
                                              const int64_t *sources,
                                              double fraction, double reg,
                                              int similarity, int update,
                                              subsel_selection **out);

/*! subsel_nn_accuracy() :
 * The evaluation of the UniPROT paper: each target row takes the label of
 * its most similar prototype (rows prototypes[0..count) of source; ties to
 * the earliest prototype), and *accuracy is the fraction of targets whose
 * label that is. Labels are arbitrary int64 values. similarity is one of
 * SUBSEL_SIM_*.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, count < 1, prototype index out
 *         of range, column counts differ), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_nn_accuracy(subsel_ctx *ctx, const subsel_dense *source,
                                  const int64_t *source_labels,
                                  const int64_t *prototypes, int64_t count,
                                  const subsel_dense *target,
                                  const int64_t *target_labels,
                                  int similarity, double *accuracy);

/* ------------------------------------------------------------------------ */
/* TAROT: whitened feature distance and OT-based targeted selection         */
/* ------------------------------------------------------------------------ */

/* TAROT (Feng et al., "Targeted Data Selection via Optimal Transport"):
 * from a pool of N candidates, select the data that best matches a set of M
 * targets. Both are rows of feature matrices with the same number of
 * columns (typically per-example loss gradients summed over checkpoints).
 * The pipeline: an optional seeded random projection, joint centring,
 * whitening (Cholesky or ZCA) and unit normalisation give the whitened rows
 * U (candidates) and V (targets); the cosine score U V^T ranks the
 * neighbours of every target, and balanced entropic optimal transport with
 * cost |u - v| between sets measures how well a selection matches the
 * targets. docs/tarot.md gives every rule, including where the
 * reference-compatible mode differs from the default. */
typedef struct subsel_tarot subsel_tarot;

/* Random projection kinds (SUBSEL_P_TAROT_PROJ_KIND). */
#define SUBSEL_PROJ_RADEMACHER 0 /* entries +1 or -1, equally likely      */
#define SUBSEL_PROJ_GAUSSIAN 1   /* entries standard normal               */

/* Whitening methods (SUBSEL_P_TAROT_WHITEN). */
#define SUBSEL_WHITEN_NONE 0     /* centre (if enabled) and normalise only */
#define SUBSEL_WHITEN_CHOLESKY 1 /* x L^-T with C = L L^T (triangular solve) */
#define SUBSEL_WHITEN_ZCA 2      /* x C^-1/2 (symmetric eigendecomposition) */

/* Parameters of a TAROT selector (SUBSEL_KIND_TAROT), set with
 * subsel_param_set_int() / _real() or subsel_tarot_set_int() / _double().
 * The projection and whitening parameters (PROJ_*, WHITEN, CENTER, EPS)
 * can only be changed before the rows are whitened. */
#define SUBSEL_P_TAROT_PROJ_DIM 301 /* "proj_dim": random projection to
                                     this many columns first, [0, 1048576];
                                     0 (default): no projection. Whitening
                                     needs about 8 dim^2 bytes: see
                                     subsel_tarot_whiten. Integer.          */
#define SUBSEL_P_TAROT_PROJ_KIND 302 /* "proj_kind": SUBSEL_PROJ_*, default
                                     RADEMACHER. Integer.                   */
#define SUBSEL_P_TAROT_PROJ_BLOCK 303 /* "proj_block": input columns of the
                                     projection matrix held in memory at
                                     once, [0, INT64_MAX]; 0 (default): as
                                     many as fit in 64 MiB. Does not change
                                     the result. Integer.                   */
#define SUBSEL_P_TAROT_WHITEN 304 /* "whiten": SUBSEL_WHITEN_*, default
                                     CHOLESKY. Integer.                     */
#define SUBSEL_P_TAROT_CENTER 305 /* "center": subtract the mean of
                                     candidates and targets together, 0 or
                                     1, default 1. Integer.                 */
#define SUBSEL_P_TAROT_REFERENCE 306 /* "reference": 1: reproduce the
                                     authors' code where it differs from
                                     the default (fixed-size fill keeps the
                                     largest potentials; OTM keeps the set
                                     one step past the minimum and counts
                                     only neighbours of positive score). 0
                                     or 1, default 0. Integer.              */
#define SUBSEL_P_TAROT_MAX_RANK 307 /* "max_rank": deepest neighbour rank
                                     OTM grows to, [1, INT64_MAX], default
                                     2000 (at most N is used). Integer.     */
#define SUBSEL_P_TAROT_POTENTIALS 308 /* "potentials": solve OT(selection,
                                     targets) after a selection, for its
                                     value and gains; 0 or 1, default 1.
                                     Integer.                               */
#define SUBSEL_P_TAROT_EPS 309    /* "eps": added to the covariance
                                     diagonal (absolute), [0, 1e30],
                                     default 1e-5. Real.                    */
#define SUBSEL_P_TAROT_BLUR 310   /* "blur": OT blur: the last entropic
                                     temperature is blur^2, [1e-6, 1e6],
                                     default 0.01. Real.                    */
#define SUBSEL_P_TAROT_SCALING 311 /* "scaling": OT annealing factor: each
                                     temperature is the previous times
                                     scaling^2, [0.01, 0.99], default 0.5.
                                     Real.                                  */
#define SUBSEL_P_TAROT_OT_MEMORY 312 /* "ot_memory": bytes each OT solve
                                     of a selection (each fold of OTM, its
                                     solves sharing them) may store its
                                     costs in, in float, [0, INT64_MAX],
                                     default 512 MiB. Costs that do not
                                     fit are recomputed at every pass
                                     (slower; the same results). Peak
                                     memory is about the inputs, the
                                     whitened targets and this. Integer.   */

#ifndef SUBSEL_NO_DEPRECATED
/* Deprecated names; subsel_tarot_set_int() ... still accept 0.6's numbers
 * 1 to 11 for them. */
#define SUBSEL_TAROT_PROJ_DIM SUBSEL_P_TAROT_PROJ_DIM
#define SUBSEL_TAROT_PROJ_KIND SUBSEL_P_TAROT_PROJ_KIND
#define SUBSEL_TAROT_PROJ_BLOCK SUBSEL_P_TAROT_PROJ_BLOCK
#define SUBSEL_TAROT_WHITEN SUBSEL_P_TAROT_WHITEN
#define SUBSEL_TAROT_CENTER SUBSEL_P_TAROT_CENTER
#define SUBSEL_TAROT_REFERENCE SUBSEL_P_TAROT_REFERENCE
#define SUBSEL_TAROT_MAX_RANK SUBSEL_P_TAROT_MAX_RANK
#define SUBSEL_TAROT_POTENTIALS SUBSEL_P_TAROT_POTENTIALS
#define SUBSEL_TAROT_EPS SUBSEL_P_TAROT_EPS
#define SUBSEL_TAROT_BLUR SUBSEL_P_TAROT_BLUR
#define SUBSEL_TAROT_SCALING SUBSEL_P_TAROT_SCALING
#endif

/*! subsel_tarot_create() :
 * A TAROT selector over the rows of `candidates` (N x D) and `targets`
 * (M x D), which the selector keeps (references: the caller may free them
 * at once; arrays they borrowed must stay valid and unchanged until the
 * selector and every view of it are freed). N and M must be at least 1
 * and D at least 1. Threads: one thread at a time per selector (its
 * calls fill caches: the whitened rows, the neighbour lists); its whitened
 * views are plain matrices (see subsel_tarot_whiten()).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not a dense matrix, empty
 *         matrix, column counts differ), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_tarot_create(subsel_ctx *ctx,
                                   const subsel_dense *candidates,
                                   const subsel_dense *targets,
                                   subsel_tarot **out);

/*! subsel_tarot_free() :
 * Releases the caller's reference on a selector; it is destroyed, with its
 * references on the candidates and targets, once its whitened views are
 * freed too. NULL is a no-op. */
SUBSEL_API void subsel_tarot_free(subsel_tarot *tarot);

/*! subsel_tarot_set_int() / subsel_tarot_set_double() :
 * Set a parameter of the right type within its bounds, without a context:
 * `param` is a SUBSEL_P_TAROT_* number or its 0.6 number (1 to 11). Kept
 * for 0.6 programs (see subsel_param_set_int()).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not a TAROT selector, not one
 *         of its parameters, wrong type, value out of bounds: the parameter
 *         is then unchanged), SUBSEL_E_STATE (a projection or whitening
 *         parameter after the rows were whitened). The message is the
 *         thread's: subsel_ctx_last_error(NULL). */
SUBSEL_API int subsel_tarot_set_int(subsel_tarot *tarot, int param,
                                    int64_t value);
SUBSEL_API int subsel_tarot_set_double(subsel_tarot *tarot, int param,
                                       double value);

/*! subsel_tarot_get_int() / subsel_tarot_get_double() :
 * Read a parameter (numbers as for subsel_tarot_set_int()).
 * @return SUBSEL_OK or SUBSEL_E_INVALID (message for the thread). */
SUBSEL_API int subsel_tarot_get_int(const subsel_tarot *tarot, int param,
                                    int64_t *value);
SUBSEL_API int subsel_tarot_get_double(const subsel_tarot *tarot, int param,
                                       double *value);

/*! subsel_tarot_param_bounds() :
 * Writes a parameter's bounds and default as doubles (INT64_MAX reads as
 * 9.2e18; numbers as for subsel_tarot_set_int()); any out-pointer may be
 * NULL. @return SUBSEL_OK or SUBSEL_E_INVALID (message for the thread). */
SUBSEL_API int subsel_tarot_param_bounds(int param, double *min_value,
                                         double *max_value,
                                         double *default_value);

/*! subsel_tarot_project() :
 * The seeded random projection y = x P / sqrt(dim) of every row of `x`
 * (rows x D) to `dim` columns, P (D x dim) having independent Rademacher or
 * Gaussian entries (`kind`, SUBSEL_PROJ_*) drawn from the context's seed.
 * Row j of P depends only on the seed and j, and P is generated in blocks
 * of `block` input columns (0: as many as fit in 64 MiB) and never held
 * whole when it does not fit. A row's projection depends only on the row,
 * the seed, dim and kind: not on the block size, the thread count or the
 * other rows, so a pool can be projected in batches of rows.
 * Progress: stage "project" (chunks of 256 input columns) from 0 to all.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, dim outside [1, 1048576],
 *         unknown kind, block < 0), SUBSEL_E_CANCELLED,
 *         SUBSEL_E_NUMERIC (a projected value overflows float),
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_tarot_project(subsel_ctx *ctx, const subsel_dense *x,
                                    int64_t dim, int kind, int64_t block,
                                    subsel_dense **out);

/*! subsel_tarot_whiten() :
 * Computes the whitening, once: projection (if set), then the mean of all
 * N + M rows is subtracted (if SUBSEL_TAROT_CENTER), then with the
 * covariance C = X^T X / (N + M) + eps I of the centred rows, the rows are
 * whitened (x L^-T or x C^-1/2, in double precision) and scaled to unit
 * length (rows that are exactly zero stay zero). Both whitenings give the
 * same inner products. The whitened targets are kept; so are the
 * candidates when projected. Unprojected candidates are whitened again
 * when needed, a bounded block at a time, to the same bits: the selector
 * keeps no N x dim copy of them unless `u` asks for one. Later calls
 * return at once. If `u` (`v`) is not NULL, *u (*v) receives a new matrix
 * handle reading the whitened candidates (targets), N (M) x dim, which
 * the caller frees with subsel_dense_free() (the candidates' rows are
 * then whitened whole and kept by the selector). A view keeps the
 * selector alive (it holds a reference), so it stays valid after
 * subsel_tarot_free(); like any matrix it may be read by several threads
 * at once. Progress: stage "project" (chunks of 256 input columns,
 * candidates then targets) and "whiten" (the N + M rows the covariance
 * reads, when one is formed, then the rows whitened and kept: M, or N + M
 * when projected), each from 0 to its total. Before any work, the memory the whole computation needs (about
 * dim^2 doubles for the covariance, 3 dim^2 for ZCA, plus 4 or 8 bytes per
 * row and column) is compared with the machine's physical memory, and
 * everything it holds whole is allocated, so that a size that cannot fit
 * fails at once.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NUMERIC (covariance not
 *         positive definite: raise eps), SUBSEL_E_CANCELLED (the selector is
 *         then as before the call), SUBSEL_E_NOMEM (also, before any work,
 *         when the whitening needs more memory than the machine has: the
 *         message says how much; lower SUBSEL_TAROT_PROJ_DIM). */
SUBSEL_API int subsel_tarot_whiten(subsel_ctx *ctx, subsel_tarot *tarot,
                                   subsel_dense **u, subsel_dense **v);

/*! subsel_tarot_scores_v2() :
 * For candidates [first_candidate, first_candidate + candidates) and
 * targets [first_target, first_target + targets), writes the cosine scores
 * u . v to scores[i * targets + j] and, if `distances` is not NULL, the
 * whitened feature distances |u - v| to distances[i * targets + j]
 * (float, from the same score). A score is exact: the dot product of the
 * two whitened rows accumulated in double in a fixed order and rounded
 * once to float, the same bits on every instruction set and thread count
 * and the same as subsel_tarot_topk_v2()'s. scores and distances hold
 * scores_capacity and distances_capacity floats (the latter ignored when
 * distances is NULL). Whitens first if needed.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL scores, range outside the
 *         pool, a capacity below candidates x targets: nothing is written
 *         then), and the errors of subsel_tarot_whiten(). */
SUBSEL_API int subsel_tarot_scores_v2(subsel_ctx *ctx, subsel_tarot *tarot,
                                      int64_t first_candidate,
                                      int64_t candidates, int64_t first_target,
                                      int64_t targets, float *scores,
                                      int64_t scores_capacity,
                                      float *distances,
                                      int64_t distances_capacity);

/*! subsel_tarot_scores() :
 * Deprecated: subsel_tarot_scores_v2() without capacities (each buffer
 * must hold candidates x targets values). */
SUBSEL_API int subsel_tarot_scores(subsel_ctx *ctx, subsel_tarot *tarot,
                                   int64_t first_candidate,
                                   int64_t candidates, int64_t first_target,
                                   int64_t targets, float *scores,
                                   float *distances);

/*! subsel_tarot_topk_v2() :
 * For every target j, its k best candidates by score, best first (ties to
 * the lower candidate index): indices[j * k + r] is the rank-r candidate
 * and scores[j * k + r] (if `scores` is not NULL) its score; indices and
 * scores hold indices_capacity and scores_capacity values (the latter
 * ignored when scores is NULL). Scores are exact, as
 * subsel_tarot_scores_v2()'s (the same bits): a fast product (bfloat16
 * where the CPU has AVX512_BF16, else single precision) only screens out
 * candidates that its error bound shows cannot rank, so the lists do not
 * depend on the CPU. Blockwise: the N x M score matrix is never
 * held whole; memory is O(M k) plus fixed-size blocks per thread. The
 * result is kept (O(M k)) so that a later selection needing at most k
 * ranks reuses it. Whitens first if needed. Progress: stage "topk"
 * (the share of the search done, counted in targets) from 0 to M.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL indices, k < 1 or k > N, a
 *         capacity below M x k: nothing is written then),
 *         SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM, and the errors of
 *         subsel_tarot_whiten(). */
SUBSEL_API int subsel_tarot_topk_v2(subsel_ctx *ctx, subsel_tarot *tarot,
                                    int64_t k, int64_t *indices,
                                    int64_t indices_capacity, float *scores,
                                    int64_t scores_capacity);

/*! subsel_tarot_topk() :
 * Deprecated: subsel_tarot_topk_v2() without capacities (each buffer must
 * hold M x k values). */
SUBSEL_API int subsel_tarot_topk(subsel_ctx *ctx, subsel_tarot *tarot,
                                 int64_t k, int64_t *indices, float *scores);

/*! subsel_tarot_ot_v2() :
 * Balanced OT between the whitened candidates set[0..count) (uniform
 * weights; set NULL with count N: all candidates, in order) and all the
 * targets, with cost |u - v|, by log-domain Sinkhorn annealed from the
 * squared diameter of the two clouds down to blur^2 (geomloss's schedule).
 * Writes the potentials f (count values, may be NULL) and g (M values, may
 * be NULL), into buffers of f_capacity and g_capacity doubles, and the
 * loss mean(f) + mean(g) (may be NULL). A potential f_i is what candidate
 * i's mass costs to ship: smaller is more useful.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (count < 1, index out of range,
 *         f_capacity < count or g_capacity < M: nothing is written then),
 *         SUBSEL_E_NUMERIC, SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM, and the
 *         errors of subsel_tarot_whiten(). */
SUBSEL_API int subsel_tarot_ot_v2(subsel_ctx *ctx, subsel_tarot *tarot,
                                  const int64_t *set, int64_t count,
                                  double *f, int64_t f_capacity, double *g,
                                  int64_t g_capacity, double *loss);

/*! subsel_tarot_ot() :
 * Deprecated: subsel_tarot_ot_v2() without capacities (f and g, when not
 * NULL, must hold count and M values). */
SUBSEL_API int subsel_tarot_ot(subsel_ctx *ctx, subsel_tarot *tarot,
                               const int64_t *set, int64_t count, double *f,
                               double *g, double *loss);

/*! subsel_tarot_select_fixed() :
 * Fixed-size selection of `budget` candidates: the rank-1 neighbours of
 * every target, then the rank-2 ones, ... are added rank by rank while the
 * union fits the budget; on the rank that would overflow it, the remaining
 * places go to that rank's new candidates with the smallest potentials in
 * OT(those candidates, targets) (the largest with SUBSEL_P_TAROT_REFERENCE).
 * Nothing is added once the budget is met exactly. The selection lists the
 * items in the order added (ascending index within a rank, then the fill
 * by preference); with SUBSEL_P_TAROT_POTENTIALS its gains are the items'
 * potentials in OT(selection, targets) and its value that OT distance
 * (else NaN); its budget (subsel_selection_budget()) is `budget`, which
 * it always holds. Progress: stage "select" (places filled, budget) from 0
 * to the budget, with stage "topk" (deepening the neighbour lists) inside.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (budget < 0 or > N),
 *         SUBSEL_E_CANCELLED, SUBSEL_E_NUMERIC, SUBSEL_E_NOMEM, and the
 *         errors of subsel_tarot_whiten(). */
SUBSEL_API int subsel_tarot_select_fixed(subsel_ctx *ctx, subsel_tarot *tarot,
                                         int64_t budget,
                                         subsel_selection **out);

/*! subsel_tarot_folds_v2() :
 * The fold (0 .. folds - 1) of each of `targets` targets as OTM draws it
 * from the context's seed: a seeded shuffle cut into `folds` consecutive
 * parts, the first targets % folds of them one larger. Written to
 * fold_of_target[0..targets), a buffer of `capacity` values.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, folds < 2 or > targets,
 *         capacity < targets: nothing is written then), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_tarot_folds_v2(subsel_ctx *ctx, int64_t targets,
                                     int64_t folds, int64_t *fold_of_target,
                                     int64_t capacity);

/*! subsel_tarot_folds() :
 * Deprecated: subsel_tarot_folds_v2() without a capacity (fold_of_target
 * must hold `targets` values). */
SUBSEL_API int subsel_tarot_folds(subsel_ctx *ctx, int64_t targets,
                                  int64_t folds, int64_t *fold_of_target);

/*! subsel_tarot_select_otm() :
 * OT-distance minimisation: for each of `folds` folds of the targets, the
 * fold's targets add their rank-k neighbours for k = 1, 2, ... and the
 * set's OT distance to the targets of the other folds is measured after
 * each k; growth stops when the distance stops decreasing (or at rank
 * SUBSEL_P_TAROT_MAX_RANK), keeping the set at the minimum (one step past it
 * with SUBSEL_P_TAROT_REFERENCE). The selection is the union over folds, in
 * ascending order, with gains and value as for subsel_tarot_select_fixed().
 * `fold_of_target` (M values in [0, folds), every fold non-empty) gives the
 * split, or is NULL for subsel_tarot_folds_v2()'s. OTM chooses its own size:
 * the selection's budget is its count. Progress: stage "otm" (folds done,
 * folds; repeated after each OT solve) from 0 to folds, with stage "topk"
 * inside. @return SUBSEL_OK, SUBSEL_E_INVALID (folds < 2 or > M, bad or
 *         empty fold), SUBSEL_E_CANCELLED, SUBSEL_E_NUMERIC,
 *         SUBSEL_E_NOMEM, and the errors of subsel_tarot_whiten(). */
SUBSEL_API int subsel_tarot_select_otm(subsel_ctx *ctx, subsel_tarot *tarot,
                                       int64_t folds,
                                       const int64_t *fold_of_target,
                                       subsel_selection **out);

/* The largest total of subsel_tarot_weights*() and _reference*(): 2^53, up to
 * which the shares are exact in double precision. */
#define SUBSEL_LIMIT_TAROT_WEIGHT_TOTAL INT64_C(9007199254740992)
#ifndef SUBSEL_NO_DEPRECATED
/* Its name in 0.6 (a limit, not a parameter: renamed to keep SUBSEL_TAROT_
 * free of anything but deprecated parameter names). */
#define SUBSEL_TAROT_MAX_WEIGHT_TOTAL SUBSEL_LIMIT_TAROT_WEIGHT_TOTAL
#endif

/*! subsel_tarot_weights_v2() :
 * Integer repetition counts for `count` selected items from their OT
 * potentials (a TAROT selection's gains), summing exactly to `total`
 * (at least count, at most SUBSEL_LIMIT_TAROT_WEIGHT_TOTAL; the paper uses
 * N + M): every item gets 1, and the
 * other total - count repetitions are shared in proportion to
 * max(potentials) - potential_i (a smaller potential is more useful; the
 * rule depends only on differences of potentials, so their sign does not
 * matter), by largest remainders, ties to the lower position; equal
 * potentials share them equally. Writes weights[0..count), a buffer of
 * `capacity` values (weights may be NULL when count is 0).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, total < count or above
 *         SUBSEL_LIMIT_TAROT_WEIGHT_TOTAL, capacity < count: nothing is
 *         written then), SUBSEL_E_NUMERIC (NaN/Inf potential),
 *         SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_tarot_weights_v2(subsel_ctx *ctx,
                                       const double *potentials, int64_t count,
                                       int64_t total, int64_t *weights,
                                       int64_t capacity);

/*! subsel_tarot_weights() :
 * Deprecated: subsel_tarot_weights_v2() without a capacity (weights must
 * hold `count` values). */
SUBSEL_API int subsel_tarot_weights(subsel_ctx *ctx, const double *potentials,
                                    int64_t count, int64_t total,
                                    int64_t *weights);

/*! subsel_tarot_weights_reference_v2() :
 * The authors' rule: the potentials extended by `targets` copies of their
 * maximum (the targets join the training set), negative values clamped to
 * 0, scaled to sum to `total` (the authors use the pool size N), floored,
 * and the remainder given one each to the largest fractional parts (ties
 * to the lower position). Writes count + targets weights (the targets'
 * last) into a buffer of `capacity` values; all-zero values share `total`
 * equally.
 * @return as subsel_tarot_weights_v2() (0 <= total <=
 *         SUBSEL_LIMIT_TAROT_WEIGHT_TOTAL here; capacity < count + targets
 *         fails). */
SUBSEL_API int subsel_tarot_weights_reference_v2(subsel_ctx *ctx,
                                                 const double *potentials,
                                                 int64_t count,
                                                 int64_t targets,
                                                 int64_t total,
                                                 int64_t *weights,
                                                 int64_t capacity);

/*! subsel_tarot_weights_reference() :
 * Deprecated: subsel_tarot_weights_reference_v2() without a capacity
 * (weights must hold count + targets values). */
SUBSEL_API int subsel_tarot_weights_reference(subsel_ctx *ctx,
                                              const double *potentials,
                                              int64_t count, int64_t targets,
                                              int64_t total,
                                              int64_t *weights);

/* ------------------------------------------------------------------------ */
/* ClipCov and double greedy                                                */
/* ------------------------------------------------------------------------ */

/* ClipCov (Joshi et al., Data-Efficient Multi-Modal Contrastive Learning)
 * selects image-caption pairs whose cross-covariance matches the full
 * pool's, from the paired embeddings x_V (images) and x_L (captions) of a
 * proxy CLIP model. With sim(i, j) = x_V(i).x_L(j) + x_V(j).x_L(i), latent
 * classes V_k and S_k = S cap V_k, the objective is
 *   F(S) = w_intra F_intra - w_inter F_inter - w_reg F_intra^reg
 *        + w_self F_self + w_label alpha F_label
 *   F_intra = sum_k (1/|V_k|) (sum_{i in S_k, j in V_k} sim(i, j)
 *                              - 1/2 sum_{i, j in S_k} sim(i, j))
 *   F_self  = sum_{i in S} sim(i, i)
 *   F_inter = sum_{k1 != k2} sum_{i in S_k1} (1/|V_k2|) sum_{j in V_k2} sim(i, j)
 *   F_intra^reg = sum_k (1/|V_k|^2) sum_{i in S_k, j in V_k} sim(i, j)
 *   F_label = sum_k sum_{i in S_k} x_L(i).y_k (1 - 1/|V_k|)
 * (sums over pairs run over ordered pairs, i = j included). F is not
 * monotone; it is submodular exactly when w_intra = 0 or sim(i, j) >= 0 for
 * every two distinct pairs of one class. See docs/clipcov.md. */

/* Terms of the objective, for subsel_clipcov_set_weight(). */
#define SUBSEL_CLIPCOV_TERM_INTRA 0 /* F_intra                             */
#define SUBSEL_CLIPCOV_TERM_SELF 1  /* F_self                              */
#define SUBSEL_CLIPCOV_TERM_INTER 2 /* F_inter (subtracted)                */
#define SUBSEL_CLIPCOV_TERM_REG 3   /* F_intra^reg (subtracted)            */
#define SUBSEL_CLIPCOV_TERM_LABEL 4 /* F_label (also scaled by alpha)      */
#define SUBSEL_CLIPCOV_TERM_COUNT 5 /* the number of terms                 */

/* Parameters of a ClipCov objective (SUBSEL_KIND_CLIPCOV), set with
 * subsel_param_set_real() or subsel_clipcov_set_weight() / _alpha(). All
 * real, finite and >= 0 ([0, inf)); setting one costs O(n). */
#define SUBSEL_P_CLIPCOV_WEIGHT_INTRA 601 /* "weight_intra", default 1     */
#define SUBSEL_P_CLIPCOV_WEIGHT_SELF 602  /* "weight_self", default 1      */
#define SUBSEL_P_CLIPCOV_WEIGHT_INTER 603 /* "weight_inter", default 1     */
#define SUBSEL_P_CLIPCOV_WEIGHT_REG 604   /* "weight_reg", default 1       */
#define SUBSEL_P_CLIPCOV_WEIGHT_LABEL 605 /* "weight_label", default 1     */
#define SUBSEL_P_CLIPCOV_ALPHA 606        /* "alpha": the factor of
                                             F_label, default 0.5          */

#ifndef SUBSEL_NO_DEPRECATED
/* Deprecated names of the terms (same numbers). */
#define SUBSEL_CLIPCOV_INTRA SUBSEL_CLIPCOV_TERM_INTRA
#define SUBSEL_CLIPCOV_SELF SUBSEL_CLIPCOV_TERM_SELF
#define SUBSEL_CLIPCOV_INTER SUBSEL_CLIPCOV_TERM_INTER
#define SUBSEL_CLIPCOV_REG SUBSEL_CLIPCOV_TERM_REG
#define SUBSEL_CLIPCOV_LABEL SUBSEL_CLIPCOV_TERM_LABEL
#define SUBSEL_CLIPCOV_TERMS SUBSEL_CLIPCOV_TERM_COUNT
#endif

/*! subsel_clipcov_create() :
 * The ClipCov objective over n image-caption pairs: `image` and `text` are
 * n x d (row i of each is pair i), `label_embeddings` is K x d (the text
 * embeddings y_k of the class names), all kept by the objective
 * (references: the caller may free them at once; arrays they borrowed
 * must stay valid and unchanged until the objective is freed). `labels`
 * holds n class numbers in [0, K) (copied), or is NULL to assign each pair
 * zero-shot to the class whose label embedding has the largest cosine
 * with its image embedding (ties to the lowest class).
 * `label_embeddings` may be NULL when `labels` is given: the labels are
 * then any numbers >= 0 (up to INT64_MAX), the classes are the distinct
 * labels (K of them; memory grows with K, not with the largest label) and
 * F_label is 0. With `normalize` nonzero every image,
 * caption and label embedding is used divided by its Euclidean norm
 * (without copying the matrices). Weights start at 1 and alpha at 0.5
 * (subsel_clipcov_data_alpha() gives the paper's alpha for the data).
 * Construction is O(n d) plus, for zero-shot classes, an n x K product
 * (BLIS); it runs on the context's threads and its result does not depend
 * on their number. Progress: stages "clipcov zero-shot" (zero-shot
 * classes only) and "clipcov" (pairs done, n), each from 0 to n.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not a dense matrix, dimension
 *         mismatch, label out of range, a zero-norm row when normalising or
 *         a zero-norm label embedding for zero-shot classes: the message
 *         says which),
 *         SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_clipcov_create(subsel_ctx *ctx,
                                     const subsel_dense *image,
                                     const subsel_dense *text,
                                     const subsel_dense *label_embeddings,
                                     const int64_t *labels, int normalize,
                                     subsel_objective **out);

/*! subsel_clipcov_set_weight() :
 * Sets the weight of one term (SUBSEL_CLIPCOV_TERM_INTRA ... _LABEL: the
 * parameter SUBSEL_P_CLIPCOV_WEIGHT_INTRA + term), finite and >= 0 (0
 * removes the term), default 1. O(n).
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL ctx, not a ClipCov objective,
 *         unknown term, weight out of range: the weight is then unchanged,
 *         and the message names the function and what was wrong). */
SUBSEL_API int subsel_clipcov_set_weight(subsel_ctx *ctx,
                                         subsel_objective *obj, int term,
                                         double weight);

/*! subsel_clipcov_set_alpha() :
 * Sets alpha (SUBSEL_P_CLIPCOV_ALPHA), the factor of F_label, finite and
 * >= 0, default 0.5. O(n).
 * @return as subsel_clipcov_set_weight(). */
SUBSEL_API int subsel_clipcov_set_alpha(subsel_ctx *ctx,
                                        subsel_objective *obj, double alpha);

/*! subsel_clipcov_data_alpha() : (since 0.15)
 * The paper's alpha for this pool (appendix A.3, after eq. 28: "the ratio
 * of average cross-modal similarity to the average similarity in text"):
 *   alpha = mean_{i,j} sim(i, j) / mean_{i,j} x_L(i).x_L(j)
 *         = 2 (sum_i x_V(i)).(sum_j x_L(j)) / |sum_j x_L(j)|^2,
 * both means over all ordered pairs of the pool (i = j included), with
 * sim of eq. 22 and the embeddings as the objective uses them (normalised
 * when it was created with `normalize`). Computed at construction (O(1)
 * here); writes it to *alpha and does not set it: pass it to
 * subsel_clipcov_set_alpha() to use it (the objective's alpha stays 0.5
 * until then, as before 0.15; the CLI and the Python package use this value
 * by default). The paper reports alpha about 1/2 on its data.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not a ClipCov objective),
 *         SUBSEL_E_NUMERIC (the average text similarity is not positive,
 *         or the ratio is negative or not finite: *alpha is unchanged and
 *         the message gives both averages). */
SUBSEL_API int subsel_clipcov_data_alpha(subsel_ctx *ctx,
                                         const subsel_objective *obj,
                                         double *alpha);

/*! subsel_clipcov_class_count() :
 * @return K, the number of latent classes: the rows of the label
 *         embeddings when they are given, else the number of distinct
 *         labels (0 for NULL or another objective). */
SUBSEL_API int64_t subsel_clipcov_class_count(const subsel_objective *obj);

/*! subsel_clipcov_classes() :
 * Writes the latent class of every pair (given or zero-shot) to
 * out[0..n): the user's own label numbers when labels were given.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, not a ClipCov objective,
 *         capacity < n). */
SUBSEL_API int subsel_clipcov_classes(subsel_ctx *ctx,
                                      const subsel_objective *obj,
                                      int64_t *out, int64_t capacity);

/*! subsel_clipcov_check_submodular() :
 * Writes to *submodular whether F is known to be submodular. With `exact`
 * 0 this is what construction proved cheaply (w_intra = 0, or a cone bound
 * showing that all within-class similarities are >= 0): 1 proven, 0 not
 * proven. With `exact` nonzero, undecided cases are settled by computing
 * every within-class similarity (block by block with BLIS, stopping at the
 * first negative one): 1 submodular, 0 not. That costs about
 * 2 sum_k |V_k|^2 d multiply-adds. Once proven, optimizers accept
 * SUBSEL_ALGORITHM_LAZY and _LAZIER on the objective. Progress: stage
 * "clipcov check" (block pairs, all of them) from 0 to the total, also
 * when a negative similarity ends the test early.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_clipcov_check_submodular(subsel_ctx *ctx,
                                               subsel_objective *obj,
                                               int exact, int *submodular);

/*! subsel_clipcov_optimizer() :
 * Creates the greedy optimizer ClipCov should run with `budget`: lazy
 * greedy when F is submodular (proven at construction, or by the exact
 * check when it costs under 2^33 multiply-adds, about 2 sum_k |V_k|^2 d,
 * which this call then runs), else stochastic greedy (epsilon 1e-3); in both cases to the
 * budget whatever the gains (SUBSEL_P_STOP_NONPOSITIVE 0), as the paper's
 * Algorithm 1, since the double greedy filter then removes what hurts. The
 * caller may change its options and frees it with subsel_optimizer_free().
 * @return SUBSEL_OK, SUBSEL_E_INVALID (not a ClipCov objective, budget < 0
 *         or above n), SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_clipcov_optimizer(subsel_ctx *ctx, subsel_objective *obj,
                                        int64_t budget,
                                        subsel_optimizer **out);

/* Filters for subsel_clipcov_select(). */
#define SUBSEL_CLIPCOV_FILTER_NONE 0          /* the greedy result as is  */
#define SUBSEL_CLIPCOV_FILTER_DETERMINISTIC 1 /* deterministic double greedy */
#define SUBSEL_CLIPCOV_FILTER_RANDOMIZED 2    /* randomised double greedy  */

/*! subsel_clipcov_select() :
 * The ClipCov pipeline (the paper's Algorithm 1), for any objective: runs
 * `greedy` (budget, algorithm and options as set on it), then double greedy
 * over the greedy result as its ground set (in greedy order), and returns
 * the better of the two sets: the filtered one unless its value is below
 * the greedy one's. The result is a subset of the greedy result, in greedy
 * order, with the gains of adding its items in that order; its size is at
 * most the budget, which both selections record; when the result is
 * shorter, its reason is the greedy's (SUBSEL_SHORT_NONPOSITIVE) or else
 * SUBSEL_SHORT_FILTERED. Progress: stage "select", then "double greedy".
 * With `greedy_out` not NULL, the greedy result is also
 * returned there (the caller frees both). Randomness: the greedy's as
 * subsel_optimizer_run(); the randomised filter as subsel_double_greedy().
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, unknown filter), the errors of
 *         subsel_optimizer_run() and subsel_double_greedy(). */
SUBSEL_API int subsel_clipcov_select(subsel_ctx *ctx,
                                     const subsel_objective *obj,
                                     const subsel_optimizer *greedy,
                                     int filter, subsel_selection **out,
                                     subsel_selection **greedy_out);

/*! subsel_double_greedy() :
 * Double greedy (Buchbinder et al. 2015) for unconstrained maximisation of
 * a non-monotone function over the ground set `ground` (count distinct
 * indices, visited in that order; NULL for all n items in index order, count
 * then ignored). X starts empty and Y as the ground set; for each item e,
 * a = f(X + e) - f(X) and b = f(Y - e) - f(Y); deterministic (randomized
 * 0): e joins X if a >= b, else leaves Y (a 1/3-approximation for
 * nonnegative submodular f); randomised: e joins X with probability
 * a+ / (a+ + b+) (1 when both are 0), with x+ = max(x, 0) (1/2 in
 * expectation), the coins drawn from SUBSEL_P_SEED on a stream of their
 * own. Works with every objective of the library that can remove items.
 * The selection lists X in ground order with the gains a of adding its
 * items; evaluations = 2 count. Double greedy chooses its own size: the
 * selection's budget is its count. Progress: stage "double greedy" (items
 * decided, count) from 0 to count.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, index out of range or
 *         repeated), SUBSEL_E_UNSUPPORTED (the objective cannot remove
 *         items), SUBSEL_E_STATE, SUBSEL_E_NUMERIC (NaN gain),
 *         SUBSEL_E_CANCELLED, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_double_greedy(subsel_ctx *ctx,
                                    const subsel_objective *obj,
                                    const int64_t *ground, int64_t count,
                                    int randomized, subsel_selection **out);

/* ------------------------------------------------------------------------ */
/* Selection across processes and machines (since 0.9)                      */
/* ------------------------------------------------------------------------ */

/* A pool too large for one process is split into parts: row ranges of one
 * matrix, or shard files. Each part's objective is built over its own rows
 * only, and its items are numbered globally: part rows 0 .. n-1 are the
 * pool's rows offset .. offset + n - 1. Two pure functions then do the
 * work, callable from any engine (threads, MPI, Dask, Ray, Spark, a Slurm
 * job array: docs/distributed.md):
 *   subsel_summary_select()  selects from one part into a small summary:
 *                            global row ids, gains, f of the set, and the
 *                            chosen rows themselves;
 *   subsel_summary_merge()   merges summaries by running the optimizer
 *                            over the union of their rows (GreeDi), into a
 *                            summary that can be merged again.
 * Summaries travel as bytes or files. Objectives over the rows of a CSR
 * matrix (FB, SDM) can be split; the others give SUBSEL_E_UNSUPPORTED.
 * SDM with quality bins: bins made from quality scores rank the rows of
 * each part separately; for bins that mean the same on every part, use
 * subsel_sdm_set_quality_edges(). A summary is immutable: any thread may
 * read it. */
typedef struct subsel_summary subsel_summary;

/*! subsel_summary_select() :
 * Selects from one part of a pool: runs `opt` on `obj` (SUBSEL_P_BUDGET
 * capped at the part's n items; runs, parts and threads as
 * subsel_optimizer_run()) and returns the summary of its selection, its
 * items numbered offset + item. `total` is the pool's size (offset + n <=
 * total), recorded so that merges can check their parts belong together.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (NULL, offset < 0, offset + n >
 *         total), SUBSEL_E_UNSUPPORTED (an objective that cannot be
 *         split), or an error of subsel_optimizer_run(). */
SUBSEL_API int subsel_summary_select(subsel_ctx *ctx,
                                     const subsel_optimizer *opt,
                                     const subsel_objective *obj,
                                     int64_t offset, int64_t total,
                                     subsel_summary **out);

/*! subsel_summary_merge() :
 * GreeDi's merge: runs `opt` (budget capped at the union's size) over the
 * union of the summaries' rows, on an objective of `like`'s kind and
 * parameters (its own rows are not used: any part's objective will do),
 * and returns the summary of the better of that selection and the best
 * input summary (by f, re-evaluated on the union; ties to the merged
 * set), as RandGreeDi's analysis requires. The union is taken in
 * ascending global id, so the result does not depend on the order of the
 * summaries. Merging the result with others again is multi-round GreeDi.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (count < 1, summaries of different
 *         pools, overlapping ids, rows whose columns do not match `like`),
 *         SUBSEL_E_UNSUPPORTED, or an error of subsel_optimizer_run(). */
SUBSEL_API int subsel_summary_merge(subsel_ctx *ctx,
                                    const subsel_optimizer *opt,
                                    const subsel_objective *like,
                                    const subsel_summary *const *summaries,
                                    int64_t count, subsel_summary **out);

/*! subsel_summary_selection() :
 * The summary as a selection: global row ids in the order chosen, their
 * gains, f of the set, evaluations (all parts and merges). Its budget is
 * the count.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_summary_selection(subsel_ctx *ctx,
                                        const subsel_summary *summary,
                                        subsel_selection **out);

/*! subsel_summary_rows() :
 * The chosen rows as a CSR matrix (row i is the row of the i-th id), for
 * example to build the `like` objective of a merge job that holds no part.
 * The caller frees it.
 * @return SUBSEL_OK, SUBSEL_E_INVALID. */
SUBSEL_API int subsel_summary_rows(subsel_ctx *ctx,
                                   const subsel_summary *summary,
                                   subsel_csr **out);

/* Items in the summary, and the size of the pool it belongs to; 0 for
 * NULL. */
SUBSEL_API int64_t subsel_summary_count(const subsel_summary *summary);
SUBSEL_API int64_t subsel_summary_total(const subsel_summary *summary);

/*! subsel_summary_to_bytes() / subsel_summary_from_bytes() :
 * A summary as a byte string (docs/distributed.md gives the layout:
 * little-endian, with a CRC-32), for sending between processes. With
 * buf NULL (capacity 0), to_bytes writes the size it needs to *size;
 * else it needs capacity >= that size. from_bytes checks everything:
 * sizes, ids (in range, distinct), the rows as subsel_csr_create() does,
 * the checksum.
 * @return SUBSEL_OK, SUBSEL_E_INVALID (capacity too small, NULL),
 *         SUBSEL_E_FORMAT (from_bytes: truncated or corrupt data, with
 *         what was wrong), SUBSEL_E_UNSUPPORTED (from_bytes: an intact
 *         summary of a later format version), SUBSEL_E_NOMEM. */
SUBSEL_API int subsel_summary_to_bytes(subsel_ctx *ctx,
                                       const subsel_summary *summary,
                                       void *buf, int64_t capacity,
                                       int64_t *size);
SUBSEL_API int subsel_summary_from_bytes(subsel_ctx *ctx, const void *buf,
                                         int64_t size, subsel_summary **out);

/*! subsel_summary_save() / subsel_summary_load() :
 * The bytes of subsel_summary_to_bytes() in a file (written as
 * subsel_csr_save_npz() writes: atomically for regular files).
 * @return as to_bytes / from_bytes, and SUBSEL_E_IO. */
SUBSEL_API int subsel_summary_save(subsel_ctx *ctx,
                                   const subsel_summary *summary,
                                   const char *path);
SUBSEL_API int subsel_summary_load(subsel_ctx *ctx, const char *path,
                                   subsel_summary **out);

/*! subsel_summary_free() : releases a summary. NULL is a no-op. */
SUBSEL_API void subsel_summary_free(subsel_summary *summary);

/* Algorithms of subsel_mpi_select(). */
#define SUBSEL_DISTRIBUTED_GREEDI 0 /* every rank selects from its part
                                       (subsel_summary_select), the
                                       summaries are merged (in rounds of
                                       SUBSEL_P_FANIN) on the lower ranks,
                                       the result is broadcast. One
                                       exchange of budget rows per rank.    */
#define SUBSEL_DISTRIBUTED_EXACT 1  /* stochastic greedy over the whole
                                       pool: every step, every rank draws
                                       the same sample, evaluates the items
                                       it holds, the best is agreed on and
                                       its row broadcast. The selection is
                                       byte for byte that of
                                       subsel_optimizer_run() with the
                                       same seed on one process holding
                                       the pool, whatever the rank count.
                                       SUBSEL_ALGORITHM_STOCHASTIC, one
                                       run, one part. Two small
                                       collectives per step.                */
#define SUBSEL_DISTRIBUTED_UNION 2  /* every rank selects its share of the
                                       budget (in proportion to its rows)
                                       from its rows, and the selection is
                                       the union, listed round-robin by
                                       step (as SUBSEL_MERGE_UNION); f of
                                       the union from the ranks' states
                                       added up. Only ids and one state
                                       travel: the choice when the budget
                                       is a large fraction of the pool
                                       (GreeDi's union would then be the
                                       pool). Needs ranks whose rows are a
                                       random split of the pool.            */

/*! subsel_mpi_available() :
 * @return 1 when this library was built with its MPI component, else 0
 *         (subsel_mpi_select() then gives SUBSEL_E_UNSUPPORTED). */
SUBSEL_API int subsel_mpi_available(void);

/*! subsel_mpi_select() :
 * Selection across the ranks of an MPI communicator, passed as its Fortran
 * handle (MPI_Comm_c2f(comm)), so this header needs no mpi.h. Collective:
 * every rank calls it with its own part's objective; rank r's items are
 * the pool's rows after those of ranks 0 .. r-1 (a rank may hold none), so
 * the pool is the ranks' parts in rank order. `method` is a
 * SUBSEL_DISTRIBUTED_*. Every rank gets the same selection, in global row
 * ids (its evaluations: every rank's for GREEDI and UNION, this rank's for
 * EXACT). MPI must be initialised (MPI_THREAD_FUNNELED at least: only the
 * calling thread calls MPI). On any rank's error, every rank returns an
 * error (that rank's status and message on that rank, SUBSEL_E_STATE
 * naming the failing rank on the others).
 * @return SUBSEL_OK, SUBSEL_E_UNSUPPORTED (no MPI component, an objective
 *         that cannot be split, EXACT with another algorithm or several
 *         runs), SUBSEL_E_INVALID, SUBSEL_E_STATE, or an error of the
 *         selection. */
SUBSEL_API int subsel_mpi_select(subsel_ctx *ctx, const subsel_optimizer *opt,
                                 const subsel_objective *obj, int method,
                                 int64_t comm, subsel_selection **out);

/*! subsel_csr_npz_shape() :
 * Reads only the shape of a SciPy .npz CSR file (its shape.npy member),
 * without its arrays: a part of a sharded pool learns the global ids of
 * its rows from the row counts of the shards before it.
 * @return SUBSEL_OK, SUBSEL_E_INVALID, SUBSEL_E_IO, SUBSEL_E_FORMAT. */
SUBSEL_API int subsel_csr_npz_shape(subsel_ctx *ctx, const char *path,
                                    int64_t *rows, int64_t *cols);

#ifdef __cplusplus
}
#endif

#endif /* SUBSEL_H */
