/* SPDX-License-Identifier: MIT */
/*
 * The MPI component: selection across the ranks of a communicator, which
 * arrives as its Fortran handle (MPI_Comm_c2f) so that subsel.h needs no
 * mpi.h. Built when meson finds MPI (SUBSEL_HAVE_MPI); otherwise the same
 * symbols exist and say so, so the ABI does not depend on the build.
 *
 * Every collective below is reached by every rank whatever happened
 * locally: a rank that fails takes part with a failure flag instead of
 * its data, so no rank ever waits for one that has given up.
 */
#include <stdint.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "distributed/distributed.h"
#include "matrix/matrix.h"
#include "objectives/objective.h"
#include "optim/optim.h"

#ifndef SUBSEL_HAVE_MPI

int subsel_mpi_available(void)
{
    return 0;
}

int subsel_mpi_select(subsel_ctx *ctx, const subsel_optimizer *opt,
                      const subsel_objective *obj, int method, int64_t comm,
                      subsel_selection **out)
{
    (void)opt;
    (void)obj;
    (void)method;
    (void)comm;
    SS_REQUIRE_CTX(ctx);
    if (out != NULL)
        *out = NULL;
    return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                   "subsel_mpi_select: this libsubsel was built without MPI "
                   "(install libopenmpi-dev and rebuild; meson option "
                   "-Dmpi=enabled makes it required)");
}

#else

#include <mpi.h>

int subsel_mpi_available(void)
{
    return 1;
}

/* ---- the exchange of the exact mode ------------------------------------- */

static int mpi_failed(subsel_ctx *ctx, int code, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
        strcpy(text, "unknown MPI error");
    return ss_fail(ctx, SUBSEL_E_STATE, "%s: %s", what, text);
}

#define MPI_TRY(call, what)                                                     \
    do {                                                                        \
        int mpi_code_ = (call);                                                 \
        if (mpi_code_ != MPI_SUCCESS) {                                         \
            rc = mpi_failed(ctx, mpi_code_, what);                              \
            goto cleanup;                                                       \
        }                                                                       \
    } while (0)

/* Data of unknown size travels in chunks of this many bytes: a receiver
 * that cannot allocate room for it still drains it through a buffer on its
 * stack, so the sender never waits for a receive that does not come, and
 * no message comes near MPI's int count. */
#define CHUNK_BYTES 65536

/* count elements of `elsize` bytes from root to every rank, in chunks of
 * CHUNK_BYTES; a rank whose buf is NULL (it could not allocate it) takes
 * part all the same, through a buffer on its stack. */
static int bcast_chunked(subsel_ctx *ctx, MPI_Comm comm, void *buf, int64_t count,
                         MPI_Datatype type, size_t elsize, int root)
{
    unsigned char drain[CHUNK_BYTES];
    int64_t per = (int64_t)(CHUNK_BYTES / elsize), at;
    int rc = SUBSEL_OK;
    for (at = 0; at < count; at += per) {
        int n = (int)(count - at < per ? count - at : per);
        MPI_TRY(MPI_Bcast(buf != NULL ? (unsigned char *)buf + (size_t)at * elsize : drain, n,
                          type, root, comm),
                "MPI_Bcast");
    }
cleanup:
    return rc;
}

static int gather_candidates(subsel_ctx *ctx, void *impl,
                             const ss_candidate *mine, ss_candidate *all)
{
    MPI_Comm comm = *(MPI_Comm *)impl;
    int rc = SUBSEL_OK;
    MPI_TRY(MPI_Allgather(mine, (int)sizeof *mine, MPI_BYTE, all, (int)sizeof *mine,
                          MPI_BYTE, comm),
            "MPI_Allgather");
cleanup:
    return rc;
}

/* The owner sends {nnz (-1: it failed), label, cols}, then the row's
 * indices and values (bcast_chunked, so that a receiver that cannot
 * allocate them still takes part). The owner's rows come from
 * ss_objective_rows: one matrix of int32 column indices. */
