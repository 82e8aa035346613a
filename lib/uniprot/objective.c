/* SPDX-License-Identifier: MIT */
/*
 * The UniPROT objective (Uniform Prototype selection via Partial Optimal
 * Transport) as a set function over the rows of a similarity matrix:
 * construction (from a matrix or from features), options, the state (the
 * prototypes' rows in double precision, the converged dual potentials, the
 * plan's marginals and the residual capacities), the approximate and exact
 * gains, and the warm-started solve that each added prototype triggers.
 *
 * Every f(P) is solved by lib/ot's dual ascent with equality rows (each
 * prototype ships mass 1) and capped columns (k / n per target), starting
 * from the previous set's potentials: one new row changes little, so a
 * few iterations usually converge. The value of the returned plan G is
 *   sum G (S - reg log G) = -sum_i f_i (G 1)_i - sum_j g_j (G^T 1)_j
 * (log G_ij = (f_i + g_j + S_ij) / reg), read off the marginals the solver
 * measured, with no extra pass.
 */
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/matrix.h"
#include "objectives/objective.h"
#include "uniprot/uniprot.h"
#include "ot/ot.h"
#include "linalg/tiles.h"

/* A batch of gains is split over threads past this many entries. */
#define PARALLEL_MIN_ENTRIES 262144

typedef struct up_impl {
    ss_uniprot up;
    /* The similarity matrix whose data up.sim reads (subsel_uniprot_create),
     * retained for the objective's life; NULL when sim is owned. */
    const subsel_dense *kept;
    double *log_one; /* k zeros: log of the row marginals */
    double *log_cap; /* n copies of log(k / n) */
    /* The rows' kept water-filling weights, shared by every run of the
     * objective (they depend on the row and reg only): NULL until a run
     * within SUBSEL_P_UNIPROT_GAIN_MEMORY installs them (atomically: runs
     * of the parts of a partitioned selection race to). */
    struct up_weights *weights;
} up_impl;

/* Kept weights, in one block: rows x n floats, each row's filled from its
 * KEEP_AT-th approximate gain on (rows asked for fewer times never touch
 * their slot), their sums, and each row's state: the count of its
 * requests up to KEEP_AT - 1, then FILLING (one thread writes the slot;
 * the others make the weights in scratch meanwhile, the same bits) and
 * READY (readable). Only batches of KEEP_BATCH rows or more use them:
 * scans over many rows in order (naive and stochastic greedy), which
 * stream the kept rows from memory. Rows asked for a few at a time come
 * from all over the matrix (lazy greedy refreshes at most 256 at once),
 * where fetching kept weights took as long as making them (measured),
 * and filling the block only cost its first touch. */
typedef struct up_weights {
    float *w;
    double *sum;
    unsigned char *state;
} up_weights;

#define KEEP_AT 2
/* The fraction of full columns from which the gains pack (up_state). */
#define PACK_FULL 0.5
#define KEEP_BATCH 512
enum { WEIGHTS_FILLING = 254, WEIGHTS_READY = 255 };

typedef struct up_state {
    ss_allocator alloc;
    int64_t count;          /* |P| */
    int64_t *items;         /* P, k slots */
    unsigned char *in_set;  /* rows */
    double *block;          /* k x n: the rows of P */
    double *f, *rowsum;     /* k */
    double *g, *colsum;     /* n */
    double *r, *rlogr;      /* n: residual capacity and r log r */
    /* The columns with room (r_j > 0) once at least a fraction PACK_FULL
     * of them are full, else all (room == n): room of them, a bit per
     * column (room_bits), and their r and r log r packed. A full column
     * adds nothing to an approximate gain, and most are full late in a
     * selection (three in five of the column visits of a lazy k = 100
     * run), so the gains then pack the rows' values of the others and
     * read only those. */
    int64_t room;
    uint64_t *room_bits;
    double *room_r, *room_rlogr;
    double *mu_hint;        /* rows: each row's last water-filling root, a
                               warm start of its next approximate gain */
    double unplaced;        /* the last solve's row violation: sum r may
                               miss the room left (k - count) by that */
    double value;
} up_state;

static const ss_objective_ops uniprot_ops;

static const ss_uniprot *impl_of(const subsel_objective *obj)
{
    return &((const up_impl *)obj->impl)->up;
}

/* ---- the solve ---------------------------------------------------------- */

/* Solves f on `count` rows of `block` from the row potentials f (rows from
 * `fresh` on are new: they start where they would ship mass 1 against the
 * current column potentials g), and writes g, the marginals, the value
 * and the row violation the solve stopped at. */
