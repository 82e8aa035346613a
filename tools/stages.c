/* SPDX-License-Identifier: MIT */
/*
 * The stage clock of stages.h. It depends on the public header alone, so
 * the benchmarks time their stages with it too.
 */
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "stages.h"

/* More than any command or benchmark has. */
#define MAX_STAGES 12
/* Contexts with a progress callback at once (a command has one or two). */
#define MAX_CONTEXTS 4

static struct {
    const char *name[MAX_STAGES];
    double seconds[MAX_STAGES];
    int64_t peak_rss[MAX_STAGES];
    int count;
    int running; /* index, or -1 */
    double since;
    int validating; /* within the library's "validate" reports */
    int resume;     /* the stage the validation interrupted, or -1 */
} clock_ = {{NULL}, {0}, {0}, 0, -1, 0, 0, -1};

static subsel_progress_fn watcher;
static void *watcher_user;

static struct {
    subsel_ctx *ctx;
    subsel_progress_fn fn;
    void *user;
} hooks[MAX_CONTEXTS];

static int stage_index(const char *name)
{
    int i;
    for (i = 0; i < clock_.count; i++)
        if (strcmp(clock_.name[i], name) == 0)
            return i;
    if (clock_.count == MAX_STAGES)
        return -1;
    clock_.name[clock_.count] = name;
    clock_.seconds[clock_.count] = 0;
    clock_.peak_rss[clock_.count] = 0;
    return clock_.count++;
}

double stages_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int64_t stages_peak_rss_now(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0)
        return 0;
    return (int64_t)u.ru_maxrss * 1024; /* Linux: kilobytes */
}

static void switch_to(int index)
{
    double now = stages_now();
    if (clock_.running >= 0) {
        clock_.seconds[clock_.running] += now - clock_.since;
        clock_.peak_rss[clock_.running] = stages_peak_rss_now();
    }
    clock_.running = index;
    clock_.since = now;
}

void stages_begin(const char *name)
{
    clock_.validating = 0;
    switch_to(name != NULL ? stage_index(name) : -1);
}

/* The library reports (validate, 0, n) when it starts checking what it
 * read and (validate, n, n) when it is done: the time between is
 * "validate", and the stage it interrupted goes on afterwards. */
static int on_progress(void *user, const char *stage, int64_t done,
                       int64_t total)
{
    subsel_ctx *ctx = user;
    int i;
    if (watcher != NULL)
        watcher(watcher_user, stage, done, total);
    if (strcmp(stage, "validate") == 0) {
        if (done == 0 && !clock_.validating) {
            clock_.validating = 1;
            clock_.resume = clock_.running;
            switch_to(stage_index("validate"));
        } else if (done >= total && clock_.validating) {
            clock_.validating = 0;
            switch_to(clock_.resume);
        }
    }
    for (i = 0; i < MAX_CONTEXTS; i++)
        if (hooks[i].ctx == ctx && hooks[i].fn != NULL)
            return hooks[i].fn(hooks[i].user, stage, done, total);
    return 0;
}

void stages_set_progress(subsel_ctx *ctx, subsel_progress_fn fn, void *user)
{
    int i, slot = -1;
    for (i = 0; i < MAX_CONTEXTS && slot < 0; i++)
        if (hooks[i].ctx == ctx)
            slot = i;
    for (i = 0; i < MAX_CONTEXTS && slot < 0; i++)
        if (hooks[i].ctx == NULL)
            slot = i;
    if (slot < 0) { /* more contexts than expected: no stage split for it */
        subsel_ctx_set_progress(ctx, fn, user);
        return;
    }
    hooks[slot].ctx = ctx;
    hooks[slot].fn = fn;
    hooks[slot].user = user;
    subsel_ctx_set_progress(ctx, on_progress, ctx);
}

int stages_count(void)
{
    stages_begin(NULL);
    return clock_.count;
}

const char *stages_name(int i)
{
    return i >= 0 && i < clock_.count ? clock_.name[i] : NULL;
}

double stages_seconds(int i)
{
    return i >= 0 && i < clock_.count ? clock_.seconds[i] : 0.0;
}

int64_t stages_peak_rss(int i)
{
    return i >= 0 && i < clock_.count ? clock_.peak_rss[i] : 0;
}

void stages_watch(subsel_progress_fn fn, void *user)
{
    watcher = fn;
    watcher_user = user;
}

void stages_reset(void)
{
    clock_.count = 0;
    clock_.running = -1;
    clock_.validating = 0;
    clock_.resume = -1;
}