static int broadcast_row(subsel_ctx *ctx, void *impl, int owner,
                         const subsel_csr *rows, int64_t row, int32_t label,
                         subsel_csr **got, int32_t *got_label)
{
    MPI_Comm comm = *(MPI_Comm *)impl;
    int64_t head[3] = {-1, 0, 0}, *indptr = NULL, start = 0;
    int32_t *indices = NULL;
    float *values = NULL;
    int rc = SUBSEL_OK, mine = got == NULL;

    if (mine && rows != NULL && !rows->idx64) {
        start = ss_csr_ptr(rows, row);
        head[0] = ss_csr_ptr(rows, row + 1) - start;
        head[1] = label;
        head[2] = rows->cols;
    }
    MPI_TRY(MPI_Bcast(head, 3, MPI_INT64_T, owner, comm), "MPI_Bcast");
    if (head[0] < 0)
        return mine ? SUBSEL_OK
                    : ss_fail(ctx, SUBSEL_E_STATE,
                              "rank %d failed (its message is on that rank)", owner);
    if (!mine && (ss_alloc_array(ctx, 2, sizeof *indptr, &indptr) != SUBSEL_OK ||
                  ss_alloc_array(ctx, head[0], sizeof *indices, &indices) != SUBSEL_OK ||
                  ss_alloc_array(ctx, head[0], sizeof *values, &values) != SUBSEL_OK))
        rc = SUBSEL_E_NOMEM; /* drained all the same */
    SS_TRY(bcast_chunked(ctx, comm, mine ? (void *)(rows->indices.i32 + start) : indices,
                         head[0], MPI_INT32_T, sizeof *indices, owner));
    SS_TRY(bcast_chunked(ctx, comm, mine ? (void *)(rows->values + start) : values, head[0],
                         MPI_FLOAT, sizeof *values, owner));
    if (mine || rc != SUBSEL_OK)
        goto cleanup;
    indptr[0] = 0;
    indptr[1] = head[0];
    *got_label = (int32_t)head[1];
    /* adopt owns the arrays from here, success or not */
    return ss_csr_adopt(ctx, 1, head[2], indptr, 1, indices, 0, values, got);
cleanup:
    ss_free(ctx, indptr);
    ss_free(ctx, indices);
    ss_free(ctx, values);
    return rc;
}

/* ---- agreeing on success ----------------------------------------------- */

/* Every rank's status of a local stage; SUBSEL_OK when all succeeded, else
 * this rank's own error, or on the others SUBSEL_E_STATE naming the lowest
 * failing rank. Allocates nothing, so that no rank can fail to take part. */
static int agree(subsel_ctx *ctx, MPI_Comm comm, int mine, const char *stage)
{
    struct {
        int status, rank;
    } in, out;
    int rc = SUBSEL_OK;
    MPI_Comm_rank(comm, &in.rank);
    in.status = mine; /* statuses are <= 0: the minimum is a failure if any */
    MPI_TRY(MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, comm), "MPI_Allreduce");
    if (mine != SUBSEL_OK)
        return mine;
    if (out.status != SUBSEL_OK)
        rc = ss_fail(ctx, SUBSEL_E_STATE,
                     "subsel_mpi_select: rank %d failed in %s (%s; its message is "
                     "on that rank)",
                     out.rank, stage, subsel_status_string(out.status));
cleanup:
    return rc;
}

/* agree() as the exact mode's exchange calls it. */
static int agree_status(subsel_ctx *ctx, void *impl, int status)
{
    return agree(ctx, *(MPI_Comm *)impl, status, "the exact mode");
}

/* ---- GreeDi over ranks ------------------------------------------------- */

/* Sends a summary's bytes to `to`: their count (-1 for a failure: s NULL,
 * or its bytes could not be made), then the chunks. */
static int send_summary(subsel_ctx *ctx, MPI_Comm comm, int to,
                        const subsel_summary *s)
{
    int64_t size = -1, at;
    unsigned char *buf = NULL;
    int rc = SUBSEL_OK;
    if (s != NULL) {
        rc = subsel_summary_to_bytes(ctx, s, NULL, 0, &size);
        if (rc == SUBSEL_OK)
            rc = ss_alloc_array(ctx, size, 1, &buf);
        if (rc == SUBSEL_OK)
            rc = subsel_summary_to_bytes(ctx, s, buf, size, &size);
        if (rc != SUBSEL_OK)
            size = -1;
    }
    MPI_TRY(MPI_Send(&size, 1, MPI_INT64_T, to, 0, comm), "MPI_Send");
    for (at = 0; at < size; at += CHUNK_BYTES)
        MPI_TRY(MPI_Send(buf + at, (int)(size - at < CHUNK_BYTES ? size - at : CHUNK_BYTES),
                         MPI_BYTE, to, 1, comm),
                "MPI_Send");
cleanup:
    ss_free(ctx, buf);
    return rc;
}

/* Receives a summary from `from` (*out NULL when that rank failed, or this
 * one could not take it: every chunk is received all the same). */
