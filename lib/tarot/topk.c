/* SPDX-License-Identifier: MIT */
/*
 * Cosine scores u . v and the k best candidates of every target, computed
 * blockwise so that the N x M score matrix is never held: candidates are
 * whitened a chunk at a time (the selector keeps no whitened copy of them),
 * and against each chunk, targets go in tiles of TOPK_TILE (one thread
 * each), candidates in blocks of TOPK_BLOCK; each target keeps a bounded
 * heap of its best k from chunk to chunk.
 *
 * A score is exact: the dot product of the two whitened rows accumulated
 * in double (the kernel table's dot_f32, or dots_f32 for several rows at
 * once, the same bits on every instruction set), rounded once to float.
 * Computing all N M of them so would take several times a product's time,
 * so a screen comes first: a fast product of the block and the tile
 * (bfloat16, at twice single precision's rate, on CPUs with AVX512_BF16;
 * else one BLIS sgemm) with a bound on its error from the rows' norms
 * (linalg/bf16.h; for sgemm gamma |u| |v|). A candidate whose screened
 * score plus the bound falls below its target's floor cannot be among the
 * target's k best and is skipped; the others (a few per target and block
 * past the first) get their exact score and go through the heap. The
 * floor is the heap's worst score once it holds k; before that, the k-th
 * largest lower bound (screened score minus the bound) among the block's
 * candidates, less a margin of a few units in the last place, so that no
 * skipped candidate could round to the score of one kept and win on its
 * lower index.
 *
 * So the screen never shows: the lists and their scores are the same bits
 * whichever screen ran, on every instruction set and thread count, for
 * any subset of the targets and any k, and depend on BLIS only through
 * the whitened rows. The order is total (higher score first, then lower
 * candidate index).
 */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "core/rank.h"
#include "linalg/bf16.h"
#include "linalg/blas.h"
#include "tarot/tarot.h"

#define TOPK_TILE 256
#define TOPK_BLOCK 2048

/* Candidate blocks whitened together: rows [first, first + valid), then
 * zero rows up to whole blocks; their squared norms if sq; if nx, their
 * norms and bfloat16 residuals (dx), rounded up (ss_bf16_norms); the rows
 * in bfloat16 (gemm_bf16's A, block after block) if packed, used when
 * bf16 (every norm within the screen's range). */
typedef struct chunk {
    float *rows, *sq, *nx, *dx;
    uint32_t *packed;
    int64_t first, valid, blocks, cap, dim;
    int bf16;
} chunk;

/* Room for `blocks` blocks of dim columns, their norms if want_norm (and
 * bfloat16 rows if want_bf16) and squared norms if want_sq. */
static int chunk_alloc(subsel_ctx *ctx, int64_t blocks, int64_t dim,
                       int want_sq, int want_norm, int want_bf16, chunk *c)
{
    memset(c, 0, sizeof *c);
    c->cap = blocks;
    c->dim = dim;
    SS_CHECK(ss_alloc_array(ctx, blocks * TOPK_BLOCK * dim, sizeof(float),
                            &c->rows));
    if (want_sq)
        SS_CHECK(ss_alloc_array(ctx, blocks * TOPK_BLOCK, sizeof(float),
                                &c->sq));
    if (want_norm) {
        SS_CHECK(ss_alloc_array(ctx, blocks * TOPK_BLOCK, sizeof(float),
                                &c->nx));
        SS_CHECK(ss_alloc_array(ctx, blocks * TOPK_BLOCK, sizeof(float),
                                &c->dx));
    }
    if (want_bf16)
        SS_CHECK(ss_alloc_array(ctx, blocks * TOPK_BLOCK * ss_bf16_pairs(dim),
                                sizeof(uint32_t), &c->packed));
    return SUBSEL_OK;
}

static void chunk_free(subsel_ctx *ctx, chunk *c)
{
    ss_free(ctx, c->rows);
    ss_free(ctx, c->sq);
    ss_free(ctx, c->nx);
    ss_free(ctx, c->dx);
    ss_free(ctx, c->packed);
}

/* Whitens the candidates [first, end), as many as fit; then, if the chunk
 * has room for them, their norms and bfloat16 rows, block by block in
 * parallel. */
