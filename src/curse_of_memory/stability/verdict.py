"""Stability of approximation, computed from perturbation curves and spectra.

For widths m_1 < m_2 < ..., the crossing point beta*_i is the first beta at which E_{m_{i+1}}
reaches E_{m_i}, interpolated linearly on log-log axes (a jump to +inf is placed at the
geometric midpoint of its grid interval). Stable approximation: the crossings stay put as m
grows (a common beta_0 > 0); unstable: they move left toward 0. The trend is the least-squares
slope of log beta*_i against log sqrt(m_i m_{i+1}); its interval comes from a bootstrap over
the random draws (whole draws resampled with replacement, independently per width).

Crossings only mean something for students that approximate the target (the theorem is about
a sequence of students whose error goes to 0 as m grows), so the evidence is chosen by the
precondition (:func:`precondition`):

- ``blow-ups``: every student represents the target to the resolution of the beta grid
  (E_m(0) <= ``represented_ratio`` x the zero predictor's loss, as for an exponential kernel that
  one mode represents exactly). Crossings of curves that all start at rounding level are noise;
  stability is then the boundedness of E_m(beta) itself, and the trend is that of the blow-up
  points b_m, the first beta at which E_m diverges: a draw's loss passes the divergence ratio
  or its recurrence runs away (:mod:`.perturbation`; b_m at the geometric midpoint of its grid
  interval), or beta passes the runaway radius r_m, beyond which the ball E_m is a sup over
  holds a student that runs away (:mod:`.runaway_radius`; b_m = r_m exactly);
- ``crossings``: otherwise, E_m(0) falls from the smallest to the largest width by at least
  ``min_improvement`` and at least ``min_crossings`` consecutive pairs are *informative*
  (:func:`informative_pairs`): *resolved* (E_m(0) falls by ``min_improvement`` within the pair
  too: a pair that improves less starts its curves within one grid step of each other) and
  with the narrower curve not *perturbation-dominated* at the grid's first beta
  (E_m(beta_1) < min_improvement x E_m(0)), so that the crossing is where the wider student's
  perturbation reaches the narrower one's approximation error. Other crossings are reported,
  never used. Such a crossing sits near sqrt(E_{m_i}(0) / S_{m_{i+1}}) (S: below), which moves
  left whenever E_m(0) falls faster than S grows: harmless for ``stable``, and ``unstable``
  also needs the margin to collapse;
- ``sensitivity``: E_m(0) falls from the smallest to the largest width by ``min_improvement``
  (the students approximate the target) but too few pairs are informative. With
  E_m(beta) ~ E_m(0) + S_m beta^2 and S_m nearly equal across widths, two dominated curves
  cross at beta* ~ sqrt((E_m(0) - E_m'(0)) / (S_m' - S_m)), a place set by the noise of a max
  over draws (measured: IAT-1b's least-squares students re-perturbed with 20 independent sets
  of 30 draws had crossing slopes from -2.5 to +2.9, `unstable` in 3 sets). The evidence is
  then the definition's own quantity: stable approximation means E(beta) = limsup_m E_m(beta)
  stays bounded near beta = 0, so the trend is that of the perturbation excess
  s_m = E_m(beta_1) - E_m(0) in m, the least-squares slope of log s_m on log m (+inf when a
  student diverges at beta_1, even the narrowest; nan when some s_m <= 0: both count against
  ``stable``). It reads ``stable`` when the excess grows slower than m^slope_tolerance (the
  slope's interval lies below it) and the blow-up points stay put (their slope's interval lies
  above -slope_tolerance), and ``unstable`` when instead E_m(beta) diverges at ever smaller
  beta: the blow-up points move toward 0 (their interval lies below -slope_tolerance; a
  student that never diverges on the grid counts as beyond it) while a reachable margin
  collapses, the theorem's mechanism. E_m = inf from b_m on, so this holds however small the
  excess below b_m is (IAT-1b: a perturbation that pushes an eigenvalue below 0 runs away, and
  the blow-ups follow the collapsing margin, 0.076 -> 0.0067 for m = 2-8). A growing excess
  without diverging students is ``undetermined``: it does not show E_m(beta) unbounded at every
  beta > 0. Under a reachable margin ``stable`` also needs the target's memory known to be
  exponential, or every student's slowest mode to decay within the training window
  (:func:`theorem_check`, :func:`memory_within_window`): at these widths the students of
  polynomial memory keep their excess bounded too, their margins held at the window's scale;
- ``none``: E_m(0) does not fall by ``min_improvement``; the verdict is ``undetermined`` with
  what would resolve it.

A crossing that does not happen on the grid is *beyond the grid*: all we know is beta* >
beta_max. One reached already at the first beta is *below the grid*: beta* <= beta_1. Neither
enters beta_0. The slope is linear in the log crossings, slope = sum_i w_i log beta*_i with
w_i = (x_i - xbar) / sum_j (x_j - xbar)^2, x = log m, so over what the grid allows for each
crossing it ranges over [S_min, S_max] (:func:`slope_bounds`): a crossing on the grid is
exact, one beyond it lies in [beta_max, inf), one below it in (0, beta_1]. "Stay put" is tested
on S_min and "move left" on S_max, so a censored crossing only ever counts against the verdict
it could overturn. When no informative pair crosses on the grid, every wider student stays below
the narrower one up to beta_max: the crossings stay put at beta* > beta_max (S_min = inf).
The blow-up slope's interval is taken in the same way (:func:`blowup_slope_bounds`): a blow-up
the draws set is only known to lie in its grid interval (0 to beta_1 for a divergence at the
first beta), one beyond the grid in [beta_max, inf); one the runaway radius sets is exact, the
same in every bootstrap resample. Neither sees how much the trend hangs on one student (each
width is one training run): with three or more blow-ups on the grid, the interval also spans
the slopes with any one of them left out (:func:`leave_one_out_slopes`), so that no single width
decides a verdict. When no student diverges on the grid they stay put. Every
curve is +inf beyond its radius (crossings and excess included): the draws are points of the
ball, the radius its exact worst case for runaway (for the direct parameterization of a
diagonal A, r_m is the margin min lam itself unless a mode lies nearer 2 / dt).

The mechanism of the theorem is that approximating long memory forces the stability margin
(smallest eigenvalue of A) to 0 as m grows, so its trend in m is evidence too. The verdict:

- ``stable``: the trend's interval lies above -slope_tolerance (for the sensitivity: the
  excess's below +slope_tolerance and the blow-ups' above -slope_tolerance) and the margin does
  not collapse;
- ``unstable``: the trend's interval lies below -slope_tolerance (for the sensitivity: that of
  the blow-up points) and the margin collapses
  (never under a stable parameterization: no perturbation of w reaches its margin, the
  theorem's mechanism, and curves whose perturbation parts nearly coincide still cross at
  beta* ~ sqrt((E_m(0) - E_m'(0)) / (S_m' - S_m)), which moves left as E_m(0) falls);
- ``undetermined``: the precondition fails, the two kinds of evidence disagree, or an interval
  straddles the tolerance. Small widths give weak evidence; this is then the honest answer.
  So is an ``unstable`` reading that cannot be the target's (:func:`instability_check`): its
  memory is known to decay exponentially, or a student has a mode at lam <= 0 that its fit
  does not need (raised to beta_1, the loss changes by less than min_improvement:
  :mod:`.edge_modes`), which any perturbation makes run away. When instead the fit of every
  width needs its mode at lam <= 0 (an integrating target), E_m(beta) = inf for every beta
  the grid resolves at every width, and the verdict is ``unstable`` (under a reachable margin,
  unless the memory is known to decay exponentially), whatever the trend of the blow-ups.

The evidence is read at a few finite widths, the theorem speaks of m -> infinity: when the
target's memory is known exactly (a linear functional, M = |rho| on the grid) and is not
shown to decay exponentially (its label is polynomial, non-decaying or undetermined, as for a
stretched exponential exp(-sqrt t)), a parameterization whose margin perturbations reach cannot
approximate it stably (the theorem: stable approximation implies exponential decay), so a
``stable`` reading is a finite-width one: students that have not yet resolved the memory's
tail, whose margin has not yet had to shrink. The verdict is then ``undetermined``, with that
reason (:func:`theorem_check`), never ``stable``.
Measured: relu and tanh students of widths 4-64 on rho = (t+1)^-1.1 and (t+1)^-1.5 had
perturbation excesses E_m(beta) - E_m(0) falling as m^-1.4 to m^-2 (and, before runaways
counted as divergence, blow-up points moving right).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from .curves import analysed_curve

EXPONENTIAL = "exponential"  # the one memory label compatible with stable approximation
SLOW_MEMORY = ("polynomial", "non-decaying")  # labels that rule it out (undetermined: neither)


@dataclass(frozen=True)
class StabilityConfig:
    """Thresholds fixed before looking at a target; see the module docstring for their meaning."""

    slope_tolerance: float = 0.5
    margin_slope_tolerance: float = 0.5
    min_crossings: int = 3
    bootstrap: int = 200
    confidence: float = 0.9
    require_margin_agreement: bool = True
    min_improvement: float = 2.0
    represented_ratio: float = 1e-6


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
    """Least-squares slope of log y against log x over finite y > 0 (nan if fewer than 2)."""
    keep = np.isfinite(y) & (y > 0)
    if keep.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def perturbation_excess(curves: Sequence[np.ndarray]) -> np.ndarray:
    """s_m = E_m(beta_1) - E_m(0) of each curve (nan when E_m(0) is already +inf)."""
    with np.errstate(invalid="ignore"):
        return np.array([curve[1] - curve[0] for curve in curves], dtype=float)


def excess_slope(widths: np.ndarray, excess: np.ndarray) -> float:
    """Least-squares slope of log s_m against log m for the perturbation excesses s_m:
    +inf when some s_m is +inf (a diverged student), nan when some s_m <= 0 (not resolved)."""
    excess = np.asarray(excess, dtype=float)
    if np.any(np.isposinf(excess)):
        return math.inf
    if not np.all(excess > 0):
        return math.nan
    return float(np.polyfit(np.log(widths), np.log(excess), 1)[0])


def blowup_bounds(
    betas: np.ndarray, curve: np.ndarray, radius: float = math.inf
) -> tuple[float, float]:
    """(low, high): where the curve first diverges. The runaway radius exactly (low = high =
    radius, :mod:`.runaway_radius`) when the draws diverge no earlier, even beyond the grid;
    else the draws' grid interval (beta_{j-1}, beta_j], (0, beta_1] at the first beta, and
    (beta_max, inf) when nothing diverges on the grid."""
    diverged = np.isinf(curve)
    j = max(int(np.argmax(diverged)), 1) if diverged.any() else None
    if math.isfinite(radius) and radius <= (betas[j] if j is not None else math.inf):
        return float(radius), float(radius)
    if j is None:
        return float(betas[-1]), math.inf
    return (0.0 if j == 1 else float(betas[j - 1])), float(betas[j])


def blowup_point(betas: np.ndarray, curve: np.ndarray, radius: float = math.inf) -> float:
    """First beta where the curve is +inf: the radius when it decides (:func:`blowup_bounds`),
    else the geometric midpoint of the grid interval (beta_1 at the first beta); nan if never."""
    return _bounds_point(*blowup_bounds(betas, curve, radius))


def _bounds_point(low: float, high: float) -> float:
    """The point :func:`blowup_point` places in (low, high)."""
    if high == math.inf:
        return math.nan
    if low == high:
        return low
    return high if low == 0 else math.sqrt(low * high)


@dataclass(frozen=True)
class Trend:
    """Points (crossings or blow-ups), their slope in log-log against width, and beta_0."""

    points: np.ndarray
    slope: float
    beta0: float


def trend(points: np.ndarray, at_widths: np.ndarray, used: np.ndarray | None = None) -> Trend:
    """Slope of log points vs log width and beta_0, the geometric mean of the points, over the
    ``used`` points on the grid (> 0 and finite: nan = beyond the grid, 0 = no improvement)."""
    on_grid = np.isfinite(points) & (points > 0)
    if used is not None:
        on_grid &= used
    beta0 = float(np.exp(np.mean(np.log(points[on_grid])))) if on_grid.any() else math.nan
    return Trend(points, log_slope(at_widths[on_grid], points[on_grid]), beta0)


def slope_bounds(
    points: np.ndarray, at_widths: np.ndarray, used: np.ndarray, betas: np.ndarray
) -> tuple[float, float]:
    """(S_min, S_max): the least-squares slope of log beta* on log m over the ``used`` points,
    smallest and largest over what the grid allows for each (module docstring).

    (inf, inf) when no used point is on the grid or below it (none crosses up to beta_max);
    (-inf, inf) with fewer than two used points.
    """
    points = np.asarray(points, dtype=float)[used]
    beyond = np.isnan(points)
    below = ~beyond & (points <= betas[1])
    exact = np.log(np.where(beyond | below, 1.0, points))
    low = np.where(below, -math.inf, exact)
    high = np.where(below, math.log(betas[1]), exact)
    x = np.log(np.asarray(at_widths, dtype=float)[used])
    return _censored_slope_range(x, beyond, low, high, betas[-1])


def blowup_slope_bounds(
    bounds: np.ndarray, widths: np.ndarray, beta_max: float
) -> tuple[float, float]:
    """(S_min, S_max) of the least-squares slope of log b_m on log m, each blow-up anywhere in
    its (low, high) of :func:`blowup_bounds` (a point for a runaway radius, [beta_max, inf)
    beyond the grid). (inf, inf) when no student diverges on the grid (they stay put beyond it);
    (-inf, inf) with fewer than two widths."""
    low, high = np.asarray(bounds, dtype=float).T
    beyond = np.isinf(high)
    with np.errstate(divide="ignore"):
        log_low, log_high = np.log(low), np.log(high)
    x = np.log(np.asarray(widths, dtype=float))
    return _censored_slope_range(x, beyond, log_low, log_high, beta_max)


def _censored_slope_range(
    x: np.ndarray, beyond: np.ndarray, low: np.ndarray, high: np.ndarray, beta_max: float
) -> tuple[float, float]:
    """:func:`_slope_range` with the ``beyond``-the-grid points in [log beta_max, inf):
    (inf, inf) when every point is beyond it, (-inf, inf) with fewer than two points."""
    if x.size < 2:
        return -math.inf, math.inf
    if beyond.all():
        return math.inf, math.inf
    low = np.where(beyond, math.log(beta_max), low)
    return _slope_range(x, low, np.where(beyond, math.inf, high))


def _slope_range(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[float, float]:
    """Smallest and largest least-squares slope on x of values y_i anywhere in [low_i, high_i]:
    the slope is sum_i w_i y_i with w_i = (x_i - xbar) / sum_j (x_j - xbar)^2."""
    weights = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    weights[np.abs(weights) < 1e-12 * np.max(np.abs(weights))] = 0.0  # the centre width: 0
    up, down = weights > 0, weights < 0
    smallest = np.sum(weights[up] * low[up]) + np.sum(weights[down] * high[down])
    largest = np.sum(weights[up] * high[up]) + np.sum(weights[down] * low[down])
    return float(smallest), float(largest)


def resolved_pairs(errors: np.ndarray, config: StabilityConfig) -> np.ndarray:
    """Pair (m_i, m_{i+1}) is resolved when E_{m_{i+1}}(0) <= E_{m_i}(0) / min_improvement."""
    errors = np.asarray(errors, dtype=float)
    with np.errstate(invalid="ignore"):
        return errors[1:] * config.min_improvement <= errors[:-1]


def informative_pairs(
    errors: np.ndarray, at_first_beta: np.ndarray, config: StabilityConfig
) -> np.ndarray:
    """Pairs whose crossing is evidence: resolved, and the narrower curve still flat at beta_1
    (E_{m_i}(beta_1) < min_improvement x E_{m_i}(0)), so that the wider student's perturbation
    meets the narrower one's approximation error, not its perturbation part (module docstring)."""
    narrower = np.asarray(at_first_beta, dtype=float)[:-1]
    with np.errstate(invalid="ignore"):
        flat = narrower < config.min_improvement * np.asarray(errors, dtype=float)[:-1]
    return resolved_pairs(errors, config) & flat