static int receive_summary(subsel_ctx *ctx, MPI_Comm comm, int from,
                           subsel_summary **out)
{
    int64_t size = -1, at;
    unsigned char *buf = NULL, drain[CHUNK_BYTES];
    int rc = SUBSEL_OK;
    *out = NULL;
    MPI_TRY(MPI_Recv(&size, 1, MPI_INT64_T, from, 0, comm, MPI_STATUS_IGNORE),
            "MPI_Recv");
    if (size < 0)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "rank %d failed (its message is on that rank)", from);
    rc = ss_alloc_array(ctx, size, 1, &buf);
    for (at = 0; at < size; at += CHUNK_BYTES)
        MPI_TRY(MPI_Recv(buf != NULL ? buf + at : drain,
                         (int)(size - at < CHUNK_BYTES ? size - at : CHUNK_BYTES), MPI_BYTE,
                         from, 1, comm, MPI_STATUS_IGNORE),
                "MPI_Recv");
    if (rc == SUBSEL_OK)
        rc = subsel_summary_from_bytes(ctx, buf, size, out);
cleanup:
    ss_free(ctx, buf);
    return rc;
}

/* Merges the ranks' summaries in rounds: in the round of width w, rank r
 * (a multiple of w * f) collects the summaries of ranks r + w, r + 2w, ...
 * (up to f - 1 of them) and merges them with its own, and the other ranks
 * of the round send theirs and are done; rank 0 ends with the whole
 * pool's. A failure travels as a missing summary. */
static int merge_tree(subsel_ctx *ctx, MPI_Comm comm, const subsel_optimizer *opt,
                      const subsel_objective *obj, subsel_summary **mine)
{
    int size, rank, f, k, rc = SUBSEL_OK;
    int64_t width;
    subsel_summary **group = NULL, *drained = NULL;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    f = opt->fanin >= 2 && opt->fanin < size ? (int)opt->fanin : size;
    if (size < 2)
        return SUBSEL_OK;
    if (ss_calloc_array(ctx, f, sizeof *group, &group) != SUBSEL_OK) {
        /* this rank still receives (and drops) its members' summaries and
         * sends on a failure, so that no rank waits for it */
        rc = SUBSEL_E_NOMEM;
        subsel_summary_free(*mine);
        *mine = NULL;
    }
    for (width = 1; width < size; width *= f) {
        int64_t span = width * f, members = 1;
        int status = *mine != NULL ? SUBSEL_OK : SUBSEL_E_STATE;
        subsel_summary *merged = NULL;
        if (rank % span != 0) {
            rc = send_summary(ctx, comm, (int)(rank - rank % span), *mine);
            break;
        }
        if (group == NULL) {
            for (k = 1; k < f && rank + k * width < size; k++) {
                (void)receive_summary(ctx, comm, (int)(rank + k * width), &drained);
                subsel_summary_free(drained);
            }
            continue;
        }
        group[0] = *mine;
        *mine = NULL;
        /* every member is received, also after a failure, so that no
         * sender waits */
        for (k = 1; k < f && rank + k * width < size; k++) {
            int got = receive_summary(ctx, comm, (int)(rank + k * width),
                                      &group[members]);
            if (got != SUBSEL_OK)
                status = got;
            else
                members++;
        }
        if (status == SUBSEL_OK && members == 1) {
            *mine = group[0]; /* nothing to merge with this round */
            group[0] = NULL;
        } else if (status == SUBSEL_OK) {
            status = subsel_summary_merge(ctx, opt, obj,
                                          (const subsel_summary *const *)group,
                                          members, &merged);
            *mine = merged;
        }
        for (k = 0; k < members; k++)
            subsel_summary_free(group[k]);
        memset(group, 0, (size_t)f * sizeof *group);
        if (status != SUBSEL_OK)
            rc = status;
    }
    ss_free(ctx, group);
    return rc;
}

/* Rank 0's selection to every rank: {count (-1: rank 0 failed, or one
 * reported to it), evaluations, value bits}, then ids and gains. */
