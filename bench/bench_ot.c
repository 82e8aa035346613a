/* SPDX-License-Identifier: MIT */
/*
 * The OT engine's speed. Entropic partial OT (2000 x 2000 at scale 1,
 * squared Euclidean costs between uniform points in the unit square scaled
 * to [0, 1], uniform marginals, mass 0.5, reg 0.1 and 0.01) solved to a
 * marginal violation of 1e-6 per instruction set and thread count; when
 * Debian's python3 with POT is present, POT's entropic_partial_wasserstein
 * is timed on the same matrix for 3 iterations and the per-iteration ratio
 * printed. Also balanced Sinkhorn on the same costs, and the GeomLoss-style
 * annealed Sinkhorn TAROT calls (Euclidean costs between point clouds).
 * One JSON object per line. SUBSEL_BENCH_SCALE scales the sizes; argv[1]
 * may name another POT helper than bench/pot_partial.py.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "bench_util.h"
#include "core/rng.h"
#include "ot/ot.h"
#include "subsel.h"

static double *make_costs(int64_t n, int64_t m, uint64_t seed)
{
    double *c = malloc((size_t)(n * m) * sizeof *c), mx = 0.0;
    double *p = malloc((size_t)(2 * (n + m)) * sizeof *p);
    ss_rng rng;
    int64_t i, j;
    ss_rng_seed(&rng, seed, 0);
    for (i = 0; i < 2 * (n + m); i++)
        p[i] = ss_rng_uniform(&rng);
    for (i = 0; i < n; i++)
        for (j = 0; j < m; j++) {
            double dx = p[2 * i] - p[2 * (n + j)], dy = p[2 * i + 1] - p[2 * (n + j) + 1];
            c[i * m + j] = dx * dx + dy * dy;
            mx = c[i * m + j] > mx ? c[i * m + j] : mx;
        }
    for (i = 0; i < n * m; i++)
        c[i] /= mx;
    free(p);
    return c;
}

/* Seconds per iteration of POT (3 iterations) on the matrix in `path`, or
 * a negative number when Debian's python3 or POT is missing. */
static double pot_seconds_per_iteration(const char *helper, const char *path,
                                        int64_t n, double reg, double mass)
{
    char cmd[1024];
    double s = -1.0;
    FILE *p;
    if (access("/usr/bin/python3", X_OK) != 0)
        return -1.0;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %lld %g %g 2>/dev/null",
             helper, path, (long long)n, reg, mass);
    p = popen(cmd, "r");
    if (p == NULL)
        return -1.0;
    if (fscanf(p, "%lf", &s) != 1)
        s = -1.0;
    pclose(p);
    return s;
}

/* Seconds per iteration of the solver: one iteration is a row and a
 * column log-sum-exp pass over the costs (the potential updates are O(n)),
 * timed directly, since the benchmark problem converges in a couple of
 * iterations. */
static double seconds_per_iteration(subsel_ctx *ctx, const double *c, int64_t n,
                                    double reg, double *h, double *out)
{
    ss_ot_cost cost;
    double t0;
    int reps = 5, r;
    int64_t i;
    ss_ot_cost_dense(&cost, c, n, n, n);
    for (i = 0; i < n; i++)
        h[i] = 0.0;
    t0 = bench_now();
    for (r = 0; r < reps; r++) {
        ss_ot_row_lse(ctx, &cost, -1.0 / reg, h, out);
        ss_ot_col_lse(ctx, &cost, -1.0 / reg, h, out);
    }
    return (bench_now() - t0) / reps;
}

