/* SPDX-License-Identifier: MIT */
/*
 * Core: status strings, version and build information, context options and
 * bounds, allocator hooks and the memory limit, the thread count (CPUs
 * available, cgroup quotas, forked children), progress callback and error
 * messages, RNG.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <blis.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/blis_arch.h"
#include "core/cpus.h"
#include "core/ctx.h"
#include "core/error.h"
#include "core/rng.h"
#include "dispatch/dispatch.h"
#include "subsel_config.h"
#include "tests/helpers.h"
#include "tests/suites.h"

START_TEST(status_strings_are_distinct_and_total)
{
    int a, b;
    for (a = SUBSEL_E_STATE; a <= SUBSEL_OK; a++) {
        ck_assert_ptr_nonnull(subsel_status_string(a));
        ck_assert_str_ne(subsel_status_string(a), "unknown status");
        for (b = a + 1; b <= SUBSEL_OK; b++)
            ck_assert_str_ne(subsel_status_string(a), subsel_status_string(b));
    }
    ck_assert_str_eq(subsel_status_string(-99), "unknown status");
    ck_assert_str_eq(subsel_status_string(5), "unknown status");
}
END_TEST

START_TEST(status_numbers_are_fixed)
{
    /* These numbers are ABI: they must never change. */
    ck_assert_int_eq(SUBSEL_OK, 0);
    ck_assert_int_eq(SUBSEL_E_INVALID, -1);
    ck_assert_int_eq(SUBSEL_E_NOMEM, -2);
    ck_assert_int_eq(SUBSEL_E_IO, -3);
    ck_assert_int_eq(SUBSEL_E_FORMAT, -4);
    ck_assert_int_eq(SUBSEL_E_NUMERIC, -5);
    ck_assert_int_eq(SUBSEL_E_UNSUPPORTED, -6);
    ck_assert_int_eq(SUBSEL_E_CANCELLED, -7);
    ck_assert_int_eq(SUBSEL_E_STATE, -8);
}
END_TEST

START_TEST(version_matches_header)
{
    ck_assert_int_eq(subsel_version_number(), SUBSEL_VERSION_NUMBER);
    ck_assert_str_eq(subsel_version_string(), SUBSEL_VERSION_STRING);
    ck_assert_ptr_nonnull(strstr(subsel_build_info(), SUBSEL_VERSION_STRING));
    ck_assert_ptr_nonnull(strstr(subsel_build_info(), "scalar"));
    ck_assert_ptr_nonnull(strstr(subsel_build_info(), "openmp=yes"));
}
END_TEST

START_TEST(build_info_names_the_blis_configuration)
{
    /* The sub-configuration whose kernels run the products decides how
     * they round: bug reports need it (and BLIS_ARCH_TYPE changes it). */
    char want[64];
    const char *info = subsel_build_info();
    snprintf(want, sizeof want, " blis_arch=%s ", ss_blis_arch_name());
    ck_assert_msg(strstr(info, want) != NULL, "'%s' lacks '%s'", info, want);
    /* BLIS initialised by now: asking for its id no longer aborts */
    snprintf(want, sizeof want, " blis_detected=%s ", bli_arch_string(bli_arch_query_id()));
    ck_assert_msg(strstr(info, want) != NULL, "'%s' lacks '%s'", info, want);
    ck_assert_ptr_nonnull(strstr(subsel_build_info(), " blis_threads="));
}
END_TEST

START_TEST(blis_kernels_fit_this_cpu)
{
    /* BLIS's own choice stands unless it is generic on a CPU with AVX2 or
     * AVX-512 and BLIS_ARCH_TYPE is unset; then the kernels follow the CPU
     * test of subsel's own dispatch (lib/core/blis_arch.c). */
    /* ss_blis_arch_id() first: it initialises BLIS, before which BLIS 0.9
     * aborts in bli_arch_query_id() when BLIS_ARCH_TYPE is set */
    int chosen = ss_blis_arch_id(), detected = (int)bli_arch_query_id();
    const char *forced = getenv("BLIS_ARCH_TYPE");
    int best = ss_cpu_best_isa();
    if (detected != BLIS_ARCH_GENERIC || (forced && *forced) || best == SUBSEL_ISA_SCALAR) {
        ck_assert_int_eq(chosen, detected);
        ck_assert_ptr_null(ss_blis_cntx());
    } else if (SUBSEL_BLIS_STATIC) {
        ck_assert_ptr_nonnull(ss_blis_cntx());
        ck_assert_int_eq(chosen, best == SUBSEL_ISA_AVX512 ? BLIS_ARCH_SKX : BLIS_ARCH_HASWELL);
    } else {
        /* linked against a shared BLIS, which hides its context table */
        ck_assert_int_eq(chosen, detected);
    }
}
END_TEST

