/* SPDX-License-Identifier: MIT */
/*
 * Where a command's time goes, for the "stages" object of its JSON
 * ({"load": s, "validate": s, "build": s, "select": s, "write": s}): the
 * command marks where its stages begin, and the library's progress
 * reports split validation out of loading (a file is checked as it is
 * read, inside one library call). Stages that run more than once add up;
 * they are written in the order they first ran.
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

/* Ends the running stage and writes "stages": {...} into the JSON object
 * being written. */
void json_stages(void);

#endif
