/* SPDX-License-Identifier: MIT */
/*
 * Cosine scores u . v and the k best candidates of every target, computed
 * blockwise so that the N x M score matrix is never held: candidates are
 * whitened a chunk at a time (the selector keeps no whitened copy of them),
 * and against each chunk, targets go in tiles of TOPK_TILE (one thread
 * each), candidates in blocks of TOPK_BLOCK, each tile-block product one
 * BLIS sgemm; each target keeps a bounded heap of its best k from chunk to
 * chunk.
 *
 * Every sgemm is single-threaded (tiles run in parallel) and has exactly
 * the shape TOPK_BLOCK x TOPK_TILE x dim (the last target tile and the last
 * candidate block are zero-padded copies), so a score's bits depend only on
 * its two rows: the same for any subset of
 * targets, any k and any thread count. The order is total (higher score
 * first, then lower candidate index), so the neighbour lists are too.
 */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "linalg/blas.h"
#include "tarot/tarot.h"

#define TOPK_TILE 256
#define TOPK_BLOCK 2048

/* Candidate blocks whitened together: rows [first, first + valid), then
 * zero rows up to whole blocks; their squared norms if sq. */
typedef struct chunk {
    float *rows, *sq;
    int64_t first, valid, blocks, cap, dim;
} chunk;

/* Room for `blocks` blocks of dim columns (and their norms if want_sq). */
static int chunk_alloc(subsel_ctx *ctx, int64_t blocks, int64_t dim,
                       int want_sq, chunk *c)
{
    memset(c, 0, sizeof *c);
    c->cap = blocks;
    c->dim = dim;
    SS_CHECK(ss_alloc_array(ctx, blocks * TOPK_BLOCK * dim, sizeof(float),
                            &c->rows));
    if (want_sq)
        SS_CHECK(ss_alloc_array(ctx, blocks * TOPK_BLOCK, sizeof(float),
                                &c->sq));
    return SUBSEL_OK;
}

static void chunk_free(subsel_ctx *ctx, chunk *c)
{
    ss_free(ctx, c->rows);
    ss_free(ctx, c->sq);
}

/* Whitens the candidates [first, end) (first block-aligned), as many as
 * fit. */
static int chunk_load(subsel_ctx *ctx, const subsel_tarot *t, int64_t first,
                      int64_t end, chunk *c)
{
    int64_t count = end - first < c->cap * TOPK_BLOCK ? end - first
                                                     : c->cap * TOPK_BLOCK;
    c->first = first;
    c->valid = count;
    c->blocks = (count + TOPK_BLOCK - 1) / TOPK_BLOCK;
    SS_CHECK(ss_tarot_cand_rows(ctx, t, NULL, first, count, c->rows, c->sq));
    memset(c->rows + count * c->dim, 0,
           (size_t)((c->blocks * TOPK_BLOCK - count) * c->dim) * sizeof(float));
    return SUBSEL_OK;
}

/* Blocks whitened at once: enough for every thread to take its own. */
static int64_t chunk_blocks(const subsel_ctx *ctx)
{
    int64_t threads = subsel_ctx_threads(ctx);
    return threads > 8 ? threads : 8;
}

/* Scores of the chunk's block `cb` against the tile's targets `vt`
 * (TOPK_TILE x dim) into s (TOPK_BLOCK x TOPK_TILE, a candidate per row:
 * BLIS runs this shape faster than its transpose); returns the block's
 * number of real candidates. */
static int64_t score_block(const chunk *c, const float *vt, int64_t cb,
                           float *s)
{
    int64_t at = cb * TOPK_BLOCK;
    int64_t valid = c->valid - at < TOPK_BLOCK ? c->valid - at : TOPK_BLOCK;
    ss_sgemm_serial(0, 1, TOPK_BLOCK, TOPK_TILE, c->dim, 1.0f,
                    c->rows + at * c->dim, c->dim, vt, c->dim, 0.0f, s,
                    TOPK_TILE);
    return valid;
}