START_TEST(ctx_defaults_follow_bounds)
{
    static const int params[] = {SUBSEL_P_THREADS, SUBSEL_P_SEED, SUBSEL_P_MAX_ISA,
                                 SUBSEL_P_MEMORY_LIMIT};
    subsel_ctx *ctx;
    int64_t def0 = 0;
    size_t i;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    for (i = 0; i < sizeof params / sizeof params[0]; i++) {
        int64_t lo, hi, def, v;
        ck_assert_int_eq(subsel_ctx_param_bounds(params[i], &lo, &hi, &def), SUBSEL_OK);
        ck_assert(lo <= def && def <= hi);
        ck_assert_int_eq(subsel_ctx_get_int(ctx, params[i], &v), SUBSEL_OK);
        ck_assert_int_eq(v, def);
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, params[i], hi));
        ck_assert_int_eq(subsel_ctx_get_int(ctx, params[i], &v), SUBSEL_OK);
        ck_assert_int_eq(v, hi);
        if (lo > INT64_MIN)
            ck_assert_status(ctx, subsel_ctx_set_int(ctx, params[i], lo - 1), SUBSEL_E_INVALID);
        if (hi < INT64_MAX)
            ck_assert_status(ctx, subsel_ctx_set_int(ctx, params[i], hi + 1), SUBSEL_E_INVALID);
        /* a refused value leaves the option as it was */
        ck_assert_int_eq(subsel_ctx_get_int(ctx, params[i], &v), SUBSEL_OK);
        ck_assert_int_eq(v, hi);
    }
    ck_assert_int_eq(subsel_ctx_param_bounds(999, NULL, NULL, NULL), SUBSEL_E_INVALID);
    ck_assert_str_eq(subsel_ctx_last_error(NULL),
                     "subsel_ctx_param_bounds: 999 is not a parameter of kind 'context'");
    ck_assert_status(ctx, subsel_ctx_set_int(ctx, 999, 1), SUBSEL_E_INVALID);
    ck_assert_str_eq(subsel_ctx_last_error(ctx),
                     "subsel_ctx_set_int: 999 is not a parameter of kind 'context'");
    /* another handle's parameter is named, with both kinds */
    ck_assert_status(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_BUDGET, 1), SUBSEL_E_INVALID);
    ck_assert_str_eq(subsel_ctx_last_error(ctx),
                     "subsel_ctx_set_int: parameter 101 (budget) belongs to kind "
                     "'optimizer', not 'context'");
    ck_assert_status(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_SEED, -1), SUBSEL_E_INVALID);
    ck_assert_str_eq(subsel_ctx_last_error(ctx),
                     "subsel_ctx_set_int: seed = -1 is outside [0, 9223372036854775807]");
    ck_assert_int_eq(subsel_ctx_get_int(ctx, SUBSEL_P_EPSILON, &def0), SUBSEL_E_INVALID);
    ck_assert_str_eq(subsel_ctx_last_error(ctx),
                     "subsel_ctx_get_int: parameter 105 (epsilon) belongs to kind "
                     "'optimizer', not 'context'");
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(ctx_null_arguments)
{
    int64_t v;
    /* without a context, each failure leaves its own message for the thread */
    ck_assert_int_eq(subsel_ctx_create(NULL), SUBSEL_E_INVALID);
    ck_assert_str_eq(subsel_ctx_last_error(NULL), "subsel_ctx_create: out is NULL");
    ck_assert_int_eq(subsel_ctx_set_int(NULL, SUBSEL_P_SEED, 1), SUBSEL_E_INVALID);
    ck_assert_str_eq(subsel_ctx_last_error(NULL), "subsel_ctx_set_int: ctx is NULL");
    ck_assert_int_eq(subsel_ctx_get_int(NULL, SUBSEL_P_SEED, &v), SUBSEL_E_INVALID);
    ck_assert_str_eq(subsel_ctx_last_error(NULL), "subsel_ctx_get_int: ctx is NULL");
    ck_assert_int_eq(subsel_ctx_set_progress(NULL, NULL, NULL), SUBSEL_E_INVALID);
    ck_assert_str_eq(subsel_ctx_last_error(NULL), "subsel_ctx_set_progress: ctx is NULL");
    ck_assert_int_eq(subsel_ctx_threads(NULL), 1);
    subsel_ctx_free(NULL);
}
END_TEST

