/* SPDX-License-Identifier: MIT */
/*
 * Cosine scores u . v and the k best candidates of every target, computed
 * blockwise so that the N x M score matrix is never held: targets go in
 * tiles of TOPK_TILE (one thread each), candidates in blocks of
 * TOPK_BLOCK, each tile-block product one BLIS sgemm, and each target keeps
 * a bounded heap of its best k.
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

/* The candidate blocks: full ones are read in place; the last, partial one
 * from a zero-padded copy. */
typedef struct blocks {
    const float *u;
    float *last; /* TOPK_BLOCK x dim, or NULL when n % TOPK_BLOCK == 0 */
    int64_t n, dim, count;
} blocks;

static int blocks_init(subsel_ctx *ctx, const subsel_tarot *t, blocks *b)
{
    int64_t rem = t->n % TOPK_BLOCK;
    b->u = t->u;
    b->n = t->n;
    b->dim = t->dim;
    b->count = (t->n + TOPK_BLOCK - 1) / TOPK_BLOCK;
    b->last = NULL;
    if (rem == 0)
        return SUBSEL_OK;
    SS_CHECK(ss_calloc_array(ctx, TOPK_BLOCK * t->dim, sizeof(float),
                             &b->last));
    memcpy(b->last, t->u + (t->n - rem) * t->dim,
           (size_t)(rem * t->dim) * sizeof(float));
    return SUBSEL_OK;
}

/* Scores of candidate block `cb` against the tile's targets `vt`
 * (TOPK_TILE x dim) into s (TOPK_BLOCK x TOPK_TILE, a candidate per row:
 * BLIS runs this shape faster than its transpose); returns the block's
 * number of real candidates. */
static int64_t score_block(const blocks *b, const float *vt, int64_t cb,
                           float *s)
{
    int64_t first = cb * TOPK_BLOCK;
    int64_t valid = b->n - first < TOPK_BLOCK ? b->n - first : TOPK_BLOCK;
    const float *a = valid == TOPK_BLOCK ? b->u + first * b->dim : b->last;
    ss_sgemm_serial(0, 1, TOPK_BLOCK, TOPK_TILE, b->dim, 1.0f, a, b->dim, vt,
                    b->dim, 0.0f, s, TOPK_TILE);
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

/* Empties the heap into idx/score, best first. */
static void heap_drain(heap *h, int64_t *idx, float *score)
{
    while (h->size > 0) {
        int64_t last = --h->size;
        idx[last] = h->i[0];
        if (score)
            score[last] = h->s[0];
        h->s[0] = h->s[last];
        h->i[0] = h->i[last];
        sift_down(h, 0);
    }
}

typedef struct work {
    float *vt, *s, *hs;
    int64_t *hi;
} work;

static int work_alloc(subsel_ctx *ctx, int nt, int64_t dim, int64_t heaps,
                      int64_t k, work *w)
{
    memset(w, 0, sizeof *w);
    SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * TOPK_TILE * dim, sizeof(float),
                            &w->vt));
    SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * TOPK_TILE * TOPK_BLOCK,
                            sizeof(float), &w->s));
    if (k > 0) {
        SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * heaps * k, sizeof(float),
                                &w->hs));
        SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * heaps * k, sizeof(int64_t),
                                &w->hi));
    }
    return SUBSEL_OK;
}

static void work_free(subsel_ctx *ctx, work *w)
{
    ss_free(ctx, w->vt);
    ss_free(ctx, w->s);
    ss_free(ctx, w->hs);
    ss_free(ctx, w->hi);
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* One piece of the search: target tile `tile` against candidate blocks
 * [cb0, cb1). Row p of the tile's lists goes to idx/score + p * k (best
 * first; score may be NULL) and its length to sizes[p] (may be NULL). */
static void search_piece(const subsel_tarot *t, const blocks *b,
                         const work *w, int64_t tid, const int64_t *list,
                         int64_t count, int64_t heaps, int64_t k,
                         int64_t tile, int64_t cb0, int64_t cb1,
                         int64_t *idx, float *score, int64_t *sizes)
{
    int64_t first = tile * TOPK_TILE, p, cb, dim = t->dim;
    int64_t rows = count - first < TOPK_TILE ? count - first : TOPK_TILE;
    float *vt = w->vt + tid * TOPK_TILE * dim;
    float *s = w->s + tid * TOPK_TILE * TOPK_BLOCK;
    heap h[TOPK_TILE];
    float floor[TOPK_TILE];
    for (p = 0; p < rows; p++) {
        h[p].s = w->hs + (tid * heaps + p) * k;
        h[p].i = w->hi + (tid * heaps + p) * k;
        h[p].size = 0;
        h[p].cap = k;
        floor[p] = -INFINITY;
    }
    for (; p < TOPK_TILE; p++) /* the zero-padded targets take nothing */
        floor[p] = INFINITY;
    gather_tile(t, list, first, rows, vt);
    for (cb = cb0; cb < cb1; cb++) {
        int64_t valid = score_block(b, vt, cb, s), c;
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
                    heap_offer(&h[p], row[p], cb * TOPK_BLOCK + c, &floor[p]);
        }
    }
    for (p = 0; p < rows; p++) {
        if (sizes)
            sizes[p] = h[p].size;
        heap_drain(&h[p], idx + p * k, score ? score + p * k : NULL);
    }
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

