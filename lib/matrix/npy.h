/* SPDX-License-Identifier: MIT */
/*
 * The one NumPy .npy parser and writer of the library, shared by the .npy
 * functions and the .npz (zip of .npy) code: header parsing (format versions
 * 1.0 to 3.0, the Python-dict text checked token by token), streaming of the
 * array data into its final buffer with conversion and range checks, and
 * header formatting for the writers. Everything reads from an ss_reader, so
 * the same code serves files, zip members and the fuzzers' memory streams.
 */
#ifndef SS_MATRIX_NPY_H
#define SS_MATRIX_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "matrix/fileio.h"
#include "subsel.h"

/* NumPy's own limit (NPY_MAXDIMS is 32 in NumPy 1, 64 in NumPy 2). */
#define SS_NPY_MAX_DIMS 64
/* Longest header text accepted. NumPy only writes headers past 64 KiB for
 * structured dtypes with many fields, which this reader does not support. */
#define SS_NPY_MAX_HEADER (1u << 20)

/* Element types this code knows. Numbers are the little-endian dtypes;
 * strings appear only in the format.npy member of an .npz file. */
enum {
    SS_NPY_F4 = 1, /* '<f4' */
    SS_NPY_F8,     /* '<f8' */
    SS_NPY_I4,     /* '<i4' */
    SS_NPY_I8,     /* '<i8' */
    SS_NPY_BYTES,  /* '|S<n>': n bytes, NUL-padded */
    SS_NPY_UNICODE, /* '<U<n>': n UTF-32LE code units, NUL-padded */
    SS_NPY_F2,     /* '<f2' (since 0.10): read only, converted to float32
                      or float64 exactly */
    SS_NPY_INT_RAW, /* any other integer dtype ('|i1', '|u1', '<i2', '<u2',
                       '<u4', '<u8'; since 0.15): not a number type here,
                       read only as it is, for ids (ss_npy_load_raw) */
    SS_NPY_RAW     /* a target only: the header's elements as the file
                      holds them, t->itemsize bytes each, unconverted */
};

typedef struct ss_npy_header {
    int type;          /* SS_NPY_* */
    size_t itemsize;   /* bytes per element */
    int fortran_order; /* column-major data */
    int ndim;
    int64_t shape[SS_NPY_MAX_DIMS];
    int64_t count;      /* product of shape (1 for a 0-d array) */
    int64_t data_bytes; /* count * itemsize, checked not to overflow */
    char descr[32];     /* the dtype as written, for messages */
} ss_npy_header;

/* Destination of ss_npy_read_data(): `count` values of `type` (a number
 * type). Integer values outside [lo, hi] are refused (SUBSEL_E_FORMAT);
 * float64 values beyond the float32 range are refused for a float32 target
 * (SUBSEL_E_NUMERIC). The position in the file and the value of a refused
 * element are left in bad / bad_value.
 * A growing target (`grow` nonzero, made by ss_npy_read_new() for a
 * stream) holds `capacity` values at first and is moved to larger buffers
 * on the reader's context as values arrive, never past the header's
 * count: a stream's header cannot be checked against its length, so its
 * claim is never allocated before the data is there. Its allocation starts
 * `prefix` bytes before `data`. */
typedef struct ss_npy_target {
    int type;
    void *data;
    int64_t lo, hi;
    int64_t bad;
    int64_t bad_value;
    int grow;
    int64_t capacity;
    size_t prefix;
    size_t itemsize; /* of an SS_NPY_RAW target: the header's itemsize */
} ss_npy_target;

/* Parses the header dict text (the bytes after the length field). */
int ss_npy_parse_dict(subsel_ctx *ctx, const char *text, size_t len,
                      ss_npy_header *h);

/* Reads and parses the preamble (magic, version, length, dict) from r, and
 * checks that r can still deliver the data_bytes the shape needs: so a
 * caller may allocate for h->count elements once this succeeds, unless r
 * is a stream (r->available INT64_MAX), whose length is unknown: then use
 * ss_npy_read_new(). */
int ss_npy_read_header(ss_reader *r, ss_npy_header *h);

/* Sets a target of `type` with the full range of that type, writing to
 * the caller's buffer `data`. */
void ss_npy_target_init(ss_npy_target *t, int type, void *data);

/* Streams the h->count elements that follow the header into t->data,
 * converting to t->type (float32/64 from any number type; int32/64 from
 * integer types only: a float array is SUBSEL_E_UNSUPPORTED). A 2-D
 * Fortran-order array is stored transposed, so t->data is row-major. The
 * data goes straight into t->data, through a fixed buffer when it must be
 * converted: never a second copy of the array. */
