"""The small statistics the analyses share: a least-squares line with its R^2, a mean with its
standard error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Line:
    """y ~ intercept + slope x; rss = sum_i (y_i - intercept - slope x_i)^2,
    r2 = 1 - rss / sum_i (y_i - mean y)^2 (1 for a constant y)."""

    slope: float
    intercept: float
    r2: float
    rss: float


def fit_line(x: np.ndarray, y: np.ndarray) -> Line:
    """The least-squares line through the points (x_i, y_i)."""
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    rss = float(np.sum(residual**2))
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - rss / total if total > 0 else 1.0
    return Line(float(slope), float(intercept), r2, rss)


def mean_and_error(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over axis 0 and its standard error sqrt(var / n), var the sample variance
    (ddof = 1; 0 for a single value)."""
    values = np.asarray(values)
    count = values.shape[0]
    spread = values.std(axis=0, ddof=1) if count > 1 else np.zeros_like(values[0], dtype=float)
    return values.mean(axis=0), spread / np.sqrt(count)
