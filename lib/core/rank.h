/* SPDX-License-Identifier: MIT */
/*
 * The one order by which the library picks "the best" of anything: the
 * larger value first and, between equal values, the lower index. It is a
 * public promise (include/subsel.h: ties between equal gains go to the
 * lowest index; the same for neighbour lists, TopK codes, classes,
 * prototypes and weights), and it is what makes results independent of
 * the order candidates were looked at in: blocks, threads, heaps and
 * lazy bounds all agree because every one of them compares with this.
 * Arg-maxes, heaps, sorts and top-k lists call it instead of writing the
 * comparison out. A NaN value never ranks before anything (and nothing
 * before it); callers that can meet NaN refuse it first.
 */
#ifndef SS_CORE_RANK_H
#define SS_CORE_RANK_H

#include <stdint.h>

/* 1 when (value a, index ia) ranks before (value b, index ib): a > b, or
 * a == b and ia < ib. float values and int32 indices convert exactly, so
 * every caller uses this one function. An order from the smallest value
 * first is the same order on the negated values. */
static inline int ss_ranks_before(double a, int64_t ia, double b, int64_t ib)
{
    return a > b || (a == b && ia < ib);
}

/* The same order as a qsort() comparison: -1 when (a, ia) ranks before
 * (b, ib), 1 when after, 0 when neither. */
static inline int ss_rank_compare(double a, int64_t ia, double b, int64_t ib)
{
    return ss_ranks_before(a, ia, b, ib) ? -1 : ss_ranks_before(b, ib, a, ia);
}

/* Ascending int64 values (indices, labels) as a qsort() comparison: the
 * one written for every sort of ids, sets and label lists. */
static inline int ss_compare_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

#endif