static int share_selection(subsel_ctx *ctx, MPI_Comm comm, int ok, int64_t count,
                           const int64_t *ids, const double *gains, double value,
                           int64_t evaluations, subsel_selection **out)
{
    int rank, rc = SUBSEL_OK, got;
    int64_t head[3] = {-1, 0, 0}, *all_ids = NULL;
    double *all_gains = NULL;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0 && ok) {
        head[0] = count;
        head[1] = evaluations;
        memcpy(&head[2], &value, 8);
    }
    MPI_TRY(MPI_Bcast(head, 3, MPI_INT64_T, 0, comm), "MPI_Bcast");
    if (head[0] < 0)
        return rank == 0 ? SUBSEL_E_STATE
                         : ss_fail(ctx, SUBSEL_E_STATE,
                                   "subsel_mpi_select: the merge failed (its "
                                   "message is on rank 0)");
    got = ss_alloc_array(ctx, head[0], sizeof *all_ids, &all_ids);
    if (got == SUBSEL_OK)
        got = ss_alloc_array(ctx, head[0], sizeof *all_gains, &all_gains);
    if (got == SUBSEL_OK && rank == 0 && head[0] > 0) {
        memcpy(all_ids, ids, (size_t)head[0] * sizeof *all_ids);
        memcpy(all_gains, gains, (size_t)head[0] * sizeof *all_gains);
    }
    /* rank 0 sends from the caller's arrays: it has them whatever it could
     * allocate */
    SS_TRY(bcast_chunked(ctx, comm, rank == 0 ? (void *)ids : all_ids, head[0], MPI_INT64_T,
                         sizeof *all_ids, 0));
    SS_TRY(bcast_chunked(ctx, comm, rank == 0 ? (void *)gains : all_gains, head[0],
                         MPI_DOUBLE, sizeof *all_gains, 0));
    SS_TRY(got);
    memcpy(&value, &head[2], 8);
    rc = ss_selection_new(ctx, all_ids, all_gains, head[0], value, head[1], out);
cleanup:
    ss_free(ctx, all_ids);
    ss_free(ctx, all_gains);
    return rc;
}

static int select_greedi(subsel_ctx *ctx, MPI_Comm comm,
                         const subsel_optimizer *opt, const subsel_objective *obj,
                         int64_t offset, int64_t total, subsel_selection **out)
{
    subsel_summary *mine = NULL;
    int rank, rc, merged, shared;
    MPI_Comm_rank(comm, &rank);
    rc = subsel_summary_select(ctx, opt, obj, offset, total, &mine);
    merged = merge_tree(ctx, comm, opt, obj, &mine);
    if (rc == SUBSEL_OK)
        rc = merged;
    /* rank 0 shares nothing after a failure of its own or one reported to
     * it; the other ranks then fail too */
    shared = share_selection(ctx, comm, rank == 0 && rc == SUBSEL_OK,
                             mine != NULL ? mine->count : 0,
                             mine != NULL ? mine->ids : NULL,
                             mine != NULL ? mine->gains : NULL,
                             mine != NULL ? mine->value : 0.0,
                             mine != NULL ? mine->evaluations : 0, out);
    if (rc == SUBSEL_OK)
        rc = shared;
    subsel_summary_free(mine);
    return rc;
}

/* ---- the union of the ranks' shares ------------------------------------ */

/* Rank r's share of the budget k: proportional to its rows, the shares
 * adding up to k (each at most the rank's rows, as k <= n). */
static int64_t share_of(int64_t k, const int64_t *offsets, int size, int rank)
{
    int64_t n = offsets[size];
    if (n == 0)
        return 0;
    return (int64_t)(((unsigned __int128)k * (uint64_t)offsets[rank + 1]) / (uint64_t)n) -
           (int64_t)(((unsigned __int128)k * (uint64_t)offsets[rank]) / (uint64_t)n);
}

/* Every rank selects its share from its rows; rank 0 lists the choices
 * round-robin by step (every rank's first, then every rank's second, ...,
 * as SUBSEL_MERGE_UNION does); f of the union comes from the ranks' states
 * added up (one MPI_Allreduce of the state sums). Memory is agreed on
 * before data moves: every rank's, then rank 0's for the lists. */
