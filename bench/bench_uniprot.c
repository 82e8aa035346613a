/* SPDX-License-Identifier: MIT */
/*
 * UniPROT's speed and quality. Fashion-MNIST (Debian's
 * dataset-fashion-mnist, IDX files read with zlib): k = 100 prototypes
 * among 10,000 source images (the first training images) for a
 * class-imbalanced target of 10,000 other training images (class c drawn
 * in proportion to 0.7^c), pixels scaled to [0, 1], cosine similarity,
 * reg 0.01, approximate gains; seconds per optimizer and thread count, and
 * the 1-NN accuracy of the targets labelled by their nearest prototype next
 * to a random selection and a k-centre (farthest-first) selection of the
 * same size. Then the per-batch modes: B = 512 rows of d = 1024, 25%,
 * milliseconds per batch for UniPROT-PB without and with re-solves and
 * UniPROT-PS over 8 sources. Last, issue 15's interactive workload
 * (`uniprot_interactive`): k = 100 among the first 10,000 training images
 * for 4,999 test images (class c in proportion to 0.85^c, the first of
 * each class), both scaled to [0, 1] minus the training images' mean,
 * cosine, reg 0.1, on 2 threads: seconds from the features to the
 * selection (similarity and select) for lazy, naive and stochastic
 * greedy, next to the targets, and naive greedy again with
 * gain_memory 0 (each gain makes its row's weights again), whose line
 * has `kept_speedup`: its seconds over the first naive run's. One JSON
 * object per line;
 * SUBSEL_BENCH_PARTS=fashion,batch,interactive picks parts (default all);
 * SUBSEL_BENCH_SCALE scales the image counts; the dataset folder can be
 * given as argv[1].
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "core/rng.h"
#include "subsel.h"
#include "fashion_mnist.h"

#define DIM FASHION_MNIST_PIXELS
#define CLASSES FASHION_MNIST_CLASSES

/* Training images as floats and their labels as int64 (the library's
 * label type); the item count, 0 when the dataset is missing. */
static int64_t load_train(const char *dir, float **pix, int64_t **labels)
{
    int64_t n = 0, n_labels = 0, i;
    unsigned char *px = fashion_mnist_read(dir, "train-images-idx3-ubyte.gz", 3, DIM, 0, &n);
    unsigned char *lab = fashion_mnist_read(dir, "train-labels-idx1-ubyte.gz", 1, 1, 0, &n_labels);
    if (px == NULL || lab == NULL || n != n_labels) {
        free(px);
        free(lab);
        return 0;
    }
    *pix = fashion_mnist_floats(px, n);
    *labels = malloc((size_t)n * sizeof **labels);
    for (i = 0; i < n; i++)
        (*labels)[i] = lab[i];
    free(px);
    free(lab);
    return n;
}

/* Farthest-first traversal (k-centre greedy) under cosine distance,
 * starting from row 0. */
static void k_centre(const float *x, int64_t n, int64_t k, int64_t *out)
{
    double *best = malloc((size_t)n * sizeof *best), *norm = malloc((size_t)n * sizeof *norm);
    int64_t i, c, d;
    for (i = 0; i < n; i++) {
        double s = 0;
        for (d = 0; d < DIM; d++)
            s += (double)x[i * DIM + d] * x[i * DIM + d];
        norm[i] = sqrt(s) > 0 ? sqrt(s) : 1.0;
        best[i] = INFINITY;
    }
    out[0] = 0;
    for (c = 0; c < k; c++) {
        int64_t far = 0;
        const float *p = x + out[c] * DIM;
        for (i = 0; i < n; i++) {
            double dot = 0, dist;
            for (d = 0; d < DIM; d++)
                dot += (double)x[i * DIM + d] * p[d];
            dist = 1.0 - dot / (norm[i] * norm[out[c]]);
            best[i] = dist < best[i] ? dist : best[i];
            if (best[i] > best[far])
                far = i;
        }
        if (c + 1 < k)
            out[c + 1] = far;
    }
    free(best);
    free(norm);
}

