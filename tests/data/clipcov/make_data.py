#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the small ClipCov test problem used by tests/cli_clipcov.sh: 200
image-caption pairs in 16 dimensions from 5 latent classes, shaped like CLIP
embeddings (a per-modality offset, the modality gap, plus a class centre and
noise, normalised), the class labels and the label embeddings (offset of the
text modality plus the class centre, normalised); and the same classes under
sparse, huge label numbers (labels_sparse.npy: 7, 3e8, 12, INT64_MAX, 5),
which ClipCov without label embeddings maps to dense classes. Deterministic
(seed 6).

    /usr/bin/python3 make_data.py   # in tests/data/clipcov
"""
import numpy as np

rng = np.random.default_rng(6)
n, d, k = 200, 16, 5


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


centres = rng.normal(size=(k, d))
gap_v, gap_l = rng.normal(size=d), rng.normal(size=d)
labels = rng.integers(0, k, size=n)
image = unit(gap_v + centres[labels] + 0.8 * rng.normal(size=(n, d)))
text = unit(gap_l + centres[labels] + 0.8 * rng.normal(size=(n, d)))
label_emb = unit(gap_l + centres)
np.save("image.npy", image.astype(np.float32))
np.save("text.npy", text.astype(np.float32))
np.save("labels.npy", labels.astype(np.int64))
np.save("label_emb.npy", label_emb.astype(np.float32))
sparse = np.array([7, 300000000, 12, np.iinfo(np.int64).max, 5], dtype=np.int64)
np.save("labels_sparse.npy", sparse[labels])
