/* SPDX-License-Identifier: MIT */
/*
 * `subsel sdm`: Submodular Distribution Matching. Selects source rows whose
 * concept distribution matches a target (a CSR matrix or a distribution),
 * preferring high-quality rows, and reports KL(p || p(A)).
 *
 * A pool may be many shard files (--source 'pool-*.npz'), selected from in
 * one process, in parts (docs/distributed.md):
 *   --shard I --summary     one part's summary to --out (a Slurm array task)
 *   --merge-summaries GLOB  the final merge of the parts' summaries
 *   --distributed M         every rank of an mpirun its shards (MPI)
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stages.h"
#include "commands.h"
#include "mpi_glue.h"
#include "select_common.h"
#include "shards.h"

/* The default bin weights are for this many bins. */
#define DEFAULT_BINS 3

/* Everything an SDM objective is built from, whatever rows it is over. */
typedef struct sdm_inputs {
    const cli_option *options;
    const char *target, *target_dist, *quality_path;
    const char *bin_weights_text, *bin_edges_text;
    double lambda;
    int64_t bins;
    subsel_csr *zt;
    double *p, *quality, *bin_weights, *edges;
    int64_t np, nquality, nweights, nedges;
} sdm_inputs;

static void inputs_free(sdm_inputs *in)
{
    subsel_csr_free(in->zt);
    subsel_array_free(in->quality);
    subsel_array_free(in->p);
    free(in->bin_weights);
    free(in->edges);
}

/* Checks the quality options that do not need the data: one of --bins and
 * --bin-edges, increasing edges, and as many nonnegative weights as bins
 * (which --bins other than 3 needs). Returns 0 or CLI_USAGE. */
static int check_quality_options(const cli_command *self, const sdm_inputs *in)
{
    int64_t i, bins = in->bins;
    if (cli_given(in->options, "bins") && cli_given(in->options, "bin-edges"))
        return cli_usage(self, "give --bins or --bin-edges, not both");
    if (bins < 1)
        return cli_usage(self, "--bins: must be at least 1, not %lld", (long long)bins);
    for (i = 1; i < in->nedges; i++)
        if (!(in->edges[i] > in->edges[i - 1]))
            return cli_usage(self, "--bin-edges: must increase strictly (%g then %g)",
                             in->edges[i - 1], in->edges[i]);
    if (in->edges != NULL)
        bins = in->nedges + 1;
    for (i = 0; i < in->nweights; i++)
        if (in->bin_weights[i] < 0)
            return cli_usage(self, "--bin-weights: weight %lld is negative (%g)",
                             (long long)i, in->bin_weights[i]);
    if (in->bin_weights != NULL && in->nweights != bins)
        return cli_usage(self, "--bin-weights: %lld weights for %lld bins",
                         (long long)in->nweights, (long long)bins);
    if (in->bin_weights == NULL && bins != DEFAULT_BINS)
        return cli_usage(self, "%lld bins need --bin-weights (the default weights "
                               "0,0.01,0.99 are for 3 bins)", (long long)bins);
    return 0;
}

/* Reads the target and the quality scores. Returns 0 or an exit code. */
static int load_inputs(const cli_command *self, subsel_ctx *ctx, sdm_inputs *in)
{
    if (in->target != NULL) {
        if (cli_load_csr(self, ctx, "--target", in->target, &in->zt) != 0)
            return CLI_FAILED;
    } else if (cli_read_f64(self, ctx, "--target-dist", in->target_dist, &in->p, &in->np) != 0) {
        return CLI_FAILED;
    }
    if (in->quality_path != NULL &&
        cli_read_f64(self, ctx, "--quality", in->quality_path, &in->quality, &in->nquality) != 0)
        return CLI_FAILED;
    return 0;
}

/* The SDM objective over z, the pool's rows first .. first + rows(z) - 1
 * (their quality scores are those). A merge's objective (`like`) is over
 * rows whose bins come with them: its own rows get no scores. Returns 0 or
 * an exit code. */