static double accuracy(subsel_ctx *ctx, const subsel_dense *src,
                       const int64_t *slab, const int64_t *protos, int64_t k,
                       const subsel_dense *tgt, const int64_t *tlab)
{
    double acc = NAN;
    subsel_nn_accuracy(ctx, src, slab, protos, k, tgt, tlab, SUBSEL_SIM_COSINE, &acc);
    return acc;
}

/* How many images of class c a target of `total` images takes when class
 * c's share is proportional to ratio^c (rounded). */
static void class_counts(double ratio, double total, int64_t *per_class)
{
    double norm = 0.0;
    int c;
    for (c = 0; c < CLASSES; c++)
        norm += pow(ratio, (double)c);
    for (c = 0; c < CLASSES; c++)
        per_class[c] = (int64_t)floor(total * pow(ratio, (double)c) / norm + 0.5);
}

/* k prototypes by `algo` from the features, with gain_memory (< 0: the
 * default), timed: the similarity's seconds to *t_sim and the whole call's
 * to *secs (stages "build", then "select"). Returns the status; *obj and
 * *sel are the caller's to free. */
static int uniprot_from_features(subsel_ctx *ctx, const subsel_dense *src,
                                 const subsel_dense *tgt, int64_t k, double reg,
                                 int algo, int64_t gain_memory, subsel_objective **obj,
                                 subsel_selection **sel, double *t_sim, double *secs)
{
    subsel_optimizer *opt = NULL;
    double t0;
    int rc;
    stages_begin("build");
    t0 = bench_now();
    rc = subsel_uniprot_create_from_features(ctx, src, tgt, SUBSEL_SIM_COSINE, k, reg, obj);
    if (rc == SUBSEL_OK && gain_memory >= 0) /* < 0: the library's default */
        rc = subsel_param_set_int(ctx, *obj, SUBSEL_P_UNIPROT_GAIN_MEMORY, gain_memory);
    *t_sim = bench_now() - t0;
    if (rc == SUBSEL_OK) {
        stages_begin("select");
        subsel_optimizer_create(ctx, algo, &opt);
        subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, k);
        subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0);
        rc = subsel_optimizer_run(ctx, opt, *obj, sel);
        subsel_optimizer_free(opt);
    }
    *secs = bench_now() - t0;
    return rc;
}