static int chunk_load(subsel_ctx *ctx, const subsel_tarot *t, int64_t first,
                      int64_t end, chunk *c)
{
    int64_t count = end - first < c->cap * TOPK_BLOCK ? end - first
                                                     : c->cap * TOPK_BLOCK;
    int64_t rows, b, r;
    float top = 0.0f;
    c->first = first;
    c->valid = count;
    c->blocks = (count + TOPK_BLOCK - 1) / TOPK_BLOCK;
    rows = c->blocks * TOPK_BLOCK;
    SS_CHECK(ss_tarot_cand_rows(ctx, t, NULL, first, count, c->rows, c->sq));
    memset(c->rows + count * c->dim, 0,
           (size_t)((rows - count) * c->dim) * sizeof(float));
    if (c->nx == NULL)
        return SUBSEL_OK;
#pragma omp parallel for num_threads(ss_threads_for(ctx, c->blocks)) schedule(static)
    for (b = 0; b < c->blocks; b++) {
        int64_t i;
        for (i = b * TOPK_BLOCK; i < (b + 1) * TOPK_BLOCK; i++)
            ss_bf16_norms(c->rows + i * c->dim, c->dim, &c->nx[i], &c->dx[i]);
    }
    for (r = 0; r < count; r++)
        top = c->nx[r] > top ? c->nx[r] : top;
    c->bf16 = c->packed != NULL && top <= SS_BF16_MAX_NORM;
    if (!c->bf16)
        return SUBSEL_OK;
#pragma omp parallel for num_threads(ss_threads_for(ctx, c->blocks)) schedule(static)
    for (b = 0; b < c->blocks; b++)
        ss_bf16_pack_rows(c->rows + b * TOPK_BLOCK * c->dim, c->dim, TOPK_BLOCK,
                          c->dim,
                          c->packed + b * TOPK_BLOCK * ss_bf16_pairs(c->dim));
    return SUBSEL_OK;
}

/* Blocks whitened at once: enough for every thread to take its own. */
static int64_t chunk_blocks(const subsel_ctx *ctx)
{
    int64_t threads = subsel_ctx_threads(ctx);
    return threads > 8 ? threads : 8;
}

/* Screened scores of the chunk's block `cb` against the tile's targets
 * `vt` (TOPK_TILE x dim) into s (TOPK_BLOCK x TOPK_TILE, a candidate per
 * row: BLIS runs this shape faster than its transpose), packed into pk
 * (or by BLIS when NULL; the same bits). */
static void sgemm_block(const ss_kernels *k, const chunk *c, const float *vt,
                        int64_t cb, float *s, float *pk)
{
    ss_sgemm_nt_serial(k, TOPK_BLOCK, TOPK_TILE, c->dim,
                       c->rows + cb * TOPK_BLOCK * c->dim, c->dim, vt, c->dim,
                       s, TOPK_TILE, pk);
}

/* The same in bfloat16 for the block's rows [r0, r0 + n) (n a multiple
 * of SS_BF16_MR) against the tile packed in bt, row by row into s. */
static void bf16_rows(const ss_kernels *k, const chunk *c, const uint32_t *bt,
                      int64_t cb, int64_t r0, int64_t n, float *s)
{
    int64_t pairs = ss_bf16_pairs(c->dim), r;
    const uint32_t *a = c->packed + cb * TOPK_BLOCK * pairs;
    for (r = r0; r < r0 + n; r += SS_BF16_MR)
        k->gemm_bf16(pairs, TOPK_TILE / SS_BF16_NR, a + r * pairs, bt,
                     s + (r - r0) * TOPK_TILE, TOPK_TILE);
}

/* Rows list[first .. first + count) of v (all rows when list is NULL) into
 * vt, zero-padded to TOPK_TILE rows, and their norms and bfloat16
 * residuals (ss_bf16_norms; 0 for the padding) into ny, dy; returns the
 * largest norm. */
