/* SPDX-License-Identifier: MIT */
/*
 * Pools as many shard files (scipy save_npz CSR, like DataComp's shards):
 * a --source pattern names them (a glob, sorted by name, or one file), the
 * pool is their rows in that order, and a part reads only its own shards,
 * learning the global ids of its rows from the shapes of the others.
 */
#ifndef SUBSEL_SHARDS_H
#define SUBSEL_SHARDS_H

#include "cli.h"

typedef struct shard_list {
    char **paths;
    int64_t count;
    int64_t *offsets; /* count + 1: shard i is the pool's rows
                         [offsets[i], offsets[i + 1]) */
    int64_t cols;
} shard_list;

/* The shards a --source value names: the files a glob pattern matches,
 * sorted, or the one path given; with their shapes (read without their
 * arrays) unless ctx is NULL (files that are no shards: only their names).
 * Returns 0 or an exit code (after a message naming `option`). */
int shards_find(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                const char *pattern, shard_list *out);
void shards_free(shard_list *list);

/* Shards [first, last) as one matrix (rows in order). Returns 0 or an exit
 * code. */
int shards_load(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                const shard_list *list, int64_t first, int64_t last,
                subsel_csr **out);

#endif