static int solve_block(subsel_ctx *ctx, const subsel_objective *obj,
                       const double *block, int64_t count, int64_t fresh,
                       double *f, double *g, double *rowsum, double *colsum,
                       double *value, double *violation)
{
    const up_impl *im = obj->impl;
    const ss_uniprot *up = &im->up;
    const ss_kernels *k = ss_kernels_for(ctx);
    ss_ot_cost cost;
    ss_ot_problem p;
    ss_ot_params par;
    ss_ot_duals d;
    double v = 0.0, *h = colsum, s = 1.0 / up->reg;
    int64_t i;
    for (i = 0; i < up->n; i++)
        h[i] = g[i] * s;
    for (i = fresh; i < count; i++) {
        const double *row = block + i * up->n;
        double mx = k->lse_max(row, h, s, up->n);
        f[i] = -up->reg * (mx + log(k->lse_sum(row, h, s, mx, up->n)));
    }
    ss_ot_cost_dense(&cost, block, count, up->n, up->n);
    memset(&p, 0, sizeof p);
    p.cost = &cost;
    p.sign = 1.0;
    p.log_a = im->log_one;
    p.log_b = im->log_cap;
    /* With k prototypes the caps add up to the mass: every target is full
     * and the caps are equalities (see semidual.c). */
    p.col_ineq = count < up->k;
    memset(&par, 0, sizeof par);
    par.reg = up->reg;
    par.tol = up->tol;
    par.max_iter = up->max_iter;
    memset(&d, 0, sizeof d);
    d.f = f;
    d.g = g;
    d.rowsum = rowsum;
    d.colsum = colsum;
    SS_CHECK(ss_ot_solve_rows(ctx, &p, &par, &d));
    *violation = d.violation;
    for (i = 0; i < count; i++)
        v -= f[i] * rowsum[i];
    for (i = 0; i < up->n; i++)
        v -= g[i] * colsum[i];
    *value = v;
    return SUBSEL_OK;
}

static void copy_row(const ss_uniprot *up, int64_t item, double *dst)
{
    const float *src = ss_uniprot_row(up, item);
    int64_t j;
    for (j = 0; j < up->n; j++)
        dst[j] = src[j];
}

/* ---- state ------------------------------------------------------------- */

static void up_state_free(const subsel_objective *obj, void *state)
{
    up_state *st = state;
    ss_allocator a;
    (void)obj;
    if (st == NULL)
        return;
    a = st->alloc;
    ss_free_raw(&a, st->items);
    ss_free_raw(&a, st->in_set);
    ss_free_raw(&a, st->block);
    ss_free_raw(&a, st->f);
    ss_free_raw(&a, st->rowsum);
    ss_free_raw(&a, st->g);
    ss_free_raw(&a, st->colsum);
    ss_free_raw(&a, st->r);
    ss_free_raw(&a, st->rlogr);
    ss_free_raw(&a, st->room_bits);
    ss_free_raw(&a, st->room_r);
    ss_free_raw(&a, st->room_rlogr);
    ss_free_raw(&a, st->mu_hint);
    ss_free_raw(&a, st);
}

static void set_residual(const ss_uniprot *up, up_state *st)
{
    int64_t j, room = 0;
    memset(st->room_bits, 0, (size_t)((up->n + 63) / 64) * sizeof *st->room_bits);
    for (j = 0; j < up->n; j++) {
        double r = up->cap - st->colsum[j];
        st->r[j] = r > 0.0 ? r : 0.0;
        st->rlogr[j] = r > 0.0 ? r * log(r) : 0.0;
        if (r > 0.0) {
            st->room_bits[j / 64] |= (uint64_t)1 << (j % 64);
            st->room_r[room] = st->r[j];
            st->room_rlogr[room++] = st->rlogr[j];
        }
    }
    /* Packing costs a pass over the row's similarities (and its kept
     * weights, in the same pass), which pays for itself once enough
     * columns are full: soon for gains that make their weights and take
     * several passes (lazy greedy's), later for those that read kept
     * weights and take one or two (naive greedy's, whose rows stream from
     * memory anyway). PACK_FULL balances the two (bench_uniprot's
     * uniprot_interactive: from a quarter, naive greedy lost 0.2 s; from
     * half, neither loses). The choice depends on the state alone, never
     * on the instruction set, the batch or kept weights: it changes the
     * order of the gains' sums. With no room at all the gains keep the
     * full row's handling of that case. */
    st->room = room > 0 && (double)(up->n - room) >= PACK_FULL * (double)up->n ? room : up->n;
}

