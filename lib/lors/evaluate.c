/* SPDX-License-Identifier: MIT */
/*
 * Evaluation (`subsel lors eval`, the paper's Algorithm 2 and section 4.1):
 * fresh towers trained on a set of pairs (the distilled set with its S~ and
 * learned step sizes, or real pairs with S = I), then retrieval recall at
 * 1, 5 and 10 on held-out pairs in both directions. Scores are computed a
 * block of queries at a time, so a test set of any size needs only
 * O(block x items) memory.
 */
#include <math.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "linalg/blas.h"
#include "lors/lors.h"
#include "matrix/matrix.h"

/* Queries per block of scores. */
#define QUERY_BLOCK 256

static const int64_t ks[3] = {1, 5, 10};

int ss_lors_recall(subsel_ctx *ctx, int64_t e, const double *q, int64_t nq,
                  const double *items, int64_t ni, const int64_t *owner,
                  const int64_t *target, double out[3])
{
    double *scores = NULL;
    int64_t hits[3] = {0, 0, 0}, start;
    int rc = SUBSEL_OK;
    SS_CHECK(ss_alloc_array(ctx, QUERY_BLOCK * ni, sizeof *scores, &scores));
    for (start = 0; start < nq; start += QUERY_BLOCK) {
        int64_t len = nq - start < QUERY_BLOCK ? nq - start : QUERY_BLOCK, a;
        ss_dgemm_det(ctx, 0, 1, len, ni, e, 1.0, q + start * e, e, items, e,
                     0.0, scores, ni);
        for (a = 0; a < len; a++) {
            const double *row = scores + a * ni;
            int64_t query = start + a, best = INT64_MAX, j, t, h;
            for (t = 0; t < ni; t++) {
                int64_t above = 0;
                int mine = owner ? owner[t] == query
                                 : (target ? target[query] == t : t == query);
                if (!mine)
                    continue;
                for (j = 0; j < ni; j++)
                    above += row[j] > row[t];
                if (above < best)
                    best = above;
            }
            for (h = 0; h < 3; h++)
                hits[h] += best < ks[h];
        }
    }
    for (start = 0; start < 3; start++)
        out[start] = nq > 0 ? (double)hits[start] / (double)nq : 0.0;
    ss_free(ctx, scores);
    return rc;
}

/* Rows of the test set embedded per call: bounds the towers' work. */
#define EMBED_BLOCK 1024

/* The rows of m through tower t (parameters theta), unit length, into out
 * (rows x e), a block of rows at a time. */
static int embed(subsel_ctx *ctx, const ss_tower *t, const double *theta,
                 const subsel_dense *m, double *out)
{
    int64_t block = m->rows < EMBED_BLOCK ? m->rows : EMBED_BLOCK, start;
    int64_t w = ss_tower_work(t, block);
    double *x = NULL, *work = NULL;
    int rc = SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, block * m->cols, sizeof *x, &x));
    SS_TRY(ss_alloc_array(ctx, w > block ? w : block, sizeof *work, &work));
    for (start = 0; start < m->rows; start += block) {
        int64_t len = m->rows - start < block ? m->rows - start : block, r, c;
        for (r = 0; r < len; r++) {
            const float *row = ss_dense_row(m, start + r);
            for (c = 0; c < m->cols; c++)
                x[r * m->cols + c] = row[c];
        }
        ss_model_embed(ctx, t, theta, len, x, out + start * t->out, work);
    }
cleanup:
    ss_free(ctx, x);
    ss_free(ctx, work);
    return rc;
}

/* The test set through trained towers, and its recalls. */
static int retrieval(subsel_ctx *ctx, const ss_model *m, const double *theta,
                     const subsel_dense *ti, const subsel_dense *tt,
                     const int64_t *text_image, double *recalls)
{
    int64_t e = m->image.out;
    double *ui = NULL, *vt = NULL;
    int rc = SUBSEL_OK;
    SS_TRY(ss_alloc_array(ctx, ti->rows * e, sizeof *ui, &ui));
    SS_TRY(ss_alloc_array(ctx, tt->rows * e, sizeof *vt, &vt));
    SS_TRY(embed(ctx, &m->image, theta, ti, ui));
    SS_TRY(embed(ctx, &m->text, theta + m->image_params, tt, vt));
    /* text to image: each text's one image; image to text: any of its */
    SS_TRY(ss_lors_recall(ctx, e, vt, tt->rows, ui, ti->rows, NULL,
                          text_image, recalls + SUBSEL_LORS_IR1));
    SS_TRY(ss_lors_recall(ctx, e, ui, ti->rows, vt, tt->rows, text_image,
                          NULL, recalls + SUBSEL_LORS_TR1));
cleanup:
    ss_free(ctx, ui);
    ss_free(ctx, vt);
    return rc;
}

/* Checks the test set: columns, and text_image in range with every image
 * owning a text. */