static int make_sdm(const cli_command *self, subsel_ctx *ctx, const sdm_inputs *in,
                    const subsel_csr *z, int64_t first, int like, subsel_objective **f)
{
    int64_t rows = subsel_csr_rows(z);
    double *zeros = NULL;
    int rc;
    stages_begin("build");
    if ((rc = subsel_sdm_create(ctx, z, f)) != SUBSEL_OK)
        return cli_fail_status(self, ctx, rc, "objective");
    rc = in->zt != NULL ? subsel_sdm_set_target(ctx, *f, in->zt)
                        : subsel_sdm_set_target_distribution(ctx, *f, in->p, in->np);
    if (rc != SUBSEL_OK)
        return cli_fail_status(self, ctx, rc, in->zt != NULL ? "--target" : "--target-dist");
    if (in->quality != NULL || (like && in->edges != NULL)) {
        const double *q = in->quality != NULL ? in->quality + first : NULL;
        if (like) {
            if ((zeros = calloc((size_t)(rows > 0 ? rows : 1), sizeof *zeros)) == NULL)
                return cli_fail(self, "out of memory");
            q = zeros;
        } else if (in->nquality < first + rows) {
            return cli_fail(self, "--quality: %lld scores for a pool of at least %lld rows",
                            (long long)in->nquality, (long long)(first + rows));
        }
        if (in->edges != NULL) {
            rc = subsel_sdm_set_quality_edges(ctx, *f, q, rows, in->edges, in->nedges);
        } else if (in->bins > rows && rows > 0) {
            free(zeros);
            return cli_usage(self, "--bins %lld is more than the %lld source rows",
                             (long long)in->bins, (long long)rows);
        } else {
            rc = subsel_sdm_set_quality(ctx, *f, q, rows, in->bins);
        }
        free(zeros);
        if (rc != SUBSEL_OK)
            return cli_fail_status(self, ctx, rc, "--quality");
        if (in->bin_weights != NULL &&
            (rc = subsel_sdm_set_bin_weights(ctx, *f, in->bin_weights, in->nweights)) !=
                SUBSEL_OK)
            return cli_option_status(self, ctx, rc, "--bin-weights");
    }
    if ((rc = subsel_sdm_set_lambda(ctx, *f, in->lambda)) != SUBSEL_OK)
        return cli_option_status(self, ctx, rc, "--lambda");
    return 0;
}

/* KL(p || p(A)) of the rows `rows` taken together (a summary's, or one row
 * of column sums). */
static int kl_of_rows(const cli_command *self, subsel_ctx *ctx, const sdm_inputs *in,
                      const subsel_csr *rows, double *kl)
{
    subsel_objective *f = NULL;
    sdm_inputs plain = *in;
    int64_t *all = NULL, i, n = subsel_csr_rows(rows);
    int rc, status;
    plain.quality = NULL; /* KL does not depend on quality */
    plain.edges = NULL;
    if ((status = make_sdm(self, ctx, &plain, rows, 0, 0, &f)) != 0) {
        subsel_objective_free(f);
        return status;
    }
    if ((all = malloc(sizeof *all * (size_t)(n > 0 ? n : 1))) == NULL) {
        subsel_objective_free(f);
        return cli_fail(self, "out of memory");
    }
    for (i = 0; i < n; i++)
        all[i] = i;
    rc = subsel_sdm_kl(ctx, f, all, n, kl);
    free(all);
    subsel_objective_free(f);
    return rc == SUBSEL_OK ? 0 : cli_fail_status(self, ctx, rc, "KL");
}

/* ---- one process -------------------------------------------------------- */

