/* SPDX-License-Identifier: MIT */
/*
 * LoRS distillation speed (issue 14): seconds per iteration of trajectory
 * matching at the size - 100 synthetic pairs, T = 20 student
 * steps, projection-head towers into e = 256 from 512-dimensional image
 * and text embeddings, wBCE, low-rank similarity (rank 10) - on 1 thread
 * and on all of the context's threads, with the process's peak memory.
 * bench/bench_lors_torch.py runs this and the same iteration in PyTorch in
 * one run and prints the ratio.
 *
 *   build/bench/bench_lors [iterations] [batch] [threads]
 *   (default 5, 20, the context's)
 *
 * One JSON line per thread count:
 *   {"bench":"lors_distill","threads":..,"batch":..,"steps":20,
 *    "embed":256,"blis_arch":..,"seconds_per_iteration":..,"peak_rss_mb":..,
 *    "peak_rss_delta_mb":..}
 * seconds_per_iteration is the median over the iterations of one call
 * (timed between its progress reports); the expert
 * trajectories it matches come from one short expert trained on random
 * pairs first (not timed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "core/blis_arch.h"
#include "core/rng.h"
#include "subsel.h"

#define CHECK(call)                                                            \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != SUBSEL_OK) {                                                \
            fprintf(stderr, "bench_lors: %s: %s\n", #call,                     \
                    subsel_ctx_last_error(ctx));                               \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

enum { PAIRS = 100, STEPS = 20, EMBED = 256, DIM = 512, REAL = 400 };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Stamps the time of every "distill" report: iteration i ends at stamp
 * i + 1 (the first report, 0, comes before the first iteration). */
typedef struct stamps {
    double *at;
    int64_t count;
} stamps;

static int stamp(void *user, const char *stage, int64_t done, int64_t total)
{
    stamps *s = user;
    (void)total;
    if (strcmp(stage, "distill") == 0 && done <= s->count)
        s->at[done] = bench_now();
    return 0;
}

static subsel_dense *random_rows(subsel_ctx *ctx, uint64_t seed, int64_t n,
                                 int64_t d)
{
    float *x = malloc(sizeof *x * (size_t)(n * d));
    subsel_dense *m = NULL;
    ss_rng rng;
    int64_t i;
    ss_rng_seed(&rng, seed, 1);
    for (i = 0; i < n * d; i++)
        x[i] = (float)ss_rng_normal(&rng);
    CHECK(subsel_dense_create(ctx, n, d, x, SUBSEL_OWN_COPY, &m));
    free(x);
    return m;
}

int main(int argc, char **argv)
{
    int64_t iterations = argc > 1 ? atoll(argv[1]) : 5;
    int64_t batch = argc > 2 ? atoll(argv[2]) : 20;
    subsel_ctx *ctx = NULL;
    subsel_dense *im, *tx;
    char dir[4096], path[4200];
    const char *tmp = getenv("TMPDIR");
    int64_t threads[2], t, i;
    double *secs;
    stamps st;
    /* the BLIS kernels in use set the speed of every product */
    const char *arch = ss_blis_arch_name();
    stages_begin("build");
    CHECK(subsel_ctx_create(&ctx));
    /* the experts go to a folder of our own, removed at the end */
    snprintf(dir, sizeof dir, "%s/bench_lors.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("bench_lors: mkdtemp");
        return 1;
    }
    threads[0] = 1;
    threads[1] = argc > 3 ? atoll(argv[3]) : subsel_ctx_threads(ctx);
    im = random_rows(ctx, 1, REAL, DIM);
    tx = random_rows(ctx, 2, REAL, DIM);
    secs = malloc(sizeof *secs * (size_t)(iterations > 0 ? iterations : 1));
    st.at = malloc(sizeof *st.at * (size_t)(iterations + 1));
    for (t = 0; t < 2; t++) {
        subsel_lors *l = NULL;
        double rss0, med;
        if (t == 1 && threads[1] == 1)
            break;
        CHECK(subsel_param_set_int(ctx, ctx, SUBSEL_P_THREADS, threads[t]));
        CHECK(subsel_lors_create(ctx, DIM, DIM, &l));
        CHECK(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_PAIRS, PAIRS));
        CHECK(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_SYN_STEPS, STEPS));
        CHECK(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_EMBED_DIM, EMBED));
        CHECK(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_BATCH, batch));
        CHECK(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_EXPERTS, 1));
        CHECK(subsel_param_set_int(ctx, l, SUBSEL_P_LORS_BUFFER_EPOCHS, 2));
        /* random pairs: the paper's rates soon diverge there; an
         * iteration costs the same at any rate */
        CHECK(subsel_param_set_real(ctx, l, SUBSEL_P_LORS_LR_IMAGE, 0.01));
        CHECK(subsel_param_set_real(ctx, l, SUBSEL_P_LORS_LR_TEXT, 0.01));
        CHECK(subsel_param_set_real(ctx, l, SUBSEL_P_LORS_LR_SIM, 0.01));
        CHECK(subsel_param_set_real(ctx, l, SUBSEL_P_LORS_LR_LR, 1e-5));
        stages_begin("buffer");
        if (t == 0)
            CHECK(subsel_lors_buffer(ctx, l, im, tx, dir, NULL));
        stages_begin("warm-up");
        CHECK(subsel_lors_distill(ctx, l, im, tx, dir, 1, NULL)); /* warm */
        stages_begin("distill");
        rss0 = bench_peak_rss_bytes();
        st.count = iterations;
        CHECK(subsel_ctx_set_progress(ctx, stamp, &st));
        CHECK(subsel_lors_distill(ctx, l, NULL, NULL, dir, iterations, NULL));
        CHECK(subsel_ctx_set_progress(ctx, NULL, NULL));
        stages_begin(NULL);
        for (i = 0; i < iterations; i++)
            secs[i] = st.at[i + 1] - st.at[i];
        qsort(secs, (size_t)iterations, sizeof *secs, cmp_double);
        med = secs[iterations / 2];
        printf("{\"bench\":\"lors_distill\",\"threads\":%lld,\"batch\":%lld,"
               "\"steps\":%d,\"embed\":%d,\"blis_arch\":\"%s\","
               "\"seconds_per_iteration\":%.6f,"
               "\"peak_rss_mb\":%.1f,\"peak_rss_delta_mb\":%.1f",
               (long long)threads[t], (long long)batch, STEPS, EMBED, arch, med,
               bench_peak_rss_bytes() / 1048576.0,
               (bench_peak_rss_bytes() - rss0) / 1048576.0);
        bench_end_line();
        subsel_lors_free(l);
    }
    free(secs);
    free(st.at);
    snprintf(path, sizeof path, "%s/expert_0000.npy", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/meta.npy", dir);
    remove(path);
    rmdir(dir);
    subsel_dense_free(im);
    subsel_dense_free(tx);
    subsel_ctx_free(ctx);
    return 0;
}
