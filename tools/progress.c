/* SPDX-License-Identifier: MIT */
/*
 * The progress bar of a terminal (progress.h). It sees every report of the
 * library through the stage clock's watcher, so every command gets the same
 * bar without a line of its own. A stage's bar appears once the stage has
 * run SUBSEL_PROGRESS_DELAY seconds (default 0.5: quick stages stay silent),
 * is redrawn at most ten times a second, and ends with a newline when the
 * stage completes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"
#include "stages.h"

enum { MODE_LINES, MODE_BAR, MODE_QUIET };

#define BAR_WIDTH 24

static struct {
    int mode;
    const char *command;
    double delay;
    char stage[32];
    int64_t last_done;
    double start, drawn;
    int open;     /* a bar is on the line, without its newline */
    int finished; /* the stage's bar was drawn complete */
} bar = {MODE_LINES, "", 0.5, "", 0, 0, 0, 0, 0};

/* "12.3k" style: three significant digits and an SI suffix. */
static void si(double v, char *buf, size_t cap)
{
    static const char suffix[] = " kMGTP";
    int i = 0;
    while (v >= 999.5 && i < 5) {
        v /= 1000;
        i++;
    }
    if (i == 0)
        snprintf(buf, cap, "%.3g", v);
    else
        snprintf(buf, cap, "%.3g%c", v, suffix[i]);
}

static void clock_text(double seconds, char *buf, size_t cap)
{
    long s = seconds < 0 ? 0 : seconds > 359999 ? 359999 : (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, cap, "%ld:%02ld", s / 60, s % 60);
}

static void draw(int64_t done, int64_t total, double now)
{
    char fill[BAR_WIDTH + 1], rate_text[16], time_text[32];
    double elapsed = now - bar.start, rate = elapsed > 0 ? (double)done / elapsed : 0;
    int i, full = total > 0 ? (int)((double)BAR_WIDTH * (double)done / (double)total) : 0;
    for (i = 0; i < BAR_WIDTH; i++)
        fill[i] = i < full ? '#' : '-';
    fill[BAR_WIDTH] = '\0';
    si(rate, rate_text, sizeof rate_text);
    if (done >= total)
        clock_text(elapsed, time_text, sizeof time_text);
    else if (rate > 0)
        clock_text((double)(total - done) / rate, time_text, sizeof time_text);
    else
        snprintf(time_text, sizeof time_text, "?");
    fprintf(stderr, "\rsubsel %s: %s [%s] %lld/%lld %3.0f%% %s/s %s %s\033[K", bar.command,
            bar.stage, fill, (long long)done, (long long)total,
            100.0 * (double)done / (double)total, rate_text,
            done >= total ? "in" : "ETA", time_text);
    bar.open = 1;
    bar.drawn = now;
    if (done >= total) {
        bar.finished = 1;
        progress_break();
    } else
        fflush(stderr);
}

static int on_report(void *user, const char *stage, int64_t done, int64_t total)
{
    double now = stages_now();
    (void)user;
    if (strncmp(stage, bar.stage, sizeof bar.stage - 1) != 0 || done < bar.last_done) {
        progress_break(); /* the last stage's bar stays as it was */
        snprintf(bar.stage, sizeof bar.stage, "%s", stage);
        bar.start = now;
        bar.finished = 0;
    }
    bar.last_done = done;
    if (total <= 0 || bar.finished || now - bar.start < bar.delay ||
        (bar.open && done < total && now - bar.drawn < 0.1))
        return 0;
    draw(done > total ? total : done, total, now);
    return 0;
}

void progress_start(const cli_command *cmd, int quiet)
{
    const char *delay = getenv("SUBSEL_PROGRESS_DELAY");
    bar.command = cmd->name;
    bar.mode = quiet ? MODE_QUIET : isatty(STDERR_FILENO) ? MODE_BAR : MODE_LINES;
    if (delay != NULL && delay[0] != '\0')
        bar.delay = atof(delay);
    stages_watch(bar.mode == MODE_BAR ? on_report : NULL, NULL);
}

int progress_lines(void)
{
    return bar.mode == MODE_LINES;
}

void progress_break(void)
{
    if (!bar.open)
        return;
    fputc('\n', stderr);
    fflush(stderr);
    bar.open = 0;
}
