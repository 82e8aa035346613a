/* SPDX-License-Identifier: MIT */
/*
 * Tiling of point-cloud value matrices, shared by the passes that compute
 * values on the fly (lse.c) and by materialisation (cost.c). Tile shapes
 * depend on the problem sizes only, never on the thread count, so every
 * result is the same whatever the number of threads.
 */
#ifndef SS_OT_TILES_H
#define SS_OT_TILES_H

#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "subsel.h"

/* Rows of a tile: enough for BLIS's packed AVX-512 path to run near peak. */
#define SS_TILE_ROWS 128

/* Columns of a tile for dimension d (a multiple of 8, 64 to 512). */
int64_t ss_tile_cols(int64_t d);

/* A thread's scratch is the inputs of ss_pairwise_tile (the first
 * ss_tile_inputs(d) doubles), then the tile (SS_TILE_ROWS x ss_tile_cols(d)),
 * then `per` doubles of the caller's. */
int64_t ss_tile_inputs(int64_t d);

/* Doubles of scratch one thread needs for tiles of dimension d, plus `per`
 * doubles of its own. */
int64_t ss_tile_scratch_stride(int64_t d, int64_t per);

/* Allocates that scratch for `threads` threads. */
int ss_tile_scratch(subsel_ctx *ctx, int threads, int64_t d, int64_t per,
                    double **out);

static inline int ss_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

#endif