int main(int argc, char **argv)
{
    const double regs[2] = {0.1, 0.01};
    double scale = bench_scale(), mass = 0.5;
    int64_t n = (int64_t)(2000 * sqrt(scale)), i;
    int64_t threads_list[2] = {1, 2};
    /* The POT timing helper: argv[1], or the one in the source tree. */
    const char *helper = argc > 1 ? argv[1] : SUBSEL_POT_HELPER;
    double *c, *f = malloc((size_t)n * sizeof *f);
    double *g = malloc((size_t)n * sizeof *g);
    subsel_ctx *ctx;
    subsel_ot_solver *solver;
    int r, isa, t;
    stages_begin("build");
    c = make_costs(n, n, 1);
    if (subsel_ctx_create(&ctx) != SUBSEL_OK || subsel_ot_solver_create(ctx, &solver) != SUBSEL_OK)
        return 1;
    subsel_ot_solver_set_double(solver, SUBSEL_OT_TOL, 1e-6);

    for (r = 0; r < 2; r++) {
        double per_iter[2] = {0.0, 0.0}, pot = -1.0;
        for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++) {
            if (!subsel_isa_supported(isa))
                continue;
            for (t = 0; t < 2; t++) {
                double t0, secs, value, it_s;
                int rc;
                subsel_ctx_set_int(ctx, SUBSEL_CTX_MAX_ISA, isa);
                subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, threads_list[t]);
                stages_begin("solve");
                t0 = bench_now();
                rc = subsel_ot_partial(ctx, solver, NULL, n, NULL, n, c, regs[r],
                                       mass, &value, f, g, NULL);
                secs = bench_now() - t0;
                stages_begin("iterations"); /* the per-iteration timing */
                it_s = seconds_per_iteration(ctx, c, n, regs[r], f, g);
                printf("{\"bench\":\"ot_partial\",\"n\":%lld,\"m\":%lld,\"reg\":%g,"
                       "\"mass\":%g,\"tol\":1e-6,\"isa\":\"%s\",\"threads\":%lld,"
                       "\"status\":%d,\"seconds\":%.4f,\"iterations\":%lld,"
                       "\"seconds_per_iteration\":%.6f,\"violation\":%.3g,\"cost\":%.10g",
                       (long long)n, (long long)n, regs[r], mass, subsel_isa_name(isa),
                       (long long)threads_list[t], rc, secs,
                       (long long)subsel_ot_solver_iterations(solver), it_s,
                       subsel_ot_solver_violation(solver), value);
                bench_end_line();
                if (isa == subsel_isa_selected())
                    per_iter[t] = it_s;
            }
        }
        if (helper != NULL) {
            const char *path = "/tmp/subsel_bench_ot_costs.npy";
            subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 0);
            stages_begin("pot");
            if (subsel_npy_write_f64(ctx, path, c, n * n) == SUBSEL_OK) {
                pot = pot_seconds_per_iteration(helper, path, n, regs[r], mass);
                remove(path);
            }
        }
        if (pot > 0)
            printf("{\"bench\":\"ot_partial_vs_pot\",\"n\":%lld,\"reg\":%g,"
                   "\"pot_seconds_per_iteration\":%.4f,"
                   "\"subsel_seconds_per_iteration_1t\":%.6f,"
                   "\"subsel_seconds_per_iteration_2t\":%.6f,"
                   "\"speedup_per_iteration_1t\":%.1f,\"speedup_per_iteration_2t\":%.1f",
                   (long long)n, regs[r], pot, per_iter[0], per_iter[1],
                   pot / per_iter[0], pot / per_iter[1]);
        else
            printf("{\"bench\":\"ot_partial_vs_pot\",\"skipped\":\"no python3-pot\"");
        bench_end_line();
    }

    /* Balanced Sinkhorn on the same costs. */
    subsel_ctx_set_int(ctx, SUBSEL_CTX_MAX_ISA, SUBSEL_ISA_AVX512);
    for (t = 0; t < 2; t++) {
        double t0, secs, value;
        int rc;
        subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, threads_list[t]);
        stages_begin("solve");
        t0 = bench_now();
        rc = subsel_ot_sinkhorn(ctx, solver, NULL, n, NULL, n, c, 0.01, &value, f,
                                g, NULL);
        secs = bench_now() - t0;
        printf("{\"bench\":\"ot_sinkhorn\",\"n\":%lld,\"reg\":0.01,\"tol\":1e-6,"
               "\"threads\":%lld,\"status\":%d,\"seconds\":%.4f,\"iterations\":%lld",
               (long long)n, (long long)threads_list[t], rc, secs,
               (long long)subsel_ot_solver_iterations(solver));
        bench_end_line();
    }

    /* GeomLoss-style annealing between point clouds (TAROT's OT). */
    {
        int64_t np = (int64_t)(5000 * sqrt(scale)), d = 512;
        float *x = malloc((size_t)(np * d) * sizeof *x), *y = malloc((size_t)(np * d) * sizeof *y);
        double *fp = malloc((size_t)np * sizeof *fp), *gp = malloc((size_t)np * sizeof *gp);
        ss_rng rng;
        stages_begin("build");
        ss_rng_seed(&rng, 5, 0);
        for (i = 0; i < np * d; i++) {
            x[i] = (float)ss_rng_normal(&rng) / 22.6f;
            y[i] = (float)ss_rng_normal(&rng) / 22.6f + 0.01f;
        }
        for (t = 0; t < 2; t++) {
            double t0, secs, loss;
            int rc;
            subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, threads_list[t]);
            stages_begin("solve");
            t0 = bench_now();
            rc = ss_ot_anneal_uniform(ctx, x, np, y, np, d, 0.01, 0.5, fp, gp, &loss);
            secs = bench_now() - t0;
            printf("{\"bench\":\"ot_anneal_uniform\",\"n\":%lld,\"m\":%lld,\"d\":%lld,"
                   "\"threads\":%lld,\"status\":%d,\"seconds\":%.4f,\"loss\":%.8f",
                   (long long)np, (long long)np, (long long)d,
                   (long long)threads_list[t], rc, secs, loss);
            bench_end_line();
        }
        free(x), free(y), free(fp), free(gp);
    }
    subsel_ot_solver_free(solver);
    subsel_ctx_free(ctx);
    free(c), free(f), free(g);
    return 0;
}
