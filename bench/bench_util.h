/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the benchmarks: a monotonic clock, JSON-lines output,
 * stage timing, and peak resident memory. Every benchmark prints one JSON
 * object per measurement on stdout, so results can be collected with
 * `./run bench`, and ends it with the measurement's stages ("build" for
 * making the inputs and objects, "select", ...: the CLI's stage clock,
 * tools/stages.h), so the figures show where the time went.
 */
#ifndef SUBSEL_BENCH_UTIL_H
#define SUBSEL_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "stages.h"

static inline double bench_now(void)
{
    return stages_now();
}

/* A number as JSON writes it: "null" when it is not finite (JSON has no
 * inf or nan). `buf` holds at least 32 characters. */
static inline const char *bench_json_number(char *buf, double v)
{
    if (v - v != 0.0)
        return "null";
    snprintf(buf, 32, "%.6g", v);
    return buf;
}

/* Ends a measurement's JSON line (printed so far without its closing
 * brace) with the stages timed since the previous line,
 *   , "stages": {"build": s, "select": s}}
 * and a newline, and starts the next line's stages afresh. */
static inline void bench_end_line(void)
{
    int i, count = stages_count();
    printf(", \"stages\": {");
    for (i = 0; i < count; i++)
        printf("%s\"%s\": %.4f", i ? ", " : "", stages_name(i), stages_seconds(i));
    printf("}}\n");
    fflush(stdout);
    stages_reset();
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
