/* SPDX-License-Identifier: MIT */
/*
 * Shared test helpers.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"
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

const char *temp_folder(const char *name)
{
    static char dir[512]; /* apart from temp_path's, which callers reuse */
    snprintf(dir, sizeof dir, "%s", temp_path(name));
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    return dir;
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

/* Beyond this many allocation points a sweep is taken to be stuck (a run
 * that allocates more every time). */
#define ALLOC_SWEEP_MAX 1000000

/* SUBSEL_TEST_SWEEP_STRIDE=s fails only allocations 1, 1 + s, 1 + 2s, ...
 * (default 1: every one). CI's valgrind stage, where a whole sweep costs
 * minutes, takes every third (odd, so that a run alternating on n % 2
 * still sees both); its ASan stage still takes every one. */
static int64_t sweep_stride(void)
{
    const char *env = getenv("SUBSEL_TEST_SWEEP_STRIDE");
    long s = env != NULL ? strtol(env, NULL, 10) : 1;
    return s >= 1 ? (int64_t)s : 1;
}

int64_t alloc_sweep(const char *what, alloc_sweep_fn run,
                    void (*after)(void *arg), void *arg)
{
    int64_t n, context_calls = 0, stride = sweep_stride();
    for (n = 1; n <= ALLOC_SWEEP_MAX; n += stride) {
        counting_allocator c = {0, 0, n};
        subsel_ctx *ctx = NULL;
        int rc = subsel_ctx_create_with_allocator(&ctx, counting_allocator_alloc,
                                                  counting_allocator_free, &c);
        if (rc == SUBSEL_OK) {
            context_calls = c.calls;
            rc = run(ctx, arg, n);
            ck_assert_msg(rc == SUBSEL_OK || rc == SUBSEL_E_NOMEM,
                          "%s with allocation %lld failing: %d (%s)", what,
                          (long long)n, rc, subsel_ctx_last_error(ctx));
            if (rc == SUBSEL_E_NOMEM)
                ck_assert_msg(strstr(subsel_ctx_last_error(ctx), "allocate") != NULL,
                              "%s with allocation %lld failing: message '%s'",
                              what, (long long)n, subsel_ctx_last_error(ctx));
            subsel_ctx_free(ctx);
        } else {
            ck_assert_msg(rc == SUBSEL_E_NOMEM && ctx == NULL,
                          "%s: the context with allocation %lld failing: %d",
                          what, (long long)n, rc);
        }
        if (after != NULL)
            after(arg);
        ck_assert_msg(c.live == 0, "%s with allocation %lld failing leaks %lld blocks",
                      what, (long long)n, (long long)c.live);
        if (rc == SUBSEL_OK) {
            /* the failing allocation was never asked for */
            ck_assert_msg(c.calls < n, "%s succeeded although allocation %lld "
                          "of %lld failed", what, (long long)n, (long long)c.calls);
            return c.calls - context_calls;
        }
    }
    ck_abort_msg("%s still fails with allocation %d failing", what, ALLOC_SWEEP_MAX);
    return 0;
}

static int progress_log_slot(progress_log *log, const char *stage)
{
    int i;
    for (i = 0; i < log->stages; i++)
        if (strcmp(log->name[i], stage) == 0)
            return i;
    if (log->stages == PROGRESS_LOG_STAGES)
        return -1;
    snprintf(log->name[log->stages], sizeof log->name[0], "%s", stage);
    log->reports[log->stages] = log->ended[log->stages] = 0;
    log->done[log->stages] = log->total[log->stages] = 0;
    return log->stages++;
}

static void progress_log_violation(progress_log *log, const char *stage,
                                   int64_t done, int64_t total,
                                   const char *what)
{
    if (log->error[0] == '\0')
        snprintf(log->error, sizeof log->error, "%s %lld/%lld: %s", stage,
                 (long long)done, (long long)total, what);
}

int progress_log_fn(void *user, const char *stage, int64_t done,
                    int64_t total)
{
    progress_log *log = user;
    int slot, i, top = log->open - 1, first = 0;
    if (log->ignore != NULL && strcmp(stage, log->ignore) == 0)
        return 0;
    log->calls++;
    slot = progress_log_slot(log, stage);
    if (slot >= 0) {
        log->reports[slot]++;
        log->done[slot] = done;
        log->total[slot] = total;
    }
    if (done < 0 || total < 0 || (total > 0 && done > total))
        progress_log_violation(log, stage, done, total, "outside [0, total]");
    if (top >= 0 && strcmp(log->stack[top], stage) == 0) {
        if (total != log->stack_total[top] && log->stack_total[top] != 0)
            progress_log_violation(log, stage, done, total, "total changed");
        if (total != log->stack_total[top] && done != total)
            progress_log_violation(log, stage, done, total,
                                   "an unknown total became known before the end");
        if (done < log->last[top])
            progress_log_violation(log, stage, done, total, "went back");
        log->last[top] = done;
    } else {
        for (i = 0; i < top; i++)
            if (strcmp(log->stack[i], stage) == 0)
                progress_log_violation(log, stage, done, total,
                                       "reported while an inner stage is open");
        if (done != 0)
            progress_log_violation(log, stage, done, total, "did not start at 0");
        if (log->open == 8) {
            progress_log_violation(log, stage, done, total, "nested too deep");
        } else {
            top = log->open++;
            snprintf(log->stack[top], sizeof log->stack[0], "%s", stage);
            log->last[top] = done;
            log->stack_total[top] = total;
            first = 1;
        }
    }
    /* A stage of unknown total cannot end at its first report. */
    if (top >= 0 && strcmp(log->stack[top], stage) == 0 && done == total &&
        !(first && total == 0)) {
        log->open--; /* the stage ended */
        if (slot >= 0)
            log->ended[slot]++;
    }
    if (log->cancel_at > 0 &&
        (log->cancel_stage == NULL
             ? log->calls == log->cancel_at
             : slot >= 0 && strcmp(stage, log->cancel_stage) == 0 &&
                   log->reports[slot] == log->cancel_at))
        return 1;
    return 0;
}

