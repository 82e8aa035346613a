/* SPDX-License-Identifier: MIT */
/*
 * `subsel encode`: dense embeddings (X.npy) to TopK sparse-autoencoder
 * codes (Z.npz, SciPy's CSR format) with the encoder in a folder holding
 * W_enc.npy, b_enc.npy and b_dec.npy. Prints one JSON object; progress on
 * standard error.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "stages.h"
#include "commands.h"

/* 1 if the folder `path` would be written into can be written, so that a
 * long encoding does not run only to fail at the end. Standard output ("-")
 * and existing files that are not in a folder's control (devices, FIFOs)
 * are for the writer to judge. */
static int out_folder_writable(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (slash == NULL)
        return access(".", W_OK) == 0;
    if (len == 0)
        return access("/", W_OK) == 0;
    if (len >= sizeof dir)
        return 1; /* let the writer report it */
    memcpy(dir, path, len);
    dir[len] = '\0';
    return access(dir, W_OK) == 0;
}

typedef struct encode_progress {
    double start, last;
} encode_progress;

/* One line on stderr per second at most, and the last batch (loading and
 * checking, in bytes and rows, show only when they take that long). */
static int print_progress(void *user, const char *stage, int64_t done,
                          int64_t total)
{
    encode_progress *p = user;
    double now = cli_now();
    int bytes = strcmp(stage, "load") == 0 || strcmp(stage, "read") == 0;
    if (!progress_lines())
        return 0;
    if (now - p->last >= 1.0 || (done == total && strcmp(stage, "encode") == 0)) {
        fprintf(stderr, "subsel encode: %s %lld/%lld %s (%.0f%%, %.1f s)\n",
                stage, (long long)done, (long long)total, bytes ? "bytes" : "rows",
                total > 0 ? 100.0 * (double)done / (double)total : 100.0,
                now - p->start);
        p->last = now;
    }
    return 0;
}

int cmd_encode(const cli_command *self, int argc, char **argv)
{
    const char *dir = NULL, *input = NULL, *out = NULL;
    int64_t k = 0, threads = 0, r, short_rows = 0;
    int uncompressed = 0;
    double t_encode;
    cli_option options[] = {
        {"sae", 0, CLI_STRING, &dir, "folder holding W_enc.npy (features x inputs), b_enc.npy, b_dec.npy", 1, NULL, 0, 0},
        {"input", 0, CLI_STRING, &input, "embeddings, a rows x inputs .npy array", 1, NULL, 0, 0},
        {"k", 'k', CLI_INT, &k, "codes kept per row, in [1, features]", 1, NULL, 0, 0},
        {"out", 'o', CLI_STRING, &out, "codes, written as a SciPy CSR .npz file (- for standard output)", 1, NULL, 0, 0},
        {"uncompressed", 0, CLI_FLAG, &uncompressed, "store the .npz members without deflate", 0, NULL, 0, 0},
        {"threads", 't', CLI_INT, &threads, "threads", 0, "0: as many as OpenMP gives", 0,
         SUBSEL_P_THREADS},
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    const char *out_option = "--out";
    encode_progress progress;
    subsel_ctx *ctx = NULL;
    subsel_sae *sae = NULL;
    subsel_dense *x = NULL;
    subsel_csr *z = NULL;
    int rc = cli_parse(self, argc, argv, options,
                       "--sae DIR --input X.npy --k K --out Z.npz [--threads T]");
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if (k < 1)
        return cli_usage(self, "--k %lld must be at least 1", (long long)k);
    if ((rc = cli_check_outputs(self, 1, &out_option, &out)) != 0)
        return rc;
    if (strcmp(out, "-") != 0 && access(out, F_OK) != 0 && !out_folder_writable(out))
        return cli_fail(self, "--out: cannot write into the folder of '%s'", out);
    if ((rc = cli_make_ctx(self, threads, 0, &ctx)) != 0)
        return rc;
    progress.start = progress.last = cli_now();
    stages_set_progress(ctx, print_progress, &progress);

    if ((rc = subsel_sae_load(ctx, dir, &sae)) != SUBSEL_OK) {
        rc = cli_fail_status(self, ctx, rc, "--sae");
        goto done;
    }
    if ((rc = cli_load_dense(self, ctx, "--input", input, &x)) != 0)
        goto done;
    if (k > subsel_sae_features(sae)) {
        rc = cli_usage(self, "--k %lld is more than the %lld features of the encoder",
                       (long long)k, (long long)subsel_sae_features(sae));
        goto done;
    }
    stages_begin("encode");
    t_encode = cli_now();
    if ((rc = subsel_sae_encode(ctx, sae, x, k, &z)) != SUBSEL_OK) {
        rc = cli_fail_status(self, ctx, rc, "encoding");
        goto done;
    }
    t_encode = cli_now() - t_encode;
    stages_begin("write");
    if ((rc = subsel_csr_save_npz(ctx, z, cli_output_path(out), !uncompressed)) != SUBSEL_OK) {
        rc = cli_fail_status(self, ctx, rc, "--out");
        goto done;
    }
    for (r = 0; r < subsel_csr_rows(z); r++) {
        const int32_t *idx;
        const float *val;
        int64_t n;
        subsel_csr_row(z, r, &idx, &val, &n);
        short_rows += n < k;
    }
    json_begin();
    json_int("rows", subsel_csr_rows(z));
    json_int("inputs", subsel_sae_inputs(sae));
    json_int("features", subsel_csr_cols(z));
    json_int("k", k);
    json_int("nnz", subsel_csr_nnz(z));
    json_int("rows_below_k", short_rows);
    json_int("threads", subsel_ctx_threads(ctx));
    json_double("seconds", cli_now() - progress.start);
    json_double("encode_seconds", t_encode);
    json_string("out", out);
    json_stages();
    json_end();
    rc = 0;
done:
    subsel_csr_free(z);
    subsel_dense_free(x);
    subsel_sae_free(sae);
    subsel_ctx_free(ctx);
    return rc;
}