static void fashion(const char *dir)
{
    float *pix = NULL;
    int64_t *lab = NULL, total, i;
    double scale = bench_scale();
    int64_t ns = (int64_t)(10000 * scale), nt_goal = (int64_t)(10000 * scale), k = 100;
    int64_t per_class[CLASSES], taken[CLASSES] = {0}, nt = 0;
    float *tpix;
    int64_t *slab, *tlab, *protos = malloc((size_t)k * sizeof *protos);
    subsel_ctx *ctx;
    subsel_dense *src, *tgt;
    double t0;
    stages_begin("load");
    total = load_train(dir, &pix, &lab);
    stages_begin("build");
    if (total == 0) {
        printf("{\"bench\":\"uniprot_fashion_mnist\",\"skipped\":\"no dataset in %s\"", dir);
        bench_end_line();
        free(pix);
        free(lab);
        free(protos);
        return;
    }
    class_counts(0.7, (double)nt_goal, per_class);
    tpix = malloc((size_t)(nt_goal + CLASSES) * DIM * sizeof *tpix);
    tlab = malloc((size_t)(nt_goal + CLASSES) * sizeof *tlab);
    for (i = ns; i < total; i++) {
        int64_t l = lab[i];
        if (taken[l] < per_class[l]) {
            memcpy(tpix + nt * DIM, pix + i * DIM, DIM * sizeof *tpix);
            tlab[nt++] = l;
            taken[l]++;
        }
    }
    slab = lab;
    subsel_ctx_create(&ctx);
    subsel_dense_create(ctx, ns, DIM, pix, SUBSEL_BORROW, &src);
    subsel_dense_create(ctx, nt, DIM, tpix, SUBSEL_BORROW, &tgt);

    {
        const int algos[2] = {SUBSEL_OPT_STOCHASTIC, SUBSEL_OPT_NAIVE};
        const char *names[2] = {"stochastic", "naive"};
        int a, t;
        for (a = 0; a < 2; a++) {
            for (t = 1; t <= 2; t++) {
                subsel_objective *obj = NULL;
                subsel_selection *sel = NULL;
                double t_sim, secs, acc = NAN;
                int rc;
                subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, t);
                rc = uniprot_from_features(ctx, src, tgt, k, 0.01, algos[a], -1, &obj, &sel,
                                           &t_sim, &secs);
                stages_begin("evaluate");
                if (rc == SUBSEL_OK)
                    acc = accuracy(ctx, src, slab, subsel_selection_indices(sel), k, tgt, tlab);
                printf("{\"bench\":\"uniprot_fashion_mnist\",\"source\":%lld,\"target\":%lld,"
                       "\"k\":%lld,\"reg\":0.01,\"gain\":\"approx\",\"optimizer\":\"%s\","
                       "\"threads\":%d,\"status\":%d,\"seconds\":%.3f,"
                       "\"similarity_seconds\":%.3f,\"objective\":%.6f,"
                       "\"gains_evaluated\":%lld,\"nn_accuracy\":%.4f",
                       (long long)ns, (long long)nt, (long long)k, names[a], t, rc,
                       secs, t_sim, subsel_selection_value(sel),
                       (long long)subsel_selection_evaluations(sel), acc);
                bench_end_line();
                if (rc != SUBSEL_OK)
                    fprintf(stderr, "uniprot: %s\n", subsel_ctx_last_error(ctx));
                subsel_selection_free(sel);
                subsel_objective_free(obj);
            }
        }
    }
    {
        /* Baselines of the same size. */
        ss_rng rng;
        int64_t *perm = malloc((size_t)ns * sizeof *perm);
        double secs, acc;
        stages_begin("select");
        ss_rng_seed(&rng, 1, 0);
        for (i = 0; i < ns; i++)
            perm[i] = i;
        for (i = 0; i < k; i++) {
            int64_t j = i + (int64_t)ss_rng_below(&rng, (uint64_t)(ns - i)), tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        stages_begin("evaluate");
        acc = accuracy(ctx, src, slab, perm, k, tgt, tlab);
        printf("{\"bench\":\"uniprot_fashion_mnist_baseline\",\"method\":\"random\",\"k\":%lld,"
               "\"nn_accuracy\":%.4f", (long long)k, acc);
        bench_end_line();
        stages_begin("select");
        t0 = bench_now();
        k_centre(pix, ns, k, protos);
        secs = bench_now() - t0;
        stages_begin("evaluate");
        acc = accuracy(ctx, src, slab, protos, k, tgt, tlab);
        printf("{\"bench\":\"uniprot_fashion_mnist_baseline\",\"method\":\"k-centre\",\"k\":%lld,"
               "\"seconds\":%.3f,\"nn_accuracy\":%.4f", (long long)k, secs, acc);
        bench_end_line();
        free(perm);
    }
    subsel_dense_free(src);
    subsel_dense_free(tgt);
    subsel_ctx_free(ctx);
    free(pix), free(lab), free(tpix), free(tlab), free(protos);
}

/* The per-batch modes on one configuration: UniPROT-PB with appended
 * plans (the fast mode) and with re-solves (the paper's), and UniPROT-PS
 * over 8 sources of 64 rows, re-solved; milliseconds per batch, the same
 * batches for each mode (alternating, the machine is noisy). */