void progress_log_reset(progress_log *log)
{
    const char *ignore = log->ignore, *cancel_stage = log->cancel_stage;
    int64_t cancel_at = log->cancel_at;
    memset(log, 0, sizeof *log);
    log->ignore = ignore;
    log->cancel_stage = cancel_stage;
    log->cancel_at = cancel_at;
}

int64_t progress_log_reports(const progress_log *log, const char *stage)
{
    int i;
    for (i = 0; i < log->stages; i++)
        if (strcmp(log->name[i], stage) == 0)
            return log->reports[i];
    return 0;
}

void progress_log_assert_clean(const progress_log *log, const char *what)
{
    ck_assert_msg(log->error[0] == '\0', "%s: progress %s", what, log->error);
    ck_assert_msg(log->open == 0, "%s: stage '%s' never ended (last %lld/%lld)",
                  what, log->open > 0 ? log->stack[log->open - 1] : "",
                  (long long)(log->open > 0 ? log->last[log->open - 1] : 0),
                  (long long)(log->open > 0 ? log->total[log->open - 1] : 0));
}

void assert_csr_equal(const subsel_csr *a, const subsel_csr *b)
{
    int64_t r;
    ck_assert_int_eq(subsel_csr_rows(a), subsel_csr_rows(b));
    ck_assert_int_eq(subsel_csr_cols(a), subsel_csr_cols(b));
    ck_assert_int_eq(subsel_csr_nnz(a), subsel_csr_nnz(b));
    for (r = 0; r < subsel_csr_rows(a); r++) {
        const int32_t *ia, *ib;
        const float *va, *vb;
        int64_t na, nb;
        ck_assert_int_eq(subsel_csr_row(a, r, &ia, &va, &na), SUBSEL_OK);
        ck_assert_int_eq(subsel_csr_row(b, r, &ib, &vb, &nb), SUBSEL_OK);
        ck_assert_int_eq(na, nb);
        if (na > 0) {
            ck_assert_mem_eq(ia, ib, (size_t)na * sizeof *ia);
            ck_assert_mem_eq(va, vb, (size_t)na * sizeof *va);
        }
    }
}

/* A random nonnegative CSR with a few popular columns (Zipf-like). */
subsel_csr *random_pool(subsel_ctx *ctx, uint64_t seed, int64_t n,
                               int64_t d, int64_t per_row)
{
    ss_rng rng;
    int64_t *ip = malloc(sizeof *ip * (size_t)(n + 1));
    int32_t *ix = malloc(sizeof *ix * (size_t)(n * per_row));
    float *v = malloc(sizeof *v * (size_t)(n * per_row));
    unsigned char *used = calloc((size_t)d, 1);
    int64_t r, k = 0, j;
    subsel_csr *m;
    ss_rng_seed(&rng, seed, 77);
    ip[0] = 0;
    for (r = 0; r < n; r++) {
        int64_t start = k, a, b;
        memset(used, 0, (size_t)d);
        for (j = 0; j < per_row; j++) {
            /* u^3 concentrates on low columns */
            double u = ss_rng_uniform(&rng);
            int64_t c = (int64_t)(u * u * u * (double)d);
            if (used[c])
                continue;
            used[c] = 1;
            ix[k] = (int32_t)c;
            v[k++] = (float)(0.1 + ss_rng_uniform(&rng));
        }
        /* insertion sort of the row's columns (values move along) */
        for (a = start + 1; a < k; a++)
            for (b = a; b > start && ix[b - 1] > ix[b]; b--) {
                int32_t ti = ix[b];
                float tv = v[b];
                ix[b] = ix[b - 1];
                v[b] = v[b - 1];
                ix[b - 1] = ti;
                v[b - 1] = tv;
            }
        ip[r + 1] = k;
    }
    ck_assert_ok(ctx, subsel_csr_create(ctx, n, d, ip, ix, v, SUBSEL_COPY, &m));
    free(ip);
    free(ix);
    free(v);
    free(used);
    return m;
}