static int run_single(const cli_command *self, subsel_ctx *ctx, select_options *so,
                      const sdm_inputs *in, const shard_list *shards)
{
    subsel_csr *z = NULL;
    subsel_objective *f = NULL;
    subsel_selection *sel = NULL;
    double seconds = 0, kl = 0;
    int rc, status;
    if ((status = shards_load(self, ctx, "--source", shards, 0, shards->count, &z)) != 0 ||
        (status = make_sdm(self, ctx, in, z, 0, 0, &f)) != 0 ||
        (status = select_run(self, ctx, so, f, &sel, &seconds)) != 0)
        goto done;
    if ((rc = subsel_sdm_kl(ctx, f, subsel_selection_indices(sel), subsel_selection_count(sel),
                            &kl)) != SUBSEL_OK) {
        status = cli_fail_status(self, ctx, rc, "KL");
        goto done;
    }
    json_begin();
    select_json(so, sel, seconds);
    json_double("kl", kl); /* null: +inf, a target column is not covered */
    json_double("lambda", in->lambda);
    json_end();
done:
    subsel_selection_free(sel);
    subsel_objective_free(f);
    subsel_csr_free(z);
    return status;
}

/* ---- a part and the merge (job arrays) ---------------------------------- */

/* --summary: the summary of shard `shard` (the pool's rows after the
 * earlier shards) to --out. */
static int run_part(const cli_command *self, subsel_ctx *ctx, const select_options *so,
                    const sdm_inputs *in, const shard_list *shards, int64_t shard)
{
    subsel_csr *z = NULL;
    subsel_objective *f = NULL;
    subsel_optimizer *opt = NULL;
    subsel_summary *s = NULL;
    double t0 = cli_now();
    int rc, status;
    if ((status = shards_load(self, ctx, "--source", shards, shard, shard + 1, &z)) != 0 ||
        (status = make_sdm(self, ctx, in, z, shards->offsets[shard], 0, &f)) != 0 ||
        (status = select_optimizer(self, ctx, so, &opt)) != 0)
        goto done;
    select_progress(self, ctx, 1);
    stages_begin("select");
    rc = subsel_summary_select(ctx, opt, f, shards->offsets[shard],
                               shards->offsets[shards->count], &s);
    select_progress(self, ctx, 0);
    if (rc != SUBSEL_OK) {
        status = cli_fail_status(self, ctx, rc, "selection");
        goto done;
    }
    stages_begin("write");
    if ((rc = subsel_summary_save(ctx, s, cli_output_path(so->out))) != SUBSEL_OK) {
        status = cli_fail_status(self, ctx, rc, "--out");
        goto done;
    }
    json_begin();
    json_int("selected", subsel_summary_count(s));
    json_int("shard", shard);
    json_int("offset", shards->offsets[shard]);
    json_int("rows", subsel_csr_rows(z));
    json_int("total", shards->offsets[shards->count]);
    json_double("seconds", cli_now() - t0);
    json_string("out", so->out);
    json_stages();
    json_end();
done:
    subsel_summary_free(s);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_csr_free(z);
    return status;
}

/* Writes a selection and its JSON (the merge's and the ranks'); the pool
 * has `rows` rows (< 0: not known, as in a merge of summaries). */
static int report(const cli_command *self, subsel_ctx *ctx, select_options *so,
                  const sdm_inputs *in, const subsel_selection *sel, double seconds,
                  double kl, const char *method, int64_t processes, int64_t rows)
{
    int rc;
    if ((rc = ids_load(self, ctx, &so->ids, rows, "--source")) != 0 ||
        (rc = select_write(self, ctx, so, sel)) != 0)
        return rc;
    json_begin();
    select_json(so, sel, seconds);
    json_double("kl", kl);
    json_double("lambda", in->lambda);
    json_string("distributed", method);
    json_int("processes", processes);
    json_end();
    return 0;
}

/* --merge-summaries: the parts' summaries merged (GreeDi; in rounds of
 * --fanin), to --out as a selection of global row ids. */