/* A state of the empty set. */
static int up_state_new(subsel_ctx *ctx, const subsel_objective *obj,
                        void **out)
{
    const ss_uniprot *up = impl_of(obj);
    up_state *st = NULL;
    int rc = SUBSEL_OK;
    SS_CHECK(ss_calloc_array(ctx, 1, sizeof *st, &st));
    st->alloc = ctx->alloc;
    SS_TRY(ss_alloc_array(ctx, up->k, sizeof *st->items, &st->items));
    SS_TRY(ss_calloc_array(ctx, up->rows, 1, &st->in_set));
    if (up->k > INT64_MAX / up->n) {
        rc = ss_fail(ctx, SUBSEL_E_NOMEM, "UniPROT: k x n overflows");
        goto cleanup;
    }
    SS_TRY(ss_alloc_array(ctx, up->k * up->n, sizeof *st->block, &st->block));
    SS_TRY(ss_calloc_array(ctx, up->k, sizeof *st->f, &st->f));
    SS_TRY(ss_calloc_array(ctx, up->k, sizeof *st->rowsum, &st->rowsum));
    SS_TRY(ss_calloc_array(ctx, up->n, sizeof *st->g, &st->g));
    SS_TRY(ss_calloc_array(ctx, up->n, sizeof *st->colsum, &st->colsum));
    SS_TRY(ss_alloc_array(ctx, up->n, sizeof *st->r, &st->r));
    SS_TRY(ss_alloc_array(ctx, up->n, sizeof *st->rlogr, &st->rlogr));
    SS_TRY(ss_alloc_array(ctx, (up->n + 63) / 64, sizeof *st->room_bits, &st->room_bits));
    SS_TRY(ss_alloc_array(ctx, up->n, sizeof *st->room_r, &st->room_r));
    SS_TRY(ss_alloc_array(ctx, up->n, sizeof *st->room_rlogr, &st->room_rlogr));
    SS_TRY(ss_calloc_array(ctx, up->rows, sizeof *st->mu_hint, &st->mu_hint));
    set_residual(up, st);
    *out = st;
    return SUBSEL_OK;
cleanup:
    up_state_free(obj, st);
    return rc;
}

int64_t ss_uniprot_state_room(const void *state, const double **r, double *unplaced)
{
    const up_state *st = state;
    *r = st->r;
    *unplaced = st->unplaced;
    return st->room;
}

/* ---- gains ------------------------------------------------------------- */

static int check_room(subsel_ctx *ctx, const ss_uniprot *up,
                      const up_state *st)
{
    if (st->count >= up->k)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "UniPROT: the set already holds k = %lld prototypes "
                       "(the budget must be at most k)", (long long)up->k);
    return SUBSEL_OK;
}

/* The objective's kept weights when rows x n floats fit its budget (the
 * first run that asks makes them; the budget is read at every call), else
 * *out = NULL. */