static void per_batch(void)
{
    static const struct {
        const char *mode;
        int sources, update;
    } modes[] = {
        {"per-batch", 0, SUBSEL_UNIPROT_UPDATE_APPEND},
        {"per-batch", 0, SUBSEL_UNIPROT_UPDATE_SOLVE},
        {"per-source", 1, SUBSEL_UNIPROT_UPDATE_SOLVE},
    };
    enum { MODES = sizeof modes / sizeof modes[0] };
    const int64_t b = 512, d = 1024;
    float *x = malloc((size_t)(b * d) * sizeof *x);
    int64_t *sources = malloc((size_t)b * sizeof *sources);
    subsel_ctx *ctx;
    ss_rng rng;
    int t, rep, m, reps = 5;
    int64_t i;
    subsel_ctx_create(&ctx);
    ss_rng_seed(&rng, 3, 0);
    for (i = 0; i < b; i++) /* the 8 row patterns below are the sources */
        sources[i] = i % 8;
    for (t = 1; t <= 2; t++) {
        double total[MODES] = {0}, best[MODES], value[MODES] = {0};
        int rc[MODES] = {0};
        for (m = 0; m < MODES; m++)
            best[m] = INFINITY;
        subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, t);
        for (rep = 0; rep < reps; rep++) {
            subsel_dense *batch;
            /* Gradient-like rows: a few shared directions plus noise. */
            stages_begin("build");
            for (i = 0; i < b * d; i++)
                x[i] = (float)(ss_rng_normal(&rng) * 0.5 + ((i / d) % 8 == (i % d) % 8 ? 1.0 : 0.0));
            subsel_dense_create(ctx, b, d, x, SUBSEL_BORROW, &batch);
            for (m = 0; m < MODES; m++) {
                subsel_selection *sel = NULL;
                double t0, s;
                stages_begin("select");
                t0 = bench_now();
                rc[m] = subsel_uniprot_select_batch_v2(ctx, batch, modes[m].sources ? sources : NULL,
                                                       0.25, 0.01, SUBSEL_SIM_COSINE,
                                                       modes[m].update, &sel);
                s = bench_now() - t0;
                total[m] += s;
                best[m] = s < best[m] ? s : best[m];
                value[m] = subsel_selection_value(sel);
                subsel_selection_free(sel);
            }
            subsel_dense_free(batch);
        }
        for (m = 0; m < MODES; m++) { /* the first line has every mode's stages */
            printf("{\"bench\":\"uniprot_batch\",\"mode\":\"%s\",\"update\":\"%s\","
                   "\"batch\":%lld,\"dim\":%lld,\"fraction\":0.25,\"reg\":0.01,\"threads\":%d,"
                   "\"status\":%d,\"ms_per_batch\":%.2f,\"best_ms\":%.2f,\"value\":%.6f",
                   modes[m].mode,
                   modes[m].update == SUBSEL_UNIPROT_UPDATE_SOLVE ? "solve" : "append",
                   (long long)b, (long long)d, t, rc[m], 1e3 * total[m] / reps,
                   1e3 * best[m], value[m]);
            bench_end_line();
        }
    }
    subsel_ctx_free(ctx);
    free(x);
    free(sources);
}

