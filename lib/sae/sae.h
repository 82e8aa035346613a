/* SPDX-License-Identifier: MIT */
/*
 * The TopK sparse-autoencoder encoder as the library sees it: the handle
 * (weights and biases), and the per-row selection that turns one row of
 * pre-activations into its sparse code. The batched driver (encode.c)
 * multiplies with BLIS and calls the selection on every row in parallel;
 * the benchmark times the two stages apart through these declarations.
 */
#ifndef SS_SAE_H
#define SS_SAE_H

#include <stdint.h>

#include "core/handle.h"
#include "subsel.h"

struct subsel_sae {
    SS_HANDLE_HEAD;         /* alloc frees what the encoder owns, after its ctx */
    int64_t features;       /* d_sparse: rows of W_enc, columns of codes */
    int64_t inputs;         /* d_in: columns of W_enc */
    const float *w_enc;     /* features x inputs, row-major, finite */
    const subsel_dense *w_matrix; /* the matrix w_enc reads, retained */
    int64_t w_ld;           /* floats between rows of w_enc (its stride) */
    float *b_enc;           /* features values */
    float *b_dec;           /* inputs values */
};

/* One kept activation, in the selection heap. */
typedef struct ss_topk_entry {
    float value;
    int32_t index;
} ss_topk_entry;

/* The code of one row. Adds `bias` (n values, or NULL for none) to the
 * pre-activations act[0..n) in place, then keeps the min(k, #positive)
 * largest positive values, ties going to the lowest index, and writes their
 * column indices in ascending order with their values to indices[] and
 * values[] (room for k each). `heap` is scratch for k entries and `work`
 * for ss_sae_topk_work(n, k) floats. Comparisons only: the result is exact,
 * whatever the order or the machine.
 * @return the number kept, or -1 if an activation is not finite (float
 *         overflow in the product), with nothing meaningful written. */
int64_t ss_sae_topk_row(float *act, const float *bias, int64_t n, int64_t k,
                        ss_topk_entry *heap, float *work, int32_t *indices,
                        float *values);

/* Floats of `work` that ss_sae_topk_row() needs for rows of n and k: the
 * number of groups of its lower bound, at least 2k and at most n / 16, or 0
 * when the row is too short for one. */
int64_t ss_sae_topk_work(int64_t n, int64_t k);

/* The weights the encoder reads: W_enc (features x inputs, rows w_ld
 * floats apart), b_enc (features) and b_dec (inputs). The encoder handle
 * and the trainer (lib/sae_train) both encode through it. */
typedef struct ss_sae_weights {
    int64_t features, inputs;
    const float *w_enc;
    int64_t w_ld;
    const float *b_enc, *b_dec;
} ss_sae_weights;

/* Scratch of the per-row selection for `parts` threads. */
typedef struct ss_sae_scratch {
    ss_topk_entry *heap;
    float *work;
    int64_t work_len;
    int parts;
} ss_sae_scratch;

/* Through allocator a (the context's, or a handle's own), failures on ctx. */
int ss_sae_scratch_alloc(subsel_ctx *ctx, const ss_allocator *a,
                         int64_t features, int64_t k, int parts,
                         ss_sae_scratch *s);
void ss_sae_scratch_free(const ss_allocator *a, ss_sae_scratch *s);

/* The codes of `rows` rows of x (rows `ld` floats apart): xc gets the
 * rows centred on b_dec (rows x inputs), act the pre-activations with
 * b_enc added (rows x features; one sgemm), and row i its code in the k
 * slots at indices / values + i * k, with counts[i] the number kept (-1:
 * an activation is not finite). s has a part per thread. */
void ss_sae_code_rows(const subsel_ctx *ctx, const ss_sae_weights *w,
                      const float *x, int64_t ld, int64_t rows, int64_t k,
                      const ss_sae_scratch *s, float *xc, float *act,
                      int32_t *indices, float *values, int64_t *counts);

/* Rows per batch of subsel_sae_encode(): about 64 MiB of pre-activations,
 * between 16 and 2048 rows, never more than `rows` (at least 1). It does not
 * depend on the thread count, so neither do the products' rounding. */
int64_t ss_sae_batch_rows(int64_t features, int64_t rows);

#endif