static int kept_weights(subsel_ctx *ctx, const subsel_objective *obj,
                        up_weights **out)
{
    up_impl *im = obj->impl;
    const ss_uniprot *up = &im->up;
    const int64_t rows = up->rows;
    /* one block: this header, the sums, the states, then the weights */
    const int64_t head = ((int64_t)sizeof(up_weights) + 63) / 64 * 64;
    const int64_t states = head + rows * (int64_t)sizeof(double);
    const int64_t weights = states + (rows + 63) / 64 * 64;
    up_weights *kw, *expected = NULL;
    char *block = NULL;
    size_t bytes;
    *out = NULL;
    if (!ss_mul_size(rows * up->n, sizeof(float), &bytes) ||
        bytes > (uint64_t)up->gain_memory)
        return SUBSEL_OK;
    kw = __atomic_load_n(&im->weights, __ATOMIC_ACQUIRE);
    if (kw == NULL) {
        SS_CHECK(ss_alloc_with(ctx, &obj->alloc, weights + (int64_t)bytes, 1, &block));
        kw = (up_weights *)block;
        kw->sum = (double *)(block + head);
        kw->state = (unsigned char *)(block + states);
        kw->w = (float *)(block + weights);
        memset(kw->state, 0, (size_t)rows);
        /* runs racing to install theirs: the first wins, the others free */
        if (!__atomic_compare_exchange_n(&im->weights, &expected, kw, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            ss_free_raw(&obj->alloc, block);
            kw = expected;
        }
    }
    *out = kw;
    return SUBSEL_OK;
}

/* Row v's kept weights (n floats) and their sum when ready, else NULL; a
 * row's KEEP_AT-th request makes them in its slot of kw (NULL: none kept)
 * and an earlier one is counted. */
static const float *kept_row(const ss_kernels *k, const ss_uniprot *up, up_weights *kw,
                             int64_t v, double *sum)
{
    unsigned char *state = kw != NULL ? &kw->state[v] : NULL;
    unsigned char seen;
    if (state == NULL)
        return NULL;
    seen = __atomic_load_n(state, __ATOMIC_ACQUIRE);
    if (seen == WEIGHTS_READY) {
        *sum = kw->sum[v];
        return kw->w + v * up->n;
    }
    if (seen == KEEP_AT - 1 &&
        __atomic_compare_exchange_n(state, &seen, (unsigned char)WEIGHTS_FILLING, 0,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        float *slot = kw->w + v * up->n;
        *sum = kw->sum[v] = ss_waterfill_weights(k, ss_uniprot_row(up, v), up->row_max[v],
                                                 up->n, up->reg, slot);
        __atomic_store_n(state, WEIGHTS_READY, __ATOMIC_RELEASE);
        return slot;
    }
    /* one more request counted (a lost race leaves the count as it is) */
    if (seen < KEEP_AT - 1)
        __atomic_compare_exchange_n(state, &seen, (unsigned char)(seen + 1), 0,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return NULL;
}

/* Row v over all columns, its weights made in w (n floats). */
static void full_row(const ss_kernels *k, const ss_uniprot *up, int64_t v, float *w,
                     ss_waterfill_row *row)
{
    row->s = ss_uniprot_row(up, v);
    row->s_max = up->row_max[v];
    row->w = w;
    row->w_sum = ss_waterfill_weights(k, row->s, row->s_max, up->n, up->reg, w);
}

/* Row v as the gain against st's capacities reads it: over the columns
 * with room (st->room of them), packed into scratch (2 n floats: the
 * weights, then the similarities) unless that is all of them. The weights
 * are the kept ones (packed with the similarities, in one pass) or made
 * anew from the packed similarities, the same bits either way. */
static void row_weights(const ss_kernels *k, const ss_uniprot *up, up_weights *kw,
                        const up_state *st, int64_t v, float *scratch,
                        ss_waterfill_row *row)
{
    const float *s = ss_uniprot_row(up, v), *kept;
    float *packed = scratch + up->n;
    double kept_sum = 0.0;
    kept = kept_row(k, up, kw, v, &kept_sum);
    if (st->room == up->n && kept == NULL) {
        full_row(k, up, v, scratch, row);
        return;
    }
    row->s_max = up->row_max[v];
    if (st->room == up->n) {
        row->s = s;
        row->w = kept;
        row->w_sum = kept_sum;
        return;
    }
    row->s = packed;
    row->w = scratch;
    if (kept != NULL) {
        row->w_sum = k->pack_f32(scratch, kept, packed, s, st->room_bits, up->n);
        return;
    }
    k->pack_f32(packed, s, NULL, NULL, st->room_bits, up->n);
    row->w_sum = ss_waterfill_weights(k, packed, row->s_max, st->room, up->reg, scratch);
}

static int approx_gains(subsel_ctx *ctx, const subsel_objective *obj,
                        const up_state *st, const int64_t *items,
                        int64_t count, double *out)
{
    const ss_uniprot *up = impl_of(obj);
    const ss_kernels *k = ss_kernels_for(ctx);
    /* per thread: the sorted method's 3 n + 1 doubles, then 2 n floats */
    int64_t work = 3 * up->n + 1, stride = work + up->n, j;
    int threads = ss_threads_for_gains(ctx, count, (double)count * (double)up->n,
                                       PARALLEL_MIN_ENTRIES);
    double *scratch = NULL;
    up_weights *kw = NULL;
    if (count >= KEEP_BATCH)
        SS_CHECK(kept_weights(ctx, obj, &kw));
    SS_CHECK(ss_alloc_array(ctx, stride * threads, sizeof *scratch, &scratch));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16)
    for (j = 0; j < count; j++) {
        double *mine = scratch + stride * ss_thread_num();
        int64_t v = items[j];
        ss_waterfill_row row;
        if (st->in_set[v]) {
            out[j] = 0.0;
            continue;
        }
        row_weights(k, up, kw, st, v, (float *)(mine + work), &row);
        out[j] = ss_waterfill_gain(k, &row, st->room,
                                   st->room < up->n ? st->room_r : st->r,
                                   st->room < up->n ? st->room_rlogr : st->rlogr, up->reg,
                                   st->unplaced, mine, NULL, NULL, &st->mu_hint[v]);
    }
    ss_free(ctx, scratch);
    return SUBSEL_OK;
}

/* f(P + v) - f(P) by a solve per candidate, warm-started from P's. */
static int exact_gains(subsel_ctx *ctx, const subsel_objective *obj,
                       const up_state *st, const int64_t *items,
                       int64_t count, double *out)
{
    const ss_uniprot *up = impl_of(obj);
    int64_t rows = st->count + 1, n = up->n, j;
    double *block = NULL, *f = NULL, *g = NULL, *rs = NULL, *cs = NULL, v, viol;
    int rc = SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, rows * n, sizeof *block, &block));
    SS_TRY(ss_alloc_array(ctx, rows, sizeof *f, &f));
    SS_TRY(ss_alloc_array(ctx, rows, sizeof *rs, &rs));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *g, &g));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *cs, &cs));
    if (st->count > 0)
        memcpy(block, st->block, (size_t)(st->count * n) * sizeof *block);
    for (j = 0; j < count; j++) {
        if (st->in_set[items[j]]) {
            out[j] = 0.0;
            continue;
        }
        copy_row(up, items[j], block + st->count * n);
        memcpy(f, st->f, (size_t)st->count * sizeof *f);
        memcpy(g, st->g, (size_t)n * sizeof *g);
        SS_TRY(solve_block(ctx, obj, block, rows, st->count, f, g, rs, cs, &v, &viol));
        out[j] = v - st->value;
    }
