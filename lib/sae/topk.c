/* SPDX-License-Identifier: MIT */
/*
 * TopK(ReLU(.)) of one row of pre-activations, the selection half of the
 * encoder.
 *
 * "Best" is a total order: larger value first, then lower index. The kept
 * set is therefore unique and does not depend on how the work is split;
 * everything here is comparisons and one float addition, so the result is
 * the same on every machine (the row's arithmetic is in the BLIS product
 * before it).
 *
 * How: a heap holds the k best entries seen so far, its root the worst of
 * them; the scan tests blocks of 16 entries against the root at once (a max
 * tree the compiler turns into vector instructions) and looks at single
 * entries only in blocks that hold a candidate. Started from 0, the root
 * rises slowly, and about half the blocks of a 16k row would hold one. So
 * the pass that adds the bias also keeps the maximum of each of G
 * interleaved groups (entries j with the same j mod G: a vertical max, also
 * vectorised), G >= 2k; the k-th largest of those maxima is reached by at
 * least k distinct entries, so no entry below it can be kept, and the scan
 * starts from it: about 1.4k entries of the row pass the test. At the end
 * the heap holds the code; sorting its k entries by column is cheaper than
 * another pass over the row.
 */
#include <float.h>
#include <math.h>

#include "core/rank.h"
#include "sae/sae.h"

/* Entries tested at once against the heap's root (the max tree below is
 * written for 16). */
#define TOPK_BLOCK 16
/* Fewest entries per group of the lower bound, and fewest groups. */
#define TOPK_GROUP_MIN_SIZE 16
#define TOPK_GROUP_MIN_COUNT 64

/* 1 if a ranks below b (core/rank.h): b ranks before a. */
static int worse(ss_topk_entry a, ss_topk_entry b)
{
    return ss_ranks_before(b.value, b.index, a.value, a.index);
}

