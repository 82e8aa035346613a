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

int cmd_sdm(const cli_command *self, int argc, char **argv)
{
    const char *source = NULL, *target = NULL, *target_dist = NULL;
    const char *quality_path = NULL, *bin_weights_text = NULL, *bin_edges_text = NULL;
    double lambda = 0.7, seconds = 0, kl = 0;
    double *quality = NULL, *bin_weights = NULL, *edges = NULL, *p = NULL;
    int64_t bins = 3, nquality = 0, nweights = 0, nedges = 0, np = 0;
    select_options so;
    subsel_ctx *ctx = NULL;
    subsel_csr *z = NULL, *zt = NULL;
    subsel_objective *f = NULL;
    subsel_selection *sel = NULL;
    int rc = SUBSEL_OK, status = 1;
    cli_option options[] = {
        {"source", 's', CLI_STRING, &source, "CSR codes of the pool (scipy save_npz)", 1},
        {"target", 0, CLI_STRING, &target, "CSR codes of the target set", 0},
        {"target-dist", 0, CLI_STRING, &target_dist, "or: the target distribution over columns (.npy)", 0},
        {"quality", 'q', CLI_STRING, &quality_path, "quality score of every source row (.npy)", 0},
        {"bins", 0, CLI_INT, &bins, "equal-size quality bins by rank (default 3)", 0},
        {"bin-edges", 0, CLI_STRING, &bin_edges_text, "or: explicit increasing bin edges e1,e2,...", 0},
        {"bin-weights", 0, CLI_STRING, &bin_weights_text, "weight per bin, lowest first (default 0,0.01,0.99)", 0},
        {"lambda", 0, CLI_DOUBLE, &lambda, "weight of distribution matching in [0, 1] (default 0.7)", 0},
        SELECT_CLI_OPTIONS(so),
        {NULL, 0, 0, NULL, NULL, 0},
    };
    select_defaults(&so, "stochastic");
    rc = cli_parse(self, argc, argv, options,
                   "--source Z.npz (--target Zt.npz | --target-dist p.npy) --budget K --out sel.npy [options]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if ((target == NULL) == (target_dist == NULL))
        return cli_fail(self, "give exactly one of --target and --target-dist");
    if (select_context(self, &so, &ctx) != 0)
        return 1;

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
        if (cli_read_f64(self, ctx, target_dist, &p, &np) != 0)
            goto done;
        if ((rc = subsel_sdm_set_target_distribution(ctx, f, p, np)) != SUBSEL_OK) {
            cli_fail_status(self, ctx, rc, "--target-dist");
            goto done;
        }
    }
    if (quality_path != NULL) {
        if (cli_read_f64(self, ctx, quality_path, &quality, &nquality) != 0)
            goto done;
        if (bin_edges_text != NULL) {
            if (cli_parse_doubles(self, "bin-edges", bin_edges_text, &edges, &nedges) != 0)
                goto done;
            rc = subsel_sdm_set_quality_edges(ctx, f, quality, nquality, edges, nedges);
        } else {
            rc = subsel_sdm_set_quality(ctx, f, quality, nquality, bins);
        }
        if (rc != SUBSEL_OK) {
            cli_fail_status(self, ctx, rc, "--quality");
            goto done;
        }
        if (bin_weights_text != NULL) {
            if (cli_parse_doubles(self, "bin-weights", bin_weights_text, &bin_weights, &nweights) != 0)
                goto done;
            if ((rc = subsel_sdm_set_bin_weights(ctx, f, bin_weights, nweights)) != SUBSEL_OK) {
                cli_fail_status(self, ctx, rc, "--bin-weights");
                goto done;
            }
        }
    } else if (bin_weights_text != NULL || bin_edges_text != NULL) {
        cli_fail(self, "--bin-weights and --bin-edges need --quality");
        goto done;
    }
    if ((rc = subsel_sdm_set_lambda(ctx, f, lambda)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "--lambda");
        goto done;
    }
    if (select_run(self, ctx, &so, f, &sel, &seconds) != 0)
        goto done;
    if ((rc = subsel_sdm_kl(ctx, f, subsel_selection_indices(sel), subsel_selection_count(sel),
                            &kl)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "KL");
        goto done;
    }
    json_begin();
    select_json(&so, sel, seconds);
    json_double("kl", kl);
    json_double("lambda", lambda);
    json_end();
    status = 0;
done:
    subsel_selection_free(sel);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_csr_free(zt);
    free(quality);
    free(bin_weights);
    free(edges);
    free(p);
    subsel_ctx_free(ctx);
    return status;
}