/* Issue 15's UniPROT workload (see the top of the file). */
static void interactive(const char *dir)
{
    /* the last run: naive again, without kept weights */
    const int algos[4] = {SUBSEL_OPT_LAZY, SUBSEL_OPT_NAIVE, SUBSEL_OPT_STOCHASTIC,
                          SUBSEL_OPT_NAIVE};
    const char *names[4] = {"lazy", "naive", "stochastic", "naive"};
    const double targets[4] = {1.0, 3.0, NAN, 3.0};
    double secs_of[4] = {0};
    char line[1024];
    double scale = bench_scale(), *mean = calloc(DIM, sizeof *mean);
    int64_t ns = (int64_t)(10000 * scale), want[CLASSES], taken[CLASSES] = {0};
    int64_t n_train = 0, n_test = 0, n_labels = 0, nt = 0, i, d, k = 100;
    unsigned char *train, *test, *lab;
    float *src = NULL, *tgt = NULL, *all = NULL;
    subsel_ctx *ctx = NULL;
    subsel_dense *s = NULL, *t = NULL;
    int a;
    stages_begin("load");
    train = fashion_mnist_read(dir, "train-images-idx3-ubyte.gz", 3, DIM, ns, &n_train);
    test = fashion_mnist_read(dir, "t10k-images-idx3-ubyte.gz", 3, DIM, 0, &n_test);
    lab = fashion_mnist_read(dir, "t10k-labels-idx1-ubyte.gz", 1, 1, 0, &n_labels);
    stages_begin("build");
    if (train == NULL || test == NULL || lab == NULL || n_test != n_labels || n_train < ns) {
        printf("{\"bench\":\"uniprot_interactive\",\"skipped\":\"no dataset in %s\"", dir);
        bench_end_line();
        goto done;
    }
    class_counts(0.85, 5000.0 * scale, want);
    src = fashion_mnist_floats(train, ns);
    all = fashion_mnist_floats(test, n_test);
    tgt = malloc((size_t)n_test * DIM * sizeof *tgt);
    for (i = 0; i < ns * DIM; i++)
        mean[i % DIM] += src[i];
    for (d = 0; d < DIM; d++)
        mean[d] /= (double)ns;
    for (i = 0; i < n_test; i++)
        if (taken[lab[i]] < want[lab[i]]) {
            taken[lab[i]]++;
            memcpy(tgt + nt++ * DIM, all + i * DIM, DIM * sizeof *tgt);
        }
    for (i = 0; i < ns * DIM; i++)
        src[i] = (float)(src[i] - mean[i % DIM]);
    for (i = 0; i < nt * DIM; i++)
        tgt[i] = (float)(tgt[i] - mean[i % DIM]);
    subsel_ctx_create(&ctx);
    subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, 2);
    subsel_dense_create(ctx, ns, DIM, src, SUBSEL_BORROW, &s);
    subsel_dense_create(ctx, nt, DIM, tgt, SUBSEL_BORROW, &t);
    for (a = 0; a < 4; a++) {
        subsel_objective *obj = NULL;
        subsel_selection *sel = NULL;
        double t_sim;
        int64_t memory = a == 3 ? 0 : -1;
        int rc = uniprot_from_features(ctx, s, t, k, 0.1, algos[a], memory, &obj, &sel, &t_sim,
                                       &secs_of[a]);
        if (rc == SUBSEL_OK) /* the value the run had, for the line */
            subsel_param_get_int(ctx, obj, SUBSEL_P_UNIPROT_GAIN_MEMORY, &memory);
        snprintf(line, sizeof line,
                 "{\"bench\":\"uniprot_interactive\",\"source\":%lld,\"target\":%lld,"
                 "\"k\":%lld,\"reg\":0.1,\"optimizer\":\"%s\",\"gain_memory\":%lld,"
                 "\"threads\":2,\"status\":%d,\"seconds\":%.3f,\"similarity_seconds\":%.3f,"
                 "\"objective\":%.9f,\"gains_evaluated\":%lld",
                 (long long)ns, (long long)nt, (long long)k, names[a], (long long)memory, rc,
                 secs_of[a], t_sim, subsel_selection_value(sel),
                 (long long)subsel_selection_evaluations(sel));
        fputs(line, stdout);
        if (!isnan(targets[a]))
            printf(",\"target_seconds\":%.1f", targets[a]);
        if (a == 3 && secs_of[1] > 0.0)
            printf(",\"kept_speedup\":%.2f", secs_of[3] / secs_of[1]);
        bench_end_line();
        if (rc != SUBSEL_OK)
            fprintf(stderr, "uniprot: %s\n", subsel_ctx_last_error(ctx));
        subsel_selection_free(sel);
        subsel_objective_free(obj);
    }
done:
    subsel_dense_free(s);
    subsel_dense_free(t);
    subsel_ctx_free(ctx);
    free(src);
    free(tgt);
    free(all);
    free(mean);
    free(train);
    free(test);
    free(lab);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    if (bench_wanted("fashion"))
        fashion(dir);
    if (bench_wanted("batch"))
        per_batch();
    if (bench_wanted("interactive"))
        interactive(dir);
    return 0;
}
