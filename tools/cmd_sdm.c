/* SPDX-License-Identifier: MIT */
/*
 * `subsel sdm`: Submodular Distribution Matching. Selects source rows whose
 * concept distribution matches a target (a CSR matrix or a distribution),
 * preferring high-quality rows, and reports KL(p || p(A)).
 */
#include <stdlib.h>

#include "cli.h"
#include "commands.h"
#include "select_common.h"

/* The default bin weights are for this many bins. */
#define DEFAULT_BINS 3

/* Checks the quality options that do not need the data: one of --bins and
 * --bin-edges, increasing edges, and as many nonnegative weights as bins
 * (which --bins other than 3 needs). Returns 0 or CLI_USAGE. */
static int check_quality_options(const cli_command *self, const cli_option *options,
                                 int64_t bins, const double *edges, int64_t nedges,
                                 const double *weights, int64_t nweights)
{
    int64_t i;
    if (cli_given(options, "bins") && cli_given(options, "bin-edges"))
        return cli_usage(self, "give --bins or --bin-edges, not both");
    if (bins < 1)
        return cli_usage(self, "--bins: must be at least 1, not %lld", (long long)bins);
    for (i = 1; i < nedges; i++)
        if (!(edges[i] > edges[i - 1]))
            return cli_usage(self, "--bin-edges: must increase strictly (%g then %g)",
                             edges[i - 1], edges[i]);
    if (edges != NULL)
        bins = nedges + 1;
    for (i = 0; i < nweights; i++)
        if (weights[i] < 0)
            return cli_usage(self, "--bin-weights: weight %lld is negative (%g)",
                             (long long)i, weights[i]);
    if (weights != NULL && nweights != bins)
        return cli_usage(self, "--bin-weights: %lld weights for %lld bins", (long long)nweights,
                         (long long)bins);
    if (weights == NULL && bins != DEFAULT_BINS)
        return cli_usage(self, "%lld bins need --bin-weights (the default weights "
                               "0,0.01,0.99 are for 3 bins)", (long long)bins);
    return 0;
}

