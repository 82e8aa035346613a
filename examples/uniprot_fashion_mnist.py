# SPDX-License-Identifier: MIT
"""Example: UniPROT prototypes of Fashion-MNIST images from Python. The
source is the first POOL training images, the target test images leaning
on footwear and bags; UniPROT picks K source images that cover the target
under partial optimal transport (cosine similarity of the pixels, reg
0.05). Prints the prototypes' classes and the 1-nearest-prototype accuracy
on the target, against K random source images; with --png, draws both sets
as captioned image grids (subsel.plot.prototypes, 1200 x 400 pixels).

    python3 uniprot_fashion_mnist.py [--png OUT.png] [--pool N] [-k K]
                                     [--targets M] [--data DIR]

Exit code 77 without the data.
"""
import os
import sys

import numpy as np

import subsel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402  (examples/fashion_mnist.py)

# The chance to keep a test image of each class in the target.
TARGET_KEEP = (0.1, 0.1, 0.1, 0.1, 0.1, 1.0, 0.1, 1.0, 0.5, 1.0)


def main(argv):
    p = fashion_mnist.parser(__doc__, 2000, 1000)
    p.add_argument("-k", type=int, default=12, help="prototypes")
    a = p.parse_args(argv)
    (src_x, src_y), (test_x, test_y) = fashion_mnist.load_pool_and_test(
        a.pool, a.data, "uniprot_fashion_mnist")
    rng = np.random.default_rng(1)
    keep = rng.random(len(test_y)) < np.asarray(TARGET_KEEP)[test_y]
    rows = np.flatnonzero(keep)[:a.targets]
    tgt_x, tgt_y = test_x[rows], test_y[rows]

    def pixels(x):
        return x.reshape(len(x), -1).astype(np.float32)

    ctx = subsel.Context(seed=1)
    objective = subsel.UniPROT(source=pixels(src_x), target=pixels(tgt_x),
                               k=a.k, reg=0.05, ctx=ctx)
    # gains may be negative: never stop early
    chosen = subsel.Optimizer("naive", budget=a.k, stop_nonpositive=0,
                              ctx=ctx).run(objective, ctx=ctx).indices
    random = rng.choice(len(src_x), a.k, replace=False)
    accuracy = {name: subsel.nn_accuracy(pixels(src_x), src_y, rows_,
                                         pixels(tgt_x), tgt_y, ctx=ctx)
                for name, rows_ in (("UniPROT", chosen), ("random", random))}
    names = fashion_mnist.CLASSES
    print(f"UniPROT on Fashion-MNIST: {a.k} prototypes of {len(src_x)} "
          f"training images for {len(tgt_x)} test images")
    print("  prototypes:", " ".join(names[c] for c in src_y[chosen]))
    print(f"  1-NN accuracy on the target: UniPROT {accuracy['UniPROT']:.3f}, "
          f"random {accuracy['random']:.3f}")
    if a.png:
        from subsel import plot
        plot.prototypes(a.png, [
            (f"UniPROT\n(1-NN {accuracy['UniPROT']:.2f})", src_x[chosen],
             src_y[chosen]),
            (f"random\n(1-NN {accuracy['random']:.2f})", src_x[random],
             src_y[random])], names,
            title=f"{a.k} UniPROT prototypes of a footwear-and-bags target, "
                  "and as many random images")
        print(a.png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
