/* SPDX-License-Identifier: MIT */
/*
 * Shared test helpers.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

static char temp_dir[256];
static pid_t temp_owner;

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_temp_dir(void)
{
    /* Check forks a child per test; only the process that made the folder
     * removes it. */
    if (temp_dir[0] != '\0' && temp_owner == getpid())
        nftw(temp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *temp_path(const char *name)
{
    static char path[512];
    if (temp_dir[0] == '\0' || temp_owner != getpid()) {
        snprintf(temp_dir, sizeof temp_dir, "/tmp/subsel-test-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(temp_dir));
        temp_owner = getpid();
        atexit(remove_temp_dir);
    }
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    return path;
}

const char *fixture_path(const char *relative)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/fixtures/%s", SS_TEST_SOURCE_DIR, relative);
    return path;
}

const char *data_path(const char *relative)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/data/%s", SS_TEST_SOURCE_DIR, relative);
    return path;
}

double *read_f64(const char *path, int64_t *count)
{
    subsel_ctx *ctx;
    double *v;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_npy_read_f64(ctx, path, NULL, 0, count));
    v = malloc((size_t)(*count > 0 ? *count : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    ck_assert_ok(ctx, subsel_npy_read_f64(ctx, path, v, *count, count));
    subsel_ctx_free(ctx);
    return v;
}

int64_t *read_i64(const char *path, int64_t *count)
{
    subsel_ctx *ctx;
    int64_t *v;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_npy_read_i64(ctx, path, NULL, 0, count));
    v = malloc((size_t)(*count > 0 ? *count : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    ck_assert_ok(ctx, subsel_npy_read_i64(ctx, path, v, *count, count));
    subsel_ctx_free(ctx);
    return v;
}

/* Atomic counts: parallel runs allocate from several threads at once. */
void *counting_allocator_alloc(void *opaque, size_t size, size_t alignment)
{
    counting_allocator *c = opaque;
    void *p = NULL;
    if (__atomic_add_fetch(&c->calls, 1, __ATOMIC_SEQ_CST) == c->fail_at)
        return NULL;
    if (posix_memalign(&p, alignment, size) != 0)
        return NULL;
    __atomic_add_fetch(&c->live, 1, __ATOMIC_SEQ_CST);
    return p;
}

void counting_allocator_free(void *opaque, void *ptr)
{
    counting_allocator *c = opaque;
    __atomic_sub_fetch(&c->live, 1, __ATOMIC_SEQ_CST);
    free(ptr);
}
