"""Plateaus of loss curves: detection, and the time at which a loss escapes one.

Curves are read on logarithmic time (iterations or flow time t > 0), as they are drawn, and
through their running minimum (the best loss so far), so that noise of stochastic training
does not break a plateau apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..shared.fits import fit_line


def running_minimum(losses: np.ndarray) -> np.ndarray:
    """min_{j <= k} L_j, with non-finite losses counted as +inf."""
    values = np.where(np.isfinite(losses), losses, np.inf)
    return np.minimum.accumulate(values)


def log_indices(count: int, points_per_decade: int) -> np.ndarray:
    """Iterations to keep of a curve of ``count`` points: 0, the distinct roundings of
    10^(j / points_per_decade) below count, and count - 1."""
    decades = np.log10(max(count - 1, 1))
    grid = np.round(np.logspace(0, decades, int(np.ceil(decades * points_per_decade)) + 1))
    return np.unique(np.concatenate([[0], grid.astype(int), [count - 1]]))


def first_crossing(times: np.ndarray, losses: np.ndarray, level: float) -> float:
    """The first time t with L(t) <= level (+inf if never).

    Between the last point above the level and the first point below, (log t, log L) is
    interpolated linearly; only times t > 0 are considered.
    """
    times, losses = np.asarray(times, dtype=float), np.asarray(losses, dtype=float)
    keep = times > 0
    times, losses = times[keep], losses[keep]
    below = np.flatnonzero(losses <= level)
    if below.size == 0:
        return np.inf
    k = below[0]
    if k == 0:
        return float(times[0])
    t0, t1 = np.log(times[k - 1]), np.log(times[k])
    l0, l1 = np.log(losses[k - 1]), np.log(max(losses[k], 1e-300))
    if not np.isfinite(l0):
        return float(times[k])
    fraction = (l0 - np.log(level)) / (l0 - l1)
    return float(np.exp(t0 + fraction * (t1 - t0)))


def escape_level(plateau_loss: float, final_loss: float, fraction: float) -> float:
    """final + fraction (plateau - final): a level between a plateau and the loss reached."""
    return final_loss + fraction * (plateau_loss - final_loss)


@dataclass(frozen=True)
class PlateauCriteria:
    """What counts as a plateau of a loss curve L(t) on log-log axes.

    A plateau is a stretch of time over which the running minimum is flat at the scale
    ``min_span``: every window [t, t'] of span t'/t = ``min_span`` inside it has
    log(L(t) / L(t')) <= ``max_slope`` log(min_span). Its loss must still be a factor >= ``drop``
    above an attainable loss (by default the loss at the end of the run); that separates a
    plateau from convergence to the final loss.
    """

    max_slope: float = 0.1
    min_span: float = 5.0
    drop: float = 3.0

    def __post_init__(self) -> None:
        if self.max_slope <= 0 or self.min_span <= 1 or self.drop <= 1:
            raise ValueError("plateau: need max_slope > 0, min_span > 1 and drop > 1")

    @property
    def flat_ratio(self) -> float:
        """(min_span)^(-max_slope): the furthest a loss may fall over a flat window, as a ratio."""
        return self.min_span**-self.max_slope


@dataclass(frozen=True)
class Plateau:
    """A detected plateau from ``start`` to ``end`` at loss ``level`` (the median of the running
    minimum over it); the loss at its end is ``drop`` times the attainable loss."""

    start: float
    end: float
    level: float
    drop: float


def find_plateau(
    times: np.ndarray,
    losses: np.ndarray,
    criteria: PlateauCriteria,
    attainable: float | None = None,
    points_per_decade: int = 50,
    after_descent: bool = False,
) -> Plateau | None:
    """The last plateau that meets ``criteria`` (runs often start flat on log axes), or None.

    The running minimum is read at ``points_per_decade`` log-spaced times. Window i runs from
    grid time t_i to the first grid time >= min_span t_i; a plateau is a maximal run of
    consecutive flat windows, from the start of its first window to the end of its last. The
    drop is measured against ``attainable`` (default: the curve's own final loss), e.g. the
    best loss another optimizer reached on the same problem.

    ``after_descent``: count only plateaus whose running minimum at their start is below
    L_0 (min_span)^(-max_slope), L_0 the first finite loss at t > 0: a stall after a first
    descent, as when the short-memory part of a target is fitted and the long-memory part is
    not. A curve's first iterations are flat on log axes whatever the target (Adam moves each
    weight by about lr per step); this excludes that start-up, and with it a stall at the
    initial loss (plain gradient descent's plateau) or one entered after a smaller descent.
    """
    times, losses = np.asarray(times, dtype=float), np.asarray(losses, dtype=float)
    keep = times > 0
    times, best = times[keep], running_minimum(losses[keep])
    if times.size < 2 or not np.isfinite(best[-1]):
        return None
    decades = np.log10(times[-1] / times[0])
    grid = times[0] * np.logspace(0, decades, int(decades * points_per_decade) + 1)
    index = np.searchsorted(times, grid * (1 + 1e-12), side="right") - 1
    t, level = times[index], best[index]
    ends = np.searchsorted(t, t * criteria.min_span * (1 - 1e-12))
    inside = ends < len(t)
    ends = np.minimum(ends, len(t) - 1)
    allowed = criteria.max_slope * np.log(criteria.min_span)
    with np.errstate(invalid="ignore"):
        flat = inside & np.isfinite(level) & (np.log(level / level[ends]) <= allowed)
    floor = best[-1] if attainable is None else min(attainable, best[-1])
    first_loss = best[np.isfinite(best)][0]
    ceiling = first_loss * criteria.flat_ratio if after_descent else np.inf
    found = None
    for run in np.split(np.arange(len(t)), np.flatnonzero(np.diff(flat.astype(int))) + 1):
        a, b = run[0], ends[run[-1]]
        if flat[a] and level[a] < ceiling and level[b] >= criteria.drop * floor:
            median = float(np.median(level[a : b + 1]))
            found = Plateau(float(t[a]), float(t[b]), median, float(level[b] / floor))
    return found


@dataclass(frozen=True)
class ScalingFit:
    """log tau = intercept + slope x, fitted by least squares, with its R^2."""

    slope: float
    intercept: float
    r2: float
    count: int


def exponential_scaling(x: np.ndarray, times: np.ndarray) -> ScalingFit:
    """Fit log(times) against x over the finite, positive times (e.g. x = 1/omega)."""
    x, times = np.asarray(x, dtype=float), np.asarray(times, dtype=float)
    keep = np.isfinite(times) & (times > 0)
    if keep.sum() < 3:
        return ScalingFit(np.nan, np.nan, np.nan, int(keep.sum()))
    line = fit_line(x[keep], np.log(times[keep]))
    return ScalingFit(line.slope, line.intercept, line.r2, int(keep.sum()))