/* Rows list[first .. first + count) of v (all rows when list is NULL) into
 * vt, zero-padded to TOPK_TILE rows. */
static void gather_tile(const subsel_tarot *t, const int64_t *list,
                        int64_t first, int64_t count, float *vt)
{
    int64_t p;
    for (p = 0; p < TOPK_TILE; p++) {
        float *dst = vt + p * t->dim;
        if (p < count) {
            int64_t j = list ? list[first + p] : first + p;
            memcpy(dst, t->v + j * t->dim, (size_t)t->dim * sizeof *dst);
        } else {
            memset(dst, 0, (size_t)t->dim * sizeof *dst);
        }
    }
}

/* A bounded heap whose root is the worst kept candidate: lower score, or
 * equal score and higher index. */
typedef struct heap {
    float *s;
    int64_t *i;
    int64_t size, cap;
} heap;

static int worse(float sa, int64_t ia, float sb, int64_t ib)
{
    return ss_ranks_before(sb, ib, sa, ia);
}

static void sift_down(heap *h, int64_t p)
{
    for (;;) {
        int64_t l = 2 * p + 1, r = l + 1, w = p;
        float ts;
        int64_t ti;
        if (l < h->size && worse(h->s[l], h->i[l], h->s[w], h->i[w]))
            w = l;
        if (r < h->size && worse(h->s[r], h->i[r], h->s[w], h->i[w]))
            w = r;
        if (w == p)
            return;
        ts = h->s[p], ti = h->i[p];
        h->s[p] = h->s[w], h->i[p] = h->i[w];
        h->s[w] = ts, h->i[w] = ti;
        p = w;
    }
}

static void heap_push(heap *h, float s, int64_t i)
{
    int64_t p = h->size++;
    while (p > 0) {
        int64_t up = (p - 1) / 2;
        if (!worse(s, i, h->s[up], h->i[up]))
            break;
        h->s[p] = h->s[up];
        h->i[p] = h->i[up];
        p = up;
    }
    h->s[p] = s;
    h->i[p] = i;
}

/* Offers candidate `i` with score `s`, knowing that candidates come in
 * increasing index: when the heap is full, a score equal to the root's
 * never displaces it. `floor` is the score to beat (-inf until full). */
static void heap_offer(heap *h, float s, int64_t i, float *floor)
{
    if (h->size < h->cap) {
        heap_push(h, s, i);
        if (h->size == h->cap)
            *floor = h->s[0];
        return;
    }
    h->s[0] = s;
    h->i[0] = i;
    sift_down(h, 0);
    *floor = h->s[0];
}

/* Sorts the heap in place, best first (its arrays then hold the list). */
static void heap_sort(heap *h)
{
    int64_t size = h->size;
    while (h->size > 1) {
        int64_t last = --h->size, ti = h->i[0];
        float ts = h->s[0];
        h->s[0] = h->s[last], h->i[0] = h->i[last];
        h->s[last] = ts, h->i[last] = ti;
        sift_down(h, 0);
    }
    h->size = size;
}

/* Per-thread scratch: a target tile and its scores against a block. */
typedef struct work {
    float *vt, *s;
} work;

static int work_alloc(subsel_ctx *ctx, int nt, int64_t dim, work *w)
{
    memset(w, 0, sizeof *w);
    SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * TOPK_TILE * dim, sizeof(float),
                            &w->vt));
    SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * TOPK_TILE * TOPK_BLOCK,
                            sizeof(float), &w->s));
    return SUBSEL_OK;
}