static int select_union(subsel_ctx *ctx, MPI_Comm comm, const subsel_optimizer *opt,
                        const subsel_objective *obj, const int64_t *offsets,
                        subsel_selection **out)
{
    int size, rank, i, mine = 0, *counts = NULL, *displs = NULL, status;
    int64_t share, total_count = 0, sums_n = ss_objective_sums_count(obj);
    int64_t *ids = NULL, *listed_ids = NULL, *out_ids = NULL, step, at;
    int64_t evaluations = 0, all_evaluations = 0;
    double *listed_gains = NULL, *out_gains = NULL, *sums = NULL, value = 0.0;
    const double *gains = NULL;
    subsel_selection *local = NULL;
    void *state = NULL, *union_state = NULL;
    int rc = SUBSEL_OK;

    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    share = share_of(opt->budget > 0 ? opt->budget : offsets[size], offsets, size, rank);
    status = ss_optimizer_run(ctx, opt, obj, share, &local);
    if (status == SUBSEL_OK && (sums_n > INT32_MAX || subsel_selection_count(local) > INT32_MAX))
        status = ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "%lld state sums or %lld items are "
                         "more than one MPI message carries",
                         (long long)sums_n, (long long)subsel_selection_count(local));
    if (status == SUBSEL_OK)
        status = ss_state_of_set(ctx, obj, subsel_selection_indices(local),
                                 subsel_selection_count(local), &state);
    if (status == SUBSEL_OK)
        status = ss_calloc_array(ctx, sums_n, sizeof *sums, &sums);
    if (status == SUBSEL_OK)
        status = ss_calloc_array(ctx, size, sizeof *counts, &counts);
    if (status == SUBSEL_OK)
        status = ss_calloc_array(ctx, size, sizeof *displs, &displs);
    if (status == SUBSEL_OK)
        status = ss_objective_state_new(ctx, obj, &union_state);
    if (status == SUBSEL_OK) {
        mine = (int)subsel_selection_count(local);
        status = ss_alloc_array(ctx, mine, sizeof *ids, &ids);
    }
    if (status == SUBSEL_OK) {
        for (i = 0; i < mine; i++)
            ids[i] = offsets[rank] + subsel_selection_indices(local)[i];
        gains = subsel_selection_gains(local);
        evaluations = subsel_selection_evaluations(local);
        ss_objective_state_sums(obj, state, sums);
    }
    SS_TRY(agree(ctx, comm, status, "its part"));

    MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, sums, (int)sums_n, MPI_DOUBLE, MPI_SUM, comm),
            "MPI_Allreduce");
    MPI_TRY(MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm), "MPI_Gather");
    MPI_TRY(MPI_Reduce(&evaluations, &all_evaluations, 1, MPI_INT64_T, MPI_SUM, 0, comm),
            "MPI_Reduce");
    status = SUBSEL_OK;
    if (rank == 0) {
        for (i = 0; i < size; i++) {
            displs[i] = (int)total_count;
            total_count += counts[i];
        }
        if (total_count > INT32_MAX)
            status = ss_fail(ctx, SUBSEL_E_UNSUPPORTED, "a selection of %lld items is more "
                             "than one MPI gather carries", (long long)total_count);
        if (status == SUBSEL_OK)
            status = ss_alloc_array(ctx, total_count, sizeof *listed_ids, &listed_ids);
        if (status == SUBSEL_OK)
            status = ss_alloc_array(ctx, total_count, sizeof *listed_gains, &listed_gains);
        if (status == SUBSEL_OK)
            status = ss_alloc_array(ctx, total_count, sizeof *out_ids, &out_ids);
        if (status == SUBSEL_OK)
            status = ss_alloc_array(ctx, total_count, sizeof *out_gains, &out_gains);
        if (status == SUBSEL_OK)
            status = ss_objective_add_sums(ctx, obj, union_state, sums);
        if (status == SUBSEL_OK)
            status = ss_objective_value(ctx, obj, union_state, &value);
    }
    SS_TRY(agree(ctx, comm, status, "the union"));
    MPI_TRY(MPI_Gatherv(ids, mine, MPI_INT64_T, listed_ids, counts, displs, MPI_INT64_T, 0,
                        comm),
            "MPI_Gatherv");
    MPI_TRY(MPI_Gatherv((void *)gains, mine, MPI_DOUBLE, listed_gains, counts, displs,
                        MPI_DOUBLE, 0, comm),
            "MPI_Gatherv");
    if (rank == 0) /* round-robin by step */
        for (step = 0, at = 0; at < total_count; step++)
            for (i = 0; i < size; i++)
                if (step < counts[i]) {
                    out_ids[at] = listed_ids[displs[i] + step];
                    out_gains[at++] = listed_gains[displs[i] + step];
                }
    rc = share_selection(ctx, comm, 1, total_count, out_ids, out_gains, value,
                         all_evaluations, out);
cleanup:
    ss_objective_state_free(obj, state);
    ss_objective_state_free(obj, union_state);
    subsel_selection_free(local);
    ss_free(ctx, ids);
    ss_free(ctx, out_ids);
    ss_free(ctx, out_gains);
    ss_free(ctx, listed_ids);
    ss_free(ctx, listed_gains);
    ss_free(ctx, sums);
    ss_free(ctx, counts);
    ss_free(ctx, displs);
    return rc;
}

