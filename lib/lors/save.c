/* SPDX-License-Identifier: MIT */
/*
 * Saving and loading a distilled set: a folder of .npy files that users
 * read directly (images.npy, texts.npy, similarity.npy, eta.npy, all a
 * NumPy user needs to train on the set) plus what continuing needs, exact:
 *
 *   lors_set.npy    float64: x, y, the similarity's parameters, and the
 *                   momentum buffers of each, in that order
 *   lors_real.npy   float64: eta (2), eta's momentum (2), the last loss,
 *                   then every real parameter in the table's order
 *   lors_state.npy  int64: the S_* fields below, then every integer
 *                   parameter in the table's order
 *
 * lors_state.npy is removed first and written last: a folder without it is
 * not a saved set, so a save that died half way is refused on loading.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "lors/lors.h"
#include "matrix/fileio.h"
#include "matrix/npy.h"

#define MAGIC 0x53534c4f52533031LL /* "SSLORS01" */
#define FORMAT 1

enum { S_MAGIC, S_FORMAT, S_IMAGE_DIM, S_TEXT_DIM, S_ITERATIONS, S_SEED,
       S_RNG0, S_COUNT = S_RNG0 + 4 };
enum { R_ETA0, R_ETA1, R_MOM_ETA0, R_MOM_ETA1, R_LAST_LOSS, R_COUNT };

#define PATH(name) SS_CHECK(ss_path_join(ctx, dir, (name), path, sizeof path))

/* Parameters of one type, in the table's order. */
static int64_t count_params(int type)
{
    size_t i;
    int64_t n = 0;
    for (i = 0; i < ss_lors_params.count; i++)
        n += ss_lors_params.params[i].type == type;
    return n;
}

static void *field(const subsel_lors *l, const ss_param *p)
{
    return (char *)l + p->offset;
}

/* The exact arrays, in lors_set.npy's order. */
static int64_t set_arrays(const subsel_lors *l, double **arrays,
                          int64_t *counts)
{
    int64_t n = l->sim.n, sp = ss_sim_params(&l->sim);
    double *a[] = {l->x, l->y, l->sim_params, l->mom_x, l->mom_y, l->mom_sim};
    int64_t c[] = {n * l->image_dim, n * l->text_dim, sp,
                   n * l->image_dim, n * l->text_dim, sp};
    int64_t i, total = 0;
    for (i = 0; i < 6; i++) {
        arrays[i] = a[i];
        counts[i] = c[i];
        total += c[i];
    }
    return total;
}

static int save_f32(subsel_ctx *ctx, const char *dir, const char *name,
                    int64_t rows, int64_t cols, const double *values)
{
    char path[4096];
    int64_t shape[2] = {rows, cols}, i;
    float *f = NULL;
    int rc = SUBSEL_OK;
    PATH(name);
    SS_CHECK(ss_alloc_array(ctx, rows * cols, sizeof *f, &f));
    for (i = 0; i < rows * cols; i++)
        f[i] = (float)values[i];
    rc = ss_npy_save_array(ctx, path, "<f4", 4, 2, shape, f);
    ss_free(ctx, f);
    return rc;
}

int subsel_lors_save(subsel_ctx *ctx, const subsel_lors *l, const char *dir)
{
    char path[4096];
    double *arrays[6], *all = NULL, *reals = NULL, *row = NULL;
    int64_t counts[6], total, *state = NULL, n, ni, nr, i, k;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, l, SS_KIND_LORS);
    SS_REQUIRE_NONNULL(ctx, dir);
    if (!l->started)
        return ss_fail(ctx, SUBSEL_E_STATE,
                       "%s: nothing is distilled yet", __func__);
    n = l->sim.n;
    ni = count_params(SUBSEL_TYPE_INT);
    nr = count_params(SUBSEL_TYPE_REAL);
    SS_CHECK(ss_make_dir(ctx, dir));
    PATH("lors_state.npy");
    if (remove(path) != 0 && errno != ENOENT)
        return ss_fail(ctx, SUBSEL_E_IO, "%s: %s", path, strerror(errno));

    SS_TRY(save_f32(ctx, dir, "images.npy", n, l->image_dim, l->x));
    SS_TRY(save_f32(ctx, dir, "texts.npy", n, l->text_dim, l->y));
    SS_TRY(ss_alloc_array(ctx, n * n, sizeof *row, &row));
    for (i = 0; i < n; i++)
        ss_sim_row(&l->sim, l->sim_params, i, row + i * n);
    SS_TRY(save_f32(ctx, dir, "similarity.npy", n, n, row));
    SS_TRY(ss_path_join(ctx, dir, "eta.npy", path, sizeof path));
    SS_TRY(subsel_npy_write_f64(ctx, path, l->eta, 2));

    total = set_arrays(l, arrays, counts);
    SS_TRY(ss_alloc_array(ctx, total, sizeof *all, &all));
    for (i = 0, k = 0; i < 6; k += counts[i], i++)
        memcpy(all + k, arrays[i], sizeof *all * (size_t)counts[i]);
    SS_TRY(ss_path_join(ctx, dir, "lors_set.npy", path, sizeof path));
    SS_TRY(subsel_npy_write_f64(ctx, path, all, total));

    SS_TRY(ss_alloc_array(ctx, R_COUNT + nr, sizeof *reals, &reals));
    reals[R_ETA0] = l->eta[0];
    reals[R_ETA1] = l->eta[1];
    reals[R_MOM_ETA0] = l->mom_eta[0];
    reals[R_MOM_ETA1] = l->mom_eta[1];
    reals[R_LAST_LOSS] = l->last_loss;
    SS_TRY(ss_alloc_array(ctx, S_COUNT + ni, sizeof *state, &state));
    state[S_MAGIC] = MAGIC;
    state[S_FORMAT] = FORMAT;
    state[S_IMAGE_DIM] = l->image_dim;
    state[S_TEXT_DIM] = l->text_dim;
    state[S_ITERATIONS] = l->iterations;
    state[S_SEED] = l->seed;
    for (i = 0; i < 4; i++)
        memcpy(&state[S_RNG0 + i], &l->rng.s[i], sizeof l->rng.s[i]);
    {
        int64_t a = S_COUNT, b = R_COUNT;
        size_t p;
        for (p = 0; p < ss_lors_params.count; p++) {
            const ss_param *q = &ss_lors_params.params[p];
            if (q->type == SUBSEL_TYPE_INT)
                state[a++] = *(const int64_t *)field(l, q);
            else
                reals[b++] = *(const double *)field(l, q);
        }
    }
    SS_TRY(ss_path_join(ctx, dir, "lors_real.npy", path, sizeof path));
    SS_TRY(subsel_npy_write_f64(ctx, path, reals, R_COUNT + nr));
    SS_TRY(ss_path_join(ctx, dir, "lors_state.npy", path, sizeof path));
    SS_TRY(subsel_npy_write_i64(ctx, path, state, S_COUNT + ni));
