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

/* Rows of a tile, at least and at most. */
#define SS_TILE_ROWS_MIN 128
#define SS_TILE_ROWS_MAX 512

/* Rows of the tiles of a pass over n rows. Fast (float) tiles:
 * SS_TILE_ROWS_MAX, halved (down to SS_TILE_ROWS_MIN) while that leaves
 * fewer than 16 tiles for the threads. Every product packs the tile's
 * columns again, which taller tiles share among more rows: when BLIS 0.9
 * packed them (skx's 32-row side, with generic code), 128-row tiles spent
 * about a third of TAROT's fill packing; ss_sgemm_nt_serial now packs
 * them several times faster. Exact tiles (dgemm, packed by BLIS's own
 * kernels) keep SS_TILE_ROWS_MIN, and so their scratch of double copies.
 * A function of the sizes alone, so that results never depend on the
 * thread count. */
int64_t ss_tile_rows(int64_t n, int fast);

/* Columns of a tile for dimension d (a multiple of 8, 64 to 512). */
int64_t ss_tile_cols(int64_t d);

/* The tiles of one pass over an n x m value matrix of dimension d: `rows`
 * and `cols` step the pass (ss_tile_rows(n, fast) and ss_tile_cols(d)),
 * each clamped to the matrix's side rounded up to 8. A side shorter than a
 * tile is one tile either way, so the tiling, and every result, is that of
 * the unclamped sizes; only the scratch shrinks (an OTM fold of 10 x 6
 * points took a megabyte per thread, mapped and faulted in at every solve:
 * most of the tarot suite's time under ASan). */
typedef struct ss_tiles {
    int64_t rows, cols, d;
    int fast;
} ss_tiles;

ss_tiles ss_tiles_for(int64_t n, int64_t m, int64_t d, int fast);

/* A thread's scratch is the inputs of ss_pairwise_tile (the first
 * ss_tile_inputs() doubles: for fast tiles the float products and the
 * panels ss_sgemm_nt_serial packs, else room for either kind), then the
 * tile (rows x cols), then `per` doubles of the caller's. */
int64_t ss_tile_inputs(const ss_tiles *t);

/* Doubles of scratch one thread needs for the tiles, plus `per` doubles of
 * its own. */
int64_t ss_tile_scratch_stride(const ss_tiles *t, int64_t per);

/* Allocates `threads` times `each` doubles of scratch (each: that stride,
 * or a caller's own layout of the inputs and what it needs after them). */
int ss_tile_scratch(subsel_ctx *ctx, int threads, int64_t each, double **out);

static inline int ss_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

#endif
