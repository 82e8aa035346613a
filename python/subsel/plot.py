# SPDX-License-Identifier: MIT
"""Pictures of selections, as PNG files: the class mix of a target and of
selections as grouped bars with a distance to the target each (KL, total
variation, OT) and a row of sample images per selection; prototypes as a
grid of images with their class; score distributions of a pool and its
selections. `./run demo` and the Python examples draw with it.

matplotlib is imported when a picture is drawn, not with the package, so
subsel works without it; a missing matplotlib raises ImportError saying
how to install it. Figures are drawn on matplotlib's Agg canvas (no
display, no pyplot state), at a fixed size and dpi: every picture is
exactly size[0] * dpi by size[1] * dpi pixels.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

__all__ = ["class_mix", "prototypes", "score_distributions"]


def _figure(size, dpi):
    """A matplotlib Figure on an Agg canvas."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(
            "subsel.plot needs matplotlib: apt-get install python3-matplotlib "
            "(Debian), or pip install 'subsel[plot]'") from e
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> str:
    # No bbox_inches="tight": it would make the pixel size depend on the
    # labels' extent.
    path = os.fspath(path)
    fig.savefig(path, format="png", dpi=fig.dpi)
    return path


def _mix(labels, classes: int) -> np.ndarray:
    labels = np.asarray(labels, dtype=np.int64).ravel()
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in [0, {classes})")
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    return counts / max(labels.size, 1)


def _bars(ax, groups, class_names, metric: Optional[str]):
    """Grouped bars: one bar per (class, group), the group's share of the
    class; the legend names each group with its metric value."""
    width = 0.8 / max(len(groups), 1)
    x = np.arange(len(class_names))
    for i, (name, labels, value) in enumerate(groups):
        label = name
        if metric is not None and value is not None:
            names = (metric,) if isinstance(metric, str) else metric
            values = value if isinstance(value, (tuple, list)) else (value,)
            label = f"{name} ({', '.join(f'{m} {v:.3g}' for m, v in zip(names, values))})"
        ax.bar(x + (i - (len(groups) - 1) / 2) * width,
               100 * _mix(labels, len(class_names)), width, label=label)
    ax.set_xticks(x)
    ax.set_xticklabels(class_names, fontsize=8)
    ax.set_ylabel("share of items (%)")
    ax.legend(fontsize=8)


def _mosaic(images, count: int) -> np.ndarray:
    """Up to `count` images (n x h x w) side by side, one pixel apart
    (NaN, drawn blank)."""
    images = np.asarray(images, dtype=np.float64)[:count]
    if images.ndim != 3:
        raise ValueError("images must be n x height x width")
    n, h, w = images.shape
    out = np.full((h, count * (w + 1) - 1 if count else 0), np.nan)
    for i in range(n):
        out[:, i * (w + 1):i * (w + 1) + w] = images[i]
    return out


def class_mix(path, groups: Sequence, class_names: Sequence[str], *,
              metric: Optional[str] = "KL", title: Optional[str] = None,
              samples: int = 12, size=(12, 8), dpi: int = 100) -> str:
    """Writes a PNG: the class mix of each group as grouped bars, then a
    row of sample images per group. Returns the path.

    groups: (name, labels, value, images) per group, e.g. the target, a
      selection, a random selection: labels the class number of each item,
      value its distance to the target (shown as "name (metric value)";
      None for the target itself), images an n x height x width array of
      its items (the first `samples` are shown), or None for no row.
    class_names: one name per class number.
    metric: what value is (KL, TV, OT), or a tuple of names when each
      value is a tuple of as many numbers; None shows no values.
    size, dpi: the figure in inches and its dots per inch; the PNG is
      size[0] * dpi x size[1] * dpi pixels.
    """
    fig = _figure(size, dpi)
    rows = [g for g in groups if g[3] is not None]
    grid = fig.add_gridspec(1 + len(rows), 1,
                            height_ratios=[3] + [1] * len(rows),
                            left=0.12, right=0.98, top=0.93, bottom=0.03,
                            hspace=0.35)
    _bars(fig.add_subplot(grid[0]), [g[:3] for g in groups], class_names,
          metric)
    for r, (name, _, _, images) in enumerate(rows):
        ax = fig.add_subplot(grid[1 + r])
        ax.imshow(_mosaic(images, samples), cmap="gray_r",
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def prototypes(path, rows: Sequence, class_names: Sequence[str], *,
               title: Optional[str] = None, size=(12, 4),
               dpi: int = 100) -> str:
    """Writes a PNG: one row of images per group, each captioned with its
    class, e.g. UniPROT's prototypes above as many random items. Returns
    the path.

    rows: (name, images, labels) per row, images n x height x width and
      labels the n class numbers; rows may differ in length.
    size, dpi: as class_mix().
    """
    fig = _figure(size, dpi)
    cols = max((len(r[1]) for r in rows), default=1)
    grid = fig.add_gridspec(len(rows), max(cols, 1), left=0.12, right=0.99,
                            top=0.85 if title else 0.95, bottom=0.02,
                            hspace=0.45, wspace=0.1)
    for r, (name, images, labels) in enumerate(rows):
        images = np.asarray(images)
        for c in range(len(images)):
            ax = fig.add_subplot(grid[r, c])
            ax.imshow(images[c], cmap="gray_r", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(class_names[int(labels[c])], fontsize=7, pad=2)
            if c == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center",
                              fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def score_distributions(path, groups: Sequence, *, score_name: str,
                        class_names: Optional[Sequence[str]] = None,
                        title: Optional[str] = None, bins: int = 30,
                        size=(12, 5), dpi: int = 100) -> str:
    """Writes a PNG: the distribution of a per-item score in each group
    (e.g. a pool and its selections) as density histograms on shared bins,
    beside the groups' class mix when class_names is given. Returns the
    path.

    groups: (name, scores, labels) per group; labels the class numbers
      (ignored without class_names).
    score_name: the x axis label, e.g. "image-caption cosine".
    size, dpi: as class_mix().
    """
    fig = _figure(size, dpi)
    panels = 2 if class_names is not None else 1
    axes = [fig.add_subplot(1, panels, i + 1) for i in range(panels)]
    if class_names is not None:
        _bars(axes[0], [(name, labels, None) for name, _, labels in groups],
              class_names, None)
    every = np.concatenate([np.asarray(s, np.float64).ravel()
                            for _, s, _ in groups])
    edges = np.histogram_bin_edges(every, bins=bins)
    for name, scores, _ in groups:
        axes[-1].hist(np.asarray(scores, np.float64).ravel(), bins=edges,
                      density=True, histtype="step", linewidth=1.5,
                      label=f"{name} (mean {np.mean(scores):.3g})")
    axes[-1].set_xlabel(score_name)
    axes[-1].set_ylabel("density")
    axes[-1].legend(fontsize=8)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.15,
                        wspace=0.25)
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, path)