static int run_merge(const cli_command *self, subsel_ctx *ctx, select_options *so,
                     const sdm_inputs *in, const char *pattern, int64_t fanin)
{
    shard_list files;
    subsel_summary **s = NULL;
    subsel_csr *rows = NULL;
    subsel_objective *like = NULL;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL;
    double t0 = cli_now(), kl = 0;
    int64_t i, count, f;
    int rc, status = CLI_FAILED;

    /* no context: the summaries are not .npz, only their names are wanted */
    if ((status = shards_find(self, NULL, "--merge-summaries", pattern, &files)) != 0)
        return status;
    count = files.count;
    status = CLI_FAILED;
    if ((s = calloc((size_t)count, sizeof *s)) == NULL) {
        cli_fail(self, "out of memory");
        goto done;
    }
    for (i = 0; i < count; i++)
        if ((rc = subsel_summary_load(ctx, files.paths[i], &s[i])) != SUBSEL_OK) {
            status = cli_fail_status(self, ctx, rc, "--merge-summaries");
            goto done;
        }
    if ((rc = subsel_summary_rows(ctx, s[0], &rows)) != SUBSEL_OK) {
        status = cli_fail_status(self, ctx, rc, "--merge-summaries");
        goto done;
    }
    if ((status = make_sdm(self, ctx, in, rows, 0, 1, &like)) != 0 ||
        (status = select_optimizer(self, ctx, so, &opt)) != 0)
        goto done;
    status = CLI_FAILED;
    /* rounds of f summaries each until one is left (f = count: one round) */
    f = fanin >= 2 ? fanin : count;
    stages_begin("select");
    select_progress(self, ctx, 1);
    while (count > 1) {
        int64_t groups = (count + f - 1) / f, g;
        for (g = 0; g < groups; g++) {
            int64_t first = g * f, n = count - first < f ? count - first : f, k;
            subsel_summary *merged = NULL;
            if (n == 1) { /* alone in its group: kept as it is (merging it alone
                           * would run the optimizer to choose the same) */
                s[g] = s[first];
                if (first != g)
                    s[first] = NULL;
                continue;
            }
            rc = subsel_summary_merge(ctx, opt, like, (const subsel_summary *const *)s + first,
                                      n, &merged);
            if (rc != SUBSEL_OK) {
                select_progress(self, ctx, 0);
                status = cli_fail_status(self, ctx, rc, "merge");
                goto done;
            }
            for (k = first; k < first + n; k++) {
                subsel_summary_free(s[k]);
                s[k] = NULL;
            }
            s[g] = merged;
        }
        count = groups;
    }
    select_progress(self, ctx, 0);
    subsel_csr_free(rows);
    rows = NULL;
    if ((rc = subsel_summary_selection(ctx, s[0], &sel)) != SUBSEL_OK ||
        (rc = subsel_summary_rows(ctx, s[0], &rows)) != SUBSEL_OK) {
        status = cli_fail_status(self, ctx, rc, "merge");
        goto done;
    }
    if ((status = kl_of_rows(self, ctx, in, rows, &kl)) != 0 ||
        (status = report(self, ctx, so, in, sel, cli_now() - t0, kl, "summaries",
                         files.count, -1)) != 0)
        goto done;
done:
    if (s != NULL)
        for (i = 0; i < files.count; i++)
            subsel_summary_free(s[i]);
    free(s);
    shards_free(&files);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(like);
    subsel_csr_free(rows);
    return status;
}

/* ---- MPI ---------------------------------------------------------------- */

/* KL of a selection spread over the ranks: each rank adds up the columns
 * of its selected rows, rank 0 gets the sums and computes KL from them as
 * one row (the sums rounded to float). */