START_TEST(ctx_threads_and_isa)
{
    subsel_ctx *ctx;
    int cpus = ss_cpus_available();
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_int_ge(subsel_ctx_threads(ctx), 1);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 3));
    ck_assert_int_eq(subsel_ctx_threads(ctx), cpus < 3 ? cpus : 3);
    ck_assert_int_eq(ss_threads_for(ctx, 2), cpus < 2 ? cpus : 2);
    ck_assert_int_eq(ss_threads_for(ctx, 0), 1);
    ck_assert_int_eq(subsel_ctx_isa(ctx), subsel_isa_selected());
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MAX_ISA, SUBSEL_ISA_SCALAR));
    ck_assert_int_eq(subsel_ctx_isa(ctx), SUBSEL_ISA_SCALAR);
    subsel_ctx_free(ctx);
}
END_TEST

/* Oversubscribed cores make BLIS's and OpenMP's barriers spin against each
 * other: no call may use more threads than the caller has CPUs. */
START_TEST(threads_are_capped_at_the_available_cpus)
{
    subsel_ctx *ctx;
    int cpus = ss_cpus_available();
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    ck_assert_int_ge(cpus, 1);
    ck_assert_int_le(cpus, online > 0 ? online : 1);
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 4096));
    ck_assert_int_eq(subsel_ctx_threads(ctx), cpus);
    ck_assert_int_eq(ss_threads_for(ctx, 1 << 30), cpus);
    subsel_ctx_free(ctx);
}
END_TEST

/* Waits up to `seconds` for child `pid`; kills it if it is still running
 * then (a hang is the failure these tests look for, not slowness). Returns
 * its exit status, or -1 if it had to be killed or died of a signal. */
static int wait_child(pid_t pid, int seconds)
{
    int status, waited;
    for (waited = 0; waited < seconds * 10; waited++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        poll(NULL, 0, 100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

START_TEST(forked_child_pinned_to_one_cpu_sees_the_cap)
{
    /* The parent may have counted its CPUs already: the child must count
     * again, since pinning a worker right after fork is common. */
    subsel_ctx *ctx;
    pid_t pid;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 8));
    ck_assert_int_ge(subsel_ctx_threads(ctx), 1);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        cpu_set_t one;
        int first = sched_getcpu();
        CPU_ZERO(&one);
        CPU_SET(first < 0 ? 0 : first, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0)
            _exit(3);
        if (subsel_ctx_threads(ctx) != 1)
            _exit(4);
        subsel_ctx_free(ctx); /* for valgrind, which checks the child too */
        _exit(ss_cpus_available() == 1 ? 0 : 5);
    }
    ck_assert_int_eq(wait_child(pid, 60), 0);
    subsel_ctx_free(ctx);
}
END_TEST