static int check_test(subsel_ctx *ctx, const subsel_lors *l,
                      const subsel_dense *ti, const subsel_dense *tt,
                      const int64_t *text_image)
{
    const char *fn = "subsel_lors_evaluate";
    unsigned char *seen = NULL;
    int64_t t, a;
    int rc = SUBSEL_OK;
    SS_CHECK(ss_handle_check(ctx, ti, SS_KIND_DENSE, fn, "test_images"));
    SS_CHECK(ss_handle_check(ctx, tt, SS_KIND_DENSE, fn, "test_texts"));
    if (ti->cols != l->image_dim || tt->cols != l->text_dim)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: the test set has %lld image and %lld text "
                       "columns but the handle was made for %lld and %lld",
                       fn, (long long)ti->cols, (long long)tt->cols,
                       (long long)l->image_dim, (long long)l->text_dim);
    if (ti->rows < 1)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: the test set is empty",
                       fn);
    if (text_image == NULL) {
        if (ti->rows != tt->rows)
            return ss_fail(ctx, SUBSEL_E_INVALID,
                           "%s: %lld test images but %lld texts, and no "
                           "text_image to say whose each text is",
                           fn, (long long)ti->rows, (long long)tt->rows);
        return SUBSEL_OK;
    }
    SS_CHECK(ss_calloc_array(ctx, ti->rows, 1, &seen));
    for (t = 0; t < tt->rows; t++) {
        if (text_image[t] < 0 || text_image[t] >= ti->rows)
            SS_TRY(ss_fail(ctx, SUBSEL_E_INVALID,
                           "%s: text_image[%lld] = %lld is not an image "
                           "index (there are %lld)",
                           fn, (long long)t, (long long)text_image[t],
                           (long long)ti->rows));
        seen[text_image[t]] = 1;
    }
    for (a = 0; a < ti->rows; a++)
        if (!seen[a])
            SS_TRY(ss_fail(ctx, SUBSEL_E_INVALID,
                           "%s: test image %lld has no text", fn,
                           (long long)a));
cleanup:
    ss_free(ctx, seen);
    return rc;
}

int subsel_lors_evaluate(subsel_ctx *ctx, const subsel_lors *l,
                         const subsel_dense *train_images,
                         const subsel_dense *train_texts,
                         const float *train_similarity, double eta_image,
                         double eta_text, const subsel_dense *test_images,
                         const subsel_dense *test_texts,
                         const int64_t *text_image, double *recalls)
{
    ss_model m;
    ss_sim sim;
    ss_rng rng;
    const double *x, *y, *sim_params;
    double *own_x = NULL, *own_y = NULL, *own_s = NULL, *theta = NULL;
    double lr[2];
    int64_t n, i;
    int rc = SUBSEL_OK;

    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, l, SS_KIND_LORS);
    SS_REQUIRE_NONNULL(ctx, recalls);
    SS_CHECK(check_test(ctx, l, test_images, test_texts, text_image));
    if (train_images == NULL) {
        if (!l->started)
            return ss_fail(ctx, SUBSEL_E_STATE,
                           "%s: no distilled set to evaluate (give a "
                           "training set, or distill first)",
                           __func__);
        m = l->model;
        sim = l->sim;
        n = sim.n;
        x = l->x;
        y = l->y;
        sim_params = l->sim_params;
        lr[0] = l->eta[0];
        lr[1] = l->eta[1];
    } else {
        SS_CHECK(ss_lors_check_pairs(ctx, l, train_images, train_texts, 1,
                                     __func__));
        ss_lors_model_of(l, &m);
        n = train_images->rows;
        SS_TRY(ss_lors_rows_double(ctx, train_images, &own_x));
        SS_TRY(ss_lors_rows_double(ctx, train_texts, &own_y));
        sim.kind = train_similarity ? SS_SIM_FULL : SS_SIM_IDENTITY;
        sim.n = n;
        sim.rank = 1;
        sim.alpha = 0.0;
        if (train_similarity) {
            SS_TRY(ss_alloc_array(ctx, n * n, sizeof *own_s, &own_s));
            for (i = 0; i < n * n; i++) {
                if (!isfinite(train_similarity[i]))
                    SS_TRY(ss_fail(ctx, SUBSEL_E_INVALID,
                                   "%s: train_similarity[%lld] is not "
                                   "finite",
                                   __func__, (long long)i));
                own_s[i] = train_similarity[i];
            }
        }
        x = own_x;
        y = own_y;
        sim_params = own_s;
        lr[0] = eta_image > 0.0 ? eta_image : l->expert_lr;
        lr[1] = eta_text > 0.0 ? eta_text : l->expert_lr;
    }
    m.loss = (int)l->loss;
    m.beta = l->beta;
    SS_TRY(ss_alloc_array(ctx, m.params, sizeof *theta, &theta));
    ss_rng_seed(&rng, (uint64_t)ctx->seed, SS_LORS_STREAM_EVAL);
    ss_tower_init(&m.image, &rng, theta);
    ss_tower_init(&m.text, &rng, theta + m.image_params);
    if (m.learn_scale)
        theta[m.params - 1] = log(1.0 / l->temperature);
    SS_TRY(ss_progress(ctx, "evaluate", 0, l->eval_epochs));
    SS_TRY(ss_lors_train(ctx, &m, theta, n, x, y, &sim, sim_params,
                         l->eval_epochs, l->eval_batch, lr, l->eval_momentum,
                         l->eval_weight_decay, l->eval_epochs / 2 + 1, &rng,
                         NULL, NULL, "", "evaluate", 0, l->eval_epochs));
    SS_TRY(retrieval(ctx, &m, theta, test_images, test_texts, text_image,
                     recalls));
cleanup:
    ss_free(ctx, own_x);
    ss_free(ctx, own_y);
    ss_free(ctx, own_s);
    ss_free(ctx, theta);
    return rc;
}
