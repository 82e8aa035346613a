/* SPDX-License-Identifier: MIT */
/*
 * Fashion-MNIST for the examples and benchmarks that run on real images
 * (Debian's dataset-fashion-mnist, gzip'ed IDX files): the reader, the class
 * names, the class-mix comparison they print, a seeded random stream, and
 * the two-view embeddings the LoRS example pairs up. A header of static
 * functions so each program stays one file linking only the public API.
 */
#ifndef SUBSEL_EXAMPLES_FASHION_MNIST_H
#define SUBSEL_EXAMPLES_FASHION_MNIST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define FASHION_MNIST_PIXELS 784
#define FASHION_MNIST_CLASSES 10

static const char *const fashion_mnist_classes[FASHION_MNIST_CLASSES] = {
    "T-shirt", "trouser", "pullover", "dress", "coat",
    "sandal",  "shirt",   "sneaker",  "bag",   "boot"};

/* Reads dir/name: `count` items of `item_bytes` after an IDX header of
 * 4 + 4 * dims bytes (unsigned bytes, `dims` dimensions, big-endian sizes),
 * the first `max_items` only when max_items > 0 (the rest is never
 * inflated: under valgrind, inflating all 60,000 images was most of an
 * example's time). Returns malloc'ed data, or NULL if the file is missing
 * or malformed. */
static inline unsigned char *fashion_mnist_read(const char *dir, const char *name, int dims,
                                         int64_t item_bytes, int64_t max_items,
                                         int64_t *count)
{
    char path[1024];
    unsigned char head[16];
    unsigned char *data = NULL;
    int64_t bytes;
    gzFile f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((f = gzopen(path, "rb")) == NULL)
        return NULL;
    if (gzread(f, head, (unsigned)(4 + 4 * dims)) == 4 + 4 * dims && head[2] == 8 &&
        head[3] == dims) {
        *count = (int64_t)head[4] << 24 | head[5] << 16 | head[6] << 8 | head[7];
        if (max_items > 0 && *count > max_items)
            *count = max_items;
        bytes = *count * item_bytes;
        data = malloc((size_t)bytes + 1);
        if (data != NULL && gzread(f, data, (unsigned)bytes) != (int)bytes) {
            free(data);
            data = NULL;
        }
    }
    gzclose(f);
    return data;
}

/* Images as floats in [0, 1], malloc'ed (count x 784). */
static inline float *fashion_mnist_floats(const unsigned char *pixels, int64_t count)
{
    float *x = malloc(sizeof *x * (size_t)(count * FASHION_MNIST_PIXELS));
    int64_t i;
    if (x != NULL)
        for (i = 0; i < count * FASHION_MNIST_PIXELS; i++)
            x[i] = (float)pixels[i] / 255.0f;
    return x;
}

/* Scales each of the `count` rows of x (count x 784) to unit norm, in
 * place; zero rows stay zero. The SAE examples train on such rows: their
 * inner products are cosines (examples/sae_mono_fashion_mnist.c says why). */
static inline void fashion_mnist_unit_rows(float *x, int64_t count)
{
    int64_t i, c;
    for (i = 0; i < count; i++) {
        double s = 0;
        for (c = 0; c < FASHION_MNIST_PIXELS; c++)
            s += (double)x[i * FASHION_MNIST_PIXELS + c] * x[i * FASHION_MNIST_PIXELS + c];
        if (s > 0)
            for (c = 0; c < FASHION_MNIST_PIXELS; c++)
                x[i * FASHION_MNIST_PIXELS + c] = (float)(x[i * FASHION_MNIST_PIXELS + c] / sqrt(s));
    }
}

/* The share of each class among labels[items[i]] (items NULL: all). */
static inline void fashion_mnist_class_mix(const unsigned char *labels, const int64_t *items,
                                    int64_t count, double *mix)
{
    int64_t i;
    memset(mix, 0, sizeof(double) * FASHION_MNIST_CLASSES);
    for (i = 0; i < count; i++)
        mix[labels[items ? items[i] : i]] += 1.0 / (double)count;
}

