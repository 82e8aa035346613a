/* SPDX-License-Identifier: MIT */
/*
 * Acceptance check of LoRS (issue 14) on real images: Fashion-MNIST
 * (Debian's dataset-fashion-mnist) cut into two views that stand for an
 * image and its caption, the top half and the bottom half of each image,
 * each reduced to `dim` columns by its own fixed Gaussian projection
 * (fashion_mnist_two_views); retrieval means finding the other half of the
 * same image. For each seed (the context's seed) the program trains expert
 * towers on a training pool, distils `pairs` synthetic pairs with the
 * learned low-rank similarity S~ (LoRS) and, from the same start, with S
 * fixed to I (the "no similarity mining" ablation), and evaluates both,
 * and `pairs` random real pairs (S = I, step expert_lr), by training fresh
 * towers and measuring the six recalls at 1, 5, 10 on held-out test pairs;
 * k-centre and herding selections too with baselines=1. It prints one JSON
 * line per method and seed, one per method with the mean and standard
 * deviation over the seeds, and a verdict line with the margins; it exits
 * 0 only when LoRS's mean recall (the average of the six, averaged over
 * the seeds) is above both random's and the S = I distillation's. The
 * evaluation trains for about as long as the distillation matched (10
 * epochs of plain SGD on batches of 20): trained much longer, the S = I
 * set overtakes the LoRS one (docs/lors_acceptance.md has the numbers).
 *
 *   lors_fashion_mnist [DATA_DIR] [--write-views DIR] [NAME=VALUE ...]
 *
 * --write-views DIR (created if missing) also writes the views the program uses as
 * train_images.npy, train_texts.npy, test_images.npy, test_texts.npy
 * (float32; with seeds=0 it stops there). NAME is one of the settings in
 * the table `knobs` below: the run's (seed: the first seed, seeds, train,
 * test, dim, view_seed, iterations, threads, baselines, work: the folder
 * for the expert buffers, log: a file for the distillation's JSON log)
 * and the handle's parameters under their subsel names (lr_image, rank,
 * loss, ...). docs/lors_acceptance.md gives the defaults' reasons and the
 * measured results. Exit code 77 when the data is missing (a skipped test).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <subsel.h>

#include "fashion_mnist.h"

/* A setting: a handle parameter (param > 0) or one of the program's. The
 * defaults are those docs/lors_acceptance.md chose: eNCE, small learning
 * rates for the synthetic set (the handle's defaults diverge on these
 * embeddings), and an evaluation that trains the way the distillation's
 * student does (plain SGD, batches of `batch`, about as many steps as the
 * matched stretch of the experts' training). One thread: the towers are
 * 64 wide, so a second gains nothing, and on a busy machine two threads
 * once made the experts' training 20 times slower. */
typedef struct knob {
    const char *name;
    int param; /* SUBSEL_P_LORS_*, 0 for the program's own */
    int real;
    double value;
} knob;

enum { SEED, SEEDS, TRAIN, TEST, DIM, VIEW_SEED, ITERATIONS, THREADS, BASELINES, OWN_KNOBS };

