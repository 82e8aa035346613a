/* SPDX-License-Identifier: MIT */
/*
 * A regular file mapped read-only in whole, so that the .npy and .npz
 * readers can use arrays in place instead of copying them. The mapping is
 * an internal handle: a matrix whose arrays lie in it retains it as its
 * keeper (as a view retains its parent) and it is unmapped when the last
 * one goes. SUBSEL_P_MAP_FILES turns mapping off.
 */
#ifndef SS_MATRIX_MAPPING_H
#define SS_MATRIX_MAPPING_H

#include <stdint.h>
#include <stdio.h>

#include "core/handle.h"
#include "subsel.h"

typedef struct ss_mapping {
    SS_HANDLE_HEAD;
    const unsigned char *data;
    int64_t size;
} ss_mapping;

/* Maps all of f when it is a non-empty regular file and ctx's map_files
 * parameter is on. *out is NULL, with SUBSEL_OK, when the file is not
 * mapped for any of those reasons or because the system refuses (the
 * caller then reads the file as a stream of bytes); SUBSEL_E_NOMEM only
 * when the handle cannot be allocated. The caller drops its reference
 * with ss_mapping_release(). */
int ss_mapping_open(subsel_ctx *ctx, FILE *f, ss_mapping **out);

/* Drops one reference (NULL is ignored); the last unmaps the file. Takes
 * void * to serve as a matrix keeper's release function. */
void ss_mapping_release(void *mapping);

/* 1 when `bytes` bytes at `offset` lie in the mapping and start aligned
 * for elements of `align` bytes, so an array there can be used in place. */
int ss_mapping_fits(const ss_mapping *m, int64_t offset, int64_t bytes,
                    size_t align);

#endif
