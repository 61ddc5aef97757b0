"""Choosing a code's decision threshold from out-of-fold scores."""

from __future__ import annotations

import numpy as np


def choose_threshold(y: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The threshold with the best (smoothed) F1 of out-of-fold scores; ties go to the one nearest 0.5."""
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
    return float(grid[best]), float(f1[best])