static void work_free(subsel_ctx *ctx, work *w)
{
    ss_free(ctx, w->vt);
    ss_free(ctx, w->s);
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* The heaps of one piece of the search (a target tile, or a part of its
 * candidates), kept from chunk to chunk: heap p in s/i + p * k, its size
 * in size[p]. */
typedef struct heaps {
    float *s;
    int64_t *i, *size;
} heaps;

/* One piece of the search: target tile `tile` against the chunk's blocks
 * [cb0, cb1), into the piece's heaps `hp`. */
static void search_piece(const subsel_tarot *t, const chunk *ch,
                         const work *w, int64_t tid, const int64_t *list,
                         int64_t count, int64_t k, int64_t tile, int64_t cb0,
                         int64_t cb1, const heaps *hp)
{
    int64_t first = tile * TOPK_TILE, p, cb, dim = t->dim;
    int64_t rows = count - first < TOPK_TILE ? count - first : TOPK_TILE;
    float *vt = w->vt + tid * TOPK_TILE * dim;
    float *s = w->s + tid * TOPK_TILE * TOPK_BLOCK;
    heap h[TOPK_TILE];
    float floor[TOPK_TILE];
    if (cb0 >= cb1)
        return;
    for (p = 0; p < rows; p++) {
        h[p].s = hp->s + p * k;
        h[p].i = hp->i + p * k;
        h[p].size = hp->size[p];
        h[p].cap = k;
        floor[p] = h[p].size == k ? h[p].s[0] : -INFINITY;
    }
    for (; p < TOPK_TILE; p++) /* the zero-padded targets take nothing */
        floor[p] = INFINITY;
    gather_tile(t, list, first, rows, vt);
    for (cb = cb0; cb < cb1; cb++) {
        int64_t valid = score_block(ch, vt, cb, s), c;
        int64_t base = ch->first + cb * TOPK_BLOCK;
        /* Candidate by candidate, every target of the tile: almost every
         * score fails its target's floor, so a branch-free count (which
         * vectorises) skips most candidates before any per-target test. */
        for (c = 0; c < valid; c++) {
            const float *row = s + c * TOPK_TILE;
            int64_t above = 0;
            for (p = 0; p < TOPK_TILE; p++)
                above += row[p] > floor[p];
            if (above == 0)
                continue;
            for (p = 0; p < rows; p++)
                if (row[p] > floor[p])
                    heap_offer(&h[p], row[p], base + c, &floor[p]);
        }
    }
    for (p = 0; p < rows; p++)
        hp->size[p] = h[p].size;
}

/* The k best of `parts` sorted lists of one target (list l at
 * idx/score + l * stride, length len[l * len_stride]), into out_idx/out. */
static void merge_lists(int64_t parts, int64_t k, const int64_t *idx,
                        const float *score, int64_t stride, const int64_t *len,
                        int64_t len_stride, int64_t *pos, int64_t *out_idx,
                        float *out_score)
{
    int64_t r, l;
    for (l = 0; l < parts; l++)
        pos[l] = 0;
    for (r = 0; r < k; r++) {
        int64_t best = -1;
        for (l = 0; l < parts; l++) {
            int64_t at = l * stride + pos[l];
            if (pos[l] >= len[l * len_stride])
                continue;
            if (best < 0 ||
                worse(score[best * stride + pos[best]],
                      idx[best * stride + pos[best]], score[at], idx[at]))
                best = l;
        }
        out_idx[r] = idx[best * stride + pos[best]];
        if (out_score)
            out_score[r] = score[best * stride + pos[best]];
        pos[best]++;
    }
}

/* Progress of stage `stage` (none if NULL) at `done` of `total` pieces, in
 * targets: `count` times the share done, all of it exactly at the end;
 * each value once. */
static int report(subsel_ctx *ctx, const char *stage, int64_t done,
                  int64_t total, int64_t count, int64_t *reported)
{
    int64_t v = done == total ? count
                              : (int64_t)((double)count * (double)done /
                                          (double)total);
    if (stage == NULL || v <= *reported)
        return SUBSEL_OK;
    *reported = v;
    return ss_progress(ctx, stage, v, count);
}

int ss_tarot_topk_targets(subsel_ctx *ctx, const subsel_tarot *t,
                          const int64_t *list, int64_t count, int64_t k,
                          int64_t *idx, float *score, const char *stage)
{
    int64_t tiles = (count + TOPK_TILE - 1) / TOPK_TILE, items, chunks, c, j;
    int64_t per_tile = count < TOPK_TILE ? count : TOPK_TILE, parts = 1;
    int64_t total_blocks = (t->n + TOPK_BLOCK - 1) / TOPK_BLOCK, reported = -1;
    int64_t heaps_count, cap = chunk_blocks(ctx);
    int64_t *pos = NULL, *own_i = NULL;
    float *own_s = NULL;
    heaps hp = {0};
    int nt;
    chunk ch = {0};
    work w = {0};
    int rc = SUBSEL_OK;

    /* Fewer target tiles than threads: the candidates of each chunk are
     * split too, and each target's lists merged. The order is total, so
     * the merged lists are the same as one search's. */
    if (tiles < subsel_ctx_threads(ctx)) {
        parts = (subsel_ctx_threads(ctx) + tiles - 1) / tiles;
        if (parts > total_blocks)
            parts = total_blocks;
    }
    items = tiles * parts;
    nt = ss_threads_for(ctx, items);
    SS_TRY(chunk_alloc(ctx, cap < total_blocks ? cap : total_blocks, t->dim, 0,
                       &ch));
    SS_TRY(work_alloc(ctx, nt, t->dim, &w));
    /* One search's heaps are its lists (item p * k of the output is the
     * heap of target p); parts have heaps of their own, merged at the
     * end. */
    heaps_count = parts > 1 ? items * per_tile : count;
    if (parts > 1 || score == NULL)
        SS_TRY(ss_alloc_array(ctx, heaps_count * k, sizeof *own_s, &own_s));
    if (parts > 1)
        SS_TRY(ss_alloc_array(ctx, heaps_count * k, sizeof *own_i, &own_i));
    SS_TRY(ss_calloc_array(ctx, heaps_count, sizeof *hp.size, &hp.size));
    SS_TRY(ss_alloc_array(ctx, parts, sizeof *pos, &pos));
    hp.s = own_s ? own_s : score;
    hp.i = own_i ? own_i : idx;
    /* stage `stage`: 0 first, then after each group of pieces (a point to
     * cancel at) the share of the search done, in targets, count last */
    chunks = (t->n + ch.cap * TOPK_BLOCK - 1) / (ch.cap * TOPK_BLOCK);
    SS_TRY(report(ctx, stage, 0, chunks * items, count, &reported));
    for (c = 0; c < chunks; c++) {
        int64_t per, i0;
        SS_TRY(chunk_load(ctx, t, c * ch.cap * TOPK_BLOCK, t->n, &ch));
        per = (ch.blocks + parts - 1) / parts;
        for (i0 = 0; i0 < items; i0 += (int64_t)nt * 2) {
            int64_t i1 = i0 + (int64_t)nt * 2 < items ? i0 + (int64_t)nt * 2
                                                      : items, item;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
            for (item = i0; item < i1; item++) {
                int64_t tile = item / parts, part = item % parts, cb1;
                heaps mine;
                cb1 = (part + 1) * per < ch.blocks ? (part + 1) * per
                                                   : ch.blocks;
                mine.s = hp.s + item * per_tile * k;
                mine.i = hp.i + item * per_tile * k;
                mine.size = hp.size + item * per_tile;
                search_piece(t, &ch, &w, thread_id(), list, count, k, tile,
                             part * per, cb1, &mine);
            }
            SS_TRY(report(ctx, stage, c * items + i1, chunks * items, count,
                          &reported));
        }
    }
    /* Every heap sorted in place, best first: one search's are the
     * lists; parts' are merged target by target. */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (j = 0; j < heaps_count; j++) {
        heap h;
        h.s = hp.s + j * k;
        h.i = hp.i + j * k;
        h.size = hp.size[j];
        h.cap = k;
        heap_sort(&h);
    }
    for (j = 0; parts > 1 && j < count; j++) {
        int64_t tile = j / TOPK_TILE, p = j % TOPK_TILE;
        int64_t base = tile * parts * per_tile + p;
        merge_lists(parts, k, hp.i + base * k, hp.s + base * k, per_tile * k,
                    hp.size + base, per_tile, pos, idx + j * k,
                    score ? score + j * k : NULL);
    }
cleanup:
    chunk_free(ctx, &ch);
    work_free(ctx, &w);
    ss_free(ctx, own_s);
    ss_free(ctx, own_i);
    ss_free(ctx, hp.size);
    ss_free(ctx, pos);
    return rc;
}

int ss_tarot_lists_make(subsel_ctx *ctx, const subsel_tarot *t,
                        const ss_allocator *a, const int64_t *list,
                        int64_t count, int64_t k, ss_tarot_lists *lists,
                        const char *stage)
{
    const ss_tarot_lists *c = &t->cache;
    int64_t *idx = NULL, p;
    float *score = NULL;
    int rc = SUBSEL_OK;
    SS_TRY(ss_alloc_with(ctx, a, count * k, sizeof *idx, &idx));
    SS_TRY(ss_alloc_with(ctx, a, count * k, sizeof *score, &score));
    if (c->k >= k) {
        for (p = 0; p < count; p++) {
            int64_t j = list ? list[p] : p;
            memcpy(idx + p * k, c->idx + j * c->k, (size_t)k * sizeof *idx);
            memcpy(score + p * k, c->score + j * c->k,
                   (size_t)k * sizeof *score);
        }
    } else {
        SS_TRY(ss_tarot_topk_targets(ctx, t, list, count, k, idx, score,
                                     stage));
    }
    ss_tarot_lists_free(a, lists);
    lists->idx = idx;
    lists->score = score;
    lists->k = k;
    return SUBSEL_OK;
cleanup:
    ss_free_raw(a, idx);
    ss_free_raw(a, score);
    return rc;
}

void ss_tarot_lists_free(const ss_allocator *a, ss_tarot_lists *lists)
{
    ss_free_raw(a, lists->idx);
    ss_free_raw(a, lists->score);
    memset(lists, 0, sizeof *lists);
}

int ss_tarot_cache_topk(subsel_ctx *ctx, subsel_tarot *t, int64_t k,
                        const char *stage)
{
    if (t->cache.k >= k)
        return SUBSEL_OK;
    return ss_tarot_lists_make(ctx, t, &t->alloc, NULL, t->m, k, &t->cache,
                               stage);
}

int subsel_tarot_topk_v2(subsel_ctx *ctx, subsel_tarot *t, int64_t k,
                         int64_t *indices, int64_t indices_capacity,
                         float *scores, int64_t scores_capacity)
{
    int64_t j;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, t, SS_KIND_TAROT);
    SS_REQUIRE_NONNULL(ctx, indices);
    if (k < 1 || k > t->n)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_topk: k = %lld outside [1, %lld] (the "
                       "number of candidates)",
                       (long long)k, (long long)t->n);
    /* m k fits: the selector's cache holds as many entries. */
    SS_CHECK(ss_check_capacity(ctx, "subsel_tarot_topk", "indices",
                               indices_capacity, ss_tarot_cells(t->m, k)));
    if (scores != NULL)
        SS_CHECK(ss_check_capacity(ctx, "subsel_tarot_topk", "scores",
                                   scores_capacity, ss_tarot_cells(t->m, k)));
    SS_CHECK(ss_tarot_whiten(ctx, t));
    SS_CHECK(ss_tarot_cache_topk(ctx, t, k, "topk"));
    for (j = 0; j < t->m; j++) {
        memcpy(indices + j * k, t->cache.idx + j * t->cache.k,
               (size_t)k * sizeof *indices);
        if (scores)
            memcpy(scores + j * k, t->cache.score + j * t->cache.k,
                   (size_t)k * sizeof *scores);
    }
    return SUBSEL_OK;
}

