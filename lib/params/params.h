/* SPDX-License-Identifier: MIT */
/*
 * The library-wide parameter table: every kind of handle, with the table
 * of parameters each describes next to its own struct (lib/core/options.h),
 * gathered in one list so that one function can reach any handle, list
 * every parameter and find one by name. This folder is the last layer: it
 * is the one place that knows every kind of handle.
 */
#ifndef SS_PARAMS_PARAMS_H
#define SS_PARAMS_PARAMS_H

#include "core/options.h"
#include "subsel.h"

/* The kind numbered `kind` (SUBSEL_KIND_*), or NULL. */
const ss_param_kind *ss_kind_at(int kind);

/* The kind of a live handle, or NULL (for NULL too). */
const ss_param_kind *ss_kind_of_handle(const void *handle);

/* The parameter numbered `id` (SUBSEL_P_*) and, in *kind, its kind; or
 * NULL. */
const ss_param *ss_param_find_id(int id, const ss_param_kind **kind);

/* Resolves parameter `id` for a call `fn` on `handle` (called `what` in
 * messages): the handle must be of kind `want` (0: any kind), `id` a
 * SUBSEL_P_* number of that kind or, with `legacy` nonzero, the number
 * 0.6's per-handle functions used for it. SUBSEL_E_INVALID with a message
 * naming fn, the parameter and the kinds, on ctx (the thread's when ctx is
 * NULL). */
int ss_param_resolve(subsel_ctx *ctx, const void *handle, int want, int id,
                     int legacy, const char *fn, const char *what,
                     const ss_param_kind **kind, const ss_param **param);

/* The parameter `id` of kind `kind` for a call fn that takes no handle
 * (0.6's *_param_bounds), legacy numbers as above; NULL with a message for
 * the thread. */
const ss_param *ss_param_of_kind(int kind, int id, int legacy,
                                 const char *fn);

#endif
