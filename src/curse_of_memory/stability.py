"""Stability of approximation, computed from perturbation curves and spectra.

For widths m_1 < m_2 < ..., the crossing point beta*_i is the first beta at which E_{m_{i+1}}
reaches E_{m_i}, interpolated linearly on log-log axes (a jump to +inf is placed at the
geometric midpoint of its grid interval). Stable approximation: the crossings stay put as m
grows (a common beta_0 > 0); unstable: they move left toward 0. The trend is the least-squares
slope of log beta*_i against log sqrt(m_i m_{i+1}); its interval comes from a bootstrap over
the random draws (whole draws resampled with replacement, independently per width).

The mechanism of the theorem is that approximating long memory forces the stability margin
(smallest eigenvalue of A) to 0 as m grows, so its trend in m is evidence too. The verdict:

- ``stable``: the slope's interval lies above -slope_tolerance and the margin does not collapse;
- ``unstable``: the slope's interval lies below -slope_tolerance and the margin collapses;
- ``undetermined``: too few crossings, the two kinds of evidence disagree, or an interval
  straddles the tolerance. Small widths give weak evidence; this is then the honest answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .perturbation import perturbation_curve


@dataclass(frozen=True)
class StabilityConfig:
    """Thresholds fixed before looking at a target; see the module docstring for their meaning."""

    slope_tolerance: float = 0.5
    margin_slope_tolerance: float = 0.5
    min_crossings: int = 3
    bootstrap: int = 200
    confidence: float = 0.9
    require_margin_agreement: bool = True


def crossing_point(betas: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """First beta where the curve ``upper`` (larger width) reaches ``lower``.

    Returns 0.0 when upper >= lower already at beta = 0 (no improvement with width), nan when
    the curves do not meet on the grid, betas[1] when they meet between 0 and the first beta.
    """
    with np.errstate(invalid="ignore"):
        reached = upper >= lower
    if reached[0]:
        return 0.0
    if not reached.any():
        return math.nan
    j = int(np.argmax(reached))
    if j == 1:
        return float(betas[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        before = math.log(upper[j - 1]) - math.log(lower[j - 1])
        after = np.log(upper[j]) - np.log(lower[j])
    left, right = math.log(betas[j - 1]), math.log(betas[j])
    if np.isfinite(after):
        fraction = before / (before - after)
        return float(math.exp(left + fraction * (right - left)))
    return float(math.exp(0.5 * (left + right)))


def crossing_points(betas: np.ndarray, curves: Sequence[np.ndarray]) -> np.ndarray:
    """Crossing points of consecutive curves (widths in increasing order)."""
    return np.array([crossing_point(betas, a, b) for a, b in zip(curves[:-1], curves[1:])])


def log_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log y against log x over entries with y > 0 and finite (nan if < 2)."""
    keep = np.isfinite(y) & (y > 0)
    if keep.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