/* ---- the call --------------------------------------------------------- */

static int check_exact(subsel_ctx *ctx, const subsel_optimizer *opt)
{
    SS_CHECK(ss_optimizer_require_plain(ctx, opt, "the exact distributed mode"));
    if (opt->algorithm != SUBSEL_ALGORITHM_STOCHASTIC)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "the exact distributed mode runs stochastic greedy: use "
                       "SUBSEL_ALGORITHM_STOCHASTIC");
    if (opt->runs != 1 || opt->parts > 1)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "the exact distributed mode makes one run over one "
                       "part (runs %lld, parts %lld)",
                       (long long)opt->runs, (long long)opt->parts);
    return SUBSEL_OK;
}

int subsel_mpi_select(subsel_ctx *ctx, const subsel_optimizer *opt,
                      const subsel_objective *obj, int method, int64_t comm_f,
                      subsel_selection **out)
{
    MPI_Comm comm;
    int initialized = 0, size = 0, rank = 0, i, local;
    int64_t *offsets = NULL, *counts = NULL, n;
    ss_exchange ex;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    if (MPI_Initialized(&initialized) != MPI_SUCCESS || !initialized)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "subsel_mpi_select: MPI is not initialised (call MPI_Init first)");
    if (comm_f < INT32_MIN || comm_f > INT32_MAX)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_mpi_select: %lld is not a Fortran communicator handle",
                       (long long)comm_f);
    comm = MPI_Comm_f2c((MPI_Fint)comm_f);
    if (comm == MPI_COMM_NULL || MPI_Comm_size(comm, &size) != MPI_SUCCESS ||
        MPI_Comm_rank(comm, &rank) != MPI_SUCCESS)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "subsel_mpi_select: %lld is not a valid communicator",
                       (long long)comm_f);

    /* the local checks, then the ranks' sizes: every rank takes part in the
     * same collectives whatever its checks found */
    local = SUBSEL_OK;
    if (!ss_handle_is(opt, SS_KIND_OPTIMIZER) || !ss_handle_is(obj, SS_KIND_OBJECTIVE))
        local = ss_fail(ctx, SUBSEL_E_INVALID,
                        "subsel_mpi_select: opt and obj must be an optimizer "
                        "and an objective");
    else if (method != SUBSEL_DISTRIBUTED_GREEDI && method != SUBSEL_DISTRIBUTED_EXACT &&
             method != SUBSEL_DISTRIBUTED_UNION)
        local = ss_fail(ctx, SUBSEL_E_INVALID,
                        "subsel_mpi_select: unknown method %d", method);
    else if ((local = ss_objective_require_distribute(ctx, obj, "subsel_mpi_select")) ==
             SUBSEL_OK)
        local = ss_objective_ready(ctx, obj);
    if (local == SUBSEL_OK && method == SUBSEL_DISTRIBUTED_EXACT)
        local = check_exact(ctx, opt);
    if (local == SUBSEL_OK)
        local = ss_alloc_array(ctx, size + 1, sizeof *offsets, &offsets);
    if (local == SUBSEL_OK)
        local = ss_alloc_array(ctx, size, sizeof *counts, &counts);
    SS_TRY(agree(ctx, comm, local, "its checks"));
    n = obj->n;
    MPI_TRY(MPI_Allgather(&n, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, comm),
            "MPI_Allgather");
    offsets[0] = 0;
    for (i = 0; i < size; i++)
        offsets[i + 1] = offsets[i] + counts[i];
    /* the same on every rank: no agreement needed */
    SS_TRY(ss_check_budget(ctx, opt, offsets[size]));

    if (method == SUBSEL_DISTRIBUTED_GREEDI) {
        rc = select_greedi(ctx, comm, opt, obj, offsets[rank], offsets[size], out);
    } else if (method == SUBSEL_DISTRIBUTED_UNION) {
        rc = select_union(ctx, comm, opt, obj, offsets, out);
    } else {
        ex.impl = &comm;
        ex.size = size;
        ex.rank = rank;
        ex.agree = agree_status;
        ex.gather = gather_candidates;
        ex.broadcast_row = broadcast_row;
        rc = ss_exact_select(ctx, opt, obj, offsets, &ex, out);
    }
cleanup:
    ss_free(ctx, offsets);
    ss_free(ctx, counts);
    return rc;
}

#endif