@dataclass(frozen=True)
class Precondition:
    """Which evidence the students support, and why (see the module docstring)."""

    evidence: str  # "crossings" | "sensitivity" | "blow-ups" | "none"
    improvement: float  # E_{m_1}(0) / E_{m_n}(0)
    improving_pairs: int  # resolved pairs (:func:`resolved_pairs`)
    informative_pairs: int  # resolved pairs whose crossing is evidence (:func:`informative_pairs`)
    fit_ratio: float  # max_m E_m(0) / loss of the zero predictor
    reason: str
    resolve: str  # what would resolve an undetermined verdict ("" when evidence is usable)


def precondition(
    widths: Sequence[int],
    errors: np.ndarray,
    zero_loss: float,
    converged: Sequence[bool],
    config: StabilityConfig,
    at_first_beta: np.ndarray,
) -> Precondition:
    """Do the students approximate the target well enough for their curves to be evidence, and
    which evidence? ``at_first_beta`` holds E_m(beta_1) (module docstring: perturbation-dominated
    curves)."""
    errors = np.asarray(errors, dtype=float)
    fits = errors / zero_loss
    worst = float(np.max(fits))
    improving = int(np.sum(resolved_pairs(errors, config)))
    informative = int(np.sum(informative_pairs(errors, at_first_beta, config)))
    if not np.all(np.isfinite(errors)):
        bad = [m for m, e in zip(widths, errors) if not np.isfinite(e)]
        return Precondition(
            "none",
            math.nan,
            improving,
            informative,
            math.inf,
            f"E_m(0) is not finite for m = {bad} (training diverged)",
            "train with a smaller learning rate or gradient clip",
        )
    improvement = float(errors[0] / errors[-1]) if errors[-1] > 0 else math.inf
    if worst <= config.represented_ratio:
        return Precondition(
            "blow-ups",
            improvement,
            improving,
            informative,
            worst,
            f"every student represents the target (E_m(0) <= {worst:.3g} x the zero "
            f"predictor's loss, at most {config.represented_ratio:g}), so crossings are "
            "rounding noise and the blow-up points carry the trend",
            "",
        )
    needed = min(config.min_crossings, len(widths) - 1)
    fall = (
        f"E_m(0) falls by a factor {improvement:.3g} from m = {widths[0]} to m = {widths[-1]} "
        f"(needs >= {config.min_improvement:g}) and by that factor within {improving} of "
        f"{len(widths) - 1} width pairs (needs >= {needed})"
    )
    if improvement >= config.min_improvement:
        if informative >= needed:  # informative pairs are resolved ones
            return Precondition("crossings", improvement, improving, informative, worst, fall, "")
        why = (
            f"of those, {informative} (needs >= {needed}) have a narrower curve still flat at "
            f"beta_1 (E_m(beta_1) < {config.min_improvement:g} x E_m(0)); the others cross "
            "where perturbation parts meet"
            if improving >= needed
            else "too few resolved pairs for the crossings"
        )
        return Precondition(
            "sensitivity",
            improvement,
            improving,
            informative,
            worst,
            f"{fall}; {why}: the perturbation excess at beta_1 and the blow-up points carry "
            "the trend",
            "",
        )
    stalled = [m for m, done in zip(widths, converged) if not done]
    if stalled:
        resolve = f"train longer: the students m = {stalled} stopped while their loss still fell"
    else:
        resolve = (
            "every student converged at a visible error (up to "
            f"{worst:.3g} x the zero predictor's loss): wider widths, more data, or a target "
            "within the student family's reach"
        )
    return Precondition("none", improvement, improving, informative, worst, fall, resolve)


