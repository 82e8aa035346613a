/* SPDX-License-Identifier: MIT */
/*
 * Fashion-MNIST for the examples and benchmarks that run on real images
 * (Debian's dataset-fashion-mnist, gzip'ed IDX files): the reader, the class
 * names, and the class-mix comparison they print. A header of static
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
 * 4 + 4 * dims bytes (unsigned bytes, `dims` dimensions, big-endian sizes).
 * Returns malloc'ed data, or NULL if the file is missing or malformed. */
static inline unsigned char *fashion_mnist_read(const char *dir, const char *name, int dims,
                                         int64_t item_bytes, int64_t *count)
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

#endif
