#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes small inputs for every method from Fashion-MNIST, for the measured
examples of docs/choosing-parameters.md (examples/parameters.sh runs them).
Deterministic (seed 0); about 60 MB in OUT_DIR, a few seconds.

    examples/parameters_data.py [FASHION_MNIST_DIR] OUT_DIR

- sdm/: pool.npz, 20,000 training images as sparse nonnegative codes (the
  196 pixels of the 14 x 14 average-pooled image, the 16 largest kept per
  row: a stand-in for TopK SAE codes); target.npz, the 1,000 first test
  images of the footwear classes (sandal, sneaker, ankle boot) coded the
  same way; quality.npy, each image's pixel standard deviation (contrast);
  labels.npy, the pool's classes.
- dense/: pool.npy (20,000 x 64) and target.npy (the 1,000 footwear test
  images), pixels in [0, 1] projected by a fixed Gaussian 784 x 64 matrix;
  labels of both; small.npy / small_labels.npy, the first 2,000 pool rows,
  and target_small.npy / target_small_labels.npy, 300 test images of all
  classes (for UniPROT, whose similarity matrix is rows x targets).
- clipcov/: the two views of examples/lors_fashion_mnist.c --write-views
  (top half as the image, bottom half as the caption) must be in
  OUT_DIR/views; this adds labels.npy (10,000 pool classes) and
  label_emb.npy (each class's mean caption view, its "name").
"""
import gzip
import os
import sys

import numpy as np
import scipy.sparse as sp


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def codes(images, k=16):
    x = images.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(len(images), 196)
    x = x.astype(np.float32) / 255
    keep = np.argsort(-x, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(len(x)), k)
    vals = x[rows, keep.ravel()]
    m = sp.csr_matrix((vals, (rows, keep.ravel())), shape=x.shape, dtype=np.float32)
    m.eliminate_zeros()
    m.sort_indices()
    return m


def main():
    src = sys.argv[1] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    out = sys.argv[-1]
    train = idx(os.path.join(src, "train-images-idx3-ubyte.gz"))
    train_y = idx(os.path.join(src, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    test = idx(os.path.join(src, "t10k-images-idx3-ubyte.gz"))
    test_y = idx(os.path.join(src, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    pool, pool_y = train[:20000], train_y[:20000]
    foot = np.flatnonzero(np.isin(test_y, [5, 7, 9]))[:1000]

    os.makedirs(os.path.join(out, "sdm"), exist_ok=True)
    sp.save_npz(os.path.join(out, "sdm", "pool.npz"), codes(pool))
    sp.save_npz(os.path.join(out, "sdm", "target.npz"), codes(test[foot]))
    np.save(os.path.join(out, "sdm", "quality.npy"),
            (pool.reshape(len(pool), -1) / 255).std(axis=1))
    np.save(os.path.join(out, "sdm", "labels.npy"), pool_y)

    rng = np.random.default_rng(0)
    proj = rng.normal(scale=1 / np.sqrt(784), size=(784, 64))
    dense = lambda im: (im.reshape(len(im), -1) / 255 @ proj).astype(np.float32)
    os.makedirs(os.path.join(out, "dense"), exist_ok=True)
    d = os.path.join(out, "dense")
    np.save(os.path.join(d, "pool.npy"), dense(pool))
    np.save(os.path.join(d, "labels.npy"), pool_y)
    np.save(os.path.join(d, "target.npy"), dense(test[foot]))
    np.save(os.path.join(d, "target_labels.npy"), test_y[foot])
    np.save(os.path.join(d, "small.npy"), dense(pool[:2000]))
    np.save(os.path.join(d, "small_labels.npy"), pool_y[:2000])
    np.save(os.path.join(d, "target_small.npy"), dense(test[:300]))
    np.save(os.path.join(d, "target_small_labels.npy"), test_y[:300])

    views = os.path.join(out, "views")
    if os.path.exists(os.path.join(views, "train_texts.npy")):
        text = np.load(os.path.join(views, "train_texts.npy"))
        y = train_y[:len(text)]
        c = os.path.join(out, "clipcov")
        os.makedirs(c, exist_ok=True)
        np.save(os.path.join(c, "labels.npy"), y)
        np.save(os.path.join(c, "label_emb.npy"),
                np.stack([text[y == k].mean(axis=0) for k in range(10)]).astype(np.float32))


if __name__ == "__main__":
    main()
