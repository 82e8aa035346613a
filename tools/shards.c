/* SPDX-License-Identifier: MIT */
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "shards.h"

void shards_free(shard_list *list)
{
    int64_t i;
    for (i = 0; i < list->count; i++)
        free(list->paths[i]);
    free(list->paths);
    free(list->offsets);
    memset(list, 0, sizeof *list);
}

int shards_find(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                const char *pattern, shard_list *out)
{
    glob_t g;
    int64_t i;
    int rc, found;
    memset(out, 0, sizeof *out);
    memset(&g, 0, sizeof g);
    /* a pattern that matches nothing stays itself (GLOB_NOCHECK): a plain
     * path then fails with the reader's own message */
    found = glob(pattern, GLOB_NOCHECK, NULL, &g);
    if (found != 0 || g.gl_pathc == 0) {
        globfree(&g);
        return cli_fail(cmd, "%s: '%s' names no file", option, pattern);
    }
    out->count = (int64_t)g.gl_pathc;
    out->paths = calloc((size_t)out->count, sizeof *out->paths);
    out->offsets = calloc((size_t)out->count + 1, sizeof *out->offsets);
    if (out->paths == NULL || out->offsets == NULL) {
        globfree(&g);
        shards_free(out);
        return cli_fail(cmd, "out of memory");
    }
    for (i = 0; i < out->count; i++)
        if ((out->paths[i] = strdup(g.gl_pathv[i])) == NULL) {
            globfree(&g);
            shards_free(out);
            return cli_fail(cmd, "out of memory");
        }
    globfree(&g);
    for (i = 0; i < out->count && ctx != NULL; i++) {
        int64_t rows, cols;
        if ((rc = subsel_csr_npz_shape(ctx, out->paths[i], &rows, &cols)) != SUBSEL_OK) {
            cli_fail_status(cmd, ctx, rc, option);
            shards_free(out);
            return CLI_FAILED;
        }
        if (i > 0 && cols != out->cols) {
            int status = cli_fail(cmd, "%s: %s has %lld columns, %s %lld: shards of one "
                                       "pool have the same columns",
                                  option, out->paths[i], (long long)cols, out->paths[0],
                                  (long long)out->cols);
            shards_free(out);
            return status;
        }
        out->cols = cols;
        out->offsets[i + 1] = out->offsets[i] + rows;
    }
    return 0;
}

/* Appends the rows of m to the growing arrays. */
static int append_rows(const subsel_csr *m, int64_t *indptr, int64_t at_row,
                       int32_t *indices, float *values)
{
    int64_t r, k;
    for (r = 0; r < subsel_csr_rows(m); r++) {
        const void *ix;
        const float *v;
        int64_t count, start = indptr[at_row + r];
        int type = subsel_csr_index_type(m);
        if (subsel_csr_row_v2(m, r, &ix, &v, &count) != SUBSEL_OK)
            return -1;
        for (k = 0; k < count; k++)
            indices[start + k] = type == SUBSEL_DTYPE_INT32 ? ((const int32_t *)ix)[k]
                                                            : (int32_t)((const int64_t *)ix)[k];
        memcpy(values + start, v, (size_t)count * sizeof *v);
        indptr[at_row + r + 1] = start + count;
    }
    return 0;
}

int shards_load(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                const shard_list *list, int64_t first, int64_t last,
                subsel_csr **out)
{
    subsel_csr **parts;
    int64_t i, rows = 0, nnz = 0, *indptr = NULL;
    int32_t *indices = NULL;
    float *values = NULL;
    int rc, status = CLI_FAILED;

    *out = NULL;
    if (last - first == 1)
        return cli_load_csr(cmd, ctx, option, list->paths[first], out);
    parts = calloc((size_t)(last - first) + 1, sizeof *parts);
    if (parts == NULL)
        return cli_fail(cmd, "out of memory");
    for (i = first; i < last; i++) {
        if ((rc = subsel_csr_load_npz(ctx, list->paths[i], &parts[i - first])) != SUBSEL_OK) {
            cli_fail_status(cmd, ctx, rc, option);
            goto done;
        }
        rows += subsel_csr_rows(parts[i - first]);
        nnz += subsel_csr_nnz(parts[i - first]);
    }
    indptr = malloc(sizeof *indptr * (size_t)(rows + 1));
    indices = calloc((size_t)(nnz > 0 ? nnz : 1), sizeof *indices);
    values = calloc((size_t)(nnz > 0 ? nnz : 1), sizeof *values);
    if (indptr == NULL || indices == NULL || values == NULL) {
        cli_fail(cmd, "out of memory");
        goto done;
    }
    indptr[0] = 0;
    rows = 0;
    for (i = first; i < last; i++) {
        if (append_rows(parts[i - first], indptr, rows, indices, values) != 0) {
            cli_fail(cmd, "%s: %s", option, subsel_ctx_last_error(NULL));
            goto done;
        }
        rows += subsel_csr_rows(parts[i - first]);
    }
    if ((rc = subsel_csr_create(ctx, rows, list->cols, indptr, indices, values, SUBSEL_OWN_COPY,
                                out)) != SUBSEL_OK) {
        cli_fail_status(cmd, ctx, rc, option);
        goto done;
    }
    cli_note_csr(option, *out);
    status = 0;
done:
    for (i = first; i < last; i++)
        subsel_csr_free(parts[i - first]);
    free(parts);
    free(indptr);
    free(indices);
    free(values);
    return status;
}