int ss_npy_read_data(ss_reader *r, const ss_npy_header *h, ss_npy_target *t);

/* Reads the data into a new buffer on r->ctx, with t->prefix bytes free
 * before the values: one allocation of h->count values when r's length is
 * known (and was checked by ss_npy_read_header), else a growing target.
 * t is set up as by ss_npy_target_init() with a NULL data pointer (lo, hi
 * and prefix may then be changed). On success t->data points at the
 * values; on failure it is NULL and nothing is left allocated. */
int ss_npy_read_new(ss_reader *r, const ss_npy_header *h, ss_npy_target *t);

/* The start of the allocation of a target filled by ss_npy_read_new(). */
void *ss_npy_target_block(const ss_npy_target *t);

/* Bytes of one value of a number type. */
size_t ss_npy_type_size(int type);

/* 1 if the header's type is a number type readable into `type`. */
int ss_npy_converts_to(const ss_npy_header *h, int type);

/* Writes the preamble of a C-order array: format 1.0 (2.0 when the header
 * needs more than 65535 bytes), padded with spaces so the data starts at a
 * multiple of 64 bytes. */
int ss_npy_write_header(ss_writer *w, const char *descr, int ndim,
                        const int64_t *shape);
/* The same with the dtype as the Python literal the dict holds: "'<u8'",
 * or a structured dtype's list "[('f0', '<u8'), ('f1', '<u8')]". */
int ss_npy_write_header_literal(ss_writer *w, const char *descr, int ndim,
                                const int64_t *shape);

/* Writes a contiguous C-order array of 1 or 2 dimensions to path (as
 * ss_write_atomic): descr "<f4", "<f8" or "<i8" and its itemsize. */
int ss_npy_save_array(subsel_ctx *ctx, const char *path, const char *descr,
                      size_t itemsize, int ndim, const int64_t *shape,
                      const void *data);

/* Formats the shape as "(3, 4)" for messages. */
const char *ss_npy_shape_text(const ss_npy_header *h, char *buf, size_t cap);

/* A list of 2-D float .npy files (float16, 32 or 64; C order; the same
 * columns) read as one matrix of rows, any rows at a time, without loading
 * the files (npyrows.c). Headers and lengths are checked at opening; a
 * message names the file at fault. */
typedef struct ss_npy_rows ss_npy_rows;
int ss_npy_rows_open(subsel_ctx *ctx, const char *const *paths, int64_t count,
                     ss_npy_rows **out);
int64_t ss_npy_rows_count(const ss_npy_rows *r);
int64_t ss_npy_rows_cols(const ss_npy_rows *r);
/* Reads the rows ids[0..n) (global indices; ascending runs are read in one
 * call each) as float32 into out (n x cols). SUBSEL_E_NUMERIC for a value
 * that is not finite in float32, naming file, row and column. */
int ss_npy_rows_read(subsel_ctx *ctx, ss_npy_rows *r, const int64_t *ids,
                     int64_t n, float *out);
void ss_npy_rows_close(subsel_ctx *ctx, ss_npy_rows *r);

/* The readers behind the public functions, on an open FILE (from its
 * current position): the fuzzers call them on memory streams. */
int ss_npy_load_dense(subsel_ctx *ctx, FILE *f, subsel_dense **out);
/* type is SS_NPY_F8 (double *out) or SS_NPY_I8 (int64_t *out). */
int ss_npy_read_vector(subsel_ctx *ctx, FILE *f, int type, void *out,
                       int64_t capacity, int64_t *count);
/* Reads a vector (1-D, or 2-D with a dimension of 1) as the file holds its
 * elements (little-endian, h->itemsize bytes each, unconverted) into a new
 * array released with subsel_array_free(); pipes work (a stream's claim is
 * not allocated before its data arrives). `check` refuses a header (its
 * dtype) before any data is read. The parsed header is left in *h. */
int ss_npy_load_raw(subsel_ctx *ctx, FILE *f,
                    int (*check)(subsel_ctx *ctx, const ss_npy_header *h),
                    ss_npy_header *h, void **values);

/* As subsel_npy_load_f64() / _i64() on an open FILE (type as above);
 * `values` is the address of the caller's double * or int64_t *. */
int ss_npy_load_vector(subsel_ctx *ctx, FILE *f, int type, void *values,
                       int64_t *count);

#endif
