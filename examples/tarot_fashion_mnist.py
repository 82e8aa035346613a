# SPDX-License-Identifier: MIT
"""Example: TAROT on Fashion-MNIST from Python, as tarot_fashion_mnist.c:
training images of all ten classes are the candidates, test images of
three (sandal, sneaker, ankle boot) the target; pixels projected to 128
dimensions, whitened, and 10 % of the pool selected by TAROT's
fixed-size rule and at random. Prints the total-variation distance of each
class mix to the target's and the OT distance to the target; with --png,
draws them (subsel.plot.class_mix, 1200 x 800 pixels): the class mixes as
bars with each selection's OT distance, and sample images of each.

    python3 tarot_fashion_mnist.py [--png OUT.png] [--pool N] [--targets M]
                                   [--data DIR]

Exit code 77 without the data; 1 unless TAROT's class mix is closer to the
target's than random's.
"""
import os
import sys

import numpy as np

import subsel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402  (examples/fashion_mnist.py)

TARGET_CLASSES = (5, 7, 9)


def total_variation(labels, target_labels) -> float:
    def mix(y):
        return np.bincount(y, minlength=len(fashion_mnist.CLASSES)) / len(y)
    return float(np.abs(mix(labels) - mix(target_labels)).sum() / 2)


def main(argv):
    a = fashion_mnist.parser(__doc__, 20000, 1000).parse_args(argv)
    (train_x, train_y), (test_x, test_y) = fashion_mnist.load_pool_and_test(
        a.pool, a.data, "tarot_fashion_mnist")
    rows = np.flatnonzero(np.isin(test_y, TARGET_CLASSES))[:a.targets]
    target_x, target_y = test_x[rows], test_y[rows]
    budget = len(train_x) // 10

    def pixels(x):
        return (x.reshape(len(x), -1) / np.float32(255)).astype(np.float32)

    ctx = subsel.Context(seed=1)
    tarot = subsel.Tarot(pixels(train_x), pixels(target_x), proj_dim=128,
                         ctx=ctx)
    chosen = tarot.select_fixed(budget, ctx=ctx)
    random = np.random.default_rng(1).choice(len(train_x), budget,
                                             replace=False)
    ot_random = tarot.ot(random, ctx=ctx).loss
    tv = {"tarot_fixed": total_variation(train_y[chosen.indices], target_y),
          "random": total_variation(train_y[random], target_y)}
    print(f"TAROT on Fashion-MNIST: {len(train_x)} candidates, "
          f"{len(target_x)} targets, {budget} selected")
    print(f"  class-mix distance to the target (TV): TAROT {tv['tarot_fixed']:.3f}, "
          f"random {tv['random']:.3f}")
    print(f"  OT distance to the target: TAROT {chosen.value:.4f}, "
          f"random {ot_random:.4f}")
    if a.png:
        from subsel import plot
        plot.class_mix(a.png, [
            ("target", target_y, None, target_x),
            ("TAROT", train_y[chosen.indices], chosen.value,
             train_x[chosen.indices]),
            ("random", train_y[random], ot_random, train_x[random])],
            fashion_mnist.CLASSES, metric="OT",
            title=f"TAROT on Fashion-MNIST: {budget} of {len(train_x)} "
                  "candidates (OT distance to the target in the legend)")
        print(a.png)
    return 0 if tv["tarot_fixed"] < tv["random"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
