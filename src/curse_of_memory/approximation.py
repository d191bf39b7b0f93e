"""Best approximation of a memory kernel by exponential sums (a width-m linear RNN).

A diagonal linear RNN of width m has the kernel K_s = sum_i c_i q_i^s. Fixing the decays on the
grid q_i = i / (m + 1), i = 1..m, the coefficients solve the least-squares problem

    min_c sum_{s in fit range} (rho_s - sum_i c_i q_i^s)^2      (+ ridge * |c|^2),

and the approximation error is the max-abs error over t = 1..T (the IAT Figure 1 check) or
the L2 error sqrt(sum_s (rho_s - sum_i c_i q_i^s)^2), the quantity least squares minimises
(the COM approximation figure). With the decays fixed, these errors bound the best
approximation error (decays optimised too) from above.
"""

from __future__ import annotations

import numpy as np


def grid_decays(width: int) -> np.ndarray:
    """q_i = i / (m + 1), i = 1..m: decays strictly inside (0, 1)."""
    return np.arange(1, width + 1) / (width + 1.0)


def exponential_sum_fit(
    rho: np.ndarray, decays: np.ndarray, ridge: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients c and the fitted kernel sum_i c_i q_i^s for s = 0..len(rho)-1."""
    steps = np.arange(len(rho), dtype=float)
    basis = np.power(decays[None, :], steps[:, None])
    if ridge > 0:
        coefficients = np.linalg.solve(basis.T @ basis + ridge * np.eye(len(decays)), basis.T @ rho)
    else:
        coefficients = np.linalg.lstsq(basis, rho, rcond=None)[0]
    return coefficients, basis @ coefficients


def max_abs_error(rho: np.ndarray, approximation: np.ndarray, start: int = 1) -> float:
    """max_{s >= start} |rho_s - approximation_s|."""
    return float(np.max(np.abs(rho[start:] - approximation[start:])))


def l2_error(rho: np.ndarray, approximation: np.ndarray) -> float:
    """sqrt(sum_s (rho_s - approximation_s)^2)."""
    return float(np.sqrt(np.sum((rho - approximation) ** 2)))


def grid_fit_errors(rho: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Upper bounds of the best L2 error of m-term exponential sums, for increasing widths m.

    E(m) = min over the listed widths m' <= m of the L2 error of the least-squares fit on
    grid_decays(m'): an m'-term sum is an m-term sum, and the grids are not nested.
    """
    errors = [l2_error(rho, exponential_sum_fit(rho, grid_decays(int(m)))[1]) for m in widths]
    return np.minimum.accumulate(errors)


def width_needed(widths: np.ndarray, errors: np.ndarray, tolerance: float) -> float:
    """The smallest width whose error is <= tolerance (+inf if none is)."""
    reached = np.asarray(widths)[np.asarray(errors) <= tolerance]
    return float(reached.min()) if reached.size else np.inf
