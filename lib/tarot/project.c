/* SPDX-License-Identifier: MIT */
/*
 * Seeded random projection y = x P / sqrt(dim), P with independent
 * Rademacher (+-1) or standard normal entries. Row j of P comes from its own
 * random stream (seed, SS_TAROT_STREAM_PROJ + j), so any block of P can be
 * generated alone and P is never held whole when it does not fit.
 *
 * The arithmetic is fixed by two constants, not by the memory block, the
 * thread count or the batch of rows: the input columns are cut into chunks
 * of PROJ_CHUNK, the rows into tiles of PROJ_TILE, every product is one
 * single-threaded sgemm of exactly PROJ_TILE x dim x PROJ_CHUNK on
 * zero-padded copies (so BLIS takes the same path for every tile), tiles
 * run in parallel, and chunk products are added into the tile in chunk
 * order. A row's result is therefore the same bits
 * whatever the block size, thread count or the rows around it.
 */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "core/rng.h"
#include "linalg/blas.h"
#include "matrix/matrix.h"
#include "tarot/tarot.h"

#define PROJ_CHUNK 256
#define PROJ_TILE 256
#define PROJ_AUTO_BYTES ((int64_t)64 << 20)

/* Rows [first, first + PROJ_CHUNK) of P into p (PROJ_CHUNK x dim); rows at
 * or past `cols` are zero. */
static void fill_chunk(uint64_t seed, int kind, int64_t first, int64_t cols,
                       int64_t dim, float *p)
{
    int64_t r, c;
    for (r = 0; r < PROJ_CHUNK; r++) {
        float *row = p + r * dim;
        int64_t j = first + r;
        ss_rng rng;
        if (j >= cols) {
            memset(row, 0, (size_t)dim * sizeof *row);
            continue;
        }
        ss_rng_seed(&rng, seed, SS_TAROT_STREAM_PROJ + (uint64_t)j);
        if (kind == SUBSEL_PROJ_GAUSSIAN) {
            for (c = 0; c < dim; c++)
                row[c] = (float)ss_rng_normal(&rng);
        } else {
            for (c = 0; c < dim; c += 64) {
                uint64_t bits = ss_rng_next(&rng);
                int64_t b, nb = dim - c < 64 ? dim - c : 64;
                for (b = 0; b < nb; b++)
                    row[c + b] = (bits >> b) & 1 ? 1.0f : -1.0f;
            }
        }
    }
}

/* One row tile through the chunks [c0, c1) of the resident block. */
static void project_tile(const float *x, int64_t ld, int64_t rows,
                         int64_t cols, int64_t dim, int64_t tile, int64_t c0,
                         int64_t c1, const float *pblock, float alpha,
                         float *a, float *acc, float *out)
{
    int64_t r0 = tile * PROJ_TILE;
    int64_t nr = rows - r0 < PROJ_TILE ? rows - r0 : PROJ_TILE;
    int64_t r, c;

    /* The partial sums so far live in `out` between blocks. */
    if (c0 > 0)
        memcpy(acc, out + r0 * dim, (size_t)(nr * dim) * sizeof *acc);
    memset(acc + nr * dim, 0, (size_t)((PROJ_TILE - nr) * dim) * sizeof *acc);
    for (c = c0; c < c1; c++) {
        int64_t j0 = c * PROJ_CHUNK;
        int64_t nj = cols - j0 < PROJ_CHUNK ? cols - j0 : PROJ_CHUNK;
        for (r = 0; r < PROJ_TILE; r++) {
            float *dst = a + r * PROJ_CHUNK;
            int64_t copied = r < nr ? nj : 0;
            if (copied > 0)
                memcpy(dst, x + (r0 + r) * ld + j0,
                       (size_t)copied * sizeof *dst);
            memset(dst + copied, 0,
                   (size_t)(PROJ_CHUNK - copied) * sizeof *dst);
        }
        ss_sgemm_serial(0, 0, PROJ_TILE, dim, PROJ_CHUNK, alpha, a,
                        PROJ_CHUNK, pblock + (c - c0) * PROJ_CHUNK * dim, dim,
                        c == 0 ? 0.0f : 1.0f, acc, dim);
    }
    memcpy(out + r0 * dim, acc, (size_t)(nr * dim) * sizeof *acc);
}

int64_t ss_tarot_project_chunks(int64_t cols)
{
    return (cols + PROJ_CHUNK - 1) / PROJ_CHUNK;
}

/* Chunks of P held at once: `block` input columns, or what fits in
 * PROJ_AUTO_BYTES; at least one, at most all. */
