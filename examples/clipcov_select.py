# SPDX-License-Identifier: MIT
"""Example: ClipCov from Python, as clipcov_select.c: choose K
image-caption pairs from proxy CLIP embeddings (DIR holds image.npy,
text.npy, label_emb.npy; classes zero-shot, every embedding normalised),
greedy then the double greedy filter. Prints the pairs per class and the
objective before and after the filter; with --png, draws the pool, the
greedy selection and the filtered one (subsel.plot.score_distributions,
1200 x 500 pixels): their class mix, and the distribution of each pair's
image-caption cosine, the alignment ClipCov's cross-covariance rewards.

    python3 clipcov_select.py DIR [K] [--png OUT.png]
"""
import argparse
import os
import sys

import numpy as np

import subsel


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir")
    p.add_argument("k", type=int, nargs="?", default=50)
    p.add_argument("--png", help="write the picture to this PNG file")
    a = p.parse_args(argv)
    image, text, labels = (np.load(os.path.join(a.dir, f"{name}.npy"))
                           for name in ("image", "text", "label_emb"))
    f = subsel.ClipCov(image, text, labels, normalize=True)
    chosen, greedy = f.select(a.k)
    classes = f.classes()
    counts = np.bincount(classes[chosen.indices], minlength=len(labels))
    for c, n in enumerate(counts):
        print(f"class {c}: {n} pairs")
    print(f"greedy: {len(greedy)} pairs, F = {greedy.value:.6f}; after the "
          f"filter: {len(chosen)} pairs, F = {chosen.value:.6f}")
    if a.png:
        from subsel import plot
        unit = (image / np.linalg.norm(image, axis=1, keepdims=True),
                text / np.linalg.norm(text, axis=1, keepdims=True))
        cosine = (unit[0] * unit[1]).sum(axis=1)
        everything = np.arange(len(image))
        plot.score_distributions(a.png, [
            (name, cosine[rows], classes[rows]) for name, rows in
            (("pool", everything), ("greedy", greedy.indices),
             ("filtered", chosen.indices))],
            score_name="image-caption cosine",
            class_names=[f"class {c}" for c in range(len(labels))],
            title=f"ClipCov: {len(chosen)} of {len(image)} pairs")
        print(a.png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
