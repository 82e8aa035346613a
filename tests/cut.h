/* SPDX-License-Identifier: MIT */
/*
 * A test-only objective: the weighted directed cut function
 * f(S) = sum_{i in S, j not in S} W[i][j] of a small dense graph, the
 * textbook nonnegative, non-monotone submodular function (for W >= 0). The
 * suites use it to check double greedy's guarantees against enumeration.
 * Internal: not exported.
 */
#ifndef SS_OBJECTIVES_CUT_H
#define SS_OBJECTIVES_CUT_H

#include <stdint.h>

#include "objectives/objective.h"

/* A cut function over n vertices with the n x n row-major weights W
 * (copied): finite, >= 0, zero diagonal. */
int ss_cut_create(subsel_ctx *ctx, int64_t n, const double *weights,
                  subsel_objective **out);

extern const ss_objective_ops ss_cut_ops;

#endif