int ss_tarot_topk_targets(subsel_ctx *ctx, const subsel_tarot *t,
                          const int64_t *list, int64_t count, int64_t k,
                          int64_t *idx, float *score, const char *stage)
{
    int64_t tiles = (count + TOPK_TILE - 1) / TOPK_TILE, i0, items, per;
    int64_t heaps = count < TOPK_TILE ? count : TOPK_TILE, parts = 1;
    int64_t *tidx = NULL, *tlen = NULL, *pos = NULL;
    float *tscore = NULL;
    int nt = ss_threads_for(ctx, tiles), ntw;
    blocks b = {0};
    work w = {0};
    int rc = SUBSEL_OK;

    SS_TRY(blocks_init(ctx, t, &b));
    /* Fewer target tiles than threads: the candidates are split too, and
     * each target's lists merged. The order is total, so the merged lists
     * are the same as one search's. */
    if (tiles < subsel_ctx_threads(ctx)) {
        parts = (subsel_ctx_threads(ctx) + tiles - 1) / tiles;
        if (parts > b.count)
            parts = b.count;
    }
    per = (b.count + parts - 1) / parts;
    parts = (b.count + per - 1) / per;
    items = tiles * parts;
    ntw = ss_threads_for(ctx, items);
    if (ntw > nt)
        nt = ntw;
    SS_TRY(work_alloc(ctx, nt, t->dim, heaps, k, &w));
    if (parts > 1) {
        SS_TRY(ss_alloc_array(ctx, items * heaps * k, sizeof *tidx, &tidx));
        SS_TRY(ss_alloc_array(ctx, items * heaps * k, sizeof *tscore, &tscore));
        SS_TRY(ss_alloc_array(ctx, items * heaps, sizeof *tlen, &tlen));
        SS_TRY(ss_alloc_array(ctx, parts, sizeof *pos, &pos));
    }
    /* stage `stage`: 0 before the first group, count after the last */
    if (stage != NULL)
        SS_TRY(ss_progress(ctx, stage, 0, count));
    for (i0 = 0; i0 < items; i0 += (int64_t)nt * 2) {
        int64_t i1 = i0 + (int64_t)nt * 2, item, done;
        if (i1 > items)
            i1 = items;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (item = i0; item < i1; item++) {
            int64_t tile = item / parts, part = item % parts;
            int64_t cb1 = (part + 1) * per;
            if (cb1 > b.count)
                cb1 = b.count;
            if (parts == 1)
                search_piece(t, &b, &w, thread_id(), list, count, heaps, k,
                             tile, 0, b.count, idx + tile * TOPK_TILE * k,
                             score ? score + tile * TOPK_TILE * k : NULL, NULL);
            else
                search_piece(t, &b, &w, thread_id(), list, count, heaps, k,
                             tile, part * per, cb1, tidx + item * heaps * k,
                             tscore + item * heaps * k, tlen + item * heaps);
        }
        done = i1 / parts * TOPK_TILE;
        if (stage != NULL)
            SS_TRY(ss_progress(ctx, stage, done < count ? done : count, count));
    }
    if (parts > 1) {
        int64_t j;
        for (j = 0; j < count; j++) {
            int64_t tile = j / TOPK_TILE, p = j % TOPK_TILE;
            int64_t base = tile * parts * heaps * k + p * k;
            merge_lists(parts, k, tidx + base, tscore + base, heaps * k,
                        tlen + tile * parts * heaps + p, heaps, pos,
                        idx + j * k, score ? score + j * k : NULL);
        }
    }
cleanup:
    work_free(ctx, &w);
    ss_free(ctx, b.last);
    ss_free(ctx, tidx);
    ss_free(ctx, tscore);
    ss_free(ctx, tlen);
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
    int64_t tiles, tile, dim;
    blocks b = {0};
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
    dim = t->dim;
    tiles = (targets + TOPK_TILE - 1) / TOPK_TILE;
    SS_TRY(blocks_init(ctx, t, &b));
    SS_TRY(work_alloc(ctx, 1, dim, 0, 0, &w));
    /* Same tiles and blocks as the neighbour search, so the same bits. */
    for (tile = 0; tile < tiles; tile++) {
        int64_t first = first_target + tile * TOPK_TILE, cb, p;
        int64_t rows = first_target + targets - first < TOPK_TILE
                           ? first_target + targets - first
                           : TOPK_TILE;
        gather_tile(t, NULL, first, rows, w.vt);
        for (cb = first_candidate / TOPK_BLOCK;
             cb * TOPK_BLOCK < first_candidate + candidates; cb++) {
            int64_t valid = score_block(&b, w.vt, cb, w.s), c;
            for (c = 0; c < valid; c++) {
                int64_t i = cb * TOPK_BLOCK + c;
                if (i < first_candidate || i >= first_candidate + candidates)
                    continue;
                for (p = 0; p < rows; p++) {
                    int64_t j = first + p;
                    int64_t at = (i - first_candidate) * targets +
                                 (j - first_target);
                    float s = w.s[c * TOPK_TILE + p];
                    scores[at] = s;
                    if (distances) {
                        double d2 = (double)t->u_sq[i] + (double)t->v_sq[j] -
                                    2.0 * (double)s;
                        distances[at] = (float)sqrt(d2 > 0.0 ? d2 : 0.0);
                    }
                }
            }
        }
    }
cleanup:
    work_free(ctx, &w);
    ss_free(ctx, b.last);
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
