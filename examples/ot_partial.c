/* SPDX-License-Identifier: MIT */
/*
 * Example: entropic optimal transport between two point clouds. Transports
 * all the mass (Sinkhorn) and then only half of it (partial OT), and shows
 * that partial OT leaves the farthest points alone. With a regularisation
 * small enough to make POT's partial solver overflow, the log-domain
 * solver still converges.
 *
 *   cc ot_partial.c $(pkg-config --cflags --libs subsel) -o ot_partial
 *   ./ot_partial [N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <subsel.h>

static int check(subsel_ctx *ctx, int rc, const char *what)
{
    if (rc != SUBSEL_OK)
        fprintf(stderr, "%s: %s: %s\n", what, subsel_status_string(rc),
                subsel_ctx_last_error(ctx));
    return rc != SUBSEL_OK;
}

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : 200, i, j, far_rows = 0;
    float *x, *y;
    double *plan, *rows, value, total = 0.0, far_mass = 0.0, near_mass = 0.0;
    subsel_ctx *ctx = NULL;
    subsel_dense *dx = NULL, *dy = NULL;
    subsel_ot_solver *solver = NULL;
    int status = 1;

    if (n < 10 || n > 5000) {
        fprintf(stderr, "usage: %s [N in 10..5000]\n", argv[0]);
        return 2;
    }
    x = malloc(sizeof *x * (size_t)(2 * n));
    y = malloc(sizeof *y * (size_t)(2 * n));
    plan = malloc(sizeof *plan * (size_t)(n * n));
    rows = calloc((size_t)n, sizeof *rows);
    if (!x || !y || !plan || !rows || subsel_ctx_create(&ctx) != SUBSEL_OK)
        goto done;
    /* Sources on a circle of radius 1; targets on one of radius 1.2, except
     * that the first tenth of the sources sits far away, at radius 5. */
    for (i = 0; i < n; i++) {
        double t = 2.0 * 3.14159265358979 * (double)i / (double)n;
        double r = i < n / 10 ? 5.0 : 1.0;
        x[2 * i] = (float)(r * cos(t));
        x[2 * i + 1] = (float)(r * sin(t));
        y[2 * i] = (float)(1.2 * cos(t + 0.01));
        y[2 * i + 1] = (float)(1.2 * sin(t + 0.01));
    }
    if (check(ctx, subsel_dense_create(ctx, n, 2, x, SUBSEL_OWN_BORROW, &dx), "x") ||
        check(ctx, subsel_dense_create(ctx, n, 2, y, SUBSEL_OWN_BORROW, &dy), "y") ||
        check(ctx, subsel_ot_solver_create(ctx, &solver), "solver"))
        goto done;

    /* Balanced: every source ships 1/n, so the far points must travel. */
    if (check(ctx, subsel_ot_sinkhorn_points(ctx, solver, NULL, dx, NULL, dy,
                                             SUBSEL_COST_SQEUCLID, 0.05, &value,
                                             NULL, NULL, NULL), "sinkhorn"))
        goto done;
    printf("balanced OT:  cost %.5f in %lld iterations\n", value,
           (long long)subsel_ot_solver_iterations(solver));

    /* Partial, 80%% of the mass, reg 1e-3: the far points ship nothing. */
    if (check(ctx, subsel_ot_partial_points(ctx, solver, NULL, dx, NULL, dy,
                                            SUBSEL_COST_SQEUCLID, 1e-3, 0.8, &value,
                                            NULL, NULL, plan), "partial"))
        goto done;
    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++)
            rows[i] += plan[i * n + j];
        total += rows[i];
        if (i < n / 10) {
            far_mass += rows[i];
            far_rows++;
        } else {
            near_mass += rows[i];
        }
    }
    printf("partial OT:   cost %.5f, mass %.6f (asked 0.8) in %lld iterations\n",
           value, total, (long long)subsel_ot_solver_iterations(solver));
    printf("              %lld far sources ship %.2e, the others %.6f\n",
           (long long)far_rows, far_mass, near_mass);
    status = far_mass < 1e-6 && fabs(total - 0.8) < 1e-6 ? 0 : 1;
done:
    subsel_ot_solver_free(solver);
    subsel_dense_free(dx);
    subsel_dense_free(dy);
    subsel_ctx_free(ctx);
    free(x), free(y), free(plan), free(rows);
    return status;
}
