/* SPDX-License-Identifier: MIT */
/*
 * `subsel sae-score`: how interpretable an encoder's latents are on a
 * sample of inputs, by the Monosemanticity (MS) and Monotonicity (MT)
 * scores of the SDM paper (subsel_sae_scores()). The codes come from the
 * encoder (--sae, --k: encoded as `subsel encode` does) or from a file
 * (--codes). Prints one JSON object with the means, the number of latents
 * scored and histograms of the per-latent scores; the per-latent scores
 * can also be written as .npy vectors. Progress on standard error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stages.h"
#include "commands.h"
#include "select_common.h"

/* counts[0..bins) of the scores that are not NaN in [lo, hi]: equal bins
 * with the edges lo + i (hi - lo) / bins and the last bin closed, as
 * numpy.histogram(scores, bins, (lo, hi)); values rounding past an end
 * count in the end bin. hi == lo puts everything in the middle bin, as
 * NumPy's range (lo - 0.5, hi + 0.5) does. */
static void histogram(const double *scores, int64_t n, double lo, double hi,
                      int64_t bins, int64_t *counts)
{
    int64_t i;
    memset(counts, 0, sizeof *counts * (size_t)bins);
    if (hi == lo) {
        lo -= 0.5;
        hi += 0.5;
    }
    for (i = 0; i < n; i++) {
        double v = scores[i], step = (hi - lo) / (double)bins;
        int64_t b;
        if (isnan(v))
            continue;
        b = (int64_t)floor((v - lo) / step);
        /* the float index can land one off a bin edge: settle it on the
         * edges themselves, lo + b * step */
        if (b > 0 && b < bins && v < lo + (double)b * step)
            b--;
        else if (b >= 0 && b + 1 < bins && v >= lo + (double)(b + 1) * step)
            b++;
        counts[b < 0 ? 0 : b >= bins ? bins - 1 : b]++;
    }
}

/* Min and max of the scores that are not NaN (NaN, NaN when none is). */
static void score_range(const double *scores, int64_t n, double *lo, double *hi)
{
    int64_t i;
    *lo = *hi = NAN;
    for (i = 0; i < n; i++)
        if (!isnan(scores[i])) {
            if (isnan(*lo) || scores[i] < *lo)
                *lo = scores[i];
            if (isnan(*hi) || scores[i] > *hi)
                *hi = scores[i];
        }
}

/* The codes: loaded from --codes, or made by the encoder in --sae. */
static int get_codes(const cli_command *self, subsel_ctx *ctx,
                     const char *codes_path, const char *dir, int64_t k,
                     const subsel_dense *x, subsel_csr **z)
{
    subsel_sae *sae = NULL;
    int rc;
    if (codes_path != NULL) {
        if (cli_load_csr(self, ctx, "--codes", codes_path, z) != 0)
            return CLI_FAILED;
        if (subsel_csr_rows(*z) != subsel_dense_rows(x))
            return cli_fail(self, "--codes has %lld rows but --input has %lld (one code per input row)",
                            (long long)subsel_csr_rows(*z), (long long)subsel_dense_rows(x));
        return 0;
    }
    if ((rc = subsel_sae_load(ctx, dir, &sae)) != SUBSEL_OK)
        return cli_fail_status(self, ctx, rc, "--sae");
    if (k > subsel_sae_features(sae))
        rc = cli_usage(self, "--k %lld is more than the %lld features of the encoder",
                       (long long)k, (long long)subsel_sae_features(sae));
    else if ((rc = subsel_sae_encode(ctx, sae, x, k, z)) != SUBSEL_OK)
        rc = cli_fail_status(self, ctx, rc, "encoding");
    subsel_sae_free(sae);
    return rc;
}

