/* SPDX-License-Identifier: MIT */
/*
 * ClipCov end to end, as the issue sizes it: n = 1,000,000 image-caption
 * pairs of dimension 512 shaped like CLIP embeddings (a per-modality offset,
 * a class centre and noise, normalised), 1,000 classes whose sizes follow a
 * Zipf law, budget 10%. Stages are timed from the progress callback
 * (construction, greedy, double greedy filter), for each thread count in
 * one run so the ratio is meaningful; then zero-shot class assignment
 * (the n x K product) and the gain kernel per instruction set.
 * SUBSEL_BENCH_SCALE=0.05 shrinks n (and the classes) for a quick run;
 * SUBSEL_BENCH_THREADS=2 (a comma list, default "1,2") picks thread counts;
 * above 1 thread, a second run splits the greedy stage into one random part
 * per thread (SUBSEL_P_PARTS), with its speedup and objective.
 * One JSON object per line:
 *   {"bench":"clipcov","stage":"end_to_end","threads":2,"seconds":...,
 *    "create_s":...,"greedy_s":...,"filter_s":...,"peak_rss_gb":...,...}
 */
#include <math.h>
#include <stdint.h>

#include "bench_util.h"
#include "core/rng.h"
#include "dispatch/dispatch.h"
#include "subsel.h"

#define DIM 512
#define CLASSES 1000
#define ROWS_PER_STREAM 4096

typedef struct problem {
    int64_t n, d, classes;
    float *image, *text, *labels_emb;
    int64_t *labels;
} problem;

static float centred(ss_rng *rng) { return (float)(2.0 * ss_rng_uniform(rng) - 1.0); }

static void normalise(float *x, int64_t d)
{
    double s = 0;
    int64_t c;
    for (c = 0; c < d; c++)
        s += (double)x[c] * x[c];
    s = 1.0 / sqrt(s);
    for (c = 0; c < d; c++)
        x[c] = (float)(x[c] * s);
}

/* Deterministic whatever the thread count: one random stream per block of
 * rows. */