static void sift_up(ss_topk_entry *heap, int64_t i)
{
    ss_topk_entry e = heap[i];
    while (i > 0) {
        int64_t parent = (i - 1) / 2;
        if (!worse(e, heap[parent]))
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = e;
}

static void sift_down(ss_topk_entry *heap, int64_t size)
{
    ss_topk_entry e = heap[0];
    int64_t i = 0;
    for (;;) {
        int64_t child = 2 * i + 1;
        if (child >= size)
            break;
        if (child + 1 < size && worse(heap[child + 1], heap[child]))
            child++;
        if (!worse(heap[child], e))
            break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = e;
}

/* The number of groups of the lower bound for a row of n and k: the
 * smallest power of two that is at least 2k and TOPK_GROUP_MIN_COUNT, when
 * the groups then have TOPK_GROUP_MIN_SIZE entries or more; else 0 (no
 * bound: short rows, large k). */
static int64_t group_count(int64_t n, int64_t k)
{
    int64_t g = TOPK_GROUP_MIN_COUNT;
    while (g < 2 * k)
        g *= 2;
    return n / g >= TOPK_GROUP_MIN_SIZE ? g : 0;
}

int64_t ss_sae_topk_work(int64_t n, int64_t k)
{
    return group_count(n, k);
}

static float max2(float a, float b)
{
    return a > b ? a : b;
}

/* 1 if v[j] is not finite for some j < n. */
static int any_nonfinite(const float *v, int64_t n)
{
    int bad = 0;
    int64_t j;
    for (j = 0; j < n; j++)
        bad |= !(fabsf(v[j]) <= FLT_MAX);
    return bad;
}

/* a[j] += b[j] for j < n; 1 if a result is not finite. */
static int add_into(float *restrict a, const float *restrict b, int64_t n)
{
    int bad = 0;
    int64_t j;
    for (j = 0; j < n; j++) {
        float v = a[j] + b[j];
        a[j] = v;
        bad |= !(fabsf(v) <= FLT_MAX);
    }
    return bad;
}

/* As add_into (b may be NULL: nothing to add), and gmax[j] = max(gmax[j],
 * the new a[j]). */
static int add_max_into(float *restrict a, const float *restrict b,
                        float *restrict gmax, int64_t n)
{
    int bad = 0;
    int64_t j;
    if (b == NULL) {
        for (j = 0; j < n; j++) {
            bad |= !(fabsf(a[j]) <= FLT_MAX);
            gmax[j] = max2(a[j], gmax[j]);
        }
        return bad;
    }
    for (j = 0; j < n; j++) {
        float v = a[j] + b[j];
        a[j] = v;
        bad |= !(fabsf(v) <= FLT_MAX);
        gmax[j] = max2(v, gmax[j]);
    }
    return bad;
}

/* Adds the bias to act[0..n) and, with g > 0 groups (n >= g), writes the
 * maximum of each group {j : j mod g = i} to gmax[i]. 1 if an activation
 * is not finite. */
static int add_bias(float *act, const float *bias, int64_t n, float *gmax,
                    int64_t g)
{
    int64_t from, i;
    int bad;
    if (g == 0)
        return bias ? add_into(act, bias, n) : any_nonfinite(act, n);
    for (i = 0; i < g; i++)
        gmax[i] = -INFINITY;
    bad = 0;
    for (from = 0; from < n; from += g)
        bad |= add_max_into(act + from, bias ? bias + from : NULL, gmax,
                            n - from < g ? n - from : g);
    return bad;
}

/* 1 if one of the 16 entries at v is above thr. A balanced max tree over
 * four interleaved lanes, which compilers map to four-wide vector max. */
static int block_above(const float *v, float thr)
{
    float m[4];
    int i;
    for (i = 0; i < 4; i++)
        m[i] = max2(max2(v[i], v[i + 4]), max2(v[i + 8], v[i + 12]));
    return max2(max2(m[0], m[1]), max2(m[2], m[3])) > thr;
}

/* The start of the first block from `from` on that holds an entry above
 * thr, or of the last, partial block (n when there is none). */
static int64_t next_block(const float *v, int64_t from, int64_t n, float thr)
{
    while (from + TOPK_BLOCK <= n && !block_above(v + from, thr))
        from += TOPK_BLOCK;
    return from;
}

/* Keeps in heap the (at most) k best entries of v[0..n) that are above
 * `floor`; returns how many it keeps. */
static int64_t heap_select(const float *v, int64_t n, int64_t k, float floor,
                           ss_topk_entry *heap)
{
    int64_t size = 0, j, from;
    float thr = floor; /* an entry must beat this to enter the heap */
    for (from = 0; (from = next_block(v, from, n, thr)) < n; from += TOPK_BLOCK) {
        int64_t to = n - from < TOPK_BLOCK ? n : from + TOPK_BLOCK;
        for (j = from; j < to; j++) {
            ss_topk_entry e;
            /* Strictly greater: an equal value at a higher index ranks
             * below the root, and indices only grow along the scan. */
            if (!(v[j] > thr))
                continue;
            e.value = v[j];
            e.index = (int32_t)j;
            if (size < k) {
                heap[size] = e;
                sift_up(heap, size++);
                if (size == k)
                    thr = heap[0].value;
            } else {
                heap[0] = e;
                sift_down(heap, size);
                thr = heap[0].value;
            }
        }
    }
    return size;
}

/* Moves e[i] down the max-heap on index e[0..n). */
static void sift_by_index(ss_topk_entry *e, int64_t i, int64_t n)
{
    ss_topk_entry t = e[i];
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && e[c + 1].index > e[c].index)
            c++;
        if (e[c].index <= t.index)
            break;
        e[i] = e[c];
        i = c;
    }
    e[i] = t;
}

/* Sorts e[0..n) by index, in place (heapsort: no recursion, no scratch). */
static void sort_by_index(ss_topk_entry *e, int64_t n)
{
    int64_t i;
    for (i = n / 2 - 1; i >= 0; i--)
        sift_by_index(e, i, n);
    for (i = n - 1; i > 0; i--) {
        ss_topk_entry t = e[0];
        e[0] = e[i];
        e[i] = t;
        sift_by_index(e, 0, i);
    }
}

int64_t ss_sae_topk_row(float *act, const float *bias, int64_t n, int64_t k,
                        ss_topk_entry *heap, float *work, int32_t *indices,
                        float *values)
{
    int64_t g = group_count(n, k), size, j;
    float floor = 0.0f; /* only positive entries are kept */

    if (add_bias(act, bias, n, work, g))
        return -1;
    /* k positive group maxima: at least k entries reach the k-th of them,
     * so the k-th best does too. Start just below it. */
    if (g > 0 && heap_select(work, g, k, 0.0f, heap) == k)
        floor = nextafterf(heap[0].value, 0.0f);
    size = heap_select(act, n, k, floor, heap);
    sort_by_index(heap, size);
    for (j = 0; j < size; j++) {
        indices[j] = heap[j].index;
        values[j] = heap[j].value;
    }
    return size;
}