cleanup:
    ss_free(ctx, block);
    ss_free(ctx, f);
    ss_free(ctx, g);
    ss_free(ctx, rs);
    ss_free(ctx, cs);
    return rc;
}

static int up_gains(subsel_ctx *ctx, const subsel_objective *obj,
                    const void *state, const int64_t *items, int64_t count,
                    double *out)
{
    const ss_uniprot *up = impl_of(obj);
    const up_state *st = state;
    SS_CHECK(check_room(ctx, up, st));
    if (up->gain == SUBSEL_UNIPROT_GAIN_EXACT &&
        up->update == SUBSEL_UNIPROT_UPDATE_SOLVE)
        return exact_gains(ctx, obj, st, items, count, out);
    return approx_gains(ctx, obj, st, items, count, out);
}

/* ---- updates ----------------------------------------------------------- */

/* APPEND: the new row of the plan is the maximiser of its approximate
 * gain, which goes to *gain (-inf when no room is left: the row is then
 * not added). The row's potential is reg log c (its free entries are
 * exp((S + reg log c) / reg)), kept in f[count] as a warm start for a
 * later solve of the set (NaN when every target it reaches is full). */
static int append(subsel_ctx *ctx, const ss_uniprot *up, up_state *st,
                  int64_t item, double *gain)
{
    const ss_kernels *k = ss_kernels_for(ctx);
    double *w = NULL, log_c = NAN;
    int64_t n = up->n, j;
    ss_waterfill_row row;
    /* alpha (n), the sorted method's work (3 n + 1), the weights (n floats) */
    SS_CHECK(ss_alloc_array(ctx, 4 * n + 1 + (n + 1) / 2, sizeof *w, &w));
    full_row(k, up, item, (float *)(w + 4 * n + 1), &row);
    *gain = ss_waterfill_gain(k, &row, n, st->r, st->rlogr, up->reg, st->unplaced,
                              w + n, w, &log_c, &st->mu_hint[item]);
    st->f[st->count] = up->reg * log_c;
    if (isfinite(*gain)) {
        for (j = 0; j < n; j++)
            st->colsum[j] += w[j];
        copy_row(up, item, st->block + st->count * n);
        st->items[st->count++] = item;
        st->in_set[item] = 1;
        st->value += *gain;
        set_residual(up, st);
    }
    ss_free(ctx, w);
    return SUBSEL_OK;
}

/* Adds item (not in the set, with room left) by appending its row. */
static int add_appended(subsel_ctx *ctx, const ss_uniprot *up, up_state *st,
                        int64_t item)
{
    double gain;
    SS_CHECK(append(ctx, up, st, item, &gain));
    if (!isfinite(gain))
        return ss_fail(ctx, SUBSEL_E_NUMERIC,
                       "UniPROT: no room left for prototype %lld", (long long)item);
    return SUBSEL_OK;
}

static int up_add(subsel_ctx *ctx, const subsel_objective *obj, void *state,
                  int64_t item)
{
    const ss_uniprot *up = impl_of(obj);
    up_state *st = state;
    double value = 0.0;
    int rc;
    SS_CHECK(check_room(ctx, up, st));
    if (st->in_set[item])
        return ss_fail(ctx, SUBSEL_E_INVALID, "item %lld is already in the set",
                       (long long)item);
    if (up->update == SUBSEL_UNIPROT_UPDATE_APPEND)
        return add_appended(ctx, up, st, item);
    copy_row(up, item, st->block + st->count * up->n);
    /* On failure the potentials may be half-updated: the set is unchanged,
     * and a later solve from them still converges to the same optimum. */
    rc = solve_block(ctx, obj, st->block, st->count + 1, st->count, st->f,
                     st->g, st->rowsum, st->colsum, &value, &st->unplaced);
    if (rc < 0)
        return ss_fail_prefix(ctx, rc, "UniPROT: adding prototype %lld",
                              (long long)item);
    st->items[st->count++] = item;
    st->in_set[item] = 1;
    st->value = value;
    set_residual(up, st);
    return SUBSEL_OK;
}

