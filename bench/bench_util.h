/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the benchmarks: a monotonic clock, JSON-lines output,
 * and peak resident memory. Every benchmark prints one JSON object per
 * measurement on stdout, so results can be collected with `./run bench`.
 */
#ifndef SUBSEL_BENCH_UTIL_H
#define SUBSEL_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Peak resident set size of this process so far, in bytes. */
static inline double bench_peak_rss_bytes(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss * 1024.0;
}

/* A size from the environment (for quick runs: SUBSEL_BENCH_SCALE=0.1). */
static inline double bench_scale(void)
{
    const char *s = getenv("SUBSEL_BENCH_SCALE");
    double v = s ? atof(s) : 1.0;
    return v > 0 ? v : 1.0;
}

#endif
