/* SPDX-License-Identifier: MIT */
/*
 * The set-function interface every objective implements and every optimizer
 * uses. An objective is immutable data (the pool, weights, parameters); the
 * mutable part — the current set and whatever makes its gains cheap (running
 * column sums, residual capacities, ...) — lives in a separate state, so
 * several optimizer runs can share one objective, each with its own state,
 * in parallel.
 *
 * Gains are evaluated in batches: an optimizer asks for the gains of a list
 * of items against one state, and the objective decides how to compute them
 * (a kernel per item, one BLIS product for the batch, OpenMP over items when
 * the batch is large enough; never parallel when already inside a parallel
 * region). Batch results must not depend on the thread count.
 *
 * Distributed selection: an objective built over a row range of a pool (a
 * subsel_csr_view_rows view) has states that `merge` can add together when
 * their sets are disjoint parts of one set, so partial states computed on
 * different machines combine into the state of their union.
 */
#ifndef SS_OBJECTIVE_H
#define SS_OBJECTIVE_H

#include <stdint.h>

#include "core/handle.h"
#include "subsel.h"

typedef struct ss_objective_ops {
    const char *name;
    /* Properties the optimizers rely on: lazy bounds need submodularity,
     * and monotonicity decides SUBSEL_STOP_AUTO. These are the defaults of
     * the handle's own flags (see subsel_objective below), which are what
     * the optimizers read. */
    int submodular;
    int monotone;

    /* SUBSEL_OK when the objective can be evaluated, else SUBSEL_E_STATE
     * with a message saying what is missing. NULL: always ready. */
    int (*check_ready)(subsel_ctx *ctx, const subsel_objective *obj);

    /* A new state holding the empty set. */
    int (*state_new)(subsel_ctx *ctx, const subsel_objective *obj,
                     void **state);
    void (*state_free)(const subsel_objective *obj, void *state);

    /* out[j] = f(S + {items[j]}) - f(S) for the state's set S. Items may be
     * in S (gain 0). Must not modify the state. */
    int (*gains)(subsel_ctx *ctx, const subsel_objective *obj,
                 const void *state, const int64_t *items, int64_t count,
                 double *out);

    /* Adds an item not in the set. */
    int (*add)(subsel_ctx *ctx, const subsel_objective *obj, void *state,
               int64_t item);

    /* f(S) of the state's set, in double precision. */
    int (*value)(subsel_ctx *ctx, const subsel_objective *obj,
                 const void *state, double *out);

    /* Optional (NULL when unsupported). remove: takes an item out of the set.
     * losses: out[j] = f(S) - f(S - {items[j]}) for items in S (needed by
     * double greedy). merge: dst becomes the state of the union of the two
     * (disjoint) sets. */
    int (*remove)(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                  int64_t item);
    int (*losses)(subsel_ctx *ctx, const subsel_objective *obj,
                  const void *state, const int64_t *items, int64_t count,
                  double *out);
    int (*merge)(subsel_ctx *ctx, const subsel_objective *obj, void *dst,
                 const void *src);

    /* Frees the objective's own data (impl), not the handle. */
    void (*destroy)(subsel_objective *obj);

    /* Optional hint: the optimizer will soon ask for the gains of these
     * items (a fresh stochastic sample), so the objective can start
     * fetching their data from memory all at once instead of missing the
     * cache item after item. depth: SS_PREFETCH_DATA for their data and
     * what finding it needs, SS_PREFETCH_INDEX for the latter only (the
     * items' row pointers and membership, for a data fetch to come that
     * then need not wait on them). No effect on any result. */
    void (*prefetch)(const subsel_objective *obj, const void *state,
                     const int64_t *items, int64_t count, int depth);

    /* Optional, for selection across processes (lib/distributed): what an
     * objective over the rows of a CSR matrix needs so that another
     * process can rebuild it over other rows, and add a row it does not
     * hold. NULL when the objective is not over CSR rows.
     * rows: `count` of its items as a new matrix (in that order) and, when
     * the objective labels its rows (SDM's quality bins), their labels in
     * *labels (allocated on ctx; else NULL).
     * like: a new objective of the same kind and parameters over `rows`
     * (same columns), whose row r carries labels[r] (NULL when unlabelled).
     * add_row: adds to the state's set a row of another matrix with the
     * same columns, labelled `label` (an item of another process's part),
     * exactly as `add` adds one of its own. */
    int (*rows)(subsel_ctx *ctx, const subsel_objective *obj,
                const int64_t *items, int64_t count, subsel_csr **rows,
                int32_t **labels);
    int (*like)(subsel_ctx *ctx, const subsel_objective *obj,
                const subsel_csr *rows, const int32_t *labels,
                subsel_objective **out);
    int (*add_row)(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                   const subsel_csr *rows, int64_t row, int32_t label);
    /* The state as sums_count(obj) numbers that add up over disjoint sets
     * (FB: the column sums, then the bin counts), so that processes can
     * add their parts' states with one MPI_Allreduce: state_sums writes
     * them, add_sums adds such numbers into a state (whose set is then
     * the union in all but its list of items). */
    int64_t (*sums_count)(const subsel_objective *obj);
    void (*state_sums)(const subsel_objective *obj, const void *state,
                       double *out);
    int (*add_sums)(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                    const double *sums);
} ss_objective_ops;