static knob knobs[] = {
    {"seed", 0, 0, 1},
    {"seeds", 0, 0, 3},
    {"train", 0, 0, 10000},
    {"test", 0, 0, 1000},
    {"dim", 0, 0, 64},
    {"view_seed", 0, 0, 14},
    {"iterations", 0, 0, 1000},
    {"threads", 0, 0, 1},
    {"baselines", 0, 0, 0},
    {"tower", SUBSEL_P_LORS_TOWER, 0, SUBSEL_LORS_TOWER_LINEAR},
    {"embed_dim", SUBSEL_P_LORS_EMBED_DIM, 0, 64},
    {"loss", SUBSEL_P_LORS_LOSS, 0, SUBSEL_LORS_LOSS_ENCE},
    {"temperature", SUBSEL_P_LORS_TEMPERATURE, 1, 0.07},
    {"rank", SUBSEL_P_LORS_RANK, 0, 10},
    {"alpha", SUBSEL_P_LORS_ALPHA, 1, 1},
    {"pairs", SUBSEL_P_LORS_PAIRS, 0, 100},
    {"syn_steps", SUBSEL_P_LORS_SYN_STEPS, 0, 8},
    {"expert_epochs", SUBSEL_P_LORS_EXPERT_EPOCHS, 0, 1},
    {"max_start_epoch", SUBSEL_P_LORS_MAX_START_EPOCH, 0, 2},
    {"batch", SUBSEL_P_LORS_BATCH, 0, 20},
    {"lr_image", SUBSEL_P_LORS_LR_IMAGE, 1, 1},
    {"lr_text", SUBSEL_P_LORS_LR_TEXT, 1, 1},
    {"lr_sim", SUBSEL_P_LORS_LR_SIM, 1, 1},
    {"lr_lr", SUBSEL_P_LORS_LR_LR, 1, 1e-5},
    {"momentum", SUBSEL_P_LORS_MOMENTUM, 1, 0.5},
    {"expert_lr", SUBSEL_P_LORS_EXPERT_LR, 1, 0.1},
    {"expert_batch", SUBSEL_P_LORS_EXPERT_BATCH, 0, 128},
    {"buffer_epochs", SUBSEL_P_LORS_BUFFER_EPOCHS, 0, 4},
    {"experts", SUBSEL_P_LORS_EXPERTS, 0, 5},
    {"eval_epochs", SUBSEL_P_LORS_EVAL_EPOCHS, 0, 10},
    {"eval_batch", SUBSEL_P_LORS_EVAL_BATCH, 0, 20},
    {"eval_momentum", SUBSEL_P_LORS_EVAL_MOMENTUM, 1, 0},
    {"eval_weight_decay", SUBSEL_P_LORS_EVAL_WEIGHT_DECAY, 1, 0},
};
#define KNOBS ((int)(sizeof knobs / sizeof knobs[0]))
#define SETTING(i) ((int64_t)knobs[i].value)

#define MAX_SEEDS 100

enum { LORS, IDENTITY, RANDOM, KCENTER, HERDING, METHODS };
static const char *const method_names[METHODS] = {"lors", "lors_sim_identity", "random",
                                                  "kcenter", "herding"};
static const char *const recall_names[SUBSEL_LORS_RECALLS] = {"ir1", "ir5", "ir10",
                                                              "tr1", "tr5", "tr10"};

/* The views: [0] images (top halves), [1] texts (bottom halves). */
typedef struct views {
    int64_t train, test, dim;
    float *train_views[2], *test_views[2];
} views;

