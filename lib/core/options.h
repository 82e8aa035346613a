/* SPDX-License-Identifier: MIT */
/*
 * Typed options of a handle, with bounds and defaults, written once. A
 * handle describes its options in a table: where each value lives in the
 * handle's struct (offsetof), its type (int64_t or double), its bounds and
 * default. The public set/get/bounds functions of every handle (context,
 * optimizer, OT solver, TAROT selector) are thin wrappers over these.
 */
#ifndef SS_CORE_OPTIONS_H
#define SS_CORE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "subsel.h"

typedef struct ss_option {
    int id;
    const char *name;
    int is_int;             /* an int64_t field, else a double field */
    size_t offset;          /* offsetof(handle struct, field) */
    int64_t imin, imax, idef; /* integer options */
    double dmin, dmax, ddef;  /* real options */
    int open;               /* real bounds are exclusive: (dmin, dmax) */
    int flags;              /* for the owner (e.g. "fixed once computed") */
} ss_option;

#define SS_OPTION_INT(id, name, type, field, lo, hi, def, flags)               \
    {(id), (name), 1, offsetof(type, field), (lo), (hi), (def), 0, 0, 0, 0, (flags)}
#define SS_OPTION_REAL(id, name, type, field, lo, hi, def, open, flags)        \
    {(id), (name), 0, offsetof(type, field), 0, 0, 0, (lo), (hi), (def), (open), (flags)}

typedef struct ss_option_table {
    const ss_option *options;
    size_t count;
} ss_option_table;

#define SS_OPTION_TABLE(array) {(array), sizeof(array) / sizeof((array)[0])}

/* The option `id`, or NULL. */
const ss_option *ss_option_find(const ss_option_table *table, int id);

/* Writes every default into the handle. */
void ss_option_defaults(const ss_option_table *table, void *handle);

/* Set / get with type and bounds checks. SUBSEL_E_INVALID for an unknown
 * option, the wrong type or a value out of bounds (the handle unchanged);
 * with a context, the message says which. */
int ss_option_set_int(subsel_ctx *ctx, const ss_option_table *table,
                      void *handle, int id, int64_t value);
int ss_option_set_double(subsel_ctx *ctx, const ss_option_table *table,
                         void *handle, int id, double value);
int ss_option_get_int(const ss_option_table *table, const void *handle,
                      int id, int64_t *value);
int ss_option_get_double(const ss_option_table *table, const void *handle,
                         int id, double *value);

/* Bounds and default as doubles (integer bounds beyond 2^53 round). Any
 * out-pointer may be NULL. */
int ss_option_bounds(const ss_option_table *table, int id, double *min_value,
                     double *max_value, double *default_value);

#endif
