"""Optimization dynamics of linear RNNs on the white-noise loss (COM figures 1-3).

With white-noise inputs the expected squared error of a linear model against a linear
functional with kernel rho is the squared L2 distance of the kernels (the *white-noise loss*).
Two models, each an objective ``theta -> (loss, gradient)`` with its exact gradient:

- :class:`ExponentialSumLoss` (continuous time, diagonal linear RNN):
  rho_hat(t) = sum_i c_i exp(-w_i t), w_i > 0, theta = (c, w), and

      L(c, w) = int_0^inf (rho(t) - rho_hat(t))^2 dt,

  where rho is taken as 0 beyond a horizon H: Gauss-Legendre quadrature on [0, H] plus the
  model's exact tail int_H^inf rho_hat^2 = sum_ij c_i c_j exp(-(w_i + w_j) H) / (w_i + w_j).
- :class:`LinearRNNLoss` (discrete time, any recurrent matrix): h_{k+1} = h_k + dt (u x_k - A h_k),
  kernel rho_hat_s = c M^s u with M = I - dt A, theta = (A, u, c), and

      L(A, u, c) = dt sum_{s=0}^{T-1} (rho(s dt) - rho_hat_s)^2.

Trainers: :func:`gradient_flow` integrates d theta/dt = -grad L with an adaptive implicit
solver (exponentially long plateaus take seconds) and reports the loss on a log-time grid;
:func:`gradient_descent` takes fixed steps theta <- theta - lr grad L and records every loss.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.integrate import solve_ivp

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def memory_target(smooth: Mapping, omega: float, width: float = 1.0, height: float = 1.0) -> dict:
    """Kernel spec of rho_omega(t) = smooth(t) + height exp(-((t - 1/omega) / width)^2).

    The smooth part is well approximated by few exponentials; the Gaussian bump puts memory
    at t = 1/omega (COM Section 5). Build it with :func:`kernels.build_kernel`.
    """
    bump = {"family": "bump", "t0": 1.0 / omega, "w": width}
    return {"family": "sum", "terms": [dict(smooth), bump], "weights": [1.0, height]}


def quadrature(
    horizon: float, panel: float = 0.25, order: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of composite Gauss-Legendre quadrature on [0, horizon].

    Panels of length <= ``panel``, ``order`` nodes each: exact for piecewise polynomials of
    degree 2 order - 1.
    """
    count = max(1, int(np.ceil(horizon / panel)))
    edges = np.linspace(0.0, horizon, count + 1)
    x, q = leggauss(order)
    half = np.diff(edges)[:, None] / 2
    nodes = (edges[:-1, None] + half) + half * x[None, :]
    return nodes.ravel(), (half * q[None, :]).ravel()


@dataclass(frozen=True)
class ExponentialSumLoss:
    """L(c, w) = int_0^inf (rho - sum_i c_i e^{-w_i t})^2 dt, rho = 0 beyond ``horizon``.

    ``rho`` holds the target at the quadrature ``nodes`` (weights ``weights``); build it with
    :meth:`from_kernel`. theta = (c_1..c_m, w_1..w_m); L = +inf if some w_i <= 0.
    """

    nodes: np.ndarray
    weights: np.ndarray
    rho: np.ndarray
    horizon: float

    @classmethod
    def from_kernel(
        cls,
        kernel: Callable[[np.ndarray], np.ndarray],
        horizon: float,
        panel: float = 0.25,
        order: int = 8,
    ) -> ExponentialSumLoss:
        nodes, weights = quadrature(horizon, panel, order)
        return cls(nodes, weights, np.asarray(kernel(nodes), dtype=float), float(horizon))

    def target_energy(self) -> float:
        """int_0^H rho^2 dt: the loss of the zero model."""
        return float(self.weights @ self.rho**2)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """L and dL/d(c, w).

        With r = rho - rho_hat, g(s) = e^{-s H} / s and s_ij = w_i + w_j:
            dL/dc_i = -2 int r e^{-w_i t} + 2 sum_j c_j g(s_ij),
            dL/dw_i =  2 c_i int t r e^{-w_i t} + 2 c_i sum_j c_j g'(s_ij).
        """
        c, w = np.split(np.asarray(theta, dtype=float), 2)
        sums = w[:, None] + w[None, :]
        if np.any(sums <= 0):
            return np.inf, np.full(theta.shape, np.nan)
        decay = np.exp(-np.outer(w, self.nodes))
        residual = self.rho - c @ decay
        weighted = self.weights * residual
        tail = np.exp(-sums * self.horizon)
        gram = tail / sums
        gram_slope = -tail * (self.horizon / sums + 1.0 / sums**2)
        loss = float(weighted @ residual + c @ gram @ c)
        grad_c = -2.0 * decay @ weighted + 2.0 * gram @ c
        grad_w = 2.0 * c * (decay @ (weighted * self.nodes)) + 2.0 * c * (gram_slope @ c)
        return loss, np.concatenate([grad_c, grad_w])


def exponential_sum_init(
    width: int, c_scale: float, w_range: tuple[float, float], rng: np.random.Generator
) -> np.ndarray:
    """theta_0 = (c, w): c_i ~ N(0, c_scale^2), w_i ~ Uniform(w_range)."""
    c = rng.normal(0.0, c_scale, width)
    w = rng.uniform(w_range[0], w_range[1], width)
    return np.concatenate([c, w])