static int distributed_kl(const cli_command *self, subsel_ctx *ctx, const sdm_inputs *in,
                          const subsel_csr *z, int64_t offset, const subsel_selection *sel,
                          int rank, double *sums, double *kl)
{
    int64_t cols = subsel_csr_cols(z), i, k, nnz = 0;
    int64_t indptr[2] = {0, 0};
    int32_t *indices = NULL;
    float *values = NULL;
    subsel_csr *row = NULL;
    int rc, status = CLI_FAILED;
    for (i = 0; i < subsel_selection_count(sel); i++) {
        int64_t local = subsel_selection_indices(sel)[i] - offset, count;
        const void *ix;
        const float *v;
        if (local < 0 || local >= subsel_csr_rows(z) ||
            subsel_csr_row_v2(z, local, &ix, &v, &count) != SUBSEL_OK)
            continue;
        for (k = 0; k < count; k++)
            sums[subsel_csr_index_type(z) == SUBSEL_DTYPE_INT32
                     ? ((const int32_t *)ix)[k]
                     : ((const int64_t *)ix)[k]] += v[k];
    }
    if (cli_mpi_sum_to_root(sums, cols) != 0)
        return cli_fail(self, "KL: the sum over ranks failed");
    if (rank != 0)
        return 0;
    indices = malloc(sizeof *indices * (size_t)(cols > 0 ? cols : 1));
    values = malloc(sizeof *values * (size_t)(cols > 0 ? cols : 1));
    if (indices == NULL || values == NULL) {
        cli_fail(self, "out of memory");
        goto done;
    }
    for (i = 0; i < cols; i++)
        if (sums[i] > 0) {
            indices[nnz] = (int32_t)i;
            values[nnz++] = (float)sums[i];
        }
    indptr[1] = nnz;
    if ((rc = subsel_csr_create(ctx, 1, cols, indptr, indices, values, SUBSEL_OWN_COPY,
                                &row)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "KL");
        goto done;
    }
    status = kl_of_rows(self, ctx, in, row, kl);
done:
    subsel_csr_free(row);
    free(indices);
    free(values);
    return status;
}

/* The SUBSEL_DISTRIBUTED_* of a --distributed name, or -1. */
static int distributed_method(const char *name)
{
    if (strcmp(name, "greedi") == 0)
        return SUBSEL_DISTRIBUTED_GREEDI;
    if (strcmp(name, "exact") == 0)
        return SUBSEL_DISTRIBUTED_EXACT;
    if (strcmp(name, "union") == 0)
        return SUBSEL_DISTRIBUTED_UNION;
    return -1;
}

/* --distributed: under mpirun, rank r reads the r-th contiguous block of
 * shards (one shard: its r-th block of rows), every rank selects with the
 * library's MPI component, rank 0 writes --out and the JSON. Every rank
 * reaches subsel_mpi_select, also after a failure of its own (with no
 * objective), so the others learn of it instead of waiting. */
