"""Choosing a code's decision threshold from out-of-fold scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


METHODS = ("f1", "balanced")


def choose_threshold(y: np.ndarray, scores: np.ndarray, method: str = "f1") -> tuple[float, float]:
    """A code's threshold from out-of-fold scores, and the F1 it gives there.

    ``f1``: the threshold with the best (smoothed) F1; ties go to the one nearest 0.5. ``balanced``: the
    threshold at which as many fragments are coded as have the code (precision = recall on the held-out
    folds), never above the ``f1`` threshold: on new wording scores drop, and an F1-optimal threshold chosen
    on the researchers' own wording then trades far too much recall for precision.
    """
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3)
    f1s = []
    positives = max(int(y.sum()), 1)
    for t in grid:
        pred = scores >= t
        tp = int((pred & (y == 1)).sum())
        denom = int(pred.sum()) + positives
        f1s.append(2 * tp / denom if denom else 0.0)
    f1 = np.array(f1s)
    smooth = np.convolve(np.pad(f1, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    best = max(range(len(grid)), key=lambda i: (round(smooth[i], 9), -abs(grid[i] - 0.5)))
    if method == "balanced":
        gap = [abs(int((scores >= t).sum()) - positives) for t in grid[:best + 1]]
        best = min(range(best + 1), key=lambda i: (gap[i], -grid[i]))
    return float(grid[best]), float(f1[best])


def pooled_threshold(outcomes: Sequence[tuple[np.ndarray, np.ndarray]], method: str = "f1") -> float:
    """The threshold :func:`choose_threshold` gives on the out-of-fold scores of every code together
    (``outcomes``: one ``(y, scores)`` pair per code): what the codes as a population say."""
    y = np.concatenate([o[0] for o in outcomes])
    scores = np.concatenate([o[1] for o in outcomes])
    return choose_threshold(y, scores, method)[0]


def shrink_threshold(threshold: float, pooled: float, positives: int, k: float) -> float:
    """A code's threshold shrunk toward the pooled one with weight ``k / (positives + k)``.

    Empirical-Bayes style: a threshold chosen on the out-of-fold scores of a few positives is noisy, so a
    code with few training examples leans on the pooled threshold and one with many keeps its own.
    ``k`` 0 leaves the threshold as it is.
    """
    if k <= 0:
        return threshold
    weight = k / (max(int(positives), 0) + k)
    return round(float(weight * pooled + (1 - weight) * threshold), 4)