def matrix_powers(matrix: np.ndarray, count: int) -> np.ndarray:
    """M^s for s = 0..count-1, shape (count, m, m), by repeated doubling."""
    m = matrix.shape[0]
    powers = np.empty((count, m, m))
    powers[0] = np.eye(m)
    filled, step = 1, matrix
    while filled < count:
        block = min(filled, count - filled)
        powers[filled : filled + block] = step @ powers[:block]
        step = step @ step
        filled += block
    return powers


@dataclass(frozen=True)
class LinearRNNLoss:
    """L(A, u, c) = dt sum_{s<T} (rho_s - c M^s u)^2, M = I - dt A, for rho_s = rho(s dt).

    theta = (A row-major (m^2), u (m), c (m)); L = +inf if not finite.
    """

    rho: np.ndarray
    dt: float
    width: int

    @classmethod
    def from_kernel(
        cls, kernel: Callable[[np.ndarray], np.ndarray], length: int, dt: float, width: int
    ) -> LinearRNNLoss:
        return cls(np.asarray(kernel(np.arange(length) * dt), dtype=float), float(dt), width)

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = self.width
        return theta[: m * m].reshape(m, m), theta[m * m : m * m + m], theta[m * m + m :]

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """L and its gradient. With g_s = dL/d rho_hat_s = -2 dt (rho_s - rho_hat_s),
        v_s = M^s u and z_s = (c M^s)^T:

            dL/dc = sum_s g_s v_s,   dL/du = sum_s g_s z_s,
            dL/dA = -dt dL/dM = -dt sum_{j,k} g_{j+k+1} z_j v_k^T.
        """
        A, u, c = self.unpack(np.asarray(theta, dtype=float))
        length = len(self.rho)
        powers = matrix_powers(np.eye(self.width) - self.dt * A, length)
        v = powers @ u
        z = c @ powers
        residual = self.rho - v @ c
        loss = float(self.dt * residual @ residual)
        if not np.isfinite(loss):
            return np.inf, np.full(theta.shape, np.nan)
        g = -2.0 * self.dt * residual
        lags = np.arange(length)
        shifted = np.concatenate([g[1:], np.zeros(length)])
        hankel = shifted[lags[:, None] + lags[None, :]]
        grad_M = z.T @ hankel @ v
        return loss, np.concatenate([(-self.dt * grad_M).ravel(), g @ z, g @ v])


def linear_rnn_init(
    width: int,
    eigen_range: tuple[float, float],
    coupling: float,
    scale: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """theta_0 = (A, u, c): A = diag(lam) + coupling G / sqrt(m), lam ~ Uniform(eigen_range),
    G, u / scale, c sqrt(m) / scale ~ N(0, I)."""
    lam = rng.uniform(eigen_range[0], eigen_range[1], width)
    A = np.diag(lam) + coupling * rng.normal(size=(width, width)) / np.sqrt(width)
    u = scale * rng.normal(size=width)
    c = scale * rng.normal(size=width) / np.sqrt(width)
    return np.concatenate([A.ravel(), u, c])


@dataclass(frozen=True)
class FlowConfig:
    """Gradient-flow integration: output at t = 0 and on a log grid from t_min to t_max."""

    t_max: float = 1e15
    t_min: float = 1e-2
    points_per_decade: int = 20
    method: str = "LSODA"
    rtol: float = 1e-10
    atol: float = 1e-12

    def times(self) -> np.ndarray:
        decades = np.log10(self.t_max / self.t_min)
        count = int(round(decades * self.points_per_decade)) + 1
        return np.concatenate(
            [[0.0], np.logspace(np.log10(self.t_min), np.log10(self.t_max), count)]
        )


@dataclass
class Trajectory:
    """Losses along a training run (``times``: flow times or iterations) and the parameters
    at those times (gradient descent keeps only the last)."""

    times: np.ndarray
    losses: np.ndarray
    thetas: np.ndarray
    message: str = ""


def gradient_flow(objective: Objective, theta0: np.ndarray, config: FlowConfig) -> Trajectory:
    """Solve d theta/dt = -grad L(theta), theta(0) = theta0, reporting at ``config.times()``."""
    times = config.times()
    solution = solve_ivp(
        lambda _, theta: -objective(theta)[1],
        (0.0, config.t_max),
        np.asarray(theta0, dtype=float),
        method=config.method,
        t_eval=times,
        rtol=config.rtol,
        atol=config.atol,
    )
    thetas = solution.y.T
    losses = np.array([objective(theta)[0] for theta in thetas])
    message = f"{solution.message} ({solution.nfev} gradient evaluations)"
    return Trajectory(solution.t, losses, thetas, message)


def gradient_descent(
    objective: Objective, theta0: np.ndarray, lr: float, iterations: int
) -> Trajectory:
    """theta_{k+1} = theta_k - lr grad L(theta_k); losses of theta_0..theta_N.

    A non-finite loss stops the run; the remaining losses are +inf (divergence is kept).
    """
    theta = np.asarray(theta0, dtype=float).copy()
    losses = np.full(iterations + 1, np.inf)
    message = "completed"
    for k in range(iterations + 1):
        loss, grad = objective(theta)
        if not np.isfinite(loss):
            message = f"diverged at iteration {k}"
            break
        losses[k] = loss
        if k < iterations:
            theta -= lr * grad
    return Trajectory(np.arange(iterations + 1, dtype=float), losses, theta[None, :], message)