int cmd_sdm(const cli_command *self, int argc, char **argv)
{
    const char *source = NULL, *target = NULL, *target_dist = NULL;
    const char *quality_path = NULL, *bin_weights_text = NULL, *bin_edges_text = NULL;
    double lambda = 0, seconds = 0, kl = 0; /* lambda: the library's default */
    double *quality = NULL, *bin_weights = NULL, *edges = NULL, *p = NULL;
    int64_t bins = DEFAULT_BINS, nquality = 0, nweights = 0, nedges = 0, np = 0;
    select_options so;
    subsel_ctx *ctx = NULL;
    subsel_csr *z = NULL, *zt = NULL;
    subsel_objective *f = NULL;
    subsel_selection *sel = NULL;
    int rc = SUBSEL_OK, status = CLI_FAILED;
    cli_option options[] = {
        {"source", 0, CLI_STRING, &source, "CSR codes of the pool (scipy save_npz)", 1, NULL, 0, 0},
        {"target", 0, CLI_STRING, &target, "CSR codes of the target set", 0, NULL, 0, 0},
        {"target-dist", 0, CLI_STRING, &target_dist, "or: the target distribution over columns (.npy)", 0, NULL, 0, 0},
        {"quality", 0, CLI_STRING, &quality_path, "quality score of every source row (.npy)", 0, NULL, 0, 0},
        {"bins", 0, CLI_INT, &bins, "equal-size quality bins by rank", 0, NULL, 0, 0},
        {"bin-edges", 0, CLI_STRING, &bin_edges_text, "or: explicit increasing bin edges e1,e2,...", 0, NULL, 0, 0},
        {"bin-weights", 0, CLI_STRING, &bin_weights_text, "weight per bin, lowest first", 0, "0,0.01,0.99 (3 bins)", 0, 0},
        {"lambda", 0, CLI_DOUBLE, &lambda, "weight of distribution matching", 0, NULL, 0,
         SUBSEL_P_SDM_LAMBDA},
        SELECT_CLI_OPTIONS(so),
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    select_defaults(&so, "stochastic");
    rc = cli_parse(self, argc, argv, options,
                   "--source Z.npz (--target Zt.npz | --target-dist p.npy) --budget K --out sel.npy [options]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if ((target == NULL) == (target_dist == NULL))
        return cli_usage(self, "give exactly one of --target and --target-dist");
    if (quality_path == NULL && (bin_weights_text || bin_edges_text || cli_given(options, "bins")))
        return cli_usage(self, "--bins, --bin-edges and --bin-weights need --quality");
    if ((status = select_check(self, &so, NULL)) != 0)
        return status;
    if ((bin_edges_text != NULL &&
         (status = cli_parse_doubles(self, "bin-edges", bin_edges_text, &edges, &nedges)) != 0) ||
        (bin_weights_text != NULL &&
         (status = cli_parse_doubles(self, "bin-weights", bin_weights_text, &bin_weights,
                                     &nweights)) != 0) ||
        (status = check_quality_options(self, options, bins, edges, nedges, bin_weights,
                                        nweights)) != 0 ||
        (status = select_context(self, &so, &ctx)) != 0)
        goto done;
    status = CLI_FAILED;

    if ((rc = subsel_csr_load_npz(ctx, source, &z)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "--source");
        goto done;
    }
    if ((rc = subsel_sdm_create(ctx, z, &f)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "objective");
        goto done;
    }
    if (target != NULL) {
        if ((rc = subsel_csr_load_npz(ctx, target, &zt)) != SUBSEL_OK ||
            (rc = subsel_sdm_set_target(ctx, f, zt)) != SUBSEL_OK) {
            cli_fail_status(self, ctx, rc, "--target");
            goto done;
        }
    } else {
        if (cli_read_f64(self, ctx, "--target-dist", target_dist, &p, &np) != 0)
            goto done;
        if ((rc = subsel_sdm_set_target_distribution(ctx, f, p, np)) != SUBSEL_OK) {
            cli_fail_status(self, ctx, rc, "--target-dist");
            goto done;
        }
    }
    if (quality_path != NULL) {
        if (cli_read_f64(self, ctx, "--quality", quality_path, &quality, &nquality) != 0)
            goto done;
        if (edges == NULL && bins > subsel_csr_rows(z) && subsel_csr_rows(z) > 0) {
            status = cli_usage(self, "--bins %lld is more than the %lld source rows",
                               (long long)bins, (long long)subsel_csr_rows(z));
            goto done;
        }
        if (edges != NULL)
            rc = subsel_sdm_set_quality_edges(ctx, f, quality, nquality, edges, nedges);
        else
            rc = subsel_sdm_set_quality(ctx, f, quality, nquality, bins);
        if (rc != SUBSEL_OK) {
            cli_fail_status(self, ctx, rc, "--quality");
            goto done;
        }
        if (bin_weights != NULL &&
            (rc = subsel_sdm_set_bin_weights(ctx, f, bin_weights, nweights)) != SUBSEL_OK) {
            status = cli_option_status(self, ctx, rc, "--bin-weights");
            goto done;
        }
    }
    if ((rc = subsel_sdm_set_lambda(ctx, f, lambda)) != SUBSEL_OK) {
        status = cli_option_status(self, ctx, rc, "--lambda");
        goto done;
    }
    if ((status = select_run(self, ctx, &so, f, &sel, &seconds)) != 0)
        goto done;
    status = CLI_FAILED;
    if ((rc = subsel_sdm_kl(ctx, f, subsel_selection_indices(sel), subsel_selection_count(sel),
                            &kl)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "KL");
        goto done;
    }
    json_begin();
    select_json(&so, sel, seconds);
    json_double("kl", kl); /* null: +inf, a target column is not covered */
    json_double("lambda", lambda);
    json_end();
    status = 0;
done:
    subsel_selection_free(sel);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_csr_free(zt);
    subsel_array_free(quality);
    free(bin_weights);
    free(edges);
    subsel_array_free(p);
    subsel_ctx_free(ctx);
    return status;
}