struct subsel_objective {
    SS_HANDLE_HEAD;
    const ss_objective_ops *ops;
    int64_t n;  /* ground set size */
    void *impl; /* the objective's own data */
    /* Properties of this instance, not of its kind: ss_objective_new
     * copies them from ops, and a constructor or setter that knows more
     * changes them (the table is shared by every instance and never
     * changes). submodular: nonzero when f is known to be submodular, so
     * lazy bounds are valid (ClipCov: while w_intra = 0 or every
     * within-class similarity is proven >= 0). monotone: nonzero when f is
     * known to be monotone (no gain is ever negative), so greedy
     * optimizers fill their budget under SUBSEL_STOP_AUTO (UniPROT:
     * exactly when every similarity is >= 0). */
    int submodular;
    int monotone;
};

/* Allocates a handle for `ops` over n items, with impl NULL and the
 * submodular and monotone flags from ops; the constructor then fills
 * impl. */
int ss_objective_new(subsel_ctx *ctx, const ss_objective_ops *ops, int64_t n,
                     subsel_objective **out);

/* The objective's data if it was made with `ops`, else NULL and a
 * SUBSEL_E_INVALID message on ctx (for setters of one objective kind). */
void *ss_objective_impl(subsel_ctx *ctx, const subsel_objective *obj,
                        const ss_objective_ops *ops, const char *caller);

/* Checks a set: count >= 0, indices in [0, n), no repeats. */
int ss_check_set(subsel_ctx *ctx, const subsel_objective *obj,
                 const int64_t *set, int64_t count);

/* A state holding `set` (checked). */
int ss_state_of_set(subsel_ctx *ctx, const subsel_objective *obj,
                    const int64_t *set, int64_t count, void **state);

/* ---- calling an objective ----------------------------------------------
 * Optimizers and pipelines call objectives through these, never through
 * obj->ops: they own what every caller would otherwise repeat (the NaN
 * checks, the evaluation counts, optional ops). */

/* SUBSEL_OK when the objective can be evaluated, else its SUBSEL_E_STATE
 * and message (an SDM objective without its target, ...). */
int ss_objective_ready(subsel_ctx *ctx, const subsel_objective *obj);

/* A new state holding the empty set; ss_objective_state_free(NULL) is a
 * no-op. */
int ss_objective_state_new(subsel_ctx *ctx, const subsel_objective *obj,
                           void **state);
void ss_objective_state_free(const subsel_objective *obj, void *state);

/* out[j] = f(S + {items[j]}) - f(S) for the state's set S. Once the
 * objective has computed them, adds `count` to *evaluations (when not
 * NULL); a NaN among them is SUBSEL_E_NUMERIC naming the item, so no
 * caller ever ranks a NaN. */
int ss_objective_gains(subsel_ctx *ctx, const subsel_objective *obj,
                       const void *state, const int64_t *items, int64_t count,
                       double *out, int64_t *evaluations);

/* out[j] = f(S) - f(S - {items[j]}) for items in S, counted and checked as
 * ss_objective_gains; SUBSEL_E_UNSUPPORTED for an objective that cannot
 * (see ss_objective_can_remove). */
int ss_objective_losses(subsel_ctx *ctx, const subsel_objective *obj,
                        const void *state, const int64_t *items, int64_t count,
                        double *out, int64_t *evaluations);

/* Nonzero when the objective has remove and losses (what double greedy
 * needs). */
int ss_objective_can_remove(const subsel_objective *obj);

/* Adds an item not in the set / takes one in it out (remove:
 * SUBSEL_E_UNSUPPORTED for an objective that cannot). */
int ss_objective_add(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                     int64_t item);
int ss_objective_remove(subsel_ctx *ctx, const subsel_objective *obj,
                        void *state, int64_t item);

/* dst becomes the state of the union of its set and src's (disjoint sets
 * of the same objective); SUBSEL_E_UNSUPPORTED for an objective that has no
 * merge (see ss_objective_can_merge). */
int ss_objective_can_merge(const subsel_objective *obj);
int ss_objective_merge(subsel_ctx *ctx, const subsel_objective *obj, void *dst,
                       const void *src);

/* f(S) of the state's set. */
int ss_objective_value(subsel_ctx *ctx, const subsel_objective *obj,
                       const void *state, double *out);

/* Nonzero when the objective has rows, like, add_row and the sums (what
 * selection across processes needs); the wrappers below fail with
 * SUBSEL_E_UNSUPPORTED, naming `caller`, when it has not. */
int ss_objective_can_distribute(const subsel_objective *obj);
int ss_objective_require_distribute(subsel_ctx *ctx,
                                    const subsel_objective *obj,
                                    const char *caller);
int ss_objective_rows(subsel_ctx *ctx, const subsel_objective *obj,
                      const int64_t *items, int64_t count, subsel_csr **rows,
                      int32_t **labels);
int ss_objective_like(subsel_ctx *ctx, const subsel_objective *obj,
                      const subsel_csr *rows, const int32_t *labels,
                      subsel_objective **out);
int ss_objective_add_row(subsel_ctx *ctx, const subsel_objective *obj,
                         void *state, const subsel_csr *rows, int64_t row,
                         int32_t label);
int64_t ss_objective_sums_count(const subsel_objective *obj);
void ss_objective_state_sums(const subsel_objective *obj, const void *state,
                             double *out);
int ss_objective_add_sums(subsel_ctx *ctx, const subsel_objective *obj,
                          void *state, const double *sums);

/* How far a prefetch hint reaches (the hook's depth). */
enum { SS_PREFETCH_DATA = 0, SS_PREFETCH_INDEX = 1 };

/* The optional prefetch hint (nothing when the objective has none). */
void ss_objective_prefetch(const subsel_objective *obj, const void *state,
                           const int64_t *items, int64_t count, int depth);

#endif
