"""The 2-D system of IAT Figure 11b, its fixed points and its numerically found attractors.

    dv/dt = f(v) = (I - diag(v)^2) W v,    J(v)_ij = delta_ij (-2 v_i (W v)_i) + (1 - v_i^2) W_ij.

This is du/dt = W tanh(u) written for v = tanh(u); the box [-1, 1]^2 and its edges are invariant.
Fixed points are zeros of f (Newton from a grid), labelled by the eigenvalues of J. At the origin
J(0) = W; at a corner c in {-1, 1}^2, J(c) = diag(-2 c_i (W c)_i) (:func:`corner_jacobian`).

For W = [[1, 1], [-4, -3]] (det W = 1, so v = 0 and the corners are the only fixed points):
J(0) = W has the eigenvalue -1 twice (stable); J(1, 1) = J(-1, -1) = diag(-4, 14) (saddles);
J(1, -1) = J(-1, 1) = diag(0, -2) (non-hyperbolic). The edges carry the cycle
(-1, 1) -> (1, 1) -> (1, -1) -> (-1, -1) -> (-1, 1); leaving (1, -1) along v_2 = -1, the distance
a = 1 - v_1 obeys a' = 2 a^2 (and symmetrically at (-1, 1)), so a trajectory that follows the
cycle stays near these two corners for a time ~ 1 / (2 a) that grows from visit to visit, and in
float64 it stays there: they are the attractors a simulation finds, not (1, 1) and (-1, -1).

Attractors are found the way a simulation finds them: trajectories from a uniform grid over the
open box are integrated by classical Runge-Kutta (RK4) in float64 up to a horizon and on for
another half horizon; a fixed point is an attractor when trajectories are within ``near`` of it
at both times, and its basin fraction is the share of the grid that is. The other trajectories
are "in transit".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import fsolve


@dataclass(frozen=True)
class PortraitSpec:
    """W, the grid of starts (per axis), the RK4 step and horizon, and the tolerances."""

    W: tuple[tuple[float, float], tuple[float, float]] = ((1.0, 1.0), (-4.0, -3.0))
    grid: int = 41
    step: float = 0.05
    horizon: float = 200.0
    near: float = 0.05  # a trajectory ending this close (max norm) to a fixed point ends there
    merge: float = 1e-6  # Newton roots closer than this are the same fixed point

    @property
    def matrix(self) -> np.ndarray:
        return np.asarray(self.W, dtype=float)


def vector_field(v: np.ndarray, W: np.ndarray) -> np.ndarray:
    """f(v) = (1 - v^2) * (W v) for points v (..., 2)."""
    return (1.0 - v**2) * (v @ W.T)


def jacobian(v: np.ndarray, W: np.ndarray) -> np.ndarray:
    """J(v) of f at one point v (2,)."""
    return np.diag(-2.0 * v * (W @ v)) + (1.0 - v**2)[:, None] * W


def corner_jacobian(corner: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Closed form J(c) = diag(-2 c_i (W c)_i) at a corner c in {-1, 1}^2 (1 - c_i^2 = 0)."""
    corner = np.asarray(corner, dtype=float)
    return np.diag(-2.0 * corner * (W @ corner))


def rk4(starts: np.ndarray, W: np.ndarray, step: float, horizon: float) -> np.ndarray:
    """End points of the trajectories from ``starts`` (n, 2) at ``horizon``, RK4 with ``step``."""
    v = np.array(starts, dtype=float)
    for _ in range(int(round(horizon / step))):
        k1 = vector_field(v, W)
        k2 = vector_field(v + 0.5 * step * k1, W)
        k3 = vector_field(v + 0.5 * step * k2, W)
        k4 = vector_field(v + step * k3, W)
        v = v + step / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return v


def grid_starts(count: int) -> np.ndarray:
    """count x count points spaced uniformly inside the open box (-1, 1)^2."""
    axis = np.linspace(-1.0, 1.0, count + 2)[1:-1]
    return np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)


def _merge(points: list[np.ndarray], point: np.ndarray, tol: float) -> int | None:
    for index, known in enumerate(points):
        if np.max(np.abs(known - point)) < tol:
            return index
    return None


def fixed_points(W: np.ndarray, tol: float, starts: int = 9) -> list[np.ndarray]:
    """Distinct zeros of f in the closed box, by Newton (fsolve) from a starts x starts grid."""
    found: list[np.ndarray] = []
    for start in grid_starts(starts - 2).tolist() + [[a, b] for a in (-1, 1) for b in (-1, 1)]:
        root, _, status, _ = fsolve(
            lambda v: vector_field(v, W), start, fprime=lambda v: jacobian(v, W), full_output=True
        )
        inside = np.all(np.abs(root) <= 1.0 + tol)
        if status == 1 and inside and _merge(found, root, tol) is None:
            found.append(np.clip(root, -1.0, 1.0))
    return sorted(found, key=lambda p: tuple(np.round(p, 6)))


def linear_stability(eigenvalues: np.ndarray, tol: float = 1e-9) -> str:
    """stable (all Re < 0), unstable (all > 0), saddle (signs differ), non-hyperbolic (a Re = 0)."""
    real = np.real(eigenvalues)
    if np.any(np.abs(real) <= tol):
        return "non-hyperbolic"
    if np.all(real < 0):
        return "stable"
    return "unstable" if np.all(real > 0) else "saddle"


@dataclass(frozen=True)
class Portrait:
    """Fixed points with eigenvalues, labels and the fraction of grid trajectories ending there."""

    points: np.ndarray  # (p, 2)
    eigenvalues: np.ndarray  # (p, 2) complex
    labels: list[str]
    basin_fraction: np.ndarray  # (p,)
    transit_fraction: float

    @property
    def attractors(self) -> np.ndarray:
        return self.points[self.basin_fraction > 0]


def analyse(spec: PortraitSpec) -> Portrait:
    """Fixed points of f and the fate of trajectories from a uniform grid of starts."""
    W = spec.matrix
    points = np.array(fixed_points(W, spec.merge))
    ends = rk4(grid_starts(spec.grid), W, spec.step, spec.horizon)
    later = rk4(ends, W, spec.step, spec.horizon / 2)

    def nearest(v: np.ndarray) -> np.ndarray:
        distance = np.max(np.abs(v[:, None, :] - points[None]), axis=2)
        return np.where(distance.min(axis=1) < spec.near, distance.argmin(axis=1), -1)

    fate = nearest(ends)
    fate = np.where(fate == nearest(later), fate, -1)  # passing by a fixed point is transit
    counts = np.array([np.sum(fate == index) for index in range(len(points))])
    eigenvalues = np.array([np.linalg.eigvals(jacobian(p, W)) for p in points])
    return Portrait(
        points,
        eigenvalues,
        [linear_stability(e) for e in eigenvalues],
        counts / len(ends),
        float(np.mean(fate < 0)),
    )
