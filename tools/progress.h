/* SPDX-License-Identifier: MIT */
/*
 * Progress on standard error, one policy for every command: nothing with
 * --quiet; on a terminal one bar per stage, redrawn in place (carriage
 * return) with the rate and the time left; otherwise the commands' own
 * plain lines ("subsel fb: select 20/100"), which suit logs.
 */
#ifndef SUBSEL_TOOLS_PROGRESS_H
#define SUBSEL_TOOLS_PROGRESS_H

#include "cli.h"

/* Chooses the mode for the command, once its options are parsed: quiet,
 * a bar (standard error is a terminal) or plain lines. */
void progress_start(const cli_command *cmd, int quiet);

/* 1 when the commands' plain progress lines are wanted (neither --quiet
 * nor a terminal). */
int progress_lines(void);

/* Ends a bar being drawn with a newline, before other output reaches the
 * terminal (an error, a warning, the summary). */
void progress_break(void);

#endif