static void make_problem(problem *p, int64_t n, int64_t classes)
{
    float *centre = malloc(sizeof(float) * (size_t)(classes * DIM));
    float gap_v[DIM], gap_l[DIM];
    double *cdf = malloc(sizeof(double) * (size_t)classes), total = 0;
    ss_rng rng;
    int64_t k, c, b, blocks = (n + ROWS_PER_STREAM - 1) / ROWS_PER_STREAM;

    p->n = n;
    p->d = DIM;
    p->classes = classes;
    p->image = malloc(sizeof(float) * (size_t)(n * DIM));
    p->text = malloc(sizeof(float) * (size_t)(n * DIM));
    p->labels_emb = malloc(sizeof(float) * (size_t)(classes * DIM));
    p->labels = malloc(sizeof(int64_t) * (size_t)n);
    if (!centre || !cdf || !p->image || !p->text || !p->labels_emb || !p->labels) {
        fprintf(stderr, "bench_clipcov: out of memory for n = %lld\n", (long long)n);
        exit(1);
    }
    ss_rng_seed(&rng, 2024, 0);
    for (c = 0; c < DIM; c++) {
        gap_v[c] = 0.7f * centred(&rng);
        gap_l[c] = 0.7f * centred(&rng);
    }
    for (k = 0; k < classes * DIM; k++)
        centre[k] = centred(&rng);
    for (k = 0; k < classes; k++) { /* Zipf: P(class k) ~ 1 / (k + 1) */
        total += 1.0 / (double)(k + 1);
        cdf[k] = total;
    }
    for (k = 0; k < classes; k++) {
        cdf[k] /= total;
        for (c = 0; c < DIM; c++)
            p->labels_emb[k * DIM + c] = gap_l[c] + centre[k * DIM + c];
        normalise(p->labels_emb + k * DIM, DIM);
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (b = 0; b < blocks; b++) {
        ss_rng r;
        int64_t i;
        ss_rng_seed(&r, 2024, (uint64_t)b + 1);
        for (i = b * ROWS_PER_STREAM; i < n && i < (b + 1) * ROWS_PER_STREAM; i++) {
            double u = ss_rng_uniform(&r);
            int64_t lo = 0, hi = classes - 1, cc;
            while (lo < hi) { /* the first class whose cdf exceeds u */
                int64_t mid = (lo + hi) / 2;
                if (cdf[mid] > u)
                    hi = mid;
                else
                    lo = mid + 1;
            }
            p->labels[i] = lo;
            for (cc = 0; cc < DIM; cc++) {
                float base = centre[lo * DIM + cc];
                p->image[i * DIM + cc] = gap_v[cc] + base + 1.5f * centred(&r);
                p->text[i * DIM + cc] = gap_l[cc] + base + 1.5f * centred(&r);
            }
            normalise(p->image + i * DIM, DIM);
            normalise(p->text + i * DIM, DIM);
        }
    }
    free(centre);
    free(cdf);
}

/* Stage boundaries from the progress callback (also the stage clock's:
 * "select" for the greedy, "filter" for the double-greedy filter). */
typedef struct stage_clock {
    double start, greedy, filter;
} stage_clock;

static int on_progress(void *user, const char *stage, int64_t done, int64_t total)
{
    stage_clock *c = user;
    (void)done;
    (void)total;
    if (c->greedy == 0 && strcmp(stage, "select") == 0) {
        c->greedy = bench_now();
        stages_begin("select");
    }
    if (c->filter == 0 && strcmp(stage, "double greedy") == 0) {
        c->filter = bench_now();
        stages_begin("filter");
    }
    return 0;
}

static void check(subsel_ctx *ctx, int rc, const char *what)
{
    if (rc != SUBSEL_OK) {
        fprintf(stderr, "bench_clipcov: %s: %s\n", what, subsel_ctx_last_error(ctx));
        exit(1);
    }
}

/* A context with `threads` and the problem's matrices (borrowed). */
typedef struct session {
    subsel_ctx *ctx;
    subsel_dense *image, *text, *emb;
} session;

static void open_session(const problem *p, int threads, session *s)
{
    check(NULL, subsel_ctx_create(&s->ctx), "context");
    check(s->ctx, subsel_ctx_set_int(s->ctx, SUBSEL_CTX_THREADS, threads), "threads");
    check(s->ctx, subsel_dense_create(s->ctx, p->n, p->d, p->image, SUBSEL_BORROW, &s->image),
          "image");
    check(s->ctx, subsel_dense_create(s->ctx, p->n, p->d, p->text, SUBSEL_BORROW, &s->text),
          "text");
    check(s->ctx, subsel_dense_create(s->ctx, p->classes, p->d, p->labels_emb, SUBSEL_BORROW,
                                      &s->emb),
          "label embeddings");
}

static void close_session(session *s)
{
    subsel_dense_free(s->image);
    subsel_dense_free(s->text);
    subsel_dense_free(s->emb);
    subsel_ctx_free(s->ctx);
}

/* One end-to-end run with the greedy stage over `parts` random parts
 * (SUBSEL_P_PARTS); returns its seconds, and those of its greedy stage in
 * *greedy_seconds. Speedups are against the first run's (`base_*`). */
static double end_to_end(const problem *p, int threads, int64_t parts, double base_seconds,
                         double base_greedy, double *greedy_seconds)
{
    session s;
    subsel_ctx *ctx;
    subsel_objective *f;
    subsel_optimizer *greedy;
    subsel_selection *sel, *before;
    stage_clock clock = {0, 0, 0};
    double t0, t_created, t_end;
    int submodular;
    int64_t budget = p->n / 10;

    open_session(p, threads, &s);
    ctx = s.ctx;
    subsel_ctx_set_progress(ctx, on_progress, &clock);
    stages_begin("build");
    t0 = bench_now();
    check(ctx, subsel_clipcov_create(ctx, s.image, s.text, s.emb, p->labels, 0, &f), "create");
    t_created = bench_now();
    stages_begin("decide"); /* the optimizer's choice, until the greedy starts */
    check(ctx, subsel_clipcov_optimizer(ctx, f, budget, &greedy), "optimizer");
    check(ctx, subsel_param_set_int(ctx, greedy, SUBSEL_P_PARTS, parts), "parts");
    check(ctx, subsel_clipcov_select(ctx, f, greedy, SUBSEL_CLIPCOV_FILTER_DETERMINISTIC, &sel,
                                     &before),
          "select");
    t_end = bench_now();
    stages_begin("evaluate");
    subsel_clipcov_check_submodular(ctx, f, 0, &submodular);
    printf("{\"bench\": \"clipcov\", \"stage\": \"end_to_end\", \"n\": %lld, \"d\": %lld, "
           "\"classes\": %lld, \"budget\": %lld, \"threads\": %d, \"seconds\": %.3f, "
           "\"create_s\": %.3f, \"decide_s\": %.3f, \"greedy_s\": %.3f, \"filter_s\": %.3f, "
           "\"optimizer\": \"%s\", \"greedy_selected\": %lld, \"selected\": %lld, "
           "\"greedy_objective\": %.9g, \"objective\": %.9g, \"evaluations\": %lld, "
           "\"peak_rss_gb\": %.3f, \"speedup_vs_first\": %.3f, \"parts\": %lld, "
           "\"greedy_speedup_vs_first\": %.3f",
           (long long)p->n, (long long)p->d, (long long)p->classes, (long long)budget, threads,
           t_end - t0, t_created - t0, clock.greedy - t_created, clock.filter - clock.greedy,
           t_end - clock.filter, submodular ? "lazy" : "stochastic",
           (long long)subsel_selection_count(before), (long long)subsel_selection_count(sel),
           subsel_selection_value(before), subsel_selection_value(sel),
           (long long)subsel_selection_evaluations(sel), bench_peak_rss_bytes() / 1e9,
           base_seconds > 0 ? base_seconds / (t_end - t0) : 1.0, (long long)parts,
           base_greedy > 0 ? base_greedy / (clock.filter - clock.greedy) : 1.0);
    bench_end_line();
    *greedy_seconds = clock.filter - clock.greedy;
    subsel_selection_free(sel);
    subsel_selection_free(before);
    subsel_optimizer_free(greedy);
    subsel_objective_free(f);
    close_session(&s);
    return t_end - t0;
}

/* Construction with zero-shot classes: adds the n x K sgemm. */
static void zero_shot(const problem *p, int threads)
{
    session s;
    subsel_objective *f;
    int64_t *classes = malloc(sizeof(int64_t) * (size_t)p->n), i, agree = 0;
    double t0, t1;
    open_session(p, threads, &s);
    stages_begin("build");
    t0 = bench_now();
    check(s.ctx, subsel_clipcov_create(s.ctx, s.image, s.text, s.emb, NULL, 0, &f),
          "create zero-shot");
    t1 = bench_now();
    stages_begin("evaluate");
    check(s.ctx, subsel_clipcov_classes(s.ctx, f, classes, p->n), "classes");
    for (i = 0; i < p->n; i++)
        agree += classes[i] == p->labels[i];
    printf("{\"bench\": \"clipcov\", \"stage\": \"create_zero_shot\", \"n\": %lld, "
           "\"classes\": %lld, \"threads\": %d, \"seconds\": %.3f, "
           "\"agreement_with_true_classes\": %.4f",
           (long long)p->n, (long long)p->classes, threads, t1 - t0,
           (double)agree / (double)p->n);
    bench_end_line();
    free(classes);
    subsel_objective_free(f);
    close_session(&s);
}

/* The gain kernel (a float row against a double running sum, d = 512). */
static void kernels(const problem *p)
{
    double base = 0;
    double *acc = malloc(sizeof(double) * DIM);
    int isa, c;
    for (c = 0; c < DIM; c++)
        acc[c] = p->text[c];
    for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++) {
        const ss_kernels *k = ss_kernels_level(isa);
        volatile double sink = 0;
        double t0, t, rate;
        int64_t reps = 0, rows = p->n < 4096 ? p->n : 4096;
        if (k == NULL)
            continue;
        stages_begin("kernel");
        t0 = bench_now();
        do {
            int64_t r;
            for (r = 0; r < rows; r++)
                sink += k->dot_f32_f64(p->image + r * DIM, acc, DIM);
            reps += rows;
            t = bench_now() - t0;
        } while (t < 0.3);
        rate = (double)reps / t;
        if (isa == SUBSEL_ISA_SCALAR)
            base = rate;
        printf("{\"bench\": \"clipcov\", \"stage\": \"kernel\", \"kernel\": \"dot_f32_f64\", "
               "\"d\": %d, \"isa\": \"%s\", \"dots_per_s\": %.4g, \"speedup_vs_scalar\": %.2f",
               DIM, k->name, rate, rate / base);
        bench_end_line();
        (void)sink;
    }
    free(acc);
}