/* Writes `text` to root/relative, making the folders on the way. */
static void put_file(const char *root, const char *relative, const char *text)
{
    char path[1024];
    char *slash;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", root, relative);
    for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
        *slash = '/';
    }
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(cgroup_v2_quota_is_the_tightest_on_the_path)
{
    const char *root = temp_folder("cg2");
    put_file(root, "proc/self/cgroup", "0::/jobs/worker\n");
    put_file(root, "proc/self/mountinfo",
             "22 1 0:20 / /sys rw - sysfs sysfs rw\n"
             "30 22 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
    put_file(root, "sys/fs/cgroup/jobs/worker/cpu.max", "max 100000\n");
    ck_assert_int_eq(ss_cgroup_cpu_limit(root), 0);
    /* the parent's quota bounds the child; 2.5 CPUs round up */
    put_file(root, "sys/fs/cgroup/jobs/cpu.max", "250000 100000\n");
    ck_assert_int_eq(ss_cgroup_cpu_limit(root), 3);
    put_file(root, "sys/fs/cgroup/jobs/worker/cpu.max", "50000 100000\n");
    ck_assert_int_eq(ss_cgroup_cpu_limit(root), 1);
}
END_TEST

START_TEST(cgroup_v1_quota_and_container_mounts)
{
    const char *root = temp_folder("cg1");
    /* v1 with cpu and cpuacct joined, mounted where a mount point has a
     * space (escaped as \040 in mountinfo) */
    put_file(root, "proc/self/cgroup",
             "5:cpuset:/\n4:cpu,cpuacct:/batch\n0::/\n");
    put_file(root, "proc/self/mountinfo",
             "30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
             "33 30 0:30 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
             "31 30 0:28 / /sys/fs/cgroup/cpu\\040acct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n");
    put_file(root, "sys/fs/cgroup/cpu acct/batch/cpu.cfs_quota_us", "-1\n");
    put_file(root, "sys/fs/cgroup/cpu acct/batch/cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(ss_cgroup_cpu_limit(root), 0);
    put_file(root, "sys/fs/cgroup/cpu acct/batch/cpu.cfs_quota_us", "300000\n");
    ck_assert_int_eq(ss_cgroup_cpu_limit(root), 3);
    /* a cpuset-only hierarchy is no quota */
    put_file(root, "sys/fs/cgroup/cpuset/cpu.cfs_quota_us", "100000\n");
    put_file(root, "sys/fs/cgroup/cpuset/cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(ss_cgroup_cpu_limit(root), 3);

    /* A container: the mount shows the process's own cgroup as its root. */
    root = temp_folder("cgc");
    put_file(root, "proc/self/cgroup", "0::/docker/abc\n");
    put_file(root, "proc/self/mountinfo",
             "40 30 0:37 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n");
    put_file(root, "sys/fs/cgroup/cpu.max", "200000 100000\n");
    ck_assert_int_eq(ss_cgroup_cpu_limit(root), 2);

    /* nothing readable: no limit */
    root = temp_folder("cg0");
    ck_assert_int_eq(ss_cgroup_cpu_limit(root), 0);
}
END_TEST

/* Rows x 64 columns with 8 nonzeros per row: big enough that FB's gains
 * run in an OpenMP team of the context's threads. */
static subsel_csr *features(subsel_ctx *ctx, int64_t rows)
{
    int64_t *indptr = malloc((size_t)(rows + 1) * sizeof *indptr), r;
    int32_t *indices = malloc((size_t)rows * 8 * sizeof *indices);
    float *values = malloc((size_t)rows * 8 * sizeof *values);
    subsel_csr *z;
    ss_rng rng;
    ss_rng_seed(&rng, 7, 0);
    indptr[0] = 0;
    for (r = 0; r < rows; r++) {
        int k;
        for (k = 0; k < 8; k++) {
            indices[r * 8 + k] = k * 8 + (int32_t)ss_rng_below(&rng, 8);
            values[r * 8 + k] = (float)ss_rng_uniform(&rng);
        }
        indptr[r + 1] = (r + 1) * 8;
    }
    ck_assert_ok(ctx, subsel_csr_create(ctx, rows, 64, indptr, indices, values, SUBSEL_OWN_COPY, &z));
    free(indptr);
    free(indices);
    free(values);
    return z;
}

static int select_fb(subsel_ctx *ctx, const subsel_csr *z, int64_t budget, int64_t *out)
{
    subsel_objective *f = NULL;
    subsel_optimizer *opt = NULL;
    subsel_selection *sel = NULL;
    int rc = subsel_fb_create(ctx, z, SUBSEL_CONCAVE_LOG1P, 0, NULL, &f);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_create(ctx, SUBSEL_ALGORITHM_NAIVE, &opt);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_set_int(opt, SUBSEL_P_BUDGET, budget);
    if (rc == SUBSEL_OK)
        rc = subsel_optimizer_run(ctx, opt, f, &sel);
    if (rc == SUBSEL_OK && subsel_selection_count(sel) != budget)
        rc = SUBSEL_E_STATE;
    if (rc == SUBSEL_OK)
        memcpy(out, subsel_selection_indices(sel), (size_t)budget * sizeof *out);
    subsel_selection_free(sel);
    subsel_optimizer_free(opt);
    subsel_objective_free(f);
    return rc;
}

START_TEST(forked_child_finishes_a_selection_after_a_parallel_one)
{
    /* A selection on two threads leaves OpenMP's worker behind; a forked
     * child inherits libgomp's idea of that pool but not its threads, and
     * waited for ever in its first parallel region. It must finish, with
     * the parent's result. */
    enum { BUDGET = 6 };
    subsel_ctx *ctx;
    subsel_csr *z;
    int64_t parent[BUDGET], child[BUDGET];
    int fds[2];
    pid_t pid;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 2));
    z = features(ctx, 20000);
    ck_assert_ok(ctx, select_fb(ctx, z, BUDGET, parent));
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int ok;
        close(fds[0]);
        ok = select_fb(ctx, z, BUDGET, child) == SUBSEL_OK &&
             write(fds[1], child, sizeof child) == (ssize_t)sizeof child;
        subsel_csr_free(z); /* for valgrind, which checks the child too */
        subsel_ctx_free(ctx);
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    ck_assert_msg(wait_child(pid, 120) == 0, "the forked child hung or failed");
    ck_assert_int_eq(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
    close(fds[0]);
    ck_assert_mem_eq(child, parent, sizeof parent);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

/* A counting allocator that can be told to fail. */
typedef struct {
    int64_t live, calls, fail_at;
    size_t last_alignment;
} counting;

static void *counting_alloc(void *opaque, size_t size, size_t alignment)
{
    counting *c = opaque;
    void *p = NULL;
    if (++c->calls == c->fail_at)
        return NULL;
    c->last_alignment = alignment;
    if (posix_memalign(&p, alignment, size) != 0)
        return NULL;
    c->live++;
    return p;
}

static void counting_free(void *opaque, void *ptr)
{
    counting *c = opaque;
    c->live--;
    free(ptr);
}

START_TEST(allocator_hooks_see_every_allocation)
{
    counting c = {0, 0, 0, 0};
    subsel_ctx *ctx;
    void *p;
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_alloc, counting_free, &c), SUBSEL_OK);
    ck_assert_int_eq(c.live, 1);
    ck_assert_ok(ctx, ss_alloc_array(ctx, 100, sizeof(double), &p));
    ck_assert_int_eq(c.live, 2);
    ck_assert_uint_eq((uintptr_t)p % SS_ALIGNMENT, 0);
    ck_assert_uint_ge(c.last_alignment, SS_ALIGNMENT);
    ss_free(ctx, p);
    ck_assert_int_eq(c.live, 1);
    subsel_ctx_free(ctx);
    ck_assert_int_eq(c.live, 0);
}
END_TEST

START_TEST(allocator_failure_is_nomem)
{
    counting c = {0, 0, 1, 0};
    subsel_ctx *ctx = (subsel_ctx *)&c; /* must be reset to NULL */
    void *p;
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_alloc, counting_free, &c), SUBSEL_E_NOMEM);
    ck_assert_ptr_null(ctx);
    c.calls = 0;
    c.fail_at = 2;
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_alloc, counting_free, &c), SUBSEL_OK);
    ck_assert_status(ctx, ss_alloc_array(ctx, 8, 8, &p), SUBSEL_E_NOMEM);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "cannot allocate"));
    subsel_ctx_free(ctx);
    ck_assert_int_eq(c.live, 0);
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, NULL, counting_free, &c), SUBSEL_E_INVALID);
}
END_TEST