static int up_value(subsel_ctx *ctx, const subsel_objective *obj,
                    const void *state, double *out)
{
    (void)ctx;
    (void)obj;
    *out = ((const up_state *)state)->value;
    return SUBSEL_OK;
}

static void up_destroy(subsel_objective *obj)
{
    up_impl *im = obj->impl;
    ss_allocator a = obj->alloc;
    if (im == NULL)
        return;
    ss_free_raw(&a, im->up.owned);
    ss_free_raw(&a, im->up.row_max);
    ss_free_raw(&a, im->log_one);
    ss_free_raw(&a, im->log_cap);
    ss_free_raw(&a, im->weights);
    subsel_dense_free((subsel_dense *)im->kept);
    ss_free_raw(&a, im);
    obj->impl = NULL;
}

static const ss_objective_ops uniprot_ops = {
    "UniPROT",
    1, /* submodular */
    0, /* monotone only for nonnegative similarities */
    NULL,
    up_state_new,
    up_state_free,
    up_gains,
    up_add,
    up_value,
    NULL,
    NULL,
    NULL,
    up_destroy,
    NULL, /* prefetch */
    NULL, /* rows: not over CSR rows */
    NULL, /* like */
    NULL, /* add_row */
    NULL, /* sums_count */
    NULL, /* state_sums */
    NULL, /* add_sums */
};

/* ---- construction ------------------------------------------------------ */

static int check_params(subsel_ctx *ctx, const char *fn, int64_t rows,
                        int64_t n, int64_t k, double reg)
{
    if (rows < 1 || n < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: the similarity matrix is %lld x %lld (needs a "
                       "row and a column)", fn, (long long)rows, (long long)n);
    if (k < 1 || k > rows)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: k = %lld must be in [1, %lld] (the source rows)",
                       fn, (long long)k, (long long)rows);
    if (!(reg > 0.0) || !isfinite(reg))
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: reg = %g must be positive and finite", fn, reg);
    return SUBSEL_OK;
}

/* Makes the objective around sim (owned when `owned` is not NULL: it is
 * then freed on failure too). */
int ss_uniprot_make(subsel_ctx *ctx, const float *sim, float *owned,
                    int64_t rows, int64_t n, int64_t ld, int64_t k, double reg,
                    subsel_objective **out)
{
    const ss_kernels *kt = ss_kernels_for(ctx);
    subsel_objective *obj = NULL;
    up_impl *im = NULL;
    int64_t i, j;
    int rc = SUBSEL_OK;
    SS_TRY(check_params(ctx, "UniPROT", rows, n, k, reg));
    SS_TRY(ss_objective_new(ctx, &uniprot_ops, rows, &obj));
    SS_TRY(ss_calloc_array(ctx, 1, sizeof *im, &im));
    obj->impl = im;
    im->up.sim = sim;
    im->up.owned = owned;
    owned = NULL;
    im->up.rows = rows;
    im->up.n = n;
    im->up.ld = ld;
    im->up.k = k;
    im->up.reg = reg;
    im->up.cap = (double)k / (double)n;
    ss_param_defaults(&ss_uniprot_params, obj);
    /* One pass over the rows: each row's largest similarity (the shift of
     * its water-filling exponents), and whether S >= 0, when every gain is
     * >= 0 (the new row can always be placed in the residual capacity at
     * a value <S_v, a> + reg H(a) >= 0). */
    SS_TRY(ss_alloc_array(ctx, rows, sizeof *im->up.row_max, &im->up.row_max));
    obj->monotone = 1;
    for (i = 0; i < rows; i++) {
        const float *row = ss_uniprot_row(&im->up, i);
        im->up.row_max[i] = kt->max_f32(row, n);
        for (j = 0; j < n && obj->monotone; j++)
            obj->monotone = row[j] >= 0.0f;
    }
    SS_TRY(ss_calloc_array(ctx, k, sizeof *im->log_one, &im->log_one));
    SS_TRY(ss_alloc_array(ctx, n, sizeof *im->log_cap, &im->log_cap));
    for (i = 0; i < n; i++)
        im->log_cap[i] = log(im->up.cap);
    *out = obj;
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, owned);
    subsel_objective_free(obj);
    return rc;
}

