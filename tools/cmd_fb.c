/* SPDX-License-Identifier: MIT */
/*
 * `subsel fb`: select rows of a sparse feature matrix maximising a
 * feature-based function sum_i w_i phi(m_i(A)).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stages.h"
#include "commands.h"
#include "select_common.h"

static int concave_of(const char *name)
{
    static const char *names[] = {"log1p", "sqrt", "saturate", "exp", "min", "pow"};
    int i;
    for (i = 0; i < 6; i++)
        if (strcmp(name, names[i]) == 0)
            return i; /* SUBSEL_CONCAVE_LOG1P .. SUBSEL_CONCAVE_POW */
    return -1;
}

int cmd_fb(const cli_command *self, int argc, char **argv)
{
    const char *features = NULL, *weights_path = NULL, *concave = "log1p";
    double param = 1.0, *weights = NULL, seconds = 0;
    int64_t nweights = 0;
    select_options so;
    subsel_ctx *ctx = NULL;
    subsel_csr *z = NULL;
    subsel_objective *f = NULL;
    subsel_selection *sel = NULL;
    int rc, status = CLI_FAILED, kind;
    cli_option options[] = {
        {"features", 0, CLI_STRING, &features, "CSR features (scipy save_npz)", 1, NULL, 0, 0},
        {"weights", 0, CLI_STRING, &weights_path, "column weights (.npy)", 0, "all 1", 0, 0},
        {"concave", 0, CLI_STRING, &concave, "log1p | sqrt | saturate | exp | min | pow", 0, NULL, 0, 0},
        {"param", 0, CLI_DOUBLE, &param, "c > 0 of exp and min, 0 < a < 1 of pow", 0, NULL, 0, 0},
        SELECT_CLI_OPTIONS(so),
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    select_defaults(&so, "lazy", "--features");
    rc = cli_parse(self, argc, argv, options,
                   "--features Z.npz --budget K --out sel.npy [options]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    kind = concave_of(concave);
    if (kind < 0)
        return cli_usage(self, "--concave: '%s' is not log1p, sqrt, saturate, exp, min or pow",
                         concave);
    if ((kind == SUBSEL_CONCAVE_EXP || kind == SUBSEL_CONCAVE_MIN) && !(param > 0))
        return cli_usage(self, "--param: %s needs c > 0, not %g", concave, param);
    if (kind == SUBSEL_CONCAVE_POW && !(param > 0 && param < 1))
        return cli_usage(self, "--param: pow needs 0 < a < 1, not %g", param);
    if ((status = select_check(self, &so, NULL)) != 0 ||
        (status = select_context(self, &so, &ctx)) != 0)
        return status;
    status = CLI_FAILED;
    if (cli_load_csr(self, ctx, "--features", features, &z) != 0)
        goto done;
    if (weights_path != NULL) {
        if (cli_read_f64(self, ctx, "--weights", weights_path, &weights, &nweights) != 0)
            goto done;
        if (nweights != subsel_csr_cols(z)) {
            cli_fail(self, "--weights: %lld weights for %lld columns", (long long)nweights,
                     (long long)subsel_csr_cols(z));
            goto done;
        }
    }
    stages_begin("build");
    if ((rc = subsel_fb_create(ctx, z, kind, param, weights, &f)) != SUBSEL_OK) {
        cli_fail_status(self, ctx, rc, "objective");
        goto done;
    }
    if ((status = select_run(self, ctx, &so, f, &sel, &seconds)) != 0)
        goto done;
    json_begin();
    select_json(&so, sel, seconds);
    json_string("concave", concave);
    json_end();
    status = 0;
done:
    subsel_selection_free(sel);
    subsel_objective_free(f);
    subsel_csr_free(z);
    subsel_array_free(weights);
    select_free(&so);
    subsel_ctx_free(ctx);
    return status;
}