int main(void)
{
    problem p;
    const char *list = getenv("SUBSEL_BENCH_THREADS");
    char buf[64];
    char *tok, *save = NULL;
    double scale = bench_scale(), first = 0, first_greedy = 0, t0;
    int64_t n = (int64_t)(1000000 * scale);
    int64_t classes = n / 100 < CLASSES ? (n / 100 > 1 ? n / 100 : 1) : CLASSES;
    int last = 1;

    t0 = bench_now();
    make_problem(&p, n, classes);
    fprintf(stderr, "bench_clipcov: %lld x %d pairs, %lld classes generated in %.1f s\n",
            (long long)n, DIM, (long long)classes, bench_now() - t0);
    snprintf(buf, sizeof buf, "%s", list ? list : "1,2");
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        double s, g;
        last = atoi(tok) > 0 ? atoi(tok) : 1;
        s = end_to_end(&p, last, 1, first, first_greedy, &g);
        if (first == 0) {
            first = s;
            first_greedy = g;
        }
        /* and the greedy stage over one random part per thread */
        if (last > 1)
            end_to_end(&p, last, last, first, first_greedy, &g);
    }
    zero_shot(&p, last);
    kernels(&p);
    free(p.image);
    free(p.text);
    free(p.labels_emb);
    free(p.labels);
    return 0;
}
