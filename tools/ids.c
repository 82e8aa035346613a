/* SPDX-License-Identifier: MIT */
/*
 * Positions or the user's ids in the selecting commands' outputs (ids.h).
 */
#include <string.h>

#include "ids.h"

int ids_check(const cli_command *cmd, const cli_ids *x)
{
    if (x->path == NULL && (x->sorted || x->datacomp))
        return cli_usage(cmd, "--%s needs --ids (the ids of the pool's rows)",
                         x->sorted ? "ids-sorted" : "ids-datacomp");
    if (x->sorted && x->datacomp)
        return cli_usage(cmd, "give --ids-sorted or --ids-datacomp, not both "
                              "(DataComp's file is sorted)");
    return 0;
}

int ids_load(const cli_command *cmd, subsel_ctx *ctx, cli_ids *x,
             int64_t rows, const char *pool_option)
{
    int rc;
    if (x->path == NULL || x->values != NULL)
        return 0;
    rc = subsel_ids_load_npy(ctx, x->path, &x->values, &x->count, &x->itemsize, x->dtype);
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, "--ids");
    cli_note_input("--ids", x->count, -1, x->dtype);
    if (x->datacomp && strcmp(x->dtype, "|S32") != 0 && strcmp(x->dtype, "|S16") != 0)
        return cli_fail(cmd, "--ids-datacomp: DataComp uids are 32 hex digits ('|S32') or "
                             "16 bytes ('|S16'), not '%s'", x->dtype);
    if (rows >= 0 && x->count != rows)
        return cli_fail(cmd, "--ids: %lld ids for the %lld rows of %s (one id per row)",
                        (long long)x->count, (long long)rows, pool_option);
    return 0;
}

int ids_write(const cli_command *cmd, subsel_ctx *ctx, const cli_ids *x,
              const int64_t *positions, int64_t count, const char *out_option,
              const char *path)
{
    int rc;
    if (x->path == NULL)
        rc = subsel_npy_write_i64(ctx, cli_output_path(path), positions, count);
    else
        rc = subsel_ids_save_npy(ctx, cli_output_path(path), x->values, x->count, x->dtype,
                                 positions, count,
                                 x->datacomp ? SUBSEL_IDS_DATACOMP
                                 : x->sorted ? SUBSEL_IDS_SORTED
                                             : 0);
    return rc == SUBSEL_OK ? 0 : cli_fail_status(cmd, ctx, rc, out_option);
}

void ids_json(const cli_ids *x)
{
    json_string("output", x->path == NULL ? "positions"
                          : x->datacomp   ? "ids-datacomp"
                          : x->sorted     ? "ids-sorted"
                                          : "ids");
    if (x->path != NULL)
        json_string("ids_dtype", x->datacomp ? "[('f0', '<u8'), ('f1', '<u8')]" : x->dtype);
}

void ids_free(cli_ids *x)
{
    subsel_array_free(x->values);
    x->values = NULL;
}