/* Total-variation distance between two class mixes. */
static inline double fashion_mnist_total_variation(const double *a, const double *b)
{
    double tv = 0;
    int c;
    for (c = 0; c < FASHION_MNIST_CLASSES; c++)
        tv += fabs(a[c] - b[c]) / 2;
    return tv;
}

/* splitmix64: a seeded stream for the examples' own random choices
 * (shuffles, projections), the same on every platform. */
static inline uint64_t fashion_mnist_splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A standard normal draw (Box-Muller on two uniforms in (0, 1)). */
static inline double fashion_mnist_normal(uint64_t *state)
{
    double u1 = ((double)(fashion_mnist_splitmix(state) >> 11) + 0.5) / 9007199254740992.0;
    double u2 = ((double)(fashion_mnist_splitmix(state) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#define FASHION_MNIST_HALF (FASHION_MNIST_PIXELS / 2) /* 14 rows of 28 */

/* Two views of each image standing in for an image and its caption (the
 * LoRS examples): view 0 is the top half (rows 0-13), view 1 the bottom
 * half (rows 14-27). Each half is scaled to [0, 1], centred with its mean
 * over the `n_train` training images, and multiplied by its own fixed
 * Gaussian matrix (dim x 392, entries N(0, 1/392) drawn from `seed`), so
 * each output coordinate has the spread of a centred pixel. Writes
 * train_views[v] (n_train x dim) and test_views[v] (n_test x dim, centred
 * with the training mean too). Returns 0, or -1 when out of memory. */
static inline int fashion_mnist_two_views(const unsigned char *train, int64_t n_train,
                                          const unsigned char *test, int64_t n_test, int64_t dim,
                                          uint64_t seed, float *train_views[2],
                                          float *test_views[2])
{
    double *proj = malloc(sizeof *proj * (size_t)(dim * FASHION_MNIST_HALF));
    double *mean = malloc(sizeof *mean * FASHION_MNIST_HALF);
    double *x = malloc(sizeof *x * FASHION_MNIST_HALF);
    int64_t i, j, c, p;
    int v, set;
    if (proj == NULL || mean == NULL || x == NULL) {
        free(proj);
        free(mean);
        free(x);
        return -1;
    }
    for (v = 0; v < 2; v++) {
        uint64_t state = seed * 0x2545F4914F6CDD1DULL + 0x51ED270B27u + (uint64_t)v;
        const int64_t offset = v * FASHION_MNIST_HALF;
        for (i = 0; i < dim * FASHION_MNIST_HALF; i++)
            proj[i] = fashion_mnist_normal(&state) / sqrt((double)FASHION_MNIST_HALF);
        for (p = 0; p < FASHION_MNIST_HALF; p++)
            mean[p] = 0;
        for (i = 0; i < n_train; i++)
            for (p = 0; p < FASHION_MNIST_HALF; p++)
                mean[p] += train[i * FASHION_MNIST_PIXELS + offset + p] / 255.0;
        for (p = 0; p < FASHION_MNIST_HALF; p++)
            mean[p] /= (double)n_train;
        for (set = 0; set < 2; set++) {
            const unsigned char *px = set ? test : train;
            int64_t n = set ? n_test : n_train;
            float *out = set ? test_views[v] : train_views[v];
            for (i = 0; i < n; i++) {
                for (p = 0; p < FASHION_MNIST_HALF; p++)
                    x[p] = px[i * FASHION_MNIST_PIXELS + offset + p] / 255.0 - mean[p];
                for (j = 0; j < dim; j++) {
                    double s = 0;
                    for (c = 0; c < FASHION_MNIST_HALF; c++)
                        s += proj[j * FASHION_MNIST_HALF + c] * x[c];
                    out[i * dim + j] = (float)s;
                }
            }
        }
    }
    free(proj);
    free(mean);
    free(x);
    return 0;
}

#endif