@dataclass
class StabilityAnalysis:
    """Evidence and verdict for one teacher's students."""

    widths: list[int]
    errors_at_zero: list[float]
    crossings: list[float]
    crossings_low: list[float]
    crossings_high: list[float]
    crossing_slope: float
    crossing_slope_low: float
    crossing_slope_high: float
    beta0: float
    beta0_low: float
    beta0_high: float
    margins: list[float]
    margin_slope: float
    improving_pairs: int
    verdict: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def _trend_statistics(
    betas: np.ndarray, curves: Sequence[np.ndarray], pair_widths: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """Crossings (right-censored at the largest beta), their slope in m, and beta_0."""
    crossings = crossing_points(betas, curves)
    usable = np.where(np.isnan(crossings), betas[-1], crossings)
    slope = log_slope(pair_widths, usable)
    positive = usable[usable > 0]
    beta0 = float(np.exp(np.mean(np.log(positive)))) if positive.size else math.nan
    return crossings, slope, beta0


def analyse(
    betas: np.ndarray,
    losses: Mapping[int, list[np.ndarray]],
    margins: Mapping[int, float],
    config: StabilityConfig,
    rng: np.random.Generator,
) -> StabilityAnalysis:
    """Crossings, bootstrap intervals, margin trend and verdict.

    losses[m] is the per-beta list of draw losses of width m (one loss at beta = 0, then R each).
    """
    widths = sorted(losses)
    betas = np.asarray(betas, dtype=float)
    widths_arr = np.array(widths, dtype=float)
    pair_widths = np.sqrt(widths_arr[:-1] * widths_arr[1:])
    curves = [perturbation_curve(losses[m]) for m in widths]
    crossings, slope, beta0 = _trend_statistics(betas, curves, pair_widths)

    samples = []
    for _ in range(config.bootstrap):
        resampled = []
        for m in widths:
            draws = len(losses[m][1])
            pick = rng.integers(0, draws, size=draws)
            resampled.append(perturbation_curve([losses[m][0]] + [v[pick] for v in losses[m][1:]]))
        c, s, b0 = _trend_statistics(betas, resampled, pair_widths)
        samples.append((c, s, b0))
    tail = 100 * (1 - config.confidence) / 2
    boot_crossings = np.array([np.where(np.isnan(c), betas[-1], c) for c, _, _ in samples])
    boot_slopes = np.array([s for _, s, _ in samples])
    boot_beta0 = np.array([b for _, _, b in samples])

    def interval(values: np.ndarray) -> tuple[float, float]:
        values = values[np.isfinite(values)]
        if values.size == 0:
            return math.nan, math.nan
        low, high = np.percentile(values, [tail, 100 - tail])
        return float(low), float(high)

    if boot_crossings.size:
        cross_low, cross_high = np.percentile(boot_crossings, [tail, 100 - tail], axis=0)
    else:
        cross_low = cross_high = np.array([])
    slope_low, slope_high = interval(boot_slopes)
    beta0_low, beta0_high = interval(boot_beta0)
    margin_values = np.array([margins[m] for m in widths], dtype=float)
    margin_slope = log_slope(widths_arr, margin_values) if np.all(margin_values > 0) else -math.inf
    errors = np.array([curve[0] for curve in curves])
    improving = int(np.sum(errors[1:] < errors[:-1]))
    verdict, reason = decide(
        crossings, (slope_low, slope_high), margin_slope, config
    )
    return StabilityAnalysis(
        widths=widths,
        errors_at_zero=errors.tolist(),
        crossings=crossings.tolist(),
        crossings_low=np.asarray(cross_low).tolist(),
        crossings_high=np.asarray(cross_high).tolist(),
        crossing_slope=slope,
        crossing_slope_low=slope_low,
        crossing_slope_high=slope_high,
        beta0=beta0,
        beta0_low=beta0_low,
        beta0_high=beta0_high,
        margins=margin_values.tolist(),
        margin_slope=margin_slope,
        improving_pairs=improving,
        verdict=verdict,
        reason=reason,
    )


def decide(
    crossings: np.ndarray,
    slope_interval: tuple[float, float],
    margin_slope: float,
    config: StabilityConfig,
) -> tuple[str, str]:
    """Three-way verdict from the crossing-slope interval and the margin trend."""
    met = int(np.sum(~(crossings == 0)))
    if met < config.min_crossings:
        return "undetermined", (
            f"only {met} of {len(crossings)} width pairs improve at beta = 0 and can cross "
            f"(need {config.min_crossings})"
        )
    low, high = slope_interval
    if not (math.isfinite(low) and math.isfinite(high)):
        return "undetermined", "the crossing trend could not be estimated"
    tol, margin_tol = config.slope_tolerance, config.margin_slope_tolerance
    margin_collapses = margin_slope < -margin_tol
    margin_note = f"margin slope {margin_slope:.2f} (collapse below {-margin_tol})"
    crossing_note = f"crossing slope interval [{low:.2f}, {high:.2f}] vs tolerance {-tol}"
    if high < -tol:
        if margin_collapses or not config.require_margin_agreement:
            return "unstable", f"crossings move left: {crossing_note}; {margin_note}"
        return "undetermined", f"crossings move left but the margin does not collapse: " \
            f"{crossing_note}; {margin_note}"
    if low > -tol:
        if not margin_collapses or not config.require_margin_agreement:
            return "stable", f"crossings stay put: {crossing_note}; {margin_note}"
        return "undetermined", f"crossings stay put but the margin collapses: " \
            f"{crossing_note}; {margin_note}"
    return "undetermined", f"the crossing trend is not resolved: {crossing_note}; {margin_note}"
