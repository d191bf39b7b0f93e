"""Best approximation of a memory kernel by exponential sums (a width-m linear RNN).

A diagonal linear RNN of width m has the kernel K_s = sum_i c_i q_i^s. Fixing the decays on the
grid q_i = i / (m + 1), i = 1..m, the coefficients solve the least-squares problem

    min_c sum_{s in fit range} (rho_s - sum_i c_i q_i^s)^2,

and the approximation error is the max-abs error over t = 1..T (the IAT Figure 1 check) or
the L2 error sqrt(sum_s (rho_s - sum_i c_i q_i^s)^2), the quantity least squares minimises
(the COM approximation figure). With the decays fixed, these errors bound the best
approximation error (decays optimised too) from above.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..memory.decay import MIN_EVIDENCE, rate_trend
from ..shared.fits import fit_line


def grid_decays(width: int) -> np.ndarray:
    """q_i = i / (m + 1), i = 1..m: decays strictly inside (0, 1)."""
    return np.arange(1, width + 1) / (width + 1.0)


def exponential_sum_fit(rho: np.ndarray, decays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients c and the fitted kernel sum_i c_i q_i^s for s = 0..len(rho)-1."""
    steps = np.arange(len(rho), dtype=float)
    basis = np.power(decays[None, :], steps[:, None])
    coefficients = np.linalg.lstsq(basis, rho, rcond=None)[0]
    return coefficients, basis @ coefficients


def max_abs_error(rho: np.ndarray, approximation: np.ndarray, start: int = 1) -> float:
    """max_{s >= start} |rho_s - approximation_s|."""
    return float(np.max(np.abs(rho[start:] - approximation[start:])))


def l2_error(rho: np.ndarray, approximation: np.ndarray) -> float:
    """sqrt(sum_s (rho_s - approximation_s)^2)."""
    return float(np.sqrt(np.sum((rho - approximation) ** 2)))


def grid_distance(rho: np.ndarray, decays: np.ndarray) -> float:
    """L2 distance from rho to the span of q_i^s (s = 0..len(rho)-1): the least-squares error.

    Computed as the residual of the orthogonal projection onto the span (Householder QR), which
    stays accurate where the coefficients do not. The basis q_i^s is a Krylov matrix: on
    T = 400 steps its condition number passes 1e13 at m = 24 and 1e19 at m = 32, and the default
    cut-off of np.linalg.lstsq (eps * T) then drops directions and overstates the error of the
    exact fit (exp kernel a = 0.1: 6.1e-6 vs 3.9e-6 at m = 24, 4.7e-9 vs 1.6e-10 at m = 40, exact
    values from 60-digit arithmetic; the projection gives 3.9e-6 and 3.0e-10).
    """
    steps = np.arange(len(rho), dtype=float)
    basis = np.power(np.asarray(decays, dtype=float)[None, :], steps[:, None])
    q, _ = np.linalg.qr(basis)
    return float(np.linalg.norm(rho - q @ (q.T @ rho)))


def grid_fit_errors(rho: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Upper bounds of the best L2 error of m-term exponential sums, for increasing widths m.

    E(m) = min over the listed widths m' <= m of the L2 error of the least-squares fit on
    grid_decays(m') (:func:`grid_distance`): an m'-term sum is an m-term sum, and the grids are
    not nested.
    """
    errors = [grid_distance(rho, grid_decays(int(m))) for m in widths]
    return np.minimum.accumulate(errors)


@dataclass(frozen=True)
class WidthDecay:
    """How an approximation error falls with the width m: geometric or algebraic.

    Geometric decay, E ~ C e^{-b m}, has a constant rate -d log E / dm; algebraic decay,
    E ~ C m^{-p}, has the rate p / m. rates are least-squares rates per width on the first and
    the second half of the widths, at their effective widths; trend = d log rate / d log m
    between them (0 geometric, -1 algebraic).
    """

    label: str  # geometric | algebraic | undetermined
    rates: tuple[float, float]
    widths: tuple[float, float]
    trend: float
    evidence: float  # 2 log|1 + trend| - 2 log|trend|: > 0 geometric
    min_evidence: float
    geometric_rate: float  # b of the least-squares fit log E ~ a - b m on all kept widths
    geometric_r2: float
    algebraic_power: float  # p of the least-squares fit log E ~ a - p log m
    algebraic_r2: float
    points: int

    def to_dict(self) -> dict:
        return asdict(self)


def width_decay(
    widths: np.ndarray, errors: np.ndarray, floor: float, min_evidence: float = MIN_EVIDENCE
) -> WidthDecay:
    """Geometric or algebraic decay of ``errors`` in ``widths`` (points above floor * max).

    The trend of the rate, as in :func:`curse_of_memory.memory.classify_decay`, but with one
    rate per half of the widths: errors of fits on a fixed grid fall in steps (a width whose
    grid puts a decay near the kernel's jumps ahead, the next widths carry its error), so rates
    between neighbouring widths are 0 or large, and a least-squares rate over each half averages
    over the steps. A half's rate b is placed at the width w = var(m) / cov(m, log m), where
    -p log m has the least-squares slope -p / w, so the trend is exactly 0 for geometric and -1
    for algebraic errors. Two rates leave no scatter to measure: the margin log 4 means
    trend >= -1/3 (geometric) or <= -2/3 (algebraic), otherwise undetermined.
    """
    widths, errors = np.asarray(widths, dtype=float), np.asarray(errors, dtype=float)
    keep = errors > floor * errors.max()
    m, log_e = widths[keep], np.log(errors[keep])
    half = len(m) // 2
    rates, places = [], []
    for part in (slice(0, half), slice(half, None)):
        x, y = m[part], log_e[part]
        rates.append(-float(np.cov(x, y)[0, 1] / np.var(x, ddof=1)))
        places.append(float(np.var(x, ddof=1) / np.cov(x, np.log(x))[0, 1]))
    evidence, trend = rate_trend(np.array(places), np.array(rates))
    if evidence >= min_evidence:
        label = "geometric"
    elif evidence <= -min_evidence:
        label = "algebraic"
    else:
        label = "undetermined"  # also nan: a half whose error does not fall
    geometric, algebraic = fit_line(m, log_e), fit_line(np.log(m), log_e)
    return WidthDecay(
        label, (rates[0], rates[1]), (places[0], places[1]), trend, evidence, min_evidence,
        -geometric.slope, geometric.r2, -algebraic.slope, algebraic.r2, int(len(m)),
    )  # fmt: skip


def width_needed(widths: np.ndarray, errors: np.ndarray, tolerance: float) -> float:
    """The smallest width whose error is <= tolerance (+inf if none is)."""
    reached = np.asarray(widths)[np.asarray(errors) <= tolerance]
    return float(reached.min()) if reached.size else np.inf