static float gather_tile(const subsel_tarot *t, const int64_t *list,
                         int64_t first, int64_t count, float *vt, float *ny,
                         float *dy)
{
    int64_t p;
    float top = 0.0f;
    for (p = 0; p < TOPK_TILE; p++) {
        float *dst = vt + p * t->dim;
        ny[p] = dy[p] = 0.0f;
        if (p < count) {
            int64_t j = list ? list[first + p] : first + p;
            memcpy(dst, t->v + j * t->dim, (size_t)t->dim * sizeof *dst);
            ss_bf16_norms(dst, t->dim, &ny[p], &dy[p]);
            top = ny[p] > top ? ny[p] : top;
        } else {
            memset(dst, 0, (size_t)t->dim * sizeof *dst);
        }
    }
    return top;
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
 * never displaces it. */
static void heap_offer(heap *h, float s, int64_t i)
{
    if (h->size < h->cap) {
        heap_push(h, s, i);
        return;
    }
    if (!(s > h->s[0]))
        return;
    h->s[0] = s;
    h->i[0] = i;
    sift_down(h, 0);
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

/* The k-th largest of a[0 .. n) (1 <= k <= n, no NaN), reordering a. */
static double kth_largest(double *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1, want = k - 1;
    while (lo < hi) {
        double pivot = a[lo + (hi - lo) / 2], tmp;
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] > pivot)
                i++;
            while (a[j] < pivot)
                j--;
            if (i <= j) {
                tmp = a[i], a[i] = a[j], a[j] = tmp;
                i++, j--;
            }
        }
        if (want <= j)
            hi = j;
        else if (want >= i)
            lo = i;
        else
            break; /* between the halves: equal to the pivot */
    }
    return a[want];
}

/* Per-thread scratch: a target tile (rows; norms, residuals and the
 * bound's two factors, TOPK_TILE each in ny; bfloat16 copy if bt), its
 * screened scores against a block, lower bounds. */
typedef struct work {
    float *vt, *ny, *s;
    double *lb;
    uint32_t *bt;
    float *pk;       /* sgemm_block's panels, pk_each a thread, or NULL */
    int64_t pk_each;
} work;

static int work_alloc(subsel_ctx *ctx, int nt, int64_t dim, int want_bf16,
                      work *w)
{
    memset(w, 0, sizeof *w);
    SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * TOPK_TILE * dim, sizeof(float),
                            &w->vt));
    SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * TOPK_TILE * 4, sizeof(float),
                            &w->ny));
    SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * TOPK_TILE * TOPK_BLOCK,
                            sizeof(float), &w->s));
    SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * TOPK_BLOCK, sizeof(double),
                            &w->lb));
    if (want_bf16)
        SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * TOPK_TILE * ss_bf16_pairs(dim),
                                sizeof(uint32_t), &w->bt));
    else
        w->pk_each = ss_sgemm_nt_pack_floats(TOPK_BLOCK, TOPK_TILE, dim);
    if (w->pk_each > 0)
        SS_CHECK(ss_alloc_array(ctx, (int64_t)nt * w->pk_each, sizeof(float), &w->pk));
    return SUBSEL_OK;
}