/* Deprecated: the buffers were assumed to hold M k values. */
int subsel_tarot_topk(subsel_ctx *ctx, subsel_tarot *t, int64_t k,
                      int64_t *indices, float *scores)
{
    return subsel_tarot_topk_v2(ctx, t, k, indices, INT64_MAX, scores,
                                INT64_MAX);
}

int subsel_tarot_scores_v2(subsel_ctx *ctx, subsel_tarot *t,
                           int64_t first_candidate, int64_t candidates,
                           int64_t first_target, int64_t targets,
                           float *scores, int64_t scores_capacity,
                           float *distances, int64_t distances_capacity)
{
    int64_t tiles, tile, c0, span;
    chunk ch = {0};
    work w = {0};
    int rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, t, SS_KIND_TAROT);
    SS_REQUIRE_NONNULL(ctx, scores);
    if (first_candidate < 0 || candidates < 0 ||
        first_candidate > t->n - candidates || first_target < 0 ||
        targets < 0 || first_target > t->m - targets)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_tarot_scores: candidates [%lld, +%lld) or "
                       "targets [%lld, +%lld) outside the %lld x %lld pool",
                       (long long)first_candidate, (long long)candidates,
                       (long long)first_target, (long long)targets,
                       (long long)t->n, (long long)t->m);
    SS_CHECK(ss_check_capacity(ctx, "subsel_tarot_scores", "scores",
                               scores_capacity,
                               ss_tarot_cells(candidates, targets)));
    if (distances != NULL)
        SS_CHECK(ss_check_capacity(ctx, "subsel_tarot_scores", "distances",
                                   distances_capacity,
                                   ss_tarot_cells(candidates, targets)));
    SS_CHECK(ss_tarot_whiten(ctx, t));
    tiles = (targets + TOPK_TILE - 1) / TOPK_TILE;
    span = (first_candidate + candidates + TOPK_BLOCK - 1) / TOPK_BLOCK -
           first_candidate / TOPK_BLOCK;
    SS_TRY(chunk_alloc(ctx, chunk_blocks(ctx) < span ? chunk_blocks(ctx) : span,
                       t->dim, distances != NULL, &ch));
    SS_TRY(work_alloc(ctx, 1, t->dim, &w));
    /* Same blocks and tiles as the neighbour search, so the same bits. */
    for (c0 = first_candidate / TOPK_BLOCK * TOPK_BLOCK;
         c0 < first_candidate + candidates; c0 += ch.cap * TOPK_BLOCK) {
        SS_TRY(chunk_load(ctx, t, c0, first_candidate + candidates, &ch));
        for (tile = 0; tile < tiles; tile++) {
            int64_t first = first_target + tile * TOPK_TILE, cb, p;
            int64_t rows = first_target + targets - first < TOPK_TILE
                               ? first_target + targets - first
                               : TOPK_TILE;
            gather_tile(t, NULL, first, rows, w.vt);
            for (cb = 0; cb < ch.blocks; cb++) {
                int64_t valid = score_block(&ch, w.vt, cb, w.s), c;
                for (c = 0; c < valid; c++) {
                    int64_t r = cb * TOPK_BLOCK + c, i = c0 + r;
                    if (i < first_candidate || i >= first_candidate + candidates)
                        continue;
                    for (p = 0; p < rows; p++) {
                        int64_t j = first + p;
                        int64_t at = (i - first_candidate) * targets +
                                     (j - first_target);
                        float s = w.s[c * TOPK_TILE + p];
                        scores[at] = s;
                        if (distances) {
                            double d2 = (double)ch.sq[r] + (double)t->v_sq[j] -
                                        2.0 * (double)s;
                            distances[at] = (float)sqrt(d2 > 0.0 ? d2 : 0.0);
                        }
                    }
                }
            }
        }
    }
cleanup:
    work_free(ctx, &w);
    chunk_free(ctx, &ch);
    return rc;
}

/* Deprecated: the buffers were assumed to hold candidates x targets
 * values. */
int subsel_tarot_scores(subsel_ctx *ctx, subsel_tarot *t,
                        int64_t first_candidate, int64_t candidates,
                        int64_t first_target, int64_t targets, float *scores,
                        float *distances)
{
    return subsel_tarot_scores_v2(ctx, t, first_candidate, candidates,
                                  first_target, targets, scores, INT64_MAX,
                                  distances, INT64_MAX);
}
