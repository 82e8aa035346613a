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

/* Whether to run the part named `part`: SUBSEL_BENCH_PARTS is unset, or a
 * comma-separated list that names it (e.g. SUBSEL_BENCH_PARTS=isa,lazy). */
static inline int bench_wanted(const char *part)
{
    const char *s = getenv("SUBSEL_BENCH_PARTS");
    size_t len = strlen(part);
    if (s == NULL || *s == '\0')
        return 1;
    while (*s) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n == len && strncmp(s, part, len) == 0)
            return 1;
        s += n + (end != NULL);
    }
    return 0;
}

#endif
