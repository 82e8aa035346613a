/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints of a greedy run, so that a long selection can stop and go on
 * to the selection an uninterrupted run makes. A checkpoint is an .npz
 * archive (NumPy reads it) written atomically:
 *
 *   selection.npy   int64 (m,): the items chosen so far, in order
 *   checkpoint.npy  int64 (7,): format (1), algorithm, ground set size,
 *                   budget, seed, stop_nonpositive (resolved), warm (the
 *                   leading items that were the run's initial set)
 *   reals.npy       float64 (2,): epsilon, f(selection)
 *
 * The items are all a run needs to go on: naive and lazy greedy start
 * again from them (for a submodular f, fresh lazy bounds choose what stale
 * ones would), and the stochastic algorithms draw their samples again
 * (optim/stochastic.c). The record refuses a checkpoint of another run;
 * f of the items, of another objective.
 */
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "matrix/fileio.h"
#include "matrix/npy.h"
#include "matrix/npz.h"
#include "matrix/zip.h"
#include "optim/optim.h"

#define FORMAT_VERSION 1
#define RECORD_COUNT 7
#define REALS_COUNT 2

typedef struct write_job {
    const ss_checkpoint_meta *meta;
    const int64_t *items;
    int64_t count;
} write_job;

static int write_archive(subsel_ctx *ctx, FILE *f, void *arg)
{
    const write_job *job = arg;
    const ss_checkpoint_meta *m = job->meta;
    const int64_t record[RECORD_COUNT] = {
        FORMAT_VERSION, m->algorithm, m->n, m->budget, m->seed, m->stop_nonpositive, m->warm,
    };
    const double reals[REALS_COUNT] = {m->epsilon, m->value};
    const int64_t records = RECORD_COUNT, real_count = REALS_COUNT;
    ss_zip_writer w;
    int rc = SUBSEL_OK;

    ss_zip_writer_init(&w, ctx, f, 0, 0);
    SS_TRY(ss_npz_write_member(&w, "selection.npy", "<i8", 1, &job->count, job->items,
                               job->count, sizeof(int64_t)));
    SS_TRY(ss_npz_write_member(&w, "checkpoint.npy", "<i8", 1, &records, record,
                               RECORD_COUNT, sizeof(int64_t)));
    SS_TRY(ss_npz_write_member(&w, "reals.npy", "<f8", 1, &real_count, reals,
                               REALS_COUNT, sizeof(double)));
    SS_TRY(ss_zip_writer_finish(&w));
cleanup:
    ss_zip_writer_release(&w);
    return rc;
}

int ss_checkpoint_write(subsel_ctx *ctx, const subsel_objective *obj,
                        const void *state, const ss_checkpoint *cp,
                        const ss_trace *trace)
{
    ss_checkpoint_meta meta = cp->meta;
    write_job job;
    int rc;
    SS_CHECK(ss_objective_value(ctx, obj, state, &meta.value));
    job.meta = &meta;
    job.items = trace->items;
    job.count = trace->count;
    rc = ss_write_atomic(ctx, cp->path, write_archive, &job);
    if (rc != SUBSEL_OK)
        return ss_fail_prefix(ctx, rc, "checkpoint");
    return SUBSEL_OK;
}

/* Member `name`: a 1-D array of `type` (SS_NPY_I8 or SS_NPY_F8) of `want`
 * entries (any number when want < 0), into a new buffer on ctx. */
static int read_member(ss_zip *z, const char *name, int type, int64_t want,
                       void **out, int64_t *count)
{
    subsel_ctx *ctx = z->ctx;
    ss_zip_entry e;
    ss_zip_member m;
    ss_npy_header h;
    ss_npy_target t;
    void *buf = NULL;
    int opened = 0, rc = SUBSEL_OK;

    SS_TRY(ss_zip_find(z, name, &e));
    SS_TRY(ss_zip_member_open(z, &e, &m));
    opened = 1;
    SS_TRY(ss_npy_read_header(&m.base, &h));
    if (h.type != type || h.ndim != 1 || (want >= 0 && h.count != want))
        SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT, "expected a 1-D %s array%s, not '%s' of %lld",
                       type == SS_NPY_I8 ? "int64" : "float64",
                       want >= 0 ? " of its format's length" : "", h.descr,
                       (long long)h.count));
    SS_TRY(ss_alloc_array(ctx, h.count, ss_npy_type_size(type), &buf));
    ss_npy_target_init(&t, type, buf);
    SS_TRY(ss_npy_read_data(&m.base, &h, &t));
    SS_TRY(m.base.finish(&m.base));
    *out = buf;
    *count = h.count;
    buf = NULL;
cleanup:
    if (opened)
        ss_zip_member_close(&m);
    ss_free(ctx, buf);
    if (rc < 0)
        rc = ss_fail_prefix(ctx, rc, "%s", name);
    return rc;
}

typedef struct read_job {
    int64_t *items, count;
    ss_checkpoint_meta *meta;
} read_job;

static int read_archive(subsel_ctx *ctx, FILE *f, void *arg)
{
    read_job *job = arg;
    ss_checkpoint_meta *m = job->meta;
    ss_zip z;
    ss_zip_entry entry;
    int64_t *record = NULL, records = 0, reals_count = 0;
    double *reals = NULL;
    int rc;

    SS_CHECK(ss_zip_open(&z, ctx, f));
    /* the record first: an archive without one is no checkpoint */
    rc = ss_zip_find(&z, "checkpoint.npy", &entry);
    if (rc != SUBSEL_OK) {
        rc = ss_fail(ctx, SUBSEL_E_FORMAT,
                     "not a selection checkpoint (no checkpoint.npy member)");
        goto cleanup;
    }
    SS_TRY(read_member(&z, "checkpoint.npy", SS_NPY_I8, -1, (void **)&record, &records));
    if (records < 1 || record[0] != FORMAT_VERSION)
        SS_TRY(ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "checkpoint format %lld: this subsel reads format %d",
                       records < 1 ? -1LL : (long long)record[0], FORMAT_VERSION));
    if (records != RECORD_COUNT)
        SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT,
                       "checkpoint.npy has %lld entries, format %d has %d",
                       (long long)records, FORMAT_VERSION, RECORD_COUNT));
    SS_TRY(read_member(&z, "reals.npy", SS_NPY_F8, REALS_COUNT, (void **)&reals,
                       &reals_count));
    SS_TRY(read_member(&z, "selection.npy", SS_NPY_I8, -1, (void **)&job->items,
                       &job->count));
    m->algorithm = record[1];
    m->n = record[2];
    m->budget = record[3];
    m->seed = record[4];
    m->stop_nonpositive = record[5];
    m->warm = record[6];
    m->epsilon = reals[0];
    m->value = reals[1];
    if (m->warm < 0 || m->warm > job->count)
        SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT,
                       "its record says %lld initial items, of %lld items",
                       (long long)m->warm, (long long)job->count));
cleanup:
    ss_free(ctx, record);
    ss_free(ctx, reals);
    ss_zip_close(&z);
    return rc;
}

int ss_checkpoint_read(subsel_ctx *ctx, const char *path, int64_t **items,
                       int64_t *count, ss_checkpoint_meta *meta)
{
    read_job job;
    int rc;
    memset(&job, 0, sizeof job);
    memset(meta, 0, sizeof *meta);
    job.meta = meta;
    rc = ss_read_file(ctx, path, read_archive, &job);
    if (rc != SUBSEL_OK) {
        ss_free(ctx, job.items);
        return rc;
    }
    *items = job.items;
    *count = job.count;
    return SUBSEL_OK;
}