@dataclass
class StabilityAnalysis:
    """Evidence and verdict for one teacher's students (beyond-grid points are nan)."""

    widths: list[int]
    errors_at_zero: list[float]
    improving_pairs: int
    informative_pairs: int
    improvement: float  # E_{m_1}(0) / E_{m_n}(0)
    fit_ratio: float  # max_m E_m(0) / loss of the zero predictor
    evidence: str  # "crossings", "sensitivity", "blow-ups" or "none": what the verdict rests on
    precondition: str  # why that evidence
    crossings: list[float]
    crossings_informative: list[bool]  # pairs whose crossing is evidence (informative_pairs)
    crossings_beyond_grid: list[bool]
    crossings_below_grid: list[bool]  # at or below the first beta: an upper bound
    crossings_low: list[float]
    crossings_high: list[float]
    crossing_slope: float
    crossing_slope_low: float
    crossing_slope_high: float
    blowups: list[float]
    blowups_beyond_grid: list[bool]
    runaway_radii: list[float]  # beyond which E_m = +inf (:mod:`.runaway_radius`; inf: none)
    blowup_slope: float
    blowup_slope_low: float
    blowup_slope_high: float
    excess: list[float]  # s_m = E_m(beta_1) - E_m(0)
    excess_slope: float  # d log s_m / d log m
    excess_slope_low: float
    excess_slope_high: float
    beta0: float
    beta0_beyond_grid: bool  # no informative pair crosses (crossings) or no student diverges
    # (sensitivity) on the grid: beta_0 > beta_max
    beta0_low: float
    beta0_high: float
    margins: list[float]
    margin_slope: float
    margin_reachable: bool
    target_memory: str | None  # the target's memory label when known exactly, else None
    # the students read stable under a reachable margin, but the estimated memory is slow: the
    # theorem rules out one of the two (:func:`memory_conflict`; theorem_check says undetermined)
    memory_conflict: bool
    verdict: str
    reason: str
    resolve: str  # what would resolve an undetermined verdict

    def to_dict(self) -> dict:
        return asdict(self)


