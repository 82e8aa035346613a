# SPDX-License-Identifier: MIT
"""Fashion-MNIST for the Python examples (Debian's dataset-fashion-mnist,
gzip'ed IDX files), as examples/fashion_mnist.h is for the C ones: the
reader and the class names."""
import gzip
import os

import numpy as np

DIR = "/usr/share/datasets/fashion-mnist"
CLASSES = ("T-shirt", "trouser", "pullover", "dress", "coat",
           "sandal", "shirt", "sneaker", "bag", "boot")
_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def _idx(path, dims: int, limit: int) -> np.ndarray:
    """The first `limit` items (0: all) of an IDX file of unsigned bytes;
    only those are inflated."""
    with gzip.open(path, "rb") as f:
        head = f.read(4 + 4 * dims)
        if len(head) != 4 + 4 * dims or head[2] != 8 or head[3] != dims:
            raise ValueError(f"{path}: not an IDX file of {dims} dimensions")
        shape = [int.from_bytes(head[4 + 4 * i:8 + 4 * i], "big")
                 for i in range(dims)]
        if limit:
            shape[0] = min(shape[0], limit)
        data = f.read(int(np.prod(shape)))
    return np.frombuffer(data, np.uint8).reshape(shape)


def load(split: str, limit: int = 0, directory: str = DIR):
    """(images, labels) of the "train" or "test" split: images n x 28 x 28
    uint8, labels n uint8; the first `limit` only when limit > 0. Raises
    FileNotFoundError without the data."""
    images, labels = _FILES[split]
    return (_idx(os.path.join(directory, images), 3, limit),
            _idx(os.path.join(directory, labels), 1, limit))
