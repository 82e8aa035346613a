/* SPDX-License-Identifier: MIT */
/*
 * How many threads a call may really use. A context's thread count is a
 * wish: oversubscribed cores make BLIS and OpenMP barriers spin against
 * each other (a product 25x slower at 64 threads on 2 cores), and in a
 * child forked from a process with threads, libgomp's thread pool is gone
 * while libgomp still believes in it, so any parallel region waits for ever.
 * This file counts the CPUs available to the caller (affinity mask and
 * cgroup CPU quota, not the host's core count) and notices such forks.
 */
#ifndef SS_CORE_CPUS_H
#define SS_CORE_CPUS_H

/* `wanted` threads (treated as at least 1) capped at ss_cpus_available(),
 * and 1 in a child forked from a process that had other threads. Every
 * thread count the library hands to OpenMP or BLIS goes through here (via
 * subsel_ctx_threads()). */
int ss_threads_cap(int wanted);

/* The CPUs the calling thread may run on: its affinity mask, bounded by the
 * CPU quota of its cgroup (v2 cpu.max, v1 cpu.cfs_quota_us over
 * cpu.cfs_period_us; the tightest on the path to the root, rounded up).
 * At least 1. Remembered per thread for up to a second, and forgotten in a
 * forked child, so that a process pinned after a fork sees its new mask. */
int ss_cpus_available(void);

/* 1 in a process forked from one that had more than one thread at the fork
 * (or whose thread count could not be read), and in every process forked
 * from such a process; else 0. */
int ss_forked_from_threads(void);

/* The cgroup CPU limit of this process as files under `root` show it ("" for
 * the real /proc and /sys; tests point it at a fake tree): ceil(quota /
 * period) of the tightest limit on the way from the process's cgroup to the
 * root of its hierarchy, over cgroup v2 and v1 alike; 0 when there is none
 * or nothing can be read. */
int ss_cgroup_cpu_limit(const char *root);

#endif