START_TEST(overflowing_sizes_are_refused)
{
    subsel_ctx *ctx;
    void *p;
    size_t s;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_status(ctx, ss_alloc_array(ctx, INT64_MAX, 16, &p), SUBSEL_E_INVALID);
    ck_assert_status(ctx, ss_alloc_array(ctx, -1, 1, &p), SUBSEL_E_INVALID);
    ck_assert_int_eq(ss_mul_size(INT64_MAX / 2, 16, &s), 0);
    ck_assert_int_eq(ss_mul_size(3, 4, &s), 1);
    ck_assert_uint_eq(s, 12);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(memory_limit_admits_exactly_the_limit)
{
    subsel_ctx *ctx;
    void *p[4];
    size_t block;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_uint_eq(ss_meter_bytes(&ctx->meter), 0);
    ck_assert_ok(ctx, ss_alloc_array(ctx, 1000, 1, &p[0]));
    block = ss_meter_bytes(&ctx->meter); /* what one such block holds */
    ck_assert_uint_ge(block, 1000);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MEMORY_LIMIT, (int64_t)(3 * block)));
    ck_assert_ok(ctx, ss_alloc_array(ctx, 1000, 1, &p[1]));
    ck_assert_ok(ctx, ss_alloc_array(ctx, 1000, 1, &p[2])); /* exactly at the limit */
    ck_assert_uint_eq(ss_meter_bytes(&ctx->meter), 3 * block);
    ck_assert_status(ctx, ss_alloc_array(ctx, 1, 1, &p[3]), SUBSEL_E_NOMEM);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "SUBSEL_P_MEMORY_LIMIT"));
    ss_free(ctx, p[2]);
    ck_assert_ok(ctx, ss_alloc_array(ctx, 1000, 1, &p[2]));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MEMORY_LIMIT, 0)); /* no limit */
    ck_assert_ok(ctx, ss_alloc_array(ctx, 1000, 1, &p[3]));
    ss_free(ctx, p[0]);
    ss_free(ctx, p[1]);
    ss_free(ctx, p[2]);
    ss_free(ctx, p[3]);
    ck_assert_uint_eq(ss_meter_bytes(&ctx->meter), 0);
    subsel_ctx_free(ctx);
}
END_TEST

