/* SPDX-License-Identifier: MIT */
/*
 * What the selecting commands write: the selected positions (rows of the
 * pool, the default) or, with --ids ids.npy, the user's ids of those rows,
 * in the order selected, sorted and each once (--ids-sorted), or as
 * DataComp's subset file (--ids-datacomp). The ids are read and written by
 * the library (subsel_ids_load_npy / subsel_ids_save_npy).
 */
#ifndef SUBSEL_TOOLS_IDS_H
#define SUBSEL_TOOLS_IDS_H

#include "cli.h"

typedef struct cli_ids {
    const char *path; /* --ids, or NULL: positions */
    int sorted;       /* --ids-sorted */
    int datacomp;     /* --ids-datacomp */
    void *values;     /* read by ids_load */
    int64_t count;
    size_t itemsize;
    char dtype[SUBSEL_IDS_DTYPE_MAX];
} cli_ids;

/* The option table entries of a cli_ids. */
#define IDS_CLI_OPTIONS(x)                                                     \
    {"ids", 0, CLI_STRING, &(x).path,                                          \
     "write these ids of the selected rows instead of their positions (.npy "  \
     "of one integer or '|S<n>' id per pool row)", 0, "none: positions", 0,   \
     0},                                                                       \
    {"ids-sorted", 0, CLI_FLAG, &(x).sorted,                                   \
     "with --ids: sorted, each id once", 0, NULL, 0, 0},                       \
    {"ids-datacomp", 0, CLI_FLAG, &(x).datacomp,                               \
     "with --ids of DataComp uids ('|S32' hex or '|S16'): DataComp's subset "  \
     "file (uint64 pairs, sorted, each once)", 0, NULL, 0, 0}

/* Checks the combination of the options before anything is read: the
 * flags need --ids, and not both. Returns 0 or CLI_USAGE. */
int ids_check(const cli_command *cmd, const cli_ids *x);

/* Reads --ids (nothing without it) and checks that it holds one id per row
 * of the pool: `rows` rows of the input `pool_option` ("--source"); rows
 * < 0 when the pool's size is not known here (then only the positions
 * written are checked). Returns 0 or an exit code. */
int ids_load(const cli_command *cmd, subsel_ctx *ctx, cli_ids *x,
             int64_t rows, const char *pool_option);

/* Writes the positions (or their ids) to `path` (an output option's value,
 * "-" for standard output), reporting a failure as `out_option`. Returns 0
 * or an exit code. */
int ids_write(const cli_command *cmd, subsel_ctx *ctx, const cli_ids *x,
              const int64_t *positions, int64_t count, const char *out_option,
              const char *path);

/* The JSON fields of the output: "output" ("positions", "ids",
 * "ids-sorted" or "ids-datacomp") and "ids_dtype" (with --ids). */
void ids_json(const cli_ids *x);

void ids_free(cli_ids *x);

#endif
