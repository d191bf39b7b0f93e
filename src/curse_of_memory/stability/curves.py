"""Perturbation losses as tidy tables, and the curve E_m(beta) they define (no torch needed).

    E(beta_i) = max_{j <= i} max_r loss(beta_j, r)      (beta_0 = 0: one evaluation),

so the analysis and figure stages read the per-draw losses without loading a model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def perturbation_curve(losses: list[np.ndarray]) -> np.ndarray:
    """E(beta_i) = max_{j <= i} max_r loss(beta_j, r): non-decreasing, +inf kept."""
    return np.maximum.accumulate(np.array([np.max(values) for values in losses]))


def certified_curve(betas: np.ndarray, curve: np.ndarray, radius: float) -> np.ndarray:
    """E(beta) with +inf at every beta > radius, the runaway radius: the perturbation ball then
    holds a student that runs away (:mod:`.runaway_radius`)."""
    return np.where(np.asarray(betas) > radius, np.inf, curve)


def analysed_curve(betas: np.ndarray, losses: list[np.ndarray], radius: float) -> np.ndarray:
    """The E_m(beta) the analysis and the figures read: :func:`perturbation_curve` of the draw
    losses, +inf beyond the runaway radius (:func:`certified_curve`)."""
    return certified_curve(betas, perturbation_curve(losses), radius)


def losses_table(betas: tuple[float, ...], losses: list[np.ndarray]) -> pd.DataFrame:
    """Tidy table of draw losses: beta_index, beta, draw, loss (+inf for diverged draws)."""
    rows = [
        {"beta_index": i, "beta": beta, "draw": r, "loss": loss}
        for i, (beta, values) in enumerate(zip(betas, losses))
        for r, loss in enumerate(values)
    ]
    return pd.DataFrame(rows)


def losses_from_table(frame: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
    """Inverse of :func:`losses_table`: the beta grid and the per-beta arrays of draw losses."""
    groups = frame.sort_values(["beta_index", "draw"]).groupby("beta_index", sort=True)
    betas = np.array([group["beta"].iloc[0] for _, group in groups], dtype=float)
    return betas, [group["loss"].to_numpy(dtype=float) for _, group in groups]