int cmd_sae_score(const cli_command *self, int argc, char **argv)
{
    const char *dir = NULL, *codes_path = NULL, *input = NULL;
    const char *ms_out = NULL, *mt_out = NULL;
    int64_t k = 0, bins = 20, threads = 0, features, ms_n = 0, mt_n = 0;
    cli_option options[] = {
        {"sae", 0, CLI_STRING, &dir, "folder holding W_enc.npy, b_enc.npy, b_dec.npy: encode --input with it (needs --k)", 0, NULL, 0, 0},
        {"k", 'k', CLI_INT, &k, "codes kept per row when encoding, in [1, features]", 0, "none: required with --sae", 0, 0},
        {"codes", 0, CLI_STRING, &codes_path, "or the codes of --input, a SciPy CSR .npz (rows x features; > 0: active)", 0, NULL, 0, 0},
        {"input", 0, CLI_STRING, &input, "the inputs, a rows x d .npy array (as encoded)", 1, NULL, 0, 0},
        {"bins", 0, CLI_INT, &bins, "histogram bins: MS over [-1, 1], MT over [min, max] of its scores", 0, NULL, 0, 0},
        {"ms-out", 0, CLI_STRING, &ms_out, "write MS per latent, a float64 .npy vector (NaN: not scored)", 0, NULL, 0, 0},
        {"mt-out", 0, CLI_STRING, &mt_out, "write MT per latent, likewise", 0, NULL, 0, 0},
        {"threads", 't', CLI_INT, &threads, "threads", 0, "0: as many as OpenMP gives", 0,
         SUBSEL_P_THREADS},
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    const char *outputs[2] = {"--ms-out", "--mt-out"};
    const char *paths[2];
    subsel_ctx *ctx = NULL;
    subsel_dense *x = NULL;
    subsel_csr *z = NULL;
    double *ms_l = NULL, *mt_l = NULL, ms, mt, mt_lo, mt_hi, t0, t_score;
    int64_t *hist = NULL;
    int rc = cli_parse(self, argc, argv, options,
                       "(--sae DIR --k K | --codes Z.npz) --input X.npy [--bins N] "
                       "[--ms-out MS.npy] [--mt-out MT.npy] [--threads T]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if ((dir == NULL) == (codes_path == NULL))
        return cli_usage(self, "give --sae (with --k) or --codes, not %s",
                         dir == NULL ? "neither" : "both");
    if (dir != NULL && !cli_given(options, "k"))
        return cli_usage(self, "--sae needs --k (the codes kept per row)");
    if (dir != NULL && k < 1)
        return cli_usage(self, "--k %lld must be at least 1", (long long)k);
    if (codes_path != NULL && cli_given(options, "k"))
        return cli_usage(self, "--k goes with --sae, not --codes");
    if (bins < 1 || bins > 1000000)
        return cli_usage(self, "--bins %lld is outside [1, 1000000]", (long long)bins);
    paths[0] = ms_out;
    paths[1] = mt_out;
    if ((rc = cli_check_outputs(self, 2, outputs, paths)) != 0 ||
        (rc = cli_make_ctx(self, threads, 0, &ctx)) != 0)
        return rc;
    t0 = cli_now();
    select_progress(self, ctx, 1);

    if ((rc = cli_load_dense(self, ctx, "--input", input, &x)) != 0)
        goto done;
    if (dir != NULL)
        stages_begin("encode"); /* else the codes are read: still "load" */
    if ((rc = get_codes(self, ctx, codes_path, dir, k, x, &z)) != 0)
        goto done;
    features = subsel_csr_cols(z);
    ms_l = malloc(sizeof *ms_l * (size_t)(features + 1));
    mt_l = malloc(sizeof *mt_l * (size_t)(features + 1));
    hist = malloc(sizeof *hist * (size_t)bins);
    if (ms_l == NULL || mt_l == NULL || hist == NULL) {
        rc = cli_fail(self, "out of memory for %lld latents", (long long)features);
        goto done;
    }
    stages_begin("score");
    t_score = cli_now();
    if ((rc = subsel_sae_scores(ctx, x, z, &ms, &mt, &ms_n, &mt_n, ms_l,
                                features, mt_l, features)) != SUBSEL_OK) {
        rc = cli_fail_status(self, ctx, rc, "scoring");
        goto done;
    }
    t_score = cli_now() - t_score;
    stages_begin("write");
    if (ms_out != NULL &&
        (rc = subsel_npy_write_f64(ctx, cli_output_path(ms_out), ms_l, features)) != SUBSEL_OK) {
        rc = cli_fail_status(self, ctx, rc, "--ms-out");
        goto done;
    }
    if (mt_out != NULL &&
        (rc = subsel_npy_write_f64(ctx, cli_output_path(mt_out), mt_l, features)) != SUBSEL_OK) {
        rc = cli_fail_status(self, ctx, rc, "--mt-out");
        goto done;
    }
    json_begin();
    json_int("rows", subsel_dense_rows(x));
    json_int("inputs", subsel_dense_cols(x));
    json_int("features", features);
    if (dir != NULL)
        json_int("k", k);
    json_int("nnz", subsel_csr_nnz(z));
    json_double("ms", ms);
    json_double("mt", mt);
    json_int("ms_latents", ms_n);
    json_int("mt_latents", mt_n);
    json_int("bins", bins);
    histogram(ms_l, features, -1.0, 1.0, bins, hist);
    json_int_array("ms_histogram", hist, bins);
    score_range(mt_l, features, &mt_lo, &mt_hi);
    json_double("mt_min", mt_lo);
    json_double("mt_max", mt_hi);
    if (mt_n > 0)
        histogram(mt_l, features, mt_lo, mt_hi, bins, hist);
    else
        memset(hist, 0, sizeof *hist * (size_t)bins);
    json_int_array("mt_histogram", hist, bins);
    json_int("threads", subsel_ctx_threads(ctx));
    json_double("seconds", cli_now() - t0);
    json_double("score_seconds", t_score);
    json_stages();
    json_end();
    rc = 0;
done:
    select_progress(self, ctx, 0);
    free(ms_l);
    free(mt_l);
    free(hist);
    subsel_csr_free(z);
    subsel_dense_free(x);
    subsel_ctx_free(ctx);
    return rc;
}
