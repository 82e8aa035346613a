/* SPDX-License-Identifier: MIT */
/*
 * Where a command's or a benchmark's time goes, for the "stages" object of
 * its JSON ({"load": s, "validate": s, "build": s, "select": s, "write": s}):
 * the program marks where its stages begin, and the library's progress
 * reports split validation out of loading (a file is checked as it is
 * read, inside one library call). Stages that run more than once add up;
 * they are listed in the order they first ran. One clock per process (the
 * CLI runs one command; a benchmark resets it between measurements).
 */
#ifndef SUBSEL_STAGES_H
#define SUBSEL_STAGES_H

#include <stdint.h>

#include "subsel.h"

/* Ends the running stage and starts `name` (a string that outlives the
 * command), or none when name is NULL. */
void stages_begin(const char *name);

/* Installs `fn` (user data `user`; NULL for none) as ctx's progress
 * callback, behind one that feeds the library's "validate" reports to the
 * stage clock. Every command installs its callbacks through this. */
void stages_set_progress(subsel_ctx *ctx, subsel_progress_fn fn, void *user);

/* Ends the running stage and returns how many stages have run. */
int stages_count(void);

/* The name and the seconds of stage i in [0, stages_count()). */
const char *stages_name(int i);
double stages_seconds(int i);

/* The process's peak resident memory in bytes when stage i last ended
 * (getrusage's ru_maxrss: a high-water mark, so it never decreases from
 * one stage to the next), and now. */
int64_t stages_peak_rss(int i);
int64_t stages_peak_rss_now(void);

/* Sees every progress report of every context (before the callback of
 * stages_set_progress), or none with fn NULL: the terminal's progress bar. */
void stages_watch(subsel_progress_fn fn, void *user);

/* Forgets every stage (none running). Progress hooks stay installed. */
void stages_reset(void);

/* Seconds on the monotonic clock the stages are timed with. */
double stages_now(void);

#endif
