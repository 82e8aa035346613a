# SPDX-License-Identifier: MIT
"""Fashion-MNIST for the Python examples (Debian's dataset-fashion-mnist,
gzip'ed IDX files), as examples/fashion_mnist.h is for the C ones: the
reader, the class names, and the options and loading the examples share."""
import argparse
import gzip
import os
import sys

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


def parser(doc: str, pool: int, targets: int) -> argparse.ArgumentParser:
    """The options every Fashion-MNIST Python example takes: --png, --pool,
    --targets and --data, with these defaults."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--png", help="write the picture to this PNG file")
    p.add_argument("--pool", type=int, default=pool,
                   help="training images to choose from (the first ones)")
    p.add_argument("--targets", type=int, default=targets,
                   help="test images in the target, at most")
    p.add_argument("--data", default=DIR, help="the data set's folder")
    return p


def load_pool_and_test(pool: int, directory: str, program: str):
    """((images, labels) of the first `pool` training images, the same of
    every test image); without the data, says so and exits with status 77
    (a skipped test)."""
    try:
        return load("train", pool, directory), load("test", 0, directory)
    except FileNotFoundError as e:
        print(f"{program}: {e} (apt-get install dataset-fashion-mnist)",
              file=sys.stderr)
        sys.exit(77)