static int failed(subsel_ctx *ctx, int rc, const char *what)
{
    if (rc != SUBSEL_OK)
        fprintf(stderr, "lors_fashion_mnist: %s: %s (%s)\n", what, subsel_status_string(rc),
                ctx ? subsel_ctx_last_error(ctx) : "");
    return rc != SUBSEL_OK;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

static double mean_recall(const double *recalls)
{
    double s = 0;
    int k;
    for (k = 0; k < SUBSEL_LORS_RECALLS; k++)
        s += recalls[k];
    return s / SUBSEL_LORS_RECALLS;
}

/* A handle with every parameter of the table and the given similarity. */
static int make_handle(subsel_ctx *ctx, int64_t dim, int similarity, subsel_lors **out)
{
    int i;
    if (failed(ctx, subsel_lors_create(ctx, dim, dim, out), "create"))
        return 1;
    for (i = OWN_KNOBS; i < KNOBS; i++)
        if (failed(ctx,
                   knobs[i].real ? subsel_param_set_real(ctx, *out, knobs[i].param, knobs[i].value)
                                 : subsel_param_set_int(ctx, *out, knobs[i].param, SETTING(i)),
                   knobs[i].name))
            return 1;
    return failed(ctx, subsel_param_set_int(ctx, *out, SUBSEL_P_LORS_SIMILARITY, similarity),
                  "similarity");
}

/* Distils with one similarity kind from the buffer and evaluates the
 * distilled set. */
static int distill_and_evaluate(subsel_ctx *ctx, const views *v, subsel_dense *const train[2],
                                subsel_dense *const test[2], const char *buffer, int similarity,
                                const char *log, double *recalls)
{
    subsel_lors *l = NULL;
    float *sim = NULL;
    double eta[2], loss, diag = 0, off = 0, negative = 0;
    int64_t pairs = 0, i, j;
    int rc = 1;
    if (make_handle(ctx, v->dim, similarity, &l) ||
        failed(ctx, subsel_lors_distill(ctx, l, train[0], train[1], buffer, SETTING(ITERATIONS), log),
               "distill") ||
        failed(ctx, subsel_lors_evaluate(ctx, l, NULL, NULL, NULL, 0, 0, test[0], test[1], NULL, recalls),
               "evaluate") ||
        failed(ctx, subsel_lors_eta(ctx, l, &eta[0], &eta[1]), "eta") ||
        failed(ctx, subsel_lors_last_loss(ctx, l, &loss), "loss") ||
        failed(ctx, subsel_param_get_int(ctx, l, SUBSEL_P_LORS_PAIRS, &pairs), "pairs"))
        goto done;
    /* what was learned, on stderr: the step sizes and the size of S~'s
     * diagonal and of its off-diagonal entries */
    sim = malloc(sizeof *sim * (size_t)(pairs * pairs));
    if (sim == NULL || failed(ctx, subsel_lors_similarity(ctx, l, sim), "similarity"))
        goto done;
    for (i = 0; i < pairs; i++)
        for (j = 0; j < pairs; j++)
            if (i == j)
                diag += sim[i * pairs + j] / (double)pairs;
            else {
                off += fabs(sim[i * pairs + j]) / (double)(pairs * (pairs - 1));
                negative += (sim[i * pairs + j] < 0) / (double)(pairs * (pairs - 1));
            }
    fprintf(stderr,
            "lors_fashion_mnist: %s: last matching loss %.4f, eta %.4f / %.4f, S~ mean diagonal "
            "%.4f, mean |off-diagonal| %.4f (%.0f %% of them negative)\n",
            method_names[similarity == SUBSEL_LORS_SIM_IDENTITY ? IDENTITY : LORS], loss, eta[0],
            eta[1], diag, off, 100 * negative);
    rc = 0;
done:
    free(sim);
    subsel_lors_free(l);
    return rc;
}

/* Evaluates `count` real pairs chosen by a baseline (S = I, expert_lr). */
static int baseline(subsel_ctx *ctx, const views *v, subsel_lors *l, int method,
                    subsel_dense *const train[2], subsel_dense *const test[2], double *recalls)
{
    int64_t count = 0, i, s;
    int64_t *pick = NULL;
    float *rows[2] = {NULL, NULL};
    subsel_dense *chosen[2] = {NULL, NULL};
    int rc = 1;
    if (failed(ctx, subsel_param_get_int(ctx, l, SUBSEL_P_LORS_PAIRS, &count), "pairs"))
        return 1;
    pick = malloc(sizeof *pick * (size_t)count);
    rows[0] = malloc(sizeof(float) * (size_t)(count * v->dim));
    rows[1] = malloc(sizeof(float) * (size_t)(count * v->dim));
    if (pick == NULL || rows[0] == NULL || rows[1] == NULL)
        goto done;
    if (failed(ctx, subsel_lors_baseline(ctx, l, method, train[0], train[1], count, pick), "baseline"))
        goto done;
    for (s = 0; s < 2; s++) {
        for (i = 0; i < count; i++)
            memcpy(rows[s] + i * v->dim, v->train_views[s] + pick[i] * v->dim,
                   sizeof(float) * (size_t)v->dim);
        if (failed(ctx, subsel_dense_create(ctx, count, v->dim, rows[s], SUBSEL_OWN_BORROW, &chosen[s]),
                   "pairs"))
            goto done;
    }
    rc = failed(ctx, subsel_lors_evaluate(ctx, l, chosen[0], chosen[1], NULL, 0, 0, test[0], test[1],
                                          NULL, recalls),
                "evaluate");
done:
    subsel_dense_free(chosen[0]);
    subsel_dense_free(chosen[1]);
    free(rows[0]);
    free(rows[1]);
    free(pick);
    return rc;
}

/* Removes a buffer folder of `experts` trajectories. */
static void remove_buffer(const char *dir, int64_t experts)
{
    char path[4200];
    int64_t e;
    for (e = 0; e < experts; e++) {
        snprintf(path, sizeof path, "%s/expert_%04lld.npy", dir, (long long)e);
        remove(path);
    }
    snprintf(path, sizeof path, "%s/meta.npy", dir);
    remove(path);
    rmdir(dir);
}

static void print_run(int64_t seed, int method, const double *recalls, double seconds)
{
    int k;
    printf("{\"example\":\"lors_fashion_mnist\",\"seed\":%lld,\"method\":\"%s\"", (long long)seed,
           method_names[method]);
    for (k = 0; k < SUBSEL_LORS_RECALLS; k++)
        printf(",\"%s\":%.4f", recall_names[k], recalls[k]);
    printf(",\"mean\":%.4f,\"seconds\":%.1f}\n", mean_recall(recalls), seconds);
    fflush(stdout);
}

/* One seed: experts, both distillations, the baselines; recalls[method]. */
static int run_seed(const views *v, int64_t seed, const char *work, const char *log,
                    double recalls[METHODS][SUBSEL_LORS_RECALLS])
{
    subsel_ctx *ctx = NULL;
    subsel_lors *l = NULL;
    subsel_dense *train[2] = {NULL, NULL}, *test[2] = {NULL, NULL};
    char buffer[4096];
    struct timespec t0;
    int64_t experts = 0;
    int rc = 1, s, method;

    snprintf(buffer, sizeof buffer, "%s/lors-experts-%lld", work, (long long)seed);
    if (failed(NULL, subsel_ctx_create(&ctx), "context") ||
        failed(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_SEED, seed), "seed") ||
        (SETTING(THREADS) > 0 &&
         failed(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, SETTING(THREADS)), "threads")))
        goto done;
    for (s = 0; s < 2; s++)
        if (failed(ctx, subsel_dense_create(ctx, v->train, v->dim, v->train_views[s], SUBSEL_OWN_BORROW,
                                            &train[s]), "train") ||
            failed(ctx, subsel_dense_create(ctx, v->test, v->dim, v->test_views[s], SUBSEL_OWN_BORROW,
                                            &test[s]), "test"))
            goto done;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (make_handle(ctx, v->dim, SUBSEL_LORS_SIM_LOWRANK, &l) ||
        failed(ctx, subsel_param_get_int(ctx, l, SUBSEL_P_LORS_EXPERTS, &experts), "experts") ||
        failed(ctx, subsel_lors_buffer(ctx, l, train[0], train[1], buffer, NULL), "buffer"))
        goto done;
    fprintf(stderr, "lors_fashion_mnist: seed %lld: experts trained in %.1f s\n", (long long)seed,
            seconds_since(&t0));
    for (method = 0; method < METHODS; method++) {
        if (method >= KCENTER && !SETTING(BASELINES))
            continue;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (method == LORS || method == IDENTITY) {
            if (distill_and_evaluate(ctx, v, train, test, buffer,
                                     method == LORS ? SUBSEL_LORS_SIM_LOWRANK : SUBSEL_LORS_SIM_IDENTITY,
                                     log, recalls[method]))
                goto done;
        } else if (baseline(ctx, v, l,
                            method == RANDOM    ? SUBSEL_LORS_BASELINE_RANDOM
                            : method == KCENTER ? SUBSEL_LORS_BASELINE_KCENTER
                                                : SUBSEL_LORS_BASELINE_HERDING,
                            train, test, recalls[method])) {
            goto done;
        }
        print_run(seed, method, recalls[method], seconds_since(&t0));
    }
    rc = 0;