static int run_mpi(const cli_command *self, subsel_ctx *ctx, select_options *so,
                   const sdm_inputs *in, const shard_list *shards, const char *method_name,
                   int64_t fanin)
{
    int rank = 0, size = 1, rc, status;
    int64_t comm = 0, first_row = 0, offset = 0;
    int method = distributed_method(method_name);
    subsel_csr *z = NULL, *whole = NULL;
    subsel_objective *f = NULL;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL;
    double t0, kl = 0, *sums = NULL;

    if ((status = cli_mpi_begin(self, &rank, &size, &comm)) != 0)
        return status;
    t0 = cli_now();
    if (shards->count >= size || shards->count == 1) {
        if (shards->count >= size) {
            int64_t a = shards->count * rank / size, b = shards->count * (rank + 1) / size;
            offset = shards->offsets[a];
            status = shards_load(self, ctx, "--source", shards, a, b, &z);
            cli_note_rows("--source", shards->offsets[shards->count]);
        } else {
            /* one file: each rank its block of rows */
            int64_t n = shards->offsets[1];
            first_row = n * rank / size;
            offset = first_row;
            status = shards_load(self, ctx, "--source", shards, 0, 1, &whole);
            if (status == 0 && (rc = subsel_csr_view_rows(ctx, whole, first_row,
                                                          n * (rank + 1) / size - first_row,
                                                          &z)) != SUBSEL_OK)
                status = cli_fail_status(self, ctx, rc, "--source");
        }
    } else {
        status = cli_usage(self, "--distributed: %lld shards for %d ranks: give at least "
                                 "one shard per rank, or one file",
                           (long long)shards->count, size);
    }
    if (status == 0)
        status = make_sdm(self, ctx, in, z, offset, 0, &f);
    if (status == 0)
        status = select_optimizer(self, ctx, so, &opt);
    if (opt != NULL && subsel_optimizer_set_int(opt, SUBSEL_P_FANIN, fanin) != SUBSEL_OK)
        status = cli_fail(self, "--fanin %lld is out of range", (long long)fanin);
    /* KL's column sums, allocated before the ranks agree, so that a rank
     * that cannot is one more failure they all learn of */
    if (status == 0 &&
        (sums = calloc((size_t)(shards->cols > 0 ? shards->cols : 1), sizeof *sums)) == NULL)
        status = cli_fail(self, "out of memory");
    stages_begin("select");
    if (rank == 0)
        select_progress(self, ctx, 1);
    /* with f NULL after a failure here, the call fails on every rank */
    rc = subsel_mpi_select(ctx, opt, status == 0 ? f : NULL, method, comm, &sel);
    select_progress(self, ctx, 0);
    if (status == 0 && rc != SUBSEL_OK)
        status = cli_fail_status(self, ctx, rc, "selection");
    if (status == 0 &&
        (status = distributed_kl(self, ctx, in, z, offset, sel, rank, sums, &kl)) == 0 &&
        rank == 0)
        status = report(self, ctx, so, in, sel, cli_now() - t0, kl, method_name, size,
                        shards->offsets[shards->count]);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_csr_free(whole);
    free(sums);
    cli_mpi_end();
    return status;
}