/* A .npz holding a rows x 1 CSR matrix with no entries: a few kilobytes on
 * disk for rows + 1 row pointers in memory. */
static const char *empty_rows_npz(int64_t rows)
{
    const char *path = temp_path("empty_rows.npz");
    int64_t *indptr = calloc((size_t)rows + 1, sizeof *indptr);
    int32_t index = 0;
    float value = 0;
    subsel_ctx *ctx;
    subsel_csr *z;
    ck_assert_ptr_nonnull(indptr);
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_csr_create(ctx, rows, 1, indptr, &index, &value, SUBSEL_BORROW, &z));
    ck_assert_ok(ctx, subsel_csr_save_npz(ctx, z, path, 1));
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
    free(indptr);
    return path;
}

START_TEST(memory_limit_stops_a_large_load_with_a_message)
{
    /* 2M empty rows: 16 MB of row pointers from a file of a few kB */
    const char *path = empty_rows_npz(2000000);
    subsel_ctx *ctx;
    subsel_csr *z = (subsel_csr *)&z;
    char want[64];
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MEMORY_LIMIT, 4000000));
    ck_assert_status(ctx, subsel_csr_load_npz(ctx, path, &z), SUBSEL_E_NOMEM);
    ck_assert_ptr_null(z);
    snprintf(want, sizeof want, "SUBSEL_P_MEMORY_LIMIT = %d bytes", 4000000);
    ck_assert_msg(strstr(subsel_ctx_last_error(ctx), want) != NULL, "message: %s",
                  subsel_ctx_last_error(ctx));
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "cannot allocate"));
    ck_assert_uint_eq(ss_meter_bytes(&ctx->meter), 0); /* nothing kept */
    /* the same load under a limit it fits in */
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MEMORY_LIMIT, 64000000));
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, path, &z));
    ck_assert_int_eq(subsel_csr_rows(z), 2000000);
    subsel_csr_free(z);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(memory_limit_holds_for_handles_that_outlive_the_context)
{
    counting_allocator c = {0, 0, 0};
    subsel_ctx *ctx;
    subsel_dense *d;
    ss_allocator copy; /* as a handle keeps it */
    float data[256] = {0};
    void *p, *q;
    size_t held;
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_allocator_alloc,
                                                      counting_allocator_free, &c), SUBSEL_OK);
    ck_assert_ok(ctx, subsel_dense_create(ctx, 16, 16, data, SUBSEL_OWN_COPY, &d));
    held = ss_meter_bytes(&ctx->meter);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MEMORY_LIMIT, (int64_t)held + 2048));
    copy = ctx->alloc;
    subsel_ctx_free(ctx);
    /* the meter lives on with the matrix, and still bounds its allocator */
    ck_assert_ptr_null(ss_alloc_raw(&copy, 4096));
    p = ss_alloc_raw(&copy, 1024);
    ck_assert_ptr_nonnull(p);
    subsel_dense_free(d);
    q = ss_alloc_raw(&copy, 2048); /* the matrix's bytes are back */
    ck_assert_ptr_nonnull(q);
    ss_free_raw(&copy, p);
    ck_assert_int_gt(c.live, 0); /* the context's block still holds the meter */
    ss_free_raw(&copy, q);
    ck_assert_int_eq(c.live, 0);
}
END_TEST

