/* SPDX-License-Identifier: MIT */
/*
 * The CPUs available to the caller and fork safety (see cpus.h): the
 * affinity mask, cgroup v1 / v2 CPU quotas found through
 * /proc/self/cgroup and /proc/self/mountinfo, and pthread_atfork handlers
 * that mark a child forked from a process with threads.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_*_S, CLOCK_MONOTONIC_COARSE */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cpus.h"

#define PATH_CAPACITY 4096

/* ------------------------------------------------------------------------ */
/* Fork                                                                     */
/* ------------------------------------------------------------------------ */

/* Written by the fork handlers only, which run while no other thread of the
 * process can run library code that reads them (the parent is forking; the
 * child has one thread). */
static int forked_from_threads;
static int parent_has_threads;

/* Threads of this process from /proc/self/status, or -1. Only open, read
 * and close: a fork handler may run in a process forking from a signal
 * handler. */
static int process_threads(void)
{
    char buf[4096];
    const char *p;
    ssize_t got, len = 0;
    int threads = 0;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (len < (ssize_t)sizeof buf - 1 &&
           (got = read(fd, buf + len, sizeof buf - 1 - (size_t)len)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        len += got;
    }
    close(fd);
    buf[len] = '\0';
    p = strstr(buf, "\nThreads:");
    if (p == NULL)
        return -1;
    p += strlen("\nThreads:");
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9' && threads < 1 << 20)
        threads = threads * 10 + (*p++ - '0');
    return threads;
}

/* Other threads at fork time are what break a child: libgomp keeps its
 * pool of idle workers (ours, BLIS's or the host's) in a list the child
 * inherits without the threads. Counting threads catches every such pool,
 * whoever started it; a process that cannot tell counts as threaded. */
static void before_fork(void)
{
    parent_has_threads = process_threads() != 1;
}

static void after_fork_in_child(void);

/* Registered when the library is loaded, so that a fork before the first
 * call is seen too. glibc unregisters the handlers if the library is
 * unloaded (dlclose). */
__attribute__((constructor)) static void register_fork_handlers(void)
{
    pthread_atfork(before_fork, NULL, after_fork_in_child);
}

int ss_forked_from_threads(void)
{
    return forked_from_threads;
}

/* ------------------------------------------------------------------------ */
/* cgroup CPU quota                                                         */
/* ------------------------------------------------------------------------ */

/* Reads the first line of a small file into buf; 0 on failure. */
static int read_line(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    int ok;
    if (f == NULL)
        return 0;
    ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    return ok;
}

/* ceil(quota / period) when both are positive, else 0 (no limit). */
static int quota_cpus(long long quota, long long period)
{
    long long cpus;
    if (quota <= 0 || period <= 0)
        return 0;
    cpus = quota / period + (quota % period != 0);
    return cpus > 1 << 20 ? 1 << 20 : (int)cpus;
}

/* The limit set in one cgroup directory, 0 for none. */
static int limit_in(const char *dir, int v2)
{
    char path[3 * PATH_CAPACITY + 32], line[128];
    long long quota, period;
    if (v2) {
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        if (!read_line(path, line, sizeof line) ||
            sscanf(line, "%lld %lld", &quota, &period) != 2)
            return 0; /* also "max 100000" */
        return quota_cpus(quota, period);
    }
    snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
    if (!read_line(path, line, sizeof line) || sscanf(line, "%lld", &quota) != 1)
        return 0;
    snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
    if (!read_line(path, line, sizeof line) || sscanf(line, "%lld", &period) != 1)
        return 0;
    return quota_cpus(quota, period);
}

/* Whether the comma-separated list has `word` as an element. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p = list;
    while ((p = strstr(p, word)) != NULL) {
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

/* What a scan of /proc/self/cgroup or mountinfo looks for (the hierarchy)
 * and where the answer goes. */
typedef struct cgroup_query {
    int v2; /* the v2 hierarchy, else the v1 one with the cpu controller */
    char *out[2];
    size_t cap;
} cgroup_query;

/* Calls match() on each line of root/relative, without its newline, until
 * one returns nonzero; returns that, or 0. */
static int scan_lines(const char *root, const char *relative,
                      int (*match)(char *line, const cgroup_query *q),
                      const cgroup_query *q)
{
    char path[PATH_CAPACITY];
    char *line = NULL;
    size_t line_cap = 0;
    int found = 0;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", root, relative);
    if ((f = fopen(path, "re")) == NULL)
        return 0;
    while (!found && getline(&line, &line_cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        found = match(line, q);
    }
    free(line);
    fclose(f);
    return found;
}

/* A /proc/self/cgroup line "id:controllers:path": the process's cgroup in
 * the hierarchy asked for goes to out[0]. */
static int cgroup_path_line(char *line, const cgroup_query *q)
{
    char *controllers = strchr(line, ':'), *where;
    if (controllers == NULL)
        return 0;
    *controllers++ = '\0';
    if ((where = strchr(controllers, ':')) == NULL)
        return 0;
    *where++ = '\0';
    if (q->v2 ? strcmp(line, "0") != 0 || controllers[0] != '\0'
              : !has_word(controllers, "cpu"))
        return 0;
    return snprintf(q->out[0], q->cap, "%s", where) < (int)q->cap;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
            s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

/* A mountinfo line "id parent dev root mountpoint options [optional...] -
 * fstype source superoptions": for a mount of the hierarchy asked for, the
 * cgroup it shows as its root goes to out[0], where it is mounted to
 * out[1]. */
static int cgroup_mount_line(char *line, const cgroup_query *q)
{
    char *field[6], *save = NULL, *dash, *fstype, *super;
    int i;
    if ((dash = strstr(line, " - ")) == NULL)
        return 0;
    *dash = '\0';
    fstype = strtok_r(dash + 3, " ", &save);
    if (fstype == NULL || strtok_r(NULL, " ", &save) == NULL)
        return 0;
    super = strtok_r(NULL, " ", &save);
    if (strcmp(fstype, q->v2 ? "cgroup2" : "cgroup") != 0 ||
        (!q->v2 && (super == NULL || !has_word(super, "cpu"))))
        return 0;
    save = NULL;
    for (i = 0; i < 6; i++)
        if ((field[i] = strtok_r(i ? NULL : line, " ", &save)) == NULL)
            return 0;
    unescape(field[3]);
    unescape(field[4]);
    return snprintf(q->out[0], q->cap, "%s", field[3]) < (int)q->cap &&
           snprintf(q->out[1], q->cap, "%s", field[4]) < (int)q->cap;
}

/* The tightest limit of one hierarchy, from the process's cgroup up to the
 * mount's root (a parent's quota bounds its children), 0 for none. */
static int hierarchy_limit(const char *root, int v2)
{
    char where[PATH_CAPACITY], mnt_root[PATH_CAPACITY], mnt_point[PATH_CAPACITY];
    char dir[3 * PATH_CAPACITY];
    const char *below = where;
    size_t top;
    int best = 0;
    cgroup_query path = {v2, {where, NULL}, sizeof where};
    cgroup_query mount = {v2, {mnt_root, mnt_point}, sizeof mnt_root};
    if (!scan_lines(root, "proc/self/cgroup", cgroup_path_line, &path) ||
        !scan_lines(root, "proc/self/mountinfo", cgroup_mount_line, &mount))
        return 0;
    /* The cgroup path is relative to the hierarchy's root; the mount shows
     * the subtree from mnt_root down (all of it outside containers). */
    if (strcmp(mnt_root, "/") != 0) {
        size_t n = strlen(mnt_root);
        below = strncmp(where, mnt_root, n) == 0 &&
                        (where[n] == '/' || where[n] == '\0')
                    ? where + n
                    : "";
    }
    top = (size_t)snprintf(dir, sizeof dir, "%s%s", root, mnt_point);
    if (top >= sizeof dir ||
        (size_t)snprintf(dir + top, sizeof dir - top, "%s",
                         strcmp(below, "/") == 0 ? "" : below) >=
            sizeof dir - top)
        return 0;
    for (;;) {
        int here = limit_in(dir, v2);
        char *slash;
        if (here > 0 && (best == 0 || here < best))
            best = here;
        if (strlen(dir) <= top || (slash = strrchr(dir + top, '/')) == NULL)
            break;
        *slash = '\0';
    }
    return best;
}

int ss_cgroup_cpu_limit(const char *root)
{
    int v2 = hierarchy_limit(root, 1), v1 = hierarchy_limit(root, 0);
    if (v2 == 0 || (v1 > 0 && v1 < v2))
        return v1;
    return v2;
}

/* ------------------------------------------------------------------------ */
/* Available CPUs                                                           */
/* ------------------------------------------------------------------------ */

static int affinity_cpus(void)
{
#ifdef __linux__
    int n = 1024;
    for (;;) {
        cpu_set_t *set = CPU_ALLOC((size_t)n);
        size_t size = CPU_ALLOC_SIZE((size_t)n);
        int count;
        if (set == NULL)
            break;
        if (sched_getaffinity(0, size, set) == 0) {
            count = CPU_COUNT_S(size, set);
            CPU_FREE(set);
            return count > 0 ? count : 1;
        }
        CPU_FREE(set);
        if (errno != EINVAL || n >= 1 << 20)
            break;
        n *= 2; /* more CPUs than the mask holds */
    }
#endif
    {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        return online > 0 ? (int)online : 1;
    }
}

static long long now_ms(void)
{
    struct timespec t;
#ifdef CLOCK_MONOTONIC_COARSE
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &t) != 0)
#endif
        clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Per thread, since threads of one process may have different masks. The
 * syscall and the cgroup files cost microseconds, and some loops size a
 * parallel region per iteration. */
static _Thread_local int cached_cpus;
static _Thread_local long long cached_at_ms;

#define CPUS_REFRESH_MS 1000

int ss_cpus_available(void)
{
    long long now = now_ms();
    if (cached_cpus == 0 || now - cached_at_ms >= CPUS_REFRESH_MS) {
        int cpus = affinity_cpus(), quota = ss_cgroup_cpu_limit("");
        cached_cpus = quota > 0 && quota < cpus ? quota : cpus;
        cached_at_ms = now;
    }
    return cached_cpus;
}

static void after_fork_in_child(void)
{
    if (parent_has_threads)
        forked_from_threads = 1;
    cached_cpus = 0; /* the child is often pinned or moved right away */
}

int ss_threads_cap(int wanted)
{
    int cpus;
    if (wanted <= 1 || forked_from_threads)
        return 1;
    cpus = ss_cpus_available();
    return wanted < cpus ? wanted : cpus;
}
