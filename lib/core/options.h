/* SPDX-License-Identifier: MIT */
/*
 * Parameters of handles, each described once. A kind of handle (context,
 * optimizer, OT solver, TAROT selector, each objective method) describes
 * its parameters in a table next to its struct: the library-wide number
 * (SUBSEL_P_*) and the number 0.6's per-handle functions used, a lower-case
 * name, where the value lives (offsetof), its type (int64_t or double),
 * exact bounds, the default and a one-line description; plus a few hooks
 * (where the fields are, whether a parameter may change now, what to
 * recompute after a change). Everything else is written once, here: typed
 * set and get with bounds checks and messages, defaults, bounds. lib/params
 * gathers the tables of every kind for the public functions (enumeration,
 * lookup by name, set/get on any handle); docs/internals.md has the
 * checklist for adding a parameter.
 */
#ifndef SS_CORE_OPTIONS_H
#define SS_CORE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "subsel.h"

typedef struct ss_param {
    int id;            /* SUBSEL_P_*: unique in the library */
    int legacy;        /* the number 0.6's per-handle functions used, or 0 */
    const char *name;  /* lower case, unique within its kind */
    int type;          /* SUBSEL_TYPE_INT (an int64_t field) or _REAL (double) */
    size_t offset;     /* of the field in what the kind's `fields` returns */
    int64_t imin, imax, idef; /* integer parameters: bounds (included) */
    double dmin, dmax, ddef;  /* real parameters */
    int open;          /* real: SUBSEL_BOUND_OPEN_MIN | _MAX */
    int flags;         /* for the owner (e.g. "fixed once whitened") */
    const char *doc;   /* one line, for bindings and the CLI's --help */
} ss_param;

#define SS_PARAM_INT(id, legacy, name, type, field, lo, hi, def, flags, doc)    \
    {(id), (legacy), (name), SUBSEL_TYPE_INT, offsetof(type, field), (lo),      \
     (hi), (def), 0, 0, 0, 0, (flags), (doc)}
#define SS_PARAM_REAL(id, legacy, name, type, field, lo, hi, def, open, flags,  \
                      doc)                                                      \
    {(id), (legacy), (name), SUBSEL_TYPE_REAL, offsetof(type, field), 0, 0, 0,  \
     (lo), (hi), (def), (open), (flags), (doc)}

/* One kind of handle as the parameter functions see it. */
typedef struct ss_param_kind {
    int kind;             /* SUBSEL_KIND_* */
    const char *name;     /* for messages: "optimizer", "SDM objective" */
    uint32_t handle_kind; /* the SS_KIND_* of its handles' head */
    /* NULL: every handle of handle_kind is of this kind; else 1 if this
     * one is (objectives share a head kind and differ by method). */
    int (*owns)(const void *handle);
    const ss_param *params; /* ascending ids */
    size_t count;
    /* NULL: offsets are from the handle; else the struct they are from
     * (an objective's impl). */
    void *(*fields)(const void *handle);
    /* NULL, or SUBSEL_OK when p may change now, else the status with a
     * message naming fn. */
    int (*may_set)(subsel_ctx *ctx, const void *handle, const ss_param *p,
                   const char *fn);
    /* NULL, or recomputes what depends on p after it changed. */
    void (*changed)(void *handle, const ss_param *p);
} ss_param_kind;

/* `params, count` of a table, for an ss_param_kind initialiser. */
#define SS_PARAMS(array) (array), sizeof(array) / sizeof((array)[0])

/* The parameter `id` (SUBSEL_P_*) of kind k, or NULL. */
const ss_param *ss_param_of(const ss_param_kind *k, int id);

/* The parameter that 0.6's per-handle functions called `number`, or NULL. */
const ss_param *ss_param_of_legacy(const ss_param_kind *k, int number);

/* Writes every default of kind k into `handle` (its fields must exist:
 * an objective's impl is allocated first). */
void ss_param_defaults(const ss_param_kind *k, void *handle);

/* Set / get p (a parameter of k) on `handle` (a handle of kind k). Set
 * checks the type, the bounds and may_set, stores, then calls changed;
 * SUBSEL_E_INVALID (or may_set's status) leaves the parameter unchanged.
 * Messages name fn and the parameter, on ctx (for the thread when ctx is
 * NULL). Get only checks the type. */
int ss_param_set_int(subsel_ctx *ctx, const ss_param_kind *k, void *handle,
                     const ss_param *p, int64_t value, const char *fn);
int ss_param_set_real(subsel_ctx *ctx, const ss_param_kind *k, void *handle,
                      const ss_param *p, double value, const char *fn);
int ss_param_get_int(subsel_ctx *ctx, const ss_param_kind *k,
                     const void *handle, const ss_param *p, int64_t *value,
                     const char *fn);
int ss_param_get_real(subsel_ctx *ctx, const ss_param_kind *k,
                      const void *handle, const ss_param *p, double *value,
                      const char *fn);

/* The value of p in `handle` without checks (p is of the right type). */
int64_t ss_param_int(const ss_param_kind *k, const void *handle,
                     const ss_param *p);
double ss_param_real(const ss_param_kind *k, const void *handle,
                     const ss_param *p);

/* 1 if value is within p's bounds (NaN never is). */
int ss_param_int_ok(const ss_param *p, int64_t value);
int ss_param_real_ok(const ss_param *p, double value);

/* p's range as text for messages: "[0, 1024]", "(0, 1)", "[0, inf)". */
void ss_param_range_text(const ss_param *p, char *buf, size_t cap);

/* Bounds and default as doubles (0.6's *_param_bounds: integer bounds
 * beyond 2^53 round). Any out-pointer may be NULL. */
void ss_param_bounds_real(const ss_param *p, double *min_value,
                          double *max_value, double *default_value);

#endif