typedef struct {
    ss_allocator *a;
    pthread_barrier_t *start;
    size_t limit;
    int64_t refused, over;
} meter_worker;

static void *churn(void *arg)
{
    meter_worker *w = arg;
    void *held[8] = {NULL};
    ss_rng rng;
    int i;
    ss_rng_seed(&rng, (uint64_t)(uintptr_t)w, 0);
    pthread_barrier_wait(w->start); /* all at once, to contend */
    for (i = 0; i < 20000; i++) {
        int slot = (int)ss_rng_below(&rng, 8);
        if (held[slot] != NULL) {
            ss_free_raw(w->a, held[slot]);
            held[slot] = NULL;
        } else {
            held[slot] = ss_alloc_raw(w->a, 1 + ss_rng_below(&rng, 4000));
            w->refused += held[slot] == NULL;
        }
        w->over += ss_meter_bytes(w->a->meter) > w->limit;
    }
    for (i = 0; i < 8; i++)
        ss_free_raw(w->a, held[i]);
    return NULL;
}

START_TEST(memory_meter_is_exact_under_many_threads)
{
    enum { THREADS = 8 };
    counting_allocator c = {0, 0, 0};
    subsel_ctx *ctx;
    pthread_t t[THREADS];
    pthread_barrier_t start;
    meter_worker w[THREADS];
    int64_t refused = 0;
    int i;
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_allocator_alloc,
                                                      counting_allocator_free, &c), SUBSEL_OK);
    /* Each thread holds up to 8 blocks of up to about 4 kB: a fraction of
     * that fits. */
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MEMORY_LIMIT, 20000));
    pthread_barrier_init(&start, NULL, THREADS);
    for (i = 0; i < THREADS; i++) {
        w[i].a = &ctx->alloc;
        w[i].start = &start;
        w[i].limit = 20000;
        w[i].refused = w[i].over = 0;
        ck_assert_int_eq(pthread_create(&t[i], NULL, churn, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].over, 0);
        refused += w[i].refused;
    }
    pthread_barrier_destroy(&start);
    ck_assert_int_gt(refused, 0); /* the limit was reached */
    ck_assert_uint_eq(ss_meter_bytes(&ctx->meter), 0);
    ck_assert_int_eq(c.live, 1);
    subsel_ctx_free(ctx);
    ck_assert_int_eq(c.live, 0);
}
END_TEST

static int cancel_after(void *user, const char *stage, int64_t done, int64_t total)
{
    int64_t *limit = user;
    (void)stage;
    (void)total;
    return done >= *limit;
}