static int64_t chunk_group(int64_t chunks, int64_t dim, int64_t block)
{
    int64_t group;
    if (block > 0)
        group = block / PROJ_CHUNK + (block % PROJ_CHUNK != 0);
    else
        group = PROJ_AUTO_BYTES / (PROJ_CHUNK * dim * (int64_t)sizeof(float));
    if (group < 1)
        group = 1;
    return group > chunks ? chunks : group;
}

double ss_tarot_project_scratch_bytes(int64_t cols, int64_t dim,
                                      int64_t block, int threads)
{
    double group = (double)chunk_group(ss_tarot_project_chunks(cols), dim, block);
    return sizeof(float) * (group * PROJ_CHUNK * (double)dim +
                            (double)threads * PROJ_TILE * PROJ_CHUNK +
                            (double)threads * PROJ_TILE * (double)dim);
}

int ss_tarot_project_rows(subsel_ctx *ctx, const float *x, int64_t ld,
                          int64_t rows, int64_t cols, int64_t dim, int kind,
                          int64_t block, int64_t done0, int64_t total,
                          float *out)
{
    int64_t chunks = ss_tarot_project_chunks(cols);
    int64_t tiles = (rows + PROJ_TILE - 1) / PROJ_TILE;
    int64_t group, c0, chunk_floats = PROJ_CHUNK * dim;
    float *pblock = NULL, *abuf = NULL, *accbuf = NULL;
    float alpha = (float)(1.0 / sqrt((double)dim));
    uint64_t seed = (uint64_t)ctx->seed;
    int nt = ss_threads_for(ctx, tiles), rc = SUBSEL_OK;

    if (chunks == 0) { /* no input columns: every projection is 0 */
        memset(out, 0, (size_t)(rows * dim) * sizeof *out);
        return SUBSEL_OK;
    }
    if (rows == 0) /* nothing to do: the chunks are done */
        return ss_progress(ctx, "project", done0 + chunks, total);
    group = chunk_group(chunks, dim, block);
    SS_TRY(ss_alloc_array(ctx, group * chunk_floats, sizeof(float), &pblock));
    SS_TRY(ss_alloc_array(ctx, (int64_t)nt * PROJ_TILE * PROJ_CHUNK,
                          sizeof(float), &abuf));
    SS_TRY(ss_alloc_array(ctx, (int64_t)nt * PROJ_TILE * dim, sizeof(float),
                          &accbuf));
    for (c0 = 0; c0 < chunks; c0 += group) {
        int64_t c1 = c0 + group < chunks ? c0 + group : chunks;
        int64_t c, tile;
        int gt = ss_threads_for(ctx, c1 - c0);
#pragma omp parallel for num_threads(gt) schedule(static)
        for (c = c0; c < c1; c++)
            fill_chunk(seed, kind, c * PROJ_CHUNK, cols, dim,
                       pblock + (c - c0) * chunk_floats);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (tile = 0; tile < tiles; tile++) {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            project_tile(x, ld, rows, cols, dim, tile, c0, c1, pblock, alpha,
                         abuf + (int64_t)tid * PROJ_TILE * PROJ_CHUNK,
                         accbuf + (int64_t)tid * PROJ_TILE * dim, out);
        }
        SS_TRY(ss_progress(ctx, "project", done0 + c1, total));
    }
cleanup:
    ss_free(ctx, pblock);
    ss_free(ctx, abuf);
    ss_free(ctx, accbuf);
    return rc;
}

int subsel_tarot_project(subsel_ctx *ctx, const subsel_dense *x, int64_t dim,
                         int kind, int64_t block, subsel_dense **out)
{
    float *y = NULL;
    int rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_KIND(ctx, x, SS_KIND_DENSE);
    if (dim < 1 || dim > 1048576)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_project: dim %lld outside [1, 1048576]",
                       (long long)dim);
    if (kind != SUBSEL_PROJ_RADEMACHER && kind != SUBSEL_PROJ_GAUSSIAN)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_project: unknown projection kind %d",
                       kind);
    if (block < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_project: block %lld < 0",
                       (long long)block);
    SS_CHECK(ss_check_shape(ctx, x->rows, dim, sizeof(float), 0));
    SS_CHECK(ss_alloc_array(ctx, x->rows * dim, sizeof *y, &y));
    /* stage "project": one unit per chunk of input columns */
    SS_TRY(ss_progress(ctx, "project", 0, ss_tarot_project_chunks(x->cols)));
    SS_TRY(ss_tarot_project_rows(ctx, x->row0, x->stride, x->rows, x->cols,
                                 dim, kind,
                                 block, 0, ss_tarot_project_chunks(x->cols),
                                 y));
    return ss_dense_adopt(ctx, x->rows, dim, y, out);
cleanup:
    ss_free(ctx, y);
    return rc;
}