done:
    remove_buffer(buffer, experts);
    subsel_lors_free(l);
    for (s = 0; s < 2; s++) {
        subsel_dense_free(train[s]);
        subsel_dense_free(test[s]);
    }
    subsel_ctx_free(ctx);
    return rc;
}

/* Mean and sample standard deviation of x[0 .. n) (a stride apart). */
static void spread(const double *x, int64_t n, int64_t stride, double *mean, double *sd)
{
    double s = 0, q = 0;
    int64_t i;
    for (i = 0; i < n; i++)
        s += x[i * stride];
    *mean = s / (double)n;
    for (i = 0; i < n; i++)
        q += (x[i * stride] - *mean) * (x[i * stride] - *mean);
    *sd = n > 1 ? sqrt(q / (double)(n - 1)) : 0.0;
}

static int write_views(const views *v, const char *dir)
{
    static const char *const names[2][2] = {{"train_images.npy", "train_texts.npy"},
                                            {"test_images.npy", "test_texts.npy"}};
    subsel_ctx *ctx = NULL;
    subsel_dense *d = NULL;
    char path[4200];
    int set, s, rc = 1;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "lors_fashion_mnist: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (failed(NULL, subsel_ctx_create(&ctx), "context"))
        return 1;
    for (set = 0; set < 2; set++)
        for (s = 0; s < 2; s++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[set][s]);
            if (failed(ctx, subsel_dense_create(ctx, set ? v->test : v->train, v->dim,
                                                set ? v->test_views[s] : v->train_views[s],
                                                SUBSEL_OWN_BORROW, &d), "views") ||
                failed(ctx, subsel_dense_save_npy(ctx, d, path), path))
                goto done;
            subsel_dense_free(d);
            d = NULL;
        }
    rc = 0;