START_TEST(progress_can_cancel)
{
    subsel_ctx *ctx;
    int64_t limit = 3;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_int_eq(ss_progress(ctx, "x", 5, 10), SUBSEL_OK); /* no callback */
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, cancel_after, &limit));
    ck_assert_int_eq(ss_progress(ctx, "select", 2, 10), SUBSEL_OK);
    ck_assert_int_eq(ss_progress(ctx, "select", 3, 10), SUBSEL_E_CANCELLED);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "select"));
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, NULL, NULL));
    ck_assert_int_eq(ss_progress(ctx, "select", 3, 10), SUBSEL_OK);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(error_message_prefix)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    ck_assert_str_eq(subsel_ctx_last_error(ctx), "");
    ck_assert_int_eq(ss_fail(ctx, SUBSEL_E_FORMAT, "bad %d", 7), SUBSEL_E_FORMAT);
    ck_assert_int_eq(ss_fail_prefix(ctx, SUBSEL_E_FORMAT, "file %s", "a.npy"), SUBSEL_E_FORMAT);
    ck_assert_str_eq(subsel_ctx_last_error(ctx), "file a.npy: bad 7");
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(rng_is_reproducible_and_uniform)
{
    ss_rng a, b, c;
    int64_t counts[10] = {0};
    int i;
    double mean = 0, var = 0;
    ss_rng_seed(&a, 42, 0);
    ss_rng_seed(&b, 42, 0);
    ss_rng_seed(&c, 42, 1);
    for (i = 0; i < 100; i++) {
        uint64_t x = ss_rng_next(&a);
        ck_assert_uint_eq(x, ss_rng_next(&b));
    }
    ck_assert_uint_ne(ss_rng_next(&a), ss_rng_next(&c));
    for (i = 0; i < 100000; i++)
        counts[ss_rng_below(&a, 10)]++;
    for (i = 0; i < 10; i++) /* 5 sigma of a binomial(1e5, 0.1) */
        ck_assert_int_lt(labs((long)(counts[i] - 10000)), 475);
    for (i = 0; i < 100000; i++) {
        double z = ss_rng_normal(&a);
        mean += z;
        var += z * z;
    }
    mean /= 100000;
    var = var / 100000 - mean * mean;
    ck_assert_double_lt(mean < 0 ? -mean : mean, 0.02);
    ck_assert_double_lt(var < 1 ? 1 - var : var - 1, 0.03);
}
END_TEST

Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, status_strings_are_distinct_and_total);
    tcase_add_test(tc, status_numbers_are_fixed);
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, build_info_names_the_blis_configuration);
    tcase_add_test(tc, blis_kernels_fit_this_cpu);
    tcase_add_test(tc, error_message_prefix);
    suite_add_tcase(s, tc);

    tc = tcase_create("context");
    tcase_add_test(tc, ctx_defaults_follow_bounds);
    tcase_add_test(tc, ctx_null_arguments);
    tcase_add_test(tc, ctx_threads_and_isa);
    tcase_add_test(tc, progress_can_cancel);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_add_test(tc, threads_are_capped_at_the_available_cpus);
    tcase_add_test(tc, forked_child_pinned_to_one_cpu_sees_the_cap);
    tcase_add_test(tc, cgroup_v2_quota_is_the_tightest_on_the_path);
    tcase_add_test(tc, cgroup_v1_quota_and_container_mounts);
    tcase_add_test(tc, forked_child_finishes_a_selection_after_a_parallel_one);
    suite_add_tcase(s, tc);

    tc = tcase_create("alloc");
    tcase_add_test(tc, allocator_hooks_see_every_allocation);
    tcase_add_test(tc, allocator_failure_is_nomem);
    tcase_add_test(tc, overflowing_sizes_are_refused);
    tcase_add_test(tc, memory_limit_admits_exactly_the_limit);
    tcase_add_test(tc, memory_limit_stops_a_large_load_with_a_message);
    tcase_add_test(tc, memory_limit_holds_for_handles_that_outlive_the_context);
    tcase_add_test(tc, memory_meter_is_exact_under_many_threads);
    suite_add_tcase(s, tc);

    tc = tcase_create("rng");
    tcase_add_test(tc, rng_is_reproducible_and_uniform);
    suite_add_tcase(s, tc);
    return s;
}