static void work_free(subsel_ctx *ctx, work *w)
{
    ss_free(ctx, w->vt);
    ss_free(ctx, w->ny);
    ss_free(ctx, w->s);
    ss_free(ctx, w->lb);
    ss_free(ctx, w->bt);
    ss_free(ctx, w->pk);
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

/* What one piece screens with: the tile's rows and heaps, each target's
 * floor (a screened score plus the bound below it is skipped), and the
 * bound's parts: for candidate c and target p,
 *   e1(c) y1[p] + e2(c) y2[p] + tiny
 * with e1 = dx + gamma (nx + dx), e2 = nx, y1 = ny + dy, y2 = dy for the
 * bfloat16 screen (linalg/bf16.h), and e1 = gamma nx, e2 = 0, y1 = ny
 * for sgemm, whose dim products and sums each round once in single
 * precision. */
typedef struct piece {
    const ss_kernels *k;
    const chunk *ch;
    const float *vt, *y1, *y2;
    heap *h;
    float *floor;
    int64_t rows, k_best;
    double gamma, tiny;
    int bf16;
} piece;

/* The bound's candidate factors e1, e2 of the chunk's row r. */
static void factors(const piece *pc, int64_t r, double *e1, double *e2)
{
    double nx = pc->ch->nx[r], dx = pc->ch->dx[r];
    *e1 = pc->bf16 ? dx + pc->gamma * (nx + dx) : pc->gamma * nx;
    *e2 = pc->bf16 ? nx : 0.0;
}

/* The candidates of the chunk's rows [r0, r0 + n), screened scores in s
 * (a row of TOPK_TILE each): those that pass a target's floor get their
 * exact score and go to its heap. */
static void screen_rows(const piece *pc, const float *s, int64_t r0, int64_t n)
{
    const chunk *ch = pc->ch;
    int64_t c, dim = ch->dim;
    for (c = 0; c < n; c++) {
        const float *x = ch->rows + (r0 + c) * dim;
        uint64_t pass[TOPK_TILE / 64], m;
        double e1, e2, exact[TOPK_TILE];
        int64_t w, q, count, list[TOPK_TILE];
        factors(pc, r0 + c, &e1, &e2);
        /* almost every candidate fails every target: one vector pass
         * finds the few that do not (padded targets never pass: floor
         * +inf, factors 0) */
        if (!pc->k->above_floor(pass, s + c * TOPK_TILE, pc->y1, pc->y2,
                                pc->floor, e1, e2, pc->tiny, TOPK_TILE))
            continue;
        for (w = 0, count = 0; w < TOPK_TILE / 64; w++)
            for (m = pass[w]; m != 0; m &= m - 1) {
                int64_t p = w * 64 + __builtin_ctzll(m);
                if (p < pc->rows) /* padding passes only with no bound */
                    list[count++] = p;
            }
        pc->k->dots_f32(exact, x, pc->vt, dim, list, count, dim);
        for (q = 0; q < count; q++) {
            heap *h = &pc->h[list[q]];
            heap_offer(h, (float)exact[q], ch->first + r0 + c);
            if (h->size == h->cap && h->s[0] > pc->floor[list[q]])
                pc->floor[list[q]] = h->s[0];
        }
    }
}

/* Floors for the targets whose heaps are not full yet, from the block's
 * rows [r0, r0 + n) (n >= k, screened scores in s): the k-th largest
 * lower bound among them, less a margin (the header comment's), rounded
 * down to a float. */
static void first_floors(const piece *pc, const float *s, int64_t r0,
                         int64_t n, double *lb)
{
    int64_t c, p;
    for (p = 0; p < pc->rows; p++) {
        double v, e1, e2;
        float f;
        if (pc->h[p].size == pc->k_best)
            continue;
        for (c = 0; c < n; c++) {
            factors(pc, r0 + c, &e1, &e2);
            v = (double)s[c * TOPK_TILE + p] -
                (e1 * pc->y1[p] + (e2 * pc->y2[p] + pc->tiny));
            /* a screened score that is not finite bounds nothing */
            lb[c] = isfinite(v) ? v : -INFINITY;
        }
        v = kth_largest(lb, n, pc->k_best);
        v -= fabs(v) * 0x1p-20 + pc->tiny;
        f = (float)v;
        if ((double)f > v)
            f = nextafterf(f, -INFINITY);
        if (f > pc->floor[p])
            pc->floor[p] = f;
    }
}

/* One piece of the search: target tile `tile` against the chunk's blocks
 * [cb0, cb1), into the piece's heaps `hp`. */
static void search_piece(const ss_kernels *k, const subsel_tarot *t,
                         const chunk *ch, const work *w, int64_t tid,
                         const int64_t *list, int64_t count, int64_t k_best,
                         int64_t tile, int64_t cb0, int64_t cb1,
                         const heaps *hp)
{
    int64_t first = tile * TOPK_TILE, p, cb, dim = t->dim;
    int64_t rows = count - first < TOPK_TILE ? count - first : TOPK_TILE;
    float *vt = w->vt + tid * TOPK_TILE * dim, *ny = w->ny + tid * TOPK_TILE * 4;
    float *dy = ny + TOPK_TILE, *y1 = dy + TOPK_TILE, *y2 = y1 + TOPK_TILE;
    float *s = w->s + tid * TOPK_TILE * TOPK_BLOCK;
    double *lb = w->lb + tid * TOPK_BLOCK;
    uint32_t *bt = w->bt ? w->bt + tid * TOPK_TILE * ss_bf16_pairs(dim) : NULL;
    heap h[TOPK_TILE];
    float floor[TOPK_TILE], top;
    piece pc = {.k = k, .ch = ch, .vt = vt, .y1 = y1, .y2 = y2, .h = h,
                .floor = floor, .rows = rows, .k_best = k_best};
    if (cb0 >= cb1)
        return;
    for (p = 0; p < rows; p++) {
        h[p].s = hp->s + p * k_best;
        h[p].i = hp->i + p * k_best;
        h[p].size = hp->size[p];
        h[p].cap = k_best;
        floor[p] = h[p].size == k_best ? h[p].s[0] : -INFINITY;
    }
    for (; p < TOPK_TILE; p++) /* the zero-padded targets take nothing */
        floor[p] = INFINITY;
    top = gather_tile(t, list, first, rows, vt, ny, dy);
    pc.bf16 = ch->bf16 && bt != NULL && top <= SS_BF16_MAX_NORM;
    if (dim > SS_BF16_MAX_DIM) {
        pc.gamma = INFINITY; /* no bound: every candidate scored exactly */
    } else if (pc.bf16) {
        pc.gamma = ss_bf16_sum_error(dim, &pc.tiny);
        ss_bf16_pack_cols(vt, dim, TOPK_TILE, dim, bt);
    } else {
        /* sgemm: dim products and dim sums, each rounded once; the same
         * room for the test and absolute part as the bfloat16 bound's */
        pc.gamma = 2.0 * (double)(dim + 2) * 0x1p-24 + 0x1p-40;
        (void)ss_bf16_sum_error(dim, &pc.tiny);
    }
    for (p = 0; p < TOPK_TILE; p++) { /* ny + dy rounded up */
        y1[p] = pc.bf16 ? nextafterf(ny[p] + dy[p], INFINITY) : ny[p];
        y2[p] = dy[p];
    }
    for (cb = cb0; cb < cb1; cb++) {
        int64_t r0 = cb * TOPK_BLOCK, r;
        int64_t valid = ch->valid - r0 < TOPK_BLOCK ? ch->valid - r0 : TOPK_BLOCK;
        int filling = 0;
        for (p = 0; p < rows; p++)
            filling |= h[p].size < k_best;
        filling = filling && valid >= k_best && pc.gamma < INFINITY;
        if (!pc.bf16 || filling) {
            /* the whole block's screened scores first */
            if (pc.bf16)
                bf16_rows(k, ch, bt, cb, 0,
                          (valid + SS_BF16_MR - 1) / SS_BF16_MR * SS_BF16_MR, s);
            else
                sgemm_block(k, ch, vt, cb, s, w->pk ? w->pk + tid * w->pk_each : NULL);
            if (filling)
                first_floors(&pc, s, r0, valid, lb);
            screen_rows(&pc, s, r0, valid);
            continue;
        }
        /* strip by strip, the scores of each still in cache */
        for (r = 0; r < valid; r += SS_BF16_MR) {
            bf16_rows(k, ch, bt, cb, r, SS_BF16_MR, s);
            screen_rows(&pc, s, r0 + r,
                        valid - r < SS_BF16_MR ? valid - r : SS_BF16_MR);
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
    const ss_kernels *kt = ss_kernels_for(ctx);
    int nt, bf16 = kt->gemm_bf16 != NULL && t->dim <= SS_BF16_MAX_DIM;
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
                       1, bf16, &ch));
    SS_TRY(work_alloc(ctx, nt, t->dim, bf16, &w));
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
                search_piece(kt, t, &ch, &w, thread_id(), list, count, k, tile,
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
    const ss_kernels *k = ss_kernels_for(ctx);
    int64_t c0, span;
    chunk ch = {0};
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
    span = (candidates + TOPK_BLOCK - 1) / TOPK_BLOCK;
    SS_TRY(chunk_alloc(ctx, chunk_blocks(ctx) < span ? chunk_blocks(ctx) : span,
                       t->dim, distances != NULL, 0, 0, &ch));
    /* Each score exact, as the neighbour search's (the header comment),
     * so the two agree to the bit. */
    for (c0 = first_candidate; c0 < first_candidate + candidates;
         c0 += ch.cap * TOPK_BLOCK) {
        int64_t r;
        SS_TRY(chunk_load(ctx, t, c0, first_candidate + candidates, &ch));
#pragma omp parallel for num_threads(ss_threads_for(ctx, ch.valid)) schedule(static)
        for (r = 0; r < ch.valid; r++) {
            const float *x = ch.rows + r * t->dim;
            int64_t i = c0 + r, j0, j;
            double exact[TOPK_TILE];
            for (j0 = first_target; j0 < first_target + targets; j0 += TOPK_TILE) {
                int64_t part = first_target + targets - j0 < TOPK_TILE
                                   ? first_target + targets - j0 : TOPK_TILE;
                k->dots_f32(exact, x, t->v + j0 * t->dim, t->dim, NULL, part, t->dim);
                for (j = j0; j < j0 + part; j++) {
                    int64_t at = (i - first_candidate) * targets + (j - first_target);
                    float s = (float)exact[j - j0];
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
cleanup:
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