class Trends(NamedTuple):
    """What one set of curves (the draws, or a bootstrap resample of them) gives."""

    crossing: Trend  # over the ``used`` pairs
    blowup: Trend
    crossing_bounds: tuple[float, float]  # :func:`slope_bounds`
    excess_slope: float  # of E_m(beta_1) - E_m(0)
    blowup_bounds: tuple[float, float]  # :func:`blowup_slope_bounds`


def _trends(
    betas: np.ndarray,
    curves: Sequence[np.ndarray],
    widths: np.ndarray,
    used: np.ndarray,
    radii: np.ndarray,
) -> Trends:
    pair_widths = np.sqrt(widths[:-1] * widths[1:])
    crossings = crossing_points(betas, curves)
    bounds = [blowup_bounds(betas, curve, r) for curve, r in zip(curves, radii)]
    blowups = np.array([_bounds_point(low, high) for low, high in bounds])
    return Trends(
        trend(crossings, pair_widths, used),
        trend(blowups, widths),
        slope_bounds(crossings, pair_widths, used, betas),
        excess_slope(widths, perturbation_excess(curves)),
        blowup_slope_bounds(np.array(bounds), widths, betas[-1]),
    )


def leave_one_out_slopes(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Smallest and largest least-squares slope of y on x over the points with any one left
    out (and all of them): how far the trend hangs on a single width. (-inf, inf) with fewer
    than 3 points."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 3:
        return -math.inf, math.inf
    slopes = [np.polyfit(x, y, 1)[0]]
    for left_out in range(x.size):
        keep = np.arange(x.size) != left_out
        slopes.append(np.polyfit(x[keep], y[keep], 1)[0])
    return float(min(slopes)), float(max(slopes))


def _interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Two-sided percentile interval of the finite values (nan, nan if none)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _bounds_interval(
    bounds: Sequence[tuple[float, float]], confidence: float
) -> tuple[float, float]:
    """(lower quantile of S_min, upper quantile of S_max) over the bootstrap, infinities kept:
    a resample whose slope the grid cannot bound counts against both verdicts."""
    smallest, largest = np.asarray(bounds, dtype=float).T
    tail = (1 - confidence) / 2
    low = np.quantile(smallest, tail, method="lower")
    high = np.quantile(largest, 1 - tail, method="higher")
    return float(low), float(high)


def _unbounded_interval(values: Sequence[float], confidence: float) -> tuple[float, float]:
    """Two-sided percentile interval with infinities kept; an unresolved (nan) value counts
    against both ends (-inf for the lower, +inf for the upper)."""
    values = np.asarray(values, dtype=float)
    tail = (1 - confidence) / 2
    low = np.quantile(np.where(np.isnan(values), -math.inf, values), tail, method="lower")
    high = np.quantile(np.where(np.isnan(values), math.inf, values), 1 - tail, method="higher")
    return float(low), float(high)


def _pointwise_interval(points: np.ndarray, confidence: float) -> tuple[list, list]:
    """Percentile interval of each column over the bootstrap rows, beyond-grid (nan) left out."""
    columns = [_interval(column, confidence) for column in np.asarray(points, dtype=float).T]
    return [low for low, _ in columns], [high for _, high in columns]


def analyse(
    betas: np.ndarray,
    losses: Mapping[int, list[np.ndarray]],
    margins: Mapping[int, float],
    config: StabilityConfig,
    rng: np.random.Generator,
    zero_loss: float,
    margin_reachable: bool = True,
    converged: Mapping[int, bool] | None = None,
    target_memory: str | None = None,
    runaway_radii: Mapping[int, float] | None = None,
    lift_ratios: Mapping[int, float] | None = None,
    horizon: float | None = None,
    estimated_memory: str | None = None,
) -> StabilityAnalysis:
    """Precondition, crossings, blow-ups, bootstrap intervals, margin trend and verdict.

    losses[m] is the per-beta list of draw losses of width m (one loss at beta = 0, then R each).
    margin_reachable is False for stable parameterizations (lam = f(w) > 0 for every w): no
    perturbation of w reaches the margin, so the verdict rests on the trend alone.
    zero_loss is the test loss of the zero predictor; converged[m] says whether width m's
    training converged (only used to say what would resolve an undetermined verdict).
    target_memory is the decay label of the target's memory when it is known exactly (a linear
    functional's |rho|), else None (:func:`theorem_check`). runaway_radii[m] is width m's runaway
    radius (:mod:`.runaway_radius`): E_m(beta) = +inf for beta beyond it (default: none).
    lift_ratios[m], for a width m with a mode at the edge of stability (margin <= EDGE_MARGIN),
    is its test loss with that mode raised to beta_1 over its trained loss
    (:mod:`.edge_modes`); an edge mode counts as the fit's when the ratio exceeds
    min_improvement (default: none does, as for a mode training clamped at 0). horizon is
    the window T dt the students were trained on (:func:`memory_within_window`; default: not
    known, so no student's memory counts as ending within it). estimated_memory is the decay
    label of the target's memory when it is only estimated (a random RNN or transformer
    teacher's Heaviside memory; :func:`theorem_check`).
    """
    widths = sorted(losses)
    betas = np.asarray(betas, dtype=float)
    widths_arr = np.array(widths, dtype=float)
    radii = np.array([math.inf if runaway_radii is None else runaway_radii[m] for m in widths])
    curves = [analysed_curve(betas, losses[m], r) for m, r in zip(widths, radii)]
    errors = np.array([curve[0] for curve in curves])
    done = [True if converged is None else bool(converged.get(m, True)) for m in widths]
    at_first = np.array([curve[1] for curve in curves])
    gate = precondition(widths, errors, zero_loss, done, config, at_first)
    used = informative_pairs(errors, at_first, config)
    observed = _trends(betas, curves, widths_arr, used, radii)

    samples = []
    for _ in range(config.bootstrap):
        resampled = []
        for m, radius in zip(widths, radii):
            pick = rng.integers(0, len(losses[m][1]), size=len(losses[m][1]))
            picked = [losses[m][0]] + [v[pick] for v in losses[m][1:]]
            resampled.append(analysed_curve(betas, picked, radius))
        samples.append(_trends(betas, resampled, widths_arr, used, radii))
    samples = samples or [observed]

    chosen = "blowup" if gate.evidence in ("sensitivity", "blow-ups") else "crossing"
    crossing, blowup = observed.crossing, observed.blowup
    below_grid = (crossing.points > 0) & (crossing.points <= betas[1])  # 0: no improvement
    cross_low, cross_high = _pointwise_interval(
        [sample.crossing.points for sample in samples], config.confidence
    )
    crossing_interval = _bounds_interval(
        [sample.crossing_bounds for sample in samples], config.confidence
    )
    blowup_interval = _bounds_interval(
        [sample.blowup_bounds for sample in samples], config.confidence
    )
    on_grid = np.isfinite(blowup.points) & (blowup.points > 0)
    if on_grid.sum() >= 3:  # a trend that no single student decides (module docstring)
        single = leave_one_out_slopes(np.log(widths_arr[on_grid]), np.log(blowup.points[on_grid]))
        blowup_interval = (min(blowup_interval[0], single[0]), max(blowup_interval[1], single[1]))
    excess_interval = _unbounded_interval(
        [sample.excess_slope for sample in samples], config.confidence
    )
    beta0_interval = _interval(
        [getattr(sample, chosen).beta0 for sample in samples], config.confidence
    )
    margin_values = np.array([margins[m] for m in widths], dtype=float)
    margin_slope = log_slope(widths_arr, margin_values) if np.all(margin_values > 0) else -math.inf
    if gate.evidence == "none":
        verdict, reason = "undetermined", f"precondition not met: {gate.reason}"
    else:
        interval = {
            "crossings": crossing_interval,
            "sensitivity": excess_interval,
            "blow-ups": blowup_interval,
        }[gate.evidence]
        verdict, reason = decide(
            gate.evidence, interval, margin_slope, config, margin_reachable, blowup_interval
        )
        reason = f"{gate.reason}; {reason}"
    resolve = gate.resolve
    within = memory_within_window(margin_values, horizon, config.represented_ratio)
    conflict = memory_conflict(verdict, margin_reachable, target_memory, estimated_memory)
    verdict, reason, resolve = theorem_check(
        verdict,
        reason,
        resolve,
        target_memory,
        margin_reachable,
        gate.evidence,
        within,
        estimated_memory,
    )
    ratios = {} if lift_ratios is None else lift_ratios
    edge = [m for m, margin in zip(widths, margin_values) if margin <= EDGE_MARGIN]
    needed = [m for m in edge if ratios.get(m, 1.0) > config.min_improvement]
    verdict, reason, resolve = instability_check(
        verdict, reason, resolve, target_memory, [m for m in edge if m not in needed]
    )
    every_fit_on_the_edge = needed == widths and gate.evidence != "none" and margin_reachable
    if every_fit_on_the_edge and target_memory != EXPONENTIAL:  # (see instability_check)
        verdict, resolve = "unstable", ""
        reason = (
            f"{gate.reason}; every width's fit needs a mode at the edge of stability, so "
            f"E_m(beta) = inf from its runaway radius (at most {radii.max():.2g}) on at every "
            "width, below the grid's first beta: no beta_0 > 0 bounds them"
        )
    if needed and verdict != "undetermined":
        reason += (
            f"; the edge mode(s) of width(s) {', '.join(map(str, needed))} are the fit's: "
            f"raised to beta_1 = {betas[1]:g} they multiply the loss by "
            + ", ".join(f"{ratios[m]:.3g}" for m in needed)
            + f" (> {config.min_improvement:g})"
        )
    if verdict == "undetermined" and not resolve:
        resolve = (
            "more widths (a longer trend) or more perturbation draws (a narrower interval); "
            "points beyond or below the grid need a wider beta range"
        )
    return StabilityAnalysis(
        widths=widths,
        errors_at_zero=errors.tolist(),
        improving_pairs=gate.improving_pairs,
        informative_pairs=gate.informative_pairs,
        improvement=gate.improvement,
        fit_ratio=gate.fit_ratio,
        evidence=gate.evidence,
        precondition=gate.reason,
        crossings=crossing.points.tolist(),
        crossings_informative=used.tolist(),
        crossings_beyond_grid=np.isnan(crossing.points).tolist(),
        crossings_below_grid=below_grid.tolist(),
        crossings_low=cross_low,
        crossings_high=cross_high,
        crossing_slope=crossing.slope,
        crossing_slope_low=crossing_interval[0],
        crossing_slope_high=crossing_interval[1],
        blowups=blowup.points.tolist(),
        blowups_beyond_grid=np.isnan(blowup.points).tolist(),
        runaway_radii=radii.tolist(),
        blowup_slope=blowup.slope,
        blowup_slope_low=blowup_interval[0],
        blowup_slope_high=blowup_interval[1],
        excess=perturbation_excess(curves).tolist(),
        excess_slope=observed.excess_slope,
        excess_slope_low=excess_interval[0],
        excess_slope_high=excess_interval[1],
        beta0=getattr(observed, chosen).beta0 if gate.evidence != "none" else math.nan,
        beta0_beyond_grid=(gate.evidence == "crossings" and observed.crossing_bounds[0] == math.inf)
        or (gate.evidence == "sensitivity" and bool(np.all(np.isnan(blowup.points)))),
        beta0_low=beta0_interval[0],
        beta0_high=beta0_interval[1],
        margins=margin_values.tolist(),
        margin_slope=margin_slope,
        margin_reachable=margin_reachable,
        target_memory=target_memory,
        memory_conflict=conflict,
        verdict=verdict,
        reason=reason,
        resolve=resolve,
    )


def memory_conflict(
    verdict: str, margin_reachable: bool, target_memory: str | None, estimated_memory: str | None
) -> bool:
    """A stable reading under a reachable margin of a target whose memory is only estimated,
    and estimated slow (polynomial or non-decaying): the theorem rules out one of the two."""
    return (
        verdict == "stable"
        and margin_reachable
        and target_memory is None
        and estimated_memory in SLOW_MEMORY
    )


def theorem_check(
    verdict: str,
    reason: str,
    resolve: str,
    target_memory: str | None,
    margin_reachable: bool,
    evidence: str = "crossings",
    memory_within: bool = False,
    estimated_memory: str | None = None,
) -> tuple[str, str, str]:
    """(verdict, reason, resolve), with ``stable`` turned ``undetermined`` under a reachable margin
    when the theorem rules it out (the target's memory is known exactly and is not labelled
    exponential), when it conflicts with the estimate of the memory (estimated polynomial or
    non-decaying: one of the two measurements is wrong at these widths), or when it rests on the
    sensitivity, the memory is not known to be exponential and the students' memory does not end
    within the training window (``memory_within``, :func:`memory_within_window`; module
    docstring)."""
    if verdict != "stable" or not margin_reachable or target_memory == EXPONENTIAL:
        return verdict, reason, resolve
    wider = "wider students, until they resolve the memory's tail and their margin has to shrink"
    if target_memory is not None:
        return (
            "undetermined",
            f"{reason}; but the target's memory (known exactly) is {target_memory}, not "
            "exponential, which no parameterization with a reachable margin approximates "
            "stably as m grows (the theorem): stability seen at these widths is a finite-width "
            "reading",
            wider,
        )
    if memory_conflict(verdict, margin_reachable, target_memory, estimated_memory):
        return (
            "undetermined",
            f"{reason}; but the target's memory is estimated {estimated_memory}, and stable "
            "approximation implies exponential decay (the theorem): the two measurements "
            "disagree at these widths",
            f"{wider}, or a memory estimate over a longer window",
        )
    if evidence != "sensitivity":
        return verdict, reason, resolve
    if memory_within:
        return (
            verdict,
            f"{reason}; every student's slowest mode decays within the training window (the "
            "margins are not held up by the horizon)",
            resolve,
        )
    return (
        "undetermined",
        f"{reason}; but under a reachable margin a bounded excess does not separate memories at "
        "these widths (measured: students of polynomial memory keep theirs bounded too, with "
        "their slowest modes at the horizon's scale), and this target's memory is not known "
        "exactly",
        f"{wider}, or informative width pairs whose crossings carry the trend",
    )


def memory_within_window(
    margins: np.ndarray, horizon: float | None, represented_ratio: float
) -> bool:
    """Whether every student's slowest mode decays within the window of length ``horizon``
    (T dt) to below the resolution of the loss: exp(-margin horizon) <= sqrt(represented_ratio),
    an amplitude whose square is the fit the beta grid resolves (StabilityConfig), i.e.
    margin >= -ln(represented_ratio) / (2 horizon) (T dt = 100: margin >= 0.069).

    Students of a slow memory trained on a finite window cannot make their margins collapse below
    the window's scale ~1 / (T dt): at a few widths their margins then look bounded, and a
    bounded perturbation excess follows (measured: polynomial memories gave smallest margins
    0.007-0.027 at T dt = 100). A margin well inside the window is the students' own.
    """
    if horizon is None:
        return False
    return bool(np.min(margins) >= -math.log(represented_ratio) / (2.0 * horizon))


EDGE_MARGIN = 1e-6
"""A margin at most this is a mode at the edge of stability (lam <= 0: an integrator, e.g. a
mode the direct parameterization's training clamped at 0), as rounding sees it."""


def instability_check(
    verdict: str,
    reason: str,
    resolve: str,
    target_memory: str | None,
    edge_widths: Sequence[int],
) -> tuple[str, str, str]:
    """(verdict, reason, resolve), with ``unstable`` turned ``undetermined`` when it cannot be the
    target's: its memory is known exactly and decays exponentially (exponential sums approximate
    it with margins bounded away from 0), or some student has a mode at the edge of stability
    (margin <= EDGE_MARGIN) that its fit does not need (``edge_widths``; :mod:`.edge_modes`),
    which any perturbation makes run away whatever the target."""
    if verdict != "unstable":
        return verdict, reason, resolve
    if target_memory == EXPONENTIAL:
        return (
            "undetermined",
            f"{reason}; but the target's memory (known exactly) decays exponentially, which "
            "exponential sums approximate with margins bounded away from 0: the divergence is "
            "these students', not the target's",
            "students whose modes keep away from lam = 0 (another fit or training)",
        )
    if edge_widths:
        return (
            "undetermined",
            f"{reason}; but width(s) {', '.join(map(str, edge_widths))} have a mode at the edge "
            f"of stability (margin <= {EDGE_MARGIN:g}, e.g. clamped at lam = 0 in training) "
            "that the fit does not need (raised to beta_1, it changes the loss by less than "
            "min_improvement), which any perturbation makes run away whatever the target",
            "students without modes at lam = 0 (fresh starts, another parameterization)",
        )
    return verdict, reason, resolve


def decide(
    evidence: str,
    slope_interval: tuple[float, float],
    margin_slope: float,
    config: StabilityConfig,
    margin_reachable: bool = True,
    blowup_interval: tuple[float, float] = (-math.inf, math.inf),
) -> tuple[str, str]:
    """Three-way verdict from the trend's slope interval and the margin trend; for the
    sensitivity also from the blow-up points' slope interval (:func:`_decide_bounded`)."""
    low, high = slope_interval
    if math.isnan(low) or math.isnan(high):
        return "undetermined", f"the trend of the {evidence} could not be estimated"
    tol, margin_tol = config.slope_tolerance, config.margin_slope_tolerance
    margin_collapses = margin_slope < -margin_tol
    margin_waived = not (config.require_margin_agreement and margin_reachable)
    margin_note = f"margin slope {margin_slope:.2f} (collapse below {-margin_tol:g})"
    if not margin_reachable:
        margin_note += ", not reachable by perturbing w (stable parameterization)"
    if evidence == "sensitivity":
        return _decide_bounded(
            slope_interval,
            blowup_interval,
            config,
            margin_reachable,
            margin_collapses,
            margin_waived,
            margin_note,
        )
    trend_note = f"{evidence} slope interval [{low:.2f}, {high:.2f}] vs tolerance {-tol:g}"
    if low == math.inf:
        trend_note = "no informative pair of curves meets on the grid (every beta* > beta_max)"
    if high < -tol:
        if not margin_reachable:
            return "undetermined", (
                f"{evidence} move left, but no perturbation of w reaches the margin, the "
                f"mechanism of the instability: {trend_note}; {margin_note}"
            )
        if margin_collapses or margin_waived:
            return "unstable", f"{evidence} move left: {trend_note}; {margin_note}"
        return "undetermined", (
            f"{evidence} move left but the margin does not collapse: {trend_note}; {margin_note}"
        )
    if low > -tol:
        if not margin_collapses or margin_waived:
            return "stable", f"{evidence} stay put: {trend_note}; {margin_note}"
        return "undetermined", (
            f"{evidence} stay put but the margin collapses: {trend_note}; {margin_note}"
        )
    return "undetermined", f"the trend is not resolved: {trend_note}; {margin_note}"


def _decide_bounded(
    slope_interval: tuple[float, float],
    blowup_interval: tuple[float, float],
    config: StabilityConfig,
    margin_reachable: bool,
    margin_collapses: bool,
    margin_waived: bool,
    margin_note: str,
) -> tuple[str, str]:
    """Verdict from the sensitivity: ``unstable`` when the students diverge at ever smaller beta
    (the blow-up slope's interval lies below -slope_tolerance: E_m(beta) = inf from b_m on,
    so no beta_0 > 0 bounds every E_m) while a reachable margin collapses; ``stable`` when the
    perturbation excess grows slower than m^slope_tolerance (its slope interval lies below
    it), the blow-up points stay put (their interval lies above -slope_tolerance) and the
    margin agrees; else ``undetermined``."""
    low, high = slope_interval
    tol = config.slope_tolerance
    notes = (
        f"perturbation excess E_m(beta_1) - E_m(0) ~ m^s, s in [{low:.2f}, {high:.2f}] vs "
        f"tolerance {tol:g}; blow-up slope interval [{blowup_interval[0]:.2f}, "
        f"{blowup_interval[1]:.2f}] vs tolerance {-tol:g}; {margin_note}"
    )
    if blowup_interval[1] < -tol:
        if margin_reachable and (margin_collapses or margin_waived):
            return "unstable", f"the students diverge at ever smaller beta: {notes}"
        why = (
            "the margin does not collapse"
            if margin_reachable
            else "no perturbation of w reaches the margin"
        )
        return "undetermined", f"the blow-up points move toward 0 but {why}: {notes}"
    if high >= tol:
        return "undetermined", (
            f"the perturbation excess is not shown to grow slower than m^{tol:g}, and the "
            f"blow-up points are not shown to move toward 0 (a growing excess alone never reads "
            f"unstable): {notes}"
        )
    if blowup_interval[0] <= -tol:
        return "undetermined", (
            f"the perturbation excess grows slower than m^{tol:g} but the blow-up points are "
            f"not shown to stay put: {notes}"
        )
    if not margin_collapses or margin_waived:
        return "stable", f"the perturbation excess grows slower than m^{tol:g}: {notes}"
    return "undetermined", (
        f"the perturbation excess grows slower than m^{tol:g} but the margin collapses: {notes}"
    )