int subsel_uniprot_create(subsel_ctx *ctx, const subsel_dense *similarity,
                          int64_t k, double reg, subsel_objective **out)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_handle_check(ctx, similarity, SS_KIND_DENSE,
                             "subsel_uniprot_create", "similarity"));
    SS_CHECK(ss_uniprot_make(ctx, similarity->row0, NULL,
                             similarity->rows, similarity->cols,
                             similarity->stride, k, reg, out));
    /* The objective reads the matrix's data: it keeps the matrix alive
     * (up_destroy drops the reference), whenever the caller frees it. */
    ss_handle_retain(similarity);
    ((up_impl *)(*out)->impl)->kept = similarity;
    return SUBSEL_OK;
}

int ss_uniprot_check_features(subsel_ctx *ctx, const char *fn,
                              const subsel_dense *source,
                              const subsel_dense *target, int similarity,
                              int *metric)
{
    SS_CHECK(ss_handle_check(ctx, source, SS_KIND_DENSE, fn, "source"));
    SS_CHECK(ss_handle_check(ctx, target, SS_KIND_DENSE, fn, "target"));
    switch (similarity) {
    case SUBSEL_SIM_COSINE: *metric = SS_METRIC_COSINE; break;
    case SUBSEL_SIM_DOT: *metric = SS_METRIC_DOT; break;
    case SUBSEL_SIM_NEG_SQEUCLID: *metric = SS_METRIC_NEG_SQEUCLID; break;
    case SUBSEL_SIM_NEG_EUCLID: *metric = SS_METRIC_NEG_EUCLID; break;
    default:
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: unknown similarity %d", fn,
                       similarity);
    }
    if (source->cols != target->cols)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: source has %lld columns and target %lld", fn,
                       (long long)source->cols, (long long)target->cols);
    return SUBSEL_OK;
}

int subsel_uniprot_create_from_features(subsel_ctx *ctx,
                                        const subsel_dense *source,
                                        const subsel_dense *target,
                                        int similarity, int64_t k, double reg,
                                        subsel_objective **out)
{
    const char *fn = "subsel_uniprot_create_from_features";
    float *sim = NULL;
    int64_t bad[2] = {0, 0};
    int metric, rc = SUBSEL_OK;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_CHECK(ss_uniprot_check_features(ctx, fn, source, target, similarity, &metric));
    SS_CHECK(check_params(ctx, fn, source->rows, target->rows, k, reg));
    SS_CHECK(ss_check_shape(ctx, source->rows, target->rows, sizeof *sim, 0));
    SS_CHECK(ss_alloc_array(ctx, source->rows * target->rows, sizeof *sim, &sim));
    rc = ss_pairwise_f32(ctx, metric, source->row0, source->stride,
                         source->rows, target->row0, target->stride,
                         target->rows, source->cols, sim, bad);
    if (rc < 0) {
        ss_free(ctx, sim);
        return ss_fail_prefix(ctx, rc, "%s: source row %lld and target row %lld",
                              fn, (long long)bad[0], (long long)bad[1]);
    }
    return ss_uniprot_make(ctx, sim, sim, source->rows, target->rows,
                           target->rows, k, reg, out);
}

/* ---- parameters (set through lib/params) -------------------------------- */

static int uniprot_owns(const void *handle)
{
    return ((const subsel_objective *)handle)->ops == &uniprot_ops;
}

static void *uniprot_fields(const void *handle)
{
    return ((const subsel_objective *)handle)->impl;
}

static const ss_param uniprot_params[] = {
    SS_PARAM_INT(SUBSEL_P_UNIPROT_GAIN, 0, "gain", up_impl, up.gain,
                 SUBSEL_UNIPROT_GAIN_APPROX, SUBSEL_UNIPROT_GAIN_EXACT,
                 SUBSEL_UNIPROT_GAIN_APPROX, 0,
                 "marginal gains: 0 approximate (water-filling), 1 exact (a solve each)"),
    SS_PARAM_INT(SUBSEL_P_UNIPROT_UPDATE, 0, "update", up_impl, up.update,
                 SUBSEL_UNIPROT_UPDATE_SOLVE, SUBSEL_UNIPROT_UPDATE_APPEND,
                 SUBSEL_UNIPROT_UPDATE_SOLVE, 0,
                 "after adding a prototype: 0 re-solve, 1 append its water-filling row"),
    SS_PARAM_REAL(SUBSEL_P_UNIPROT_TOL, 0, "tol", up_impl, up.tol, 1e-15, 1e-2, 1e-9, 0, 0,
                  "L1 row violation each solve stops at, relative to the rows' mass"),
    SS_PARAM_INT(SUBSEL_P_UNIPROT_MAX_ITER, 0, "max_iter", up_impl, up.max_iter, 1,
                 1000000000, 1000, 0, "Newton steps of each solve"),
    SS_PARAM_INT(SUBSEL_P_UNIPROT_GAIN_MEMORY, 0, "gain_memory", up_impl, up.gain_memory,
                 0, INT64_MAX, SS_UNIPROT_DEFAULT_GAIN_MEMORY, 0,
                 "bytes the objective may keep its rows' water-filling weights in (rows x "
                 "n floats; 0 or too few: made again for every gain)"),
};