done:
    subsel_dense_free(d);
    subsel_ctx_free(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    const char *data = FASHION_MNIST_DIR, *views_dir = NULL, *work = NULL, *log = NULL;
    char work_made[] = "/tmp/lors-fashion-mnist-XXXXXX";
    unsigned char *train_px = NULL, *test_px = NULL;
    double *recalls = NULL, m[METHODS], sd;
    int64_t n_train, n_test, seeds, i;
    views v = {0};
    struct timespec t0;
    int a, k, method, status = 1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (a = 1; a < argc; a++) {
        const char *eq = strchr(argv[a], '=');
        size_t len = eq ? (size_t)(eq - argv[a]) : 0;
        if (strcmp(argv[a], "--write-views") == 0 && a + 1 < argc) {
            views_dir = argv[++a];
            continue;
        }
        if (eq == NULL && a == 1) {
            data = argv[a];
            continue;
        }
        if (eq && len == 4 && strncmp(argv[a], "work", 4) == 0) {
            work = eq + 1;
            continue;
        }
        if (eq && len == 3 && strncmp(argv[a], "log", 3) == 0) {
            log = eq + 1;
            continue;
        }
        for (k = 0; k < KNOBS; k++)
            if (eq && len == strlen(knobs[k].name) && strncmp(argv[a], knobs[k].name, len) == 0)
                break;
        if (k == KNOBS) {
            fprintf(stderr, "lors_fashion_mnist: unknown argument %s\n", argv[a]);
            return 2;
        }
        knobs[k].value = atof(eq + 1);
    }

    train_px = fashion_mnist_read(data, "train-images-idx3-ubyte.gz", 3, FASHION_MNIST_PIXELS, 0, &n_train);
    test_px = fashion_mnist_read(data, "t10k-images-idx3-ubyte.gz", 3, FASHION_MNIST_PIXELS, 0, &n_test);
    if (train_px == NULL || test_px == NULL) {
        fprintf(stderr, "Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist)\n", data);
        status = 77;
        goto done;
    }
    v.train = SETTING(TRAIN) < n_train ? SETTING(TRAIN) : n_train;
    v.test = SETTING(TEST) < n_test ? SETTING(TEST) : n_test;
    v.dim = SETTING(DIM);
    seeds = SETTING(SEEDS);
    if (v.train < 2 || v.test < 10 || v.dim < 1 || seeds < 0 || seeds > MAX_SEEDS) {
        fprintf(stderr, "lors_fashion_mnist: need train >= 2, test >= 10, dim >= 1, "
                        "seeds in [0, %d]\n", MAX_SEEDS);
        status = 2;
        goto done;
    }
    for (k = 0; k < 2; k++) {
        v.train_views[k] = malloc(sizeof(float) * (size_t)(v.train * v.dim));
        v.test_views[k] = malloc(sizeof(float) * (size_t)(v.test * v.dim));
        if (v.train_views[k] == NULL || v.test_views[k] == NULL)
            goto done;
    }
    /* the first v.train images are the pool, the first v.test held out */
    if (fashion_mnist_two_views(train_px, v.train, test_px, v.test, v.dim,
                                (uint64_t)SETTING(VIEW_SEED), v.train_views, v.test_views) != 0 ||
        (views_dir && write_views(&v, views_dir)))
        goto done;
    if (seeds == 0) {
        status = 0;
        goto done;
    }
    if (work == NULL) {
        if (mkdtemp(work_made) == NULL) {
            perror("lors_fashion_mnist: mkdtemp");
            goto done;
        }
        work = work_made;
    }
    recalls = malloc(sizeof *recalls * (size_t)(seeds * METHODS * SUBSEL_LORS_RECALLS));
    if (recalls == NULL)
        goto done;
    for (i = 0; i < seeds; i++)
        if (run_seed(&v, SETTING(SEED) + i, work, log,
                     (double(*)[SUBSEL_LORS_RECALLS])(recalls + i * METHODS * SUBSEL_LORS_RECALLS)))
            goto done;
    /* per method: each recall and the mean recall over the seeds */
    for (method = 0; method < METHODS; method++) {
        double means[MAX_SEEDS];
        if (method >= KCENTER && !SETTING(BASELINES))
            continue;
        printf("{\"example\":\"lors_fashion_mnist\",\"method\":\"%s\",\"seeds\":%lld", method_names[method],
               (long long)seeds);
        for (k = 0; k < SUBSEL_LORS_RECALLS; k++) {
            double mk;
            spread(recalls + method * SUBSEL_LORS_RECALLS + k, seeds, METHODS * SUBSEL_LORS_RECALLS, &mk,
                   &sd);
            printf(",\"%s\":{\"mean\":%.4f,\"sd\":%.4f}", recall_names[k], mk, sd);
        }
        for (i = 0; i < seeds; i++)
            means[i] = mean_recall(recalls + (i * METHODS + method) * SUBSEL_LORS_RECALLS);
        spread(means, seeds, 1, &m[method], &sd);
        printf(",\"mean\":{\"mean\":%.4f,\"sd\":%.4f}}\n", m[method], sd);
    }
    status = m[LORS] > m[RANDOM] && m[LORS] > m[IDENTITY] ? 0 : 1;
    printf("{\"example\":\"lors_fashion_mnist\",\"seeds\":%lld,\"lors\":%.4f,\"random\":%.4f,"
           "\"sim_identity\":%.4f,\"margin_random\":%.4f,\"margin_sim_identity\":%.4f,"
           "\"accepted\":%s,\"seconds\":%.1f}\n",
           (long long)seeds, m[LORS], m[RANDOM], m[IDENTITY], m[LORS] - m[RANDOM], m[LORS] - m[IDENTITY],
           status == 0 ? "true" : "false", seconds_since(&t0));
done:
    if (work == work_made)
        rmdir(work_made);
    for (k = 0; k < 2; k++) {
        free(v.train_views[k]);
        free(v.test_views[k]);
    }
    free(recalls);
    free(train_px);
    free(test_px);
    return status;
}
