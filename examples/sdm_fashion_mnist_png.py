# SPDX-License-Identifier: MIT
"""The picture of `./run demo`: what examples/sdm_fashion_mnist printed,
drawn. Reads the rows it saved (sdm_fashion_mnist ... --save RESULTS) with
the Python package's .npy reader, and writes a PNG of the class mix of the
target, the SDM selection and the random selection as bars, with the KL of
each to the target (and the total-variation distance of its class mix,
since KL is inf when a target concept is left uncovered), and a row of
sample images from each
(subsel.plot.class_mix, 1200 x 800 pixels).

    python3 sdm_fashion_mnist_png.py RESULTS OUT.png [DATA_DIR]

Needs NumPy, matplotlib and the subsel package (PYTHONPATH=python and
SUBSEL_LIBRARY naming libsubsel in a build tree). Exit code 77 when the
data is missing.
"""
import os
import sys

import numpy as np

import subsel
from subsel import plot

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402  (examples/fashion_mnist.py)


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    results, out = argv[0], argv[1]
    data = argv[2] if len(argv) > 2 else fashion_mnist.DIR

    def rows(name):
        return subsel.load_vector(os.path.join(results, name), dtype=np.int64)

    target, chosen, random = (rows("target_rows.npy"), rows("sdm_rows.npy"),
                              rows("random_rows.npy"))
    kl_sdm, kl_random = subsel.load_vector(os.path.join(results, "kl.npy"))
    try:
        # the pool is a prefix of the training images, the target test rows
        train_x, train_y = fashion_mnist.load(
            "train", int(max(chosen.max(), random.max())) + 1, data)
        test_x, test_y = fashion_mnist.load("test", 0, data)
    except FileNotFoundError as e:
        print(f"sdm_fashion_mnist_png: {e} (apt-get install "
              "dataset-fashion-mnist)", file=sys.stderr)
        return 77
    def tv(labels):  # total variation between class mixes, as the table's
        mix = [np.bincount(y, minlength=len(fashion_mnist.CLASSES)) / len(y)
               for y in (labels, test_y[target])]
        return float(np.abs(mix[0] - mix[1]).sum() / 2)

    groups = [("target", test_y[target], None, test_x[target]),
              ("SDM", train_y[chosen], (kl_sdm, tv(train_y[chosen])),
               train_x[chosen]),
              ("random", train_y[random], (kl_random, tv(train_y[random])),
               train_x[random])]
    # KL is inf when a target concept is left uncovered: TV says how far
    # the class mix is even then
    plot.class_mix(out, groups, fashion_mnist.CLASSES, metric=("KL", "TV"),
                   title=f"SDM on Fashion-MNIST: {len(chosen)} of the pool "
                         f"against a {len(target)}-image target (KL and "
                         "class-mix total variation to the target)")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