const ss_param_kind ss_uniprot_params = {
    SUBSEL_KIND_UNIPROT, "UniPROT objective", SS_KIND_OBJECTIVE, uniprot_owns,
    SS_PARAMS(uniprot_params), uniprot_fields, NULL, NULL,
};

int ss_uniprot_solve_set(subsel_ctx *ctx, const subsel_objective *obj,
                         const int64_t *set, int64_t count, double *plan,
                         double *value, double *transport)
{
    const ss_uniprot *up = impl_of(obj);
    int64_t n = up->n, i, fresh = count;
    void *state = NULL;
    up_state *st;
    double *rs = NULL, dot;
    int rc = SUBSEL_OK;
    if (count > up->k)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "UniPROT: %lld prototypes is more than k = %lld",
                       (long long)count, (long long)up->k);
    SS_CHECK(ss_check_set(ctx, obj, set, count));
    if (count == 0) {
        *value = 0.0;
        if (transport != NULL)
            *transport = 0.0;
        return SUBSEL_OK;
    }
    /* The appended plan of the set (O(count n)) gives each row a starting
     * potential. If a row has none (every target it reaches is full) or
     * finds no room left (rounding can leave the last row of a set of k a
     * deficit), every row starts from the column potentials 0 instead. */
    SS_CHECK(up_state_new(ctx, obj, &state));
    st = state;
    for (i = 0; i < count && fresh == count; i++) {
        double gain;
        SS_TRY(append(ctx, up, st, set[i], &gain));
        if (!isfinite(gain) || !isfinite(st->f[i]))
            fresh = 0;
    }
    for (i = 0; i < count; i++)
        copy_row(up, set[i], st->block + i * n);
    memset(st->g, 0, (size_t)n * sizeof *st->g);
    SS_TRY(ss_alloc_array(ctx, count, sizeof *rs, &rs));
    SS_TRY(solve_block(ctx, obj, st->block, count, fresh, st->f, st->g, rs,
                       st->colsum, value, &st->unplaced));
    if (plan != NULL || transport != NULL) {
        ss_ot_cost cost;
        double *h = st->colsum; /* reuse: g / reg */
        ss_ot_cost_dense(&cost, st->block, count, n, n);
        for (i = 0; i < count; i++)
            rs[i] = st->f[i] / up->reg;
        for (i = 0; i < n; i++)
            h[i] = st->g[i] / up->reg;
        SS_TRY(ss_ot_gibbs(ctx, &cost, 1.0 / up->reg, rs, h, plan, &dot));
        if (transport != NULL)
            *transport = dot;
    }
cleanup:
    ss_free(ctx, rs);
    up_state_free(obj, state);
    return rc;
}

int subsel_uniprot_plan_v2(subsel_ctx *ctx, const subsel_objective *obj,
                           const int64_t *set, int64_t count, double *plan,
                           int64_t plan_capacity, double *value)
{
    const up_impl *im;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, value);
    im = ss_objective_impl(ctx, obj, &uniprot_ops, "subsel_uniprot_plan");
    if (im == NULL)
        return SUBSEL_E_INVALID;
    /* count * n fits: count <= k <= rows, and the rows x n similarities
     * exist. A count outside [0, k] fails in the solve, before any write. */
    if (plan != NULL && count >= 0 && count <= im->up.k)
        SS_CHECK(ss_check_capacity(ctx, "subsel_uniprot_plan", "plan",
                                   plan_capacity, count * im->up.n));
    return ss_uniprot_solve_set(ctx, obj, set, count, plan, value, NULL);
}

int subsel_uniprot_transport_similarity(subsel_ctx *ctx,
                                        const subsel_objective *obj,
                                        const int64_t *set, int64_t count,
                                        double *similarity, double *value)
{
    double v;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, similarity);
    if (ss_objective_impl(ctx, obj, &uniprot_ops,
                          "subsel_uniprot_transport_similarity") == NULL)
        return SUBSEL_E_INVALID;
    SS_CHECK(ss_uniprot_solve_set(ctx, obj, set, count, NULL, &v, similarity));
    if (value != NULL)
        *value = v;
    return SUBSEL_OK;
}

/* Deprecated: the plan was assumed to hold count x n values. */
int subsel_uniprot_plan(subsel_ctx *ctx, const subsel_objective *obj,
                        const int64_t *set, int64_t count, double *plan,
                        double *value)
{
    return subsel_uniprot_plan_v2(ctx, obj, set, count, plan, INT64_MAX,
                                  value);
}
