/* SPDX-License-Identifier: MIT */
/*
 * SciPy sparse .npz files (scipy.sparse.save_npz of a CSR matrix) as the
 * library sees them: the reader on an open FILE, which the public function
 * and the fuzzer share, and the writer with its test-only ZIP64 switch.
 */
#ifndef SS_MATRIX_NPZ_H
#define SS_MATRIX_NPZ_H

#include <stdio.h>

#include "matrix/zip.h"
#include "subsel.h"

/* Reads a CSR matrix from the .npz archive in f, from its current position
 * (a stream of unknown length is read into memory first). */
int ss_npz_load_csr(subsel_ctx *ctx, FILE *f, subsel_csr **out);

/* Writes csr to path atomically as subsel_csr_save_npz() does; with
 * force_zip64 every ZIP64 record is written even where sizes do not need
 * it (so tests can reach the reader's ZIP64 paths with small files). */
int ss_npz_save_csr(subsel_ctx *ctx, const subsel_csr *csr, const char *path,
                    int compressed, int force_zip64);

/* A whole member of an archive being written: its .npy header (descr
 * "<i8", "<f8", ...; ndim dimensions of `shape`), then count items of
 * itemsize bytes, as little-endian. */
int ss_npz_write_member(ss_zip_writer *w, const char *name, const char *descr,
                        int ndim, const int64_t *shape, const void *data,
                        int64_t count, size_t itemsize);

#endif
