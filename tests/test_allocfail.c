/* SPDX-License-Identifier: MIT */
/*
 * Allocation failures in the file readers and writers: every allocation,
 * zlib's included, goes through the context's hooks, so failing the n-th
 * one for n = 1, 2, ... reaches every failure path. Each run must give
 * SUBSEL_OK (when the failing allocation is never reached) or
 * SUBSEL_E_NOMEM with a message, free everything it allocated, and, for
 * writers, leave the destination as it was with no temporary file behind.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "tests/helpers.h"
#include "tests/suites.h"

/* One call under test; `arg` is what it reads or writes. */
typedef int (*io_op)(subsel_ctx *ctx, const void *arg);

typedef struct write_job {
    const subsel_csr *csr;
    const subsel_dense *dense;
    const char *path;
} write_job;

static int load_npz(subsel_ctx *ctx, const void *path)
{
    subsel_csr *m = NULL;
    int rc = subsel_csr_load_npz(ctx, path, &m);
    if (rc == SUBSEL_OK)
        ck_assert_int_eq(subsel_csr_nnz(m), 400);
    else
        ck_assert_ptr_null(m);
    subsel_csr_free(m);
    return rc;
}

static int load_npy(subsel_ctx *ctx, const void *path)
{
    subsel_dense *d = NULL;
    int rc = subsel_dense_load_npy(ctx, path, &d);
    if (rc == SUBSEL_OK)
        ck_assert_int_eq(subsel_dense_rows(d) * subsel_dense_cols(d), 200 * 50);
    else
        ck_assert_ptr_null(d);
    subsel_dense_free(d);
    return rc;
}

static int read_vector(subsel_ctx *ctx, const void *path)
{
    double v[64];
    int64_t n = 0;
    int rc = subsel_npy_read_f64(ctx, path, v, 64, &n);
    if (rc == SUBSEL_OK)
        ck_assert_int_eq(n, 50);
    return rc;
}

static int save_npz_deflate(subsel_ctx *ctx, const void *arg)
{
    const write_job *j = arg;
    return subsel_csr_save_npz(ctx, j->csr, j->path, 1);
}

static int save_npz_stored(subsel_ctx *ctx, const void *arg)
{
    const write_job *j = arg;
    return subsel_csr_save_npz(ctx, j->csr, j->path, 0);
}

static int save_npy(subsel_ctx *ctx, const void *arg)
{
    const write_job *j = arg;
    return subsel_dense_save_npy(ctx, j->dense, j->path);
}

static int write_vector(subsel_ctx *ctx, const void *arg)
{
    static const int64_t v[3] = {1, 2, 3};
    const write_job *j = arg;
    return subsel_npy_write_i64(ctx, j->path, v, 3);
}

static const char old_content[] = "the previous file";

static void put_old_file(const char *path)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(old_content, 1, sizeof old_content, f), sizeof old_content);
    fclose(f);
}

/* After a failed write: the old file is intact and no temporary is left. */
static void assert_untouched(const char *path)
{
    char buf[64], dir[512], *slash;
    struct dirent *e;
    DIR *d;
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(buf, 1, sizeof buf, f), sizeof old_content);
    fclose(f);
    ck_assert_mem_eq(buf, old_content, sizeof old_content);
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    *slash = '\0';
    d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        ck_assert_msg(strstr(e->d_name, ".tmp-") == NULL, "%s left behind", e->d_name);
    closedir(d);
}

/* Runs op with allocation n failing, for n = 1, 2, ... until a run never
 * reaches the failing allocation. `dest` is a written file, or NULL. */
static void sweep(io_op op, const void *arg, const char *dest, const char *what)
{
    int64_t n;
    int done = 0;
    for (n = 1; n < 100000 && !done; n++) {
        counting_allocator c = {0, 0, n};
        subsel_ctx *ctx;
        int rc;
        if (dest != NULL)
            put_old_file(dest);
        if (subsel_ctx_create_with_allocator(&ctx, counting_allocator_alloc,
                                             counting_allocator_free, &c) != SUBSEL_OK) {
            ck_assert_int_eq(c.live, 0);
            continue;
        }
        rc = op(ctx, arg);
        ck_assert_msg(rc == SUBSEL_OK || rc == SUBSEL_E_NOMEM,
                      "%s with allocation %lld failing: %d (%s)", what,
                      (long long)n, rc, subsel_ctx_last_error(ctx));
        if (rc == SUBSEL_E_NOMEM) {
            ck_assert_msg(strstr(subsel_ctx_last_error(ctx), "allocate") != NULL,
                          "%s: message '%s'", what, subsel_ctx_last_error(ctx));
            if (dest != NULL)
                assert_untouched(dest);
        } else {
            /* success means the failing call was never made: a failed
             * allocation is never silently ignored */
            ck_assert_int_lt(c.calls, n);
            done = 1;
        }
        subsel_ctx_free(ctx);
        ck_assert_msg(c.live == 0, "%s with allocation %lld failing leaks %lld blocks",
                      what, (long long)n, (long long)c.live);
    }
    ck_assert(done);
    ck_assert_int_gt(n, 3); /* it did allocate */
}

START_TEST(readers_survive_every_allocation_failure)
{
    char path[512];
    snprintf(path, sizeof path, "%s", fixture_path("fb/Z.npz"));
    sweep(load_npz, path, NULL, "load Z.npz (deflate)");
    snprintf(path, sizeof path, "%s", fixture_path("fb/Z_uncompressed.npz"));
    sweep(load_npz, path, NULL, "load Z_uncompressed.npz (stored)");
    snprintf(path, sizeof path, "%s", fixture_path("tarot/score.npy"));
    sweep(load_npy, path, NULL, "load score.npy");
    snprintf(path, sizeof path, "%s", fixture_path("fb/w.npy"));
    sweep(read_vector, path, NULL, "read w.npy");
}
END_TEST

START_TEST(writers_survive_every_allocation_failure)
{
    subsel_ctx *ctx;
    subsel_csr *m;
    subsel_dense *d;
    char dest[512];
    write_job job;

    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, fixture_path("fb/Z.npz"), &m));
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, fixture_path("uniprot/S.npy"), &d));
    snprintf(dest, sizeof dest, "%s", temp_path("out.bin"));
    job.csr = m;
    job.dense = d;
    job.path = dest;
    sweep(save_npz_deflate, &job, dest, "save_npz compressed");
    sweep(save_npz_stored, &job, dest, "save_npz stored");
    sweep(save_npy, &job, dest, "save_npy");
    sweep(write_vector, &job, dest, "write_i64");
    subsel_csr_free(m);
    subsel_dense_free(d);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *allocfail_suite(void)
{
    Suite *s = suite_create("allocfail");
    TCase *tc = tcase_create("io");
    tcase_add_test(tc, readers_survive_every_allocation_failure);
    tcase_add_test(tc, writers_survive_every_allocation_failure);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return s;
}