cleanup:
    ss_free(ctx, all);
    ss_free(ctx, reals);
    ss_free(ctx, row);
    ss_free(ctx, state);
    return rc;
}

/* Reads exactly `count` values of a vector file of dir. */
static int read_exact(subsel_ctx *ctx, const char *dir, const char *name,
                      int integer, void *out, int64_t count)
{
    char path[4096];
    int64_t got = -1;
    int rc;
    PATH(name);
    rc = integer ? subsel_npy_read_i64(ctx, path, out, count, &got)
                 : subsel_npy_read_f64(ctx, path, out, count, &got);
    if (rc == SUBSEL_OK && got != count)
        rc = ss_fail(ctx, SUBSEL_E_FORMAT, "%s: %lld values, expected %lld",
                     path, (long long)got, (long long)count);
    if (rc == SUBSEL_E_INVALID && got >= 0 && got != count)
        rc = ss_fail(ctx, SUBSEL_E_FORMAT, "%s: %lld values, expected %lld",
                     path, (long long)got, (long long)count);
    return rc;
}

int subsel_lors_load(subsel_ctx *ctx, const char *dir, subsel_lors **out)
{
    subsel_lors *l = NULL;
    int64_t *state = NULL, ni, nr, total, counts[6], i, k;
    double *reals = NULL, *all = NULL, *arrays[6];
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, dir);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    ni = count_params(SUBSEL_TYPE_INT);
    nr = count_params(SUBSEL_TYPE_REAL);
    SS_TRY(ss_alloc_array(ctx, S_COUNT + ni, sizeof *state, &state));
    SS_TRY(ss_alloc_array(ctx, R_COUNT + nr, sizeof *reals, &reals));
    rc = read_exact(ctx, dir, "lors_state.npy", 1, state, S_COUNT + ni);
    if (rc == SUBSEL_E_IO)
        rc = ss_fail_prefix(ctx, SUBSEL_E_FORMAT,
                            "%s is not a saved LoRS set (or its save did not "
                            "finish)",
                            dir);
    SS_TRY(rc);
    if (state[S_MAGIC] != MAGIC || state[S_FORMAT] != FORMAT)
        SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT,
                       "%s: lors_state.npy is not of this format", dir));
    SS_TRY(read_exact(ctx, dir, "lors_real.npy", 0, reals, R_COUNT + nr));
    SS_TRY(ss_lors_alloc(ctx, state[S_IMAGE_DIM], state[S_TEXT_DIM], __func__,
                         &l));
    {
        int64_t a = S_COUNT, b = R_COUNT;
        size_t p;
        for (p = 0; p < ss_lors_params.count; p++) {
            const ss_param *q = &ss_lors_params.params[p];
            int ok = q->type == SUBSEL_TYPE_INT
                         ? ss_param_int_ok(q, state[a])
                         : ss_param_real_ok(q, reals[b]);
            if (!ok)
                SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT,
                               "%s: the saved '%s' is out of its bounds", dir,
                               q->name));
            if (q->type == SUBSEL_TYPE_INT)
                *(int64_t *)field(l, q) = state[a++];
            else
                *(double *)field(l, q) = reals[b++];
        }
    }
    l->seed = state[S_SEED];
    l->iterations = state[S_ITERATIONS];
    for (i = 0; i < 4; i++)
        memcpy(&l->rng.s[i], &state[S_RNG0 + i], sizeof l->rng.s[i]);
    l->eta[0] = reals[R_ETA0];
    l->eta[1] = reals[R_ETA1];
    l->mom_eta[0] = reals[R_MOM_ETA0];
    l->mom_eta[1] = reals[R_MOM_ETA1];
    l->last_loss = reals[R_LAST_LOSS];
    ss_lors_model_of(l, &l->model);
    ss_lors_sim_of(l, l->pairs, &l->sim);
    SS_TRY(ss_lors_alloc_set(ctx, l));
    total = set_arrays(l, arrays, counts);
    SS_TRY(ss_alloc_array(ctx, total, sizeof *all, &all));
    SS_TRY(read_exact(ctx, dir, "lors_set.npy", 0, all, total));
    for (i = 0, k = 0; i < 6; k += counts[i], i++)
        memcpy(arrays[i], all + k, sizeof *all * (size_t)counts[i]);
    l->started = 1;
    *out = l;
    l = NULL;
cleanup:
    subsel_lors_free(l);
    ss_free(ctx, state);
    ss_free(ctx, reals);
    ss_free(ctx, all);
    return rc;
}