int cmd_sdm(const cli_command *self, int argc, char **argv)
{
    const char *source = NULL, *merge_summaries = NULL, *distributed = NULL;
    int64_t shard = -1, fanin = 0;
    int summary = 0;
    sdm_inputs in;
    select_options so;
    shard_list shards;
    subsel_ctx *ctx = NULL;
    int status;
    cli_option options[] = {
        {"source", 0, CLI_STRING, &source, "CSR codes of the pool (scipy save_npz; a glob "
         "pattern: shards, in name order)", 0, NULL, 0, 0},
        {"target", 0, CLI_STRING, &in.target, "CSR codes of the target set", 0, NULL, 0, 0},
        {"target-dist", 0, CLI_STRING, &in.target_dist, "or: the target distribution over columns (.npy)", 0, NULL, 0, 0},
        {"quality", 0, CLI_STRING, &in.quality_path, "quality score of every source row (.npy)", 0, NULL, 0, 0},
        {"bins", 0, CLI_INT, &in.bins, "equal-size quality bins by rank", 0, NULL, 0, 0},
        {"bin-edges", 0, CLI_STRING, &in.bin_edges_text, "or: explicit increasing bin edges e1,e2,...", 0, NULL, 0, 0},
        {"bin-weights", 0, CLI_STRING, &in.bin_weights_text, "weight per bin, lowest first", 0, "0,0.01,0.99 (3 bins)", 0, 0},
        {"lambda", 0, CLI_DOUBLE, &in.lambda, "weight of distribution matching", 0, NULL, 0,
         SUBSEL_P_SDM_LAMBDA},
        {"shard", 0, CLI_INT, &shard, "with --summary: the shard of --source to select from "
         "(0 first)", 0, NULL, 0, 0},
        {"summary", 0, CLI_FLAG, &summary, "write the shard's summary to --out, for "
         "--merge-summaries", 0, NULL, 0, 0},
        {"merge-summaries", 0, CLI_STRING, &merge_summaries, "merge these summaries (a glob "
         "pattern) instead of reading --source", 0, NULL, 0, 0},
        {"distributed", 0, CLI_STRING, &distributed, "under mpirun: greedi | exact | union",
         0, NULL, 0, 0},
        {"fanin", 0, CLI_INT, &fanin, NULL, 0, NULL, 0, SUBSEL_P_FANIN},
        SELECT_CLI_OPTIONS(so),
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    memset(&in, 0, sizeof in);
    memset(&shards, 0, sizeof shards);
    in.options = options;
    in.bins = DEFAULT_BINS;
    select_defaults(&so, "stochastic", "--source");
    status = cli_parse(self, argc, argv, options,
                       "(--source Z.npz | --merge-summaries 'part-*.sss') (--target Zt.npz | "
                       "--target-dist p.npy) --budget K --out sel.npy [options]");
    if (status != 0)
        return status == 1 ? 0 : status;
    if ((source == NULL) == (merge_summaries == NULL))
        return cli_usage(self, "give exactly one of --source and --merge-summaries");
    if ((in.target == NULL) == (in.target_dist == NULL))
        return cli_usage(self, "give exactly one of --target and --target-dist");
    if (in.quality_path == NULL &&
        (in.bin_weights_text || in.bin_edges_text || cli_given(options, "bins")))
        return cli_usage(self, "--bins, --bin-edges and --bin-weights need --quality");
    if (distributed != NULL && distributed_method(distributed) < 0)
        return cli_usage(self, "--distributed: '%s' is not greedi, exact or union",
                         distributed);
    if ((summary || cli_given(options, "shard")) && (distributed || merge_summaries))
        return cli_usage(self, "--summary and --shard select one part: not with "
                               "--distributed or --merge-summaries");
    if (summary && so.ids.path != NULL)
        return cli_usage(self, "--ids goes with the selection, not a part's --summary "
                               "(give it to --merge-summaries)");
    if (cli_given(options, "shard") && !summary)
        return cli_usage(self, "--shard needs --summary (a part's selection is a summary)");
    if ((summary || distributed || merge_summaries) &&
        (so.initial || so.checkpoint || so.resume))
        return cli_usage(self, "--initial, --checkpoint and --resume apply to one process's "
                               "selection: not with --summary, --distributed or "
                               "--merge-summaries");
    if ((summary || distributed || merge_summaries) && cli_given(options, "bins"))
        return cli_usage(self, "--bins ranks the rows of each part on its own: for a "
                               "pool in parts give --bin-edges");
    if ((status = select_check(self, &so, NULL)) != 0)
        return status;
    if ((in.bin_edges_text != NULL &&
         (status = cli_parse_doubles(self, "bin-edges", in.bin_edges_text, &in.edges,
                                     &in.nedges)) != 0) ||
        (in.bin_weights_text != NULL &&
         (status = cli_parse_doubles(self, "bin-weights", in.bin_weights_text,
                                     &in.bin_weights, &in.nweights)) != 0) ||
        (status = check_quality_options(self, &in)) != 0 ||
        (status = select_context(self, &so, &ctx)) != 0 ||
        (status = load_inputs(self, ctx, &in)) != 0)
        goto done;
    if (merge_summaries != NULL) {
        status = run_merge(self, ctx, &so, &in, merge_summaries, fanin);
        goto done;
    }
    if ((status = shards_find(self, ctx, "--source", source, &shards)) != 0)
        goto done;
    if (distributed != NULL)
        status = run_mpi(self, ctx, &so, &in, &shards, distributed, fanin);
    else if (summary && (shard < 0 ? shards.count != 1 : shard >= shards.count))
        status = cli_usage(self, "--shard %lld: --source names %lld shards (0 to %lld)",
                           (long long)shard, (long long)shards.count,
                           (long long)shards.count - 1);
    else if (summary)
        status = run_part(self, ctx, &so, &in, &shards, shard < 0 ? 0 : shard);
    else
        status = run_single(self, ctx, &so, &in, &shards);
done:
    shards_free(&shards);
    inputs_free(&in);
    select_free(&so);
    subsel_ctx_free(ctx);
    return status;
}
